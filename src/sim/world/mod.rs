//! What runs inside a simulated cluster.

pub mod mesh;
