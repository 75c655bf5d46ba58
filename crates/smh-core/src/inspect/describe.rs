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

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::discovery::ModeDecision;
use super::drift::{Drift, DriftState, ObjectKey};
use super::snapshot::{Availability, ClusterView, EndpointCount, ServiceRef, Snapshot};
use crate::drill::outlier::OutlierSettings;
use crate::drill::preflight::{BackingHealth, DeployedObject, GeneratedState};
use crate::model::diag::{ObjectId, Severity};
use crate::model::duration::format_proto_duration;
use crate::model::naming::traffic_target_key;
use crate::model::select;
use crate::model::topology::MultiClusterMode;
use crate::model::types::{
    ApprovalState, FailoverService, OutlierDetection, TrafficPolicy, outlier_defaults,
};
use crate::model::{Manifest, SmhObject};
use crate::translate::virtual_service::multi_primary_subset_name;

/// A problem, in words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub severity: Severity,
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
    pub name: String,
    pub context: String,
    pub server: String,
    pub mgmt: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
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
    pub observed_generation: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
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
    pub number: u32,
    pub protocol: String,
}

/// A mesh a FailoverService lists, and the cluster that runs it (when known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshRefView {
    pub name: String,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

/// Outlier detection values in effect (Istio's defaults filled in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlierValues {
    #[serde(rename = "consecutive5xxErrors")]
    pub consecutive_5xx_errors: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_gateway_errors: Option<u32>,
    pub interval: String,
    pub base_ejection_time: String,
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
    pub settings: Option<OutlierSettings>,
}

/// `primary` (the first backing service) or `secondary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Secondary,
}

/// One backing service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackingView {
    /// 1 = highest.
    pub priority: usize,
    pub role: Role,
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    /// Why its cluster could not be read, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_error: Option<String>,
    /// Whether the service exists with sidecar workloads (SMH's "discovered"); `None` when
    /// its cluster could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovered: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<EndpointCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
    pub cluster: String,
    pub text: String,
}

/// `describe failoverservice`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverServiceView {
    pub name: String,
    pub namespace: String,
    pub hostname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<PortView>,
    pub meshes: Vec<MeshRefView>,
    pub status: StatusView,
    pub backing_services: Vec<BackingView>,
    /// Objects generated from this FailoverService itself (ServiceEntry, EnvoyFilter, ...).
    pub generated: Vec<Drift>,
    /// TrafficPolicies that concern it: outlier detection on a backing service, or a
    /// traffic shift to it (`namespace/name`).
    pub traffic_policies: Vec<String>,
    pub explanations: Vec<ExplanationView>,
    pub problems: Vec<Problem>,
}

impl FailoverServiceView {
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
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    /// SMH's status key, e.g. `reviews-bookinfo-mgmt-cluster.service-mesh-hub.`.
    pub key: String,
    /// The state in `status.trafficTargets`, or `-` when the status has no entry for it.
    pub state: String,
    pub errors: Vec<String>,
}

/// `describe trafficpolicy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPolicyView {
    pub name: String,
    pub namespace: String,
    pub status: StatusView,
    /// The source workloads, in words.
    pub source_selector: Vec<String>,
    /// The destination selectors, in words.
    pub destination_selector: Vec<String>,
    /// The fields it sets, in words (outlier detection with SMH's defaults filled in).
    pub sets: Vec<String>,
    pub targets: Vec<TargetView>,
    pub generated: Vec<Drift>,
    pub problems: Vec<Problem>,
}

/// `describe mesh`: one cluster and its Istio control plane.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshView {
    pub cluster: String,
    pub context: String,
    pub server: String,
    pub mgmt: bool,
    /// Reachable and read.
    pub reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// SMH's mesh name, `istiod-istio-system-mgmt-cluster`; `None`: no Istio here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh: Option<String>,
    /// `istio-system/istiod`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istiod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istiod_availability: Option<Availability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istio_version: Option<String>,
    /// The version could not be read from istiod's image; a default is assumed.
    pub istio_version_assumed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<ModeDecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
    /// FailoverServices whose hostname this mesh sees (`namespace/name`).
    pub failover_services: Vec<String>,
    pub warnings: Vec<String>,
    /// Problems with its cluster ID or remote secrets (multi-primary mode), each with what
    /// to do.
    pub problems: Vec<Problem>,
}

/// What `describe` prints for `-o json|yaml`: one of the three lists, plus every cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeDocument {
    pub clusters: Vec<ClusterRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover_services: Option<Vec<FailoverServiceView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_policies: Option<Vec<TrafficPolicyView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
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

// ---------------------------------------------------------------------------------------
// FailoverService
// ---------------------------------------------------------------------------------------

/// Indexes shared by the views of one snapshot.
struct Index<'a> {
    snap: &'a Snapshot,
    /// Drift by owner.
    by_owner: BTreeMap<&'a ObjectId, Vec<&'a Drift>>,
    /// Generated objects by (cluster, host) of their expected spec (`host` or `hosts`).
    by_host: BTreeMap<(String, String), Vec<&'a Drift>>,
    /// Live DestinationRules per (cluster, host).
    live_drs: BTreeMap<(&'a str, &'a str), Vec<&'a Value>>,
    /// The traffic targets each TrafficPolicy selects (parallel to `snap.traffic_policies`).
    tp_targets: Vec<BTreeSet<ServiceRef>>,
    /// Problems with the Istio cluster IDs of multi-primary meshes.
    id_findings: Vec<super::cluster_id::IdFinding>,
}

fn hosts_of(v: &Value) -> Vec<String> {
    let spec = v.get("spec");
    let mut out: Vec<String> = spec
        .and_then(|s| s.get("host"))
        .and_then(Value::as_str)
        .map(|h| vec![h.to_string()])
        .unwrap_or_default();
    if let Some(hs) = spec.and_then(|s| s.get("hosts")).and_then(Value::as_array) {
        out.extend(hs.iter().filter_map(Value::as_str).map(str::to_string));
    }
    out
}

impl<'a> Index<'a> {
    fn new(snap: &'a Snapshot, drift: &'a [Drift]) -> Self {
        let mut by_owner: BTreeMap<&ObjectId, Vec<&Drift>> = BTreeMap::new();
        for d in drift {
            for o in &d.owners {
                by_owner.entry(o).or_default().push(d);
            }
        }
        let mut expected_hosts: BTreeMap<ObjectKey, Vec<String>> = BTreeMap::new();
        for g in &snap.expected.objects {
            let v = g.to_value();
            expected_hosts.insert(ObjectKey::of_generated(g), hosts_of(&v));
        }
        let mut by_host: BTreeMap<(String, String), Vec<&Drift>> = BTreeMap::new();
        for d in drift {
            for h in expected_hosts.remove(&d.key).unwrap_or_default() {
                by_host
                    .entry((d.key.cluster.clone(), h))
                    .or_default()
                    .push(d);
            }
        }
        let targets = select::TargetIndex::new(&snap.topology);
        let tp_targets = snap
            .traffic_policies
            .iter()
            .map(|tp| {
                targets
                    .policy_targets(tp)
                    .into_iter()
                    .map(|i| {
                        let t = targets.targets()[i];
                        ServiceRef {
                            cluster: t.cluster.name.clone(),
                            namespace: t.service.namespace.clone(),
                            name: t.service.name.clone(),
                        }
                    })
                    .collect()
            })
            .collect();
        let mut live_drs: BTreeMap<(&str, &str), Vec<&Value>> = BTreeMap::new();
        for (cluster, objects) in &snap.live {
            let Ok(objects) = objects else { continue };
            for o in objects {
                if o.get("kind").and_then(Value::as_str) != Some("DestinationRule") {
                    continue;
                }
                if let Some(h) = o.pointer("/spec/host").and_then(Value::as_str) {
                    live_drs.entry((cluster.as_str(), h)).or_default().push(o);
                }
            }
        }
        for v in live_drs.values_mut() {
            v.sort_by_key(|o| {
                (
                    o.pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    o.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                )
            });
        }
        Index {
            snap,
            by_owner,
            by_host,
            live_drs,
            tp_targets,
            id_findings: super::cluster_id::findings(snap),
        }
    }

    /// The host by which callers in `client` reach backing service `b`.
    fn host_for(&self, b: &ServiceRef, client: &str) -> String {
        match self.snap.mode(client) {
            MultiClusterMode::Global if b.cluster != client => {
                format!("{}.{}.svc.{}.global", b.name, b.namespace, b.cluster)
            }
            _ => format!(
                "{}.{}.svc.{}",
                b.name,
                b.namespace,
                self.snap.domain(client)
            ),
        }
    }

    /// The generated objects that concern backing service `b`: those for its
    /// `.global` host in any cluster, and those for its local host in its own cluster or in
    /// a multi-primary cluster (where the local host has every cluster's endpoints). Sorted,
    /// each once.
    fn concerning(&self, b: &ServiceRef) -> Vec<Drift> {
        let global = format!("{}.{}.svc.{}.global", b.name, b.namespace, b.cluster);
        let mut out: BTreeSet<&Drift> = BTreeSet::new();
        for cluster in self.snap.clusters.keys() {
            if let Some(v) = self.by_host.get(&(cluster.clone(), global.clone())) {
                out.extend(v.iter().copied());
            }
            if *cluster == b.cluster || self.snap.mode(cluster) == MultiClusterMode::MultiPrimary {
                let local = format!(
                    "{}.{}.svc.{}",
                    b.name,
                    b.namespace,
                    self.snap.domain(cluster)
                );
                if let Some(v) = self.by_host.get(&(cluster.clone(), local)) {
                    out.extend(v.iter().copied());
                }
            }
        }
        out.into_iter().cloned().collect()
    }

    fn outlier(&self, b: &ServiceRef, client: &str, port: Option<u32>) -> OutlierView {
        let host = self.host_for(b, client);
        let mut view = OutlierView {
            client_cluster: client.to_string(),
            host: host.clone(),
            source: None,
            values: None,
            error: None,
            settings: None,
        };
        if let Some(Err(e)) = self.snap.live.get(client) {
            view.error = Some(e.clone());
            return view;
        }
        let Some(dr) = self
            .live_drs
            .get(&(client, host.as_str()))
            .and_then(|v| v.first())
        else {
            return view;
        };
        let name = format!(
            "DestinationRule {}/{}",
            dr.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            dr.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        );
        // Multi-primary: the backing service's per-cluster subset, when it has its own.
        let mut from_subset = None;
        if self.snap.mode(client) == MultiClusterMode::MultiPrimary {
            let subset = multi_primary_subset_name(&b.cluster, &BTreeMap::new());
            let policy = dr
                .pointer("/spec/subsets")
                .and_then(Value::as_array)
                .and_then(|subs| {
                    subs.iter()
                        .find(|s| s.get("name").and_then(Value::as_str) == Some(subset.as_str()))
                })
                .and_then(|s| s.get("trafficPolicy"));
            if let Some(p) = policy {
                let wrapped = serde_json::json!({"spec": {"trafficPolicy": p}});
                let source = format!("{name} subset {subset}");
                match OutlierSettings::from_destination_rule(&source, &wrapped, port) {
                    Ok(Some(s)) => from_subset = Some((source, s)),
                    Ok(None) => {}
                    Err(e) => {
                        view.source = Some(source);
                        view.error = Some(e);
                        return view;
                    }
                }
            }
        }
        let settings = match from_subset {
            Some((source, s)) => {
                view.source = Some(source);
                Some(s)
            }
            None => {
                view.source = Some(name.clone());
                match OutlierSettings::from_destination_rule(&name, dr, port) {
                    Ok(s) => s,
                    Err(e) => {
                        view.error = Some(e);
                        return view;
                    }
                }
            }
        };
        view.values = settings.as_ref().map(OutlierValues::of);
        view.settings = settings;
        view
    }
}

/// The FailoverServices of the snapshot (all, or those named `name`, in `namespace` when
/// given), sorted by namespace and name. `drift` is [`Snapshot::drift`].
pub fn failover_services(
    snap: &Snapshot,
    drift: &[Drift],
    name: Option<&str>,
    namespace: Option<&str>,
) -> Vec<FailoverServiceView> {
    let index = Index::new(snap, drift);
    let mut out: Vec<FailoverServiceView> = snap
        .failover_services
        .iter()
        .filter(|fs| name.is_none_or(|n| fs.metadata.name.as_deref() == Some(n)))
        .filter(|fs| namespace.is_none_or(|n| fs.metadata.namespace.as_deref() == Some(n)))
        .map(|fs| failover_service(&index, fs))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

fn fs_status(fs: &FailoverService) -> StatusView {
    let mut errors = Vec::new();
    let (state, observed) = match &fs.status {
        None => (None, 0),
        Some(s) => {
            errors.extend(s.errors.iter().cloned());
            for (k, m) in &s.meshes {
                errors.extend(m.errors.iter().map(|e| format!("{k}: {e}")));
            }
            (Some(s.state), s.observed_generation)
        }
    };
    StatusView::new(state, observed, fs.metadata.generation, errors)
}

fn status_problems(kind: &str, ns: &str, name: &str, s: &StatusView, never: bool) -> Vec<Problem> {
    let mut out = Vec::new();
    if never {
        out.push(Problem::error(format!(
            "{kind} {ns}/{name} has no status (PENDING): it was stored without `kubectl smh apply`, so nothing was generated for it; apply its manifest with `kubectl smh apply -f FILE`"
        )));
        return out;
    }
    if !s.is_accepted() {
        let why = if s.errors.is_empty() {
            String::new()
        } else {
            format!(": {}", s.errors.join("; "))
        };
        out.push(Problem::error(format!(
            "{kind} {ns}/{name} is {}, not ACCEPTED{why}",
            s.state
        )));
    }
    if !s.up_to_date {
        out.push(Problem::error(format!(
            "the status of {kind} {ns}/{name} is for generation {} but its spec is at generation {}: its spec was changed without `kubectl smh apply`, so the generated objects may not match it",
            s.observed_generation,
            s.generation.unwrap_or_default()
        )));
    }
    out
}

fn drift_problems<'a>(drifts: impl Iterator<Item = &'a Drift>) -> Vec<Problem> {
    drifts
        .filter_map(|d| {
            let message = d.problem()?;
            Some(match d.state {
                DriftState::Unknown { .. } => Problem::warning(message),
                _ => Problem::error(message),
            })
        })
        .collect()
}

fn failover_service(index: &Index<'_>, fs: &FailoverService) -> FailoverServiceView {
    let snap = index.snap;
    let name = fs.metadata.name.clone().unwrap_or_default();
    let namespace = fs.metadata.namespace.clone().unwrap_or_default();
    let id = ObjectId {
        kind: FailoverService::KIND.to_string(),
        namespace: namespace.clone(),
        name: name.clone(),
    };
    let status = fs_status(fs);
    let mut problems = status_problems(
        FailoverService::KIND,
        &namespace,
        &name,
        &status,
        fs.status.is_none(),
    );

    let meshes: Vec<MeshRefView> = fs
        .spec
        .meshes
        .iter()
        .flatten()
        .map(|m| MeshRefView {
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            cluster: snap.mesh_cluster(&m.name).map(str::to_string),
        })
        .collect();
    for m in meshes.iter().filter(|m| m.cluster.is_none()) {
        problems.push(Problem::error(format!(
            "mesh {}.{} is not run by any cluster that answered (SMH names a mesh istiod-<namespace>-<cluster>): the hostname is generated nowhere for it",
            m.name, m.namespace
        )));
    }
    let clients: Vec<&str> = meshes.iter().filter_map(|m| m.cluster.as_deref()).collect();
    let port = fs.spec.port.as_ref().map(|p| p.number);

    let services: Vec<ServiceRef> = fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
        .map(ServiceRef::of)
        .collect();
    let mut backing_services = Vec::new();
    for (i, s) in services.iter().enumerate() {
        let cluster_error = snap
            .clusters
            .get(&s.cluster)
            .and_then(|c| c.error.clone())
            .or_else(|| {
                (!snap.clusters.contains_key(&s.cluster))
                    .then(|| format!("cluster {} was not read", s.cluster))
            });
        let discovered = if cluster_error.is_some() {
            None
        } else {
            Some(
                select::find_traffic_target(&snap.topology, &s.name, &s.namespace, &s.cluster)
                    .is_some(),
            )
        };
        let (endpoints, endpoints_error) = match snap.endpoints.get(s) {
            Some(Ok(e)) => (Some(*e), None),
            Some(Err(e)) => (None, Some(e.clone())),
            None => (None, cluster_error.clone()),
        };
        let outlier_detection: Vec<OutlierView> =
            clients.iter().map(|c| index.outlier(s, c, port)).collect();
        let generated = index.concerning(s);
        let in_sync = if generated
            .iter()
            .any(|d| matches!(d.state, DriftState::Unknown { .. }))
        {
            None
        } else {
            Some(generated.iter().all(|d| d.state.is_in_sync()))
        };
        backing_services.push(BackingView {
            priority: i + 1,
            role: if i == 0 {
                Role::Primary
            } else {
                Role::Secondary
            },
            cluster: s.cluster.clone(),
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            cluster_error,
            discovered,
            endpoints,
            endpoints_error,
            outlier_detection,
            generated,
            in_sync,
        });
    }
    problems.extend(backing_problems(&backing_services));
    problems.extend(cluster_id_problems(
        snap,
        &index.id_findings,
        &clients,
        &services,
    ));

    let generated: Vec<Drift> = index
        .by_owner
        .get(&id)
        .map(|v| v.iter().map(|d| (*d).clone()).collect())
        .unwrap_or_default();

    // Drift, each object once.
    let mut seen = BTreeSet::new();
    let all = generated
        .iter()
        .chain(backing_services.iter().flat_map(|b| b.generated.iter()))
        .filter(|d| seen.insert(d.key.clone()));
    problems.extend(drift_problems(all));

    let related = related_policies(index, fs, &services);
    let explanations = explanations(snap, fs, &related);

    FailoverServiceView {
        name,
        namespace,
        hostname: fs.spec.hostname.clone(),
        port: fs.spec.port.as_ref().map(|p| PortView {
            number: p.number,
            protocol: p.protocol.clone(),
        }),
        meshes,
        status,
        backing_services,
        generated,
        traffic_policies: related
            .iter()
            .map(|tp| {
                format!(
                    "{}/{}",
                    tp.metadata.namespace.as_deref().unwrap_or_default(),
                    tp.metadata.name.as_deref().unwrap_or_default()
                )
            })
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect(),
        explanations,
        problems,
    }
}

/// The problems of a FailoverService's backing services: existence, endpoints, outlier
/// detection in effect.
pub(crate) fn backing_problems(backing: &[BackingView]) -> Vec<Problem> {
    let mut out = Vec::new();
    for b in backing {
        let svc = b.service();
        if let Some(e) = &b.cluster_error {
            out.push(Problem::warning(format!(
                "the cluster of backing service {svc} could not be read, so its endpoints and generated objects are unknown: {e}"
            )));
            continue;
        }
        if b.discovered == Some(false) {
            out.push(Problem::error(format!(
                "backing service {svc} does not exist with sidecar workloads (SMH's \"Backing service {}.{}.{} not found\"): failover has nothing to send to it",
                b.name, b.namespace, b.cluster
            )));
        }
        if let Some(e) = &b.endpoints_error {
            out.push(Problem::warning(format!(
                "the endpoints of backing service {svc} could not be read: {e}"
            )));
        }
        for od in &b.outlier_detection {
            if let Some(e) = &od.error {
                out.push(Problem::warning(format!(
                    "the outlier detection of backing service {svc} for callers in {} could not be read: {e}",
                    od.client_cluster
                )));
                continue;
            }
            let Some(s) = &od.settings else {
                out.push(Problem::error(format!(
                    "backing service {svc} has no outlier detection for callers in {} (no DestinationRule for {} sets trafficPolicy.outlierDetection): Envoy never ejects its hosts, so nothing fails over; apply a TrafficPolicy with outlierDetection that selects it",
                    od.client_cluster, od.host
                )));
                continue;
            };
            let source = od.source.as_deref().unwrap_or("its DestinationRule");
            if s.errors_to_eject().is_none() {
                out.push(Problem::error(format!(
                    "backing service {svc}: the outlier detection of {source} in {} ejects on nothing (consecutive5xxErrors is 0 and consecutiveGatewayErrors is unset)",
                    od.client_cluster
                )));
            }
            let pct = s.effective_max_ejection_percent();
            if pct < 100 {
                let why = if s.max_ejection_percent.is_none() {
                    " (unset: Istio's default)"
                } else {
                    ""
                };
                out.push(Problem::warning(format!(
                    "backing service {svc}: maxEjectionPercent is {pct}{why} in {source} in {}: Envoy ejects at most {pct}% of its hosts, so with few hosts a broken service keeps receiving traffic; set maxEjectionPercent: 100",
                    od.client_cluster
                )));
            }
        }
    }
    let ready = |b: &BackingView| b.endpoints.map(|e| e.ready);
    if let Some(primary) = backing.first()
        && ready(primary) == Some(0)
    {
        let total = primary.endpoints.map_or(0, |e| e.total);
        out.push(Problem::warning(format!(
            "the primary {} has no ready endpoints (0 of {total}): callers are failed over, or get errors if no secondary answers",
            primary.service()
        )));
    }
    let secondaries = backing.get(1..).unwrap_or_default();
    let empty: Vec<&BackingView> = secondaries.iter().filter(|b| ready(b) == Some(0)).collect();
    if !secondaries.is_empty() && empty.len() == secondaries.len() {
        let names: Vec<String> = empty.iter().map(|b| b.service().to_string()).collect();
        out.push(Problem::error(format!(
            "the secondary {} has no ready endpoints: failover would have nowhere to go",
            names.join(", ")
        )));
    } else {
        for b in empty {
            out.push(Problem::warning(format!(
                "the secondary {} has no ready endpoints: failover skips it",
                b.service()
            )));
        }
    }
    out
}

/// The cluster-ID problems that concern failover from multi-primary `clients` to
/// `services`: a client's remote secret for a backing service's cluster, and the ID of a
/// backing service's cluster itself. Each once.
pub fn cluster_id_problems(
    snap: &Snapshot,
    findings: &[super::cluster_id::IdFinding],
    clients: &[&str],
    services: &[ServiceRef],
) -> Vec<Problem> {
    let mut out: BTreeSet<Problem> = BTreeSet::new();
    for client in clients
        .iter()
        .filter(|c| snap.mode(c) == MultiClusterMode::MultiPrimary)
    {
        for s in services {
            for f in findings {
                let about_secret = f.cluster == *client && f.peer.as_deref() == Some(&s.cluster);
                let about_id = f.cluster == s.cluster && f.peer.is_none();
                if about_secret || about_id {
                    out.insert(Problem {
                        severity: f.severity,
                        message: format!("{}; {}", f.message, f.hint),
                    });
                }
            }
        }
    }
    out.into_iter().collect()
}

/// TrafficPolicies that select one of `services` or shift traffic to `fs`, in snapshot order.
fn related_policies<'a>(
    index: &Index<'a>,
    fs: &FailoverService,
    services: &[ServiceRef],
) -> Vec<&'a TrafficPolicy> {
    let fs_name = fs.metadata.name.as_deref().unwrap_or_default();
    let fs_ns = fs.metadata.namespace.as_deref().unwrap_or_default();
    index
        .snap
        .traffic_policies
        .iter()
        .zip(&index.tp_targets)
        .filter(|(tp, targets)| {
            let shifts = tp
                .spec
                .traffic_shift
                .iter()
                .flat_map(|t| t.destinations.iter())
                .filter_map(|d| d.failover_service.as_ref())
                .any(|d| d.name == fs_name && d.namespace == fs_ns);
            shifts || services.iter().any(|s| targets.contains(s))
        })
        .map(|(tp, _)| tp)
        .collect()
}

/// The translation's topology-dependent choices for `fs` and the policies that concern it.
fn explanations(
    snap: &Snapshot,
    fs: &FailoverService,
    related: &[&TrafficPolicy],
) -> Vec<ExplanationView> {
    let mut manifests: Vec<Manifest> = related
        .iter()
        .map(|tp| Manifest {
            source: crate::model::diag::Source {
                file: "describe".into(),
                doc: 0,
                line: None,
            },
            object: SmhObject::TrafficPolicy((*tp).clone()),
        })
        .collect();
    manifests.push(Manifest {
        source: crate::model::diag::Source {
            file: "describe".into(),
            doc: manifests.len(),
            line: None,
        },
        object: SmhObject::FailoverService(fs.clone()),
    });
    crate::translate::explain(&manifests, &snap.topology)
        .into_iter()
        .map(|e| ExplanationView {
            cluster: e.cluster,
            text: e.text,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// TrafficPolicy
// ---------------------------------------------------------------------------------------

/// The TrafficPolicies of the snapshot (all, or those named `name`, in `namespace` when
/// given), sorted by namespace and name.
pub fn traffic_policies(
    snap: &Snapshot,
    drift: &[Drift],
    name: Option<&str>,
    namespace: Option<&str>,
) -> Vec<TrafficPolicyView> {
    let index = Index::new(snap, drift);
    let mut out: Vec<TrafficPolicyView> = snap
        .traffic_policies
        .iter()
        .filter(|tp| name.is_none_or(|n| tp.metadata.name.as_deref() == Some(n)))
        .filter(|tp| namespace.is_none_or(|n| tp.metadata.namespace.as_deref() == Some(n)))
        .map(|tp| traffic_policy(&index, tp))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

fn traffic_policy(index: &Index<'_>, tp: &TrafficPolicy) -> TrafficPolicyView {
    let snap = index.snap;
    let name = tp.metadata.name.clone().unwrap_or_default();
    let namespace = tp.metadata.namespace.clone().unwrap_or_default();
    let id = ObjectId {
        kind: TrafficPolicy::KIND.to_string(),
        namespace: namespace.clone(),
        name: name.clone(),
    };
    let mut errors = Vec::new();
    let (state, observed) = match &tp.status {
        None => (None, 0),
        Some(s) => {
            errors.extend(s.errors.iter().cloned());
            for (k, t) in &s.traffic_targets {
                errors.extend(t.errors.iter().map(|e| format!("{k}: {e}")));
            }
            (Some(s.state), s.observed_generation)
        }
    };
    let status = StatusView::new(state, observed, tp.metadata.generation, errors);
    let mut problems = status_problems(
        TrafficPolicy::KIND,
        &namespace,
        &name,
        &status,
        tp.status.is_none(),
    );

    let targets: Vec<TargetView> = select::traffic_policy_targets(tp, &snap.topology)
        .into_iter()
        .map(|t| {
            let key = traffic_target_key(&t.service.name, &t.service.namespace, &t.cluster.name);
            let st = tp.status.as_ref().and_then(|s| s.traffic_targets.get(&key));
            TargetView {
                cluster: t.cluster.name.clone(),
                namespace: t.service.namespace.clone(),
                name: t.service.name.clone(),
                state: st.map_or("-".to_string(), |s| s.state.as_str().to_string()),
                errors: st.map(|s| s.errors.clone()).unwrap_or_default(),
                key,
            }
        })
        .collect();
    if targets.is_empty() {
        let unread: Vec<&str> = snap
            .clusters
            .values()
            .filter(|c| c.error.is_some())
            .map(|c| c.name.as_str())
            .collect();
        let also = if unread.is_empty() {
            String::new()
        } else {
            format!(
                " among the clusters that answered ({} could not be read)",
                unread.join(", ")
            )
        };
        problems.push(Problem::warning(format!(
            "TrafficPolicy {namespace}/{name} selects no traffic target{also}: it has no effect"
        )));
    }
    let generated: Vec<Drift> = index
        .by_owner
        .get(&id)
        .map(|v| v.iter().map(|d| (*d).clone()).collect())
        .unwrap_or_default();
    problems.extend(drift_problems(generated.iter()));

    TrafficPolicyView {
        source_selector: source_selector_words(tp),
        destination_selector: destination_selector_words(tp),
        sets: sets_words(tp),
        name,
        namespace,
        status,
        targets,
        generated,
        problems,
    }
}

fn join_map(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn source_selector_words(tp: &TrafficPolicy) -> Vec<String> {
    if tp.spec.source_selector.is_empty() {
        return vec!["every workload".to_string()];
    }
    tp.spec
        .source_selector
        .iter()
        .map(|s| {
            let mut parts = Vec::new();
            if !s.labels.is_empty() {
                parts.push(format!("labels {}", join_map(&s.labels)));
            }
            if !s.namespaces.is_empty() {
                parts.push(format!("namespaces {}", s.namespaces.join(",")));
            }
            if !s.clusters.is_empty() {
                parts.push(format!("clusters {}", s.clusters.join(",")));
            }
            if parts.is_empty() {
                "every workload".to_string()
            } else {
                format!("workloads with {}", parts.join(", "))
            }
        })
        .collect()
}

fn destination_selector_words(tp: &TrafficPolicy) -> Vec<String> {
    if tp.spec.destination_selector.is_empty() {
        return vec!["every traffic target".to_string()];
    }
    tp.spec
        .destination_selector
        .iter()
        .map(|s| {
            if let Some(m) = &s.kube_service_matcher {
                let mut parts = Vec::new();
                if !m.labels.is_empty() {
                    parts.push(format!("labels {}", join_map(&m.labels)));
                }
                if !m.namespaces.is_empty() {
                    parts.push(format!("namespaces {}", m.namespaces.join(",")));
                }
                if !m.clusters.is_empty() {
                    parts.push(format!("clusters {}", m.clusters.join(",")));
                }
                if parts.is_empty() {
                    "kubeServiceMatcher: every service".to_string()
                } else {
                    format!("kubeServiceMatcher: services with {}", parts.join(", "))
                }
            } else if let Some(r) = &s.kube_service_refs {
                let refs: Vec<String> = r
                    .services
                    .iter()
                    .map(|s| format!("{}.{}@{}", s.name, s.namespace, s.cluster_name))
                    .collect();
                format!("kubeServiceRefs: {}", refs.join(", "))
            } else {
                "an empty selector (selects nothing)".to_string()
            }
        })
        .collect()
}

fn outlier_words(od: &OutlierDetection) -> String {
    let mark = |set: bool| if set { "" } else { " (SMH default)" };
    let errors = if od.consecutive_errors == 0 {
        outlier_defaults::CONSECUTIVE_ERRORS
    } else {
        od.consecutive_errors
    };
    let pct = if od.max_ejection_percent == 0 {
        outlier_defaults::MAX_EJECTION_PERCENT
    } else {
        od.max_ejection_percent
    };
    format!(
        "outlierDetection: consecutiveErrors {errors}{} (as consecutive5xxErrors), interval {}{}, baseEjectionTime {}{}, maxEjectionPercent {pct}{}",
        mark(od.consecutive_errors != 0),
        od.interval.as_deref().unwrap_or(outlier_defaults::INTERVAL),
        mark(od.interval.is_some()),
        od.base_ejection_time
            .as_deref()
            .unwrap_or(outlier_defaults::BASE_EJECTION_TIME),
        mark(od.base_ejection_time.is_some()),
        mark(od.max_ejection_percent != 0),
    )
}

fn sets_words(tp: &TrafficPolicy) -> Vec<String> {
    let s = &tp.spec;
    let mut out = Vec::new();
    if let Some(od) = &s.outlier_detection {
        out.push(outlier_words(od));
    }
    if let Some(shift) = &s.traffic_shift {
        let dests: Vec<String> = shift
            .destinations
            .iter()
            .map(|d| {
                let weight = if d.weight == 0 {
                    String::new()
                } else {
                    format!("{}% to ", d.weight)
                };
                if let Some(f) = &d.failover_service {
                    let subset = if f.subset.is_empty() {
                        String::new()
                    } else {
                        format!(" subset {}", join_map(&f.subset))
                    };
                    format!("{weight}FailoverService {}/{}{subset}", f.namespace, f.name)
                } else if let Some(k) = &d.kube_service {
                    let subset = if k.subset.is_empty() {
                        String::new()
                    } else {
                        format!(" subset {}", join_map(&k.subset))
                    };
                    let port = if k.port == 0 {
                        String::new()
                    } else {
                        format!(" port {}", k.port)
                    };
                    format!(
                        "{weight}service {}.{}@{}{subset}{port}",
                        k.name, k.namespace, k.cluster_name
                    )
                } else {
                    format!("{weight}(no destination)")
                }
            })
            .collect();
        out.push(format!("trafficShift: {}", dests.join("; ")));
    }
    if !s.http_request_matchers.is_empty() {
        out.push(format!(
            "httpRequestMatchers: {} matcher{}",
            s.http_request_matchers.len(),
            if s.http_request_matchers.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    if let Some(f) = &s.fault_injection {
        let what = if let Some(a) = &f.abort {
            format!("abort with HTTP {}", a.http_status)
        } else if let Some(d) = &f.fixed_delay {
            format!("delay {d}")
        } else if let Some(d) = &f.exponential_delay {
            format!("exponential delay {d}")
        } else {
            "nothing".to_string()
        };
        out.push(format!(
            "faultInjection: {what} for {}% of requests",
            f.percentage
        ));
    }
    if let Some(t) = &s.request_timeout {
        out.push(format!("requestTimeout: {t}"));
    }
    if let Some(r) = &s.retries {
        let per_try = r
            .per_try_timeout
            .as_deref()
            .map(|t| format!(", perTryTimeout {t}"))
            .unwrap_or_default();
        out.push(format!("retries: {} attempts{per_try}", r.attempts));
    }
    if s.cors_policy.is_some() {
        out.push("corsPolicy".to_string());
    }
    if let Some(m) = &s.mirror {
        let to = m
            .kube_service
            .as_ref()
            .map(|k| format!("{}.{}@{}", k.name, k.namespace, k.cluster_name))
            .unwrap_or_else(|| "(no service)".into());
        out.push(format!("mirror: {}% to {to}", m.percentage));
    }
    if s.header_manipulation.is_some() {
        out.push("headerManipulation".to_string());
    }
    if let Some(mode) = s
        .mtls
        .as_ref()
        .and_then(|m| m.istio.as_ref())
        .and_then(|i| i.tls_mode.as_deref())
    {
        out.push(format!("mtls: tlsMode {mode}"));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Mesh
// ---------------------------------------------------------------------------------------

/// Every cluster of the snapshot as a mesh row (or only the one whose cluster name or SMH
/// mesh name is `name`), mgmt first.
pub fn meshes(snap: &Snapshot, name: Option<&str>) -> Vec<MeshView> {
    let findings = super::cluster_id::findings(snap);
    let mut out: Vec<MeshView> = snap
        .clusters
        .values()
        .map(|c| mesh_view(snap, c, &findings))
        .filter(|m| name.is_none_or(|n| m.cluster == n || m.mesh.as_deref() == Some(n)))
        .collect();
    out.sort_by(|a, b| b.mgmt.cmp(&a.mgmt).then(a.cluster.cmp(&b.cluster)));
    out
}

fn mesh_view(
    snap: &Snapshot,
    c: &ClusterView,
    findings: &[super::cluster_id::IdFinding],
) -> MeshView {
    let topo = snap.topology.cluster(&c.name);
    let mesh = topo.and_then(|t| t.mesh.as_ref());
    let mesh_name = mesh.map(|m| m.smh_name(&c.name));
    let facts = c.facts.as_ref();
    let mut warnings: Vec<String> = facts.map(|f| f.warnings.clone()).unwrap_or_default();
    if let Some(e) = &c.istiod_error {
        warnings.push(format!("istiod's Deployment could not be read: {e}"));
    }
    let failover_services = match &mesh_name {
        None => Vec::new(),
        Some(mn) => snap
            .failover_services
            .iter()
            .filter(|fs| fs.spec.meshes.iter().flatten().any(|m| &m.name == mn))
            .map(|fs| {
                format!(
                    "{}/{}",
                    fs.metadata.namespace.as_deref().unwrap_or_default(),
                    fs.metadata.name.as_deref().unwrap_or_default()
                )
            })
            .collect(),
    };
    MeshView {
        cluster: c.name.clone(),
        context: c.context.clone(),
        server: c.server.clone(),
        mgmt: c.mgmt,
        reachable: c.error.is_none(),
        error: c.error.clone(),
        kubernetes_version: facts.map(|f| f.kubernetes_version.clone()),
        istiod: mesh.map(|m| format!("{}/{}", m.istiod_namespace, m.istiod_name)),
        istiod_availability: c.istiod.clone(),
        istio_version: mesh.map(|m| m.version.clone()),
        istio_version_assumed: facts.is_some_and(|f| f.istio_version_assumed),
        mode: facts.and_then(|f| f.mode.clone()),
        root_namespace: mesh.map(|m| m.root_namespace.clone()),
        cluster_domain: topo.map(|t| t.cluster_domain.clone()),
        cluster_domain_source: facts.map(|f| f.cluster_domain_source.clone()),
        istio_api_version: facts.and_then(|f| f.istio_api_version.clone()),
        istio_cluster_id: mesh.and_then(|m| m.cluster_id.clone()),
        istio_cluster_id_source: mesh.and(facts).and_then(|f| f.cluster_id_source.clone()),
        remote_secrets: mesh.and(facts).and_then(|f| f.remote_secrets.clone()),
        mesh: mesh_name,
        failover_services,
        warnings,
        problems: findings
            .iter()
            .filter(|f| f.cluster == c.name)
            .map(|f| Problem {
                severity: f.severity,
                message: format!("{}; {}", f.message, f.hint),
            })
            .collect(),
    }
}

#[cfg(test)]
#[path = "describe_tests.rs"]
mod tests;
