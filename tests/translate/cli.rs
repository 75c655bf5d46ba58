//! `kubectl smh translate` end to end (assert_cmd), against the golden files.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

use super::support::repo_path;

fn smh() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("kubectl-smh");
    cmd.current_dir(repo_path(""))
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("NO_COLOR");
    cmd
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(repo_path("tests/golden").join(name)).unwrap()
}

#[test]
fn guide_yaml_is_the_golden_stream() {
    smh()
        .args([
            "translate",
            "-f",
            "examples/guide/",
            "--topology",
            "tests/data/topology/guide-global.yaml",
        ])
        .assert()
        .success()
        .stdout(golden("guide-global.yaml"))
        .stderr("");
}

#[test]
fn example_topology_gives_the_guide_output() {
    smh()
        .args([
            "translate",
            "-f",
            "examples/guide/",
            "--topology",
            "examples/topology.yaml",
        ])
        .assert()
        .success()
        .stdout(golden("guide-global.yaml"));
}

#[test]
fn guide_json_is_the_golden_list() {
    smh()
        .args([
            "translate",
            "-f",
            "examples/guide",
            "--topology",
            "tests/data/topology/guide-global.yaml",
            "-o",
            "json",
        ])
        .assert()
        .success()
        .stdout(golden("guide-global.json"));
}

#[test]
fn default_topology_gives_the_guide_output() {
    // Without --topology: every cluster the manifests name, istiod in istio-system, global
    // mode, a current Istio, reviews with the FailoverService's port 9080/http.
    smh()
        .args([
            "translate",
            "-f",
            "examples/guide/1-outlier-detection.yaml,examples/guide/2-failover-service.yaml",
            "-f",
            "examples/guide/3-traffic-shift.yaml",
        ])
        .assert()
        .success()
        .stdout(golden("guide-global.yaml"));
}

#[test]
fn stdin_and_istio_1_8() {
    let input = [
        "1-outlier-detection",
        "2-failover-service",
        "3-traffic-shift",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(repo_path(&format!("examples/guide/{f}.yaml"))).unwrap())
    .collect::<Vec<_>>()
    .join("---\n");
    smh()
        .args([
            "translate",
            "-f",
            "-",
            "--topology",
            "tests/data/topology/guide-global-istio-1.8.yaml",
        ])
        .write_stdin(input)
        .assert()
        .success()
        .stdout(golden("guide-global-istio-1.8.yaml"));
}

#[test]
fn only_cluster_and_explain() {
    let out = smh()
        .args([
            "translate",
            "-f",
            "examples/guide/",
            "--topology",
            "tests/data/topology/guide-multi-primary.yaml",
            "--only-cluster",
            "remote-cluster",
            "--explain",
            "-o",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "DestinationRule");
    assert_eq!(
        items[0]["metadata"]["labels"]["cluster.multicluster.solo.io"],
        "remote-cluster"
    );
    // remote-cluster has no topology-dependent choices; mgmt-cluster's are filtered out.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("[mgmt-cluster]"));

    smh()
        .args(["translate", "-f", "examples/guide/", "--topology", "tests/data/topology/guide-multi-primary.yaml", "--strategy", "aggregate", "--explain"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "# [mgmt-cluster] multi-primary mode: reviews.bookinfo.svc.cluster.local has endpoints from every cluster; subset cluster-remote-cluster",
        ));
}

/// Istio cluster IDs: the subsets select the topology's clusterId; without one the SMH name
/// is assumed and `--explain` warns; an invalid one is bad input naming the file and field.
#[test]
fn cluster_ids_from_the_topology() {
    let out = smh()
        .args([
            "translate",
            "-f",
            "examples/guide/",
            "--topology",
            "tests/data/topology/guide-multi-primary.yaml",
            "--strategy",
            "aggregate",
            "--explain",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "      topology.istio.io/cluster: cluster2\n    name: cluster-remote-cluster"
        ),
        "{stdout}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning:"));

    smh()
        .args(["translate", "-f", "examples/guide/", "--topology", "tests/data/topology/guide-multi-primary-istio-1.8.yaml", "--explain"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "# [mgmt-cluster] warning: the Istio cluster ID of remote-cluster is not known (its mesh has no clusterId), so subset cluster-remote-cluster assumes it is the SMH cluster name and selects topology.istio.io/cluster=remote-cluster;",
        ));

    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("topology.yaml");
    let good =
        std::fs::read_to_string(repo_path("tests/data/topology/guide-multi-primary.yaml")).unwrap();
    for (bad, message) in [
        (
            "clusterId: -cluster2",
            "clusters[1].mesh.clusterId: Invalid value: \"-cluster2\": a valid label must be an empty string or consist of alphanumeric characters",
        ),
        (
            "clusterId: cluster1",
            "clusters[1].mesh.clusterId: Duplicate value: cluster ID \"cluster1\" is also the cluster ID of clusters[0] (mgmt-cluster)",
        ),
        (
            "clusterId: ''",
            "clusters[1].mesh.clusterId: Invalid value: \"\": an Istio cluster ID cannot be empty",
        ),
    ] {
        std::fs::write(&t, good.replace("clusterId: cluster2", bad)).unwrap();
        let out = smh()
            .args(["translate", "-f", "examples/guide/", "--topology"])
            .arg(&t)
            .assert()
            .code(2)
            .stdout("")
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("topology.yaml:"), "{stderr}");
        assert!(stderr.contains(message), "{bad}: {stderr}");
    }
    let long = format!("clusterId: {}", "c".repeat(64));
    std::fs::write(&t, good.replace("clusterId: cluster2", &long)).unwrap();
    smh()
        .args(["translate", "-f", "examples/guide/", "--topology"])
        .arg(&t)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "clusters[1].mesh.clusterId: Invalid value",
        ))
        .stderr(predicate::str::contains(
            "must be no more than 63 characters",
        ));
}

#[test]
fn invalid_input_prints_problems_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(repo_path("examples/guide/2-failover-service.yaml"))
        .unwrap()
        .replace(
            "hostname: reviews-failover.bookinfo.global",
            "hostname: reviews-failover.bookinfo",
        );
    std::fs::write(&bad, text).unwrap();
    smh()
        .args(["translate", "-f", "examples/guide/1-outlier-detection.yaml", "-f"])
        .arg(&bad)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("bad.yaml").and(predicate::str::contains(
            "Provided hostname reviews-failover.bookinfo is missing required suffix \".global\".",
        )));
}

#[test]
fn bad_flags_exit_2() {
    smh()
        .args([
            "translate",
            "-f",
            "examples/guide/",
            "--only-cluster",
            "nope",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "--only-cluster nope: no such cluster",
        ));
    smh()
        .args(["translate", "-f", "examples/guide/", "-o", "table"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "use -o yaml (the default) or -o json",
        ));
    smh()
        .args([
            "translate",
            "-f",
            "examples/guide/",
            "--topology",
            "/nonexistent/topology.yaml",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("/nonexistent/topology.yaml"));
    smh().args(["translate"]).assert().code(2).stdout("");
}

#[test]
fn help_reads_like_kubectl() {
    smh()
        .args(["translate", "--help"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("kubectl smh translate")
                .and(predicate::str::contains("--only-cluster")),
        );
}

/// `--strategy`: native where it is not exact is bad input naming the file, document, field
/// and reason (nothing printed); auto keeps the guide's `.global` topology on aggregate and
/// takes native in multi-primary; `--explain` says which and why.
#[test]
fn strategy_flag_chooses_and_refuses_native_where_it_is_not_exact() {
    smh()
        .args(["translate", "-f", "examples/guide/", "--strategy", "native"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "examples/guide/2-failover-service.yaml:7:3: document 1: FailoverService service-mesh-hub/reviews-failover: spec: strategy native (--strategy native) cannot express this FailoverService exactly: mgmt-cluster is in global mode",
        ));
    smh()
        .args(["translate", "-f", "examples/guide/", "--explain"])
        .assert()
        .success()
        .stdout(predicate::str::contains("kind: EnvoyFilter"))
        .stderr(predicate::str::contains(
            "# [mgmt-cluster] FailoverService service-mesh-hub/reviews-failover: strategy aggregate (the default strategy, auto; native is not exact: mgmt-cluster is in global mode",
        ));
    smh()
        .args(["translate", "-f", "examples/guide/", "--topology", "tests/data/topology/guide-multi-primary.yaml", "--explain"])
        .assert()
        .success()
        .stdout(predicate::str::contains("kind: EnvoyFilter").not())
        .stdout(predicate::str::contains("- topology.istio.io/cluster=cluster1"))
        .stderr(predicate::str::contains(
            "strategy native (the default strategy, auto): the backing services are reviews.bookinfo in mgmt-cluster then remote-cluster",
        ));
}
