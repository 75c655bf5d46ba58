//! `kubectl port-forward` against the demo's simulated clusters with every real kubectl on the
//! machine (see `tests/common/kubectls.rs`): kubectl up to 1.30 speaks SPDY/3.1 on an upgraded
//! connection, from 1.31 SPDY tunnelled in a WebSocket (falling back to plain SPDY when the
//! WebSocket is refused, or when `KUBECTL_PORT_FORWARD_WEBSOCKETS=false`). Each run fetches
//! bookinfo's productpage through the forward, twice at once, and the transport kubectl used is
//! read from its own `-v=6` log. Without kubectl each test prints `SKIP:` and passes, unless
//! `SMH_REQUIRE_PEERS=1`.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::kubectls::{self, Kubectl};
use smh_core::model::topology::MultiClusterMode;
use smh_sim::fleet::{FleetOptions, SimFleet, bookinfo_world};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn demo() -> (SimFleet, tempfile::TempDir) {
    let mut opts = FleetOptions::demo();
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = Duration::from_millis(100);
    }
    opts.hooks
        .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
    let fleet = SimFleet::start(opts).await.expect("demo clusters start");
    fleet
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("demo ready");
    let dir = tempfile::tempdir().unwrap();
    fleet
        .write_kubeconfig(&dir.path().join("kubeconfig"))
        .unwrap();
    std::fs::create_dir(dir.path().join("home")).unwrap();
    (fleet, dir)
}

/// GET `path` from `127.0.0.1:port`; returns the whole response.
pub(crate) async fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the forwarded port accepts");
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("the page in time")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// What one port-forward run showed.
struct Run {
    /// `websocket` (SPDY tunnelled in a WebSocket) or `spdy` (an upgraded connection).
    transport: &'static str,
    log: String,
}

/// Runs `kubectl port-forward deployments/productpage-v1 :9080`, fetches the page twice at
/// once through it, and stops kubectl.
async fn forward_and_fetch(k: &Kubectl, dir: &tempfile::TempDir, env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(&k.path);
    cmd.args([
        "-n",
        "bookinfo",
        "port-forward",
        "deployments/productpage-v1",
        ":9080",
        "-v=6",
    ])
    .env("KUBECONFIG", dir.path().join("kubeconfig"))
    .env("KUBECACHEDIR", dir.path().join("cache"))
    .env("HOME", dir.path().join("home"))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let mut child = cmd.spawn().expect("kubectl runs");
    let stderr = child.stderr.take().unwrap();
    let log_task = tokio::spawn(async move {
        let mut all = String::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            all.push_str(&l);
            all.push('\n');
        }
        all
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(l)) = stdout.next_line().await {
            // "Forwarding from 127.0.0.1:PORT -> 9080"
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
        let log = log_task.await.unwrap();
        panic!("kubectl {} did not start forwarding:\n{log}", k.version);
    };
    let (a, b) = tokio::join!(
        http_get(port, "/productpage"),
        http_get(port, "/productpage")
    );
    for page in [&a, &b] {
        assert!(
            page.starts_with("HTTP/1.1 200") && page.contains("Book Reviews"),
            "kubectl {}: productpage through the forward:\n{}",
            k.version,
            &page[..page.len().min(500)]
        );
    }
    let _ = child.kill().await;
    let _ = child.wait().await;
    let log = log_task.await.unwrap();
    let transport = if log.contains("negotiated protocol: portforward.k8s.io") {
        "websocket"
    } else {
        "spdy"
    };
    assert!(
        transport == "websocket" || log.contains("101 Switching Protocols"),
        "kubectl {}: neither transport shows in the log:\n{log}",
        k.version
    );
    Run { transport, log }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kubectl_port_forwards_to_productpage() {
    let all = kubectls::all();
    if all.is_empty() {
        return;
    }
    let (fleet, dir) = demo().await;
    let mut seen = Vec::new();
    for k in &all {
        let run = forward_and_fetch(k, &dir, &[]).await;
        // From 1.31 kubectl tries the WebSocket tunnel first; it must not have fallen back.
        let expected = if k.minor() >= 31 { "websocket" } else { "spdy" };
        assert_eq!(
            run.transport,
            expected,
            "kubectl {} ({}):\n{}",
            k.version,
            k.path.display(),
            run.log
        );
        seen.push(format!("{} {}", k.version, run.transport));
    }
    // The newest kubectl with its WebSocket tunnel turned off speaks plain SPDY.
    let newest = all.last().unwrap();
    if newest.minor() >= 31 {
        let run = forward_and_fetch(
            newest,
            &dir,
            &[("KUBECTL_PORT_FORWARD_WEBSOCKETS", "false")],
        )
        .await;
        assert_eq!(run.transport, "spdy", "{}", run.log);
        seen.push(format!(
            "{} {} (websockets off)",
            newest.version, run.transport
        ));
    }
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "port-forward: {}", seen.join(", "));
    fleet.shutdown().await;
}
