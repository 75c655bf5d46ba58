//! The drill on both backends. On the simulated clusters each scenario runs as a test of its
//! own, on a fleet of its own (in parallel); on real control planes one test runs them all in
//! sequence on one fleet (a real fleet takes tens of seconds to start). Each ends with every
//! deployment as it was before, which the next one starts from.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_on_real_control_planes() {
    let Some(demo) = Demo::on(Backend::Real).await else {
        return;
    };
    passes::a_full_drill_passes_and_restores_exactly(&demo).await;
    signals::sigkill_then_restore_in_every_phase(&demo, &[]).await;
    signals::sigkill_then_restore_in_every_phase(&demo, &["--break-mode", "scale"]).await;
    // On the simulated clusters, SIGINT and SIGTERM in every phase of both breaks are tests of
    // their own (tests/drill/signals.rs); here one signal per break.
    signals::signal_in_every_phase(&demo, libc::SIGINT, "SIGINT", &[]).await;
    signals::signal_in_every_phase(&demo, libc::SIGTERM, "SIGTERM", &["--break-mode", "scale"])
        .await;
    demo.shutdown().await;
}

mod on_the_simulated_clusters {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_drill_passes_and_restores_exactly() {
        let demo = Demo::on(Backend::Sim).await.expect("simulated clusters");
        passes::a_full_drill_passes_and_restores_exactly(&demo).await;
        demo.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_then_drill_restore_in_every_phase() {
        let demo = Demo::on(Backend::Sim).await.expect("simulated clusters");
        signals::sigkill_then_restore_in_every_phase(&demo, &[]).await;
        demo.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigkill_then_drill_restore_in_every_phase_of_the_scale_break() {
        let demo = Demo::on(Backend::Sim).await.expect("simulated clusters");
        signals::sigkill_then_restore_in_every_phase(&demo, &["--break-mode", "scale"]).await;
        demo.shutdown().await;
    }
}
