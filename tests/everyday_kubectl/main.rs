//! Everyday kubectl against the demo: the commands a Kubernetes user types in a first hour
//! with a cluster, each run with real kubectl against `FleetOptions::demo()` clusters with
//! bookinfo, each checked for its effect (the object stored with the expected fields, the log
//! line there, the rollout back), not only for its exit code.
//!
//! The list of commands is docs/simulator.md's (between the `everyday-kubectl` markers): the
//! test fails when it runs a command the docs do not list, or the docs list one it did not
//! run.
//!
//! kubectl is `$SMH_KUBECTL` or `kubectl` on PATH (a `SKIP:` line without it, a failure with
//! `SMH_REQUIRE_PEERS=1`), and also the kubectl that `scripts/peers/build kubernetes` builds,
//! when it is there (a `SKIP:` line otherwise: CI does not build it).

#[path = "../common/mod.rs"]
mod common;
mod env;
mod explore;
mod lifecycle;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use env::Env;

/// The commands docs/simulator.md lists, in order.
fn documented_commands() -> Vec<String> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/simulator.md"))
            .expect("docs/simulator.md");
    let start = doc
        .find("<!-- everyday-kubectl:start -->")
        .expect("the start marker");
    let end = doc
        .find("<!-- everyday-kubectl:end -->")
        .expect("the end marker");
    doc[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split_once('`').map(|(cmd, _)| cmd.to_string()))
        .collect()
}

/// The kubectl that scripts/peers/build builds with Kubernetes, if it was built.
fn peers_kubectl() -> Option<PathBuf> {
    let versions = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/peers/versions"),
    )
    .ok()?;
    let version = versions
        .lines()
        .find_map(|l| l.strip_prefix("KUBERNETES_VERSION="))?
        .trim()
        .to_string();
    let cache = std::env::var_os("SMH_PEERS_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kubectl-smh/peers"))
        })?;
    let k = cache.join(format!("kubernetes-{version}")).join("kubectl");
    if k.is_file() {
        Some(k)
    } else {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIP: the peers build's kubectl {version} is not at {} (scripts/peers/build kubernetes builds it)",
            k.display()
        );
        None
    }
}

async fn everyday(kubectl: &Path) {
    let env = Env::start(kubectl).await;
    explore::run(&env).await;
    lifecycle::run(&env).await;
    let ran: BTreeSet<String> = env.ran().into_iter().collect();
    let documented: BTreeSet<String> = documented_commands().into_iter().collect();
    let undocumented: Vec<&String> = ran.difference(&documented).collect();
    let not_run: Vec<&String> = documented.difference(&ran).collect();
    assert!(
        undocumented.is_empty() && not_run.is_empty(),
        "docs/simulator.md's list of everyday kubectl commands and the test differ:\nrun but not listed: {undocumented:#?}\nlisted but not run: {not_run:#?}"
    );
    assert!(ran.len() >= 40, "only {} commands", ran.len());
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyday_kubectl_on_the_demo() {
    let Some(k) = common::peer("kubectl", "SMH_KUBECTL") else {
        return;
    };
    everyday(&k).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyday_kubectl_of_the_peers_build_on_the_demo() {
    let Some(k) = peers_kubectl() else {
        return;
    };
    everyday(&k).await;
}

#[test]
fn the_docs_list_at_least_forty_distinct_commands() {
    let cmds = documented_commands();
    let distinct: BTreeSet<&String> = cmds.iter().collect();
    assert_eq!(distinct.len(), cmds.len(), "listed twice: {cmds:#?}");
    assert!(cmds.len() >= 40, "{}", cmds.len());
}
