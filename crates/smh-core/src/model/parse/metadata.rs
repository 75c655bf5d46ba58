//! Strict `metadata` checks, as the API server applies them to custom resources.

use super::*;
use crate::model::yaml_reader::Key;

const OBJECT_META_FIELDS: &[&str] = &[
    "annotations",
    "creationTimestamp",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "finalizers",
    "generateName",
    "generation",
    "labels",
    "managedFields",
    "name",
    "namespace",
    "ownerReferences",
    "resourceVersion",
    "selfLink",
    "uid",
];
const OWNER_REFERENCE_FIELDS: &[&str] = &[
    "apiVersion",
    "blockOwnerDeletion",
    "controller",
    "kind",
    "name",
    "uid",
];
const MANAGED_FIELDS_ENTRY_FIELDS: &[&str] = &[
    "apiVersion",
    "fieldsType",
    "fieldsV1",
    "manager",
    "operation",
    "subresource",
    "time",
];

/// Strict metadata checks, as the API server applies them to custom resources: unknown
/// fields, a name (DNS-1123 subdomain), a namespace (DNS-1123 label), label and annotation
/// keys and values.
pub(super) fn check_metadata(
    source: &Source,
    node: &Node,
    object: Option<&ObjectId>,
    out: &mut Loaded,
) {
    let push = |out: &mut Loaded, field: String, pos: (usize, usize), message: String| {
        out.diagnostics
            .push(source_diag(source, object, Some(field), Some(pos), message));
    };
    let Some(meta) = node.get("metadata") else {
        push(
            out,
            "metadata.name".to_string(),
            (node.line, node.col),
            "Required value: name is required".to_string(),
        );
        return;
    };
    let Value::Map(entries) = &meta.value else {
        // Wrong type: reported by typed decoding.
        return;
    };
    let mut problems: Vec<MetaProblem> = Vec::new();
    unknown_fields(entries, &mut problems);
    name_and_namespace(meta, &mut problems);
    labels_and_annotations(meta, &mut problems);
    for (field, pos, message) in problems {
        push(out, field, pos, message);
    }
}

/// A metadata problem: field path, position (line, column), message.
type MetaProblem = (String, (usize, usize), String);

/// Fields `metadata` (and its `ownerReferences` and `managedFields` entries) does not have.
fn unknown_fields(entries: &[(Key, Node)], problems: &mut Vec<MetaProblem>) {
    for (key, value) in entries {
        if !OBJECT_META_FIELDS.contains(&key.name.as_str()) {
            problems.push((
                format!("metadata.{}", key.name),
                (key.line, key.col),
                format!("unknown field \"{}\"", key.name),
            ));
        }
        let nested: Option<(&str, &[&str])> = match key.name.as_str() {
            "ownerReferences" => Some(("ownerReferences", OWNER_REFERENCE_FIELDS)),
            "managedFields" => Some(("managedFields", MANAGED_FIELDS_ENTRY_FIELDS)),
            _ => None,
        };
        if let (Some((field, allowed)), Value::Seq(items)) = (nested, &value.value) {
            for (i, item) in items.iter().enumerate() {
                if let Value::Map(item_entries) = &item.value {
                    for (k, _) in item_entries {
                        if !allowed.contains(&k.name.as_str()) {
                            problems.push((
                                format!("metadata.{field}[{i}].{}", k.name),
                                (k.line, k.col),
                                format!("unknown field \"{}\"", k.name),
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// `metadata.name` is set and a DNS-1123 subdomain; `metadata.namespace`, when set, a
/// DNS-1123 label.
fn name_and_namespace(meta: &Node, problems: &mut Vec<MetaProblem>) {
    match meta.get("name") {
        None
        | Some(Node {
            value: Value::Null, ..
        }) => {
            let message = if meta.get("generateName").is_some() {
                "Required value: name is required (generateName cannot be used with apply)"
            } else {
                "Required value: name is required"
            };
            problems.push((
                "metadata.name".to_string(),
                (meta.line, meta.col),
                message.to_string(),
            ));
        }
        Some(Node {
            value: Value::String(name),
            line,
            col,
        }) => {
            if name.is_empty() {
                problems.push((
                    "metadata.name".to_string(),
                    (*line, *col),
                    "Required value: name is required".to_string(),
                ));
            } else {
                let errs = k8s::is_dns1123_subdomain(name);
                if !errs.is_empty() {
                    problems.push((
                        "metadata.name".to_string(),
                        (*line, *col),
                        format!("Invalid value: {name:?}: {}", errs.join(", ")),
                    ));
                }
            }
        }
        Some(_) => {} // wrong type: reported by typed decoding
    }
    if let Some(Node {
        value: Value::String(ns),
        line,
        col,
    }) = meta.get("namespace")
    {
        let errs = k8s::is_dns1123_label(ns);
        if !errs.is_empty() {
            problems.push((
                "metadata.namespace".to_string(),
                (*line, *col),
                format!("Invalid value: {ns:?}: {}", errs.join(", ")),
            ));
        }
    }
}

/// Label and annotation keys are qualified names; label values are valid label values.
fn labels_and_annotations(meta: &Node, problems: &mut Vec<MetaProblem>) {
    for field in ["labels", "annotations"] {
        let Some(Node {
            value: Value::Map(kv),
            ..
        }) = meta.get(field)
        else {
            continue;
        };
        for (k, v) in kv {
            let errs = k8s::is_qualified_name(&k.name);
            if !errs.is_empty() {
                problems.push((
                    format!("metadata.{field}"),
                    (k.line, k.col),
                    format!("Invalid value: {:?}: {}", k.name, errs.join(", ")),
                ));
            }
            if field == "labels"
                && let Value::String(value) = &v.value
            {
                let errs = k8s::is_valid_label_value(value);
                if !errs.is_empty() {
                    problems.push((
                        format!("metadata.labels.{}", k.name),
                        (v.line, v.col),
                        format!("Invalid value: {value:?}: {}", errs.join(", ")),
                    ));
                }
            }
        }
    }
}
