//! Collect what istiod would know for one proxy from the fleet's stores: the Istio objects
//! in the proxy's own cluster, the services and endpoints (ready or not) of its own cluster and of
//! every cluster it has a remote secret for (multi-primary endpoint discovery), and every
//! cluster's ingress gateway address. An istiod with `AMBIENT_ENABLE_MULTI_NETWORK=true`
//! (Istio's ambient mode across clusters) gives other clusters' Services and endpoints by
//! its rules for that mode ([`AmbientMultiNetwork`]).
//!
//! Endpoints are labelled `topology.istio.io/cluster` as istiod labels them: with the local
//! istiod's cluster ID (its `--clusterID` or `CLUSTER_ID`, `Kubernetes` when unset) for the
//! proxy's own cluster, and with the remote secret's **data key** for a remote one. Which
//! cluster a key reaches comes from its value, a kubeconfig, whose server's host is that
//! cluster's node (name or address). So a remote secret made with another `--name` than the
//! remote istiod's own ID gives that cluster's endpoints a label nobody else uses.

use std::collections::BTreeMap;

use serde_json::Value;

use super::istio::{
    CLUSTER_TOPOLOGY_LABEL, EndpointRecord, MeshInputs, ProxyIdentity, ServiceRecord,
};
use crate::store::Store;
use crate::world::fleet::Fleet;
use crate::world::obj::{self, labels, name, namespace, str_at};
use smh_core::istio::cluster_id::{ClusterIdReading, DEFAULT_CLUSTER_ID};

/// Label of Istio remote secrets.
pub(crate) const MULTICLUSTER_LABEL: &str = "istio/multiCluster";
/// Annotation naming the cluster of a remote secret.
pub(crate) const CLUSTER_ANNOTATION: &str = "networking.istio.io/cluster";
/// Name prefix of remote secrets made by `istioctl create-remote-secret`.
pub(crate) const REMOTE_SECRET_PREFIX: &str = "istio-remote-secret-";

/// Istio networking objects of one kind, whatever version they were stored under (the
/// newest resourceVersion wins when the same object exists under several).
pub(crate) fn istio_objects(store: &Store, plural: &str) -> Vec<Value> {
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

/// The Istio remote secrets of `store`'s cluster (`istio/multiCluster: "true"` in
/// istio-system), sorted by name, with their data decoded.
fn remote_secrets(store: &Store) -> Vec<k8s_openapi::api::core::v1::Secret> {
    let (secrets, _) = store.list(&obj::secrets(), Some("istio-system"));
    let mut out: Vec<k8s_openapi::api::core::v1::Secret> = secrets
        .into_iter()
        .filter(|s| labels(s).get(MULTICLUSTER_LABEL).map(String::as_str) == Some("true"))
        .filter_map(|s| serde_json::from_value(s).ok())
        .collect();
    out.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    out
}

/// The cluster IDs the istiod of `store`'s cluster gives the clusters of its remote
/// secrets: their data keys, sorted, each once.
pub fn remote_secret_ids(store: &Store) -> Vec<String> {
    let mut out: Vec<String> = remote_secrets(store)
        .into_iter()
        .flat_map(|s| s.data.unwrap_or_default().into_keys())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The cluster ID of the istiod in `store`'s cluster (Deployment `istio-system/istiod`,
/// container `discovery`), read as discovery reads it. The model cannot resolve a
/// `valueFrom`, so an unreadable ID is Istio's default; a cluster without istiod has its
/// own name.
pub fn istiod_cluster_id(store: &Store, cluster: &str) -> String {
    let Some(c) = istiod_container(store) else {
        return cluster.to_string();
    };
    match smh_core::istio::cluster_id::istiod_cluster_id(&c) {
        ClusterIdReading::Known { id, .. } => id,
        ClusterIdReading::Unknown { .. } => DEFAULT_CLUSTER_ID.to_string(),
    }
}

/// The container of the istiod in `store`'s cluster (Deployment `istio-system/istiod`,
/// container `discovery`, else its first).
fn istiod_container(store: &Store) -> Option<k8s_openapi::api::core::v1::Container> {
    let d = store.get(&obj::deployments(), "istio-system", "istiod")?;
    let containers: Vec<k8s_openapi::api::core::v1::Container> = d
        .pointer("/spec/template/spec/containers")
        .cloned()
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    let i = containers
        .iter()
        .position(|c| c.name == "discovery")
        .unwrap_or(0);
    containers.into_iter().nth(i)
}

/// What the istiod of a cluster applies to the other clusters' Services and endpoints when
/// it runs with `AMBIENT_ENABLE_MULTI_NETWORK=true` (Istio's ambient mode across clusters):
/// its mesh config's `serviceScopeConfigs` and its network.
///
/// As the pinned istiod does it: a remote cluster's Service that is not global by the
/// caller's istiod's scopes is not in its ambient registry at all
/// (`pilot/pkg/serviceregistry/ambient/services.go`, `matchServiceScope` on the Service's and
/// its namespace's labels), which is what ztunnel's own L4 path sees; the endpoints it sends
/// an Envoy (a waypoint, a sidecar) for a Service that is not global are those of its own
/// cluster only (`pilot/pkg/xds/endpoints/endpoint_builder.go`, `filterIstioEndpoint`, with
/// the scope of its own cluster's copy, as the Istio oracle shows); and a remote cluster's
/// istiod gives its east-west gateway routes only for the Services its own scopes make
/// global (`ServicesForWaypoint`), so a waypoint's connection through that gateway to a
/// Service local there ends at the gateway (see [`AmbientMultiNetwork::filter`]). For a
/// waypoint (and, in the simulator,
/// ztunnel's own L4 path), an endpoint on another network is kept only when an east-west
/// gateway leads into that network, else skipped (`ep_filters.go`, `snapshotShards`; the
/// gateway is a Service labelled `topology.istio.io/network` with port 15008, as
/// `getGatewayDetails` in `kube/controller/network.go` reads it, that has an external
/// address, found in any cluster the istiod discovers; kubectl-smh's discovery reads it the
/// same way). A cluster's network is the
/// `topology.istio.io/network` label of its istio-system namespace; an unset network is the
/// same as any (`Proxy.InNetwork`). Sidecars are not filtered by network: they cross
/// networks through the sidecar-era gateway path (port 15443), which the simulator does not
/// model. The gateway forwards nothing in the simulator: a kept endpoint is reached directly.
pub(crate) struct AmbientMultiNetwork {
    /// The caller's mesh: its `service_scopes` decide what is global.
    mesh: smh_core::model::topology::Mesh,
    /// The caller's cluster's network.
    network: Option<String>,
    /// The networks some east-west gateway leads into.
    gateway_networks: std::collections::BTreeSet<String>,
}

/// Whether the istiod of `store`'s cluster runs with `AMBIENT_ENABLE_MULTI_NETWORK` set to
/// a true value (Go's `strconv.ParseBool`, as istiod reads it; the last entry of that name
/// wins, a `valueFrom` is not resolved).
fn multi_network_enabled(store: &Store) -> bool {
    istiod_container(store).is_some_and(|c| {
        smh_core::inspect::discovery::istiod_env_true(&c, crate::world::ambient::MULTI_NETWORK_ENV)
    })
}

/// The mesh config's `serviceScopeConfigs` in `store`'s cluster (the `mesh` key of
/// ConfigMap `istio-system/istio`), as JSON; an entry that is not a valid scope config is
/// left out (istiod would not start with one; the simulator takes it as selecting nothing).
fn service_scope_configs(store: &Store) -> Vec<Value> {
    let Some(cm) = store.get(&obj::config_maps(), "istio-system", "istio") else {
        return Vec::new();
    };
    let mesh: Value = serde_saphyr::from_str(str_at(&cm, "/data/mesh")).unwrap_or(Value::Null);
    mesh.get("serviceScopeConfigs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| {
            serde_json::from_value::<smh_core::model::topology::ServiceScope>((*c).clone()).is_ok()
        })
        .cloned()
        .collect()
}

/// The `topology.istio.io/network` label of `store`'s istio-system namespace.
fn network_of(store: &Store) -> Option<String> {
    store
        .get(&obj::namespaces(), "", "istio-system")
        .and_then(|ns| labels(&ns).remove(crate::world::ambient::NETWORK_LABEL))
        .filter(|n| !n.is_empty())
}

impl AmbientMultiNetwork {
    /// The rules of the istiod of `local`'s cluster, which discovers `discovered` (fleet
    /// member names, its own included); `None` when it runs without the switch.
    pub(crate) fn of(fleet: &Fleet, local: &Store, discovered: &[String]) -> Option<Self> {
        if !multi_network_enabled(local) {
            return None;
        }
        let mesh = scope_mesh(local)?;
        let gateway_networks = discovered
            .iter()
            .filter_map(|m| fleet.member(m))
            .flat_map(|m| {
                let services: Vec<k8s_openapi::api::core::v1::Service> = m
                    .store
                    .list(&obj::services(), None)
                    .0
                    .into_iter()
                    .filter_map(|s| serde_json::from_value(s).ok())
                    .collect();
                smh_core::inspect::discovery::ambient::east_west_gateways(&services)
            })
            .map(|g| g.network)
            .collect();
        Some(AmbientMultiNetwork {
            mesh,
            network: network_of(local),
            gateway_networks,
        })
    }

    /// Whether the caller's istiod takes the Service `namespace/name` of the cluster in
    /// `store` as global.
    fn global(&self, store: &Store, namespace: &str, name: &str) -> bool {
        scope_in(&self.mesh, store, namespace, name)
    }

    /// Whether a proxy on the caller's network may have endpoints of the cluster in
    /// `remote` (on its network): the same network (or either unset), or an east-west
    /// gateway into it.
    fn reachable(&self, remote: &Store) -> bool {
        match (&self.network, network_of(remote)) {
            (Some(mine), Some(theirs)) if *mine != theirs => {
                self.gateway_networks.contains(&theirs)
            }
            _ => true,
        }
    }

    /// `records`, the Services of the remote cluster in `remote`, as the caller's istiod
    /// (its cluster in `local`) gives them to `proxy`:
    /// - one whose caller's copy is local keeps no endpoints (istiod's `filterIstioEndpoint`
    ///   takes the scope from its own cluster's copy);
    /// - for ztunnel's L4 path, one that is local by the caller's scopes on the remote copy
    ///   is left out (not in the caller's ambient registry);
    /// - for a waypoint or ztunnel, one on a network the caller cannot reach keeps no
    ///   endpoints; on another network reached through the remote cluster's east-west
    ///   gateway, it keeps them only if the remote cluster's own istiod (with the switch on)
    ///   takes its copy as global, since that istiod gives its gateway routes for global
    ///   Services only (`ServicesForWaypoint`), so otherwise the connection ends at the
    ///   gateway. The real istiod still sends the waypoint the gateway's endpoint; the
    ///   simulator, which reaches kept endpoints directly, drops them instead: the same
    ///   outcome for a request.
    pub(crate) fn filter(
        &self,
        records: Vec<ServiceRecord>,
        local: &Store,
        remote: &Store,
        proxy: &ProxyIdentity,
    ) -> Vec<ServiceRecord> {
        let ambient_path = proxy.waypoint || proxy.ztunnel;
        let crosses_network = match (&self.network, network_of(remote)) {
            (Some(mine), Some(theirs)) => *mine != theirs,
            _ => false,
        };
        let remote_mesh = multi_network_enabled(remote)
            .then(|| scope_mesh(remote))
            .flatten();
        records
            .into_iter()
            .filter(|r| !proxy.ztunnel || self.global(remote, &r.namespace, &r.name))
            .map(|mut r| {
                let caller_local = local.get(&obj::services(), &r.namespace, &r.name).is_some()
                    && !self.global(local, &r.namespace, &r.name);
                let unreachable = ambient_path && crosses_network && {
                    !self.reachable(remote)
                        || !remote_mesh
                            .as_ref()
                            .is_some_and(|m| scope_in(m, remote, &r.namespace, &r.name))
                };
                if caller_local || unreachable {
                    r.endpoints.clear();
                }
                r
            })
            .collect()
    }
}

/// The mesh whose `service_scopes` are `store`'s cluster's mesh config's.
fn scope_mesh(store: &Store) -> Option<smh_core::model::topology::Mesh> {
    serde_json::from_value(serde_json::json!({
        "version": "0.0.0",
        "serviceScopes": service_scope_configs(store),
    }))
    .ok()
}

/// Whether `mesh`'s scopes make Service `namespace/name` of the cluster in `store` global
/// (on its own and its namespace's labels).
fn scope_in(
    mesh: &smh_core::model::topology::Mesh,
    store: &Store,
    namespace: &str,
    name: &str,
) -> bool {
    let Some(svc) = store.get(&obj::services(), namespace, name) else {
        return false;
    };
    let ns_labels = store
        .get(&obj::namespaces(), "", namespace)
        .map(|n| labels(&n))
        .unwrap_or_default();
    let Ok(svc) = serde_json::from_value::<smh_core::model::topology::Service>(
        serde_json::json!({"name": name, "namespace": namespace, "labels": labels(&svc),
                           "namespaceLabels": ns_labels}),
    ) else {
        return false;
    };
    mesh.scope_of(&svc) == smh_core::model::topology::Scope::Global
}

/// The host of a kubeconfig's server: that of its current context's cluster, else of its
/// first cluster (`https://remote-cluster-control-plane:6443` → `remote-cluster-control-plane`).
fn kubeconfig_server_host(kubeconfig: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(kubeconfig).ok()?;
    let kc = kube::config::Kubeconfig::from_yaml(text).ok()?;
    let cluster_name = kc
        .current_context
        .as_ref()
        .and_then(|cur| kc.contexts.iter().find(|c| &c.name == cur))
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone());
    let cluster = cluster_name
        .and_then(|n| kc.clusters.iter().find(|c| c.name == n))
        .or(kc.clusters.first())?;
    let server = cluster.cluster.as_ref()?.server.clone()?;
    let rest = server.split_once("://").map_or(server.as_str(), |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// The fleet member whose Node has `host` as its name or one of its addresses.
fn member_by_host(fleet: &Fleet, host: &str) -> Option<String> {
    fleet.members().into_iter().find_map(|(name, m)| {
        let nodes = m.store.list(&obj::nodes(), None).0;
        nodes
            .iter()
            .any(|n| {
                obj::name(n) == host
                    || n.pointer("/status/addresses")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|x| str_at(x, "/address") == host))
            })
            .then_some(name)
    })
}

/// The clusters the istiod of `store`'s cluster discovers through its remote secrets, as
/// `(cluster ID, fleet member)`, the way istiod adds them: every data key of every remote
/// secret (secrets in name order, keys sorted) is a cluster ID; a key equal to `local_id`
/// is ignored, as is an ID an earlier secret already added. The key's value, a
/// kubeconfig, names the member; one that reaches no member of the fleet adds nothing.
pub(crate) fn remote_clusters(
    fleet: &Fleet,
    store: &Store,
    local_id: &str,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for secret in remote_secrets(store) {
        for (id, kubeconfig) in secret.data.unwrap_or_default() {
            if id == local_id || out.iter().any(|(known, _)| *known == id) {
                continue;
            }
            if let Some(member) =
                kubeconfig_server_host(&kubeconfig.0).and_then(|h| member_by_host(fleet, &h))
            {
                out.push((id, member));
            }
        }
    }
    out
}

/// The services of `cluster` (a fleet member) with their endpoints (ready or not), labelled
/// `topology.istio.io/cluster: <cluster_id>` as the discovering istiod knows that cluster.
fn service_records(cluster: &str, cluster_id: &str, store: &Store) -> Vec<ServiceRecord> {
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
                    let ready = subset.get("addresses").and_then(Value::as_array);
                    let not_ready = subset.get("notReadyAddresses").and_then(Value::as_array);
                    let addresses = ready
                        .into_iter()
                        .flatten()
                        .map(|a| (a, false))
                        .chain(not_ready.into_iter().flatten().map(|a| (a, true)));
                    for (addr, unready) in addresses {
                        let ip = str_at(addr, "/ip").to_string();
                        if ip.is_empty() {
                            continue;
                        }
                        let pod_name = str_at(addr, "/targetRef/name");
                        let pod_ns = match str_at(addr, "/targetRef/namespace") {
                            "" => ns,
                            n => n,
                        };
                        let rec = records.entry(ip.clone()).or_insert_with(|| {
                            let mut labels = pod_labels
                                .get(&(pod_ns, pod_name))
                                .cloned()
                                .unwrap_or_default();
                            labels
                                .insert(CLUSTER_TOPOLOGY_LABEL.to_string(), cluster_id.to_string());
                            EndpointRecord {
                                ip,
                                cluster: cluster.to_string(),
                                labels,
                                ports: BTreeMap::new(),
                                not_ready: unready,
                            }
                        });
                        // Ready in any subset is ready (as an EndpointSlice endpoint listed
                        // once per port set).
                        rec.not_ready &= unready;
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
pub(crate) fn gateway_addresses(store: &Store) -> Vec<String> {
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
pub(crate) fn collect(fleet: &Fleet, proxy: &ProxyIdentity) -> MeshInputs {
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
    // Fleet member -> the cluster ID its endpoints get; the first way a member is reached
    // wins.
    let local_id = istiod_cluster_id(&local.store, &proxy.cluster);
    // istiod adds its cluster ID to a connecting proxy's labels (failoverPriority compares
    // endpoint labels with them).
    inputs
        .proxy
        .labels
        .entry(CLUSTER_TOPOLOGY_LABEL.to_string())
        .or_insert_with(|| local_id.clone());
    let mut discovered: BTreeMap<String, String> = BTreeMap::new();
    discovered.insert(proxy.cluster.clone(), local_id.clone());
    for (id, member) in remote_clusters(fleet, &local.store, &local_id) {
        discovered.entry(member).or_insert(id);
    }
    let members: Vec<String> = discovered.keys().cloned().collect();
    let multi_network = AmbientMultiNetwork::of(fleet, &local.store, &members);
    for (name, member) in fleet.members() {
        if let Some(id) = discovered.get(&name) {
            let records = service_records(&name, id, &member.store);
            let records = match &multi_network {
                Some(m) if name != proxy.cluster => {
                    m.filter(records, &local.store, &member.store, proxy)
                }
                _ => records,
            };
            inputs.services.extend(records);
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

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::net::PodNetwork;
    use crate::world::{WorldOptions, seed};
    use smh_core::model::topology::MultiClusterMode;

    /// The demo's two clusters, seeded (no controllers), each with one ready reviews
    /// endpoint.
    fn fleet() -> (Arc<Fleet>, Arc<Store>) {
        seeded_fleet(false)
    }

    /// The demo's two clusters in multi-primary mode, seeded (no controllers; `ambient`: as
    /// `demo up --ambient` seeds them, with the Services istiod's deployment controller
    /// makes for the waypoint and the east-west gateway, the latter with its load
    /// balancer's address), each with one ready reviews endpoint; and mgmt-cluster's store.
    pub(crate) fn seeded_fleet(ambient: bool) -> (Arc<Fleet>, Arc<Store>) {
        let fleet = Fleet::new();
        let mut mgmt_store = None;
        let version = if ambient {
            crate::world::ambient::AMBIENT_ISTIO_VERSION
        } else {
            "1.24.2"
        };
        let opts = WorldOptions::demo(
            MultiClusterMode::MultiPrimary,
            version,
            std::time::Duration::ZERO,
        );
        for (i, o) in opts.iter().enumerate() {
            let mut o = o.clone();
            o.ambient = ambient;
            let store = Arc::new(Store::new());
            seed(&store, &o).unwrap();
            if ambient {
                crate::world::controller::sync_istio_gateways(
                    &store,
                    Some(version),
                    &o.load_balancer_ips,
                );
            }
            store
                .create(
                    &obj::endpoints(),
                    json!({"apiVersion": "v1", "kind": "Endpoints",
                           "metadata": {"name": "reviews", "namespace": "bookinfo"},
                           "subsets": [{"addresses": [{"ip": format!("10.{}.0.5", i + 1)}],
                                        "ports": [{"name": "http", "port": 9080}]}]}),
                )
                .unwrap();
            fleet.register(
                &o.cluster,
                store.clone(),
                Arc::new(PodNetwork::new(i as u8 + 1)),
            );
            if i == 0 {
                mgmt_store = Some(store);
            }
        }
        (fleet, mgmt_store.unwrap())
    }

    /// `(endpoint IP, topology.istio.io/cluster)` of reviews, as mgmt-cluster's istiod knows
    /// them.
    fn reviews_endpoints(fleet: &Fleet) -> Vec<(String, String)> {
        let proxy = ProxyIdentity {
            cluster: "mgmt-cluster".into(),
            namespace: "bookinfo".into(),
            ..Default::default()
        };
        let mut out: Vec<(String, String)> = collect(fleet, &proxy)
            .services
            .iter()
            .filter(|s| s.name == "reviews")
            .flat_map(|s| s.endpoints.iter())
            .map(|e| (e.ip.clone(), e.labels[CLUSTER_TOPOLOGY_LABEL].clone()))
            .collect();
        out.sort();
        out
    }

    fn replace_remote_secret(store: &Store, key: &str) {
        let mut secret = store
            .get(
                &obj::secrets(),
                "istio-system",
                "istio-remote-secret-cluster2",
            )
            .unwrap();
        let value = secret["data"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .clone();
        secret["data"] = json!({key: value});
        store.update(&obj::secrets(), secret).unwrap();
    }

    #[test]
    fn endpoints_are_labelled_with_istio_cluster_ids() {
        let (fleet, mgmt) = fleet();
        assert_eq!(istiod_cluster_id(&mgmt, "mgmt-cluster"), "cluster1");
        assert_eq!(
            reviews_endpoints(&fleet),
            [
                ("10.1.0.5".to_string(), "cluster1".to_string()),
                ("10.2.0.5".to_string(), "cluster2".to_string())
            ]
        );

        // A remote secret made with `--name remote-cluster`: the remote endpoints carry
        // that name, which no subset on cluster2 selects.
        replace_remote_secret(&mgmt, "remote-cluster");
        assert_eq!(
            reviews_endpoints(&fleet)[1],
            ("10.2.0.5".to_string(), "remote-cluster".to_string())
        );

        // istiod without CLUSTER_ID is Istio's "Kubernetes"; a remote secret keyed by the
        // local ID is ignored, so the remote endpoints are gone.
        let mut istiod = mgmt
            .get(&obj::deployments(), "istio-system", "istiod")
            .unwrap();
        istiod["spec"]["template"]["spec"]["containers"][0]["env"] = json!([]);
        mgmt.update(&obj::deployments(), istiod).unwrap();
        replace_remote_secret(&mgmt, "Kubernetes");
        assert_eq!(
            reviews_endpoints(&fleet),
            [("10.1.0.5".to_string(), "Kubernetes".to_string())]
        );
    }

    #[test]
    fn unready_addresses_are_endpoints_marked_not_ready() {
        // istiod sends an unready pod as UNHEALTHY, so the model must see it.
        let (fleet, mgmt) = fleet();
        let mut ep = mgmt.get(&obj::endpoints(), "bookinfo", "reviews").unwrap();
        ep["subsets"][0]["notReadyAddresses"] = json!([{"ip": "10.1.0.6"}]);
        mgmt.update(&obj::endpoints(), ep).unwrap();
        let proxy = ProxyIdentity {
            cluster: "mgmt-cluster".into(),
            namespace: "bookinfo".into(),
            ..Default::default()
        };
        let inputs = collect(&fleet, &proxy);
        let reviews = inputs
            .services
            .iter()
            .find(|s| s.name == "reviews" && s.cluster == "mgmt-cluster")
            .unwrap();
        let seen: Vec<(&str, bool)> = reviews
            .endpoints
            .iter()
            .map(|e| (e.ip.as_str(), e.not_ready))
            .collect();
        assert_eq!(seen, [("10.1.0.5", false), ("10.1.0.6", true)]);
    }
}
