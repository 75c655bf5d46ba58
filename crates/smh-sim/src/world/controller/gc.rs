//! Garbage collection by owner references (a replica set whose deployment is gone, a pod
//! whose replica set or daemon set is gone, what istiod made for a waypoint whose Gateway is
//! gone: deleted in the background, as `propagationPolicy: Background`
//! does), and the `default` ServiceAccount of every namespace.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::store::Store;
use crate::world::obj::{self, is_deleting, name, namespace, str_at};

/// Owner kinds this collector knows, with the resources holding them.
fn owners_alive(store: &Store, kind: &str) -> Option<HashSet<String>> {
    let gvr = match kind {
        "Deployment" => obj::deployments(),
        "ReplicaSet" => obj::replica_sets(),
        "DaemonSet" => crate::world::ambient::daemon_sets(),
        "Gateway" => crate::world::ambient::gateways(),
        _ => return None,
    };
    let (items, _) = store.list(&gvr, None);
    Some(items.iter().map(|o| obj::uid(o).to_string()).collect())
}

pub(super) fn collect(store: &Store) {
    for (gvr, owner_kind) in [
        (obj::replica_sets(), "Deployment"),
        (obj::pods(), "ReplicaSet"),
        (obj::pods(), "DaemonSet"),
        (obj::deployments(), "Gateway"),
        (obj::services(), "Gateway"),
        (obj::service_accounts(), "Gateway"),
    ] {
        let Some(alive) = owners_alive(store, owner_kind) else {
            continue;
        };
        let (items, _) = store.list(&gvr, None);
        for item in &items {
            let Some(refs) = item
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
            else {
                continue;
            };
            let known: Vec<&Value> = refs
                .iter()
                .filter(|r| str_at(r, "/kind") == owner_kind)
                .collect();
            if known.is_empty() || known.len() != refs.len() {
                continue;
            }
            if known.iter().all(|r| !alive.contains(str_at(r, "/uid"))) {
                let _ = store.delete(&gvr, namespace(item), name(item));
            }
        }
    }
}

/// Every active namespace has a `default` ServiceAccount.
pub(super) fn default_service_accounts(store: &Store) {
    let (nss, _) = store.list(&obj::namespaces(), None);
    for ns in &nss {
        if is_deleting(ns) {
            continue;
        }
        let ns_name = name(ns);
        if store
            .get(&obj::service_accounts(), ns_name, "default")
            .is_none()
        {
            let _ = store.create(
                &obj::service_accounts(),
                json!({"apiVersion": "v1", "kind": "ServiceAccount",
                       "metadata": {"name": "default", "namespace": ns_name}}),
            );
        }
    }
}
