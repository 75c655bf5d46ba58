//! Translation tests: golden files, the guide's object set, and the real peers (Envoy,
//! Istio's CRD schemas) that check the generated configuration.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

mod translate {
    pub(crate) mod support;

    mod ambient;
    mod cli;

    mod envoy;
    mod golden;
    mod guide;
    mod istio_crds;
    mod istio_envoy;
    mod schema;
}
