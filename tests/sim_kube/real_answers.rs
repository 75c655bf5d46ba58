//! Answers the differential suite (tests/conformance) found different from a real
//! kube-apiserver and that the simulator now gives as the real one does; checked here on the
//! simulator alone, without the real peers.

use super::*;

/// A raw request; the status code and the JSON body.
async fn send(
    client: &Client,
    method: &str,
    path: &str,
    ct: &str,
    body: Option<Value>,
) -> (u16, Value) {
    use http_body_util::BodyExt as _;
    let mut b = http::Request::builder().method(method).uri(path);
    if body.is_some() {
        b = b.header("content-type", ct);
    }
    let bytes = match body {
        Some(Value::String(s)) => s.into_bytes(),
        Some(v) => v.to_string().into_bytes(),
        None => vec![],
    };
    let resp = client
        .send(b.body(kube::client::Body::from(bytes)).unwrap())
        .await
        .unwrap();
    let code = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (code, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

const JSON: &str = "application/json";
const CMS: &str = "/api/v1/namespaces/real/configmaps";

fn cm(name: &str, extra: Value) -> Value {
    let mut o = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    if let (Some(m), Some(e)) = (o.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    o
}

/// ConfigMaps carry no generation; a deleted ConfigMap is answered with a Success Status,
/// a deleted pod with the pod; delete preconditions are worded as a real server words them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generation_delete_answers_and_preconditions() {
    let (_c, client) = start().await;
    namespace(&client, "real").await;
    let (code, created) = send(&client, "POST", CMS, JSON, Some(cm("a", json!({})))).await;
    assert_eq!(code, 201);
    assert_eq!(created["metadata"].get("generation"), None, "{created}");
    let (code, st) = send(
        &client,
        "DELETE",
        &format!("{CMS}/a"),
        JSON,
        Some(json!({"preconditions": {"resourceVersion": "1"}})),
    )
    .await;
    assert_eq!(code, 409);
    assert!(
        st["message"]
            .as_str()
            .unwrap()
            .starts_with("Operation cannot be fulfilled on ConfigMap \"a\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record ("),
        "{st}"
    );
    let (code, st) = send(&client, "DELETE", &format!("{CMS}/a"), JSON, None).await;
    assert_eq!((code, st["kind"].as_str()), (200, Some("Status")), "{st}");
    assert_eq!(st["status"], "Success");
    assert_eq!(st["details"]["name"], "a");
    assert_eq!(st["details"]["kind"], "configmaps");

    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let (code, p) = send(
        &client,
        "POST",
        "/api/v1/namespaces/real/pods",
        JSON,
        Some(pod),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(p["metadata"]["generation"], 1);
    assert_eq!(p["status"]["phase"], "Pending");
    assert_eq!(p["status"]["qosClass"], "BestEffort");
    let (code, p) = send(
        &client,
        "DELETE",
        "/api/v1/namespaces/real/pods/p",
        JSON,
        None,
    )
    .await;
    assert_eq!((code, p["kind"].as_str()), (200, Some("Pod")), "{p}");
}

/// Foreground deletion answers the owner marked with `foregroundDeletion` and removes the
/// dependents; orphaning removes the owner reference (the key, not just its items).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_and_orphan_deletion() {
    let (_c, client) = start().await;
    namespace(&client, "real").await;
    for policy in ["Foreground", "Orphan"] {
        let (_, owner) = send(&client, "POST", CMS, JSON, Some(cm("owner", json!({})))).await;
        let uid = owner["metadata"]["uid"].as_str().unwrap().to_string();
        let dep = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dep",
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}});
        assert_eq!(send(&client, "POST", CMS, JSON, Some(dep)).await.0, 201);
        let (code, answer) = send(
            &client,
            "DELETE",
            &format!("{CMS}/owner?propagationPolicy={policy}"),
            JSON,
            None,
        )
        .await;
        assert_eq!(code, 200, "{answer}");
        let (code, dep) = send(&client, "GET", &format!("{CMS}/dep"), JSON, None).await;
        if policy == "Foreground" {
            assert_eq!(
                answer["metadata"]["finalizers"],
                json!(["foregroundDeletion"])
            );
            assert!(
                answer["metadata"]["deletionTimestamp"].is_string(),
                "{answer}"
            );
            assert_eq!(code, 404, "{dep}");
        } else {
            assert_eq!(code, 200);
            assert_eq!(dep["metadata"].get("ownerReferences"), None, "{dep}");
        }
    }
}

/// A watch from a resourceVersion reports an object created after it as ADDED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_a_resource_version_reports_new_objects_as_added() {
    let (_c, client) = start().await;
    namespace(&client, "real").await;
    let (_, list) = send(&client, "GET", CMS, JSON, None).await;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    send(
        &client,
        "POST",
        CMS,
        JSON,
        Some(cm("a", json!({"data": {"k": "1"}}))),
    )
    .await;
    send(
        &client,
        "PATCH",
        &format!("{CMS}/a"),
        "application/merge-patch+json",
        Some(json!({"data": {"k": "2"}})),
    )
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "real");
    let mut events = cms
        .watch(&WatchParams::default().timeout(1), &rv)
        .await
        .unwrap()
        .boxed();
    let mut kinds = vec![];
    while let Some(ev) = events.try_next().await.unwrap() {
        match ev {
            WatchEvent::Added(_) => kinds.push("ADDED"),
            WatchEvent::Modified(_) => kinds.push("MODIFIED"),
            WatchEvent::Deleted(_) => kinds.push("DELETED"),
            _ => {}
        }
    }
    assert_eq!(kinds, ["ADDED", "MODIFIED"]);
}

/// Request rules: a field selector the kind does not support, `resourceVersionMatch`
/// without `resourceVersion`, server-side apply without a field manager, with another name,
/// or with a top-level field the kind does not have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_rules_as_a_real_server_has_them() {
    let (_c, client) = start().await;
    namespace(&client, "real").await;
    let (code, st) = send(
        &client,
        "GET",
        &format!("{CMS}?fieldSelector=data.k%3Dv"),
        JSON,
        None,
    )
    .await;
    assert_eq!(code, 400, "{st}");
    assert_eq!(
        st["message"],
        "\"data.k\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    let (code, st) = send(
        &client,
        "GET",
        &format!("{CMS}?resourceVersionMatch=NotOlderThan"),
        JSON,
        None,
    )
    .await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (422, Some("Invalid")),
        "{st}"
    );
    let apply = "application/apply-patch+yaml";
    let body = |name: &str, extra: &str| {
        Value::String(format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{extra}"
        ))
    };
    let (code, st) = send(
        &client,
        "PATCH",
        &format!("{CMS}/s"),
        apply,
        Some(body("s", "")),
    )
    .await;
    assert_eq!(code, 422, "{st}");
    assert_eq!(
        st["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let (code, _) = send(
        &client,
        "PATCH",
        &format!("{CMS}/s?fieldManager=m"),
        apply,
        Some(body("s", "")),
    )
    .await;
    assert_eq!(code, 201);
    let (code, st) = send(
        &client,
        "PATCH",
        &format!("{CMS}/s?fieldManager=m"),
        apply,
        Some(body("t", "")),
    )
    .await;
    assert_eq!(code, 400, "{st}");
    let (code, st) = send(
        &client,
        "PATCH",
        &format!("{CMS}/s?fieldManager=m"),
        apply,
        Some(body("s", "bogus: 1\n")),
    )
    .await;
    assert_eq!(code, 500, "{st}");
    assert_eq!(
        st["message"],
        "failed to create typed patch object (real/s; /v1, Kind=ConfigMap): .bogus: field not declared in schema"
    );
    let (_, got) = send(&client, "GET", &format!("{CMS}/s"), JSON, None).await;
    assert_eq!(got.get("bogus"), None, "{got}");
}

/// A CRD's schema defaults are applied, a list-type set refuses duplicates, and a custom
/// resource cannot be updated without its resourceVersion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_defaulted_and_validated() {
    let (_c, client) = start().await;
    namespace(&client, "real").await;
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object",
                    "properties": {"size": {"type": "integer"}, "color": {"type": "string", "default": "red"},
                        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}}}}}}}]}});
    let (code, created) = send(
        &client,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        JSON,
        Some(crd),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(created["spec"]["conversion"]["strategy"], "None");
    let widgets = "/apis/example.com/v1/namespaces/real/widgets";
    let w = |name: &str, spec: Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec});
    let (code, got) = send(
        &client,
        "POST",
        widgets,
        JSON,
        Some(w("a", json!({"size": 1}))),
    )
    .await;
    assert_eq!(code, 201, "{got}");
    assert_eq!(got["spec"], json!({"size": 1, "color": "red"}));
    let (code, st) = send(
        &client,
        "POST",
        widgets,
        JSON,
        Some(w("b", json!({"tags": ["x", "x"]}))),
    )
    .await;
    assert_eq!(code, 422, "{st}");
    assert_eq!(
        st["details"]["causes"][0]["message"],
        "Duplicate value: \"x\""
    );
    let (code, st) = send(
        &client,
        "PUT",
        &format!("{widgets}/a"),
        JSON,
        Some(w("a", json!({"size": 2}))),
    )
    .await;
    assert_eq!(code, 422, "{st}");
    assert_eq!(
        st["message"],
        "widgets.example.com \"a\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update"
    );
}
