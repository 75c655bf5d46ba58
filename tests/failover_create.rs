//! `kubectl smh failover create` as a user runs it: the binary, with `KUBECONFIG` pointing
//! at the simulated demo clusters (in process) or at nothing.
//!
//! - without a terminal: the missing flags are named, nothing is read or changed;
//! - `--dry-run -o yaml` with the guide's parameters prints the guide's manifests;
//! - `--dry-run` without `-o` adds the per-cluster plan as YAML comments;
//! - the wizard, driven through a pseudo-terminal (expectrl): arrow keys, typing, space,
//!   enter; and Ctrl-C at a prompt ends with 130 and changes nothing.

mod apply_support;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use apply_support::*;
use serde_json::Value;

use smh_core::model::topology::MultiClusterMode;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-smh");

/// The binary with a clean environment: the given kubeconfig, a private registry, no
/// colour.
fn command(kubeconfig: &Path, dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("KUBECONFIG", kubeconfig)
        .env("KUBECTL_SMH_CONFIG", dir.join("clusters.yaml"))
        .env("NO_COLOR", "1")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY");
    c
}

/// Runs a command off the async threads (the simulated clusters run on them).
async fn run(mut c: Command) -> Output {
    c.stdin(std::process::Stdio::null());
    tokio::task::spawn_blocking(move || c.output().expect("kubectl-smh runs"))
        .await
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const GUIDE_FLAGS: &[&str] = &[
    "failover",
    "create",
    "reviews-failover",
    "--backing",
    "reviews.bookinfo@mgmt-cluster",
    "--backing",
    "reviews.bookinfo@remote-cluster",
    "--consecutive-errors",
    "1",
    "--shift-from",
    "reviews.bookinfo@mgmt-cluster",
];

/// The guide's three manifests, as JSON values.
fn guide_values() -> Vec<Value> {
    (1..=3)
        .map(|n| {
            let text = std::fs::read_to_string(guide_file(n)).unwrap();
            serde_saphyr::from_str::<Value>(&text).unwrap()
        })
        .collect()
}

/// The object without its `failover.kubectl-smh.io/created-for` annotation (the guide's
/// manifests have none), checking its value on the way.
fn without_created_for(mut v: Value) -> Value {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
        && let Some(a) = meta.get("annotations").and_then(Value::as_object)
    {
        assert_eq!(
            a.len(),
            1,
            "only the created-for annotation is expected: {a:?}"
        );
        assert_eq!(
            a.get("failover.kubectl-smh.io/created-for"),
            Some(&Value::String("service-mesh-hub/reviews-failover".into()))
        );
        meta.remove("annotations");
    }
    v
}

// ---------------------------------------------------------------------------------------
// Without a terminal
// ---------------------------------------------------------------------------------------

#[test]
fn without_a_terminal_the_missing_flags_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-kubeconfig");
    let cases: &[(&[&str], &str)] = &[
        (
            &["failover", "create"],
            "error: failover create needs --backing (at least two, in priority order) and --yes (or --dry-run to only print what would be created) when not run on a terminal; or run it in a terminal for the wizard\n",
        ),
        (
            &["failover", "create", "--dry-run"],
            "error: failover create needs --backing (at least two, in priority order) when not run on a terminal; or run it in a terminal for the wizard\n",
        ),
        (
            &[
                "failover",
                "create",
                "--yes",
                "--backing",
                "reviews.bookinfo@mgmt-cluster",
            ],
            "error: failover create needs a second --backing (at least two, in priority order) when not run on a terminal; or run it in a terminal for the wizard\n",
        ),
        (
            &[
                "failover",
                "create",
                "--backing",
                "reviews.bookinfo@mgmt-cluster",
                "--backing",
                "reviews.bookinfo@remote-cluster",
            ],
            "error: failover create needs --yes (or --dry-run to only print what would be created) when not run on a terminal; or run it in a terminal to confirm\n",
        ),
    ];
    for (args, want) in cases {
        let out = command(&nowhere, dir.path())
            .args(*args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), *want, "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-kubeconfig");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--backing", "reviews"],
            "invalid value 'reviews' for '--backing <SVC.NS@CLUSTER>': \"reviews\": no '@CLUSTER'; expected SERVICE.NAMESPACE@CLUSTER, e.g. reviews.bookinfo@mgmt-cluster",
        ),
        (
            &["--shift-from", "reviews.bookinfo.svc@mgmt"],
            "more than one '.' before '@'",
        ),
        (&["--port", "0"], "invalid value '0' for '--port <PORT>'"),
        (
            &["--max-ejection-percent", "101"],
            "invalid value '101' for '--max-ejection-percent <PERCENT>'",
        ),
        (&["--interval", "0s"], "must be more than 0"),
        (&["--interval", "10"], "missing unit"),
        (&["--protocol", "carrier-pigeon"], "unknown protocol"),
        (&["--mesh", "a.b.c"], "more than one '.'"),
        (&["Bad_Name"], "invalid value 'Bad_Name' for '[NAME]'"),
    ];
    for (extra, want) in cases {
        let out = command(&nowhere, dir.path())
            .args(["failover", "create"])
            .args(*extra)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(
            text(&out.stderr).contains(want),
            "{extra:?}: {}",
            text(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------------
// --dry-run on the demo clusters
// ---------------------------------------------------------------------------------------

struct Demo {
    fleet: smh_sim::fleet::SimFleet,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn demo() -> Demo {
    let fleet = demo_fleet(MultiClusterMode::Global).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig(&fleet, dir.path());
    Demo {
        fleet,
        dir,
        kubeconfig,
    }
}

impl Demo {
    fn command(&self) -> Command {
        command(&self.kubeconfig, self.dir.path())
    }

    fn mgmt(&self) -> kube::Client {
        self.fleet
            .cluster("mgmt-cluster")
            .unwrap()
            .client()
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_with_the_guides_parameters_prints_the_guides_manifests() {
    let demo = demo().await;
    let before = smh_versions(&demo.mgmt()).await;

    let mut c = demo.command();
    c.args(GUIDE_FLAGS).args([
        "--outlier-policy-name",
        "mgmt-reviews-outlier",
        "--shift-policy-name",
        "reviews-shift-failover",
        "--dry-run",
        "-o",
        "yaml",
    ]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text(&out.stdout)).unwrap();
    let docs: Vec<Value> = docs.into_iter().map(without_created_for).collect();
    assert_eq!(docs, guide_values(), "{}", text(&out.stdout));

    // -o json: the same objects in a v1 List.
    let mut c = demo.command();
    c.args(GUIDE_FLAGS).args(["--dry-run", "-o", "json"]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    let names: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap(),
                i["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("TrafficPolicy", "reviews-failover-outlier"),
            ("FailoverService", "reviews-failover"),
            ("TrafficPolicy", "reviews-failover-shift"),
        ]
    );
    assert_eq!(
        list["items"][0]["metadata"]["annotations"]["failover.kubectl-smh.io/created-for"],
        "service-mesh-hub/reviews-failover"
    );

    // Nothing was stored.
    assert_eq!(smh_versions(&demo.mgmt()).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_without_output_adds_the_plan_as_comments() {
    let demo = demo().await;
    let mut c = demo.command();
    c.args(GUIDE_FLAGS).arg("--dry-run");
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // Still YAML: the plan is comments.
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&stdout).unwrap();
    assert_eq!(docs.len(), 3);
    let plan: Vec<&str> = stdout.lines().filter(|l| l.starts_with('#')).collect();
    let actions: Vec<String> = plan
        .iter()
        .filter(|l| l.contains("  create  "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        actions,
        [
            "# create DestinationRule bookinfo/reviews",
            "# create DestinationRule istio-system/reviews-bookinfo-remote-cluster",
            "# create EnvoyFilter istio-system/reviews-failover",
            "# create ServiceEntry service-mesh-hub/reviews-failover",
            "# create VirtualService bookinfo/reviews",
            "# create DestinationRule bookinfo/reviews",
        ],
        "{stdout}"
    );
    assert!(
        plan.iter()
            .any(|l| l.contains("mgmt-cluster (management; context mgmt-cluster)")),
        "{stdout}"
    );
    assert!(
        plan.iter()
            .any(|l| l.contains("remote-cluster (context remote-cluster)")),
        "{stdout}"
    );
    assert!(
        plan.iter().any(|l| l.contains("why: FailoverService service-mesh-hub/reviews-failover: Envoy cluster outbound|9080||reviews-failover.bookinfo.global is an aggregate")),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_services_are_refused_with_suggestions() {
    let demo = demo().await;
    let mut c = demo.command();
    c.args([
        "failover",
        "create",
        "--backing",
        "reviews.bookinfo@mgmt-cluster",
        "--backing",
        "reviewz.bookinfo@remote-cluster",
        "--dry-run",
    ]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: cannot create the FailoverService; nothing was changed:\n  --backing reviewz.bookinfo@remote-cluster: no such Service in cluster remote-cluster (did you mean ratings.bookinfo@remote-cluster, reviews.bookinfo@remote-cluster?)\n"
    );
    assert!(out.stdout.is_empty());
}

// ---------------------------------------------------------------------------------------
// The wizard, through a pseudo-terminal
// ---------------------------------------------------------------------------------------

mod pty {
    use std::time::Duration;

    use expectrl::{ControlCode, Eof, Expect, Session};

    pub(crate) type Pty = expectrl::session::OsSession;

    pub(crate) const DOWN: &str = "\x1b[B";
    pub(crate) const UP: &str = "\x1b[A";

    /// Spawns the command on a pseudo-terminal of 120x40 (stdin, stdout and stderr).
    pub(crate) fn spawn(c: std::process::Command) -> Pty {
        let mut p = Session::spawn(c).expect("spawned on a pty");
        p.get_process_mut()
            .set_window_size(120, 40)
            .expect("window size");
        // Generous: the first run may compete with other builds for the CPU.
        p.set_expect_timeout(Some(Duration::from_secs(60)));
        p
    }

    /// Waits for `text`, panicking with what was seen when it does not come.
    pub(crate) fn expect(p: &mut Pty, text: &str) {
        if let Err(e) = p.expect(text) {
            panic!("waiting for {text:?}: {e}");
        }
    }

    pub(crate) fn send(p: &mut Pty, keys: &str) {
        p.send(keys).expect("keys sent");
    }

    pub(crate) fn ctrl_c(p: &mut Pty) {
        p.send(ControlCode::EndOfText).expect("Ctrl-C sent");
    }

    /// Reads everything up to the end, then the exit code.
    pub(crate) fn finish(p: &mut Pty) -> (String, Option<i32>) {
        let seen = match p.expect(Eof) {
            Ok(c) => String::from_utf8_lossy(c.as_bytes()).into_owned(),
            Err(e) => panic!("waiting for the end: {e}"),
        };
        let status = p.get_process().wait().expect("exit status");
        // nix's WaitStatus, e.g. `Exited(Pid(123), 130)`.
        let shown = format!("{status:?}");
        let code = shown
            .strip_prefix("Exited(")
            .and_then(|s| s.rsplit(", ").next())
            .and_then(|s| s.trim_end_matches(')').parse().ok());
        (seen, code)
    }
}

/// Answers the wizard's first question, which kubeconfig contexts to read: the demo's
/// `mgmt-cluster` (the management context, checked already) and `remote-cluster`, `skip`
/// contexts further down the sorted list.
fn choose_the_demo_contexts(p: &mut pty::Pty, skip: usize) {
    use pty::*;
    expect(p, "Read which contexts?");
    for _ in 0..=skip {
        send(p, DOWN);
    }
    send(p, " ");
    send(p, "\r");
}

/// Answers the wizard as the guide would, with outlier detection `consecutiveErrors: 1`.
fn answer_like_the_guide(p: &mut pty::Pty) {
    use pty::*;
    choose_the_demo_contexts(p, 0);
    expect(p, "Primary backing service");
    send(p, "reviews.bookinfo@mgmt");
    expect(p, "reviews.bookinfo@mgmt");
    send(p, "\r");
    expect(p, "Backing service 2");
    send(p, "reviews.bookinfo@remote");
    send(p, "\r");
    expect(p, "Backing service 3 (or done)");
    // Down to the first service and back up to "done".
    send(p, DOWN);
    send(p, UP);
    send(p, "\r");
    expect(
        p,
        "Priority order: 1. reviews.bookinfo@mgmt-cluster  2. reviews.bookinfo@remote-cluster",
    );
    expect(p, "Name (namespace service-mesh-hub)");
    send(p, "\r");
    expect(p, "Hostname");
    send(p, "\r");
    expect(p, "Port");
    send(p, "\r");
    expect(p, "Protocol");
    send(p, "\r");
    expect(p, "Use these outlier detection values?");
    send(p, "n");
    expect(p, "Consecutive errors before ejecting a host");
    send(p, "1\r");
    expect(p, "Interval");
    send(p, "\r");
    expect(p, "Base ejection time");
    send(p, "\r");
    expect(p, "Max ejection percent");
    send(p, "\r");
    expect(p, "Shift whose traffic to it?");
    // Check the second service and uncheck it again: the primary stays the only one.
    send(p, DOWN);
    send(p, " ");
    send(p, " ");
    send(p, "\r");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_creates_what_was_chosen() {
    let demo = demo().await;
    let mut c = demo.command();
    c.args(["failover", "create"]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        answer_like_the_guide(&mut p);
        // The targets, the preview (manifests and per-cluster plan), then the question.
        pty::expect(&mut p, "These contexts and API servers will be changed:");
        pty::expect(&mut p, "Istio objects, per cluster:");
        pty::expect(&mut p, "EnvoyFilter");
        pty::expect(&mut p, "istio-system/reviews-failover");
        pty::expect(
            &mut p,
            "Create these 3 objects and apply them to 2 clusters?",
        );
        pty::send(&mut p, "y");
        pty::finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{seen}");
    assert!(seen.contains("ACCEPTED"), "{seen}");

    // What was stored is what the guide writes (names aside), with the annotation.
    let mgmt = demo.mgmt();
    let mut want = guide_values();
    want[0]["metadata"]["name"] = "reviews-failover-outlier".into();
    want[2]["metadata"]["name"] = "reviews-failover-shift".into();
    for w in &want {
        let kind = w["kind"].as_str().unwrap();
        let ns = w["metadata"]["namespace"].as_str().unwrap();
        let name = w["metadata"]["name"].as_str().unwrap();
        let stored = get(&mgmt, &smh_ar(kind), ns, name)
            .await
            .unwrap_or_else(|| panic!("{kind} {ns}/{name} was not created: {seen}"));
        assert_eq!(stored.data["spec"], w["spec"], "{kind} {ns}/{name}");
        let annotations = stored.metadata.annotations.clone().unwrap_or_default();
        if kind == "TrafficPolicy" {
            assert_eq!(
                annotations
                    .get("failover.kubectl-smh.io/created-for")
                    .map(String::as_str),
                Some("service-mesh-hub/reviews-failover")
            );
        }
        assert_eq!(
            stored.data["status"]["state"], "ACCEPTED",
            "{kind} {ns}/{name}: {:?}",
            stored.data["status"]
        );
    }
}

/// Answering no to the final question: exit 1, as `failover delete` and `drill` do, and
/// nothing stored or applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_the_wizard_exits_1_and_changes_nothing() {
    let demo = demo().await;
    let before = smh_versions(&demo.mgmt()).await;
    let mgmt_istio = istio_versions(&demo.mgmt()).await;
    let mut c = demo.command();
    c.args(["failover", "create"]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        answer_like_the_guide(&mut p);
        pty::expect(
            &mut p,
            "Create these 3 objects and apply them to 2 clusters?",
        );
        pty::send(&mut p, "n");
        pty::finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{seen}");
    assert!(
        seen.contains("not confirmed; nothing was changed"),
        "{seen}"
    );
    assert_eq!(smh_versions(&demo.mgmt()).await, before);
    assert_eq!(istio_versions(&demo.mgmt()).await, mgmt_istio);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_in_the_wizard_exits_130_and_changes_nothing() {
    let demo = demo().await;
    let before = smh_versions(&demo.mgmt()).await;
    let mgmt_istio = istio_versions(&demo.mgmt()).await;
    for at in [
        "Primary backing service",
        "Name (namespace",
        "Shift whose traffic",
    ] {
        let mut c = demo.command();
        c.args(["failover", "create"]);
        let (seen, code) = tokio::task::spawn_blocking(move || {
            use pty::*;
            let mut p = spawn(c);
            choose_the_demo_contexts(&mut p, 0);
            expect(&mut p, "Primary backing service");
            if at != "Primary backing service" {
                send(&mut p, "reviews.bookinfo@mgmt\r");
                expect(&mut p, "Backing service 2");
                send(&mut p, "reviews.bookinfo@remote\r");
                expect(&mut p, "Backing service 3");
                send(&mut p, "\r");
                expect(&mut p, "Name (namespace");
                if at == "Shift whose traffic" {
                    for prompt in ["Hostname", "Port", "Protocol"] {
                        send(&mut p, "\r");
                        expect(&mut p, prompt);
                    }
                    send(&mut p, "\r");
                    expect(&mut p, "Use these outlier detection values?");
                    send(&mut p, "y");
                    expect(&mut p, at);
                }
            }
            ctrl_c(&mut p);
            finish(&mut p)
        })
        .await
        .unwrap();
        assert_eq!(code, Some(130), "Ctrl-C at {at:?}: {seen}");
        assert!(
            seen.contains("nothing was changed"),
            "Ctrl-C at {at:?}: {seen}"
        );
    }
    assert_eq!(smh_versions(&demo.mgmt()).await, before);
    assert_eq!(istio_versions(&demo.mgmt()).await, mgmt_istio);
}

// ---------------------------------------------------------------------------------------
// Creating, end to end
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_flags_applies_and_productpage_answers_from_the_primary() {
    use smh_cluster::probe::{Prober, pick_pod};
    use smh_core::drill::Class;
    use smh_core::drill::classify::Classifier;

    let demo = demo().await;
    let mut c = demo.command();
    c.args(GUIDE_FLAGS).arg("--yes");
    let out = run(c).await;
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{stdout}");
    // The targets first, then what was done and the statuses.
    assert!(
        stderr.starts_with("These contexts and API servers will be changed:\n  mgmt-cluster    (management)  context mgmt-cluster"),
        "{stderr}"
    );
    for line in [
        "failoverservice.networking.smh.solo.io/reviews-failover -n service-mesh-hub created",
        "trafficpolicy.networking.smh.solo.io/reviews-failover-outlier -n service-mesh-hub created",
        "trafficpolicy.networking.smh.solo.io/reviews-failover-shift -n bookinfo created",
        "envoyfilter.networking.istio.io/reviews-failover -n istio-system created",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }

    // The statuses the guide shows.
    let mgmt = demo.mgmt();
    let fs = get(
        &mgmt,
        &smh_ar("FailoverService"),
        "service-mesh-hub",
        "reviews-failover",
    )
    .await
    .unwrap();
    assert_eq!(
        fs.data["status"],
        serde_json::json!({
            "meshes": {"istiod-istio-system-mgmt-cluster.service-mesh-hub.": {"state": "ACCEPTED"}},
            "observedGeneration": "1",
            "state": "ACCEPTED"
        })
    );
    let od = get(
        &mgmt,
        &smh_ar("TrafficPolicy"),
        "service-mesh-hub",
        "reviews-failover-outlier",
    )
    .await
    .unwrap();
    assert_eq!(od.data["status"]["state"], "ACCEPTED");
    assert_eq!(
        od.data["status"]["trafficTargets"]["reviews-bookinfo-remote-cluster.service-mesh-hub."]["state"],
        "ACCEPTED"
    );

    // productpage answers, from the primary (reviews v1/v2 in mgmt-cluster), through the
    // FailoverService's aggregate cluster.
    // The demo fleet is ready, so productpage-v1 has a ready pod.
    let pod = pick_pod(&mgmt, "bookinfo", "productpage-v1")
        .await
        .expect("a ready productpage pod");
    let prober = Prober::new(mgmt.clone(), "bookinfo", &pod, 9080, Duration::from_secs(5));
    let classifier = Classifier::bookinfo();
    let mut classes = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while classes.len() < 5 {
            let (result, _) = prober.get("/productpage").await;
            if result.status() == Some(200) {
                classes.push(classifier.classify(result.as_answer()).class);
            } else {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    })
    .await
    .expect("productpage answers");
    assert!(classes.iter().all(|c| *c == Class::Primary), "{classes:?}");

    // A second FailoverService for the same services reuses their outlier detection.
    let mut c = demo.command();
    c.args([
        "failover",
        "create",
        "reviews-again",
        "--backing",
        "reviews.bookinfo@remote-cluster",
        "--backing",
        "reviews.bookinfo@mgmt-cluster",
        "--dry-run",
        "-o",
        "json",
    ]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["FailoverService"]);
    assert!(
        text(&out.stderr).contains("note: reviews.bookinfo@remote-cluster keeps the outlier detection of TrafficPolicy service-mesh-hub/reviews-failover-outlier (consecutiveErrors 1, interval 10s, baseEjectionTime 30s, maxEjectionPercent 100)"),
        "{}",
        text(&out.stderr)
    );

    // And creating the first one again is refused, changing nothing.
    let before = smh_versions(&mgmt).await;
    let mut c = demo.command();
    c.args(GUIDE_FLAGS).arg("--yes");
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("FailoverService service-mesh-hub/reviews-failover already exists"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(smh_versions(&mgmt).await, before);

    // `failover delete --with-policies` finds the policies by their annotation.
    let mut c = demo.command();
    c.args([
        "failover",
        "delete",
        "reviews-failover",
        "--with-policies",
        "--yes",
    ]);
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(smh_versions(&mgmt).await, Vec::new());
}

// ---------------------------------------------------------------------------------------
// Only the contexts the user chose are contacted
// ---------------------------------------------------------------------------------------

/// A TCP server that counts the connections made to it and answers none: the API server of
/// a context nobody chose (on a laptop: production).
struct Poison {
    addr: std::net::SocketAddr,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Poison {
    fn start() -> Poison {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // Hold it open without answering.
                std::mem::forget(stream);
            }
        });
        Poison { addr, connections }
    }

    fn seen(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A kubeconfig file with one context, `production`, served by this server.
    fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("production.yaml");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: production\n  cluster: {{server: 'http://{}'}}\ncontexts:\n- name: production\n  context: {{cluster: production, user: production}}\nusers:\n- name: production\n  user: {{token: secret}}\n",
                self.addr
            ),
        )
        .unwrap();
        path
    }
}

impl Demo {
    /// The binary with `KUBECONFIG` joining the demo's kubeconfig (current context
    /// mgmt-cluster) and `extra`.
    fn command_with(&self, extra: &Path) -> Command {
        let mut c = self.command();
        let joined = std::env::join_paths([self.kubeconfig.as_path(), extra]).unwrap();
        c.env("KUBECONFIG", joined);
        c
    }
}

/// With nothing registered, the wizard asks which contexts to read, the management context
/// checked; a context left unchecked is never contacted, not even to list it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_reads_only_the_contexts_chosen() {
    let demo = demo().await;
    let poison = Poison::start();
    let extra = poison.kubeconfig(demo.dir.path());
    let mut c = demo.command_with(&extra);
    c.args(["failover", "create"]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        // The choices, sorted: mgmt-cluster (checked), production, remote-cluster.
        pty::expect(&mut p, "Read which contexts?");
        pty::expect(&mut p, "production");
        // remote-cluster is one further down than without production.
        use pty::*;
        send(&mut p, DOWN);
        send(&mut p, DOWN);
        send(&mut p, " ");
        send(&mut p, "\r");
        expect(&mut p, "Primary backing service");
        // Only the chosen clusters' services are offered.
        send(&mut p, "reviews.bookinfo@remote");
        expect(&mut p, "reviews.bookinfo@remote-cluster");
        send(&mut p, "\r");
        expect(&mut p, "Backing service 2");
        send(&mut p, "reviews.bookinfo@mgmt");
        send(&mut p, "\r");
        expect(&mut p, "Backing service 3 (or done)");
        ctrl_c(&mut p);
        finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(130), "{seen}");
    assert_eq!(
        poison.seen(),
        0,
        "the unchosen context was contacted:\n{seen}"
    );
}

/// With --yes the wizard does not ask which contexts to read: without --cluster or a
/// registry it stops at once (exit 2, naming --cluster), having contacted nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_with_yes_needs_cluster_flags() {
    let demo = demo().await;
    let poison = Poison::start();
    let extra = poison.kubeconfig(demo.dir.path());
    let mut c = demo.command_with(&extra);
    c.args(["failover", "create", "--yes"]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        pty::finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(2), "{seen}");
    assert!(
        seen.contains("failover create --yes does not ask which kubeconfig contexts to read")
            && seen.contains("--cluster NAME=CTX"),
        "{seen}"
    );
    assert_eq!(poison.seen(), 0);

    // With the clusters mapped by flag, the wizard starts, reading only those.
    let mut c = demo.command_with(&extra);
    c.args([
        "failover",
        "create",
        "--yes",
        "--cluster",
        "mgmt-cluster=mgmt-cluster",
        "--cluster",
        "remote-cluster=remote-cluster",
    ]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        pty::expect(&mut p, "Primary backing service");
        pty::ctrl_c(&mut p);
        pty::finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(130), "{seen}");
    assert!(!seen.contains("Read which contexts?"), "{seen}");
    assert_eq!(poison.seen(), 0);
}

/// Without a terminal, only the clusters the flags name are read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_read_only_the_clusters_they_name() {
    let demo = demo().await;
    let poison = Poison::start();
    let extra = poison.kubeconfig(demo.dir.path());
    let mut c = demo.command_with(&extra);
    c.args(GUIDE_FLAGS).arg("--dry-run");
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(poison.seen(), 0, "{}", text(&out.stderr));
}
