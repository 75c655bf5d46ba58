//! Benchmark of the simulated API server (not a timed test): request latency on loopback
//! through kube-rs, and resident memory with 10,000 stored objects.
//!
//! Run: `cargo bench --bench sim_api`. Targets: p50 < 1 ms; 10,000 objects < 100 MB.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::json;
use smh_sim::api::WriteOptions;
use smh_sim::cluster::{ClusterOptions, SimCluster};

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// A Deployment as the guide's bookinfo manifests write it (about 1 KB of JSON once defaulted).
fn deployment(i: usize) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("app-{i}"), "labels": {"app": format!("app-{i}"), "version": "v1"}},
        "spec": {"replicas": 1,
            "selector": {"matchLabels": {"app": format!("app-{i}"), "version": "v1"}},
            "template": {"metadata": {"labels": {"app": format!("app-{i}"), "version": "v1"}},
                "spec": {"serviceAccountName": "bookinfo-reviews", "containers": [{
                    "name": "reviews", "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.20.3",
                    "env": [{"name": "LOG_DIR", "value": "/tmp/logs"}],
                    "ports": [{"containerPort": 9080}],
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}],
                    "volumes": [{"name": "tmp", "emptyDir": {}}]}}}
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // 1. Latency of GET of one object through kube-rs on loopback.
        let t = Instant::now();
        let c = SimCluster::start(ClusterOptions::new("bench")).await.expect("cluster");
        println!("cluster start (store, Istio CRDs, listener): {:?}", t.elapsed());
        let client = c.client().expect("client");
        let cms: Api<ConfigMap> = Api::namespaced(client, "default");
        let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "bench"}, "data": {"k": "v"}})).unwrap();
        cms.create(&PostParams::default(), &cm).await.expect("create");
        for _ in 0..500 {
            cms.get("bench").await.expect("get");
        }
        let n = 5000;
        let mut lat = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            cms.get("bench").await.expect("get");
            lat.push(t.elapsed());
        }
        lat.sort();
        println!(
            "GET one ConfigMap via kube-rs, {n} requests: p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
            percentile(&lat, 0.50),
            percentile(&lat, 0.90),
            percentile(&lat, 0.99),
            lat[n - 1]
        );
        c.shutdown().await;
        drop(c);

        // 2. Resident memory with 10,000 stored Deployments (written through admission:
        //    defaulting, validation, managedFields; the store also keeps its 10,000-event history).
        let c = SimCluster::start(ClusterOptions::new("mem")).await.expect("cluster");
        let api = c.api();
        let res = api.resource("apps", "v1", "deployments").expect("deployments");
        let before = vm_rss_kib();
        let t = Instant::now();
        let opts = WriteOptions { field_manager: Some("bench".into()), ..Default::default() };
        for i in 0..10_000 {
            api.create(&res, "default", deployment(i), &opts).expect("create");
        }
        let took = t.elapsed();
        // Let the housekeeping task drain the change notifications it has not read yet.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = vm_rss_kib();
        let stored_bytes: usize = api
            .store()
            .list(&res.storage_gvr(), None)
            .0
            .iter()
            .map(|o| serde_json::to_vec(o).map(|v| v.len()).unwrap_or(0))
            .sum();
        println!(
            "10,000 Deployments stored in {took:?} ({} bytes of JSON each): VmRSS {} MiB before, {} MiB after (+{} MiB)",
            stored_bytes / 10_000,
            before / 1024,
            after / 1024,
            (after.saturating_sub(before)) / 1024
        );
        c.shutdown().await;
    });
}
