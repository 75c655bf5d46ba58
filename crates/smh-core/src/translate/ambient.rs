//! FailoverServices whose backing services are in Istio's ambient mode.
//!
//! In ambient mode no sidecar runs next to the caller: ztunnel carries its traffic, and L7
//! policy (routes, DestinationRules, outlier detection) is applied only by a waypoint, the
//! Envoy proxy that a Service or ServiceEntry uses through the `istio.io/use-waypoint` label
//! (on the object, else on its namespace; `istio.io/use-waypoint-namespace` names the
//! waypoint's namespace). So, for a FailoverService with an ambient backing service:
//!
//! - **native** is the strategy. istiod builds a waypoint's cluster for each subset of a
//!   Service's DestinationRule (`inbound-vip|<port>|http/<subset>|<host>`) with the subset's
//!   outlier detection and load balancer, and splits its endpoints into priorities by
//!   `failoverPriority` exactly as for a sidecar (the calling proxy's labels only matter for
//!   entries without `=value`, which the native translation does not write). The hostname's
//!   ServiceEntry carries `istio.io/use-waypoint` and `istio.io/use-waypoint-namespace` so
//!   that ztunnel sends the hostname's traffic to the backing Service's waypoint, and the
//!   waypoint takes the VirtualService route to the subset. The route is a VirtualService,
//!   not an HTTPRoute: a Gateway API `backendRef` names a Service, never a DestinationRule
//!   subset, and the failover policy must stay on a subset so that callers of the Service's
//!   own name keep their usual load balancing. Istio still calls VirtualService on waypoints
//!   alpha.
//! - **aggregate** is refused: an EnvoyFilter has no effect on waypoints (istio#55279).
//! - **auto** picks native; when native cannot be exact there is no fallback.
//!
//! Each using cluster needs, for the backing Service there (else for the primary's), a
//! waypoint that exists (a Gateway of class `istio-waypoint` with an address), takes
//! Service traffic (`istio.io/waypoint-for` `service` or `all`) and accepts Services and
//! ServiceEntries from the ServiceEntry's namespace, `service-mesh-hub` (its listener's
//! `allowedRoutes`; Istio refuses the binding otherwise). istiod's waypoint reads a
//! VirtualService only from the ServiceEntry's namespace or its own, so the FailoverService
//! must be in one of them.

use std::collections::BTreeMap;

use crate::consts::SMH_NAMESPACE;
use crate::model::topology::WaypointRef;

use super::context::{Ctx, Failover, TargetId};

/// The label naming a cluster's Istio network (on istiod's namespace) and the network an
/// east-west gateway leads into (on its Service).
pub const NETWORK_LABEL: &str = "topology.istio.io/network";
/// istiod's switch for ambient mode across clusters.
pub const MULTI_NETWORK_ENV: &str = "AMBIENT_ENABLE_MULTI_NETWORK";
/// The port on which an east-west gateway takes HBONE (ambient) traffic.
pub const HBONE_PORT: i32 = 15008;

/// The label that binds a Service or ServiceEntry to a waypoint.
pub const USE_WAYPOINT_LABEL: &str = "istio.io/use-waypoint";
/// The label that names the namespace of [`USE_WAYPOINT_LABEL`]'s waypoint.
pub const USE_WAYPOINT_NAMESPACE_LABEL: &str = "istio.io/use-waypoint-namespace";

/// Why the aggregate strategy cannot serve ambient backing services.
pub(crate) const AGGREGATE_REFUSED: &str = "an EnvoyFilter (the aggregate strategy) has no effect on Istio ambient waypoints (istio#55279), and in ambient mode only a waypoint applies routes and outlier detection";

/// The backing services of `f` that are in ambient mode (by the topology), as
/// `name.namespace.cluster` keys.
pub(crate) fn ambient_backing(ctx: &Ctx, f: &Failover) -> Vec<String> {
    f.fs.spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
        .filter(|k| {
            ctx.cluster(&k.cluster_name)
                .and_then(|c| c.service(&k.name, &k.namespace))
                .is_some_and(|s| s.ambient.is_some())
        })
        .map(|k| TargetId::new(&k.name, &k.namespace, &k.cluster_name).key())
        .collect()
}

/// How to give Service `namespace/name` a waypoint that the native translation can use.
pub(crate) fn how_to_add_waypoint(namespace: &str, name: &str) -> String {
    format!(
        "add one: `istioctl waypoint apply -n {namespace} --enroll-namespace` creates Gateway {namespace}/waypoint and labels the namespace istio.io/use-waypoint=waypoint (or label only the Service: `kubectl label service -n {namespace} {name} istio.io/use-waypoint=waypoint`); then let it accept ServiceEntries from {SMH_NAMESPACE}, e.g. `kubectl patch gateway -n {namespace} waypoint --type json -p '[{{\"op\":\"add\",\"path\":\"/spec/listeners/0/allowedRoutes\",\"value\":{{\"namespaces\":{{\"from\":\"All\"}}}}}}]'`, or apply the Gateway yourself: {{apiVersion: gateway.networking.k8s.io/v1, kind: Gateway, metadata: {{name: waypoint, namespace: {namespace}, labels: {{istio.io/waypoint-for: service}}}}, spec: {{gatewayClassName: istio-waypoint, listeners: [{{name: mesh, port: 15008, protocol: HBONE, allowedRoutes: {{namespaces: {{from: All}}}}}}]}}}}"
    )
}

/// The waypoint that serves the FailoverService's hostname in each using cluster, or why
/// there is none that can. `primary` is the first backing service's cluster; `namespace/name`
/// the backing Service.
pub(crate) fn waypoints(
    ctx: &Ctx,
    f: &Failover,
    users: &[String],
    primary: &str,
    namespace: &str,
    name: &str,
) -> Result<BTreeMap<String, WaypointRef>, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut reasons = Vec::new();
    let primary_ref = ctx
        .cluster(primary)
        .and_then(|c| c.service(name, namespace))
        .and_then(|s| s.ambient.as_ref())
        .and_then(|a| a.waypoint.clone());
    let fix = how_to_add_waypoint(namespace, name);
    for cm in users {
        let Some(cluster) = ctx.cluster(cm) else {
            continue;
        };
        if !ctx.mesh(cm).is_some_and(|m| m.ambient) {
            reasons.push(format!(
                "{cm} runs no ztunnel (no ztunnel DaemonSet next to istiod), so nothing carries ambient callers' traffic to a waypoint there: install Istio's ambient profile in {cm}"
            ));
            continue;
        }
        let local = cluster.service(name, namespace);
        let wref = match local {
            Some(s) => s.ambient.as_ref().and_then(|a| a.waypoint.clone()),
            None => primary_ref.clone(),
        };
        let Some(wref) = wref else {
            let whose = if local.is_some() {
                format!("Service {namespace}/{name} in {cm} uses no waypoint")
            } else {
                format!(
                    "{cm} has no Service {namespace}/{name}, and its Service in {primary} uses no waypoint"
                )
            };
            reasons.push(format!(
                "{whose} (neither it nor its namespace has the label {USE_WAYPOINT_LABEL}), and in ambient mode only a waypoint applies the route and the failover priority: {fix}"
            ));
            continue;
        };
        let Some(w) = cluster.waypoint(&wref) else {
            reasons.push(format!(
                "Service {namespace}/{name} uses waypoint {wref}, which {cm} does not have (no Gateway {wref} of class istio-waypoint with an address: missing, or its proxy is not ready): {fix}"
            ));
            continue;
        };
        if !w.serves_services() {
            reasons.push(format!(
                "waypoint {wref} in {cm} takes {} traffic only (label istio.io/waypoint-for: {}), not Service traffic: set istio.io/waypoint-for to service or all",
                w.waypoint_for, w.waypoint_for
            ));
            continue;
        }
        if !w.allows_namespace(SMH_NAMESPACE) {
            reasons.push(format!(
                "waypoint {wref} in {cm} accepts Services and ServiceEntries from {} only (its listener's allowedRoutes), and the FailoverService's ServiceEntry is in {SMH_NAMESPACE}: allow {SMH_NAMESPACE}, e.g. `kubectl patch gateway -n {} {} --type json -p '[{{\"op\":\"add\",\"path\":\"/spec/listeners/0/allowedRoutes\",\"value\":{{\"namespaces\":{{\"from\":\"All\"}}}}}}]'`",
                allowed(w),
                w.namespace,
                w.name
            ));
            continue;
        }
        if f.namespace() != SMH_NAMESPACE && f.namespace() != w.namespace {
            reasons.push(format!(
                "waypoint {wref} in {cm} reads a VirtualService for the ServiceEntry {SMH_NAMESPACE}/{} only from {SMH_NAMESPACE} or its own namespace {}, and the FailoverService (so its VirtualService) is in {}: move the FailoverService to {SMH_NAMESPACE}",
                f.name(),
                w.namespace,
                f.namespace()
            ));
            continue;
        }
        out.insert(cm.clone(), wref);
    }
    if reasons.is_empty() {
        Ok(out)
    } else {
        Err(reasons)
    }
}

fn allowed(w: &crate::model::topology::Waypoint) -> String {
    std::iter::once(w.namespace.as_str())
        .chain(w.allowed_namespaces.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The oldest Istio release whose ambient mode spans clusters (alpha there).
pub(crate) const AMBIENT_MULTICLUSTER_SINCE: (u32, u32) = (1, 27);

/// What Istio's ambient mode across clusters asks of the install, for a FailoverService
/// whose callers in `users` fail over to backing services in other clusters. Upstream Istio
/// supports it from 1.27, on multi-primary meshes on different networks, with istiod's
/// `AMBIENT_ENABLE_MULTI_NETWORK=true`. With that switch on, as the pinned istiod does it
/// (and the Istio oracle shows): the waypoint's istiod takes a Service's scope from its own
/// cluster's copy (its `serviceScopeConfigs`) and gives the waypoint no other cluster's
/// endpoints of a local Service; it gives endpoints on another network only through an
/// east-west gateway into that network; and the other cluster's istiod gives its east-west
/// gateway routes only for the Services its own scopes make global. Each of these broken
/// means the failover can never reach that cluster (errors). The rest is what upstream does
/// not test or support (warnings): an older Istio, the switch off (istiod then gives the
/// waypoint the other cluster's endpoints at their pod addresses, as on one network), one
/// network, or waypoints named differently in different clusters.
pub(crate) struct AcrossClusters {
    /// Why the failover cannot reach a backing cluster.
    pub errors: Vec<String>,
    /// What upstream Istio does not support or test.
    pub warnings: Vec<String>,
}

/// [`AcrossClusters`] for `f`: `users` are its using clusters, `waypoints` the waypoint each
/// uses (from [`waypoints`]), `namespace/name` the backing Service.
pub(crate) fn across_clusters(
    ctx: &Ctx,
    f: &Failover,
    users: &[String],
    waypoints: &BTreeMap<String, WaypointRef>,
    namespace: &str,
    name: &str,
) -> AcrossClusters {
    use crate::model::topology::Scope;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let backing: Vec<String> =
        f.fs.spec
            .backing_services
            .iter()
            .filter_map(|b| b.kube_service.as_ref())
            .map(|k| k.cluster_name.clone())
            .collect();
    let mut old_istio_noted = std::collections::BTreeSet::new();
    let mut note_old_istio = |cluster: &str, warnings: &mut Vec<String>| {
        if !old_istio_noted.insert(cluster.to_string()) {
            return;
        }
        if let Some(v) = ctx.mesh(cluster).and_then(|m| m.istio_version().ok())
            && (v.major, v.minor) < AMBIENT_MULTICLUSTER_SINCE
        {
            warnings.push(format!(
                "{cluster} runs Istio {}.{}.{}, and Istio's ambient mode spans clusters only from {}.{} (alpha there): upgrade Istio in {cluster}",
                v.major, v.minor, v.patch, AMBIENT_MULTICLUSTER_SINCE.0, AMBIENT_MULTICLUSTER_SINCE.1
            ));
        }
    };
    let gateways: Vec<&crate::model::topology::EastWestGateway> = ctx
        .topology
        .clusters
        .iter()
        .flat_map(|c| &c.east_west_gateways)
        .collect();
    for caller in users {
        let Some(mc) = ctx.mesh(caller) else {
            continue;
        };
        let remote: Vec<&String> = backing.iter().filter(|r| *r != caller).collect();
        if remote.is_empty() {
            continue;
        }
        note_old_istio(caller, &mut warnings);
        if !mc.ambient_multi_network {
            warnings.push(format!(
                "istiod in {caller} runs without {MULTI_NETWORK_ENV}=true, which upstream Istio requires for ambient mode across clusters: without it istiod gives {caller}'s waypoint the endpoints of {namespace}/{name} in {} at their pod addresses, as on one flat network, which upstream does not test; set it on istiod (Helm: --set env.{MULTI_NETWORK_ENV}=true)",
                remote.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        if mc.ambient_multi_network
            && let Some(svc) = ctx.cluster(caller).and_then(|c| c.service(name, namespace))
            && mc.scope_of(svc) == Scope::Local
        {
            errors.push(format!(
                "Service {namespace}/{name} in {caller} is local for istiod in {caller} (no GLOBAL entry of its mesh config's serviceScopeConfigs selects it), and with {MULTI_NETWORK_ENV}=true istiod takes a Service's scope from its own cluster's copy and gives {caller}'s waypoint no other cluster's endpoints of a local Service, so the failover never reaches {}: {}",
                remote.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
                make_global(namespace, name)
            ));
        }
        for r in &remote {
            note_old_istio(r, &mut warnings);
            let Some(rc) = ctx.cluster(r) else {
                continue;
            };
            let mr = rc.mesh.as_ref();
            if mc.ambient_multi_network {
                let (nc, nr) = (mc.network.as_deref(), mr.and_then(|m| m.network.as_deref()));
                match (nc, nr) {
                    (Some(nc), Some(nr)) if nc != nr => {
                        if !gateways.iter().any(|g| g.network == nr) {
                            errors.push(format!(
                                "{r} is on network {nr} and {caller} on {nc}, and no east-west gateway leads into {nr} (a Service labelled {NETWORK_LABEL}={nr} with port {HBONE_PORT} and an external address), so istiod gives {caller}'s waypoint none of {r}'s endpoints and the failover never reaches {r}: add one in {r} (an Istio Gateway of class istio-east-west, as Istio's ambient multicluster guide installs it), and wait for its load balancer address"
                            ));
                        } else if let Some(mr) = mr {
                            if !mr.ambient_multi_network {
                                warnings.push(format!(
                                    "istiod in {r} runs without {MULTI_NETWORK_ENV}=true, and {caller}'s waypoint reaches {r}'s endpoints through {r}'s east-west gateway, which istiod programs as one (class istio-east-west) only with it; upstream requires it in every cluster: set it in {r} too"
                                ));
                            } else if let Some(svc) = rc.service(name, namespace)
                                && mr.scope_of(svc) == Scope::Local
                            {
                                errors.push(format!(
                                    "Service {namespace}/{name} in {r} is local for istiod in {r} (no GLOBAL entry of its mesh config's serviceScopeConfigs selects it): {caller}'s waypoint sends {r}'s share through {r}'s east-west gateway, and istiod in {r} gives that gateway routes only for Services it makes global, so the connection ends at the gateway and the failover never reaches {r}'s endpoints: {}",
                                    make_global(namespace, name)
                                ));
                            }
                        }
                    }
                    _ => warnings.push(format!(
                        "{caller} and {r} are on {}, and upstream Istio supports ambient mode across clusters only on different networks (one network is untested): label istiod's namespace in each cluster {NETWORK_LABEL}=<network> and add east-west gateways",
                        match (nc, nr) {
                            (Some(n), Some(_)) => format!("the same network ({n})"),
                            _ => format!("the same network as far as kubectl-smh can tell ({NETWORK_LABEL} is not set on istiod's namespace in {})", [(caller.as_str(), nc), (r.as_str(), nr)].iter().filter(|(_, n)| n.is_none()).map(|(c, _)| *c).collect::<Vec<_>>().join(" and ")),
                        }
                    )),
                }
            }
            let theirs = rc
                .service(name, namespace)
                .and_then(|s| s.ambient.as_ref())
                .map(|a| a.waypoint.clone());
            if let (Some(mine), Some(theirs)) = (waypoints.get(caller), theirs)
                && theirs.as_ref() != Some(mine)
            {
                warnings.push(format!(
                    "Service {namespace}/{name} uses waypoint {mine} in {caller} but {} in {r}, and upstream Istio's ambient mode across clusters assumes waypoints of the same name and namespace in every cluster: use {mine} in {r} too",
                    theirs.map(|w| w.to_string()).unwrap_or_else(|| "none".to_string())
                ));
            }
        }
    }
    AcrossClusters { errors, warnings }
}

/// The label that makes a Service global under Istio's `ambient` profile's
/// `serviceScopeConfigs`.
pub const GLOBAL_LABEL: &str = "istio.io/global";

/// How to make Service `namespace/name` global.
fn make_global(namespace: &str, name: &str) -> String {
    format!(
        "make it global in every cluster, e.g. `kubectl label service -n {namespace} {name} {GLOBAL_LABEL}=true` (what Istio's ambient profile selects), or add a GLOBAL entry to serviceScopeConfigs"
    )
}
