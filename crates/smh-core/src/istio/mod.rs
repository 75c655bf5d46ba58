//! Typed Istio networking resources: DestinationRule, VirtualService, ServiceEntry and
//! EnvoyFilter, with only the fields kubectl-smh writes plus those the simulated data plane
//! reads. Serialization follows Istio's protobuf JSON: camelCase, empty and unset fields
//! omitted, maps as sorted `BTreeMap`s.
//!
//! **API version.** Every object is written as `networking.istio.io/v1alpha3`:
//! - it is what Service Mesh Hub v0.9.2 wrote, so output compares with SMH's;
//! - EnvoyFilter exists *only* as `v1alpha3`, so one version for all four kinds keeps the
//!   output uniform;
//! - every Istio release from 1.5 (the oldest that has the v2alpha aggregate workaround) to
//!   the current Istio CRDs serves `v1alpha3` for DestinationRule,
//!   VirtualService and ServiceEntry, with the same schema as `v1beta1`/`v1`; `v1` is
//!   served only from Istio 1.22, which would break the Istio 1.8 (v2alpha) mode;
//! - the golden files then do not change with the Istio version of the topology.
//!
//! Deserialization is lenient (unknown fields are ignored) so that the simulator can read
//! objects written by other tools; what kubectl-smh writes is checked against Istio's CRD
//! schemas by the tests.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod cluster_id;
pub mod common;
pub mod destination_rule;
pub mod envoy_filter;
pub mod service_entry;
pub mod virtual_service;

pub use destination_rule::DestinationRuleSpec;
pub use envoy_filter::EnvoyFilterSpec;
pub use service_entry::ServiceEntrySpec;
pub use virtual_service::VirtualServiceSpec;

/// API group of every Istio networking resource.
pub const GROUP: &str = "networking.istio.io";
/// The version kubectl-smh writes (see the module docs).
pub const VERSION: &str = "v1alpha3";
/// `networking.istio.io/v1alpha3`.
pub const API_VERSION: &str = "networking.istio.io/v1alpha3";

/// Errors reading an Istio object from JSON.
#[derive(Debug, thiserror::Error)]
pub enum IstioError {
    #[error("object has no string `kind`")]
    MissingKind,
    #[error(
        "unsupported Istio kind {0:?} (expected DestinationRule, VirtualService, ServiceEntry or EnvoyFilter)"
    )]
    UnsupportedKind(String),
    #[error(
        "unsupported apiVersion {0:?} for {1} (expected networking.istio.io/v1alpha3, v1beta1 or v1)"
    )]
    UnsupportedApiVersion(String, String),
    #[error("invalid {kind}: {source}")]
    Invalid {
        kind: String,
        #[source]
        source: serde_json::Error,
    },
}

macro_rules! istio_resource {
    ($(#[$doc:meta])* $ty:ident, $spec:ty, $kind:literal, $plural:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $ty {
            pub api_version: String,
            pub kind: String,
            #[serde(default)]
            pub metadata: ObjectMeta,
            #[serde(default)]
            pub spec: $spec,
        }

        impl $ty {
            pub const KIND: &'static str = $kind;
            pub const PLURAL: &'static str = $plural;

            /// A new object with `apiVersion`/`kind` set, named `namespace/name`.
            pub fn new(namespace: &str, name: &str, spec: $spec) -> Self {
                $ty {
                    api_version: API_VERSION.to_string(),
                    kind: $kind.to_string(),
                    metadata: ObjectMeta {
                        name: Some(name.to_string()),
                        namespace: Some(namespace.to_string()),
                        ..Default::default()
                    },
                    spec,
                }
            }
        }

        impl kube_core::Resource for $ty {
            type DynamicType = ();
            type Scope = kube_core::NamespaceResourceScope;

            fn kind(_: &()) -> Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> Cow<'_, str> {
                GROUP.into()
            }
            fn version(_: &()) -> Cow<'_, str> {
                VERSION.into()
            }
            fn api_version(_: &()) -> Cow<'_, str> {
                API_VERSION.into()
            }
            fn plural(_: &()) -> Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

istio_resource!(
    /// A DestinationRule: traffic policy (TLS, outlier detection) and subsets for a host.
    DestinationRule,
    DestinationRuleSpec,
    "DestinationRule",
    "destinationrules"
);
istio_resource!(
    /// A VirtualService: HTTP routes for hosts.
    VirtualService,
    VirtualServiceSpec,
    "VirtualService",
    "virtualservices"
);
istio_resource!(
    /// A ServiceEntry: adds a host (here: a FailoverService hostname with a VIP) to the mesh.
    ServiceEntry,
    ServiceEntrySpec,
    "ServiceEntry",
    "serviceentries"
);
istio_resource!(
    /// An EnvoyFilter: patches on the generated Envoy configuration.
    EnvoyFilter,
    EnvoyFilterSpec,
    "EnvoyFilter",
    "envoyfilters"
);

/// Any of the Istio objects kubectl-smh generates.
#[derive(Debug, Clone, PartialEq)]
pub enum IstioObject {
    DestinationRule(DestinationRule),
    VirtualService(VirtualService),
    ServiceEntry(ServiceEntry),
    EnvoyFilter(EnvoyFilter),
}

impl IstioObject {
    fn meta(&self) -> &ObjectMeta {
        match self {
            IstioObject::DestinationRule(o) => &o.metadata,
            IstioObject::VirtualService(o) => &o.metadata,
            IstioObject::ServiceEntry(o) => &o.metadata,
            IstioObject::EnvoyFilter(o) => &o.metadata,
        }
    }

    pub fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            IstioObject::DestinationRule(o) => &mut o.metadata,
            IstioObject::VirtualService(o) => &mut o.metadata,
            IstioObject::ServiceEntry(o) => &mut o.metadata,
            IstioObject::EnvoyFilter(o) => &mut o.metadata,
        }
    }

    pub fn api_version(&self) -> &str {
        match self {
            IstioObject::DestinationRule(o) => &o.api_version,
            IstioObject::VirtualService(o) => &o.api_version,
            IstioObject::ServiceEntry(o) => &o.api_version,
            IstioObject::EnvoyFilter(o) => &o.api_version,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            IstioObject::DestinationRule(_) => DestinationRule::KIND,
            IstioObject::VirtualService(_) => VirtualService::KIND,
            IstioObject::ServiceEntry(_) => ServiceEntry::KIND,
            IstioObject::EnvoyFilter(_) => EnvoyFilter::KIND,
        }
    }

    /// Lowercase plural resource name, e.g. `destinationrules`.
    pub fn plural(&self) -> &'static str {
        match self {
            IstioObject::DestinationRule(_) => DestinationRule::PLURAL,
            IstioObject::VirtualService(_) => VirtualService::PLURAL,
            IstioObject::ServiceEntry(_) => ServiceEntry::PLURAL,
            IstioObject::EnvoyFilter(_) => EnvoyFilter::PLURAL,
        }
    }

    pub fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> &str {
        self.meta().namespace.as_deref().unwrap_or_default()
    }

    pub fn labels(&self) -> Option<&BTreeMap<String, String>> {
        self.meta().labels.as_ref()
    }

    pub fn annotations(&self) -> Option<&BTreeMap<String, String>> {
        self.meta().annotations.as_ref()
    }

    /// The object as JSON (keys sorted, as `serde_json::Value` keeps them).
    pub fn to_value(&self) -> Value {
        let v = match self {
            IstioObject::DestinationRule(o) => serde_json::to_value(o),
            IstioObject::VirtualService(o) => serde_json::to_value(o),
            IstioObject::ServiceEntry(o) => serde_json::to_value(o),
            IstioObject::EnvoyFilter(o) => serde_json::to_value(o),
        };
        // These types serialize only strings, numbers, maps with string keys and
        // sequences, which cannot fail.
        v.unwrap_or(Value::Null)
    }

    /// Read an object from JSON (e.g. from the API server or the simulator's store).
    /// Accepts `v1alpha3`, `v1beta1` and `v1`, which share one schema.
    pub fn from_value(value: Value) -> Result<IstioObject, IstioError> {
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .ok_or(IstioError::MissingKind)?
            .to_string();
        let api_version = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let known = ["v1alpha3", "v1beta1", "v1"]
            .iter()
            .any(|v| api_version == format!("{GROUP}/{v}"));
        if !known {
            return Err(IstioError::UnsupportedApiVersion(api_version, kind));
        }
        let invalid = |source| IstioError::Invalid {
            kind: kind.clone(),
            source,
        };
        Ok(match kind.as_str() {
            "DestinationRule" => {
                IstioObject::DestinationRule(serde_json::from_value(value).map_err(invalid)?)
            }
            "VirtualService" => {
                IstioObject::VirtualService(serde_json::from_value(value).map_err(invalid)?)
            }
            "ServiceEntry" => {
                IstioObject::ServiceEntry(serde_json::from_value(value).map_err(invalid)?)
            }
            "EnvoyFilter" => {
                IstioObject::EnvoyFilter(serde_json::from_value(value).map_err(invalid)?)
            }
            _ => return Err(IstioError::UnsupportedKind(kind)),
        })
    }
}

impl From<DestinationRule> for IstioObject {
    fn from(o: DestinationRule) -> Self {
        IstioObject::DestinationRule(o)
    }
}
impl From<VirtualService> for IstioObject {
    fn from(o: VirtualService) -> Self {
        IstioObject::VirtualService(o)
    }
}
impl From<ServiceEntry> for IstioObject {
    fn from(o: ServiceEntry) -> Self {
        IstioObject::ServiceEntry(o)
    }
}
impl From<EnvoyFilter> for IstioObject {
    fn from(o: EnvoyFilter) -> Self {
        IstioObject::EnvoyFilter(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_camel_case_and_omits_empty() {
        let dr = DestinationRule::new(
            "bookinfo",
            "reviews",
            DestinationRuleSpec {
                host: "reviews.bookinfo.svc.cluster.local".into(),
                traffic_policy: Some(destination_rule::TrafficPolicy {
                    outlier_detection: Some(destination_rule::OutlierDetection {
                        consecutive_5xx_errors: Some(1),
                        interval: Some("10s".into()),
                        base_ejection_time: Some("30s".into()),
                        max_ejection_percent: Some(100),
                        ..Default::default()
                    }),
                    tls: Some(destination_rule::ClientTlsSettings {
                        mode: Some(destination_rule::TlsMode::IstioMutual),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        let v = IstioObject::from(dr.clone()).to_value();
        assert_eq!(
            v,
            json!({
                "apiVersion": "networking.istio.io/v1alpha3",
                "kind": "DestinationRule",
                "metadata": {"name": "reviews", "namespace": "bookinfo"},
                "spec": {
                    "host": "reviews.bookinfo.svc.cluster.local",
                    "trafficPolicy": {
                        "outlierDetection": {
                            "consecutive5xxErrors": 1,
                            "interval": "10s",
                            "baseEjectionTime": "30s",
                            "maxEjectionPercent": 100
                        },
                        "tls": {"mode": "ISTIO_MUTUAL"}
                    }
                }
            })
        );
        assert_eq!(
            IstioObject::from_value(v).unwrap(),
            IstioObject::DestinationRule(dr)
        );
    }

    #[test]
    fn from_value_rejects_unknown_kinds_and_versions() {
        assert!(matches!(
            IstioObject::from_value(
                json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "Gateway"})
            ),
            Err(IstioError::UnsupportedKind(_))
        ));
        assert!(matches!(
            IstioObject::from_value(json!({"apiVersion": "v1", "kind": "ServiceEntry"})),
            Err(IstioError::UnsupportedApiVersion(..))
        ));
        assert!(matches!(
            IstioObject::from_value(json!({"apiVersion": "networking.istio.io/v1"})),
            Err(IstioError::MissingKind)
        ));
        // v1 objects read into the same types.
        let se = IstioObject::from_value(json!({
            "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": "x", "namespace": "y"},
            "spec": {"hosts": ["a.global"], "resolution": "DNS", "location": "MESH_INTERNAL"}
        }))
        .unwrap();
        assert_eq!(se.kind(), "ServiceEntry");
        assert_eq!(se.name(), "x");
        assert_eq!(se.namespace(), "y");
    }
}
