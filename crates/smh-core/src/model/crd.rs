//! The Service Mesh Hub v1alpha2 CustomResourceDefinitions (`trafficpolicies` and
//! `failoverservices` in `networking.smh.solo.io`), embedded from `crates/smh-core/src/model/crds/`.
//!
//! The simulated mgmt cluster serves them from the start, and `kubectl smh install` installs the
//! very same objects into real clusters. Their schemas follow [`crate::model::types`];
//! `status.observedGeneration` accepts an integer or a string because SMH wrote protobuf JSON
//! int64 values as strings (the guide shows `observedGeneration: "1"`).

use serde_json::Value;

/// `failoverservices.networking.smh.solo.io`, as YAML.
pub(crate) const FAILOVER_SERVICES_CRD_YAML: &str = include_str!("crds/failoverservices.yaml");
/// `trafficpolicies.networking.smh.solo.io`, as YAML.
pub(crate) const TRAFFIC_POLICIES_CRD_YAML: &str = include_str!("crds/trafficpolicies.yaml");

/// The SMH CRDs as `apiextensions.k8s.io/v1` objects in JSON form, FailoverService first.
pub fn smh_crds() -> Vec<Value> {
    [FAILOVER_SERVICES_CRD_YAML, TRAFFIC_POLICIES_CRD_YAML]
        .iter()
        .map(|yaml| {
            // The YAML is compiled into the binary and parsed by a unit test, so a failure here
            // is a build defect, not bad input.
            serde_saphyr::from_str::<Value>(yaml).expect("embedded SMH CRD YAML parses")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consts::{SMH_GROUP, SMH_VERSION};
    use crate::model::types::{FailoverService, TrafficPolicy};

    #[test]
    fn crds_parse_and_match_the_types() {
        let crds = smh_crds();
        assert_eq!(crds.len(), 2);
        for (crd, kind, plural) in [
            (&crds[0], FailoverService::KIND, FailoverService::PLURAL),
            (&crds[1], TrafficPolicy::KIND, TrafficPolicy::PLURAL),
        ] {
            assert_eq!(crd["apiVersion"], "apiextensions.k8s.io/v1");
            assert_eq!(crd["kind"], "CustomResourceDefinition");
            assert_eq!(crd["metadata"]["name"], format!("{plural}.{SMH_GROUP}"));
            assert_eq!(crd["spec"]["group"], SMH_GROUP);
            assert_eq!(crd["spec"]["names"]["kind"], kind);
            assert_eq!(crd["spec"]["names"]["plural"], plural);
            assert_eq!(crd["spec"]["scope"], "Namespaced");
            let v = &crd["spec"]["versions"][0];
            assert_eq!(v["name"], SMH_VERSION);
            assert_eq!(v["served"], true);
            assert_eq!(v["storage"], true);
            assert!(v["subresources"]["status"].is_object());
            let og = &v["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["observedGeneration"];
            assert_eq!(og["x-kubernetes-int-or-string"], true);
        }
    }
}
