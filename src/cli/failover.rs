//! `kubectl smh failover create|list|delete|test` (skeleton: to be implemented).

use super::{CmdError, CmdResult, GlobalArgs};

pub mod create;

// Parsed once per run: the size of `create`'s flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a FailoverService and the TrafficPolicies it needs (wizard on a terminal, or
    /// flags).
    Create(create::Args),
    /// List FailoverServices.
    List,
    /// Delete a FailoverService and everything generated for it.
    Delete { name: String },
    /// Non-destructive test: preflight checks plus probe traffic.
    Test { name: String },
}

pub fn run(g: &GlobalArgs, cmd: Command) -> CmdResult {
    match cmd {
        Command::Create(args) => create::run(g, args),
        _ => Err(CmdError::invalid(anyhow::anyhow!(
            "`failover` is not implemented yet"
        ))),
    }
}
