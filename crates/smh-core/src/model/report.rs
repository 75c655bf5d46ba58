//! How diagnostics read: one line for people, a stable JSON object for machines.
//!
//! Line: `error: FILE[:LINE:COL]: document N: KIND NAMESPACE/NAME: FIELD: MESSAGE`, where
//! LINE:COL is the position of the field (or syntax error) when known and documents are
//! counted from 1. Parts that are unknown are left out.
//!
//! JSON (field names are stable):
//! `{"severity": "error"|"warning", "file", "document" (1-based), "documentLine",
//!   "line", "column", "object": {"kind", "namespace", "name"}, "field", "message",
//!   "statusTarget": {"kind": "TopLevel"|"Mesh"|"TrafficTarget", "key"}}`;
//! absent parts are `null`.

use std::fmt;

use serde_json::{Value, json};

use super::diag::{Diagnostic, Severity, StatusTarget};

impl Severity {
    /// `error` or `warning`, as diagnostics print it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The diagnostic without its severity: `FILE[:LINE:COL]: document N: OBJECT: FIELD: MESSAGE`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(src) = &self.source {
            f.write_str(&src.file)?;
            if let Some((line, col)) = self.position {
                write!(f, ":{line}:{col}")?;
            }
            // A document number is noise for whole-file problems (unreadable, empty).
            if src.line.is_some() {
                write!(f, ": document {}", src.doc + 1)?;
            }
            f.write_str(": ")?;
        } else if let Some((line, col)) = self.position {
            write!(f, "line {line}, column {col}: ")?;
        }
        if let Some(obj) = &self.object {
            if obj.name.is_empty() {
                write!(f, "{} {}/<no name>: ", obj.kind, obj.namespace)?;
            } else {
                write!(f, "{obj}: ")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl StatusTarget {
    fn to_json(&self) -> Value {
        match self {
            StatusTarget::TopLevel => json!({"kind": "TopLevel", "key": null}),
            StatusTarget::Mesh(k) => json!({"kind": "Mesh", "key": k}),
            StatusTarget::TrafficTarget(k) => json!({"kind": "TrafficTarget", "key": k}),
        }
    }
}

impl Diagnostic {
    /// The stable JSON form (see the module documentation).
    pub fn to_json(&self) -> Value {
        json!({
            "severity": self.severity.as_str(),
            "file": self.source.as_ref().map(|s| s.file.clone()),
            "document": self.source.as_ref().filter(|s| s.line.is_some()).map(|s| s.doc + 1),
            "documentLine": self.source.as_ref().and_then(|s| s.line),
            "line": self.position.map(|p| p.0),
            "column": self.position.map(|p| p.1),
            "object": self.object.as_ref().map(|o| json!({
                "kind": o.kind, "namespace": o.namespace, "name": o.name,
            })),
            "field": self.field,
            "message": self.message,
            "statusTarget": self.status_target.as_ref().map(StatusTarget::to_json),
        })
    }
}

/// Drop diagnostics that differ only in their status target, keeping the first.
pub fn dedupe_for_display(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    use std::collections::HashSet;
    let mut seen = HashSet::with_capacity(diagnostics.len());
    diagnostics
        .iter()
        .filter(|d| {
            seen.insert((
                d.severity, &d.source, &d.object, &d.field, d.position, &d.message,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::diag::{ObjectId, Source};

    fn diag() -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            source: Some(Source {
                file: "examples/bad.yaml".into(),
                doc: 0,
                line: Some(1),
            }),
            object: Some(ObjectId {
                kind: "FailoverService".into(),
                namespace: "service-mesh-hub".into(),
                name: "reviews-failover".into(),
            }),
            field: Some("spec.port.number".into()),
            position: Some((9, 13)),
            message: "must be between 1 and 65535, inclusive".into(),
            status_target: Some(StatusTarget::Mesh("m.service-mesh-hub.".into())),
        }
    }

    #[test]
    fn one_line() {
        assert_eq!(
            diag().to_string(),
            "examples/bad.yaml:9:13: document 1: FailoverService service-mesh-hub/reviews-failover: spec.port.number: must be between 1 and 65535, inclusive"
        );
        let mut d = diag();
        d.position = None;
        d.object = None;
        d.field = None;
        d.source.as_mut().unwrap().line = None;
        d.message = "the path \"x\" does not exist".into();
        assert_eq!(
            d.to_string(),
            "examples/bad.yaml: the path \"x\" does not exist"
        );
    }

    #[test]
    fn json_is_stable() {
        assert_eq!(
            diag().to_json(),
            json!({
                "severity": "error", "file": "examples/bad.yaml", "document": 1, "documentLine": 1,
                "line": 9, "column": 13,
                "object": {"kind": "FailoverService", "namespace": "service-mesh-hub", "name": "reviews-failover"},
                "field": "spec.port.number", "message": "must be between 1 and 65535, inclusive",
                "statusTarget": {"kind": "Mesh", "key": "m.service-mesh-hub."}
            })
        );
    }

    #[test]
    fn dedupe_ignores_status_targets() {
        let a = diag();
        let mut b = diag();
        b.status_target = Some(StatusTarget::Mesh("other.service-mesh-hub.".into()));
        let mut c = diag();
        c.message = "other".into();
        let all = [a, b, c];
        assert_eq!(dedupe_for_display(&all).len(), 2);
    }
}
