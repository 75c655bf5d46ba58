//! Behaviour of the translation beyond the guide: conflicts, errors, ports, weights,
//! source clusters, modes.

use serde_json::{Value, json};

use super::*;
use crate::model::diag::{Source, StatusTarget};
use crate::model::topology::{ClusterTopology, Mesh, Service, ServicePort};
use crate::model::{Manifest, SmhObject};

fn mk_manifest(i: usize, yaml: &str) -> Manifest {
    let v: Value = serde_saphyr::from_str(yaml).unwrap();
    let object = match v["kind"].as_str() {
        Some("TrafficPolicy") => SmhObject::TrafficPolicy(serde_json::from_value(v).unwrap()),
        Some("FailoverService") => SmhObject::FailoverService(serde_json::from_value(v).unwrap()),
        k => panic!("kind {k:?}"),
    };
    Manifest {
        source: Source {
            file: "test.yaml".into(),
            doc: i,
            line: None,
        },
        object,
    }
}

pub(super) fn mk_manifests(docs: &[&str]) -> Vec<Manifest> {
    docs.iter()
        .enumerate()
        .map(|(i, d)| mk_manifest(i, d))
        .collect()
}

pub(super) fn mk_service(name: &str, ns: &str, ports: &[u32]) -> Service {
    Service {
        namespace_labels: Default::default(),
        ambient: None,
        name: name.into(),
        namespace: ns.into(),
        ports: ports
            .iter()
            .map(|p| ServicePort {
                name: format!("p{p}"),
                port: *p,
                protocol: "TCP".into(),
                app_protocol: None,
            })
            .collect(),
        sidecar_workloads: true,
        labels: [("app".to_string(), name.to_string())].into(),
        selector: [("app".to_string(), name.to_string())].into(),
    }
}

pub(super) fn mk_cluster(
    name: &str,
    mode: MultiClusterMode,
    version: &str,
    services: Vec<Service>,
) -> ClusterTopology {
    ClusterTopology {
        east_west_gateways: Vec::new(),
        waypoints: Vec::new(),
        name: name.into(),
        context: None,
        cluster_domain: "cluster.local".into(),
        mesh: Some(Mesh {
            service_scopes: Vec::new(),
            network: None,
            ambient_multi_network: false,
            ambient: false,
            istiod_name: "istiod".into(),
            istiod_namespace: "istio-system".into(),
            version: version.into(),
            root_namespace: "istio-system".into(),
            mode,
            cluster_id: None,
        }),
        services,
    }
}

pub(super) fn mk_topology(mode: MultiClusterMode) -> Topology {
    Topology {
        clusters: vec![
            mk_cluster(
                "c1",
                mode,
                "1.24.2",
                vec![
                    mk_service("web", "ns", &[8080]),
                    mk_service("multi", "ns", &[80, 81]),
                ],
            ),
            mk_cluster(
                "c2",
                mode,
                "1.24.2",
                vec![
                    mk_service("web", "ns", &[8080]),
                    mk_service("multi", "ns", &[80, 81]),
                ],
            ),
        ],
        virtual_meshes: vec![],
    }
}

pub(super) fn tp(name: &str, targets: &[(&str, &str)], spec: &str) -> String {
    let refs: Vec<String> = targets
        .iter()
        .map(|(svc, cluster)| {
            format!("      - {{name: {svc}, namespace: ns, clusterName: {cluster}}}")
        })
        .collect();
    format!(
        "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n  destinationSelector:\n  - kubeServiceRefs:\n      services:\n{}\n{spec}",
        refs.join("\n")
    )
}

pub(super) fn fs(name: &str, ns: &str, meshes: &[&str], backing: &[(&str, &str)]) -> String {
    let meshes: Vec<String> = meshes
        .iter()
        .map(|m| format!("  - {{name: istiod-istio-system-{m}, namespace: service-mesh-hub}}"))
        .collect();
    let backing: Vec<String> = backing
        .iter()
        .map(|(s, c)| format!("  - kubeService: {{name: {s}, namespace: ns, clusterName: {c}}}"))
        .collect();
    format!(
        "apiVersion: networking.smh.solo.io/v1alpha2\nkind: FailoverService\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  hostname: {name}.ns.global\n  port: {{number: 8080, protocol: http}}\n  meshes:\n{}\n  backingServices:\n{}\n",
        meshes.join("\n"),
        backing.join("\n")
    )
}

fn run(docs: &[&str], mode: MultiClusterMode) -> Translation {
    translate(&mk_manifests(docs), &mk_topology(mode))
}

pub(super) fn get(t: &Translation, cluster: &str, kind: &str, ns: &str, name: &str) -> Value {
    t.objects
        .iter()
        .find(|o| {
            o.cluster == cluster && o.kind() == kind && o.namespace() == ns && o.name() == name
        })
        .map(|o| o.to_value())
        .unwrap_or_else(|| {
            panic!(
                "no {kind} {ns}/{name} in {cluster}: {:#?}",
                t.objects.iter().map(|o| o.describe()).collect::<Vec<_>>()
            )
        })
}

fn errors(t: &Translation) -> Vec<&Diagnostic> {
    t.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

#[test]
fn conflicting_outlier_detection_is_reported_on_the_later_policy() {
    let t = run(
        &[
            &tp(
                "a",
                &[("web", "c1")],
                "  outlierDetection: {consecutiveErrors: 1}",
            ),
            &tp(
                "b",
                &[("web", "c1")],
                "  outlierDetection: {consecutiveErrors: 2}",
            ),
            &tp(
                "c",
                &[("web", "c1")],
                "  outlierDetection: {consecutiveErrors: 1}",
            ),
        ],
        MultiClusterMode::Global,
    );
    let errs = errors(&t);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].object.as_ref().unwrap().name, "b");
    assert_eq!(
        errs[0].message,
        "outlier-detection: field trafficPolicy.outlierDetection is already owned by *v1alpha2.TrafficPolicy [a.ns.] (priority 0)"
    );
    assert_eq!(
        errs[0].status_target,
        Some(StatusTarget::TrafficTarget(
            "web-ns-c1.service-mesh-hub.".into()
        ))
    );
    assert_eq!(errs[0].field.as_deref(), Some("spec.outlierDetection"));
    let dr = get(&t, "c1", "DestinationRule", "ns", "web");
    assert_eq!(
        dr["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"],
        1
    );
}

#[test]
fn equal_matchers_share_a_route_and_conflict_per_field() {
    let t = run(
        &[
            &tp("a", &[("web", "c1")], "  retries: {attempts: 3}"),
            &tp("b", &[("web", "c1")], "  requestTimeout: 5s"),
            &tp("c", &[("web", "c1")], "  retries: {attempts: 4}"),
        ],
        MultiClusterMode::Global,
    );
    let errs = errors(&t);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].message.starts_with(
            "retries: field retries is already owned by *v1alpha2.TrafficPolicy [a.ns.]"
        )
    );
    let vs = get(&t, "c1", "VirtualService", "ns", "web");
    assert_eq!(
        vs["spec"]["http"],
        json!([{
            "retries": {"attempts": 3},
            "timeout": "5s",
            "route": [{"destination": {"host": "web.ns.svc.cluster.local"}}]
        }])
    );
    let owners: Vec<String> = t
        .objects
        .iter()
        .find(|o| o.kind() == "VirtualService")
        .unwrap()
        .owners
        .iter()
        .map(|o| o.name.clone())
        .collect();
    assert_eq!(owners, vec!["a", "b"]);
}

#[test]
fn different_matchers_give_routes_sorted_by_specificity() {
    let t = run(
        &[
            &tp("catch-all", &[("web", "c1")], "  retries: {attempts: 1}"),
            &tp(
                "api",
                &[("web", "c1")],
                "  httpRequestMatchers: [{prefix: /api}]\n  retries: {attempts: 2}",
            ),
            &tp(
                "exact",
                &[("web", "c1")],
                "  httpRequestMatchers: [{exact: /api/v1}, {prefix: /a}]\n  retries: {attempts: 3}",
            ),
        ],
        MultiClusterMode::Global,
    );
    assert!(errors(&t).is_empty());
    let vs = get(&t, "c1", "VirtualService", "ns", "web");
    let http = vs["spec"]["http"].as_array().unwrap();
    let summary: Vec<(Value, Value)> = http
        .iter()
        .map(|r| {
            (
                r["match"][0]["uri"].clone(),
                r["retries"]["attempts"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!({"exact": "/api/v1"}), json!(3)),
            (json!({"prefix": "/api"}), json!(2)),
            (json!({"prefix": "/a"}), json!(3)),
            (Value::Null, json!(1)),
        ]
    );
}

#[test]
fn multi_port_services_get_a_route_per_port() {
    let t = run(
        &[&tp("a", &[("multi", "c1")], "  requestTimeout: 1s")],
        MultiClusterMode::Global,
    );
    let vs = get(&t, "c1", "VirtualService", "ns", "multi");
    assert_eq!(
        vs["spec"]["http"],
        json!([
            {"match": [{"port": 80}], "route": [{"destination": {"host": "multi.ns.svc.cluster.local", "port": {"number": 80}}}], "timeout": "1s"},
            {"match": [{"port": 81}], "route": [{"destination": {"host": "multi.ns.svc.cluster.local", "port": {"number": 81}}}], "timeout": "1s"},
        ])
    );
}

#[test]
fn shift_ports_are_checked_like_smh() {
    let t = run(
        &[
            &tp(
                "no-port",
                &[("web", "c1")],
                "  trafficShift:\n    destinations:\n    - kubeService: {name: multi, namespace: ns, clusterName: c1}",
            ),
            &tp(
                "bad-port",
                &[("web", "c2")],
                "  trafficShift:\n    destinations:\n    - kubeService: {name: multi, namespace: ns, clusterName: c2, port: 99}",
            ),
        ],
        MultiClusterMode::Global,
    );
    let msgs: Vec<&str> = errors(&t).iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        vec![
            "traffic-shift: must provide port for traffic shift destination service multi.ns.c1 with multiple ports (2) defined",
            "traffic-shift: specified port 99 does not exist for traffic shift destination service multi.ns.c2",
        ]
    );
    assert!(!t.objects.iter().any(|o| o.kind() == "VirtualService"));
}

#[test]
fn weights_are_kept_for_several_destinations_and_dropped_for_one() {
    let t = run(
        &[
            &tp(
                "split",
                &[("web", "c1")],
                "  trafficShift:\n    destinations:\n    - kubeService: {name: web, namespace: ns, clusterName: c1}\n      weight: 75\n    - kubeService: {name: web, namespace: ns, clusterName: c2}\n      weight: 25",
            ),
            &tp(
                "single",
                &[("web", "c2")],
                "  trafficShift:\n    destinations:\n    - kubeService: {name: web, namespace: ns, clusterName: c1}\n      weight: 100",
            ),
        ],
        MultiClusterMode::Global,
    );
    assert!(errors(&t).is_empty(), "{:#?}", t.diagnostics);
    let vs = get(&t, "c1", "VirtualService", "ns", "web");
    assert_eq!(
        vs["spec"]["http"][0]["route"],
        json!([
            {"destination": {"host": "web.ns.svc.cluster.local"}, "weight": 75},
            {"destination": {"host": "web.ns.svc.c2.global"}, "weight": 25},
        ])
    );
    let vs = get(&t, "c2", "VirtualService", "ns", "web");
    assert_eq!(
        vs["spec"]["http"][0]["route"],
        json!([{"destination": {"host": "web.ns.svc.c1.global"}}])
    );
    // Each cluster uses the other's web through `.global`: a client-side DestinationRule.
    let fed = get(&t, "c1", "DestinationRule", "istio-system", "web-ns-c2");
    assert_eq!(fed["spec"]["host"], "web.ns.svc.c2.global");
    assert_eq!(
        fed["metadata"]["annotations"]["federation.networking.smh.solo.io"],
        "web.ns.c2"
    );
}

#[test]
fn subsets_of_kube_shifts_reach_both_sides_with_federated_labels() {
    let t = run(
        &[&tp(
            "canary",
            &[("web", "c1")],
            "  trafficShift:\n    destinations:\n    - kubeService: {name: web, namespace: ns, clusterName: c2, subset: {version: v2}}",
        )],
        MultiClusterMode::Global,
    );
    let server = get(&t, "c2", "DestinationRule", "ns", "web");
    assert_eq!(
        server["spec"]["subsets"],
        json!([{"name": "version-v2", "labels": {"version": "v2"}}])
    );
    let client = get(&t, "c1", "DestinationRule", "istio-system", "web-ns-c2");
    assert_eq!(
        client["spec"]["subsets"],
        json!([{"name": "version-v2", "labels": {"cluster": "c2"}}])
    );
    let vs = get(&t, "c1", "VirtualService", "ns", "web");
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["destination"],
        json!({"host": "web.ns.svc.c2.global", "subset": "version-v2"})
    );
}

#[test]
fn multi_primary_pins_kube_destinations_to_their_cluster() {
    let t = run(
        &[&tp(
            "to-c2",
            &[("web", "c1")],
            "  trafficShift:\n    destinations:\n    - kubeService: {name: web, namespace: ns, clusterName: c2}",
        )],
        MultiClusterMode::MultiPrimary,
    );
    assert!(errors(&t).is_empty());
    let vs = get(&t, "c1", "VirtualService", "ns", "web");
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["destination"],
        json!({"host": "web.ns.svc.cluster.local", "subset": "cluster-c2"})
    );
    let dr = get(&t, "c1", "DestinationRule", "ns", "web");
    assert_eq!(
        dr["spec"]["subsets"],
        json!([{"name": "cluster-c2", "labels": {"topology.istio.io/cluster": "c2"}}])
    );
    assert!(
        t.objects
            .iter()
            .all(|o| !o.to_value().to_string().contains(".global\""))
    );
    // The same subset in c2, for an east-west gateway there.
    let own = get(&t, "c2", "DestinationRule", "ns", "web");
    assert_eq!(
        own["spec"]["subsets"],
        json!([{"name": "cluster-c2", "labels": {"topology.istio.io/cluster": "c2"}}])
    );
    assert_eq!(own["spec"]["host"], "web.ns.svc.cluster.local");
}

#[test]
fn multi_primary_puts_a_remote_backing_services_outlier_detection_on_its_subset() {
    let t = run(
        &[
            &tp(
                "od1",
                &[("web", "c1")],
                "  outlierDetection: {consecutiveErrors: 1}",
            ),
            &tp(
                "od2",
                &[("web", "c2")],
                "  outlierDetection: {consecutiveErrors: 7}",
            ),
            &fs(
                "web-failover",
                "service-mesh-hub",
                &["c1"],
                &[("web", "c1"), ("web", "c2")],
            ),
        ],
        MultiClusterMode::MultiPrimary,
    );
    assert!(errors(&t).is_empty(), "{:#?}", t.diagnostics);
    let dr = get(&t, "c1", "DestinationRule", "ns", "web");
    assert_eq!(
        dr["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"],
        1
    );
    assert_eq!(dr["spec"]["subsets"][0]["name"], "cluster-c1");
    assert!(dr["spec"]["subsets"][0].get("trafficPolicy").is_none());
    assert_eq!(dr["spec"]["subsets"][1]["name"], "cluster-c2");
    assert_eq!(
        dr["spec"]["subsets"][1]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"],
        7
    );
}

#[test]
fn source_clusters_limit_where_policies_apply() {
    let t = run(
        &[&tp(
            "only-c2-callers",
            &[("web", "c1")],
            "  sourceSelector: [{clusters: [c2]}]\n  retries: {attempts: 1}\n  outlierDetection: {}",
        )],
        MultiClusterMode::Global,
    );
    assert!(t.objects.is_empty(), "{:#?}", t.objects);
    assert!(
        t.explanations
            .iter()
            .any(|e| e.text.contains("leave out c1"))
    );
}

#[test]
fn tls_disable_without_anything_else_gives_no_destination_rule() {
    let t = run(
        &[&tp(
            "plain",
            &[("web", "c1")],
            "  mtls: {istio: {tlsMode: DISABLE}}",
        )],
        MultiClusterMode::Global,
    );
    assert!(t.objects.is_empty(), "{:#?}", t.objects);
    let t = run(
        &[&tp(
            "bad",
            &[("web", "c1")],
            "  mtls: {istio: {tlsMode: MUTUAL}}",
        )],
        MultiClusterMode::Global,
    );
    assert_eq!(
        errors(&t)[0].message,
        "tls: unrecognized tlsMode \"MUTUAL\" (expected DISABLE, SIMPLE or ISTIO_MUTUAL)"
    );
}

#[test]
fn shift_to_an_unknown_failover_service_is_an_error() {
    let t = run(
        &[&tp(
            "s",
            &[("web", "c1")],
            "  trafficShift:\n    destinations:\n    - failoverService: {name: nope, namespace: service-mesh-hub}",
        )],
        MultiClusterMode::Global,
    );
    assert_eq!(
        errors(&t)[0].message,
        "traffic-shift: invalid traffic shift destination nope.service-mesh-hub., FailoverService not found: *v1alpha2.FailoverService with id nope.service-mesh-hub. not found"
    );
}

#[test]
fn failover_service_errors_go_to_mesh_or_top_level_status() {
    let t = run(
        &[&fs(
            "f",
            "service-mesh-hub",
            &["c1", "c9"],
            &[("web", "c1"), ("missing", "c2")],
        )],
        MultiClusterMode::Global,
    );
    let errs = errors(&t);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs.iter()
            .any(|d| d.status_target == Some(StatusTarget::TopLevel)
                && d.message
                    == "*v1alpha2.Mesh with id istiod-istio-system-c9.service-mesh-hub. not found")
    );
    assert!(errs.iter().any(|d| d.status_target
        == Some(StatusTarget::Mesh(
            "istiod-istio-system-c1.service-mesh-hub.".into()
        ))
        && d.message == "Backing service missing.ns.c2 not found in SMH discovery resources."
        && d.field.as_deref() == Some("spec.backingServices[1].kubeService")));
    assert!(t.objects.is_empty());
}

#[test]
fn same_name_failover_services_collide() {
    let t = run(
        &[
            &tp("od", &[("web", "c1")], "  outlierDetection: {}"),
            &fs("f", "service-mesh-hub", &["c1"], &[("web", "c1")]),
            &fs("f", "other", &["c1"], &[("web", "c1")]),
        ],
        MultiClusterMode::Global,
    );
    let errs = errors(&t);
    assert!(
        errs.iter().any(|d| d.object.as_ref().unwrap().namespace == "other"
            && d.message.contains("ServiceEntry service-mesh-hub/f collides with the one generated from FailoverService service-mesh-hub/f")),
        "{errs:#?}"
    );
}

#[test]
fn unreadable_istio_version_warns_and_uses_v3() {
    let mut topo = mk_topology(MultiClusterMode::Global);
    if let Some(m) = topo.clusters[0].mesh.as_mut() {
        m.version = "latest".into();
    }
    let t = translate(
        &mk_manifests(&[
            &tp("od", &[("web", "c1")], "  outlierDetection: {}"),
            &fs("f", "service-mesh-hub", &["c1"], &[("web", "c1")]),
        ]),
        &topo,
    );
    assert!(!t.has_errors());
    assert!(
        t.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Warning && d.message.contains("\"latest\""))
    );
    let ef = get(&t, "c1", "EnvoyFilter", "istio-system", "f");
    assert_eq!(
        ef["spec"]["configPatches"][1]["patch"]["value"]["cluster_type"]["typed_config"]["@type"],
        crate::istio::envoy_filter::AGGREGATE_V3_TYPE_URL
    );
}

#[test]
fn services_without_sidecars_or_mesh_are_not_traffic_targets() {
    let mut topo = mk_topology(MultiClusterMode::Global);
    topo.clusters[0].services[0].sidecar_workloads = false;
    topo.clusters[1].mesh = None;
    let t = translate(
        &mk_manifests(&[&tp(
            "od",
            &[("web", "c1"), ("web", "c2")],
            "  outlierDetection: {}",
        )]),
        &topo,
    );
    assert!(t.objects.is_empty(), "{:#?}", t.objects);
}

#[test]
fn output_is_sorted_and_labelled() {
    let t = run(
        &[
            &tp(
                "od",
                &[("web", "c1"), ("web", "c2")],
                "  outlierDetection: {}",
            ),
            &fs(
                "f",
                "service-mesh-hub",
                &["c2", "c1"],
                &[("web", "c2"), ("web", "c1")],
            ),
        ],
        MultiClusterMode::Global,
    );
    let keys: Vec<(String, &str, String, String)> = t
        .objects
        .iter()
        .map(|o| {
            (
                o.cluster.clone(),
                o.kind(),
                o.namespace().to_string(),
                o.name().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Per cluster: local DestinationRule, client-side copy of the other web, SE, EF.
    assert_eq!(keys.len(), 8);
    for o in &t.objects {
        let labels = o.object.labels().unwrap();
        assert_eq!(labels.len(), 3);
        assert_eq!(labels[crate::consts::CLUSTER_LABEL], o.cluster);
    }
}

#[test]
fn failover_subsets_are_added_without_a_remove() {
    // istiod generates a STRICT_DNS cluster for the FailoverService's endpoint-less DNS
    // ServiceEntry (its hostname as the endpoint) but none for a subset of it: no endpoint
    // carries the subset's labels, and istiod skips DNS clusters without endpoints. A REMOVE
    // of the subset's cluster would match nothing (istiod ignores it), so only the empty
    // subset's aggregate replaces a generated cluster.
    let t = run(
        &[
            &fs(
                "web-failover",
                "service-mesh-hub",
                &["c1"],
                &[("web", "c1"), ("web", "c2")],
            ),
            &tp(
                "shift",
                &[("web", "c1")],
                "  trafficShift:\n    destinations:\n    - failoverService: {name: web-failover, namespace: service-mesh-hub, subset: {version: v2}}",
            ),
        ],
        MultiClusterMode::Global,
    );
    assert!(errors(&t).is_empty(), "{:#?}", errors(&t));
    let ef = get(&t, "c1", "EnvoyFilter", "istio-system", "web-failover");
    let ops: Vec<(String, String)> = ef["spec"]["configPatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["patch"]["operation"].as_str().unwrap().to_string(),
                p["match"]["cluster"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let base = "outbound|8080||web-failover.ns.global".to_string();
    let subset = "outbound|8080|version-v2|web-failover.ns.global".to_string();
    assert_eq!(
        ops,
        [
            ("REMOVE".to_string(), base.clone()),
            ("ADD".to_string(), base),
            ("ADD".to_string(), subset),
        ]
    );
}

#[test]
fn subset_rules_of_non_kubernetes_hosts_are_copied_to_the_routing_namespace() {
    // Istio's analyzer looks a VirtualService's `.global`/FailoverService host+subset up only
    // in the VirtualService's namespace (IST0101); istiod uses the rule where it is. So the
    // rule is also written, unchanged, next to the VirtualService.
    let t = run(
        &[
            &fs(
                "web-failover",
                "service-mesh-hub",
                &["c1"],
                &[("web", "c1"), ("web", "c2")],
            ),
            &tp(
                "shift",
                &[("web", "c1")],
                "  trafficShift:\n    destinations:\n    - failoverService: {name: web-failover, namespace: service-mesh-hub, subset: {version: v2}}\n      weight: 50\n    - kubeService: {name: web, namespace: ns, clusterName: c2, subset: {version: v3}}\n      weight: 50",
            ),
        ],
        MultiClusterMode::Global,
    );
    assert!(errors(&t).is_empty(), "{:#?}", errors(&t));
    for (original_ns, name) in [
        ("service-mesh-hub", "web-failover"),
        ("istio-system", "web-ns-c2"),
    ] {
        let original = get(&t, "c1", "DestinationRule", original_ns, name);
        let copy = get(&t, "c1", "DestinationRule", "ns", name);
        assert_eq!(copy["spec"], original["spec"], "{name}");
    }
    // A Kubernetes service FQDN is found by its own name: no copy of ns/web elsewhere.
    assert!(
        t.objects
            .iter()
            .filter(|o| o.kind() == "DestinationRule" && o.name() == "web")
            .all(|o| o.namespace() == "ns")
    );
    assert!(
        t.explanations
            .iter()
            .any(|e| e.text.contains("is also written into namespace ns"))
    );
}
