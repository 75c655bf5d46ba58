//! SMH status, computed the way SMH's controller did (per mesh for a FailoverService, per
//! traffic target for a TrafficPolicy, with acceptance order), plus the outcome of
//! applying: pure, no I/O.
//!
//! Every object starts ACCEPTED with `observedGeneration` = its generation (SMH's applier);
//! then:
//!
//! - **Object-wide errors** (SMH's pre-checks "Mesh ... not found" / "TrafficTarget ... not
//!   found", and field errors SMH's API server would have refused) go to the top-level
//!   `errors`; the object is INVALID and was applied to no mesh or traffic target, so
//!   `meshes` / `trafficTargets` stay empty.
//! - **FailoverService**: one `meshes` entry per mesh in `spec.meshes`, keyed
//!   `name.namespace.`: INVALID with the validation and translation errors for that mesh,
//!   else ACCEPTED. `acceptanceOrder` is the 0-based index among the FailoverServices
//!   ACCEPTED on that mesh, by `name.namespace.` (the order SMH listed them in).
//! - **TrafficPolicy**: one `trafficTargets` entry per traffic target the policy selects,
//!   keyed by the target's key (`reviews-bookinfo-mgmt-cluster.service-mesh-hub.`): INVALID
//!   with the errors for that target, else ACCEPTED. `acceptanceOrder` is the 0-based index
//!   among the policies ACCEPTED on that target, ordered as SMH's
//!   `sortTrafficPoliciesByAcceptedDate`: policies ACCEPTED there before and unchanged since
//!   (by their previous `acceptanceOrder`), then ones ACCEPTED before but changed, then the
//!   rest by creation time and `name.namespace.`.
//! - **FAILED** (SMH's "valid config, but applying it failed"): a mesh or traffic target
//!   whose generated objects could not be applied gets state FAILED and one error per
//!   object naming it, the cluster and the reason; failures that belong to no entry go to
//!   the top-level `errors`.
//! - `state`: INVALID if anything is INVALID, else FAILED if anything failed, else
//!   ACCEPTED.
//!
//! `workloads` (keys of SMH's discovered Workload objects) is not written: kubectl-smh has no
//! Workload objects, and the guide's status shows none.

use std::collections::{BTreeMap, BTreeSet};

use crate::consts::FEDERATION_ANNOTATION;
use crate::model::diag::{Diagnostic, ObjectId, Severity, StatusTarget};
use crate::model::naming::{mesh_key, object_key};
use crate::model::select::TargetIndex;
use crate::model::topology::Topology;
use crate::model::types::{
    ApprovalState, FailoverService, FailoverServiceStatus, TrafficPolicy, TrafficPolicyStatus,
    ValidationStatus,
};
use crate::model::{Manifest, SmhObject};
use crate::translate::GeneratedObject;

use super::drift::ObjectKey;
use super::state::{manifest_id, manifest_meta};

/// A status to write.
#[derive(Debug, Clone, PartialEq)]
pub enum SmhStatus {
    /// The status of a FailoverService (per mesh).
    FailoverService(FailoverServiceStatus),
    /// The status of a TrafficPolicy (per traffic target).
    TrafficPolicy(TrafficPolicyStatus),
}

impl SmhStatus {
    /// The overall state.
    pub fn state(&self) -> ApprovalState {
        match self {
            SmhStatus::FailoverService(s) => s.state,
            SmhStatus::TrafficPolicy(s) => s.state,
        }
    }

    /// Every error message, with the mesh or traffic target it belongs to (`None` for the
    /// top-level ones).
    pub fn errors(&self) -> Vec<(Option<&str>, &str)> {
        let (top, entries) = match self {
            SmhStatus::FailoverService(s) => (&s.errors, &s.meshes),
            SmhStatus::TrafficPolicy(s) => (&s.errors, &s.traffic_targets),
        };
        top.iter()
            .map(|e| (None, e.as_str()))
            .chain(
                entries.iter().flat_map(|(k, v)| {
                    v.errors.iter().map(move |e| (Some(k.as_str()), e.as_str()))
                }),
            )
            .collect()
    }

    /// The status as JSON.
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            SmhStatus::FailoverService(s) => serde_json::to_value(s),
            SmhStatus::TrafficPolicy(s) => serde_json::to_value(s),
        }
        .unwrap_or(serde_json::Value::Null)
    }
}

/// What status computation needs.
pub struct StatusInput<'a> {
    /// The objects (with their previous status), FailoverServices and TrafficPolicies.
    pub merged: &'a [Manifest],
    /// The topology the objects were translated against (meshes, traffic targets).
    pub topology: &'a Topology,
    /// Validation and translation diagnostics.
    pub diagnostics: &'a [Diagnostic],
    /// The generated objects, with their owners.
    pub expected: &'a [GeneratedObject],
    /// The generation of each object now (after storing); missing: its metadata's.
    pub generations: &'a BTreeMap<ObjectId, i64>,
    /// Generated objects that could not be applied, with why (a full sentence naming the
    /// cluster).
    pub failures: &'a BTreeMap<ObjectKey, String>,
}

/// An object's errors: top-level, and per mesh or traffic target key.
type ObjectErrors = (Vec<String>, BTreeMap<String, Vec<String>>);

/// The status of every object of `input.merged`.
pub fn compute(input: &StatusInput) -> BTreeMap<ObjectId, SmhStatus> {
    let errors = errors_by_object(input.diagnostics);
    let failed = failures_by_owner(input);
    let mut out = failover_service_statuses(input, &errors, &failed);
    out.extend(traffic_policy_statuses(input, &errors, &failed));
    out
}

/// The generated objects that failed to apply, with why, per owner.
type Failures<'a> = BTreeMap<&'a ObjectId, Vec<(&'a GeneratedObject, &'a str)>>;

/// The validation errors of each object, top-level and per mesh or traffic target.
fn errors_by_object(diagnostics: &[Diagnostic]) -> BTreeMap<&ObjectId, ObjectErrors> {
    let mut errors: BTreeMap<&ObjectId, ObjectErrors> = BTreeMap::new();
    for d in diagnostics.iter().filter(|d| d.severity == Severity::Error) {
        let Some(id) = &d.object else { continue };
        let e = errors.entry(id).or_default();
        match &d.status_target {
            Some(StatusTarget::Mesh(k)) | Some(StatusTarget::TrafficTarget(k)) => {
                push_unique(e.1.entry(k.clone()).or_default(), &d.message)
            }
            Some(StatusTarget::TopLevel) | None => push_unique(&mut e.0, &d.message),
        }
    }
    errors
}

/// Failures per owner: (generated object, message).
fn failures_by_owner<'a>(input: &StatusInput<'a>) -> Failures<'a> {
    let mut failed: Failures<'a> = BTreeMap::new();
    for g in input.expected {
        if let Some(msg) = input.failures.get(&ObjectKey::of_generated(g)) {
            for owner in &g.owners {
                failed.entry(owner).or_default().push((g, msg.as_str()));
            }
        }
    }
    failed
}

/// The object's generation now: as stored, else its metadata's.
fn generation(input: &StatusInput, m: &Manifest) -> i64 {
    input
        .generations
        .get(&manifest_id(m))
        .copied()
        .or(manifest_meta(m).generation)
        .unwrap_or(0)
}

/// FailoverServices: meshes and their acceptance order.
fn failover_service_statuses(
    input: &StatusInput,
    errors: &BTreeMap<&ObjectId, ObjectErrors>,
    failed: &Failures<'_>,
) -> BTreeMap<ObjectId, SmhStatus> {
    let empty = (Vec::new(), BTreeMap::new());
    let mut out = BTreeMap::new();
    let mut fss: Vec<(&Manifest, &FailoverService, ObjectId)> = input
        .merged
        .iter()
        .filter_map(|m| match &m.object {
            SmhObject::FailoverService(fs) => Some((m, fs, manifest_id(m))),
            _ => None,
        })
        .collect();
    fss.sort_by_key(|(_, _, id)| object_key(&id.name, &id.namespace));
    let mut accepted_on_mesh: BTreeMap<String, u32> = BTreeMap::new();
    for (m, fs, id) in &fss {
        let (top, per_mesh) = errors.get(id).unwrap_or(&empty);
        let mut status = FailoverServiceStatus {
            observed_generation: generation(input, m),
            state: ApprovalState::Accepted,
            meshes: BTreeMap::new(),
            errors: top.clone(),
        };
        let failures = failed.get(id).map(Vec::as_slice).unwrap_or_default();
        let mut placed = vec![false; failures.len()];
        if top.is_empty() {
            for mesh in fs.spec.meshes.iter().flatten() {
                let key = mesh_key(&mesh.name, &mesh.namespace);
                let cluster = input
                    .topology
                    .find_mesh(&mesh.name, &mesh.namespace)
                    .map(|(c, _)| c.name.as_str());
                let entry = entry_status(
                    per_mesh.get(&key),
                    failures,
                    &mut placed,
                    |g| Some(g.cluster.as_str()) == cluster,
                    || {
                        let n = accepted_on_mesh.entry(key.clone()).or_insert(0);
                        let order = *n;
                        *n += 1;
                        order
                    },
                );
                status.meshes.insert(key, entry);
            }
            // Errors for meshes the object does not list (SMH never reported those).
            push_unlisted(&mut status.errors, per_mesh, &status.meshes);
        }
        push_unplaced(&mut status.errors, failures, &placed);
        status.state = overall(&status.errors, top, status.meshes.values());
        out.insert(id.clone(), SmhStatus::FailoverService(status));
    }
    out
}

/// TrafficPolicies: traffic targets and their acceptance order.
fn traffic_policy_statuses(
    input: &StatusInput,
    errors: &BTreeMap<&ObjectId, ObjectErrors>,
    failed: &Failures<'_>,
) -> BTreeMap<ObjectId, SmhStatus> {
    let empty = (Vec::new(), BTreeMap::new());
    let index = TargetIndex::new(input.topology);
    let tps: Vec<(&Manifest, &TrafficPolicy, ObjectId)> = input
        .merged
        .iter()
        .filter_map(|m| match &m.object {
            SmhObject::TrafficPolicy(tp) => Some((m, tp, manifest_id(m))),
            _ => None,
        })
        .collect();
    let mut statuses: Vec<TrafficPolicyStatus> = Vec::new();
    // target key -> candidates for acceptance: (rank, index into tps)
    let mut candidates: BTreeMap<String, Vec<(TargetRank, usize)>> = BTreeMap::new();
    for (i, (m, tp, id)) in tps.iter().enumerate() {
        let (top, per_target) = errors.get(id).unwrap_or(&empty);
        let mut status = TrafficPolicyStatus {
            observed_generation: generation(input, m),
            state: ApprovalState::Accepted,
            traffic_targets: BTreeMap::new(),
            workloads: Vec::new(),
            errors: top.clone(),
        };
        let failures = failed.get(id).map(Vec::as_slice).unwrap_or_default();
        let mut placed = vec![false; failures.len()];
        if top.is_empty() {
            let targets: Vec<_> = index
                .policy_targets(tp)
                .into_iter()
                .map(|t| index.targets()[t])
                .filter(|t| t.cluster.mesh.is_some())
                .collect();
            for t in &targets {
                let key = t.key();
                let entry = entry_status(
                    per_target.get(&key),
                    failures,
                    &mut placed,
                    |g| {
                        related(g, &t.service.name, &t.service.namespace, &t.cluster.name)
                            == Relation::Own
                    },
                    || {
                        let up_to_date = previous_up_to_date(tp, generation(input, m));
                        candidates
                            .entry(key.clone())
                            .or_default()
                            .push((rank(tp, &key, up_to_date), i));
                        // Set once every candidate is known.
                        0
                    },
                );
                status.traffic_targets.insert(key, entry);
            }
            // A failure of a client-side copy (federated DestinationRule) belongs to the
            // target it copies, when that is not already failing for its own object.
            let names: Vec<TargetNames> = targets
                .iter()
                .map(|t| TargetNames {
                    key: t.key(),
                    name: &t.service.name,
                    namespace: &t.service.namespace,
                    cluster: &t.cluster.name,
                })
                .collect();
            place_copy_failures(
                failures,
                &mut placed,
                &names,
                &mut status,
                &mut candidates,
                i,
            );
            push_unlisted(&mut status.errors, per_target, &status.traffic_targets);
        }
        push_unplaced(&mut status.errors, failures, &placed);
        statuses.push(status);
    }
    assign_acceptance_order(candidates, &mut statuses);
    let mut out = BTreeMap::new();
    for ((_, _, id), mut status) in tps.into_iter().zip(statuses) {
        let top = errors.get(&id).map(|e| e.0.clone()).unwrap_or_default();
        status.state = overall(&status.errors, &top, status.traffic_targets.values());
        out.insert(id, SmhStatus::TrafficPolicy(status));
    }
    out
}

/// A traffic target by its names: its status key, its service's name and namespace, its
/// cluster.
struct TargetNames<'a> {
    key: String,
    name: &'a str,
    namespace: &'a str,
    cluster: &'a str,
}

/// A failure of a client-side copy (federated DestinationRule) belongs to the target it
/// copies, when that is not already failing for its own object: the target fails (and is
/// no longer a candidate for acceptance) and gets the message.
fn place_copy_failures(
    failures: &[(&GeneratedObject, &str)],
    placed: &mut [bool],
    targets: &[TargetNames<'_>],
    status: &mut TrafficPolicyStatus,
    candidates: &mut BTreeMap<String, Vec<(TargetRank, usize)>>,
    i: usize,
) {
    for (j, (g, msg)) in failures.iter().enumerate() {
        if placed[j] {
            continue;
        }
        for t in targets {
            if related(g, t.name, t.namespace, t.cluster) == Relation::Copy
                && let Some(e) = status.traffic_targets.get_mut(&t.key)
                && e.state != ApprovalState::Invalid
            {
                if e.state == ApprovalState::Accepted {
                    if let Some(c) = candidates.get_mut(&t.key) {
                        c.retain(|(_, k)| *k != i);
                    }
                    e.state = ApprovalState::Failed;
                }
                push_unique(&mut e.errors, msg);
                placed[j] = true;
            }
        }
    }
}

/// Each target's acceptance order: its candidates, best rank first.
fn assign_acceptance_order(
    candidates: BTreeMap<String, Vec<(TargetRank, usize)>>,
    statuses: &mut [TrafficPolicyStatus],
) {
    for (key, mut list) in candidates {
        list.sort();
        for (order, (_, i)) in list.into_iter().enumerate() {
            if let Some(e) = statuses[i].traffic_targets.get_mut(&key) {
                e.acceptance_order = order as u32;
            }
        }
    }
}

/// `(class, previous order, creation time, name.namespace.)`, lower first.
type TargetRank = (u8, u32, String, String);

/// Where a policy stands for acceptance on one target (see the module docs).
fn rank(tp: &TrafficPolicy, key: &str, up_to_date: bool) -> TargetRank {
    let previous = tp
        .status
        .as_ref()
        .and_then(|s| s.traffic_targets.get(key))
        .filter(|s| s.state == ApprovalState::Accepted);
    let (class, order) = match previous {
        Some(s) if up_to_date => (0, s.acceptance_order),
        Some(s) => (1, s.acceptance_order),
        None => (2, 0),
    };
    let created = tp
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .unwrap_or_else(|| "~".to_string());
    let name = object_key(
        tp.metadata.name.as_deref().unwrap_or_default(),
        tp.metadata
            .namespace
            .as_deref()
            .unwrap_or(crate::consts::SMH_NAMESPACE),
    );
    (class, order, created, name)
}

/// Whether the previous status saw the generation the policy has now.
fn previous_up_to_date(tp: &TrafficPolicy, generation: i64) -> bool {
    tp.status
        .as_ref()
        .is_some_and(|s| s.observed_generation == generation)
}

#[derive(Debug, PartialEq, Eq)]
enum Relation {
    /// The target's own DestinationRule or VirtualService (in its cluster).
    Own,
    /// A client-side copy for the target in another cluster.
    Copy,
    None,
}

/// How a generated object relates to the traffic target `name.namespace` in `cluster`.
fn related(g: &GeneratedObject, name: &str, namespace: &str, cluster: &str) -> Relation {
    if !matches!(g.kind(), "DestinationRule" | "VirtualService") {
        return Relation::None;
    }
    if let Some(federated) = g
        .object
        .annotations()
        .and_then(|a| a.get(FEDERATION_ANNOTATION))
    {
        return if *federated == format!("{name}.{namespace}.{cluster}") {
            Relation::Copy
        } else {
            Relation::None
        };
    }
    if g.name() == name && g.namespace() == namespace {
        if g.cluster == cluster {
            Relation::Own
        } else {
            // Multi-primary: the service's DestinationRule in a using cluster carries its
            // per-cluster subsets.
            Relation::Copy
        }
    } else {
        Relation::None
    }
}

/// INVALID if anything is INVALID or there are top-level validation errors, else FAILED if
/// anything failed (or top-level failures were added), else ACCEPTED.
fn overall<'a>(
    all_top: &[String],
    validation_top: &[String],
    entries: impl Iterator<Item = &'a ValidationStatus>,
) -> ApprovalState {
    let states: BTreeSet<ApprovalState> = entries.map(|e| e.state).collect();
    if !validation_top.is_empty() || states.contains(&ApprovalState::Invalid) {
        ApprovalState::Invalid
    } else if all_top.len() > validation_top.len() || states.contains(&ApprovalState::Failed) {
        ApprovalState::Failed
    } else {
        ApprovalState::Accepted
    }
}

/// The status of one mesh (FailoverService) or traffic target (TrafficPolicy): INVALID with
/// its validation errors `invalid`; else FAILED with the apply failures `own` picks out
/// (marking them `placed`); else ACCEPTED, at the acceptance order `accept` gives.
fn entry_status(
    invalid: Option<&Vec<String>>,
    failures: &[(&GeneratedObject, &str)],
    placed: &mut [bool],
    own: impl Fn(&GeneratedObject) -> bool,
    accept: impl FnOnce() -> u32,
) -> ValidationStatus {
    if let Some(errs) = invalid {
        return ValidationStatus {
            acceptance_order: 0,
            state: ApprovalState::Invalid,
            errors: errs.clone(),
        };
    }
    let mine: Vec<String> = failures
        .iter()
        .enumerate()
        .filter(|(_, (g, _))| own(g))
        .map(|(i, (_, msg))| {
            placed[i] = true;
            msg.to_string()
        })
        .collect();
    if mine.is_empty() {
        ValidationStatus {
            acceptance_order: accept(),
            state: ApprovalState::Accepted,
            errors: Vec::new(),
        }
    } else {
        ValidationStatus {
            acceptance_order: 0,
            state: ApprovalState::Failed,
            errors: dedup(mine),
        }
    }
}

/// Adds to the object's `errors` those of the entries (meshes, traffic targets) it has no
/// status entry for.
fn push_unlisted(
    errors: &mut Vec<String>,
    per_entry: &BTreeMap<String, Vec<String>>,
    listed: &BTreeMap<String, ValidationStatus>,
) {
    for (k, errs) in per_entry {
        if !listed.contains_key(k) {
            for e in errs {
                push_unique(errors, e);
            }
        }
    }
}

/// Adds to the object's `errors` the apply failures placed on no entry.
fn push_unplaced(errors: &mut Vec<String>, failures: &[(&GeneratedObject, &str)], placed: &[bool]) {
    for (i, (_, msg)) in failures.iter().enumerate() {
        if !placed[i] {
            push_unique(errors, msg);
        }
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for s in v {
        push_unique(&mut out, &s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::state::translatable;
    use crate::model::parse::parse_str;
    use crate::model::validate::{ValidateOptions, validate_with};
    use crate::translate::translate;

    const GUIDE: &str = concat!(
        include_str!("../../../../examples/guide/1-outlier-detection.yaml"),
        "\n---\n",
        include_str!("../../../../examples/guide/2-failover-service.yaml"),
        "\n---\n",
        include_str!("../../../../examples/guide/3-traffic-shift.yaml"),
    );

    struct Run {
        merged: Vec<Manifest>,
        topology: Topology,
        diagnostics: Vec<Diagnostic>,
        expected: Vec<GeneratedObject>,
    }

    fn run(text: &str) -> Run {
        let loaded = parse_str("in.yaml", text);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let topology = Topology::from_manifests(&loaded.manifests);
        let mut diagnostics = validate_with(
            &loaded.manifests,
            &topology,
            &ValidateOptions {
                complete: true,
                rejected: vec![],
            },
        );
        let t = translate(&translatable(&loaded.manifests, &diagnostics), &topology);
        diagnostics.extend(t.diagnostics.clone());
        Run {
            merged: loaded.manifests,
            topology,
            diagnostics,
            expected: t.objects,
        }
    }

    fn compute_for(r: &Run, failures: &BTreeMap<ObjectKey, String>) -> BTreeMap<String, Value> {
        let gens: BTreeMap<ObjectId, i64> = r.merged.iter().map(|m| (manifest_id(m), 1)).collect();
        compute(&StatusInput {
            merged: &r.merged,
            topology: &r.topology,
            diagnostics: &r.diagnostics,
            expected: &r.expected,
            generations: &gens,
            failures,
        })
        .into_iter()
        .map(|(id, s)| (id.name, s.to_value()))
        .collect()
    }

    use serde_json::{Value, json};

    #[test]
    fn the_guide_statuses() {
        let r = run(GUIDE);
        let s = compute_for(&r, &BTreeMap::new());
        assert_eq!(
            s["reviews-failover"],
            json!({"observedGeneration": "1", "state": "ACCEPTED",
                   "meshes": {"istiod-istio-system-mgmt-cluster.service-mesh-hub.": {"state": "ACCEPTED"}}})
        );
        // Both policies are on reviews@mgmt: the outlier policy comes first by name (neither
        // has a creation time or a previous status here), the shift policy second.
        assert_eq!(
            s["mgmt-reviews-outlier"],
            json!({"observedGeneration": "1", "state": "ACCEPTED", "trafficTargets": {
                "reviews-bookinfo-mgmt-cluster.service-mesh-hub.": {"state": "ACCEPTED"},
                "reviews-bookinfo-remote-cluster.service-mesh-hub.": {"state": "ACCEPTED"}}})
        );
        assert_eq!(
            s["reviews-shift-failover"],
            json!({"observedGeneration": "1", "state": "ACCEPTED", "trafficTargets": {
                "reviews-bookinfo-mgmt-cluster.service-mesh-hub.": {"acceptanceOrder": 1, "state": "ACCEPTED"}}})
        );
    }

    #[test]
    fn previously_accepted_policies_keep_their_place() {
        // The shift policy was accepted first (order 0) and is unchanged; the outlier policy
        // is new: it comes after it.
        let text = GUIDE.replace(
            "name: reviews-shift-failover\n  namespace: bookinfo\n",
            "name: reviews-shift-failover\n  namespace: bookinfo\n  generation: 1\n",
        ) + "\nstatus:\n  observedGeneration: \"1\"\n  state: ACCEPTED\n  trafficTargets:\n    reviews-bookinfo-mgmt-cluster.service-mesh-hub.: {state: ACCEPTED}\n";
        let r = run(&text);
        let s = compute_for(&r, &BTreeMap::new());
        assert_eq!(
            s["reviews-shift-failover"]["trafficTargets"]["reviews-bookinfo-mgmt-cluster.service-mesh-hub."],
            json!({"state": "ACCEPTED"})
        );
        assert_eq!(
            s["mgmt-reviews-outlier"]["trafficTargets"]["reviews-bookinfo-mgmt-cluster.service-mesh-hub."],
            json!({"acceptanceOrder": 1, "state": "ACCEPTED"})
        );
    }

    #[test]
    fn a_failed_cluster_marks_the_entries_that_use_it() {
        let r = run(GUIDE);
        let mut failures = BTreeMap::new();
        for g in r.expected.iter().filter(|g| g.cluster == "remote-cluster") {
            failures.insert(
                ObjectKey::of_generated(g),
                format!(
                    "{} {}/{} was not applied: cluster remote-cluster did not answer",
                    g.kind(),
                    g.namespace(),
                    g.name()
                ),
            );
        }
        let s = compute_for(&r, &failures);
        let tp = &s["mgmt-reviews-outlier"];
        assert_eq!(tp["state"], "FAILED");
        assert_eq!(
            tp["trafficTargets"]["reviews-bookinfo-remote-cluster.service-mesh-hub."],
            json!({"state": "FAILED", "errors": [
                "DestinationRule bookinfo/reviews was not applied: cluster remote-cluster did not answer"]})
        );
        assert_eq!(
            tp["trafficTargets"]["reviews-bookinfo-mgmt-cluster.service-mesh-hub."],
            json!({"state": "ACCEPTED"})
        );
        // Only mgmt objects belong to the FailoverService: it is unaffected.
        assert_eq!(s["reviews-failover"]["state"], "ACCEPTED");

        // The client-side copy in mgmt failing marks the remote target of the policy.
        let r = run(GUIDE);
        let copy = r
            .expected
            .iter()
            .find(|g| g.name() == "reviews-bookinfo-remote-cluster")
            .unwrap();
        let failures = BTreeMap::from([(ObjectKey::of_generated(copy), "copy failed".to_string())]);
        let s = compute_for(&r, &failures);
        assert_eq!(
            s["mgmt-reviews-outlier"]["trafficTargets"]["reviews-bookinfo-remote-cluster.service-mesh-hub."]
                ["state"],
            "FAILED"
        );
        // The FailoverService owns the copy too (its aggregate cluster uses the host): its
        // mesh in mgmt-cluster failed.
        assert_eq!(
            s["reviews-failover"]["meshes"]["istiod-istio-system-mgmt-cluster.service-mesh-hub."],
            json!({"state": "FAILED", "errors": ["copy failed"]})
        );
        assert_eq!(s["reviews-failover"]["state"], "FAILED");
    }

    #[test]
    fn invalid_objects() {
        // A mesh that does not exist: the pre-check error is top-level, no meshes.
        let text = GUIDE.replace(
            "name: istiod-istio-system-mgmt-cluster",
            "name: istiod-istio-system-nowhere",
        );
        let r = run(&text);
        let s = compute_for(&r, &BTreeMap::new());
        let fs = &s["reviews-failover"];
        assert_eq!(fs["state"], "INVALID");
        assert!(fs.get("meshes").is_none(), "{fs}");
        assert_eq!(
            fs["errors"][0],
            "*v1alpha2.Mesh with id istiod-istio-system-nowhere.service-mesh-hub. not found"
        );
    }
}
