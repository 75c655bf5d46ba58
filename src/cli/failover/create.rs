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

use std::collections::BTreeSet;
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
use smh_cluster::state::LiveState;
use smh_cluster::{Contexts, targets_banner};
use smh_core::model::build::{
    self, BuildError, Checked, CreateOptions, CreatePlan, CreateRequest, Live, OutlierFlags,
    parse_mesh_ref, parse_service_ref, service_ref,
};
use smh_core::model::diag::{Diagnostic, ObjectId, Severity};
use smh_core::model::types::{ClusterObjectRef, ObjectRef};
use smh_core::model::zero_loss;

use super::super::strategy::StrategyArg;

mod plan;
mod read;
pub(crate) mod wizard;

use plan::{cluster_titles, plan_rows, relevant_explanations, render_plan};
use read::{ContextChoices, choose_contexts, load, nothing_mapped, read_warnings};

/// `kubectl smh failover create --help`.
pub(crate) const LONG_ABOUT: &str =
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
pub(crate) struct Args {
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

    /// Zero-loss failover: outlier detection that ejects a host on its first error (and
    /// maxEjectionPercent 100) for the backing services that have none yet, and 20 retries
    /// on the traffic shift, so that requests reaching the primary while its pods are
    /// replaced are retried until Envoy fails over instead of failing (measured on Envoy
    /// 1.40 with istiod's configuration: the guide's failover lost 10 requests at 10/s, none
    /// with these). Trade-off: those requests take up to about 1 s longer; HTTP error
    /// answers (a 500 from the application) are still not retried.
    #[arg(long, conflicts_with_all = ["consecutive_errors", "max_ejection_percent"])]
    pub zero_loss: bool,

    /// How the FailoverService is translated: `native` (Istio's DestinationRule
    /// failoverPriority and a VirtualService, no EnvoyFilter; Istio multi-primary, and an
    /// error where it cannot keep the order exactly), `aggregate` (the EnvoyFilter aggregate
    /// cluster) or `auto` (native where exact). Other than auto, it is stored as the
    /// FailoverService's annotation failover.kubectl-smh.io/strategy.
    #[arg(long, value_enum, value_name = "STRATEGY", default_value = "auto")]
    pub strategy: StrategyArg,

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
        outlier: OutlierFlags {
            consecutive_errors: if args.zero_loss {
                Some(zero_loss::CONSECUTIVE_ERRORS)
            } else {
                args.consecutive_errors
            },
            interval: args.interval,
            base_ejection_time: args.base_ejection_time,
            max_ejection_percent: if args.zero_loss {
                Some(zero_loss::MAX_EJECTION_PERCENT)
            } else {
                args.max_ejection_percent
            },
        },
        shift_from: args.shift_from.clone(),
        outlier_policy_name: args.outlier_policy_name.clone(),
        shift_policy_name: args.shift_policy_name.clone(),
        shift_retries: args.zero_loss.then(zero_loss::retries),
    }
}

/// `--zero-loss` puts its retries on the traffic shift, so it needs one.
fn zero_loss_without_shift() -> CmdError {
    CmdError::invalid(anyhow!(
        "--zero-loss puts its retries on the traffic shift, and nothing is shifted: pass --shift-from SVC.NS@CLUSTER (usually the primary, as the guide does); nothing was changed"
    ))
}

fn build_errors(errors: Vec<BuildError>) -> CmdError {
    let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
    CmdError::invalid(anyhow!(
        "cannot create the FailoverService; nothing was changed:\n{}",
        lines.join("\n")
    ))
}

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let output = match g.output {
        None | Some(OutputFormat::Table) => Output::Human,
        Some(OutputFormat::Yaml) => Output::Yaml,
        Some(OutputFormat::Json) => Output::Json,
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !terminal {
        refuse_without_terminal(&args, g.yes)?;
    }
    let use_wizard = terminal && args.backing.len() < 2;
    if args.zero_loss && args.shift_from.is_empty() && !use_wizard {
        return Err(zero_loss_without_shift());
    }
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

    let request = what_to_create(use_wizard, &live, &opts)?;
    if args.zero_loss && request.shift_from.is_empty() {
        return Err(zero_loss_without_shift());
    }
    let mut plan = build::build(&request, &live).map_err(build_errors)?;
    pin_strategy(&mut plan, args.strategy);
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
    let problems = new_object_problems(&state, &checked, &ids);
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

    err!("{}", targets_banner(&targets, heading));
    if args.dry_run {
        write_stdout(&dry_run_text(output, &plan, &preview)?)?;
        return Ok(Exit::Ok);
    }
    if !g.yes {
        confirm(&plan, &preview, ids.len(), engine_plan.steps.len())?;
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

/// `--strategy` other than auto: stored as the FailoverService's strategy annotation.
fn pin_strategy(plan: &mut CreatePlan, strategy: StrategyArg) {
    if strategy != StrategyArg::Auto {
        plan.failover_service
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(
                smh_core::consts::STRATEGY_ANNOTATION.to_string(),
                smh_core::translate::Strategy::from(strategy).to_string(),
            );
    }
}

/// Without a terminal there is no wizard and no confirmation: refuse (exit 2) unless the
/// flags say everything.
fn refuse_without_terminal(args: &Args, yes: bool) -> Result<(), CmdError> {
    let missing = missing_without_terminal(args, yes);
    if missing.is_empty() {
        return Ok(());
    }
    let alt = if args.backing.len() < 2 {
        "; or run it in a terminal for the wizard"
    } else {
        "; or run it in a terminal to confirm"
    };
    Err(CmdError::invalid(anyhow!(
        "failover create needs {} when not run on a terminal{alt}",
        missing.join(" and ")
    )))
}

/// What to create: from the wizard, or from the flags.
fn what_to_create(
    use_wizard: bool,
    live: &Live,
    opts: &CreateOptions,
) -> Result<CreateRequest, CmdError> {
    if !use_wizard {
        return build::resolve(opts, live).map_err(build_errors);
    }
    match wizard::Wizard::new().run(live, opts) {
        Ok(r) => Ok(r),
        Err(wizard::WizardError::Cancelled) => Err(CmdError::interrupted(anyhow!(
            "cancelled: nothing was changed"
        ))),
        Err(wizard::WizardError::Build(errors)) => Err(build_errors(errors)),
        Err(e) => Err(CmdError::invalid(anyhow!("{e}; nothing was changed"))),
    }
}

/// The problems of the live state with the new objects that concern the new objects, less
/// those the check has shown already (with positions).
fn new_object_problems(
    state: &LiveState,
    checked: &Checked,
    ids: &BTreeSet<ObjectId>,
) -> Vec<Diagnostic> {
    state
        .diagnostics
        .iter()
        .chain(&state.expected.diagnostics)
        .filter(|d| d.object.as_ref().is_some_and(|o| ids.contains(o)))
        .filter(|d| {
            !checked.diagnostics.iter().any(|c| {
                (c.severity, &c.object, &c.field, &c.message)
                    == (d.severity, &d.object, &d.field, &d.message)
            })
        })
        .cloned()
        .collect()
}

/// `--dry-run` on stdout: the new objects (YAML, or JSON as a List), and in human output the
/// per-cluster plan after them as YAML comments.
fn dry_run_text(output: Output, plan: &CreatePlan, preview: &str) -> Result<String, CmdError> {
    Ok(match output {
        Output::Json => crate::render::json::to_list(&plan.values()),
        Output::Yaml => plan.to_yaml().map_err(CmdError::failed)?,
        Output::Human => {
            let mut t = plan.to_yaml().map_err(CmdError::failed)?;
            t.push_str(&commented(preview));
            t
        }
    })
}

/// Show the objects and the plan and ask; a declined change exits 1, a cancelled prompt 130.
fn confirm(
    plan: &CreatePlan,
    preview: &str,
    objects: usize,
    clusters: usize,
) -> Result<(), CmdError> {
    let mut shown = String::from("\n");
    shown.push_str(&plan.to_yaml().map_err(CmdError::failed)?);
    shown.push('\n');
    shown.push_str(preview);
    errln!("{shown}");
    let ok = dialoguer::Confirm::with_theme(&dialoguer::theme::ColorfulTheme::default())
        .with_prompt(format!(
            "Create these {objects} objects and apply them to {clusters} cluster{}?",
            if clusters == 1 { "" } else { "s" }
        ))
        .default(false)
        .interact_on_opt(&dialoguer::console::Term::stderr());
    match ok {
        Ok(Some(true)) => Ok(()),
        // As `failover delete` and `drill`: a declined change is not a success.
        Ok(Some(false)) => Err(CmdError::failed(anyhow!(
            "not confirmed; nothing was changed"
        ))),
        Ok(None) => Err(CmdError::interrupted(anyhow!(
            "cancelled: nothing was changed"
        ))),
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => Err(
            CmdError::interrupted(anyhow!("cancelled: nothing was changed")),
        ),
        Err(e) => Err(CmdError::failed(anyhow!("the terminal failed: {e}"))),
    }
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

#[cfg(test)]
mod tests;
