//! The drill on both backends. On the simulated clusters each scenario runs as a test of its
//! own, on a fleet of its own (in parallel); on real control planes one test per multi-cluster
//! mode runs them all in sequence on one fleet (a real fleet takes tens of seconds to start).
//! Each scenario ends with what it added taken away again; after each, the deployments are
//! put back as they started and every SMH and generated object is deleted (the next scenario
//! applies the guide again).

use super::*;

use common::backend::{Deployments, reset};

/// One real fleet's scenarios in sequence: each step runs a scenario, then puts the
/// deployments back and resets the SMH and generated objects.
struct Sequence<'a> {
    demo: &'a Demo,
    saved: Deployments,
    started: Instant,
}

impl<'a> Sequence<'a> {
    async fn new(demo: &'a Demo) -> Sequence<'a> {
        let (mgmt, remote) = (demo.client("mgmt-cluster"), demo.client("remote-cluster"));
        Sequence {
            demo,
            saved: Deployments::save(&mgmt, &remote).await,
            started: Instant::now(),
        }
    }

    /// Run `scenario`, then put everything back; prints how long it took (seen with
    /// `--nocapture`).
    async fn step(&self, name: &str, scenario: impl std::future::Future<Output = ()>) {
        let t = Instant::now();
        scenario.await;
        self.saved.put_back().await;
        reset(
            &self.demo.client("mgmt-cluster"),
            &self.demo.client("remote-cluster"),
        )
        .await;
        eprintln!(
            "real control planes: {name}: {:.1}s (at {:.1}s)",
            t.elapsed().as_secs_f64(),
            self.started.elapsed().as_secs_f64()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_on_real_control_planes() {
    let Some(demo) = Demo::on(Backend::Real).await else {
        return;
    };
    let seq = Sequence::new(&demo).await;
    let d = &demo;
    seq.step(
        "a full drill",
        passes::a_full_drill_passes_and_restores_exactly(d),
    )
    .await;
    seq.step(
        "SIGKILL, command break",
        signals::sigkill_then_restore_in_every_phase(d, &[]),
    )
    .await;
    seq.step(
        "SIGKILL, scale break",
        signals::sigkill_then_restore_in_every_phase(d, &["--break-mode", "scale"]),
    )
    .await;
    // On the simulated clusters, SIGINT and SIGTERM in every phase of both breaks are tests of
    // their own (tests/drill/signals.rs); here one signal per break.
    seq.step(
        "SIGINT, command break",
        signals::signal_in_every_phase(d, libc::SIGINT, "SIGINT", &[]),
    )
    .await;
    seq.step(
        "SIGTERM, scale break",
        signals::signal_in_every_phase(d, libc::SIGTERM, "SIGTERM", &["--break-mode", "scale"]),
    )
    .await;
    seq.step(
        "preflight refusal",
        breaks::preflight_refuses_without_outlier_detection_and_dry_run_changes_nothing(d),
    )
    .await;
    seq.step(
        "own command",
        breaks::a_container_with_its_own_command_and_args_gets_them_back(d),
    )
    .await;
    seq.step(
        "scale break",
        breaks::the_scale_break_passes_and_puts_back_the_exact_replica_counts(d),
    )
    .await;
    seq.step(
        "distroless",
        breaks::a_distroless_image_stops_the_drill_within_seconds_and_restores(d),
    )
    .await;
    seq.step(
        "readiness probe",
        breaks::a_readiness_probe_refuses_the_command_patch_and_stops_it_fast_when_chosen(d),
    )
    .await;
    seq.step(
        "failed expectations",
        passes::failed_expectations_restore_and_say_by_how_much(d),
    )
    .await;
    seq.step(
        "root namespace",
        passes::destination_rules_rank_with_the_meshs_root_namespace(d),
    )
    .await;
    seq.step(
        "second Ctrl-C",
        signals::a_second_ctrl_c_does_not_stop_the_restore(d),
    )
    .await;
    seq.step(
        "closed stdout and stderr",
        signals::closed_stdout_and_stderr_do_not_skip_the_restore(d),
    )
    .await;
    seq.step("SIGHUP", signals::sighup_restores_before_exiting(d))
        .await;
    seq.step(
        "Ctrl-C twice on a terminal",
        signals::ctrl_c_twice_on_a_terminal(d),
    )
    .await;
    // Last: it leaves the field managers it adds on the deployments.
    seq.step(
        "owners and HPAs",
        breaks::owners_and_hpas_are_warned_about_in_dry_run_and_at_the_prompt(d),
    )
    .await;
    drop(seq);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_multi_primary_scenario_on_real_control_planes() {
    let Some(demo) = Demo::on_in(Backend::Real, MultiClusterMode::MultiPrimary).await else {
        return;
    };
    let seq = Sequence::new(&demo).await;
    let d = &demo;
    seq.step(
        "multi-primary drill",
        passes::a_multi_primary_drill_with_istio_cluster_ids_passes_and_restores(d),
    )
    .await;
    seq.step(
        "remote secret with the wrong key",
        breaks::preflight_refuses_a_multi_primary_drill_whose_remote_secret_has_the_wrong_key(d),
    )
    .await;
    drop(seq);
    demo.shutdown().await;
}

/// Declares a test on the simulated clusters in `mode` for each scenario.
macro_rules! on_the_simulated_clusters {
    ($mode:ident: $($module:ident::$scenario:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let demo = Demo::on_in(Backend::Sim, MultiClusterMode::$mode)
                    .await
                    .expect("simulated clusters");
                crate::$module::$scenario(&demo).await;
                demo.shutdown().await;
            }
        )*
    };
}

mod on_the_simulated_clusters {
    use super::*;

    on_the_simulated_clusters!(Global:
        passes::a_full_drill_passes_and_restores_exactly,
        breaks::preflight_refuses_without_outlier_detection_and_dry_run_changes_nothing,
        breaks::a_container_with_its_own_command_and_args_gets_them_back,
        breaks::the_scale_break_passes_and_puts_back_the_exact_replica_counts,
        breaks::a_distroless_image_stops_the_drill_within_seconds_and_restores,
        breaks::a_readiness_probe_refuses_the_command_patch_and_stops_it_fast_when_chosen,
        breaks::owners_and_hpas_are_warned_about_in_dry_run_and_at_the_prompt,
        passes::failed_expectations_restore_and_say_by_how_much,
        passes::destination_rules_rank_with_the_meshs_root_namespace,
        signals::a_second_ctrl_c_does_not_stop_the_restore,
        signals::closed_stdout_and_stderr_do_not_skip_the_restore,
        signals::sighup_restores_before_exiting,
    );
    on_the_simulated_clusters!(MultiPrimary:
        passes::a_multi_primary_drill_with_istio_cluster_ids_passes_and_restores,
        breaks::preflight_refuses_a_multi_primary_drill_whose_remote_secret_has_the_wrong_key,
    );

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_then_drill_restore_in_every_phase() {
        let demo = Demo::start(Duration::from_millis(300)).await;
        signals::sigkill_then_restore_in_every_phase(&demo, &[]).await;
        demo.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_then_drill_restore_in_every_phase_of_the_scale_break() {
        let demo = Demo::start(Duration::from_millis(300)).await;
        signals::sigkill_then_restore_in_every_phase(&demo, &["--break-mode", "scale"]).await;
        demo.shutdown().await;
    }
}
