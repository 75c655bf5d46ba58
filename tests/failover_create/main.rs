//! `kubectl smh failover create` as a user runs it: the binary, with `KUBECONFIG` pointing
//! at the simulated demo clusters (in process) or at nothing.
//!
//! - without a terminal: the missing flags are named, nothing is read or changed;
//! - `--dry-run -o yaml` with the guide's parameters prints the guide's manifests;
//! - `--dry-run` without `-o` adds the per-cluster plan as YAML comments;
//! - the wizard, driven through a pseudo-terminal (expectrl): arrow keys, typing, space,
//!   enter; and Ctrl-C at a prompt ends with 130 and changes nothing.

#[path = "../apply_support/mod.rs"]
mod apply_support;
#[path = "../common/mod.rs"]
mod common;

mod both;
mod contexts;
mod create;
mod dry_run;
mod no_terminal;
mod wizard;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use apply_support::*;
use common::backend::{Backend, Clusters};
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
// --dry-run on the demo clusters
// ---------------------------------------------------------------------------------------

/// The clusters of one backend and a kubeconfig for them. The scenarios of [`both`] run on
/// either backend.
struct Demo {
    clusters: Clusters,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

fn demo_of(clusters: Clusters) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig.yaml");
    clusters.write_kubeconfig(&kubeconfig);
    Demo {
        clusters,
        dir,
        kubeconfig,
    }
}

impl Demo {
    /// A new directory (kubeconfig, empty registry) for the next scenario.
    fn fresh(&mut self) {
        let dir = tempfile::tempdir().unwrap();
        self.kubeconfig = dir.path().join("kubeconfig.yaml");
        self.clusters.write_kubeconfig(&self.kubeconfig);
        self.dir = dir;
    }

    fn command(&self) -> Command {
        command(&self.kubeconfig, self.dir.path())
    }

    fn mgmt(&self) -> kube::Client {
        self.clusters.client("mgmt-cluster")
    }
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
