//! get/list/watch with resourceVersion semantics and 410s, create/update/delete with 409s
//! and preconditions, and owner references with garbage collection (what the drill's
//! Deployments, ReplicaSets and pods rely on).

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Interaction, Observed, code, events, namespace, pick, status};

const CMS: &str = "/api/v1/namespaces/conf-crud/configmaps";

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "conf-crud", "labels": {"conf": "crud"}},
        "data": data})
}

fn gone(o: &Observed) -> bool {
    o.code == 404
}

#[allow(
    clippy::too_many_lines,
    reason = "a table of interactions, one entry each, in the order they run"
)]
pub(crate) fn interactions() -> Vec<Interaction> {
    let sel = "labelSelector=conf%3Dcrud";
    vec![
        namespace("crud/create-namespace", "conf-crud"),
        Interaction::http("crud/list-before", "GET", &format!("{CMS}?{sel}"), None)
            .capture("list_rv", "/metadata/resourceVersion"),
        Interaction::http("crud/create", "POST", CMS, Some(cm("a", json!({"k": "v"}))))
            .capture("rv_a", "/metadata/resourceVersion")
            .capture("uid_a", "/metadata/uid"),
        Interaction::http(
            "crud/create-exists-409",
            "POST",
            CMS,
            Some(cm("a", json!({}))),
        )
        .norm(status()),
        Interaction::http("crud/get", "GET", &format!("{CMS}/a"), None),
        Interaction::http(
            "crud/managed-fields-of-updates",
            "GET",
            &format!("{CMS}/a"),
            None,
        )
        .norm(pick(&["/metadata/managedFields"])),
        Interaction::http("crud/get-missing-404", "GET", &format!("{CMS}/nope"), None)
            .norm(status()),
        Interaction::http(
            "crud/get-rv0",
            "GET",
            &format!("{CMS}/a?resourceVersion=0"),
            None,
        )
        .norm(pick(&["/metadata/name", "/data"])),
        Interaction::http(
            "crud/create-b",
            "POST",
            CMS,
            Some(cm("b", json!({"k": "b"}))),
        ),
        Interaction::http(
            "crud/create-c",
            "POST",
            CMS,
            Some(cm("c", json!({"k": "c"}))),
        ),
        Interaction::http(
            "crud/create-generate-name",
            "POST",
            CMS,
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"generateName": "gen-", "namespace": "conf-crud"}})),
        )
        .norm(Box::new(|o| {
            let name = o.body["metadata"]["name"].as_str().unwrap_or("");
            json!({"code": o.code, "prefix": name.get(..4), "len": name.len()})
        })),
        Interaction::http("crud/list", "GET", &format!("{CMS}?{sel}"), None),
        Interaction::http(
            "crud/list-limit",
            "GET",
            &format!("{CMS}?{sel}&limit=1"),
            None,
        )
        .norm(pick(&[
            "/items/0/metadata/name",
            "/metadata/continue",
            "/metadata/remainingItemCount",
        ]))
        .capture("cont", "/metadata/continue"),
        Interaction::http(
            "crud/list-continue",
            "GET",
            &format!("{CMS}?{sel}&limit=1&continue=${{cont}}"),
            None,
        )
        .norm(pick(&[
            "/items/0/metadata/name",
            "/metadata/continue",
            "/metadata/remainingItemCount",
        ])),
        Interaction::http(
            "crud/list-not-older-than",
            "GET",
            &format!("{CMS}?{sel}&resourceVersion=${{rv_a}}&resourceVersionMatch=NotOlderThan"),
            None,
        )
        .norm(pick(&[
            "/kind",
            "/items/0/metadata/name",
            "/items/2/metadata/name",
        ])),
        Interaction::http(
            "crud/list-match-without-rv-400",
            "GET",
            &format!("{CMS}?resourceVersionMatch=NotOlderThan"),
            None,
        )
        .norm(status()),
        Interaction::http(
            "crud/update",
            "PUT",
            &format!("{CMS}/a"),
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "a", "namespace": "conf-crud", "labels": {"conf": "crud"},
                    "resourceVersion": "${rv_a}"},
                "data": {"k": "v2"}})),
        ),
        Interaction::http(
            "crud/update-stale-409",
            "PUT",
            &format!("{CMS}/a"),
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "a", "namespace": "conf-crud", "resourceVersion": "${rv_a}"},
                "data": {"k": "v3"}})),
        )
        .norm(status()),
        Interaction::http(
            "crud/update-without-rv",
            "PUT",
            &format!("{CMS}/b"),
            Some(cm("b", json!({"k": "b2"}))),
        ),
        Interaction::http(
            "crud/update-name-mismatch-400",
            "PUT",
            &format!("{CMS}/b"),
            Some(cm("c", json!({}))),
        )
        .norm(status()),
        Interaction::http(
            "crud/update-missing-404",
            "PUT",
            &format!("{CMS}/nope"),
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "nope", "resourceVersion": "5"}})),
        )
        .norm(status()),
        Interaction::http(
            "crud/delete-precondition-uid-409",
            "DELETE",
            &format!("{CMS}/a"),
            Some(json!({"apiVersion": "v1", "kind": "DeleteOptions",
                "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}})),
        )
        .norm(status()),
        Interaction::http(
            "crud/delete-precondition-rv-409",
            "DELETE",
            &format!("{CMS}/a"),
            Some(json!({"apiVersion": "v1", "kind": "DeleteOptions",
                "preconditions": {"resourceVersion": "${rv_a}"}})),
        )
        .norm(status()),
        Interaction::http(
            "crud/delete",
            "DELETE",
            &format!("{CMS}/a"),
            Some(json!({"apiVersion": "v1", "kind": "DeleteOptions",
                "preconditions": {"uid": "${uid_a}"}})),
        ),
        Interaction::http(
            "crud/delete-missing-404",
            "DELETE",
            &format!("{CMS}/a"),
            None,
        )
        .norm(status()),
        Interaction::http(
            "crud/watch-from-rv",
            "GET",
            &format!("{CMS}?{sel}&watch=1&resourceVersion=${{list_rv}}&timeoutSeconds=1"),
            None,
        )
        .norm(events()),
        Interaction::http(
            "crud/watch-initial-events",
            "GET",
            &format!(
                "{CMS}?{sel}&watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan\
                 &allowWatchBookmarks=true&timeoutSeconds=1"
            ),
            None,
        )
        .norm(events()),
        // A fresh real API server has compacted nothing yet: a watch from resourceVersion 1
        // replays the history (a 410 needs a compaction, which a test cannot trigger there).
        Interaction::http(
            "crud/watch-from-rv-1",
            "GET",
            &format!("{CMS}?{sel}&watch=1&resourceVersion=1&timeoutSeconds=1"),
            None,
        )
        .norm(events()),
        Interaction::http("crud/namespace-configmaps", "GET", CMS, None).norm(Box::new(|o| {
            let names: Vec<Value> = o.body["items"]
                .as_array()
                .map(|a| a.iter().map(|i| i["metadata"]["name"].clone()).collect())
                .unwrap_or_default();
            json!({"code": o.code, "names": names})
        })),
        Interaction::http(
            "crud/list-exact-too-old",
            "GET",
            &format!("{CMS}?resourceVersion=1&resourceVersionMatch=Exact"),
            None,
        )
        .norm(code()),
        Interaction::http(
            "crud/create-in-missing-namespace-404",
            "POST",
            "/api/v1/namespaces/conf-nope/configmaps",
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})),
        )
        .norm(status()),
        Interaction::http(
            "crud/create-invalid-name-422",
            "POST",
            CMS,
            Some(cm("Bad_Name", json!({}))),
        )
        .norm(status()),
        Interaction::http(
            "crud/deletecollection",
            "DELETE",
            &format!("{CMS}?{sel}"),
            None,
        )
        .norm(Box::new(|o| {
            let mut names: Vec<Value> = o.body["items"]
                .as_array()
                .map(|a| a.iter().map(|i| i["metadata"]["name"].clone()).collect())
                .unwrap_or_default();
            names.sort_by_key(|v| v.to_string());
            json!({"code": o.code, "kind": o.body["kind"], "names": names})
        })),
        // Owner references and garbage collection: background, foreground, orphan.
        Interaction::http("crud/gc-owner", "POST", CMS, Some(cm("owner", json!({}))))
            .norm(code())
            .capture("owner_uid", "/metadata/uid"),
        Interaction::http("crud/gc-dependent", "POST", CMS, Some(owned("dep")))
            .norm(pick(&["/metadata/ownerReferences"])),
        Interaction::http(
            "crud/gc-background-delete",
            "DELETE",
            &format!("{CMS}/owner?propagationPolicy=Background"),
            None,
        )
        .norm(pick(&[
            "/kind",
            "/status",
            "/details/name",
            "/details/kind",
        ])),
        Interaction::http(
            "crud/gc-background-collects",
            "GET",
            &format!("{CMS}/dep"),
            None,
        )
        .until(gone, Duration::from_secs(30))
        .norm(pick(&["/satisfied"])),
        Interaction::http("crud/gc-owner-2", "POST", CMS, Some(cm("owner", json!({}))))
            .norm(code())
            .capture("owner_uid", "/metadata/uid"),
        Interaction::http("crud/gc-dependent-2", "POST", CMS, Some(owned("dep2"))).norm(code()),
        Interaction::http(
            "crud/gc-orphan-delete",
            "DELETE",
            &format!("{CMS}/owner?propagationPolicy=Orphan"),
            None,
        )
        .norm(code()),
        Interaction::http("crud/gc-orphaned", "GET", &format!("{CMS}/dep2"), None)
            .until(
                |o| o.body["metadata"].get("ownerReferences").is_none(),
                Duration::from_secs(30),
            )
            .norm(pick(&["/satisfied", "/last/metadata/name"])),
        // The orphaned owner itself goes only once the garbage collector has taken its
        // `orphan` finalizer off, after it changed the dependents: until then a new "owner"
        // is refused with 409 AlreadyExists.
        Interaction::http(
            "crud/gc-orphan-owner-gone",
            "GET",
            &format!("{CMS}/owner"),
            None,
        )
        .until(gone, Duration::from_secs(30))
        .norm(pick(&["/satisfied"])),
        Interaction::http("crud/gc-owner-3", "POST", CMS, Some(cm("owner", json!({}))))
            .norm(code())
            .capture("owner_uid", "/metadata/uid"),
        Interaction::http("crud/gc-dependent-3", "POST", CMS, Some(owned("dep3"))).norm(code()),
        Interaction::http(
            "crud/gc-foreground-delete",
            "DELETE",
            &format!("{CMS}/owner?propagationPolicy=Foreground"),
            None,
        )
        .norm(pick(&[
            "/kind",
            "/metadata/finalizers",
            "/metadata/deletionTimestamp",
        ])),
        Interaction::http(
            "crud/gc-foreground-collects",
            "GET",
            &format!("{CMS}/owner"),
            None,
        )
        .until(gone, Duration::from_secs(30))
        .norm(pick(&["/satisfied"])),
        Interaction::http(
            "crud/gc-foreground-dependent-gone",
            "GET",
            &format!("{CMS}/dep3"),
            None,
        )
        .norm(code()),
    ]
}

fn owned(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "conf-crud",
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                "uid": "${owner_uid}", "blockOwnerDeletion": true}]}})
}
