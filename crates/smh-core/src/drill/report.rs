//! The drill report: what `-o json` prints and `render::drill` draws.
//!
//! JSON conventions: camelCase field names that will not change; every duration is a number
//! of **seconds** (f64, millisecond precision); fields named `at` or ending in a marker name
//! (`breakApplied`, ...) are seconds since the drill started; `null` means "did not happen"
//! (an expectation's `limit`: seconds, a count for `max-errors`, `null` for no limit).

use std::time::Duration;

use serde::Serialize;

use super::machine::{DrillOutcome, Machine, Phase};
use super::measure::{self, ExpectationResult, Markers, Measurements, OutlierModel};
use super::outlier::OutlierSettings;
use super::plan::{BreakTarget, ProbeSpec, SteadySpec, service_label};
use super::restore::BreakMode;
use super::{Class, ProbeSample, secs};
use crate::model::zero_loss;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// Since the drill started.
    #[serde(with = "secs")]
    pub at: Duration,
    /// What happened, in words.
    pub event: String,
}

/// What `kubectl smh drill` reports: the plan, the outcome, the measurements against the limits
/// and the timeline; `-o json` prints it as is (camelCase fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillReport {
    /// The drill's id, as in the restore annotations.
    pub drill_id: String,
    /// `namespace/name`.
    pub failover_service: String,
    /// The FailoverService's `spec.hostname`, the name probed.
    pub hostname: String,
    /// RFC 3339.
    pub started_at: String,
    /// `passed`, `failed`, `refused`, `declined`, `cluster-error`, `interrupted`,
    /// `restore-failed`, or `running` (report of an unfinished drill).
    pub result: String,
    /// The exit code; `None` while the drill runs.
    pub exit_code: Option<u8>,
    /// One line.
    pub summary: String,
    /// How the drill ended; `None` while it runs.
    pub outcome: Option<DrillOutcome>,
    /// `name.namespace @ cluster`.
    pub primary: String,
    /// The other backing services, `name.namespace @ cluster`, in priority order.
    pub secondaries: Vec<String>,
    /// How the deployments were broken: `command` (the guide's patch) or `scale`.
    pub break_mode: BreakMode,
    /// The deployments broken (or to break), with their containers.
    pub broken: Vec<BreakTarget>,
    /// How the answers were collected.
    pub probe: ProbeSpec,
    /// How answers are classified, one line per class.
    pub classification: Vec<String>,
    /// What "steady" means for this drill.
    pub steady: SteadySpec,
    /// The moments of the drill.
    pub markers: Markers,
    /// What the samples show.
    pub measurements: Measurements,
    /// Each expectation judged against its limit.
    pub expectations: Vec<ExpectationResult>,
    /// The primary's outlier detection and what it predicts (absent when unknown).
    pub outlier: Option<OutlierModel>,
    /// Phase changes and notes, in order.
    pub timeline: Vec<TimelineEntry>,
    /// One character per second since the start: `P` all primary, `F` all failed over,
    /// `m` both, `x` at least one error, `.` no answer.
    pub strip: String,
    /// After a drill that saved restore plans: each deployment read back and compared with
    /// its saved plan, field by field (filled in by the executor; empty before).
    pub restore_check: Vec<RestoreCheck>,
    /// What the drill rode out: API requests retried, port-forwards re-established, probes
    /// lost to the probes' own path (filled in by the executor; zero before).
    pub resilience: Resilience,
    /// What to change so that the next failover loses no request, when this one lost some
    /// (`kubectl smh failover create --zero-loss`'s settings); empty otherwise.
    pub recommendations: Vec<String>,
}

/// Transient failures the drill rode out instead of stopping. Probes lost to their own path
/// (the port-forward through the API server broke and could not be re-established within
/// the probe's timeout) are no answer from the data plane: they are left out of the
/// samples, the measurements and the strip, and counted here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resilience {
    /// API requests sent again after a transient error (429, 5xx, timeout, dropped
    /// connection).
    pub api_retries: u64,
    /// Requests that still failed when retrying had to stop (`--retry-timeout`).
    pub api_retries_exhausted: u64,
    /// Port-forwards of the probes opened again after one broke.
    pub probe_reconnects: u64,
    /// Probes without an answer because their own port-forward broke.
    pub probes_lost: u64,
}

impl Resilience {
    /// One line for the text report.
    pub fn line(&self) -> String {
        format!(
            "Rode out: {} API request retr{} ({} given up), {} probe port-forward{} re-established, \
             {} probe{} lost to the port-forward (not counted as answers)",
            self.api_retries,
            if self.api_retries == 1 { "y" } else { "ies" },
            self.api_retries_exhausted,
            self.probe_reconnects,
            if self.probe_reconnects == 1 { "" } else { "s" },
            self.probes_lost,
            if self.probes_lost == 1 { "" } else { "s" },
        )
    }
}

/// One deployment read back after the drill: how its containers differ from the saved
/// restore plan (no differences: restored exactly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreCheck {
    /// The deployment read back.
    pub deployment: super::DeploymentRef,
    /// Each field that differs from the saved plan; empty: restored exactly.
    pub differences: Vec<String>,
}

impl DrillReport {
    /// Build the report from the machine (finished or not).
    pub fn build(
        machine: &Machine,
        drill_id: &str,
        started_at: &str,
        primary_outlier: Option<&OutlierSettings>,
    ) -> DrillReport {
        let plan = machine.plan();
        let markers = *machine.markers();
        let samples = machine.samples();
        let m = machine.measurements();
        let expectations = if machine.is_finished() {
            machine.expectations().to_vec()
        } else {
            measure::check(&m, plan)
        };
        let outcome = machine.outcome().cloned();
        let result = match &outcome {
            None => "running",
            Some(DrillOutcome::Passed) => "passed",
            Some(DrillOutcome::Failed { .. }) => "failed",
            Some(DrillOutcome::Refused { .. }) => "refused",
            Some(DrillOutcome::Declined) => "declined",
            Some(DrillOutcome::ClusterError { .. }) => "cluster-error",
            Some(DrillOutcome::Interrupted { .. }) => "interrupted",
            Some(DrillOutcome::RestoreFailed { .. }) => "restore-failed",
        };
        let outlier = primary_outlier.map(|od| {
            measure::outlier_model(
                od,
                plan.primary_hosts(),
                plan.probe.rate_per_second,
                samples,
                &markers,
                &m,
            )
        });
        DrillReport {
            drill_id: drill_id.to_string(),
            failover_service: format!(
                "{}/{}",
                plan.failover_service.namespace, plan.failover_service.name
            ),
            hostname: plan.hostname.clone(),
            started_at: started_at.to_string(),
            result: result.to_string(),
            exit_code: outcome.as_ref().map(DrillOutcome::exit_code),
            summary: outcome.as_ref().map_or_else(
                || format!("running: {}", machine.phase().as_str()),
                DrillOutcome::summary,
            ),
            outcome,
            primary: service_label(&plan.primary),
            secondaries: plan.secondaries.iter().map(service_label).collect(),
            break_mode: plan.break_mode,
            broken: plan.targets.clone(),
            probe: plan.probe.clone(),
            classification: plan.classifier.describe(),
            steady: plan.steady,
            markers,
            timeline: timeline(machine, &markers, &m),
            strip: strip(samples, markers.end),
            recommendations: recommendations(&m, primary_outlier),
            measurements: m,
            expectations,
            outlier,
            restore_check: Vec::new(),
            resilience: Resilience::default(),
        }
    }
}

/// The zero-loss settings, when the drill saw failed requests during the failover.
fn recommendations(m: &Measurements, primary_outlier: Option<&OutlierSettings>) -> Vec<String> {
    let failed = m.errors_during_failover + m.errors_after_steady_failover;
    if failed == 0 {
        return Vec::new();
    }
    let mut out = vec![format!(
        "{failed} request{} failed during the failover. For a failover that loses none when the primary's pods are replaced by pods that serve nothing: {} (`kubectl smh failover create --zero-loss` writes them; measured on Envoy 1.40 with istiod's configuration, the guide's failover lost 10 requests at 10/s, none with them). Trade-off: {}.",
        if failed == 1 { "" } else { "s" },
        zero_loss::SUMMARY,
        zero_loss::TRADE_OFF
    )];
    if let Some(od) = primary_outlier {
        let errors = od.consecutive_5xx_errors.unwrap_or(5);
        if errors > zero_loss::CONSECUTIVE_ERRORS {
            out.push(format!(
                "The primary's outlier detection ejects a host after {errors} consecutive errors ({}): each failing host costs {errors} requests; consecutiveErrors 1 ejects it on the first.",
                od.source
            ));
        }
    }
    out
}

fn timeline(machine: &Machine, markers: &Markers, m: &Measurements) -> Vec<TimelineEntry> {
    let mut logged: Vec<(Duration, usize, String)> = machine
        .transitions()
        .iter()
        .map(|t| (t.at, t.seq, format!("{}: {}", t.to.as_str(), t.cause)))
        .chain(
            machine
                .notes()
                .iter()
                .map(|n| (n.at, n.seq, n.text.clone())),
        )
        .collect();
    logged.sort_by_key(|(at, seq, _)| (*at, *seq));
    let mut out = vec![TimelineEntry {
        at: Duration::ZERO,
        event: format!("{}: probing, preflight checks", Phase::Preflight.as_str()),
    }];
    out.extend(
        logged
            .into_iter()
            .map(|(at, _, event)| TimelineEntry { at, event }),
    );
    let mut moment = |origin: (Option<Duration>, &str), d: Option<Duration>, what: &str| {
        if let (Some(o), Some(d)) = (origin.0, d) {
            out.push(TimelineEntry {
                at: o + d,
                event: format!("{what} (sent {} after the {})", super::human(d), origin.1),
            });
        }
    };
    let from_break = (markers.break_applied, "break");
    let from_restore = (markers.restore_applied, "restore");
    moment(
        from_break,
        m.break_to_first_failover,
        "first failed-over answer",
    );
    moment(
        from_break,
        m.break_to_steady_failover,
        "steady failover begins",
    );
    moment(
        from_restore,
        m.restore_to_first_primary,
        "first primary answer again",
    );
    moment(
        from_restore,
        m.restore_to_steady_failback,
        "steady failback begins",
    );
    if let Some(first_error) = machine
        .samples()
        .iter()
        .find(|s| s.class == Class::Error && markers.break_applied.is_some_and(|b| s.at >= b))
    {
        out.push(TimelineEntry {
            at: first_error.at,
            event: format!(
                "first failed request after the break ({})",
                first_error.reason.as_deref().unwrap_or("error")
            ),
        });
    }
    // Stable: at equal times the machine's log comes before the measured moments.
    out.sort_by_key(|e| e.at);
    out
}

/// One character per second of `[0, end]`.
pub fn strip(samples: &[ProbeSample], end: Duration) -> String {
    let seconds = end.as_secs() as usize + 1;
    let mut cells = vec![(0u32, 0u32, 0u32); seconds];
    for s in samples {
        let i = s.at.as_secs() as usize;
        if let Some(c) = cells.get_mut(i) {
            match s.class {
                Class::Primary => c.0 += 1,
                Class::FailedOver => c.1 += 1,
                Class::Error => c.2 += 1,
            }
        }
    }
    cells
        .iter()
        .map(|&(p, f, x)| match (p, f, x) {
            (_, _, x) if x > 0 => 'x',
            (0, 0, _) => '.',
            (_, 0, _) => 'P',
            (0, _, _) => 'F',
            _ => 'm',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::machine::Event;
    use crate::testing::drill::{finished_machine, ms, plan};

    #[test]
    fn failed_requests_bring_the_zero_loss_recommendation() {
        let m = finished_machine();
        let smh_default = OutlierSettings {
            source: "mgmt-cluster: DestinationRule bookinfo/reviews".into(),
            consecutive_5xx_errors: None,
            ..Default::default()
        };
        let r = DrillReport::build(&m, "id", "2026-11-27T10:15:00Z", Some(&smh_default));
        assert_eq!(r.measurements.errors_during_failover, 1);
        assert_eq!(r.recommendations.len(), 2, "{:#?}", r.recommendations);
        assert!(r.recommendations[0].starts_with("1 request failed during the failover."));
        assert!(r.recommendations[0].contains(zero_loss::SUMMARY));
        assert!(
            r.recommendations[1].contains("after 5 consecutive errors"),
            "{}",
            r.recommendations[1]
        );
        let mut quiet = m.measurements();
        quiet.errors_during_failover = 0;
        quiet.errors_after_steady_failover = 0;
        assert!(recommendations(&quiet, Some(&smh_default)).is_empty());
    }

    #[test]
    fn report_of_a_passing_drill() {
        let m = finished_machine();
        let od = OutlierSettings {
            source: "mgmt-cluster: DestinationRule bookinfo/reviews".into(),
            consecutive_5xx_errors: Some(1),
            max_ejection_percent: Some(100),
            ..Default::default()
        };
        let r = DrillReport::build(
            &m,
            "reviews-failover-20261127t101500z",
            "2026-11-27T10:15:00Z",
            Some(&od),
        );
        assert_eq!(r.result, "passed");
        assert_eq!(r.exit_code, Some(0));
        assert_eq!(r.primary, "reviews.bookinfo @ mgmt-cluster");
        assert_eq!(r.measurements.break_to_first_failover, Some(ms(2_100)));
        assert_eq!(r.measurements.errors_during_failover, 1);
        assert_eq!(r.measurements.restore_to_steady_failback, Some(ms(2_550)));
        assert_eq!(r.strip, "PPPPxFFFFmPP");
        let outlier = r.outlier.as_ref().unwrap();
        assert_eq!(outlier.expected_failed_requests, Some(2));
        // rollout 3.4 s + 1 × 2 hosts / 10 per s.
        assert_eq!(outlier.expected_failover, Some(ms(3_600)));
        assert_eq!(outlier.expected_failover_max, Some(ms(4_600)));
        assert_eq!(outlier.expected_failed_requests_max, Some(12));
        let events: Vec<&str> = r.timeline.iter().map(|e| e.event.as_str()).collect();
        assert!(
            events.contains(&"first failed-over answer (sent 2.1s after the break)"),
            "{events:#?}"
        );
        assert!(
            events
                .contains(&"first failed request after the break (no answer: connection refused)"),
            "{events:#?}"
        );
        assert!(r.timeline.windows(2).all(|w| w[0].at <= w[1].at));

        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["result"], "passed");
        assert_eq!(v["outcome"]["result"], "passed");
        assert_eq!(v["markers"]["breakApplied"], 2.1);
        assert_eq!(v["measurements"]["breakToSteadyFailover"], 2.1);
        assert_eq!(v["measurements"]["errorsDuringFailover"], 1);
        assert_eq!(v["probe"]["ratePerSecond"], 10.0);
        assert_eq!(v["broken"][0]["deployment"]["name"], "reviews-v1");
        assert_eq!(v["outlier"]["settings"]["consecutive5xxErrors"], 1);
        assert_eq!(v["expectations"][0]["verdict"], "pass");
    }

    #[test]
    fn strip_characters() {
        let samples = vec![
            ProbeSample {
                at: ms(100),
                class: Class::Primary,
                latency: ms(1),
                status: None,
                reason: None,
            },
            ProbeSample {
                at: ms(1_100),
                class: Class::Primary,
                latency: ms(1),
                status: None,
                reason: None,
            },
            ProbeSample {
                at: ms(1_200),
                class: Class::FailedOver,
                latency: ms(1),
                status: None,
                reason: None,
            },
            ProbeSample {
                at: ms(3_100),
                class: Class::FailedOver,
                latency: ms(1),
                status: None,
                reason: None,
            },
            ProbeSample {
                at: ms(3_200),
                class: Class::Error,
                latency: ms(1),
                status: None,
                reason: None,
            },
        ];
        assert_eq!(strip(&samples, ms(4_500)), "Pm.x.");
    }

    #[test]
    fn report_of_an_unfinished_drill() {
        let mut m = Machine::new(&plan());
        m.start();
        m.handle(ms(500), Event::Tick);
        let r = DrillReport::build(&m, "id", "2026-11-27T10:15:00Z", None);
        assert_eq!(r.result, "running");
        assert_eq!(r.exit_code, None);
        assert_eq!(r.summary, "running: preflight");
    }
}
