//! Simulated Kubernetes clusters running Istio and bookinfo, served over the real Kubernetes
//! HTTP API, so that kubectl and kube-rs clients talk to them as to real ones.
//!
//! - [`store`]: one cluster's objects, resourceVersions and watch history.
//! - [`net`]: the simulated pod network (pod IPs → loopback sockets).
//! - [`logs`]: what the containers write, for `kubectl logs`.
//! - [`api`]: the API server (HTTP routing over [`api::ApiCore`]'s semantics).
//! - [`faults`]: injected latency, errors and unreachable servers.
//! - [`ready`]: when clusters are ready to use (Deployments available, Endpoints current).
//! - [`cluster`]: one running cluster ([`cluster::SimCluster`]).
//! - [`fleet`]: several clusters, start hooks for in-process behaviour, the kubeconfig
//!   ([`fleet::SimFleet`]); [`fleet::bookinfo_world`] attaches [`world`].
//! - [`world`]: what runs inside a cluster: controllers, bookinfo, istiod, the mesh data plane.

pub mod api;
pub mod cluster;
pub mod faults;
pub mod fleet;
pub mod logs;
pub mod net;
pub mod ready;
pub mod store;
pub mod world;
