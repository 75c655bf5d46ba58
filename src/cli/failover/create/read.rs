//! Reading the clusters for `failover create`: which clusters (mapped by `--cluster` or the
//! registry, or contexts the user picks), their live state, and what could not be read.

use std::collections::BTreeSet;

use anyhow::anyhow;

use crate::cli::output::errln;
use crate::cli::{CmdError, GlobalArgs};
use smh_cluster::state::{LiveState, StateOptions, load_state};
use smh_cluster::{ClusterName, ContextName, Contexts};
use smh_core::inspect::state::mesh_cluster;
use smh_core::model::Manifest;
use smh_core::model::build::CreateOptions;

use super::wizard;

/// Things the user should know before choosing: clusters that were not read.
pub(super) fn read_warnings(s: &LiveState) -> Vec<String> {
    let mut out = Vec::new();
    for (c, e) in &s.errors {
        match s.stale.get(c) {
            Some(at) => out.push(format!(
                "cluster {c} could not be read, so its services are as discovered at {at}: {e}"
            )),
            None => out.push(format!(
                "cluster {c} could not be read, so its services are not offered: {e}"
            )),
        }
    }
    for (c, e) in &s.unresolved {
        out.push(format!("cluster {c} is not used: {e}"));
    }
    for (id, why) in &s.unreadable {
        out.push(format!(
            "{id} in the management cluster cannot be read: {why}"
        ));
    }
    out
}

/// Whether neither `--cluster` nor the registry maps a cluster name.
pub(super) fn nothing_mapped(contexts: &Contexts) -> bool {
    contexts.flag_mappings().is_empty() && contexts.registry().is_empty()
}

/// The kubeconfig contexts the wizard offers to read, in the kubeconfig's (sorted) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContextChoices {
    /// `(context, label)`: contexts whose name can be a cluster name.
    pub(crate) offered: Vec<(ContextName, String)>,
    /// Indexes into `offered` checked at first: the management context.
    pub(crate) preselected: Vec<usize>,
    /// Contexts whose name cannot be a cluster name (`gke_project_zone_name`): to be mapped
    /// with `--cluster NAME=CTX` or `cluster register`.
    pub(crate) unusable: Vec<ContextName>,
}

/// Which contexts to offer: each that can stand for a cluster of the same name, labelled
/// with its API server; the management context checked. Pure.
pub(super) fn context_choices(
    contexts: &[ContextName],
    server_of: impl Fn(&ContextName) -> Option<String>,
    mgmt: Option<&ContextName>,
) -> ContextChoices {
    let mut out = ContextChoices {
        offered: Vec::new(),
        preselected: Vec::new(),
        unusable: Vec::new(),
    };
    let width = contexts.iter().map(|c| c.as_str().len()).max().unwrap_or(0);
    for c in contexts {
        if ClusterName::new(c.as_str()).validate().is_err() {
            out.unusable.push(c.clone());
            continue;
        }
        let server = server_of(c).unwrap_or_else(|| "(no server)".to_string());
        let mut label = format!("{:width$}  {server}", c.as_str());
        if mgmt == Some(c) {
            out.preselected.push(out.offered.len());
            label.push_str("  (management)");
        }
        out.offered.push((c.clone(), label));
    }
    out
}

/// Asks which kubeconfig contexts to read (each as the cluster of the same name). With
/// `--yes` nothing is asked: exit 2, naming --cluster.
pub(super) fn choose_contexts(
    contexts: &Contexts,
    yes: bool,
) -> Result<Vec<ClusterName>, CmdError> {
    const MAP: &str = "name the clusters with --cluster NAME=CTX (repeatable), or register them with `kubectl smh cluster register NAME --context CTX`";
    if yes {
        return Err(CmdError::invalid(anyhow!(
            "failover create --yes does not ask which kubeconfig contexts to read, and neither --cluster nor the registry maps a cluster: {MAP}; nothing was read or changed"
        )));
    }
    let kubeconfig = contexts.kubeconfig();
    let mgmt = contexts.mgmt_context().ok();
    let choices = context_choices(
        &kubeconfig.contexts(),
        |c| kubeconfig.server_of(c),
        mgmt.as_ref(),
    );
    if !choices.unusable.is_empty() {
        let names: Vec<&str> = choices.unusable.iter().map(|c| c.as_str()).collect();
        errln!(
            "note: not offered, as their names cannot be cluster names (lowercase letters, digits, '-' and '.', at most 63): {}; map them with --cluster NAME=CTX",
            names.join(", ")
        );
    }
    if choices.offered.is_empty() {
        return Err(CmdError::invalid(anyhow!(
            "no kubeconfig context can stand for a cluster of the same name: {MAP}; nothing was read or changed"
        )));
    }
    let picked = match wizard::Wizard::new().choose_contexts(&choices) {
        Ok(p) => p,
        Err(wizard::WizardError::Cancelled) => {
            return Err(CmdError::interrupted(anyhow!(
                "cancelled: nothing was changed"
            )));
        }
        Err(e) => return Err(CmdError::invalid(anyhow!("{e}; nothing was changed"))),
    };
    if picked.is_empty() {
        return Err(CmdError::invalid(anyhow!(
            "no kubeconfig context chosen: choose at least one, or {MAP}; nothing was read or changed"
        )));
    }
    Ok(picked
        .into_iter()
        .map(|i| ClusterName::new(choices.offered[i].0.as_str()))
        .collect())
}

/// The clusters to read: those the flags name, plus `chosen` (the contexts picked in the
/// wizard). The state adds the clusters the stored objects name and those `--cluster` maps
/// (and, with `include_registered`, the registered ones). Never a context nobody chose.
pub(super) fn clusters_to_read(opts: &CreateOptions, chosen: &[ClusterName]) -> Vec<ClusterName> {
    let mut names: BTreeSet<ClusterName> = opts
        .backing
        .iter()
        .chain(&opts.shift_from)
        .map(|r| ClusterName::new(r.cluster_name.as_str()))
        .collect();
    let known: BTreeSet<String> = names.iter().map(|c| c.as_str().to_string()).collect();
    for m in &opts.meshes {
        if let Some(c) = mesh_cluster(&m.name, &known) {
            names.insert(ClusterName::new(c));
        }
    }
    names.extend(chosen.iter().cloned());
    names.into_iter().collect()
}

/// The apply engine's view of the clusters, with `overlay` (the new objects) added;
/// `wizard`: also the registered clusters (the wizard offers their services).
pub(super) async fn load(
    contexts: &Contexts,
    g: &GlobalArgs,
    opts: &CreateOptions,
    wizard: bool,
    chosen: &[ClusterName],
    overlay: Vec<Manifest>,
) -> Result<LiveState, CmdError> {
    Ok(load_state(
        contexts,
        &StateOptions {
            discovery: g.discovery_options(),
            extra_clusters: clusters_to_read(opts, chosen),
            include_registered: wizard,
            overlay,
            ..StateOptions::default()
        },
    )
    .await?)
}
