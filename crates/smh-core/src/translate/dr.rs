//! TrafficPolicy → DestinationRule traffic policy (SMH's `outlier-detection` and `tls`
//! decorators) for one traffic target as seen from one cluster.

use std::collections::BTreeSet;

use crate::istio::destination_rule::{OutlierDetection, TlsMode};
use crate::model::diag::ObjectId;
use crate::model::types::{OutlierDetection as SmhOutlierDetection, outlier_defaults};

use super::context::{Ctx, TargetId, TranslationNotes, proto_duration};
use super::virtual_service::FieldOwners;

/// The DestinationRule fields the policies applied to a target set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DrDecoration {
    pub outlier: Option<OutlierDetection>,
    pub tls: TlsMode,
    /// Policies that set a field; all applied policies when none did.
    pub owners: BTreeSet<ObjectId>,
    /// How many policies apply (selected target, source cluster included).
    pub applied: usize,
}

impl DrDecoration {
    /// SMH emitted a DestinationRule unless it had no subsets, TLS `DISABLE` and no
    /// outlier detection.
    pub(crate) fn has_effect(&self) -> bool {
        self.outlier.is_some() || self.tls != TlsMode::Disable
    }
}

/// SMH's mapping with its defaults (5 / 10s / 30s / 100); zero or unset means default.
pub fn outlier_detection(od: &SmhOutlierDetection) -> Result<OutlierDetection, String> {
    let duration = |v: &Option<String>, default: &str, field: &str| -> Result<String, String> {
        match v {
            Some(d) => Ok(proto_duration(d)
                .map_err(|e| format!("{field}: {e}"))?
                .unwrap_or_else(|| default.to_string())),
            None => Ok(default.to_string()),
        }
    };
    let or = |v: u32, d: u32| if v == 0 { d } else { v };
    Ok(OutlierDetection {
        consecutive_5xx_errors: Some(or(
            od.consecutive_errors,
            outlier_defaults::CONSECUTIVE_ERRORS,
        )),
        interval: Some(duration(
            &od.interval,
            outlier_defaults::INTERVAL,
            "interval",
        )?),
        base_ejection_time: Some(duration(
            &od.base_ejection_time,
            outlier_defaults::BASE_EJECTION_TIME,
            "baseEjectionTime",
        )?),
        max_ejection_percent: Some(
            i32::try_from(or(
                od.max_ejection_percent,
                outlier_defaults::MAX_EJECTION_PERCENT,
            ))
            .unwrap_or(i32::MAX),
        ),
        ..Default::default()
    })
}

/// Apply the policies on `t` whose sourceSelector includes `source` to a DestinationRule
/// for `t` written to `source`. The TLS mode starts at SMH's Settings default,
/// `ISTIO_MUTUAL`.
pub(crate) fn decorate(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    t: &TargetId,
    source: &str,
) -> DrDecoration {
    let mut d = DrDecoration {
        outlier: None,
        tls: TlsMode::IstioMutual,
        owners: BTreeSet::new(),
        applied: 0,
    };
    let mut fields = FieldOwners::default();
    let policies = ctx.policies_for(t, source);
    d.applied = policies.len();
    for p in &policies {
        let mut contributed = false;
        if let Some(od) = &p.tp.spec.outlier_detection {
            let r = outlier_detection(od).and_then(|new| {
                let new = Some(new);
                if fields.register("trafficPolicy.outlierDetection", &d.outlier, &new, &p.id)? {
                    d.outlier = new;
                }
                Ok(())
            });
            match r {
                Ok(()) => contributed = true,
                Err(e) => report.policy_error(
                    p,
                    t,
                    "spec.outlierDetection",
                    format!("outlier-detection: {e}"),
                ),
            }
        }
        if let Some(mode) =
            p.tp.spec
                .mtls
                .as_ref()
                .and_then(|m| m.istio.as_ref())
                .and_then(|i| i.tls_mode.as_deref())
        {
            let r = TlsMode::parse_smh(mode)
                .ok_or_else(|| {
                    format!(
                        "unrecognized tlsMode {mode:?} (expected DISABLE, SIMPLE or ISTIO_MUTUAL)"
                    )
                })
                .and_then(|new| {
                    if fields.register("trafficPolicy.tls", &d.tls, &new, &p.id)? {
                        d.tls = new;
                    }
                    Ok(())
                });
            match r {
                Ok(()) => contributed = true,
                Err(e) => report.policy_error(p, t, "spec.mtls.istio.tlsMode", format!("tls: {e}")),
            }
        }
        if contributed {
            d.owners.insert(p.id.clone());
        }
    }
    if d.owners.is_empty() {
        d.owners = policies.iter().map(|p| p.id.clone()).collect();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smh_defaults_and_mapping() {
        // outlier_detection_decorator_test.go: consecutiveErrors 2 → {2, 10s, 30s, 100}.
        let od = outlier_detection(&SmhOutlierDetection {
            consecutive_errors: 2,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(od.consecutive_5xx_errors, Some(2));
        assert_eq!(od.interval.as_deref(), Some("10s"));
        assert_eq!(od.base_ejection_time.as_deref(), Some("30s"));
        assert_eq!(od.max_ejection_percent, Some(100));
        assert_eq!(od.consecutive_errors, None);

        let od = outlier_detection(&SmhOutlierDetection {
            consecutive_errors: 0,
            interval: Some("1m".into()),
            base_ejection_time: Some("0s".into()),
            max_ejection_percent: 50,
        })
        .unwrap();
        assert_eq!(od.consecutive_5xx_errors, Some(5));
        assert_eq!(od.interval.as_deref(), Some("60s"));
        assert_eq!(od.base_ejection_time.as_deref(), Some("30s"));
        assert_eq!(od.max_ejection_percent, Some(50));

        assert!(
            outlier_detection(&SmhOutlierDetection {
                interval: Some("ten".into()),
                ..Default::default()
            })
            .unwrap_err()
            .starts_with("interval: ")
        );
    }
}
