//! The apply suite's scenarios on both backends: the simulated clusters and real control
//! planes. One fleet per backend runs them all in sequence (a real fleet takes tens of
//! seconds to start), with every SMH and generated object deleted between them.

use super::*;

use common::backend::reset;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_apply_prune_status_dry_run_diff_and_partial_failure_on_both_backends() {
    for backend in Backend::all() {
        let Some(d) = Demo::on(backend, MultiClusterMode::Global).await else {
            continue;
        };
        let started = std::time::Instant::now();
        install::install_is_idempotent_and_apply_asks_for_it(&d).await;
        reset(&d.mgmt, &d.remote).await;

        guide::guide_step_1_outlier_detection(&d).await;
        guide::guide_step_2_failover_service(&d).await;
        guide::guide_step_3_traffic_shift(&d).await;
        guide::productpage_answers_from_the_primary(&d).await;
        guide::the_same_input_again_changes_nothing(&d).await;
        reset(&d.mgmt, &d.remote).await;

        converge::prune_goes_by_labels_only(&d).await;
        reset(&d.mgmt, &d.remote).await;
        converge::a_failing_cluster_is_reported_and_a_rerun_converges(&d).await;
        reset(&d.mgmt, &d.remote).await;
        converge::percentages_compare_by_value_and_others_changes_are_named(&d).await;
        reset(&d.mgmt, &d.remote).await;

        inputs::bad_input_and_dry_runs_change_nothing(&d).await;
        reset(&d.mgmt, &d.remote).await;
        inputs::diff_shows_what_would_change(&d).await;
        eprintln!(
            "{backend:?}: the apply scenarios took {:?}",
            started.elapsed()
        );
        d.shutdown().await;
    }
}
