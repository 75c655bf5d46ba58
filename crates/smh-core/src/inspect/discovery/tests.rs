//! Unit tests of `inspect::discovery`, moved out of `discovery.rs` to keep each file short.

use k8s_openapi::api::apps::v1::DeploymentSpec;
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, GroupVersionForDiscovery, ObjectMeta,
};
use kube_core::{ApiResource, GroupVersionKind};

use super::*;
use crate::inspect::names::{ClusterName, ContextName};
use crate::inspect::target::MappingSource;

fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    if pairs.is_empty() {
        return None;
    }
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn meta(ns: &str, name: &str, l: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(ns.into()),
        labels: labels(l),
        ..Default::default()
    }
}

fn container(name: &str, image: &str) -> Container {
    Container {
        name: name.into(),
        image: Some(image.into()),
        ..Default::default()
    }
}

fn mk_deploy(ns: &str, name: &str, l: &[(&str, &str)], image: &str) -> Deployment {
    Deployment {
        metadata: meta(ns, name, l),
        spec: Some(DeploymentSpec {
            template: PodTemplateSpec {
                metadata: None,
                spec: Some(PodSpec {
                    containers: vec![container("discovery", image)],
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    }
}

fn mk_service(ns: &str, name: &str, selector: &[(&str, &str)], port: i32) -> Service {
    Service {
        metadata: meta(ns, name, &[("app", name), ("service", name)]),
        spec: Some(ServiceSpec {
            selector: labels(selector),
            ports: Some(vec![k8s_openapi::api::core::v1::ServicePort {
                name: Some("http".into()),
                port,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    }
}

fn mk_pod(ns: &str, name: &str, l: &[(&str, &str)], sidecar: bool) -> Pod {
    let mut containers = vec![container(name, "docker.io/istio/examples-bookinfo:1.16")];
    if sidecar {
        containers.push(container("istio-proxy", "docker.io/istio/proxyv2:1.24.2"));
    }
    Pod {
        metadata: meta(ns, name, l),
        spec: Some(PodSpec {
            containers,
            ..Default::default()
        }),
        status: None,
    }
}

fn mk_cm(ns: &str, name: &str, key: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: meta(ns, name, &[]),
        data: Some([(key.to_string(), value.to_string())].into()),
        ..Default::default()
    }
}

fn mk_se(ns: &str, name: &str, hosts: &[&str], l: &[(&str, &str)]) -> DynamicObject {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(ISTIO_GROUP, "v1", "ServiceEntry"),
        "serviceentries",
    );
    let mut o = DynamicObject::new(name, &ar).within(ns);
    o.metadata.labels = labels(l);
    o.data = serde_json::json!({"spec": {"hosts": hosts}});
    o
}

fn groups(gs: &[(&str, &str)]) -> APIGroupList {
    APIGroupList {
        groups: gs
            .iter()
            .map(|(g, v)| APIGroup {
                name: g.to_string(),
                preferred_version: Some(GroupVersionForDiscovery {
                    group_version: format!("{g}/{v}"),
                    version: v.to_string(),
                }),
                server_address_by_client_cidrs: None,
                versions: vec![],
            })
            .collect(),
    }
}

fn target(name: &str) -> ClusterTarget {
    ClusterTarget {
        cluster: Some(ClusterName::from(name)),
        context: ContextName::from(format!("ctx-{name}").as_str()),
        server: "https://127.0.0.1:1".into(),
        mgmt: false,
        source: MappingSource::SameName,
        kubeconfig: None,
    }
}

/// SMH's mgmt-cluster: istiod 1.24.2, bookinfo with sidecars, reviews v1/v2.
fn bookinfo_mgmt() -> ClusterObjects {
    ClusterObjects {
        version: Some(Info {
            git_version: "v1.32.0".into(),
            ..Default::default()
        }),
        api_groups: Some(groups(&[
            ("apps", "v1"),
            (ISTIO_GROUP, "v1"),
            (crate::consts::SMH_GROUP, "v1alpha2"),
        ])),
        deployments: vec![
            mk_deploy(
                "bookinfo",
                "reviews-v1",
                &[("app", "reviews")],
                "docker.io/istio/examples-bookinfo-reviews-v1:1.16",
            ),
            mk_deploy(
                "istio-system",
                "istiod",
                &[("app", "istiod"), ("istio", "pilot")],
                "docker.io/istio/pilot:1.24.2-distroless",
            ),
        ],
        services: vec![
            mk_service("bookinfo", "reviews", &[("app", "reviews")], 9080),
            mk_service("bookinfo", "productpage", &[("app", "productpage")], 9080),
            mk_service("bookinfo", "no-sidecar", &[("app", "plain")], 80),
            mk_service("default", "kubernetes", &[], 443),
        ],
        pods: vec![
            mk_pod(
                "bookinfo",
                "reviews-v1-abc",
                &[("app", "reviews"), ("version", "v1")],
                true,
            ),
            mk_pod(
                "bookinfo",
                "reviews-v2-def",
                &[("app", "reviews"), ("version", "v2")],
                true,
            ),
            mk_pod(
                "bookinfo",
                "productpage-v1-xyz",
                &[("app", "productpage")],
                true,
            ),
            mk_pod("bookinfo", "plain-1", &[("app", "plain")], false),
            // Same labels, other namespace: does not back bookinfo/no-sidecar.
            mk_pod("other", "plain-2", &[("app", "plain")], true),
        ],
        ..Default::default()
    }
}

#[test]
fn bookinfo_cluster_becomes_topology() {
    let (topo, facts) = build_cluster(
        &target("mgmt-cluster"),
        &bookinfo_mgmt(),
        &DiscoveryOptions::default(),
    );
    assert_eq!(topo.name, "mgmt-cluster");
    assert_eq!(topo.context.as_deref(), Some("ctx-mgmt-cluster"));
    assert_eq!(topo.cluster_domain, "cluster.local");
    let mesh = topo.mesh.as_ref().unwrap();
    assert_eq!(
        mesh.smh_name("mgmt-cluster"),
        "istiod-istio-system-mgmt-cluster"
    );
    assert_eq!(mesh.version, "1.24.2");
    assert_eq!(mesh.root_namespace, "istio-system");
    assert_eq!(mesh.mode, MultiClusterMode::MultiPrimary);
    let summary: Vec<(String, bool)> = topo
        .services
        .iter()
        .map(|s| (format!("{}/{}", s.namespace, s.name), s.sidecar_workloads))
        .collect();
    assert_eq!(
        summary,
        [
            ("bookinfo/no-sidecar".to_string(), false),
            ("bookinfo/productpage".to_string(), true),
            ("bookinfo/reviews".to_string(), true),
            ("default/kubernetes".to_string(), false),
        ]
    );
    let reviews = topo.service("reviews", "bookinfo").unwrap();
    assert_eq!(reviews.ports[0].port, 9080);
    assert_eq!(reviews.ports[0].name, "http");
    assert_eq!(reviews.ports[0].protocol, "TCP");
    assert_eq!(
        reviews.selector.get("app").map(String::as_str),
        Some("reviews")
    );
    assert_eq!(facts.kubernetes_version, "v1.32.0");
    assert_eq!(facts.istio_api_version.as_deref(), Some("v1"));
    assert_eq!(facts.smh_api_version.as_deref(), Some("v1alpha2"));
    assert!(facts.warnings.is_empty(), "{:?}", facts.warnings);
    assert!(
        facts
            .mode
            .unwrap()
            .reason
            .contains("Istio 1.24.2 uses multi-primary")
    );
}

fn set_istiod_env(objects: &mut ClusterObjects, env: Vec<k8s_openapi::api::core::v1::EnvVar>) {
    let d = objects
        .deployments
        .iter_mut()
        .find(|d| d.metadata.name.as_deref() == Some("istiod"))
        .unwrap();
    d.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .env = Some(env);
}

#[test]
fn istio_cluster_id_from_istiod() {
    use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector};
    // No CLUSTER_ID: Istio's default, which is known (and the same in every cluster
    // installed without values.global.multiCluster.clusterName).
    let (topo, facts) = build_cluster(
        &target("mgmt-cluster"),
        &bookinfo_mgmt(),
        &DiscoveryOptions::default(),
    );
    assert_eq!(topo.mesh.unwrap().cluster_id.as_deref(), Some("Kubernetes"));
    assert!(
        facts
            .cluster_id_source
            .unwrap()
            .starts_with("Istio's default")
    );

    let mut objects = bookinfo_mgmt();
    set_istiod_env(
        &mut objects,
        vec![EnvVar {
            name: "CLUSTER_ID".into(),
            value: Some("cluster1".into()),
            value_from: None,
        }],
    );
    let (topo, facts) = build_cluster(
        &target("mgmt-cluster"),
        &objects,
        &DiscoveryOptions::default(),
    );
    assert_eq!(topo.mesh.unwrap().cluster_id.as_deref(), Some("cluster1"));
    assert_eq!(
        facts.cluster_id_source.as_deref(),
        Some("istiod's CLUSTER_ID environment variable")
    );
    assert!(facts.warnings.is_empty(), "{:?}", facts.warnings);

    // From a field reference: unknown, with a warning in multi-primary mode.
    set_istiod_env(
        &mut objects,
        vec![EnvVar {
            name: "CLUSTER_ID".into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.labels['cluster']".into(),
                    api_version: None,
                }),
                ..Default::default()
            }),
        }],
    );
    let (topo, facts) = build_cluster(
        &target("mgmt-cluster"),
        &objects,
        &DiscoveryOptions::default(),
    );
    assert_eq!(topo.mesh.unwrap().cluster_id, None);
    assert!(
        facts.cluster_id_source.unwrap().starts_with("unknown: "),
        "source"
    );
    assert_eq!(facts.warnings.len(), 1, "{:?}", facts.warnings);
    assert!(
            facts.warnings[0].contains(
                "cannot tell the Istio cluster ID of istio-system/istiod (istiod's CLUSTER_ID is set from a valueFrom reference); assuming it is mgmt-cluster"
            ),
            "{:?}",
            facts.warnings
        );
    // ... and none in global mode, where no subset selects on it.
    let global = DiscoveryOptions {
        mode_override: Some(MultiClusterMode::Global),
    };
    let (_, facts) = build_cluster(&target("mgmt-cluster"), &objects, &global);
    assert!(facts.warnings.is_empty(), "{:?}", facts.warnings);
}

#[test]
fn remote_secrets_keep_keys_and_annotation_only() {
    use k8s_openapi::ByteString;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("istio-remote-secret-remote-cluster".into()),
            namespace: Some("istio-system".into()),
            annotations: labels(&[(REMOTE_SECRET_CLUSTER_ANNOTATION, "remote-cluster")]),
            ..Default::default()
        },
        data: Some(
            [
                (
                    "cluster2".to_string(),
                    ByteString(b"kubeconfig two".to_vec()),
                ),
                (
                    "cluster10".to_string(),
                    ByteString(b"kubeconfig ten".to_vec()),
                ),
            ]
            .into(),
        ),
        ..Default::default()
    };
    let r = remote_secret(secret);
    assert_eq!(
        r,
        RemoteSecret {
            secret: "istio-system/istio-remote-secret-remote-cluster".into(),
            cluster_ids: vec!["cluster10".into(), "cluster2".into()],
            annotation: Some("remote-cluster".into()),
        }
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("kubeconfig"), "{json}");
    // Facts carry them only for a cluster with istiod.
    let mut objects = bookinfo_mgmt();
    objects.remote_secret_ids = Some(vec![r.clone()]);
    let (_, facts) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
    assert_eq!(facts.remote_secrets, Some(vec![r]));
    objects.deployments.retain(|d| !is_istiod(d));
    let (_, facts) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
    assert_eq!(facts.remote_secrets, None);
}

#[test]
fn no_istiod_means_no_mesh_and_discovery_annotation_counts() {
    let mut objects = bookinfo_mgmt();
    objects.deployments.retain(|d| !is_istiod(d));
    let mut annotated = mk_service("bookinfo", "external", &[], 80);
    annotated.metadata.annotations = labels(&[(DISCOVERY_ANNOTATION, "true")]);
    objects.services.push(annotated);
    let (topo, facts) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
    assert!(topo.mesh.is_none());
    assert!(facts.mode.is_none());
    assert!(
        topo.service("external", "bookinfo")
            .unwrap()
            .sidecar_workloads
    );
}

#[test]
fn sidecar_detection_rules() {
    let mut by_annotation = mk_pod("a", "p", &[], false);
    by_annotation.metadata.annotations = labels(&[("sidecar.istio.io/status", "{}")]);
    assert!(has_sidecar(&by_annotation));
    assert!(has_sidecar(&mk_pod("a", "p", &[], true)));
    assert!(!has_sidecar(&mk_pod("a", "p", &[], false)));
    let mut by_image = mk_pod("a", "p", &[], false);
    by_image
        .spec
        .as_mut()
        .unwrap()
        .containers
        .push(container("envoy", "gcr.io/istio-release/proxyv2:1.8.0"));
    assert!(has_sidecar(&by_image));
    let mut native = mk_pod("a", "p", &[], false);
    native.spec.as_mut().unwrap().init_containers = Some(vec![Container {
        restart_policy: Some("Always".into()),
        ..container("istio-proxy", "docker.io/istio/proxyv2:1.24.2")
    }]);
    assert!(has_sidecar(&native));
    // istio-init alone is not a sidecar
    let mut init_only = mk_pod("a", "p", &[], false);
    init_only.spec.as_mut().unwrap().init_containers = Some(vec![container(
        "istio-init",
        "docker.io/istio/proxyv2:1.24.2",
    )]);
    assert!(!has_sidecar(&init_only));
}

#[test]
fn versions_from_images() {
    for (image, want) in [
        ("docker.io/istio/pilot:1.24.2", Some("1.24.2")),
        ("docker.io/istio/pilot:1.24.2-distroless", Some("1.24.2")),
        ("gcr.io/istio-release/pilot:1.8.0", Some("1.8.0")),
        ("localhost:5000/istio/pilot:1.7.3", Some("1.7.3")),
        ("istio/pilot:v1.9.0@sha256:abcd", Some("1.9.0")),
        ("istio/pilot:1.8.0-alpha.2", Some("1.8.0-alpha.2")),
        ("istio/pilot@sha256:abcd", None),
        ("localhost:5000/istio/pilot", None),
        ("istio/pilot:latest", None),
    ] {
        assert_eq!(istio_version_from_image(image).as_deref(), want, "{image}");
    }
}

#[test]
fn unknown_version_warns_and_defaults_to_multi_primary() {
    let mut objects = bookinfo_mgmt();
    objects.deployments[1] = mk_deploy(
        "istio-system",
        "istiod",
        &[("app", "istiod")],
        "docker.io/istio/pilot@sha256:0123",
    );
    let (topo, facts) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
    let mesh = topo.mesh.unwrap();
    assert_eq!(mesh.version, DEFAULT_ISTIO_VERSION);
    assert!(facts.istio_version_assumed);
    assert_eq!(
        facts.istiod_image.as_deref(),
        Some("docker.io/istio/pilot@sha256:0123")
    );
    assert_eq!(mesh.mode, MultiClusterMode::MultiPrimary);
    assert!(facts.warnings[0].contains("cannot tell the Istio version of istio-system/istiod"));
}

#[test]
fn mode_signals_in_order() {
    let opts = DiscoveryOptions::default();
    let base = bookinfo_mgmt();

    let mut old = base.clone();
    old.deployments[1] = mk_deploy(
        "istio-system",
        "istiod",
        &[("app", "istiod")],
        "istio/pilot:1.7.3",
    );
    let d = decide_mode(&old, Some("1.7.3"), &opts);
    assert_eq!(d.mode, MultiClusterMode::Global);
    assert!(d.reason.contains("predates multi-primary"));

    let mut ses = base.clone();
    ses.service_entries = vec![mk_se(
        "istio-system",
        "reviews.bookinfo.svc.remote-cluster.global",
        &["reviews.bookinfo.svc.remote-cluster.global"],
        &[],
    )];
    let d = decide_mode(&ses, Some("1.24.2"), &opts);
    assert_eq!(d.mode, MultiClusterMode::Global);
    assert!(
        d.reason
            .contains("istio-system/reviews.bookinfo.svc.remote-cluster.global")
    );

    // Our own .global ServiceEntries (a FailoverService hostname) are not a signal.
    let mut ours = base.clone();
    ours.service_entries = vec![mk_se(
        "service-mesh-hub",
        "reviews-failover",
        &["reviews-failover.bookinfo.global"],
        &[(
            crate::consts::MANAGED_BY_LABEL,
            crate::consts::MANAGED_BY_VALUE,
        )],
    )];
    assert_eq!(
        decide_mode(&ours, Some("1.24.2"), &opts).mode,
        MultiClusterMode::MultiPrimary
    );

    // Remote secrets beat .global ServiceEntries ...
    let mut secrets = ses.clone();
    secrets.remote_secrets = vec!["istio-system/istio-remote-secret-remote-cluster".into()];
    let d = decide_mode(&secrets, Some("1.24.2"), &opts);
    assert_eq!(d.mode, MultiClusterMode::MultiPrimary);
    assert!(d.reason.contains("istio-remote-secret-remote-cluster"));

    // ... istiocoredns beats remote secrets ...
    let mut coredns = secrets.clone();
    coredns.deployments.push(mk_deploy(
        "istio-system",
        "istiocoredns",
        &[("app", "istiocoredns")],
        "coredns/coredns:1.6.2",
    ));
    let d = decide_mode(&coredns, Some("1.24.2"), &opts);
    assert_eq!(d.mode, MultiClusterMode::Global);
    assert_eq!(
        d.reason,
        "istiocoredns Deployment istio-system/istiocoredns serves .global names"
    );

    // ... and --istio-mode beats everything.
    let forced = DiscoveryOptions {
        mode_override: Some(MultiClusterMode::MultiPrimary),
    };
    let d = decide_mode(&coredns, Some("1.24.2"), &forced);
    assert_eq!(
        d,
        ModeDecision {
            mode: MultiClusterMode::MultiPrimary,
            reason: "set by --istio-mode".into()
        }
    );
}

#[test]
fn revisions_root_namespace_and_cluster_domain() {
    let mut objects = bookinfo_mgmt();
    objects.deployments.push(mk_deploy(
        "istio-system",
        "istiod-1-23",
        &[("app", "istiod"), ("istio.io/rev", "1-23")],
        "istio/pilot:1.23.0",
    ));
    objects.config_maps = vec![
        mk_cm(
            "istio-system",
            "istio",
            "mesh",
            "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\nrootNamespace: istio-config\ntrustDomain: cluster.local\n",
        ),
        mk_cm(
            "istio-system",
            "istio-sidecar-injector",
            "values",
            r#"{"global":{"proxy":{"clusterDomain":"corp.example"}}}"#,
        ),
        mk_cm(
            "istio-system",
            "istio-1-23",
            "mesh",
            "rootNamespace: wrong\n",
        ),
    ];
    let (topo, facts) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
    let mesh = topo.mesh.unwrap();
    assert_eq!(mesh.istiod_name, "istiod");
    assert_eq!(mesh.root_namespace, "istio-config");
    assert_eq!(topo.cluster_domain, "corp.example");
    assert_eq!(
        facts.cluster_domain_source,
        "global.proxy.clusterDomain in ConfigMap istio-system/istio-sidecar-injector"
    );
    assert_eq!(
        facts.warnings,
        [
            "several istiod Deployments: using istio-system/istiod, ignoring istio-system/istiod-1-23"
        ]
    );

    // Only a revisioned istiod: its own ConfigMaps are read.
    objects
        .deployments
        .retain(|d| d.metadata.name.as_deref() != Some("istiod"));
    let (topo, _) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
    let mesh = topo.mesh.unwrap();
    assert_eq!(mesh.istiod_name, "istiod-1-23");
    assert_eq!(mesh.version, "1.23.0");
    assert_eq!(mesh.root_namespace, "wrong");
    assert_eq!(topo.cluster_domain, "cluster.local");

    // A broken mesh config is a warning, not a failure.
    objects.config_maps = vec![mk_cm(
        "istio-system",
        "istio-1-23",
        "mesh",
        "rootNamespace: [\n",
    )];
    let (topo, facts) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
    assert_eq!(topo.mesh.unwrap().root_namespace, "istio-system");
    assert!(facts.warnings.iter().any(|w| {
        w.contains("cannot read the mesh config in ConfigMap istio-system/istio-1-23")
    }));
}

#[test]
fn ambient_multicluster_settings_from_istiod_its_namespace_and_the_mesh_config() {
    use crate::model::topology::Scope;
    use k8s_openapi::api::apps::v1::DaemonSet;
    use k8s_openapi::api::core::v1::{EnvVar, Namespace};
    let mut objects = bookinfo_mgmt();
    // Without ztunnel nothing ambient is read, and namespace labels are not kept.
    let (topo, _) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
    let mesh = topo.mesh.as_ref().unwrap();
    assert!(!mesh.ambient && !mesh.ambient_multi_network);
    assert_eq!(mesh.network, None);
    assert!(mesh.service_scopes.is_empty());
    assert!(topo.services.iter().all(|s| s.namespace_labels.is_empty()));

    objects.daemon_sets = vec![DaemonSet {
        metadata: meta("istio-system", "ztunnel", &[("app", "ztunnel")]),
        ..Default::default()
    }];
    let ns = |name: &str, l: &[(&str, &str)]| {
        let mut metadata = meta("", name, l);
        metadata.namespace = None;
        Namespace {
            metadata,
            ..Default::default()
        }
    };
    objects.namespaces = vec![
        ns("istio-system", &[("topology.istio.io/network", "net-east")]),
        ns("bookinfo", &[("team", "books")]),
    ];
    set_istiod_env(
        &mut objects,
        vec![EnvVar {
            name: "AMBIENT_ENABLE_MULTI_NETWORK".into(),
            value: Some("true".into()),
            ..Default::default()
        }],
    );
    objects.config_maps = vec![mk_cm(
        "istio-system",
        "istio",
        "mesh",
        "serviceScopeConfigs:\n- servicesSelector:\n    matchExpressions:\n    - key: istio.io/global\n      operator: In\n      values: [\"true\"]\n  scope: GLOBAL\n- namespaceSelector: {matchLabels: {team: books}}\n  scope: SOMETIMES\n",
    )];
    let (topo, facts) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
    let mesh = topo.mesh.as_ref().unwrap();
    assert!(mesh.ambient && mesh.ambient_multi_network);
    assert_eq!(mesh.network.as_deref(), Some("net-east"));
    // The entry with an unknown scope is left out, with a warning.
    assert_eq!(mesh.service_scopes.len(), 1);
    assert!(
        facts
            .warnings
            .iter()
            .any(|w| w.contains("cannot read serviceScopeConfigs[1]")
                && w.contains("istio-system/istio")),
        "{:?}",
        facts.warnings
    );
    let reviews = topo.service("reviews", "bookinfo").unwrap();
    assert_eq!(
        reviews.namespace_labels.get("team").map(String::as_str),
        Some("books")
    );
    assert_eq!(mesh.scope_of(reviews), Scope::Local);
    let mut global = reviews.clone();
    global
        .labels
        .insert("istio.io/global".into(), "true".into());
    assert_eq!(mesh.scope_of(&global), Scope::Global);

    // Go's ParseBool values count as true; anything else, or a valueFrom, does not.
    for (value, on) in [
        ("1", true),
        ("True", true),
        ("yes", false),
        ("false", false),
    ] {
        set_istiod_env(
            &mut objects,
            vec![EnvVar {
                name: "AMBIENT_ENABLE_MULTI_NETWORK".into(),
                value: Some(value.into()),
                ..Default::default()
            }],
        );
        let (topo, _) = build_cluster(&target("c"), &objects, &DiscoveryOptions::default());
        assert_eq!(topo.mesh.unwrap().ambient_multi_network, on, "{value}");
    }
}
