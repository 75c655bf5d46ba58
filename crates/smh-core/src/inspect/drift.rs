//! Drift: does a generated Istio object in a cluster still say what kubectl-smh generates?
//! Pure: JSON in, a verdict out; no I/O.
//!
//! Each expected object (from `translate` of the SMH objects stored in the mgmt cluster) is
//! matched with the live object of the same cluster, kind, namespace and name among those
//! carrying our labels, and gets one of four states ([`DriftState`]):
//!
//! - **in sync**: every field kubectl-smh sets has the value it generates;
//! - **missing**: no live object with that name;
//! - **modified**: someone else changed it: the fields that differ, as paths like
//!   `spec.trafficPolicy.outlierDetection.consecutive5xxErrors`, and the field managers
//!   other than `kubectl-smh` that own them according to `metadata.managedFields` (when
//!   known: a removed field is owned by nobody);
//! - **out of date**: the object is as kubectl-smh last applied it, but the stored
//!   configuration now translates differently, because the clusters changed (a backing
//!   service lost its sidecar workloads, a mesh went away, ...): see [`DriftState::OutOfDate`];
//! - **unexpected**: a live object with our labels that nothing expects; the next
//!   `kubectl smh apply` prunes it.
//!
//! # What is compared, precisely
//!
//! - **`spec`, in full.** A field kubectl-smh generates that is missing or has another value
//!   is drift. A field in the live `spec` that kubectl-smh does not generate is drift too (it
//!   changes the Istio configuration in effect), except when `managedFields` is present and
//!   no manager owns the field: that is a value the API server filled in (a default), not
//!   someone's change. Istio's CRDs define no defaults, so on a real cluster every extra
//!   field has an owner.
//! - **Lists** are compared item by item (Istio's CRD lists are atomic: a writer replaces
//!   the whole list); a list of another length is reported at the list's path
//!   (`spec.subsets`), items of equal lists position by position (`spec.subsets[1].name`).
//!   Inside list items every field counts, extra ones included, since the list is one value.
//! - **Numbers** by value (`1` equals `1.0`), as the API server may re-encode them.
//! - **`metadata.labels` and `metadata.annotations`: only the keys kubectl-smh sets.** Other
//!   people's labels and annotations (`kubectl annotate`, `kubectl.kubernetes.io/...`) are
//!   not drift.
//! - **Not compared:** `apiVersion` (a cluster may serve the object under another version of
//!   the same schema), every other metadata field, `status`.
//!
//! # Changed by someone, or out of date?
//!
//! The evidence is server-side apply's field ownership (`metadata.managedFields`): a writer
//! that changes a value takes the field over, so a field kubectl-smh alone owns still has
//! the value kubectl-smh applied. A differing object is **out of date** (not changed) when
//! the live object has `managedFields`, no manager other than kubectl-smh owns a differing
//! field, and every differing field is present in the live object and owned by
//! kubectl-smh. Anything else is **modified**: a differing field another manager owns (it is
//! named), a differing field the live object lacks (removing a field leaves no owner, so a
//! removal cannot be told from a field the configuration now adds; the safe reading is that
//! someone removed it), or no `managedFields` at all (nothing to go by).
//!
//! # Who changed it
//!
//! A manager owns a differing path when one of its owned fields (from `fieldsV1`, for the
//! main resource; `status` entries are ignored) is that path, an ancestor of it, or a
//! descendant of it. Paths are matched field by field up to the first list index, because
//! Istio's lists are atomic and owned as a whole (`f:subsets`). `kubectl-smh` itself is
//! never named.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::consts::FIELD_MANAGER;
use crate::model::diag::ObjectId;
use crate::translate::GeneratedObject;

/// The verdict for one generated object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum DriftState {
    /// Present, and every field kubectl-smh sets has its value.
    InSync,
    /// Expected, but not in the cluster.
    Missing,
    /// Present with other values.
    Modified {
        /// Paths of the fields that differ, sorted.
        fields: Vec<String>,
        /// Field managers other than kubectl-smh that own those fields, sorted; empty when
        /// unknown.
        by: Vec<String>,
    },
    /// Exactly as kubectl-smh last applied it (nobody else owns a differing field), but the
    /// stored configuration now translates to something else against the clusters as they
    /// are now: the clusters changed, not the object.
    OutOfDate {
        /// Paths of the fields that differ from the current translation, sorted.
        fields: Vec<String>,
        /// Why, when the configuration no longer validates against the clusters: its
        /// errors as `Kind namespace/name: field: message`, those of the object's owners
        /// first (see [`explain_out_of_date`]). Empty when it is valid (an apply updates
        /// the object).
        invalid: Vec<String>,
    },
    /// In the cluster with our labels, but the stored configuration (as it validates now)
    /// does not generate it: the next apply deletes it.
    Unexpected,
    /// The cluster's live objects could not be read.
    Unknown {
        /// Why, in words.
        reason: String,
    },
}

impl DriftState {
    /// True for `InSync` only.
    pub fn is_in_sync(&self) -> bool {
        matches!(self, DriftState::InSync)
    }

    /// `in sync`, `missing`, `modified`, `out of date`, `unexpected`.
    pub fn label(&self) -> &'static str {
        match self {
            DriftState::InSync => "in sync",
            DriftState::Missing => "missing",
            DriftState::Modified { .. } => "modified",
            DriftState::OutOfDate { .. } => "out of date",
            DriftState::Unexpected => "unexpected",
            DriftState::Unknown { .. } => "unknown",
        }
    }
}

impl fmt::Display for DriftState {
    /// `in sync`, `missing`, `unexpected (not generated by the stored configuration)`, or
    /// `modified by kubectl-edit: spec.a, spec.b`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriftState::Modified { fields, by } => {
                f.write_str("modified")?;
                if !by.is_empty() {
                    write!(f, " by {}", by.join(", "))?;
                }
                write!(f, ": {}", fields.join(", "))
            }
            DriftState::OutOfDate { fields, invalid } => {
                write!(f, "out of date: {}", fields.join(", "))?;
                if !invalid.is_empty() {
                    f.write_str(" (the configuration is no longer valid)")?;
                }
                Ok(())
            }
            DriftState::Unexpected => {
                f.write_str("unexpected (the stored configuration does not generate it; the next apply deletes it)")
            }
            DriftState::Unknown { reason } => write!(f, "unknown ({reason})"),
            other => f.write_str(other.label()),
        }
    }
}

/// Identifies a generated object in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectKey {
    /// SMH cluster name.
    pub cluster: String,
    /// `DestinationRule`, `VirtualService`, `ServiceEntry`, `EnvoyFilter`.
    pub kind: String,
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl ObjectKey {
    /// The key of a live object (JSON as the API server returns it) in `cluster`.
    pub(crate) fn of_live(cluster: &str, live: &Value) -> ObjectKey {
        let s = |p: &str| {
            live.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        ObjectKey {
            cluster: cluster.to_string(),
            kind: s("/kind"),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
        }
    }

    pub(crate) fn of_generated(g: &GeneratedObject) -> ObjectKey {
        ObjectKey {
            cluster: g.cluster.clone(),
            kind: g.kind().to_string(),
            namespace: g.namespace().to_string(),
            name: g.name().to_string(),
        }
    }
}

impl fmt::Display for ObjectKey {
    /// `DestinationRule bookinfo/reviews in remote-cluster`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{} in {}",
            self.kind, self.namespace, self.name, self.cluster
        )
    }
}

/// One generated (or unexpected) object and its state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// The object.
    #[serde(flatten)]
    pub key: ObjectKey,
    /// The SMH objects it is generated from (empty for unexpected objects), as
    /// `{kind, namespace, name}`.
    #[serde(serialize_with = "object_ids")]
    pub owners: Vec<ObjectId>,
    /// How it stands.
    #[serde(flatten)]
    pub state: DriftState,
}

impl Drift {
    /// The problem in words, `None` when in sync:
    /// `DestinationRule bookinfo/reviews in remote-cluster was changed by kubectl-edit:
    /// spec.trafficPolicy.outlierDetection.consecutive5xxErrors`.
    pub fn problem(&self) -> Option<String> {
        match &self.state {
            DriftState::InSync => None,
            DriftState::Missing => Some(format!(
                "{} is missing: run `kubectl smh apply` to recreate it",
                self.key
            )),
            DriftState::Modified { fields, by } => {
                let who = if by.is_empty() {
                    "changed".to_string()
                } else {
                    format!("changed by {}", by.join(", "))
                };
                Some(format!("{} was {who}: {}", self.key, fields.join(", ")))
            }
            DriftState::OutOfDate { fields, invalid } => Some(format!(
                "{} is out of date: it is as kubectl-smh applied it, but the configuration translates differently against the clusters as they are now ({}); {}",
                self.key,
                fields.join(", "),
                out_of_date_advice(invalid)
            )),
            DriftState::Unexpected => Some(format!(
                "{} carries kubectl-smh's labels but the stored configuration, as it validates now, does not generate it: the next `kubectl smh apply` deletes it",
                self.key
            )),
            DriftState::Unknown { reason } => {
                Some(format!("{} could not be checked: {reason}", self.key))
            }
        }
    }
}

/// Compare one expected object (as generated) with its live counterpart.
pub fn compare(expected: &Value, live: &Value) -> DriftState {
    let owned = ManagedFields::read(live);
    let mut diffs: BTreeSet<Path> = BTreeSet::new();

    // spec, in full.
    let e_spec = expected.get("spec").unwrap_or(&Value::Null);
    let l_spec = live.get("spec").unwrap_or(&Value::Null);
    let mut extra: Vec<Path> = Vec::new();
    diff_value(
        e_spec,
        l_spec,
        &mut vec![Seg::Key("spec".into())],
        &mut diffs,
        &mut extra,
    );
    for p in extra {
        if owned.as_ref().is_none_or(|m| m.anyone_owns(&p)) {
            diffs.insert(p);
        }
    }

    // Our labels and annotations only.
    for map in ["labels", "annotations"] {
        let ours = expected
            .pointer(&format!("/metadata/{map}"))
            .and_then(Value::as_object);
        let theirs = live
            .pointer(&format!("/metadata/{map}"))
            .and_then(Value::as_object);
        for (k, v) in ours.into_iter().flatten() {
            if theirs.and_then(|t| t.get(k)) != Some(v) {
                diffs.insert(vec![
                    Seg::Key("metadata".into()),
                    Seg::Key(map.into()),
                    Seg::Key(k.clone()),
                ]);
            }
        }
    }

    if diffs.is_empty() {
        return DriftState::InSync;
    }
    let by: BTreeSet<String> = match &owned {
        Some(m) => diffs.iter().flat_map(|p| m.owners_of(p)).collect(),
        None => BTreeSet::new(),
    };
    let fields = diffs.iter().map(|p| format_path(p)).collect();
    let as_applied = by.is_empty()
        && owned.as_ref().is_some_and(|m| {
            diffs
                .iter()
                .all(|p| present(live, p) && m.managers_owning(p).any(|x| x == FIELD_MANAGER))
        });
    if as_applied {
        return DriftState::OutOfDate {
            fields,
            invalid: Vec::new(),
        };
    }
    DriftState::Modified {
        fields,
        by: by.into_iter().collect(),
    }
}

/// What to do about an out-of-date object: apply when the configuration is valid, fix it
/// (or the clusters) first when not.
pub(crate) fn out_of_date_advice(invalid: &[String]) -> String {
    match invalid {
        [] => "run `kubectl smh apply` to update it".to_string(),
        [first, rest @ ..] => {
            let more = match rest.len() {
                0 => String::new(),
                1 => " (and 1 more error)".to_string(),
                n => format!(" (and {n} more errors)"),
            };
            format!(
                "the configuration is no longer valid: {first}{more}; fix the configuration or the clusters (`kubectl smh check` lists every error), as `kubectl smh apply` refuses invalid configuration"
            )
        }
    }
}

/// Fill in [`DriftState::OutOfDate`]'s `invalid` from the configuration's errors now
/// (`errors`: error diagnostics of stored objects): every error, as `Kind namespace/name:
/// field: message`, the drifted object's owners' first, each group sorted, duplicates
/// dropped.
pub(crate) fn explain_out_of_date(drifts: &mut [Drift], errors: &[crate::model::Diagnostic]) {
    for d in drifts.iter_mut() {
        let owners = d.owners.clone();
        if let DriftState::OutOfDate { invalid, .. } = &mut d.state {
            *invalid = error_lines(errors, &owners);
        }
    }
}

/// `errors` as `Kind namespace/name: field: message` lines (without their source): those
/// of `owners` first, then the others; each group sorted, duplicates dropped.
pub fn error_lines(errors: &[crate::model::Diagnostic], owners: &[ObjectId]) -> Vec<String> {
    let mut first = BTreeSet::new();
    let mut rest = BTreeSet::new();
    for e in errors {
        let mut e = e.clone();
        let own = e.object.as_ref().is_some_and(|o| owners.contains(o));
        if e.object.is_some() {
            e.source = None;
            e.position = None;
        }
        if own {
            first.insert(e.to_string());
        } else {
            rest.insert(e.to_string());
        }
    }
    rest.retain(|l| !first.contains(l));
    first.into_iter().chain(rest).collect()
}

/// Whether the live object has a (non-null) value at `p`.
fn present(live: &Value, p: &[Seg]) -> bool {
    let mut v = live;
    for seg in p {
        let next = match seg {
            Seg::Key(k) => v.get(k.as_str()),
            Seg::Index(i) => v.get(*i),
        };
        match next {
            Some(n) => v = n,
            None => return false,
        }
    }
    !v.is_null()
}

/// Match the expected objects with the live ones (both for any clusters) and judge each.
/// `live` must hold every live object with our labels in the clusters concerned; clusters
/// whose live objects could not be read must be left out of both lists by the caller.
/// Sorted by cluster, kind, namespace, name.
pub fn reconcile(expected: &[GeneratedObject], live: &[(String, Value)]) -> Vec<Drift> {
    reconcile_refs(expected.iter(), live.iter().map(|(c, v)| (c.as_str(), v)))
}

fn reconcile_refs<'a>(
    expected: impl Iterator<Item = &'a GeneratedObject>,
    live: impl Iterator<Item = (&'a str, &'a Value)>,
) -> Vec<Drift> {
    let mut live_by_key: BTreeMap<ObjectKey, &Value> = BTreeMap::new();
    for (cluster, v) in live {
        live_by_key.insert(ObjectKey::of_live(cluster, v), v);
    }
    let mut out = Vec::new();
    let mut seen: BTreeSet<ObjectKey> = BTreeSet::new();
    for g in expected {
        let key = ObjectKey::of_generated(g);
        let state = match live_by_key.get(&key) {
            None => DriftState::Missing,
            Some(l) => compare(&g.to_value(), l),
        };
        seen.insert(key.clone());
        out.push(Drift {
            key,
            owners: g.owners.clone(),
            state,
        });
    }
    for key in live_by_key.into_keys() {
        if !seen.contains(&key) {
            out.push(Drift {
                key,
                owners: Vec::new(),
                state: DriftState::Unexpected,
            });
        }
    }
    out.sort();
    out
}

/// serde: object ids as `{kind, namespace, name}` objects.
pub(crate) fn object_ids<S: serde::Serializer>(ids: &[ObjectId], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(ids.len()))?;
    for id in ids {
        seq.serialize_element(&serde_json::json!({
            "kind": id.kind, "namespace": id.namespace, "name": id.name,
        }))?;
    }
    seq.end()
}

/// [`reconcile`] over clusters whose live objects were listed (`Ok`) or not (`Err` with
/// why): expected objects in unlisted clusters, or in clusters absent from `live`, are
/// [`DriftState::Unknown`]. Sorted.
pub(crate) fn reconcile_clusters(
    expected: &[GeneratedObject],
    live: &BTreeMap<String, Result<Vec<Value>, String>>,
) -> Vec<Drift> {
    let mut known_expected = Vec::new();
    let mut out = Vec::new();
    for g in expected {
        match live.get(&g.cluster) {
            Some(Ok(_)) => known_expected.push(g),
            Some(Err(reason)) => out.push(Drift {
                key: ObjectKey::of_generated(g),
                owners: g.owners.clone(),
                state: DriftState::Unknown {
                    reason: reason.clone(),
                },
            }),
            None => out.push(Drift {
                key: ObjectKey::of_generated(g),
                owners: g.owners.clone(),
                state: DriftState::Unknown {
                    reason: format!("cluster {} was not read", g.cluster),
                },
            }),
        }
    }
    let listed = live
        .iter()
        .filter_map(|(c, r)| r.as_ref().ok().map(|v| (c, v)))
        .flat_map(|(c, v)| v.iter().map(move |o| (c.as_str(), o)));
    out.extend(reconcile_refs(known_expected.into_iter(), listed));
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------
// Paths and the recursive comparison.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Seg {
    Key(String),
    Index(usize),
}

type Path = Vec<Seg>;

/// `spec.subsets[1].labels`, `metadata.labels["app.kubernetes.io/managed-by"]`.
fn format_path(p: &[Seg]) -> String {
    let mut s = String::new();
    for seg in p {
        match seg {
            Seg::Key(k) => {
                let plain = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if plain {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                } else {
                    s.push_str(&format!("[{}]", Value::String(k.clone())));
                }
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        _ => a == b,
    }
}

/// Record in `diffs` every path where `live` differs from `expected`. Keys of maps (outside
/// lists) that only `live` has go to `extra`, for the caller to judge by ownership.
fn diff_value(
    expected: &Value,
    live: &Value,
    path: &mut Path,
    diffs: &mut BTreeSet<Path>,
    extra: &mut Vec<Path>,
) {
    let in_list = path.iter().any(|s| matches!(s, Seg::Index(_)));
    match (expected, live) {
        (Value::Object(e), Value::Object(l)) => {
            for (k, ev) in e {
                path.push(Seg::Key(k.clone()));
                match l.get(k) {
                    Some(lv) => diff_value(ev, lv, path, diffs, extra),
                    None if ev.is_null() => {}
                    None => {
                        diffs.insert(path.clone());
                    }
                }
                path.pop();
            }
            for (k, lv) in l {
                if e.contains_key(k) || lv.is_null() {
                    continue;
                }
                path.push(Seg::Key(k.clone()));
                if in_list {
                    diffs.insert(path.clone());
                } else {
                    extra.push(path.clone());
                }
                path.pop();
            }
        }
        (Value::Array(e), Value::Array(l)) => {
            if e.len() != l.len() {
                diffs.insert(path.clone());
                return;
            }
            for (i, (ev, lv)) in e.iter().zip(l).enumerate() {
                path.push(Seg::Index(i));
                diff_value(ev, lv, path, diffs, extra);
                path.pop();
            }
        }
        (Value::Null, Value::Null) => {}
        (Value::Null, _) => {
            // kubectl-smh does not set it; the live object does.
            if in_list {
                diffs.insert(path.clone());
            } else {
                extra.push(path.clone());
            }
        }
        (e, l) => {
            if !same_scalar(e, l) {
                diffs.insert(path.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// managedFields.
// ---------------------------------------------------------------------------------------

/// Owned field paths per manager (main resource only), in FieldsV1 element names.
struct ManagedFields {
    owned: Vec<(String, Vec<Vec<String>>)>,
}

impl ManagedFields {
    /// `None` when the object has no `managedFields` (ownership unknown).
    fn read(live: &Value) -> Option<ManagedFields> {
        let entries = live.pointer("/metadata/managedFields")?.as_array()?;
        let mut owned = Vec::new();
        for e in entries {
            let Some(manager) = e.get("manager").and_then(Value::as_str) else {
                continue;
            };
            if e.get("subresource")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
            {
                continue;
            }
            let mut paths = Vec::new();
            if let Some(tree) = e.get("fieldsV1").and_then(Value::as_object) {
                walk_fields(tree, &mut Vec::new(), &mut paths);
            }
            owned.push((manager.to_string(), paths));
        }
        Some(ManagedFields { owned })
    }

    fn managers_owning(&self, p: &Path) -> impl Iterator<Item = &str> {
        let f = fields_prefix(p);
        self.owned.iter().filter_map(move |(m, paths)| {
            paths
                .iter()
                .any(|o| o.starts_with(&f) || f.starts_with(o))
                .then_some(m.as_str())
        })
    }

    /// Managers other than kubectl-smh that own `p`, an ancestor or a descendant.
    fn owners_of(&self, p: &Path) -> Vec<String> {
        self.managers_owning(p)
            .filter(|m| *m != FIELD_MANAGER)
            .map(str::to_string)
            .collect()
    }

    /// Whether any manager (kubectl-smh included) owns `p`.
    fn anyone_owns(&self, p: &Path) -> bool {
        self.managers_owning(p).next().is_some()
    }
}

/// The owned paths of a FieldsV1 tree: leaves (`{}`), and nodes marked with `.` (the node
/// itself is owned).
fn walk_fields(
    node: &serde_json::Map<String, Value>,
    prefix: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    for (k, child) in node {
        if k == "." {
            out.push(prefix.clone());
            continue;
        }
        prefix.push(k.clone());
        match child.as_object() {
            Some(m) if !m.is_empty() => walk_fields(m, prefix, out),
            _ => out.push(prefix.clone()),
        }
        prefix.pop();
    }
}

/// FieldsV1 names of a path's map keys up to its first list index.
fn fields_prefix(p: &[Seg]) -> Vec<String> {
    p.iter()
        .map_while(|s| match s {
            Seg::Key(k) => Some(format!("f:{k}")),
            Seg::Index(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
