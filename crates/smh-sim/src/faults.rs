//! Fault injection for a simulated cluster's API server: latency, error rates and an
//! unreachable server. Faults apply to every HTTP request the server receives (discovery,
//! `/version` and port-forward included), never to in-process [`ApiCore`] calls.
//!
//! They can be set when a cluster starts ([`ClusterOptions::faults`]) and changed while it
//! runs ([`SimCluster::faults`]); `kubectl smh demo up` takes them as flags:
//! `--latency CLUSTER=DURATION`, `--error-rate CLUSTER=RATE[:KIND]` (KIND `500`, `429`,
//! `503`, `timeout` or `close`), `--unreachable CLUSTER[=hang|close]` and
//! `--unavailable CLUSTER=DURATION` (a control plane under rollout: every request answered
//! 503 with `Retry-After: 1` for that long after the cluster is ready).
//!
//! [`ApiCore`]: crate::api::ApiCore
//! [`ClusterOptions::faults`]: crate::cluster::ClusterOptions
//! [`SimCluster::faults`]: crate::cluster::SimCluster::faults

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures::StreamExt;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::api::ApiError;
use super::api::http::error_response;

mod cut;

pub(crate) use cut::{ConnCut, Cuttable};

/// An injected API error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// 500 InternalError.
    Internal,
    /// 429 TooManyRequests with `Retry-After: 1`.
    TooManyRequests,
    /// 503 ServiceUnavailable with `Retry-After: 1`, as an API server shutting down or
    /// behind a restarting load balancer answers.
    Unavailable,
    /// The request never gets an answer (the client's timeout fires).
    Timeout,
    /// The request is carried out, then the connection closes in the middle of the answer
    /// (for a watch: in the middle of the first event it sends).
    Close,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Internal => "500",
            ErrorKind::TooManyRequests => "429",
            ErrorKind::Unavailable => "503",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Close => "close",
        })
    }
}

impl std::str::FromStr for ErrorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "500" => Ok(ErrorKind::Internal),
            "429" => Ok(ErrorKind::TooManyRequests),
            "503" => Ok(ErrorKind::Unavailable),
            "timeout" => Ok(ErrorKind::Timeout),
            "close" => Ok(ErrorKind::Close),
            other => Err(format!(
                "unknown error kind {other:?} (expected 500, 429, 503, timeout or close)"
            )),
        }
    }
}

/// How an unreachable cluster behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// Connections are accepted and nothing is ever answered.
    Hang,
    /// Connections are accepted and closed at once; open connections are dropped.
    Close,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unreachable::Hang => "hang",
            Unreachable::Close => "close",
        })
    }
}

impl std::str::FromStr for Unreachable {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hang" => Ok(Unreachable::Hang),
            "close" => Ok(Unreachable::Close),
            other => Err(format!(
                "unknown unreachable mode {other:?} (expected hang or close)"
            )),
        }
    }
}

/// The faults of one cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    /// Added before every request is handled.
    pub latency: Duration,
    /// Probability (0..=1) of each injected error; at most one per request, drawn once.
    pub errors: Vec<(f64, ErrorKind)>,
    /// The server stops answering.
    pub unreachable: Option<Unreachable>,
    /// Seed of the random draws (for reproducible tests); random when unset.
    pub seed: Option<u64>,
    /// Every request is answered 503 with `Retry-After: 1` for this long, counted from
    /// when the settings are applied ([`Faults::new`], [`Faults::set`]) or from
    /// [`Faults::set_unavailable_for`].
    pub unavailable_for: Duration,
}

impl FaultConfig {
    /// True when no fault is configured.
    pub fn is_clear(&self) -> bool {
        self.latency.is_zero()
            && self.errors.is_empty()
            && self.unreachable.is_none()
            && self.unavailable_for.is_zero()
    }
}

/// Parse `RATE[:KIND]`: a rate as a fraction (`0.2`) or a percentage (`20%`), and an error
/// kind (`500` by default).
pub fn parse_error_rate(s: &str) -> Result<(f64, ErrorKind), String> {
    let (rate, kind) = match s.split_once(':') {
        Some((r, k)) => (r, k.parse::<ErrorKind>()?),
        None => (s, ErrorKind::Internal),
    };
    let value = match rate.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => rate.trim().parse::<f64>(),
    }
    .map_err(|_| format!("invalid error rate {rate:?} (expected e.g. 0.2 or 20%)"))?;
    if !(0.0..=1.0).contains(&value) || value.is_nan() {
        return Err(format!("error rate {rate:?} is outside 0..1 (0%..100%)"));
    }
    Ok((value, kind))
}

/// What to do with one request.
enum Action {
    Proceed,
    Fail(ApiError),
    Hang,
    /// Carry it out, then cut the answer.
    Close,
}

/// 503 with `Retry-After: 1`.
fn unavailable() -> ApiError {
    ApiError {
        code: 503,
        reason: "ServiceUnavailable",
        message: "injected fault: the simulated API server is unavailable (control plane \
                  under rollout)"
            .into(),
        details: Some(serde_json::json!({"retryAfterSeconds": 1})),
        retry_after: Some(1),
    }
}

/// The live fault settings of one cluster; shared by its server and whoever changes them.
pub struct Faults {
    config: Mutex<FaultConfig>,
    rng: Mutex<fastrand::Rng>,
    /// Bumped when open connections must be dropped.
    epoch: watch::Sender<u64>,
    /// Bumped when open connections, upgraded ones included, must be cut.
    cut: watch::Sender<u64>,
    /// Until when every request is answered 503 (see [`FaultConfig::unavailable_for`]).
    unavailable_until: Mutex<Option<Instant>>,
    /// How many of the next requests with each HTTP method and path fragment are carried
    /// out and their answers cut (see [`Faults::cut_next_answers`]).
    cut_next: Mutex<Vec<(String, String, usize)>>,
}

impl Faults {
    /// Faults as `config` says, changeable while the cluster runs.
    pub fn new(config: FaultConfig) -> Self {
        let rng = match config.seed {
            Some(s) => fastrand::Rng::with_seed(s),
            None => fastrand::Rng::new(),
        };
        let (epoch, _) = watch::channel(0);
        let (cut, _) = watch::channel(0);
        let until = until(config.unavailable_for);
        Faults {
            config: Mutex::new(config),
            rng: Mutex::new(rng),
            epoch,
            cut,
            unavailable_until: Mutex::new(until),
            cut_next: Mutex::new(Vec::new()),
        }
    }

    /// The current settings.
    pub fn config(&self) -> FaultConfig {
        self.config.lock().expect("faults lock").clone()
    }

    /// Replace all settings.
    pub fn set(&self, config: FaultConfig) {
        let close = config.unreachable == Some(Unreachable::Close);
        if let Some(seed) = config.seed {
            *self.rng.lock().expect("faults lock") = fastrand::Rng::with_seed(seed);
        }
        *self.unavailable_until.lock().expect("faults lock") = until(config.unavailable_for);
        *self.config.lock().expect("faults lock") = config;
        if close {
            self.epoch.send_modify(|e| *e += 1);
        }
    }

    /// Set the latency added to every request.
    pub fn set_latency(&self, latency: Duration) {
        self.config.lock().expect("faults lock").latency = latency;
    }

    /// Set the rate of one kind of error (0 removes it).
    pub fn set_error_rate(&self, kind: ErrorKind, rate: f64) {
        let mut c = self.config.lock().expect("faults lock");
        c.errors.retain(|(_, k)| *k != kind);
        if rate > 0.0 {
            c.errors.push((rate.min(1.0), kind));
        }
    }

    /// Make the cluster unreachable (`Some`) or reachable again (`None`).
    pub fn set_unreachable(&self, mode: Option<Unreachable>) {
        self.config.lock().expect("faults lock").unreachable = mode;
        if mode == Some(Unreachable::Close) {
            self.epoch.send_modify(|e| *e += 1);
        }
    }

    /// Answer every request 503 with `Retry-After: 1` for `window`, from now (zero ends
    /// such a window).
    pub fn set_unavailable_for(&self, window: Duration) {
        self.config.lock().expect("faults lock").unavailable_for = window;
        *self.unavailable_until.lock().expect("faults lock") = until(window);
    }

    /// Remove every fault.
    pub fn clear(&self) {
        self.cut_next.lock().expect("faults lock").clear();
        self.set(FaultConfig::default());
    }

    pub(crate) fn unreachable(&self) -> Option<Unreachable> {
        self.config.lock().expect("faults lock").unreachable
    }

    pub(crate) fn subscribe_epoch(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }

    pub(crate) fn subscribe_cut(&self) -> watch::Receiver<u64> {
        self.cut.subscribe()
    }

    /// Cut every open connection now, upgraded ones (port-forwards) and watches included,
    /// as an API server that restarts does; new connections are served as before.
    pub fn cut_connections(&self) {
        self.cut.send_modify(|e| *e += 1);
    }

    /// Carry out the next `n` requests with HTTP `method` (`DELETE`, `PATCH`, ...) whose
    /// path contains `path` (e.g. `/failoverservices/`) and cut each answer, as a
    /// connection lost after the server acted but before its answer arrived; the other
    /// requests are served as the settings say. Counted apart from the random error rates,
    /// so a test can lose exactly the answer it is about.
    pub fn cut_next_answers(&self, method: &str, path: &str, n: usize) {
        let method = method.to_ascii_uppercase();
        let mut next = self.cut_next.lock().expect("faults lock");
        next.retain(|(m, p, _)| !(*m == method && p == path));
        if n > 0 {
            next.push((method, path.to_string(), n));
        }
    }

    /// Whether this request's answer is one [`Faults::cut_next_answers`] asked to cut.
    fn take_cut_next(&self, method: &str, path: &str) -> bool {
        let mut next = self.cut_next.lock().expect("faults lock");
        let Some(i) = next
            .iter()
            .position(|(m, p, _)| m == method && path.contains(p.as_str()))
        else {
            return false;
        };
        next[i].2 -= 1;
        if next[i].2 == 0 {
            next.remove(i);
        }
        true
    }

    fn plan(&self) -> (Duration, Action) {
        let c = self.config.lock().expect("faults lock");
        if c.unreachable.is_some() {
            return (Duration::ZERO, Action::Hang);
        }
        let window = *self.unavailable_until.lock().expect("faults lock");
        if window.is_some_and(|t| Instant::now() < t) {
            return (c.latency, Action::Fail(unavailable()));
        }
        if c.errors.is_empty() {
            return (c.latency, Action::Proceed);
        }
        let draw = self.rng.lock().expect("faults lock").f64();
        let mut acc = 0.0;
        for (rate, kind) in &c.errors {
            acc += rate;
            if draw < acc {
                let action = match kind {
                    ErrorKind::Internal => Action::Fail(ApiError::internal(
                        "injected fault: the simulated API server failed this request",
                    )),
                    ErrorKind::TooManyRequests => Action::Fail(ApiError::too_many_requests(1)),
                    ErrorKind::Unavailable => Action::Fail(unavailable()),
                    ErrorKind::Timeout => Action::Hang,
                    ErrorKind::Close => Action::Close,
                };
                return (c.latency, action);
            }
        }
        (c.latency, Action::Proceed)
    }
}

/// axum middleware applying a cluster's faults to each request.
pub(crate) async fn fault_layer(
    State(faults): State<Arc<Faults>>,
    req: Request,
    next: Next,
) -> Response {
    let (latency, action) = faults.plan();
    let action = match action {
        Action::Proceed if faults.take_cut_next(req.method().as_str(), req.uri().path()) => {
            Action::Close
        }
        other => other,
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match action {
        Action::Proceed => next.run(req).await,
        Action::Fail(e) => error_response(&e).into_response(),
        Action::Hang => std::future::pending().await,
        Action::Close => {
            let conn = req.extensions().get::<ConnCut>().cloned();
            let resp = next.run(req).await;
            if resp.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS
                && let Some(conn) = conn
            {
                // An upgrade (a port-forward) has no body to cut: its connection is cut a
                // moment after the session began, in the middle of its traffic.
                let after = Duration::from_millis(fastrand::u64(100..=600));
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    conn.cut();
                });
            }
            cut(resp)
        }
    }
}

fn until(window: Duration) -> Option<Instant> {
    (!window.is_zero()).then(|| Instant::now() + window)
}

/// The answer's head as it is, its body cut in the middle of the first piece of data it
/// sends, then an error: hyper closes the connection without finishing the answer (for a
/// watch, in the middle of its first event).
fn cut(resp: Response) -> Response {
    if resp.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS {
        // An upgrade has no body to cut; its connection is cut (see fault_layer).
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    // A length would let the client tell a short answer at once; chunked, it learns only
    // from the closed connection, as with a server that dies mid-answer.
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let stream = futures::stream::unfold(
        (body.into_data_stream(), false),
        |(mut s, done)| async move {
            if done {
                return None;
            }
            let first = loop {
                match s.next().await {
                    Some(Ok(b)) if b.is_empty() => continue,
                    Some(Ok(b)) => break b,
                    _ => break Bytes::new(),
                }
            };
            let half = first.slice(..first.len() / 2);
            Some((Ok::<_, std::io::Error>(half), (s, true)))
        },
    )
    .chain(futures::stream::once(async {
        // A moment between the piece and the end: hyper writes out what it holds (the
        // head and the piece) when the body has nothing ready; an error straight after the
        // piece would close the connection with both still unwritten, and the client would
        // see a connection closed before any answer (that is `Unreachable::Close`).
        tokio::time::sleep(Duration::from_millis(10)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault: connection closed mid-answer",
        ))
    }));
    Response::from_parts(parts, axum::body::Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rates_parse() {
        assert_eq!(parse_error_rate("0.2").unwrap(), (0.2, ErrorKind::Internal));
        assert_eq!(
            parse_error_rate("20%:429").unwrap(),
            (0.2, ErrorKind::TooManyRequests)
        );
        assert_eq!(
            parse_error_rate("1:timeout").unwrap(),
            (1.0, ErrorKind::Timeout)
        );
        assert!(parse_error_rate("1.5").is_err());
        assert!(parse_error_rate("x").is_err());
        assert_eq!(
            parse_error_rate("0.1:503").unwrap(),
            (0.1, ErrorKind::Unavailable)
        );
        assert_eq!(
            parse_error_rate("5%:close").unwrap(),
            (0.05, ErrorKind::Close)
        );
        assert!(parse_error_rate("0.1:502").is_err());
    }

    #[test]
    fn draws_follow_the_rates() {
        let f = Faults::new(FaultConfig {
            errors: vec![
                (0.25, ErrorKind::Internal),
                (0.25, ErrorKind::TooManyRequests),
            ],
            seed: Some(7),
            ..Default::default()
        });
        let (mut e500, mut e429, mut ok) = (0, 0, 0);
        for _ in 0..4000 {
            match f.plan().1 {
                Action::Fail(e) if e.code == 500 => e500 += 1,
                Action::Fail(_) => e429 += 1,
                Action::Proceed => ok += 1,
                Action::Hang | Action::Close => panic!("no timeouts configured"),
            }
        }
        for n in [e500, e429] {
            assert!((850..1150).contains(&n), "{n} of 4000 at rate 0.25");
        }
        assert!((1800..2200).contains(&ok));
        f.set_error_rate(ErrorKind::Internal, 0.0);
        f.set_error_rate(ErrorKind::TooManyRequests, 0.0);
        assert!(matches!(f.plan().1, Action::Proceed));
        f.set_unreachable(Some(Unreachable::Hang));
        assert!(matches!(f.plan().1, Action::Hang));
    }
}
