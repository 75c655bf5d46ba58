//! The simulated pod network of one cluster: pods get realistic IPs (`10.<n>.x.y`) that exist
//! only in the simulator, and each (pod IP, container port) that is really listening maps to
//! a loopback socket. Port-forward, the mesh data plane and endpoints all resolve through it,
//! so Kubernetes objects look like a real cluster's while every server runs on 127.0.0.1.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Pod IP allocation and (pod IP, port) → loopback address resolution.
pub struct PodNetwork {
    /// Second octet of this cluster's pod CIDR (`10.<octet>.0.0/16`).
    octet: u8,
    next: AtomicU32,
    listeners: RwLock<HashMap<(String, u16), SocketAddr>>,
}

impl PodNetwork {
    /// A network for pods in `10.<octet>.0.0/16`.
    pub fn new(octet: u8) -> Self {
        PodNetwork {
            octet,
            next: AtomicU32::new(1),
            listeners: RwLock::new(HashMap::new()),
        }
    }

    /// A fresh pod IP.
    pub fn allocate_ip(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("10.{}.{}.{}", self.octet, (n >> 8) & 0xff, n & 0xff)
    }

    /// Record that `pod_ip:port` is served by the loopback socket `addr`.
    pub fn register(&self, pod_ip: &str, port: u16, addr: SocketAddr) {
        self.listeners
            .write()
            .expect("net lock")
            .insert((pod_ip.to_string(), port), addr);
    }

    /// Stop serving `pod_ip:port` (connections to it are then refused).
    pub(crate) fn unregister(&self, pod_ip: &str, port: u16) {
        self.listeners
            .write()
            .expect("net lock")
            .remove(&(pod_ip.to_string(), port));
    }

    /// Where `pod_ip:port` really listens; `None` means connection refused.
    pub fn resolve(&self, pod_ip: &str, port: u16) -> Option<SocketAddr> {
        self.listeners
            .read()
            .expect("net lock")
            .get(&(pod_ip.to_string(), port))
            .copied()
    }
}
