//! Retries of transient API errors: one tower layer on every kube client
//! ([`crate::context::Contexts`] builds it in), so no call site loops by itself.
//!
//! What is retried is decided per request, from the request alone ([`safety`]):
//!
//! - safe to repeat: `GET` (get, list, watch, the port-forward upgrade), server-side apply
//!   (`PATCH` with `application/apply-patch+yaml`, also of `/status`), a `PATCH` or `PUT` whose
//!   body carries `metadata.resourceVersion` (the server refuses a second one with 409), a
//!   JSON patch that tests the resourceVersion, and a `DELETE` with preconditions (uid or
//!   resourceVersion);
//! - everything else (`POST`, a merge or strategic patch without a resourceVersion, a
//!   `DELETE` without preconditions) is sent once: its caller decides what a lost answer means.
//!
//! A safe request is retried when the answer is transient ([`transient_status`], [`transient_error`]): 429, 500, 502,
//! 503, 504, no answer within `--request-timeout`, a refused, reset or closed connection
//! (also in the middle of a response: answers are read whole, below this layer's decision).
//! Waits grow exponentially from [`BASE_WAIT`] to [`MAX_WAIT`] with jitter; a `Retry-After`
//! from the server is honoured instead. No new attempt starts later than `--retry-timeout`
//! after the first one; the last attempt's error is what the caller sees.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode, Uri};

pub(crate) mod layer;

pub(crate) use layer::RetryLayer;

/// First wait before a retry (before jitter).
pub const BASE_WAIT: Duration = Duration::from_millis(200);
/// Longest wait between two attempts, unless the server's `Retry-After` asks for more.
pub const MAX_WAIT: Duration = Duration::from_secs(5);
/// Longest `Retry-After` honoured; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// `--retry-timeout`'s default: how long after its first attempt a request may still be
/// retried.
pub const DEFAULT_RETRY_TIMEOUT: Duration = Duration::from_secs(30);

/// Called for each retry, before the wait (the cli prints it with `-v`).
pub type RetryLog = Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// How requests are retried; one per command.
#[derive(Clone)]
pub struct RetryOptions {
    /// No new attempt starts later than this after a request's first attempt; zero turns
    /// retries off.
    pub retry_timeout: Duration,
    /// Told of every retry.
    pub log: Option<RetryLog>,
    /// Counts the retries of every client built with these options.
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

/// How many requests were retried, over all clients sharing it.
#[derive(Debug, Default)]
pub struct RetryStats {
    retries: AtomicU64,
    exhausted: AtomicU64,
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

    pub(crate) fn count_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_exhausted(&self) {
        self.exhausted.fetch_add(1, Ordering::Relaxed);
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

/// Decides [`Safety`] from the method, the headers and the (whole) body.
pub(crate) fn safety(method: &Method, headers: &HeaderMap, body: Option<&[u8]>) -> Safety {
    let json = || body.and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
    let safe = match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => true,
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
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    // /api/v1/... or /apis/GROUP/VERSION/...
    let rest: &[&str] = match parts.first() {
        Some(&"api") if parts.len() >= 2 => &parts[2..],
        Some(&"apis") if parts.len() >= 3 => &parts[3..],
        _ => &[],
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(*ns), tail),
        _ => (None, rest),
    };
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
