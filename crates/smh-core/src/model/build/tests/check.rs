//! check(): parser and validation over the existing objects plus the new ones.

use super::*;

// check()
// ---------------------------------------------------------------------------------------

#[test]
fn check_reports_what_validation_finds_in_the_new_objects() {
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing: &[],
    };
    let opts = CreateOptions {
        hostname: Some("reviews.example.com".into()),
        outlier: OutlierFlags {
            max_ejection_percent: Some(50),
            ..OutlierFlags::default()
        },
        ..guide_options()
    };
    let plan = build(&resolve(&opts, &live).unwrap(), &live).unwrap();
    let checked = check(&plan, &live);
    assert!(checked.has_errors());
    let lines: Vec<String> = crate::model::report::dedupe_for_display(&checked.diagnostics)
        .iter()
        .map(|d| format!("{}: {d}", d.severity))
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("error: failover create:")
            && l.contains("FailoverService service-mesh-hub/reviews-failover: spec.hostname: Provided hostname reviews.example.com is missing required suffix \".global\".")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("warning: ")
            && l.contains(
                "spec.outlierDetection.maxEjectionPercent: maxEjectionPercent 50 is below 100"
            )),
        "{lines:#?}"
    );
}

#[test]
fn check_ignores_problems_that_existed_before() {
    // An unrelated, already broken policy in the cluster does not block creation.
    let broken = OUTLIER
        .replace("name: mgmt-reviews-outlier", "name: broken")
        .replace("clusterName: remote-cluster", "clusterName: gone-cluster");
    let existing = manifests(&[&broken]);
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing: &existing,
    };
    assert!(
        validate_with(&existing, &topology, &ValidateOptions::default())
            .iter()
            .any(|d| d.severity == Severity::Error)
    );
    let opts = CreateOptions {
        outlier: OutlierFlags::default(),
        ..guide_options()
    };
    let plan = build(&resolve(&opts, &live).unwrap(), &live).unwrap();
    // `broken` refers to a cluster that does not exist: SMH would not apply it at all,
    // so it gives no outlier detection, and the new policy covers both services without
    // conflicting with it.
    assert!(plan.reused_outlier.is_empty());
    assert_eq!(
        plan.outlier_policy
            .as_ref()
            .unwrap()
            .spec
            .destination_selector[0]
            .kube_service_refs
            .as_ref()
            .unwrap()
            .services
            .len(),
        2
    );
    let checked = check(&plan, &live);
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
}

#[test]
fn check_catches_invalid_names() {
    let opts = CreateOptions {
        name: Some("Reviews_Failover".into()),
        hostname: Some("reviews-failover.bookinfo.global".into()),
        ..guide_options()
    };
    let plan = plan_for(&opts, &[]).unwrap();
    let topology = topology();
    let checked = check(
        &plan,
        &Live {
            topology: &topology,
            existing: &[],
        },
    );
    assert!(checked.has_errors());
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.field.as_deref() == Some("metadata.name")),
        "{:#?}",
        checked.diagnostics
    );
}
