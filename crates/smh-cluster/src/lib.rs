//! All kube I/O: kubeconfig and contexts, clients, errors a user can act on, discovery of
//! what each cluster runs into a [`crate::model::Topology`], probes.
//!
//! - [`context`]: the kubeconfig (read once), cluster name → context resolution, clients;
//! - [`registry`]: the `cluster register` file;
//! - [`target`]: what the user sees before anything changes;
//! - [`error`]: [`ConfigError`] (exit 2) and [`ClusterError`] (exit 3);
//! - [`discovery`]: one concurrent sweep over all clusters → Topology;
//! - [`cluster_id`]: Istio cluster IDs and remote secrets across clusters (pure);
//! - [`probe`]: probe requests through `pods/portforward`;
//! - [`state`]: the live state (SMH objects, topology, expected and live generated objects);
//! - [`status`]: SMH status as SMH's controller wrote it (pure);
//! - [`apply`]: plan, server-side apply, prune, store SMH objects and status, diff.

pub mod apply;
pub mod check;
pub mod cluster_id;
pub mod context;
pub mod describe;
pub mod discovery;
pub mod drift;
pub mod error;
pub mod failover_test;
pub mod inspect;
pub mod labels;
pub mod names;
pub mod probe;
pub mod registry;
pub mod state;
pub mod status;
pub mod target;

pub use context::{ClusterClient, ContextOptions, Contexts, KubeconfigOrigin, KubeconfigSet};
pub use error::{ApiOp, ClusterError, ConfigError};
pub use names::{ClusterName, ContextName};
pub use registry::Registry;
pub use target::{MappingSource, Target, targets_banner};
