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
use super::rng::Rng;
use crate::net::PodNetwork;
use crate::store::{Gvr, Store};
use crate::world::{Fleet, WorldOptions, obj, seed};

const INTERVAL: Duration = Duration::from_millis(100);
const BASELINE: Duration = Duration::from_secs(2);
const STEADY: usize = 20;
/// The sidecar got its configuration up to this long before the first request (drawn from
/// the seed): the outlier detector's interval timer ticks from its cluster's creation, so
/// when an ejected host comes back, counted from the break, depends on the timer's phase,
/// which a drill (or the Envoy lab, by how long Envoy took to start) meets at random.
/// Istio's default outlier detection interval, so every phase of a 10 s timer is drawn.
const START_SPREAD_MS: u64 = 10_000;
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
                waypoint: false,
                ztunnel: false,
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
/// e.g. from `translate`) in `mode`, productpage's sidecar being Istio `istio_version`, with
/// the sidecar's random draws seeded by [`DEFAULT_SEED`].
pub fn run(
    mode: MultiClusterMode,
    istio_version: &str,
    objects: &[Value],
    scenario: Break,
) -> Result<Measured, String> {
    run_seeded(mode, istio_version, objects, scenario, DEFAULT_SEED)
}

/// The seed of [`run`]'s random draws.
pub const DEFAULT_SEED: u64 = 7;

/// [`run`] with the sidecar's random draws (priority picks, retry back-off) seeded by `seed`,
/// and the sidecar's configuration pushed a seed-drawn moment (under 10 s) before the first
/// request, which sets the phase of its outlier detection timer.
pub fn run_seeded(
    mode: MultiClusterMode,
    istio_version: &str,
    objects: &[Value],
    scenario: Break,
    seed: u64,
) -> Result<Measured, String> {
    let world = World::new(mode, istio_version, objects)?;
    let start = Duration::from_millis(Rng::new(!seed).below(START_SPREAD_MS));
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
        proxy: Proxy::new(seed),
        next_send: start,
        queue: BinaryHeap::new(),
        in_flight: BTreeMap::new(),
        seq: 0,
        answers: Vec::new(),
    };
    world.push(&mut client.proxy, Duration::ZERO);
    let t_break = start + BASELINE;
    client.run_until(t_break, &pods);
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
    Ok(measure(&answers, start, t_break, t_restore))
}

/// The smallest and the largest of one figure over many runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range<T> {
    /// The smallest.
    pub min: T,
    /// The largest.
    pub max: T,
}

impl<T: Copy + Ord> Range<T> {
    fn of(values: impl IntoIterator<Item = T>) -> Option<Self> {
        values.into_iter().fold(None, |r: Option<Self>, v| {
            Some(match r {
                None => Range { min: v, max: v },
                Some(r) => Range {
                    min: r.min.min(v),
                    max: r.max.max(v),
                },
            })
        })
    }

    /// Whether `v` lies within the range.
    pub fn contains(&self, v: T) -> bool {
        self.min <= v && v <= self.max
    }
}

/// A scenario's figures over many seeds of the model's random draws. Where Envoy draws at
/// random (which priority level a request goes to while one of two primary hosts is
/// ejected and the merge window holds back the other's ejection), one run of the model is
/// one draw, and real Envoy's figure is held to the range the model gives over many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spread {
    /// How many seeds ran.
    pub runs: usize,
    /// [`Measured::time_to_failover`] over the runs that failed over.
    pub time_to_failover: Option<Range<Duration>>,
    /// [`Measured::time_to_failback`] over the runs that failed back.
    pub time_to_failback: Option<Range<Duration>>,
    /// [`Measured::failed_during_failover`].
    pub failed_during_failover: Range<usize>,
    /// [`Measured::failed_during_failback`].
    pub failed_during_failback: Range<usize>,
}

/// [`run_seeded`] with every seed in `seeds`; the range of each figure over them.
pub fn spread(
    mode: MultiClusterMode,
    istio_version: &str,
    objects: &[Value],
    scenario: Break,
    seeds: std::ops::Range<u64>,
) -> Result<Spread, String> {
    let runs = seeds
        .map(|seed| run_seeded(mode, istio_version, objects, scenario, seed))
        .collect::<Result<Vec<_>, _>>()?;
    let empty = || "no seeds to run".to_string();
    Ok(Spread {
        runs: runs.len(),
        time_to_failover: Range::of(runs.iter().filter_map(|m| m.time_to_failover)),
        time_to_failback: Range::of(runs.iter().filter_map(|m| m.time_to_failback)),
        failed_during_failover: Range::of(runs.iter().map(|m| m.failed_during_failover))
            .ok_or_else(empty)?,
        failed_during_failback: Range::of(runs.iter().map(|m| m.failed_during_failback))
            .ok_or_else(empty)?,
    })
}

/// The figures, with times in `answers` counted from `start` (the first request).
fn measure(
    answers: &[(Duration, Answer)],
    start: Duration,
    t_break: Duration,
    t_restore: Duration,
) -> Measured {
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
        answers: rle(answers, start),
    }
}

fn rle(answers: &[(Duration, Answer)], start: Duration) -> String {
    let mut runs: Vec<(Duration, String, usize)> = Vec::new();
    for (t, a) in answers {
        let label = match a {
            Answer::Primary => "primary".to_string(),
            Answer::Failover => "failover".to_string(),
            Answer::Error(code) => code.to_string(),
        };
        match runs.last_mut() {
            Some((_, l, n)) if *l == label => *n += 1,
            _ => runs.push((t.saturating_sub(start), label, 1)),
        }
    }
    runs.iter()
        .map(|(t, l, n)| format!("t={:.1} {l} x{n}", t.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests;
