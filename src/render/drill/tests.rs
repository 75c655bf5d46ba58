//! The drill's texts: the report of a passing and a failing drill, the timeline, the dry run
//! (both break modes), the restore and preflight.

use std::time::Duration;

use super::*;
use smh_core::drill::machine::{Event, Machine};
use smh_core::drill::outlier::OutlierSettings;
use smh_core::drill::{Class, ProbeSample};
use smh_core::testing::drill::bookinfo;
use smh_core::testing::drill::ctx;
use smh_core::testing::drill::{ms, plan};

fn drill(failover: bool) -> DrillReport {
    let mut m = Machine::new(&plan());
    m.start();
    m.handle(ms(0), Event::PreflightPassed);
    let mut t = 0;
    let mut step = |m: &mut Machine, until: u64, class: Class| {
        while t + 100 <= until {
            t += 100;
            m.handle(
                ms(t),
                Event::Probe(ProbeSample {
                    at: ms(t),
                    class,
                    latency: ms(4),
                    status: Some(if class == Class::Error { 503 } else { 200 }),
                    reason: (class == Class::Error).then(|| "HTTP 503".into()),
                }),
            );
        }
    };
    step(&mut m, 2_000, Class::Primary);
    m.handle(ms(2_000), Event::Confirmed);
    m.handle(ms(2_050), Event::Saved);
    m.handle(ms(2_100), Event::Patched);
    step(&mut m, 4_000, Class::Primary);
    if failover {
        step(&mut m, 4_100, Class::Error);
        step(&mut m, 5_500, Class::FailedOver);
        m.handle(ms(5_500), Event::RolloutComplete);
        step(&mut m, 7_000, Class::FailedOver);
    } else {
        step(&mut m, 5_500, Class::Error);
    }
    m.handle(ms(7_050), Event::Restored);
    step(&mut m, 9_000, Class::FailedOver);
    m.handle(ms(9_000), Event::RolloutComplete);
    step(&mut m, 12_000, Class::Primary);
    let od = OutlierSettings {
        source: "mgmt-cluster: DestinationRule bookinfo/reviews".into(),
        consecutive_5xx_errors: Some(1),
        interval: Some(Duration::from_secs(10)),
        base_ejection_time: Some(Duration::from_secs(30)),
        max_ejection_percent: Some(100),
        ..Default::default()
    };
    DrillReport::build(
        &m,
        "reviews-failover-20261127t101500z",
        "2026-11-27T10:15:00Z",
        Some(&od),
    )
}

#[test]
fn summary_of_a_passing_drill() {
    let r = drill(true);
    let s = summary_table(&r);
    assert!(s.contains("passed (exit 0)"), "{s}");
    assert!(s.contains("mgmt-cluster:bookinfo/reviews-v1 (1 replica; container reviews)"));
    assert!(s.contains("2.1s after the break [PASS, limit 2m0s]"), "{s}");
    assert!(s.contains("┆ 1 [PASS, limit 5]"), "{s}");
    assert!(s.contains(
        "consecutive5xxErrors 1, interval 10s, baseEjectionTime 30s, maxEjectionPercent 100"
    ));
    let p = period_table(&r);
    let baseline = p.lines().find(|l| l.contains("baseline")).unwrap();
    let cells: Vec<&str> = baseline
        .split(['│', '┆'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(cells, ["baseline", "2.1s", "20", "0", "0", "20"]);
}

#[test]
fn timeline_and_strip() {
    let r = drill(true);
    let t = timeline(&r);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], "t+ 0.000s  preflight: probing, preflight checks");
    assert!(
        lines.contains(&"t+ 2.100s  wait for break rollout: break applied"),
        "{t}"
    );
    assert!(
        lines.contains(&"t+ 4.100s  first failed request after the break (HTTP 503)"),
        "{t}"
    );
    assert!(t.contains("answers per second: P primary"));
    assert!(t.contains(&format!("\n0s {}\n", r.strip)), "{t}");
    let long = strip(&"P".repeat(130));
    let rows: Vec<&str> = long.lines().skip(1).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], format!("  0s {}", "P".repeat(60)));
    assert_eq!(rows[2], format!("120s {}", "P".repeat(10)));
}

#[test]
fn failing_drill_says_why() {
    let mut r = drill(false);
    assert_eq!(r.result, "failed");
    let text = report(&r);
    assert!(text.contains("FAIL        max-errors: 15 failed requests during failover, 10 more than --max-errors 5"), "{text}");
    assert!(
        text.contains("errors by reason:\n    15  HTTP 503"),
        "{text}"
    );
    r.outlier = None;
    assert!(!report(&r).contains("outlier detection on the primary"));
}

#[test]
fn dry_run_lists_plan_and_patches() {
    let p = plan();
    let patches = p.patches(&bookinfo(), &ctx()).unwrap();
    let text = dry_run(&p, &patches, &Assessment::default());
    assert!(text.starts_with("Drill plan for FailoverService service-mesh-hub/reviews-failover (reviews-failover.bookinfo.global:9080)"));
    assert!(text.contains(r#"{"spec":{"template":{"spec":{"containers":[{"command":["sleep","20h"],"name":"reviews"}]}}}}"#), "{text}");
    assert!(text.contains(r#"{"metadata":{"annotations":{"drill.kubectl-smh.io/restore":null}},"spec":{"template":{"spec":{"containers":[{"args":null,"command":null,"name":"reviews"}]}}}}"#), "{text}");
    assert!(text.contains("\"resourceVersion\":\"1042\""));
    assert!(text.contains("GET /productpage through a port-forward to mgmt-cluster:bookinfo/productpage-v1 port 9080, 10/s, timeout 5.0s"));
    assert!(text.contains("failed requests during failover: at most 5"));
    assert!(text.ends_with("Nothing was changed (--dry-run).\n"));
}

#[test]
fn dry_run_of_the_scale_break_with_warnings_and_refusals() {
    use smh_core::drill::plan::{DrillOptions, PlanInput, build_plan};
    use smh_core::testing::drill::{mk_fs, mk_service};
    let (fs, svc, deps) = (mk_fs(), mk_service(), bookinfo());
    let input = PlanInput {
        failover_service: &fs,
        primary_service: &svc,
        deployments: &deps,
        primary_outlier: None,
    };
    let p = build_plan(
        &input,
        &DrillOptions {
            break_mode: Some(BreakMode::Scale),
            ..Default::default()
        },
    )
    .unwrap();
    let patches = p.patches(&deps, &ctx()).unwrap();
    let a = Assessment {
        refusals: vec!["r1".into()],
        warnings: vec!["w1".into(), "w2".into()],
        autoscaled: vec![],
    };
    let text = dry_run(&p, &patches, &a);
    assert!(
        text.contains("scale: spec.replicas 0, the saved replica count put back"),
        "{text}"
    );
    assert!(text.contains("mgmt-cluster:bookinfo/reviews-v1 (1 replica): scaled to 0, then back to exactly the saved count"), "{text}");
    assert!(text.contains("\n\nPreflight would refuse, as the deployments are now:\n- r1\n\nWarnings (also shown before the confirmation):\n- w1\n- w2\n\nSteps:\n"), "{text}");
    assert!(text.contains(r#"{"spec":{"replicas":0}}"#), "{text}");
    assert!(!text.contains("sleep"), "{text}");
    // The command patch names its limit.
    let c = plan();
    let text = dry_run(
        &c,
        &c.patches(&bookinfo(), &ctx()).unwrap(),
        &Assessment::default(),
    );
    assert!(text.contains("container reviews run `sleep 20h`"), "{text}");
    assert!(
        text.contains("a new pod not Ready within 5.0s stops the drill"),
        "{text}"
    );
    assert!(text.contains("stop and restore at once if a new pod cannot start, crash-loops, or is not Ready within its limit"), "{text}");
}

#[test]
fn restore_text() {
    let p = plan();
    let patches = p.patches(&bookinfo(), &ctx()).unwrap();
    let pending = PendingRestores {
        plans: patches.iter().map(|t| t.restore_plan.clone()).collect(),
        unreadable: vec![],
    };
    let text = restore(&pending, "service-mesh-hub/reviews-failover", true);
    assert!(text.starts_with("would restore mgmt-cluster:bookinfo/reviews-v1 (drill reviews-failover-20261127t101500z, started 2026-11-27T10:15:00Z): container reviews: command absent, args absent\n  {\"metadata\""), "{text}");
    assert!(text.ends_with("Nothing was changed (--dry-run).\n"));
    assert_eq!(
        restore(
            &PendingRestores::default(),
            "service-mesh-hub/reviews-failover",
            false
        ),
        "nothing to restore: no deployment carries a restore plan of FailoverService service-mesh-hub/reviews-failover\n"
    );
    // A scale plan says the replica count it puts back.
    let dep = smh_core::testing::drill::mk_deployment(
        "bookinfo",
        "reviews-v1",
        &[("app", "reviews")],
        vec![smh_core::testing::drill::mk_container(
            "reviews", None, None,
        )],
    );
    let scale = smh_core::drill::restore::scale_restore_plan(&dep, "mgmt-cluster", &ctx()).unwrap();
    let text = restore(
        &PendingRestores {
            plans: vec![scale],
            unreadable: vec![],
        },
        "service-mesh-hub/reviews-failover",
        false,
    );
    assert_eq!(
        text,
        "restored mgmt-cluster:bookinfo/reviews-v1 (drill reviews-failover-20261127t101500z, started 2026-11-27T10:15:00Z): replicas 1\n"
    );
}

#[test]
fn preflight_text() {
    let ok = PreflightReport {
        refusals: vec![],
        warnings: vec![],
        notes: vec!["baseline: 20 of the last 20 answers came from the primary".into()],
    };
    assert_eq!(
        preflight(&ok),
        "preflight: passed\nnote: baseline: 20 of the last 20 answers came from the primary\n"
    );
    let bad = PreflightReport {
        refusals: vec!["a".into(), "b".into()],
        warnings: vec![],
        notes: vec![],
    };
    assert_eq!(
        preflight(&bad),
        "preflight: refused (2 problems), nothing was changed:\n- a\n- b\n"
    );
    let warned = PreflightReport {
        refusals: vec![],
        warnings: vec!["HorizontalPodAutoscaler bookinfo/reviews-v1 scales it".into()],
        notes: vec!["n".into()],
    };
    assert_eq!(
        preflight(&warned),
        "preflight: passed\nwarning: HorizontalPodAutoscaler bookinfo/reviews-v1 scales it\nnote: n\n"
    );
}

#[test]
fn a_drill_with_failed_requests_recommends_the_zero_loss_settings() {
    // drill(true) sees one failed request during the failover.
    let r = drill(true);
    assert_eq!(r.measurements.errors_during_failover, 1);
    let text = explanation(&r);
    assert!(
        text.contains(
            "recommendation: 1 request failed during the failover. For a failover that loses none"
        ),
        "{text}"
    );
    assert!(
        text.contains("retries {attempts: 20} on the traffic shift"),
        "{text}"
    );
    assert!(
        text.contains("kubectl smh failover create --zero-loss"),
        "{text}"
    );
    assert!(text.contains("Trade-off:"), "{text}");
    // consecutive5xxErrors is 1 already: nothing to say about outlier detection.
    assert_eq!(r.recommendations.len(), 1, "{:?}", r.recommendations);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["recommendations"].as_array().unwrap().len(), 1);
}

#[test]
fn a_drill_without_failed_requests_recommends_nothing() {
    let mut r = drill(true);
    r.measurements.errors_during_failover = 0;
    r.measurements.errors_after_steady_failover = 0;
    r.recommendations = DrillReport::build(
        &Machine::new(&plan()),
        "reviews-failover-20261127t101500z",
        "2026-11-27T10:15:00Z",
        None,
    )
    .recommendations;
    assert!(r.recommendations.is_empty());
    assert!(!explanation(&r).contains("recommendation:"));
}
