//! `kubectl smh demo up` as a user starts it, and kubectl pointed at it through a `bin` dir
//! (`kubectl` is the one under test, `kubectl-smh` this build, so `kubectl smh` works as the
//! plugin it is).

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use super::Kubectl;

pub(crate) struct DemoUp {
    child: Child,
    dir: TempDir,
    bin: PathBuf,
    /// The productpage URL `demo up` prints.
    pub(crate) productpage_url: String,
    /// Its stdout after the banner (kept open so that writes do not fail).
    _rest: Lines<BufReader<ChildStdout>>,
}

impl DemoUp {
    pub(crate) async fn start(k: &Kubectl) -> DemoUp {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(&k.path, bin.join("kubectl")).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kubectl-smh"), bin.join("kubectl-smh"))
            .unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-smh"))
            .args(["demo", "up", "--rollout-delay", "200ms", "--kubeconfig-out"])
            .arg(dir.path().join("kubeconfig"))
            .env("KUBECONFIG", dir.path().join("no-kubeconfig"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("kubectl-smh demo up runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut url = None;
        let banner = tokio::time::timeout(Duration::from_secs(60), async {
            let mut all = String::new();
            while let Ok(Some(l)) = lines.next_line().await {
                all.push_str(&l);
                all.push('\n');
                if let Some(u) = l.strip_prefix("bookinfo's productpage: ") {
                    url = Some(u.trim().to_string());
                }
                if l.starts_with("Serving until Ctrl-C") {
                    return (all, true);
                }
            }
            (all, false)
        })
        .await
        .expect("demo up ready within 60 s");
        assert!(banner.1, "demo up ended early:\n{}", banner.0);
        let productpage_url = url.unwrap_or_else(|| panic!("no productpage URL in\n{}", banner.0));
        DemoUp {
            child,
            dir,
            bin,
            productpage_url,
            _rest: lines,
        }
    }

    fn command(&self, program: &str) -> Command {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new(program);
        c.current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("PATH", path)
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .env("HOME", self.dir.path().join("home"))
            .kill_on_drop(true);
        c
    }

    pub(crate) async fn sh(&self, line: &str) -> Output {
        tokio::time::timeout(
            Duration::from_secs(120),
            self.command("sh").arg("-c").arg(line).output(),
        )
        .await
        .unwrap_or_else(|_| panic!("`{line}` within 120 s"))
        .expect("sh runs")
    }

    /// Runs a line that must succeed; returns its stdout.
    pub(crate) async fn ok(&self, line: &str) -> String {
        let out = self.sh(line).await;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "`{line}` failed ({}):\nstdout: {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Starts a `kubectl port-forward` line and waits for its "Forwarding from" line.
    pub(crate) async fn port_forward(&self, line: &str) -> PortForward {
        let mut child = self
            .command("sh")
            .arg("-c")
            .arg(format!("exec {line}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("port-forward runs");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(l)) = out.next_line().await {
                if let Some(rest) = l.strip_prefix("Forwarding from 127.0.0.1:") {
                    return rest.split(' ').next().and_then(|p| p.parse::<u16>().ok());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(port) = port else {
            let _ = child.kill().await;
            let o = child.wait_with_output().await.unwrap();
            panic!(
                "`{line}` did not forward (is the local port free?): {}",
                String::from_utf8_lossy(&o.stderr)
            );
        };
        // Keep reading ("Handling connection for ...") so kubectl never blocks on stdout.
        tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
        PortForward { child, port }
    }

    /// Stops `demo up` as Ctrl-C does; it removes its kubeconfig on the way out.
    pub(crate) async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: sending a signal to our own child process, still running (not reaped).
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("demo up stops within 30 s")
            .unwrap();
        assert!(status.success(), "demo up exit: {status}");
        assert!(
            !self.dir.path().join("kubeconfig").exists(),
            "kubeconfig removed"
        );
    }
}

pub(crate) struct PortForward {
    child: Child,
    pub(crate) port: u16,
}

impl PortForward {
    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}
