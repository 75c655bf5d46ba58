//! `kubectl smh translate`: print the Istio objects the manifests become, for every cluster,
//! offline.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;

use super::input::{
    Filenames, ValidatedInput, invalid_input, load_and_validate, print_diagnostics, stderr_color,
};
use super::output::write_stdout;
use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use crate::render;
use smh_core::model::diag::{Diagnostic, Severity};
use smh_core::translate::{TranslateOptions, translate_with};

/// Print the Istio objects that FailoverServices and TrafficPolicies become, offline.
///
/// Reads every file, directory (its .yaml, .yml and .json files) and stdin (-), validates
/// the manifests as `kubectl smh validate` does, and translates them for the clusters of the
/// topology (--topology, or defaults derived from the manifests; --istio-mode sets the
/// multi-cluster mode of every mesh in either): for FailoverServices, ServiceEntries plus
/// EnvoyFilter aggregate clusters or, with the native strategy, DestinationRule
/// failoverPriority subsets plus VirtualServices (--strategy); DestinationRules and
/// VirtualServices for TrafficPolicies, named, namespaced and labelled as Service Mesh Hub did. Each object
/// is labelled cluster.multicluster.solo.io=CLUSTER, the cluster to apply it to.
///
/// Output: a YAML stream (default) or a JSON v1 List, sorted by cluster, kind, namespace and
/// name. Invalid input: the problems on stderr, nothing on stdout, exit status 2.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # The guide's objects, for every cluster
  kubectl smh translate -f examples/guide/

  # For your clusters, as JSON
  kubectl smh translate -f failover.yaml,policies.yaml --topology topology.yaml -o json

  # Apply what one cluster needs
  kubectl smh translate -f examples/guide/ --only-cluster mgmt-cluster | kubectl --context mgmt apply -f -

  # As Istio multi-primary clusters would need them, whatever the topology says
  kubectl smh translate -f examples/guide/ --istio-mode multi-primary

  # Why each topology-dependent choice was made (on stderr)
  kubectl smh translate -f examples/guide/ --explain > /dev/null

  # Istio's own failoverPriority instead of an EnvoyFilter (multi-primary)
  kubectl smh translate -f examples/guide/ --istio-mode multi-primary --strategy native")]
pub(crate) struct Args {
    #[command(flatten)]
    pub input: Filenames,

    /// Topology file describing the clusters, meshes and services that exist (see
    /// docs/translation.md, "Topology file"). Default: derived from the manifests.
    #[arg(long, value_name = "FILE")]
    pub topology: Option<PathBuf>,

    /// Print only the objects for this cluster (repeatable).
    #[arg(long = "only-cluster", value_name = "CLUSTER")]
    pub only_clusters: Vec<String>,

    /// Also print, on stderr, every choice that depends on the topology (each
    /// FailoverService's strategy and why, multi-cluster mode, aggregate cluster config type,
    /// hosts).
    #[arg(long)]
    pub explain: bool,

    /// How FailoverServices are translated: `native` (Istio's DestinationRule
    /// failoverPriority and a VirtualService route, no EnvoyFilter; Istio multi-primary
    /// only, an error where it cannot keep the FailoverService's order exactly),
    /// `aggregate` (Service Mesh Hub's ServiceEntry and EnvoyFilter aggregate cluster), or
    /// `auto`: native where it is exact, else aggregate. A FailoverService's annotation
    /// failover.kubectl-smh.io/strategy pins its own.
    #[arg(long, value_enum, value_name = "STRATEGY", default_value = "auto")]
    pub strategy: super::strategy::StrategyArg,
}

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let format = match g.output {
        None | Some(OutputFormat::Yaml) => OutputFormat::Yaml,
        Some(OutputFormat::Json) => OutputFormat::Json,
        Some(OutputFormat::Table) => {
            return Err(CmdError::invalid(anyhow!(
                "translate prints Kubernetes objects: use -o yaml (the default) or -o json"
            )));
        }
    };

    let ValidatedInput {
        loaded,
        mut diagnostics,
        topology,
    } = load_and_validate(
        &args.input.filenames,
        &g.namespace,
        args.topology.as_deref(),
        g.istio_mode.map(Into::into),
    );

    let color = stderr_color(g);
    let (Some(topology), false) = (topology, has_errors(&diagnostics)) else {
        print_diagnostics(&diagnostics, color);
        return Err(invalid_input(&diagnostics, "nothing translated"));
    };

    for c in &args.only_clusters {
        if topology.cluster(c).is_none() {
            let known: Vec<&str> = topology.clusters.iter().map(|c| c.name.as_str()).collect();
            return Err(CmdError::invalid(anyhow!(
                "--only-cluster {c}: no such cluster in the topology (clusters: {})",
                known.join(", ")
            )));
        }
    }

    let options = TranslateOptions {
        strategy: args.strategy.into(),
    };
    let translation = translate_with(&loaded.manifests, &topology, options);
    let mut translated = translation.diagnostics.clone();
    loaded.fill_positions(&mut translated);
    diagnostics.extend(translated);
    if has_errors(&diagnostics) {
        print_diagnostics(&diagnostics, color);
        return Err(CmdError::invalid(anyhow!(
            "the manifests cannot be translated for this topology; nothing printed"
        )));
    }
    print_diagnostics(&diagnostics, color);
    if args.explain {
        let mut stderr = std::io::stderr().lock();
        for e in &translation.explanations {
            if args.only_clusters.is_empty() || args.only_clusters.contains(&e.cluster) {
                let _ = writeln!(stderr, "# {e}");
            }
        }
    }

    let only: BTreeSet<&str> = args.only_clusters.iter().map(String::as_str).collect();
    let values: Vec<serde_json::Value> = translation
        .objects
        .iter()
        .filter(|o| only.is_empty() || only.contains(o.cluster.as_str()))
        .map(|o| o.to_value())
        .collect();
    let out = match format {
        OutputFormat::Json => render::json::to_list(&values),
        _ => smh_core::yaml_writer::to_yaml_stream(&values).map_err(CmdError::failed)?,
    };
    write_stdout(&out)?;
    Ok(Exit::Ok)
}

fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}
