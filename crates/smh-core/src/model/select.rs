//! Which services a TrafficPolicy applies to: SMH's selector semantics, in one place, so
//! that validation and translation agree exactly.
//!
//! - A *traffic target* is a topology service with sidecar workloads (SMH discovers a
//!   TrafficTarget only for a Service backed by pods with an Istio sidecar).
//! - `destinationSelector`: empty selects every traffic target; selectors are ORed; a
//!   selector with neither `kubeServiceMatcher` nor `kubeServiceRefs` selects nothing.
//! - `kubeServiceRefs` match exactly on name, namespace and clusterName (`ezkube.ClusterRefsMatch`;
//!   an empty field does not act as a wildcard, whatever the proto comment says).
//! - `kubeServiceMatcher` ANDs its parts: every label must match the Service's labels, and
//!   when `namespaces` / `clusters` are non-empty the Service's must be among them.
//! - `sourceSelector`: empty, or any selector with no `clusters`, contains every cluster;
//!   otherwise a cluster is contained when a selector lists it
//!   (`selectorutils.WorkloadSelectorContainsCluster`).

use super::naming::traffic_target_key;
use super::topology::{ClusterTopology, Service, Topology};
use super::types::{TrafficPolicy, TrafficTargetSelector, WorkloadSelector};

/// A traffic target: a service with sidecar workloads, in its cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficTarget<'a> {
    /// The cluster the service runs in.
    pub cluster: &'a ClusterTopology,
    /// The service (it has sidecar workloads).
    pub service: &'a Service,
}

impl TrafficTarget<'_> {
    /// The status key SMH uses for this target, e.g. `reviews-bookinfo-mgmt-cluster.service-mesh-hub.`.
    pub fn key(&self) -> String {
        traffic_target_key(
            &self.service.name,
            &self.service.namespace,
            &self.cluster.name,
        )
    }
}

/// Every traffic target of the topology, in topology order (clusters, then services).
pub fn traffic_targets(topology: &Topology) -> impl Iterator<Item = TrafficTarget<'_>> {
    topology.clusters.iter().flat_map(|cluster| {
        cluster
            .services
            .iter()
            .filter(|s| s.in_mesh())
            .map(move |service| TrafficTarget { cluster, service })
    })
}

/// The traffic target for `name.namespace` in `cluster`, if the service exists there with
/// sidecar workloads.
pub(crate) fn find_traffic_target<'a>(
    topology: &'a Topology,
    name: &str,
    namespace: &str,
    cluster: &str,
) -> Option<TrafficTarget<'a>> {
    let c = topology.cluster(cluster)?;
    let service = c.service(name, namespace)?;
    service.in_mesh().then_some(TrafficTarget {
        cluster: c,
        service,
    })
}

/// Does one selector select `service` in `cluster`?
pub(crate) fn selector_matches(
    selector: &TrafficTargetSelector,
    cluster: &str,
    service: &Service,
) -> bool {
    if let Some(matcher) = &selector.kube_service_matcher {
        if !matcher.namespaces.is_empty() && !matcher.namespaces.contains(&service.namespace) {
            return false;
        }
        if !matcher.clusters.is_empty() && !matcher.clusters.iter().any(|c| c == cluster) {
            return false;
        }
        return matcher
            .labels
            .iter()
            .all(|(k, v)| service.labels.get(k) == Some(v));
    }
    if let Some(refs) = &selector.kube_service_refs {
        return refs.services.iter().any(|r| {
            r.name == service.name && r.namespace == service.namespace && r.cluster_name == cluster
        });
    }
    false
}

/// Do the selectors (ORed; empty = all) select `service` in `cluster`?
pub(crate) fn destination_selectors_match(
    selectors: &[TrafficTargetSelector],
    cluster: &str,
    service: &Service,
) -> bool {
    selectors.is_empty()
        || selectors
            .iter()
            .any(|s| selector_matches(s, cluster, service))
}

/// The traffic targets a TrafficPolicy applies to, in topology order. To select for many
/// policies, build a [`TargetIndex`] once and use [`TargetIndex::policy_targets`].
pub(crate) fn traffic_policy_targets<'a>(
    tp: &TrafficPolicy,
    topology: &'a Topology,
) -> Vec<TrafficTarget<'a>> {
    let index = TargetIndex::new(topology);
    index
        .policy_targets(tp)
        .into_iter()
        .map(|i| index.targets()[i])
        .collect()
}

/// The traffic targets of a topology with a lookup by `(cluster, namespace, name)`, so
/// selecting for many policies stays linear in their size.
#[derive(Debug, Clone)]
pub struct TargetIndex<'a> {
    targets: Vec<TrafficTarget<'a>>,
    by_ref: std::collections::HashMap<(&'a str, &'a str, &'a str), usize>,
}

impl<'a> TargetIndex<'a> {
    /// Index every traffic target of `topology`, in topology order.
    pub fn new(topology: &'a Topology) -> TargetIndex<'a> {
        let targets: Vec<TrafficTarget<'a>> = traffic_targets(topology).collect();
        let mut by_ref = std::collections::HashMap::with_capacity(targets.len());
        for (i, t) in targets.iter().enumerate() {
            by_ref
                .entry((
                    t.cluster.name.as_str(),
                    t.service.namespace.as_str(),
                    t.service.name.as_str(),
                ))
                .or_insert(i);
        }
        TargetIndex { targets, by_ref }
    }

    /// Every traffic target, in topology order; indexes returned by this type refer to it.
    pub fn targets(&self) -> &[TrafficTarget<'a>] {
        &self.targets
    }

    /// The index of the traffic target `name.namespace` in `cluster`.
    pub fn find(&self, name: &str, namespace: &str, cluster: &str) -> Option<usize> {
        self.by_ref.get(&(cluster, namespace, name)).copied()
    }

    /// Indexes of the traffic targets `tp` selects, ascending (topology order). The same
    /// result as filtering with [`destination_selectors_match`].
    pub fn policy_targets(&self, tp: &TrafficPolicy) -> Vec<usize> {
        let selectors = &tp.spec.destination_selector;
        if selectors.is_empty() {
            return (0..self.targets.len()).collect();
        }
        let mut found = std::collections::BTreeSet::new();
        for sel in selectors {
            if sel.kube_service_matcher.is_some() {
                found.extend(
                    self.targets
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| selector_matches(sel, &t.cluster.name, t.service))
                        .map(|(i, _)| i),
                );
            } else if let Some(refs) = &sel.kube_service_refs {
                found.extend(
                    refs.services
                        .iter()
                        .filter_map(|r| self.find(&r.name, &r.namespace, &r.cluster_name)),
                );
            }
        }
        found.into_iter().collect()
    }
}

/// Does a `sourceSelector` include workloads of `cluster`?
pub(crate) fn workload_selector_contains_cluster(
    selectors: &[WorkloadSelector],
    cluster: &str,
) -> bool {
    selectors.is_empty()
        || selectors
            .iter()
            .any(|s| s.clusters.is_empty() || s.clusters.iter().any(|c| c == cluster))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// `name.namespace.cluster`, as SMH writes a service reference in messages.
    fn ref_key(t: &TrafficTarget) -> String {
        format!(
            "{}.{}.{}",
            t.service.name, t.service.namespace, t.cluster.name
        )
    }
    use crate::model::topology::{Mesh, MultiClusterMode, ServicePort};
    use crate::model::types::{
        ClusterObjectRef, KubeServiceMatcher, KubeServiceRefs, TrafficPolicySpec,
    };

    fn svc(name: &str, ns: &str, sidecar: bool, labels: &[(&str, &str)]) -> Service {
        Service {
            namespace_labels: Default::default(),
            ambient: None,
            name: name.into(),
            namespace: ns.into(),
            ports: vec![ServicePort {
                name: "http".into(),
                port: 9080,
                protocol: "TCP".into(),
                app_protocol: None,
            }],
            sidecar_workloads: sidecar,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            selector: Default::default(),
        }
    }

    fn topo() -> Topology {
        let mesh = Mesh {
            service_scopes: Vec::new(),
            network: None,
            ambient_multi_network: false,
            ambient: false,
            istiod_name: "istiod".into(),
            istiod_namespace: "istio-system".into(),
            version: "1.24.2".into(),
            root_namespace: "istio-system".into(),
            mode: MultiClusterMode::Global,
            cluster_id: None,
        };
        Topology {
            clusters: vec![
                ClusterTopology {
                    east_west_gateways: Vec::new(),
                    waypoints: Vec::new(),
                    name: "a".into(),
                    context: None,
                    cluster_domain: "cluster.local".into(),
                    mesh: Some(mesh.clone()),
                    services: vec![
                        svc("reviews", "bookinfo", true, &[("app", "reviews")]),
                        svc("ratings", "bookinfo", true, &[("app", "ratings")]),
                        svc("legacy", "bookinfo", false, &[("app", "reviews")]),
                    ],
                },
                ClusterTopology {
                    east_west_gateways: Vec::new(),
                    waypoints: Vec::new(),
                    name: "b".into(),
                    context: None,
                    cluster_domain: "cluster.local".into(),
                    mesh: Some(mesh),
                    services: vec![svc("reviews", "other", true, &[("app", "reviews")])],
                },
            ],
            virtual_meshes: vec![],
        }
    }

    fn tp(selectors: Vec<TrafficTargetSelector>) -> TrafficPolicy {
        TrafficPolicy {
            api_version: crate::consts::SMH_API_VERSION.into(),
            kind: "TrafficPolicy".into(),
            metadata: Default::default(),
            spec: TrafficPolicySpec {
                destination_selector: selectors,
                ..Default::default()
            },
            status: None,
        }
    }

    fn names(t: &Topology, p: &TrafficPolicy) -> Vec<String> {
        traffic_policy_targets(p, t).iter().map(ref_key).collect()
    }

    #[test]
    fn empty_selector_list_selects_every_traffic_target() {
        let t = topo();
        assert_eq!(
            names(&t, &tp(vec![])),
            vec![
                "reviews.bookinfo.a",
                "ratings.bookinfo.a",
                "reviews.other.b"
            ]
        );
    }

    #[test]
    fn empty_selector_selects_nothing() {
        let t = topo();
        assert!(names(&t, &tp(vec![TrafficTargetSelector::default()])).is_empty());
    }

    #[test]
    fn refs_match_exactly() {
        let t = topo();
        let refs = |name: &str, ns: &str, c: &str| TrafficTargetSelector {
            kube_service_refs: Some(KubeServiceRefs {
                services: vec![ClusterObjectRef {
                    name: name.into(),
                    namespace: ns.into(),
                    cluster_name: c.into(),
                }],
            }),
            ..Default::default()
        };
        assert_eq!(
            names(&t, &tp(vec![refs("reviews", "bookinfo", "a")])),
            vec!["reviews.bookinfo.a"]
        );
        assert!(names(&t, &tp(vec![refs("reviews", "bookinfo", "")])).is_empty());
        // Services without sidecars are not traffic targets.
        assert!(names(&t, &tp(vec![refs("legacy", "bookinfo", "a")])).is_empty());
        // ORed.
        assert_eq!(
            names(
                &t,
                &tp(vec![
                    refs("reviews", "other", "b"),
                    refs("ratings", "bookinfo", "a")
                ])
            ),
            vec!["ratings.bookinfo.a", "reviews.other.b"]
        );
    }

    #[test]
    fn matcher_ands_labels_namespaces_clusters() {
        let t = topo();
        let m = |labels: &[(&str, &str)], ns: &[&str], cl: &[&str]| TrafficTargetSelector {
            kube_service_matcher: Some(KubeServiceMatcher {
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                namespaces: ns.iter().map(|s| s.to_string()).collect(),
                clusters: cl.iter().map(|s| s.to_string()).collect(),
            }),
            ..Default::default()
        };
        assert_eq!(
            names(&t, &tp(vec![m(&[("app", "reviews")], &[], &[])])),
            vec!["reviews.bookinfo.a", "reviews.other.b"]
        );
        assert_eq!(
            names(&t, &tp(vec![m(&[("app", "reviews")], &["other"], &[])])),
            vec!["reviews.other.b"]
        );
        assert_eq!(
            names(&t, &tp(vec![m(&[], &[], &["a"])])),
            vec!["reviews.bookinfo.a", "ratings.bookinfo.a"]
        );
        assert!(
            names(
                &t,
                &tp(vec![m(&[("app", "reviews")], &["bookinfo"], &["b"])])
            )
            .is_empty()
        );
        assert_eq!(names(&t, &tp(vec![m(&[], &[], &[])])).len(), 3);
    }

    #[test]
    fn source_selector_clusters() {
        let w = |cl: &[&str]| WorkloadSelector {
            clusters: cl.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        assert!(workload_selector_contains_cluster(&[], "a"));
        assert!(workload_selector_contains_cluster(&[w(&[])], "a"));
        assert!(workload_selector_contains_cluster(
            &[w(&["b"]), w(&["a"])],
            "a"
        ));
        assert!(!workload_selector_contains_cluster(&[w(&["b"])], "a"));
    }

    #[test]
    fn index_agrees_with_filtering() {
        let t = topo();
        let r = |name: &str, ns: &str, c: &str| ClusterObjectRef {
            name: name.into(),
            namespace: ns.into(),
            cluster_name: c.into(),
        };
        let refs = TrafficTargetSelector {
            kube_service_refs: Some(KubeServiceRefs {
                services: vec![
                    r("reviews", "other", "b"),
                    r("reviews", "bookinfo", "a"),
                    r("legacy", "bookinfo", "a"),
                ],
            }),
            ..Default::default()
        };
        let matcher = TrafficTargetSelector {
            kube_service_matcher: Some(KubeServiceMatcher {
                labels: [("app".to_string(), "ratings".to_string())]
                    .into_iter()
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let index = TargetIndex::new(&t);
        for sels in [
            vec![],
            vec![refs.clone()],
            vec![matcher.clone()],
            vec![refs, matcher],
            vec![TrafficTargetSelector::default()],
        ] {
            let p = tp(sels);
            let filtered: Vec<String> = traffic_targets(&t)
                .filter(|x| {
                    destination_selectors_match(
                        &p.spec.destination_selector,
                        &x.cluster.name,
                        x.service,
                    )
                })
                .map(|x| ref_key(&x))
                .collect();
            let indexed: Vec<String> = index
                .policy_targets(&p)
                .iter()
                .map(|&i| ref_key(&index.targets()[i]))
                .collect();
            assert_eq!(filtered, indexed);
        }
    }

    #[test]
    fn keys() {
        let t = topo();
        let target = find_traffic_target(&t, "reviews", "bookinfo", "a").unwrap();
        assert_eq!(target.key(), "reviews-bookinfo-a.service-mesh-hub.");
        assert!(find_traffic_target(&t, "legacy", "bookinfo", "a").is_none());
    }
}
