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

mod context;
pub mod dr;
pub mod failover;
pub mod vip;
pub mod virtual_service;

pub use context::TargetId;

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
    pub object: IstioObject,
}

impl GeneratedObject {
    pub fn api_version(&self) -> &str {
        self.object.api_version()
    }
    pub fn kind(&self) -> &'static str {
        self.object.kind()
    }
    pub fn name(&self) -> &str {
        self.object.name()
    }
    pub fn namespace(&self) -> &str {
        self.object.namespace()
    }
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
    pub cluster: String,
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
    let ctx = Ctx::new(manifests, topology);
    let mut report = TranslationNotes::default();
    let mut out: Vec<Emitted> = Vec::new();
    let mut uses: Vec<Use> = Vec::new();

    failover::translate_failovers(&ctx, &mut report, &mut out, &mut uses);

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
            let vs = VirtualService::new(
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
                let mut vs = VirtualService::new(
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

    destination_rules(&ctx, &mut report, &uses, &mut out);

    finish(out, report)
}

/// Run [`translate`] and return only its explanations, for `--dry-run` and `describe`.
pub fn explain(manifests: &[Manifest], topology: &Topology) -> Vec<Explanation> {
    translate(manifests, topology).explanations
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

fn tls_policy(d: &dr::DrDecoration) -> Option<TrafficPolicy> {
    let tp = TrafficPolicy {
        outlier_detection: d.outlier.clone(),
        tls: Some(ClientTlsSettings { mode: Some(d.tls) }),
        ..Default::default()
    };
    (!tp.is_empty()).then_some(tp)
}

struct DrDraft {
    cluster: String,
    spec: DestinationRuleSpec,
    owners: BTreeSet<ObjectId>,
    annotations: Option<BTreeMap<String, String>>,
    /// Emit even without effect (it was asked for by subsets).
    has_subsets_or_effect: bool,
}

/// The DestinationRules: local ones for the services policies select or whose subsets are
/// used, client-side copies for `.global` hosts (global mode), per-cluster subsets
/// (multi-primary mode).
fn destination_rules(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    uses: &[Use],
    out: &mut Vec<Emitted>,
) {
    let needs = needs_by_consumer(uses);
    let mut rules = DrDrafts {
        ctx,
        plain: plain_subsets_needed(ctx, &needs),
        drafts: BTreeMap::new(),
    };
    // Local DestinationRules.
    let mut local: BTreeSet<TargetId> = ctx.applied.keys().cloned().collect();
    local.extend(rules.plain.keys().cloned());
    for t in &local {
        rules.add_local(report, t);
    }
    for ((consumer, t), n) in &needs {
        let Some(mesh) = ctx.mesh(consumer) else {
            continue;
        };
        match ctx.mode(consumer) {
            MultiClusterMode::Global => {
                if consumer != &t.cluster {
                    rules.add_global_copy(report, consumer, mesh, t, n);
                }
            }
            MultiClusterMode::MultiPrimary => {
                rules.add_multi_primary(report, consumer, t, n);
                rules.add_own_cluster_subsets(report, consumer, t, n);
            }
        }
    }
    for ((_, ns, name), draft) in rules.drafts {
        if !draft.has_subsets_or_effect {
            continue;
        }
        let mut dr = DestinationRule::new(&ns, &name, draft.spec);
        dr.metadata.annotations = draft.annotations;
        out.push(Emitted {
            cluster: draft.cluster,
            owners: draft.owners,
            object: dr.into(),
        });
    }
}

/// Who needs which target, per using cluster.
fn needs_by_consumer(uses: &[Use]) -> BTreeMap<(String, TargetId), Needs> {
    let mut needs: BTreeMap<(String, TargetId), Needs> = BTreeMap::new();
    for u in uses {
        let n = needs
            .entry((u.consumer.clone(), u.target.clone()))
            .or_default();
        n.subsets.insert(u.subset.clone());
        n.owners.insert(u.owner.clone());
    }
    needs
}

/// Plain (server-side) subsets of each target: from global-mode users.
fn plain_subsets_needed(
    ctx: &Ctx,
    needs: &BTreeMap<(String, TargetId), Needs>,
) -> BTreeMap<TargetId, Needs> {
    let mut plain: BTreeMap<TargetId, Needs> = BTreeMap::new();
    for ((consumer, t), n) in needs {
        if ctx.mode(consumer) != MultiClusterMode::Global {
            continue;
        }
        for s in n.subsets.iter().filter(|s| !s.is_empty()) {
            let p = plain.entry(t.clone()).or_default();
            p.subsets.insert(s.clone());
            p.owners.extend(n.owners.iter().cloned());
        }
    }
    plain
}

/// The plain subsets of `t`, sorted by name, with their own labels or `labels`.
fn plain_subsets(
    plain: &BTreeMap<TargetId, Needs>,
    t: &TargetId,
    labels: Option<&Labels>,
) -> Vec<Subset> {
    let mut v: Vec<Subset> = plain
        .get(t)
        .map(|n| {
            n.subsets
                .iter()
                .map(|s| Subset {
                    name: naming::subset_name(s),
                    labels: labels.cloned().unwrap_or_else(|| s.clone()),
                    traffic_policy: None,
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// DestinationRules being built, by (cluster, namespace, name).
struct DrDrafts<'c, 'a> {
    ctx: &'c Ctx<'a>,
    plain: BTreeMap<TargetId, Needs>,
    drafts: BTreeMap<(String, String, String), DrDraft>,
}

impl DrDrafts<'_, '_> {
    /// The DestinationRule of a service in its own cluster.
    fn add_local(&mut self, report: &mut TranslationNotes, t: &TargetId) {
        let d = dr::decorate(self.ctx, report, t, &t.cluster);
        let subsets = plain_subsets(&self.plain, t, None);
        let mut owners = d.owners.clone();
        if let Some(p) = self.plain.get(t) {
            owners.extend(p.owners.iter().cloned());
        }
        self.drafts.insert(
            (t.cluster.clone(), t.namespace.clone(), t.name.clone()),
            DrDraft {
                cluster: t.cluster.clone(),
                // A policy that selects the service but none of its callers here
                // (sourceSelector.clusters) gives no DestinationRule.
                has_subsets_or_effect: (d.applied > 0 && d.has_effect()) || !subsets.is_empty(),
                spec: DestinationRuleSpec {
                    host: self.ctx.local_fqdn(t),
                    traffic_policy: tls_policy(&d),
                    subsets,
                    ..Default::default()
                },
                owners,
                annotations: None,
            },
        );
    }

    /// Global mode: the client-side copy in `consumer` for the `.global` host of remote `t`.
    fn add_global_copy(
        &mut self,
        report: &mut TranslationNotes,
        consumer: &str,
        mesh: &Mesh,
        t: &TargetId,
        n: &Needs,
    ) {
        // Client-side copy for the `.global` host.
        let d = dr::decorate(self.ctx, report, t, consumer);
        let cluster_labels: Labels = [("cluster".to_string(), t.cluster.clone())].into();
        let subsets = plain_subsets(&self.plain, t, Some(&cluster_labels));
        let mut owners = d.owners.clone();
        owners.extend(n.owners.iter().cloned());
        let name = federated_name(t);
        report.explain(
            consumer,
            format!(
                "global mode: {} in cluster {} is reached as {}; DestinationRule {}/{name} carries its outlier detection and TLS on the client side",
                naming::object_key(&t.name, &t.namespace).trim_end_matches('.'),
                t.cluster,
                Ctx::global_fqdn(t),
                mesh.istiod_namespace
            ),
        );
        self.drafts.insert(
            (consumer.to_string(), mesh.istiod_namespace.clone(), name),
            DrDraft {
                cluster: consumer.to_string(),
                has_subsets_or_effect: d.has_effect() || !subsets.is_empty(),
                spec: DestinationRuleSpec {
                    host: Ctx::global_fqdn(t),
                    traffic_policy: tls_policy(&d),
                    subsets,
                    ..Default::default()
                },
                owners,
                annotations: Some(federation_annotation(t)),
            },
        );
    }

    /// Multi-primary mode: per-cluster subsets of `t` in the DestinationRule of `consumer`.
    fn add_multi_primary(
        &mut self,
        report: &mut TranslationNotes,
        consumer: &str,
        t: &TargetId,
        n: &Needs,
    ) {
        let key = (consumer.to_string(), t.namespace.clone(), t.name.clone());
        let host = format!(
            "{}.{}.svc.{}",
            t.name,
            t.namespace,
            self.ctx.domain(consumer)
        );
        let draft = self.drafts.entry(key).or_insert_with(|| {
            // No policy selects the service in this cluster: Settings defaults.
            let d = dr::DrDecoration {
                outlier: None,
                tls: TlsMode::IstioMutual,
                owners: BTreeSet::new(),
                applied: 0,
            };
            DrDraft {
                cluster: consumer.to_string(),
                has_subsets_or_effect: true,
                spec: DestinationRuleSpec {
                    host: host.clone(),
                    traffic_policy: tls_policy(&d),
                    ..Default::default()
                },
                owners: BTreeSet::new(),
                annotations: None,
            }
        });
        let d = dr::decorate(self.ctx, report, t, consumer);
        let top_outlier = draft
            .spec
            .traffic_policy
            .as_ref()
            .and_then(|p| p.outlier_detection.clone());
        for s in &n.subsets {
            let name = virtual_service::multi_primary_subset_name(&t.cluster, s);
            let outlier = d
                .outlier
                .clone()
                .filter(|o| Some(o) != top_outlier.as_ref());
            let labels =
                virtual_service::multi_primary_subset_labels(self.ctx.cluster_id(&t.cluster), s);
            explain_assumed_cluster_id(self.ctx, report, consumer, &t.cluster, &name);
            report.explain(
                consumer,
                format!(
                    "multi-primary mode: {host} has endpoints from every cluster; subset {name} of DestinationRule {}/{} (labels {}) is the Envoy cluster for the endpoints in {}{}",
                    t.namespace,
                    t.name,
                    labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    t.cluster,
                    if outlier.is_some() {
                        ", with that service's outlier detection"
                    } else {
                        ""
                    }
                ),
            );
            // Already there when added for callers in another cluster (below).
            if draft.spec.subsets.iter().any(|x| x.name == name) {
                continue;
            }
            draft.spec.subsets.push(Subset {
                name,
                labels,
                traffic_policy: outlier.map(|o| TrafficPolicy {
                    outlier_detection: Some(o),
                    ..Default::default()
                }),
            });
        }
        draft.spec.subsets.sort_by(|a, b| a.name.cmp(&b.name));
        draft.has_subsets_or_effect = true;
        draft.owners.extend(d.owners.iter().cloned());
        draft.owners.extend(n.owners.iter().cloned());
    }

    /// Multi-primary mode: the same subsets on the service's own cluster: with several
    /// networks, the east-west gateway there routes `outbound_.<port>_.<subset>_.<host>`
    /// (SNI) only to subsets its own istiod knows. Harmless on one network.
    fn add_own_cluster_subsets(
        &mut self,
        report: &mut TranslationNotes,
        consumer: &str,
        t: &TargetId,
        n: &Needs,
    ) {
        // The same subsets on the service's own cluster: with several networks,
        // the east-west gateway there routes `outbound_.<port>_.<subset>_.<host>`
        // (SNI) only to subsets its own istiod knows. Harmless on one network.
        if t.cluster != *consumer && self.ctx.mesh(&t.cluster).is_some() {
            let own = self
                .drafts
                .entry((t.cluster.clone(), t.namespace.clone(), t.name.clone()))
                .or_insert_with(|| DrDraft {
                    cluster: t.cluster.clone(),
                    has_subsets_or_effect: true,
                    spec: DestinationRuleSpec {
                        host: self.ctx.local_fqdn(t),
                        traffic_policy: Some(TrafficPolicy {
                            tls: Some(ClientTlsSettings {
                                mode: Some(TlsMode::IstioMutual),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                    owners: BTreeSet::new(),
                    annotations: None,
                });
            for s in &n.subsets {
                let name = virtual_service::multi_primary_subset_name(&t.cluster, s);
                if own.spec.subsets.iter().any(|x| x.name == name) {
                    continue;
                }
                report.explain(
                    &t.cluster,
                    format!(
                        "multi-primary mode: subset {name} is also defined in DestinationRule {}/{} here, so an east-west gateway in {} can route callers from {consumer} to it",
                        t.namespace, t.name, t.cluster
                    ),
                );
                explain_assumed_cluster_id(self.ctx, report, &t.cluster, &t.cluster, &name);
                own.spec.subsets.push(Subset {
                    name,
                    labels: virtual_service::multi_primary_subset_labels(
                        self.ctx.cluster_id(&t.cluster),
                        s,
                    ),
                    traffic_policy: None,
                });
            }
            own.spec.subsets.sort_by(|a, b| a.name.cmp(&b.name));
            own.has_subsets_or_effect = true;
            own.owners.extend(n.owners.iter().cloned());
        }
    }
}

/// A warning, among the explanations of `consumer`, when the subset `subset` selects the
/// endpoints of `cluster` by an Istio cluster ID that the topology does not give (so the SMH
/// cluster name is assumed).
fn explain_assumed_cluster_id(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    consumer: &str,
    cluster: &str,
    subset: &str,
) {
    if ctx.cluster_id_known(cluster) {
        return;
    }
    report.explain(
        consumer,
        format!(
            "warning: the Istio cluster ID of {cluster} is not known (its mesh has no clusterId), so subset {subset} assumes it is the SMH cluster name and selects {}={cluster}; Istio labels endpoints with istiod's CLUSTER_ID ({}, \"{}\" when not set), and if that differs the subset has no endpoints and traffic sent to it fails with 503s: set the mesh's clusterId to that ID",
            crate::consts::ISTIO_CLUSTER_LABEL,
            crate::istio::cluster_id::CLUSTER_NAME_VALUE,
            crate::istio::cluster_id::DEFAULT_CLUSTER_ID,
        ),
    );
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
