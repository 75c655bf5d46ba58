//! Ambient mode across clusters on real istiod (the oracle's waypoint mode with
//! `AMBIENT_ENABLE_MULTI_NETWORK=true`), for the guide: in the layout upstream Istio supports
//! (`examples/topology-ambient-multinetwork.yaml`: two networks, reviews global by the ambient
//! profile's `serviceScopeConfigs`, an east-west gateway per cluster) the waypoint in
//! mgmt-cluster puts mgmt-cluster's reviews pods at priority 0 and remote-cluster behind its
//! east-west gateway (double HBONE) at priority 1, fails over to it, and remote-cluster's
//! istiod gives that gateway a route for reviews. In the layouts kubectl-smh refuses, the
//! failover never reaches remote-cluster, though not always for the same reason: with reviews
//! local in mgmt-cluster, or without an east-west gateway into remote-cluster's network,
//! istiod gives the waypoint none of remote-cluster's endpoints; with reviews local only in
//! remote-cluster, the waypoint still sends to remote-cluster's east-west gateway, and it is
//! remote-cluster's istiod that gives the gateway no route for reviews. For each layout,
//! `kubectl smh translate` must agree: translate the supported layout without warnings about
//! it, refuse (exit 2, naming the reason) the others.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::support::{self, AMBIENT_MULTINETWORK};

const SUBSET_CLUSTER: &str = "inbound-vip|9080|http/failover-reviews-failover-service-mesh-hub|reviews.bookinfo.svc.cluster.local";
const FAILOVER_HOST: &str = "reviews-failover.bookinfo.global";
/// remote-cluster's east-west gateway in the example topology.
const REMOTE_GATEWAY: &str = "172.18.255.221:15008";

/// `priority address tunnel workload [authority]` of every endpoint of the first cluster on
/// the request's path, sorted.
fn endpoints(outcome: &Value) -> Vec<String> {
    let mut v: Vec<String> = outcome["path"][0]["endpoints"]
        .as_array()
        .unwrap_or_else(|| panic!("{outcome:#}"))
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e["priority"],
                e["address"].as_str().unwrap(),
                e["tunnel"].as_str().unwrap_or("-"),
                e["workload"].as_str().unwrap_or("-"),
                e["authority"].as_str().unwrap_or("-"),
            )
            .trim_end()
            .to_string()
        })
        .collect();
    v.sort();
    v
}

fn reached(outcome: &Value) -> Vec<String> {
    let mut v: Vec<String> = outcome["reached"]["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["address"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// The waypoint's endpoints for reviews' failover subset in mgmt-cluster when istiod gives it
/// only mgmt-cluster's pods (HBONE to them), at priority 0.
const ONLY_MGMT: [&str; 2] = [
    "0 10.10.0.13:9080 connect_originate pod mgmt-cluster/bookinfo/reviews-v1-0 -",
    "0 10.10.0.14:9080 connect_originate pod mgmt-cluster/bookinfo/reviews-v2-0 -",
];

/// The translation of the supported layout, in `dir`.
fn translated(dir: &Path) -> PathBuf {
    support::translated(&AMBIENT_MULTINETWORK, dir)
}

/// (a) The supported layout: istiod binds the FailoverService's hostname to the waypoint, whose
/// subset cluster has mgmt-cluster's pods at priority 0 and remote-cluster's east-west gateway
/// (double HBONE, asking it for reviews) at priority 1; the request reaches mgmt-cluster's pods,
/// then, once they are unready, the gateway. kubectl-smh translates it without a warning about
/// ambient mode across clusters.
#[test]
fn supported_layout_fails_over_through_the_east_west_gateway() {
    let Some(_) = support::istio_peers() else {
        return;
    };
    let out = support::oracle(&AMBIENT_MULTINETWORK);
    assert_eq!(out["proxy"], "waypoint");
    assert_eq!(out["istioCluster"], "cluster1");
    let bound: Vec<&str> = out["waypoint"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(bound.contains(&FAILOVER_HOST), "{bound:?}");
    let notes = out["notes"].to_string();
    assert!(
        notes.contains("AMBIENT_ENABLE_MULTI_NETWORK=true"),
        "{notes}"
    );

    let clusters = out["clusters"].as_array().unwrap();
    let c = clusters
        .iter()
        .find(|c| c["name"] == SUBSET_CLUSTER)
        .unwrap_or_else(|| panic!("no cluster {SUBSET_CLUSTER}"));
    assert_eq!(c["type"], "EDS", "{c:#}");
    assert_eq!(c["outlier_detection"]["consecutive_5xx"], 1, "{c:#}");
    assert!(
        clusters
            .iter()
            .any(|c| c["name"] == "inner_connect_originate"),
        "no inner_connect_originate cluster (double HBONE)"
    );

    let sim = &out["simulation"];
    assert_eq!(sim["request"]["host"], format!("{FAILOVER_HOST}:9080"));
    let before = &sim["before"];
    assert!(before.get("error").is_none(), "{before:#}");
    assert_eq!(before["cluster"], SUBSET_CLUSTER, "{before:#}");
    let mut want: Vec<String> = ONLY_MGMT.iter().map(|s| s.to_string()).collect();
    want.push(format!(
        "1 {REMOTE_GATEWAY} inner_connect_originate east-west gateway istio-system/istio-eastwestgateway of remote-cluster (into network2) reviews.bookinfo.svc.cluster.local:9080"
    ));
    assert_eq!(endpoints(before), want, "{before:#}");

    // The gateway endpoint as istiod sends it in EDS: an internal address of
    // inner_connect_originate whose endpoint id is the gateway's address.
    let cla = out["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["cluster_name"] == SUBSET_CLUSTER)
        .unwrap();
    let gw: Vec<&Value> = cla["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["priority"] == 1)
        .flat_map(|l| l["lb_endpoints"].as_array().unwrap())
        .collect();
    assert_eq!(gw.len(), 1, "{cla:#}");
    let internal = &gw[0]["endpoint"]["address"]["envoy_internal_address"];
    assert_eq!(
        internal["server_listener_name"], "inner_connect_originate",
        "{cla:#}"
    );
    assert_eq!(internal["endpoint_id"], REMOTE_GATEWAY, "{cla:#}");

    assert_eq!(
        reached(before),
        ["10.10.0.13:9080", "10.10.0.14:9080"],
        "{before:#}"
    );
    let after = &sim["after"];
    assert_eq!(after["cluster"], SUBSET_CLUSTER, "{after:#}");
    assert_eq!(reached(after), [REMOTE_GATEWAY], "{after:#}");
    assert_eq!(after["reached"]["endpoints"][0]["priority"], 1, "{after:#}");

    // remote-cluster's istiod gives its east-west gateway a route for reviews (global there).
    assert_gateway_serves(&out, true);
    assert_eq!(
        out["warnings"],
        serde_json::json!([]),
        "{:#}",
        out["warnings"]
    );

    // kubectl-smh: translated, without a warning about ambient mode across clusters.
    let (code, _, stderr) = support::translate("examples/guide", AMBIENT_MULTINETWORK.topology);
    assert_eq!(code, Some(0), "{stderr}");
    for w in [
        "AMBIENT_ENABLE_MULTI_NETWORK",
        "ambient mode spans clusters",
        "ambient mode across clusters",
        "east-west gateway",
        "serviceScopeConfigs",
    ] {
        assert!(!stderr.contains(w), "translate warns ({w}):\n{stderr}");
    }
}

/// Whether istiod in remote-cluster gives its east-west gateway a route for reviews (the
/// Services it serves for other networks), as the oracle reports it.
fn assert_gateway_serves(out: &Value, serves: bool) {
    let gws = out["eastWestGateways"]
        .as_array()
        .unwrap_or_else(|| panic!("{out:#}"));
    assert_eq!(gws.len(), 1, "{gws:#?}");
    let g = &gws[0];
    assert_eq!(g["gateway"], "istio-system/istio-eastwestgateway", "{g:#}");
    assert_eq!(g["cluster"], "remote-cluster", "{g:#}");
    assert_eq!(g["network"], "network2", "{g:#}");
    let services: Vec<&str> = g["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        services.contains(&"bookinfo/reviews.bookinfo.svc.cluster.local"),
        serves,
        "{g:#}"
    );
}

/// istiod (the oracle, for the waypoint in mgmt-cluster) on the supported layout's objects in
/// another layout of the clusters.
fn istiod_in(topology: &str) -> Value {
    let peers = support::istio_peers().expect("peers checked by the caller");
    let dir = tempfile::tempdir().unwrap();
    let objects = translated(dir.path());
    let (code, out, stderr) = support::oracle_on(&peers, &objects, topology, "mgmt-cluster");
    assert_eq!(code, Some(0), "{topology}: istio-oracle:\n{stderr}");
    out
}

/// istiod gives mgmt-cluster's waypoint only mgmt-cluster's pods for the failover subset: the
/// request reaches them, and once they are unready, nothing.
fn assert_only_mgmt(out: &Value, topology: &str) {
    let before = &out["simulation"]["before"];
    assert_eq!(before["cluster"], SUBSET_CLUSTER, "{topology}: {before:#}");
    assert_eq!(endpoints(before), ONLY_MGMT, "{topology}: {before:#}");
    let after = &out["simulation"]["after"];
    assert!(
        after.get("reached").is_none(),
        "{topology}: the request reaches {:#}",
        after["reached"]
    );
}

/// kubectl-smh refuses the layout: exit 2, naming the reason.
fn assert_translate_refuses(topology: &str, reason: &[&str]) {
    let (code, _, stderr) = support::translate("examples/guide", topology);
    assert_eq!(code, Some(2), "{topology}: translate:\n{stderr}");
    for r in reason {
        assert!(
            stderr.contains(r),
            "{topology}: translate does not say {r:?}:\n{stderr}"
        );
    }
}

/// (b') reviews not global in mgmt-cluster (the waypoint's own cluster): istiod keeps the
/// Service local and gives the waypoint none of remote-cluster's endpoints; kubectl-smh refuses.
#[test]
fn reviews_local_in_the_callers_cluster_gets_no_remote_endpoints() {
    if support::istio_peers().is_none() {
        return;
    }
    let topology = "tests/data/topology/ambient-multinetwork-caller-local.yaml";
    let out = istiod_in(topology);
    assert_only_mgmt(&out, topology);
    assert_translate_refuses(
        topology,
        &[
            "Service bookinfo/reviews in mgmt-cluster is local for istiod in mgmt-cluster",
            "istio.io/global=true",
        ],
    );
}

/// (b) reviews not global in remote-cluster (global in mgmt-cluster). istiod in mgmt-cluster
/// takes the scope of the Service from its own cluster's copy: the waypoint gets
/// remote-cluster's east-west gateway at priority 1 exactly as in the supported layout. But
/// istiod in remote-cluster keeps reviews local there and gives its east-west gateway no route
/// for it, so the double-HBONE connection ends at the gateway: the failover never reaches
/// remote-cluster's pods. kubectl-smh refuses the layout.
#[test]
fn reviews_local_in_the_remote_cluster_is_not_served_by_its_east_west_gateway() {
    if support::istio_peers().is_none() {
        return;
    }
    let topology = "tests/data/topology/ambient-multinetwork-remote-local.yaml";
    let out = istiod_in(topology);
    let before = &out["simulation"]["before"];
    assert_eq!(before["cluster"], SUBSET_CLUSTER, "{before:#}");
    let mut want: Vec<String> = ONLY_MGMT.iter().map(|s| s.to_string()).collect();
    want.push(format!(
        "1 {REMOTE_GATEWAY} inner_connect_originate east-west gateway istio-system/istio-eastwestgateway of remote-cluster (into network2) reviews.bookinfo.svc.cluster.local:9080"
    ));
    assert_eq!(endpoints(before), want, "{before:#}");
    assert_eq!(
        reached(&out["simulation"]["after"]),
        [REMOTE_GATEWAY],
        "{:#}",
        out["simulation"]["after"]
    );
    assert_gateway_serves(&out, false);
    let warnings = out["warnings"].to_string();
    assert!(
        warnings.contains("istiod in remote-cluster gives that gateway no route for reviews.bookinfo.svc.cluster.local"),
        "{warnings}"
    );
    assert_translate_refuses(
        topology,
        &[
            "Service bookinfo/reviews in remote-cluster is local for istiod in remote-cluster",
            "the connection ends at the gateway",
            "istio.io/global=true",
        ],
    );
}

/// (c) no east-west gateway into network2: istiod gives the waypoint none of remote-cluster's
/// endpoints (its pods are on another network, and there is no gateway to reach them through);
/// kubectl-smh refuses.
#[test]
fn no_east_west_gateway_into_the_remote_network_gets_no_remote_endpoints() {
    if support::istio_peers().is_none() {
        return;
    }
    let topology = "tests/data/topology/ambient-multinetwork-no-gateway.yaml";
    let out = istiod_in(topology);
    assert_only_mgmt(&out, topology);
    assert_translate_refuses(topology, &["no east-west gateway leads into network2"]);
}
