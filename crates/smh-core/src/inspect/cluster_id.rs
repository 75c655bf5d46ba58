//! Istio cluster IDs across the clusters of a [`Snapshot`], for `check` and `describe`. Pure.
//!
//! In multi-primary mode kubectl-smh's per-cluster subsets select
//! `topology.istio.io/cluster: <ID>`, the Istio cluster ID of each cluster, and Istio labels
//! endpoints with the local istiod's `CLUSTER_ID` and, for a remote cluster, with the data
//! key of the remote secret that reaches it ([`crate::istio::cluster_id`]). The subsets
//! select something only when those agree. This finds, among the meshes in multi-primary
//! mode:
//! - an ID that could not be read (the SMH cluster name is then assumed);
//! - the same ID in two clusters (Istio's default `Kubernetes` on two installs without
//!   `values.global.multiCluster.clusterName`): their endpoints look alike, and istiod
//!   ignores a remote secret for its own ID;
//! - a cluster whose istiod has no remote secret keyed by another cluster's ID: either one
//!   made for that cluster under another name (`istioctl create-remote-secret --name` with
//!   the context or SMH name), or none at all. That is an error when the generated
//!   configuration in that cluster depends on the other cluster's ID (the aggregate
//!   strategy's subsets selecting it, or the native strategy's `failoverPriority` entry
//!   `topology.istio.io/cluster=<ID>` naming a remote primary), a warning otherwise.

use std::collections::{BTreeMap, BTreeSet};

use super::discovery::RemoteSecret;
use super::snapshot::Snapshot;
use crate::consts::ISTIO_CLUSTER_LABEL;
use crate::istio::cluster_id::{CLUSTER_NAME_VALUE, DEFAULT_CLUSTER_ID};
use crate::model::diag::Severity;
use crate::model::topology::MultiClusterMode;

/// One problem with the cluster IDs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IdFinding {
    /// The cluster whose mesh has the problem.
    pub cluster: String,
    /// The other cluster concerned (a remote secret for it), if any.
    pub peer: Option<String>,
    /// `Error` when failover through the generated subsets breaks (or the IDs collide), else
    /// `Warning`.
    pub severity: Severity,
    /// The problem, in one sentence.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

struct MeshIds<'a> {
    name: &'a str,
    context: &'a str,
    id: Option<&'a str>,
    id_source: Option<&'a str>,
    secrets: Option<&'a [RemoteSecret]>,
}

/// The cluster-ID problems of the multi-primary meshes of `snap`, sorted.
pub fn findings(snap: &Snapshot) -> Vec<IdFinding> {
    let meshes = multi_primary_meshes(snap);
    let mut out = unreadable_ids(&meshes);
    out.extend(duplicate_ids(&meshes));
    out.extend(missing_secrets(snap, &meshes));
    out.sort();
    out
}

/// The IDs, contexts and remote secrets of the multi-primary meshes.
fn multi_primary_meshes(snap: &Snapshot) -> Vec<MeshIds<'_>> {
    snap.topology
        .clusters
        .iter()
        .filter_map(|c| {
            let mesh = c.mesh.as_ref()?;
            (mesh.mode == MultiClusterMode::MultiPrimary).then_some(())?;
            let view = snap.clusters.get(&c.name);
            let facts = view.and_then(|v| v.facts.as_ref());
            Some(MeshIds {
                name: &c.name,
                context: view
                    .map(|v| v.context.as_str())
                    .or(c.context.as_deref())
                    .unwrap_or(&c.name),
                id: mesh.cluster_id.as_deref(),
                id_source: facts.and_then(|f| f.cluster_id_source.as_deref()),
                secrets: facts.and_then(|f| f.remote_secrets.as_deref()),
            })
        })
        .collect()
}

/// Meshes whose Istio cluster ID could not be read (a warning: the SMH name is assumed).
fn unreadable_ids(meshes: &[MeshIds<'_>]) -> Vec<IdFinding> {
    let mut out = Vec::new();
    for m in meshes.iter().filter(|m| m.id.is_none()) {
        let why = m
            .id_source
            .map(|s| format!(" ({})", s.strip_prefix("unknown: ").unwrap_or(s)))
            .unwrap_or_default();
        out.push(IdFinding {
            cluster: m.name.to_string(),
            peer: None,
            severity: Severity::Warning,
            message: format!(
                "{}: Istio's cluster ID could not be read{why}; kubectl-smh assumes it is {}, the SMH cluster name, and if it is not, the subsets that select {}'s endpoints ({ISTIO_CLUSTER_LABEL}={}) select nothing",
                m.name, m.name, m.name, m.name
            ),
            hint: format!(
                "make istiod's CLUSTER_ID a plain value: install Istio with --set {CLUSTER_NAME_VALUE}=<ID>"
            ),
        });
    }
    out
}

/// Meshes that share an Istio cluster ID (an error for each of them).
fn duplicate_ids(meshes: &[MeshIds<'_>]) -> Vec<IdFinding> {
    let mut out = Vec::new();
    let mut by_id: BTreeMap<&str, Vec<&MeshIds>> = BTreeMap::new();
    for m in meshes {
        if let Some(id) = m.id {
            by_id.entry(id).or_default().push(m);
        }
    }
    for (id, same) in by_id.iter().filter(|(_, v)| v.len() > 1) {
        let default = if *id == DEFAULT_CLUSTER_ID {
            format!(" (Istio's default when {CLUSTER_NAME_VALUE} is not set)")
        } else {
            String::new()
        };
        for m in same {
            let others: Vec<&str> = same
                .iter()
                .filter(|o| o.name != m.name)
                .map(|o| o.name)
                .collect();
            out.push(IdFinding {
                cluster: m.name.to_string(),
                peer: None,
                severity: Severity::Error,
                message: format!(
                    "{}: Istio cluster ID {id:?}{default} is also the ID of {}: Istio labels the endpoints of both {ISTIO_CLUSTER_LABEL}={id} and istiod ignores a remote secret for its own ID, so neither sees the other's endpoints and per-cluster subsets cannot tell the clusters apart",
                    m.name,
                    others.join(", ")
                ),
                hint: format!(
                    "give every cluster its own ID: install Istio in each with --set {CLUSTER_NAME_VALUE}=<ID>, then recreate the remote secrets with \"istioctl create-remote-secret --name=<ID>\""
                ),
            });
        }
    }
    out
}

/// For each pair of meshes, a missing or misnamed remote secret of the one for the other.
fn missing_secrets(snap: &Snapshot, meshes: &[MeshIds<'_>]) -> Vec<IdFinding> {
    let mut out = Vec::new();
    let needs = subset_ids(snap);
    for a in meshes {
        let Some(secrets) = a.secrets else {
            continue;
        };
        let keys: BTreeSet<&str> = secrets
            .iter()
            .flat_map(|s| s.cluster_ids.iter().map(String::as_str))
            .collect();
        for b in meshes.iter().filter(|b| b.name != a.name) {
            let Some(id) = b.id else { continue };
            if keys.contains(id) || a.id == Some(id) {
                // Present, or a duplicate ID (reported above).
                continue;
            }
            let needed = needs
                .get(a.name)
                .and_then(|n| n.get(id))
                .map(|uses| consequence_of(id, uses));
            out.push(missing_secret(a, b, id, secrets, &keys, needed));
        }
    }
    out
}

/// Mesh `a` has no remote secret keyed `b`'s cluster ID `id`: misnamed (one for `b` under
/// another key) or absent; an error when generated DestinationRules in `a` need it
/// (`needed`: what goes wrong with them, [`consequence_of`]).
fn missing_secret(
    a: &MeshIds<'_>,
    b: &MeshIds<'_>,
    id: &str,
    secrets: &[RemoteSecret],
    keys: &BTreeSet<&str>,
    needed: Option<String>,
) -> IdFinding {
    let consequence = match &needed {
        Some(what) => format!(": {what}"),
        None => format!(": istiod there does not discover {}'s endpoints", b.name),
    };
    let create = format!(
        "istioctl create-remote-secret --context={} --name={id} | kubectl apply --context={} -f -",
        b.context, a.context
    );
    let aliases = [b.name, b.context];
    let misnamed = secrets.iter().find(|s| {
        s.cluster_ids.iter().any(|k| aliases.contains(&k.as_str()))
            || s.annotation
                .as_deref()
                .is_some_and(|n| aliases.contains(&n) || n == id)
            || aliases.iter().any(|n| {
                s.secret
                    .split_once('/')
                    .is_some_and(|(_, name)| name == format!("istio-remote-secret-{n}"))
            })
    });
    let (severity, message, hint) = match misnamed {
        Some(s) => (
            Severity::Error,
            format!(
                "{}: remote secret {} is for {} but is keyed {}, not {}'s Istio cluster ID {id:?}, so istiod in {} labels {}'s endpoints {ISTIO_CLUSTER_LABEL}={}{consequence}",
                a.name,
                s.secret,
                b.name,
                quoted(&s.cluster_ids),
                b.name,
                a.name,
                b.name,
                s.cluster_ids
                    .first()
                    .map(String::as_str)
                    .unwrap_or("(no key)"),
            ),
            format!(
                "recreate it under {}'s cluster ID: \"{create}\", then delete the old one: \"kubectl --context={} -n {} delete secret {}\"",
                b.name,
                a.context,
                s.secret
                    .split_once('/')
                    .map_or("istio-system", |(ns, _)| ns),
                s.secret
                    .split_once('/')
                    .map_or(s.secret.as_str(), |(_, n)| n),
            ),
        ),
        None => (
            if needed.is_some() {
                Severity::Error
            } else {
                Severity::Warning
            },
            format!(
                "{}: istiod has no remote secret for {} (Istio cluster ID {id:?}; its remote secrets are keyed {}){consequence}",
                a.name,
                b.name,
                if keys.is_empty() {
                    "by nothing".to_string()
                } else {
                    quoted(&keys.iter().map(|k| k.to_string()).collect::<Vec<_>>())
                },
            ),
            format!("create one: \"{create}\""),
        ),
    };
    IdFinding {
        cluster: a.name.to_string(),
        peer: Some(b.name.to_string()),
        severity,
        message,
        hint,
    }
}

fn quoted(keys: &[String]) -> String {
    if keys.is_empty() {
        return "by nothing".to_string();
    }
    keys.iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a generated DestinationRule depends on an Istio cluster ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum IdUse {
    /// A subset selects `topology.istio.io/cluster: <ID>` (multi-primary aggregate subsets).
    Subset,
    /// A `failoverPriority` entry `topology.istio.io/cluster=<ID>` (the native strategy).
    FailoverPriority,
}

/// cluster -> cluster ID -> the generated DestinationRules (`DestinationRule ns/name`) in
/// that cluster that depend on `topology.istio.io/cluster` being `<ID>`: a subset selecting
/// it, or a `failoverPriority` entry naming it (in a subset's or the rule's own traffic
/// policy).
fn subset_ids(snap: &Snapshot) -> BTreeMap<String, BTreeMap<String, BTreeSet<(IdUse, String)>>> {
    let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<(IdUse, String)>>> = BTreeMap::new();
    let label_path = format!("/labels/{}", ISTIO_CLUSTER_LABEL.replace('/', "~1"));
    let priority_prefix = format!("{ISTIO_CLUSTER_LABEL}=");
    for o in &snap.expected.objects {
        if o.kind() != "DestinationRule" {
            continue;
        }
        let v = o.to_value();
        let name = format!(
            "DestinationRule {}/{}",
            o.object.namespace(),
            o.object.name()
        );
        let subsets = v
            .pointer("/spec/subsets")
            .and_then(|s| s.as_array())
            .cloned()
            .unwrap_or_default();
        let mut uses: Vec<(IdUse, String)> = Vec::new();
        let policies = std::iter::once(v.pointer("/spec/trafficPolicy"))
            .chain(subsets.iter().map(|s| s.get("trafficPolicy")))
            .flatten();
        for p in policies {
            let entries = p
                .pointer("/loadBalancer/localityLbSetting/failoverPriority")
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str()?.strip_prefix(&priority_prefix));
            uses.extend(entries.map(|id| (IdUse::FailoverPriority, id.to_string())));
        }
        for s in &subsets {
            if let Some(id) = s.pointer(&label_path).and_then(|v| v.as_str()) {
                uses.push((IdUse::Subset, id.to_string()));
            }
        }
        for (how, id) in uses {
            out.entry(o.cluster.clone())
                .or_default()
                .entry(id)
                .or_default()
                .insert((how, name.clone()));
        }
    }
    out
}

/// What goes wrong in a cluster whose istiod does not label the endpoints of the cluster
/// with ID `id` with it, for the DestinationRules that depend on it (`uses`).
fn consequence_of(id: &str, uses: &BTreeSet<(IdUse, String)>) -> String {
    let of = |how: IdUse| -> Option<String> {
        let drs: Vec<&str> = uses
            .iter()
            .filter(|(h, _)| *h == how)
            .map(|(_, d)| d.as_str())
            .collect();
        (!drs.is_empty()).then(|| drs.join(", "))
    };
    let mut parts = Vec::new();
    if let Some(drs) = of(IdUse::Subset) {
        parts.push(format!(
            "the subsets on {ISTIO_CLUSTER_LABEL}={id} in {drs} there select nothing, and traffic sent to them gets 503s"
        ));
    }
    if let Some(drs) = of(IdUse::FailoverPriority) {
        parts.push(format!(
            "the failoverPriority {ISTIO_CLUSTER_LABEL}={id} in {drs} there matches no endpoint, so the primary's endpoints are not preferred and the FailoverService's priority order is lost"
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::inspect::{consistent, facts, guide_snapshot, set_ids, set_secrets};

    /// The expected objects of the aggregate strategy, whose per-cluster subsets select every
    /// cluster's ID (the default, native, names only the primary's).
    fn aggregate(snap: &mut Snapshot) {
        let options = crate::translate::TranslateOptions {
            strategy: crate::translate::Strategy::Aggregate,
        };
        snap.expected =
            crate::translate::translate_with(&snap.manifests(), &snap.topology, options);
    }

    #[test]
    fn consistent_ids_have_no_findings() {
        assert_eq!(findings(&consistent()), vec![]);
        // Global mode does not select on cluster IDs at all.
        let mut snap = guide_snapshot(MultiClusterMode::Global);
        for t in &mut snap.topology.clusters {
            t.mesh.as_mut().unwrap().cluster_id = Some("Kubernetes".into());
        }
        assert_eq!(findings(&snap), vec![]);
    }

    #[test]
    fn unknown_id_is_a_warning_naming_the_assumption() {
        let mut snap = consistent();
        snap.topology.clusters[1].mesh.as_mut().unwrap().cluster_id = None;
        snap.clusters
            .get_mut("remote-cluster")
            .unwrap()
            .facts
            .get_or_insert_with(|| facts("remote-cluster"))
            .cluster_id_source =
            Some("unknown: istiod's CLUSTER_ID is set from a valueFrom reference".into());
        let f = findings(&snap);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].message,
            "remote-cluster: Istio's cluster ID could not be read (istiod's CLUSTER_ID is set from a valueFrom reference); kubectl-smh assumes it is remote-cluster, the SMH cluster name, and if it is not, the subsets that select remote-cluster's endpoints (topology.istio.io/cluster=remote-cluster) select nothing"
        );
        assert!(f[0].hint.contains("values.global.multiCluster.clusterName"));
    }

    #[test]
    fn the_default_id_twice_is_an_error_for_both() {
        let mut snap = consistent();
        set_ids(
            &mut snap,
            &[
                ("mgmt-cluster", "Kubernetes"),
                ("remote-cluster", "Kubernetes"),
            ],
        );
        set_secrets(
            &mut snap,
            "mgmt-cluster",
            &[("istio-remote-secret-kubernetes", "Kubernetes")],
        );
        set_secrets(
            &mut snap,
            "remote-cluster",
            &[("istio-remote-secret-kubernetes", "Kubernetes")],
        );
        let f = findings(&snap);
        let clusters: Vec<&str> = f.iter().map(|f| f.cluster.as_str()).collect();
        assert_eq!(clusters, ["mgmt-cluster", "remote-cluster"], "{f:#?}");
        assert!(f.iter().all(|f| f.severity == Severity::Error));
        assert_eq!(
            f[0].message,
            "mgmt-cluster: Istio cluster ID \"Kubernetes\" (Istio's default when values.global.multiCluster.clusterName is not set) is also the ID of remote-cluster: Istio labels the endpoints of both topology.istio.io/cluster=Kubernetes and istiod ignores a remote secret for its own ID, so neither sees the other's endpoints and per-cluster subsets cannot tell the clusters apart"
        );
    }

    #[test]
    fn a_remote_secret_under_the_smh_name_is_an_error_with_the_fix() {
        let mut snap = consistent();
        aggregate(&mut snap);
        // Made with `istioctl create-remote-secret --name remote-cluster`.
        set_secrets(
            &mut snap,
            "mgmt-cluster",
            &[("istio-remote-secret-remote-cluster", "remote-cluster")],
        );
        let f = findings(&snap);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].peer.as_deref(), Some("remote-cluster"));
        assert_eq!(
            f[0].message,
            "mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\", not remote-cluster's Istio cluster ID \"cluster2\", so istiod in mgmt-cluster labels remote-cluster's endpoints topology.istio.io/cluster=remote-cluster: the subsets on topology.istio.io/cluster=cluster2 in DestinationRule bookinfo/reviews there select nothing, and traffic sent to them gets 503s"
        );
        assert_eq!(
            f[0].hint,
            "recreate it under remote-cluster's cluster ID: \"istioctl create-remote-secret --context=remote-cluster --name=cluster2 | kubectl apply --context=mgmt-cluster -f -\", then delete the old one: \"kubectl --context=mgmt-cluster -n istio-system delete secret istio-remote-secret-remote-cluster\""
        );
    }

    #[test]
    fn a_missing_remote_secret_is_an_error_only_where_subsets_need_it() {
        let mut snap = consistent();
        aggregate(&mut snap);
        set_secrets(&mut snap, "mgmt-cluster", &[]);
        set_secrets(&mut snap, "remote-cluster", &[]);
        let f = findings(&snap);
        assert_eq!(f.len(), 2, "{f:#?}");
        // mgmt-cluster's reviews DestinationRule has subsets on cluster2: an error.
        assert_eq!(
            (f[0].cluster.as_str(), f[0].severity),
            ("mgmt-cluster", Severity::Error)
        );
        assert!(
            f[0].message.starts_with(
                "mgmt-cluster: istiod has no remote secret for remote-cluster (Istio cluster ID \"cluster2\"; its remote secrets are keyed by nothing): the subsets on topology.istio.io/cluster=cluster2 in DestinationRule bookinfo/reviews there select nothing"
            ),
            "{}",
            f[0].message
        );
        // Nothing in remote-cluster selects cluster1: a warning.
        assert_eq!(
            (f[1].cluster.as_str(), f[1].severity),
            ("remote-cluster", Severity::Warning)
        );
        assert_eq!(
            f[1].message,
            "remote-cluster: istiod has no remote secret for mgmt-cluster (Istio cluster ID \"cluster1\"; its remote secrets are keyed by nothing): istiod there does not discover mgmt-cluster's endpoints"
        );
        // Secrets that could not be listed are not judged.
        for c in snap.clusters.values_mut() {
            c.facts.as_mut().unwrap().remote_secrets = None;
        }
        assert_eq!(findings(&snap), vec![]);
    }

    /// The guide's FailoverService with remote-cluster's reviews first: the native strategy's
    /// failoverPriority in mgmt-cluster names remote-cluster's ID (cluster2).
    fn remote_primary(snap: &mut Snapshot) {
        snap.failover_services[0].spec.backing_services.reverse();
        snap.expected = crate::translate::translate(&snap.manifests(), &snap.topology);
        let dr = snap
            .expected
            .objects
            .iter()
            .find(|o| o.cluster == "mgmt-cluster" && o.kind() == "DestinationRule")
            .unwrap()
            .to_value();
        assert_eq!(
            dr["spec"]["subsets"][0]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["failoverPriority"],
            serde_json::json!(["topology.istio.io/cluster=cluster2"]),
            "the native strategy, primary remote-cluster"
        );
    }

    #[test]
    fn a_native_failover_priority_on_a_remote_primary_needs_its_remote_secret() {
        let mut snap = consistent();
        remote_primary(&mut snap);
        assert_eq!(findings(&snap), vec![]);
        let needs = subset_ids(&snap);
        assert_eq!(
            needs["mgmt-cluster"]["cluster2"],
            BTreeSet::from([(
                IdUse::FailoverPriority,
                "DestinationRule bookinfo/reviews".to_string()
            )])
        );

        // No remote secret for remote-cluster in mgmt-cluster: its endpoints are not
        // discovered there, so the primary is never preferred: an error.
        set_secrets(&mut snap, "mgmt-cluster", &[]);
        let f = findings(&snap);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(
            f[0].message,
            "mgmt-cluster: istiod has no remote secret for remote-cluster (Istio cluster ID \"cluster2\"; its remote secrets are keyed by nothing): the failoverPriority topology.istio.io/cluster=cluster2 in DestinationRule bookinfo/reviews there matches no endpoint, so the primary's endpoints are not preferred and the FailoverService's priority order is lost"
        );

        // One made under the SMH name: an error naming the same consequence.
        set_secrets(
            &mut snap,
            "mgmt-cluster",
            &[("istio-remote-secret-remote-cluster", "remote-cluster")],
        );
        let f = findings(&snap);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].message.ends_with(": the failoverPriority topology.istio.io/cluster=cluster2 in DestinationRule bookinfo/reviews there matches no endpoint, so the primary's endpoints are not preferred and the FailoverService's priority order is lost"),
            "{}",
            f[0].message
        );

        // With the primary in mgmt-cluster (its own ID), the same missing secret is only a
        // warning: nothing generated there depends on cluster2.
        let mut snap = consistent();
        set_secrets(&mut snap, "mgmt-cluster", &[]);
        let f = findings(&snap);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
    }
}
