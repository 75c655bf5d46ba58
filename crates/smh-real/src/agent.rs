//! The node agent: what a kubelet does for the real control plane, with the simulator's
//! workloads in place of containers.
//!
//! - registers its Node (as `system:node:<name>`, so the Node authorizer and NodeRestriction
//!   apply) with its InternalIP, capacity, a `Ready` condition and
//!   `status.daemonEndpoints.kubeletEndpoint.Port` (where the API server reaches its kubelet
//!   API, [`crate::kubelet`]), then renews its Lease in `kube-node-lease` and posts its status
//!   every [`HEARTBEAT`];
//! - watches the pods the scheduler bound to the node and reports each one's status as the
//!   simulator's kubelet computes it (pod IP from the node's loopback pod network, `Running`,
//!   containers started, `Ready` once readiness probes answer, a start error for a command
//!   the image cannot run), so the real endpoints controllers fill Endpoints and
//!   EndpointSlices;
//! - finishes the deletion of pods being deleted (grace period 0), as a kubelet does once the
//!   containers stopped.
//!
//! The applications themselves are run by the simulator's workloads on the mirror of the
//! cluster ([`crate::mirror`]) once a pod is `Running` with an IP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use smh_sim::net::PodNetwork;
use tokio::time::Instant;

/// How often the node renews its Lease and posts its status.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How often pod statuses are recomputed (the simulator kubelet's probe period).
const POD_SYNC: Duration = Duration::from_millis(200);

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

impl PodLoop {
    /// Report the status of the node's pods and finish their deletions, until aborted.
    pub async fn run(self) {
        let api: Api<Pod> = Api::all(self.client.clone());
        let lp = ListParams::default().fields(&format!("spec.nodeName={}", self.node));
        let mut seen: HashMap<String, Seen> = HashMap::new();
        loop {
            if let Ok(list) = api.list(&lp).await {
                let mut live = std::collections::HashSet::new();
                for pod in list.items {
                    let Ok(v) = serde_json::to_value(&pod) else {
                        continue;
                    };
                    let uid = pod.metadata.uid.clone().unwrap_or_default();
                    live.insert(uid.clone());
                    self.sync_pod(&v, &uid, &mut seen).await;
                }
                seen.retain(|uid, _| live.contains(uid));
            }
            tokio::time::sleep(POD_SYNC).await;
        }
    }

    async fn sync_pod(&self, pod: &Value, uid: &str, seen: &mut HashMap<String, Seen>) {
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
            // The workloads stop as the mirror sees the deletion; the containers are gone.
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(kube::api::Preconditions {
                    uid: Some(uid.to_string()),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            let _ = api.delete(name, &dp).await;
            return;
        }
        let phase = pod
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if matches!(phase, "Succeeded" | "Failed") {
            return;
        }
        let now = Instant::now();
        let entry = seen.entry(uid.to_string()).or_insert(Seen {
            first: now,
            sent: None,
        });
        let (status, _) = smh_sim::world::controller::pod_status(
            pod,
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
            return;
        }
        let patch = json!({"status": status});
        if api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .is_ok()
        {
            entry.sent = Some(status);
        }
    }
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
