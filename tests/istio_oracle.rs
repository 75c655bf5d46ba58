//! Real Istio as the oracle of translation, in `cargo test`: `scripts/istio-oracle` (istiod's
//! own translation, built from the pinned `istio.io/istio` module) on what `kubectl smh
//! translate` generates for the guide and `examples/all-fields`, in both multi-cluster modes,
//! and for the guide in an ambient mesh (the waypoint's configuration), on one network and
//! across two (`AMBIENT_ENABLE_MULTI_NETWORK`, east-west gateways);
//! the same inputs through the simulator's model of istiod and Envoy must give the same
//! configuration; and `scripts/istio-validate` (Istio's webhook checks and analyzers).
//! Each test prints a SKIP line when the Istio peers are not built (`scripts/peers/build
//! istio`), and fails instead under `SMH_REQUIRE_PEERS=1`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

mod istio_oracle {
    pub(crate) mod support;

    mod ambient;
    mod ambient_multinetwork;
    mod istio;
    mod model;
    mod model_waypoint;
    mod native;
    mod validate;
}
