//! The guide's sequence on both backends (the simulated clusters and real control planes):
//! install, apply of the guide, describe, check, the drill end to end with its restore, and
//! check again, all through the `kubectl-smh` binary and a kubeconfig, as a user runs them;
//! and, on the real control planes, the RBAC levels of `examples/rbac/` with users holding
//! exactly one of them.

#![allow(clippy::print_stderr)]

mod common;

use std::path::Path;

use common::backend::{Backend, Clusters};
use smh_core::model::topology::MultiClusterMode;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `kubectl-smh ARGS` with the clusters' kubeconfig (not blocking the runtime: the simulated
/// clusters serve from it).
async fn smh(dir: &Path, args: &[&str]) -> Run {
    smh_with(dir, "kubeconfig", args).await
}

/// `kubectl-smh ARGS` with the kubeconfig `dir/kubeconfig_file`.
async fn smh_with(dir: &Path, kubeconfig_file: &str, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"))
        .args(args)
        .env("KUBECONFIG", dir.join(kubeconfig_file))
        .env("HOME", dir)
        .env_remove("SMH_DRILL_STATE_DIR")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .await
        .expect("run kubectl-smh");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `kubectl port-forward` (SPDY through the API server to the node's kubelet API) reaches
/// productpage, which answers its page.
async fn kubectl_port_forward_reaches_productpage(dir: &Path) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let Some(kubectl) = common::kubectl() else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut pf = tokio::process::Command::new(kubectl)
        .args([
            "port-forward",
            "-n",
            "bookinfo",
            "deploy/productpage-v1",
            "--address",
            "127.0.0.1",
        ])
        .arg(format!("{port}:9080"))
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .env("HOME", dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run kubectl port-forward");
    let mut lines = tokio::io::BufReader::new(pf.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Ok(Some(l)) = lines.next_line().await {
            if l.starts_with(&format!("Forwarding from 127.0.0.1:{port}")) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "kubectl port-forward did not start");
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.write_all(b"GET /productpage HTTP/1.0\r\nHost: productpage\r\n\r\n")
        .await
        .unwrap();
    // Read up to the end of the page (not to the end of the connection: the kubelet API
    // does not yet close kubectl's connection when the pod closes its side).
    let mut page = String::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut buf = vec![0u8; 16 * 1024];
        while !page.contains("</html>") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => page.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no whole page within 30s: {page}");
    assert!(
        page.starts_with("HTTP/1.0 200") || page.starts_with("HTTP/1.1 200"),
        "{page}"
    );
    assert!(page.contains("Simple Bookstore App"), "{page}");
    pf.kill().await.unwrap();
}

async fn the_guide(clusters: &Clusters, mode: MultiClusterMode) {
    let backend = clusters.backend();
    let dir = tempfile::tempdir().unwrap();
    clusters.write_kubeconfig(&dir.path().join("kubeconfig"));
    let d = dir.path();

    let r = smh(d, &["install"]).await;
    assert_eq!(r.code, 0, "{backend:?} install: {r:?}");
    assert!(
        r.stdout.contains("established in mgmt-cluster"),
        "{backend:?}: {r:?}"
    );

    let r = smh(d, &["apply", "-f", "examples/guide/"]).await;
    assert_eq!(r.code, 0, "{backend:?} apply: {r:?}");
    // The default strategy, auto: the guide's `.global` topology keeps SMH's EnvoyFilter;
    // multi-primary gets Istio's failoverPriority and a VirtualService on the hostname.
    let failover_object = match mode {
        MultiClusterMode::Global => {
            "envoyfilter.networking.istio.io/reviews-failover -n istio-system created"
        }
        MultiClusterMode::MultiPrimary => {
            "virtualservice.networking.istio.io/reviews-failover -n service-mesh-hub created"
        }
    };
    for line in [
        "failoverservice.networking.smh.solo.io/reviews-failover -n service-mesh-hub created",
        "destinationrule.networking.istio.io/reviews -n bookinfo created",
        failover_object,
    ] {
        assert!(
            r.stdout.contains(line),
            "{backend:?} apply, no {line:?}: {r:?}"
        );
    }
    assert_eq!(
        r.stdout.matches(" ACCEPTED").count(),
        3,
        "{backend:?}: {r:?}"
    );

    let r = smh(d, &["describe"]).await;
    assert_eq!(r.code, 0, "{backend:?} describe: {r:?}");
    for part in ["2/2 ready", "1/1 ready", "No problems found."] {
        assert!(
            r.stdout.contains(part),
            "{backend:?} describe, no {part:?}: {r:?}"
        );
    }

    let r = smh(d, &["check"]).await;
    assert_eq!(r.code, 0, "{backend:?} check: {r:?}");
    assert!(r.stdout.contains(" 0 failed"), "{backend:?}: {r:?}");

    if backend == Backend::Real {
        // Real backend only: the simulated clusters do not serve kubectl's SPDY port-forward
        // (`demo up` prints productpage's address instead).
        kubectl_port_forward_reaches_productpage(d).await;
    }

    // The drill: break reviews on the primary, fail over to remote-cluster, restore, fail back.
    let r = smh(d, &["drill", "--yes", "reviews-failover"]).await;
    assert_eq!(r.code, 0, "{backend:?} drill: {r:?}");
    assert!(
        r.stderr
            .lines()
            .last()
            .is_some_and(|l| l.ends_with(": passed")),
        "{backend:?}: {r:?}"
    );
    assert!(
        r.stdout
            .contains("restored mgmt-cluster:bookinfo/reviews-v1: command and args as saved"),
        "{backend:?}: {r:?}"
    );

    // Restored: nothing drifted, every check passes again.
    let r = smh(d, &["check"]).await;
    assert_eq!(r.code, 0, "{backend:?} check after the drill: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_install_apply_describe_check_and_drill_on_both_backends() {
    for backend in Backend::all() {
        for mode in [MultiClusterMode::Global, MultiClusterMode::MultiPrimary] {
            let Some(clusters) = Clusters::start(backend, mode).await else {
                continue;
            };
            the_guide(&clusters, mode).await;
            clusters.shutdown().await;
        }
    }
}

/// Flags that keep a drill short (as tests/drill/main.rs).
const FAST_DRILL: [&str; 9] = [
    "drill",
    "reviews-failover",
    "--yes",
    "--probe-rate",
    "20",
    "--steady-window",
    "10",
    "--baseline-probes",
    "10",
];

/// `kubectl --context CONTEXT ARGS` as the admin; panics unless it succeeds.
async fn admin_kubectl(kubectl: &Path, d: &Path, context: &str, args: &[&str]) {
    let out = tokio::process::Command::new(kubectl)
        .args(["--context", context])
        .args(args)
        .env("KUBECONFIG", d.join("kubeconfig"))
        .env("HOME", d)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?} --context {context}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run `args` as the user of kubeconfig `user`, expect exit `code`, and print the result
/// (`cargo test -- --nocapture` shows the table of commands and levels).
async fn as_user(d: &Path, user: &str, args: &[&str], code: i32) -> Run {
    let r = smh_with(d, user, args).await;
    eprintln!(
        "rbac on real control planes: {user:<8} kubectl smh {:<45} exit {}",
        args.join(" "),
        r.code
    );
    assert_eq!(r.code, code, "{user} {args:?}: {r:?}");
    if code == 0 {
        // Nothing refused, but for the documented fallback of a user with RoleBindings only
        // (a list refused in all namespaces, then made in the SMH objects' namespaces).
        for line in r.stderr.lines().filter(|l| l.contains("forbidden")) {
            assert!(
                line.contains("; listed in namespace"),
                "{user} {args:?}: refused: {line}\n{r:?}"
            );
        }
    }
    r
}

/// The RBAC levels of `examples/rbac/` (read-only, apply, drill, and the namespace-scoped
/// bindings of namespaced.yaml), applied with kubectl to both real clusters, each command
/// run as a user holding exactly one level (a client certificate whose organization is the
/// level's group): each documented command works, and a command outside the level fails
/// with exit 3 and the actionable 403 message (what was refused and the `kubectl auth
/// can-i` that checks it). Real backend only: the simulated clusters run the same manifests
/// with token users in tests/rbac.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_levels_on_real_control_planes() {
    let Some(kubectl) = common::kubectl() else {
        return;
    };
    let Some(clusters) = Clusters::start(Backend::Real, MultiClusterMode::Global).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    grant_levels(&kubectl, &clusters, d).await;
    let outlier = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/guide/1-outlier-detection.yaml"),
    )
    .unwrap()
    .replace("consecutiveErrors: 1", "consecutiveErrors: 2");
    let changed = d.join("outlier.yaml");
    std::fs::write(&changed, outlier).unwrap();
    let changed = changed.to_str().unwrap();
    read_only_level(d, changed).await;
    apply_level(d, changed).await;
    drill_level(d, changed).await;
    namespaced_level(d, changed).await;
    clusters.shutdown().await;
}

/// As the admin: install, apply the guide, apply every manifest of `examples/rbac/` to both
/// clusters, and write one kubeconfig per level's user.
async fn grant_levels(kubectl: &Path, clusters: &Clusters, d: &Path) {
    clusters.write_kubeconfig(&d.join("kubeconfig"));
    for args in [vec!["install"], vec!["apply", "-f", "examples/guide/"]] {
        let r = smh(d, &args).await;
        assert_eq!(r.code, 0, "admin {args:?}: {r:?}");
    }
    for context in ["mgmt-cluster", "remote-cluster"] {
        // namespaced.yaml binds in service-mesh-hub: it must exist in every cluster.
        let out = tokio::process::Command::new(kubectl)
            .args([
                "--context",
                context,
                "create",
                "namespace",
                "service-mesh-hub",
            ])
            .env("KUBECONFIG", d.join("kubeconfig"))
            .env("HOME", d)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success() || String::from_utf8_lossy(&out.stderr).contains("AlreadyExists"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        admin_kubectl(
            kubectl,
            d,
            context,
            &[
                "apply",
                "-f",
                "examples/rbac/read-only.yaml",
                "-f",
                "examples/rbac/apply.yaml",
                "-f",
                "examples/rbac/drill.yaml",
            ],
        )
        .await;
        admin_kubectl(
            kubectl,
            d,
            context,
            &["apply", "-f", "examples/rbac/namespaced.yaml"],
        )
        .await;
    }
    for (user, group) in [
        ("reader", "kubectl-smh-read-only"),
        ("applier", "kubectl-smh-apply"),
        ("driller", "kubectl-smh-drill"),
        ("scoped", "kubectl-smh-namespaced"),
    ] {
        clusters
            .write_user_kubeconfig(&d.join(user), user, &[group])
            .expect("real backend");
    }
}

/// read-only: reads; a write is refused with the actionable message, and so are a delete
/// and the drill.
async fn read_only_level(d: &Path, changed: &str) {
    for args in [
        vec!["describe"],
        vec!["check"],
        vec!["failover", "list"],
        vec!["failover", "test", "reviews-failover", "--requests", "5"],
    ] {
        as_user(d, "reader", &args, 0).await;
    }
    let r = as_user(d, "reader", &["apply", "-f", changed], 3).await;
    assert!(
        r.stderr.contains(
            "forbidden to patch trafficpolicies.networking.smh.solo.io service-mesh-hub/mgmt-reviews-outlier"
        ) && r.stderr.contains("kubectl auth can-i patch trafficpolicies.networking.smh.solo.io/mgmt-reviews-outlier -n service-mesh-hub --context mgmt-cluster"),
        "reader apply: {r:?}"
    );
    let r = as_user(
        d,
        "reader",
        &["failover", "delete", "reviews-failover", "--yes"],
        3,
    )
    .await;
    assert!(
        r.stdout
            .contains("forbidden to delete virtualservices.networking.istio.io bookinfo/reviews")
            && r.stderr.contains(
                "not every generated object could be removed or updated, so the SMH objects were not deleted"
            ),
        "reader failover delete: {r:?}"
    );
    let r = as_user(d, "reader", &FAST_DRILL, 3).await;
    assert!(r.stderr.contains("forbidden"), "reader drill: {r:?}");
}

/// apply: installs, applies, deletes the failover and applies it anew.
async fn apply_level(d: &Path, changed: &str) {
    for args in [
        vec!["install"],
        vec!["apply", "-f", changed],
        vec!["failover", "delete", "reviews-failover", "--yes"],
        vec!["apply", "-f", "examples/guide/"],
        vec!["check"],
    ] {
        as_user(d, "applier", &args, 0).await;
    }
}

/// drill: drills; may not apply.
async fn drill_level(d: &Path, changed: &str) {
    let r = as_user(d, "driller", &FAST_DRILL, 0).await;
    assert!(
        r.stderr
            .lines()
            .last()
            .is_some_and(|l| l.ends_with(": passed")),
        "driller drill: {r:?}"
    );
    let r = as_user(d, "driller", &["apply", "-f", changed], 3).await;
    assert!(
        r.stderr.contains("kubectl auth can-i patch"),
        "driller apply: {r:?}"
    );
}

/// namespaced.yaml: lists where the SMH objects are, says so, and drills; may not apply.
async fn namespaced_level(d: &Path, changed: &str) {
    for args in [
        vec!["describe"],
        vec!["check"],
        vec!["failover", "test", "reviews-failover", "--requests", "5"],
    ] {
        as_user(d, "scoped", &args, 0).await;
    }
    let r = as_user(d, "scoped", &["failover", "list"], 0).await;
    assert!(
        r.stdout.contains("reviews-failover")
            && r.stderr
                .contains("listed in namespace service-mesh-hub only"),
        "scoped failover list: {r:?}"
    );
    let r = as_user(d, "scoped", &["describe", "mesh"], 0).await;
    assert!(
        r.stdout
            .contains("forbidden to list deployments.apps in all namespaces")
            && r.stdout
                .contains("listed in namespaces bookinfo, istio-system only"),
        "scoped describe mesh: {r:?}"
    );
    let r = as_user(d, "scoped", &FAST_DRILL, 0).await;
    assert!(
        r.stderr
            .lines()
            .last()
            .is_some_and(|l| l.ends_with(": passed")),
        "scoped drill: {r:?}"
    );
    let r = as_user(d, "scoped", &["apply", "-f", changed], 3).await;
    assert!(
        r.stderr.contains("kubectl auth can-i patch"),
        "scoped apply: {r:?}"
    );
}
