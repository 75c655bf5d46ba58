//! The simulator's model of a waypoint (`crates/smh-sim/src/world/mesh/ztunnel.rs`: the
//! sidecar model built for the waypoint's pod, `waypoint_view`) against real istiod's
//! waypoint (the oracle's waypoint mode), for the ambient sets of `ambient.rs`: from the same
//! inputs, the request ztunnel hands the waypoint (for the FailoverService's hostname, or for
//! reviews where the waypoint does not serve the hostname) is routed to the same Envoy cluster
//! (by name), that cluster has outlier detection in both or in neither, it holds the same pods
//! (by cluster and name) with the same health at each priority level, and the first attempt
//! reaches the same priority level, before and after the primary's pods turn unready.
//!
//! What is not compared: the waypoint's other clusters (istiod's HBONE plumbing such as
//! `connect_originate` and `main_internal`, and the `tcp` clusters of ports whose protocol it
//! cannot tell, which the HTTP-only model does not have), and whether an endpoint is reached
//! through an HBONE tunnel (the model carries a request to the pod either way).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use smh_sim::world::mesh::envoy_view::{ClusterObjects, ViewRequest, waypoint_view};

use super::model::{kind, make_unready, model_inputs};
use super::support::{self, Set};

/// `ip -> cluster/namespace/pod` of every pod the model's inputs hold.
fn pods_by_ip(clusters: &[ClusterObjects]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for c in clusters {
        for p in c.objects.iter().filter(|o| kind(o) == "Pod") {
            if let Some(ip) = p["status"]["podIP"].as_str() {
                let m = &p["metadata"];
                out.insert(
                    ip.to_string(),
                    format!(
                        "{}/{}/{}",
                        c.cluster,
                        m["namespace"].as_str().unwrap(),
                        m["name"].as_str().unwrap()
                    ),
                );
            }
        }
    }
    out
}

/// `ip:port HEALTH` endpoints of one model cluster as `(pod, HEALTH)`, sorted.
fn model_endpoints(c: &Value, pods: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = c["endpoints"]
        .as_array()
        .unwrap_or_else(|| panic!("{c}"))
        .iter()
        .map(|e| {
            let (addr, health) = e.as_str().unwrap().split_once(' ').unwrap();
            let ip = addr.rsplit_once(':').unwrap().0;
            let pod = pods
                .get(ip)
                .cloned()
                .unwrap_or_else(|| format!("no pod {ip}"));
            (pod, health.to_string())
        })
        .collect();
    v.sort();
    v
}

/// The routed cluster as the comparison sees it: `cluster`, `outlier` (whether it has outlier
/// detection), `levels` (`[(pod, health)]` per priority level, level 0 first) and `reached`
/// (the priority level of the first attempt's host).
fn model_side(view: &Value, pods: &BTreeMap<String, String>) -> Value {
    let route = &view["route"];
    let name = route["cluster"]
        .as_str()
        .unwrap_or_else(|| panic!("no route: {route}"));
    let clusters = &view["clusters"];
    let c = &clusters[name];
    // failoverPriority: an aggregate of `<name>#p<level>`, level 0 first.
    let members: Vec<&Value> = match c["children"].as_array() {
        Some(children) => children
            .iter()
            .enumerate()
            .map(|(i, child)| {
                let child = child.as_str().unwrap();
                assert_eq!(child, format!("{name}#p{i}"), "{c}");
                &clusters[child]
            })
            .collect(),
        None => vec![c],
    };
    let outlier: Vec<bool> = members.iter().map(|m| !m["outlier"].is_null()).collect();
    assert!(
        outlier.iter().all(|o| *o == outlier[0]),
        "{name}: outlier detection on some levels only"
    );
    let levels: Vec<Vec<(String, String)>> =
        members.iter().map(|m| model_endpoints(m, pods)).collect();
    let reached = route["reached"].as_str().map(|r| match r.split_once("#p") {
        Some((base, level)) => {
            assert_eq!(base, name);
            level.parse::<u64>().unwrap()
        }
        None => {
            assert_eq!(r, name);
            0
        }
    });
    json!({"cluster": name, "outlier": outlier[0], "levels": levels, "reached": reached})
}

/// The same for istiod's output, for the simulation `when` (`before` or `after`).
fn oracle_side(out: &Value, when: &str) -> Value {
    let sim = &out["simulation"][when];
    assert!(sim.get("error").is_none(), "{when}: {sim:#}");
    let name = sim["cluster"].as_str().unwrap();
    let c = out["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cluster {name}"));
    let hop = sim["path"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["cluster"] == name)
        .unwrap_or_else(|| panic!("{when}: {name} not on the path: {sim:#}"));
    let mut by_level: BTreeMap<u64, Vec<(String, String)>> = BTreeMap::new();
    for e in hop["endpoints"].as_array().unwrap() {
        let pod = e["workload"].as_str().unwrap().trim_start_matches("pod ");
        let health = if e["health"] == "UNHEALTHY" {
            "UNHEALTHY"
        } else {
            "HEALTHY"
        };
        by_level
            .entry(e["priority"].as_u64().unwrap_or(0))
            .or_default()
            .push((pod.to_string(), health.to_string()));
    }
    // Envoy skips no level: istiod's priorities are 0, 1, ... as the model's levels are.
    let levels: Vec<Vec<(String, String)>> = by_level
        .into_iter()
        .enumerate()
        .map(|(i, (level, mut eps))| {
            assert_eq!(level, i as u64, "{when}: priority levels of {name}");
            eps.sort();
            eps
        })
        .collect();
    let reached = &sim["reached"];
    let reached = (reached["cluster"] == name).then(|| {
        let ps: Vec<u64> = reached["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["priority"].as_u64().unwrap_or(0))
            .collect();
        assert!(ps.iter().all(|p| *p == ps[0]), "{when}: {reached:#}");
        ps[0]
    });
    json!({
        "cluster": name,
        "outlier": c["outlier_detection"].is_object(),
        "levels": levels,
        "reached": reached,
    })
}

/// The authority the waypoint routes by: ztunnel resolves a Service's short name
/// (`reviews.bookinfo`) to the Service, which the waypoint routes as
/// `reviews.bookinfo.svc.cluster.local`; a ServiceEntry's host as it is.
fn waypoint_authority(host: &str) -> String {
    let (name, port) = host.rsplit_once(':').unwrap();
    match name.split('.').count() {
        2 => format!("{name}.svc.cluster.local:{port}"),
        _ => host.to_string(),
    }
}

fn compare(set: &Set) {
    let Some(peers) = support::istio_peers() else {
        return;
    };
    let out = support::oracle(set);
    assert_eq!(out["proxy"], "waypoint", "{}", set.name);
    let (istio, mut clusters, own) = model_inputs(&peers, set);
    let own_cluster = clusters.iter().find(|c| c.cluster == set.cluster).unwrap();
    assert_eq!(own_cluster.istio_id, out["istioCluster"].as_str().unwrap());
    let wp = &out["waypoint"];
    let pod = own
        .iter()
        .find(|o| {
            kind(o) == "Pod"
                && o["metadata"]["name"] == wp["pod"]
                && o["metadata"]["namespace"] == wp["namespace"]
        })
        .unwrap_or_else(|| panic!("{}: no waypoint pod {wp}", set.name));
    let req = ViewRequest {
        cluster: set.cluster.to_string(),
        namespace: wp["namespace"].as_str().unwrap().to_string(),
        labels: serde_json::from_value(pod["metadata"]["labels"].clone()).unwrap(),
        istio_version: "1.31.0".into(),
        authority: waypoint_authority(out["simulation"]["request"]["host"].as_str().unwrap()),
        port: 9080,
    };
    let pods = pods_by_ip(&clusters);

    let before = waypoint_view(&istio, &clusters, &req);
    assert_eq!(
        model_side(&before, &pods),
        oracle_side(&out, "before"),
        "{}: the model's waypoint (left) and istiod's (right), before; model diagnostics: {}",
        set.name,
        before["diagnostics"]
    );

    let unhealthy: Vec<String> =
        serde_json::from_value(out["simulation"]["unhealthy"].clone()).unwrap();
    assert!(!unhealthy.is_empty());
    make_unready(&mut clusters, &unhealthy);
    let after = waypoint_view(&istio, &clusters, &req);
    assert_eq!(
        model_side(&after, &pods),
        oracle_side(&out, "after"),
        "{}: the model's waypoint (left) and istiod's (right), once the primary's pods are unready",
        set.name
    );
}

/// The guide, the waypoint in mgmt-cluster (the primary's): the FailoverService's subset,
/// mgmt-cluster's pods at priority 0, remote-cluster's at 1.
#[test]
fn waypoint_guide_primary_cluster() {
    compare(&support::AMBIENT_GUIDE);
}

/// The FailoverService visible in both clusters, the waypoint in remote-cluster (the
/// secondary's): the primary's pods still first.
#[test]
fn waypoint_secondary_cluster() {
    compare(&support::AMBIENT_SECONDARY_WAYPOINT);
}

/// The guide, the waypoint in remote-cluster, which the FailoverService does not name: reviews
/// without failover, every pod at priority 0.
#[test]
fn waypoint_guide_secondary_cluster_without_failover() {
    compare(&support::AMBIENT_GUIDE_SECONDARY);
}
