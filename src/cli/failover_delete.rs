//! `kubectl smh failover delete`.
//!
//! Writes ignore their failure ([`crate::cli::output`]): a closed pipe must not stop a command
//! that is changing clusters.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::io::IsTerminal;

use anyhow::anyhow;

use super::apply::{
    ApplyOutput, DryRun, check_clusters, involved_targets, predict, print_output, stale_warnings,
};
use super::output::{err, errln};
use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use smh_cluster::apply::{self, Action, Mode};
use smh_cluster::state::{LiveState, StateOptions, load_state};
use smh_cluster::{Contexts, targets_banner};
use smh_core::consts::{CREATED_FOR_ANNOTATION, SMH_NAMESPACE};
use smh_core::inspect::state::{manifest_id, manifest_meta};
use smh_core::model::diag::{ObjectId, Severity};
use smh_core::model::select::TargetIndex;
use smh_core::model::types::{FailoverService, TrafficPolicy};
use smh_core::model::{Manifest, SmhObject};

pub(crate) const LONG_ABOUT: &str = "Delete a FailoverService and everything generated for it, in every \
cluster.

The FailoverService is left out of the SMH objects in the management cluster, what the rest \
generate is computed again, and every generated object no longer wanted is deleted: only objects \
labelled app.kubernetes.io/managed-by=kubectl-smh and owner.networking.smh.solo.io=service-mesh-hub, \
never by name. Objects the rest still generate, but differently (for example a VirtualService whose \
traffic shift pointed at it), are updated, and the status of every remaining object is rewritten \
(a TrafficPolicy that shifts traffic to the deleted FailoverService becomes INVALID: delete it too, \
or change it). The FailoverService itself is deleted last, once every cluster is done, so that a \
failed run can simply be run again.

With --with-policies, the TrafficPolicies `kubectl smh failover create` made for it (annotated \
failover.kubectl-smh.io/created-for) are deleted too, unless another FailoverService still needs \
them: one the annotation also names, one whose backing services their outlier detection covers, or \
one they shift traffic to.

The contexts and API servers are printed, then the plan, and you are asked to confirm (--yes to \
skip; without a terminal, --yes is required).";

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kubectl smh failover delete reviews-failover --dry-run
  kubectl smh failover delete reviews-failover --with-policies --yes")]
pub(crate) struct Args {
    /// The FailoverService, in the namespace -n (default service-mesh-hub).
    pub name: String,

    /// Also delete the TrafficPolicies `failover create` made for it, unless another
    /// FailoverService still needs them.
    #[arg(long)]
    pub with_policies: bool,

    /// Print what would be deleted and changed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// A policy that `--with-policies` keeps, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    pub policy: ObjectId,
    pub reason: String,
}

/// The FailoverServices a policy was created for (the annotation's `namespace/name` list; a
/// bare name is in `service-mesh-hub`).
pub(crate) fn created_for(m: &Manifest) -> Vec<ObjectId> {
    manifest_meta(m)
        .annotations
        .as_ref()
        .and_then(|a| a.get(CREATED_FOR_ANNOTATION))
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let (ns, name) = s.split_once('/').unwrap_or((SMH_NAMESPACE, s));
                    ObjectId {
                        kind: FailoverService::KIND.to_string(),
                        namespace: ns.to_string(),
                        name: name.to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The TrafficPolicies to delete with `fs`, and those kept because another FailoverService
/// (of `remaining`) needs them.
pub(crate) fn policies_for(state: &LiveState, fs: &ObjectId) -> (Vec<ObjectId>, Vec<Kept>) {
    let remaining: Vec<&FailoverService> = state
        .merged
        .iter()
        .filter(|m| &manifest_id(m) != fs)
        .filter_map(|m| match &m.object {
            SmhObject::FailoverService(f) => Some(f),
            _ => None,
        })
        .collect();
    let remaining_ids: BTreeSet<ObjectId> = state
        .merged
        .iter()
        .map(manifest_id)
        .filter(|id| id.kind == FailoverService::KIND && id != fs)
        .collect();
    let index = TargetIndex::new(&state.topology);
    let mut delete = Vec::new();
    let mut kept = Vec::new();
    for m in &state.merged {
        let SmhObject::TrafficPolicy(tp) = &m.object else {
            continue;
        };
        let for_ = created_for(m);
        if !for_.contains(fs) {
            continue;
        }
        let id = manifest_id(m);
        if let Some(other) = for_.iter().find(|o| *o != fs && remaining_ids.contains(*o)) {
            kept.push(Kept {
                policy: id,
                reason: format!("it was created for {other} too"),
            });
            continue;
        }
        if let Some(reason) = needed_by(tp, &remaining, &index) {
            kept.push(Kept { policy: id, reason });
            continue;
        }
        delete.push(id);
    }
    (delete, kept)
}

/// Why another FailoverService needs the policy, if it does.
fn needed_by(
    tp: &TrafficPolicy,
    remaining: &[&FailoverService],
    index: &TargetIndex,
) -> Option<String> {
    let selected: BTreeSet<usize> = index.policy_targets(tp).into_iter().collect();
    for f in remaining {
        let fid = format!(
            "FailoverService {}/{}",
            f.metadata.namespace.as_deref().unwrap_or(SMH_NAMESPACE),
            f.metadata.name.as_deref().unwrap_or_default()
        );
        if tp.spec.outlier_detection.is_some() {
            for b in f
                .spec
                .backing_services
                .iter()
                .filter_map(|b| b.kube_service.as_ref())
            {
                if index
                    .find(&b.name, &b.namespace, &b.cluster_name)
                    .is_some_and(|t| selected.contains(&t))
                {
                    return Some(format!(
                        "its outlier detection covers {}.{}@{}, a backing service of {fid}",
                        b.name, b.namespace, b.cluster_name
                    ));
                }
            }
        }
        let name = f.metadata.name.as_deref().unwrap_or_default();
        let ns = f.metadata.namespace.as_deref().unwrap_or(SMH_NAMESPACE);
        let shifts_there = tp
            .spec
            .traffic_shift
            .iter()
            .flat_map(|s| &s.destinations)
            .any(|d| {
                d.failover_service
                    .as_ref()
                    .is_some_and(|x| x.name == name && x.namespace == ns)
            });
        if shifts_there {
            return Some(format!("it shifts traffic to {fid}"));
        }
    }
    None
}

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let machine = match g.output {
        Some(f @ (OutputFormat::Yaml | OutputFormat::Json)) => Some(f),
        _ => None,
    };
    let fs = ObjectId {
        kind: FailoverService::KIND.to_string(),
        namespace: g.namespace.clone(),
        name: args.name.clone(),
    };
    let contexts = Contexts::load(&g.context_options())?;
    let rt = super::cluster::runtime()?;
    rt.block_on(async {
        let opts = StateOptions {
            discovery: g.discovery_options(),
            ..Default::default()
        };
        let mut state = load_state(&contexts, &opts).await?;
        if state.smh_object(&fs).is_none() {
            return Err(not_found(&state, &fs));
        }
        let remove = objects_to_remove(&state, &fs, args.with_policies);
        let errors_before: BTreeSet<(ObjectId, String)> = error_set(&state);
        state.remove_objects(&remove);
        // What remains must be known (a cluster only the deleted objects named may be gone).
        check_clusters(&state)?;
        let mut warnings = stale_warnings(&state);
        // Say what breaks because of the deletion, beyond what was broken before.
        for (id, msg) in error_set(&state).difference(&errors_before) {
            warnings.push(format!("{id} will be INVALID: {msg}"));
        }
        warnings.sort();
        warnings.dedup();

        let plan = apply::plan(&state, true);
        let heading = if args.dry_run {
            "Dry run: these contexts and API servers would be changed:"
        } else {
            "These contexts and API servers will be changed:"
        };
        err!(
            "{}",
            targets_banner(&involved_targets(&state, &plan), heading)
        );
        for w in &warnings {
            errln!("warning: {w}");
        }
        if args.dry_run {
            let mut report = predict(&state, &[], &plan);
            report.deleted = remove.iter().map(|id| (id.clone(), None)).collect();
            let out = ApplyOutput::new(&state, &plan, &report, DryRun::Client, Vec::new());
            print_output(&out, machine, g.verbose > 0)?;
            return Ok(Exit::Ok);
        }
        print_deletion(&state, &remove, &plan);
        if !g.yes {
            confirm(&format!(
                "Delete {} and the generated objects above?",
                remove
                    .iter()
                    .map(|id| id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?;
        }
        let report = apply::commit(&state, &[], &plan, &remove, Mode::Apply).await;
        let out = ApplyOutput::new(&state, &plan, &report, DryRun::None, Vec::new());
        print_output(&out, machine, g.verbose > 0)?;
        if report.failed() {
            Err(CmdError::cluster(anyhow!(
                "{}",
                report.aborted.clone().unwrap_or_else(|| {
                    "not everything could be deleted (see above); run the command again".to_string()
                })
            )))
        } else {
            Ok(Exit::Ok)
        }
    })
}

/// The FailoverService is not there: name those that are (exit 2).
fn not_found(state: &LiveState, fs: &ObjectId) -> CmdError {
    let there: Vec<String> = state
        .smh_objects
        .iter()
        .map(manifest_id)
        .filter(|id| id.kind == FailoverService::KIND)
        .map(|id| format!("{}/{}", id.namespace, id.name))
        .collect();
    CmdError::invalid(anyhow!(
        "FailoverService {}/{} not found in {}; the FailoverServices are: {}",
        fs.namespace,
        fs.name,
        state.mgmt.display_name(),
        if there.is_empty() {
            "(none)".to_string()
        } else {
            there.join(", ")
        }
    ))
}

/// The FailoverService, and with `--with-policies` the TrafficPolicies created for it (those
/// kept, and why, said on stderr).
fn objects_to_remove(state: &LiveState, fs: &ObjectId, with_policies: bool) -> Vec<ObjectId> {
    let mut remove = vec![fs.clone()];
    if with_policies {
        let (delete, kept) = policies_for(state, fs);
        for k in &kept {
            errln!("keeping {}: {}", k.policy, k.reason);
        }
        if delete.is_empty() && kept.is_empty() {
            errln!(
                "no TrafficPolicy was created for {fs} (policies `kubectl smh failover \
                 create` makes carry the annotation {CREATED_FOR_ANNOTATION})"
            );
        }
        remove.extend(delete);
    }
    remove
}

/// What the deletion changes: the SMH objects deleted, then per cluster the generated
/// objects deleted, created or updated.
fn print_deletion(state: &LiveState, remove: &[ObjectId], plan: &apply::Plan) {
    errln!("To delete from {}:", state.mgmt.display_name());
    for id in remove {
        errln!("  {id}");
    }
    for (cluster, steps) in &plan.steps {
        let changes: Vec<_> = steps
            .iter()
            .filter(|s| s.action != Action::Unchanged)
            .collect();
        if changes.is_empty() {
            continue;
        }
        errln!("In {cluster}:");
        for s in changes {
            let what = match s.action {
                Action::Prune => "delete",
                Action::Create => "create",
                Action::Configure => "update",
                Action::Unchanged => "keep",
            };
            errln!("  {what} {} {}/{}", s.kind, s.namespace, s.name);
        }
    }
}

/// `(object, message)` of every error diagnostic.
fn error_set(state: &LiveState) -> BTreeSet<(ObjectId, String)> {
    state
        .diagnostics
        .iter()
        .chain(&state.expected.diagnostics)
        .filter(|d| d.severity == Severity::Error)
        .filter_map(|d| d.object.clone().map(|o| (o, d.message.clone())))
        .collect()
}

/// Asks on the terminal; without one, refuses and names `--yes`.
pub(crate) fn confirm(question: &str) -> Result<(), CmdError> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(CmdError::invalid(anyhow!(
            "refusing to delete without a confirmation, and there is no terminal to ask on: \
             pass --yes (-y) to delete; nothing was changed"
        )));
    }
    let yes = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact_on(&dialoguer::console::Term::stderr())
        .map_err(|e| CmdError::failed(anyhow!("cannot read the answer: {e}")))?;
    if yes {
        Ok(())
    } else {
        Err(CmdError::failed(anyhow!(
            "not confirmed; nothing was changed"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_for_reads_namespaced_and_bare_names() {
        let loaded = smh_core::model::parse::parse_str(
            "p.yaml",
            r#"
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata:
  name: p
  namespace: bookinfo
  annotations:
    failover.kubectl-smh.io/created-for: "service-mesh-hub/a, b ,other/c"
spec: {}
"#,
        );
        let names: Vec<String> = created_for(&loaded.manifests[0])
            .iter()
            .map(|id| format!("{}/{}", id.namespace, id.name))
            .collect();
        assert_eq!(
            names,
            ["service-mesh-hub/a", "service-mesh-hub/b", "other/c"]
        );
    }
}
