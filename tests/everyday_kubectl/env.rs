//! The sandbox the commands run in: demo clusters with bookinfo, a kubeconfig, a fresh
//! kubectl cache and HOME, and a `bin/kubectl` that is the kubectl under test, so command
//! lines run verbatim in `sh` (in the sandbox's directory, where the test writes files).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use smh_core::model::topology::MultiClusterMode;
use smh_sim::fleet::{FleetOptions, SimFleet, bookinfo_world};
use smh_sim::store::Gvr;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) struct Env {
    pub(crate) fleet: SimFleet,
    dir: TempDir,
    bin: PathBuf,
    ran: Mutex<Vec<String>>,
}

/// How long a condition may take before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(60);

impl Env {
    pub(crate) async fn start(kubectl: &Path) -> Env {
        let mut opts = FleetOptions::demo();
        for c in opts.clusters.iter_mut() {
            c.rollout_delay = Duration::from_millis(200);
        }
        opts.hooks
            .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
        let fleet = SimFleet::start(opts).await.expect("demo clusters start");
        fleet.wait_ready(PATIENCE).await.expect("demo ready");
        let dir = tempfile::tempdir().unwrap();
        fleet
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(kubectl, bin.join("kubectl")).unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        Env {
            fleet,
            dir,
            bin,
            ran: Mutex::new(Vec::new()),
        }
    }

    pub(crate) async fn shutdown(&self) {
        self.fleet.shutdown().await;
    }

    /// Every command line run so far.
    pub(crate) fn ran(&self) -> Vec<String> {
        self.ran.lock().unwrap().clone()
    }

    fn command(&self, line: &str) -> tokio::process::Command {
        self.ran.lock().unwrap().push(line.to_string());
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c")
            .arg(line)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .env("HOME", self.dir.path().join("home"))
            .env_remove("KUBE_EDITOR")
            .env_remove("EDITOR")
            .kill_on_drop(true);
        c
    }

    /// Run a command line; its exit code, stdout and stderr.
    pub(crate) async fn run(&self, line: &str) -> (i32, String, String) {
        let out: Output = tokio::time::timeout(PATIENCE, self.command(line).output())
            .await
            .unwrap_or_else(|_| panic!("`{line}` did not finish in {PATIENCE:?}"))
            .expect("sh runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// Run a line that must succeed; its stdout.
    pub(crate) async fn ok(&self, line: &str) -> String {
        let (code, stdout, stderr) = self.run(line).await;
        assert_eq!(
            code, 0,
            "`{line}` failed:\nstdout: {stdout}\nstderr: {stderr}"
        );
        stdout
    }

    /// Run a line that must exit with `want`; its stdout and stderr.
    pub(crate) async fn exits(&self, line: &str, want: i32) -> (String, String) {
        let (code, stdout, stderr) = self.run(line).await;
        assert_eq!(code, want, "`{line}`:\nstdout: {stdout}\nstderr: {stderr}");
        (stdout, stderr)
    }

    /// Start a long-running line (`kubectl logs -f`), its stdout read line by line.
    pub(crate) fn spawn(&self, line: &str) -> Follower {
        let mut child = self
            .command(&format!("exec {line}"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sh starts");
        // The record is the line as written, not the `exec` wrapper.
        let mut ran = self.ran.lock().unwrap();
        ran.pop();
        ran.push(line.to_string());
        let stdout = child.stdout.take().unwrap();
        Follower {
            child,
            lines: tokio::io::BufReader::new(stdout),
        }
    }

    pub(crate) fn write(&self, name: &str, content: &str) {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }

    pub(crate) fn remove(&self, name: &str) {
        std::fs::remove_file(self.dir.path().join(name)).unwrap();
    }

    /// An object of mgmt-cluster, read in process.
    pub(crate) fn get(&self, gvr: &Gvr, ns: &str, name: &str) -> Option<Value> {
        self.fleet
            .cluster("mgmt-cluster")
            .unwrap()
            .store()
            .get(gvr, ns, name)
    }

    /// The objects of mgmt-cluster in a namespace.
    pub(crate) fn list(&self, gvr: &Gvr, ns: &str) -> Vec<Value> {
        self.fleet
            .cluster("mgmt-cluster")
            .unwrap()
            .store()
            .list(gvr, Some(ns))
            .0
    }

    /// Wait until `cond` holds (polled), or fail naming `what`.
    pub(crate) async fn until(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !cond() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "gave up waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// GET a path from bookinfo's productpage pod in mgmt-cluster, over the pod network (what
    /// a browser on the printed URL does); returns the status line.
    pub(crate) async fn browse_productpage(&self, path: &str) -> String {
        let cluster = self.fleet.cluster("mgmt-cluster").unwrap();
        let pods = self.list(&Gvr::new("", "v1", "pods"), "bookinfo");
        let ip = pods
            .iter()
            .find(|p| p["metadata"]["labels"]["app"] == "productpage")
            .and_then(|p| p["status"]["podIP"].as_str())
            .expect("a productpage pod with an IP")
            .to_string();
        let addr = cluster
            .net()
            .resolve(&ip, 9080)
            .expect("productpage listens");
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: productpage\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).await.unwrap();
        resp.lines().next().unwrap_or_default().to_string()
    }
}

pub(crate) fn gvr(group: &str, version: &str, plural: &str) -> Gvr {
    Gvr::new(group, version, plural)
}

/// A running command whose output is read as it comes.
pub(crate) struct Follower {
    child: tokio::process::Child,
    lines: tokio::io::BufReader<tokio::process::ChildStdout>,
}

impl Follower {
    /// Wait for a line containing `needle`; every line read until then.
    pub(crate) async fn wait_for(&mut self, needle: &str) -> Vec<String> {
        use tokio::io::AsyncBufReadExt;
        let mut seen = Vec::new();
        let found = tokio::time::timeout(PATIENCE, async {
            loop {
                let mut l = String::new();
                if self.lines.read_line(&mut l).await.unwrap_or(0) == 0 {
                    return false;
                }
                let hit = l.contains(needle);
                seen.push(l.trim_end().to_string());
                if hit {
                    return true;
                }
            }
        })
        .await;
        assert_eq!(found, Ok(true), "no line with {needle:?}; read {seen:#?}");
        seen
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
