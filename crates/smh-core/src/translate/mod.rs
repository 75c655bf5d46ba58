//! PURE translation: validated SMH FailoverServices and TrafficPolicies plus a
//! [`Topology`] → the Istio objects for every cluster, as SMH's translator wrote them
//! (differences below). No network, no
//! tokio; the same input always gives the same output, sorted by cluster, kind, namespace
//! and name.
//!
//! # What is generated, and where
//!
//! | input | object | cluster / namespace / name |
//! |---|---|---|
//! | FailoverService | ServiceEntry (hostname, VIP, port) | each mesh in `spec.meshes` / `service-mesh-hub` / `<fs>` |
//! | FailoverService | EnvoyFilter (aggregate cluster per subset) | each mesh / Istio root namespace / `<fs>` |
//! | FailoverService with subset shifts | DestinationRule (subsets of the hostname) | each mesh / `<fs ns>` / `<fs>` |
//! | TrafficPolicy (outlierDetection, mtls) | DestinationRule | the service's cluster / `<svc ns>` / `<svc>` |
//! | TrafficPolicy (routes) | VirtualService | the service's cluster / `<svc ns>` / `<svc>` |
//! | global mode, a remote service used by generated config | DestinationRule (and VirtualService when routes apply) | the using cluster / istiod namespace / `<svc>-<ns>-<cluster>` |
//! | multi-primary mode, any service used by generated config | per-cluster subsets in DestinationRule | the using cluster / `<svc ns>` / `<svc>` |
//! | a VirtualService routing to a subset of a non-Kubernetes host (FailoverService, `.global`) whose DestinationRule is in another namespace | a copy of that DestinationRule | the same cluster / the VirtualService's namespace / the rule's name |
//!
//! # Decisions that differ from SMH v0.9.2 (each explained where it is made)
//!
//! - **Only what policies touch.** SMH wrote a DestinationRule (TLS `ISTIO_MUTUAL`) for
//!   *every* discovered traffic target and federated copies of every DestinationRule and
//!   VirtualService into every other mesh of the VirtualMesh. It was a controller that
//!   owned all of them. kubectl-smh has no controller, and taking over every
//!   DestinationRule in a mesh (and overwriting the ones users wrote) is not something a
//!   client-side tool should do behind the user's back. So it writes a DestinationRule
//!   only for services a TrafficPolicy selects or whose subsets generated routes use, and a
//!   client-side (federated) copy only into clusters whose generated config refers to the
//!   remote service's `.global` host (a FailoverService aggregate cluster, a traffic shift
//!   or a mirror). For the guide this is exactly the object set SMH's guide shows.
//! - **Multi-primary mode** (Istio ≥ 1.8 multi-primary): there is one host
//!   `name.ns.svc.cluster.local` with endpoints from every cluster, so there is no Envoy
//!   cluster per backing service to aggregate. kubectl-smh adds per-cluster subsets on
//!   Istio's endpoint label `topology.istio.io/cluster` (named `cluster-<cluster>`) to the
//!   service's DestinationRule in the using cluster; each subset is its own Envoy cluster
//!   `outbound|<port>|cluster-<c>|<host>`, which the aggregate lists in priority order.
//!   Outlier detection of a remote backing service goes on its subset; the service's own
//!   cluster gets the same subset, so that with several networks the east-west gateway
//!   there can route the subset's SNI to its endpoints. There are no
//!   `.global` hosts and no federated copies. Explicit `kubeService` destinations (shift,
//!   mirror) are pinned to their cluster's subset; the default route (no shift) is not
//!   pinned, so it keeps Istio's cross-cluster load balancing. Subsets are named after the
//!   SMH cluster (`cluster-<cluster>`) but select Istio's cluster ID
//!   (`topology.istio.io/cluster: <mesh clusterId>`, istiod's `CLUSTER_ID`), which is what
//!   Istio labels endpoints with; an unknown ID is assumed to be the SMH cluster name, with
//!   a warning among the explanations.
//! - Policies with equal request matchers share one route; SMH's inferred empty-cluster
//!   FailoverService DestinationRule is written into the mesh's cluster (see
//!   [`virtual_service`] and [`failover`]).
//!
//! Every choice that depends on the topology is also returned as an [`Explanation`], for
//! `--dry-run` and `describe`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use crate::consts::{
    CLUSTER_LABEL, FEDERATION_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_LABEL,
    SMH_NAMESPACE,
};
use crate::istio::destination_rule::{ClientTlsSettings, Subset, TlsMode, TrafficPolicy};
use crate::istio::virtual_service::VirtualServiceSpec;
use crate::istio::{DestinationRule, DestinationRuleSpec, IstioObject, VirtualService};
use crate::model::Manifest;
use crate::model::diag::{Diagnostic, ObjectId, Severity};
use crate::model::naming;
use crate::model::topology::{Mesh, MultiClusterMode, Topology};

#[cfg(test)]
mod across_tests;
pub mod ambient;
#[cfg(test)]
mod ambient_tests;
mod context;
mod destination_rules;
pub mod dr;
pub mod failover;
mod native;
pub mod strategy;
#[cfg(test)]
mod strategy_tests;
mod subset_rules;
pub mod vip;
pub mod virtual_service;

use destination_rules::destination_rules;
pub use strategy::{Strategy, TranslateOptions};

pub(crate) use context::TargetId;

use context::{Ctx, TranslationNotes};
use virtual_service::{Labels, Use};

/// The result of [`translate`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Translation {
    /// Generated objects, sorted by (cluster, kind, namespace, name).
    pub objects: Vec<GeneratedObject>,
    /// Translation errors (SMH status targets set) and warnings, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Topology-dependent choices, sorted by cluster.
    pub explanations: Vec<Explanation>,
}

impl Translation {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// The objects as JSON values, in order.
    pub fn values(&self) -> Vec<Value> {
        self.objects.iter().map(GeneratedObject::to_value).collect()
    }
}

/// One Istio object for one cluster, with the SMH objects that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedObject {
    /// The SMH cluster name the object is applied to.
    pub cluster: String,
    /// The FailoverServices and TrafficPolicies it comes from, sorted.
    pub owners: Vec<ObjectId>,
    /// The Istio object.
    pub object: IstioObject,
}

impl GeneratedObject {
    /// `apiVersion` of the object.
    pub fn api_version(&self) -> &str {
        self.object.api_version()
    }
    /// `kind` of the object.
    pub fn kind(&self) -> &'static str {
        self.object.kind()
    }
    /// `metadata.name` of the object.
    pub fn name(&self) -> &str {
        self.object.name()
    }
    /// `metadata.namespace` of the object.
    pub fn namespace(&self) -> &str {
        self.object.namespace()
    }
    /// The object as JSON, keys sorted.
    pub fn to_value(&self) -> Value {
        self.object.to_value()
    }
    /// `cluster kind namespace/name`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}/{}",
            self.cluster,
            self.kind(),
            self.namespace(),
            self.name()
        )
    }
}

/// A topology-dependent choice, in words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Explanation {
    /// The SMH cluster the choice is about.
    pub cluster: String,
    /// The choice, in words.
    pub text: String,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.cluster, self.text)
    }
}

/// An object on its way out: labels are added and collisions checked at the end.
pub(crate) struct Emitted {
    pub cluster: String,
    pub owners: BTreeSet<ObjectId>,
    pub object: IstioObject,
}

impl Emitted {
    pub(crate) fn new(
        cluster: &str,
        owners: impl IntoIterator<Item = ObjectId>,
        object: impl Into<IstioObject>,
    ) -> Self {
        Emitted {
            cluster: cluster.to_string(),
            owners: owners.into_iter().collect(),
            object: object.into(),
        }
    }
}

/// What a using cluster needs of a target: the subsets (empty labels = the whole service)
/// and who needs them.
#[derive(Default)]
struct Needs {
    subsets: BTreeSet<Labels>,
    owners: BTreeSet<ObjectId>,
}

/// Translate validated manifests for a topology. Objects are only generated for clusters
/// with an Istio mesh; anything that cannot be translated is reported in `diagnostics`
/// with SMH's status target (per mesh for a FailoverService, per traffic target for a
/// TrafficPolicy) and skipped.
pub fn translate(manifests: &[Manifest], topology: &Topology) -> Translation {
    translate_with(manifests, topology, TranslateOptions::default())
}

/// [`translate`] with options: the strategy of FailoverServices that do not pin one with
/// their annotation (see [`strategy`]).
pub fn translate_with(
    manifests: &[Manifest],
    topology: &Topology,
    options: TranslateOptions,
) -> Translation {
    let mut ctx = Ctx::new(manifests, topology);
    let mut report = TranslationNotes::default();
    let mut out: Vec<Emitted> = Vec::new();
    let mut uses: Vec<Use> = Vec::new();
    let mut natives: Vec<native::NativeSubset> = Vec::new();

    ctx.decisions = strategy::decide_all(&ctx, &mut report, options);
    failover::translate_failovers(&ctx, &mut report, &mut out, &mut uses, &mut natives);

    // Local VirtualServices for every target a policy selects.
    let touched: Vec<TargetId> = ctx.applied.keys().cloned().collect();
    for t in &touched {
        let here: BTreeSet<&ObjectId> = ctx
            .policies_for(t, &t.cluster)
            .iter()
            .map(|p| &p.id)
            .collect();
        for &i in &ctx.applied[t] {
            let p = &ctx.policies[i];
            if !here.contains(&p.id) {
                report.explain(
                    &t.cluster,
                    format!(
                        "TrafficPolicy {}/{} selects {} but its sourceSelector.clusters leave out {}, so it does not apply to callers there",
                        p.id.namespace,
                        p.id.name,
                        t.key(),
                        t.cluster
                    ),
                );
            }
        }
        let host = ctx.local_fqdn(t);
        let routes = virtual_service::build_routes(&ctx, &mut report, t, &t.cluster, &host);
        uses.extend(routes.uses.iter().cloned());
        if routes.default_destination && ctx.mode(&t.cluster) == MultiClusterMode::MultiPrimary {
            report.explain(
                &t.cluster,
                format!(
                    "VirtualService {}/{}: multi-primary mode, so the default route goes to {host} in every cluster (only explicit kubeService destinations are pinned to a cluster)",
                    t.namespace, t.name
                ),
            );
        }
        if !routes.http.is_empty() {
            let vs = VirtualService::namespaced(
                &t.namespace,
                &t.name,
                VirtualServiceSpec {
                    hosts: vec![host],
                    http: routes.http,
                    ..Default::default()
                },
            );
            out.push(Emitted::new(&t.cluster, routes.owners, vs));
        }
    }

    // Federated VirtualService copies (global mode), for remote targets that generated
    // config uses; their routes can use further targets, so iterate to a fixed point.
    let mut done: BTreeSet<(String, TargetId)> = BTreeSet::new();
    loop {
        let pending: BTreeSet<(String, TargetId)> = uses
            .iter()
            .filter(|u| is_federated(&ctx, u))
            .map(|u| (u.consumer.clone(), u.target.clone()))
            .filter(|k| !done.contains(k))
            .collect();
        if pending.is_empty() {
            break;
        }
        for (consumer, t) in pending {
            done.insert((consumer.clone(), t.clone()));
            if !ctx.applied.contains_key(&t) {
                continue;
            }
            let host = Ctx::global_fqdn(&t);
            let routes = virtual_service::build_routes(&ctx, &mut report, &t, &consumer, &host);
            uses.extend(routes.uses.iter().cloned());
            if !routes.http.is_empty() {
                let Some(mesh) = ctx.mesh(&consumer) else {
                    continue;
                };
                let mut vs = VirtualService::namespaced(
                    &mesh.istiod_namespace,
                    &federated_name(&t),
                    VirtualServiceSpec {
                        hosts: vec![host],
                        http: routes.http,
                        ..Default::default()
                    },
                );
                vs.metadata.annotations = Some(federation_annotation(&t));
                out.push(Emitted::new(&consumer, routes.owners, vs));
            }
        }
    }

    destination_rules(&ctx, &mut report, &uses, &natives, &mut out);
    subset_rules::copy_subset_rules(&mut out, &mut report);

    finish(out, report)
}

/// Run [`translate`] and return only its explanations, for `--dry-run` and `describe`.
pub fn explain(manifests: &[Manifest], topology: &Topology) -> Vec<Explanation> {
    translate(manifests, topology).explanations
}

/// The strategy each FailoverService gets (by `(namespace, name)`), and why, in words.
pub fn strategies(
    manifests: &[Manifest],
    topology: &Topology,
    options: TranslateOptions,
) -> BTreeMap<(String, String), (Strategy, String)> {
    let mut ctx = Ctx::new(manifests, topology);
    let mut report = TranslationNotes::default();
    ctx.decisions = strategy::decide_all(&ctx, &mut report, options);
    ctx.decisions
        .into_iter()
        .map(|(k, d)| {
            let s = if d.native.is_some() {
                Strategy::Native
            } else {
                Strategy::Aggregate
            };
            (k, (s, d.why))
        })
        .collect()
}

/// Whether a use needs a federated copy: global mode and a target in another cluster.
fn is_federated(ctx: &Ctx, u: &Use) -> bool {
    ctx.mode(&u.consumer) == MultiClusterMode::Global && u.consumer != u.target.cluster
}

/// `<svc>-<ns>-<cluster>`, joined with `-` and not sanitized, as SMH named federated copies.
fn federated_name(t: &TargetId) -> String {
    format!("{}-{}-{}", t.name, t.namespace, t.cluster)
}

fn federation_annotation(t: &TargetId) -> BTreeMap<String, String> {
    [(FEDERATION_ANNOTATION.to_string(), t.key())].into()
}

/// Label, de-duplicate, check for collisions and sort.
fn finish(out: Vec<Emitted>, mut report: TranslationNotes) -> Translation {
    let mut objects: BTreeMap<(String, &'static str, String, String), GeneratedObject> =
        BTreeMap::new();
    for mut e in out {
        let meta = e.object.meta_mut();
        let labels = meta.labels.get_or_insert_with(BTreeMap::new);
        labels.insert(OWNER_LABEL.to_string(), SMH_NAMESPACE.to_string());
        labels.insert(CLUSTER_LABEL.to_string(), e.cluster.clone());
        labels.insert(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string());
        let key = (
            e.cluster.clone(),
            e.object.kind(),
            e.object.namespace().to_string(),
            e.object.name().to_string(),
        );
        match objects.get_mut(&key) {
            None => {
                objects.insert(
                    key,
                    GeneratedObject {
                        cluster: e.cluster,
                        owners: e.owners.into_iter().collect(),
                        object: e.object,
                    },
                );
            }
            Some(existing) if existing.object == e.object => {
                let mut owners: BTreeSet<ObjectId> = existing.owners.iter().cloned().collect();
                owners.extend(e.owners);
                existing.owners = owners.into_iter().collect();
            }
            Some(existing) => {
                // Two different objects with one name (e.g. FailoverServices with the same
                // name in two namespaces): keep the first, report the others.
                let first: Vec<String> = existing.owners.iter().map(|o| o.to_string()).collect();
                for owner in &e.owners {
                    report.diagnostics.insert(Diagnostic {
                        severity: Severity::Error,
                        source: None,
                        object: Some(owner.clone()),
                        field: Some("metadata.name".to_string()),
                        position: None,
                        message: format!(
                            "generated {} collides with the one generated from {}; rename one of them",
                            existing.describe(),
                            first.join(", ")
                        ),
                        status_target: None,
                    });
                }
            }
        }
    }
    Translation {
        objects: objects.into_values().collect(),
        diagnostics: report.diagnostics.into_iter().collect(),
        explanations: report.explanations.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests;
