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

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::anyhow;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::{mpsc, oneshot};

use super::cluster::runtime;
use super::output::{err, errln};
use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat, parse_duration_arg};
use crate::render;
use smh_cluster::state::{StateOptions, load_state};
use smh_cluster::{ClusterName, Contexts, targets_banner};
use smh_core::drill::live::RolloutState;
use smh_core::drill::machine::DrillOutcome;
use smh_core::drill::measure::ClassChanges;
use smh_core::drill::restore::{BreakMode, PendingRestores, RestoreContext, new_drill_id};
use smh_core::drill::{
    Class, DeploymentRef, DrillOptions, DrillPlan, Phase, Signal, WorkloadRef, seconds,
};
use smh_core::inspect::discovery::DiscoveryOptions;
use smh_core::model::types::FailoverService;
use smh_drill::{
    Clients, ConfirmAnswer, Confirmation, DrillContext, ExecError, Observer, PatchKind, Progress,
};

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
pub struct Args {
    #[command(subcommand)]
    pub command: Option<DrillCommand>,

    /// The FailoverService to drill (in -n/--namespace).
    #[arg(value_name = "NAME", required_unless_present = "name_flag")]
    pub name: Option<String>,

    /// The FailoverService to drill, as a flag (for one named like a subcommand).
    #[arg(
        long = "name",
        value_name = "NAME",
        conflicts_with = "name",
        hide_short_help = true
    )]
    pub name_flag: Option<String>,

    #[command(flatten)]
    pub flags: Box<DrillFlags>,
}

impl Args {
    /// The FailoverService name, from the argument or `--name`.
    pub fn failover_service(&self) -> Option<&str> {
        self.name.as_deref().or(self.name_flag.as_deref())
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum DrillCommand {
    /// Put back what an interrupted drill changed (after a crash or SIGKILL): every
    /// deployment carrying a restore plan of this FailoverService gets its saved container
    /// command and args back. Does nothing when no restore is pending.
    Restore(RestoreArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// The FailoverService whose drill to restore (in -n/--namespace).
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Restore only what the drill with this id saved (default: every pending restore plan
    /// of NAME; `kubectl smh drill` prints its id).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,

    /// Print the restore patches; change nothing.
    #[arg(long)]
    pub dry_run: bool,
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
pub const NO_TERMINAL: &str = "kubectl smh drill asks for confirmation before it breaks deployments, and there is no terminal to ask on: pass --yes (-y) to go ahead without asking, or --dry-run to print the plan. Nothing was changed.";

/// How a drill runs: from the global flags, or set by `demo guide`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Namespace of the FailoverService.
    pub namespace: String,
    pub output: Option<OutputFormat>,
    /// Do not ask; go ahead.
    pub yes: bool,
    /// Draw progress bars (stderr is a terminal); else plain progress lines.
    pub fancy: bool,
    /// A confirmation can be asked (stdin and stderr are terminals).
    pub can_prompt: bool,
    /// `--istio-mode`, for reading the live state.
    pub discovery: DiscoveryOptions,
}

impl Settings {
    pub fn from_global(g: &GlobalArgs) -> Self {
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

pub fn run(g: &GlobalArgs, args: Args) -> CmdResult {
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
pub fn listen_for_signals() -> std::io::Result<mpsc::UnboundedReceiver<Signal>> {
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
pub async fn drill_clients(contexts: &Contexts, clusters: &[String]) -> Result<Clients, CmdError> {
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
        OutputFormat::Yaml => smh_core::yaml::to_yaml(v).map_err(CmdError::failed),
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
pub async fn drill_async(
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
        let patches = plan
            .patches(&inputs.deployments, &restore)
            .map_err(CmdError::failed)?;
        let assessment = smh_drill::assess_breaks(&clients, &plan, &inputs.deployments).await;
        let text = match s.output {
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
            _ => render::drill::dry_run(&plan, &patches, &assessment),
        };
        print_out(&text)?;
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

    let break_clusters = plan.target_clusters();
    let targets = clients.targets(&break_clusters);
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

    let fs = inputs.failover_service.clone();
    let generated = generated_check(contexts, &s.discovery, &fs, &plan.probe.workload.cluster);
    let ctx = DrillContext {
        clients: Arc::new(clients),
        inputs: Arc::new(inputs),
        plan,
        restore,
        yes: s.yes,
        generated,
    };
    let mut observer = CliObserver::new(s, &ctx.plan);
    let result = smh_drill::run_drill(ctx, &mut observer, signals).await;
    observer.finish();

    let report = &result.report;
    let plan_mode = observer.mode;
    match s.output {
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            print_out(&render_value(report, f)?)?
        }
        _ => match &result.outcome {
            // The reasons are in the progress lines and the summary below.
            DrillOutcome::Refused { .. } | DrillOutcome::Declined => {}
            _ => {
                let mut text = render::drill::report(report);
                if !result.restore_checks.is_empty() {
                    text.push('\n');
                    for c in &result.restore_checks {
                        if c.differences.is_empty() {
                            text.push_str(&format!(
                                "restored {}: {} as saved, annotation removed\n",
                                c.deployment,
                                restored_what(plan_mode)
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
                print_out(&text)?;
            }
        },
    }
    let code = result.exit_code();
    errln!("drill {}: {}", report.drill_id, report.summary);
    Ok(exit_of(code))
}

/// `kubectl smh drill restore NAME`.
pub async fn restore_async(
    contexts: &Contexts,
    namespace: &str,
    output: Option<OutputFormat>,
    r: &RestoreArgs,
) -> CmdResult {
    let mgmt = contexts.client(&contexts.mgmt_target(&[])?).await?;
    let fs = smh_drill::get_failover_service(&mgmt, namespace, &r.name)
        .await
        .map_err(exec_error)?;
    let mut clusters: Vec<String> = fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
        .map(|s| s.cluster_name.clone())
        .collect();
    clusters.sort();
    clusters.dedup();
    let clients = drill_clients(contexts, &clusters).await?;
    let fs_ref = smh_core::model::types::ObjectRef {
        name: r.name.clone(),
        namespace: namespace.to_string(),
    };
    let label = format!("{namespace}/{}", r.name);
    // A user who may not list deployments in all namespaces: the backing services'.
    let mut namespaces: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
    {
        namespaces
            .entry(s.cluster_name.clone())
            .or_default()
            .insert(s.namespace.clone());
    }
    let pending =
        smh_drill::find_pending_in(&clients, &clusters, &namespaces, &fs_ref, r.id.as_deref())
            .await
            .map_err(exec_error)?;
    let json = matches!(output, Some(OutputFormat::Json | OutputFormat::Yaml));
    if pending.plans.is_empty() && pending.unreadable.is_empty() {
        if json {
            print_out(&render_value(
                &serde_json::json!({"restored": [], "unreadable": []}),
                output.unwrap_or(OutputFormat::Json),
            )?)?;
        } else {
            let what = match &r.id {
                Some(id) => format!(" from drill {id}"),
                None => String::new(),
            };
            print_out(&format!(
                "nothing to restore: no deployment in cluster{} {} carries a restore plan of FailoverService {label}{what}\n",
                if clusters.len() == 1 { "" } else { "s" },
                clusters.join(", ")
            ))?;
        }
        return Ok(Exit::Ok);
    }
    if r.dry_run {
        let text = if json {
            render_value(
                &serde_json::json!({"wouldRestore": pending.plans, "unreadable": pending.unreadable.iter().map(|(d, why)| serde_json::json!({"deployment": d, "error": why})).collect::<Vec<_>>()}),
                output.unwrap_or(OutputFormat::Json),
            )?
        } else {
            render::drill::restore(&pending, &label, true)
        };
        print_out(&text)?;
        return Ok(Exit::Ok);
    }
    let mut touched: Vec<String> = pending
        .plans
        .iter()
        .map(|p| p.deployment.cluster.clone())
        .collect();
    touched.sort();
    touched.dedup();
    err!(
        "{}",
        targets_banner(
            &clients.targets(&touched),
            "These contexts and API servers will be changed (restoring what a drill saved):"
        )
    );
    let outcomes =
        smh_drill::restore_plans(&clients, &pending.plans, RESTORE_ROLLOUT_TIMEOUT).await;
    let failed: Vec<&smh_drill::RestoreOutcome> =
        outcomes.iter().filter(|o| o.error.is_some()).collect();
    if json {
        let v = serde_json::json!({
            "restored": outcomes,
            "unreadable": pending.unreadable.iter().map(|(d, why)| serde_json::json!({"deployment": d, "error": why})).collect::<Vec<_>>(),
        });
        print_out(&render_value(&v, output.unwrap_or(OutputFormat::Json))?)?;
    } else {
        let ok = PendingRestores {
            plans: pending
                .plans
                .iter()
                .filter(|p| {
                    outcomes
                        .iter()
                        .any(|o| o.deployment == p.deployment && o.error.is_none())
                })
                .cloned()
                .collect(),
            unreadable: pending.unreadable.clone(),
        };
        let mut text = if ok.plans.is_empty() && ok.unreadable.is_empty() {
            String::new()
        } else {
            render::drill::restore(&ok, &label, false)
        };
        for o in &outcomes {
            match (&o.error, &o.rollout) {
                (Some(e), _) => {
                    text.push_str(&format!("could not restore {}: {e}\n", o.deployment))
                }
                (None, None) => {
                    let mode = pending
                        .plans
                        .iter()
                        .find(|p| p.deployment == o.deployment)
                        .map_or(BreakMode::Command, |p| p.mode());
                    text.push_str(&format!(
                        "{}: rolled out; {} as saved\n",
                        o.deployment,
                        restored_what(mode)
                    ))
                }
                (None, Some(w)) => text.push_str(&format!("{}: restored, but {w}\n", o.deployment)),
            }
        }
        print_out(&text)?;
    }
    if !failed.is_empty() {
        return Err(CmdError::cluster(anyhow!(
            "{} of {} deployments could not be restored; run `kubectl smh drill restore {}` again",
            failed.len(),
            outcomes.len(),
            r.name
        )));
    }
    if !pending.unreadable.is_empty() {
        return Err(CmdError::failed(anyhow!(
            "{} deployment(s) carry a restore annotation that cannot be read; see above",
            pending.unreadable.len()
        )));
    }
    Ok(Exit::Ok)
}

/// What the restore put back, in words.
fn restored_what(mode: BreakMode) -> &'static str {
    match mode {
        BreakMode::Command => "command and args",
        BreakMode::Scale => "replicas",
    }
}

/// How long `drill restore` waits for each rollout.
pub const RESTORE_ROLLOUT_TIMEOUT: Duration = Duration::from_secs(120);

/// The terminal's modes while the drill draws its progress area there, put back on drop.
///
/// Two of a terminal's default modes break a redrawn progress area:
/// - `echo`: Ctrl-C is echoed as `^C` (a typed key as itself) at the cursor, which indicatif
///   leaves at the right edge of the area's last line: the echo wraps to a new line, so the
///   next redraw clears one line too low and leaves a line of the area behind;
/// - flushing on interrupt (without `noflsh`): the terminal driver discards the output the
///   terminal has not read yet when Ctrl-C is pressed, so event lines written just before a
///   second Ctrl-C can be lost, and indicatif, which counts the lines it drew, then moves
///   the cursor up over lines that are not its own and erases them.
///
/// So while the area is drawn: no `ECHO`, and `NOFLSH`, set with `tcsetattr` on stderr's
/// terminal (as `stty -echo noflsh` would). A confirmation prompt is unaffected (dialoguer
/// reads keys in raw mode and prints the answer itself). When stderr is not a terminal, or
/// its modes cannot be read, nothing is changed.
struct TerminalModes {
    /// The modes before the change.
    #[cfg(unix)]
    saved: Option<libc::termios>,
}

#[cfg(unix)]
impl TerminalModes {
    fn set() -> TerminalModes {
        use std::os::fd::AsRawFd;
        let fd = std::io::stderr().as_raw_fd();
        // SAFETY: termios is plain data, filled by tcgetattr for a valid descriptor.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: a valid descriptor and a pointer to the termios above.
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return TerminalModes { saved: None };
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::NOFLSH;
        // SAFETY: a termios read from the same descriptor, two flags changed.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
            return TerminalModes { saved: None };
        }
        TerminalModes { saved: Some(saved) }
    }

    fn restore(&mut self) {
        use std::os::fd::AsRawFd;
        if let Some(saved) = self.saved.take() {
            // SAFETY: the modes tcgetattr returned for this descriptor.
            unsafe { libc::tcsetattr(std::io::stderr().as_raw_fd(), libc::TCSANOW, &saved) };
        }
    }
}

#[cfg(not(unix))]
impl TerminalModes {
    fn set() -> TerminalModes {
        TerminalModes {}
    }

    fn restore(&mut self) {}
}

impl Drop for TerminalModes {
    fn drop(&mut self) {
        self.restore();
    }
}

/// Progress on stderr: indicatif when it is a terminal, plain timestamped lines otherwise.
struct CliObserver {
    /// How the deployments break (for the patch lines).
    mode: BreakMode,
    /// Each target's replica count before the drill (for the scale lines).
    replicas: BTreeMap<DeploymentRef, i32>,
    /// Set while the progress area is drawn (a terminal).
    modes: Option<TerminalModes>,
    can_prompt: bool,
    multi: Option<MultiProgress>,
    spinner: Option<ProgressBar>,
    rollouts: BTreeMap<DeploymentRef, ProgressBar>,
    rollout_text: BTreeMap<DeploymentRef, String>,
    phase: Phase,
    counts: [u64; 3],
    last: Option<Class>,
    changes: ClassChanges,
    prompting: Arc<AtomicBool>,
    hidden: bool,
    buffer: Vec<String>,
}

fn class_index(c: Class) -> usize {
    match c {
        Class::Primary => 0,
        Class::FailedOver => 1,
        Class::Error => 2,
    }
}

impl CliObserver {
    fn new(s: &Settings, plan: &DrillPlan) -> Self {
        // Before the first draw.
        let modes = s.fancy.then(TerminalModes::set);
        let multi = s
            .fancy
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let spinner = multi.as_ref().map(|m| {
            let pb = m.add(ProgressBar::new_spinner());
            pb.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb.enable_steady_tick(Duration::from_millis(100));
            pb
        });
        CliObserver {
            mode: plan.break_mode,
            replicas: plan
                .targets
                .iter()
                .map(|t| (t.deployment.clone(), t.replicas))
                .collect(),
            modes,
            can_prompt: s.can_prompt,
            multi,
            spinner,
            rollouts: BTreeMap::new(),
            rollout_text: BTreeMap::new(),
            phase: Phase::Preflight,
            counts: [0; 3],
            last: None,
            changes: ClassChanges::default(),
            prompting: Arc::new(AtomicBool::new(false)),
            hidden: false,
            buffer: Vec::new(),
        }
    }

    fn emit(&mut self, text: String) {
        if self.prompting.load(Ordering::SeqCst) {
            self.buffer.push(text);
            return;
        }
        self.resume();
        match &self.multi {
            Some(m) => {
                let _ = m.println(&text);
            }
            None => errln!("{text}"),
        }
    }

    /// After a prompt: show the bars again and print what came meanwhile.
    fn resume(&mut self) {
        if self.prompting.load(Ordering::SeqCst) {
            return;
        }
        if self.hidden {
            self.hidden = false;
            if let Some(m) = &self.multi {
                m.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
        for line in std::mem::take(&mut self.buffer) {
            match &self.multi {
                Some(m) => {
                    let _ = m.println(&line);
                }
                None => errln!("{line}"),
            }
        }
    }

    fn line(&mut self, at: Duration, text: impl AsRef<str>) {
        self.emit(format!("[{:>8.3}s] {}", seconds(at), text.as_ref()));
    }

    fn update_spinner(&mut self) {
        if let Some(pb) = &self.spinner {
            let last = self
                .last
                .map_or(String::new(), |c| format!(", last: {}", c.as_str()));
            pb.set_message(format!(
                "{} | answers: {} primary, {} failed over, {} error{last}",
                self.phase.as_str(),
                self.counts[0],
                self.counts[1],
                self.counts[2]
            ));
        }
    }

    fn finish(&mut self) {
        self.prompting.store(false, Ordering::SeqCst);
        self.resume();
        for pb in self.rollouts.values() {
            pb.finish_and_clear();
        }
        if let Some(pb) = self.spinner.take() {
            pb.finish_and_clear();
        }
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
        if let Some(mut modes) = self.modes.take() {
            modes.restore();
        }
    }
}

impl Observer for CliObserver {
    fn progress(&mut self, at: Duration, p: Progress<'_>) {
        self.resume();
        match p {
            Progress::Phase(t) => {
                self.phase = t.to;
                self.line(at, format!("{}: {}", t.to.as_str(), t.cause));
                if matches!(
                    t.to,
                    Phase::VerifyFailover | Phase::VerifyFailback | Phase::Report
                ) {
                    for (_, pb) in std::mem::take(&mut self.rollouts) {
                        pb.finish_and_clear();
                    }
                }
                self.update_spinner();
            }
            Progress::Note(n) => self.line(at, &n.text),
            Progress::Preflight(r) => {
                // A pass is reported by the machine's own note; refusals and notes here.
                for l in render::drill::preflight(r).lines() {
                    if l != "preflight: passed" {
                        self.line(at, l);
                    }
                }
            }
            Progress::ProbeTarget { pod, spec } => self.line(
                at,
                format!(
                    "probing: GET {} on pod {}/{pod} port {} through a port-forward, {}/s",
                    spec.path, spec.workload.namespace, spec.port, spec.rate_per_second
                ),
            ),
            Progress::Probe {
                sample, markers, ..
            } => {
                self.counts[class_index(sample.class)] += 1;
                self.last = Some(sample.class);
                // Every change of class, at the send time of its first answer, and the
                // report's first failed-over (primary again) answer.
                if let Some(change) = self.changes.push(sample, markers) {
                    self.line(at, change.to_string());
                }
                self.update_spinner();
            }
            Progress::Patched { kind, deployment } => {
                let text = match kind {
                    PatchKind::Saved => format!(
                        "saved the restore plan on {deployment} (annotation {})",
                        smh_core::consts::DRILL_RESTORE_ANNOTATION
                    ),
                    PatchKind::Broken => match self.mode {
                        BreakMode::Command => format!("broke {deployment}: command sleep 20h"),
                        BreakMode::Scale => format!("broke {deployment}: scaled to 0 replicas"),
                    },
                    PatchKind::Restored => match self.mode {
                        BreakMode::Command => format!(
                            "restored {deployment}: command and args as saved, annotation removed"
                        ),
                        BreakMode::Scale => format!(
                            "restored {deployment}: replicas as saved ({}), annotation removed",
                            self.replicas.get(deployment).copied().unwrap_or(1)
                        ),
                    },
                };
                self.line(at, text);
            }
            Progress::Rollout {
                deployment,
                state,
                counts,
            } => {
                let text = match state {
                    RolloutState::Complete => "rolled out".to_string(),
                    RolloutState::Waiting(w) | RolloutState::Failed(w) => w.clone(),
                };
                if self.rollout_text.get(deployment) == Some(&text) {
                    return;
                }
                self.rollout_text.insert(deployment.clone(), text.clone());
                if let Some(m) = &self.multi {
                    // Position and length are the counts the message names; set together
                    // with the message so that no frame mixes an old message with new counts.
                    let (pos, len) = counts.bar();
                    match self.rollouts.get(deployment) {
                        Some(pb) => {
                            // `with_message` on a handle sets the message without drawing;
                            // `update` then draws once.
                            let _ = pb.clone().with_message(text.clone());
                            pb.update(|s| {
                                s.set_len(len);
                                s.set_pos(pos);
                            });
                        }
                        None => {
                            let pb = ProgressBar::new(len)
                                .with_style(
                                    ProgressStyle::with_template(
                                        "  {prefix} [{bar:20}] {pos}/{len} {msg}",
                                    )
                                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                                )
                                .with_prefix(deployment.to_string())
                                .with_position(pos)
                                .with_message(text.clone());
                            self.rollouts.insert(deployment.clone(), m.add(pb));
                        }
                    }
                    if matches!(state, RolloutState::Complete)
                        && let Some(pb) = self.rollouts.get(deployment)
                    {
                        pb.finish_with_message("rolled out");
                    }
                }
                // With bars, only the end of a rollout is worth a line.
                if self.multi.is_none() || !matches!(state, RolloutState::Waiting(_)) {
                    self.line(at, format!("rollout of {deployment}: {text}"));
                }
            }
            Progress::Signal { signal, restoring } => {
                let text = if restoring {
                    format!(
                        "{signal} received: restoring the deployments first, please wait (another Ctrl-C does not stop the restore)"
                    )
                } else {
                    format!("{signal} received: stopping; nothing was changed")
                };
                self.line(at, text);
            }
        }
    }

    fn confirm(&mut self, c: &Confirmation) -> oneshot::Receiver<ConfirmAnswer> {
        let (tx, rx) = oneshot::channel();
        if !self.can_prompt {
            let _ = tx.send(ConfirmAnswer::Failed(NO_TERMINAL.to_string()));
            return rx;
        }
        self.prompting.store(true, Ordering::SeqCst);
        if let Some(m) = &self.multi {
            let _ = m.clear();
            m.set_draw_target(ProgressDrawTarget::hidden());
            self.hidden = true;
        }
        let contexts: Vec<String> = c
            .targets
            .iter()
            .map(|t| format!("context {} ({})", t.context, t.server))
            .collect();
        let how = match c.plan.break_mode {
            BreakMode::Command => "command: sleep 20h",
            BreakMode::Scale => "scaled to 0 replicas",
        };
        let mut text = String::new();
        if !c.warnings.is_empty() {
            text.push_str("Warnings:\n");
            for w in &c.warnings {
                text.push_str(&format!("- {w}\n"));
            }
        }
        text.push_str(&format!(
            "The drill will break {} deployment{} in {} ({how}), verify failover, then restore them exactly:\n",
            c.plan.targets.len(),
            if c.plan.targets.len() == 1 { "" } else { "s" },
            contexts.join(", ")
        ));
        for t in &c.plan.targets {
            let what = match c.plan.break_mode {
                BreakMode::Command => format!(
                    "container{} {}",
                    if t.containers.len() == 1 { "" } else { "s" },
                    t.containers.join(", ")
                ),
                BreakMode::Scale => "to 0, then back".to_string(),
            };
            text.push_str(&format!(
                "  {} ({} replica{}; {what})\n",
                t.deployment,
                t.replicas,
                if t.replicas == 1 { "" } else { "s" },
            ));
        }
        let flag = self.prompting.clone();
        // A plain thread: a prompt nobody answers must not keep the runtime from stopping.
        std::thread::spawn(move || {
            let term = dialoguer::console::Term::stderr();
            let _ = term.write_str(&text);
            let answer = match dialoguer::Confirm::new()
                .with_prompt("Break them now?")
                .default(false)
                .interact_on_opt(&term)
            {
                Ok(Some(true)) => ConfirmAnswer::Yes,
                Ok(Some(false) | None) => ConfirmAnswer::No,
                Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                    ConfirmAnswer::Interrupted
                }
                Err(e) => ConfirmAnswer::Failed(format!("asking for confirmation: {e}")),
            };
            flag.store(false, Ordering::SeqCst);
            let _ = tx.send(answer);
        });
        rx
    }
}
#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        let mut v = vec!["kubectl-smh", "drill"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v).map(|cli| match cli.command {
            Command::Drill(a) => a,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn drill_with_flags() {
        let a = parse(&[
            "reviews-failover",
            "--break",
            "bookinfo/reviews-v1",
            "--break",
            "mgmt-cluster:bookinfo/reviews-v2",
            "--probe-rate",
            "20",
            "--failover-timeout",
            "90s",
            "--max-errors",
            "5",
            "--expect-failover",
            "color=\"red\"",
            "--dry-run",
            "-o",
            "json",
        ])
        .unwrap();
        assert!(a.command.is_none());
        assert_eq!(a.failover_service(), Some("reviews-failover"));
        let o = a.flags.options();
        assert_eq!(o.breaks.len(), 2);
        assert_eq!(o.breaks[1].cluster.as_deref(), Some("mgmt-cluster"));
        assert_eq!(o.probe_rate, Some(20.0));
        assert_eq!(o.failover_timeout, Some(Duration::from_secs(90)));
        assert_eq!(o.max_errors, Some(5));
        assert_eq!(o.expect_failover.as_deref(), Some("color=\"red\""));
        assert!(a.flags.dry_run);
        assert_eq!(o.failback_timeout, None, "default computed by the plan");
    }

    #[test]
    fn restore_subcommand() {
        let a = parse(&["restore", "reviews-failover", "--id", "x-1"]).unwrap();
        match a.command {
            Some(DrillCommand::Restore(r)) => {
                assert_eq!(r.name, "reviews-failover");
                assert_eq!(r.id.as_deref(), Some("x-1"));
                assert!(!r.dry_run);
            }
            other => panic!("{other:?}"),
        }
        let a = parse(&["--name", "restore"]).unwrap();
        assert!(a.command.is_none());
        assert_eq!(a.failover_service(), Some("restore"));
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(parse(&[]).is_err(), "NAME is required");
        assert!(parse(&["restore"]).is_err(), "restore needs NAME");
        let e = parse(&["x", "--break", "Bad/Name"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid namespace"), "{e}");
        let e = parse(&["x", "--expect-primary", "(oops"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid regular expression"), "{e}");
        let e = parse(&["x", "--failover-timeout", "soon"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid duration"), "{e}");
        assert!(parse(&["restore", "x", "--break", "a/b"]).is_err());
    }

    #[test]
    fn help_reads_kubectl_smh() {
        let e = parse(&["--help"]).unwrap_err();
        let help = e.to_string();
        assert!(
            help.contains("Usage: kubectl smh drill [OPTIONS] [NAME]"),
            "{help}"
        );
        assert!(help.contains("Safety: before the first patch"), "{help}");
        assert!(help.contains("kubectl smh drill restore reviews-failover"));
        assert!(help.contains("--probe-workload"));
    }
}
