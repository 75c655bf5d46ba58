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
//! `SMH_REQUIRE_PEERS=1`), and also the kubectl that `scripts/peers/build kubernetes` builds
//! (found as every other test finds it, with the same SKIP line or failure).

#[path = "../common/mod.rs"]
mod common;
mod env;
mod explore;
mod lifecycle;

use std::collections::BTreeSet;
use std::path::Path;

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
    let Some(k) = common::kubectl() else {
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
