//! PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes' strategic
//! merge patch, applied to an object in its JSON form.
//!
//! Strategic merge patch follows `k8s.io/apimachinery/pkg/util/strategicpatch`: maps merge
//! recursively and `null` deletes a key; lists with `x-kubernetes-patch-strategy: merge` and a
//! `x-kubernetes-patch-merge-key` merge item by item on that key (containers by `name`, container
//! ports by `containerPort`, Service ports by `port`, env by `name`, volumes by `name`,
//! volumeMounts by `mountPath`, ...); merge lists of scalars (finalizers) take the union; all
//! other lists are replaced. Directives: `$patch: replace|delete|merge` (on maps and list
//! items), `$retainKeys`, `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>`.

use serde_json::{Map, Value};

use super::schema::SchemaRef;

/// RFC 7386 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902 JSON patch; the error text is what the server reports.
pub(crate) fn apply_json_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    let ops: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|e| format!("invalid JSON patch: {e}"))?;
    json_patch::patch(target, &ops).map_err(|e| e.to_string())
}

/// Apply a strategic merge patch to `original`, with list semantics from `schema`.
pub(crate) fn strategic_merge(
    original: &Value,
    patch: &Value,
    schema: SchemaRef<'_>,
) -> Result<Value, String> {
    let Value::Object(p) = patch else {
        return Err("strategic merge patch must be a JSON object".into());
    };
    let base = match original {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    match merge_map(base, p, schema)? {
        Some(m) => Ok(Value::Object(m)),
        None => Ok(Value::Object(Map::new())),
    }
}

/// Remove every `$`-directive from a patch value that becomes part of the object.
fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .filter(|x| !is_directive_only(x))
                .map(strip_directives)
                .collect(),
        ),
        v => v.clone(),
    }
}

/// Merge `patch` into `original`. `Ok(None)` means the map itself is deleted
/// (`$patch: delete`).
fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    schema: SchemaRef<'_>,
) -> Result<Option<Map<String, Value>>, String> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("delete") => return Ok(None),
        Some("replace") => {
            return Ok(Some(
                match strip_directives(&Value::Object(patch.clone())) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                },
            ));
        }
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown patch type: {other:?}")),
    }
    let mut orders: Vec<(String, Vec<Value>)> = Vec::new();
    for (key, pv) in patch {
        if let Some(field) = key.strip_prefix("$setElementOrder/") {
            if let Value::Array(order) = pv {
                orders.push((field.to_string(), order.clone()));
            }
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Value::Array(del)) = (original.get_mut(field), pv) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if key.starts_with('$') {
            continue;
        }
        let child = schema.field(key);
        match pv {
            Value::Null => {
                original.remove(key);
            }
            Value::Object(pm) => {
                let base = match original.remove(key) {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                if let Some(m) = merge_map(base, pm, child)? {
                    original.insert(key.clone(), Value::Object(m));
                }
            }
            Value::Array(pa) => {
                let base = match original.remove(key) {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                original.insert(key.clone(), Value::Array(merge_list(base, pa, child)?));
            }
            scalar => {
                original.insert(key.clone(), scalar.clone());
            }
        }
    }
    for (field, order) in orders {
        let key = schema.field(&field).patch_merge_key().unwrap_or("");
        if let Some(Value::Array(list)) = original.get_mut(&field) {
            apply_order(list, &order, key);
        }
    }
    if schema.retain_keys()
        && let Some(Value::Array(keep)) = patch.get("$retainKeys")
    {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        original.retain(|k, _| keep.contains(&k.as_str()));
    }
    Ok(Some(original))
}

fn merge_list(
    mut original: Vec<Value>,
    patch: &[Value],
    schema: SchemaRef<'_>,
) -> Result<Vec<Value>, String> {
    // `[{"$patch": "replace"}, ...]` replaces the whole list.
    let replace = patch.iter().any(|x| {
        x.get("$patch").and_then(Value::as_str) == Some("replace")
            && x.as_object().is_some_and(|m| m.len() == 1)
    });
    let key = schema.patch_merge_key();
    if replace || key.is_none() {
        return Ok(patch
            .iter()
            .filter(|x| !is_directive_only(x))
            .map(strip_directives)
            .collect());
    }
    let key = key.unwrap_or_default();
    if key.is_empty() || patch.iter().all(|x| !x.is_object()) {
        // A merge list of scalars: union, in the order a real server gives it.
        let before = original.clone();
        for x in patch {
            if !original.contains(x) {
                original.push(x.clone());
            }
        }
        return Ok(normalize_order(original, patch, &before, ""));
    }
    let before = original.clone();
    let item_schema = schema.items();
    for item in patch {
        let Value::Object(pm) = item else {
            return Err(format!("merge list item is not an object: {item}"));
        };
        let Some(kv) = pm.get(key) else {
            return Err(format!(
                "map: {item} does not contain declared merge key: {key}"
            ));
        };
        let pos = original.iter().position(|o| o.get(key) == Some(kv));
        match pm.get("$patch").and_then(Value::as_str) {
            Some("delete") => {
                original.retain(|o| o.get(key) != Some(kv));
            }
            Some("replace") => {
                let v = strip_directives(item);
                match pos {
                    Some(i) => original[i] = v,
                    None => original.push(v),
                }
            }
            _ => match pos {
                Some(i) => {
                    let base = match std::mem::take(&mut original[i]) {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    };
                    match merge_map(base, pm, item_schema)? {
                        Some(m) => original[i] = Value::Object(m),
                        None => {
                            original.remove(i);
                        }
                    }
                }
                None => original.push(strip_directives(item)),
            },
        }
    }
    Ok(normalize_order(original, patch, &before, key))
}

/// The order of a merged list as Kubernetes' strategic merge gives it: the items the patch
/// names in the patch's order, the others in the original's order, interleaved by their
/// places in the original (items new to the object come before the original's).
fn normalize_order(
    merged: Vec<Value>,
    patch: &[Value],
    original: &[Value],
    key: &str,
) -> Vec<Value> {
    let id = |v: &Value| -> Option<Value> {
        if key.is_empty() {
            Some(v.clone())
        } else {
            v.get(key).cloned()
        }
    };
    let index = |list: &[Value], v: &Value| {
        let want = id(v)?;
        list.iter().position(|o| id(o).as_ref() == Some(&want))
    };
    let (mut named, mut others): (Vec<Value>, Vec<Value>) =
        merged.into_iter().partition(|m| index(patch, m).is_some());
    named.sort_by_key(|v| index(patch, v));
    others.sort_by_key(|v| index(original, v));
    let mut out = Vec::with_capacity(named.len() + others.len());
    let (mut named, mut others) = (named.into_iter().peekable(), others.into_iter().peekable());
    loop {
        let take_other = match (others.peek(), named.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(o), Some(n)) => {
                matches!((index(original, o), index(original, n)), (Some(a), Some(b)) if a < b)
            }
        };
        let next = if take_other {
            others.next()
        } else {
            named.next()
        };
        out.extend(next);
    }
    out
}

/// `{"$patch": ...}` alone: a directive item, not a list element.
fn is_directive_only(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.contains_key("$patch"))
}

/// Order `list` as `order` says (by merge key for objects, by value for scalars); items the
/// order does not mention keep their relative order after the ordered ones.
fn apply_order(list: &mut Vec<Value>, order: &[Value], key: &str) {
    let rank = |x: &Value| -> usize {
        order
            .iter()
            .position(|o| {
                if key.is_empty() {
                    o == x
                } else {
                    o.get(key).is_some() && o.get(key) == x.get(key)
                }
            })
            .unwrap_or(usize::MAX)
    };
    let mut indexed: Vec<(usize, usize, Value)> = std::mem::take(list)
        .into_iter()
        .enumerate()
        .map(|(i, v)| (rank(&v), i, v))
        .collect();
    indexed.sort_by_key(|(r, i, _)| (*r, *i));
    *list = indexed.into_iter().map(|(_, _, v)| v).collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::schema::builtin_schema;
    use serde_json::json;

    fn deploy() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "reviews-v1", "labels": {"app": "reviews", "version": "v1"}, "finalizers": ["a"]},
            "spec": {"replicas": 1, "template": {"spec": {
                "containers": [
                    {"name": "reviews", "image": "reviews:v1",
                     "ports": [{"containerPort": 9080, "protocol": "TCP"}],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                    {"name": "sidecar", "image": "proxy"}
                ],
                "volumes": [{"name": "tmp", "emptyDir": {}}]
            }}}
        })
    }

    fn smp(patch: Value) -> Value {
        let schema = builtin_schema("apps", "v1", "Deployment").unwrap();
        strategic_merge(&deploy(), &patch, SchemaRef(Some(&schema))).unwrap()
    }

    #[test]
    fn guide_patch_merges_container_by_name() {
        let out = smp(
            json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews", "command": ["sleep", "20h"]}]}}}}),
        );
        let c = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(c.as_array().unwrap().len(), 2);
        assert_eq!(c[0]["command"], json!(["sleep", "20h"]));
        assert_eq!(c[0]["image"], "reviews:v1", "other fields are kept");
        assert_eq!(c[1]["name"], "sidecar");
    }

    #[test]
    fn merge_keys_for_ports_env_volumes() {
        let out = smp(json!({"spec": {"template": {"spec": {
            "containers": [{"name": "reviews",
                "ports": [{"containerPort": 15090, "name": "metrics"}],
                "env": [{"name": "B", "value": "3"}, {"name": "A", "$patch": "delete"}]}],
            "volumes": [{"name": "data", "emptyDir": {}}]
        }}}}));
        let c0 = &out["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c0["ports"].as_array().unwrap().len(), 2);
        assert_eq!(c0["env"], json!([{"name": "B", "value": "3"}]));
        assert_eq!(
            out["spec"]["template"]["spec"]["volumes"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn merged_list_order_is_the_real_servers() {
        let schema = builtin_schema("apps", "v1", "Deployment").unwrap();
        let s = SchemaRef(Some(&schema));
        let live = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]}]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "B", "value": "2"}, {"name": "C", "value": "4"}]}]}}}});
        let out = strategic_merge(&live, &patch, s).unwrap();
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        // New items first, then interleaved by the live order: B (new), A (live only), C.
        assert_eq!(names, ["B", "A", "C"]);
    }

    #[test]
    fn atomic_lists_null_and_directives() {
        // command is atomic: replaced, not merged.
        let base = smp(
            json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews", "command": ["a", "b"]}]}}}}),
        );
        let schema = builtin_schema("apps", "v1", "Deployment").unwrap();
        let s = SchemaRef(Some(&schema));
        let out = strategic_merge(&base, &json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews", "command": ["c"]}]}}}}), s).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["command"],
            json!(["c"])
        );
        // null removes a key.
        let out = strategic_merge(&out, &json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews", "command": null}]}}}}), s).unwrap();
        assert!(
            out["spec"]["template"]["spec"]["containers"][0]
                .get("command")
                .is_none()
        );
        // $patch: replace on a list.
        let out = strategic_merge(&out, &json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}}}}), s).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only", "image": "x"}])
        );
        // $patch: replace on a map.
        let out = strategic_merge(
            &out,
            &json!({"metadata": {"labels": {"$patch": "replace", "x": "y"}}}),
            s,
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"x": "y"}));
        // $patch: delete on a map.
        let out = strategic_merge(
            &out,
            &json!({"metadata": {"labels": {"$patch": "delete"}}}),
            s,
        )
        .unwrap();
        assert!(out["metadata"].get("labels").is_none());
        // finalizers: union (the patch's items in its order, as a real server orders them),
        // and $deleteFromPrimitiveList.
        let out =
            strategic_merge(&out, &json!({"metadata": {"finalizers": ["b", "a"]}}), s).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b", "a"]));
        let out = strategic_merge(
            &out,
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
            s,
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn set_element_order_and_retain_keys_tolerated() {
        let out = smp(json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "reviews"}],
            "containers": [{"name": "reviews", "image": "reviews:v2"}]
        }}}}));
        let c = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["name"], "sidecar");
        assert_eq!(c[1]["image"], "reviews:v2");
        let out = smp(json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}));
        assert_eq!(out["spec"]["strategy"]["type"], "Recreate");
    }

    #[test]
    fn missing_merge_key_is_an_error() {
        let schema = builtin_schema("apps", "v1", "Deployment").unwrap();
        let e = strategic_merge(
            &deploy(),
            &json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
            SchemaRef(Some(&schema)),
        );
        assert!(
            e.unwrap_err()
                .contains("does not contain declared merge key: name")
        );
    }

    #[test]
    fn merge_and_json_patch() {
        let mut d = deploy();
        merge_patch(
            &mut d,
            &json!({"metadata": {"labels": {"version": null, "x": "1"}}, "spec": {"replicas": 3}}),
        );
        assert_eq!(d["metadata"]["labels"], json!({"app": "reviews", "x": "1"}));
        assert_eq!(d["spec"]["replicas"], 3);
        // merge patch replaces lists.
        merge_patch(
            &mut d,
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}),
        );
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"],
            json!([{"name": "c"}])
        );

        let mut d = deploy();
        d["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["sleep", "20h"]);
        apply_json_patch(
            &mut d,
            &json!([{"op": "remove", "path": "/spec/template/spec/containers/0/command"}]),
        )
        .unwrap();
        assert!(
            d["spec"]["template"]["spec"]["containers"][0]
                .get("command")
                .is_none()
        );
        let err = apply_json_patch(
            &mut d,
            &json!([{"op": "remove", "path": "/spec/template/spec/containers/0/command"}]),
        );
        assert!(err.is_err());
        assert!(apply_json_patch(&mut d, &json!({"op": "add"})).is_err());
        apply_json_patch(&mut d, &json!([{"op": "test", "path": "/spec/replicas", "value": 1}, {"op": "replace", "path": "/spec/replicas", "value": 2}])).unwrap();
        assert_eq!(d["spec"]["replicas"], 2);
    }
}
