//! Fixtures of the inspection tests: the guide's configuration as a snapshot of two
//! clusters, and cluster IDs and remote secrets set on it.

use serde_json::{Value, json};

use crate::inspect::discovery::{ClusterFacts, RemoteSecret};
use crate::inspect::snapshot::{ClusterView, EndpointCount, ServiceRef, Snapshot};
use crate::model::SmhObject;
use crate::model::select;
use crate::model::topology::{MultiClusterMode, Topology};
use crate::model::types::{
    ApprovalState, FailoverServiceStatus, TrafficPolicyStatus, ValidationStatus,
};

pub fn svc(cluster: &str, name: &str) -> ServiceRef {
    ServiceRef {
        cluster: cluster.into(),
        namespace: "bookinfo".into(),
        name: name.into(),
    }
}

/// The guide's three manifests, applied: statuses ACCEPTED at generation 1, every
/// generated object live and unchanged, reviews with 2 ready endpoints in mgmt-cluster and
/// 1 in remote-cluster.
pub fn guide_snapshot(mode: MultiClusterMode) -> Snapshot {
    let mut manifests = Vec::new();
    for (file, text) in [
        (
            "examples/guide/1-outlier-detection.yaml",
            include_str!("../../../../examples/guide/1-outlier-detection.yaml"),
        ),
        (
            "examples/guide/2-failover-service.yaml",
            include_str!("../../../../examples/guide/2-failover-service.yaml"),
        ),
        (
            "examples/guide/3-traffic-shift.yaml",
            include_str!("../../../../examples/guide/3-traffic-shift.yaml"),
        ),
    ] {
        let loaded = crate::model::parse::parse_str(file, text);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        manifests.extend(loaded.manifests);
    }
    let mut topology = Topology::parse_bytes(
        "examples/topology.yaml",
        include_bytes!("../../../../examples/topology.yaml"),
    )
    .unwrap();
    for c in &mut topology.clusters {
        if let Some(m) = c.mesh.as_mut() {
            m.mode = mode;
        }
    }
    let mut snap = Snapshot {
        namespace: "service-mesh-hub".into(),
        topology,
        ..Default::default()
    };
    for m in manifests {
        match m.object {
            SmhObject::FailoverService(mut fs) => {
                fs.metadata.generation = Some(1);
                let mut status = FailoverServiceStatus {
                    observed_generation: 1,
                    state: ApprovalState::Accepted,
                    ..Default::default()
                };
                status.meshes.insert(
                    "istiod-istio-system-mgmt-cluster.service-mesh-hub.".into(),
                    ValidationStatus {
                        state: ApprovalState::Accepted,
                        ..Default::default()
                    },
                );
                fs.status = Some(status);
                snap.failover_services.push(fs);
            }
            SmhObject::TrafficPolicy(mut tp) => {
                tp.metadata.generation = Some(1);
                let mut status = TrafficPolicyStatus {
                    observed_generation: 1,
                    state: ApprovalState::Accepted,
                    ..Default::default()
                };
                for t in select::traffic_policy_targets(&tp, &snap.topology) {
                    status.traffic_targets.insert(
                        t.key(),
                        ValidationStatus {
                            state: ApprovalState::Accepted,
                            ..Default::default()
                        },
                    );
                }
                tp.status = Some(status);
                snap.traffic_policies.push(tp);
            }
        }
    }
    for (name, mgmt) in [("mgmt-cluster", true), ("remote-cluster", false)] {
        snap.clusters.insert(
            name.into(),
            ClusterView {
                name: name.into(),
                context: name.into(),
                server: format!("https://{name}:6443"),
                mgmt,
                ..Default::default()
            },
        );
    }
    let manifests = snap.manifests();
    snap.expected = crate::translate::translate(&manifests, &snap.topology);
    set_live_as_expected(&mut snap);
    snap.endpoints.insert(
        svc("mgmt-cluster", "reviews"),
        Ok(EndpointCount { ready: 2, total: 2 }),
    );
    snap.endpoints.insert(
        svc("remote-cluster", "reviews"),
        Ok(EndpointCount { ready: 1, total: 1 }),
    );
    snap
}

/// Make every expected object of `snap` live in its cluster, as kubectl-smh applied it.
pub fn set_live_as_expected(snap: &mut Snapshot) {
    for c in ["mgmt-cluster", "remote-cluster"] {
        let objects: Vec<Value> = snap
            .expected
            .objects
            .iter()
            .filter(|g| g.cluster == c)
            .map(|g| {
                let mut v = g.to_value();
                v["metadata"]["managedFields"] = json!([{
                    "manager": "kubectl-smh", "operation": "Apply", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {".": {}}}
                }]);
                v
            })
            .collect();
        snap.live.insert(c.into(), Ok(objects));
    }
}

/// The guide's snapshot in multi-primary mode with IDs cluster1/cluster2 and remote
/// secrets keyed by them, as `istioctl create-remote-secret --name <ID>` makes them.
pub fn consistent() -> Snapshot {
    let mut snap = guide_snapshot(MultiClusterMode::MultiPrimary);
    set_ids(
        &mut snap,
        &[("mgmt-cluster", "cluster1"), ("remote-cluster", "cluster2")],
    );
    set_secrets(
        &mut snap,
        "mgmt-cluster",
        &[("istio-remote-secret-cluster2", "cluster2")],
    );
    set_secrets(
        &mut snap,
        "remote-cluster",
        &[("istio-remote-secret-cluster1", "cluster1")],
    );
    snap
}

/// Give the meshes these Istio cluster IDs, and translate again.
pub(crate) fn set_ids(snap: &mut Snapshot, ids: &[(&str, &str)]) {
    for (c, id) in ids {
        let t = snap
            .topology
            .clusters
            .iter_mut()
            .find(|t| t.name == *c)
            .unwrap();
        t.mesh.as_mut().unwrap().cluster_id = Some(id.to_string());
    }
    // The expected objects follow the topology, as in a real snapshot.
    snap.expected = crate::translate::translate(&snap.manifests(), &snap.topology);
}

/// Facts of a cluster as discovery would leave them, with nothing about cluster IDs.
pub fn facts(cluster: &str) -> ClusterFacts {
    use crate::inspect::names::{ClusterName, ContextName};
    use crate::inspect::target::{ClusterTarget, MappingSource};
    ClusterFacts {
        target: ClusterTarget {
            cluster: Some(ClusterName::from(cluster)),
            context: ContextName::from(cluster),
            server: format!("https://{cluster}:6443"),
            mgmt: cluster == "mgmt-cluster",
            source: MappingSource::SameName,
            kubeconfig: None,
        },
        kubernetes_version: "v1.33.1".into(),
        istio_api_version: Some("v1".into()),
        smh_api_version: None,
        istiod_image: None,
        istio_version_assumed: false,
        mode: None,
        cluster_id_source: None,
        remote_secrets: None,
        cluster_domain_source: String::new(),
        warnings: Vec::new(),
    }
}

/// Give `cluster` these remote secrets (`(name, key)`, annotated with the key).
pub fn set_secrets(snap: &mut Snapshot, cluster: &str, secrets: &[(&str, &str)]) {
    let facts = snap
        .clusters
        .get_mut(cluster)
        .unwrap()
        .facts
        .get_or_insert_with(|| facts(cluster));
    facts.remote_secrets = Some(
        secrets
            .iter()
            .map(|(name, key)| RemoteSecret {
                secret: format!("istio-system/{name}"),
                cluster_ids: vec![key.to_string()],
                annotation: Some(key.to_string()),
            })
            .collect(),
    );
}
