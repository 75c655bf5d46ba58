//! The aggregate cluster's retry budget (`circuit_breakers.thresholds.max_retries`), pinned to
//! what real Envoy 1.40 did with istiod's configuration.

use super::*;

#[test]
fn retries_beyond_the_route_clusters_max_retries_overflow() {
    // Envoy 1.40.0 with istiod's config for the guide plus `retries: {attempts: 20}`
    // (scripts/envoy-lab/istio_failover.py, rollout to refusing pods): the aggregate cluster
    // of SMH's EnvoyFilter sets no circuit_breakers, so Envoy's default max_retries 3 holds;
    // the first 3 requests retried until the failover, the next 7 failed with 503; with
    // max_retries 4294967295 on the aggregate, none failed.
    let refused = |h: &str| {
        if h == P {
            AttemptResult::ConnectFailed
        } else {
            AttemptResult::Http(200)
        }
    };
    // No ejection here (as during the merge window): every attempt goes to P.
    let no_ejection = OutlierConfig {
        consecutive_5xx: 100,
        ..od(1000, 3000, 10_000, 100)
    };
    let mut config = failover_config(
        &[P],
        &[S],
        &no_ejection,
        Some(RetryPolicy {
            num_retries: 20,
            ..RetryPolicy::istio_default()
        }),
    );
    if let Some(ClusterDef::Aggregate(a)) = config.clusters.get_mut("agg") {
        a.max_retries = crate::world::mesh::xds::DEFAULT_MAX_RETRIES;
    }
    let mut p = proxy_with(config);
    let mut waiting = Vec::new();
    for i in 0..4 {
        let mut ex = p.start(&request(), ms(10 + i)).unwrap();
        let pick = p.next_attempt(&mut ex, ms(10 + i)).unwrap();
        assert_eq!(pick.endpoint.key, P);
        let after = p.finish_attempt(&mut ex, &pick, refused(P), ms(10 + i));
        waiting.push((ex, after));
    }
    let outcomes: Vec<bool> = waiting
        .iter()
        .map(|(_, a)| matches!(a, AfterAttempt::Retry(_)))
        .collect();
    assert_eq!(outcomes, [true, true, true, false]);
    assert!(
        matches!(&waiting[3].1, AfterAttempt::Reply(r) if r.status == 503 && r.flag == "UF"),
        "{:?}",
        waiting[3].1
    );
    // A retry that is sent frees its place; one whose caller went away too.
    let (mut first, _) = waiting.remove(0);
    let _ = p.next_attempt(&mut first, ms(300)).unwrap();
    let (mut second, _) = waiting.remove(0);
    p.release_retry(&mut second);
    for _ in 0..2 {
        let mut ex = p.start(&request(), ms(300)).unwrap();
        let pick = p.next_attempt(&mut ex, ms(300)).unwrap();
        let r = refused(&pick.endpoint.key);
        assert!(matches!(
            p.finish_attempt(&mut ex, &pick, r, ms(300)),
            AfterAttempt::Retry(_)
        ));
    }
}
