//! The simulated clusters' insides, in process: two clusters seeded as the guide's
//! prerequisites leave them, controllers and workloads running, bookinfo answering over
//! loopback, and the guide's failover drill played against the Istio objects kubectl-smh
//! generates (the objects SMH generated for the guide), in both multi-cluster modes.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use smh_core::drill::Class;
use smh_core::drill::classify::{Answer, Classifier};
use smh_core::model::topology::MultiClusterMode;
use smh_sim::net::PodNetwork;
use smh_sim::store::{Gvr, Store};
use smh_sim::world::workload::http::{OutboundRequest, fetch};
use smh_sim::world::{self, WorldHandle, WorldOptions};

const READINESS: Duration = Duration::from_millis(150);

fn deployments() -> Gvr {
    Gvr::new("apps", "v1", "deployments")
}
fn pods() -> Gvr {
    Gvr::new("", "v1", "pods")
}
fn istio(plural: &str, version: &str) -> Gvr {
    Gvr::new("networking.istio.io", version, plural)
}

struct Cluster {
    store: Arc<Store>,
    net: Arc<PodNetwork>,
    _handle: WorldHandle,
}

fn start(mode: MultiClusterMode) -> (Cluster, Cluster) {
    let fleet = world::Fleet::new();
    let opts = WorldOptions::demo(mode, "1.24.2", READINESS);
    let mut clusters: Vec<Cluster> = opts
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let store = Arc::new(Store::new());
            let net = Arc::new(PodNetwork::new(i as u8 + 1));
            world::seed(&store, o).expect("seed");
            let handle = world::spawn(store.clone(), net.clone(), fleet.clone(), o);
            Cluster {
                store,
                net,
                _handle: handle,
            }
        })
        .collect();
    let remote = clusters.pop().unwrap();
    let mgmt = clusters.pop().unwrap();
    (mgmt, remote)
}

/// Waits until the cluster is ready: every Deployment available, every Service's Endpoints
/// listing its pods (the simulator's one readiness check, `smh_sim::ready`).
async fn wait_ready(c: &Cluster) {
    smh_sim::ready::wait(
        &[("cluster".to_string(), c.store.clone())],
        Duration::from_secs(20),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}

/// What the productpage shows for the reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stars {
    None,
    Black,
    Red,
    Error,
}

fn classify(html: &str) -> Stars {
    if html.contains("Error fetching product reviews") {
        Stars::Error
    } else if html.contains("<font color=\"red\">") {
        Stars::Red
    } else if html.contains("<font color=\"black\">") {
        Stars::Black
    } else {
        Stars::None
    }
}

async fn productpage(c: &Cluster) -> (Stars, String) {
    let (ps, _) = c.store.list(&pods(), Some("bookinfo"));
    let pod = ps
        .iter()
        .find(|p| {
            p["metadata"]["labels"]["app"] == "productpage" && p["status"]["phase"] == "Running"
        })
        .expect("a running productpage pod");
    let ip = pod["status"]["podIP"].as_str().unwrap();
    let addr = c
        .net
        .resolve(ip, 9080)
        .expect("productpage listens on 9080");
    let resp = fetch(
        addr,
        &OutboundRequest::get(&format!("{ip}:9080"), "/productpage"),
        Some(Duration::from_secs(10)),
    )
    .await
    .expect("productpage answers");
    assert_eq!(resp.status, 200);
    let body = resp.body_text();
    let stars = classify(&body);
    // The drill's own classifier reads the simulated page the same way.
    let drill_class = Classifier::bookinfo()
        .classify(Answer::Http {
            status: resp.status,
            body: &body,
        })
        .class;
    let expected = match stars {
        Stars::None | Stars::Black => Class::Primary,
        Stars::Red => Class::FailedOver,
        Stars::Error => Class::Error,
    };
    assert_eq!(drill_class, expected, "{stars:?}: {body}");
    (stars, body)
}

fn set_command(c: &Cluster, deploy: &str, command: Option<Value>) {
    let mut d = c.store.get(&deployments(), "bookinfo", deploy).unwrap();
    let container = &mut d["spec"]["template"]["spec"]["containers"][0];
    match command {
        Some(cmd) => container["command"] = cmd,
        None => {
            container.as_object_mut().unwrap().remove("command");
        }
    }
    c.store.update(&deployments(), d).unwrap();
}

fn owner_labels(cluster: &str) -> Value {
    json!({"owner.networking.smh.solo.io": "service-mesh-hub",
           "cluster.multicluster.solo.io": cluster,
           "app.kubernetes.io/managed-by": "kubectl-smh"})
}

fn outlier() -> Value {
    // The guide's consecutiveErrors 1 with SMH's defaults, but short times for the test.
    json!({"consecutive5xxErrors": 1, "interval": "1s", "baseEjectionTime": "3s", "maxEjectionPercent": 100})
}

fn failover_objects(store: &Store, sub_clusters: [&str; 2]) {
    let name = "outbound|9080||reviews-failover.bookinfo.global";
    store
        .create(
            &istio("serviceentries", "v1alpha3"),
            json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "ServiceEntry",
                   "metadata": {"name": "reviews-failover", "namespace": "service-mesh-hub", "labels": owner_labels("mgmt-cluster")},
                   "spec": {"hosts": ["reviews-failover.bookinfo.global"], "addresses": ["240.76.63.152"],
                            "ports": [{"number": 9080, "name": "http", "protocol": "http"}],
                            "location": "MESH_INTERNAL", "resolution": "DNS"}}),
        )
        .unwrap();
    store
        .create(
            &istio("envoyfilters", "v1alpha3"),
            json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
                   "metadata": {"name": "reviews-failover", "namespace": "istio-system", "labels": owner_labels("mgmt-cluster")},
                   "spec": {"configPatches": [
                       {"applyTo": "CLUSTER", "match": {"cluster": {"name": name}}, "patch": {"operation": "REMOVE"}},
                       {"applyTo": "CLUSTER", "match": {"cluster": {"name": name}}, "patch": {"operation": "ADD", "value": {
                           "name": name, "connect_timeout": "1s", "lb_policy": "CLUSTER_PROVIDED",
                           "cluster_type": {"name": "envoy.clusters.aggregate", "typed_config": {
                               "@type": "type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig",
                               "clusters": sub_clusters}}}}}]}}),
        )
        .unwrap();
    store
        .create(
            &istio("virtualservices", "v1alpha3"),
            json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
                   "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": owner_labels("mgmt-cluster")},
                   "spec": {"hosts": ["reviews.bookinfo.svc.cluster.local"],
                            "http": [{"route": [{"destination": {"host": "reviews-failover.bookinfo.global", "port": {"number": 9080}}}]}]}}),
        )
        .unwrap();
}

/// The drill: break reviews-v1 and v2 with the guide's `sleep 20h`, see red stars; restore,
/// see the primary again. Returns the answers seen while failing over.
async fn drill(mgmt: &Cluster) -> Vec<Stars> {
    for d in ["reviews-v1", "reviews-v2"] {
        set_command(mgmt, d, Some(json!(["sleep", "20h"])));
    }
    wait_ready(mgmt).await;
    // The sleeping pods run and are Ready, but nothing listens.
    let (ps, _) = mgmt.store.list(&pods(), Some("bookinfo"));
    for p in ps
        .iter()
        .filter(|p| p["metadata"]["labels"]["app"] == "reviews")
    {
        assert_eq!(p["status"]["phase"], "Running");
        let ip = p["status"]["podIP"].as_str().unwrap();
        assert!(
            mgmt.net.resolve(ip, 9080).is_none(),
            "a sleeping pod must not listen"
        );
    }
    let mut seen = Vec::new();
    let start = Instant::now();
    loop {
        let (s, _) = productpage(mgmt).await;
        if s == Stars::Red && !seen.contains(&Stars::Red) {
            eprintln!(
                "first red stars {:?} after the break rolled out",
                start.elapsed()
            );
        }
        seen.push(s);
        if seen.len() >= 5 && seen[seen.len() - 5..].iter().all(|s| *s == Stars::Red) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no failover: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, html) = productpage(mgmt).await;
    assert!(
        html.contains("remote-cluster"),
        "reviews-v3 answered from the remote cluster"
    );
    for d in ["reviews-v1", "reviews-v2"] {
        set_command(mgmt, d, None);
    }
    wait_ready(mgmt).await;
    let start = Instant::now();
    loop {
        let (s, _) = productpage(mgmt).await;
        if matches!(s, Stars::None | Stars::Black) {
            eprintln!(
                "failed back {:?} after the restore rolled out",
                start.elapsed()
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "no failback");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Restored pods are new hosts (new pod IPs), so the primary is back at once, without
    // waiting out the ejection of the sleeping pods.
    let mut back = std::collections::HashSet::new();
    for _ in 0..8 {
        back.insert(productpage(mgmt).await.0);
    }
    assert!(!back.contains(&Stars::Red), "{back:?}");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_mode_bookinfo_and_the_failover_drill() {
    let (mgmt, remote) = start(MultiClusterMode::Global);
    wait_ready(&mgmt).await;
    wait_ready(&remote).await;

    // Injected pods, as discovery sees them.
    let (ps, _) = mgmt.store.list(&pods(), Some("bookinfo"));
    assert_eq!(ps.len(), 5);
    for p in &ps {
        assert!(p["metadata"]["annotations"]["sidecar.istio.io/status"].is_string());
        assert!(
            p["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "istio-proxy")
        );
    }

    // Plain round-robin over the local reviews: no stars and black stars, never red.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..8 {
        seen.insert(productpage(&mgmt).await.0);
    }
    assert_eq!(
        seen,
        [Stars::None, Stars::Black].into_iter().collect(),
        "v1 and v2 alternate"
    );

    // The objects kubectl-smh generates for the guide (those SMH generated).
    mgmt.store
        .create(
            &istio("destinationrules", "v1alpha3"),
            json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
                   "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": owner_labels("mgmt-cluster")},
                   "spec": {"host": "reviews.bookinfo.svc.cluster.local",
                            "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}, "outlierDetection": outlier()}}}),
        )
        .unwrap();
    mgmt.store
        .create(
            &istio("destinationrules", "v1alpha3"),
            json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
                   "metadata": {"name": "reviews-bookinfo-remote-cluster", "namespace": "istio-system",
                                "labels": owner_labels("mgmt-cluster"),
                                "annotations": {"federation.networking.smh.solo.io": "reviews.bookinfo.remote-cluster"}},
                   "spec": {"host": "reviews.bookinfo.svc.remote-cluster.global",
                            "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}, "outlierDetection": outlier()}}}),
        )
        .unwrap();
    remote
        .store
        .create(
            &istio("destinationrules", "v1alpha3"),
            json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
                   "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": owner_labels("remote-cluster")},
                   "spec": {"host": "reviews.bookinfo.svc.cluster.local",
                            "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}, "outlierDetection": outlier()}}}),
        )
        .unwrap();
    failover_objects(
        &mgmt.store,
        [
            "outbound|9080||reviews.bookinfo.svc.cluster.local",
            "outbound|9080||reviews.bookinfo.svc.remote-cluster.global",
        ],
    );
    // The primary still answers.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..8 {
        seen.insert(productpage(&mgmt).await.0);
    }
    assert_eq!(seen, [Stars::None, Stars::Black].into_iter().collect());

    let during = drill(&mgmt).await;
    eprintln!("global mode, answers while failing over: {during:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_primary_mode_merges_endpoints_and_fails_over_by_subset() {
    let (mgmt, remote) = start(MultiClusterMode::MultiPrimary);
    wait_ready(&mgmt).await;
    wait_ready(&remote).await;

    // One reviews service with endpoints from both clusters: v3 from the remote cluster
    // answers too.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..12 {
        seen.insert(productpage(&mgmt).await.0);
    }
    assert_eq!(
        seen,
        [Stars::None, Stars::Black, Stars::Red]
            .into_iter()
            .collect(),
        "round-robin over v1, v2 (local) and v3 (remote)"
    );

    mgmt.store
        .create(
            &istio("destinationrules", "v1alpha3"),
            json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
                   "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": owner_labels("mgmt-cluster")},
                   "spec": {"host": "reviews.bookinfo.svc.cluster.local",
                            "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}, "outlierDetection": outlier()},
                            // The demo's Istio cluster IDs, which istiod labels endpoints with.
                            "subsets": [
                                {"name": "mgmt-cluster", "labels": {"topology.istio.io/cluster": "cluster1"}},
                                {"name": "remote-cluster", "labels": {"topology.istio.io/cluster": "cluster2"}}]}}),
        )
        .unwrap();
    failover_objects(
        &mgmt.store,
        [
            "outbound|9080|mgmt-cluster|reviews.bookinfo.svc.cluster.local",
            "outbound|9080|remote-cluster|reviews.bookinfo.svc.cluster.local",
        ],
    );
    let mut seen = std::collections::HashSet::new();
    for _ in 0..8 {
        seen.insert(productpage(&mgmt).await.0);
    }
    assert_eq!(seen, [Stars::None, Stars::Black].into_iter().collect());

    let during = drill(&mgmt).await;
    eprintln!("multi-primary mode, answers while failing over: {during:?}");

    // Without the remote secret, istiod no longer knows the remote endpoints.
    mgmt.store
        .delete(
            &Gvr::new("", "v1", "secrets"),
            "istio-system",
            "istio-remote-secret-cluster2",
        )
        .unwrap();
    for d in ["reviews-v1", "reviews-v2"] {
        set_command(&mgmt, d, Some(json!(["sleep", "20h"])));
    }
    wait_ready(&mgmt).await;
    let start = Instant::now();
    loop {
        if productpage(&mgmt).await.0 == Stars::Error {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "expected reviews to be unavailable"
        );
    }
    drop(remote);
}

/// Store what the translation generates for `cluster`, as `kubectl smh apply` would.
fn apply_generated(c: &Cluster, t: &smh_core::translate::Translation, cluster: &str) {
    for o in t.objects.iter().filter(|o| o.cluster == cluster) {
        let plural = match o.kind() {
            "DestinationRule" => "destinationrules",
            "VirtualService" => "virtualservices",
            "ServiceEntry" => "serviceentries",
            "EnvoyFilter" => "envoyfilters",
            other => panic!("unexpected kind {other}"),
        };
        c.store
            .create(&istio(plural, "v1alpha3"), o.to_value())
            .unwrap();
    }
}

fn delete_generated(c: &Cluster, t: &smh_core::translate::Translation, cluster: &str) {
    for o in t.objects.iter().filter(|o| o.cluster == cluster) {
        let plural = match o.kind() {
            "DestinationRule" => "destinationrules",
            "VirtualService" => "virtualservices",
            "ServiceEntry" => "serviceentries",
            _ => "envoyfilters",
        };
        c.store
            .delete(
                &istio(plural, "v1alpha3"),
                o.object.namespace(),
                o.object.name(),
            )
            .unwrap();
    }
}

/// Istio labels endpoints with its cluster IDs (here the demo's `cluster1` and `cluster2`),
/// not with SMH cluster names. The guide translated with subsets on the SMH names (what
/// kubectl-smh did before topologies had `clusterId`) selects no endpoint at all: every
/// reviews call gets a 503 and productpage shows its error. Translated with the cluster IDs,
/// the primary answers and the drill fails over to the remote cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_primary_subsets_must_select_istio_cluster_ids() {
    use smh_core::model::topology::Topology;
    let (mgmt, remote) = start(MultiClusterMode::MultiPrimary);
    wait_ready(&mgmt).await;
    wait_ready(&remote).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = smh_core::model::parse::load_paths(&[root.join("examples/guide")]);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let topology =
        Topology::load(&root.join("tests/data/topology/guide-multi-primary.yaml")).unwrap();
    let ids: Vec<Option<&str>> = topology
        .clusters
        .iter()
        .map(|c| c.mesh.as_ref().unwrap().cluster_id.as_deref())
        .collect();
    assert_eq!(ids, [Some("cluster1"), Some("cluster2")], "the demo's IDs");
    let mut by_name = topology.clone();
    for c in &mut by_name.clusters {
        c.mesh.as_mut().unwrap().cluster_id = None;
    }

    // The aggregate strategy's per-cluster subsets (auto is native in multi-primary).
    let aggregate = smh_core::translate::TranslateOptions {
        strategy: smh_core::translate::Strategy::Aggregate,
    };
    let old = smh_core::translate::translate_with(&loaded.manifests, &by_name, aggregate);
    let new = smh_core::translate::translate_with(&loaded.manifests, &topology, aggregate);
    assert!(!old.has_errors() && !new.has_errors());
    let subset_labels = |t: &smh_core::translate::Translation| -> Vec<String> {
        let dr = t
            .objects
            .iter()
            .find(|o| o.cluster == "mgmt-cluster" && o.kind() == "DestinationRule")
            .unwrap()
            .to_value();
        dr["spec"]["subsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["labels"]["topology.istio.io/cluster"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(subset_labels(&old), ["mgmt-cluster", "remote-cluster"]);
    assert_eq!(subset_labels(&new), ["cluster1", "cluster2"]);

    // Subsets on the SMH names: both sub-clusters of the aggregate are empty.
    apply_generated(&mgmt, &old, "mgmt-cluster");
    apply_generated(&remote, &old, "remote-cluster");
    for _ in 0..6 {
        let (stars, html) = productpage(&mgmt).await;
        assert_eq!(stars, Stars::Error, "{html}");
    }

    // Subsets on the cluster IDs: the primary answers, and failover reaches the remote.
    delete_generated(&mgmt, &old, "mgmt-cluster");
    delete_generated(&remote, &old, "remote-cluster");
    apply_generated(&mgmt, &new, "mgmt-cluster");
    apply_generated(&remote, &new, "remote-cluster");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..8 {
        seen.insert(productpage(&mgmt).await.0);
    }
    assert_eq!(seen, [Stars::None, Stars::Black].into_iter().collect());
    let during = drill(&mgmt).await;
    assert!(during.contains(&Stars::Red), "{during:?}");
    drop(remote);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_world_closes_every_listener() {
    let fleet = world::Fleet::new();
    let opts = &WorldOptions::demo(MultiClusterMode::Global, "1.24.2", READINESS)[0];
    let store = Arc::new(Store::new());
    let net = Arc::new(PodNetwork::new(1));
    world::seed(&store, opts).unwrap();
    let handle = world::spawn(store.clone(), net.clone(), fleet.clone(), opts);
    let c = Cluster {
        store: store.clone(),
        net: net.clone(),
        _handle: handle,
    };
    wait_ready(&c).await;
    let (ps, _) = store.list(&pods(), Some("bookinfo"));
    let addrs: Vec<_> = ps
        .iter()
        .filter_map(|p| net.resolve(p["status"]["podIP"].as_str()?, 9080))
        .collect();
    assert_eq!(addrs.len(), 5);
    drop(c);
    assert!(fleet.member("mgmt-cluster").is_none());
    for p in &ps {
        assert!(
            net.resolve(p["status"]["podIP"].as_str().unwrap(), 9080)
                .is_none()
        );
    }
    // The servers' tasks are aborted; their listeners close as the runtime drops them.
    for a in addrs {
        let t = Instant::now();
        while tokio::net::TcpStream::connect(a).await.is_ok() {
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "{a} still accepts connections"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
