//! FailoverService rules and SMH's messages for them.

use super::*;

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
