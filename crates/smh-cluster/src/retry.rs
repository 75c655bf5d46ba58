//! Retries of transient API errors: one tower layer on every kube client
//! ([`crate::context::Contexts`] builds it in), so no call site loops by itself.
//!
//! What is retried is decided per request, from the request alone ([`safety`]):
//!
//! - safe to repeat: `GET` (get, list, watch, the port-forward upgrade), server-side apply
//!   (`PATCH` with `application/apply-patch+yaml`, also of `/status`), a `PATCH` or `PUT` whose
//!   body carries `metadata.resourceVersion` (the server refuses a second one with 409), a
//!   JSON patch that tests the resourceVersion, a `DELETE` with preconditions (uid or
//!   resourceVersion), and a create (`POST` to a collection) of an object with a fixed name:
//!   a repeat after a lost answer meets 409 AlreadyExists instead of making a second object,
//!   and every caller that creates reads 409 as "it exists" (as client-go based controllers
//!   do);
//! - everything else (a create with `generateName`, other `POST`s, a merge or strategic patch
//!   without a resourceVersion, a `DELETE` without preconditions) is sent once: its caller
//!   decides what a lost answer means.
//!
//! A safe request is retried when the answer is transient ([`transient_status`], [`transient_error`]): 429, 500, 502,
//! 503, 504, no answer within `--request-timeout`, a refused, reset or closed connection
//! (also in the middle of a response: answers are read whole, below this layer's decision).
//! Waits grow exponentially from [`BASE_WAIT`] to [`MAX_WAIT`] with jitter; a `Retry-After`
//! from the server is honoured instead.
//!
//! One budget per command bounds it all: `--retry-timeout` is the total time a command may
//! spend retrying, over all its requests and clusters ([`RetryStats::retry_time`]: the time
//! during which at least one of its requests waited for or sent a retry). A retry whose wait
//! would pass the budget is not made; the last attempt's error is what the caller sees. So a
//! command takes at most its own time, plus `--retry-timeout`, plus one `--request-timeout`
//! per request that is being retried when the budget runs out. The drill's restore starts
//! a budget of its own ([`RetryStats::renew_budget`]): a budget spent by the drill never
//! keeps the restore from being retried.
//!
//! A cluster that has not answered yet in this command (no HTTP answer of any status) is
//! not retried as one that has: as client-go does, a refused or closed connection fails at
//! once (nothing listens there, or something that is not an API server does: waiting does
//! not help and the user should know at once), and a timeout is retried at most
//! [`UNANSWERED_TIMEOUT_RETRIES`] times. Once a cluster has answered, the same errors are
//! transient (an API server restarting behind its address) and retried within the budget.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::time::Instant;

use http::{HeaderMap, Method, StatusCode, Uri};

pub(crate) mod layer;

pub(crate) use layer::RetryLayer;

/// First wait before a retry (before jitter).
pub const BASE_WAIT: Duration = Duration::from_millis(200);
/// Longest wait between two attempts, unless the server's `Retry-After` asks for more.
pub const MAX_WAIT: Duration = Duration::from_secs(5);
/// Longest `Retry-After` honoured; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// `--retry-timeout`'s default: the total time a command may spend retrying.
pub const DEFAULT_RETRY_TIMEOUT: Duration = Duration::from_secs(60);
/// How many times a request that timed out is sent again to a cluster that has not
/// answered yet in this command.
pub const UNANSWERED_TIMEOUT_RETRIES: u32 = 3;

/// Called for each retry, before the wait (the cli prints it with `-v`).
pub type RetryLog = Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// How requests are retried; one per command.
#[derive(Clone)]
pub struct RetryOptions {
    /// The total time the command may spend retrying (the budget [`RetryStats`] keeps);
    /// zero turns retries off.
    pub retry_timeout: Duration,
    /// Told of every retry.
    pub log: Option<RetryLog>,
    /// Counts the retries of every client built with these options, and keeps their
    /// common budget.
    pub stats: Arc<RetryStats>,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            retry_timeout: DEFAULT_RETRY_TIMEOUT,
            log: None,
            stats: Arc::new(RetryStats::default()),
        }
    }
}

impl fmt::Debug for RetryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryOptions")
            .field("retry_timeout", &self.retry_timeout)
            .field("log", &self.log.is_some())
            .field("stats", &self.stats)
            .finish()
    }
}

/// What the clients of one command share: how many requests were retried, the time spent
/// retrying (the budget `--retry-timeout` bounds), and which clusters have answered.
#[derive(Debug, Default)]
pub struct RetryStats {
    retries: AtomicU64,
    exhausted: AtomicU64,
    spent: Mutex<Spent>,
    answered: Mutex<BTreeSet<String>>,
}

/// The retry time spent: closed stretches, plus the open one while a retry is under way.
#[derive(Debug, Default)]
struct Spent {
    /// Retries under way (waiting or sent).
    busy: u32,
    /// When the open stretch began (`busy > 0`).
    since: Option<Instant>,
    /// The closed stretches.
    closed: Duration,
}

impl Spent {
    fn total(&self, now: Instant) -> Duration {
        self.closed
            + self
                .since
                .map_or(Duration::ZERO, |s| now.saturating_duration_since(s))
    }

    /// A retry waiting `wait` begins at `now`, unless it would pass `budget`.
    fn begin(&mut self, wait: Duration, budget: Duration, now: Instant) -> bool {
        if self.total(now) + wait > budget {
            return false;
        }
        if self.busy == 0 {
            self.since = Some(now);
        }
        self.busy += 1;
        true
    }

    /// A retry got its answer at `now`.
    fn end(&mut self, now: Instant) {
        self.busy = self.busy.saturating_sub(1);
        if self.busy == 0
            && let Some(since) = self.since.take()
        {
            self.closed += now.saturating_duration_since(since);
        }
    }

    /// Nothing spent as of `now`.
    fn renew(&mut self, now: Instant) {
        self.closed = Duration::ZERO;
        if self.busy > 0 {
            self.since = Some(now);
        }
    }
}

impl RetryStats {
    /// Retries sent (a request tried three times counts two).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Requests that still failed with a transient error when retrying had to stop.
    pub fn exhausted(&self) -> u64 {
        self.exhausted.load(Ordering::Relaxed)
    }

    /// Time spent retrying since the budget began: the time during which at least one
    /// request waited for a retry or waited for a retry's answer (retries of several
    /// requests at the same time count once).
    pub fn retry_time(&self) -> Duration {
        self.lock_spent().total(Instant::now())
    }

    /// Starts the budget again from nothing (the drill's restore: what the drill spent
    /// must not keep the restore from being retried). Retries under way count from now.
    pub fn renew_budget(&self) {
        self.lock_spent().renew(Instant::now());
    }

    /// Whether `cluster` has given an HTTP answer (of any status) to a client sharing this.
    pub fn has_answered(&self, cluster: &str) -> bool {
        self.answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(cluster)
    }

    pub(crate) fn mark_answered(&self, cluster: &str) {
        let mut a = self
            .answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !a.contains(cluster) {
            a.insert(cluster.to_string());
        }
    }

    fn lock_spent(&self) -> std::sync::MutexGuard<'_, Spent> {
        self.spent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes a retry that waits `wait` from the budget `total`: `None` when the time spent
    /// plus the wait passes it. The guard counts the time until it is dropped (after the
    /// retry's answer).
    pub(crate) fn begin_retry(
        self: &Arc<Self>,
        wait: Duration,
        total: Duration,
    ) -> Option<BudgetGuard> {
        self.lock_spent()
            .begin(wait, total, Instant::now())
            .then(|| BudgetGuard {
                stats: self.clone(),
            })
    }

    pub(crate) fn count_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_exhausted(&self) {
        self.exhausted.fetch_add(1, Ordering::Relaxed);
    }
}

/// One retry under way; the time until it is dropped counts against the budget.
pub(crate) struct BudgetGuard {
    stats: Arc<RetryStats>,
}

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        self.stats.lock_spent().end(Instant::now());
    }
}

/// One retry, as `-v` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryEvent {
    /// The cluster (or context) the request went to.
    pub cluster: String,
    /// The Kubernetes verb: get, list, watch, apply, patch, update, delete, create.
    pub verb: &'static str,
    /// The resource, e.g. `deployments bookinfo/reviews` or `/version`.
    pub resource: String,
    /// What the attempt got: an HTTP status or the transport error.
    pub cause: String,
    /// The attempt that failed (1 for the first).
    pub attempt: u32,
    /// How long until the next attempt.
    pub wait: Duration,
}

impl fmt::Display for RetryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "retry: {} {} on cluster {}: attempt {} got {}; trying again in {}ms",
            self.verb,
            self.resource,
            self.cluster,
            self.attempt,
            self.cause,
            self.wait.as_millis()
        )
    }
}

/// Whether a request may be sent again without changing what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Repeating it changes nothing, or the server refuses a repeat (precondition).
    Safe,
    /// Sent once.
    Unsafe,
}

/// Decides [`Safety`] from the method, the path, the headers and the (whole) body.
pub(crate) fn safety(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> Safety {
    let json = || body.and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
    let safe = match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => true,
        Method::POST => is_collection(uri) && json().is_some_and(|v| is_named_create(&v)),
        Method::PATCH => {
            is_apply_patch(headers)
                || json()
                    .is_some_and(|v| carries_resource_version(&v) || tests_resource_version(&v))
        }
        Method::PUT => json().is_some_and(|v| carries_resource_version(&v)),
        Method::DELETE => json().is_some_and(|v| has_preconditions(&v)),
        _ => false,
    };
    if safe { Safety::Safe } else { Safety::Unsafe }
}

/// A create of an object with a fixed name: a repeat cannot make a second object, the
/// server answers it 409 AlreadyExists (which every caller that creates handles). A
/// `generateName` would make a second one.
fn is_named_create(v: &serde_json::Value) -> bool {
    non_empty_str(v.pointer("/metadata/name"))
        && !non_empty_str(v.pointer("/metadata/generateName"))
}

/// Whether the path names a collection (`.../configmaps`), where creates go, not an object
/// or its subresource (`.../pods/NAME/eviction`).
fn is_collection(uri: &Uri) -> bool {
    resource_path(uri.path()).1.len() == 1
}

/// The namespace and the rest of a Kubernetes API path after the group and version:
/// `/apis/apps/v1/namespaces/bookinfo/deployments/reviews` is `bookinfo` and `deployments,
/// reviews`. Not an API path: no rest.
fn resource_path(path: &str) -> (Option<&str>, Vec<&str>) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    // /api/v1/... or /apis/GROUP/VERSION/...
    let rest: &[&str] = match parts.first() {
        Some(&"api") if parts.len() >= 2 => &parts[2..],
        Some(&"apis") if parts.len() >= 3 => &parts[3..],
        _ => &[],
    };
    match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(*ns), tail.to_vec()),
        _ => (None, rest.to_vec()),
    }
}

fn is_apply_patch(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/apply-patch"))
}

fn non_empty_str(v: Option<&serde_json::Value>) -> bool {
    v.and_then(serde_json::Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

fn carries_resource_version(v: &serde_json::Value) -> bool {
    non_empty_str(v.pointer("/metadata/resourceVersion"))
}

/// A JSON patch (an array of operations) with `test` of `/metadata/resourceVersion`.
fn tests_resource_version(v: &serde_json::Value) -> bool {
    v.as_array().is_some_and(|ops| {
        ops.iter().any(|op| {
            op.get("op").and_then(|o| o.as_str()) == Some("test")
                && op.get("path").and_then(|p| p.as_str()) == Some("/metadata/resourceVersion")
        })
    })
}

fn has_preconditions(v: &serde_json::Value) -> bool {
    non_empty_str(v.pointer("/preconditions/resourceVersion"))
        || non_empty_str(v.pointer("/preconditions/uid"))
}

/// Whether the answer must be read as a stream (watches, upgrades), not whole.
pub(crate) fn is_streaming(uri: &Uri, headers: &HeaderMap) -> bool {
    headers.contains_key(http::header::UPGRADE)
        || uri.query().is_some_and(|q| {
            q.split('&')
                .any(|kv| kv == "watch=true" || kv == "watch=1" || kv == "follow=true")
        })
}

/// Whether an HTTP status is transient: 429, 500, 502, 503, 504.
pub(crate) fn transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// Whether a transport error is transient: a timeout, a refused, reset or closed
/// connection. A name that does not resolve, a TLS failure and a credential failure are not
/// (they do not go away by themselves).
pub(crate) fn transient_error(err: &(dyn std::error::Error + 'static)) -> bool {
    use crate::error::Unreachable;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<kube::Error>().is_some() {
            // An error of kube's own layers (credentials): not the network's.
            return false;
        }
        cur = e.source();
    }
    matches!(
        crate::error::classify_transport(err).0,
        Unreachable::Timeout | Unreachable::Refused | Unreachable::Other
    )
}

/// Whether a transport error is a timeout (no answer within `--request-timeout`).
pub(crate) fn is_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    crate::error::classify_transport(err).0 == crate::error::Unreachable::Timeout
}

/// `Retry-After` in seconds (the form API servers send), capped at [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: u64 = v.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// The wait after failed attempt `attempt` (1-based): [`BASE_WAIT`] doubled per attempt up
/// to [`MAX_WAIT`], then scaled by `jitter` (0..1) into its upper half, so that clients
/// failing together do not retry together. A `Retry-After` replaces it.
pub(crate) fn backoff(attempt: u32, jitter: f64, server: Option<Duration>) -> Duration {
    if let Some(s) = server {
        return s;
    }
    let exp = BASE_WAIT.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(MAX_WAIT);
    capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// The verb and resource of a request, for the log: `GET
/// /apis/apps/v1/namespaces/bookinfo/deployments/reviews` is `get`, `deployments
/// bookinfo/reviews`.
pub(crate) fn describe(method: &Method, uri: &Uri, headers: &HeaderMap) -> (&'static str, String) {
    let path = uri.path();
    let (namespace, rest) = resource_path(path);
    let rest: &[&str] = &rest;
    let named = rest.len() >= 2;
    let verb = match *method {
        Method::GET
            if is_streaming(uri, headers) && !headers.contains_key(http::header::UPGRADE) =>
        {
            "watch"
        }
        Method::GET if rest.is_empty() || named => "get",
        Method::GET => "list",
        Method::PATCH if is_apply_patch(headers) => "apply",
        Method::PATCH => "patch",
        Method::PUT => "update",
        Method::DELETE => "delete",
        Method::POST => "create",
        _ => "request",
    };
    let resource = match rest {
        [] => path.to_string(),
        [res] => match namespace {
            Some(ns) => format!("{res} in {ns}"),
            None => (*res).to_string(),
        },
        [res, name, sub @ ..] => {
            let res = if sub.is_empty() {
                (*res).to_string()
            } else {
                format!("{res}/{}", sub.join("/"))
            };
            match namespace {
                Some(ns) => format!("{res} {ns}/{name}"),
                None => format!("{res} {name}"),
            }
        }
    };
    (verb, resource)
}

#[cfg(test)]
mod tests;
