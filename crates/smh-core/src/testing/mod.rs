//! Fixtures shared by the tests of this crate and of the crates above it (cargo feature
//! `test-support`; never in a release build).

pub mod drill;
pub mod inspect;
