//! `kubectl smh translate` (skeleton: to be implemented).

use super::{CmdError, CmdResult, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_g: &GlobalArgs, _args: Args) -> CmdResult {
    Err(CmdError::invalid(anyhow::anyhow!(
        "`translate` is not implemented yet"
    )))
}
