//! What goes wrong is named: an unreachable or hung cluster, an invalid FailoverService, a
//! broken or unprotected primary, a secondary gone away, an unreadable backing cluster,
//! missing SMH CRDs.

use super::*;

/// Simulated clusters only: the clusters close every connection at will, which a real API
/// server does not; a hanging API server runs on both backends
/// ([`failover_test_with_an_unreadable_backing_cluster_fails_with_3`]).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_remote_cluster_is_a_row_not_a_failure() {
    let env = env(MultiClusterMode::Global).await;
    env.sim()
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
    env.sim()
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
    env.shutdown().await;
}

pub(super) async fn invalid_failover_service_fails_check_with_meshctl_line(env: &Env) {
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
}

pub(super) async fn failover_test_fails_when_the_primary_is_broken_or_unprotected(env: &Env) {
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
        &contexts_at(&env.kubeconfig, env.dir.path(), Duration::from_secs(2)),
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
    env.wait_settled().await;
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
}

pub(super) async fn an_accepted_failover_service_whose_secondary_went_away_fails_check(env: &Env) {
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
    // The scale-down rolled out: no reviews-v3 pod left, the Endpoints empty. On real control
    // planes a deleted pod stays (terminating) until its node confirms it is gone, after the
    // Endpoints have dropped it: wait until no reviews-v3 pod object is left.
    env.wait_settled().await;
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(remote.clone(), "bookinfo");
    let t = std::time::Instant::now();
    while !pods
        .list(&kube::api::ListParams::default().labels("app=reviews,version=v3"))
        .await
        .unwrap()
        .items
        .is_empty()
    {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "reviews-v3 pods left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
}

/// `failover test` with the secondary's cluster not answering: exit 3 naming the cluster,
/// nothing probed, and no false drift or "no ready endpoints" advice.
pub(super) async fn failover_test_with_an_unreadable_backing_cluster_fails_with_3(env: &Env) {
    let _hang = env.clusters.hang("remote-cluster");
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
}

/// A cluster that does not answer the state sweep is not asked again for the extras
/// (Endpoints, istiod): one request timeout, not two.
pub(super) async fn a_hung_cluster_is_skipped_after_the_state_sweep(env: &Env) {
    let _hang = env.clusters.hang("remote-cluster");
    let contexts = contexts_at(&env.kubeconfig, env.dir.path(), Duration::from_millis(500));
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
}

/// Simulated clusters only: the clusters start without the SMH CRDs (a start option). On both
/// backends, tests/apply's install scenario removes them and `apply` asks for `install`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_smh_crds_fail_check_and_describe() {
    let fleet = fleet_with(MultiClusterMode::Global, |o| o.clusters[0].smh_crds = false).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig(&fleet, dir.path());
    let env = Env {
        clusters: Clusters::Sim(fleet),
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
    env.shutdown().await;
}
