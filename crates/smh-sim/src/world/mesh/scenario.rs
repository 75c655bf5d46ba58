//! The drill's failover scenarios run through the data-plane model on a virtual clock, so
//! that their figures can be set beside real Envoy's (`scripts/envoy-lab/istio_failover.py`
//! runs the same scenarios on upstream Envoy configured with what real istiod generated).
//!
//! The guide's layout: productpage's sidecar in `mgmt-cluster` calls `reviews.bookinfo:9080`;
//! the primary is reviews-v1 and v2 in mgmt-cluster, the secondary reviews-v3 in
//! remote-cluster (through the remote ingress gateway in global mode). The Istio objects are
//! what kubectl-smh generated for mgmt-cluster; the clusters around them are seeded as the
//! demo seeds them ([`mod@crate::world::seed`]: services, the `.global` ServiceEntries of the
//! federation or the remote secrets of multi-primary), and the mesh inputs are read the way
//! the running simulator reads them ([`super::inputs::collect`]).
//!
//! A client sends one request every 100 ms on a fixed schedule (requests overlap when
//! retries take longer than that), like the drill's probes. Upstream answers take no time.
//! Scenarios, as in the Envoy lab:
//! - [`Break::Rollout`]: after a 2 s baseline the primary's pods are replaced by pods that
//!   refuse connections (new addresses, one endpoint update); once 20 answers in a row came
//!   from the secondary (at most 20 s), they are replaced by healthy pods at new addresses;
//!   then until 20 primary answers in a row (at most 20 s).
//! - [`Break::InPlace`]: the same, but the primary's pods answer 500 where they are, and
//!   recover where they are (at most 90 s for the failback: the ejection must run out).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use smh_core::model::topology::MultiClusterMode;

use super::istio::{ProxyIdentity, build};
use super::outlier::AttemptResult;
use super::proxy::{AfterAttempt, Exchange, Proxy, Request};
use crate::net::PodNetwork;
use crate::store::{Gvr, Store};
use crate::world::{Fleet, WorldOptions, obj, seed};

const INTERVAL: Duration = Duration::from_millis(100);
const BASELINE: Duration = Duration::from_secs(2);
const STEADY: usize = 20;
/// Ports of bookinfo's services.
const PORT: u16 = 9080;

/// How the primary breaks and comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    /// A rollout to pods that refuse connections, restored by a rollout to healthy pods (new
    /// addresses both times, as a Deployment's rollout gives).
    Rollout,
    /// The primary's pods answer 500 where they are, then recover where they are.
    InPlace,
}

impl Break {
    /// The scenario's name in the Envoy lab (`rollout`, `in-place`).
    pub fn name(self) -> &'static str {
        match self {
            Break::Rollout => "rollout",
            Break::InPlace => "in-place",
        }
    }
}

/// What the client saw in one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// From the break to the send time of the first answer from the secondary.
    pub time_to_failover: Option<Duration>,
    /// From the restore to the send time of the first answer from the primary.
    pub time_to_failback: Option<Duration>,
    /// Requests sent from the break until the restore that got no answer from either.
    pub failed_during_failover: usize,
    /// Requests sent after the restore that got no answer from either.
    pub failed_during_failback: usize,
    /// When the restore came, after the break.
    pub restore_at: Duration,
    /// Every answer, run-length encoded: `t=2.0 503 x10 | t=3.0 failover x20`.
    pub answers: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Primary,
    Failover,
    Error(u16),
}

/// The pods behind reviews: addresses and how they behave.
struct Pods {
    primary: Vec<String>,
    secondary: String,
    refusing: BTreeSet<String>,
    failing_in_place: bool,
    gateways: BTreeSet<String>,
}

impl Pods {
    fn answer(&self, ip: &str) -> (AttemptResult, Answer) {
        if self.refusing.contains(ip) {
            (AttemptResult::ConnectFailed, Answer::Error(503))
        } else if self.primary.iter().any(|p| p == ip) {
            if self.failing_in_place {
                (AttemptResult::Http(500), Answer::Error(500))
            } else {
                (AttemptResult::Http(200), Answer::Primary)
            }
        } else if ip == self.secondary || self.gateways.contains(ip) {
            (AttemptResult::Http(200), Answer::Failover)
        } else {
            (AttemptResult::ConnectFailed, Answer::Error(503))
        }
    }
}

/// The two clusters, seeded as the demo seeds them, with reviews' endpoints.
struct World {
    fleet: Arc<Fleet>,
    mgmt: Arc<Store>,
    remote: Arc<Store>,
    proxy: ProxyIdentity,
}

fn reviews_endpoints(ips: &[String]) -> Value {
    json!({"apiVersion": "v1", "kind": "Endpoints",
           "metadata": {"name": "reviews", "namespace": "bookinfo"},
           "subsets": [{"addresses": ips.iter().map(|ip| json!({"ip": ip})).collect::<Vec<_>>(),
                        "ports": [{"name": "http", "port": PORT}]}]})
}

impl World {
    fn new(mode: MultiClusterMode, istio_version: &str, objects: &[Value]) -> Result<Self, String> {
        let fleet = Fleet::new();
        let mut stores = Vec::new();
        for (i, o) in WorldOptions::demo(mode, istio_version, Duration::ZERO)
            .iter()
            .enumerate()
        {
            let store = Arc::new(Store::new());
            seed(&store, o).map_err(|e| format!("seeding {}: {e}", o.cluster))?;
            fleet.register(
                &o.cluster,
                store.clone(),
                Arc::new(PodNetwork::new(i as u8 + 1)),
            );
            stores.push(store);
        }
        let remote = stores.pop().ok_or("no remote cluster")?;
        let mgmt = stores.pop().ok_or("no mgmt cluster")?;
        for o in objects {
            let (group, version) = o["apiVersion"]
                .as_str()
                .and_then(|a| a.split_once('/'))
                .ok_or("an object without apiVersion")?;
            let kind = o["kind"].as_str().unwrap_or_default();
            let plural = format!("{}s", kind.to_ascii_lowercase());
            mgmt.create(&Gvr::new(group, version, &plural), o.clone())
                .map_err(|e| format!("{kind} {}: {e}", o["metadata"]["name"]))?;
        }
        Ok(World {
            fleet,
            mgmt,
            remote,
            proxy: ProxyIdentity {
                cluster: "mgmt-cluster".into(),
                namespace: "bookinfo".into(),
                labels: [("app".to_string(), "productpage".to_string())].into(),
                istio_version: istio_version.to_string(),
            },
        })
    }

    fn set_endpoints(store: &Store, ips: &[String]) -> Result<(), String> {
        let gvr = obj::endpoints();
        let value = reviews_endpoints(ips);
        let result = match store.get(&gvr, "bookinfo", "reviews") {
            Some(mut old) => {
                old["subsets"] = value["subsets"].clone();
                store.update(&gvr, old)
            }
            None => store.create(&gvr, value),
        };
        result.map(|_| ()).map_err(|e| e.to_string())
    }

    /// istiod's push to the sidecar: the model's configuration from the stores as they are.
    fn push(&self, proxy: &mut Proxy, now: Duration) {
        let inputs = super::inputs::collect(&self.fleet, &self.proxy);
        proxy.update_config(build(&inputs), now);
    }
}

/// One request in flight.
struct InFlight {
    sent: Duration,
    ex: Exchange,
}

/// The client and the proxy, on a virtual clock: requests start every 100 ms and retries
/// are scheduled after their back-off, all events in time order.
struct Client {
    proxy: Proxy,
    next_send: Duration,
    queue: BinaryHeap<Reverse<(Duration, u64)>>,
    in_flight: BTreeMap<u64, InFlight>,
    seq: u64,
    answers: Vec<(Duration, Answer)>,
}

fn request() -> Request {
    Request {
        authority: format!("reviews.bookinfo:{PORT}"),
        port: PORT,
        method: "GET".into(),
        path: "/reviews/0".into(),
        headers: BTreeMap::new(),
    }
}

impl Client {
    /// Run every event before `until`.
    fn run_until(&mut self, until: Duration, pods: &Pods) {
        loop {
            let retry_at = self.queue.peek().map(|Reverse((t, _))| *t);
            let send_first = retry_at.is_none_or(|t| self.next_send <= t);
            let at = if send_first {
                self.next_send
            } else {
                retry_at.unwrap_or(until)
            };
            if at >= until {
                return;
            }
            if send_first {
                self.next_send += INTERVAL;
                match self.proxy.start(&request(), at) {
                    Ok(ex) => {
                        self.seq += 1;
                        self.in_flight.insert(self.seq, InFlight { sent: at, ex });
                        self.attempt(self.seq, at, pods);
                    }
                    Err(reply) => self.answers.push((at, Answer::Error(reply.status))),
                }
            } else if let Some(Reverse((_, id))) = self.queue.pop() {
                self.attempt(id, at, pods);
            }
        }
    }

    fn attempt(&mut self, id: u64, now: Duration, pods: &Pods) {
        let Some(mut f) = self.in_flight.remove(&id) else {
            return;
        };
        let pick = match self.proxy.next_attempt(&mut f.ex, now) {
            Ok(p) => p,
            Err(reply) => {
                self.answers.push((f.sent, Answer::Error(reply.status)));
                return;
            }
        };
        let (result, answer) = pods.answer(&pick.endpoint.ip);
        match self.proxy.finish_attempt(&mut f.ex, &pick, result, now) {
            AfterAttempt::Retry(backoff) => {
                self.queue.push(Reverse((now + backoff, id)));
                self.in_flight.insert(id, f);
            }
            AfterAttempt::Respond => self.answers.push((f.sent, answer)),
            AfterAttempt::Reply(reply) => self.answers.push((f.sent, Answer::Error(reply.status))),
        }
    }

    /// Advance 100 ms at a time until the last `STEADY` answers sent since `since` are all
    /// `want`, or `limit` has passed; returns the time reached.
    fn until_steady(
        &mut self,
        since: Duration,
        want: Answer,
        limit: Duration,
        pods: &Pods,
    ) -> Duration {
        let mut now = since;
        while now < since + limit {
            now += INTERVAL;
            self.run_until(now, pods);
            let mut recent: Vec<&(Duration, Answer)> =
                self.answers.iter().filter(|(t, _)| *t >= since).collect();
            recent.sort_by_key(|(t, _)| *t);
            if recent.len() >= STEADY
                && recent[recent.len() - STEADY..]
                    .iter()
                    .all(|(_, a)| *a == want)
            {
                break;
            }
        }
        now
    }
}

/// Run `scenario` on the model with `objects` (what kubectl-smh generated for mgmt-cluster,
/// e.g. from `translate`) in `mode`, productpage's sidecar being Istio `istio_version`.
pub fn run(
    mode: MultiClusterMode,
    istio_version: &str,
    objects: &[Value],
    scenario: Break,
) -> Result<Measured, String> {
    let world = World::new(mode, istio_version, objects)?;
    let mut pods = Pods {
        primary: vec!["10.10.0.13".into(), "10.10.0.14".into()],
        secondary: "10.11.0.11".into(),
        refusing: BTreeSet::new(),
        failing_in_place: false,
        gateways: super::inputs::gateway_addresses(&world.remote)
            .into_iter()
            .collect(),
    };
    World::set_endpoints(&world.mgmt, &pods.primary)?;
    World::set_endpoints(&world.remote, std::slice::from_ref(&pods.secondary))?;
    let mut client = Client {
        proxy: Proxy::new(7),
        next_send: Duration::ZERO,
        queue: BinaryHeap::new(),
        in_flight: BTreeMap::new(),
        seq: 0,
        answers: Vec::new(),
    };
    world.push(&mut client.proxy, Duration::ZERO);
    client.run_until(BASELINE, &pods);
    let t_break = BASELINE;
    match scenario {
        Break::Rollout => {
            let broken: Vec<String> = vec!["10.10.0.113".into(), "10.10.0.114".into()];
            pods.refusing = broken.iter().cloned().collect();
            World::set_endpoints(&world.mgmt, &broken)?;
            world.push(&mut client.proxy, t_break);
        }
        Break::InPlace => pods.failing_in_place = true,
    }
    let t_restore = client.until_steady(t_break, Answer::Failover, Duration::from_secs(20), &pods);
    let failback_limit = match scenario {
        Break::Rollout => {
            pods.primary = vec!["10.10.0.213".into(), "10.10.0.214".into()];
            World::set_endpoints(&world.mgmt, &pods.primary)?;
            world.push(&mut client.proxy, t_restore);
            Duration::from_secs(20)
        }
        Break::InPlace => {
            pods.failing_in_place = false;
            Duration::from_secs(90)
        }
    };
    let end = client.until_steady(t_restore, Answer::Primary, failback_limit, &pods);
    client.run_until(end + Duration::from_secs(6), &pods);
    let mut answers = client.answers;
    answers.retain(|(t, _)| *t < end);
    answers.sort_by_key(|(t, _)| *t);
    Ok(measure(&answers, t_break, t_restore))
}

fn measure(answers: &[(Duration, Answer)], t_break: Duration, t_restore: Duration) -> Measured {
    let first = |want: Answer, since: Duration| {
        answers
            .iter()
            .find(|(t, a)| *t >= since && *a == want)
            .map(|(t, _)| *t - since)
    };
    let failed = |from: Duration, to: Duration| {
        answers
            .iter()
            .filter(|(t, a)| *t >= from && *t < to && matches!(a, Answer::Error(_)))
            .count()
    };
    Measured {
        time_to_failover: first(Answer::Failover, t_break),
        time_to_failback: first(Answer::Primary, t_restore),
        failed_during_failover: failed(t_break, t_restore),
        failed_during_failback: failed(t_restore, Duration::MAX),
        restore_at: t_restore - t_break,
        answers: rle(answers),
    }
}

fn rle(answers: &[(Duration, Answer)]) -> String {
    let mut runs: Vec<(Duration, String, usize)> = Vec::new();
    for (t, a) in answers {
        let label = match a {
            Answer::Primary => "primary".to_string(),
            Answer::Failover => "failover".to_string(),
            Answer::Error(code) => code.to_string(),
        };
        match runs.last_mut() {
            Some((_, l, n)) if *l == label => *n += 1,
            _ => runs.push((*t, label, 1)),
        }
    }
    runs.iter()
        .map(|(t, l, n)| format!("t={:.1} {l} x{n}", t.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests;
