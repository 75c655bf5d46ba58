//! The resources a simulated cluster serves: the built-in kinds, plus one entry per served
//! version of every established CustomResourceDefinition.
//!
//! Custom resources are stored under their CRD's *storage* version (the store key's version and
//! the stored `apiVersion`), and served under every served version by rewriting `apiVersion`
//! (CRDs without a conversion webhook work this way in Kubernetes too). In-process code that
//! reads custom resources from the [`Store`](crate::store::Store) uses
//! [`Registry::storage_gvr`].

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::schema::builtin_schema;
use super::status::Cause;
use crate::store::Gvr;

/// A printer column of a CRD (`additionalPrinterColumns`).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column header.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub kind: String,
    /// The column's format hint (`name`, `date`, ...), often empty.
    pub format: String,
    /// What the column shows.
    pub description: String,
    /// 0: shown by `kubectl get`; higher: only with `-o wide`.
    pub priority: i64,
    /// Where the cell's value is in the object (a printer-column JSONPath).
    pub json_path: String,
}

/// One served (group, version, resource).
#[derive(Debug, Clone)]
pub struct ResourceInfo {
    /// API group; empty for the core group.
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource name, as in the URL.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// The kind.
    pub kind: String,
    /// The kind of its lists (`DeploymentList`).
    pub list_kind: String,
    /// Short names kubectl accepts (`deploy`).
    pub short_names: Vec<String>,
    /// Categories it belongs to (`all`).
    pub categories: Vec<String>,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Whether `status` is a subresource (written only through `/status`).
    pub status_subresource: bool,
    /// Whether it has a `/scale` subresource.
    pub scale_subresource: bool,
    /// Built-in kinds accept strategic merge patch; custom resources answer 415.
    pub builtin: bool,
    /// The version objects are stored under.
    pub storage_version: String,
    /// OpenAPI v3 schema of the kind (built-in compact schema, or the CRD's).
    pub schema: Option<Arc<Value>>,
    /// CRD printer columns; built-in kinds have their own table printers.
    pub columns: Vec<Column>,
    /// The CRD that serves this resource.
    pub crd_name: Option<String>,
}

impl ResourceInfo {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Where the store keeps these objects.
    pub fn storage_gvr(&self) -> Gvr {
        Gvr::new(&self.group, &self.storage_version, &self.plural)
    }

    /// The API verbs, as discovery lists them.
    pub fn verbs(&self) -> Vec<&'static str> {
        if self.group.is_empty() && self.plural == "namespaces" {
            return vec![
                "create", "delete", "get", "list", "patch", "update", "watch",
            ];
        }
        if !self.builtin {
            // Custom resources, in the order a real server lists their verbs.
            return vec![
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ];
        }
        vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    }
}

mod builtins;

use builtins::{BUILTINS, BuiltinDef};

fn builtin(d: &BuiltinDef) -> ResourceInfo {
    ResourceInfo {
        group: d.group.into(),
        version: d.version.into(),
        plural: d.plural.into(),
        singular: d.kind.to_lowercase(),
        kind: d.kind.into(),
        list_kind: format!("{}List", d.kind),
        short_names: d.short.iter().map(|s| s.to_string()).collect(),
        categories: d.categories.iter().map(|s| s.to_string()).collect(),
        namespaced: d.namespaced,
        status_subresource: d.status,
        scale_subresource: d.scale,
        builtin: true,
        storage_version: d.version.into(),
        schema: builtin_schema(d.group, d.version, d.kind).map(Arc::new),
        columns: Vec::new(),
        crd_name: None,
    }
}

/// Kubernetes' version priority: GA before beta before alpha, higher numbers first, then
/// anything else alphabetically.
pub(crate) fn version_priority_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(v: &str) -> (u8, i64, i64, String) {
        let parsed = (|| {
            let rest = v.strip_prefix('v')?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let major: i64 = digits.parse().ok()?;
            let tail = &rest[digits.len()..];
            if tail.is_empty() {
                return Some((0u8, -major, 0i64));
            }
            for (word, rank) in [("beta", 1u8), ("alpha", 2u8)] {
                if let Some(n) = tail.strip_prefix(word) {
                    let minor: i64 = n.parse().ok()?;
                    return Some((rank, -major, -minor));
                }
            }
            None
        })();
        match parsed {
            Some((r, ma, mi)) => (r, ma, mi, String::new()),
            None => (3, 0, 0, v.to_string()),
        }
    }
    key(a).cmp(&key(b))
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The `additionalPrinterColumns` of a CRD version, as `kubectl get` columns.
fn printer_columns(v: &Value) -> Vec<Column> {
    v.get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .map(|c| {
                    let g = |k: &str| {
                        c.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    Column {
                        name: g("name"),
                        kind: g("type"),
                        format: g("format"),
                        description: g("description"),
                        priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                        json_path: g("jsonPath"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The resources a CRD serves, or why the CRD is invalid.
pub(crate) fn crd_resources(crd: &Value) -> Result<Vec<ResourceInfo>, Vec<Cause>> {
    let mut causes = Vec::new();
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let spec = crd.get("spec");
    let s = |p: &str| {
        spec.and_then(|sp| sp.pointer(p))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let group = s("/group");
    let plural = s("/names/plural");
    let kind = s("/names/kind");
    let scope = s("/scope");
    if group.is_empty() {
        causes.push(Cause::required("spec.group"));
    } else if !group.contains('.') {
        causes.push(Cause::invalid(
            "spec.group",
            &Value::String(group.clone()),
            "should be a domain with at least one dot",
        ));
    }
    if plural.is_empty() {
        causes.push(Cause::required("spec.names.plural"));
    }
    if kind.is_empty() {
        causes.push(Cause::required("spec.names.kind"));
    }
    if !matches!(scope.as_str(), "Namespaced" | "Cluster") {
        causes.push(Cause::new(
            "FieldValueNotSupported",
            "spec.scope",
            format!("Unsupported value: {scope:?}: supported values: \"Cluster\", \"Namespaced\""),
        ));
    }
    if !plural.is_empty() && !group.is_empty() && name != format!("{plural}.{group}") {
        causes.push(Cause::invalid(
            "metadata.name",
            &Value::String(name.to_string()),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let versions = spec
        .and_then(|sp| sp.get("versions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        causes.push(Cause::required("spec.versions"));
    }
    let storage: Vec<String> = versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    if !versions.is_empty() && storage.len() != 1 {
        causes.push(Cause::invalid(
            "spec.versions",
            &Value::Array(versions.clone()),
            "must have exactly one version marked as storage version",
        ));
    }
    if !causes.is_empty() {
        return Err(causes);
    }
    let singular = match s("/names/singular") {
        x if x.is_empty() => kind.to_lowercase(),
        x => x,
    };
    let list_kind = match s("/names/listKind") {
        x if x.is_empty() => format!("{kind}List"),
        x => x,
    };
    let short_names = str_list(spec.and_then(|sp| sp.pointer("/names/shortNames")));
    let categories = str_list(spec.and_then(|sp| sp.pointer("/names/categories")));
    let mut out = Vec::new();
    for v in &versions {
        if v.get("served").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let vname = v.get("name").and_then(Value::as_str).unwrap_or_default();
        let columns = printer_columns(v);
        out.push(ResourceInfo {
            group: group.clone(),
            version: vname.to_string(),
            plural: plural.clone(),
            singular: singular.clone(),
            kind: kind.clone(),
            list_kind: list_kind.clone(),
            short_names: short_names.clone(),
            categories: categories.clone(),
            namespaced: scope == "Namespaced",
            status_subresource: v.pointer("/subresources/status").is_some(),
            scale_subresource: false,
            builtin: false,
            storage_version: storage[0].clone(),
            schema: v.pointer("/schema/openAPIV3Schema").cloned().map(Arc::new),
            columns,
            crd_name: Some(name.to_string()),
        });
    }
    Ok(out)
}

type Key = (String, String, String);

#[derive(Default)]
struct Inner {
    resources: BTreeMap<Key, Arc<ResourceInfo>>,
    generation: u64,
}

/// The served resources of one cluster.
pub struct Registry {
    inner: RwLock<Inner>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::with_builtins()
    }
}

impl Registry {
    /// A registry serving the built-in kinds only.
    pub(crate) fn with_builtins() -> Self {
        let mut inner = Inner::default();
        for d in BUILTINS {
            let r = builtin(d);
            inner.resources.insert(
                (r.group.clone(), r.version.clone(), r.plural.clone()),
                Arc::new(r),
            );
        }
        Registry {
            inner: RwLock::new(inner),
        }
    }

    /// The resource served at `group/version/plural`, if any.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        let inner = self.inner.read().expect("registry lock");
        inner
            .resources
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
            .cloned()
    }

    /// Where the store keeps the objects of `group`/`plural` (any served version).
    pub fn storage_gvr(&self, group: &str, plural: &str) -> Option<Gvr> {
        let inner = self.inner.read().expect("registry lock");
        inner
            .resources
            .values()
            .find(|r| r.group == group && r.plural == plural)
            .map(|r| r.storage_gvr())
    }

    /// Every served resource, sorted by group, version, plural.
    pub fn all(&self) -> Vec<Arc<ResourceInfo>> {
        let inner = self.inner.read().expect("registry lock");
        inner.resources.values().cloned().collect()
    }

    /// Changes whenever the set of resources changes (for caching discovery and OpenAPI).
    pub fn generation(&self) -> u64 {
        self.inner.read().expect("registry lock").generation
    }

    /// Groups with their served versions, preferred (highest priority) version first. The core
    /// group is `""`.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let inner = self.inner.read().expect("registry lock");
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (g, v, _) in inner.resources.keys() {
            let vs = groups.entry(g.clone()).or_default();
            if !vs.contains(v) {
                vs.push(v.clone());
            }
        }
        groups
            .into_iter()
            .map(|(g, mut vs)| {
                vs.sort_by(|a, b| version_priority_cmp(a, b));
                (g, vs)
            })
            .collect()
    }

    /// Serve (or re-serve) the resources of a CRD.
    pub(crate) fn apply_crd(&self, crd: &Value) -> Result<(), Vec<Cause>> {
        let resources = crd_resources(crd)?;
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut inner = self.inner.write().expect("registry lock");
        inner
            .resources
            .retain(|_, r| r.crd_name.as_deref() != Some(name));
        for r in resources {
            inner.resources.insert(
                (r.group.clone(), r.version.clone(), r.plural.clone()),
                Arc::new(r),
            );
        }
        inner.generation += 1;
        Ok(())
    }

    /// Stop serving a CRD's resources.
    pub(crate) fn remove_crd(&self, name: &str) {
        let mut inner = self.inner.write().expect("registry lock");
        let before = inner.resources.len();
        inner
            .resources
            .retain(|_, r| r.crd_name.as_deref() != Some(name));
        if inner.resources.len() != before {
            inner.generation += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_priority() {
        let mut v = vec![
            "v1alpha3",
            "v1",
            "v1beta1",
            "v2",
            "foo",
            "v1alpha10",
            "v10beta1",
        ];
        v.sort_by(|a, b| version_priority_cmp(a, b));
        assert_eq!(
            v,
            vec![
                "v2",
                "v1",
                "v10beta1",
                "v1beta1",
                "v1alpha10",
                "v1alpha3",
                "foo"
            ]
        );
    }

    #[test]
    fn smh_crds_serve_their_resources() {
        let reg = Registry::with_builtins();
        assert!(reg.lookup("apps", "v1", "deployments").unwrap().builtin);
        let crd = &smh_core::model::crd::smh_crds()[0];
        reg.apply_crd(crd).unwrap();
        let r = reg
            .lookup("networking.smh.solo.io", "v1alpha2", "failoverservices")
            .unwrap();
        assert!(r.namespaced && r.status_subresource && !r.builtin);
        assert_eq!(
            r.columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            vec!["Hostname", "Port", "State", "Age"]
        );
        assert_eq!(
            reg.storage_gvr("networking.smh.solo.io", "failoverservices"),
            Some(Gvr::new(
                "networking.smh.solo.io",
                "v1alpha2",
                "failoverservices"
            ))
        );
        reg.remove_crd("failoverservices.networking.smh.solo.io");
        assert!(
            reg.lookup("networking.smh.solo.io", "v1alpha2", "failoverservices")
                .is_none()
        );
    }

    #[test]
    fn invalid_crds_are_rejected() {
        let bad = serde_json::json!({"metadata": {"name": "x.example.com"}, "spec": {"group": "example.com", "names": {"plural": "foos", "kind": "Foo"}, "scope": "Namespaced", "versions": [{"name": "v1", "served": true, "storage": false}]}});
        let causes = crd_resources(&bad).unwrap_err();
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, vec!["metadata.name", "spec.versions"]);
    }
}
