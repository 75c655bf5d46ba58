//! The executor's interface to its caller: the context a run needs, the progress it reports,
//! the confirmation it asks for, and the result it returns.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::facts::GeneratedCheck;
use crate::inputs::{Clients, Inputs};
use smh_cluster::ClusterTarget;
use smh_core::drill::live::{RolloutCounts, RolloutState};
use smh_core::drill::machine::{DrillOutcome, Note, Phase, Transition};
use smh_core::drill::measure::Markers;
use smh_core::drill::plan::{DrillPlan, ProbeSpec};
use smh_core::drill::preflight::PreflightReport;
use smh_core::drill::report::{DrillReport, RestoreCheck};
use smh_core::drill::restore::RestoreContext;
use smh_core::drill::{DeploymentRef, ProbeSample, Signal};

/// Everything a drill run needs.
#[derive(Clone)]
pub struct DrillContext {
    /// Clients of every cluster the drill reads or changes.
    pub clients: Arc<Clients>,
    /// What the plan was made from.
    pub inputs: Arc<Inputs>,
    /// The drill plan: the targets to break, the probe, the timeouts.
    pub plan: DrillPlan,
    /// The drill's id and start time, stamped on the restore plans it saves.
    pub restore: RestoreContext,
    /// `--yes`: confirmed without asking.
    pub yes: bool,
    /// Reads the generated objects and cluster-ID problems for the preflight (the caller's).
    pub generated: GeneratedCheck,
    /// The retry counters of the clients (for the report's resilience line), and their
    /// budget (renewed for the restore).
    pub retry_stats: Arc<smh_cluster::retry::RetryStats>,
}

/// What the confirmation must name.
#[derive(Debug, Clone)]
pub struct Confirmation {
    /// The drill plan the question is about.
    pub plan: DrillPlan,
    /// The clusters whose deployments are patched.
    pub targets: Vec<ClusterTarget>,
    /// Preflight's warnings about the deployments to break (probes, images, tools that
    /// may undo the break), to repeat above the question.
    pub warnings: Vec<String>,
}

/// Which patch a [`Progress::Patched`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// The restore plan was saved on the deployment.
    Saved,
    /// The break patch was applied.
    Broken,
    /// The deployment was put back as saved.
    Restored,
}

/// What the executor reports while it runs.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The drill moved to another phase.
    Phase(&'a Transition),
    /// Something the machine noted (a warning, a decision).
    Note(&'a Note),
    /// The preflight's findings.
    Preflight(&'a PreflightReport),
    /// Probes go to this pod.
    ProbeTarget {
        /// The pod the probes port-forward to.
        pod: &'a str,
        /// The probe: workload, port, path and authority.
        spec: &'a ProbeSpec,
    },
    /// A probe's answer.
    Probe {
        /// The answer and when it arrived.
        sample: &'a ProbeSample,
        /// The phase the drill was in.
        phase: Phase,
        /// The drill's markers when the answer arrived (before it is recorded).
        markers: &'a Markers,
    },
    /// A patch went through.
    Patched {
        /// Which patch.
        kind: PatchKind,
        /// The deployment it changed.
        deployment: &'a DeploymentRef,
    },
    /// A rollout moved (after a break or restore patch).
    Rollout {
        /// The deployment rolling out.
        deployment: &'a DeploymentRef,
        /// Where the rollout stands.
        state: &'a RolloutState,
        /// Its replica counts.
        counts: RolloutCounts,
    },
    /// A termination signal arrived; `restoring`: the drill restores before it stops.
    Signal {
        /// SIGINT, SIGTERM or SIGHUP.
        signal: Signal,
        /// Whether anything was changed, so the drill restores before it stops.
        restoring: bool,
    },
}

/// The answer to a [`Confirmation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmAnswer {
    /// Go ahead.
    Yes,
    /// Do not: the drill ends with nothing changed.
    No,
    /// Ctrl-C at the prompt.
    Interrupted,
    /// The question could not be asked.
    Failed(String),
}

/// The CLI's side: draws progress, asks for confirmation.
pub trait Observer: Send {
    /// Draw one progress event; `at` is the time since the drill started.
    fn progress(&mut self, at: Duration, p: Progress<'_>);
    /// Ask whether to go ahead; answer on the returned channel.
    fn confirm(&mut self, c: &Confirmation) -> oneshot::Receiver<ConfirmAnswer>;
}

/// How the drill ended.
#[derive(Debug, Clone)]
pub struct DrillResult {
    /// The report: samples, markers, timings, verdict.
    pub report: DrillReport,
    /// How the machine ended (passed, failed, refused, interrupted...).
    pub outcome: DrillOutcome,
    /// For every deployment the drill saved a plan on (empty when nothing was changed).
    pub restore_checks: Vec<RestoreCheck>,
    /// The moment the drill's times count from (`at` 0 of every sample and marker).
    pub started: Instant,
}

impl DrillResult {
    /// The exit code: the outcome's, or 3 when the containers are not back as saved.
    pub fn exit_code(&self) -> u8 {
        if matches!(
            self.outcome,
            DrillOutcome::Passed | DrillOutcome::Failed { .. }
        ) && self
            .restore_checks
            .iter()
            .any(|c| !c.differences.is_empty())
        {
            return 3;
        }
        self.outcome.exit_code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_fails_when_not_restored() {
        let r = DrillResult {
            report: smh_core::testing::drill::sample_report(),
            outcome: DrillOutcome::Passed,
            restore_checks: vec![RestoreCheck {
                deployment: DeploymentRef {
                    cluster: "c".into(),
                    namespace: "n".into(),
                    name: "d".into(),
                },
                differences: vec!["container reviews: command: x != saved absent".into()],
            }],
            started: Instant::now(),
        };
        assert_eq!(r.exit_code(), 3);
        let ok = DrillResult {
            restore_checks: vec![],
            ..r
        };
        assert_eq!(ok.exit_code(), 0);
    }
}
