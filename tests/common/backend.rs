//! The two backends the real-cluster tests run on: the simulated clusters (in process) and
//! real control planes (etcd, kube-apiserver, kube-controller-manager, kube-scheduler built by
//! `scripts/peers/build`, with the node agent of `crates/smh-real`). Both are the guide's two
//! clusters, `mgmt-cluster` and `remote-cluster`, with Istio's objects and bookinfo ready.
//!
//! A test written against [`Clusters`] runs the product through the kubeconfig it writes, so
//! it runs unchanged on both: `for backend in Backend::all()`. Without the real peers the real
//! backend prints a SKIP line (a failure with `SMH_REQUIRE_PEERS=1`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use smh_core::model::topology::MultiClusterMode;

/// Which clusters a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// The simulated clusters (`smh_sim::fleet::SimFleet`), in this process.
    Sim,
    /// Real control planes (`smh_real::fleet::RealFleet`), as child processes.
    Real,
}

impl Backend {
    /// Both backends, simulated first.
    pub(crate) fn all() -> [Backend; 2] {
        [Backend::Sim, Backend::Real]
    }
}

/// Running clusters of either backend. Dropping them stops them; the real backend's logs are
/// kept (and their directory printed) when the test is failing.
pub(crate) enum Clusters {
    /// Simulated.
    Sim(smh_sim::fleet::SimFleet),
    /// Real, with the lock that keeps one real fleet per test binary at a time.
    Real(Box<RealClusters>),
}

/// Real control planes of one test.
pub(crate) struct RealClusters {
    fleet: Option<smh_real::fleet::RealFleet>,
    dir: PathBuf,
    _one_at_a_time: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for RealClusters {
    fn drop(&mut self) {
        drop(self.fleet.take());
        if std::thread::panicking() {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "real control planes' logs kept in {}",
                self.dir.join("logs").display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Real fleets are heavy (two of each component): one per test binary at a time.
fn real_lock() -> Arc<tokio::sync::Mutex<()>> {
    static LOCK: OnceLock<Arc<tokio::sync::Mutex<()>>> = OnceLock::new();
    LOCK.get_or_init(|| Arc::new(tokio::sync::Mutex::new(())))
        .clone()
}

impl Clusters {
    /// Start `backend`'s clusters in `mode` and wait until they are ready. `None` after a SKIP
    /// line when the real peers are missing.
    ///
    /// The real backend must be started from the test's own thread (the body of a
    /// `#[tokio::test]`, not a spawned task): its processes die with the thread that started
    /// them.
    pub(crate) async fn start(backend: Backend, mode: MultiClusterMode) -> Option<Clusters> {
        match backend {
            Backend::Sim => Some(Clusters::Sim(sim(mode).await)),
            Backend::Real => {
                if let Err(e) = smh_real::peers::Peers::locate() {
                    super::skip_or_fail(&format!("real control planes: {e}"));
                    return None;
                }
                let guard = real_lock().lock_owned().await;
                let dir = tempfile::Builder::new()
                    .prefix("real-")
                    .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
                    .expect("a directory for the real control planes")
                    .keep();
                let opts = smh_real::fleet::FleetOptions {
                    mode,
                    dir: dir.clone(),
                    timeout: Duration::from_secs(240),
                };
                let fleet = smh_real::fleet::RealFleet::start(&opts)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "the real control planes start: {e:#} (logs in {})",
                            dir.join("logs").display()
                        )
                    });
                Some(Clusters::Real(Box::new(RealClusters {
                    fleet: Some(fleet),
                    dir,
                    _one_at_a_time: guard,
                })))
            }
        }
    }

    /// Which backend these are.
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Clusters::Sim(_) => Backend::Sim,
            Clusters::Real(_) => Backend::Real,
        }
    }

    /// Write a kubeconfig with contexts `mgmt-cluster` (current) and `remote-cluster`.
    pub(crate) fn write_kubeconfig(&self, path: &Path) {
        match self {
            Clusters::Sim(f) => f.write_kubeconfig(path).expect("kubeconfig written"),
            Clusters::Real(r) => r
                .fleet
                .as_ref()
                .expect("running")
                .write_kubeconfig(path)
                .expect("kubeconfig written"),
        }
    }

    /// Write a kubeconfig like [`Clusters::write_kubeconfig`] for user `user` in `groups`
    /// (client certificates; real backend only, `None` on the simulated one, whose users are
    /// token users: tests/rbac).
    pub(crate) fn write_user_kubeconfig(
        &self,
        path: &Path,
        user: &str,
        groups: &[&str],
    ) -> Option<()> {
        match self {
            Clusters::Sim(_) => None,
            Clusters::Real(r) => {
                let yaml = r
                    .fleet
                    .as_ref()
                    .expect("running")
                    .user_kubeconfig(user, groups)
                    .expect("user certificates issued");
                std::fs::write(path, yaml).expect("kubeconfig written");
                Some(())
            }
        }
    }

    /// Stop the clusters.
    pub(crate) async fn shutdown(self) {
        match self {
            Clusters::Sim(f) => f.shutdown().await,
            Clusters::Real(r) => drop(r),
        }
    }
}

async fn sim(mode: MultiClusterMode) -> smh_sim::fleet::SimFleet {
    let mut opts = smh_sim::fleet::FleetOptions::demo();
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = Duration::from_millis(50);
    }
    opts.hooks
        .push(smh_sim::fleet::bookinfo_world(mode, "1.24.2"));
    let fleet = smh_sim::fleet::SimFleet::start(opts)
        .await
        .expect("the demo clusters start");
    fleet
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("the demo clusters become ready");
    fleet
}

impl Clusters {
    /// An admin client of `cluster` (`mgmt-cluster` or `remote-cluster`).
    pub(crate) fn client(&self, cluster: &str) -> kube::Client {
        match self {
            Clusters::Sim(f) => f
                .cluster(cluster)
                .unwrap_or_else(|| panic!("no cluster {cluster}"))
                .client()
                .expect("a client of the simulated cluster"),
            Clusters::Real(r) => r
                .fleet
                .as_ref()
                .expect("running")
                .members()
                .iter()
                .find(|m| m.plane.name == cluster)
                .unwrap_or_else(|| panic!("no cluster {cluster}"))
                .client
                .clone(),
        }
    }

    /// Make `cluster`'s API server hang (connections accepted, nothing answered) until the
    /// returned guard is dropped. Simulated: the cluster's hang fault. Real: the
    /// kube-apiserver process stopped with SIGSTOP (and continued with SIGCONT), what a user
    /// meets when an API server or the network to it hangs; the controllers of the real
    /// planes run without leader election, so they ride it out.
    pub(crate) fn hang(&self, cluster: &str) -> Hang {
        match self {
            Clusters::Sim(f) => {
                let faults = f
                    .cluster(cluster)
                    .unwrap_or_else(|| panic!("no cluster {cluster}"))
                    .faults();
                faults.set_unreachable(Some(smh_sim::faults::Unreachable::Hang));
                Hang {
                    undo: Some(Box::new(move || faults.clear())),
                }
            }
            Clusters::Real(r) => {
                let component = format!("{cluster}/kube-apiserver");
                let (_, pid) = r
                    .fleet
                    .as_ref()
                    .expect("running")
                    .processes()
                    .into_iter()
                    .find(|(name, _)| *name == component)
                    .unwrap_or_else(|| panic!("no process {component}"));
                let pid = pid as libc::pid_t;
                // SAFETY: kill(2) on a child process of this test's fleet.
                assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "SIGSTOP");
                Hang {
                    undo: Some(Box::new(move || {
                        // SAFETY: as above.
                        unsafe { libc::kill(pid, libc::SIGCONT) };
                    })),
                }
            }
        }
    }
}

/// A hanging API server ([`Clusters::hang`]); it answers again when this is dropped.
pub(crate) struct Hang {
    undo: Option<Box<dyn FnOnce() + Send>>,
}

impl Drop for Hang {
    fn drop(&mut self) {
        if let Some(undo) = self.undo.take() {
            undo();
        }
    }
}

/// The Istio kinds kubectl-smh generates.
pub(crate) const GENERATED_KINDS: [(&str, &str); 4] = [
    ("DestinationRule", "destinationrules"),
    ("VirtualService", "virtualservices"),
    ("ServiceEntry", "serviceentries"),
    ("EnvoyFilter", "envoyfilters"),
];

fn istio_resource(kind: &str, plural: &str) -> kube::api::ApiResource {
    kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("networking.istio.io", "v1alpha3", kind),
        plural,
    )
}

fn smh_resource(kind: &str, plural: &str) -> kube::api::ApiResource {
    kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("networking.smh.solo.io", "v1alpha2", kind),
        plural,
    )
}

/// Back to the clusters as they started: every FailoverService and TrafficPolicy, and every
/// Istio object kubectl-smh generated (by its managed-by label), and the topology cache,
/// deleted; returns once they are gone.
pub(crate) async fn reset(mgmt: &kube::Client, remote: &kube::Client) {
    use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
    let managed = ListParams::default().labels(&format!(
        "{}={}",
        smh_core::consts::MANAGED_BY_LABEL,
        smh_core::consts::MANAGED_BY_VALUE
    ));
    let mut kinds: Vec<(kube::Client, kube::api::ApiResource, ListParams)> = Vec::new();
    for client in [mgmt, remote] {
        for (kind, plural) in GENERATED_KINDS {
            kinds.push((
                client.clone(),
                istio_resource(kind, plural),
                managed.clone(),
            ));
        }
    }
    for (kind, plural) in [
        ("FailoverService", "failoverservices"),
        ("TrafficPolicy", "trafficpolicies"),
    ] {
        kinds.push((
            mgmt.clone(),
            smh_resource(kind, plural),
            ListParams::default(),
        ));
    }
    for (client, ar, lp) in &kinds {
        let all: Api<DynamicObject> = Api::all_with(client.clone(), ar);
        let Ok(list) = all.list(lp).await else {
            // The kind is not installed (yet): nothing of it to delete.
            continue;
        };
        for o in list.items {
            let ns = o.metadata.namespace.clone().unwrap_or_default();
            let name = o.metadata.name.clone().unwrap_or_default();
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, ar);
            let _ = api.delete(&name, &DeleteParams::default()).await;
        }
    }
    // The topology cached by every successful apply.
    let configmaps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(mgmt.clone(), smh_core::consts::SMH_NAMESPACE);
    let cache = smh_core::inspect::state::TOPOLOGY_CACHE;
    let _ = configmaps.delete(cache, &DeleteParams::default()).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while configmaps.get_opt(cache).await.is_ok_and(|c| c.is_some()) {
        assert!(std::time::Instant::now() < deadline, "{cache} not deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (client, ar, lp) in &kinds {
        let all: Api<DynamicObject> = Api::all_with(client.clone(), ar);
        while all.list(lp).await.is_ok_and(|l| !l.items.is_empty()) {
            assert!(
                std::time::Instant::now() < deadline,
                "{} still listed a minute after they were deleted",
                ar.plural
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Wait until both clusters have settled: every Deployment rolled out and available and
/// every Service's Endpoints listing its ready pods (the simulator's readiness rules,
/// `smh_sim::ready`, applied to what the API servers list now).
pub(crate) async fn wait_settled(mgmt: &kube::Client, remote: &kube::Client) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let mut pending = Vec::new();
        for (cluster, client) in [("mgmt-cluster", mgmt), ("remote-cluster", remote)] {
            let store = listed(client).await;
            pending.extend(
                smh_sim::ready::pending(cluster, &store)
                    .into_iter()
                    .filter(|p| p.kind == "Deployment")
                    .map(|p| format!("{p:?}")),
            );
            pending.extend(endpoints_pending(cluster, &store));
        }
        let Some(first) = pending.first() else {
            return;
        };
        if std::time::Instant::now() >= deadline {
            let mut why = Vec::new();
            for client in [mgmt, remote] {
                why.push(not_ready(client).await);
            }
            panic!(
                "the clusters did not settle within 120s: {first:?} ({} pending)\n{}",
                pending.len(),
                why.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The taints and Ready condition of the nodes and the bookinfo pods not Ready, with their
/// phase, node and conditions: why a cluster did not settle.
async fn not_ready(client: &kube::Client) -> String {
    use k8s_openapi::api::core::v1::{Node, Pod};
    let mut out = String::new();
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    for n in nodes
        .list(&Default::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
    {
        let status = n.status.unwrap_or_default();
        let ready: Vec<String> = status
            .conditions
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.type_ == "Ready")
            .map(|c| format!("Ready={} ({})", c.status, c.message.unwrap_or_default()))
            .collect();
        out.push_str(&format!(
            "node {}: {ready:?}, taints {:?}, unschedulable {:?}\n",
            n.metadata.name.unwrap_or_default(),
            n.spec.as_ref().and_then(|s| s.taints.clone()),
            n.spec.as_ref().and_then(|s| s.unschedulable)
        ));
    }
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "bookinfo");
    for p in pods
        .list(&Default::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
    {
        let status = p.status.clone().unwrap_or_default();
        let ready = status
            .conditions
            .as_ref()
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if !ready {
            out.push_str(&format!(
                "pod {} on {:?}: phase {:?}, deleting {}, conditions {:?}\n",
                p.metadata.name.clone().unwrap_or_default(),
                p.spec.as_ref().and_then(|s| s.node_name.clone()),
                status.phase,
                p.metadata.deletion_timestamp.is_some(),
                status.conditions
            ));
        }
    }
    out
}

/// The Services in `bookinfo` whose Endpoints do not list exactly their ready pods (by IP).
/// The real endpoints controller's and the simulator's Endpoints differ in shape (target
/// references, node names), not in the addresses, so only those are compared.
fn endpoints_pending(cluster: &str, store: &smh_sim::store::Store) -> Vec<String> {
    use serde_json::Value;
    use smh_sim::store::Gvr;
    let pods = store.list(&Gvr::new("", "v1", "pods"), Some("bookinfo")).0;
    let mut out = Vec::new();
    for svc in store
        .list(&Gvr::new("", "v1", "services"), Some("bookinfo"))
        .0
    {
        let Some(selector) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
            continue;
        };
        let name = svc["metadata"]["name"].as_str().unwrap_or_default();
        let mut want: Vec<&str> = pods
            .iter()
            .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
            .filter(|p| {
                selector
                    .iter()
                    .all(|(k, v)| p.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v))
            })
            .filter(|p| {
                p.pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
            })
            .filter_map(|p| p.pointer("/status/podIP").and_then(Value::as_str))
            .collect();
        want.sort_unstable();
        let ep = store.get(&Gvr::new("", "v1", "endpoints"), "bookinfo", name);
        let mut have: Vec<&str> = ep
            .as_ref()
            .and_then(|e| e.get("subsets"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("addresses").and_then(Value::as_array))
            .flatten()
            .filter_map(|a| a.get("ip").and_then(Value::as_str))
            .collect();
        have.sort_unstable();
        have.dedup();
        let not_ready = ep
            .as_ref()
            .and_then(|e| e.get("subsets"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|s| {
                s.get("notReadyAddresses")
                    .is_some_and(|a| a.as_array().is_some_and(|a| !a.is_empty()))
            });
        if have != want || not_ready {
            out.push(format!(
                "{cluster}: Endpoints bookinfo/{name} list {have:?}, ready pods {want:?}"
            ));
        }
    }
    out
}

/// A store holding what `client`'s API server lists now of Deployments, Services, Pods and
/// Endpoints.
async fn listed(client: &kube::Client) -> smh_sim::store::Store {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
    use kube::api::{Api, ListParams};
    use smh_sim::store::Gvr;
    async fn put<K>(client: &kube::Client, store: &smh_sim::store::Store, gvr: Gvr)
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + serde::Serialize
            + std::fmt::Debug,
        K::DynamicType: Default,
    {
        let api: Api<K> = Api::all(client.clone());
        let list = api
            .list(&ListParams::default())
            .await
            .expect("the API server lists");
        for o in list.items {
            let mut v = serde_json::to_value(&o).expect("serializable");
            v["apiVersion"] = serde_json::json!(gvr.api_version());
            store.mirror(&gvr, v).expect("mirrored");
        }
    }
    let store = smh_sim::store::Store::new();
    put::<Deployment>(client, &store, Gvr::new("apps", "v1", "deployments")).await;
    put::<Service>(client, &store, Gvr::new("", "v1", "services")).await;
    put::<Pod>(client, &store, Gvr::new("", "v1", "pods")).await;
    #[allow(deprecated)]
    put::<Endpoints>(client, &store, Gvr::new("", "v1", "endpoints")).await;
    store
}

/// The bookinfo Deployments of both clusters as they were, to put back after a scenario that
/// breaks or scales them.
pub(crate) struct Deployments {
    mgmt: kube::Client,
    remote: kube::Client,
    saved: Vec<(String, k8s_openapi::api::apps::v1::Deployment)>,
}

impl Deployments {
    /// The Deployments in `bookinfo` now.
    pub(crate) async fn save(mgmt: &kube::Client, remote: &kube::Client) -> Deployments {
        use k8s_openapi::api::apps::v1::Deployment;
        let mut saved = Vec::new();
        for (cluster, client) in [("mgmt-cluster", mgmt), ("remote-cluster", remote)] {
            let api: kube::Api<Deployment> = kube::Api::namespaced(client.clone(), "bookinfo");
            for d in api.list(&Default::default()).await.expect("listed").items {
                saved.push((cluster.to_string(), d));
            }
        }
        Deployments {
            mgmt: mgmt.clone(),
            remote: remote.clone(),
            saved,
        }
    }

    /// Put every pod template and replica count back as saved, then wait until the clusters
    /// settle ([`wait_settled`]).
    pub(crate) async fn put_back(&self) {
        use k8s_openapi::api::apps::v1::Deployment;
        for (cluster, saved) in &self.saved {
            let client = if cluster == "mgmt-cluster" {
                &self.mgmt
            } else {
                &self.remote
            };
            let api: kube::Api<Deployment> = kube::Api::namespaced(client.clone(), "bookinfo");
            let name = saved.metadata.name.clone().expect("named");
            let mut now = api.get(&name).await.expect("the deployment is there");
            let (Some(spec), Some(was)) = (now.spec.as_mut(), saved.spec.as_ref()) else {
                continue;
            };
            if spec.template == was.template && spec.replicas == was.replicas {
                continue;
            }
            spec.template = was.template.clone();
            spec.replicas = was.replicas;
            api.replace(&name, &Default::default(), &now)
                .await
                .expect("the deployment is put back");
        }
        wait_settled(&self.mgmt, &self.remote).await;
    }
}
