//! The clusters of one simulated fleet (one demo), through which clusters see each other:
//! cross-cluster routing reads the other cluster's objects and reaches its pods through its
//! pod network.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use crate::net::PodNetwork;
use crate::store::Store;

/// One cluster of the fleet.
#[derive(Clone)]
pub struct Member {
    /// The cluster's objects.
    pub store: Arc<Store>,
    /// Its pod network.
    pub net: Arc<PodNetwork>,
}

/// Every cluster of a demo, by name. Shared (`Arc<Fleet>`) by all of them.
#[derive(Default)]
pub struct Fleet {
    members: RwLock<BTreeMap<String, Member>>,
    /// Round-robin counters of the clusters' ingress gateways, per target.
    gateway_rr: Mutex<HashMap<String, u64>>,
}

impl Fleet {
    /// An empty fleet.
    pub fn new() -> Arc<Fleet> {
        Arc::new(Fleet::default())
    }

    /// Add (or replace) a cluster.
    pub fn register(&self, name: &str, store: Arc<Store>, net: Arc<PodNetwork>) {
        self.members
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), Member { store, net });
    }

    /// Remove a cluster (it becomes unreachable from the others).
    pub(crate) fn unregister(&self, name: &str) {
        self.members
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
    }

    /// The cluster named `name`, while it is registered.
    pub fn member(&self, name: &str) -> Option<Member> {
        self.members
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// All clusters, sorted by name.
    pub fn members(&self) -> Vec<(String, Member)> {
        self.members
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The resourceVersion of every cluster: changes whenever any object anywhere changes.
    pub fn version(&self) -> Vec<(String, u64)> {
        self.members()
            .into_iter()
            .map(|(n, m)| (n, m.store.resource_version()))
            .collect()
    }

    /// The next round-robin index for `key` (a gateway and its target).
    pub(crate) fn next_rr(&self, key: &str) -> u64 {
        let mut rr = self.gateway_rr.lock().unwrap_or_else(|e| e.into_inner());
        let n = rr.entry(key.to_string()).or_insert(0);
        let v = *n;
        *n = n.wrapping_add(1);
        v
    }
}
