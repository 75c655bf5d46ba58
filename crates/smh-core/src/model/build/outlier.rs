//! Outlier detection values of `failover create`: flags, SMH's defaults, and what a policy
//! already applies.

use super::*;

/// Outlier detection as the user gives it; `None` is SMH's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutlierFlags {
    /// Errors before an endpoint is ejected; SMH's default 5.
    pub consecutive_errors: Option<u32>,
    /// Time between ejection sweeps; SMH's default 10s.
    pub interval: Option<Duration>,
    /// Minimum ejection time; SMH's default 30s.
    pub base_ejection_time: Option<Duration>,
    /// Maximum percentage of endpoints ejected; SMH's default 100.
    pub max_ejection_percent: Option<u32>,
}

/// Outlier detection with every default applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveOutlier {
    /// Errors before an endpoint is ejected.
    pub consecutive_errors: u32,
    /// Time between ejection sweeps.
    pub interval: Duration,
    /// Minimum ejection time (Envoy multiplies it by the number of ejections).
    pub base_ejection_time: Duration,
    /// Maximum percentage of endpoints ejected at once.
    pub max_ejection_percent: u32,
}

impl EffectiveOutlier {
    /// SMH's defaults: 5 / 10s / 30s / 100.
    pub fn smh_default() -> Self {
        EffectiveOutlier {
            consecutive_errors: outlier_defaults::CONSECUTIVE_ERRORS,
            interval: Duration::from_secs(10),
            base_ejection_time: Duration::from_secs(30),
            max_ejection_percent: outlier_defaults::MAX_EJECTION_PERCENT,
        }
    }
}

impl std::fmt::Display for EffectiveOutlier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "consecutiveErrors {}, interval {}, baseEjectionTime {}, maxEjectionPercent {}",
            self.consecutive_errors,
            format_proto_duration(self.interval),
            format_proto_duration(self.base_ejection_time),
            self.max_ejection_percent
        )
    }
}

impl OutlierFlags {
    /// Whether any value was given.
    pub fn is_set(&self) -> bool {
        self != &OutlierFlags::default()
    }

    /// The values with SMH's defaults filled in.
    pub fn effective(&self) -> EffectiveOutlier {
        let d = EffectiveOutlier::smh_default();
        EffectiveOutlier {
            consecutive_errors: self.consecutive_errors.unwrap_or(d.consecutive_errors),
            interval: self.interval.unwrap_or(d.interval),
            base_ejection_time: self.base_ejection_time.unwrap_or(d.base_ejection_time),
            max_ejection_percent: self.max_ejection_percent.unwrap_or(d.max_ejection_percent),
        }
    }

    /// Only the values that differ from SMH's defaults (`None` otherwise).
    pub fn from_effective(e: EffectiveOutlier) -> Self {
        let d = EffectiveOutlier::smh_default();
        fn differ<T: PartialEq>(v: T, d: T) -> Option<T> {
            if v == d { None } else { Some(v) }
        }
        OutlierFlags {
            consecutive_errors: differ(e.consecutive_errors, d.consecutive_errors),
            interval: differ(e.interval, d.interval),
            base_ejection_time: differ(e.base_ejection_time, d.base_ejection_time),
            max_ejection_percent: differ(e.max_ejection_percent, d.max_ejection_percent),
        }
    }

    /// The SMH field, with the values that differ from SMH's defaults (unset means the
    /// default to SMH, so `{consecutiveErrors: 1}` is the guide's policy).
    pub(crate) fn to_smh(&self) -> OutlierDetection {
        let only = OutlierFlags::from_effective(self.effective());
        OutlierDetection {
            consecutive_errors: only.consecutive_errors.unwrap_or(0),
            interval: only.interval.map(format_proto_duration),
            base_ejection_time: only.base_ejection_time.map(format_proto_duration),
            max_ejection_percent: only.max_ejection_percent.unwrap_or(0),
        }
    }

    /// The values an SMH `outlierDetection` field means (unset or unreadable: default).
    pub(crate) fn from_smh(od: &OutlierDetection) -> Self {
        let dur = |v: &Option<String>| {
            v.as_deref()
                .and_then(|s| crate::model::duration::parse_duration(s).ok())
                .filter(|d| !d.is_zero())
        };
        let nz = |v: u32| (v != 0).then_some(v);
        OutlierFlags {
            consecutive_errors: nz(od.consecutive_errors),
            interval: dur(&od.interval),
            base_ejection_time: dur(&od.base_ejection_time),
            max_ejection_percent: nz(od.max_ejection_percent),
        }
    }
}
