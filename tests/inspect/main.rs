//! `describe`, `check` and `failover test` against the simulated demo clusters, through the
//! real binary (assert_cmd) and its real kube-rs client.
//!
//! Each test starts the demo clusters and sets up the guide's configuration with `kubectl
//! smh apply -f examples/guide/` (the three manifests).

#[path = "../apply_support/mod.rs"]
mod apply_support;
#[path = "../common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use apply_support::*;
use common::backend::{Backend, Clusters};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use smh_cluster::inspect::{answered_clients, collect};
use smh_cluster::state::{StateOptions, load_state};
use smh_core::inspect::names::ClusterName;
use smh_core::inspect::snapshot::{EndpointCount, ServiceRef};
use smh_core::model::topology::MultiClusterMode;
use smh_sim::faults::Unreachable;
use smh_sim::fleet::SimFleet;

mod both;
mod healthy;
mod multi_primary;
mod unhealthy;

/// The clusters of one backend with the guide's configuration applied. The scenarios of
/// [`both`] run on either backend; the other tests inject the simulator's faults or read its
/// state through the library and run on the simulated clusters only ([`Env::sim`]).
struct Env {
    clusters: Clusters,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn env(mode: MultiClusterMode) -> Env {
    env_of(Clusters::Sim(demo_fleet(mode).await)).await
}

async fn env_of(clusters: Clusters) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig.yaml");
    clusters.write_kubeconfig(&kubeconfig);
    let env = Env {
        clusters,
        dir,
        kubeconfig,
    };
    env.configure_guide().await;
    env
}

impl Env {
    /// `kubectl smh install` (the real control planes start without the SMH CRDs) and
    /// `kubectl smh apply -f examples/guide/`.
    async fn configure_guide(&self) {
        let out = self.smh(&["install"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
        let guide = guide_dir().display().to_string();
        let out = self.smh(&["apply", "-f", &guide]).await;
        assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    }

    /// The simulated fleet, for a test that injects its faults.
    fn sim(&self) -> &SimFleet {
        match &self.clusters {
            Clusters::Sim(f) => f,
            Clusters::Real(_) => panic!("a simulated-clusters-only test on real control planes"),
        }
    }

    /// Every Deployment rolled out and every Endpoints listing its ready pods.
    async fn wait_settled(&self) {
        common::backend::wait_settled(&self.client("mgmt-cluster"), &self.client("remote-cluster"))
            .await;
    }

    async fn shutdown(self) {
        self.clusters.shutdown().await;
    }

    /// Runs `kubectl smh ARGS` against the demo clusters (off the async threads, which
    /// serve the simulated API servers).
    async fn smh(&self, args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let kubeconfig = self.kubeconfig.clone();
        let config = self.dir.path().join("clusters.yaml");
        tokio::task::spawn_blocking(move || {
            assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
                .args(&args)
                .args(["--request-timeout", "2s"])
                .env("KUBECONFIG", kubeconfig)
                .env("KUBECTL_SMH_CONFIG", config)
                .env_remove("NO_COLOR")
                .output()
                .expect("kubectl-smh runs")
        })
        .await
        .unwrap()
    }

    fn client(&self, cluster: &str) -> kube::Client {
        self.clusters.client(cluster)
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn describe_output(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    )
}
