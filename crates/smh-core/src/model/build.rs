//! What `kubectl smh failover create` creates: PURE. From a request (backing services in
//! priority order, hostname, port, meshes, outlier detection, callers to shift) and what
//! exists (the live [`Topology`] and the SMH objects already stored), build the manifests:
//!
//! 1. a **FailoverService** in the request's namespace;
//! 2. an **outlier-detection TrafficPolicy** `<fs>-outlier` (in the FailoverService's
//!    namespace) selecting every backing service that no existing policy already gives
//!    outlier detection. Services that have it keep theirs: a second policy would conflict
//!    (SMH lets one policy own `outlierDetection` per service), and the reuse is reported
//!    in [`CreatePlan::reused_outlier`];
//! 3. a **traffic-shift TrafficPolicy** `<fs>-shift` in each namespace of the `shift_from`
//!    services (the guide's `reviews-shift-failover`), routing their traffic to the
//!    FailoverService, unless a policy already shifts them to it.
//!
//! Every policy made here carries [`CREATED_FOR_ANNOTATION`] = `<fs-namespace>/<fs-name>`,
//! so `failover delete --with-policies` can find them.
//!
//! Defaults follow Service Mesh Hub (its docs and the guide): name `<svc>-failover` after
//! the primary (first) backing service, hostname `<name>.<svc-ns>.global`, the primary's
//! port and protocol (its `appProtocol`, else the port name's `<protocol>[-suffix]`
//! prefix, else `http`), the mesh of the primary's cluster, and SMH's outlier detection
//! defaults 5 / 10s / 30s / maxEjectionPercent 100. Outlier values equal to SMH's defaults
//! are left out of the manifest (SMH treats unset as the default), so that the manifests
//! read like the guide's.
//!
//! An existing policy "gives outlier detection" to a service when it sets
//! `outlierDetection`, its destination selector selects the service
//! ([`super::select`]), SMH would apply it (validation finds no pre-check or field error in
//! it, the rule [`super::validate`] uses), and its status does not reject it (state
//! `INVALID`/`FAILED` overall or for that service). A policy stored but not yet processed
//! (no status) counts. [`check`] then runs the parser and [`super::validate`]
//! over the existing objects plus the new ones, and returns the problems the new objects
//! bring.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::diag::{Diagnostic, ObjectId, Severity};
use super::duration::format_proto_duration;
use super::k8s;
use super::naming::traffic_target_key;
use super::parse::parse_str_with;
use super::select::TargetIndex;
use super::topology::{Service, ServicePort, Topology};
use super::types::{
    ApprovalState, BackingService, ClusterObjectRef, FailoverService, FailoverServiceDestination,
    FailoverServicePort, FailoverServiceSpec, KubeServiceRefs, MultiDestination, ObjectRef,
    OutlierDetection, TrafficPolicy, TrafficPolicySpec, TrafficTargetSelector, WeightedDestination,
    outlier_defaults,
};
use super::validate::{ValidateOptions, is_istio_protocol, validate_with};
use super::{Manifest, SmhObject};
use crate::consts::{CREATED_FOR_ANNOTATION, SMH_API_VERSION, SMH_NAMESPACE};

/// The file label of the manifests `failover create` builds, in diagnostics.
pub const CREATE_LABEL: &str = "failover create";
/// Suffix of the default FailoverService name (`reviews` → `reviews-failover`).
pub const NAME_SUFFIX: &str = "-failover";
/// Suffix of the outlier-detection policy's default name (`<fs>-outlier`).
pub const OUTLIER_SUFFIX: &str = "-outlier";
/// Suffix of the traffic-shift policies' default name (`<fs>-shift`).
pub const SHIFT_SUFFIX: &str = "-shift";

// ---------------------------------------------------------------------------------------
// `svc.ns@cluster` and `name[.ns]`
// ---------------------------------------------------------------------------------------

/// Parse `SERVICE.NAMESPACE@CLUSTER` (`reviews.bookinfo@mgmt-cluster`) strictly: exactly
/// one `@`, exactly one `.` before it, a DNS-1123 label for the service and the namespace,
/// a DNS-1123 subdomain for the cluster.
pub fn parse_service_ref(s: &str) -> Result<ClusterObjectRef, String> {
    const EXPECTED: &str = "expected SERVICE.NAMESPACE@CLUSTER, e.g. reviews.bookinfo@mgmt-cluster";
    let bad = |why: &str| format!("{s:?}: {why}; {EXPECTED}");
    if s.trim() != s {
        return Err(bad("leading or trailing spaces"));
    }
    let (svc_ns, cluster) = match s.split_once('@') {
        Some((left, right)) if !right.contains('@') => (left, right),
        Some(_) => return Err(bad("more than one '@'")),
        None => return Err(bad("no '@CLUSTER'")),
    };
    let (name, namespace) = match svc_ns.split('.').collect::<Vec<_>>().as_slice() {
        [name, namespace] => (*name, *namespace),
        [_] => return Err(bad("no '.NAMESPACE' after the service name")),
        _ => {
            return Err(bad(
                "more than one '.' before '@' (write the service's name and namespace, not its DNS name)",
            ));
        }
    };
    let check = |what: &str, value: &str, errs: Vec<String>| -> Result<(), String> {
        if value.is_empty() {
            return Err(bad(&format!("the {what} is empty")));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(bad(&format!(
                "the {what} {value:?} is invalid: {}",
                errs.join("; ")
            )))
        }
    };
    check("service name", name, k8s::is_dns1123_label(name))?;
    check("namespace", namespace, k8s::is_dns1123_label(namespace))?;
    check(
        "cluster name",
        cluster,
        super::limits::cluster_name(cluster),
    )?;
    Ok(ClusterObjectRef {
        name: name.to_string(),
        namespace: namespace.to_string(),
        cluster_name: cluster.to_string(),
    })
}

/// `reviews.bookinfo@mgmt-cluster`: how a service is written on the command line.
pub fn service_ref(r: &ClusterObjectRef) -> String {
    format!("{}.{}@{}", r.name, r.namespace, r.cluster_name)
}

/// Parse a mesh reference `NAME[.NAMESPACE]` (`istiod-istio-system-mgmt-cluster`); the
/// namespace defaults to `service-mesh-hub`, where SMH kept its discovered meshes.
pub fn parse_mesh_ref(s: &str) -> Result<ObjectRef, String> {
    const EXPECTED: &str = "expected NAME[.NAMESPACE], e.g. istiod-istio-system-mgmt-cluster";
    let bad = |why: &str| format!("{s:?}: {why}; {EXPECTED}");
    let (name, namespace) = match s.split('.').collect::<Vec<_>>().as_slice() {
        [name] => (*name, SMH_NAMESPACE),
        [name, namespace] => (*name, *namespace),
        _ => return Err(bad("more than one '.'")),
    };
    for (what, value) in [("mesh name", name), ("namespace", namespace)] {
        if value.is_empty() {
            return Err(bad(&format!("the {what} is empty")));
        }
        let errs = k8s::is_dns1123_label(value);
        if !errs.is_empty() {
            return Err(bad(&format!(
                "the {what} {value:?} is invalid: {}",
                errs.join("; ")
            )));
        }
    }
    Ok(ObjectRef {
        name: name.to_string(),
        namespace: namespace.to_string(),
    })
}

// ---------------------------------------------------------------------------------------
// Outlier detection values
// ---------------------------------------------------------------------------------------

/// Outlier detection as the user gives it; `None` is SMH's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutlierValues {
    pub consecutive_errors: Option<u32>,
    pub interval: Option<Duration>,
    pub base_ejection_time: Option<Duration>,
    pub max_ejection_percent: Option<u32>,
}

/// Outlier detection with every default applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveOutlier {
    pub consecutive_errors: u32,
    pub interval: Duration,
    pub base_ejection_time: Duration,
    pub max_ejection_percent: u32,
}

impl EffectiveOutlier {
    /// SMH's defaults: 5 / 10s / 30s / 100.
    pub fn smh_default() -> Self {
        EffectiveOutlier {
            consecutive_errors: outlier_defaults::CONSECUTIVE_ERRORS,
            interval: Duration::from_secs(10),
            base_ejection_time: Duration::from_secs(30),
            max_ejection_percent: outlier_defaults::MAX_EJECTION_PERCENT,
        }
    }
}

impl std::fmt::Display for EffectiveOutlier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "consecutiveErrors {}, interval {}, baseEjectionTime {}, maxEjectionPercent {}",
            self.consecutive_errors,
            format_proto_duration(self.interval),
            format_proto_duration(self.base_ejection_time),
            self.max_ejection_percent
        )
    }
}

impl OutlierValues {
    /// Whether any value was given.
    pub fn is_set(&self) -> bool {
        self != &OutlierValues::default()
    }

    /// The values with SMH's defaults filled in.
    pub fn effective(&self) -> EffectiveOutlier {
        let d = EffectiveOutlier::smh_default();
        EffectiveOutlier {
            consecutive_errors: self.consecutive_errors.unwrap_or(d.consecutive_errors),
            interval: self.interval.unwrap_or(d.interval),
            base_ejection_time: self.base_ejection_time.unwrap_or(d.base_ejection_time),
            max_ejection_percent: self.max_ejection_percent.unwrap_or(d.max_ejection_percent),
        }
    }

    /// Only the values that differ from SMH's defaults (`None` otherwise).
    pub fn from_effective(e: EffectiveOutlier) -> Self {
        let d = EffectiveOutlier::smh_default();
        fn differ<T: PartialEq>(v: T, d: T) -> Option<T> {
            if v == d { None } else { Some(v) }
        }
        OutlierValues {
            consecutive_errors: differ(e.consecutive_errors, d.consecutive_errors),
            interval: differ(e.interval, d.interval),
            base_ejection_time: differ(e.base_ejection_time, d.base_ejection_time),
            max_ejection_percent: differ(e.max_ejection_percent, d.max_ejection_percent),
        }
    }

    /// The SMH field, with the values that differ from SMH's defaults (unset means the
    /// default to SMH, so `{consecutiveErrors: 1}` is the guide's policy).
    pub fn to_smh(&self) -> OutlierDetection {
        let only = OutlierValues::from_effective(self.effective());
        OutlierDetection {
            consecutive_errors: only.consecutive_errors.unwrap_or(0),
            interval: only.interval.map(format_proto_duration),
            base_ejection_time: only.base_ejection_time.map(format_proto_duration),
            max_ejection_percent: only.max_ejection_percent.unwrap_or(0),
        }
    }

    /// The values an SMH `outlierDetection` field means (unset or unreadable: default).
    pub fn from_smh(od: &OutlierDetection) -> Self {
        let dur = |v: &Option<String>| {
            v.as_deref()
                .and_then(|s| super::duration::parse_duration(s).ok())
                .filter(|d| !d.is_zero())
        };
        let nz = |v: u32| (v != 0).then_some(v);
        OutlierValues {
            consecutive_errors: nz(od.consecutive_errors),
            interval: dur(&od.interval),
            base_ejection_time: dur(&od.base_ejection_time),
            max_ejection_percent: nz(od.max_ejection_percent),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

/// What exists: the live topology (discovered services and meshes) and the SMH objects
/// already stored in the management cluster (with their status).
#[derive(Debug, Clone, Copy)]
pub struct Live<'a> {
    pub topology: &'a Topology,
    pub existing: &'a [Manifest],
}

impl<'a> Live<'a> {
    fn policies(&self) -> impl Iterator<Item = &'a TrafficPolicy> + 'a {
        self.existing.iter().filter_map(|m| match &m.object {
            SmhObject::TrafficPolicy(tp) => Some(tp),
            SmhObject::FailoverService(_) => None,
        })
    }

    fn failover_services(&self) -> impl Iterator<Item = &'a FailoverService> + 'a {
        self.existing.iter().filter_map(|m| match &m.object {
            SmhObject::FailoverService(fs) => Some(fs),
            SmhObject::TrafficPolicy(_) => None,
        })
    }

    /// The service `r` in the topology (with or without sidecar workloads).
    pub fn service(&self, r: &ClusterObjectRef) -> Option<&'a Service> {
        self.topology
            .cluster(&r.cluster_name)?
            .service(&r.name, &r.namespace)
    }
}

/// What the user asked for (flags, or the wizard's answers); `None` or empty means the
/// default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOptions {
    pub name: Option<String>,
    /// The FailoverService's namespace (and the outlier policy's).
    pub namespace: String,
    pub hostname: Option<String>,
    pub port: Option<u32>,
    pub protocol: Option<String>,
    /// Backing services, highest priority first.
    pub backing: Vec<ClusterObjectRef>,
    pub meshes: Vec<ObjectRef>,
    pub outlier: OutlierValues,
    /// Services whose callers are shifted to the FailoverService.
    pub shift_from: Vec<ClusterObjectRef>,
    pub outlier_policy_name: Option<String>,
    pub shift_policy_name: Option<String>,
}

/// A complete request: every default resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    pub name: String,
    pub namespace: String,
    pub hostname: String,
    pub port: u32,
    pub protocol: String,
    pub backing: Vec<ClusterObjectRef>,
    pub meshes: Vec<ObjectRef>,
    pub outlier: OutlierValues,
    pub shift_from: Vec<ClusterObjectRef>,
    pub outlier_policy_name: String,
    pub shift_policy_name: String,
}

/// Why a request cannot be built. Messages name the flag that fixes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error(
        "a FailoverService needs at least two backing services (--backing, in priority order) to fail over; {given} given"
    )]
    TooFewBacking { given: usize },
    #[error("{flag} {service} is given twice")]
    Duplicate { flag: &'static str, service: String },
    #[error("{flag} {service}: cluster {cluster:?} was not discovered (clusters: {})", join_or_none(.known))]
    UnknownCluster {
        flag: &'static str,
        service: String,
        cluster: String,
        known: Vec<String>,
    },
    #[error("{flag} {service}: no such Service in cluster {cluster}{}", candidates_hint(.candidates))]
    UnknownService {
        flag: &'static str,
        service: String,
        cluster: String,
        candidates: Vec<String>,
    },
    #[error(
        "{flag} {service}: the Service exists, but no pod with an Istio sidecar backs it, so Service Mesh Hub would not discover it (inject the sidecar, or annotate the Service discovery.smh.solo.io/enabled=true)"
    )]
    NoSidecar { flag: &'static str, service: String },
    #[error("cluster {cluster} has no Istio mesh (no istiod found): pass --mesh")]
    NoMesh { cluster: String },
    #[error("{service} has no TCP port to offer: pass --port")]
    NoPorts { service: String },
    #[error("{service} has several ports ({}): pass --port", .ports.join(", "))]
    AmbiguousPort { service: String, ports: Vec<String> },
    #[error(
        "FailoverService {namespace}/{name} already exists (hostname {hostname}): choose another name, delete it with `kubectl smh failover delete {name}`, or change it with `kubectl smh apply`"
    )]
    FailoverServiceExists {
        namespace: String,
        name: String,
        hostname: String,
    },
    #[error(
        "TrafficPolicy {namespace}/{name} already exists and was not made for this FailoverService: pass {flag} with another name"
    )]
    PolicyNameTaken {
        namespace: String,
        name: String,
        flag: &'static str,
    },
    #[error(
        "the outlier detection flags would not be used: every backing service already has outlier detection ({}); change that policy, or leave out --consecutive-errors, --interval, --base-ejection-time and --max-ejection-percent",
        .covered.iter().map(|c| format!("{} from TrafficPolicy {}/{}: {}", service_ref(&c.service), c.policy.namespace, c.policy.name, c.values.effective())).collect::<Vec<_>>().join("; ")
    )]
    OutlierFlagsUnused { covered: Vec<Coverage> },
}

fn join_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

fn candidates_hint(c: &[String]) -> String {
    if c.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", c.join(", "))
    }
}

/// A backing service that already has outlier detection, and from which policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub service: ClusterObjectRef,
    pub policy: ObjectId,
    pub values: OutlierValues,
}

// ---------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------

/// `<svc>-failover`.
pub fn default_name(primary: &ClusterObjectRef) -> String {
    format!("{}{NAME_SUFFIX}", primary.name)
}

/// `<name>.<svc-ns>.global` (`reviews-failover.bookinfo.global` for the default name).
pub fn default_hostname(name: &str, primary: &ClusterObjectRef) -> String {
    format!("{name}.{}.global", primary.namespace)
}

/// The protocol Istio would give a Service port: its `appProtocol` when Istio knows it,
/// else the `<protocol>[-suffix]` prefix of its name when Istio knows that, else `http`.
pub fn port_protocol(p: &ServicePort) -> String {
    if let Some(ap) = &p.app_protocol {
        let ap = ap.to_ascii_lowercase();
        let ap = match ap.as_str() {
            "kubernetes.io/h2c" => "http2".to_string(),
            "kubernetes.io/ws" | "kubernetes.io/wss" => "http".to_string(),
            _ => ap,
        };
        if is_istio_protocol(&ap) {
            return ap;
        }
    }
    let prefix = p.name.split('-').next().unwrap_or_default();
    if !prefix.is_empty() && is_istio_protocol(prefix) {
        return prefix.to_ascii_lowercase();
    }
    "http".to_string()
}

/// The ports a FailoverService can listen on for `service` (TCP ports; UDP and SCTP are
/// not proxied).
pub fn port_choices(service: &Service) -> Vec<&ServicePort> {
    service
        .ports
        .iter()
        .filter(|p| p.protocol.eq_ignore_ascii_case("TCP"))
        .collect()
}

/// `9080 (http)` or `9080/http-web (http)`.
pub fn describe_port(p: &ServicePort) -> String {
    let proto = port_protocol(p);
    if p.name.is_empty() || p.name == proto {
        format!("{} ({proto})", p.port)
    } else {
        format!("{}/{} ({proto})", p.port, p.name)
    }
}

/// The default mesh: the primary's cluster's, as SMH names it, in `service-mesh-hub`.
pub fn default_meshes(
    primary: &ClusterObjectRef,
    topology: &Topology,
) -> Result<Vec<ObjectRef>, BuildError> {
    let mesh = topology
        .cluster(&primary.cluster_name)
        .and_then(|c| c.mesh.as_ref())
        .ok_or_else(|| BuildError::NoMesh {
            cluster: primary.cluster_name.clone(),
        })?;
    Ok(vec![ObjectRef {
        name: mesh.smh_name(&primary.cluster_name),
        namespace: SMH_NAMESPACE.to_string(),
    }])
}

/// Does the status of `tp` reject it, overall or for the traffic target `key`?
fn status_rejects(tp: &TrafficPolicy, key: &str) -> bool {
    let bad = |s: ApprovalState| matches!(s, ApprovalState::Invalid | ApprovalState::Failed);
    tp.status
        .as_ref()
        .is_some_and(|s| bad(s.state) || s.traffic_targets.get(key).is_some_and(|t| bad(t.state)))
}

fn tp_id(tp: &TrafficPolicy) -> ObjectId {
    ObjectId {
        kind: TrafficPolicy::KIND.to_string(),
        namespace: tp
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| SMH_NAMESPACE.to_string()),
        name: tp.metadata.name.clone().unwrap_or_default(),
    }
}

/// The existing policies SMH would not apply at all: those with an error from the
/// pre-check or the field checks (no status target, or the top-level one), as
/// [`super::validate`] decides for "has a TrafficPolicy with outlier detection".
fn invalid_policies(live: &Live) -> BTreeSet<ObjectId> {
    let options = ValidateOptions {
        complete: true,
        rejected: Vec::new(),
    };
    validate_with(live.existing, live.topology, &options)
        .into_iter()
        .filter(|d| {
            d.severity == Severity::Error
                && matches!(
                    d.status_target,
                    None | Some(super::diag::StatusTarget::TopLevel)
                )
        })
        .filter_map(|d| d.object)
        .filter(|o| o.kind == TrafficPolicy::KIND)
        .collect()
}

/// For each service, the existing policy that gives it outlier detection, if any (the
/// first by namespace and name when several do).
pub fn outlier_coverage(services: &[ClusterObjectRef], live: &Live) -> Vec<Option<Coverage>> {
    let invalid = invalid_policies(live);
    let policies: Vec<&TrafficPolicy> = live
        .policies()
        .filter(|tp| tp.spec.outlier_detection.is_some() && !invalid.contains(&tp_id(tp)))
        .collect();
    services
        .iter()
        .zip(covering(services, policies, live))
        .map(|(s, tp)| {
            tp.map(|tp| Coverage {
                service: s.clone(),
                policy: tp_id(tp),
                values: tp
                    .spec
                    .outlier_detection
                    .as_ref()
                    .map(OutlierValues::from_smh)
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// For each service, an existing policy that already shifts its traffic to the
/// FailoverService `namespace/name`, if any.
pub fn shift_coverage(
    services: &[ClusterObjectRef],
    namespace: &str,
    name: &str,
    live: &Live,
) -> Vec<Option<ObjectId>> {
    let policies: Vec<&TrafficPolicy> = live
        .policies()
        .filter(|tp| {
            tp.spec
                .traffic_shift
                .iter()
                .flat_map(|s| &s.destinations)
                .filter_map(|d| d.failover_service.as_ref())
                .any(|f| f.name == name && f.namespace == namespace)
        })
        .collect();
    covering(services, policies, live)
        .into_iter()
        .map(|tp| tp.map(tp_id))
        .collect()
}

/// For each service, the first of `policies` (by namespace and name) that selects it and
/// whose status does not reject it, if any.
fn covering<'a>(
    services: &[ClusterObjectRef],
    mut policies: Vec<&'a TrafficPolicy>,
    live: &Live,
) -> Vec<Option<&'a TrafficPolicy>> {
    let index = TargetIndex::new(live.topology);
    policies.sort_by_key(|tp| tp_id(tp));
    let selected: Vec<BTreeSet<usize>> = policies
        .iter()
        .map(|tp| index.policy_targets(tp).into_iter().collect())
        .collect();
    services
        .iter()
        .map(|s| {
            let t = index.find(&s.name, &s.namespace, &s.cluster_name)?;
            let key = traffic_target_key(&s.name, &s.namespace, &s.cluster_name);
            policies
                .iter()
                .zip(&selected)
                .find(|(tp, sel)| sel.contains(&t) && !status_rejects(tp, &key))
                .map(|(tp, _)| *tp)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Resolve and build
// ---------------------------------------------------------------------------------------

/// Check that `r` is a service SMH would discover: its cluster was discovered, the
/// Service exists there, and sidecar workloads back it.
pub fn check_service(
    flag: &'static str,
    r: &ClusterObjectRef,
    live: &Live,
) -> Result<(), BuildError> {
    let shown = service_ref(r);
    let Some(cluster) = live.topology.cluster(&r.cluster_name) else {
        return Err(BuildError::UnknownCluster {
            flag,
            service: shown,
            cluster: r.cluster_name.clone(),
            known: live
                .topology
                .clusters
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        });
    };
    match cluster.service(&r.name, &r.namespace) {
        Some(s) if s.sidecar_workloads => Ok(()),
        Some(_) => Err(BuildError::NoSidecar {
            flag,
            service: shown,
        }),
        None => {
            // Same name anywhere, else anything in the same namespace of that cluster.
            let mut candidates: Vec<String> = live
                .topology
                .clusters
                .iter()
                .flat_map(|c| {
                    c.services
                        .iter()
                        .filter(|s| s.name == r.name)
                        .map(move |s| format!("{}.{}@{}", s.name, s.namespace, c.name))
                })
                .collect();
            if candidates.is_empty() {
                candidates = cluster
                    .services
                    .iter()
                    .filter(|s| s.namespace == r.namespace)
                    .map(|s| format!("{}.{}@{}", s.name, s.namespace, cluster.name))
                    .collect();
            }
            candidates.sort();
            candidates.truncate(8);
            Err(BuildError::UnknownService {
                flag,
                service: shown,
                cluster: r.cluster_name.clone(),
                candidates,
            })
        }
    }
}

/// Fill in every default. Every problem is reported, not just the first.
pub fn resolve(opts: &CreateOptions, live: &Live) -> Result<CreateRequest, Vec<BuildError>> {
    let mut errors = Vec::new();
    if opts.backing.len() < 2 {
        errors.push(BuildError::TooFewBacking {
            given: opts.backing.len(),
        });
    }
    for (flag, list) in [
        ("--backing", &opts.backing),
        ("--shift-from", &opts.shift_from),
    ] {
        let mut seen = BTreeSet::new();
        for r in list {
            if !seen.insert(r) {
                errors.push(BuildError::Duplicate {
                    flag,
                    service: service_ref(r),
                });
            } else if let Err(e) = check_service(flag, r, live) {
                errors.push(e);
            }
        }
    }
    let Some(primary) = opts.backing.first() else {
        return Err(errors);
    };
    let name = opts.name.clone().unwrap_or_else(|| default_name(primary));
    let hostname = opts
        .hostname
        .clone()
        .unwrap_or_else(|| default_hostname(&name, primary));
    let primary_service = live.service(primary);
    let (port, protocol) = match (opts.port, primary_service) {
        (Some(port), service) => {
            let proto = opts.protocol.clone().unwrap_or_else(|| {
                service
                    .and_then(|s| port_choices(s).into_iter().find(|p| p.port == port))
                    .map(port_protocol)
                    .unwrap_or_else(|| "http".to_string())
            });
            (port, proto)
        }
        (None, Some(service)) => match port_choices(service).as_slice() {
            [p] => (
                p.port,
                opts.protocol.clone().unwrap_or_else(|| port_protocol(p)),
            ),
            [] => {
                errors.push(BuildError::NoPorts {
                    service: service_ref(primary),
                });
                (0, String::new())
            }
            many => {
                errors.push(BuildError::AmbiguousPort {
                    service: service_ref(primary),
                    ports: many.iter().map(|p| describe_port(p)).collect(),
                });
                (0, String::new())
            }
        },
        // The primary itself is missing: already reported.
        (None, None) => (0, String::new()),
    };
    let meshes = if opts.meshes.is_empty() {
        match default_meshes(primary, live.topology) {
            Ok(m) => m,
            Err(e) => {
                if live.topology.cluster(&primary.cluster_name).is_some() {
                    errors.push(e);
                }
                Vec::new()
            }
        }
    } else {
        opts.meshes.clone()
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CreateRequest {
        outlier_policy_name: opts
            .outlier_policy_name
            .clone()
            .unwrap_or_else(|| format!("{name}{OUTLIER_SUFFIX}")),
        shift_policy_name: opts
            .shift_policy_name
            .clone()
            .unwrap_or_else(|| format!("{name}{SHIFT_SUFFIX}")),
        name,
        namespace: opts.namespace.clone(),
        hostname,
        port,
        protocol,
        backing: opts.backing.clone(),
        meshes,
        outlier: opts.outlier.clone(),
        shift_from: opts.shift_from.clone(),
    })
}

/// The manifests to create.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePlan {
    pub failover_service: FailoverService,
    /// Outlier detection for the backing services that have none yet.
    pub outlier_policy: Option<TrafficPolicy>,
    /// One per namespace of the services to shift that are not shifted yet.
    pub shift_policies: Vec<TrafficPolicy>,
    /// Backing services that keep the outlier detection they already have.
    pub reused_outlier: Vec<Coverage>,
    /// Services already shifted to this FailoverService, and by which policy.
    pub already_shifted: Vec<(ClusterObjectRef, ObjectId)>,
}

fn created_for(req: &CreateRequest) -> BTreeMap<String, String> {
    BTreeMap::from([(
        CREATED_FOR_ANNOTATION.to_string(),
        format!("{}/{}", req.namespace, req.name),
    )])
}

fn policy(
    name: &str,
    namespace: &str,
    req: &CreateRequest,
    spec: TrafficPolicySpec,
) -> TrafficPolicy {
    TrafficPolicy {
        api_version: SMH_API_VERSION.to_string(),
        kind: TrafficPolicy::KIND.to_string(),
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            annotations: Some(created_for(req)),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    }
}

fn refs_selector(services: Vec<ClusterObjectRef>) -> Vec<TrafficTargetSelector> {
    vec![TrafficTargetSelector {
        kube_service_matcher: None,
        kube_service_refs: Some(KubeServiceRefs { services }),
    }]
}

/// Build the manifests for a complete request.
pub fn build(req: &CreateRequest, live: &Live) -> Result<CreatePlan, Vec<BuildError>> {
    let mut errors = Vec::new();
    if let Some(fs) = live.failover_services().find(|fs| {
        fs.metadata.name.as_deref() == Some(req.name.as_str())
            && fs.metadata.namespace.as_deref().unwrap_or(SMH_NAMESPACE) == req.namespace
    }) {
        errors.push(BuildError::FailoverServiceExists {
            namespace: req.namespace.clone(),
            name: req.name.clone(),
            hostname: fs.spec.hostname.clone(),
        });
    }

    let failover_service = FailoverService {
        api_version: SMH_API_VERSION.to_string(),
        kind: FailoverService::KIND.to_string(),
        metadata: ObjectMeta {
            name: Some(req.name.clone()),
            namespace: Some(req.namespace.clone()),
            ..ObjectMeta::default()
        },
        spec: FailoverServiceSpec {
            hostname: req.hostname.clone(),
            port: Some(FailoverServicePort {
                number: req.port,
                protocol: req.protocol.clone(),
            }),
            meshes: Some(req.meshes.clone()),
            backing_services: req
                .backing
                .iter()
                .map(|r| BackingService {
                    kube_service: Some(r.clone()),
                })
                .collect(),
        },
        status: None,
    };

    // Outlier detection for the backing services that have none.
    let coverage = outlier_coverage(&req.backing, live);
    let reused_outlier: Vec<Coverage> = coverage.iter().flatten().cloned().collect();
    let uncovered: Vec<ClusterObjectRef> = req
        .backing
        .iter()
        .zip(&coverage)
        .filter(|(_, c)| c.is_none())
        .map(|(r, _)| r.clone())
        .collect();
    let outlier_policy = if uncovered.is_empty() {
        if req.outlier.is_set() {
            errors.push(BuildError::OutlierFlagsUnused {
                covered: reused_outlier.clone(),
            });
        }
        None
    } else {
        Some(policy(
            &req.outlier_policy_name,
            &req.namespace,
            req,
            TrafficPolicySpec {
                destination_selector: refs_selector(uncovered),
                outlier_detection: Some(req.outlier.to_smh()),
                ..TrafficPolicySpec::default()
            },
        ))
    };

    // Traffic shifts, one policy per namespace of the services not shifted yet.
    let shifted = shift_coverage(&req.shift_from, &req.namespace, &req.name, live);
    let mut already_shifted = Vec::new();
    let mut by_namespace: BTreeMap<&str, Vec<ClusterObjectRef>> = BTreeMap::new();
    for (r, by) in req.shift_from.iter().zip(shifted) {
        match by {
            Some(id) => already_shifted.push((r.clone(), id)),
            None => by_namespace
                .entry(r.namespace.as_str())
                .or_default()
                .push(r.clone()),
        }
    }
    let shift_policies: Vec<TrafficPolicy> = by_namespace
        .into_iter()
        .map(|(ns, services)| {
            policy(
                &req.shift_policy_name,
                ns,
                req,
                TrafficPolicySpec {
                    destination_selector: refs_selector(services),
                    traffic_shift: Some(MultiDestination {
                        destinations: vec![WeightedDestination {
                            weight: 0,
                            kube_service: None,
                            failover_service: Some(FailoverServiceDestination {
                                name: req.name.clone(),
                                namespace: req.namespace.clone(),
                                subset: BTreeMap::new(),
                            }),
                        }],
                    }),
                    ..TrafficPolicySpec::default()
                },
            )
        })
        .collect();

    // Names the new policies take must be free (or the policy is ours already, which
    // cannot be: its FailoverService would exist).
    let new_policies = outlier_policy
        .iter()
        .map(|p| (p, "--outlier-policy-name"))
        .chain(shift_policies.iter().map(|p| (p, "--shift-policy-name")));
    for (p, flag) in new_policies {
        let id = tp_id(p);
        if live.policies().any(|tp| tp_id(tp) == id) {
            errors.push(BuildError::PolicyNameTaken {
                namespace: id.namespace,
                name: id.name,
                flag,
            });
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CreatePlan {
        failover_service,
        outlier_policy,
        shift_policies,
        reused_outlier,
        already_shifted,
    })
}

impl CreatePlan {
    /// The objects, in the order the guide creates them: outlier detection, the
    /// FailoverService, traffic shifts.
    pub fn objects(&self) -> Vec<SmhObject> {
        let mut out = Vec::new();
        if let Some(p) = &self.outlier_policy {
            out.push(SmhObject::TrafficPolicy(p.clone()));
        }
        out.push(SmhObject::FailoverService(self.failover_service.clone()));
        out.extend(
            self.shift_policies
                .iter()
                .map(|p| SmhObject::TrafficPolicy(p.clone())),
        );
        out
    }

    /// The objects as JSON values (camelCase, as `kubectl apply` reads them).
    pub fn values(&self) -> Vec<Value> {
        self.objects()
            .iter()
            .map(|o| match o {
                SmhObject::FailoverService(fs) => serde_json::to_value(fs),
                SmhObject::TrafficPolicy(tp) => serde_json::to_value(tp),
            })
            // Plain structs of strings and numbers always serialize.
            .filter_map(Result::ok)
            .collect()
    }

    /// The identities of the new objects.
    pub fn ids(&self) -> Vec<ObjectId> {
        self.objects()
            .iter()
            .map(|o| match o {
                SmhObject::FailoverService(fs) => ObjectId {
                    kind: FailoverService::KIND.to_string(),
                    namespace: fs.metadata.namespace.clone().unwrap_or_default(),
                    name: fs.metadata.name.clone().unwrap_or_default(),
                },
                SmhObject::TrafficPolicy(tp) => tp_id(tp),
            })
            .collect()
    }

    /// The objects as a YAML stream, in [`CreatePlan::objects`] order, with their own key
    /// order (apiVersion, kind, metadata, spec), as the guide writes them.
    pub fn to_yaml(&self) -> Result<String, crate::yaml_writer::YamlError> {
        let mut out = String::new();
        for (i, o) in self.objects().iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(&match o {
                SmhObject::FailoverService(fs) => crate::yaml_writer::to_yaml(fs)?,
                SmhObject::TrafficPolicy(tp) => crate::yaml_writer::to_yaml(tp)?,
            });
        }
        Ok(out)
    }
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checked {
    /// The new objects as the parser read them back from [`CreatePlan::to_yaml`] (source
    /// [`CREATE_LABEL`], documents in plan order): what `apply` will be given.
    pub manifests: Vec<Manifest>,
    /// Problems the new objects bring: parser errors, and validation findings over the
    /// existing objects plus the new ones that validating the existing ones alone does not
    /// report. Errors mean: do not apply.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Read the plan back through the parser (as `apply -f` would) and validate it together
/// with what exists.
pub fn check(plan: &CreatePlan, live: &Live) -> Checked {
    let yaml = match plan.to_yaml() {
        Ok(y) => y,
        Err(e) => {
            return Checked {
                manifests: Vec::new(),
                diagnostics: vec![Diagnostic {
                    severity: Severity::Error,
                    source: None,
                    object: None,
                    field: None,
                    position: None,
                    message: e.to_string(),
                    status_target: None,
                }],
            };
        }
    };
    let namespace = plan
        .failover_service
        .metadata
        .namespace
        .as_deref()
        .unwrap_or(SMH_NAMESPACE);
    let mut loaded = parse_str_with(CREATE_LABEL, &yaml, namespace);
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Checked {
            manifests: loaded.manifests,
            diagnostics,
        };
    }
    let options = ValidateOptions {
        complete: true,
        rejected: Vec::new(),
    };
    let before: BTreeSet<Diagnostic> = validate_with(live.existing, live.topology, &options)
        .into_iter()
        .collect();
    let mut all: Vec<Manifest> = live.existing.to_vec();
    all.extend(loaded.manifests.iter().cloned());
    let mut found: Vec<Diagnostic> = validate_with(&all, live.topology, &options)
        .into_iter()
        .filter(|d| !before.contains(d))
        .collect();
    loaded.fill_positions(&mut found);
    diagnostics.extend(found);
    Checked {
        manifests: loaded.manifests,
        diagnostics,
    }
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
