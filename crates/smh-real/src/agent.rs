//! The node agent: what a kubelet does for the real control plane, with the simulator's
//! workloads in place of containers.
//!
//! - registers its Node (as `system:node:<name>`, so the Node authorizer and NodeRestriction
//!   apply) with its InternalIP, capacity, a `Ready` condition and
//!   `status.daemonEndpoints.kubeletEndpoint.Port` (where the API server reaches its kubelet
//!   API, [`crate::kubelet`]), then renews its Lease in `kube-node-lease` and posts its status
//!   every [`HEARTBEAT`];
//! - watches the pods the scheduler bound to the node (list, then watch, as a kubelet's
//!   informer does) and reports each one's status as the
//!   simulator's kubelet computes it (pod IP from the node's loopback pod network, `Running`,
//!   containers started, `Ready` once readiness probes answer, a start error for a command
//!   the image cannot run), so the real endpoints controllers fill Endpoints and
//!   EndpointSlices;
//! - finishes the deletion of pods being deleted (grace period 0), as a kubelet does once the
//!   containers stopped.
//!
//! The applications themselves are run by the simulator's workloads on the mirror of the
//! cluster ([`crate::mirror`]) once a pod is `Running` with an IP.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::{FutureExt as _, StreamExt as _};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher::{self, Event};
use serde_json::{Value, json};
use smh_sim::net::PodNetwork;
use tokio::time::Instant;

/// How often the node renews its Lease and posts its status.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How often every pod is synced when neither the watch nor a pod's own status asks sooner.
const RESYNC: Duration = Duration::from_secs(10);
/// How soon a status post or deletion that failed is tried again.
const POD_RETRY: Duration = Duration::from_millis(200);

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn now_micro() -> String {
    let t = jiff::Timestamp::now();
    format!("{}", t.strftime("%Y-%m-%dT%H:%M:%S.%6fZ"))
}

/// The node's conditions as the agent posts them: type, status, reason, message.
const NODE_CONDITIONS: [(&str, &str, &str, &str); 4] = [
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    (
        "DiskPressure",
        "False",
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
    ),
    (
        "PIDPressure",
        "False",
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
    ),
    (
        "Ready",
        "True",
        "KubeletReady",
        "kubelet is posting ready status",
    ),
];

/// The Node object the agent registers.
pub fn node_object(name: &str, ip: &str, kubelet_port: u16) -> Value {
    let now = now_rfc3339();
    let cond = |t: &str, s: &str, reason: &str, msg: &str| {
        json!({"type": t, "status": s, "reason": reason, "message": msg,
               "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": "amd64"}},
        "spec": {},
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "conditions": NODE_CONDITIONS
                .iter()
                .map(|(t, status, reason, message)| cond(t, status, reason, message))
                .collect::<Vec<_>>(),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
            "nodeInfo": {
                "machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "",
                "osImage": "smh-real node agent", "containerRuntimeVersion": "smh-sim://1",
                "kubeletVersion": crate::peers::pinned("KUBERNETES_VERSION").unwrap_or("v0.0.0"),
                "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"},
        }
    })
}

/// Register the node (as the node's own identity).
pub async fn register(node_client: &kube::Client, node: &Value) -> Result<()> {
    let api: Api<Node> = Api::all(node_client.clone());
    let n: Node = serde_json::from_value(node.clone())?;
    match api.create(&PostParams::default(), &n).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e).context("registering the node"),
    }
}

async fn heartbeat(client: &kube::Client, name: &str) -> Result<()> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let now = now_micro();
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": now}});
    match leases.get_opt(name).await? {
        None => {
            leases
                .create(&PostParams::default(), &serde_json::from_value(lease)?)
                .await?;
        }
        Some(_) => {
            leases
                .patch(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"spec": {"renewTime": now}})),
                )
                .await?;
        }
    }
    let nodes: Api<Node> = Api::all(client.clone());
    let stamp = now_rfc3339();
    // Every condition as a kubelet posts it, not only its heartbeat time: once the node
    // lifecycle controller marked the node Unknown (no Lease renewed for its grace period,
    // e.g. while the API server hung), only the kubelet sets it back, and until then the
    // node stays NotReady and tainted unreachable, so that no new pod is scheduled on it.
    let now: Vec<(String, String)> = nodes
        .get(name)
        .await?
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.type_, c.status))
        .collect();
    let conds: Vec<Value> = NODE_CONDITIONS
        .iter()
        .map(|(t, status, reason, message)| {
            let mut c = json!({"type": t, "status": status, "reason": reason,
                               "message": message, "lastHeartbeatTime": stamp});
            if !now.iter().any(|(nt, ns)| nt == t && ns == status) {
                c["lastTransitionTime"] = json!(stamp);
            }
            c
        })
        .collect();
    nodes
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Strategic(json!({"status": {"conditions": conds}})),
        )
        .await?;
    Ok(())
}

/// Renew the node's Lease and post its status every [`HEARTBEAT`], until aborted.
pub async fn run_heartbeat(client: kube::Client, name: String) {
    loop {
        let _ = heartbeat(&client, &name).await;
        tokio::time::sleep(HEARTBEAT).await;
    }
}

/// Settings of the pod loop.
pub struct PodLoop {
    /// The node's identity.
    pub client: kube::Client,
    /// The node's name.
    pub node: String,
    /// The node's IP (every pod's hostIP).
    pub node_ip: String,
    /// The node's pod network.
    pub net: Arc<PodNetwork>,
}

struct Seen {
    first: Instant,
    sent: Option<Value>,
}

/// The node's pods as the watch last told them, by uid.
type Pods = HashMap<String, Value>;

/// What [`PodLoop::sync_pod`] remembers of each pod between syncs.
#[derive(Default)]
struct Memory {
    /// Pods whose status was computed: when first seen, the status last sent.
    seen: HashMap<String, Seen>,
    /// Pods being deleted whose deletion was finished (the uids; until the watch drops them).
    deleted: HashSet<String>,
}

impl PodLoop {
    /// Report the status of the node's pods and finish their deletions, until aborted.
    ///
    /// The pods bound to the node are watched, as a kubelet's informer does: listed, then
    /// watched from the list's resourceVersion (kube-rs' watcher, which watches again from the
    /// last version it saw when a watch ends and lists again after `410 Gone`). Every pod is
    /// synced when the watch says something changed, and again when its status is due to
    /// change by itself (a container starting, a readiness probe's next period, a start
    /// error's back-off), which [`smh_sim::world::controller::pod_status`] tells; nothing is
    /// asked of the API server until a status to post differs.
    pub async fn run(self) {
        let api: Api<Pod> = Api::all(self.client.clone());
        let cfg = watcher::Config::default().fields(&format!("spec.nodeName={}", self.node));
        let mut events = watcher::watcher(api, cfg).boxed();
        let mut pods = Pods::new();
        let mut listing: Option<Pods> = None;
        let mut memory = Memory::default();
        let mut wake = Instant::now() + RESYNC;
        loop {
            tokio::select! {
                ev = events.next() => {
                    let Some(ev) = ev else { return };
                    let mut changed = take(ev, &mut pods, &mut listing).await;
                    // A burst of events (a rollout, a re-list) is taken in whole before the
                    // pods are synced once.
                    while let Some(Some(ev)) = events.next().now_or_never() {
                        changed |= take(ev, &mut pods, &mut listing).await;
                    }
                    if !changed {
                        continue;
                    }
                }
                () = tokio::time::sleep_until(wake) => {}
            }
            let now = Instant::now();
            let mut due = now + RESYNC;
            for (uid, pod) in &pods {
                if let Some(at) = self.sync_pod(pod, uid, &mut memory).await {
                    due = due.min(at);
                }
            }
            memory.seen.retain(|uid, _| pods.contains_key(uid));
            memory.deleted.retain(|uid| pods.contains_key(uid));
            wake = due;
        }
    }

    /// Post `pod`'s status if it changed, or finish its deletion; returns when its status is
    /// due to change by itself.
    async fn sync_pod(&self, pod: &Value, uid: &str, memory: &mut Memory) -> Option<Instant> {
        let api: Api<Pod> = Api::namespaced(
            self.client.clone(),
            pod.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        let name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if pod.pointer("/metadata/deletionTimestamp").is_some() {
            if memory.deleted.contains(uid) {
                return None;
            }
            // The workloads stop as the mirror sees the deletion; the containers are gone.
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(kube::api::Preconditions {
                    uid: Some(uid.to_string()),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            return match api.delete(name, &dp).await {
                Ok(_) => {
                    memory.deleted.insert(uid.to_string());
                    None
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    memory.deleted.insert(uid.to_string());
                    None
                }
                // Tried again with the next sync.
                Err(_) => Some(Instant::now() + POD_RETRY),
            };
        }
        let phase = pod
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if matches!(phase, "Succeeded" | "Failed") {
            return None;
        }
        let now = Instant::now();
        let entry = memory.seen.entry(uid.to_string()).or_insert(Seen {
            first: now,
            sent: None,
        });
        // The status computed from the one this agent last posted, as a kubelet's status
        // manager keeps it, not from what the watch last brought: the watch can be behind
        // the agent's own posts, and a status computed from an older one (without the
        // transition times and start times posted since) would differ from what was posted,
        // be posted again, and each post bring one more event to work through.
        let posted;
        let basis = match &entry.sent {
            Some(sent) if pod.get("status") != Some(sent) => {
                let mut p = pod.clone();
                p["status"] = sent.clone();
                posted = p;
                &posted
            }
            _ => pod,
        };
        let (status, due) = smh_sim::world::controller::pod_status(
            basis,
            &self.net,
            &self.node_ip,
            Duration::ZERO,
            entry.first,
            now,
            false,
        );
        // Sent before and still what the API server has: nothing to do. The node lifecycle
        // controller marks the pods of a node it lost touch with not Ready; a kubelet then
        // posts their status again, as this does when the stored Ready differs.
        if entry.sent.as_ref() == Some(&status) && ready(pod.get("status")) == ready(Some(&status))
        {
            return due;
        }
        let patch = json!({"status": status});
        if api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .is_ok()
        {
            entry.sent = Some(status);
            due
        } else {
            Some(now + POD_RETRY)
        }
    }
}

/// Take one event of the watch into `pods` (into `listing` while the watcher lists); whether
/// `pods` may have changed.
async fn take(
    ev: Result<Event<Pod>, watcher::Error>,
    pods: &mut Pods,
    listing: &mut Option<Pods>,
) -> bool {
    match ev {
        Ok(Event::Init) => {
            *listing = Some(Pods::new());
            false
        }
        Ok(Event::InitApply(pod)) => {
            if let (Some(l), Some((uid, v))) = (listing.as_mut(), keyed(&pod)) {
                l.insert(uid, v);
            }
            false
        }
        Ok(Event::InitDone) => {
            if let Some(l) = listing.take() {
                *pods = l;
            }
            true
        }
        Ok(Event::Apply(pod)) => keyed(&pod).is_some_and(|(uid, v)| {
            pods.insert(uid, v);
            true
        }),
        Ok(Event::Delete(pod)) => keyed(&pod).is_some_and(|(uid, _)| pods.remove(&uid).is_some()),
        // The watcher lists or watches again by itself; the error only says it had to. Not
        // in a tight loop while the API server is away.
        Err(_) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            false
        }
    }
}

/// A watched pod's uid and its JSON.
fn keyed(pod: &Pod) -> Option<(String, Value)> {
    let uid = pod.metadata.uid.clone()?;
    Some((uid, serde_json::to_value(pod).ok()?))
}

/// The status of a pod status's `Ready` condition.
fn ready(status: Option<&Value>) -> Option<&str> {
    status?
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))?
        .get("status")?
        .as_str()
}
