//! `describe` (collect from every cluster → pure aggregate → tables), in process against
//! simulated clusters:
//!
//! 1. over 5 clusters vs 1 cluster, each API server with 50 ms of injected latency per
//!    request (the target: 5 clusters in under 1.5× the time of one). The
//!    configuration describes one FailoverService whose backing services are in 1 cluster
//!    (mgmt-cluster), then one whose backing services are in 5;
//! 2. of 200 FailoverServices on the demo clusters (mgmt-cluster and remote-cluster, no
//!    injected latency), their ServiceEntries and EnvoyFilters applied, so every object is
//!    compared with its live counterpart (target: under 1 s).
//!
//! Run: `cargo bench --bench describe`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};

use kubectl_smh::render;
use smh_cluster::Contexts;
use smh_cluster::inspect::{Collected, collect};
use smh_cluster::state::StateOptions;
use smh_core::inspect::describe;

mod common;
use common::{bookinfo_fleet, contexts_for, ms, p50, ratio_verdict, start_ready};

const LATENCY: Duration = Duration::from_millis(50);
const RUNS: usize = 10;
const MANY: usize = 200;

fn smh_ar(kind: &str) -> ApiResource {
    let plural = if kind == "FailoverService" {
        "failoverservices"
    } else {
        "trafficpolicies"
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.smh.solo.io", "v1alpha2", kind),
        plural,
    )
}

fn istio_ar(kind: &str) -> ApiResource {
    let plural = match kind {
        "ServiceEntry" => "serviceentries".to_string(),
        k => format!("{}s", k.to_ascii_lowercase()),
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1alpha3", kind),
        &plural,
    )
}

fn failover_service(name: &str, clusters: &[&str]) -> Value {
    let backing: Vec<Value> = clusters
        .iter()
        .map(|c| json!({"kubeService": {"name": "reviews", "namespace": "bookinfo", "clusterName": c}}))
        .collect();
    json!({
        "apiVersion": "networking.smh.solo.io/v1alpha2",
        "kind": "FailoverService",
        "metadata": {"name": name, "namespace": "service-mesh-hub"},
        "spec": {
            "hostname": format!("{name}.bookinfo.global"),
            "port": {"number": 9080, "protocol": "http"},
            "meshes": [{"name": "istiod-istio-system-mgmt-cluster", "namespace": "service-mesh-hub"}],
            "backingServices": backing,
        }
    })
}

fn outlier_policy(name: &str, clusters: &[&str]) -> Value {
    let refs: Vec<Value> = clusters
        .iter()
        .map(|c| json!({"name": "reviews", "namespace": "bookinfo", "clusterName": c}))
        .collect();
    json!({
        "apiVersion": "networking.smh.solo.io/v1alpha2",
        "kind": "TrafficPolicy",
        "metadata": {"name": name, "namespace": "service-mesh-hub"},
        "spec": {
            "destinationSelector": [{"kubeServiceRefs": {"services": refs}}],
            "outlierDetection": {"consecutiveErrors": 1}
        }
    })
}

async fn store(client: &kube::Client, value: Value) {
    let kind = value["kind"].as_str().unwrap_or_default().to_string();
    let obj: DynamicObject = serde_json::from_value(value).expect("object");
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "service-mesh-hub", &smh_ar(&kind));
    let created = api
        .create(&PostParams::default(), &obj)
        .await
        .expect("stored");
    let name = created.metadata.name.clone().unwrap_or_default();
    api.patch_status(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"state": "ACCEPTED", "observedGeneration": "1"}})),
    )
    .await
    .expect("status");
}

async fn delete_all(client: &kube::Client) {
    for kind in ["FailoverService", "TrafficPolicy"] {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), "service-mesh-hub", &smh_ar(kind));
        api.delete_collection(&Default::default(), &Default::default())
            .await
            .expect("deleted");
    }
}

/// Time of each phase of one describe.
#[derive(Default, Clone, Copy)]
struct Phases {
    collect: Duration,
    aggregate: Duration,
    render: Duration,
}

/// One describe of every FailoverService: collect, aggregate, render.
async fn describe_all(contexts: &Contexts) -> (Duration, usize, usize, Collected) {
    let (d, n, bytes, c, _) = describe_phases(contexts).await;
    (d, n, bytes, c)
}

async fn describe_phases(contexts: &Contexts) -> (Duration, usize, usize, Collected, Phases) {
    let t = Instant::now();
    let c = collect(contexts, &StateOptions::default(), "service-mesh-hub")
        .await
        .expect("collect");
    let t1 = Instant::now();
    let drift = c.snapshot.drift();
    let views = describe::failover_services(&c.snapshot, &drift, None, None);
    let t2 = Instant::now();
    let text =
        render::describe::failover_services(&describe::cluster_rows(&c.snapshot), &views, None);
    let t3 = Instant::now();
    let phases = Phases {
        collect: t1 - t,
        aggregate: t2 - t1,
        render: t3 - t2,
    };
    (t3 - t, views.len(), text.len(), c, phases)
}

async fn latency_case() {
    let fleet = start_ready(bookinfo_fleet(&["c3", "c4", "c5"])).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let contexts = contexts_for(&fleet, dir.path());
    let mgmt = fleet.cluster("mgmt-cluster").unwrap().client().unwrap();

    let one = ["mgmt-cluster"];
    let five = ["mgmt-cluster", "remote-cluster", "c3", "c4", "c5"];
    store(&mgmt, failover_service("reviews-failover", &one)).await;
    store(&mgmt, outlier_policy("reviews-outlier", &one)).await;
    for c in fleet.clusters() {
        c.faults().set_latency(LATENCY);
    }
    let mut runs_one = Vec::new();
    let mut clusters_one = 0;
    for _ in 0..RUNS {
        let (d, n, _, c) = describe_all(&contexts).await;
        assert_eq!(n, 1);
        clusters_one = c.snapshot.clusters.len();
        runs_one.push(d);
    }

    for c in fleet.clusters() {
        c.faults().set_latency(Duration::ZERO);
    }
    delete_all(&mgmt).await;
    store(&mgmt, failover_service("reviews-failover", &five)).await;
    store(&mgmt, outlier_policy("reviews-outlier", &five)).await;
    for c in fleet.clusters() {
        c.faults().set_latency(LATENCY);
    }
    let mut runs_five = Vec::new();
    let mut clusters_five = 0;
    for _ in 0..RUNS {
        let (d, n, _, c) = describe_all(&contexts).await;
        assert_eq!(n, 1);
        assert!(
            c.snapshot.clusters.values().all(|v| v.error.is_none()),
            "a cluster failed"
        );
        clusters_five = c.snapshot.clusters.len();
        runs_five.push(d);
    }
    let (a, b) = (p50(runs_one), p50(runs_five));
    println!(
        "describe, {} ms API latency per request, {RUNS} runs each (p50):",
        LATENCY.as_millis()
    );
    println!("  {clusters_one} cluster:  {:>7.1} ms", ms(a));
    println!("  {clusters_five} clusters: {:>7.1} ms", ms(b));
    println!("  {}", ratio_verdict(a, b));
    fleet.shutdown().await;
}

async fn many_case() {
    let fleet = start_ready(bookinfo_fleet(&[])).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let contexts = contexts_for(&fleet, dir.path());
    let mgmt = fleet.cluster("mgmt-cluster").unwrap().client().unwrap();

    let both = ["mgmt-cluster", "remote-cluster"];
    store(&mgmt, outlier_policy("reviews-outlier", &both)).await;
    for i in 0..MANY {
        store(
            &mgmt,
            failover_service(&format!("reviews-failover-{i:03}"), &both),
        )
        .await;
    }
    // Apply what is expected, as `kubectl smh apply` would, so describe compares every
    // object with a live one.
    let (_, _, _, c) = describe_all(&contexts).await;
    let objects = c.state.expected.objects.len();
    for g in &c.state.expected.objects {
        let client = fleet.cluster(&g.cluster).unwrap().client().unwrap();
        let api: Api<DynamicObject> =
            Api::namespaced_with(client, g.namespace(), &istio_ar(g.kind()));
        api.patch(
            g.name(),
            &PatchParams::apply("kubectl-smh").force(),
            &Patch::Apply(g.to_value()),
        )
        .await
        .expect("applied");
    }

    let mut runs = Vec::new();
    let mut phases = Vec::new();
    let mut size = 0;
    for _ in 0..RUNS {
        let (d, n, bytes, c, p) = describe_phases(&contexts).await;
        assert_eq!(n, MANY);
        let drift = c.snapshot.drift();
        assert!(
            drift.iter().all(|d| d.state.is_in_sync()),
            "drift in the setup"
        );
        size = bytes;
        runs.push(d);
        phases.push(p);
    }
    let t = p50(runs);
    let phase = |f: fn(&Phases) -> Duration| p50(phases.iter().map(f).collect());
    println!(
        "describe of {MANY} FailoverServices on the demo clusters ({objects} generated objects compared), {RUNS} runs (p50):"
    );
    println!(
        "  {:>7.1} ms, {} KiB of tables (target < 1000 ms): {}",
        ms(t),
        size / 1024,
        if t < Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  of which collect {:.1} ms, aggregate {:.1} ms, render {:.1} ms (each p50)",
        ms(phase(|p| p.collect)),
        ms(phase(|p| p.aggregate)),
        ms(phase(|p| p.render))
    );
    fleet.shutdown().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    latency_case().await;
    many_case().await;
}
