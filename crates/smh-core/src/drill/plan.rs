//! The drill plan: what to break, how to probe, how to judge, and the limits, made by a pure
//! function from the FailoverService, the primary Service, the deployments and the flags.
//!
//! Defaults:
//! - primary = the first backing service; secondaries = the rest;
//! - break = the deployments in the primary's cluster and namespace whose pod template labels
//!   match the primary Service's selector (bookinfo: reviews-v1 and reviews-v2; reviews-v3
//!   lives in the remote cluster), and in each the containers that serve the Service's port
//!   (see [`super::restore`]);
//! - probe through deployment `productpage-v1` in the primary's namespace and cluster, port
//!   9080, path `/productpage`, 10 probes per second, each with a 5 s timeout;
//! - classify as bookinfo ([`super::classify`]);
//! - failover must be steady within 2m of the break; failback within 2m plus the primary's
//!   `baseEjectionTime` (30s when unknown) of the restore; no limit on failed requests;
//! - "steady" means at least 99% of a window of 20 consecutive probes (2 s at 10/s) in the
//!   expected class; the moment of steadiness is the first such answer in the window;
//! - baseline: preflight needs 20 probes, at least 95% of them primary, within
//!   max(30 s, 3 × 20 / rate).
//!
//! `--break` and `--probe-workload` take `[CLUSTER:][NAMESPACE/]DEPLOYMENT`; the cluster
//! defaults to the primary's, the namespace to the primary's.
//!
//! `--break-mode` picks how the deployments break: the guide's command patch (default) or
//! `scale` (replicas to 0). With the command patch, each deployment gets a bound on how long
//! a new pod may run without becoming Ready before the drill stops
//! ([`super::workload::ready_timeout`], or `--break-ready-timeout`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use serde::Serialize;

use super::classify::{Classifier, ClassifierSpec, ClassifyError};
use super::outlier::OutlierSettings;
use super::restore::{
    BreakMode, RestoreContext, RestoreError, RestorePlan, break_patch, plan_for_mode,
    restore_patch, save_patch,
};
use super::{DeploymentRef, secs};
use crate::model::types::{ClusterObjectRef, FailoverService, ObjectRef};

mod build;
use build::find;
#[cfg(test)]
use build::serving_containers;
pub use build::{build_plan, lookups};

pub(crate) const DEFAULT_PROBE_RATE: f64 = 10.0;
pub(crate) const MAX_PROBE_RATE: f64 = 1000.0;
pub(crate) const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const DEFAULT_FAILOVER_TIMEOUT: Duration = Duration::from_secs(120);
/// The failback timeout is this plus the primary's `baseEjectionTime`.
pub(crate) const DEFAULT_FAILBACK_BASE: Duration = Duration::from_secs(120);
pub(crate) const DEFAULT_STEADY_WINDOW: usize = 20;
pub(crate) const STEADY_PERCENT: f64 = 99.0;
pub(crate) const DEFAULT_BASELINE_PROBES: usize = 20;
pub(crate) const BASELINE_MIN_PRIMARY_PERCENT: f64 = 95.0;
pub(crate) const MIN_BASELINE_TIMEOUT: Duration = Duration::from_secs(30);
/// Bookinfo's client, as the guide port-forwards it.
pub const BOOKINFO_CLIENT: &str = "productpage-v1";
/// Port of bookinfo's client's HTTP server (the guide port-forwards to it).
pub const BOOKINFO_CLIENT_PORT: u16 = 9080;
/// Path of bookinfo's page that calls `reviews`, so each probe shows which reviews answered.
pub const BOOKINFO_CLIENT_PATH: &str = "/productpage";
/// Bookinfo's service whose answers the default classifier understands.
pub(crate) const BOOKINFO_SERVICE: &str = "reviews";

/// `[CLUSTER:][NAMESPACE/]NAME`, as `--break` and `--probe-workload` take it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadRef {
    /// SMH cluster name; `None`: the primary's cluster.
    pub cluster: Option<String>,
    /// `None`: the primary's namespace.
    pub namespace: Option<String>,
    /// Deployment name.
    pub name: String,
}

impl WorkloadRef {
    /// Fill in the cluster and namespace.
    pub fn resolve(&self, cluster: &str, namespace: &str) -> DeploymentRef {
        DeploymentRef {
            cluster: self.cluster.clone().unwrap_or_else(|| cluster.to_string()),
            namespace: self
                .namespace
                .clone()
                .unwrap_or_else(|| namespace.to_string()),
            name: self.name.clone(),
        }
    }
}

impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = &self.cluster {
            write!(f, "{c}:")?;
        }
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        f.write_str(&self.name)
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

impl FromStr for WorkloadRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = "expected [CLUSTER:][NAMESPACE/]DEPLOYMENT, e.g. bookinfo/reviews-v1 or mgmt-cluster:bookinfo/reviews-v1";
        let (cluster, rest) = match s.split_once(':') {
            Some((c, rest)) => (Some(c), rest),
            None => (None, s),
        };
        let (namespace, name) = match rest.split_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, rest),
        };
        if let Some(c) = cluster
            && (c.is_empty()
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
        {
            return Err(format!("{s:?}: invalid cluster name {c:?}; {usage}"));
        }
        if let Some(ns) = namespace
            && !is_dns_label(ns)
        {
            return Err(format!("{s:?}: invalid namespace {ns:?}; {usage}"));
        }
        if !is_dns_subdomain(name) {
            return Err(format!("{s:?}: invalid deployment name {name:?}; {usage}"));
        }
        Ok(WorkloadRef {
            cluster: cluster.map(str::to_string),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        })
    }
}

/// What the user overrides; `None`/empty means the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrillOptions {
    /// `--break`: the deployments to break instead of the selector's.
    pub breaks: Vec<WorkloadRef>,
    /// `--probe-workload`: the deployment to probe through; default bookinfo's client next to
    /// the primary.
    pub probe_workload: Option<WorkloadRef>,
    /// `--probe-port`: the port of the probe workload to call; default 9080 for bookinfo's
    /// client, else its first container port.
    pub probe_port: Option<u16>,
    /// `--probe-path`: must start with `/`; default `/productpage` for productpage, else `/`.
    pub probe_path: Option<String>,
    /// Probes per second.
    pub probe_rate: Option<f64>,
    /// `--probe-timeout`: per probe, more than 0; default 5 s.
    pub probe_timeout: Option<Duration>,
    /// `--expect-primary`: a regex on the response body of an answer from the primary; default
    /// bookinfo's rule.
    pub expect_primary: Option<String>,
    /// `--expect-failover`: a regex on the response body of an answer from a secondary; default
    /// bookinfo's rule.
    pub expect_failover: Option<String>,
    /// `--expect-error`: a regex on the response body that makes an answer an error; default
    /// bookinfo's rule.
    pub expect_error: Option<String>,
    /// `--failover-timeout`: failover must be steady within this long after the break; default
    /// 2 min.
    pub failover_timeout: Option<Duration>,
    /// `--failback-timeout`: failback must be steady within this long after the restore;
    /// default 2 min plus the primary's base ejection time.
    pub failback_timeout: Option<Duration>,
    /// `--max-errors`: failed requests allowed during failover; `None`: no limit.
    pub max_errors: Option<u64>,
    /// Probes per steadiness window.
    pub steady_window: Option<usize>,
    /// `--baseline-probes`: probes preflight takes before the break (1..100000); default 20.
    pub baseline_probes: Option<usize>,
    /// `--break-mode`; `None`: the command patch, not chosen explicitly.
    pub break_mode: Option<BreakMode>,
    /// `--break-ready-timeout`: overrides every target's derived bound.
    pub break_ready_timeout: Option<Duration>,
}

/// Where the executor must list deployments before building the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookups {
    /// The primary backing service (first in priority order).
    pub primary: ClusterObjectRef,
    /// (cluster, namespace) pairs.
    pub namespaces: BTreeSet<(String, String)>,
}

/// One deployment to break.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakTarget {
    /// The deployment, `CLUSTER:NAMESPACE/NAME`.
    pub deployment: DeploymentRef,
    /// The containers to break, in pod template order.
    pub containers: Vec<String>,
    /// Why these containers.
    pub containers_reason: String,
    /// Why this deployment (selector match or `--break`).
    pub reason: String,
    /// `spec.replicas` (1 when unset).
    pub replicas: i32,
    /// Command patch: how long a new pod's broken containers may run without being Ready
    /// before the drill stops and restores (from their probes, or `--break-ready-timeout`).
    #[serde(with = "secs")]
    pub ready_timeout: Duration,
}

/// How to probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeSpec {
    /// The client workload to port-forward to.
    pub workload: DeploymentRef,
    /// Port of the client workload to call (port-forwarded).
    pub port: u16,
    /// HTTP path to request; starts with `/`.
    pub path: String,
    /// Probes sent per second (more than 0, at most 1000).
    pub rate_per_second: f64,
    #[serde(with = "secs")]
    /// How long one probe may take before it counts as an error.
    pub timeout: Duration,
}

impl ProbeSpec {
    /// Time between two probes.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate_per_second)
    }
}

/// "At least `percent`% of `window` consecutive probes".
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SteadySpec {
    /// Number of consecutive probes in a window.
    pub window: usize,
    /// Share of the window, in percent, that must be in the expected class.
    pub percent: f64,
}

impl SteadySpec {
    /// How many answers of a full window must be in the class.
    pub fn needed(&self) -> usize {
        ((self.window as f64) * self.percent / 100.0).ceil() as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
/// The baseline preflight takes before anything changes: the primary must answer most probes.
pub struct BaselineSpec {
    /// Number of probes to take.
    pub probes: usize,
    /// Share of them, in percent, that must come from the primary.
    pub min_primary_percent: f64,
    #[serde(with = "secs")]
    /// How long the baseline may take; the drill is refused when it has too few answers by
    /// then.
    pub timeout: Duration,
}

/// Everything the drill will do, decided before it touches anything.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillPlan {
    /// The drilled FailoverService.
    pub failover_service: ObjectRef,
    /// Its `spec.hostname`, the name the probes call.
    pub hostname: String,
    /// Its `spec.port`.
    pub port: u32,
    /// The backing service to break (first in priority order).
    pub primary: ClusterObjectRef,
    /// The other backing services, in priority order; failover goes to them.
    pub secondaries: Vec<ClusterObjectRef>,
    /// How the targets break.
    pub break_mode: BreakMode,
    /// `--break-mode` was given (with the command patch, preflight then warns about a
    /// readiness probe instead of refusing).
    pub break_mode_explicit: bool,
    /// The deployments to break, sorted.
    pub targets: Vec<BreakTarget>,
    /// How the answers are collected.
    pub probe: ProbeSpec,
    /// How the answers are classified (patterns, or bookinfo's defaults).
    pub classifier: ClassifierSpec,
    #[serde(with = "secs")]
    /// Failover must be steady within this long after the break.
    pub failover_timeout: Duration,
    #[serde(with = "secs")]
    /// Failback must be steady within this long after the restore.
    pub failback_timeout: Duration,
    /// Failed requests allowed during failover; `None`: no limit.
    pub max_errors: Option<u64>,
    /// What "steady" means.
    pub steady: SteadySpec,
    /// What preflight's baseline needs.
    pub baseline: BaselineSpec,
}

impl DrillPlan {
    /// The classifier the plan's patterns make (they were checked when the plan was built, so
    /// this fails only for a plan edited since).
    pub fn classifier(&self) -> Result<Classifier, ClassifyError> {
        Classifier::new(&self.classifier)
    }

    /// The deployments to break.
    pub fn deployments(&self) -> Vec<DeploymentRef> {
        self.targets.iter().map(|t| t.deployment.clone()).collect()
    }

    /// Primary hosts: the broken deployments' replicas.
    pub(crate) fn primary_hosts(&self) -> u32 {
        self.targets.iter().map(|t| t.replicas.max(0) as u32).sum()
    }

    /// The clusters of the deployments to break, sorted, each once.
    pub fn target_clusters(&self) -> Vec<String> {
        let mut c: Vec<String> = self
            .targets
            .iter()
            .map(|t| t.deployment.cluster.clone())
            .collect();
        c.sort();
        c.dedup();
        c
    }
}

/// The three patches for one deployment, as `--dry-run` shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetPatches {
    /// The deployment these patches are for.
    pub deployment: DeploymentRef,
    /// What the restore annotation saves for it.
    pub restore_plan: RestorePlan,
    /// JSON merge patch.
    pub save: serde_json::Value,
    /// Strategic merge patch.
    #[serde(rename = "break")]
    pub brk: serde_json::Value,
    /// Strategic merge patch.
    pub restore: serde_json::Value,
}

impl DrillPlan {
    /// The save, break and restore patches for every deployment to break, from the
    /// deployments as they are now. Fails like the drill would: on a deployment that already
    /// carries a restore plan, or one that is gone.
    pub fn patches(
        &self,
        deployments: &BTreeMap<String, Vec<Deployment>>,
        ctx: &RestoreContext,
    ) -> Result<Vec<TargetPatches>, RestoreError> {
        self.targets
            .iter()
            .map(|t| {
                let dep = find(deployments, &t.deployment)
                    .ok_or_else(|| RestoreError::NotFound(t.deployment.to_string()))?;
                let plan = plan_for_mode(
                    self.break_mode,
                    dep,
                    &t.deployment.cluster,
                    &t.containers,
                    ctx,
                )?;
                Ok(TargetPatches {
                    deployment: t.deployment.clone(),
                    save: save_patch(&plan)?,
                    brk: break_patch(&plan),
                    restore: restore_patch(&plan),
                    restore_plan: plan,
                })
            })
            .collect()
    }
}

/// `name.namespace @ cluster`.
pub fn service_label(s: &ClusterObjectRef) -> String {
    format!("{}.{} @ {}", s.name, s.namespace, s.cluster_name)
}

/// What the plan is made from.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// The FailoverService to drill.
    pub failover_service: &'a FailoverService,
    /// The primary backing service's Service object (from the primary's cluster).
    pub primary_service: &'a Service,
    /// Deployments by SMH cluster name, at least for every namespace [`lookups`] names.
    pub deployments: &'a BTreeMap<String, Vec<Deployment>>,
    /// The primary's outlier detection, when known (sets the default failback timeout).
    pub primary_outlier: Option<&'a OutlierSettings>,
}

#[derive(Debug, thiserror::Error)]
/// Why no plan can be made; each message says which flag or fix to use.
pub enum PlanError {
    #[error(
        "FailoverService {0} has {1} backing service(s); a drill needs a primary and at least one secondary"
    )]
    /// The FailoverService (`namespace/name`) and how many backing services it has.
    TooFewBackingServices(String, usize),
    #[error("FailoverService {fs}: spec.backingServices[{index}] has no kubeService")]
    /// A backing service that is not a Kubernetes Service.
    NotAKubeService {
        /// The FailoverService, `namespace/name`.
        fs: String,
        /// 0-based index in `spec.backingServices`.
        index: usize,
    },
    #[error("FailoverService {0} has no spec.port")]
    /// The FailoverService has no port to probe; holds its `namespace/name`.
    NoPort(String),
    #[error(
        "Service {service} has no selector, so the deployments behind it cannot be found: pass --break [CLUSTER:]NAMESPACE/DEPLOYMENT for each deployment to break"
    )]
    /// The primary Service selects no pods, so the deployments to break are unknown.
    NoSelector {
        /// The Service, `namespace/name in cluster C`.
        service: String,
    },
    #[error(
        "no deployment in namespace {namespace} of cluster {cluster} has pod labels matching {selector} (the selector of Service {service}): pass --break [CLUSTER:]NAMESPACE/DEPLOYMENT for each deployment to break"
    )]
    /// No deployment next to the primary matches its Service's selector.
    NoMatchingDeployments {
        /// The primary's cluster.
        cluster: String,
        /// The primary's namespace.
        namespace: String,
        /// The selector, `k=v,k=v`.
        selector: String,
        /// The Service, `namespace/name in cluster C`.
        service: String,
    },
    #[error("--break {0}: deployment not found (is the cluster name right, and the namespace?)")]
    /// A `--break` deployment that does not exist.
    BreakNotFound(DeploymentRef),
    #[error(
        "no client workload to probe through: bookinfo's {default} is not in namespace {namespace} of cluster {cluster}; pass --probe-workload [CLUSTER:]NAMESPACE/DEPLOYMENT (a workload that calls the failover service), --probe-port and --probe-path"
    )]
    /// No `--probe-workload` and bookinfo's client is not next to the primary.
    NoDefaultClient {
        /// The default client's deployment name.
        default: String,
        /// The primary's cluster.
        cluster: String,
        /// The primary's namespace.
        namespace: String,
    },
    #[error(
        "--probe-workload {0}: deployment not found (is the cluster name right, and the namespace?)"
    )]
    /// The `--probe-workload` deployment does not exist.
    ProbeWorkloadNotFound(DeploymentRef),
    #[error(
        "--probe-workload {0}: its containers declare no port; pass --probe-port PORT (the port its HTTP server listens on)"
    )]
    /// The probe workload declares no container port and no `--probe-port` was given.
    NoProbePort(DeploymentRef),
    #[error(
        "the probe workload {0} is also a deployment to break; probe through a client of the service instead (--probe-workload)"
    )]
    /// The probe workload would be broken too.
    ProbeIsTarget(DeploymentRef),
    #[error(
        "the default classification understands bookinfo's productpage calling `reviews`, but the primary service is {0}: pass --expect-primary REGEX and --expect-failover REGEX (matched against the probe's response body)"
    )]
    /// Not bookinfo's `reviews`, and the `--expect-*` patterns are missing; holds the
    /// primary Service.
    NeedsExpectations(String),
    #[error("{flag} {value}: {why}")]
    /// A flag's value is out of range.
    BadValue {
        /// The flag, e.g. `--probe-rate`.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What the value must be.
        why: &'static str,
    },
    #[error("deployment {0} has no containers in its pod template")]
    /// A deployment to break has no containers.
    NoContainers(DeploymentRef),
    #[error(transparent)]
    /// An `--expect-*` pattern is not a valid regex.
    Classify(#[from] ClassifyError),
}

#[cfg(test)]
mod tests;
