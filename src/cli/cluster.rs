//! `kubectl smh cluster register|list|deregister`: the map from SMH cluster names (as
//! manifests use them in `clusterName`) to kubeconfig contexts. Also the glue every
//! cluster-facing command uses: global flags → [`ContextOptions`] / [`DiscoveryOptions`],
//! error → exit code, a tokio runtime.

use anyhow::anyhow;
use serde::Serialize;

use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use smh_cluster::state::StateError;
use smh_cluster::{
    ClusterError, ClusterName, ConfigError, ContextName, ContextOptions, Contexts, KubeconfigSet,
    Registry,
};
use smh_core::inspect::discovery::DiscoveryOptions;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Map an SMH cluster name to a kubeconfig context.
    ///
    /// Manifests name clusters (`clusterName: remote-cluster`); this records which
    /// kubeconfig context serves that name. The registry is a file in your config directory
    /// (see `kubectl smh cluster list`); `--cluster NAME=CTX` overrides it for one command.
    #[command(
        after_help = "Example:\n  kubectl smh cluster register remote-cluster --context gke_proj_europe-west1_remote"
    )]
    Register {
        /// The SMH cluster name, as used in manifests (a DNS-1123 subdomain).
        name: String,
        /// The kubeconfig context that serves this cluster.
        #[arg(long, value_name = "CTX")]
        context: String,
        /// Register the context even if it is not in the kubeconfig (yet).
        #[arg(long)]
        force: bool,
    },
    /// List the cluster names that resolve to a context, and how.
    ///
    /// SOURCE says how each name resolves: `flag` (--cluster NAME=CTX), `registry`
    /// (`cluster register`), or `same-name` (a kubeconfig context of that name; every
    /// context is listed this way unless its name is mapped otherwise).
    List,
    /// Remove a cluster name from the registry.
    Deregister {
        /// The SMH cluster name to remove.
        name: String,
    },
}

pub(crate) fn run(g: &GlobalArgs, cmd: Command) -> CmdResult {
    match cmd {
        Command::Register {
            name,
            context,
            force,
        } => register(g, &name, &context, force),
        Command::List => list(g),
        Command::Deregister { name } => deregister(&name),
    }
}

fn register(g: &GlobalArgs, name: &str, context: &str, force: bool) -> CmdResult {
    let name = ClusterName::from(name);
    name.validate().map_err(|m| CmdError::invalid(anyhow!(m)))?;
    let context = ContextName::from(context);
    if context.as_str().is_empty() {
        return Err(CmdError::invalid(anyhow!("--context must not be empty")));
    }
    let mut registry = Registry::load_default()?;
    let server = match KubeconfigSet::load(g.kubeconfig.as_deref()) {
        Ok(kc) => match kc.require(&context, "--context") {
            Ok(()) => kc.server_of(&context),
            Err(e) if !force => {
                return Err(CmdError::invalid(anyhow!(
                    "{e}\n(pass --force to register it anyway)"
                )));
            }
            Err(_) => None,
        },
        Err(e) if !force => {
            return Err(CmdError::invalid(anyhow!(
                "{e}\n(pass --force to register the context without checking it)"
            )));
        }
        Err(_) => None,
    };
    let previous = registry.insert(name.clone(), context.clone());
    let server = server
        .map(|s| format!(" ({s})"))
        .unwrap_or_else(|| " (not in the kubeconfig)".to_string());
    match previous {
        Some(prev) if prev == context => {
            println!("cluster {name} already maps to context {context}{server}; nothing changed");
            return Ok(Exit::Ok);
        }
        Some(prev) => {
            registry.save()?;
            println!("cluster {name} now maps to context {context}{server} (was {prev})");
        }
        None => {
            registry.save()?;
            println!("cluster {name} registered: context {context}{server}");
        }
    }
    eprintln!("registry: {}", registry.path().display());
    Ok(Exit::Ok)
}

fn deregister(name: &str) -> CmdResult {
    let name = ClusterName::from(name);
    let mut registry = Registry::load_default()?;
    match registry.remove(&name) {
        Some(ctx) => {
            registry.save()?;
            println!("cluster {name} deregistered (it mapped to context {ctx})");
            Ok(Exit::Ok)
        }
        None => {
            let names: Vec<String> = registry.entries().map(|(n, _)| n.to_string()).collect();
            Err(CmdError::invalid(anyhow!(
                "cluster {name} is not in the registry {} (registered: {})",
                registry.path().display(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )))
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListOutput {
    registry: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kubeconfig: Vec<String>,
    clusters: Vec<smh_cluster::context::Mapping>,
}

fn list(g: &GlobalArgs) -> CmdResult {
    let registry = Registry::load_default()?;
    let flags = smh_cluster::context::parse_cluster_flags(&g.clusters)?;
    // Without a kubeconfig the registry and flags are still worth listing.
    let (kubeconfig, note) = match KubeconfigSet::load(g.kubeconfig.as_deref()) {
        Ok(kc) => (Some(kc), None),
        Err(e @ ConfigError::NoKubeconfig { .. }) => (None, Some(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let files: Vec<String> = kubeconfig
        .as_ref()
        .map(|k| k.files().iter().map(|p| p.display().to_string()).collect())
        .unwrap_or_default();
    let rows = match kubeconfig {
        Some(kc) => Contexts::new(kc, flags, registry.clone(), None, g.request_timeout).mappings(),
        None => {
            let mut rows: Vec<smh_cluster::context::Mapping> = Vec::new();
            let mut push = |name: &ClusterName, ctx: &ContextName, source| {
                rows.retain(|r| &r.name != name);
                rows.push(smh_cluster::context::Mapping {
                    name: name.clone(),
                    context: ctx.clone(),
                    server: None,
                    source,
                    context_exists: false,
                    kubeconfig: None,
                });
            };
            for (n, c) in registry.entries() {
                push(n, c, smh_cluster::MappingSource::Registry);
            }
            for (n, c) in &flags {
                push(n, c, smh_cluster::MappingSource::Flag);
            }
            rows.sort_by(|a, b| a.name.cmp(&b.name));
            rows
        }
    };
    if let Some(note) = &note {
        eprintln!("note: {note}");
    }
    let out = ListOutput {
        registry: registry.path().display().to_string(),
        kubeconfig: files,
        clusters: rows,
    };
    match g.output {
        Some(OutputFormat::Json) => {
            let text = serde_json::to_string_pretty(&out).map_err(CmdError::failed)?;
            println!("{text}");
        }
        Some(OutputFormat::Yaml) => {
            let text = serde_saphyr::to_string(&out).map_err(CmdError::failed)?;
            print!("{text}");
        }
        Some(OutputFormat::Table) | None => {
            if out.clusters.is_empty() {
                eprintln!(
                    "No clusters: no kubeconfig contexts, nothing registered in {}.",
                    out.registry
                );
                return Ok(Exit::Ok);
            }
            let mut rows = vec![vec![
                "NAME".to_string(),
                "CONTEXT".to_string(),
                "SERVER".to_string(),
                "SOURCE".to_string(),
            ]];
            for m in &out.clusters {
                let server = match (&m.server, m.context_exists) {
                    (Some(s), true) => s.clone(),
                    (_, false) => "<context not in kubeconfig>".to_string(),
                    (None, true) => "<none>".to_string(),
                };
                rows.push(vec![
                    m.name.to_string(),
                    m.context.to_string(),
                    server,
                    m.source.to_string(),
                ]);
            }
            print!("{}", columns(&rows));
            eprintln!("registry: {}", out.registry);
        }
    }
    Ok(Exit::Ok)
}

/// kubectl-style columns: left-aligned, three spaces apart, no borders.
pub(crate) fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i > 0 {
                line.push_str("   ");
            }
            line.push_str(cell);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(widths[i].saturating_sub(cell.chars().count())));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

impl GlobalArgs {
    /// What [`Contexts::load`] needs from the global flags.
    pub fn context_options(&self) -> ContextOptions {
        ContextOptions {
            kubeconfig: self.kubeconfig.clone(),
            mgmt_context: self.mgmt_context.clone(),
            cluster_flags: self.clusters.clone(),
            request_timeout: self.request_timeout,
            retry: self.retry_options(),
        }
    }

    /// `--retry-timeout`, and with `-v` a line on stderr for each retry.
    pub fn retry_options(&self) -> smh_cluster::retry::RetryOptions {
        let log: Option<smh_cluster::retry::RetryLog> = (self.verbose > 0).then(|| {
            std::sync::Arc::new(|e: &smh_cluster::retry::RetryEvent| {
                crate::cli::output::errln!("{e}");
            }) as smh_cluster::retry::RetryLog
        });
        smh_cluster::retry::RetryOptions {
            retry_timeout: self.retry_timeout,
            log,
            ..Default::default()
        }
    }

    /// What [`smh_cluster::discovery::discover`] needs from the global flags.
    pub fn discovery_options(&self) -> DiscoveryOptions {
        DiscoveryOptions {
            mode_override: self.istio_mode.map(Into::into),
        }
    }
}

/// Kubeconfig, mapping and registry problems: exit 2. Credentials that cannot be obtained
/// (a failing exec plugin) are a cluster problem: exit 3.
impl From<ConfigError> for CmdError {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Credentials { .. } => CmdError::cluster(e),
            e => CmdError::invalid(e),
        }
    }
}

/// A cluster did not answer or refused: exit 3.
impl From<ClusterError> for CmdError {
    fn from(e: ClusterError) -> Self {
        CmdError::cluster(e)
    }
}

/// Kubeconfig problems exit 2 (credentials 3), cluster problems 3, as for the errors
/// themselves.
impl From<StateError> for CmdError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Config(e) => e.into(),
            StateError::Cluster(e) => e.into(),
        }
    }
}

/// The tokio runtime for commands that talk to clusters.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CmdError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CmdError::failed(anyhow!("cannot start the async runtime: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_like_kubectl() {
        let rows = vec![
            vec!["NAME".into(), "CONTEXT".into(), "SOURCE".into()],
            vec!["mgmt-cluster".into(), "mgmt".into(), "same-name".into()],
            vec!["r".into(), "remote-context".into(), "registry".into()],
        ];
        assert_eq!(
            columns(&rows),
            "NAME           CONTEXT          SOURCE\n\
             mgmt-cluster   mgmt             same-name\n\
             r              remote-context   registry\n"
        );
    }
}
