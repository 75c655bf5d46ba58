//! Newtypes for the two names that are easiest to mix up: the SMH cluster name used in
//! manifests (`clusterName: remote-cluster`) and the kubeconfig context that serves it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An SMH cluster name, as manifests use it in `clusterName`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClusterName(String);

/// A kubeconfig context name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContextName(String);

impl ClusterName {
    /// Wraps a name as given; [`ClusterName::validate`] checks it.
    pub fn new(name: impl Into<String>) -> Self {
        ClusterName(name.into())
    }
    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Checks that the name can be used as an SMH cluster name: a DNS-1123 subdomain
    /// (lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit),
    /// as SMH's KubernetesCluster objects required, of at most 63 characters: the name is the
    /// value of the label `cluster.multicluster.solo.io` on every object generated for the
    /// cluster, and a label value has at most 63.
    pub fn validate(&self) -> Result<(), String> {
        let s = &self.0;
        if s.is_empty() {
            return Err("a cluster name must not be empty".to_string());
        }
        let max = crate::model::limits::CLUSTER_NAME_MAX;
        if s.len() > max {
            return Err(format!(
                "cluster name {s:?} is {} characters long; the limit is {max} (the name becomes the value of the label cluster.multicluster.solo.io)",
                s.len()
            ));
        }
        let ok_char =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        if !s.chars().all(ok_char)
            || !s.chars().next().is_some_and(alnum)
            || !s.chars().last().is_some_and(alnum)
        {
            return Err(format!(
                "cluster name {s:?} is not a DNS-1123 subdomain: use lowercase letters, digits, \
                 '-' and '.', starting and ending with a letter or digit"
            ));
        }
        Ok(())
    }
}

impl ContextName {
    /// Wraps a context name as the kubeconfig spells it.
    pub fn new(name: impl Into<String>) -> Self {
        ContextName(name.into())
    }
    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClusterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ContextName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ClusterName {
    fn from(s: &str) -> Self {
        ClusterName(s.to_string())
    }
}

impl From<&str> for ContextName {
    fn from(s: &str) -> Self {
        ContextName(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_name_validation() {
        for good in [
            "mgmt-cluster",
            "remote-cluster",
            "a",
            "us-east-1.prod",
            "c0",
            &"x".repeat(63),
        ] {
            assert_eq!(ClusterName::from(good).validate(), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Mgmt",
            "-a",
            "a-",
            "a_b",
            "a b",
            "a/b",
            &"x".repeat(64),
            &"x".repeat(254),
        ] {
            assert!(ClusterName::from(bad).validate().is_err(), "{bad:?}");
        }
    }
}
