//! The `-f` inputs of the commands that read manifests (validate, translate, apply, failover
//! create): loading and validating them offline, and showing their diagnostics on stderr.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::{CmdError, GlobalArgs};
use smh_core::model::diag::{Diagnostic, Severity};
use smh_core::model::parse::{Loaded, load_paths_with};
use smh_core::model::report::dedupe_for_display;
use smh_core::model::topology::{MultiClusterMode, Topology};
use smh_core::model::validate::{ValidateOptions, validate_with};

// The `-f` flag (no doc comment: it would be taken for the commands' about text).
#[derive(Debug, Clone, clap::Args)]
pub struct Filenames {
    /// Files, directories (their .yaml, .yml and .json files, not recursing) or - for stdin.
    /// Repeatable, and comma-separated like kubectl.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        required = true,
        value_delimiter = ','
    )]
    pub filenames: Vec<PathBuf>,
}

/// Manifests read from the `-f` inputs and validated offline.
pub(crate) struct ValidatedInput {
    /// What was read; its own diagnostics are moved to [`ValidatedInput::diagnostics`].
    pub(crate) loaded: Loaded,
    /// Every problem found: reading, the topology file, validation (with positions).
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The `--topology` file, or the defaults derived from the manifests; `None` when the
    /// file could not be read (its problems are in the diagnostics).
    pub(crate) topology: Option<Topology>,
}

/// Reads `paths` (files, directories, `-`), the topology (`topology`, else derived from the
/// manifests), and validates the manifests against it as `kubectl smh validate` does.
/// `mode` (`--istio-mode`) overrides the multi-cluster mode of every mesh of the topology,
/// whether it comes from the file or from the manifests.
pub(crate) fn load_and_validate(
    paths: &[PathBuf],
    namespace: &str,
    topology: Option<&Path>,
    mode: Option<MultiClusterMode>,
) -> ValidatedInput {
    let mut loaded = load_paths_with(paths, namespace);
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    let topology = match topology {
        None => Some(Topology::from_manifests(&loaded.manifests)),
        Some(path) => match Topology::load(path) {
            Ok(t) => Some(t),
            Err(e) => {
                diagnostics.extend(e.diagnostics());
                None
            }
        },
    };
    let mut topology = topology;
    if let (Some(topology), Some(mode)) = (topology.as_mut(), mode) {
        for mesh in topology.clusters.iter_mut().filter_map(|c| c.mesh.as_mut()) {
            mesh.mode = mode;
        }
    }
    if let Some(topology) = &topology {
        let options = ValidateOptions {
            complete: false,
            rejected: loaded.rejected.clone(),
        };
        let mut found = validate_with(&loaded.manifests, topology, &options);
        loaded.fill_positions(&mut found);
        diagnostics.extend(found);
    }
    ValidatedInput {
        loaded,
        diagnostics,
        topology,
    }
}

/// Whether diagnostics on stderr may be coloured: a terminal, and no `--no-color`.
pub(crate) fn stderr_color(g: &GlobalArgs) -> bool {
    !g.no_color && std::io::stderr().is_terminal()
}

/// `error: <diagnostic>` (or `warning: ...`), the label red or yellow with `color`; no newline.
pub(crate) fn diagnostic_line(d: &Diagnostic, color: bool) -> String {
    let label = match (d.severity, color) {
        (Severity::Error, true) => "\x1b[31merror\x1b[0m",
        (Severity::Warning, true) => "\x1b[33mwarning\x1b[0m",
        (s, false) => s.as_str(),
    };
    format!("{label}: {d}")
}

/// Prints the diagnostics on stderr, one a line, duplicates shown once.
pub(crate) fn print_diagnostics(diagnostics: &[Diagnostic], color: bool) {
    let mut stderr = std::io::stderr().lock();
    for d in dedupe_for_display(diagnostics) {
        let _ = writeln!(stderr, "{}", diagnostic_line(d, color));
    }
}

/// Exit 2, `invalid input: {outcome} (N errors)`, N the errors [`print_diagnostics`]
/// shows (duplicates counted once).
pub(crate) fn invalid_input(diagnostics: &[Diagnostic], outcome: &str) -> CmdError {
    let n = dedupe_for_display(diagnostics)
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    CmdError::invalid(anyhow!(
        "invalid input: {outcome} ({n} error{})",
        if n == 1 { "" } else { "s" }
    ))
}
