//! `failover create` on both backends: the simulated clusters and real control planes. One
//! fleet per backend runs every scenario in sequence (a real fleet takes tens of seconds to
//! start); before each, every SMH and generated object is deleted and the scenario gets a
//! new directory (kubeconfig, empty registry).

use super::*;

use common::backend::reset;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_dry_run_wizard_and_contexts_on_both_backends() {
    for backend in Backend::all() {
        let started = std::time::Instant::now();
        let Some(clusters) = Clusters::start(backend, MultiClusterMode::Global).await else {
            continue;
        };
        let mut demo = demo_of(clusters);
        // The real control planes start without the SMH CRDs.
        let mut c = demo.command();
        c.arg("install");
        let out = run(c).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

        macro_rules! scenarios {
            ($($module:ident::$scenario:ident),* $(,)?) => {$(
                demo.fresh();
                reset(&demo.clusters.client("mgmt-cluster"), &demo.clusters.client("remote-cluster")).await;
                $module::$scenario(&demo).await;
            )*};
        }
        scenarios!(
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
        eprintln!(
            "{backend:?}: the failover create scenarios took {:?}",
            started.elapsed()
        );
        demo.clusters.shutdown().await;
    }
}
