//! `EnvoyFilter` (`networking.istio.io/v1alpha3`, the only version Istio serves for it) and
//! the Envoy aggregate cluster that a FailoverService's ADD patches carry.

use kube_derive::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::common::WorkloadSelector;

#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "networking.istio.io",
    version = "v1alpha3",
    kind = "EnvoyFilter",
    plural = "envoyfilters",
    namespaced,
    schema = "disabled",
    derive = "PartialEq",
    doc = "An EnvoyFilter: patches on the generated Envoy configuration.",
    crates(kube_core = "::kube_core")
)]
/// `spec` of an EnvoyFilter.
#[serde(rename_all = "camelCase")]
pub struct EnvoyFilterSpec {
    /// Workloads the patches apply to; unset means all in the namespace (all in the mesh for the root namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<WorkloadSelector>,
    /// The patches, applied in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_patches: Vec<EnvoyConfigObjectPatch>,
    /// Order among EnvoyFilters (lower first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
}

/// One patch: where (`applyTo` + `match`) and what (`patch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyConfigObjectPatch {
    /// What kind of Envoy object the patch applies to.
    pub apply_to: ApplyTo,
    /// Which objects of that kind.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<EnvoyConfigObjectMatch>,
    /// What to do to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<Patch>,
}

/// `EnvoyFilter.ApplyTo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApplyTo {
    /// Not set.
    Invalid,
    /// A listener.
    Listener,
    /// A filter chain of a listener.
    FilterChain,
    /// A network filter.
    NetworkFilter,
    /// An HTTP filter.
    HttpFilter,
    /// A route configuration.
    RouteConfiguration,
    /// A virtual host.
    VirtualHost,
    /// An HTTP route.
    HttpRoute,
    /// A cluster.
    Cluster,
    /// An extension configuration (ECDS).
    ExtensionConfig,
    /// The bootstrap configuration.
    Bootstrap,
    /// A listener filter.
    ListenerFilter,
}

/// `EnvoyConfigObjectMatch`, with the cluster matcher only. `context` is omitted when it
/// is `ANY` (the protobuf default), as SMH's output did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyConfigObjectMatch {
    /// Which proxies: sidecars (inbound or outbound), gateways or any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<PatchContext>,
    /// Which cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterMatch>,
}

/// Which proxies and which direction a patch applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PatchContext {
    /// Every proxy.
    Any,
    /// Sidecars, inbound.
    SidecarInbound,
    /// Sidecars, outbound.
    SidecarOutbound,
    /// Gateways.
    Gateway,
    /// Ambient waypoints.
    Waypoint,
}

/// `ClusterMatch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterMatch {
    /// The full Envoy cluster name, e.g. `outbound|9080||reviews.global`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The service port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_number: Option<u32>,
    /// The service FQDN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The subset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
}

/// `Patch`: an operation and, for ADD/MERGE, an Envoy object as a Struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patch {
    /// The operation.
    pub operation: Operation,
    /// The Envoy configuration to add or merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// What a patch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operation {
    /// Not set.
    Invalid,
    /// Merge into the matched object.
    Merge,
    /// Add a new object.
    Add,
    /// Remove the matched object.
    Remove,
    /// Insert before the matched object.
    InsertBefore,
    /// Insert after the matched object.
    InsertAfter,
    /// Insert first.
    InsertFirst,
    /// Replace the matched object.
    Replace,
    /// Merge, replacing lists instead of appending.
    MergeAndReplaceList,
}

// ---------------------------------------------------------------------------------------
// Envoy aggregate cluster
// ---------------------------------------------------------------------------------------

/// Envoy's cluster extension name for aggregate clusters.
pub(crate) const AGGREGATE_CLUSTER_EXTENSION: &str = "envoy.clusters.aggregate";
/// Envoy v3 aggregate cluster config type (Envoy ≥ 1.17, Istio ≥ 1.9).
pub const AGGREGATE_V3_TYPE_URL: &str =
    "type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig";
/// SMH's v2alpha config type, carried inside a TypedStruct (Istio < 1.9).
pub(crate) const AGGREGATE_V2ALPHA_TYPE_URL: &str =
    "type.googleapis.com/envoy.config.cluster.aggregate.v2alpha.ClusterConfig";
/// The `udpa.type.v1.TypedStruct` wrapper SMH used so Istio 1.6–1.8 would accept the
/// v2alpha type (istio#23909).
pub const TYPED_STRUCT_TYPE_URL: &str = "type.googleapis.com/udpa.type.v1.TypedStruct";

/// Which form the aggregate cluster's `typed_config` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateConfigType {
    /// `{"@type": …aggregate.v3.ClusterConfig, clusters: [...]}` (Istio ≥ 1.9).
    V3,
    /// SMH v0.9.2's `{"@type": udpa.type.v1.TypedStruct, type_url: …v2alpha.ClusterConfig,
    /// value: {clusters: [...]}}` (Istio < 1.9).
    V2AlphaTypedStruct,
}

impl AggregateConfigType {
    /// The aggregate config's protobuf type URL (inside the TypedStruct for v2alpha).
    pub fn type_url(self) -> &'static str {
        match self {
            AggregateConfigType::V3 => AGGREGATE_V3_TYPE_URL,
            AggregateConfigType::V2AlphaTypedStruct => AGGREGATE_V2ALPHA_TYPE_URL,
        }
    }
}

/// istiod's circuit-breaker thresholds, which it writes on every cluster it generates
/// (4294967295: no limit), on the aggregate cluster too. Without them Envoy's defaults apply
/// to the aggregate, the cluster the route names, and its `max_retries: 3` lets at most three
/// requests wait for a retry at once: retries on the traffic shift then fail requests at
/// anything over a few requests per second while the primary fails (measured on Envoy
/// 1.40.0 with istiod's configuration for the guide: 7 of 10 requests failed during the
/// failover with `retries: {attempts: 20}`, none with these thresholds).
fn aggregate_circuit_breakers() -> Value {
    let unlimited = u64::from(u32::MAX);
    json!({"thresholds": [{
        "max_connections": unlimited,
        "max_pending_requests": unlimited,
        "max_requests": unlimited,
        "max_retries": unlimited,
    }]})
}

/// The Envoy Cluster an EnvoyFilter ADD patch inserts: an aggregate of other clusters in
/// priority order (highest first), with `lb_policy: CLUSTER_PROVIDED`, as SMH wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateCluster {
    /// `outbound|<port>|<subset>|<hostname>`.
    pub name: String,
    /// `connect_timeout`, `1s` in SMH's output.
    pub connect_timeout: String,
    /// Sub-cluster names in priority order.
    pub clusters: Vec<String>,
}

impl AggregateCluster {
    /// The Envoy Cluster as a protobuf Struct with snake_case keys (the patch `value`).
    pub(crate) fn to_patch_value(&self, config_type: AggregateConfigType) -> Value {
        let typed_config = match config_type {
            AggregateConfigType::V3 => json!({
                "@type": AGGREGATE_V3_TYPE_URL,
                "clusters": self.clusters,
            }),
            AggregateConfigType::V2AlphaTypedStruct => json!({
                "@type": TYPED_STRUCT_TYPE_URL,
                "type_url": AGGREGATE_V2ALPHA_TYPE_URL,
                "value": { "clusters": self.clusters },
            }),
        };
        json!({
            "name": self.name,
            "connect_timeout": self.connect_timeout,
            "lb_policy": "CLUSTER_PROVIDED",
            "cluster_type": {
                "name": AGGREGATE_CLUSTER_EXTENSION,
                "typed_config": typed_config,
            },
            "circuit_breakers": aggregate_circuit_breakers(),
        })
    }

    /// Read an aggregate cluster back from a patch value in either form; `None` when the
    /// value is not an aggregate cluster.
    pub fn from_patch_value(value: &Value) -> Option<(AggregateCluster, AggregateConfigType)> {
        let name = value.get("name")?.as_str()?.to_string();
        let cluster_type = value.get("cluster_type")?;
        if cluster_type.get("name")?.as_str()? != AGGREGATE_CLUSTER_EXTENSION {
            return None;
        }
        let typed = cluster_type.get("typed_config")?;
        let (config_type, list) = match typed.get("@type")?.as_str()? {
            AGGREGATE_V3_TYPE_URL => (AggregateConfigType::V3, typed.get("clusters")?),
            TYPED_STRUCT_TYPE_URL
                if typed.get("type_url")?.as_str()? == AGGREGATE_V2ALPHA_TYPE_URL =>
            {
                (
                    AggregateConfigType::V2AlphaTypedStruct,
                    typed.get("value")?.get("clusters")?,
                )
            }
            _ => return None,
        };
        let clusters = list
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()?;
        let connect_timeout = value
            .get("connect_timeout")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Some((
            AggregateCluster {
                name,
                connect_timeout,
                clusters,
            },
            config_type,
        ))
    }
}

/// Istio's outbound cluster name: `outbound|<port>|<subset>|<host>` (empty subset allowed).
pub fn outbound_cluster_name(port: u32, subset: &str, host: &str) -> String {
    format!("outbound|{port}|{subset}|{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AggregateCluster {
        AggregateCluster {
            name: outbound_cluster_name(9080, "", "reviews-failover.bookinfo.global"),
            connect_timeout: "1s".into(),
            clusters: vec![
                "outbound|9080||reviews.bookinfo.svc.cluster.local".into(),
                "outbound|9080||reviews.bookinfo.svc.remote-cluster.global".into(),
            ],
        }
    }

    #[test]
    fn v3_value_shape() {
        let v = sample().to_patch_value(AggregateConfigType::V3);
        assert_eq!(v["name"], "outbound|9080||reviews-failover.bookinfo.global");
        assert_eq!(v["lb_policy"], "CLUSTER_PROVIDED");
        assert_eq!(v["cluster_type"]["name"], "envoy.clusters.aggregate");
        assert_eq!(
            v["cluster_type"]["typed_config"]["@type"],
            AGGREGATE_V3_TYPE_URL
        );
        assert_eq!(
            v["cluster_type"]["typed_config"]["clusters"][1],
            "outbound|9080||reviews.bookinfo.svc.remote-cluster.global"
        );
        // istiod's thresholds: Envoy's default max_retries 3 would fail retried requests.
        for key in [
            "max_connections",
            "max_pending_requests",
            "max_requests",
            "max_retries",
        ] {
            assert_eq!(
                v["circuit_breakers"]["thresholds"][0][key], 4_294_967_295u64,
                "{key}"
            );
        }
    }

    #[test]
    fn v2alpha_value_is_smh_typed_struct() {
        let v = sample().to_patch_value(AggregateConfigType::V2AlphaTypedStruct);
        let tc = &v["cluster_type"]["typed_config"];
        assert_eq!(tc["@type"], TYPED_STRUCT_TYPE_URL);
        assert_eq!(tc["type_url"], AGGREGATE_V2ALPHA_TYPE_URL);
        assert_eq!(
            tc["value"]["clusters"][0],
            "outbound|9080||reviews.bookinfo.svc.cluster.local"
        );
    }

    #[test]
    fn round_trips_both_forms() {
        for t in [
            AggregateConfigType::V3,
            AggregateConfigType::V2AlphaTypedStruct,
        ] {
            let v = sample().to_patch_value(t);
            assert_eq!(AggregateCluster::from_patch_value(&v), Some((sample(), t)));
        }
        assert_eq!(
            AggregateCluster::from_patch_value(&json!({"name": "x", "type": "STATIC"})),
            None
        );
    }
}
