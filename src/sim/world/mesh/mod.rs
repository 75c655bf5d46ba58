//! The mesh data plane: a model of an Istio sidecar (Envoy) on the client side.
//!
//! A pure, clock-injected core — [`istio::build`] turns the Istio objects stored in the
//! client's cluster plus the endpoints of every cluster into a [`xds::ProxyConfig`], and
//! [`proxy::Proxy`] runs it (routing, priorities, outlier detection, retries) — and a thin
//! async shell, [`sidecar::Sidecar`], that collects those inputs from the simulated clusters
//! and sends real HTTP requests to the chosen pods over loopback.

pub mod istio;
pub mod outlier;
pub mod proxy;
pub mod rng;
pub mod xds;
