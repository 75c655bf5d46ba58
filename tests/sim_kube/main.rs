//! The kube-rs client against an in-process simulated cluster: typed and dynamic `Api`,
//! the four patch types, replace, delete, status subresource, conflicts and Status errors,
//! CRDs created at runtime, watches, `await_condition` and port-forward.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Error};
use serde_json::{Value, json};
use smh_sim::cluster::{ClusterOptions, SimCluster};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod dynamic;
mod network;
mod real_answers;
mod spdy;
mod typed;

async fn start() -> (SimCluster, Client) {
    let c = SimCluster::start(ClusterOptions::new("test-cluster"))
        .await
        .expect("cluster starts");
    let client = c.client().expect("client");
    (c, client)
}

async fn namespace(client: &Client, name: &str) {
    let ns: Api<Namespace> = Api::all(client.clone());
    ns.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
    )
    .await
    .expect("namespace created");
}

/// An echo "container" registered in the pod network as `ip:9080`, and its pod `echo` in
/// namespace `pf`.
async fn echo_pod(c: &SimCluster, client: &Client) {
    namespace(client, "pf").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let pods: Api<Pod> = Api::namespaced(client.clone(), "pf");
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "echo"}, "spec": {"containers": [{"name": "echo", "image": "echo:1"}]}})).unwrap(),
    )
    .await
    .unwrap();
    let ip = c.net().allocate_ip();
    pods.patch_status(
        "echo",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": "Running", "podIP": ip}})),
    )
    .await
    .unwrap();
    c.net().register(&ip, 9080, echo_addr);
}

fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": "reviews", "version": "v1"}},
        "spec": {
            "selector": {"matchLabels": {"app": "reviews", "version": "v1"}},
            "template": {
                "metadata": {"labels": {"app": "reviews", "version": "v1"}},
                "spec": {"containers": [
                    {"name": "reviews", "image": "istio/examples-bookinfo-reviews-v1:1.20.3",
                     "ports": [{"containerPort": 9080}], "env": [{"name": "LOG_DIR", "value": "/tmp/logs"}]},
                    {"name": "istio-proxy", "image": "istio/proxyv2:1.26.0"}
                ]}
            }
        }
    }))
    .unwrap()
}

fn api_error(e: Error) -> (u16, String, String) {
    match e {
        Error::Api(s) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn version_and_discovery() {
    let (c, client) = start().await;
    let v = client.apiserver_version().await.unwrap();
    assert_eq!((v.major.as_str(), v.minor.as_str()), ("1", "33"));
    let discovery = kube::Discovery::new(client.clone()).run().await.unwrap();
    let groups: Vec<String> = discovery.groups().map(|g| g.name().to_string()).collect();
    for g in ["", "apps", "apiextensions.k8s.io", "networking.istio.io"] {
        assert!(groups.iter().any(|x| x == g), "group {g:?} in {groups:?}");
    }
    let istio = discovery.get("networking.istio.io").unwrap();
    assert_eq!(istio.preferred_version_or_latest(), "v1");
    let (ar, caps) = istio
        .recommended_resources()
        .into_iter()
        .find(|(ar, _)| ar.kind == "DestinationRule")
        .unwrap();
    assert_eq!(ar.plural, "destinationrules");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    c.shutdown().await;
}
