//! The guide's setup described, checked and tested clean; drift named with its field and
//! the manager that changed it.

use super::*;

pub(super) async fn healthy_guide_setup_describes_checks_and_tests_clean(env: &Env) {
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
}

pub(super) async fn drift_is_named_with_its_field_and_manager(env: &Env) {
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
}
