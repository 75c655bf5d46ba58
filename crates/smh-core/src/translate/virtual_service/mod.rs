//! TrafficPolicy → VirtualService HTTP routes (SMH's VirtualService translator and its
//! decorators: traffic-shift, retries, timeout, fault-injection, mirror,
//! header-manipulation, cors).
//!
//! Decisions, where SMH versions differ:
//! - Policies with equal request matchers (source selector labels and namespaces, ignoring
//!   clusters and order, plus identical `httpRequestMatchers`) share **one** route, as in
//!   SMH v0.10+. v0.9.2 wrote one route per policy, so a second policy with the same
//!   matchers (say, retries next to a timeout) was shadowed by the first and silently had
//!   no effect. Two policies that set the same route field to different values conflict:
//!   the later one is reported for that traffic target, as SMH's field-ownership registry
//!   did.
//! - A policy whose `sourceSelector.clusters` does not include the cluster the
//!   VirtualService is written to is skipped (SMH checked only the first policy of a group).
//! - A single route destination has no `weight` (Istio treats it as 100 %).
//! - For a service with several ports, each route is repeated per port with `match.port`
//!   and, where the destination has no port yet, `destination.port`; ports set by a traffic
//!   shift are kept (SMH v0.10+; earlier releases overwrote them).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::istio::common::{Percent, PortSelector, StringMatch};
use crate::istio::virtual_service::{
    CorsPolicy, Destination, FaultAbort, FaultDelay, HeaderOperations, Headers, HttpFaultInjection,
    HttpMatchRequest, HttpRetry, HttpRoute, HttpRouteDestination,
};
use crate::model::diag::ObjectId;
use crate::model::naming;
use crate::model::topology::MultiClusterMode;
use crate::model::types::{HttpMatcher, TrafficPolicySpec, WeightedDestination, WorkloadSelector};

use super::context::{Ctx, Policy, TargetId, TranslationNotes, proto_duration};

/// A label set selecting a subset (empty = no subset).
pub type Labels = BTreeMap<String, String>;

/// A traffic target that generated config in `consumer` routes to, so the consumer
/// needs a way to reach it (a federated DestinationRule in global mode, a per-cluster
/// subset in multi-primary mode).
#[derive(Debug, Clone)]
pub struct Use {
    /// The cluster whose generated config routes to the target.
    pub consumer: String,
    /// The traffic target routed to.
    pub target: TargetId,
    /// The subset routed to (empty: the whole service).
    pub subset: Labels,
    /// The policy or FailoverService that made the route.
    pub owner: ObjectId,
}

/// The routes of one VirtualService and what they need.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    pub http: Vec<HttpRoute>,
    pub owners: BTreeSet<ObjectId>,
    pub uses: Vec<Use>,
    /// Whether some route goes to the default destination (the service itself).
    pub default_destination: bool,
}

/// The subset name kubectl-smh uses in multi-primary mode for the endpoints of `cluster`
/// (label `topology.istio.io/cluster`), combined with a user subset if any:
/// `cluster-<cluster>` or `<subset>-cluster-<cluster>`, sanitized like SMH names.
pub(crate) fn multi_primary_subset_name(cluster: &str, subset: &Labels) -> String {
    if subset.is_empty() {
        naming::sanitize_name_v2(&format!("cluster-{cluster}"))
    } else {
        naming::sanitize_name_v2(&format!(
            "{}-cluster-{cluster}",
            naming::subset_name(subset)
        ))
    }
}

/// The labels of a multi-primary per-cluster subset: the user subset's, plus
/// `topology.istio.io/cluster: <cluster_id>`, the Istio cluster ID with which Istio labels
/// that cluster's endpoints (not the SMH cluster name, see [`Ctx::cluster_id`]).
pub(crate) fn multi_primary_subset_labels(cluster_id: &str, subset: &Labels) -> Labels {
    let mut labels = subset.clone();
    labels.insert(
        crate::consts::ISTIO_CLUSTER_LABEL.to_string(),
        cluster_id.to_string(),
    );
    labels
}

/// Host and subset by which workloads in `source` reach target `x` (with user subset
/// labels `subset`): in global mode the local FQDN in the same cluster and
/// `name.ns.svc.<cluster>.global` elsewhere; in multi-primary mode the shared
/// `name.ns.svc.<domain>` pinned to `x`'s cluster by a per-cluster subset.
pub(crate) fn destination_for(
    ctx: &Ctx,
    source: &str,
    x: &TargetId,
    subset: &Labels,
) -> (String, Option<String>) {
    match ctx.mode(source) {
        MultiClusterMode::MultiPrimary => (
            format!("{}.{}.svc.{}", x.name, x.namespace, ctx.domain(source)),
            Some(multi_primary_subset_name(&x.cluster, subset)),
        ),
        MultiClusterMode::Global => {
            let host = if x.cluster == source {
                ctx.local_fqdn(x)
            } else {
                Ctx::global_fqdn(x)
            };
            (
                host,
                (!subset.is_empty()).then(|| naming::subset_name(subset)),
            )
        }
    }
}

/// SMH's field-ownership registry: setting a field to the value it already has is a no-op;
/// the first policy to change it owns it; a later policy changing it again conflicts.
#[derive(Default)]
pub(crate) struct FieldOwners(BTreeMap<String, ObjectId>);

impl FieldOwners {
    pub(crate) fn register<T: PartialEq>(
        &mut self,
        field: &str,
        current: &T,
        new: &T,
        by: &ObjectId,
    ) -> Result<bool, String> {
        if current == new {
            return Ok(false);
        }
        if let Some(owner) = self.0.get(field)
            && owner != by
        {
            return Err(format!(
                "field {field} is already owned by *v1alpha2.TrafficPolicy [{}.{}.] (priority 0)",
                owner.name, owner.namespace
            ));
        }
        self.0.insert(field.to_string(), by.clone());
        Ok(true)
    }
}

/// Build the HTTP routes of the VirtualService for target `t` as written to cluster
/// `source` (its own cluster for the local VirtualService, another for a federated copy).
/// `default_host` is the target's host as seen from `source`.
pub(crate) fn build_routes(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    t: &TargetId,
    source: &str,
    default_host: &str,
) -> Routes {
    let mut out = Routes::default();
    let applied: Vec<&Policy> = ctx
        .applied
        .get(t)
        .map(|ids| ids.iter().map(|&i| &ctx.policies[i]).collect())
        .unwrap_or_default();

    // Group policies by equal request matchers, keeping first-seen order.
    let mut groups: Vec<Vec<&Policy>> = Vec::new();
    for p in applied {
        match groups
            .iter_mut()
            .find(|g| same_request_matchers(&g[0].tp.spec, &p.tp.spec))
        {
            Some(g) => g.push(p),
            None => groups.push(vec![p]),
        }
    }

    let ports = ctx.ports(t);
    for group in groups {
        let base = HttpRoute {
            matches: request_matchers(&group[0].tp.spec),
            ..Default::default()
        };
        let mut route = base.clone();
        let mut fields = FieldOwners::default();
        for p in group {
            if !crate::model::select::workload_selector_contains_cluster(
                &p.tp.spec.source_selector,
                source,
            ) {
                continue;
            }
            let before = route.clone();
            decorate(
                ctx,
                report,
                p,
                t,
                source,
                &mut route,
                &mut fields,
                &mut out.uses,
            );
            if route != before {
                out.owners.insert(p.id.clone());
            }
        }
        if route == base {
            continue;
        }
        if route.route.is_empty() {
            out.default_destination = true;
            route.route = vec![HttpRouteDestination {
                destination: Destination {
                    host: default_host.to_string(),
                    ..Default::default()
                },
                weight: None,
            }];
        }
        for r in per_port(route, &ports) {
            out.http.extend(split_by_matchers(r));
        }
    }
    out.http.sort_by(route_specificity);
    out
}

mod decorators;
mod order;
#[cfg(test)]
mod tests;

use decorators::decorate;
pub(crate) use order::request_matchers;
use order::{per_port, route_specificity, same_request_matchers, split_by_matchers};
