//! The product against real control planes (etcd, kube-apiserver, kube-controller-manager and
//! kube-scheduler built by `scripts/peers/build kubernetes etcd`, with the node agent of
//! `crates/smh-real`), measured through this build's `kubectl-smh` binary, as a user runs it:
//!
//! 1. `kubectl smh apply` and `kubectl smh describe` over 1 and over 5 clusters (`mgmt-cluster`
//!    with bookinfo's management layout; `c2`..`c5` with reviews-v3 and ratings), the guide's
//!    shape over every cluster (see `common::manifests`). *configure*: `consecutiveErrors`
//!    alternates between 1 and 2, so each apply changes the policy and every generated
//!    DestinationRule; *no-op*: the same input again; *describe*: the FailoverServices.
//! 2. On the guide's two clusters (global mode): `kubectl smh apply -f examples/guide/`
//!    (configure, alternating `consecutiveErrors` 1 and 2), against `kubectl apply
//!    --server-side` of the same generated Istio objects to the same clusters, one kubectl run
//!    per cluster, in sequence (kubectl has no multi-cluster apply). The objects are read back
//!    from the clusters after kubectl-smh applied each variant (label
//!    `app.kubernetes.io/managed-by=kubectl-smh`), without server-set fields; kubectl applies
//!    them with kubectl-smh's field manager, so it owns the same fields and finds no conflict.
//!    What kubectl-smh does on top, inside its time: reads the clusters' live state
//!    (discovery, services, meshes), stores the SMH objects, writes their statuses, prunes.
//!
//! Each figure is the median (p50) of RUNS runs, wall time of the whole process.
//!
//! Run: `cargo bench --bench real_clusters`. Needs the peers (`scripts/peers/build kubernetes
//! etcd`); without them it prints a `SKIP:` line and exits 0.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use smh_core::consts::{FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use smh_core::model::topology::MultiClusterMode;
use smh_real::fleet::{FleetOptions, ISTIO_VERSION, RealFleet};
use smh_sim::world::WorldOptions;

mod common;
use common::{manifests, ms, p50};

const RUNS: usize = 7;
const SMH: &str = env!("CARGO_BIN_EXE_kubectl-smh");
/// The Istio kinds kubectl-smh generates.
const GENERATED: &str = "destinationrules.networking.istio.io,virtualservices.networking.istio.io,\
serviceentries.networking.istio.io,envoyfilters.networking.istio.io";

/// Run `program args`, panicking with its output unless it exits 0; returns the wall time
/// and stdout.
async fn run(program: &Path, args: &[&str]) -> (Duration, String) {
    let start = Instant::now();
    let out = tokio::process::Command::new(program)
        .args(args)
        .env("KUBECONFIG", "/dev/null")
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{} {} exited {}:\n{}\n{}",
        program.display(),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (took, String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn smh(kubeconfig: &Path, args: &[&str]) -> (Duration, String) {
    let mut all = vec!["--kubeconfig", kubeconfig.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    run(Path::new(SMH), &all).await
}

/// A running fleet with SMH's CRDs installed and its kubeconfig written in `dir`.
struct Running {
    fleet: RealFleet,
    kubeconfig: PathBuf,
}

async fn start(dir: &Path, worlds: Vec<WorldOptions>) -> Running {
    let opts = FleetOptions {
        mode: MultiClusterMode::Global,
        dir: dir.to_path_buf(),
        timeout: Duration::from_secs(300),
    };
    let fleet = RealFleet::start_worlds(&opts, worlds)
        .await
        .unwrap_or_else(|e| panic!("real control planes: {e:#} (logs in {})", dir.display()));
    let kubeconfig = dir.join("kubeconfig.yaml");
    fleet.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    smh(&kubeconfig, &["install"]).await;
    Running { fleet, kubeconfig }
}

fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i == 0 {
                "mgmt-cluster".to_string()
            } else {
                format!("c{}", i + 1)
            }
        })
        .collect()
}

/// p50 of configure applies, no-op applies and describes over `n` clusters.
async fn scale(root: &Path, n: usize) -> [Duration; 3] {
    let names = names(n);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let worlds = WorldOptions::fleet(
        &refs,
        MultiClusterMode::Global,
        ISTIO_VERSION,
        Duration::ZERO,
    );
    let dir = root.join(format!("scale-{n}"));
    let r = start(&dir, worlds).await;
    eprintln!(
        "{n} cluster(s) up in {:.1} s",
        r.fleet.startup.as_secs_f64()
    );
    let files: Vec<PathBuf> = (1..=2)
        .map(|ce| {
            let path = dir.join(format!("smh-{ce}.yaml"));
            std::fs::write(&path, manifests(&names, ce)).expect("manifests written");
            path
        })
        .collect();
    let apply = |file: &Path| {
        let file = file.display().to_string();
        let kubeconfig = r.kubeconfig.clone();
        async move { smh(&kubeconfig, &["apply", "-f", &file]).await.0 }
    };
    // Warm: the first apply creates everything.
    apply(&files[0]).await;
    let mut configure = Vec::new();
    for i in 0..RUNS {
        configure.push(apply(&files[(i + 1) % 2]).await);
    }
    let last = &files[RUNS % 2];
    let mut noop = Vec::new();
    for _ in 0..RUNS {
        noop.push(apply(last).await);
    }
    let mut describe = Vec::new();
    for _ in 0..RUNS {
        describe.push(smh(&r.kubeconfig, &["describe"]).await.0);
    }
    r.fleet.stop();
    [p50(configure), p50(noop), p50(describe)]
}

/// The generated Istio objects in `context`, without what the server sets, as a List.
async fn generated(kubectl: &Path, kubeconfig: &Path, context: &str) -> Value {
    let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
    let (_, out) = run(
        kubectl,
        &[
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8 path"),
            "--context",
            context,
            "get",
            GENERATED,
            "-A",
            "-l",
            &selector,
            "-o",
            "json",
        ],
    )
    .await;
    let mut list: Value = serde_json::from_str(&out).expect("kubectl get -o json");
    let items = list["items"].as_array_mut().expect("items");
    assert!(!items.is_empty(), "no generated objects in {context}");
    for item in items.iter_mut() {
        item.as_object_mut().expect("object").remove("status");
        let meta = item["metadata"].as_object_mut().expect("metadata");
        for field in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
        ] {
            meta.remove(field);
        }
    }
    list
}

/// p50 of `kubectl smh apply` of the guide and of `kubectl apply --server-side` of its
/// generated objects, on the guide's two clusters.
async fn against_kubectl(root: &Path, kubectl: &Path) -> (Duration, Duration, usize) {
    let dir = root.join("guide");
    let worlds = WorldOptions::demo(MultiClusterMode::Global, ISTIO_VERSION, Duration::ZERO);
    let r = start(&dir, worlds).await;
    let contexts = ["mgmt-cluster", "remote-cluster"];
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/guide/1-outlier-detection.yaml"),
    )
    .expect("examples/guide");
    let mut variants = Vec::new();
    let mut objects = 0;
    for ce in 1..=2 {
        let vdir = dir.join(format!("guide-{ce}"));
        std::fs::create_dir_all(&vdir).expect("dir");
        for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/guide"))
            .expect("examples/guide")
        {
            let path = entry.expect("entry").path();
            std::fs::copy(&path, vdir.join(path.file_name().expect("name"))).expect("copy");
        }
        let changed = guide.replace("consecutiveErrors: 1", &format!("consecutiveErrors: {ce}"));
        assert!(changed.contains(&format!("consecutiveErrors: {ce}")));
        std::fs::write(vdir.join("1-outlier-detection.yaml"), changed).expect("write");
        let vdir_s = vdir.display().to_string();
        smh(&r.kubeconfig, &["apply", "-f", &vdir_s]).await;
        let mut files = Vec::new();
        for ctx in contexts {
            let list = generated(kubectl, &r.kubeconfig, ctx).await;
            objects += list["items"].as_array().map_or(0, Vec::len);
            let file = dir.join(format!("generated-{ce}-{ctx}.json"));
            std::fs::write(&file, serde_json::to_vec_pretty(&list).expect("json")).expect("write");
            files.push((ctx, file));
        }
        variants.push((vdir_s, files));
    }
    let mut smh_runs = Vec::new();
    let mut kubectl_runs = Vec::new();
    let kc = r.kubeconfig.display().to_string();
    let manager = format!("--field-manager={FIELD_MANAGER}");
    // Each run applies the other variant than the run before, so every run changes the
    // policy and the generated DestinationRules; kubectl's runs start from the variant the
    // last kubectl-smh run left.
    for i in 0..RUNS {
        let (vdir, _) = &variants[i % 2];
        smh_runs.push(smh(&r.kubeconfig, &["apply", "-f", vdir]).await.0);
    }
    for i in 0..RUNS {
        let (_, files) = &variants[(RUNS + i) % 2];
        let mut total = Duration::ZERO;
        for (ctx, file) in files {
            let file = file.display().to_string();
            total += run(
                kubectl,
                &[
                    "--kubeconfig",
                    &kc,
                    "--context",
                    ctx,
                    "apply",
                    "--server-side",
                    &manager,
                    "-f",
                    &file,
                ],
            )
            .await
            .0;
        }
        kubectl_runs.push(total);
    }
    r.fleet.stop();
    (p50(smh_runs), p50(kubectl_runs), objects / 2)
}

fn main() {
    let peers = match smh_real::peers::Peers::locate() {
        Ok(p) => p,
        Err(e) => {
            println!("SKIP: real control planes: {e}");
            return;
        }
    };
    let root = tempfile::Builder::new()
        .prefix("bench-real-")
        .tempdir()
        .expect("temporary directory");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The control planes' processes die with the thread that started them: start them from
    // this one (block_on polls on the calling thread).
    rt.block_on(async {
        let one = scale(root.path(), 1).await;
        let five = scale(root.path(), 5).await;
        println!("real control planes, p50 of {RUNS} runs, wall time of each command");
        for (what, a, b) in [
            ("apply (configure)", one[0], five[0]),
            ("apply (no-op)", one[1], five[1]),
            ("describe", one[2], five[2]),
        ] {
            println!(
                "{what:<20} 1 cluster {:>7.1} ms   5 clusters {:>7.1} ms   ratio {:.2}",
                ms(a),
                ms(b),
                b.as_secs_f64() / a.as_secs_f64()
            );
        }
        let (smh_p50, kubectl_p50, objects) = against_kubectl(root.path(), &peers.kubectl).await;
        println!(
            "guide on 2 clusters ({objects} generated objects): kubectl smh apply {:.1} ms, \
             kubectl apply --server-side (one per cluster) {:.1} ms, ratio {:.2}",
            ms(smh_p50),
            ms(kubectl_p50),
            smh_p50.as_secs_f64() / kubectl_p50.as_secs_f64()
        );
    });
}
