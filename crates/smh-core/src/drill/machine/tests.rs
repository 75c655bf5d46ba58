//! Unit tests of `drill::machine`, moved out of `machine.rs` to keep each file short.

use super::*;
use crate::drill::measure::Verdict;
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
            assert_outcome(&r, *phase, d, outcome.clone(), changed_phase, &ctx);
            assert_changes(&r, *phase, d, outcome, &ctx);
        }
    }
}

/// The outcome a disruption `d` in `phase` must give.
fn assert_outcome(
    r: &Run,
    phase: Phase,
    d: Disruption,
    outcome: DrillOutcome,
    changed_phase: bool,
    ctx: &str,
) {
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
        (Phase::Confirm | Phase::SavePlan | Phase::Break | Phase::Restore, Disruption::Timeout) => {
            assert!(!changed_phase, "{ctx}");
            assert_eq!(outcome, DrillOutcome::Passed, "{ctx}");
        }
        // A failed restore attempt is retried; the drill still restores.
        (Phase::Restore, Disruption::Error) => {
            assert_eq!(outcome, DrillOutcome::Passed, "{ctx}");
            assert_eq!(r.count(|a| matches!(a, Action::ApplyRestore)), 2, "{ctx}");
        }
        // An interrupt during the restore does not skip it.
        (Phase::Restore | Phase::WaitRestoreRollout, Disruption::Sigint | Disruption::Sigterm) => {
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
}

/// What a disruption `d` in `phase` may have changed, and that what changed is restored.
fn assert_changes(r: &Run, phase: Phase, d: Disruption, outcome: DrillOutcome, ctx: &str) {
    let unchanged = matches!(
        outcome,
        DrillOutcome::Refused { .. }
            | DrillOutcome::Declined
            | DrillOutcome::Interrupted { changed: false, .. }
            | DrillOutcome::ClusterError { changed: false, .. }
    );
    assert_eq!(
        unchanged,
        phase < Phase::SavePlan && !matches!(d, Disruption::Timeout) || phase == Phase::Preflight,
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
    if phase >= Phase::Break {
        assert!(r.count(|a| matches!(a, Action::ApplyRestore)) >= 1, "{ctx}");
    }
    if phase >= Phase::WaitBreakRollout && !matches!(outcome, DrillOutcome::RestoreFailed { .. }) {
        // The restore rollout completed, or its wait ended by error or by the
        // failback deadline.
        let waited = r.m.markers().restore_rollout_complete.is_some()
            || matches!(outcome, DrillOutcome::ClusterError { .. })
            || matches!(&outcome, DrillOutcome::Failed { failures } if failures.iter().any(|f| f.contains("restore rollout did not complete")));
        assert!(waited, "{ctx}");
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
