//! Request rules a real API server applies that the handlers share: which field selectors
//! a kind accepts, the list options that go together, and what a DELETE answers.

use serde_json::{Value, json};

use super::registry::ResourceInfo;
use super::selector::FieldSelector;
use super::status::{ApiError, Cause};

/// `resourceVersionMatch` needs a `resourceVersion` (422, as a real server answers).
pub(crate) fn check_list_options(
    resource_version: Option<&str>,
    resource_version_match: Option<&str>,
) -> Result<(), ApiError> {
    if resource_version_match.is_some_and(|m| !m.is_empty())
        && resource_version.is_none_or(str::is_empty)
    {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            vec![Cause::new(
                "FieldValueForbidden",
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            )],
        ));
    }
    Ok(())
}

/// The field selectors a real API server accepts for the kinds where the simulator knows
/// them all (every kind has `metadata.name` and `metadata.namespace`); others pass.
pub(crate) fn check_field_selector(
    res: &ResourceInfo,
    fields: &FieldSelector,
) -> Result<(), ApiError> {
    let extra: &[&str] = match (res.group.as_str(), res.plural.as_str()) {
        ("", "configmaps" | "serviceaccounts" | "endpoints") | ("apps", "deployments") => &[],
        ("", "secrets") => &["type"],
        ("", "namespaces") => &["status.phase"],
        ("", "services") => &["spec.clusterIP", "spec.type"],
        ("apps", "replicasets") => &["status.replicas"],
        _ if res.crd_name.is_some() => &[],
        _ => return Ok(()),
    };
    let known: Vec<&str> = ["metadata.name", "metadata.namespace"]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    match fields
        .fields()
        .into_iter()
        .find(|f| !known.contains(&f.as_str()))
    {
        None => Ok(()),
        Some(f) => Err(ApiError::bad_request(format!(
            "{f:?} is not a known field selector: only {}",
            known
                .iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The answer to a DELETE, as a real API server gives it (always 200, short of the legacy
/// `orphanDependents: false`): the object when its deletion is pending (finalizers, a
/// namespace terminating, a CRD whose custom resources go first) or when its kind returns
/// deleted objects (pods, services); otherwise a `Success` Status naming it.
pub(crate) fn deleted_answer(res: &ResourceInfo, obj: Value, gone: bool) -> Value {
    let core = res.group.is_empty();
    if res.group.is_empty() && res.kind == "Namespace" {
        let mut obj = obj;
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.entry("deletionTimestamp")
                .or_insert_with(|| json!(super::core::now()));
        }
        obj["status"] = json!({"phase": "Terminating"});
        return obj;
    }
    if res.group == "apiextensions.k8s.io" && res.kind == "CustomResourceDefinition" {
        // A real server holds the CRD with this finalizer while it removes the custom
        // resources; the simulator removes them at once, and answers as a real one does.
        let mut obj = obj;
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.entry("deletionTimestamp")
                .or_insert_with(|| json!(super::core::now()));
            m.insert(
                "finalizers".into(),
                json!(["customresourcecleanup.apiextensions.k8s.io"]),
            );
        }
        return obj;
    }
    let returns_object = core && matches!(res.kind.as_str(), "Pod" | "Service");
    if !gone || returns_object {
        return obj;
    }
    let mut details = json!({"name": obj["metadata"]["name"], "kind": res.plural,
        "uid": obj["metadata"]["uid"]});
    if !core {
        details["group"] = json!(res.group);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": details})
}
