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
