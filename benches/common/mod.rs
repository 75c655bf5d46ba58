//! Helpers shared by the benches that measure commands against simulated clusters
//! (`mod common;` in each).
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use smh_cluster::{Contexts, KubeconfigOrigin, KubeconfigSet, Registry};
use smh_core::model::topology::MultiClusterMode;
use smh_sim::cluster::ClusterOptions;
use smh_sim::fleet::{FleetOptions, SimFleet, bookinfo_world};

/// The median of the runs.
pub(crate) fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// In milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `ratio 1.12 (target < 1.5): met`: `many` over `one` against the target (5 clusters in
/// under 1.5× the time of one).
pub(crate) fn ratio_verdict(one: Duration, many: Duration) -> String {
    let ratio = many.as_secs_f64() / one.as_secs_f64();
    format!(
        "ratio {ratio:.2} (target < 1.5): {}",
        if ratio < 1.5 { "met" } else { "NOT met" }
    )
}

/// The demo pair (mgmt-cluster, remote-cluster) plus the clusters `extra` (pod octets from
/// 3), bookinfo in global mode on Istio 1.24.2, rollouts of 50 ms.
pub(crate) fn bookinfo_fleet(extra: &[&str]) -> FleetOptions {
    let mut opts = FleetOptions::demo();
    for (i, name) in extra.iter().enumerate() {
        let mut c = ClusterOptions::new(name);
        c.pod_octet = 3 + i as u8;
        opts.clusters.push(c);
    }
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = Duration::from_millis(50);
    }
    opts.hooks
        .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
    opts
}

/// Start `opts` and wait until the clusters are ready (every Deployment available, every
/// Service's Endpoints listing its pods: [`SimFleet::wait_ready`]).
pub(crate) async fn start_ready(opts: FleetOptions) -> SimFleet {
    let fleet = SimFleet::start(opts).await.expect("fleet");
    fleet
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("the simulated clusters become ready");
    fleet
}

/// Contexts for every cluster of `fleet`, from a kubeconfig written in `dir` (no
/// registry, 10 s timeout).
pub(crate) fn contexts_for(fleet: &SimFleet, dir: &Path) -> Contexts {
    let path = dir.join("kubeconfig.yaml");
    fleet.write_kubeconfig(&path).expect("kubeconfig");
    Contexts::new(
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(path)).expect("kubeconfig"),
        Default::default(),
        Registry::empty(dir.join("clusters.yaml")),
        None,
        Duration::from_secs(10),
    )
}

/// The guide's three manifests over `clusters` (the first is the management cluster): an
/// outlier-detection policy on `reviews` in every cluster with `consecutive_errors`, a
/// FailoverService backed by `reviews` in every cluster (in order), the traffic shift on
/// `reviews` in the first.
pub(crate) fn manifests(clusters: &[String], consecutive_errors: u32) -> String {
    let refs: String = clusters
        .iter()
        .map(|c| format!("      - {{name: reviews, namespace: bookinfo, clusterName: {c}}}\n"))
        .collect();
    let backing: String = clusters
        .iter()
        .map(|c| {
            format!("  - kubeService: {{name: reviews, namespace: bookinfo, clusterName: {c}}}\n")
        })
        .collect();
    format!(
        "apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {{namespace: service-mesh-hub, name: mgmt-reviews-outlier}}
spec:
  destinationSelector:
  - kubeServiceRefs:
      services:
{refs}  outlierDetection: {{consecutiveErrors: {consecutive_errors}}}
---
apiVersion: networking.smh.solo.io/v1alpha2
kind: FailoverService
metadata: {{name: reviews-failover, namespace: service-mesh-hub}}
spec:
  hostname: reviews-failover.bookinfo.global
  port: {{number: 9080, protocol: http}}
  meshes: [{{name: istiod-istio-system-mgmt-cluster, namespace: service-mesh-hub}}]
  backingServices:
{backing}---
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {{name: reviews-shift-failover, namespace: bookinfo}}
spec:
  destinationSelector:
  - kubeServiceRefs:
      services: [{{clusterName: mgmt-cluster, name: reviews, namespace: bookinfo}}]
  trafficShift:
    destinations:
    - failoverService: {{name: reviews-failover, namespace: service-mesh-hub}}
"
    )
}
