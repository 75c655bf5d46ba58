//! `kubectl smh apply`: validate against the live clusters, store the SMH objects in the
//! management cluster, apply the Istio objects to every cluster, prune, write status.
//!
//! Writes ignore their failure ([`crate::cli::output`]): a closed pipe must not stop a command
//! that is changing clusters.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::anyhow;

use super::input::{Filenames, print_diagnostics, stderr_color};
use super::output::{err, errln};
use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use smh_cluster::apply::{
    self, Action, ApplyOutcome, ApplyReport, Mode, ObjectDiff, Plan, Stored, smh_unchanged,
};
use smh_cluster::state::{LiveState, StateOptions, load_state};
use smh_cluster::{ClusterName, ClusterTarget, Contexts, targets_banner};
use smh_core::inspect::state::manifest_id;
use smh_core::model::Manifest;
use smh_core::model::diag::{Diagnostic, ObjectId, Severity};
use smh_core::model::parse::load_paths_with;

mod report;

use report::overwrite_warnings;
pub(crate) use report::{ApplyOutput, drift_note, emit, order_of, order_text, print_output};

pub(crate) const LONG_ABOUT: &str =
    "Validate, store, translate and apply manifests to every cluster, \
then write status.

Reads every file, directory (its .yaml, .yml and .json files) and stdin (-), and:

1. reads the SMH objects already in the management cluster and discovers every cluster they and \
the input name (meshes, services with sidecar workloads, Istio version, multi-cluster mode), all \
clusters at once;
2. validates the input together with the stored objects against what was discovered (SMH's rules \
and messages); any error in the input: nothing is changed, exit 2;
3. prints the contexts and API servers it will change;
4. stores the input in the management cluster (server-side apply, field manager kubectl-smh; your \
labels and annotations are kept);
5. translates every SMH object into Istio objects and server-side applies them to their clusters, \
all clusters at once; objects already as wanted are not touched;
6. prunes generated objects no longer wanted: only objects labelled \
app.kubernetes.io/managed-by=kubectl-smh and owner.networking.smh.solo.io=service-mesh-hub (never \
by name; an object of the same name without the labels is left alone, and is not taken over);
7. writes each object's status as SMH's controller did: state, observedGeneration, the per-mesh \
(FailoverService) or per-traffic-target (TrafficPolicy) results, errors.

Steps 5 and 6 run in three phases, so that no request is lost while routes change (a \
FailoverService switching strategy, native <-> aggregate): first the new routing objects \
(DestinationRules, keeping the subsets the old routes still use; ServiceEntries; EnvoyFilters), \
then the VirtualServices, then the prune and the DestinationRules without the old subsets. Each \
phase starts when every write of the one before it was answered, in every cluster; in a cluster \
where a write fails no later phase runs. --dry-run and --diff show the phases.

When a cluster cannot be changed, the others still are; the objects that needed it get state \
FAILED naming the cluster and the reason, and the exit status is 3. Running the same command \
again finishes the job.

Exit status: 0 applied; 2 invalid input (nothing changed); 3 a cluster failed; with --diff, 0 no \
differences, 1 differences.";

/// `kubectl smh apply` flags (the command's long help is [`LONG_ABOUT`]).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # The guide's three steps at once
  kubectl smh apply -f examples/guide/

  # What would change, per cluster, against the live objects
  kubectl smh apply -f examples/guide/ --diff

  # Send everything with dryRun=All; change nothing
  kubectl smh apply -f failover.yaml --dry-run=server

  # Keep generated objects that are no longer wanted
  kubectl smh apply -f policies/ --prune=false")]
pub struct Args {
    #[command(flatten)]
    pub input: Filenames,

    /// `client`: print what would be applied, per cluster, and the order of the writes
    /// (when it matters), and change nothing; `server`: send every request with dryRun=All,
    /// in the same order (the API servers validate, nothing is stored); `none`: apply.
    #[arg(
        long,
        value_enum,
        value_name = "MODE",
        default_value = "none",
        num_args = 0..=1,
        default_missing_value = "client"
    )]
    pub dry_run: DryRun,

    /// Show, per cluster, a unified diff of the live objects against what would be applied
    /// (the server's dry-run result when it answers), for every object that would be
    /// created, changed or pruned, then the order of the writes as comments (when it
    /// matters), and change nothing. Exit status 0: no differences, 1: differences.
    #[arg(long, conflicts_with = "dry_run")]
    pub diff: bool,

    /// Delete generated objects that are no longer wanted (only objects carrying
    /// kubectl-smh's labels).
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub prune: bool,

    /// Pin how the input's FailoverServices are translated: `native` (Istio's
    /// DestinationRule failoverPriority, no EnvoyFilter; an error where it is not exact),
    /// `aggregate` (the EnvoyFilter aggregate cluster) or `auto` (native where exact). A
    /// strategy other than auto is stored on each FailoverService as the annotation
    /// failover.kubectl-smh.io/strategy, so later applies and checks keep it.
    #[arg(long, value_enum, value_name = "STRATEGY", default_value = "auto")]
    pub strategy: super::strategy::StrategyArg,
}

/// `--dry-run` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DryRun {
    None,
    Client,
    Server,
}

impl DryRun {
    fn as_str(self) -> &'static str {
        match self {
            DryRun::None => "none",
            DryRun::Client => "client",
            DryRun::Server => "server",
        }
    }
}

pub fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let machine = match g.output {
        None | Some(OutputFormat::Table) => None,
        Some(f) => Some(f),
    };
    let color = stderr_color(g);

    let mut loaded = load_paths_with(&args.input.filenames, &g.namespace);
    if loaded.has_errors() {
        print_diagnostics(&loaded.diagnostics, color);
        return Err(invalid_input(&loaded.diagnostics));
    }
    if loaded.manifests.is_empty() {
        print_diagnostics(&loaded.diagnostics, color);
        return Err(CmdError::invalid(anyhow!(
            "no FailoverService or TrafficPolicy in the input; nothing applied"
        )));
    }
    let mut input = std::mem::take(&mut loaded.manifests);
    super::strategy::pin(&mut input, args.strategy)?;
    let input_ids: BTreeSet<ObjectId> = input.iter().map(manifest_id).collect();

    let contexts = Contexts::load(&g.context_options())?;
    let rt = super::cluster::runtime()?;
    rt.block_on(async {
        let opts = StateOptions {
            discovery: g.discovery_options(),
            overlay: input.clone(),
            rejected: loaded.rejected.clone(),
            ..Default::default()
        };
        let state = load_state(&contexts, &opts).await?;

        // Clusters the objects name must be known.
        check_clusters(&state)?;

        // The input must be valid, alone and with what is stored.
        let mut input_diags: Vec<Diagnostic> = state
            .diagnostics
            .iter()
            .chain(&state.expected.diagnostics)
            .filter(|d| d.object.as_ref().is_some_and(|o| input_ids.contains(o)))
            .cloned()
            .collect();
        loaded.fill_positions(&mut input_diags);
        let mut shown = loaded.diagnostics.clone();
        shown.extend(input_diags);
        print_diagnostics(&shown, color);
        if shown.iter().any(|d| d.severity == Severity::Error) {
            return Err(invalid_input(&shown));
        }
        let warnings = stored_object_warnings(&state, &input_ids);
        for w in &warnings {
            errln!("warning: {w}");
        }

        let plan = apply::plan(&state, args.prune);
        let heading = match (args.diff, args.dry_run) {
            (true, _) => "Comparing with these contexts and API servers:",
            (_, DryRun::None) => "These contexts and API servers will be changed:",
            (_, DryRun::Client) => "Dry run (client): these contexts and API servers would be changed:",
            (_, DryRun::Server) => {
                "Dry run (server, dryRun=All): these contexts and API servers are asked:"
            }
        };
        err!("{}", targets_banner(&involved_targets(&state, &plan), heading));
        for w in overwrite_warnings(&plan) {
            errln!("warning: {w}");
        }

        if args.diff {
            return run_diff(&state, &input, &plan, machine).await;
        }
        let report = match args.dry_run {
            DryRun::Client => predict(&state, &input, &plan),
            DryRun::Server => apply::commit(&state, &input, &plan, &[], Mode::ServerDryRun).await,
            DryRun::None => apply::commit(&state, &input, &plan, &[], Mode::Apply).await,
        };
        let mut out = ApplyOutput::new(&state, &plan, &report, args.dry_run, warnings.clone());
        if machine.is_none() {
            // Said before anything changed; the end repeats only what came up since.
            out.warnings.retain(|w| !warnings.contains(w));
        }
        print_output(&out, machine, g.verbose > 0)?;
        if report.failed() {
            Err(CmdError::cluster(anyhow!(
                "{}",
                report
                    .aborted
                    .clone()
                    .unwrap_or_else(|| "not every object could be applied (see above); run the command again when the clusters answer".to_string())
            )))
        } else {
            Ok(Exit::Ok)
        }
    })
}

fn invalid_input(diagnostics: &[Diagnostic]) -> CmdError {
    super::input::invalid_input(diagnostics, "nothing applied, no cluster changed")
}

/// Fails when a cluster the SMH objects name has no context (exit 2) or could not be
/// discovered and was never discovered before (exit 3): validating without it would call
/// its services missing, and pruning would remove what depends on them.
pub(crate) fn check_clusters(state: &LiveState) -> Result<(), CmdError> {
    let named: BTreeSet<&ClusterName> = state.referenced.values().flatten().collect();
    let unresolved: Vec<String> = state
        .unresolved
        .iter()
        .filter(|(c, _)| named.contains(c))
        .map(|(c, e)| {
            let by: Vec<String> = state
                .objects_naming(c)
                .iter()
                .map(|id| id.to_string())
                .collect();
            format!("{e} (named by {})", by.join(", "))
        })
        .collect();
    if !unresolved.is_empty() {
        let err = anyhow!("nothing changed: {}", unresolved.join("; "));
        // A credential plugin that fails is the cluster's side (exit 3), as elsewhere.
        let credentials = state.unresolved.iter().any(|(c, e)| {
            named.contains(c) && matches!(e, smh_cluster::ConfigError::Credentials { .. })
        });
        return Err(if credentials {
            CmdError::cluster(err)
        } else {
            CmdError::invalid(err)
        });
    }
    let unknown = state.unknown_clusters();
    if !unknown.is_empty() {
        let parts: Vec<String> = unknown
            .iter()
            .map(|c| {
                let why = state
                    .errors
                    .get(c)
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| format!("cluster {c} was not discovered"));
                let by: Vec<String> = state
                    .objects_naming(c)
                    .iter()
                    .map(|id| id.to_string())
                    .collect();
                format!(
                    "{why}; no earlier discovery of {c} is cached (configmap \
                     service-mesh-hub/{} keeps one from every successful apply), so {} \
                     cannot be validated",
                    smh_core::inspect::state::TOPOLOGY_CACHE,
                    by.join(", ")
                )
            })
            .collect();
        return Err(CmdError::cluster(anyhow!(
            "nothing changed: {}",
            parts.join("; ")
        )));
    }
    Ok(())
}

/// Warnings about stored objects (not in the input) that are invalid now, and about
/// clusters standing in from the cache.
pub(crate) fn stored_object_warnings(state: &LiveState, input: &BTreeSet<ObjectId>) -> Vec<String> {
    let mut out = stale_warnings(state);
    for m in &state.merged {
        let id = manifest_id(m);
        if input.contains(&id) {
            continue;
        }
        let mut errors: Vec<&str> = state
            .errors_of(&id)
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        errors.dedup();
        if let Some(first) = errors.first() {
            out.push(format!(
                "stored {id} is INVALID in the current topology ({}{}); its status says so and \
                 nothing is generated for it",
                first,
                if errors.len() > 1 {
                    format!(", and {} more", errors.len() - 1)
                } else {
                    String::new()
                }
            ));
        }
    }
    for (id, e) in &state.unreadable {
        out.push(format!("stored {id} cannot be read and is ignored: {e}"));
    }
    out
}

/// Clusters that did not answer and stand in from the topology cache.
pub(crate) fn stale_warnings(state: &LiveState) -> Vec<String> {
    state
        .stale
        .iter()
        .map(|(c, at)| {
            let why = state
                .errors
                .get(c)
                .map(|e| e.to_string())
                .unwrap_or_else(|| format!("cluster {c} was not discovered"));
            format!("{why}; using its topology as discovered at {at}")
        })
        .collect()
}

/// The management cluster, then every cluster the plan has steps in.
pub(crate) fn involved_targets(state: &LiveState, plan: &Plan) -> Vec<ClusterTarget> {
    state
        .targets
        .iter()
        .filter(|t| {
            t.mgmt
                || t.cluster
                    .as_ref()
                    .is_some_and(|c| plan.steps.contains_key(c))
        })
        .cloned()
        .collect()
}

/// What a client dry run would do: the plan's actions as outcomes (blocked clusters fail),
/// the statuses the objects would get.
pub(crate) fn predict(state: &LiveState, input: &[Manifest], plan: &Plan) -> ApplyReport {
    let stored = input
        .iter()
        .map(|m| {
            let id = manifest_id(m);
            let outcome = match state.smh_object(&id) {
                None => ApplyOutcome::Created,
                Some(s) if smh_unchanged(m, s) => ApplyOutcome::Unchanged,
                Some(_) => ApplyOutcome::Configured,
            };
            Stored {
                kind: id.kind,
                namespace: id.namespace,
                name: id.name,
                outcome,
                generation: 0,
                error: None,
            }
        })
        .collect::<Vec<_>>();
    let results: Vec<apply::StepResult> = plan
        .all()
        .map(|s| {
            let (outcome, error) = match plan.blocked.get(&s.cluster) {
                Some(why) => (ApplyOutcome::Failed, Some(why.clone())),
                None => (
                    match s.action {
                        Action::Create => ApplyOutcome::Created,
                        Action::Configure => ApplyOutcome::Configured,
                        Action::Unchanged => ApplyOutcome::Unchanged,
                        Action::Prune => ApplyOutcome::Pruned,
                    },
                    None,
                ),
            };
            apply::StepResult::new(s, outcome, error)
        })
        .collect();
    // Generations as the server would set them: not from the (absent) answers.
    let statuses = apply::statuses(state, &[], &results);
    ApplyReport {
        stored,
        results,
        statuses,
        ..Default::default()
    }
}

async fn run_diff(
    state: &LiveState,
    input: &[Manifest],
    plan: &Plan,
    machine: Option<OutputFormat>,
) -> CmdResult {
    let (smh, istio) = futures::join!(apply::diff_smh(state, input), apply::diff(state, plan));
    let diffs: Vec<ObjectDiff> = smh.into_iter().chain(istio).collect();
    match machine {
        Some(f) => {
            let order = order_of(plan);
            let mut v = serde_json::json!({"diffs": diffs, "blocked": plan.blocked});
            if !diffs.is_empty() && !order.is_empty() {
                v["order"] = serde_json::to_value(&order).unwrap_or_default();
            }
            emit(&v, f)?
        }
        None => {
            let mut out = std::io::stdout().lock();
            let mut current = String::new();
            for d in &diffs {
                if d.cluster != current {
                    let _ = writeln!(out, "# cluster {}", d.cluster);
                    current = d.cluster.clone();
                }
                if let Some(n) = &d.note {
                    let _ = writeln!(out, "# note: {n}");
                }
                let _ = write!(out, "{}", d.diff);
            }
            // The order the writes would be sent in, as comments.
            if !diffs.is_empty() {
                for line in order_text(&order_of(plan)).lines() {
                    let _ = writeln!(out, "# {line}");
                }
            }
        }
    }
    for (c, why) in &plan.blocked {
        errln!("error: cluster {c}: {why}");
    }
    if !plan.blocked.is_empty() {
        return Err(CmdError::cluster(anyhow!(
            "the diff is incomplete: {} cluster(s) could not be compared",
            plan.blocked.len()
        )));
    }
    Ok(if diffs.is_empty() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}
