//! PURE rendering: values in, strings out. Only `cli` writes them anywhere.

pub mod check;
pub mod describe;
pub mod drill;
pub mod failover_test;
pub mod json;
