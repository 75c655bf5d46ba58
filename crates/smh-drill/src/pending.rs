//! `drill restore`: find the restore plans a drill left on deployments and put them back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::ListParams;
use serde::Serialize;

use crate::inputs::{Clients, ExecError, op};
use crate::patches::{patch_deployment, patch_error};
use crate::rollouts::wait_rollout;
use smh_cluster::discovery::list_in_scope;
use smh_core::drill::DeploymentRef;
use smh_core::drill::live::RolloutState;
use smh_core::drill::restore::{self, PendingRestores, RestorePlan};
use smh_core::model::types::ObjectRef;

/// The deployments that still carry a drill's restore plan; where listing deployments in all
/// namespaces is forbidden, lists in the cluster's `namespaces` instead.
pub async fn find_pending_in(
    clients: &Clients,
    clusters: &[String],
    namespaces: &BTreeMap<String, BTreeSet<String>>,
    failover_service: &ObjectRef,
    drill_id: Option<&str>,
) -> Result<PendingRestores, ExecError> {
    let none = BTreeSet::new();
    let lists = join_all(clusters.iter().map(|cluster| {
        let namespaces = namespaces.get(cluster).unwrap_or(&none);
        async move {
            let c = clients.get(cluster)?;
            let listed = list_in_scope(
                c,
                namespaces,
                &ListParams::default(),
                |ns| match ns {
                    Some(ns) => Api::<Deployment>::namespaced(c.client.clone(), ns),
                    None => Api::all(c.client.clone()),
                },
                |ns| op::<Deployment>("list", ns, None),
            )
            .await?;
            Ok::<_, ExecError>((cluster.clone(), listed.items))
        }
    }))
    .await;
    let mut deployments = BTreeMap::new();
    for r in lists {
        let (cluster, items) = r?;
        deployments.insert(cluster, items);
    }
    Ok(restore::pending_restores(
        &deployments,
        failover_service,
        drill_id,
    ))
}

/// What `drill restore` did for one deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreOutcome {
    /// The deployment the plan was saved on.
    pub deployment: DeploymentRef,
    /// The drill that saved it.
    pub drill_id: String,
    /// `None`: restored and checked field by field; else why not.
    pub error: Option<String>,
    /// `None`: the rollout completed; else what it still waited for at the timeout.
    pub rollout: Option<String>,
}

/// The restore patch of `p`, conditional on the resourceVersion just read, so that the
/// retry layer may send it again when an answer is lost. A 409 (it changed, or a lost
/// attempt went through) reads again: a deployment without the plan's annotation any more
/// was restored by that attempt.
async fn restore_one(
    c: &smh_cluster::ClusterClient,
    p: &RestorePlan,
) -> Result<Deployment, String> {
    let d = &p.deployment;
    let api: Api<Deployment> = Api::namespaced(c.client.clone(), &d.namespace);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let live = api
            .get_opt(&d.name)
            .await
            .map_err(|e| {
                c.error(
                    &op::<Deployment>("get", Some(&d.namespace), Some(&d.name)),
                    e,
                )
                .to_string()
            })?
            .ok_or_else(|| format!("deployment {d} is gone"))?;
        let ours = restore::pending_restore(&live)
            .ok()
            .flatten()
            .is_some_and(|x| x.drill_id == p.drill_id);
        if attempt > 1 && !ours {
            return Ok(live);
        }
        let mut patch = restore::restore_patch(p);
        if let Some(rv) = &live.metadata.resource_version {
            patch["metadata"]["resourceVersion"] = serde_json::json!(rv);
        }
        match patch_deployment(c, d, &patch, true).await {
            Ok(dep) => return Ok(dep),
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < 3 => continue,
            Err(e) => return Err(patch_error(c, d, e)),
        }
    }
}

/// Apply each plan's restore patch, check the answer field by field, then wait (up to
/// `rollout_timeout`) for the rollouts.
pub async fn restore_plans(
    clients: &Clients,
    plans: &[RestorePlan],
    rollout_timeout: Duration,
) -> Vec<RestoreOutcome> {
    join_all(plans.iter().map(|p| async move {
        let d = &p.deployment;
        let mut out = RestoreOutcome {
            deployment: d.clone(),
            drill_id: p.drill_id.clone(),
            error: None,
            rollout: None,
        };
        let c = match clients.get(&d.cluster) {
            Ok(c) => c,
            Err(e) => {
                out.error = Some(e.to_string());
                return out;
            }
        };
        let dep = match restore_one(c, p).await {
            Ok(dep) => dep,
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        };
        if let Err(diffs) = restore::verify_restored(p, &dep) {
            out.error = Some(format!(
                "not as saved after the patch: {}",
                diffs.join("; ")
            ));
            return out;
        }
        let generation = dep.metadata.generation;
        let sc = clients.streaming(&d.cluster).unwrap_or(c);
        let mut last = String::new();
        let waited = tokio::time::timeout(
            rollout_timeout,
            wait_rollout(sc, d, generation, |s, _| {
                if let RolloutState::Waiting(w) = s {
                    last = w.clone();
                }
            }),
        )
        .await;
        out.rollout = match waited {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!(
                "rollout not complete after {}: {last}",
                smh_core::drill::human(rollout_timeout)
            )),
        };
        out
    }))
    .await
}
