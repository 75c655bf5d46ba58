//! The node agent on real control planes, one fleet for both checks:
//!
//! - it watches the node's pods rather than listing them over and over: while a pod is
//!   created, becomes Running and Ready, and is deleted and gone, the API server counts no
//!   list of pods from it (its `apiserver_request_total`);
//! - it puts back what the node lifecycle controller marks when it loses touch with a node (as
//!   after an API server that hung): the node's Ready condition `Unknown` and the node's pods
//!   not Ready. A real kubelet posts them again; until the agent did, the node stayed NotReady
//!   and tainted unreachable, and no new pod was scheduled on it.
//!
//! Without the peers this test prints a SKIP line (a failure with `SMH_REQUIRE_PEERS=1`).
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
async fn the_node_agent_on_real_control_planes() {
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
    the_agent_watches_pods_and_does_not_list_them(member).await;
    the_agent_posts_again_what_the_node_lifecycle_controller_marked(member).await;
    drop(fleet);
}

/// How many lists of pods `client`'s API server has answered since it started.
async fn pod_lists(client: &kube::Client) -> u64 {
    let req = http::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = client
        .request_text(req)
        .await
        .expect("the API server's metrics");
    text.lines()
        .filter(|l| {
            l.starts_with("apiserver_request_total{")
                && l.contains(r#"resource="pods""#)
                && l.contains(r#"subresource="""#)
                && l.contains(r#"verb="LIST""#)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// A pod bound to the node becomes Running and Ready, and once deleted is gone, with no list
/// of pods in the meantime: the agent learns of both from its watch. (Polling, it listed the
/// node's pods every 200 ms.)
async fn the_agent_watches_pods_and_does_not_list_them(member: &smh_real::fleet::Member) {
    let client = member.client.clone();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let start = Instant::now();
    let lists = pod_lists(&client).await;
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "watched", "namespace": "default"},
        "spec": {"nodeName": member.plane.node_name,
                 "containers": [{"name": "main", "image": "docker.io/library/busybox:1.36",
                                 "command": ["sleep", "3600"]}]}
    }))
    .unwrap();
    // The namespace's default ServiceAccount, which admission requires, may not be there yet
    // right after the start.
    wait_for("the pod created", || async {
        pods.create(&Default::default(), &pod).await.is_ok()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = pods.get_status("watched").await.unwrap();
        let s = p.status.clone().unwrap_or_default();
        if s.phase.as_deref() == Some("Running")
            && condition(s.conditions.as_ref()) == Some("True".to_string())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the pod Running and Ready within a minute: {p:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    pods.delete("watched", &Default::default()).await.unwrap();
    wait_for("the pod gone", || async {
        pods.get_opt("watched").await.is_ok_and(|p| p.is_none())
    })
    .await;
    // A window of at least 2 s, in which polling would have listed 10 times: the measurement
    // period, not a wait for something to happen.
    if let Some(rest) = Duration::from_secs(2).checked_sub(start.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let listed = pod_lists(&client).await - lists;
    assert!(
        listed <= 1,
        "{listed} lists of pods in {:.1}s (a list again after a watch that ended with 410 Gone \
         may happen; a list per sync may not)",
        start.elapsed().as_secs_f64()
    );
}

async fn the_agent_posts_again_what_the_node_lifecycle_controller_marked(
    member: &smh_real::fleet::Member,
) {
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
}
