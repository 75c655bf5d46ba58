//! `apply` over several clusters costs about what it costs over one (the target: 5 clusters
//! in under 1.5× the time of one), with 50 ms of injected latency on every request to every
//! simulated API server.
//!
//! Two fleets: one cluster (`mgmt-cluster`, bookinfo's management layout), and five
//! (`mgmt-cluster` plus `c2`..`c5`, each running reviews-v3 and ratings with sidecars). The
//! input is the guide's shape over all clusters of the fleet: an outlier-detection policy on
//! `reviews` in every cluster, a FailoverService in `mgmt-cluster`'s mesh backed by `reviews`
//! in every cluster (in cluster order), and the traffic shift on `reviews@mgmt-cluster`. Over
//! one cluster that is 4 generated objects; over five, 12 (the remote DestinationRules and
//! the client-side copies in mgmt-cluster).
//!
//! What one run is: what `kubectl smh apply` does after parsing: `load_state` (SMH objects
//! and cache, then discovery and the live objects of every cluster), `plan`, `commit` (store
//! the SMH objects, server-side apply, prune, statuses, cache). Measured, each p50 of RUNS:
//! - *configure*: `consecutiveErrors` alternates between 1 and 2, so every run changes the
//!   policy and every outlier DestinationRule in every cluster, and rewrites the statuses;
//! - *no-op*: the same input again (reads only).
//!
//! Run: `cargo bench --bench apply`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use smh_cluster::Contexts;
use smh_cluster::apply::{self, Mode};
use smh_cluster::state::{StateOptions, load_state};
use smh_core::model::parse::parse_str;
use smh_core::model::topology::MultiClusterMode;
use smh_sim::cluster::{ClusterHandle, ClusterOptions};
use smh_sim::fleet::{Attachment, FleetOptions, SimFleet, StartHook};
use smh_sim::world::{self, Layout, WorldOptions};

mod common;
use common::{contexts_for, manifests, ms, p50, ratio_verdict, start_ready};

const LATENCY: Duration = Duration::from_millis(50);
const RUNS: usize = 9;

/// bookinfo in every cluster: the management layout in the first, reviews-v3 and ratings in
/// the others.
fn world_hook() -> StartHook {
    let fleet = world::Fleet::new();
    Arc::new(move |me: &ClusterHandle, all: &[ClusterHandle]| {
        let index = all.iter().position(|h| h.name == me.name).unwrap_or(0);
        let layout = if index == 0 {
            Layout::Management
        } else {
            Layout::Remote
        };
        let mut o = WorldOptions::new(&me.name, layout, index as u8);
        o.mode = MultiClusterMode::Global;
        o.readiness_delay = me.rollout_delay;
        world::seed(&me.store, &o).map_err(|e| e.to_string())?;
        me.api.default_stored_objects();
        let handle = world::spawn(me.store.clone(), me.net.clone(), fleet.clone(), &o);
        Ok(vec![Attachment::Guard(Box::new(handle))])
    })
}

async fn start(n: usize) -> SimFleet {
    let mut opts = FleetOptions {
        clusters: Vec::new(),
        hooks: vec![world_hook()],
    };
    for i in 0..n {
        let name = if i == 0 {
            "mgmt-cluster".to_string()
        } else {
            format!("c{}", i + 1)
        };
        let mut c = ClusterOptions::new(&name);
        c.pod_octet = 1 + i as u8;
        c.rollout_delay = Duration::from_millis(20);
        if i == 0 {
            c.smh_crds = true;
            c.namespaces = vec!["service-mesh-hub".to_string()];
        }
        opts.clusters.push(c);
    }
    start_ready(opts).await
}

/// One apply; returns (elapsed, generated objects, objects changed).
async fn apply_once(contexts: &Contexts, text: &str) -> (Duration, usize, usize) {
    let loaded = parse_str("bench.yaml", text);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let t = Instant::now();
    let opts = StateOptions {
        overlay: loaded.manifests.clone(),
        ..Default::default()
    };
    let state = load_state(contexts, &opts).await.expect("state");
    assert!(state.errors.is_empty(), "{:?}", state.errors);
    assert!(
        state
            .diagnostics
            .iter()
            .all(|d| d.severity != smh_core::model::Severity::Error),
        "{:?}",
        state.diagnostics
    );
    let plan = apply::plan(&state, true);
    let report = apply::commit(&state, &loaded.manifests, &plan, &[], Mode::Apply).await;
    let elapsed = t.elapsed();
    assert!(!report.failed(), "{report:?}");
    let changed = report
        .results
        .iter()
        .filter(|r| r.outcome != apply::ApplyOutcome::Unchanged)
        .count();
    (elapsed, state.expected.objects.len(), changed)
}

async fn measure(n: usize) -> (Duration, Duration, usize, usize) {
    let fleet = start(n).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let contexts = contexts_for(&fleet, dir.path());
    let names: Vec<String> = fleet
        .clusters()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    // The fleet is ready (bookinfo rolled out, no latency yet): the manifests are valid.
    let loaded = parse_str("bench.yaml", &manifests(&names, 1));
    let state = load_state(
        &contexts,
        &StateOptions {
            overlay: loaded.manifests,
            ..Default::default()
        },
    )
    .await
    .expect("state");
    assert!(
        state
            .diagnostics
            .iter()
            .all(|d| d.severity != smh_core::model::Severity::Error),
        "{:?}",
        state.diagnostics
    );
    apply_once(&contexts, &manifests(&names, 1)).await;
    for c in fleet.clusters() {
        c.faults().set_latency(LATENCY);
    }
    let mut configure = Vec::new();
    let mut noop = Vec::new();
    let (mut objects, mut changed) = (0, 0);
    for i in 0..RUNS {
        let text = manifests(&names, if i % 2 == 0 { 2 } else { 1 });
        let (t, o, c) = apply_once(&contexts, &text).await;
        configure.push(t);
        (objects, changed) = (o, c);
        let (t, _, c) = apply_once(&contexts, &text).await;
        assert_eq!(c, 0, "a second apply changes nothing");
        noop.push(t);
    }
    fleet.shutdown().await;
    (p50(configure), p50(noop), objects, changed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (c1, n1, o1, ch1) = measure(1).await;
    let (c5, n5, o5, ch5) = measure(5).await;
    println!(
        "apply (load_state + plan + commit), {} ms API latency on every cluster, {RUNS} runs each (p50):",
        LATENCY.as_millis()
    );
    println!(
        "  1 cluster:  configure {:>7.1} ms ({ch1} of {o1} objects changed)   no-op {:>7.1} ms",
        ms(c1),
        ms(n1)
    );
    println!(
        "  5 clusters: configure {:>7.1} ms ({ch5} of {o5} objects changed)   no-op {:>7.1} ms",
        ms(c5),
        ms(n5)
    );
    for (what, a, b) in [("configure", c1, c5), ("no-op", n1, n5)] {
        println!("  {what}: {}", ratio_verdict(a, b));
    }
}
