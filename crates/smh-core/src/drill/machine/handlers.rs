//! The phase handlers of the drill's state machine: before anything changes (preflight,
//! confirmation), changing things (save, break, failover), putting things back (restore,
//! failback) and the end.

use super::{Action, DrillOutcome, Event, Machine, Phase, RESTORE_ATTEMPTS};
use crate::drill::human;
use crate::drill::measure::{self, Verdict};
use crate::drill::preflight::check_baseline;

impl Machine {
    // ---- before anything changes -------------------------------------------------------

    fn baseline_verdict(&self) -> Option<Result<String, String>> {
        let n = self.plan.baseline.probes;
        (self.samples.len() >= n).then(|| check_baseline(&self.samples, &self.plan.baseline))
    }

    pub(super) fn on_preflight(&mut self, event: Event) -> Vec<Action> {
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

    pub(super) fn refuse(&mut self, reasons: Vec<String>) -> Vec<Action> {
        self.refusal = Some(reasons);
        self.finish("preflight refused, nothing changed")
    }

    pub(super) fn on_confirm(&mut self, event: Event) -> Vec<Action> {
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

    pub(super) fn on_save(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Saved => {
                self.patched = true;
                self.go(Phase::Break, "restore plan saved on every deployment");
                vec![Action::ApplyBreak]
            }
            other => self.abort_to_restore(other, "save restore plan"),
        }
    }

    pub(super) fn on_break(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Patched => {
                self.markers.break_applied = Some(self.now);
                self.go(Phase::WaitBreakRollout, "break applied");
                vec![Action::WaitRollout(self.plan.deployments())]
            }
            other => self.abort_to_restore(other, "break"),
        }
    }

    pub(super) fn on_failover(&mut self, event: Event) -> Vec<Action> {
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

    pub(super) fn on_restore(&mut self, event: Event) -> Vec<Action> {
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

    pub(super) fn on_failback(&mut self, event: Event) -> Vec<Action> {
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

    pub(super) fn finish(&mut self, cause: impl Into<String>) -> Vec<Action> {
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
