//! `kubectl smh describe [failoverservice|trafficpolicy|mesh] [NAME]`: what is configured
//! and how it stands, across all clusters at once. Collect (the live state plus endpoints
//! and istiod, concurrently) → pure aggregate (`smh_core::inspect::describe`) → render
//! (`render::describe`, or the same model as JSON/YAML).

use anyhow::anyhow;
use clap::ValueEnum;

use super::cluster::runtime;
use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use crate::render;
use smh_cluster::Contexts;
use smh_cluster::inspect::collect;
use smh_cluster::state::StateOptions;
use smh_core::inspect::describe::{self, DescribeDocument};
use smh_core::inspect::snapshot::Snapshot;

pub(crate) const LONG_ABOUT: &str = "\
Describe failover services, traffic policies or meshes across all clusters at once, like \
`meshctl describe` but with their health.

For each FailoverService: its hostname, port, meshes and status; then, per backing service in \
priority order, the cluster, the service, its ready endpoints out of total, the outlier \
detection in effect for callers (from the live DestinationRule, with Istio's defaults filled \
in), and whether every generated object for it is present and unmodified; then the generated \
objects, the problems in words, and the choices the translation made for the topology.

For a TrafficPolicy: its selectors resolved to traffic targets with their status, the fields \
it sets, its generated objects and their drift. For a mesh: per cluster, istiod and its Istio \
cluster ID, the Istio version, the multi-cluster mode and why, the root namespace, the cluster \
domain, the failover services it sees, and whether the cluster could be reached; in \
multi-primary mode also what is wrong with the cluster IDs (unknown, the same in two clusters, \
or a remote secret keyed by something else than the other cluster's ID) and how to fix it.

Without a kind, every FailoverService is described. Without a NAME, every object of the kind \
(in all namespaces); with a NAME, the object of that name in -n/--namespace, else in any \
namespace. A cluster that cannot be reached is shown with its error; the command fails (exit \
3) only when the management cluster cannot be read.

Examples:
  kubectl smh describe
  kubectl smh describe fs reviews-failover
  kubectl smh describe trafficpolicy mgmt-reviews-outlier -o yaml
  kubectl smh describe mesh";

/// What to describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Kind {
    /// FailoverServices (default).
    #[value(alias = "fs", alias = "failoverservices")]
    Failoverservice,
    /// TrafficPolicies.
    #[value(alias = "tp", alias = "trafficpolicies")]
    Trafficpolicy,
    /// Meshes: one per cluster.
    #[value(alias = "meshes")]
    Mesh,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What to describe: failoverservice (fs), trafficpolicy (tp) or mesh.
    #[arg(value_enum, value_name = "KIND")]
    pub kind: Option<Kind>,
    /// Only this object (for a mesh: a cluster name or an SMH mesh name).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let contexts = Contexts::load(&g.context_options())?;
    let rt = runtime()?;
    let opts = StateOptions {
        discovery: g.discovery_options(),
        include_registered: matches!(args.kind, Some(Kind::Mesh)),
        ..Default::default()
    };
    let collected = rt.block_on(collect(&contexts, &opts, &g.namespace))?;
    let doc = document(&collected.snapshot, &args, &g.namespace)?;
    let width = terminal_width();
    print_output(g.output, &doc, |d| table(d, width))?;
    Ok(Exit::Ok)
}

/// The terminal's width when stdout is one (tables then wrap to fit), else `None`.
pub(crate) fn terminal_width() -> Option<u16> {
    comfy_table::Table::new().width()
}

/// Print `value` as `-o` asks: JSON, YAML, or `table(value)` (the default).
pub(crate) fn print_output<T: serde::Serialize>(
    format: Option<OutputFormat>,
    value: &T,
    table: impl FnOnce(&T) -> String,
) -> Result<(), CmdError> {
    let out = match format.unwrap_or(OutputFormat::Table) {
        OutputFormat::Json => {
            let v = serde_json::to_value(value)
                .map_err(|e| CmdError::failed(anyhow!("cannot write JSON: {e}")))?;
            render::json::to_pretty(&v)
        }
        OutputFormat::Yaml => smh_core::yaml_writer::to_yaml(value)
            .map_err(|e| CmdError::failed(anyhow!("cannot write YAML: {e}")))?,
        OutputFormat::Table => table(value),
    };
    write_stdout(&out)
}

/// Write to stdout, ending with a newline; a closed pipe (`| head`) is not an error.
pub(crate) fn write_stdout(out: &str) -> Result<(), CmdError> {
    if out.ends_with('\n') || out.is_empty() {
        super::output::write_stdout(out)
    } else {
        super::output::write_stdout(&format!("{out}\n"))
    }
}

/// The describe document for `args` (pure). A NAME that matches nothing is invalid input.
pub(crate) fn document(
    snap: &Snapshot,
    args: &Args,
    namespace: &str,
) -> Result<DescribeDocument, CmdError> {
    let drift = snap.drift();
    let name = args.name.as_deref();
    let mut doc = DescribeDocument {
        clusters: describe::cluster_rows(snap),
        failover_services: None,
        traffic_policies: None,
        meshes: None,
    };
    match args.kind.unwrap_or(Kind::Failoverservice) {
        Kind::Failoverservice => {
            let mut list = describe::failover_services(snap, &drift, name, Some(namespace));
            if list.is_empty() && name.is_some() {
                list = describe::failover_services(snap, &drift, name, None);
            }
            if let Some(n) = name
                && list.is_empty()
            {
                return Err(not_found(
                    "FailoverService",
                    n,
                    &known_names(&snap.failover_services),
                ));
            }
            doc.failover_services = Some(list);
        }
        Kind::Trafficpolicy => {
            let mut list = describe::traffic_policies(snap, &drift, name, Some(namespace));
            if list.is_empty() && name.is_some() {
                list = describe::traffic_policies(snap, &drift, name, None);
            }
            if let Some(n) = name
                && list.is_empty()
            {
                return Err(not_found(
                    "TrafficPolicy",
                    n,
                    &known_names(&snap.traffic_policies),
                ));
            }
            doc.traffic_policies = Some(list);
        }
        Kind::Mesh => {
            let list = describe::meshes(snap, name);
            if let Some(n) = name
                && list.is_empty()
            {
                let known: Vec<String> = describe::meshes(snap, None)
                    .into_iter()
                    .flat_map(|m| std::iter::once(m.cluster).chain(m.mesh))
                    .collect();
                return Err(not_found("mesh or cluster", n, &known));
            }
            doc.meshes = Some(list);
        }
    }
    Ok(doc)
}

/// `NAMESPACE/NAME` of each object.
pub(crate) fn known_names<K: kube::Resource>(objects: &[K]) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            let meta = o.meta();
            format!(
                "{}/{}",
                meta.namespace.as_deref().unwrap_or_default(),
                meta.name.as_deref().unwrap_or_default()
            )
        })
        .collect()
}

/// `no FailoverService named "x" (there are: a/b, c/d)`: invalid input.
pub(crate) fn not_found(what: &str, name: &str, known: &[String]) -> CmdError {
    let list = if known.is_empty() {
        "there are none".to_string()
    } else {
        format!("there are: {}", known.join(", "))
    };
    CmdError::invalid(anyhow!("no {what} named {name:?} ({list})"))
}

/// The tables for a document, wrapped to `width` when given.
pub(crate) fn table(doc: &DescribeDocument, width: Option<u16>) -> String {
    if let Some(list) = &doc.failover_services {
        return render::describe::failover_services(&doc.clusters, list, width);
    }
    if let Some(list) = &doc.traffic_policies {
        return render::describe::traffic_policies(&doc.clusters, list, width);
    }
    match &doc.meshes {
        Some(list) => render::describe::meshes(list, width),
        None => String::new(),
    }
}
