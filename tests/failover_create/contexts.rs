//! Only the contexts the user chose (or the flags name) are contacted: the others are API
//! servers that count connections and answer none.

use super::*;

// ---------------------------------------------------------------------------------------
// Only the contexts the user chose are contacted
// ---------------------------------------------------------------------------------------

/// A TCP server that counts the connections made to it and answers none: the API server of
/// a context nobody chose (on a laptop: production).
struct Poison {
    addr: std::net::SocketAddr,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Poison {
    fn start() -> Poison {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // Hold it open without answering.
                std::mem::forget(stream);
            }
        });
        Poison { addr, connections }
    }

    fn seen(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A kubeconfig file with one context, `production`, served by this server.
    fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("production.yaml");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: production\n  cluster: {{server: 'http://{}'}}\ncontexts:\n- name: production\n  context: {{cluster: production, user: production}}\nusers:\n- name: production\n  user: {{token: secret}}\n",
                self.addr
            ),
        )
        .unwrap();
        path
    }
}

impl Demo {
    /// The binary with `KUBECONFIG` joining the demo's kubeconfig (current context
    /// mgmt-cluster) and `extra`.
    fn command_with(&self, extra: &Path) -> Command {
        let mut c = self.command();
        let joined = std::env::join_paths([self.kubeconfig.as_path(), extra]).unwrap();
        c.env("KUBECONFIG", joined);
        c
    }
}

/// With nothing registered, the wizard asks which contexts to read, the management context
/// checked; a context left unchecked is never contacted, not even to list it.
pub(super) async fn the_wizard_reads_only_the_contexts_chosen(demo: &Demo) {
    let poison = Poison::start();
    let extra = poison.kubeconfig(demo.dir.path());
    let mut c = demo.command_with(&extra);
    c.args(["failover", "create"]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        // The choices, sorted: mgmt-cluster (checked), production, remote-cluster.
        pty::expect(&mut p, "Read which contexts?");
        pty::expect(&mut p, "production");
        // remote-cluster is one further down than without production.
        use pty::*;
        send(&mut p, DOWN);
        send(&mut p, DOWN);
        send(&mut p, " ");
        send(&mut p, "\r");
        expect(&mut p, "Primary backing service");
        // Only the chosen clusters' services are offered.
        send(&mut p, "reviews.bookinfo@remote");
        expect(&mut p, "reviews.bookinfo@remote-cluster");
        send(&mut p, "\r");
        expect(&mut p, "Backing service 2");
        send(&mut p, "reviews.bookinfo@mgmt");
        send(&mut p, "\r");
        expect(&mut p, "Backing service 3 (or done)");
        ctrl_c(&mut p);
        finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(130), "{seen}");
    assert_eq!(
        poison.seen(),
        0,
        "the unchosen context was contacted:\n{seen}"
    );
}

/// With --yes the wizard does not ask which contexts to read: without --cluster or a
/// registry it stops at once (exit 2, naming --cluster), having contacted nothing.
pub(super) async fn the_wizard_with_yes_needs_cluster_flags(demo: &Demo) {
    let poison = Poison::start();
    let extra = poison.kubeconfig(demo.dir.path());
    let mut c = demo.command_with(&extra);
    c.args(["failover", "create", "--yes"]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        pty::finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(2), "{seen}");
    assert!(
        seen.contains("failover create --yes does not ask which kubeconfig contexts to read")
            && seen.contains("--cluster NAME=CTX"),
        "{seen}"
    );
    assert_eq!(poison.seen(), 0);

    // With the clusters mapped by flag, the wizard starts, reading only those.
    let mut c = demo.command_with(&extra);
    c.args([
        "failover",
        "create",
        "--yes",
        "--cluster",
        "mgmt-cluster=mgmt-cluster",
        "--cluster",
        "remote-cluster=remote-cluster",
    ]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        pty::expect(&mut p, "Primary backing service");
        pty::ctrl_c(&mut p);
        pty::finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(130), "{seen}");
    assert!(!seen.contains("Read which contexts?"), "{seen}");
    assert_eq!(poison.seen(), 0);
}

/// Without a terminal, only the clusters the flags name are read.
pub(super) async fn flags_read_only_the_clusters_they_name(demo: &Demo) {
    let poison = Poison::start();
    let extra = poison.kubeconfig(demo.dir.path());
    let mut c = demo.command_with(&extra);
    c.args(GUIDE_FLAGS).arg("--dry-run");
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(poison.seen(), 0, "{}", text(&out.stderr));
}
