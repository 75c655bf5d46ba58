//! `kubectl smh apply` and `kubectl smh install` end to end: the binary against the simulated
//! demo clusters (served in this process, reached through the real kube-rs client over
//! HTTP), checked with the kube client and, when it is available, real kubectl.
//!
//! The guide's configuration steps with the statuses it shows and productpage answering
//! from the primary; a second apply changing nothing; pruning by labels only; a cluster
//! failing and recovering; bad input changing nothing; dry runs; diff; install.

mod apply_support;
mod common;

use std::path::Path;
use std::time::Duration;

use apply_support::*;
use serde_json::{Value, json};

use smh_cluster::probe::{Prober, pick_pod};
use smh_core::drill::Class;
use smh_core::drill::classify::Classifier;
use smh_core::model::topology::MultiClusterMode;
use smh_sim::faults::{ErrorKind, Unreachable};

fn guide(n: usize) -> String {
    guide_file(n).display().to_string()
}

fn guide_all() -> String {
    guide_dir().display().to_string()
}

/// The ready pod of a deployment (the demo fleet is ready, so there is one).
async fn ready_pod(client: &kube::Client, deployment: &str) -> String {
    pick_pod(client, "bookinfo", deployment)
        .await
        .expect("a ready pod")
}

/// The guide's status blocks, as kubectl shows them (the guide's `acceptanceOrder: 1` on the
/// mgmt target came from a policy of SMH's multicluster setup guide that does not exist here;
/// kubectl-smh computes 0, which SMH omitted).
fn guide_tp_status() -> Value {
    json!({"observedGeneration": "1", "state": "ACCEPTED", "trafficTargets": {
        "reviews-bookinfo-mgmt-cluster.service-mesh-hub.": {"state": "ACCEPTED"},
        "reviews-bookinfo-remote-cluster.service-mesh-hub.": {"state": "ACCEPTED"}}})
}

fn guide_fs_status() -> Value {
    json!({"meshes": {"istiod-istio-system-mgmt-cluster.service-mesh-hub.": {"state": "ACCEPTED"}},
           "observedGeneration": "1", "state": "ACCEPTED"})
}

/// `status` of `kubectl -n NS get KIND/NAME -oyaml`.
async fn kubectl_status(kc: &Path, dir: &Path, ns: &str, what: &str) -> Option<Value> {
    let k = kubectl()?;
    let yaml = kubectl_ok(&k, kc, dir, &["-n", ns, "get", what, "-oyaml"]).await;
    let v: Value = serde_saphyr::from_str(&yaml).expect("kubectl prints YAML");
    Some(v["status"].clone())
}

struct Demo {
    fleet: smh_sim::fleet::SimFleet,
    dir: tempfile::TempDir,
    kc: std::path::PathBuf,
    mgmt: kube::Client,
    remote: kube::Client,
}

impl Demo {
    async fn start(mode: MultiClusterMode) -> Demo {
        Demo::with(demo_fleet(mode).await).await
    }

    async fn with(fleet: smh_sim::fleet::SimFleet) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let kc = kubeconfig(&fleet, dir.path());
        let mgmt = fleet.cluster("mgmt-cluster").unwrap().client().unwrap();
        let remote = fleet.cluster("remote-cluster").unwrap().client().unwrap();
        Demo {
            fleet,
            dir,
            kc,
            mgmt,
            remote,
        }
    }

    async fn smh(&self, args: &[&str]) -> Run {
        smh(&self.kc, self.dir.path(), args).await
    }

    async fn versions(&self) -> Vec<Vec<(String, String, String, String)>> {
        vec![
            istio_versions(&self.mgmt).await,
            istio_versions(&self.remote).await,
            smh_versions(&self.mgmt).await,
        ]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_step_by_step_then_nothing_changes() {
    let d = Demo::start(MultiClusterMode::Global).await;

    // Step 1: outlier detection.
    let r = d.smh(&["apply", "-f", &guide(1)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .starts_with("These contexts and API servers will be changed:\n  mgmt-cluster "),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(
            "trafficpolicy.networking.smh.solo.io/mgmt-reviews-outlier -n service-mesh-hub created"
        ),
        "{r:?}"
    );
    let tp = smh_status(
        &d.mgmt,
        "TrafficPolicy",
        "service-mesh-hub",
        "mgmt-reviews-outlier",
    )
    .await;
    assert_eq!(tp, guide_tp_status());
    if let Some(s) = kubectl_status(
        &d.kc,
        d.dir.path(),
        "service-mesh-hub",
        "trafficpolicy/mgmt-reviews-outlier",
    )
    .await
    {
        assert_eq!(s, guide_tp_status(), "as kubectl shows it");
    }
    // The outlier DestinationRules, in both clusters.
    for client in [&d.mgmt, &d.remote] {
        let dr = get(client, &istio_ar("DestinationRule"), "bookinfo", "reviews")
            .await
            .expect("reviews DestinationRule");
        assert_eq!(
            dr.data["spec"]["trafficPolicy"]["outlierDetection"],
            json!({"consecutive5xxErrors": 1, "interval": "10s", "baseEjectionTime": "30s", "maxEjectionPercent": 100})
        );
        assert_eq!(
            dr.metadata.labels.as_ref().unwrap()["app.kubernetes.io/managed-by"],
            "kubectl-smh"
        );
    }

    // Step 2: the FailoverService.
    let r = d.smh(&["apply", "-f", &guide(2)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let fs = smh_status(
        &d.mgmt,
        "FailoverService",
        "service-mesh-hub",
        "reviews-failover",
    )
    .await;
    assert_eq!(fs, guide_fs_status());
    if let Some(s) = kubectl_status(
        &d.kc,
        d.dir.path(),
        "service-mesh-hub",
        "failoverservice/reviews-failover",
    )
    .await
    {
        assert_eq!(s, guide_fs_status(), "as kubectl shows it");
    }
    let se = get(
        &d.mgmt,
        &istio_ar("ServiceEntry"),
        "service-mesh-hub",
        "reviews-failover",
    )
    .await
    .expect("the ServiceEntry");
    assert_eq!(se.data["spec"]["addresses"], json!(["240.76.63.152"]));
    assert!(
        get(
            &d.mgmt,
            &istio_ar("EnvoyFilter"),
            "istio-system",
            "reviews-failover"
        )
        .await
        .is_some()
    );

    // Step 3: the traffic shift. Accepted second on reviews@mgmt, after the outlier policy.
    let r = d.smh(&["apply", "-f", &guide(3)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let shift = smh_status(
        &d.mgmt,
        "TrafficPolicy",
        "bookinfo",
        "reviews-shift-failover",
    )
    .await;
    assert_eq!(
        shift,
        json!({"observedGeneration": "1", "state": "ACCEPTED", "trafficTargets": {
            "reviews-bookinfo-mgmt-cluster.service-mesh-hub.": {"acceptanceOrder": 1, "state": "ACCEPTED"}}})
    );
    // The earlier statuses stay as they were.
    assert_eq!(
        smh_status(
            &d.mgmt,
            "TrafficPolicy",
            "service-mesh-hub",
            "mgmt-reviews-outlier"
        )
        .await,
        guide_tp_status()
    );
    let vs = get(&d.mgmt, &istio_ar("VirtualService"), "bookinfo", "reviews")
        .await
        .expect("the VirtualService");
    assert_eq!(
        vs.data["spec"]["http"][0]["route"][0]["destination"]["host"],
        "reviews-failover.bookinfo.global"
    );

    // productpage answers from the primary (reviews v1/v2 in mgmt-cluster) through the
    // failover hostname.
    let pod = ready_pod(&d.mgmt, "productpage-v1").await;
    let prober = Prober::new(
        d.mgmt.clone(),
        "bookinfo",
        &pod,
        9080,
        Duration::from_secs(5),
    );
    let classifier = Classifier::bookinfo();
    for _ in 0..5 {
        let (result, _) = prober.get("/productpage").await;
        assert_eq!(result.status(), Some(200), "{result:?}");
        assert_eq!(
            classifier.classify(result.as_answer()).class,
            Class::Primary
        );
    }

    // The same input again changes nothing: no resourceVersion moves.
    let before = d.versions().await;
    let r = d.smh(&["apply", "-f", &guide_all()]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(d.versions().await, before, "{r:?}");
    assert!(
        !r.stdout.contains("created") && !r.stdout.contains("configured"),
        "{r:?}"
    );
    let yaml = d.smh(&["apply", "-f", &guide_all(), "-o", "json"]).await;
    let out: Value = serde_json::from_str(&yaml.stdout).expect("JSON result");
    for c in out["clusters"].as_array().unwrap() {
        assert_eq!(
            (
                c["created"].as_u64(),
                c["configured"].as_u64(),
                c["pruned"].as_u64(),
                c["failed"].as_u64()
            ),
            (Some(0), Some(0), Some(0), Some(0)),
            "{c}"
        );
    }
    assert_eq!(out["clusters"][0]["unchanged"], 5);
    assert_eq!(out["clusters"][1]["unchanged"], 1);
    assert!(
        out["smhObjects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["outcome"] == "unchanged")
    );
    assert!(
        out["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["written"] == false)
    );
    assert_eq!(d.versions().await, before);
    d.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_in_multi_primary_mode() {
    let d = Demo::start(MultiClusterMode::MultiPrimary).await;
    let r = d.smh(&["apply", "-f", &guide_all()]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        smh_status(
            &d.mgmt,
            "FailoverService",
            "service-mesh-hub",
            "reviews-failover"
        )
        .await,
        guide_fs_status()
    );
    // No .global hosts: per-cluster subsets of reviews.bookinfo.svc.cluster.local.
    let dr = get(&d.mgmt, &istio_ar("DestinationRule"), "bookinfo", "reviews")
        .await
        .unwrap();
    let subsets: Vec<&str> = dr.data["spec"]["subsets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(subsets.contains(&"cluster-remote-cluster"), "{subsets:?}");
    let before = d.versions().await;
    assert_eq!(d.smh(&["apply", "-f", &guide_all()]).await.code, 0);
    assert_eq!(d.versions().await, before);
    d.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_goes_by_labels_only() {
    let d = Demo::start(MultiClusterMode::Global).await;
    assert_eq!(d.smh(&["apply", "-f", &guide_all()]).await.code, 0);
    let vs_ar = istio_ar("VirtualService");
    assert!(get(&d.mgmt, &vs_ar, "bookinfo", "reviews").await.is_some());

    // The shift policy goes from the cluster: its VirtualService is pruned by the next apply.
    let tps: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(d.mgmt.clone(), "bookinfo", &smh_ar("TrafficPolicy"));
    tps.delete("reviews-shift-failover", &Default::default())
        .await
        .unwrap();
    let r = d.smh(&["apply", "-f", &guide(1)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("virtualservice.networking.istio.io/reviews -n bookinfo pruned"),
        "{r:?}"
    );
    assert!(get(&d.mgmt, &vs_ar, "bookinfo", "reviews").await.is_none());

    // A VirtualService of the same name without our labels is somebody else's: never pruned,
    // never taken over.
    let theirs = create(
        &d.mgmt,
        &vs_ar,
        json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
               "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": {"team": "reviews"}},
               "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]}}),
    )
    .await;
    let r = d.smh(&["apply", "-f", &guide(1)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = d.smh(&["apply", "-f", &guide(3)]).await;
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stdout
            .contains("already exists in cluster mgmt-cluster and is not managed by kubectl-smh"),
        "{r:?}"
    );
    let still = get(&d.mgmt, &vs_ar, "bookinfo", "reviews").await.unwrap();
    assert_eq!(
        still.metadata.resource_version,
        theirs.metadata.resource_version
    );
    let shift = smh_status(
        &d.mgmt,
        "TrafficPolicy",
        "bookinfo",
        "reviews-shift-failover",
    )
    .await;
    assert_eq!(shift["state"], "FAILED", "{shift}");
    let entry = &shift["trafficTargets"]["reviews-bookinfo-mgmt-cluster.service-mesh-hub."];
    assert_eq!(entry["state"], "FAILED");
    assert!(
        entry["errors"][0].as_str().unwrap().starts_with(
            "VirtualService bookinfo/reviews was not applied: VirtualService bookinfo/reviews already exists in cluster mgmt-cluster"
        ),
        "{entry}"
    );

    // --prune=false keeps what is no longer wanted.
    tps.delete("reviews-shift-failover", &Default::default())
        .await
        .unwrap();
    let fss: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        d.mgmt.clone(),
        "service-mesh-hub",
        &smh_ar("FailoverService"),
    );
    fss.delete("reviews-failover", &Default::default())
        .await
        .unwrap();
    let r = d.smh(&["apply", "-f", &guide(1), "--prune=false"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        get(
            &d.mgmt,
            &istio_ar("ServiceEntry"),
            "service-mesh-hub",
            "reviews-failover"
        )
        .await
        .is_some()
    );
    let r = d.smh(&["apply", "-f", &guide(1)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        get(
            &d.mgmt,
            &istio_ar("ServiceEntry"),
            "service-mesh-hub",
            "reviews-failover"
        )
        .await
        .is_none()
    );
    assert!(
        get(
            &d.mgmt,
            &istio_ar("EnvoyFilter"),
            "istio-system",
            "reviews-failover"
        )
        .await
        .is_none()
    );
    // SMH's own federation objects (owner label only) are untouched.
    assert!(
        get(
            &d.mgmt,
            &istio_ar("ServiceEntry"),
            "istio-system",
            "reviews.bookinfo.svc.remote-cluster.global"
        )
        .await
        .is_some()
    );
    d.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_cluster_is_reported_and_a_rerun_converges() {
    let d = Demo::start(MultiClusterMode::Global).await;
    let remote = d.fleet.cluster("remote-cluster").unwrap();

    // Never discovered and not answering: nothing can be validated, nothing changes.
    remote.faults().set_unreachable(Some(Unreachable::Hang));
    let before = vec![istio_versions(&d.mgmt).await, smh_versions(&d.mgmt).await];
    let r = d
        .smh(&["apply", "-f", &guide_all(), "--request-timeout", "1s"])
        .await;
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("did not answer within 1s"), "{r:?}");
    assert!(
        r.stderr
            .contains("no earlier discovery of remote-cluster is cached"),
        "{r:?}"
    );
    assert_eq!(
        vec![istio_versions(&d.mgmt).await, smh_versions(&d.mgmt).await],
        before
    );
    remote.faults().clear();

    // One successful apply caches what remote-cluster looks like.
    assert_eq!(d.smh(&["apply", "-f", &guide(1)]).await.code, 0);

    for fault in ["500", "hang"] {
        match fault {
            "500" => remote.faults().set_error_rate(ErrorKind::Internal, 1.0),
            _ => remote.faults().set_unreachable(Some(Unreachable::Hang)),
        }
        let r = d
            .smh(&["apply", "-f", &guide_all(), "--request-timeout", "1s"])
            .await;
        assert_eq!(r.code, 3, "{fault}: {r:?}");
        assert_eq!(
            r.stderr
                .matches("using its topology as discovered at")
                .count(),
            1,
            "said once, before the changes: {r:?}"
        );
        // mgmt-cluster converged.
        for (kind, ns, name) in [
            ("ServiceEntry", "service-mesh-hub", "reviews-failover"),
            ("EnvoyFilter", "istio-system", "reviews-failover"),
            ("VirtualService", "bookinfo", "reviews"),
            (
                "DestinationRule",
                "istio-system",
                "reviews-bookinfo-remote-cluster",
            ),
        ] {
            assert!(
                get(&d.mgmt, &istio_ar(kind), ns, name).await.is_some(),
                "{kind} {ns}/{name}"
            );
        }
        // The status names remote-cluster and the reason.
        let tp = smh_status(
            &d.mgmt,
            "TrafficPolicy",
            "service-mesh-hub",
            "mgmt-reviews-outlier",
        )
        .await;
        assert_eq!(tp["state"], "FAILED", "{fault}: {tp}");
        let entry = &tp["trafficTargets"]["reviews-bookinfo-remote-cluster.service-mesh-hub."];
        assert_eq!(entry["state"], "FAILED");
        let msg = entry["errors"][0].as_str().unwrap();
        assert!(msg.starts_with("DestinationRule bookinfo/reviews was not applied: cluster remote-cluster (context remote-cluster"), "{msg}");
        let reason = if fault == "500" {
            "the API server answered 500"
        } else {
            "did not answer within 1s"
        };
        assert!(msg.contains(reason), "{msg}");
        assert_eq!(
            tp["trafficTargets"]["reviews-bookinfo-mgmt-cluster.service-mesh-hub."],
            json!({"state": "ACCEPTED"})
        );
        // The FailoverService's objects are all in mgmt-cluster: accepted.
        assert_eq!(
            smh_status(
                &d.mgmt,
                "FailoverService",
                "service-mesh-hub",
                "reviews-failover"
            )
            .await,
            guide_fs_status()
        );
        remote.faults().clear();

        // Once remote-cluster answers, a re-run converges.
        let r = d.smh(&["apply", "-f", &guide_all()]).await;
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(
            smh_status(
                &d.mgmt,
                "TrafficPolicy",
                "service-mesh-hub",
                "mgmt-reviews-outlier"
            )
            .await,
            guide_tp_status()
        );
        let before = d.versions().await;
        assert_eq!(d.smh(&["apply", "-f", &guide_all()]).await.code, 0);
        assert_eq!(d.versions().await, before);
    }
    d.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_dry_runs_change_nothing() {
    let d = Demo::start(MultiClusterMode::Global).await;
    assert_eq!(d.smh(&["apply", "-f", &guide(1)]).await.code, 0);
    let before = d.versions().await;

    // A backing service that does not exist, and a port out of range: SMH's messages, exit 2.
    let bad = d.dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(guide_file(2))
            .unwrap()
            .replace("number: 9080", "number: 0"),
    )
    .unwrap();
    let bad2 = d.dir.path().join("bad2.yaml");
    std::fs::write(
        &bad2,
        std::fs::read_to_string(guide_file(2)).unwrap().replace(
            "name: reviews\n      namespace: bookinfo\n      clusterName: remote-cluster",
            "name: nope\n      namespace: bookinfo\n      clusterName: remote-cluster",
        ),
    )
    .unwrap();
    for file in [&bad, &bad2] {
        let f = file.display().to_string();
        let r = d.smh(&["apply", "-f", &guide(3), "-f", &f]).await;
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("error: "), "{r:?}");
        assert!(
            r.stderr.contains("nothing applied, no cluster changed"),
            "{r:?}"
        );
        assert!(
            !r.stderr.contains("will be changed"),
            "no banner before a refusal: {r:?}"
        );
        assert_eq!(d.versions().await, before, "{r:?}");
    }
    let r = d
        .smh(&[
            "apply",
            "-f",
            &d.dir.path().join("missing.yaml").display().to_string(),
        ])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    // A cluster no context serves.
    let elsewhere = d.dir.path().join("elsewhere.yaml");
    std::fs::write(
        &elsewhere,
        std::fs::read_to_string(guide_file(1))
            .unwrap()
            .replace("clusterName: remote-cluster", "clusterName: elsewhere"),
    )
    .unwrap();
    let r = d
        .smh(&["apply", "-f", &elsewhere.display().to_string()])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("cluster \"elsewhere\" has no kubeconfig context"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("named by TrafficPolicy service-mesh-hub/mgmt-reviews-outlier"),
        "{r:?}"
    );
    assert_eq!(d.versions().await, before);

    // Client dry run: what would be applied, per cluster; no request that writes.
    let r = d
        .smh(&["apply", "-f", &guide_all(), "--dry-run=client"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("serviceentry.networking.istio.io/reviews-failover -n service-mesh-hub created (dry run)"), "{r:?}");
    assert!(r.stderr.starts_with("Dry run (client)"), "{r:?}");
    assert_eq!(d.versions().await, before);
    let r = d
        .smh(&[
            "apply",
            "-f",
            &guide_all(),
            "--dry-run=client",
            "-o",
            "yaml",
        ])
        .await;
    let out: Value = serde_saphyr::from_str(&r.stdout).expect("YAML result");
    assert_eq!(out["dryRun"], "client");
    let se = out["clusters"][0]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "ServiceEntry")
        .unwrap();
    assert_eq!(
        se["object"]["spec"]["hosts"],
        json!(["reviews-failover.bookinfo.global"])
    );
    let fs = out["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "FailoverService")
        .unwrap();
    assert_eq!(fs["state"], "ACCEPTED");
    assert_eq!(d.versions().await, before);

    // Server dry run: everything sent with dryRun=All, nothing stored.
    let r = d
        .smh(&["apply", "-f", &guide_all(), "--dry-run=server"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("envoyfilter.networking.istio.io/reviews-failover -n istio-system created (server dry run)"), "{r:?}");
    assert!(r.stdout.contains("failoverservice.networking.smh.solo.io/reviews-failover -n service-mesh-hub created (server dry run)"), "{r:?}");
    assert_eq!(d.versions().await, before);
    d.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_shows_what_would_change() {
    let d = Demo::start(MultiClusterMode::Global).await;
    assert_eq!(d.smh(&["apply", "-f", &guide(1)]).await.code, 0);
    let before = d.versions().await;

    let r = d.smh(&["apply", "-f", &guide(1), "--diff"]).await;
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:?}");

    // Somebody edits a field kubectl-smh owns; the input adds a FailoverService.
    let drs: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(d.mgmt.clone(), "bookinfo", &istio_ar("DestinationRule"));
    drs.patch(
        "reviews",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(
            json!({"spec": {"trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 7}}}}),
        ),
    )
    .await
    .unwrap();
    let before = {
        let mut b = before;
        b[0] = istio_versions(&d.mgmt).await;
        b
    };
    let r = d
        .smh(&["apply", "-f", &guide(1), "-f", &guide(2), "--diff"])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("# cluster mgmt-cluster\n"), "{r:?}");
    assert!(r.stdout.contains("--- mgmt-cluster/DestinationRule/bookinfo/reviews (live)\n+++ mgmt-cluster/DestinationRule/bookinfo/reviews (desired)\n"), "{r:?}");
    assert!(
        r.stdout
            .contains("-      consecutive5xxErrors: 7\n+      consecutive5xxErrors: 1\n"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("+++ mgmt-cluster/ServiceEntry/service-mesh-hub/reviews-failover (desired)"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(
            "+++ mgmt-cluster/FailoverService/service-mesh-hub/reviews-failover (desired)"
        ),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("managedFields") && !r.stdout.contains("resourceVersion"),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("remote-cluster/"),
        "remote-cluster has no difference: {r:?}"
    );
    assert_eq!(d.versions().await, before, "--diff changes nothing");

    // Applying repairs the edit; then there is no difference left.
    assert_eq!(d.smh(&["apply", "-f", &guide(1)]).await.code, 0);
    let r = d.smh(&["apply", "-f", &guide(1), "--diff"]).await;
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:?}");
    d.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_is_idempotent_and_apply_asks_for_it() {
    let fleet = fleet_with(MultiClusterMode::Global, |o| o.clusters[0].smh_crds = false).await;
    let d = Demo::with(fleet).await;
    let r = d.smh(&["apply", "-f", &guide(1)]).await;
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.contains("the SMH CRDs are not installed in"),
        "{r:?}"
    );
    assert!(r.stderr.contains("run `kubectl smh install`"), "{r:?}");

    let r = d.smh(&["install", "--dry-run=client"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("failoverservices.networking.smh.solo.io created (dry run)"),
        "{r:?}"
    );
    let r = d.smh(&["install"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .starts_with("These contexts and API servers will be changed:\n  mgmt-cluster"),
        "{r:?}"
    );
    assert_eq!(
        r.stdout,
        "customresourcedefinition.apiextensions.k8s.io/failoverservices.networking.smh.solo.io created\n\
         customresourcedefinition.apiextensions.k8s.io/trafficpolicies.networking.smh.solo.io created\n\
         namespace/service-mesh-hub unchanged\n\
         The SMH CRDs are established in mgmt-cluster; next: kubectl smh apply -f FILE\n"
    );
    let crds = istio_like_versions(&d.mgmt).await;
    let r = d.smh(&["install"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.matches(" unchanged\n").count(), 3, "{r:?}");
    assert_eq!(
        istio_like_versions(&d.mgmt).await,
        crds,
        "a second install changes nothing"
    );
    let r = d.smh(&["install", "--dry-run=server"]).await;
    assert_eq!(
        r.stdout.matches(" unchanged (server dry run)\n").count(),
        3,
        "{r:?}"
    );

    let r = d.smh(&["apply", "-f", &guide_all()]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        smh_status(
            &d.mgmt,
            "FailoverService",
            "service-mesh-hub",
            "reviews-failover"
        )
        .await,
        guide_fs_status()
    );
    d.fleet.shutdown().await;
}

/// resourceVersions of the SMH CRDs.
async fn istio_like_versions(client: &kube::Client) -> Vec<String> {
    let api: kube::Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        kube::Api::all(client.clone());
    let mut out = Vec::new();
    for name in [
        "failoverservices.networking.smh.solo.io",
        "trafficpolicies.networking.smh.solo.io",
    ] {
        out.push(
            api.get(name)
                .await
                .unwrap()
                .metadata
                .resource_version
                .unwrap_or_default(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_without_istio_crds_is_named() {
    let d = Demo::start(MultiClusterMode::Global).await;
    let crds: kube::Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = kube::Api::all(d.remote.clone());
    for crd in crds.list(&Default::default()).await.unwrap().items {
        if crd.spec.group == "networking.istio.io" {
            let name = crd.metadata.name.unwrap();
            crds.delete(&name, &Default::default()).await.unwrap();
        }
    }
    let r = d.smh(&["apply", "-f", &guide(1)]).await;
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stdout.contains(
            "destinationrule.networking.istio.io/reviews -n bookinfo failed: DestinationRule \
             bookinfo/reviews was not applied: Istio is not installed in cluster remote-cluster"
        ),
        "{r:?}"
    );
    // mgmt-cluster converged.
    assert!(
        get(&d.mgmt, &istio_ar("DestinationRule"), "bookinfo", "reviews")
            .await
            .is_some()
    );
    let tp = smh_status(
        &d.mgmt,
        "TrafficPolicy",
        "service-mesh-hub",
        "mgmt-reviews-outlier",
    )
    .await;
    assert_eq!(tp["state"], "FAILED", "{tp}");
    d.fleet.shutdown().await;
}

/// A TrafficPolicy with fault injection and mirroring at 100 percent: the generated
/// VirtualService says `100.0`, the API server stores and returns `100`. Compared by value,
/// the second apply plans nothing. A change someone else makes is named, with its field
/// manager, before the apply puts the configuration back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percentages_compare_by_value_and_others_changes_are_named() {
    let d = Demo::start(MultiClusterMode::Global).await;
    let file = d.dir.path().join("fault.yaml");
    std::fs::write(
        &file,
        "apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata:
  name: reviews-fault
  namespace: bookinfo
spec:
  destinationSelector:
  - kubeServiceRefs:
      services:
      - {clusterName: mgmt-cluster, name: reviews, namespace: bookinfo}
  faultInjection:
    fixedDelay: 1s
    percentage: 100
  mirror:
    kubeService: {clusterName: mgmt-cluster, name: ratings, namespace: bookinfo}
    percentage: 100
",
    )
    .unwrap();
    let file = file.display().to_string();
    let r = d.smh(&["apply", "-f", &file]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let vs = get(&d.mgmt, &istio_ar("VirtualService"), "bookinfo", "reviews")
        .await
        .expect("the VirtualService");
    let http = &vs.data["spec"]["http"][0];
    // Stored as the API server stores it: a whole number.
    assert_eq!(
        serde_json::to_string(&http["fault"]["delay"]["percentage"]).unwrap(),
        r#"{"value":100}"#,
        "{http}"
    );
    assert_eq!(
        serde_json::to_string(&http["mirrorPercentage"]).unwrap(),
        r#"{"value":100}"#,
        "{http}"
    );

    // Again: every object is planned unchanged; nothing is sent, nothing moves.
    let before = d.versions().await;
    let r = d.smh(&["apply", "-f", &file, "-o", "json"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let out: Value = serde_json::from_str(&r.stdout).expect("JSON result");
    for c in out["clusters"].as_array().unwrap() {
        for o in c["objects"].as_array().unwrap() {
            assert_eq!(o["action"], "unchanged", "{o}");
        }
    }
    assert_eq!(d.versions().await, before);
    let r = d.smh(&["apply", "-f", &file, "--diff"]).await;
    assert_eq!(r.code, 0, "no differences: {r:?}");

    // Someone edits the route: the apply names them, then puts the configuration back.
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(d.mgmt.clone(), "bookinfo", &istio_ar("VirtualService"));
    let mut edited = vs.data["spec"]["http"].clone();
    edited[0]["fault"]["delay"]["percentage"]["value"] = json!(50);
    api.patch(
        "reviews",
        &kube::api::PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &kube::api::Patch::Merge(json!({"spec": {"http": edited}})),
    )
    .await
    .unwrap();
    let r = d.smh(&["apply", "-f", &file]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains(
            "warning: VirtualService bookinfo/reviews in mgmt-cluster was changed by kubectl-edit: spec.http"
        ),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(
            "virtualservice.networking.istio.io/reviews -n bookinfo configured (was changed by kubectl-edit: spec.http"
        ),
        "{r:?}"
    );
    let vs = get(&d.mgmt, &istio_ar("VirtualService"), "bookinfo", "reviews")
        .await
        .unwrap();
    assert_eq!(
        vs.data["spec"]["http"][0]["fault"]["delay"]["percentage"]["value"],
        json!(100)
    );
    d.fleet.shutdown().await;
}
