//! Validation: Service Mesh Hub v0.9.2's rules, with its message strings, plus field checks
//! a user needs and lint SMH never had.
//!
//! # What is checked, and where SMH would have reported it
//!
//! **FailoverService**, in SMH's order hostname → port → backing services
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
//! (Envoy 1.28 and later enforce it strictly: with few endpoints none is ejected, so
//! failover never starts); a backing service no TrafficPolicy with outlier detection
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

mod failover_service;
mod fields;
mod traffic_policy;

use fields::check_tp_fields;

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
pub(crate) const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "HEAD", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];
/// SMH's `MTLS.Istio.TLSmode` enum names.
pub(crate) const TLS_MODES: &[&str] = &["DISABLE", "SIMPLE", "ISTIO_MUTUAL"];

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
        (!svc.in_mesh()).then(|| {
            warning(
                field,
                format!(
                    "service {name}.{namespace}.{cluster} exists but has no sidecar workloads (sidecarWorkloads: false); SMH discovers a TrafficTarget only for a service whose pods have an Istio sidecar (or with the annotation discovery.smh.solo.io/enabled: \"true\")"
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests;
