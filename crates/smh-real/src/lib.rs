//! Real Kubernetes control planes on loopback, seeded like `kubectl smh demo up`, for the
//! tests and for `scripts/real-clusters up`.
//!
//! Each cluster is etcd + kube-apiserver (TLS, client-certificate authentication,
//! `--authorization-mode=Node,RBAC`, admission on) + kube-controller-manager +
//! kube-scheduler, built from Go modules by `scripts/peers/build` ([`peers`]), run and stopped
//! by a [`procs::Supervisor`]. A node agent ([`agent`], [`kubelet`]) plays the kubelet: it
//! registers the cluster's node, reports the status of the pods the real scheduler binds to
//! it, and serves the kubelet API (port-forward) and Istio's sidecar injection webhook. The
//! pods' applications are the simulator's bookinfo workloads and modelled sidecars, running
//! on a mirror of each cluster's objects ([`mirror`]) and listening on the pods' own loopback
//! IPs; the simulator's data-plane model routes by the Istio objects and endpoints of those
//! mirrors, so failover crosses the two real clusters.
//!
//! - [`pki`]: the cluster CA and every certificate;
//! - [`plane`]: one control plane's files, ports and processes;
//! - [`seed`]: the demo's objects written through the real API server;
//! - [`fleet`]: the two clusters together ([`fleet::RealFleet`]).

pub mod agent;
pub mod fleet;
pub mod kubelet;
pub mod mirror;
pub mod peers;
pub mod pki;
pub mod plane;
pub mod procs;
pub mod seed;
