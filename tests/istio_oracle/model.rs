//! The simulator's model of istiod and Envoy (`crates/smh-sim/src/world/mesh`) against real
//! istiod: the same inputs (kubectl-smh's objects and the Kubernetes objects the oracle
//! fabricates) must give the same outbound clusters (type, endpoints and their health,
//! outlier detection, panic threshold, aggregate children), the same route and retry policy
//! for reviews, and the same cluster reached, before and after the primary's pods turn
//! unready.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use smh_core::model::topology::{MultiClusterMode, Topology};
use smh_sim::world::mesh::envoy_view::{ClusterObjects, ViewRequest, sidecar_view};

use super::support::{self, Set};

const ISTIO_KINDS: [&str; 4] = [
    "VirtualService",
    "DestinationRule",
    "ServiceEntry",
    "EnvoyFilter",
];
const KUBE_KINDS: [&str; 3] = ["Service", "Pod", "EndpointSlice"];

pub(super) fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or("")
}

/// Envoy's cluster as the model's view describes one.
fn oracle_cluster(out: &Value, c: &Value) -> Value {
    if let Some(children) = support::children(c) {
        return json!({"type": "aggregate", "children": children, "panic_threshold": 50});
    }
    let ctype = match c["type"].as_str() {
        Some("EDS") => "EDS",
        _ => "STRICT_DNS/STATIC",
    };
    let o = &c["outlier_detection"];
    let outlier = o.is_object().then(|| {
        json!({
            "consecutive_5xx": o["consecutive_5xx"].as_u64().unwrap_or(5),
            "enforcing_consecutive_5xx": o["enforcing_consecutive_5xx"].as_u64().unwrap_or(100),
            "interval_ms": support::duration_ms(&o["interval"]).unwrap_or(10_000),
            "base_ejection_time_ms": support::duration_ms(&o["base_ejection_time"]).unwrap_or(30_000),
            "max_ejection_percent": o["max_ejection_percent"].as_u64().unwrap_or(10),
        })
    });
    let panic = match c.pointer("/common_lb_config/healthy_panic_threshold") {
        Some(p) => p["value"].as_f64().unwrap_or(0.0) as u64,
        None => 50,
    };
    json!({
        "type": ctype,
        "endpoints": support::endpoints(out, c),
        "outlier": outlier,
        "panic_threshold": panic,
    })
}

/// The route the simulated request took in istiod's output, as the model's view describes it.
fn oracle_route(out: &Value, when: &str) -> Value {
    let sim = &out["simulation"][when];
    let rc = out["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == sim["routeConfig"])
        .unwrap();
    let vh = rc["virtual_hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == sim["virtualHost"])
        .unwrap();
    let route = vh["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"]["cluster"] == sim["cluster"])
        .unwrap();
    let rp = &route["route"]["retry_policy"];
    let retry = rp.is_object().then(|| {
        let mut on: Vec<&str> = rp["retry_on"].as_str().unwrap_or("").split(',').collect();
        on.sort_unstable();
        json!({
            "num_retries": rp["num_retries"].as_u64().unwrap_or(1),
            "retry_on": on,
            "retriable_status_codes": rp["retriable_status_codes"].as_array().cloned().unwrap_or_default(),
        })
    });
    json!({"cluster": sim["cluster"], "retry": retry, "reached": sim["reached"]["cluster"]})
}

/// The oracle's outbound clusters as `name -> view`.
fn oracle_clusters(out: &Value) -> BTreeMap<String, Value> {
    support::clusters(out)
        .into_iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                oracle_cluster(out, c),
            )
        })
        .collect()
}

fn view_clusters(view: &Value) -> BTreeMap<String, Value> {
    view["clusters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Mark the pods `cluster/namespace/pod` not ready in the EndpointSlices, as the oracle does
/// between before and after.
pub(super) fn make_unready(clusters: &mut [ClusterObjects], pods: &[String]) {
    for c in clusters {
        for o in c.objects.iter_mut().filter(|o| kind(o) == "EndpointSlice") {
            let ns = o["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            for e in o["endpoints"].as_array_mut().into_iter().flatten() {
                let pod = format!(
                    "{}/{ns}/{}",
                    c.cluster,
                    e["targetRef"]["name"].as_str().unwrap_or("")
                );
                if pods.contains(&pod) {
                    e["conditions"] =
                        json!({"ready": false, "serving": false, "terminating": false});
                }
            }
        }
    }
}

/// The model's inputs for `set`, from what the oracle hands istiod: the Istio objects of
/// `set.cluster` (the proxy's), the Kubernetes objects of every cluster its istiod reads (in
/// the topology's order) and all of its own cluster's objects.
pub(super) fn model_inputs(
    peers: &std::path::Path,
    set: &Set,
) -> (Vec<Value>, Vec<ClusterObjects>, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let objects = support::translated(set, dir.path());
    let topology = Topology::load(&support::repo_path(set.topology)).unwrap();
    let own = support::inputs(peers, &objects, set, set.cluster);
    let istio: Vec<Value> = own
        .iter()
        .filter(|o| ISTIO_KINDS.contains(&kind(o)))
        .cloned()
        .collect();
    let mut clusters = Vec::new();
    for tc in &topology.clusters {
        let mesh = tc.mesh.as_ref().unwrap();
        let read = tc.name == set.cluster || mesh.mode == MultiClusterMode::MultiPrimary;
        if !read {
            continue;
        }
        let objs = if tc.name == set.cluster {
            own.clone()
        } else {
            support::inputs(peers, &objects, set, &tc.name)
        };
        clusters.push(ClusterObjects {
            cluster: tc.name.clone(),
            istio_id: mesh.cluster_id.clone().unwrap_or_else(|| tc.name.clone()),
            objects: objs
                .into_iter()
                .filter(|o| KUBE_KINDS.contains(&kind(o)))
                .collect(),
        });
    }
    (istio, clusters, own)
}

fn compare(set: &Set) {
    let Some(peers) = support::istio_peers() else {
        return;
    };
    let out = support::oracle(set);
    let (istio, mut clusters, own) = model_inputs(&peers, set);
    assert_eq!(clusters[0].istio_id, out["istioCluster"].as_str().unwrap());
    let productpage = own
        .iter()
        .find(|o| kind(o) == "Pod" && o["metadata"]["name"] == "productpage-v1-0")
        .unwrap();
    let req = ViewRequest {
        cluster: set.cluster.to_string(),
        namespace: "bookinfo".into(),
        labels: serde_json::from_value(productpage["metadata"]["labels"].clone()).unwrap(),
        istio_version: "1.31.0".into(),
        authority: out["simulation"]["request"]["host"]
            .as_str()
            .unwrap()
            .to_string(),
        port: 9080,
    };

    let before = sidecar_view(&istio, &clusters, &req);
    assert_eq!(
        view_clusters(&before),
        oracle_clusters(&out),
        "{}: the model's clusters (left) differ from istiod's (right); model diagnostics: {}",
        set.name,
        before["diagnostics"]
    );
    assert_eq!(
        before["route"],
        oracle_route(&out, "before"),
        "{}: route before",
        set.name
    );
    // What the model reports it did not model: only that it has no DNS for the
    // FailoverService's hostname (whose cluster the EnvoyFilter replaces anyway).
    for d in before["diagnostics"].as_array().unwrap() {
        let d = d.as_str().unwrap();
        assert!(
            d.contains("resolves by DNS with no endpoints; the simulator has no DNS for it"),
            "{}: model diagnostic {d}",
            set.name
        );
    }

    let unhealthy: Vec<String> =
        serde_json::from_value(out["simulation"]["unhealthy"].clone()).unwrap();
    assert!(!unhealthy.is_empty());
    make_unready(&mut clusters, &unhealthy);
    let after = sidecar_view(&istio, &clusters, &req);
    let after_clusters = view_clusters(&after);
    for hop in out["simulation"]["after"]["path"].as_array().unwrap() {
        let name = hop["cluster"].as_str().unwrap();
        let mut want: Vec<String> = hop["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let h = if e["health"] == "UNHEALTHY" {
                    "UNHEALTHY"
                } else {
                    "HEALTHY"
                };
                format!("{} {h}", e["address"].as_str().unwrap())
            })
            .collect();
        want.sort();
        assert_eq!(
            after_clusters[name]["endpoints"],
            json!(want),
            "{}: endpoints of {name} once the primary's pods are unready",
            set.name
        );
    }
    assert_eq!(
        after["route"],
        oracle_route(&out, "after"),
        "{}: route after",
        set.name
    );
}

#[test]
fn guide_global() {
    compare(&support::GUIDE_GLOBAL);
}

#[test]
fn guide_multi_primary() {
    compare(&support::GUIDE_MULTI_PRIMARY);
}

#[test]
fn all_fields_global() {
    compare(&support::ALL_FIELDS_GLOBAL);
}

#[test]
fn all_fields_multi_primary() {
    compare(&support::ALL_FIELDS_MULTI_PRIMARY);
}
