//! Unit tests of `drill::restore`, moved out of `restore.rs` to keep each file short.

use super::*;
use crate::testing::drill::{ctx, mk_container, mk_deployment};

fn reviews_v1() -> Deployment {
    mk_deployment(
        "bookinfo",
        "reviews-v1",
        &[("app", "reviews"), ("version", "v1")],
        vec![mk_container("reviews", None, None)],
    )
}

/// Save, break, then restore, as the API server would apply the patches.
fn round_trip(dep: &Deployment, broken: &[&str]) -> (Deployment, Deployment, RestorePlan) {
    let broken: Vec<String> = broken.iter().map(|s| s.to_string()).collect();
    let plan = restore_plan(dep, "mgmt-cluster", &broken, &ctx()).unwrap();
    let saved = apply_patch_locally(dep, &save_patch(&plan).unwrap()).unwrap();
    assert_eq!(pending_restore(&saved).unwrap().as_ref(), Some(&plan));
    let broken_dep = apply_patch_locally(&saved, &break_patch(&plan)).unwrap();
    // What `drill restore` does after a crash: read the plan back from the live object.
    let live_plan = pending_restore(&broken_dep).unwrap().unwrap();
    let restored = apply_patch_locally(&broken_dep, &restore_patch(&live_plan)).unwrap();
    (broken_dep, restored, live_plan)
}

#[test]
fn break_patch_is_the_guides_patch_for_bookinfo_reviews() {
    let plan = restore_plan(&reviews_v1(), "mgmt-cluster", &["reviews".into()], &ctx()).unwrap();
    let guide: Value = serde_json::from_str(
            r#"{"spec": {"template": {"spec": {"containers": [{"name": "reviews","command": ["sleep", "20h"]}]}}}}"#,
        )
        .unwrap();
    assert_eq!(break_patch(&plan), guide);
}

#[test]
fn container_without_command_gets_fields_removed() {
    let dep = reviews_v1();
    let (broken, restored, plan) = round_trip(&dep, &["reviews"]);
    let c = &template_containers(&broken)[0];
    assert_eq!(
        c.command,
        Some(vec!["sleep".to_string(), "20h".to_string()])
    );
    assert_eq!(
        restore_patch(&plan),
        json!({"metadata": {"annotations": {DRILL_RESTORE_ANNOTATION: null}},
                   "spec": {"template": {"spec": {"containers": [
                       {"name": "reviews", "command": null, "args": null}]}}}})
    );
    assert_eq!(
        containers_equal(template_containers(&dep), template_containers(&restored)),
        Ok(())
    );
    assert_eq!(verify_restored(&plan, &restored), Ok(()));
    assert_eq!(restored.metadata.annotations, None);
}

#[test]
fn container_with_own_command_and_args_gets_them_back() {
    let dep = mk_deployment(
        "bookinfo",
        "reviews-v2",
        &[("app", "reviews")],
        vec![mk_container(
            "reviews",
            Some(&["/opt/ibm/wlp/bin/server"]),
            Some(&["run", "defaultServer"]),
        )],
    );
    let plan = restore_plan(&dep, "mgmt-cluster", &["reviews".into()], &ctx()).unwrap();
    // The app's args must not follow `sleep 20h`.
    assert_eq!(
        break_patch(&plan),
        json!({"spec": {"template": {"spec": {"containers": [
                {"name": "reviews", "command": ["sleep", "20h"], "args": null}]}}}})
    );
    let (broken, restored, _) = round_trip(&dep, &["reviews"]);
    assert_eq!(template_containers(&broken)[0].args, None);
    assert_eq!(
        template_containers(&restored)[0].command,
        Some(vec!["/opt/ibm/wlp/bin/server".to_string()])
    );
    assert_eq!(
        containers_equal(template_containers(&dep), template_containers(&restored)),
        Ok(())
    );
    // The guide's blind restore would have lost the command.
    let mut blind = broken.clone();
    if let Some(pod) = blind.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
        pod.containers[0].command = None;
    }
    let diffs =
        containers_equal(template_containers(&dep), template_containers(&blind)).unwrap_err();
    assert!(
        diffs
            .iter()
            .any(|d| d.starts_with("container reviews: command:")),
        "{diffs:?}"
    );
}

#[test]
fn empty_and_absent_stay_apart() {
    let dep = mk_deployment(
        "bookinfo",
        "reviews-v1",
        &[("app", "reviews")],
        vec![mk_container("reviews", Some(&[]), None)],
    );
    let plan = restore_plan(&dep, "c", &["reviews".into()], &ctx()).unwrap();
    let json = restore_annotation(&plan).unwrap();
    assert!(json.contains(r#""command":[],"args":null"#), "{json}");
    let back = parse_restore_annotation(&json).unwrap();
    assert_eq!(back.containers[0].command, Some(vec![]));
    assert_eq!(back.containers[0].args, None);
    let (_, restored, _) = round_trip(&dep, &["reviews"]);
    assert_eq!(template_containers(&restored)[0].command, Some(vec![]));
    let absent = mk_deployment(
        "bookinfo",
        "reviews-v1",
        &[("app", "reviews")],
        vec![mk_container("reviews", None, None)],
    );
    let diffs =
        containers_equal(template_containers(&dep), template_containers(&absent)).unwrap_err();
    assert_eq!(diffs, vec!["container reviews: command: [] != absent"]);
}

#[test]
fn multi_container_deployment_breaks_only_the_named_ones() {
    let mut logger = mk_container("log-shipper", Some(&["/bin/ship"]), Some(&["--to", "x"]));
    logger.ports = None;
    let dep = mk_deployment(
        "bookinfo",
        "reviews-v1",
        &[("app", "reviews")],
        vec![
            mk_container("reviews", None, Some(&["--port", "9080"])),
            logger,
        ],
    );
    let plan = restore_plan(&dep, "c", &["reviews".into()], &ctx()).unwrap();
    assert_eq!(plan.containers.len(), 2);
    assert!(!plan.containers[1].broken);
    assert_eq!(
        plan.containers[1].command,
        Some(vec!["/bin/ship".to_string()])
    );
    let (broken, restored, _) = round_trip(&dep, &["reviews"]);
    let bc = template_containers(&broken);
    assert_eq!(
        bc[0].command.as_deref(),
        Some(&["sleep".to_string(), "20h".to_string()][..])
    );
    assert_eq!(
        bc[1],
        template_containers(&dep)[1],
        "the logger is untouched"
    );
    assert_eq!(
        containers_equal(template_containers(&dep), template_containers(&restored)),
        Ok(())
    );

    // Breaking both and restoring both.
    let (broken, restored, plan) = round_trip(&dep, &["reviews", "log-shipper"]);
    assert!(template_containers(&broken).iter().all(|c| c.command
        == Some(vec!["sleep".to_string(), "20h".to_string()])
        && c.args.is_none()));
    assert_eq!(
        restore_patch(&plan)["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(|a| a.len()),
        Some(2)
    );
    assert_eq!(
        containers_equal(template_containers(&dep), template_containers(&restored)),
        Ok(())
    );
}

#[test]
fn stale_annotation_from_an_older_drill() {
    // An older drill saved the plan and broke the deployment, then the CLI was killed.
    let dep = reviews_v1();
    let old = RestoreContext {
        drill_id: "reviews-failover-20261101t080000z".into(),
        started_at: "2026-11-01T08:00:00Z".into(),
        ..ctx()
    };
    let old_plan = restore_plan(&dep, "mgmt-cluster", &["reviews".into()], &old).unwrap();
    let saved = apply_patch_locally(&dep, &save_patch(&old_plan).unwrap()).unwrap();
    let broken = apply_patch_locally(&saved, &break_patch(&old_plan)).unwrap();

    // A new drill refuses to save over it (that would record `sleep 20h` as original).
    let err = restore_plan(&broken, "mgmt-cluster", &["reviews".into()], &ctx()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("reviews-failover-20261101t080000z")
            && msg.contains("kubectl smh drill restore reviews-failover"),
        "{msg}"
    );

    // `drill restore` uses the old plan and puts back the original.
    let pending = pending_restore(&broken).unwrap().unwrap();
    assert_eq!(pending.drill_id, "reviews-failover-20261101t080000z");
    let restored = apply_patch_locally(&broken, &restore_patch(&pending)).unwrap();
    assert_eq!(
        containers_equal(template_containers(&dep), template_containers(&restored)),
        Ok(())
    );
    assert_eq!(pending_restore(&restored).unwrap(), None);
}

#[test]
fn save_patch_carries_resource_version() {
    let plan = restore_plan(&reviews_v1(), "mgmt-cluster", &["reviews".into()], &ctx()).unwrap();
    let p = save_patch(&plan).unwrap();
    assert_eq!(p["metadata"]["resourceVersion"], "1042");
    let value = p["metadata"]["annotations"][DRILL_RESTORE_ANNOTATION]
        .as_str()
        .unwrap();
    let parsed: Value = serde_json::from_str(value).unwrap();
    assert_eq!(
        parsed,
        json!({"version": 1, "drillId": "reviews-failover-20261127t101500z",
                   "failoverService": {"name": "reviews-failover", "namespace": "service-mesh-hub"},
                   "startedAt": "2026-11-27T10:15:00Z",
                   "deployment": {"cluster": "mgmt-cluster", "namespace": "bookinfo", "name": "reviews-v1"},
                   "resourceVersion": "1042",
                   "containers": [{"name": "reviews", "command": null, "args": null, "broken": true}]})
    );
}

#[test]
fn bad_annotations_are_errors() {
    let mut dep = reviews_v1();
    dep.metadata.annotations = Some(BTreeMap::from([(
        DRILL_RESTORE_ANNOTATION.to_string(),
        "{not json".to_string(),
    )]));
    assert!(matches!(
        pending_restore(&dep),
        Err(RestoreError::BadAnnotation(_))
    ));
    let mut plan = restore_plan(&reviews_v1(), "c", &["reviews".into()], &ctx()).unwrap();
    plan.version = 7;
    let err = parse_restore_annotation(&serde_json::to_string(&plan).unwrap()).unwrap_err();
    assert!(err.to_string().contains("version 7"), "{err}");
}

#[test]
fn unknown_container_is_named() {
    let err = restore_plan(&reviews_v1(), "c", &["ratings".into()], &ctx()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "deployment bookinfo/reviews-v1 has no container named \"ratings\" (its containers: reviews)"
    );
}

#[test]
fn verify_restored_reports_leftovers() {
    let dep = reviews_v1();
    let plan = restore_plan(&dep, "c", &["reviews".into()], &ctx()).unwrap();
    let saved = apply_patch_locally(&dep, &save_patch(&plan).unwrap()).unwrap();
    let broken = apply_patch_locally(&saved, &break_patch(&plan)).unwrap();
    let diffs = verify_restored(&plan, &broken).unwrap_err();
    assert_eq!(
        diffs,
        vec![
            format!("annotation {DRILL_RESTORE_ANNOTATION} is still set"),
            "container reviews: command: [\"sleep\",\"20h\"] != saved absent".to_string()
        ]
    );
}

#[test]
fn pending_restores_by_failover_service_and_id() {
    let dep = reviews_v1();
    let ours = restore_plan(&dep, "mgmt-cluster", &["reviews".into()], &ctx()).unwrap();
    let saved = apply_patch_locally(&dep, &save_patch(&ours).unwrap()).unwrap();
    let other_ctx = RestoreContext {
        drill_id: "checkout-failover-20261127t090000z".into(),
        failover_service: ObjectRef {
            name: "checkout-failover".into(),
            namespace: "service-mesh-hub".into(),
        },
        ..ctx()
    };
    let other_dep = mk_deployment(
        "shop",
        "checkout-v1",
        &[("app", "checkout")],
        vec![mk_container("checkout", None, None)],
    );
    let other = restore_plan(&other_dep, "mgmt-cluster", &["checkout".into()], &other_ctx).unwrap();
    let other_saved = apply_patch_locally(&other_dep, &save_patch(&other).unwrap()).unwrap();
    let mut corrupt = mk_deployment(
        "bookinfo",
        "reviews-v2",
        &[("app", "reviews")],
        vec![mk_container("reviews", None, None)],
    );
    corrupt.metadata.annotations = Some(BTreeMap::from([(
        DRILL_RESTORE_ANNOTATION.to_string(),
        "oops".to_string(),
    )]));
    let deps = BTreeMap::from([(
        "mgmt-cluster".to_string(),
        vec![saved.clone(), other_saved, corrupt, reviews_v1()],
    )]);
    let found = pending_restores(&deps, &ctx().failover_service, None);
    assert_eq!(found.plans, vec![ours.clone()]);
    assert_eq!(found.unreadable.len(), 1);
    assert_eq!(found.unreadable[0].0.name, "reviews-v2");
    let none = pending_restores(&deps, &ctx().failover_service, Some("another-id"));
    assert!(none.plans.is_empty());

    let (plan, patch) = restore_patch_for(&saved, &ctx().drill_id).unwrap().unwrap();
    assert_eq!(plan, ours);
    assert_eq!(patch, restore_patch(&ours));
    assert_eq!(restore_patch_for(&saved, "another-id").unwrap(), None);
    assert_eq!(restore_patch_for(&dep, &ctx().drill_id).unwrap(), None);
}

fn with_replicas(replicas: Option<i32>) -> Deployment {
    let mut dep = reviews_v1();
    dep.spec.as_mut().unwrap().replicas = replicas;
    dep
}

#[test]
fn scale_plan_saves_and_restores_the_exact_replica_count() {
    let dep = with_replicas(Some(3));
    let plan = scale_restore_plan(&dep, "mgmt-cluster", &ctx()).unwrap();
    assert_eq!(plan.version, RESTORE_PLAN_VERSION_SCALE);
    assert_eq!(plan.mode(), BreakMode::Scale);
    assert_eq!(plan.scale, Some(SavedScale { replicas: Some(3) }));
    assert!(plan.containers.is_empty());
    let annotation = restore_annotation(&plan).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&annotation).unwrap(),
        json!({"version": 2, "drillId": "reviews-failover-20261127t101500z",
                   "failoverService": {"name": "reviews-failover", "namespace": "service-mesh-hub"},
                   "startedAt": "2026-11-27T10:15:00Z",
                   "deployment": {"cluster": "mgmt-cluster", "namespace": "bookinfo", "name": "reviews-v1"},
                   "resourceVersion": "1042",
                   "scale": {"replicas": 3},
                   "containers": []})
    );
    assert_eq!(break_patch(&plan), json!({"spec": {"replicas": 0}}));
    assert_eq!(
        restore_patch(&plan),
        json!({"metadata": {"annotations": {DRILL_RESTORE_ANNOTATION: null}},
                   "spec": {"replicas": 3}})
    );
    let saved = apply_patch_locally(&dep, &save_patch(&plan).unwrap()).unwrap();
    let broken = apply_patch_locally(&saved, &break_patch(&plan)).unwrap();
    assert_eq!(broken.spec.as_ref().unwrap().replicas, Some(0));
    // `drill restore` after a crash reads the plan back from the live object.
    let live_plan = pending_restore(&broken).unwrap().unwrap();
    assert_eq!(live_plan, plan);
    assert_eq!(
        verify_restored(&live_plan, &broken).unwrap_err(),
        vec![
            format!("annotation {DRILL_RESTORE_ANNOTATION} is still set"),
            "spec.replicas: 0 != saved 3".to_string()
        ]
    );
    let restored = apply_patch_locally(&broken, &restore_patch(&live_plan)).unwrap();
    assert_eq!(restored.spec.as_ref().unwrap().replicas, Some(3));
    assert_eq!(verify_restored(&live_plan, &restored), Ok(()));
    assert_eq!(restored.metadata.annotations, None);
    // The template was never touched.
    assert_eq!(
        containers_equal(template_containers(&dep), template_containers(&restored)),
        Ok(())
    );
    assert_eq!(live_plan.describe_saved(), "replicas 3");
}

#[test]
fn an_hpa_may_change_the_restored_replica_count_later() {
    let dep = with_replicas(Some(2));
    let plan = scale_restore_plan(&dep, "c", &ctx()).unwrap();
    let rescaled = with_replicas(Some(3));
    assert_eq!(
        verify_restored_later(&plan, &rescaled, false).unwrap_err(),
        vec!["spec.replicas: 3 != saved 2".to_string()]
    );
    assert_eq!(verify_restored_later(&plan, &rescaled, true), Ok(()));
    // Anything else still counts, and so do command plans.
    let mut annotated = rescaled.clone();
    annotated.metadata.annotations = Some(BTreeMap::from([(
        DRILL_RESTORE_ANNOTATION.to_string(),
        "{}".to_string(),
    )]));
    assert_eq!(
        verify_restored_later(&plan, &annotated, true)
            .unwrap_err()
            .len(),
        1
    );
    let command = restore_plan(&dep, "c", &["reviews".into()], &ctx()).unwrap();
    let broken = apply_patch_locally(&dep, &break_patch(&command)).unwrap();
    assert!(verify_restored_later(&command, &broken, true).is_err());
}

#[test]
fn scale_plan_keeps_an_absent_replica_count_absent() {
    let dep = with_replicas(None);
    let plan = scale_restore_plan(&dep, "c", &ctx()).unwrap();
    assert_eq!(plan.scale, Some(SavedScale { replicas: None }));
    assert!(
        restore_annotation(&plan)
            .unwrap()
            .contains(r#""scale":{"replicas":null}"#)
    );
    assert_eq!(
        restore_patch(&plan)["spec"],
        json!({"replicas": null}),
        "null removes the field"
    );
    let broken = apply_patch_locally(
        &apply_patch_locally(&dep, &save_patch(&plan).unwrap()).unwrap(),
        &break_patch(&plan),
    )
    .unwrap();
    let restored = apply_patch_locally(&broken, &restore_patch(&plan)).unwrap();
    assert_eq!(restored.spec.as_ref().unwrap().replicas, None);
    assert_eq!(verify_restored(&plan, &restored), Ok(()));
    // What a real API server answers: the default, 1.
    assert_eq!(verify_restored(&plan, &with_replicas(Some(1))), Ok(()));
    assert_eq!(
        verify_restored(&plan, &with_replicas(Some(0))).unwrap_err(),
        vec!["spec.replicas: 0 != saved absent".to_string()]
    );
}

#[test]
fn scale_plans_are_version_2_and_checked() {
    let plan = scale_restore_plan(&with_replicas(Some(2)), "c", &ctx()).unwrap();
    let mut v: Value = serde_json::to_value(&plan).unwrap();
    v["version"] = json!(1);
    let err = parse_restore_annotation(&v.to_string()).unwrap_err();
    assert!(
        err.to_string().contains("with a saved replica count"),
        "{err}"
    );
    let mut v: Value = serde_json::to_value(&plan).unwrap();
    v.as_object_mut().unwrap().remove("scale");
    let err = parse_restore_annotation(&v.to_string()).unwrap_err();
    assert!(
        err.to_string().contains("without the saved replica count"),
        "{err}"
    );
    let mut v: Value = serde_json::to_value(&plan).unwrap();
    v["version"] = json!(3);
    let err = parse_restore_annotation(&v.to_string()).unwrap_err();
    assert!(err.to_string().contains("reads versions 1 and 2"), "{err}");
    // A pending scale plan blocks a new plan of either kind.
    let saved = apply_patch_locally(&with_replicas(Some(2)), &save_patch(&plan).unwrap()).unwrap();
    assert!(matches!(
        scale_restore_plan(&saved, "c", &ctx()),
        Err(RestoreError::PendingRestore { .. })
    ));
    assert!(matches!(
        restore_plan(&saved, "c", &["reviews".into()], &ctx()),
        Err(RestoreError::PendingRestore { .. })
    ));
    assert_eq!(
        plan_for_mode(BreakMode::Scale, &with_replicas(Some(2)), "c", &[], &ctx())
            .unwrap()
            .mode(),
        BreakMode::Scale
    );
}

#[test]
fn drill_id_from_name_time_and_suffix() {
    let t: jiff::Timestamp = "2026-11-27T10:15:00Z".parse().unwrap();
    let id = new_drill_id("reviews-failover", t);
    let re =
        regex::Regex::new("^reviews-failover-20261127t101500z-[bcdfghjklmnpqrstvwxz2456789]{6}$")
            .unwrap();
    assert!(re.is_match(&id), "{id}");
    // The same seed, the same suffix.
    let a = drill_id_with("reviews-failover", t, &mut fastrand::Rng::with_seed(7));
    let b = drill_id_with("reviews-failover", t, &mut fastrand::Rng::with_seed(7));
    assert_eq!(a, b);
    assert!(re.is_match(&a), "{a}");
}

#[test]
fn drill_ids_started_in_the_same_second_differ() {
    let t: jiff::Timestamp = "2026-11-27T10:15:00Z".parse().unwrap();
    // Drawn one after another from one generator: 1000 ids, all different.
    let mut rng = fastrand::Rng::with_seed(42);
    let ids: std::collections::BTreeSet<String> = (0..1000)
        .map(|_| drill_id_with("reviews-failover", t, &mut rng))
        .collect();
    assert_eq!(ids.len(), 1000);
    // Two drills (two processes, each with its own seeded generator) in one second.
    assert_ne!(
        new_drill_id("reviews-failover", t),
        new_drill_id("reviews-failover", t)
    );
}
