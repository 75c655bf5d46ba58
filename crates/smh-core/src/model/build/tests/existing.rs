//! Existing policies: reused outlier detection, services already shifted, statuses.

use super::*;

// Existing policies
// ---------------------------------------------------------------------------------------

#[test]
fn existing_outlier_detection_is_reused() {
    let existing = accepted(manifests(&[OUTLIER]));
    let opts = CreateOptions {
        outlier: OutlierFlags::default(),
        ..guide_options()
    };
    let plan = plan_for(&opts, &existing).unwrap();
    assert!(plan.outlier_policy.is_none());
    assert_eq!(plan.reused_outlier.len(), 2);
    assert_eq!(plan.reused_outlier[0].policy.name, "mgmt-reviews-outlier");
    assert_eq!(plan.reused_outlier[0].values.consecutive_errors, Some(1));

    // Explicit outlier values that would not be used are an error, naming the policy.
    let err = plan_for(&guide_options(), &existing).unwrap_err();
    assert!(
        matches!(err.as_slice(), [BuildError::OutlierFlagsUnused { covered }] if covered.len() == 2),
        "{err:?}"
    );
    let msg = err[0].to_string();
    assert!(
        msg.contains("reviews.bookinfo@mgmt-cluster from TrafficPolicy service-mesh-hub/mgmt-reviews-outlier: consecutiveErrors 1"),
        "{msg}"
    );

    // Validation of existing + new is clean: the existing policy counts for the new FS.
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing: &existing,
    };
    let checked = check(&plan, &live);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
}

#[test]
fn partly_covered_backing_services_get_a_policy_for_the_rest() {
    let one = OUTLIER.replace(
        "      - name: reviews\n        namespace: bookinfo\n        clusterName: remote-cluster\n",
        "",
    );
    assert_ne!(one, OUTLIER);
    let existing = accepted(manifests(&[&one]));
    let plan = plan_for(&guide_options(), &existing).unwrap();
    let od = plan.outlier_policy.unwrap();
    let services = &od.spec.destination_selector[0]
        .kube_service_refs
        .as_ref()
        .unwrap()
        .services;
    assert_eq!(services, &vec![r("reviews.bookinfo@remote-cluster")]);
    assert_eq!(plan.reused_outlier.len(), 1);
    assert_eq!(
        plan.reused_outlier[0].service,
        r("reviews.bookinfo@mgmt-cluster")
    );
}

#[test]
fn a_rejected_policy_does_not_count() {
    let mut existing = accepted(manifests(&[OUTLIER]));
    let SmhObject::TrafficPolicy(tp) = &mut existing[0].object else {
        panic!()
    };
    let status = tp.status.as_mut().unwrap();
    status
        .traffic_targets
        .get_mut("reviews-bookinfo-remote-cluster.service-mesh-hub.")
        .unwrap()
        .state = ApprovalState::Invalid;
    let plan = plan_for(&guide_options(), &existing).unwrap();
    assert_eq!(plan.reused_outlier.len(), 1);
    assert_eq!(
        plan.outlier_policy.unwrap().spec.destination_selector[0]
            .kube_service_refs
            .as_ref()
            .unwrap()
            .services,
        vec![r("reviews.bookinfo@remote-cluster")]
    );

    // Overall INVALID: neither counts.
    let SmhObject::TrafficPolicy(tp) = &mut existing[0].object else {
        panic!()
    };
    tp.status.as_mut().unwrap().state = ApprovalState::Invalid;
    let plan = plan_for(&guide_options(), &existing).unwrap();
    assert!(plan.reused_outlier.is_empty());
}

#[test]
fn a_pending_policy_counts_and_a_policy_without_outlier_detection_does_not() {
    // Stored but not yet processed (no status): counts.
    let existing = manifests(&[OUTLIER]);
    let plan = plan_for(
        &CreateOptions {
            outlier: OutlierFlags::default(),
            ..guide_options()
        },
        &existing,
    )
    .unwrap();
    assert_eq!(plan.reused_outlier.len(), 2);

    // A retries-only policy on the same services gives no outlier detection.
    let retries = OUTLIER
        .replace("name: mgmt-reviews-outlier", "name: reviews-retries")
        .replace(
            "  outlierDetection:\n    consecutiveErrors: 1\n",
            "  retries:\n    attempts: 2\n",
        );
    let existing = accepted(manifests(&[&retries]));
    let plan = plan_for(&guide_options(), &existing).unwrap();
    assert!(plan.reused_outlier.is_empty());
    assert!(plan.outlier_policy.is_some());
}

#[test]
fn shifts_are_grouped_by_namespace_and_existing_ones_kept() {
    let topology = Topology::parse_bytes(
        "t.yaml",
        format!(
            "{GUIDE_TOPOLOGY}  - name: frontend\n    namespace: shop\n    ports: [{{name: http, port: 80}}]\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let existing = accepted(manifests(&[SHIFT]));
    let live = Live {
        topology: &topology,
        existing: &existing,
    };
    let opts = CreateOptions {
        shift_from: vec![
            r("reviews.bookinfo@mgmt-cluster"),
            r("reviews.bookinfo@remote-cluster"),
            r("ratings.bookinfo@mgmt-cluster"),
            r("frontend.shop@remote-cluster"),
        ],
        ..guide_options()
    };
    let plan = build(&resolve(&opts, &live).unwrap(), &live).unwrap();
    // reviews@mgmt is already shifted to reviews-failover by the guide's policy.
    assert_eq!(
        plan.already_shifted,
        vec![(
            r("reviews.bookinfo@mgmt-cluster"),
            ObjectId {
                kind: "TrafficPolicy".into(),
                namespace: "bookinfo".into(),
                name: "reviews-shift-failover".into()
            }
        )]
    );
    let shifts: Vec<(String, Vec<String>)> = plan
        .shift_policies
        .iter()
        .map(|p| {
            (
                tp_id(p).to_string(),
                p.spec.destination_selector[0]
                    .kube_service_refs
                    .as_ref()
                    .unwrap()
                    .services
                    .iter()
                    .map(service_ref)
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        shifts,
        vec![
            (
                "TrafficPolicy bookinfo/reviews-failover-shift".to_string(),
                vec![
                    "reviews.bookinfo@remote-cluster".to_string(),
                    "ratings.bookinfo@mgmt-cluster".to_string()
                ]
            ),
            (
                "TrafficPolicy shop/reviews-failover-shift".to_string(),
                vec!["frontend.shop@remote-cluster".to_string()]
            ),
        ]
    );
    let dest = &plan.shift_policies[0]
        .spec
        .traffic_shift
        .as_ref()
        .unwrap()
        .destinations[0];
    assert_eq!(
        dest.failover_service
            .as_ref()
            .map(|f| (f.name.as_str(), f.namespace.as_str())),
        Some(("reviews-failover", "service-mesh-hub"))
    );
}

// ---------------------------------------------------------------------------------------
