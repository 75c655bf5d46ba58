//! The per-cluster plan and the contexts the wizard offers.

use std::collections::BTreeMap;

use smh_cluster::ContextName;
use smh_core::translate::Explanation;

use super::plan::*;
use super::read::*;
use super::*;

#[test]
fn commented_keeps_yaml_valid() {
    assert_eq!(commented("a\n\n  b\n"), "# a\n#\n#   b\n");
}

fn row(
    cluster: &str,
    action: &'static str,
    kind: &str,
    ns: &str,
    name: &str,
    other: bool,
) -> PlanRow {
    PlanRow {
        cluster: cluster.into(),
        action,
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
        other,
        why: other.then(|| "was changed: spec.http".to_string()),
    }
}

fn explanation(cluster: &str, text: &str) -> Explanation {
    Explanation {
        cluster: cluster.into(),
        text: text.into(),
    }
}

#[test]
fn only_explanations_about_the_new_objects() {
    let ids: BTreeSet<ObjectId> = [ObjectId {
        kind: "FailoverService".into(),
        namespace: "service-mesh-hub".into(),
        name: "rev".into(),
    }]
    .into();
    let rows = vec![
        row(
            "mgmt",
            "create",
            "EnvoyFilter",
            "istio-system",
            "rev",
            false,
        ),
        row(
            "mgmt",
            "unchanged",
            "DestinationRule",
            "istio-system",
            "reviews-remote",
            false,
        ),
        row(
            "mgmt",
            "update",
            "VirtualService",
            "bookinfo",
            "ratings",
            true,
        ),
    ];
    let texts = [
        "FailoverService service-mesh-hub/rev: Istio 1.24.2 is 1.9 or later",
        "FailoverService service-mesh-hub/rev2: Istio 1.24.2 is 1.9 or later",
        "FailoverService service-mesh-hub/reviews-failover: aggregate",
        "global mode: reviews.bookinfo in cluster remote is reached as x; DestinationRule istio-system/reviews-remote carries its outlier detection",
        "global mode: ratings.bookinfo; DestinationRule istio-system/reviews-remote-2 carries",
        "VirtualService bookinfo/ratings: multi-primary mode",
    ];
    let all: Vec<Explanation> = texts.iter().map(|t| explanation("mgmt", t)).collect();
    let kept: Vec<String> = relevant_explanations(&all, &rows, &ids)
        .into_iter()
        .map(|e| e.text)
        .collect();
    assert_eq!(kept, [texts[0], texts[3]]);
}

#[test]
fn plan_text() {
    let rows = vec![
        row(
            "mgmt",
            "create",
            "EnvoyFilter",
            "istio-system",
            "rev",
            false,
        ),
        row(
            "mgmt",
            "unchanged",
            "DestinationRule",
            "bookinfo",
            "reviews",
            false,
        ),
        row(
            "mgmt",
            "update",
            "VirtualService",
            "bookinfo",
            "ratings",
            true,
        ),
        row(
            "remote",
            "create",
            "DestinationRule",
            "bookinfo",
            "reviews",
            false,
        ),
    ];
    let titles = BTreeMap::from([(
        "mgmt".to_string(),
        "mgmt (management; context m)".to_string(),
    )]);
    let text = render_plan(&rows, &[explanation("remote", "because")], &titles);
    assert_eq!(
        text,
        "Istio objects, per cluster:
  mgmt (management; context m)
    create     EnvoyFilter      istio-system/rev
    unchanged  DestinationRule  bookinfo/reviews
    update     VirtualService   bookinfo/ratings  (for other objects: was changed: spec.http)
  remote
    create     DestinationRule  bookinfo/reviews
    why: because
"
    );
    assert_eq!(
        render_plan(&[], &[], &titles),
        "Istio objects, per cluster:\n  (none)\n"
    );
}

#[test]
fn contexts_offered_by_the_wizard() {
    let ctx = |s: &str| ContextName::new(s);
    let all = [
        ctx("gke_proj_zone_prod"),
        ctx("mgmt-cluster"),
        ctx("remote-cluster"),
    ];
    let c = context_choices(
        &all,
        |c| Some(format!("https://{}", c.as_str())),
        Some(&ctx("mgmt-cluster")),
    );
    let names: Vec<&str> = c.offered.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(names, ["mgmt-cluster", "remote-cluster"]);
    // Only the management context is checked, never everything.
    assert_eq!(c.preselected, [0]);
    assert_eq!(
        c.offered[0].1,
        "mgmt-cluster        https://mgmt-cluster  (management)"
    );
    assert_eq!(c.unusable, [ctx("gke_proj_zone_prod")]);
    // No management context (no current context): nothing checked.
    let c = context_choices(&all, |_| None, None);
    assert!(c.preselected.is_empty());
    assert_eq!(c.offered[1].1, "remote-cluster      (no server)");
}
