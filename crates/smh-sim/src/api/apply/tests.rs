//! Tests of managed fields and server-side apply.

use super::*;
use crate::api::schema::builtin_schema;

fn writer(manager: &str) -> Writer<'_> {
    Writer {
        manager,
        api_version: "apps/v1",
        time: "2026-01-01T00:00:00Z",
        scope: Scope::Main {
            status_subresource: true,
        },
    }
}

fn applied(replicas: i64, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "ns", "labels": {"app": "d"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "c", "image": image}]}}}})
}

fn apply(live: &Value, cfg: &Value, mgr: &str, force: bool) -> ServerApplyResult {
    let s = builtin_schema("apps", "v1", "Deployment").unwrap();
    server_side_apply(live, cfg, SchemaRef(Some(&s)), &writer(mgr), force).unwrap()
}

fn applied_obj(o: ServerApplyResult) -> Value {
    match o {
        ServerApplyResult::Applied(v) => v,
        ServerApplyResult::Conflicts(c) => panic!("unexpected conflicts {c:?}"),
    }
}

#[test]
fn field_sets_follow_list_types() {
    let s = builtin_schema("apps", "v1", "Deployment").unwrap();
    let mut o = applied(1, "img");
    o["metadata"]["finalizers"] = json!(["x"]);
    o["status"] = json!({"replicas": 1});
    let set = field_set(
        &o,
        SchemaRef(Some(&s)),
        Scope::Main {
            status_subresource: true,
        },
    )
    .unwrap();
    let strs: Vec<String> = set.iter().map(|p| p.join("/")).collect();
    assert!(strs.contains(&"f:spec/f:replicas".to_string()));
    assert!(
        strs.contains(&"f:spec/f:template/f:spec/f:containers/k:{\"name\":\"c\"}/.".to_string())
    );
    assert!(
        strs.contains(
            &"f:spec/f:template/f:spec/f:containers/k:{\"name\":\"c\"}/f:image".to_string()
        )
    );
    assert!(strs.contains(&"f:metadata/f:finalizers/v:\"x\"".to_string()));
    assert!(
        !strs.iter().any(|p| p.starts_with("f:status")
            || p.contains("f:name/")
            || p == "f:metadata/f:name")
    );
    // Round trip through FieldsV1.
    assert_eq!(from_fields_v1(&to_fields_v1(&set)), set);
    assert_eq!(
        value_at(
            &o,
            &[
                "f:spec".into(),
                "f:template".into(),
                "f:spec".into(),
                "f:containers".into(),
                "k:{\"name\":\"c\"}".into(),
                "f:image".into()
            ]
        ),
        Some(&json!("img"))
    );
}

#[test]
fn apply_conflicts_with_another_manager_unless_forced() {
    let live = applied_obj(apply(&json!({}), &applied(1, "v1"), "alice", false));
    assert_eq!(live["metadata"]["managedFields"][0]["manager"], "alice");
    assert_eq!(live["metadata"]["managedFields"][0]["operation"], "Apply");
    // Bob applies the same values: shared ownership, no conflict.
    let shared = applied_obj(apply(&live, &applied(1, "v1"), "bob", false));
    assert_eq!(
        shared["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Bob changes the replicas alice owns: conflict.
    match apply(&shared, &applied(3, "v1"), "bob", false) {
        ServerApplyResult::Conflicts(c) => {
            assert_eq!(c.len(), 1);
            assert_eq!(c[0].manager, "alice");
            assert_eq!(c[0].path, ".spec.replicas");
            assert_eq!(
                conflict_message(&c),
                "Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas"
            );
        }
        ServerApplyResult::Applied(_) => panic!("expected a conflict"),
    }
    // Forced: bob takes replicas over.
    let forced = applied_obj(apply(&shared, &applied(3, "v1"), "bob", true));
    assert_eq!(forced["spec"]["replicas"], 3);
    let entries = read_managed(&forced);
    let alice = entries.iter().find(|e| e.manager == "alice").unwrap();
    assert!(
        !alice
            .fields
            .contains(&vec!["f:spec".to_string(), "f:replicas".to_string()])
    );
    // Now alice re-applies replicas 1: conflicts with bob.
    assert!(matches!(
        apply(&forced, &applied(1, "v1"), "alice", false),
        ServerApplyResult::Conflicts(_)
    ));
}

#[test]
fn apply_removes_fields_the_manager_stopped_applying() {
    let mut cfg = applied(1, "v1");
    cfg["metadata"]["labels"]["tier"] = json!("back");
    cfg["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "c", "image": "v1"}, {"name": "side", "image": "p"}]);
    let live = applied_obj(apply(&json!({}), &cfg, "alice", false));
    let live = applied_obj(apply(&live, &applied(1, "v1"), "alice", false));
    assert!(live["metadata"]["labels"].get("tier").is_none());
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A field another manager owns stays.
    let mut with_bob = live.clone();
    with_bob["metadata"]["labels"]["owner"] = json!("bob");
    let s = builtin_schema("apps", "v1", "Deployment").unwrap();
    track_update(
        Some(&live),
        &mut with_bob,
        SchemaRef(Some(&s)),
        &writer("bob"),
        None,
    )
    .unwrap();
    let after = applied_obj(apply(&with_bob, &applied(1, "v1"), "alice", false));
    assert_eq!(after["metadata"]["labels"]["owner"], "bob");
    let bob = read_managed(&after)
        .into_iter()
        .find(|e| e.manager == "bob")
        .unwrap();
    assert_eq!(bob.operation, "Update");
    assert_eq!(bob.fields.len(), 1);
}

#[test]
fn update_takes_changed_fields() {
    let s = builtin_schema("apps", "v1", "Deployment").unwrap();
    let live = applied_obj(apply(&json!({}), &applied(1, "v1"), "alice", false));
    let mut new = live.clone();
    new["spec"]["replicas"] = json!(5);
    track_update(
        Some(&live),
        &mut new,
        SchemaRef(Some(&s)),
        &writer("kubectl-scale"),
        None,
    )
    .unwrap();
    let entries = read_managed(&new);
    let scale = entries
        .iter()
        .find(|e| e.manager == "kubectl-scale")
        .unwrap();
    assert_eq!(
        scale
            .fields
            .iter()
            .map(|p| display_path(p))
            .collect::<Vec<_>>(),
        vec![".spec.replicas"]
    );
    let alice = entries.iter().find(|e| e.manager == "alice").unwrap();
    assert!(
        !alice
            .fields
            .contains(&vec!["f:spec".to_string(), "f:replicas".to_string()])
    );
}
