//! `failover create` on both backends. On the simulated clusters each scenario runs as a test
//! of its own, on a fleet of its own (in parallel); on real control planes one test runs them
//! all in sequence on one fleet (a real fleet takes tens of seconds to start): before each,
//! every SMH and generated object is deleted and the scenario gets a new directory
//! (kubeconfig, empty registry).

use super::*;

use common::backend::reset;

/// Declares each scenario's test on the simulated clusters and the one test that runs them
/// all, in this order, on real control planes.
macro_rules! on_both_backends {
    ($($module:ident::$scenario:ident),* $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn every_scenario_on_real_control_planes() {
            let Some(clusters) = Clusters::start(Backend::Real, MultiClusterMode::Global).await
            else {
                return;
            };
            let mut demo = demo_of(clusters);
            // The real control planes start without the SMH CRDs.
            let mut c = demo.command();
            c.arg("install");
            let out = run(c).await;
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            let mgmt = demo.clusters.client("mgmt-cluster");
            let remote = demo.clusters.client("remote-cluster");
            $(
                demo.fresh();
                reset(&mgmt, &remote).await;
                crate::$module::$scenario(&demo).await;
            )*
            demo.clusters.shutdown().await;
        }

        mod on_the_simulated_clusters {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let demo = demo_of(Clusters::Sim(demo_fleet(MultiClusterMode::Global).await));
                    crate::$module::$scenario(&demo).await;
                    demo.clusters.shutdown().await;
                }
            )*
        }
    };
}

on_both_backends!(
    create::create_with_flags_applies_and_productpage_answers_from_the_primary,
    dry_run::dry_run_with_the_guides_parameters_prints_the_guides_manifests,
    dry_run::dry_run_without_output_adds_the_plan_as_comments,
    dry_run::unknown_services_are_refused_with_suggestions,
    dry_run::zero_loss_writes_first_error_ejection_and_retries_on_the_shift,
    wizard::the_wizard_creates_what_was_chosen,
    wizard::declining_the_wizard_exits_1_and_changes_nothing,
    wizard::ctrl_c_in_the_wizard_exits_130_and_changes_nothing,
    contexts::the_wizard_reads_only_the_contexts_chosen,
    contexts::the_wizard_with_yes_needs_cluster_flags,
    contexts::flags_read_only_the_clusters_they_name,
);
