//! Typed decoding with every schema error reported by field path and position, and serde's
//! messages reworded for users.

use super::*;

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
fn humanize_serde_message(msg: &str) -> String {
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
