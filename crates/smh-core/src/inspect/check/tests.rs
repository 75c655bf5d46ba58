//! Unit tests of `inspect::check`, moved out of `check.rs` to keep each file short.

use super::*;
use crate::model::topology::MultiClusterMode;
use crate::testing::inspect::guide_snapshot;

fn run(snap: &Snapshot, strict: bool) -> CheckReport {
    run_checks(snap, &snap.drift(), CheckOptions { strict })
}

fn failures(r: &CheckReport) -> Vec<String> {
    r.categories
        .iter()
        .flat_map(|c| c.checks.iter())
        .filter(|c| c.status == Status::Fail)
        .flat_map(|c| c.messages.iter().cloned())
        .collect()
}

fn healthy() -> Snapshot {
    let mut snap = guide_snapshot(MultiClusterMode::Global);
    for c in snap.clusters.values_mut() {
        c.istiod = Some(crate::inspect::snapshot::Availability {
            namespace: "istio-system".into(),
            name: "istiod".into(),
            desired: 1,
            ready: 1,
            available: 1,
        });
    }
    snap
}

#[test]
fn healthy_setup_passes() {
    let r = run(&healthy(), true);
    assert!(r.success, "{:#?}", r);
    assert_eq!(r.summary.failed, 0);
    assert_eq!(r.summary.warnings, 0);
    let names: Vec<&str> = r.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Kubernetes API",
            "SMH CRDs",
            "Istio",
            "Management configuration",
            "Generated configuration",
            "Failover readiness",
            "Lint"
        ]
    );
    let istio = &r.categories[2].checks[0];
    assert_eq!(
        istio.description,
        "istiod is available in every cluster the configuration names: mgmt-cluster (istio-system/istiod 1.24.2, 1/1 available), remote-cluster (istio-system/istiod 1.24.2, 1/1 available)"
    );
}

#[test]
fn invalid_failover_service_fails_with_meshctl_line() {
    let mut snap = healthy();
    let fs = &mut snap.failover_services[0];
    fs.metadata.generation = Some(2);
    fs.status.as_mut().unwrap().state = ApprovalState::Invalid;
    let r = run(&snap, false);
    assert!(!r.success);
    let check = &r.categories[3].checks[0];
    assert_eq!(check.status, Status::Fail);
    assert_eq!(
        check.messages,
        [
            "FailoverService reviews-failover.service-mesh-hub: approval state is INVALID, observed generation does not match generation"
        ]
    );
    assert_eq!(
        check.hint.as_deref(),
        Some(
            "check the status of SMH networking resources with \"kubectl get failoverservices -Aoyaml\"; fix them and run \"kubectl smh apply\""
        )
    );
}

#[test]
fn drift_leftovers_and_unready_secondary_fail() {
    let mut snap = healthy();
    let live = snap
        .live
        .get_mut("remote-cluster")
        .unwrap()
        .as_mut()
        .unwrap();
    let mut extra = live[0].clone();
    extra["metadata"]["name"] = serde_json::json!("ratings");
    // Someone edits the host (and, as the API server records it, takes it over).
    live[0]["spec"]["host"] = serde_json::json!("x");
    live[0]["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .push(
            serde_json::json!({"manager": "kubectl-edit", "operation": "Update",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:host": {}}}}),
        );
    live.push(extra);
    snap.endpoints.insert(
        crate::inspect::snapshot::ServiceRef {
            cluster: "remote-cluster".into(),
            namespace: "bookinfo".into(),
            name: "reviews".into(),
        },
        Ok(crate::inspect::snapshot::EndpointCount { ready: 0, total: 1 }),
    );
    let r = run(&snap, false);
    assert_eq!(
        failures(&r),
        [
            "DestinationRule bookinfo/reviews in remote-cluster was changed by kubectl-edit: spec.host",
            "DestinationRule bookinfo/ratings in remote-cluster carries kubectl-smh's labels but the stored configuration, as it validates now, does not generate it",
            "the secondary reviews.bookinfo@remote-cluster has no ready endpoints: failover would have nowhere to go",
        ]
    );
}

#[test]
fn leftovers_only_warn_when_the_smh_objects_were_read_in_some_namespaces() {
    let mut snap = healthy();
    let live = snap
        .live
        .get_mut("remote-cluster")
        .unwrap()
        .as_mut()
        .unwrap();
    let mut extra = live[0].clone();
    extra["metadata"]["name"] = serde_json::json!("ratings");
    live.push(extra);
    snap.smh_scope = Some("SMH objects read in namespaces service-mesh-hub only".into());
    let r = run(&snap, false);
    assert!(r.success, "{r:#?}");
    let leftovers = &r.categories[4].checks[1];
    assert_eq!(leftovers.status, Status::Warn);
    assert!(
            leftovers
                .hint
                .as_deref()
                .is_some_and(|h| h.starts_with("SMH objects read in namespaces service-mesh-hub only; an object there may generate them")),
            "{leftovers:?}"
        );
    assert!(!run(&snap, true).success, "--strict fails on the warning");
}

#[test]
fn unreachable_cluster_and_missing_istiod_fail() {
    let mut snap = healthy();
    let remote = snap.clusters.get_mut("remote-cluster").unwrap();
    remote.error = Some("did not answer within 10s".into());
    snap.clusters.get_mut("mgmt-cluster").unwrap().istiod =
        Some(crate::inspect::snapshot::Availability {
            namespace: "istio-system".into(),
            name: "istiod".into(),
            desired: 1,
            ready: 0,
            available: 0,
        });
    let r = run(&snap, false);
    let f = failures(&r);
    assert!(
        f.contains(&"remote-cluster: did not answer within 10s".to_string()),
        "{f:#?}"
    );
    assert!(
        f.contains(
            &"mgmt-cluster: Deployment istio-system/istiod has 0 of 1 replicas available"
                .to_string()
        ),
        "{f:#?}"
    );
    assert!(
        f.contains(&"remote-cluster: not checked (the cluster could not be read)".to_string()),
        "{f:#?}"
    );
}

#[test]
fn warnings_fail_only_when_strict() {
    let mut snap = healthy();
    snap.diagnostics.push(crate::model::Diagnostic {
        severity: Severity::Warning,
        source: None,
        object: None,
        field: Some("spec.outlierDetection.maxEjectionPercent".into()),
        position: None,
        message: "maxEjectionPercent 50 is below 100".into(),
        status_target: None,
    });
    let r = run(&snap, false);
    assert!(r.success);
    assert_eq!(r.summary.warnings, 1);
    assert!(!run(&snap, true).success);
}

#[test]
fn multi_primary_cluster_ids_are_checked() {
    use crate::testing::inspect::set_secrets;
    // Global mode: no such check.
    let r = run(&healthy(), false);
    assert_eq!(r.categories[2].checks.len(), 2);

    let mut snap = guide_snapshot(MultiClusterMode::MultiPrimary);
    for c in snap.clusters.values_mut() {
        c.istiod = healthy().clusters[&c.name].istiod.clone();
    }
    set_secrets(
        &mut snap,
        "mgmt-cluster",
        &[("istio-remote-secret-cluster2", "cluster2")],
    );
    set_secrets(
        &mut snap,
        "remote-cluster",
        &[("istio-remote-secret-cluster1", "cluster1")],
    );
    let r = run(&snap, true);
    assert!(r.success, "{r:#?}");
    let ids = &r.categories[2].checks[2];
    assert_eq!(ids.status, Status::Pass);
    assert_eq!(
        ids.description,
        "Istio cluster IDs (multi-primary) are known, unique and match the remote secrets: mgmt-cluster cluster1, remote-cluster cluster2"
    );

    // A remote secret made with the SMH name instead of the cluster ID.
    set_secrets(
        &mut snap,
        "mgmt-cluster",
        &[("istio-remote-secret-remote-cluster", "remote-cluster")],
    );
    let r = run(&snap, false);
    assert!(!r.success);
    let ids = &r.categories[2].checks[2];
    assert_eq!(ids.status, Status::Fail);
    assert_eq!(ids.messages.len(), 1, "{ids:#?}");
    assert!(
            ids.messages[0].starts_with("mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\", not remote-cluster's Istio cluster ID \"cluster2\""),
            "{ids:#?}"
        );
    assert!(
            ids.hint.as_deref().unwrap().contains(
                "istioctl create-remote-secret --context=remote-cluster --name=cluster2 | kubectl apply --context=mgmt-cluster -f -"
            ),
            "{ids:#?}"
        );
    // The FailoverService cannot fail over to remote-cluster from mgmt-cluster either.
    let readiness = &r.categories[5].checks[0];
    assert_eq!(readiness.status, Status::Fail, "{readiness:#?}");
}

/// A native FailoverService whose primary is remote: its failoverPriority in mgmt-cluster
/// names remote-cluster's Istio cluster ID, so a missing remote secret there fails the
/// check (it was a warning while only aggregate subsets were read).
#[test]
fn a_native_failover_to_a_remote_primary_fails_without_its_remote_secret() {
    use crate::testing::inspect::{consistent, set_live_as_expected, set_secrets};
    let mut snap = consistent();
    for c in snap.clusters.values_mut() {
        c.istiod = healthy().clusters[&c.name].istiod.clone();
    }
    snap.failover_services[0].spec.backing_services.reverse();
    snap.expected = crate::translate::translate(&snap.manifests(), &snap.topology);
    set_live_as_expected(&mut snap);
    let r = run(&snap, true);
    assert!(r.success, "{r:#?}");

    set_secrets(&mut snap, "mgmt-cluster", &[]);
    let r = run(&snap, false);
    assert!(!r.success, "{r:#?}");
    let ids = &r.categories[2].checks[2];
    assert_eq!(ids.status, Status::Fail, "{ids:#?}");
    assert_eq!(ids.messages.len(), 1, "{ids:#?}");
    assert!(
        ids.messages[0].contains("the failoverPriority topology.istio.io/cluster=cluster2 in DestinationRule bookinfo/reviews there matches no endpoint"),
        "{ids:#?}"
    );
    assert!(
        ids.hint.as_deref().unwrap().contains(
            "istioctl create-remote-secret --context=remote-cluster --name=cluster2 | kubectl apply --context=mgmt-cluster -f -"
        ),
        "{ids:#?}"
    );
}

#[test]
fn crds_missing_is_a_failed_check() {
    let r = crds_missing_report(
        "mgmt-cluster",
        Some("v1.33.0"),
        "the SMH CRDs are not installed",
        CheckOptions::default(),
    );
    assert!(!r.success);
    assert_eq!(r.summary.failed, 1);
    assert_eq!(r.summary.skipped, 1);
}
