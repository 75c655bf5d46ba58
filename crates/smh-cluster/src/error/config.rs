//! [`ConfigError`]: the kubeconfig, the cluster-name mapping or the registry is wrong (exit 2).

use std::path::PathBuf;

use smh_core::inspect::names::{ClusterName, ContextName};

/// The kubeconfig, the cluster-name mapping or the registry is wrong. Exit code 2; nothing
/// was sent to any cluster.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A kubeconfig file named by --kubeconfig or KUBECONFIG does not exist.
    #[error("kubeconfig {path} does not exist (from {from})")]
    KubeconfigMissing {
        /// The file.
        path: PathBuf,
        /// Where the path came from (`--kubeconfig`, `KUBECONFIG`).
        from: &'static str,
    },

    /// A kubeconfig file cannot be read or parsed.
    #[error("cannot read kubeconfig {path}: {detail}")]
    KubeconfigRead {
        /// The file.
        path: PathBuf,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// No kubeconfig file at all.
    #[error(
        "no kubeconfig found (looked at {}); pass --kubeconfig PATH or set KUBECONFIG",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoKubeconfig {
        /// The files looked at.
        tried: Vec<PathBuf>,
    },

    /// No --mgmt-context and the kubeconfig sets no current context.
    #[error(
        "the kubeconfig ({}) sets no current context; pass --mgmt-context CTX (contexts: {})",
        files_list(files),
        names_list(available)
    )]
    NoCurrentContext {
        /// The kubeconfig files read.
        files: Vec<PathBuf>,
        /// The contexts the kubeconfig has.
        available: Vec<ContextName>,
    },

    /// A context name that is not in the kubeconfig.
    #[error(
        "context \"{context}\"{} is not in the kubeconfig ({}); the contexts are: {}",
        from_suffix(from),
        files_list(files),
        names_list(available)
    )]
    ContextNotFound {
        /// The context.
        context: ContextName,
        /// Where the context name came from (`--mgmt-context`, `--cluster a=b`, the registry).
        from: String,
        /// The kubeconfig files read.
        files: Vec<PathBuf>,
        /// The contexts the kubeconfig has.
        available: Vec<ContextName>,
    },

    /// A cluster name that no --cluster flag, registry entry or context maps.
    #[error(
        "cluster \"{cluster}\" has no kubeconfig context: it is not mapped by --cluster or the \
         registry ({registry}), and no context has that name. Map it with `--cluster \
         {cluster}=CTX` or `kubectl smh cluster register {cluster} --context CTX`; the \
         contexts are: {}",
        names_list(available)
    )]
    ClusterUnmapped {
        /// The SMH cluster name.
        cluster: ClusterName,
        /// The registry file consulted.
        registry: PathBuf,
        /// The contexts the kubeconfig has.
        available: Vec<ContextName>,
    },

    /// A --cluster flag that is not NAME=CTX.
    #[error(
        "invalid --cluster {value:?}: {reason}; expected NAME=CTX, e.g. --cluster remote-cluster=my-remote-context"
    )]
    ClusterFlag {
        /// The flag's value as given.
        value: String,
        /// The `Status` reason (may be empty).
        reason: String,
    },

    /// The context cannot be turned into a client configuration.
    #[error("context {context} in {}: {detail}", file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "the kubeconfig".into()))]
    ClientConfig {
        /// The context.
        context: ContextName,
        /// The kubeconfig file the context comes from, when known.
        file: Option<PathBuf>,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// The credentials could not be obtained (exec plugin, auth provider).
    #[error(
        "could not get credentials for context {context}{}: {detail}; check the user's exec \
         plugin, token file or auth provider",
        file.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default()
    )]
    Credentials {
        /// The context.
        context: ContextName,
        /// The kubeconfig file the context comes from, when known.
        file: Option<PathBuf>,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// The cluster registry file cannot be read or written.
    #[error("cluster registry {path}: {detail}")]
    Registry {
        /// The file.
        path: PathBuf,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// No place for the cluster registry: no user configuration directory.
    #[error(
        "cannot find the cluster registry: no user configuration directory; set \
         KUBECTL_SMH_CONFIG to the path of the registry file"
    )]
    NoConfigDir,
}

fn names_list<T: std::fmt::Display>(names: &[T]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn files_list(files: &[PathBuf]) -> String {
    if files.is_empty() {
        "no file".to_string()
    } else {
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn from_suffix(from: &str) -> String {
    if from.is_empty() {
        String::new()
    } else {
        format!(" (from {from})")
    }
}
