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
//!
//! This library target exists so that the integration tests and benches (`tests/`,
//! `benches/`) can call the command handlers and renderers in process; it is not an API for
//! other crates, and its items are documented for the reader of the code, not for rustdoc.
#![allow(
    missing_docs,
    reason = "the binary's own code, public only for its tests and benches: not a library API"
)]

pub mod cli;
pub mod render;
