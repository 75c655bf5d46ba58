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
//! What kubectl-smh writes is checked against Istio's CRD schemas by the tests.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

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
pub(crate) const API_VERSION: &str = "networking.istio.io/v1alpha3";

// The four resource types (`DestinationRule` and so on: `metadata`, `spec`, `apiVersion` and
// `kind` written from the type) and their `kube_core::Resource` impls come from kube's
// `#[derive(CustomResource)]` on the spec structs of the submodules.
pub use destination_rule::DestinationRule;
pub use envoy_filter::EnvoyFilter;
pub use service_entry::ServiceEntry;
pub use virtual_service::VirtualService;

macro_rules! istio_resource {
    ($ty:ident, $spec:ty) => {
        impl $ty {
            /// The kind, as `kind` in the object.
            pub const KIND: &'static str = stringify!($ty);

            /// A new object named `namespace/name`. (The derived `new` sets no namespace.)
            pub fn namespaced(namespace: &str, name: &str, spec: $spec) -> Self {
                let mut object = $ty::new(name, spec);
                object.metadata.namespace = Some(namespace.to_string());
                object
            }
        }
    };
}

istio_resource!(DestinationRule, DestinationRuleSpec);
istio_resource!(VirtualService, VirtualServiceSpec);
istio_resource!(ServiceEntry, ServiceEntrySpec);
istio_resource!(EnvoyFilter, EnvoyFilterSpec);

/// Any of the Istio objects kubectl-smh generates.
#[derive(Debug, Clone, PartialEq)]
pub enum IstioObject {
    /// A DestinationRule.
    DestinationRule(DestinationRule),
    /// A VirtualService.
    VirtualService(VirtualService),
    /// A ServiceEntry.
    ServiceEntry(ServiceEntry),
    /// An EnvoyFilter.
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

    /// The object's metadata, to add labels and annotations after translation.
    pub fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            IstioObject::DestinationRule(o) => &mut o.metadata,
            IstioObject::VirtualService(o) => &mut o.metadata,
            IstioObject::ServiceEntry(o) => &mut o.metadata,
            IstioObject::EnvoyFilter(o) => &mut o.metadata,
        }
    }

    /// Always [`API_VERSION`]: the derived types write the version of their type.
    pub fn api_version(&self) -> &'static str {
        API_VERSION
    }

    /// The object's `kind` (`DestinationRule`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            IstioObject::DestinationRule(_) => DestinationRule::KIND,
            IstioObject::VirtualService(_) => VirtualService::KIND,
            IstioObject::ServiceEntry(_) => ServiceEntry::KIND,
            IstioObject::EnvoyFilter(_) => EnvoyFilter::KIND,
        }
    }

    /// `metadata.name` (empty when unset).
    pub fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or_default()
    }

    /// `metadata.namespace` (empty when unset).
    pub fn namespace(&self) -> &str {
        self.meta().namespace.as_deref().unwrap_or_default()
    }

    /// `metadata.labels`, when set.
    pub fn labels(&self) -> Option<&BTreeMap<String, String>> {
        self.meta().labels.as_ref()
    }

    /// `metadata.annotations`, when set.
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
        let dr = DestinationRule::namespaced(
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
        assert_eq!(serde_json::from_value::<DestinationRule>(v).unwrap(), dr);
    }

    #[test]
    fn derived_resources_are_namespaced_v1alpha3_with_istio_plurals() {
        use kube_core::Resource;
        fn check<K: Resource<DynamicType = (), Scope = kube_core::NamespaceResourceScope>>(
            kind: &str,
            plural: &str,
        ) {
            assert_eq!(K::kind(&()), kind);
            assert_eq!(K::group(&()), GROUP);
            assert_eq!(K::version(&()), VERSION);
            assert_eq!(K::api_version(&()), API_VERSION);
            assert_eq!(K::plural(&()), plural);
        }
        check::<DestinationRule>(DestinationRule::KIND, "destinationrules");
        check::<VirtualService>(VirtualService::KIND, "virtualservices");
        check::<ServiceEntry>(ServiceEntry::KIND, "serviceentries");
        check::<EnvoyFilter>(EnvoyFilter::KIND, "envoyfilters");
        let se = IstioObject::from(ServiceEntry::namespaced(
            "y",
            "x",
            ServiceEntrySpec::default(),
        ));
        assert_eq!(
            (se.kind(), se.name(), se.namespace(), se.api_version()),
            ("ServiceEntry", "x", "y", API_VERSION)
        );
        assert_eq!(se.to_value()["apiVersion"], API_VERSION);
        assert_eq!(se.to_value()["kind"], "ServiceEntry");
    }
}
