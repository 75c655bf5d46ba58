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
    OutlierDetection, RetryPolicy, TrafficPolicy, TrafficPolicySpec, TrafficTargetSelector,
    WeightedDestination, outlier_defaults,
};
use super::validate::{ValidateOptions, is_istio_protocol, validate_with};
use super::{Manifest, SmhObject};
use crate::consts::{CREATED_FOR_ANNOTATION, SMH_API_VERSION, SMH_NAMESPACE};

/// The file label of the manifests `failover create` builds, in diagnostics.
pub(crate) const CREATE_LABEL: &str = "failover create";
/// Suffix of the default FailoverService name (`reviews` → `reviews-failover`).
pub(crate) const NAME_SUFFIX: &str = "-failover";
/// Suffix of the outlier-detection policy's default name (`<fs>-outlier`).
pub(crate) const OUTLIER_SUFFIX: &str = "-outlier";
/// Suffix of the traffic-shift policies' default name (`<fs>-shift`).
pub(crate) const SHIFT_SUFFIX: &str = "-shift";

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
// Inputs
// ---------------------------------------------------------------------------------------

/// What exists: the live topology (discovered services and meshes) and the SMH objects
/// already stored in the management cluster (with their status).
#[derive(Debug, Clone, Copy)]
pub struct Live<'a> {
    /// Clusters, meshes and services as discovered (or from a topology file).
    pub topology: &'a Topology,
    /// The FailoverServices and TrafficPolicies stored in the management cluster.
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
    /// FailoverService name; default `<primary service>-failover`.
    pub name: Option<String>,
    /// The FailoverService's namespace (and the outlier policy's).
    pub namespace: String,
    /// Hostname; default `<name>.<primary namespace>.global`.
    pub hostname: Option<String>,
    /// Port number; default the primary service's port.
    pub port: Option<u32>,
    /// Protocol; default from the primary service's port (`appProtocol`, port name prefix, else `http`).
    pub protocol: Option<String>,
    /// Backing services, highest priority first.
    pub backing: Vec<ClusterObjectRef>,
    /// Meshes that see the hostname; default the mesh of the primary's cluster.
    pub meshes: Vec<ObjectRef>,
    /// Outlier detection for backing services that have none.
    pub outlier: OutlierFlags,
    /// Services whose callers are shifted to the FailoverService.
    pub shift_from: Vec<ClusterObjectRef>,
    /// Name of the outlier-detection policy; default `<name>-outlier`.
    pub outlier_policy_name: Option<String>,
    /// Name of the traffic-shift policies; default `<name>-shift`.
    pub shift_policy_name: Option<String>,
    /// Retries on the traffic shift (`--zero-loss`: [`crate::model::zero_loss::retries`]);
    /// `None` leaves Istio's default.
    pub shift_retries: Option<RetryPolicy>,
}

/// A complete request: every default resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    /// FailoverService name.
    pub name: String,
    /// Namespace of the FailoverService and of the outlier-detection policy.
    pub namespace: String,
    /// The FailoverService's hostname (ends in `.global`).
    pub hostname: String,
    /// The FailoverService's port number.
    pub port: u32,
    /// The FailoverService's port protocol.
    pub protocol: String,
    /// Backing services, highest priority first.
    pub backing: Vec<ClusterObjectRef>,
    /// Meshes that see the hostname.
    pub meshes: Vec<ObjectRef>,
    /// Outlier detection for the backing services that have none.
    pub outlier: OutlierFlags,
    /// Services whose callers are shifted to the FailoverService.
    pub shift_from: Vec<ClusterObjectRef>,
    /// Name of the outlier-detection TrafficPolicy.
    pub outlier_policy_name: String,
    /// Name of the traffic-shift TrafficPolicies (one per namespace).
    pub shift_policy_name: String,
    /// Retries on the traffic shift.
    pub shift_retries: Option<RetryPolicy>,
}

/// Why a request cannot be built. Messages name the flag that fixes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error(
        "a FailoverService needs at least two backing services (--backing, in priority order) to fail over; {given} given"
    )]
    /// Fewer than two backing services.
    TooFewBacking {
        /// How many were given.
        given: usize,
    },
    #[error("{flag} {service} is given twice")]
    /// A service given twice to one flag.
    Duplicate {
        /// The flag, e.g. `--backing`.
        flag: &'static str,
        /// The service, `name.namespace@cluster`.
        service: String,
    },
    #[error("{flag} {service}: cluster {cluster:?} was not discovered (clusters: {})", join_or_none(.known))]
    /// A service in a cluster that was not discovered.
    UnknownCluster {
        /// The flag that named the service.
        flag: &'static str,
        /// The service, `name.namespace@cluster`.
        service: String,
        /// The cluster it names.
        cluster: String,
        /// The clusters that were discovered.
        known: Vec<String>,
    },
    #[error("{flag} {service}: no such Service in cluster {cluster}{}", candidates_hint(.candidates))]
    /// A service its cluster does not have.
    UnknownService {
        /// The flag that named the service.
        flag: &'static str,
        /// The service, `name.namespace@cluster`.
        service: String,
        /// The cluster it names.
        cluster: String,
        /// Services of that cluster with a similar name.
        candidates: Vec<String>,
    },
    #[error(
        "{flag} {service}: the Service exists, but no pod with an Istio sidecar backs it, so Service Mesh Hub would not discover it (inject the sidecar, or annotate the Service discovery.smh.solo.io/enabled=true)"
    )]
    /// A service without sidecar workloads, which SMH would not discover.
    NoSidecar {
        /// The flag that named the service.
        flag: &'static str,
        /// The service, `name.namespace@cluster`.
        service: String,
    },
    #[error("cluster {cluster} has no Istio mesh (no istiod found): pass --mesh")]
    /// The primary's cluster has no mesh and `--mesh` was not given.
    NoMesh {
        /// The cluster.
        cluster: String,
    },
    #[error("{service} has no TCP port to offer: pass --port")]
    /// The primary service has no TCP port and `--port` was not given.
    NoPorts {
        /// The service, `name.namespace@cluster`.
        service: String,
    },
    #[error("{service} has several ports ({}): pass --port", .ports.join(", "))]
    /// The primary service has several ports and `--port` was not given.
    AmbiguousPort {
        /// The service, `name.namespace@cluster`.
        service: String,
        /// Its ports, as `describe_port` writes them.
        ports: Vec<String>,
    },
    #[error(
        "FailoverService {namespace}/{name} already exists (hostname {hostname}): choose another name, delete it with `kubectl smh failover delete {name}`, or change it with `kubectl smh apply`"
    )]
    /// A FailoverService of that name already exists.
    FailoverServiceExists {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Its hostname.
        hostname: String,
    },
    #[error(
        "TrafficPolicy {namespace}/{name} already exists and was not made for this FailoverService: pass {flag} with another name"
    )]
    /// A TrafficPolicy with the name a new policy would take already exists.
    PolicyNameTaken {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The flag that names the new policy.
        flag: &'static str,
    },
    #[error(
        "the outlier detection flags would not be used: every backing service already has outlier detection ({}); change that policy, or leave out --consecutive-errors, --interval, --base-ejection-time and --max-ejection-percent",
        .covered.iter().map(|c| format!("{} from TrafficPolicy {}/{}: {}", service_ref(&c.service), c.policy.namespace, c.policy.name, c.values.effective())).collect::<Vec<_>>().join("; ")
    )]
    /// Outlier flags were given, but every backing service has outlier detection already.
    OutlierFlagsUnused {
        /// The backing services and the policies that cover them.
        covered: Vec<Coverage>,
    },
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
    /// The backing service.
    pub service: ClusterObjectRef,
    /// The policy that gives it outlier detection.
    pub policy: ObjectId,
    /// The values that policy sets.
    pub values: OutlierFlags,
}

mod defaults;
mod outlier;
mod resolve;
#[cfg(test)]
mod tests;

use defaults::tp_id;
pub use defaults::{
    default_hostname, default_name, describe_port, outlier_coverage, port_choices, port_protocol,
};
pub(crate) use defaults::{default_meshes, shift_coverage};
pub use outlier::{EffectiveOutlier, OutlierFlags};
pub use resolve::{Checked, CreatePlan, build, check, resolve};
