//! The one place that reads YAML: a stream is split into documents, each document is
//! parsed by serde-saphyr into a position-annotated tree ([`Node`]), with resource limits
//! so that hostile input (huge, deeply nested, alias bombs, binary) fails fast with a clear
//! message instead of a panic, a stack overflow or minutes of work.
//!
//! Typed deserialization happens afterwards from [`Node::to_json`] (see `parse.rs`), so
//! that every type error and unknown field can be reported with its full field path, and
//! [`Node::locate`] turns that path back into a line and column.

use std::fmt;

use serde_saphyr::granit_parser::{self, Event, ScalarStyle, Tag};

/// Maximum nesting depth of one document (mappings plus sequences). Kubernetes objects,
/// including `kubectl get -o yaml` output with `managedFields`, stay far below this.
pub(crate) const MAX_DEPTH: usize = 64;
/// Maximum number of nodes (scalars, mappings, sequences) in one document.
pub(crate) const MAX_NODES: usize = 250_000;
/// Maximum size of one document in bytes. The Kubernetes API server rejects requests
/// larger than 3 MiB, so no single object can be larger; a `kind: List` document may be
/// up to [`MAX_LIST_DOCUMENT_BYTES`].
pub(crate) const MAX_DOCUMENT_BYTES: usize = 3 * 1024 * 1024;
/// Maximum size of a document that is a `kind: List`.
pub(crate) const MAX_LIST_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// Maximum size of one input (file or stdin).
pub(crate) const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// A YAML value with the line and column (1-based) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// 1-based line where the value starts.
    pub line: usize,
    /// 1-based column where the value starts.
    pub col: usize,
}

/// A mapping key: always a string (as in JSON and Kubernetes), with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key as a string.
    pub name: String,
    /// 1-based line of the key.
    pub line: usize,
    /// 1-based column of the key.
    pub col: usize,
}

/// A YAML value as Kubernetes reads it: JSON's types, integers kept apart from floats.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true`/`false` (and YAML 1.1's `yes`, `on`, ...).
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// An integer above `i64::MAX` (up to `u64::MAX`).
    UInt(u64),
    /// A floating point number.
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Key, Node)>),
}

impl Value {
    /// The YAML/JSON type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }
}

/// One step of a field path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Render a path like kubectl does: `spec.backingServices[1].kubeService.name`.
pub(crate) fn path_to_string(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSeg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Parse a path written by [`path_to_string`] (`clusters[1].services[0].name`) back into
/// segments.
pub(crate) fn parse_path(field: &str) -> Vec<PathSeg> {
    let mut out = Vec::new();
    for part in field.split('.') {
        let mut rest = part;
        if let Some(idx) = rest.find('[') {
            if idx > 0 {
                out.push(PathSeg::Key(rest[..idx].to_string()));
            }
            rest = &rest[idx..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(end) = stripped.find(']') else { break };
                if let Ok(i) = stripped[..end].parse() {
                    out.push(PathSeg::Index(i));
                }
                rest = &stripped[end + 1..];
            }
        } else if !rest.is_empty() {
            out.push(PathSeg::Key(rest.to_string()));
        }
    }
    out
}

impl Node {
    /// The value under `key` if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value, if this is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The position of the value at `path`, or of the deepest part of it that exists. When
    /// `key_position` is set and the last segment is a mapping key that exists, the
    /// position of the key itself is returned (used for unknown fields).
    pub fn locate(&self, path: &[PathSeg], key_position: bool) -> (usize, usize) {
        let mut node = self;
        let mut pos = (self.line, self.col);
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            match (seg, &node.value) {
                (PathSeg::Key(k), Value::Map(entries)) => {
                    match entries.iter().find(|(key, _)| &key.name == k) {
                        Some((key, child)) => {
                            if last && key_position {
                                return (key.line, key.col);
                            }
                            node = child;
                            pos = (child.line, child.col);
                        }
                        None => return pos,
                    }
                }
                (PathSeg::Index(idx), Value::Seq(items)) => match items.get(*idx) {
                    Some(child) => {
                        node = child;
                        pos = (child.line, child.col);
                    }
                    None => return pos,
                },
                _ => return pos,
            }
        }
        pos
    }

    /// Convert to JSON for typed deserialization. Depth is bounded by [`MAX_DEPTH`] at
    /// parse time, so the recursion here is bounded too.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::UInt(u) => serde_json::Value::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Shift every position down by `lines` (documents are parsed on their own, positions
    /// must be relative to the whole file). Iterative, so that it cannot overflow the stack.
    fn shift_lines(&mut self, lines: usize) {
        if lines == 0 {
            return;
        }
        let mut stack: Vec<&mut Node> = vec![self];
        while let Some(node) = stack.pop() {
            node.line += lines;
            match &mut node.value {
                Value::Seq(items) => stack.extend(items.iter_mut()),
                Value::Map(entries) => {
                    for (k, v) in entries.iter_mut() {
                        k.line += lines;
                        stack.push(v);
                    }
                }
                _ => {}
            }
        }
    }
}

/// A YAML problem in one document: syntax error, limit exceeded, not text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlParseError {
    /// What kind of problem.
    pub kind: YamlParseErrorKind,
    /// The message, without position.
    pub message: String,
    /// 1-based line and column in the whole input, when known.
    pub position: Option<(usize, usize)>,
}

/// What kind of problem a [`YamlParseError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlParseErrorKind {
    /// The text is not YAML.
    Syntax,
    /// Valid YAML that a Kubernetes manifest cannot hold (duplicate keys, complex keys,
    /// unknown tags, bad merge keys).
    Content,
    /// A resource limit: nesting depth, number of values, size.
    Limit,
    /// Not text: invalid UTF-8 or NUL bytes.
    NotText,
}

impl YamlParseError {
    /// The message with a prefix saying what kind of problem it is.
    pub fn describe(&self) -> String {
        match self.kind {
            YamlParseErrorKind::Syntax => format!("YAML syntax error: {}", self.message),
            YamlParseErrorKind::Content => {
                format!("invalid YAML for a Kubernetes manifest: {}", self.message)
            }
            YamlParseErrorKind::Limit | YamlParseErrorKind::NotText => self.message.clone(),
        }
    }
}

impl fmt::Display for YamlParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((l, c)) => write!(f, "line {l}, column {c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// One document of a YAML stream, as text, with the line where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DocText<'a> {
    pub text: &'a str,
    /// 1-based line of the document's first line in the input.
    pub start_line: usize,
    /// The document is explicitly started with `---`.
    pub explicit: bool,
}

impl DocText<'_> {
    /// True when the document holds nothing but blank lines, comments and markers.
    pub(crate) fn is_blank(&self) -> bool {
        self.text.lines().all(|l| {
            let t = l.trim();
            t.is_empty()
                || t.starts_with('#')
                || is_marker(l, "---") && t.len() == 3
                || is_marker(l, "...")
        })
    }
}

fn is_marker(line: &str, marker: &str) -> bool {
    match line.strip_prefix(marker) {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t', '\r']),
        None => false,
    }
}

/// Split a YAML stream into documents at `---` and `...` markers in column 1 (YAML forbids
/// these at the start of a line inside a document, even in block scalars, so the split is
/// exact). Each document is then parsed on its own, so a syntax error in one document does
/// not hide the problems of the others. A leading chunk before the first `---` counts only
/// if it has content; every `---` starts a document, even an empty one (as in YAML).
pub(crate) fn split_documents(input: &str) -> Vec<DocText<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize; // byte offset of the current chunk
    let mut start_line = 1usize;
    let mut explicit = false;
    let mut ended = false; // current chunk was closed by `...`
    let mut offset = 0usize;
    for (line_no, line) in (1usize..).zip(input.split_inclusive('\n')) {
        // Only lines starting with `-`, `.` or `%` can be markers or directives.
        if !matches!(line.as_bytes().first(), Some(b'-' | b'.' | b'%')) {
            offset += line.len();
            continue;
        }
        let content = line.trim_end_matches(['\n', '\r']);
        if is_marker(content, "---") {
            push_chunk(&mut docs, &input[start..offset], start_line, explicit);
            start = offset;
            start_line = line_no;
            explicit = true;
            ended = false;
        } else if ended && content.starts_with('%') {
            // A directive after `...` belongs to the next document.
            push_chunk(&mut docs, &input[start..offset], start_line, explicit);
            start = offset;
            start_line = line_no;
            explicit = false;
            ended = false;
        } else if is_marker(content, "...") {
            let end = offset + line.len();
            push_chunk(&mut docs, &input[start..end], start_line, explicit);
            start = end;
            start_line = line_no + 1;
            explicit = false;
            ended = true;
        }
        offset += line.len();
    }
    push_chunk(&mut docs, &input[start..], start_line, explicit);
    docs
}

fn push_chunk<'a>(docs: &mut Vec<DocText<'a>>, text: &'a str, start_line: usize, explicit: bool) {
    let doc = DocText {
        text,
        start_line,
        explicit,
    };
    if explicit || !doc.is_blank() {
        docs.push(doc);
    }
}

/// Decode input bytes as UTF-8 text (dropping a UTF-8 byte order mark). Other encodings
/// and binary data are rejected with the offset of the first bad byte; NUL bytes are
/// rejected here too (YAML forbids them, and they mark binary files).
pub(crate) fn decode_text(bytes: &[u8]) -> Result<&str, YamlParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| YamlParseError {
        kind: YamlParseErrorKind::NotText,
        message: format!(
            "not UTF-8 text (invalid byte at offset {}); is this a binary file?",
            e.valid_up_to()
        ),
        position: None,
    })?;
    if let Some(idx) = text.find('\0') {
        let line = text[..idx].matches('\n').count() + 1;
        let col = text[..idx]
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.chars().count())
            + 1;
        return Err(YamlParseError {
            kind: YamlParseErrorKind::NotText,
            message: "contains a NUL byte; is this a binary file?".to_string(),
            position: Some((line, col)),
        });
    }
    Ok(text)
}

mod builder;
mod de;
mod scalar;
#[cfg(test)]
mod tests;

pub(crate) use builder::parse_document;
