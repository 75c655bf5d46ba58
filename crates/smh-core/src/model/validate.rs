//! Validation: Service Mesh Hub v0.9.2's rules, with its message strings, plus field checks
//! a user needs and lint SMH never had.
//!
//! # What is checked, and where SMH would have reported it
//!
//! **FailoverService** (smh-api.md §4), in SMH's order hostname → port → backing services
//! → federation → meshes, every error collected:
//!
//! - pre-check: every `spec.meshes` entry must be a mesh of the topology (SMH name
//!   `istiod-<ns>-<cluster>` in `service-mesh-hub`), else
//!   `*v1alpha2.Mesh with id <name>.<ns>. not found` ([`StatusTarget::TopLevel`]);
//! - the rules. Their status target is [`StatusTarget::Mesh`] for every mesh in
//!   `spec.meshes` (SMH validated the FailoverService once per mesh it was applied to), so
//!   one problem yields one diagnostic per listed mesh. When the pre-check failed, or
//!   `spec.meshes` is missing or empty, SMH never got as far as the rules (no mesh applied
//!   the object): the errors are still reported, with no status target.
//!
//! "Exists" follows SMH: a backing service exists when the topology has it with
//! `sidecarWorkloads: true` (a TrafficTarget is discovered only then); every topology mesh
//! is Istio; VirtualMesh grouping comes from `topology.virtual_meshes` (none listed = all
//! meshes in one). "Has a TrafficPolicy with outlier detection" is checked against the
//! TrafficPolicies of the input: a policy counts for a service when one of its destination
//! selectors selects it ([`super::select`]), it sets `outlierDetection`, and it has no
//! errors itself.
//!
//! SMH's federation step repeats "not found" errors already reported by the pre-check and
//! the backing-service step; they are reported once here.
//!
//! **TrafficPolicy**: the pre-check `TrafficTarget <name>.<ns>.<cluster> not found` for
//! `kubeServiceRefs` ([`StatusTarget::TopLevel`]); then, for every traffic target the policy
//! selects, what SMH's translation reported for that target
//! ([`StatusTarget::TrafficTarget`]): traffic shift and mirror destinations
//! (`traffic-shift: invalid traffic shift destination ...`, the port rules) and
//! DestinationRule field conflicts between policies
//! (`outlier-detection: field outlierDetection is already owned by *v1alpha2.TrafficPolicy
//! [name.ns.] (priority 0)`; SMH printed a Go pointer for the field, we print the
//! DestinationRule field name, `outlierDetection` or `tls`). Policies are ordered per
//! target as SMH did: those whose status says ACCEPTED for the target first (by
//! `acceptanceOrder`), then by `name.namespace.`.
//!
//! **Field checks** (what the CRD schema, protobuf, the API server or istiod's validation
//! would reject; no status target): required reference fields, one-of fields, durations,
//! percentages, weights summing to 100, retry attempts ≥ 0, enums (`tlsMode`, HTTP
//! method), duplicate objects; and every value that ends up in a generated name, label or
//! Istio field against the limits of [`super::limits`]: cluster names (label values, at most
//! 63 characters), service names and namespaces (DNS-1123 labels), durations (at least 1ms,
//! whole milliseconds), fault percentages, abort statuses (200–599), `exponentialDelay`
//! (Istio rejects it), retries with `attempts: 0`, header names and values, regular
//! expressions, CORS methods and headers, source labels and namespaces, subset labels and
//! the subset names generated from them, the hostname's labels and the port name generated
//! from the protocol.
//!
//! **Lint** (warnings SMH never had; no status target): `maxEjectionPercent` below 100
//! (istio-failover.md B4); a backing service no TrafficPolicy with outlier detection
//! covers, when SMH's own rule cannot say so (the service is not in the topology, so SMH
//! stops at "not found"; when it is, SMH's error already says it and no warning is added);
//! a traffic shift to a FailoverService not in the input (an error, SMH's, when
//! [`ValidateOptions::complete`] says the input is everything that exists); two
//! FailoverServices with one hostname, or one name in two namespaces (their generated
//! ServiceEntry and EnvoyFilter names collide); a service that exists but has no sidecar
//! workloads; a policy that selects nothing; outlier detection with a source selector.

use std::collections::{BTreeMap, BTreeSet};

use super::diag::{Diagnostic, ObjectId, Severity, StatusTarget};
use super::duration::parse_duration;
use super::k8s;
use super::limits;
use super::naming::{mesh_key, object_key, subset_name};
use super::select::{self, TargetIndex, TrafficTarget};
use super::topology::Topology;
use super::types::{
    ClusterObjectRef, FailoverService, OutlierDetection, TrafficPolicy, outlier_defaults,
};
use super::{Manifest, SmhObject};
use crate::consts::SMH_NAMESPACE;

/// How to validate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidateOptions {
    /// The manifests are everything that exists (for example `apply` merged in the objects
    /// already in the management cluster). Then a traffic shift to a FailoverService not
    /// among them is SMH's error; otherwise (offline `validate` of some files) a warning.
    pub complete: bool,
    /// Objects present in the input but rejected by the parser ([`super::parse::Loaded::rejected`]):
    /// references to them are not reported as references to missing objects.
    pub rejected: Vec<ObjectId>,
}

/// Validate with default options (the input may be a part of what exists).
pub fn validate(manifests: &[Manifest], topology: &Topology) -> Vec<Diagnostic> {
    validate_with(manifests, topology, &ValidateOptions::default())
}

/// Validate manifests against a topology. Diagnostics come in input order (file, document),
/// and within an object in the order the rules run.
pub fn validate_with(
    manifests: &[Manifest],
    topology: &Topology,
    options: &ValidateOptions,
) -> Vec<Diagnostic> {
    let mut v = Validator::new(manifests, topology, options);
    v.run();
    let mut diags = v.diags;
    diags.sort_by(|a, b| a.source.cmp(&b.source));
    diags
}

/// `istio.io/istio/pkg/config/protocol.Parse` (case-insensitive); anything else is
/// `UnsupportedProtocol`.
pub fn is_istio_protocol(p: &str) -> bool {
    matches!(
        p.to_ascii_lowercase().as_str(),
        "tcp"
            | "udp"
            | "grpc"
            | "grpc-web"
            | "http"
            | "http_proxy"
            | "http2"
            | "https"
            | "tls"
            | "mongo"
            | "redis"
            | "mysql"
    )
}

/// SMH's `HttpMethodValue` enum names.
pub const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "HEAD", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];
/// SMH's `MTLS.Istio.TLSmode` enum names.
pub const TLS_MODES: &[&str] = &["DISABLE", "SIMPLE", "ISTIO_MUTUAL"];

fn object_id(m: &Manifest) -> ObjectId {
    let (kind, meta) = match &m.object {
        SmhObject::FailoverService(fs) => (FailoverService::KIND, &fs.metadata),
        SmhObject::TrafficPolicy(tp) => (TrafficPolicy::KIND, &tp.metadata),
    };
    ObjectId {
        kind: kind.to_string(),
        namespace: meta
            .namespace
            .clone()
            .unwrap_or_else(|| SMH_NAMESPACE.to_string()),
        name: meta.name.clone().unwrap_or_default(),
    }
}

/// A finding before it is attached to an object.
struct Finding {
    severity: Severity,
    field: String,
    message: String,
    status_target: Option<StatusTarget>,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding {
        severity: Severity::Error,
        field: field.into(),
        message: message.into(),
        status_target: None,
    }
}

fn warning(field: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding {
        severity: Severity::Warning,
        field: field.into(),
        message: message.into(),
        status_target: None,
    }
}

fn at(f: Finding, target: Option<StatusTarget>) -> Finding {
    Finding {
        status_target: target,
        ..f
    }
}

/// The outlier detection SMH writes into a DestinationRule (defaults applied), for
/// comparing two policies' values.
fn effective_outlier(od: &OutlierDetection) -> (u32, String, String, u32) {
    let dur = |v: &Option<String>, d: &str| {
        v.as_deref()
            .and_then(|s| parse_duration(s).ok())
            .filter(|d| !d.is_zero())
            .map(super::duration::format_proto_duration)
            .unwrap_or_else(|| d.to_string())
    };
    let nz = |v: u32, d: u32| if v == 0 { d } else { v };
    (
        nz(od.consecutive_errors, outlier_defaults::CONSECUTIVE_ERRORS),
        dur(&od.interval, outlier_defaults::INTERVAL),
        dur(&od.base_ejection_time, outlier_defaults::BASE_EJECTION_TIME),
        nz(
            od.max_ejection_percent,
            outlier_defaults::MAX_EJECTION_PERCENT,
        ),
    )
}

struct TpInfo<'a> {
    manifest: &'a Manifest,
    tp: &'a TrafficPolicy,
    id: ObjectId,
    /// Passed the pre-check and the field checks: SMH would have applied it.
    valid: bool,
    /// Indexes into `Validator::index` of the traffic targets it selects.
    targets: Vec<usize>,
}

struct Validator<'a> {
    manifests: &'a [Manifest],
    topology: &'a Topology,
    options: &'a ValidateOptions,
    diags: Vec<Diagnostic>,
    /// FailoverServices by (namespace, name), first occurrence.
    fss: BTreeMap<(String, String), &'a FailoverService>,
    tps: Vec<TpInfo<'a>>,
    index: TargetIndex<'a>,
    /// For each traffic target (by index), the policies (by index into `tps`) selecting it.
    by_target: Vec<Vec<usize>>,
}

impl<'a> Validator<'a> {
    fn new(
        manifests: &'a [Manifest],
        topology: &'a Topology,
        options: &'a ValidateOptions,
    ) -> Self {
        Validator {
            manifests,
            topology,
            options,
            diags: Vec::new(),
            fss: BTreeMap::new(),
            tps: Vec::new(),
            index: TargetIndex::new(topology),
            by_target: Vec::new(),
        }
    }

    fn emit(&mut self, m: &Manifest, f: Finding) {
        self.diags.push(Diagnostic {
            severity: f.severity,
            source: Some(m.source.clone()),
            object: Some(object_id(m)),
            field: Some(f.field),
            position: None,
            message: f.message,
            status_target: f.status_target,
        });
    }

    fn run(&mut self) {
        self.check_duplicates();
        for m in self.manifests {
            if let SmhObject::FailoverService(fs) = &m.object {
                let id = object_id(m);
                self.fss.entry((id.namespace, id.name)).or_insert(fs);
            }
        }
        // TrafficPolicies first: FailoverService rules need to know which are valid.
        let mut tps = Vec::new();
        for m in self.manifests {
            if let SmhObject::TrafficPolicy(tp) = &m.object {
                let mut findings = check_tp_fields(tp);
                let field_ok = !findings.iter().any(|f| f.severity == Severity::Error);
                let pre = self.tp_precheck(tp);
                let pre_ok = !pre.iter().any(|f| f.severity == Severity::Error);
                findings.extend(pre);
                let valid = field_ok && pre_ok;
                let targets = self.index.policy_targets(tp);
                if targets.is_empty() && pre_ok && !tp.spec.destination_selector.is_empty() {
                    findings.push(warning(
                        "spec.destinationSelector",
                        "selects no traffic target in the topology (no service with sidecar workloads matches); the policy has no effect",
                    ));
                }
                for f in findings {
                    self.emit(m, f);
                }
                tps.push(TpInfo {
                    manifest: m,
                    tp,
                    id: object_id(m),
                    valid,
                    targets,
                });
            }
        }
        self.tps = tps;
        self.by_target = vec![Vec::new(); self.index.targets().len()];
        for (i, info) in self.tps.iter().enumerate() {
            for &t in &info.targets {
                self.by_target[t].push(i);
            }
        }
        for i in 0..self.tps.len() {
            self.tp_per_target(i);
        }
        self.conflicts();
        for m in self.manifests {
            if let SmhObject::FailoverService(fs) = &m.object {
                self.failover_service(m, fs);
            }
        }
        self.cross_fs_lint();
    }

    fn check_duplicates(&mut self) {
        let mut seen: BTreeMap<ObjectId, &Manifest> = BTreeMap::new();
        let mut found = Vec::new();
        for m in self.manifests {
            let id = object_id(m);
            if let Some(first) = seen.get(&id) {
                found.push((
                    m,
                    error(
                        "metadata.name",
                        format!(
                            "Duplicate value: {} {}/{} is also defined in {}",
                            id.kind, id.namespace, id.name, first.source
                        ),
                    ),
                ));
            } else {
                seen.insert(id, m);
            }
        }
        for (m, f) in found {
            self.emit(m, f);
        }
    }

    fn rejected(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.options
            .rejected
            .iter()
            .any(|o| o.kind == kind && o.namespace == namespace && o.name == name)
    }

    /// A hint when a referenced service exists but has no sidecar workloads.
    fn sidecar_hint(
        &self,
        field: &str,
        name: &str,
        namespace: &str,
        cluster: &str,
    ) -> Option<Finding> {
        let svc = self.topology.cluster(cluster)?.service(name, namespace)?;
        (!svc.sidecar_workloads).then(|| {
            warning(
                field,
                format!(
                    "service {name}.{namespace}.{cluster} exists but has no sidecar workloads (sidecarWorkloads: false); SMH discovers a TrafficTarget only for a service whose pods have an Istio sidecar (or with the annotation discovery.smh.solo.io/enabled: \"true\")"
                ),
            )
        })
    }

    // -----------------------------------------------------------------------------------
    // TrafficPolicy
    // -----------------------------------------------------------------------------------

    /// SMH v0.9+ pre-check: `kubeServiceRefs` must name existing traffic targets.
    fn tp_precheck(&self, tp: &TrafficPolicy) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, sel) in tp.spec.destination_selector.iter().enumerate() {
            let Some(refs) = &sel.kube_service_refs else {
                continue;
            };
            for (j, r) in refs.services.iter().enumerate() {
                if r.name.is_empty() || r.namespace.is_empty() || r.cluster_name.is_empty() {
                    continue; // reported by the field checks
                }
                let field = format!("spec.destinationSelector[{i}].kubeServiceRefs.services[{j}]");
                if self
                    .target(&r.name, &r.namespace, &r.cluster_name)
                    .is_none()
                {
                    out.push(at(
                        error(
                            &field,
                            format!(
                                "TrafficTarget {}.{}.{} not found",
                                r.name, r.namespace, r.cluster_name
                            ),
                        ),
                        Some(StatusTarget::TopLevel),
                    ));
                    out.extend(self.sidecar_hint(&field, &r.name, &r.namespace, &r.cluster_name));
                }
            }
        }
        out
    }

    /// What SMH's translation reported per selected traffic target: traffic shift and
    /// mirror destinations.
    fn tp_per_target(&mut self, index: usize) {
        let info = &self.tps[index];
        let (m, tp, valid) = (info.manifest, info.tp, info.valid);
        let targets = info.targets.clone();
        let mut once: Vec<Finding> = Vec::new();
        // Problems that do not depend on the target, found once, reported per target.
        let mut shift_error: Option<Finding> = None;
        if let Some(shift) = &tp.spec.traffic_shift {
            for (k, d) in shift.destinations.iter().enumerate() {
                let field = format!("spec.trafficShift.destinations[{k}]");
                if let (Some(ks), None) = (&d.kube_service, &d.failover_service) {
                    if ks.name.is_empty() || ks.namespace.is_empty() || ks.cluster_name.is_empty() {
                        continue;
                    }
                    let key = format!("{}.{}.{}", ks.name, ks.namespace, ks.cluster_name);
                    match self.target(&ks.name, &ks.namespace, &ks.cluster_name) {
                        None => {
                            shift_error = Some(error(
                                format!("{field}.kubeService"),
                                format!(
                                    "traffic-shift: invalid traffic shift destination {key}: TrafficTarget not found for kube service {key}"
                                ),
                            ));
                            once.extend(self.sidecar_hint(
                                &format!("{field}.kubeService"),
                                &ks.name,
                                &ks.namespace,
                                &ks.cluster_name,
                            ));
                        }
                        Some(t) => {
                            let ports = &t.service.ports;
                            if ks.port != 0 && !ports.iter().any(|p| p.port == ks.port) {
                                shift_error = Some(error(
                                    format!("{field}.kubeService.port"),
                                    format!(
                                        "traffic-shift: specified port {} does not exist for traffic shift destination service {key}",
                                        ks.port
                                    ),
                                ));
                            } else if ks.port == 0 && ports.len() > 1 {
                                shift_error = Some(error(
                                    format!("{field}.kubeService"),
                                    format!(
                                        "traffic-shift: must provide port for traffic shift destination service {key} with multiple ports ({}) defined",
                                        ports.len()
                                    ),
                                ));
                            }
                        }
                    }
                } else if let (None, Some(fsd)) = (&d.kube_service, &d.failover_service) {
                    if fsd.name.is_empty() || fsd.namespace.is_empty() {
                        continue;
                    }
                    let exists = self
                        .fss
                        .contains_key(&(fsd.namespace.clone(), fsd.name.clone()))
                        || self.rejected(FailoverService::KIND, &fsd.namespace, &fsd.name);
                    if !exists {
                        let key = object_key(&fsd.name, &fsd.namespace);
                        let smh = format!(
                            "traffic-shift: invalid traffic shift destination {key}, FailoverService not found: *v1alpha2.FailoverService with id {key} not found"
                        );
                        if self.options.complete {
                            shift_error = Some(error(format!("{field}.failoverService"), smh));
                        } else {
                            once.push(warning(
                                format!("{field}.failoverService"),
                                format!(
                                    "FailoverService {}/{} is not in the input; unless it already exists in the cluster, SMH rejects this policy with: {smh}",
                                    fsd.namespace, fsd.name
                                ),
                            ));
                        }
                    }
                }
                if shift_error.is_some() {
                    break; // SMH stops at the first bad destination
                }
            }
        }
        let mut mirror_error: Option<Finding> = None;
        if let Some(mirror) = &tp.spec.mirror
            && let Some(ks) = &mirror.kube_service
            && !(ks.name.is_empty() || ks.namespace.is_empty() || ks.cluster_name.is_empty())
        {
            let key = format!("{}.{}.{}", ks.name, ks.namespace, ks.cluster_name);
            match self.target(&ks.name, &ks.namespace, &ks.cluster_name) {
                None => {
                    mirror_error = Some(error(
                        "spec.mirror.kubeService",
                        format!(
                            "mirror: invalid mirror destination: TrafficTarget not found for kube service {key}"
                        ),
                    ));
                    once.extend(self.sidecar_hint(
                        "spec.mirror.kubeService",
                        &ks.name,
                        &ks.namespace,
                        &ks.cluster_name,
                    ));
                }
                Some(t) => {
                    let ports = &t.service.ports;
                    if mirror.port != 0 && !ports.iter().any(|p| p.port == mirror.port) {
                        mirror_error = Some(error(
                            "spec.mirror.port",
                            format!(
                                "mirror: specified port {} does not exist for mirror destination service {key}",
                                mirror.port
                            ),
                        ));
                    } else if mirror.port == 0 && ports.len() > 1 {
                        mirror_error = Some(error(
                            "spec.mirror",
                            format!(
                                "mirror: must provide port for mirror destination service {key} with multiple ports ({}) defined",
                                ports.len()
                            ),
                        ));
                    }
                }
            }
        }
        for f in once {
            self.emit(m, f);
        }
        for f in [shift_error, mirror_error].into_iter().flatten() {
            if targets.is_empty() {
                continue; // SMH translates per target; a policy selecting nothing is never translated
            }
            for &t in &targets {
                let st = valid.then(|| StatusTarget::TrafficTarget(self.index.targets()[t].key()));
                self.emit(
                    m,
                    Finding {
                        severity: f.severity,
                        field: f.field.clone(),
                        message: f.message.clone(),
                        status_target: st,
                    },
                );
            }
        }
    }

    /// DestinationRule field ownership between policies on one target (SMH's
    /// `fieldutils` registry): the first policy to set `outlierDetection` (or `tls`) to a
    /// value owns the field; a later one setting a different value conflicts.
    fn conflicts(&mut self) {
        let mut found: Vec<(usize, Finding)> = Vec::new();
        for (ti, t) in self.index.targets().iter().enumerate() {
            let mut policies: Vec<usize> = self.by_target[ti]
                .iter()
                .copied()
                .filter(|&i| self.tps[i].valid)
                .collect();
            if policies.len() < 2 {
                continue;
            }
            let key = t.key();
            policies.sort_by_key(|&i| {
                let info = &self.tps[i];
                let accepted = info
                    .tp
                    .status
                    .as_ref()
                    .and_then(|s| s.traffic_targets.get(&key))
                    .filter(|s| s.state == super::types::ApprovalState::Accepted)
                    .map(|s| s.acceptance_order);
                (
                    accepted.is_none(),
                    accepted.unwrap_or(0),
                    object_key(&info.id.name, &info.id.namespace),
                )
            });
            // The DRs for this target: its own cluster, and federated copies in the other
            // meshes of its VirtualMesh; a policy applies to a DR when its sourceSelector
            // contains that DR's (source) cluster.
            let mut sources = vec![t.cluster.name.clone()];
            if let Some(mesh) = &t.cluster.mesh {
                let vm = self
                    .topology
                    .virtual_mesh_of(&mesh.smh_name(&t.cluster.name));
                for c in &self.topology.clusters {
                    if c.name == t.cluster.name {
                        continue;
                    }
                    if let Some(other) = &c.mesh
                        && vm.is_some()
                        && self.topology.virtual_mesh_of(&other.smh_name(&c.name)) == vm
                    {
                        sources.push(c.name.clone());
                    }
                }
            }
            let mut reported: BTreeSet<(usize, &str)> = BTreeSet::new();
            for source in &sources {
                let mut od: Option<((u32, String, String, u32), usize)> = None;
                let mut tls: (String, Option<usize>) = ("ISTIO_MUTUAL".to_string(), None);
                for &i in &policies {
                    let tp = self.tps[i].tp;
                    if !select::workload_selector_contains_cluster(&tp.spec.source_selector, source)
                    {
                        continue;
                    }
                    if let Some(o) = &tp.spec.outlier_detection {
                        let value = effective_outlier(o);
                        match &od {
                            Some((current, _)) if *current == value => {}
                            Some((_, owner)) => {
                                if reported.insert((i, "outlierDetection")) {
                                    found.push((
                                        i,
                                        self.conflict(
                                            "outlier-detection",
                                            "outlierDetection",
                                            *owner,
                                            &key,
                                        ),
                                    ));
                                }
                            }
                            None => od = Some((value, i)),
                        }
                    }
                    if let Some(mode) = tp
                        .spec
                        .mtls
                        .as_ref()
                        .and_then(|m| m.istio.as_ref())
                        .and_then(|i| i.tls_mode.clone())
                    {
                        if mode == tls.0 {
                            continue;
                        }
                        match tls.1 {
                            Some(owner) => {
                                if reported.insert((i, "tls")) {
                                    found.push((i, self.conflict("tls", "tls", owner, &key)));
                                }
                            }
                            None => tls = (mode, Some(i)),
                        }
                    }
                }
            }
        }
        for (i, f) in found {
            let m = self.tps[i].manifest;
            self.emit(m, f);
        }
    }

    fn conflict(&self, decorator: &str, field: &str, owner: usize, target_key: &str) -> Finding {
        let o = &self.tps[owner].id;
        let spec_field = if field == "tls" {
            "spec.mtls"
        } else {
            "spec.outlierDetection"
        };
        at(
            error(
                spec_field,
                format!(
                    "{decorator}: field {field} is already owned by *v1alpha2.TrafficPolicy [{}] (priority 0)",
                    object_key(&o.name, &o.namespace)
                ),
            ),
            Some(StatusTarget::TrafficTarget(target_key.to_string())),
        )
    }

    /// Does a valid input TrafficPolicy with outlier detection apply to the traffic target
    /// with index `target`?
    fn has_outlier_detection(&self, target: usize) -> bool {
        self.by_target[target].iter().any(|&i| {
            let info = &self.tps[i];
            info.valid && info.tp.spec.outlier_detection.is_some()
        })
    }

    /// The traffic target `name.namespace` in `cluster`.
    fn target(&self, name: &str, namespace: &str, cluster: &str) -> Option<TrafficTarget<'a>> {
        self.target_at(name, namespace, cluster).map(|(_, t)| t)
    }

    /// The traffic target `name.namespace` in `cluster`, with its index.
    fn target_at(&self, name: &str, namespace: &str, cluster: &str) -> Option<(usize, TrafficTarget<'a>)> {
        self.index
            .find(name, namespace, cluster)
            .map(|i| (i, self.index.targets()[i]))
    }

    /// Would any input TrafficPolicy with outlier detection select this service (which is
    /// not in the topology)?
    fn covered_by_any_policy(&self, r: &ClusterObjectRef) -> bool {
        let svc = super::topology::Service {
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            ports: Vec::new(),
            sidecar_workloads: true,
            labels: BTreeMap::new(),
            selector: BTreeMap::new(),
        };
        self.tps.iter().any(|info| {
            info.tp.spec.outlier_detection.is_some()
                && select::destination_selectors_match(
                    &info.tp.spec.destination_selector,
                    &r.cluster_name,
                    &svc,
                )
        })
    }

    // -----------------------------------------------------------------------------------
    // FailoverService
    // -----------------------------------------------------------------------------------

    fn failover_service(&mut self, m: &Manifest, fs: &FailoverService) {
        let spec = &fs.spec;
        let mut fields: Vec<Finding> = Vec::new();
        let mut lint: Vec<Finding> = Vec::new();

        // Field checks: incomplete references.
        for (i, b) in spec.backing_services.iter().enumerate() {
            if let Some(k) = &b.kube_service {
                check_service_ref(
                    &mut fields,
                    &format!("spec.backingServices[{i}].kubeService"),
                    &k.name,
                    &k.namespace,
                    &k.cluster_name,
                );
                for (name, value) in [
                    ("name", &k.name),
                    ("namespace", &k.namespace),
                    ("clusterName", &k.cluster_name),
                ] {
                    if value.is_empty() {
                        fields.push(error(
                            format!("spec.backingServices[{i}].kubeService.{name}"),
                            format!("Required value: {name} must be set"),
                        ));
                    }
                }
            }
        }
        for (i, r) in spec.meshes.iter().flatten().enumerate() {
            for (name, value) in [("name", &r.name), ("namespace", &r.namespace)] {
                if value.is_empty() {
                    fields.push(error(
                        format!("spec.meshes[{i}].{name}"),
                        format!("Required value: {name} must be set"),
                    ));
                }
            }
        }

        // What the hostname and port become in the ServiceEntry (hosts, ports[].name): limits
        // SMH did not check and istiod enforces.
        if !spec.hostname.is_empty()
            && k8s::smh_is_dns1123_subdomain(&spec.hostname).is_empty()
            && let Some(why) = limits::host(&spec.hostname)
        {
            fields.push(error("spec.hostname", format!("Invalid value: {why}")));
        }
        if let Some(port) = &spec.port
            && is_istio_protocol(&port.protocol)
            && limits::port_name(&port.protocol).is_some()
        {
            fields.push(error(
                "spec.port.protocol",
                format!(
                    "Invalid value: {:?}: the generated ServiceEntry's port is named after the protocol, and Istio requires a port name of letters, digits and '-'; use another protocol",
                    port.protocol
                ),
            ));
        }

        // Pre-check (v0.9+, issue #962): referenced meshes exist.
        let mut pre: Vec<Finding> = Vec::new();
        for (i, r) in spec.meshes.iter().flatten().enumerate() {
            if r.name.is_empty() || r.namespace.is_empty() {
                continue;
            }
            if self.topology.find_mesh(&r.name, &r.namespace).is_none() {
                pre.push(at(
                    error(
                        format!("spec.meshes[{i}]"),
                        format!(
                            "*v1alpha2.Mesh with id {}.{}. not found",
                            r.name, r.namespace
                        ),
                    ),
                    Some(StatusTarget::TopLevel),
                ));
            }
        }

        // SMH's rules, in order.
        let mut rules: Vec<Finding> = Vec::new();
        // hostname
        if spec.hostname.is_empty() {
            rules.push(error(
                "spec.hostname",
                "Missing required field \"hostname\".",
            ));
        } else {
            if !spec.hostname.ends_with(".global") {
                rules.push(error(
                    "spec.hostname",
                    format!(
                        "Provided hostname {} is missing required suffix \".global\".",
                        spec.hostname
                    ),
                ));
            }
            let errs = k8s::smh_is_dns1123_subdomain(&spec.hostname);
            if !errs.is_empty() {
                rules.push(error("spec.hostname", errs.join(", ")));
            }
        }
        // port
        match &spec.port {
            None => rules.push(error("spec.port", "Missing required field \"port\".")),
            Some(port) => {
                let errs = k8s::is_valid_port_num(i64::from(port.number));
                if !errs.is_empty() {
                    rules.push(error("spec.port.number", errs.join(", ")));
                }
                if !is_istio_protocol(&port.protocol) {
                    rules.push(error(
                        "spec.port.protocol",
                        format!("Invalid protocol for port: {}", port.protocol),
                    ));
                }
            }
        }
        // backing services
        let mut backing_meshes: Vec<String> = Vec::new();
        if spec.backing_services.is_empty() {
            rules.push(error(
                "spec.backingServices",
                "There must be at least one service declared for the FailoverService.",
            ));
        }
        let mut seen_backing: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
        for (i, b) in spec.backing_services.iter().enumerate() {
            let field = format!("spec.backingServices[{i}]");
            let Some(k) = &b.kube_service else {
                rules.push(error(&field, "Unsupported service type <nil>"));
                continue;
            };
            let kfield = format!("{field}.kubeService");
            if k.name.is_empty() || k.namespace.is_empty() || k.cluster_name.is_empty() {
                continue; // reported as missing fields
            }
            if !seen_backing.insert((&k.name, &k.namespace, &k.cluster_name)) {
                lint.push(warning(
                    &kfield,
                    format!(
                        "backing service {}.{}.{} is listed more than once",
                        k.name, k.namespace, k.cluster_name
                    ),
                ));
            }
            let key = format!("{}.{}.{}", k.name, k.namespace, k.cluster_name);
            let Some((ti, t)) = self.target_at(&k.name, &k.namespace, &k.cluster_name) else {
                rules.push(error(
                    &kfield,
                    format!("Backing service {key} not found in SMH discovery resources."),
                ));
                lint.extend(self.sidecar_hint(&kfield, &k.name, &k.namespace, &k.cluster_name));
                if !self.covered_by_any_policy(k) {
                    lint.push(warning(
                        &kfield,
                        format!(
                            "no TrafficPolicy in the input applies outlierDetection to {key}; failover needs outlier detection on every backing service"
                        ),
                    ));
                }
                continue;
            };
            if !self.has_outlier_detection(ti) {
                rules.push(error(
                    &kfield,
                    format!("Service {key} does not have any TrafficPolicies that apply OutlierDetection settings."),
                ));
            }
            match &t.cluster.mesh {
                None => rules.push(error(
                    &kfield,
                    format!(
                        "Mesh istiod-istio-system-{}.{SMH_NAMESPACE} for service {key} not found in SMH discovery resources.",
                        k.cluster_name
                    ),
                )),
                Some(mesh) => backing_meshes.push(mesh.smh_name(&t.cluster.name)),
            }
        }
        // federation
        match &spec.meshes {
            None => rules.push(error("spec.meshes", "Missing required field \"meshes\".")),
            Some(meshes) => {
                let mut referenced: BTreeSet<String> = BTreeSet::new();
                for r in meshes {
                    if r.namespace == SMH_NAMESPACE
                        && self.topology.find_mesh(&r.name, &r.namespace).is_some()
                    {
                        referenced.insert(r.name.clone());
                    }
                }
                referenced.extend(backing_meshes);
                if referenced.len() > 1 {
                    let mut vms: BTreeSet<(String, String)> = BTreeSet::new();
                    // skv2 sets list by key: name.namespace.
                    for mesh in &referenced {
                        match self.topology.virtual_mesh_of(mesh) {
                            None => rules.push(error(
                                "spec.meshes",
                                format!(
                                    "Mesh {mesh}.{SMH_NAMESPACE} is not grouped in a VirtualMesh."
                                ),
                            )),
                            Some(vm) => {
                                vms.insert(vm);
                            }
                        }
                    }
                    if vms.len() > 1 {
                        let names: Vec<String> =
                            vms.iter().map(|(n, ns)| format!("{n}.{ns}")).collect();
                        rules.push(error(
                            "spec.meshes",
                            format!(
                                "Services belong to multiple different parent VirtualMeshes: [{}]",
                                names.join(", ")
                            ),
                        ));
                    }
                }
                if meshes.is_empty() {
                    lint.push(warning(
                        "spec.meshes",
                        "spec.meshes is empty: no mesh sees the FailoverService, so nothing is generated for it",
                    ));
                }
            }
        }

        // Status targets of the rules: per listed mesh, when SMH would have got there.
        let reached = pre.is_empty() && spec.meshes.as_ref().is_some_and(|m| !m.is_empty());
        let mesh_keys: Vec<String> = if reached {
            let mut keys: Vec<String> = Vec::new();
            for r in spec.meshes.iter().flatten() {
                let k = mesh_key(&r.name, &r.namespace);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            keys
        } else {
            Vec::new()
        };
        for f in fields.into_iter().chain(pre) {
            self.emit(m, f);
        }
        for f in rules {
            if mesh_keys.is_empty() {
                self.emit(m, f);
            } else {
                for k in &mesh_keys {
                    self.emit(
                        m,
                        Finding {
                            severity: f.severity,
                            field: f.field.clone(),
                            message: f.message.clone(),
                            status_target: Some(StatusTarget::Mesh(k.clone())),
                        },
                    );
                }
            }
        }
        for f in lint {
            self.emit(m, f);
        }
    }

    /// Lint across FailoverServices: one hostname twice; one name in two namespaces.
    fn cross_fs_lint(&mut self) {
        let mut by_host: BTreeMap<&str, &Manifest> = BTreeMap::new();
        let mut by_name: BTreeMap<&str, &Manifest> = BTreeMap::new();
        let mut found = Vec::new();
        for m in self.manifests {
            let SmhObject::FailoverService(fs) = &m.object else {
                continue;
            };
            let id = object_id(m);
            if !fs.spec.hostname.is_empty() {
                match by_host.get(fs.spec.hostname.as_str()) {
                    Some(first) if object_id(first) != id => {
                        let f = object_id(first);
                        found.push((
                            m,
                            warning(
                                "spec.hostname",
                                format!(
                                    "hostname {} is also used by FailoverService {}/{} ({}); Istio keeps one ServiceEntry per host, so only one of them takes effect",
                                    fs.spec.hostname, f.namespace, f.name, first.source
                                ),
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        by_host.insert(&fs.spec.hostname, m);
                    }
                }
            }
            if let Some(name) = fs.metadata.name.as_deref() {
                match by_name.get(name) {
                    Some(first) if object_id(first).namespace != id.namespace => {
                        let f = object_id(first);
                        found.push((
                            m,
                            warning(
                                "metadata.name",
                                format!(
                                    "FailoverService {}/{name} has the same name as {}/{name} ({}); both generate ServiceEntry {SMH_NAMESPACE}/{name} and EnvoyFilter <root namespace>/{name}, which collide",
                                    id.namespace, f.namespace, first.source
                                ),
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        by_name.insert(name, m);
                    }
                }
            }
        }
        for (m, f) in found {
            self.emit(m, f);
        }
    }
}

fn check_duration(out: &mut Vec<Finding>, field: &str, value: &Option<String>) {
    check_duration_with(out, field, value, limits::istio_duration);
}

/// A duration: it parses, and `limit` (Istio's rule for the field it becomes) accepts it.
fn check_duration_with(
    out: &mut Vec<Finding>,
    field: &str,
    value: &Option<String>,
    limit: fn(std::time::Duration) -> Option<String>,
) {
    let Some(v) = value else { return };
    match parse_duration(v) {
        Err(e) => out.push(error(field, format!("Invalid value: {e}"))),
        Ok(d) => {
            if let Some(why) = limit(d) {
                out.push(error(field, format!("Invalid value: {v:?}: {why}")));
            }
        }
    }
}

/// A reference to a service in a cluster: its name and namespace become parts of generated
/// names and hosts (DNS-1123 labels), its cluster name a label value. Empty fields are
/// reported as missing elsewhere.
fn check_service_ref(
    out: &mut Vec<Finding>,
    prefix: &str,
    name: &str,
    namespace: &str,
    cluster: &str,
) {
    for (field, value) in [("name", name), ("namespace", namespace)] {
        if value.is_empty() {
            continue;
        }
        let errs = k8s::is_dns1123_label(value);
        if !errs.is_empty() {
            out.push(error(
                format!("{prefix}.{field}"),
                format!("Invalid value: {value:?}: {}", errs.join(", ")),
            ));
        }
    }
    check_cluster_name(out, &format!("{prefix}.clusterName"), cluster);
}

fn check_cluster_name(out: &mut Vec<Finding>, field: &str, cluster: &str) {
    if cluster.is_empty() {
        return;
    }
    let errs = limits::cluster_name(cluster);
    if !errs.is_empty() {
        out.push(error(
            field,
            format!("Invalid value: {cluster:?}: {}", errs.join(", ")),
        ));
    }
}

/// A subset's labels (they become a DestinationRule subset's labels) and the subset name
/// SMH generates from them.
fn check_subset(out: &mut Vec<Finding>, field: &str, subset: &BTreeMap<String, String>) {
    for (key, why) in limits::labels(subset) {
        out.push(error(
            format!("{field}.{key}"),
            format!("Invalid value: {why}"),
        ));
    }
    if subset.is_empty() {
        return;
    }
    let name = subset_name(subset);
    if let Some(why) = limits::subset_name(&name) {
        out.push(error(
            field,
            format!(
                "Invalid value: the DestinationRule subset for these labels is named {why} (the name is the labels' key-value pairs joined with '_'; select the subset with one label, e.g. version: v1)"
            ),
        ));
    }
}

/// A regular expression in an Istio match.
fn check_regex(out: &mut Vec<Finding>, field: &str, re: &str) {
    if let Some(why) = limits::regex(re) {
        out.push(error(field, format!("Invalid value: {why}")));
    }
}

fn check_percentage(out: &mut Vec<Finding>, field: &str, value: f64) {
    if !(0.0..=100.0).contains(&value) {
        out.push(error(
            field,
            format!("Invalid value: {value}: must be between 0 and 100"),
        ));
    }
}

fn check_port(out: &mut Vec<Finding>, field: &str, port: u32) {
    if port > 65535 {
        out.push(error(
            field,
            format!("Invalid value: {port}: must be between 1 and 65535, inclusive"),
        ));
    }
}

fn required(out: &mut Vec<Finding>, prefix: &str, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        if value.is_empty() {
            out.push(error(
                format!("{prefix}.{name}"),
                format!("Required value: {name} must be set"),
            ));
        }
    }
}

/// Field-level checks of a TrafficPolicy: what the CRD schema, protobuf decoding or Istio's
/// validation would reject, plus the maxEjectionPercent lint.
fn check_tp_fields(tp: &TrafficPolicy) -> Vec<Finding> {
    let spec = &tp.spec;
    let mut out = Vec::new();
    for (i, sel) in spec.source_selector.iter().enumerate() {
        let field = format!("spec.sourceSelector[{i}]");
        for (key, why) in limits::labels(&sel.labels) {
            out.push(error(
                format!("{field}.labels.{key}"),
                format!("Invalid value: {why}"),
            ));
        }
        for (j, ns) in sel.namespaces.iter().enumerate() {
            let errs = k8s::is_dns1123_label(ns);
            if !errs.is_empty() {
                out.push(error(
                    format!("{field}.namespaces[{j}]"),
                    format!("Invalid value: {ns:?}: {}", errs.join(", ")),
                ));
            }
        }
        for (j, c) in sel.clusters.iter().enumerate() {
            check_cluster_name(&mut out, &format!("{field}.clusters[{j}]"), c);
        }
    }
    for (i, sel) in spec.destination_selector.iter().enumerate() {
        let field = format!("spec.destinationSelector[{i}]");
        if let Some(matcher) = &sel.kube_service_matcher {
            for (j, c) in matcher.clusters.iter().enumerate() {
                check_cluster_name(
                    &mut out,
                    &format!("{field}.kubeServiceMatcher.clusters[{j}]"),
                    c,
                );
            }
        }
        match (&sel.kube_service_matcher, &sel.kube_service_refs) {
            (Some(_), Some(_)) => out.push(error(&field, "only one of kubeServiceMatcher or kubeServiceRefs may be set")),
            (None, None) => out.push(error(
                &field,
                "Required value: one of kubeServiceMatcher or kubeServiceRefs must be set (an empty selector selects nothing)",
            )),
            (None, Some(refs)) => {
                if refs.services.is_empty() {
                    out.push(warning(format!("{field}.kubeServiceRefs.services"), "no services listed: this selector selects nothing"));
                }
                for (j, r) in refs.services.iter().enumerate() {
                    let rf = format!("{field}.kubeServiceRefs.services[{j}]");
                    required(
                        &mut out,
                        &rf,
                        &[("name", &r.name), ("namespace", &r.namespace), ("clusterName", &r.cluster_name)],
                    );
                    check_service_ref(&mut out, &rf, &r.name, &r.namespace, &r.cluster_name);
                }
            }
            (Some(_), None) => {}
        }
    }
    for (i, m) in spec.http_request_matchers.iter().enumerate() {
        let field = format!("spec.httpRequestMatchers[{i}]");
        let set = [m.prefix.is_some(), m.exact.is_some(), m.regex.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if set > 1 {
            out.push(error(
                &field,
                "only one of prefix, exact or regex may be set",
            ));
        }
        if let Some(re) = &m.regex {
            check_regex(&mut out, &format!("{field}.regex"), re);
        }
        for (j, h) in m.headers.iter().enumerate() {
            let hf = format!("{field}.headers[{j}]");
            required(&mut out, &hf, &[("name", &h.name)]);
            if !h.name.is_empty()
                && let Some(why) = limits::header_name(&h.name)
            {
                out.push(error(format!("{hf}.name"), format!("Invalid value: {why}")));
            }
            if h.regex {
                check_regex(&mut out, &format!("{hf}.value"), &h.value);
            }
        }
        for (j, q) in m.query_parameters.iter().enumerate() {
            let qf = format!("{field}.queryParameters[{j}]");
            required(&mut out, &qf, &[("name", &q.name)]);
            if q.regex {
                check_regex(&mut out, &format!("{qf}.value"), &q.value);
            }
        }
        if let Some(method) = &m.method
            && !HTTP_METHODS.contains(&method.method.as_str())
        {
            out.push(error(
                format!("{field}.method.method"),
                format!(
                    "Unsupported value: {:?}: supported values: {}",
                    method.method,
                    quoted(HTTP_METHODS)
                ),
            ));
        }
    }
    if let Some(shift) = &spec.traffic_shift {
        if shift.destinations.is_empty() {
            out.push(warning(
                "spec.trafficShift.destinations",
                "no destinations: the traffic shift changes nothing",
            ));
        }
        let mut sum: u64 = 0;
        for (k, d) in shift.destinations.iter().enumerate() {
            let field = format!("spec.trafficShift.destinations[{k}]");
            sum += u64::from(d.weight);
            if d.weight > 100 {
                out.push(error(
                    format!("{field}.weight"),
                    format!("Invalid value: {}: must be between 0 and 100", d.weight),
                ));
            }
            match (&d.kube_service, &d.failover_service) {
                (None, None) => out.push(error(
                    &field,
                    "must set a destination type on traffic shift destination",
                )),
                (Some(_), Some(_)) => out.push(error(
                    &field,
                    "only one of kubeService or failoverService may be set",
                )),
                (Some(ks), None) => {
                    required(
                        &mut out,
                        &format!("{field}.kubeService"),
                        &[
                            ("name", &ks.name),
                            ("namespace", &ks.namespace),
                            ("clusterName", &ks.cluster_name),
                        ],
                    );
                    check_service_ref(
                        &mut out,
                        &format!("{field}.kubeService"),
                        &ks.name,
                        &ks.namespace,
                        &ks.cluster_name,
                    );
                    check_port(&mut out, &format!("{field}.kubeService.port"), ks.port);
                    check_subset(&mut out, &format!("{field}.kubeService.subset"), &ks.subset);
                }
                (None, Some(fsd)) => {
                    required(
                        &mut out,
                        &format!("{field}.failoverService"),
                        &[("name", &fsd.name), ("namespace", &fsd.namespace)],
                    );
                    check_subset(
                        &mut out,
                        &format!("{field}.failoverService.subset"),
                        &fsd.subset,
                    );
                }
            }
        }
        if shift.destinations.len() > 1 && sum != 100 {
            out.push(error(
                "spec.trafficShift.destinations",
                format!("Invalid value: weights must sum to 100 when there is more than one destination (they sum to {sum})"),
            ));
        }
        if shift.destinations.len() == 1 && !matches!(shift.destinations[0].weight, 0 | 100) {
            out.push(warning(
                "spec.trafficShift.destinations[0].weight",
                format!(
                    "a single destination receives all traffic; weight {} has no effect",
                    shift.destinations[0].weight
                ),
            ));
        }
    }
    if let Some(fault) = &spec.fault_injection {
        let kinds = [
            fault.fixed_delay.is_some(),
            fault.exponential_delay.is_some(),
            fault.abort.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        match kinds {
            0 => out.push(error(
                "spec.faultInjection",
                "Required value: one of fixedDelay, exponentialDelay or abort must be set",
            )),
            1 => {}
            _ => out.push(error(
                "spec.faultInjection",
                "only one of fixedDelay, exponentialDelay or abort may be set",
            )),
        }
        check_duration(
            &mut out,
            "spec.faultInjection.fixedDelay",
            &fault.fixed_delay,
        );
        if fault.exponential_delay.is_some() {
            out.push(error(
                "spec.faultInjection.exponentialDelay",
                "Forbidden: Istio does not support an exponential delay (istiod rejects it: \"exponentialDelay not supported yet\"); use fixedDelay",
            ));
        }
        if let Some(abort) = &fault.abort
            && let Some(why) = limits::abort_status(abort.http_status)
        {
            out.push(error(
                "spec.faultInjection.abort.httpStatus",
                format!("Invalid value: {why}"),
            ));
        }
        if let Some(why) = limits::fault_percentage(fault.percentage) {
            out.push(error(
                "spec.faultInjection.percentage",
                format!("Invalid value: {why}"),
            ));
        }
    }
    check_duration(&mut out, "spec.requestTimeout", &spec.request_timeout);
    if let Some(r) = &spec.retries {
        if r.attempts < 0 {
            out.push(error(
                "spec.retries.attempts",
                format!("Invalid value: {}: must be 0 or more", r.attempts),
            ));
        }
        check_duration(&mut out, "spec.retries.perTryTimeout", &r.per_try_timeout);
        let per_try = r
            .per_try_timeout
            .as_deref()
            .and_then(|d| parse_duration(d).ok())
            .is_some_and(|d| !d.is_zero());
        if r.attempts == 0 && per_try {
            out.push(error(
                "spec.retries.attempts",
                "Invalid value: 0: attempts 0 turns retries off, and Istio rejects a retry policy with a perTryTimeout and 0 attempts (set attempts, or remove perTryTimeout)",
            ));
        }
    }
    if let Some(cors) = &spec.cors_policy {
        for (i, o) in cors.allow_origins.iter().enumerate() {
            let set = [o.exact.is_some(), o.prefix.is_some(), o.regex.is_some()]
                .iter()
                .filter(|b| **b)
                .count();
            if set != 1 {
                out.push(error(
                    format!("spec.corsPolicy.allowOrigins[{i}]"),
                    "exactly one of exact, prefix or regex must be set",
                ));
            }
            for (name, value) in [("exact", &o.exact), ("prefix", &o.prefix)] {
                if value.as_deref() == Some("") {
                    out.push(error(
                        format!("spec.corsPolicy.allowOrigins[{i}].{name}"),
                        "Invalid value: \"\": Istio rejects an empty origin",
                    ));
                }
            }
            if let Some(re) = &o.regex {
                check_regex(
                    &mut out,
                    &format!("spec.corsPolicy.allowOrigins[{i}].regex"),
                    re,
                );
            }
        }
        for (i, m) in cors.allow_methods.iter().enumerate() {
            if let Some(why) = limits::cors_method(m) {
                out.push(error(
                    format!("spec.corsPolicy.allowMethods[{i}]"),
                    format!("Unsupported value: {why}"),
                ));
            }
        }
        for (list, names) in [
            ("allowHeaders", &cors.allow_headers),
            ("exposeHeaders", &cors.expose_headers),
        ] {
            for (i, h) in names.iter().enumerate() {
                if let Some(why) = limits::cors_header_name(h) {
                    out.push(error(
                        format!("spec.corsPolicy.{list}[{i}]"),
                        format!("Invalid value: {why}"),
                    ));
                }
            }
        }
        check_duration_with(
            &mut out,
            "spec.corsPolicy.maxAge",
            &cors.max_age,
            limits::cors_max_age,
        );
    }
    if let Some(mirror) = &spec.mirror {
        match &mirror.kube_service {
            None => out.push(error(
                "spec.mirror.kubeService",
                "Required value: a mirror needs a kubeService destination",
            )),
            Some(ks) => {
                required(
                    &mut out,
                    "spec.mirror.kubeService",
                    &[
                        ("name", &ks.name),
                        ("namespace", &ks.namespace),
                        ("clusterName", &ks.cluster_name),
                    ],
                );
                check_service_ref(
                    &mut out,
                    "spec.mirror.kubeService",
                    &ks.name,
                    &ks.namespace,
                    &ks.cluster_name,
                );
            }
        }
        check_percentage(&mut out, "spec.mirror.percentage", mirror.percentage);
        check_port(&mut out, "spec.mirror.port", mirror.port);
    }
    if let Some(h) = &spec.header_manipulation {
        use limits::HeaderOperation::{AddRequest, Other};
        let f = "spec.headerManipulation";
        for (list, values, op) in [
            (
                "appendRequestHeaders",
                &h.append_request_headers,
                AddRequest,
            ),
            ("appendResponseHeaders", &h.append_response_headers, Other),
        ] {
            for (name, value) in values {
                if let Some(why) = limits::header_operation_name(name, op) {
                    out.push(error(
                        format!("{f}.{list}.{name}"),
                        format!("Invalid value: {why}"),
                    ));
                }
                if let Some(why) = limits::header_value(value) {
                    out.push(error(
                        format!("{f}.{list}.{name}"),
                        format!("Invalid value: {why}"),
                    ));
                }
            }
        }
        for (list, names) in [
            ("removeRequestHeaders", &h.remove_request_headers),
            ("removeResponseHeaders", &h.remove_response_headers),
        ] {
            for (i, name) in names.iter().enumerate() {
                if let Some(why) = limits::header_operation_name(name, Other) {
                    out.push(error(
                        format!("{f}.{list}[{i}]"),
                        format!("Invalid value: {why}"),
                    ));
                }
            }
        }
    }
    if let Some(od) = &spec.outlier_detection {
        check_duration(&mut out, "spec.outlierDetection.interval", &od.interval);
        check_duration(
            &mut out,
            "spec.outlierDetection.baseEjectionTime",
            &od.base_ejection_time,
        );
        let p = od.max_ejection_percent;
        if p > 100 {
            out.push(error(
                "spec.outlierDetection.maxEjectionPercent",
                format!("Invalid value: {p}: must be between 0 and 100"),
            ));
        } else if p != 0 && p < 100 {
            out.push(warning(
                "spec.outlierDetection.maxEjectionPercent",
                format!(
                    "maxEjectionPercent {p} is below 100: Envoy 1.28 and later enforce it strictly, so with fewer than {} endpoints not one is ejected and failover never starts (SMH's default is 100; leave it unset)",
                    100_u32.div_ceil(p)
                ),
            ));
        }
        if !spec.source_selector.is_empty() {
            out.push(warning(
                "spec.sourceSelector",
                "outlierDetection with a sourceSelector: outlier detection is set only in the DestinationRules of the selected source clusters; SMH documents that sourceSelector should be empty for outlier detection",
            ));
        }
    }
    if let Some(mode) = spec
        .mtls
        .as_ref()
        .and_then(|m| m.istio.as_ref())
        .and_then(|i| i.tls_mode.as_ref())
        && !TLS_MODES.contains(&mode.as_str())
    {
        out.push(error(
            "spec.mtls.istio.tlsMode",
            format!(
                "Unsupported value: {mode:?}: supported values: {}",
                quoted(TLS_MODES)
            ),
        ));
    }
    out
}

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
