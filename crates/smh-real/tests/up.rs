//! `smh-real-clusters up` (what `scripts/real-clusters up` runs) as a user runs it: the
//! kubeconfig appears once the clusters are ready, SIGTERM stops every process it started, a
//! crashed component stops the rest and names itself, and missing peers name the build
//! script. Without the peers these tests print a SKIP line (a failure with
//! `SMH_REQUIRE_PEERS=1`).
#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn peers_present() -> bool {
    match smh_real::peers::Peers::locate() {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var("SMH_REQUIRE_PEERS").as_deref() != Ok("1"),
                "SMH_REQUIRE_PEERS=1 but {e}"
            );
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "SKIP: {e}");
            false
        }
    }
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// Kills the child if the test fails before it exits.
struct Up {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Up {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
            let _ = self.child.wait();
        }
    }
}

fn start() -> Up {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_smh-real-clusters"))
        .args(["up", "--kubeconfig-out"])
        .arg(dir.path().join("kubeconfig"))
        .arg("--dir")
        .arg(dir.path().join("work"))
        .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
        .spawn()
        .unwrap();
    Up { child, dir }
}

fn read(dir: &Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f)).unwrap_or_default()
}

/// The last lines of every component's log under `dir` (the directory goes with the test,
/// so a failure shows them here).
fn log_tails(dir: &Path) -> String {
    let mut out = String::new();
    let mut logs: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        out.push_str(&format!("--- {} (last lines)\n{tail}\n", log.display()));
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Wait for the kubeconfig, then the summary's last line; returns the pids it printed.
fn wait_ready(up: &mut Up) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let out = read(up.dir.path(), "stdout");
        if up.dir.path().join("kubeconfig").exists() && out.contains("Serving until Ctrl-C") {
            let pids: Vec<u32> = out
                .lines()
                .filter_map(|l| {
                    l.split_once(" pid ")
                        .and_then(|(_, p)| p.trim().parse().ok())
                })
                .collect();
            // etcd, kube-apiserver, kube-controller-manager, kube-scheduler in each cluster.
            assert_eq!(pids.len(), 8, "{out}");
            assert!(out.contains("pod bookinfo/productpage-v1-"), "{out}");
            assert!(out.contains("pod bookinfo/reviews-v3-"), "{out}");
            return pids;
        }
        if let Ok(Some(status)) = up.child.try_wait() {
            panic!(
                "exited early ({status}): {}\n{out}\n{}",
                read(up.dir.path(), "stderr"),
                log_tails(up.dir.path())
            );
        }
        assert!(
            Instant::now() < deadline,
            "not ready: {out}{}",
            read(up.dir.path(), "stderr")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_exit(up: &mut Up) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(s) = up.child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_stops_every_process_and_removes_the_kubeconfig() {
    if !peers_present() {
        return;
    }
    let mut up = start();
    let pids = wait_ready(&mut up);
    let kubeconfig = read(up.dir.path(), "kubeconfig");
    assert!(kubeconfig.contains("name: mgmt-cluster"), "{kubeconfig}");
    assert!(
        kubeconfig.contains("current-context: mgmt-cluster"),
        "{kubeconfig}"
    );
    assert!(pids.iter().all(|p| alive(*p)));
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(up.child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = wait_exit(&mut up);
    assert!(
        status.success(),
        "{status}: {}",
        read(up.dir.path(), "stderr")
    );
    let left: Vec<&u32> = pids.iter().filter(|p| alive(**p)).collect();
    assert!(left.is_empty(), "still running: {left:?}");
    assert!(!up.dir.path().join("kubeconfig").exists());
    assert!(
        read(up.dir.path(), "stderr").contains("Stopped every component; logs in "),
        "{}",
        read(up.dir.path(), "stderr")
    );
}

#[test]
fn a_crashed_component_stops_the_rest_and_is_named() {
    if !peers_present() {
        return;
    }
    let mut up = start();
    let pids = wait_ready(&mut up);
    let out = read(up.dir.path(), "stdout");
    // remote-cluster's etcd: the fifth pid line (remote-cluster's block, first component).
    let etcd = out
        .split("remote-cluster:")
        .nth(1)
        .and_then(|b| b.lines().find(|l| l.trim_start().starts_with("etcd ")))
        .and_then(|l| {
            l.split_once(" pid ")
                .and_then(|(_, p)| p.trim().parse::<u32>().ok())
        })
        .expect("remote-cluster's etcd pid");
    // SAFETY: kill(2) on a grandchild's pid that the summary printed.
    unsafe {
        libc::kill(etcd as libc::pid_t, libc::SIGKILL);
    }
    let status = wait_exit(&mut up);
    assert_eq!(status.code(), Some(1), "{}", read(up.dir.path(), "stderr"));
    let err = read(up.dir.path(), "stderr");
    assert!(err.contains("remote-cluster/etcd exited"), "{err}");
    let left: Vec<&u32> = pids.iter().filter(|p| alive(**p)).collect();
    assert!(left.is_empty(), "still running: {left:?}");
}

#[test]
fn missing_peers_name_the_build_script() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_smh-real-clusters"))
        .args(["up", "--kubeconfig-out"])
        .arg(dir.path().join("kubeconfig"))
        .arg("--dir")
        .arg(dir.path().join("work"))
        .env("SMH_PEERS_CACHE", dir.path().join("no-peers"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("scripts/peers/build kubernetes etcd"), "{err}");
    assert!(!dir.path().join("kubeconfig").exists());
}
