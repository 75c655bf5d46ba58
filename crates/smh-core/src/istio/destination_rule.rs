//! `DestinationRule` (`networking.istio.io/v1alpha3`): the fields kubectl-smh writes (host,
//! subsets, TLS mode, outlier detection) plus those the simulated data plane reads.

use std::collections::BTreeMap;

use kube_derive::CustomResource;
use serde::{Deserialize, Serialize};

/// `spec` of a DestinationRule.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "networking.istio.io",
    version = "v1alpha3",
    kind = "DestinationRule",
    plural = "destinationrules",
    namespaced,
    schema = "disabled",
    derive = "PartialEq",
    doc = "A DestinationRule: traffic policy (TLS, outlier detection) and subsets for a host.",
    crates(kube_core = "::kube_core")
)]
#[serde(rename_all = "camelCase")]
pub struct DestinationRuleSpec {
    /// The service the rule applies to (a FQDN such as `reviews.bookinfo.svc.cluster.local`).
    pub host: String,
    /// Policy for all traffic to the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
    /// Named subsets of the host's endpoints, each selected by labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subsets: Vec<Subset>,
    /// Namespaces the rule is visible to; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_to: Vec<String>,
}

/// `TrafficPolicy` of a DestinationRule or of one of its subsets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPolicy {
    /// Connection limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_pool: Option<ConnectionPoolSettings>,
    /// Load balancing (kubectl-smh writes only `localityLbSetting.failoverPriority`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerSettings>,
    /// Ejection of endpoints that keep failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierDetection>,
    /// TLS towards the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTlsSettings>,
}

impl TrafficPolicy {
    /// Whether nothing is set (then the policy is left out).
    pub fn is_empty(&self) -> bool {
        self.connection_pool.is_none()
            && self.load_balancer.is_none()
            && self.outlier_detection.is_none()
            && self.tls.is_none()
    }
}

/// `OutlierDetection`. kubectl-smh writes `consecutive5xxErrors` (never the deprecated
/// `consecutiveErrors`), `interval`, `baseEjectionTime` and `maxEjectionPercent`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlierDetection {
    #[serde(
        default,
        rename = "consecutive5xxErrors",
        skip_serializing_if = "Option::is_none"
    )]
    /// Consecutive 5xx responses (or connection errors) before ejection.
    pub consecutive_5xx_errors: Option<u32>,
    /// Consecutive 502/503/504 responses before ejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_gateway_errors: Option<u32>,
    /// Deprecated in Istio; read (for the simulator) but never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_errors: Option<i32>,
    /// Duration between ejection sweeps, e.g. `10s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Minimum ejection duration, e.g. `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ejection_time: Option<String>,
    /// Maximum percentage of endpoints ejected at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ejection_percent: Option<i32>,
    /// Outlier detection is off while fewer than this percentage of endpoints are healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_health_percent: Option<i32>,
}

/// `LoadBalancerSettings`, reduced to the locality settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerSettings {
    /// Locality (and label priority) load balancing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality_lb_setting: Option<LocalityLoadBalancerSetting>,
}

/// `LocalityLoadBalancerSetting`, reduced to `failoverPriority` and `enabled`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalityLoadBalancerSetting {
    /// Ordered endpoint labels (`label` or `label=value`) that split endpoints into
    /// priority levels. istiod applies it only together with outlier detection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover_priority: Vec<String>,
    /// `false` turns locality load balancing off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `ClientTLSSettings`, reduced to the mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientTlsSettings {
    /// The TLS mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<TlsMode>,
}

/// `ClientTLSSettings.TLSmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TlsMode {
    /// No TLS.
    Disable,
    /// TLS, server certificate only.
    Simple,
    /// Mutual TLS with certificates given in the rule.
    Mutual,
    /// Mutual TLS with Istio's workload certificates.
    IstioMutual,
}

impl TlsMode {
    /// Parse SMH's `mtls.istio.tlsMode` (`DISABLE`, `SIMPLE`, `ISTIO_MUTUAL`).
    pub(crate) fn parse_smh(s: &str) -> Option<TlsMode> {
        match s {
            "DISABLE" => Some(TlsMode::Disable),
            "SIMPLE" => Some(TlsMode::Simple),
            "ISTIO_MUTUAL" => Some(TlsMode::IstioMutual),
            _ => None,
        }
    }
}

/// `ConnectionPoolSettings`, reduced to what the simulator reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionPoolSettings {
    /// HTTP connection pool limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpSettings>,
}

/// HTTP connection pool limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpSettings {
    /// Requests per connection before it is closed (1 disables keep-alive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests_per_connection: Option<i32>,
}

/// `Subset`: a named label set, optionally with its own traffic policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subset {
    /// Subset name, used by routes (`destination.subset`).
    pub name: String,
    /// Endpoint labels that select the subset.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Policy for this subset, overriding the rule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
}
