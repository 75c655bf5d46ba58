//! `failover test`'s I/O: [`probe_n`] sends the probes through a port-forward; the report is
//! made by `smh_core::inspect::failover_test::summarize`.

use smh_core::drill::classify::Classifier;
use smh_core::inspect::failover_test::Probe;

use crate::probe::Prober;

/// Send `n` probes one after the other (GET `path`), each classified.
pub async fn probe_n(prober: &Prober, path: &str, n: usize, classifier: &Classifier) -> Vec<Probe> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (result, latency) = prober.get(path).await;
        let c = classifier.classify(result.as_answer());
        out.push(Probe {
            class: c.class,
            status: result.status(),
            reason: c.reason,
            latency,
        });
    }
    out
}
