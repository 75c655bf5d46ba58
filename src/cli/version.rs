//! `kubectl smh version`.

use super::{CmdResult, Exit, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_g: &GlobalArgs, _args: Args) -> CmdResult {
    println!("Client Version: v{}", env!("CARGO_PKG_VERSION"));
    Ok(Exit::Ok)
}
