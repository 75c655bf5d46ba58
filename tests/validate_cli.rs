//! `kubectl smh validate` end to end: the guide's manifests, stdin, output formats, exit codes.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("kubectl-smh");
    c.env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("NO_COLOR", "1")
        .current_dir(root());
    c
}

fn guide(file: &str) -> String {
    Path::new("examples/guide").join(file).display().to_string()
}

/// The lint's suggestion for the guide's traffic shift: the zero-loss settings.
const GUIDE_SUGGESTION: &str = "suggestion: examples/guide/3-traffic-shift.yaml: document 1 (line 1): TrafficPolicy bookinfo/reviews-shift-failover: for a failover that loses no request, set consecutiveErrors 1 and maxEjectionPercent 100 on the backing services, retries {attempts: 20} on the traffic shift (`kubectl smh failover create --zero-loss`); now: no retries (Istio's default: 2), fewer than 20. Trade-off: requests that reach the failed primary in the second after its pods change are retried until Envoy fails over, so they take up to about 1 s longer instead of failing; answers with an HTTP status (a 500 from the application) are still not retried\n";

#[test]
fn guide_manifests_are_valid_with_default_topology() {
    cmd()
        .args(["validate", "-f", "examples/guide/"])
        .assert()
        .code(0)
        .stdout(format!(
            "{GUIDE_SUGGESTION}OK: 1 FailoverService and 2 TrafficPolicies valid in 3 files\n"
        ));
}

#[test]
fn zero_loss_settings_silence_the_suggestion_and_json_has_none() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["1-outlier-detection.yaml", "2-failover-service.yaml"] {
        std::fs::copy(root().join(guide(f)), dir.path().join(f)).unwrap();
    }
    let shift = std::fs::read_to_string(root().join(guide("3-traffic-shift.yaml"))).unwrap();
    std::fs::write(
        dir.path().join("3-traffic-shift.yaml"),
        format!("{shift}  retries:\n    attempts: 20\n"),
    )
    .unwrap();
    cmd()
        .args(["validate", "-f"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout("OK: 1 FailoverService and 2 TrafficPolicies valid in 3 files\n");
    // Suggestions are not diagnostics: -o json lists none for the guide.
    cmd()
        .args(["validate", "-o", "json", "-f", "examples/guide/"])
        .assert()
        .code(0)
        .stdout("[]\n");
}

#[test]
fn guide_manifests_are_valid_with_the_example_topology() {
    cmd()
        .args(["validate", "--topology", "examples/topology.yaml", "-f"])
        .arg(guide("1-outlier-detection.yaml"))
        .arg("-f")
        .arg(format!(
            "{},{}",
            guide("2-failover-service.yaml"),
            guide("3-traffic-shift.yaml")
        ))
        .arg("--strict")
        .assert()
        .code(0)
        .stdout(
            predicate::str::starts_with("suggestion: ").and(predicate::str::ends_with(
                "\nOK: 1 FailoverService and 2 TrafficPolicies valid in 3 files\n",
            )),
        );
}

#[test]
fn stdin_is_read_with_dash() {
    let text: String = [
        "1-outlier-detection.yaml",
        "2-failover-service.yaml",
        "3-traffic-shift.yaml",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(root().join(guide(f))).unwrap())
    .collect::<Vec<_>>()
    .join("---\n");
    cmd()
        .args(["validate", "-f", "-"])
        .write_stdin(text.clone())
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with(
            "\nOK: 1 FailoverService and 2 TrafficPolicies valid in 1 file\n",
        ));
    let bad = text.replace("protocol: http", "protocol: smtp");
    cmd()
        .args(["validate", "-f", "-"])
        .write_stdin(bad)
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "error: -:28:15: document 2: FailoverService service-mesh-hub/reviews-failover: spec.port.protocol: Invalid protocol for port: smtp",
        ))
        .stdout(predicate::str::ends_with("1 error, 0 warnings in 1 file\n"));
}

#[test]
fn warnings_pass_unless_strict() {
    cmd()
        .args(["validate", "-f"])
        .arg(guide("3-traffic-shift.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning: examples/guide/3-traffic-shift.yaml:16:9: document 1: TrafficPolicy bookinfo/reviews-shift-failover: spec.trafficShift.destinations[0].failoverService: FailoverService service-mesh-hub/reviews-failover is not in the input"))
        .stdout(predicate::str::ends_with("1 warning in 1 file; 1 TrafficPolicy valid\n"));
    cmd()
        .args(["validate", "--strict", "-f"])
        .arg(guide("3-traffic-shift.yaml"))
        .assert()
        .code(2)
        .stdout(predicate::str::ends_with(
            "1 warning in 1 file; 1 TrafficPolicy valid but --strict fails on warnings\n",
        ));
}

#[test]
fn errors_of_all_files_at_once_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, "a: [1\n").unwrap();
    let fs = std::fs::read_to_string(root().join(guide("2-failover-service.yaml"))).unwrap();
    std::fs::write(&b, fs.replace("number: 9080", "number: 0")).unwrap();
    let out = cmd()
        .args(["validate", "-o", "json", "-f"])
        .arg(&a)
        .arg("-f")
        .arg(&b)
        .arg("-f")
        .arg(guide("1-outlier-detection.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON array");
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), 2, "{json:#}");
    assert_eq!(items[0]["file"], a.display().to_string());
    assert_eq!(items[0]["line"], 1);
    assert!(
        items[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("YAML syntax error")
    );
    assert_eq!(items[1]["field"], "spec.port.number");
    assert_eq!(
        items[1]["message"],
        "must be between 1 and 65535, inclusive"
    );
    assert_eq!(items[1]["severity"], "error");
    assert_eq!(items[1]["object"]["kind"], "FailoverService");
    assert_eq!(items[1]["statusTarget"]["kind"], "Mesh");
    assert_eq!(
        items[1]["statusTarget"]["key"],
        "istiod-istio-system-mgmt-cluster.service-mesh-hub."
    );
}

#[test]
fn yaml_output_and_empty_results() {
    cmd()
        .args(["validate", "-o", "yaml", "-f", "examples/guide"])
        .assert()
        .code(0)
        .stdout("[]\n");
    cmd()
        .args([
            "validate",
            "-o",
            "yaml",
            "-f",
            "tests/bad-input/10-unknown-field-spec.yaml",
        ])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("field: spec.port.nmber"));
}

#[test]
fn bad_topology_file_is_reported_with_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("topology.yaml");
    std::fs::write(&t, "clusters:\n- name: mgmt-cluster\n  mesh: {version: one}\n- name: mgmt-cluster\n  colour: red\n").unwrap();
    cmd()
        .args(["validate", "-f", "examples/guide", "--topology"])
        .arg(&t)
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "topology.yaml:5:3: clusters[1].colour: unknown field \"colour\"",
        ));
    cmd()
        .args([
            "validate",
            "-f",
            "examples/guide",
            "--topology",
            "/nonexistent/topology.yaml",
        ])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "/nonexistent/topology.yaml: cannot read topology file",
        ));
}

#[test]
fn a_topology_without_the_remote_cluster_fails_smh_rules() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("topology.yaml");
    let example = std::fs::read_to_string(root().join("examples/topology.yaml")).unwrap();
    let only_mgmt = example
        .split("- name: remote-cluster")
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&t, only_mgmt).unwrap();
    cmd()
        .args(["validate", "-f", "examples/guide", "--topology"])
        .arg(&t)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("TrafficPolicy service-mesh-hub/mgmt-reviews-outlier: spec.destinationSelector[0].kubeServiceRefs.services[1]: TrafficTarget reviews.bookinfo.remote-cluster not found"))
        .stdout(predicate::str::contains("spec.backingServices[1].kubeService: Backing service reviews.bookinfo.remote-cluster not found in SMH discovery resources."));
}

#[test]
fn usage_errors_exit_2() {
    cmd()
        .args(["validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--filename"));
    cmd()
        .args(["validate", "-f", "examples/guide", "-o", "xml"])
        .assert()
        .code(2);
}

#[test]
fn help_reads_like_kubectl() {
    cmd()
        .args(["validate", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("kubectl smh validate"))
        .stdout(predicate::str::contains("-f, --filename <FILE>"))
        .stdout(predicate::str::contains("--topology <FILE>"))
        .stdout(predicate::str::contains("--strict"));
}
