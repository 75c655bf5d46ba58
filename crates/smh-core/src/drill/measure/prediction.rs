//! The outlier-detection model: what the primary's outlier settings predict for this drill
//! (errors before ejection, time to eject, when failback can start), set next to what was
//! measured.

use std::time::Duration;

use serde::Serialize;

use super::{Markers, Measurements};
use crate::drill::outlier::{OutlierSettings, istio_defaults};
use crate::drill::{Class, ProbeSample, human, secs};

/// The outlier-detection model applied to this drill: what the settings predict (errors
/// before an ejection, time to eject, when an ejected host returns), next to what was
/// measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlierModel {
    /// The primary's outlier detection, as the model takes it.
    pub settings: OutlierSettings,
    /// The primary's hosts: the broken deployments' replicas.
    pub primary_hosts: u32,
    /// The probe rate the model assumes.
    pub probe_rate_per_second: f64,
    /// Break rollout + N errors × hosts ÷ rate.
    #[serde(with = "secs::opt")]
    pub expected_failover: Option<Duration>,
    /// … plus Envoy's update merge window, when the ejection comes less than that after
    /// the rollout last changed the hosts.
    #[serde(with = "secs::opt")]
    pub expected_failover_max: Option<Duration>,
    /// N × hosts, through the probe's one client sidecar.
    pub expected_failed_requests: Option<u64>,
    /// … plus the probes of one merge window.
    pub expected_failed_requests_max: Option<u64>,
    /// Ejection episodes seen (1 + re-ejections), the k of baseEjectionTime × k.
    pub ejections: u32,
    /// Restore rollout (new addresses start un-ejected) …
    #[serde(with = "secs::opt")]
    pub expected_failback_min: Option<Duration>,
    /// … up to restore rollout + the rest of the ejection + one interval (same addresses).
    #[serde(with = "secs::opt")]
    pub expected_failback_max: Option<Duration>,
    /// The model and the comparison, in sentences for the report.
    pub explanation: Vec<String>,
}

/// `measured 2.0s to steady failover`, or `steady failover was not reached` when the drill
/// has no such moment (it stopped first, or the answers never settled).
fn to_steady(d: Option<Duration>, what: &str) -> String {
    match d {
        Some(d) => format!("measured {} to steady {what}", human(d)),
        None => format!("steady {what} was not reached"),
    }
}

/// Apply the model: `settings` of the primary, `hosts` broken, probes at `rate` per second.
pub(crate) fn outlier_model(
    settings: &OutlierSettings,
    hosts: u32,
    rate: f64,
    samples: &[ProbeSample],
    markers: &Markers,
    m: &Measurements,
) -> OutlierModel {
    let n = settings.errors_to_eject();
    let base = settings.effective_base_ejection_time();
    let interval = settings.effective_interval();
    let max_pct = settings.effective_max_ejection_percent();
    let mut lines = vec![format!(
        "outlier detection on the primary ({}): {settings}",
        settings.source
    )];

    let detect = n.map(|n| Duration::from_secs_f64(n as f64 * hosts as f64 / rate));
    let expected_failover = match (m.break_rollout, detect) {
        (Some(r), Some(d)) => Some(r + d),
        _ => None,
    };
    let merge = istio_defaults::UPDATE_MERGE_WINDOW;
    let expected_failover_max = expected_failover.map(|d| d + merge);
    let expected_failed_requests = n.map(|n| n as u64 * hosts as u64);
    let merge_probes = (merge.as_secs_f64() * rate).round() as u64;
    let expected_failed_requests_max = expected_failed_requests.map(|e| e + merge_probes);
    // A rollout that did not complete, and so a prediction built on it.
    let rollout = |d: Option<Duration>| d.map_or("did not complete".to_string(), human);
    let predicted = |d: Option<Duration>| d.map_or("unknown".to_string(), human);
    match n {
        Some(n) => {
            lines.push(format!(
                "failover ≈ break rollout ({}) + {n} consecutive error(s) × {hosts} primary host(s) ÷ {rate} probes/s ({}) = {}, up to {} when the ejections come within Envoy's update merge window ({}) of the rollout's last host change: the load balancer applies them only when that window is up; {}",
                rollout(m.break_rollout),
                human(detect.unwrap_or_default()),
                predicted(expected_failover),
                predicted(expected_failover_max),
                human(merge),
                to_steady(m.break_to_steady_failover, "failover"),
            ));
            let who = match &settings.waypoint {
                Some(w) => format!(
                    "the waypoint {w} ejects a host after {n} error(s) of any caller that goes through it (in ambient mode the probe's client has no sidecar)"
                ),
                None => format!("each client sidecar ejects a host on its own after {n} error(s)"),
            };
            lines.push(format!(
                "{who}: about {} failed request(s) through this probe's client, up to {} with the merge window ({merge_probes} probes in {}); measured {}",
                n as u64 * hosts as u64,
                n as u64 * hosts as u64 + merge_probes,
                human(merge),
                m.errors_during_failover
            ));
        }
        None => lines.push(
            "consecutive5xxErrors is 0 and consecutiveGatewayErrors unset: no host is ever ejected, so failover cannot happen".into(),
        ),
    }
    if settings.split_external_local_origin_errors {
        lines.push("splitExternalLocalOriginErrors is on: connect failures (a broken pod) count as local-origin failures, not 5xx, so consecutiveLocalOriginFailures decides the ejection".into());
    }
    if max_pct < 100 {
        let ejectable = (hosts as u64 * max_pct as u64) / 100;
        lines.push(format!(
            "maxEjectionPercent {max_pct} lets at most {ejectable} of {hosts} host(s) be ejected; the others keep receiving traffic and failing"
        ));
    }

    // Ejection episodes: error runs separated by more than half the base ejection time.
    let failover_errors: Vec<Duration> = samples
        .iter()
        .filter(|s| {
            s.class == Class::Error
                && markers.break_applied.is_some_and(|b| s.at >= b)
                && markers.restore_applied.is_none_or(|r| s.at < r)
        })
        .map(|s| s.at)
        .collect();
    let gaps = failover_errors
        .windows(2)
        .filter(|w| w[1].saturating_sub(w[0]) > base / 2)
        .count();
    let k = if failover_errors.is_empty() {
        0
    } else {
        1 + gaps as u32
    };
    if m.errors_after_steady_failover > 0 {
        lines.push(format!(
            "{} failed request(s) after steady failover: an ejection ends after baseEjectionTime × k ({} × k, at most {}) while the primary is still broken, so requests reach it again until it is re-ejected; {k} ejection episode(s) seen",
            m.errors_after_steady_failover,
            human(base),
            human(istio_defaults::MAX_EJECTION_TIME)
        ));
    }

    let (fb_min, fb_max) = match (m.restore_rollout, markers.restore_rollout_complete) {
        (Some(r), Some(done)) => {
            let ejection = (base * k.max(1)).min(istio_defaults::MAX_EJECTION_TIME);
            let remaining = failover_errors
                .last()
                .map(|&last| (last + ejection).saturating_sub(done))
                .unwrap_or_default();
            (Some(r), Some(r + remaining + interval))
        }
        _ => (None, None),
    };
    lines.push(format!(
        "failback ≈ restore rollout ({}) when restored pods come back at new addresses (they start un-ejected), up to {} when ejected hosts come back at the same address (the rest of baseEjectionTime × k, plus up to one interval {}); {}",
        rollout(m.restore_rollout),
        predicted(fb_max),
        human(interval),
        to_steady(m.restore_to_steady_failback, "failback"),
    ));

    OutlierModel {
        settings: settings.clone(),
        primary_hosts: hosts,
        probe_rate_per_second: rate,
        expected_failover,
        expected_failover_max,
        expected_failed_requests,
        expected_failed_requests_max,
        ejections: k,
        expected_failback_min: fb_min,
        expected_failback_max: fb_max,
        explanation: lines,
    }
}
