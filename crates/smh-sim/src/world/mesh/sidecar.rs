//! The async shell around the data-plane core: a pod's sidecar (or, for a pod without one,
//! plain Kubernetes service networking, or ztunnel for an ambient pod: see
//! [`ztunnel`](super::ztunnel)) that applications send their outbound HTTP through.
//!
//! [`Sidecar::send`] rebuilds the proxy configuration whenever any cluster of the fleet
//! changed, lets [`Proxy`] route and pick hosts, and performs each attempt as a real HTTP
//! request over loopback to the pod the host's IP belongs to (a host that is another
//! cluster's ingress gateway forwards to a ready endpoint of the target service there).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::istio::{self, ProxyIdentity};
use super::outlier::AttemptResult;
use super::proxy::{AfterAttempt, Exchange, LocalReply, Pick, Proxy, Request};
use super::rng::Rng;
use super::xds::{Endpoint, GatewayHop};
use crate::world::fleet::Fleet;
use crate::world::obj::{self, str_at};
use crate::world::workload::http::{FetchError, HttpResponse, OutboundRequest, fetch};

/// Monotonic time for the data plane, as a [`Duration`] since an origin.
pub(crate) trait Clock: Send + Sync {
    fn now(&self) -> Duration;
}

/// The real clock.
pub(crate) struct SystemClock(Instant);

impl SystemClock {
    pub(crate) fn new() -> Self {
        SystemClock(Instant::now())
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// Why an application got no HTTP response at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CallError {
    #[error("could not resolve host {0}")]
    Dns(String),
    #[error("{0}")]
    Fetch(#[from] FetchError),
}

/// One upstream attempt as a sidecar routed it. An observation hook for benchmarks and
/// tests (for example: when did the data plane first send a request to the secondary?); it
/// changes nothing in the routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedAttempt {
    /// When the host was picked (real time, whatever the sidecar's [`Clock`]).
    pub at: Instant,
    /// The endpoint cluster, e.g. `outbound|9080||reviews.bookinfo.svc.cluster.local` (a
    /// sub-cluster when the route's cluster is an aggregate).
    pub cluster: String,
    /// The priority level it was picked from ([`Pick::level`]).
    pub level: usize,
}

/// How many attempts [`Sidecar::routing_log`] keeps (the most recent ones).
pub(crate) const ROUTING_LOG: usize = 4096;

struct SidecarState {
    proxy: Proxy,
    version: Vec<(String, u64)>,
}

/// The client-side Istio sidecar of one pod.
pub struct Sidecar {
    identity: ProxyIdentity,
    fleet: Arc<Fleet>,
    clock: Arc<dyn Clock>,
    state: Mutex<SidecarState>,
    routing: Mutex<VecDeque<RoutedAttempt>>,
}

pub(crate) fn split_authority(authority: &str) -> (String, u16) {
    match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => {
            (h.to_ascii_lowercase(), p.parse().unwrap_or(80))
        }
        _ => (authority.to_ascii_lowercase(), 80),
    }
}

fn local_response(r: &LocalReply) -> HttpResponse {
    let mut resp = HttpResponse::text(r.status, r.body.clone());
    resp.headers.push(("server".into(), "envoy".into()));
    if let Some(l) = &r.location {
        resp.headers.push(("location".into(), l.clone()));
    }
    resp
}

impl Sidecar {
    /// A sidecar for a pod; `seed` makes its random choices repeatable.
    pub(crate) fn new(
        identity: ProxyIdentity,
        fleet: Arc<Fleet>,
        clock: Arc<dyn Clock>,
        seed: &str,
    ) -> Self {
        Sidecar {
            identity,
            fleet,
            clock,
            state: Mutex::new(SidecarState {
                proxy: Proxy::new(Rng::seed_from(seed)),
                version: Vec::new(),
            }),
            routing: Mutex::new(VecDeque::new()),
        }
    }

    /// The most recent upstream attempts (up to [`ROUTING_LOG`]), oldest first.
    pub fn routing_log(&self) -> Vec<RoutedAttempt> {
        self.routing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    fn record(&self, pick: &Pick) {
        let mut log = self.routing.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= ROUTING_LOG {
            log.pop_front();
        }
        log.push_back(RoutedAttempt {
            at: Instant::now(),
            cluster: pick.cluster.clone(),
            level: pick.level(),
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SidecarState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Apply the current configuration if anything in the fleet changed.
    pub fn refresh(&self) {
        let version = self.fleet.version();
        if self.lock().version == version {
            return;
        }
        let inputs = super::inputs::collect(&self.fleet, &self.identity);
        let config = istio::build(&inputs);
        let now = self.clock.now();
        let mut st = self.lock();
        // Resource versions only grow: never replace a newer configuration that a
        // concurrent request applied meanwhile with this older one.
        let older = st.version.iter().any(|(name, rv)| {
            version
                .iter()
                .find(|(n, _)| n == name)
                .is_some_and(|(_, v)| v < rv)
        });
        if !older {
            st.proxy.update_config(config, now);
            st.version = version;
        }
    }

    fn resolves(&self, host: &str) -> bool {
        let st = self.lock();
        st.proxy
            .config()
            .routes
            .values()
            .flatten()
            .any(|vh| vh.domains.iter().any(|d| d == host))
    }

    /// Send a request through the sidecar, as an application's HTTP client would.
    pub(crate) async fn send(&self, req: OutboundRequest) -> Result<HttpResponse, CallError> {
        let authority = req.authority.clone();
        self.send_for(req, &authority).await
    }

    /// Send a request that this proxy routes as one for `authority` (`host:port`), whatever
    /// its own authority: how a waypoint handles what ztunnel sends it for a Service or
    /// ServiceEntry (it routes by the destination, not by the Host header).
    pub(crate) async fn send_for(
        &self,
        req: OutboundRequest,
        authority: &str,
    ) -> Result<HttpResponse, CallError> {
        self.refresh();
        let (host, port) = split_authority(authority);
        let request = Request {
            authority: authority.to_ascii_lowercase(),
            port,
            method: req.method.clone(),
            path: req.path.clone(),
            headers: req
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
        };
        let started = self.lock().proxy.start(&request, self.clock.now());
        let mut ex = match started {
            Ok(ex) => ex,
            Err(reply) if reply.flag == "NR" && !self.resolves(&host) => {
                return Err(CallError::Dns(host));
            }
            Err(reply) => return Ok(local_response(&reply)),
        };
        if let Some(d) = ex.fault_delay {
            tokio::time::sleep(d).await;
        }
        if let Some(r) = &ex.immediate {
            return Ok(local_response(r));
        }
        loop {
            let picked = self.lock().proxy.next_attempt(&mut ex, self.clock.now());
            let pick = match picked {
                Ok(p) => p,
                Err(reply) => return Ok(local_response(&reply)),
            };
            self.record(&pick);
            let mut upstream = req.clone();
            upstream.path = ex.path.clone();
            upstream.headers.push((
                "x-envoy-attempt-count".into(),
                (ex.attempts() + 1).to_string(),
            ));
            let outcome = self.perform(&pick, &upstream).await;
            let result = match &outcome {
                Ok(r) => AttemptResult::Http(r.status),
                Err(e) => *e,
            };
            let next = self
                .lock()
                .proxy
                .finish_attempt(&mut ex, &pick, result, self.clock.now());
            match next {
                AfterAttempt::Retry(backoff) => {
                    // A caller that goes away during the back-off must not keep the retry
                    // counted against the circuit breaker.
                    let mut waiting = WaitingRetry {
                        sidecar: self,
                        ex: Some(&mut ex),
                    };
                    tokio::time::sleep(backoff).await;
                    waiting.ex = None;
                }
                AfterAttempt::Respond => {
                    return Ok(outcome.unwrap_or_else(|_| HttpResponse::text(503, "")));
                }
                AfterAttempt::Reply(reply) => return Ok(local_response(&reply)),
            }
        }
    }

    async fn perform(
        &self,
        pick: &Pick,
        req: &OutboundRequest,
    ) -> Result<HttpResponse, AttemptResult> {
        let (addr, via_gateway) = match &pick.endpoint.via_gateway {
            Some(hop) => (gateway_target(&self.fleet, hop), true),
            None => (pod_target(&self.fleet, &pick.endpoint), false),
        };
        let Some(addr) = addr else {
            return Err(if via_gateway {
                AttemptResult::Reset
            } else {
                AttemptResult::ConnectFailed
            });
        };
        match fetch(addr, req, pick.timeout).await {
            Ok(r) => Ok(r),
            Err(FetchError::Connect(_)) if via_gateway => Err(AttemptResult::Reset),
            Err(FetchError::Connect(_)) => Err(AttemptResult::ConnectFailed),
            Err(FetchError::Reset(_)) => Err(AttemptResult::Reset),
            Err(FetchError::Timeout) => Err(AttemptResult::Timeout),
        }
    }
}

/// Where a pod endpoint really listens.
pub(crate) fn pod_target(fleet: &Fleet, ep: &Endpoint) -> Option<std::net::SocketAddr> {
    match &ep.cluster {
        Some(c) => fleet.member(c)?.net.resolve(&ep.ip, ep.port),
        None => fleet
            .members()
            .into_iter()
            .find_map(|(_, m)| m.net.resolve(&ep.ip, ep.port)),
    }
}

/// The remote ingress gateway: rewrite `.<cluster>.global` to `.cluster.local` (SMH's
/// `tcp_cluster_rewrite`) and forward to a ready endpoint of that service in its cluster.
fn gateway_target(fleet: &Fleet, hop: &GatewayHop) -> Option<std::net::SocketAddr> {
    let local = hop
        .sni_host
        .strip_suffix(&format!(".{}.global", hop.cluster))?;
    let mut parts = local.split('.');
    let (svc, ns) = (parts.next()?, parts.next()?);
    if parts.next() != Some("svc") || parts.next().is_some() {
        return None;
    }
    service_target(fleet, &hop.cluster, ns, svc, hop.port)
}

/// A ready endpoint of Service `ns/svc` port `port` in `cluster`, round-robin, resolved to
/// where it listens (`None` when there is none, or nothing listens there).
fn service_target(
    fleet: &Fleet,
    cluster: &str,
    ns: &str,
    svc: &str,
    port: u16,
) -> Option<std::net::SocketAddr> {
    let member = fleet.member(cluster)?;
    let service = member.store.get(&obj::services(), ns, svc)?;
    let port_name = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)?
        .iter()
        .find(|p| p.get("port").and_then(Value::as_u64) == Some(u64::from(port)))
        .map(|p| str_at(p, "/name").to_string())?;
    let endpoints = member.store.get(&obj::endpoints(), ns, svc)?;
    let mut targets: Vec<(String, u16)> = Vec::new();
    for subset in endpoints.get("subsets").and_then(Value::as_array)? {
        let Some(target_port) = subset
            .get("ports")
            .and_then(Value::as_array)
            .and_then(|ps| ps.iter().find(|p| str_at(p, "/name") == port_name))
            .and_then(|p| p.get("port").and_then(Value::as_u64))
            .and_then(|p| u16::try_from(p).ok())
        else {
            continue;
        };
        for a in subset
            .get("addresses")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            targets.push((str_at(&a, "/ip").to_string(), target_port));
        }
    }
    if targets.is_empty() {
        return None;
    }
    targets.sort();
    let i = fleet.next_rr(&format!("{cluster}/{ns}/{svc}:{port}")) as usize % targets.len();
    let (ip, target_port) = &targets[i];
    member.net.resolve(ip, *target_port)
}

/// A retry waiting for its back-off; dropped before the back-off ends (the caller went
/// away), it releases the retry from the circuit breaker's count.
struct WaitingRetry<'a> {
    sidecar: &'a Sidecar,
    ex: Option<&'a mut Exchange>,
}

impl Drop for WaitingRetry<'_> {
    fn drop(&mut self) {
        if let Some(ex) = self.ex.take() {
            self.sidecar.lock().proxy.release_retry(ex);
        }
    }
}

/// Plain Kubernetes service networking for a pod without a sidecar: cluster DNS names of
/// the pod's cluster, round-robin over the ready endpoints (as kube-proxy would, without
/// retries or outlier detection).
pub(crate) struct Direct {
    cluster: String,
    namespace: String,
    fleet: Arc<Fleet>,
}

impl Direct {
    pub(crate) fn new(cluster: &str, namespace: &str, fleet: Arc<Fleet>) -> Self {
        Direct {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            fleet,
        }
    }

    pub(crate) async fn send(
        &self,
        req: OutboundRequest,
        timeout: Option<Duration>,
    ) -> Result<HttpResponse, CallError> {
        let (host, port) = split_authority(&req.authority);
        let member = self
            .fleet
            .member(&self.cluster)
            .ok_or_else(|| CallError::Dns(host.clone()))?;
        let labels: Vec<&str> = host.split('.').collect();
        let (svc, ns) = match labels.as_slice() {
            [svc] => (*svc, self.namespace.as_str()),
            [svc, ns] | [svc, ns, "svc"] | [svc, ns, "svc", "cluster", "local"] => (*svc, *ns),
            _ => return Err(CallError::Dns(host.clone())),
        };
        if member.store.get(&obj::services(), ns, svc).is_none() {
            return Err(CallError::Dns(host.clone()));
        }
        let addr = service_target(&self.fleet, &self.cluster, ns, svc, port).ok_or_else(|| {
            CallError::Fetch(FetchError::Connect(format!(
                "{host}:{port}: no ready endpoint"
            )))
        })?;
        Ok(fetch(addr, &req, timeout).await?)
    }
}

/// How an application's outbound requests leave its pod.
#[derive(Clone)]
pub(crate) enum Outbound {
    Sidecar(Arc<Sidecar>),
    Direct(Arc<Direct>),
    /// An ambient pod: ztunnel carries its traffic.
    Ambient(Arc<super::ztunnel::Ztunnel>),
}

impl Outbound {
    /// Send `req`, giving up after `timeout` (the application's own client timeout).
    pub(crate) async fn call(
        &self,
        req: OutboundRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, CallError> {
        match self {
            Outbound::Sidecar(s) => match tokio::time::timeout(timeout, s.send(req)).await {
                Ok(r) => r,
                Err(_) => Err(CallError::Fetch(FetchError::Timeout)),
            },
            Outbound::Direct(d) => d.send(req, Some(timeout)).await,
            Outbound::Ambient(z) => match tokio::time::timeout(timeout, z.send(req)).await {
                Ok(r) => r,
                Err(_) => Err(CallError::Fetch(FetchError::Timeout)),
            },
        }
    }
}
