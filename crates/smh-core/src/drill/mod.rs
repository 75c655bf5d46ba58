//! The failover drill: the guide's "Demonstrating Failover Functionality" as a
//! safe, measured procedure.
//!
//! Everything here is pure: no tokio, no `kube::Client`, no network, no clock. The executor
//! (`smh_drill::run_drill`, in the `smh-drill` crate, on top of `smh-cluster`) drives it:
//!
//! 1. [`plan::lookups`] says which clusters and namespaces to list deployments in; the
//!    executor fetches them and the primary Service, then [`plan::build_plan`] makes the
//!    [`plan::DrillPlan`] (or says which flag to pass).
//! 2. [`machine::Machine`] is the state machine. The executor feeds it
//!    [`machine::Event`]s (with the time since the drill started) and performs the
//!    [`machine::Action`]s it returns, until [`machine::Action::Finish`].
//! 3. [`preflight::check`] turns observed facts into refusals, [`workload::assess`] judges
//!    what breaking the deployments will do (probes, images, owners that may undo the
//!    break); [`classify::Classifier`]
//!    turns probe answers into [`Class`]es; [`restore`] builds the annotation and the patches;
//!    [`report::DrillReport`] (built with [`measure`]) is what `-o json` prints and
//!    the binary's `render::drill` draws.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod classify;
pub mod live;
pub mod machine;
pub mod measure;
pub mod outlier;
pub mod plan;
pub mod preflight;
pub mod report;
pub mod restore;
pub mod workload;

pub use classify::{Classification, Classifier, ClassifierSpec};
pub use machine::{Action, DrillOutcome, Event, Machine, Phase};
pub use measure::{Markers, Measurements};
pub use outlier::OutlierSettings;
pub use plan::{DrillOptions, DrillPlan, PlanError, PlanInput, WorkloadRef};
pub use preflight::{PreflightFacts, PreflightReport};
pub use report::DrillReport;
pub use restore::{BreakMode, RestoreContext, RestoreError, RestorePlan};
pub use workload::Assessment;

/// A deployment in a cluster. Displayed as `CLUSTER:NAMESPACE/NAME`, the syntax `--break`
/// and `--probe-workload` accept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRef {
    /// SMH cluster name (as in the FailoverService's `clusterName`).
    pub cluster: String,
    /// The deployment's namespace.
    pub namespace: String,
    /// The deployment's name.
    pub name: String,
}

impl fmt::Display for DeploymentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.cluster, self.namespace, self.name)
    }
}

/// What a probe answer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Served by the primary backing service (bookinfo: no stars or black stars).
    Primary,
    /// Served by a secondary backing service (bookinfo: red stars).
    FailedOver,
    /// Not a usable answer: transport error, non-2xx status, error page, or an answer that
    /// shows neither.
    Error,
}

impl Class {
    /// As the report prints it: `primary`, `failed over`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Primary => "primary",
            Class::FailedOver => "failed over",
            Class::Error => "error",
        }
    }
}

/// One classified probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeSample {
    /// When the request was sent, since the drill started.
    #[serde(with = "secs")]
    pub at: Duration,
    /// Primary, failed over, or error.
    pub class: Class,
    /// Time from sending the request to the end of the answer (or the transport error).
    #[serde(with = "secs")]
    pub latency: Duration,
    /// HTTP status, when an HTTP answer arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why the answer got its class (always set for errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A termination request the executor caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Signal {
    /// Ctrl-C.
    #[serde(rename = "SIGINT")]
    Interrupt,
    /// `kill` or a service manager stopping the process.
    #[serde(rename = "SIGTERM")]
    Terminate,
    /// The terminal went away (a closed window, a dropped ssh connection).
    #[serde(rename = "SIGHUP")]
    Hangup,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        })
    }
}

/// Seconds with millisecond precision, for reports and messages.
pub fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// `12.3s`, `2m0s`: short human form for messages (one decimal below a minute).
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        let whole = d.as_secs();
        let (m, sec) = (whole / 60, whole % 60);
        let frac = d.subsec_millis();
        if frac == 0 {
            format!("{m}m{sec}s")
        } else {
            format!("{m}m{sec}.{}s", format!("{frac:03}").trim_end_matches('0'))
        }
    }
}

/// serde: `Duration` as seconds (f64, millisecond precision).
pub(crate) mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(super::seconds(*d))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }

    /// The same for `Option<Duration>` (`null` when absent).
    pub(crate) mod opt {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            d: &Option<Duration>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&super::super::seconds(*d)),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Duration>, D::Error> {
            match Option::<f64>::deserialize(d)? {
                Some(v) => Duration::try_from_secs_f64(v)
                    .map(Some)
                    .map_err(serde::de::Error::custom),
                None => Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(3240)), "3.2s");
        assert_eq!(human(Duration::from_secs(120)), "2m0s");
        assert_eq!(human(Duration::from_millis(150_500)), "2m30.5s");
    }

    #[test]
    fn sample_json_uses_seconds() {
        let s = ProbeSample {
            at: Duration::from_millis(1500),
            class: Class::FailedOver,
            latency: Duration::from_micros(12_345),
            status: Some(200),
            reason: None,
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"at": 1.5, "class": "failed-over", "latency": 0.012, "status": 200})
        );
        let back: ProbeSample = serde_json::from_value(v).unwrap();
        assert_eq!(back.at, Duration::from_millis(1500));
    }

    #[test]
    fn deployment_ref_display_matches_flag_syntax() {
        let d = DeploymentRef {
            cluster: "mgmt-cluster".into(),
            namespace: "bookinfo".into(),
            name: "reviews-v1".into(),
        };
        assert_eq!(d.to_string(), "mgmt-cluster:bookinfo/reviews-v1");
    }
}
