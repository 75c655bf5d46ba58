//! The whole run: store the SMH objects, apply and prune the generated objects, write the
//! statuses and the cache, in that order, and report per step.

use std::collections::BTreeMap;

use crate::apply::cache::{updated_cache, write_cache};
use crate::apply::diff::delete_smh;
use crate::apply::smh::{StatusWrite, Stored, store_smh, write_statuses};
use crate::apply::{ApplyOutcome, Plan, StepResult, apply_failures, execute};
use crate::state::LiveState;
use smh_core::inspect::state::{manifest_id, manifest_meta};
use smh_core::inspect::status::SmhStatus;
use smh_core::model::Manifest;
use smh_core::model::diag::ObjectId;

/// The generation each merged object has after storing: what the server answered for the
/// stored input objects, else the stored object's; an object not stored yet (a client dry
/// run) gets 1, one whose spec changes its generation + 1.
pub fn generations(state: &LiveState, stored: &[Stored]) -> BTreeMap<ObjectId, i64> {
    let answered: BTreeMap<ObjectId, i64> = stored
        .iter()
        .filter(|s| s.outcome != ApplyOutcome::Failed)
        .map(|s| (s.id(), s.generation))
        .collect();
    state
        .merged
        .iter()
        .map(|m| {
            let id = manifest_id(m);
            let g = answered
                .get(&id)
                .copied()
                .unwrap_or_else(|| match state.smh_object(&id) {
                    Some(s) if smh_core::inspect::state::same_spec(m, s) => {
                        manifest_meta(s).generation.unwrap_or(1)
                    }
                    Some(s) => manifest_meta(s).generation.unwrap_or(0) + 1,
                    None => 1,
                });
            (id, g)
        })
        .collect()
}

/// The statuses of every merged object, given how storing and applying went.
pub fn statuses(
    state: &LiveState,
    stored: &[Stored],
    results: &[StepResult],
) -> BTreeMap<ObjectId, SmhStatus> {
    let gens = generations(state, stored);
    let failures = apply_failures(results);
    let diagnostics: Vec<_> = state
        .diagnostics
        .iter()
        .chain(&state.expected.diagnostics)
        .cloned()
        .collect();
    smh_core::inspect::status::compute(&smh_core::inspect::status::StatusInput {
        merged: &state.merged,
        topology: &state.topology,
        diagnostics: &diagnostics,
        expected: &state.expected.objects,
        generations: &gens,
        failures: &failures,
    })
}

/// How `commit` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Change the clusters.
    Apply,
    /// Send everything with `dryRun=All`; write no status and no cache.
    ServerDryRun,
}

/// Everything a run did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// The input SMH objects stored in the management cluster.
    pub stored: Vec<Stored>,
    /// Per generated object.
    pub results: Vec<StepResult>,
    /// The status of every SMH object (written unless a dry run).
    pub statuses: BTreeMap<ObjectId, SmhStatus>,
    /// The status writes, one per SMH object whose status was written (or would be).
    pub status_writes: Vec<StatusWrite>,
    /// SMH objects deleted (`failover delete`).
    pub deleted: Vec<(ObjectId, Option<String>)>,
    /// Why the topology cache could not be written.
    pub cache_warning: Option<String>,
    /// Why the run stopped before the clusters were changed.
    pub aborted: Option<String>,
}

impl ApplyReport {
    /// Whether anything failed (exit 3).
    pub fn failed(&self) -> bool {
        self.aborted.is_some()
            || self
                .stored
                .iter()
                .any(|s| s.outcome == ApplyOutcome::Failed)
            || self
                .results
                .iter()
                .any(|r| r.outcome == ApplyOutcome::Failed)
            || self.status_writes.iter().any(|w| w.error.is_some())
            || self.deleted.iter().any(|(_, e)| e.is_some())
    }
}

/// Stores `input` in the management cluster, applies `plan`, writes every status, deletes
/// `delete` (only when every cluster step succeeded, so that a re-run can finish), and
/// updates the topology cache. Storing failing stops the run before any cluster is changed.
pub async fn commit(
    state: &LiveState,
    input: &[Manifest],
    plan: &Plan,
    delete: &[ObjectId],
    mode: Mode,
) -> ApplyReport {
    let dry_run = mode == Mode::ServerDryRun;
    let mut report = ApplyReport {
        stored: store_smh(state, input, dry_run).await,
        ..Default::default()
    };
    if let Some(bad) = report
        .stored
        .iter()
        .find(|s| s.outcome == ApplyOutcome::Failed)
    {
        report.aborted = Some(format!(
            "storing {} {}/{} in the management cluster failed, so no cluster was changed: {}",
            bad.kind,
            bad.namespace,
            bad.name,
            bad.error.as_deref().unwrap_or("")
        ));
        return report;
    }
    report.results = execute(state, plan, dry_run).await;
    report.statuses = statuses(state, &report.stored, &report.results);
    if dry_run {
        return report;
    }
    let all_ok = report
        .results
        .iter()
        .all(|r| r.outcome != ApplyOutcome::Failed);
    if !delete.is_empty() {
        if !all_ok {
            // The objects stay, with their status as it was: a re-run finishes the job.
            report.aborted = Some(
                "not every generated object could be removed or updated, so the SMH objects \
                 were not deleted; run the command again when the clusters answer"
                    .to_string(),
            );
            return report;
        }
        report.deleted = delete_smh(state, delete, false)
            .await
            .into_iter()
            .map(|(id, r)| (id, r.err().map(|e| e.to_string())))
            .collect();
    }
    let (writes, cache) = futures::join!(write_statuses(state, &report.statuses), async {
        let now = jiff::Timestamp::now().to_string();
        match updated_cache(state, &now) {
            Some(cache) => write_cache(state, &cache)
                .await
                .err()
                .map(|e| e.to_string()),
            None => None,
        }
    });
    report.status_writes = writes;
    report.cache_warning = cache;
    report
}
