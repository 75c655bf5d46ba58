//! The per-cluster plan `failover create` shows before it asks: one row per generated
//! object it creates or changes, and the explanations that concern them.

use std::collections::{BTreeMap, BTreeSet};

use smh_cluster::apply;
use smh_cluster::state::LiveState;
use smh_core::model::diag::ObjectId;
use smh_core::translate::Explanation;

/// One line of the per-cluster plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanRow {
    pub(crate) cluster: String,
    /// `create`, `update` or `unchanged`.
    pub(crate) action: &'static str,
    pub(crate) kind: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
    /// Not generated from the new objects: applying converges it too.
    pub(crate) other: bool,
    /// For `update`: why (`was changed by kubectl-edit: spec.http`, `out of date: ...`).
    pub(crate) why: Option<String>,
}

/// The engine's steps as rows: every step the new objects take part in, and every other
/// step that changes something (the engine converges every stored object's generated
/// objects; pruning is left to `kubectl smh apply`).
pub(super) fn plan_rows(plan: &apply::Plan, ids: &BTreeSet<ObjectId>) -> Vec<PlanRow> {
    plan.all()
        .filter_map(|s| {
            let ours = s.owners.iter().any(|o| ids.contains(o));
            let action = match s.action {
                apply::Action::Create => "create",
                apply::Action::Configure => "update",
                apply::Action::Unchanged => "unchanged",
                apply::Action::Prune => "delete",
            };
            (ours || s.action != apply::Action::Unchanged).then(|| PlanRow {
                cluster: s.cluster.as_str().to_string(),
                action,
                kind: s.kind.clone(),
                namespace: s.namespace.clone(),
                name: s.name.clone(),
                other: !ours,
                why: s.drift.as_ref().map(crate::cli::apply::drift_note),
            })
        })
        .collect()
}

/// The explanations about the new objects: those about one of them by name
/// (`FailoverService ns/name: ...`, `TrafficPolicy ns/name ...`), and those about a
/// generated object they take part in (`... DestinationRule ns/name ...`). Pure.
pub(super) fn relevant_explanations(
    all: &[Explanation],
    rows: &[PlanRow],
    ids: &BTreeSet<ObjectId>,
) -> Vec<Explanation> {
    let ours: Vec<String> = rows
        .iter()
        .filter(|r| !r.other)
        .map(|r| format!("{} {}/{}", r.kind, r.namespace, r.name))
        .collect();
    let names = |text: &str, label: &str| {
        text.match_indices(label).any(|(i, _)| {
            !text[i + label.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    all.iter()
        .filter(|e| {
            let about_smh = ["FailoverService ", "TrafficPolicy "]
                .iter()
                .any(|k| e.text.starts_with(k));
            if about_smh {
                ids.iter().any(|id| {
                    let label = format!("{} {}/{}", id.kind, id.namespace, id.name);
                    e.text
                        .strip_prefix(&label)
                        .is_some_and(|rest| rest.starts_with([':', ' ']))
                })
            } else {
                ours.iter().any(|o| names(&e.text, o))
            }
        })
        .cloned()
        .collect()
}

/// `mgmt-cluster (management; context mgmt)` per cluster name.
pub(super) fn cluster_titles(state: &LiveState) -> BTreeMap<String, String> {
    state
        .targets
        .iter()
        .filter_map(|t| {
            let c = t.cluster.as_ref()?;
            let role = if t.mgmt { "management; " } else { "" };
            Some((
                c.as_str().to_string(),
                format!("{c} ({role}context {})", t.context),
            ))
        })
        .collect()
}

/// The Istio objects, per cluster, with what applying each does, and the
/// topology-dependent choices behind them. Pure.
pub(super) fn render_plan(
    rows: &[PlanRow],
    explanations: &[Explanation],
    cluster_titles: &BTreeMap<String, String>,
) -> String {
    let mut by_cluster: BTreeMap<&str, Vec<&PlanRow>> = BTreeMap::new();
    for r in rows {
        by_cluster.entry(r.cluster.as_str()).or_default().push(r);
    }
    let mut out = String::from("Istio objects, per cluster:\n");
    if by_cluster.is_empty() {
        out.push_str("  (none)\n");
    }
    let action_w = rows.iter().map(|r| r.action.len()).max().unwrap_or(0);
    for (cluster, rows) in &by_cluster {
        let title = cluster_titles
            .get(*cluster)
            .cloned()
            .unwrap_or_else(|| cluster.to_string());
        out.push_str(&format!("  {title}\n"));
        let kind_w = rows.iter().map(|r| r.kind.len()).max().unwrap_or(0);
        for r in rows {
            let note = match (&r.why, r.other) {
                (Some(why), true) => format!("  (for other objects: {why})"),
                (Some(why), false) => format!("  ({why})"),
                (None, true) => "  (for other objects)".to_string(),
                (None, false) => String::new(),
            };
            let line = format!(
                "    {:action_w$}  {:kind_w$}  {}/{}{note}",
                r.action, r.kind, r.namespace, r.name,
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        for e in explanations.iter().filter(|e| e.cluster == *cluster) {
            out.push_str(&format!("    why: {}\n", e.text));
        }
    }
    out
}
