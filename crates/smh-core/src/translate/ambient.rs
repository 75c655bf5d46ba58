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
