//! The inspect suite's scenarios on both backends: the simulated clusters and real control
//! planes. One fleet per backend and mode runs them in sequence (a real fleet takes tens of
//! seconds to start): before each, every SMH and generated object is deleted, the
//! deployments are put back as they started, and the guide is applied again.

use super::*;

use common::backend::{Deployments, reset};

/// Run `scenario` from the guide's configuration on unchanged deployments, then put the
/// deployments back.
async fn from_the_guide<F: std::future::Future<Output = ()>>(
    env: &Env,
    saved: &Deployments,
    scenario: impl FnOnce() -> F,
) {
    reset(&env.client("mgmt-cluster"), &env.client("remote-cluster")).await;
    env.configure_guide().await;
    scenario().await;
    saved.put_back().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_check_drift_and_failures_on_both_backends() {
    for backend in Backend::all() {
        let started = std::time::Instant::now();
        let Some(clusters) = Clusters::start(backend, MultiClusterMode::Global).await else {
            continue;
        };
        let env = env_of(clusters).await;
        let saved =
            Deployments::save(&env.client("mgmt-cluster"), &env.client("remote-cluster")).await;
        healthy::healthy_guide_setup_describes_checks_and_tests_clean(&env).await;
        from_the_guide(&env, &saved, || {
            healthy::drift_is_named_with_its_field_and_manager(&env)
        })
        .await;
        from_the_guide(&env, &saved, || {
            unhealthy::invalid_failover_service_fails_check_with_meshctl_line(&env)
        })
        .await;
        from_the_guide(&env, &saved, || {
            unhealthy::failover_test_with_an_unreadable_backing_cluster_fails_with_3(&env)
        })
        .await;
        from_the_guide(&env, &saved, || {
            unhealthy::a_hung_cluster_is_skipped_after_the_state_sweep(&env)
        })
        .await;
        from_the_guide(&env, &saved, || {
            unhealthy::failover_test_fails_when_the_primary_is_broken_or_unprotected(&env)
        })
        .await;
        from_the_guide(&env, &saved, || {
            unhealthy::an_accepted_failover_service_whose_secondary_went_away_fails_check(&env)
        })
        .await;
        env.shutdown().await;

        let Some(clusters) = Clusters::start(backend, MultiClusterMode::MultiPrimary).await else {
            continue;
        };
        let env = env_of(clusters).await;
        multi_primary::multi_primary_outlier_detection_comes_from_the_cluster_subset(&env).await;
        multi_primary::multi_primary_checks_cluster_ids_against_remote_secrets(&env).await;
        env.shutdown().await;
        eprintln!(
            "{backend:?}: the inspect scenarios took {:?}",
            started.elapsed()
        );
    }
}
