//! Istio's cluster ID: the name istiod gives its own cluster and the clusters of its remote
//! secrets. In multi-primary mode Istio labels every endpoint `topology.istio.io/cluster:
//! <ID>`, so per-cluster subsets must select on these IDs, not on kubeconfig contexts or
//! SMH cluster names.
//!
//! How istiod decides, and what this module reads:
//! - its own ID: the `--clusterID` flag of `pilot-discovery`, whose default is the
//!   `CLUSTER_ID` environment variable, whose default is `Kubernetes`. Istio's Helm chart
//!   sets `CLUSTER_ID` on the `discovery` container from
//!   `values.global.multiCluster.clusterName`, `Kubernetes` when that is not set;
//! - the IDs of other clusters: every Secret labelled `istio/multiCluster: "true"` in
//!   istiod's namespace (a *remote secret*, `istioctl create-remote-secret --name <ID>`)
//!   adds one cluster per data key, and the **data key** is that cluster's ID (the value is a
//!   kubeconfig for it). A key equal to istiod's own ID is ignored, and an ID already added
//!   by another secret is not added again. The annotation `networking.istio.io/cluster`
//!   that istioctl also writes is informational: istiod does not read it.

use k8s_openapi::api::core::v1::Container;

/// The environment variable istiod reads its cluster ID from.
pub(crate) const CLUSTER_ID_ENV: &str = "CLUSTER_ID";
/// The `pilot-discovery` flag that overrides [`CLUSTER_ID_ENV`].
pub(crate) const CLUSTER_ID_FLAG: &str = "--clusterID";
/// istiod's cluster ID when neither the flag nor the variable sets one.
pub const DEFAULT_CLUSTER_ID: &str = "Kubernetes";
/// The annotation `istioctl create-remote-secret` writes on a remote secret (the `--name`).
pub(crate) const REMOTE_SECRET_CLUSTER_ANNOTATION: &str = "networking.istio.io/cluster";
/// The Helm value that sets [`CLUSTER_ID_ENV`].
pub(crate) const CLUSTER_NAME_VALUE: &str = "values.global.multiCluster.clusterName";

/// What istiod's container says about its cluster ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterIdReading {
    /// The ID, and where it came from (in words).
    Known {
        /// The cluster ID.
        id: String,
        /// Where it came from, e.g. the `CLUSTER_ID` environment variable.
        source: String,
    },
    /// Why it cannot be told from the Deployment.
    Unknown {
        /// Why, in words.
        reason: String,
    },
}

/// The cluster ID of the istiod that runs `container` (its `discovery` container): the last
/// `--clusterID` argument, else the last `CLUSTER_ID` variable, else [`DEFAULT_CLUSTER_ID`].
/// Unknown when the value comes from somewhere this cannot read (`valueFrom`, `envFrom`,
/// a `$(VAR)` reference) or is empty.
pub fn istiod_cluster_id(container: &Container) -> ClusterIdReading {
    let args: Vec<&str> = container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .map(String::as_str)
        .collect();
    let mut flag: Option<&str> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if let Some(v) = a
            .strip_prefix(CLUSTER_ID_FLAG)
            .and_then(|r| r.strip_prefix('='))
        {
            flag = Some(v);
        } else if a == CLUSTER_ID_FLAG {
            flag = args.get(i + 1).copied();
            i += 1;
        }
        i += 1;
    }
    if let Some(v) = flag {
        return literal(v, &format!("the {CLUSTER_ID_FLAG} argument of istiod"));
    }
    let env = container
        .env
        .iter()
        .flatten()
        .rev()
        .find(|e| e.name == CLUSTER_ID_ENV);
    match env {
        Some(e) if e.value_from.is_some() => ClusterIdReading::Unknown {
            reason: format!("istiod's {CLUSTER_ID_ENV} is set from a valueFrom reference"),
        },
        Some(e) => literal(
            e.value.as_deref().unwrap_or_default(),
            &format!("istiod's {CLUSTER_ID_ENV} environment variable"),
        ),
        None if container.env_from.as_ref().is_some_and(|f| !f.is_empty()) => {
            ClusterIdReading::Unknown {
                reason: format!(
                    "istiod sets no {CLUSTER_ID_ENV} variable itself but takes variables from envFrom"
                ),
            }
        }
        None => ClusterIdReading::Known {
            id: DEFAULT_CLUSTER_ID.to_string(),
            source: format!(
                "Istio's default: istiod sets no {CLUSTER_ID_ENV} ({CLUSTER_NAME_VALUE} is not set)"
            ),
        },
    }
}

fn literal(value: &str, source: &str) -> ClusterIdReading {
    if value.is_empty() {
        ClusterIdReading::Unknown {
            reason: format!("{source} is empty"),
        }
    } else if value.contains("$(") {
        ClusterIdReading::Unknown {
            reason: format!("{source} refers to another variable ({value})"),
        }
    } else {
        ClusterIdReading::Known {
            id: value.to_string(),
            source: source.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{
        ConfigMapEnvSource, ConfigMapKeySelector, EnvFromSource, EnvVar, EnvVarSource,
    };

    use super::*;

    fn env(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Some(value.into()),
            value_from: None,
        }
    }

    fn discovery(args: &[&str], env: Vec<EnvVar>) -> Container {
        Container {
            name: "discovery".into(),
            args: Some(args.iter().map(|a| a.to_string()).collect()),
            env: Some(env),
            ..Default::default()
        }
    }

    fn known(id: &str) -> impl Fn(ClusterIdReading) -> bool + '_ {
        move |r| matches!(r, ClusterIdReading::Known { id: got, .. } if got == id)
    }

    #[test]
    fn env_then_flag_then_default() {
        let c = discovery(
            &["discovery", "--monitoringAddr=:15014"],
            vec![env("REVISION", "default"), env("CLUSTER_ID", "cluster1")],
        );
        assert_eq!(
            istiod_cluster_id(&c),
            ClusterIdReading::Known {
                id: "cluster1".into(),
                source: "istiod's CLUSTER_ID environment variable".into()
            }
        );
        // Kubernetes: the last of duplicate variables wins.
        let c = discovery(
            &[],
            vec![env("CLUSTER_ID", "first"), env("CLUSTER_ID", "second")],
        );
        assert!(known("second")(istiod_cluster_id(&c)));
        // The flag beats the variable, in both spellings; the last one wins.
        let c = discovery(
            &["discovery", "--clusterID", "flagged"],
            vec![env("CLUSTER_ID", "cluster1")],
        );
        assert!(known("flagged")(istiod_cluster_id(&c)));
        let c = discovery(
            &["discovery", "--clusterID=a", "--clusterID=b"],
            vec![env("CLUSTER_ID", "cluster1")],
        );
        assert!(known("b")(istiod_cluster_id(&c)));
        // Nothing set: Istio's default.
        let r = istiod_cluster_id(&discovery(&["discovery"], vec![]));
        assert!(known("Kubernetes")(r.clone()));
        let ClusterIdReading::Known { source, .. } = r else {
            unreachable!()
        };
        assert!(
            source.contains("values.global.multiCluster.clusterName"),
            "{source}"
        );
    }

    #[test]
    fn unreadable_ids_are_unknown() {
        let from_cm = EnvVar {
            name: "CLUSTER_ID".into(),
            value: None,
            value_from: Some(EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name: "x".into(),
                    key: "id".into(),
                    optional: None,
                }),
                ..Default::default()
            }),
        };
        for c in [
            discovery(&[], vec![from_cm]),
            discovery(&[], vec![env("CLUSTER_ID", "")]),
            discovery(&["--clusterID=$(MY_ID)"], vec![]),
            Container {
                env_from: Some(vec![EnvFromSource {
                    config_map_ref: Some(ConfigMapEnvSource {
                        name: "istiod-env".into(),
                        optional: None,
                    }),
                    ..Default::default()
                }]),
                ..discovery(&[], vec![])
            },
        ] {
            assert!(
                matches!(istiod_cluster_id(&c), ClusterIdReading::Unknown { .. }),
                "{c:?}"
            );
        }
        // An explicit variable beats envFrom (Kubernetes: env wins over envFrom).
        let c = Container {
            env_from: Some(vec![EnvFromSource::default()]),
            ..discovery(&[], vec![env("CLUSTER_ID", "c1")])
        };
        assert!(known("c1")(istiod_cluster_id(&c)));
    }
}
