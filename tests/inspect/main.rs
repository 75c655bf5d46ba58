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

mod healthy;
mod multi_primary;
mod unhealthy;

struct Env {
    fleet: SimFleet,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn env(mode: MultiClusterMode) -> Env {
    let fleet = demo_fleet(mode).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig(&fleet, dir.path());
    let env = Env {
        fleet,
        dir,
        kubeconfig,
    };
    let guide = guide_dir().display().to_string();
    let out = env.smh(&["apply", "-f", &guide]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    env
}

impl Env {
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
        self.fleet.cluster(cluster).unwrap().client().unwrap()
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
