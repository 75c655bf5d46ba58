//! The simulated Kubernetes API server: the real HTTP API (discovery, OpenAPI v3, CRUD, watch,
//! four PATCH flavours, status and scale subresources, port-forward, RBAC) over one cluster's
//! [`Store`](crate::store::Store).
//!
//! [`core::ApiCore`] holds the semantics and can be called in-process; [`http`] adapts it to
//! HTTP. The rest are the pieces: authentication and RBAC ([`auth`]), registry of served
//! resources, schemas, patching, field ownership, validation, defaulting, selectors, tables,
//! discovery, OpenAPI, watches.

pub(crate) mod apply;
pub mod auth;
pub(crate) mod core;
pub(crate) mod defaults;
pub(crate) mod discovery;
pub(crate) mod http;
pub(crate) mod openapi;
pub(crate) mod patch;
pub(crate) mod pod_io;
pub mod portforward;
pub(crate) mod protobuf;
pub(crate) mod registry;
pub(crate) mod requests;
pub(crate) mod schema;
pub mod selector;
pub(crate) mod status;
pub(crate) mod table;
pub(crate) mod validate;
pub(crate) mod watch;

pub(crate) use self::core::ApiCore;
pub use self::core::WriteOptions;
pub use registry::Registry;
pub(crate) use status::ApiError;
