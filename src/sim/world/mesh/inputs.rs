//! Collect what istiod would know for one proxy from the fleet's stores: the Istio objects
//! in the proxy's own cluster, the services and ready endpoints of its own cluster and of
//! every cluster it has a remote secret for (multi-primary endpoint discovery), and every
//! cluster's ingress gateway address.

use std::collections::BTreeMap;

use serde_json::Value;

use super::istio::{EndpointRecord, MeshInputs, ProxyIdentity, ServiceRecord};
use crate::sim::store::Store;
use crate::sim::world::fleet::Fleet;
use crate::sim::world::obj::{self, labels, name, namespace, str_at};

/// Label of Istio remote secrets.
pub const MULTICLUSTER_LABEL: &str = "istio/multiCluster";
/// Annotation naming the cluster of a remote secret.
pub const CLUSTER_ANNOTATION: &str = "networking.istio.io/cluster";
/// Name prefix of remote secrets made by `istioctl create-remote-secret`.
pub const REMOTE_SECRET_PREFIX: &str = "istio-remote-secret-";

/// Istio networking objects of one kind, whatever version they were stored under (the
/// newest resourceVersion wins when the same object exists under several).
pub fn istio_objects(store: &Store, plural: &str) -> Vec<Value> {
    let mut by_key: BTreeMap<(String, String), Value> = BTreeMap::new();
    for gvr in obj::istio_networking(plural) {
        for item in store.list(&gvr, None).0 {
            let key = (namespace(&item).to_string(), name(&item).to_string());
            let rv = |v: &Value| {
                str_at(v, "/metadata/resourceVersion")
                    .parse::<u64>()
                    .unwrap_or(0)
            };
            if by_key.get(&key).is_none_or(|old| rv(old) < rv(&item)) {
                by_key.insert(key, item);
            }
        }
    }
    by_key.into_values().collect()
}

/// Clusters whose endpoints the istiod of `store`'s cluster discovers: the names of its
/// Istio remote secrets (`istio/multiCluster: "true"` in istio-system).
pub fn remote_secret_clusters(store: &Store) -> Vec<String> {
    let (secrets, _) = store.list(&obj::secrets(), Some("istio-system"));
    let mut out: Vec<String> = secrets
        .iter()
        .filter(|s| labels(s).get(MULTICLUSTER_LABEL).map(String::as_str) == Some("true"))
        .filter_map(|s| {
            let annotated = obj::string_map(s, "/metadata/annotations")
                .get(CLUSTER_ANNOTATION)
                .cloned();
            annotated.or_else(|| {
                name(s)
                    .strip_prefix(REMOTE_SECRET_PREFIX)
                    .map(str::to_string)
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn service_records(cluster: &str, store: &Store) -> Vec<ServiceRecord> {
    let (services, _) = store.list(&obj::services(), None);
    let (endpoints, _) = store.list(&obj::endpoints(), None);
    let (pods, _) = store.list(&obj::pods(), None);
    let pod_labels: BTreeMap<(&str, &str), BTreeMap<String, String>> = pods
        .iter()
        .map(|p| ((namespace(p), name(p)), labels(p)))
        .collect();
    let eps: BTreeMap<(&str, &str), &Value> = endpoints
        .iter()
        .map(|e| ((namespace(e), name(e)), e))
        .collect();
    services
        .iter()
        .map(|svc| {
            let ns = namespace(svc);
            let ports = svc
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .filter_map(|p| {
                            let port = p.get("port").and_then(Value::as_u64)?;
                            Some((str_at(p, "/name").to_string(), u16::try_from(port).ok()?))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut records: BTreeMap<String, EndpointRecord> = BTreeMap::new();
            if let Some(ep) = eps.get(&(ns, name(svc))) {
                for subset in ep
                    .get("subsets")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    let sub_ports: BTreeMap<String, u16> = subset
                        .get("ports")
                        .and_then(Value::as_array)
                        .map(|ps| {
                            ps.iter()
                                .filter_map(|p| {
                                    let port = p.get("port").and_then(Value::as_u64)?;
                                    Some((
                                        str_at(p, "/name").to_string(),
                                        u16::try_from(port).ok()?,
                                    ))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    for addr in subset
                        .get("addresses")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                    {
                        let ip = str_at(&addr, "/ip").to_string();
                        if ip.is_empty() {
                            continue;
                        }
                        let pod_name = str_at(&addr, "/targetRef/name");
                        let pod_ns = match str_at(&addr, "/targetRef/namespace") {
                            "" => ns,
                            n => n,
                        };
                        let rec = records.entry(ip.clone()).or_insert_with(|| EndpointRecord {
                            ip,
                            cluster: cluster.to_string(),
                            labels: pod_labels
                                .get(&(pod_ns, pod_name))
                                .cloned()
                                .unwrap_or_default(),
                            ports: BTreeMap::new(),
                        });
                        rec.ports.extend(sub_ports.clone());
                    }
                }
            }
            ServiceRecord {
                cluster: cluster.to_string(),
                name: name(svc).to_string(),
                namespace: ns.to_string(),
                cluster_ip: Some(str_at(svc, "/spec/clusterIP").to_string())
                    .filter(|s| !s.is_empty()),
                ports,
                endpoints: records.into_values().collect(),
            }
        })
        .collect()
}

/// The external addresses of a cluster's `istio-system/istio-ingressgateway` Service.
pub fn gateway_addresses(store: &Store) -> Vec<String> {
    store
        .get(&obj::services(), "istio-system", "istio-ingressgateway")
        .and_then(|s| {
            s.pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .cloned()
        })
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.get("ip").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Everything the config builder needs for `proxy`.
pub fn collect(fleet: &Fleet, proxy: &ProxyIdentity) -> MeshInputs {
    let mut inputs = MeshInputs {
        proxy: proxy.clone(),
        cluster_domain: "cluster.local".into(),
        root_namespace: "istio-system".into(),
        ..MeshInputs::default()
    };
    let Some(local) = fleet.member(&proxy.cluster) else {
        return inputs;
    };
    inputs.virtual_services = istio_objects(&local.store, "virtualservices");
    inputs.destination_rules = istio_objects(&local.store, "destinationrules");
    inputs.service_entries = istio_objects(&local.store, "serviceentries");
    inputs.envoy_filters = istio_objects(&local.store, "envoyfilters");
    let mut discovered = vec![proxy.cluster.clone()];
    discovered.extend(
        remote_secret_clusters(&local.store)
            .into_iter()
            .filter(|c| *c != proxy.cluster),
    );
    for (name, member) in fleet.members() {
        if discovered.contains(&name) {
            inputs
                .services
                .extend(service_records(&name, &member.store));
        }
        for ip in gateway_addresses(&member.store) {
            inputs.gateways.insert(ip, name.clone());
        }
        for pod in member.store.list(&obj::pods(), None).0 {
            let ip = str_at(&pod, "/status/podIP");
            if !ip.is_empty() {
                inputs.pod_ips.insert(ip.to_string(), name.clone());
            }
        }
    }
    inputs
}
