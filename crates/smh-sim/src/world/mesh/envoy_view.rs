//! The model's sidecar (and waypoint) configuration for given inputs, in the terms of Envoy's
//! config dump, so that it can be compared with what real istiod generates from the same
//! inputs (`scripts/istio-oracle`; the comparisons are `tests/istio_oracle/model.rs` and
//! `tests/istio_oracle/model_waypoint.rs`).
//!
//! The inputs are what the oracle fabricates and hands to istiod: the Istio objects of the
//! proxy's cluster and, per cluster whose endpoints the proxy's istiod reads, that cluster's
//! Services, Pods and EndpointSlices (`istio-oracle -oracle.dump-inputs`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::istio::{
    self, CLUSTER_TOPOLOGY_LABEL, EndpointRecord, MeshInputs, ProxyIdentity, ServiceRecord,
};
use super::proxy::{Proxy, Request};
use super::xds::{ClusterDef, EndpointCluster};

/// The Kubernetes objects of one cluster, as the proxy's istiod reads them.
#[derive(Debug, Clone)]
pub struct ClusterObjects {
    /// The SMH cluster name.
    pub cluster: String,
    /// The Istio cluster ID istiod labels this cluster's endpoints with
    /// (`topology.istio.io/cluster`).
    pub istio_id: String,
    /// Services, Pods and EndpointSlices (other kinds are ignored).
    pub objects: Vec<Value>,
}

/// The proxy whose configuration is built, and the request it sends.
#[derive(Debug, Clone)]
pub struct ViewRequest {
    /// The SMH cluster the proxy runs in.
    pub cluster: String,
    /// The proxy's namespace.
    pub namespace: String,
    /// The proxy's pod labels.
    pub labels: BTreeMap<String, String>,
    /// The proxy's Istio version (for EnvoyFilter `proxyVersion` matches).
    pub istio_version: String,
    /// The request's Host header, e.g. `reviews.bookinfo:9080`.
    pub authority: String,
    /// The request's port (the listener port).
    pub port: u16,
}

/// What the model configures the proxy with, as JSON:
///
/// - `clusters`: every outbound cluster by name: `type` (`EDS`, `STRICT_DNS/STATIC` or
///   `aggregate`), `endpoints` (`ip:port HEALTHY|UNHEALTHY`, sorted), `outlier`
///   (`consecutive_5xx`, `enforcing_consecutive_5xx`, `interval_ms`, `base_ejection_time_ms`,
///   `max_ejection_percent`, or null), `panic_threshold`, and for an aggregate its
///   `children` in order;
/// - `route`: for the request, the `cluster` its route names and the route's retry policy
///   (`num_retries`, `retry_on` sorted, `retriable_status_codes`), and `reached`: the
///   cluster Envoy picks a host from for the first attempt (null when none);
/// - `diagnostics`: what the model did not model.
pub fn sidecar_view(
    istio_objects: &[Value],
    clusters: &[ClusterObjects],
    req: &ViewRequest,
) -> Value {
    view(istio_objects, clusters, req, false)
}

/// What the model configures a waypoint's Envoy with (its pod in `req`: the waypoint's
/// namespace and labels), in the same terms as [`sidecar_view`]: the Envoy that ztunnel hands
/// a request for a destination bound to the waypoint, which routes it as a request for
/// `req.authority` (the destination's `name.ns.svc.cluster.local:port`, or a ServiceEntry's
/// `host:port`). Its clusters have a waypoint's names
/// (`inbound-vip|<port>|http[/<subset>]|<host>`). A cluster whose endpoints
/// `failoverPriority` orders is, in the model, an aggregate of one cluster per priority level
/// (`<name>#p<level>`, level 0 first).
pub fn waypoint_view(
    istio_objects: &[Value],
    clusters: &[ClusterObjects],
    req: &ViewRequest,
) -> Value {
    view(istio_objects, clusters, req, true)
}

fn view(
    istio_objects: &[Value],
    clusters: &[ClusterObjects],
    req: &ViewRequest,
    waypoint: bool,
) -> Value {
    let mut inputs = MeshInputs {
        proxy: ProxyIdentity {
            cluster: req.cluster.clone(),
            namespace: req.namespace.clone(),
            labels: req.labels.clone(),
            istio_version: req.istio_version.clone(),
            waypoint,
            ztunnel: false,
        },
        cluster_domain: "cluster.local".into(),
        root_namespace: "istio-system".into(),
        ..MeshInputs::default()
    };
    for o in istio_objects {
        let list = match o.get("kind").and_then(Value::as_str) {
            Some("VirtualService") => &mut inputs.virtual_services,
            Some("DestinationRule") => &mut inputs.destination_rules,
            Some("ServiceEntry") => &mut inputs.service_entries,
            Some("EnvoyFilter") => &mut inputs.envoy_filters,
            _ => continue,
        };
        list.push(o.clone());
    }
    for c in clusters {
        inputs.services.extend(service_records(c));
        for pod in c.objects.iter().filter(|o| kind(o) == "Pod") {
            if let Some(ip) = pod.pointer("/status/podIP").and_then(Value::as_str) {
                inputs.pod_ips.insert(ip.to_string(), c.cluster.clone());
            }
        }
    }
    let config = istio::build(&inputs);
    let mut out_clusters = serde_json::Map::new();
    for (name, def) in &config.clusters {
        out_clusters.insert(name.clone(), cluster_json(def));
    }
    let mut proxy = Proxy::new(1);
    let diagnostics = config.diagnostics.clone();
    proxy.update_config(config, Duration::ZERO);
    let request = Request {
        authority: req.authority.clone(),
        port: req.port,
        method: "GET".into(),
        path: "/".into(),
        headers: BTreeMap::new(),
    };
    let route = match proxy.start(&request, Duration::ZERO) {
        Ok(mut ex) => {
            let retry = ex.retry.clone().map(|r| {
                json!({
                    "num_retries": r.num_retries,
                    "retry_on": r.retry_on.iter().collect::<Vec<_>>(),
                    "retriable_status_codes": r.retriable_status_codes,
                })
            });
            let reached = proxy
                .next_attempt(&mut ex, Duration::ZERO)
                .ok()
                .map(|p| p.cluster);
            json!({"cluster": ex.cluster, "retry": retry, "reached": reached})
        }
        Err(reply) => json!({"error": format!("{} {}", reply.status, reply.flag)}),
    };
    json!({"clusters": out_clusters, "route": route, "diagnostics": diagnostics})
}

fn kind(o: &Value) -> &str {
    o.get("kind").and_then(Value::as_str).unwrap_or("")
}

fn meta<'a>(o: &'a Value, key: &str) -> &'a str {
    o.pointer(&format!("/metadata/{key}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn cluster_json(def: &ClusterDef) -> Value {
    match def {
        ClusterDef::Aggregate(a) => json!({
            "type": "aggregate",
            "children": a.clusters,
            "panic_threshold": a.panic_threshold,
        }),
        ClusterDef::Endpoints(c) => endpoint_cluster_json(c),
    }
}

fn endpoint_cluster_json(c: &EndpointCluster) -> Value {
    let mut endpoints: Vec<String> = c
        .endpoints
        .iter()
        .map(|e| {
            let health = if e.healthy { "HEALTHY" } else { "UNHEALTHY" };
            format!("{} {health}", e.key)
        })
        .collect();
    endpoints.sort();
    let outlier = c.outlier.as_ref().map(|o| {
        json!({
            "consecutive_5xx": o.consecutive_5xx,
            "enforcing_consecutive_5xx": o.enforcing_consecutive_5xx,
            "interval_ms": ms(o.interval),
            "base_ejection_time_ms": ms(o.base_ejection_time),
            "max_ejection_percent": o.max_ejection_percent,
        })
    });
    // The model does not keep a ServiceEntry's resolution; Envoy's type is EDS or not.
    let ctype = if c.eds { "EDS" } else { "STRICT_DNS/STATIC" };
    json!({
        "type": ctype,
        "endpoints": endpoints,
        "outlier": outlier,
        "panic_threshold": c.panic_threshold,
    })
}

/// The Services of one cluster with their endpoints from EndpointSlices (`ready: false` is
/// an unready endpoint), labelled with the pod's labels and the Istio cluster ID.
fn service_records(c: &ClusterObjects) -> Vec<ServiceRecord> {
    let pod_labels: BTreeMap<(&str, &str), BTreeMap<String, String>> = c
        .objects
        .iter()
        .filter(|o| kind(o) == "Pod")
        .map(|p| {
            let labels = p
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            ((meta(p, "namespace"), meta(p, "name")), labels)
        })
        .collect();
    let mut out = Vec::new();
    for svc in c.objects.iter().filter(|o| kind(o) == "Service") {
        let (ns, name) = (meta(svc, "namespace"), meta(svc, "name"));
        let ports = svc
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let port = u16::try_from(p.get("port")?.as_u64()?).ok()?;
                let pname = p.get("name").and_then(Value::as_str).unwrap_or("");
                Some((pname.to_string(), port))
            })
            .collect();
        let mut endpoints: BTreeMap<String, EndpointRecord> = BTreeMap::new();
        let slices = c.objects.iter().filter(|o| {
            kind(o) == "EndpointSlice"
                && meta(o, "namespace") == ns
                && o.pointer("/metadata/labels/kubernetes.io~1service-name")
                    .and_then(Value::as_str)
                    == Some(name)
        });
        for slice in slices {
            let ports: BTreeMap<String, u16> = slice
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let port = u16::try_from(p.get("port")?.as_u64()?).ok()?;
                    let pname = p.get("name").and_then(Value::as_str).unwrap_or("");
                    Some((pname.to_string(), port))
                })
                .collect();
            for e in slice
                .get("endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(ip) = e.pointer("/addresses/0").and_then(Value::as_str) else {
                    continue;
                };
                let ready = e
                    .pointer("/conditions/ready")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                let pod = (
                    e.pointer("/targetRef/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or(ns),
                    e.pointer("/targetRef/name")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                );
                let mut labels = pod_labels.get(&pod).cloned().unwrap_or_default();
                labels.insert(CLUSTER_TOPOLOGY_LABEL.to_string(), c.istio_id.clone());
                let rec = endpoints
                    .entry(ip.to_string())
                    .or_insert_with(|| EndpointRecord {
                        ip: ip.to_string(),
                        cluster: c.cluster.clone(),
                        labels,
                        ports: BTreeMap::new(),
                        not_ready: !ready,
                    });
                rec.ports.extend(ports.clone());
            }
        }
        out.push(ServiceRecord {
            cluster: c.cluster.clone(),
            name: name.to_string(),
            namespace: ns.to_string(),
            cluster_ip: svc
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty() && *s != "None")
                .map(str::to_string),
            ports,
            endpoints: endpoints.into_values().collect(),
        });
    }
    out
}
