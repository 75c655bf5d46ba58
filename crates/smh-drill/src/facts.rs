//! The preflight's view of the live state: which generated objects the drill depends on and
//! in what state they are, and the Istio cluster-ID problems that concern the drill.

use std::sync::Arc;

use futures::future::BoxFuture;
use kube::ResourceExt;
use serde_json::Value;

use smh_cluster::state;
use smh_core::drill::preflight::{ClusterIdProblem, DeployedObject, GeneratedState};
use smh_core::inspect::drift::{self, DriftState};
use smh_core::model::types::FailoverService;

/// The preflight's view of the live state, supplied by the caller (the CLI loads it: what
/// translation produces against what the clusters hold, and what discovery found).
pub type GeneratedCheck =
    Arc<dyn Fn() -> BoxFuture<'static, Result<LiveFacts, String>> + Send + Sync>;

/// What a [`GeneratedCheck`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveFacts {
    /// The generated objects the drill depends on ([`generated_states`]).
    pub generated: Vec<DeployedObject>,
    /// Istio cluster-ID problems that concern the FailoverService ([`cluster_id_problems`]).
    pub cluster_ids: Vec<ClusterIdProblem>,
}

/// The Istio cluster-ID problems (multi-primary meshes) that concern a drill of `fs` probed
/// from `probe_cluster`, as `check` and `describe` report them: those of the remote
/// secrets of the clusters that call the FailoverService (its meshes' and the probe's) for
/// a backing service's cluster, and those of a backing service's cluster ID itself.
pub fn cluster_id_problems(
    live: &state::LiveState,
    fs: &FailoverService,
    probe_cluster: &str,
) -> Vec<ClusterIdProblem> {
    let snap = smh_cluster::inspect::snapshot_from_state(
        live,
        smh_cluster::inspect::Extras::default(),
        &fs.namespace().unwrap_or_default(),
    );
    cluster_id_problems_in(&snap, fs, probe_cluster)
}

/// [`cluster_id_problems`] on a snapshot. Pure.
pub fn cluster_id_problems_in(
    snap: &smh_core::inspect::snapshot::Snapshot,
    fs: &FailoverService,
    probe_cluster: &str,
) -> Vec<ClusterIdProblem> {
    let findings = smh_core::inspect::cluster_id::findings(snap);
    if findings.is_empty() {
        return Vec::new();
    }
    let mut clients: Vec<&str> = fs
        .spec
        .meshes
        .iter()
        .flatten()
        .filter_map(|m| snap.mesh_cluster(&m.name))
        .collect();
    clients.push(probe_cluster);
    clients.sort_unstable();
    clients.dedup();
    let services: Vec<smh_core::inspect::snapshot::ServiceRef> = fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
        .map(smh_core::inspect::snapshot::ServiceRef::of)
        .collect();
    smh_core::inspect::describe::cluster_id_problems(snap, &findings, &clients, &services)
        .into_iter()
        .map(|p| ClusterIdProblem {
            error: p.severity == smh_core::model::diag::Severity::Error,
            message: p.message,
        })
        .collect()
}

/// The generated objects a drill of `fs` depends on, each compared with its live
/// counterpart ([`compare`](smh_core::inspect::state::compare)): those the FailoverService produced, and those of the
/// TrafficPolicies that route to it (a VirtualService naming its hostname) or set its
/// backing services' outlier detection (a DestinationRule for one of their hosts). An
/// unrelated object that drifted does not stop this drill. Cluster errors of the state
/// (a cluster that did not answer) are errors.
pub fn generated_states(
    live: &state::LiveState,
    fs: &FailoverService,
) -> Result<Vec<DeployedObject>, String> {
    if let Some((cluster, e)) = live.errors.iter().next() {
        return Err(format!("reading cluster {cluster}: {e}"));
    }
    let fs_id = smh_core::model::ObjectId {
        kind: "FailoverService".into(),
        namespace: fs.namespace().unwrap_or_default(),
        name: fs.name_any(),
    };
    let hostname = fs.spec.hostname.to_ascii_lowercase();
    let mut hosts: Vec<String> = vec![hostname.clone()];
    for s in fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
    {
        hosts.push(format!("{}.{}.svc.cluster.local", s.name, s.namespace));
        hosts.push(format!(
            "{}.{}.svc.{}.global",
            s.name, s.namespace, s.cluster_name
        ));
    }
    let about_fs = |g: &smh_core::translate::GeneratedObject| {
        let v = g.to_value();
        match g.kind() {
            "DestinationRule" => v
                .pointer("/spec/host")
                .and_then(Value::as_str)
                .is_some_and(|h| hosts.iter().any(|x| x == &h.to_ascii_lowercase())),
            "VirtualService" => v.to_string().contains(&format!("\"{hostname}\"")),
            _ => false,
        }
    };
    let related: std::collections::BTreeSet<&smh_core::model::ObjectId> = live
        .expected
        .objects
        .iter()
        .filter(|g| about_fs(g))
        .flat_map(|g| g.owners.iter())
        .chain(std::iter::once(&fs_id))
        .collect();
    // Validation's diagnostics, then translation's (as `describe` and `check` see them).
    let diagnostics: Vec<smh_core::model::Diagnostic> = live
        .diagnostics
        .iter()
        .chain(&live.expected.diagnostics)
        .cloned()
        .collect();
    let mut out: Vec<DeployedObject> = live
        .expected
        .objects
        .iter()
        .filter(|g| g.owners.iter().any(|o| related.contains(o)))
        .map(|g| DeployedObject {
            cluster: g.cluster.clone(),
            object: format!("{} {}/{}", g.kind(), g.namespace(), g.name()),
            state: generated_state(g, live.live_for(g), &diagnostics),
        })
        .collect();
    out.sort_by(|a, b| (&a.cluster, &a.object).cmp(&(&b.cluster, &b.object)));
    Ok(out)
}

/// One generated object judged against its live counterpart by [`drift::compare`]: changed
/// by someone else (drifted) or, when it is as kubectl-smh applied it, out of date, with
/// the configuration's errors (from `diagnostics`) when it no longer validates.
pub(crate) fn generated_state(
    g: &smh_core::translate::GeneratedObject,
    live: Option<&kube::api::DynamicObject>,
    diagnostics: &[smh_core::model::Diagnostic],
) -> GeneratedState {
    let Some(live) = live.and_then(|l| serde_json::to_value(l).ok()) else {
        return GeneratedState::Missing;
    };
    match drift::compare(&g.to_value(), &live) {
        DriftState::InSync => GeneratedState::InSync,
        DriftState::Missing => GeneratedState::Missing,
        DriftState::Modified { fields, by } if by.is_empty() => {
            GeneratedState::Drifted(format!("differs in {}", fields.join(", ")))
        }
        DriftState::Modified { fields, by } => GeneratedState::Drifted(format!(
            "changed by {}: {}",
            by.join(", "),
            fields.join(", ")
        )),
        DriftState::OutOfDate { fields, .. } => {
            let errors: Vec<smh_core::model::Diagnostic> = diagnostics
                .iter()
                .filter(|d| d.severity == smh_core::model::diag::Severity::Error)
                .cloned()
                .collect();
            GeneratedState::OutOfDate {
                fields,
                invalid: drift::error_lines(&errors, &g.owners),
            }
        }
        other => GeneratedState::Drifted(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cluster-ID findings that concern a drill of the guide's FailoverService from
    /// productpage in mgmt-cluster, with `check`'s text and fix.
    #[test]
    fn cluster_id_problems_of_the_drilled_failover_service() {
        use smh_core::testing::inspect::{consistent, set_secrets};
        let snap = consistent();
        let fs = snap.failover_services[0].clone();
        assert_eq!(cluster_id_problems_in(&snap, &fs, "mgmt-cluster"), []);

        // mgmt-cluster's remote secret for remote-cluster under the SMH name: an error.
        let mut snap = consistent();
        set_secrets(
            &mut snap,
            "mgmt-cluster",
            &[("istio-remote-secret-remote-cluster", "remote-cluster")],
        );
        let f = cluster_id_problems_in(&snap, &fs, "mgmt-cluster");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].error);
        assert!(
            f[0].message.starts_with("mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\", not remote-cluster's Istio cluster ID \"cluster2\""),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.ends_with("; recreate it under remote-cluster's cluster ID: \"istioctl create-remote-secret --context=remote-cluster --name=cluster2 | kubectl apply --context=mgmt-cluster -f -\", then delete the old one: \"kubectl --context=mgmt-cluster -n istio-system delete secret istio-remote-secret-remote-cluster\""),
            "{}",
            f[0].message
        );

        // remote-cluster's secret for mgmt-cluster: remote-cluster neither calls the
        // FailoverService nor probes, so it does not concern this drill.
        let mut snap = consistent();
        set_secrets(&mut snap, "remote-cluster", &[]);
        assert_eq!(cluster_id_problems_in(&snap, &fs, "mgmt-cluster"), []);
        // Unless the probes come from there.
        let f = cluster_id_problems_in(&snap, &fs, "remote-cluster");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(!f[0].error, "nothing there selects cluster1: a warning");

        // A backing service's cluster whose ID could not be read: a warning.
        let mut snap = consistent();
        snap.topology.clusters[1].mesh.as_mut().unwrap().cluster_id = None;
        let f = cluster_id_problems_in(&snap, &fs, "mgmt-cluster");
        assert!(
            f.iter().any(|p| !p.error
                && p.message
                    .starts_with("remote-cluster: Istio's cluster ID could not be read")),
            "{f:#?}"
        );
    }
}
