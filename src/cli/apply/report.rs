//! What `apply` reports: the machine-readable result (`-o yaml|json`), the human report
//! (per cluster the objects that changed, a summary table, the statuses) and the warnings
//! about generated objects someone else changed.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::anyhow;
use serde::Serialize;
use serde_json::Value;

use super::{DryRun, involved_targets};
use crate::cli::output::{errln, write_stdout};
use crate::cli::{CmdError, OutputFormat};
use smh_cluster::apply::{Action, ApplyOutcome, ApplyReport, Plan, Stored};
use smh_cluster::state::LiveState;
use smh_cluster::{ClusterName, ClusterTarget};
use smh_core::model::diag::ObjectId;
use smh_core::model::{FailoverService, TrafficPolicy};

/// The machine-readable result (`-o yaml|json`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplyOutput {
    pub dry_run: &'static str,
    pub targets: Vec<ClusterTarget>,
    pub smh_objects: Vec<Stored>,
    pub clusters: Vec<ClusterOutput>,
    pub statuses: Vec<StatusOutput>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<DeletedOutput>,
    /// The phases of the writes, when there is more than one (see [`order_of`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<PhaseOutput>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClusterOutput {
    pub cluster: ClusterName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub created: usize,
    pub configured: usize,
    pub unchanged: usize,
    pub pruned: usize,
    pub failed: usize,
    pub objects: Vec<ObjectOutput>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectOutput {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub action: Action,
    pub outcome: ApplyOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The object to apply (client dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    /// For `configure`: how the live object differed, as `describe` reports drift
    /// (`modified`, with the field managers that changed it, or `out of date`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<smh_core::inspect::drift::DriftState>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusOutput {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub state: &'static str,
    pub status: Value,
    /// Whether this run wrote it.
    pub written: bool,
}

/// One phase of the writes.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhaseOutput {
    pub phase: usize,
    pub title: &'static str,
    pub writes: Vec<WriteOutput>,
}

/// One write of a phase.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WriteOutput {
    pub cluster: ClusterName,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// `apply` or `delete`.
    pub write: &'static str,
    /// Subsets a DestinationRule keeps until phase 3 (routes of the old configuration use
    /// them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keeps: Vec<String>,
    /// Subsets it drops in phase 3.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drops: Vec<String>,
}

/// The writes of `plan` phase by phase, when they run in more than one (otherwise empty:
/// the order does not matter).
pub(crate) fn order_of(plan: &Plan) -> Vec<PhaseOutput> {
    use smh_core::apply_order::{Phase, Write, dropped_subsets};
    if !plan.is_phased() {
        return Vec::new();
    }
    Phase::ALL
        .iter()
        .map(|&phase| {
            let mut writes = Vec::new();
            for (cluster, ws) in &plan.phases {
                for w in ws.iter().filter(|w| w.phase == phase) {
                    let s = &plan.steps[cluster][w.step];
                    let dropped = match (&s.desired, &s.live) {
                        (Some(d), Some(l)) if w.write != Write::Delete => {
                            dropped_subsets(d, &serde_json::to_value(l).unwrap_or_default())
                        }
                        _ => Vec::new(),
                    };
                    let (keeps, drops) = if w.interim {
                        (dropped, Vec::new())
                    } else {
                        (Vec::new(), dropped)
                    };
                    writes.push(WriteOutput {
                        cluster: cluster.clone(),
                        kind: s.kind.clone(),
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                        write: match w.write {
                            Write::Apply(_) => "apply",
                            Write::Delete => "delete",
                        },
                        keeps,
                        drops,
                    });
                }
            }
            PhaseOutput {
                phase: phase.number(),
                title: phase.title(),
                writes,
            }
        })
        .filter(|p| !p.writes.is_empty())
        .collect()
}

/// The phases as text: `Order of writes`, then per phase its writes per cluster.
pub(crate) fn order_text(order: &[PhaseOutput]) -> String {
    if order.is_empty() {
        return String::new();
    }
    let mut text = String::from("Order of writes\n");
    for p in order {
        text.push_str(&format!("  {}. {}:\n", p.phase, p.title));
        let mut by_cluster: BTreeMap<&ClusterName, Vec<String>> = BTreeMap::new();
        for w in &p.writes {
            let mut item = format!(
                "{}.{}/{} -n {}",
                w.kind.to_ascii_lowercase(),
                smh_core::istio::GROUP,
                w.name,
                w.namespace
            );
            let subsets = |v: &[String]| {
                format!(
                    "subset{} {}",
                    if v.len() == 1 { "" } else { "s" },
                    v.join(", ")
                )
            };
            if w.write == "delete" {
                item.push_str(" (delete)");
            } else if !w.keeps.is_empty() {
                item.push_str(&format!(" (keeping {} for now)", subsets(&w.keeps)));
            } else if !w.drops.is_empty() {
                item.push_str(&format!(" (without {})", subsets(&w.drops)));
            }
            by_cluster.entry(&w.cluster).or_default().push(item);
        }
        for (c, items) in by_cluster {
            text.push_str(&format!("    {c}: {}\n", items.join(", ")));
        }
    }
    text.push_str(
        "  (each phase starts when every write of the one before it was answered, in every \
         cluster; a cluster where a write fails runs no later phase)\n",
    );
    text
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeletedOutput {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ApplyOutput {
    pub(crate) fn new(
        state: &LiveState,
        plan: &Plan,
        report: &ApplyReport,
        dry_run: DryRun,
        warnings: Vec<String>,
    ) -> ApplyOutput {
        let mut clusters = Vec::new();
        for (cluster, steps) in &plan.steps {
            let results: BTreeMap<_, _> = report.results.iter().map(|r| (r.key(), r)).collect();
            let objects: Vec<ObjectOutput> = steps
                .iter()
                .map(|s| {
                    let r = results.get(&s.key());
                    ObjectOutput {
                        kind: s.kind.clone(),
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                        action: s.action,
                        // A step not run (the run stopped before the clusters) is failed.
                        outcome: r.map(|r| r.outcome).unwrap_or(ApplyOutcome::Failed),
                        error: r
                            .and_then(|r| r.error.clone())
                            .or_else(|| report.aborted.as_ref().map(|_| "not run".to_string())),
                        object: (dry_run == DryRun::Client)
                            .then(|| s.desired.clone())
                            .flatten(),
                        drift: s.drift.clone(),
                    }
                })
                .collect();
            let count = |o: ApplyOutcome| objects.iter().filter(|x| x.outcome == o).count();
            clusters.push(ClusterOutput {
                cluster: cluster.clone(),
                context: state
                    .client(cluster)
                    .map(|c| c.target.context.as_str().to_string()),
                created: count(ApplyOutcome::Created),
                configured: count(ApplyOutcome::Configured),
                unchanged: count(ApplyOutcome::Unchanged),
                pruned: count(ApplyOutcome::Pruned),
                failed: count(ApplyOutcome::Failed),
                objects,
            });
        }
        let writes: BTreeMap<ObjectId, bool> = report
            .status_writes
            .iter()
            .map(|w| {
                (
                    ObjectId {
                        kind: w.kind.clone(),
                        namespace: w.namespace.clone(),
                        name: w.name.clone(),
                    },
                    w.written,
                )
            })
            .collect();
        let statuses = report
            .statuses
            .iter()
            .map(|(id, s)| StatusOutput {
                kind: id.kind.clone(),
                namespace: id.namespace.clone(),
                name: id.name.clone(),
                state: s.state().as_str(),
                status: s.to_value(),
                written: writes.get(id).copied().unwrap_or(false),
            })
            .collect();
        let mut errors: Vec<String> = Vec::new();
        errors.extend(report.aborted.clone());
        errors.extend(report.status_writes.iter().filter_map(|w| {
            w.error.as_ref().map(|e| {
                format!(
                    "writing the status of {} {}/{}: {e}",
                    w.kind, w.namespace, w.name
                )
            })
        }));
        let mut warnings = warnings;
        warnings.extend(report.cache_warning.clone());
        ApplyOutput {
            dry_run: dry_run.as_str(),
            targets: involved_targets(state, plan),
            smh_objects: report.stored.clone(),
            clusters,
            statuses,
            deleted: report
                .deleted
                .iter()
                .map(|(id, e)| DeletedOutput {
                    kind: id.kind.clone(),
                    namespace: id.namespace.clone(),
                    name: id.name.clone(),
                    error: e.clone(),
                })
                .collect(),
            order: order_of(plan),
            warnings,
            errors,
        }
    }
}

pub(crate) fn emit(value: &impl Serialize, format: OutputFormat) -> Result<(), CmdError> {
    let text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| CmdError::failed(anyhow!("rendering JSON: {e}")))?,
        _ => smh_core::yaml_writer::to_yaml(value).map_err(CmdError::failed)?,
    };
    write_stdout(&text)
}

/// `failoverservice.networking.smh.solo.io/reviews-failover`.
fn smh_resource_name(kind: &str, name: &str) -> String {
    let plural_kind = if kind == FailoverService::KIND {
        "failoverservice"
    } else if kind == TrafficPolicy::KIND {
        "trafficpolicy"
    } else {
        kind
    };
    format!("{plural_kind}.{}/{name}", smh_core::consts::SMH_GROUP)
}

fn dry_suffix(dry_run: &str) -> &'static str {
    match dry_run {
        "client" => " (dry run)",
        "server" => " (server dry run)",
        _ => "",
    }
}

/// The human report: per cluster the objects that changed (all with `verbose`), a summary
/// table, the statuses.
pub(crate) fn print_output(
    out: &ApplyOutput,
    machine: Option<OutputFormat>,
    verbose: bool,
) -> Result<(), CmdError> {
    if let Some(f) = machine {
        emit(out, f)?;
        for e in &out.errors {
            errln!("error: {e}");
        }
        return Ok(());
    }
    let mut text = object_lines(out, verbose);
    if !out.clusters.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&summary_table(&out.clusters));
    } else if out
        .smh_objects
        .iter()
        .all(|s| s.outcome == ApplyOutcome::Unchanged)
    {
        text.push_str("nothing to change\n");
    }
    if out.dry_run != "none" && !out.order.is_empty() {
        text.push('\n');
        text.push_str(&order_text(&out.order));
    }
    if !out.statuses.is_empty() {
        text.push('\n');
        text.push_str(&status_text(&out.statuses));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    for w in &out.warnings {
        errln!("warning: {w}");
    }
    Ok(())
}

/// The objects that changed (all with `verbose`): the SMH objects under the management
/// cluster, then the generated objects under their cluster (the management cluster's
/// heading once).
fn object_lines(out: &ApplyOutput, verbose: bool) -> String {
    let dry = dry_suffix(out.dry_run);
    let mut text = String::new();
    let mgmt = out
        .targets
        .iter()
        .find(|t| t.mgmt)
        .map(|t| t.display_name().to_string())
        .unwrap_or_else(|| "management cluster".to_string());
    let smh_lines = smh_object_lines(out, verbose, dry);
    let mut printed_mgmt = false;
    if !smh_lines.is_empty() {
        text.push_str(&format!("{mgmt} (management):\n"));
        for l in &smh_lines {
            text.push_str(l);
            text.push('\n');
        }
        printed_mgmt = true;
    }
    for c in &out.clusters {
        let lines = generated_object_lines(c, verbose, dry);
        if lines.is_empty() {
            continue;
        }
        if !(printed_mgmt && c.cluster.as_str() == mgmt) {
            text.push_str(&format!("{}:\n", c.cluster));
        }
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
    }
    text
}

/// One line per stored (or deleted) SMH object: `  failoverservice.networking.smh.solo.io/NAME
/// -n NS created`.
fn smh_object_lines(out: &ApplyOutput, verbose: bool, dry: &str) -> Vec<String> {
    out.smh_objects
        .iter()
        .filter(|s| verbose || s.outcome != ApplyOutcome::Unchanged)
        .map(|s| {
            let mut line = format!(
                "  {} -n {} {}{dry}",
                smh_resource_name(&s.kind, &s.name),
                s.namespace,
                s.outcome.as_str()
            );
            if let Some(e) = &s.error {
                line.push_str(&format!(": {e}"));
            }
            line
        })
        .chain(out.deleted.iter().map(|d| {
            format!(
                "  {} -n {} {}{dry}",
                smh_resource_name(&d.kind, &d.name),
                d.namespace,
                match &d.error {
                    None => "deleted".to_string(),
                    Some(e) => format!("not deleted: {e}"),
                }
            )
        }))
        .collect()
}

/// One line per generated object of a cluster, with why a configured one was changed.
fn generated_object_lines(c: &ClusterOutput, verbose: bool, dry: &str) -> Vec<String> {
    c.objects
        .iter()
        .filter(|o| verbose || o.outcome != ApplyOutcome::Unchanged)
        .map(|o| {
            let resource = format!(
                "{}.{}/{}",
                o.kind.to_ascii_lowercase(),
                smh_core::istio::GROUP,
                o.name
            );
            match (&o.error, o.outcome) {
                (Some(e), _) => format!("  {resource} -n {} failed: {e}", o.namespace),
                (None, outcome) => {
                    let why = match (&o.drift, outcome) {
                        (Some(d), ApplyOutcome::Configured) => format!(" ({})", drift_note(d)),
                        _ => String::new(),
                    };
                    format!(
                        "  {resource} -n {} {}{dry}{why}",
                        o.namespace,
                        outcome.as_str()
                    )
                }
            }
        })
        .collect()
}

/// CLUSTER CREATED CONFIGURED UNCHANGED PRUNED FAILED, one row per cluster.
fn summary_table(clusters: &[ClusterOutput]) -> String {
    let mut rows = vec![vec![
        "CLUSTER".to_string(),
        "CREATED".into(),
        "CONFIGURED".into(),
        "UNCHANGED".into(),
        "PRUNED".into(),
        "FAILED".into(),
    ]];
    for c in clusters {
        rows.push(vec![
            c.cluster.to_string(),
            c.created.to_string(),
            c.configured.to_string(),
            c.unchanged.to_string(),
            c.pruned.to_string(),
            c.failed.to_string(),
        ]);
    }
    crate::cli::cluster::columns(&rows)
}

/// OBJECT STATE, one row per written status, then every error those statuses carry.
fn status_text(statuses: &[StatusOutput]) -> String {
    let mut rows = vec![vec!["OBJECT".to_string(), "STATE".into()]];
    for s in statuses {
        rows.push(vec![
            format!("{} -n {}", smh_resource_name(&s.kind, &s.name), s.namespace),
            s.state.to_string(),
        ]);
    }
    let mut text = crate::cli::cluster::columns(&rows);
    for s in statuses {
        if let Ok(status) = serde_json::from_value::<StatusErrors>(s.status.clone()) {
            for (target, e) in status.all() {
                let at = target.map(|t| format!(" [{t}]")).unwrap_or_default();
                text.push_str(&format!(
                    "  {} {}/{}{at}: {e}\n",
                    s.kind, s.namespace, s.name
                ));
            }
        }
    }
    text
}

/// Why an object is configured: `was changed by kubectl-edit: spec.http` (someone else's
/// change, put back) or `out of date: spec.http` (the configuration translates differently
/// now).
pub(crate) fn drift_note(d: &smh_core::inspect::drift::DriftState) -> String {
    use smh_core::inspect::drift::DriftState;
    match d {
        DriftState::Modified { fields, by } if by.is_empty() => {
            format!("was changed: {}", fields.join(", "))
        }
        DriftState::Modified { fields, by } => {
            format!("was changed by {}: {}", by.join(", "), fields.join(", "))
        }
        DriftState::OutOfDate { fields, .. } => format!("out of date: {}", fields.join(", ")),
        other => other.label().to_string(),
    }
}

/// Warnings, before anything is applied, about generated objects someone else changed: the
/// apply overwrites their change (SMH's controller owned these objects outright).
pub(crate) fn overwrite_warnings(plan: &Plan) -> Vec<String> {
    plan.all()
        .filter(|s| s.action == Action::Configure)
        .filter_map(|s| match &s.drift {
            Some(d @ smh_core::inspect::drift::DriftState::Modified { .. }) => Some(format!(
                "{} {}/{} in {} {}; applying puts back what the configuration says",
                s.kind,
                s.namespace,
                s.name,
                s.cluster,
                drift_note(d)
            )),
            _ => None,
        })
        .collect()
}

/// The errors of a written status, wherever they are.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusErrors {
    #[serde(default)]
    errors: Vec<String>,
    #[serde(default)]
    meshes: BTreeMap<String, EntryErrors>,
    #[serde(default)]
    traffic_targets: BTreeMap<String, EntryErrors>,
}

#[derive(serde::Deserialize)]
struct EntryErrors {
    #[serde(default)]
    errors: Vec<String>,
}

impl StatusErrors {
    fn all(&self) -> Vec<(Option<&str>, &str)> {
        self.errors
            .iter()
            .map(|e| (None, e.as_str()))
            .chain(
                self.meshes
                    .iter()
                    .chain(&self.traffic_targets)
                    .flat_map(|(k, v)| {
                        v.errors.iter().map(move |e| (Some(k.as_str()), e.as_str()))
                    }),
            )
            .collect()
    }
}
