//! PURE rendering: values in, strings out. Only `cli` writes them anywhere.

pub mod drill;
