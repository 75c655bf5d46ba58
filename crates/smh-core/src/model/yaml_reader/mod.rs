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
pub const MAX_DEPTH: usize = 64;
/// Maximum number of nodes (scalars, mappings, sequences) in one document.
pub const MAX_NODES: usize = 250_000;
/// Maximum size of one document in bytes. The Kubernetes API server rejects requests
/// larger than 3 MiB, so no single object can be larger; a `kind: List` document may be
/// up to [`MAX_LIST_DOCUMENT_BYTES`].
pub const MAX_DOCUMENT_BYTES: usize = 3 * 1024 * 1024;
/// Maximum size of a document that is a `kind: List`.
pub const MAX_LIST_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// Maximum size of one input (file or stdin).
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// A YAML value with the line and column (1-based) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: usize,
    pub col: usize,
}

/// A mapping key: always a string (as in JSON and Kubernetes), with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
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
    Key(String),
    Index(usize),
}

/// Render a path like kubectl does: `spec.backingServices[1].kubeService.name`.
pub fn path_to_string(path: &[PathSeg]) -> String {
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
pub fn parse_path(field: &str) -> Vec<PathSeg> {
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

    /// The key entry named `key`, if this is a mapping that has it.
    pub fn get_key(&self, key: &str) -> Option<&Key> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(k, _)| k),
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
pub struct YamlError {
    pub kind: YamlErrorKind,
    pub message: String,
    /// 1-based line and column in the whole input, when known.
    pub position: Option<(usize, usize)>,
}

/// What kind of problem a [`YamlError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
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

impl YamlError {
    /// The message with a prefix saying what kind of problem it is.
    pub fn describe(&self) -> String {
        match self.kind {
            YamlErrorKind::Syntax => format!("YAML syntax error: {}", self.message),
            YamlErrorKind::Content => {
                format!("invalid YAML for a Kubernetes manifest: {}", self.message)
            }
            YamlErrorKind::Limit | YamlErrorKind::NotText => self.message.clone(),
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((l, c)) => write!(f, "line {l}, column {c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// One document of a YAML stream, as text, with the line where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocText<'a> {
    pub text: &'a str,
    /// 1-based line of the document's first line in the input.
    pub start_line: usize,
    /// The document is explicitly started with `---`.
    pub explicit: bool,
}

impl DocText<'_> {
    /// True when the document holds nothing but blank lines, comments and markers.
    pub fn is_blank(&self) -> bool {
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
pub fn split_documents(input: &str) -> Vec<DocText<'_>> {
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
pub fn decode_text(bytes: &[u8]) -> Result<&str, YamlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| YamlError {
        kind: YamlErrorKind::NotText,
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
        return Err(YamlError {
            kind: YamlErrorKind::NotText,
            message: "contains a NUL byte; is this a binary file?".to_string(),
            position: Some((line, col)),
        });
    }
    Ok(text)
}

/// Parse one document (as split by [`split_documents`]). `Ok(None)` for an empty document.
///
/// The tree is built from parser events with an explicit stack (no recursion), so nesting
/// depth is checked before anything deep is built; aliases are expanded with a node budget
/// (no "billion laughs"); scalars are resolved as kubectl's YAML library (go-yaml v2, YAML
/// 1.1) resolves them, so `yes`, `on`, `0x1F` mean what they mean to kubectl.
pub fn parse_document(doc: &DocText<'_>) -> Result<Option<Node>, YamlError> {
    let line_offset = doc.start_line - 1;
    let mut builder = Builder::default();
    let opts = granit_parser::options! {
        flow_nesting_limit: MAX_DEPTH * 4,
        block_nesting_limit: MAX_DEPTH * 4,
    };
    let mut parser = granit_parser::Parser::new_from_str_with_options(doc.text, opts);
    let mut documents = 0usize;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            let (kind, message) = match e.kind() {
                granit_parser::ErrorKind::RecursionLimitExceeded => {
                    (YamlErrorKind::Limit, depth_message())
                }
                _ => (YamlErrorKind::Syntax, e.info()),
            };
            YamlError {
                kind,
                message,
                position: Some((m.line() + line_offset, m.col() + 1)),
            }
        })?;
        let pos = (span.start.line(), span.start.col() + 1);
        let at = |message: String| YamlError {
            kind: if message.ends_with(LIMIT_SUFFIX) {
                YamlErrorKind::Limit
            } else {
                YamlErrorKind::Content
            },
            message,
            position: Some((pos.0 + line_offset, pos.1)),
        };
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError {
                        kind: YamlErrorKind::Syntax,
                        message: "unexpected second document".to_string(),
                        position: Some((pos.0 + line_offset, pos.1)),
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_deref()).map_err(at)?;
                builder
                    .node(value, pos, anchor, Some(&text), style)
                    .map_err(at)?;
            }
            Event::SequenceStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq").map_err(at)?;
                builder
                    .open(Frame::Seq(Vec::new()), pos, anchor)
                    .map_err(at)?;
            }
            Event::MappingStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map").map_err(at)?;
                builder
                    .open(
                        Frame::Map {
                            entries: Vec::new(),
                            merges: Vec::new(),
                            key: None,
                        },
                        pos,
                        anchor,
                    )
                    .map_err(at)?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close().map_err(at)?,
            Event::Alias(id) => builder.alias(id, pos).map_err(at)?,
            _ => {}
        }
    }
    let root = builder.root.take();
    Ok(root.and_then(|mut node| {
        if node.value == Value::Null {
            return None;
        }
        node.shift_lines(line_offset);
        Some(node)
    }))
}

/// Ends every resource-limit message.
const LIMIT_SUFFIX: &str = "; refusing to read it";

fn depth_message() -> String {
    format!("nesting is deeper than {MAX_DEPTH} levels{LIMIT_SUFFIX}")
}

/// A collection being built.
enum Frame {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Key, Node)>,
        /// Values of `<<` merge keys, applied when the mapping ends.
        merges: Vec<Node>,
        /// The key read, waiting for its value. `None` while expecting a key.
        key: Option<PendingKey>,
    },
}

enum PendingKey {
    Key(Key),
    Merge,
}

struct Open {
    frame: Frame,
    pos: (usize, usize),
    anchor: usize,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    root: Option<Node>,
    /// Anchored nodes by anchor id, with their node counts.
    anchors: std::collections::HashMap<usize, (Node, usize)>,
    nodes: usize,
}

impl Builder {
    fn count(&mut self, n: usize) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(format!(
                "document has more than {MAX_NODES} values (after expanding aliases){LIMIT_SUFFIX}"
            ));
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame, pos: (usize, usize), anchor: usize) -> Result<(), String> {
        if let Some(Open {
            frame: Frame::Map { key: None, .. },
            ..
        }) = self.stack.last()
        {
            return Err(
                "a mapping or sequence cannot be a mapping key in a Kubernetes manifest"
                    .to_string(),
            );
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(depth_message());
        }
        self.count(1)?;
        self.stack.push(Open { frame, pos, anchor });
        Ok(())
    }

    fn close(&mut self) -> Result<(), String> {
        let Some(open) = self.stack.pop() else {
            return Err("unbalanced end of collection".to_string());
        };
        let value = match open.frame {
            Frame::Seq(items) => Value::Seq(items),
            Frame::Map {
                mut entries,
                merges,
                ..
            } => {
                apply_merges(&mut entries, merges)?;
                Value::Map(entries)
            }
        };
        let node = Node {
            value,
            line: open.pos.0,
            col: open.pos.1,
        };
        if open.anchor != 0 {
            let n = node_count(&node);
            self.anchors.insert(open.anchor, (node.clone(), n));
        }
        self.attach(node)
    }

    fn node(
        &mut self,
        value: Value,
        pos: (usize, usize),
        anchor: usize,
        raw: Option<&str>,
        style: ScalarStyle,
    ) -> Result<(), String> {
        self.count(1)?;
        // A mapping key: keep its string form and position.
        if let Some(Open {
            frame: Frame::Map {
                key: key @ None, ..
            },
            ..
        }) = self.stack.last_mut()
        {
            let name = key_name(&value, raw.unwrap_or_default());
            *key = Some(if name == "<<" && style == ScalarStyle::Plain {
                PendingKey::Merge
            } else {
                PendingKey::Key(Key {
                    name,
                    line: pos.0,
                    col: pos.1,
                })
            });
            return Ok(());
        }
        let node = Node {
            value,
            line: pos.0,
            col: pos.1,
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), 1));
        }
        self.attach(node)
    }

    fn alias(&mut self, id: usize, pos: (usize, usize)) -> Result<(), String> {
        let Some((node, n)) = self.anchors.get(&id) else {
            return Err("alias refers to an unknown anchor".to_string());
        };
        let (mut node, n) = (node.clone(), *n);
        self.count(n)?;
        if let Some(Open {
            frame: Frame::Map { key: None, .. },
            ..
        }) = self.stack.last()
        {
            if let Value::Seq(_) | Value::Map(_) = node.value {
                return Err(
                    "a mapping or sequence cannot be a mapping key in a Kubernetes manifest"
                        .to_string(),
                );
            }
            let name = key_name(&node.value, "");
            if let Some(Open {
                frame: Frame::Map { key, .. },
                ..
            }) = self.stack.last_mut()
            {
                *key = Some(PendingKey::Key(Key {
                    name,
                    line: pos.0,
                    col: pos.1,
                }));
            }
            return Ok(());
        }
        node.line = pos.0;
        node.col = pos.1;
        self.attach(node)
    }

    /// Put a finished node into its parent (or make it the root).
    fn attach(&mut self, node: Node) -> Result<(), String> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Open {
                frame: Frame::Seq(items),
                ..
            }) => {
                items.push(node);
                Ok(())
            }
            Some(Open {
                frame:
                    Frame::Map {
                        entries,
                        merges,
                        key,
                    },
                ..
            }) => match key.take() {
                Some(PendingKey::Merge) => {
                    merges.push(node);
                    Ok(())
                }
                Some(PendingKey::Key(k)) => {
                    if let Some((first, _)) = entries.iter().find(|(e, _)| e.name == k.name) {
                        return Err(format!(
                            "duplicate key {:?} (first at line {})",
                            k.name, first.line
                        ));
                    }
                    entries.push((k, node));
                    Ok(())
                }
                None => Err("internal: mapping value without key".to_string()),
            },
        }
    }
}

/// YAML merge keys (`<<: *base` or `<<: [*a, *b]`): explicit keys win, earlier sources win.
fn apply_merges(entries: &mut Vec<(Key, Node)>, merges: Vec<Node>) -> Result<(), String> {
    for merge in merges {
        let sources = match merge.value {
            Value::Map(_) => vec![merge],
            Value::Seq(items) => items,
            _ => return Err("a merge key (<<) needs a mapping or a list of mappings".to_string()),
        };
        for source in sources {
            let Value::Map(src_entries) = source.value else {
                return Err("a merge key (<<) needs a mapping or a list of mappings".to_string());
            };
            for (k, v) in src_entries {
                if !entries.iter().any(|(e, _)| e.name == k.name) {
                    entries.push((k, v));
                }
            }
        }
    }
    Ok(())
}

fn node_count(node: &Node) -> usize {
    let mut count = 0usize;
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        count += 1;
        match &n.value {
            Value::Seq(items) => stack.extend(items.iter()),
            Value::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    count
}

/// The string form of a scalar mapping key, as sigs.k8s.io/yaml writes it into JSON.
fn key_name(value: &Value, raw: &str) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(_) => raw.to_string(),
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => raw.to_string(),
    }
}

fn check_collection_tag(tag: Option<&Tag>, expected: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if t.core_suffix() == Some(expected) => Ok(()),
        Some(t) => Err(format!("unsupported YAML tag {}", t.original())),
    }
}

/// Resolve a scalar as go-yaml v2 (kubectl's YAML library) does: quoted and block scalars
/// are strings; plain scalars may be null, booleans (YAML 1.1 spellings), integers
/// (decimal, `0x`, `0b`, leading-`0` octal, `_` separators) or floats. Core tags force a
/// type; other tags are rejected.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        let resolved = resolve_plain(text);
        return match tag.core_suffix() {
            Some("str") => Ok(Value::String(text.to_string())),
            Some("null") => match resolved {
                Value::Null => Ok(Value::Null),
                _ => Err(format!("cannot read {text:?} as !!null")),
            },
            Some("bool") => match resolved {
                Value::Bool(_) => resolved_ok(resolved),
                _ => Err(format!("cannot read {text:?} as !!bool")),
            },
            Some("int") => match resolved {
                Value::Int(_) | Value::UInt(_) => resolved_ok(resolved),
                _ => Err(format!("cannot read {text:?} as !!int")),
            },
            Some("float") => match resolved {
                Value::Int(i) => Ok(Value::Float(i as f64)),
                Value::UInt(u) => Ok(Value::Float(u as f64)),
                Value::Float(_) => resolved_ok(resolved),
                _ => Err(format!("cannot read {text:?} as !!float")),
            },
            _ => Err(format!("unsupported YAML tag {}", tag.original())),
        };
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    resolved_ok(resolve_plain(text))
}

fn resolved_ok(value: Value) -> Result<Value, String> {
    match value {
        Value::Float(f) if !f.is_finite() => {
            Err("infinite or NaN numbers cannot be written in a Kubernetes manifest".to_string())
        }
        v => Ok(v),
    }
}

fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Value::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Value::String(text.to_string());
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(v) = parse_int(&plain) {
        return v;
    }
    if is_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::String(text.to_string())
}

fn parse_int(s: &str) -> Option<Value> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(b) = digits.strip_prefix("0x") {
        (16, b)
    } else if let Some(b) = digits.strip_prefix("0b") {
        (2, b)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if neg {
        if magnitude <= i64::MAX as u64 + 1 {
            Some(Value::Int((magnitude as i128).wrapping_neg() as i64))
        } else {
            None
        }
    } else if magnitude <= i64::MAX as u64 {
        Some(Value::Int(magnitude as i64))
    } else {
        Some(Value::UInt(magnitude))
    }
}

/// go-yaml v2's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

// ---------------------------------------------------------------------------------------
// Typed deserialization straight from the tree.
// ---------------------------------------------------------------------------------------

/// Deserialize typed values directly from a tree, without building JSON first: the fast
/// path of `parse::decode_all`. Its errors carry no field path; on failure the slow path
/// (JSON and `serde_path_to_error`) runs and reports. Both paths read the tree the same way
/// as `serde_json::Value` does.
impl<'de> serde::Deserializer<'de> for &'de Node {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        use serde::de::value::{MapDeserializer, SeqDeserializer};
        match &self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => {
                let mut seq = SeqDeserializer::new(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Map(entries) => {
                let mut map =
                    MapDeserializer::new(entries.iter().map(|(k, v)| (k.name.as_str(), v)));
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        use serde::de::IntoDeserializer;
        match &self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(serde::de::Error::custom(format!(
                "invalid type: {}, expected a string",
                other.type_name()
            ))),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> serde::de::IntoDeserializer<'de, serde::de::value::Error> for &'de Node {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(text: &str) -> Result<Option<Node>, YamlError> {
        let docs = split_documents(text);
        assert_eq!(docs.len(), 1, "{docs:?}");
        parse_document(&docs[0])
    }

    #[test]
    fn paths_round_trip() {
        for p in [
            "clusters[1].services[0].ports",
            "spec.port.number",
            "items[3]",
            "a[0][1].b",
        ] {
            assert_eq!(path_to_string(&parse_path(p)), p);
        }
    }

    #[test]
    fn splits_documents_at_markers() {
        let text = "a: 1\n---\nb: 2\n--- \n# only a comment\n---\n...\nc: 3\n";
        let docs = split_documents(text);
        let starts: Vec<usize> = docs.iter().map(|d| d.start_line).collect();
        assert_eq!(starts, vec![1, 2, 4, 6, 8]);
        assert_eq!(docs[0].text, "a: 1\n");
        assert!(docs[2].is_blank());
        assert_eq!(docs[4].text, "c: 3\n");
    }

    #[test]
    fn leading_comment_chunk_is_not_a_document() {
        let docs = split_documents("# header\n\n---\na: 1\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].start_line, 3);
    }

    #[test]
    fn block_scalar_is_not_split_by_indented_dashes() {
        let docs = split_documents("a: |\n  ---\n  x\n");
        assert_eq!(docs.len(), 1);
        let node = parse_document(&docs[0]).unwrap().unwrap();
        assert_eq!(node.get("a").unwrap().as_str(), Some("---\nx\n"));
    }

    #[test]
    fn positions_are_relative_to_the_file() {
        let text = "a: 1\n---\nkind: X\nspec:\n  port:\n    nmber: 9080\n";
        let docs = split_documents(text);
        let node = parse_document(&docs[1]).unwrap().unwrap();
        let path = [
            PathSeg::Key("spec".into()),
            PathSeg::Key("port".into()),
            PathSeg::Key("nmber".into()),
        ];
        assert_eq!(node.locate(&path, true), (6, 5));
        assert_eq!(node.locate(&path, false), (6, 12));
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let text = "---\na: 1\n---\nkind: X\nspec: [1, 2\n";
        let docs = split_documents(text);
        assert!(parse_document(&docs[0]).is_ok());
        let err = parse_document(&docs[1]).unwrap_err();
        let (line, _) = err.position.expect("position");
        assert!(line >= 5, "{err:?}");
    }

    #[test]
    fn scalars_and_nulls() {
        let node = parse_one("a: 1\nb: -2\nc: 1.5\nd: true\ne: \"9080\"\nf:\ng: ~\n")
            .unwrap()
            .unwrap();
        let json = node.to_json();
        assert_eq!(
            json,
            serde_json::json!({"a": 1, "b": -2, "c": 1.5, "d": true, "e": "9080", "f": null, "g": null})
        );
    }

    #[test]
    fn scalars_resolve_as_kubectl_reads_them() {
        let node = parse_one(
            "a: yes\nb: off\nc: 0x1F\nd: 010\ne: 1_000\nf: -7\ng: .5\nh: 1e3\ni: !!str 12\nj: !!int \"12\"\nk: '0x1F'\nl: 18446744073709551615\nm: 1.2.3\nnn: v1\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({
                "a": true, "b": false, "c": 31, "d": 8, "e": 1000, "f": -7, "g": 0.5, "h": 1000.0,
                "i": "12", "j": 12, "k": "0x1F", "l": 18446744073709551615_u64, "m": "1.2.3", "nn": "v1"
            })
        );
        // As sigs.k8s.io/yaml does, a key that YAML 1.1 reads as a boolean becomes "true"/"false".
        let keys = parse_one("y: 1\nno: 2\n").unwrap().unwrap().to_json();
        assert_eq!(keys, serde_json::json!({"true": 1, "false": 2}));
        assert!(parse_one("a: .inf\n").is_err());
        assert!(parse_one("a: !custom x\n").is_err());
        assert!(parse_one("a: !!int abc\n").is_err());
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let node = parse_one(
            "base: &b {x: 1, z: 2}\nuse:\n  <<: *b\n  z: 3\nlist: [*b, *b]\nname: &n hello\nagain: *n\n",
        )
        .unwrap()
        .unwrap();
        let json = node.to_json();
        assert_eq!(json["use"], serde_json::json!({"x": 1, "z": 3}));
        assert_eq!(
            json["list"],
            serde_json::json!([{"x": 1, "z": 2}, {"x": 1, "z": 2}])
        );
        assert_eq!(json["again"], "hello");
        // The alias is located where it is used.
        assert_eq!(node.get("again").map(|n| (n.line, n.col)), Some((7, 8)));
    }

    #[test]
    fn depth_limit_boundary() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_one(&ok).is_ok());
        let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse_one(&too_deep).unwrap_err().kind, YamlErrorKind::Limit);
    }

    #[test]
    fn typed_decoding_from_the_tree_matches_json() {
        use serde::Deserialize;
        let text = crate::model::parse::tests_support::GUIDE_FS;
        let docs = split_documents(text);
        let node = parse_document(&docs[0]).unwrap().unwrap();
        let direct = crate::model::FailoverService::deserialize(&node).unwrap();
        let via_json: crate::model::FailoverService =
            serde_json::from_value(node.to_json()).unwrap();
        assert_eq!(direct, via_json);
        let bad = parse_document(
            &split_documents("apiVersion: x\nkind: y\nspec: {port: {number: -1}}\n")[0],
        )
        .unwrap()
        .unwrap();
        assert!(crate::model::FailoverService::deserialize(&bad).is_err());
    }

    #[test]
    fn empty_documents_are_none() {
        assert_eq!(parse_one("---\n").unwrap(), None);
        assert_eq!(parse_one("# nothing\n---\n# here\n").unwrap(), None);
        assert_eq!(parse_one("~\n").unwrap(), None);
    }

    #[test]
    fn deep_nesting_is_rejected_not_overflowed() {
        let text = "[".repeat(100_000);
        let err = parse_one(&text).unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::Limit);
        assert_eq!(
            err.message,
            "nesting is deeper than 64 levels; refusing to read it"
        );
        let block: String = (0..200)
            .map(|i| format!("{}k:\n", "  ".repeat(i)))
            .collect();
        assert!(parse_one(&block).is_err());
    }

    #[test]
    fn alias_bomb_is_rejected() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse_one(&text).unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::Limit);
        assert!(
            err.message
                .starts_with("document has more than 250000 values")
        );
    }

    #[test]
    fn complex_keys_are_rejected() {
        assert_eq!(
            parse_one("? [a, b]\n: c\n").unwrap_err().kind,
            YamlErrorKind::Content
        );
        let node = parse_one("1: a\ntrue: b\n").unwrap().unwrap();
        assert!(node.get("1").is_some() && node.get("true").is_some());
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        assert!(parse_one("a: 1\na: 2\n").is_err());
    }

    #[test]
    fn binary_and_nul_are_rejected() {
        assert!(decode_text(&[0x66, 0xff, 0xfe, 0x00]).is_err());
        let err = decode_text(b"a: 1\nb: \0\n").unwrap_err();
        assert_eq!(err.position, Some((2, 4)));
        assert_eq!(decode_text(b"\xEF\xBB\xBFa: 1\n").unwrap(), "a: 1\n");
    }
}
