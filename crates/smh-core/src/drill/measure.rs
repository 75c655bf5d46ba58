//! Measurements from the probe samples and the phase markers, the expectation checks, and
//! the outlier-detection model that explains the numbers.
//!
//! Definitions (all times since the marker named; samples are taken in the order their
//! answers arrived, each stamped with the moment its request was sent):
//! - **first failed-over answer**: the first failed-over sample sent at or after the break,
//!   also after the restore: until the restored pods are ready the primary is still down,
//!   so a drill stopped early (interrupt, `--max-errors`) still shows when failover began;
//! - **steady failover**: the first window of `window` consecutive samples sent after the
//!   break (and before the restore) of which at least `percent`% failed over; the moment is
//!   the first failed-over sample of that window;
//! - **failed requests during failover**: errors sent from the break up to steady failover
//!   (up to the restore when failover never became steady);
//! - **errors after steady failover**: errors between steady failover and the restore, i.e.
//!   re-ejections (Envoy returns an ejected host to the pool when its ejection time is
//!   over, even while the primary is still broken, and ejects it again after its next
//!   errors);
//! - **steady failback**: the same as steady failover, for primary answers sent after the
//!   restore;
//! - **periods**: baseline (before the break), breaking (break → its rollout complete),
//!   failed over (→ restore), restoring (restore → its rollout complete), failed back.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::Serialize;

use super::plan::SteadySpec;
use super::{Class, ProbeSample, secs};

mod expectations;
pub use expectations::{ExpectationResult, Limit, Verdict, check};
mod prediction;
pub use prediction::OutlierModel;
pub(crate) use prediction::outlier_model;

/// Moments of the drill, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Markers {
    /// When the break was applied (the patch accepted).
    #[serde(with = "secs::opt")]
    pub break_applied: Option<Duration>,
    /// When the break's rollout completed (the broken pods replaced the old ones).
    #[serde(with = "secs::opt")]
    pub break_rollout_complete: Option<Duration>,
    /// When the restore was applied.
    #[serde(with = "secs::opt")]
    pub restore_applied: Option<Duration>,
    /// When the restore's rollout completed.
    #[serde(with = "secs::opt")]
    pub restore_rollout_complete: Option<Duration>,
    /// When the drill finished (or the last event, while it runs).
    #[serde(with = "secs")]
    pub end: Duration,
}

/// Finds the first window of consecutive answers with at least `needed` of one class.
#[derive(Debug, Clone)]
pub struct Steady {
    target: Class,
    window: usize,
    needed: usize,
    buf: VecDeque<(Duration, bool)>,
    hits: usize,
    found: Option<Duration>,
}

impl Steady {
    /// A finder for answers of class `target`, steady by `spec`.
    pub fn new(target: Class, spec: SteadySpec) -> Self {
        Steady {
            target,
            window: spec.window.max(1),
            needed: spec.needed().max(1),
            buf: VecDeque::new(),
            hits: 0,
            found: None,
        }
    }

    /// Feed one answer; returns the moment of steadiness once found (and from then on).
    pub fn push(&mut self, at: Duration, class: Class) -> Option<Duration> {
        if self.found.is_some() {
            return self.found;
        }
        let hit = class == self.target;
        self.buf.push_back((at, hit));
        self.hits += hit as usize;
        if self.buf.len() > self.window
            && let Some((_, old)) = self.buf.pop_front()
        {
            self.hits -= old as usize;
        }
        if self.buf.len() == self.window && self.hits >= self.needed {
            self.found = self.buf.iter().find(|(_, h)| *h).map(|(t, _)| *t);
        }
        self.found
    }

    /// The moment of steadiness, if found: when the first answer of the steady window was sent.
    pub fn found(&self) -> Option<Duration> {
        self.found
    }
}

/// The part of the drill a sample belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Period {
    /// Before the break.
    Baseline,
    /// From the break to its rollout's end.
    Breaking,
    /// From the break's rollout's end to the restore.
    FailedOver,
    /// From the restore to its rollout's end.
    Restoring,
    /// After the restore's rollout.
    FailedBack,
}

impl Period {
    pub(crate) const ALL: [Period; 5] = [
        Period::Baseline,
        Period::Breaking,
        Period::FailedOver,
        Period::Restoring,
        Period::FailedBack,
    ];

    /// As the report prints it (`failed over`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Baseline => "baseline",
            Period::Breaking => "breaking",
            Period::FailedOver => "failed over",
            Period::Restoring => "restoring",
            Period::FailedBack => "failed back",
        }
    }

    /// The period a sample sent at `at` belongs to.
    pub fn of(at: Duration, m: &Markers) -> Period {
        let after = |marker: Option<Duration>| marker.is_some_and(|t| at >= t);
        if after(m.restore_rollout_complete) {
            Period::FailedBack
        } else if after(m.restore_applied) {
            Period::Restoring
        } else if after(m.break_rollout_complete) {
            Period::FailedOver
        } else if after(m.break_applied) {
            Period::Breaking
        } else {
            Period::Baseline
        }
    }

    /// When the period started and ended, as far as the markers say.
    pub fn span(self, m: &Markers) -> (Option<Duration>, Option<Duration>) {
        match self {
            Period::Baseline => (Some(Duration::ZERO), m.break_applied.or(Some(m.end))),
            Period::Breaking => (
                m.break_applied,
                m.break_applied.and(
                    m.break_rollout_complete
                        .or(m.restore_applied)
                        .or(Some(m.end)),
                ),
            ),
            Period::FailedOver => (
                m.break_rollout_complete,
                m.break_rollout_complete
                    .and(m.restore_applied.or(Some(m.end))),
            ),
            Period::Restoring => (
                m.restore_applied,
                m.restore_applied
                    .and(m.restore_rollout_complete.or(Some(m.end))),
            ),
            Period::FailedBack => (
                m.restore_rollout_complete,
                m.restore_rollout_complete.map(|_| m.end),
            ),
        }
    }
}

/// Follows the answers in the order they arrive (the order [`measure`] takes them) and
/// reports each change of class: the live `answers:` lines.
///
/// A request can straddle the break (or the restore): sent before it, answered after it,
/// and then possibly already failed over (answered by the primary again). Such an answer
/// still starts a line, marked `before the break` (`before the restore`), but it is not
/// what the report counts: the report's first failed-over answer is the first one to a
/// probe sent at or after the break, and its first primary answer again the first one to a
/// probe sent at or after the restore. The answer the report names always gets a line of
/// its own, marked `the first failed-over answer` (`the first primary answer again`), even
/// when the answer before it had the same class (a straddling one); so that line and the
/// report name the same probe.
#[derive(Debug, Clone, Default)]
pub struct ClassChanges {
    /// The class of the answers so far and how many came in a row.
    run: Option<(Class, u64)>,
    /// Whether the report's first failed-over answer (first primary answer again) came.
    first_failover_seen: bool,
    first_primary_seen: bool,
}

/// A moment of the drill the answers are related to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The break.
    Break,
    /// The restore.
    Restore,
}

impl Origin {
    /// `the break` or `the restore`, as the answer lines say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Break => "the break",
            Origin::Restore => "the restore",
        }
    }
}

/// A change of answer class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassChange {
    /// The class of the new answers.
    pub class: Class,
    /// When the first answer of the new class was sent.
    pub at: Duration,
    /// Why it is an error (errors only).
    pub reason: Option<String>,
    /// The class before and how many answers in a row had it (`None` at the first answer).
    pub after: Option<(Class, u64)>,
    /// The probe was sent before this moment, which had passed when its answer came: a
    /// request that straddles the break (the restore).
    pub sent_before: Option<Origin>,
    /// This answer is the report's first failed-over answer (`Break`) or first primary
    /// answer again (`Restore`).
    pub first_after: Option<Origin>,
}

impl ClassChanges {
    /// Feed one answer as it arrives, with the drill's markers at that moment; `Some` when
    /// its class differs from the previous answer's (and for the first answer), and for the
    /// answer the report counts as the first failed-over answer or the first primary
    /// answer again.
    pub fn push(&mut self, s: &ProbeSample, m: &Markers) -> Option<ClassChange> {
        let sent_before = if m.break_applied.is_some_and(|b| s.at < b) {
            Some(Origin::Break)
        } else if m.restore_applied.is_some_and(|r| s.at < r) {
            Some(Origin::Restore)
        } else {
            None
        };
        // The definitions of [`measure`]: sent at or after the marker, in arrival order.
        let first_after = match s.class {
            Class::FailedOver
                if !self.first_failover_seen && m.break_applied.is_some_and(|b| s.at >= b) =>
            {
                self.first_failover_seen = true;
                Some(Origin::Break)
            }
            Class::Primary
                if !self.first_primary_seen && m.restore_applied.is_some_and(|r| s.at >= r) =>
            {
                self.first_primary_seen = true;
                Some(Origin::Restore)
            }
            _ => None,
        };
        match &mut self.run {
            Some((c, n)) if *c == s.class && first_after.is_none() => {
                *n += 1;
                None
            }
            run => {
                let after = *run;
                *run = Some((s.class, 1));
                Some(ClassChange {
                    class: s.class,
                    at: s.at,
                    reason: (s.class == Class::Error)
                        .then(|| s.reason.clone())
                        .flatten(),
                    after,
                    sent_before,
                    first_after,
                })
            }
        }
    }
}

impl std::fmt::Display for ClassChange {
    /// `answers: failed over (since the probe sent at 3.503s, the first failed-over answer;
    /// before: 12 error)`; a straddling request: `(since the probe sent at 4.990s, before
    /// the break; ...)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "answers: {}", self.class.as_str())?;
        if let Some(r) = &self.reason {
            write!(f, " ({r})")?;
        }
        write!(
            f,
            " (since the probe sent at {:.3}s",
            super::seconds(self.at)
        )?;
        if let Some(o) = self.sent_before {
            write!(f, ", before {}", o.as_str())?;
        }
        match self.first_after {
            Some(Origin::Break) => f.write_str(", the first failed-over answer")?,
            Some(Origin::Restore) => f.write_str(", the first primary answer again")?,
            None => {}
        }
        if let Some((c, n)) = self.after {
            write!(f, "; before: {n} {}", c.as_str())?;
        }
        f.write_str(")")
    }
}

/// Answers per class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassCounts {
    /// Answers from the primary.
    pub primary: u64,
    /// Answers from a secondary.
    pub failed_over: u64,
    /// Errors (no usable answer).
    pub error: u64,
}

impl ClassCounts {
    /// Count one answer.
    pub fn add(&mut self, c: Class) {
        match c {
            Class::Primary => self.primary += 1,
            Class::FailedOver => self.failed_over += 1,
            Class::Error => self.error += 1,
        }
    }
    /// All answers.
    pub fn total(&self) -> u64 {
        self.primary + self.failed_over + self.error
    }
    /// `12 failed over, 8 error` (non-zero classes only; `none` when empty).
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (self.primary, "primary"),
            (self.failed_over, "failed over"),
            (self.error, "error"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The answers of one period of the drill, per class.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodCounts {
    /// The period.
    pub period: Period,
    /// Its answers, per class.
    #[serde(flatten)]
    pub counts: ClassCounts,
    /// All its answers.
    pub total: u64,
    /// How long the period lasted (absent when it never started).
    #[serde(with = "secs::opt")]
    pub duration: Option<Duration>,
}

/// What the samples show.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measurements {
    /// From the break to the first failed-over answer to a probe sent at or after it.
    #[serde(with = "secs::opt")]
    pub break_to_first_failover: Option<Duration>,
    /// From the break to steady failover.
    #[serde(with = "secs::opt")]
    pub break_to_steady_failover: Option<Duration>,
    /// Errors sent from the break up to steady failover (up to the restore when failover never
    /// became steady).
    pub errors_during_failover: u64,
    /// Errors between steady failover and the restore (re-ejections).
    pub errors_after_steady_failover: u64,
    /// From the restore to the first primary answer to a probe sent at or after it.
    #[serde(with = "secs::opt")]
    pub restore_to_first_primary: Option<Duration>,
    /// From the restore to steady failback.
    #[serde(with = "secs::opt")]
    pub restore_to_steady_failback: Option<Duration>,
    /// How long the break's rollout took.
    #[serde(with = "secs::opt")]
    pub break_rollout: Option<Duration>,
    /// How long the restore's rollout took.
    #[serde(with = "secs::opt")]
    pub restore_rollout: Option<Duration>,
    /// How long failover was watched: break → restore (or end).
    #[serde(with = "secs::opt")]
    pub watched_after_break: Option<Duration>,
    /// How long failback was watched: restore → end.
    #[serde(with = "secs::opt")]
    pub watched_after_restore: Option<Duration>,
    /// The last `window` answers before the restore (or the end), when failover was never
    /// steady, and likewise after the restore: what the messages quote.
    pub last_window_before_restore: ClassCounts,
    /// The last window after the restore (see `last_window_before_restore`).
    pub last_window_after_restore: ClassCounts,
    /// Answers per period, in the drill's order.
    pub periods: Vec<PeriodCounts>,
    /// Error reasons and how often each occurred.
    pub error_reasons: BTreeMap<String, u64>,
}

/// `the last 20 answers before the restore: 20 error`, or `no answers before the restore`.
fn last_answers(c: &ClassCounts, when: &str) -> String {
    if c.total() == 0 {
        format!("no answers {when}")
    } else {
        format!("the last {} answers {when}: {}", c.total(), c.summary())
    }
}

fn since(t: Option<Duration>, origin: Option<Duration>) -> Option<Duration> {
    Some(t?.saturating_sub(origin?))
}

/// Compute the measurements.
pub fn measure(samples: &[ProbeSample], m: &Markers, steady: SteadySpec) -> Measurements {
    let in_failover = |s: &ProbeSample| {
        m.break_applied.is_some_and(|b| s.at >= b) && m.restore_applied.is_none_or(|r| s.at < r)
    };
    let in_failback = |s: &ProbeSample| m.restore_applied.is_some_and(|r| s.at >= r);

    let mut fo = Steady::new(Class::FailedOver, steady);
    let mut fb = Steady::new(Class::Primary, steady);
    let mut first_fo = None;
    let mut first_primary = None;
    for s in samples {
        if in_failover(s) {
            fo.push(s.at, s.class);
        }
        if s.class == Class::FailedOver
            && first_fo.is_none()
            && m.break_applied.is_some_and(|b| s.at >= b)
        {
            first_fo = Some(s.at);
        }
        if in_failback(s) {
            fb.push(s.at, s.class);
            if s.class == Class::Primary && first_primary.is_none() {
                first_primary = Some(s.at);
            }
        }
    }
    let steady_fo = fo.found();
    let mut errors_during = 0;
    let mut errors_after = 0;
    for s in samples
        .iter()
        .filter(|s| in_failover(s) && s.class == Class::Error)
    {
        match steady_fo {
            Some(t) if s.at >= t => errors_after += 1,
            _ => errors_during += 1,
        }
    }
    let last_window = |pred: &dyn Fn(&ProbeSample) -> bool| {
        let mut c = ClassCounts::default();
        let chosen: Vec<&ProbeSample> = samples.iter().filter(|s| pred(s)).collect();
        for s in chosen.iter().rev().take(steady.window) {
            c.add(s.class);
        }
        c
    };

    let mut periods: BTreeMap<Period, ClassCounts> = BTreeMap::new();
    let mut error_reasons = BTreeMap::new();
    for s in samples {
        periods.entry(Period::of(s.at, m)).or_default().add(s.class);
        if s.class == Class::Error {
            *error_reasons
                .entry(s.reason.clone().unwrap_or_else(|| "unknown".into()))
                .or_insert(0) += 1;
        }
    }
    let periods = Period::ALL
        .iter()
        .map(|&p| {
            let counts = periods.get(&p).copied().unwrap_or_default();
            let (start, end) = p.span(m);
            PeriodCounts {
                period: p,
                counts,
                total: counts.total(),
                duration: since(end, start),
            }
        })
        .collect();

    Measurements {
        break_to_first_failover: since(first_fo, m.break_applied),
        break_to_steady_failover: since(steady_fo, m.break_applied),
        errors_during_failover: errors_during,
        errors_after_steady_failover: errors_after,
        restore_to_first_primary: since(first_primary, m.restore_applied),
        restore_to_steady_failback: since(fb.found(), m.restore_applied),
        break_rollout: since(m.break_rollout_complete, m.break_applied),
        restore_rollout: since(m.restore_rollout_complete, m.restore_applied),
        watched_after_break: since(m.restore_applied.or(Some(m.end)), m.break_applied),
        watched_after_restore: since(Some(m.end), m.restore_applied),
        last_window_before_restore: last_window(&in_failover),
        last_window_after_restore: last_window(&in_failback),
        periods,
        error_reasons,
    }
}

#[cfg(test)]
mod tests;
