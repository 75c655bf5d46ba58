//! The guide's manifests must translate to exactly the objects SMH generated for the guide in
//! global mode (reconstructed from SMH's translators), and to their equivalents in the other
//! mode and config type.

use serde_json::json;
use smh_core::istio::IstioObject;
use smh_core::istio::destination_rule::{OutlierDetection, TlsMode};
use smh_core::istio::envoy_filter::{AggregateCluster, AggregateConfigType, Operation};
use smh_core::istio::service_entry::{Location, Resolution};
use smh_core::translate::{GeneratedObject, Translation};

use super::support::{translate_ok, translate_ok_with};

const GUIDE: &[&str] = &["examples/guide"];

fn find<'a>(
    t: &'a Translation,
    cluster: &str,
    kind: &str,
    ns: &str,
    name: &str,
) -> &'a GeneratedObject {
    t.objects
        .iter()
        .find(|o| {
            o.cluster == cluster && o.kind() == kind && o.namespace() == ns && o.name() == name
        })
        .unwrap_or_else(|| panic!("no {kind} {ns}/{name} in {cluster}"))
}

fn keys(t: &Translation) -> Vec<(String, String, String, String)> {
    t.objects
        .iter()
        .map(|o| {
            (
                o.cluster.clone(),
                o.kind().to_string(),
                o.namespace().to_string(),
                o.name().to_string(),
            )
        })
        .collect()
}

fn key(c: &str, k: &str, ns: &str, n: &str) -> (String, String, String, String) {
    (c.into(), k.into(), ns.into(), n.into())
}

fn guide_outlier() -> OutlierDetection {
    OutlierDetection {
        consecutive_5xx_errors: Some(1),
        interval: Some("10s".into()),
        base_ejection_time: Some("30s".into()),
        max_ejection_percent: Some(100),
        ..Default::default()
    }
}

fn owners(o: &GeneratedObject) -> Vec<String> {
    o.owners.iter().map(|x| x.to_string()).collect()
}

fn aggregate(o: &GeneratedObject) -> (AggregateCluster, AggregateConfigType) {
    let IstioObject::EnvoyFilter(ef) = &o.object else {
        panic!("not an EnvoyFilter")
    };
    let patches = &ef.spec.config_patches;
    assert_eq!(patches.len(), 2, "one REMOVE+ADD pair (empty subset only)");
    let names: Vec<_> = patches
        .iter()
        .map(|p| {
            p.match_
                .as_ref()
                .unwrap()
                .cluster
                .as_ref()
                .unwrap()
                .name
                .clone()
                .unwrap()
        })
        .collect();
    assert_eq!(
        names,
        vec!["outbound|9080||reviews-failover.bookinfo.global"; 2]
    );
    assert!(
        patches
            .iter()
            .all(|p| p.match_.as_ref().unwrap().context.is_none())
    );
    assert_eq!(
        patches[0].patch.as_ref().unwrap().operation,
        Operation::Remove
    );
    assert!(patches[0].patch.as_ref().unwrap().value.is_none());
    let add = patches[1].patch.as_ref().unwrap();
    assert_eq!(add.operation, Operation::Add);
    let value = add.value.as_ref().unwrap();
    assert_eq!(value["connect_timeout"], "1s");
    assert_eq!(value["lb_policy"], "CLUSTER_PROVIDED");
    AggregateCluster::from_patch_value(value).expect("an aggregate cluster")
}

fn check_common(t: &Translation) {
    for o in &t.objects {
        let labels = o.object.labels().unwrap();
        assert_eq!(
            labels["owner.networking.smh.solo.io"],
            "service-mesh-hub",
            "{}",
            o.describe()
        );
        assert_eq!(
            labels["cluster.multicluster.solo.io"],
            o.cluster,
            "{}",
            o.describe()
        );
        assert_eq!(
            labels["app.kubernetes.io/managed-by"],
            "kubectl-smh",
            "{}",
            o.describe()
        );
        assert_eq!(o.api_version(), "networking.istio.io/v1alpha3");
    }
    // ServiceEntry: service-mesh-hub/reviews-failover, 240.76.63.152, 9080/http.
    let IstioObject::ServiceEntry(se) = &find(
        t,
        "mgmt-cluster",
        "ServiceEntry",
        "service-mesh-hub",
        "reviews-failover",
    )
    .object
    else {
        unreachable!()
    };
    assert_eq!(se.spec.hosts, vec!["reviews-failover.bookinfo.global"]);
    assert_eq!(se.spec.addresses, vec!["240.76.63.152"]);
    assert_eq!(se.spec.ports.len(), 1);
    assert_eq!(
        (
            se.spec.ports[0].number,
            se.spec.ports[0].protocol.as_str(),
            se.spec.ports[0].name.as_str()
        ),
        (9080, "http", "http")
    );
    assert_eq!(se.spec.location, Some(Location::MeshInternal));
    assert_eq!(se.spec.resolution, Some(Resolution::Dns));
    assert!(se.spec.endpoints.is_empty());
    assert!(se.spec.export_to.is_empty());

    // VirtualService bookinfo/reviews: one route to the failover host, port 9080, no weight.
    let vs_obj = find(t, "mgmt-cluster", "VirtualService", "bookinfo", "reviews");
    assert_eq!(
        owners(vs_obj),
        vec!["TrafficPolicy bookinfo/reviews-shift-failover"]
    );
    assert_eq!(
        vs_obj.to_value()["spec"],
        json!({
            "hosts": ["reviews.bookinfo.svc.cluster.local"],
            "http": [{"route": [{"destination": {
                "host": "reviews-failover.bookinfo.global",
                "port": {"number": 9080}
            }}]}]
        })
    );

    // DestinationRule bookinfo/reviews in both clusters: local host, ISTIO_MUTUAL, SMH's
    // outlier defaults with consecutive5xxErrors 1.
    for cluster in ["mgmt-cluster", "remote-cluster"] {
        let o = find(t, cluster, "DestinationRule", "bookinfo", "reviews");
        let IstioObject::DestinationRule(dr) = &o.object else {
            unreachable!()
        };
        assert_eq!(dr.spec.host, "reviews.bookinfo.svc.cluster.local");
        let tp = dr.spec.traffic_policy.as_ref().unwrap();
        assert_eq!(tp.tls.as_ref().unwrap().mode, Some(TlsMode::IstioMutual));
        assert_eq!(tp.outlier_detection, Some(guide_outlier()));
        assert!(
            owners(o).contains(&"TrafficPolicy service-mesh-hub/mgmt-reviews-outlier".to_string())
        );
    }
    let ef = find(
        t,
        "mgmt-cluster",
        "EnvoyFilter",
        "istio-system",
        "reviews-failover",
    );
    assert_eq!(
        owners(ef),
        vec!["FailoverService service-mesh-hub/reviews-failover"]
    );
    assert!(!t.has_errors());
}

/// SMH's output for the guide, exactly: no DestinationRule for untouched services, no federated copy
/// of reviews@mgmt in remote-cluster, no VirtualService in remote-cluster.
#[test]
fn guide_global_is_exactly_the_reconstructed_drill_output() {
    let t = translate_ok(GUIDE, "tests/data/topology/guide-global.yaml");
    assert_eq!(
        keys(&t),
        vec![
            key("mgmt-cluster", "DestinationRule", "bookinfo", "reviews"),
            key(
                "mgmt-cluster",
                "DestinationRule",
                "istio-system",
                "reviews-bookinfo-remote-cluster"
            ),
            key(
                "mgmt-cluster",
                "EnvoyFilter",
                "istio-system",
                "reviews-failover"
            ),
            key(
                "mgmt-cluster",
                "ServiceEntry",
                "service-mesh-hub",
                "reviews-failover"
            ),
            key("mgmt-cluster", "VirtualService", "bookinfo", "reviews"),
            key("remote-cluster", "DestinationRule", "bookinfo", "reviews"),
        ]
    );
    check_common(&t);

    let fed = find(
        &t,
        "mgmt-cluster",
        "DestinationRule",
        "istio-system",
        "reviews-bookinfo-remote-cluster",
    );
    let IstioObject::DestinationRule(dr) = &fed.object else {
        unreachable!()
    };
    assert_eq!(dr.spec.host, "reviews.bookinfo.svc.remote-cluster.global");
    assert_eq!(
        dr.spec.traffic_policy.as_ref().unwrap().outlier_detection,
        Some(guide_outlier())
    );
    assert_eq!(
        fed.object.annotations().unwrap()["federation.networking.smh.solo.io"],
        "reviews.bookinfo.remote-cluster"
    );

    let (agg, ty) = aggregate(find(
        &t,
        "mgmt-cluster",
        "EnvoyFilter",
        "istio-system",
        "reviews-failover",
    ));
    assert_eq!(ty, AggregateConfigType::V3);
    assert_eq!(agg.name, "outbound|9080||reviews-failover.bookinfo.global");
    assert_eq!(
        agg.clusters,
        vec![
            "outbound|9080||reviews.bookinfo.svc.cluster.local",
            "outbound|9080||reviews.bookinfo.svc.remote-cluster.global",
        ]
    );
}

#[test]
fn guide_with_istio_1_8_uses_smh_typed_struct() {
    let t = translate_ok(GUIDE, "tests/data/topology/guide-global-istio-1.8.yaml");
    check_common(&t);
    let ef = find(
        &t,
        "mgmt-cluster",
        "EnvoyFilter",
        "istio-system",
        "reviews-failover",
    );
    let (agg, ty) = aggregate(ef);
    assert_eq!(ty, AggregateConfigType::V2AlphaTypedStruct);
    assert_eq!(agg.clusters.len(), 2);
    let IstioObject::EnvoyFilter(f) = &ef.object else {
        unreachable!()
    };
    assert_eq!(
        f.spec.config_patches[1]
            .patch
            .as_ref()
            .unwrap()
            .value
            .as_ref()
            .unwrap()["cluster_type"]["typed_config"],
        json!({
            "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
            "type_url": "type.googleapis.com/envoy.config.cluster.aggregate.v2alpha.ClusterConfig",
            "value": {"clusters": [
                "outbound|9080||reviews.bookinfo.svc.cluster.local",
                "outbound|9080||reviews.bookinfo.svc.remote-cluster.global"
            ]}
        })
    );
    // Only the config type differs from the v3 output.
    let v3 = translate_ok(GUIDE, "tests/data/topology/guide-global.yaml");
    assert_eq!(keys(&t), keys(&v3));
}

/// Multi-primary: no `.global` host anywhere; one DestinationRule for the shared host in
/// mgmt-cluster with a subset per cluster; the aggregate lists those subsets in order.
#[test]
fn guide_multi_primary_aggregates_per_cluster_subsets() {
    let t = translate_ok_with(
        GUIDE,
        "tests/data/topology/guide-multi-primary.yaml",
        smh_core::translate::Strategy::Aggregate,
    );
    assert_eq!(
        keys(&t),
        vec![
            key("mgmt-cluster", "DestinationRule", "bookinfo", "reviews"),
            key(
                "mgmt-cluster",
                "EnvoyFilter",
                "istio-system",
                "reviews-failover"
            ),
            key(
                "mgmt-cluster",
                "ServiceEntry",
                "service-mesh-hub",
                "reviews-failover"
            ),
            key("mgmt-cluster", "VirtualService", "bookinfo", "reviews"),
            key("remote-cluster", "DestinationRule", "bookinfo", "reviews"),
        ]
    );
    check_common(&t);
    for o in &t.objects {
        let text = o.to_value().to_string();
        assert!(
            !text.contains(".svc.remote-cluster.global"),
            "{}",
            o.describe()
        );
    }
    let (agg, _) = aggregate(find(
        &t,
        "mgmt-cluster",
        "EnvoyFilter",
        "istio-system",
        "reviews-failover",
    ));
    assert_eq!(
        agg.clusters,
        vec![
            "outbound|9080|cluster-mgmt-cluster|reviews.bookinfo.svc.cluster.local",
            "outbound|9080|cluster-remote-cluster|reviews.bookinfo.svc.cluster.local",
        ]
    );
    // Named after the SMH clusters, selecting Istio's cluster IDs (the topology's clusterId).
    let dr = find(&t, "mgmt-cluster", "DestinationRule", "bookinfo", "reviews");
    assert_eq!(
        dr.to_value()["spec"]["subsets"],
        json!([
            {"name": "cluster-mgmt-cluster", "labels": {"topology.istio.io/cluster": "cluster1"}},
            {"name": "cluster-remote-cluster", "labels": {"topology.istio.io/cluster": "cluster2"}},
        ])
    );
    assert!(
        !t.explanations
            .iter()
            .any(|e| e.text.starts_with("warning:")),
        "{:#?}",
        t.explanations
    );
    // Without clusterId the SMH names are assumed, and the explanations warn about it.
    let t = translate_ok(
        GUIDE,
        "tests/data/topology/guide-multi-primary-istio-1.8.yaml",
    );
    let dr = find(&t, "mgmt-cluster", "DestinationRule", "bookinfo", "reviews");
    assert_eq!(
        dr.to_value()["spec"]["subsets"][1]["labels"],
        json!({"topology.istio.io/cluster": "remote-cluster"})
    );
    assert!(
        t.explanations.iter().any(|e| e.cluster == "mgmt-cluster"
            && e.text.starts_with(
                "warning: the Istio cluster ID of remote-cluster is not known (its mesh has no clusterId), so subset cluster-remote-cluster assumes it is the SMH cluster name"
            )),
        "{:#?}",
        t.explanations
    );
    assert!(
        t.explanations.iter().any(
            |e| e.cluster == "mgmt-cluster" && e.text.contains("subset cluster-remote-cluster")
        ),
        "{:#?}",
        t.explanations
    );
}
