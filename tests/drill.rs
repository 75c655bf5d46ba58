//! The drill on the demo clusters: in-process simulated clusters (SimFleet with bookinfo) and
//! the `kubectl-smh` binary, so that signals reach a real process.
//!
//! Every test that changes deployments takes a snapshot of every bookinfo deployment first
//! and compares each pod template with it afterwards, container by container and field by
//! field (`drill::restore::containers_equal`), plus the whole template as JSON.
//!
//! Phase-targeted interruptions wait for the phase by reading the drill's progress lines on
//! stderr (one per phase change, printed when the phase begins), never by sleeping.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Container;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use kubectl_smh::cluster::probe::{Prober, pick_pod};
use kubectl_smh::consts::DRILL_RESTORE_ANNOTATION;
use kubectl_smh::drill::restore::containers_equal;
use kubectl_smh::model::topology::MultiClusterMode;
use kubectl_smh::sim::fleet::{FleetOptions, SimFleet, WorldSidecars, bookinfo_world_observed};

/// Flags that keep a drill short on the demo: 20 probes/s, steady windows of 10 answers
/// (0.5 s). The baseline is 10 answers unless a test asks for more.
const FAST: [&str; 4] = ["--probe-rate", "20", "--steady-window", "10"];

struct Demo {
    fleet: SimFleet,
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
        let mut opts = FleetOptions::demo();
        for c in opts.clusters.iter_mut() {
            c.rollout_delay = rollout_delay;
        }
        opts.hooks.push(bookinfo_world_observed(
            MultiClusterMode::Global,
            "1.24.2",
            sidecars,
        ));
        let fleet = SimFleet::start(opts).await.expect("demo clusters start");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        fleet.write_kubeconfig(&kubeconfig).unwrap();
        let config = dir.path().join("kubectl-smh.yaml");
        let demo = Demo {
            fleet,
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
            }
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
    v.extend_from_slice(&FAST);
    if !extra.contains(&"--baseline-probes") {
        v.extend_from_slice(&["--baseline-probes", "10"]);
    }
    v.extend_from_slice(extra);
    v
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
    // The live line of the first failed-over answer names the report's moment.
    let first_fo = report["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["event"]
                .as_str()
                .unwrap()
                .starts_with("first failed-over answer")
        })
        .and_then(|e| e["at"].as_f64())
        .expect("a first failed-over answer in the timeline");
    let live = run
        .stderr
        .lines()
        .find_map(|l| l.split_once("] answers: failed over (since the probe sent at "))
        .map(|(_, rest)| rest.split('s').next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no live failed-over line: {}", run.show()));
    assert_eq!(live, format!("{first_fo:.3}"), "{}", run.show());

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

async fn signal_in_every_phase(signal: i32, name: &str) {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;
    for (phase, marker) in PHASES {
        let before = demo.snapshot().await;
        let versions = demo.versions().await;
        // A longer baseline leaves time to interrupt before the break.
        let run = demo
            .drill_with_signal(&drill_args(&["--baseline-probes", "40"]), marker, signal)
            .await;
        assert_eq!(run.code, Some(130), "{name} {phase}: {}", run.show());
        // The machine saw the signal in the phase aimed at.
        let seen = match phase {
            "before the break" => vec![format!("{name} during preflight, nothing changed")],
            "during the break rollout" => {
                vec![format!("restore: {name} during wait for break rollout")]
            }
            "during failover verification" => {
                vec![format!("restore: {name} during verify failover")]
            }
            _ => vec![
                format!("{name} received: restoring first"),
                format!("{name} received: waiting for the restore rollout first"),
            ],
        };
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
    signal_in_every_phase(libc::SIGINT, "SIGINT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_every_phase_restores_exactly() {
    signal_in_every_phase(libc::SIGTERM, "SIGTERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_then_drill_restore_in_every_phase() {
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
        let run = demo
            .drill_with_signal(
                &drill_args(&["--baseline-probes", "40"]),
                marker,
                libc::SIGKILL,
            )
            .await;
        assert_eq!(run.code, None, "{phase}: killed: {}", run.show());

        let pending = demo
            .snapshot()
            .await
            .values()
            .filter(|d| {
                d.metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.contains_key(DRILL_RESTORE_ANNOTATION))
            })
            .count();
        if phase == "during the break rollout" {
            assert_eq!(pending, 2, "the restore plans stay on the deployments");
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
        if pending > 0 {
            assert!(
                restore
                    .stdout
                    .contains("restored mgmt-cluster:bookinfo/reviews-v1"),
                "{}",
                restore.show()
            );
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
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"))
        .args(["demo", "guide", "--rollout-delay", "100ms"])
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
        if let kubectl_smh::cluster::probe::ProbeResult::Http { body, .. } = &answer
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
/// how much.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_expectations_restore_and_say_by_how_much() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    demo.configure_guide().await;

    // With the guide's `consecutiveErrors: 1` and Istio's default retries (which retry a
    // refused connection on the other host), whether a probe ever sees an error depends on
    // when the sidecar's ejections land against Envoy's update merge window, i.e. on timing.
    // With 3 consecutive errors per ejection the first request to the sleeping pods always
    // fails: its three attempts go to two hosts, and neither has been ejected yet.
    let outlier = std::fs::read_to_string(guide_dir().join("1-outlier-detection.yaml"))
        .unwrap()
        .replace("consecutiveErrors: 1", "consecutiveErrors: 3");
    let path = demo._dir.path().join("outlier-3.yaml");
    std::fs::write(&path, outlier).unwrap();
    let run = demo.run(&["apply", "-f", path.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(0), "apply: {}", run.show());

    let before = demo.snapshot().await;
    let run = demo.run(&drill_args(&["--max-errors", "0"])).await;
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

    // Failover cannot be steady 300 ms after the break: the rollout alone takes longer.
    let run = demo
        .run(&drill_args(&["--failover-timeout", "300ms", "-o", "json"]))
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
        failover["message"]
            .as_str()
            .unwrap()
            .contains("within --failover-timeout 0.3s"),
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

    // Slow rollouts, so that the restore still runs at the second Ctrl-C.
    let demo = Demo::start(Duration::from_millis(1_000)).await;
    demo.configure_guide().await;
    let before = demo.snapshot().await;
    let (kubeconfig, config) = (demo.kubeconfig.clone(), demo.config.clone());
    let mgmt = demo.fleet.cluster("mgmt-cluster").unwrap().store();
    // Both broken deployments have their saved command back (none: bookinfo's image
    // default).
    let restored = |store: &kubectl_smh::sim::store::Store| {
        ["reviews-v1", "reviews-v2"].iter().all(|d| {
            store
                .get(
                    &kubectl_smh::sim::store::Gvr::new("apps", "v1", "deployments"),
                    "bookinfo",
                    d,
                )
                .is_some_and(|d| {
                    d.pointer("/spec/template/spec/containers/0/command")
                        .is_none()
                })
        })
    };
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
        // Read nothing meanwhile: the drill's output waits in the terminal. The second
        // Ctrl-C goes once the restore patches are in the cluster (read from the store),
        // while the restore still runs: its rollout takes at least the 1 s rollout delay.
        let t = Instant::now();
        while !restored(&mgmt) {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the restore was not applied within 30 s"
            );
            std::thread::sleep(Duration::from_millis(10));
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
    // The second Ctrl-C, noted once, by the phase the drill was in when it arrived: still
    // applying the restore (the patches were written but their answers not yet handled) or
    // waiting for its rollout. Either way the restore went on.
    let second = seen.matches("] SIGINT received: restoring first").count()
        + seen
            .matches("] SIGINT received: waiting for the restore rollout first")
            .count();
    assert_eq!(second, 1, "the second Ctrl-C noted {second} times:\n{seen}");
    assert!(!seen.contains("^C"), "Ctrl-C echoed:\n{seen}");
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    demo.fleet.shutdown().await;
}
