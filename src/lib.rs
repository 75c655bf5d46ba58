//! kubectl-smh: Service Mesh Hub style priority failover across Istio clusters.
//!
//! This crate is the `kubectl-smh` binary: [`cli`] (clap definitions and one handler per
//! command, the only code that prints or prompts) and [`render`] (pure: values in, strings
//! out). The layers below are crates of the workspace, each depending only on those below it:
//!
//! - `smh-core` (pure): the SMH model, Istio types, translation, the YAML writer, the
//!   inspection computations (describe, check, drift, status) and the drill's plan and state
//!   machine;
//! - `smh-cluster`: kube I/O (kubeconfig and clients, discovery, live state, apply, probes);
//! - `smh-drill`: the drill executor, on top of `smh-cluster`;
//! - `smh-sim`: simulated clusters served over the real Kubernetes HTTP API, behind the
//!   default-on cargo feature `demo`.

pub mod cli;
pub mod render;
