//! Unit tests of topologies: loading, defaults, checks, the documented example, versions.

use super::*;
use crate::model::parse::parse_str;

const EXAMPLE: &str = include_str!("../../../../../examples/topology.yaml");

#[test]
fn example_topology_loads() {
    let t = Topology::parse_bytes("examples/topology.yaml", EXAMPLE.as_bytes()).expect("valid");
    let names: Vec<&str> = t.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["mgmt-cluster", "remote-cluster"]);
    let mgmt = t.cluster("mgmt-cluster").unwrap();
    let svcs: Vec<&str> = mgmt.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(svcs, vec!["details", "productpage", "ratings", "reviews"]);
    let remote = t.cluster("remote-cluster").unwrap();
    assert_eq!(remote.services.len(), 2);
    for s in mgmt.services.iter().chain(&remote.services) {
        assert_eq!(s.ports.len(), 1);
        assert_eq!((s.ports[0].port, s.ports[0].name.as_str()), (9080, "http"));
        assert!(s.sidecar_workloads);
    }
    assert_eq!(
        t.find_mesh("istiod-istio-system-remote-cluster", "service-mesh-hub")
            .map(|(c, _)| c.name.as_str()),
        Some("remote-cluster")
    );
    let remote_mesh = remote.mesh.as_ref().unwrap();
    assert_eq!(remote_mesh.cluster_id.as_deref(), Some("cluster2"));
    assert_eq!(remote_mesh.istio_cluster_id("remote-cluster"), "cluster2");
    // Without clusterId, the SMH cluster name stands in.
    assert_eq!(Mesh::default_istio().istio_cluster_id("c"), "c");
}

#[test]
fn defaults_from_the_guide() {
    let mut manifests = Vec::new();
    for f in [
        "1-outlier-detection.yaml",
        "2-failover-service.yaml",
        "3-traffic-shift.yaml",
    ] {
        let path = format!("{}/../../examples/guide/{f}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        manifests.extend(parse_str(&path, &text).manifests);
    }
    let t = Topology::from_manifests(&manifests);
    assert!(t.check().is_empty());
    assert_eq!(t.clusters.len(), 2);
    for c in &t.clusters {
        assert_eq!(c.cluster_domain, "cluster.local");
        let mesh = c.mesh.as_ref().unwrap();
        assert_eq!(
            mesh.smh_name(&c.name),
            format!("istiod-istio-system-{}", c.name)
        );
        assert_eq!(mesh.version, DEFAULT_ISTIO_VERSION);
        assert_eq!(mesh.mode, MultiClusterMode::Global);
        assert_eq!(c.services.len(), 1);
        let s = &c.services[0];
        assert_eq!(
            (s.name.as_str(), s.namespace.as_str()),
            ("reviews", "bookinfo")
        );
        assert_eq!(
            s.ports,
            vec![ServicePort {
                name: "http".into(),
                port: 9080,
                protocol: "TCP".into(),
                app_protocol: None
            }]
        );
    }
    assert_eq!(
        t.virtual_mesh_of("istiod-istio-system-mgmt-cluster"),
        Some(("virtual-mesh".into(), "service-mesh-hub".into()))
    );
}

#[test]
fn rejects_bad_topologies_with_fields() {
    let bad = "clusters:\n- name: a\n  mesh: {version: banana}\n  services:\n  - {name: s, namespace: ns, ports: [{port: 70000}, {port: 70000, protocol: tcp}]}\n  - {name: s, namespace: ns}\n- name: a\n  colour: blue\nvirtualMeshes:\n- name: vm\n  meshes: [istiod-istio-system-b]\n";
    let err = Topology::parse_bytes("t.yaml", bad.as_bytes()).unwrap_err();
    let TopologyError::Invalid { problems, .. } = &err else {
        panic!("{err}")
    };
    let fields: Vec<&str> = problems.iter().filter_map(|p| p.field.as_deref()).collect();
    assert_eq!(
        fields,
        vec!["clusters[1].colour"],
        "unknown fields first: {problems:?}"
    );
    let bad = bad.replace("  colour: blue\n", "");
    let err = Topology::parse_bytes("t.yaml", bad.as_bytes()).unwrap_err();
    let TopologyError::Invalid { problems, .. } = &err else {
        panic!("{err}")
    };
    let fields: Vec<&str> = problems.iter().filter_map(|p| p.field.as_deref()).collect();
    for f in [
        "clusters[0].mesh.version",
        "clusters[0].services[0].ports[0].port",
        "clusters[0].services[0].ports[1].port",
        "clusters[0].services[0].ports[1].protocol",
        "clusters[0].services[0].ports[0].name",
        "clusters[0].services[1].name",
        "clusters[1].name",
        "virtualMeshes[0].meshes[0]",
    ] {
        assert!(fields.contains(&f), "{f} missing in {fields:?}");
    }
    assert!(
        err.to_string().contains("invalid Istio version \"banana\""),
        "{err}"
    );
    assert!(problems.iter().all(|p| p.position.is_some()));
}

#[test]
fn documented_topology_example_loads() {
    // The example in docs/translation.md, "Topology file".
    let readme = include_str!("../../../../../docs/translation.md");
    let section = readme
        .split("## Topology file")
        .nth(1)
        .expect("docs/translation.md has a Topology file section");
    let yaml = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("yaml block");
    let t = Topology::parse_bytes("docs/translation.md", yaml.as_bytes())
        .expect("the documented example is valid");
    assert_eq!(t.clusters.len(), 2);
    assert_eq!(t.virtual_meshes.len(), 1);
}

#[test]
fn mesh_in_two_virtual_meshes() {
    let t = "clusters:\n- name: a\n  mesh: {version: 1.8.0}\nvirtualMeshes:\n- {name: one, meshes: [istiod-istio-system-a]}\n- {name: two, meshes: [istiod-istio-system-a]}\n";
    let err = Topology::parse_bytes("t.yaml", t.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("Includes a Mesh (istiod-istio-system-a.service-mesh-hub) that already is grouped in a VirtualMesh (one.service-mesh-hub)"), "{err}");
}

#[test]
fn versions() {
    assert_eq!(
        IstioVersion::parse("1.24.2"),
        Ok(IstioVersion {
            major: 1,
            minor: 24,
            patch: 2
        })
    );
    assert_eq!(
        IstioVersion::parse("v1.8"),
        Ok(IstioVersion {
            major: 1,
            minor: 8,
            patch: 0
        })
    );
    assert_eq!(
        IstioVersion::parse("1.25.0-beta.1").map(|v| v.minor),
        Ok(25)
    );
    for bad in ["", "1", "1.x", "2.0.0", "1.2.3.4", "latest"] {
        assert!(IstioVersion::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn service_scopes_follow_istiods_matching() {
    let yaml = r#"
clusters:
- name: c
  mesh:
    version: 1.28.1
    ambient: true
    ambientMultiNetwork: true
    network: net-a
    serviceScopes:
    - namespaceSelector: {matchLabels: {tier: shared}}
      servicesSelector: {matchExpressions: [{key: app, operator: In, values: [reviews]}]}
      scope: GLOBAL
    - servicesSelector: {matchLabels: {app: ratings}}
      scope: LOCAL
    - servicesSelector: {matchExpressions: [{key: app, operator: Sideways}]}
      scope: GLOBAL
    - scope: LOCAL
  eastWestGateways:
  - {name: eastwest, namespace: istio-system, network: net-a, address: 192.0.2.1}
  services:
  - name: reviews
    namespace: bookinfo
    labels: {app: reviews}
    namespaceLabels: {tier: shared}
  - name: reviews
    namespace: other
    labels: {app: reviews}
  - name: ratings
    namespace: bookinfo
    labels: {app: ratings}
    namespaceLabels: {tier: shared}
"#;
    // A selector istiod cannot read is an error in a topology file, naming the field.
    let err = Topology::parse_bytes("t.yaml", yaml.as_bytes())
        .expect_err("invalid operator")
        .to_string();
    assert!(
        err.contains("clusters[0].mesh.serviceScopes[2].servicesSelector"),
        "{err}"
    );
    let valid = yaml.replace(
        "    - servicesSelector: {matchExpressions: [{key: app, operator: Sideways}]}\n      scope: GLOBAL\n",
        "",
    );
    let t = Topology::parse_bytes("t.yaml", valid.as_bytes()).expect("valid");
    let c = t.cluster("c").unwrap();
    let mesh = c.mesh.as_ref().unwrap();
    assert_eq!(mesh.service_scopes.len(), 3);
    assert_eq!(mesh.network.as_deref(), Some("net-a"));
    assert_eq!(c.east_west_gateways[0].address, "192.0.2.1");
    // Both selectors must match; a LOCAL entry makes nothing global.
    let svc = |name: &str, ns: &str| c.service(name, ns).unwrap();
    assert_eq!(mesh.scope_of(svc("reviews", "bookinfo")), Scope::Global);
    assert_eq!(mesh.scope_of(svc("reviews", "other")), Scope::Local);
    assert_eq!(mesh.scope_of(svc("ratings", "bookinfo")), Scope::Local);
    // An entry without selectors selects every Service.
    let mut all = mesh.clone();
    all.service_scopes = vec![ServiceScope {
        namespace_selector: None,
        services_selector: None,
        scope: Scope::Global,
    }];
    assert!(c.services.iter().all(|s| all.scope_of(s) == Scope::Global));
    // No entries: local (Istio's default).
    assert_eq!(
        Mesh::default_istio().scope_of(svc("reviews", "bookinfo")),
        Scope::Local
    );
}
