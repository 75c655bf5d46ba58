//! `smh-real-clusters up`: what `scripts/real-clusters up` runs.
#![allow(clippy::print_stdout, clippy::print_stderr)] // The binary's own output.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use smh_core::model::topology::MultiClusterMode;
use smh_real::fleet::{FleetOptions, RealFleet};

/// Real Kubernetes control planes on loopback, seeded like `kubectl smh demo up`.
#[derive(Parser)]
#[command(name = "scripts/real-clusters")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start two real control planes (mgmt-cluster, remote-cluster) with Istio's objects and
    /// bookinfo, write a kubeconfig for them once every Deployment is available, and serve
    /// until Ctrl-C or SIGTERM.
    Up {
        /// Where to write the kubeconfig (contexts mgmt-cluster and remote-cluster; current
        /// mgmt-cluster). Removed on exit.
        #[arg(long, value_name = "PATH")]
        kubeconfig_out: PathBuf,
        /// How the clusters' meshes reach each other, as with `kubectl smh demo up`.
        #[arg(long, value_enum, default_value_t = Mode::Global)]
        mode: Mode,
        /// Directory for certificates, etcd data and every component's log (default: a new
        /// directory under $TMPDIR). Kept on exit, without the etcd data.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// How long the clusters may take to become ready.
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        timeout: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Global,
    MultiPrimary,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Cmd::Up {
        kubeconfig_out,
        mode,
        dir,
        timeout,
    } = cli.command;
    if let Some(parent) = kubeconfig_out.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        eprintln!(
            "error: --kubeconfig-out {}: directory {} does not exist; create it first",
            kubeconfig_out.display(),
            parent.display()
        );
        return ExitCode::from(2);
    }
    let dir = match dir {
        Some(d) => d,
        None => match tempfile::Builder::new().prefix("smh-real-").tempdir() {
            Ok(d) => d.keep(),
            Err(e) => {
                eprintln!("error: creating a work directory: {e}");
                return ExitCode::from(3);
            }
        },
    };
    let opts = FleetOptions {
        mode: match mode {
            Mode::Global => MultiClusterMode::Global,
            Mode::MultiPrimary => MultiClusterMode::MultiPrimary,
        },
        dir,
        timeout: Duration::from_secs(timeout),
    };
    // `block_on` polls `up` on this (the main) thread, which starts the components, so
    // their parent-death signal fires only when the process ends.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    rt.block_on(up(opts, kubeconfig_out))
}

async fn up(opts: FleetOptions, kubeconfig_out: PathBuf) -> ExitCode {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("error: cannot handle signals");
        return ExitCode::from(3);
    };
    eprintln!(
        "Starting two real control planes in {} (logs in {}) ...",
        opts.dir.display(),
        opts.dir.join("logs").display()
    );
    let fleet = tokio::select! {
        f = RealFleet::start(&opts) => f,
        _ = term.recv() => { eprintln!("Interrupted before the clusters were ready; no kubeconfig was written."); return ExitCode::from(130) }
        _ = int.recv() => { eprintln!("Interrupted before the clusters were ready; no kubeconfig was written."); return ExitCode::from(130) }
    };
    let fleet = match fleet {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e:#}");
            eprintln!(
                "Stopped every component; logs in {}",
                opts.dir.join("logs").display()
            );
            let missing = e.downcast_ref::<smh_real::peers::Missing>().is_some();
            return ExitCode::from(if missing { 2 } else { 1 });
        }
    };
    if let Err(e) = fleet.write_kubeconfig(&kubeconfig_out) {
        eprintln!("error: {e:#}");
        return ExitCode::from(3);
    }
    println!(
        "Real clusters ready in {:.1}s (every Deployment available).",
        fleet.startup.as_secs_f64()
    );
    print!("{}", fleet.summary());
    println!(
        "kubeconfig: {} (contexts mgmt-cluster, remote-cluster)",
        kubeconfig_out.display()
    );
    println!("Serving until Ctrl-C or SIGTERM; the kubeconfig is removed on exit.");
    let code = loop {
        tokio::select! {
            _ = term.recv() => break ExitCode::SUCCESS,
            _ = int.recv() => break ExitCode::SUCCESS,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                if let Some(c) = fleet.crashed() {
                    eprintln!("error: {c}; stopping the rest");
                    break ExitCode::from(1);
                }
            }
        }
    };
    let _ = std::fs::remove_file(&kubeconfig_out);
    let logs = fleet.log_dir().to_path_buf();
    drop(fleet);
    eprintln!("Stopped every component; logs in {}", logs.display());
    code
}
