//! The drill's expectations: each measurement judged against the plan's limit (the
//! `--failover-timeout`, `--failback-timeout` and `--max-errors` flags), with a verdict.

use std::time::Duration;

use serde::Serialize;

use super::{Measurements, last_answers};
use crate::drill::human;
use crate::drill::plan::DrillPlan;

/// Result of one expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Within the limit.
    Pass,
    /// Over the limit, or never reached.
    Fail,
    /// The drill stopped (interrupted, error) before this could be judged.
    NotReached,
}

/// One expectation judged against its limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectationResult {
    /// `failover`, `failback` or `max-errors`.
    pub name: &'static str,
    /// Pass, fail, or not reached.
    pub verdict: Verdict,
    /// The limit: seconds for `failover` and `failback`, a count for `max-errors`; JSON: a
    /// number, `null` for no limit.
    pub limit: Limit,
    /// The verdict in words, with the numbers.
    pub message: String,
}

/// An expectation's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `--failover-timeout`, `--failback-timeout`.
    Duration(Duration),
    /// `--max-errors`.
    Count(u64),
    /// No limit set.
    None,
}

impl Serialize for Limit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Limit::Duration(d) => s.serialize_f64(crate::drill::seconds(*d)),
            Limit::Count(n) => s.serialize_u64(*n),
            Limit::None => s.serialize_none(),
        }
    }
}

/// As the flags take it: `2m0s`, `5`, `none`.
impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Duration(d) => f.write_str(&human(*d)),
            Limit::Count(n) => write!(f, "{n}"),
            Limit::None => f.write_str("none"),
        }
    }
}

/// Judge the measurements against the plan's limits.
pub fn check(m: &Measurements, plan: &DrillPlan) -> Vec<ExpectationResult> {
    vec![failover(m, plan), max_errors(m, plan), failback(m, plan)]
}

/// Failover within `--failover-timeout`: steady on the secondaries that long after the break.
fn failover(m: &Measurements, plan: &DrillPlan) -> ExpectationResult {
    let window = plan.steady.window;
    let limit = plan.failover_timeout;
    let (verdict, message) = match (m.break_to_steady_failover, m.watched_after_break) {
        (_, None) => (Verdict::NotReached, "the break was not applied".to_string()),
        (Some(t), _) if t <= limit => (
            Verdict::Pass,
            format!(
                "failover steady {} after the break (limit {})",
                human(t),
                human(limit)
            ),
        ),
        (Some(t), _) => (
            Verdict::Fail,
            format!(
                "failover took {} after the break, {} more than --failover-timeout {}",
                human(t),
                human(t - limit),
                human(limit)
            ),
        ),
        (None, Some(watched)) if watched >= limit => {
            let first = match m.break_to_first_failover {
                Some(t) => format!(
                    "the first failed-over answer came {} after the break",
                    human(t)
                ),
                None => "no answer failed over".to_string(),
            };
            (
                Verdict::Fail,
                format!(
                    "failover was not steady (>= {}% of {window} answers) within --failover-timeout {}: {first}; {}",
                    plan.steady.percent,
                    human(limit),
                    last_answers(&m.last_window_before_restore, "before the restore")
                ),
            )
        }
        (None, Some(watched)) => (
            Verdict::NotReached,
            format!(
                "the drill stopped {} after the break, before failover was steady",
                human(watched)
            ),
        ),
    };
    ExpectationResult {
        name: "failover",
        verdict,
        limit: Limit::Duration(limit),
        message,
    }
}

/// Errors during failover within `--max-errors` (no limit: always passes once the break
/// was applied).
fn max_errors(m: &Measurements, plan: &DrillPlan) -> ExpectationResult {
    let n = m.errors_during_failover;
    let limit = plan.max_errors.map_or(Limit::None, Limit::Count);
    let (verdict, message) = match (m.watched_after_break, plan.max_errors) {
        (None, _) => (Verdict::NotReached, "the break was not applied".to_string()),
        (Some(_), None) => (
            Verdict::Pass,
            format!("{n} failed request(s) during failover (no --max-errors limit)"),
        ),
        (Some(_), Some(max)) if n <= max => (
            Verdict::Pass,
            format!("{n} failed request(s) during failover (limit {max})"),
        ),
        (Some(_), Some(max)) => (
            Verdict::Fail,
            format!(
                "{n} failed requests during failover, {} more than --max-errors {max}",
                n - max
            ),
        ),
    };
    ExpectationResult {
        name: "max-errors",
        verdict,
        limit,
        message,
    }
}

/// Failback within `--failback-timeout`: steady on the primary that long after the restore.
fn failback(m: &Measurements, plan: &DrillPlan) -> ExpectationResult {
    let window = plan.steady.window;
    let limit = plan.failback_timeout;
    let (verdict, message) = match (m.restore_to_steady_failback, m.watched_after_restore) {
        (_, None) => (Verdict::NotReached, "nothing was restored".to_string()),
        (Some(t), _) if t <= limit => (
            Verdict::Pass,
            format!(
                "failback steady {} after the restore (limit {})",
                human(t),
                human(limit)
            ),
        ),
        (Some(t), _) => (
            Verdict::Fail,
            format!(
                "failback took {} after the restore, {} more than --failback-timeout {}",
                human(t),
                human(t - limit),
                human(limit)
            ),
        ),
        (None, Some(watched)) if watched >= limit => {
            let first = match m.restore_to_first_primary {
                Some(t) => format!(
                    "the first primary answer came {} after the restore",
                    human(t)
                ),
                None => "no answer came from the primary".to_string(),
            };
            let rollout = if m.restore_rollout.is_none() {
                " (the restore rollout did not complete)"
            } else {
                ""
            };
            (
                Verdict::Fail,
                format!(
                    "failback was not steady (>= {}% of {window} answers) within --failback-timeout {}{rollout}: {first}; {}",
                    plan.steady.percent,
                    human(limit),
                    last_answers(&m.last_window_after_restore, "after the restore")
                ),
            )
        }
        (None, Some(watched)) => (
            Verdict::NotReached,
            format!(
                "the drill stopped {} after the restore, before failback was steady",
                human(watched)
            ),
        ),
    };
    ExpectationResult {
        name: "failback",
        verdict,
        limit: Limit::Duration(limit),
        message,
    }
}
