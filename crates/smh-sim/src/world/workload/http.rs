//! A minimal HTTP/1.1 server and client on loopback for the simulated pods (hyper).
//!
//! The server task owns its listener and every connection task, so aborting it closes the
//! port and drops open connections at once: a stopped pod really stops answering. The
//! client opens one connection per request (no pooling), so a request always reaches the
//! pod the data plane chose.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A request as a simulated application sees it.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpRequest {
    /// The method (the applications' request logs show it).
    pub method: String,
    /// Path with query string.
    pub path: String,
    /// Lowercase header names.
    pub headers: BTreeMap<String, String>,
}

impl HttpRequest {
    /// The path without the query string.
    pub(crate) fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

/// A response, from an application or from a sidecar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names and values, in order (names as written).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl HttpResponse {
    /// A response with `content-type` set.
    pub fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A `text/plain` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self::new(status, "text/plain", body.into())
    }

    /// An `application/json` response.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::new(status, "application/json", body.into())
    }

    /// An HTML response.
    pub fn html(status: u16, body: impl Into<String>) -> Self {
        Self::new(status, "text/html; charset=utf-8", body.into())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An outbound request from an application (`http://<authority><path>`).
#[derive(Debug, Clone, Default)]
pub struct OutboundRequest {
    /// The HTTP method.
    pub method: String,
    /// `host[:port]` as in the URL.
    pub authority: String,
    /// Path with query string.
    pub path: String,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl OutboundRequest {
    /// A `GET` of `path` from `authority`, without headers or body.
    pub fn get(authority: &str, path: &str) -> Self {
        OutboundRequest {
            method: "GET".into(),
            authority: authority.into(),
            path: path.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The connection could not be made.
    #[error("connection refused or failed: {0}")]
    Connect(String),
    /// The connection closed before a response.
    #[error("connection reset before a response: {0}")]
    Reset(String),
    /// No response within the timeout.
    #[error("no response in time")]
    Timeout,
}

/// What a handler returns: its response, later.
pub type BoxFuture = Pin<Box<dyn Future<Output = HttpResponse> + Send>>;
/// An application's request handler.
pub(crate) type Handler = Arc<dyn Fn(HttpRequest) -> BoxFuture + Send + Sync>;

fn to_hyper(r: HttpResponse) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder().status(r.status);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(r.body)).unwrap_or_else(|_| {
        let mut resp = hyper::Response::new(Full::new(Bytes::from_static(b"bad response")));
        *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        resp
    })
}

/// Serve `handler` on `listener` until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, handler: Handler) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let handler = handler.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<Incoming>| {
                        let handler = handler.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            // Read to the end before answering; no simulated app uses it.
                            let _ = body.collect().await;
                            let headers = parts
                                .headers
                                .iter()
                                .filter_map(|(k, v)| {
                                    v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string()))
                                })
                                .collect();
                            let path = parts
                                .uri
                                .path_and_query()
                                .map(|p| p.as_str().to_string())
                                .unwrap_or_else(|| "/".into());
                            let resp = handler(HttpRequest {
                                method: parts.method.as_str().to_string(),
                                path,
                                headers,
                            })
                            .await;
                            Ok::<_, Infallible>(to_hyper(resp))
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Bind `127.0.0.1:0` and serve `handler` there; returns the address and the task.
pub(crate) async fn spawn_server(
    handler: Handler,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    Ok((addr, tokio::spawn(serve(listener, handler))))
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Send one request to `addr` on a fresh connection.
pub async fn fetch(
    addr: SocketAddr,
    req: &OutboundRequest,
    timeout: Option<Duration>,
) -> Result<HttpResponse, FetchError> {
    let exchange = async {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| FetchError::Connect(e.to_string()))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| FetchError::Reset(e.to_string()))?;
        let _driver = AbortOnDrop(tokio::spawn(async move {
            let _ = conn.await;
        }));
        let mut b = hyper::Request::builder()
            .method(req.method.as_str())
            .uri(if req.path.is_empty() {
                "/"
            } else {
                req.path.as_str()
            })
            .header("host", req.authority.as_str());
        for (k, v) in &req.headers {
            if !k.eq_ignore_ascii_case("host") {
                b = b.header(k.as_str(), v.as_str());
            }
        }
        let request = b
            .body(Full::new(req.body.clone()))
            .map_err(|e| FetchError::Reset(format!("bad request: {e}")))?;
        let resp = sender
            .send_request(request)
            .await
            .map_err(|e| FetchError::Reset(e.to_string()))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_string(), v.to_string()))
            })
            .collect();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| FetchError::Reset(e.to_string()))?
            .to_bytes();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    };
    match timeout {
        Some(t) => tokio::time::timeout(t, exchange)
            .await
            .map_err(|_| FetchError::Timeout)?,
        None => exchange.await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_and_fetches_and_stops() {
        let handler: Handler = Arc::new(|req: HttpRequest| {
            Box::pin(async move { HttpResponse::text(200, format!("{} {}", req.method, req.path)) })
                as BoxFuture
        });
        let (addr, task) = spawn_server(handler).await.unwrap();
        let r = fetch(addr, &OutboundRequest::get("x:1", "/a?b=1"), None)
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body_text(), "GET /a?b=1");
        task.abort();
        let _ = task.await;
        let err = fetch(addr, &OutboundRequest::get("x:1", "/"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Connect(_)), "{err:?}");
    }
}
