//! Helpers shared by the `state`, `apply` and `failover` integration tests: the demo
//! clusters in process (started and ready), a kubeconfig for them, and object helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

use smh_cluster::{Contexts, KubeconfigOrigin, KubeconfigSet, Registry};
use smh_core::model::topology::MultiClusterMode;
use smh_sim::fleet::{FleetOptions, SimFleet, bookinfo_world};

/// The guide's three manifests, in order.
pub(crate) fn guide_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/guide")
}

pub(crate) fn guide_file(n: usize) -> PathBuf {
    let name = match n {
        1 => "1-outlier-detection.yaml",
        2 => "2-failover-service.yaml",
        _ => "3-traffic-shift.yaml",
    };
    guide_dir().join(name)
}

/// How long the test helpers wait for the simulated clusters to be ready (bookinfo takes
/// well under a second on an idle machine; the margin is for a busy one).
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The demo clusters (`mgmt-cluster`, `remote-cluster`) with bookinfo, rollouts of 50 ms,
/// ready: every Deployment available and every Service's Endpoints listing its pods
/// ([`SimFleet::wait_ready`]).
pub(crate) async fn demo_fleet(mode: MultiClusterMode) -> SimFleet {
    fleet_with(mode, |_| {}).await
}

/// The demo clusters, with `edit` applied to the options first; ready as [`demo_fleet`].
pub(crate) async fn fleet_with(
    mode: MultiClusterMode,
    edit: impl FnOnce(&mut FleetOptions),
) -> SimFleet {
    let mut opts = FleetOptions::demo();
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = Duration::from_millis(50);
    }
    opts.hooks.push(bookinfo_world(mode, "1.24.2"));
    edit(&mut opts);
    let fleet = SimFleet::start(opts)
        .await
        .expect("the demo clusters start");
    fleet
        .wait_ready(READY_TIMEOUT)
        .await
        .expect("the demo clusters become ready");
    fleet
}

/// Writes the fleet's kubeconfig into `dir` and returns its path.
pub(crate) fn kubeconfig(fleet: &SimFleet, dir: &Path) -> PathBuf {
    let path = dir.join("kubeconfig.yaml");
    fleet.write_kubeconfig(&path).expect("kubeconfig written");
    path
}

/// Contexts over the fleet's kubeconfig, with an empty registry.
pub(crate) fn contexts(fleet: &SimFleet, dir: &Path, timeout: Duration) -> Contexts {
    contexts_at(&kubeconfig(fleet, dir), dir, timeout)
}

/// Contexts over the kubeconfig at `path`, with an empty registry in `dir`.
pub(crate) fn contexts_at(path: &Path, dir: &Path, timeout: Duration) -> Contexts {
    let path = path.to_path_buf();
    Contexts::new(
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(path)).unwrap(),
        Default::default(),
        Registry::empty(dir.join("clusters.yaml")),
        None,
        timeout,
    )
}

pub(crate) fn istio_ar(kind: &str) -> ApiResource {
    let plural = match kind {
        "ServiceEntry" => "serviceentries".to_string(),
        k => format!("{}s", k.to_ascii_lowercase()),
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1alpha3", kind),
        &plural,
    )
}

pub(crate) fn smh_ar(kind: &str) -> ApiResource {
    let plural = match kind {
        "FailoverService" => "failoverservices",
        _ => "trafficpolicies",
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.smh.solo.io", "v1alpha2", kind),
        plural,
    )
}

/// Every Istio object of the four generated kinds in a cluster:
/// `(kind, namespace, name) -> resourceVersion`.
pub(crate) async fn istio_versions(client: &kube::Client) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for kind in [
        "DestinationRule",
        "VirtualService",
        "ServiceEntry",
        "EnvoyFilter",
    ] {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &istio_ar(kind));
        for o in api.list(&ListParams::default()).await.unwrap().items {
            out.push((
                kind.to_string(),
                o.metadata.namespace.clone().unwrap_or_default(),
                o.metadata.name.clone().unwrap_or_default(),
                o.metadata.resource_version.clone().unwrap_or_default(),
            ));
        }
    }
    out.sort();
    out
}

/// Every SMH object in the management cluster: `(kind, namespace, name) -> resourceVersion`.
pub(crate) async fn smh_versions(client: &kube::Client) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for kind in ["FailoverService", "TrafficPolicy"] {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &smh_ar(kind));
        for o in api.list(&ListParams::default()).await.unwrap().items {
            out.push((
                kind.to_string(),
                o.metadata.namespace.clone().unwrap_or_default(),
                o.metadata.name.clone().unwrap_or_default(),
                o.metadata.resource_version.clone().unwrap_or_default(),
            ));
        }
    }
    out.sort();
    out
}

/// Creates an object given as JSON (`apiVersion`, `kind`, `metadata.namespace` set).
pub(crate) async fn create(client: &kube::Client, ar: &ApiResource, value: Value) -> DynamicObject {
    let obj: DynamicObject = serde_json::from_value(value).unwrap();
    let ns = obj.metadata.namespace.clone().unwrap();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, ar);
    api.create(&Default::default(), &obj)
        .await
        .expect("object created")
}

/// Reads an object, or `None`.
pub(crate) async fn get(
    client: &kube::Client,
    ar: &ApiResource,
    ns: &str,
    name: &str,
) -> Option<DynamicObject> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, ar);
    api.get_opt(name).await.unwrap()
}

/// The output of a command.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `kubectl smh ARGS` (the binary under test) against the fleet's kubeconfig, with a
/// registry file in `dir`, off the async threads.
pub(crate) async fn smh(kubeconfig: &Path, dir: &Path, args: &[&str]) -> Run {
    let kc = kubeconfig.to_path_buf();
    let reg = dir.join("clusters.yaml");
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let cwd = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    tokio::task::spawn_blocking(move || {
        let out = assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
            .env("KUBECONFIG", &kc)
            .env("KUBECTL_SMH_CONFIG", &reg)
            .env("NO_COLOR", "1")
            .current_dir(cwd)
            .args(&args)
            .output()
            .expect("kubectl-smh runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// Real kubectl (`$SMH_KUBECTL` or the peers' build) in a sandbox (its own HOME and cache), or
/// `None` after a SKIP line (a failure with `SMH_REQUIRE_PEERS=1`).
pub(crate) fn kubectl() -> Option<PathBuf> {
    crate::common::kubectl()
}

/// `kubectl ARGS` against the fleet; stdout, or a panic with stderr.
pub(crate) async fn kubectl_ok(
    kubectl: &Path,
    kubeconfig: &Path,
    dir: &Path,
    args: &[&str],
) -> String {
    let out = tokio::process::Command::new(kubectl)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("KUBECACHEDIR", dir.join("kubectl-cache"))
        .env("HOME", dir)
        .output()
        .await
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `status` of an SMH object, read through the kube client.
pub(crate) async fn smh_status(client: &kube::Client, kind: &str, ns: &str, name: &str) -> Value {
    get(client, &smh_ar(kind), ns, name)
        .await
        .map(|o| o.data.get("status").cloned().unwrap_or(Value::Null))
        .unwrap_or(Value::Null)
}
