//! Probe traffic through a port-forward to a client workload (bookinfo: productpage), as
//! `failover test` and the drill send it: HTTP/1.1 GETs over `pods/portforward` streams,
//! with a small pool of keep-alive connections so probes at a fixed rate can overlap.
//!
//! Every failure is an answer, not an error: a probe that times out, or whose pod port
//! refuses, is a [`ProbeResult::Transport`], which the drill counts as an error sample. A
//! probe whose own path breaks (the port-forward through the API server cannot be opened,
//! or its stream closes before the answer) is sent once more on a new port-forward within
//! its timeout; when that fails too it is [`ProbeResult::Lost`]: no answer from the data
//! plane, which the drill counts apart.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;

use crate::context::ClusterClient;
use crate::error::{ApiOp, ClusterError};
use smh_core::drill::classify::Answer;

/// Largest response body kept (bookinfo's productpage is about 5 KiB).
const MAX_BODY: usize = 1 << 20;
/// Idle connections kept for reuse.
const POOL: usize = 8;

/// What one probe got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeResult {
    /// An HTTP answer (from the application or from the sidecar).
    Http {
        /// The HTTP status code.
        status: u16,
        /// The body (at most 1 MiB kept).
        body: String,
    },
    /// No HTTP answer from the workload: its port refused, or no answer in time.
    Transport {
        /// What went wrong.
        error: String,
    },
    /// The probe's own path broke: the port-forward could not be opened, or its stream
    /// closed before the answer, twice.
    Lost {
        /// What went wrong.
        error: String,
    },
}

impl ProbeResult {
    /// The borrowed form the drill's classifier takes.
    pub fn as_answer(&self) -> Answer<'_> {
        match self {
            ProbeResult::Http { status, body } => Answer::Http {
                status: *status,
                body,
            },
            ProbeResult::Transport { error } | ProbeResult::Lost { error } => {
                Answer::Transport { error }
            }
        }
    }

    /// The HTTP status, when there was an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ProbeResult::Http { status, .. } => Some(*status),
            ProbeResult::Transport { .. } | ProbeResult::Lost { .. } => None,
        }
    }
}

/// Why no pod could be picked for probing.
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    /// The deployment has no label selector.
    #[error("deployment {namespace}/{name} has no label selector")]
    NoSelector {
        /// The deployment's namespace.
        namespace: String,
        /// The deployment's name.
        name: String,
    },
    /// The deployment's selector cannot be turned into a query.
    #[error("deployment {namespace}/{name}: spec.selector.{why}")]
    BadSelector {
        /// The deployment's namespace.
        namespace: String,
        /// The deployment's name.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// No pod of the deployment is running and ready.
    #[error("deployment {namespace}/{name} has no running, ready pod to port-forward to")]
    NoReadyPod {
        /// The deployment's namespace.
        namespace: String,
        /// The deployment's name.
        name: String,
    },
    /// A request failed: `op` says which (getting the deployment, listing its pods).
    #[error("{source}")]
    Api {
        /// The request that failed.
        op: ApiOp,
        #[source]
        /// The client library's error.
        source: kube::Error,
    },
}

/// A running, ready pod of a deployment (by its selector: `matchLabels` and
/// `matchExpressions`, which the API server matches), the first by name, as
/// `kubectl port-forward deployments/NAME` picks one.
pub async fn pick_pod(
    client: &kube::Client,
    namespace: &str,
    deployment: &str,
) -> Result<String, PickError> {
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let d = deploys
        .get(deployment)
        .await
        .map_err(|source| PickError::Api {
            op: ApiOp::typed::<Deployment>("get", Some(namespace), Some(deployment)),
            source,
        })?;
    let selector = d.spec.map(|s| s.selector).unwrap_or_default();
    let query = match crate::labels::selector_query(&selector) {
        Ok(q) => q,
        Err(crate::labels::SelectorError::Empty) => {
            return Err(PickError::NoSelector {
                namespace: namespace.into(),
                name: deployment.into(),
            });
        }
        Err(e) => {
            return Err(PickError::BadSelector {
                namespace: namespace.into(),
                name: deployment.into(),
                why: e.to_string(),
            });
        }
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut list = pods
        .list(&ListParams::default().labels(&query))
        .await
        .map_err(|source| PickError::Api {
            op: ApiOp::typed::<Pod>("list", Some(namespace), None),
            source,
        })?
        .items;
    list.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    list.into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none() && is_running_and_ready(p))
        .find_map(|p| p.metadata.name)
        .ok_or_else(|| PickError::NoReadyPod {
            namespace: namespace.into(),
            name: deployment.into(),
        })
}

/// Preflight for the probes, before anything is changed: opens one port-forward to
/// `namespace/pod:port` and closes it again. The API server's refusal is an error: a 403 is
/// [`ClusterError::PortForwardForbidden`] (naming the verbs the probes need and the
/// `kubectl auth can-i` lines to check them), a 401 [`ClusterError::Unauthorized`]. Any other
/// failure (the pod went away, a refused port) is left to the probes, which report every
/// failed port-forward as an answer.
pub async fn check_port_forward(
    c: &ClusterClient,
    namespace: &str,
    pod: &str,
    port: u16,
) -> Result<(), ClusterError> {
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), namespace);
    match pods.portforward(pod, &[port]).await {
        Ok(pf) => {
            pf.abort();
            Ok(())
        }
        Err(kube::Error::Api(status)) if status.code == 403 => {
            Err(ClusterError::PortForwardForbidden {
                target: c.target.clone(),
                namespace: namespace.to_string(),
                pod: pod.to_string(),
                message: status.message.trim().to_string(),
            })
        }
        Err(kube::Error::Api(status)) if status.code == 401 => Err(ClusterError::from_status(
            c.target.clone(),
            ApiOp {
                verb: "get",
                group: String::new(),
                version: "v1".into(),
                resource: "pods/portforward".into(),
                namespace: Some(namespace.to_string()),
                name: Some(pod.to_string()),
            },
            &status,
        )),
        Err(_) => Ok(()),
    }
}

fn is_running_and_ready(p: &Pod) -> bool {
    let Some(status) = &p.status else {
        return false;
    };
    status.phase.as_deref() == Some("Running")
        && status
            .conditions
            .as_ref()
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Sends probes to one pod port through port-forwards.
pub struct Prober {
    pods: Api<Pod>,
    pod: String,
    port: u16,
    timeout: Duration,
    idle: Mutex<Vec<Conn>>,
    reconnects: AtomicU64,
}

/// One connection to the pod port, over its own port-forward.
struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    /// Set to `Some(true)` when the port-forward ended with an error (its stream broke),
    /// `Some(false)` when it ended cleanly (the pod closed the connection).
    ended: tokio::sync::watch::Receiver<Option<bool>>,
}

impl Conn {
    /// Whether this connection's port-forward broke (waiting a moment for its end to be
    /// known: the request fails as the stream breaks, the port-forward's end follows).
    async fn broke(&mut self) -> bool {
        let ended = tokio::time::timeout(
            Duration::from_millis(500),
            self.ended.wait_for(Option::is_some),
        )
        .await;
        matches!(ended, Ok(Ok(v)) if *v == Some(true))
    }
}

/// Why a port-forward gave no connection.
enum ConnectError {
    /// The workload's port refused (the data plane's answer).
    Workload(String),
    /// The port-forward itself failed (the probe's own path).
    PortForward(String),
}

impl Prober {
    /// A prober for `namespace/pod:port`; each probe gives up after `timeout`.
    pub fn new(
        client: kube::Client,
        namespace: &str,
        pod: &str,
        port: u16,
        timeout: Duration,
    ) -> Self {
        Prober {
            pods: Api::namespaced(client, namespace),
            pod: pod.to_string(),
            port,
            timeout,
            idle: Mutex::new(Vec::new()),
            reconnects: AtomicU64::new(0),
        }
    }

    /// How many times a port-forward was opened again after one broke.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// The pod probes go to.
    pub fn pod(&self) -> &str {
        &self.pod
    }

    /// GET `path`; never fails, a failure is a `Transport` answer. Returns the answer and the
    /// time it took.
    pub async fn get(&self, path: &str) -> (ProbeResult, Duration) {
        let start = Instant::now();
        let result = match tokio::time::timeout(self.timeout, self.get_inner(path)).await {
            Ok(r) => r,
            Err(_) => ProbeResult::Transport {
                error: format!("no answer within {:?}", self.timeout),
            },
        };
        (result, start.elapsed())
    }

    async fn get_inner(&self, path: &str) -> ProbeResult {
        // Try an idle connection first. One that fails says nothing about the data plane
        // (the pod may have closed it, or its port-forward broke): the probe goes to a fresh
        // port-forward, counted as re-established when the old one broke.
        let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        if let Some(conn) = idle {
            match self.send(conn, path, true).await {
                Ok(result) => return result,
                Err(mut conn) => {
                    if conn.broke().await {
                        self.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        // A fresh port-forward; when it breaks, one more (within the probe's timeout).
        let mut broke = String::new();
        for round in 0..2 {
            if round == 1 {
                self.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            match self.connect().await {
                Ok(conn) => match self.send(conn, path, false).await {
                    Ok(r @ ProbeResult::Http { .. }) => return r,
                    Ok(ProbeResult::Transport { error } | ProbeResult::Lost { error }) => {
                        broke = error;
                    }
                    Err(_) => broke = "connection closed before an answer".into(),
                },
                Err(ConnectError::Workload(error)) => return ProbeResult::Transport { error },
                Err(ConnectError::PortForward(error)) => broke = error,
            }
        }
        ProbeResult::Lost { error: broke }
    }

    /// Send on `conn`. `Err` (the connection back) when a reused connection failed before
    /// its whole answer (the caller tries a fresh one).
    async fn send(&self, mut conn: Conn, path: &str, reused: bool) -> Result<ProbeResult, Conn> {
        if conn.sender.ready().await.is_err() {
            return if reused {
                Err(conn)
            } else {
                Ok(ProbeResult::Transport {
                    error: "connection closed".into(),
                })
            };
        }
        let req = match hyper::Request::get(path)
            .header(hyper::header::HOST, format!("localhost:{}", self.port))
            .header(
                hyper::header::USER_AGENT,
                concat!("kubectl-smh/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::<Bytes>::new())
        {
            Ok(r) => r,
            Err(e) => {
                return Ok(ProbeResult::Transport {
                    error: format!("bad probe path {path:?}: {e}"),
                });
            }
        };
        let resp = match conn.sender.send_request(req).await {
            Ok(r) => r,
            Err(_) if reused => return Err(conn),
            Err(e) => {
                return Ok(ProbeResult::Transport {
                    error: transport_message(&e),
                });
            }
        };
        let status = resp.status().as_u16();
        let body = match resp.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) if reused => return Err(conn),
            Err(e) => {
                return Ok(ProbeResult::Transport {
                    error: transport_message(&e),
                });
            }
        };
        let body = String::from_utf8_lossy(&body[..body.len().min(MAX_BODY)]).into_owned();
        if !conn.sender.is_closed()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < POOL
        {
            idle.push(conn);
        }
        Ok(ProbeResult::Http { status, body })
    }

    async fn connect(&self) -> Result<Conn, ConnectError> {
        let mut pf = self
            .pods
            .portforward(&self.pod, &[self.port])
            .await
            .map_err(|e| {
                ConnectError::PortForward(format!(
                    "port-forward to pod {} port {}: {e}",
                    self.pod, self.port
                ))
            })?;
        let stream = pf.take_stream(self.port).ok_or_else(|| {
            ConnectError::PortForward(format!(
                "port-forward to pod {} gave no stream for port {}",
                self.pod, self.port
            ))
        })?;
        let error = pf.take_error(self.port);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ConnectError::PortForward(transport_message(&e)))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        // The port-forward task ends by itself when the stream closes; how it ended tells a
        // broken port-forward from a connection the pod closed.
        let (ended_tx, ended) = tokio::sync::watch::channel(None);
        tokio::spawn(async move {
            let broke = pf.join().await.is_err();
            ended_tx.send_replace(Some(broke));
        });
        // A refused pod port shows up on the error channel right away.
        if let Some(error) = error
            && let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(50), error).await
        {
            return Err(ConnectError::Workload(format!(
                "port-forward to pod {} port {}: {msg}",
                self.pod, self.port
            )));
        }
        Ok(Conn { sender, ended })
    }
}

fn transport_message(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
