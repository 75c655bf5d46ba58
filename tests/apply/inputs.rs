//! Bad input and dry runs change nothing; `--diff` shows what would change.

use super::*;

pub(super) async fn bad_input_and_dry_runs_change_nothing(d: &Demo) {
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
}

pub(super) async fn diff_shows_what_would_change(d: &Demo) {
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
}
