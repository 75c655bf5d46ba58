//! Discovery's pure part against the simulated demo clusters' own objects (`crates/smh-sim/src/world`,
//! in process): the objects the demo seeds and its controllers create become the Topology
//! the guide needs, and the multi-cluster mode the demo was started in is the one detected.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, GroupVersionForDiscovery,
};
use kube::api::DynamicObject;
use serde::de::DeserializeOwned;
use serde_json::Value;

use smh_cluster::{ClusterName, ClusterTarget, ContextName, MappingSource};
use smh_core::inspect::discovery::{
    ClusterObjects, DiscoveryOptions, build_cluster, remote_secret,
};
use smh_core::model::topology::{ClusterTopology, MultiClusterMode, Topology};
use smh_sim::net::PodNetwork;
use smh_sim::store::{Gvr, Store};
use smh_sim::world::{self, WorldHandle, WorldOptions};

struct Sim {
    name: String,
    store: Arc<Store>,
    _handle: WorldHandle,
}

fn start(mode: MultiClusterMode) -> Vec<Sim> {
    let fleet = world::Fleet::new();
    WorldOptions::demo(mode, "1.24.2", Duration::from_millis(50))
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let store = Arc::new(Store::new());
            let net = Arc::new(PodNetwork::new(i as u8 + 1));
            world::seed(&store, o).expect("seed");
            let handle = world::spawn(store.clone(), net, fleet.clone(), o);
            Sim {
                name: o.cluster.clone(),
                store,
                _handle: handle,
            }
        })
        .collect()
}

fn typed<T: DeserializeOwned>(store: &Store, gvr: &Gvr, ns: Option<&str>) -> Vec<T> {
    let (items, _) = store.list(gvr, ns);
    items
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("a valid Kubernetes object"))
        .collect()
}

/// What `fetch_cluster` would read over HTTP, read from the store.
fn objects(store: &Store) -> ClusterObjects {
    let secrets: Vec<Value> = store
        .list(&Gvr::new("", "v1", "secrets"), Some("istio-system"))
        .0;
    ClusterObjects {
        version: None,
        api_groups: Some(APIGroupList {
            groups: vec![APIGroup {
                name: "networking.istio.io".into(),
                preferred_version: Some(GroupVersionForDiscovery {
                    group_version: "networking.istio.io/v1".into(),
                    version: "v1".into(),
                }),
                server_address_by_client_cidrs: None,
                versions: vec![],
            }],
        }),
        deployments: typed(store, &Gvr::new("apps", "v1", "deployments"), None),
        services: typed(store, &Gvr::new("", "v1", "services"), None),
        pods: typed(store, &Gvr::new("", "v1", "pods"), None),
        namespaces: typed(store, &Gvr::new("", "v1", "namespaces"), None),
        daemon_sets: typed(store, &Gvr::new("apps", "v1", "daemonsets"), None),
        gateways: Vec::new(),
        config_maps: typed(
            store,
            &Gvr::new("", "v1", "configmaps"),
            Some("istio-system"),
        ),
        remote_secrets: secrets
            .iter()
            .filter(|s| {
                s.pointer("/metadata/labels/istio~1multiCluster")
                    .and_then(Value::as_str)
                    == Some("true")
            })
            .map(|s| {
                format!(
                    "istio-system/{}",
                    s.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                )
            })
            .collect(),
        remote_secret_ids: Some(
            secrets
                .iter()
                .filter(|s| {
                    s.pointer("/metadata/labels/istio~1multiCluster")
                        .and_then(Value::as_str)
                        == Some("true")
                })
                .map(|s| remote_secret(serde_json::from_value(s.clone()).unwrap()))
                .collect(),
        ),
        service_entries: typed::<DynamicObject>(
            store,
            &Gvr::new("networking.istio.io", "v1", "serviceentries"),
            None,
        ),
        warnings: vec![],
    }
}

fn target(name: &str) -> ClusterTarget {
    ClusterTarget {
        cluster: Some(ClusterName::from(name)),
        context: ContextName::from(name),
        server: "in-process".into(),
        mgmt: name == "mgmt-cluster",
        source: MappingSource::SameName,
        kubeconfig: None,
    }
}

fn backed(c: &ClusterTopology) -> Vec<String> {
    c.services
        .iter()
        .filter(|s| s.namespace == "bookinfo" && s.sidecar_workloads)
        .map(|s| s.name.clone())
        .collect()
}

async fn discover_demo(mode: MultiClusterMode) {
    let sims = start(mode);
    // Every Deployment available and every Service's Endpoints current: the clusters as a
    // user's discovery sees them once the demo is up.
    let stores: Vec<(String, Arc<Store>)> = sims
        .iter()
        .map(|s| (s.name.clone(), s.store.clone()))
        .collect();
    smh_sim::ready::wait(&stores, Duration::from_secs(20))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut topology = Topology::default();
    for s in &sims {
        let (topo, facts) = build_cluster(
            &target(&s.name),
            &objects(&s.store),
            &DiscoveryOptions::default(),
        );
        topology.clusters.push(topo.clone());
        let mesh = topo.mesh.as_ref().expect("istiod is discovered");
        assert_eq!(
            mesh.smh_name(&s.name),
            format!("istiod-istio-system-{}", s.name)
        );
        assert_eq!(mesh.version, "1.24.2");
        assert_eq!(mesh.root_namespace, "istio-system");
        assert_eq!(topo.cluster_domain, "cluster.local");
        assert_eq!(mesh.mode, mode, "{}: {:?}", s.name, facts.mode);
        // istiod's CLUSTER_ID, which the demo sets apart from the SMH names.
        let (own, peer) = if s.name == "mgmt-cluster" {
            ("cluster1", "cluster2")
        } else {
            ("cluster2", "cluster1")
        };
        assert_eq!(mesh.cluster_id.as_deref(), Some(own), "{}", s.name);
        let secrets = facts.remote_secrets.as_ref().unwrap();
        match mode {
            MultiClusterMode::Global => assert!(secrets.is_empty(), "{secrets:?}"),
            MultiClusterMode::MultiPrimary => {
                assert_eq!(secrets.len(), 1, "{secrets:?}");
                assert_eq!(secrets[0].cluster_ids, [peer]);
                assert_eq!(
                    secrets[0].secret,
                    format!("istio-system/istio-remote-secret-{peer}")
                );
            }
        }
        let reason = facts.mode.as_ref().unwrap().reason.clone();
        match mode {
            MultiClusterMode::Global => assert!(reason.contains("istiocoredns"), "{reason}"),
            MultiClusterMode::MultiPrimary => {
                assert!(reason.contains("istio-remote-secret-"), "{reason}")
            }
        }
        let want: &[&str] = if s.name == "mgmt-cluster" {
            &["details", "productpage", "ratings", "reviews"]
        } else {
            &["ratings", "reviews"]
        };
        assert_eq!(backed(&topo), want, "{}", s.name);
        let reviews = topo.service("reviews", "bookinfo").unwrap();
        assert_eq!(
            (reviews.ports[0].port, reviews.ports[0].name.as_str()),
            (9080, "http")
        );
        assert_eq!(
            reviews.selector.get("app").map(String::as_str),
            Some("reviews")
        );
        assert!(facts.warnings.is_empty(), "{:?}", facts.warnings);
    }
    // What discovery produces is a valid Topology, and survives the --topology file format.
    assert_eq!(topology.check(), Vec::<(String, String)>::new());
    let yaml = serde_saphyr::to_string(&topology).unwrap();
    let back = Topology::parse_bytes("discovered.yaml", yaml.as_bytes()).unwrap();
    assert_eq!(back, topology.sorted());
}

#[tokio::test]
async fn demo_clusters_in_global_mode_discover_as_the_guide_needs() {
    discover_demo(MultiClusterMode::Global).await;
}

#[tokio::test]
async fn demo_clusters_in_multi_primary_mode_discover_as_the_guide_needs() {
    discover_demo(MultiClusterMode::MultiPrimary).await;
}
