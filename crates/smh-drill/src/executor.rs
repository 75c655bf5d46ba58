//! The drill's event loop: performs the machine's actions in tasks, turns their results,
//! the timers and the termination signals into events, and builds the result.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::observer::{
    ConfirmAnswer, Confirmation, DrillContext, DrillResult, Observer, PatchKind, Progress,
};
use crate::patches::{apply_break, apply_restore, save_plans};
use crate::preflight::run_preflight;
use crate::probing::probe_loop;
use crate::rollouts::{WaitError, check_restored, wait_rollouts, watch_break_pods};
use smh_core::drill::live::{RolloutCounts, RolloutState};
use smh_core::drill::machine::{Action, DrillOutcome, Event, Machine, Note, Phase, Transition};
use smh_core::drill::preflight::PreflightReport;
use smh_core::drill::report::DrillReport;
use smh_core::drill::restore::{BreakMode, RestorePlan};
use smh_core::drill::{DeploymentRef, ProbeSample, Signal};

pub(crate) enum Msg {
    /// From the task running the current action.
    Event(u64, Event),
    Preflight(u64, PreflightReport),
    Patched(PatchKind, DeploymentRef),
    Rollout(u64, DeploymentRef, RolloutState, RolloutCounts),
    ProbeTarget(String),
    Probe(ProbeSample),
    /// The probing failed for good (no pod to port-forward to).
    ProbeError(String),
}

struct Current {
    id: u64,
    handle: JoinHandle<()>,
    /// Save, break or restore: awaited, never aborted.
    mutating: bool,
}

/// What the save step recorded per deployment: the plan and the resourceVersion after the
/// save (the break patch's precondition).
#[derive(Debug, Clone)]
pub(crate) struct Saved {
    pub(crate) plan: RestorePlan,
    pub(crate) resource_version: Option<String>,
    /// The deployment's spec once the plan was saved: a later change of the resourceVersion
    /// alone (the controller writing status, as a real one does after the annotation bumped
    /// `generation`) does not make the plan stale.
    pub(crate) spec: Option<k8s_openapi::api::apps::v1::DeploymentSpec>,
}

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) saved: BTreeMap<DeploymentRef, Saved>,
    /// The generation our last patch produced, per deployment.
    pub(crate) generations: BTreeMap<DeploymentRef, i64>,
    /// The last preflight's warnings (for the confirmation).
    pub(crate) warnings: Vec<String>,
    /// Deployments to break that an HPA scales (see [`smh_core::drill::restore::verify_restored_later`]).
    pub(crate) autoscaled: std::collections::BTreeSet<DeploymentRef>,
    /// Probes lost to their own port-forward (no sample).
    pub(crate) probes_lost: u64,
    /// Probe port-forwards opened again after one broke.
    pub(crate) probe_reconnects: u64,
}

pub(crate) type SharedState = Arc<Mutex<Shared>>;

pub(crate) fn lock(s: &SharedState) -> std::sync::MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The observer behind a guard: a panic in it (a write that failed, a drawing bug) must
/// not unwind through the drill and skip the restore. After its first panic the observer
/// is not called again, and a confirmation it can no longer ask fails (nothing is changed
/// before one).
struct Guarded<'a> {
    inner: &'a mut dyn Observer,
    panicked: bool,
}

impl Observer for Guarded<'_> {
    fn progress(&mut self, at: Duration, p: Progress<'_>) {
        if self.panicked {
            return;
        }
        let inner = &mut *self.inner;
        let call = std::panic::AssertUnwindSafe(|| inner.progress(at, p));
        self.panicked = std::panic::catch_unwind(call).is_err();
    }

    fn confirm(&mut self, c: &Confirmation) -> oneshot::Receiver<ConfirmAnswer> {
        if !self.panicked {
            let inner = &mut *self.inner;
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.confirm(c))) {
                Ok(rx) => return rx,
                Err(_) => self.panicked = true,
            }
        }
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(ConfirmAnswer::Failed(
            "the confirmation could not be asked (the progress display failed)".to_string(),
        ));
        rx
    }
}

/// Run the drill to the end. Never returns early: every path after the first patch goes
/// through the restore, even when `observer` panics.
pub async fn run_drill(
    ctx: DrillContext,
    observer: &mut dyn Observer,
    mut signals: mpsc::UnboundedReceiver<Signal>,
) -> DrillResult {
    let mut guarded = Guarded {
        inner: observer,
        panicked: false,
    };
    let observer: &mut dyn Observer = &mut guarded;
    let start = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let shared: SharedState = Arc::new(Mutex::new(Shared::default()));
    let mut machine = Machine::new(&ctx.plan);
    let mut actions: VecDeque<Action> = machine.start().into();
    let mut immediate: VecDeque<Event> = VecDeque::new();
    let mut current: Option<Current> = None;
    let mut probing: Option<JoinHandle<()>> = None;
    let mut next_id: u64 = 0;
    let mut seen = (0usize, 0usize);
    let mut signals_open = true;
    let outcome;

    loop {
        // Perform what the machine asked for.
        let mut finished = None;
        while let Some(action) = actions.pop_front() {
            match action {
                Action::StartProbing => {
                    probing = Some(tokio::spawn(probe_loop(
                        ctx.clients.clone(),
                        ctx.plan.clone(),
                        start,
                        tx.clone(),
                        shared.clone(),
                    )));
                }
                Action::StopProbing => {
                    if let Some(p) = probing.take() {
                        p.abort();
                    }
                }
                Action::Finish(o) => finished = Some(o),
                Action::Confirm if ctx.yes => immediate.push_back(Event::Confirmed),
                other => {
                    settle(&mut current).await;
                    next_id += 1;
                    current = Some(spawn_action(
                        next_id,
                        other,
                        &ctx,
                        &shared,
                        &tx,
                        observer,
                        machine.phase(),
                    ));
                }
            }
        }
        if let Some(o) = finished {
            outcome = o;
            break;
        }

        // Wait for what happens next.
        let event = if let Some(e) = immediate.pop_front() {
            e
        } else {
            let deadline = machine
                .next_deadline()
                .map(|d| tokio::time::Instant::from_std(start + d));
            let current_id = current.as_ref().map(|c| c.id);
            tokio::select! {
                sig = signals.recv(), if signals_open => match sig {
                    Some(s) => {
                        let restoring = machine.changed();
                        observer.progress(start.elapsed(), Progress::Signal { signal: s, restoring });
                        Event::Interrupted(s)
                    }
                    None => {
                        signals_open = false;
                        continue;
                    }
                },
                msg = rx.recv() => match msg {
                    None => continue,
                    Some(msg) => match on_message(msg, current_id, &machine, observer, start) {
                        Some(e) => e,
                        None => continue,
                    },
                },
                _ = sleep_until_opt(deadline), if deadline.is_some() => Event::Tick,
            }
        };
        let new_actions = machine.handle(start.elapsed(), event);
        report_log(&machine, &mut seen, observer);
        actions.extend(new_actions);
    }
    report_log(&machine, &mut seen, observer);
    if let Some(p) = probing.take() {
        p.abort();
    }
    settle(&mut current).await;
    drill_result(&ctx, &machine, &shared, outcome, start).await
}

/// The result of a finished run: the report, with the check that every changed deployment is
/// back as saved (when the restore ran) and the exit code that check implies.
async fn drill_result(
    ctx: &DrillContext,
    machine: &Machine,
    shared: &SharedState,
    outcome: DrillOutcome,
    start: Instant,
) -> DrillResult {
    let restore_checks =
        if machine.changed() && !matches!(outcome, DrillOutcome::RestoreFailed { .. }) {
            check_restored(ctx, shared).await
        } else {
            Vec::new()
        };
    // Scaled to 0, the primary has no endpoints: outlier detection does not decide the
    // failover, so its model would predict nothing true.
    let outlier = match ctx.plan.break_mode {
        BreakMode::Command => ctx.inputs.primary_outlier(),
        BreakMode::Scale => None,
    };
    let mut report = DrillReport::build(
        machine,
        &ctx.restore.drill_id,
        &ctx.restore.started_at,
        outlier,
    );
    report.restore_check = restore_checks.clone();
    {
        let s = lock(shared);
        report.resilience = smh_core::drill::report::Resilience {
            api_retries: ctx.retry_stats.retries(),
            api_retries_exhausted: ctx.retry_stats.exhausted(),
            probe_reconnects: s.probe_reconnects,
            probes_lost: s.probes_lost,
        };
    }
    let mut result = DrillResult {
        report,
        outcome,
        restore_checks,
        started: start,
    };
    let code = result.exit_code();
    if Some(code) != result.report.exit_code {
        let bad: Vec<String> = result
            .restore_checks
            .iter()
            .filter(|c| !c.differences.is_empty())
            .map(|c| format!("{}: {}", c.deployment, c.differences.join("; ")))
            .collect();
        result.report.summary = format!(
            "{}; NOT RESTORED AS SAVED: {}",
            result.report.summary,
            bad.join("; ")
        );
        result.report.exit_code = Some(code);
    }
    result
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => futures::future::pending().await,
    }
}

/// Let the current task end: a mutating one is awaited (its request may have reached the
/// API server), any other is aborted.
async fn settle(current: &mut Option<Current>) {
    if let Some(c) = current.take() {
        if c.mutating {
            let _ = c.handle.await;
        } else {
            c.handle.abort();
        }
    }
}

fn report_log(machine: &Machine, seen: &mut (usize, usize), observer: &mut dyn Observer) {
    let mut items: Vec<(usize, Result<&Transition, &Note>)> = Vec::new();
    for t in &machine.transitions()[seen.0..] {
        items.push((t.seq, Ok(t)));
    }
    for n in &machine.notes()[seen.1..] {
        items.push((n.seq, Err(n)));
    }
    items.sort_by_key(|(seq, _)| *seq);
    for (_, item) in items {
        match item {
            Ok(t) => observer.progress(t.at, Progress::Phase(t)),
            Err(n) => observer.progress(n.at, Progress::Note(n)),
        }
    }
    *seen = (machine.transitions().len(), machine.notes().len());
}

fn on_message(
    msg: Msg,
    current: Option<u64>,
    machine: &Machine,
    observer: &mut dyn Observer,
    start: Instant,
) -> Option<Event> {
    let now = start.elapsed();
    let live = |id: u64| current == Some(id);
    match msg {
        Msg::Event(id, e) => live(id).then_some(e),
        Msg::Preflight(id, report) => {
            if live(id) {
                observer.progress(now, Progress::Preflight(&report));
            }
            None
        }
        Msg::Patched(kind, d) => {
            observer.progress(
                now,
                Progress::Patched {
                    kind,
                    deployment: &d,
                },
            );
            None
        }
        Msg::Rollout(id, d, state, counts) => {
            if live(id) {
                observer.progress(
                    now,
                    Progress::Rollout {
                        deployment: &d,
                        state: &state,
                        counts,
                    },
                );
            }
            None
        }
        Msg::ProbeTarget(pod) => {
            observer.progress(
                now,
                Progress::ProbeTarget {
                    pod: &pod,
                    spec: &machine.plan().probe,
                },
            );
            None
        }
        Msg::Probe(sample) => {
            observer.progress(
                now,
                Progress::Probe {
                    sample: &sample,
                    phase: machine.phase(),
                    markers: machine.markers(),
                },
            );
            Some(Event::Probe(sample))
        }
        Msg::ProbeError(e) => Some(Event::Error(e)),
    }
}

fn spawn_action(
    id: u64,
    action: Action,
    ctx: &DrillContext,
    shared: &SharedState,
    tx: &mpsc::UnboundedSender<Msg>,
    observer: &mut dyn Observer,
    phase: Phase,
) -> Current {
    let (ctx, shared, tx) = (ctx.clone(), shared.clone(), tx.clone());
    let mutating = matches!(
        action,
        Action::SaveRestorePlan | Action::ApplyBreak | Action::ApplyRestore
    );
    let done = {
        let tx = tx.clone();
        move |r: Result<Event, String>| {
            let _ = tx.send(Msg::Event(id, r.unwrap_or_else(Event::Error)));
        }
    };
    let handle = match action {
        Action::RunPreflight => tokio::spawn(async move {
            let r = run_preflight(&ctx, &shared).await.map(|report| {
                let passed = report.passed();
                let refusals = report.refusals.clone();
                let _ = tx.send(Msg::Preflight(id, report));
                if passed {
                    Event::PreflightPassed
                } else {
                    Event::PreflightFailed(refusals)
                }
            });
            done(r);
        }),
        Action::Confirm => {
            let question = Confirmation {
                plan: ctx.plan.clone(),
                targets: ctx.clients.targets(&ctx.plan.target_clusters()),
                warnings: lock(&shared).warnings.clone(),
            };
            let answer = observer.confirm(&question);
            tokio::spawn(async move {
                let r = match answer.await {
                    Ok(ConfirmAnswer::Yes) => Ok(Event::Confirmed),
                    Ok(ConfirmAnswer::No) => Ok(Event::Declined),
                    Ok(ConfirmAnswer::Interrupted) => Ok(Event::Interrupted(Signal::Interrupt)),
                    Ok(ConfirmAnswer::Failed(e)) => Err(e),
                    Err(_) => Err("the confirmation was not answered".to_string()),
                };
                done(r);
            })
        }
        Action::SaveRestorePlan => tokio::spawn(async move {
            let r = save_plans(&ctx, &shared, &tx).await.map(|()| Event::Saved);
            done(r);
        }),
        Action::ApplyBreak => tokio::spawn(async move {
            let r = apply_break(&ctx, &shared, &tx)
                .await
                .map(|()| Event::Patched);
            done(r);
        }),
        Action::WaitRollout(deps) => tokio::spawn(async move {
            let restoring = phase == Phase::WaitRestoreRollout;
            let wait = async {
                match wait_rollouts(&ctx, &shared, &tx, id, &deps, restoring).await {
                    Ok(()) => Ok(Event::RolloutComplete),
                    // The break's rollout gave up: the break did not take effect.
                    Err(WaitError::Failed(m)) if !restoring => Ok(Event::BreakFailed(m)),
                    Err(e) => Err(e.to_string()),
                }
            };
            let r = if restoring || ctx.plan.break_mode != BreakMode::Command {
                wait.await
            } else {
                tokio::select! {
                    r = wait => r,
                    why = watch_break_pods(&ctx, &deps) => Ok(Event::BreakFailed(why)),
                }
            };
            done(r);
        }),
        Action::ApplyRestore => tokio::spawn(async move {
            // The restore has a retry budget of its own: what the drill spent on retries
            // must never keep the restore from riding out a flaky API server.
            ctx.retry_stats.renew_budget();
            let r = apply_restore(&ctx, &shared, &tx)
                .await
                .map(|()| Event::Restored);
            done(r);
        }),
        // Handled by the loop.
        Action::StartProbing | Action::StopProbing | Action::Finish(_) => tokio::spawn(async {}),
    };
    Current {
        id,
        handle,
        mutating,
    }
}
