//! The drill's scenarios on the model with the guide's configuration, against what real
//! Envoy 1.40.0 did with what real istiod (Istio 1.31) generated for the same objects
//! (`scripts/envoy-lab/istio_failover.py`; figures in docs/benchmarks.md).

use std::path::PathBuf;
use std::time::Duration;

use smh_core::model::parse::load_paths;
use smh_core::model::topology::{MultiClusterMode, Topology};
use smh_core::translate::translate;

use super::*;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// What kubectl-smh generates for mgmt-cluster from `examples/guide` with `topology`.
fn guide_objects(topology: &str) -> Vec<Value> {
    let loaded = load_paths(&[repo("examples/guide")]);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let topology = Topology::load(&repo(topology)).unwrap();
    let t = translate(&loaded.manifests, &topology);
    assert!(!t.has_errors(), "{:#?}", t.diagnostics);
    t.objects
        .iter()
        .filter(|o| o.cluster == "mgmt-cluster")
        .map(|o| o.to_value())
        .collect()
}

fn secs(d: Option<Duration>) -> f64 {
    d.expect("happened").as_secs_f64()
}

#[test]
fn rollout_to_refusing_pods_fails_for_the_merge_window_then_fails_over() {
    // Envoy 1.40.0, istiod's config for the guide (global mode): 503 x10 from the break,
    // first secondary answer 1.07 s after it; first primary answer 0.05-0.08 s after the
    // restore rollout, no failed request.
    for (mode, topology) in [
        (
            MultiClusterMode::Global,
            "tests/data/topology/guide-global.yaml",
        ),
        (
            MultiClusterMode::MultiPrimary,
            "tests/data/topology/guide-multi-primary.yaml",
        ),
    ] {
        let m = run(mode, "1.24.2", &guide_objects(topology), Break::Rollout).unwrap();
        assert_eq!(m.failed_during_failover, 10, "{mode:?}: {}", m.answers);
        assert!(
            (secs(m.time_to_failover) - 1.0).abs() <= 0.1,
            "{mode:?}: {m:?}"
        );
        assert_eq!(m.failed_during_failback, 0, "{mode:?}: {}", m.answers);
        assert!(secs(m.time_to_failback) <= 0.1, "{mode:?}: {m:?}");
    }
}

#[test]
fn primary_failing_in_place_fails_over_and_comes_back_when_the_ejection_ends() {
    // Envoy 1.40.0 (global mode): 500 x2 (one per primary host), then ~30 % of requests
    // spill to the secondary while the second ejection waits for the merge window: 6 failed
    // in all, first secondary answer 0.25 s after the break; failback 35.1 s after the
    // restore (the 30 s ejection, un-ejected at a 10 s interval tick).
    let m = run(
        MultiClusterMode::Global,
        "1.24.2",
        &guide_objects("tests/data/topology/guide-global.yaml"),
        Break::InPlace,
    )
    .unwrap();
    assert!((4..=9).contains(&m.failed_during_failover), "{}", m.answers);
    assert!(secs(m.time_to_failover) <= 1.1, "{m:?}");
    assert!(secs(m.time_to_failback) >= 25.0, "{m:?}");
    assert!(secs(m.time_to_failback) <= 40.0, "{m:?}");
}
