//! `kubectl smh demo up` as a user runs it: the kubeconfig appears once the clusters answer,
//! both contexts work, SIGTERM stops it and removes the kubeconfig; bad flags and a foreign
//! file at the output path are refused with exit code 2.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

fn demo_up(kubeconfig_out: &Path, extra: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"))
        .args(["demo", "up", "--kubeconfig-out"])
        .arg(kubeconfig_out)
        .args(extra)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl-smh runs")
}

fn wait_for(path: &Path, child: &mut Child) {
    let t = Instant::now();
    while !path.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("demo up exited early: {status}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no kubeconfig after 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn namespaces(kc: &Kubeconfig, context: &str) -> Vec<String> {
    let cfg = kube::Config::from_custom_kubeconfig(
        kc.clone(),
        &KubeConfigOptions {
            context: Some(context.to_string()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(cfg).unwrap();
    Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_up_serves_until_sigterm_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("demo.kubeconfig");
    let mut child = demo_up(
        &kc_path,
        &[
            "--latency",
            "remote-cluster=20ms",
            "--rollout-delay",
            "1s",
            "--istio-cluster-id",
            "remote-cluster=east-2",
        ],
    );
    wait_for(&kc_path, &mut child);

    let kc = Kubeconfig::read_from(&kc_path).unwrap();
    assert_eq!(kc.current_context.as_deref(), Some("mgmt-cluster"));
    let mgmt = namespaces(&kc, "mgmt-cluster").await;
    assert!(mgmt.contains(&"service-mesh-hub".to_string()), "{mgmt:?}");
    let remote = namespaces(&kc, "remote-cluster").await;
    assert!(
        remote.contains(&"default".to_string())
            && !remote.contains(&"service-mesh-hub".to_string())
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("mgmt-cluster") && stdout.contains("remote-cluster"),
        "{stdout}"
    );
    assert!(stdout.contains("export KUBECONFIG="), "{stdout}");
    assert!(stdout.contains("faults: latency 20ms"), "{stdout}");
    // istiod's CLUSTER_ID: the demo's default for mgmt-cluster, the flag's for the other.
    assert!(
        stdout.contains("Istio cluster ID: cluster1 (istiod's CLUSTER_ID)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Istio cluster ID: east-2 (istiod's CLUSTER_ID)"),
        "{stdout}"
    );
    assert!(!kc_path.exists(), "the kubeconfig is removed on exit");
}

#[test]
fn demo_up_refuses_to_overwrite_a_foreign_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, "apiVersion: v1\nkind: Config\n").unwrap();
    let out = demo_up(&path, &[]).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("was not written by `kubectl smh demo up`")
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "apiVersion: v1\nkind: Config\n"
    );
}

/// A second `demo up` does not take over the kubeconfig of one that is still serving (it would
/// remove it on exit); once that one is gone (here: SIGKILL, so its file stays), the stale
/// file is replaced.
#[test]
fn demo_up_leaves_a_running_demos_kubeconfig_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.kubeconfig");
    let mut first = demo_up(&path, &[]);
    wait_for(&path, &mut first);
    let written = std::fs::read_to_string(&path).unwrap();

    let out = demo_up(&path, &[]).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("belongs to a `kubectl smh demo up` that is still serving"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);

    first.kill().unwrap();
    first.wait().unwrap();
    assert!(path.exists(), "SIGKILL leaves the file behind");
    let mut second = demo_up(&path, &[]);
    let t = Instant::now();
    while std::fs::read_to_string(&path).is_ok_and(|s| s == written) || !path.exists() {
        if let Ok(Some(status)) = second.try_wait() {
            let out = second.wait_with_output().unwrap();
            panic!(
                "second demo up exited: {status}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(t.elapsed() < Duration::from_secs(30), "no new kubeconfig");
        std::thread::sleep(Duration::from_millis(20));
    }
    second.kill().unwrap();
    second.wait().unwrap();
}

#[test]
fn demo_up_rejects_bad_fault_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kc");
    for (flags, expect) in [
        (vec!["--latency", "nope=1s"], "unknown cluster \"nope\""),
        (vec!["--error-rate", "remote-cluster=2"], "outside 0..1"),
        (
            vec!["--unreachable", "remote-cluster=sometimes"],
            "expected hang or close",
        ),
        (
            vec!["--istio-cluster-id", "mgmt-cluster=-east"],
            "--istio-cluster-id mgmt-cluster=-east: \"-east\" is not a valid Istio cluster ID",
        ),
        (
            vec!["--istio-cluster-id", "nope=east"],
            "unknown cluster \"nope\"",
        ),
        (
            vec!["--istio-mode", "multi-primary"],
            "--istio-mode does not apply to `kubectl smh demo up`: the demo's clusters are built in the mode --mode names: use --mode multi-primary",
        ),
    ] {
        let out = demo_up(&path, &flags).wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{flags:?}: {err}");
        assert!(!path.exists());
    }
    let out = assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
        .args(["demo", "up", "--help"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("kubectl smh demo up") && help.contains("--error-rate"),
        "{help}"
    );
}

/// `demo manifests` prints the guide's three manifests, exactly the files in
/// `examples/guide/`, as one stream that `apply -f -` (here `validate -f -`) takes.
#[test]
fn demo_manifests_prints_the_guide_as_one_stream() {
    let out = assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
        .args(["demo", "manifests"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/guide");
    let want: Vec<String> = [
        "1-outlier-detection.yaml",
        "2-failover-service.yaml",
        "3-traffic-shift.yaml",
    ]
    .iter()
    .map(|f| {
        std::fs::read_to_string(dir.join(f))
            .unwrap()
            .trim_end()
            .to_string()
    })
    .collect();
    assert_eq!(text, format!("{}\n", want.join("\n---\n")));
    assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
        .args(["validate", "-f", "-"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .write_stdin(text)
        .assert()
        .success()
        .stdout("OK: 1 FailoverService and 2 TrafficPolicies valid in 1 file\n");
}
