//! Selector matching as SMH did it, until `model::select` lands on main (then this module
//! is removed and translation uses the shared one).
//!
//! - `destinationSelector`: empty matches every traffic target; selectors are ORed; a
//!   `kubeServiceMatcher` ANDs its labels (subset of the Service's labels), namespaces and
//!   clusters (each list empty = any); `kubeServiceRefs` match exactly on name, namespace
//!   and clusterName (`ezkube.ClusterRefsMatch`).
//! - `sourceSelector` and clusters (`selectorutils.WorkloadSelectorContainsCluster`): no
//!   selectors, or any selector with no clusters or listing the cluster.

use crate::model::topology::Service;
use crate::model::types::{TrafficTargetSelector, WorkloadSelector};

/// Whether a TrafficPolicy's `destinationSelector` selects `service` in `cluster`.
pub fn destination_selector_matches(
    selectors: &[TrafficTargetSelector],
    cluster: &str,
    service: &Service,
) -> bool {
    if selectors.is_empty() {
        return true;
    }
    selectors.iter().any(|sel| {
        let by_matcher = sel.kube_service_matcher.as_ref().is_some_and(|m| {
            m.labels
                .iter()
                .all(|(k, v)| service.labels.get(k) == Some(v))
                && (m.namespaces.is_empty() || m.namespaces.contains(&service.namespace))
                && (m.clusters.is_empty() || m.clusters.iter().any(|c| c == cluster))
        });
        let by_refs = sel.kube_service_refs.as_ref().is_some_and(|r| {
            r.services.iter().any(|s| {
                s.name == service.name
                    && s.namespace == service.namespace
                    && s.cluster_name == cluster
            })
        });
        by_matcher || by_refs
    })
}

/// Whether workloads in `cluster` are among a policy's `sourceSelector`.
pub fn workload_selector_contains_cluster(selectors: &[WorkloadSelector], cluster: &str) -> bool {
    selectors.is_empty()
        || selectors
            .iter()
            .any(|s| s.clusters.is_empty() || s.clusters.iter().any(|c| c == cluster))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::types::{ClusterObjectRef, KubeServiceMatcher, KubeServiceRefs};
    use std::collections::BTreeMap;

    fn svc(name: &str, ns: &str, labels: &[(&str, &str)]) -> Service {
        Service {
            name: name.into(),
            namespace: ns.into(),
            ports: vec![],
            sidecar_workloads: true,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn destination_selectors() {
        let reviews = svc("reviews", "bookinfo", &[("app", "reviews")]);
        assert!(destination_selector_matches(&[], "c1", &reviews));
        let refs = TrafficTargetSelector {
            kube_service_refs: Some(KubeServiceRefs {
                services: vec![ClusterObjectRef {
                    name: "reviews".into(),
                    namespace: "bookinfo".into(),
                    cluster_name: "c1".into(),
                }],
            }),
            ..Default::default()
        };
        assert!(destination_selector_matches(
            std::slice::from_ref(&refs),
            "c1",
            &reviews
        ));
        assert!(!destination_selector_matches(
            std::slice::from_ref(&refs),
            "c2",
            &reviews
        ));
        let matcher =
            |labels: &[(&str, &str)], ns: &[&str], clusters: &[&str]| TrafficTargetSelector {
                kube_service_matcher: Some(KubeServiceMatcher {
                    labels: labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect::<BTreeMap<_, _>>(),
                    namespaces: ns.iter().map(|s| s.to_string()).collect(),
                    clusters: clusters.iter().map(|s| s.to_string()).collect(),
                }),
                ..Default::default()
            };
        assert!(destination_selector_matches(
            &[matcher(&[("app", "reviews")], &[], &[])],
            "c1",
            &reviews
        ));
        assert!(!destination_selector_matches(
            &[matcher(&[("app", "x")], &[], &[])],
            "c1",
            &reviews
        ));
        assert!(!destination_selector_matches(
            &[matcher(&[], &["other"], &[])],
            "c1",
            &reviews
        ));
        assert!(!destination_selector_matches(
            &[matcher(&[], &[], &["c2"])],
            "c1",
            &reviews
        ));
        // ORed
        assert!(destination_selector_matches(
            &[matcher(&[], &[], &["c2"]), matcher(&[], &["bookinfo"], &[])],
            "c1",
            &reviews
        ));
    }

    #[test]
    fn source_clusters() {
        let ws = |clusters: &[&str]| WorkloadSelector {
            clusters: clusters.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        assert!(workload_selector_contains_cluster(&[], "a"));
        assert!(workload_selector_contains_cluster(&[ws(&[])], "a"));
        assert!(workload_selector_contains_cluster(&[ws(&["a"])], "a"));
        assert!(!workload_selector_contains_cluster(&[ws(&["b"])], "a"));
        assert!(workload_selector_contains_cluster(
            &[ws(&["b"]), ws(&["a"])],
            "a"
        ));
    }
}
