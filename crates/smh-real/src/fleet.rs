//! Two real control planes seeded like the demo (`mgmt-cluster` and `remote-cluster`), each
//! with one node run by the node agent, and the simulator's bookinfo workloads and data plane
//! running on mirrors of them; see the crate documentation.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use smh_core::model::topology::MultiClusterMode;
use smh_sim::net::PodNetwork;
use smh_sim::store::{Gvr, Store};
use smh_sim::world::workload::Workloads;
use smh_sim::world::{Fleet, WorldOptions};
use tokio::task::JoinHandle;

use crate::agent::{self, PodLoop};
use crate::kubelet::{self, NodeState};
use crate::peers::Peers;
use crate::plane::{Credentials, Plane, kubeconfig_yaml};
use crate::procs::{Crash, Supervisor};

/// The Istio version on istiod's and the sidecars' images.
pub const ISTIO_VERSION: &str = "1.24.2";

/// How a fleet is started.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// How the clusters' meshes reach each other.
    pub mode: MultiClusterMode,
    /// Where certificates, etcd data and logs go (created if missing).
    pub dir: PathBuf,
    /// How long every Deployment may take to become available.
    pub timeout: Duration,
}

/// One running cluster.
pub struct Member {
    /// Its control plane.
    pub plane: Plane,
    /// The mirror of its objects.
    pub store: Arc<Store>,
    /// Its node's pod network.
    pub net: Arc<PodNetwork>,
    /// The node agent's HTTPS address (kubelet API and injection webhook).
    pub agent: SocketAddr,
    /// An admin client.
    pub client: kube::Client,
    /// The running bookinfo applications and sidecars.
    pub workloads: Arc<Workloads>,
}

/// The running fleet. Dropping it stops every task and process.
pub struct RealFleet {
    members: Vec<Member>,
    tasks: Vec<JoinHandle<()>>,
    sup: Supervisor,
    /// The simulated fleet the data-plane model routes through (the mirrors).
    pub sim: Arc<Fleet>,
    /// How long the start took, until every Deployment was available.
    pub startup: Duration,
    dir: PathBuf,
}

impl std::fmt::Debug for RealFleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealFleet")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

async fn start_member(
    plane: Plane,
    opts: &WorldOptions,
    sim: &Arc<Fleet>,
    tasks: &mut Vec<JoinHandle<()>>,
    client: kube::Client,
) -> Result<Member> {
    let store = Arc::new(Store::new());
    let net = Arc::new(PodNetwork::new(plane.pod_octet));
    sim.register(&plane.name, store.clone(), net.clone());
    tasks.extend(crate::mirror::start(&client, &store));
    let state = NodeState {
        store: store.clone(),
        net: net.clone(),
        istio_version: opts.istio_version.clone(),
    };
    let (agent_addr, server) = kubelet::serve(
        SocketAddr::new(plane.node_ip.into(), 0),
        &plane.node_serving,
        state,
    )
    .await?;
    tasks.push(server);
    let node_client = plane
        .client(&format!("system:node:{}", plane.node_name), &plane.node)
        .await?;
    let node = agent::node_object(
        &plane.node_name,
        &plane.node_ip.to_string(),
        agent_addr.port(),
    );
    agent::register(&node_client, &node).await?;
    tasks.push(tokio::spawn(agent::run_heartbeat(
        node_client.clone(),
        plane.node_name.clone(),
    )));
    tasks.push(tokio::spawn(
        PodLoop {
            client: node_client,
            node: plane.node_name.clone(),
            node_ip: plane.node_ip.to_string(),
            net: net.clone(),
        }
        .run(),
    ));
    let workloads = Arc::new(Workloads::on_system_clock(
        &plane.name,
        &opts.istio_version,
        net.clone(),
        sim.clone(),
    ));
    tasks.push(tokio::spawn(smh_sim::world::workload::run(
        store.clone(),
        workloads.clone(),
        Duration::from_secs(1),
    )));
    let webhook = kubelet::injector_webhook(agent_addr, &plane.ca_pem);
    crate::seed::create(
        &client,
        &Gvr::new(
            "admissionregistration.k8s.io",
            "v1",
            "mutatingwebhookconfigurations",
        ),
        &webhook,
    )
    .await?;
    Ok(Member {
        plane,
        store,
        net,
        agent: agent_addr,
        client,
        workloads,
    })
}

impl RealFleet {
    /// Start the fleet; returns once every Deployment of both clusters is available and every
    /// bookinfo Service has ready endpoints.
    pub async fn start(opts: &FleetOptions) -> Result<RealFleet> {
        let worlds = WorldOptions::demo(opts.mode, ISTIO_VERSION, Duration::ZERO);
        RealFleet::start_worlds(opts, worlds).await
    }

    /// Start one control plane per world of `worlds` (the first is the management cluster and
    /// the kubeconfig's current context), seeded as the world says, e.g. the clusters of
    /// [`WorldOptions::fleet`]; `opts.mode` is not used (each world has its mode). Returns once
    /// every Deployment is available and every bookinfo Service has ready endpoints.
    pub async fn start_worlds(
        opts: &FleetOptions,
        mut worlds: Vec<WorldOptions>,
    ) -> Result<RealFleet> {
        let begin = Instant::now();
        let peers = Peers::locate()?;
        if worlds.is_empty() || worlds.len() > 16 {
            bail!("a real fleet has 1 to 16 clusters, not {}", worlds.len());
        }
        std::fs::create_dir_all(&opts.dir)
            .with_context(|| format!("creating {}", opts.dir.display()))?;
        let sup = Supervisor::new(&opts.dir.join("logs"))?;
        let mut planes = Vec::new();
        for (i, w) in worlds.iter_mut().enumerate() {
            let plane = Plane::prepare(&w.cluster, i as u8, &opts.dir.join(&w.cluster))?;
            w.node_ip = plane.node_ip.to_string();
            planes.push(plane);
        }
        let mut fleet = RealFleet {
            members: Vec::new(),
            tasks: Vec::new(),
            sup,
            sim: Fleet::new(),
            startup: Duration::ZERO,
            dir: opts.dir.clone(),
        };
        for p in &planes {
            p.start_etcd(&fleet.sup, &peers)?;
        }
        for p in &planes {
            p.start_apiserver(&fleet.sup, &peers)?;
        }
        let mut clients = Vec::new();
        for p in &planes {
            clients.push(p.wait_ready(&fleet.sup, Duration::from_secs(90)).await?);
        }
        for p in &planes {
            p.start_controllers(&fleet.sup, &peers)?;
        }
        let mut expected = 0;
        for ((plane, w), client) in planes.into_iter().zip(&worlds).zip(clients) {
            let m = start_member(plane, w, &fleet.sim, &mut fleet.tasks, client).await?;
            crate::seed::install_istio_crds(&m.client, Duration::from_secs(30)).await?;
            expected += crate::seed::seed(&m.client, w).await?;
            fleet.members.push(m);
        }
        fleet.wait_available(expected, opts.timeout).await?;
        fleet.startup = begin.elapsed();
        Ok(fleet)
    }

    /// What keeps the fleet from being ready, if anything (the first item).
    fn pending(&self, expected: usize) -> Option<String> {
        let mirrored: usize = self
            .members
            .iter()
            .map(|m| {
                m.store
                    .list(&Gvr::new("apps", "v1", "deployments"), None)
                    .0
                    .len()
            })
            .sum();
        if mirrored < expected {
            return Some(format!("{mirrored} of {expected} Deployments seen"));
        }
        for m in &self.members {
            let pending = smh_sim::ready::pending(&m.plane.name, &m.store);
            if let Some(p) = pending.iter().find(|p| p.kind == "Deployment") {
                return Some(p.to_string());
            }
            for svc in m
                .store
                .list(&Gvr::new("", "v1", "services"), Some("bookinfo"))
                .0
            {
                let name = svc
                    .pointer("/metadata/name")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let ready = m
                    .store
                    .get(&Gvr::new("", "v1", "endpoints"), "bookinfo", name)
                    .and_then(|e| e.pointer("/subsets/0/addresses/0").cloned())
                    .is_some();
                if !ready {
                    return Some(format!(
                        "Endpoints bookinfo/{name} in {} list no ready address",
                        m.plane.name
                    ));
                }
            }
        }
        None
    }

    async fn wait_available(&self, expected: usize, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(c) = self.sup.crashed() {
                bail!("{c}");
            }
            let Some(what) = self.pending(expected) else {
                return Ok(());
            };
            if Instant::now() > deadline {
                bail!(
                    "not ready after {}s: {what}; logs in {}",
                    timeout.as_secs(),
                    self.sup.log_dir().display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The clusters.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The kubeconfig with a context per cluster (the admin user), current `mgmt-cluster`.
    pub fn kubeconfig(&self) -> String {
        let entries: Vec<_> = self
            .members
            .iter()
            .map(|m| {
                (
                    m.plane.name.as_str(),
                    m.plane.server.as_str(),
                    m.plane.ca_pem.as_str(),
                    Credentials {
                        user: format!("{}-admin", m.plane.name),
                        pair: &m.plane.admin,
                    },
                )
            })
            .collect();
        let current = self
            .members
            .first()
            .map_or("mgmt-cluster", |m| m.plane.name.as_str());
        kubeconfig_yaml(&entries, current)
    }

    /// A kubeconfig like [`RealFleet::kubeconfig`] for user `user` in `groups` instead of the
    /// admin: a client certificate from each cluster's CA, so RBAC decides what it may do.
    pub fn user_kubeconfig(&self, user: &str, groups: &[&str]) -> Result<String> {
        let pairs = self
            .members
            .iter()
            .map(|m| m.plane.issue_user(user, groups))
            .collect::<Result<Vec<_>>>()?;
        let entries: Vec<_> = self
            .members
            .iter()
            .zip(&pairs)
            .map(|(m, pair)| {
                (
                    m.plane.name.as_str(),
                    m.plane.server.as_str(),
                    m.plane.ca_pem.as_str(),
                    Credentials {
                        user: format!("{user}@{}", m.plane.name),
                        pair,
                    },
                )
            })
            .collect();
        let current = self
            .members
            .first()
            .map_or("mgmt-cluster", |m| m.plane.name.as_str());
        Ok(kubeconfig_yaml(&entries, current))
    }

    /// Write [`RealFleet::kubeconfig`] to `path` (mode 0600).
    pub fn write_kubeconfig(&self, path: &Path) -> Result<()> {
        crate::pki::write_private(path, &self.kubeconfig())
    }

    /// The fleet's directory (certificates, etcd data, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where every component's log is.
    pub fn log_dir(&self) -> &Path {
        self.sup.log_dir()
    }

    /// The processes running: (component, pid).
    pub fn processes(&self) -> Vec<(String, u32)> {
        self.sup.running()
    }

    /// A component that exited on its own.
    pub fn crashed(&self) -> Option<Crash> {
        self.sup.crashed()
    }

    /// What runs where, one line each.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let procs = self.sup.running();
        for m in &self.members {
            out.push_str(&format!("{}:\n", m.plane.name));
            out.push_str(&format!("  kube-apiserver           {}\n", m.plane.server));
            for (name, pid) in procs
                .iter()
                .filter(|(n, _)| n.starts_with(&format!("{}/", m.plane.name)))
            {
                let short = name.split('/').nth(1).unwrap_or(name);
                out.push_str(&format!("  {short:<24} pid {pid}\n"));
            }
            out.push_str(&format!(
                "  node {:<19} {} (kubelet API and injection webhook https://{})\n",
                m.plane.node_name, m.plane.node_ip, m.agent
            ));
            let pods = m
                .store
                .list(&Gvr::new("", "v1", "pods"), Some("bookinfo"))
                .0;
            let mut names: Vec<String> = pods
                .iter()
                .map(|p| {
                    format!(
                        "{} {}",
                        p.pointer("/metadata/name")
                            .and_then(|v| v.as_str())
                            .unwrap_or_default(),
                        p.pointer("/status/podIP")
                            .and_then(|v| v.as_str())
                            .unwrap_or_default()
                    )
                })
                .collect();
            names.sort();
            for n in names {
                out.push_str(&format!("  pod bookinfo/{n}\n"));
            }
        }
        out.push_str(&format!("logs: {}\n", self.sup.log_dir().display()));
        out
    }

    /// Stop everything now (also what dropping does).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for RealFleet {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.sup.stop_all();
        for m in &self.members {
            // The etcd data is large and useless once stopped; logs stay.
            let _ = std::fs::remove_dir_all(m.plane.dir.join("etcd"));
        }
    }
}
