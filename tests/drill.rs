//! The drill on the demo clusters: in-process simulated clusters (SimFleet with bookinfo) and
//! the `kubectl-smh` binary, so that signals reach a real process.
//!
//! Every test that changes deployments takes a snapshot of every bookinfo deployment first
//! and compares each pod template with it afterwards, container by container and field by
//! field (`drill::restore::containers_equal`), plus the whole template as JSON.
//!
//! Phase-targeted interruptions wait for the phase by reading the drill's progress lines on
//! stderr (one per phase change, printed when the phase begins), never by sleeping.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Namespace, Pod};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use smh_cluster::probe::{Prober, pick_pod};
use smh_core::consts::DRILL_RESTORE_ANNOTATION;
use smh_core::drill::restore::containers_equal;
use smh_core::model::topology::MultiClusterMode;
use smh_sim::fleet::{FleetOptions, SimFleet, WorldSidecars, bookinfo_world_observed};
use smh_sim::world::controller::PodStartHold;

/// Flags that keep a drill short on the demo: 20 probes/s, steady windows of 10 answers
/// (0.5 s), a baseline of 10 answers; a test may give any of them itself. The simulated
/// clusters run in the test process: on a loaded machine (other test binaries, builds) an
/// answer can take seconds, which is the machine, not a failure; the probe timeout is 30 s
/// so that only an answer that does not come refuses the baseline or counts as an error.
const FAST: [(&str, &str); 4] = [
    ("--probe-rate", "20"),
    ("--steady-window", "10"),
    ("--baseline-probes", "10"),
    ("--probe-timeout", "30s"),
];

struct Demo {
    fleet: SimFleet,
    /// Reaches into the simulated worlds (sidecars, pod-start holds).
    world: WorldSidecars,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    config: PathBuf,
}

fn guide_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/guide")
}

impl Demo {
    async fn start(rollout_delay: Duration) -> Demo {
        Self::start_observed(rollout_delay, &WorldSidecars::default()).await
    }

    async fn start_observed(rollout_delay: Duration, sidecars: &WorldSidecars) -> Demo {
        Self::start_with(MultiClusterMode::Global, rollout_delay, sidecars).await
    }

    /// The demo clusters in `mode`, with the demo's Istio cluster IDs (cluster1 and
    /// cluster2, not the SMH cluster names).
    async fn start_with(
        mode: MultiClusterMode,
        rollout_delay: Duration,
        sidecars: &WorldSidecars,
    ) -> Demo {
        let mut opts = FleetOptions::demo();
        for c in opts.clusters.iter_mut() {
            c.rollout_delay = rollout_delay;
        }
        opts.hooks
            .push(bookinfo_world_observed(mode, "1.24.2", sidecars));
        let fleet = SimFleet::start(opts).await.expect("demo clusters start");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        fleet.write_kubeconfig(&kubeconfig).unwrap();
        let config = dir.path().join("kubectl-smh.yaml");
        let demo = Demo {
            fleet,
            world: sidecars.clone(),
            _dir: dir,
            kubeconfig,
            config,
        };
        demo.wait_settled().await;
        demo
    }

    fn client(&self, cluster: &str) -> kube::Client {
        self.fleet.cluster(cluster).unwrap().client().unwrap()
    }

    fn deployments(&self, cluster: &str) -> Api<Deployment> {
        Api::namespaced(self.client(cluster), "bookinfo")
    }

    fn cmd(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"));
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECTL_SMH_CONFIG", &self.config)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Run the CLI to the end.
    async fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd(args).output().await.expect("kubectl-smh runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Run a drill and send `signal` to it when a stderr line contains `marker`.
    async fn drill_with_signal(&self, args: &[&str], marker: &str, signal: i32) -> Run {
        self.drill_with_signals(args, &[marker], signal).await
    }

    /// Run a drill and send `signal` each time a stderr line contains the next of `markers`.
    async fn drill_with_signals(&self, args: &[&str], markers: &[&str], signal: i32) -> Run {
        self.drill_with_signals_then_release(args, markers, signal, None)
            .await
    }

    /// [`Demo::drill_with_signals`]; once every signal is sent and a stderr line contains one
    /// of `release.after`, lets the pods `release.hold` keeps from starting start (first
    /// waiting until it keeps one, with `release.wait_held`). Released at the end in any case.
    async fn drill_with_signals_then_release(
        &self,
        args: &[&str],
        markers: &[&str],
        signal: i32,
        release: Option<Release<'_>>,
    ) -> Run {
        let mut child = self.cmd(args).spawn().expect("kubectl-smh runs");
        let pid = child.id().expect("pid") as i32;
        let stderr = child.stderr.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let out_task = tokio::spawn(async move {
            let mut s = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut s).await;
            s
        });
        let mut lines = BufReader::new(stderr).lines();
        let mut err = String::new();
        let mut next = 0;
        let mut released = false;
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let line = tokio::time::timeout_at(deadline.into(), lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("drill ran over 90 s; stderr so far:\n{err}"));
            let Ok(Some(line)) = line else { break };
            err.push_str(&line);
            err.push('\n');
            if next < markers.len() && line.contains(markers[next]) {
                // SAFETY: kill(2) on our own child's pid.
                let rc = unsafe { libc::kill(pid, signal) };
                assert_eq!(rc, 0, "kill failed");
                next += 1;
            } else if next == markers.len()
                && let Some(r) = &release
                && !released
                && r.after.iter().any(|a| line.contains(a.as_str()))
            {
                if r.wait_held {
                    tokio::time::timeout_at(deadline.into(), r.hold.wait_held())
                        .await
                        .unwrap_or_else(|_| panic!("no pod was held; stderr so far:\n{err}"));
                }
                r.hold.release();
                released = true;
            }
        }
        if let Some(r) = &release {
            r.hold.release();
        }
        let status = child.wait().await.unwrap();
        assert!(
            next == markers.len(),
            "the marker {:?} never appeared:\n{err}",
            markers.get(next)
        );
        Run {
            code: status.code(),
            stdout: out_task.await.unwrap(),
            stderr: err,
        }
    }

    /// Every bookinfo deployment in both clusters, by `cluster:name`.
    async fn snapshot(&self) -> BTreeMap<String, Deployment> {
        let mut out = BTreeMap::new();
        for cluster in ["mgmt-cluster", "remote-cluster"] {
            for d in self
                .deployments(cluster)
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
            {
                out.insert(format!("{cluster}:{}", d.metadata.name.clone().unwrap()), d);
            }
        }
        out
    }

    /// resourceVersion of every bookinfo deployment.
    async fn versions(&self) -> BTreeMap<String, String> {
        self.snapshot()
            .await
            .into_iter()
            .map(|(k, d)| (k, d.metadata.resource_version.unwrap_or_default()))
            .collect()
    }

    /// The `pod-template-hash` of every pod labelled `app=reviews` in the management cluster.
    async fn reviews_template_hashes(&self) -> BTreeSet<String> {
        let pods: Api<Pod> = Api::namespaced(self.client("mgmt-cluster"), "bookinfo");
        pods.list(&ListParams::default().labels("app=reviews"))
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|p| p.metadata.labels?.remove("pod-template-hash"))
            .collect()
    }

    /// Wait until the clusters have settled: every Deployment available (rolled out) and
    /// every Service's Endpoints listing its pods ([`SimFleet::wait_ready`]).
    async fn wait_settled(&self) {
        self.fleet
            .wait_ready(Duration::from_secs(60))
            .await
            .expect("the demo clusters settle");
    }

    /// The guide's configuration: `kubectl smh apply -f examples/guide/`.
    async fn configure_guide(&self) {
        let dir = guide_dir();
        let run = self.run(&["apply", "-f", dir.to_str().unwrap()]).await;
        assert_eq!(run.code, Some(0), "apply: {}", run.show());
    }
}

/// What [`Demo::drill_with_signals_then_release`] releases, and when.
struct Release<'a> {
    hold: &'a PodStartHold,
    /// Release once a stderr line contains one of these (after the last signal).
    after: &'a [String],
    /// Before releasing, wait until the hold keeps a pod from starting.
    wait_held: bool,
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn containers(d: &Deployment) -> Vec<Container> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.clone())
        .unwrap_or_default()
}

/// Every deployment's pod template is what it was: containers field by field, the whole
/// template as JSON, and no restore annotation left.
fn assert_restored(before: &BTreeMap<String, Deployment>, after: &BTreeMap<String, Deployment>) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (k, b) in before {
        let a = &after[k];
        if let Err(diffs) = containers_equal(&containers(b), &containers(a)) {
            panic!("{k}: containers differ from before the drill: {diffs:#?}");
        }
        assert_eq!(
            serde_json::to_value(&b.spec.as_ref().unwrap().template).unwrap(),
            serde_json::to_value(&a.spec.as_ref().unwrap().template).unwrap(),
            "{k}: pod template differs"
        );
        assert_eq!(
            b.spec.as_ref().unwrap().replicas,
            a.spec.as_ref().unwrap().replicas,
            "{k}: spec.replicas differs"
        );
        assert!(
            !a.metadata
                .annotations
                .as_ref()
                .is_some_and(|m| m.contains_key(DRILL_RESTORE_ANNOTATION)),
            "{k}: restore annotation left behind"
        );
        // No annotations before: none after either (not an empty map).
        assert_eq!(
            b.metadata.annotations, a.metadata.annotations,
            "{k}: annotations differ from before the drill"
        );
    }
}

fn drill_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["drill", "reviews-failover", "--yes"];
    for (flag, value) in FAST {
        if !extra.contains(&flag) {
            v.extend([flag, value]);
        }
    }
    v.extend_from_slice(extra);
    v
}

/// The live `answers:` lines and the report name the same probes (README, "What the numbers
/// mean"): exactly one line is marked as the first failed-over answer and one as the first
/// primary answer again, and they name the probes the report's timeline gives those
/// moments; a line marked as sent before the break (the restore), a request that straddles
/// it, names a probe sent before it.
fn assert_live_lines_agree_with_the_report(run: &Run, report: &Value) {
    let moment = |event: &str| -> String {
        report["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"].as_str().unwrap().starts_with(event))
            .and_then(|e| e["at"].as_f64())
            .map(|at| format!("{at:.3}"))
            .unwrap_or_else(|| panic!("no {event:?} in the timeline: {}", run.show()))
    };
    // The probe each marked line names, as printed (seconds, 3 decimals).
    let live = |mark: &str| -> Vec<String> {
        run.stderr
            .lines()
            .filter(|l| l.contains("] answers: ") && l.contains(mark))
            .filter_map(|l| l.split_once("(since the probe sent at "))
            .map(|(_, rest)| rest[..rest.find('s').unwrap()].to_string())
            .collect()
    };
    assert_eq!(
        live(", the first failed-over answer"),
        [moment("first failed-over answer")],
        "{}",
        run.show()
    );
    assert_eq!(
        live(", the first primary answer again"),
        [moment("first primary answer again")],
        "{}",
        run.show()
    );
    for (mark, marker) in [
        (", before the break", "breakApplied"),
        (", before the restore", "restoreApplied"),
    ] {
        let at = report["markers"][marker].as_f64().unwrap();
        for sent in live(mark) {
            let sent: f64 = sent.parse().unwrap();
            assert!(
                sent <= (at * 1000.0).round() / 1000.0,
                "{mark}: a probe sent at {sent}, after {marker} {at}: {}",
                run.show()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_drill_passes_and_restores_exactly() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    let before = demo.snapshot().await;

    let run = demo.run(&drill_args(&["-o", "json"])).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["result"], "passed", "{}", run.show());
    let m = &report["measurements"];
    for field in [
        "breakToFirstFailover",
        "breakToSteadyFailover",
        "restoreToFirstPrimary",
        "restoreToSteadyFailback",
        "breakRollout",
        "restoreRollout",
    ] {
        assert!(m[field].as_f64().is_some(), "{field}: {}", run.show());
    }
    let periods: BTreeMap<String, Value> = m["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].as_str().unwrap().to_string(), p.clone()))
        .collect();
    assert!(periods["baseline"]["primary"].as_u64().unwrap() >= 10);
    // Steady failover can come before the rollout is reported complete.
    let failed_over = periods["breaking"]["failedOver"].as_u64().unwrap()
        + periods["failed-over"]["failedOver"].as_u64().unwrap();
    assert!(failed_over >= 10, "{}", run.show());
    let primary_after = periods["restoring"]["primary"].as_u64().unwrap()
        + periods["failed-back"]["primary"].as_u64().unwrap();
    assert!(primary_after >= 10, "{}", run.show());
    assert_eq!(report["outlier"]["settings"]["consecutive5xxErrors"], 1);
    assert_eq!(report["outlier"]["settings"]["maxEjectionPercent"], 100);
    let checks = report["restoreCheck"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{}", run.show());
    assert!(
        checks
            .iter()
            .all(|c| c["differences"].as_array().unwrap().is_empty())
    );
    assert!(
        run.stderr
            .contains("these contexts and API servers will be changed")
    );
    assert_live_lines_agree_with_the_report(&run, &report);

    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// Multi-primary mode with Istio cluster IDs that differ from the SMH cluster names (the
/// demo's cluster1 and cluster2): apply discovers the IDs, the subsets select them, and the
/// drill fails over to the remote cluster and restores exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_primary_drill_with_istio_cluster_ids_passes_and_restores() {
    let demo = Demo::start_with(
        MultiClusterMode::MultiPrimary,
        Duration::from_millis(300),
        &WorldSidecars::default(),
    )
    .await;
    demo.configure_guide().await;
    let ar = ApiResource::from_gvk_with_plural(
        &kube::core::GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "DestinationRule"),
        "destinationrules",
    );
    let drs: Api<DynamicObject> =
        Api::namespaced_with(demo.client("mgmt-cluster"), "bookinfo", &ar);
    let dr = drs.get("reviews").await.unwrap();
    assert_eq!(
        dr.data["spec"]["subsets"],
        json!([
            {"name": "cluster-mgmt-cluster", "labels": {"topology.istio.io/cluster": "cluster1"}},
            {"name": "cluster-remote-cluster", "labels": {"topology.istio.io/cluster": "cluster2"}},
        ])
    );
    let before = demo.snapshot().await;
    let run = demo.run(&drill_args(&["-o", "json"])).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["result"], "passed", "{}", run.show());
    let periods: BTreeMap<String, Value> = report["measurements"]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].as_str().unwrap().to_string(), p.clone()))
        .collect();
    let failed_over = periods["breaking"]["failedOver"].as_u64().unwrap()
        + periods["failed-over"]["failedOver"].as_u64().unwrap();
    assert!(failed_over >= 10, "{}", run.show());
    assert_live_lines_agree_with_the_report(&run, &report);
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// Where to interrupt, by the progress line that starts the phase.
const PHASES: [(&str, &str); 4] = [
    ("before the break", "preflight checks passed"),
    (
        "during the break rollout",
        "wait for break rollout: break applied",
    ),
    (
        "during failover verification",
        "verify failover: break rollout complete",
    ),
    ("during the restore", "restore: failover steady"),
];

/// Interrupts a drill with `signal` in each of [`PHASES`] and checks that it restores
/// exactly. Each phase is aimed at by its progress line, and the drill is kept in it until
/// the signal has landed, however slow the machine:
/// - before the break: a baseline of 100000 answers, which preflight waits for;
/// - during the break rollout (command patch): the new pods are kept from starting, so the
///   rollout cannot complete, until the drill says it restores. Scaled to 0, the rollout is
///   complete as soon as the pods are terminating (they no longer count), so the signal
///   lands in the break rollout or in failover verification, held as in the next item;
/// - during failover verification: a steady window of 100000 answers, so failover never
///   becomes steady (otherwise the phase can end as it begins: failover can be steady
///   before the rollout is reported complete, and the drill then restores at once);
/// - during the restore: the restored pods (those with the pod template hash of the pods
///   before the drill) are kept from starting, so the restore rollout cannot complete, until
///   one of them is held and the drill says it restores first.
async fn signal_in_every_phase(signal: i32, name: &str, extra: &[&str]) {
    let scale = extra.contains(&"scale");
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    let hold = demo
        .world
        .pod_starts("mgmt-cluster")
        .expect("the management cluster's kubelet");
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    for (phase, marker) in PHASES {
        let before = demo.snapshot().await;
        let versions = demo.versions().await;
        let mut args: Vec<&str> = extra.to_vec();
        // Where the signal may land: the lines the drill prints when it handles it.
        let (seen, wait_held) = match phase {
            "before the break" => {
                args.extend(["--baseline-probes", "100000"]);
                (
                    vec![format!("{name} during preflight, nothing changed")],
                    false,
                )
            }
            "during the break rollout" if scale => {
                args.extend(["--steady-window", "100000"]);
                (
                    vec![
                        format!("restore: {name} during wait for break rollout"),
                        format!("restore: {name} during verify failover"),
                    ],
                    false,
                )
            }
            "during the break rollout" => {
                hold.hold(labels(&[("app", "reviews")]));
                (
                    vec![format!("restore: {name} during wait for break rollout")],
                    false,
                )
            }
            "during failover verification" => {
                args.extend(["--steady-window", "100000"]);
                (
                    vec![format!("restore: {name} during verify failover")],
                    false,
                )
            }
            _ => {
                for hash in demo.reviews_template_hashes().await {
                    hold.hold(labels(&[("app", "reviews"), ("pod-template-hash", &hash)]));
                }
                (
                    vec![
                        format!("{name} received: restoring first"),
                        format!("{name} received: waiting for the restore rollout first"),
                    ],
                    true,
                )
            }
        };
        let run = demo
            .drill_with_signals_then_release(
                &drill_args(&args),
                &[marker],
                signal,
                Some(Release {
                    hold: &hold,
                    after: &seen,
                    wait_held,
                }),
            )
            .await;
        assert_eq!(run.code, Some(130), "{name} {phase}: {}", run.show());
        // The machine saw the signal in the phase aimed at.
        assert!(
            seen.iter().any(|s| run.stderr.contains(s.as_str())),
            "{name} {phase}: expected one of {seen:?}: {}",
            run.show()
        );
        assert!(
            run.stderr.contains(&format!("interrupted by {name}")),
            "{name} {phase}: {}",
            run.show()
        );
        if phase == "before the break" {
            assert!(run.stderr.contains("nothing changed"), "{}", run.show());
            assert_eq!(
                versions,
                demo.versions().await,
                "{phase}: something was patched"
            );
        } else {
            assert!(run.stderr.contains("(restored)"), "{}", run.show());
            assert!(
                run.stderr.contains(&format!(
                    "{name} received: restoring the deployments first, please wait"
                )),
                "{}",
                run.show()
            );
        }
        demo.wait_settled().await;
        assert_restored(&before, &demo.snapshot().await);
    }
    demo.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_in_every_phase_restores_exactly() {
    signal_in_every_phase(libc::SIGINT, "SIGINT", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_every_phase_restores_exactly() {
    signal_in_every_phase(libc::SIGTERM, "SIGTERM", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_in_every_phase_restores_the_replica_counts_of_the_scale_break() {
    signal_in_every_phase(libc::SIGINT, "SIGINT", &["--break-mode", "scale"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_every_phase_restores_the_replica_counts_of_the_scale_break() {
    signal_in_every_phase(libc::SIGTERM, "SIGTERM", &["--break-mode", "scale"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_then_drill_restore_in_every_phase() {
    sigkill_then_restore_in_every_phase(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_then_drill_restore_in_every_phase_of_the_scale_break() {
    sigkill_then_restore_in_every_phase(&["--break-mode", "scale"]).await;
}

async fn sigkill_then_restore_in_every_phase(extra: &[&str]) {
    let scale = extra.contains(&"scale");
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;

    // Nothing pending: a no-op that says so.
    let run = demo.run(&["drill", "restore", "reviews-failover"]).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert!(
        run.stdout.starts_with("nothing to restore"),
        "{}",
        run.show()
    );

    for (phase, marker) in PHASES {
        let before = demo.snapshot().await;
        let mut args = vec!["--baseline-probes", "40"];
        args.extend_from_slice(extra);
        let run = demo
            .drill_with_signal(&drill_args(&args), marker, libc::SIGKILL)
            .await;
        assert_eq!(run.code, None, "{phase}: killed: {}", run.show());

        // The deployments whose restore plan is still on them: the kill can land after the
        // drill restored some of them (in the restore phase), so `drill restore` restores
        // exactly these.
        let pending: Vec<String> = demo
            .snapshot()
            .await
            .into_iter()
            .filter(|(_, d)| {
                d.metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.contains_key(DRILL_RESTORE_ANNOTATION))
            })
            .map(|(key, _)| key)
            .collect();
        if phase == "during the break rollout" {
            assert_eq!(
                pending.len(),
                2,
                "the restore plans stay on the deployments"
            );
            if scale {
                for d in ["reviews-v1", "reviews-v2"] {
                    let dep = demo.deployments("mgmt-cluster").get(d).await.unwrap();
                    assert_eq!(dep.spec.unwrap().replicas, Some(0), "{d} is scaled down");
                }
            }
            // A drill refuses to start while a restore is pending, and changes nothing.
            demo.wait_settled().await;
            let versions = demo.versions().await;
            let refused = demo.run(&drill_args(&[])).await;
            assert_eq!(refused.code, Some(1), "{}", refused.show());
            assert!(
                refused
                    .stderr
                    .contains("run `kubectl smh drill restore reviews-failover` first"),
                "{}",
                refused.show()
            );
            assert_eq!(
                versions,
                demo.versions().await,
                "a refused drill patched something"
            );
        }

        let restore = demo.run(&["drill", "restore", "reviews-failover"]).await;
        assert_eq!(restore.code, Some(0), "{phase}: {}", restore.show());
        if !pending.is_empty() {
            // Exactly the pending ones are restored, each rolled out as saved.
            let mut want: Vec<String> = pending
                .iter()
                .filter_map(|key| key.split_once(':'))
                .map(|(cluster, name)| format!("{cluster}:bookinfo/{name}"))
                .collect();
            want.sort();
            let mut got: Vec<String> = restore
                .stdout
                .lines()
                .filter_map(|l| l.strip_prefix("restored "))
                .filter_map(|l| l.split_once(' '))
                .map(|(what, _)| what.to_string())
                .collect();
            got.sort();
            assert_eq!(got, want, "{phase}: {}", restore.show());
            for what in &want {
                let saved = if scale {
                    format!("{what}: rolled out; replicas as saved")
                } else {
                    format!("{what}: rolled out; command and args as saved")
                };
                assert!(restore.stdout.contains(&saved), "{}", restore.show());
            }
            if scale {
                assert_eq!(
                    restore.stdout.matches("): replicas 1\n").count(),
                    want.len(),
                    "{}",
                    restore.show()
                );
            }
        } else {
            assert!(
                restore.stdout.starts_with("nothing to restore"),
                "{}",
                restore.show()
            );
        }
        demo.wait_settled().await;
        assert_restored(&before, &demo.snapshot().await);
    }
    demo.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_refuses_without_outlier_detection_and_dry_run_changes_nothing() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;

    // --dry-run prints the plan and the patches, and changes nothing.
    let versions = demo.versions().await;
    let run = demo.run(&["drill", "reviews-failover", "--dry-run"]).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert!(run.stdout.contains(r#"{"spec":{"template":{"spec":{"containers":[{"command":["sleep","20h"],"name":"reviews"}]}}}}"#), "{}", run.show());
    assert!(run.stdout.ends_with("Nothing was changed (--dry-run).\n"));
    assert_eq!(versions, demo.versions().await);

    // Without a terminal and without --yes, the drill refuses before reading anything.
    let run = demo.run(&["drill", "reviews-failover"]).await;
    assert_eq!(run.code, Some(2), "{}", run.show());
    assert!(run.stderr.contains("pass --yes"), "{}", run.show());

    // Take outlier detection away from the primary's DestinationRule.
    let dr = ApiResource {
        group: "networking.istio.io".into(),
        version: "v1alpha3".into(),
        api_version: "networking.istio.io/v1alpha3".into(),
        kind: "DestinationRule".into(),
        plural: "destinationrules".into(),
    };
    let rules: Api<DynamicObject> =
        Api::namespaced_with(demo.client("mgmt-cluster"), "bookinfo", &dr);
    rules
        .patch(
            "reviews",
            &PatchParams::default(),
            &Patch::Json::<()>(
                serde_json::from_value(json!([
                    {"op": "remove", "path": "/spec/trafficPolicy/outlierDetection"}
                ]))
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    let versions = demo.versions().await;
    let run = demo.run(&drill_args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(
        run.stderr
            .contains("backing service reviews.bookinfo @ mgmt-cluster has no outlier detection"),
        "{}",
        run.show()
    );
    assert!(run.stderr.contains("nothing was changed"), "{}", run.show());
    assert_eq!(
        versions,
        demo.versions().await,
        "preflight refusal patched something"
    );
    demo.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_with_its_own_command_and_args_gets_them_back() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    // A deployment whose container runs its own command with args (not behind any
    // Service, so the failover itself is unaffected); broken along with reviews.
    let own: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "own-command", "namespace": "bookinfo"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "own-command"}},
            "template": {
                "metadata": {"labels": {"app": "own-command"}},
                "spec": {"containers": [{
                    "name": "server",
                    "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.16.2",
                    "command": ["/opt/ibm/wlp/bin/server"],
                    "args": ["run", "defaultServer", "--port=9080"],
                    "ports": [{"containerPort": 9080}]
                }, {
                    "name": "log-shipper",
                    "image": "docker.io/fluent/fluent-bit:2.2",
                    "command": ["/fluent-bit/bin/fluent-bit"],
                    "args": ["-c", "/etc/fluent.conf"]
                }]}
            }
        }
    }))
    .unwrap();
    demo.deployments("mgmt-cluster")
        .create(&PostParams::default(), &own)
        .await
        .unwrap();
    demo.wait_settled().await;
    let before = demo.snapshot().await;

    let run = demo
        .run(&drill_args(&[
            "--break",
            "reviews-v1",
            "--break",
            "reviews-v2",
            "--break",
            "own-command",
            "-o",
            "json",
        ]))
        .await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let broken: Vec<&Value> = report["broken"].as_array().unwrap().iter().collect();
    let own_target = broken
        .iter()
        .find(|b| b["deployment"]["name"] == "own-command")
        .unwrap();
    assert_eq!(
        own_target["containers"],
        json!(["server"]),
        "only the serving container"
    );
    demo.wait_settled().await;
    let after = demo.snapshot().await;
    assert_restored(&before, &after);
    let server = &containers(&after["mgmt-cluster:own-command"])[0];
    assert_eq!(
        server.command.as_deref(),
        Some(&["/opt/ibm/wlp/bin/server".to_string()][..])
    );
    assert_eq!(
        server.args.as_deref().map(|a| a.join(" ")),
        Some("run defaultServer --port=9080".to_string())
    );
    demo.fleet.shutdown().await;
}

#[test]
fn demo_guide_runs_to_completion() {
    demo_guide_in(&[]);
}

/// The guide in multi-primary mode, whose istiods have cluster IDs (cluster1, cluster2) that
/// differ from the SMH cluster names: apply, describe and the drill all work on them.
#[test]
fn demo_guide_runs_to_completion_in_multi_primary_mode() {
    let stdout = demo_guide_in(&["--mode", "multi-primary"]);
    assert!(
        stdout.contains(
            "Istio cluster IDs (istiod's CLUSTER_ID, what the subsets select): mgmt-cluster cluster1, remote-cluster cluster2"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("mesh mode: multi-primary"), "{stdout}");
}

/// Runs `demo guide` with `extra` flags, checks every step and that it passed; returns stdout.
fn demo_guide_in(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"))
        .args(["demo", "guide", "--rollout-delay", "100ms"])
        .args(extra)
        // Neither a developer's kubeconfig nor registry may play a part.
        .env("KUBECONFIG", dir.path().join("nonexistent"))
        .env("KUBECTL_SMH_CONFIG", dir.path().join("config.yaml"))
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for step in [
        "1. Configure Outlier Detection",
        "$ kubectl smh apply -f examples/guide/1-outlier-detection.yaml",
        "2. Create the FailoverService",
        "3. Demonstrating Failover Functionality",
        "$ kubectl smh describe failoverservice reviews-failover",
        "Backing services (priority order)",
        "No problems found.",
        "$ kubectl smh drill reviews-failover --yes",
        "passed (exit 0)",
        "Stopped the simulated clusters.",
    ] {
        assert!(stdout.contains(step), "{step:?} missing:\n{stdout}");
    }
    assert!(stdout.contains("state: ACCEPTED"), "{stdout}");
    let reloads: Vec<&str> = stdout.lines().filter(|l| l.contains("reload ")).collect();
    assert_eq!(reloads.len(), 6, "{stdout}");
    assert!(
        reloads
            .iter()
            .all(|l| l.contains("no stars (reviews-v1)") || l.contains("black stars (reviews-v2)")),
        "{reloads:#?}"
    );
    // The temporary kubeconfig is gone, and nothing was written where it ran.
    let line = stdout.lines().find(|l| l.contains("kubeconfig: ")).unwrap();
    let path = line
        .split("kubeconfig: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(!Path::new(path).exists(), "{path} left behind");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    stdout.into_owned()
}

/// The sidecar's routing log (the benchmark's observation hook) shows the switch from the
/// primary's Envoy cluster to the secondary's once the primary is broken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sidecar_routing_log_shows_the_switch_to_the_secondary() {
    let sidecars = WorldSidecars::default();
    let demo = Demo::start_observed(Duration::from_millis(100), &sidecars).await;
    demo.configure_guide().await;
    let client = demo.client("mgmt-cluster");
    let pod = pick_pod(&client, "bookinfo", "productpage-v1")
        .await
        .unwrap();
    let prober = Prober::new(client, "bookinfo", &pod, 9080, Duration::from_secs(5));
    let primary = "outbound|9080||reviews.bookinfo.svc.cluster.local";
    let secondary = "outbound|9080||reviews.bookinfo.svc.remote-cluster.global";
    for _ in 0..3 {
        prober.get("/productpage").await;
    }
    let sidecar = sidecars
        .sidecar("mgmt-cluster", "bookinfo", &pod)
        .expect("productpage has a sidecar");
    let log = sidecar.routing_log();
    assert!(
        log.iter().any(|a| a.cluster == primary && a.level == 0),
        "{log:#?}"
    );
    assert!(!log.iter().any(|a| a.cluster == secondary), "{log:#?}");

    let broken = Instant::now();
    for d in ["reviews-v1", "reviews-v2"] {
        demo.deployments("mgmt-cluster")
            .patch(
                d,
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                    {"name": "reviews", "command": ["sleep", "20h"]}]}}}})),
            )
            .await
            .unwrap();
    }
    demo.wait_settled().await;
    let mut red = false;
    for _ in 0..100 {
        let (answer, _) = prober.get("/productpage").await;
        if let smh_cluster::probe::ProbeResult::Http { body, .. } = &answer
            && body.contains("color=\"red\"")
        {
            red = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(red, "no failover to reviews-v3");
    let log = sidecar.routing_log();
    let first = log
        .iter()
        .find(|a| a.cluster == secondary)
        .expect("an attempt routed to the secondary");
    assert_eq!(
        first.level, 1,
        "the secondary is the aggregate's second priority"
    );
    assert!(first.at > broken);
    demo.fleet.shutdown().await;
}

/// A failed expectation restores first, exits 1, and says which expectation failed and by
/// how much. Both expectations are chosen so that no timing can meet them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_expectations_restore_and_say_by_how_much() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    let before = demo.snapshot().await;

    // Whether a probe sees a real error during failover depends on when the sidecars'
    // ejections land, i.e. on timing. Here the failed-over answers themselves are errors
    // (--expect-error matches the secondary's red stars), and once the primary's pods are
    // broken every answer is either such a page or an error page: the first answer after
    // the break that is not the primary's is an error, and nothing can fail over steadily
    // before it, so --max-errors 0 is exceeded on every run.
    let run = demo
        .run(&drill_args(&[
            "--max-errors",
            "0",
            "--expect-error",
            r#"color="red"|text-red-500"#,
        ]))
        .await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    let summary = run.stderr.lines().last().unwrap_or("").to_string();
    assert!(
        summary.contains("failed requests during failover exceed --max-errors 0")
            || summary.contains("more than --max-errors 0"),
        "{}",
        run.show()
    );
    assert!(
        run.stderr
            .contains("wait for restore rollout: restore applied"),
        "{}",
        run.show()
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);

    // Failover cannot be steady 1 µs after the break: only answers to probes sent after the
    // break count, and none comes back through the port-forward within 1 µs of being sent
    // (let alone ten failed-over ones, which need the break's rollout first).
    let run = demo
        .run(&drill_args(&["--failover-timeout", "1us", "-o", "json"]))
        .await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["result"], "failed");
    let failover = report["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "failover")
        .unwrap();
    assert_eq!(failover["verdict"], "fail", "{}", run.show());
    assert!(
        failover["message"].as_str().unwrap().starts_with(
            "failover was not steady (>= 99% of 10 answers) within --failover-timeout"
        ),
        "{failover}"
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// A second Ctrl-C while the drill restores does not stop the restore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_does_not_stop_the_restore() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    let before = demo.snapshot().await;
    let run = demo
        .drill_with_signals(
            &drill_args(&[]),
            &[
                "wait for break rollout: break applied",
                "SIGINT received: restoring the deployments first, please wait",
            ],
            libc::SIGINT,
        )
        .await;
    assert_eq!(run.code, Some(130), "{}", run.show());
    assert_eq!(
        run.stderr
            .matches("SIGINT received: restoring the deployments first, please wait")
            .count(),
        2,
        "{}",
        run.show()
    );
    assert!(
        run.stderr.contains("interrupted by SIGINT (restored)"),
        "{}",
        run.show()
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// Ctrl-C twice on a terminal while the progress area is drawn, the second while the output
/// of the first has not been read yet: every event line still arrives exactly once (the
/// terminal driver discards unread output on Ctrl-C unless `noflsh`), and no `^C` echo lands
/// in the progress area (it would shift the cursor under indicatif's redraws).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_on_a_terminal_loses_no_progress_line() {
    use expectrl::{ControlCode, Eof, Expect};

    // Slow rollouts: the restore rollout takes at least 1 s after the restore patches, so
    // the drill is still restoring when the second Ctrl-C follows them.
    let demo = Demo::start(Duration::from_millis(1_000)).await;
    demo.configure_guide().await;
    let before = demo.snapshot().await;
    let (kubeconfig, config) = (demo.kubeconfig.clone(), demo.config.clone());
    let store = demo.fleet.cluster("mgmt-cluster").unwrap().store();
    let (seen, status) = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"));
        cmd.args(drill_args(&[]))
            .env("KUBECONFIG", &kubeconfig)
            .env("KUBECTL_SMH_CONFIG", &config)
            .env("NO_COLOR", "1")
            .env("TERM", "xterm");
        let mut p = expectrl::Session::spawn(cmd).expect("spawned on a pty");
        // Wide: every redraw pads its lines to the width, so unread output piles up fast.
        p.get_process_mut()
            .set_window_size(1000, 40)
            .expect("window size");
        // As on a user's terminal (expectrl turns echo off): Ctrl-C is echoed as `^C`.
        p.get_process_mut().set_echo(true, None).expect("echo on");
        p.set_expect_timeout(Some(Duration::from_secs(60)));
        let head = p
            .expect("verify failover: break rollout complete")
            .expect("failover verification begins");
        let mut seen = String::from_utf8_lossy(head.before()).into_owned();
        seen.push_str(&String::from_utf8_lossy(&head[0]));
        p.send(ControlCode::EndOfText).expect("Ctrl-C");
        // Read nothing meanwhile, so that the drill's output waits in the terminal, and
        // press Ctrl-C again once the restore patches reached the API server (the restore
        // annotations are gone), watching the simulated cluster's store: the event lines
        // of the first Ctrl-C are then written and unread, and the restore rollout runs.
        let deployments = smh_sim::store::Gvr::new("apps", "v1", "deployments");
        let restored = || {
            ["reviews-v1", "reviews-v2"].iter().all(|name| {
                let d = store
                    .get(&deployments, "bookinfo", name)
                    .expect("deployment");
                d["metadata"]["annotations"][DRILL_RESTORE_ANNOTATION].is_null()
            })
        };
        let waiting = Instant::now();
        while !restored() {
            assert!(
                waiting.elapsed() < Duration::from_secs(60),
                "no restore patch 60 s after the first Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        p.send(ControlCode::EndOfText).expect("Ctrl-C");
        let rest = p.expect(Eof).expect("the end");
        seen.push_str(&String::from_utf8_lossy(rest.as_bytes()));
        let status = format!("{:?}", p.get_process().wait().expect("exit status"));
        (seen, status)
    })
    .await
    .unwrap();
    assert!(status.ends_with(", 130)"), "{status}\n{seen}");
    // Live lines carry a `[   1.234s] ` stamp; the report's timeline does not.
    for line in [
        "] SIGINT received: restoring the deployments first",
        "] restore: SIGINT during verify failover",
        "] restored mgmt-cluster:bookinfo/reviews-v1: command and args as saved",
        "] restored mgmt-cluster:bookinfo/reviews-v2: command and args as saved",
        "] wait for restore rollout: restore applied",
        "] report: restore rollout complete; stopping for SIGINT",
    ] {
        let n = seen.matches(line).count();
        let want = if line.contains("restoring the deployments first") {
            2
        } else {
            1
        };
        assert_eq!(n, want, "{line:?} seen {n} times:\n{seen}");
    }
    // The machine's note of the second Ctrl-C: the restore patches' answers may or may not
    // have been read when it came, so the drill was restoring or waiting for the restore
    // rollout; either way the note is there exactly once.
    let notes = seen.matches("] SIGINT received: restoring first").count()
        + seen
            .matches("] SIGINT received: waiting for the restore rollout first")
            .count();
    assert_eq!(
        notes, 1,
        "the second Ctrl-C's note seen {notes} times:\n{seen}"
    );
    assert!(!seen.contains("^C"), "Ctrl-C echoed:\n{seen}");
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// An HPA (autoscaling/v2) on a deployment of bookinfo.
async fn create_hpa(demo: &Demo, target: &str, min: i32) {
    let hpa: HorizontalPodAutoscaler = serde_json::from_value(json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": target, "namespace": "bookinfo"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": min, "maxReplicas": 3,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]
        }
    }))
    .unwrap();
    Api::<HorizontalPodAutoscaler>::namespaced(demo.client("mgmt-cluster"), "bookinfo")
        .create(&PostParams::default(), &hpa)
        .await
        .unwrap();
}

/// Strategic merge patch of a bookinfo deployment in mgmt-cluster.
async fn patch_deployment(demo: &Demo, name: &str, patch: Value) {
    demo.deployments("mgmt-cluster")
        .patch(name, &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
}

/// Where a line containing `needle` is in `text` (panics if absent).
fn line_at(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scale_break_passes_and_puts_back_the_exact_replica_counts() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    // reviews-v2 runs 2 replicas, and an HPA scales reviews-v1.
    patch_deployment(&demo, "reviews-v2", json!({"spec": {"replicas": 2}})).await;
    create_hpa(&demo, "reviews-v1", 1).await;
    demo.wait_settled().await;
    let before = demo.snapshot().await;
    let versions = demo.versions().await;
    let hpa_warning = "HorizontalPodAutoscaler bookinfo/reviews-v1 (minReplicas 1, maxReplicas 3) scales deployment mgmt-cluster:bookinfo/reviews-v1: while the deployment has 0 replicas the HPA leaves it alone (ScalingActive=False, reason ScalingDisabled";

    let dry = demo
        .run(&[
            "drill",
            "reviews-failover",
            "--dry-run",
            "--break-mode",
            "scale",
        ])
        .await;
    assert_eq!(dry.code, Some(0), "{}", dry.show());
    for text in [
        r#"{"spec":{"replicas":0}}"#,
        r#"{"metadata":{"annotations":{"drill.kubectl-smh.io/restore":null}},"spec":{"replicas":2}}"#,
        r#"\"scale\":{\"replicas\":2}"#,
        "Warnings (also shown before the confirmation):",
        hpa_warning,
    ] {
        assert!(dry.stdout.contains(text), "{text:?}: {}", dry.show());
    }
    assert_eq!(
        versions,
        demo.versions().await,
        "--dry-run changed something"
    );

    let run = demo
        .run(&drill_args(&["--break-mode", "scale", "-o", "json"]))
        .await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_live_lines_agree_with_the_report(&run, &report);
    assert_eq!(report["result"], "passed", "{}", run.show());
    assert_eq!(report["breakMode"], "scale");
    assert!(
        report["outlier"].is_null(),
        "no ejection model without endpoints"
    );
    let checks = report["restoreCheck"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{}", run.show());
    assert!(
        checks
            .iter()
            .all(|c| c["differences"].as_array().unwrap().is_empty())
    );
    // The warning comes before anything changes.
    let warned = line_at(&run.stderr, &format!("] warning: {hpa_warning}"));
    assert!(warned < line_at(&run.stderr, "confirm: preflight passed"));
    assert!(warned < line_at(&run.stderr, "saved the restore plan on"));
    for text in [
        "broke mgmt-cluster:bookinfo/reviews-v2: scaled to 0 replicas",
        "restored mgmt-cluster:bookinfo/reviews-v2: replicas as saved (2), annotation removed",
    ] {
        assert!(run.stderr.contains(text), "{text:?}: {}", run.show());
    }
    demo.wait_settled().await;
    let after = demo.snapshot().await;
    assert_restored(&before, &after);
    assert_eq!(
        after["mgmt-cluster:reviews-v2"]
            .spec
            .as_ref()
            .unwrap()
            .replicas,
        Some(2)
    );
    demo.fleet.shutdown().await;
}

/// An image without `sleep`: the new pod cannot start (StartError, CrashLoopBackOff); the
/// drill stops within seconds, says so, and restores. The scale break works there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distroless_image_stops_the_drill_within_seconds_and_restores() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    patch_deployment(
        &demo,
        "reviews-v1",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews",
            "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.16.2-distroless"}]}}}}),
    )
    .await;
    demo.wait_settled().await;
    let before = demo.snapshot().await;

    let run = demo.run(&drill_args(&["-o", "json"])).await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(
        run.stderr.contains("] warning: deployment mgmt-cluster:bookinfo/reviews-v1, container reviews: its image docker.io/istio/examples-bookinfo-reviews-v1:1.16.2-distroless looks distroless by its name"),
        "{}",
        run.show()
    );
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["result"], "failed");
    let summary = report["summary"].as_str().unwrap();
    for text in [
        "failed: the break did not take effect: deployment mgmt-cluster:bookinfo/reviews-v1: pod reviews-v1-",
        ": container reviews cannot run `sleep 20h`",
        "exec: \"sleep\": executable file not found in $PATH",
        "the image has no `sleep` (distroless or scratch-based); use --break-mode scale",
    ] {
        assert!(summary.contains(text), "{text:?}: {summary}");
    }
    let markers = &report["markers"];
    let stopped =
        markers["restoreApplied"].as_f64().unwrap() - markers["breakApplied"].as_f64().unwrap();
    assert!(
        stopped < 10.0,
        "stopped {stopped}s after the break, not within seconds"
    );
    assert!(
        run.stderr
            .contains("verify failback: restore rollout complete"),
        "the restore rolled out: {}",
        run.show()
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);

    // Scaling needs no `sleep`.
    let run = demo.run(&drill_args(&["--break-mode", "scale"])).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// A readiness probe with one replica: the rolling update would keep the old pod serving.
/// Preflight refuses the command patch (nothing changed) and names --break-mode scale;
/// chosen explicitly, the drill stops once the new pods are not Ready in time, and restores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readiness_probe_refuses_the_command_patch_and_stops_it_fast_when_chosen() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    for d in ["reviews-v1", "reviews-v2"] {
        patch_deployment(
            &demo,
            d,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews",
                "readinessProbe": {"httpGet": {"path": "/health", "port": 9080},
                                   "periodSeconds": 1, "failureThreshold": 2}}]}}}}),
        )
        .await;
    }
    demo.wait_settled().await;
    let before = demo.snapshot().await;
    let versions = demo.versions().await;
    let why = "deployment mgmt-cluster:bookinfo/reviews-v1, container reviews: its readiness probe (httpGet :9080/health) fails once `sleep 20h` replaces the app, so the new pods never become Ready; with 1 replica and maxUnavailable 0 (maxSurge 1), the deployment controller keeps 1 old pod serving until new pods are Ready, so traffic never breaks, nothing fails over, and the rollout stalls until its progress deadline (600s). Use --break-mode scale";

    let run = demo.run(&drill_args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(
        run.stderr
            .contains("preflight: refused (2 problems), nothing was changed"),
        "{}",
        run.show()
    );
    assert!(run.stderr.contains(why), "{}", run.show());
    assert!(
        run.stderr.contains(
            "(the drill then stops and restores when the new pods are not Ready within 7.0s)"
        ),
        "the bound from the probe: 1s × 2 + 5s: {}",
        run.show()
    );
    assert_eq!(
        versions,
        demo.versions().await,
        "a refused drill patched something"
    );

    let dry = demo.run(&["drill", "reviews-failover", "--dry-run"]).await;
    assert_eq!(dry.code, Some(0), "{}", dry.show());
    assert!(
        dry.stdout
            .contains("Preflight would refuse, as the deployments are now:"),
        "{}",
        dry.show()
    );
    assert!(dry.stdout.contains(why), "{}", dry.show());

    // Bad values: exit 2, nothing changed.
    for (flag, value, says) in [
        (
            "--break-ready-timeout",
            "0",
            "--break-ready-timeout 0: must be more than 0",
        ),
        (
            "--break-mode",
            "sleep",
            "invalid value 'sleep' for '--break-mode <MODE>'",
        ),
    ] {
        let bad = demo.run(&drill_args(&[flag, value])).await;
        assert_eq!(bad.code, Some(2), "{}", bad.show());
        assert!(bad.stderr.contains(says), "{says:?}: {}", bad.show());
    }
    assert_eq!(versions, demo.versions().await);

    // Chosen explicitly: it runs, and stops when the new pods are not Ready within 2 s.
    let run = demo
        .run(&drill_args(&[
            "--break-mode",
            "command",
            "--break-ready-timeout",
            "2s",
            "-o",
            "json",
        ]))
        .await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(run.stderr.contains("] warning: deployment mgmt-cluster:bookinfo/reviews-v1, container reviews: its readiness probe"), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let summary = report["summary"].as_str().unwrap();
    assert!(
        summary.contains("runs `sleep 20h` but is not Ready: its readiness probe (httpGet :9080/health) does not pass, for 2.0s (the limit, from its probes or --break-ready-timeout); the deployment controller keeps old pods until new ones are Ready"),
        "{summary}"
    );
    // The old pods kept serving: nothing failed over.
    assert_eq!(
        report["measurements"]["breakToFirstFailover"],
        Value::Null,
        "{}",
        run.show()
    );
    let markers = &report["markers"];
    let stopped =
        markers["restoreApplied"].as_f64().unwrap() - markers["breakApplied"].as_f64().unwrap();
    assert!(
        (2.0..10.0).contains(&stopped),
        "stopped {stopped}s after the break"
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);

    // The scale break does not depend on the probes.
    let run = demo.run(&drill_args(&["--break-mode", "scale"])).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// Tools that may undo the break (by managedFields managers) and HPAs are warned about in
/// `--dry-run` and above the confirmation prompt; declining changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_and_hpas_are_warned_about_in_dry_run_and_at_the_prompt() {
    use expectrl::{Eof, Expect};

    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    // Argo CD (server-side apply) owns reviews-v1's replica count; Flux's
    // kustomize-controller applied reviews-v2 but only a label.
    let api = demo.deployments("mgmt-cluster");
    api.patch(
        "reviews-v1",
        &PatchParams::apply("argocd-controller").force(),
        &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "reviews-v1", "namespace": "bookinfo"},
            "spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    api.patch(
        "reviews-v2",
        &PatchParams::apply("kustomize-controller").force(),
        &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "reviews-v2", "namespace": "bookinfo",
                         "labels": {"kustomize.toolkit.fluxcd.io/name": "apps"}}})),
    )
    .await
    .unwrap();
    create_hpa(&demo, "reviews-v2", 1).await;
    demo.wait_settled().await;
    let versions = demo.versions().await;
    let argo = "deployment mgmt-cluster:bookinfo/reviews-v1 is managed by Argo CD (field manager argocd-controller), which owns spec.replicas: with automated sync and self-heal it re-applies what Git holds as soon as the live object differs, which would put spec.replicas back and undo the break during the drill; turn off self-heal of its Application for the drill";
    let flux = "deployment mgmt-cluster:bookinfo/reviews-v2 is managed by Flux (kustomize-controller) (field manager kustomize-controller); it does not own spec.replicas";
    let hpa = "HorizontalPodAutoscaler bookinfo/reviews-v2 (minReplicas 1, maxReplicas 3) scales deployment mgmt-cluster:bookinfo/reviews-v2";

    let dry = demo
        .run(&[
            "drill",
            "reviews-failover",
            "--dry-run",
            "--break-mode",
            "scale",
            "-o",
            "json",
        ])
        .await;
    assert_eq!(dry.code, Some(0), "{}", dry.show());
    let v: Value = serde_json::from_str(&dry.stdout).unwrap();
    let warnings: Vec<&str> = v["assessment"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    assert_eq!(warnings[0], argo);
    assert!(warnings[1].starts_with(flux), "{warnings:#?}");
    assert!(warnings[2].starts_with(hpa), "{warnings:#?}");
    assert_eq!(v["assessment"]["refusals"], json!([]));
    // The command patch: Argo CD does not own the command.
    let dry = demo.run(&["drill", "reviews-failover", "--dry-run"]).await;
    assert!(
        dry.stdout.contains("is managed by Argo CD (field manager argocd-controller); it does not own the command of container reviews"),
        "{}",
        dry.show()
    );

    // On a terminal, without --yes: the warnings, then the question; say no.
    let (kubeconfig, config) = (demo.kubeconfig.clone(), demo.config.clone());
    let (seen, status) = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"));
        cmd.args([
            "drill",
            "reviews-failover",
            "--break-mode",
            "scale",
            "--probe-rate",
            "20",
            "--baseline-probes",
            "10",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env("KUBECTL_SMH_CONFIG", &config)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
        let mut p = expectrl::Session::spawn(cmd).expect("spawned on a pty");
        p.get_process_mut()
            .set_window_size(1000, 40)
            .expect("window size");
        p.set_expect_timeout(Some(Duration::from_secs(60)));
        let asked = p.expect("Break them now?").expect("the question");
        let seen = String::from_utf8_lossy(asked.before()).into_owned();
        p.send("n").expect("answer");
        p.expect(Eof).expect("the end");
        let status = format!("{:?}", p.get_process().wait().expect("exit status"));
        (seen, status)
    })
    .await
    .unwrap();
    assert!(status.ends_with(", 1)"), "{status}\n{seen}");
    let prompt = seen
        .rfind("Warnings:")
        .map(|i| &seen[i..])
        .unwrap_or_else(|| panic!("no warnings above the question:\n{seen}"));
    for w in [argo, flux, hpa] {
        assert!(
            prompt.contains(&format!("- {w}")),
            "{w:?} not in:\n{prompt}"
        );
    }
    assert!(
        prompt.contains("The drill will break 2 deployments in context mgmt-cluster"),
        "{prompt}"
    );
    assert!(
        prompt.contains("(scaled to 0 replicas), verify failover"),
        "{prompt}"
    );
    assert_eq!(
        versions,
        demo.versions().await,
        "declined, yet something changed"
    );
    demo.fleet.shutdown().await;
}

/// The DestinationRule that sets a backing service's outlier detection is ranked with the
/// root namespace of the client's mesh (meshConfig.rootNamespace), not istio-system.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destination_rules_rank_with_the_meshs_root_namespace() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    let client = demo.client("mgmt-cluster");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "istio-system");
    let mut cm = cms.get("istio").await.unwrap();
    let mesh = cm.data.as_ref().unwrap()["mesh"]
        .replace("rootNamespace: istio-system", "rootNamespace: istio-config");
    assert!(mesh.contains("rootNamespace: istio-config"), "{mesh}");
    cm.data.as_mut().unwrap().insert("mesh".into(), mesh);
    cm.metadata.managed_fields = None;
    cms.replace("istio", &PostParams::default(), &cm)
        .await
        .unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let dr = ApiResource {
        group: "networking.istio.io".into(),
        version: "v1alpha3".into(),
        api_version: "networking.istio.io/v1alpha3".into(),
        kind: "DestinationRule".into(),
        plural: "destinationrules".into(),
    };
    // Two more rules for the remote backing service's host: one in the new root namespace,
    // one in a namespace that sorts first.
    for (ns, errors) in [("istio-config", 3), ("aaa", 7)] {
        namespaces
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
            )
            .await
            .unwrap();
        let rule: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
            "metadata": {"name": "remote-reviews", "namespace": ns},
            "spec": {"host": "reviews.bookinfo.svc.remote-cluster.global",
                     "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": errors,
                         "interval": "1s", "baseEjectionTime": "10s", "maxEjectionPercent": 100}}}
        }))
        .unwrap();
        Api::<DynamicObject>::namespaced_with(client.clone(), ns, &dr)
            .create(&PostParams::default(), &rule)
            .await
            .unwrap();
    }
    let run = demo
        .run(&["drill", "reviews-failover", "--dry-run", "-o", "json"])
        .await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["rootNamespace"], "istio-config");
    let remote = &v["outlier"][1];
    assert_eq!(
        remote["outlier"]["source"], "mgmt-cluster: DestinationRule istio-config/remote-reviews",
        "{remote:#}"
    );
    assert_eq!(remote["outlier"]["consecutive5xxErrors"], 3);
    demo.fleet.shutdown().await;
}

/// `kubectl smh drill ... -o json 2>&1 | head -3`: the reader of stdout is gone from the
/// start and the reader of stderr goes away once the break is applied, so every later
/// write fails (EPIPE). The drill goes on, restores exactly and exits with its own code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_stdout_and_stderr_do_not_skip_the_restore() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    let before = demo.snapshot().await;
    let mut child = demo
        .cmd(&drill_args(&["-o", "json"]))
        .spawn()
        .expect("kubectl-smh runs");
    drop(child.stdout.take());
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let line = tokio::time::timeout_at(deadline.into(), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no break after 90 s; stderr so far:\n{seen}"))
            .expect("stderr readable")
            .unwrap_or_else(|| panic!("stderr ended before the break:\n{seen}"));
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("wait for break rollout: break applied") {
            break;
        }
    }
    // The reader goes away while the deployments are broken.
    drop(lines);
    let status = tokio::time::timeout(Duration::from_secs(90), child.wait())
        .await
        .expect("the drill ends within 90 s")
        .unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{status:?}; stderr before the close:\n{seen}"
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// A closed terminal (SIGHUP, e.g. an ssh connection that drops) restores like SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_restores_before_exiting() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    let before = demo.snapshot().await;
    let run = demo
        .drill_with_signal(
            &drill_args(&[]),
            "verify failover: break rollout complete",
            libc::SIGHUP,
        )
        .await;
    assert_eq!(run.code, Some(130), "{}", run.show());
    assert!(
        run.stderr
            .contains("SIGHUP received: restoring the deployments first"),
        "{}",
        run.show()
    );
    assert!(
        run.stderr.contains("interrupted by SIGHUP (restored)"),
        "{}",
        run.show()
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// An observer that panics once the deployments are broken, as `eprintln!` does on a closed
/// stderr: the panic does not unwind through the drill, which restores and reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_observer_does_not_skip_the_restore() {
    use kubectl_smh::cli::drill::{DrillFlags, generated_check, prepare};
    use smh_cluster::{Contexts, KubeconfigOrigin, KubeconfigSet, Registry};
    use smh_core::drill::machine::DrillOutcome;
    use smh_core::drill::restore::{RestoreContext, new_drill_id};
    use smh_core::inspect::discovery::DiscoveryOptions;
    use smh_drill::{
        ConfirmAnswer, Confirmation, DrillContext, Observer, PatchKind, Progress, run_drill,
    };
    use std::sync::Arc;
    use tokio::sync::{mpsc, oneshot};

    #[derive(Default)]
    struct Panicky {
        broken: bool,
        panicked: usize,
    }
    impl Observer for Panicky {
        fn progress(&mut self, _at: Duration, p: Progress<'_>) {
            if let Progress::Patched {
                kind: PatchKind::Broken,
                ..
            } = p
            {
                self.broken = true;
            }
            if self.broken {
                self.panicked += 1;
                panic!("failed printing to stderr: Broken pipe (os error 32)");
            }
        }
        fn confirm(&mut self, _c: &Confirmation) -> oneshot::Receiver<ConfirmAnswer> {
            let (tx, rx) = oneshot::channel();
            let _ = tx.send(ConfirmAnswer::Yes);
            rx
        }
    }

    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    let before = demo.snapshot().await;
    let contexts = Contexts::new(
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(demo.kubeconfig.clone())).unwrap(),
        BTreeMap::new(),
        Registry::empty(demo.config.clone()),
        None,
        Duration::from_secs(10),
    );
    let flags = DrillFlags {
        probe_rate: Some(20.0),
        steady_window: Some(10),
        baseline_probes: Some(10),
        ..Default::default()
    };
    let opts = flags.options();
    let discovery = DiscoveryOptions::default();
    let p = match prepare(
        &contexts,
        "service-mesh-hub",
        "reviews-failover",
        &opts,
        &discovery,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => panic!("prepare: {e}"),
    };
    let now = jiff::Timestamp::now();
    let fs = p.inputs.failover_service.clone();
    let probe_cluster = p.plan.probe.workload.cluster.clone();
    let ctx = DrillContext {
        clients: Arc::new(p.clients),
        inputs: Arc::new(p.inputs),
        restore: RestoreContext {
            drill_id: new_drill_id("reviews-failover", now),
            failover_service: p.plan.failover_service.clone(),
            started_at: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        },
        plan: p.plan,
        yes: true,
        generated: generated_check(&contexts, &discovery, &fs, &probe_cluster),
    };
    let (_keep, signals) = mpsc::unbounded_channel();
    let mut observer = Panicky::default();
    let result = run_drill(ctx, &mut observer, signals).await;
    assert_eq!(observer.panicked, 1, "called again after its panic");
    assert!(
        matches!(result.outcome, DrillOutcome::Passed),
        "{}",
        result.report.summary
    );
    assert_eq!(result.restore_checks.len(), 2);
    assert!(
        result
            .restore_checks
            .iter()
            .all(|c| c.differences.is_empty())
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}

/// Multi-primary mode with mgmt-cluster's remote secret for remote-cluster recreated under
/// the SMH name (`istioctl create-remote-secret --name remote-cluster`): istiod labels the
/// remote endpoints `topology.istio.io/cluster=remote-cluster`, so the subset the failover
/// goes to (cluster2) selects nothing. Preflight refuses with `check`'s finding and its fix,
/// and nothing is patched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_refuses_a_multi_primary_drill_whose_remote_secret_has_the_wrong_key() {
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::DeleteParams;
    let demo = Demo::start_with(
        MultiClusterMode::MultiPrimary,
        Duration::from_millis(300),
        &WorldSidecars::default(),
    )
    .await;
    demo.configure_guide().await;
    let secrets: Api<Secret> = Api::namespaced(demo.client("mgmt-cluster"), "istio-system");
    let old = secrets.get("istio-remote-secret-cluster2").await.unwrap();
    secrets
        .delete("istio-remote-secret-cluster2", &DeleteParams::default())
        .await
        .unwrap();
    let kubeconfig = old.data.unwrap().into_values().next().unwrap();
    let new: Secret = serde_json::from_value(json!({
        "metadata": {"name": "istio-remote-secret-remote-cluster", "namespace": "istio-system",
                     "labels": {"istio/multiCluster": "true"},
                     "annotations": {"networking.istio.io/cluster": "remote-cluster"}},
        "data": {"remote-cluster": kubeconfig},
    }))
    .unwrap();
    secrets.create(&PostParams::default(), &new).await.unwrap();

    let versions = demo.versions().await;
    let run = demo.run(&drill_args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    for needle in [
        "preflight: refused",
        "mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\", not remote-cluster's Istio cluster ID \"cluster2\"",
        "the subsets on topology.istio.io/cluster=cluster2 in DestinationRule bookinfo/reviews there select nothing, and traffic sent to them gets 503s",
        "recreate it under remote-cluster's cluster ID: \"istioctl create-remote-secret --context=remote-cluster --name=cluster2 | kubectl apply --context=mgmt-cluster -f -\"",
        "refused by preflight, nothing changed",
    ] {
        assert!(
            run.stderr.contains(needle),
            "missing {needle:?}\n{}",
            run.show()
        );
    }
    assert_eq!(
        versions,
        demo.versions().await,
        "preflight refusal patched something"
    );
    demo.fleet.shutdown().await;
}
