//! The simulated Kubernetes API server: the real HTTP API (discovery, OpenAPI v3, CRUD, watch,
//! four PATCH flavours, status and scale subresources, port-forward, RBAC) over one cluster's
//! [`Store`](crate::store::Store).
//!
//! [`core::ApiCore`] holds the semantics and can be called in-process; [`http`] adapts it to
//! HTTP. The rest are the pieces: authentication and RBAC ([`auth`]), registry of served
//! resources, schemas, patching, field ownership, validation, defaulting, selectors, tables,
//! discovery, OpenAPI, watches.

pub mod apply;
pub mod auth;
pub mod core;
pub mod defaults;
pub mod discovery;
pub mod http;
pub mod openapi;
pub mod patch;
pub mod portforward;
pub mod registry;
pub mod schema;
pub mod selector;
pub mod status;
pub mod table;
pub mod validate;
pub mod watch;

pub(crate) use self::core::ApiCore;
pub use self::core::WriteOptions;
pub use registry::Registry;
pub(crate) use status::ApiError;
