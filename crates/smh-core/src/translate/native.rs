//! The native translation of a FailoverService (see [`super::strategy`]), in every cluster
//! of its `spec.meshes`:
//!
//! - the ServiceEntry `service-mesh-hub/<fs>`, as in the aggregate translation: callers
//!   resolve the hostname to its VIP (an Istio maintainer would ask for the same, since the
//!   hostname is a name of its own, not a Kubernetes Service);
//! - VirtualService `<fs namespace>/<fs>` on the hostname, routing to subset
//!   `failover-<fs>-<fs namespace>` of the backing Service's host on its port;
//! - that subset, in the backing Service's DestinationRule: no labels (every endpoint),
//!   `loadBalancer.localityLbSetting.failoverPriority: ["topology.istio.io/cluster=<primary
//!   ID>"]` and the outlier detection istiod needs to apply it.
//! - for ambient backing services, the ServiceEntry also carries `istio.io/use-waypoint`
//!   and `istio.io/use-waypoint-namespace` naming the backing Service's waypoint in that
//!   cluster, which then applies the route and the subset (see [`super::ambient`]). The other backing cluster's
//!   DestinationRule gets the subset too (without policy), so that with several networks
//!   its east-west gateway can route the subset's SNI.

use crate::istio::VirtualService;
use crate::istio::common::PortSelector;
use crate::istio::destination_rule::{
    LoadBalancerSettings, LocalityLoadBalancerSetting, Subset, TrafficPolicy,
};
use crate::istio::virtual_service::{
    Destination, HttpRoute, HttpRouteDestination, VirtualServiceSpec,
};
use crate::model::diag::ObjectId;

use super::Emitted;
use super::ambient::{USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL};
use super::context::{Ctx, Failover, TranslationNotes};
use super::failover::service_entry;
use super::strategy::NativePlan;

/// A subset the native translation adds to a Service's DestinationRule in one cluster.
pub(crate) struct NativeSubset {
    /// The cluster whose DestinationRule gets it.
    pub consumer: String,
    /// The Service (its DestinationRule is `namespace/name`).
    pub namespace: String,
    pub name: String,
    pub subset: Subset,
    pub owner: ObjectId,
}

/// Emit the native objects of `f` for every cluster in `users` (its meshes).
pub(super) fn translate_native(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    f: &Failover,
    plan: &NativePlan,
    users: &[String],
    out: &mut Vec<Emitted>,
    natives: &mut Vec<NativeSubset>,
) {
    let spec = &f.fs.spec;
    let fs_label = format!("FailoverService {}/{}", f.namespace(), f.name());
    let Some(port) = &spec.port else { return };
    for cm in users {
        let host = plan.host(ctx, cm);
        let mut se = service_entry(f, port);
        if let Some(w) = plan.waypoints.get(cm) {
            se.metadata.labels = Some(
                [
                    (USE_WAYPOINT_LABEL.to_string(), w.name.clone()),
                    (
                        USE_WAYPOINT_NAMESPACE_LABEL.to_string(),
                        w.namespace.clone(),
                    ),
                ]
                .into_iter()
                .collect(),
            );
            report.explain(
                cm,
                format!(
                    "{fs_label}: the backing services are in Istio's ambient mode, so ServiceEntry {}/{} carries {USE_WAYPOINT_LABEL}: {} and {USE_WAYPOINT_NAMESPACE_LABEL}: {}: ztunnel sends {} to waypoint {w}, which applies the VirtualService and the DestinationRule subset below",
                    crate::consts::SMH_NAMESPACE,
                    f.name(),
                    w.name,
                    w.namespace,
                    spec.hostname,
                ),
            );
        }
        out.push(Emitted::new(cm, [f.id.clone()], se));
        let vs = VirtualService::namespaced(
            f.namespace(),
            f.name(),
            VirtualServiceSpec {
                hosts: vec![spec.hostname.clone()],
                http: vec![HttpRoute {
                    route: vec![HttpRouteDestination {
                        destination: Destination {
                            host: host.clone(),
                            subset: Some(plan.subset.clone()),
                            port: Some(PortSelector { number: plan.port }),
                        },
                        weight: None,
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
        out.push(Emitted::new(cm, [f.id.clone()], vs));
        let priority = plan.failover_priority();
        report.explain(
            cm,
            format!(
                "{fs_label}: VirtualService {}/{} routes {} to subset {} of {host}, whose DestinationRule {}/{} sets failoverPriority {} and outlier detection: priority 0 is the endpoints of {} (Istio cluster ID {}), priority 1 the others",
                f.namespace(),
                f.name(),
                spec.hostname,
                plan.subset,
                plan.namespace,
                plan.name,
                priority.join(", "),
                plan.primary,
                plan.primary_id,
            ),
        );
        if !ctx.cluster_id_known(&plan.primary) {
            report.explain(
                cm,
                format!(
                    "warning: the Istio cluster ID of {} is not known (its mesh has no clusterId), so {fs_label} assumes it is the SMH cluster name; if istiod's CLUSTER_ID differs, no endpoint matches and both clusters share priority 0: set the mesh's clusterId",
                    plan.primary
                ),
            );
        }
        natives.push(NativeSubset {
            consumer: cm.clone(),
            namespace: plan.namespace.clone(),
            name: plan.name.clone(),
            subset: Subset {
                name: plan.subset.clone(),
                labels: Default::default(),
                traffic_policy: Some(TrafficPolicy {
                    load_balancer: Some(LoadBalancerSettings {
                        locality_lb_setting: Some(LocalityLoadBalancerSetting {
                            failover_priority: priority,
                            enabled: None,
                        }),
                    }),
                    outlier_detection: plan.outlier.get(cm).cloned(),
                    ..Default::default()
                }),
            },
            owner: f.id.clone(),
        });
        for c in std::iter::once(&plan.primary).chain(plan.secondary.as_ref()) {
            if c == cm || ctx.mesh(c).is_none() {
                continue;
            }
            natives.push(NativeSubset {
                consumer: c.clone(),
                namespace: plan.namespace.clone(),
                name: plan.name.clone(),
                subset: Subset {
                    name: plan.subset.clone(),
                    labels: Default::default(),
                    traffic_policy: None,
                },
                owner: f.id.clone(),
            });
            report.explain(
                c,
                format!(
                    "{fs_label}: subset {} is also defined in DestinationRule {}/{} here, so an east-west gateway in {c} can route callers from {cm} to it",
                    plan.subset, plan.namespace, plan.name
                ),
            );
        }
    }
}
