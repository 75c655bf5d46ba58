//! Port-forward to a pod (and to bookinfo's productpage), and the Table and metadata
//! answers.

use super::*;

#[tokio::test]
async fn port_forward_reaches_the_pod_network() {
    let (c, client) = start().await;
    // A local echo server stands in for the pod's container.
    echo_pod(&c, &client).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "pf");

    let mut pf = pods.portforward("echo", &[9080]).await.unwrap();
    let mut stream = pf.take_stream(9080).unwrap();
    stream
        .write_all(b"hello through the API server")
        .await
        .unwrap();
    let mut buf = vec![0u8; 28];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buf))
        .await
        .expect("echo in time")
        .unwrap();
    assert_eq!(&buf, b"hello through the API server");
    drop(stream);
    pf.abort();

    // Nothing listens on 9999: the error channel says so.
    let mut refused = pods.portforward("echo", &[9999]).await.unwrap();
    let err = refused.take_error(9999).unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(5), err)
        .await
        .expect("error in time");
    let msg = msg.unwrap_or_default();
    assert!(msg.contains("connection refused"), "{msg:?}");

    // A pod without an IP cannot be forwarded to.
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "pending"}, "spec": {"containers": [{"name": "c", "image": "c:1"}]}})).unwrap(),
    )
    .await
    .unwrap();
    assert!(pods.portforward("pending", &[80]).await.is_err());
    c.shutdown().await;
}

#[tokio::test]
async fn table_and_metadata_answers() {
    let (c, client) = start().await;
    // 405 for a verb the path does not serve, 415 for an unknown patch type, 404 for no route.
    let put = axum::http::Request::put("/api/v1/namespaces")
        .body(b"{}".to_vec())
        .unwrap();
    let (code, reason, _) = api_error(client.request::<Value>(put).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (405, "MethodNotAllowed"));
    let patch = axum::http::Request::patch("/api/v1/namespaces/default")
        .header("Content-Type", "text/plain")
        .body(b"x".to_vec())
        .unwrap();
    let (code, reason, _) = api_error(client.request::<Value>(patch).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (415, "UnsupportedMediaType"));
    let nowhere = axum::http::Request::get("/apis/nope.example.com/v1/things")
        .body(vec![])
        .unwrap();
    let (code, reason, _) = api_error(client.request::<Value>(nowhere).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (404, "NotFound"));
    let req = axum::http::Request::get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
        .header(
            "Accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )
        .body(vec![])
        .unwrap();
    let t: Value = client.request(req).await.unwrap();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["rows"].as_array().unwrap().len(), 5);
    assert_eq!(t["columnDefinitions"][1]["name"], "Created At");
    let meta: Api<ConfigMap> = Api::all(client.clone());
    let list = meta.list_metadata(&ListParams::default()).await.unwrap();
    assert!(list.items.is_empty());
    let nss: Api<Namespace> = Api::all(client.clone());
    let names: Vec<String> = nss
        .list_metadata(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|m| m.metadata.name)
        .collect();
    assert_eq!(
        names,
        vec!["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_to_bookinfo_productpage() {
    use smh_core::model::topology::MultiClusterMode;
    use smh_sim::fleet::{FleetOptions, SimFleet, bookinfo_world};
    let mut opts = FleetOptions::demo();
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = Duration::from_millis(100);
    }
    opts.hooks
        .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
    let fleet = SimFleet::start(opts).await.unwrap();
    // Ready: productpage-v1 available, so its pod is Ready, and a pod with a sidecar turns
    // Ready only once its applications listen (the sidecar's readiness probe on 15021).
    fleet.wait_ready(Duration::from_secs(60)).await.unwrap();
    let client = fleet.cluster("mgmt-cluster").unwrap().client().unwrap();
    let pods: Api<Pod> = Api::namespaced(client, "bookinfo");
    let list = pods
        .list(&ListParams::default().labels("app=productpage"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    let name = list.items[0].metadata.name.clone().unwrap();
    let mut pf = pods.portforward(&name, &[9080]).await.unwrap();
    let mut s = pf.take_stream(9080).unwrap();
    s.write_all(b"GET /productpage HTTP/1.1\r\nHost: productpage\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut page = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut page))
        .await
        .expect("page in time")
        .unwrap();
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.starts_with("HTTP/1.1 200"),
        "{}",
        &page[..page.len().min(300)]
    );
    assert!(
        page.contains("reviews") || page.contains("Reviews"),
        "a bookinfo page"
    );
    fleet.shutdown().await;
}
