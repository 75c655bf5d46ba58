//! Typed `Api`: create, get, list with selectors, the four patch types, server-side apply
//! conflicts, dry runs, replace, Status errors, generateName, deletecollection, delete, and
//! the status subresource with generation.

use super::*;

#[tokio::test]
async fn typed_crud_and_all_patch_types() {
    let (c, client) = start().await;
    namespace(&client, "bookinfo").await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "bookinfo");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "bookinfo");
    create_get_and_list(&deploys).await;
    strategic_json_and_merge_patches(&deploys).await;
    server_side_apply_conflicts_and_force(&cms).await;
    dry_run_stores_nothing(&deploys).await;
    replace_conflicts_and_status_errors(&client, &deploys).await;
    let generated = generate_name(&cms).await;
    dry_run_update_and_delete_change_nothing(&deploys).await;
    delete_collection_and_delete(&deploys, &cms, &generated).await;
    c.shutdown().await;
}

/// create (server defaults), get and list with label and field selectors.
async fn create_get_and_list(deploys: &Api<Deployment>) {
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
}

/// The guide's break (strategic merge), its restore (JSON patch), a merge patch.
async fn strategic_json_and_merge_patches(deploys: &Api<Deployment>) {
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
}

/// Server-side apply: create, conflict, force, a manager dropping a field.
async fn server_side_apply_conflicts_and_force(cms: &Api<ConfigMap>) {
    // server-side apply: create, conflict, force
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
                "Apply failed with 1 conflict: conflict with \"alice\": .data.a"
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
    // 422 Invalid (PatchOptions.fieldManager), as a real API server answers.
    assert_eq!(api_error(apply_needs_manager).0, 422);
}

/// A dry-run patch and create answer as if done and store nothing.
async fn dry_run_stores_nothing(deploys: &Api<Deployment>) {
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
}

/// replace, Conflict on a stale resourceVersion, AlreadyExists, NotFound, Invalid, and a
/// missing namespace.
async fn replace_conflicts_and_status_errors(client: &Client, deploys: &Api<Deployment>) {
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
}

/// generateName: the name of the created ConfigMap.
async fn generate_name(cms: &Api<ConfigMap>) -> String {
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
    name
}

async fn dry_run_update_and_delete_change_nothing(deploys: &Api<Deployment>) {
    // dry-run update and delete change nothing
    let dry_pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
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
}

/// deletecollection removes only the selected object (not `generated`); delete with a
/// propagation policy.
async fn delete_collection_and_delete(
    deploys: &Api<Deployment>,
    cms: &Api<ConfigMap>,
    generated: &str,
) {
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
        cms.get_opt(generated).await.unwrap().is_some(),
        "only the selected object goes"
    );

    // delete (with propagation policy)
    let deleted = deploys
        .delete("reviews-v1", &DeleteParams::background())
        .await
        .unwrap();
    // A Deployment deleted at once is answered with a Success Status, as a real server does.
    assert!(deleted.is_right());
    assert!(deploys.get_opt("reviews-v1").await.unwrap().is_none());
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
