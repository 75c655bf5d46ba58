//! Creating end to end: applied, with the guide's statuses, productpage answering from the
//! primary, a second FailoverService reusing the outlier detection, and delete.

use super::*;

// ---------------------------------------------------------------------------------------
// Creating, end to end
// ---------------------------------------------------------------------------------------

pub(super) async fn create_with_flags_applies_and_productpage_answers_from_the_primary(
    demo: &Demo,
) {
    create_with_the_guides_flags(demo).await;
    the_statuses_are_the_guides(demo).await;
    productpage_answers_from_the_primary(demo).await;
    a_second_failover_service_reuses_the_outlier_detection(demo).await;
    creating_it_again_is_refused(demo).await;
    delete_with_policies_finds_the_policies(demo).await;
}

/// `failover create` with the guide's flags and `--yes`: the targets first, then what was
/// created.
async fn create_with_the_guides_flags(demo: &Demo) {
    let mut c = demo.command();
    c.args(GUIDE_FLAGS).arg("--yes");
    let out = run(c).await;
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{stdout}");
    // The targets first, then what was done and the statuses.
    assert!(
        stderr.starts_with("These contexts and API servers will be changed:\n  mgmt-cluster    (management)  context mgmt-cluster"),
        "{stderr}"
    );
    for line in [
        "failoverservice.networking.smh.solo.io/reviews-failover -n service-mesh-hub created",
        "trafficpolicy.networking.smh.solo.io/reviews-failover-outlier -n service-mesh-hub created",
        "trafficpolicy.networking.smh.solo.io/reviews-failover-shift -n bookinfo created",
        "envoyfilter.networking.istio.io/reviews-failover -n istio-system created",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
}

/// The statuses the guide shows.
async fn the_statuses_are_the_guides(demo: &Demo) {
    // The statuses the guide shows.
    let mgmt = demo.mgmt();
    let fs = get(
        &mgmt,
        &smh_ar("FailoverService"),
        "service-mesh-hub",
        "reviews-failover",
    )
    .await
    .unwrap();
    assert_eq!(
        fs.data["status"],
        serde_json::json!({
            "meshes": {"istiod-istio-system-mgmt-cluster.service-mesh-hub.": {"state": "ACCEPTED"}},
            "observedGeneration": "1",
            "state": "ACCEPTED"
        })
    );
    let od = get(
        &mgmt,
        &smh_ar("TrafficPolicy"),
        "service-mesh-hub",
        "reviews-failover-outlier",
    )
    .await
    .unwrap();
    assert_eq!(od.data["status"]["state"], "ACCEPTED");
    assert_eq!(
        od.data["status"]["trafficTargets"]["reviews-bookinfo-remote-cluster.service-mesh-hub."]["state"],
        "ACCEPTED"
    );
}

/// productpage answers from the primary through the FailoverService's aggregate cluster.
async fn productpage_answers_from_the_primary(demo: &Demo) {
    use smh_cluster::probe::{Prober, pick_pod};
    use smh_core::drill::Class;
    use smh_core::drill::classify::Classifier;

    let mgmt = demo.mgmt();
    // productpage answers, from the primary (reviews v1/v2 in mgmt-cluster), through the
    // FailoverService's aggregate cluster.
    // The demo fleet is ready, so productpage-v1 has a ready pod.
    let pod = pick_pod(&mgmt, "bookinfo", "productpage-v1")
        .await
        .expect("a ready productpage pod");
    let prober = Prober::new(mgmt.clone(), "bookinfo", &pod, 9080, Duration::from_secs(5));
    let classifier = Classifier::bookinfo();
    let mut classes = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while classes.len() < 5 {
            let (result, _) = prober.get("/productpage").await;
            if result.status() == Some(200) {
                classes.push(classifier.classify(result.as_answer()).class);
            } else {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    })
    .await
    .expect("productpage answers");
    assert!(classes.iter().all(|c| *c == Class::Primary), "{classes:?}");
}

/// A second FailoverService for the same services reuses their outlier detection.
async fn a_second_failover_service_reuses_the_outlier_detection(demo: &Demo) {
    // A second FailoverService for the same services reuses their outlier detection.
    let mut c = demo.command();
    c.args([
        "failover",
        "create",
        "reviews-again",
        "--backing",
        "reviews.bookinfo@remote-cluster",
        "--backing",
        "reviews.bookinfo@mgmt-cluster",
        "--dry-run",
        "-o",
        "json",
    ]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["FailoverService"]);
    assert!(
        text(&out.stderr).contains("note: reviews.bookinfo@remote-cluster keeps the outlier detection of TrafficPolicy service-mesh-hub/reviews-failover-outlier (consecutiveErrors 1, interval 10s, baseEjectionTime 30s, maxEjectionPercent 100)"),
        "{}",
        text(&out.stderr)
    );
}

/// Creating the first one again is refused (exit 2) and changes nothing.
async fn creating_it_again_is_refused(demo: &Demo) {
    let mgmt = demo.mgmt();
    // And creating the first one again is refused, changing nothing.
    let before = smh_versions(&mgmt).await;
    let mut c = demo.command();
    c.args(GUIDE_FLAGS).arg("--yes");
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("FailoverService service-mesh-hub/reviews-failover already exists"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(smh_versions(&mgmt).await, before);
}

/// `failover delete --with-policies` finds the policies by their annotation.
async fn delete_with_policies_finds_the_policies(demo: &Demo) {
    let mgmt = demo.mgmt();
    // `failover delete --with-policies` finds the policies by their annotation.
    let mut c = demo.command();
    c.args([
        "failover",
        "delete",
        "reviews-failover",
        "--with-policies",
        "--yes",
    ]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(smh_versions(&mgmt).await, Vec::new());
}
