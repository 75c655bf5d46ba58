//! `kubectl smh cluster register|list|deregister` (skeleton: to be implemented).

use super::{CmdError, CmdResult, GlobalArgs};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Map an SMH cluster name to a kubeconfig context.
    Register {
        name: String,
        #[arg(long)]
        context: String,
    },
    /// List the registered clusters.
    List,
    /// Remove a cluster name from the registry.
    Deregister { name: String },
}

pub fn run(_g: &GlobalArgs, _cmd: Command) -> CmdResult {
    Err(CmdError::invalid(anyhow::anyhow!(
        "`cluster` is not implemented yet"
    )))
}
