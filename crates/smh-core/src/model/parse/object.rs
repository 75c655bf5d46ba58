//! One object: `apiVersion` and `kind` (with hints for other SMH and Gloo Mesh versions),
//! then metadata checks and typed decoding.

use super::*;

/// Kinds of Service Mesh Hub that kubectl-smh does not read, with what to do instead.
fn other_smh_kind_hint(kind: &str) -> Option<&'static str> {
    match kind {
        "VirtualMesh" => Some(
            "VirtualMesh is a Service Mesh Hub kind that kubectl-smh does not read; describe mesh groupings in the topology file (virtualMeshes)",
        ),
        "AccessPolicy" => {
            Some("AccessPolicy is a Service Mesh Hub kind that kubectl-smh does not read")
        }
        "TrafficTarget" | "Workload" | "Mesh" => Some(
            "discovery objects (TrafficTarget, Workload, Mesh) are not input; kubectl-smh discovers them (offline: from the topology)",
        ),
        _ => None,
    }
}

/// Read one object; true when it was accepted into `out.manifests`.
pub(super) fn process_object(
    source: &Source,
    node: &Node,
    default_namespace: &str,
    out: &mut Loaded,
) -> bool {
    let before = out.diagnostics.len();
    let api_version = string_field(source, node, "apiVersion", out);
    let kind = string_field(source, node, "kind", out);
    let meta = node.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Node::as_str);
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str)
        .unwrap_or(default_namespace);
    let object = kind.as_ref().map(|k| ObjectId {
        kind: k.clone(),
        namespace: namespace.to_string(),
        name: name.unwrap_or_default().to_string(),
    });
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return false;
    };
    let known_kind = kind == FailoverService::KIND || kind == TrafficPolicy::KIND;
    let problem = if api_version != SMH_API_VERSION {
        Some((
            "apiVersion",
            api_version_message(&api_version, &kind, known_kind),
        ))
    } else if !known_kind {
        Some(("kind", kind_message(&kind)))
    } else {
        None
    };
    if let Some((field, message)) = problem {
        out.diagnostics.push(source_diag(
            source,
            object.as_ref(),
            Some(field.to_string()),
            node.get(field).map(|n| (n.line, n.col)),
            message,
        ));
    }
    if !known_kind {
        return false;
    }
    check_metadata(source, node, object.as_ref(), out);

    decode_object(source, node, &kind, object, before, default_namespace, out)
}

/// Decode a FailoverService or TrafficPolicy (`kind`) and accept it into `out.manifests`
/// when neither decoding nor the checks before it (diagnostics after index `before`) found a
/// problem; otherwise record it as rejected. True when accepted.
fn decode_object(
    source: &Source,
    node: &Node,
    kind: &str,
    object: Option<ObjectId>,
    before: usize,
    default_namespace: &str,
    out: &mut Loaded,
) -> bool {
    let decoded = if kind == FailoverService::KIND {
        decode_all::<FailoverService>(node).map(SmhObject::FailoverService)
    } else {
        decode_all::<TrafficPolicy>(node).map(SmhObject::TrafficPolicy)
    };
    match decoded {
        Ok(mut obj) => {
            if out.diagnostics.len() > before {
                if let Some(o) = object {
                    out.rejected.push(o);
                }
                return false;
            }
            let meta = match &mut obj {
                SmhObject::FailoverService(fs) => &mut fs.metadata,
                SmhObject::TrafficPolicy(tp) => &mut tp.metadata,
            };
            if meta.namespace.is_none() {
                meta.namespace = Some(default_namespace.to_string());
            }
            out.manifests.push(Manifest {
                source: source.clone(),
                object: obj,
            });
            true
        }
        Err(errors) => {
            for e in errors {
                out.diagnostics.push(source_diag(
                    source,
                    object.as_ref(),
                    Some(e.field),
                    e.position,
                    e.message,
                ));
            }
            if let Some(o) = object {
                out.rejected.push(o);
            }
            false
        }
    }
}

/// The message for an `apiVersion` other than SMH's v1alpha2, with a hint for SMH's older
/// API and for Gloo Mesh's.
fn api_version_message(api_version: &str, kind: &str, known_kind: bool) -> String {
    if api_version == format!("{SMH_GROUP}/v1alpha1") {
        format!(
            "unsupported apiVersion \"{api_version}\": kubectl-smh reads {SMH_API_VERSION} only; v1alpha1 is Service Mesh Hub's API before v0.7, with other field names (for example failoverServices and port.port)"
        )
    } else if let Some(version) = api_version.strip_prefix("networking.mesh.gloo.solo.io/") {
        format!(
            "unsupported apiVersion \"{api_version}\": networking.mesh.gloo.solo.io is Gloo Mesh's API group (Service Mesh Hub v0.10 and later), which kubectl-smh does not read; {}",
            if version == "v1alpha2" {
                format!(
                    "the v1alpha2 schema is the same, so change apiVersion to {SMH_API_VERSION}"
                )
            } else {
                format!("write the object as {SMH_API_VERSION}")
            }
        )
    } else if known_kind {
        format!(
            "unsupported apiVersion \"{api_version}\" for kind {kind}: expected {SMH_API_VERSION}"
        )
    } else {
        format!(
            "unsupported apiVersion \"{api_version}\" and kind \"{kind}\": kubectl-smh reads {SMH_API_VERSION} FailoverService and TrafficPolicy objects only"
        )
    }
}

/// The message for a `kind` kubectl-smh does not read, with a hint for other SMH kinds and
/// for a wrong case.
fn kind_message(kind: &str) -> String {
    if let Some(hint) = other_smh_kind_hint(kind) {
        format!("unsupported kind \"{kind}\": {hint}")
    } else if kind.eq_ignore_ascii_case(FailoverService::KIND) {
        format!(
            "unknown kind \"{kind}\": did you mean {}? (kinds are case-sensitive)",
            FailoverService::KIND
        )
    } else if kind.eq_ignore_ascii_case(TrafficPolicy::KIND) {
        format!(
            "unknown kind \"{kind}\": did you mean {}? (kinds are case-sensitive)",
            TrafficPolicy::KIND
        )
    } else {
        format!(
            "unknown kind \"{kind}\": expected FailoverService or TrafficPolicy ({SMH_API_VERSION})"
        )
    }
}

/// Read a required top-level string field (`apiVersion`, `kind`), reporting its absence or
/// wrong type.
fn string_field(source: &Source, node: &Node, key: &str, out: &mut Loaded) -> Option<String> {
    match node.get(key) {
        None
        | Some(Node {
            value: Value::Null, ..
        }) => {
            out.diagnostics.push(source_diag(
                source,
                None,
                Some(key.to_string()),
                Some((node.line, node.col)),
                format!("Required value: {key} is not set"),
            ));
            None
        }
        Some(Node {
            value: Value::String(s),
            ..
        }) if !s.is_empty() => Some(s.clone()),
        Some(Node {
            value: Value::String(_),
            line,
            col,
        }) => {
            out.diagnostics.push(source_diag(
                source,
                None,
                Some(key.to_string()),
                Some((*line, *col)),
                format!("Required value: {key} is empty"),
            ));
            None
        }
        Some(n) => {
            out.diagnostics.push(source_diag(
                source,
                None,
                Some(key.to_string()),
                Some((n.line, n.col)),
                format!("invalid type: {}, expected a string", n.value.type_name()),
            ));
            None
        }
    }
}
