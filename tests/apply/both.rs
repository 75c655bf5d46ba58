//! The apply suite's scenarios on both backends. On the simulated clusters each runs as a
//! test of its own, on a fleet of its own (in parallel); on real control planes one test
//! runs them all in sequence on one fleet (a real fleet takes tens of seconds to start),
//! with every SMH and generated object and the topology cache deleted before each.

use super::*;

/// Declares each scenario's test on the simulated clusters and the one test that runs them
/// all, in this order, on real control planes.
macro_rules! on_both_backends {
    ($($module:ident::$scenario:ident),* $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn every_scenario_on_real_control_planes() {
            let Some(d) = Demo::on(Backend::Real, MultiClusterMode::Global).await else {
                return;
            };
            $(
                common::backend::reset(&d.mgmt, &d.remote).await;
                crate::$module::$scenario(&d).await;
            )*
            d.shutdown().await;
        }

        mod on_the_simulated_clusters {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let d = Demo::start(MultiClusterMode::Global).await;
                    crate::$module::$scenario(&d).await;
                    d.shutdown().await;
                }
            )*
        }
    };
}

on_both_backends!(
    install::install_is_idempotent_and_apply_asks_for_it,
    guide::the_guide_step_by_step_then_nothing_changes,
    converge::prune_goes_by_labels_only,
    converge::a_failing_cluster_is_reported_and_a_rerun_converges,
    converge::percentages_compare_by_value_and_others_changes_are_named,
    inputs::bad_input_and_dry_runs_change_nothing,
    inputs::diff_shows_what_would_change,
);
