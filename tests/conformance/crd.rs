//! CustomResourceDefinitions: establishment, structural schema, CEL rules, defaulting,
//! pruning and field validation, the status subresource and generation of custom
//! resources, printer columns, discovery of the new group, and deletion.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Interaction, Observed, namespace, pick, status, text, warning};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const WIDGETS: &str = "/apis/conformance.smh.test/v1/namespaces/conf-crd/widgets";

fn crd(name_plural: &str, schema: Value) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{name_plural}.conformance.smh.test")},
        "spec": {"group": "conformance.smh.test", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": name_plural, "singular": "widget",
                "shortNames": ["wd"], "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}],
                "schema": {"openAPIV3Schema": schema}}]}})
}

fn widget_schema() -> Value {
    json!({"type": "object", "properties": {
        "spec": {"type": "object", "required": ["size"],
            "x-kubernetes-validations": [{"rule": "self.size <= self.max",
                "message": "size must not exceed max"}],
            "properties": {
                "size": {"type": "integer", "minimum": 0},
                "max": {"type": "integer", "default": 10},
                "color": {"type": "string", "enum": ["red", "green", "blue"], "default": "red"},
                "tags": {"type": "array", "items": {"type": "string"},
                    "x-kubernetes-list-type": "set"}}},
        "status": {"type": "object", "properties": {
            "observedGeneration": {"type": "integer"}, "phase": {"type": "string"}}}}})
}

fn widget(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "conformance.smh.test/v1", "kind": "Widget",
        "metadata": {"name": name, "namespace": "conf-crd"}, "spec": spec})
}

fn established(o: &Observed) -> bool {
    o.body["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    })
}

const OBJ: &[&str] = &["/metadata/generation", "/spec", "/status"];

#[allow(
    clippy::too_many_lines,
    reason = "a table of interactions, one entry each, in the order they run"
)]
pub(crate) fn interactions() -> Vec<Interaction> {
    vec![
        namespace("crd/create-namespace", "conf-crd"),
        Interaction::http("crd/create", "POST", CRDS, Some(crd("widgets", widget_schema())))
            .norm(pick(&["/metadata/name", "/spec", "/metadata/generation"])),
        Interaction::http(
            "crd/established",
            "GET",
            &format!("{CRDS}/widgets.conformance.smh.test"),
            None,
        )
        .until(established, Duration::from_secs(30))
        .norm(Box::new(|o| {
            let last = &o.body["last"];
            let mut conditions: Vec<Value> = last["status"]["conditions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| json!([c["type"], c["status"], c["reason"], c["message"]]))
                        .collect()
                })
                .unwrap_or_default();
            conditions.sort_by_key(|c| c.to_string());
            json!({"satisfied": o.body["satisfied"], "conditions": conditions,
                "acceptedNames": last["status"]["acceptedNames"],
                "storedVersions": last["status"]["storedVersions"]})
        })),
        Interaction::http(
            "crd/discovery-of-new-group",
            "GET",
            "/apis/conformance.smh.test/v1",
            None,
        )
        .until(|o| o.code == 200, Duration::from_secs(30)),
        Interaction::http("crd/create-defaulted", "POST", WIDGETS, Some(widget("w1", json!({"size": 1}))))
            .norm(pick(OBJ)),
        Interaction::http("crd/get", "GET", &format!("{WIDGETS}/w1"), None),
        Interaction::http(
            "crd/minimum-422",
            "POST",
            WIDGETS,
            Some(widget("w2", json!({"size": -1}))),
        )
        .norm(status()),
        Interaction::http(
            "crd/cel-rule-422",
            "POST",
            WIDGETS,
            Some(widget("w2", json!({"size": 20}))),
        )
        .norm(status()),
        Interaction::http(
            "crd/enum-422",
            "POST",
            WIDGETS,
            Some(widget("w2", json!({"size": 1, "color": "pink"}))),
        )
        .norm(status()),
        Interaction::http(
            "crd/required-422",
            "POST",
            WIDGETS,
            Some(widget("w2", json!({"color": "red"}))),
        )
        .norm(status()),
        Interaction::http(
            "crd/set-duplicates-422",
            "POST",
            WIDGETS,
            Some(widget("w2", json!({"size": 1, "tags": ["a", "a"]}))),
        )
        .norm(status()),
        Interaction::http(
            "crd/wrong-type-422",
            "POST",
            WIDGETS,
            Some(widget("w2", json!({"size": "big"}))),
        )
        .norm(status()),
        Interaction::http(
            "crd/unknown-field-strict-400",
            "POST",
            &format!("{WIDGETS}?fieldValidation=Strict"),
            Some(widget("w2", json!({"size": 1, "bogus": true}))),
        )
        .norm(status()),
        Interaction::http(
            "crd/unknown-field-warned-and-pruned",
            "POST",
            &format!("{WIDGETS}?fieldValidation=Warn"),
            Some(widget("w3", json!({"size": 2, "bogus": true}))),
        )
        .norm(warning()),
        Interaction::http("crd/pruned", "GET", &format!("{WIDGETS}/w3"), None).norm(pick(OBJ)),
        Interaction::http(
            "crd/update-without-resource-version-422",
            "PUT",
            &format!("{WIDGETS}/w1"),
            Some(json!({"apiVersion": "conformance.smh.test/v1", "kind": "Widget",
                "metadata": {"name": "w1", "namespace": "conf-crd"}, "spec": {"size": 4}})),
        )
        .norm(status()),
        Interaction::http(
            "crd/status-subresource",
            "PATCH",
            &format!("{WIDGETS}/w1/status"),
            Some(json!({"spec": {"size": 5}, "status": {"phase": "Ready", "observedGeneration": 1}})),
        )
        .norm(pick(OBJ)),
        Interaction::http(
            "crd/status-ignored-on-main-resource",
            "PATCH",
            &format!("{WIDGETS}/w1"),
            Some(json!({"spec": {"size": 3}, "status": {"phase": "Other"}})),
        )
        .norm(pick(OBJ)),
        Interaction::http(
            "crd/metadata-keeps-generation",
            "PATCH",
            &format!("{WIDGETS}/w1"),
            Some(json!({"metadata": {"labels": {"l": "1"}, "annotations": {"a": "1"}}})),
        )
        .norm(pick(OBJ)),
        Interaction::http(
            "crd/cel-on-update-422",
            "PATCH",
            &format!("{WIDGETS}/w1"),
            Some(json!({"spec": {"max": 2}})),
        )
        .norm(status()),
        Interaction::kubectl("crd/kubectl-get-printer-columns", &["get", "widgets", "w1", "w3", "-n", "conf-crd"], None)
            .norm(text()),
        Interaction::kubectl("crd/kubectl-get-short-name", &["get", "wd", "w1", "-n", "conf-crd", "-o", "name"], None),
        Interaction::http("crd/table", "GET", &format!("{WIDGETS}?fieldSelector=metadata.name%3Dw1"), None)
            .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
            .norm(table()),
        Interaction::http(
            "crd/non-structural-422",
            "POST",
            CRDS,
            Some(crd("gadgets", json!({"type": "object", "properties": {"spec": {"properties": {"x": {"type": "string"}}}}}))),
        )
        .norm(status()),
        Interaction::http(
            "crd/bad-cel-rule-422",
            "POST",
            CRDS,
            Some(crd("gizmos", json!({"type": "object", "properties": {"spec": {"type": "object",
                "x-kubernetes-validations": [{"rule": "self.nope >"}],
                "properties": {"x": {"type": "string"}}}}}))),
        )
        .norm(status()),
        Interaction::http(
            "crd/delete",
            "DELETE",
            &format!("{CRDS}/widgets.conformance.smh.test"),
            None,
        )
        .norm(pick(&["/kind", "/metadata/name", "/metadata/finalizers"])),
        Interaction::http("crd/deleted-stops-serving", "GET", WIDGETS, None)
            .until(|o| o.code == 404, Duration::from_secs(60))
            .norm(pick(&["/satisfied"])),
    ]
}

/// A server-side Table: its columns and its rows' cells (the Age cell masked).
pub(crate) fn table() -> crate::harness::Norm {
    Box::new(|o| {
        let cols: Vec<Value> = o.body["columnDefinitions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| json!([c["name"], c["type"], c["format"], c["priority"]]))
                    .collect()
            })
            .unwrap_or_default();
        let age = cols.iter().position(|c| c[0] == "Age");
        let rows: Vec<Value> = o.body["rows"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        let mut cells = r["cells"].as_array().cloned().unwrap_or_default();
                        if let Some(i) = age.filter(|i| *i < cells.len()) {
                            cells[i] = json!("<age>");
                        }
                        json!({"cells": cells, "object": r["object"]["kind"]})
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({"code": o.code, "kind": o.body["kind"], "columns": cols, "rows": rows})
    })
}
