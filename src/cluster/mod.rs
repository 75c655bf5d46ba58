//! All kube I/O: contexts and clients, discovery, apply and status, probes.

pub mod probe;
