//! Switching a FailoverService's strategy (native → aggregate → native) loses no request.
//!
//! Two ways of looking at the switch, in the guide's layout in multi-primary mode:
//!
//! - every state the caller's cluster passes through: a watch on the four Istio kinds
//!   records every write in mgmt-cluster, in resourceVersion order, and each state is run
//!   through the simulator's model of istiod and the sidecar (`sidecar_view`) for
//!   productpage's request to reviews, which must reach an Envoy cluster with endpoints.
//!   Only mgmt-cluster is watched: in the guide's layout remote-cluster runs no caller of
//!   reviews (productpage runs in mgmt-cluster only), and in multi-primary each cluster's
//!   istiod configures its own sidecars from its own cluster's objects.
//!   This does not depend on timing, and runs on both backends (real control planes have no
//!   data plane, but record the same writes);
//! - on the simulated clusters, probes of productpage (through a port-forward, as the drill
//!   probes) running while each apply runs: none fails and none is served by the
//!   secondary.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use smh_sim::world::mesh::envoy_view::{ClusterObjects, ViewRequest, sidecar_view};

use super::*;

const ISTIO_KINDS: [&str; 4] = [
    "DestinationRule",
    "VirtualService",
    "ServiceEntry",
    "EnvoyFilter",
];

type Key = (String, String, String);

/// An object as JSON with its kind and apiVersion (a list's items lack them).
fn value_of(kind: &str, o: &DynamicObject) -> Value {
    let mut v = serde_json::to_value(o).unwrap();
    v["kind"] = json!(kind);
    v["apiVersion"] = json!(format!("networking.istio.io/{}", istio_ar(kind).version));
    v
}

fn key_of(v: &Value) -> Key {
    (
        v["kind"].as_str().unwrap().to_string(),
        v["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        v["metadata"]["name"].as_str().unwrap().to_string(),
    )
}

fn rv_of(v: &Value) -> u64 {
    v["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .expect("a numeric resourceVersion")
}

/// Every write to the generated kinds in one cluster, from the moment it starts.
struct Recorder {
    initial: BTreeMap<Key, Value>,
    /// `(resourceVersion, deleted, object)`.
    events: Arc<Mutex<Vec<(u64, bool, Value)>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Recorder {
    async fn start(client: &kube::Client) -> Recorder {
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut initial = BTreeMap::new();
        let mut tasks = Vec::new();
        for kind in ISTIO_KINDS {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &istio_ar(kind));
            let list = api.list(&ListParams::default()).await.unwrap();
            for o in &list.items {
                let v = value_of(kind, o);
                initial.insert(key_of(&v), v);
            }
            let rv = list.metadata.resource_version.clone().unwrap();
            let mut stream = api
                .watch(&WatchParams::default().timeout(290), &rv)
                .await
                .unwrap()
                .boxed();
            let events = events.clone();
            tasks.push(tokio::spawn(async move {
                while let Ok(Some(e)) = stream.try_next().await {
                    let (deleted, o) = match e {
                        WatchEvent::Added(o) | WatchEvent::Modified(o) => (false, o),
                        WatchEvent::Deleted(o) => (true, o),
                        _ => continue,
                    };
                    let v = value_of(kind, &o);
                    events.lock().unwrap().push((rv_of(&v), deleted, v));
                }
            }));
        }
        Recorder {
            initial,
            events,
            tasks,
        }
    }

    /// The states the cluster went through, first to last (one per write), once the watches
    /// have delivered every write up to the objects now listed.
    async fn states(self, client: &kube::Client) -> Vec<(Option<Key>, BTreeMap<Key, Value>)> {
        let mut now = BTreeMap::new();
        for kind in ISTIO_KINDS {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &istio_ar(kind));
            for o in api.list(&ListParams::default()).await.unwrap().items {
                let v = value_of(kind, &o);
                now.insert(key_of(&v), v);
            }
        }
        let versions = |m: &BTreeMap<Key, Value>| -> BTreeMap<Key, u64> {
            m.iter().map(|(k, v)| (k.clone(), rv_of(v))).collect()
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let states = self.replay();
            let last = states.last().map(|(_, s)| s).unwrap_or(&self.initial);
            if versions(last) == versions(&now) {
                for t in &self.tasks {
                    t.abort();
                }
                return states;
            }
            assert!(
                Instant::now() < deadline,
                "the watches did not deliver every write: replayed {:?}, listed {:?}",
                versions(last),
                versions(&now)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn replay(&self) -> Vec<(Option<Key>, BTreeMap<Key, Value>)> {
        let mut events = self.events.lock().unwrap().clone();
        events.sort_by_key(|(rv, ..)| *rv);
        let mut state = self.initial.clone();
        let mut out = vec![(None, state.clone())];
        for (_, deleted, v) in events {
            let k = key_of(&v);
            if deleted {
                state.remove(&k);
            } else {
                state.insert(k.clone(), v);
            }
            out.push((Some(k), state.clone()));
        }
        out
    }
}

/// Services, Pods and EndpointSlices of both clusters, as istiod in mgmt-cluster reads them.
async fn endpoints(d: &Demo) -> Vec<ClusterObjects> {
    let mut out = Vec::new();
    for (cluster, id, client) in [
        ("mgmt-cluster", "cluster1", &d.mgmt),
        ("remote-cluster", "cluster2", &d.remote),
    ] {
        let mut objects = Vec::new();
        for (group, version, kind, plural) in [
            ("", "v1", "Service", "services"),
            ("", "v1", "Pod", "pods"),
            ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
        ] {
            let ar = kube::core::ApiResource::from_gvk_with_plural(
                &kube::core::GroupVersionKind::gvk(group, version, kind),
                plural,
            );
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "bookinfo", &ar);
            for o in api.list(&ListParams::default()).await.unwrap().items {
                let mut v = serde_json::to_value(&o).unwrap();
                v["kind"] = json!(kind);
                v["apiVersion"] = json!(ar.api_version);
                objects.push(v);
            }
        }
        out.push(ClusterObjects {
            cluster: cluster.into(),
            istio_id: id.into(),
            objects,
        });
    }
    out
}

/// productpage's request to reviews, from its pod in mgmt-cluster.
async fn request(d: &Demo) -> ViewRequest {
    let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(d.mgmt.clone(), "bookinfo");
    let pod = api
        .list(&ListParams::default().labels("app=productpage"))
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
        .expect("a productpage pod");
    ViewRequest {
        cluster: "mgmt-cluster".into(),
        namespace: "bookinfo".into(),
        labels: pod.metadata.labels.unwrap_or_default(),
        istio_version: "1.24.2".into(),
        authority: "reviews.bookinfo:9080".into(),
        port: 9080,
    }
}

/// Every state must route productpage's request to reviews to an Envoy cluster with an
/// endpoint; returns the clusters reached, in order (consecutive repeats once).
fn every_state_reaches_reviews(
    states: &[(Option<Key>, BTreeMap<Key, Value>)],
    clusters: &[ClusterObjects],
    req: &ViewRequest,
    what: &str,
) -> Vec<String> {
    let mut reached: Vec<String> = Vec::new();
    for (i, (write, state)) in states.iter().enumerate() {
        let objects: Vec<Value> = state.values().cloned().collect();
        let view = sidecar_view(&objects, clusters, req);
        let cluster = view["route"]["reached"].as_str().unwrap_or_else(|| {
            panic!(
                "{what}: after write {i} ({write:?}) productpage's request to reviews reaches no \
                 Envoy cluster: {}; the writes: {:?}",
                view["route"],
                states.iter().map(|(w, _)| w).collect::<Vec<_>>()
            )
        });
        // `NAME#pN` is priority N of the Envoy cluster NAME, when the model lists it so.
        let name = cluster.split_once("#p").map_or(cluster, |(n, _)| n);
        let def = [cluster, name]
            .iter()
            .map(|n| &view["clusters"][*n])
            .find(|d| !d.is_null());
        let hosts = def
            .and_then(|d| d["endpoints"].as_array())
            .map_or(0, Vec::len);
        assert!(
            hosts > 0,
            "{what}: after write {i} ({write:?}) the request reaches {cluster}, which has no endpoint; the clusters: {}",
            view["clusters"]
        );
        if reached.last().map(String::as_str) != Some(cluster) {
            reached.push(cluster.to_string());
        }
    }
    reached
}

/// Probes of productpage in mgmt-cluster until stopped: `(sent at, class)`.
struct Probes {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: Option<tokio::task::JoinHandle<Vec<(Instant, Class)>>>,
}

impl Drop for Probes {
    /// A failing assertion stops the probes too.
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl Probes {
    async fn start(d: &Demo) -> Probes {
        let pod = ready_pod(&d.mgmt, "productpage-v1").await;
        let prober = Prober::new(
            d.mgmt.clone(),
            "bookinfo",
            &pod,
            9080,
            Duration::from_secs(5),
        );
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let classifier = Classifier::bookinfo();
            let mut out = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                let at = Instant::now();
                let (r, _) = prober.get("/productpage").await;
                out.push((at, classifier.classify(r.as_answer()).class));
            }
            out
        });
        Probes {
            stop,
            task: Some(task),
        }
    }

    async fn stop(mut self) -> Vec<(Instant, Class)> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let task = self.task.take().expect("running");
        task.await.unwrap()
    }
}

/// The native subset's Envoy cluster, at priority 0 (the primary's endpoints).
const FAILOVER_SUBSET: &str = "outbound|9080|failover-reviews-failover-service-mesh-hub|reviews.bookinfo.svc.cluster.local#p0";
const MGMT_SUBSET: &str = "outbound|9080|cluster-mgmt-cluster|reviews.bookinfo.svc.cluster.local";

/// Applies the guide with `strategy`, recording mgmt-cluster's writes; checks every state
/// and returns the apply's output and the time it ran.
async fn switch(d: &Demo, strategy: &str) -> (Run, Instant, Instant, Vec<String>) {
    let clusters = endpoints(d).await;
    let req = request(d).await;
    let recorder = Recorder::start(&d.mgmt).await;
    let start = Instant::now();
    let r = d
        .smh(&["apply", "-f", &guide_all(), "--strategy", strategy])
        .await;
    let end = Instant::now();
    assert_eq!(r.code, 0, "{r:?}");
    let states = recorder.states(&d.mgmt).await;
    assert!(states.len() > 3, "the switch wrote: {states:?}");
    let reached = every_state_reaches_reviews(&states, &clusters, &req, strategy);
    (r, start, end, reached)
}

/// native (what `auto` picks) → aggregate → native, checking every state mgmt-cluster
/// passes through; on the simulated clusters also probing productpage all along.
pub(super) async fn switching_strategy_loses_no_request(d: &Demo) {
    if matches!(d.clusters.backend(), Backend::Real) {
        let r = d.smh(&["install"]).await;
        assert_eq!(r.code, 0, "{r:?}");
    }
    let r = d.smh(&["apply", "-f", &guide_all()]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let probes = match d.clusters.backend() {
        Backend::Sim => Some(Probes::start(d).await),
        Backend::Real => None,
    };

    // A dry run shows the order of the writes.
    let dry = d
        .smh(&[
            "apply",
            "-f",
            &guide_all(),
            "--strategy",
            "aggregate",
            "--dry-run",
        ])
        .await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout.contains(
            "Order of writes\n  1. new routing objects (DestinationRules keep the subsets routes still use):\n    mgmt-cluster: destinationrule.networking.istio.io/reviews -n bookinfo (keeping subset failover-reviews-failover-service-mesh-hub for now), envoyfilter.networking.istio.io/reviews-failover -n istio-system\n"
        ),
        "{dry:?}"
    );

    let (_, a0, a1, to_aggregate) = switch(d, "aggregate").await;
    assert_eq!(to_aggregate, [FAILOVER_SUBSET, MGMT_SUBSET]);
    let (_, n0, n1, to_native) = switch(d, "native").await;
    assert_eq!(to_native, [MGMT_SUBSET, FAILOVER_SUBSET]);

    if let Some(probes) = probes {
        let samples = probes.stop().await;
        for (what, from, to) in [("to aggregate", a0, a1), ("to native", n0, n1)] {
            let during: Vec<Class> = samples
                .iter()
                .filter(|(at, _)| *at >= from && *at <= to)
                .map(|(_, c)| *c)
                .collect();
            assert!(
                during.len() >= 10,
                "{what}: only {} probes while the apply ran",
                during.len()
            );
        }
        let not_primary: Vec<&(Instant, Class)> = samples
            .iter()
            .filter(|(_, c)| *c != Class::Primary)
            .collect();
        assert!(
            not_primary.is_empty(),
            "{} of {} probes were not served by the primary: {not_primary:?}",
            not_primary.len(),
            samples.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_strategy_loses_no_request_on_the_simulated_clusters() {
    let d = Demo::start(MultiClusterMode::MultiPrimary).await;
    switching_strategy_loses_no_request(&d).await;
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_strategy_loses_no_request_on_real_control_planes() {
    let Some(d) = Demo::on(Backend::Real, MultiClusterMode::MultiPrimary).await else {
        return;
    };
    switching_strategy_loses_no_request(&d).await;
    d.shutdown().await;
}

/// A write that fails in a phase stops that cluster's later phases: with somebody else's
/// ServiceEntry in the way of the FailoverService's, the VirtualService that would route to
/// the hostname is not written (it is reported, "not tried"); the other cluster is still
/// changed; once the ServiceEntry is gone, a rerun finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_stops_the_later_phases_of_its_cluster() {
    let d = Demo::start(MultiClusterMode::Global).await;
    let se_ar = istio_ar("ServiceEntry");
    create(
        &d.mgmt,
        &se_ar,
        json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "ServiceEntry",
               "metadata": {"name": "reviews-failover", "namespace": "service-mesh-hub"},
               "spec": {"hosts": ["someone-else.example.com"], "resolution": "DNS",
                        "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}}),
    )
    .await;
    let r = d.smh(&["apply", "-f", &guide_all()]).await;
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stdout.contains(
            "virtualservice.networking.istio.io/reviews -n bookinfo failed: VirtualService bookinfo/reviews was not applied: not tried, because ServiceEntry service-mesh-hub/reviews-failover failed first in this cluster"
        ),
        "{r:?}"
    );
    let vs_ar = istio_ar("VirtualService");
    let dr_ar = istio_ar("DestinationRule");
    assert!(get(&d.mgmt, &vs_ar, "bookinfo", "reviews").await.is_none());
    // Phase 1 ran in mgmt-cluster, and remote-cluster was changed.
    assert!(get(&d.mgmt, &dr_ar, "bookinfo", "reviews").await.is_some());
    assert!(
        get(&d.remote, &dr_ar, "bookinfo", "reviews")
            .await
            .is_some()
    );

    let ses: Api<DynamicObject> = Api::namespaced_with(d.mgmt.clone(), "service-mesh-hub", &se_ar);
    ses.delete("reviews-failover", &Default::default())
        .await
        .unwrap();
    let r = d.smh(&["apply", "-f", &guide_all()]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(get(&d.mgmt, &vs_ar, "bookinfo", "reviews").await.is_some());
    d.shutdown().await;
}
