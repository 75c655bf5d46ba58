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
    /// The objects read without problems, in input order.
    pub manifests: Vec<Manifest>,
    /// Every problem found, with file, document, object and field.
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
pub(crate) const STDIN_LABEL: &str = "-";

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
pub(crate) fn parse_str_with(file_label: &str, text: &str, default_namespace: &str) -> Loaded {
    parse_bytes_with(file_label, text.as_bytes(), default_namespace)
}

/// Parse raw bytes (checked to be UTF-8 text first).
pub(crate) fn parse_bytes_with(file_label: &str, bytes: &[u8], default_namespace: &str) -> Loaded {
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

#[cfg(test)]
pub(crate) mod tests_support {
    pub(crate) const GUIDE_FS: &str =
        include_str!("../../../../../examples/guide/2-failover-service.yaml");
}

mod decode;
mod metadata;
mod object;

pub(crate) use decode::decode_all;
use metadata::check_metadata;
use object::process_object;
#[cfg(test)]
mod tests;
