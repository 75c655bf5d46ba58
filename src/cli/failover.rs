//! `kubectl smh failover create|list|delete|test`: `create` in [`create`], `test` in [`test`].

use super::{CmdResult, GlobalArgs};

pub(crate) mod create;
pub(crate) mod test;

// Parsed once per run: the size of `create`'s flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Create a FailoverService and the TrafficPolicies it needs (wizard on a terminal, or
    /// flags).
    #[command(long_about = create::LONG_ABOUT)]
    Create(create::Args),
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

pub(crate) fn run(g: &GlobalArgs, cmd: Command) -> CmdResult {
    match cmd {
        Command::Create(args) => create::run(g, args),
        Command::List(args) => super::failover_list::run(g, args),
        Command::Delete(args) => super::failover_delete::run(g, args),
        Command::Test(args) => test::run(g, args),
    }
}
