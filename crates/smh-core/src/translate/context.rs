//! What the translation works from: the topology indexed by cluster and traffic target, the
//! SMH objects with their ids, and the diagnostics and explanations collected on the way.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::consts::SMH_NAMESPACE;
use crate::model::diag::{Diagnostic, ObjectId, Severity, Source, StatusTarget};
use crate::model::duration::{format_proto_duration, parse_duration};
use crate::model::naming;
use crate::model::select;
use crate::model::topology::{ClusterTopology, Mesh, MultiClusterMode, Service, Topology};
use crate::model::types::{FailoverService, TrafficPolicy};
use crate::model::{Manifest, SmhObject};

use super::Explanation;
use super::strategy::{Decision, NativePlan};

/// A traffic target: a Service in a cluster with an Istio mesh and sidecar workloads
/// behind it (SMH discovered a TrafficTarget only then).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetId {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
}

impl TargetId {
    pub fn new(name: &str, namespace: &str, cluster: &str) -> Self {
        TargetId {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// SMH's `name.namespace.cluster` (skv2 `sets.Key` of a ClusterObjectRef).
    pub fn key(&self) -> String {
        format!("{}.{}.{}", self.name, self.namespace, self.cluster)
    }

    /// Status key in `TrafficPolicy.status.trafficTargets`.
    pub(crate) fn status_key(&self) -> String {
        naming::traffic_target_key(&self.name, &self.namespace, &self.cluster)
    }
}

/// A TrafficPolicy from the input, with its position (earlier wins, like SMH's
/// earlier-accepted policies).
pub(crate) struct Policy<'a> {
    pub tp: &'a TrafficPolicy,
    pub id: ObjectId,
    pub source: Source,
}

/// A FailoverService from the input.
pub(crate) struct Failover<'a> {
    pub fs: &'a FailoverService,
    pub id: ObjectId,
    pub source: Source,
}

impl Failover<'_> {
    pub(crate) fn name(&self) -> &str {
        &self.id.name
    }
    pub(crate) fn namespace(&self) -> &str {
        &self.id.namespace
    }
}

/// The namespace of an SMH object: its own, or `service-mesh-hub` when unset.
pub(super) fn object_namespace(meta: &ObjectMeta) -> String {
    meta.namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| SMH_NAMESPACE.to_string())
}

fn object_id(kind: &str, meta: &ObjectMeta) -> ObjectId {
    ObjectId {
        kind: kind.to_string(),
        namespace: object_namespace(meta),
        name: meta.name.clone().unwrap_or_default(),
    }
}

/// Everything the translation reads, plus what it reports.
pub(crate) struct Ctx<'a> {
    pub topology: &'a Topology,
    pub policies: Vec<Policy<'a>>,
    pub failovers: Vec<Failover<'a>>,
    /// Traffic targets, sorted.
    pub targets: BTreeMap<TargetId, &'a Service>,
    /// For each traffic target, the policies whose destinationSelector selects it, in
    /// input order (indices into `policies`).
    pub applied: BTreeMap<TargetId, Vec<usize>>,
    /// FailoverServices by (namespace, name); the first of duplicates.
    failover_index: BTreeMap<(String, String), usize>,
    /// The strategy of each FailoverService, by (namespace, name); set by
    /// [`super::translate_with`] before anything is generated.
    pub decisions: BTreeMap<(String, String), Decision>,
}

/// What the translation reports besides objects.
#[derive(Default)]
pub(crate) struct TranslationNotes {
    pub diagnostics: BTreeSet<Diagnostic>,
    pub explanations: BTreeSet<Explanation>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(manifests: &'a [Manifest], topology: &'a Topology) -> Self {
        let mut policies = Vec::new();
        let mut failovers = Vec::new();
        for m in manifests {
            match &m.object {
                SmhObject::TrafficPolicy(tp) => policies.push(Policy {
                    tp,
                    id: object_id(TrafficPolicy::KIND, &tp.metadata),
                    source: m.source.clone(),
                }),
                SmhObject::FailoverService(fs) => failovers.push(Failover {
                    fs,
                    id: object_id(FailoverService::KIND, &fs.metadata),
                    source: m.source.clone(),
                }),
            }
        }
        let mut targets = BTreeMap::new();
        for c in &topology.clusters {
            if c.mesh.is_none() {
                continue;
            }
            for s in c.services.iter().filter(|s| s.in_mesh()) {
                targets.insert(TargetId::new(&s.name, &s.namespace, &c.name), s);
            }
        }
        let mut applied: BTreeMap<TargetId, Vec<usize>> = BTreeMap::new();
        for (i, p) in policies.iter().enumerate() {
            let selectors = &p.tp.spec.destination_selector;
            // Fast path: only kubeServiceRefs, which match exactly, so look them up instead
            // of testing every target (same result as the full scan).
            let refs_only = !selectors.is_empty()
                && selectors
                    .iter()
                    .all(|s| s.kube_service_matcher.is_none() && s.kube_service_refs.is_some());
            let candidates: Vec<(&TargetId, &&Service)> = if refs_only {
                let keys: BTreeSet<TargetId> = selectors
                    .iter()
                    .flat_map(|s| s.kube_service_refs.iter().flat_map(|r| &r.services))
                    .map(|r| TargetId::new(&r.name, &r.namespace, &r.cluster_name))
                    .collect();
                keys.iter()
                    .filter_map(|k| targets.get_key_value(k))
                    .collect()
            } else {
                targets.iter().collect()
            };
            for (t, svc) in candidates {
                if select::destination_selectors_match(selectors, &t.cluster, svc) {
                    applied.entry(t.clone()).or_default().push(i);
                }
            }
        }
        let mut failover_index = BTreeMap::new();
        for (i, f) in failovers.iter().enumerate() {
            failover_index
                .entry((f.id.namespace.clone(), f.id.name.clone()))
                .or_insert(i);
        }
        Ctx {
            topology,
            policies,
            failovers,
            failover_index,
            targets,
            applied,
            decisions: BTreeMap::new(),
        }
    }

    /// The native plan of FailoverService `namespace/name`, when its strategy is native.
    pub(crate) fn native_plan(&self, namespace: &str, name: &str) -> Option<&NativePlan> {
        self.decisions
            .get(&(namespace.to_string(), name.to_string()))
            .and_then(|d| d.native.as_ref())
    }

    /// The FailoverService `namespace/name` from the input.
    pub(crate) fn failover(&self, namespace: &str, name: &str) -> Option<&Failover<'a>> {
        self.failover_index
            .get(&(namespace.to_string(), name.to_string()))
            .map(|&i| &self.failovers[i])
    }

    pub(crate) fn cluster(&self, name: &str) -> Option<&'a ClusterTopology> {
        self.topology.cluster(name)
    }

    pub(crate) fn mesh(&self, cluster: &str) -> Option<&'a Mesh> {
        self.cluster(cluster).and_then(|c| c.mesh.as_ref())
    }

    /// The multi-cluster mode of the mesh in `cluster` (the consuming side decides).
    pub(crate) fn mode(&self, cluster: &str) -> MultiClusterMode {
        self.mesh(cluster).map(|m| m.mode).unwrap_or_default()
    }

    /// The Istio cluster ID of `cluster` (the value of `topology.istio.io/cluster` on its
    /// endpoints): the topology's `clusterId`, or the SMH cluster name when it is unknown
    /// (see [`Ctx::cluster_id_known`]).
    pub(crate) fn cluster_id<'b>(&self, cluster: &'b str) -> &'b str
    where
        'a: 'b,
    {
        match self.mesh(cluster).and_then(|m| m.cluster_id.as_deref()) {
            Some(id) => id,
            None => cluster,
        }
    }

    /// Whether the topology says what `cluster`'s Istio cluster ID is.
    pub(crate) fn cluster_id_known(&self, cluster: &str) -> bool {
        self.mesh(cluster).is_some_and(|m| m.cluster_id.is_some())
    }

    pub(crate) fn domain(&self, cluster: &str) -> &'a str {
        self.cluster(cluster)
            .map(|c| c.cluster_domain.as_str())
            .unwrap_or("cluster.local")
    }

    /// The cluster whose mesh SMH named `mesh_name` (`istiod-istio-system-<cluster>`).
    pub(crate) fn cluster_of_mesh(&self, mesh_name: &str) -> Option<&'a ClusterTopology> {
        self.topology.clusters.iter().find(|c| {
            c.mesh
                .as_ref()
                .is_some_and(|m| m.smh_name(&c.name) == mesh_name)
        })
    }

    /// `name.ns.svc.<domain of the target's cluster>`.
    pub(crate) fn local_fqdn(&self, t: &TargetId) -> String {
        format!("{}.{}.svc.{}", t.name, t.namespace, self.domain(&t.cluster))
    }

    /// `name.ns.svc.<cluster>.global`.
    pub(crate) fn global_fqdn(t: &TargetId) -> String {
        format!("{}.{}.svc.{}.global", t.name, t.namespace, t.cluster)
    }

    /// Policies applied to `t` whose sourceSelector includes `source_cluster`, in order.
    pub(crate) fn policies_for(&self, t: &TargetId, source_cluster: &str) -> Vec<&Policy<'a>> {
        self.applied
            .get(t)
            .map(|ids| {
                ids.iter()
                    .map(|&i| &self.policies[i])
                    .filter(|p| {
                        select::workload_selector_contains_cluster(
                            &p.tp.spec.source_selector,
                            source_cluster,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn ports(&self, t: &TargetId) -> Vec<u32> {
        self.targets
            .get(t)
            .map(|s| s.ports.iter().map(|p| p.port).collect())
            .unwrap_or_default()
    }
}

impl TranslationNotes {
    /// An error SMH would report for a policy on one traffic target.
    pub(crate) fn policy_error(&mut self, p: &Policy, t: &TargetId, field: &str, message: String) {
        self.diagnostics.insert(Diagnostic {
            severity: Severity::Error,
            source: Some(p.source.clone()),
            object: Some(p.id.clone()),
            field: Some(field.to_string()),
            position: None,
            message,
            status_target: Some(StatusTarget::TrafficTarget(t.status_key())),
        });
    }

    /// An error SMH would report for a FailoverService in one mesh (or top-level).
    pub(crate) fn failover_error(
        &mut self,
        f: &Failover,
        target: StatusTarget,
        field: &str,
        message: String,
    ) {
        self.diagnostics.insert(Diagnostic {
            severity: Severity::Error,
            source: Some(f.source.clone()),
            object: Some(f.id.clone()),
            field: Some(field.to_string()),
            position: None,
            message,
            status_target: Some(target),
        });
    }

    /// A warning SMH never had.
    pub(crate) fn warning(
        &mut self,
        source: &Source,
        object: &ObjectId,
        field: &str,
        message: String,
    ) {
        self.diagnostics.insert(Diagnostic {
            severity: Severity::Warning,
            source: Some(source.clone()),
            object: Some(object.clone()),
            field: Some(field.to_string()),
            position: None,
            message,
            status_target: None,
        });
    }

    pub(crate) fn explain(&mut self, cluster: &str, text: String) {
        self.explanations.insert(Explanation {
            cluster: cluster.to_string(),
            text,
        });
    }
}

/// A user duration (`10s`, `1m`, `500ms`) in protobuf form (`10s`, `60s`, `0.5s`).
/// `Ok(None)` for a zero duration, which SMH treats as unset.
pub(super) fn proto_duration(input: &str) -> Result<Option<String>, String> {
    let d = parse_duration(input)?;
    Ok((d != Duration::ZERO).then(|| format_proto_duration(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(proto_duration("10s"), Ok(Some("10s".into())));
        assert_eq!(proto_duration("1m"), Ok(Some("60s".into())));
        assert_eq!(proto_duration("500ms"), Ok(Some("0.5s".into())));
        assert_eq!(proto_duration("0s"), Ok(None));
        assert!(proto_duration("soon").is_err());
    }
}
