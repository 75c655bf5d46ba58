//! Where the peer binaries are: `scripts/peers/build kubernetes etcd` builds them from the Go
//! module proxy into `<cache>/kubernetes-<version>/` and `<cache>/etcd-<version>/`, with the
//! versions pinned in `scripts/peers/versions` and `<cache>` =
//! `$SMH_PEERS_CACHE`, else `$XDG_CACHE_HOME/kubectl-smh/peers`, else
//! `~/.cache/kubectl-smh/peers`.

use std::path::{Path, PathBuf};

/// The pinned versions file, compiled in.
const VERSIONS: &str = include_str!("../../../scripts/peers/versions");

/// The pinned version of a peer (`KUBERNETES_VERSION`, `ETCD_VERSION`).
pub fn pinned(key: &str) -> Option<&'static str> {
    VERSIONS.lines().find_map(|l| {
        let (k, v) = l.trim().split_once('=')?;
        (k == key).then_some(v.trim())
    })
}

/// The peers' cache directory.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SMH_PEERS_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    base.join("kubectl-smh").join("peers")
}

/// The binaries a control plane runs.
#[derive(Debug, Clone)]
pub struct Peers {
    /// `kube-apiserver`.
    pub kube_apiserver: PathBuf,
    /// `kube-controller-manager`.
    pub kube_controller_manager: PathBuf,
    /// `kube-scheduler`.
    pub kube_scheduler: PathBuf,
    /// `kubectl` of the same release.
    pub kubectl: PathBuf,
    /// `etcd`.
    pub etcd: PathBuf,
}

/// A peer binary is missing.
#[derive(Debug, thiserror::Error)]
#[error(
    "{binary} not found at {path}: build the peers first with `scripts/peers/build kubernetes etcd` (from the Go module proxy; the binaries are cached in {cache})"
)]
pub struct Missing {
    /// Which binary.
    pub binary: String,
    /// Where it was looked for.
    pub path: String,
    /// The cache directory.
    pub cache: String,
}

impl Peers {
    /// The binaries in the peers' cache at the pinned versions.
    pub fn locate() -> Result<Peers, Missing> {
        Self::locate_in(&cache_dir())
    }

    /// The binaries under `cache`.
    pub fn locate_in(cache: &Path) -> Result<Peers, Missing> {
        let kube = cache.join(format!(
            "kubernetes-{}",
            pinned("KUBERNETES_VERSION").unwrap_or("unknown")
        ));
        let etcd = cache.join(format!(
            "etcd-{}",
            pinned("ETCD_VERSION").unwrap_or("unknown")
        ));
        let find = |dir: &Path, name: &str| -> Result<PathBuf, Missing> {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(Missing {
                    binary: name.to_string(),
                    path: p.display().to_string(),
                    cache: cache.display().to_string(),
                })
            }
        };
        Ok(Peers {
            kube_apiserver: find(&kube, "kube-apiserver")?,
            kube_controller_manager: find(&kube, "kube-controller-manager")?,
            kube_scheduler: find(&kube, "kube-scheduler")?,
            kubectl: find(&kube, "kubectl")?,
            etcd: find(&etcd, "etcd")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_pinned_and_a_missing_binary_names_the_build_script() {
        assert!(pinned("KUBERNETES_VERSION").unwrap().starts_with("v1."));
        assert!(pinned("ETCD_VERSION").unwrap().starts_with("v3."));
        let dir = tempfile::tempdir().unwrap();
        let err = Peers::locate_in(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("kube-apiserver not found at "), "{err}");
        assert!(err.contains("scripts/peers/build kubernetes etcd"), "{err}");
    }
}
