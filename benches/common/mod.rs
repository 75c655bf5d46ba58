//! Helpers shared by the benches that measure commands against simulated clusters
//! (`mod common;` in each).
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use smh_cluster::{Contexts, KubeconfigOrigin, KubeconfigSet, Registry};
use smh_core::model::topology::MultiClusterMode;
use smh_sim::cluster::ClusterOptions;
use smh_sim::fleet::{FleetOptions, SimFleet, bookinfo_world};

/// The median of the runs.
pub(crate) fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// In milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `ratio 1.12 (target < 1.5): met`: `many` over `one` against the target (5 clusters in
/// under 1.5× the time of one).
pub(crate) fn ratio_verdict(one: Duration, many: Duration) -> String {
    let ratio = many.as_secs_f64() / one.as_secs_f64();
    format!(
        "ratio {ratio:.2} (target < 1.5): {}",
        if ratio < 1.5 { "met" } else { "NOT met" }
    )
}

/// The demo pair (mgmt-cluster, remote-cluster) plus the clusters `extra` (pod octets from
/// 3), bookinfo in global mode on Istio 1.24.2, rollouts of 50 ms.
pub(crate) fn bookinfo_fleet(extra: &[&str]) -> FleetOptions {
    let mut opts = FleetOptions::demo();
    for (i, name) in extra.iter().enumerate() {
        let mut c = ClusterOptions::new(name);
        c.pod_octet = 3 + i as u8;
        opts.clusters.push(c);
    }
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = Duration::from_millis(50);
    }
    opts.hooks
        .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
    opts
}

/// Start `opts` and wait until the clusters are ready (every Deployment available, every
/// Service's Endpoints listing its pods: [`SimFleet::wait_ready`]).
pub(crate) async fn start_ready(opts: FleetOptions) -> SimFleet {
    let fleet = SimFleet::start(opts).await.expect("fleet");
    fleet
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("the simulated clusters become ready");
    fleet
}

/// Contexts for every cluster of `fleet`, from a kubeconfig written in `dir` (no
/// registry, 10 s timeout).
pub(crate) fn contexts_for(fleet: &SimFleet, dir: &Path) -> Contexts {
    let path = dir.join("kubeconfig.yaml");
    fleet.write_kubeconfig(&path).expect("kubeconfig");
    Contexts::new(
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(path)).expect("kubeconfig"),
        Default::default(),
        Registry::empty(dir.join("clusters.yaml")),
        None,
        Duration::from_secs(10),
    )
}
