//! DestinationRule `loadBalancer.localityLbSetting.failoverPriority`, as istiod applies it
//! (`applyFailoverPriorityPerLocality` in Istio's `pilot/pkg/networking/core/loadbalancer`):
//! only to a cluster with outlier detection, only without `distribute` and unless
//! `enabled: false`. For `n` entries, an endpoint's priority is `n - j` for the first entry `j`
//! whose label it does not share with the caller (0 when it shares all); an entry
//! `label=value` compares with `value` instead of the caller's label. The priorities are then
//! compacted to 0, 1, ... (Envoy skips no level). Locality failover (`failover` entries) is not
//! modelled here.
//!
//! The model runs one Envoy cluster with several priority levels as an aggregate of one
//! sub-cluster per level (`<cluster>#p<level>`): Envoy's aggregate load balancer computes the
//! levels' loads the same way (overprovisioning, spill-over). What differs: outlier detection
//! and `maxEjectionPercent` count per level instead of over the whole cluster (the same at
//! 100 %, which kubectl-smh writes), and each level has its own update merge window.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::super::xds::{AggregateCluster, ClusterDef, EndpointCluster, ISTIO_MAX_RETRIES};

/// The `failoverPriority` entries in effect for a subset (its own `loadBalancer`, else the
/// rule's), or none.
pub(super) fn failover_priority(subset: Option<&Value>, top: Option<&Value>) -> Vec<String> {
    let lb = subset
        .and_then(|p| p.get("loadBalancer"))
        .or_else(|| top.and_then(|p| p.get("loadBalancer")));
    let Some(locality) = lb.and_then(|l| l.get("localityLbSetting")) else {
        return Vec::new();
    };
    if locality.get("enabled").and_then(Value::as_bool) == Some(false)
        || locality.get("distribute").is_some()
    {
        return Vec::new();
    }
    locality
        .get("failoverPriority")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Each endpoint's compacted priority for a caller with `proxy_labels`.
pub(super) fn priorities(
    c: &EndpointCluster,
    proxy_labels: &BTreeMap<String, String>,
    entries: &[String],
) -> Vec<u32> {
    let n = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    let overrides: BTreeMap<&str, &str> =
        entries.iter().filter_map(|e| e.split_once('=')).collect();
    let labels: Vec<&str> = entries
        .iter()
        .map(|e| e.split_once('=').map_or(e.as_str(), |(l, _)| l))
        .collect();
    let raw: Vec<u32> = c
        .endpoints
        .iter()
        .map(|ep| {
            for (j, l) in labels.iter().enumerate() {
                let want = overrides
                    .get(l)
                    .copied()
                    .or_else(|| proxy_labels.get(*l).map(String::as_str))
                    .unwrap_or("");
                if ep.labels.get(*l).map(String::as_str).unwrap_or("") != want {
                    return n - u32::try_from(j).unwrap_or(0);
                }
            }
            0
        })
        .collect();
    let levels: BTreeSet<u32> = raw.iter().copied().collect();
    let rank: BTreeMap<u32, u32> = levels
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    raw.iter().map(|p| rank[p]).collect()
}

/// Split `c` into one sub-cluster per priority level and an aggregate named like `c` over
/// them, when there is more than one level; otherwise `c` as it is.
pub(super) fn split(c: EndpointCluster, prio: &[u32]) -> Vec<(String, ClusterDef)> {
    let levels: BTreeSet<u32> = prio.iter().copied().collect();
    if levels.len() < 2 {
        return vec![(c.name.clone(), ClusterDef::Endpoints(c))];
    }
    let mut out = Vec::new();
    let mut names = Vec::new();
    for level in levels {
        let mut sub = c.clone();
        sub.name = format!("{}#p{level}", c.name);
        sub.endpoints = c
            .endpoints
            .iter()
            .zip(prio)
            .filter(|(_, p)| **p == level)
            .map(|(e, _)| e.clone())
            .collect();
        names.push(sub.name.clone());
        out.push((sub.name.clone(), ClusterDef::Endpoints(sub)));
    }
    out.push((
        c.name.clone(),
        ClusterDef::Aggregate(AggregateCluster {
            name: c.name.clone(),
            clusters: names,
            panic_threshold: c.panic_threshold,
            max_retries: ISTIO_MAX_RETRIES,
            source: "DestinationRule failoverPriority".to_string(),
        }),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::super::super::xds::Endpoint;
    use super::*;

    fn cluster(labels: &[&str]) -> EndpointCluster {
        EndpointCluster::new(
            "c",
            labels
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    let mut e = Endpoint::new(&format!("10.0.0.{i}"), 80);
                    e.labels
                        .insert("topology.istio.io/cluster".into(), (*id).into());
                    e
                })
                .collect(),
        )
    }

    #[test]
    fn a_value_orders_every_caller_alike_and_a_bare_label_prefers_the_callers_cluster() {
        let c = cluster(&["c1", "c1", "c2"]);
        let caller_in_c2: BTreeMap<String, String> =
            [("topology.istio.io/cluster".to_string(), "c2".to_string())].into();
        assert_eq!(
            priorities(&c, &caller_in_c2, &["topology.istio.io/cluster=c1".into()]),
            vec![0, 0, 1]
        );
        assert_eq!(
            priorities(&c, &caller_in_c2, &["topology.istio.io/cluster".into()]),
            vec![1, 1, 0]
        );
        // A second entry for the same label replaces the first's value.
        assert_eq!(
            priorities(
                &c,
                &caller_in_c2,
                &[
                    "topology.istio.io/cluster=c1".into(),
                    "topology.istio.io/cluster=c2".into()
                ]
            ),
            vec![1, 1, 0]
        );
    }

    #[test]
    fn split_makes_an_aggregate_of_levels() {
        let c = cluster(&["c1", "c2"]);
        let out = split(c, &[0, 1]);
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["c#p0", "c#p1", "c"]);
        let ClusterDef::Aggregate(a) = &out[2].1 else {
            panic!("not an aggregate")
        };
        assert_eq!(a.clusters, ["c#p0", "c#p1"]);
        assert_eq!(split(cluster(&["c1"]), &[0]).len(), 1);
    }
}
