//! `kubectl smh demo up|guide` (skeleton: to be implemented).

use super::{CmdError, CmdResult, GlobalArgs};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Start simulated clusters mgmt-cluster and remote-cluster and serve until Ctrl-C.
    Up,
    /// Walk Service Mesh Hub's failover guide on in-process simulated clusters.
    Guide,
}

pub fn run(_g: &GlobalArgs, _cmd: Command) -> CmdResult {
    Err(CmdError::invalid(anyhow::anyhow!(
        "`demo` is not implemented yet"
    )))
}
