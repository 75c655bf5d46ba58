//! The guide's three manifests, built from flags.

use super::*;

// The guide
// ---------------------------------------------------------------------------------------

#[test]
fn the_guides_parameters_give_the_guides_manifests() {
    let opts = CreateOptions {
        outlier_policy_name: Some("mgmt-reviews-outlier".into()),
        shift_policy_name: Some("reviews-shift-failover".into()),
        ..guide_options()
    };
    let plan = plan_for(&opts, &[]).unwrap();
    let ours: Vec<SmhObject> = plan.objects().into_iter().map(strip_annotations).collect();
    let guide: Vec<SmhObject> = manifests(&[OUTLIER, FS, SHIFT])
        .into_iter()
        .map(|m| m.object)
        .collect();
    assert_eq!(ours, guide);

    // And they pass the parser and validation, with nothing to report.
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing: &[],
    };
    let checked = check(&plan, &live);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    assert_eq!(
        checked
            .manifests
            .iter()
            .map(|m| m.object.clone())
            .collect::<Vec<_>>(),
        plan.objects()
    );
    let yaml = plan.to_yaml().unwrap();
    assert!(
        yaml.starts_with("apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\n"),
        "{yaml}"
    );
    assert_eq!(yaml.matches("\n---\n").count(), 2, "{yaml}");
}

#[test]
fn default_policy_names() {
    let plan = plan_for(&guide_options(), &[]).unwrap();
    let ids: Vec<String> = plan.ids().iter().map(|i| i.to_string()).collect();
    assert_eq!(
        ids,
        [
            "TrafficPolicy service-mesh-hub/reviews-failover-outlier",
            "FailoverService service-mesh-hub/reviews-failover",
            "TrafficPolicy bookinfo/reviews-failover-shift",
        ]
    );
}

// ---------------------------------------------------------------------------------------

#[test]
fn zero_loss_retries_go_on_the_traffic_shift_only() {
    let opts = CreateOptions {
        shift_retries: Some(crate::model::zero_loss::retries()),
        ..guide_options()
    };
    let plan = plan_for(&opts, &[]).unwrap();
    assert_eq!(plan.shift_policies.len(), 1);
    assert_eq!(
        plan.shift_policies[0].spec.retries,
        Some(crate::model::zero_loss::retries())
    );
    assert!(crate::model::zero_loss::shift_shortfalls(&plan.shift_policies[0].spec).is_empty());
    assert_eq!(
        plan.outlier_policy.as_ref().unwrap().spec.retries,
        None,
        "outlier policy"
    );
    let yaml = plan.to_yaml().unwrap();
    assert!(yaml.contains("  retries:\n    attempts: 20\n"), "{yaml}");
}
