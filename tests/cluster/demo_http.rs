//! `discover` over HTTP against the simulated demo clusters (`crates/smh-sim`: API servers on
//! 127.0.0.1 with simworld's bookinfo world), through a kubeconfig the fleet writes, and the
//! errors when a cluster stops answering or fails requests (the simulator's fault knobs).

use std::path::Path;
use std::time::Duration;

use smh_cluster::discovery::{DiscoveryResult, discover};
use smh_cluster::{ClusterError, ClusterName, Contexts, KubeconfigOrigin, KubeconfigSet, Registry};
use smh_core::inspect::discovery::DiscoveryOptions;
use smh_core::model::topology::MultiClusterMode;
use smh_sim::faults::{ErrorKind, Unreachable};
use smh_sim::fleet::{FleetOptions, SimFleet, StartHook, ambient_bookinfo_world, bookinfo_world};

async fn fleet(mode: MultiClusterMode) -> SimFleet {
    fleet_with(bookinfo_world(mode, "1.24.2")).await
}

async fn fleet_with(world: StartHook) -> SimFleet {
    let mut opts = FleetOptions::demo();
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = Duration::from_millis(50);
    }
    opts.hooks.push(world);
    let fleet = SimFleet::start(opts)
        .await
        .expect("the demo clusters start");
    fleet
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("the demo clusters become ready");
    fleet
}

fn contexts(fleet: &SimFleet, dir: &Path, timeout: Duration) -> Contexts {
    let path = dir.join("kubeconfig.yaml");
    fleet.write_kubeconfig(&path).expect("kubeconfig written");
    Contexts::new(
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(path)).unwrap(),
        Default::default(),
        Registry::empty(dir.join("clusters.yaml")),
        None,
        timeout,
    )
    // What a failing cluster looks like, not the retries (tests/cluster/retry.rs): one
    // attempt, so that the error is the fault's own.
    .with_retry(smh_cluster::retry::RetryOptions {
        retry_timeout: Duration::ZERO,
        ..Default::default()
    })
}

fn names() -> Vec<ClusterName> {
    vec!["mgmt-cluster".into(), "remote-cluster".into()]
}

fn backed(r: &DiscoveryResult, cluster: &str) -> Vec<String> {
    r.topology
        .cluster(cluster)
        .map(|c| {
            c.services
                .iter()
                .filter(|s| s.namespace == "bookinfo" && s.sidecar_workloads)
                .map(|s| s.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

async fn discover_demo(mode: MultiClusterMode) {
    let fleet = fleet(mode).await;
    let dir = tempfile::tempdir().unwrap();
    let contexts = contexts(&fleet, dir.path(), Duration::from_secs(10));
    let targets = contexts.describe_targets(&names(), true).unwrap();
    assert_eq!(targets.len(), 2);
    assert!(targets[0].mgmt && targets[0].cluster == Some("mgmt-cluster".into()));
    let clients = contexts.clients(&targets).await.unwrap();
    // The fleet is ready (bookinfo rolled out): one discovery sees everything.
    let result = discover(&clients, &DiscoveryOptions::default()).await;
    assert!(
        result.per_cluster_errors.is_empty(),
        "{:?}",
        result.per_cluster_errors
    );
    assert_eq!(
        backed(&result, "mgmt-cluster"),
        ["details", "productpage", "ratings", "reviews"]
    );
    assert_eq!(backed(&result, "remote-cluster"), ["ratings", "reviews"]);
    for name in ["mgmt-cluster", "remote-cluster"] {
        let c = result.topology.cluster(name).unwrap();
        assert_eq!(c.context.as_deref(), Some(name));
        let mesh = c.mesh.as_ref().unwrap();
        assert_eq!(mesh.smh_name(name), format!("istiod-istio-system-{name}"));
        assert_eq!(
            (mesh.version.as_str(), mesh.root_namespace.as_str()),
            ("1.24.2", "istio-system")
        );
        assert_eq!(mesh.mode, mode);
        let facts = &result.facts[&ClusterName::from(name)];
        assert!(facts.warnings.is_empty(), "{name}: {:?}", facts.warnings);
        assert!(facts.istio_api_version.is_some());
        assert_eq!(facts.smh_api_version.is_some(), name == "mgmt-cluster");
    }
    assert_eq!(result.topology.check(), Vec::<(String, String)>::new());
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_the_demo_clusters_in_global_mode() {
    discover_demo(MultiClusterMode::Global).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_the_demo_clusters_in_multi_primary_mode() {
    discover_demo(MultiClusterMode::MultiPrimary).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_cluster_that_stops_answering_or_fails_is_reported_and_the_other_is_kept() {
    let fleet = fleet(MultiClusterMode::Global).await;
    let dir = tempfile::tempdir().unwrap();
    // Long enough for mgmt-cluster's answers on a machine with every core busy (500 ms was
    // not: mgmt-cluster timed out too); remote-cluster's hang costs it once.
    let contexts = contexts(&fleet, dir.path(), Duration::from_secs(3));
    let targets = contexts.describe_targets(&names(), true).unwrap();
    let clients = contexts.clients(&targets).await.unwrap();
    let remote = fleet.cluster("remote-cluster").unwrap();

    remote.faults().set_unreachable(Some(Unreachable::Hang));
    let r = discover(&clients, &DiscoveryOptions::default()).await;
    let names: Vec<&str> = r
        .topology
        .clusters
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["mgmt-cluster"], "{:?}", r.per_cluster_errors);
    let e = &r.per_cluster_errors[&ClusterName::from("remote-cluster")];
    assert!(matches!(e, ClusterError::Timeout { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "cluster remote-cluster (context remote-cluster, {}) did not answer within 3s; check the \
             context or raise --request-timeout",
            remote.url()
        )
    );

    remote.faults().clear();
    remote.faults().set_error_rate(ErrorKind::Internal, 1.0);
    let r = discover(&clients, &DiscoveryOptions::default()).await;
    let e = &r.per_cluster_errors[&ClusterName::from("remote-cluster")];
    assert!(matches!(e, ClusterError::Server { code: 500, .. }), "{e:?}");
    assert!(e.to_string().contains("the API server answered 500"), "{e}");
    assert!(r.topology.cluster("mgmt-cluster").is_some());

    // A re-run after the cluster recovers sees it again.
    remote.faults().clear();
    let r = discover(&clients, &DiscoveryOptions::default()).await;
    assert!(
        r.per_cluster_errors.is_empty(),
        "{:?}",
        r.per_cluster_errors
    );
    assert_eq!(r.topology.clusters.len(), 2);
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_and_cluster_list_on_the_demo_clusters() {
    let fleet = fleet(MultiClusterMode::Global).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig.yaml");
    fleet.write_kubeconfig(&kc).unwrap();
    let reg = dir.path().join("clusters.yaml");
    let mgmt = fleet.cluster("mgmt-cluster").unwrap().url();
    let remote = fleet.cluster("remote-cluster").unwrap().url();
    let run = |args: &'static [&'static str]| {
        let (kc, reg) = (kc.clone(), reg.clone());
        tokio::task::spawn_blocking(move || {
            assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
                .env("KUBECONFIG", &kc)
                .env("KUBECTL_SMH_CONFIG", &reg)
                .args(args)
                .output()
                .unwrap()
        })
    };
    let out = run(&["version", "--cluster", "remote-cluster=remote-cluster"])
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[1].starts_with("Server Version: v1."), "{stdout}");
    assert!(
        lines[1].ends_with(&format!(
            "(mgmt-cluster, management; context mgmt-cluster, {mgmt})"
        )),
        "{stdout}"
    );
    assert!(
        lines[2].ends_with(&format!(
            "(remote-cluster; context remote-cluster, {remote})"
        )),
        "{stdout}"
    );

    let out = run(&["cluster", "list"]).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains(&format!(
            "mgmt-cluster     mgmt-cluster     {mgmt}   same-name"
        )),
        "{stdout}"
    );
    fleet.shutdown().await;
}

/// Ambient mode over HTTP: the Namespaces and istiod's DaemonSets are listed, so a
/// namespace labelled `istio.io/dataplane-mode=ambient` with a sidecar-less Pod behind a
/// Service makes the Service ambient (with the waypoint its label names), and a `ztunnel`
/// DaemonSet makes the mesh ambient. (These clusters are not `demo up --ambient`'s: they
/// serve no Gateway API, so no waypoint is found: the Service's waypoint reference stays,
/// and the translation would report it missing.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_reads_ambient_namespaces_pods_and_ztunnel_over_http() {
    use serde_json::json;
    use smh_sim::store::Gvr;
    let fleet = fleet(MultiClusterMode::MultiPrimary).await;
    let store = fleet.cluster("mgmt-cluster").unwrap().store();
    let create = |gvr: Gvr, obj: serde_json::Value| {
        store.create(&gvr, obj).expect("seeded");
    };
    create(
        Gvr::new("", "v1", "namespaces"),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "amb", "labels": {"istio.io/dataplane-mode": "ambient"}}}),
    );
    create(
        Gvr::new("apps", "v1", "daemonsets"),
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ztunnel", "namespace": "istio-system"},
               "spec": {"selector": {"matchLabels": {"app": "ztunnel"}}, "template": {"metadata": {"labels": {"app": "ztunnel"}}, "spec": {"containers": [{"name": "istio-proxy", "image": "istio/ztunnel:1.24.2"}]}}}}),
    );
    create(
        Gvr::new("", "v1", "pods"),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "amb", "labels": {"app": "web"}},
               "spec": {"containers": [{"name": "web", "image": "web:1"}]}}),
    );
    create(
        Gvr::new("", "v1", "services"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "amb", "labels": {"istio.io/use-waypoint": "waypoint"}},
               "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 8080}]}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let contexts = contexts(&fleet, dir.path(), Duration::from_secs(10));
    let targets = contexts.describe_targets(&names(), true).unwrap();
    let clients = contexts.clients(&targets).await.unwrap();
    let result = discover(&clients, &DiscoveryOptions::default()).await;
    assert!(result.per_cluster_errors.is_empty());
    let mgmt = result.topology.cluster("mgmt-cluster").unwrap();
    assert!(mgmt.mesh.as_ref().unwrap().ambient);
    let web = mgmt.service("web", "amb").unwrap();
    assert!(!web.sidecar_workloads);
    assert_eq!(
        web.ambient
            .as_ref()
            .and_then(|a| a.waypoint.as_ref())
            .map(|w| w.to_string()),
        Some("amb/waypoint".to_string())
    );
    // The sidecar workloads of bookinfo are not ambient, and remote-cluster runs no ztunnel.
    assert!(
        mgmt.service("reviews", "bookinfo")
            .unwrap()
            .ambient
            .is_none()
    );
    let remote = result.topology.cluster("remote-cluster").unwrap();
    assert!(!remote.mesh.as_ref().unwrap().ambient);
    fleet.shutdown().await;
}

/// The clusters of `demo up --ambient`, discovered over HTTP as on a real ambient install:
/// both meshes ambient (ztunnel), every bookinfo Service ambient without sidecars and using
/// the waypoint bookinfo/waypoint, which discovery finds through the Gateway API the
/// clusters serve, ready, taking Service traffic from every namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_reads_the_ambient_demo_with_its_waypoints_over_http() {
    let fleet = fleet_with(ambient_bookinfo_world(
        smh_sim::world::ambient::AMBIENT_ISTIO_VERSION,
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let contexts = contexts(&fleet, dir.path(), Duration::from_secs(10));
    let targets = contexts.describe_targets(&names(), true).unwrap();
    let clients = contexts.clients(&targets).await.unwrap();
    let result = discover(&clients, &DiscoveryOptions::default()).await;
    assert!(result.per_cluster_errors.is_empty());
    for (cluster, services) in [
        (
            "mgmt-cluster",
            &["details", "productpage", "ratings", "reviews"][..],
        ),
        ("remote-cluster", &["ratings", "reviews"]),
    ] {
        let c = result.topology.cluster(cluster).unwrap();
        let mesh = c.mesh.as_ref().unwrap();
        assert!(mesh.ambient, "{cluster}");
        assert_eq!(mesh.mode, MultiClusterMode::MultiPrimary, "{cluster}");
        // Istio's ambient multicluster install: 1.27 or later, the switch on, each cluster
        // on its own network with an east-west gateway into it.
        assert_eq!(mesh.version, "1.28.1", "{cluster}");
        assert!(mesh.ambient_multi_network, "{cluster}");
        let network = if cluster == "mgmt-cluster" {
            "network1"
        } else {
            "network2"
        };
        assert_eq!(mesh.network.as_deref(), Some(network), "{cluster}");
        let gateways: Vec<(String, String, String)> = c
            .east_west_gateways
            .iter()
            .map(|g| {
                (
                    format!("{}/{}", g.namespace, g.name),
                    g.network.clone(),
                    g.address.clone(),
                )
            })
            .collect();
        assert_eq!(gateways.len(), 1, "{cluster}: {gateways:?}");
        assert_eq!(
            (gateways[0].0.as_str(), gateways[0].1.as_str()),
            ("istio-system/istio-eastwestgateway", network),
            "{cluster}"
        );
        assert!(gateways[0].2.starts_with("172.18."), "{gateways:?}");
        for name in services {
            let s = c.service(name, "bookinfo").unwrap();
            assert!(!s.sidecar_workloads, "{cluster} {name}");
            assert_eq!(
                mesh.scope_of(s),
                smh_core::model::topology::Scope::Global,
                "{cluster} {name}"
            );
            assert_eq!(
                s.ambient
                    .as_ref()
                    .and_then(|a| a.waypoint.as_ref())
                    .map(|w| w.to_string()),
                Some("bookinfo/waypoint".to_string()),
                "{cluster} {name}"
            );
        }
        let w: Vec<(String, String, Vec<String>)> = c
            .waypoints
            .iter()
            .map(|w| {
                (
                    format!("{}/{}", w.namespace, w.name),
                    w.waypoint_for.clone(),
                    w.allowed_namespaces.clone(),
                )
            })
            .collect();
        assert_eq!(
            w,
            vec![(
                "bookinfo/waypoint".into(),
                "service".into(),
                vec!["*".into()]
            )],
            "{cluster}"
        );
    }
    fleet.shutdown().await;
}
