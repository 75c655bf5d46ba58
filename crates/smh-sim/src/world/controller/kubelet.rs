//! The kubelet (and scheduler) of the simulated cluster's single node.
//!
//! A new pod is scheduled on the node at once and gets a pod IP from the cluster's pod
//! network; it stays `Pending` (containers `ContainerCreating`) for the readiness delay, then
//! turns `Running` with every container started and, unless a container has a readiness
//! probe, `Ready`. A container with an `httpGet` or `tcpSocket` readiness probe is ready
//! only while something listens on the probed port of the pod (checked about every 200 ms).
//! A pod matched by the cluster's [`super::PodStartHold`] stays `Pending` until released.
//!
//! A container whose `command` the image cannot run (a shell tool such as `sleep` in a
//! distroless image: [`crate::world::workload::missing_executable`]) fails to start as
//! with containerd: `waiting: RunContainerError` at the first attempt, then
//! `waiting: CrashLoopBackOff` ("back-off 10s restarting failed container=..."), with
//! `lastState.terminated` reason `StartError`, exit code 128 and runc's message
//! ("exec: \"sleep\": executable file not found in $PATH"); the kubelet retries after 10 s,
//! then 20 s, 40 s, ... up to 5 minutes, counting `restartCount`. Liveness probes, restarts
//! of containers that ran, init containers and termination grace are not modelled.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{ControllerConfig, State};
use crate::net::PodNetwork;
use crate::store::Store;
use crate::world::obj::{self, container_port_by_name, is_deleting, now_rfc3339, str_at};

const PROBE_PERIOD: Duration = Duration::from_millis(200);
/// How long a failed start shows as `RunContainerError` before `CrashLoopBackOff`.
const RUN_ERROR_SHOWN: Duration = Duration::from_secs(1);
/// The kubelet's crash-loop back-off: 10 s, doubling, at most 5 minutes.
const BACKOFF_INITIAL: Duration = Duration::from_secs(10);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Start attempts of a container that cannot start, `elapsed` after the first: how many so
/// far (at least 1), when the next is due (after the first), and the current back-off.
pub(super) fn start_attempts(elapsed: Duration) -> (u32, Duration, Duration) {
    let mut attempts = 1;
    let mut at = Duration::ZERO;
    let mut backoff = BACKOFF_INITIAL;
    while at + backoff <= elapsed {
        at += backoff;
        attempts += 1;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    (attempts, at + backoff, backoff)
}

fn containers(pod: &Value) -> Vec<Value> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A stable fake 64-hex-digit id.
fn hex_id(seed: &str) -> String {
    let mut out = String::with_capacity(64);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0u8..4 {
        for b in seed.bytes().chain([round]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// The readiness probe port of a container, if it has an httpGet/tcpSocket probe.
fn probe_port(pod: &Value, c: &Value) -> Option<Option<u16>> {
    let probe = c.get("readinessProbe")?;
    let port = probe
        .pointer("/httpGet/port")
        .or_else(|| probe.pointer("/tcpSocket/port"))?;
    Some(match port {
        Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        Value::String(s) => s.parse().ok().or_else(|| container_port_by_name(pod, s)),
        _ => None,
    })
}

fn condition(
    kind: &str,
    status: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: &str,
) -> Value {
    let mut c = json!({
        "type": kind,
        "status": if status { "True" } else { "False" },
        "lastProbeTime": null,
        "lastTransitionTime": now,
    });
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

/// Keep a condition's `lastTransitionTime` when its status did not change.
fn keep_transition_times(old: &Value, conditions: &mut [Value]) {
    let Some(prev) = old.pointer("/status/conditions").and_then(Value::as_array) else {
        return;
    };
    for c in conditions.iter_mut() {
        if let Some(p) = prev
            .iter()
            .find(|p| str_at(p, "/type") == str_at(c, "/type"))
            && str_at(p, "/status") == str_at(c, "/status")
        {
            c["lastTransitionTime"] = p["lastTransitionTime"].clone();
        }
    }
}

/// The status of a container whose command is not in its image: the runtime's
/// `RunContainerError`, then `CrashLoopBackOff` with the restarts so far, `since_ready`
/// after the pod could first run. Also when it changes next (from that same moment).
fn start_error_status(
    pod: &Value,
    c: &Value,
    exe: &str,
    old: Option<&Value>,
    since_ready: Duration,
    stamp: &str,
) -> (Value, Duration) {
    let uid = obj::uid(pod);
    let cname = str_at(c, "/name");
    let image = str_at(c, "/image");
    let (attempts, next, backoff) = start_attempts(since_ready);
    let next = if since_ready < RUN_ERROR_SHOWN {
        RUN_ERROR_SHOWN
    } else {
        next
    };
    let message = format!(
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"{exe}\": executable file not found in $PATH: unknown"
    );
    let restarts = attempts - 1;
    // The finish time of the last attempt: kept while no new attempt was made.
    let finished = old
        .filter(|o| o.pointer("/restartCount").and_then(Value::as_u64) == Some(u64::from(restarts)))
        .and_then(|o| o.pointer("/lastState/terminated/finishedAt"))
        .and_then(Value::as_str)
        .map_or_else(|| stamp.to_string(), str::to_string);
    let waiting = if since_ready < RUN_ERROR_SHOWN {
        json!({"reason": "RunContainerError", "message": message})
    } else {
        json!({"reason": "CrashLoopBackOff", "message": format!(
            "back-off {}s restarting failed container={cname} pod={}_{}({uid})",
            backoff.as_secs(),
            obj::name(pod),
            obj::namespace(pod)
        )})
    };
    let id = format!(
        "containerd://{}",
        hex_id(&format!("{uid}/{cname}/{restarts}"))
    );
    let status = json!({
        "name": cname,
        "image": image,
        "imageID": format!("{}@sha256:{}", image.split(':').next().unwrap_or(image), hex_id(image)),
        "containerID": id,
        "ready": false,
        "restartCount": restarts,
        "started": false,
        "state": {"waiting": waiting},
        "lastState": {"terminated": {
            "exitCode": 128,
            "reason": "StartError",
            "message": message,
            "startedAt": "1970-01-01T00:00:00Z",
            "finishedAt": finished,
            "containerID": id,
        }},
    });
    (status, next)
}

/// The status of a container that can start: `ContainerCreating` until the pod runs, then
/// running since its first start (`ready` as its readiness probe answers).
fn container_status(
    c: &Value,
    old: Option<&Value>,
    uid: &str,
    running: bool,
    ready: bool,
    stamp: &str,
) -> Value {
    let cname = str_at(c, "/name");
    let image = str_at(c, "/image");
    let started_at = old
        .and_then(|o| o.pointer("/state/running/startedAt"))
        .and_then(Value::as_str)
        .map_or_else(|| stamp.to_string(), str::to_string);
    let state_v = if running {
        json!({"running": {"startedAt": started_at}})
    } else {
        json!({"waiting": {"reason": "ContainerCreating"}})
    };
    let mut s = json!({
        "name": cname,
        "image": image,
        "imageID": if running {
            json!(format!("{}@sha256:{}", image.split(':').next().unwrap_or(image), hex_id(image)))
        } else {
            json!("")
        },
        "ready": ready,
        "restartCount": 0,
        "started": running,
        "state": state_v,
    });
    if running {
        s["containerID"] = json!(format!(
            "containerd://{}",
            hex_id(&format!("{uid}/{cname}"))
        ));
    }
    s
}

/// The status a kubelet reports for `pod` (see the module documentation): `first` is when
/// the kubelet first saw the pod, `held` keeps a pod that does not run yet from starting,
/// `node_ip` is the node's address (the pod's hostIP). A pod without an IP gets one from
/// `net`. Also returns when the status may next change (probe period, start, back-off).
pub fn pod_status(
    pod: &Value,
    net: &PodNetwork,
    node_ip: &str,
    readiness_delay: Duration,
    first: Instant,
    now: Instant,
    held: bool,
) -> (Value, Option<Instant>) {
    let mut due: Option<Instant> = None;
    let mut wake = |t: Instant| {
        due = Some(due.map_or(t, |d: Instant| d.min(t)));
    };
    let uid = obj::uid(pod).to_string();
    let ready_at = first + readiness_delay;
    let stamp = now_rfc3339();
    let ip = match str_at(pod, "/status/podIP") {
        "" => net.allocate_ip(),
        ip => ip.to_string(),
    };
    let start_time = match str_at(pod, "/status/startTime") {
        "" => stamp.clone(),
        t => t.to_string(),
    };
    let running = now >= ready_at && !held;
    if held {
        wake(now + PROBE_PERIOD);
    } else if !running {
        wake(ready_at);
    }
    let specs = containers(pod);
    let mut statuses = Vec::new();
    let mut unready = Vec::new();
    for c in &specs {
        let cname = str_at(c, "/name");
        let old = pod
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|s| str_at(s, "/name") == cname));
        if running && let Some(exe) = crate::world::workload::missing_executable(c) {
            let (status, next) = start_error_status(pod, c, &exe, old, now - ready_at, &stamp);
            wake(ready_at + next);
            unready.push(cname.to_string());
            statuses.push(status);
            continue;
        }
        let ready = running
            && match probe_port(pod, c) {
                None => true,
                Some(port) => {
                    wake(now + PROBE_PERIOD);
                    port.is_some_and(|port| net.resolve(&ip, port).is_some())
                }
            };
        if !ready {
            unready.push(cname.to_string());
        }
        statuses.push(container_status(c, old, &uid, running, ready, &stamp));
    }
    let all_ready = running && unready.is_empty();
    let msg =
        (!all_ready).then(|| format!("containers with unready status: [{}]", unready.join(" ")));
    let reason = (!all_ready).then_some("ContainersNotReady");
    let mut conditions = vec![
        condition("PodReadyToStartContainers", running, None, None, &stamp),
        condition("Initialized", true, None, None, &stamp),
        condition("Ready", all_ready, reason, msg.clone(), &stamp),
        condition("ContainersReady", all_ready, reason, msg, &stamp),
        condition("PodScheduled", true, None, None, &stamp),
    ];
    keep_transition_times(pod, &mut conditions);
    let qos = match str_at(pod, "/status/qosClass") {
        "" => "BestEffort",
        q => q,
    };
    let status = json!({
        "phase": if running { "Running" } else { "Pending" },
        "conditions": conditions,
        "hostIP": node_ip,
        "hostIPs": [{"ip": node_ip}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": start_time,
        "containerStatuses": statuses,
        "qosClass": qos,
    });
    (status, due)
}

pub(super) fn sync(
    store: &Store,
    net: &PodNetwork,
    cfg: &ControllerConfig,
    state: &mut State,
    now: Instant,
) -> Option<Instant> {
    let (pods, _) = store.list(&obj::pods(), None);
    let mut due: Option<Instant> = None;
    let mut seen = std::collections::HashSet::new();
    for pod in &pods {
        let uid = obj::uid(pod).to_string();
        seen.insert(uid.clone());
        if is_deleting(pod) || matches!(str_at(pod, "/status/phase"), "Succeeded" | "Failed") {
            continue;
        }
        let first = *state.first_seen.entry(uid.clone()).or_insert(now);
        let mut p = pod.clone();
        if str_at(pod, "/spec/nodeName").is_empty() {
            p["spec"]["nodeName"] = json!(cfg.node_name);
        }
        // A held pod that does not run yet waits for the release, checked every probe period.
        let held = str_at(pod, "/status/phase") != "Running" && cfg.pod_starts.keeps(pod);
        let (status, wake) = pod_status(
            pod,
            net,
            &cfg.node_ip,
            cfg.readiness_delay,
            first,
            now,
            held,
        );
        if let Some(t) = wake {
            due = Some(due.map_or(t, |d: Instant| d.min(t)));
        }
        p["status"] = status;
        if &p != pod {
            let _ = store.update(&obj::pods(), p);
        }
    }
    state.first_seen.retain(|uid, _| seen.contains(uid));
    due
}
