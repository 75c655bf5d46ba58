//! `kubectl smh demo up|guide`: simulated clusters on this machine.
//!
//! `demo up` starts `mgmt-cluster` and `remote-cluster` (each a Kubernetes API server on
//! 127.0.0.1 on a free port), waits until every Deployment in both is available (and every
//! Service's Endpoints list its pods; with `--ambient`, the DaemonSets too, and the waypoints
//! and east-west gateways have their addresses), then writes a kubeconfig for them, prints what to run
//! next and serves until Ctrl-C or SIGTERM. If the clusters are not ready within
//! `--ready-timeout`, it stops them, writes nothing and exits 3 naming what was pending; Ctrl-C
//! while it waits exits 130, writing nothing. The kubeconfig goes to `./smh-demo.kubeconfig`
//! unless `--kubeconfig-out` says otherwise; it is written to a temporary file and renamed, so
//! a script can wait for it to appear. On exit it is removed (it points at servers that are
//! gone), unless something else replaced it meanwhile. An existing file at that path is only
//! ever replaced if a previous `demo up` wrote it.

#[cfg(feature = "demo")]
use std::collections::BTreeMap;
#[cfg(feature = "demo")]
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
#[cfg(feature = "demo")]
use std::time::Instant;

#[cfg(feature = "demo")]
use anyhow::Context;
use anyhow::anyhow;

use super::{CmdError, CmdResult, Exit, GlobalArgs, parse_duration_arg};
use smh_core::model::topology::MultiClusterMode;
#[cfg(feature = "demo")]
use smh_sim::cluster::ClusterOptions;
#[cfg(feature = "demo")]
use smh_sim::faults::{ErrorKind, FaultConfig, Unreachable, parse_error_rate};
#[cfg(feature = "demo")]
use smh_sim::fleet::{
    FleetOptions, KUBECONFIG_MARKER, SimFleet, ambient_bookinfo_world, bookinfo_world,
};
#[cfg(feature = "demo")]
use smh_sim::store::Gvr;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Start simulated clusters mgmt-cluster and remote-cluster and serve until Ctrl-C.
    ///
    /// Each cluster is a Kubernetes API server on 127.0.0.1 (plain HTTP, bearer tokens and
    /// RBAC; the kubeconfig's user is a cluster admin, and so is a request without
    /// credentials, as kubectl sends over plain HTTP) with Istio's networking CRDs;
    /// mgmt-cluster also has the SMH v1alpha2 CRDs and the service-mesh-hub namespace.
    /// kubectl and kubectl smh work against them through the kubeconfig this command writes
    /// once every Deployment in both clusters is available.
    Up(UpArgs),
    /// Walk Service Mesh Hub's failover guide on in-process simulated clusters: apply its
    /// three manifests, show the statuses, reload productpage, run the failover drill.
    Guide(super::guide::GuideArgs),
    /// Print the guide's three manifests (outlier detection, FailoverService, traffic shift)
    /// as one YAML stream, e.g. `kubectl smh demo manifests | kubectl smh apply -f -`.
    Manifests,
}

/// Flags of `kubectl smh demo up`.
#[derive(Debug, clap::Args)]
pub(crate) struct UpArgs {
    /// Where to write the kubeconfig (contexts mgmt-cluster and remote-cluster, current:
    /// mgmt-cluster). It appears once every Deployment in both clusters is available, and is
    /// removed on exit.
    #[arg(long, value_name = "PATH", default_value = "smh-demo.kubeconfig")]
    pub kubeconfig_out: PathBuf,

    /// How long to wait for every Deployment to become available before giving up (exit 3,
    /// no kubeconfig written). Default: 60s plus --rollout-delay.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub ready_timeout: Option<Duration>,

    /// How long a new pod takes to become ready in the simulated clusters (e.g. 500ms, 2s).
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_duration_arg)]
    pub rollout_delay: Duration,

    /// Delay every API request of a cluster, as CLUSTER=DURATION, e.g.
    /// remote-cluster=50ms (repeatable).
    #[arg(long = "latency", value_name = "CLUSTER=DURATION")]
    pub latency: Vec<String>,

    /// Fail a share of a cluster's API requests, as CLUSTER=RATE[:KIND], e.g.
    /// remote-cluster=0.2:500 or remote-cluster=10%:429. KIND is 500 (InternalError, the
    /// default), 429 (TooManyRequests with Retry-After: 1), 503 (ServiceUnavailable with
    /// Retry-After: 1), timeout (never answered) or close (carried out, then the connection
    /// closes in the middle of the answer; for a watch, in the middle of its first event).
    /// Repeatable; the rates of different kinds add up.
    #[arg(long = "error-rate", value_name = "CLUSTER=RATE[:KIND]")]
    pub error_rate: Vec<String>,

    /// Make a cluster's API server stop answering, as CLUSTER or CLUSTER=MODE. MODE hang (the
    /// default) accepts connections and never answers; close closes them at once
    /// (repeatable).
    #[arg(long, value_name = "CLUSTER[=MODE]")]
    pub unreachable: Vec<String>,

    /// Answer every API request of a cluster 503 with Retry-After: 1 for a while after it
    /// starts, as a control plane under rollout does, as CLUSTER=DURATION, e.g.
    /// mgmt-cluster=20s (repeatable).
    #[arg(long, value_name = "CLUSTER=DURATION")]
    pub unavailable: Vec<String>,

    /// How the clusters' meshes reach each other: global (SMH's federated
    /// `name.ns.svc.<cluster>.global` names) or multi-primary (one `cluster.local` name with
    /// endpoints from both clusters). Default: global, or multi-primary with --ambient.
    #[arg(long, value_enum)]
    pub mode: Option<DemoMode>,

    /// Install Istio in ambient mode instead of with sidecars, in both clusters: ztunnel and
    /// istio-cni (DaemonSets in istio-system), istiod with PILOT_ENABLE_AMBIENT as Istio's
    /// ambient profile sets it, the Gateway API CRDs, and bookinfo without sidecars (its
    /// namespace labelled istio.io/dataplane-mode=ambient) using the waypoint
    /// bookinfo/waypoint (label istio.io/use-waypoint on the namespace; the waypoint accepts
    /// Services and ServiceEntries from every namespace). Across the two clusters it is
    /// Istio's ambient multicluster install (Istio 1.27 or later): each cluster on its own
    /// network (network1, network2), istiod with AMBIENT_ENABLE_MULTI_NETWORK=true and the
    /// ambient profile's serviceScopeConfigs (Services labelled istio.io/global=true are
    /// global; every bookinfo Service is), and an east-west gateway
    /// istio-system/istio-eastwestgateway in each cluster. The meshes are multi-primary:
    /// `--mode global` is refused, as SMH's `.global` federation sends traffic through the
    /// ingress gateways' mTLS passthrough port, a sidecar-era path that ambient traffic
    /// (HBONE through ztunnel and waypoints) does not take, and that kubectl-smh cannot
    /// translate for ambient (the aggregate strategy has no effect on waypoints).
    #[arg(long)]
    pub ambient: bool,

    /// Istio version on istiod's and the proxies' images (e.g. 1.8.6 or 1.24.2). Default:
    /// 1.24.2, or 1.28.1 with --ambient (Istio's ambient mode spans clusters from 1.27).
    #[arg(long, value_name = "VERSION")]
    pub istio_version: Option<String>,

    /// Istio's cluster ID of a cluster, as CLUSTER=ID, e.g. mgmt-cluster=east (repeatable):
    /// istiod's CLUSTER_ID (what values.global.multiCluster.clusterName sets), the label
    /// topology.istio.io/cluster on its endpoints, and the key of the other cluster's remote
    /// secret for it. Default: mgmt-cluster=cluster1, remote-cluster=cluster2 (IDs that
    /// differ from the SMH cluster names, as on most real installs).
    #[arg(long = "istio-cluster-id", value_name = "CLUSTER=ID")]
    pub istio_cluster_id: Vec<String>,
}

/// Why `demo up` and `demo guide` refuse in a build without the cargo feature `demo`.
#[cfg(not(feature = "demo"))]
pub(crate) const WITHOUT_SIMULATOR: &str = "this kubectl-smh was built without the simulated clusters \
     (cargo feature `demo`): `demo up` and `demo guide` need them; install it with the default \
     features (`cargo install --path .`). `demo manifests` works without them";

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoMode {
    Global,
    MultiPrimary,
}

impl From<DemoMode> for MultiClusterMode {
    fn from(m: DemoMode) -> Self {
        match m {
            DemoMode::Global => MultiClusterMode::Global,
            DemoMode::MultiPrimary => MultiClusterMode::MultiPrimary,
        }
    }
}

pub(crate) fn run(g: &GlobalArgs, cmd: Command) -> CmdResult {
    match cmd {
        #[cfg(feature = "demo")]
        Command::Up(args) => up(args),
        #[cfg(feature = "demo")]
        Command::Guide(args) => super::guide::run(g, args),
        #[cfg(not(feature = "demo"))]
        Command::Up(_) | Command::Guide(_) => {
            let _ = g;
            Err(CmdError::invalid(anyhow!(WITHOUT_SIMULATOR)))
        }
        Command::Manifests => {
            super::output::write_stdout(&super::guide::manifests_stream())?;
            Ok(Exit::Ok)
        }
    }
}

#[cfg(feature = "demo")]
fn split_flag<'a>(
    flag: &str,
    value: &'a str,
    clusters: &[String],
) -> anyhow::Result<(&'a str, Option<&'a str>)> {
    let (cluster, rest) = match value.split_once('=') {
        Some((c, r)) => (c, Some(r)),
        None => (value, None),
    };
    if !clusters.iter().any(|c| c == cluster) {
        return Err(anyhow!(
            "--{flag} {value}: unknown cluster {cluster:?} (the demo clusters are {})",
            clusters.join(", ")
        ));
    }
    Ok((cluster, rest))
}

#[cfg(feature = "demo")]
/// The Istio cluster IDs from `demo up`'s `--istio-cluster-id` flags, by cluster. Any
/// label value will do (duplicates too: two clusters installed without
/// `values.global.multiCluster.clusterName` both have `Kubernetes`).
pub(crate) fn parse_cluster_id_flags(
    values: &[String],
    clusters: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for v in values {
        let (c, id) = split_flag("istio-cluster-id", v, clusters)?;
        let id = id.filter(|id| !id.is_empty()).ok_or_else(|| {
            anyhow!("--istio-cluster-id {v}: expected CLUSTER=ID, e.g. mgmt-cluster=east")
        })?;
        let errs = smh_core::model::k8s::is_valid_label_value(id);
        if !errs.is_empty() {
            return Err(anyhow!(
                "--istio-cluster-id {v}: {id:?} is not a valid Istio cluster ID (it is the value of the label topology.istio.io/cluster): {}",
                errs.join(", ")
            ));
        }
        out.insert(c.to_string(), id.to_string());
    }
    Ok(out)
}

#[cfg(feature = "demo")]
/// The fault settings per cluster from `demo up`'s flags.
pub(crate) fn parse_fault_flags(
    args: &UpArgs,
    clusters: &[String],
) -> anyhow::Result<BTreeMap<String, FaultConfig>> {
    let mut out: BTreeMap<String, FaultConfig> = BTreeMap::new();
    for v in &args.latency {
        let (c, d) = split_flag("latency", v, clusters)?;
        let d = d.ok_or_else(|| {
            anyhow!("--latency {v}: expected CLUSTER=DURATION, e.g. remote-cluster=50ms")
        })?;
        let d = smh_core::model::duration::parse_duration(d)
            .map_err(|e| anyhow!("--latency {v}: {e}"))?;
        out.entry(c.to_string()).or_default().latency = d;
    }
    for v in &args.error_rate {
        let (c, r) = split_flag("error-rate", v, clusters)?;
        let r = r.ok_or_else(|| {
            anyhow!("--error-rate {v}: expected CLUSTER=RATE[:KIND], e.g. remote-cluster=0.2:500")
        })?;
        let (rate, kind) = parse_error_rate(r).map_err(|e| anyhow!("--error-rate {v}: {e}"))?;
        let cfg = out.entry(c.to_string()).or_default();
        cfg.errors.retain(|(_, k)| *k != kind);
        cfg.errors.push((rate, kind));
        let total: f64 = cfg.errors.iter().map(|(r, _)| r).sum();
        if total > 1.0 + 1e-9 {
            return Err(anyhow!(
                "--error-rate: the rates for {c} add up to more than 1 ({total})"
            ));
        }
    }
    for v in &args.unreachable {
        let (c, m) = split_flag("unreachable", v, clusters)?;
        let mode = match m {
            None => Unreachable::Hang,
            Some(m) => m
                .parse::<Unreachable>()
                .map_err(|e| anyhow!("--unreachable {v}: {e}"))?,
        };
        out.entry(c.to_string()).or_default().unreachable = Some(mode);
    }
    for v in &args.unavailable {
        let (c, d) = split_flag("unavailable", v, clusters)?;
        let d = d.ok_or_else(|| {
            anyhow!("--unavailable {v}: expected CLUSTER=DURATION, e.g. mgmt-cluster=20s")
        })?;
        let d = smh_core::model::duration::parse_duration(d)
            .map_err(|e| anyhow!("--unavailable {v}: {e}"))?;
        out.entry(c.to_string()).or_default().unavailable_for = d;
    }
    Ok(out)
}

#[cfg(feature = "demo")]
fn describe_faults(f: &FaultConfig) -> String {
    let mut parts = Vec::new();
    if !f.latency.is_zero() {
        parts.push(format!("latency {:?}", f.latency));
    }
    let mut errors = f.errors.clone();
    errors.sort_by_key(|a| a.1);
    for (rate, kind) in errors {
        let what = match kind {
            ErrorKind::Internal => "answered 500",
            ErrorKind::TooManyRequests => "answered 429",
            ErrorKind::Unavailable => "answered 503",
            ErrorKind::Timeout => "never answered",
            ErrorKind::Close => "cut off mid-answer",
        };
        parts.push(format!("{:.0}% of requests {what}", rate * 100.0));
    }
    if let Some(u) = f.unreachable {
        parts.push(match u {
            Unreachable::Hang => "unreachable (connections hang)".to_string(),
            Unreachable::Close => "unreachable (connections closed)".to_string(),
        });
    }
    if !f.unavailable_for.is_zero() {
        parts.push(format!(
            "every request answered 503 for the first {:?}",
            f.unavailable_for
        ));
    }
    parts.join(", ")
}

#[cfg(feature = "demo")]
fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.starts_with(KUBECONFIG_MARKER))
}

#[cfg(feature = "demo")]
/// The first API server of a demo kubeconfig that still accepts connections: the file then
/// belongs to a demo that is running, and overwriting it (and removing it on exit) would leave
/// that demo without one. Demo servers are on loopback, so a refused connection is immediate.
fn live_server(path: &Path) -> Option<String> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path).ok()?;
    kubeconfig
        .clusters
        .iter()
        .filter_map(|c| c.cluster.as_ref()?.server.clone())
        .find(|server| {
            let Some(addr) = server
                .strip_prefix("http://")
                .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
            else {
                return false;
            };
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500))
                .is_ok()
        })
}

#[cfg(feature = "demo")]
/// The multi-cluster mode `demo up` runs: `--mode`, else global, or multi-primary with
/// `--ambient`, which refuses global (see the flag's help).
fn demo_mode(args: &UpArgs) -> anyhow::Result<DemoMode> {
    match (args.mode, args.ambient) {
        (Some(DemoMode::Global), true) => Err(anyhow!(
            "--ambient with --mode global: SMH's .global federation sends traffic through each \
             cluster's ingress gateway on its mTLS passthrough port (15443), a sidecar-era path \
             that ambient traffic (HBONE, through ztunnel and waypoints) does not take, and \
             kubectl-smh cannot translate a FailoverService for it in ambient mode (the \
             aggregate strategy's EnvoyFilter has no effect on waypoints); use --ambient alone \
             (multi-primary)"
        )),
        (Some(m), _) => Ok(m),
        (None, true) => Ok(DemoMode::MultiPrimary),
        (None, false) => Ok(DemoMode::Global),
    }
}

#[cfg(feature = "demo")]
/// The Istio version `demo up` installs: `--istio-version`, else 1.24.2, or with `--ambient`
/// [`AMBIENT_ISTIO_VERSION`](smh_sim::world::ambient::AMBIENT_ISTIO_VERSION) (ambient mode
/// spans clusters from Istio 1.27).
fn demo_istio_version(args: &UpArgs) -> String {
    match &args.istio_version {
        Some(v) => v.clone(),
        None if args.ambient => smh_sim::world::ambient::AMBIENT_ISTIO_VERSION.to_string(),
        None => DEFAULT_ISTIO_VERSION.to_string(),
    }
}

#[cfg(feature = "demo")]
fn up(args: UpArgs) -> CmdResult {
    let mut opts = FleetOptions::demo();
    let names: Vec<String> = opts.clusters.iter().map(|c| c.name.clone()).collect();
    let faults = parse_fault_flags(&args, &names).map_err(CmdError::invalid)?;
    let cluster_ids =
        parse_cluster_id_flags(&args.istio_cluster_id, &names).map_err(CmdError::invalid)?;
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = args.rollout_delay;
        if let Some(f) = faults.get(&c.name) {
            c.faults = f.clone();
        }
        if let Some(id) = cluster_ids.get(&c.name) {
            c.istio_cluster_id = Some(id.clone());
        }
    }
    let istio_version = demo_istio_version(&args);
    let version_ok = {
        let parts: Vec<&str> = istio_version.split('.').collect();
        (2..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    if !version_ok {
        return Err(CmdError::invalid(anyhow!(
            "--istio-version {istio_version:?}: expected a version like 1.24.2"
        )));
    }
    let mode = demo_mode(&args).map_err(CmdError::invalid)?;
    opts.hooks.push(if args.ambient {
        ambient_bookinfo_world(&istio_version)
    } else {
        bookinfo_world(mode.into(), &istio_version)
    });
    let ready_timeout = args
        .ready_timeout
        .unwrap_or(DEFAULT_READY_TIMEOUT + args.rollout_delay);
    let path = args.kubeconfig_out.clone();
    check_kubeconfig_dir(&path)?;
    if path.exists() {
        if !is_ours(&path) {
            return Err(CmdError::invalid(anyhow!(
                "{} exists and was not written by `kubectl smh demo up`; choose another path with --kubeconfig-out",
                path.display()
            )));
        }
        if let Some(server) = live_server(&path) {
            return Err(CmdError::invalid(anyhow!(
                "{} belongs to a `kubectl smh demo up` that is still serving ({server} answers); \
                 stop that one first (Ctrl-C), or choose another path with --kubeconfig-out",
                path.display()
            )));
        }
        // A stale file from an earlier run: remove it so nobody mistakes it for this run's.
        std::fs::remove_file(&path)
            .with_context(|| format!("removing the stale kubeconfig {}", path.display()))
            .map_err(CmdError::invalid)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
        .map_err(CmdError::failed)?;
    rt.block_on(serve(opts, path, ready_timeout))
}

#[cfg(feature = "demo")]
/// Refuse, before any cluster starts, a `--kubeconfig-out` whose directory does not exist:
/// otherwise the clusters would start, become ready and only then fail to write the file.
fn check_kubeconfig_dir(path: &std::path::Path) -> Result<(), CmdError> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.is_dir() {
        return Ok(());
    }
    Err(CmdError::invalid(anyhow!(
        "--kubeconfig-out {}: the directory {} does not exist; create it (mkdir -p {}) or \
         choose another path",
        path.display(),
        dir.display(),
        dir.display()
    )))
}

#[cfg(feature = "demo")]
/// `--istio-version` without the flag and without `--ambient`.
const DEFAULT_ISTIO_VERSION: &str = "1.24.2";

#[cfg(feature = "demo")]
/// `--ready-timeout` without the flag: this plus `--rollout-delay`.
const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);

#[cfg(feature = "demo")]
async fn serve(opts: FleetOptions, path: PathBuf, ready_timeout: Duration) -> CmdResult {
    let started = Instant::now();
    // Listen for Ctrl-C and SIGTERM before anything starts, so neither kills us half-way.
    let mut stop = StopSignals::new()
        .context("listening for Ctrl-C and SIGTERM")
        .map_err(CmdError::failed)?;
    let cluster_opts: Vec<ClusterOptions> = opts.clusters.clone();
    let fleet = SimFleet::start(opts)
        .await
        .context("starting the simulated clusters")
        .map_err(CmdError::cluster)?;
    let answered_in = started.elapsed();
    eprintln!(
        "The API servers answer ({} ms); waiting until every Deployment is available...",
        answered_in.as_millis()
    );
    // The kubeconfig is what tells a user (or a script) the demo can be used: it is written
    // only once bookinfo, istiod and the gateways are available in both clusters.
    let ready = tokio::select! {
        r = fleet.wait_ready(ready_timeout) => r,
        _ = stop.wait() => {
            fleet.shutdown().await;
            eprintln!("Interrupted before the clusters were ready; no kubeconfig was written.");
            return Ok(Exit::Interrupted);
        }
    };
    if let Err(e) = ready {
        fleet.shutdown().await;
        return Err(CmdError::cluster(anyhow!(
            "{e}; stopped the clusters and wrote no kubeconfig. Raise --ready-timeout (now {}) \
             if this machine is busy, or lower --rollout-delay",
            smh_core::drill::human(ready_timeout)
        )));
    }
    let ready_in = started.elapsed();
    fleet
        .write_kubeconfig(&path)
        .map_err(|e| CmdError::invalid(anyhow!(e)))?;
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    let shown = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let productpage = fleet.clusters().first().and_then(productpage_url);

    println!(
        "Simulated clusters are up: API servers answering after {} ms, every Deployment \
         available after {} ms:",
        answered_in.as_millis(),
        ready_in.as_millis()
    );
    for (c, o) in fleet.clusters().iter().zip(&cluster_opts) {
        print_cluster(c, o);
    }
    println!();
    println!(
        "Kubeconfig: {} (contexts {}; current: {})",
        shown.display(),
        fleet
            .clusters()
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(" and "),
        fleet
            .clusters()
            .first()
            .map(|c| c.name())
            .unwrap_or_default()
    );
    println!();
    println!("Next, in another terminal:");
    println!("  export KUBECONFIG={}", shown.display());
    println!("  kubectl get pods -n bookinfo");
    if Path::new("examples/guide").is_dir() {
        println!("  kubectl smh apply -f examples/guide/");
    } else {
        println!("  kubectl smh demo manifests | kubectl smh apply -f -");
    }
    if let Some(url) = productpage {
        println!();
        println!("bookinfo's productpage: {url}");
        println!("or, as the guide does it, then open http://localhost:9080/productpage:");
        println!("  kubectl -n bookinfo port-forward deployments/productpage-v1 9080");
    }
    println!();
    println!("Serving until Ctrl-C or SIGTERM; the kubeconfig is removed on exit.");

    stop.wait().await;
    fleet.shutdown().await;
    if std::fs::read_to_string(&path).is_ok_and(|now| now == written) {
        let _ = std::fs::remove_file(&path);
    }
    eprintln!("Stopped the simulated clusters.");
    Ok(Exit::Ok)
}

#[cfg(feature = "demo")]
/// `demo up`'s lines about one cluster: its API server, bookinfo, Istio cluster ID, ambient
/// waypoint and east-west gateway, faults.
fn print_cluster(c: &smh_sim::cluster::SimCluster, o: &ClusterOptions) {
    let crds = if o.smh_crds {
        "Istio and SMH CRDs"
    } else {
        "Istio CRDs"
    };
    let (deployments, _) = c
        .store()
        .list(&Gvr::new("apps", "v1", "deployments"), Some("bookinfo"));
    let names: Vec<&str> = deployments
        .iter()
        .filter_map(|d| d.pointer("/metadata/name").and_then(|n| n.as_str()))
        .collect();
    println!("  {:<15} {}   ({crds})", c.name(), c.url());
    if !names.is_empty() {
        println!("  {:<15} bookinfo: {}", "", names.join(", "));
    }
    println!(
        "  {:<15} Istio cluster ID: {} (istiod's CLUSTER_ID)",
        "",
        smh_sim::world::mesh::inputs::istiod_cluster_id(&c.store(), c.name())
    );
    if let Some(addr) = waypoint_address(c) {
        println!(
            "  {:<15} Istio ambient mode: ztunnel; bookinfo uses waypoint bookinfo/waypoint ({addr})",
            ""
        );
    }
    if let Some((network, addr)) = east_west_gateway(c) {
        println!(
            "  {:<15} Istio network {network}: east-west gateway istio-system/{} ({addr})",
            "",
            smh_sim::world::ambient::EAST_WEST_GATEWAY
        );
    }
    if !o.faults.is_clear() {
        println!("  {:<15} faults: {}", "", describe_faults(&o.faults));
    }
}

#[cfg(feature = "demo")]
/// The address of the waypoint `bookinfo/waypoint` (`demo up --ambient`), once istiod has
/// reported its proxy ready.
fn waypoint_address(c: &smh_sim::cluster::SimCluster) -> Option<String> {
    let gw = c.store().get(
        &Gvr::new("gateway.networking.k8s.io", "v1", "gateways"),
        "bookinfo",
        "waypoint",
    )?;
    gw.pointer("/status/addresses/0/value")
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

#[cfg(feature = "demo")]
/// The network and address of the east-west gateway `istio-system/istio-eastwestgateway`
/// (`demo up --ambient`), once istiod reports its load balancer's address.
fn east_west_gateway(c: &smh_sim::cluster::SimCluster) -> Option<(String, String)> {
    let gw = c.store().get(
        &Gvr::new("gateway.networking.k8s.io", "v1", "gateways"),
        "istio-system",
        smh_sim::world::ambient::EAST_WEST_GATEWAY,
    )?;
    let network = gw
        .pointer("/metadata/labels/topology.istio.io~1network")
        .and_then(|v| v.as_str())?;
    let addr = gw
        .pointer("/status/addresses/0/value")
        .and_then(|v| v.as_str())?;
    Some((network.to_string(), addr.to_string()))
}

#[cfg(feature = "demo")]
/// The loopback address of a ready productpage pod's port 9080 (the clusters are ready, so
/// productpage-v1 is available), if the cluster runs one.
fn productpage_url(c: &smh_sim::cluster::SimCluster) -> Option<String> {
    let (items, _) = c
        .store()
        .list(&Gvr::new("", "v1", "pods"), Some("bookinfo"));
    items.iter().find_map(|p| {
        let ready = p
            .pointer("/status/conditions")
            .and_then(|v| v.as_array())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.get("type").and_then(|v| v.as_str()) == Some("Ready")
                        && c.get("status").and_then(|v| v.as_str()) == Some("True")
                })
            });
        let productpage =
            p.pointer("/metadata/labels/app").and_then(|v| v.as_str()) == Some("productpage");
        let ip = p.pointer("/status/podIP").and_then(|v| v.as_str())?;
        let addr = c.net().resolve(ip, 9080).filter(|_| ready && productpage)?;
        Some(format!("http://{addr}/productpage"))
    })
}

#[cfg(feature = "demo")]
/// Ctrl-C and SIGTERM, registered when created.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

#[cfg(feature = "demo")]
impl StopSignals {
    fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(feature = "demo")]
#[cfg(test)]
mod tests;

#[cfg(all(test, not(feature = "demo")))]
mod without_simulator_tests {
    use super::super::{Exit, Parsed, parse, run};

    /// A build without the simulator refuses `demo up` and `demo guide` (exit 2, saying why)
    /// and still prints the guide's manifests.
    #[test]
    fn demo_up_and_guide_refuse_without_the_simulator() {
        for args in [
            &["kubectl-smh", "demo", "up"][..],
            &["kubectl-smh", "demo", "guide"],
        ] {
            let cli = match parse(args) {
                Ok(cli) => cli,
                Err(Parsed::Clap(e)) => panic!("{e}"),
                Err(Parsed::Refused(e)) => panic!("{e}"),
            };
            let err = run(cli).expect_err("refused");
            assert_eq!(err.exit, Exit::Invalid, "{args:?}");
            assert!(
                err.to_string()
                    .contains("built without the simulated clusters"),
                "{err}"
            );
        }
        let cli = match parse(["kubectl-smh", "demo", "manifests"]) {
            Ok(cli) => cli,
            Err(_) => panic!("demo manifests parses"),
        };
        assert_eq!(run(cli).unwrap(), Exit::Ok);
    }
}
