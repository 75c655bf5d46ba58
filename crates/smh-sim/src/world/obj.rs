//! Small helpers over Kubernetes objects in their JSON wire form, and the resources the
//! simulated cluster's controllers work on.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::api::selector::LabelSelector;
use crate::store::Gvr;

pub(crate) fn namespaces() -> Gvr {
    Gvr::new("", "v1", "namespaces")
}
pub(crate) fn nodes() -> Gvr {
    Gvr::new("", "v1", "nodes")
}
pub(crate) fn pods() -> Gvr {
    Gvr::new("", "v1", "pods")
}
pub(crate) fn services() -> Gvr {
    Gvr::new("", "v1", "services")
}
pub(crate) fn endpoints() -> Gvr {
    Gvr::new("", "v1", "endpoints")
}
pub(crate) fn service_accounts() -> Gvr {
    Gvr::new("", "v1", "serviceaccounts")
}
pub(crate) fn config_maps() -> Gvr {
    Gvr::new("", "v1", "configmaps")
}
pub(crate) fn secrets() -> Gvr {
    Gvr::new("", "v1", "secrets")
}
pub(crate) fn deployments() -> Gvr {
    Gvr::new("apps", "v1", "deployments")
}
pub(crate) fn replica_sets() -> Gvr {
    Gvr::new("apps", "v1", "replicasets")
}

/// Istio networking resources in every version the API may store them under.
pub(crate) fn istio_networking(plural: &str) -> Vec<Gvr> {
    ["v1", "v1beta1", "v1alpha3"]
        .iter()
        .map(|v| Gvr::new("networking.istio.io", v, plural))
        .collect()
}

pub(crate) fn name(obj: &Value) -> &str {
    str_at(obj, "/metadata/name")
}

pub(crate) fn namespace(obj: &Value) -> &str {
    str_at(obj, "/metadata/namespace")
}

pub(crate) fn uid(obj: &Value) -> &str {
    str_at(obj, "/metadata/uid")
}

/// The string at a JSON pointer, or `""`.
pub(crate) fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// A string map (labels, annotations, matchLabels, selector) at a JSON pointer.
pub(crate) fn string_map(obj: &Value, pointer: &str) -> BTreeMap<String, String> {
    obj.pointer(pointer)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn labels(obj: &Value) -> BTreeMap<String, String> {
    string_map(obj, "/metadata/labels")
}

pub(crate) fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// Every `key: value` of `selector` is in `labels` (a Service selector; empty selects all).
pub(crate) fn map_selects(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// A `LabelSelector` (`matchLabels` and `matchExpressions`) selects `labels`; one with an
/// unknown operator selects nothing.
pub(crate) fn label_selector_matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let labels: Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    LabelSelector::from_label_selector(selector).is_ok_and(|s| s.matches_labels(Some(&labels)))
}

/// The uid of the controlling owner of `kind`, if any.
pub(crate) fn controller_uid<'a>(obj: &'a Value, kind: &str) -> Option<&'a str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| {
            str_at(r, "/kind") == kind && r.get("controller").and_then(Value::as_bool) == Some(true)
        })
        .map(|r| str_at(r, "/uid"))
}

/// An owner reference to `owner` (kind `kind`, apiVersion `api_version`) as controller.
pub(crate) fn owner_ref(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Mutable access to the map at `path` inside `v`, creating (or replacing non-object values
/// with) empty maps on the way.
pub(crate) fn map_at_mut<'a>(v: &'a mut Value, path: &[&str]) -> &'a mut Map<String, Value> {
    let mut cur = v;
    for key in path {
        if !cur.is_object() {
            *cur = json!({});
        }
        cur = match cur {
            Value::Object(m) => m.entry(key.to_string()).or_insert_with(|| json!({})),
            _ => unreachable!("just made an object"),
        };
    }
    if !cur.is_object() {
        *cur = json!({});
    }
    match cur {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

/// RFC 3339 UTC timestamp with second precision, as Kubernetes writes them.
pub(crate) fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A container port by name, in any container of a pod spec.
pub(crate) fn container_port_by_name(pod: &Value, port_name: &str) -> Option<u16> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)?
        .iter()
        .flat_map(|c| {
            c.get("ports")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .find(|p| str_at(p, "/name") == port_name)
        .and_then(|p| p.get("containerPort").and_then(Value::as_u64))
        .and_then(|p| u16::try_from(p).ok())
}

/// The `Ready` condition of a pod is `True`.
pub(crate) fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selectors() {
        let sel = json!({"matchLabels": {"app": "reviews"},
            "matchExpressions": [{"key": "version", "operator": "In", "values": ["v1", "v2"]},
                                 {"key": "canary", "operator": "DoesNotExist"}]});
        assert!(label_selector_matches(
            &sel,
            &l(&[("app", "reviews"), ("version", "v1")])
        ));
        assert!(!label_selector_matches(
            &sel,
            &l(&[("app", "reviews"), ("version", "v3")])
        ));
        assert!(!label_selector_matches(
            &sel,
            &l(&[("app", "reviews"), ("version", "v1"), ("canary", "y")])
        ));
        assert!(!label_selector_matches(&sel, &l(&[("version", "v1")])));
    }

    #[test]
    fn owner_references() {
        let owner = json!({"metadata": {"name": "d", "uid": "u1"}});
        let child =
            json!({"metadata": {"ownerReferences": [owner_ref(&owner, "apps/v1", "Deployment")]}});
        assert_eq!(controller_uid(&child, "Deployment"), Some("u1"));
        assert_eq!(controller_uid(&child, "ReplicaSet"), None);
    }
}
