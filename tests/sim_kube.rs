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

#[tokio::test]
async fn typed_crud_and_all_patch_types() {
    let (c, client) = start().await;
    namespace(&client, "bookinfo").await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "bookinfo");

    let created = deploys
        .create(&PostParams::default(), &deployment("reviews-v1"))
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(
        created.spec.as_ref().unwrap().replicas,
        Some(1),
        "server defaults replicas"
    );
    assert!(created.metadata.uid.is_some());

    // get and list with label selectors
    let got = deploys.get("reviews-v1").await.unwrap();
    assert_eq!(
        got.metadata.resource_version,
        created.metadata.resource_version
    );
    let mut mismatched = deployment("other");
    mismatched
        .spec
        .as_mut()
        .unwrap()
        .template
        .metadata
        .as_mut()
        .unwrap()
        .labels = Some([("app".to_string(), "ratings".to_string())].into());
    let (code, _, msg) = api_error(
        deploys
            .create(&PostParams::default(), &mismatched)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 422);
    assert!(
        msg.contains("`selector` does not match template `labels`"),
        "{msg}"
    );
    let list = deploys
        .list(&ListParams::default().labels("app=reviews,version in (v1,v2)"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(
        deploys
            .list(&ListParams::default().labels("app!=reviews"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let by_name = deploys
        .list(&ListParams::default().fields("metadata.name=reviews-v1"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);

    // strategic merge: the guide's patch merges the container by name
    let pp = PatchParams::default();
    let broken = deploys
        .patch("reviews-v1", &pp, &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews", "command": ["sleep", "20h"]}]}}}})))
        .await
        .unwrap();
    let cs = &broken
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers;
    assert_eq!(cs.len(), 2);
    assert_eq!(
        cs[0].command.as_deref(),
        Some(&["sleep".to_string(), "20h".to_string()][..])
    );
    assert_eq!(
        cs[0].image.as_deref(),
        Some("istio/examples-bookinfo-reviews-v1:1.20.3")
    );
    assert_eq!(broken.metadata.generation, Some(2));

    // JSON patch: the guide's restore
    let restored = deploys
        .patch(
            "reviews-v1",
            &pp,
            &Patch::<()>::Json(
                serde_json::from_value(
                    json!([{"op": "remove", "path": "/spec/template/spec/containers/0/command"}]),
                )
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert!(
        restored
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0]
            .command
            .is_none()
    );
    assert_eq!(restored.metadata.generation, Some(3));
    // Removing it again fails: 422
    let (code, reason, _) = api_error(
        deploys
            .patch("reviews-v1", &pp, &Patch::<()>::Json(serde_json::from_value(json!([{"op": "remove", "path": "/spec/template/spec/containers/0/command"}])).unwrap()))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));

    // merge patch replaces lists
    let merged = deploys
        .patch(
            "reviews-v1",
            &pp,
            &Patch::Merge(
                json!({"metadata": {"labels": {"tier": "backend"}}, "spec": {"replicas": 3}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(merged.spec.as_ref().unwrap().replicas, Some(3));
    assert_eq!(merged.metadata.labels.as_ref().unwrap()["tier"], "backend");

    // server-side apply: create, conflict, force
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "bookinfo");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1", "b": "2"}});
    let applied = cms
        .patch("settings", &PatchParams::apply("alice"), &Patch::Apply(&cm))
        .await
        .unwrap();
    assert_eq!(applied.data.as_ref().unwrap()["a"], "1");
    let mf = applied.metadata.managed_fields.as_ref().unwrap();
    assert_eq!(
        (mf[0].manager.as_deref(), mf[0].operation.as_deref()),
        (Some("alice"), Some("Apply"))
    );
    let bob = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "9"}});
    let err = cms
        .patch("settings", &PatchParams::apply("bob"), &Patch::Apply(&bob))
        .await
        .unwrap_err();
    match err {
        Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
            assert_eq!(
                s.message,
                "Apply failed with 1 conflict: conflict with \"alice\" using v1: .data.a"
            );
        }
        other => panic!("{other:?}"),
    }
    let forced = cms
        .patch(
            "settings",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(&bob),
        )
        .await
        .unwrap();
    assert_eq!(forced.data.as_ref().unwrap()["a"], "9");
    // alice drops b from her configuration: it goes.
    let alice2 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {}});
    let pruned = cms
        .patch(
            "settings",
            &PatchParams::apply("alice"),
            &Patch::Apply(&alice2),
        )
        .await
        .unwrap();
    assert_eq!(
        pruned.data.unwrap().into_iter().collect::<Vec<_>>(),
        vec![("a".to_string(), "9".to_string())]
    );
    let apply_needs_manager = cms
        .patch("settings", &PatchParams::default(), &Patch::Apply(&cm))
        .await
        .unwrap_err();
    assert_eq!(api_error(apply_needs_manager).0, 400);

    // dry run stores nothing
    let dry = deploys
        .patch(
            "reviews-v1",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(dry.spec.as_ref().unwrap().replicas, Some(7));
    assert_eq!(
        deploys
            .get("reviews-v1")
            .await
            .unwrap()
            .spec
            .as_ref()
            .unwrap()
            .replicas,
        Some(3)
    );
    let dry_pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
    deploys.create(&dry_pp, &deployment("dry")).await.unwrap();
    assert!(deploys.get_opt("dry").await.unwrap().is_none());

    // replace, and Conflict on a stale resourceVersion
    let mut current = deploys.get("reviews-v1").await.unwrap();
    let stale = current.clone();
    current.spec.as_mut().unwrap().replicas = Some(2);
    let replaced = deploys
        .replace("reviews-v1", &PostParams::default(), &current)
        .await
        .unwrap();
    assert_eq!(replaced.spec.as_ref().unwrap().replicas, Some(2));
    let (code, reason, msg) = api_error(
        deploys
            .replace("reviews-v1", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    assert!(msg.contains("the object has been modified"), "{msg}");

    // AlreadyExists, NotFound, Invalid, missing namespace
    let (code, reason, msg) = api_error(
        deploys
            .create(&PostParams::default(), &deployment("reviews-v1"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (code, reason.as_str(), msg.as_str()),
        (
            409,
            "AlreadyExists",
            "deployments.apps \"reviews-v1\" already exists"
        )
    );
    let (code, reason, msg) = api_error(deploys.get("nope").await.unwrap_err());
    assert_eq!(
        (code, reason.as_str(), msg.as_str()),
        (404, "NotFound", "deployments.apps \"nope\" not found")
    );
    let (code, reason, msg) = api_error(
        deploys
            .create(&PostParams::default(), &deployment("Bad_Name"))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert!(msg.starts_with("Deployment.apps \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"), "{msg}");
    let elsewhere: Api<ConfigMap> = Api::namespaced(client.clone(), "missing");
    let (code, _, msg) = api_error(
        elsewhere
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap(),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (code, msg.as_str()),
        (404, "namespaces \"missing\" not found")
    );

    // generateName
    let generated = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"generateName": "gen-"}})).unwrap(),
        )
        .await
        .unwrap();
    let name = generated.metadata.name.unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    // dry-run update and delete change nothing
    let mut current = deploys.get("reviews-v1").await.unwrap();
    current.spec.as_mut().unwrap().replicas = Some(9);
    let dry_replace = deploys
        .replace("reviews-v1", &dry_pp, &current)
        .await
        .unwrap();
    assert_eq!(dry_replace.spec.as_ref().unwrap().replicas, Some(9));
    deploys
        .delete("reviews-v1", &DeleteParams::default().dry_run())
        .await
        .unwrap();
    let still = deploys.get("reviews-v1").await.unwrap();
    assert_eq!(still.spec.as_ref().unwrap().replicas, Some(2));

    // deletecollection by label
    let gone = cms
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().fields("metadata.name=settings"),
        )
        .await
        .unwrap();
    assert!(gone.is_left());
    assert!(cms.get_opt("settings").await.unwrap().is_none());
    assert!(
        cms.get_opt(&name).await.unwrap().is_some(),
        "only the selected object goes"
    );

    // delete (with propagation policy)
    let deleted = deploys
        .delete("reviews-v1", &DeleteParams::background())
        .await
        .unwrap();
    assert!(deleted.is_left());
    assert!(deploys.get_opt("reviews-v1").await.unwrap().is_none());
    c.shutdown().await;
}

#[tokio::test]
async fn status_subresource_and_generation() {
    let (c, client) = start().await;
    namespace(&client, "bookinfo").await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "bookinfo");
    deploys
        .create(&PostParams::default(), &deployment("reviews-v1"))
        .await
        .unwrap();
    let st = deploys
        .patch_status(
            "reviews-v1",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"status": {"replicas": 1, "readyReplicas": 1, "observedGeneration": 1}}),
            ),
        )
        .await
        .unwrap();
    let status = st.status.unwrap();
    assert_eq!(status.ready_replicas, Some(1));
    assert_eq!(
        st.metadata.generation,
        Some(1),
        "status writes leave generation alone"
    );
    // A write of the main resource ignores status.
    let d = deploys
        .patch(
            "reviews-v1",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"status": {"readyReplicas": 5}, "metadata": {"labels": {"x": "y"}}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(d.status.unwrap().ready_replicas, Some(1));
    assert_eq!(d.metadata.generation, Some(1), "labels are not spec");
    // A status write ignores spec.
    let s2 = deploys
        .patch_status(
            "reviews-v1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 9}, "status": {"replicas": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(s2.spec.as_ref().unwrap().replicas, Some(1));
    assert_eq!(s2.status.unwrap().replicas, Some(2));
    let got = deploys.get_status("reviews-v1").await.unwrap();
    assert_eq!(got.status.unwrap().replicas, Some(2));
    // scale subresource
    let scale = deploys.get_scale("reviews-v1").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(1));
    deploys
        .patch_scale(
            "reviews-v1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    let d = deploys.get("reviews-v1").await.unwrap();
    assert_eq!(d.spec.as_ref().unwrap().replicas, Some(4));
    assert_eq!(d.metadata.generation, Some(2));
    c.shutdown().await;
}

#[tokio::test]
async fn dynamic_istio_and_runtime_crds() {
    let (c, client) = start().await;
    namespace(&client, "bookinfo").await;

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
    assert!(
        c.api()
            .registry()
            .lookup("example.com", "v1", "widgets")
            .is_none()
    );
    c.shutdown().await;
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

#[tokio::test]
async fn port_forward_reaches_the_pod_network() {
    let (c, client) = start().await;
    namespace(&client, "pf").await;
    // A local echo server stands in for the pod's container.
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
