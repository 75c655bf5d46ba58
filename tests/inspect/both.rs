//! The inspect suite's scenarios on both backends. On the simulated clusters each runs as a
//! test of its own, on a fleet of its own (in parallel); on real control planes one test per
//! mode runs them in sequence on one fleet (a real fleet takes tens of seconds to start):
//! before each, every SMH and generated object is deleted and the guide applied again, and
//! after each, the deployments are put back as they started.

use super::*;

use common::backend::{Deployments, reset};

/// Declares each scenario's test on the simulated clusters and the one test that runs them
/// all, in this order, on real control planes in `mode`.
macro_rules! on_both_backends {
    ($real:ident, $sim:ident, $mode:ident: $($module:ident::$scenario:ident),* $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $real() {
            let Some(clusters) = Clusters::start(Backend::Real, MultiClusterMode::$mode).await
            else {
                return;
            };
            let env = env_of(clusters).await;
            let (mgmt, remote) = (env.client("mgmt-cluster"), env.client("remote-cluster"));
            let saved = Deployments::save(&mgmt, &remote).await;
            let mut first = true;
            $(
                if !std::mem::take(&mut first) {
                    reset(&mgmt, &remote).await;
                    env.configure_guide().await;
                }
                crate::$module::$scenario(&env).await;
                saved.put_back().await;
            )*
            env.shutdown().await;
        }

        mod $sim {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let env = env(MultiClusterMode::$mode).await;
                    crate::$module::$scenario(&env).await;
                    env.shutdown().await;
                }
            )*
        }
    };
}

on_both_backends!(
    every_global_scenario_on_real_control_planes,
    on_the_simulated_clusters,
    Global:
    healthy::healthy_guide_setup_describes_checks_and_tests_clean,
    healthy::drift_is_named_with_its_field_and_manager,
    unhealthy::invalid_failover_service_fails_check_with_meshctl_line,
    unhealthy::failover_test_with_an_unreadable_backing_cluster_fails_with_3,
    unhealthy::a_hung_cluster_is_skipped_after_the_state_sweep,
    unhealthy::failover_test_fails_when_the_primary_is_broken_or_unprotected,
    unhealthy::an_accepted_failover_service_whose_secondary_went_away_fails_check,
);

on_both_backends!(
    every_multi_primary_scenario_on_real_control_planes,
    on_the_simulated_clusters_in_multi_primary_mode,
    MultiPrimary:
    multi_primary::multi_primary_outlier_detection_comes_from_the_cluster_subset,
    multi_primary::multi_primary_checks_cluster_ids_against_remote_secrets,
);
