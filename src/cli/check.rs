//! `kubectl smh check`: `meshctl check` for a tool with no controller. Collect (the live
//! state plus endpoints and istiod) → pure checks (`smh_core::inspect::check`) → render
//! (`render::check`, or the report as JSON/YAML).

use std::io::IsTerminal;

use super::cluster::runtime;
use super::describe::print_output;
use super::{CmdError, CmdResult, Exit, GlobalArgs};
use crate::render;
use smh_cluster::inspect::collect;
use smh_cluster::state::{StateError, StateOptions};
use smh_cluster::{ClusterError, Contexts};
use smh_core::inspect::check::{CheckOptions, crds_missing_report, run_checks};

pub(crate) const LONG_ABOUT: &str = "\
Check that the clusters answer, the SMH CRDs and Istio are installed where the configuration \
needs them, every FailoverService and TrafficPolicy is ACCEPTED and up to date, every \
generated Istio object is present and unmodified (and no leftover is), every FailoverService \
can fail over (backing services exist, have outlier detection, and a secondary has ready \
endpoints), and the configuration has no lint warnings.

Output is meshctl check's: a header per category, one line per check (✅/❌/⚠️ on a terminal; \
[ok]/[FAIL]/[warn]/[skip] when the output is not a terminal or with --no-color or NO_COLOR), \
and, under a failed check, what failed and a hint. -o json|yaml prints the same report.

Exit codes: 0 every check passed (warnings allowed unless --strict); 1 a check failed; 2 bad \
flags or kubeconfig; 3 the management cluster cannot be read.

Examples:
  kubectl smh check
  kubectl smh check --strict -o json";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Warnings (lint, maxEjectionPercent below 100, ...) fail the check too.
    #[arg(long)]
    pub strict: bool,
}

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let contexts = Contexts::load(&g.context_options())?;
    let rt = runtime()?;
    let opts = StateOptions {
        discovery: g.discovery_options(),
        ..Default::default()
    };
    let check_opts = CheckOptions {
        strict: args.strict,
    };
    let report = match rt.block_on(collect(&contexts, &opts, &g.namespace)) {
        Ok(c) => run_checks(&c.snapshot, &c.snapshot.drift(), check_opts),
        Err(StateError::Cluster(e @ ClusterError::SmhCrdsMissing { .. })) => {
            let target = e.target().clone();
            let version = rt.block_on(async {
                let client = contexts.client(&target).await.ok()?;
                client.server_version().await.ok().map(|v| v.git_version)
            });
            crds_missing_report(
                target.display_name(),
                version.as_deref(),
                &e.to_string(),
                check_opts,
            )
        }
        Err(e) => return Err(CmdError::from(e)),
    };
    let glyphs = !g.no_color && std::io::stdout().is_terminal();
    print_output(g.output, &report, |r| render::check::report(r, glyphs))?;
    Ok(if report.success {
        Exit::Ok
    } else {
        Exit::Failed
    })
}
