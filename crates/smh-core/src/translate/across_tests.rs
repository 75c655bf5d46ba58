//! Ambient FailoverServices across clusters: what upstream Istio's ambient multicluster asks
//! of the install (Istio 1.27+, `AMBIENT_ENABLE_MULTI_NETWORK`, global Services, one network
//! per cluster with east-west gateways, same-named waypoints), checked by
//! [`super::ambient::across_clusters`].

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use super::tests::{fs, mk_manifests, tp};
use super::*;
use crate::model::diag::Severity;
use crate::model::topology::{
    AmbientService, EastWestGateway, Scope, ServiceScope, Waypoint, WaypointRef,
};
use crate::translate::strategy::{Strategy, TranslateOptions};

/// The ambient profile's `serviceScopeConfigs`: Services labelled `istio.io/global: "true"`
/// are global.
fn ambient_profile_scopes() -> Vec<ServiceScope> {
    vec![ServiceScope {
        namespace_selector: None,
        services_selector: Some(LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "istio.io/global".into(),
                operator: "In".into(),
                values: Some(vec!["true".into()]),
            }]),
            match_labels: None,
        }),
        scope: Scope::Global,
    }]
}

/// Two clusters as upstream supports ambient across clusters: the ambient test topology
/// (`web` ambient in both, bound to `ns/waypoint`), with Istio 1.28.1, the switch on,
/// networks `net-east` and `net-west`, an east-west gateway into each, `web` global.
fn supported() -> Topology {
    let mut t = super::ambient_tests::ambient_topology();
    for (c, net) in t.clusters.iter_mut().zip(["net-east", "net-west"]) {
        let mesh = c.mesh.as_mut().unwrap();
        mesh.version = "1.28.1".into();
        mesh.ambient_multi_network = true;
        mesh.network = Some(net.into());
        mesh.service_scopes = ambient_profile_scopes();
        for s in c.services.iter_mut().filter(|s| s.name == "web") {
            s.labels.insert("istio.io/global".into(), "true".into());
        }
        c.east_west_gateways.push(EastWestGateway {
            name: "istio-eastwestgateway".into(),
            namespace: "istio-system".into(),
            network: net.into(),
            address: format!("192.0.2.{}", if net == "net-east" { 1 } else { 2 }),
        });
    }
    t
}

fn run(topology: &Topology) -> Translation {
    let docs = [
        fs(
            "web-fo",
            "service-mesh-hub",
            &["c1", "c2"],
            &[("web", "c1"), ("web", "c2")],
        ),
        tp(
            "od",
            &[("web", "c1"), ("web", "c2")],
            "  outlierDetection: {consecutiveErrors: 1}",
        ),
    ];
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    translate_with(
        &mk_manifests(&refs),
        topology,
        TranslateOptions {
            strategy: Strategy::Auto,
        },
    )
}

fn of(t: &Translation, severity: Severity) -> Vec<String> {
    t.diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .map(|d| format!("{}: {}", d.field.clone().unwrap_or_default(), d.message))
        .collect()
}

#[test]
fn the_supported_layout_translates_native_with_no_error_and_no_warning() {
    let t = run(&supported());
    assert!(
        of(&t, Severity::Error).is_empty(),
        "{:?}",
        of(&t, Severity::Error)
    );
    assert!(
        of(&t, Severity::Warning).is_empty(),
        "{:?}",
        of(&t, Severity::Warning)
    );
    assert!(
        t.objects
            .iter()
            .any(|o| o.describe().contains("DestinationRule"))
    );
}

#[test]
fn a_backing_service_local_where_istiod_decides_is_an_error_naming_the_label() {
    // The other cluster's copy is not global there: c1's waypoint sends c2's share through
    // c2's east-west gateway, which istiod in c2 gives no route for a local Service. For
    // callers in c2, their own copy is local: istiod gives them no other cluster's
    // endpoints.
    let mut topo = supported();
    topo.clusters[1].services[0]
        .labels
        .remove("istio.io/global");
    let t = run(&topo);
    let e = of(&t, Severity::Error).join("\n");
    assert!(
        e.contains("Service ns/web in c2 is local for istiod in c2 (no GLOBAL entry of its mesh config's serviceScopeConfigs selects it): c1's waypoint sends c2's share through c2's east-west gateway"),
        "{e}"
    );
    assert!(
        e.contains("the failover never reaches c2's endpoints"),
        "{e}"
    );
    assert!(
        e.contains("istiod takes a Service's scope from its own cluster's copy and gives c2's waypoint no other cluster's endpoints of a local Service, so the failover never reaches c1"),
        "{e}"
    );
    assert!(
        e.contains("kubectl label service -n ns web istio.io/global=true"),
        "{e}"
    );
    // The caller's istiod's scopes are not what decides for the other cluster's copy.
    assert!(!e.contains("for istiod in c1"), "{e}");
}

#[test]
fn a_mesh_without_service_scopes_keeps_every_service_local() {
    let mut topo = supported();
    topo.clusters[0]
        .mesh
        .as_mut()
        .unwrap()
        .service_scopes
        .clear();
    let e = of(&run(&topo), Severity::Error).join("\n");
    // For callers in c1 (their own copy) and for callers in c2 (c1's gateway).
    assert!(
        e.contains("Service ns/web in c1 is local for istiod in c1 (no GLOBAL entry of its mesh config's serviceScopeConfigs selects it), and with AMBIENT_ENABLE_MULTI_NETWORK=true"),
        "{e}"
    );
    assert!(
        e.contains("Service ns/web in c1 is local for istiod in c1 (no GLOBAL entry of its mesh config's serviceScopeConfigs selects it): c2's waypoint sends c1's share"),
        "{e}"
    );
    // c2's istiod still has the ambient profile's scopes: nothing about it.
    assert!(!e.contains("for istiod in c2"), "{e}");
}

#[test]
fn the_other_clusters_istiod_without_the_switch_is_a_warning() {
    let mut topo = supported();
    topo.clusters[1]
        .mesh
        .as_mut()
        .unwrap()
        .ambient_multi_network = false;
    let t = run(&topo);
    let w = of(&t, Severity::Warning).join("\n");
    assert!(
        w.contains("istiod in c2 runs without AMBIENT_ENABLE_MULTI_NETWORK=true, and c1's waypoint reaches c2's endpoints through c2's east-west gateway"),
        "{w}"
    );
}

#[test]
fn another_network_without_an_east_west_gateway_into_it_is_an_error() {
    let mut topo = supported();
    topo.clusters[1].east_west_gateways.clear();
    let e = of(&run(&topo), Severity::Error).join("\n");
    assert!(
        e.contains("c2 is on network net-west and c1 on net-east, and no east-west gateway leads into net-west"),
        "{e}"
    );
    assert!(!e.contains("leads into net-east"), "{e}");
    // A gateway into net-west counts wherever it is listed.
    let mut topo = supported();
    let gw = topo.clusters[1].east_west_gateways.remove(0);
    topo.clusters[0].east_west_gateways.push(gw);
    assert!(of(&run(&topo), Severity::Error).is_empty());
}

#[test]
fn what_upstream_does_not_support_is_a_warning_each() {
    // Istio before 1.27, the switch off: warnings, no error (without the switch istiod
    // does not filter by scope or network).
    let mut topo = supported();
    for c in &mut topo.clusters {
        let m = c.mesh.as_mut().unwrap();
        m.version = "1.24.2".into();
        m.ambient_multi_network = false;
        m.service_scopes.clear();
    }
    let t = run(&topo);
    assert!(
        of(&t, Severity::Error).is_empty(),
        "{:?}",
        of(&t, Severity::Error)
    );
    let w = of(&t, Severity::Warning).join("\n");
    assert!(w.contains("c1 runs Istio 1.24.2"), "{w}");
    assert!(w.contains("c2 runs Istio 1.24.2"), "{w}");
    assert!(
        w.contains("istiod in c1 runs without AMBIENT_ENABLE_MULTI_NETWORK=true"),
        "{w}"
    );
    assert!(w.contains("spec.backingServices: "), "{w}");

    // One network, named or not.
    let mut topo = supported();
    topo.clusters[1].mesh.as_mut().unwrap().network = Some("net-east".into());
    let w = of(&run(&topo), Severity::Warning).join("\n");
    assert!(
        w.contains("c1 and c2 are on the same network (net-east)"),
        "{w}"
    );
    let mut topo = supported();
    topo.clusters[1].mesh.as_mut().unwrap().network = None;
    let w = of(&run(&topo), Severity::Warning).join("\n");
    assert!(
        w.contains("topology.istio.io/network is not set on istiod's namespace in c2"),
        "{w}"
    );

    // Waypoints named differently.
    let mut topo = supported();
    topo.clusters[1].services[0].ambient = Some(AmbientService {
        waypoint: Some(WaypointRef {
            name: "other".into(),
            namespace: "ns".into(),
        }),
    });
    topo.clusters[1].waypoints.push(Waypoint {
        name: "other".into(),
        namespace: "ns".into(),
        waypoint_for: "service".into(),
        allowed_namespaces: vec!["*".into()],
    });
    let w = of(&run(&topo), Severity::Warning).join("\n");
    assert!(
        w.contains("uses waypoint ns/waypoint in c1 but ns/other in c2"),
        "{w}"
    );
}
