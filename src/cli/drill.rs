//! `kubectl smh drill NAME` and `kubectl smh drill restore NAME`: the flags.
//!
//! The drill's pure core lives in `smh_core::drill` (plan, state machine, preflight,
//! classification, measurements, restore patches), its executor in
//! `smh_drill` and its rendering in `crate::render::drill`. This module reads
//! the flags, resolves the clusters, prints the targets before anything changes, asks for
//! confirmation (dialoguer on stderr), draws progress (indicatif on stderr, plain lines when
//! stderr is not a terminal), turns SIGINT, SIGTERM and SIGHUP into the executor's signals, and
//! prints the report.
//!
//! Every write here ignores its failure ([`super::output`]): a drill whose stdout or stderr
//! was closed (`| head`) still restores and exits with its own code.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use tokio::sync::mpsc;

use super::cluster::runtime;
use super::output::{err, errln};
use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat, parse_duration_arg};
use crate::render;
use smh_cluster::state::{StateOptions, load_state};
use smh_cluster::{ClusterName, Contexts, targets_banner};
use smh_core::drill::machine::DrillOutcome;
use smh_core::drill::restore::{BreakMode, RestoreContext, new_drill_id};
use smh_core::drill::{DrillOptions, DrillPlan, Signal, WorkloadRef};
use smh_core::inspect::discovery::DiscoveryOptions;
use smh_core::model::types::FailoverService;
use smh_drill::{Clients, DrillContext, ExecError};

mod progress;
mod pump;
mod restore;

use progress::CliObserver;
use restore::{restore_async, restored_what};

macro_rules! examples {
    () => {
        "\
Examples:
  kubectl smh drill reviews-failover
  kubectl smh drill reviews-failover --dry-run
  kubectl smh drill reviews-failover --yes -o json --max-errors 5
  kubectl smh drill reviews-failover --break bookinfo/reviews-v1 --failover-timeout 1m
  kubectl smh drill reviews-failover --break-mode scale
  kubectl smh drill restore reviews-failover

A FailoverService literally named \"restore\": kubectl smh drill --name restore"
    };
}

const DRILL_LONG_HELP: &str = concat!(
    "\
Defaults come from the FailoverService: the primary is its first backing service; the \
deployments to break are those in the primary's cluster and namespace whose pod labels match \
the primary Service's selector (bookinfo: reviews-v1 and reviews-v2); probes go through a \
port-forward to bookinfo's productpage-v1 (port 9080, /productpage) at 10 per second and are \
classified by the stars on the page (none or black: primary; red: failed over; error page: \
error).

The break is the guide's command patch (the serving containers run `sleep 20h`) or, with \
--break-mode scale, spec.replicas 0. Preflight reads the containers it would break: a \
readiness or startup probe the sleeping app cannot pass (the new pods never become Ready, so \
a rolling update keeps the old pods serving) refuses the command patch unless you choose it \
with --break-mode command; liveness probes, images that look distroless (no `sleep`), tools \
that may undo the break (Argo CD, Flux, Helm by the deployment's managedFields) and \
HorizontalPodAutoscalers on the deployments are warned about before the confirmation. While \
the command patch rolls out, the drill watches the new pods and stops and restores within \
seconds when one cannot start, crash-loops, or is not Ready within its limit \
(--break-ready-timeout).

Safety: before the first patch, each deployment's original container command and args (or, \
with --break-mode scale, its exact spec.replicas) are saved on the deployment itself \
(annotation drill.kubectl-smh.io/restore); the restore puts back exactly that. Errors, \
failed expectations, Ctrl-C, SIGTERM and SIGHUP (a closed terminal) restore before exiting, \
and a closed stdout or stderr (`| head`) does not stop the drill; after a crash, `kubectl smh \
drill restore NAME` does it. The drill asks for confirmation unless --yes.

Exit codes: 0 passed; 1 an expectation failed, preflight refused or you declined (nothing \
changed in the last two cases); 2 bad flags; 3 cluster error; 130 interrupted (after \
restoring).

",
    examples!()
);

/// `kubectl smh drill NAME [flags]`, or `kubectl smh drill restore NAME`. The description
/// is in the long help (`--help`); `-h` shows the examples.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = examples!(),
    after_long_help = DRILL_LONG_HELP,
)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) command: Option<DrillCommand>,

    /// The FailoverService to drill (in -n/--namespace).
    #[arg(value_name = "NAME", required_unless_present = "name_flag")]
    pub(crate) name: Option<String>,

    /// The FailoverService to drill, as a flag (for one named like a subcommand).
    #[arg(
        long = "name",
        value_name = "NAME",
        conflicts_with = "name",
        hide_short_help = true
    )]
    pub(crate) name_flag: Option<String>,

    #[command(flatten)]
    pub(crate) flags: Box<DrillFlags>,
}

impl Args {
    /// The FailoverService name, from the argument or `--name`.
    pub(crate) fn failover_service(&self) -> Option<&str> {
        self.name.as_deref().or(self.name_flag.as_deref())
    }
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum DrillCommand {
    /// Put back what an interrupted drill changed (after a crash or SIGKILL): every
    /// deployment carrying a restore plan of this FailoverService gets its saved container
    /// command and args back. Does nothing when no restore is pending.
    Restore(RestoreArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RestoreArgs {
    /// The FailoverService whose drill to restore (in -n/--namespace).
    #[arg(value_name = "NAME")]
    pub(crate) name: String,

    /// Restore only what the drill with this id saved (default: every pending restore plan
    /// of NAME; `kubectl smh drill` prints its id).
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,

    /// Print the restore patches; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// The drill's own flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DrillFlags {
    /// Print the plan and the patches; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// A deployment to break instead of those the primary Service selects, as
    /// [CLUSTER:][NAMESPACE/]DEPLOYMENT; cluster and namespace default to the primary's
    /// (repeatable).
    #[arg(long = "break", value_name = "[CLUSTER:][NS/]DEPLOY")]
    pub breaks: Vec<WorkloadRef>,

    /// How to break the deployments: `command`, the guide's patch (the serving containers
    /// run `sleep 20h`; the default), or `scale` (spec.replicas 0, the exact count put back).
    /// Choosing `command` explicitly runs it even when a readiness probe would keep the new
    /// pods from becoming Ready (preflight then warns instead of refusing).
    #[arg(long, value_name = "MODE", value_enum)]
    pub break_mode: Option<BreakModeArg>,

    /// With the command patch: stop and restore when a new pod's broken containers run this
    /// long without becoming Ready (default: from their readiness and startup probes,
    /// initialDelaySeconds + periodSeconds × failureThreshold, plus 5s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub break_ready_timeout: Option<Duration>,

    /// The client workload to port-forward to and probe, as [CLUSTER:][NAMESPACE/]DEPLOYMENT:
    /// a workload that calls the failover service (default: productpage-v1 in the primary's
    /// cluster and namespace).
    #[arg(long, value_name = "[CLUSTER:][NS/]DEPLOY")]
    pub probe_workload: Option<WorkloadRef>,

    /// Port of the probe workload (default: 9080 for productpage, else its first declared
    /// container port).
    #[arg(long, value_name = "PORT")]
    pub probe_port: Option<u16>,

    /// Path to GET (default: /productpage for productpage, else /).
    #[arg(long, value_name = "PATH")]
    pub probe_path: Option<String>,

    /// Probes per second (default: 10).
    #[arg(long, value_name = "PER_SECOND")]
    pub probe_rate: Option<f64>,

    /// Timeout of one probe (default: 5s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub probe_timeout: Option<Duration>,

    /// Regex on the response body that marks an answer from the primary (default:
    /// bookinfo's black stars, or reviews without stars).
    #[arg(long, value_name = "REGEX", value_parser = parse_regex_arg)]
    pub expect_primary: Option<String>,

    /// Regex on the response body that marks a failed-over answer (default: bookinfo's red
    /// stars).
    #[arg(long, value_name = "REGEX", value_parser = parse_regex_arg)]
    pub expect_failover: Option<String>,

    /// Regex on the response body that marks an error page (default: bookinfo's "Error
    /// fetching product reviews" and "Ratings service is currently unavailable"). Transport
    /// errors and statuses outside 200-299 are always errors.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex_arg)]
    pub expect_error: Option<String>,

    /// Fail unless failover is steady this long after the break (default: 2m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub failover_timeout: Option<Duration>,

    /// Fail unless failback is steady this long after the restore (default: 2m plus the
    /// primary's baseEjectionTime).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub failback_timeout: Option<Duration>,

    /// Fail (and restore at once) when more requests than this fail between the break and
    /// steady failover (default: no limit).
    #[arg(long, value_name = "N")]
    pub max_errors: Option<u64>,

    /// Answers per steadiness window: failover (failback) is steady from the first window
    /// with at least 99% failed-over (primary) answers (default: 20, i.e. 2s at 10/s).
    #[arg(long, value_name = "PROBES")]
    pub steady_window: Option<usize>,

    /// Baseline answers preflight needs, at least 95% of them from the primary (default: 20).
    #[arg(long, value_name = "PROBES")]
    pub baseline_probes: Option<usize>,
}

impl DrillFlags {
    /// The overrides, for `drill::plan::build_plan` (which checks the values).
    pub fn options(&self) -> DrillOptions {
        DrillOptions {
            breaks: self.breaks.clone(),
            probe_workload: self.probe_workload.clone(),
            probe_port: self.probe_port,
            probe_path: self.probe_path.clone(),
            probe_rate: self.probe_rate,
            probe_timeout: self.probe_timeout,
            expect_primary: self.expect_primary.clone(),
            expect_failover: self.expect_failover.clone(),
            expect_error: self.expect_error.clone(),
            failover_timeout: self.failover_timeout,
            failback_timeout: self.failback_timeout,
            max_errors: self.max_errors,
            steady_window: self.steady_window,
            baseline_probes: self.baseline_probes,
            break_mode: self.break_mode.map(BreakMode::from),
            break_ready_timeout: self.break_ready_timeout,
        }
    }
}

/// `--break-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BreakModeArg {
    /// The guide's patch: the serving containers run `sleep 20h`.
    Command,
    /// spec.replicas 0; the restore puts back the exact replica count.
    Scale,
}

impl From<BreakModeArg> for BreakMode {
    fn from(a: BreakModeArg) -> Self {
        match a {
            BreakModeArg::Command => BreakMode::Command,
            BreakModeArg::Scale => BreakMode::Scale,
        }
    }
}

/// clap value parser: a regex that compiles, kept as its source text.
/// A `--expect-*` value: a valid regular expression (drill, failover test).
pub(crate) fn parse_regex_arg(s: &str) -> Result<String, String> {
    regex::Regex::new(s)
        .map(|_| s.to_string())
        .map_err(|e| format!("invalid regular expression: {e}"))
}

/// Without a terminal, a drill that would ask fails with this (exit 2, nothing changed).
pub(crate) const NO_TERMINAL: &str = "kubectl smh drill asks for confirmation before it breaks deployments, and there is no terminal to ask on: pass --yes (-y) to go ahead without asking, or --dry-run to print the plan. Nothing was changed.";

/// How a drill runs: from the global flags, or set by `demo guide`.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Namespace of the FailoverService.
    pub(crate) namespace: String,
    pub(crate) output: Option<OutputFormat>,
    /// Do not ask; go ahead.
    pub(crate) yes: bool,
    /// Draw progress bars (stderr is a terminal); else plain progress lines.
    pub(crate) fancy: bool,
    /// A confirmation can be asked (stdin and stderr are terminals).
    pub(crate) can_prompt: bool,
    /// `--istio-mode`, for reading the live state.
    pub(crate) discovery: DiscoveryOptions,
}

impl Settings {
    pub(crate) fn from_global(g: &GlobalArgs) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        Settings {
            namespace: g.namespace.clone(),
            output: g.output,
            yes: g.yes,
            fancy: stderr_tty,
            can_prompt: stderr_tty && std::io::stdin().is_terminal(),
            discovery: g.discovery_options(),
        }
    }
}

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    if let Some(DrillCommand::Restore(r)) = &args.command {
        let contexts = Contexts::load(&g.context_options())?;
        let rt = runtime()?;
        let result = rt.block_on(restore_async(&contexts, &g.namespace, g.output, r));
        rt.shutdown_background();
        return result;
    }
    let name = args
        .failover_service()
        .ok_or_else(|| CmdError::invalid(anyhow!("the FailoverService NAME is required")))?
        .to_string();
    let settings = Settings::from_global(g);
    if !args.flags.dry_run && !settings.yes && !settings.can_prompt {
        return Err(CmdError::invalid(anyhow!(NO_TERMINAL)));
    }
    let contexts = Contexts::load(&g.context_options())?;
    let rt = runtime()?;
    let result = rt.block_on(async {
        let signals = listen_for_signals().map_err(|e| {
            CmdError::failed(anyhow!("cannot listen for SIGINT, SIGTERM and SIGHUP: {e}"))
        })?;
        drill_async(&contexts, &settings, &name, &args.flags, signals).await
    });
    // A confirmation prompt may still wait for a key on its own thread: do not wait for it.
    rt.shutdown_background();
    result
}

/// SIGINT, SIGTERM and SIGHUP, from now on, as the executor's signals (SIGHUP, a closed
/// terminal, would otherwise end the process without a restore).
pub(crate) fn listen_for_signals() -> std::io::Result<mpsc::UnboundedReceiver<Signal>> {
    let (tx, rx) = mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        tokio::spawn(async move {
            loop {
                let s = tokio::select! {
                    Some(()) = interrupt.recv() => Signal::Interrupt,
                    Some(()) = terminate.recv() => Signal::Terminate,
                    Some(()) = hangup.recv() => Signal::Hangup,
                    else => break,
                };
                if tx.send(s).is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(Signal::Interrupt).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

fn exec_error(e: ExecError) -> CmdError {
    match e {
        ExecError::Cluster(e) => CmdError::cluster(*e),
        e @ (ExecError::NoPrimaryService { .. } | ExecError::Restore(_)) => CmdError::failed(e),
        e @ (ExecError::NotFound { .. } | ExecError::Plan(_) | ExecError::NoClient(_)) => {
            CmdError::invalid(e)
        }
    }
}

fn exit_of(code: u8) -> Exit {
    match code {
        0 => Exit::Ok,
        1 => Exit::Failed,
        2 => Exit::Invalid,
        130 => Exit::Interrupted,
        _ => Exit::Cluster,
    }
}

/// Clients for the management cluster and `clusters` (SMH names), plain and streaming.
pub(crate) async fn drill_clients(
    contexts: &Contexts,
    clusters: &[String],
) -> Result<Clients, CmdError> {
    let names: Vec<ClusterName> = clusters
        .iter()
        .map(|c| ClusterName::new(c.as_str()))
        .collect();
    let mgmt_target = contexts.mgmt_target(&names)?;
    let mut targets = Vec::new();
    for n in &names {
        targets.push(contexts.cluster_target(n)?);
    }
    let mut all = vec![mgmt_target];
    all.extend(targets.iter().cloned());
    let mut built = contexts.clients(&all).await?.into_iter();
    let mgmt = built
        .next()
        .ok_or_else(|| CmdError::failed(anyhow!("no client for the management cluster")))?;
    let mut by_name = BTreeMap::new();
    let mut streaming = BTreeMap::new();
    for (n, c) in names.iter().zip(built) {
        by_name.insert(n.to_string(), c);
    }
    for (n, t) in names.iter().zip(&targets) {
        streaming.insert(n.to_string(), contexts.streaming_client(t).await?);
    }
    Ok(Clients {
        mgmt,
        clusters: by_name,
        streaming,
    })
}

/// What the drill is made from, read before anything changes.
pub struct Prepared {
    pub clients: Clients,
    pub inputs: smh_drill::Inputs,
    pub plan: DrillPlan,
}

pub async fn prepare(
    contexts: &Contexts,
    namespace: &str,
    name: &str,
    opts: &DrillOptions,
    discovery: &DiscoveryOptions,
) -> Result<Prepared, CmdError> {
    let mgmt = contexts.client(&contexts.mgmt_target(&[])?).await?;
    let fs = smh_drill::get_failover_service(&mgmt, namespace, name)
        .await
        .map_err(exec_error)?;
    let clusters = smh_drill::drill_clusters(&fs, opts).map_err(CmdError::invalid)?;
    let clients = drill_clients(contexts, &clusters).await?;
    let inputs = smh_drill::read_inputs(&clients, namespace, name, opts, discovery)
        .await
        .map_err(exec_error)?;
    let plan = inputs.plan(opts).map_err(CmdError::invalid)?;
    Ok(Prepared {
        clients,
        inputs,
        plan,
    })
}

fn restore_context(plan: &DrillPlan) -> RestoreContext {
    let now = jiff::Timestamp::now();
    RestoreContext {
        drill_id: new_drill_id(&plan.failover_service.name, now),
        failover_service: plan.failover_service.clone(),
        started_at: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

/// The report on stdout. A reader that went away (`| head`) does not change the drill's
/// exit code: the restore has run by then.
fn print_out(text: &str) -> Result<(), CmdError> {
    super::output::write_stdout(text)
}

fn render_value<T: serde::Serialize>(v: &T, format: OutputFormat) -> Result<String, CmdError> {
    match format {
        OutputFormat::Yaml => smh_core::yaml_writer::to_yaml(v).map_err(CmdError::failed),
        _ => serde_json::to_string_pretty(v)
            .map(|s| s + "\n")
            .map_err(|e| CmdError::failed(anyhow!("cannot render JSON: {e}"))),
    }
}

/// Preflight's check of the live state, narrowed to this drill: the generated objects
/// (what translation of the stored SMH objects produces, against what the clusters hold)
/// and the Istio cluster-ID problems of the clusters that call `fs` (its meshes' and
/// `probe_cluster`) and of its backing services' clusters.
pub fn generated_check(
    contexts: &Contexts,
    discovery: &DiscoveryOptions,
    fs: &FailoverService,
    probe_cluster: &str,
) -> smh_drill::GeneratedCheck {
    let (contexts, discovery, fs) = (contexts.clone(), discovery.clone(), fs.clone());
    let probe_cluster = probe_cluster.to_string();
    Arc::new(move || {
        let (contexts, discovery, fs) = (contexts.clone(), discovery.clone(), fs.clone());
        let probe_cluster = probe_cluster.clone();
        Box::pin(async move {
            let opts = StateOptions {
                discovery,
                smh_namespaces: fs.metadata.namespace.clone().into_iter().collect(),
                ..Default::default()
            };
            let live = load_state(&contexts, &opts)
                .await
                .map_err(|e| format!("reading the live state: {e}"))?;
            Ok(smh_drill::LiveFacts {
                generated: smh_drill::generated_states(&live, &fs)?,
                cluster_ids: smh_drill::cluster_id_problems(&live, &fs, &probe_cluster),
            })
        })
    })
}

/// Run the drill of FailoverService `name` with `contexts`.
pub(crate) async fn drill_async(
    contexts: &Contexts,
    s: &Settings,
    name: &str,
    flags: &DrillFlags,
    mut signals: mpsc::UnboundedReceiver<Signal>,
) -> CmdResult {
    let opts = flags.options();
    // Until the drill starts nothing changes: a signal stops at once.
    let prepared = tokio::select! {
        r = prepare(contexts, &s.namespace, name, &opts, &s.discovery) => r?,
        Some(sig) = signals.recv() => {
            return Err(CmdError::interrupted(anyhow!(
                "{sig} before the drill began; nothing was changed"
            )));
        }
    };
    let Prepared {
        clients,
        inputs,
        plan,
    } = prepared;
    let restore = restore_context(&plan);

    if flags.dry_run {
        print_out(&dry_run_text(s.output, &clients, &inputs, &plan, &restore).await?)?;
        return Ok(Exit::Ok);
    }

    // Before the banner and the confirmation: the probes' port-forward must be allowed, or
    // the baseline would fail with a transport error per probe.
    tokio::select! {
        r = smh_drill::port_forward_preflight(&clients, &plan.probe) => r.map_err(exec_error)?,
        Some(sig) = signals.recv() => {
            return Err(CmdError::interrupted(anyhow!(
                "{sig} before the drill began; nothing was changed"
            )));
        }
    }

    print_banner(&clients, &plan, &restore);
    let fs = inputs.failover_service.clone();
    let generated = generated_check(contexts, &s.discovery, &fs, &plan.probe.workload.cluster);
    let ctx = DrillContext {
        clients: Arc::new(clients),
        inputs: Arc::new(inputs),
        plan,
        restore,
        yes: s.yes,
        generated,
        retry_stats: contexts.retry().stats.clone(),
    };
    let mut observer = CliObserver::new(s, &ctx.plan);
    let result = smh_drill::run_drill(ctx, &mut observer, signals).await;
    observer.finish();

    print_report(s.output, &result, observer.mode)?;
    let code = result.exit_code();
    errln!(
        "drill {}: {}",
        result.report.drill_id,
        result.report.summary
    );
    Ok(exit_of(code))
}

/// `--dry-run`: the plan, the patches, the outlier settings and the assessment of the
/// breaks, as JSON/YAML or text.
async fn dry_run_text(
    output: Option<OutputFormat>,
    clients: &Clients,
    inputs: &smh_drill::Inputs,
    plan: &DrillPlan,
    restore: &RestoreContext,
) -> Result<String, CmdError> {
    let patches = plan
        .patches(&inputs.deployments, restore)
        .map_err(CmdError::failed)?;
    let assessment = smh_drill::assess_breaks(clients, plan, &inputs.deployments).await;
    Ok(match output {
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => render_value(
            &serde_json::json!({
                "plan": plan,
                "patches": patches,
                "outlier": inputs.backing,
                "rootNamespace": inputs.root_namespace,
                "assessment": assessment,
            }),
            f,
        )?,
        _ => render::drill::dry_run(plan, &patches, &assessment),
    })
}

/// Before anything changes: the contexts and API servers the drill will change, and the
/// deployments it breaks (with their containers, or their replica counts).
fn print_banner(clients: &Clients, plan: &DrillPlan, restore: &RestoreContext) {
    let targets = clients.targets(&plan.target_clusters());
    let deployments: Vec<String> = plan
        .targets
        .iter()
        .map(|t| match plan.break_mode {
            BreakMode::Command => format!(
                "{} (container{} {})",
                t.deployment,
                if t.containers.len() == 1 { "" } else { "s" },
                t.containers.join(", ")
            ),
            BreakMode::Scale => format!(
                "{} ({} replica{} to 0)",
                t.deployment,
                t.replicas,
                if t.replicas == 1 { "" } else { "s" }
            ),
        })
        .collect();
    err!(
        "{}",
        targets_banner(
            &targets,
            &format!(
                "Drill {} of FailoverService {}/{}: these contexts and API servers will be changed (and restored):",
                restore.drill_id, plan.failover_service.namespace, plan.failover_service.name
            )
        )
    );
    errln!("  deployments: {}", deployments.join(", "));
}

/// The report on stdout (JSON/YAML, or the text report and what the restore put back);
/// nothing in text when preflight refused or the user declined (the progress lines and the
/// summary say why).
fn print_report(
    output: Option<OutputFormat>,
    result: &smh_drill::DrillResult,
    mode: BreakMode,
) -> Result<(), CmdError> {
    let report = &result.report;
    match output {
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => print_out(&render_value(report, f)?),
        _ => match &result.outcome {
            DrillOutcome::Refused { .. } | DrillOutcome::Declined => Ok(()),
            _ => {
                let mut text = render::drill::report(report);
                if !result.restore_checks.is_empty() {
                    text.push('\n');
                    for c in &result.restore_checks {
                        if c.differences.is_empty() {
                            text.push_str(&format!(
                                "restored {}: {} as saved, annotation removed\n",
                                c.deployment,
                                restored_what(mode)
                            ));
                        } else {
                            text.push_str(&format!(
                                "NOT RESTORED {}: {}\n",
                                c.deployment,
                                c.differences.join("; ")
                            ));
                        }
                    }
                }
                print_out(&text)
            }
        },
    }
}

#[cfg(test)]
mod tests;
