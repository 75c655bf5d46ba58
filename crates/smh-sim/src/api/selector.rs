//! Label and field selectors, as `?labelSelector=` and `?fieldSelector=` carry them.
//!
//! Label selectors support Kubernetes' whole syntax: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
//! `k notin (a,b)`, `k` (exists), `!k` (does not exist), and `k>n` / `k<n`. Field selectors
//! support `path=v`, `path==v` and `path!=v` on any dotted path of the object (the real
//! server allows only a few fields per resource; the simulator is more permissive).

use std::collections::BTreeSet;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq(String),
    NotEq(String),
    In(BTreeSet<String>),
    NotIn(BTreeSet<String>),
    Exists,
    NotExists,
    Gt(i64),
    Lt(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

/// Split on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    // [prefix/]name; name: alphanumerics, '-', '_', '.', starting and ending alphanumeric.
    let name = match k.rsplit_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty()
                || prefix.len() > 253
                || !prefix
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            {
                return false;
            }
            name
        }
        None => k,
    };
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn valid_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn parse_set(s: &str) -> Result<BTreeSet<String>, String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("found '{s}', expected: '(' ... ')'"))?;
    let mut set = BTreeSet::new();
    for v in inner.split(',') {
        let v = v.trim();
        if !valid_value(v) {
            return Err(format!("invalid label value: {v:?}"));
        }
        set.insert(v.to_string());
    }
    Ok(set)
}

impl LabelSelector {
    /// Parse a selector string; an error message names the bad requirement.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(LabelSelector { reqs });
        }
        for part in split_top(s) {
            let part = part.trim();
            let req = parse_requirement(part)
                .map_err(|e| format!("unable to parse requirement: {part:?}: {e}"))?;
            reqs.push(req);
        }
        Ok(LabelSelector { reqs })
    }

    /// A selector from a `matchLabels` map (every pair must match).
    pub(crate) fn from_match_labels(labels: &serde_json::Map<String, Value>) -> Self {
        LabelSelector {
            reqs: labels
                .iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    op: Op::Eq(v.as_str().unwrap_or_default().to_string()),
                })
                .collect(),
        }
    }

    /// A selector from a `metav1.LabelSelector` object, as the API server turns one into a
    /// selector: every `matchLabels` pair must match, and every `matchExpressions` entry
    /// (`In`, `NotIn`, `Exists`, `DoesNotExist`). An unknown operator is an error.
    pub(crate) fn from_label_selector(sel: &Value) -> Result<Self, String> {
        let mut reqs = match sel.get("matchLabels").and_then(Value::as_object) {
            Some(m) => Self::from_match_labels(m).reqs,
            None => Vec::new(),
        };
        let exprs = sel.get("matchExpressions").and_then(Value::as_array);
        for e in exprs.into_iter().flatten() {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let values: BTreeSet<String> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            let op = match e
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default()
            {
                "In" => Op::In(values),
                "NotIn" => Op::NotIn(values),
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::NotExists,
                other => return Err(format!("{other:?} is not a valid label selector operator")),
            };
            reqs.push(Requirement {
                key: key.to_string(),
                op,
            });
        }
        Ok(LabelSelector { reqs })
    }

    /// Whether the selector has no requirement (it matches everything).
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Does an object with these labels match?
    pub fn matches_labels(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|r| match &r.op {
            Op::Eq(v) => get(&r.key) == Some(v.as_str()),
            Op::NotEq(v) => get(&r.key) != Some(v.as_str()),
            Op::In(set) => get(&r.key).is_some_and(|x| set.contains(x)),
            Op::NotIn(set) => get(&r.key).is_none_or(|x| !set.contains(x)),
            Op::Exists => get(&r.key).is_some(),
            Op::NotExists => get(&r.key).is_none(),
            Op::Gt(n) => get(&r.key)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            Op::Lt(n) => get(&r.key)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }

    /// Does the object (its `metadata.labels`) match?
    pub fn matches(&self, obj: &Value) -> bool {
        if self.reqs.is_empty() {
            return true;
        }
        self.matches_labels(obj.pointer("/metadata/labels").and_then(Value::as_object))
    }
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if part.is_empty() {
        return Err("empty requirement".into());
    }
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        check_key(key)?;
        return Ok(Requirement {
            key: key.to_string(),
            op: Op::NotExists,
        });
    }
    // Set-based: `key in (...)` / `key notin (...)`.
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let rest = words[1].trim_start();
        for (kw, negate) in [("notin", true), ("in", false)] {
            if let Some(set) = rest.strip_prefix(kw)
                && (set.starts_with(char::is_whitespace) || set.starts_with('('))
            {
                check_key(words[0])?;
                let set = parse_set(set)?;
                return Ok(Requirement {
                    key: words[0].to_string(),
                    op: if negate { Op::NotIn(set) } else { Op::In(set) },
                });
            }
        }
    }
    for (sym, kind) in [("!=", 0), ("==", 1), ("=", 1), (">", 2), ("<", 3)] {
        if let Some((k, v)) = part.split_once(sym) {
            let (k, v) = (k.trim(), v.trim());
            check_key(k)?;
            let op = match kind {
                0 | 1 => {
                    if !valid_value(v) {
                        return Err(format!("invalid label value: {v:?}"));
                    }
                    if kind == 0 {
                        Op::NotEq(v.to_string())
                    } else {
                        Op::Eq(v.to_string())
                    }
                }
                _ => {
                    let n: i64 = v.parse().map_err(|_| {
                        format!("for 'gt', 'lt' operators, the value must be an integer: {v:?}")
                    })?;
                    if kind == 2 { Op::Gt(n) } else { Op::Lt(n) }
                }
            };
            return Ok(Requirement {
                key: k.to_string(),
                op,
            });
        }
    }
    check_key(part)?;
    Ok(Requirement {
        key: part.to_string(),
        op: Op::Exists,
    })
}

fn check_key(k: &str) -> Result<(), String> {
    if valid_key(k) {
        Ok(())
    } else {
        Err(format!("invalid label key {k:?}"))
    }
}

/// A parsed field selector: `path=value` / `path!=value` terms, all of which must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    terms: Vec<(Vec<String>, bool, String)>,
}

impl FieldSelector {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (path, negate, value) = if let Some((k, v)) = part.split_once("!=") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, false, v)
            } else {
                return Err(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                ));
            };
            let path: Vec<String> = path.trim().split('.').map(str::to_string).collect();
            if path.iter().any(String::is_empty) {
                return Err(format!("invalid field selector: {part:?}"));
            }
            terms.push((path, negate, value.trim().to_string()));
        }
        Ok(FieldSelector { terms })
    }

    /// The fields it selects on (`metadata.name`).
    pub(crate) fn fields(&self) -> Vec<String> {
        self.terms
            .iter()
            .map(|(path, _, _)| path.join("."))
            .collect()
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|(path, negate, want)| {
            let mut cur = Some(obj);
            for seg in path {
                cur = cur.and_then(|v| v.get(seg));
            }
            let have = match cur {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            };
            (have == *want) != *negate
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "n", "namespace": "ns", "labels": labels}})
    }

    #[test]
    fn equality_and_sets() {
        let o = obj(json!({"app": "reviews", "version": "v1"}));
        for (sel, want) in [
            ("", true),
            ("app=reviews", true),
            ("app==reviews", true),
            ("app!=reviews", false),
            ("app=reviews,version=v2", false),
            ("version in (v1,v2)", true),
            ("version in (v2, v3)", false),
            ("version notin (v2,v3)", true),
            ("app,version", true),
            ("!app", false),
            ("!missing", true),
            ("missing", false),
            ("missing notin (a)", true),
            ("missing!=a", true),
            ("app in (reviews),version notin (v3)", true),
        ] {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&o), want, "{sel}");
        }
        let n = obj(json!({"replicas": "3"}));
        assert!(LabelSelector::parse("replicas>2").unwrap().matches(&n));
        assert!(!LabelSelector::parse("replicas<2").unwrap().matches(&n));
    }

    #[test]
    fn prefixed_keys_and_errors() {
        let o = obj(json!({"app.kubernetes.io/managed-by": "kubectl-smh"}));
        assert!(
            LabelSelector::parse("app.kubernetes.io/managed-by=kubectl-smh")
                .unwrap()
                .matches(&o)
        );
        for bad in [
            "a=b=c",
            "in (a)",
            "k in a",
            "=v",
            "k in (a b)",
            "bad key=1",
            "k>x",
        ] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn field_selectors() {
        let o = obj(json!({}));
        assert!(FieldSelector::parse("metadata.name=n").unwrap().matches(&o));
        assert!(
            FieldSelector::parse("metadata.name=n,metadata.namespace==ns")
                .unwrap()
                .matches(&o)
        );
        assert!(
            !FieldSelector::parse("metadata.name!=n")
                .unwrap()
                .matches(&o)
        );
        assert!(FieldSelector::parse("status.phase=").unwrap().matches(&o));
        assert!(FieldSelector::parse("metadata.name").is_err());
    }

    #[test]
    fn label_selector_objects_match_like_their_string_form() {
        let sel = json!({"matchLabels": {"app": "reviews"},
            "matchExpressions": [{"key": "version", "operator": "NotIn", "values": ["v3"]},
                                 {"key": "canary", "operator": "DoesNotExist"},
                                 {"key": "tier", "operator": "Exists"}]});
        let parsed = LabelSelector::from_label_selector(&sel).unwrap();
        assert_eq!(
            parsed,
            LabelSelector::parse("app=reviews,version notin (v3),!canary,tier").unwrap()
        );
        let labels = |l: Value| parsed.matches_labels(l.as_object());
        assert!(labels(
            json!({"app": "reviews", "version": "v1", "tier": "b"})
        ));
        assert!(!labels(
            json!({"app": "reviews", "version": "v3", "tier": "b"})
        ));
        assert!(!labels(
            json!({"app": "reviews", "tier": "b", "canary": "y"})
        ));
        assert!(!labels(json!({"app": "reviews", "version": "v1"})));
        let bad =
            json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]});
        assert!(LabelSelector::from_label_selector(&bad).is_err());
    }
}
