//! `kubectl smh demo guide`: Service Mesh Hub's "Failover Service" guide, end to end, on
//! simulated clusters started in this process.
//!
//! It starts `mgmt-cluster` and `remote-cluster` with bookinfo in SMH's layout, writes a
//! kubeconfig for them into a temporary directory, and then runs the real commands on them
//! as the guide's steps: `kubectl smh apply` for each of the guide's three manifests
//! (embedded in the binary, so this works from any directory), the statuses the guide shows
//! (`kubectl get ... -o yaml`), the productpage reloads (no stars or black stars), and the
//! guide's patch-and-verify failover as `kubectl smh drill reviews-failover --yes` (these are
//! the demo's own clusters, so it does not ask). Then it stops the clusters and removes the
//! temporary directory. Exit status: the drill's.

#[cfg(feature = "demo")]
use std::path::{Path, PathBuf};
use std::time::Duration;
#[cfg(feature = "demo")]
use std::time::Instant;

#[cfg(feature = "demo")]
use anyhow::anyhow;
#[cfg(feature = "demo")]
use kube::api::{Api, DynamicObject, ListParams};
#[cfg(feature = "demo")]
use kube::core::{ApiResource, GroupVersionKind};
#[cfg(feature = "demo")]
use serde_json::{Value, json};

use super::demo::DemoMode;
use super::parse_duration_arg;
#[cfg(feature = "demo")]
use super::{CmdError, CmdResult, Exit, GlobalArgs};
#[cfg(feature = "demo")]
use smh_cluster::probe::{Prober, pick_pod};
#[cfg(feature = "demo")]
use smh_cluster::{ContextOptions, Contexts};
#[cfg(feature = "demo")]
use smh_core::drill::classify::Classifier;
#[cfg(feature = "demo")]
use smh_core::model::types::{FailoverService, TrafficPolicy};
#[cfg(feature = "demo")]
use smh_sim::fleet::{FleetOptions, MGMT_CLUSTER, REMOTE_CLUSTER, SimFleet, bookinfo_world};

/// Flags of `kubectl smh demo guide`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GuideArgs {
    /// How long a new pod takes to become ready in the simulated clusters; the drill's two
    /// rollouts take about this long each.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration_arg)]
    pub rollout_delay: Duration,

    /// How the simulated meshes reach each other: global (SMH's federated
    /// `name.ns.svc.<cluster>.global` names, as in the guide) or multi-primary.
    #[arg(long, value_enum, default_value_t = DemoMode::Global)]
    pub mode: DemoMode,
}

/// The guide's manifests, in order: file name, what the guide calls the step, the object
/// whose status the guide shows.
const STEPS: [(&str, &str, &str); 3] = [
    (
        "1-outlier-detection.yaml",
        include_str!("../../examples/guide/1-outlier-detection.yaml"),
        "trafficpolicy/mgmt-reviews-outlier",
    ),
    (
        "2-failover-service.yaml",
        include_str!("../../examples/guide/2-failover-service.yaml"),
        "failoverservice/reviews-failover",
    ),
    (
        "3-traffic-shift.yaml",
        include_str!("../../examples/guide/3-traffic-shift.yaml"),
        "",
    ),
];

#[cfg(feature = "demo")]
const RULE: &str = "────────────────────────────────────────────────────────────────────────────";

#[cfg(feature = "demo")]
fn heading(title: &str) {
    println!("\n{RULE}\n{title}\n{RULE}\n");
}

#[cfg(feature = "demo")]
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}\n"))
        .collect::<String>()
}

#[cfg(feature = "demo")]
pub(crate) fn run(g: &GlobalArgs, args: GuideArgs) -> CmdResult {
    let dir = TempDir::new()
        .map_err(|e| CmdError::failed(anyhow!("creating a temporary directory: {e}")))?;
    let rt = super::cluster::runtime()?;
    let result = guide(g, &args, &rt, dir.path());
    if let Some(fleet) = result.1 {
        rt.block_on(fleet.shutdown());
        println!("\nStopped the simulated clusters.");
    }
    rt.shutdown_background();
    drop(dir);
    result.0
}

/// Runs the guide; returns its result and the fleet to stop.
#[cfg(feature = "demo")]
fn guide(
    g: &GlobalArgs,
    args: &GuideArgs,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
) -> (CmdResult, Option<SimFleet>) {
    println!(
        "kubectl smh demo guide: Service Mesh Hub's \"Failover Service\" guide, every step, on two"
    );
    println!("simulated clusters that run inside this process (nothing else is touched).");
    heading("Before you begin: the clusters");
    let started = Instant::now();
    let mut opts = FleetOptions::demo();
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = args.rollout_delay;
    }
    opts.hooks.push(bookinfo_world(args.mode.into(), "1.24.2"));
    let fleet = match rt.block_on(SimFleet::start(opts)) {
        Ok(f) => f,
        Err(e) => {
            return (
                Err(CmdError::cluster(anyhow!(
                    "starting the simulated clusters: {e}"
                ))),
                None,
            );
        }
    };
    let r = walk(g, args, rt, dir, &fleet, started);
    (r, Some(fleet))
}

#[cfg(feature = "demo")]
fn walk(
    g: &GlobalArgs,
    args: &GuideArgs,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    fleet: &SimFleet,
    started: Instant,
) -> CmdResult {
    let kubeconfig = dir.join("kubeconfig");
    fleet
        .write_kubeconfig(&kubeconfig)
        .map_err(|e| CmdError::failed(anyhow!("{e}")))?;
    // The demo's own kubeconfig, and its clusters mapped by flag, so that the user's
    // kubeconfig and cluster registry play no part.
    let mut gg = g.clone();
    gg.kubeconfig = Some(kubeconfig.clone());
    gg.mgmt_context = Some(MGMT_CLUSTER.into());
    gg.clusters = vec![
        format!("{MGMT_CLUSTER}={MGMT_CLUSTER}"),
        format!("{REMOTE_CLUSTER}={REMOTE_CLUSTER}"),
    ];
    gg.namespace = smh_core::consts::SMH_NAMESPACE.into();
    gg.yes = true;
    gg.output = None;
    let contexts = Contexts::load(&ContextOptions {
        kubeconfig: Some(kubeconfig.clone()),
        mgmt_context: gg.mgmt_context.clone(),
        cluster_flags: gg.clusters.clone(),
        request_timeout: gg.request_timeout,
        retry: gg.retry_options(),
    })?;

    // Every Deployment available and every Service's Endpoints current, as `demo up`
    // waits before it writes its kubeconfig.
    rt.block_on(fleet.wait_ready(Duration::from_secs(60) + args.rollout_delay))
        .map_err(|e| CmdError::cluster(anyhow!("{e}")))?;
    print_clusters(rt, fleet, args, started, &kubeconfig);
    let applied = apply_step_by_step(&gg, rt, dir, &contexts)?;
    if applied != Exit::Ok {
        return Ok(applied);
    }

    println!(
        "\nReloading the productpage (through a port-forward to productpage-v1, as the guide's"
    );
    println!("`kubectl -n bookinfo port-forward deployments/productpage-v1 9080` would):\n");
    rt.block_on(reload_productpage(fleet, 6))?;
    println!(
        "\nNo stars or black stars: the FailoverService routes to its first service, in mgmt-cluster."
    );

    println!(
        "\nWhat is configured and how it stands, across both clusters (the guide's `meshctl describe`):"
    );
    println!("\n$ kubectl smh describe failoverservice reviews-failover\n");
    let described = super::describe::run(
        &gg,
        super::describe::Args {
            kind: Some(super::describe::Kind::Failoverservice),
            name: Some("reviews-failover".into()),
        },
    )?;
    if described != Exit::Ok {
        return Ok(described);
    }

    drill_and_conclude(&gg)
}

/// The clusters, their URLs and deployments, how long they took, the mesh mode (and the
/// Istio cluster IDs in multi-primary mode), and the kubeconfig.
#[cfg(feature = "demo")]
fn print_clusters(
    rt: &tokio::runtime::Runtime,
    fleet: &SimFleet,
    args: &GuideArgs,
    started: Instant,
    kubeconfig: &Path,
) {
    for c in fleet.clusters() {
        let names = rt.block_on(deployment_names(fleet, c.name()));
        println!(
            "  {:<15} {}   bookinfo: {}",
            c.name(),
            c.url(),
            names.join(", ")
        );
    }
    println!(
        "\n  up in {:.1}s; new pods take {} to become ready; mesh mode: {}",
        started.elapsed().as_secs_f64(),
        smh_core::drill::human(args.rollout_delay),
        match args.mode {
            DemoMode::Global => "SMH's federated .global names",
            DemoMode::MultiPrimary => "multi-primary",
        }
    );
    if args.mode == DemoMode::MultiPrimary {
        let ids: Vec<String> = fleet
            .clusters()
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c.name(),
                    smh_sim::world::mesh::inputs::istiod_cluster_id(&c.store(), c.name())
                )
            })
            .collect();
        println!(
            "  Istio cluster IDs (istiod's CLUSTER_ID, what the subsets select): {}",
            ids.join(", ")
        );
    }
    println!(
        "  kubeconfig: {} (removed at the end)",
        kubeconfig.display()
    );
    println!(
        "\nAs in the guide, reviews-v1 and reviews-v2 run only in mgmt-cluster and reviews-v3"
    );
    println!("(red stars) only in remote-cluster.");
}

/// The guide's three configuration steps: each manifest shown, written under `dir` and
/// applied, then the status the guide shows. Stops at the first apply that does not exit 0
/// (its exit code).
#[cfg(feature = "demo")]
fn apply_step_by_step(
    gg: &GlobalArgs,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    contexts: &Contexts,
) -> CmdResult {
    let guide_dir = dir.join("examples/guide");
    std::fs::create_dir_all(&guide_dir)
        .map_err(|e| CmdError::failed(anyhow!("writing the guide's manifests: {e}")))?;
    let titles = [
        "1. Configure Outlier Detection",
        "2. Create the FailoverService",
        "3. Demonstrating Failover Functionality",
    ];
    let intros = [
        "The services of a FailoverService need outlier detection, set by a TrafficPolicy\n(consecutiveErrors: 1, to trigger failover easily):",
        "The FailoverService: reviews on mgmt-cluster first, reviews on remote-cluster second:",
        "A traffic shift sends every request for reviews to the FailoverService:",
    ];
    for (i, (file, text, shown)) in STEPS.iter().enumerate() {
        heading(titles[i]);
        println!("{}\n", intros[i]);
        print!("{}", indent(text));
        let path = guide_dir.join(file);
        std::fs::write(&path, text)
            .map_err(|e| CmdError::failed(anyhow!("writing {}: {e}", path.display())))?;
        println!("\n$ kubectl smh apply -f examples/guide/{file}");
        let applied = super::apply::run(
            gg,
            super::apply::Args {
                input: super::input::Filenames {
                    filenames: vec![path.clone()],
                },
                dry_run: super::apply::DryRun::None,
                diff: false,
                prune: true,
                strategy: super::strategy::StrategyArg::Auto,
            },
        )?;
        if applied != Exit::Ok {
            return Ok(applied);
        }
        if !shown.is_empty() {
            let ns = smh_core::consts::SMH_NAMESPACE;
            println!(
                "\n$ kubectl -n {ns} get {shown} -o yaml   (its status, as the guide shows it)"
            );
            print!("{}", indent(&rt.block_on(status_yaml(contexts, shown))?));
        }
    }
    Ok(Exit::Ok)
}

/// Step 4: the drill, then what the guide has shown (or that the drill did not pass).
#[cfg(feature = "demo")]
fn drill_and_conclude(gg: &GlobalArgs) -> CmdResult {
    heading("4. Trigger the failover, see it, restore (the drill)");
    println!(
        "The guide patches reviews-v1 and reviews-v2 to run `sleep 20h`, reloads the page until"
    );
    println!(
        "it shows red stars, then removes the command again. `kubectl smh drill` does exactly"
    );
    println!("that, measured: it probes productpage 10 times a second, saves each container's");
    println!(
        "command and args on its deployment before the first patch, and restores exactly those."
    );
    println!("(--yes: these are this demo's own simulated clusters; on yours it asks first.)");
    println!("\n$ kubectl smh drill reviews-failover --yes\n");
    let drill_args = super::drill::Args {
        command: None,
        name: Some("reviews-failover".into()),
        name_flag: None,
        flags: Box::default(),
    };
    let code = super::drill::run(gg, drill_args)?;
    match code {
        Exit::Ok => {
            println!(
                "\nThe guide, done: outlier detection, the FailoverService and the traffic shift are"
            );
            println!(
                "ACCEPTED, productpage failed over to remote-cluster when reviews-v1 and v2 broke,"
            );
            println!(
                "and came back when they were restored. Next: `kubectl smh demo up` serves the same"
            );
            println!("clusters until Ctrl-C, to try every command by hand.");
        }
        other => println!(
            "\nThe drill did not pass (exit {}); see above.",
            other.code()
        ),
    }
    Ok(code)
}

/// The guide's three manifests as one YAML stream, in the guide's order.
pub(crate) fn manifests_stream() -> String {
    STEPS
        .iter()
        .map(|(_, text, _)| text.trim_end())
        .collect::<Vec<_>>()
        .join("\n---\n")
        + "\n"
}

/// A temporary directory, removed on drop.
#[cfg(feature = "demo")]
struct TempDir(PathBuf);

#[cfg(feature = "demo")]
impl TempDir {
    fn new() -> std::io::Result<Self> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("kubectl-smh-guide-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

#[cfg(feature = "demo")]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(feature = "demo")]
async fn deployment_names(fleet: &SimFleet, cluster: &str) -> Vec<String> {
    let Some(c) = fleet.cluster(cluster) else {
        return Vec::new();
    };
    let Ok(client) = c.client() else {
        return Vec::new();
    };
    let api: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(client, "bookinfo");
    let mut names: Vec<String> = api
        .list(&ListParams::default())
        .await
        .map(|l| {
            l.items
                .into_iter()
                .filter_map(|d| d.metadata.name)
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `kubectl get KIND/NAME -o yaml`, the status part.
#[cfg(feature = "demo")]
async fn status_yaml(contexts: &Contexts, shown: &str) -> Result<String, CmdError> {
    let (kind, name) = shown.split_once('/').unwrap_or((shown, ""));
    let (k, plural) = match kind {
        "failoverservice" => (FailoverService::KIND, FailoverService::PLURAL),
        _ => (TrafficPolicy::KIND, TrafficPolicy::PLURAL),
    };
    let client = contexts.client(&contexts.mgmt_target(&[])?).await?;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(
            smh_core::consts::SMH_GROUP,
            smh_core::consts::SMH_VERSION,
            k,
        ),
        plural,
    );
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.client.clone(), smh_core::consts::SMH_NAMESPACE, &ar);
    let o = api
        .get(name)
        .await
        .map_err(|e| CmdError::cluster(anyhow!("reading {shown}: {e}")))?;
    let status = o.data.get("status").cloned().unwrap_or(Value::Null);
    smh_core::yaml_writer::to_yaml(&json!({ "status": status })).map_err(CmdError::failed)
}

/// GET /productpage `n` times through a port-forward and say what each page shows.
#[cfg(feature = "demo")]
async fn reload_productpage(fleet: &SimFleet, n: usize) -> Result<(), CmdError> {
    let client = fleet
        .cluster(MGMT_CLUSTER)
        .ok_or_else(|| CmdError::failed(anyhow!("no {MGMT_CLUSTER}")))?
        .client()
        .map_err(|e| CmdError::failed(anyhow!("{e}")))?;
    let pod = pick_pod(&client, "bookinfo", "productpage-v1")
        .await
        .map_err(|e| CmdError::cluster(anyhow!("{e}")))?;
    let prober = Prober::new(client, "bookinfo", &pod, 9080, Duration::from_secs(5));
    let classifier = Classifier::bookinfo();
    for i in 1..=n {
        let (answer, latency) = prober.get("/productpage").await;
        let c = classifier.classify(answer.as_answer());
        println!("    reload {i}: {} ({} ms)", c.reason, latency.as_millis());
    }
    Ok(())
}
