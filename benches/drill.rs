//! The drill on the demo clusters, measured against the clusters' own clocks: (a) its
//! measured times to failover and failback within one probe interval of when the sidecar
//! routed, (b) its own time (wall time less what it waits for) under a second.
//!
//! Run: `cargo bench --bench drill` (release build). Environment: `SMH_BENCH_DRILLS` (drills
//! to run, default 5), `SMH_BENCH_ROLLOUT_DELAY` (pod readiness delay of the simulated
//! clusters, default 1s, as `demo guide`).
//!
//! Everything runs in this process: the demo clusters (SimFleet with bookinfo, the guide's
//! configuration applied) and the drill (`kubectl smh drill reviews-failover --yes` with its
//! defaults: 10 probes/s, 20-probe baseline and steady windows), through the same code the
//! CLI runs (`cli::drill::prepare` + `smh_drill::run_drill`), minus printing.
//!
//! Two figures per drill:
//!
//! **(a) Time to failover, measured vs the data plane.** The drill's "first failed-over
//! answer" (the send time of the first probe classified as failed over, since the break
//! was applied) against the moment the data-plane model first routed a request to the
//! secondary: the first attempt productpage's sidecar picked from the secondary's Envoy
//! cluster after the break (`Sidecar::routing_log`, the sim's observation hook). The target:
//! within one probe interval (100 ms). The same for failback (first primary answer vs first
//! attempt routed to the primary after the restore).
//!
//! **(b) What the drill adds.** The wall time of the whole drill (from reading the
//! FailoverService to the returned report) split into what the drill waits for and what it
//! spends itself. Waiting, by the plan and the clusters' clocks:
//!
//! ```text
//! baseline   (N - 1) × interval                      N answers at the fixed rate
//! failover   max(R_break, S_fo + (W - 1) × interval)  the rollout; a full steady window
//! failback   max(R_restore, S_fb + (W - 1) × interval)
//! ```
//!
//! where R_break is the time from the break patch to the moment the simulated API server
//! stored the break rollout's completion (both deployments' `observedGeneration` current,
//! every replica updated and available, no old replica; seen on the store's event stream),
//! S_fo the send time of the first answer of the steady failover window (since the break),
//! and R_restore, S_fb the same after the restore; N is the baseline and W the steady window
//! (20 each). Everything else is the drill's own: reading before it starts (FailoverService,
//! deployments, Service, DestinationRules), picking the pod and opening the port-forward,
//! preflight beyond the baseline, the save and break patches, noticing a rollout or an
//! answer late, the restore patches, and the read-back of the restored containers at the
//! end. Target: under 1 s in all.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use tokio::sync::{mpsc, oneshot};

use clap::Parser;
use kubectl_smh::cli::drill::{DrillFlags, generated_check, prepare};
use smh_cluster::{Contexts, KubeconfigOrigin, KubeconfigSet, Registry};
use smh_core::drill::live::{RolloutState, rollout_state};
use smh_core::drill::machine::{DrillOutcome, Phase};
use smh_core::drill::restore::{RestoreContext, new_drill_id};
use smh_core::inspect::discovery::DiscoveryOptions;
use smh_core::model::topology::MultiClusterMode;
use smh_drill::{
    ConfirmAnswer, Confirmation, DrillContext, DrillResult, Observer, Progress, run_drill,
};
use smh_sim::fleet::{FleetOptions, SimFleet, WorldSidecars, bookinfo_world_observed};
use smh_sim::store::{Gvr, Store};

/// Records the phase changes and probe samples; never asks.
#[derive(Default)]
struct Recorder {
    phases: Vec<(Phase, Duration)>,
    samples: Vec<(Duration, Duration)>,
}

impl Recorder {
    fn phase_at(&self, p: Phase) -> Duration {
        self.phases
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, at)| *at)
            .unwrap_or_else(|| panic!("no {p:?} phase"))
    }
}

impl Observer for Recorder {
    fn progress(&mut self, at: Duration, p: Progress<'_>) {
        match p {
            Progress::Phase(t) => self.phases.push((t.to, at)),
            Progress::Probe { sample, .. } => self.samples.push((sample.at, sample.latency)),
            _ => {}
        }
    }
    fn confirm(&mut self, _c: &Confirmation) -> oneshot::Receiver<ConfirmAnswer> {
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(ConfirmAnswer::Yes);
        rx
    }
}

fn deployments_gvr() -> Gvr {
    Gvr::new("apps", "v1", "deployments")
}

/// The rollout state of reviews-v1 and v2 after each change, as the store saw it.
#[derive(Clone, Default)]
struct RolloutLog(Arc<Mutex<Vec<(Instant, Generations)>>>);

/// Per deployment: its generation and whether that generation has rolled out.
type Generations = BTreeMap<String, (i64, bool)>;

impl RolloutLog {
    /// Follow the store's event stream on a thread of its own (woken by the store's write
    /// itself, not by a busy async worker), recording when each change was seen. Stops when
    /// `stop` is set and the next event arrives (or the store goes away).
    fn start(store: Arc<Store>, names: &[&str], stop: Arc<std::sync::atomic::AtomicBool>) -> Self {
        let log = RolloutLog::default();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut rx = store.subscribe();
        let mut latest: Generations = BTreeMap::new();
        for n in &names {
            if let Some(v) = store.get(&deployments_gvr(), "bookinfo", n)
                && let Ok(d) = serde_json::from_value::<Deployment>(v)
            {
                latest.insert(n.clone(), state_of(&d));
            }
        }
        log.0.lock().unwrap().push((Instant::now(), latest.clone()));
        let l = log.clone();
        std::thread::spawn(move || {
            loop {
                let ev = match rx.blocking_recv() {
                    Ok(ev) => ev,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        eprintln!("the rollout log missed {n} store events");
                        continue;
                    }
                    Err(_) => break,
                };
                let now = Instant::now();
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                if ev.gvr != deployments_gvr() || ev.object["metadata"]["namespace"] != "bookinfo" {
                    continue;
                }
                let name = ev.object["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                if !names.contains(&name) {
                    continue;
                }
                if let Ok(d) = serde_json::from_value::<Deployment>(ev.object) {
                    latest.insert(name, state_of(&d));
                    l.0.lock().unwrap().push((now, latest.clone()));
                }
            }
        });
        log
    }

    /// The first moment at or after `after` when every deployment was at `generation` and
    /// rolled out.
    fn complete_at(&self, after: Instant, generation: &BTreeMap<String, i64>) -> Option<Instant> {
        self.0.lock().unwrap().iter().find_map(|(t, m)| {
            let done = generation
                .iter()
                .all(|(n, g)| m.get(n).is_some_and(|(mg, c)| mg == g && *c));
            (*t >= after && done).then_some(*t)
        })
    }
}

fn state_of(d: &Deployment) -> (i64, bool) {
    (
        d.metadata.generation.unwrap_or(0),
        rollout_state(d, None).0 == RolloutState::Complete,
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn signed_ms(a: Instant, b: Instant) -> f64 {
    if a >= b { ms(a - b) } else { -ms(b - a) }
}

struct Figures {
    measured_failover: Duration,
    routed_failover: Duration,
    measured_failback: Duration,
    routed_failback: Duration,
    wall: Duration,
    waiting: Duration,
    /// The drill's own time, by part, in seconds (they add up to `wall - waiting`).
    own: Vec<(&'static str, f64)>,
}

impl Figures {
    fn overhead(&self) -> Duration {
        self.wall.saturating_sub(self.waiting)
    }
}

fn main() {
    let runs: usize = std::env::var("SMH_BENCH_DRILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let delay = std::env::var("SMH_BENCH_ROLLOUT_DELAY")
        .ok()
        .and_then(|v| smh_core::model::duration::parse_duration(&v).ok())
        .unwrap_or(Duration::from_secs(1));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sidecars = WorldSidecars::default();
    let mut opts = FleetOptions::demo();
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = delay;
    }
    opts.hooks.push(bookinfo_world_observed(
        MultiClusterMode::Global,
        "1.24.2",
        &sidecars,
    ));
    let fleet = rt.block_on(common::start_ready(opts));
    let dir = std::env::temp_dir().join(format!("smh-bench-drill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    fleet.write_kubeconfig(&kubeconfig).unwrap();

    // The guide's configuration, with the real `kubectl smh apply` (outside the runtime: it
    // runs its own).
    let kc = kubeconfig.display().to_string();
    let g = kubectl_smh::cli::Cli::try_parse_from([
        "kubectl smh",
        "--kubeconfig",
        kc.as_str(),
        "--cluster",
        "mgmt-cluster=mgmt-cluster",
        "--cluster",
        "remote-cluster=remote-cluster",
        "version",
    ])
    .unwrap()
    .global;
    let guide = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/guide");
    let applied = kubectl_smh::cli::apply::run(
        &g,
        kubectl_smh::cli::apply::Args {
            input: kubectl_smh::cli::input::Filenames {
                filenames: vec![guide],
            },
            dry_run: kubectl_smh::cli::apply::DryRun::None,
            diff: false,
            prune: true,
            strategy: kubectl_smh::cli::strategy::StrategyArg::Auto,
        },
    )
    .map_err(|e| e.to_string())
    .expect("kubectl smh apply -f examples/guide/");
    assert_eq!(applied, kubectl_smh::cli::Exit::Ok);
    let contexts = Contexts::new(
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(kubeconfig.clone())).unwrap(),
        BTreeMap::new(),
        Registry::empty(dir.join("registry.yaml")),
        None,
        Duration::from_secs(10),
    );
    rt.block_on(bench(runs, delay, &fleet, &sidecars, &contexts));
    rt.block_on(fleet.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
}

async fn bench(
    runs: usize,
    delay: Duration,
    fleet: &SimFleet,
    sidecars: &WorldSidecars,
    contexts: &Contexts,
) {
    let store = fleet.cluster("mgmt-cluster").unwrap().store();
    let contexts = contexts.clone();
    println!(
        "drill on the demo clusters: {runs} drills, pods ready {} after creation, default drill flags (10 probes/s, baseline and steady windows of 20)",
        smh_core::drill::human(delay)
    );
    let mut all: Vec<Figures> = Vec::new();
    for i in 1..=runs {
        let names = ["reviews-v1", "reviews-v2"];
        let gens: BTreeMap<String, i64> = names
            .iter()
            .map(|n| {
                let v = store.get(&deployments_gvr(), "bookinfo", n).unwrap();
                (n.to_string(), v["metadata"]["generation"].as_i64().unwrap())
            })
            .collect();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let log = RolloutLog::start(store.clone(), &names, stop.clone());

        let ran = run_one(i, &contexts).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let fig = figures(i, &ran, fleet, sidecars, &log, &gens).await;
        all.push(fig);
        // Restored pods are new hosts, so no ejection carries over to the next drill; the
        // next one starts once the clusters have settled.
        fleet
            .wait_ready(Duration::from_secs(60))
            .await
            .expect("the clusters settle after a drill");
    }

    print_summary(&all);
}

/// One drill as `kubectl smh drill --yes` runs it, with the recorder as its observer and the
/// times it took; it must pass.
async fn run_one(i: usize, contexts: &Contexts) -> Ran {
    let flags = DrillFlags::default();
    let opts = flags.options();
    let t0 = Instant::now();
    let discovery = smh_core::inspect::discovery::DiscoveryOptions::default();
    let p = prepare(
        contexts,
        "service-mesh-hub",
        "reviews-failover",
        &opts,
        &discovery,
    )
    .await
    .map_err(|e| e.to_string())
    .expect("prepare");
    let now = jiff::Timestamp::now();
    let restore = RestoreContext {
        drill_id: new_drill_id("reviews-failover", now),
        failover_service: p.plan.failover_service.clone(),
        started_at: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    };
    let primary_ec = p.inputs.backing[0].envoy_cluster.clone().unwrap();
    let secondary_ec = p.inputs.backing[1].envoy_cluster.clone().unwrap();
    let interval = p.plan.probe.interval();
    let (n, w) = (p.plan.baseline.probes as u32, p.plan.steady.window as u32);
    let fs = p.inputs.failover_service.clone();
    let probe_cluster = p.plan.probe.workload.cluster.clone();
    let ctx = DrillContext {
        clients: Arc::new(p.clients),
        inputs: Arc::new(p.inputs),
        plan: p.plan,
        restore,
        yes: true,
        generated: generated_check(contexts, &DiscoveryOptions::default(), &fs, &probe_cluster),
        retry_stats: Default::default(),
    };
    let (_keep, signals) = mpsc::unbounded_channel();
    let mut rec = Recorder::default();
    let run_start = t0.elapsed();
    let result = run_drill(ctx, &mut rec, signals).await;
    let wall = t0.elapsed();
    assert!(
        matches!(result.outcome, DrillOutcome::Passed),
        "drill {i}: {}",
        result.report.summary
    );

    Ran {
        result,
        rec,
        run_start,
        wall,
        primary_ec,
        secondary_ec,
        interval,
        baseline: n,
        window: w,
    }
}

/// A drill's figures, from its report, the sidecar's routing log and the rollout log; printed
/// as (a) the measured against the routed times and (b) the wall time against the waiting.
async fn figures(
    i: usize,
    ran: &Ran,
    fleet: &SimFleet,
    sidecars: &WorldSidecars,
    log: &RolloutLog,
    gens: &BTreeMap<String, i64>,
) -> Figures {
    let Ran {
        result,
        rec,
        primary_ec,
        secondary_ec,
        ..
    } = ran;
    let (run_start, wall, interval) = (ran.run_start, ran.wall, ran.interval);
    let (n, w) = (ran.baseline, ran.window);
    let m = &result.report.markers;
    let meas = &result.report.measurements;
    let (brk_at, rst_at) = (m.break_applied.unwrap(), m.restore_applied.unwrap());
    let brk = result.started + brk_at;
    let rst = result.started + rst_at;
    let pod = smh_cluster::probe::pick_pod(
        &fleet.cluster("mgmt-cluster").unwrap().client().unwrap(),
        "bookinfo",
        "productpage-v1",
    )
    .await
    .unwrap();
    let routing = sidecars
        .sidecar("mgmt-cluster", "bookinfo", &pod)
        .unwrap()
        .routing_log();
    let first = |ec: &str, after: Instant| {
        routing
            .iter()
            .find(|a| a.cluster == ec && a.at >= after)
            .map(|a| a.at)
            .expect("a routed attempt")
    };
    let f_at = first(secondary_ec, brk);
    let b_at = first(primary_ec, rst);
    let gen_break: BTreeMap<String, i64> = gens.iter().map(|(k, v)| (k.clone(), v + 1)).collect();
    let gen_restore: BTreeMap<String, i64> = gens.iter().map(|(k, v)| (k.clone(), v + 2)).collect();
    let r_break = log.complete_at(brk, &gen_break).expect("break rollout") - brk;
    let r_restore = log.complete_at(rst, &gen_restore).expect("restore rollout") - rst;

    // What the drill waited for, and what it spent itself (times since run_drill began).
    let confirm = rec.phase_at(Phase::Confirm);
    let restore_phase = rec.phase_at(Phase::Restore);
    let end = m.end;
    let window = interval * (w - 1);
    let baseline_need = interval * (n - 1);
    let fo_need = r_break.max(meas.break_to_steady_failover.unwrap() + window);
    let fb_need = r_restore.max(meas.restore_to_steady_failback.unwrap() + window);
    // Signed: a part the drill did faster than the bound would show as negative.
    let sub = |a: Duration, b: Duration| a.as_secs_f64() - b.as_secs_f64();
    let own = vec![
        ("reading before the drill", run_start.as_secs_f64()),
        (
            "port-forward and preflight beyond the baseline",
            sub(confirm, baseline_need),
        ),
        ("save and break patches", sub(brk_at, confirm)),
        ("noticing failover", sub(restore_phase - brk_at, fo_need)),
        ("restore patches", sub(rst_at, restore_phase)),
        ("noticing failback", sub(end - rst_at, fb_need)),
        ("read-back and report", sub(wall - run_start, end)),
    ];
    let fig = Figures {
        measured_failover: meas.break_to_first_failover.unwrap(),
        routed_failover: f_at - brk,
        measured_failback: meas.restore_to_first_primary.unwrap(),
        routed_failback: b_at - rst,
        wall,
        waiting: baseline_need + fo_need + fb_need,
        own,
    };
    let first_fo_latency = rec
        .samples
        .iter()
        .find(|(at, _)| *at == brk_at + fig.measured_failover)
        .map(|(_, l)| *l)
        .unwrap_or_default();
    println!(
        "drill {i}: (a) failover: first failed-over answer sent {:.0} ms after the break, first request routed to the secondary {:.0} ms (delta {:+.0} ms; that probe took {:.0} ms); failback: {:.0} ms vs {:.0} ms (delta {:+.0} ms)",
        ms(fig.measured_failover),
        ms(fig.routed_failover),
        signed_ms(brk + fig.measured_failover, f_at),
        ms(first_fo_latency),
        ms(fig.measured_failback),
        ms(fig.routed_failback),
        signed_ms(rst + fig.measured_failback, b_at),
    );
    println!(
        "         (b) wall {:.0} ms = waiting {:.0} ms (baseline {:.0}, failover {:.0} with rollout {:.0}, failback {:.0} with rollout {:.0}) + own {:.0} ms: {}",
        ms(fig.wall),
        ms(fig.waiting),
        ms(baseline_need),
        ms(fo_need),
        ms(r_break),
        ms(fb_need),
        ms(r_restore),
        ms(fig.overhead()),
        fig.own
            .iter()
            .map(|(what, d)| format!("{what} {:.0}", d * 1000.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    fig
}

/// (a) the worst difference between measured and routed times, (b) the drill's own time,
/// each against its target.
fn print_summary(all: &[Figures]) {
    let interval_ms = 100.0;
    let worst_delta = all
        .iter()
        .map(|f| (ms(f.measured_failover) - ms(f.routed_failover)).abs())
        .fold(0.0, f64::max);
    let worst_back = all
        .iter()
        .map(|f| (ms(f.measured_failback) - ms(f.routed_failback)).abs())
        .fold(0.0, f64::max);
    let overheads: Vec<f64> = all.iter().map(|f| ms(f.overhead())).collect();
    let worst_overhead = overheads.iter().cloned().fold(0.0, f64::max);
    let mean_overhead = overheads.iter().sum::<f64>() / overheads.len().max(1) as f64;
    println!();
    println!(
        "(a) |measured - routed| time to failover: worst {worst_delta:.0} ms (target: within one probe interval, {interval_ms:.0} ms) -> {}",
        if worst_delta <= interval_ms {
            "PASS"
        } else {
            "FAIL"
        }
    );
    println!(
        "    |measured - routed| time to failback: worst {worst_back:.0} ms -> {}",
        if worst_back <= interval_ms {
            "PASS"
        } else {
            "FAIL"
        }
    );
    println!(
        "(b) the drill's own time (wall - waiting): mean {mean_overhead:.0} ms, worst {worst_overhead:.0} ms (target: under 1000 ms) -> {}",
        if worst_overhead < 1000.0 {
            "PASS"
        } else {
            "FAIL"
        }
    );
}

/// What [`run_one`] hands to [`figures`].
struct Ran {
    result: DrillResult,
    rec: Recorder,
    /// When `run_drill` began, since the drill's start.
    run_start: Duration,
    wall: Duration,
    primary_ec: String,
    secondary_ec: String,
    interval: Duration,
    /// Baseline probes and steadiness window, in answers.
    baseline: u32,
    window: u32,
}
