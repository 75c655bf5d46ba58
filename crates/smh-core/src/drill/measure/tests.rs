//! Unit tests of `drill::measure`, moved out of `measure.rs` to keep each file short.

use serde_json::{Value, json};

use super::*;
use crate::drill::outlier::OutlierSettings;
use crate::testing::drill::{ms, plan, spec, stream};

fn markers() -> Markers {
    Markers {
        break_applied: Some(ms(5_000)),
        break_rollout_complete: Some(ms(8_000)),
        restore_applied: Some(ms(20_000)),
        restore_rollout_complete: Some(ms(23_000)),
        end: ms(30_000),
    }
}

#[test]
fn one_error_then_all_red_at_10_rps() {
    // Primary until the new (sleeping) pod gets traffic at 7.0 s: one 503 ejects it,
    // then everything fails over. After the restore rollout, primary again at 23.5 s.
    let samples = stream(0, 30_000, 100, |t| match t {
        t if t < 7_000 => Class::Primary,
        7_000 => Class::Error,
        t if t < 23_500 => Class::FailedOver,
        _ => Class::Primary,
    });
    let m = measure(&samples, &markers(), spec());
    assert_eq!(m.break_to_first_failover, Some(ms(2_100)));
    assert_eq!(m.break_to_steady_failover, Some(ms(2_100)));
    assert_eq!(m.errors_during_failover, 1);
    assert_eq!(m.errors_after_steady_failover, 0);
    assert_eq!(m.restore_to_first_primary, Some(ms(3_500)));
    assert_eq!(m.restore_to_steady_failback, Some(ms(3_500)));
    assert_eq!(m.break_rollout, Some(ms(3_000)));
    assert_eq!(m.restore_rollout, Some(ms(3_000)));
    let p: Vec<(Period, u64, u64, u64)> = m
        .periods
        .iter()
        .map(|p| {
            (
                p.period,
                p.counts.primary,
                p.counts.failed_over,
                p.counts.error,
            )
        })
        .collect();
    assert_eq!(
        p,
        [
            (Period::Baseline, 50, 0, 0),
            (Period::Breaking, 20, 9, 1),
            (Period::FailedOver, 0, 120, 0),
            (Period::Restoring, 0, 30, 0),
            (Period::FailedBack, 65, 5, 0),
        ]
    );
    assert_eq!(m.periods[1].duration, Some(ms(3_000)));
    assert_eq!(m.error_reasons.get("HTTP 503"), Some(&1));
    let results = check(&m, &plan());
    assert!(
        results.iter().all(|r| r.verdict == Verdict::Pass),
        "{results:#?}"
    );
    assert_eq!(
        results[0].message,
        "failover steady 2.1s after the break (limit 2m0s)"
    );
}

#[test]
fn steady_needs_a_full_window() {
    // Red answers interleaved with errors never make a 99% window; a clean run does.
    let samples = stream(5_000, 20_000, 100, |t| match t {
        t if t < 10_000 => {
            if (t / 100) % 3 == 0 {
                Class::Error
            } else {
                Class::FailedOver
            }
        }
        _ => Class::FailedOver,
    });
    let m = measure(&samples, &markers(), spec());
    assert_eq!(m.break_to_first_failover, Some(ms(0)));
    // 9.9 s is an error (99 % 3 == 0); the first clean window starts at 10.0 s.
    assert_eq!(m.break_to_steady_failover, Some(ms(5_000)));
    assert_eq!(m.errors_during_failover, 17);
}

#[test]
fn re_ejection_lag_counts_separately() {
    // Ejected at 7.0 s; baseEjectionTime 5 s: the host comes back at 12 s while still
    // broken and ~1 s of requests fail before it is ejected again: those errors count
    // after steady failover, not during it.
    let samples = stream(0, 30_000, 100, |t| match t {
        t if t < 7_000 => Class::Primary,
        7_000 => Class::Error,
        t if (12_000..13_000).contains(&t) => Class::Error,
        t if t < 23_500 => Class::FailedOver,
        _ => Class::Primary,
    });
    let mk = markers();
    let m = measure(&samples, &mk, spec());
    assert_eq!(m.break_to_steady_failover, Some(ms(2_100)));
    assert_eq!(m.errors_during_failover, 1);
    assert_eq!(m.errors_after_steady_failover, 10);
    assert_eq!(m.periods[2].counts.error, 10);

    let od = OutlierSettings {
        source: "mgmt-cluster: DestinationRule bookinfo/reviews".into(),
        consecutive_5xx_errors: Some(1),
        interval: Some(Duration::from_secs(1)),
        base_ejection_time: Some(Duration::from_secs(5)),
        max_ejection_percent: Some(100),
        ..Default::default()
    };
    let model = outlier_model(&od, 2, 10.0, &samples, &mk, &m);
    assert_eq!(model.ejections, 2);
    assert_eq!(model.expected_failed_requests, Some(2));
    // rollout 3 s + 1 × 2 / 10 s
    assert_eq!(model.expected_failover, Some(ms(3_200)));
    // last error 12.9 s + 5 s × 2 = 22.9 s, before the restore rollout (23 s): nothing
    // remains; + interval 1 s.
    assert_eq!(model.expected_failback_min, Some(ms(3_000)));
    assert_eq!(model.expected_failback_max, Some(ms(4_000)));
    assert!(
        model
            .explanation
            .iter()
            .any(|l| l.starts_with("10 failed request(s) after steady failover")),
        "{:#?}",
        model.explanation
    );
    assert!(
        model
            .explanation
            .iter()
            .any(|l| l.starts_with("each client sidecar ejects a host on its own after 1 error(s)")),
        "{:#?}",
        model.explanation
    );
    // In ambient mode the waypoint the hostname uses is what ejects.
    let ambient = OutlierSettings {
        waypoint: Some("bookinfo/waypoint".into()),
        ..od
    };
    let model = outlier_model(&ambient, 2, 10.0, &samples, &mk, &m);
    assert!(
        model.explanation.iter().any(|l| l.starts_with(
            "the waypoint bookinfo/waypoint ejects a host after 1 error(s) of any caller that goes through it"
        )),
        "{:#?}",
        model.explanation
    );
    assert!(
        !model
            .explanation
            .iter()
            .any(|l| l.contains("client sidecar")),
        "{:#?}",
        model.explanation
    );
}

#[test]
fn no_failover_at_all_is_a_timeout_failure() {
    let mut p = plan();
    p.failover_timeout = Duration::from_secs(10);
    // Broken at 5 s; every answer is an error until the drill restores at 15.2 s.
    let mk = Markers {
        break_applied: Some(ms(5_000)),
        break_rollout_complete: Some(ms(8_000)),
        restore_applied: Some(ms(15_200)),
        restore_rollout_complete: Some(ms(18_000)),
        end: ms(21_000),
    };
    let samples = stream(0, 21_000, 100, |t| match t {
        t if t < 7_000 => Class::Primary,
        t if t < 18_500 => Class::Error,
        _ => Class::Primary,
    });
    let m = measure(&samples, &mk, spec());
    assert_eq!(m.break_to_first_failover, None);
    assert_eq!(m.break_to_steady_failover, None);
    assert_eq!(m.errors_during_failover, 82);
    let r = check(&m, &p);
    assert_eq!(r[0].verdict, Verdict::Fail);
    assert_eq!(
        r[0].message,
        "failover was not steady (>= 99% of 20 answers) within --failover-timeout 10.0s: no answer failed over; the last 20 answers before the restore: 20 error"
    );
    assert_eq!(r[1].verdict, Verdict::Fail);
    assert_eq!(
        r[1].message,
        "82 failed requests during failover, 77 more than --max-errors 5"
    );
    assert_eq!(r[2].verdict, Verdict::Pass);
}

#[test]
fn slow_failback_says_by_how_much() {
    let mut p = plan();
    p.failback_timeout = Duration::from_secs(2);
    let samples = stream(0, 30_000, 100, |t| match t {
        t if t < 5_000 => Class::Primary,
        t if t < 25_000 => Class::FailedOver,
        _ => Class::Primary,
    });
    let m = measure(&samples, &markers(), spec());
    assert_eq!(m.restore_to_steady_failback, Some(ms(5_000)));
    let r = check(&m, &p);
    assert_eq!(r[2].verdict, Verdict::Fail);
    assert_eq!(
        r[2].message,
        "failback took 5.0s after the restore, 3.0s more than --failback-timeout 2.0s"
    );
}

#[test]
fn interrupted_drill_is_not_judged_as_failed() {
    let mk = Markers {
        break_applied: Some(ms(5_000)),
        break_rollout_complete: None,
        restore_applied: Some(ms(6_000)),
        restore_rollout_complete: Some(ms(9_000)),
        end: ms(9_000),
    };
    let samples = stream(0, 9_000, 100, |_| Class::Primary);
    let m = measure(&samples, &mk, spec());
    let r = check(&m, &plan());
    assert_eq!(r[0].verdict, Verdict::NotReached);
    assert_eq!(
        r[0].message,
        "the drill stopped 1.0s after the break, before failover was steady"
    );
    // Nothing had failed over, so the primary answered right after the restore.
    assert_eq!(r[2].verdict, Verdict::Pass);

    let before_break = Markers {
        end: ms(3_000),
        ..Default::default()
    };
    let m = measure(&samples, &before_break, spec());
    let r = check(&m, &plan());
    assert!(r.iter().all(|r| r.verdict == Verdict::NotReached));
    assert_eq!(m.periods[0].counts.primary, 90);
    assert_eq!(m.periods[0].duration, Some(ms(3_000)));
    assert_eq!(m.periods[1].duration, None);
}

#[test]
fn failed_over_answers_while_restoring_count_as_the_first_failover() {
    // Interrupted 1 s after the break, before any answer failed over; while the restore
    // rolls out the primary is still down and answers come from the secondary.
    let mk = Markers {
        break_applied: Some(ms(5_000)),
        break_rollout_complete: Some(ms(5_800)),
        restore_applied: Some(ms(6_000)),
        restore_rollout_complete: Some(ms(8_000)),
        end: ms(8_000),
    };
    let samples = stream(0, 8_000, 100, |t| match t {
        t if t < 5_500 => Class::Primary,
        t if t < 6_300 => Class::Error,
        t if t < 7_800 => Class::FailedOver,
        _ => Class::Primary,
    });
    let m = measure(&samples, &mk, spec());
    assert_eq!(m.break_to_first_failover, Some(ms(1_300)));
    assert_eq!(
        m.break_to_steady_failover, None,
        "steady only before the restore"
    );
    assert_eq!(
        m.errors_during_failover, 5,
        "errors only before the restore"
    );
    assert_eq!(m.restore_to_first_primary, Some(ms(1_800)));
    let restoring = &m.periods[3];
    assert_eq!(restoring.period, Period::Restoring);
    assert_eq!(restoring.counts.failed_over, 15);
    // A failed-over answer before the break is not a failover.
    let early = stream(0, 8_000, 100, |t| {
        if t == 1_000 {
            Class::FailedOver
        } else {
            Class::Primary
        }
    });
    assert_eq!(measure(&early, &mk, spec()).break_to_first_failover, None);
}

#[test]
fn explanation_of_an_interrupted_drill_reads_as_sentences() {
    // Interrupted during the break rollout: neither steady moment, no break rollout.
    let mk = Markers {
        break_applied: Some(ms(5_000)),
        break_rollout_complete: None,
        restore_applied: Some(ms(6_000)),
        restore_rollout_complete: None,
        end: ms(7_000),
    };
    let samples = stream(0, 7_000, 100, |_| Class::Primary);
    let m = measure(&samples, &mk, spec());
    let od = OutlierSettings {
        source: "s".into(),
        consecutive_5xx_errors: Some(1),
        max_ejection_percent: Some(100),
        ..Default::default()
    };
    let model = outlier_model(&od, 2, 10.0, &samples, &mk, &m);
    let text = model.explanation.join("\n");
    assert!(!text.contains("measured not measured"), "{text}");
    assert!(
        text.contains("failover ≈ break rollout (did not complete) + 1 consecutive error(s)"),
        "{text}"
    );
    assert!(text.contains("= unknown, up to unknown when"), "{text}");
    assert!(
        text.contains("; steady failover was not reached\n"),
        "{text}"
    );
    assert!(
            text.ends_with(
                "failback ≈ restore rollout (did not complete) when restored pods come back at new addresses (they start un-ejected), up to unknown when ejected hosts come back at the same address (the rest of baseEjectionTime × k, plus up to one interval 10.0s); steady failback was not reached"
            ),
            "{text}"
        );
    // With the moments measured, the same sentences name them.
    let samples = stream(0, 30_000, 100, |t| match t {
        t if t < 7_000 => Class::Primary,
        t if t < 23_500 => Class::FailedOver,
        _ => Class::Primary,
    });
    let m = measure(&samples, &markers(), spec());
    let model = outlier_model(&od, 2, 10.0, &samples, &markers(), &m);
    let text = model.explanation.join("\n");
    assert!(
        text.contains("; measured 2.0s to steady failover"),
        "{text}"
    );
    assert!(
        text.ends_with("; measured 3.5s to steady failback"),
        "{text}"
    );
}

#[test]
fn expectation_limits_are_numbers_in_json() {
    let samples = stream(0, 30_000, 100, |t| match t {
        t if t < 7_000 => Class::Primary,
        t if t < 23_500 => Class::FailedOver,
        _ => Class::Primary,
    });
    let m = measure(&samples, &markers(), spec());
    let mut p = plan();
    p.failback_timeout = Duration::from_millis(150_500);
    let v = serde_json::to_value(check(&m, &p)).unwrap();
    assert_eq!(v[0]["name"], "failover");
    assert_eq!(v[0]["limit"], json!(120.0));
    assert_eq!(v[1]["name"], "max-errors");
    assert_eq!(v[1]["limit"], json!(5));
    assert_eq!(v[2]["limit"], json!(150.5));
    p.max_errors = None;
    let r = check(&m, &p);
    assert_eq!(serde_json::to_value(&r).unwrap()[1]["limit"], Value::Null);
    // The tables show them as the flags take them.
    let shown: Vec<String> = r.iter().map(|e| e.limit.to_string()).collect();
    assert_eq!(shown, ["2m0s", "none", "2m30.5s"]);
}

/// The live lines for `samples` (in arrival order), each fed with the markers of `mk`
/// that had passed when it arrived (sent + latency), as the executor feeds them.
fn live_lines(samples: &[ProbeSample], mk: &Markers) -> Vec<String> {
    let mut changes = ClassChanges::default();
    samples
        .iter()
        .filter_map(|s| {
            let arrived = s.at + s.latency;
            let passed = |t: Option<Duration>| t.filter(|t| *t <= arrived);
            let now = Markers {
                break_applied: passed(mk.break_applied),
                restore_applied: passed(mk.restore_applied),
                ..Default::default()
            };
            changes.push(s, &now)
        })
        .map(|c| c.to_string())
        .collect()
}

#[test]
fn every_class_change_is_reported_at_its_first_answer() {
    // 2 probes/s: primary, a two-answer error burst, then failed over, with one answer
    // arriving out of send order.
    let mut samples = stream(0, 6_000, 500, |t| match t {
        t if t < 2_000 => Class::Primary,
        t if t < 3_000 => Class::Error,
        _ => Class::FailedOver,
    });
    samples.swap(5, 6);
    let mk = Markers {
        break_applied: Some(ms(1_000)),
        end: ms(6_000),
        ..Default::default()
    };
    assert_eq!(
        live_lines(&samples, &mk),
        [
            "answers: primary (since the probe sent at 0.000s)",
            "answers: error (HTTP 503) (since the probe sent at 2.000s; before: 4 primary)",
            "answers: failed over (since the probe sent at 3.000s, the first failed-over answer; before: 1 error)",
            "answers: error (HTTP 503) (since the probe sent at 2.500s; before: 1 failed over)",
            "answers: failed over (since the probe sent at 3.500s; before: 1 error)",
        ]
    );
    // The line of the first failed-over answer names the report's moment.
    let m = measure(&samples, &mk, spec());
    assert_eq!(m.break_to_first_failover, Some(ms(2_000)));
}

#[test]
fn requests_straddling_the_break_and_the_restore_are_marked_and_not_counted_first() {
    // 10 probes/s, the break at 5 s, the restore at 10 s. The probe sent at 4.9 s is
    // answered failed over 3 s later, right before the first failed-over answer to a
    // probe sent after the break (7.9 s); the probe sent at 9.9 s is answered by the
    // primary 0.6 s later, right before the first primary answer to a probe sent after
    // the restore (10.5 s).
    let mk = Markers {
        break_applied: Some(ms(5_000)),
        break_rollout_complete: Some(ms(5_500)),
        restore_applied: Some(ms(10_000)),
        restore_rollout_complete: Some(ms(10_500)),
        end: ms(12_000),
    };
    let mut samples = stream(0, 12_000, 100, |t| match t {
        t if t < 5_500 => Class::Primary,
        t if t < 7_900 => Class::Error,
        t if t < 10_500 => Class::FailedOver,
        _ => Class::Primary,
    });
    for s in samples.iter_mut() {
        if s.at == ms(4_900) {
            (s.class, s.latency) = (Class::FailedOver, ms(3_000));
        }
        if s.at == ms(9_900) {
            (s.class, s.latency) = (Class::Primary, ms(600));
        }
    }
    // In the order the answers arrive.
    samples.sort_by_key(|s| s.at + s.latency);
    let lines = live_lines(&samples, &mk);
    assert_eq!(
        lines,
        [
            "answers: primary (since the probe sent at 0.000s)",
            "answers: error (HTTP 503) (since the probe sent at 5.500s; before: 54 primary)",
            "answers: failed over (since the probe sent at 4.900s, before the break; before: 24 error)",
            "answers: failed over (since the probe sent at 7.900s, the first failed-over answer; before: 1 failed over)",
            "answers: primary (since the probe sent at 9.900s, before the restore; before: 25 failed over)",
            "answers: primary (since the probe sent at 10.500s, the first primary answer again; before: 1 primary)",
        ]
    );
    // The report counts from the probes sent after the break and the restore: the
    // marked lines name its moments, the straddling answers do not.
    let m = measure(&samples, &mk, spec());
    assert_eq!(m.break_to_first_failover, Some(ms(2_900)));
    assert_eq!(m.restore_to_first_primary, Some(ms(500)));
    let named = |mark: &str| {
        lines
            .iter()
            .find(|l| l.contains(mark))
            .and_then(|l| l.split_once("sent at "))
            .map(|(_, rest)| rest[..rest.find('s').unwrap()].to_string())
    };
    let at = |origin: Option<Duration>, d: Option<Duration>| {
        format!("{:.3}", crate::drill::seconds(origin.unwrap() + d.unwrap()))
    };
    assert_eq!(
        named("the first failed-over answer"),
        Some(at(mk.break_applied, m.break_to_first_failover))
    );
    assert_eq!(
        named("the first primary answer again"),
        Some(at(mk.restore_applied, m.restore_to_first_primary))
    );
}

#[test]
fn steady_detector_moment_is_first_hit_in_window() {
    let mut s = Steady::new(
        Class::FailedOver,
        SteadySpec {
            window: 4,
            percent: 75.0,
        },
    );
    assert_eq!(s.push(ms(0), Class::Error), None);
    assert_eq!(s.push(ms(1), Class::FailedOver), None);
    assert_eq!(s.push(ms(2), Class::FailedOver), None);
    assert_eq!(s.push(ms(3), Class::FailedOver), Some(ms(1)));
    assert_eq!(
        s.push(ms(4), Class::Error),
        Some(ms(1)),
        "sticky once found"
    );
}

#[test]
fn period_boundaries() {
    let mk = markers();
    assert_eq!(Period::of(ms(4_999), &mk), Period::Baseline);
    assert_eq!(Period::of(ms(5_000), &mk), Period::Breaking);
    assert_eq!(Period::of(ms(8_000), &mk), Period::FailedOver);
    assert_eq!(Period::of(ms(20_000), &mk), Period::Restoring);
    assert_eq!(Period::of(ms(23_000), &mk), Period::FailedBack);
}

#[test]
fn measurements_json_field_names() {
    let samples = stream(0, 30_000, 100, |t| {
        if !(7_000..23_500).contains(&t) {
            Class::Primary
        } else {
            Class::FailedOver
        }
    });
    let m = measure(&samples, &markers(), spec());
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(v["breakToFirstFailover"], 2.0);
    assert_eq!(v["restoreToSteadyFailback"], 3.5);
    assert_eq!(v["periods"][1]["period"], "breaking");
    assert_eq!(v["periods"][1]["failedOver"], 10);
    assert_eq!(v["periods"][1]["duration"], 3.0);
}
