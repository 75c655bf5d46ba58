//! Building one document's tree from parser events: an explicit stack (no recursion),
//! the depth and node limits, aliases and merge keys.

use super::scalar::{check_collection_tag, key_name, resolve_scalar};
use super::*;

/// Parse one document (as split by [`split_documents`]). `Ok(None)` for an empty document.
///
/// The tree is built from parser events with an explicit stack (no recursion), so nesting
/// depth is checked before anything deep is built; aliases are expanded with a node budget
/// (no "billion laughs"); scalars are resolved as kubectl's YAML library (go-yaml v2, YAML
/// 1.1) resolves them, so `yes`, `on`, `0x1F` mean what they mean to kubectl.
pub(crate) fn parse_document(doc: &DocText<'_>) -> Result<Option<Node>, YamlParseError> {
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
                    (YamlParseErrorKind::Limit, depth_message())
                }
                _ => (YamlParseErrorKind::Syntax, e.info()),
            };
            YamlParseError {
                kind,
                message,
                position: Some((m.line() + line_offset, m.col() + 1)),
            }
        })?;
        let pos = (span.start.line(), span.start.col() + 1);
        let at = |message: String| YamlParseError {
            kind: if message.ends_with(LIMIT_SUFFIX) {
                YamlParseErrorKind::Limit
            } else {
                YamlParseErrorKind::Content
            },
            message,
            position: Some((pos.0 + line_offset, pos.1)),
        };
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlParseError {
                        kind: YamlParseErrorKind::Syntax,
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
