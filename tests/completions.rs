//! The completion scripts committed under `completions/` are exactly what the binary
//! generates, kubectl's plugin completion reaches our `__complete`, and real kubectl runs the
//! binary as `kubectl smh`.
//!
//! After changing the command line, regenerate with
//! `SMH_UPDATE_COMPLETIONS=1 cargo test --test completions`.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;

mod common;

const SCRIPTS: &[(&str, &str)] = &[
    ("bash", "kubectl-smh.bash"),
    ("zsh", "_kubectl-smh"),
    ("fish", "kubectl-smh.fish"),
    ("powershell", "_kubectl-smh.ps1"),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_scripts_match_the_binary() {
    let update = std::env::var_os("SMH_UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in SCRIPTS {
        let out = cargo_bin_cmd!("kubectl-smh")
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .args(["completion", shell])
            .output()
            .expect("run kubectl-smh");
        assert!(
            out.status.success(),
            "completion {shell} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "completion {shell} printed nothing");
        let path = repo().join("completions").join(file);
        let committed = std::fs::read(&path).unwrap_or_default();
        if committed != out.stdout {
            if update {
                std::fs::write(&path, &out.stdout).expect("write completion script");
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "committed completion scripts differ from the binary's output: {stale:?}\n\
         regenerate with: SMH_UPDATE_COMPLETIONS=1 cargo test --test completions"
    );
}

fn bin_dir() -> PathBuf {
    let bin = assert_cmd::cargo::cargo_bin!("kubectl-smh");
    bin.parent().expect("binary dir").to_path_buf()
}

/// PATH with the built binary and `completions/` first.
fn path_with_plugin() -> String {
    let mut dirs = vec![bin_dir(), repo().join("completions")];
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs)
        .expect("PATH")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn kubectl_complete_script_forwards_to_the_binary() {
    let script = repo().join("completions/kubectl_complete-smh");
    let out = Command::new(&script)
        .arg("dr")
        .env("PATH", path_with_plugin())
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("run completions/kubectl_complete-smh");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("drill\t")), "{text}");
    assert_eq!(text.lines().last(), Some(":4"), "{text}");

    let out = Command::new(&script)
        .args(["failover", ""])
        .env("PATH", path_with_plugin())
        .output()
        .expect("run completions/kubectl_complete-smh");
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["create", "list", "delete", "test"] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{sub}\t"))),
            "{sub} missing: {text}"
        );
    }
}

/// Real kubectl (>= 1.26) finds `kubectl_complete-smh` on PATH and returns our candidates.
#[test]
fn real_kubectl_completes_the_plugin() {
    let Some(kubectl) = common::kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // A kubeconfig pointing nowhere: completion must not need a cluster.
    let kubeconfig = dir.path().join("config");
    std::fs::write(&kubeconfig, common::EMPTY_KUBECONFIG).expect("write kubeconfig");
    let out = Command::new(&kubectl)
        .args(["__complete", "smh", "dri"])
        .env("PATH", path_with_plugin())
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", dir.path())
        .output()
        .expect("run kubectl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("drill")),
        "kubectl did not complete `kubectl smh dri`: stdout={text} stderr={}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = Path::new(&kubectl);
}

/// kubectl finds the binary on PATH and runs it as `kubectl smh`; the help reads like kubectl's.
#[test]
fn real_kubectl_runs_the_plugin() {
    let Some(kubectl) = common::kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("config");
    std::fs::write(&kubeconfig, common::EMPTY_KUBECONFIG).expect("write kubeconfig");
    let out = Command::new(&kubectl)
        .args(["smh", "--help"])
        .env("PATH", path_with_plugin())
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", dir.path())
        .output()
        .expect("run kubectl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl smh --help failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Usage: kubectl smh [OPTIONS] <COMMAND>"),
        "{text}"
    );
    assert!(
        text.contains("Use \"kubectl smh <command> --help\""),
        "{text}"
    );
    let out = Command::new(&kubectl)
        .args(["smh", "version", "--client"])
        .env("PATH", path_with_plugin())
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", dir.path())
        .output()
        .expect("run kubectl");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Client Version: v"));
}
