//! Converging: pruning by labels only, a failing cluster reported and a rerun converging,
//! and changes compared by value with others' changes named.

use super::*;

pub(super) async fn prune_goes_by_labels_only(d: &Demo) {
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
    // Somebody else's VirtualService goes, for the scenarios after this one.
    let vss: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(d.mgmt.clone(), "bookinfo", &vs_ar);
    vss.delete("reviews", &Default::default()).await.unwrap();
}

/// remote-cluster answers 500 (simulated clusters) or hangs until the guard is dropped.
fn remote_fault(d: &Demo, fault: &str) -> Option<common::backend::Hang> {
    if fault == "500" {
        d.sim()
            .cluster("remote-cluster")
            .unwrap()
            .faults()
            .set_error_rate(ErrorKind::Internal, 1.0);
        return None;
    }
    Some(d.clusters.hang("remote-cluster"))
}

pub(super) async fn a_failing_cluster_is_reported_and_a_rerun_converges(d: &Demo) {
    // Never discovered and not answering: nothing can be validated, nothing changes.
    let hang = d.clusters.hang("remote-cluster");
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
    drop(hang);

    // One successful apply caches what remote-cluster looks like.
    assert_eq!(d.smh(&["apply", "-f", &guide(1)]).await.code, 0);

    // A hanging API server on both backends (on real control planes, its process stopped);
    // answers of 500 on the simulated clusters only: a real API server answers 500 on no
    // request a user can make it fail on at will.
    let faults: &[&str] = match d.clusters.backend() {
        Backend::Sim => &["500", "hang"],
        Backend::Real => &["hang"],
    };
    for &fault in faults {
        let hang = remote_fault(d, fault);
        // How a failing cluster is reported, not the retries (tests/cluster/retry.rs): one
        // attempt, so that the answer reported is the fault's.
        let r = d
            .smh(&[
                "apply",
                "-f",
                &guide_all(),
                "--request-timeout",
                "1s",
                "--retry-timeout",
                "0s",
            ])
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
        match hang {
            Some(hang) => drop(hang),
            None => d.sim().cluster("remote-cluster").unwrap().faults().clear(),
        }

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
}

/// A TrafficPolicy with fault injection and mirroring at 100 percent: the generated
/// VirtualService says `100.0`, the API server stores and returns `100`. Compared by value,
/// the second apply plans nothing. A change someone else makes is named, with its field
/// manager, before the apply puts the configuration back.
pub(super) async fn percentages_compare_by_value_and_others_changes_are_named(d: &Demo) {
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
}
