//! `kubectl smh failover create|list|delete|test` (skeleton: to be implemented).

use super::{CmdError, CmdResult, GlobalArgs};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a FailoverService (wizard on a terminal, or flags).
    Create { name: Option<String> },
    /// List FailoverServices.
    List,
    /// Delete a FailoverService and everything generated for it.
    Delete { name: String },
    /// Non-destructive test: preflight checks plus probe traffic.
    Test { name: String },
}

pub fn run(_g: &GlobalArgs, _cmd: Command) -> CmdResult {
    Err(CmdError::invalid(anyhow::anyhow!(
        "`failover` is not implemented yet"
    )))
}
