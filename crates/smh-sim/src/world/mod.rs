//! What runs inside a simulated cluster: controllers, bookinfo workloads, istiod, and the
//! mesh data plane.
//!
//! Wiring, for each cluster of a demo (all sharing one [`Fleet`]):
//!
//! ```no_run
//! # async fn demo() -> Result<(), smh_sim::store::StoreError> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use smh_core::model::topology::MultiClusterMode;
//! use smh_sim::{net::PodNetwork, store::Store, world};
//!
//! let fleet = world::Fleet::new();
//! let mut handles = Vec::new();
//! for (i, opts) in world::WorldOptions::demo(MultiClusterMode::Global, "1.24.2", Duration::from_millis(500))
//!     .iter()
//!     .enumerate()
//! {
//!     let store = Arc::new(Store::new());
//!     let net = Arc::new(PodNetwork::new(i as u8 + 1));
//!     world::seed(&store, opts)?;                  // the guide's prerequisites
//!     handles.push(world::spawn(store, net, fleet.clone(), opts)); // controllers + workloads
//! }
//! // ... serve the stores over HTTP; dropping the handles stops everything.
//! # Ok(()) }
//! ```
//!
//! - [`seed()`] creates the objects as the guide's prerequisites leave them (see the
//!   [`seed`](mod@seed) module documentation for the multi-cluster mode signals);
//! - [`spawn`] starts the controllers ([`controller`]) and the workloads ([`workload`]) of
//!   one cluster and registers it in the fleet; it must run inside a tokio runtime;
//! - the data plane ([`mesh`]) routes each sidecar's outbound requests by the Istio objects
//!   in its own cluster, reaching other clusters through the fleet.

pub mod ambient;
pub mod controller;
pub mod fleet;
pub mod inject;
pub mod mesh;
pub(crate) mod obj;
pub(crate) mod seed;
pub mod workload;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::net::PodNetwork;
use crate::store::Store;
pub use fleet::Fleet;
pub use seed::seed;
use smh_core::model::topology::MultiClusterMode;
use workload::Workloads;

/// Which part of SMH's bookinfo layout a cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// productpage-v1, details-v1, ratings-v1, reviews-v1, reviews-v2, plus the
    /// `service-mesh-hub` namespace.
    Management,
    /// reviews-v3 and ratings-v1.
    Remote,
    /// No bookinfo.
    Empty,
}

/// The Istio cluster ID of the demo's `mgmt-cluster` (istiod's `CLUSTER_ID`, as
/// `values.global.multiCluster.clusterName` sets it in Istio's multi-primary install guide).
/// It differs from the SMH cluster name, as on most real installs.
pub(crate) const DEMO_MGMT_CLUSTER_ID: &str = "cluster1";
/// The Istio cluster ID of the demo's `remote-cluster`.
pub(crate) const DEMO_REMOTE_CLUSTER_ID: &str = "cluster2";

/// Another cluster of the fleet, as this one's federation config sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its cluster name.
    pub name: String,
    /// Its Istio cluster ID (the key of this cluster's remote secret for it).
    pub cluster_id: String,
    /// Which of its workloads run there.
    pub layout: Layout,
    /// The external address of its `istio-ingressgateway`.
    pub gateway_ip: String,
}

/// How one simulated cluster is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldOptions {
    /// The cluster's name (`mgmt-cluster`), used for SMH names and routing.
    pub cluster: String,
    /// Istio's cluster ID for it: istiod's `CLUSTER_ID`, the label
    /// `topology.istio.io/cluster` of its endpoints, and the key of the other clusters'
    /// remote secrets for it.
    pub cluster_id: String,
    /// Which workloads run in it.
    pub layout: Layout,
    /// Time from a pod's creation until it runs (and, without readiness probes, is Ready).
    pub readiness_delay: Duration,
    /// How the mesh reaches the other clusters (federated ServiceEntries or multi-primary).
    pub mode: MultiClusterMode,
    /// Istio version on istiod's and the proxies' images, e.g. `1.24.2`.
    pub istio_version: String,
    /// Tag of the bookinfo images (`1.16.2`).
    pub bookinfo_version: String,
    /// The node's InternalIP (and every pod's hostIP).
    pub node_ip: String,
    /// External address of this cluster's ingress gateway.
    pub gateway_ip: String,
    /// The addresses the cluster's simulated load balancer hands out, in order, to Services
    /// of type `LoadBalancer` that have none yet (as MetalLB or a cloud's load balancer
    /// controller would): in the ambient demo, the east-west gateway's Service gets the
    /// first. The ingress gateway's [`WorldOptions::gateway_ip`] is written by the seed.
    pub load_balancer_ips: Vec<String>,
    /// The Istio network of this cluster in ambient mode (`network1`, `network2`, ...: the
    /// label `topology.istio.io/network` of istio-system, and of its east-west gateway):
    /// Istio's ambient mode spans clusters only when each is on its own network. The
    /// sidecar multi-primary demo puts every cluster on `network1`.
    pub network: String,
    /// The other clusters (for federation ServiceEntries or remote secrets).
    pub peers: Vec<Peer>,
    /// Longest time between two controller passes.
    pub resync: Duration,
    /// Istio in ambient mode (see [`ambient`](mod@ambient)): ztunnel, bookinfo without
    /// sidecars behind a waypoint.
    pub ambient: bool,
}

impl WorldOptions {
    /// Options for cluster number `index` of a fleet (addresses derive from it).
    pub fn new(cluster: &str, layout: Layout, index: u8) -> Self {
        WorldOptions {
            cluster: cluster.to_string(),
            cluster_id: cluster.to_string(),
            layout,
            readiness_delay: Duration::from_millis(500),
            mode: MultiClusterMode::Global,
            istio_version: "1.24.2".to_string(),
            bookinfo_version: "1.16.2".to_string(),
            node_ip: format!("172.18.0.{}", 2 + u16::from(index)),
            gateway_ip: format!("172.18.255.{}", 200 + u16::from(index)),
            load_balancer_ips: (0..4u16)
                .map(|k| format!("172.18.{}.{}", 254 - k, 200 + u16::from(index)))
                .collect(),
            network: format!("network{}", 1 + u16::from(index)),
            peers: Vec::new(),
            resync: Duration::from_secs(1),
            ambient: false,
        }
    }

    fn as_peer(&self) -> Peer {
        Peer {
            name: self.cluster.clone(),
            cluster_id: self.cluster_id.clone(),
            layout: self.layout,
            gateway_ip: self.gateway_ip.clone(),
        }
    }

    /// The guide's two clusters, `mgmt-cluster` and `remote-cluster`, each knowing the other,
    /// with Istio cluster IDs [`DEMO_MGMT_CLUSTER_ID`] and [`DEMO_REMOTE_CLUSTER_ID`].
    pub fn demo(
        mode: MultiClusterMode,
        istio_version: &str,
        readiness_delay: Duration,
    ) -> Vec<WorldOptions> {
        let mut worlds = WorldOptions::fleet(
            &["mgmt-cluster", "remote-cluster"],
            mode,
            istio_version,
            readiness_delay,
        );
        worlds[0].cluster_id = DEMO_MGMT_CLUSTER_ID.to_string();
        worlds[1].cluster_id = DEMO_REMOTE_CLUSTER_ID.to_string();
        let peers: Vec<Peer> = worlds.iter().map(WorldOptions::as_peer).collect();
        for (i, w) in worlds.iter_mut().enumerate() {
            w.peers = others(&peers, i);
        }
        worlds
    }

    /// `names.len()` clusters: the first with bookinfo's management layout, every other one
    /// with the remote layout (reviews-v3 and ratings), each knowing every other one as a peer;
    /// cluster IDs are the names. The guide's two clusters are [`WorldOptions::demo`].
    pub fn fleet(
        names: &[&str],
        mode: MultiClusterMode,
        istio_version: &str,
        readiness_delay: Duration,
    ) -> Vec<WorldOptions> {
        let mut worlds: Vec<WorldOptions> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let layout = if i == 0 {
                    Layout::Management
                } else {
                    Layout::Remote
                };
                let index = u8::try_from(i).unwrap_or(u8::MAX);
                let mut o = WorldOptions::new(name, layout, index);
                o.mode = mode;
                o.istio_version = istio_version.to_string();
                o.readiness_delay = readiness_delay;
                o
            })
            .collect();
        let peers: Vec<Peer> = worlds.iter().map(WorldOptions::as_peer).collect();
        for (i, w) in worlds.iter_mut().enumerate() {
            w.peers = others(&peers, i);
        }
        worlds
    }
}

/// Every peer but the `me`-th.
fn others(peers: &[Peer], me: usize) -> Vec<Peer> {
    peers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != me)
        .map(|(_, p)| p.clone())
        .collect()
}

/// The running controllers and workloads of one cluster. Dropping it (or [`WorldHandle::shutdown`])
/// stops the tasks, closes every workload listener and removes the cluster from the fleet.
pub struct WorldHandle {
    cluster: String,
    fleet: Arc<Fleet>,
    store: Arc<Store>,
    tasks: Vec<JoinHandle<()>>,
    workloads: Arc<Workloads>,
    pod_starts: controller::PodStartHold,
}

impl WorldHandle {
    /// The name of the cluster this world runs in.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The cluster's running workloads (for reaching a pod's sidecar).
    pub fn workloads(&self) -> &Arc<Workloads> {
        &self.workloads
    }

    /// The sidecar of a running pod, if it has one.
    pub fn sidecar(&self, namespace: &str, pod: &str) -> Option<Arc<mesh::sidecar::Sidecar>> {
        self.workloads.sidecar(&self.store, namespace, pod)
    }

    /// Holds new pods of this cluster from starting (for tests).
    pub fn pod_starts(&self) -> &controller::PodStartHold {
        &self.pod_starts
    }

    /// Stop everything now.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for WorldHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.workloads.stop_all();
        self.fleet.unregister(&self.cluster);
    }
}

/// Start the controllers and workloads of one cluster and register it in `fleet`. Must be
/// called inside a tokio runtime.
pub fn spawn(
    store: Arc<Store>,
    net: Arc<PodNetwork>,
    fleet: Arc<Fleet>,
    opts: &WorldOptions,
) -> WorldHandle {
    fleet.register(&opts.cluster, store.clone(), net.clone());
    let clock: Arc<dyn mesh::sidecar::Clock> = Arc::new(mesh::sidecar::SystemClock::new());
    let workloads = Arc::new(Workloads::new(
        &opts.cluster,
        &opts.istio_version,
        net.clone(),
        fleet.clone(),
        clock,
    ));
    let cfg = controller::ControllerConfig {
        node_name: format!("{}-control-plane", opts.cluster),
        node_ip: opts.node_ip.clone(),
        readiness_delay: opts.readiness_delay,
        resync: opts.resync,
        seed: mesh::rng::Rng::seed_from(&opts.cluster),
        istio_version: Some(opts.istio_version.clone()),
        pod_starts: controller::PodStartHold::default(),
        load_balancer_ips: opts.load_balancer_ips.clone(),
    };
    let pod_starts = cfg.pod_starts.clone();
    let tasks = vec![
        tokio::spawn(controller::run(store.clone(), net, cfg)),
        tokio::spawn(workload::run(store.clone(), workloads.clone(), opts.resync)),
    ];
    WorldHandle {
        cluster: opts.cluster.clone(),
        fleet,
        store,
        tasks,
        workloads,
        pod_starts,
    }
}
