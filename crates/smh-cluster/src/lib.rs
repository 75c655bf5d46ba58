//! smh-cluster: all kube I/O of kubectl-smh: kubeconfig and contexts, clients, errors a user
//! can act on, discovery of what each cluster runs into a [`smh_core::model::Topology`], the
//! live state, apply, probes. What it reads is judged by the pure functions of
//! `smh_core::inspect`.
//!
//! - [`context`]: the kubeconfig (read once), cluster name → context resolution, clients;
//! - [`registry`]: the `cluster register` file;
//! - [`error`]: [`ConfigError`] (exit 2) and [`ClusterError`] (exit 3);
//! - [`discovery`]: one concurrent sweep over all clusters → Topology;
//! - [`probe`]: probe requests through `pods/portforward`; [`failover_test`] sends them;
//! - [`labels`]: label selectors as list queries;
//! - [`retry`]: the retry layer of every client (what is safe to repeat, backoff, the log);
//! - [`state`]: the live state (SMH objects, topology, expected and live generated objects);
//! - [`inspect`]: the live state plus the extra reads → a `Snapshot`;
//! - [`apply`]: plan, server-side apply, prune, store SMH objects and status, diff.

pub mod apply;
pub mod context;
pub mod discovery;
pub mod error;
pub mod failover_test;
pub mod inspect;
pub mod labels;
pub mod probe;
pub mod registry;
pub mod retry;
pub mod state;

pub use context::{ClusterClient, ContextOptions, Contexts, KubeconfigOrigin, KubeconfigSet};
pub use error::{ApiOp, ClusterError, ConfigError};
pub use registry::Registry;
pub use smh_core::inspect::names::{ClusterName, ContextName};
pub use smh_core::inspect::target::{ClusterTarget, MappingSource, targets_banner};
