use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::world::mesh::istio::{self, CLUSTER_TOPOLOGY_LABEL};
use crate::world::mesh::xds::ClusterDef;
use smh_core::translate::ambient::{USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL};

/// The demo's two clusters seeded as an ambient multi-primary mesh (no controllers): one
/// ready reviews endpoint in each, and the waypoint `bookinfo/waypoint` of mgmt-cluster
/// with an address (its proxy ready).
fn ambient_fleet() -> (Arc<Fleet>, Arc<Store>) {
    let (fleet, mgmt) = crate::world::mesh::inputs::tests::seeded_fleet(true);
    set_waypoint_address(&mgmt, true);
    (fleet, mgmt)
}

fn set_waypoint_address(store: &Store, ready: bool) {
    let mut gw = store.get(&gateways(), "bookinfo", "waypoint").unwrap();
    gw["status"] = if ready {
        json!({"addresses": [{"type": "IPAddress", "value": "10.96.200.1"}]})
    } else {
        json!({})
    };
    store.update(&gateways(), gw).unwrap();
}

fn caller() -> ProxyIdentity {
    ProxyIdentity {
        cluster: "mgmt-cluster".into(),
        namespace: "bookinfo".into(),
        istio_version: "1.24.2".into(),
        ..Default::default()
    }
}

fn registry(fleet: &Fleet) -> Vec<ServiceRecord> {
    super::super::inputs::collect(fleet, &caller()).services
}

fn label(store: &Store, gvr: &crate::store::Gvr, ns: &str, name: &str, key: &str, value: &str) {
    let mut o = store.get(gvr, ns, name).unwrap();
    o["metadata"]["labels"][key] = json!(value);
    store.update(gvr, o).unwrap();
}

fn through_waypoint(authority: &str) -> Hop {
    Hop::Waypoint {
        namespace: "bookinfo".into(),
        name: "waypoint".into(),
        authority: authority.into(),
    }
}

#[test]
fn a_service_that_uses_a_ready_waypoint_goes_through_it_else_l4_over_every_cluster() {
    let (fleet, mgmt) = ambient_fleet();
    let services = registry(&fleet);
    let want = through_waypoint("reviews.bookinfo.svc.cluster.local:9080");
    // Short and full names alike: the namespace's istio.io/use-waypoint binds it.
    for host in [
        "reviews",
        "reviews.bookinfo",
        "reviews.bookinfo.svc.cluster.local",
    ] {
        assert_eq!(
            hop(&mgmt, "bookinfo", host, 9080, &services).unwrap(),
            want,
            "{host}"
        );
    }
    let l4 = Hop::L4 {
        service: "reviews.bookinfo".into(),
        endpoints: vec![
            ("mgmt-cluster".into(), "10.1.0.5".into(), 9080),
            ("remote-cluster".into(), "10.2.0.5".into(), 9080),
        ],
    };
    // istiod binds no waypoint whose proxy is not ready (no address): plain L4.
    set_waypoint_address(&mgmt, false);
    assert_eq!(
        hop(&mgmt, "bookinfo", "reviews", 9080, &services).unwrap(),
        l4
    );
    set_waypoint_address(&mgmt, true);
    // The Service opts out.
    label(
        &mgmt,
        &obj::services(),
        "bookinfo",
        "reviews",
        USE_WAYPOINT_LABEL,
        "none",
    );
    assert_eq!(
        hop(&mgmt, "bookinfo", "reviews", 9080, &services).unwrap(),
        l4
    );
    // A host nobody serves does not resolve.
    assert_eq!(
        hop(&mgmt, "bookinfo", "nothing.bookinfo", 9080, &services),
        Err(CallError::Dns("nothing.bookinfo".into()))
    );
}

#[test]
fn a_service_entry_uses_the_waypoint_its_labels_name_if_the_waypoint_accepts_its_namespace() {
    let (fleet, mgmt) = ambient_fleet();
    let services = registry(&fleet);
    let gvr = crate::store::Gvr::new("networking.istio.io", "v1", "serviceentries");
    mgmt.create(
        &gvr,
        json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
               "metadata": {"name": "reviews-failover", "namespace": "service-mesh-hub",
                            "labels": {USE_WAYPOINT_LABEL: "waypoint",
                                       USE_WAYPOINT_NAMESPACE_LABEL: "bookinfo"}},
               "spec": {"hosts": ["reviews-failover.bookinfo.global"],
                        "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
                        "location": "MESH_INTERNAL", "resolution": "DNS"}}),
    )
    .unwrap();
    let host = "reviews-failover.bookinfo.global";
    assert_eq!(
        hop(&mgmt, "bookinfo", host, 9080, &services).unwrap(),
        through_waypoint("reviews-failover.bookinfo.global:9080")
    );
    // A waypoint that accepts its own namespace only refuses the binding.
    let mut gw = mgmt.get(&gateways(), "bookinfo", "waypoint").unwrap();
    gw["spec"]["listeners"][0]
        .as_object_mut()
        .unwrap()
        .remove("allowedRoutes");
    mgmt.update(&gateways(), gw).unwrap();
    let err = hop(&mgmt, "bookinfo", host, 9080, &services).unwrap_err();
    assert!(err.to_string().contains("without a waypoint"), "{err}");
}

/// The guide's kind of DestinationRule for reviews in mgmt-cluster: outlier detection and a
/// subset `failover` that prefers cluster1 (mgmt-cluster) by `failoverPriority`.
fn failover_rule(mgmt: &Store) {
    let dr = crate::store::Gvr::new("networking.istio.io", "v1", "destinationrules");
    let od = json!({"consecutive5xxErrors": 1, "interval": "10s", "baseEjectionTime": "30s",
                    "maxEjectionPercent": 100});
    mgmt.create(
        &dr,
        json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
               "metadata": {"name": "reviews", "namespace": "bookinfo"},
               "spec": {"host": "reviews.bookinfo.svc.cluster.local",
                        "trafficPolicy": {"outlierDetection": od},
                        "subsets": [{"name": "failover", "trafficPolicy": {
                            "outlierDetection": od,
                            "loadBalancer": {"localityLbSetting": {
                                "failoverPriority": ["topology.istio.io/cluster=cluster1"]}}}}]}}),
    )
    .unwrap();
}

/// The waypoint's own pod, as istiod's deployment controller labels it.
fn waypoint_proxy() -> ProxyIdentity {
    ProxyIdentity {
        cluster: "mgmt-cluster".into(),
        namespace: "bookinfo".into(),
        labels: [(MANAGED_LABEL.to_string(), MESH_CONTROLLER.to_string())].into(),
        istio_version: "1.24.2".into(),
        waypoint: true,
        ztunnel: false,
    }
}

#[test]
fn the_waypoint_splits_a_subset_by_its_failover_priority_with_its_outlier_detection() {
    let (fleet, mgmt) = ambient_fleet();
    failover_rule(&mgmt);
    let config = istio::build(&super::super::inputs::collect(&fleet, &waypoint_proxy()));
    let name = "inbound-vip|9080|http/failover|reviews.bookinfo.svc.cluster.local";
    // A waypoint's clusters have istiod's waypoint names, none a sidecar's.
    assert!(
        config
            .clusters
            .keys()
            .all(|k| k.starts_with("inbound-vip|")),
        "{:?}",
        config.clusters.keys()
    );
    let Some(ClusterDef::Aggregate(agg)) = config.clusters.get(name) else {
        panic!(
            "{name} is not split by priority: {:?}",
            config.clusters.keys()
        );
    };
    let levels: Vec<Vec<(String, String)>> = agg
        .clusters
        .iter()
        .map(|c| match &config.clusters[c] {
            ClusterDef::Endpoints(e) => {
                assert!(
                    e.outlier.is_some(),
                    "{c} has the subset's outlier detection"
                );
                e.endpoints
                    .iter()
                    .map(|ep| (ep.ip.clone(), ep.labels[CLUSTER_TOPOLOGY_LABEL].clone()))
                    .collect()
            }
            ClusterDef::Aggregate(_) => panic!("{c}"),
        })
        .collect();
    assert_eq!(
        levels,
        vec![
            vec![("10.1.0.5".to_string(), "cluster1".to_string())],
            vec![("10.2.0.5".to_string(), "cluster2".to_string())],
        ]
    );
}

#[test]
fn only_ambient_pods_of_a_cluster_running_ztunnel_use_it() {
    let (_fleet, mgmt) = ambient_fleet();
    let pod = |ns: &str, extra: serde_json::Value| json!({"metadata": {"name": "p", "namespace": ns, "labels": extra}});
    assert!(pod_uses_ztunnel(&mgmt, &pod("bookinfo", json!({}))));
    assert!(!pod_uses_ztunnel(
        &mgmt,
        &pod("bookinfo", json!({"istio.io/dataplane-mode": "none"}))
    ));
    assert!(!pod_uses_ztunnel(&mgmt, &pod("default", json!({}))));
    mgmt.delete(&daemon_sets(), "istio-system", "ztunnel")
        .unwrap();
    assert!(!pod_uses_ztunnel(&mgmt, &pod("bookinfo", json!({}))));
}

/// Every endpoint `(IP, topology.istio.io/cluster)` of the failover subset of reviews in
/// mgmt-cluster's waypoint, whatever the priority level, sorted.
fn failover_endpoints(fleet: &Fleet) -> Vec<(String, String)> {
    let config = istio::build(&super::super::inputs::collect(fleet, &waypoint_proxy()));
    let name = "inbound-vip|9080|http/failover|reviews.bookinfo.svc.cluster.local";
    let clusters: Vec<&ClusterDef> = match config.clusters.get(name) {
        Some(ClusterDef::Aggregate(agg)) => {
            agg.clusters.iter().map(|c| &config.clusters[c]).collect()
        }
        Some(c) => vec![c],
        None => panic!("no {name}: {:?}", config.clusters.keys()),
    };
    let mut out: Vec<(String, String)> = clusters
        .into_iter()
        .flat_map(|c| match c {
            ClusterDef::Endpoints(e) => e
                .endpoints
                .iter()
                .map(|ep| (ep.ip.clone(), ep.labels[CLUSTER_TOPOLOGY_LABEL].clone()))
                .collect::<Vec<_>>(),
            ClusterDef::Aggregate(_) => panic!("nested aggregate"),
        })
        .collect();
    out.sort();
    out
}

fn unlabel(store: &Store, gvr: &crate::store::Gvr, ns: &str, name: &str, key: &str) {
    let mut o = store.get(gvr, ns, name).unwrap();
    o["metadata"]["labels"].as_object_mut().unwrap().remove(key);
    store.update(gvr, o).unwrap();
}

/// The endpoints of reviews that ztunnel's L4 path in mgmt-cluster has (with reviews opted
/// out of the waypoint for the moment).
fn l4_endpoints(fleet: &Fleet, mgmt: &Store) -> Vec<(String, String, u16)> {
    label(
        mgmt,
        &obj::services(),
        "bookinfo",
        "reviews",
        USE_WAYPOINT_LABEL,
        "none",
    );
    let services = super::super::inputs::collect(
        fleet,
        &ProxyIdentity {
            ztunnel: true,
            ..caller()
        },
    )
    .services;
    let hop = hop(mgmt, "bookinfo", "reviews", 9080, &services).unwrap();
    unlabel(
        mgmt,
        &obj::services(),
        "bookinfo",
        "reviews",
        USE_WAYPOINT_LABEL,
    );
    match hop {
        Hop::L4 { endpoints, .. } => endpoints,
        other => panic!("{other:?}"),
    }
}

fn both() -> Vec<(String, String)> {
    vec![
        ("10.1.0.5".into(), "cluster1".into()),
        ("10.2.0.5".into(), "cluster2".into()),
    ]
}

fn mgmt_only() -> Vec<(String, String)> {
    vec![("10.1.0.5".into(), "cluster1".into())]
}

/// With `AMBIENT_ENABLE_MULTI_NETWORK=true` (as `demo up --ambient` seeds it) the waypoint,
/// and ztunnel's L4 path, get remote-cluster's endpoints of reviews only while reviews is
/// global (`istio.io/global=true`, by the ambient profile's serviceScopeConfigs) in both
/// clusters and an east-west gateway leads into remote-cluster's network (network2).
#[test]
fn across_networks_the_waypoint_reaches_a_remote_service_only_if_global_and_through_a_gateway() {
    let (fleet, mgmt) = ambient_fleet();
    let remote = fleet.member("remote-cluster").unwrap().store;
    failover_rule(&mgmt);
    let l4_both = vec![
        ("mgmt-cluster".to_string(), "10.1.0.5".to_string(), 9080),
        ("remote-cluster".to_string(), "10.2.0.5".to_string(), 9080),
    ];
    let l4_mgmt = vec![l4_both[0].clone()];
    // Everything in place: the failover reaches remote-cluster.
    assert_eq!(failover_endpoints(&fleet), both());
    assert_eq!(l4_endpoints(&fleet, &mgmt), l4_both);

    // reviews in remote-cluster is not global: the waypoint never reaches its endpoints.
    let global = crate::world::ambient::GLOBAL_LABEL;
    unlabel(&remote, &obj::services(), "bookinfo", "reviews", global);
    assert_eq!(failover_endpoints(&fleet), mgmt_only());
    assert_eq!(l4_endpoints(&fleet, &mgmt), l4_mgmt);
    label(
        &remote,
        &obj::services(),
        "bookinfo",
        "reviews",
        global,
        "true",
    );
    assert_eq!(failover_endpoints(&fleet), both());

    // The caller's own copy is not global: the same.
    unlabel(&mgmt, &obj::services(), "bookinfo", "reviews", global);
    assert_eq!(failover_endpoints(&fleet), mgmt_only());
    label(
        &mgmt,
        &obj::services(),
        "bookinfo",
        "reviews",
        global,
        "true",
    );
    assert_eq!(failover_endpoints(&fleet), both());

    // No east-west gateway into network2: remote-cluster's endpoints are skipped.
    let ew = crate::world::ambient::EAST_WEST_GATEWAY;
    let gw_svc = remote.get(&obj::services(), "istio-system", ew).unwrap();
    remote.delete(&obj::services(), "istio-system", ew).unwrap();
    assert_eq!(failover_endpoints(&fleet), mgmt_only());
    assert_eq!(l4_endpoints(&fleet, &mgmt), l4_mgmt);
    // A gateway Service without an external address leads nowhere either.
    let mut pending = gw_svc;
    pending["status"] = json!({"loadBalancer": {}});
    create_again(&remote, &obj::services(), pending);
    assert_eq!(failover_endpoints(&fleet), mgmt_only());
    // Both clusters on one network: no gateway needed.
    onto_network1(&remote);
    assert_eq!(failover_endpoints(&fleet), both());
}

/// Creates `object`, read from `store` before it was deleted, again.
fn create_again(store: &Store, gvr: &crate::store::Gvr, mut object: serde_json::Value) {
    let meta = object["metadata"].as_object_mut().unwrap();
    meta.remove("resourceVersion");
    meta.remove("uid");
    store.create(gvr, object).unwrap();
}

/// Puts the cluster of `store` on mgmt-cluster's network, network1.
fn onto_network1(store: &Store) {
    label(
        store,
        &obj::namespaces(),
        "",
        "istio-system",
        crate::world::ambient::NETWORK_LABEL,
        "network1",
    );
}

/// Without the switch, istiod keeps the behaviour of earlier releases: the other cluster's
/// endpoints at their pod addresses, global or not, with or without an east-west gateway.
#[test]
fn without_the_multi_network_switch_the_waypoint_reaches_every_cluster() {
    let (fleet, mgmt) = ambient_fleet();
    let remote = fleet.member("remote-cluster").unwrap().store;
    failover_rule(&mgmt);
    let global = crate::world::ambient::GLOBAL_LABEL;
    unlabel(&remote, &obj::services(), "bookinfo", "reviews", global);
    remote
        .delete(
            &obj::services(),
            "istio-system",
            crate::world::ambient::EAST_WEST_GATEWAY,
        )
        .unwrap();
    assert_eq!(failover_endpoints(&fleet), mgmt_only());
    let mut istiod = mgmt
        .get(&obj::deployments(), "istio-system", "istiod")
        .unwrap();
    for e in istiod["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
    {
        if e["name"] == crate::world::ambient::MULTI_NETWORK_ENV {
            e["value"] = json!("false");
        }
    }
    mgmt.update(&obj::deployments(), istiod).unwrap();
    assert_eq!(failover_endpoints(&fleet), both());
}

/// Across networks, remote-cluster's own istiod decides what its east-west gateway serves
/// (routes only for the Services its own scopes make global), whatever mgmt-cluster's
/// scopes say; on one network the waypoint reaches the pods without the gateway, so it does
/// not matter.
#[test]
fn the_remote_clusters_own_scopes_decide_what_its_east_west_gateway_serves() {
    let (fleet, mgmt) = ambient_fleet();
    let remote = fleet.member("remote-cluster").unwrap().store;
    failover_rule(&mgmt);
    assert_eq!(failover_endpoints(&fleet), both());
    // remote-cluster's mesh config without serviceScopeConfigs: reviews is local there,
    // though still global by mgmt-cluster's.
    let mut cm = remote
        .get(&obj::config_maps(), "istio-system", "istio")
        .unwrap();
    cm["data"]["mesh"] = json!("defaultConfig: {}\n");
    remote.update(&obj::config_maps(), cm).unwrap();
    assert_eq!(failover_endpoints(&fleet), mgmt_only());
    // One network: no gateway on the way, remote-cluster's scopes do not matter.
    onto_network1(&remote);
    assert_eq!(failover_endpoints(&fleet), both());
}
