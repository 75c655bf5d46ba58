//! `kubectl smh failover create|list|delete|test` (skeleton: to be implemented).
//! `test` is in [`test`].

use super::{CmdError, CmdResult, GlobalArgs};

pub mod test;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a FailoverService (wizard on a terminal, or flags).
    Create { name: Option<String> },
    /// List FailoverServices.
    List,
    /// Delete a FailoverService and everything generated for it.
    Delete { name: String },
    /// Non-destructive test: preflight checks plus probe traffic; reports which backing
    /// service answers.
    #[command(long_about = test::LONG_ABOUT)]
    Test(test::Args),
}

pub fn run(g: &GlobalArgs, cmd: Command) -> CmdResult {
    match cmd {
        Command::Test(args) => test::run(g, args),
        _ => Err(CmdError::invalid(anyhow::anyhow!(
            "`failover` is not implemented yet"
        ))),
    }
}
