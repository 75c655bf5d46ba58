//! `kubectl smh drill NAME` and `kubectl smh drill restore NAME`: the flags.
//!
//! The drill's pure core lives in `crate::drill` (plan, state machine, preflight,
//! classification, measurements, restore patches) and its rendering in
//! `crate::render::drill`; the executor that drives them against clusters is not written
//! yet, so `run` still reports that the command is not implemented.

use std::time::Duration;

use super::{CmdError, CmdResult, GlobalArgs, parse_duration_arg};
use crate::drill::{DrillOptions, WorkloadRef};

macro_rules! examples {
    () => {
        "\
Examples:
  kubectl smh drill reviews-failover
  kubectl smh drill reviews-failover --dry-run
  kubectl smh drill reviews-failover --yes -o json --max-errors 5
  kubectl smh drill reviews-failover --break bookinfo/reviews-v1 --failover-timeout 1m
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

Safety: before the first patch, each deployment's original container command and args are \
saved on the deployment itself (annotation drill.kubectl-smh.io/restore); the restore puts \
back exactly that. Errors, failed expectations, Ctrl-C and SIGTERM restore before exiting; \
after a crash, `kubectl smh drill restore NAME` does it. The drill asks for confirmation \
unless --yes.

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
        }
    }
}

/// clap value parser: a regex that compiles, kept as its source text.
fn parse_regex_arg(s: &str) -> Result<String, String> {
    regex::Regex::new(s)
        .map(|_| s.to_string())
        .map_err(|e| format!("invalid regular expression: {e}"))
}

pub fn run(_g: &GlobalArgs, _args: Args) -> CmdResult {
    Err(CmdError::invalid(anyhow::anyhow!(
        "`drill` is not implemented yet"
    )))
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
