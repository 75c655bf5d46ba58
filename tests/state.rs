//! `smh_cluster::state::load_state` against the demo clusters, simulated (in process) and
//! real control planes, through the real kube-rs client: the stored SMH objects, the discovered topology, the expected and
//! the live generated objects, pruning candidates (by labels only), an unreachable cluster
//! kept as an error, the topology cache standing in for it, and missing SMH CRDs.

mod apply_support;
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use apply_support::*;
use common::backend::{Backend, Clusters};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use smh_cluster::ClusterError;
use smh_cluster::ClusterName;
use smh_cluster::Contexts;
use smh_cluster::state::{LiveState, StateError, StateOptions, load_state};
use smh_core::inspect::state::{CachedCluster, TOPOLOGY_CACHE, TopologyCache, manifest_id};
use smh_core::model::ObjectId;
use smh_core::model::topology::MultiClusterMode;

fn yaml_docs(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    vec![serde_saphyr::from_str::<Value>(&text).unwrap()]
}

fn ids(state: &smh_cluster::state::LiveState) -> Vec<String> {
    state
        .expected
        .objects
        .iter()
        .map(|g| format!("{} {} {}/{}", g.cluster, g.kind(), g.namespace(), g.name()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_state_of_the_demo_clusters() {
    let clusters = Clusters::Sim(demo_fleet(MultiClusterMode::Global).await);
    let dir = tempfile::tempdir().unwrap();
    // 2 s where the remote cluster hangs (each load waits out its timeouts), as on real
    // control planes; 5 s for the rest, which a busy machine (the whole suite at once) can
    // need from the simulator (at 1 s the last step failed once, under the whole suite,
    // missing an object that a timed-out list would leave out).
    let ctx = contexts_of(&clusters, dir.path(), Duration::from_secs(5));
    let hung = contexts_of(&clusters, dir.path(), Duration::from_secs(2));
    the_live_state(&ctx, &hung, &clusters).await;
    clusters.shutdown().await;
}

/// On real control planes: they start without the SMH CRDs, which `load_state` then asks to
/// install; once installed, the live state as on the simulated clusters. The request timeout
/// is 5 s rather than 1 s (a real API server on a busy machine can take more than a second),
/// and 2 s while the remote cluster hangs (each load then waits out its timeouts: 75 s for
/// the two loads with 5 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_smh_crds_then_the_live_state_on_real_control_planes() {
    let Some(clusters) = Clusters::start(Backend::Real, MultiClusterMode::Global).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ctx = contexts_of(&clusters, dir.path(), Duration::from_secs(5));
    missing_smh_crds(&ctx).await;
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"))
        .arg("install")
        .env("KUBECONFIG", dir.path().join("kubeconfig.yaml"))
        .env("KUBECTL_SMH_CONFIG", dir.path().join("kubectl-smh.yaml"))
        .output()
        .expect("kubectl-smh runs");
    assert!(
        out.status.success(),
        "install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hung = contexts_of(&clusters, dir.path(), Duration::from_secs(2));
    the_live_state(&ctx, &hung, &clusters).await;
    clusters.shutdown().await;
}

/// Contexts over `clusters`' kubeconfig, written into `dir`.
fn contexts_of(clusters: &Clusters, dir: &std::path::Path, timeout: Duration) -> Contexts {
    let path = dir.join("kubeconfig.yaml");
    clusters.write_kubeconfig(&path);
    contexts_at(&path, dir, timeout)
}

/// Nothing stored, then the guide's objects, some of them live, a cluster that hangs (read
/// with `hung`), and an overlay.
async fn the_live_state(ctx: &Contexts, hung: &Contexts, clusters: &Clusters) {
    let mgmt = clusters.client("mgmt-cluster");
    nothing_stored_involves_only_the_management_cluster(ctx).await;
    let before = the_guides_objects_are_expected(ctx, &mgmt).await;
    let state = ours_in_place_stale_and_not_ours(ctx, &mgmt, &before).await;
    an_unreachable_cluster_is_an_error_and_the_cache_stands_in(hung, clusters, &mgmt, &state).await;
    an_overlay_removes_a_stored_object(ctx).await;
}

/// reviews-failover, the guide's FailoverService.
fn reviews_failover_id() -> ObjectId {
    ObjectId {
        kind: "FailoverService".into(),
        namespace: "service-mesh-hub".into(),
        name: "reviews-failover".into(),
    }
}

async fn nothing_stored_involves_only_the_management_cluster(ctx: &Contexts) {
    // Nothing stored yet: only the management cluster is involved.
    let empty = load_state(ctx, &StateOptions::default()).await.unwrap();
    assert!(empty.smh_objects.is_empty() && empty.expected.objects.is_empty());
    assert_eq!(empty.targets.len(), 1);
    assert!(empty.targets[0].mgmt && empty.targets[0].cluster.is_none());
}

/// The guide's objects, stored: their sources, the targets, the expected generated objects,
/// none of them live yet; the state read then.
async fn the_guides_objects_are_expected(ctx: &Contexts, mgmt: &kube::Client) -> LiveState {
    // The guide's objects, stored as `kubectl apply` would.
    for n in 1..=3 {
        for doc in yaml_docs(&guide_file(n)) {
            let kind = doc["kind"].as_str().unwrap().to_string();
            create(mgmt, &smh_ar(&kind), doc).await;
        }
    }
    let state = load_state(ctx, &StateOptions::default()).await.unwrap();
    let sources: Vec<&str> = state
        .smh_objects
        .iter()
        .map(|m| m.source.file.as_str())
        .collect();
    assert_eq!(
        sources,
        [
            "mgmt-cluster:service-mesh-hub/failoverservice/reviews-failover",
            "mgmt-cluster:bookinfo/trafficpolicy/reviews-shift-failover",
            "mgmt-cluster:service-mesh-hub/trafficpolicy/mgmt-reviews-outlier",
        ]
    );
    let targets: Vec<String> = state.targets.iter().map(|t| t.to_string()).collect();
    assert_eq!(targets.len(), 2, "{targets:?}");
    assert!(targets[0].starts_with("cluster mgmt-cluster (management; context mgmt-cluster"));
    assert!(targets[1].starts_with("cluster remote-cluster (context remote-cluster"));
    assert!(state.errors.is_empty(), "{:?}", state.errors);
    assert!(
        state
            .diagnostics
            .iter()
            .all(|d| d.severity != smh_core::model::Severity::Error),
        "{:?}",
        state.diagnostics
    );
    assert_eq!(
        ids(&state),
        [
            "mgmt-cluster DestinationRule bookinfo/reviews",
            "mgmt-cluster DestinationRule istio-system/reviews-bookinfo-remote-cluster",
            "mgmt-cluster EnvoyFilter istio-system/reviews-failover",
            "mgmt-cluster ServiceEntry service-mesh-hub/reviews-failover",
            "mgmt-cluster VirtualService bookinfo/reviews",
            "remote-cluster DestinationRule bookinfo/reviews",
        ]
    );
    // Nothing generated yet: SMH's federation objects (owner label only) are not ours.
    assert!(state.live.values().all(Vec::is_empty), "{:?}", state.live);
    assert_eq!(state.live.len(), 2);
    state
}

/// One expected object in place, one stale object of ours, one with our owner label only;
/// the state read then.
async fn ours_in_place_stale_and_not_ours(
    ctx: &Contexts,
    mgmt: &kube::Client,
    before: &LiveState,
) -> LiveState {
    // One expected object in place, one stale object of ours, one with our owner label only.
    let se = before
        .expected
        .objects
        .iter()
        .find(|g| g.kind() == "ServiceEntry")
        .unwrap()
        .to_value();
    create(mgmt, &istio_ar("ServiceEntry"), se).await;
    let ours = json!({
        "owner.networking.smh.solo.io": "service-mesh-hub",
        "cluster.multicluster.solo.io": "mgmt-cluster",
        "app.kubernetes.io/managed-by": "kubectl-smh"
    });
    create(
        mgmt,
        &istio_ar("DestinationRule"),
        json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
               "metadata": {"name": "stale", "namespace": "bookinfo", "labels": ours},
               "spec": {"host": "stale.bookinfo.svc.cluster.local"}}),
    )
    .await;
    create(
        mgmt,
        &istio_ar("DestinationRule"),
        json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
               "metadata": {"name": "ratings", "namespace": "bookinfo",
                            "labels": {"owner.networking.smh.solo.io": "service-mesh-hub"}},
               "spec": {"host": "ratings.bookinfo.svc.cluster.local"}}),
    )
    .await;

    let state = load_state(ctx, &StateOptions::default()).await.unwrap();
    let fs = reviews_failover_id();
    let generated: Vec<(String, bool)> = state
        .generated_for(&fs)
        .into_iter()
        .map(|(g, live)| (format!("{} {}", g.kind(), g.name()), live.is_some()))
        .collect();
    assert!(
        generated.contains(&("ServiceEntry reviews-failover".into(), true)),
        "{generated:?}"
    );
    assert!(
        generated.contains(&("EnvoyFilter reviews-failover".into(), false)),
        "{generated:?}"
    );
    let se = state
        .expected
        .objects
        .iter()
        .find(|g| g.kind() == "ServiceEntry")
        .unwrap();
    assert_eq!(
        smh_core::inspect::state::compare(se, state.live_for(se)),
        smh_core::inspect::drift::DriftState::InSync
    );
    let stale: Vec<String> = state
        .stale_live()
        .iter()
        .map(|(c, o)| format!("{c} {}", o.metadata.name.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(stale, ["mgmt-cluster stale"]);
    state
}

/// The remote cluster stops answering: an error, not a failed load; with its topology
/// cached, the cache stands in for discovery.
async fn an_unreachable_cluster_is_an_error_and_the_cache_stands_in(
    ctx: &Contexts,
    clusters: &Clusters,
    mgmt: &kube::Client,
    state: &LiveState,
) {
    // The remote cluster stops answering: it is an error, not a failed load.
    let hang = clusters.hang("remote-cluster");
    let down = load_state(ctx, &StateOptions::default()).await.unwrap();
    let e = &down.errors[&ClusterName::from("remote-cluster")];
    assert!(matches!(e, ClusterError::Timeout { .. }), "{e:?}");
    assert!(!down.live.contains_key(&ClusterName::from("remote-cluster")));
    assert_eq!(
        down.unknown_clusters(),
        BTreeSet::from([ClusterName::from("remote-cluster")])
    );
    let naming: Vec<&str> = down
        .objects_naming(&"remote-cluster".into())
        .iter()
        .map(|id| id.name.as_str())
        .collect();
    assert_eq!(naming, ["reviews-failover", "mgmt-reviews-outlier"]);

    // With the remote cluster's topology cached, it stands in for discovery.
    let mut cache = TopologyCache::default();
    cache.clusters.insert(
        "remote-cluster".into(),
        CachedCluster {
            discovered_at: "2025-01-01T00:00:00Z".into(),
            cluster: state.topology.cluster("remote-cluster").unwrap().clone(),
        },
    );
    let cms: Api<ConfigMap> = Api::namespaced(mgmt.clone(), "service-mesh-hub");
    cms.patch(
        TOPOLOGY_CACHE,
        &PatchParams::apply("test"),
        &Patch::Apply(cache.to_config_map()),
    )
    .await
    .unwrap();
    let cached = load_state(ctx, &StateOptions::default()).await.unwrap();
    assert_eq!(
        cached
            .stale
            .get(&ClusterName::from("remote-cluster"))
            .map(String::as_str),
        Some("2025-01-01T00:00:00Z")
    );
    assert!(cached.unknown_clusters().is_empty());
    assert!(
        cached
            .errors
            .contains_key(&ClusterName::from("remote-cluster"))
    );
    assert_eq!(ids(&cached), ids(state));
    drop(hang);
}

async fn an_overlay_removes_a_stored_object(ctx: &Contexts) {
    let fs = reviews_failover_id();
    // An overlay replaces a stored object; a removed one is left out.
    let opts = StateOptions {
        remove: vec![fs.clone()],
        ..Default::default()
    };
    let without = load_state(ctx, &opts).await.unwrap();
    assert!(
        without.errors.is_empty(),
        "a cluster failed to answer: {:?}",
        without.errors
    );
    assert!(without.merged.iter().all(|m| manifest_id(m) != fs));
    assert!(
        without
            .expected
            .objects
            .iter()
            .all(|g| !g.owners.contains(&fs)),
    );
    assert!(
        without
            .stale_live()
            .iter()
            .any(|(_, o)| o.metadata.name.as_deref() == Some("reviews-failover")),
        "the FailoverService's ServiceEntry would be pruned"
    );
}

// The simulated clusters started without the SMH CRDs (a start option); the real control
// planes start without them, and the real-backend test above checks this first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_smh_crds_say_to_run_install() {
    let fleet = fleet_with(MultiClusterMode::Global, |o| o.clusters[0].smh_crds = false).await;
    let dir = tempfile::tempdir().unwrap();
    let ctx = contexts(&fleet, dir.path(), Duration::from_secs(2));
    missing_smh_crds(&ctx).await;
    fleet.shutdown().await;
}

/// The management cluster has no SMH CRDs: `load_state` fails and says to run install.
async fn missing_smh_crds(ctx: &Contexts) {
    let e = load_state(ctx, &StateOptions::default()).await.unwrap_err();
    assert!(
        matches!(e, StateError::Cluster(ClusterError::SmhCrdsMissing { .. })),
        "{e:?}"
    );
    assert!(e.to_string().contains("run `kubectl smh install`"), "{e}");
}
