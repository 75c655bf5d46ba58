//! The zero-loss failover settings: what a FailoverService's TrafficPolicies need so that the
//! guide's failover (the primary's pods replaced by pods that serve nothing) loses no
//! request, as measured on real Envoy running what real istiod generates
//! (`cargo bench --bench failover_real`; docs/benchmarks.md).
//!
//! Why the guide's settings lose requests: the rollout is an endpoint update, and Envoy
//! delivers a health change less than `update_merge_window` (1 s, which Istio does not
//! change) after the previous update only when that second is over. The new pods are ejected
//! on their first refused connection, but the load balancer keeps sending to them for that
//! second, and Istio's default two retries (25 and 50 ms back-off) end inside it: about ten
//! requests fail at 10 requests/s. With 20 retries, the back-offs (up to 250 ms each) outlast
//! the second and the last retries go to the secondary.
//!
//! What it costs: during that second a request waits up to about 1 s more before it is
//! answered, and a primary whose requests fail for other reasons (a connection refused by
//! an overloaded service) is retried up to 20 times. Answers with an HTTP status (a 500 from
//! the application, a 503 from the server's sidecar) are not retried: Istio's default retry
//! conditions, the only ones a TrafficPolicy can give, retry connection failures, refused
//! streams and `unavailable`/`cancelled` gRPC statuses, and no status code.

use super::types::{OutlierDetection, RetryPolicy, TrafficPolicySpec};
use super::{Manifest, SmhObject};

/// Retries on the traffic shift: enough back-offs (25 ms doubling to 250 ms, jittered) to
/// outlast Envoy's 1 s update merge window.
pub const RETRY_ATTEMPTS: i32 = 20;

/// Outlier detection: eject a host on its first failure.
pub const CONSECUTIVE_ERRORS: u32 = 1;

/// Outlier detection: every host may be ejected (below 100, Envoy may eject none of a small
/// service's hosts and failover never starts).
pub const MAX_EJECTION_PERCENT: u32 = 100;

/// One line on what the settings are, for help text, the wizard, lint and the drill report.
pub const SUMMARY: &str = "consecutiveErrors 1 and maxEjectionPercent 100 on the backing \
services, retries {attempts: 20} on the traffic shift";

/// The trade-off, in a sentence.
pub const TRADE_OFF: &str = "requests that reach the failed primary in the second after its \
pods change are retried until Envoy fails over, so they take up to about 1 s longer instead \
of failing; answers with an HTTP status (a 500 from the application) are still not retried";

/// The retries of the traffic shift.
pub fn retries() -> RetryPolicy {
    RetryPolicy {
        attempts: RETRY_ATTEMPTS,
        per_try_timeout: None,
    }
}

/// Outlier detection for the backing services (interval and base ejection time: SMH's).
pub fn outlier_detection() -> OutlierDetection {
    OutlierDetection {
        consecutive_errors: CONSECUTIVE_ERRORS,
        max_ejection_percent: MAX_EJECTION_PERCENT,
        ..OutlierDetection::default()
    }
}

/// What a traffic-shift policy lacks for zero loss, in words; empty when it has it. A
/// `requestTimeout` below 2 s can end the retries before the failover.
pub fn shift_shortfalls(spec: &TrafficPolicySpec) -> Vec<String> {
    let mut out = Vec::new();
    let attempts = spec.retries.as_ref().map_or(0, |r| r.attempts);
    if attempts < RETRY_ATTEMPTS {
        out.push(if spec.retries.is_none() {
            format!("no retries (Istio's default: 2), fewer than {RETRY_ATTEMPTS}")
        } else {
            format!("retries.attempts {attempts}, fewer than {RETRY_ATTEMPTS}")
        });
    }
    if let Some(t) = &spec.request_timeout
        && let Ok(d) = super::duration::parse_duration(t)
        && !d.is_zero()
        && d < std::time::Duration::from_secs(2)
    {
        out.push(format!(
            "requestTimeout {t} may end the retries before Envoy fails over (at least 2s)"
        ));
    }
    out
}

/// What outlier detection lacks for zero loss; empty when it has it. `None` is SMH's
/// default (5 consecutive errors).
pub fn outlier_shortfalls(od: &OutlierDetection) -> Vec<String> {
    let mut out = Vec::new();
    let errors = if od.consecutive_errors == 0 {
        5
    } else {
        od.consecutive_errors
    };
    if errors > CONSECUTIVE_ERRORS {
        out.push(format!(
            "consecutiveErrors {errors}: each primary host fails {errors} requests before it is ejected (1 ejects on the first)"
        ));
    }
    let pct = if od.max_ejection_percent == 0 {
        100
    } else {
        od.max_ejection_percent
    };
    if pct < MAX_EJECTION_PERCENT {
        out.push(format!(
            "maxEjectionPercent {pct}: Envoy may leave failing primary hosts in service"
        ));
    }
    out
}

/// Lint: for each TrafficPolicy that shifts traffic to a FailoverService, or gives outlier
/// detection, what it lacks for zero-loss failover, one line each (`kubectl smh validate`
/// prints them as suggestions; they are not warnings: the guide's settings work).
pub fn suggestions(manifests: &[Manifest]) -> Vec<String> {
    let mut out = Vec::new();
    for m in manifests {
        let SmhObject::TrafficPolicy(tp) = &m.object else {
            continue;
        };
        let name = format!(
            "TrafficPolicy {}/{}",
            tp.metadata.namespace.as_deref().unwrap_or_default(),
            tp.metadata.name.as_deref().unwrap_or_default()
        );
        let shifts_to_failover = tp
            .spec
            .traffic_shift
            .as_ref()
            .is_some_and(|s| s.destinations.iter().any(|d| d.failover_service.is_some()));
        let mut lacks = Vec::new();
        if shifts_to_failover {
            lacks.extend(shift_shortfalls(&tp.spec));
        }
        if let Some(od) = &tp.spec.outlier_detection {
            lacks.extend(outlier_shortfalls(od));
        }
        if !lacks.is_empty() {
            out.push(format!(
                "{}: {name}: for a failover that loses no request, set {SUMMARY} (`kubectl smh failover create --zero-loss`); now: {}. Trade-off: {TRADE_OFF}",
                m.source,
                lacks.join("; ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse::parse_str;

    #[test]
    fn the_guides_traffic_shift_gets_a_suggestion_and_the_preset_none() {
        let guide = "apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: shift, namespace: bookinfo}
spec:
  destinationSelector:
  - kubeServiceRefs:
      services: [{clusterName: mgmt-cluster, name: reviews, namespace: bookinfo}]
  trafficShift:
    destinations:
    - failoverService: {name: reviews-failover, namespace: service-mesh-hub}
";
        let loaded = parse_str("shift.yaml", guide);
        let lines = suggestions(&loaded.manifests);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(
            lines[0].starts_with("shift.yaml: document 1 (line 1): TrafficPolicy bookinfo/shift: for a failover that loses no request, set "),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("now: no retries (Istio's default: 2), fewer than 20. Trade-off: "),
            "{}",
            lines[0]
        );
        let preset = format!("{guide}  retries: {{attempts: 20}}\n");
        assert!(suggestions(&parse_str("shift.yaml", &preset).manifests).is_empty());
    }

    #[test]
    fn the_guides_shift_falls_short_and_the_preset_does_not() {
        let guide = TrafficPolicySpec::default();
        assert_eq!(
            shift_shortfalls(&guide),
            ["no retries (Istio's default: 2), fewer than 20"]
        );
        let preset = TrafficPolicySpec {
            retries: Some(retries()),
            ..TrafficPolicySpec::default()
        };
        assert!(shift_shortfalls(&preset).is_empty());
        let short = TrafficPolicySpec {
            retries: Some(retries()),
            request_timeout: Some("1s".into()),
            ..TrafficPolicySpec::default()
        };
        assert_eq!(shift_shortfalls(&short).len(), 1);
    }

    #[test]
    fn smh_default_outlier_detection_falls_short() {
        assert_eq!(outlier_shortfalls(&OutlierDetection::default()).len(), 1);
        assert!(outlier_shortfalls(&outlier_detection()).is_empty());
        let low = OutlierDetection {
            consecutive_errors: 1,
            max_ejection_percent: 50,
            ..OutlierDetection::default()
        };
        assert_eq!(outlier_shortfalls(&low).len(), 1);
    }
}
