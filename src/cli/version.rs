//! `kubectl smh version`.
//!
//! The client-only path (`--client`, or no reachable kubeconfig) must stay fast: no tokio
//! runtime, no file reads (DESIGN §6: under 5 ms and 10 MiB; see `benches/startup.rs`).

use super::{CmdResult, Exit, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print only the client version; do not contact any cluster.
    #[arg(long)]
    pub client: bool,
}

pub fn run(_g: &GlobalArgs, _args: Args) -> CmdResult {
    println!("Client Version: v{}", env!("CARGO_PKG_VERSION"));
    Ok(Exit::Ok)
}
