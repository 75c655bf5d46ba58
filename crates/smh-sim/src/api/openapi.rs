//! OpenAPI v3 documents (`/openapi/v3` and one document per group-version), enough for
//! `kubectl apply` with its default validation: every kind's schema carries
//! `x-kubernetes-group-version-kind`, and every object path has a `patch` operation tagged with
//! the kind and a `fieldValidation` query parameter, which is how kubectl decides that the
//! server validates fields itself. Custom resources publish their CRD's `openAPIV3Schema`.

use md5::{Digest, Md5};
use serde_json::{Map, Value, json};

use super::registry::{Registry, ResourceInfo};
use super::schema::object_meta;

/// The schema component name of a kind (`io.k8s.api.apps.v1.Deployment`, or the reversed CRD
/// group for custom resources: `io.istio.networking.v1.DestinationRule`).
pub(crate) fn schema_name(r: &ResourceInfo) -> String {
    let prefix = match r.group.as_str() {
        "" => "io.k8s.api.core".to_string(),
        "apps" => "io.k8s.api.apps".to_string(),
        "apiextensions.k8s.io" => {
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".to_string()
        }
        g => g.split('.').rev().collect::<Vec<_>>().join("."),
    };
    format!("{prefix}.{}.{}", r.version, r.kind)
}

/// `api/v1` or `apis/<group>/<version>`.
pub(crate) fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn hash(doc: &Value) -> String {
    let digest = Md5::digest(doc.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// `GET /openapi/v3`.
pub(crate) fn v3_index(reg: &Registry) -> Value {
    let mut paths = Map::new();
    for (g, vs) in reg.groups() {
        for v in vs {
            let p = gv_path(&g, &v);
            if let Some(doc) = v3_document(reg, &p) {
                paths.insert(
                    p.clone(),
                    json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", hash(&doc))}),
                );
            }
        }
    }
    json!({"paths": paths})
}

fn param(name: &str, location: &str, required: bool, description: &str) -> Value {
    json!({"name": name, "in": location, "required": required, "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(
    r: &ResourceInfo,
    action: &str,
    op_id: &str,
    query: &[&str],
    response_schema: &str,
) -> Value {
    let params: Vec<Value> = query.iter().map(|q| param(q, "query", false, "")).collect();
    json!({
        "operationId": op_id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{response_schema}")}}}}},
    })
}

/// The schema every PATCH body refers to.
const PATCH_SCHEMA: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";

/// A patch operation with the body content types the server accepts for the kind (strategic
/// merge only for built-in kinds, which is how kubectl learns whether it may compute one).
fn patch_operation(r: &ResourceInfo, op_id: &str, query: &[&str], response_schema: &str) -> Value {
    let mut op = operation(r, "patch", op_id, query, response_schema);
    let mut types = vec![
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
    ];
    if r.builtin {
        types.push("application/strategic-merge-patch+json");
    }
    let content: Map<String, Value> = types
        .into_iter()
        .map(|t| {
            (
                t.to_string(),
                json!({"schema": {"$ref": format!("#/components/schemas/{PATCH_SCHEMA}")}}),
            )
        })
        .collect();
    op["requestBody"] = json!({"content": content, "required": true});
    op
}

fn kind_schema(r: &ResourceInfo) -> Value {
    let mut s =
        r.schema.as_deref().cloned().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
    if let Some(m) = s.as_object_mut() {
        m.entry("type").or_insert(json!("object"));
        let props = m
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(p) = props {
            p.insert("apiVersion".into(), json!({"type": "string"}));
            p.insert("kind".into(), json!({"type": "string"}));
            p.insert("metadata".into(), object_meta());
        }
        m.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([{"group": r.group, "version": r.version, "kind": r.kind}]),
        );
    }
    s
}

/// The document of one group-version (`api/v1`, `apis/apps/v1`, ...).
pub(crate) fn v3_document(reg: &Registry, path: &str) -> Option<Value> {
    let (group, version) = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => (String::new(), v.to_string()),
        ["apis", g, v] => (g.to_string(), v.to_string()),
        _ => return None,
    };
    let resources: Vec<_> = reg
        .all()
        .into_iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if resources.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let write_q = ["dryRun", "fieldManager", "fieldValidation", "pretty"];
    let patch_q = [
        "dryRun",
        "fieldManager",
        "fieldValidation",
        "force",
        "pretty",
    ];
    let list_q = [
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "timeoutSeconds",
        "watch",
        "allowWatchBookmarks",
    ];
    for r in &resources {
        let name = schema_name(r);
        let list_name = format!("{name}List");
        schemas.insert(name.clone(), kind_schema(r));
        schemas.insert(
            list_name.clone(),
            json!({"type": "object", "properties": {
                "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}")}}
            }, "x-kubernetes-group-version-kind": [{"group": r.group, "version": r.version, "kind": r.list_kind}]}),
        );
        let base = format!("/{}", gv_path(&r.group, &r.version));
        let coll = if r.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{base}/{}", r.plural)
        };
        let k = &r.kind;
        let scoped = if r.namespaced { "Namespaced" } else { "" };
        let mut coll_ops = json!({
            "get": operation(r, "list", &format!("list{scoped}{k}"), &list_q, &list_name),
            "post": operation(r, "post", &format!("create{scoped}{k}"), &write_q, &name),
            "delete": operation(r, "deletecollection", &format!("deleteCollection{scoped}{k}"), &["dryRun", "labelSelector", "fieldSelector", "propagationPolicy"], &name),
        });
        let obj_path = format!("{coll}/{{name}}");
        let mut obj_ops = json!({
            "get": operation(r, "get", &format!("read{scoped}{k}"), &["pretty"], &name),
            "put": operation(r, "put", &format!("replace{scoped}{k}"), &write_q, &name),
            "patch": patch_operation(r, &format!("patch{scoped}{k}"), &patch_q, &name),
            "delete": operation(r, "delete", &format!("delete{scoped}{k}"), &["dryRun", "propagationPolicy", "gracePeriodSeconds"], &name),
        });
        let mut path_params = vec![param("name", "path", true, "name of the object")];
        if r.namespaced {
            let ns = param(
                "namespace",
                "path",
                true,
                "object name and auth scope, such as for teams and projects",
            );
            coll_ops["parameters"] = json!([ns.clone()]);
            path_params.push(ns);
        }
        obj_ops["parameters"] = json!(path_params.clone());
        paths.insert(coll, coll_ops);
        paths.insert(obj_path.clone(), obj_ops);
        if r.status_subresource {
            paths.insert(
                format!("{obj_path}/status"),
                json!({
                    "get": operation(r, "get", &format!("read{scoped}{k}Status"), &["pretty"], &name),
                    "put": operation(r, "put", &format!("replace{scoped}{k}Status"), &write_q, &name),
                    "patch": patch_operation(r, &format!("patch{scoped}{k}Status"), &patch_q, &name),
                    "parameters": path_params.clone(),
                }),
            );
        }
        if r.namespaced {
            paths.insert(
                format!("{base}/{}", r.plural),
                json!({"get": operation(r, "list", &format!("list{k}ForAllNamespaces"), &list_q, &list_name)}),
            );
        }
    }
    schemas.insert(
        PATCH_SCHEMA.to_string(),
        json!({"type": "object", "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."}),
    );
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::http::GIT_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_operations_carry_gvk_and_field_validation() {
        let reg = Registry::with_builtins();
        reg.apply_crd(&smh_core::model::crd::smh_crds()[0]).unwrap();
        let idx = v3_index(&reg);
        assert!(
            idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/apis/apps/v1?hash=")
        );
        assert!(idx["paths"]["api/v1"].is_object());
        let doc = v3_document(&reg, "apis/apps/v1").unwrap();
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert_eq!(
            doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"]
                [0]["kind"],
            "Deployment"
        );
        let fs = v3_document(&reg, "apis/networking.smh.solo.io/v1alpha2").unwrap();
        let s = &fs["components"]["schemas"]["io.solo.smh.networking.v1alpha2.FailoverService"];
        assert_eq!(
            s["properties"]["spec"]["properties"]["hostname"]["type"],
            "string"
        );
        assert!(fs["paths"]["/apis/networking.smh.solo.io/v1alpha2/namespaces/{namespace}/failoverservices/{name}/status"].is_object());
        let ns = v3_document(&reg, "api/v1").unwrap();
        assert!(ns["paths"]["/api/v1/namespaces/{name}"]["patch"].is_object());
        assert!(v3_document(&reg, "apis/nope/v1").is_none());
    }
}
