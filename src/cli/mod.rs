//! The command line: clap definitions and one handler module per command. This is the only
//! layer that prints or prompts.
// The command line is the one layer that prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

pub mod exit;

pub mod apply;
pub(crate) mod check;
pub(crate) mod cluster;
pub(crate) mod completion;
pub(crate) mod demo;
pub(crate) mod describe;
pub mod drill;
pub(crate) mod failover;
pub(crate) mod failover_delete;
pub(crate) mod failover_list;
pub mod flags;
pub(crate) mod guide;
pub mod input;
pub(crate) mod install;
pub(crate) mod output;
pub mod strategy;
pub(crate) mod translate;
pub(crate) mod validate;
pub(crate) mod version;

pub use exit::{CmdError, CmdResult, Exit};

/// Service Mesh Hub style priority failover across Istio clusters.
///
/// Reads kubeconfig contexts for a management cluster and remote clusters, accepts Service
/// Mesh Hub's TrafficPolicy and FailoverService manifests (networking.smh.solo.io/v1alpha2),
/// translates them into Istio resources, applies them to every cluster that needs them, and
/// proves failover with a measured drill.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl smh",
    bin_name = "kubectl smh",
    version,
    propagate_version = true,
    after_help = "Global flags go before or after the command; a command refuses (exit 2) those it does not use.\nUse \"kubectl smh <command> --help\" for more information about a given command.\nTry \"kubectl smh demo guide\" to run Service Mesh Hub's failover guide on simulated clusters."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every command accepts, in kubectl's style; they may come before or after the command.
/// A command refuses those it does not use ([`flags::HONOURED`]).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) kubeconfig: Option<PathBuf>,

    /// Kubeconfig context of the management cluster (default: the current context).
    #[arg(long, global = true, value_name = "CTX")]
    pub(crate) mgmt_context: Option<String>,

    /// Which kubeconfig context serves a cluster name used in manifests, as NAME=CTX
    /// (repeatable; default: the registry, then a context with the same name).
    #[arg(long = "cluster", global = true, value_name = "NAME=CTX")]
    pub(crate) clusters: Vec<String>,

    /// Namespace of the SMH objects.
    #[arg(short = 'n', long, global = true, default_value = smh_core::consts::SMH_NAMESPACE)]
    pub(crate) namespace: String,

    /// Output format (default: table on a terminal; each command documents its own default).
    #[arg(short = 'o', long, global = true, value_enum)]
    pub(crate) output: Option<OutputFormat>,

    /// Istio multi-cluster mode of every mesh, instead of detecting it (translate: instead
    /// of what the topology says): `global` (SMH's `<svc>.<ns>.svc.<cluster>.global` names,
    /// istiocoredns) or `multi-primary` (Istio >= 1.8 endpoint discovery across clusters
    /// with remote secrets).
    #[arg(long, global = true, value_enum, value_name = "MODE")]
    pub(crate) istio_mode: Option<IstioMode>,

    /// How long to wait for a single API request before giving up (e.g. 10s, 1m); must be
    /// more than 0 (kubectl's `0` = no limit is not supported: give a long one, e.g. 1h).
    #[arg(long, global = true, default_value = "10s", value_parser = parse_request_timeout)]
    pub(crate) request_timeout: Duration,

    /// The total time the command may spend retrying requests that failed with a transient
    /// error (HTTP 429, 500, 502, 503, 504, no answer within --request-timeout, a dropped
    /// connection), over all its requests and clusters; 0 turns retries off. A command takes
    /// at most its own time plus this plus one --request-timeout per request being retried
    /// when it runs out (the drill's restore gets a budget of its own). Only requests that
    /// are safe to repeat are retried: reads, server-side apply, writes guarded by a
    /// resourceVersion or delete preconditions, and creates whose repeat is recognised by
    /// its 409. A cluster that has not answered yet in this command is not waited for: a
    /// refused or closed connection fails at once, a timeout is tried 3 more times.
    #[arg(long, global = true, default_value = "60s", value_parser = parse_duration_arg)]
    pub(crate) retry_timeout: Duration,

    /// Never prompt; answer yes to confirmations.
    #[arg(short = 'y', long, global = true)]
    pub(crate) yes: bool,

    /// Disable colour and symbols: coloured diagnostics, check's marks (also when NO_COLOR
    /// is set to anything but the empty string, as no-color.org says).
    #[arg(long, global = true, env = "NO_COLOR", value_parser = parse_no_color)]
    pub(crate) no_color: bool,

    /// Also list the objects that are unchanged (apply, failover create, failover delete,
    /// demo guide); with every command that talks to clusters, print each retried request
    /// (verb, resource, cluster, what the attempt got, the wait) on stderr.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// `-o` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Table,
    Yaml,
    Json,
}

/// `--istio-mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum IstioMode {
    Global,
    MultiPrimary,
}

impl From<IstioMode> for smh_core::model::topology::MultiClusterMode {
    fn from(m: IstioMode) -> Self {
        match m {
            IstioMode::Global => smh_core::model::topology::MultiClusterMode::Global,
            IstioMode::MultiPrimary => smh_core::model::topology::MultiClusterMode::MultiPrimary,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the client version (and server versions, with a reachable mgmt context).
    Version(version::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    Completion(completion::Args),
    /// Parse and validate manifests offline: SMH's rules plus lint warnings.
    #[command(long_about = validate::LONG_ABOUT)]
    Validate(validate::Args),
    /// Print the Istio objects the manifests become, for every cluster, offline.
    Translate(translate::Args),
    /// Install the SMH v1alpha2 CRDs (TrafficPolicy, FailoverService) into the mgmt cluster.
    #[command(long_about = install::LONG_ABOUT)]
    Install(install::Args),
    /// Map SMH cluster names to kubeconfig contexts.
    #[command(subcommand)]
    Cluster(cluster::Command),
    /// Validate, store, translate and apply manifests to every cluster, then write status.
    #[command(long_about = apply::LONG_ABOUT)]
    Apply(apply::Args),
    /// Create, list, delete and test FailoverServices.
    #[command(subcommand)]
    Failover(failover::Command),
    /// Describe failover services, traffic policies or meshes across all clusters.
    #[command(long_about = describe::LONG_ABOUT)]
    Describe(describe::Args),
    /// Check that everything is accepted, up to date and free of drift.
    #[command(long_about = check::LONG_ABOUT)]
    Check(check::Args),
    /// Run the guide's failover drill: break the primary, verify failover, restore, verify failback.
    Drill(drill::Args),
    /// Simulated clusters: `demo up` serves them, `demo guide` walks the whole guide on them.
    #[command(subcommand)]
    Demo(demo::Command),
}

/// clap value parser for durations (`10s`, `500ms`, `2m`).
pub(crate) fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    smh_core::model::duration::parse_duration(s)
}

/// clap value parser for `--no-color` and `NO_COLOR`: any value but the empty string turns
/// colour off (no-color.org: "regardless of its value"; `NO_COLOR=0` too). The flag itself
/// arrives as `true`.
pub(crate) fn parse_no_color(s: &str) -> Result<bool, String> {
    Ok(!s.is_empty())
}

/// clap value parser for `--request-timeout`: a duration above zero.
pub(crate) fn parse_request_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration_arg(s)?;
    if d.is_zero() {
        return Err(
            "must be more than 0 (kubectl's 0 = no limit is not supported; give a long one, e.g. 1h)"
                .into(),
        );
    }
    Ok(d)
}

/// Entry point used by `main`.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "__complete") {
        let words: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return completion::run_hidden_complete(&words);
    }
    let cli = match parse(&args) {
        Ok(cli) => cli,
        Err(Parsed::Clap(e)) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => Exit::Invalid.code(),
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
        Err(Parsed::Refused(err)) => {
            output::errln!("error: {err}");
            return err.exit.into();
        }
    };
    match run(cli) {
        Ok(exit) => exit.into(),
        // After a drill restored, or a mutating command changed things: a closed stderr must
        // not turn the exit code into a panic's.
        Err(err) => {
            output::errln!("error: {err}");
            err.exit.into()
        }
    }
}

/// Why a command line was not run.
pub enum Parsed {
    /// clap's own error, help or version.
    Clap(clap::Error),
    /// A global flag the command does not honour ([`flags::check`]).
    Refused(CmdError),
}

/// Parses a command line (`args[0]` is the program) and refuses global flags the command
/// would ignore.
pub fn parse<I, T>(args: I) -> Result<Cli, Parsed>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let command = Cli::command();
    let matches = command
        .clone()
        .try_get_matches_from(args)
        .map_err(Parsed::Clap)?;
    flags::check(&command, &matches).map_err(Parsed::Refused)?;
    Cli::from_arg_matches(&matches).map_err(Parsed::Clap)
}

/// Dispatch to the command handlers.
pub(crate) fn run(cli: Cli) -> CmdResult {
    let g = &cli.global;
    match cli.command {
        Command::Version(args) => version::run(g, args),
        Command::Completion(args) => completion::run(g, args),
        Command::Validate(args) => validate::run(g, args),
        Command::Translate(args) => translate::run(g, args),
        Command::Install(args) => install::run(g, args),
        Command::Cluster(cmd) => cluster::run(g, cmd),
        Command::Apply(args) => apply::run(g, args),
        Command::Failover(cmd) => failover::run(g, cmd),
        Command::Describe(args) => describe::run(g, args),
        Command::Check(args) => check::run(g, args),
        Command::Drill(args) => drill::run(g, args),
        Command::Demo(cmd) => demo::run(g, cmd),
    }
}

#[cfg(test)]
mod no_color_tests {
    use super::parse_no_color;

    #[test]
    fn any_non_empty_no_color_value_turns_colour_off() {
        for v in ["1", "0", "false", "no", "true", "yes"] {
            assert_eq!(parse_no_color(v), Ok(true), "{v}");
        }
        assert_eq!(parse_no_color(""), Ok(false));
    }
}
