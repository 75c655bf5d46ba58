//! The pure side of the live state (the cluster I/O crate's `state::load_state` reads it):
//! the topology cache, SMH objects as manifests (ids, merging an overlay, acceptance order,
//! what may be translated), which clusters and namespaces they name, and how a live
//! generated object compares with the expected one.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ConfigMap;
use kube_core::{ApiResource, DynamicObject, GroupVersionKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::drift::DriftState;
use super::names::ClusterName;
use crate::consts::{
    CLUSTER_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_LABEL, SMH_NAMESPACE,
};
use crate::model::diag::{Diagnostic, ObjectId, Severity, StatusTarget};
use crate::model::topology::{ClusterTopology, Topology};
use crate::model::types::{FailoverService, TrafficPolicy};
use crate::model::{Manifest, SmhObject};
use crate::translate::GeneratedObject;

/// Name of the ConfigMap (in `service-mesh-hub` on the management cluster) holding the last
/// discovered topology of every cluster kubectl-smh has applied to.
pub const TOPOLOGY_CACHE: &str = "kubectl-smh-topology";

/// The Istio kinds kubectl-smh generates, with their plural names.
pub const GENERATED_KINDS: [(&str, &str); 4] = [
    ("DestinationRule", "destinationrules"),
    ("VirtualService", "virtualservices"),
    ("ServiceEntry", "serviceentries"),
    ("EnvoyFilter", "envoyfilters"),
];

/// The label selector of generated objects: both of our labels.
pub fn generated_selector() -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{OWNER_LABEL}={SMH_NAMESPACE}")
}

/// The API resource of a generated Istio kind (as kubectl-smh writes it, `v1alpha3`).
pub fn istio_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(crate::istio::GROUP, crate::istio::VERSION, kind),
        plural,
    )
}

/// One cluster's last discovered topology, as cached in the management cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedCluster {
    /// RFC 3339 time of the discovery.
    pub discovered_at: String,
    /// The cluster as discovery saw it then.
    pub cluster: ClusterTopology,
}

/// The topology cache: ConfigMap [`TOPOLOGY_CACHE`], one data key per cluster (the cluster
/// name) holding a [`CachedCluster`] as JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopologyCache {
    /// The cached clusters, by SMH cluster name.
    pub clusters: BTreeMap<ClusterName, CachedCluster>,
    /// Entries that could not be read (ignored), with why.
    pub unreadable: Vec<String>,
}

impl TopologyCache {
    /// Reads the ConfigMap's data.
    pub fn from_config_map(cm: &ConfigMap) -> Self {
        let mut out = TopologyCache::default();
        for (key, value) in cm.data.iter().flatten() {
            match serde_json::from_str::<CachedCluster>(value) {
                Ok(c) if c.cluster.name == *key => {
                    out.clusters.insert(ClusterName::new(key.as_str()), c);
                }
                Ok(c) => out.unreadable.push(format!(
                    "entry {key:?} describes cluster {:?}",
                    c.cluster.name
                )),
                Err(e) => out.unreadable.push(format!("entry {key:?}: {e}")),
            }
        }
        out
    }

    /// The ConfigMap's `data`.
    pub fn to_data(&self) -> BTreeMap<String, String> {
        self.clusters
            .iter()
            .filter_map(|(name, c)| {
                serde_json::to_string(c)
                    .ok()
                    .map(|json| (name.as_str().to_string(), json))
            })
            .collect()
    }

    /// The ConfigMap, as server-side apply sends it.
    pub fn to_config_map(&self) -> Value {
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": TOPOLOGY_CACHE,
                "namespace": SMH_NAMESPACE,
                "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
            },
            "data": self.to_data(),
        })
    }
}

/// Compares a live object with the expected one, as `describe` and `check` judge drift
/// ([`super::drift::compare`]): `spec` by value (numbers numerically, as the API server
/// stores `100.0` as `100`; a field the server filled in that no manager owns is not a
/// difference), and only the labels and annotations kubectl-smh sets. A differing object is
/// `Modified` (someone else changed it; the field managers that did, from `managedFields`)
/// or `OutOfDate` (as kubectl-smh applied it, but the configuration now translates to
/// something else).
pub fn compare(expected: &GeneratedObject, live: Option<&DynamicObject>) -> DriftState {
    let Some(live) = live else {
        return DriftState::Missing;
    };
    // Serializing a DynamicObject cannot fail (string keys, JSON values).
    let live = serde_json::to_value(live).unwrap_or(Value::Null);
    super::drift::compare(&expected.to_value(), &live)
}

/// The kind of a live object (`types`, or the one it was listed as).
pub fn live_kind(o: &DynamicObject) -> &str {
    o.types.as_ref().map(|t| t.kind.as_str()).unwrap_or("")
}

/// `(kind, namespace, name)` of a live object.
pub fn live_key(o: &DynamicObject) -> (&str, &str, &str) {
    (
        live_kind(o),
        o.metadata.namespace.as_deref().unwrap_or(""),
        o.metadata.name.as_deref().unwrap_or(""),
    )
}

/// Whether a live object carries both of our labels and says it belongs to `cluster`: the
/// only objects pruning may delete.
pub fn is_ours_in(o: &DynamicObject, cluster: &str) -> bool {
    let labels = o.metadata.labels.as_ref();
    let has = |k: &str, v: &str| labels.and_then(|l| l.get(k)).is_some_and(|x| x == v);
    has(MANAGED_BY_LABEL, MANAGED_BY_VALUE)
        && has(OWNER_LABEL, SMH_NAMESPACE)
        && has(CLUSTER_LABEL, cluster)
}

/// The id of a manifest's object (namespace `service-mesh-hub` when unset).
pub fn manifest_id(m: &Manifest) -> ObjectId {
    let (kind, meta) = match &m.object {
        SmhObject::FailoverService(fs) => (FailoverService::KIND, &fs.metadata),
        SmhObject::TrafficPolicy(tp) => (TrafficPolicy::KIND, &tp.metadata),
    };
    ObjectId {
        kind: kind.to_string(),
        namespace: meta
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| SMH_NAMESPACE.to_string()),
        name: meta.name.clone().unwrap_or_default(),
    }
}

/// The metadata of a manifest's object.
pub fn manifest_meta(m: &Manifest) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    match &m.object {
        SmhObject::FailoverService(fs) => &fs.metadata,
        SmhObject::TrafficPolicy(tp) => &tp.metadata,
    }
}

/// The clusters an object names: backing services, destination selectors (refs and
/// matcher clusters), source selector clusters, shift and mirror destinations, and the
/// cluster of every mesh in `spec.meshes` (SMH names a mesh `<istiod>-<namespace>-<cluster>`:
/// the longest known cluster name it ends with, else what follows
/// `istiod-istio-system-`).
pub fn referenced_clusters(m: &Manifest, known: &BTreeSet<String>) -> BTreeSet<ClusterName> {
    let topo = Topology::from_manifests(std::slice::from_ref(m));
    let mut out: BTreeSet<ClusterName> = topo
        .clusters
        .iter()
        .map(|c| ClusterName::new(c.name.as_str()))
        .collect();
    if let SmhObject::FailoverService(fs) = &m.object {
        for mesh in fs.spec.meshes.iter().flatten() {
            if let Some(c) = mesh_cluster(&mesh.name, known) {
                out.insert(ClusterName::new(c));
            }
        }
    }
    out
}

/// The cluster of an SMH mesh name: the longest of `known` that the name ends with after a
/// `-`, else what follows the default `istiod-istio-system-`.
pub fn mesh_cluster(mesh: &str, known: &BTreeSet<String>) -> Option<String> {
    known
        .iter()
        .filter(|c| mesh.len() > c.len() && mesh.ends_with(&format!("-{c}")))
        .max_by_key(|c| c.len())
        .cloned()
        .or_else(|| {
            mesh.strip_prefix("istiod-istio-system-")
                .filter(|c| !c.is_empty())
                .map(str::to_string)
        })
}

/// Ranks a TrafficPolicy for acceptance, lower first, as SMH's
/// `sortTrafficPoliciesByAcceptedDate` does across its targets: a policy accepted before
/// (its status says ACCEPTED somewhere) and unchanged since, then one accepted before but
/// changed, then the rest by creation time (not yet created: last) and `name.namespace.`.
/// Per target, [`super::status`] refines this with the previous `acceptanceOrder`.
pub fn acceptance_rank(tp: &TrafficPolicy, up_to_date: bool) -> (u8, String, String) {
    let accepted = tp.status.as_ref().is_some_and(|s| {
        s.traffic_targets
            .values()
            .any(|t| t.state == crate::model::types::ApprovalState::Accepted)
    });
    let class = match (accepted, up_to_date) {
        (true, true) => 0,
        (true, false) => 1,
        _ => 2,
    };
    let created = tp
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        // Later than any RFC 3339 time: objects not created yet come last.
        .unwrap_or_else(|| "~".to_string());
    let name = crate::model::naming::object_key(
        tp.metadata.name.as_deref().unwrap_or_default(),
        tp.metadata.namespace.as_deref().unwrap_or(SMH_NAMESPACE),
    );
    (class, created, name)
}

/// Per cluster, the namespaces the SMH objects name there: their backing services and
/// traffic-policy destinations (`kubeServiceRefs`, and a `kubeServiceMatcher`'s namespaces
/// in its clusters, or in every cluster named when it lists none), and the istiod namespace
/// of every mesh in `spec.meshes` (SMH's mesh name `istiod-<namespace>-<cluster>`). A
/// cluster whose meshes name no namespace gets `istio-system`, where Istio is usually
/// installed. Where discovery lists when listing in all namespaces is forbidden (a cluster
/// without an entry gets `istio-system` alone).
pub fn input_namespaces(
    merged: &[Manifest],
    known: &BTreeSet<String>,
) -> BTreeMap<ClusterName, BTreeSet<String>> {
    let mut out: BTreeMap<ClusterName, BTreeSet<String>> = BTreeMap::new();
    for c in Topology::from_manifests(merged).clusters {
        let entry = out.entry(ClusterName::new(c.name.as_str())).or_default();
        entry.extend(c.services.iter().map(|s| s.namespace.clone()));
    }
    let all: Vec<ClusterName> = out.keys().cloned().collect();
    let mut mesh_named: BTreeSet<ClusterName> = BTreeSet::new();
    for m in merged {
        match &m.object {
            SmhObject::FailoverService(fs) => {
                for mesh in fs.spec.meshes.iter().flatten() {
                    let Some(cluster) = mesh_cluster(&mesh.name, known) else {
                        continue;
                    };
                    let ns = mesh
                        .name
                        .strip_suffix(&format!("-{cluster}"))
                        .and_then(|rest| rest.strip_prefix("istiod-"))
                        .filter(|ns| !ns.is_empty());
                    if let Some(ns) = ns {
                        let name = ClusterName::new(cluster.as_str());
                        out.entry(name.clone()).or_default().insert(ns.to_string());
                        mesh_named.insert(name);
                    }
                }
            }
            SmhObject::TrafficPolicy(tp) => {
                for sel in &tp.spec.destination_selector {
                    let Some(matcher) = &sel.kube_service_matcher else {
                        continue;
                    };
                    let clusters: Vec<ClusterName> = if matcher.clusters.is_empty() {
                        all.clone()
                    } else {
                        matcher
                            .clusters
                            .iter()
                            .map(|c| ClusterName::new(c.as_str()))
                            .collect()
                    };
                    for c in clusters {
                        out.entry(c)
                            .or_default()
                            .extend(matcher.namespaces.iter().cloned());
                    }
                }
            }
        }
    }
    for (cluster, namespaces) in &mut out {
        if !mesh_named.contains(cluster) {
            namespaces.insert("istio-system".to_string());
        }
        namespaces.retain(|n| !n.is_empty());
    }
    out
}

/// The objects translation may use: every FailoverService without errors, and every
/// TrafficPolicy without object-wide errors (errors about one traffic target only keep it
/// off that target; translation reports and skips those itself, as SMH did).
pub fn translatable(merged: &[Manifest], diagnostics: &[Diagnostic]) -> Vec<Manifest> {
    let mut broken: BTreeSet<ObjectId> = BTreeSet::new();
    for d in diagnostics.iter().filter(|d| d.severity == Severity::Error) {
        let Some(id) = &d.object else { continue };
        let object_wide = id.kind == FailoverService::KIND
            || !matches!(d.status_target, Some(StatusTarget::TrafficTarget(_)));
        if object_wide {
            broken.insert(id.clone());
        }
    }
    merged
        .iter()
        .filter(|m| !broken.contains(&manifest_id(m)))
        .cloned()
        .collect()
}

/// Stored objects merged with the overlay (which wins, keeping the stored status), minus
/// `remove`: FailoverServices by id, then TrafficPolicies in acceptance order.
pub fn merge(stored: &[Manifest], overlay: &[Manifest], remove: &[ObjectId]) -> Vec<Manifest> {
    let mut by_id: BTreeMap<ObjectId, (Manifest, bool)> = BTreeMap::new();
    for m in stored {
        by_id.insert(manifest_id(m), (m.clone(), generation_observed(m)));
    }
    for m in overlay {
        let id = manifest_id(m);
        let mut m = m.clone();
        let up_to_date = match by_id.get(&id) {
            Some((old, _)) => {
                carry_over(&mut m, old);
                same_spec(&m, old) && generation_observed(old)
            }
            None => false,
        };
        by_id.insert(id, (m, up_to_date));
    }
    for id in remove {
        by_id.remove(id);
    }
    let mut fss = Vec::new();
    let mut tps = Vec::new();
    for (_, (m, up_to_date)) in by_id {
        match &m.object {
            SmhObject::FailoverService(_) => fss.push(m),
            SmhObject::TrafficPolicy(tp) => {
                let rank = acceptance_rank(tp, up_to_date);
                tps.push((rank, m));
            }
        }
    }
    tps.sort_by(|a, b| a.0.cmp(&b.0));
    fss.into_iter()
        .chain(tps.into_iter().map(|(_, m)| m))
        .collect()
}

/// Copies what the server owns (status, uid, resourceVersion, generation, creation time)
/// from the stored object onto an overlay object.
fn carry_over(m: &mut Manifest, old: &Manifest) {
    let old_meta = manifest_meta(old).clone();
    let meta = match &mut m.object {
        SmhObject::FailoverService(fs) => {
            if let SmhObject::FailoverService(o) = &old.object {
                fs.status = o.status.clone();
            }
            &mut fs.metadata
        }
        SmhObject::TrafficPolicy(tp) => {
            if let SmhObject::TrafficPolicy(o) = &old.object {
                tp.status = o.status.clone();
            }
            &mut tp.metadata
        }
    };
    meta.uid = old_meta.uid;
    meta.resource_version = old_meta.resource_version;
    meta.generation = old_meta.generation;
    meta.creation_timestamp = old_meta.creation_timestamp;
}

/// Whether two manifests of the same object have the same spec.
pub fn same_spec(a: &Manifest, b: &Manifest) -> bool {
    match (&a.object, &b.object) {
        (SmhObject::FailoverService(x), SmhObject::FailoverService(y)) => x.spec == y.spec,
        (SmhObject::TrafficPolicy(x), SmhObject::TrafficPolicy(y)) => x.spec == y.spec,
        _ => false,
    }
}

/// Whether a stored object's status has seen its current generation.
pub(crate) fn generation_observed(m: &Manifest) -> bool {
    let generation = manifest_meta(m).generation.unwrap_or(0);
    let observed = match &m.object {
        SmhObject::FailoverService(fs) => fs.status.as_ref().map(|s| s.observed_generation),
        SmhObject::TrafficPolicy(tp) => tp.status.as_ref().map(|s| s.observed_generation),
    };
    observed == Some(generation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse::parse_str;
    use crate::translate::translate;

    const GUIDE: &str = concat!(
        include_str!("../../../../examples/guide/1-outlier-detection.yaml"),
        "\n---\n",
        include_str!("../../../../examples/guide/2-failover-service.yaml"),
        "\n---\n",
        include_str!("../../../../examples/guide/3-traffic-shift.yaml"),
    );

    fn guide() -> Vec<Manifest> {
        let loaded = parse_str("guide.yaml", GUIDE);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.manifests
    }

    #[test]
    fn input_namespaces_are_where_the_objects_point() {
        let m = guide();
        let known: BTreeSet<String> =
            ["mgmt-cluster".to_string(), "remote-cluster".to_string()].into();
        let ns = input_namespaces(&m, &known);
        let show: Vec<(String, Vec<String>)> = ns
            .into_iter()
            .map(|(c, n)| (c.as_str().to_string(), n.into_iter().collect()))
            .collect();
        // The mesh named in the FailoverService gives mgmt-cluster's istiod namespace; the
        // remote cluster, whose mesh no object names, gets Istio's usual istio-system.
        assert_eq!(
            show,
            [
                (
                    "mgmt-cluster".to_string(),
                    vec!["bookinfo".to_string(), "istio-system".to_string()]
                ),
                (
                    "remote-cluster".to_string(),
                    vec!["bookinfo".to_string(), "istio-system".to_string()]
                ),
            ]
        );
        let mut tp = m[0].clone();
        if let SmhObject::TrafficPolicy(t) = &mut tp.object {
            t.spec.destination_selector = vec![crate::model::types::TrafficTargetSelector {
                kube_service_matcher: Some(crate::model::types::KubeServiceMatcher {
                    namespaces: vec!["shop".into()],
                    clusters: vec!["remote-cluster".into()],
                    ..Default::default()
                }),
                kube_service_refs: None,
            }];
        } else {
            panic!("the guide's first object is a TrafficPolicy");
        }
        let mut fs = m[1].clone();
        if let SmhObject::FailoverService(f) = &mut fs.object {
            for mesh in f.spec.meshes.iter_mut().flatten() {
                mesh.name = "istiod-istio-1-24-mgmt-cluster".into();
            }
        }
        let ns = input_namespaces(&[tp, fs], &known);
        let get = |c: &str| -> Vec<&str> {
            ns[&ClusterName::new(c)]
                .iter()
                .map(String::as_str)
                .collect()
        };
        assert_eq!(get("mgmt-cluster"), ["bookinfo", "istio-1-24"]);
        assert_eq!(get("remote-cluster"), ["bookinfo", "istio-system", "shop"]);
    }

    #[test]
    fn referenced_clusters_include_mesh_clusters() {
        let m = guide();
        let known: BTreeSet<String> = ["mgmt-cluster".to_string()].into();
        let names = |i: usize| -> Vec<String> {
            referenced_clusters(&m[i], &known)
                .into_iter()
                .map(|c| c.as_str().to_string())
                .collect()
        };
        assert_eq!(names(0), ["mgmt-cluster", "remote-cluster"]);
        assert_eq!(names(1), ["mgmt-cluster", "remote-cluster"]);
        assert_eq!(names(2), ["mgmt-cluster"]);
        assert_eq!(
            mesh_cluster("istiod-istio-system-east.example", &BTreeSet::new()).as_deref(),
            Some("east.example")
        );
        let known: BTreeSet<String> = ["west".to_string(), "us-west".to_string()].into();
        assert_eq!(
            mesh_cluster("istiod-rev-1-istio-1-us-west", &known).as_deref(),
            Some("us-west")
        );
        assert_eq!(mesh_cluster("somemesh", &known), None);
    }

    #[test]
    fn merge_overlays_keep_status_and_order_policies_by_acceptance() {
        let stored_text = r#"
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: b-old, namespace: bookinfo, generation: 2, creationTimestamp: "2020-01-02T00:00:00Z"}
spec: {outlierDetection: {consecutiveErrors: 2}}
status:
  observedGeneration: "2"
  state: ACCEPTED
  trafficTargets:
    reviews-bookinfo-mgmt-cluster.service-mesh-hub.: {state: ACCEPTED}
---
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: a-never, namespace: bookinfo, generation: 1, creationTimestamp: "2020-01-01T00:00:00Z"}
spec: {}
---
apiVersion: networking.smh.solo.io/v1alpha2
kind: FailoverService
metadata: {name: gone, namespace: service-mesh-hub}
spec: {hostname: x.global}
"#;
        // The parser accepts the server's metadata fields and status.
        let stored = parse_str("stored", stored_text);
        assert!(!stored.has_errors(), "{:?}", stored.diagnostics);
        let overlay = parse_str(
            "input.yaml",
            r#"
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: b-old, namespace: bookinfo}
spec: {outlierDetection: {consecutiveErrors: 2}}
---
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: c-new, namespace: bookinfo}
spec: {}
"#,
        );
        let merged = merge(
            &stored.manifests,
            &overlay.manifests,
            &[ObjectId {
                kind: "FailoverService".into(),
                namespace: "service-mesh-hub".into(),
                name: "gone".into(),
            }],
        );
        let ids: Vec<String> = merged.iter().map(|m| manifest_id(m).name).collect();
        // b-old was accepted and is unchanged; a-never was created before c-new (not yet
        // created: last).
        assert_eq!(ids, ["b-old", "a-never", "c-new"]);
        let SmhObject::TrafficPolicy(b) = &merged[0].object else {
            panic!()
        };
        assert_eq!(merged[0].source.file, "input.yaml", "the overlay wins");
        assert_eq!(b.status.as_ref().unwrap().observed_generation, 2);
        assert_eq!(b.metadata.generation, Some(2));
    }

    #[test]
    fn translatable_keeps_policies_with_per_target_errors_only() {
        let m = guide();
        let id = manifest_id(&m[2]);
        let diag = |target: Option<StatusTarget>| Diagnostic {
            severity: Severity::Error,
            source: None,
            object: Some(id.clone()),
            field: None,
            position: None,
            message: "x".into(),
            status_target: target,
        };
        let per_target = vec![diag(Some(StatusTarget::TrafficTarget("k".into())))];
        assert_eq!(translatable(&m, &per_target).len(), 3);
        let top = vec![diag(Some(StatusTarget::TopLevel))];
        assert_eq!(translatable(&m, &top).len(), 2);
        let none = vec![diag(None)];
        assert_eq!(translatable(&m, &none).len(), 2);
    }

    #[test]
    fn cache_round_trips_and_skips_bad_entries() {
        let topo = Topology::from_manifests(&guide());
        let mut cache = TopologyCache::default();
        for c in &topo.clusters {
            cache.clusters.insert(
                ClusterName::new(c.name.as_str()),
                CachedCluster {
                    discovered_at: "2025-01-01T00:00:00Z".into(),
                    cluster: c.clone(),
                },
            );
        }
        let mut cm: ConfigMap = serde_json::from_value(cache.to_config_map()).unwrap();
        let back = TopologyCache::from_config_map(&cm);
        assert_eq!(back, cache);
        let data = cm.data.as_mut().unwrap();
        data.insert("broken".into(), "{".into());
        let v = data["mgmt-cluster"].clone();
        data.insert("other".into(), v);
        let back = TopologyCache::from_config_map(&cm);
        assert_eq!(back.clusters.len(), 2);
        assert_eq!(back.unreadable.len(), 2, "{:?}", back.unreadable);
    }

    #[test]
    fn compare_spec_labels_and_annotations() {
        let m = guide();
        let t = translate(&m, &Topology::from_manifests(&m));
        let g = &t.objects[0];
        assert_eq!(compare(g, None), DriftState::Missing);
        let mut live: DynamicObject = serde_json::from_value(g.to_value()).unwrap();
        assert_eq!(compare(g, Some(&live)), DriftState::InSync);
        live.metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert("extra".into(), "fine".into());
        assert_eq!(compare(g, Some(&live)), DriftState::InSync);
        live.metadata
            .labels
            .get_or_insert_with(Default::default)
            .remove(MANAGED_BY_LABEL);
        live.data["spec"] = serde_json::json!({"host": "changed"});
        let DriftState::Modified { fields, by } = compare(g, Some(&live)) else {
            panic!("{:?}", compare(g, Some(&live)))
        };
        assert!(by.is_empty());
        assert!(fields.contains(&"spec.host".to_string()), "{fields:?}");
        assert!(
            fields.contains(&format!("metadata.labels[{MANAGED_BY_LABEL:?}]")),
            "{fields:?}"
        );
        assert!(!is_ours_in(&live, &g.cluster));
    }

    /// The API server stores `100.0` as `100`: by value, that is no difference.
    #[test]
    fn numbers_compare_by_value() {
        let loaded = parse_str(
            "fault.yaml",
            "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: fault, namespace: bookinfo}\nspec:\n  destinationSelector:\n  - kubeServiceRefs:\n      services: [{clusterName: mgmt-cluster, name: reviews, namespace: bookinfo}]\n  faultInjection: {fixedDelay: 1s, percentage: 100}\n",
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let t = translate(
            &loaded.manifests,
            &Topology::from_manifests(&loaded.manifests),
        );
        let g = t
            .objects
            .iter()
            .find(|g| g.kind() == "VirtualService")
            .expect("a VirtualService");
        let want = g.to_value();
        let percentage = "/spec/http/0/fault/delay/percentage/value";
        assert!(want.pointer(percentage).unwrap().is_f64(), "{want}");
        // As the API server stores and returns it.
        let mut stored = want.clone();
        *stored.pointer_mut(percentage).unwrap() = serde_json::json!(100);
        let live: DynamicObject = serde_json::from_value(stored).unwrap();
        assert_eq!(compare(g, Some(&live)), DriftState::InSync);
        // Another value is a difference.
        let mut other = want.clone();
        *other.pointer_mut(percentage).unwrap() = serde_json::json!(50);
        let live: DynamicObject = serde_json::from_value(other).unwrap();
        assert!(matches!(
            compare(g, Some(&live)),
            DriftState::Modified { .. }
        ));
    }
}
