//! FailoverServices with backing services in Istio's ambient mode: native through the
//! waypoint, aggregate refused, a missing or unusable waypoint an error that says how to
//! fix it.

use serde_json::json;

use super::tests::{fs, get, mk_manifests, mk_topology, tp};
use super::*;
use crate::model::diag::Severity;
use crate::model::topology::{AmbientService, Waypoint, WaypointRef};
use crate::translate::strategy::{Strategy, TranslateOptions};

const OD: &str = "  outlierDetection: {consecutiveErrors: 1}";

/// The multi-primary test topology with `web` ambient in both clusters, bound to
/// `ns/waypoint`, which exists in both clusters and accepts routes from every namespace.
pub(super) fn ambient_topology() -> Topology {
    let mut t = mk_topology(MultiClusterMode::MultiPrimary);
    for (c, id) in t.clusters.iter_mut().zip(["east-id", "west-id"]) {
        let mesh = c.mesh.as_mut().unwrap();
        mesh.cluster_id = Some(id.into());
        mesh.ambient = true;
        for s in c.services.iter_mut().filter(|s| s.name == "web") {
            s.sidecar_workloads = false;
            s.ambient = Some(AmbientService {
                waypoint: Some(WaypointRef {
                    name: "waypoint".into(),
                    namespace: "ns".into(),
                }),
            });
        }
        c.waypoints.push(Waypoint {
            name: "waypoint".into(),
            namespace: "ns".into(),
            waypoint_for: "service".into(),
            allowed_namespaces: vec!["*".into()],
        });
    }
    t
}

fn docs() -> Vec<String> {
    vec![
        fs(
            "web-fo",
            "service-mesh-hub",
            &["c1", "c2"],
            &[("web", "c1"), ("web", "c2")],
        ),
        tp("od", &[("web", "c1"), ("web", "c2")], OD),
    ]
}

fn run(topology: &Topology, strategy: Strategy) -> Translation {
    let docs = docs();
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    translate_with(
        &mk_manifests(&refs),
        topology,
        TranslateOptions { strategy },
    )
}

fn errors(t: &Translation) -> Vec<String> {
    t.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.field.clone().unwrap_or_default(), d.message))
        .collect()
}

#[test]
fn auto_is_native_through_the_waypoint_for_ambient_backing_services() {
    let t = run(&ambient_topology(), Strategy::Auto);
    assert!(!t.has_errors(), "{:?}", errors(&t));
    let kinds: Vec<String> = t.objects.iter().map(|o| o.describe()).collect();
    assert!(
        !kinds.iter().any(|k| k.contains("EnvoyFilter")),
        "{kinds:?}"
    );
    for cluster in ["c1", "c2"] {
        let se = get(&t, cluster, "ServiceEntry", "service-mesh-hub", "web-fo");
        assert_eq!(
            se["metadata"]["labels"]["istio.io/use-waypoint"],
            "waypoint"
        );
        assert_eq!(
            se["metadata"]["labels"]["istio.io/use-waypoint-namespace"],
            "ns"
        );
        let vs = get(&t, cluster, "VirtualService", "service-mesh-hub", "web-fo");
        assert_eq!(
            vs["spec"]["http"][0]["route"][0]["destination"]["subset"],
            "failover-web-fo-service-mesh-hub"
        );
        let dr = get(&t, cluster, "DestinationRule", "ns", "web");
        let subset = dr["spec"]["subsets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "failover-web-fo-service-mesh-hub")
            .cloned()
            .unwrap();
        assert_eq!(
            subset["trafficPolicy"]["loadBalancer"],
            json!({"localityLbSetting": {"failoverPriority": ["topology.istio.io/cluster=east-id"]}})
        );
        let why = t
            .explanations
            .iter()
            .find(|e| e.cluster == cluster && e.text.contains(": strategy native"))
            .map(|e| e.text.clone())
            .unwrap_or_default();
        assert!(why.contains("ambient"), "{why}");
        assert!(why.contains("waypoint ns/waypoint in c1"), "{why}");
    }
}

#[test]
fn aggregate_is_refused_for_ambient_backing_services_with_the_reason() {
    let t = run(&ambient_topology(), Strategy::Aggregate);
    let e = errors(&t).join("\n");
    assert!(
        e.contains("spec.backingServices: strategy aggregate (--strategy aggregate)"),
        "{e}"
    );
    assert!(e.contains("istio#55279"), "{e}");
    assert!(e.contains("web.ns.c1"), "{e}");
}

#[test]
fn a_service_without_a_waypoint_is_an_error_that_says_how_to_add_one() {
    let mut topo = ambient_topology();
    topo.clusters[1].services[0].ambient = Some(AmbientService { waypoint: None });
    for strategy in [Strategy::Auto, Strategy::Native] {
        let t = run(&topo, strategy);
        let e = errors(&t).join("\n");
        assert!(e.contains("Service ns/web in c2 uses no waypoint"), "{e}");
        assert!(
            e.contains("istioctl waypoint apply -n ns --enroll-namespace"),
            "{e}"
        );
        // No silent fallback to an EnvoyFilter that would do nothing.
        assert!(e.contains("only strategy native works"), "{e}");
    }
}

#[test]
fn a_waypoint_that_does_not_exist_or_cannot_take_the_service_entry_is_an_error() {
    let mut topo = ambient_topology();
    topo.clusters[0].waypoints.clear();
    let e = errors(&run(&topo, Strategy::Auto)).join("\n");
    assert!(
        e.contains("uses waypoint ns/waypoint, which c1 does not have"),
        "{e}"
    );

    let mut topo = ambient_topology();
    topo.clusters[0].waypoints[0].allowed_namespaces.clear();
    let e = errors(&run(&topo, Strategy::Auto)).join("\n");
    assert!(
        e.contains("accepts Services and ServiceEntries from ns only"),
        "{e}"
    );
    assert!(e.contains("allowedRoutes"), "{e}");

    let mut topo = ambient_topology();
    topo.clusters[1].waypoints[0].waypoint_for = "workload".into();
    let e = errors(&run(&topo, Strategy::Auto)).join("\n");
    assert!(e.contains("takes workload traffic only"), "{e}");

    let mut topo = ambient_topology();
    topo.clusters[1].mesh.as_mut().unwrap().ambient = false;
    let e = errors(&run(&topo, Strategy::Auto)).join("\n");
    assert!(e.contains("c2 runs no ztunnel"), "{e}");
}

#[test]
fn sidecar_backing_services_are_unchanged() {
    let mut topo = ambient_topology();
    for c in &mut topo.clusters {
        for s in &mut c.services {
            s.ambient = None;
            s.sidecar_workloads = true;
        }
    }
    let t = run(&topo, Strategy::Auto);
    assert!(!t.has_errors(), "{:?}", errors(&t));
    let se = get(&t, "c1", "ServiceEntry", "service-mesh-hub", "web-fo");
    assert!(
        se["metadata"]["labels"]
            .get("istio.io/use-waypoint")
            .is_none()
    );
    let t = run(&topo, Strategy::Aggregate);
    assert!(!t.has_errors(), "{:?}", errors(&t));
}
