//! SMH v1alpha2 model: types, parsing, the Topology, validation. Pure: no network, no tokio.

pub mod build;
pub mod crd;
pub mod diag;
pub mod duration;
pub mod k8s;
pub mod limits;
pub mod naming;
pub mod parse;
pub mod report;
pub mod select;
pub mod topology;
pub mod types;
pub mod validate;
pub mod yaml_reader;
pub mod zero_loss;

pub use diag::{Diagnostic, ObjectId, Severity, Source, StatusTarget};
pub use topology::Topology;
pub use types::{FailoverService, TrafficPolicy};

/// One SMH object read from input. Inputs hold a handful of these, so the size difference
/// between the variants costs nothing worth a `Box`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SmhObject {
    /// A FailoverService.
    FailoverService(FailoverService),
    /// A TrafficPolicy.
    TrafficPolicy(TrafficPolicy),
}

/// An object and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// File, document and line it was read from.
    pub source: Source,
    /// The object, typed.
    pub object: SmhObject,
}
