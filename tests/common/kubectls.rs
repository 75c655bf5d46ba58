//! Every real kubectl on this machine that the tests can run, each with its client version:
//! `$SMH_KUBECTL` or `kubectl` on PATH; the `kubectl.1.NN` binaries next to it (Google Cloud
//! SDK's dispatcher ships one per minor and runs the one matching the server); and the peers
//! build (`scripts/peers/build kubernetes`) of the version pinned in `scripts/peers/versions`.
//! With `SMH_REQUIRE_PEERS=1`, a missing PATH kubectl or peers build is a failure.

use std::path::{Path, PathBuf};

/// One kubectl binary and its client version (`v1.36.3`).
#[derive(Debug, Clone)]
pub(crate) struct Kubectl {
    pub(crate) path: PathBuf,
    pub(crate) version: String,
}

impl Kubectl {
    /// The minor version (36 for `v1.36.3`).
    pub(crate) fn minor(&self) -> u32 {
        self.version
            .trim_start_matches('v')
            .split('.')
            .nth(1)
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

/// The client version `kubectl version --client -o json` reports.
fn client_version(path: &Path) -> Option<String> {
    let out = std::process::Command::new(path)
        .args(["version", "--client", "-o", "json"])
        .env("KUBECONFIG", "/dev/null")
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.pointer("/clientVersion/gitVersion")?
        .as_str()
        .map(str::to_string)
}

/// The kubectl the peers build made, where `scripts/peers/build` caches it.
pub(crate) fn peers_kubectl() -> PathBuf {
    let version = smh_real::peers::pinned("KUBERNETES_VERSION")
        .expect("scripts/peers/versions names KUBERNETES_VERSION");
    super::peers_cache()
        .join(format!("kubernetes-{version}"))
        .join("kubectl")
}

/// Every distinct kubectl found, oldest first (SKIP lines for the missing required ones).
pub(crate) fn all() -> Vec<Kubectl> {
    let mut paths = Vec::new();
    if let Some(k) = super::peer("kubectl", "SMH_KUBECTL") {
        // The dispatcher's per-minor binaries live next to its real path.
        if let Some(dir) = std::fs::canonicalize(&k)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            let mut minors: Vec<PathBuf> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.strip_prefix("kubectl.1."))
                        .is_some_and(|m| m.parse::<u32>().is_ok())
                })
                .collect();
            minors.sort();
            paths.extend(minors);
        }
        paths.push(k);
    }
    let peers = peers_kubectl();
    if peers.is_file() {
        paths.push(peers);
    } else {
        super::skip_or_fail(&format!(
            "the peers build's kubectl is missing at {} (run `scripts/peers/build kubernetes`)",
            peers.display()
        ));
    }
    let mut found: Vec<Kubectl> = Vec::new();
    for path in paths {
        let Some(version) = client_version(&path) else {
            super::skip_or_fail(&format!(
                "{} does not report a client version",
                path.display()
            ));
            continue;
        };
        // The dispatcher reports its own version; keep it, it runs its newest minor.
        if !found.iter().any(|k| k.version == version) {
            found.push(Kubectl { path, version });
        }
    }
    found.sort_by_key(Kubectl::minor);
    found
}
