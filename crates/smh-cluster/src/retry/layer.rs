//! The tower layer: sends each attempt, reads answers whole (so that a connection closed
//! mid-response is an error this layer sees), and decides with the functions of
//! [`super`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use kube::client::Body;
use tower::{BoxError, Layer, Service, ServiceExt};

use super::{RetryEvent, RetryOptions, Safety};

/// The answers this layer gives: read whole, or streamed (watches, upgrades).
pub(crate) type RetryBody = UnsyncBoxBody<Bytes, BoxError>;

/// What one client's layer knows: the options, the cluster to name in the log and the
/// timeout of one attempt.
pub(crate) struct Policy {
    pub(crate) options: RetryOptions,
    pub(crate) cluster: String,
    pub(crate) request_timeout: Duration,
}

/// Adds [`Retry`] to a service stack.
#[derive(Clone)]
pub(crate) struct RetryLayer {
    policy: Arc<Policy>,
}

impl RetryLayer {
    pub(crate) fn new(policy: Policy) -> Self {
        RetryLayer {
            policy: Arc::new(policy),
        }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;
    fn layer(&self, inner: S) -> Retry<S> {
        Retry {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The retrying service.
#[derive(Clone)]
pub(crate) struct Retry<S> {
    inner: S,
    policy: Arc<Policy>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<Body>> for Retry<S>
where
    S: Service<Request<Body>, Response = Response<B>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<RetryBody>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Response<RetryBody>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The service polled ready is the one to call first.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let policy = self.policy.clone();
        Box::pin(run(inner, policy, req))
    }
}

/// How one attempt ended.
enum Outcome {
    Answer(Response<RetryBody>),
    Failed(BoxError),
}

async fn run<S, B>(
    mut inner: S,
    policy: Arc<Policy>,
    req: Request<Body>,
) -> Result<Response<RetryBody>, BoxError>
where
    S: Service<Request<Body>, Response = Response<B>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let streaming = super::is_streaming(req.uri(), req.headers());
    // Only a body held whole can be sent again.
    let body = match req.body().try_clone() {
        Some(b) if policy.options.retry_timeout > Duration::ZERO => {
            Some(b.collect().await.map(|c| c.to_bytes()).unwrap_or_default())
        }
        _ => None,
    };
    let safe = body.as_ref().is_some_and(|b| {
        super::safety(req.method(), req.uri(), req.headers(), Some(b)) == Safety::Safe
    });
    if !safe {
        let (out, answered) = attempt(&mut inner, req, streaming, policy.request_timeout).await;
        if answered {
            policy.options.stats.mark_answered(&policy.cluster);
        }
        return finish(out);
    }
    let body = body.unwrap_or_default();
    let (parts, _) = req.into_parts();
    let stats = &policy.options.stats;
    let mut n: u32 = 0;
    // The retry under way, counted against the budget until its answer.
    let mut under_way: Option<super::BudgetGuard> = None;
    loop {
        n += 1;
        if n > 1 {
            inner.ready().await?;
        }
        let mut again = Request::builder()
            .method(parts.method.clone())
            .uri(parts.uri.clone())
            .version(parts.version)
            .body(Body::from(body.clone()))?;
        *again.headers_mut() = parts.headers.clone();
        *again.extensions_mut() = parts.extensions.clone();
        let (out, answered) = attempt(&mut inner, again, streaming, policy.request_timeout).await;
        drop(under_way.take());
        if answered {
            stats.mark_answered(&policy.cluster);
        }
        let (cause, server_wait) = match &out {
            Outcome::Answer(r) if super::transient_status(r.status()) => {
                (r.status().to_string(), super::retry_after(r.headers()))
            }
            Outcome::Failed(e) if super::transient_error(e.as_ref()) => {
                // A cluster that never answered: a refused or closed connection is final,
                // a timeout is tried a few times only.
                if !stats.has_answered(&policy.cluster)
                    && (!super::is_timeout(e.as_ref()) || n > super::UNANSWERED_TIMEOUT_RETRIES)
                {
                    return finish(out);
                }
                (crate::error::innermost(e.as_ref()), None)
            }
            _ => return finish(out),
        };
        let wait = super::backoff(n, fastrand::f64(), server_wait);
        let Some(guard) = stats.begin_retry(wait, policy.options.retry_timeout) else {
            stats.count_exhausted();
            return finish(out);
        };
        under_way = Some(guard);
        let (verb, resource) = super::describe(&parts.method, &parts.uri, &parts.headers);
        stats.count_retry();
        if let Some(log) = &policy.options.log {
            log(&RetryEvent {
                cluster: policy.cluster.clone(),
                verb,
                resource,
                cause,
                attempt: n,
                wait,
            });
        }
        drop(out);
        tokio::time::sleep(wait).await;
    }
}

fn finish(out: Outcome) -> Result<Response<RetryBody>, BoxError> {
    match out {
        Outcome::Answer(r) => Ok(r),
        Outcome::Failed(e) => Err(e),
    }
}

/// One attempt: its answer must begin within `timeout` (for every request, streams too);
/// after that, a whole answer is read under the connector's read timeout (each wait for
/// bytes, as before this layer), a stream is handed on as it is. Also says whether the
/// server answered (an HTTP head arrived, even if the body was then cut).
async fn attempt<S, B>(
    inner: &mut S,
    req: Request<Body>,
    streaming: bool,
    timeout: Duration,
) -> (Outcome, bool)
where
    S: Service<Request<Body>, Response = Response<B>, Error = BoxError>,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let resp = match tokio::time::timeout(timeout, inner.call(req)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return (Outcome::Failed(e), false),
        Err(_) => {
            let e = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {}", crate::error::secs(timeout)),
            );
            return (Outcome::Failed(Box::new(e)), false);
        }
    };
    if streaming {
        let out = Outcome::Answer(resp.map(|b| b.map_err(Into::into).boxed_unsync()));
        return (out, true);
    }
    let (parts, body) = resp.into_parts();
    match body.collect().await {
        Ok(c) => {
            let body = http_body_util::Full::new(c.to_bytes())
                .map_err(|never| match never {})
                .boxed_unsync();
            (Outcome::Answer(Response::from_parts(parts, body)), true)
        }
        Err(e) => (Outcome::Failed(e.into()), true),
    }
}
