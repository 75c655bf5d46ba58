//! Applying a [`LiveState`]: the plan (pure), then server-side apply of every generated
//! object to its cluster, pruning, storing the SMH objects and their status, and the
//! topology cache. No printing: the CLI reports.
//!
//! - **Plan** ([`plan`]): each expected object is `create` (not there), `configure` (there
//!   but different: `spec`, or one of our labels or annotations, compared by value as
//!   `describe` does, see [`smh_core::inspect::drift`]; with who changed it, from `managedFields`, or
//!   that it is out of date) or `unchanged` (no request is sent); each live object of ours (both labels, and the cluster's own
//!   `cluster.multicluster.solo.io` label) that no expected object accounts for is `prune`.
//!   Objects are identified by labels, never by name: an object without our labels is never
//!   pruned, and one that is in the way of an object to create is not taken over (the
//!   create fails, naming it), as Helm refuses to adopt what it did not create.
//! - **Execute** ([`execute`]): every cluster at once; within a cluster at most
//!   [`CONCURRENCY`] requests at a time; server-side apply with field manager `kubectl-smh`
//!   and `force` (SMH's controller owned these objects outright), then deletes with
//!   preconditions (the uid and resourceVersion that were read), so an object changed or
//!   replaced meanwhile is left alone. A cluster that could not be discovered or listed, or
//!   that has no Istio CRDs, is not written at all; its objects fail with the reason.
//! - A server-side dry run (`dryRun=All`) goes through the same code.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use futures::future::join_all;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use kube::core::{ApiResource, GroupVersionKind};
use serde::Serialize;
use serde_json::{Value, json};

use crate::context::ClusterClient;
use crate::error::{ApiOp, ClusterError};
use crate::state::LiveState;
use smh_core::consts::{FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SMH_NAMESPACE};
use smh_core::inspect::drift::DriftState;
use smh_core::inspect::names::ClusterName;
use smh_core::inspect::state::{
    CachedCluster, TOPOLOGY_CACHE, TopologyCache, compare, istio_resource, live_key, manifest_id,
    manifest_meta,
};
use smh_core::inspect::status::{ObjectKey, SmhStatus};
use smh_core::model::diag::ObjectId;
use smh_core::model::types::{FailoverService, TrafficPolicy};
use smh_core::model::{Manifest, SmhObject};

/// Requests in flight per cluster.
pub const CONCURRENCY: usize = 8;

/// The largest topology cache written (a ConfigMap holds at most 1 MiB).
pub const MAX_CACHE_BYTES: usize = 900 * 1024;

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Configure,
    Unchanged,
    Prune,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
    Pruned,
    Failed,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
            Outcome::Pruned => "pruned",
            Outcome::Failed => "failed",
        }
    }
}

/// One object of the plan.
#[derive(Debug, Clone)]
pub struct Step {
    pub cluster: ClusterName,
    pub action: Action,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The object to apply (`None` for a prune).
    pub desired: Option<Value>,
    /// The live object, when there is one.
    pub live: Option<DynamicObject>,
    /// The SMH objects it comes from (empty for a prune).
    pub owners: Vec<ObjectId>,
    /// For `configure`: how the live object differs ([`DriftState::Modified`]: changed by
    /// someone else, or [`DriftState::OutOfDate`]).
    pub drift: Option<DriftState>,
}

impl Step {
    /// `(cluster, kind, namespace, name)`.
    pub fn key(&self) -> ObjectKey {
        (
            self.cluster.as_str().to_string(),
            self.kind.clone(),
            self.namespace.clone(),
            self.name.clone(),
        )
    }

    /// `destinationrule.networking.istio.io/reviews` (kubectl's way of naming it).
    pub fn resource_name(&self) -> String {
        format!(
            "{}.{}/{}",
            self.kind.to_ascii_lowercase(),
            smh_core::istio::GROUP,
            self.name
        )
    }
}

/// Everything to do, per cluster.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Steps per cluster: applies (sorted by kind, namespace, name), then prunes.
    pub steps: BTreeMap<ClusterName, Vec<Step>>,
    /// Clusters that cannot be written, with why; their steps fail with it.
    pub blocked: BTreeMap<ClusterName, String>,
}

impl Plan {
    /// All steps, cluster by cluster.
    pub fn all(&self) -> impl Iterator<Item = &Step> {
        self.steps.values().flatten()
    }

    /// Whether anything would change (or cannot be done).
    pub fn changes_anything(&self) -> bool {
        self.all().any(|s| s.action != Action::Unchanged)
    }
}

/// Plans the changes that make the clusters match [`LiveState::expected`]; with `prune`,
/// also the deletion of [`LiveState::stale_live`].
pub fn plan(state: &LiveState, prune: bool) -> Plan {
    let mut out = Plan::default();
    for g in &state.expected.objects {
        let cluster = ClusterName::new(g.cluster.as_str());
        let live = state.live_for(g);
        let (action, drift) = match compare(g, live) {
            DriftState::Missing => (Action::Create, None),
            DriftState::InSync => (Action::Unchanged, None),
            d => (Action::Configure, Some(d)),
        };
        out.steps.entry(cluster).or_default().push(Step {
            cluster: ClusterName::new(g.cluster.as_str()),
            action,
            kind: g.kind().to_string(),
            namespace: g.namespace().to_string(),
            name: g.name().to_string(),
            desired: Some(g.to_value()),
            live: live.cloned(),
            owners: g.owners.clone(),
            drift,
        });
    }
    if prune {
        for (cluster, o) in state.stale_live() {
            let (kind, ns, name) = live_key(o);
            out.steps.entry(cluster.clone()).or_default().push(Step {
                cluster: cluster.clone(),
                action: Action::Prune,
                kind: kind.to_string(),
                namespace: ns.to_string(),
                name: name.to_string(),
                desired: None,
                live: Some(o.clone()),
                owners: Vec::new(),
                drift: None,
            });
        }
    }
    for cluster in out.steps.keys() {
        let reason = if let Some(e) = state.unresolved.get(cluster) {
            Some(e.to_string())
        } else if let Some(e) = state.errors.get(cluster) {
            Some(e.to_string())
        } else if state.client(cluster).is_none() {
            Some(format!("cluster {cluster} has no client"))
        } else if state
            .discovery
            .get(cluster)
            .is_some_and(|f| f.istio_api_version.is_none())
        {
            Some(format!(
                "Istio is not installed in cluster {cluster} (networking.istio.io is not \
                 served: no DestinationRule, VirtualService, ServiceEntry or EnvoyFilter CRDs)"
            ))
        } else {
            None
        };
        if let Some(r) = reason {
            out.blocked.insert(cluster.clone(), r);
        }
    }
    out
}

/// What happened to one step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    pub cluster: ClusterName,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub action: Action,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl StepResult {
    /// What happened to `step`.
    pub fn new(step: &Step, outcome: Outcome, error: Option<String>) -> StepResult {
        StepResult {
            cluster: step.cluster.clone(),
            kind: step.kind.clone(),
            namespace: step.namespace.clone(),
            name: step.name.clone(),
            action: step.action,
            outcome,
            error,
        }
    }
}

impl StepResult {
    pub fn key(&self) -> ObjectKey {
        (
            self.cluster.as_str().to_string(),
            self.kind.clone(),
            self.namespace.clone(),
            self.name.clone(),
        )
    }
}

/// Runs the plan: all clusters at once. `dry_run`: the server's `dryRun=All`.
pub async fn execute(state: &LiveState, plan: &Plan, dry_run: bool) -> Vec<StepResult> {
    let per_cluster = plan.steps.iter().map(|(cluster, steps)| async move {
        match (plan.blocked.get(cluster), state.client(cluster)) {
            (None, Some(client)) => execute_cluster(client, steps, dry_run).await,
            (reason, _) => {
                let reason = reason
                    .cloned()
                    .unwrap_or_else(|| format!("cluster {cluster} has no client"));
                steps
                    .iter()
                    .map(|s| failed(s, format!("{}: {reason}", not_done(s))))
                    .collect()
            }
        }
    });
    join_all(per_cluster).await.into_iter().flatten().collect()
}

fn not_done(s: &Step) -> String {
    let verb = if s.action == Action::Prune {
        "was not pruned"
    } else {
        "was not applied"
    };
    format!("{} {}/{} {verb}", s.kind, s.namespace, s.name)
}

fn failed(s: &Step, message: String) -> StepResult {
    StepResult::new(s, Outcome::Failed, Some(message))
}

async fn execute_cluster(c: &ClusterClient, steps: &[Step], dry_run: bool) -> Vec<StepResult> {
    // FailoverService ServiceEntries go to `service-mesh-hub`, which a remote cluster may
    // not have: kubectl-smh creates it (any other namespace is the user's).
    let needs_ns = steps.iter().any(|s| {
        matches!(s.action, Action::Create | Action::Configure) && s.namespace == SMH_NAMESPACE
    });
    if needs_ns && let Err(e) = ensure_smh_namespace(c, dry_run).await {
        return steps
            .iter()
            .map(|s| {
                if s.namespace == SMH_NAMESPACE && s.action != Action::Prune {
                    failed(s, format!("{}: {e}", not_done(s)))
                } else if s.action == Action::Unchanged {
                    StepResult::new(s, Outcome::Unchanged, None)
                } else {
                    failed(
                        s,
                        format!(
                            "{}: not tried, creating namespace {SMH_NAMESPACE} failed first",
                            not_done(s)
                        ),
                    )
                }
            })
            .collect();
    }
    let applies = steps.iter().filter(|s| s.action != Action::Prune);
    let mut out: Vec<StepResult> =
        futures::stream::iter(applies.map(|s| apply_step(c, s, dry_run)))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    // Prune once everything new is in place (a route is never left pointing nowhere).
    let prunes = steps.iter().filter(|s| s.action == Action::Prune);
    let pruned: Vec<StepResult> = futures::stream::iter(prunes.map(|s| prune_step(c, s, dry_run)))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    out.extend(pruned);
    out.sort_by(|a, b| {
        (a.action == Action::Prune, a.key()).cmp(&(b.action == Action::Prune, b.key()))
    });
    out
}

/// Creates the `service-mesh-hub` namespace when it is missing.
async fn ensure_smh_namespace(c: &ClusterClient, dry_run: bool) -> Result<(), ClusterError> {
    use k8s_openapi::api::core::v1::Namespace;
    let api: Api<Namespace> = Api::all(c.client.clone());
    let op = |verb| ApiOp::typed::<Namespace>(verb, None, Some(SMH_NAMESPACE));
    if api
        .get_opt(SMH_NAMESPACE)
        .await
        .map_err(|e| c.error(&op("get"), e))?
        .is_some()
    {
        return Ok(());
    }
    let ns: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": SMH_NAMESPACE, "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
    }))
    .unwrap_or_default();
    let pp = kube::api::PostParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.to_string()),
    };
    match api.create(&pp, &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(c.error(&op("create"), e)),
    }
}

fn plural_of(kind: &str) -> &'static str {
    smh_core::inspect::state::GENERATED_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, p)| *p)
        .unwrap_or("")
}

fn ar_of(kind: &str) -> ApiResource {
    istio_resource(kind, plural_of(kind))
}

async fn apply_step(c: &ClusterClient, s: &Step, dry_run: bool) -> StepResult {
    let Some(desired) = &s.desired else {
        return failed(s, format!("{}: nothing to apply", not_done(s)));
    };
    if s.action == Action::Unchanged {
        return StepResult::new(s, Outcome::Unchanged, None);
    }
    let ar = ar_of(&s.kind);
    let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &s.namespace, &ar);
    if s.action == Action::Create {
        // Not among ours: is something else in the way?
        match api.get_opt(&s.name).await {
            Ok(Some(existing)) if !managed_by_us(&existing) => {
                return failed(
                    s,
                    format!(
                        "{}: {} {}/{} already exists in cluster {} and is not managed by \
                         kubectl-smh (no {MANAGED_BY_LABEL}={MANAGED_BY_VALUE} label); \
                         kubectl-smh does not take over objects it did not create: delete or \
                         rename it, or add the label to hand it over",
                        not_done(s),
                        s.kind,
                        s.namespace,
                        s.name,
                        s.cluster
                    ),
                );
            }
            Ok(_) => {}
            Err(e) => {
                let e = c.error(
                    &ApiOp::dynamic("get", &ar, Some(&s.namespace), Some(&s.name)),
                    e,
                );
                return failed(s, format!("{}: {e}", not_done(s)));
            }
        }
    }
    let mut pp = PatchParams::apply(FIELD_MANAGER).force();
    pp.dry_run = dry_run;
    match api.patch(&s.name, &pp, &Patch::Apply(desired)).await {
        Ok(applied) => {
            let before = s
                .live
                .as_ref()
                .and_then(|l| l.metadata.resource_version.as_deref());
            let outcome = match (s.action, before) {
                (Action::Create, _) => Outcome::Created,
                // The server changed nothing (a no-op apply keeps the resourceVersion; a dry
                // run keeps it anyway).
                (_, Some(rv))
                    if !dry_run && applied.metadata.resource_version.as_deref() == Some(rv) =>
                {
                    Outcome::Unchanged
                }
                _ => Outcome::Configured,
            };
            StepResult::new(s, outcome, None)
        }
        Err(e) => {
            let e = c.error(
                &ApiOp::dynamic("patch", &ar, Some(&s.namespace), Some(&s.name)),
                e,
            );
            failed(s, format!("{}: {e}", not_done(s)))
        }
    }
}

fn managed_by_us(o: &DynamicObject) -> bool {
    o.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .is_some_and(|v| v == MANAGED_BY_VALUE)
}

async fn prune_step(c: &ClusterClient, s: &Step, dry_run: bool) -> StepResult {
    let ar = ar_of(&s.kind);
    let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &s.namespace, &ar);
    let live = s.live.as_ref();
    let mut dp = DeleteParams::background().preconditions(Preconditions {
        uid: live.and_then(|l| l.metadata.uid.clone()),
        resource_version: live.and_then(|l| l.metadata.resource_version.clone()),
    });
    dp.dry_run = dry_run;
    match api.delete(&s.name, &dp).await {
        Ok(_) => StepResult::new(s, Outcome::Pruned, None),
        Err(e) => {
            let e = c.error(
                &ApiOp::dynamic("delete", &ar, Some(&s.namespace), Some(&s.name)),
                e,
            );
            match e {
                // Already gone: what pruning wanted.
                ClusterError::NotFound { .. } => StepResult::new(s, Outcome::Pruned, None),
                ClusterError::Conflict { .. } => failed(
                    s,
                    format!(
                        "{}: it changed after it was read (the uid or resourceVersion \
                         precondition failed); run the command again",
                        not_done(s)
                    ),
                ),
                e => failed(s, format!("{}: {e}", not_done(s))),
            }
        }
    }
}

/// The failures of applied (not pruned) objects, for the status.
pub fn apply_failures(results: &[StepResult]) -> BTreeMap<ObjectKey, String> {
    results
        .iter()
        .filter(|r| r.action != Action::Prune && r.outcome == Outcome::Failed)
        .map(|r| (r.key(), r.error.clone().unwrap_or_default()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// SMH objects in the management cluster
// ---------------------------------------------------------------------------------------

/// The API resource of an SMH kind.
pub fn smh_resource(kind: &str) -> ApiResource {
    let plural = if kind == FailoverService::KIND {
        FailoverService::PLURAL
    } else {
        TrafficPolicy::PLURAL
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(
            smh_core::consts::SMH_GROUP,
            smh_core::consts::SMH_VERSION,
            kind,
        ),
        plural,
    )
}

/// What server-side apply sends for an input object: apiVersion, kind, name, namespace,
/// the user's labels and annotations, spec. Never status (a subresource), never the
/// server's metadata.
pub fn smh_apply_body(m: &Manifest) -> Value {
    let id = manifest_id(m);
    let meta = manifest_meta(m);
    let spec = match &m.object {
        SmhObject::FailoverService(fs) => serde_json::to_value(&fs.spec),
        SmhObject::TrafficPolicy(tp) => serde_json::to_value(&tp.spec),
    }
    .unwrap_or(Value::Null);
    let mut metadata = json!({"name": id.name, "namespace": id.namespace});
    if let Some(l) = meta.labels.as_ref().filter(|l| !l.is_empty()) {
        metadata["labels"] = json!(l);
    }
    if let Some(a) = meta.annotations.as_ref().filter(|a| !a.is_empty()) {
        metadata["annotations"] = json!(a);
    }
    json!({
        "apiVersion": smh_core::consts::SMH_API_VERSION,
        "kind": id.kind,
        "metadata": metadata,
        "spec": spec,
    })
}

/// The outcome of storing one SMH object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub outcome: Outcome,
    /// `metadata.generation` after storing (as the server would have it, in a dry run).
    pub generation: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Stored {
    pub fn id(&self) -> ObjectId {
        ObjectId {
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// Whether a stored object already is what the input says: same spec, labels and
/// annotations (kubectl's `last-applied-configuration` annotation, which `kubectl apply`
/// leaves on objects, aside).
pub fn smh_unchanged(input: &Manifest, stored: &Manifest) -> bool {
    let (a, b) = (manifest_meta(input), manifest_meta(stored));
    let norm = |m: &Option<BTreeMap<String, String>>| {
        let mut m = m.clone().unwrap_or_default();
        m.remove(LAST_APPLIED);
        m
    };
    smh_core::inspect::state::same_spec(input, stored)
        && norm(&a.labels) == norm(&b.labels)
        && norm(&a.annotations) == norm(&b.annotations)
}

/// The annotation `kubectl apply` (client-side) keeps its last applied configuration in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Stores the input objects in the management cluster (server-side apply, field manager
/// `kubectl-smh`, forced), the unchanged ones skipped. `dry_run`: the server's dry run.
pub async fn store_smh(state: &LiveState, input: &[Manifest], dry_run: bool) -> Vec<Stored> {
    let c = state.mgmt_client();
    let jobs = input.iter().map(|m| async move {
        let id = manifest_id(m);
        let stored = state.smh_object(&id);
        let stored_generation = stored
            .and_then(|s| manifest_meta(s).generation)
            .unwrap_or(0);
        let done = |outcome, generation, error| Stored {
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
            outcome,
            generation,
            error,
        };
        if let Some(s) = stored
            && smh_unchanged(m, s)
        {
            return done(Outcome::Unchanged, stored_generation, None);
        }
        let ar = smh_resource(&id.kind);
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &id.namespace, &ar);
        let mut pp = PatchParams::apply(FIELD_MANAGER).force();
        pp.dry_run = dry_run;
        match api
            .patch(&id.name, &pp, &Patch::Apply(smh_apply_body(m)))
            .await
        {
            Ok(o) => {
                let generation = o.metadata.generation.unwrap_or(1);
                let outcome = match stored {
                    None => Outcome::Created,
                    Some(s)
                        if !dry_run
                            && manifest_meta(s).resource_version.is_some()
                            && manifest_meta(s).resource_version == o.metadata.resource_version =>
                    {
                        Outcome::Unchanged
                    }
                    Some(_) => Outcome::Configured,
                };
                done(outcome, generation, None)
            }
            Err(e) => {
                let e = c.error(
                    &ApiOp::dynamic("patch", &ar, Some(&id.namespace), Some(&id.name)),
                    e,
                );
                done(Outcome::Failed, stored_generation, Some(e.to_string()))
            }
        }
    });
    futures::stream::iter(jobs)
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// The status an object has now (carried in the merged manifest).
fn current_status(m: &Manifest) -> Option<SmhStatus> {
    match &m.object {
        SmhObject::FailoverService(fs) => fs.status.clone().map(SmhStatus::FailoverService),
        SmhObject::TrafficPolicy(tp) => tp.status.clone().map(SmhStatus::TrafficPolicy),
    }
}

/// The outcome of writing one status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusWrite {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Whether it was written (false: it already was this status).
    pub written: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Writes the statuses that differ from the stored ones, through the status subresource
/// (server-side apply, field manager `kubectl-smh`, forced).
pub async fn write_statuses(
    state: &LiveState,
    statuses: &BTreeMap<ObjectId, SmhStatus>,
) -> Vec<StatusWrite> {
    let c = state.mgmt_client();
    let jobs = statuses.iter().map(|(id, status)| async move {
        let done = |written, error| StatusWrite {
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
            written,
            error,
        };
        let current = state.merged_object(id).and_then(current_status);
        if current.as_ref() == Some(status) {
            return done(false, None);
        }
        let ar = smh_resource(&id.kind);
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &id.namespace, &ar);
        let body = json!({
            "apiVersion": smh_core::consts::SMH_API_VERSION,
            "kind": id.kind,
            "metadata": {"name": id.name, "namespace": id.namespace},
            "status": status.to_value(),
        });
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        match api.patch_status(&id.name, &pp, &Patch::Apply(body)).await {
            Ok(_) => done(true, None),
            Err(e) => {
                let e = c.error(
                    &ApiOp::dynamic("patch", &ar, Some(&id.namespace), Some(&id.name)),
                    e,
                );
                done(false, Some(e.to_string()))
            }
        }
    });
    futures::stream::iter(jobs)
        .buffered(CONCURRENCY)
        .collect()
        .await
}

// ---------------------------------------------------------------------------------------
// The topology cache
// ---------------------------------------------------------------------------------------

/// The cache with the clusters discovered in this sweep updated (stamped `now`), or `None`
/// when nothing changed.
pub fn updated_cache(state: &LiveState, now: &str) -> Option<TopologyCache> {
    let mut cache = state.cache.clone();
    cache.unreadable.clear();
    let mut changed = false;
    for c in &state.topology.clusters {
        let name = ClusterName::new(c.name.as_str());
        if !state.discovery.contains_key(&name) {
            continue; // not discovered now (a cached stand-in)
        }
        let same = cache
            .clusters
            .get(&name)
            .is_some_and(|old| old.cluster == *c);
        if !same {
            cache.clusters.insert(
                name,
                CachedCluster {
                    discovered_at: now.to_string(),
                    cluster: c.clone(),
                },
            );
            changed = true;
        }
    }
    changed.then_some(cache)
}

/// Why the cache was not written.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("the topology cache would be {0} bytes, more than a ConfigMap can hold; not written")]
    TooBig(usize),
    #[error(transparent)]
    Cluster(#[from] Box<ClusterError>),
}

/// Writes the cache ConfigMap (server-side apply, field manager `kubectl-smh`).
pub async fn write_cache(state: &LiveState, cache: &TopologyCache) -> Result<(), CacheError> {
    let size: usize = cache.to_data().iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_CACHE_BYTES {
        return Err(CacheError::TooBig(size));
    }
    let c = state.mgmt_client();
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), SMH_NAMESPACE);
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(TOPOLOGY_CACHE, &pp, &Patch::Apply(cache.to_config_map()))
        .await
        .map_err(|e| {
            Box::new(c.error(
                &ApiOp::typed::<ConfigMap>("patch", Some(SMH_NAMESPACE), Some(TOPOLOGY_CACHE)),
                e,
            ))
        })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------------------

/// What `kubectl diff` leaves out of both sides.
pub fn strip_for_diff(mut v: Value) -> Value {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "selfLink",
        ] {
            meta.remove(k);
        }
    }
    v
}

/// One object's difference.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDiff {
    /// The cluster (the management cluster's display name for SMH objects).
    pub cluster: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// `create`, `configure` or `prune`.
    pub action: Action,
    /// Unified diff of the YAML (live → desired).
    pub diff: String,
    /// Why the desired side is the local object rather than the server's dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A unified diff of two YAML documents; empty when equal.
pub fn unified(label: &str, live: Option<&Value>, desired: Option<&Value>) -> String {
    let render = |v: Option<&Value>| {
        v.map(|v| smh_core::yaml_writer::to_yaml(&strip_for_diff(v.clone())).unwrap_or_default())
            .unwrap_or_default()
    };
    let (a, b) = (render(live), render(desired));
    if a == b {
        return String::new();
    }
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{label} (live)"), &format!("{label} (desired)"))
        .to_string()
}

/// Diffs every step that would change something: the desired side from a server-side dry
/// run when the cluster answers it, else the object as kubectl-smh would send it (said in
/// `note`).
pub async fn diff(state: &LiveState, plan: &Plan) -> Vec<ObjectDiff> {
    let per_cluster = plan.steps.iter().map(|(cluster, steps)| async move {
        let client = state.client(cluster).filter(|_| !plan.blocked.contains_key(cluster));
        let jobs = steps
            .iter()
            .filter(|s| s.action != Action::Unchanged)
            .map(|s| async move {
                let live = s
                    .live
                    .as_ref()
                    .and_then(|l| serde_json::to_value(l).ok());
                let label = format!(
                    "{}/{}/{}/{}",
                    s.cluster, s.kind, s.namespace, s.name
                );
                let (desired, note) = match (&s.desired, client) {
                    (None, _) => (None, None),
                    (Some(d), Some(c)) => match dry_run_apply(c, s, d).await {
                        Ok(v) => (Some(v), None),
                        Err(e) => (
                            Some(d.clone()),
                            Some(format!("the server's dry run failed ({e}); showing the object as it would be sent")),
                        ),
                    },
                    (Some(d), None) => (
                        Some(d.clone()),
                        Some(format!(
                            "cluster {cluster} cannot be asked ({}); showing the object as it would be sent",
                            plan.blocked.get(cluster).map(String::as_str).unwrap_or("no client")
                        )),
                    ),
                };
                ObjectDiff {
                    cluster: cluster.as_str().to_string(),
                    kind: s.kind.clone(),
                    namespace: s.namespace.clone(),
                    name: s.name.clone(),
                    action: s.action,
                    diff: unified(&label, live.as_ref(), desired.as_ref()),
                    note,
                }
            });
        futures::stream::iter(jobs)
            .buffered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await
    });
    join_all(per_cluster)
        .await
        .into_iter()
        .flatten()
        .filter(|d| !d.diff.is_empty())
        .collect()
}

async fn dry_run_apply(
    c: &ClusterClient,
    s: &Step,
    desired: &Value,
) -> Result<Value, ClusterError> {
    let ar = ar_of(&s.kind);
    let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &s.namespace, &ar);
    let pp = PatchParams::apply(FIELD_MANAGER).force().dry_run();
    let o = api
        .patch(&s.name, &pp, &Patch::Apply(desired))
        .await
        .map_err(|e| {
            c.error(
                &ApiOp::dynamic("patch", &ar, Some(&s.namespace), Some(&s.name)),
                e,
            )
        })?;
    Ok(serde_json::to_value(o).unwrap_or(Value::Null))
}

/// Diffs the input SMH objects against the stored ones (desired from a server-side dry
/// run).
pub async fn diff_smh(state: &LiveState, input: &[Manifest]) -> Vec<ObjectDiff> {
    let c = state.mgmt_client();
    let mgmt = state.mgmt.display_name().to_string();
    let jobs = input.iter().map(|m| {
        let mgmt = mgmt.clone();
        async move {
            let id = manifest_id(m);
            let stored = state.smh_object(&id);
            if stored.is_some_and(|s| smh_unchanged(m, s)) {
                return None;
            }
            let live = stored.map(smh_value);
            let body = smh_apply_body(m);
            let ar = smh_resource(&id.kind);
            let api: Api<DynamicObject> =
                Api::namespaced_with(c.client.clone(), &id.namespace, &ar);
            let pp = PatchParams::apply(FIELD_MANAGER).force().dry_run();
            let (mut desired, note) = match api.patch(&id.name, &pp, &Patch::Apply(&body)).await {
                Ok(o) => (serde_json::to_value(o).unwrap_or(Value::Null), None),
                Err(e) => {
                    let e = c.error(
                        &ApiOp::dynamic("patch", &ar, Some(&id.namespace), Some(&id.name)),
                        e,
                    );
                    (
                        body,
                        Some(format!("the server's dry run failed ({e}); showing the object as it would be sent")),
                    )
                }
            };
            // Status is not what apply changes through the main resource.
            if let Some(o) = desired.as_object_mut() {
                o.remove("status");
            }
            let live = live.map(|mut l| {
                if let Some(o) = l.as_object_mut() {
                    o.remove("status");
                }
                l
            });
            let label = format!("{mgmt}/{}/{}/{}", id.kind, id.namespace, id.name);
            let diff = unified(&label, live.as_ref(), Some(&desired));
            (!diff.is_empty()).then(|| ObjectDiff {
                cluster: mgmt,
                kind: id.kind.clone(),
                namespace: id.namespace.clone(),
                name: id.name.clone(),
                action: if stored.is_some() {
                    Action::Configure
                } else {
                    Action::Create
                },
                diff,
                note,
            })
        }
    });
    futures::stream::iter(jobs)
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// A stored SMH object as JSON.
pub fn smh_value(m: &Manifest) -> Value {
    match &m.object {
        SmhObject::FailoverService(fs) => serde_json::to_value(fs),
        SmhObject::TrafficPolicy(tp) => serde_json::to_value(tp),
    }
    .unwrap_or(Value::Null)
}

/// The clusters a plan writes to (with at least one step that is not `unchanged`).
pub fn changed_clusters(plan: &Plan) -> BTreeSet<ClusterName> {
    plan.steps
        .iter()
        .filter(|(_, steps)| steps.iter().any(|s| s.action != Action::Unchanged))
        .map(|(c, _)| c.clone())
        .collect()
}

/// Deletes SMH objects from the management cluster.
pub async fn delete_smh(
    state: &LiveState,
    ids: &[ObjectId],
    dry_run: bool,
) -> Vec<(ObjectId, Result<(), ClusterError>)> {
    let c = state.mgmt_client();
    let jobs = ids.iter().map(|id| async move {
        let ar = smh_resource(&id.kind);
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &id.namespace, &ar);
        let mut dp = DeleteParams::background();
        dp.dry_run = dry_run;
        let r = match api.delete(&id.name, &dp).await {
            Ok(_) => Ok(()),
            Err(e) => match c.error(
                &ApiOp::dynamic("delete", &ar, Some(&id.namespace), Some(&id.name)),
                e,
            ) {
                ClusterError::NotFound { .. } => Ok(()),
                e => Err(e),
            },
        };
        (id.clone(), r)
    });
    join_all(jobs).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diff_strips_server_fields() {
        let live = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a",
            "resourceVersion": "7", "uid": "u", "generation": 2, "managedFields": [{}]},
            "spec": {"replicas": 1}});
        let desired = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a",
            "resourceVersion": "8"}, "spec": {"replicas": 2}});
        let d = unified("c/X/ns/a", Some(&live), Some(&desired));
        assert!(
            d.starts_with("--- c/X/ns/a (live)\n+++ c/X/ns/a (desired)\n"),
            "{d}"
        );
        assert!(d.contains("-  replicas: 1\n+  replicas: 2\n"), "{d}");
        assert!(!d.contains("resourceVersion") && !d.contains("uid"), "{d}");
        assert_eq!(unified("x", Some(&live), Some(&live)), "");
        let created = unified("x", None, Some(&desired));
        assert!(created.contains("+kind: X"), "{created}");
    }

    #[test]
    fn smh_body_keeps_labels_and_annotations_not_status() {
        let loaded = smh_core::model::parse::parse_str(
            "in.yaml",
            r#"
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata:
  name: p
  namespace: bookinfo
  labels: {team: a}
  annotations: {note: b}
spec: {}
status: {state: ACCEPTED}
"#,
        );
        let body = smh_apply_body(&loaded.manifests[0]);
        assert_eq!(
            body,
            json!({"apiVersion": "networking.smh.solo.io/v1alpha2", "kind": "TrafficPolicy",
                   "metadata": {"name": "p", "namespace": "bookinfo", "labels": {"team": "a"},
                                "annotations": {"note": "b"}},
                   "spec": {}})
        );
    }
}

// ---------------------------------------------------------------------------------------
// The whole run
// ---------------------------------------------------------------------------------------

/// The generation each merged object has after storing: what the server answered for the
/// stored input objects, else the stored object's; an object not stored yet (a client dry
/// run) gets 1, one whose spec changes its generation + 1.
pub fn generations(state: &LiveState, stored: &[Stored]) -> BTreeMap<ObjectId, i64> {
    let answered: BTreeMap<ObjectId, i64> = stored
        .iter()
        .filter(|s| s.outcome != Outcome::Failed)
        .map(|s| (s.id(), s.generation))
        .collect();
    state
        .merged
        .iter()
        .map(|m| {
            let id = manifest_id(m);
            let g = answered
                .get(&id)
                .copied()
                .unwrap_or_else(|| match state.smh_object(&id) {
                    Some(s) if smh_core::inspect::state::same_spec(m, s) => {
                        manifest_meta(s).generation.unwrap_or(1)
                    }
                    Some(s) => manifest_meta(s).generation.unwrap_or(0) + 1,
                    None => 1,
                });
            (id, g)
        })
        .collect()
}

/// The statuses of every merged object, given how storing and applying went.
pub fn statuses(
    state: &LiveState,
    stored: &[Stored],
    results: &[StepResult],
) -> BTreeMap<ObjectId, SmhStatus> {
    let gens = generations(state, stored);
    let failures = apply_failures(results);
    let diagnostics: Vec<_> = state
        .diagnostics
        .iter()
        .chain(&state.expected.diagnostics)
        .cloned()
        .collect();
    smh_core::inspect::status::compute(&smh_core::inspect::status::StatusInput {
        merged: &state.merged,
        topology: &state.topology,
        diagnostics: &diagnostics,
        expected: &state.expected.objects,
        generations: &gens,
        failures: &failures,
    })
}

/// How `commit` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Change the clusters.
    Apply,
    /// Send everything with `dryRun=All`; write no status and no cache.
    ServerDryRun,
}

/// Everything a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// The input SMH objects stored in the management cluster.
    pub stored: Vec<Stored>,
    /// Per generated object.
    pub results: Vec<StepResult>,
    /// The status of every SMH object (written unless a dry run).
    pub statuses: BTreeMap<ObjectId, SmhStatus>,
    pub status_writes: Vec<StatusWrite>,
    /// SMH objects deleted (`failover delete`).
    pub deleted: Vec<(ObjectId, Option<String>)>,
    /// Why the topology cache could not be written.
    pub cache_warning: Option<String>,
    /// Why the run stopped before the clusters were changed.
    pub aborted: Option<String>,
}

impl Report {
    /// Whether anything failed (exit 3).
    pub fn failed(&self) -> bool {
        self.aborted.is_some()
            || self.stored.iter().any(|s| s.outcome == Outcome::Failed)
            || self.results.iter().any(|r| r.outcome == Outcome::Failed)
            || self.status_writes.iter().any(|w| w.error.is_some())
            || self.deleted.iter().any(|(_, e)| e.is_some())
    }
}

/// Stores `input` in the management cluster, applies `plan`, writes every status, deletes
/// `delete` (only when every cluster step succeeded, so that a re-run can finish), and
/// updates the topology cache. Storing failing stops the run before any cluster is changed.
pub async fn commit(
    state: &LiveState,
    input: &[Manifest],
    plan: &Plan,
    delete: &[ObjectId],
    mode: Mode,
) -> Report {
    let dry_run = mode == Mode::ServerDryRun;
    let mut report = Report {
        stored: store_smh(state, input, dry_run).await,
        ..Default::default()
    };
    if let Some(bad) = report.stored.iter().find(|s| s.outcome == Outcome::Failed) {
        report.aborted = Some(format!(
            "storing {} {}/{} in the management cluster failed, so no cluster was changed: {}",
            bad.kind,
            bad.namespace,
            bad.name,
            bad.error.as_deref().unwrap_or("")
        ));
        return report;
    }
    report.results = execute(state, plan, dry_run).await;
    report.statuses = statuses(state, &report.stored, &report.results);
    if dry_run {
        return report;
    }
    let all_ok = report.results.iter().all(|r| r.outcome != Outcome::Failed);
    if !delete.is_empty() {
        if !all_ok {
            // The objects stay, with their status as it was: a re-run finishes the job.
            report.aborted = Some(
                "not every generated object could be removed or updated, so the SMH objects \
                 were not deleted; run the command again when the clusters answer"
                    .to_string(),
            );
            return report;
        }
        report.deleted = delete_smh(state, delete, false)
            .await
            .into_iter()
            .map(|(id, r)| (id, r.err().map(|e| e.to_string())))
            .collect();
    }
    let (writes, cache) = futures::join!(write_statuses(state, &report.statuses), async {
        let now = jiff::Timestamp::now().to_string();
        match updated_cache(state, &now) {
            Some(cache) => write_cache(state, &cache)
                .await
                .err()
                .map(|e| e.to_string()),
            None => None,
        }
    });
    report.status_writes = writes;
    report.cache_warning = cache;
    report
}
