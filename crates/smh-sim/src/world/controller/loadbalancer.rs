//! The cluster's load balancer, as MetalLB (or a cloud provider's load balancer controller)
//! behaves for the simulator: every Service of type `LoadBalancer` without an address in
//! `status.loadBalancer.ingress` gets the first address of the cluster's pool that no
//! Service of the cluster has yet (`ipMode: VIP`); with the pool used up, a Service stays
//! pending (no ingress), as `kubectl get service` shows `<pending>`. An address, once given,
//! stays. Nothing routes through it: the simulator only publishes it (in the ambient demo,
//! istiod's east-west gateway Service is what gets one; see [`super::waypoint`]).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::store::Store;
use crate::world::obj::{self, is_deleting, str_at};

fn ingress_ips(svc: &Value) -> impl Iterator<Item = &str> {
    svc.pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("ip").and_then(Value::as_str))
}

fn has_ingress(svc: &Value) -> bool {
    svc.pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .is_some_and(|i| !i.is_empty())
}

pub(super) fn sync(store: &Store, pool: &[String]) {
    if pool.is_empty() {
        return;
    }
    let (services, _) = store.list(&obj::services(), None);
    let mut used: BTreeSet<String> = services
        .iter()
        .flat_map(|s| ingress_ips(s).map(str::to_string).collect::<Vec<_>>())
        .collect();
    for svc in services.iter().filter(|s| !is_deleting(s)) {
        if str_at(svc, "/spec/type") != "LoadBalancer" || has_ingress(svc) {
            continue;
        }
        let Some(ip) = pool.iter().find(|ip| !used.contains(*ip)) else {
            return;
        };
        let mut updated = svc.clone();
        updated["status"] = json!({"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}});
        if store.update(&obj::services(), updated).is_ok() {
            used.insert(ip.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, kind: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": "istio-system"},
               "spec": {"type": kind, "ports": [{"port": 15008}]},
               "status": {"loadBalancer": {}}})
    }

    fn ingress(store: &Store, name: &str) -> Value {
        store
            .get(&obj::services(), "istio-system", name)
            .unwrap()
            .pointer("/status/loadBalancer")
            .cloned()
            .unwrap()
    }

    #[test]
    fn load_balancer_services_get_a_free_address_of_the_pool_and_keep_it() {
        let store = Store::new();
        let pool = vec!["172.18.254.200".to_string(), "172.18.253.200".to_string()];
        // An address given otherwise (the seed's ingress gateway) is not handed out again.
        let mut taken = service("taken", "LoadBalancer");
        taken["status"] =
            json!({"loadBalancer": {"ingress": [{"ip": "172.18.254.200", "ipMode": "VIP"}]}});
        store.create(&obj::services(), taken).unwrap();
        store
            .create(&obj::services(), service("internal", "ClusterIP"))
            .unwrap();
        store
            .create(&obj::services(), service("a", "LoadBalancer"))
            .unwrap();
        store
            .create(&obj::services(), service("b", "LoadBalancer"))
            .unwrap();
        sync(&store, &pool);
        assert_eq!(
            ingress(&store, "a"),
            json!({"ingress": [{"ip": "172.18.253.200", "ipMode": "VIP"}]})
        );
        // The pool is used up: b stays pending, a ClusterIP Service gets nothing.
        assert_eq!(ingress(&store, "b"), json!({}));
        assert_eq!(ingress(&store, "internal"), json!({}));
        let rv = str_at(
            &store.get(&obj::services(), "istio-system", "a").unwrap(),
            "/metadata/resourceVersion",
        )
        .to_string();
        sync(&store, &pool);
        let a = store.get(&obj::services(), "istio-system", "a").unwrap();
        assert_eq!(str_at(&a, "/metadata/resourceVersion"), rv, "no rewrite");
    }
}
