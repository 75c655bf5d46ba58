//! Message types shared by several Istio resources (`istio.io/api/networking/v1alpha3`).

use serde::{Deserialize, Serialize};

/// `StringMatch`: a oneof of `exact`, `prefix` and `regex` (RE2).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StringMatch {
    /// Matches exactly this string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    /// Matches strings starting with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Matches this RE2 regular expression (whole string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

impl StringMatch {
    /// A match on exactly `s`.
    pub fn exact(s: impl Into<String>) -> Self {
        StringMatch {
            exact: Some(s.into()),
            ..Default::default()
        }
    }
    /// A match on the prefix `s`.
    pub fn prefix(s: impl Into<String>) -> Self {
        StringMatch {
            prefix: Some(s.into()),
            ..Default::default()
        }
    }
    /// A match on the regular expression `s`.
    pub fn regex(s: impl Into<String>) -> Self {
        StringMatch {
            regex: Some(s.into()),
            ..Default::default()
        }
    }
}

/// `Percent`: a double in `[0, 100]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percent {
    /// A percentage, 0 to 100 (fractions allowed).
    #[serde(default)]
    pub value: f64,
}

/// `PortSelector`: `{number}`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct PortSelector {
    /// The port number, 1 to 65535.
    pub number: u32,
}

/// `WorkloadSelector`: `{labels}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadSelector {
    /// Pod labels a workload must have to be selected.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}
