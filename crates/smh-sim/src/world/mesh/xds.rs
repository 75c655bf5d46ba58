//! The configuration one simulated sidecar runs with: what istiod would push to its Envoy
//! (routes per listener port, and clusters), reduced to what the model needs. Built from
//! Istio objects by [`super::istio::build`]; run by [`super::proxy::Proxy`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::outlier::OutlierConfig;

/// Envoy's default `common_lb_config.update_merge_window` (Istio does not set it).
pub(crate) const DEFAULT_UPDATE_MERGE_WINDOW: Duration = Duration::from_secs(1);
/// Envoy's default `healthy_panic_threshold` (50 %). istiod sets 0 on every outbound cluster
/// it generates (its services send unhealthy endpoints), or a DestinationRule's
/// `outlierDetection.minHealthPercent`; the default is left only on clusters an EnvoyFilter
/// adds without one.
pub(crate) const DEFAULT_PANIC_THRESHOLD: u32 = 50;
/// Envoy's default `circuit_breakers` `max_retries` (concurrent retries of one cluster) for a
/// cluster that sets none, like the aggregate cluster of SMH's EnvoyFilter ADD.
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 3;
/// The `max_retries` istiod writes on every cluster it generates (4294967295: no limit).
pub(crate) const ISTIO_MAX_RETRIES: u32 = u32::MAX;

/// One upstream host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `ip:port`, the host's identity for outlier detection and load balancing.
    pub key: String,
    pub ip: String,
    pub port: u16,
    /// The simulated cluster whose pod network holds `ip` (pods); `None` when unknown.
    pub cluster: Option<String>,
    /// Labels (pod labels, plus `topology.istio.io/cluster` as Istio adds).
    pub labels: BTreeMap<String, String>,
    /// Set when the host is another cluster's ingress gateway (SMH's `.global` federation):
    /// the gateway forwards by SNI to the service in its own cluster.
    pub via_gateway: Option<GatewayHop>,
    /// The host's health as istiod sends it: false for a pod that is not ready (EDS
    /// `health_status: UNHEALTHY`). Envoy never picks an unhealthy host (outside panic mode),
    /// but counts it in its priority level's size.
    pub healthy: bool,
}

/// What a remote ingress gateway does with a connection (AUTO_PASSTHROUGH by SNI, with SMH's
/// `tcp_cluster_rewrite` of `.<cluster>.global` to `.cluster.local`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GatewayHop {
    /// The cluster whose gateway this is.
    pub cluster: String,
    /// The host the client asked for (the SNI), e.g. `reviews.bookinfo.svc.remote-cluster.global`.
    pub sni_host: String,
    /// The service port the client asked for.
    pub port: u16,
}

impl Endpoint {
    pub(crate) fn new(ip: &str, port: u16) -> Self {
        Endpoint {
            key: format!("{ip}:{port}"),
            ip: ip.to_string(),
            port,
            cluster: None,
            labels: BTreeMap::new(),
            via_gateway: None,
            healthy: true,
        }
    }
}

/// A cluster with hosts (Istio's EDS clusters for Kubernetes services, STRICT_DNS/STATIC
/// clusters for ServiceEntries).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EndpointCluster {
    pub name: String,
    /// Sorted by key.
    pub endpoints: Vec<Endpoint>,
    pub outlier: Option<OutlierConfig>,
    pub panic_threshold: u32,
    pub merge_window: Duration,
    /// EDS (hosts can change without rebuilding the cluster) or not (a host change is a new
    /// cluster, with fresh outlier detection state, as for Envoy STRICT_DNS/STATIC clusters).
    pub eds: bool,
    /// Circuit breaker: retries of requests routed to this cluster that may wait for their
    /// back-off at once; more overflow (the request fails with its last result).
    pub max_retries: u32,
}

impl EndpointCluster {
    pub(crate) fn new(name: &str, endpoints: Vec<Endpoint>) -> Self {
        let mut c = EndpointCluster {
            name: name.to_string(),
            endpoints,
            outlier: None,
            panic_threshold: DEFAULT_PANIC_THRESHOLD,
            merge_window: DEFAULT_UPDATE_MERGE_WINDOW,
            eds: true,
            max_retries: ISTIO_MAX_RETRIES,
        };
        c.endpoints.sort_by(|a, b| a.key.cmp(&b.key));
        c.endpoints.dedup_by(|a, b| a.key == b.key);
        c
    }

    pub(crate) fn keys(&self) -> BTreeSet<String> {
        self.endpoints.iter().map(|e| e.key.clone()).collect()
    }

    /// The hosts istiod sends as healthy.
    pub(crate) fn healthy_keys(&self) -> BTreeSet<String> {
        self.endpoints
            .iter()
            .filter(|e| e.healthy)
            .map(|e| e.key.clone())
            .collect()
    }

    /// Whether `other` is the same Envoy cluster definition (so its outlier detection state
    /// survives a config push): same settings, and for non-EDS clusters the same hosts.
    pub(crate) fn same_definition(&self, other: &EndpointCluster) -> bool {
        self.outlier == other.outlier
            && self.panic_threshold == other.panic_threshold
            && self.merge_window == other.merge_window
            && self.eds == other.eds
            && (self.eds || self.endpoints == other.endpoints)
    }
}

/// An Envoy aggregate cluster (`envoy.clusters.aggregate`): sub-clusters in priority order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AggregateCluster {
    pub name: String,
    pub clusters: Vec<String>,
    pub panic_threshold: u32,
    /// Circuit breaker `max_retries` of the default priority (see [`EndpointCluster`]):
    /// what the patch sets, else Envoy's default, [`DEFAULT_MAX_RETRIES`].
    pub max_retries: u32,
    /// Which EnvoyFilter added it (for explanations).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ClusterDef {
    Endpoints(EndpointCluster),
    Aggregate(AggregateCluster),
}

/// Envoy's string matcher (Istio `StringMatch`).
#[derive(Debug, Clone)]
pub(crate) enum StringMatch {
    Exact(String),
    Prefix(String),
    Regex(regex::Regex),
}

impl PartialEq for StringMatch {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (StringMatch::Exact(a), StringMatch::Exact(b)) => a == b,
            (StringMatch::Prefix(a), StringMatch::Prefix(b)) => a == b,
            (StringMatch::Regex(a), StringMatch::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl StringMatch {
    pub(crate) fn matches(&self, value: &str, ignore_case: bool) -> bool {
        match self {
            StringMatch::Exact(s) if ignore_case => s.eq_ignore_ascii_case(value),
            StringMatch::Exact(s) => s == value,
            StringMatch::Prefix(p) if ignore_case => value
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p)),
            StringMatch::Prefix(p) => value.starts_with(p.as_str()),
            StringMatch::Regex(r) => r.is_match(value),
        }
    }
}

/// One request-level match of a route (Istio `HTTPMatchRequest`, after the proxy-level
/// conditions `sourceLabels`, `sourceNamespace`, `gateways` and `port` were applied when
/// building).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RouteMatch {
    pub uri: Option<StringMatch>,
    pub ignore_uri_case: bool,
    pub method: Option<StringMatch>,
    pub authority: Option<StringMatch>,
    pub headers: Vec<(String, StringMatch)>,
    pub without_headers: Vec<(String, StringMatch)>,
    pub query_params: Vec<(String, StringMatch)>,
}

/// Envoy retry policy (Istio `HTTPRetry` after `retry.ConvertPolicy`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetryPolicy {
    pub num_retries: u32,
    /// Envoy `retry_on` conditions, e.g. `connect-failure`, `5xx`, `retriable-status-codes`.
    pub retry_on: BTreeSet<String>,
    pub retriable_status_codes: Vec<u16>,
    pub per_try_timeout: Option<Duration>,
    /// `envoy.retry_host_predicates.previous_hosts`.
    pub previous_hosts: bool,
    pub host_selection_max_attempts: u32,
    /// `envoy.retry_priorities.previous_priorities` with this `update_frequency`
    /// (Istio: `retryRemoteLocalities: true` gives 2).
    pub previous_priorities: Option<u32>,
}

/// Istio's default `retryOn`, used when a VirtualService sets no retries (and kept when it sets
/// `attempts` without `retryOn`).
pub(crate) const ISTIO_DEFAULT_RETRY_ON: &str =
    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

impl RetryPolicy {
    /// Istio's `retry.DefaultPolicy()`: 2 retries on `connect-failure`, `refused-stream`,
    /// `unavailable` and `cancelled`, preferring hosts not tried yet (5 host selection
    /// attempts). `retry_on` names `retriable-status-codes` but the policy lists no status
    /// code, so no response status is retried (istiod 1.31, checked with
    /// `scripts/istio-oracle`). Older releases listed 503 ([`Self::istio_default_for`]).
    pub(crate) fn istio_default() -> Self {
        RetryPolicy {
            num_retries: 2,
            retry_on: ISTIO_DEFAULT_RETRY_ON
                .split(',')
                .map(str::to_string)
                .collect(),
            retriable_status_codes: Vec::new(),
            per_try_timeout: None,
            previous_hosts: true,
            host_selection_max_attempts: 5,
            previous_priorities: None,
        }
    }
}

impl RetryPolicy {
    /// Istio's default policy for a proxy of `istio_version`: from 1.31 (the release the
    /// oracle runs) [`Self::istio_default`]; before, the policy older releases' code shows,
    /// which also retries status 503. The release in between that dropped 503 was not
    /// established, so the model keeps the older policy for every release before 1.31.
    pub(crate) fn istio_default_for(istio_version: &str) -> Self {
        let mut p = Self::istio_default();
        if !istio_at_least(istio_version, 1, 31) {
            p.retriable_status_codes = vec![503];
        }
        p
    }
}

/// Whether `version` (`1.24.2`, `1.31-dev`) is at least `major.minor`; an unreadable
/// version counts as the newest.
pub(crate) fn istio_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.trim_start_matches('v').split(['.', '-']);
    let (Some(Ok(ma)), Some(Ok(mi))) = (
        parts.next().map(str::parse::<u32>),
        parts.next().map(str::parse::<u32>),
    ) else {
        return true;
    };
    (ma, mi) >= (major, minor)
}

/// Fault injection of a route.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fault {
    /// Delay and the percentage of requests delayed.
    pub delay: Option<(Duration, f64)>,
    /// HTTP status and the percentage of requests aborted.
    pub abort: Option<(u16, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RouteAction {
    /// Weighted destination clusters.
    Clusters(Vec<(String, u32)>),
    DirectResponse {
        status: u16,
        body: String,
    },
    Redirect {
        status: u16,
        authority: Option<String>,
        uri: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Route {
    /// Where the route came from: `<vs-namespace>/<vs-name>` route index, or `default`.
    pub name: String,
    /// Any of these matches selects the route; empty means every request.
    pub matches: Vec<RouteMatch>,
    pub action: RouteAction,
    pub timeout: Option<Duration>,
    pub retry: Option<RetryPolicy>,
    pub fault: Option<Fault>,
    pub rewrite_uri: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VirtualHost {
    /// `host:port`.
    pub name: String,
    /// Host header values this virtual host answers, lowercase.
    pub domains: Vec<String>,
    pub routes: Vec<Route>,
}

/// Everything one sidecar is configured with.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProxyConfig {
    /// Outbound HTTP route tables by listener port.
    pub routes: BTreeMap<u16, Vec<VirtualHost>>,
    pub clusters: BTreeMap<String, ClusterDef>,
    /// What the builder ignored or could not model, in plain words.
    pub diagnostics: Vec<String>,
}

impl ProxyConfig {
    /// The retry circuit breaker of cluster `name` (Envoy's default for an unknown one).
    pub(crate) fn max_retries(&self, name: &str) -> u32 {
        match self.clusters.get(name) {
            Some(ClusterDef::Endpoints(c)) => c.max_retries,
            Some(ClusterDef::Aggregate(a)) => a.max_retries,
            None => DEFAULT_MAX_RETRIES,
        }
    }
}

/// Istio's outbound cluster name `outbound|<port>|<subset>|<host>`.
pub(crate) fn outbound_cluster_name(port: u16, subset: &str, host: &str) -> String {
    format!("outbound|{port}|{subset}|{host}")
}

/// Split an `outbound|<port>|<subset>|<host>` name.
pub(crate) fn parse_outbound_cluster_name(name: &str) -> Option<(u16, &str, &str)> {
    let mut parts = name.splitn(4, '|');
    if parts.next()? != "outbound" {
        return None;
    }
    let port = parts.next()?.parse().ok()?;
    let subset = parts.next()?;
    let host = parts.next()?;
    Some((port, subset, host))
}
