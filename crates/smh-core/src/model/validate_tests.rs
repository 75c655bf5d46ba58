//! Unit tests of every validation rule and message string.

use super::*;
use crate::model::parse::parse_str;

const OUTLIER: &str = include_str!("../../../../examples/guide/1-outlier-detection.yaml");
const FS: &str = include_str!("../../../../examples/guide/2-failover-service.yaml");
const SHIFT: &str = include_str!("../../../../examples/guide/3-traffic-shift.yaml");
const TOPOLOGY: &str = include_str!("../../../../examples/topology.yaml");

fn manifests(docs: &[&str]) -> Vec<Manifest> {
    let text = docs.join("---\n");
    let loaded = parse_str("test.yaml", &text);
    assert!(
        loaded.diagnostics.is_empty(),
        "parse problems: {:#?}",
        loaded.diagnostics
    );
    loaded.manifests
}

fn example_topology() -> Topology {
    Topology::parse_bytes("topology.yaml", TOPOLOGY.as_bytes()).expect("example topology")
}

fn topo(yaml: &str) -> Topology {
    Topology::parse_bytes("t.yaml", yaml.as_bytes()).expect("test topology")
}

/// (severity, field, message, status target) of every diagnostic.
type Row = (Severity, String, String, Option<StatusTarget>);

fn rows(diags: &[Diagnostic]) -> Vec<Row> {
    diags
        .iter()
        .map(|d| {
            (
                d.severity,
                d.field.clone().unwrap_or_default(),
                d.message.clone(),
                d.status_target.clone(),
            )
        })
        .collect()
}

fn messages(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(|d| d.message.clone()).collect()
}

fn run(docs: &[&str], topology: &Topology) -> Vec<Diagnostic> {
    validate(&manifests(docs), topology)
}

fn run_default(docs: &[&str]) -> Vec<Diagnostic> {
    let m = manifests(docs);
    validate(&m, &Topology::from_manifests(&m))
}

const MGMT: &str = "istiod-istio-system-mgmt-cluster.service-mesh-hub.";

fn mesh_target() -> Option<StatusTarget> {
    Some(StatusTarget::Mesh(MGMT.to_string()))
}

fn err(field: &str, message: &str, target: Option<StatusTarget>) -> Row {
    (
        Severity::Error,
        field.to_string(),
        message.to_string(),
        target,
    )
}

// ---------------------------------------------------------------------------------------
// The guide
// ---------------------------------------------------------------------------------------

#[test]
fn the_guide_is_valid_with_default_and_example_topology() {
    assert_eq!(run_default(&[OUTLIER, FS, SHIFT]), vec![]);
    assert_eq!(run(&[OUTLIER, FS, SHIFT], &example_topology()), vec![]);
}

// ---------------------------------------------------------------------------------------
// FailoverService rules, SMH's messages
// ---------------------------------------------------------------------------------------

#[test]
fn hostname_missing() {
    let fs = FS.replace("  hostname: reviews-failover.bookinfo.global\n", "");
    assert_eq!(
        rows(&run_default(&[OUTLIER, &fs])),
        vec![err(
            "spec.hostname",
            "Missing required field \"hostname\".",
            mesh_target()
        )]
    );
}

#[test]
fn hostname_suffix() {
    let fs = FS.replace(
        "reviews-failover.bookinfo.global",
        "reviews-failover.bookinfo.svc",
    );
    assert_eq!(
        rows(&run_default(&[OUTLIER, &fs])),
        vec![err(
            "spec.hostname",
            "Provided hostname reviews-failover.bookinfo.svc is missing required suffix \".global\".",
            mesh_target()
        )]
    );
}

#[test]
fn hostname_dns_1123() {
    let fs = FS.replace(
        "reviews-failover.bookinfo.global",
        "Reviews_Failover.global",
    );
    assert_eq!(
        rows(&run_default(&[OUTLIER, &fs])),
        vec![err(
            "spec.hostname",
            "a DNS-1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            mesh_target()
        )]
    );
}

#[test]
fn port_missing_number_and_protocol() {
    let fs = FS.replace("  port:\n    number: 9080\n    protocol: http\n", "");
    assert_eq!(
        rows(&run_default(&[OUTLIER, &fs])),
        vec![err(
            "spec.port",
            "Missing required field \"port\".",
            mesh_target()
        )]
    );
    let fs = FS
        .replace("number: 9080", "number: 70000")
        .replace("protocol: http", "protocol: smtp");
    assert_eq!(
        rows(&run_default(&[OUTLIER, &fs])),
        vec![
            err(
                "spec.port.number",
                "must be between 1 and 65535, inclusive",
                mesh_target()
            ),
            err(
                "spec.port.protocol",
                "Invalid protocol for port: smtp",
                mesh_target()
            ),
        ]
    );
    for ok in ["HTTP", "grpc-web", "TLS", "mongo", "http2"] {
        let fs = FS.replace("protocol: http", &format!("protocol: {ok}"));
        assert_eq!(run_default(&[OUTLIER, &fs]), vec![], "{ok}");
    }
}

#[test]
fn no_backing_services() {
    let fs = FS.split("  backingServices:").next().unwrap().to_string();
    assert_eq!(
        rows(&run_default(&[OUTLIER, &fs])),
        vec![err(
            "spec.backingServices",
            "There must be at least one service declared for the FailoverService.",
            mesh_target()
        )]
    );
}

#[test]
fn unsupported_backing_service_type() {
    let fs = format!("{FS}  - {{}}\n");
    assert_eq!(
        rows(&run_default(&[OUTLIER, &fs])),
        vec![err(
            "spec.backingServices[2]",
            "Unsupported service type <nil>",
            mesh_target()
        )]
    );
}

#[test]
fn backing_service_not_found_and_outlier_lint() {
    // remote-cluster has no `details`; nothing covers it with outlier detection either.
    let fs = format!(
        "{FS}  - kubeService:\n      name: details\n      namespace: bookinfo\n      clusterName: remote-cluster\n"
    );
    assert_eq!(
        rows(&run(&[OUTLIER, &fs], &example_topology())),
        vec![
            err(
                "spec.backingServices[2].kubeService",
                "Backing service details.bookinfo.remote-cluster not found in SMH discovery resources.",
                mesh_target()
            ),
            (
                Severity::Warning,
                "spec.backingServices[2].kubeService".into(),
                "no TrafficPolicy in the input applies outlierDetection to details.bookinfo.remote-cluster; failover needs outlier detection on every backing service".into(),
                None
            ),
        ]
    );
}

#[test]
fn service_without_sidecars_is_not_found_with_a_hint() {
    let t = TOPOLOGY.replacen(
        "  - name: reviews\n    namespace: bookinfo\n    ports:\n    - {name: http, port: 9080}\n    labels: {app: reviews, service: reviews}\n- name: remote-cluster",
        "  - name: reviews\n    namespace: bookinfo\n    sidecarWorkloads: false\n    ports:\n    - {name: http, port: 9080}\n    labels: {app: reviews, service: reviews}\n- name: remote-cluster",
        1,
    );
    assert_ne!(t, TOPOLOGY);
    let d = run(&[OUTLIER, FS, SHIFT], &topo(&t));
    let m = messages(&d);
    assert!(
        m.contains(&"TrafficTarget reviews.bookinfo.mgmt-cluster not found".to_string()),
        "{m:#?}"
    );
    assert!(
        m.contains(
            &"Backing service reviews.bookinfo.mgmt-cluster not found in SMH discovery resources."
                .to_string()
        )
    );
    assert!(
        m.iter()
            .any(|x| x.contains("exists but has no sidecar workloads"))
    );
}

#[test]
fn backing_service_without_outlier_detection() {
    assert_eq!(
        rows(&run_default(&[FS])),
        vec![
            err(
                "spec.backingServices[0].kubeService",
                "Service reviews.bookinfo.mgmt-cluster does not have any TrafficPolicies that apply OutlierDetection settings.",
                mesh_target()
            ),
            err(
                "spec.backingServices[1].kubeService",
                "Service reviews.bookinfo.remote-cluster does not have any TrafficPolicies that apply OutlierDetection settings.",
                mesh_target()
            ),
        ]
    );
}

#[test]
fn an_invalid_policy_does_not_count_for_outlier_detection() {
    let od = OUTLIER.replace(
        "consecutiveErrors: 1",
        "consecutiveErrors: 1\n    interval: ten seconds",
    );
    let d = run_default(&[&od, FS]);
    let m = messages(&d);
    assert!(
        m[0].starts_with("Invalid value: invalid duration \"ten seconds\""),
        "{m:#?}"
    );
    assert_eq!(m.len(), 3, "{m:#?}");
    assert!(m[1].starts_with("Service reviews.bookinfo.mgmt-cluster does not have any"));
}

#[test]
fn outlier_detection_through_a_matcher_counts() {
    let od = "apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: all-reviews, namespace: service-mesh-hub}
spec:
  destinationSelector:
  - kubeServiceMatcher:
      labels: {app: reviews}
  outlierDetection: {}
";
    assert_eq!(run(&[od, FS], &example_topology()), vec![]);
    let od_other = od.replace("app: reviews", "app: ratings");
    let d = run(&[&od_other, FS], &example_topology());
    assert_eq!(d.len(), 2, "{d:#?}");
}

#[test]
fn mesh_of_backing_service_not_found() {
    let t = "clusters:\n- name: mgmt-cluster\n  mesh: {version: 1.24.2}\n  services:\n  - {name: reviews, namespace: bookinfo, ports: [{name: http, port: 9080}]}\n- name: remote-cluster\n  services:\n  - {name: reviews, namespace: bookinfo, ports: [{name: http, port: 9080}]}\n";
    let d = run(&[OUTLIER, FS], &topo(t));
    assert_eq!(
        rows(&d),
        vec![err(
            "spec.backingServices[1].kubeService",
            "Mesh istiod-istio-system-remote-cluster.service-mesh-hub for service reviews.bookinfo.remote-cluster not found in SMH discovery resources.",
            mesh_target()
        )]
    );
}

#[test]
fn meshes_missing() {
    let fs = FS.replace(
        "  meshes:\n    - name: istiod-istio-system-mgmt-cluster\n      namespace: service-mesh-hub\n",
        "",
    );
    assert_ne!(fs, FS);
    // SMH never ran the rules for it (no mesh applied it): no status target.
    assert_eq!(
        rows(&run_default(&[OUTLIER, &fs])),
        vec![err(
            "spec.meshes",
            "Missing required field \"meshes\".",
            None
        )]
    );
}

#[test]
fn meshes_empty_is_a_warning() {
    let fs = FS.replace(
        "  meshes:\n    - name: istiod-istio-system-mgmt-cluster\n      namespace: service-mesh-hub\n",
        "  meshes: []\n",
    );
    let d = run_default(&[OUTLIER, &fs]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(d[0].field.as_deref(), Some("spec.meshes"));
}

#[test]
fn mesh_not_grouped_in_a_virtual_mesh() {
    let t = format!(
        "{}virtualMeshes:\n- name: vm\n  meshes: [istiod-istio-system-mgmt-cluster]\n",
        TOPOLOGY.split("virtualMeshes:").next().unwrap()
    );
    assert_eq!(
        rows(&run(&[OUTLIER, FS], &topo(&t))),
        vec![err(
            "spec.meshes",
            "Mesh istiod-istio-system-remote-cluster.service-mesh-hub is not grouped in a VirtualMesh.",
            mesh_target()
        )]
    );
}

#[test]
fn meshes_in_different_virtual_meshes() {
    let t = format!(
        "{}virtualMeshes:\n- name: east\n  meshes: [istiod-istio-system-mgmt-cluster]\n- name: west\n  meshes: [istiod-istio-system-remote-cluster]\n",
        TOPOLOGY.split("virtualMeshes:").next().unwrap()
    );
    assert_eq!(
        rows(&run(&[OUTLIER, FS], &topo(&t))),
        vec![err(
            "spec.meshes",
            "Services belong to multiple different parent VirtualMeshes: [east.service-mesh-hub, west.service-mesh-hub]",
            mesh_target()
        )]
    );
}

#[test]
fn single_mesh_needs_no_virtual_mesh() {
    let t = format!(
        "{}virtualMeshes:\n- name: vm\n  meshes: [istiod-istio-system-remote-cluster]\n",
        TOPOLOGY.split("virtualMeshes:").next().unwrap()
    );
    let fs = FS.split("  - kubeService:\n      name: reviews\n      namespace: bookinfo\n      clusterName: remote-cluster\n").next().unwrap();
    // mgmt mesh only (spec.meshes and the one backing service): no VirtualMesh needed.
    assert_eq!(run(&[OUTLIER, fs], &topo(&t)), vec![]);
}

#[test]
fn referenced_mesh_not_found_precheck() {
    let fs = FS.replace(
        "istiod-istio-system-mgmt-cluster",
        "istiod-istio-system-mgmt-clustr",
    );
    let fs = fs.replace("protocol: http", "protocol: smtp");
    assert_eq!(
        rows(&run(&[OUTLIER, &fs], &example_topology())),
        vec![
            err(
                "spec.meshes[0]",
                "*v1alpha2.Mesh with id istiod-istio-system-mgmt-clustr.service-mesh-hub. not found",
                Some(StatusTarget::TopLevel)
            ),
            // The rules are still reported, but SMH would not have reached them.
            err(
                "spec.port.protocol",
                "Invalid protocol for port: smtp",
                None
            ),
        ]
    );
    let fs = FS.replace(
        "namespace: service-mesh-hub\n  backingServices",
        "namespace: gloo-mesh\n  backingServices",
    );
    assert_eq!(
        messages(&run_default(&[OUTLIER, &fs])),
        vec!["*v1alpha2.Mesh with id istiod-istio-system-mgmt-cluster.gloo-mesh. not found"]
    );
}

#[test]
fn rules_run_in_smh_order_and_all_are_collected() {
    let fs = "apiVersion: networking.smh.solo.io/v1alpha2
kind: FailoverService
metadata: {name: bad, namespace: service-mesh-hub}
spec:
  hostname: bad
  port: {number: 0, protocol: x}
  meshes: [{name: istiod-istio-system-mgmt-cluster, namespace: service-mesh-hub}]
  backingServices:
  - kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}
";
    let m = messages(&run_default(&[fs]));
    assert_eq!(
        m,
        vec![
            "Provided hostname bad is missing required suffix \".global\".",
            "must be between 1 and 65535, inclusive",
            "Invalid protocol for port: x",
            "Service reviews.bookinfo.mgmt-cluster does not have any TrafficPolicies that apply OutlierDetection settings.",
        ]
    );
}

#[test]
fn rule_errors_are_reported_per_listed_mesh() {
    let fs = FS
        .replace(
            "  meshes:\n    - name: istiod-istio-system-mgmt-cluster\n      namespace: service-mesh-hub\n",
            "  meshes:\n    - name: istiod-istio-system-mgmt-cluster\n      namespace: service-mesh-hub\n    - name: istiod-istio-system-remote-cluster\n      namespace: service-mesh-hub\n",
        )
        .replace("protocol: http", "protocol: nope");
    let d = run_default(&[OUTLIER, &fs]);
    let targets: Vec<Option<StatusTarget>> = d.iter().map(|x| x.status_target.clone()).collect();
    assert_eq!(
        targets,
        vec![
            Some(StatusTarget::Mesh(MGMT.into())),
            Some(StatusTarget::Mesh(
                "istiod-istio-system-remote-cluster.service-mesh-hub.".into()
            )),
        ]
    );
}

#[test]
fn incomplete_backing_service_refs_are_field_errors() {
    let fs = FS.replacen("      clusterName: mgmt-cluster\n", "", 1);
    assert_eq!(
        rows(&run_default(&[OUTLIER, &fs])),
        vec![err(
            "spec.backingServices[0].kubeService.clusterName",
            "Required value: clusterName must be set",
            None
        )]
    );
}

// ---------------------------------------------------------------------------------------
// TrafficPolicy: SMH's pre-check and translation errors
// ---------------------------------------------------------------------------------------

#[test]
fn traffic_target_not_found() {
    let od = OUTLIER.replacen(
        "clusterName: remote-cluster",
        "clusterName: other-cluster",
        1,
    );
    let d = run(&[&od], &example_topology());
    assert_eq!(
        rows(&d),
        vec![err(
            "spec.destinationSelector[0].kubeServiceRefs.services[1]",
            "TrafficTarget reviews.bookinfo.other-cluster not found",
            Some(StatusTarget::TopLevel)
        )]
    );
}

#[test]
fn shift_to_failover_service_not_in_input() {
    let d = run_default(&[SHIFT]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(
        d[0].field.as_deref(),
        Some("spec.trafficShift.destinations[0].failoverService")
    );
    assert!(d[0].message.contains("traffic-shift: invalid traffic shift destination reviews-failover.service-mesh-hub., FailoverService not found: *v1alpha2.FailoverService with id reviews-failover.service-mesh-hub. not found"), "{}", d[0].message);
    // With the complete picture it is SMH's error, per selected traffic target.
    let m = manifests(&[SHIFT]);
    let opts = ValidateOptions {
        complete: true,
        ..Default::default()
    };
    let d = validate_with(&m, &Topology::from_manifests(&m), &opts);
    assert_eq!(
        rows(&d),
        vec![err(
            "spec.trafficShift.destinations[0].failoverService",
            "traffic-shift: invalid traffic shift destination reviews-failover.service-mesh-hub., FailoverService not found: *v1alpha2.FailoverService with id reviews-failover.service-mesh-hub. not found",
            Some(StatusTarget::TrafficTarget(
                "reviews-bookinfo-mgmt-cluster.service-mesh-hub.".into()
            ))
        )]
    );
    // A FailoverService that was in the input but rejected for schema errors is not "missing".
    let opts = ValidateOptions {
        complete: true,
        rejected: vec![ObjectId {
            kind: "FailoverService".into(),
            namespace: "service-mesh-hub".into(),
            name: "reviews-failover".into(),
        }],
    };
    assert_eq!(
        validate_with(&m, &Topology::from_manifests(&m), &opts),
        vec![]
    );
}

const KUBE_SHIFT: &str = "apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: shift, namespace: bookinfo}
spec:
  destinationSelector:
  - kubeServiceRefs:
      services: [{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}]
  trafficShift:
    destinations:
    - kubeService: {name: reviews, namespace: bookinfo, clusterName: remote-cluster, subset: {version: v3}}
      weight: 75
    - kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}
      weight: 25
";

fn tt(key: &str) -> Option<StatusTarget> {
    Some(StatusTarget::TrafficTarget(key.to_string()))
}

#[test]
fn kube_shift_destinations() {
    assert_eq!(run(&[KUBE_SHIFT], &example_topology()), vec![]);
    let bad = KUBE_SHIFT.replace("clusterName: remote-cluster", "clusterName: nowhere");
    assert_eq!(
        rows(&run(&[&bad], &example_topology())),
        vec![err(
            "spec.trafficShift.destinations[0].kubeService",
            "traffic-shift: invalid traffic shift destination reviews.bookinfo.nowhere: TrafficTarget not found for kube service reviews.bookinfo.nowhere",
            tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
        )]
    );
    let bad = KUBE_SHIFT.replace(
        "clusterName: remote-cluster, subset",
        "clusterName: remote-cluster, port: 9081, subset",
    );
    assert_eq!(
        rows(&run(&[&bad], &example_topology())),
        vec![err(
            "spec.trafficShift.destinations[0].kubeService.port",
            "traffic-shift: specified port 9081 does not exist for traffic shift destination service reviews.bookinfo.remote-cluster",
            tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
        )]
    );
    let t = TOPOLOGY.replacen(
        "  - name: reviews\n    namespace: bookinfo\n    ports:\n    - {name: http, port: 9080}\n    labels: {app: reviews, service: reviews}\n  - name: ratings",
        "  - name: reviews\n    namespace: bookinfo\n    ports:\n    - {name: http, port: 9080}\n    - {name: grpc, port: 9090}\n    labels: {app: reviews, service: reviews}\n  - name: ratings",
        1,
    );
    assert_ne!(t, TOPOLOGY);
    assert_eq!(
        rows(&run(&[KUBE_SHIFT], &topo(&t))),
        vec![err(
            "spec.trafficShift.destinations[0].kubeService",
            "traffic-shift: must provide port for traffic shift destination service reviews.bookinfo.remote-cluster with multiple ports (2) defined",
            tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
        )]
    );
}

#[test]
fn per_target_errors_have_no_status_target_when_the_policy_failed_its_precheck() {
    let bad = KUBE_SHIFT
        .replace("clusterName: remote-cluster, subset", "clusterName: nowhere, subset")
        .replace(
            "services: [{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}]",
            "services: [{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}, {name: xx, namespace: yy, clusterName: mgmt-cluster}]",
        );
    let r = rows(&run(&[&bad], &example_topology()));
    assert_eq!(r[0].3, Some(StatusTarget::TopLevel));
    assert_eq!(r[1].3, None, "{r:#?}");
}

#[test]
fn mirror_destinations() {
    let tp = "apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: mirror, namespace: bookinfo}
spec:
  destinationSelector:
  - kubeServiceRefs:
      services: [{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}]
  mirror:
    kubeService: {name: ratings, namespace: bookinfo, clusterName: remote-cluster}
    percentage: 50
";
    assert_eq!(run(&[tp], &example_topology()), vec![]);
    let bad = tp.replace("name: ratings", "name: nope");
    assert_eq!(
        messages(&run(&[&bad], &example_topology())),
        vec![
            "mirror: invalid mirror destination: TrafficTarget not found for kube service nope.bookinfo.remote-cluster"
        ]
    );
    let bad = tp.replace("percentage: 50", "percentage: 50\n    port: 8080");
    assert_eq!(
        messages(&run(&[&bad], &example_topology())),
        vec![
            "mirror: specified port 8080 does not exist for mirror destination service ratings.bookinfo.remote-cluster"
        ]
    );
    let bad = tp.replace(
        "    kubeService: {name: ratings, namespace: bookinfo, clusterName: remote-cluster}\n",
        "",
    );
    assert_eq!(
        rows(&run(&[&bad], &example_topology())),
        vec![err(
            "spec.mirror.kubeService",
            "Required value: a mirror needs a kubeService destination",
            None
        )]
    );
}

#[test]
fn outlier_detection_conflict_between_policies() {
    let second = OUTLIER
        .replace("mgmt-reviews-outlier", "zz-second")
        .replace("consecutiveErrors: 1", "consecutiveErrors: 3");
    let d = run_default(&[OUTLIER, &second, FS]);
    assert_eq!(
        rows(&d),
        vec![
            err(
                "spec.outlierDetection",
                "outlier-detection: field outlierDetection is already owned by *v1alpha2.TrafficPolicy [mgmt-reviews-outlier.service-mesh-hub.] (priority 0)",
                tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
            ),
            err(
                "spec.outlierDetection",
                "outlier-detection: field outlierDetection is already owned by *v1alpha2.TrafficPolicy [mgmt-reviews-outlier.service-mesh-hub.] (priority 0)",
                tt("reviews-bookinfo-remote-cluster.service-mesh-hub.")
            ),
        ]
    );
    assert_eq!(d[0].object.as_ref().unwrap().name, "zz-second");
    // The same values (defaults applied) do not conflict.
    let same = OUTLIER
        .replace("mgmt-reviews-outlier", "zz-second")
        .replace(
            "consecutiveErrors: 1",
            "consecutiveErrors: 1\n    interval: 10s\n    maxEjectionPercent: 100",
        );
    assert_eq!(run_default(&[OUTLIER, &same, FS]), vec![]);
    // Order is by name.namespace. unless status says ACCEPTED: the earlier accepted one wins.
    let first = OUTLIER
        .replace("mgmt-reviews-outlier", "aa-first")
        .replace("consecutiveErrors: 1", "consecutiveErrors: 2");
    let d = run_default(&[OUTLIER, &first]);
    assert_eq!(d[0].object.as_ref().unwrap().name, "mgmt-reviews-outlier");
    let accepted = format!(
        "{OUTLIER}status:\n  state: ACCEPTED\n  trafficTargets:\n    reviews-bookinfo-mgmt-cluster.service-mesh-hub.:\n      state: ACCEPTED\n"
    );
    let d = run_default(&[&accepted, &first]);
    assert_eq!(d.len(), 2, "{d:#?}");
    let by_target: Vec<(&str, Option<StatusTarget>)> = d
        .iter()
        .map(|x| {
            (
                x.object.as_ref().unwrap().name.as_str(),
                x.status_target.clone(),
            )
        })
        .collect();
    assert!(by_target.contains(&(
        "aa-first",
        tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
    )));
    assert!(by_target.contains(&(
        "mgmt-reviews-outlier",
        tt("reviews-bookinfo-remote-cluster.service-mesh-hub.")
    )));
}

#[test]
fn tls_conflict_between_policies() {
    let tls = |name: &str, mode: &str| {
        format!(
            "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {{name: {name}, namespace: bookinfo}}\nspec:\n  destinationSelector:\n  - kubeServiceRefs:\n      services: [{{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}}]\n  mtls:\n    istio: {{tlsMode: {mode}}}\n"
        )
    };
    let (a, b) = (tls("a", "SIMPLE"), tls("b", "DISABLE"));
    assert_eq!(
        messages(&run_default(&[&a, &b])),
        vec![
            "tls: field tls is already owned by *v1alpha2.TrafficPolicy [a.bookinfo.] (priority 0)"
        ]
    );
    // ISTIO_MUTUAL is the default: setting it owns nothing.
    let (a, b) = (tls("a", "ISTIO_MUTUAL"), tls("b", "DISABLE"));
    assert_eq!(run_default(&[&a, &b]), vec![]);
}

#[test]
fn conflicts_respect_source_selectors() {
    // Different outlier detection for different source clusters: no DR gets both.
    let a = OUTLIER.replace(
        "spec:\n",
        "spec:\n  sourceSelector:\n  - clusters: [mgmt-cluster]\n",
    );
    let b = OUTLIER
        .replace("mgmt-reviews-outlier", "b")
        .replace("consecutiveErrors: 1", "consecutiveErrors: 2")
        .replace(
            "spec:\n",
            "spec:\n  sourceSelector:\n  - clusters: [remote-cluster]\n",
        );
    let d = run_default(&[&a, &b]);
    assert!(d.iter().all(|x| x.severity == Severity::Warning), "{d:#?}");
}

// ---------------------------------------------------------------------------------------
// Field checks
// ---------------------------------------------------------------------------------------

fn tp_with(spec_tail: &str) -> String {
    format!(
        "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {{name: t, namespace: bookinfo}}\nspec:\n  destinationSelector:\n  - kubeServiceRefs:\n      services: [{{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}}]\n{spec_tail}"
    )
}

fn field_errors(spec_tail: &str) -> Vec<(String, String)> {
    run(&[&tp_with(spec_tail)], &example_topology())
        .into_iter()
        .map(|d| (d.field.unwrap_or_default(), d.message))
        .collect()
}

#[test]
fn durations() {
    let e = field_errors(
        "  retries: {attempts: 2, perTryTimeout: 1x}\n  outlierDetection: {interval: -1s, baseEjectionTime: 1m30s}\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "spec.retries.perTryTimeout",
            "spec.outlierDetection.interval"
        ],
        "{e:#?}"
    );
    assert!(e[0].1.starts_with("Invalid value: invalid duration \"1x\""));
    let e = field_errors("  requestTimeout: \"5\"\n");
    assert_eq!(e[0].0, "spec.requestTimeout");
    assert!(e[0].1.contains("missing unit"), "{}", e[0].1);
}

#[test]
fn percentages_and_fault_injection() {
    assert_eq!(
        field_errors("  faultInjection: {abort: {httpStatus: 503}, percentage: 101}\n"),
        vec![(
            "spec.faultInjection.percentage".into(),
            "Invalid value: 101: must be 0, or between 0.0001 and 100".into()
        )]
    );
    assert_eq!(
        field_errors("  faultInjection: {abort: {httpStatus: 700}, percentage: 10}\n"),
        vec![(
            "spec.faultInjection.abort.httpStatus".into(),
            "Invalid value: 700: must be an HTTP status between 200 and 599".into()
        )]
    );
    assert_eq!(
        field_errors("  faultInjection: {percentage: 10}\n"),
        vec![(
            "spec.faultInjection".into(),
            "Required value: one of fixedDelay, exponentialDelay or abort must be set".into()
        )]
    );
    assert_eq!(
        field_errors("  faultInjection: {fixedDelay: 1s, abort: {httpStatus: 500}}\n"),
        vec![(
            "spec.faultInjection".into(),
            "only one of fixedDelay, exponentialDelay or abort may be set".into()
        )]
    );
    assert_eq!(
        field_errors(
            "  mirror: {kubeService: {name: ratings, namespace: bookinfo, clusterName: mgmt-cluster}, percentage: -1}\n"
        ),
        vec![(
            "spec.mirror.percentage".into(),
            "Invalid value: -1: must be between 0 and 100".into()
        )]
    );
}

#[test]
fn weights_and_destinations() {
    let e = field_errors(
        "  trafficShift:\n    destinations:\n    - {kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}, weight: 50}\n    - {kubeService: {name: ratings, namespace: bookinfo, clusterName: mgmt-cluster}, weight: 30}\n",
    );
    assert_eq!(
        e,
        vec![(
            "spec.trafficShift.destinations".into(),
            "Invalid value: weights must sum to 100 when there is more than one destination (they sum to 80)".into()
        )]
    );
    let e = field_errors("  trafficShift:\n    destinations:\n    - {weight: 100}\n");
    assert_eq!(
        e,
        vec![(
            "spec.trafficShift.destinations[0]".into(),
            "must set a destination type on traffic shift destination".into()
        )]
    );
    let e = field_errors(
        "  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}\n      failoverService: {name: f, namespace: ns}\n",
    );
    assert_eq!(
        e,
        vec![(
            "spec.trafficShift.destinations[0]".into(),
            "only one of kubeService or failoverService may be set".into()
        )]
    );
    let e = field_errors("  trafficShift:\n    destinations:\n    - failoverService: {name: f}\n");
    assert_eq!(
        e,
        vec![(
            "spec.trafficShift.destinations[0].failoverService.namespace".into(),
            "Required value: namespace must be set".into()
        )]
    );
    let e = field_errors(
        "  trafficShift:\n    destinations:\n    - {kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster, port: 70000}}\n",
    );
    assert_eq!(
        e[0],
        (
            "spec.trafficShift.destinations[0].kubeService.port".into(),
            "Invalid value: 70000: must be between 1 and 65535, inclusive".into()
        )
    );
}

#[test]
fn retries_cors_matchers_enums() {
    assert_eq!(
        field_errors("  retries: {attempts: -1}\n"),
        vec![(
            "spec.retries.attempts".into(),
            "Invalid value: -1: must be 0 or more".into()
        )]
    );
    assert_eq!(
        field_errors("  corsPolicy: {allowOrigins: [{exact: a, prefix: b}]}\n"),
        vec![(
            "spec.corsPolicy.allowOrigins[0]".into(),
            "exactly one of exact, prefix or regex must be set".into()
        )]
    );
    assert_eq!(
        field_errors("  httpRequestMatchers:\n  - {prefix: /a, exact: /b, method: {method: FETCH}, headers: [{value: x}]}\n"),
        vec![
            ("spec.httpRequestMatchers[0]".into(), "only one of prefix, exact or regex may be set".into()),
            ("spec.httpRequestMatchers[0].headers[0].name".into(), "Required value: name must be set".into()),
            (
                "spec.httpRequestMatchers[0].method.method".into(),
                "Unsupported value: \"FETCH\": supported values: \"GET\", \"POST\", \"PUT\", \"DELETE\", \"HEAD\", \"CONNECT\", \"OPTIONS\", \"TRACE\", \"PATCH\"".into()
            ),
        ]
    );
    assert_eq!(
        field_errors("  mtls: {istio: {tlsMode: STRICT}}\n"),
        vec![(
            "spec.mtls.istio.tlsMode".into(),
            "Unsupported value: \"STRICT\": supported values: \"DISABLE\", \"SIMPLE\", \"ISTIO_MUTUAL\"".into()
        )]
    );
    assert!(field_errors("  mtls: {istio: {tlsMode: ISTIO_MUTUAL}}\n  retries: {attempts: 3, perTryTimeout: 2s}\n").is_empty());
}

#[test]
fn destination_selector_one_of() {
    let tp = "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: t, namespace: bookinfo}\nspec:\n  destinationSelector:\n  - {}\n  - kubeServiceMatcher: {}\n    kubeServiceRefs: {services: []}\n  - kubeServiceRefs:\n      services: [{name: reviews, namespace: bookinfo}]\n";
    let d = run(&[tp], &example_topology());
    let r: Vec<(String, String)> = d
        .iter()
        .map(|x| (x.field.clone().unwrap(), x.message.clone()))
        .collect();
    assert_eq!(
        r,
        vec![
            ("spec.destinationSelector[0]".into(), "Required value: one of kubeServiceMatcher or kubeServiceRefs must be set (an empty selector selects nothing)".into()),
            ("spec.destinationSelector[1]".into(), "only one of kubeServiceMatcher or kubeServiceRefs may be set".into()),
            ("spec.destinationSelector[2].kubeServiceRefs.services[0].clusterName".into(), "Required value: clusterName must be set".into()),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Lint and duplicates
// ---------------------------------------------------------------------------------------

#[test]
fn max_ejection_percent_below_100() {
    let od = OUTLIER.replace(
        "consecutiveErrors: 1",
        "consecutiveErrors: 1\n    maxEjectionPercent: 10",
    );
    let d = run_default(&[&od, FS, SHIFT]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(
        d[0].field.as_deref(),
        Some("spec.outlierDetection.maxEjectionPercent")
    );
    assert!(
        d[0].message
            .contains("with fewer than 10 endpoints not one is ejected"),
        "{}",
        d[0].message
    );
    assert_eq!(d[0].status_target, None);
    let od = OUTLIER.replace(
        "consecutiveErrors: 1",
        "consecutiveErrors: 1\n    maxEjectionPercent: 150",
    );
    let d = run_default(&[&od]);
    assert_eq!(
        d[0].message,
        "Invalid value: 150: must be between 0 and 100"
    );
}

#[test]
fn two_failover_services_with_one_hostname() {
    let other = FS.replace("name: reviews-failover\n", "name: reviews-failover-2\n");
    let d = run_default(&[OUTLIER, FS, &other]);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(d[0].object.as_ref().unwrap().name, "reviews-failover-2");
    assert!(d[0].message.starts_with("hostname reviews-failover.bookinfo.global is also used by FailoverService service-mesh-hub/reviews-failover"));
}

#[test]
fn one_name_in_two_namespaces() {
    let other = FS
        .replace(
            "namespace: service-mesh-hub\nspec",
            "namespace: team-b\nspec",
        )
        .replace(
            "reviews-failover.bookinfo.global",
            "reviews-b.bookinfo.global",
        );
    assert_ne!(other, FS);
    let d = run_default(&[OUTLIER, FS, &other]);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message
            .contains("both generate ServiceEntry service-mesh-hub/reviews-failover")
    );
}

#[test]
fn duplicate_objects() {
    let d = run_default(&[OUTLIER, FS, FS]);
    let e: Vec<&Diagnostic> = d.iter().filter(|x| x.severity == Severity::Error).collect();
    assert_eq!(e.len(), 1, "{d:#?}");
    assert_eq!(e[0].field.as_deref(), Some("metadata.name"));
    assert_eq!(
        e[0].message,
        "Duplicate value: FailoverService service-mesh-hub/reviews-failover is also defined in test.yaml: document 2 (line 18)"
    );
    assert_eq!(e[0].source.as_ref().unwrap().doc, 2);
}

#[test]
fn policy_selecting_nothing() {
    let tp = "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: t, namespace: bookinfo}\nspec:\n  destinationSelector:\n  - kubeServiceMatcher: {labels: {app: nothing}}\n  retries: {attempts: 1}\n";
    let d = run(&[tp], &example_topology());
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(d[0].message.starts_with("selects no traffic target"));
}

#[test]
fn outlier_detection_with_source_selector() {
    let od = OUTLIER.replace(
        "spec:\n",
        "spec:\n  sourceSelector:\n  - namespaces: [bookinfo]\n",
    );
    let d = run_default(&[&od]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].field.as_deref(), Some("spec.sourceSelector"));
}

#[test]
fn diagnostics_are_in_input_order() {
    let bad_fs = FS.replace("protocol: http", "protocol: x");
    let bad_tp = SHIFT.replace("reviews-failover", "missing");
    let d = run_default(&[&bad_tp, OUTLIER, &bad_fs]);
    let docs: Vec<usize> = d.iter().map(|x| x.source.as_ref().unwrap().doc).collect();
    let mut sorted = docs.clone();
    sorted.sort();
    assert_eq!(docs, sorted);
    assert_eq!(docs, vec![0, 2]);
}

// ---------------------------------------------------------------------------------------
// Limits of the API server and istiod
// ---------------------------------------------------------------------------------------

/// The errors (field, message) of a TrafficPolicy with `spec_tail`, for fields under
/// `prefix`.
fn errors_at(spec_tail: &str, prefix: &str) -> Vec<(String, String)> {
    field_errors(spec_tail)
        .into_iter()
        .filter(|(f, _)| f.starts_with(prefix))
        .collect()
}

#[test]
fn durations_istio_would_reject() {
    // 500us passes as a duration but is below Istio's 1ms; 1.5ms is not whole ms.
    for (tail, field) in [
        ("  requestTimeout: 500us\n", "spec.requestTimeout"),
        (
            "  retries: {attempts: 2, perTryTimeout: 1500us}\n",
            "spec.retries.perTryTimeout",
        ),
        (
            "  faultInjection: {fixedDelay: 0.5ms, percentage: 10}\n",
            "spec.faultInjection.fixedDelay",
        ),
        (
            "  outlierDetection: {interval: 100us}\n",
            "spec.outlierDetection.interval",
        ),
        (
            "  outlierDetection: {baseEjectionTime: 2.5ms}\n",
            "spec.outlierDetection.baseEjectionTime",
        ),
        (
            "  corsPolicy: {allowOrigins: [{exact: a.example}], maxAge: 1500ms}\n",
            "spec.corsPolicy.maxAge",
        ),
    ] {
        let e = errors_at(tail, field);
        assert_eq!(e.len(), 1, "{tail}: {e:#?}");
        assert!(e[0].1.starts_with("Invalid value: \""), "{e:?}");
        assert!(
            e[0].1.contains("1ms") || e[0].1.contains("whole number"),
            "{e:?}"
        );
    }
    let e = errors_at("  requestTimeout: 500us\n", "spec.requestTimeout");
    assert_eq!(
        e[0].1,
        "Invalid value: \"500us\": below Istio's minimum of 1ms (istiod rejects it: \"duration must be greater than 1ms\")"
    );
    // Zero is "unset" (left out), 1ms and whole seconds are fine.
    for ok in [
        "  requestTimeout: 0s\n",
        "  requestTimeout: 1ms\n",
        "  retries: {attempts: 2, perTryTimeout: 250ms}\n",
        "  corsPolicy: {allowOrigins: [{exact: a.example}], maxAge: 24h}\n",
    ] {
        assert!(field_errors(ok).is_empty(), "{ok}: {:#?}", field_errors(ok));
    }
}

#[test]
fn fault_injection_as_istio_accepts_it() {
    assert_eq!(
        errors_at(
            "  faultInjection: {exponentialDelay: 1s, percentage: 10}\n",
            "spec.faultInjection"
        ),
        vec![(
            "spec.faultInjection.exponentialDelay".into(),
            "Forbidden: Istio does not support an exponential delay (istiod rejects it: \"exponentialDelay not supported yet\"); use fixedDelay".into()
        )]
    );
    assert_eq!(
        errors_at(
            "  faultInjection: {abort: {httpStatus: 150}, percentage: 0.00001}\n",
            "spec.faultInjection"
        ),
        vec![
            (
                "spec.faultInjection.abort.httpStatus".into(),
                "Invalid value: 150: must be an HTTP status between 200 and 599".into()
            ),
            (
                "spec.faultInjection.percentage".into(),
                "Invalid value: 0.00001: must be 0, or between 0.0001 and 100".into()
            ),
        ]
    );
    assert!(
        field_errors("  faultInjection: {abort: {httpStatus: 503}, percentage: 0.5}\n").is_empty()
    );
}

#[test]
fn retries_with_zero_attempts_and_a_timeout() {
    assert_eq!(
        errors_at("  retries: {attempts: 0, perTryTimeout: 2s}\n", "spec.retries"),
        vec![(
            "spec.retries.attempts".into(),
            "Invalid value: 0: attempts 0 turns retries off, and Istio rejects a retry policy with a perTryTimeout and 0 attempts (set attempts, or remove perTryTimeout)".into()
        )]
    );
    assert!(field_errors("  retries: {attempts: 0}\n").is_empty());
}

#[test]
fn header_names_values_and_regexes() {
    let e = field_errors(
        "  httpRequestMatchers:\n  - regex: \"/api/(v1\"\n    headers:\n    - {name: \"x user\", value: a}\n    - {name: x-id, value: \"[0-9\", regex: true}\n    queryParameters:\n    - {name: q, value: \"*\", regex: true}\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.httpRequestMatchers[0].regex",
            "spec.httpRequestMatchers[0].headers[0].name",
            "spec.httpRequestMatchers[0].headers[1].value",
            "spec.httpRequestMatchers[0].queryParameters[0].value",
        ],
        "{e:#?}"
    );
    assert!(
        e[0].1.contains("not a valid RE2 regular expression"),
        "{e:?}"
    );
    assert!(e[1].1.contains("letters, digits, '-' and '_'"), "{e:?}");

    let e = field_errors(
        "  headerManipulation:\n    appendRequestHeaders: {\":path\": /x, host: a.example, x-ok: \"50%\"}\n    removeResponseHeaders: [host]\n    appendResponseHeaders: {x-pct: \"100%%\", x-host: \"%HOSTNAME%\"}\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.headerManipulation.appendRequestHeaders.:path",
            "spec.headerManipulation.appendRequestHeaders.x-ok",
            "spec.headerManipulation.removeResponseHeaders[0]",
        ],
        "{e:#?}"
    );
}

#[test]
fn cors_as_istio_accepts_it() {
    let e = field_errors(
        "  corsPolicy:\n    allowOrigins: [{exact: \"\"}, {regex: \"(\"}]\n    allowMethods: [GET, get]\n    allowHeaders: [\"*\", \"x y\"]\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.corsPolicy.allowOrigins[0].exact",
            "spec.corsPolicy.allowOrigins[1].regex",
            "spec.corsPolicy.allowMethods[1]",
            "spec.corsPolicy.allowHeaders[1]",
        ],
        "{e:#?}"
    );
}

#[test]
fn cluster_names_are_at_most_63_characters() {
    let long = "c".repeat(64);
    let tp = tp_with("  outlierDetection: {consecutiveErrors: 1}\n")
        .replace("clusterName: mgmt-cluster", &format!("clusterName: {long}"));
    let d = run_default(&[&tp]);
    let e: Vec<(String, String)> = d
        .iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| (x.field.clone().unwrap_or_default(), x.message.clone()))
        .collect();
    assert_eq!(
        e,
        vec![(
            "spec.destinationSelector[0].kubeServiceRefs.services[0].clusterName".into(),
            format!(
                "Invalid value: {long:?}: must be no more than 63 characters (a cluster name is the value of the label cluster.multicluster.solo.io on every object generated for it)"
            )
        )]
    );
    // 63 is fine.
    let ok = tp.replace(&long, &"c".repeat(63));
    assert!(
        run_default(&[&ok])
            .iter()
            .all(|x| x.severity == Severity::Warning)
    );
    // In a FailoverService's backing services, and in source selectors too.
    let fs = FS.replace(
        "clusterName: remote-cluster",
        &format!("clusterName: {long}"),
    );
    assert!(
        run_default(&[OUTLIER, &fs])
            .iter()
            .any(
                |x| x.field.as_deref() == Some("spec.backingServices[1].kubeService.clusterName")
                    && x.message.contains("no more than 63")
            ),
        "{:#?}",
        run_default(&[OUTLIER, &fs])
    );
    let e = errors_at(
        &format!(
            "  sourceSelector:\n  - clusters: [{long}]\n    namespaces: [Bad_NS]\n    labels: {{\"a b\": x}}\n"
        ),
        "spec.sourceSelector",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.sourceSelector[0].labels.a b",
            "spec.sourceSelector[0].namespaces[0]",
            "spec.sourceSelector[0].clusters[0]",
        ],
        "{e:#?}"
    );
}

#[test]
fn subset_names_istio_accepts() {
    // Two labels: SMH names the subset `app-reviews_version-v1`, which Istio rejects.
    let e = errors_at(
        "  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster, subset: {app: reviews, version: v1}}\n",
        "spec.trafficShift",
    );
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(
        e[0].0,
        "spec.trafficShift.destinations[0].kubeService.subset"
    );
    assert!(
        e[0].1
            .contains("\"app-reviews_version-v1\": Istio requires a subset name"),
        "{e:?}"
    );
    // Bad label values are named by key.
    let e = errors_at(
        "  trafficShift:\n    destinations:\n    - failoverService: {name: f, namespace: bookinfo, subset: {version: \"v1 beta\"}}\n",
        "spec.trafficShift",
    );
    assert!(
        e.iter().any(|(f, m)| f
            == "spec.trafficShift.destinations[0].failoverService.subset.version"
            && m.contains("value \"v1 beta\"")),
        "{e:#?}"
    );
    // One label is fine.
    assert!(
        errors_at(
            "  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster, subset: {version: v1}}\n",
            "spec.trafficShift"
        )
        .is_empty()
    );
}

#[test]
fn hostname_labels_and_port_name() {
    let label = "h".repeat(64);
    let fs = FS.replace(
        "hostname: reviews-failover.bookinfo.global",
        &format!("hostname: {label}.bookinfo.global"),
    );
    let d = run_default(&[OUTLIER, &fs]);
    assert!(
        d.iter().any(|x| x.field.as_deref() == Some("spec.hostname")
            && x.message.contains("every dot-separated label of a host")
            && x.message.contains("(64 characters)")),
        "{d:#?}"
    );
    let fs = FS.replace("protocol: http", "protocol: http_proxy");
    let d = run_default(&[OUTLIER, &fs]);
    assert!(
        d.iter().any(|x| x.field.as_deref() == Some("spec.port.protocol")
            && x.message.starts_with("Invalid value: \"http_proxy\": the generated ServiceEntry's port is named after the protocol")),
        "{d:#?}"
    );
    // Upper case is a valid port name for Istio.
    let fs = FS.replace("protocol: http", "protocol: HTTP");
    assert!(
        run_default(&[OUTLIER, &fs])
            .iter()
            .all(|x| x.field.as_deref() != Some("spec.port.protocol"))
    );
}
