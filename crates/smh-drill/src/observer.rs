//! The executor's interface to its caller: the context a run needs, the progress it reports,
//! the confirmation it asks for, and the result it returns.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::facts::GeneratedCheck;
use crate::inputs::{Clients, Inputs};
use smh_cluster::Target;
use smh_core::drill::live::{RolloutCounts, RolloutState};
use smh_core::drill::machine::{Note, Outcome, Phase, Transition};
use smh_core::drill::measure::Markers;
use smh_core::drill::plan::{DrillPlan, ProbeSpec};
use smh_core::drill::preflight::PreflightReport;
use smh_core::drill::report::{DrillReport, RestoreCheck};
use smh_core::drill::restore::RestoreContext;
use smh_core::drill::{DeploymentRef, ProbeSample, Signal};

/// Everything a drill run needs.
#[derive(Clone)]
pub struct DrillContext {
    pub clients: Arc<Clients>,
    pub inputs: Arc<Inputs>,
    pub plan: DrillPlan,
    pub restore: RestoreContext,
    /// `--yes`: confirmed without asking.
    pub yes: bool,
    pub generated: GeneratedCheck,
}

/// What the confirmation must name.
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub plan: DrillPlan,
    /// The clusters whose deployments are patched.
    pub targets: Vec<Target>,
    /// Preflight's warnings about the deployments to break (probes, images, tools that
    /// may undo the break), to repeat above the question.
    pub warnings: Vec<String>,
}

/// Which patch a [`Progress::Patched`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Saved,
    Broken,
    Restored,
}

/// What the executor reports while it runs.
#[derive(Debug)]
pub enum Progress<'a> {
    Phase(&'a Transition),
    Note(&'a Note),
    Preflight(&'a PreflightReport),
    /// Probes go to this pod.
    ProbeTarget {
        pod: &'a str,
        spec: &'a ProbeSpec,
    },
    Probe {
        sample: &'a ProbeSample,
        phase: Phase,
        /// The drill's markers when the answer arrived (before it is recorded).
        markers: &'a Markers,
    },
    Patched {
        kind: PatchKind,
        deployment: &'a DeploymentRef,
    },
    Rollout {
        deployment: &'a DeploymentRef,
        state: &'a RolloutState,
        counts: RolloutCounts,
    },
    /// A termination signal arrived; `restoring`: the drill restores before it stops.
    Signal {
        signal: Signal,
        restoring: bool,
    },
}

/// The answer to a [`Confirmation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmAnswer {
    Yes,
    No,
    /// Ctrl-C at the prompt.
    Interrupted,
    /// The question could not be asked.
    Failed(String),
}

/// The CLI's side: draws progress, asks for confirmation.
pub trait Observer: Send {
    fn progress(&mut self, at: Duration, p: Progress<'_>);
    /// Ask whether to go ahead; answer on the returned channel.
    fn confirm(&mut self, c: &Confirmation) -> oneshot::Receiver<ConfirmAnswer>;
}

/// How the drill ended.
#[derive(Debug, Clone)]
pub struct DrillResult {
    pub report: DrillReport,
    pub outcome: Outcome,
    /// For every deployment the drill saved a plan on (empty when nothing was changed).
    pub restore_checks: Vec<RestoreCheck>,
    /// The moment the drill's times count from (`at` 0 of every sample and marker).
    pub started: Instant,
}

impl DrillResult {
    /// The exit code: the outcome's, or 3 when the containers are not back as saved.
    pub fn exit_code(&self) -> u8 {
        if matches!(self.outcome, Outcome::Passed | Outcome::Failed { .. })
            && self
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
            outcome: Outcome::Passed,
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
