//! The drill on the demo clusters: in-process simulated clusters (SimFleet with bookinfo) or
//! real control planes (tests/drill/both.rs), and the `kubectl-smh` binary, so that signals
//! reach a real process.
//!
//! Every test that changes deployments takes a snapshot of every bookinfo deployment first
//! and compares each pod template with it afterwards, container by container and field by
//! field (`drill::restore::containers_equal`), plus the whole template as JSON.
//!
//! Phase-targeted interruptions wait for the phase by reading the drill's progress lines on
//! stderr (one per phase change, printed when the phase begins), never by sleeping.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../common/mod.rs"]
mod common;

mod ambient;
mod both;
mod breaks;
mod passes;
mod signals;

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

use common::backend::{Backend, Clusters};
use smh_cluster::probe::{Prober, pick_pod};
use smh_core::consts::DRILL_RESTORE_ANNOTATION;
use smh_core::drill::restore::containers_equal;
use smh_core::model::topology::MultiClusterMode;
use smh_sim::fleet::{
    FleetOptions, SimFleet, WorldSidecars, ambient_bookinfo_world_observed, bookinfo_world_observed,
};
use smh_sim::world::controller::PodStartHold;

/// Flags that keep a drill short on the demo: 20 probes/s, steady windows of 10 answers
/// (0.5 s), a baseline of 10 answers; a test may give any of them itself. The simulated
/// clusters run in the test process: on a loaded machine (other test binaries, builds) an
/// answer can take seconds, which is the machine, not a failure; the probe timeout is 30 s
/// so that only an answer that does not come refuses the baseline or counts as an error.
/// Likewise the request timeout is 30 s: a real kube-apiserver on a machine whose cores are
/// all busy took more than the default 10 s to answer the drill's rollout check (exit 3).
const FAST: [(&str, &str); 5] = [
    ("--probe-rate", "20"),
    ("--steady-window", "10"),
    ("--baseline-probes", "10"),
    ("--probe-timeout", "30s"),
    ("--request-timeout", "30s"),
];

struct Demo {
    clusters: Clusters,
    /// Reaches into the simulated worlds (sidecars, pod-start holds); unused on real control
    /// planes.
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
        Demo::of(Clusters::Sim(fleet), sidecars).await
    }

    /// The demo clusters as `kubectl smh demo up --ambient` starts them: Istio (1.28.1) in
    /// ambient mode, multi-primary on two networks with an east-west gateway each, bookinfo
    /// (global Services) behind the waypoint bookinfo/waypoint. Simulated clusters
    /// only: the real control planes (scripts/real-clusters) run no ztunnel and no waypoint.
    async fn start_ambient(rollout_delay: Duration, sidecars: &WorldSidecars) -> Demo {
        let mut opts = FleetOptions::demo();
        for c in opts.clusters.iter_mut() {
            c.rollout_delay = rollout_delay;
        }
        opts.hooks.push(ambient_bookinfo_world_observed(
            smh_sim::world::ambient::AMBIENT_ISTIO_VERSION,
            sidecars,
        ));
        let fleet = SimFleet::start(opts).await.expect("demo clusters start");
        Demo::of(Clusters::Sim(fleet), sidecars).await
    }

    /// `backend`'s clusters in global mode, as the scenarios that run on both backends use
    /// them (the simulated ones as [`Demo::start`] with rollouts of 300 ms); `None` after a
    /// SKIP line.
    async fn on(backend: Backend) -> Option<Demo> {
        Self::on_in(backend, MultiClusterMode::Global).await
    }

    /// [`Demo::on`] in `mode` (the simulated clusters as [`Demo::start_with`]).
    async fn on_in(backend: Backend, mode: MultiClusterMode) -> Option<Demo> {
        match backend {
            Backend::Sim => Some(
                Demo::start_with(mode, Duration::from_millis(300), &WorldSidecars::default()).await,
            ),
            Backend::Real => {
                let clusters = Clusters::start(Backend::Real, mode).await?;
                let demo = Demo::of(clusters, &WorldSidecars::default()).await;
                // The real control planes start without the SMH CRDs.
                let run = demo.run(&["install"]).await;
                assert_eq!(run.code, Some(0), "install: {}", run.show());
                Some(demo)
            }
        }
    }

    async fn of(clusters: Clusters, sidecars: &WorldSidecars) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        clusters.write_kubeconfig(&kubeconfig);
        let config = dir.path().join("kubectl-smh.yaml");
        let demo = Demo {
            clusters,
            world: sidecars.clone(),
            _dir: dir,
            kubeconfig,
            config,
        };
        demo.wait_settled().await;
        demo
    }

    /// The simulated fleet, for a test that reaches into it.
    fn sim(&self) -> &SimFleet {
        match &self.clusters {
            Clusters::Sim(f) => f,
            Clusters::Real(_) => panic!("a simulated-clusters-only test on real control planes"),
        }
    }

    async fn shutdown(self) {
        self.clusters.shutdown().await;
    }

    fn client(&self, cluster: &str) -> kube::Client {
        self.clusters.client(cluster)
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
        let mut started = false;
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let line = tokio::time::timeout_at(deadline.into(), lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("drill ran over 90 s; stderr so far:\n{err}"));
            let Ok(Some(line)) = line else { break };
            err.push_str(&line);
            err.push('\n');
            if let Some(r) = &release
                && !started
                && r.start_at.is_some_and(|at| line.contains(at))
            {
                r.hold.start().await;
                started = true;
            }
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
                r.hold.release().await;
                released = true;
            }
        }
        if let Some(r) = &release {
            r.hold.release().await;
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

    /// The generation of every bookinfo deployment: it moves with every change of a spec or
    /// of annotations (what the drill writes), and not with status writes, which the real
    /// deployment controller makes whenever its pods change (a resourceVersion would move
    /// with those on real control planes).
    async fn versions(&self) -> BTreeMap<String, String> {
        self.snapshot()
            .await
            .into_iter()
            .map(|(k, d)| (k, d.metadata.generation.unwrap_or_default().to_string()))
            .collect()
    }

    /// Cordon (or uncordon) the management cluster's node: while cordoned, new pods stay
    /// Pending, unscheduled (real control planes; the simulator has pod-start holds).
    async fn cordon(&self, unschedulable: bool) {
        cordon(&self.client("mgmt-cluster"), unschedulable).await;
    }

    /// Wait until a reviews pod of the management cluster is Pending without a node.
    async fn wait_unscheduled_reviews_pod(&self) {
        let pods: Api<Pod> = Api::namespaced(self.client("mgmt-cluster"), "bookinfo");
        loop {
            let list = pods
                .list(&ListParams::default().labels("app=reviews"))
                .await
                .unwrap();
            if list.items.iter().any(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && p.spec.as_ref().is_some_and(|s| s.node_name.is_none())
            }) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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
        match &self.clusters {
            Clusters::Sim(fleet) => {
                fleet
                    .wait_ready(Duration::from_secs(60))
                    .await
                    .expect("the demo clusters settle");
            }
            Clusters::Real(_) => {
                common::backend::wait_settled(
                    &self.client("mgmt-cluster"),
                    &self.client("remote-cluster"),
                )
                .await;
            }
        }
    }

    /// The guide's configuration: `kubectl smh apply -f examples/guide/`.
    async fn configure_guide(&self) {
        self.configure_guide_with(&[]).await;
    }

    /// `kubectl smh apply -f examples/guide/ EXTRA...` (e.g. `--strategy aggregate`).
    async fn configure_guide_with(&self, extra: &[&str]) {
        let dir = guide_dir();
        let mut args = vec!["apply", "-f", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let run = self.run(&args).await;
        assert_eq!(run.code, Some(0), "apply: {}", run.show());
    }
}

/// What keeps pods from starting, so that a drill stays in a phase until released.
enum Hold<'a> {
    /// The simulated kubelet's pod-start hold (of the pods it was told to hold).
    Sim(&'a PodStartHold),
    /// The management cluster's node cordoned: new pods stay Pending, unscheduled, as on a
    /// cluster without room for them ([`Demo::cordon`]).
    Cordon(&'a Demo),
}

impl Hold<'_> {
    /// Start holding (a cordon; the simulated hold was given its pods before).
    async fn start(&self) {
        if let Hold::Cordon(demo) = self {
            demo.cordon(true).await;
        }
    }

    /// Wait until a pod is kept from starting.
    async fn wait_held(&self) {
        match self {
            Hold::Sim(hold) => {
                hold.wait_held().await;
            }
            Hold::Cordon(demo) => demo.wait_unscheduled_reviews_pod().await,
        }
    }

    /// Let the pods start.
    async fn release(&self) {
        match self {
            Hold::Sim(hold) => hold.release(),
            Hold::Cordon(demo) => demo.cordon(false).await,
        }
    }
}

/// What [`Demo::drill_with_signals_then_release`] releases, and when.
struct Release<'a> {
    hold: Hold<'a>,
    /// Start holding once a stderr line contains this (before the signals are all sent).
    start_at: Option<&'a str>,
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
        // The annotations are those of before, except the revision the deployment controller
        // advances with each rollout (the break's and the restore's), as on a real cluster.
        let theirs = |d: &Deployment| {
            let mut m = d.metadata.annotations.clone().unwrap_or_default();
            m.remove("deployment.kubernetes.io/revision");
            m
        };
        assert_eq!(
            theirs(b),
            theirs(a),
            "{k}: annotations differ from before the drill"
        );
    }
}

/// Answers served by the secondary while the primary was broken (the periods "breaking" and
/// "failed-over" of a drill's JSON report).
fn failed_over_answers(report: &Value) -> u64 {
    let periods = report["measurements"]["periods"].as_array().unwrap();
    periods
        .iter()
        .filter(|p| matches!(p["period"].as_str(), Some("breaking" | "failed-over")))
        .map(|p| p["failedOver"].as_u64().unwrap())
        .sum()
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

/// The live `answers:` lines and the report name the same probes (docs/drill.md, "What the
/// numbers mean"): exactly one line is marked as the first failed-over answer and one as the first
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

/// Cordon (or uncordon) every node of `client`'s cluster ([`Demo::cordon`]).
async fn cordon(client: &kube::Client, unschedulable: bool) {
    use k8s_openapi::api::core::v1::Node;
    let nodes: Api<Node> = Api::all(client.clone());
    for node in nodes.list(&ListParams::default()).await.unwrap().items {
        nodes
            .patch(
                node.metadata.name.as_deref().unwrap(),
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"unschedulable": unschedulable}})),
            )
            .await
            .unwrap();
    }
}
