//! `kubectl smh failover create [NAME]`: build a FailoverService and the TrafficPolicies it
//! needs (outlier detection for backing services that have none, traffic shifts), from
//! flags or, on a terminal without `--backing`, from a wizard; preview; confirm; apply.
//!
//! The manifests come from the pure builder [`smh_core::model::build`]; what they become in
//! each cluster is the translation of everything stored plus them, against the live
//! topology. Nothing is changed before the confirmation (or `--yes`), and invalid input
//! changes nothing (exit 2).
//!
//! Writes ignore their failure ([`crate::cli::output`]): a closed pipe must not stop a command
//! that is changing clusters.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use anyhow::anyhow;

use super::super::apply::{
    ApplyOutput, DryRun, check_clusters, involved_targets, print_output, stale_warnings,
};
use super::super::input::{print_diagnostics, stderr_color};
use super::super::output::{err, errln, write_stdout};
use super::super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use smh_cluster::apply::{self, Mode};
use smh_cluster::state::{LiveState, StateOptions, load_state};
use smh_cluster::{ClusterName, ContextName, Contexts, targets_banner};
use smh_core::inspect::state::mesh_cluster;
use smh_core::model::Manifest;
use smh_core::model::build::{
    self, BuildError, CreateOptions, CreatePlan, Live, OutlierValues, parse_mesh_ref,
    parse_service_ref, service_ref,
};
use smh_core::model::diag::{Diagnostic, ObjectId, Severity};
use smh_core::model::types::{ClusterObjectRef, ObjectRef};
use smh_core::translate::Explanation;

pub mod wizard;

/// `kubectl smh failover create --help`.
pub const LONG_ABOUT: &str =
    "Create a FailoverService, plus the outlier-detection and traffic-shift \
TrafficPolicies it needs, and apply them to every cluster.

On a terminal (stdin and stderr) without --backing, a wizard asks for the backing services, in \
priority order, from the services discovered in the clusters --cluster and the registry map; when \
they map none, it first asks which kubeconfig contexts to read (the management context is \
preselected; no other context is contacted). Then it asks the name, hostname, port, outlier \
detection and whose traffic to shift; flags answer its questions in advance. With --yes it does \
not ask which contexts to read: name the clusters with --cluster NAME=CTX or register them. \
Without a terminal, --backing (at least two) and --yes (or --dry-run) are required, and only the \
clusters the flags name are read.

What is created: the FailoverService (in -n, default service-mesh-hub); a TrafficPolicy \
NAME-outlier in the same namespace giving outlier detection to the backing services that have \
none yet (those that have it keep it); a TrafficPolicy NAME-shift in the namespace of the \
--shift-from services, routing their traffic to the FailoverService. The policies carry the \
annotation failover.kubectl-smh.io/created-for=NAMESPACE/NAME (see `failover delete \
--with-policies`). Defaults are Service Mesh Hub's: name SERVICE-failover after the primary, \
hostname NAME.NAMESPACE.global, the primary's port and protocol, the mesh of the primary's \
cluster, outlier detection 5 / 10s / 30s / maxEjectionPercent 100 (values equal to these are left \
out of the manifest: SMH treats unset as the default).

The new objects are validated with everything stored in the management cluster against the live \
topology (invalid: exit 2, nothing changed). Then it prints the contexts it will change, the \
manifests and, per cluster, the Istio objects they become, asks (unless --yes), applies through \
the engine of `kubectl smh apply` (without pruning) and prints the resulting statuses. Exit \
status: 0 created, 1 declined (nothing changed), 2 invalid input, 3 a cluster failed, 130 \
interrupted.";

/// Flags of `kubectl smh failover create` (see [`LONG_ABOUT`]).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # The wizard (on a terminal)
  kubectl smh failover create

  # The guide's FailoverService, its outlier detection and its traffic shift
  kubectl smh failover create reviews-failover \\
      --backing reviews.bookinfo@mgmt-cluster --backing reviews.bookinfo@remote-cluster \\
      --consecutive-errors 1 --shift-from reviews.bookinfo@mgmt-cluster --yes

  # Only print the manifests
  kubectl smh failover create --backing reviews.bookinfo@mgmt-cluster \\
      --backing reviews.bookinfo@remote-cluster --dry-run -o yaml")]
pub struct Args {
    /// Name of the FailoverService (default: SERVICE-failover, after the primary backing
    /// service).
    #[arg(value_parser = parse_object_name)]
    pub name: Option<String>,

    /// A backing service, as SERVICE.NAMESPACE@CLUSTER; repeat in priority order, primary
    /// first (at least two).
    #[arg(long, value_name = "SVC.NS@CLUSTER", value_parser = parse_service_ref)]
    pub backing: Vec<ClusterObjectRef>,

    /// Hostname clients use, ending in .global (default: NAME.NAMESPACE.global, with the
    /// primary's namespace).
    #[arg(long, value_name = "HOST")]
    pub hostname: Option<String>,

    /// Port the hostname listens on (default: the primary's port).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65535))]
    pub port: Option<u32>,

    /// Protocol of the port: http, https, grpc, http2, tcp, tls, mongo (default: from the
    /// primary's port appProtocol or name, else http).
    #[arg(long, value_parser = parse_protocol)]
    pub protocol: Option<String>,

    /// A mesh that should see the hostname, as NAME[.NAMESPACE] (repeatable; default: the
    /// mesh of the primary's cluster, e.g. istiod-istio-system-mgmt-cluster).
    #[arg(long = "mesh", value_name = "NAME[.NS]", value_parser = parse_mesh_ref)]
    pub meshes: Vec<ObjectRef>,

    /// Outlier detection: consecutive 5xx errors before a host is ejected (default 5).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub consecutive_errors: Option<u32>,

    /// Outlier detection: time between ejection sweeps (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub interval: Option<Duration>,

    /// Outlier detection: minimum ejection time, multiplied by the times a host was
    /// ejected (default 30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub base_ejection_time: Option<Duration>,

    /// Outlier detection: the most of a service's hosts that may be ejected, in percent
    /// (default 100; below 100, Envoy may eject none of a small service's hosts and
    /// failover never starts).
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_ejection_percent: Option<u32>,

    /// Shift the traffic addressed to this service to the FailoverService, as
    /// SERVICE.NAMESPACE@CLUSTER (repeatable; usually the primary, as the guide does;
    /// default: none, unless the wizard asks).
    #[arg(long = "shift-from", value_name = "SVC.NS@CLUSTER", value_parser = parse_service_ref)]
    pub shift_from: Vec<ClusterObjectRef>,

    /// Name of the outlier-detection TrafficPolicy (default: NAME-outlier).
    #[arg(long, value_name = "NAME", value_parser = parse_object_name)]
    pub outlier_policy_name: Option<String>,

    /// Name of the traffic-shift TrafficPolicies, one per namespace (default: NAME-shift).
    #[arg(long, value_name = "NAME", value_parser = parse_object_name)]
    pub shift_policy_name: Option<String>,

    /// Change nothing: print the manifests (with -o yaml|json, only them; otherwise as YAML
    /// followed by, per cluster, the Istio objects they would become, as comments).
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_object_name(s: &str) -> Result<String, String> {
    let errs = smh_core::model::k8s::is_dns1123_subdomain(s);
    if errs.is_empty() {
        Ok(s.to_string())
    } else {
        Err(errs.join("; "))
    }
}

fn parse_protocol(s: &str) -> Result<String, String> {
    if smh_core::model::validate::is_istio_protocol(s) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "unknown protocol {s:?} (use http, https, grpc, http2, tcp, tls or mongo)"
        ))
    }
}

fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match smh_core::model::duration::parse_duration(s)? {
        d if d.is_zero() => Err("must be more than 0 (SMH treats 0 as its default)".to_string()),
        d => Ok(d),
    }
}

// ---------------------------------------------------------------------------------------
// Ctrl-C
// ---------------------------------------------------------------------------------------

const BEFORE_APPLY: u8 = 0;
const APPLYING: u8 = 1;
static PHASE: AtomicU8 = AtomicU8::new(BEFORE_APPLY);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Ctrl-C (SIGINT): before anything is applied, end at once with 130 and say nothing
/// changed (a prompt reading keys in raw mode also reports it to the wizard, which ends the
/// same way); while applying, end with 130 and say how to converge.
fn watch_interrupts(rt: &tokio::runtime::Runtime) {
    rt.spawn(async {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        INTERRUPTED.store(true, Ordering::SeqCst);
        let term = dialoguer::console::Term::stderr();
        let _ = term.show_cursor();
        if PHASE.load(Ordering::SeqCst) == APPLYING {
            errln!(
                "\ninterrupted while applying: some objects may be applied already; run the same command again, or `kubectl smh apply`, to converge"
            );
        } else {
            errln!("\ninterrupted: nothing was changed");
        }
        std::process::exit(Exit::Interrupted.code().into());
    });
}

// ---------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Human,
    Yaml,
    Json,
}

/// What a run without a terminal is missing, as flags: `[]` when nothing.
fn missing_without_terminal(args: &Args, yes: bool) -> Vec<&'static str> {
    let mut missing = Vec::new();
    match args.backing.len() {
        0 => missing.push("--backing (at least two, in priority order)"),
        1 => missing.push("a second --backing (at least two, in priority order)"),
        _ => {}
    }
    if !args.dry_run && !yes {
        missing.push("--yes (or --dry-run to only print what would be created)");
    }
    missing
}

fn options(g: &GlobalArgs, args: &Args) -> CreateOptions {
    CreateOptions {
        name: args.name.clone(),
        namespace: g.namespace.clone(),
        hostname: args.hostname.clone(),
        port: args.port,
        protocol: args.protocol.clone(),
        backing: args.backing.clone(),
        meshes: args.meshes.clone(),
        outlier: OutlierValues {
            consecutive_errors: args.consecutive_errors,
            interval: args.interval,
            base_ejection_time: args.base_ejection_time,
            max_ejection_percent: args.max_ejection_percent,
        },
        shift_from: args.shift_from.clone(),
        outlier_policy_name: args.outlier_policy_name.clone(),
        shift_policy_name: args.shift_policy_name.clone(),
    }
}

fn build_errors(errors: Vec<BuildError>) -> CmdError {
    let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
    CmdError::invalid(anyhow!(
        "cannot create the FailoverService; nothing was changed:\n{}",
        lines.join("\n")
    ))
}

pub fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let output = match g.output {
        None | Some(OutputFormat::Table) => Output::Human,
        Some(OutputFormat::Yaml) => Output::Yaml,
        Some(OutputFormat::Json) => Output::Json,
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !terminal {
        let missing = missing_without_terminal(&args, g.yes);
        if !missing.is_empty() {
            let alt = if args.backing.len() < 2 {
                "; or run it in a terminal for the wizard"
            } else {
                "; or run it in a terminal to confirm"
            };
            return Err(CmdError::invalid(anyhow!(
                "failover create needs {} when not run on a terminal{alt}",
                missing.join(" and ")
            )));
        }
    }
    let use_wizard = terminal && args.backing.len() < 2;
    let color = stderr_color(g);
    dialoguer::console::set_colors_enabled_stderr(color);
    let opts = options(g, &args);

    let rt = super::super::cluster::runtime()?;
    watch_interrupts(&rt);
    let contexts = Contexts::load(&g.context_options())?;
    // The wizard offers the services of the clusters the user chose: mapped by --cluster or
    // the registry, or else the kubeconfig contexts picked now. Nothing else is contacted.
    let chosen = if use_wizard && nothing_mapped(&contexts) {
        choose_contexts(&contexts, g.yes)?
    } else {
        Vec::new()
    };
    if terminal {
        errln!("Reading the clusters...");
    }
    let before = rt.block_on(load(&contexts, g, &opts, use_wizard, &chosen, Vec::new()))?;
    for w in read_warnings(&before) {
        errln!("warning: {w}");
    }
    let live = Live {
        topology: &before.topology,
        existing: &before.smh_objects,
    };

    // What to create.
    let request = if use_wizard {
        match wizard::Wizard::new().run(&live, &opts) {
            Ok(r) => r,
            Err(wizard::WizardError::Cancelled) => {
                return Err(CmdError::interrupted(anyhow!(
                    "cancelled: nothing was changed"
                )));
            }
            Err(wizard::WizardError::Build(errors)) => return Err(build_errors(errors)),
            Err(e) => return Err(CmdError::invalid(anyhow!("{e}; nothing was changed"))),
        }
    } else {
        build::resolve(&opts, &live).map_err(build_errors)?
    };
    let plan = build::build(&request, &live).map_err(build_errors)?;
    let checked = build::check(&plan, &live);
    print_diagnostics(&checked.diagnostics, color);
    if checked.has_errors() {
        return Err(CmdError::invalid(anyhow!(
            "the FailoverService would not be valid; nothing was changed"
        )));
    }
    print_notes(&plan, &request.shift_from, !use_wizard);
    let ids: BTreeSet<ObjectId> = plan.ids().into_iter().collect();

    // The state with the new objects: what the engine will apply.
    let state = rt.block_on(load(
        &contexts,
        g,
        &opts,
        false,
        &[],
        checked.manifests.clone(),
    ))?;
    check_clusters(&state)?;
    let problems: Vec<Diagnostic> = state
        .diagnostics
        .iter()
        .chain(&state.expected.diagnostics)
        .filter(|d| d.object.as_ref().is_some_and(|o| ids.contains(o)))
        // Already shown (with positions) by the check.
        .filter(|d| {
            !checked.diagnostics.iter().any(|c| {
                (c.severity, &c.object, &c.field, &c.message)
                    == (d.severity, &d.object, &d.field, &d.message)
            })
        })
        .cloned()
        .collect();
    print_diagnostics(&problems, color);
    if problems.iter().any(|d| d.severity == Severity::Error) {
        return Err(CmdError::invalid(anyhow!(
            "the new objects cannot be applied as they are; nothing was changed"
        )));
    }
    let engine_plan = apply::plan(&state, false);
    let targets = involved_targets(&state, &engine_plan);
    let heading = if args.dry_run {
        "Dry run: these contexts and API servers would be changed:"
    } else {
        "These contexts and API servers will be changed:"
    };
    let rows = plan_rows(&engine_plan, &ids);
    let preview = render_plan(
        &rows,
        &relevant_explanations(&state.expected.explanations, &rows, &ids),
        &cluster_titles(&state),
    );

    if args.dry_run {
        err!("{}", targets_banner(&targets, heading));
        let text = match output {
            Output::Json => crate::render::json::to_list(&plan.values()),
            Output::Yaml => plan.to_yaml().map_err(CmdError::failed)?,
            Output::Human => {
                let mut t = plan.to_yaml().map_err(CmdError::failed)?;
                t.push_str(&commented(&preview));
                t
            }
        };
        write_stdout(&text)?;
        return Ok(Exit::Ok);
    }

    err!("{}", targets_banner(&targets, heading));
    if !g.yes {
        let mut shown = String::from("\n");
        shown.push_str(&plan.to_yaml().map_err(CmdError::failed)?);
        shown.push('\n');
        shown.push_str(&preview);
        errln!("{shown}");
        let clusters = engine_plan.steps.len();
        let ok = dialoguer::Confirm::with_theme(&dialoguer::theme::ColorfulTheme::default())
            .with_prompt(format!(
                "Create these {} objects and apply them to {clusters} cluster{}?",
                ids.len(),
                if clusters == 1 { "" } else { "s" }
            ))
            .default(false)
            .interact_on_opt(&dialoguer::console::Term::stderr());
        match ok {
            Ok(Some(true)) => {}
            Ok(Some(false)) => {
                // As `failover delete` and `drill`: a declined change is not a success.
                return Err(CmdError::failed(anyhow!(
                    "not confirmed; nothing was changed"
                )));
            }
            Ok(None) => {
                return Err(CmdError::interrupted(anyhow!(
                    "cancelled: nothing was changed"
                )));
            }
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                return Err(CmdError::interrupted(anyhow!(
                    "cancelled: nothing was changed"
                )));
            }
            Err(e) => return Err(CmdError::failed(anyhow!("the terminal failed: {e}"))),
        }
    }

    PHASE.store(APPLYING, Ordering::SeqCst);
    let report = rt.block_on(apply::commit(
        &state,
        &checked.manifests,
        &engine_plan,
        &[],
        Mode::Apply,
    ));
    let warnings = stale_warnings(&state);
    let out = ApplyOutput::new(&state, &engine_plan, &report, DryRun::None, warnings);
    let machine = match output {
        Output::Human => None,
        Output::Yaml => Some(OutputFormat::Yaml),
        Output::Json => Some(OutputFormat::Json),
    };
    print_output(&out, machine, g.verbose > 0)?;
    if report.failed() {
        return Err(CmdError::cluster(anyhow!(
            "{}",
            report.aborted.clone().unwrap_or_else(|| {
                "not every object could be applied (see above); run `kubectl smh apply` when the clusters answer, or delete the FailoverService with `kubectl smh failover delete --with-policies`".to_string()
            })
        )));
    }
    Ok(Exit::Ok)
}

/// What the user should know about the plan; `reuse`: also which backing services keep
/// their outlier detection (the wizard has said so already).
fn print_notes(plan: &CreatePlan, shift_from: &[ClusterObjectRef], reuse: bool) {
    for c in plan.reused_outlier.iter().filter(|_| reuse) {
        errln!(
            "note: {} keeps the outlier detection of TrafficPolicy {}/{} ({})",
            service_ref(&c.service),
            c.policy.namespace,
            c.policy.name,
            c.values.effective()
        );
    }
    for (r, id) in &plan.already_shifted {
        errln!(
            "note: TrafficPolicy {}/{} already shifts {} to this FailoverService",
            id.namespace,
            id.name,
            service_ref(r)
        );
    }
    if shift_from.is_empty() {
        let fs = &plan.failover_service;
        let primary = fs
            .spec
            .backing_services
            .first()
            .and_then(|b| b.kube_service.as_ref())
            .map(service_ref)
            .unwrap_or_default();
        errln!(
            "note: no traffic is shifted to {}: clients must call it by name, or pass --shift-from {primary}",
            fs.spec.hostname
        );
    }
}

/// Every line prefixed with `# ` (blank lines `#`), so the plan can follow YAML on stdout.
fn commented(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The per-cluster plan
// ---------------------------------------------------------------------------------------

/// One line of the per-cluster plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub cluster: String,
    /// `create`, `update` or `unchanged`.
    pub action: &'static str,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Not generated from the new objects: applying converges it too.
    pub other: bool,
    /// For `update`: why (`was changed by kubectl-edit: spec.http`, `out of date: ...`).
    pub why: Option<String>,
}

/// The engine's steps as rows: every step the new objects take part in, and every other
/// step that changes something (the engine converges every stored object's generated
/// objects; pruning is left to `kubectl smh apply`).
fn plan_rows(plan: &apply::Plan, ids: &BTreeSet<ObjectId>) -> Vec<PlanRow> {
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
                why: s.drift.as_ref().map(super::super::apply::drift_note),
            })
        })
        .collect()
}

/// The explanations about the new objects: those about one of them by name
/// (`FailoverService ns/name: ...`, `TrafficPolicy ns/name ...`), and those about a
/// generated object they take part in (`... DestinationRule ns/name ...`). Pure.
pub fn relevant_explanations(
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
fn cluster_titles(state: &LiveState) -> BTreeMap<String, String> {
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
pub fn render_plan(
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

// ---------------------------------------------------------------------------------------
// Reading the clusters
// ---------------------------------------------------------------------------------------

/// Things the user should know before choosing: clusters that were not read.
fn read_warnings(s: &LiveState) -> Vec<String> {
    let mut out = Vec::new();
    for (c, e) in &s.errors {
        match s.stale.get(c) {
            Some(at) => out.push(format!(
                "cluster {c} could not be read, so its services are as discovered at {at}: {e}"
            )),
            None => out.push(format!(
                "cluster {c} could not be read, so its services are not offered: {e}"
            )),
        }
    }
    for (c, e) in &s.unresolved {
        out.push(format!("cluster {c} is not used: {e}"));
    }
    for (id, why) in &s.unreadable {
        out.push(format!(
            "{id} in the management cluster cannot be read: {why}"
        ));
    }
    out
}

/// Whether neither `--cluster` nor the registry maps a cluster name.
fn nothing_mapped(contexts: &Contexts) -> bool {
    contexts.flag_mappings().is_empty() && contexts.registry().is_empty()
}

/// The kubeconfig contexts the wizard offers to read, in the kubeconfig's (sorted) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextChoices {
    /// `(context, label)`: contexts whose name can be a cluster name.
    pub offered: Vec<(ContextName, String)>,
    /// Indexes into `offered` checked at first: the management context.
    pub preselected: Vec<usize>,
    /// Contexts whose name cannot be a cluster name (`gke_project_zone_name`): to be mapped
    /// with `--cluster NAME=CTX` or `cluster register`.
    pub unusable: Vec<ContextName>,
}

/// Which contexts to offer: each that can stand for a cluster of the same name, labelled
/// with its API server; the management context checked. Pure.
pub fn context_choices(
    contexts: &[ContextName],
    server_of: impl Fn(&ContextName) -> Option<String>,
    mgmt: Option<&ContextName>,
) -> ContextChoices {
    let mut out = ContextChoices {
        offered: Vec::new(),
        preselected: Vec::new(),
        unusable: Vec::new(),
    };
    let width = contexts.iter().map(|c| c.as_str().len()).max().unwrap_or(0);
    for c in contexts {
        if ClusterName::new(c.as_str()).validate().is_err() {
            out.unusable.push(c.clone());
            continue;
        }
        let server = server_of(c).unwrap_or_else(|| "(no server)".to_string());
        let mut label = format!("{:width$}  {server}", c.as_str());
        if mgmt == Some(c) {
            out.preselected.push(out.offered.len());
            label.push_str("  (management)");
        }
        out.offered.push((c.clone(), label));
    }
    out
}

/// Asks which kubeconfig contexts to read (each as the cluster of the same name). With
/// `--yes` nothing is asked: exit 2, naming --cluster.
fn choose_contexts(contexts: &Contexts, yes: bool) -> Result<Vec<ClusterName>, CmdError> {
    const MAP: &str = "name the clusters with --cluster NAME=CTX (repeatable), or register them with `kubectl smh cluster register NAME --context CTX`";
    if yes {
        return Err(CmdError::invalid(anyhow!(
            "failover create --yes does not ask which kubeconfig contexts to read, and neither --cluster nor the registry maps a cluster: {MAP}; nothing was read or changed"
        )));
    }
    let kubeconfig = contexts.kubeconfig();
    let mgmt = contexts.mgmt_context().ok();
    let choices = context_choices(
        &kubeconfig.contexts(),
        |c| kubeconfig.server_of(c),
        mgmt.as_ref(),
    );
    if !choices.unusable.is_empty() {
        let names: Vec<&str> = choices.unusable.iter().map(|c| c.as_str()).collect();
        errln!(
            "note: not offered, as their names cannot be cluster names (lowercase letters, digits, '-' and '.', at most 63): {}; map them with --cluster NAME=CTX",
            names.join(", ")
        );
    }
    if choices.offered.is_empty() {
        return Err(CmdError::invalid(anyhow!(
            "no kubeconfig context can stand for a cluster of the same name: {MAP}; nothing was read or changed"
        )));
    }
    let picked = match wizard::Wizard::new().choose_contexts(&choices) {
        Ok(p) => p,
        Err(wizard::WizardError::Cancelled) => {
            return Err(CmdError::interrupted(anyhow!(
                "cancelled: nothing was changed"
            )));
        }
        Err(e) => return Err(CmdError::invalid(anyhow!("{e}; nothing was changed"))),
    };
    if picked.is_empty() {
        return Err(CmdError::invalid(anyhow!(
            "no kubeconfig context chosen: choose at least one, or {MAP}; nothing was read or changed"
        )));
    }
    Ok(picked
        .into_iter()
        .map(|i| ClusterName::new(choices.offered[i].0.as_str()))
        .collect())
}

/// The clusters to read: those the flags name, plus `chosen` (the contexts picked in the
/// wizard). The state adds the clusters the stored objects name and those `--cluster` maps
/// (and, with `include_registered`, the registered ones). Never a context nobody chose.
fn clusters_to_read(opts: &CreateOptions, chosen: &[ClusterName]) -> Vec<ClusterName> {
    let mut names: BTreeSet<ClusterName> = opts
        .backing
        .iter()
        .chain(&opts.shift_from)
        .map(|r| ClusterName::new(r.cluster_name.as_str()))
        .collect();
    let known: BTreeSet<String> = names.iter().map(|c| c.as_str().to_string()).collect();
    for m in &opts.meshes {
        if let Some(c) = mesh_cluster(&m.name, &known) {
            names.insert(ClusterName::new(c));
        }
    }
    names.extend(chosen.iter().cloned());
    names.into_iter().collect()
}

/// The apply engine's view of the clusters, with `overlay` (the new objects) added;
/// `wizard`: also the registered clusters (the wizard offers their services).
async fn load(
    contexts: &Contexts,
    g: &GlobalArgs,
    opts: &CreateOptions,
    wizard: bool,
    chosen: &[ClusterName],
    overlay: Vec<Manifest>,
) -> Result<LiveState, CmdError> {
    Ok(load_state(
        contexts,
        &StateOptions {
            discovery: g.discovery_options(),
            extra_clusters: clusters_to_read(opts, chosen),
            include_registered: wizard,
            overlay,
            ..StateOptions::default()
        },
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commented_keeps_yaml_valid() {
        assert_eq!(commented("a\n\n  b\n"), "# a\n#\n#   b\n");
    }

    fn row(
        cluster: &str,
        action: &'static str,
        kind: &str,
        ns: &str,
        name: &str,
        other: bool,
    ) -> PlanRow {
        PlanRow {
            cluster: cluster.into(),
            action,
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
            other,
            why: other.then(|| "was changed: spec.http".to_string()),
        }
    }

    fn explanation(cluster: &str, text: &str) -> Explanation {
        Explanation {
            cluster: cluster.into(),
            text: text.into(),
        }
    }

    #[test]
    fn only_explanations_about_the_new_objects() {
        let ids: BTreeSet<ObjectId> = [ObjectId {
            kind: "FailoverService".into(),
            namespace: "service-mesh-hub".into(),
            name: "rev".into(),
        }]
        .into();
        let rows = vec![
            row(
                "mgmt",
                "create",
                "EnvoyFilter",
                "istio-system",
                "rev",
                false,
            ),
            row(
                "mgmt",
                "unchanged",
                "DestinationRule",
                "istio-system",
                "reviews-remote",
                false,
            ),
            row(
                "mgmt",
                "update",
                "VirtualService",
                "bookinfo",
                "ratings",
                true,
            ),
        ];
        let texts = [
            "FailoverService service-mesh-hub/rev: Istio 1.24.2 is 1.9 or later",
            "FailoverService service-mesh-hub/rev2: Istio 1.24.2 is 1.9 or later",
            "FailoverService service-mesh-hub/reviews-failover: aggregate",
            "global mode: reviews.bookinfo in cluster remote is reached as x; DestinationRule istio-system/reviews-remote carries its outlier detection",
            "global mode: ratings.bookinfo; DestinationRule istio-system/reviews-remote-2 carries",
            "VirtualService bookinfo/ratings: multi-primary mode",
        ];
        let all: Vec<Explanation> = texts.iter().map(|t| explanation("mgmt", t)).collect();
        let kept: Vec<String> = relevant_explanations(&all, &rows, &ids)
            .into_iter()
            .map(|e| e.text)
            .collect();
        assert_eq!(kept, [texts[0], texts[3]]);
    }

    #[test]
    fn plan_text() {
        let rows = vec![
            row(
                "mgmt",
                "create",
                "EnvoyFilter",
                "istio-system",
                "rev",
                false,
            ),
            row(
                "mgmt",
                "unchanged",
                "DestinationRule",
                "bookinfo",
                "reviews",
                false,
            ),
            row(
                "mgmt",
                "update",
                "VirtualService",
                "bookinfo",
                "ratings",
                true,
            ),
            row(
                "remote",
                "create",
                "DestinationRule",
                "bookinfo",
                "reviews",
                false,
            ),
        ];
        let titles = BTreeMap::from([(
            "mgmt".to_string(),
            "mgmt (management; context m)".to_string(),
        )]);
        let text = render_plan(&rows, &[explanation("remote", "because")], &titles);
        assert_eq!(
            text,
            "Istio objects, per cluster:
  mgmt (management; context m)
    create     EnvoyFilter      istio-system/rev
    unchanged  DestinationRule  bookinfo/reviews
    update     VirtualService   bookinfo/ratings  (for other objects: was changed: spec.http)
  remote
    create     DestinationRule  bookinfo/reviews
    why: because
"
        );
        assert_eq!(
            render_plan(&[], &[], &titles),
            "Istio objects, per cluster:\n  (none)\n"
        );
    }

    #[test]
    fn contexts_offered_by_the_wizard() {
        let ctx = |s: &str| ContextName::new(s);
        let all = [
            ctx("gke_proj_zone_prod"),
            ctx("mgmt-cluster"),
            ctx("remote-cluster"),
        ];
        let c = context_choices(
            &all,
            |c| Some(format!("https://{}", c.as_str())),
            Some(&ctx("mgmt-cluster")),
        );
        let names: Vec<&str> = c.offered.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(names, ["mgmt-cluster", "remote-cluster"]);
        // Only the management context is checked, never everything.
        assert_eq!(c.preselected, [0]);
        assert_eq!(
            c.offered[0].1,
            "mgmt-cluster        https://mgmt-cluster  (management)"
        );
        assert_eq!(c.unusable, [ctx("gke_proj_zone_prod")]);
        // No management context (no current context): nothing checked.
        let c = context_choices(&all, |_| None, None);
        assert!(c.preselected.is_empty());
        assert_eq!(c.offered[1].1, "remote-cluster      (no server)");
    }
}
