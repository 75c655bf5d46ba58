//! Diagnostics: every problem validation finds, with where it is.

use std::fmt;

use serde::Serialize;

/// Where a manifest came from: the file (`-` for stdin) and the 0-based index of the YAML
/// document in it, plus the 1-based line where the document starts, when known.
/// Displayed for people with documents counted from 1: `file.yaml: document 1 (line 1)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    /// The input's label: a path, or `-` for stdin.
    pub file: String,
    /// 0-based index of the YAML document in the input.
    pub doc: usize,
    /// 1-based line where the document starts, when known.
    pub line: Option<usize>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "{}: document {} (line {})",
                self.file,
                self.doc + 1,
                line
            ),
            None => write!(f, "{}: document {}", self.file, self.doc + 1),
        }
    }
}

/// Identifies an object: kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    /// `FailoverService` or `TrafficPolicy`.
    pub kind: String,
    /// The namespace (defaulted when the object has none).
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// How bad a problem is, for validation diagnostics and for the findings of `describe`,
/// `check` and the cluster-id check alike. Serialized (and displayed) lowercase: `error`,
/// `warning`. `Error` sorts before `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input is wrong, or failover does not work as configured (or the configuration is
    /// not what is in effect): validation fails, `check` fails.
    Error,
    /// Works, but not as well as it could, or something could not be checked: reported,
    /// never a failure on its own.
    Warning,
}

/// Which part of an SMH status a diagnostic belongs to, so `apply` can write status the way
/// SMH's controller did: per mesh for a FailoverService, per traffic target for a
/// TrafficPolicy, or top-level `errors`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusTarget {
    /// `status.errors` of the object.
    TopLevel,
    /// `status.meshes[<key>]` of a FailoverService (key `name.namespace.`).
    Mesh(String),
    /// `status.trafficTargets[<key>]` of a TrafficPolicy (key `name.namespace.`).
    TrafficTarget(String),
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// An error (the input is rejected) or a warning.
    pub severity: Severity,
    /// The file and document; `None` for problems of the whole input.
    pub source: Option<Source>,
    /// The object, when the problem is about one.
    pub object: Option<ObjectId>,
    /// Field path, e.g. `spec.backingServices[1].kubeService.name`.
    pub field: Option<String>,
    /// Line and column (1-based) of the field or syntax error, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong, for people (SMH's own words where SMH reported it).
    pub message: String,
    /// Where SMH would report it in status; `None` for problems SMH never had (lint).
    pub status_target: Option<StatusTarget>,
}
