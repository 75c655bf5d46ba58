//! Simulated Kubernetes clusters running Istio and bookinfo, served over the real Kubernetes
//! HTTP API (DESIGN §5).

pub mod net;
pub mod store;
pub mod world;
