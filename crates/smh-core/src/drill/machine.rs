//! The drill's state machine (DESIGN §4). Pure: the executor feeds it [`Event`]s stamped
//! with the time since the drill started, and performs the [`Action`]s it returns.
//!
//! ```text
//! Preflight → Confirm → SavePlan → Break → WaitBreakRollout → VerifyFailover
//!           → Restore → WaitRestoreRollout → VerifyFailback → Report
//! ```
//!
//! Rules:
//! - nothing is patched before the restore plan is saved (`ApplyBreak` only follows `Saved`);
//! - preflight refusals, a declined confirmation, and interrupts or errors before
//!   `SaveRestorePlan` finish with nothing changed;
//! - once `SaveRestorePlan` was issued (annotations may exist), every path goes through
//!   `Restore`; once `ApplyBreak` was issued (templates may be broken), also through
//!   `WaitRestoreRollout`, whatever happens: errors, failed expectations, timeouts, SIGINT,
//!   SIGTERM;
//! - an interrupt during `Restore` or `WaitRestoreRollout` is recorded, not obeyed: the
//!   restore finishes first (the outcome is then "interrupted");
//! - a failed `ApplyRestore` is retried ([`RESTORE_ATTEMPTS`] in all); when it keeps failing
//!   the drill ends with [`DrillOutcome::RestoreFailed`], naming `kubectl smh drill restore`;
//! - after an error or an interrupt, failback is not verified (the restore is, by its
//!   rollout); after a failed expectation (failover timeout, too many errors, a break that
//!   cannot take effect) it is, so the report has both numbers.
//!
//! Probing runs from the start (baseline probes are part of preflight) until `Finish`.

use std::time::Duration;

use serde::Serialize;

use super::measure::{self, ExpectationResult, Markers, Measurements, Steady, Verdict};
use super::plan::DrillPlan;
use super::preflight::check_baseline;
use super::{Class, DeploymentRef, ProbeSample, Signal, human, secs};

/// How many times `ApplyRestore` is tried before giving up.
pub(crate) const RESTORE_ATTEMPTS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Preflight,
    Confirm,
    SavePlan,
    Break,
    WaitBreakRollout,
    VerifyFailover,
    Restore,
    WaitRestoreRollout,
    VerifyFailback,
    /// Finished.
    Report,
}

impl Phase {
    /// Every phase in the order a drill that runs to the end goes through them.
    #[cfg(test)]
    pub(crate) const ALL: [Phase; 10] = [
        Phase::Preflight,
        Phase::Confirm,
        Phase::SavePlan,
        Phase::Break,
        Phase::WaitBreakRollout,
        Phase::VerifyFailover,
        Phase::Restore,
        Phase::WaitRestoreRollout,
        Phase::VerifyFailback,
        Phase::Report,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Preflight => "preflight",
            Phase::Confirm => "confirm",
            Phase::SavePlan => "save restore plan",
            Phase::Break => "break",
            Phase::WaitBreakRollout => "wait for break rollout",
            Phase::VerifyFailover => "verify failover",
            Phase::Restore => "restore",
            Phase::WaitRestoreRollout => "wait for restore rollout",
            Phase::VerifyFailback => "verify failback",
            Phase::Report => "report",
        }
    }
}

/// What the executor reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The cluster-side preflight checks ([`super::preflight::check`] without baseline)
    /// found nothing to refuse.
    PreflightPassed,
    /// They refused; each reason a sentence.
    PreflightFailed(Vec<String>),
    /// The user confirmed (or `--yes`).
    Confirmed,
    /// The user said no.
    Declined,
    /// `SaveRestorePlan` done on every deployment.
    Saved,
    /// `ApplyBreak` done on every deployment.
    Patched,
    /// The rollout asked for by `WaitRollout` completed.
    RolloutComplete,
    /// While the break rolls out: it cannot take effect (the new pods cannot start, do not
    /// become Ready in time, crash-loop, or the rollout exceeded its progress deadline). The
    /// text says why. An expectation failure, not a cluster error.
    BreakFailed(String),
    /// `ApplyRestore` done on every deployment that carried this drill's plan.
    Restored,
    /// One classified probe.
    Probe(ProbeSample),
    /// Nothing happened; lets deadlines fire (see [`Machine::next_deadline`]).
    Tick,
    Interrupted(Signal),
    /// The current action failed (API error, lost port-forward, ...).
    Error(String),
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::PreflightPassed => "PreflightPassed",
            Event::PreflightFailed(_) => "PreflightFailed",
            Event::Confirmed => "Confirmed",
            Event::Declined => "Declined",
            Event::Saved => "Saved",
            Event::Patched => "Patched",
            Event::RolloutComplete => "RolloutComplete",
            Event::BreakFailed(_) => "BreakFailed",
            Event::Restored => "Restored",
            Event::Probe(_) => "Probe",
            Event::Tick => "Tick",
            Event::Interrupted(_) => "Interrupted",
            Event::Error(_) => "Error",
        }
    }
}

/// What the executor must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start the port-forward and probe at the plan's rate; report each answer as
    /// [`Event::Probe`] until `StopProbing`.
    StartProbing,
    /// Gather the facts and run [`super::preflight::check`] (without baseline); report
    /// `PreflightPassed` or `PreflightFailed`.
    RunPreflight,
    /// Ask for confirmation naming contexts and deployments (answer at once with
    /// `Confirmed` under `--yes`); report `Confirmed` or `Declined`.
    Confirm,
    /// Save the restore plan on every deployment to break ([`super::restore::save_patch`],
    /// conditional on resourceVersion); report `Saved`.
    SaveRestorePlan,
    /// Patch every deployment with [`super::restore::break_patch`]; report `Patched`.
    ApplyBreak,
    /// Wait until these deployments' rollouts complete; report `RolloutComplete`. During
    /// the break rollout also watch the new pods, and report `BreakFailed` when the break
    /// cannot take effect.
    WaitRollout(Vec<DeploymentRef>),
    /// For every deployment to break that carries a restore plan with this drill's id,
    /// read the plan from the live object and apply [`super::restore::restore_patch`];
    /// report `Restored` (also when there was nothing to restore).
    ApplyRestore,
    StopProbing,
    /// The drill is over; exit with [`DrillOutcome::exit_code`].
    Finish(DrillOutcome),
}

/// How the drill ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum DrillOutcome {
    /// Failover and failback happened within their limits.
    Passed,
    /// Preflight refused; nothing was changed.
    Refused { reasons: Vec<String> },
    /// The user said no; nothing was changed.
    Declined,
    /// An expectation failed; everything was restored.
    Failed { failures: Vec<String> },
    /// A cluster or API error; `changed`: whether the drill had begun changing deployments
    /// (they were restored).
    ClusterError { message: String, changed: bool },
    /// SIGINT or SIGTERM; `changed` as above.
    Interrupted { signal: Signal, changed: bool },
    /// The restore could not be applied: deployments may still be broken.
    RestoreFailed { message: String },
}

impl DrillOutcome {
    /// DESIGN §2: 0 pass; 1 failed expectation, preflight refusal or declined; 3 cluster
    /// error (also a failed restore); 130 interrupted (after restoring).
    pub fn exit_code(&self) -> u8 {
        match self {
            DrillOutcome::Passed => 0,
            DrillOutcome::Refused { .. } | DrillOutcome::Declined | DrillOutcome::Failed { .. } => {
                1
            }
            DrillOutcome::ClusterError { .. } | DrillOutcome::RestoreFailed { .. } => 3,
            DrillOutcome::Interrupted { .. } => 130,
        }
    }

    /// One line: `passed`, `failed: ...`.
    pub fn summary(&self) -> String {
        match self {
            DrillOutcome::Passed => "passed".into(),
            DrillOutcome::Refused { reasons } => {
                format!(
                    "refused by preflight, nothing changed: {}",
                    reasons.join("; ")
                )
            }
            DrillOutcome::Declined => "declined, nothing changed".into(),
            DrillOutcome::Failed { failures } => format!("failed: {}", failures.join("; ")),
            DrillOutcome::ClusterError { message, changed } => format!(
                "cluster error{}: {message}",
                if *changed {
                    " (restored)"
                } else {
                    ", nothing changed"
                }
            ),
            DrillOutcome::Interrupted { signal, changed } => format!(
                "interrupted by {signal}{}",
                if *changed {
                    " (restored)"
                } else {
                    ", nothing changed"
                }
            ),
            DrillOutcome::RestoreFailed { message } => format!("RESTORE FAILED: {message}"),
        }
    }
}

/// A phase change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    #[serde(with = "secs")]
    pub at: Duration,
    /// Order among transitions and notes.
    #[serde(skip)]
    pub seq: usize,
    pub from: Phase,
    pub to: Phase,
    pub cause: String,
}

/// Something worth a line in the timeline that is not a phase change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    #[serde(with = "secs")]
    pub at: Duration,
    /// Order among transitions and notes.
    #[serde(skip)]
    pub seq: usize,
    pub text: String,
}

/// The state machine.
#[derive(Debug, Clone)]
pub struct Machine {
    plan: DrillPlan,
    phase: Phase,
    now: Duration,
    samples: Vec<ProbeSample>,
    markers: Markers,
    checks_passed: bool,
    /// `SaveRestorePlan` was issued: annotations may exist.
    touched: bool,
    /// `ApplyBreak` was issued: pod templates may be broken.
    patched: bool,
    failover: Steady,
    failback: Steady,
    errors_since_break: u64,
    expectation_abort: Option<String>,
    interrupted: Option<Signal>,
    cluster_error: Option<String>,
    refusal: Option<Vec<String>>,
    declined: bool,
    restore_errors: Vec<String>,
    restore_failed: bool,
    transitions: Vec<Transition>,
    notes: Vec<Note>,
    outcome: Option<DrillOutcome>,
    expectations: Vec<ExpectationResult>,
}

impl Machine {
    pub fn new(plan: &DrillPlan) -> Self {
        Machine {
            failover: Steady::new(Class::FailedOver, plan.steady),
            failback: Steady::new(Class::Primary, plan.steady),
            plan: plan.clone(),
            phase: Phase::Preflight,
            now: Duration::ZERO,
            samples: Vec::new(),
            markers: Markers::default(),
            checks_passed: false,
            touched: false,
            patched: false,
            errors_since_break: 0,
            expectation_abort: None,
            interrupted: None,
            cluster_error: None,
            refusal: None,
            declined: false,
            restore_errors: Vec::new(),
            restore_failed: false,
            transitions: Vec::new(),
            notes: Vec::new(),
            outcome: None,
            expectations: Vec::new(),
        }
    }

    /// The first actions: start probing and run the preflight checks.
    pub fn start(&mut self) -> Vec<Action> {
        vec![Action::StartProbing, Action::RunPreflight]
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }
    pub fn plan(&self) -> &DrillPlan {
        &self.plan
    }
    pub(crate) fn is_finished(&self) -> bool {
        self.phase == Phase::Report
    }
    pub fn outcome(&self) -> Option<&DrillOutcome> {
        self.outcome.as_ref()
    }
    pub fn samples(&self) -> &[ProbeSample] {
        &self.samples
    }
    pub fn markers(&self) -> &Markers {
        &self.markers
    }
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }
    /// The expectation verdicts (set when finished).
    pub fn expectations(&self) -> &[ExpectationResult] {
        &self.expectations
    }
    /// Whether the drill began changing deployments.
    pub fn changed(&self) -> bool {
        self.touched
    }
    /// Measurements from what has been recorded so far.
    pub fn measurements(&self) -> Measurements {
        measure::measure(&self.samples, &self.markers, self.plan.steady)
    }

    /// When the current phase times out, if it can: send `Tick` then.
    pub fn next_deadline(&self) -> Option<Duration> {
        match self.phase {
            // Only while baseline probes are missing: with enough of them the drill waits
            // for the executor's checks, which have their own timeouts.
            Phase::Preflight => (self.samples.len() < self.plan.baseline.probes)
                .then_some(self.plan.baseline.timeout),
            Phase::WaitBreakRollout | Phase::VerifyFailover => self
                .markers
                .break_applied
                .map(|t| t + self.plan.failover_timeout),
            Phase::WaitRestoreRollout | Phase::VerifyFailback => self
                .markers
                .restore_applied
                .map(|t| t + self.plan.failback_timeout),
            _ => None,
        }
    }

    fn deadline_passed(&self) -> bool {
        self.next_deadline().is_some_and(|d| self.now >= d)
    }

    /// Feed one event that happened `at` after the drill started.
    pub fn handle(&mut self, at: Duration, event: Event) -> Vec<Action> {
        if self.is_finished() {
            return Vec::new();
        }
        self.now = self.now.max(at);
        self.markers.end = self.now;
        if let Event::Probe(sample) = &event {
            self.record(sample.clone());
        }
        match self.phase {
            Phase::Preflight => self.on_preflight(event),
            Phase::Confirm => self.on_confirm(event),
            Phase::SavePlan => self.on_save(event),
            Phase::Break => self.on_break(event),
            Phase::WaitBreakRollout | Phase::VerifyFailover => self.on_failover(event),
            Phase::Restore => self.on_restore(event),
            Phase::WaitRestoreRollout | Phase::VerifyFailback => self.on_failback(event),
            Phase::Report => Vec::new(),
        }
    }

    fn record(&mut self, s: ProbeSample) {
        let after_break = self.markers.break_applied.is_some_and(|b| s.at >= b);
        let before_restore = self.markers.restore_applied.is_none_or(|r| s.at < r);
        if after_break && before_restore {
            if s.class == Class::Error && self.failover.found().is_none() {
                self.errors_since_break += 1;
            }
            self.failover.push(s.at, s.class);
        }
        if self.markers.restore_applied.is_some_and(|r| s.at >= r) {
            self.failback.push(s.at, s.class);
        }
        self.samples.push(s);
    }

    fn go(&mut self, to: Phase, cause: impl Into<String>) {
        self.transitions.push(Transition {
            at: self.now,
            seq: self.transitions.len() + self.notes.len(),
            from: self.phase,
            to,
            cause: cause.into(),
        });
        self.phase = to;
    }

    fn note(&mut self, text: impl Into<String>) {
        self.notes.push(Note {
            at: self.now,
            seq: self.transitions.len() + self.notes.len(),
            text: text.into(),
        });
    }

    fn ignored(&mut self, event: &Event) -> Vec<Action> {
        if !matches!(event, Event::Probe(_) | Event::Tick) {
            let text = format!(
                "ignored unexpected {} during {}",
                event.name(),
                self.phase.as_str()
            );
            self.note(text);
        }
        Vec::new()
    }

    // ---- before anything changes -------------------------------------------------------

    fn baseline_verdict(&self) -> Option<Result<String, String>> {
        let n = self.plan.baseline.probes;
        (self.samples.len() >= n).then(|| check_baseline(&self.samples, &self.plan.baseline))
    }

    fn on_preflight(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::PreflightPassed => {
                self.checks_passed = true;
                self.note("preflight checks passed");
                self.try_leave_preflight()
            }
            Event::PreflightFailed(reasons) => self.refuse(reasons),
            Event::Interrupted(signal) => {
                self.interrupted = Some(signal);
                self.finish(format!("{signal} during preflight, nothing changed"))
            }
            Event::Error(message) => {
                self.cluster_error = Some(message.clone());
                self.finish(format!("error during preflight: {message}"))
            }
            Event::Probe(_) | Event::Tick => {
                let actions = self.try_leave_preflight();
                if !actions.is_empty() {
                    return actions;
                }
                // Too few baseline probes in time. (With enough probes but the checks still
                // pending, keep waiting: the executor's requests have their own timeouts.)
                if self.deadline_passed() && self.samples.len() < self.plan.baseline.probes {
                    let refusal = check_baseline(&self.samples, &self.plan.baseline)
                        .err()
                        .unwrap_or_default();
                    return self.refuse(vec![refusal]);
                }
                Vec::new()
            }
            other => self.ignored(&other),
        }
    }

    fn try_leave_preflight(&mut self) -> Vec<Action> {
        if !self.checks_passed {
            return Vec::new();
        }
        match self.baseline_verdict() {
            None => Vec::new(),
            Some(Ok(note)) => {
                self.note(note);
                self.go(Phase::Confirm, "preflight passed");
                vec![Action::Confirm]
            }
            Some(Err(refusal)) => self.refuse(vec![refusal]),
        }
    }

    fn refuse(&mut self, reasons: Vec<String>) -> Vec<Action> {
        self.refusal = Some(reasons);
        self.finish("preflight refused, nothing changed")
    }

    fn on_confirm(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Confirmed => {
                // The baseline again: the answer may have taken a while.
                match self.baseline_verdict() {
                    Some(Err(refusal)) => self.refuse(vec![refusal]),
                    _ => {
                        self.touched = true;
                        self.go(Phase::SavePlan, "confirmed");
                        vec![Action::SaveRestorePlan]
                    }
                }
            }
            Event::Declined => {
                self.declined = true;
                self.finish("declined, nothing changed")
            }
            Event::Interrupted(signal) => {
                self.interrupted = Some(signal);
                self.finish(format!("{signal} at the confirmation, nothing changed"))
            }
            Event::Error(message) => {
                self.cluster_error = Some(message.clone());
                self.finish(format!("error at the confirmation: {message}"))
            }
            other => self.ignored(&other),
        }
    }

    // ---- changing things ---------------------------------------------------------------

    fn abort_to_restore(&mut self, event: Event, during: &str) -> Vec<Action> {
        match event {
            Event::Interrupted(signal) => {
                self.interrupted.get_or_insert(signal);
                self.go_restore(format!("{signal} during {during}"))
            }
            Event::Error(message) => {
                let cause = format!("error during {during}: {message}");
                self.cluster_error.get_or_insert(message);
                self.go_restore(cause)
            }
            other => self.ignored(&other),
        }
    }

    fn go_restore(&mut self, cause: impl Into<String>) -> Vec<Action> {
        self.go(Phase::Restore, cause);
        vec![Action::ApplyRestore]
    }

    fn on_save(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Saved => {
                self.patched = true;
                self.go(Phase::Break, "restore plan saved on every deployment");
                vec![Action::ApplyBreak]
            }
            other => self.abort_to_restore(other, "save restore plan"),
        }
    }

    fn on_break(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Patched => {
                self.markers.break_applied = Some(self.now);
                self.go(Phase::WaitBreakRollout, "break applied");
                vec![Action::WaitRollout(self.plan.deployments())]
            }
            other => self.abort_to_restore(other, "break"),
        }
    }

    fn on_failover(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::RolloutComplete if self.phase == Phase::WaitBreakRollout => {
                self.markers.break_rollout_complete = Some(self.now);
                self.go(Phase::VerifyFailover, "break rollout complete");
                self.failover_progress()
            }
            Event::BreakFailed(why) if self.phase == Phase::WaitBreakRollout => {
                let text = format!("the break did not take effect: {why}");
                self.expectation_abort = Some(text.clone());
                self.go_restore(text)
            }
            Event::Probe(_) | Event::Tick => self.failover_progress(),
            other => self.abort_to_restore(other, self.phase.as_str()),
        }
    }

    fn failover_progress(&mut self) -> Vec<Action> {
        if let Some(t) = self.failover.found()
            && self.phase == Phase::VerifyFailover
        {
            let since = t.saturating_sub(self.markers.break_applied.unwrap_or_default());
            return self.go_restore(format!(
                "failover steady ({} after the break)",
                human(since)
            ));
        }
        if let Some(max) = self.plan.max_errors
            && self.failover.found().is_none()
            && self.errors_since_break > max
        {
            let text = format!(
                "{} failed requests during failover exceed --max-errors {max}",
                self.errors_since_break
            );
            self.expectation_abort = Some(text.clone());
            return self.go_restore(text);
        }
        if self.deadline_passed() {
            let text = format!(
                "failover not steady within --failover-timeout {}",
                human(self.plan.failover_timeout)
            );
            self.expectation_abort = Some(text.clone());
            return self.go_restore(text);
        }
        Vec::new()
    }

    // ---- putting things back -----------------------------------------------------------

    fn on_restore(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Restored => {
                self.markers.restore_applied = Some(self.now);
                if self.patched {
                    self.go(Phase::WaitRestoreRollout, "restore applied");
                    vec![Action::WaitRollout(self.plan.deployments())]
                } else {
                    self.finish("restore plans removed; nothing had been broken")
                }
            }
            Event::Error(message) => {
                self.restore_errors.push(message.clone());
                if self.restore_errors.len() < RESTORE_ATTEMPTS {
                    self.note(format!(
                        "restore attempt {} failed: {message}; trying again",
                        self.restore_errors.len()
                    ));
                    vec![Action::ApplyRestore]
                } else {
                    self.restore_failed = true;
                    self.finish(format!(
                        "restore failed {RESTORE_ATTEMPTS} times: {message}"
                    ))
                }
            }
            Event::Interrupted(signal) => {
                self.interrupted.get_or_insert(signal);
                self.note(format!("{signal} received: restoring first"));
                Vec::new()
            }
            other => self.ignored(&other),
        }
    }

    fn on_failback(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::RolloutComplete if self.phase == Phase::WaitRestoreRollout => {
                self.markers.restore_rollout_complete = Some(self.now);
                if let Some(signal) = self.interrupted {
                    return self.finish(format!("restore rollout complete; stopping for {signal}"));
                }
                if self.cluster_error.is_some() {
                    return self.finish("restore rollout complete; stopping after the error");
                }
                self.go(Phase::VerifyFailback, "restore rollout complete");
                self.failback_progress()
            }
            Event::Probe(_) | Event::Tick => self.failback_progress(),
            Event::Interrupted(signal) => {
                self.interrupted.get_or_insert(signal);
                if self.phase == Phase::WaitRestoreRollout {
                    self.note(format!(
                        "{signal} received: waiting for the restore rollout first"
                    ));
                    Vec::new()
                } else {
                    self.finish(format!("{signal} while verifying failback"))
                }
            }
            Event::Error(message) => {
                let cause = if self.phase == Phase::WaitRestoreRollout {
                    format!(
                        "the restore was applied but its rollout could not be confirmed: {message}"
                    )
                } else {
                    format!("error while verifying failback: {message}")
                };
                self.cluster_error.get_or_insert(cause.clone());
                self.finish(cause)
            }
            other => self.ignored(&other),
        }
    }

    fn failback_progress(&mut self) -> Vec<Action> {
        if let Some(t) = self.failback.found()
            && self.phase == Phase::VerifyFailback
        {
            let since = t.saturating_sub(self.markers.restore_applied.unwrap_or_default());
            return self.finish(format!(
                "failback steady ({} after the restore)",
                human(since)
            ));
        }
        if self.deadline_passed() {
            let what = if self.phase == Phase::WaitRestoreRollout {
                "restore rollout not complete"
            } else {
                "failback not steady"
            };
            return self.finish(format!(
                "{what} within --failback-timeout {}",
                human(self.plan.failback_timeout)
            ));
        }
        Vec::new()
    }

    // ---- the end -----------------------------------------------------------------------

    fn finish(&mut self, cause: impl Into<String>) -> Vec<Action> {
        self.go(Phase::Report, cause);
        let m = self.measurements();
        self.expectations = measure::check(&m, &self.plan);
        let fs = &self.plan.failover_service.name;
        let outcome = if let Some(reasons) = &self.refusal {
            DrillOutcome::Refused {
                reasons: reasons.clone(),
            }
        } else if self.restore_failed {
            DrillOutcome::RestoreFailed {
                message: format!(
                    "{}; deployments may still be broken: run `kubectl smh drill restore {fs}`",
                    self.restore_errors.last().cloned().unwrap_or_default()
                ),
            }
        } else if self.declined {
            DrillOutcome::Declined
        } else if let Some(signal) = self.interrupted {
            DrillOutcome::Interrupted {
                signal,
                changed: self.touched,
            }
        } else if let Some(message) = &self.cluster_error {
            DrillOutcome::ClusterError {
                message: message.clone(),
                changed: self.touched,
            }
        } else {
            let mut failures: Vec<String> = self
                .expectations
                .iter()
                .filter(|e| e.verdict == Verdict::Fail)
                .map(|e| e.message.clone())
                .collect();
            if failures.is_empty()
                && let Some(abort) = &self.expectation_abort
            {
                failures.push(abort.clone());
            }
            if failures.is_empty() {
                DrillOutcome::Passed
            } else {
                DrillOutcome::Failed { failures }
            }
        };
        self.outcome = Some(outcome.clone());
        vec![Action::StopProbing, Action::Finish(outcome)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::drill::{ms, plan};

    fn probe(at: u64, class: Class) -> Event {
        Event::Probe(ProbeSample {
            at: ms(at),
            class,
            latency: ms(3),
            status: Some(if class == Class::Error { 503 } else { 200 }),
            reason: (class == Class::Error).then(|| "HTTP 503".into()),
        })
    }

    /// Drives a machine and collects every action.
    struct Run {
        m: Machine,
        t: u64,
        actions: Vec<Action>,
    }

    impl Run {
        fn new() -> Self {
            Self::with(plan())
        }
        fn with(plan: DrillPlan) -> Self {
            let mut m = Machine::new(&plan);
            let actions = m.start();
            Run { m, t: 0, actions }
        }
        fn send(&mut self, e: Event) -> Vec<Action> {
            let a = self.m.handle(ms(self.t), e);
            self.actions.extend(a.clone());
            a
        }
        /// Probes every 100 ms for `dur` ms.
        fn probes(&mut self, dur: u64, class: Class) {
            for _ in 0..dur / 100 {
                self.t += 100;
                self.send(probe(self.t, class));
            }
        }
        fn tick_to(&mut self, t: u64) -> Vec<Action> {
            self.t = t;
            self.send(Event::Tick)
        }
        fn count(&self, pred: impl Fn(&Action) -> bool) -> usize {
            self.actions.iter().filter(|a| pred(a)).count()
        }
        fn outcome(&self) -> DrillOutcome {
            match self.actions.last() {
                Some(Action::Finish(o)) => o.clone(),
                other => panic!("not finished; last action {other:?}"),
            }
        }
        /// The invariants that hold on every finished run.
        fn check_invariants(&self) {
            let pos = |pred: &dyn Fn(&Action) -> bool| self.actions.iter().position(pred);
            let save = pos(&|a| matches!(a, Action::SaveRestorePlan));
            let brk = pos(&|a| matches!(a, Action::ApplyBreak));
            if let Some(b) = brk {
                assert!(
                    save.is_some_and(|s| s < b),
                    "break before save: {:?}",
                    self.actions
                );
                let restore = self
                    .actions
                    .iter()
                    .rposition(|a| matches!(a, Action::ApplyRestore));
                assert!(restore.is_some_and(|r| r > b), "broken but never restored");
                let waits = self.count(|a| matches!(a, Action::WaitRollout(_)));
                let restored = self.m.markers().restore_applied.is_some();
                if restored {
                    assert!(
                        waits >= 2 || !matches!(self.outcome(), DrillOutcome::Passed),
                        "restore rollout never awaited"
                    );
                }
            }
            if save.is_some() && !matches!(self.outcome(), DrillOutcome::RestoreFailed { .. }) {
                assert!(
                    self.count(|a| matches!(a, Action::ApplyRestore)) >= 1,
                    "annotations never removed"
                );
            }
            assert_eq!(self.count(|a| matches!(a, Action::Finish(_))), 1);
            assert!(matches!(
                self.actions[self.actions.len() - 2],
                Action::StopProbing
            ));
        }
    }

    /// Walk a run to the start of `phase` along the happy path.
    fn run_to(phase: Phase) -> Run {
        let mut r = Run::new();
        if phase == Phase::Preflight {
            return r;
        }
        r.send(Event::PreflightPassed);
        r.probes(2_000, Class::Primary);
        assert_eq!(r.m.phase(), Phase::Confirm);
        if phase == Phase::Confirm {
            return r;
        }
        r.send(Event::Confirmed);
        if phase == Phase::SavePlan {
            return r;
        }
        r.t += 50;
        r.send(Event::Saved);
        if phase == Phase::Break {
            return r;
        }
        r.t += 50;
        r.send(Event::Patched); // break at 2.1 s
        if phase == Phase::WaitBreakRollout {
            return r;
        }
        r.probes(1_000, Class::Primary);
        r.probes(100, Class::Error);
        r.probes(500, Class::FailedOver);
        r.send(Event::RolloutComplete);
        if phase == Phase::VerifyFailover {
            return r;
        }
        r.probes(1_500, Class::FailedOver);
        assert_eq!(r.m.phase(), Phase::Restore);
        if phase == Phase::Restore {
            return r;
        }
        r.t += 50;
        r.send(Event::Restored);
        if phase == Phase::WaitRestoreRollout {
            return r;
        }
        r.probes(1_000, Class::FailedOver);
        r.send(Event::RolloutComplete);
        if phase == Phase::VerifyFailback {
            return r;
        }
        unreachable!("{phase:?}")
    }

    #[test]
    fn happy_path() {
        let mut r = run_to(Phase::VerifyFailback);
        assert_eq!(r.m.phase(), Phase::VerifyFailback);
        r.probes(2_500, Class::Primary);
        r.check_invariants();
        assert_eq!(r.outcome(), DrillOutcome::Passed);
        assert_eq!(r.outcome().exit_code(), 0);
        let phases: Vec<Phase> = r.m.transitions().iter().map(|t| t.to).collect();
        assert_eq!(phases, &Phase::ALL[1..]);
        let m = r.m.measurements();
        assert_eq!(m.errors_during_failover, 1);
        // Break at 2.1 s; the first red answer was sent at 3.3 s.
        assert_eq!(m.break_to_first_failover, Some(ms(1_200)));
        assert_eq!(m.break_to_steady_failover, Some(ms(1_200)));
        assert!(
            r.m.expectations()
                .iter()
                .all(|e| e.verdict == Verdict::Pass)
        );
        // Nothing more happens after Finish.
        assert!(r.send(Event::Tick).is_empty());
        assert!(r.send(Event::Interrupted(Signal::Interrupt)).is_empty());
    }

    #[test]
    fn actions_in_order() {
        let mut r = run_to(Phase::VerifyFailback);
        r.probes(2_500, Class::Primary);
        let kinds: Vec<String> = r
            .actions
            .iter()
            .map(|a| match a {
                Action::Finish(_) => "Finish".to_string(),
                Action::WaitRollout(d) => format!("WaitRollout({})", d.len()),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "StartProbing",
                "RunPreflight",
                "Confirm",
                "SaveRestorePlan",
                "ApplyBreak",
                "WaitRollout(2)",
                "ApplyRestore",
                "WaitRollout(2)",
                "StopProbing",
                "Finish"
            ]
        );
    }

    #[derive(Debug, Clone, Copy)]
    enum Disruption {
        Sigint,
        Sigterm,
        Error,
        Timeout,
    }

    fn disrupt(r: &mut Run, d: Disruption) {
        match d {
            Disruption::Sigint => {
                r.send(Event::Interrupted(Signal::Interrupt));
            }
            Disruption::Sigterm => {
                r.send(Event::Interrupted(Signal::Terminate));
            }
            Disruption::Error => {
                r.send(Event::Error(
                    "the server is currently unable to handle the request".into(),
                ));
            }
            Disruption::Timeout => {
                if let Some(d) = r.m.next_deadline() {
                    let t = d.as_millis() as u64;
                    r.tick_to(t.max(r.t));
                } else {
                    // A phase without a deadline: nothing fires.
                    let before = r.m.phase();
                    r.tick_to(r.t + 3_600_000);
                    assert_eq!(r.m.phase(), before, "no deadline in {before:?}");
                }
            }
        }
    }

    /// Complete whatever the executor still has to do, the way a well-behaved executor
    /// would, along the happy path: the failover works, the restore works.
    fn complete(r: &mut Run) {
        for _ in 0..100 {
            if r.m.is_finished() {
                return;
            }
            r.t += 100;
            match r.m.phase() {
                Phase::Preflight => {
                    r.send(Event::PreflightPassed);
                    r.probes(2_000, Class::Primary);
                }
                Phase::Confirm => {
                    r.send(Event::Confirmed);
                }
                Phase::SavePlan => {
                    r.send(Event::Saved);
                }
                Phase::Break => {
                    r.send(Event::Patched);
                }
                Phase::WaitBreakRollout => {
                    r.probes(2_500, Class::FailedOver);
                    r.send(Event::RolloutComplete);
                }
                Phase::VerifyFailover => {
                    r.probes(2_500, Class::FailedOver);
                }
                Phase::Restore => {
                    r.send(Event::Restored);
                }
                Phase::WaitRestoreRollout => {
                    r.send(Event::RolloutComplete);
                }
                Phase::VerifyFailback => {
                    r.probes(2_500, Class::Primary);
                }
                Phase::Report => return,
            }
        }
        panic!("did not finish: {:?}", r.m.phase());
    }

    #[test]
    fn every_phase_times_every_disruption() {
        let disruptions = [
            Disruption::Sigint,
            Disruption::Sigterm,
            Disruption::Error,
            Disruption::Timeout,
        ];
        for phase in &Phase::ALL[..9] {
            for d in disruptions {
                let mut r = run_to(*phase);
                assert_eq!(r.m.phase(), *phase);
                disrupt(&mut r, d);
                let changed_phase = r.m.phase() != *phase;
                complete(&mut r);
                let ctx = format!("{phase:?} × {d:?}: {:?}", r.outcome());
                r.check_invariants();
                let outcome = r.outcome();
                match (phase, d) {
                    // Before anything changed: finish at once, nothing restored.
                    (Phase::Preflight | Phase::Confirm, Disruption::Sigint) => {
                        assert_eq!(
                            outcome,
                            DrillOutcome::Interrupted {
                                signal: Signal::Interrupt,
                                changed: false
                            },
                            "{ctx}"
                        )
                    }
                    (Phase::Preflight | Phase::Confirm, Disruption::Sigterm) => {
                        assert_eq!(
                            outcome,
                            DrillOutcome::Interrupted {
                                signal: Signal::Terminate,
                                changed: false
                            },
                            "{ctx}"
                        )
                    }
                    (Phase::Preflight | Phase::Confirm, Disruption::Error) => {
                        assert!(
                            matches!(outcome, DrillOutcome::ClusterError { changed: false, .. }),
                            "{ctx}"
                        )
                    }
                    (Phase::Preflight, Disruption::Timeout) => {
                        // Preflight's deadline is the baseline's; the checks are pending,
                        // so the drill is refused (probes never arrived here).
                        assert!(matches!(outcome, DrillOutcome::Refused { .. }), "{ctx}")
                    }
                    // Phases without a deadline: a tick does nothing.
                    (
                        Phase::Confirm | Phase::SavePlan | Phase::Break | Phase::Restore,
                        Disruption::Timeout,
                    ) => {
                        assert!(!changed_phase, "{ctx}");
                        assert_eq!(outcome, DrillOutcome::Passed, "{ctx}");
                    }
                    // A failed restore attempt is retried; the drill still restores.
                    (Phase::Restore, Disruption::Error) => {
                        assert_eq!(outcome, DrillOutcome::Passed, "{ctx}");
                        assert_eq!(r.count(|a| matches!(a, Action::ApplyRestore)), 2, "{ctx}");
                    }
                    // An interrupt during the restore does not skip it.
                    (
                        Phase::Restore | Phase::WaitRestoreRollout,
                        Disruption::Sigint | Disruption::Sigterm,
                    ) => {
                        assert!(!changed_phase, "{ctx}");
                        assert!(
                            matches!(outcome, DrillOutcome::Interrupted { changed: true, .. }),
                            "{ctx}"
                        );
                        assert!(r.m.markers().restore_rollout_complete.is_some(), "{ctx}");
                    }
                    (_, Disruption::Sigint | Disruption::Sigterm) => {
                        assert!(
                            matches!(outcome, DrillOutcome::Interrupted { changed: true, .. }),
                            "{ctx}"
                        );
                    }
                    (Phase::WaitRestoreRollout | Phase::VerifyFailback, Disruption::Timeout) => {
                        assert!(
                            matches!(&outcome, DrillOutcome::Failed { failures } if failures[0].contains("--failback-timeout")),
                            "{ctx}"
                        );
                    }
                    (Phase::WaitBreakRollout | Phase::VerifyFailover, Disruption::Timeout) => {
                        assert!(
                            matches!(&outcome, DrillOutcome::Failed { failures } if failures[0].contains("--failover-timeout")),
                            "{ctx}"
                        );
                        assert!(r.m.markers().restore_rollout_complete.is_some(), "{ctx}");
                    }
                    (_, Disruption::Error) => {
                        assert!(
                            matches!(outcome, DrillOutcome::ClusterError { changed: true, .. }),
                            "{ctx}"
                        );
                    }
                    (Phase::Report, _) => unreachable!("a finished drill takes no events"),
                }
                let unchanged = matches!(
                    outcome,
                    DrillOutcome::Refused { .. }
                        | DrillOutcome::Declined
                        | DrillOutcome::Interrupted { changed: false, .. }
                        | DrillOutcome::ClusterError { changed: false, .. }
                );
                assert_eq!(
                    unchanged,
                    *phase < Phase::SavePlan && !matches!(d, Disruption::Timeout)
                        || *phase == Phase::Preflight,
                    "{ctx}"
                );
                if unchanged {
                    assert_eq!(
                        r.count(|a| matches!(
                            a,
                            Action::SaveRestorePlan | Action::ApplyBreak | Action::ApplyRestore
                        )),
                        0,
                        "{ctx}"
                    );
                }
                if *phase >= Phase::Break {
                    assert!(r.count(|a| matches!(a, Action::ApplyRestore)) >= 1, "{ctx}");
                }
                if *phase >= Phase::WaitBreakRollout
                    && !matches!(outcome, DrillOutcome::RestoreFailed { .. })
                {
                    // The restore rollout completed, or its wait ended by error or by the
                    // failback deadline.
                    let waited = r.m.markers().restore_rollout_complete.is_some()
                        || matches!(outcome, DrillOutcome::ClusterError { .. })
                        || matches!(&outcome, DrillOutcome::Failed { failures } if failures.iter().any(|f| f.contains("restore rollout did not complete")));
                    assert!(waited, "{ctx}");
                }
            }
        }
    }

    #[test]
    fn a_break_that_cannot_take_effect_restores_and_fails() {
        let mut r = run_to(Phase::WaitBreakRollout);
        r.probes(500, Class::Primary);
        r.send(Event::BreakFailed(
            "deployment mgmt-cluster:bookinfo/reviews-v1: pod reviews-v1-abc: container reviews cannot run `sleep 20h`".into(),
        ));
        assert_eq!(r.m.phase(), Phase::Restore);
        r.send(Event::Restored);
        assert_eq!(r.m.phase(), Phase::WaitRestoreRollout);
        r.send(Event::RolloutComplete);
        // Failback is verified after a failed expectation.
        assert_eq!(r.m.phase(), Phase::VerifyFailback);
        r.probes(2_000, Class::Primary);
        r.check_invariants();
        let o = r.outcome();
        assert_eq!(
            o.exit_code(),
            1,
            "an expectation, not a cluster error: {o:?}"
        );
        assert!(
            matches!(&o, DrillOutcome::Failed { failures } if failures == &["the break did not take effect: deployment mgmt-cluster:bookinfo/reviews-v1: pod reviews-v1-abc: container reviews cannot run `sleep 20h`".to_string()]),
            "{o:?}"
        );
        // Only while the break rolls out: later it is ignored (noted).
        let mut r = run_to(Phase::VerifyFailover);
        r.send(Event::BreakFailed("late".into()));
        assert_eq!(r.m.phase(), Phase::VerifyFailover);
        assert!(
            r.m.notes()
                .iter()
                .any(|n| n.text == "ignored unexpected BreakFailed during verify failover")
        );
    }

    #[test]
    fn error_while_saving_removes_annotations_without_rollout_wait() {
        let mut r = run_to(Phase::SavePlan);
        r.send(Event::Error(
            "409 Conflict: the object has been modified".into(),
        ));
        assert_eq!(r.m.phase(), Phase::Restore);
        r.send(Event::Restored);
        r.check_invariants();
        assert_eq!(r.count(|a| matches!(a, Action::ApplyBreak)), 0);
        assert_eq!(r.count(|a| matches!(a, Action::WaitRollout(_))), 0);
        assert!(matches!(
            r.outcome(),
            DrillOutcome::ClusterError { changed: true, .. }
        ));
        assert_eq!(r.outcome().exit_code(), 3);
    }

    #[test]
    fn restore_that_keeps_failing() {
        let mut r = run_to(Phase::Restore);
        for _ in 0..RESTORE_ATTEMPTS {
            r.send(Event::Error("connection refused".into()));
        }
        r.check_invariants();
        let o = r.outcome();
        assert!(
            matches!(&o, DrillOutcome::RestoreFailed { message } if message.contains("kubectl smh drill restore reviews-failover")),
            "{o:?}"
        );
        assert_eq!(o.exit_code(), 3);
        assert_eq!(
            r.count(|a| matches!(a, Action::ApplyRestore)),
            RESTORE_ATTEMPTS
        );
    }

    #[test]
    fn interrupt_in_restore_then_error_still_retries() {
        let mut r = run_to(Phase::Restore);
        r.send(Event::Interrupted(Signal::Interrupt));
        r.send(Event::Interrupted(Signal::Interrupt));
        assert_eq!(r.m.phase(), Phase::Restore);
        r.send(Event::Error("timeout".into()));
        assert_eq!(r.m.phase(), Phase::Restore);
        r.send(Event::Restored);
        r.send(Event::RolloutComplete);
        r.check_invariants();
        assert_eq!(
            r.outcome(),
            DrillOutcome::Interrupted {
                signal: Signal::Interrupt,
                changed: true
            }
        );
        assert_eq!(r.outcome().exit_code(), 130);
    }

    #[test]
    fn preflight_refusal_changes_nothing() {
        let mut r = Run::new();
        r.probes(2_000, Class::Primary);
        r.send(Event::PreflightFailed(vec![
            "backing service reviews.bookinfo @ remote-cluster has no outlier detection".into(),
        ]));
        r.check_invariants();
        assert!(matches!(r.outcome(), DrillOutcome::Refused { .. }));
        assert_eq!(r.outcome().exit_code(), 1);
        assert_eq!(
            r.count(|a| matches!(
                a,
                Action::SaveRestorePlan | Action::ApplyBreak | Action::ApplyRestore
            )),
            0
        );
    }

    #[test]
    fn baseline_not_from_primary_is_refused() {
        let mut r = Run::new();
        r.send(Event::PreflightPassed);
        r.probes(2_000, Class::FailedOver);
        r.check_invariants();
        match r.outcome() {
            DrillOutcome::Refused { reasons } => {
                assert!(
                    reasons[0].starts_with("baseline: only 0 of the last 20"),
                    "{reasons:?}"
                )
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn baseline_waits_for_enough_probes_then_times_out() {
        let mut r = Run::new();
        r.send(Event::PreflightPassed);
        r.probes(500, Class::Primary);
        assert_eq!(r.m.phase(), Phase::Preflight);
        assert_eq!(r.m.next_deadline(), Some(Duration::from_secs(30)));
        r.tick_to(29_999);
        assert_eq!(r.m.phase(), Phase::Preflight);
        r.tick_to(30_000);
        match r.outcome() {
            DrillOutcome::Refused { reasons } => assert!(
                reasons[0].starts_with("baseline: only 5 of 20 probes answered within 30.0s"),
                "{reasons:?}"
            ),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn no_past_deadline_while_checks_are_pending() {
        let mut r = Run::new();
        r.probes(2_000, Class::Primary);
        assert_eq!(
            r.m.next_deadline(),
            None,
            "baseline complete: nothing to time out"
        );
        r.tick_to(60_000);
        assert_eq!(r.m.phase(), Phase::Preflight);
        r.send(Event::PreflightPassed);
        assert_eq!(r.m.phase(), Phase::Confirm);
    }

    #[test]
    fn baseline_is_checked_again_after_confirmation() {
        let mut r = run_to(Phase::Confirm);
        r.probes(2_000, Class::Error);
        r.send(Event::Confirmed);
        assert!(matches!(r.outcome(), DrillOutcome::Refused { .. }));
        assert_eq!(r.count(|a| matches!(a, Action::SaveRestorePlan)), 0);
    }

    #[test]
    fn declined() {
        let mut r = run_to(Phase::Confirm);
        r.send(Event::Declined);
        r.check_invariants();
        assert_eq!(r.outcome(), DrillOutcome::Declined);
        assert_eq!(r.outcome().exit_code(), 1);
    }

    #[test]
    fn max_errors_aborts_and_still_verifies_failback() {
        let mut r = run_to(Phase::WaitBreakRollout); // plan() allows 5 errors
        r.probes(500, Class::Error);
        assert_eq!(r.m.phase(), Phase::WaitBreakRollout);
        r.probes(100, Class::Error);
        assert_eq!(r.m.phase(), Phase::Restore);
        r.t += 50;
        r.send(Event::Restored);
        r.send(Event::RolloutComplete);
        assert_eq!(r.m.phase(), Phase::VerifyFailback);
        r.probes(2_500, Class::Primary);
        r.check_invariants();
        match r.outcome() {
            DrillOutcome::Failed { failures } => assert_eq!(
                failures,
                ["6 failed requests during failover, 1 more than --max-errors 5"]
            ),
            o => panic!("{o:?}"),
        }
        let fb = &r.m.expectations()[2];
        assert_eq!(fb.verdict, Verdict::Pass, "{fb:?}");
    }

    #[test]
    fn failover_steady_during_rollout_waits_for_rollout() {
        let mut r = run_to(Phase::WaitBreakRollout);
        r.probes(3_000, Class::FailedOver);
        assert_eq!(r.m.phase(), Phase::WaitBreakRollout);
        r.send(Event::RolloutComplete);
        assert_eq!(r.m.phase(), Phase::Restore);
    }

    #[test]
    fn failover_timeout_deadline() {
        let mut r = run_to(Phase::VerifyFailover);
        let deadline = r.m.next_deadline().unwrap();
        assert_eq!(deadline, ms(2_100) + Duration::from_secs(120));
        r.tick_to(deadline.as_millis() as u64 - 1);
        assert_eq!(r.m.phase(), Phase::VerifyFailover);
        r.tick_to(deadline.as_millis() as u64);
        assert_eq!(r.m.phase(), Phase::Restore);
        assert_eq!(
            r.m.transitions().last().unwrap().cause,
            "failover not steady within --failover-timeout 2m0s"
        );
    }

    #[test]
    fn unexpected_events_are_noted_not_obeyed() {
        let mut r = run_to(Phase::VerifyFailover);
        let a = r.send(Event::Saved);
        assert!(a.is_empty());
        assert_eq!(r.m.phase(), Phase::VerifyFailover);
        assert_eq!(
            r.m.notes().last().unwrap().text,
            "ignored unexpected Saved during verify failover"
        );
    }

    #[test]
    fn time_never_goes_backwards() {
        let mut r = run_to(Phase::VerifyFailover);
        let before = r.m.markers().end;
        r.m.handle(ms(10), Event::Tick);
        assert_eq!(r.m.markers().end, before);
    }
}
