//! Tests of the translation of Istio objects into one proxy's configuration.

use super::*;
use crate::world::mesh::xds::{RetryPolicy, RouteAction};
use serde_json::json;

fn svc(cluster: &str, name: &str, eps: &[(&str, &str)]) -> ServiceRecord {
    ServiceRecord {
        cluster: cluster.to_string(),
        name: name.to_string(),
        namespace: "bookinfo".to_string(),
        cluster_ip: Some("10.96.0.10".to_string()),
        ports: vec![("http".to_string(), 9080)],
        endpoints: eps
            .iter()
            .map(|(ip, version)| EndpointRecord {
                ip: ip.to_string(),
                cluster: cluster.to_string(),
                labels: [("app", name), ("version", version)]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ports: [("http".to_string(), 9080)].into_iter().collect(),
                not_ready: false,
            })
            .collect(),
    }
}

fn inputs() -> MeshInputs {
    MeshInputs {
        proxy: ProxyIdentity {
            cluster: "mgmt-cluster".into(),
            namespace: "bookinfo".into(),
            labels: [("app".to_string(), "productpage".to_string())].into(),
            istio_version: "1.24.2".into(),
            waypoint: false,
            ztunnel: false,
        },
        cluster_domain: "cluster.local".into(),
        root_namespace: "istio-system".into(),
        services: vec![svc(
            "mgmt-cluster",
            "reviews",
            &[("10.1.0.5", "v1"), ("10.1.0.6", "v2")],
        )],
        ..Default::default()
    }
}

fn endpoints_of(cfg: &ProxyConfig, name: &str) -> Vec<String> {
    match cfg.clusters.get(name) {
        Some(ClusterDef::Endpoints(c)) => c.endpoints.iter().map(|e| e.key.clone()).collect(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn plain_service_gets_default_route_and_cluster() {
    let cfg = build(&inputs());
    let vh = &cfg.routes[&9080][0];
    assert!(vh.domains.contains(&"reviews:9080".to_string()));
    assert!(
        vh.domains
            .contains(&"reviews.bookinfo.svc.cluster.local".to_string())
    );
    assert_eq!(
        vh.routes[0].action,
        RouteAction::Clusters(vec![(
            "outbound|9080||reviews.bookinfo.svc.cluster.local".into(),
            100
        )])
    );
    assert_eq!(
        vh.routes[0].retry,
        Some(RetryPolicy::istio_default_for("1.24.2"))
    );
    assert_eq!(
        endpoints_of(&cfg, "outbound|9080||reviews.bookinfo.svc.cluster.local"),
        vec!["10.1.0.5:9080", "10.1.0.6:9080"]
    );
}

#[test]
fn short_names_only_in_the_proxy_namespace() {
    let mut i = inputs();
    i.proxy.namespace = "default".into();
    let cfg = build(&i);
    let vh = &cfg.routes[&9080][0];
    assert!(!vh.domains.contains(&"reviews:9080".to_string()));
    assert!(vh.domains.contains(&"reviews.bookinfo:9080".to_string()));
}

#[test]
fn outlier_detection_translation_follows_istio() {
    let od = outlier_from_istio(&json!({"consecutive5xxErrors": 1}));
    assert_eq!(od.consecutive_5xx, 1);
    assert_eq!(od.enforcing_consecutive_5xx, 100);
    assert_eq!(od.max_ejection_percent, 10);
    assert_eq!(od.interval, Duration::from_secs(10));
    let od = outlier_from_istio(&json!({}));
    assert_eq!(
        od.consecutive_5xx, 5,
        "Envoy default when the field is unset"
    );
    let od = outlier_from_istio(
        &json!({"consecutiveErrors": 2, "maxEjectionPercent": 100, "baseEjectionTime": "400s"}),
    );
    assert_eq!(od.enforcing_consecutive_5xx, 0);
    assert_eq!(od.consecutive_gateway_failure, 2);
    assert_eq!(od.enforcing_consecutive_gateway_failure, 100);
    assert_eq!(od.max_ejection_percent, 100);
    assert_eq!(od.max_ejection_time, Duration::from_secs(400));
}

#[test]
fn destination_rule_subsets_and_lookup_order() {
    let mut i = inputs();
    i.destination_rules = vec![
        json!({"metadata": {"name": "reviews", "namespace": "istio-system", "creationTimestamp": "2020-01-01T00:00:00Z"},
                   "spec": {"host": "reviews.bookinfo.svc.cluster.local", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 7}}}}),
        json!({"metadata": {"name": "reviews", "namespace": "bookinfo", "creationTimestamp": "2020-01-02T00:00:00Z"},
                   "spec": {"host": "reviews", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 1}},
                            "subsets": [{"name": "v2", "labels": {"version": "v2"}}]}}),
    ];
    let cfg = build(&i);
    let ClusterDef::Endpoints(base) =
        &cfg.clusters["outbound|9080||reviews.bookinfo.svc.cluster.local"]
    else {
        panic!()
    };
    assert_eq!(base.outlier.as_ref().map(|o| o.consecutive_5xx), Some(1));
    assert_eq!(base.panic_threshold, 0, "Istio disables panic with OD");
    assert_eq!(
        endpoints_of(&cfg, "outbound|9080|v2|reviews.bookinfo.svc.cluster.local"),
        vec!["10.1.0.6:9080"]
    );
}

fn guide_objects(i: &mut MeshInputs, typed_struct: bool) {
    i.gateways
        .insert("172.18.0.12".into(), "remote-cluster".into());
    i.service_entries = vec![
        json!({"metadata": {"name": "reviews-failover", "namespace": "service-mesh-hub"},
                   "spec": {"hosts": ["reviews-failover.bookinfo.global"], "addresses": ["240.76.63.152"],
                            "ports": [{"number": 9080, "name": "http", "protocol": "http"}],
                            "location": "MESH_INTERNAL", "resolution": "DNS"}}),
        json!({"metadata": {"name": "reviews.bookinfo.svc.remote-cluster.global", "namespace": "istio-system"},
                   "spec": {"hosts": ["reviews.bookinfo.svc.remote-cluster.global"], "addresses": ["248.1.2.3"],
                            "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
                            "location": "MESH_INTERNAL", "resolution": "DNS",
                            "endpoints": [{"address": "172.18.0.12", "ports": {"http": 15443}, "labels": {"cluster": "remote-cluster"}}]}}),
    ];
    i.virtual_services = vec![
        json!({"metadata": {"name": "reviews", "namespace": "bookinfo"},
            "spec": {"hosts": ["reviews.bookinfo.svc.cluster.local"],
                     "http": [{"route": [{"destination": {"host": "reviews-failover.bookinfo.global", "port": {"number": 9080}}}]}]}}),
    ];
    let clusters = json!([
        "outbound|9080||reviews.bookinfo.svc.cluster.local",
        "outbound|9080||reviews.bookinfo.svc.remote-cluster.global"
    ]);
    let typed_config = if typed_struct {
        json!({"@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
                   "type_url": "type.googleapis.com/envoy.config.cluster.aggregate.v2alpha.ClusterConfig",
                   "value": {"clusters": clusters}})
    } else {
        json!({"@type": "type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig",
                   "clusters": clusters})
    };
    let name = "outbound|9080||reviews-failover.bookinfo.global";
    i.envoy_filters = vec![
        json!({"metadata": {"name": "reviews-failover", "namespace": "istio-system"},
        "spec": {"configPatches": [
            {"applyTo": "CLUSTER", "match": {"cluster": {"name": name}}, "patch": {"operation": "REMOVE"}},
            {"applyTo": "CLUSTER", "match": {"cluster": {"name": name}}, "patch": {"operation": "ADD", "value": {
                "name": name, "connect_timeout": "1s", "lb_policy": "CLUSTER_PROVIDED",
                "cluster_type": {"name": "envoy.clusters.aggregate", "typed_config": typed_config}}}}
        ]}}),
    ];
}

#[test]
fn global_mode_failover_objects_build_an_aggregate_through_the_gateway() {
    for typed_struct in [false, true] {
        let mut i = inputs();
        guide_objects(&mut i, typed_struct);
        let cfg = build(&i);
        assert!(
            cfg.diagnostics.iter().all(|d| !d.contains("EnvoyFilter")),
            "{:?}",
            cfg.diagnostics
        );
        let agg = &cfg.clusters["outbound|9080||reviews-failover.bookinfo.global"];
        let ClusterDef::Aggregate(a) = agg else {
            panic!("{agg:?}")
        };
        assert_eq!(a.clusters.len(), 2);
        let ClusterDef::Endpoints(remote) =
            &cfg.clusters["outbound|9080||reviews.bookinfo.svc.remote-cluster.global"]
        else {
            panic!()
        };
        assert_eq!(remote.endpoints.len(), 1);
        let hop = remote.endpoints[0]
            .via_gateway
            .as_ref()
            .expect("gateway hop");
        assert_eq!(hop.cluster, "remote-cluster");
        assert_eq!(hop.sni_host, "reviews.bookinfo.svc.remote-cluster.global");
        assert_eq!(remote.endpoints[0].key, "172.18.0.12:15443");
        let vh = cfg.routes[&9080]
            .iter()
            .find(|v| v.name == "reviews.bookinfo.svc.cluster.local:9080")
            .unwrap();
        assert_eq!(
            vh.routes[0].action,
            RouteAction::Clusters(vec![(
                "outbound|9080||reviews-failover.bookinfo.global".into(),
                100
            )])
        );
    }
}

#[test]
fn plain_v2alpha_any_and_wrong_lb_policy_are_rejected() {
    let mut i = inputs();
    guide_objects(&mut i, false);
    i.envoy_filters[0]["spec"]["configPatches"][1]["patch"]["value"]["cluster_type"]["typed_config"]
        ["@type"] =
        json!("type.googleapis.com/envoy.config.cluster.aggregate.v2alpha.ClusterConfig");
    let cfg = build(&i);
    assert!(
        !cfg.clusters
            .contains_key("outbound|9080||reviews-failover.bookinfo.global")
    );
    assert!(cfg.diagnostics.iter().any(|d| d.contains("v2alpha")));
    let mut i = inputs();
    guide_objects(&mut i, false);
    i.envoy_filters[0]["spec"]["configPatches"][1]["patch"]["value"]["lb_policy"] =
        json!("ROUND_ROBIN");
    let cfg = build(&i);
    assert!(
        cfg.diagnostics
            .iter()
            .any(|d| d.contains("CLUSTER_PROVIDED"))
    );
}

#[test]
fn multi_primary_subsets_select_cluster_endpoints() {
    let mut i = inputs();
    i.services
        .push(svc("remote-cluster", "reviews", &[("10.2.0.7", "v3")]));
    i.destination_rules = vec![
        json!({"metadata": {"name": "reviews", "namespace": "bookinfo"},
            "spec": {"host": "reviews.bookinfo.svc.cluster.local",
                     "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 1, "maxEjectionPercent": 100}},
                     "subsets": [{"name": "mgmt-cluster", "labels": {"topology.istio.io/cluster": "mgmt-cluster"}},
                                 {"name": "remote-cluster", "labels": {"topology.istio.io/cluster": "remote-cluster"}}]}}),
    ];
    let cfg = build(&i);
    assert_eq!(
        endpoints_of(&cfg, "outbound|9080||reviews.bookinfo.svc.cluster.local"),
        vec!["10.1.0.5:9080", "10.1.0.6:9080", "10.2.0.7:9080"]
    );
    assert_eq!(
        endpoints_of(
            &cfg,
            "outbound|9080|remote-cluster|reviews.bookinfo.svc.cluster.local"
        ),
        vec!["10.2.0.7:9080"]
    );
    assert_eq!(
        endpoints_of(
            &cfg,
            "outbound|9080|mgmt-cluster|reviews.bookinfo.svc.cluster.local"
        ),
        vec!["10.1.0.5:9080", "10.1.0.6:9080"]
    );
}

#[test]
fn virtual_service_features() {
    let mut i = inputs();
    i.virtual_services = vec![
        json!({"metadata": {"name": "reviews", "namespace": "bookinfo"},
        "spec": {"hosts": ["reviews"], "http": [
            {"match": [{"sourceLabels": {"app": "ratings"}}], "route": [{"destination": {"host": "reviews", "subset": "v9"}}]},
            {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
             "route": [{"destination": {"host": "reviews", "subset": "v2"}}],
             "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset,503"},
             "timeout": "10s"},
            {"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 80},
                       {"destination": {"host": "reviews", "subset": "v2"}, "weight": 20}],
             "retries": {"attempts": 0},
             "fault": {"abort": {"httpStatus": 500, "percentage": {"value": 10}}}}
        ]}}),
    ];
    let cfg = build(&i);
    let vh = &cfg.routes[&9080][0];
    assert_eq!(
        vh.routes.len(),
        2,
        "the sourceLabels route does not apply to productpage"
    );
    let r0 = &vh.routes[0];
    let retry = r0.retry.as_ref().unwrap();
    assert_eq!(retry.num_retries, 3);
    assert!(retry.retry_on.contains("retriable-status-codes"));
    assert_eq!(retry.retriable_status_codes, vec![503]);
    assert_eq!(retry.per_try_timeout, Some(Duration::from_secs(2)));
    assert_eq!(r0.timeout, Some(Duration::from_secs(10)));
    let r1 = &vh.routes[1];
    assert_eq!(r1.retry, None);
    assert_eq!(r1.fault.as_ref().unwrap().abort, Some((500, 10.0)));
    assert_eq!(
        r1.action,
        RouteAction::Clusters(vec![
            (
                "outbound|9080|v1|reviews.bookinfo.svc.cluster.local".into(),
                80
            ),
            (
                "outbound|9080|v2|reviews.bookinfo.svc.cluster.local".into(),
                20
            )
        ])
    );
}

#[test]
fn unready_endpoints_are_sent_unhealthy_and_panic_mode_is_off() {
    // istiod 1.31 (scripts/istio-oracle): unready pods go out as UNHEALTHY, and every
    // generated cluster has healthy_panic_threshold 0, with or without outlier detection;
    // `minHealthPercent` becomes the threshold and leaves the unready pods out.
    let mut i = inputs();
    i.proxy.istio_version = "1.31.0".into();
    i.services[0].endpoints[1].not_ready = true;
    let cfg = build(&i);
    let ClusterDef::Endpoints(c) =
        &cfg.clusters["outbound|9080||reviews.bookinfo.svc.cluster.local"]
    else {
        panic!()
    };
    let health: Vec<(&str, bool)> = c
        .endpoints
        .iter()
        .map(|e| (e.key.as_str(), e.healthy))
        .collect();
    assert_eq!(health, [("10.1.0.5:9080", true), ("10.1.0.6:9080", false)]);
    assert!(c.outlier.is_none());
    assert_eq!(c.panic_threshold, 0);

    i.destination_rules = vec![
        json!({"metadata": {"name": "reviews", "namespace": "bookinfo"},
        "spec": {"host": "reviews", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 1, "minHealthPercent": 40}}}}),
    ];
    let cfg = build(&i);
    let ClusterDef::Endpoints(c) =
        &cfg.clusters["outbound|9080||reviews.bookinfo.svc.cluster.local"]
    else {
        panic!()
    };
    assert_eq!(c.panic_threshold, 40);
    assert_eq!(c.keys().into_iter().collect::<Vec<_>>(), ["10.1.0.5:9080"]);

    // Before 1.31 (or with its compatibility profiles) istiod leaves unready pods out and
    // keeps Envoy's 50 % panic threshold where no outlier detection is set.
    i.proxy.istio_version = "1.30.2".into();
    i.destination_rules.clear();
    let cfg = build(&i);
    let ClusterDef::Endpoints(c) =
        &cfg.clusters["outbound|9080||reviews.bookinfo.svc.cluster.local"]
    else {
        panic!()
    };
    assert_eq!(c.keys().into_iter().collect::<Vec<_>>(), ["10.1.0.5:9080"]);
    assert_eq!(c.panic_threshold, 50);
    assert_eq!(
        cfg.routes[&9080][0].routes[0]
            .retry
            .as_ref()
            .map(|r| r.retriable_status_codes.clone()),
        Some(vec![503]),
        "older releases' default retry policy lists 503"
    );
}

#[test]
fn dns_service_entry_subsets_without_endpoints_get_no_cluster() {
    // A FailoverService's ServiceEntry: DNS, no endpoints. istiod generates the hostname's
    // cluster (its one endpoint is the hostname) but no cluster for a labelled subset
    // (push status pilot_dns_cluster_without_endpoints).
    let mut i = inputs();
    i.service_entries = vec![
        json!({"metadata": {"name": "reviews-failover", "namespace": "service-mesh-hub"},
        "spec": {"hosts": ["reviews-failover.bookinfo.global"], "location": "MESH_INTERNAL", "resolution": "DNS",
                 "ports": [{"name": "http", "number": 9080, "protocol": "http"}]}}),
    ];
    i.destination_rules = vec![
        json!({"metadata": {"name": "reviews-failover", "namespace": "service-mesh-hub"},
        "spec": {"host": "reviews-failover.bookinfo.global", "subsets": [{"name": "version-v2", "labels": {"version": "v2"}}]}}),
    ];
    let cfg = build(&i);
    assert!(
        cfg.clusters
            .contains_key("outbound|9080||reviews-failover.bookinfo.global")
    );
    assert!(
        !cfg.clusters
            .contains_key("outbound|9080|version-v2|reviews-failover.bookinfo.global")
    );
}
