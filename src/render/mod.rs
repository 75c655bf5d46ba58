//! PURE rendering: values in, strings out. Only `cli` writes them anywhere.

pub(crate) mod check;
pub mod describe;
pub(crate) mod drill;
pub(crate) mod failover_test;
pub mod json;
