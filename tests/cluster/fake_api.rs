//! A tiny fake Kubernetes API server for the cluster-core tests: fixed JSON answers per
//! path, plain `404 page not found` for anything else, and a mode that accepts connections
//! and never answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Default, Clone)]
pub(crate) struct Fake {
    routes: HashMap<String, (u16, Value)>,
    /// When set, every request must carry `Authorization: Bearer <token>` (else 401).
    bearer: Option<String>,
}

impl Fake {
    pub(crate) fn new(git_version: &str) -> Self {
        let mut f = Fake::default();
        let minor = git_version.split('.').nth(1).unwrap_or("0").to_string();
        f.routes.insert(
            "/version".into(),
            (
                200,
                json!({"major": "1", "minor": minor, "gitVersion": git_version, "gitCommit": "", "gitTreeState": "clean",
                       "buildDate": "", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"}),
            ),
        );
        f
    }

    /// Requires `Authorization: Bearer <token>` on every request.
    pub(crate) fn require_bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_string());
        self
    }

    /// Answers `path` with `code` and `body`.
    pub(crate) fn route(mut self, path: &str, code: u16, body: Value) -> Self {
        self.routes.insert(path.to_string(), (code, body));
        self
    }

    /// Answers `path` with a list of `items` of `kind`.
    pub(crate) fn list<T: Serialize>(
        self,
        path: &str,
        api_version: &str,
        kind: &str,
        items: &[T],
    ) -> Self {
        let items: Vec<Value> = items
            .iter()
            .map(|i| serde_json::to_value(i).expect("serializable fixture"))
            .collect();
        self.route(
            path,
            200,
            json!({"apiVersion": api_version, "kind": format!("{kind}List"), "metadata": {"resourceVersion": "1"}, "items": items}),
        )
    }

    /// `GET /apis` listing these `(group, version)` pairs.
    pub(crate) fn groups(self, groups: &[(&str, &str)]) -> Self {
        let gs: Vec<Value> = groups
            .iter()
            .map(|(g, v)| {
                json!({"name": g, "versions": [{"groupVersion": format!("{g}/{v}"), "version": v}],
                       "preferredVersion": {"groupVersion": format!("{g}/{v}"), "version": v}})
            })
            .collect();
        self.route(
            "/apis",
            200,
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": gs}),
        )
    }

    /// A Kubernetes `Status` error answer.
    pub(crate) fn status(self, path: &str, code: u16, reason: &str, message: &str) -> Self {
        self.route(
            path,
            code,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": message, "reason": reason, "code": code}),
        )
    }

    /// Serves on 127.0.0.1 on a free port, on the current tokio runtime.
    pub(crate) async fn serve(self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = self.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    }

    fn router(self) -> axum::Router {
        axum::Router::new()
            .fallback(handler)
            .with_state(Arc::new(self))
    }

    /// Serves HTTPS on 127.0.0.1 on a free port, on the current tokio runtime, with
    /// `tls` (which decides the server certificate and whether client certificates are
    /// required). Every failed TLS handshake's error is sent on the returned channel, so a
    /// test can check why the server turned a client away.
    pub(crate) async fn serve_tls(
        self,
        tls: Arc<rustls::ServerConfig>,
    ) -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let app = self.router();
        let (failures, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, app, failures) = (acceptor.clone(), app.clone(), failures.clone());
                tokio::spawn(async move {
                    let stream = match acceptor.accept(tcp).await {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = failures.send(e.to_string());
                            return;
                        }
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (addr, rx)
    }

    /// Serves on its own thread and runtime (for tests that run the binary).
    pub(crate) fn serve_in_thread(self) -> SocketAddr {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let addr = self.serve().await;
                tx.send(addr).expect("send addr");
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("fake server address")
    }
}

async fn handler(State(fake): State<Arc<Fake>>, req: Request) -> Response {
    if let Some(token) = &fake.bearer {
        let got = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if got != Some(format!("Bearer {token}").as_str()) {
            let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": "Unauthorized", "reason": "Unauthorized", "code": 401});
            return Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("response");
        }
    }
    match fake.routes.get(req.uri().path()) {
        Some((code, body)) => Response::builder()
            .status(StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("response"),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("404 page not found"))
            .expect("response"),
    }
}

/// A TCP listener that accepts connections and never answers. Keep it alive for the test.
pub(crate) async fn black_hole() -> (tokio::net::TcpListener, SocketAddr) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    (l, addr)
}

/// A port on 127.0.0.1 where nothing listens.
pub(crate) fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    addr
}

/// A kubeconfig with one context per `(context, server URL)`, token auth, the first
/// context current.
pub(crate) fn kubeconfig(contexts: &[(&str, String)]) -> String {
    let mut s = String::from("apiVersion: v1\nkind: Config\n");
    if let Some((first, _)) = contexts.first() {
        s.push_str(&format!("current-context: {first}\n"));
    }
    s.push_str("clusters:\n");
    for (name, server) in contexts {
        s.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {server}\n"
        ));
    }
    s.push_str("contexts:\n");
    for (name, _) in contexts {
        s.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: tester\n"
        ));
    }
    s.push_str("users:\n- name: tester\n  user:\n    token: test-token-not-secret\n");
    s
}
