//! Reading the live objects the drill executor fetches: rollout state of a deployment, the
//! failover aggregate in a client cluster's EnvoyFilter, the DestinationRule (and so the
//! outlier detection) that applies to each of its sub-clusters, and ready endpoints. Pure:
//! objects in, facts out.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Endpoints;
use serde_json::{Value, json};

use super::outlier::OutlierSettings;

/// Where a deployment's rollout stands, as `kubectl rollout status` judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutState {
    /// Every replica runs the current template and is available; no old replica is left.
    Complete,
    /// Still rolling out; the text says what it waits for.
    Waiting(String),
    /// The controller gave up (progress deadline exceeded).
    Failed(String),
}

/// Replica counts for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RolloutCounts {
    /// `spec.replicas` (1 when unset).
    pub desired: i32,
    /// Replicas known to run the current template: 0 until the controller has observed it
    /// (before that, the status counts the previous template's replicas as updated).
    pub updated: i32,
    /// Replicas that are available (ready for at least `minReadySeconds`).
    pub available: i32,
    /// All replicas, old and new.
    pub total: i32,
}

impl RolloutCounts {
    /// A rollout bar: (position, length) = (updated replicas, desired replicas), the counts
    /// the state's message names; the length is at least 1.
    pub fn bar(&self) -> (u64, u64) {
        let len = self.desired.max(1) as u64;
        (self.updated.clamp(0, self.desired.max(0)) as u64, len)
    }
}

/// Judge a deployment's rollout. `min_generation`: the generation our own patch produced,
/// so that an object read before the patch was observed never counts as complete.
///
/// Complete means: the controller observed the spec (`status.observedGeneration >=
/// metadata.generation`, and ≥ `min_generation`), `updatedReplicas == spec.replicas`, no old
/// replicas (`status.replicas == updatedReplicas`) and `availableReplicas ==
/// updatedReplicas`: kubectl's rule. `is_deployment_completed()` (the Progressing condition
/// alone) can be stale right after a spec change, which the generation check covers.
pub fn rollout_state(d: &Deployment, min_generation: Option<i64>) -> (RolloutState, RolloutCounts) {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = d.status.clone().unwrap_or_default();
    let counts = RolloutCounts {
        desired,
        updated: status.updated_replicas.unwrap_or(0),
        available: status.available_replicas.unwrap_or(0),
        total: status.replicas.unwrap_or(0),
    };
    let generation = d
        .metadata
        .generation
        .unwrap_or(0)
        .max(min_generation.unwrap_or(0));
    let observed = status.observed_generation.unwrap_or(0);
    if observed < generation {
        return (
            RolloutState::Waiting(format!(
                "waiting for the controller to observe generation {generation} (observed {observed})"
            )),
            RolloutCounts {
                updated: 0,
                ..counts
            },
        );
    }
    let deadline = status
        .conditions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|c| {
            c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        });
    if let Some(c) = deadline {
        return (
            RolloutState::Failed(format!(
                "rollout exceeded its progress deadline{}",
                c.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )),
            counts,
        );
    }
    let state = if counts.updated < desired {
        RolloutState::Waiting(format!(
            "{} of {desired} new replicas updated",
            counts.updated
        ))
    } else if counts.total > counts.updated {
        RolloutState::Waiting(format!(
            "{} old replicas pending termination",
            counts.total - counts.updated
        ))
    } else if counts.available < counts.updated {
        RolloutState::Waiting(format!(
            "{} of {} updated replicas available",
            counts.available, counts.updated
        ))
    } else {
        RolloutState::Complete
    };
    (state, counts)
}

/// An Envoy cluster name `outbound|PORT|SUBSET|HOST`, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvoyCluster {
    /// The service port.
    pub port: u32,
    /// The subset, when the cluster is one (`outbound|9080|v1|reviews...`).
    pub subset: Option<String>,
    /// The service host, e.g. `reviews.bookinfo.svc.cluster.local`.
    pub host: String,
}

impl EnvoyCluster {
    /// Take apart an outbound cluster name; `None` for any other name.
    pub fn parse(name: &str) -> Option<EnvoyCluster> {
        let mut parts = name.split('|');
        if parts.next()? != "outbound" {
            return None;
        }
        let port = parts.next()?.parse().ok()?;
        let subset = parts.next()?;
        let host = parts.next()?;
        if parts.next().is_some() || host.is_empty() {
            return None;
        }
        Some(EnvoyCluster {
            port,
            subset: (!subset.is_empty()).then(|| subset.to_string()),
            host: host.to_ascii_lowercase(),
        })
    }
}

/// The sub-clusters of the aggregate cluster named `aggregate` that an EnvoyFilter adds, in
/// priority order, from the v3 `typed_config` or SMH's TypedStruct `value` form.
pub(crate) fn aggregate_clusters(envoy_filter: &Value, aggregate: &str) -> Option<Vec<String>> {
    let patches = envoy_filter.pointer("/spec/configPatches")?.as_array()?;
    patches.iter().find_map(|p| {
        if p.pointer("/patch/operation").and_then(Value::as_str) != Some("ADD") {
            return None;
        }
        let value = p.pointer("/patch/value")?;
        if value.get("name").and_then(Value::as_str) != Some(aggregate) {
            return None;
        }
        let cfg = value.pointer("/cluster_type/typed_config")?;
        let list = cfg
            .get("clusters")
            .or_else(|| cfg.pointer("/value/clusters"))?
            .as_array()?;
        Some(
            list.iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect(),
        )
    })
}

/// The first EnvoyFilter (by namespace, then name) that adds `aggregate`, and its
/// sub-clusters.
pub fn find_aggregate<'a>(
    envoy_filters: &'a [Value],
    aggregate: &str,
) -> Option<(&'a Value, Vec<String>)> {
    let mut sorted: Vec<&Value> = envoy_filters.iter().collect();
    sorted.sort_by_key(|o| (namespace_of(o), name_of(o)));
    sorted
        .into_iter()
        .find_map(|ef| aggregate_clusters(ef, aggregate).map(|c| (ef, c)))
}

fn name_of(o: &Value) -> String {
    o.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn namespace_of(o: &Value) -> String {
    o.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// A DestinationRule's host as Istio reads it: a short name is relative to the rule's
/// namespace (`reviews` in `bookinfo` → `reviews.bookinfo.svc.cluster.local`).
pub(crate) fn expand_host(host: &str, rule_namespace: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.matches('.').count() {
        0 if !host.starts_with('*') => format!("{host}.{rule_namespace}.svc.cluster.local"),
        1 if !host.starts_with('*') && !host.ends_with(".global") => {
            format!("{host}.svc.cluster.local")
        }
        _ => host,
    }
}

fn host_matches(rule_host: &str, host: &str) -> Option<usize> {
    if rule_host == host {
        return Some(usize::MAX);
    }
    let suffix = rule_host.strip_prefix('*')?;
    host.ends_with(suffix).then_some(suffix.len())
}

/// The DestinationRule a client in `client_namespace` uses for `host`, following Istio's
/// lookup order: the client's namespace, then the namespace the host names
/// (`NAME.NAMESPACE.svc...`), then the mesh's root namespace (`meshConfig.rootNamespace`,
/// as discovery found it for the client's cluster; `None` when the cluster has no mesh),
/// then any other; an exact host before a wildcard, the longest wildcard first.
pub fn destination_rule_for<'a>(
    rules: &'a [Value],
    host: &str,
    client_namespace: &str,
    root_namespace: Option<&str>,
) -> Option<&'a Value> {
    let host = host.to_ascii_lowercase();
    let host_ns = host.split('.').nth(1).unwrap_or("").to_string();
    rules
        .iter()
        .filter_map(|r| {
            let ns = namespace_of(r);
            let rule_host = r.pointer("/spec/host").and_then(Value::as_str)?;
            let specificity = host_matches(&expand_host(rule_host, &ns), &host)?;
            let rank = if ns == client_namespace {
                0
            } else if ns == host_ns {
                1
            } else if Some(ns.as_str()) == root_namespace {
                2
            } else {
                3
            };
            Some(((rank, usize::MAX - specificity, ns, name_of(r)), r))
        })
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, r)| r)
}

/// The outlier detection a sub-cluster gets from `rule`: the subset's traffic policy when
/// the sub-cluster is a subset that sets one, else the rule's; port-level settings win.
pub fn outlier_of_rule(
    source: &str,
    rule: &Value,
    cluster: &EnvoyCluster,
) -> Result<Option<OutlierSettings>, String> {
    if let Some(subset) = &cluster.subset {
        let tp = rule
            .pointer("/spec/subsets")
            .and_then(Value::as_array)
            .and_then(|subsets| {
                subsets
                    .iter()
                    .find(|s| s.get("name").and_then(Value::as_str) == Some(subset.as_str()))
            })
            .and_then(|s| s.get("trafficPolicy"));
        if let Some(tp) = tp {
            let synthetic = json!({"spec": {"trafficPolicy": tp}});
            if let Some(od) = OutlierSettings::from_destination_rule(
                format!("{source} (subset {subset})"),
                &synthetic,
                Some(cluster.port),
            )? {
                return Ok(Some(od));
            }
        }
    }
    OutlierSettings::from_destination_rule(source, rule, Some(cluster.port))
}

/// Ready addresses of a Service's Endpoints (distinct IPs; `notReadyAddresses` do not count).
pub fn ready_endpoints(ep: &Endpoints) -> u32 {
    let ips: BTreeSet<&str> = ep
        .subsets
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .flat_map(|s| s.addresses.as_deref().unwrap_or(&[]))
        .map(|a| a.ip.as_str())
        .collect();
    ips.len() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentSpec, DeploymentStatus};
    use k8s_openapi::api::core::v1::{EndpointAddress, EndpointSubset};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn dep(generation: i64, replicas: i32, status: DeploymentStatus) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                generation: Some(generation),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                ..Default::default()
            }),
            status: Some(status),
        }
    }

    fn status(observed: i64, total: i32, updated: i32, available: i32) -> DeploymentStatus {
        DeploymentStatus {
            observed_generation: Some(observed),
            replicas: Some(total),
            updated_replicas: Some(updated),
            available_replicas: Some(available),
            ..Default::default()
        }
    }

    #[test]
    fn rollout_like_kubectl() {
        let (s, _) = rollout_state(&dep(2, 1, status(1, 1, 1, 1)), None);
        assert!(
            matches!(&s, RolloutState::Waiting(w) if w.contains("observe generation 2")),
            "{s:?}"
        );
        let (s, c) = rollout_state(&dep(2, 1, status(2, 2, 1, 1)), None);
        assert_eq!(
            s,
            RolloutState::Waiting("1 old replicas pending termination".into())
        );
        assert_eq!(c.total, 2);
        let (s, _) = rollout_state(&dep(2, 2, status(2, 1, 1, 1)), None);
        assert_eq!(
            s,
            RolloutState::Waiting("1 of 2 new replicas updated".into())
        );
        let (s, _) = rollout_state(&dep(2, 1, status(2, 1, 1, 0)), None);
        assert_eq!(
            s,
            RolloutState::Waiting("0 of 1 updated replicas available".into())
        );
        let (s, _) = rollout_state(&dep(2, 1, status(2, 1, 1, 1)), None);
        assert_eq!(s, RolloutState::Complete);
        // Our patch made generation 3, but this object was read before it.
        let (s, _) = rollout_state(&dep(2, 1, status(2, 1, 1, 1)), Some(3));
        assert!(matches!(s, RolloutState::Waiting(_)));
        let mut st = status(2, 2, 1, 1);
        st.conditions = Some(vec![DeploymentCondition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: Some("ProgressDeadlineExceeded".into()),
            message: Some("ReplicaSet \"r-1\" has timed out progressing.".into()),
            ..Default::default()
        }]);
        let (s, _) = rollout_state(&dep(2, 1, st), None);
        assert!(
            matches!(&s, RolloutState::Failed(m) if m.contains("timed out")),
            "{s:?}"
        );
    }

    #[test]
    fn rollout_bar_counts_match_the_message() {
        // Just patched: the status still counts the old template's replica as updated.
        let (s, c) = rollout_state(&dep(2, 1, status(1, 1, 1, 1)), None);
        assert!(matches!(s, RolloutState::Waiting(_)));
        assert_eq!(c.bar(), (0, 1));
        // Observed: "0 of 1 new replicas updated" while the old pod is still available.
        let (s, c) = rollout_state(&dep(2, 1, status(2, 1, 0, 1)), None);
        assert_eq!(
            s,
            RolloutState::Waiting("0 of 1 new replicas updated".into())
        );
        assert_eq!(c.bar(), (0, 1));
        let (s, c) = rollout_state(&dep(2, 3, status(2, 3, 2, 3)), None);
        assert_eq!(
            s,
            RolloutState::Waiting("2 of 3 new replicas updated".into())
        );
        assert_eq!(c.bar(), (2, 3));
        let (_, c) = rollout_state(&dep(2, 1, status(2, 2, 1, 1)), None);
        assert_eq!(c.bar(), (1, 1), "every replica updated; an old one pending");
        let (s, c) = rollout_state(&dep(2, 1, status(2, 1, 1, 1)), None);
        assert_eq!(s, RolloutState::Complete);
        assert_eq!(c.bar(), (1, 1));
        // Our own patch not seen yet: nothing updated either.
        let (_, c) = rollout_state(&dep(2, 1, status(2, 1, 1, 1)), Some(3));
        assert_eq!(c.bar(), (0, 1));
        // Scaled to zero, or no counts (a watch error): an empty bar of one.
        assert_eq!(RolloutCounts::default().bar(), (0, 1));
    }

    #[test]
    fn envoy_cluster_names() {
        assert_eq!(
            EnvoyCluster::parse("outbound|9080||reviews.bookinfo.svc.cluster.local"),
            Some(EnvoyCluster {
                port: 9080,
                subset: None,
                host: "reviews.bookinfo.svc.cluster.local".into()
            })
        );
        assert_eq!(
            EnvoyCluster::parse("outbound|9080|remote-cluster|reviews.bookinfo.svc.cluster.local")
                .unwrap()
                .subset
                .as_deref(),
            Some("remote-cluster")
        );
        for bad in [
            "inbound|9080||x",
            "outbound|x||h",
            "outbound|9080|",
            "outbound|1||h|z",
        ] {
            assert_eq!(EnvoyCluster::parse(bad), None, "{bad}");
        }
    }

    fn ef(name: &str, typed: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "istio-system"}, "spec": {"configPatches": [
            {"applyTo": "CLUSTER", "patch": {"operation": "REMOVE"}},
            {"applyTo": "CLUSTER", "patch": {"operation": "ADD", "value": {
                "name": "outbound|9080||reviews-failover.bookinfo.global",
                "cluster_type": {"name": "envoy.clusters.aggregate", "typed_config": typed}}}}]}})
    }

    #[test]
    fn aggregate_in_both_forms() {
        let v3 = ef(
            "reviews-failover",
            json!({"@type": "type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig",
                   "clusters": ["outbound|9080||a", "outbound|9080||b"]}),
        );
        let ts = ef(
            "old",
            json!({"@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
                   "type_url": "type.googleapis.com/envoy.config.cluster.aggregate.v2alpha.ClusterConfig",
                   "value": {"clusters": ["outbound|9080||c"]}}),
        );
        let agg = "outbound|9080||reviews-failover.bookinfo.global";
        assert_eq!(
            aggregate_clusters(&v3, agg).unwrap(),
            ["outbound|9080||a", "outbound|9080||b"]
        );
        assert_eq!(aggregate_clusters(&ts, agg).unwrap(), ["outbound|9080||c"]);
        assert_eq!(aggregate_clusters(&v3, "outbound|80||other"), None);
        let list = [v3.clone(), ts];
        let (found, _) = find_aggregate(&list, agg).unwrap();
        assert_eq!(name_of(found), "old", "sorted by namespace, then name");
    }

    fn dr(ns: &str, name: &str, host: &str, od: Value) -> Value {
        json!({"metadata": {"namespace": ns, "name": name},
               "spec": {"host": host, "trafficPolicy": {"outlierDetection": od}}})
    }

    #[test]
    fn destination_rule_lookup_order() {
        let host = "reviews.bookinfo.svc.cluster.local";
        let rules = vec![
            dr(
                "istio-system",
                "root",
                host,
                json!({"consecutive5xxErrors": 3}),
            ),
            dr(
                "bookinfo",
                "short",
                "reviews",
                json!({"consecutive5xxErrors": 2}),
            ),
            dr("other", "x", "*.svc.cluster.local", json!({})),
        ];
        let r = destination_rule_for(&rules, host, "frontend", Some("istio-system")).unwrap();
        assert_eq!(
            name_of(r),
            "short",
            "the service's namespace before the root"
        );
        let r = destination_rule_for(&rules, host, "istio-system", Some("istio-system")).unwrap();
        assert_eq!(name_of(r), "root", "the client's namespace first");
        let r = destination_rule_for(
            &rules,
            "ratings.other.svc.cluster.local",
            "bookinfo",
            Some("istio-system"),
        )
        .unwrap();
        assert_eq!(name_of(r), "x", "wildcard");
        assert!(
            destination_rule_for(
                &rules,
                "reviews.bookinfo.svc.remote.global",
                "bookinfo",
                Some("istio-system")
            )
            .is_none()
        );
        assert_eq!(
            expand_host("reviews.bookinfo", "x"),
            "reviews.bookinfo.svc.cluster.local"
        );
        assert_eq!(expand_host("a.b.global", "x"), "a.b.global");
    }

    #[test]
    fn the_root_namespace_is_the_meshs() {
        // A mesh whose meshConfig.rootNamespace is istio-config: its rule there outranks one in
        // an unrelated namespace, and a rule in istio-system is just another namespace.
        let host = "reviews.bookinfo.svc.remote-cluster.global";
        let rules = vec![
            dr("aaa", "unrelated", host, json!({"consecutive5xxErrors": 9})),
            dr(
                "istio-config",
                "root",
                host,
                json!({"consecutive5xxErrors": 1}),
            ),
            dr(
                "istio-system",
                "old-root",
                host,
                json!({"consecutive5xxErrors": 5}),
            ),
        ];
        let r = destination_rule_for(&rules, host, "frontend", Some("istio-config")).unwrap();
        assert_eq!(name_of(r), "root");
        let r = destination_rule_for(&rules, host, "frontend", Some("istio-system")).unwrap();
        assert_eq!(name_of(r), "old-root");
        // No mesh known: no root namespace; by namespace, then name.
        let r = destination_rule_for(&rules, host, "frontend", None).unwrap();
        assert_eq!(name_of(r), "unrelated");
    }

    #[test]
    fn subset_policy_wins() {
        let rule = json!({"metadata": {"namespace": "bookinfo", "name": "reviews"}, "spec": {
            "host": "reviews",
            "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 5}},
            "subsets": [{"name": "remote-cluster", "labels": {"topology.istio.io/cluster": "remote-cluster"},
                         "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 1, "maxEjectionPercent": 100}}},
                        {"name": "mgmt-cluster", "labels": {}}]}});
        let sub =
            EnvoyCluster::parse("outbound|9080|remote-cluster|reviews.bookinfo.svc.cluster.local")
                .unwrap();
        let od = outlier_of_rule("c: DestinationRule bookinfo/reviews", &rule, &sub)
            .unwrap()
            .unwrap();
        assert_eq!(od.consecutive_5xx_errors, Some(1));
        assert!(od.source.ends_with("(subset remote-cluster)"));
        let sub =
            EnvoyCluster::parse("outbound|9080|mgmt-cluster|reviews.bookinfo.svc.cluster.local")
                .unwrap();
        let od = outlier_of_rule("c", &rule, &sub).unwrap().unwrap();
        assert_eq!(od.consecutive_5xx_errors, Some(5));
    }

    #[test]
    fn ready_endpoint_addresses() {
        let addr = |ip: &str| EndpointAddress {
            ip: ip.into(),
            ..Default::default()
        };
        let ep = Endpoints {
            subsets: Some(vec![
                EndpointSubset {
                    addresses: Some(vec![addr("10.1.0.4"), addr("10.1.0.5")]),
                    not_ready_addresses: Some(vec![addr("10.1.0.6")]),
                    ..Default::default()
                },
                EndpointSubset {
                    addresses: Some(vec![addr("10.1.0.4")]),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        assert_eq!(ready_endpoints(&ep), 2);
        assert_eq!(ready_endpoints(&Endpoints::default()), 0);
    }
}
