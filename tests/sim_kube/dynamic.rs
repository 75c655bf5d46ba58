//! Dynamic objects (Istio's CRDs, a CRD created at runtime), watches and `await_condition`,
//! an expired resourceVersion, and garbage collection by owner references.

use super::*;

#[tokio::test]
async fn dynamic_istio_and_runtime_crds() {
    let (c, client) = start().await;
    namespace(&client, "bookinfo").await;
    istio_destination_rules_as_dynamic_objects(&client).await;
    a_runtime_crd_serves_until_deleted(&client).await;
    assert!(
        c.api()
            .registry()
            .lookup("example.com", "v1", "widgets")
            .is_none()
    );
    c.shutdown().await;
}

/// A DestinationRule written as v1alpha3 and read as v1; no strategic merge for custom
/// resources; schema validation (422, Strict 400) and pruning of unknown fields.
async fn istio_destination_rules_as_dynamic_objects(client: &Client) {
    // An Istio DestinationRule written as v1alpha3 and read as v1.
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "DestinationRule");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "destinationrules");
    let drs: Api<DynamicObject> = Api::namespaced_with(client.clone(), "bookinfo", &ar);
    let dr: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
        "metadata": {"name": "reviews"},
        "spec": {"host": "reviews.bookinfo.svc.cluster.local", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 1, "maxEjectionPercent": 100}}}
    }))
    .unwrap();
    drs.create(&PostParams::default(), &dr).await.unwrap();
    let v1 = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "DestinationRule"),
        "destinationrules",
    );
    let drs_v1: Api<DynamicObject> = Api::namespaced_with(client.clone(), "bookinfo", &v1);
    let got = drs_v1.get("reviews").await.unwrap();
    assert_eq!(
        got.types.as_ref().unwrap().api_version,
        "networking.istio.io/v1"
    );
    assert_eq!(
        got.data["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"],
        1
    );
    // Strategic merge is not served for custom resources.
    let (code, reason, _) = api_error(
        drs.patch(
            "reviews",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"host": "x"}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (415, "UnsupportedMediaType"));
    // Schema validation: wrong type is 422, unknown fields are rejected with Strict.
    let bad: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
        "metadata": {"name": "bad"}, "spec": {"host": 5}
    }))
    .unwrap();
    let (code, _, msg) = api_error(drs.create(&PostParams::default(), &bad).await.unwrap_err());
    assert_eq!(code, 422);
    assert!(
        msg.contains("spec.host in body must be of type string"),
        "{msg}"
    );
    let unknown: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
        "metadata": {"name": "unknown"}, "spec": {"host": "h", "bogus": true}
    }))
    .unwrap();
    let strict = PatchParams::apply("test").validation_strict();
    let (code, _, msg) = api_error(
        drs.patch("unknown", &strict, &Patch::Apply(&unknown))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 400);
    assert!(msg.contains("unknown field \"spec.bogus\""), "{msg}");
    // Without Strict the field is pruned.
    let pruned = drs.create(&PostParams::default(), &unknown).await.unwrap();
    assert!(pruned.data["spec"].get("bogus").is_none());
}

/// A CRD created at runtime serves its resource (and status) once Established; deleting it
/// stops serving it.
async fn a_runtime_crd_serves_until_deleted(client: &Client) {
    // A CRD created at runtime starts serving its resource once Established.
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}}]}
    }))
    .unwrap();
    crds.create(&PostParams::default(), &crd).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(
            crds.clone(),
            "widgets.example.com",
            conditions::is_crd_established(),
        ),
    )
    .await
    .expect("established in time")
    .unwrap();
    let wgvk = GroupVersionKind::gvk("example.com", "v1", "Widget");
    let war = ApiResource::from_gvk_with_plural(&wgvk, "widgets");
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "bookinfo", &war);
    let w: DynamicObject = serde_json::from_value(json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}})).unwrap();
    widgets.create(&PostParams::default(), &w).await.unwrap();
    let st = widgets
        .patch_status(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"ready": true}})),
        )
        .await
        .unwrap();
    assert_eq!(st.data["status"]["ready"], true);
    assert_eq!(
        widgets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // Deleting the CRD stops serving it and removes its objects.
    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .unwrap();
    let (code, _, _) = api_error(widgets.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(code, 404);
}

#[tokio::test]
async fn watches_and_await_condition() {
    let (c, client) = start().await;
    namespace(&client, "w").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "w");
    let mk = |name: &str, v: &str| -> ConfigMap {
        serde_json::from_value(
            json!({"metadata": {"name": name, "labels": {"watch": "yes"}}, "data": {"v": v}}),
        )
        .unwrap()
    };
    cms.create(&PostParams::default(), &mk("before", "0"))
        .await
        .unwrap();

    // kube-runtime's watcher (list then watch), filtered by label. The writes start once
    // the initial list has arrived (its one object), so they come through the watch.
    let mut stream = watcher(cms.clone(), watcher::Config::default().labels("watch=yes"))
        .applied_objects()
        .map_ok(|cm| (cm.metadata.name.unwrap(), cm.data.unwrap()["v"].clone()))
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await
        .expect("the initial list in time")
        .unwrap();
    let writer = {
        let cms = cms.clone();
        tokio::spawn(async move {
            cms.create(&PostParams::default(), &mk("during", "1"))
                .await
                .unwrap();
            cms.patch(
                "during",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"v": "2"}})),
            )
            .await
            .unwrap();
        })
    };
    let rest: Vec<(String, String)> =
        tokio::time::timeout(Duration::from_secs(5), stream.take(2).try_collect())
            .await
            .expect("two more events in time")
            .unwrap();
    writer.await.unwrap();
    let seen: Vec<(String, String)> = first.into_iter().chain(rest).collect();
    assert_eq!(
        seen,
        vec![
            ("before".into(), "0".into()),
            ("during".into(), "1".into()),
            ("during".into(), "2".into())
        ]
    );

    // The streaming-list mode (sendInitialEvents) works too.
    let initial: Vec<String> = tokio::time::timeout(
        Duration::from_secs(5),
        watcher(cms.clone(), watcher::Config::default().streaming_lists())
            .applied_objects()
            .map_ok(|cm| cm.metadata.name.unwrap())
            .take(2)
            .try_collect(),
    )
    .await
    .expect("initial events")
    .unwrap();
    assert_eq!(initial, vec!["before".to_string(), "during".to_string()]);

    // A raw watch from a resourceVersion sees exactly the later changes.
    let rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    cms.delete("before", &DeleteParams::default())
        .await
        .unwrap();
    let mut raw = cms
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    match raw.try_next().await.unwrap() {
        Some(WatchEvent::Deleted(cm)) => assert_eq!(cm.metadata.name.as_deref(), Some("before")),
        other => panic!("expected a deletion, got {other:?}"),
    }

    // await_condition with a custom condition.
    let waiter = tokio::spawn(await_condition(
        cms.clone(),
        "during",
        |cm: Option<&ConfigMap>| {
            cm.and_then(|c| c.data.as_ref())
                .is_some_and(|d| d.get("v").map(String::as_str) == Some("done"))
        },
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    cms.patch(
        "during",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "done"}})),
    )
    .await
    .unwrap();
    let done = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("condition met")
        .unwrap()
        .unwrap();
    assert_eq!(done.unwrap().data.unwrap()["v"], "done");
    let deleted = tokio::spawn(await_condition(
        cms.clone(),
        "during",
        conditions::is_deleted(""),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    cms.delete("during", &DeleteParams::default())
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), deleted)
        .await
        .expect("deleted in time")
        .unwrap()
        .unwrap();
    c.shutdown().await;
}

#[tokio::test]
async fn watch_from_an_expired_resource_version_gets_410() {
    let (c, client) = start().await;
    namespace(&client, "busy").await;
    // More changes than the store's history keeps (10,000), written in-process.
    let store = c.store();
    let gvr = smh_sim::store::Gvr::new("", "v1", "configmaps");
    for i in 0..10_050 {
        store
            .create(&gvr, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}"), "namespace": "busy"}}))
            .unwrap();
    }
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "busy");
    let mut w = cms
        .watch(&WatchParams::default().timeout(5), "1")
        .await
        .unwrap()
        .boxed();
    match w.try_next().await.unwrap() {
        Some(WatchEvent::Error(s)) => assert_eq!((s.code, s.reason.as_str()), (410, "Expired")),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    c.shutdown().await;
}

#[tokio::test]
async fn garbage_collection_follows_owner_references() {
    let (c, client) = start().await;
    namespace(&client, "gc").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "gc");
    let owner = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "owner"}})).unwrap(),
        )
        .await
        .unwrap();
    let uid = owner.metadata.uid.unwrap();
    for name in ["dep-1", "dep-2"] {
        cms.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name, "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}})).unwrap(),
        )
        .await
        .unwrap();
    }
    cms.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(cms.clone(), "dep-2", conditions::is_deleted("")),
    )
    .await
    .expect("collected")
    .unwrap();
    assert!(cms.get_opt("dep-1").await.unwrap().is_none());
    // Namespace deletion removes its contents.
    let nss: Api<Namespace> = Api::all(client.clone());
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "left"}})).unwrap(),
    )
    .await
    .unwrap();
    nss.delete("gc", &DeleteParams::default()).await.unwrap();
    assert!(c.store().keys_in_namespace("gc").is_empty());
    c.shutdown().await;
}
