//! Probes through port-forwards to the demo's productpage: keep-alive reuse, concurrent
//! probes, and transport failures as answers.

use std::time::Duration;

use smh_cluster::probe::{ProbeResult, Prober, pick_pod};
use smh_core::drill::Class;
use smh_core::drill::classify::Classifier;
use smh_core::model::topology::MultiClusterMode;
use smh_sim::fleet::{FleetOptions, SimFleet, bookinfo_world};

async fn demo() -> SimFleet {
    let mut opts = FleetOptions::demo();
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = Duration::from_millis(50);
    }
    opts.hooks
        .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
    let fleet = SimFleet::start(opts).await.expect("demo clusters start");
    fleet
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("demo clusters ready");
    fleet
}

/// The ready pod of a deployment (the fleet is ready, so there is one).
async fn ready_pod(client: &kube::Client, deployment: &str) -> String {
    pick_pod(client, "bookinfo", deployment)
        .await
        .expect("a ready pod")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_productpage_and_classifies_the_primary() {
    let fleet = demo().await;
    let client = fleet.cluster("mgmt-cluster").unwrap().client().unwrap();
    let pod = ready_pod(&client, "productpage-v1").await;
    let prober = std::sync::Arc::new(Prober::new(
        client,
        "bookinfo",
        &pod,
        9080,
        Duration::from_secs(5),
    ));
    let classifier = Classifier::bookinfo();

    // Sequential probes reuse connections; concurrent ones open more.
    let mut classes = Vec::new();
    for _ in 0..6 {
        let (result, _) = prober.get("/productpage").await;
        assert_eq!(result.status(), Some(200), "{result:?}");
        classes.push(classifier.classify(result.as_answer()).class);
    }
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let p = prober.clone();
            tokio::spawn(async move { p.get("/productpage").await.0 })
        })
        .collect();
    for h in handles {
        let result = h.await.unwrap();
        classes.push(classifier.classify(result.as_answer()).class);
    }
    // Before any failover configuration, reviews v1/v2 on mgmt answer: the primary.
    assert!(classes.iter().all(|c| *c == Class::Primary), "{classes:?}");
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_nobody_listens_on_is_a_transport_answer() {
    let fleet = demo().await;
    let client = fleet.cluster("mgmt-cluster").unwrap().client().unwrap();
    let pod = ready_pod(&client, "productpage-v1").await;
    let prober = Prober::new(
        client.clone(),
        "bookinfo",
        &pod,
        9999,
        Duration::from_secs(5),
    );
    let (result, _) = prober.get("/productpage").await;
    assert!(
        matches!(result, ProbeResult::Transport { .. }),
        "{result:?}"
    );

    let gone = Prober::new(
        client,
        "bookinfo",
        "no-such-pod",
        9080,
        Duration::from_secs(5),
    );
    // A pod that is not there is no answer from the data plane: the probe's own path (the
    // port-forward through the API server) failed, so the probe is lost, not an error sample.
    let (result, _) = gone.get("/productpage").await;
    match result {
        ProbeResult::Lost { error } => assert!(error.contains("no-such-pod"), "{error}"),
        other => panic!("expected a lost probe, got {other:?}"),
    }
    fleet.shutdown().await;
}

/// A deployment whose selector uses `matchExpressions` only (no `matchLabels`): its pods are
/// found through the API server's label selector, as kubectl finds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn picks_a_pod_of_a_deployment_selected_by_match_expressions() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Api, PostParams};

    let fleet = demo().await;
    let client = fleet.cluster("mgmt-cluster").unwrap().client().unwrap();
    let web: Deployment = serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "bookinfo"},
        "spec": {
            "replicas": 1,
            "selector": {"matchExpressions": [
                {"key": "app", "operator": "In", "values": ["web", "web-canary"]},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "docker.io/library/nginx:1.27",
                                         "ports": [{"containerPort": 8080}]}]}
            }
        }
    }))
    .unwrap();
    Api::<Deployment>::namespaced(client.clone(), "bookinfo")
        .create(&PostParams::default(), &web)
        .await
        .unwrap();
    // Created just now: wait until it is rolled out (its pod Ready), as kubectl's
    // `rollout status` would.
    fleet
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("web rolled out");
    let pod = ready_pod(&client, "web").await;
    assert!(pod.starts_with("web-"), "{pod}");
    // productpage's pods do not match web's selector.
    assert!(
        ready_pod(&client, "productpage-v1")
            .await
            .starts_with("productpage-v1-")
    );
}

/// A port-forward whose stream breaks (the API server cuts its connection, as when it
/// restarts) is opened again and counted; the probe still gets the data plane's answer,
/// never an error sample made by the break.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_port_forward_is_reestablished_and_counted() {
    use smh_sim::faults::ErrorKind;
    let fleet = demo().await;
    let cluster = fleet.cluster("mgmt-cluster").unwrap();
    let client = cluster.client().unwrap();
    let pod = ready_pod(&client, "productpage-v1").await;
    let prober = Prober::new(client, "bookinfo", &pod, 9080, Duration::from_secs(5));
    let (result, _) = prober.get("/productpage").await;
    assert_eq!(result.status(), Some(200), "{result:?}");
    assert_eq!(prober.reconnects(), 0);

    // Every open connection cut, the idle port-forward of the last probe with them.
    cluster.faults().cut_connections();
    let (result, _) = prober.get("/productpage").await;
    assert_eq!(result.status(), Some(200), "{result:?}");
    assert_eq!(prober.reconnects(), 1);

    // The `close` fault on the port-forward upgrades: each session is cut a moment after
    // it began (the open one is cut too, so that the next probe opens one under the fault).
    // Probes go on; each break is counted, none becomes an error answer.
    cluster.faults().set_error_rate(ErrorKind::Close, 1.0);
    cluster.faults().cut_connections();
    let t = std::time::Instant::now();
    let mut answers = 0;
    while prober.reconnects() < 4 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{} reconnects",
            prober.reconnects()
        );
        let (result, _) = prober.get("/productpage").await;
        match result {
            ProbeResult::Lost { .. } => {}
            r => {
                assert_eq!(r.status(), Some(200), "{r:?}");
                answers += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cluster.faults().clear();
    assert!(answers > 0);
    let (result, _) = prober.get("/productpage").await;
    assert_eq!(result.status(), Some(200), "{result:?}");
    fleet.shutdown().await;
}
