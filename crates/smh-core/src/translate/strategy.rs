//! Which translation each FailoverService gets.
//!
//! - **aggregate** (SMH's translation): a ServiceEntry for the hostname and an EnvoyFilter
//!   that replaces the hostname's Envoy cluster with an aggregate cluster listing one Envoy
//!   cluster per backing service, in priority order.
//! - **native**: Istio's own API. The backing services must be one Kubernetes Service that
//!   Istio multi-primary merges into one host with endpoints from every cluster. A subset
//!   of that host's DestinationRule (no labels: all endpoints) sets
//!   `loadBalancer.localityLbSetting.failoverPriority: ["topology.istio.io/cluster=<ID of
//!   the first backing service's cluster>"]` and the outlier detection, and a VirtualService
//!   routes the hostname (and traffic shifts to the FailoverService) to that subset. No
//!   EnvoyFilter.
//!
//! # Why native is exact, and when
//!
//! istiod splits the endpoints of a cluster with `failoverPriority` into priority levels
//! (`applyFailoverPriorityPerLocality` in `pilot/pkg/networking/core/loadbalancer`): for an
//! entry `label`, an endpoint matches when its label equals the *calling proxy's* label;
//! for an entry `label=value` (supported by the pinned Istio, `priorityLabelOverrides`),
//! when it equals `value`, whatever the caller's labels. With the single entry
//! `topology.istio.io/cluster=<primary ID>` every caller, in any cluster, gets the primary
//! cluster's endpoints at priority 0 and all other endpoints at priority 1. A plain
//! `topology.istio.io/cluster` entry would instead prefer the *caller's* cluster, so a
//! caller in the secondary's cluster would stay there: that is not the FailoverService's
//! order. A second entry for the same label replaces the first's value (the overrides are a
//! map), so one label gives at most two levels: native expresses a FailoverService exactly
//! only when
//!
//! 1. every cluster that uses it (its `spec.meshes`) runs Istio multi-primary: in global
//!    mode (SMH's `.global` federation) each cluster's service is a host of its own, and
//!    `failoverPriority` only orders the endpoints of one host;
//! 2. that Istio is 1.18 or later (the release that added `label=value` entries);
//! 3. the backing services are one Service (same name and namespace) in at most two
//!    clusters, and no other cluster whose endpoints those istiods merge into the host has
//!    that Service (it would share priority 1 with the secondary);
//! 4. the backing services have one port, the same in every cluster (the route names it);
//! 5. outlier detection applies to the backing services from every using cluster, the same
//!    for each of them (istiod applies `failoverPriority` only to a cluster with outlier
//!    detection; one Envoy cluster has one outlier detection);
//! 6. no traffic shift sends to a subset of the FailoverService.
//!
//! `auto` (the default) picks native when all hold and aggregate otherwise; asking for
//! native when one fails is an error that names it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::consts::{ISTIO_CLUSTER_LABEL, STRATEGY_ANNOTATION};
use crate::istio::destination_rule::OutlierDetection;
use crate::model::diag::StatusTarget;
use crate::model::naming;
use crate::model::topology::{IstioVersion, MultiClusterMode, WaypointRef};

use super::ambient;
use super::context::{Ctx, Failover, TranslationNotes};
use super::dr;
use super::failover::{backing_services, mesh_clusters};

/// The first Istio release whose `failoverPriority` accepts `label=value` entries.
pub const FIRST_NATIVE_ISTIO: IstioVersion = IstioVersion {
    major: 1,
    minor: 18,
    patch: 0,
};

/// How a FailoverService is translated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strategy {
    /// `native` when it is exact, else `aggregate`.
    #[default]
    Auto,
    /// DestinationRule `failoverPriority` and a VirtualService route; no EnvoyFilter.
    Native,
    /// SMH's ServiceEntry and EnvoyFilter aggregate cluster.
    Aggregate,
}

impl Strategy {
    /// The name used by `--strategy` and the annotation.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Native => "native",
            Strategy::Aggregate => "aggregate",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Strategy::Auto),
            "native" => Ok(Strategy::Native),
            "aggregate" => Ok(Strategy::Aggregate),
            other => Err(format!(
                "unknown strategy \"{other}\": expected auto, native or aggregate"
            )),
        }
    }
}

/// Options of [`super::translate_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TranslateOptions {
    /// The strategy for FailoverServices without the strategy annotation (`--strategy`).
    pub strategy: Strategy,
}

/// What the native translation of one FailoverService writes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NativePlan {
    /// The backing Service's namespace and name.
    pub namespace: String,
    pub name: String,
    /// Its one port.
    pub port: u32,
    /// The SMH cluster of the first backing service, and its Istio cluster ID.
    pub primary: String,
    pub primary_id: String,
    /// The other backing cluster, if any.
    pub secondary: Option<String>,
    /// The subset of the Service's DestinationRule that carries the priority.
    pub subset: String,
    /// The outlier detection, per using cluster.
    pub outlier: BTreeMap<String, OutlierDetection>,
    /// For ambient backing services: the waypoint that serves the hostname, per using
    /// cluster (see [`super::ambient`]); empty for sidecars.
    pub waypoints: BTreeMap<String, WaypointRef>,
}

impl NativePlan {
    /// `name.ns.svc.<domain of cluster>`.
    pub(crate) fn host(&self, ctx: &Ctx, cluster: &str) -> String {
        format!(
            "{}.{}.svc.{}",
            self.name,
            self.namespace,
            ctx.domain(cluster)
        )
    }

    /// The `failoverPriority` list.
    pub(crate) fn failover_priority(&self) -> Vec<String> {
        vec![format!("{ISTIO_CLUSTER_LABEL}={}", self.primary_id)]
    }
}

/// The strategy chosen for one FailoverService, and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    /// `Some` for native.
    pub native: Option<NativePlan>,
    /// Why, in words.
    pub why: String,
}

/// Decide every FailoverService's strategy. Errors (an unknown annotation value, native asked
/// for where it is not exact, a flag contradicting the annotation) are reported; the
/// FailoverService is then translated with aggregate so that its other problems are
/// reported too.
pub(crate) fn decide_all(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    options: TranslateOptions,
) -> BTreeMap<(String, String), Decision> {
    let mut out = BTreeMap::new();
    for f in &ctx.failovers {
        let key = (f.namespace().to_string(), f.name().to_string());
        if out.contains_key(&key) {
            continue;
        }
        out.insert(key, decide(ctx, report, f, options));
    }
    out
}

fn annotation_field() -> String {
    format!("metadata.annotations[{STRATEGY_ANNOTATION}]")
}

fn decide(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    f: &Failover,
    options: TranslateOptions,
) -> Decision {
    let pinned =
        f.fs.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(STRATEGY_ANNOTATION));
    let (requested, by) = match pinned.map(|v| v.parse::<Strategy>()) {
        None => (
            options.strategy,
            if options.strategy == Strategy::Auto {
                "the default strategy, auto".to_string()
            } else {
                format!("--strategy {}", options.strategy)
            },
        ),
        Some(Err(e)) => {
            report.failover_error(f, StatusTarget::TopLevel, &annotation_field(), e);
            return aggregate("its strategy annotation is invalid".into());
        }
        Some(Ok(s)) => {
            if options.strategy != Strategy::Auto && options.strategy != s {
                report.failover_error(
                    f,
                    StatusTarget::TopLevel,
                    &annotation_field(),
                    format!(
                        "the annotation pins strategy {s}, but --strategy {} asks for {}: drop the flag, or change the annotation",
                        options.strategy, options.strategy
                    ),
                );
                return aggregate("its strategy annotation and --strategy disagree".into());
            }
            (s, format!("annotation {STRATEGY_ANNOTATION}: {s}"))
        }
    };
    let ambient = ambient::ambient_backing(ctx, f);
    if !ambient.is_empty() {
        let field = if pinned.is_some() {
            annotation_field()
        } else {
            "spec.backingServices".to_string()
        };
        return decide_ambient(ctx, report, f, requested, &by, &ambient, &field);
    }
    let blocked = native_plan(ctx, report, f);
    match (requested, blocked) {
        (Strategy::Aggregate, _) => aggregate(format!("strategy aggregate ({by})")),
        (_, Ok(plan)) => {
            let why = format!(
                "strategy native ({by}): the backing services are {}.{} in {}, one host in Istio multi-primary, so DestinationRule failoverPriority {} puts {}'s endpoints first for callers in every cluster, whatever their own cluster",
                plan.name,
                plan.namespace,
                std::iter::once(plan.primary.as_str())
                    .chain(plan.secondary.as_deref())
                    .collect::<Vec<_>>()
                    .join(" then "),
                plan.failover_priority().join(", "),
                plan.primary,
            );
            Decision {
                native: Some(plan),
                why,
            }
        }
        (Strategy::Native, Err(Some(reasons))) => {
            let field = if pinned.is_some() {
                annotation_field()
            } else {
                "spec".to_string()
            };
            report.failover_error(
                f,
                StatusTarget::TopLevel,
                &field,
                format!(
                    "strategy native ({by}) cannot express this FailoverService exactly: {}; use strategy aggregate or auto",
                    reasons.join("; ")
                ),
            );
            aggregate("native was asked for but is not exact".into())
        }
        (_, Err(Some(reasons))) => aggregate(format!(
            "strategy aggregate ({by}; native is not exact: {})",
            reasons.join("; ")
        )),
        (_, Err(None)) => aggregate(format!(
            "strategy aggregate ({by}; the FailoverService has errors)"
        )),
    }
}

/// [`decide`] for a FailoverService with ambient backing services (`ambient`, their keys):
/// native or an error, never aggregate (see [`super::ambient`]).
#[allow(clippy::too_many_arguments)]
fn decide_ambient(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    f: &Failover,
    requested: Strategy,
    by: &str,
    ambient: &[String],
    field: &str,
) -> Decision {
    let which = ambient.join(", ");
    if requested == Strategy::Aggregate {
        report.failover_error(
            f,
            StatusTarget::TopLevel,
            field,
            format!(
                "strategy aggregate ({by}) cannot serve the backing services in Istio's ambient mode ({which}): {}; use strategy native or auto",
                ambient::AGGREGATE_REFUSED
            ),
        );
        return aggregate("aggregate was asked for, but the backing services are ambient".into());
    }
    let users = using_clusters(ctx, f);
    let plan = native_plan(ctx, report, f).and_then(|mut plan| {
        let wps = ambient::waypoints(ctx, f, &users, &plan.primary, &plan.namespace, &plan.name)
            .map_err(Some)?;
        plan.waypoints = wps;
        let across =
            ambient::across_clusters(ctx, f, &users, &plan.waypoints, &plan.namespace, &plan.name);
        for w in across.warnings {
            report.warning(&f.source, &f.id, "spec.backingServices", w);
        }
        if across.errors.is_empty() {
            Ok(plan)
        } else {
            Err(Some(across.errors))
        }
    });
    match plan {
        Ok(plan) => {
            let why = format!(
                "strategy native ({by}): the backing services {which} are in Istio's ambient mode, where only a waypoint applies routes and outlier detection, so ServiceEntry {SMH_NS}/{} binds {} to waypoint {}, whose VirtualService route to subset {} of {}.{} gets DestinationRule failoverPriority {}: {}'s endpoints first for callers in every cluster (aggregate is not possible: {})",
                f.name(),
                f.fs.spec.hostname,
                plan.waypoints
                    .iter()
                    .map(|(c, w)| format!("{w} in {c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                plan.subset,
                plan.name,
                plan.namespace,
                plan.failover_priority().join(", "),
                plan.primary,
                ambient::AGGREGATE_REFUSED,
            );
            Decision {
                native: Some(plan),
                why,
            }
        }
        Err(Some(reasons)) => {
            report.failover_error(
                f,
                StatusTarget::TopLevel,
                field,
                format!(
                    "the backing services {which} are in Istio's ambient mode, where only strategy native works ({}), and native ({by}) cannot serve this FailoverService: {}",
                    ambient::AGGREGATE_REFUSED,
                    reasons.join("; ")
                ),
            );
            aggregate("the backing services are ambient, and native is not possible".into())
        }
        Err(None) => aggregate(format!(
            "strategy aggregate ({by}; the FailoverService has errors)"
        )),
    }
}

/// The SMH clusters of `f`'s meshes.
fn using_clusters(ctx: &Ctx, f: &Failover) -> Vec<String> {
    let Some(mesh_refs) = &f.fs.spec.meshes else {
        return Vec::new();
    };
    let mut scratch = TranslationNotes::default();
    mesh_clusters(ctx, &mut scratch, f, mesh_refs)
        .into_iter()
        .map(|(_, c)| c.name.clone())
        .collect()
}

const SMH_NS: &str = crate::consts::SMH_NAMESPACE;

fn aggregate(why: String) -> Decision {
    Decision { native: None, why }
}

/// The native plan, or why native is not exact (`None`: the FailoverService has errors
/// that its translation reports).
fn native_plan(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    f: &Failover,
) -> Result<NativePlan, Option<Vec<String>>> {
    let spec = &f.fs.spec;
    if spec.meshes.is_none() {
        return Err(None);
    }
    // Unknown meshes are reported by the FailoverService's own translation; not here.
    let users = using_clusters(ctx, f);
    let Ok(backing) = backing_services(ctx, spec) else {
        return Err(None);
    };
    if users.is_empty() || backing.is_empty() {
        return Err(None);
    }
    let mut reasons: Vec<String> = Vec::new();
    for cm in &users {
        let Some(mesh) = ctx.mesh(cm) else { continue };
        if mesh.mode != MultiClusterMode::MultiPrimary {
            reasons.push(format!(
                "{cm} is in global mode (SMH's .global federation), where each cluster's service is a host of its own and failoverPriority orders the endpoints of one host only"
            ));
        }
        match mesh.istio_version() {
            Ok(v) if v >= FIRST_NATIVE_ISTIO => {}
            Ok(_) => reasons.push(format!(
                "{cm} runs Istio {}, and failoverPriority takes label=value entries (the same order for every caller) only from Istio 1.18",
                mesh.version
            )),
            Err(e) => reasons.push(format!("{cm}: {e}")),
        }
    }
    let services: BTreeSet<(&str, &str)> = backing
        .iter()
        .map(|(b, _)| (b.namespace.as_str(), b.name.as_str()))
        .collect();
    if services.len() > 1 {
        reasons.push(format!(
            "the backing services are different Services ({}), and failoverPriority orders the endpoints of one",
            backing
                .iter()
                .map(|(b, _)| b.key())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut order: Vec<&str> = Vec::new();
    for (b, _) in &backing {
        if !order.contains(&b.cluster.as_str()) {
            order.push(&b.cluster);
        }
    }
    if order.len() > 2 {
        reasons.push(format!(
            "the backing services are in {} clusters ({}), and one failoverPriority label orders two levels only (topology.istio.io/cluster=<ID> first, every other cluster second)",
            order.len(),
            order.join(", ")
        ));
    }
    let ports: BTreeSet<Vec<u32>> = backing.iter().map(|(_, p)| p.clone()).collect();
    let port = match ports.iter().next() {
        Some(p) if ports.len() == 1 && p.len() == 1 => p[0],
        _ => {
            reasons.push(
                "the backing services do not have one and the same port, which the route must name"
                    .into(),
            );
            0
        }
    };
    let (ns, name) = (backing[0].0.namespace.clone(), backing[0].0.name.clone());
    let mut outlier = BTreeMap::new();
    for cm in &users {
        if services.len() == 1 && ctx.mode(cm) == MultiClusterMode::MultiPrimary {
            for c in endpoint_clusters(ctx, cm, &ns, &name) {
                if !order.contains(&c.as_str()) {
                    reasons.push(format!(
                        "{name}.{ns} also has endpoints in {c}, which the FailoverService does not list, and Istio would give them the secondary's priority (callers in {cm})"
                    ));
                }
            }
        }
        let ods: Vec<Option<OutlierDetection>> = backing
            .iter()
            .map(|(b, _)| dr::decorate(ctx, report, b, cm).outlier)
            .collect();
        match &ods[0] {
            _ if ods.iter().any(|o| o != &ods[0]) => reasons.push(format!(
                "the backing services have different outlier detection for callers in {cm}, and one Envoy cluster has one"
            )),
            Some(o) => {
                outlier.insert(cm.clone(), o.clone());
            }
            None => reasons.push(format!(
                "no TrafficPolicy gives {name}.{ns} outlier detection for callers in {cm}, and istiod applies failoverPriority only with outlier detection"
            )),
        }
    }
    if let Some(shift) = shift_with_subset(ctx, f) {
        reasons.push(format!(
            "TrafficPolicy {shift} shifts traffic to a subset of the FailoverService"
        ));
    }
    reasons.sort();
    reasons.dedup();
    if !reasons.is_empty() {
        return Err(Some(reasons));
    }
    Ok(NativePlan {
        namespace: ns,
        name,
        port,
        primary: order[0].to_string(),
        primary_id: ctx.cluster_id(order[0]).to_string(),
        secondary: order.get(1).map(|s| s.to_string()),
        subset: naming::sanitize_name_v2(&format!("failover-{}-{}", f.name(), f.namespace())),
        outlier,
        waypoints: BTreeMap::new(),
    })
}

/// The clusters whose endpoints of Service `name.ns` the istiod of multi-primary cluster
/// `cm` merges into one host: `cm` and every other multi-primary cluster of its VirtualMesh
/// that has the Service.
fn endpoint_clusters(ctx: &Ctx, cm: &str, ns: &str, name: &str) -> BTreeSet<String> {
    let topo = ctx.topology;
    let vm_of = |c: &str| {
        ctx.mesh(c)
            .and_then(|m| topo.virtual_mesh_of(&m.smh_name(c)))
    };
    let mine = vm_of(cm);
    topo.clusters
        .iter()
        .filter(|c| {
            c.name == cm
                || (ctx.mode(&c.name) == MultiClusterMode::MultiPrimary
                    && mine.is_some()
                    && vm_of(&c.name) == mine)
        })
        .filter(|c| {
            c.services
                .iter()
                .any(|s| s.name == name && s.namespace == ns)
        })
        .map(|c| c.name.clone())
        .collect()
}

/// A TrafficPolicy (`ns/name`) applied somewhere that shifts to a subset of `f`.
fn shift_with_subset(ctx: &Ctx, f: &Failover) -> Option<String> {
    let applied: BTreeSet<usize> = ctx.applied.values().flatten().copied().collect();
    applied.into_iter().find_map(|i| {
        let p = &ctx.policies[i];
        p.tp.spec
            .traffic_shift
            .iter()
            .flat_map(|s| &s.destinations)
            .filter_map(|d| d.failover_service.as_ref())
            .any(|fd| fd.name == f.name() && fd.namespace == f.namespace() && !fd.subset.is_empty())
            .then(|| format!("{}/{}", p.id.namespace, p.id.name))
    })
}
