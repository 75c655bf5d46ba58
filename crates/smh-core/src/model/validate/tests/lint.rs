//! Lint (warnings SMH never had) and duplicate objects.

use super::*;

#[test]
fn max_ejection_percent_below_100() {
    let od = OUTLIER.replace(
        "consecutiveErrors: 1",
        "consecutiveErrors: 1\n    maxEjectionPercent: 10",
    );
    let d = run_default(&[&od, FS, SHIFT]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(
        d[0].field.as_deref(),
        Some("spec.outlierDetection.maxEjectionPercent")
    );
    assert!(
        d[0].message
            .contains("with fewer than 10 endpoints not one is ejected"),
        "{}",
        d[0].message
    );
    assert_eq!(d[0].status_target, None);
    let od = OUTLIER.replace(
        "consecutiveErrors: 1",
        "consecutiveErrors: 1\n    maxEjectionPercent: 150",
    );
    let d = run_default(&[&od]);
    assert_eq!(
        d[0].message,
        "Invalid value: 150: must be between 0 and 100"
    );
}

#[test]
fn two_failover_services_with_one_hostname() {
    let other = FS.replace("name: reviews-failover\n", "name: reviews-failover-2\n");
    let d = run_default(&[OUTLIER, FS, &other]);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(d[0].object.as_ref().unwrap().name, "reviews-failover-2");
    assert!(d[0].message.starts_with("hostname reviews-failover.bookinfo.global is also used by FailoverService service-mesh-hub/reviews-failover"));
}

#[test]
fn one_name_in_two_namespaces() {
    let other = FS
        .replace(
            "namespace: service-mesh-hub\nspec",
            "namespace: team-b\nspec",
        )
        .replace(
            "reviews-failover.bookinfo.global",
            "reviews-b.bookinfo.global",
        );
    assert_ne!(other, FS);
    let d = run_default(&[OUTLIER, FS, &other]);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message
            .contains("both generate ServiceEntry service-mesh-hub/reviews-failover")
    );
}

#[test]
fn duplicate_objects() {
    let d = run_default(&[OUTLIER, FS, FS]);
    let e: Vec<&Diagnostic> = d.iter().filter(|x| x.severity == Severity::Error).collect();
    assert_eq!(e.len(), 1, "{d:#?}");
    assert_eq!(e[0].field.as_deref(), Some("metadata.name"));
    assert_eq!(
        e[0].message,
        "Duplicate value: FailoverService service-mesh-hub/reviews-failover is also defined in test.yaml: document 2 (line 18)"
    );
    assert_eq!(e[0].source.as_ref().unwrap().doc, 2);
}

#[test]
fn policy_selecting_nothing() {
    let tp = "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: t, namespace: bookinfo}\nspec:\n  destinationSelector:\n  - kubeServiceMatcher: {labels: {app: nothing}}\n  retries: {attempts: 1}\n";
    let d = run(&[tp], &example_topology());
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(d[0].message.starts_with("selects no traffic target"));
}

#[test]
fn outlier_detection_with_source_selector() {
    let od = OUTLIER.replace(
        "spec:\n",
        "spec:\n  sourceSelector:\n  - namespaces: [bookinfo]\n",
    );
    let d = run_default(&[&od]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].field.as_deref(), Some("spec.sourceSelector"));
}

#[test]
fn diagnostics_are_in_input_order() {
    let bad_fs = FS.replace("protocol: http", "protocol: x");
    let bad_tp = SHIFT.replace("reviews-failover", "missing");
    let d = run_default(&[&bad_tp, OUTLIER, &bad_fs]);
    let docs: Vec<usize> = d.iter().map(|x| x.source.as_ref().unwrap().doc).collect();
    let mut sorted = docs.clone();
    sorted.sort();
    assert_eq!(docs, sorted);
    assert_eq!(docs, vec![0, 2]);
}
