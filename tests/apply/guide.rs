//! The guide's configuration steps, in both multi-cluster modes: the statuses it shows,
//! productpage answering from the primary, and a second apply changing nothing.

use super::*;

/// The guide's three steps with their statuses, productpage answering from the primary, and
/// the same input again changing nothing.
pub(super) async fn the_guide_step_by_step_then_nothing_changes(d: &Demo) {
    guide_step_1_outlier_detection(d).await;
    guide_step_2_failover_service(d).await;
    guide_step_3_traffic_shift(d).await;
    productpage_answers_from_the_primary(d).await;
    the_same_input_again_changes_nothing(d).await;
}

/// Step 1: the outlier TrafficPolicy, its status (also as kubectl shows it) and the
/// DestinationRules in both clusters.
async fn guide_step_1_outlier_detection(d: &Demo) {
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
}

/// Step 2: the FailoverService, its status, its ServiceEntry and EnvoyFilter.
async fn guide_step_2_failover_service(d: &Demo) {
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
}

/// Step 3: the traffic shift, accepted second; the VirtualService routes to the failover host.
async fn guide_step_3_traffic_shift(d: &Demo) {
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
}

/// productpage answers from the primary through the failover hostname.
async fn productpage_answers_from_the_primary(d: &Demo) {
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
}

/// The same input again changes nothing: no resourceVersion moves, every count is 0.
async fn the_same_input_again_changes_nothing(d: &Demo) {
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
}

/// Simulated clusters only: tests/backends.rs applies the guide in multi-primary mode on both
/// backends, and tests/inspect checks its subsets on real control planes.
///
/// `auto` picks the native strategy (a subset with a failover priority on the primary's Istio
/// cluster ID, no EnvoyFilter); `--strategy aggregate` switches to per-cluster subsets and the
/// aggregate cluster, pins it in the FailoverService's annotation, and prunes what native
/// wrote; a second apply of either changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_in_multi_primary_mode() {
    let d = Demo::start(MultiClusterMode::MultiPrimary).await;
    let subsets = |dr: &Value| -> Vec<String> {
        dr["spec"]["subsets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["name"].as_str().map(str::to_string))
            .collect()
    };
    let envoy_filters = || async {
        istio_versions(&d.mgmt)
            .await
            .iter()
            .filter(|(kind, ..)| kind == "EnvoyFilter")
            .count()
    };

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
    let dr = get(&d.mgmt, &istio_ar("DestinationRule"), "bookinfo", "reviews")
        .await
        .unwrap();
    assert_eq!(
        subsets(&dr.data),
        ["failover-reviews-failover-service-mesh-hub"]
    );
    assert_eq!(
        dr.data["spec"]["subsets"][0]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["failoverPriority"],
        json!(["topology.istio.io/cluster=cluster1"])
    );
    assert_eq!(envoy_filters().await, 0);
    let before = d.versions().await;
    assert_eq!(d.smh(&["apply", "-f", &guide_all()]).await.code, 0);
    assert_eq!(d.versions().await, before);

    // No .global hosts: per-cluster subsets of reviews.bookinfo.svc.cluster.local.
    let r = d
        .smh(&["apply", "-f", &guide_all(), "--strategy", "aggregate"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let dr = get(&d.mgmt, &istio_ar("DestinationRule"), "bookinfo", "reviews")
        .await
        .unwrap();
    let names = subsets(&dr.data);
    assert!(
        names.contains(&"cluster-remote-cluster".to_string()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"failover-reviews-failover-service-mesh-hub".to_string()),
        "{names:?}"
    );
    assert_eq!(envoy_filters().await, 1);
    let before = d.versions().await;
    assert_eq!(
        d.smh(&["apply", "-f", &guide_all(), "--strategy", "aggregate"])
            .await
            .code,
        0
    );
    assert_eq!(d.versions().await, before);
    d.shutdown().await;
}
