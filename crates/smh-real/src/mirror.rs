//! A mirror of a real API server's objects in a simulator [`Store`], fed by watches: what the
//! simulator's workloads and data-plane model read (pods, Services, Endpoints, Nodes, Secrets,
//! Deployments, Namespaces and the Istio networking objects), so that bookinfo runs and routes
//! by the real cluster's state.
//!
//! Each resource is watched with kube-rs' watcher (list, then watch, re-listing after a `410
//! Gone`); a re-list removes what disappeared meanwhile. Objects keep their real uid,
//! generation and timestamps; only the resourceVersion is the store's own. Istio objects are
//! watched at their storage version (v1; v1alpha3 for EnvoyFilter): the API server serves
//! every object of a kind at that version, whichever version it was written with.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt as _;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use smh_sim::store::{Gvr, Store};
use tokio::task::JoinHandle;

/// The resources mirrored: (group, version, plural, kind).
pub const MIRRORED: &[(&str, &str, &str, &str)] = &[
    ("", "v1", "namespaces", "Namespace"),
    ("", "v1", "nodes", "Node"),
    ("", "v1", "pods", "Pod"),
    ("", "v1", "services", "Service"),
    ("", "v1", "endpoints", "Endpoints"),
    ("", "v1", "secrets", "Secret"),
    ("apps", "v1", "deployments", "Deployment"),
    (
        "networking.istio.io",
        "v1",
        "destinationrules",
        "DestinationRule",
    ),
    (
        "networking.istio.io",
        "v1",
        "virtualservices",
        "VirtualService",
    ),
    (
        "networking.istio.io",
        "v1",
        "serviceentries",
        "ServiceEntry",
    ),
    ("networking.istio.io", "v1", "gateways", "Gateway"),
    (
        "networking.istio.io",
        "v1alpha3",
        "envoyfilters",
        "EnvoyFilter",
    ),
];

fn api_resource(group: &str, version: &str, plural: &str, kind: &str) -> ApiResource {
    ApiResource {
        group: group.to_string(),
        version: version.to_string(),
        api_version: if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.to_string(),
        plural: plural.to_string(),
    }
}

fn key(v: &Value) -> (String, String) {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (s("/metadata/namespace"), s("/metadata/name"))
}

fn to_value(obj: DynamicObject, ar: &ApiResource) -> Option<Value> {
    let mut v = serde_json::to_value(obj).ok()?;
    v["apiVersion"] = Value::String(ar.api_version.clone());
    v["kind"] = Value::String(ar.kind.clone());
    Some(v)
}

async fn mirror_one(client: kube::Client, store: Arc<Store>, ar: ApiResource) {
    let gvr = Gvr::new(&ar.group, &ar.version, &ar.plural);
    let api: Api<DynamicObject> = Api::all_with(client, &ar);
    let cfg = watcher::Config::default();
    let mut stream = watcher::watcher(api, cfg).boxed();
    let mut listed: Option<BTreeSet<(String, String)>> = None;
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(Event::Init) => listed = Some(BTreeSet::new()),
            Ok(Event::InitApply(o)) => {
                if let Some(v) = to_value(o, &ar) {
                    if let Some(l) = listed.as_mut() {
                        l.insert(key(&v));
                    }
                    let _ = store.mirror(&gvr, v);
                }
            }
            Ok(Event::InitDone) => {
                if let Some(seen) = listed.take() {
                    for v in store.list(&gvr, None).0 {
                        let (ns, name) = key(&v);
                        if !seen.contains(&(ns.clone(), name.clone())) {
                            let _ = store.delete(&gvr, &ns, &name);
                        }
                    }
                }
            }
            Ok(Event::Apply(o)) => {
                if let Some(v) = to_value(o, &ar) {
                    let _ = store.mirror(&gvr, v);
                }
            }
            Ok(Event::Delete(o)) => {
                if let Some(v) = to_value(o, &ar) {
                    let (ns, name) = key(&v);
                    let _ = store.delete(&gvr, &ns, &name);
                }
            }
            // The watcher backs off and retries by itself; errors only say it had to.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
}

/// Start mirroring every resource of [`MIRRORED`] from `client`'s cluster into `store`.
/// Dropping (aborting) the returned tasks stops it.
pub fn start(client: &kube::Client, store: &Arc<Store>) -> Vec<JoinHandle<()>> {
    MIRRORED
        .iter()
        .map(|(g, v, p, k)| {
            tokio::spawn(mirror_one(
                client.clone(),
                store.clone(),
                api_resource(g, v, p, k),
            ))
        })
        .collect()
}

/// Whether the mirror has listed every resource once: each mirrored kind that the cluster has
/// objects of (namespaces and nodes at least) is present.
pub fn synced(store: &Store) -> bool {
    ["namespaces", "nodes"]
        .iter()
        .all(|p| !store.list(&Gvr::new("", "v1", p), None).0.is_empty())
}
