//! Reading manifests: files, directories and stdin, each a stream of YAML (or JSON)
//! documents, into typed [`Manifest`]s, with every problem of every document reported as a
//! [`Diagnostic`] naming the file, the document, the object and the field.
//!
//! What is checked here is what `kubectl apply` (with strict field validation) and the API
//! server would reject before Service Mesh Hub's controller ever saw the object:
//! YAML syntax, types, unknown fields (also in `metadata`), `apiVersion`/`kind`, and the
//! object's name and namespace. SMH's own rules are in [`super::validate`].
//!
//! Namespace default: an object without `metadata.namespace` is placed in the namespace
//! given to [`load_paths_with`]/[`parse_str_with`] (the CLI passes `-n/--namespace`, whose
//! default is `service-mesh-hub`), as kubectl does with `-n`. [`load_paths`] and
//! [`parse_str`] use `service-mesh-hub`.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::diag::{Diagnostic, ObjectId, Severity, Source};
use super::k8s;
use super::yaml_reader::{self, Node, PathSeg, Value};
use super::{FailoverService, Manifest, SmhObject, TrafficPolicy};
use crate::consts::{SMH_API_VERSION, SMH_GROUP, SMH_NAMESPACE};

/// What was read: the valid objects, and every problem found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub manifests: Vec<Manifest>,
    pub diagnostics: Vec<Diagnostic>,
    /// Labels of the inputs read (file paths, `-` for stdin), in order.
    pub inputs: Vec<String>,
    /// Objects that were recognised (kind, namespace, name) but rejected for schema errors.
    /// Validation uses this so that a reference to such an object is not also reported as
    /// a reference to a missing object.
    pub rejected: Vec<ObjectId>,
    /// The parsed tree of every accepted object, to locate fields named by later
    /// diagnostics (see [`Loaded::fill_positions`]).
    nodes: std::collections::BTreeMap<Source, Node>,
}

impl Loaded {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    fn extend(&mut self, other: Loaded) {
        self.manifests.extend(other.manifests);
        self.diagnostics.extend(other.diagnostics);
        self.inputs.extend(other.inputs);
        self.rejected.extend(other.rejected);
        self.nodes.extend(other.nodes);
    }

    /// Line and column of `field` (a path like `spec.backingServices[1].kubeService`) in the
    /// object read from `source`; the deepest existing part of the path when the field
    /// itself is absent.
    pub fn locate(&self, source: &Source, field: &str) -> Option<(usize, usize)> {
        let node = self.nodes.get(source)?;
        Some(node.locate(&yaml_reader::parse_path(field), false))
    }

    /// Fill in the position of diagnostics that name a source and a field but no position
    /// (validation works on typed objects, which carry no positions).
    pub fn fill_positions(&self, diagnostics: &mut [Diagnostic]) {
        for d in diagnostics.iter_mut().filter(|d| d.position.is_none()) {
            if let (Some(source), Some(field)) = (&d.source, &d.field) {
                d.position = self.locate(source, field);
            }
        }
    }
}

/// The label used for stdin in diagnostics.
pub const STDIN_LABEL: &str = "-";

/// Read every path (file, directory, or `-` for stdin), with the default namespace
/// `service-mesh-hub`. See [`load_paths_with`].
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    load_paths_with(paths, SMH_NAMESPACE)
}

/// Read every path: a file; a directory (its `*.yaml`, `*.yml` and `*.json` files, sorted
/// by name, not recursing, as kubectl without `-R`); or `-` for stdin (read once; a repeated
/// `-` is reported and skipped). Every problem of every input is reported; nothing stops
/// at the first error.
pub fn load_paths_with(paths: &[PathBuf], default_namespace: &str) -> Loaded {
    let mut out = Loaded::default();
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == STDIN_LABEL {
            if stdin_read {
                out.diagnostics.push(file_diag(
                    Severity::Warning,
                    STDIN_LABEL,
                    "stdin (-) is given more than once; it is read once",
                ));
                continue;
            }
            stdin_read = true;
            let mut bytes = Vec::new();
            let limit = yaml_reader::MAX_INPUT_BYTES as u64 + 1;
            match std::io::stdin().lock().take(limit).read_to_end(&mut bytes) {
                Ok(_) => out.extend(parse_bytes_with(STDIN_LABEL, &bytes, default_namespace)),
                Err(e) => out.diagnostics.push(file_diag(
                    Severity::Error,
                    STDIN_LABEL,
                    &format!("cannot read stdin: {e}"),
                )),
            }
            continue;
        }
        let label = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.diagnostics.push(file_diag(
                    Severity::Error,
                    &label,
                    &format!("the path \"{label}\" does not exist"),
                ));
            }
            Err(e) => out.diagnostics.push(file_diag(
                Severity::Error,
                &label,
                &format!("cannot read \"{label}\": {e}"),
            )),
            Ok(meta) if meta.is_dir() => out.extend(load_dir(path, &label, default_namespace)),
            Ok(_) => out.extend(load_file(path, &label, default_namespace)),
        }
    }
    out
}

fn load_dir(dir: &Path, label: &str, default_namespace: &str) -> Loaded {
    let mut out = Loaded::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            out.diagnostics.push(file_diag(
                Severity::Error,
                label,
                &format!("cannot read directory \"{label}\": {e}"),
            ));
            return out;
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        out.diagnostics.push(file_diag(
            Severity::Error,
            label,
            &format!("no .yaml, .yml or .json files in directory \"{label}\""),
        ));
    }
    for file in files {
        let file_label = file.display().to_string();
        out.extend(load_file(&file, &file_label, default_namespace));
    }
    out
}

fn load_file(path: &Path, label: &str, default_namespace: &str) -> Loaded {
    let mut bytes = Vec::new();
    let limit = yaml_reader::MAX_INPUT_BYTES as u64 + 1;
    let read = std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes));
    match read {
        Ok(_) => parse_bytes_with(label, &bytes, default_namespace),
        Err(e) => Loaded {
            diagnostics: vec![file_diag(
                Severity::Error,
                label,
                &format!("cannot read \"{label}\": {e}"),
            )],
            inputs: vec![label.to_string()],
            ..Loaded::default()
        },
    }
}

/// Parse in-memory text (one input holding any number of documents), with the default
/// namespace `service-mesh-hub`.
pub fn parse_str(file_label: &str, text: &str) -> Loaded {
    parse_str_with(file_label, text, SMH_NAMESPACE)
}

/// Parse in-memory text with the given default namespace.
pub fn parse_str_with(file_label: &str, text: &str, default_namespace: &str) -> Loaded {
    parse_bytes_with(file_label, text.as_bytes(), default_namespace)
}

/// Parse raw bytes (checked to be UTF-8 text first).
pub fn parse_bytes_with(file_label: &str, bytes: &[u8], default_namespace: &str) -> Loaded {
    let mut out = Loaded {
        inputs: vec![file_label.to_string()],
        ..Loaded::default()
    };
    if bytes.len() > yaml_reader::MAX_INPUT_BYTES {
        out.diagnostics.push(file_diag(
            Severity::Error,
            file_label,
            &format!(
                "input is larger than {} MiB; refusing to read it",
                yaml_reader::MAX_INPUT_BYTES / (1024 * 1024)
            ),
        ));
        return out;
    }
    let text = match yaml_reader::decode_text(bytes) {
        Ok(t) => t,
        Err(e) => {
            let mut d = file_diag(Severity::Error, file_label, &e.describe());
            d.position = e.position;
            out.diagnostics.push(d);
            return out;
        }
    };
    let mut objects = 0usize;
    for (index, doc) in yaml_reader::split_documents(text).iter().enumerate() {
        let source = Source {
            file: file_label.to_string(),
            doc: index,
            line: Some(doc.start_line),
        };
        if doc.text.len() > yaml_reader::MAX_LIST_DOCUMENT_BYTES {
            out.diagnostics.push(source_diag(
                &source,
                None,
                None,
                None,
                format!(
                    "document is {} bytes, larger than {} MiB; refusing to read it",
                    doc.text.len(),
                    yaml_reader::MAX_LIST_DOCUMENT_BYTES / (1024 * 1024)
                ),
            ));
            continue;
        }
        match yaml_reader::parse_document(doc) {
            Err(e) => {
                out.diagnostics
                    .push(source_diag(&source, None, None, e.position, e.describe()))
            }
            Ok(None) => {}
            Ok(Some(node)) => {
                objects += 1;
                let size = doc.text.len();
                process_document(&source, node, size, default_namespace, &mut out);
            }
        }
    }
    if objects == 0 && !out.has_errors() {
        out.diagnostics.push(file_diag(
            Severity::Error,
            file_label,
            "no objects found (the input is empty or holds only comments)",
        ));
    }
    out
}

fn file_diag(severity: Severity, file: &str, message: &str) -> Diagnostic {
    Diagnostic {
        severity,
        source: Some(Source {
            file: file.to_string(),
            doc: 0,
            line: None,
        }),
        object: None,
        field: None,
        position: None,
        message: message.to_string(),
        status_target: None,
    }
}

fn source_diag(
    source: &Source,
    object: Option<&ObjectId>,
    field: Option<String>,
    position: Option<(usize, usize)>,
    message: String,
) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        source: Some(source.clone()),
        object: object.cloned(),
        field,
        position,
        message,
        status_target: None,
    }
}

/// Kinds a `kind: List`-like document may be.
fn is_list_kind(kind: &str) -> bool {
    kind == "List" || kind == "FailoverServiceList" || kind == "TrafficPolicyList"
}

fn process_document(
    source: &Source,
    node: Node,
    size: usize,
    default_namespace: &str,
    out: &mut Loaded,
) {
    let Value::Map(_) = node.value else {
        out.diagnostics.push(source_diag(
            source,
            None,
            None,
            Some((node.line, node.col)),
            format!(
                "expected a Kubernetes object (a mapping with apiVersion, kind, metadata and spec), found a {}",
                node.value.type_name()
            ),
        ));
        return;
    };
    if let Some(kind) = node.get("kind").and_then(Node::as_str)
        && is_list_kind(kind)
    {
        let kind = kind.to_string();
        process_list(source, node, &kind, default_namespace, out);
        return;
    }
    if size > yaml_reader::MAX_DOCUMENT_BYTES {
        out.diagnostics.push(source_diag(
            source,
            None,
            None,
            Some((node.line, node.col)),
            format!(
                "object is {size} bytes; the Kubernetes API server accepts at most {} MiB per object",
                yaml_reader::MAX_DOCUMENT_BYTES / (1024 * 1024)
            ),
        ));
        return;
    }
    if process_object(source, &node, default_namespace, out) {
        out.nodes.insert(source.clone(), node);
    }
}

fn process_list(
    source: &Source,
    node: Node,
    kind: &str,
    default_namespace: &str,
    out: &mut Loaded,
) {
    let mut ok = true;
    if let Value::Map(entries) = &node.value {
        for (key, _) in entries {
            if !matches!(
                key.name.as_str(),
                "apiVersion" | "kind" | "metadata" | "items"
            ) {
                out.diagnostics.push(source_diag(
                    source,
                    None,
                    Some(key.name.clone()),
                    Some((key.line, key.col)),
                    format!("unknown field \"{}\" in a {kind}", key.name),
                ));
                ok = false;
            }
        }
    }
    let (line, col) = (node.line, node.col);
    let items_node = match node.value {
        Value::Map(entries) => entries
            .into_iter()
            .find(|(k, _)| k.name == "items")
            .map(|(_, v)| v),
        _ => None,
    };
    let items = match items_node {
        Some(Node {
            value: Value::Seq(items),
            ..
        }) => items,
        None => Vec::new(),
        Some(other) => {
            out.diagnostics.push(source_diag(
                source,
                None,
                Some("items".to_string()),
                Some((other.line, other.col)),
                format!(
                    "invalid type: {}, expected a sequence",
                    other.value.type_name()
                ),
            ));
            return;
        }
    };
    if items.is_empty() && ok {
        out.diagnostics.push(source_diag(
            source,
            None,
            None,
            Some((line, col)),
            format!("the {kind} has no items"),
        ));
    }
    for (i, item) in items.into_iter().enumerate() {
        let item_source = Source {
            file: source.file.clone(),
            doc: source.doc,
            line: Some(item.line),
        };
        if let Some(inner) = item.get("kind").and_then(Node::as_str)
            && is_list_kind(inner)
        {
            out.diagnostics.push(source_diag(
                &item_source,
                None,
                Some(format!("items[{i}].kind")),
                Some((item.line, item.col)),
                format!("a {inner} inside a {kind} is not supported"),
            ));
            continue;
        }
        if !matches!(item.value, Value::Map(_)) {
            out.diagnostics.push(source_diag(
                &item_source,
                None,
                Some(format!("items[{i}]")),
                Some((item.line, item.col)),
                format!(
                    "expected a Kubernetes object (a mapping with apiVersion, kind, metadata and spec), found a {}",
                    item.value.type_name()
                ),
            ));
            continue;
        }
        if process_object(&item_source, &item, default_namespace, out) {
            out.nodes.insert(item_source, item);
        }
    }
}

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
fn process_object(source: &Source, node: &Node, default_namespace: &str, out: &mut Loaded) -> bool {
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
    let pos_of = |key: &str| node.get(key).map(|n| (n.line, n.col));
    if api_version != SMH_API_VERSION {
        let message = if api_version == format!("{SMH_GROUP}/v1alpha1") {
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
        };
        out.diagnostics.push(source_diag(
            source,
            object.as_ref(),
            Some("apiVersion".to_string()),
            pos_of("apiVersion"),
            message,
        ));
    } else if !known_kind {
        let message = if let Some(hint) = other_smh_kind_hint(&kind) {
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
        };
        out.diagnostics.push(source_diag(
            source,
            object.as_ref(),
            Some("kind".to_string()),
            pos_of("kind"),
            message,
        ));
    }
    if !known_kind {
        return false;
    }
    check_metadata(source, node, object.as_ref(), out);

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
fn check_metadata(source: &Source, node: &Node, object: Option<&ObjectId>, out: &mut Loaded) {
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
    for (key, value) in entries {
        if !OBJECT_META_FIELDS.contains(&key.name.as_str()) {
            push(
                out,
                format!("metadata.{}", key.name),
                (key.line, key.col),
                format!("unknown field \"{}\"", key.name),
            );
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
                            push(
                                out,
                                format!("metadata.{field}[{i}].{}", k.name),
                                (k.line, k.col),
                                format!("unknown field \"{}\"", k.name),
                            );
                        }
                    }
                }
            }
        }
    }
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
            push(
                out,
                "metadata.name".to_string(),
                (meta.line, meta.col),
                message.to_string(),
            );
        }
        Some(Node {
            value: Value::String(name),
            line,
            col,
        }) => {
            if name.is_empty() {
                push(
                    out,
                    "metadata.name".to_string(),
                    (*line, *col),
                    "Required value: name is required".to_string(),
                );
            } else {
                let errs = k8s::is_dns1123_subdomain(name);
                if !errs.is_empty() {
                    push(
                        out,
                        "metadata.name".to_string(),
                        (*line, *col),
                        format!("Invalid value: {name:?}: {}", errs.join(", ")),
                    );
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
            push(
                out,
                "metadata.namespace".to_string(),
                (*line, *col),
                format!("Invalid value: {ns:?}: {}", errs.join(", ")),
            );
        }
    }
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
                push(
                    out,
                    format!("metadata.{field}"),
                    (k.line, k.col),
                    format!("Invalid value: {:?}: {}", k.name, errs.join(", ")),
                );
            }
            if field == "labels"
                && let Value::String(value) = &v.value
            {
                let errs = k8s::is_valid_label_value(value);
                if !errs.is_empty() {
                    push(
                        out,
                        format!("metadata.labels.{}", k.name),
                        (v.line, v.col),
                        format!("Invalid value: {value:?}: {}", errs.join(", ")),
                    );
                }
            }
        }
    }
}

/// A schema problem found by typed decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub field: String,
    pub position: Option<(usize, usize)>,
    pub message: String,
}

/// Maximum schema errors collected per document.
const MAX_FIELD_ERRORS: usize = 50;

/// Decode `node` into `T`, collecting every type error and unknown field with its path and
/// position: after each error the offending field is removed and decoding is retried (serde
/// stops at the first error), so one run reports all of them.
pub(crate) fn decode_all<T: DeserializeOwned>(node: &Node) -> Result<T, Vec<FieldError>> {
    // Fast path: most input is valid; decode straight from the tree.
    if let Ok(value) = T::deserialize(node) {
        return Ok(value);
    }
    let mut json = node.to_json();
    let mut errors: Vec<FieldError> = Vec::new();
    loop {
        match serde_path_to_error::deserialize::<_, T>(&json) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(sorted(errors)),
            Err(err) => {
                let path: Vec<PathSeg> = err
                    .path()
                    .iter()
                    .filter_map(|seg| match seg {
                        serde_path_to_error::Segment::Map { key } => {
                            Some(PathSeg::Key(key.clone()))
                        }
                        serde_path_to_error::Segment::Seq { index } => Some(PathSeg::Index(*index)),
                        _ => None,
                    })
                    .collect();
                let raw = err.inner().to_string();
                // A null for a known field means "not set", as the API server prunes
                // nulls of custom resources (`kubectl get -o yaml` writes
                // `creationTimestamp: null`): drop it and go on, silently.
                if raw.starts_with("invalid type: null") && remove_at(&mut json, &path) {
                    continue;
                }
                let unknown = raw.starts_with("unknown field");
                let position = Some(node.locate(&path, unknown));
                errors.push(FieldError {
                    field: yaml_reader::path_to_string(&path),
                    position,
                    message: humanize_serde_message(&raw),
                });
                if errors.len() >= MAX_FIELD_ERRORS || !remove_at(&mut json, &path) {
                    return Err(sorted(errors));
                }
            }
        }
    }
}

/// In document order (serde visits JSON keys alphabetically).
fn sorted(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    errors.sort_by_key(|e| e.position);
    errors
}

/// Remove the mapping entry at `path` so decoding can continue past it. Elements of
/// sequences are not removed (that would shift the indexes of later errors).
fn remove_at(json: &mut serde_json::Value, path: &[PathSeg]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = json;
    for seg in parents {
        cur = match (seg, cur) {
            (PathSeg::Key(k), serde_json::Value::Object(m)) => match m.get_mut(k) {
                Some(v) => v,
                None => return false,
            },
            (PathSeg::Index(i), serde_json::Value::Array(a)) => match a.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, cur) {
        (PathSeg::Key(k), serde_json::Value::Object(m)) => m.remove(k).is_some(),
        _ => false,
    }
}

/// Make serde's messages read like the rest: quotes instead of backticks, YAML type names.
pub(crate) fn humanize_serde_message(msg: &str) -> String {
    // Numbers and booleans are shown bare, strings quoted.
    let mut bare = msg.to_string();
    for kind in ["integer `", "boolean `", "floating point `"] {
        if let Some(start) = bare.find(kind) {
            let open = start + kind.len() - 1;
            if let Some(len) = bare[open + 1..].find('`') {
                bare.replace_range(open + 1 + len..open + 2 + len, "");
                bare.replace_range(open..open + 1, "");
            }
        }
    }
    let mut m = bare.replace('`', "\"");
    for (from, to) in [
        (
            "expected u32",
            "expected a non-negative integer (up to 4294967295)",
        ),
        ("expected u64", "expected a non-negative integer"),
        ("expected i32", "expected an integer (32-bit)"),
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected a map", "expected a mapping"),
        ("invalid type: map", "invalid type: mapping"),
        ("floating point", "number"),
    ] {
        m = m.replace(from, to);
    }
    if let Some(idx) = m.find("expected struct ") {
        m.truncate(idx);
        m.push_str("expected a mapping");
    }
    if m.starts_with("invalid type: boolean") && m.ends_with("expected a string") {
        m.push_str(
            " (unquoted yes, no, on, off, y and n are booleans in YAML 1.1, as kubectl reads it; quote the value)",
        );
    }
    m
}

#[cfg(test)]
pub(crate) mod tests_support {
    pub(crate) const GUIDE_FS: &str =
        include_str!("../../../../examples/guide/2-failover-service.yaml");
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: &str = "apiVersion: networking.smh.solo.io/v1alpha2
kind: FailoverService
metadata:
  name: reviews-failover
  namespace: service-mesh-hub
spec:
  hostname: reviews-failover.bookinfo.global
  port:
    number: 9080
    protocol: http
  meshes:
  - name: istiod-istio-system-mgmt-cluster
    namespace: service-mesh-hub
  backingServices:
  - kubeService:
      name: reviews
      namespace: bookinfo
      clusterName: mgmt-cluster
";

    fn errors(l: &Loaded) -> Vec<(Option<String>, String)> {
        l.diagnostics
            .iter()
            .map(|d| (d.field.clone(), d.message.clone()))
            .collect()
    }

    #[test]
    fn parses_a_failover_service() {
        let l = parse_str("fs.yaml", FS);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        assert_eq!(l.manifests.len(), 1);
        assert_eq!(l.inputs, vec!["fs.yaml"]);
        let SmhObject::FailoverService(fs) = &l.manifests[0].object else {
            panic!("not an FS");
        };
        assert_eq!(fs.spec.port.as_ref().map(|p| p.number), Some(9080));
        assert_eq!(l.manifests[0].source.line, Some(1));
    }

    #[test]
    fn unknown_fields_name_the_full_path_and_all_are_reported() {
        let text = FS.replace("    number: 9080", "    nmber: 9080").replace(
            "      clusterName: mgmt-cluster",
            "      clustername: mgmt-cluster",
        );
        let l = parse_str("fs.yaml", &text);
        assert!(l.manifests.is_empty());
        let e = errors(&l);
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].0.as_deref(), Some("spec.port.nmber"));
        assert!(e[0].1.starts_with("unknown field \"nmber\""), "{}", e[0].1);
        assert_eq!(l.diagnostics[0].position, Some((9, 5)));
        assert_eq!(
            e[1].0.as_deref(),
            Some("spec.backingServices[0].kubeService.clustername")
        );
        let obj = l.diagnostics[0].object.as_ref().expect("object");
        assert_eq!(
            (obj.kind.as_str(), obj.namespace.as_str(), obj.name.as_str()),
            ("FailoverService", "service-mesh-hub", "reviews-failover")
        );
        assert_eq!(l.rejected.len(), 1);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let l = parse_str("fs.yaml", &FS.replace("number: 9080", "number: eighty"));
        let e = errors(&l);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0.as_deref(), Some("spec.port.number"));
        assert!(
            e[0].1.contains("invalid type: string \"eighty\""),
            "{}",
            e[0].1
        );
        assert_eq!(l.diagnostics[0].position, Some((9, 13)));
    }

    #[test]
    fn several_documents_and_all_problems() {
        let text = format!(
            "{FS}---\n{}---\n# comment only\n---\n{}",
            FS.replace("reviews-failover\n  namespace", "second\n  namespace"),
            FS.replace("FailoverService", "FailoverSvc")
        );
        let l = parse_str("all.yaml", &text);
        assert_eq!(l.manifests.len(), 2);
        assert_eq!(l.manifests[1].source.doc, 1);
        let e = errors(&l);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0.as_deref(), Some("kind"));
        assert_eq!(l.diagnostics[0].source.as_ref().map(|s| s.doc), Some(3));
    }

    #[test]
    fn syntax_error_in_one_document_does_not_hide_others() {
        let text = format!(
            "a: [1, 2\n---\n{}",
            FS.replace("nmber", "number").replace("9080", "\"x\"")
        );
        let l = parse_str("x.yaml", &text);
        assert_eq!(l.diagnostics.len(), 2, "{:?}", l.diagnostics);
        assert!(l.diagnostics[0].message.starts_with("YAML syntax error"));
        assert!(l.diagnostics[0].position.is_some());
        assert_eq!(l.diagnostics[1].field.as_deref(), Some("spec.port.number"));
    }

    #[test]
    fn metadata_is_strict() {
        let text = FS.replace(
            "  name: reviews-failover\n",
            "  name: Reviews_Failover\n  nmae: x\n  labels:\n    \"bad key\": v\n  managedFields:\n  - manager: kubectl\n    bogus: 1\n",
        );
        let l = parse_str("fs.yaml", &text);
        let fields: Vec<String> = l
            .diagnostics
            .iter()
            .filter_map(|d| d.field.clone())
            .collect();
        assert!(fields.contains(&"metadata.nmae".to_string()), "{fields:?}");
        assert!(fields.contains(&"metadata.name".to_string()));
        assert!(fields.contains(&"metadata.labels".to_string()));
        assert!(fields.contains(&"metadata.managedFields[0].bogus".to_string()));
        assert!(l.manifests.is_empty());
    }

    #[test]
    fn kubectl_get_output_round_trips() {
        let text = FS.replace(
            "metadata:\n",
            "metadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      {}\n  creationTimestamp: \"2020-11-05T10:00:00Z\"\n  generation: 1\n  resourceVersion: \"123\"\n  uid: 0b6a1a0e-1111-2222-3333-444455556666\n  managedFields:\n  - apiVersion: networking.smh.solo.io/v1alpha2\n    fieldsType: FieldsV1\n    fieldsV1:\n      f:spec:\n        f:hostname: {}\n    manager: kubectl\n    operation: Update\n    time: \"2020-11-05T10:00:00Z\"\n",
        ) + "status:\n  observedGeneration: \"1\"\n  state: ACCEPTED\n  meshes:\n    istiod-istio-system-mgmt-cluster.service-mesh-hub.:\n      state: ACCEPTED\n";
        let l = parse_str("get.yaml", &text);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    }

    #[test]
    fn missing_name_and_namespace_default() {
        let l = parse_str_with(
            "x.yaml",
            &FS.replace(
                "  name: reviews-failover\n  namespace: service-mesh-hub\n",
                "  labels: {a: b}\n",
            ),
            "team-a",
        );
        let e = errors(&l);
        assert_eq!(
            e,
            vec![(
                Some("metadata.name".to_string()),
                "Required value: name is required".to_string()
            )]
        );
        let l = parse_str_with(
            "x.yaml",
            &FS.replace(
                "reviews-failover\n  namespace: service-mesh-hub\n",
                "reviews-failover\n",
            ),
            "team-a",
        );
        assert!(l.diagnostics.is_empty());
        let SmhObject::FailoverService(fs) = &l.manifests[0].object else {
            panic!()
        };
        assert_eq!(fs.metadata.namespace.as_deref(), Some("team-a"));
    }

    #[test]
    fn wrong_api_version_and_kind() {
        let l = parse_str("x.yaml", &FS.replace("v1alpha2", "v1alpha1"));
        assert!(
            l.diagnostics[0]
                .message
                .contains("v1alpha1 is Service Mesh Hub's API before v0.7")
        );
        assert_eq!(l.diagnostics[0].field.as_deref(), Some("apiVersion"));
        let l = parse_str(
            "x.yaml",
            &FS.replace("networking.smh.solo.io", "networking.mesh.gloo.solo.io"),
        );
        assert!(
            l.diagnostics[0].message.contains("Gloo Mesh"),
            "{}",
            l.diagnostics[0].message
        );
        let l = parse_str(
            "x.yaml",
            &FS.replace("kind: FailoverService", "kind: failoverservice"),
        );
        assert!(
            l.diagnostics[0]
                .message
                .contains("did you mean FailoverService")
        );
        let l = parse_str(
            "x.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
        );
        assert!(
            l.diagnostics[0]
                .message
                .contains("FailoverService and TrafficPolicy objects only")
        );
        let l = parse_str("x.yaml", "kind: FailoverService\nmetadata: {name: x}\n");
        assert_eq!(
            errors(&l),
            vec![(
                Some("apiVersion".to_string()),
                "Required value: apiVersion is not set".to_string()
            )]
        );
    }

    #[test]
    fn lists_are_expanded() {
        let items: String = FS
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    format!("- {l}\n")
                } else {
                    format!("  {l}\n")
                }
            })
            .collect();
        let text = format!(
            "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n{items}{}",
            items.replace("reviews-failover\n", "other\n")
        );
        let l = parse_str("list.yaml", &text);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        assert_eq!(l.manifests.len(), 2);
        assert_eq!(l.manifests[0].source.line, Some(6));
    }

    #[test]
    fn empty_and_non_object_inputs() {
        let l = parse_str("empty.yaml", "");
        assert_eq!(l.diagnostics.len(), 1);
        assert!(l.diagnostics[0].message.contains("no objects found"));
        let l = parse_str("c.yaml", "# only\n---\n");
        assert!(l.diagnostics[0].message.contains("no objects found"));
        let l = parse_str("s.yaml", "just a string\n");
        assert!(l.diagnostics[0].message.contains("found a string"));
        let l = parse_bytes_with(
            "b.bin",
            &[0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xfe],
            "ns",
        );
        assert!(
            l.diagnostics[0].message.contains("binary"),
            "{}",
            l.diagnostics[0].message
        );
    }

    #[test]
    fn json_documents_parse() {
        let json = r#"{"apiVersion":"networking.smh.solo.io/v1alpha2","kind":"TrafficPolicy","metadata":{"name":"tp","namespace":"bookinfo"},"spec":{"outlierDetection":{"consecutiveErrors":1}}}"#;
        let l = parse_str("tp.json", json);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        let l = parse_str(
            "tp.json",
            "{\n\t\"apiVersion\": \"networking.smh.solo.io/v1alpha2\",\n\t\"kind\": \"TrafficPolicy\",\n\t\"metadata\": {\"name\": \"tp\"}\n}\n",
        );
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    }

    #[test]
    fn null_fields_are_pruned_like_the_api_server() {
        let text = FS
            .replace(
                "  hostname: reviews-failover.bookinfo.global\n",
                "  hostname:\n",
            )
            .replace("metadata:\n", "metadata:\n  creationTimestamp: null\n");
        let l = parse_str("fs.yaml", &text);
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        let SmhObject::FailoverService(fs) = &l.manifests[0].object else {
            panic!()
        };
        assert_eq!(fs.spec.hostname, "");
        // An unknown field is unknown even when its value is null.
        let l = parse_str(
            "fs.yaml",
            &FS.replace("  hostname:", "  hostnmae: null\n  hostname:"),
        );
        assert_eq!(l.diagnostics[0].field.as_deref(), Some("spec.hostnmae"));
    }
}
