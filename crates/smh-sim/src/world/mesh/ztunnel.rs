//! Istio's ambient data plane for a pod without a sidecar that is in ambient mode: ztunnel
//! carries its outbound traffic, and a waypoint (an Envoy) applies L7 policy for the
//! Services and ServiceEntries that use it.
//!
//! What ztunnel does with a request for `host:port`, in the caller's cluster:
//!
//! 1. it resolves the host to a Kubernetes Service (`svc`, `svc.ns`, `svc.ns.svc` or
//!    `svc.ns.svc.cluster.local`, a short name in the caller's namespace) or a ServiceEntry
//!    listing the host; anything else does not resolve;
//! 2. the destination uses a waypoint when istiod binds one to it: its
//!    `istio.io/use-waypoint` label (`none` opts out), else its namespace's, names a Gateway
//!    of class `istio-waypoint` (in `istio.io/use-waypoint-namespace`, else the destination's
//!    namespace) that has an address (its proxy is ready), takes Service traffic and accepts
//!    the destination's namespace (its listener's `allowedRoutes`). These are discovery's
//!    rules (`smh_core::inspect::discovery::ambient`), read the same way here; the Services
//!    istiod makes for waypoints use none;
//! 3. with a waypoint, the request goes to one of the waypoint's ready pods (round-robin over
//!    its Service's ready endpoints), whose Envoy routes it as a request for the destination
//!    (`name.ns.svc.cluster.local:port`, or the ServiceEntry's host): VirtualService routes,
//!    DestinationRule subsets with their own outlier detection and `failoverPriority`,
//!    retries. That Envoy is the sidecar model ([`Sidecar`]) built for the waypoint's pod
//!    (its namespace and labels), so everything the sidecar model does applies; its
//!    clusters have istiod's names for a waypoint's (`inbound-vip|port|http|host`,
//!    `inbound-vip|port|http/subset|host`) and its outlier state is the waypoint pod's,
//!    shared by every caller;
//! 4. without one, a Service gets ztunnel's plain L4 load balancing: round-robin over the
//!    Service's ready endpoints in every cluster the caller's istiod discovers (its own and
//!    those of its remote secrets), with no outlier detection, no retries and no L7 routes. A
//!    ServiceEntry without a waypoint is not modelled: the request fails, saying so.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use serde_json::Value;
use smh_core::inspect::discovery::ambient::{
    NamespaceLabels, namespace_labels, pod_is_ambient, waypoint_used, waypoints, ztunnel_runs,
};

use super::istio::{ProxyIdentity, ServiceRecord};
use super::sidecar::{CallError, Sidecar, pod_target, split_authority};
use super::xds::Endpoint;
use crate::store::Store;
use crate::world::ambient::{MANAGED_LABEL, MESH_CONTROLLER, daemon_sets, gateways};
use crate::world::fleet::Fleet;
use crate::world::obj::{self, labels, str_at};
use crate::world::workload::http::{FetchError, HttpResponse, OutboundRequest, fetch};

/// The Envoys of a cluster's waypoint pods, by pod IP: where ztunnel hands a request over.
#[derive(Default)]
pub(crate) struct WaypointProxies(Mutex<BTreeMap<String, Arc<Sidecar>>>);

impl WaypointProxies {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Sidecar>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn insert(&self, ip: &str, proxy: Arc<Sidecar>) {
        self.lock().insert(ip.to_string(), proxy);
    }

    pub(crate) fn remove(&self, ip: &str) {
        self.lock().remove(ip);
    }

    fn get(&self, ip: &str) -> Option<Arc<Sidecar>> {
        self.lock().get(ip).cloned()
    }
}

/// Whether `pod` is a waypoint's pod (made by istiod's deployment controller).
pub(crate) fn is_waypoint_pod(pod: &Value) -> bool {
    labels(pod).get(MANAGED_LABEL).map(String::as_str) == Some(MESH_CONTROLLER)
}

/// Whether `pod` (without a sidecar) has its traffic carried by ztunnel: ztunnel runs in the
/// cluster (a DaemonSet in istio-system) and the pod is in ambient mode.
pub(crate) fn pod_uses_ztunnel(store: &Store, pod: &Value) -> bool {
    let dss: Vec<DaemonSet> = store
        .list(&daemon_sets(), Some("istio-system"))
        .0
        .into_iter()
        .filter_map(|d| serde_json::from_value(d).ok())
        .collect();
    if !ztunnel_runs(&dss, "istio-system") {
        return false;
    }
    let Ok(p) = serde_json::from_value::<Pod>(pod.clone()) else {
        return false;
    };
    pod_is_ambient(&p, &all_namespace_labels(store))
}

fn all_namespace_labels(store: &Store) -> NamespaceLabels {
    let nss: Vec<Namespace> = store
        .list(&obj::namespaces(), None)
        .0
        .into_iter()
        .filter_map(|n| serde_json::from_value(n).ok())
        .collect();
    namespace_labels(&nss)
}

/// Where ztunnel sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hop {
    /// Through waypoint `namespace/name`, routed as a request for `authority`.
    Waypoint {
        namespace: String,
        name: String,
        authority: String,
    },
    /// Straight to one of `endpoints`, as `(cluster, ip, target port)`, sorted.
    L4 {
        service: String,
        endpoints: Vec<(String, String, u16)>,
    },
}

/// The destination a host resolves to: its namespace and labels, and how a waypoint routes it.
struct Destination {
    namespace: String,
    labels: BTreeMap<String, String>,
    /// The Service's name, for a Kubernetes Service.
    service: Option<String>,
    authority: String,
}

fn resolve(store: &Store, caller_ns: &str, host: &str, port: u16) -> Option<Destination> {
    let parts: Vec<&str> = host.split('.').collect();
    let svc = match parts.as_slice() {
        [svc] => Some((*svc, caller_ns)),
        [svc, ns] | [svc, ns, "svc"] | [svc, ns, "svc", "cluster", "local"] => Some((*svc, *ns)),
        _ => None,
    };
    if let Some((name, ns)) = svc
        && let Some(s) = store.get(&obj::services(), ns, name)
    {
        return Some(Destination {
            namespace: ns.to_string(),
            labels: labels(&s),
            service: Some(name.to_string()),
            authority: format!("{name}.{ns}.svc.cluster.local:{port}"),
        });
    }
    super::inputs::istio_objects(store, "serviceentries")
        .into_iter()
        .find(|se| {
            se.pointer("/spec/hosts")
                .and_then(Value::as_array)
                .is_some_and(|hs| hs.iter().any(|h| h.as_str() == Some(host)))
        })
        .map(|se| Destination {
            namespace: obj::namespace(&se).to_string(),
            labels: labels(&se),
            service: None,
            authority: format!("{host}:{port}"),
        })
}

/// Where ztunnel in the caller's cluster (`store`) sends a request for `host:port` from
/// namespace `caller_ns`; `services` is the caller's istiod's registry (for L4).
pub(crate) fn hop(
    store: &Store,
    caller_ns: &str,
    host: &str,
    port: u16,
    services: &[ServiceRecord],
) -> Result<Hop, CallError> {
    let dest = resolve(store, caller_ns, host, port).ok_or_else(|| CallError::Dns(host.into()))?;
    let ns_labels = all_namespace_labels(store);
    let named = waypoint_used(
        Some(&dest.labels),
        &dest.namespace,
        ns_labels.get(&dest.namespace),
    )
    .map(|w| (w.namespace, w.name));
    if let Some((wns, wname)) = named {
        let gws: Vec<kube::core::DynamicObject> = store
            .list(&gateways(), None)
            .0
            .into_iter()
            .filter_map(|g| serde_json::from_value(g).ok())
            .collect();
        let bound = waypoints(&gws, &ns_labels).into_iter().any(|w| {
            w.namespace == wns
                && w.name == wname
                && w.serves_services()
                && w.allows_namespace(&dest.namespace)
        });
        if bound {
            return Ok(Hop::Waypoint {
                namespace: wns,
                name: wname,
                authority: dest.authority,
            });
        }
    }
    let Some(name) = dest.service else {
        return Err(CallError::Fetch(FetchError::Connect(format!(
            "{host}:{port}: a ServiceEntry without a waypoint, which the simulated ztunnel does not carry"
        ))));
    };
    let mut endpoints: Vec<(String, String, u16)> = services
        .iter()
        .filter(|s| s.name == name && s.namespace == dest.namespace)
        .flat_map(|s| {
            let port_name = s
                .ports
                .iter()
                .find(|(_, p)| *p == port)
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            s.endpoints
                .iter()
                .filter(|e| !e.not_ready)
                .filter_map(move |e| {
                    let target = e.ports.get(&port_name).copied()?;
                    Some((e.cluster.clone(), e.ip.clone(), target))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    endpoints.sort();
    endpoints.dedup();
    Ok(Hop::L4 {
        service: format!("{name}.{}", dest.namespace),
        endpoints,
    })
}

/// The registry the caller's istiod has, as of a fleet version.
type Registry = (Vec<(String, u64)>, Arc<Vec<ServiceRecord>>);

/// ztunnel, as one ambient pod's outbound path.
pub(crate) struct Ztunnel {
    identity: ProxyIdentity,
    fleet: Arc<Fleet>,
    waypoints: Arc<WaypointProxies>,
    registry: Mutex<Registry>,
}

impl Ztunnel {
    pub(crate) fn new(
        identity: ProxyIdentity,
        fleet: Arc<Fleet>,
        waypoints: Arc<WaypointProxies>,
    ) -> Self {
        Ztunnel {
            identity: ProxyIdentity {
                ztunnel: true,
                ..identity
            },
            fleet,
            waypoints,
            registry: Mutex::new((Vec::new(), Arc::new(Vec::new()))),
        }
    }

    /// The caller's istiod's services, rebuilt when anything in the fleet changed.
    fn services(&self) -> Arc<Vec<ServiceRecord>> {
        let version = self.fleet.version();
        let mut reg = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if reg.0 != version {
            let inputs = super::inputs::collect(&self.fleet, &self.identity);
            *reg = (version, Arc::new(inputs.services));
        }
        reg.1.clone()
    }

    /// A ready pod of waypoint `ns/name` in the caller's cluster, round-robin.
    fn waypoint_proxy(&self, store: &Store, ns: &str, name: &str) -> Option<Arc<Sidecar>> {
        let ep = store.get(&obj::endpoints(), ns, name)?;
        let mut ips: Vec<String> = ep
            .get("subsets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|s| {
                s.get("addresses")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|a| str_at(&a, "/ip").to_string())
            .filter(|ip| self.waypoints.get(ip).is_some())
            .collect();
        ips.sort();
        ips.dedup();
        if ips.is_empty() {
            return None;
        }
        let key = format!("ztunnel/{}/{ns}/{name}", self.identity.cluster);
        let i = self.fleet.next_rr(&key) as usize % ips.len();
        self.waypoints.get(&ips[i])
    }

    /// Send a request as ztunnel carries it (see the module documentation).
    pub(crate) async fn send(&self, req: OutboundRequest) -> Result<HttpResponse, CallError> {
        let (host, port) = split_authority(&req.authority);
        let store = self
            .fleet
            .member(&self.identity.cluster)
            .ok_or_else(|| CallError::Dns(host.clone()))?
            .store;
        let services = self.services();
        match hop(&store, &self.identity.namespace, &host, port, &services)? {
            Hop::Waypoint {
                namespace,
                name,
                authority,
            } => {
                let proxy = self
                    .waypoint_proxy(&store, &namespace, &name)
                    .ok_or_else(|| {
                        CallError::Fetch(FetchError::Connect(format!(
                            "{host}:{port}: waypoint {namespace}/{name} has no ready pod"
                        )))
                    })?;
                proxy.send_for(req, &authority).await
            }
            Hop::L4 { service, endpoints } => {
                if endpoints.is_empty() {
                    return Err(CallError::Fetch(FetchError::Connect(format!(
                        "{host}:{port}: no ready endpoint of {service}"
                    ))));
                }
                let key = format!("ztunnel/{}/{service}:{port}", self.identity.cluster);
                let i = self.fleet.next_rr(&key) as usize % endpoints.len();
                let (cluster, ip, target) = &endpoints[i];
                let mut ep = Endpoint::new(ip, *target);
                ep.cluster = Some(cluster.clone());
                let addr = pod_target(&self.fleet, &ep).ok_or_else(|| {
                    CallError::Fetch(FetchError::Connect(format!(
                        "{ip}:{target}: nothing listens"
                    )))
                })?;
                Ok(fetch(addr, &req, None).await?)
            }
        }
    }
}

#[cfg(test)]
mod tests;
