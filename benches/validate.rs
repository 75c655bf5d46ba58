//! Benchmark: parse + validate 1,000 FailoverServices with their TrafficPolicies (one
//! outlier-detection policy and one traffic shift per FailoverService), each across two
//! clusters, with the default topology derived from the manifests. Prints the figures.
//!
//! Run: `cargo bench --bench validate`
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use smh_core::model::parse::parse_str;
use smh_core::model::topology::Topology;
use smh_core::model::validate::validate;

fn input(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "---
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata:
  name: svc{i}-outlier
  namespace: service-mesh-hub
spec:
  destinationSelector:
  - kubeServiceRefs:
      services:
      - {{name: svc{i}, namespace: app{ns}, clusterName: mgmt-cluster}}
      - {{name: svc{i}, namespace: app{ns}, clusterName: remote-cluster}}
  outlierDetection:
    consecutiveErrors: 1
---
apiVersion: networking.smh.solo.io/v1alpha2
kind: FailoverService
metadata:
  name: svc{i}-failover
  namespace: service-mesh-hub
spec:
  hostname: svc{i}-failover.app{ns}.global
  port: {{number: 9080, protocol: http}}
  meshes:
  - {{name: istiod-istio-system-mgmt-cluster, namespace: service-mesh-hub}}
  backingServices:
  - kubeService: {{name: svc{i}, namespace: app{ns}, clusterName: mgmt-cluster}}
  - kubeService: {{name: svc{i}, namespace: app{ns}, clusterName: remote-cluster}}
---
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata:
  name: svc{i}-shift
  namespace: app{ns}
spec:
  destinationSelector:
  - kubeServiceRefs:
      services: [{{name: svc{i}, namespace: app{ns}, clusterName: mgmt-cluster}}]
  trafficShift:
    destinations:
    - failoverService: {{name: svc{i}-failover, namespace: service-mesh-hub}}
",
            ns = i % 20
        ));
    }
    text
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n = 1000;
    let text = input(n);
    let runs = 15;
    let (mut parse, mut check) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t0 = Instant::now();
        let loaded = parse_str("bench.yaml", &text);
        let t1 = Instant::now();
        let topology = Topology::from_manifests(&loaded.manifests);
        let diags = validate(&loaded.manifests, &topology);
        let t2 = Instant::now();
        assert_eq!(loaded.manifests.len(), 3 * n);
        assert!(
            loaded.diagnostics.is_empty() && diags.is_empty(),
            "the benchmark input must be valid"
        );
        parse.push(t1 - t0);
        check.push(t2 - t1);
    }
    let (p, c) = (median(parse), median(check));
    println!(
        "{n} FailoverServices + {} TrafficPolicies ({} KiB of YAML), median of {runs} runs:",
        2 * n,
        text.len() / 1024
    );
    println!(
        "  parse                        {:>8.2} ms",
        p.as_secs_f64() * 1e3
    );
    println!(
        "  topology defaults + validate {:>8.2} ms",
        c.as_secs_f64() * 1e3
    );
    println!(
        "  total                        {:>8.2} ms",
        (p + c).as_secs_f64() * 1e3
    );
}
