//! The cluster registry: a small YAML file mapping SMH cluster names to kubeconfig contexts,
//! written by `kubectl smh cluster register` and read by every command that resolves a
//! cluster name.
//!
//! Path: `$KUBECTL_SMH_CONFIG` when set (the file itself), else
//! `<user config dir>/kubectl-smh/clusters.yaml` (`$XDG_CONFIG_HOME` or `~/.config` on Linux,
//! `~/Library/Application Support` on macOS, `%APPDATA%` on Windows).
//!
//! ```yaml
//! # kubectl-smh cluster registry: SMH cluster name -> kubeconfig context.
//! clusters:
//! - name: remote-cluster
//!   context: gke_my-project_europe-west1_remote
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use smh_core::inspect::names::{ClusterName, ContextName};

/// Environment variable naming the registry file.
pub(crate) const REGISTRY_ENV: &str = "KUBECTL_SMH_CONFIG";

const HEADER: &str = "# kubectl-smh cluster registry: SMH cluster name -> kubeconfig context.\n\
                      # Edit with `kubectl smh cluster register|deregister`.\n";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    clusters: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: ClusterName,
    context: ContextName,
}

/// The registry, loaded from its file (an absent file is an empty registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    path: PathBuf,
    entries: BTreeMap<ClusterName, ContextName>,
}

impl Registry {
    /// Where the registry lives: `$KUBECTL_SMH_CONFIG`, else the user config directory.
    pub(crate) fn default_path() -> Result<PathBuf, ConfigError> {
        if let Some(p) = std::env::var_os(REGISTRY_ENV).filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        dirs::config_dir()
            .map(|d| d.join("kubectl-smh").join("clusters.yaml"))
            .ok_or(ConfigError::NoConfigDir)
    }

    /// Loads the registry from its default path.
    pub fn load_default() -> Result<Self, ConfigError> {
        Self::load(&Self::default_path()?)
    }

    /// An empty registry that would be saved at `path`.
    pub fn empty(path: impl Into<PathBuf>) -> Self {
        Registry {
            path: path.into(),
            entries: BTreeMap::new(),
        }
    }

    /// Loads the registry at `path`; a missing file is an empty registry.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |detail: String| ConfigError::Registry {
            path: path.to_path_buf(),
            detail,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::empty(path));
            }
            Err(e) => return Err(err(format!("cannot read: {e}"))),
        };
        let file: RegistryFile = if text.trim().is_empty() {
            RegistryFile::default()
        } else {
            serde_saphyr::from_str(&text).map_err(|e| err(format!("invalid YAML: {e}")))?
        };
        let mut entries = BTreeMap::new();
        for (i, e) in file.clusters.into_iter().enumerate() {
            e.name
                .validate()
                .map_err(|m| err(format!("clusters[{i}].name: {m}")))?;
            if e.context.as_str().is_empty() {
                return Err(err(format!("clusters[{i}].context: must not be empty")));
            }
            if entries.contains_key(&e.name) {
                return Err(err(format!(
                    "clusters[{i}].name: cluster {} is listed twice",
                    e.name
                )));
            }
            entries.insert(e.name, e.context);
        }
        Ok(Registry {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The registry file (it may not exist yet).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The context registered for `cluster`.
    pub fn get(&self, cluster: &ClusterName) -> Option<&ContextName> {
        self.entries.get(cluster)
    }

    /// All entries, sorted by cluster name.
    pub fn entries(&self) -> impl Iterator<Item = (&ClusterName, &ContextName)> {
        self.entries.iter()
    }

    /// Whether no cluster is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Maps `cluster` to `context`; returns the context it was mapped to before.
    pub fn insert(&mut self, cluster: ClusterName, context: ContextName) -> Option<ContextName> {
        self.entries.insert(cluster, context)
    }

    /// Removes `cluster`; returns the context it was mapped to.
    pub fn remove(&mut self, cluster: &ClusterName) -> Option<ContextName> {
        self.entries.remove(cluster)
    }

    /// The file's text.
    pub fn to_yaml(&self) -> Result<String, ConfigError> {
        let file = RegistryFile {
            clusters: self
                .entries
                .iter()
                .map(|(name, context)| Entry {
                    name: name.clone(),
                    context: context.clone(),
                })
                .collect(),
        };
        let body = serde_saphyr::to_string(&file).map_err(|e| ConfigError::Registry {
            path: self.path.clone(),
            detail: format!("cannot serialize: {e}"),
        })?;
        Ok(format!("{HEADER}{body}"))
    }

    /// Writes the registry atomically: a temporary file in the same directory, then a
    /// rename over the old file. Creates the directory when needed.
    pub fn save(&self) -> Result<(), ConfigError> {
        let err = |detail: String| ConfigError::Registry {
            path: self.path.clone(),
            detail,
        };
        let text = self.to_yaml()?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| err(format!("cannot create directory {}: {e}", dir.display())))?;
        let file_name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "clusters.yaml".to_string());
        let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            Ok(())
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(format!("cannot write {}: {e}", tmp.display())));
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            err(format!("cannot replace the file: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_empty_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("clusters.yaml");
        let mut reg = Registry::load(&path).unwrap();
        assert!(reg.is_empty());
        assert_eq!(
            reg.insert("remote-cluster".into(), "ctx-remote".into()),
            None
        );
        assert_eq!(reg.insert("mgmt-cluster".into(), "ctx-mgmt".into()), None);
        reg.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# kubectl-smh cluster registry"));
        let again = Registry::load(&path).unwrap();
        assert_eq!(again, reg);
        let names: Vec<_> = again.entries().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["mgmt-cluster", "remote-cluster"]);
        // No temporary file is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn bad_files_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clusters.yaml");
        for (text, want) in [
            (
                "clusters:\n- name: Bad_Name\n  context: x\n",
                "clusters[0].name",
            ),
            (
                "clusters:\n- name: a\n  context: x\n- name: a\n  context: y\n",
                "listed twice",
            ),
            (
                "clusters:\n- name: a\n  context: \"\"\n",
                "clusters[0].context",
            ),
            ("clusters:\n- name: a\n  contxt: x\n", "invalid YAML"),
            ("clusters: [\n", "invalid YAML"),
        ] {
            std::fs::write(&path, text).unwrap();
            let e = Registry::load(&path).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
            assert!(e.contains(&path.display().to_string()), "{e}");
        }
    }
}
