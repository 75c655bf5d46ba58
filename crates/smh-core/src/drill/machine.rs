//! The drill's state machine. Pure: the executor feeds it [`Event`]s stamped
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

use super::measure::{self, ExpectationResult, Markers, Measurements, Steady};
use super::plan::DrillPlan;
use super::{Class, DeploymentRef, ProbeSample, Signal, secs};

mod handlers;

/// How many times `ApplyRestore` is tried before giving up.
pub(crate) const RESTORE_ATTEMPTS: usize = 3;

/// Where the drill is; the phases follow each other in this order (see the module docs), and a
/// disrupted drill skips to `Restore` or `Report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Probing for the baseline and checking the facts; nothing changed yet.
    Preflight,
    /// Waiting for the user's yes (or `--yes`).
    Confirm,
    /// Saving the restore plan as an annotation on every deployment to break.
    SavePlan,
    /// Patching the deployments so they stop serving.
    Break,
    /// Waiting for the break's rollout.
    WaitBreakRollout,
    /// Waiting for steady failover (or its timeout).
    VerifyFailover,
    /// Applying the restore patches.
    Restore,
    /// Waiting for the restore's rollout; an interrupt here is recorded, not obeyed.
    WaitRestoreRollout,
    /// Waiting for steady failback (or its timeout).
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

    /// Kebab-case, as `-o json` spells it (`wait-break-rollout`).
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
    /// SIGINT or SIGTERM arrived.
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
    /// Stop the probes and the port-forward.
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
    Refused {
        /// Each refusal, with what to do.
        reasons: Vec<String>,
    },
    /// The user said no; nothing was changed.
    Declined,
    /// An expectation failed; everything was restored.
    Failed {
        /// Each failed expectation, in words.
        failures: Vec<String>,
    },
    /// A cluster or API error; `changed`: whether the drill had begun changing deployments
    /// (they were restored).
    ClusterError {
        /// The error, with what to do.
        message: String,
        /// Whether the drill had begun changing deployments.
        changed: bool,
    },
    /// SIGINT or SIGTERM; `changed` as above.
    Interrupted {
        /// The signal that arrived.
        signal: Signal,
        /// Whether the drill had begun changing deployments.
        changed: bool,
    },
    /// The restore could not be applied: deployments may still be broken.
    RestoreFailed {
        /// The last error, naming `kubectl smh drill restore`.
        message: String,
    },
}

impl DrillOutcome {
    /// The exit code of `kubectl smh drill`: 0 pass; 1 failed expectation, preflight
    /// refusal or declined; 3 cluster error (also a failed restore); 130 interrupted (after
    /// restoring).
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
    /// Since the drill started.
    #[serde(with = "secs")]
    pub at: Duration,
    /// Order among transitions and notes.
    #[serde(skip)]
    pub seq: usize,
    /// The phase left.
    pub from: Phase,
    /// The phase entered.
    pub to: Phase,
    /// What caused it, in words (the event, or the deadline that passed).
    pub cause: String,
}

/// Something worth a line in the timeline that is not a phase change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// Since the drill started.
    #[serde(with = "secs")]
    pub at: Duration,
    /// Order among transitions and notes.
    #[serde(skip)]
    pub seq: usize,
    /// The line, in words.
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
    /// A drill of `plan`, in `Preflight`, before any action.
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

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The plan the drill follows.
    pub fn plan(&self) -> &DrillPlan {
        &self.plan
    }
    pub(crate) fn is_finished(&self) -> bool {
        self.phase == Phase::Report
    }
    /// How the drill ended; `None` while it runs.
    pub fn outcome(&self) -> Option<&DrillOutcome> {
        self.outcome.as_ref()
    }
    /// Every classified probe so far, in the order the answers came.
    pub fn samples(&self) -> &[ProbeSample] {
        &self.samples
    }
    /// The moments of the drill so far.
    pub fn markers(&self) -> &Markers {
        &self.markers
    }
    /// The phase changes so far.
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }
    /// The notes so far (restore retries, a straddling answer, ...).
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
}

#[cfg(test)]
mod tests;
