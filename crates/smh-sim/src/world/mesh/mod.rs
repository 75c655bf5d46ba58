//! The mesh data plane: a model of an Istio sidecar (Envoy) on the client side, and of
//! ambient mode's ztunnel and waypoints ([`ztunnel`]), whose Envoy is the same model.
//!
//! A pure, clock-injected core — [`istio::build`] turns the Istio objects stored in the
//! client's cluster plus the endpoints of every cluster into a [`xds::ProxyConfig`], and
//! [`proxy::Proxy`] runs it (routing, priorities, outlier detection, retries) — and a thin
//! async shell: [`inputs::collect`] reads those inputs from the fleet's stores and
//! [`sidecar::Sidecar`] sends real HTTP requests to the chosen pods over loopback.

pub mod envoy_view;
pub mod inputs;
pub(crate) mod istio;
pub(crate) mod outlier;
pub(crate) mod proxy;
pub(crate) mod rng;
pub mod scenario;
pub(crate) mod sidecar;
pub(crate) mod xds;
pub(crate) mod ztunnel;
