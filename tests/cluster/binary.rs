//! The binary against fake API servers: help, the request timeout, `version` (client and
//! servers), proxies, and `cluster register|list|deregister`.

use super::*;

/// `kubectl smh help COMMAND` works as in kubectl, and `drill help` is help, not a
/// FailoverService named "help".
#[test]
fn help_subcommand_prints_a_commands_help() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("clusters.yaml");
    for args in [&["help", "drill"][..], &["drill", "help"][..]] {
        cmd(&dir.path().join("none"), &reg)
            .args(args)
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "Usage: kubectl smh drill [OPTIONS] [NAME]",
            ));
    }
}

#[test]
fn a_zero_request_timeout_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("clusters.yaml");
    for zero in ["0", "0s", "0ms"] {
        cmd(&dir.path().join("none"), &reg)
            .args(["describe", "--request-timeout", zero])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "invalid value '{zero}' for '--request-timeout <REQUEST_TIMEOUT>': must be more than 0"
            )));
    }
}

#[test]
fn version_client_reads_nothing_and_without_kubeconfig_notes_it() {
    let dir = tempfile::tempdir().unwrap();
    // A kubeconfig that cannot be parsed: --client must not read it.
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, "\u{0}\u{1}not yaml: [").unwrap();
    let reg = dir.path().join("clusters.yaml");
    cmd(&garbage, &reg)
        .args(["version", "--client"])
        .assert()
        .success()
        .stdout(format!("Client Version: v{}\n", env!("CARGO_PKG_VERSION")));
    cmd(&dir.path().join("none"), &reg)
        .arg("version")
        .assert()
        .success()
        .stdout(format!("Client Version: v{}\n", env!("CARGO_PKG_VERSION")))
        .stderr(predicate::str::contains("no kubeconfig found"));
}

#[test]
fn version_prints_server_versions_and_fails_with_3_on_an_unreachable_cluster() {
    let mgmt = mgmt_fake().serve_in_thread();
    let remote = remote_fake().serve_in_thread();
    let dead = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let kc = write_kubeconfig(
        dir.path(),
        &[
            ("mgmt-cluster", format!("http://{mgmt}")),
            ("remote-ctx", format!("http://{remote}")),
            ("dead", format!("http://{dead}")),
        ],
    );
    let reg = dir.path().join("clusters.yaml");
    cmd(&kc, &reg)
        .args(["version", "--cluster", "remote-cluster=remote-ctx"])
        .assert()
        .success()
        .stdout(format!(
            "Client Version: v{}\nServer Version: v1.32.0 (mgmt-cluster, management; context mgmt-cluster, http://{mgmt})\n\
             Server Version: v1.31.4 (remote-cluster; context remote-ctx, http://{remote})\n",
            env!("CARGO_PKG_VERSION")
        ));
    cmd(&kc, &reg)
        .args(["version", "--mgmt-context", "dead", "-o", "json"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("\"clientVersion\""))
        .stderr(predicate::str::contains(format!(
            "error: management cluster (context dead, http://{dead}) refused the connection"
        )));
    cmd(&kc, &reg)
        .args(["version", "--mgmt-context", "nope"])
        .assert()
        .code(2)
        .stdout(format!("Client Version: v{}\n", env!("CARGO_PKG_VERSION")))
        .stderr(predicate::str::contains(
            "context \"nope\" (from --mgmt-context) is not in the kubeconfig",
        ))
        .stderr(predicate::str::contains(
            "the contexts are: dead, mgmt-cluster, remote-ctx",
        ));
}

#[test]
fn an_environment_proxy_is_not_used_for_loopback_servers_but_proxy_url_is() {
    let api = Fake::new("v1.32.0").serve_in_thread();
    let dead_proxy = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let kc = write_kubeconfig(dir.path(), &[("mgmt-cluster", format!("http://{api}"))]);
    let reg = dir.path().join("clusters.yaml");
    cmd(&kc, &reg)
        .env("HTTPS_PROXY", format!("http://{dead_proxy}"))
        .args(["version"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Server Version: v1.32.0"));
    // An explicit proxy-url in the kubeconfig is honoured (and here fails).
    let text = std::fs::read_to_string(&kc).unwrap().replace(
        &format!("    server: http://{api}\n"),
        &format!("    server: http://{api}\n    proxy-url: http://{dead_proxy}\n"),
    );
    std::fs::write(&kc, text).unwrap();
    cmd(&kc, &reg)
        .args(["version"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("refused the connection"));
}

#[test]
fn cluster_register_list_deregister() {
    let dir = tempfile::tempdir().unwrap();
    let kc = write_kubeconfig(
        dir.path(),
        &[
            ("mgmt-cluster", "https://10.0.0.1:6443".to_string()),
            ("gke_remote", "https://10.0.0.2:6443".to_string()),
        ],
    );
    let reg = dir.path().join("cfg").join("clusters.yaml");
    cmd(&kc, &reg)
        .args([
            "cluster",
            "register",
            "remote-cluster",
            "--context",
            "gke_remote",
        ])
        .assert()
        .success()
        .stdout("cluster remote-cluster registered: context gke_remote (https://10.0.0.2:6443)\n");
    assert!(
        std::fs::read_to_string(&reg)
            .unwrap()
            .contains("context: gke_remote")
    );
    cmd(&kc, &reg)
        .args(["cluster", "register", "other", "--context", "missing"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the contexts are: gke_remote, mgmt-cluster",
        ))
        .stderr(predicate::str::contains("--force"));
    cmd(&kc, &reg)
        .args([
            "cluster",
            "register",
            "other",
            "--context",
            "missing",
            "--force",
        ])
        .assert()
        .success();
    cmd(&kc, &reg)
        .args(["cluster", "list"])
        .assert()
        .success()
        .stdout(
            "NAME             CONTEXT        SERVER                        SOURCE\n\
             gke_remote       gke_remote     https://10.0.0.2:6443         same-name\n\
             mgmt-cluster     mgmt-cluster   https://10.0.0.1:6443         same-name\n\
             other            missing        <context not in kubeconfig>   registry\n\
             remote-cluster   gke_remote     https://10.0.0.2:6443         registry\n",
        );
    let json = cmd(&kc, &reg)
        .args([
            "cluster",
            "list",
            "-o",
            "json",
            "--cluster",
            "x=mgmt-cluster",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["clusters"][4]["name"], "x");
    assert_eq!(v["clusters"][4]["source"], "flag");
    cmd(&kc, &reg)
        .args(["cluster", "deregister", "other"])
        .assert()
        .success()
        .stdout("cluster other deregistered (it mapped to context missing)\n");
    cmd(&kc, &reg)
        .args(["cluster", "deregister", "other"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cluster other is not in the registry",
        ))
        .stderr(predicate::str::contains("(registered: remote-cluster)"));
    cmd(&kc, &reg)
        .args(["cluster", "register", "Bad_Name", "--context", "gke_remote"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a DNS-1123 subdomain"));
}
