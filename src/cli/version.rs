//! `kubectl smh version`.
//!
//! `--client` prints the client version without reading any file or starting an async
//! runtime (the target: under 5 ms). Without `--client`, the server versions of the
//! management cluster and of every explicitly mapped cluster (`--cluster` flags and the
//! registry) are asked for concurrently; with no kubeconfig at all, the client version and a
//! note are printed and the exit code is 0.

use serde::Serialize;

use super::{CmdError, CmdResult, Exit, GlobalArgs, OutputFormat};
use smh_cluster::{ClusterName, ClusterTarget, ConfigError, Contexts, KubeconfigOrigin};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print only the client version; read no kubeconfig and contact no cluster.
    #[arg(long)]
    pub client: bool,
}

const CLIENT_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionOutput {
    client_version: ClientVersion,
    /// The management cluster's version, as kubectl prints `serverVersion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    server_version: Option<ServerVersion>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    clusters: Vec<ServerVersion>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientVersion {
    git_version: &'static str,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ServerVersion {
    #[serde(flatten)]
    target: ClusterTarget,
    git_version: String,
    major: String,
    minor: String,
    platform: String,
}

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let table = !matches!(g.output, Some(OutputFormat::Json | OutputFormat::Yaml));
    // On a table, the client version comes first whatever happens next, as kubectl does.
    if table {
        println!("Client Version: {CLIENT_VERSION}");
    }
    if args.client {
        if !table {
            print_document(g, &client_only())?;
        }
        return Ok(Exit::Ok);
    }
    let origin = KubeconfigOrigin::locate(g.kubeconfig.as_deref());
    if !matches!(origin, KubeconfigOrigin::Flag(_)) && !origin.any_exists() {
        if !table {
            print_document(g, &client_only())?;
        }
        let tried: Vec<String> = origin
            .paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        eprintln!(
            "note: no kubeconfig found ({}); server versions not shown",
            if tried.is_empty() {
                "no home directory".to_string()
            } else {
                format!("looked at {}", tried.join(", "))
            }
        );
        return Ok(Exit::Ok);
    }
    let contexts = Contexts::load(&g.context_options())?;
    // Named clusters: the explicit mappings only (never every context in the kubeconfig).
    let mut names: Vec<ClusterName> = contexts.flag_mappings().keys().cloned().collect();
    names.extend(contexts.registry().entries().map(|(n, _)| n.clone()));
    names.sort();
    names.dedup();
    let mgmt = contexts.mgmt_target(&names)?;
    let mut errors: Vec<String> = Vec::new();
    let mut exit = Exit::Ok;
    let mut targets = vec![mgmt.clone()];
    for n in &names {
        match contexts.cluster_target(n) {
            Ok(t) if t.context == mgmt.context => {}
            Ok(t) => targets.push(t),
            Err(e) => {
                errors.push(e.to_string());
                exit = Exit::Invalid;
            }
        }
    }

    let rt = super::cluster::runtime()?;
    let results = rt.block_on(async {
        let clients = contexts.clients(&targets).await?;
        let asks = clients
            .iter()
            .map(|c| async move { c.server_version().await });
        Ok::<_, ConfigError>(futures::future::join_all(asks).await)
    })?;

    let mut out = client_only();
    for (t, r) in targets.iter().zip(results) {
        match r {
            Ok(info) => {
                let v = ServerVersion {
                    target: t.clone(),
                    git_version: info.git_version,
                    major: info.major,
                    minor: info.minor,
                    platform: info.platform,
                };
                if t.mgmt && out.server_version.is_none() {
                    out.server_version = Some(v);
                } else {
                    out.clusters.push(v);
                }
            }
            Err(e) => {
                errors.push(e.to_string());
                exit = Exit::Cluster;
            }
        }
    }
    out.errors = errors;
    if table {
        for v in out.server_version.iter().chain(&out.clusters) {
            println!(
                "Server Version: {} ({}; context {}, {})",
                v.git_version,
                if v.target.mgmt {
                    format!("{}, management", v.target.display_name())
                } else {
                    v.target.display_name().to_string()
                },
                v.target.context,
                v.target.server
            );
        }
    } else {
        print_document(g, &out)?;
    }
    match exit {
        Exit::Ok => Ok(Exit::Ok),
        code => Err(CmdError {
            exit: code,
            error: anyhow::anyhow!("{}", out.errors.join("\nerror: ")),
        }),
    }
}

fn client_only() -> VersionOutput {
    VersionOutput {
        client_version: ClientVersion {
            git_version: CLIENT_VERSION,
        },
        server_version: None,
        clusters: Vec::new(),
        errors: Vec::new(),
    }
}

fn print_document(g: &GlobalArgs, out: &VersionOutput) -> Result<(), CmdError> {
    match g.output {
        Some(OutputFormat::Yaml) => {
            let text = serde_saphyr::to_string(out).map_err(CmdError::failed)?;
            print!("{text}");
        }
        _ => {
            let text = serde_json::to_string_pretty(out).map_err(CmdError::failed)?;
            println!("{text}");
        }
    }
    Ok(())
}
