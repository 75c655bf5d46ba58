//! validate + translate of 1,000 FailoverServices with their TrafficPolicies (target:
//! under 100 ms), timed separately and together; parsing is measured by
//! `benches/validate.rs`. Input: two clusters in global mode, 1,000 services in each; per
//! service an outlier-detection TrafficPolicy on both copies, a FailoverService (local
//! first, then remote) and a traffic shift to it — the guide's three manifests, 1,000 times.
//!
//! Run: `cargo bench --bench validate_translate`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use serde_json::json;
use smh_core::model::diag::Severity;
use smh_core::model::topology::{ClusterTopology, Mesh, Service, ServicePort, Topology};
use smh_core::model::validate::validate;
use smh_core::model::{Manifest, SmhObject, Source};
use smh_core::translate::translate;

const N: usize = 1000;
const RUNS: usize = 20;

fn manifests() -> Vec<Manifest> {
    let mut out = Vec::new();
    let mut push = |v: serde_json::Value| {
        let object = match v["kind"].as_str() {
            Some("TrafficPolicy") => SmhObject::TrafficPolicy(serde_json::from_value(v).unwrap()),
            _ => SmhObject::FailoverService(serde_json::from_value(v).unwrap()),
        };
        let doc = out.len();
        out.push(Manifest {
            source: Source {
                file: "bench.yaml".into(),
                doc,
                line: None,
            },
            object,
        });
    };
    for i in 0..N {
        let svc = format!("svc-{i}");
        push(json!({
            "apiVersion": "networking.smh.solo.io/v1alpha2", "kind": "TrafficPolicy",
            "metadata": {"name": format!("{svc}-outlier"), "namespace": "service-mesh-hub"},
            "spec": {
                "destinationSelector": [{"kubeServiceRefs": {"services": [
                    {"name": svc, "namespace": "apps", "clusterName": "mgmt-cluster"},
                    {"name": svc, "namespace": "apps", "clusterName": "remote-cluster"}
                ]}}],
                "outlierDetection": {"consecutiveErrors": 1}
            }
        }));
        push(json!({
            "apiVersion": "networking.smh.solo.io/v1alpha2", "kind": "FailoverService",
            "metadata": {"name": format!("{svc}-failover"), "namespace": "service-mesh-hub"},
            "spec": {
                "hostname": format!("{svc}-failover.apps.global"),
                "port": {"number": 9080, "protocol": "http"},
                "meshes": [{"name": "istiod-istio-system-mgmt-cluster", "namespace": "service-mesh-hub"}],
                "backingServices": [
                    {"kubeService": {"name": svc, "namespace": "apps", "clusterName": "mgmt-cluster"}},
                    {"kubeService": {"name": svc, "namespace": "apps", "clusterName": "remote-cluster"}}
                ]
            }
        }));
        push(json!({
            "apiVersion": "networking.smh.solo.io/v1alpha2", "kind": "TrafficPolicy",
            "metadata": {"name": format!("{svc}-shift"), "namespace": "apps"},
            "spec": {
                "destinationSelector": [{"kubeServiceRefs": {"services": [
                    {"name": svc, "namespace": "apps", "clusterName": "mgmt-cluster"}
                ]}}],
                "trafficShift": {"destinations": [{"failoverService": {
                    "name": format!("{svc}-failover"), "namespace": "service-mesh-hub"
                }}]}
            }
        }));
    }
    out
}

fn topology() -> Topology {
    let cluster = |name: &str| ClusterTopology {
        east_west_gateways: Vec::new(),
        waypoints: Vec::new(),
        name: name.into(),
        context: None,
        cluster_domain: "cluster.local".into(),
        mesh: Some(Mesh {
            service_scopes: Vec::new(),
            network: None,
            ambient_multi_network: false,
            ambient: false,
            istiod_name: "istiod".into(),
            istiod_namespace: "istio-system".into(),
            version: "1.24.2".into(),
            root_namespace: "istio-system".into(),
            mode: Default::default(),
            cluster_id: None,
        }),
        services: (0..N)
            .map(|i| Service {
                namespace_labels: Default::default(),
                ambient: None,
                name: format!("svc-{i}"),
                namespace: "apps".into(),
                ports: vec![ServicePort {
                    name: "http".into(),
                    port: 9080,
                    protocol: "TCP".into(),
                    app_protocol: None,
                }],
                sidecar_workloads: true,
                labels: Default::default(),
                selector: Default::default(),
            })
            .collect(),
    };
    Topology {
        clusters: vec![cluster("mgmt-cluster"), cluster("remote-cluster")],
        virtual_meshes: vec![],
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let manifests = manifests();
    let topology = topology();
    let mut validate_t: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut translate_t: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut total_t: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut objects = 0;
    for run in 0..RUNS + 2 {
        let start = Instant::now();
        let problems = validate(&manifests, &topology);
        let validated = start.elapsed();
        let t = translate(&manifests, &topology);
        let total = start.elapsed();
        assert!(
            !problems.iter().any(|d| d.severity == Severity::Error),
            "{:?}",
            problems.first()
        );
        assert!(!t.has_errors(), "{:?}", t.diagnostics.first());
        objects = t.objects.len();
        drop(t);
        if run >= 2 {
            // The first two runs warm up caches and the allocator.
            validate_t.push(validated);
            translate_t.push(total - validated);
            total_t.push(total);
        }
    }
    for v in [&mut validate_t, &mut translate_t, &mut total_t] {
        v.sort();
    }
    println!(
        "{} manifests ({N} FailoverServices, {} TrafficPolicies) -> {objects} Istio objects, {RUNS} runs:",
        manifests.len(),
        2 * N
    );
    for (what, v) in [
        ("validate", &validate_t),
        ("translate", &translate_t),
        ("validate + translate", &total_t),
    ] {
        println!(
            "  {what:<22} median {:6.1} ms   min {:6.1} ms   max {:6.1} ms",
            ms(v[RUNS / 2]),
            ms(v[0]),
            ms(v[RUNS - 1])
        );
    }
    println!("  target: validate + translate under 100 ms");
}
