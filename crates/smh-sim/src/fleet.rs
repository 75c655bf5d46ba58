//! Several simulated clusters started together, their in-process behaviour attached, and a
//! kubeconfig for them: what `kubectl smh demo up` and multi-cluster tests run.
//!
//! Start order: every cluster's API server starts (no faults yet); each [`StartHook`] runs
//! once per cluster, with the handles of all clusters (so cross-cluster behaviour, like a
//! sidecar resolving a remote cluster's services, can be wired); each server is checked with
//! `GET /readyz`; then the configured faults are switched on. The API servers answer then,
//! but bookinfo is still rolling out: [`SimFleet::wait_ready`] waits until every Deployment
//! is available and every Service's Endpoints list its pods, which is when `demo up` writes
//! the kubeconfig ([`SimFleet::write_kubeconfig`]) and when tests start using the clusters.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::api::auth::SimUser;
use super::cluster::{ClusterHandle, ClusterOptions, SimCluster, SimError};
use super::store::Store;
use super::world::controller::PodStartHold;
use super::world::mesh::sidecar::Sidecar;
use super::world::workload::Workloads;
use super::world::{self, Layout, WorldOptions};
use smh_core::model::topology::MultiClusterMode;

/// What a start hook leaves running in a cluster; it stops when the cluster shuts down.
pub enum Attachment {
    /// A task, aborted at shutdown.
    Task(JoinHandle<()>),
    /// Anything whose drop stops what it runs (e.g. simworld's `WorldHandle`), dropped at
    /// shutdown.
    Guard(Box<dyn Send>),
}

/// In-process behaviour to attach to each cluster of a fleet: called once per cluster, inside
/// the tokio runtime, with that cluster's handle and the handles of every cluster in the fleet
/// (itself included, in start order); returns what it left running, or why it failed (the
/// fleet then does not start).
pub type StartHook =
    Arc<dyn Fn(&ClusterHandle, &[ClusterHandle]) -> Result<Vec<Attachment>, String> + Send + Sync>;

/// The hook that runs simworld's bookinfo world in each cluster ([`crate::world`]):
/// seeds the guide's prerequisites (istiod, bookinfo in SMH's layout, the mesh's federation
/// objects for `mode`) and starts the controllers and workloads. Clusters named
/// `mgmt-cluster` and `remote-cluster` get SMH's layout; any other cluster runs no bookinfo.
/// Pod readiness takes each cluster's `rollout_delay`. Each istiod's cluster ID, and the key
/// of the other clusters' remote secrets for it, is the cluster's `istio_cluster_id`; when
/// unset, the demo's ([`world::DEMO_MGMT_CLUSTER_ID`], [`world::DEMO_REMOTE_CLUSTER_ID`])
/// or, for other clusters, the cluster's name.
pub fn bookinfo_world(mode: MultiClusterMode, istio_version: &str) -> StartHook {
    bookinfo_world_observed(mode, istio_version, &WorldSidecars::default())
}

/// Reaches the sidecars of the worlds a [`bookinfo_world_observed`] hook started: an
/// observation hook for benchmarks and tests (see
/// [`world::mesh::sidecar::Sidecar::routing_log`]); also their kubelets' pod-start holds.
#[derive(Clone, Default)]
pub struct WorldSidecars(Arc<Mutex<Vec<ObservedWorld>>>);

/// A cluster name, its store, its workloads and its kubelet's pod-start hold.
type ObservedWorld = (String, Arc<Store>, Arc<Workloads>, PodStartHold);

impl WorldSidecars {
    /// The sidecar of a running pod of `cluster`, if it has one.
    pub fn sidecar(&self, cluster: &str, namespace: &str, pod: &str) -> Option<Arc<Sidecar>> {
        let worlds = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (_, store, workloads, _) = worlds.iter().find(|(c, ..)| c == cluster)?;
        workloads.sidecar(store, namespace, pod)
    }

    /// What keeps new pods of `cluster` from starting ([`PodStartHold`]).
    pub fn pod_starts(&self, cluster: &str) -> Option<PodStartHold> {
        let worlds = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (.., hold) = worlds.iter().find(|(c, ..)| c == cluster)?;
        Some(hold.clone())
    }
}

/// [`bookinfo_world`], recording each world in `sidecars`.
pub fn bookinfo_world_observed(
    mode: MultiClusterMode,
    istio_version: &str,
    sidecars: &WorldSidecars,
) -> StartHook {
    world_hook(mode, false, istio_version, sidecars)
}

/// [`bookinfo_world`] with Istio in ambient mode, multi-primary (what `demo up --ambient`
/// runs, with [`world::ambient::AMBIENT_ISTIO_VERSION`]; see
/// [`world::ambient`](mod@world::ambient)): ztunnel and istio-cni in every cluster, the
/// Gateway API CRDs, bookinfo without sidecars in a namespace labelled
/// `istio.io/dataplane-mode=ambient` that uses the waypoint `bookinfo/waypoint`, and Istio's
/// ambient multicluster settings: each cluster on its own network (`network1`,
/// `network2`, ...) with an east-west gateway, istiod's `AMBIENT_ENABLE_MULTI_NETWORK=true`
/// and the ambient profile's `serviceScopeConfigs`, bookinfo's Services global.
pub fn ambient_bookinfo_world(istio_version: &str) -> StartHook {
    ambient_bookinfo_world_observed(istio_version, &WorldSidecars::default())
}

/// [`ambient_bookinfo_world`], recording each world in `sidecars`.
pub fn ambient_bookinfo_world_observed(istio_version: &str, sidecars: &WorldSidecars) -> StartHook {
    world_hook(
        MultiClusterMode::MultiPrimary,
        true,
        istio_version,
        sidecars,
    )
}

fn world_hook(
    mode: MultiClusterMode,
    ambient: bool,
    istio_version: &str,
    sidecars: &WorldSidecars,
) -> StartHook {
    let sidecars = sidecars.clone();
    let world_fleet = world::Fleet::new();
    let istio_version = istio_version.to_string();
    Arc::new(move |me: &ClusterHandle, all: &[ClusterHandle]| {
        let demo = WorldOptions::demo(mode, &istio_version, me.rollout_delay);
        let index = all.iter().position(|h| h.name == me.name).unwrap_or(0);
        let mut opts = match demo.into_iter().find(|o| o.cluster == me.name) {
            Some(o) => o,
            None => {
                let mut o = WorldOptions::new(&me.name, Layout::Empty, index as u8);
                o.mode = mode;
                o.istio_version = istio_version.clone();
                o.readiness_delay = me.rollout_delay;
                o
            }
        };
        opts.ambient = ambient;
        if let Some(id) = &me.istio_cluster_id {
            opts.cluster_id = id.clone();
        }
        for peer in &mut opts.peers {
            if let Some(id) = all
                .iter()
                .find(|h| h.name == peer.name)
                .and_then(|h| h.istio_cluster_id.clone())
            {
                peer.cluster_id = id;
            }
        }
        world::seed(&me.store, &opts).map_err(|e| format!("seeding {}: {e}", me.name))?;
        // The seed writes straight into the store; give its objects the API server's
        // defaults, as if kubectl had created them.
        me.api.default_stored_objects();
        // Serve the CRDs the seed wrote (Gateway API in an ambient cluster) before anyone asks.
        me.api.resync_crds();
        let handle = world::spawn(me.store.clone(), me.net.clone(), world_fleet.clone(), &opts);
        sidecars.0.lock().unwrap_or_else(|e| e.into_inner()).push((
            me.name.clone(),
            me.store.clone(),
            handle.workloads().clone(),
            handle.pod_starts().clone(),
        ));
        Ok(vec![Attachment::Guard(Box::new(handle))])
    })
}

/// The demo's management cluster name.
pub const MGMT_CLUSTER: &str = "mgmt-cluster";
/// The demo's remote cluster name.
pub const REMOTE_CLUSTER: &str = "remote-cluster";

/// First line of every kubeconfig a fleet writes; `demo up` only replaces or removes files
/// that start with it.
pub const KUBECONFIG_MARKER: &str = "# kubectl-smh demo kubeconfig";

/// Which clusters to start and what to attach to them.
#[derive(Clone)]
pub struct FleetOptions {
    /// The clusters, started in this order.
    pub clusters: Vec<ClusterOptions>,
    /// What to attach to each cluster once all have started (see [`StartHook`]).
    pub hooks: Vec<StartHook>,
}

impl FleetOptions {
    /// Service Mesh Hub's two-cluster layout: `mgmt-cluster` (SMH CRDs and the
    /// `service-mesh-hub` namespace, pods in 10.1.0.0/16, Istio cluster ID `cluster1`) and
    /// `remote-cluster` (pods in 10.2.0.0/16, Istio cluster ID `cluster2`), both with Istio's
    /// networking CRDs.
    pub fn demo() -> Self {
        let mut mgmt = ClusterOptions::new(MGMT_CLUSTER);
        mgmt.pod_octet = 1;
        mgmt.smh_crds = true;
        mgmt.namespaces = vec![smh_core::consts::SMH_NAMESPACE.to_string()];
        mgmt.istio_cluster_id = Some(world::DEMO_MGMT_CLUSTER_ID.to_string());
        let mut remote = ClusterOptions::new(REMOTE_CLUSTER);
        remote.pod_octet = 2;
        remote.istio_cluster_id = Some(world::DEMO_REMOTE_CLUSTER_ID.to_string());
        FleetOptions {
            clusters: vec![mgmt, remote],
            hooks: Vec::new(),
        }
    }

    /// Every cluster also knows `user` (with no permissions until a binding grants some;
    /// [`SimFleet::kubeconfig_yaml_for`] writes a kubeconfig for it).
    pub fn with_user(mut self, user: SimUser) -> Self {
        for c in &mut self.clusters {
            c.auth.users.push(user.clone());
        }
        self
    }
}

/// Running clusters.
pub struct SimFleet {
    clusters: Vec<SimCluster>,
}

/// `GET /readyz` over a fresh connection; true on a 200 answer.
pub(crate) async fn probe_ready(addr: std::net::SocketAddr) -> bool {
    let attempt = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        Some(buf.starts_with(b"HTTP/1.1 200"))
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// How long [`SimFleet::start`] waits for each API server's `/readyz`. The servers are in
/// this process and answer at once on an idle machine; on a loaded one a single answer can
/// take seconds (seen: more than 2 s with the load ten times the cores).
const READYZ_DEADLINE: Duration = Duration::from_secs(30);

/// [`probe_ready`] again (every 20 ms) until it answers 200 or `deadline` has passed.
async fn answers_readyz(addr: std::net::SocketAddr, deadline: Duration) -> bool {
    let start = std::time::Instant::now();
    loop {
        if probe_ready(addr).await {
            return true;
        }
        if start.elapsed() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl SimFleet {
    /// Start the clusters, run the hooks, check readiness, switch on faults.
    pub async fn start(opts: FleetOptions) -> Result<SimFleet, SimError> {
        let mut names: Vec<String> = opts.clusters.iter().map(|c| c.name.clone()).collect();
        names.sort();
        let unique = names.windows(2).all(|w| w[0] != w[1]);
        if !unique || names.iter().any(String::is_empty) {
            return Err(SimError::Names(names));
        }
        let mut clusters = Vec::new();
        for c in &opts.clusters {
            clusters.push(SimCluster::start_without_faults(c.clone()).await?);
        }
        let handles: Vec<ClusterHandle> = clusters.iter().map(SimCluster::handle).collect();
        for (c, h) in clusters.iter().zip(&handles) {
            for hook in &opts.hooks {
                let attached = hook(h, &handles).map_err(|message| SimError::Hook {
                    cluster: c.name().to_string(),
                    message,
                })?;
                for a in attached {
                    match a {
                        Attachment::Task(t) => c.attach(vec![t]),
                        Attachment::Guard(g) => c.attach_guard(g),
                    }
                }
            }
        }
        for c in &clusters {
            if !answers_readyz(c.addr(), READYZ_DEADLINE).await {
                return Err(SimError::NotReady {
                    cluster: c.name().to_string(),
                    url: c.url(),
                });
            }
        }
        for (c, o) in clusters.iter().zip(&opts.clusters) {
            c.faults().set(o.faults.clone());
        }
        Ok(SimFleet { clusters })
    }

    /// Waits until every cluster is ready to use: every Deployment available and every
    /// Service's Endpoints listing its pods (see [`super::ready`]). Returns how long that
    /// took, or [`SimError::Unready`] naming the first object (cluster, kind, namespace,
    /// name) still pending after `timeout`. Call it after a start, or after changing
    /// Deployments, before using the clusters.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<Duration, SimError> {
        super::ready::wait(&self.stores(), timeout)
            .await
            .map_err(|e| SimError::Unready(Box::new(e)))
    }

    /// What keeps the clusters from being ready now (empty when they are).
    pub fn pending(&self) -> Vec<super::ready::Pending> {
        self.stores()
            .iter()
            .flat_map(|(name, store)| super::ready::pending(name, store))
            .collect()
    }

    fn stores(&self) -> Vec<(String, Arc<Store>)> {
        self.clusters
            .iter()
            .map(|c| (c.name().to_string(), c.store()))
            .collect()
    }

    /// The running clusters, in start order.
    pub fn clusters(&self) -> &[SimCluster] {
        &self.clusters
    }

    /// The running cluster named `name`.
    pub fn cluster(&self, name: &str) -> Option<&SimCluster> {
        self.clusters.iter().find(|c| c.name() == name)
    }

    /// A kubeconfig for the fleet, like the one `demo up` writes, for another user (one of the clusters'
    /// [`ClusterOptions::auth`] users): every context uses its token.
    pub(crate) fn kubeconfig_yaml_for(&self, user: &SimUser) -> String {
        let mut y = format!(
            "{KUBECONFIG_MARKER}: written by `kubectl smh demo up`, removed when it stops.\napiVersion: v1\nkind: Config\nclusters:\n"
        );
        for c in &self.clusters {
            y.push_str(&format!(
                "- name: {}\n  cluster:\n    server: {}\n",
                c.name(),
                c.url()
            ));
        }
        y.push_str("contexts:\n");
        for c in &self.clusters {
            y.push_str(&format!(
                "- name: {n}\n  context:\n    cluster: {n}\n    user: {u}\n    namespace: default\n",
                n = c.name(),
                u = user.name
            ));
        }
        let current = self.clusters.first().map(|c| c.name()).unwrap_or_default();
        y.push_str(&format!(
            "users:\n- name: {u}\n  user:\n    token: {t}\ncurrent-context: {current}\npreferences: {{}}\n",
            u = user.name,
            t = user.token
        ));
        y
    }

    /// Write the kubeconfig atomically: to a temporary file beside `path`, then renamed.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), SimError> {
        self.write_kubeconfig_for(path, &super::cluster::admin_user())
    }

    /// [`SimFleet::write_kubeconfig`] for another user.
    pub fn write_kubeconfig_for(&self, path: &Path, user: &SimUser) -> Result<(), SimError> {
        let err = |source| SimError::Kubeconfig {
            path: path.display().to_string(),
            source,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{file}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, self.kubeconfig_yaml_for(user)).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            err(e)
        })
    }

    /// Stop every cluster.
    pub async fn shutdown(&self) {
        for c in &self.clusters {
            c.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_fleet_and_kubeconfig() {
        let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = calls.clone();
        let hook: StartHook = Arc::new(move |me: &ClusterHandle, all: &[ClusterHandle]| {
            seen.lock().unwrap().push((me.name.clone(), all.len()));
            Ok(Vec::new())
        });
        let mut opts = FleetOptions::demo();
        opts.hooks.push(hook);
        let fleet = SimFleet::start(opts).await.unwrap();
        assert_eq!(
            *calls.lock().unwrap(),
            vec![
                ("mgmt-cluster".to_string(), 2),
                ("remote-cluster".to_string(), 2)
            ]
        );
        let y = fleet.kubeconfig_yaml_for(&crate::cluster::admin_user());
        assert!(y.starts_with(KUBECONFIG_MARKER));
        assert!(y.contains("current-context: mgmt-cluster"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kc");
        fleet.write_kubeconfig(&path).unwrap();
        let kc = kube::config::Kubeconfig::read_from(&path).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("mgmt-cluster"));
        let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["mgmt-cluster", "remote-cluster"]);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        assert!(
            SimFleet::start(FleetOptions {
                clusters: vec![ClusterOptions::new("a"), ClusterOptions::new("a")],
                hooks: vec![]
            })
            .await
            .is_err()
        );
        fleet.shutdown().await;
        assert!(!probe_ready(fleet.clusters()[0].addr()).await);
        let failing: StartHook =
            Arc::new(|_: &ClusterHandle, _: &[ClusterHandle]| Err("no".to_string()));
        let mut opts = FleetOptions::demo();
        opts.hooks.push(failing);
        let err = SimFleet::start(opts).await.err().unwrap();
        assert_eq!(
            err.to_string(),
            "cluster mgmt-cluster: start hook failed: no"
        );
    }

    /// A server whose first `/readyz` goes unanswered past the 2 s of one probe (as a starved
    /// API server's can) still counts once a later probe gets its 200; one that never answers
    /// does not.
    #[tokio::test]
    async fn readyz_is_probed_again_until_the_deadline() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (_first, _) = listener.accept().await.unwrap(); // held, never answered
            let (mut second, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = second.read(&mut buf).await;
            second
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .unwrap();
            second.shutdown().await.unwrap();
            // Keep the first connection open until the test ends.
            std::future::pending::<()>().await;
        });
        let start = std::time::Instant::now();
        assert!(answers_readyz(addr, Duration::from_secs(20)).await);
        assert!(start.elapsed() >= Duration::from_secs(2));
        server.abort();

        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        assert!(!answers_readyz(addr, Duration::from_millis(100)).await);
        drop(silent);
    }

    /// `wait_ready` on the demo with bookinfo: pending right after the start (pods take 1 s
    /// to become ready), ready once every Deployment is available and the Endpoints list the
    /// pods; pending again after a scale-up until the new pod is ready and listed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wait_ready_waits_for_available_deployments_and_endpoints() {
        use crate::world::obj;
        let mut opts = FleetOptions::demo();
        for c in opts.clusters.iter_mut() {
            c.rollout_delay = Duration::from_secs(1);
        }
        opts.hooks
            .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
        let fleet = SimFleet::start(opts).await.unwrap();
        let pending = fleet.pending();
        for (cluster, name) in [
            ("mgmt-cluster", "productpage-v1"),
            ("remote-cluster", "reviews-v3"),
        ] {
            assert!(
                pending.iter().any(|p| p.cluster == cluster
                    && p.kind == "Deployment"
                    && p.namespace == "bookinfo"
                    && p.name == name),
                "{cluster} {name}: {pending:#?}"
            );
        }
        // Too short a deadline names what is pending.
        match fleet.wait_ready(Duration::from_millis(100)).await {
            Err(SimError::Unready(e)) => {
                assert_eq!(e.first.cluster, "mgmt-cluster");
                assert_eq!(e.first.kind, "Deployment");
                assert!(e.pending > 1, "{e}");
            }
            other => panic!("expected Unready, got {other:?}"),
        }
        let took = fleet.wait_ready(Duration::from_secs(60)).await.unwrap();
        assert!(took < Duration::from_secs(60));
        assert_eq!(fleet.pending(), Vec::new());
        let mgmt = fleet.cluster("mgmt-cluster").unwrap();
        let store = mgmt.store();
        let ready_addresses = |svc: &str| -> usize {
            let ep = store.get(&obj::endpoints(), "bookinfo", svc).unwrap();
            ep["subsets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["addresses"].as_array().map_or(0, Vec::len))
                .sum()
        };
        assert_eq!(ready_addresses("reviews"), 2);
        for d in store.list(&obj::deployments(), None).0 {
            assert!(deployment_is_available(&d), "{d:#}");
        }

        // Scale reviews-v1 to 2: pending until the new pod is ready and listed.
        let mut d = store
            .get(&obj::deployments(), "bookinfo", "reviews-v1")
            .unwrap();
        d["spec"]["replicas"] = serde_json::json!(2);
        let res = mgmt.api().resource("apps", "v1", "deployments").unwrap();
        mgmt.api()
            .update(&res, "bookinfo", "reviews-v1", d, None, &Default::default())
            .unwrap();
        assert!(
            fleet
                .pending()
                .iter()
                .any(|p| p.kind == "Deployment" && p.name == "reviews-v1"),
            "{:#?}",
            fleet.pending()
        );
        fleet.wait_ready(Duration::from_secs(60)).await.unwrap();
        assert_eq!(ready_addresses("reviews"), 3);
        fleet.shutdown().await;
    }

    /// What the test reads independently of `ready`: the status as kubectl shows it.
    fn deployment_is_available(d: &serde_json::Value) -> bool {
        let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let s = &d["status"];
        s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Available" && c["status"] == "True")
            && s["observedGeneration"] == d["metadata"]["generation"]
            && [
                "replicas",
                "updatedReplicas",
                "readyReplicas",
                "availableReplicas",
            ]
            .iter()
            .all(|f| s[*f].as_i64().unwrap_or(0) == want)
    }
}
