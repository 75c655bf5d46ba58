//! One simulated cluster: an object store, a pod network and an API server on
//! `127.0.0.1:<free port>` speaking plain HTTP.
//!
//! Every cluster starts with the namespaces `default`, `kube-system`, `kube-public` and
//! `kube-node-lease`, the `kubernetes` Service, the bootstrap RBAC policy
//! ([`auth::bootstrap_objects`]), Istio's networking CRDs, and (when asked) the SMH v1alpha2
//! CRDs, as the guide's prerequisites leave a cluster. Requests are authenticated by bearer
//! token and authorised with RBAC ([`auth`]): the admin user ([`ADMIN_USER`], token
//! [`ADMIN_TOKEN`], in `system:masters`) may do anything, and so may a request without
//! credentials unless [`ClusterOptions::auth`] says otherwise (real kubectl sends none over
//! plain HTTP); more users come from [`ClusterOptions::auth`]. A housekeeping task keeps
//! the served CRDs in step with the store and collects garbage (dependents of deleted owners).
//!
//! In-process behaviour (controllers, workloads) attaches through [`ClusterHandle`]: code gets
//! the store, the pod network and the API core, spawns its tasks, and hands their
//! `JoinHandle`s to [`SimCluster::attach`] (or a guard to [`SimCluster::attach_guard`]) so
//! they stop with the cluster. [`SimFleet`] does this for every cluster through its
//! [`StartHook`]s.
//!
//! [`SimFleet`]: super::fleet::SimFleet
//! [`StartHook`]: super::fleet::StartHook

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::api::auth::{self, Anonymous, AuthOptions, Authenticator, SimUser};
use super::api::http::{ServerState, router};
use super::api::{ApiCore, ApiError, WriteOptions};
use super::faults::{ConnCut, Cuttable, FaultConfig, Faults, Unreachable, fault_layer};
use super::net::PodNetwork;
use super::store::Store;

/// Istio's networking CRDs (DestinationRule, EnvoyFilter, Gateway, ServiceEntry,
/// VirtualService), vendored from istio/api (see `crates/smh-sim/src/crds/SOURCE` and `LICENSE`).
pub(crate) const ISTIO_CRDS_YAML: &str = include_str!("crds/istio-networking.yaml");

/// The Istio CRDs as JSON objects (parsed once per process).
pub fn istio_crds() -> &'static [Value] {
    static CRDS: OnceLock<Vec<Value>> = OnceLock::new();
    CRDS.get_or_init(|| {
        // Compiled into the binary and parsed by a unit test: a failure is a build defect.
        serde_saphyr::from_multiple::<Value>(ISTIO_CRDS_YAML)
            .expect("vendored Istio CRD YAML parses")
            .into_iter()
            .filter(|v| !v.is_null())
            .collect()
    })
}

/// The user every simulated cluster knows as a cluster admin (in `system:masters`): the
/// user of the kubeconfig `demo up` writes, and of [`SimCluster::client`].
pub(crate) const ADMIN_USER: &str = "smh-demo";
/// [`ADMIN_USER`]'s bearer token.
pub const ADMIN_TOKEN: &str = "smh-demo-simulated-cluster-admin";

/// [`ADMIN_USER`] with its token and groups.
pub(crate) fn admin_user() -> SimUser {
    SimUser::new(ADMIN_USER, ADMIN_TOKEN).with_groups(&[auth::MASTERS_GROUP])
}

/// Errors starting or running simulated clusters.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The API server's port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        #[source]
        /// The underlying error.
        source: std::io::Error,
    },
    /// An object every cluster starts with could not be created.
    #[error("cluster {cluster}: creating {what}: {source}")]
    Bootstrap {
        /// The cluster's name.
        cluster: String,
        /// The object.
        what: String,
        #[source]
        /// The underlying error.
        source: Box<ApiError>,
    },
    /// The API server did not answer `/readyz` in time.
    #[error("cluster {cluster} at {url} did not answer /readyz")]
    NotReady {
        /// The cluster's name.
        cluster: String,
        /// The cluster's API server URL.
        url: String,
    },
    /// The kubeconfig could not be written.
    #[error("writing kubeconfig {path}: {source}")]
    Kubeconfig {
        /// The file.
        path: String,
        #[source]
        /// The underlying error.
        source: std::io::Error,
    },
    /// A kube client for the cluster could not be built.
    #[error("building a client for {url}: {message}")]
    Client {
        /// The cluster's API server URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// Cluster names that are empty or not unique.
    #[error("cluster names must be unique and non-empty: {0:?}")]
    Names(Vec<String>),
    /// A start hook failed.
    #[error("cluster {cluster}: start hook failed: {message}")]
    Hook {
        /// The cluster's name.
        cluster: String,
        /// What failed.
        message: String,
    },
    /// Deployments not available, or Endpoints behind their pods, at a deadline.
    #[error("the simulated clusters are {0}")]
    Unready(Box<super::ready::NotReady>),
}

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Cluster name (kubeconfig context and cluster name).
    pub name: String,
    /// Pods get IPs in `10.<pod_octet>.0.0/16`.
    pub pod_octet: u8,
    /// Serve the SMH v1alpha2 CRDs from the start (the management cluster).
    pub smh_crds: bool,
    /// Namespaces to create besides the Kubernetes defaults.
    pub namespaces: Vec<String>,
    /// Faults from the start (applied once the cluster has been checked ready).
    pub faults: FaultConfig,
    /// How long a new pod takes to become ready; read by the in-process controllers.
    pub rollout_delay: Duration,
    /// Istio's cluster ID for this cluster (istiod's `CLUSTER_ID`, the key of the other
    /// clusters' remote secrets for it), read by in-process worlds; `None`: the world's own
    /// default.
    pub istio_cluster_id: Option<String>,
    /// Users besides [`ADMIN_USER`], and how port-forwards are authorised.
    pub auth: AuthOptions,
}

impl ClusterOptions {
    /// A plain cluster named `name` with the Istio CRDs.
    pub fn new(name: &str) -> Self {
        ClusterOptions {
            name: name.to_string(),
            pod_octet: 244,
            smh_crds: false,
            namespaces: Vec::new(),
            faults: FaultConfig::default(),
            rollout_delay: Duration::from_millis(500),
            istio_cluster_id: None,
            auth: AuthOptions::default(),
        }
    }
}

/// What in-process code gets to work with a running cluster.
#[derive(Clone)]
pub struct ClusterHandle {
    /// The cluster's name (`mgmt-cluster`).
    pub name: String,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its objects.
    pub store: Arc<Store>,
    /// Its pod addresses and the listeners behind them.
    pub net: Arc<PodNetwork>,
    /// Its API semantics, for in-process reads and writes that go through admission.
    pub api: Arc<ApiCore>,
    /// How long a Deployment's rollout takes to progress (see [`ClusterOptions`]).
    pub rollout_delay: Duration,
    /// [`ClusterOptions::istio_cluster_id`].
    pub istio_cluster_id: Option<String>,
    /// Becomes `true` when the cluster shuts down.
    pub shutdown: watch::Receiver<bool>,
}

/// A running simulated cluster. Dropping it shuts it down.
pub struct SimCluster {
    options: ClusterOptions,
    addr: SocketAddr,
    store: Arc<Store>,
    net: Arc<PodNetwork>,
    core: Arc<ApiCore>,
    faults: Arc<Faults>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    guards: Mutex<Vec<Box<dyn Send>>>,
}

fn bootstrap(core: &ApiCore, opts: &ClusterOptions) -> Result<(), SimError> {
    let w = WriteOptions {
        field_manager: Some("kube-apiserver".into()),
        ..Default::default()
    };
    let err = |what: String| {
        let cluster = opts.name.clone();
        move |source| SimError::Bootstrap {
            cluster,
            what,
            source: Box::new(source),
        }
    };
    let reg = core.registry().clone();
    let res = |g: &str, v: &str, p: &str| reg.lookup(g, v, p).ok_or_else(ApiError::no_route);
    let ns_res = res("", "v1", "namespaces").map_err(err("namespaces".into()))?;
    let mut namespaces: Vec<String> = ["default", "kube-system", "kube-public", "kube-node-lease"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    namespaces.extend(opts.namespaces.iter().cloned());
    for ns in namespaces {
        core.create(
            &ns_res,
            "",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            &w,
        )
        .map_err(err(format!("namespace {ns}")))?;
    }
    let svc = res("", "v1", "services").map_err(err("services".into()))?;
    core.create(
        &svc,
        "default",
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}}),
        &w,
    )
    .map_err(err("service kubernetes".into()))?;
    for (plural, obj) in auth::bootstrap_objects() {
        let r = res(auth::RBAC_GROUP, "v1", plural).map_err(err(plural.into()))?;
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        core.create(&r, "", obj, &w)
            .map_err(err(format!("{} {name}", r.kind)))?;
    }
    let crd_res = res("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        .map_err(err("customresourcedefinitions".into()))?;
    let mut crds: Vec<Value> = istio_crds().to_vec();
    if opts.smh_crds {
        crds.extend(smh_core::model::crd::smh_crds());
    }
    for crd in crds {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        core.create(&crd_res, "", crd, &w)
            .map_err(err(format!("CRD {name}")))?;
    }
    Ok(())
}

impl SimCluster {
    /// Start a cluster on `127.0.0.1:<free port>`. Faults in `opts` are applied at once; a
    /// [`SimFleet`](super::fleet::SimFleet) applies them only after its readiness check.
    pub async fn start(opts: ClusterOptions) -> Result<SimCluster, SimError> {
        let faults = opts.faults.clone();
        let c = Self::start_without_faults(opts).await?;
        c.faults.set(faults);
        Ok(c)
    }

    pub(crate) async fn start_without_faults(opts: ClusterOptions) -> Result<SimCluster, SimError> {
        let store = Arc::new(Store::new());
        let net = Arc::new(PodNetwork::new(opts.pod_octet));
        let core = Arc::new(ApiCore::new(&opts.name, store.clone()));
        bootstrap(&core, &opts)?;
        let bind: SocketAddr = ([127, 0, 0, 1], 0).into();
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| SimError::Bind { addr: bind, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr: bind, source })?;
        let faults = Arc::new(Faults::new(FaultConfig::default()));
        let (shutdown, shutdown_rx) = watch::channel(false);

        let state = Arc::new(ServerState {
            core: core.clone(),
            net: net.clone(),
            address: addr.to_string(),
            authn: {
                let admin = admin_user();
                let authn =
                    Authenticator::new(std::iter::once(&admin).chain(opts.auth.users.iter()));
                match opts.auth.anonymous {
                    Anonymous::Admin => authn.with_anonymous(&admin),
                    Anonymous::Unauthenticated => authn,
                }
            },
            websocket_upgrade_requires_create: opts.auth.websocket_upgrade_requires_create,
        });
        let app = router(state).layer(axum::middleware::from_fn_with_state(
            faults.clone(),
            fault_layer,
        ));

        let housekeeping = tokio::spawn(housekeeping(core.clone(), shutdown_rx.clone()));
        let server = tokio::spawn(serve(listener, app, faults.clone(), shutdown_rx));

        Ok(SimCluster {
            options: opts,
            addr,
            store,
            net,
            core,
            faults,
            shutdown,
            tasks: Mutex::new(vec![housekeeping, server]),
            guards: Mutex::new(Vec::new()),
        })
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.options.name
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address its API server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The options it was started with.
    pub fn options(&self) -> &ClusterOptions {
        &self.options
    }

    /// Its object store.
    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// Its pod network.
    pub fn net(&self) -> Arc<PodNetwork> {
        self.net.clone()
    }

    /// The API server's semantics, for in-process writes that go through admission.
    pub fn api(&self) -> Arc<ApiCore> {
        self.core.clone()
    }

    /// The live fault settings (change them while the cluster runs).
    pub fn faults(&self) -> Arc<Faults> {
        self.faults.clone()
    }

    /// What in-process code needs to attach behaviour to this cluster.
    pub fn handle(&self) -> ClusterHandle {
        ClusterHandle {
            name: self.options.name.clone(),
            url: self.url(),
            store: self.store.clone(),
            net: self.net.clone(),
            api: self.core.clone(),
            rollout_delay: self.options.rollout_delay,
            istio_cluster_id: self.options.istio_cluster_id.clone(),
            shutdown: self.shutdown.subscribe(),
        }
    }

    /// Tasks that belong to this cluster: aborted when it shuts down.
    pub fn attach(&self, tasks: Vec<JoinHandle<()>>) {
        self.tasks.lock().expect("tasks lock").extend(tasks);
    }

    /// A value whose drop stops something running in this cluster (dropped at shutdown,
    /// before the attached tasks are aborted).
    pub(crate) fn attach_guard(&self, guard: Box<dyn Send>) {
        self.guards.lock().expect("guards lock").push(guard);
    }

    /// A kube-rs client for this cluster, as [`ADMIN_USER`].
    pub fn client(&self) -> Result<kube::Client, SimError> {
        self.client_as(ADMIN_TOKEN)
    }

    /// A kube-rs client for this cluster sending `token`.
    pub fn client_as(&self, token: &str) -> Result<kube::Client, SimError> {
        let url = self.url();
        let err = |message: String| SimError::Client {
            url: url.clone(),
            message,
        };
        let uri = url
            .parse()
            .map_err(|e: axum::http::uri::InvalidUri| err(e.to_string()))?;
        let mut config = kube::Config::new(uri);
        config.auth_info =
            serde_json::from_value(json!({ "token": token })).map_err(|e| err(e.to_string()))?;
        kube::Client::try_from(config).map_err(|e| err(e.to_string()))
    }

    /// Stop serving: the listener closes, open connections are dropped, attached tasks end.
    pub async fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        self.guards.lock().expect("guards lock").clear();
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.tasks.lock().expect("tasks lock"));
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for SimCluster {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Ok(mut guards) = self.guards.lock() {
            guards.clear();
        }
        if let Ok(mut tasks) = self.tasks.lock() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
    }
}

/// Keep served CRDs in step with the store and collect garbage.
async fn housekeeping(core: Arc<ApiCore>, mut shutdown: watch::Receiver<bool>) {
    let mut events = core.store().subscribe();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            ev = events.recv() => match ev {
                Ok(ev) => core.on_event(&ev),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    core.resync_crds();
                    core.sweep_garbage();
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// Accept connections and serve them, honouring the unreachable fault.
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    faults: Arc<Faults>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        match faults.unreachable() {
            Some(Unreachable::Close) => {
                drop(stream);
                continue;
            }
            Some(Unreachable::Hang) => {
                // Hold the connection without reading until the fault clears or we stop.
                let f = faults.clone();
                let mut stop = shutdown.clone();
                tokio::spawn(async move {
                    let _held = stream;
                    loop {
                        tokio::select! {
                            _ = stop.changed() => return,
                            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                                if f.unreachable() != Some(Unreachable::Hang) {
                                    return;
                                }
                            }
                        }
                    }
                });
                continue;
            }
            None => {}
        }
        // Every request knows its connection, and the connection can be cut (upgraded
        // ones too): see faults::Cuttable.
        let conn_cut = ConnCut::new();
        let stream = Cuttable::new(stream, faults.subscribe_cut(), &conn_cut);
        let svc = TowerToHyperService::new(app.clone().layer(axum::Extension(conn_cut)));
        let mut epoch = faults.subscribe_epoch();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = epoch.changed() => {}
                _ = stop.changed() => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_crds_parse() {
        let crds = istio_crds();
        let names: Vec<&str> = crds
            .iter()
            .map(|c| c["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            vec![
                "destinationrules.networking.istio.io",
                "envoyfilters.networking.istio.io",
                "gateways.networking.istio.io",
                "serviceentries.networking.istio.io",
                "virtualservices.networking.istio.io",
            ]
        );
        for c in crds {
            super::super::api::registry::crd_resources(c).unwrap();
        }
    }

    #[tokio::test]
    async fn bootstrap_serves_crds_and_namespaces() {
        let mut o = ClusterOptions::new("t");
        o.smh_crds = true;
        o.namespaces = vec!["service-mesh-hub".into()];
        let c = SimCluster::start(o).await.unwrap();
        let reg = c.api().registry().clone();
        assert!(
            reg.lookup("networking.istio.io", "v1alpha3", "destinationrules")
                .is_some()
        );
        assert!(
            reg.lookup("networking.smh.solo.io", "v1alpha2", "failoverservices")
                .is_some()
        );
        assert!(
            c.store()
                .get(
                    &crate::store::Gvr::new("", "v1", "namespaces"),
                    "",
                    "service-mesh-hub"
                )
                .is_some()
        );
        c.shutdown().await;
    }
}
