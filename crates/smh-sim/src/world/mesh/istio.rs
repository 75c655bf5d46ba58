//! From Istio objects to one sidecar's [`ProxyConfig`], as istiod would build it (pure).
//!
//! Modelled: Kubernetes services (and, in multi-primary, the same service from every
//! cluster the proxy's istiod has a remote secret for) and ServiceEntries as outbound
//! clusters `outbound|<port>|<subset>|<host>` (for a waypoint, [`ProxyIdentity::waypoint`],
//! `inbound-vip|<port>|http[/<subset>]|<host>`); DestinationRule lookup (proxy namespace,
//! then service namespace, then the root namespace), subsets, `trafficPolicy` and
//! `portLevelSettings` outlier detection as Istio translates it; VirtualService routes
//! (matches, weighted destinations, retries, timeout, fault, rewrite, redirect, direct
//! response); `exportTo`; EnvoyFilter CLUSTER patches (REMOVE of generated clusters, ADD of
//! aggregate clusters in both the v3 `typed_config` and the v2alpha `TypedStruct` forms).
//! Anything else is reported in [`ProxyConfig::diagnostics`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::outlier::OutlierConfig;
use super::xds::{
    ClusterDef, DEFAULT_PANIC_THRESHOLD, Endpoint, EndpointCluster, ProxyConfig, RetryPolicy,
    istio_at_least, outbound_cluster_name,
};
use smh_core::model::duration::parse_duration;

mod envoy_filter;
mod priority;
mod registry;
mod routes;

use self::registry::{RegHost, RegKind};

/// Istio's label for the cluster an endpoint runs in.
pub(crate) const CLUSTER_TOPOLOGY_LABEL: &str = "topology.istio.io/cluster";

/// The proxy being configured.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProxyIdentity {
    pub cluster: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// Istio version of the proxy (for EnvoyFilter `proxyVersion` matches).
    pub istio_version: String,
    /// A waypoint's Envoy rather than a sidecar: istiod names its clusters
    /// `inbound-vip|<port>|http[/<subset>]|<host>` ([`Builder::cluster_name`]).
    pub waypoint: bool,
    /// ztunnel carrying an ambient pod's traffic (its plain L4 path), not an Envoy.
    pub ztunnel: bool,
}

/// A Kubernetes Service as istiod's registry sees it, with its endpoints.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServiceRecord {
    pub cluster: String,
    pub name: String,
    pub namespace: String,
    pub cluster_ip: Option<String>,
    /// `(port name, port)`.
    pub ports: Vec<(String, u16)>,
    pub endpoints: Vec<EndpointRecord>,
}

/// An endpoint address (from an `Endpoints` object) with its pod's labels.
#[derive(Debug, Clone, Default)]
pub(crate) struct EndpointRecord {
    pub ip: String,
    pub cluster: String,
    pub labels: BTreeMap<String, String>,
    /// Target port by service port name.
    pub ports: BTreeMap<String, u16>,
    /// Listed in `notReadyAddresses`: istiod sends it with `health_status: UNHEALTHY`
    /// (unless the DestinationRule sets `outlierDetection.minHealthPercent`, which makes
    /// istiod leave it out).
    pub not_ready: bool,
}

/// Everything the builder reads. Istio objects are those stored in the proxy's own cluster.
#[derive(Debug, Clone, Default)]
pub(crate) struct MeshInputs {
    pub proxy: ProxyIdentity,
    pub cluster_domain: String,
    pub root_namespace: String,
    pub services: Vec<ServiceRecord>,
    /// Ingress gateway external address → cluster.
    pub gateways: BTreeMap<String, String>,
    /// Pod IP → cluster, for ServiceEntry endpoints that are pod addresses.
    pub pod_ips: BTreeMap<String, String>,
    pub virtual_services: Vec<Value>,
    pub destination_rules: Vec<Value>,
    pub service_entries: Vec<Value>,
    pub envoy_filters: Vec<Value>,
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A field that may be written in snake_case or camelCase (Envoy structs in EnvoyFilters).
fn either<'a>(v: &'a Value, snake: &str, camel: &str) -> Option<&'a Value> {
    v.get(snake).or_else(|| v.get(camel))
}

fn meta<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.pointer(&format!("/metadata/{key}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn obj_id(obj: &Value) -> String {
    format!("{}/{}", meta(obj, "namespace"), meta(obj, "name"))
}

fn u32_of(v: &Value) -> Option<u32> {
    // UInt32Value in JSON is a plain number; tolerate {"value": n} and strings.
    match v {
        Value::Number(n) => n.as_u64().map(|n| n.min(u64::from(u32::MAX)) as u32),
        Value::String(s) => s.parse().ok(),
        Value::Object(m) => m.get("value").and_then(u32_of),
        _ => None,
    }
}

fn duration_of(v: Option<&Value>) -> Option<Duration> {
    v.and_then(Value::as_str)
        .and_then(|s| parse_duration(s).ok())
}

fn labels_of(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn subset_of(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Istio `ResolveShortnameToFQDN`: a name without dots is a short name in `namespace`.
pub(crate) fn fqdn(host: &str, namespace: &str, domain: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    if host.contains('.') || host == "*" {
        host
    } else {
        format!("{host}.{namespace}.svc.{domain}")
    }
}

/// Whether a config host (possibly `*.suffix` or `*`) matches a concrete host.
fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        true
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        host.ends_with(suffix)
    } else {
        pattern == host
    }
}

/// `exportTo` visibility of an object to a proxy namespace.
fn visible(obj: &Value, proxy_ns: &str) -> bool {
    let Some(list) = obj.pointer("/spec/exportTo").and_then(Value::as_array) else {
        return true;
    };
    if list.is_empty() {
        return true;
    }
    let own_ns = meta(obj, "namespace");
    list.iter().filter_map(Value::as_str).any(|e| match e {
        "*" => true,
        "." => own_ns == proxy_ns,
        "~" => false,
        ns => ns == proxy_ns,
    })
}

/// Oldest first, then by namespace and name: Istio's order for conflicting config.
fn by_age(items: &[Value]) -> Vec<&Value> {
    let mut v: Vec<&Value> = items.iter().collect();
    v.sort_by(|a, b| {
        (
            meta(a, "creationTimestamp"),
            meta(a, "namespace"),
            meta(a, "name"),
        )
            .cmp(&(
                meta(b, "creationTimestamp"),
                meta(b, "namespace"),
                meta(b, "name"),
            ))
    });
    v
}

/// Istio's translation of a DestinationRule `outlierDetection` to Envoy's
/// (`applyOutlierDetection`): an unset field keeps Envoy's default; `consecutive5xxErrors`
/// and `consecutiveGatewayErrors` enforce 100 % when non-zero and 0 % when zero; the
/// deprecated `consecutiveErrors` means gateway errors (5xx enforcement off);
/// `maxEjectionPercent` only when > 0 (Istio's default is Envoy's 10 %).
pub(crate) fn outlier_from_istio(od: &Value) -> OutlierConfig {
    let mut out = OutlierConfig::default();
    if let Some(e) = od.get("consecutiveErrors").and_then(u32_of)
        && e > 0
    {
        out.enforcing_consecutive_gateway_failure = 100;
        out.enforcing_consecutive_5xx = 0;
        out.consecutive_gateway_failure = e;
    }
    if let Some(v) = od.get("consecutive5xxErrors").and_then(u32_of) {
        out.consecutive_5xx = v;
        out.enforcing_consecutive_5xx = if v > 0 { 100 } else { 0 };
    }
    if let Some(v) = od.get("consecutiveGatewayErrors").and_then(u32_of) {
        out.consecutive_gateway_failure = v;
        out.enforcing_consecutive_gateway_failure = if v > 0 { 100 } else { 0 };
    }
    if let Some(d) = duration_of(od.get("interval")) {
        out.interval = d;
    }
    if let Some(d) = duration_of(od.get("baseEjectionTime")) {
        out.base_ejection_time = d;
    }
    out.max_ejection_time = Duration::from_secs(300).max(out.base_ejection_time);
    if let Some(p) = od.get("maxEjectionPercent").and_then(u32_of)
        && p > 0
    {
        out.max_ejection_percent = p;
    }
    if od
        .get("splitExternalLocalOriginErrors")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        out.split_external_local_origin_errors = true;
        if let Some(v) = od.get("consecutiveLocalOriginFailures").and_then(u32_of) {
            out.consecutive_local_origin_failure = v;
        }
    }
    out
}

struct Builder<'a> {
    inputs: &'a MeshInputs,
    diagnostics: Vec<String>,
}

/// Build the sidecar configuration for `inputs.proxy`.
pub(crate) fn build(inputs: &MeshInputs) -> ProxyConfig {
    let mut b = Builder {
        inputs,
        diagnostics: Vec::new(),
    };
    let registry = b.registry();
    let mut clusters = b.generated_clusters(&registry);
    b.apply_envoy_filters(&mut clusters);
    let routes = b.routes(&registry);
    ProxyConfig {
        routes,
        clusters,
        diagnostics: b.diagnostics,
    }
}

impl Builder<'_> {
    fn domain(&self) -> &str {
        if self.inputs.cluster_domain.is_empty() {
            "cluster.local"
        } else {
            &self.inputs.cluster_domain
        }
    }

    /// The Envoy cluster name of `host:port` (and `subset`, empty for none) for this proxy:
    /// a sidecar's `outbound|<port>|<subset>|<host>`; a waypoint's
    /// `inbound-vip|<port>|http|<host>` or `inbound-vip|<port>|http/<subset>|<host>`, as
    /// istiod names the clusters of the services a waypoint serves
    /// (`buildWaypointInboundVIP` in Istio's `pilot/pkg/networking/core/cluster_waypoint.go`,
    /// whose HTTP cluster is the one a route names). The model is HTTP only, so it has no
    /// waypoint `tcp` clusters; and it names every destination of a waypoint's routes so,
    /// where istiod keeps `outbound|...` for a destination the waypoint does not serve.
    pub(super) fn cluster_name(&self, port: u16, subset: &str, host: &str) -> String {
        if !self.inputs.proxy.waypoint {
            return outbound_cluster_name(port, subset, host);
        }
        if subset.is_empty() {
            format!("inbound-vip|{port}|http|{host}")
        } else {
            format!("inbound-vip|{port}|http/{subset}|{host}")
        }
    }

    fn root_ns(&self) -> &str {
        if self.inputs.root_namespace.is_empty() {
            "istio-system"
        } else {
            &self.inputs.root_namespace
        }
    }

    /// The DestinationRule that applies to `host` (of a service in `svc_ns`) for this proxy.
    fn destination_rule(&self, host: &str, svc_ns: &str) -> Option<&Value> {
        let proxy_ns = &self.inputs.proxy.namespace;
        let tiers = [proxy_ns.as_str(), svc_ns, self.root_ns()];
        let candidates: Vec<&Value> = by_age(&self.inputs.destination_rules)
            .into_iter()
            .filter(|dr| visible(dr, proxy_ns))
            .filter(|dr| {
                let dr_ns = meta(dr, "namespace");
                dr.pointer("/spec/host")
                    .and_then(Value::as_str)
                    .is_some_and(|h| host_matches(&fqdn(h, dr_ns, self.domain()), host))
            })
            .collect();
        let exact = |dr: &&Value| {
            dr.pointer("/spec/host")
                .and_then(Value::as_str)
                .is_some_and(|h| fqdn(h, meta(dr, "namespace"), self.domain()) == host)
        };
        for tier in tiers {
            let in_tier: Vec<&&Value> = candidates
                .iter()
                .filter(|dr| meta(dr, "namespace") == tier)
                .collect();
            if let Some(dr) = in_tier.iter().find(|dr| exact(dr)).or(in_tier.first()) {
                return Some(dr);
            }
        }
        candidates
            .iter()
            .find(|dr| exact(dr))
            .or(candidates.first())
            .copied()
    }

    /// Outlier detection and panic threshold of a traffic policy for a port, with
    /// `portLevelSettings` overriding.
    fn traffic_policy_for_port(policy: Option<&Value>, port: u16) -> Option<Value> {
        let policy = policy?;
        let mut od = policy.get("outlierDetection").cloned();
        if let Some(levels) = policy.get("portLevelSettings").and_then(Value::as_array) {
            for level in levels {
                let n = level.pointer("/port/number").and_then(u32_of);
                if n == Some(u32::from(port))
                    && let Some(o) = level.get("outlierDetection")
                {
                    od = Some(o.clone());
                }
            }
        }
        od
    }

    /// Whether this proxy's istiod sends unready endpoints (as `UNHEALTHY`): Istio 1.31 and
    /// later (`PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS`, on by default; Istio's compatibility
    /// profiles for 1.30 and earlier turn it off as a "1.31 behavioral change").
    fn sends_unhealthy(&self) -> bool {
        istio_at_least(&self.inputs.proxy.istio_version, 1, 31)
    }

    /// Istio's default route retry policy for this proxy's release.
    pub(super) fn default_retry(&self) -> RetryPolicy {
        RetryPolicy::istio_default_for(&self.inputs.proxy.istio_version)
    }

    /// Outlier detection and panic threshold as istiod sets them. Istio 1.31 and later
    /// (`sends_unhealthy`): the panic threshold is 0 on every cluster (istiod disables panic
    /// mode for services that send unhealthy endpoints) unless the outlier detection sets
    /// `minHealthPercent`, which becomes the threshold and makes istiod leave unhealthy
    /// endpoints out. Before: `minHealthPercent` (default 0) with outlier detection, Envoy's
    /// 50 % without.
    fn apply_outlier(cluster: &mut EndpointCluster, od: Option<Value>, sends_unhealthy: bool) {
        let min_health = od
            .as_ref()
            .and_then(|od| od.get("minHealthPercent"))
            .and_then(u32_of)
            .unwrap_or(0)
            .min(100);
        cluster.panic_threshold = if sends_unhealthy || od.is_some() {
            min_health
        } else {
            DEFAULT_PANIC_THRESHOLD
        };
        if !sends_unhealthy || min_health > 0 {
            cluster.endpoints.retain(|e| e.healthy);
        }
        cluster.outlier = od.as_ref().map(outlier_from_istio);
    }

    fn generated_clusters(&mut self, registry: &[RegHost]) -> BTreeMap<String, ClusterDef> {
        let mut out = BTreeMap::new();
        let sends_unhealthy = self.sends_unhealthy();
        for h in registry {
            let dr = self.destination_rule(&h.host, &h.namespace).cloned();
            let top_policy = dr.as_ref().and_then(|d| d.pointer("/spec/trafficPolicy"));
            let subsets: Vec<Value> = dr
                .as_ref()
                .and_then(|d| d.pointer("/spec/subsets"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (pname, port) in &h.ports {
                let all: Vec<(Endpoint, BTreeMap<String, String>)> = match &h.kind {
                    RegKind::Kube { endpoints } => endpoints
                        .iter()
                        .filter_map(|e| {
                            let target = e.ports.get(pname.as_str()).copied().or_else(|| {
                                (e.ports.len() == 1)
                                    .then(|| e.ports.values().next().copied())
                                    .flatten()
                            })?;
                            let mut ep = Endpoint::new(&e.ip, target);
                            ep.cluster = Some(e.cluster.clone());
                            ep.labels = e.labels.clone();
                            ep.healthy = !e.not_ready;
                            Some((ep, e.labels.clone()))
                        })
                        .collect(),
                    RegKind::Entry { endpoints, .. } => endpoints
                        .get(port)
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|e| {
                            let l = e.labels.clone();
                            (e, l)
                        })
                        .collect(),
                };
                let eds = matches!(h.kind, RegKind::Kube { .. });
                // istiod generates no STRICT_DNS or STATIC cluster without endpoints (push
                // status `pilot_dns_cluster_without_endpoints`). A DNS ServiceEntry without
                // endpoints has one, its hostname, which the simulator cannot resolve: its
                // cluster exists, without hosts.
                let dns_hostname = matches!(
                    h.kind,
                    RegKind::Entry {
                        dns_hostname: true,
                        ..
                    }
                );
                let base_name = self.cluster_name(*port, "", &h.host);
                let mut base =
                    EndpointCluster::new(&base_name, all.iter().map(|(e, _)| e.clone()).collect());
                base.eds = eds;
                let top_od = Self::traffic_policy_for_port(top_policy, *port);
                let top_entries = match top_od {
                    Some(_) => priority::failover_priority(None, top_policy),
                    None => Vec::new(),
                };
                Self::apply_outlier(&mut base, top_od, sends_unhealthy);
                if eds || dns_hostname || !base.endpoints.is_empty() {
                    if top_entries.is_empty() {
                        out.insert(base_name, ClusterDef::Endpoints(base));
                    } else {
                        let prio =
                            priority::priorities(&base, &self.inputs.proxy.labels, &top_entries);
                        out.extend(priority::split(base, &prio));
                    }
                }
                for subset in &subsets {
                    let Some(sname) = s(subset, "name") else {
                        continue;
                    };
                    let selector = labels_of(subset.get("labels"));
                    let name = self.cluster_name(*port, sname, &h.host);
                    let mut c = EndpointCluster::new(
                        &name,
                        all.iter()
                            .filter(|(_, l)| subset_of(&selector, l))
                            .map(|(e, _)| e.clone())
                            .collect(),
                    );
                    c.eds = eds;
                    let od = Self::traffic_policy_for_port(subset.get("trafficPolicy"), *port)
                        .or_else(|| Self::traffic_policy_for_port(top_policy, *port));
                    let with_od = od.is_some();
                    Self::apply_outlier(&mut c, od, sends_unhealthy);
                    // The hostname of a DNS ServiceEntry without endpoints has no labels, so
                    // only a subset without labels selects it.
                    let selects_hostname = dns_hostname && selector.is_empty();
                    if eds || selects_hostname || !c.endpoints.is_empty() {
                        let entries =
                            priority::failover_priority(subset.get("trafficPolicy"), top_policy);
                        if with_od && !entries.is_empty() {
                            let prio =
                                priority::priorities(&c, &self.inputs.proxy.labels, &entries);
                            out.extend(priority::split(c, &prio));
                        } else {
                            out.insert(name, ClusterDef::Endpoints(c));
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
