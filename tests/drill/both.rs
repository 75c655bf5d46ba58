//! The drill on both backends: the simulated clusters and real control planes. One fleet per
//! backend runs the scenarios in sequence (a real fleet takes tens of seconds to start); each
//! ends with every deployment as it was before, which the next one starts from.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drill_passes_survives_signals_and_sigkill_then_restore_on_both_backends() {
    for backend in Backend::all() {
        let started = std::time::Instant::now();
        let Some(demo) = Demo::on(backend).await else {
            continue;
        };
        passes::a_full_drill_passes_and_restores_exactly(&demo).await;
        signals::sigkill_then_restore_in_every_phase(&demo, &[]).await;
        signals::sigkill_then_restore_in_every_phase(&demo, &["--break-mode", "scale"]).await;
        if backend == Backend::Real {
            // On the simulated clusters, each runs in every phase as a test of its own
            // (tests/drill/signals.rs); on real control planes, in the phases that need no
            // pod-start hold, on this fleet.
            signals::signal_in_every_phase(&demo, libc::SIGINT, "SIGINT", &[]).await;
            signals::signal_in_every_phase(
                &demo,
                libc::SIGTERM,
                "SIGTERM",
                &["--break-mode", "scale"],
            )
            .await;
        }
        eprintln!(
            "{backend:?}: the drill scenarios took {:?}",
            started.elapsed()
        );
        demo.shutdown().await;
    }
}
