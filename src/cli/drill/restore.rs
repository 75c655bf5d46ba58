//! `kubectl smh drill restore NAME`: put back what an interrupted drill saved on the
//! deployments it broke.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::anyhow;

use super::{RestoreArgs, drill_clients, exec_error, print_out, render_value};
use crate::cli::output::err;
use crate::cli::{CmdError, CmdResult, Exit, OutputFormat};
use crate::render;
use smh_cluster::{Contexts, targets_banner};
use smh_core::drill::restore::{BreakMode, PendingRestores};
use smh_core::model::types::{FailoverService, ObjectRef};
use smh_drill::{Clients, RestoreOutcome};

/// How long `drill restore` waits for each rollout.
pub(crate) const RESTORE_ROLLOUT_TIMEOUT: Duration = Duration::from_secs(120);

/// What the restore put back, in words.
pub(super) fn restored_what(mode: BreakMode) -> &'static str {
    match mode {
        BreakMode::Command => "command and args",
        BreakMode::Scale => "replicas",
    }
}

/// `kubectl smh drill restore NAME`.
pub(crate) async fn restore_async(
    contexts: &Contexts,
    namespace: &str,
    output: Option<OutputFormat>,
    r: &RestoreArgs,
) -> CmdResult {
    let mgmt = contexts.client(&contexts.mgmt_target(&[])?).await?;
    let fs = smh_drill::get_failover_service(&mgmt, namespace, &r.name)
        .await
        .map_err(exec_error)?;
    let clusters = backing_clusters(&fs);
    let clients = drill_clients(contexts, &clusters).await?;
    let fs_ref = ObjectRef {
        name: r.name.clone(),
        namespace: namespace.to_string(),
    };
    let label = format!("{namespace}/{}", r.name);
    let pending = smh_drill::find_pending_in(
        &clients,
        &clusters,
        &backing_namespaces(&fs),
        &fs_ref,
        r.id.as_deref(),
    )
    .await
    .map_err(exec_error)?;
    let json = matches!(output, Some(OutputFormat::Json | OutputFormat::Yaml));
    let format = output.unwrap_or(OutputFormat::Json);
    if pending.plans.is_empty() && pending.unreadable.is_empty() {
        print_nothing_to_restore(json, format, r, &clusters, &label)?;
        return Ok(Exit::Ok);
    }
    if r.dry_run {
        let text = if json {
            render_value(
                &serde_json::json!({"wouldRestore": pending.plans, "unreadable": unreadable_json(&pending)}),
                format,
            )?
        } else {
            render::drill::restore(&pending, &label, true)
        };
        print_out(&text)?;
        return Ok(Exit::Ok);
    }
    let outcomes = apply_restores(&clients, &pending).await;
    if json {
        let v = serde_json::json!({
            "restored": outcomes,
            "unreadable": unreadable_json(&pending),
        });
        print_out(&render_value(&v, format)?)?;
    } else {
        print_out(&restore_text(&pending, &outcomes, &label))?;
    }
    restore_exit(r, &pending, &outcomes)
}

/// The clusters of `fs`'s backing services, sorted, once each.
fn backing_clusters(fs: &FailoverService) -> Vec<String> {
    let mut clusters: Vec<String> = fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
        .map(|s| s.cluster_name.clone())
        .collect();
    clusters.sort();
    clusters.dedup();
    clusters
}

/// The backing services' namespaces by cluster: where to look for restore plans, for a user
/// who may not list deployments in all namespaces.
fn backing_namespaces(fs: &FailoverService) -> BTreeMap<String, BTreeSet<String>> {
    let mut namespaces: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
    {
        namespaces
            .entry(s.cluster_name.clone())
            .or_default()
            .insert(s.namespace.clone());
    }
    namespaces
}

/// The unreadable restore annotations, as JSON objects `{deployment, error}`.
fn unreadable_json(pending: &PendingRestores) -> Vec<serde_json::Value> {
    pending
        .unreadable
        .iter()
        .map(|(d, why)| serde_json::json!({"deployment": d, "error": why}))
        .collect()
}

fn print_nothing_to_restore(
    json: bool,
    format: OutputFormat,
    r: &RestoreArgs,
    clusters: &[String],
    label: &str,
) -> Result<(), CmdError> {
    if json {
        return print_out(&render_value(
            &serde_json::json!({"restored": [], "unreadable": []}),
            format,
        )?);
    }
    let what = match &r.id {
        Some(id) => format!(" from drill {id}"),
        None => String::new(),
    };
    print_out(&format!(
        "nothing to restore: no deployment in cluster{} {} carries a restore plan of FailoverService {label}{what}\n",
        if clusters.len() == 1 { "" } else { "s" },
        clusters.join(", ")
    ))
}

/// Print the banner of the clusters the restore changes, then restore every plan.
async fn apply_restores(clients: &Clients, pending: &PendingRestores) -> Vec<RestoreOutcome> {
    let mut touched: Vec<String> = pending
        .plans
        .iter()
        .map(|p| p.deployment.cluster.clone())
        .collect();
    touched.sort();
    touched.dedup();
    err!(
        "{}",
        targets_banner(
            &clients.targets(&touched),
            "These contexts and API servers will be changed (restoring what a drill saved):"
        )
    );
    smh_drill::restore_plans(clients, &pending.plans, RESTORE_ROLLOUT_TIMEOUT).await
}

/// The restored plans (rendered), then one line per outcome.
fn restore_text(pending: &PendingRestores, outcomes: &[RestoreOutcome], label: &str) -> String {
    let ok = PendingRestores {
        plans: pending
            .plans
            .iter()
            .filter(|p| {
                outcomes
                    .iter()
                    .any(|o| o.deployment == p.deployment && o.error.is_none())
            })
            .cloned()
            .collect(),
        unreadable: pending.unreadable.clone(),
    };
    let mut text = if ok.plans.is_empty() && ok.unreadable.is_empty() {
        String::new()
    } else {
        render::drill::restore(&ok, label, false)
    };
    for o in outcomes {
        match (&o.error, &o.rollout) {
            (Some(e), _) => text.push_str(&format!("could not restore {}: {e}\n", o.deployment)),
            (None, None) => {
                let mode = pending
                    .plans
                    .iter()
                    .find(|p| p.deployment == o.deployment)
                    .map_or(BreakMode::Command, |p| p.mode());
                text.push_str(&format!(
                    "{}: rolled out; {} as saved\n",
                    o.deployment,
                    restored_what(mode)
                ))
            }
            (None, Some(w)) => text.push_str(&format!("{}: restored, but {w}\n", o.deployment)),
        }
    }
    text
}

/// Exit 3 when a deployment could not be restored, 1 when an annotation cannot be read.
fn restore_exit(
    r: &RestoreArgs,
    pending: &PendingRestores,
    outcomes: &[RestoreOutcome],
) -> CmdResult {
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    if failed > 0 {
        return Err(CmdError::cluster(anyhow!(
            "{} of {} deployments could not be restored; run `kubectl smh drill restore {}` again",
            failed,
            outcomes.len(),
            r.name
        )));
    }
    if !pending.unreadable.is_empty() {
        return Err(CmdError::failed(anyhow!(
            "{} deployment(s) carry a restore annotation that cannot be read; see above",
            pending.unreadable.len()
        )));
    }
    Ok(Exit::Ok)
}
