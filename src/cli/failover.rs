//! `kubectl smh failover create|list|delete|test`. `test` is in [`test`].

use super::{CmdError, CmdResult, GlobalArgs};

pub mod test;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a FailoverService (wizard on a terminal, or flags).
    Create { name: Option<String> },
    /// List FailoverServices in all namespaces.
    #[command(long_about = super::failover_list::LONG_ABOUT)]
    List(super::failover_list::Args),
    /// Delete a FailoverService and everything generated for it, in every cluster.
    #[command(long_about = super::failover_delete::LONG_ABOUT)]
    Delete(super::failover_delete::Args),
    /// Non-destructive test: preflight checks plus probe traffic; reports which backing
    /// service answers.
    #[command(long_about = test::LONG_ABOUT)]
    Test(test::Args),
}

pub fn run(g: &GlobalArgs, cmd: Command) -> CmdResult {
    match cmd {
        Command::List(args) => super::failover_list::run(g, args),
        Command::Delete(args) => super::failover_delete::run(g, args),
        Command::Test(args) => test::run(g, args),
        Command::Create { .. } => Err(CmdError::invalid(anyhow::anyhow!(
            "`failover create` is not implemented yet"
        ))),
    }
}
