//! Interrupted drills restore exactly: SIGINT, SIGTERM and SIGHUP in every phase, SIGKILL then
//! `drill restore`, a second Ctrl-C, Ctrl-C on a terminal, closed stdout and stderr, and an
//! observer that panics.
//! The scenarios (`pub(super)`) run on both backends (tests/drill/both.rs); the tests here run
//! on the simulated clusters only, each saying why or being a variant that both.rs covers.

use super::*;

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
///
/// On real control planes, the management cluster's node is cordoned instead of holding
/// chosen pods ([`Hold::Cordon`]): before the drill for the break rollout, and once the break
/// rolled out for the restore.
pub(super) async fn signal_in_every_phase(demo: &Demo, signal: i32, name: &str, extra: &[&str]) {
    let scale = extra.contains(&"scale");
    let real = demo.clusters.backend() == Backend::Real;
    demo.configure_guide().await;
    let hold = demo.world.pod_starts("mgmt-cluster");
    let held = || hold.as_ref().expect("the management cluster's kubelet");
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
                if real {
                    demo.cordon(true).await;
                } else {
                    held().hold(labels(&[("app", "reviews")]));
                }
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
                if !real {
                    for hash in demo.reviews_template_hashes().await {
                        held().hold(labels(&[("app", "reviews"), ("pod-template-hash", &hash)]));
                    }
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
                needs_a_hold(phase, scale).then(|| Release {
                    hold: if real {
                        Hold::Cordon(demo)
                    } else {
                        Hold::Sim(held())
                    },
                    start_at: (real && phase == "during the restore")
                        .then_some("verify failover: break rollout complete"),
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
}

/// Whether [`signal_in_every_phase`] keeps pods from starting to stay in `phase`.
fn needs_a_hold(phase: &str, scale: bool) -> bool {
    phase == "during the restore" || (phase == "during the break rollout" && !scale)
}

// On real control planes tests/drill/both.rs sends SIGINT during the command break and
// SIGTERM during the scale break; the other two combinations run on the simulated clusters
// only, to keep the real-backend test short (each takes about 10 s there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_in_every_phase_restores_exactly() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    signal_in_every_phase(&demo, libc::SIGINT, "SIGINT", &[]).await;
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_every_phase_restores_exactly() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    signal_in_every_phase(&demo, libc::SIGTERM, "SIGTERM", &[]).await;
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_in_every_phase_restores_the_replica_counts_of_the_scale_break() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    signal_in_every_phase(&demo, libc::SIGINT, "SIGINT", &["--break-mode", "scale"]).await;
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_every_phase_restores_the_replica_counts_of_the_scale_break() {
    let demo = Demo::start(Duration::from_millis(300)).await;
    signal_in_every_phase(&demo, libc::SIGTERM, "SIGTERM", &["--break-mode", "scale"]).await;
    demo.shutdown().await;
}

/// SIGKILL in each of [`PHASES`], then `drill restore`: exactly the deployments whose restore
/// plan is still on them are restored, and a drill refuses to start while one is pending.
pub(super) async fn sigkill_then_restore_in_every_phase(demo: &Demo, extra: &[&str]) {
    let scale = extra.contains(&"scale");
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
}

/// A second Ctrl-C while the drill restores does not stop the restore.
pub(super) async fn a_second_ctrl_c_does_not_stop_the_restore(demo: &Demo) {
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
}

/// Ctrl-C twice on a terminal while the progress area is drawn, the second while the output
/// of the first has not been read yet: every event line still arrives exactly once (the
/// terminal driver discards unread output on Ctrl-C unless `noflsh`), and no `^C` echo lands
/// in the progress area (it would shift the cursor under indicatif's redraws).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_on_a_terminal_loses_no_progress_line() {
    // Slow rollouts: the restore rollout takes at least 1 s after the restore patches, so
    // the drill is still restoring when the second Ctrl-C follows them.
    let demo = Demo::start(Duration::from_millis(1_000)).await;
    ctrl_c_twice_on_a_terminal(&demo).await;
    demo.shutdown().await;
}

/// [`ctrl_c_on_a_terminal_loses_no_progress_line`] on `demo`. On real control planes, the
/// management cluster's node is cordoned from the first Ctrl-C until the second has been
/// sent, so that the restore rollout is still running when it comes.
pub(super) async fn ctrl_c_twice_on_a_terminal(demo: &Demo) {
    use expectrl::{ControlCode, Eof, Expect};

    let real = demo.clusters.backend() == Backend::Real;
    demo.configure_guide().await;
    let before = demo.snapshot().await;
    let (kubeconfig, config) = (demo.kubeconfig.clone(), demo.config.clone());
    let mgmt = demo.client("mgmt-cluster");
    let runtime = tokio::runtime::Handle::current();
    let (seen, status) = tokio::task::spawn_blocking(move || {
        let deployments = Api::<Deployment>::namespaced(mgmt.clone(), "bookinfo");
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"));
        // Failover never steady (a window of 100000 answers), so that the drill is still
        // verifying failover when the first Ctrl-C comes (on real control planes on a busy
        // machine, failover was steady and the drill restoring by itself before it came).
        cmd.args(drill_args(&["--steady-window", "100000"]))
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
        if real {
            runtime.block_on(cordon(&mgmt, true));
        }
        p.send(ControlCode::EndOfText).expect("Ctrl-C");
        // Read nothing meanwhile, so that the drill's output waits in the terminal, and
        // press Ctrl-C again once the restore patches reached the API server (the restore
        // annotations are gone): the event lines of the first Ctrl-C are then written and
        // unread, and the restore rollout runs.
        let restored = || {
            ["reviews-v1", "reviews-v2"].iter().all(|name| {
                let d = runtime.block_on(deployments.get(name)).expect("deployment");
                d.metadata
                    .annotations
                    .is_none_or(|a| !a.contains_key(DRILL_RESTORE_ANNOTATION))
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
        if real {
            runtime.block_on(cordon(&mgmt, false));
        }
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
}

/// `kubectl smh drill ... -o json 2>&1 | head -3`: the reader of stdout is gone from the
/// start and the reader of stderr goes away once the break is applied, so every later
/// write fails (EPIPE). The drill goes on, restores exactly and exits with its own code.
pub(super) async fn closed_stdout_and_stderr_do_not_skip_the_restore(demo: &Demo) {
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
}

/// A closed terminal (SIGHUP, e.g. an ssh connection that drops) restores like SIGTERM.
pub(super) async fn sighup_restores_before_exiting(demo: &Demo) {
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
}

/// An observer that panics once the deployments are broken, as `eprintln!` does on a closed
/// stderr: the panic does not unwind through the drill, which restores and reports.
/// Simulated clusters only: the observer runs in process and does not depend on the backend.
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
        retry_stats: Default::default(),
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
    demo.shutdown().await;
}
