//! The strategy of each FailoverService: when native is chosen, what it writes, and why
//! aggregate is kept.

use serde_json::json;

use super::tests::{fs, get, mk_cluster, mk_manifests, mk_service, mk_topology, tp};
use super::*;
use crate::model::diag::Severity;

const OD: &str = "  outlierDetection: {consecutiveErrors: 1}";

fn with_ids(mut t: Topology) -> Topology {
    for (c, id) in t
        .clusters
        .iter_mut()
        .zip(["east-id", "west-id", "third-id"])
    {
        if let Some(m) = c.mesh.as_mut() {
            m.cluster_id = Some(id.into());
        }
    }
    t
}

fn run_with(docs: &[&str], topology: &Topology, strategy: Strategy) -> Translation {
    translate_with(&mk_manifests(docs), topology, TranslateOptions { strategy })
}

fn kinds(t: &Translation) -> Vec<String> {
    t.objects.iter().map(|o| o.describe()).collect()
}

fn error_text(t: &Translation) -> String {
    t.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.field.clone().unwrap_or_default(), d.message))
        .collect::<Vec<_>>()
        .join("\n")
}

fn strategy_line(t: &Translation, cluster: &str) -> String {
    t.explanations
        .iter()
        .find(|e| e.cluster == cluster && e.text.contains(": strategy "))
        .map(|e| e.text.clone())
        .unwrap_or_default()
}

/// The web FailoverService (c1 then c2) visible in both clusters, with outlier detection on
/// both backing services.
fn web_docs() -> (String, String) {
    (
        fs(
            "web-fo",
            "service-mesh-hub",
            &["c1", "c2"],
            &[("web", "c1"), ("web", "c2")],
        ),
        tp("od", &[("web", "c1"), ("web", "c2")], OD),
    )
}

#[test]
fn auto_is_native_in_multi_primary_and_the_same_order_for_callers_in_every_cluster() {
    let (f, p) = web_docs();
    let topo = with_ids(mk_topology(MultiClusterMode::MultiPrimary));
    let t = run_with(&[&f, &p], &topo, Strategy::Auto);
    assert!(!t.has_errors(), "{}", error_text(&t));
    assert!(
        !kinds(&t).iter().any(|k| k.contains("EnvoyFilter")),
        "{:?}",
        kinds(&t)
    );
    for cluster in ["c1", "c2"] {
        // The priority names c1's Istio cluster ID in both clusters: a caller in c2 (the
        // secondary's cluster) prefers c1 too.
        let dr = get(&t, cluster, "DestinationRule", "ns", "web");
        let subset = dr["spec"]["subsets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "failover-web-fo-service-mesh-hub")
            .cloned()
            .unwrap_or_else(|| panic!("{dr:#}"));
        assert_eq!(
            subset["trafficPolicy"]["loadBalancer"],
            json!({"localityLbSetting": {"failoverPriority": ["topology.istio.io/cluster=east-id"]}})
        );
        assert_eq!(
            subset["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"],
            1
        );
        assert!(subset.get("labels").is_none(), "{subset:#}");
        let vs = get(&t, cluster, "VirtualService", "service-mesh-hub", "web-fo");
        assert_eq!(
            vs["spec"],
            json!({"hosts": ["web-fo.ns.global"], "http": [{"route": [{"destination": {
                "host": "web.ns.svc.cluster.local",
                "port": {"number": 8080},
                "subset": "failover-web-fo-service-mesh-hub"}}]}]})
        );
        get(&t, cluster, "ServiceEntry", "service-mesh-hub", "web-fo");
        assert!(
            strategy_line(&t, cluster).contains("strategy native (the default strategy, auto)")
        );
    }
}

#[test]
fn a_traffic_shift_to_a_native_failover_service_routes_to_its_subset() {
    let (f, p) = web_docs();
    let shift = tp(
        "shift",
        &[("web", "c1")],
        "  trafficShift:\n    destinations:\n    - failoverService: {name: web-fo, namespace: service-mesh-hub}",
    );
    let topo = with_ids(mk_topology(MultiClusterMode::MultiPrimary));
    let t = run_with(&[&f, &p, &shift], &topo, Strategy::Auto);
    assert!(!t.has_errors(), "{}", error_text(&t));
    let vs = get(&t, "c1", "VirtualService", "ns", "web");
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["destination"],
        json!({"host": "web.ns.svc.cluster.local", "port": {"number": 8080}, "subset": "failover-web-fo-service-mesh-hub"})
    );
}

#[test]
fn global_mode_keeps_aggregate_and_native_is_an_error_naming_the_reason() {
    let (f, p) = web_docs();
    let topo = mk_topology(MultiClusterMode::Global);
    let t = run_with(&[&f, &p], &topo, Strategy::Auto);
    assert!(!t.has_errors());
    assert!(
        kinds(&t)
            .iter()
            .any(|k| k == "c1 EnvoyFilter istio-system/web-fo")
    );
    assert!(strategy_line(&t, "c1").contains("native is not exact: c1 is in global mode"));

    let t = run_with(&[&f, &p], &topo, Strategy::Native);
    let e = error_text(&t);
    assert!(
        e.starts_with("spec: strategy native (--strategy native) cannot express this FailoverService exactly: c1 is in global mode"),
        "{e}"
    );
}

#[test]
fn without_outlier_detection_native_is_not_exact() {
    let (f, _) = web_docs();
    let topo = with_ids(mk_topology(MultiClusterMode::MultiPrimary));
    let t = run_with(&[&f], &topo, Strategy::Auto);
    assert!(
        kinds(&t)
            .iter()
            .any(|k| k == "c1 EnvoyFilter istio-system/web-fo")
    );
    assert!(
        strategy_line(&t, "c1").contains("no TrafficPolicy gives web.ns outlier detection for callers in c1, and istiod applies failoverPriority only with outlier detection"),
        "{}",
        strategy_line(&t, "c1")
    );
    assert!(error_text(&run_with(&[&f], &topo, Strategy::Native)).contains("outlier detection"));
}

#[test]
fn more_than_two_clusters_or_an_unlisted_cluster_with_the_service_keep_aggregate() {
    let mut topo = with_ids(mk_topology(MultiClusterMode::MultiPrimary));
    topo.clusters.push(mk_cluster(
        "c3",
        MultiClusterMode::MultiPrimary,
        "1.24.2",
        vec![mk_service("web", "ns", &[8080])],
    ));
    let topo = with_ids(topo);
    let p = tp("od", &[("web", "c1"), ("web", "c2"), ("web", "c3")], OD);
    let three = fs(
        "web-fo",
        "service-mesh-hub",
        &["c1"],
        &[("web", "c1"), ("web", "c2"), ("web", "c3")],
    );
    let t = run_with(&[&three, &p], &topo, Strategy::Auto);
    assert!(
        strategy_line(&t, "c1").contains("the backing services are in 3 clusters (c1, c2, c3)"),
        "{}",
        strategy_line(&t, "c1")
    );
    let two = fs(
        "web-fo",
        "service-mesh-hub",
        &["c1"],
        &[("web", "c1"), ("web", "c2")],
    );
    let t = run_with(&[&two, &p], &topo, Strategy::Auto);
    assert!(
        strategy_line(&t, "c1")
            .contains("web.ns also has endpoints in c3, which the FailoverService does not list"),
        "{}",
        strategy_line(&t, "c1")
    );
}

#[test]
fn old_istio_different_services_and_several_ports_keep_aggregate() {
    let topo = with_ids(Topology {
        clusters: vec![
            mk_cluster(
                "c1",
                MultiClusterMode::MultiPrimary,
                "1.17.3",
                vec![
                    mk_service("web", "ns", &[8080]),
                    mk_service("multi", "ns", &[80, 81]),
                ],
            ),
            mk_cluster(
                "c2",
                MultiClusterMode::MultiPrimary,
                "1.24.2",
                vec![
                    mk_service("other", "ns", &[8080]),
                    mk_service("multi", "ns", &[80, 81]),
                ],
            ),
        ],
        virtual_meshes: vec![],
    });
    let p = tp(
        "od",
        &[
            ("web", "c1"),
            ("other", "c2"),
            ("multi", "c1"),
            ("multi", "c2"),
        ],
        OD,
    );
    let f = fs(
        "web-fo",
        "service-mesh-hub",
        &["c1"],
        &[("web", "c1"), ("other", "c2")],
    );
    let t = run_with(&[&f, &p], &topo, Strategy::Auto);
    let line = strategy_line(&t, "c1");
    assert!(line.contains("c1 runs Istio 1.17.3"), "{line}");
    assert!(
        line.contains("the backing services are different Services (web.ns.c1, other.ns.c2)"),
        "{line}"
    );
    let m = fs(
        "multi-fo",
        "service-mesh-hub",
        &["c2"],
        &[("multi", "c1"), ("multi", "c2")],
    );
    let t = run_with(&[&m, &p], &topo, Strategy::Auto);
    assert!(
        strategy_line(&t, "c2").contains("do not have one and the same port"),
        "{}",
        strategy_line(&t, "c2")
    );
}

#[test]
fn the_annotation_pins_the_strategy() {
    let (f, p) = web_docs();
    let topo = with_ids(mk_topology(MultiClusterMode::MultiPrimary));
    let pinned = f.replace(
        "metadata: {name: web-fo, namespace: service-mesh-hub}",
        "metadata: {name: web-fo, namespace: service-mesh-hub, annotations: {failover.kubectl-smh.io/strategy: aggregate}}",
    );
    let t = run_with(&[&pinned, &p], &topo, Strategy::Auto);
    assert!(!t.has_errors(), "{}", error_text(&t));
    assert!(
        kinds(&t)
            .iter()
            .any(|k| k == "c1 EnvoyFilter istio-system/web-fo")
    );
    assert!(
        strategy_line(&t, "c1").contains(
            "strategy aggregate (annotation failover.kubectl-smh.io/strategy: aggregate)"
        )
    );

    let t = run_with(&[&pinned, &p], &topo, Strategy::Native);
    assert_eq!(
        error_text(&t),
        "metadata.annotations[failover.kubectl-smh.io/strategy]: the annotation pins strategy aggregate, but --strategy native asks for native: drop the flag, or change the annotation"
    );

    let bad = pinned.replace("strategy: aggregate", "strategy: fastest");
    assert_eq!(
        error_text(&run_with(&[&bad, &p], &topo, Strategy::Auto)),
        "metadata.annotations[failover.kubectl-smh.io/strategy]: unknown strategy \"fastest\": expected auto, native or aggregate"
    );
}

#[test]
fn strategies_reports_each_failover_service() {
    let (f, p) = web_docs();
    let topo = with_ids(mk_topology(MultiClusterMode::MultiPrimary));
    let s = strategies(&mk_manifests(&[&f, &p]), &topo, TranslateOptions::default());
    let (chosen, why) = &s[&("service-mesh-hub".to_string(), "web-fo".to_string())];
    assert_eq!(*chosen, Strategy::Native);
    assert!(
        why.contains("failoverPriority topology.istio.io/cluster=east-id"),
        "{why}"
    );
}
