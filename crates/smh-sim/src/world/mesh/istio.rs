//! From Istio objects to one sidecar's [`ProxyConfig`], as istiod would build it (pure).
//!
//! Modelled: Kubernetes services (and, in multi-primary, the same service from every
//! cluster the proxy's istiod has a remote secret for) and ServiceEntries as outbound
//! clusters `outbound|<port>|<subset>|<host>`; DestinationRule lookup (proxy namespace, then
//! service namespace, then the root namespace), subsets, `trafficPolicy` and
//! `portLevelSettings` outlier detection as Istio translates it; VirtualService routes
//! (matches, weighted destinations, retries, timeout, fault, rewrite, redirect, direct
//! response); `exportTo`; EnvoyFilter CLUSTER patches (REMOVE of generated clusters, ADD of
//! aggregate clusters in both the v3 `typed_config` and the v2alpha `TypedStruct` forms).
//! Anything else is reported in [`ProxyConfig::diagnostics`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;

use super::outlier::OutlierConfig;
use super::xds::{
    AggregateCluster, ClusterDef, DEFAULT_PANIC_THRESHOLD, Endpoint, EndpointCluster, Fault,
    GatewayHop, ProxyConfig, RetryPolicy, Route, RouteAction, RouteMatch, StringMatch, VirtualHost,
    outbound_cluster_name, parse_outbound_cluster_name,
};
use smh_core::model::duration::parse_duration;

/// Istio's label for the cluster an endpoint runs in.
pub const CLUSTER_TOPOLOGY_LABEL: &str = "topology.istio.io/cluster";

/// The proxy being configured.
#[derive(Debug, Clone, Default)]
pub struct ProxyIdentity {
    pub cluster: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// Istio version of the proxy (for EnvoyFilter `proxyVersion` matches).
    pub istio_version: String,
}

/// A Kubernetes Service as istiod's registry sees it, with its ready endpoints.
#[derive(Debug, Clone, Default)]
pub struct ServiceRecord {
    pub cluster: String,
    pub name: String,
    pub namespace: String,
    pub cluster_ip: Option<String>,
    /// `(port name, port)`.
    pub ports: Vec<(String, u16)>,
    pub endpoints: Vec<EndpointRecord>,
}

/// A ready endpoint address (from an `Endpoints` object) with its pod's labels.
#[derive(Debug, Clone, Default)]
pub struct EndpointRecord {
    pub ip: String,
    pub cluster: String,
    pub labels: BTreeMap<String, String>,
    /// Target port by service port name.
    pub ports: BTreeMap<String, u16>,
}

/// Everything the builder reads. Istio objects are those stored in the proxy's own cluster.
#[derive(Debug, Clone, Default)]
pub struct MeshInputs {
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
pub fn fqdn(host: &str, namespace: &str, domain: &str) -> String {
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
pub fn outlier_from_istio(od: &Value) -> OutlierConfig {
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

/// A registry host: a Kubernetes service or a ServiceEntry host.
#[derive(Debug, Clone)]
struct RegHost {
    host: String,
    namespace: String,
    /// `(port name, port)`.
    ports: Vec<(String, u16)>,
    kind: RegKind,
    cluster_ip: Option<String>,
    short_name: Option<String>,
}

#[derive(Debug, Clone)]
enum RegKind {
    Kube {
        endpoints: Vec<EndpointRecord>,
    },
    Entry {
        /// Endpoints per port number.
        endpoints: BTreeMap<u16, Vec<Endpoint>>,
        addresses: Vec<String>,
    },
}

struct Builder<'a> {
    inputs: &'a MeshInputs,
    diagnostics: Vec<String>,
}

/// Build the sidecar configuration for `inputs.proxy`.
pub fn build(inputs: &MeshInputs) -> ProxyConfig {
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

    fn root_ns(&self) -> &str {
        if self.inputs.root_namespace.is_empty() {
            "istio-system"
        } else {
            &self.inputs.root_namespace
        }
    }

    fn registry(&mut self) -> Vec<RegHost> {
        let proxy_cluster = &self.inputs.proxy.cluster;
        let mut kube: BTreeMap<(String, String), RegHost> = BTreeMap::new();
        // The proxy's own cluster first, so its Service defines ports and ClusterIP.
        let mut services: Vec<&ServiceRecord> = self.inputs.services.iter().collect();
        services.sort_by_key(|s| (s.cluster != *proxy_cluster, s.cluster.clone()));
        for svc in services {
            let host = format!("{}.{}.svc.{}", svc.name, svc.namespace, self.domain());
            let entry = kube
                .entry((svc.namespace.clone(), svc.name.clone()))
                .or_insert_with(|| RegHost {
                    host,
                    namespace: svc.namespace.clone(),
                    ports: svc.ports.clone(),
                    kind: RegKind::Kube {
                        endpoints: Vec::new(),
                    },
                    cluster_ip: svc.cluster_ip.clone(),
                    short_name: Some(svc.name.clone()),
                });
            if let RegKind::Kube { endpoints } = &mut entry.kind {
                for ep in &svc.endpoints {
                    let mut ep = ep.clone();
                    ep.labels
                        .entry(CLUSTER_TOPOLOGY_LABEL.to_string())
                        .or_insert_with(|| ep.cluster.clone());
                    endpoints.push(ep);
                }
            }
        }
        let mut out: Vec<RegHost> = kube.into_values().collect();
        let kube_hosts: BTreeSet<String> = out.iter().map(|h| h.host.clone()).collect();
        let proxy_ns = self.inputs.proxy.namespace.clone();
        for se in by_age(&self.inputs.service_entries) {
            if !visible(se, &proxy_ns) {
                continue;
            }
            let se_ns = meta(se, "namespace");
            let spec = se.get("spec").cloned().unwrap_or(Value::Null);
            if spec.get("workloadSelector").is_some() {
                self.diagnostics.push(format!(
                    "ServiceEntry {}: workloadSelector endpoints are not modelled",
                    obj_id(se)
                ));
            }
            let resolution = s(&spec, "resolution").unwrap_or("NONE");
            let ports: Vec<(String, u16, Option<u16>)> = spec
                .get("ports")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .filter_map(|p| {
                            let n = p.get("number").and_then(u32_of)? as u16;
                            let name = s(p, "name").unwrap_or("").to_string();
                            let target = p.get("targetPort").and_then(u32_of).map(|t| t as u16);
                            Some((name, n, target))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let addresses: Vec<String> = spec
                .get("addresses")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let raw_endpoints: Vec<&Value> = spec
                .get("endpoints")
                .and_then(Value::as_array)
                .map(|e| e.iter().collect())
                .unwrap_or_default();
            for host in spec
                .get("hosts")
                .and_then(Value::as_array)
                .map(|h| h.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                .unwrap_or_default()
            {
                let host = host.to_ascii_lowercase();
                if host.starts_with('*') {
                    self.diagnostics.push(format!(
                        "ServiceEntry {}: wildcard host {host} is not modelled",
                        obj_id(se)
                    ));
                    continue;
                }
                if kube_hosts.contains(&host) {
                    self.diagnostics.push(format!(
                        "ServiceEntry {}: host {host} is also a Kubernetes service; the service is used",
                        obj_id(se)
                    ));
                    continue;
                }
                if out.iter().any(|h| h.host == host) {
                    self.diagnostics.push(format!(
                        "ServiceEntry {}: host {host} is already defined by an older ServiceEntry",
                        obj_id(se)
                    ));
                    continue;
                }
                let mut endpoints: BTreeMap<u16, Vec<Endpoint>> = BTreeMap::new();
                for (pname, number, target) in &ports {
                    let mut eps = Vec::new();
                    match resolution {
                        "STATIC" | "DNS" | "DNS_ROUND_ROBIN" if !raw_endpoints.is_empty() => {
                            for raw in &raw_endpoints {
                                let Some(addr) = s(raw, "address") else {
                                    continue;
                                };
                                let port = raw
                                    .get("ports")
                                    .and_then(|p| p.get(pname.as_str()))
                                    .and_then(u32_of)
                                    .map(|p| p as u16)
                                    .or(*target)
                                    .unwrap_or(*number);
                                let mut ep = Endpoint::new(addr, port);
                                ep.labels = labels_of(raw.get("labels"));
                                if let Some(gw_cluster) = self.inputs.gateways.get(addr) {
                                    ep.cluster = Some(gw_cluster.clone());
                                    ep.via_gateway = Some(GatewayHop {
                                        cluster: gw_cluster.clone(),
                                        sni_host: host.clone(),
                                        port: *number,
                                    });
                                } else if let Some(c) = self.inputs.pod_ips.get(addr) {
                                    ep.cluster = Some(c.clone());
                                }
                                eps.push(ep);
                            }
                        }
                        "DNS" | "DNS_ROUND_ROBIN" => {
                            self.diagnostics.push(format!(
                                "ServiceEntry {}: {host} resolves by DNS with no endpoints; the simulator has no DNS for it, so its cluster has no hosts",
                                obj_id(se)
                            ));
                        }
                        _ => {}
                    }
                    endpoints.insert(*number, eps);
                }
                out.push(RegHost {
                    host: host.clone(),
                    namespace: se_ns.to_string(),
                    ports: ports.iter().map(|(n, p, _)| (n.clone(), *p)).collect(),
                    kind: RegKind::Entry {
                        endpoints,
                        addresses: addresses.clone(),
                    },
                    cluster_ip: None,
                    short_name: None,
                });
            }
        }
        out
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

    fn apply_outlier(cluster: &mut EndpointCluster, od: Option<Value>) {
        if let Some(od) = od {
            cluster.panic_threshold = od
                .get("minHealthPercent")
                .and_then(u32_of)
                .unwrap_or(0)
                .min(100);
            cluster.outlier = Some(outlier_from_istio(&od));
        } else {
            cluster.panic_threshold = DEFAULT_PANIC_THRESHOLD;
        }
    }

    fn generated_clusters(&mut self, registry: &[RegHost]) -> BTreeMap<String, ClusterDef> {
        let mut out = BTreeMap::new();
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
                let base_name = outbound_cluster_name(*port, "", &h.host);
                let mut base =
                    EndpointCluster::new(&base_name, all.iter().map(|(e, _)| e.clone()).collect());
                base.eds = eds;
                Self::apply_outlier(&mut base, Self::traffic_policy_for_port(top_policy, *port));
                out.insert(base_name, ClusterDef::Endpoints(base));
                for subset in &subsets {
                    let Some(sname) = s(subset, "name") else {
                        continue;
                    };
                    let selector = labels_of(subset.get("labels"));
                    let name = outbound_cluster_name(*port, sname, &h.host);
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
                    Self::apply_outlier(&mut c, od);
                    out.insert(name, ClusterDef::Endpoints(c));
                }
            }
        }
        out
    }

    fn applicable_envoy_filters(&self) -> Vec<&Value> {
        let proxy = &self.inputs.proxy;
        let root = self.root_ns();
        let mut efs: Vec<&Value> = by_age(&self.inputs.envoy_filters)
            .into_iter()
            .filter(|ef| {
                let ns = meta(ef, "namespace");
                (ns == root || ns == proxy.namespace)
                    && ef
                        .pointer("/spec/workloadSelector/labels")
                        .is_none_or(|l| subset_of(&labels_of(Some(l)), &proxy.labels))
            })
            .collect();
        // Root namespace first, then by priority (stable: creation order kept).
        efs.sort_by_key(|ef| {
            (
                meta(ef, "namespace") != root,
                ef.pointer("/spec/priority")
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
            )
        });
        efs
    }

    fn patch_applies(&mut self, ef: &Value, patch: &Value) -> bool {
        if s(patch, "applyTo") != Some("CLUSTER") {
            return false;
        }
        let context = patch
            .pointer("/match/context")
            .and_then(Value::as_str)
            .unwrap_or("ANY");
        if !matches!(context, "ANY" | "SIDECAR_OUTBOUND") {
            return false;
        }
        if let Some(re) = patch
            .pointer("/match/proxy/proxyVersion")
            .and_then(Value::as_str)
        {
            match regex::Regex::new(&format!("^(?:{re})$")) {
                Ok(r) => {
                    if !r.is_match(&self.inputs.proxy.istio_version) {
                        return false;
                    }
                }
                Err(e) => {
                    self.diagnostics.push(format!(
                        "EnvoyFilter {}: proxyVersion {re:?} is not a valid regular expression ({e}); patch skipped",
                        obj_id(ef)
                    ));
                    return false;
                }
            }
        }
        true
    }

    fn cluster_match(&self, m: Option<&Value>, name: &str) -> bool {
        let Some(m) = m else {
            return true;
        };
        if let Some(want) = s(m, "name") {
            return want == name;
        }
        let Some((port, subset, host)) = parse_outbound_cluster_name(name) else {
            return false;
        };
        if let Some(p) = m.get("portNumber").and_then(u32_of)
            && p != u32::from(port)
        {
            return false;
        }
        if let Some(svc) = s(m, "service")
            && svc != host
        {
            return false;
        }
        if let Some(sub) = s(m, "subset")
            && sub != subset
        {
            return false;
        }
        true
    }

    fn apply_envoy_filters(&mut self, clusters: &mut BTreeMap<String, ClusterDef>) {
        let efs: Vec<Value> = self
            .applicable_envoy_filters()
            .into_iter()
            .cloned()
            .collect();
        let mut added: Vec<(String, ClusterDef)> = Vec::new();
        for ef in &efs {
            let patches: Vec<Value> = ef
                .pointer("/spec/configPatches")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for patch in &patches {
                if !self.patch_applies(ef, patch) {
                    continue;
                }
                let op = patch
                    .pointer("/patch/operation")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let cmatch = patch.pointer("/match/cluster");
                match op {
                    "REMOVE" => {
                        let names: Vec<String> = clusters
                            .keys()
                            .filter(|n| self.cluster_match(cmatch, n))
                            .cloned()
                            .collect();
                        for n in names {
                            clusters.remove(&n);
                        }
                    }
                    "ADD" => match self.added_cluster(ef, patch.pointer("/patch/value")) {
                        Ok(c) => {
                            let name = match &c {
                                ClusterDef::Aggregate(a) => a.name.clone(),
                                ClusterDef::Endpoints(e) => e.name.clone(),
                            };
                            added.push((name, c));
                        }
                        Err(e) => self.diagnostics.push(e),
                    },
                    other => self.diagnostics.push(format!(
                        "EnvoyFilter {}: CLUSTER patch operation {other:?} is not modelled",
                        obj_id(ef)
                    )),
                }
            }
        }
        for (name, c) in added {
            if clusters.contains_key(&name) {
                self.diagnostics.push(format!(
                    "cluster {name} is added by an EnvoyFilter while a generated cluster of that name exists; real Envoy rejects duplicate cluster names, the simulator uses the added one"
                ));
            }
            clusters.insert(name, c);
        }
    }

    /// Parse an ADDed Envoy cluster. Only aggregate clusters are modelled.
    fn added_cluster(&self, ef: &Value, value: Option<&Value>) -> Result<ClusterDef, String> {
        let id = obj_id(ef);
        let value = value.ok_or_else(|| format!("EnvoyFilter {id}: ADD patch without a value"))?;
        let name = s(value, "name")
            .ok_or_else(|| format!("EnvoyFilter {id}: added cluster has no name"))?
            .to_string();
        let ctype = either(value, "cluster_type", "clusterType").ok_or_else(|| {
            format!("EnvoyFilter {id}: added cluster {name} is not an aggregate cluster (only aggregate clusters are modelled)")
        })?;
        let tc = either(ctype, "typed_config", "typedConfig").ok_or_else(|| {
            format!("EnvoyFilter {id}: cluster {name}: cluster_type has no typed_config")
        })?;
        let at = s(tc, "@type").unwrap_or("");
        let clusters_value = if at.ends_with("envoy.extensions.clusters.aggregate.v3.ClusterConfig")
        {
            tc.get("clusters")
        } else if at.ends_with("udpa.type.v1.TypedStruct")
            || at.ends_with("xds.type.v3.TypedStruct")
        {
            // Envoy converts a TypedStruct's value into the factory's own config type through
            // JSON, whatever its type_url says, so SMH's v2alpha form still loads.
            let type_url = either(tc, "type_url", "typeUrl")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !type_url.contains("aggregate") {
                return Err(format!(
                    "EnvoyFilter {id}: cluster {name}: TypedStruct type_url {type_url:?} is not an aggregate cluster config"
                ));
            }
            tc.pointer("/value/clusters")
        } else if at.ends_with("envoy.config.cluster.aggregate.v2alpha.ClusterConfig") {
            return Err(format!(
                "EnvoyFilter {id}: cluster {name}: the v2alpha aggregate config as a plain typed_config is rejected (Istio validation, istio#23909; Envoy ≥ 1.18 has no v2 API); SMH wrapped it in a TypedStruct"
            ));
        } else {
            return Err(format!(
                "EnvoyFilter {id}: cluster {name}: unknown cluster_type config {at:?}"
            ));
        };
        let ctype_name = s(ctype, "name").unwrap_or("");
        if !ctype_name.is_empty() && ctype_name != "envoy.clusters.aggregate" {
            return Err(format!(
                "EnvoyFilter {id}: cluster {name}: cluster_type {ctype_name:?} is not modelled"
            ));
        }
        let lb = either(value, "lb_policy", "lbPolicy")
            .and_then(Value::as_str)
            .unwrap_or("");
        if lb != "CLUSTER_PROVIDED" {
            return Err(format!(
                "EnvoyFilter {id}: cluster {name}: Envoy rejects an aggregate cluster whose lb_policy is not CLUSTER_PROVIDED (got {lb:?})"
            ));
        }
        let clusters: Vec<String> = clusters_value
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if clusters.is_empty() {
            return Err(format!(
                "EnvoyFilter {id}: aggregate cluster {name} lists no clusters"
            ));
        }
        let panic_threshold = either(value, "common_lb_config", "commonLbConfig")
            .and_then(|c| either(c, "healthy_panic_threshold", "healthyPanicThreshold"))
            .and_then(|p| p.get("value"))
            .and_then(Value::as_f64)
            .map_or(DEFAULT_PANIC_THRESHOLD, |v| v.clamp(0.0, 100.0) as u32);
        Ok(ClusterDef::Aggregate(AggregateCluster {
            name,
            clusters,
            panic_threshold,
            source: id,
        }))
    }

    fn routes(&mut self, registry: &[RegHost]) -> BTreeMap<u16, Vec<VirtualHost>> {
        let proxy_ns = self.inputs.proxy.namespace.clone();
        // VirtualService per registry host (oldest VS wins for a host).
        let mut vs_for: BTreeMap<String, Value> = BTreeMap::new();
        for vs in by_age(&self.inputs.virtual_services) {
            if !visible(vs, &proxy_ns) {
                continue;
            }
            let gateways: Vec<&str> = vs
                .pointer("/spec/gateways")
                .and_then(Value::as_array)
                .map(|g| g.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !gateways.is_empty() && !gateways.contains(&"mesh") {
                continue;
            }
            let vs_ns = meta(vs, "namespace");
            for h in vs
                .pointer("/spec/hosts")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                .unwrap_or_default()
            {
                let pattern = fqdn(h, vs_ns, self.domain());
                for reg in registry.iter().filter(|r| host_matches(&pattern, &r.host)) {
                    if let Some(prev) = vs_for.get(&reg.host) {
                        if meta(prev, "name") != meta(vs, "name")
                            || meta(prev, "namespace") != vs_ns
                        {
                            self.diagnostics.push(format!(
                                "VirtualService {} also claims {}; the older {} is used",
                                obj_id(vs),
                                reg.host,
                                obj_id(prev)
                            ));
                        }
                        continue;
                    }
                    vs_for.insert(reg.host.clone(), vs.clone());
                }
            }
        }
        let mut tables: BTreeMap<u16, Vec<VirtualHost>> = BTreeMap::new();
        for reg in registry {
            for (_, port) in &reg.ports {
                let routes = match vs_for.get(&reg.host) {
                    Some(vs) => self.vs_routes(vs, *port, registry),
                    None => vec![Route {
                        name: "default".to_string(),
                        matches: Vec::new(),
                        action: RouteAction::Clusters(vec![(
                            outbound_cluster_name(*port, "", &reg.host),
                            100,
                        )]),
                        timeout: None,
                        retry: Some(RetryPolicy::istio_default()),
                        fault: None,
                        rewrite_uri: None,
                    }],
                };
                tables.entry(*port).or_default().push(VirtualHost {
                    name: format!("{}:{port}", reg.host),
                    domains: self.domains(reg, *port),
                    routes,
                });
            }
        }
        tables
    }

    fn domains(&self, reg: &RegHost, port: u16) -> Vec<String> {
        let mut names: Vec<String> = vec![reg.host.clone()];
        if let Some(short) = &reg.short_name {
            if reg.namespace == self.inputs.proxy.namespace {
                names.push(short.clone());
            }
            names.push(format!("{short}.{}", reg.namespace));
            names.push(format!("{short}.{}.svc", reg.namespace));
        }
        if let Some(ip) = &reg.cluster_ip
            && !ip.is_empty()
            && ip != "None"
        {
            names.push(ip.clone());
        }
        if let RegKind::Entry { addresses, .. } = &reg.kind {
            names.extend(addresses.iter().cloned());
        }
        let mut out = Vec::new();
        for n in names {
            out.push(format!("{n}:{port}"));
            out.push(n);
        }
        out
    }

    fn string_match(&mut self, vs: &Value, v: &Value) -> Option<StringMatch> {
        if let Some(e) = s(v, "exact") {
            Some(StringMatch::Exact(e.to_string()))
        } else if let Some(p) = s(v, "prefix") {
            Some(StringMatch::Prefix(p.to_string()))
        } else if let Some(r) = s(v, "regex") {
            match regex::Regex::new(&format!("^(?:{r})$")) {
                Ok(re) => Some(StringMatch::Regex(re)),
                Err(e) => {
                    self.diagnostics.push(format!(
                        "VirtualService {}: regex {r:?} does not compile ({e}); it never matches",
                        obj_id(vs)
                    ));
                    Some(StringMatch::Exact("\u{0}never".to_string()))
                }
            }
        } else {
            None
        }
    }

    fn named_matches(&mut self, vs: &Value, m: &Value, key: &str) -> Vec<(String, StringMatch)> {
        let mut out = Vec::new();
        if let Some(map) = m.get(key).and_then(Value::as_object) {
            for (name, sm) in map {
                if let Some(sm) = self.string_match(vs, sm) {
                    out.push((name.to_ascii_lowercase(), sm));
                } else {
                    // `{}` means "present" for headers; model as a prefix of "".
                    out.push((
                        name.to_ascii_lowercase(),
                        StringMatch::Prefix(String::new()),
                    ));
                }
            }
        }
        out
    }

    /// Convert one Istio match into a request match, or `None` when its proxy-level
    /// conditions exclude this proxy or this listener port.
    fn route_match(&mut self, vs: &Value, m: &Value, port: u16) -> Option<RouteMatch> {
        let proxy = &self.inputs.proxy;
        if let Some(p) = m.get("port").and_then(u32_of)
            && p != u32::from(port)
        {
            return None;
        }
        if let Some(gws) = m.get("gateways").and_then(Value::as_array)
            && !gws.is_empty()
            && !gws.iter().any(|g| g.as_str() == Some("mesh"))
        {
            return None;
        }
        if let Some(ns) = s(m, "sourceNamespace")
            && ns != proxy.namespace
        {
            return None;
        }
        let source_labels = labels_of(m.get("sourceLabels"));
        if !subset_of(&source_labels, &proxy.labels) {
            return None;
        }
        let uri = m.get("uri").and_then(|u| self.string_match(vs, u));
        let method = m.get("method").and_then(|u| self.string_match(vs, u));
        let authority = m.get("authority").and_then(|u| self.string_match(vs, u));
        Some(RouteMatch {
            uri,
            ignore_uri_case: m
                .get("ignoreUriCase")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            method,
            authority,
            headers: self.named_matches(vs, m, "headers"),
            without_headers: self.named_matches(vs, m, "withoutHeaders"),
            query_params: self.named_matches(vs, m, "queryParams"),
        })
    }

    fn retry_policy(&self, retries: Option<&Value>) -> Option<RetryPolicy> {
        let Some(r) = retries else {
            return Some(RetryPolicy::istio_default());
        };
        let attempts = r.get("attempts").and_then(Value::as_i64).unwrap_or(0);
        if attempts <= 0 {
            return None;
        }
        let mut p = RetryPolicy::istio_default();
        p.num_retries = attempts.min(i64::from(u32::MAX)) as u32;
        if let Some(on) = s(r, "retryOn").filter(|s| !s.trim().is_empty()) {
            let mut conditions = BTreeSet::new();
            let mut codes = Vec::new();
            for part in on.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part.parse::<u16>() {
                    Ok(code) => codes.push(code),
                    Err(_) => {
                        conditions.insert(part.to_string());
                    }
                }
            }
            if !codes.is_empty() {
                conditions.insert("retriable-status-codes".to_string());
            }
            p.retry_on = conditions;
            p.retriable_status_codes = codes;
        }
        p.per_try_timeout = duration_of(r.get("perTryTimeout"));
        if r.get("retryRemoteLocalities").and_then(Value::as_bool) == Some(true) {
            p.previous_priorities = Some(2);
        }
        Some(p)
    }

    fn fault(v: Option<&Value>) -> Option<Fault> {
        let v = v?;
        let pct = |x: &Value| {
            x.pointer("/percentage/value")
                .and_then(Value::as_f64)
                .or_else(|| x.get("percent").and_then(Value::as_f64))
                .unwrap_or(100.0)
        };
        let delay = v
            .get("delay")
            .and_then(|d| duration_of(d.get("fixedDelay")).map(|t| (t, pct(d))));
        let abort = v.get("abort").and_then(|a| {
            a.get("httpStatus")
                .and_then(u32_of)
                .map(|code| (code as u16, pct(a)))
        });
        (delay.is_some() || abort.is_some()).then_some(Fault { delay, abort })
    }

    fn vs_routes(&mut self, vs: &Value, port: u16, registry: &[RegHost]) -> Vec<Route> {
        let vs_ns = meta(vs, "namespace").to_string();
        let http: Vec<Value> = vs
            .pointer("/spec/http")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut routes = Vec::new();
        for (i, r) in http.iter().enumerate() {
            let name = s(r, "name")
                .map(str::to_string)
                .unwrap_or_else(|| format!("{}#{i}", obj_id(vs)));
            let raw_matches: Vec<Value> = r
                .get("match")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let matches: Vec<RouteMatch> = raw_matches
                .iter()
                .filter_map(|m| self.route_match(vs, m, port))
                .collect();
            if !raw_matches.is_empty() && matches.is_empty() {
                continue; // no match applies to this proxy/port
            }
            let action = if let Some(dr) = r.get("directResponse") {
                RouteAction::DirectResponse {
                    status: dr.get("status").and_then(u32_of).unwrap_or(200) as u16,
                    body: dr
                        .pointer("/body/string")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                }
            } else if let Some(rd) = r.get("redirect") {
                RouteAction::Redirect {
                    status: rd.get("redirectCode").and_then(u32_of).unwrap_or(301) as u16,
                    authority: s(rd, "authority").map(str::to_string),
                    uri: s(rd, "uri").map(str::to_string),
                }
            } else {
                let dests: Vec<(String, u32)> = r
                    .get("route")
                    .and_then(Value::as_array)
                    .map(|ds| {
                        ds.iter()
                            .filter_map(|d| {
                                let dest = d.get("destination")?;
                                let host = fqdn(s(dest, "host")?, &vs_ns, self.domain());
                                let subset = s(dest, "subset").unwrap_or("");
                                let dport = dest
                                    .pointer("/port/number")
                                    .and_then(u32_of)
                                    .map(|p| p as u16)
                                    .or_else(|| {
                                        registry.iter().find(|h| h.host == host).and_then(|h| {
                                            (h.ports.len() == 1).then(|| h.ports[0].1)
                                        })
                                    })
                                    .unwrap_or(port);
                                let weight = d.get("weight").and_then(u32_of);
                                Some((outbound_cluster_name(dport, subset, &host), weight))
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(c, w)| (c, w.unwrap_or(0)))
                    .collect();
                if dests.is_empty() {
                    self.diagnostics.push(format!(
                        "VirtualService {}: http route {i} has no destination; skipped",
                        obj_id(vs)
                    ));
                    continue;
                }
                // Istio: a single destination gets 100; unset weights share nothing.
                let dests = if dests.len() == 1 {
                    vec![(dests[0].0.clone(), 100)]
                } else {
                    dests
                };
                RouteAction::Clusters(dests)
            };
            routes.push(Route {
                name,
                matches,
                action,
                timeout: duration_of(r.get("timeout")).filter(|d| !d.is_zero()),
                retry: self.retry_policy(r.get("retries")),
                fault: Self::fault(r.get("fault")),
                rewrite_uri: r
                    .pointer("/rewrite/uri")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        routes
    }
}

#[cfg(test)]
mod tests;
