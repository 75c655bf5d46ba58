//! The node agent puts back what the node lifecycle controller marks when it loses touch with
//! a node (as after an API server that hung): the node's Ready condition `Unknown` and the
//! node's pods not Ready. A real kubelet posts them again; until the agent did, the node
//! stayed NotReady and tainted unreachable, and no new pod was scheduled on it. Without the
//! peers this test prints a SKIP line (a failure with `SMH_REQUIRE_PEERS=1`).
#![allow(clippy::print_stderr)]

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;
use smh_core::model::topology::MultiClusterMode;

fn condition(conds: Option<&Vec<k8s_openapi::api::core::v1::PodCondition>>) -> Option<String> {
    conds?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone())
}

/// Wait until `check` holds, for at most a minute (the heartbeat is every 10 s).
async fn wait_for<F: std::future::Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "{what} within a minute");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_posts_again_what_the_node_lifecycle_controller_marked() {
    if let Err(e) = smh_real::peers::Peers::locate() {
        assert!(
            std::env::var("SMH_REQUIRE_PEERS").as_deref() != Ok("1"),
            "SMH_REQUIRE_PEERS=1 but {e}"
        );
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "SKIP: {e}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = smh_real::fleet::FleetOptions {
        mode: MultiClusterMode::Global,
        dir: dir.path().to_path_buf(),
        timeout: Duration::from_secs(240),
    };
    let fleet = smh_real::fleet::RealFleet::start(&opts)
        .await
        .expect("the real control planes start");
    let member = &fleet.members()[0];
    let client = member.client.clone();
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "bookinfo");
    let node = member.plane.node_name.clone();
    let pod = pods.list(&ListParams::default()).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();

    // What the node lifecycle controller writes for a node whose Lease went stale.
    nodes
        .patch_status(
            &node,
            &PatchParams::default(),
            &Patch::Strategic(json!({"status": {"conditions": [{"type": "Ready",
                "status": "Unknown", "reason": "NodeStatusUnknown",
                "message": "Kubelet stopped posting node status."}]}})),
        )
        .await
        .unwrap();
    pods.patch_status(
        &pod,
        &PatchParams::default(),
        &Patch::Strategic(
            json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
        ),
    )
    .await
    .unwrap();

    wait_for("the node Ready again", || async {
        nodes
            .get_status(&node)
            .await
            .ok()
            .and_then(|n| n.status?.conditions)
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
    })
    .await;
    wait_for("the pod Ready again", || async {
        pods.get_status(&pod)
            .await
            .ok()
            .and_then(|p| condition(p.status.as_ref().and_then(|s| s.conditions.as_ref())))
            == Some("True".to_string())
    })
    .await;
    drop(fleet);
}
