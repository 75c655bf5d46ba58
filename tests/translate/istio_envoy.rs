//! Real Envoy running what real istiod generated for the guide
//! (`scripts/envoy-lab/istio_failover.py` over `scripts/istio-oracle`'s output): exactly the
//! Istio-only parts listed here are dropped, Envoy accepts the rest, and the guide's
//! failover happens on it. The figures are `cargo bench --bench failover_real`'s.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use super::support::{find_envoy, repo_path, skip_or_fail};

/// What the lab drops from istiod's output (field, then why), as its `--dropped` prints.
const DROPPED: &[&str] = &[
    "clusters[].transport_socket",
    "clusters[].transport_socket_matches",
    "clusters[].filters",
    "clusters[].upstream_bind_config",
    "eds_cluster_config.eds_config.ads",
    "listeners",
];

#[test]
fn the_lab_drops_exactly_the_istio_only_parts() {
    let out = Command::new("python3")
        .arg(repo_path("scripts/envoy-lab/istio_failover.py"))
        .arg("--dropped")
        .output();
    let Ok(out) = out else {
        return skip_or_fail("python3 is not installed").unwrap_or(());
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(fields, DROPPED);
    // Each with its reason.
    assert!(
        text.lines()
            .all(|l| l.split('\t').nth(1).is_some_and(|w| w.len() > 20))
    );
}

/// The oracle binary, when built (`scripts/peers/build istio`).
fn oracle_built() -> bool {
    Command::new(repo_path("scripts/peers/build"))
        .args(["--dir", "istio"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("istio-oracle"))
        .is_some_and(|p| p.is_file())
}

#[test]
fn envoy_runs_istiods_configuration_for_the_guide_and_fails_over() {
    let Some(envoy) = find_envoy() else {
        return skip_or_fail("no envoy binary").unwrap_or(());
    };
    if !oracle_built() {
        return skip_or_fail("the Istio oracle is not built (scripts/peers/build istio)")
            .unwrap_or(());
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("oracle.json");
    let status = Command::new(repo_path("scripts/istio-oracle"))
        .args(["-f", "examples/guide", "--cluster", "mgmt-cluster"])
        .current_dir(repo_path(""))
        .env("SMH_BIN", env!("CARGO_BIN_EXE_kubectl-smh"))
        .stdout(std::fs::File::create(&json).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let out = Command::new("python3")
        .arg(repo_path("scripts/envoy-lab/istio_failover.py"))
        .arg(&json)
        .args(["--scenario", "rollout"])
        .env("SMH_ENVOY", &envoy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let answers = r["answers"].as_str().unwrap();
    // The baseline from the primary, then a steady failover and failback, each waited for
    // as a condition (20 answers in a row), not a time.
    assert_eq!(r["baseline_primary"], r["baseline_total"], "{answers}");
    assert_eq!(r["steady_failover"], true, "{answers}");
    assert_eq!(r["steady_failback"], true, "{answers}");
    // Istio's default retries cannot hide the merge window's second of refused
    // connections: some requests fail (10 of 10 per second in every measured run).
    assert!(
        r["failed_during_failover"].as_u64().unwrap() > 0,
        "{answers}"
    );
    assert_eq!(r["failed_during_failback"], 0, "{answers}");
}
