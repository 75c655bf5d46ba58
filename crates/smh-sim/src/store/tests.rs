//! Tests of the store.
use super::*;

fn deploy(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "ns"}, "spec": {"replicas": 1}})
}

#[test]
fn a_deployment_annotation_change_bumps_generation_as_on_a_real_server() {
    let s = Store::new();
    let g = Gvr::new("apps", "v1", "deployments");
    let created = s.create(&g, deploy("a")).unwrap();
    let mut annotated = created.clone();
    annotated["metadata"]["annotations"] = json!({"note": "x"});
    let updated = s.update(&g, annotated).unwrap();
    assert_eq!(updated["metadata"]["generation"], 2);
    // Other kinds: metadata alone leaves generation as it is.
    let cm = Gvr::new("", "v1", "configmaps");
    let c = s
        .create(
            &cm,
            json!({"metadata": {"name": "c", "namespace": "ns"}, "data": {}}),
        )
        .unwrap();
    let mut labelled = c.clone();
    labelled["metadata"]["annotations"] = json!({"note": "x"});
    // ConfigMaps carry no generation at all, as on a real API server.
    assert_eq!(c["metadata"].get("generation"), None);
    assert_eq!(
        s.update(&cm, labelled).unwrap()["metadata"].get("generation"),
        None
    );
}

#[test]
fn mirror_keeps_identity_and_records_changes_only() {
    let s = Store::new();
    let g = Gvr::new("", "v1", "pods");
    let pod = json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u-1",
                                  "generation": 7, "resourceVersion": "999"}});
    s.mirror(&g, pod.clone()).unwrap();
    let got = s.get(&g, "ns", "p").unwrap();
    assert_eq!(got["metadata"]["uid"], "u-1");
    assert_eq!(got["metadata"]["generation"], 7);
    let rv = s.resource_version();
    s.mirror(&g, pod.clone()).unwrap();
    assert_eq!(
        s.resource_version(),
        rv,
        "an unchanged object records nothing"
    );
    let mut changed = pod;
    changed["status"] = json!({"phase": "Running"});
    s.mirror(&g, changed).unwrap();
    assert_eq!(s.resource_version(), rv + 1);
    let kinds: Vec<_> = s
        .events_since(&g, None, 0)
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, vec![EventType::Added, EventType::Modified]);
}

#[test]
fn create_get_update_delete() {
    let s = Store::new();
    let g = Gvr::new("apps", "v1", "deployments");
    let created = s.create(&g, deploy("a")).unwrap();
    assert_eq!(created["metadata"]["generation"], 1);
    assert!(matches!(
        s.create(&g, deploy("a")),
        Err(StoreError::AlreadyExists(_))
    ));
    let mut changed = created.clone();
    changed["spec"]["replicas"] = json!(2);
    let updated = s.update(&g, changed.clone()).unwrap();
    assert_eq!(updated["metadata"]["generation"], 2);
    // stale resourceVersion
    assert!(matches!(
        s.update(&g, changed),
        Err(StoreError::Conflict(_))
    ));
    let mut status_only = updated.clone();
    status_only["status"] = json!({"replicas": 2});
    assert_eq!(
        s.update(&g, status_only).unwrap()["metadata"]["generation"],
        2
    );
    s.delete(&g, "ns", "a").unwrap();
    assert!(s.get(&g, "ns", "a").is_none());
    let evs = s.events_since(&g, Some("ns"), 0).unwrap();
    let kinds: Vec<_> = evs.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventType::Added,
            EventType::Modified,
            EventType::Modified,
            EventType::Deleted
        ]
    );
}

#[test]
fn a_write_that_changes_nothing_is_a_no_op() {
    let s = Store::new();
    let g = Gvr::new("apps", "v1", "deployments");
    let mut created = s.create(&g, deploy("a")).unwrap();
    created["metadata"]["managedFields"] =
        json!([{"manager": "m", "operation": "Apply", "time": "2026-01-01T00:00:00Z"}]);
    let updated = s.update(&g, created).unwrap();
    let rv = updated["metadata"]["resourceVersion"].clone();
    let mut same = updated.clone();
    same["metadata"]["managedFields"][0]["time"] = json!("2026-01-02T00:00:00Z");
    let after = s.update(&g, same).unwrap();
    assert_eq!(
        after["metadata"]["resourceVersion"], rv,
        "no-op write must keep the resourceVersion"
    );
    assert_eq!(
        s.events_since(&g, None, 0).unwrap().len(),
        2,
        "no event for a no-op write"
    );
    let mut changed = after.clone();
    changed["metadata"]["labels"] = json!({"x": "y"});
    assert_ne!(
        s.update(&g, changed).unwrap()["metadata"]["resourceVersion"],
        rv
    );
}

#[test]
fn whole_floats_are_stored_as_integers_as_the_api_server_does() {
    let store = Store::new();
    let gvr = Gvr::new("networking.istio.io", "v1alpha3", "virtualservices");
    let obj = json!({"metadata": {"name": "vs", "namespace": "ns"},
        "spec": {"http": [{"fault": {"delay": {"fixedDelay": "1s", "percentage": {"value": 100.0}}},
            "mirrorPercentage": {"value": 12.5}, "weight": 1e2}]}});
    let created = store.create(&gvr, obj.clone()).unwrap();
    let http = &created["spec"]["http"][0];
    assert_eq!(
        serde_json::to_string(&http["fault"]["delay"]["percentage"]).unwrap(),
        r#"{"value":100}"#
    );
    assert_eq!(
        serde_json::to_string(&http["mirrorPercentage"]).unwrap(),
        r#"{"value":12.5}"#
    );
    assert_eq!(serde_json::to_string(&http["weight"]).unwrap(), "100");
    let stored = store.get(&gvr, "ns", "vs").unwrap();
    assert_eq!(stored["spec"], created["spec"]);
    // Writing 100.0 again over 100 changes nothing.
    let rv = created["metadata"]["resourceVersion"].clone();
    let mut again = stored.clone();
    again["spec"]["http"][0]["fault"]["delay"]["percentage"]["value"] = json!(100.0);
    let written = store.update(&gvr, again).unwrap();
    assert_eq!(written["metadata"]["resourceVersion"], rv);
}

#[test]
fn empty_labels_and_annotations_are_not_stored() {
    let s = Store::new();
    let g = Gvr::new("apps", "v1", "deployments");
    let mut obj = deploy("a");
    obj["metadata"]["labels"] = json!({});
    let created = s.create(&g, obj).unwrap();
    assert_eq!(created["metadata"].get("labels"), None);
    let mut annotated = created.clone();
    annotated["metadata"]["annotations"] = json!({"a": "b"});
    let annotated = s.update(&g, annotated).unwrap();
    assert_eq!(annotated["metadata"]["annotations"], json!({"a": "b"}));
    // A patch that removed the last annotation leaves an empty map: not stored.
    let mut emptied = annotated.clone();
    emptied["metadata"]["annotations"] = json!({});
    let stored = s.update(&g, emptied).unwrap();
    assert_eq!(stored["metadata"].get("annotations"), None);
    assert_eq!(
        s.get(&g, "ns", "a").unwrap()["metadata"].get("annotations"),
        None
    );
}
