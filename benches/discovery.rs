//! Discovery over several clusters costs about what it costs over one: `discover` over 1 and
//! over 5 simulated clusters, each API server with 50 ms of injected latency per request
//! (the target: 5 clusters in under 1.5× the time of one).
//!
//! Run: `cargo bench --bench discovery`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use smh_cluster::ClusterName;
use smh_cluster::discovery::discover;
use smh_core::inspect::discovery::DiscoveryOptions;

mod common;
use common::{bookinfo_fleet, contexts_for, p50, ratio_verdict, start_ready};

const LATENCY: Duration = Duration::from_millis(50);
const RUNS: usize = 10;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Ready (bookinfo rolled out) before any latency is switched on.
    let fleet = start_ready(bookinfo_fleet(&["c3", "c4", "c5"])).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let contexts = contexts_for(&fleet, dir.path());
    let all: Vec<ClusterName> = ["mgmt-cluster", "remote-cluster", "c3", "c4", "c5"]
        .into_iter()
        .map(ClusterName::from)
        .collect();
    let targets = contexts.describe_targets(&all, false).expect("targets");
    let clients = contexts.clients(&targets).await.expect("clients");
    let opts = DiscoveryOptions::default();
    // The single-cluster case is the largest cluster: the management cluster with bookinfo.
    let mgmt: Vec<_> = clients
        .iter()
        .filter(|c| c.target.display_name() == "mgmt-cluster")
        .cloned()
        .collect();

    for c in fleet.clusters() {
        c.faults().set_latency(LATENCY);
    }

    let mut one = Vec::new();
    let mut five = Vec::new();
    let services = |r: &smh_cluster::discovery::DiscoveryResult| {
        r.topology
            .clusters
            .iter()
            .map(|c| c.services.len())
            .sum::<usize>()
    };
    let mut counts = (0, 0);
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = discover(&mgmt, &opts).await;
        one.push(t.elapsed());
        assert!(
            r.per_cluster_errors.is_empty(),
            "{:?}",
            r.per_cluster_errors
        );
        counts.0 = services(&r);
        let t = Instant::now();
        let r = discover(&clients, &opts).await;
        five.push(t.elapsed());
        assert!(
            r.per_cluster_errors.is_empty(),
            "{:?}",
            r.per_cluster_errors
        );
        assert_eq!(r.topology.clusters.len(), 5);
        counts.1 = services(&r);
    }
    let (a, b) = (p50(one), p50(five));
    println!(
        "discover, {} ms API latency, {RUNS} runs each (p50):",
        LATENCY.as_millis()
    );
    println!(
        "  1 cluster (mgmt-cluster): {:>7.1} ms  ({} services)",
        a.as_secs_f64() * 1e3,
        counts.0
    );
    println!(
        "  5 clusters:               {:>7.1} ms  ({} services)",
        b.as_secs_f64() * 1e3,
        counts.1
    );
    println!("  {}", ratio_verdict(a, b));
    fleet.shutdown().await;
}
