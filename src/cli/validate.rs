//! `kubectl smh validate`: parse and validate manifests offline, with Service Mesh Hub's
//! rules and lint warnings; every problem of every file at once.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;

use super::input::{Filenames, ValidatedInput, diagnostic_line, load_and_validate};
use super::output::write_stdout;
use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use smh_core::model::diag::{Diagnostic, Severity};
use smh_core::model::report::dedupe_for_display;
use smh_core::model::zero_loss;
use smh_core::model::{Manifest, SmhObject};

/// `kubectl smh validate` flags (the command's long help is [`LONG_ABOUT`]).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # Validate the guide's manifests
  kubectl smh validate -f examples/guide/

  # Validate against a description of your clusters, failing on warnings too
  kubectl smh validate -f failover.yaml,policies.yaml --topology topology.yaml --strict

  # Validate from stdin, machine-readable
  cat failover.yaml | kubectl smh validate -f - -o json")]
pub(crate) struct Args {
    #[command(flatten)]
    pub input: Filenames,

    /// Topology file describing the clusters, meshes and services that exist (see
    /// docs/translation.md, "Topology file"). Default: derived from the manifests.
    #[arg(long, value_name = "FILE")]
    pub topology: Option<PathBuf>,

    /// Treat warnings as errors (exit 2 when there are any).
    #[arg(long)]
    pub strict: bool,
}

pub(crate) const LONG_ABOUT: &str =
    "Check FailoverService and TrafficPolicy manifests without a cluster.

Reads every file, directory (its .yaml, .yml and .json files) and stdin (-), parses every YAML \
document, and checks: YAML syntax; types, unknown fields and metadata, as kubectl's strict \
field validation would; apiVersion networking.smh.solo.io/v1alpha2 and the kinds \
FailoverService and TrafficPolicy; every Service Mesh Hub validation rule, with SMH's messages, \
against a topology (--topology, or defaults derived from the manifests); and lint SMH never \
had, as warnings. Prints one line per problem (file:line:column, document, object, field, \
message), then a summary; -o json or -o yaml prints the problems as a list instead.

Exit status: 0 valid (warnings allowed unless --strict), 2 invalid or usage error.";

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let ValidatedInput {
        loaded,
        diagnostics,
        ..
    } = load_and_validate(
        &args.input.filenames,
        &g.namespace,
        args.topology.as_deref(),
        None,
    );
    let errors = count(&diagnostics, Severity::Error);
    let warnings = count(&diagnostics, Severity::Warning);

    let mut out = String::new();
    match g.output {
        Some(OutputFormat::Json) => {
            let json: Vec<serde_json::Value> =
                diagnostics.iter().map(Diagnostic::to_json).collect();
            let text = serde_json::to_string_pretty(&json)
                .context("rendering JSON")
                .map_err(CmdError::failed)?;
            out.push_str(&text);
            out.push('\n');
        }
        Some(OutputFormat::Yaml) => {
            let json: Vec<serde_json::Value> =
                diagnostics.iter().map(Diagnostic::to_json).collect();
            if json.is_empty() {
                out.push_str("[]\n");
            } else {
                let text = serde_saphyr::to_string(&json)
                    .context("rendering YAML")
                    .map_err(CmdError::failed)?;
                out.push_str(&text);
            }
        }
        Some(OutputFormat::Table) | None => {
            let color = !g.no_color && std::io::stdout().is_terminal();
            let shown = dedupe_for_display(&diagnostics);
            for d in &shown {
                out.push_str(&diagnostic_line(d, color));
                out.push('\n');
            }
            let files = loaded.inputs.len();
            let objects = describe_objects(&loaded.manifests);
            let shown_errors = shown
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let shown_warnings = shown.len() - shown_errors;
            let summary = if errors > 0 {
                format!(
                    "{}, {} in {}",
                    plural(shown_errors, "error", "errors"),
                    plural(shown_warnings, "warning", "warnings"),
                    plural(files, "file", "files")
                )
            } else if warnings > 0 {
                format!(
                    "{} in {}; {} valid{}",
                    plural(shown_warnings, "warning", "warnings"),
                    plural(files, "file", "files"),
                    objects,
                    if args.strict {
                        " but --strict fails on warnings"
                    } else {
                        ""
                    }
                )
            } else {
                format!("OK: {objects} valid in {}", plural(files, "file", "files"))
            };
            for line in zero_loss::suggestions(&loaded.manifests) {
                out.push_str(&format!("suggestion: {line}\n"));
            }
            out.push_str(&summary);
            out.push('\n');
        }
    }
    let exit = if errors > 0 || (args.strict && warnings > 0) {
        Exit::Invalid
    } else {
        Exit::Ok
    };
    // A closed pipe (`| head`) is not worth a message; the exit status still tells.
    write_stdout(&out)?;
    Ok(exit)
}

fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .count()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1 FailoverService and 2 TrafficPolicies`.
fn describe_objects(manifests: &[Manifest]) -> String {
    let fs = manifests
        .iter()
        .filter(|m| matches!(m.object, SmhObject::FailoverService(_)))
        .count();
    let tp = manifests.len() - fs;
    match (fs, tp) {
        (0, 0) => "no objects".to_string(),
        (f, 0) => plural(f, "FailoverService", "FailoverServices"),
        (0, t) => plural(t, "TrafficPolicy", "TrafficPolicies"),
        (f, t) => format!(
            "{} and {}",
            plural(f, "FailoverService", "FailoverServices"),
            plural(t, "TrafficPolicy", "TrafficPolicies")
        ),
    }
}
