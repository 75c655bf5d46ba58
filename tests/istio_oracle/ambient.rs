//! The native strategy in an ambient mesh on real istiod (the oracle's waypoint mode, for the
//! guide in `examples/topology-ambient.yaml`): the waypoint reviews uses has an Envoy cluster
//! for the FailoverService's subset of reviews, with the outlier detection, whose load
//! assignment puts the primary cluster's endpoints at priority 0 and the secondary's at 1; a
//! request through the waypoint for the FailoverService's hostname routes to it, reaches the
//! primary's pods, and once they are unhealthy the secondary's. For the waypoint in the
//! secondary's cluster this holds when the FailoverService names that cluster's mesh too; with
//! the guide's FailoverService (mgmt-cluster's mesh only) that waypoint has no route for the
//! hostname and balances reviews over both clusters.

use serde_json::Value;

use super::support::{self, Set};

const SUBSET_CLUSTER: &str = "inbound-vip|9080|http/failover-reviews-failover-service-mesh-hub|reviews.bookinfo.svc.cluster.local";
const FAILOVER_HOST: &str = "reviews-failover.bookinfo.global";

/// The SMH cluster of an endpoint's workload (`pod <cluster>/<namespace>/<pod>`).
fn cluster_of(e: &Value) -> String {
    let w = e["workload"].as_str().unwrap_or_else(|| panic!("{e}"));
    w.trim_start_matches("pod ")
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

fn pods(hop: &Value) -> Vec<String> {
    let mut v: Vec<String> = hop["endpoints"]
        .as_array()
        .unwrap_or_else(|| panic!("{hop}"))
        .iter()
        .map(|e| e["workload"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// `(priority, address)` of every endpoint in the waypoint's load assignment for `cluster`
/// (EDS, as istiod sends it), sorted; an HBONE endpoint's address is its tunnel destination.
fn load_assignment(out: &Value, cluster: &str) -> Vec<(u64, String)> {
    let cla = out["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["cluster_name"] == cluster)
        .unwrap_or_else(|| panic!("no load assignment for {cluster}"));
    let mut v = Vec::new();
    for level in cla["endpoints"].as_array().unwrap() {
        let priority = level["priority"].as_u64().unwrap_or(0);
        for e in level["lb_endpoints"].as_array().unwrap() {
            let tunnel =
                &e["metadata"]["filter_metadata"]["envoy.filters.listener.original_dst"]["local"];
            let address = match tunnel.as_str() {
                Some(a) => a.to_string(),
                None => {
                    let sa = &e["endpoint"]["address"]["socket_address"];
                    format!("{}:{}", sa["address"].as_str().unwrap(), sa["port_value"])
                }
            };
            v.push((priority, address));
        }
    }
    v.sort();
    v
}

/// The oracle for the waypoint of `set`: the waypoint reviews uses in `set.cluster` routes the
/// FailoverService's hostname to the subset's cluster, which has the outlier detection and
/// orders the endpoints mgmt-cluster (priority 0) before remote-cluster (1); the request
/// reaches mgmt-cluster's pods, then, once they are unready, remote-cluster's.
fn check_waypoint_fails_over(set: &Set, istio_cluster: &str) {
    let out = support::oracle(set);
    let name = set.name;
    assert_eq!(out["proxy"], "waypoint", "{name}");
    assert_eq!(out["istioCluster"], istio_cluster, "{name}");
    assert_eq!(out["waypoint"]["name"], "waypoint", "{name}");
    assert_eq!(out["waypoint"]["namespace"], "bookinfo", "{name}");
    let bound: Vec<&str> = out["waypoint"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        bound.contains(&FAILOVER_HOST) && bound.contains(&"reviews.bookinfo.svc.cluster.local"),
        "{name}: the hosts istiod binds to the waypoint: {bound:?}"
    );

    let clusters = out["clusters"].as_array().unwrap();
    let c = clusters
        .iter()
        .find(|c| c["name"] == SUBSET_CLUSTER)
        .unwrap_or_else(|| panic!("{name}: no cluster {SUBSET_CLUSTER}"));
    assert_eq!(c["type"], "EDS", "{name}: {c:#}");
    assert_eq!(
        c["outlier_detection"]["consecutive_5xx"], 1,
        "{name}: {c:#}"
    );
    assert!(
        clusters.iter().all(|c| support::children(c).is_none()),
        "{name}: an aggregate cluster in the native translation"
    );

    let sim = &out["simulation"];
    assert_eq!(
        sim["request"]["host"],
        format!("{FAILOVER_HOST}:9080"),
        "{name}"
    );
    let before = &sim["before"];
    assert!(before.get("error").is_none(), "{name}: {before:#}");
    assert_eq!(before["cluster"], SUBSET_CLUSTER, "{name}: {before:#}");
    assert_eq!(
        before["filterChain"],
        format!("inbound-vip|9080|http|{FAILOVER_HOST}"),
        "{name}: {before:#}"
    );

    // The load assignment: mgmt-cluster's endpoints at priority 0, remote-cluster's at 1,
    // HBONE (through connect_originate) to the pods.
    let path = &before["path"][0];
    let endpoints = path["endpoints"].as_array().unwrap();
    let mut levels: Vec<(u64, String)> = endpoints
        .iter()
        .map(|e| (e["priority"].as_u64().unwrap(), cluster_of(e)))
        .collect();
    levels.sort();
    assert!(
        levels.iter().any(|l| l.1 == "mgmt-cluster")
            && levels.iter().any(|l| l.1 == "remote-cluster"),
        "{name}: {levels:?}"
    );
    for (priority, cluster) in &levels {
        let want = u64::from(cluster != "mgmt-cluster");
        assert_eq!(*priority, want, "{name}: {levels:?}");
    }
    // HBONE (through connect_originate) to the pods of the waypoint's own cluster; istiod
    // decides it from its ambient index, which reads only the local cluster, so the other
    // cluster's pods are plain endpoints.
    for e in endpoints {
        let local = cluster_of(e) == set.cluster;
        assert_eq!(e["tunnel"] == "connect_originate", local, "{name}: {e}");
    }
    let mut from_path: Vec<(u64, String)> = endpoints
        .iter()
        .map(|e| {
            (
                e["priority"].as_u64().unwrap(),
                e["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    from_path.sort();
    assert_eq!(load_assignment(&out, SUBSET_CLUSTER), from_path, "{name}");

    // The request: mgmt-cluster's pods, then remote-cluster's.
    assert_eq!(
        pods(&before["reached"]),
        [
            "pod mgmt-cluster/bookinfo/reviews-v1-0",
            "pod mgmt-cluster/bookinfo/reviews-v2-0"
        ],
        "{name}: {before:#}"
    );
    let unhealthy: Vec<&str> = sim["unhealthy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        unhealthy,
        [
            "mgmt-cluster/bookinfo/reviews-v1-0",
            "mgmt-cluster/bookinfo/reviews-v2-0"
        ],
        "{name}"
    );
    let after = &sim["after"];
    assert_eq!(after["cluster"], SUBSET_CLUSTER, "{name}: {after:#}");
    let primary_after: Vec<&Value> = after["path"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| cluster_of(e) == "mgmt-cluster")
        .collect();
    assert!(
        !primary_after.is_empty() && primary_after.iter().all(|e| e["health"] == "UNHEALTHY"),
        "{name}: {after:#}"
    );
    assert_eq!(
        pods(&after["reached"]),
        ["pod remote-cluster/bookinfo/reviews-v3-0"],
        "{name}: {after:#}"
    );
    assert_eq!(after["reached"]["endpoints"][0]["priority"], 1, "{name}");
}

#[test]
fn waypoint_in_the_primary_cluster_puts_the_primary_first_and_fails_over() {
    let Some(_) = support::istio_peers() else {
        return;
    };
    check_waypoint_fails_over(&support::AMBIENT_GUIDE, "cluster1");
}

#[test]
fn waypoint_in_the_secondary_cluster_puts_the_primary_first_and_fails_over() {
    let Some(_) = support::istio_peers() else {
        return;
    };
    check_waypoint_fails_over(&support::AMBIENT_SECONDARY_WAYPOINT, "cluster2");
}

/// The guide's FailoverService names only mgmt-cluster's mesh, so remote-cluster gets only the
/// DestinationRule (its subset without policy): its waypoint is not given the hostname, and
/// routes reviews to the Service's own cluster, every endpoint of both clusters at priority 0.
#[test]
fn waypoint_in_the_secondary_cluster_of_the_guide_has_no_failover() {
    let Some(_) = support::istio_peers() else {
        return;
    };
    let set = &support::AMBIENT_GUIDE_SECONDARY;
    let out = support::oracle(set);
    assert_eq!(out["proxy"], "waypoint");
    assert_eq!(out["istioCluster"], "cluster2");
    let bound = out["waypoint"]["services"].as_array().unwrap();
    assert!(
        !bound.iter().any(|s| s == FAILOVER_HOST),
        "remote-cluster's waypoint serves the FailoverService's hostname: {bound:?}"
    );
    let before = &out["simulation"]["before"];
    assert_eq!(
        out["simulation"]["request"]["host"],
        "reviews.bookinfo:9080"
    );
    assert_eq!(
        before["cluster"], "inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local",
        "{before:#}"
    );
    let endpoints = before["path"][0]["endpoints"].as_array().unwrap();
    let mut levels: Vec<(u64, String)> = endpoints
        .iter()
        .map(|e| (e["priority"].as_u64().unwrap(), cluster_of(e)))
        .collect();
    levels.sort();
    assert_eq!(
        levels,
        [
            (0, "mgmt-cluster".to_string()),
            (0, "mgmt-cluster".to_string()),
            (0, "remote-cluster".to_string())
        ]
    );
    assert_eq!(pods(&before["reached"]).len(), 3, "{before:#}");
}
