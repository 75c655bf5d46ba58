//! `describe`'s model: what is configured and how it stands, built by pure functions from a
//! [`Snapshot`] (no I/O here). `render::describe` draws it; `-o json|yaml` prints it as is,
//! with stable camelCase field names.
//!
//! For a FailoverService: its spec and status, then per backing service in priority order
//! the cluster, the service, ready endpoints out of total, the outlier detection in effect,
//! and the drift of every generated object that concerns it; the problems in words; and the
//! topology-dependent choices of the translation.
//!
//! **Outlier detection in effect** for a backing service B is read from the live
//! DestinationRule kubectl-smh generated in each cluster whose mesh the FailoverService
//! lists (the callers' side: that is where the aggregate cluster and its sub-clusters live):
//! in global mode the rule for B's local host (B in that cluster) or for
//! `B.ns.svc.<B's cluster>.global` (elsewhere); in multi-primary mode the rule for the
//! shared `B.ns.svc.<domain>` host, where B's per-cluster subset's own outlier detection
//! wins over the rule's (Istio applies a subset's policy instead of the top-level one). For
//! a port-level setting on the FailoverService's port, that one wins. Unset fields take
//! Istio's defaults (5 / 10s / 30s / 10%), and are listed as such.

use std::collections::BTreeSet;

use serde::Serialize;

use super::discovery::ModeDecision;
use super::drift::{Drift, DriftState, ObjectKey};
use super::snapshot::{Availability, ClusterView, EndpointCount, ServiceRef, Snapshot};
use crate::drill::outlier::OutlierSettings;
use crate::drill::preflight::{BackingHealth, DeployedObject, GeneratedState};
use crate::model::diag::{ObjectId, Severity};
use crate::model::duration::format_proto_duration;
use crate::model::types::{ApprovalState, FailoverService};

mod failover_service;
mod index;
pub(crate) use failover_service::backing_problems;
pub use failover_service::{cluster_id_problems, failover_services};
mod traffic_policy;
pub use traffic_policy::traffic_policies;
mod mesh;
pub use mesh::meshes;

/// A problem, in words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// `Error`: failover does not work as configured, or the configuration is not what is in
    /// effect; `Warning`: it works, but not as well as it could, or something could not be
    /// checked.
    pub severity: Severity,
    /// One sentence that says what is wrong and, where it can, what to do.
    pub message: String,
}

impl Problem {
    fn error(message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            message: message.into(),
        }
    }
    fn warning(message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

/// A cluster in a describe document: name, context, and its error when it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRow {
    /// SMH cluster name (the kubeconfig context name when no SMH name maps to it).
    pub name: String,
    /// The kubeconfig context used for it.
    pub context: String,
    /// The API server URL (no credentials).
    pub server: String,
    /// True for the management cluster (where the SMH objects live).
    pub mgmt: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Why the cluster could not be read, if so; its other fields in the document are then
    /// unknown.
    pub error: Option<String>,
    /// When its topology comes from the cache (discovery failed): the time of that
    /// discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_since: Option<String>,
}

/// The status of an SMH object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    /// `PENDING` (no status: never applied), `ACCEPTED`, `INVALID`, `FAILED`.
    pub state: String,
    /// `status.observedGeneration`: the generation the status was computed for.
    pub observed_generation: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `metadata.generation` now, when the object carries one.
    pub generation: Option<i64>,
    /// `observedGeneration == generation`.
    pub up_to_date: bool,
    /// Top-level errors, then per mesh / traffic target as `<key>: <error>`.
    pub errors: Vec<String>,
}

impl StatusView {
    fn new(
        state: Option<ApprovalState>,
        observed: i64,
        generation: Option<i64>,
        errors: Vec<String>,
    ) -> Self {
        StatusView {
            state: state.unwrap_or_default().as_str().to_string(),
            observed_generation: observed,
            generation,
            up_to_date: generation.is_none_or(|g| g == observed),
            errors,
        }
    }

    fn is_accepted(&self) -> bool {
        self.state == ApprovalState::Accepted.as_str()
    }
}

/// `{number, protocol}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortView {
    /// The FailoverService's port number.
    pub number: u32,
    /// Its protocol, as the FailoverService spells it (e.g. `http`).
    pub protocol: String,
}

/// A mesh a FailoverService lists, and the cluster that runs it (when known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshRefView {
    /// The mesh's name, `istiod-<namespace>-<cluster>` as SMH names it.
    pub name: String,
    /// The mesh's namespace (SMH's, `service-mesh-hub`, in the guide).
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The cluster that runs the mesh; `None` when no cluster that answered runs it.
    pub cluster: Option<String>,
}

/// Outlier detection values in effect (Istio's defaults filled in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlierValues {
    #[serde(rename = "consecutive5xxErrors")]
    /// Consecutive 5xx answers before a host is ejected (Istio's default 5).
    pub consecutive_5xx_errors: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Consecutive gateway errors (502/503/504) before a host is ejected, when set.
    pub consecutive_gateway_errors: Option<u32>,
    /// Time between ejection sweeps, as a protobuf duration (`10s` by default).
    pub interval: String,
    /// Minimum ejection time, as a protobuf duration (`30s` by default); it grows with each
    /// ejection.
    pub base_ejection_time: String,
    /// Share of the hosts that may be ejected at once, in percent (Istio's default 10).
    pub max_ejection_percent: u32,
    /// Fields the rule leaves unset, which take Istio's defaults.
    pub defaulted: Vec<String>,
}

impl OutlierValues {
    fn of(s: &OutlierSettings) -> Self {
        let mut defaulted = Vec::new();
        if s.consecutive_5xx_errors.is_none() {
            defaulted.push("consecutive5xxErrors".to_string());
        }
        if s.interval.is_none() {
            defaulted.push("interval".to_string());
        }
        if s.base_ejection_time.is_none() {
            defaulted.push("baseEjectionTime".to_string());
        }
        if s.max_ejection_percent.is_none() {
            defaulted.push("maxEjectionPercent".to_string());
        }
        OutlierValues {
            consecutive_5xx_errors: s.effective_consecutive_5xx(),
            consecutive_gateway_errors: s.consecutive_gateway_errors,
            interval: format_proto_duration(s.effective_interval()),
            base_ejection_time: format_proto_duration(s.effective_base_ejection_time()),
            max_ejection_percent: s.effective_max_ejection_percent(),
            defaulted,
        }
    }
}

/// The outlier detection that applies to a backing service for callers in one cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlierView {
    /// The callers' cluster (a mesh the FailoverService lists).
    pub client_cluster: String,
    /// The Envoy host callers use for the backing service.
    pub host: String,
    /// `DestinationRule bookinfo/reviews` (and ` subset cluster-remote-cluster`), when a
    /// rule for the host exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `None`: no outlier detection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<OutlierValues>,
    /// Why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    /// The settings as read, for the drill's preflight; not printed.
    pub settings: Option<OutlierSettings>,
}

/// `primary` (the first backing service) or `secondary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The first backing service: traffic goes there while it is healthy.
    Primary,
    /// A later backing service: traffic fails over to it, in priority order.
    Secondary,
}

/// One backing service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackingView {
    /// 1 = highest.
    pub priority: usize,
    /// Primary for priority 1, else secondary.
    pub role: Role,
    /// SMH cluster name of the backing service.
    pub cluster: String,
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// Why its cluster could not be read, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_error: Option<String>,
    /// Whether the service exists with sidecar workloads (SMH's "discovered"); `None` when
    /// its cluster could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovered: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Ready and total endpoints; `None` when they could not be read.
    pub endpoints: Option<EndpointCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Why the endpoints could not be read, if so.
    pub endpoints_error: Option<String>,
    /// Per calling cluster.
    pub outlier_detection: Vec<OutlierView>,
    /// The generated objects for this service's host.
    pub generated: Vec<Drift>,
    /// Every generated object for it is present and unmodified; `None` when some could not
    /// be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_sync: Option<bool>,
}

impl BackingView {
    /// The backing service as a snapshot key.
    pub fn service(&self) -> ServiceRef {
        ServiceRef {
            cluster: self.cluster.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// A topology-dependent choice of the translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplanationView {
    /// The cluster the choice was made for.
    pub cluster: String,
    /// The choice, in words (e.g. which mode, which host, why).
    pub text: String,
}

/// `describe failoverservice`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverServiceView {
    /// The FailoverService's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `spec.hostname`, the name callers use.
    pub hostname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `spec.port`; `None` when unset.
    pub port: Option<PortView>,
    /// `spec.meshes`: the meshes whose callers get the hostname.
    pub meshes: Vec<MeshRefView>,
    /// Its SMH status.
    pub status: StatusView,
    /// `spec.backingServices` in priority order, each with what the clusters hold for it.
    pub backing_services: Vec<BackingView>,
    /// Objects generated from this FailoverService itself (ServiceEntry, EnvoyFilter, ...).
    pub generated: Vec<Drift>,
    /// TrafficPolicies that concern it: outlier detection on a backing service, or a
    /// traffic shift to it (`namespace/name`).
    pub traffic_policies: Vec<String>,
    /// The translation's topology-dependent choices, per cluster.
    pub explanations: Vec<ExplanationView>,
    /// Every problem found, errors first.
    pub problems: Vec<Problem>,
}

impl FailoverServiceView {
    /// Its `FailoverService namespace/name` identity.
    pub fn id(&self) -> ObjectId {
        ObjectId {
            kind: FailoverService::KIND.to_string(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// Every generated object that concerns it, its own and its backing services', once,
    /// sorted by cluster, kind, namespace and name.
    pub fn all_generated(&self) -> Vec<&Drift> {
        let mut seen: BTreeSet<&ObjectKey> = BTreeSet::new();
        let mut out: Vec<&Drift> = self
            .generated
            .iter()
            .chain(
                self.backing_services
                    .iter()
                    .flat_map(|b| b.generated.iter()),
            )
            .filter(|d| seen.insert(&d.key))
            .collect();
        out.sort();
        out
    }

    /// The generated objects as `drill::preflight` takes them (unexpected ones left out).
    pub fn preflight_generated(&self) -> Vec<DeployedObject> {
        self.all_generated()
            .into_iter()
            .filter_map(|d| {
                let state = match &d.state {
                    DriftState::InSync => GeneratedState::InSync,
                    DriftState::Missing => GeneratedState::Missing,
                    DriftState::Modified { .. } | DriftState::Unknown { .. } => {
                        GeneratedState::Drifted(
                            d.state
                                .to_string()
                                .trim_start_matches("modified")
                                .trim_start_matches(' ')
                                .trim_start_matches(": ")
                                .to_string(),
                        )
                    }
                    DriftState::OutOfDate { fields, invalid } => GeneratedState::OutOfDate {
                        fields: fields.clone(),
                        invalid: invalid.clone(),
                    },
                    DriftState::Unexpected => return None,
                };
                Some(DeployedObject {
                    cluster: d.key.cluster.clone(),
                    object: format!("{} {}/{}", d.key.kind, d.key.namespace, d.key.name),
                    state,
                })
            })
            .collect()
    }

    /// Backing health as `drill::preflight` takes it, with the outlier detection callers in
    /// `client_cluster` get (the first calling cluster when it is not one of them).
    pub fn preflight_backing(&self, client_cluster: &str) -> Vec<BackingHealth> {
        self.backing_services
            .iter()
            .map(|b| {
                let od = b
                    .outlier_detection
                    .iter()
                    .find(|o| o.client_cluster == client_cluster)
                    .or(b.outlier_detection.first());
                BackingHealth {
                    service: crate::model::types::ClusterObjectRef {
                        name: b.name.clone(),
                        namespace: b.namespace.clone(),
                        cluster_name: b.cluster.clone(),
                    },
                    outlier: od.and_then(|o| o.settings.clone()),
                    ready_endpoints: b.endpoints.map_or(0, |e| e.ready),
                }
            })
            .collect()
    }
}

/// A traffic target a TrafficPolicy selects, with its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetView {
    /// SMH cluster name of the target's Service.
    pub cluster: String,
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// SMH's status key, e.g. `reviews-bookinfo-mgmt-cluster.service-mesh-hub.`.
    pub key: String,
    /// The state in `status.trafficTargets`, or `-` when the status has no entry for it.
    pub state: String,
    /// The errors of its status entry.
    pub errors: Vec<String>,
}

/// `describe trafficpolicy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPolicyView {
    /// The TrafficPolicy's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its SMH status.
    pub status: StatusView,
    /// The source workloads, in words.
    pub source_selector: Vec<String>,
    /// The destination selectors, in words.
    pub destination_selector: Vec<String>,
    /// The fields it sets, in words (outlier detection with SMH's defaults filled in).
    pub sets: Vec<String>,
    /// The traffic targets it selects, with their status.
    pub targets: Vec<TargetView>,
    /// The objects generated from it, and how they stand in the clusters.
    pub generated: Vec<Drift>,
    /// Every problem found, errors first.
    pub problems: Vec<Problem>,
}

/// `describe mesh`: one cluster and its Istio control plane.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshView {
    /// SMH cluster name.
    pub cluster: String,
    /// The kubeconfig context used for it.
    pub context: String,
    /// The API server URL (no credentials).
    pub server: String,
    /// True for the management cluster.
    pub mgmt: bool,
    /// Reachable and read.
    pub reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Why the cluster could not be read, if so.
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The API server's version (`v1.33.1`), when read.
    pub kubernetes_version: Option<String>,
    /// SMH's mesh name, `istiod-istio-system-mgmt-cluster`; `None`: no Istio here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh: Option<String>,
    /// `istio-system/istiod`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istiod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// istiod's Deployment replica counts (desired, ready, available).
    pub istiod_availability: Option<Availability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Istio's version, from istiod's image tag.
    pub istio_version: Option<String>,
    /// The version could not be read from istiod's image; a default is assumed.
    pub istio_version_assumed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The multi-cluster mode chosen for this mesh, and why.
    pub mode: Option<ModeDecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Istio's root namespace, from istiod's mesh config (`istio-system` by default).
    pub root_namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The cluster's DNS domain (`cluster.local` unless Istio's injector values say otherwise).
    pub cluster_domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Where the cluster domain came from (a setting, or the default).
    pub cluster_domain_source: Option<String>,
    /// The served version of `networking.istio.io`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istio_api_version: Option<String>,
    /// Istio's cluster ID (istiod's `CLUSTER_ID`, the `topology.istio.io/cluster` label of
    /// this cluster's endpoints); `None` when it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istio_cluster_id: Option<String>,
    /// Where it came from, or why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istio_cluster_id_source: Option<String>,
    /// istiod's remote secrets and the cluster IDs they name; `None` when not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_secrets: Option<Vec<super::discovery::RemoteSecret>>,
    /// Set when the mesh runs Istio's ambient data plane (ztunnel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ambient: Option<AmbientMeshView>,
    /// FailoverServices whose hostname this mesh sees (`namespace/name`).
    pub failover_services: Vec<String>,
    /// What discovery could not determine, in words.
    pub warnings: Vec<String>,
    /// Problems with its cluster ID or remote secrets (multi-primary mode), each with what
    /// to do.
    pub problems: Vec<Problem>,
}

/// What an ambient mesh has for ambient mode across clusters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AmbientMeshView {
    /// The cluster's Istio network (`topology.istio.io/network` on istiod's namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// istiod's `AMBIENT_ENABLE_MULTI_NETWORK`.
    pub multi_network: bool,
    /// How many `serviceScopeConfigs` entries make Services global.
    pub global_scopes: usize,
    /// The east-west gateways: `namespace/name` → network at address.
    pub east_west_gateways: Vec<String>,
}

/// What `describe` prints for `-o json|yaml`: one of the three lists, plus every cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeDocument {
    /// Every cluster of the run, management cluster first.
    pub clusters: Vec<ClusterRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Set for `describe failoverservice`.
    pub failover_services: Option<Vec<FailoverServiceView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Set for `describe trafficpolicy`.
    pub traffic_policies: Option<Vec<TrafficPolicyView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Set for `describe mesh`.
    pub meshes: Option<Vec<MeshView>>,
}

/// Every cluster of the snapshot, mgmt first.
pub fn cluster_rows(snap: &Snapshot) -> Vec<ClusterRow> {
    let mut rows: Vec<ClusterRow> = snap.clusters.values().map(cluster_row).collect();
    rows.sort_by(|a, b| b.mgmt.cmp(&a.mgmt).then(a.name.cmp(&b.name)));
    rows
}

fn cluster_row(c: &ClusterView) -> ClusterRow {
    ClusterRow {
        name: c.name.clone(),
        context: c.context.clone(),
        server: c.server.clone(),
        mgmt: c.mgmt,
        error: c.error.clone(),
        stale_since: c.stale_since.clone(),
    }
}

#[cfg(test)]
#[path = "describe_tests.rs"]
mod tests;
