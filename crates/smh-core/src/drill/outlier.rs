//! Outlier detection as a DestinationRule sets it for one backing service: what preflight
//! checks and what the report uses to explain its timings.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::duration::{format_proto_duration, parse_duration};

/// Istio's defaults for the fields a DestinationRule leaves unset.
pub mod istio_defaults {
    use std::time::Duration;

    pub(crate) const CONSECUTIVE_5XX_ERRORS: u32 = 5;
    pub(crate) const INTERVAL: Duration = Duration::from_secs(10);
    pub(crate) const BASE_EJECTION_TIME: Duration = Duration::from_secs(30);
    /// Istio's default: Envoy ejects at most this percentage of a cluster's hosts (rounded
    /// down), so with fewer than 10 hosts it ejects none and failover never happens.
    pub(crate) const MAX_EJECTION_PERCENT: u32 = 10;
    /// Envoy's `max_ejection_time` default: the cap on `baseEjectionTime × k`.
    pub(crate) const MAX_EJECTION_TIME: Duration = Duration::from_secs(300);
    /// Envoy's `common_lb_config.update_merge_window` default (Istio leaves it unset): a
    /// health change reaches the load balancer at once only when the cluster's previous
    /// host update is older than this; otherwise when the window is up.
    pub(crate) const UPDATE_MERGE_WINDOW: Duration = Duration::from_secs(1);
}

/// `trafficPolicy.outlierDetection` of the DestinationRule that applies to a backing
/// service, in Istio's field names. `None` fields are unset (Istio's default applies; see
/// the `effective_*` methods).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlierSettings {
    /// Where the settings come from, e.g. `mgmt-cluster: DestinationRule bookinfo/reviews`.
    pub source: String,
    /// `consecutive5xxErrors` as set; `None`: unset (Istio's default 5 applies).
    #[serde(default, rename = "consecutive5xxErrors")]
    pub consecutive_5xx_errors: Option<u32>,
    /// `consecutiveGatewayErrors` (502/503/504 in a row) as set, or the deprecated
    /// `consecutiveErrors`.
    #[serde(default)]
    pub consecutive_gateway_errors: Option<u32>,
    /// Time between ejection sweeps; `None`: unset (10 s).
    #[serde(default, with = "super::secs::opt")]
    pub interval: Option<Duration>,
    /// Minimum ejection time, multiplied by the times a host was ejected; `None`: unset (30 s).
    #[serde(default, with = "super::secs::opt")]
    pub base_ejection_time: Option<Duration>,
    /// Share of the hosts Envoy may eject, in percent; `None`: unset (Istio's 10).
    #[serde(default)]
    pub max_ejection_percent: Option<u32>,
    /// When true, connect failures (what a broken pod gives) count as local-origin failures,
    /// not as 5xx.
    #[serde(default)]
    pub split_external_local_origin_errors: bool,
    /// In Istio's ambient mode, the waypoint (`namespace/name`) that applies them: the
    /// hostname is bound to it, and it ejects hosts for every caller that goes through it.
    /// `None`: the caller's own sidecar applies them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waypoint: Option<String>,
}

impl OutlierSettings {
    pub(crate) fn effective_consecutive_5xx(&self) -> u32 {
        self.consecutive_5xx_errors
            .unwrap_or(istio_defaults::CONSECUTIVE_5XX_ERRORS)
    }
    pub(crate) fn effective_interval(&self) -> Duration {
        self.interval.unwrap_or(istio_defaults::INTERVAL)
    }
    pub(crate) fn effective_base_ejection_time(&self) -> Duration {
        self.base_ejection_time
            .unwrap_or(istio_defaults::BASE_EJECTION_TIME)
    }
    pub(crate) fn effective_max_ejection_percent(&self) -> u32 {
        self.max_ejection_percent
            .unwrap_or(istio_defaults::MAX_EJECTION_PERCENT)
    }

    /// How many consecutive errors eject a host of a broken (connection-refusing) primary:
    /// the 5xx count, or the gateway-error count when 5xx detection is off (connect failures
    /// count as 503). `None` when neither is on.
    pub(crate) fn errors_to_eject(&self) -> Option<u32> {
        match (
            self.effective_consecutive_5xx(),
            self.consecutive_gateway_errors,
        ) {
            (n, _) if n > 0 => Some(n),
            (_, Some(g)) if g > 0 => Some(g),
            _ => None,
        }
    }

    /// Read `spec.trafficPolicy.outlierDetection` of a DestinationRule (JSON as the API
    /// returns it). When `port` is given and a `portLevelSettings` entry for it has its own
    /// `outlierDetection`, that one wins, as in Istio. `Ok(None)`: the rule sets none.
    pub(crate) fn from_destination_rule(
        source: impl Into<String>,
        dr: &serde_json::Value,
        port: Option<u32>,
    ) -> Result<Option<OutlierSettings>, String> {
        let policy = dr.pointer("/spec/trafficPolicy");
        let port_level = port.and_then(|p| {
            policy
                .and_then(|tp| tp.get("portLevelSettings"))
                .and_then(|v| v.as_array())
                .and_then(|items| {
                    items.iter().find(|item| {
                        item.pointer("/port/number").and_then(|n| n.as_u64()) == Some(p as u64)
                    })
                })
                .and_then(|item| item.get("outlierDetection"))
        });
        let od = match port_level.or_else(|| policy.and_then(|tp| tp.get("outlierDetection"))) {
            Some(od) if !od.is_null() => od,
            _ => return Ok(None),
        };
        let source = source.into();
        let u32_field = |name: &str| -> Result<Option<u32>, String> {
            match od.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(v) => {
                    let n = match v {
                        serde_json::Value::Number(n) => n.as_u64(),
                        serde_json::Value::String(s) => s.parse::<u64>().ok(),
                        _ => None,
                    };
                    n.and_then(|n| u32::try_from(n).ok())
                        .map(Some)
                        .ok_or_else(|| {
                            format!(
                                "{source}: outlierDetection.{name}: {v} is not a number 0..2^32"
                            )
                        })
                }
            }
        };
        let duration_field = |name: &str| -> Result<Option<Duration>, String> {
            match od.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => parse_duration(s)
                    .map(Some)
                    .map_err(|e| format!("{source}: outlierDetection.{name}: {e}")),
                Some(v) => Err(format!(
                    "{source}: outlierDetection.{name}: {v} is not a duration string like \"10s\""
                )),
            }
        };
        let gateway = match u32_field("consecutiveGatewayErrors")? {
            // The deprecated `consecutiveErrors` counts gateway errors (502/503/504): Istio
            // maps it to Envoy's consecutive_gateway_failure.
            None => u32_field("consecutiveErrors")?,
            some => some,
        };
        let settings = OutlierSettings {
            consecutive_5xx_errors: u32_field("consecutive5xxErrors")?,
            consecutive_gateway_errors: gateway,
            interval: duration_field("interval")?,
            base_ejection_time: duration_field("baseEjectionTime")?,
            max_ejection_percent: u32_field("maxEjectionPercent")?,
            split_external_local_origin_errors: od
                .get("splitExternalLocalOriginErrors")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            source: source.clone(),
            waypoint: None,
        };
        Ok(Some(settings))
    }
}

impl fmt::Display for OutlierSettings {
    /// `consecutive5xxErrors 1, interval 10s, baseEjectionTime 30s, maxEjectionPercent 100`,
    /// with `(default)` after values Istio fills in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn mark<T>(v: &Option<T>) -> &'static str {
            if v.is_some() { "" } else { " (default)" }
        }
        write!(
            f,
            "consecutive5xxErrors {}{}",
            self.effective_consecutive_5xx(),
            mark(&self.consecutive_5xx_errors)
        )?;
        if let Some(g) = self.consecutive_gateway_errors {
            write!(f, ", consecutiveGatewayErrors {g}")?;
        }
        write!(
            f,
            ", interval {}{}, baseEjectionTime {}{}, maxEjectionPercent {}{}",
            format_proto_duration(self.effective_interval()),
            mark(&self.interval),
            format_proto_duration(self.effective_base_ejection_time()),
            mark(&self.base_ejection_time),
            self.effective_max_ejection_percent(),
            mark(&self.max_ejection_percent)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_smh_generated_rule() {
        let dr = json!({"spec": {"host": "reviews.bookinfo.svc.cluster.local", "trafficPolicy": {
            "outlierDetection": {"consecutive5xxErrors": 1, "interval": "10s",
                                 "baseEjectionTime": "30s", "maxEjectionPercent": 100}}}});
        let od = OutlierSettings::from_destination_rule("dr", &dr, None)
            .unwrap()
            .unwrap();
        assert_eq!(od.consecutive_5xx_errors, Some(1));
        assert_eq!(od.interval, Some(Duration::from_secs(10)));
        assert_eq!(od.base_ejection_time, Some(Duration::from_secs(30)));
        assert_eq!(od.effective_max_ejection_percent(), 100);
        assert_eq!(od.errors_to_eject(), Some(1));
        assert_eq!(
            od.to_string(),
            "consecutive5xxErrors 1, interval 10s, baseEjectionTime 30s, maxEjectionPercent 100"
        );
    }

    #[test]
    fn defaults_and_absence() {
        let none =
            json!({"spec": {"host": "x", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}});
        assert_eq!(
            OutlierSettings::from_destination_rule("dr", &none, None).unwrap(),
            None
        );
        let empty = json!({"spec": {"trafficPolicy": {"outlierDetection": {}}}});
        let od = OutlierSettings::from_destination_rule("dr", &empty, None)
            .unwrap()
            .unwrap();
        assert_eq!(od.effective_consecutive_5xx(), 5);
        assert_eq!(od.effective_max_ejection_percent(), 10);
        assert!(od.to_string().contains("maxEjectionPercent 10 (default)"));
    }

    #[test]
    fn port_level_settings_win_and_bad_values_are_named() {
        let dr = json!({"spec": {"trafficPolicy": {
            "outlierDetection": {"consecutive5xxErrors": 7},
            "portLevelSettings": [{"port": {"number": 9080},
                                   "outlierDetection": {"consecutive5xxErrors": 2}}]}}});
        let od = OutlierSettings::from_destination_rule("dr", &dr, Some(9080))
            .unwrap()
            .unwrap();
        assert_eq!(od.consecutive_5xx_errors, Some(2));
        let od = OutlierSettings::from_destination_rule("dr", &dr, Some(80))
            .unwrap()
            .unwrap();
        assert_eq!(od.consecutive_5xx_errors, Some(7));

        let bad = json!({"spec": {"trafficPolicy": {"outlierDetection": {"interval": "soon"}}}});
        let err = OutlierSettings::from_destination_rule("ctx: DestinationRule a/b", &bad, None)
            .unwrap_err();
        assert!(
            err.starts_with("ctx: DestinationRule a/b: outlierDetection.interval"),
            "{err}"
        );
    }

    #[test]
    fn gateway_errors_when_5xx_is_off() {
        let dr = json!({"spec": {"trafficPolicy": {"outlierDetection": {
            "consecutive5xxErrors": 0, "consecutiveErrors": 3}}}});
        let od = OutlierSettings::from_destination_rule("dr", &dr, None)
            .unwrap()
            .unwrap();
        assert_eq!(od.errors_to_eject(), Some(3));
        let off =
            json!({"spec": {"trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 0}}}});
        let od = OutlierSettings::from_destination_rule("dr", &off, None)
            .unwrap()
            .unwrap();
        assert_eq!(od.errors_to_eject(), None);
    }
}
