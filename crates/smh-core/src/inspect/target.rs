//! A [`ClusterTarget`]: one cluster this run talks to, as the user must see it before
//! anything is changed (a command that writes names every cluster it writes to, since a
//! wrong context is the easiest mistake to make): SMH cluster name, kubeconfig context, API
//! server URL. Never credentials.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use super::names::{ClusterName, ContextName};

/// How a cluster name was mapped to its context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MappingSource {
    /// `--cluster NAME=CTX` on the command line.
    Flag,
    /// `kubectl smh cluster register NAME --context CTX`.
    Registry,
    /// A kubeconfig context with the same name as the cluster.
    SameName,
    /// `--mgmt-context`, or the current context.
    Mgmt,
}

impl fmt::Display for MappingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MappingSource::Flag => "flag",
            MappingSource::Registry => "registry",
            MappingSource::SameName => "same-name",
            MappingSource::Mgmt => "mgmt",
        })
    }
}

/// One cluster a command talks to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterTarget {
    /// The SMH cluster name, when the target is a named cluster (the management cluster
    /// has one only when a named cluster resolves to the same context).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterName>,
    /// The kubeconfig context used for it.
    pub context: ContextName,
    /// The API server URL from the kubeconfig, without any user-info part.
    pub server: String,
    /// Whether this is the management cluster (where SMH objects are stored).
    pub mgmt: bool,
    /// How the cluster name was mapped to the context.
    pub source: MappingSource,
    /// The kubeconfig file the context came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<PathBuf>,
}

impl ClusterTarget {
    /// The name to show for this target: the cluster name, else the context name.
    pub fn display_name(&self) -> &str {
        match &self.cluster {
            Some(c) => c.as_str(),
            None => self.context.as_str(),
        }
    }

    /// The cluster name to key results by: the cluster name, else the context name.
    pub fn key(&self) -> ClusterName {
        match &self.cluster {
            Some(c) => c.clone(),
            None => ClusterName::new(self.context.as_str()),
        }
    }
}

/// `cluster remote-cluster (context remote-cluster, https://10.0.0.2:6443)`, or for the
/// management cluster without a cluster name `management cluster (context mgmt, https://...)`.
impl fmt::Display for ClusterTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.cluster, self.mgmt) {
            (Some(c), true) => write!(
                f,
                "cluster {c} (management; context {}, {})",
                self.context, self.server
            ),
            (Some(c), false) => {
                write!(f, "cluster {c} (context {}, {})", self.context, self.server)
            }
            (None, _) => write!(
                f,
                "management cluster (context {}, {})",
                self.context, self.server
            ),
        }
    }
}

/// The lines a mutating command prints before it changes anything:
///
/// ```text
/// These contexts and API servers will be changed:
///   mgmt-cluster    (management)  context mgmt-cluster    https://127.0.0.1:40123
///   remote-cluster                context remote-cluster  https://127.0.0.1:40124
/// ```
///
/// Pure: returns the text; the caller prints it (on stderr, so `-o yaml` stays clean).
pub fn targets_banner(targets: &[ClusterTarget], heading: &str) -> String {
    let name_w = targets
        .iter()
        .map(|t| t.display_name().len())
        .max()
        .unwrap_or(0);
    let ctx_w = targets
        .iter()
        .map(|t| t.context.as_str().len())
        .max()
        .unwrap_or(0);
    let any_mgmt = targets.iter().any(|t| t.mgmt);
    let mut out = String::new();
    out.push_str(heading);
    out.push('\n');
    for t in targets {
        let mut cols = vec![format!("{:name_w$}", t.display_name())];
        if any_mgmt {
            let role = if t.mgmt { "(management)" } else { "" };
            cols.push(format!("{role:12}"));
        }
        cols.push(format!("context {:ctx_w$}", t.context.as_str()));
        cols.push(t.server.clone());
        out.push_str("  ");
        out.push_str(cols.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Removes a `user:password@` part from a URL, so a server address can be printed.
pub fn redact_server(server: &str) -> String {
    if let Some(scheme_end) = server.find("://") {
        let rest = &server[scheme_end + 3..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{}{}", &server[..scheme_end + 3], &rest[at + 1..]);
        }
    }
    server.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(cluster: Option<&str>, ctx: &str, server: &str, mgmt: bool) -> ClusterTarget {
        ClusterTarget {
            cluster: cluster.map(ClusterName::from),
            context: ContextName::from(ctx),
            server: server.to_string(),
            mgmt,
            source: MappingSource::SameName,
            kubeconfig: None,
        }
    }

    #[test]
    fn display_names_cluster_context_and_server() {
        assert_eq!(
            t(
                Some("remote-cluster"),
                "remote-ctx",
                "https://10.0.0.2:6443",
                false
            )
            .to_string(),
            "cluster remote-cluster (context remote-ctx, https://10.0.0.2:6443)"
        );
        assert_eq!(
            t(None, "mgmt", "https://10.0.0.1", true).to_string(),
            "management cluster (context mgmt, https://10.0.0.1)"
        );
        assert_eq!(
            t(Some("mgmt-cluster"), "mgmt", "https://10.0.0.1", true).to_string(),
            "cluster mgmt-cluster (management; context mgmt, https://10.0.0.1)"
        );
    }

    #[test]
    fn banner_is_aligned() {
        let banner = targets_banner(
            &[
                t(Some("mgmt-cluster"), "mgmt-cluster", "https://a:1", true),
                t(Some("remote-cluster"), "remote-ctx", "https://b:2", false),
            ],
            "These contexts and API servers will be changed:",
        );
        assert_eq!(
            banner,
            "These contexts and API servers will be changed:\n\
             \x20 mgmt-cluster    (management)  context mgmt-cluster  https://a:1\n\
             \x20 remote-cluster                context remote-ctx    https://b:2\n"
        );
        let no_mgmt = targets_banner(&[t(Some("a"), "ctx-a", "https://a:1", false)], "H:");
        assert_eq!(no_mgmt, "H:\n  a  context ctx-a  https://a:1\n");
    }

    #[test]
    fn redacts_user_info() {
        assert_eq!(redact_server("https://u:p@h:6443/x"), "https://h:6443/x");
        assert_eq!(redact_server("https://h:6443"), "https://h:6443");
        assert_eq!(redact_server("https://h:6443/a@b"), "https://h:6443/a@b");
        assert_eq!(redact_server("not a url"), "not a url");
    }
}
