//! Workloads: when a pod is Running, each of its containers' applications listens on a real
//! loopback port (`127.0.0.1:0`) registered in the cluster's pod network under
//! `(podIP, containerPort)`; when the pod stops running or is deleted the servers stop and
//! the registrations go (connections to them are refused).
//!
//! A pod with an `istio-proxy` container sends its applications' outbound requests through
//! a [`Sidecar`] (the data-plane model); a pod in Istio's ambient mode through ztunnel (and
//! the waypoints, whose pods run the same Envoy model: `mesh::ztunnel`); other pods use plain
//! service networking.

mod assets;
pub(crate) mod bookinfo;
pub mod http;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::task::JoinHandle;

use crate::net::PodNetwork;
use crate::store::Store;
use crate::world::fleet::Fleet;
use crate::world::mesh::istio::ProxyIdentity;
use crate::world::mesh::sidecar::{Clock, Direct, Outbound, Sidecar};
use crate::world::mesh::ztunnel::{WaypointProxies, Ztunnel, is_waypoint_pod, pod_uses_ztunnel};
use crate::world::obj::{self, is_deleting, labels, name, namespace, str_at};
use bookinfo::{AppContext, app_for, handler};

/// Shell tools the simulated images carry, except distroless ones.
const SHELL_TOOLS: &[&str] = &[
    "sleep", "sh", "bash", "ash", "dash", "busybox", "cat", "echo", "env", "ls", "tail", "true",
    "false", "timeout",
];

/// The image catalogue's answer to "can this container's `command` start?": `Some(exe)`
/// when it names a shell tool (`sleep`, `sh`, ...) and the image is distroless (its
/// reference says `distroless`, except `debug` variants, which add busybox): such an image
/// holds its application and nothing else. Every other image of the simulated clusters
/// (bookinfo's, Istio's, any unknown one) runs any command.
pub(crate) fn missing_executable(container: &Value) -> Option<String> {
    let exe = container
        .get("command")
        .and_then(Value::as_array)?
        .first()?
        .as_str()?;
    let image = str_at(container, "/image").to_ascii_lowercase();
    let tag = image
        .rsplit('/')
        .next()
        .and_then(|last| last.split_once(':'))
        .map_or("", |(_, t)| t);
    let distroless = image.contains("distroless") && !tag.contains("debug");
    let base = exe.rsplit('/').next().unwrap_or(exe);
    (distroless && SHELL_TOOLS.contains(&base)).then(|| exe.to_string())
}

/// Whether a pod carries an injected Istio sidecar: an `istio-proxy` container and the
/// `sidecar.istio.io/status` annotation (gateways run `istio-proxy` without it).
pub fn has_sidecar(pod: &Value) -> bool {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| str_at(c, "/name") == "istio-proxy"))
        && obj::string_map(pod, "/metadata/annotations")
            .contains_key(crate::world::inject::STATUS_ANNOTATION)
}

struct PodRuntime {
    ip: String,
    ports: Vec<u16>,
    tasks: Vec<JoinHandle<()>>,
    sidecar: Option<Arc<Sidecar>>,
}

/// The running workloads of one cluster.
pub struct Workloads {
    cluster: String,
    istio_version: String,
    net: Arc<PodNetwork>,
    fleet: Arc<Fleet>,
    clock: Arc<dyn Clock>,
    pods: Mutex<HashMap<String, PodRuntime>>,
    /// The Envoys of the cluster's waypoint pods, for the ztunnel of its ambient pods.
    waypoints: Arc<WaypointProxies>,
}

impl Workloads {
    /// The workloads of cluster `cluster` (Istio `istio_version` on its sidecars), on `net`,
    /// reaching other clusters through `fleet`, on the real clock.
    pub fn on_system_clock(
        cluster: &str,
        istio_version: &str,
        net: Arc<PodNetwork>,
        fleet: Arc<Fleet>,
    ) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(crate::world::mesh::sidecar::SystemClock::new());
        Self::new(cluster, istio_version, net, fleet, clock)
    }

    pub(crate) fn new(
        cluster: &str,
        istio_version: &str,
        net: Arc<PodNetwork>,
        fleet: Arc<Fleet>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Workloads {
            cluster: cluster.to_string(),
            istio_version: istio_version.to_string(),
            net,
            fleet,
            clock,
            pods: Mutex::new(HashMap::new()),
            waypoints: Arc::new(WaypointProxies::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PodRuntime>> {
        self.pods.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sidecar of a running pod (by namespace and name), for tests and explanations.
    pub fn sidecar(&self, store: &Store, ns: &str, pod: &str) -> Option<Arc<Sidecar>> {
        let p = store.get(&obj::pods(), ns, pod)?;
        self.lock().get(obj::uid(&p))?.sidecar.clone()
    }

    fn stop(&self, rt: PodRuntime) {
        self.waypoints.remove(&rt.ip);
        for t in &rt.tasks {
            t.abort();
        }
        for port in rt.ports {
            self.net.unregister(&rt.ip, port);
        }
    }

    /// Stop every server and free every registration.
    pub(crate) fn stop_all(&self) {
        let all: Vec<PodRuntime> = self.lock().drain().map(|(_, v)| v).collect();
        for rt in all {
            self.stop(rt);
        }
    }

    async fn start(&self, pod: &Value, store: &Store) -> PodRuntime {
        let logs = store.logs();
        let ip = str_at(pod, "/status/podIP").to_string();
        let ns = namespace(pod).to_string();
        // A waypoint's pod runs an Envoy too: the same model as a sidecar, for its own pod
        // (with a waypoint's cluster names).
        let waypoint = is_waypoint_pod(pod);
        let identity = ProxyIdentity {
            cluster: self.cluster.clone(),
            namespace: ns.clone(),
            labels: labels(pod),
            istio_version: self.istio_version.clone(),
            waypoint,
            ztunnel: false,
        };
        let sidecar = (has_sidecar(pod) || waypoint).then(|| {
            Arc::new(Sidecar::new(
                identity.clone(),
                self.fleet.clone(),
                self.clock.clone(),
                &format!("{}/{}", self.cluster, name(pod)),
            ))
        });
        if let (true, Some(envoy)) = (waypoint, &sidecar) {
            self.waypoints.insert(&ip, envoy.clone());
        }
        let outbound = match &sidecar {
            Some(s) if !waypoint => Outbound::Sidecar(s.clone()),
            _ if !waypoint && pod_uses_ztunnel(store, pod) => Outbound::Ambient(Arc::new(
                Ztunnel::new(identity, self.fleet.clone(), self.waypoints.clone()),
            )),
            _ => Outbound::Direct(Arc::new(Direct::new(
                &self.cluster,
                &ns,
                self.fleet.clone(),
            ))),
        };
        let ctx = AppContext {
            pod_name: name(pod).to_string(),
            cluster: self.cluster.clone(),
            outbound,
        };
        let mut rt = PodRuntime {
            ip: ip.clone(),
            ports: Vec::new(),
            tasks: Vec::new(),
            sidecar,
        };
        let containers = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for c in &containers {
            let log = logs.start(obj::uid(pod), str_at(c, "/name"));
            let Some((app, ports)) = app_for(c) else {
                continue;
            };
            for port in ports {
                if rt.ports.contains(&port) {
                    continue;
                }
                match http::spawn_server(handler(app.clone(), ctx.clone(), log.clone())).await {
                    Ok((addr, task)) => {
                        log.write(format!("listening on port {port}"));
                        self.net.register(&ip, port, addr);
                        rt.ports.push(port);
                        rt.tasks.push(task);
                    }
                    Err(_) => continue,
                }
            }
        }
        rt
    }

    /// Start servers for newly running pods and stop those of pods that stopped.
    pub async fn reconcile(&self, store: &Store) {
        let (pods, _) = store.list(&obj::pods(), None);
        let running: HashMap<String, &Value> = pods
            .iter()
            .filter(|p| {
                !is_deleting(p)
                    && str_at(p, "/status/phase") == "Running"
                    && !str_at(p, "/status/podIP").is_empty()
            })
            .map(|p| (obj::uid(p).to_string(), p))
            .collect();
        let gone: Vec<(String, PodRuntime)> = {
            let mut map = self.lock();
            let stale: Vec<String> = map
                .iter()
                .filter(|(uid, rt)| {
                    running
                        .get(*uid)
                        .is_none_or(|p| str_at(p, "/status/podIP") != rt.ip)
                })
                .map(|(uid, _)| uid.clone())
                .collect();
            stale
                .into_iter()
                .filter_map(|u| map.remove(&u).map(|rt| (u, rt)))
                .collect()
        };
        for (uid, rt) in gone {
            store.logs().stop(&uid);
            self.stop(rt);
        }
        let live: std::collections::HashSet<String> =
            pods.iter().map(|p| obj::uid(p).to_string()).collect();
        store.logs().retain(&live);
        let missing: Vec<&Value> = {
            let map = self.lock();
            running
                .iter()
                .filter(|(uid, _)| !map.contains_key(*uid))
                .map(|(_, p)| *p)
                .collect()
        };
        for pod in missing {
            let rt = self.start(pod, store).await;
            self.lock().insert(obj::uid(pod).to_string(), rt);
        }
    }
}

impl Drop for Workloads {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Keep workloads in line with the pods until aborted.
pub async fn run(store: Arc<Store>, workloads: Arc<Workloads>, resync: Duration) {
    let mut rx = store.subscribe();
    loop {
        workloads.reconcile(&store).await;
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(ev) if ev.gvr != obj::pods() => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(resync) => break,
            }
        }
        loop {
            match rx.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
    }
}
