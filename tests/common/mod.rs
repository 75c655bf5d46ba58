//! Helpers shared by the integration tests.
#![allow(dead_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;

pub(crate) mod backend;

/// A kubeconfig with no clusters, for tests that must not reach any cluster.
pub(crate) const EMPTY_KUBECONFIG: &str =
    "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\npreferences: {}\n";

/// Whether peers are required (`SMH_REQUIRE_PEERS=1`, as `.ci/run` sets): a missing peer then
/// fails the test instead of skipping it.
pub(crate) fn peers_required() -> bool {
    std::env::var("SMH_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Find a peer tool: `$env_var` if set, else `name` on PATH, else `extra` candidates.
/// Prints a SKIP line and returns None when it is missing, or panics when peers are required.
pub(crate) fn peer_with(name: &str, env_var: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        missing(name, &format!("{env_var}={} is not a file", p.display()));
        return None;
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    for candidate in extra {
        if candidate.is_file() {
            return Some(candidate.clone());
        }
    }
    let places: Vec<String> = extra.iter().map(|p| p.display().to_string()).collect();
    let why = if places.is_empty() {
        format!("not on PATH and {env_var} is not set")
    } else {
        format!(
            "not on PATH, not at {}, and {env_var} is not set",
            places.join(", ")
        )
    };
    missing(name, &why);
    None
}

/// The peers' cache (`scripts/peers/build` puts the binaries there):
/// `$SMH_PEERS_CACHE`, else `$XDG_CACHE_HOME/kubectl-smh/peers`, else
/// `~/.cache/kubectl-smh/peers`.
pub(crate) fn peers_cache() -> PathBuf {
    smh_real::peers::cache_dir()
}

/// kubectl of the pinned Kubernetes release, built by `scripts/peers/build kubernetes`:
/// `$SMH_KUBECTL` if set, else the peers' cache. Never whatever kubectl is on PATH, so every
/// test runs the same kubectl. Prints a SKIP line and returns None when it is missing, or
/// panics when peers are required.
pub(crate) fn kubectl() -> Option<PathBuf> {
    if std::env::var_os("SMH_KUBECTL").is_some_and(|p| !p.is_empty()) {
        return peer_with("kubectl", "SMH_KUBECTL", &[]);
    }
    let version = smh_real::peers::pinned("KUBERNETES_VERSION").unwrap_or("unknown");
    let p = peers_cache()
        .join(format!("kubernetes-{version}"))
        .join("kubectl");
    if p.is_file() {
        return Some(p);
    }
    missing(
        "kubectl",
        &format!(
            "not at {} and SMH_KUBECTL is not set; build it with `scripts/peers/build kubernetes`",
            p.display()
        ),
    );
    None
}

/// [`peer_with`] without extra candidates.
pub(crate) fn peer(name: &str, env_var: &str) -> Option<PathBuf> {
    peer_with(name, env_var, &[])
}

fn missing(name: &str, why: &str) {
    if peers_required() {
        panic!("peer `{name}` is required (SMH_REQUIRE_PEERS=1) but missing: {why}");
    }
    print_skip(&format!(
        "peer `{name}` missing ({why}); set SMH_REQUIRE_PEERS=1 to make this a failure"
    ));
}

/// Print `SKIP: {why}`, or panic when peers are required.
pub(crate) fn skip_or_fail(why: &str) {
    if peers_required() {
        panic!("SMH_REQUIRE_PEERS=1 but {why}");
    }
    print_skip(why);
}

fn print_skip(why: &str) {
    // Straight to the stderr handle: the test harness captures `eprintln!` of a passing
    // test, and a skip must be seen in a plain `cargo test`.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIP: {why}");
}

pub(crate) mod kubectls;
