//! `describe`, `check` and `failover test` against the simulated demo clusters, through the
//! real binary (assert_cmd) and its real kube-rs client.
//!
//! Each test starts the demo clusters and sets up the guide's configuration with `kubectl
//! smh apply -f examples/guide/` (the three manifests).

mod apply_support;
mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use apply_support::*;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use smh_cluster::inspect::{answered_clients, collect};
use smh_cluster::state::{StateOptions, load_state};
use smh_core::inspect::names::ClusterName;
use smh_core::inspect::snapshot::{EndpointCount, ServiceRef};
use smh_core::model::topology::MultiClusterMode;
use smh_sim::faults::Unreachable;
use smh_sim::fleet::SimFleet;

struct Env {
    fleet: SimFleet,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn env(mode: MultiClusterMode) -> Env {
    let fleet = demo_fleet(mode).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig(&fleet, dir.path());
    let env = Env {
        fleet,
        dir,
        kubeconfig,
    };
    let guide = guide_dir().display().to_string();
    let out = env.smh(&["apply", "-f", &guide]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    env
}

impl Env {
    /// Runs `kubectl smh ARGS` against the demo clusters (off the async threads, which
    /// serve the simulated API servers).
    async fn smh(&self, args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let kubeconfig = self.kubeconfig.clone();
        let config = self.dir.path().join("clusters.yaml");
        tokio::task::spawn_blocking(move || {
            assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
                .args(&args)
                .args(["--request-timeout", "2s"])
                .env("KUBECONFIG", kubeconfig)
                .env("KUBECTL_SMH_CONFIG", config)
                .env_remove("NO_COLOR")
                .output()
                .expect("kubectl-smh runs")
        })
        .await
        .unwrap()
    }

    fn client(&self, cluster: &str) -> kube::Client {
        self.fleet.cluster(cluster).unwrap().client().unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn describe_output(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_guide_setup_describes_checks_and_tests_clean() {
    let env = env(MultiClusterMode::Global).await;

    // describe (tables).
    let out = env.smh(&["describe"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let text = stdout(&out);
    for needle in [
        "FailoverService service-mesh-hub/reviews-failover",
        "Hostname: reviews-failover.bookinfo.global",
        "│ 1 ┆ primary   ┆ mgmt-cluster   ┆ bookinfo/reviews ┆ 2/2 ready",
        "│ 2 ┆ secondary ┆ remote-cluster ┆ bookinfo/reviews ┆ 1/1 ready",
        "consecutive5xxErrors 1",
        "maxEjectionPercent 100",
        "No problems found.",
    ] {
        assert!(
            text.contains(needle),
            "missing {needle:?}\n{}",
            describe_output(&out)
        );
    }

    // describe -o json: the same content, stable names.
    let out = env
        .smh(&["describe", "fs", "reviews-failover", "-o", "json"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fs = &doc["failoverServices"][0];
    assert_eq!(fs["status"]["state"], "ACCEPTED");
    assert_eq!(fs["status"]["upToDate"], true);
    assert_eq!(fs["problems"], json!([]));
    let backing = fs["backingServices"].as_array().unwrap();
    assert_eq!(backing.len(), 2);
    assert_eq!(backing[0]["cluster"], "mgmt-cluster");
    assert_eq!(backing[0]["endpoints"], json!({"ready": 2, "total": 2}));
    assert_eq!(backing[1]["endpoints"], json!({"ready": 1, "total": 1}));
    assert_eq!(backing[1]["inSync"], true);
    assert_eq!(
        backing[1]["outlierDetection"][0]["source"],
        "DestinationRule istio-system/reviews-bookinfo-remote-cluster"
    );
    assert_eq!(
        backing[1]["outlierDetection"][0]["values"]["maxEjectionPercent"],
        100
    );
    assert_eq!(doc["clusters"].as_array().unwrap().len(), 2);

    // describe trafficpolicy and mesh.
    let out = env.smh(&["describe", "tp", "reviews-shift-failover"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    assert!(
        stdout(&out).contains("trafficShift: FailoverService service-mesh-hub/reviews-failover")
    );
    let out = env.smh(&["describe", "mesh", "-o", "yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("mesh: istiod-istio-system-mgmt-cluster"),
        "{text}"
    );
    assert!(
        text.contains("- service-mesh-hub/reviews-failover"),
        "{text}"
    );

    // An unknown name is invalid input.
    let out = env.smh(&["describe", "fs", "nope"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", describe_output(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "no FailoverService named \"nope\" (there are: service-mesh-hub/reviews-failover)"
    ));

    // check passes.
    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(text.contains("Management configuration\n------------------------\n[ok] SMH networking configuration resources are in a valid state"), "{text}");
    assert!(text.contains("OK: 11 checks passed, 0 failed"), "{text}");

    // failover test: the primary answers.
    let out = env.smh(&["failover", "test", "reviews-failover"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("20/20 from reviews.bookinfo@mgmt-cluster (primary)"),
        "{text}"
    );
    assert!(
        text.contains("checked generated objects: 6 of 6 present and unmodified"),
        "{text}"
    );
    assert!(
        text.contains("PASS: 20/20 answers came from the primary"),
        "{text}"
    );
    let out = env
        .smh(&[
            "failover",
            "test",
            "reviews-failover",
            "--requests",
            "5",
            "-o",
            "json",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["success"], true);
    assert_eq!(report["probes"]["primary"], 5);
    assert_eq!(report["client"]["deployment"], "productpage-v1");
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_named_with_its_field_and_manager() {
    let env = env(MultiClusterMode::Global).await;
    // Someone edits the remote DestinationRule's outlier detection.
    let remote = env.client("remote-cluster");
    let drs: Api<DynamicObject> =
        Api::namespaced_with(remote.clone(), "bookinfo", &istio_ar("DestinationRule"));
    let pp = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..Default::default()
    };
    drs.patch(
        "reviews",
        &pp,
        &Patch::Merge(
            json!({"spec": {"trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 7}}}}),
        ),
    )
    .await
    .unwrap();
    let problem = "DestinationRule bookinfo/reviews in remote-cluster was changed by kubectl-edit: spec.trafficPolicy.outlierDetection.consecutive5xxErrors";

    let out = env.smh(&["describe"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    assert!(
        stdout(&out).contains(&format!("error: {problem}")),
        "{}",
        describe_output(&out)
    );
    let out = env.smh(&["describe", "-o", "json"]).await;
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secondary = &doc["failoverServices"][0]["backingServices"][1];
    assert_eq!(secondary["inSync"], false);
    let modified: Vec<&Value> = secondary["generated"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["state"] == "modified")
        .collect();
    assert_eq!(modified.len(), 1);
    assert_eq!(modified[0]["by"], json!(["kubectl-edit"]));
    assert_eq!(
        modified[0]["fields"],
        json!(["spec.trafficPolicy.outlierDetection.consecutive5xxErrors"])
    );

    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    assert!(
        stdout(&out).contains(&format!(
            "[FAIL] every generated object is present and unmodified\n  - {problem}"
        )),
        "{}",
        describe_output(&out)
    );

    // The ServiceEntry deleted: missing, in describe and check; failover test refuses.
    let mgmt = env.client("mgmt-cluster");
    let ses: Api<DynamicObject> =
        Api::namespaced_with(mgmt, "service-mesh-hub", &istio_ar("ServiceEntry"));
    ses.delete("reviews-failover", &DeleteParams::default())
        .await
        .unwrap();
    let missing = "ServiceEntry service-mesh-hub/reviews-failover in mgmt-cluster is missing";
    let out = env.smh(&["describe", "fs", "reviews-failover"]).await;
    assert!(stdout(&out).contains(missing), "{}", describe_output(&out));
    assert!(stdout(&out).contains("│ mgmt-cluster   ┆ ServiceEntry service-mesh-hub/reviews-failover               ┆ missing"), "{}", describe_output(&out));
    let out = env.smh(&["check", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["success"], false);
    let generated = &report["categories"][4];
    assert_eq!(generated["name"], "Generated configuration");
    let messages = generated["checks"][0]["messages"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m.as_str().unwrap().starts_with(missing)),
        "{messages:?}"
    );
    let out = env
        .smh(&["failover", "test", "reviews-failover", "--requests", "3"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    assert!(
        stdout(&out).contains(
            "ServiceEntry service-mesh-hub/reviews-failover in cluster mgmt-cluster is missing"
        ),
        "{}",
        describe_output(&out)
    );
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_remote_cluster_is_a_row_not_a_failure() {
    let env = env(MultiClusterMode::Global).await;
    env.fleet
        .cluster("remote-cluster")
        .unwrap()
        .faults()
        .set_unreachable(Some(Unreachable::Close));
    let out = env.smh(&["describe"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("│ remote-cluster            ┆ remote-cluster ┆"),
        "{text}"
    );
    assert!(text.contains("could not be reached"), "{text}");
    assert!(text.contains("unknown (cluster not read)"), "{text}");
    let out = env.smh(&["describe", "mesh", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let remote = doc["meshes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["cluster"] == "remote-cluster")
        .unwrap();
    assert_eq!(remote["reachable"], false);
    assert!(
        remote["error"]
            .as_str()
            .unwrap()
            .contains("could not be reached")
    );
    // check fails, naming the cluster.
    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    assert!(
        stdout(&out)
            .contains("[FAIL] every cluster answers\n  - remote-cluster: cluster remote-cluster"),
        "{}",
        describe_output(&out)
    );

    // The management cluster unreachable: exit 3.
    env.fleet
        .cluster("mgmt-cluster")
        .unwrap()
        .faults()
        .set_unreachable(Some(Unreachable::Close));
    for args in [
        &["describe"][..],
        &["check"][..],
        &["failover", "test", "reviews-failover"][..],
    ] {
        let out = env.smh(args).await;
        assert_eq!(
            out.status.code(),
            Some(3),
            "{args:?}: {}",
            describe_output(&out)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("could not be reached"));
    }
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_failover_service_fails_check_with_meshctl_line() {
    let env = env(MultiClusterMode::Global).await;
    let mgmt = env.client("mgmt-cluster");
    let api: Api<DynamicObject> =
        Api::namespaced_with(mgmt, "service-mesh-hub", &smh_ar("FailoverService"));
    api.patch_status(
        "reviews-failover",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"state": "INVALID", "observedGeneration": "0"}})),
    )
    .await
    .unwrap();
    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(text.contains("[FAIL] SMH networking configuration resources are in a valid state\n  - FailoverService reviews-failover.service-mesh-hub: approval state is INVALID, observed generation does not match generation\n  Hint: check the status of SMH networking resources with \"kubectl get failoverservices -Aoyaml\""), "{text}");
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_test_fails_when_the_primary_is_broken_or_unprotected() {
    let env = env(MultiClusterMode::Global).await;
    let mgmt = env.client("mgmt-cluster");

    // Without outlier detection on the primary (someone removed it), preflight refuses.
    let drs: Api<DynamicObject> =
        Api::namespaced_with(mgmt.clone(), "bookinfo", &istio_ar("DestinationRule"));
    drs.patch(
        "reviews",
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &Patch::Json::<()>(
            serde_json::from_value(
                json!([{"op": "remove", "path": "/spec/trafficPolicy/outlierDetection"}]),
            )
            .unwrap(),
        ),
    )
    .await
    .unwrap();
    let out = env
        .smh(&["failover", "test", "reviews-failover", "--requests", "3"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("backing service reviews.bookinfo @ mgmt-cluster has no outlier detection"),
        "{text}"
    );
    assert!(
        text.contains("3/3 from reviews.bookinfo@mgmt-cluster (primary)"),
        "{text}"
    );
    assert!(text.contains("FAIL: preflight found"), "{text}");

    // Outlier detection back (as apply would), then the guide's break of reviews-v1/v2.
    let state = load_state(
        &contexts(&env.fleet, env.dir.path(), Duration::from_secs(2)),
        &StateOptions::default(),
    )
    .await
    .unwrap();
    let dr = state
        .expected
        .objects
        .iter()
        .find(|g| {
            g.cluster == "mgmt-cluster" && g.kind() == "DestinationRule" && g.name() == "reviews"
        })
        .unwrap();
    drs.patch(
        "reviews",
        &PatchParams::apply("kubectl-smh").force(),
        &Patch::Apply(dr.to_value()),
    )
    .await
    .unwrap();
    let deploys: Api<Deployment> = Api::namespaced(mgmt.clone(), "bookinfo");
    for d in ["reviews-v1", "reviews-v2"] {
        deploys
            .patch(
                d,
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews", "command": ["sleep", "20h"]}]}}}})),
            )
            .await
            .unwrap();
    }
    // The break rolled out: new pods ready, old ones gone from the Endpoints.
    env.fleet.wait_ready(READY_TIMEOUT).await.unwrap();
    let out = env.smh(&["failover", "test", "reviews-failover"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("from reviews.bookinfo@remote-cluster (secondary)"),
        "{text}"
    );
    assert!(text.contains("red stars (reviews-v3)"), "{text}");
    assert!(
        text.contains(
            "FAIL: only 0/20 answers came from the primary reviews.bookinfo@mgmt-cluster"
        ),
        "{text}"
    );
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_primary_outlier_detection_comes_from_the_cluster_subset() {
    let env = env(MultiClusterMode::MultiPrimary).await;
    let out = env.smh(&["describe", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fs = &doc["failoverServices"][0];
    assert_eq!(fs["problems"], json!([]), "{fs:#}");
    let od = &fs["backingServices"][1]["outlierDetection"][0];
    assert_eq!(od["host"], "reviews.bookinfo.svc.cluster.local");
    assert_eq!(od["values"]["consecutive5xxErrors"], 1);
    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    env.fleet.shutdown().await;
}

/// The demo's istiods have cluster IDs cluster1 and cluster2, and their remote secrets are
/// keyed by them: check passes and says so. A remote secret made with the SMH name instead
/// (`istioctl create-remote-secret --name remote-cluster`) fails check and describe, with
/// the command that fixes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_primary_checks_cluster_ids_against_remote_secrets() {
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::PostParams;
    let env = env(MultiClusterMode::MultiPrimary).await;
    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("[ok] Istio cluster IDs (multi-primary) are known, unique and match the remote secrets: mgmt-cluster cluster1, remote-cluster cluster2"),
        "{text}"
    );
    let out = env.smh(&["describe", "mesh", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mgmt_mesh = &doc["meshes"][0];
    assert_eq!(mgmt_mesh["cluster"], "mgmt-cluster");
    assert_eq!(mgmt_mesh["istioClusterId"], "cluster1");
    assert_eq!(
        mgmt_mesh["istioClusterIdSource"],
        "istiod's CLUSTER_ID environment variable"
    );
    assert_eq!(
        mgmt_mesh["remoteSecrets"],
        json!([{"secret": "istio-system/istio-remote-secret-cluster2", "clusterIds": ["cluster2"], "annotation": "cluster2"}])
    );

    // Recreate mgmt-cluster's remote secret under the SMH name.
    let secrets: Api<Secret> = Api::namespaced(env.client("mgmt-cluster"), "istio-system");
    let old = secrets.get("istio-remote-secret-cluster2").await.unwrap();
    secrets
        .delete("istio-remote-secret-cluster2", &DeleteParams::default())
        .await
        .unwrap();
    let kubeconfig = old.data.unwrap().into_values().next().unwrap();
    let new: Secret = serde_json::from_value(json!({
        "metadata": {"name": "istio-remote-secret-remote-cluster", "namespace": "istio-system",
                     "labels": {"istio/multiCluster": "true"},
                     "annotations": {"networking.istio.io/cluster": "remote-cluster"}},
        "data": {"remote-cluster": kubeconfig},
    }))
    .unwrap();
    secrets.create(&PostParams::default(), &new).await.unwrap();

    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let text = stdout(&out);
    for needle in [
        "[FAIL] Istio cluster IDs (multi-primary) are known, unique and match the remote secrets\n  - mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\", not remote-cluster's Istio cluster ID \"cluster2\"",
        "the subsets on topology.istio.io/cluster=cluster2 in DestinationRule bookinfo/reviews there select nothing, and traffic sent to them gets 503s",
        "Hint: recreate it under remote-cluster's cluster ID: \"istioctl create-remote-secret --context=remote-cluster --name=cluster2 | kubectl apply --context=mgmt-cluster -f -\"",
        "[FAIL] FailoverService service-mesh-hub/reviews-failover can fail over",
    ] {
        assert!(text.contains(needle), "missing {needle:?}\n{text}");
    }
    let out = env
        .smh(&["describe", "fs", "reviews-failover", "-o", "json"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = doc["failoverServices"][0]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["severity"], "error");
    // failover test runs the drill's preflight: the same finding fails it.
    let out = env
        .smh(&["failover", "test", "reviews-failover", "--requests", "3"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  - Istio cluster IDs: mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\""),
        "{text}"
    );
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_failover_service_whose_secondary_went_away_fails_check() {
    let env = env(MultiClusterMode::Global).await;
    // reviews-v3 scaled to 0 (gloo-mesh#947): the remote reviews Service has no sidecar
    // workloads any more, so SMH would now reject the FailoverService; its stored status
    // still says ACCEPTED, and no controller notices.
    let remote = env.client("remote-cluster");
    let deploys: Api<Deployment> = Api::namespaced(remote.clone(), "bookinfo");
    deploys
        .patch(
            "reviews-v3",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
        .unwrap();
    // The scale-down rolled out: no reviews-v3 pod left, the Endpoints empty.
    env.fleet.wait_ready(READY_TIMEOUT).await.unwrap();
    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(text.contains("[FAIL] the accepted configuration is still valid against the clusters as they are now\n  - "), "{text}");
    assert!(
        text.contains(
            "Backing service reviews.bookinfo.remote-cluster not found in SMH discovery resources."
        ),
        "{text}"
    );
    assert!(
        text.contains("[ok] SMH networking configuration resources are in a valid state"),
        "{text}"
    );
    assert!(
        text.contains("[FAIL] FailoverService service-mesh-hub/reviews-failover can fail over"),
        "{text}"
    );

    // Nobody touched the generated DestinationRule: it is out of date (the clusters
    // changed), not "changed", and the advice is not `apply` (which refuses now).
    let out_of_date = "DestinationRule bookinfo/reviews in mgmt-cluster is out of date: it is as kubectl-smh applied it, but the configuration translates differently against the clusters as they are now (spec.trafficPolicy.outlierDetection); the configuration is no longer valid: ";
    assert!(
        text.contains(&format!(
            "[FAIL] every generated object is present and unmodified\n  - {out_of_date}"
        )),
        "{text}"
    );
    assert!(!text.contains("was changed"), "{text}");
    assert!(
        text.contains("Hint: objects out of date were not changed by anyone"),
        "{text}"
    );
    let out = env.smh(&["describe"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("error: {out_of_date}")), "{text}");
    assert!(
        text.contains("as `kubectl smh apply` refuses invalid configuration"),
        "{text}"
    );
    assert!(!text.contains("was changed"), "{text}");
    let out = env.smh(&["describe", "-o", "json"]).await;
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let generated = &doc["failoverServices"][0]["backingServices"][0]["generated"][0];
    assert_eq!(generated["state"], "outOfDate", "{generated:#}");
    assert_eq!(
        generated["fields"],
        json!(["spec.trafficPolicy.outlierDetection"])
    );
    assert!(
        !generated["invalid"].as_array().unwrap().is_empty(),
        "{generated:#}"
    );
    // The drill refuses, with the true reason.
    let out = env.smh(&["drill", "reviews-failover", "--yes"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        all.contains("DestinationRule bookinfo/reviews in cluster mgmt-cluster is out of date: nobody changed it since kubectl-smh applied it"),
        "{all}"
    );
    assert!(!all.contains("has drifted"), "{all}");
    assert!(!all.contains("to put it back"), "{all}");
    env.fleet.shutdown().await;
}

/// `failover test` with the secondary's cluster not answering: exit 3 naming the cluster,
/// nothing probed, and no false drift or "no ready endpoints" advice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_test_with_an_unreadable_backing_cluster_fails_with_3() {
    let env = env(MultiClusterMode::Global).await;
    env.fleet
        .cluster("remote-cluster")
        .unwrap()
        .faults()
        .set_unreachable(Some(Unreachable::Hang));
    let out = env.smh(&["failover", "test", "reviews-failover"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{}", describe_output(&out));
    assert!(
        err.contains("cluster remote-cluster (context remote-cluster")
            && err.contains("did not answer within 2s")
            && err.contains("nothing was probed"),
        "{err}"
    );
    let text = stdout(&out);
    assert!(
        !text.contains("drifted") && !text.contains("no ready endpoints"),
        "{text}"
    );
    env.fleet.shutdown().await;
}

/// A cluster that does not answer the state sweep is not asked again for the extras
/// (Endpoints, istiod): one request timeout, not two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_cluster_is_skipped_after_the_state_sweep() {
    let env = env(MultiClusterMode::Global).await;
    env.fleet
        .cluster("remote-cluster")
        .unwrap()
        .faults()
        .set_unreachable(Some(Unreachable::Hang));
    let contexts = contexts(&env.fleet, env.dir.path(), Duration::from_millis(500));
    let state = load_state(&contexts, &StateOptions::default())
        .await
        .unwrap();
    assert!(
        state
            .errors
            .contains_key(&ClusterName::new("remote-cluster")),
        "{:?}",
        state.errors
    );
    let answered: Vec<String> = answered_clients(&state).into_keys().collect();
    assert_eq!(answered, ["mgmt-cluster"]);

    // What collect builds from it: the remote rows say why, its endpoints were not asked
    // for (the message of a cluster without a client, not a timeout), istiod not read.
    let collected = collect(&contexts, &StateOptions::default(), "service-mesh-hub")
        .await
        .unwrap();
    let snap = &collected.snapshot;
    let remote = &snap.clusters["remote-cluster"];
    assert!(remote.error.is_some(), "{remote:?}");
    assert_eq!(remote.istiod, None);
    assert_eq!(remote.istiod_error, None);
    let endpoints: Vec<(&ServiceRef, &Result<EndpointCount, String>)> = snap
        .endpoints
        .iter()
        .filter(|(s, _)| s.cluster == "remote-cluster")
        .collect();
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    assert_eq!(
        endpoints[0].1,
        &Err("cluster remote-cluster could not be read".to_string())
    );
    assert!(snap.clusters["mgmt-cluster"].istiod.is_some());
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_smh_crds_fail_check_and_describe() {
    let fleet = fleet_with(MultiClusterMode::Global, |o| o.clusters[0].smh_crds = false).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig(&fleet, dir.path());
    let env = Env {
        fleet,
        dir,
        kubeconfig,
    };
    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("[ok] every cluster answers: mgmt-cluster (Kubernetes v"),
        "{text}"
    );
    assert!(text.contains("[FAIL] the SMH CRDs are served by the management cluster\n  - the SMH CRDs are not installed in"), "{text}");
    assert!(
        text.contains("Hint: install them with \"kubectl smh install\""),
        "{text}"
    );
    let out = env.smh(&["describe"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", describe_output(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("run `kubectl smh install`"),
        "{}",
        describe_output(&out)
    );
    env.fleet.shutdown().await;
}
