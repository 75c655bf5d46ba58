//! Drills that run to their end: a full drill in both multi-cluster modes, `demo guide`,
//! the sidecars' routing log, failed expectations, and the ranking of the outlier
//! DestinationRule with the mesh's root namespace.
//! The scenarios (`pub(super)`) run on both backends (tests/drill/both.rs); the tests here run
//! on the simulated clusters only, each saying why.

use super::*;

pub(super) async fn a_full_drill_passes_and_restores_exactly(demo: &Demo) {
    demo.configure_guide().await;
    let before = demo.snapshot().await;

    let run = demo.run(&drill_args(&["-o", "json"])).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["result"], "passed", "{}", run.show());
    let m = &report["measurements"];
    for field in [
        "breakToFirstFailover",
        "breakToSteadyFailover",
        "restoreToFirstPrimary",
        "restoreToSteadyFailback",
        "breakRollout",
        "restoreRollout",
    ] {
        assert!(m[field].as_f64().is_some(), "{field}: {}", run.show());
    }
    let periods: BTreeMap<String, Value> = m["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].as_str().unwrap().to_string(), p.clone()))
        .collect();
    assert!(periods["baseline"]["primary"].as_u64().unwrap() >= 10);
    // Steady failover can come before the rollout is reported complete.
    assert!(failed_over_answers(&report) >= 10, "{}", run.show());
    let primary_after = periods["restoring"]["primary"].as_u64().unwrap()
        + periods["failed-back"]["primary"].as_u64().unwrap();
    assert!(primary_after >= 10, "{}", run.show());
    assert_eq!(report["outlier"]["settings"]["consecutive5xxErrors"], 1);
    assert_eq!(report["outlier"]["settings"]["maxEjectionPercent"], 100);
    let checks = report["restoreCheck"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{}", run.show());
    assert!(
        checks
            .iter()
            .all(|c| c["differences"].as_array().unwrap().is_empty())
    );
    assert!(
        run.stderr
            .contains("these contexts and API servers will be changed")
    );
    assert_live_lines_agree_with_the_report(&run, &report);

    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
}

/// Multi-primary mode with Istio cluster IDs that differ from the SMH cluster names (the
/// demo's cluster1 and cluster2), with the aggregate strategy (a per-cluster subset each;
/// `auto` would pick native here, which `demo_guide_runs_to_completion_in_multi_primary_mode`
/// drills): apply discovers the IDs, the subsets select them, and the drill fails over to
/// the remote cluster and restores exactly.
pub(super) async fn a_multi_primary_drill_with_istio_cluster_ids_passes_and_restores(demo: &Demo) {
    demo.configure_guide_with(&["--strategy", "aggregate"])
        .await;
    let ar = ApiResource::from_gvk_with_plural(
        &kube::core::GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "DestinationRule"),
        "destinationrules",
    );
    let drs: Api<DynamicObject> =
        Api::namespaced_with(demo.client("mgmt-cluster"), "bookinfo", &ar);
    let dr = drs.get("reviews").await.unwrap();
    assert_eq!(
        dr.data["spec"]["subsets"],
        json!([
            {"name": "cluster-mgmt-cluster", "labels": {"topology.istio.io/cluster": "cluster1"}},
            {"name": "cluster-remote-cluster", "labels": {"topology.istio.io/cluster": "cluster2"}},
        ])
    );
    let before = demo.snapshot().await;
    let run = demo.run(&drill_args(&["-o", "json"])).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["result"], "passed", "{}", run.show());
    assert!(failed_over_answers(&report) >= 10, "{}", run.show());
    assert_live_lines_agree_with_the_report(&run, &report);
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
}

// `demo guide` starts simulated clusters of its own: it runs on the simulator only.
#[test]
fn demo_guide_runs_to_completion() {
    demo_guide_in(&[]);
}

/// The guide in multi-primary mode (simulated clusters only: `demo guide` starts its own), whose istiods have cluster IDs (cluster1, cluster2) that
/// differ from the SMH cluster names: apply, describe and the drill all work on them.
#[test]
fn demo_guide_runs_to_completion_in_multi_primary_mode() {
    let stdout = demo_guide_in(&["--mode", "multi-primary"]);
    assert!(
        stdout.contains(
            "Istio cluster IDs (istiod's CLUSTER_ID, what the subsets select): mgmt-cluster cluster1, remote-cluster cluster2"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("mesh mode: multi-primary"), "{stdout}");
}

/// Runs `demo guide` with `extra` flags, checks every step and that it passed; returns stdout.
fn demo_guide_in(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"))
        .args(["demo", "guide", "--rollout-delay", "100ms"])
        .args(extra)
        // Neither a developer's kubeconfig nor registry may play a part.
        .env("KUBECONFIG", dir.path().join("nonexistent"))
        .env("KUBECTL_SMH_CONFIG", dir.path().join("config.yaml"))
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for step in [
        "1. Configure Outlier Detection",
        "$ kubectl smh apply -f examples/guide/1-outlier-detection.yaml",
        "2. Create the FailoverService",
        "3. Demonstrating Failover Functionality",
        "$ kubectl smh describe failoverservice reviews-failover",
        "Backing services (priority order)",
        "No problems found.",
        "$ kubectl smh drill reviews-failover --yes",
        "passed (exit 0)",
        "Stopped the simulated clusters.",
    ] {
        assert!(stdout.contains(step), "{step:?} missing:\n{stdout}");
    }
    assert!(stdout.contains("state: ACCEPTED"), "{stdout}");
    let reloads: Vec<&str> = stdout.lines().filter(|l| l.contains("reload ")).collect();
    assert_eq!(reloads.len(), 6, "{stdout}");
    assert!(
        reloads
            .iter()
            .all(|l| l.contains("no stars (reviews-v1)") || l.contains("black stars (reviews-v2)")),
        "{reloads:#?}"
    );
    // The temporary kubeconfig is gone, and nothing was written where it ran.
    let line = stdout.lines().find(|l| l.contains("kubeconfig: ")).unwrap();
    let path = line
        .split("kubeconfig: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(!Path::new(path).exists(), "{path} left behind");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    stdout.into_owned()
}

/// The sidecar's routing log (the benchmark's observation hook) shows the switch from the
/// primary's Envoy cluster to the secondary's once the primary is broken.
/// Simulated clusters only: the routing log is read in process from the simulated world's
/// sidecars (`WorldSidecars`), which a real fleet does not hand out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sidecar_routing_log_shows_the_switch_to_the_secondary() {
    let sidecars = WorldSidecars::default();
    let demo = Demo::start_observed(Duration::from_millis(100), &sidecars).await;
    demo.configure_guide().await;
    let client = demo.client("mgmt-cluster");
    let pod = pick_pod(&client, "bookinfo", "productpage-v1")
        .await
        .unwrap();
    let prober = Prober::new(client, "bookinfo", &pod, 9080, Duration::from_secs(5));
    let primary = "outbound|9080||reviews.bookinfo.svc.cluster.local";
    let secondary = "outbound|9080||reviews.bookinfo.svc.remote-cluster.global";
    for _ in 0..3 {
        prober.get("/productpage").await;
    }
    let sidecar = sidecars
        .sidecar("mgmt-cluster", "bookinfo", &pod)
        .expect("productpage has a sidecar");
    let log = sidecar.routing_log();
    assert!(
        log.iter().any(|a| a.cluster == primary && a.level == 0),
        "{log:#?}"
    );
    assert!(!log.iter().any(|a| a.cluster == secondary), "{log:#?}");

    let broken = Instant::now();
    for d in ["reviews-v1", "reviews-v2"] {
        demo.deployments("mgmt-cluster")
            .patch(
                d,
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                    {"name": "reviews", "command": ["sleep", "20h"]}]}}}})),
            )
            .await
            .unwrap();
    }
    demo.wait_settled().await;
    let mut red = false;
    for _ in 0..100 {
        let (answer, _) = prober.get("/productpage").await;
        if let smh_cluster::probe::ProbeResult::Http { body, .. } = &answer
            && body.contains("color=\"red\"")
        {
            red = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(red, "no failover to reviews-v3");
    let log = sidecar.routing_log();
    let first = log
        .iter()
        .find(|a| a.cluster == secondary)
        .expect("an attempt routed to the secondary");
    assert_eq!(
        first.level, 1,
        "the secondary is the aggregate's second priority"
    );
    assert!(first.at > broken);
    demo.shutdown().await;
}

/// A failed expectation restores first, exits 1, and says which expectation failed and by
/// how much. Both expectations are chosen so that no timing can meet them.
pub(super) async fn failed_expectations_restore_and_say_by_how_much(demo: &Demo) {
    demo.configure_guide().await;
    let before = demo.snapshot().await;

    // Whether a probe sees a real error during failover depends on when the sidecars'
    // ejections land, i.e. on timing. Here the failed-over answers themselves are errors
    // (--expect-error matches the secondary's red stars), and once the primary's pods are
    // broken every answer is either such a page or an error page: the first answer after
    // the break that is not the primary's is an error, and nothing can fail over steadily
    // before it, so --max-errors 0 is exceeded on every run.
    let run = demo
        .run(&drill_args(&[
            "--max-errors",
            "0",
            "--expect-error",
            r#"color="red"|text-red-500"#,
        ]))
        .await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    let summary = run.stderr.lines().last().unwrap_or("").to_string();
    assert!(
        summary.contains("failed requests during failover exceed --max-errors 0")
            || summary.contains("more than --max-errors 0"),
        "{}",
        run.show()
    );
    assert!(
        run.stderr
            .contains("wait for restore rollout: restore applied"),
        "{}",
        run.show()
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);

    // Failover cannot be steady 1 µs after the break: only answers to probes sent after the
    // break count, and none comes back through the port-forward within 1 µs of being sent
    // (let alone ten failed-over ones, which need the break's rollout first).
    let run = demo
        .run(&drill_args(&["--failover-timeout", "1us", "-o", "json"]))
        .await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["result"], "failed");
    let failover = report["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "failover")
        .unwrap();
    assert_eq!(failover["verdict"], "fail", "{}", run.show());
    assert!(
        failover["message"].as_str().unwrap().starts_with(
            "failover was not steady (>= 99% of 10 answers) within --failover-timeout"
        ),
        "{failover}"
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
}

/// The DestinationRule that sets a backing service's outlier detection is ranked with the
/// root namespace of the client's mesh (meshConfig.rootNamespace), not istio-system.
pub(super) async fn destination_rules_rank_with_the_meshs_root_namespace(demo: &Demo) {
    demo.configure_guide().await;
    let client = demo.client("mgmt-cluster");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "istio-system");
    let mut cm = cms.get("istio").await.unwrap();
    let was = cm.data.as_ref().unwrap()["mesh"].clone();
    let mesh = cm.data.as_ref().unwrap()["mesh"]
        .replace("rootNamespace: istio-system", "rootNamespace: istio-config");
    assert!(mesh.contains("rootNamespace: istio-config"), "{mesh}");
    cm.data.as_mut().unwrap().insert("mesh".into(), mesh);
    cm.metadata.managed_fields = None;
    cms.replace("istio", &PostParams::default(), &cm)
        .await
        .unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let dr = ApiResource {
        group: "networking.istio.io".into(),
        version: "v1alpha3".into(),
        api_version: "networking.istio.io/v1alpha3".into(),
        kind: "DestinationRule".into(),
        plural: "destinationrules".into(),
    };
    // Two more rules for the remote backing service's host: one in the new root namespace,
    // one in a namespace that sorts first.
    for (ns, errors) in [("istio-config", 3), ("aaa", 7)] {
        namespaces
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
            )
            .await
            .unwrap();
        let rule: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
            "metadata": {"name": "remote-reviews", "namespace": ns},
            "spec": {"host": "reviews.bookinfo.svc.remote-cluster.global",
                     "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": errors,
                         "interval": "1s", "baseEjectionTime": "10s", "maxEjectionPercent": 100}}}
        }))
        .unwrap();
        Api::<DynamicObject>::namespaced_with(client.clone(), ns, &dr)
            .create(&PostParams::default(), &rule)
            .await
            .unwrap();
    }
    let run = demo
        .run(&["drill", "reviews-failover", "--dry-run", "-o", "json"])
        .await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["rootNamespace"], "istio-config");
    let remote = &v["outlier"][1];
    assert_eq!(
        remote["outlier"]["source"], "mgmt-cluster: DestinationRule istio-config/remote-reviews",
        "{remote:#}"
    );
    assert_eq!(remote["outlier"]["consecutive5xxErrors"], 3);

    // As it was, for the scenarios that run next on the same clusters.
    for ns in ["istio-config", "aaa"] {
        Api::<DynamicObject>::namespaced_with(client.clone(), ns, &dr)
            .delete("remote-reviews", &Default::default())
            .await
            .unwrap();
        namespaces.delete(ns, &Default::default()).await.unwrap();
    }
    let mut cm = cms.get("istio").await.unwrap();
    cm.data.as_mut().unwrap().insert("mesh".into(), was);
    cm.metadata.managed_fields = None;
    cms.replace("istio", &PostParams::default(), &cm)
        .await
        .unwrap();
}

/// A flaky API server on both clusters (500s, answers cut mid-way, watches cut mid-event, a
/// control plane answering 503 for a while): the drill rides it out, passes, restores
/// exactly, and its report says how many requests it retried; `-v` shows each retry.
/// Simulated clusters only: the faults are injected by the simulated API servers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_rides_out_a_flaky_api_server_and_says_so() {
    use smh_sim::faults::ErrorKind;
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    demo.wait_settled().await;
    let before = demo.snapshot().await;
    for name in ["mgmt-cluster", "remote-cluster"] {
        let f = demo.sim().cluster(name).unwrap().faults();
        f.set_error_rate(ErrorKind::Internal, 0.1);
        f.set_error_rate(ErrorKind::Close, 0.05);
        f.set_unavailable_for(Duration::from_secs(2));
    }
    let run = demo.run(&drill_args(&["-o", "json", "-v"])).await;
    for name in ["mgmt-cluster", "remote-cluster"] {
        demo.sim().cluster(name).unwrap().faults().clear();
    }
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["result"], "passed", "{}", run.show());
    let r = &report["resilience"];
    let retries = r["apiRetries"].as_u64().unwrap();
    assert!(retries > 0, "{r}");
    assert_eq!(r["apiRetriesExhausted"], 0, "{r}");
    // Each retry is one line on stderr with -v.
    let lines = run.stderr.matches("retry: ").count() as u64;
    assert_eq!(lines, retries, "{}", run.show());
    assert!(
        run.stderr
            .contains("got 503 Service Unavailable; trying again in 1000ms"),
        "{}",
        run.show()
    );
    let checks = report["restoreCheck"].as_array().unwrap();
    assert!(
        !checks.is_empty()
            && checks
                .iter()
                .all(|c| c["differences"].as_array().unwrap().is_empty()),
        "{}",
        run.show()
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.shutdown().await;
}

/// Port-forwards that break during the drill (the API server cuts every open connection,
/// the probes' port-forwards and the rollout watches included, as when it restarts) are
/// opened again: the drill keeps measuring, passes, and its report counts the reconnects.
/// Simulated clusters only: cutting an API server's connections on demand is a simulator
/// fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_reopens_port_forwards_cut_under_it_and_counts_them() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    demo.wait_settled().await;
    let before = demo.snapshot().await;
    let mgmt = demo.sim().cluster("mgmt-cluster").unwrap();
    let faults = mgmt.faults();
    // The fault schedule: every open connection of the probe's cluster cut twice a second
    // while the drill runs.
    let cutter = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            faults.cut_connections();
        }
    });
    let run = demo.run(&drill_args(&["-o", "json"])).await;
    cutter.abort();
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["result"], "passed", "{}", run.show());
    let r = &report["resilience"];
    assert!(r["probeReconnects"].as_u64().unwrap() > 0, "{r}");
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.shutdown().await;
}
