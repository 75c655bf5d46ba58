//! Service Mesh Hub `networking.smh.solo.io/v1alpha2` types: FailoverService and
//! TrafficPolicy, with every spec and status field of SMH v0.9.2's protobuf API, in
//! protobuf JSON naming (camelCase). Every struct rejects unknown fields; metadata is
//! Kubernetes' `ObjectMeta`, checked strictly by the parser.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::consts::{SMH_API_VERSION, SMH_GROUP, SMH_VERSION};

/// `skv2` ObjectRef: `{name, namespace}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectRef {
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Object namespace.
    #[serde(default)]
    pub namespace: String,
}

/// `skv2` ClusterObjectRef: `{name, namespace, clusterName}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterObjectRef {
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Object namespace.
    #[serde(default)]
    pub namespace: String,
    /// SMH cluster name (as registered with SMH).
    #[serde(default)]
    pub cluster_name: String,
}

// ---------------------------------------------------------------------------------------
// FailoverService
// ---------------------------------------------------------------------------------------

/// A FailoverService: a virtual hostname backed by services in decreasing priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailoverService {
    /// `networking.smh.solo.io/v1alpha2` (the parser rejects anything else).
    pub api_version: String,
    /// `FailoverService`.
    pub kind: String,
    /// Kubernetes metadata; the parser checks it as the API server does.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What the FailoverService asks for.
    #[serde(default)]
    pub spec: FailoverServiceSpec,
    /// What SMH's controller wrote back, when read from a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FailoverServiceStatus>,
}

/// `spec` of a FailoverService.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailoverServiceSpec {
    /// The new DNS name; unique in the mesh, a DNS-1123 subdomain ending in `.global`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    /// The port the hostname is served on; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<FailoverServicePort>,
    /// Meshes (control planes) that should see the hostname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meshes: Option<Vec<ObjectRef>>,
    /// Backing services, highest priority first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backing_services: Vec<BackingService>,
}

/// The FailoverService's port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailoverServicePort {
    /// Port number, 1 to 65535.
    #[serde(default)]
    pub number: u32,
    /// HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP or TLS, in any case (Istio `protocol.Parse`).
    #[serde(default)]
    pub protocol: String,
}

/// One backing service; a oneof whose only member is `kubeService`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackingService {
    /// The Kubernetes Service (name, namespace, SMH cluster name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_service: Option<ClusterObjectRef>,
}

/// `status` of a FailoverService, as SMH's controller wrote it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailoverServiceStatus {
    /// The `metadata.generation` SMH last processed.
    #[serde(default, skip_serializing_if = "is_zero_i64", with = "proto_int64")]
    pub observed_generation: i64,
    /// Overall result.
    #[serde(default, skip_serializing_if = "ApprovalState::is_pending")]
    pub state: ApprovalState,
    /// Keyed by skv2 `sets.Key` of the mesh: `name.namespace.` (trailing dot).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meshes: BTreeMap<String, ValidationStatus>,
    /// Problems that are not about one mesh.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

// ---------------------------------------------------------------------------------------
// Shared status pieces
// ---------------------------------------------------------------------------------------

/// SMH's ApprovalState enum.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalState {
    /// Not yet processed.
    #[default]
    Pending,
    /// Processed and applied.
    Accepted,
    /// Bad config or a conflict.
    Invalid,
    /// Valid config, but applying it failed.
    Failed,
}

impl ApprovalState {
    pub(crate) fn is_pending(&self) -> bool {
        matches!(self, ApprovalState::Pending)
    }
    /// The name as SMH writes it, e.g. `ACCEPTED`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ApprovalState::Pending => "PENDING",
            ApprovalState::Accepted => "ACCEPTED",
            ApprovalState::Invalid => "INVALID",
            ApprovalState::Failed => "FAILED",
        }
    }
}

/// SMH's ApprovalStatus / ValidationStatus: per-mesh or per-traffic-target result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidationStatus {
    /// 0-based index among accepted items; 0 is omitted in output.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub acceptance_order: u32,
    /// The result for this mesh or traffic target.
    #[serde(default, skip_serializing_if = "ApprovalState::is_pending")]
    pub state: ApprovalState,
    /// Why it is not accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

// ---------------------------------------------------------------------------------------
// TrafficPolicy
// ---------------------------------------------------------------------------------------

/// A TrafficPolicy: traffic and outlier-detection settings for the traffic targets its destination selector selects, from the workloads its source selector selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficPolicy {
    /// `networking.smh.solo.io/v1alpha2` (the parser rejects anything else).
    pub api_version: String,
    /// `TrafficPolicy`.
    pub kind: String,
    /// Kubernetes metadata; the parser checks it as the API server does.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What the policy asks for.
    #[serde(default)]
    pub spec: TrafficPolicySpec,
    /// What SMH's controller wrote back, when read from a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TrafficPolicyStatus>,
}

/// `spec` of a TrafficPolicy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficPolicySpec {
    /// Source workloads; empty means every workload.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_selector: Vec<WorkloadSelector>,
    /// Destination traffic targets; empty means every traffic target. Selectors are ORed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destination_selector: Vec<TrafficTargetSelector>,
    /// Requests the policy applies to; empty means every request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_request_matchers: Vec<HttpMatcher>,
    /// Where traffic goes instead of the destination (weighted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_shift: Option<MultiDestination>,
    /// Delays or aborts to inject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_injection: Option<FaultInjection>,
    /// Protobuf Duration, e.g. `5s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<String>,
    /// Retries of failed requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<RetryPolicy>,
    /// CORS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_policy: Option<CorsPolicy>,
    /// A copy of the traffic sent to another service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<Mirror>,
    /// Headers to add or remove.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_manipulation: Option<HeaderManipulation>,
    /// Outlier detection for the destination (failover needs it on every backing service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierDetection>,
    /// mTLS mode towards the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls: Option<Mtls>,
}

/// WorkloadSelector: `{labels, namespaces, clusters}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadSelector {
    /// Labels the workload must have.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Namespaces the workload may be in; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// SMH clusters the workload may be in; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
}

/// TrafficTargetSelector: a `kubeServiceMatcher` or `kubeServiceRefs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficTargetSelector {
    /// Services selected by labels, namespaces and clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_service_matcher: Option<KubeServiceMatcher>,
    /// Services selected by reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_service_refs: Option<KubeServiceRefs>,
}

/// Matches services by labels AND namespaces AND clusters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeServiceMatcher {
    /// Labels the service must have.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Namespaces the service may be in; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// SMH clusters the service may be in; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
}

/// Matches services exactly on name, namespace and clusterName.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeServiceRefs {
    /// The services, each by name, namespace and SMH cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ClusterObjectRef>,
}

/// HttpMatcher: one of prefix/exact/regex, plus headers, query parameters and method.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpMatcher {
    /// Path prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Exact path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    /// Path regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Headers the request must have (or not have).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderMatcher>,
    /// Query parameters the request must have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_parameters: Vec<QueryParameterMatcher>,
    /// The HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
}

/// A header a request must have (or, inverted, must not have).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HeaderMatcher {
    /// Header name.
    #[serde(default)]
    pub name: String,
    /// Value to match; empty matches any value.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// Whether `value` is a regular expression.
    #[serde(default, skip_serializing_if = "is_false")]
    pub regex: bool,
    /// Whether a request must *not* match.
    #[serde(default, skip_serializing_if = "is_false")]
    pub invert_match: bool,
}

/// A query parameter a request must have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QueryParameterMatcher {
    /// Parameter name.
    #[serde(default)]
    pub name: String,
    /// Value to match; empty matches any value.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// Whether `value` is a regular expression.
    #[serde(default, skip_serializing_if = "is_false")]
    pub regex: bool,
}

/// `{method: GET}`; SMH's HttpMethodValue enum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpMethod {
    /// The method name, e.g. `GET`.
    #[serde(default)]
    pub method: String,
}

/// `trafficShift`: weighted destinations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MultiDestination {
    /// The destinations, with weights.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<WeightedDestination>,
}

/// One weighted destination: a oneof of `kubeService` and `failoverService`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeightedDestination {
    /// Percent; weights should sum to 100. 0/omitted on a single destination.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub weight: u32,
    /// A Kubernetes Service as the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_service: Option<KubeDestination>,
    /// A FailoverService as the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_service: Option<FailoverServiceDestination>,
}

/// A Kubernetes Service as a traffic shift destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeDestination {
    /// Service name.
    #[serde(default)]
    pub name: String,
    /// Service namespace.
    #[serde(default)]
    pub namespace: String,
    /// SMH cluster name.
    #[serde(default)]
    pub cluster_name: String,
    /// Labels of the subset of its pods to send to; empty means all.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub subset: BTreeMap<String, String>,
    /// Required when the destination service has more than one port.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub port: u32,
}

/// A FailoverService as a traffic shift destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailoverServiceDestination {
    /// FailoverService name.
    #[serde(default)]
    pub name: String,
    /// FailoverService namespace.
    #[serde(default)]
    pub namespace: String,
    /// Labels of the subset of the backing services' pods; empty means all.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub subset: BTreeMap<String, String>,
}

/// `faultInjection`: one of fixedDelay / exponentialDelay / abort, plus a percentage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultInjection {
    /// Protobuf Duration of a fixed delay, e.g. `5s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_delay: Option<String>,
    /// Hidden in SMH's docs; Istio's `exponentialDelay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exponential_delay: Option<String>,
    /// An abort with an HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort: Option<Abort>,
    /// Percentage of requests to inject the fault into.
    #[serde(default)]
    pub percentage: f64,
}

/// A fault that aborts requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Abort {
    /// The HTTP status to return (200 to 599 for Istio).
    #[serde(default)]
    pub http_status: i32,
}

/// Retries of failed requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Number of retries; 0 or more.
    #[serde(default)]
    pub attempts: i32,
    /// Protobuf Duration per attempt, e.g. `2s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_try_timeout: Option<String>,
}

/// CORS settings of a route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CorsPolicy {
    /// Origins allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_origins: Vec<StringMatch>,
    /// Methods allowed, e.g. `GET`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    /// Request headers allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    /// Response headers the browser may read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// Protobuf Duration a preflight result may be cached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
    /// Whether credentials are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
}

/// StringMatch: one of exact / prefix / regex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StringMatch {
    /// Matches exactly this string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    /// Matches strings starting with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Matches this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// `mirror`: a kubeService destination, a percentage and an optional port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mirror {
    /// The service the copies go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_service: Option<ClusterObjectRef>,
    /// Percentage of requests copied.
    #[serde(default)]
    pub percentage: f64,
    /// Port of the service; required when it has several.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub port: u32,
}

/// Headers to add to and remove from requests and responses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HeaderManipulation {
    /// Response headers to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_response_headers: Vec<String>,
    /// Response headers to add (name to value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub append_response_headers: BTreeMap<String, String>,
    /// Request headers to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_request_headers: Vec<String>,
    /// Request headers to add (name to value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub append_request_headers: BTreeMap<String, String>,
}

/// SMH OutlierDetection. Zero or unset means "use the default" (5 / 10s / 30s / 100).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OutlierDetection {
    /// Consecutive errors before an endpoint is ejected; 0 means 5.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub consecutive_errors: u32,
    /// Protobuf Duration between ejection sweeps; unset means 10s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Protobuf Duration an endpoint stays ejected at least; unset means 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ejection_time: Option<String>,
    /// Maximum percentage of endpoints ejected; 0 means 100.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub max_ejection_percent: u32,
}

/// SMH's defaults for outlier detection (the decorator, v0.7.5+).
pub mod outlier_defaults {
    pub(crate) const CONSECUTIVE_ERRORS: u32 = 5;
    pub(crate) const INTERVAL: &str = "10s";
    pub(crate) const BASE_EJECTION_TIME: &str = "30s";
    pub(crate) const MAX_EJECTION_PERCENT: u32 = 100;
}

/// mTLS settings towards the destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mtls {
    /// Istio's settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub istio: Option<MtlsIstio>,
}

/// Istio mTLS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MtlsIstio {
    /// `DISABLE`, `SIMPLE` or `ISTIO_MUTUAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_mode: Option<String>,
}

/// `status` of a TrafficPolicy, as SMH's controller wrote it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficPolicyStatus {
    /// The `metadata.generation` SMH last processed.
    #[serde(default, skip_serializing_if = "is_zero_i64", with = "proto_int64")]
    pub observed_generation: i64,
    /// Overall result.
    #[serde(default, skip_serializing_if = "ApprovalState::is_pending")]
    pub state: ApprovalState,
    /// Keyed by the TrafficTarget key, e.g. `reviews-bookinfo-mgmt-cluster.service-mesh-hub.`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub traffic_targets: BTreeMap<String, ValidationStatus>,
    /// Keys of the matching Workloads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<String>,
    /// Problems that are not about one traffic target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

// ---------------------------------------------------------------------------------------
// kube_core::Resource, so `Api<FailoverService>` / `Api<TrafficPolicy>` work.
// ---------------------------------------------------------------------------------------
//
// Written by hand, not with kube's `#[derive(CustomResource)]` (which the Istio types use):
// the derived root struct has no `apiVersion`/`kind` fields and no `#[serde(default)]` on
// `spec`, so it cannot reject unknown top-level fields (`deny_unknown_fields` would then
// reject `apiVersion` and `kind` too) and it fails on a missing `spec` (here: an empty
// spec, which validation then reports field by field). The parser decodes whole objects
// into these types: with the derive, `specs:` instead of `spec:` would give "missing field
// `spec`" instead of `unknown field "specs"`, the message
// tests/bad-input/12-unknown-field-top-level.yaml expects.

macro_rules! smh_resource {
    ($ty:ident, $kind:literal, $plural:literal) => {
        impl $ty {
            /// The kind, as `kind` in the object.
            pub const KIND: &'static str = $kind;
            /// Lowercase plural resource name, as in API paths.
            pub const PLURAL: &'static str = $plural;
        }

        impl kube_core::Resource for $ty {
            type DynamicType = ();
            type Scope = kube_core::NamespaceResourceScope;

            fn kind(_: &()) -> std::borrow::Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> std::borrow::Cow<'_, str> {
                SMH_GROUP.into()
            }
            fn version(_: &()) -> std::borrow::Cow<'_, str> {
                SMH_VERSION.into()
            }
            fn api_version(_: &()) -> std::borrow::Cow<'_, str> {
                SMH_API_VERSION.into()
            }
            fn plural(_: &()) -> std::borrow::Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

smh_resource!(FailoverService, "FailoverService", "failoverservices");
smh_resource!(TrafficPolicy, "TrafficPolicy", "trafficpolicies");

// ---------------------------------------------------------------------------------------
// serde helpers
// ---------------------------------------------------------------------------------------

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}
fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}
fn is_false(v: &bool) -> bool {
    !*v
}

/// protobuf JSON writes int64 as a string (`observedGeneration: "1"`, as the guide shows);
/// accept either a number or a string when reading.
pub mod proto_int64 {
    use super::*;

    /// Write an int64 as protobuf JSON does: a string.
    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    /// Read an int64 from a number or a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum IntOrString {
            Int(i64),
            Str(String),
        }
        match IntOrString::deserialize(d)? {
            IntOrString::Int(i) => Ok(i),
            IntOrString::Str(s) => s
                .parse()
                .map_err(|_| serde::de::Error::custom(format!("invalid int64 {s:?}"))),
        }
    }
}
