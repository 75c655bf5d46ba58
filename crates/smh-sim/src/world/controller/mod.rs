//! The cluster's controllers, as one task: deployment → replica sets → pods (with a kubelet
//! that schedules, assigns pod IPs and marks pods ready after the readiness delay) →
//! endpoints and EndpointSlices, garbage collection by owner references, and a `default` service account per
//! namespace; DaemonSets (one pod on the node); a load balancer that gives Services of type
//! `LoadBalancer` an external address from a pool; and, for Istio ambient, istiod's
//! deployment controller for waypoints and east-west gateways (a Gateway of class
//! `istio-waypoint` or `istio-east-west` → its Deployment, Service and address).
//!
//! Level-triggered: every pass reads the current objects and writes only what differs, so
//! a pass is idempotent and a lagged or missed event only delays work until the next one. A
//! pass runs after each batch of relevant store events, when a pod's readiness delay runs
//! out, and at least every `resync`.

mod daemonset;
mod deployment;
mod endpoints;
mod endpointslices;
mod gc;
mod kubelet;
pub use kubelet::pod_status;
mod loadbalancer;
mod replicaset;
mod waypoint;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

use crate::net::PodNetwork;
use crate::store::{Event, Store};
use crate::world::mesh::rng::Rng;

pub(crate) use endpoints::{selected_pods, subsets as endpoint_subsets};

/// Settings of the controllers of one cluster.
#[derive(Debug, Clone)]
pub(crate) struct ControllerConfig {
    /// The node every pod is scheduled on.
    pub node_name: String,
    pub node_ip: String,
    /// Time from a pod's creation until it runs and is Ready (image pull and start).
    pub readiness_delay: Duration,
    /// Longest time between two passes.
    pub resync: Duration,
    /// Seed for generated names (pod suffixes, container IDs).
    pub seed: u64,
    /// Istio version whose sidecar is injected into new pods of injection-enabled
    /// namespaces; `None` for a cluster without Istio.
    pub istio_version: Option<String>,
    /// Pods the kubelet must not start yet.
    pub pod_starts: PodStartHold,
    /// The simulated load balancer's address pool ([`loadbalancer`]).
    pub load_balancer_ips: Vec<String>,
}

/// Keeps new pods from starting, for tests that must act while a rollout is still in
/// progress: a pod that does not run yet and whose labels include all the labels of one of
/// the held sets stays `Pending` (`ContainerCreating`), however long ago it was created,
/// until [`PodStartHold::release`]; it then starts at the kubelet's next pass (within
/// 200 ms). Running pods are not affected.
#[derive(Debug, Clone, Default)]
pub struct PodStartHold(Arc<HoldInner>);

#[derive(Debug, Default)]
struct HoldInner {
    state: Mutex<HoldState>,
    /// Woken when a pod is held for the first time.
    held_one: Notify,
}

#[derive(Debug, Default)]
struct HoldState {
    sets: Vec<BTreeMap<String, String>>,
    /// `namespace/name` of every pod kept from starting since the last release.
    held: BTreeSet<String>,
}

impl PodStartHold {
    /// Hold the pods whose labels include all of `labels` (besides those held already).
    pub fn hold(&self, labels: BTreeMap<String, String>) {
        self.lock().sets.push(labels);
    }

    /// Let every held pod start.
    pub fn release(&self) {
        let mut s = self.lock();
        s.sets.clear();
        s.held.clear();
    }

    /// The pods (`namespace/name`) kept from starting since the last release.
    pub fn held(&self) -> Vec<String> {
        self.lock().held.iter().cloned().collect()
    }

    /// Wait until a pod is kept from starting; returns the pods held.
    pub async fn wait_held(&self) -> Vec<String> {
        loop {
            // Registered before the check: a pod held in between still wakes it.
            let woken = self.0.held_one.notified();
            let held = self.held();
            if !held.is_empty() {
                return held;
            }
            woken.await;
        }
    }

    /// Whether the kubelet must keep `pod` (not running yet) from starting; records it.
    fn keeps(&self, pod: &serde_json::Value) -> bool {
        let mut s = self.lock();
        let labels = crate::world::obj::labels(pod);
        let held = s
            .sets
            .iter()
            .any(|set| set.iter().all(|(k, v)| labels.get(k) == Some(v)));
        if held {
            let key = format!(
                "{}/{}",
                crate::world::obj::namespace(pod),
                crate::world::obj::name(pod)
            );
            if s.held.insert(key) {
                self.0.held_one.notify_waiters();
            }
        }
        held
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HoldState> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// In-memory controller state that is not in the store.
pub(crate) struct State {
    /// When the kubelet first saw each pod (by uid).
    first_seen: HashMap<String, Instant>,
    rng: Rng,
}

impl State {
    pub(crate) fn new(seed: u64) -> Self {
        State {
            first_seen: HashMap::new(),
            rng: Rng::new(seed),
        }
    }

    /// A random suffix in the alphabet Kubernetes uses for generated names.
    pub(crate) fn suffix(&mut self, len: usize) -> String {
        const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..len)
            .map(|_| ALPHANUMS[self.rng.below(ALPHANUMS.len() as u64) as usize] as char)
            .collect()
    }
}

fn relevant(ev: &Event) -> bool {
    let g = &ev.gvr;
    match g.group.as_str() {
        "" => matches!(
            g.plural.as_str(),
            "pods" | "services" | "endpoints" | "namespaces" | "serviceaccounts"
        ),
        "apps" => matches!(
            g.plural.as_str(),
            "deployments" | "replicasets" | "daemonsets"
        ),
        crate::world::ambient::GATEWAY_GROUP => g.plural == "gateways",
        "discovery.k8s.io" => g.plural == "endpointslices",
        _ => false,
    }
}

/// One full pass over every controller. Returns when the next pass is due at the latest
/// (a pod becoming ready, or a readiness probe to re-check).
pub(crate) fn reconcile(
    store: &Store,
    net: &PodNetwork,
    cfg: &ControllerConfig,
    state: &mut State,
    now: Instant,
) -> Option<Instant> {
    gc::default_service_accounts(store);
    deployment::sync(store);
    waypoint::sync(store, cfg.istio_version.as_deref());
    loadbalancer::sync(store, &cfg.load_balancer_ips);
    daemonset::sync(store, state, &cfg.node_name);
    replicaset::sync(store, state, &cfg.node_name, cfg.istio_version.as_deref());
    let due = kubelet::sync(store, net, cfg, state, now);
    endpoints::sync(store);
    endpointslices::sync(store, state);
    gc::collect(store);
    due
}

/// One pass of istiod's deployment controller (waypoints, east-west gateways) and of the
/// load balancer (`pool`), for tests that run no controllers.
#[cfg(test)]
pub(crate) fn sync_istio_gateways(store: &Store, istio_version: Option<&str>, pool: &[String]) {
    waypoint::sync(store, istio_version);
    loadbalancer::sync(store, pool);
}

/// Run the controllers until the task is aborted or the store is dropped.
pub(crate) async fn run(store: Arc<Store>, net: Arc<PodNetwork>, cfg: ControllerConfig) {
    let mut rx = store.subscribe();
    let mut state = State::new(cfg.seed);
    loop {
        let now = Instant::now();
        let due = reconcile(&store, &net, &cfg, &mut state, now);
        let wake = due.map_or(now + cfg.resync, |d| d.min(now + cfg.resync));
        // Wait for a relevant change, or the next due time.
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(ev) if !relevant(&ev) => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                },
                _ = tokio::time::sleep_until(wake) => break,
            }
        }
        // Coalesce a burst of events into one pass.
        loop {
            match rx.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests;
