//! The API server's semantics, independent of HTTP: what create, update, patch and delete do
//! to the store (admission: identity metadata, status subresource rules, defaulting,
//! validation, field ownership; dry runs; finalizers; namespace and CRD lifecycles; garbage
//! collection by owner references).
//!
//! The HTTP layer ([`super::http`]) is a thin adapter over [`ApiCore`]; in-process code
//! (controllers, the demo's workloads) may call it too, to write objects exactly as a client
//! of the real API would, or use the [`Store`] directly to bypass admission.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::apply::{self};
use super::defaults::{Allocators, apply_defaults};
use super::registry::{Registry, ResourceInfo};
use super::selector::{FieldSelector, LabelSelector};
use super::status::{ApiError, Cause};
use crate::store::{Event, EventType, Gvr, Store};

mod delete;
mod patch_ops;
mod write;

/// `?fieldValidation=`: what to do with fields a custom resource's schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them and answer a `Warning` header (the server's default).
    #[default]
    Warn,
    /// Reject the request (400).
    Strict,
}

impl FieldValidation {
    pub fn parse(s: Option<&str>) -> Result<Self, ApiError> {
        match s {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation: Invalid value: {other:?}: fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\""
            ))),
        }
    }
}

/// Options of a write request.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: run admission, store nothing.
    pub dry_run: bool,
    /// `fieldManager`; required for apply.
    pub field_manager: Option<String>,
    /// `fieldValidation`: what to do with fields the schema does not declare.
    pub field_validation: FieldValidation,
    /// `force` (apply only).
    pub force: bool,
    /// The client's User-Agent, for the default field manager of updates.
    pub user_agent: Option<String>,
}

impl WriteOptions {
    fn manager(&self) -> String {
        if let Some(m) = self.field_manager.as_deref().filter(|m| !m.is_empty()) {
            return m.to_string();
        }
        // Kubernetes uses the User-Agent up to the first '/'.
        self.user_agent
            .as_deref()
            .and_then(|ua| ua.split('/').next())
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .to_string()
    }
}

/// The outcome of a write.
#[derive(Debug, Clone)]
pub struct Written {
    /// The object as stored (or as it would be stored, for a dry run), in the requested version.
    pub object: Value,
    /// `Warning` header texts.
    pub warnings: Vec<String>,
    /// True when the write created the object (201).
    pub created: bool,
}

/// PATCH flavours, by Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchType {
    /// `application/merge-patch+json`
    Merge,
    /// `application/json-patch+json`
    Json,
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply)
    Apply,
}

impl PatchType {
    /// The patch type of a Content-Type header (parameters ignored).
    pub(crate) fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

/// Subresources served besides the object itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subresource {
    Status,
    Scale,
}

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Propagation {
    /// Dependents are deleted by the garbage collector after the owner.
    #[default]
    Background,
    /// Treated like Background: the owner goes at once, the collector deletes dependents.
    Foreground,
    /// Dependents lose their owner reference and stay.
    Orphan,
}

/// Options of a delete request.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOptions {
    pub dry_run: bool,
    pub propagation: Propagation,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
}

impl DeleteOptions {
    /// Read a `DeleteOptions` body (and `?propagationPolicy=` / `?dryRun=` already merged in by
    /// the caller).
    pub(crate) fn from_body(body: &Value, mut base: DeleteOptions) -> Result<Self, ApiError> {
        if let Some(p) = body.get("propagationPolicy").and_then(Value::as_str) {
            base.propagation = parse_propagation(p)?;
        } else if let Some(orphan) = body.get("orphanDependents").and_then(Value::as_bool) {
            base.propagation = if orphan {
                Propagation::Orphan
            } else {
                Propagation::Background
            };
        }
        if let Some(d) = body.get("dryRun").and_then(Value::as_array)
            && d.iter().any(|x| x.as_str() == Some("All"))
        {
            base.dry_run = true;
        }
        if let Some(uid) = body.pointer("/preconditions/uid").and_then(Value::as_str) {
            base.precondition_uid = Some(uid.to_string());
        }
        if let Some(rv) = body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
        {
            base.precondition_resource_version = Some(rv.to_string());
        }
        Ok(base)
    }
}

/// Parse a `propagationPolicy` value.
pub(crate) fn parse_propagation(p: &str) -> Result<Propagation, ApiError> {
    match p {
        "Background" => Ok(Propagation::Background),
        "Foreground" => Ok(Propagation::Foreground),
        "Orphan" => Ok(Propagation::Orphan),
        other => Err(ApiError::bad_request(format!(
            "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
        ))),
    }
}

pub(crate) fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn meta<'a>(o: &'a Value, f: &str) -> &'a str {
    o.get("metadata")
        .and_then(|m| m.get(f))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn meta_mut(o: &mut Value) -> &mut Map<String, Value> {
    let root = match o {
        Value::Object(m) => m,
        other => {
            *other = Value::Object(Map::new());
            other.as_object_mut().expect("object")
        }
    };
    let m = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !m.is_object() {
        *m = Value::Object(Map::new());
    }
    m.as_object_mut().expect("object")
}

fn random_suffix() -> String {
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| CHARS[fastrand::usize(..CHARS.len())] as char)
        .collect()
}

/// How a write's field ownership is recorded.
enum Tracking {
    /// An Update by this manager; `client` is managedFields the client rewrote itself.
    Update {
        manager: String,
        client: Option<Vec<apply::ManagedEntry>>,
    },
    /// Already recorded (server-side apply).
    Done,
}

/// One simulated API server's semantics.
pub struct ApiCore {
    cluster: String,
    store: Arc<Store>,
    registry: Arc<Registry>,
    alloc: Allocators,
}

impl ApiCore {
    /// A server over `store`, serving the built-in kinds. CRDs already in the store are not
    /// served until [`ApiCore::resync_crds`] runs.
    pub fn new(cluster: &str, store: Arc<Store>) -> Self {
        ApiCore {
            cluster: cluster.to_string(),
            store,
            registry: Arc::new(Registry::with_builtins()),
            alloc: Allocators::default(),
        }
    }

    /// The cluster's name.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The served resource, or 404.
    pub fn resource(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Result<Arc<ResourceInfo>, ApiError> {
        self.registry
            .lookup(group, version, plural)
            .ok_or_else(ApiError::no_route)
    }

    /// A stored object in the requested version's form.
    fn output(&self, res: &ResourceInfo, mut obj: Value) -> Value {
        if let Some(m) = obj.as_object_mut() {
            m.insert("apiVersion".into(), json!(res.api_version()));
            m.insert("kind".into(), json!(res.kind));
        }
        obj
    }

    fn to_storage(&self, res: &ResourceInfo, mut obj: Value) -> Value {
        if let Some(m) = obj.as_object_mut() {
            let gv = if res.group.is_empty() {
                res.storage_version.clone()
            } else {
                format!("{}/{}", res.group, res.storage_version)
            };
            m.insert("apiVersion".into(), json!(gv));
            m.insert("kind".into(), json!(res.kind));
        }
        obj
    }

    /// Is a ClusterIP taken by a Service?
    fn ip_in_use(&self, ip: &str) -> bool {
        let (services, _) = self.store.list(&Gvr::new("", "v1", "services"), None);
        services
            .iter()
            .any(|s| s.pointer("/spec/clusterIP").and_then(Value::as_str) == Some(ip))
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.store
            .get(&Gvr::new("", "v1", "namespaces"), "", ns)
            .is_some()
    }

    fn check_namespace(&self, res: &ResourceInfo, ns: &str) -> Result<(), ApiError> {
        if res.namespaced && !self.namespace_exists(ns) {
            return Err(ApiError::not_found("", "namespaces", ns));
        }
        Ok(())
    }

    fn stored(&self, res: &ResourceInfo, ns: &str, name: &str) -> Result<Value, ApiError> {
        let ns = if res.namespaced { ns } else { "" };
        self.store
            .get(&res.storage_gvr(), ns, name)
            .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))
    }

    /// GET one object.
    pub fn get(&self, res: &ResourceInfo, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.stored(res, ns, name).map(|o| self.output(res, o))
    }

    /// LIST objects (all namespaces when `ns` is `None`), with the store's resourceVersion.
    pub(crate) fn list(
        &self,
        res: &ResourceInfo,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> (Vec<Value>, u64) {
        let ns = if res.namespaced { ns } else { None };
        let (items, rv) = self.store.list(&res.storage_gvr(), ns);
        let items = items
            .into_iter()
            .filter(|o| labels.matches(o) && fields.matches(o))
            .map(|o| self.output(res, o))
            .collect();
        (items, rv)
    }

    /// Serve exactly the CRDs in the store (after in-process writes or missed events).
    pub(crate) fn resync_crds(&self) {
        let gvr = Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions");
        let (crds, _) = self.store.list(&gvr, None);
        let names: Vec<String> = crds.iter().map(|c| meta(c, "name").to_string()).collect();
        for crd in &crds {
            let _ = self.registry.apply_crd(crd);
        }
        for r in self.registry.all() {
            if let Some(n) = &r.crd_name
                && !names.contains(n)
            {
                self.registry.remove_crd(n);
            }
        }
    }

    /// Apply the server's defaults to built-in objects written straight into the store
    /// (bypassing admission, as an in-process seed does), so they look as if they had been
    /// created through the API; `generation` is kept. Returns how many objects changed.
    pub fn default_stored_objects(&self) -> usize {
        let mut changed = 0;
        for res in self.registry.all() {
            if !res.builtin || res.version != res.storage_version {
                continue;
            }
            let gvr = res.storage_gvr();
            let (items, _) = self.store.list(&gvr, None);
            for item in items {
                let mut d = item.clone();
                apply_defaults(&res.group, &res.kind, &mut d, &self.alloc, &|ip| {
                    self.ip_in_use(ip)
                });
                if d != item && self.store.rewrite(&gvr, d).is_ok() {
                    changed += 1;
                }
            }
        }
        changed
    }

    /// Housekeeping for one store event: keep the served CRDs in step, collect garbage.
    pub(crate) fn on_event(&self, ev: &Event) {
        if ev.gvr.group == "apiextensions.k8s.io" && ev.gvr.plural == "customresourcedefinitions" {
            match ev.kind {
                EventType::Deleted => self.registry.remove_crd(meta(&ev.object, "name")),
                _ => {
                    let _ = self.registry.apply_crd(&ev.object);
                }
            }
        }
        if ev.kind == EventType::Deleted {
            let uid = meta(&ev.object, "uid");
            if !uid.is_empty() {
                self.collect_garbage(uid);
            }
        }
    }
}

/// The 409 of a server-side apply that conflicts with other managers: one cause per field.
fn apply_conflict(c: &[apply::Conflict]) -> ApiError {
    let causes: Vec<Cause> = c
        .iter()
        .map(|x| {
            Cause::new(
                "FieldManagerConflict",
                &x.path,
                format!("conflict with {}", x.who),
            )
        })
        .collect();
    ApiError::conflict_with(apply::conflict_message(c), &causes)
}

/// The managedFields a client sent, when it changed them (kubectl rewrites them to move
/// client-side-apply ownership to server-side apply).
fn client_managed(old: &Value, new: &Value) -> Option<Vec<apply::ManagedEntry>> {
    let sent = new.pointer("/metadata/managedFields")?;
    if Some(sent) == old.pointer("/metadata/managedFields") {
        return None;
    }
    Some(apply::read_managed(new))
}

/// The status a CRD gets once its names are accepted: NamesAccepted and Established.
fn set_crd_status(crd: &mut Value, old: Option<&Value>) {
    let spec = crd.get("spec").cloned().unwrap_or_else(|| json!({}));
    let mut names = spec.get("names").cloned().unwrap_or_else(|| json!({}));
    if let Some(n) = names.as_object_mut() {
        let kind = n
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        n.entry("singular")
            .or_insert_with(|| json!(kind.to_lowercase()));
        n.entry("listKind")
            .or_insert_with(|| json!(format!("{kind}List")));
    }
    let storage: Vec<Value> = spec
        .get("versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    let mut stored_versions: Vec<Value> = old
        .and_then(|o| o.pointer("/status/storedVersions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for s in storage {
        if !stored_versions.contains(&s) {
            stored_versions.push(s);
        }
    }
    let since = |t: &str| -> String {
        old.and_then(|o| o.pointer("/status/conditions"))
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("type").and_then(Value::as_str) == Some(t))
            })
            .and_then(|c| c.get("lastTransitionTime"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(now)
    };
    let status = json!({
        "acceptedNames": names,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": since("NamesAccepted")},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": since("Established")},
        ],
        "storedVersions": stored_versions,
    });
    if let Some(m) = crd.as_object_mut() {
        m.insert("status".into(), status);
    }
}
