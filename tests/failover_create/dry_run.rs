//! `--dry-run` on the demo clusters: the guide's manifests with `-o yaml`, the per-cluster
//! plan as YAML comments without `-o`, unknown services refused with suggestions.

use super::*;

pub(super) async fn dry_run_with_the_guides_parameters_prints_the_guides_manifests(demo: &Demo) {
    let before = smh_versions(&demo.mgmt()).await;

    let mut c = demo.command();
    c.args(GUIDE_FLAGS).args([
        "--outlier-policy-name",
        "mgmt-reviews-outlier",
        "--shift-policy-name",
        "reviews-shift-failover",
        "--dry-run",
        "-o",
        "yaml",
    ]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text(&out.stdout)).unwrap();
    let docs: Vec<Value> = docs.into_iter().map(without_created_for).collect();
    assert_eq!(docs, guide_values(), "{}", text(&out.stdout));

    // -o json: the same objects in a v1 List.
    let mut c = demo.command();
    c.args(GUIDE_FLAGS).args(["--dry-run", "-o", "json"]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    let names: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap(),
                i["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("TrafficPolicy", "reviews-failover-outlier"),
            ("FailoverService", "reviews-failover"),
            ("TrafficPolicy", "reviews-failover-shift"),
        ]
    );
    assert_eq!(
        list["items"][0]["metadata"]["annotations"]["failover.kubectl-smh.io/created-for"],
        "service-mesh-hub/reviews-failover"
    );

    // Nothing was stored.
    assert_eq!(smh_versions(&demo.mgmt()).await, before);
}

pub(super) async fn dry_run_without_output_adds_the_plan_as_comments(demo: &Demo) {
    let mut c = demo.command();
    c.args(GUIDE_FLAGS).arg("--dry-run");
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // Still YAML: the plan is comments.
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&stdout).unwrap();
    assert_eq!(docs.len(), 3);
    let plan: Vec<&str> = stdout.lines().filter(|l| l.starts_with('#')).collect();
    let actions: Vec<String> = plan
        .iter()
        .filter(|l| l.contains("  create  "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        actions,
        [
            "# create DestinationRule bookinfo/reviews",
            "# create DestinationRule istio-system/reviews-bookinfo-remote-cluster",
            "# create EnvoyFilter istio-system/reviews-failover",
            "# create ServiceEntry service-mesh-hub/reviews-failover",
            "# create VirtualService bookinfo/reviews",
            "# create DestinationRule bookinfo/reviews",
        ],
        "{stdout}"
    );
    assert!(
        plan.iter()
            .any(|l| l.contains("mgmt-cluster (management; context mgmt-cluster)")),
        "{stdout}"
    );
    assert!(
        plan.iter()
            .any(|l| l.contains("remote-cluster (context remote-cluster)")),
        "{stdout}"
    );
    assert!(
        plan.iter().any(|l| l.contains("why: FailoverService service-mesh-hub/reviews-failover: Envoy cluster outbound|9080||reviews-failover.bookinfo.global is an aggregate")),
        "{stdout}"
    );
}

pub(super) async fn unknown_services_are_refused_with_suggestions(demo: &Demo) {
    let mut c = demo.command();
    c.args([
        "failover",
        "create",
        "--backing",
        "reviews.bookinfo@mgmt-cluster",
        "--backing",
        "reviewz.bookinfo@remote-cluster",
        "--dry-run",
    ]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: cannot create the FailoverService; nothing was changed:\n  --backing reviewz.bookinfo@remote-cluster: no such Service in cluster remote-cluster (did you mean ratings.bookinfo@remote-cluster, reviews.bookinfo@remote-cluster?)\n"
    );
    assert!(out.stdout.is_empty());
}

pub(super) async fn zero_loss_writes_first_error_ejection_and_retries_on_the_shift(demo: &Demo) {
    let mut c = demo.command();
    c.args([
        "failover",
        "create",
        "reviews-failover",
        "--backing",
        "reviews.bookinfo@mgmt-cluster",
        "--backing",
        "reviews.bookinfo@remote-cluster",
        "--shift-from",
        "reviews.bookinfo@mgmt-cluster",
        "--zero-loss",
        "--dry-run",
        "-o",
        "yaml",
    ]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text(&out.stdout)).unwrap();
    assert_eq!(docs.len(), 3, "{}", text(&out.stdout));
    // Outlier detection: consecutiveErrors 1; maxEjectionPercent 100 is SMH's default, so
    // it is left out.
    assert_eq!(
        docs[0]["spec"]["outlierDetection"],
        serde_json::json!({"consecutiveErrors": 1})
    );
    assert_eq!(docs[0]["spec"].get("retries"), None);
    assert_eq!(
        docs[2]["spec"]["retries"],
        serde_json::json!({"attempts": 20})
    );
    assert!(docs[2]["spec"]["trafficShift"].is_object());
}
