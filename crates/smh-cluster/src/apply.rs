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
//! - **Execute** ([`execute`]): in three phases ([`smh_core::apply_order`]: the new
//!   routing objects, DestinationRules keeping the subsets routes still use; then the
//!   VirtualServices; then the prune, and the DestinationRules as wanted), each phase every
//!   cluster at once and started only when every write of the one before was answered; within
//!   a cluster at most [`CONCURRENCY`] requests at a time; a cluster where a write failed runs
//!   no later phase. Server-side apply with field manager `kubectl-smh` and `force` (SMH's
//!   controller owned these objects outright); deletes with preconditions (the uid and
//!   resourceVersion that were read), so an object changed or replaced meanwhile is left
//!   alone. A cluster that could not be discovered or listed, or that has no Istio CRDs, is
//!   not written at all; its objects fail with the reason.
//! - A server-side dry run (`dryRun=All`) goes through the same code.

use std::collections::BTreeMap;

use futures::StreamExt;
use futures::future::join_all;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use kube::core::ApiResource;
use serde::Serialize;
use serde_json::{Value, json};

use crate::context::ClusterClient;
use crate::error::{ApiOp, ClusterError};
use crate::state::LiveState;
use smh_core::apply_order::{self, Phase, PhasedWrite, StepIn, StepKind, Write};
use smh_core::consts::{FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SMH_NAMESPACE};
use smh_core::inspect::drift::{DriftState, ObjectKey};
use smh_core::inspect::names::ClusterName;
use smh_core::inspect::state::{compare, istio_resource, live_key};
use smh_core::model::diag::ObjectId;

mod cache;
mod diff;
mod run;
mod smh;

pub use self::diff::{ObjectDiff, diff, diff_smh, strip_for_diff, unified};
pub use self::run::{ApplyReport, Mode, commit, generations, statuses};
pub use self::smh::{Stored, smh_resource, smh_unchanged};

/// Requests in flight per cluster.
pub(crate) const CONCURRENCY: usize = 8;

/// The largest topology cache written (a ConfigMap holds at most 1 MiB).
pub(crate) const MAX_CACHE_BYTES: usize = 900 * 1024;

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Not there: created.
    Create,
    /// There but different (spec, or one of our labels or annotations): applied again.
    Configure,
    /// There as expected: no request is sent.
    Unchanged,
    /// Ours (both labels) but nothing expects it any more: deleted.
    Prune,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyOutcome {
    /// The object was created.
    Created,
    /// The object was changed.
    Configured,
    /// Nothing to do.
    Unchanged,
    /// The object was deleted.
    Pruned,
    /// The request failed (the step result says why).
    Failed,
}

impl ApplyOutcome {
    /// The word kubectl prints for it (`created`, `configured`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            ApplyOutcome::Created => "created",
            ApplyOutcome::Configured => "configured",
            ApplyOutcome::Unchanged => "unchanged",
            ApplyOutcome::Pruned => "pruned",
            ApplyOutcome::Failed => "failed",
        }
    }
}

/// One object of the plan.
#[derive(Debug, Clone)]
pub struct Step {
    /// The cluster the object lives in.
    pub cluster: ClusterName,
    /// What the step does.
    pub action: Action,
    /// The Istio kind (`DestinationRule`, `VirtualService`, ...).
    pub kind: String,
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
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
    /// The object's cluster, kind, namespace and name.
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            cluster: self.cluster.as_str().to_string(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// Everything to do, per cluster.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Steps per cluster: applies (sorted by kind, namespace, name), then prunes.
    pub steps: BTreeMap<ClusterName, Vec<Step>>,
    /// Clusters that cannot be written, with why; their steps fail with it.
    pub blocked: BTreeMap<ClusterName, String>,
    /// Per cluster, the writes of its steps in the order they are sent
    /// ([`smh_core::apply_order`]): `step` indexes that cluster's `steps`.
    pub phases: BTreeMap<ClusterName, Vec<PhasedWrite>>,
}

impl Plan {
    /// All steps, cluster by cluster.
    pub fn all(&self) -> impl Iterator<Item = &Step> {
        self.steps.values().flatten()
    }

    /// Whether some cluster's writes run in more than one phase (so their order matters).
    pub fn is_phased(&self) -> bool {
        self.phases.values().any(|w| apply_order::is_phased(w))
    }
}

/// The order of `steps`' writes.
fn phases_of(steps: &[Step]) -> Vec<PhasedWrite> {
    let live: Vec<Option<Value>> = steps
        .iter()
        .map(|s| s.live.as_ref().and_then(|l| serde_json::to_value(l).ok()))
        .collect();
    let inputs: Vec<StepIn<'_>> = steps
        .iter()
        .zip(&live)
        .map(|(s, l)| StepIn {
            kind: &s.kind,
            action: match s.action {
                Action::Create => StepKind::Create,
                Action::Configure => StepKind::Configure,
                Action::Unchanged => StepKind::Unchanged,
                Action::Prune => StepKind::Prune,
            },
            desired: s.desired.as_ref(),
            live: l.as_ref(),
        })
        .collect();
    apply_order::order(&inputs)
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
    out.phases = out
        .steps
        .iter()
        .map(|(c, steps)| (c.clone(), phases_of(steps)))
        .collect();
    out
}

/// What happened to one step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    /// The cluster the object lives in.
    pub cluster: ClusterName,
    /// The Istio kind.
    pub kind: String,
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// What the step was to do.
    pub action: Action,
    /// What happened.
    pub outcome: ApplyOutcome,
    /// Why it failed, naming the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl StepResult {
    /// What happened to `step`.
    pub fn new(step: &Step, outcome: ApplyOutcome, error: Option<String>) -> StepResult {
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
    /// The key the status of an SMH object records this object under.
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            cluster: self.cluster.as_str().to_string(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// Runs the plan: all clusters at once, phase by phase ([`smh_core::apply_order`]): a phase
/// starts once every write of the one before it was answered, in every cluster; in a cluster
/// where a write failed, the later phases are not run (a route is never switched to objects
/// that are not in place, nor old objects removed before the switch). `dry_run`: the
/// server's `dryRun=All`.
pub(crate) async fn execute(state: &LiveState, plan: &Plan, dry_run: bool) -> Vec<StepResult> {
    // Per cluster, per step: its result once known.
    let mut results: BTreeMap<&ClusterName, Vec<Option<StepResult>>> = BTreeMap::new();
    // Clusters that run no (further) phase, with the first failure.
    let mut halted: BTreeMap<&ClusterName, String> = BTreeMap::new();
    let prepared = plan.steps.iter().map(|(cluster, steps)| async move {
        let early = match (plan.blocked.get(cluster), state.client(cluster)) {
            (None, Some(client)) => prepare_cluster(client, steps, dry_run).await,
            (reason, _) => {
                let reason = reason
                    .cloned()
                    .unwrap_or_else(|| format!("cluster {cluster} has no client"));
                Some(
                    steps
                        .iter()
                        .map(|s| failed(s, format!("{}: {reason}", not_done(s))))
                        .collect(),
                )
            }
        };
        (cluster, steps, early)
    });
    for (cluster, steps, early) in join_all(prepared).await {
        match early {
            Some(done) => {
                results.insert(cluster, done.into_iter().map(Some).collect());
                halted.insert(cluster, String::new());
            }
            None => {
                results.insert(cluster, vec![None; steps.len()]);
            }
        }
    }
    for phase in Phase::ALL {
        let runs = plan
            .phases
            .iter()
            .filter(|(c, _)| !halted.contains_key(c))
            .filter_map(|(c, writes)| Some((c, state.client(c)?, writes)))
            .map(|(cluster, client, writes)| async move {
                let steps = &plan.steps[cluster];
                let these = writes.iter().filter(|w| w.phase == phase);
                let done: Vec<(&PhasedWrite, StepResult)> =
                    futures::stream::iter(these.map(|w| async move {
                        (w, run_write(client, &steps[w.step], w, dry_run).await)
                    }))
                    .buffer_unordered(CONCURRENCY)
                    .collect()
                    .await;
                (cluster, done)
            });
        for (cluster, done) in join_all(runs).await {
            let slots = results.get_mut(cluster).expect("every cluster has slots");
            for (w, r) in done {
                let failure = r.outcome == ApplyOutcome::Failed;
                if failure && !halted.contains_key(cluster) {
                    halted.insert(cluster, format!("{} {}/{}", r.kind, r.namespace, r.name));
                }
                if failure || !w.interim {
                    slots[w.step] = Some(r);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (cluster, slots) in results {
        let steps = &plan.steps[cluster];
        let mut cluster_out: Vec<StepResult> = slots
            .into_iter()
            .zip(steps)
            .map(|(r, s)| {
                r.unwrap_or_else(|| match s.action {
                    Action::Unchanged => StepResult::new(s, ApplyOutcome::Unchanged, None),
                    _ => failed(
                        s,
                        format!(
                            "{}: not tried, because {} failed first in this cluster \
                             (routes switch only to objects in place, and old objects go \
                             only after the switch); run the command again",
                            not_done(s),
                            halted
                                .get(cluster)
                                .map_or("an earlier write", |k| k.as_str())
                        ),
                    ),
                })
            })
            .collect();
        cluster_out.sort_by(|a, b| {
            (a.action == Action::Prune, a.key()).cmp(&(b.action == Action::Prune, b.key()))
        });
        out.extend(cluster_out);
    }
    out
}

/// What must exist before a cluster's writes: the `service-mesh-hub` namespace when an
/// object goes there. `Some(results)` when that failed (every step's result).
async fn prepare_cluster(
    c: &ClusterClient,
    steps: &[Step],
    dry_run: bool,
) -> Option<Vec<StepResult>> {
    // FailoverService ServiceEntries go to `service-mesh-hub`, which a remote cluster may
    // not have: kubectl-smh creates it (any other namespace is the user's).
    let needs_ns = steps.iter().any(|s| {
        matches!(s.action, Action::Create | Action::Configure) && s.namespace == SMH_NAMESPACE
    });
    if !needs_ns {
        return None;
    }
    let Err(e) = ensure_smh_namespace(c, dry_run).await else {
        return None;
    };
    Some(
        steps
            .iter()
            .map(|s| {
                if s.namespace == SMH_NAMESPACE && s.action != Action::Prune {
                    failed(s, format!("{}: {e}", not_done(s)))
                } else if s.action == Action::Unchanged {
                    StepResult::new(s, ApplyOutcome::Unchanged, None)
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
            .collect(),
    )
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
    StepResult::new(s, ApplyOutcome::Failed, Some(message))
}

/// Sends one write of `s`.
async fn run_write(c: &ClusterClient, s: &Step, w: &PhasedWrite, dry_run: bool) -> StepResult {
    match &w.write {
        Write::Apply(v) => apply_step(c, s, v, dry_run).await,
        Write::Delete => prune_step(c, s, dry_run).await,
    }
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

pub(crate) fn ar_of(kind: &str) -> ApiResource {
    istio_resource(kind, plural_of(kind))
}

async fn apply_step(c: &ClusterClient, s: &Step, desired: &Value, dry_run: bool) -> StepResult {
    if s.action == Action::Unchanged {
        return StepResult::new(s, ApplyOutcome::Unchanged, None);
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
                (Action::Create, _) => ApplyOutcome::Created,
                // The server changed nothing (a no-op apply keeps the resourceVersion; a dry
                // run keeps it anyway).
                (_, Some(rv))
                    if !dry_run && applied.metadata.resource_version.as_deref() == Some(rv) =>
                {
                    ApplyOutcome::Unchanged
                }
                _ => ApplyOutcome::Configured,
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
        Ok(_) => StepResult::new(s, ApplyOutcome::Pruned, None),
        Err(e) => {
            let e = c.error(
                &ApiOp::dynamic("delete", &ar, Some(&s.namespace), Some(&s.name)),
                e,
            );
            match e {
                // Already gone: what pruning wanted.
                ClusterError::NotFound { .. } => StepResult::new(s, ApplyOutcome::Pruned, None),
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
pub(crate) fn apply_failures(results: &[StepResult]) -> BTreeMap<ObjectKey, String> {
    results
        .iter()
        .filter(|r| r.action != Action::Prune && r.outcome == ApplyOutcome::Failed)
        .map(|r| (r.key(), r.error.clone().unwrap_or_default()))
        .collect()
}
