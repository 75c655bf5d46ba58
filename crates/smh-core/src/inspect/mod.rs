//! Judging what the clusters hold, purely: the cluster I/O crate collects the data (SMH
//! objects, discovery's objects, live generated objects, endpoints), these modules judge it.
//!
//! - [`names`] and [`target`]: SMH cluster names, context names, and the cluster a command
//!   talks to (what the user sees before anything changes);
//! - [`discovery`]: one cluster's objects → its Topology entry and facts;
//! - [`state`]: the pure side of the live state (topology cache, manifests, merging);
//! - [`snapshot`]: what `describe`, `check` and `failover test` judge;
//! - [`describe`], [`check`], [`drift`], [`status`], [`cluster_id`], [`failover_test`]: the
//!   reports.

pub mod check;
pub mod cluster_id;
pub mod describe;
pub mod discovery;
pub mod drift;
pub mod failover_test;
pub mod names;
pub mod snapshot;
pub mod state;
pub mod status;
pub mod target;

pub use names::{ClusterName, ContextName};
pub use target::{ClusterTarget, MappingSource, targets_banner};
