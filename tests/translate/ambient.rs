//! `kubectl smh translate` of the guide on an ambient topology (examples/topology-ambient.yaml):
//! native through the waypoint, aggregate refused, a missing waypoint an error that says how
//! to add one (exit 2, naming the file, object and field).

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

const AMBIENT: &str = "examples/topology-ambient.yaml";

#[test]
fn the_guide_on_an_ambient_mesh_is_native_through_the_waypoint() {
    let out = smh()
        .args(["translate", "-f", "examples/guide/", "--topology", AMBIENT])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("kind: EnvoyFilter"), "{text}");
    assert!(text.contains("istio.io/use-waypoint: waypoint"), "{text}");
    assert!(
        text.contains("istio.io/use-waypoint-namespace: bookinfo"),
        "{text}"
    );
    assert!(
        text.contains("topology.istio.io/cluster=cluster1"),
        "{text}"
    );
    smh()
        .args([
            "translate",
            "-f",
            "examples/guide/",
            "--topology",
            AMBIENT,
            "--explain",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("in Istio's ambient mode"))
        .stderr(predicate::str::contains(
            "waypoint bookinfo/waypoint in mgmt-cluster",
        ));
}

#[test]
fn aggregate_is_refused_for_the_ambient_guide() {
    smh()
        .args([
            "translate",
            "-f",
            "examples/guide/",
            "--topology",
            AMBIENT,
            "--strategy",
            "aggregate",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("spec.backingServices"))
        .stderr(predicate::str::contains("istio#55279"));
}

#[test]
fn a_missing_waypoint_is_bad_input_that_says_how_to_add_one() {
    let topo = std::fs::read_to_string(repo_path(AMBIENT)).unwrap();
    // mgmt-cluster, where the guide's FailoverService is used (its spec.meshes), loses its
    // waypoint.
    let wp = "  waypoints:\n  - {name: waypoint, namespace: bookinfo, waypointFor: service, allowedNamespaces: [\"*\"]}\n- name: remote-cluster";
    assert!(topo.contains(wp), "{topo}");
    let topo = topo.replacen(wp, "- name: remote-cluster", 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("topology.yaml");
    std::fs::write(&path, topo).unwrap();
    smh()
        .args(["translate", "-f", "examples/guide/", "--topology"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "uses waypoint bookinfo/waypoint, which mgmt-cluster does not have",
        ))
        .stderr(predicate::str::contains(
            "istioctl waypoint apply -n bookinfo --enroll-namespace",
        ))
        .stderr(predicate::str::contains("examples/guide/"));
}
