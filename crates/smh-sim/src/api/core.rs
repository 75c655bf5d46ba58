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

use super::apply::{self, ApplyOutcome, Scope, Writer};
use super::defaults::{Allocators, apply_defaults};
use super::patch;
use super::registry::{Registry, ResourceInfo};
use super::schema::{SchemaRef, builtin_schema};
use super::selector::{FieldSelector, LabelSelector};
use super::status::{ApiError, Cause};
use super::validate;
use crate::store::{Event, EventType, Gvr, Store, StoreError};

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
pub enum PatchType {
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
    pub fn from_content_type(ct: &str) -> Option<Self> {
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
pub enum Subresource {
    Status,
    Scale,
}

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
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
pub struct DeleteOptions {
    pub dry_run: bool,
    pub propagation: Propagation,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
}

impl DeleteOptions {
    /// Read a `DeleteOptions` body (and `?propagationPolicy=` / `?dryRun=` already merged in by
    /// the caller).
    pub fn from_body(body: &Value, mut base: DeleteOptions) -> Result<Self, ApiError> {
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
pub fn parse_propagation(p: &str) -> Result<Propagation, ApiError> {
    match p {
        "Background" => Ok(Propagation::Background),
        "Foreground" => Ok(Propagation::Foreground),
        "Orphan" => Ok(Propagation::Orphan),
        other => Err(ApiError::bad_request(format!(
            "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
        ))),
    }
}

fn now() -> String {
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
    pub fn list(
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

    fn check_type(&self, res: &ResourceInfo, body: &Value) -> Result<(), ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request(format!(
                "the body of the request must be a JSON object ({} expected)",
                res.kind
            )));
        }
        if let Some(kind) = body.get("kind").and_then(Value::as_str)
            && !kind.is_empty()
            && kind != res.kind
        {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({kind}) does not match the expected kind ({})",
                res.kind
            )));
        }
        if let Some(av) = body.get("apiVersion").and_then(Value::as_str)
            && !av.is_empty()
            && av != res.api_version()
        {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                res.api_version()
            )));
        }
        Ok(())
    }

    fn check_request_namespace(
        &self,
        res: &ResourceInfo,
        ns: &str,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        let m = meta_mut(obj);
        if res.namespaced {
            match m.get("namespace").and_then(Value::as_str) {
                Some(bns) if !bns.is_empty() && bns != ns => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => {
                    m.insert("namespace".into(), json!(ns));
                }
            }
        } else {
            m.remove("namespace");
        }
        Ok(())
    }

    /// Admission shared by every write: identity, status rules, defaults, validation,
    /// ownership. Returns the object to store (in the requested version) and warnings.
    fn admit(
        &self,
        res: &ResourceInfo,
        old: Option<&Value>,
        mut new: Value,
        opts: &WriteOptions,
        scope: Scope,
        tracking: Tracking,
    ) -> Result<(Value, Vec<String>), ApiError> {
        let mut warnings = Vec::new();
        if let Some(old) = old {
            let om = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
            let m = meta_mut(&mut new);
            for keep in [
                "uid",
                "creationTimestamp",
                "generation",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "resourceVersion",
            ] {
                match om.get(keep) {
                    Some(v) => {
                        m.insert(keep.into(), v.clone());
                    }
                    None => {
                        m.remove(keep);
                    }
                }
            }
            if res.kind == "Service" && res.group.is_empty() {
                // clusterIP is immutable; an update that omits it keeps it.
                let old_ip = old.pointer("/spec/clusterIP").cloned();
                if let (Some(ip), Some(spec)) =
                    (old_ip, new.get_mut("spec").and_then(Value::as_object_mut))
                    && spec
                        .get("clusterIP")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                {
                    spec.insert("clusterIP".into(), ip.clone());
                    spec.insert("clusterIPs".into(), json!([ip]));
                }
            }
        }
        apply_defaults(&res.group, &res.kind, &mut new, &self.alloc, &|ip| {
            self.ip_in_use(ip)
        });

        let name = meta(&new, "name").to_string();
        let mut causes: Vec<Cause> = Vec::new();
        if let Some(c) = validate::check_name(&res.group, &res.kind, &name) {
            causes.push(c);
        }
        if res.builtin {
            causes.extend(validate::check_builtin(&res.group, &res.kind, &new));
        } else if let Some(schema) = &res.schema {
            let report = validate::check_custom_resource(&mut new, schema);
            causes.extend(report.causes);
            if !report.unknown.is_empty() {
                match opts.field_validation {
                    FieldValidation::Strict => {
                        let list: Vec<String> = report
                            .unknown
                            .iter()
                            .map(|u| format!("unknown field \"{u}\""))
                            .collect();
                        return Err(ApiError::bad_request(format!(
                            "{kind} in version \"{v}\" cannot be handled as a {kind}: strict decoding error: {}",
                            list.join(", "),
                            kind = res.kind,
                            v = res.version,
                        )));
                    }
                    FieldValidation::Warn => {
                        warnings.extend(
                            report
                                .unknown
                                .iter()
                                .map(|u| format!("unknown field \"{u}\"")),
                        );
                    }
                    FieldValidation::Ignore => {}
                }
            }
        }
        if res.group == "apiextensions.k8s.io" && res.kind == "CustomResourceDefinition" {
            match super::registry::crd_resources(&new) {
                Err(c) => causes.extend(c),
                Ok(_) => set_crd_status(&mut new, old),
            }
        }
        if !causes.is_empty() {
            return Err(ApiError::invalid(&res.group, &res.kind, &name, causes));
        }
        if let Tracking::Update { manager, client } = tracking {
            let time = now();
            let api_version = res.api_version();
            let w = Writer {
                manager: &manager,
                api_version: &api_version,
                time: &time,
                scope,
            };
            let schema = res.schema.as_deref();
            apply::track_update(old, &mut new, SchemaRef(schema), &w, client)
                .map_err(ApiError::unprocessable)?;
        }
        Ok((new, warnings))
    }

    fn post_write(&self, res: &ResourceInfo, stored: &Value) {
        if res.group == "apiextensions.k8s.io" && res.kind == "CustomResourceDefinition" {
            // Validated during admission, so this cannot fail.
            let _ = self.registry.apply_crd(stored);
        }
    }

    /// POST: create an object.
    pub fn create(
        &self,
        res: &ResourceInfo,
        ns: &str,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        self.create_tracked(res, ns, body, opts, None)
    }

    fn create_tracked(
        &self,
        res: &ResourceInfo,
        ns: &str,
        mut body: Value,
        opts: &WriteOptions,
        applied_by: Option<&str>,
    ) -> Result<Written, ApiError> {
        self.check_type(res, &body)?;
        self.check_request_namespace(res, ns, &mut body)?;
        {
            let m = meta_mut(&mut body);
            if m.get("resourceVersion")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
            {
                return Err(ApiError::bad_request(
                    "resourceVersion should not be set on objects to be created",
                ));
            }
            for strip in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "generation",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
            ] {
                m.remove(strip);
            }
            if applied_by.is_none() {
                m.remove("managedFields");
            }
        }
        let generate = meta(&body, "generateName").to_string();
        if meta(&body, "name").is_empty() {
            if generate.is_empty() {
                return Err(ApiError::invalid(
                    &res.group,
                    &res.kind,
                    "",
                    vec![Cause::new(
                        "FieldValueRequired",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    )],
                ));
            }
            meta_mut(&mut body).insert(
                "name".into(),
                json!(format!("{generate}{}", random_suffix())),
            );
        }
        self.check_namespace(res, ns)?;
        if res.status_subresource
            && let Some(m) = body.as_object_mut()
        {
            m.remove("status");
        }
        let tracking = match applied_by {
            Some(_) => Tracking::Done,
            None => Tracking::Update {
                manager: opts.manager(),
                client: None,
            },
        };
        let scope = Scope::Main {
            status_subresource: res.status_subresource,
        };
        let (mut obj, warnings) = self.admit(res, None, body, opts, scope, tracking)?;
        if opts.dry_run {
            let m = meta_mut(&mut obj);
            m.insert(
                "uid".into(),
                json!(format!(
                    "00000000-0000-4000-8000-{:012x}",
                    fastrand::u64(..1 << 48)
                )),
            );
            m.insert("creationTimestamp".into(), json!(now()));
            m.insert("generation".into(), json!(1));
            let ns_key = if res.namespaced { ns } else { "" };
            if self
                .store
                .get(&res.storage_gvr(), ns_key, meta(&obj, "name"))
                .is_some()
            {
                return Err(ApiError::already_exists(
                    &res.group,
                    &res.plural,
                    meta(&obj, "name"),
                ));
            }
            return Ok(Written {
                object: self.output(res, obj),
                warnings,
                created: true,
            });
        }
        let mut attempts = 0;
        loop {
            match self
                .store
                .create(&res.storage_gvr(), self.to_storage(res, obj.clone()))
            {
                Ok(stored) => {
                    self.post_write(res, &stored);
                    return Ok(Written {
                        object: self.output(res, stored),
                        warnings,
                        created: true,
                    });
                }
                Err(StoreError::AlreadyExists(_)) if !generate.is_empty() && attempts < 8 => {
                    attempts += 1;
                    meta_mut(&mut obj).insert(
                        "name".into(),
                        json!(format!("{generate}{}", random_suffix())),
                    );
                }
                Err(e) => return Err(self.store_error(res, meta(&obj, "name"), e)),
            }
        }
    }

    fn store_error(&self, res: &ResourceInfo, name: &str, e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(_) => ApiError::not_found(&res.group, &res.plural, name),
            StoreError::AlreadyExists(_) => ApiError::already_exists(&res.group, &res.plural, name),
            StoreError::Conflict(_) => ApiError::conflict(&res.group, &res.plural, name),
            StoreError::Gone(rv) => ApiError::expired(format!("too old resource version: {rv}")),
            StoreError::Invalid(m) => ApiError::invalid(
                &res.group,
                &res.kind,
                name,
                vec![Cause::new("FieldValueInvalid", "", m)],
            ),
        }
    }

    /// Store an admitted update of `old`; a concurrent change in between is a Conflict.
    fn commit(
        &self,
        res: &ResourceInfo,
        old: &Value,
        mut obj: Value,
        warnings: Vec<String>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let rv = meta(old, "resourceVersion").to_string();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        if opts.dry_run {
            if old.get("spec") != obj.get("spec") {
                let g = old
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                meta_mut(&mut obj).insert("generation".into(), json!(g + 1));
            }
            return Ok(Written {
                object: self.output(res, obj),
                warnings,
                created: false,
            });
        }
        let name = meta(&obj, "name").to_string();
        let stored = self
            .store
            .update(&res.storage_gvr(), self.to_storage(res, obj))
            .map_err(|e| self.store_error(res, &name, e))?;
        self.post_write(res, &stored);
        // An object being deleted goes once its last finalizer is removed.
        let finalizers_done = stored
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if stored.pointer("/metadata/deletionTimestamp").is_some() && finalizers_done {
            let ns = meta(&stored, "namespace").to_string();
            let deleted = self.finish_delete(res, &ns, &name)?;
            return Ok(Written {
                object: self.output(res, deleted),
                warnings,
                created: false,
            });
        }
        Ok(Written {
            object: self.output(res, stored),
            warnings,
            created: false,
        })
    }

    /// PUT: replace an object (or its status).
    pub fn update(
        &self,
        res: &ResourceInfo,
        ns: &str,
        name: &str,
        mut body: Value,
        sub: Option<Subresource>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        if sub == Some(Subresource::Scale) {
            return self.update_scale(res, ns, name, body, opts);
        }
        self.check_type(res, &body)?;
        self.check_request_namespace(res, ns, &mut body)?;
        let bname = meta(&body, "name");
        if bname != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({bname}) does not match the name on the URL ({name})"
            )));
        }
        let old = self.stored(res, ns, name)?;
        let sent_rv = meta(&body, "resourceVersion");
        if !sent_rv.is_empty() && sent_rv != meta(&old, "resourceVersion") {
            return Err(ApiError::conflict(&res.group, &res.plural, name));
        }
        let client = client_managed(&old, &body);
        let (new, scope) = self.scoped(res, &old, body, sub);
        let tracking = Tracking::Update {
            manager: opts.manager(),
            client,
        };
        let (obj, warnings) = self.admit(res, Some(&old), new, opts, scope, tracking)?;
        self.commit(res, &old, obj, warnings, opts)
    }

    /// What a write of `body` to the object or its status subresource makes of `old`.
    fn scoped(
        &self,
        res: &ResourceInfo,
        old: &Value,
        body: Value,
        sub: Option<Subresource>,
    ) -> (Value, Scope) {
        match sub {
            Some(Subresource::Status) => {
                let mut new = old.clone();
                if let Some(m) = new.as_object_mut() {
                    match body.get("status") {
                        Some(s) => {
                            m.insert("status".into(), s.clone());
                        }
                        None => {
                            m.remove("status");
                        }
                    }
                }
                if let Some(mf) = body.pointer("/metadata/managedFields") {
                    meta_mut(&mut new).insert("managedFields".into(), mf.clone());
                }
                (new, Scope::Status)
            }
            _ => {
                let mut new = body;
                if res.status_subresource
                    && let Some(m) = new.as_object_mut()
                {
                    match old.get("status") {
                        Some(s) => {
                            m.insert("status".into(), s.clone());
                        }
                        None => {
                            m.remove("status");
                        }
                    }
                }
                (
                    new,
                    Scope::Main {
                        status_subresource: res.status_subresource,
                    },
                )
            }
        }
    }

    /// PATCH an object (or its status or scale).
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        res: &ResourceInfo,
        ns: &str,
        name: &str,
        ptype: PatchType,
        body: &Value,
        sub: Option<Subresource>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        if ptype == PatchType::Strategic && !res.builtin && sub != Some(Subresource::Scale) {
            return Err(ApiError::unsupported_media_type(
                "application/strategic-merge-patch+json",
                &[
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/apply-patch+yaml",
                ],
            ));
        }
        if ptype == PatchType::Apply && opts.field_manager.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::bad_request(
                "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
            ));
        }
        let scale_schema = builtin_schema("autoscaling", "v1", "Scale");
        let mut last_err = None;
        for _ in 0..5 {
            let old = match self.stored(res, ns, name) {
                Ok(o) => o,
                Err(e) => {
                    if ptype == PatchType::Apply && sub.is_none() {
                        return self.apply_create(res, ns, name, body, opts);
                    }
                    return Err(e);
                }
            };
            let view = match sub {
                Some(Subresource::Scale) => self.scale_of(res, &old)?,
                _ => self.output(res, old.clone()),
            };
            let schema = match sub {
                Some(Subresource::Scale) => scale_schema.as_ref(),
                _ => res.schema.as_deref(),
            };
            let scope = match sub {
                Some(Subresource::Status) => Scope::Status,
                _ => Scope::Main {
                    status_subresource: res.status_subresource,
                },
            };
            let mut tracking = Tracking::Update {
                manager: opts.manager(),
                client: None,
            };
            let patched = match ptype {
                PatchType::Merge => {
                    let mut v = view.clone();
                    patch::merge_patch(&mut v, body);
                    v
                }
                PatchType::Json => {
                    let mut v = view.clone();
                    patch::apply_json_patch(&mut v, body).map_err(ApiError::unprocessable)?;
                    v
                }
                PatchType::Strategic => patch::strategic_merge(&view, body, SchemaRef(schema))
                    .map_err(ApiError::unprocessable)?,
                PatchType::Apply => {
                    self.check_type(res, body)?;
                    let time = now();
                    let av = res.api_version();
                    let manager = opts.manager();
                    let w = Writer {
                        manager: &manager,
                        api_version: &av,
                        time: &time,
                        scope,
                    };
                    tracking = Tracking::Done;
                    match apply::server_side_apply(&view, body, SchemaRef(schema), &w, opts.force)
                        .map_err(ApiError::unprocessable)?
                    {
                        ApplyOutcome::Applied(v) => v,
                        ApplyOutcome::Conflicts(c) => {
                            let causes: Vec<Cause> = c
                                .iter()
                                .map(|x| {
                                    Cause::new(
                                        "FieldManagerConflict",
                                        &x.path,
                                        format!(
                                            "conflict with \"{}\" using {}",
                                            x.manager, x.api_version
                                        ),
                                    )
                                })
                                .collect();
                            return Err(ApiError::conflict_with(
                                apply::conflict_message(&c),
                                &causes,
                            ));
                        }
                    }
                }
            };
            let prv = meta(&patched, "resourceVersion");
            if !prv.is_empty() && prv != meta(&old, "resourceVersion") {
                return Err(ApiError::conflict(&res.group, &res.plural, name));
            }
            let new_obj = match sub {
                Some(Subresource::Scale) => {
                    let mut n = self.output(res, old.clone());
                    let replicas = patched
                        .pointer("/spec/replicas")
                        .cloned()
                        .unwrap_or(json!(0));
                    if let Some(spec) = n.get_mut("spec").and_then(Value::as_object_mut) {
                        spec.insert("replicas".into(), replicas);
                    }
                    n
                }
                _ => patched,
            };
            if let Tracking::Update { client, .. } = &mut tracking
                && sub != Some(Subresource::Scale)
            {
                *client = client_managed(&old, &new_obj);
            }
            let mut new_obj = new_obj;
            {
                let m = meta_mut(&mut new_obj);
                m.insert("name".into(), json!(name));
                if res.namespaced {
                    m.insert("namespace".into(), json!(ns));
                }
            }
            let (new, scope) = match sub {
                Some(Subresource::Scale) => (
                    new_obj,
                    Scope::Main {
                        status_subresource: res.status_subresource,
                    },
                ),
                s => self.scoped(res, &old, new_obj, s),
            };
            let (obj, warnings) = self.admit(res, Some(&old), new, opts, scope, tracking)?;
            match self.commit(res, &old, obj, warnings, opts) {
                Ok(w) => {
                    if sub == Some(Subresource::Scale) {
                        let stored = self.stored(res, ns, name)?;
                        return Ok(Written {
                            object: self.scale_of(res, &stored)?,
                            warnings: w.warnings,
                            created: false,
                        });
                    }
                    return Ok(w);
                }
                Err(e) if e.reason == "Conflict" => {
                    last_err = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| ApiError::conflict(&res.group, &res.plural, name)))
    }

    /// Server-side apply of an object that does not exist yet: create it.
    fn apply_create(
        &self,
        res: &ResourceInfo,
        ns: &str,
        name: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        self.check_type(res, body)?;
        let bname = meta(body, "name");
        if !bname.is_empty() && bname != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({bname}) does not match the name on the URL ({name})"
            )));
        }
        let time = now();
        let av = res.api_version();
        let manager = opts.manager();
        let w = Writer {
            manager: &manager,
            api_version: &av,
            time: &time,
            scope: Scope::Main {
                status_subresource: res.status_subresource,
            },
        };
        let skeleton = json!({"apiVersion": av, "kind": res.kind, "metadata": {"name": name}});
        let merged = match apply::server_side_apply(
            &skeleton,
            body,
            SchemaRef(res.schema.as_deref()),
            &w,
            true,
        )
        .map_err(ApiError::unprocessable)?
        {
            ApplyOutcome::Applied(v) => v,
            ApplyOutcome::Conflicts(_) => unreachable!("forced apply has no conflicts"),
        };
        self.create_tracked(res, ns, merged, opts, Some(&manager))
    }

    fn scale_of(&self, res: &ResourceInfo, obj: &Value) -> Result<Value, ApiError> {
        if !res.scale_subresource {
            return Err(ApiError::no_route());
        }
        let sel = obj
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        Ok(json!({
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": meta(obj, "name"),
                "namespace": meta(obj, "namespace"),
                "uid": meta(obj, "uid"),
                "resourceVersion": meta(obj, "resourceVersion"),
                "creationTimestamp": meta(obj, "creationTimestamp"),
            },
            "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
            "status": {
                "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
                "selector": sel,
            },
        }))
    }

    /// GET the `scale` subresource.
    pub fn get_scale(&self, res: &ResourceInfo, ns: &str, name: &str) -> Result<Value, ApiError> {
        let obj = self.stored(res, ns, name)?;
        self.scale_of(res, &obj)
    }

    fn update_scale(
        &self,
        res: &ResourceInfo,
        ns: &str,
        name: &str,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let replicas = body
            .pointer("/spec/replicas")
            .cloned()
            .ok_or_else(|| ApiError::bad_request("Scale: spec.replicas is required"))?;
        self.patch(
            res,
            ns,
            name,
            PatchType::Merge,
            &json!({"spec": {"replicas": replicas}}),
            Some(Subresource::Scale),
            opts,
        )
    }

    /// DELETE an object. Returns the object and whether it is gone (`false`: finalizers hold
    /// it, answered with 202).
    pub fn delete(
        &self,
        res: &ResourceInfo,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<(Value, bool), ApiError> {
        let old = self.stored(res, ns, name)?;
        if let Some(uid) = &opts.precondition_uid
            && uid != meta(&old, "uid")
        {
            return Err(ApiError::conflict_with(
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    res.group_resource(),
                    meta(&old, "uid")
                ),
                &[],
            ));
        }
        if let Some(rv) = &opts.precondition_resource_version
            && rv != meta(&old, "resourceVersion")
        {
            return Err(ApiError::conflict(&res.group, &res.plural, name));
        }
        if opts.dry_run {
            return Ok((self.output(res, old), true));
        }
        let has_finalizers = old
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if has_finalizers {
            if old.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok((self.output(res, old), false));
            }
            let mut marked = old.clone();
            let m = meta_mut(&mut marked);
            m.insert("deletionTimestamp".into(), json!(now()));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            let stored = self
                .store
                .update(&res.storage_gvr(), marked)
                .map_err(|e| self.store_error(res, name, e))?;
            return Ok((self.output(res, stored), false));
        }
        if opts.propagation == Propagation::Orphan {
            self.orphan_dependents(meta(&old, "uid"));
        }
        let ns = if res.namespaced { ns } else { "" };
        let deleted = self.finish_delete(res, ns, name)?;
        Ok((self.output(res, deleted), true))
    }

    /// Remove an object for good, with what its kind implies (a namespace's contents, a CRD's
    /// custom resources).
    fn finish_delete(&self, res: &ResourceInfo, ns: &str, name: &str) -> Result<Value, ApiError> {
        if res.group.is_empty() && res.kind == "Namespace" {
            for (gvr, obj_name) in self.store.keys_in_namespace(name) {
                let _ = self.store.delete(&gvr, name, &obj_name);
            }
        }
        if res.group == "apiextensions.k8s.io" && res.kind == "CustomResourceDefinition" {
            if let Some(crd) = self.store.get(&res.storage_gvr(), "", name) {
                let group = crd
                    .pointer("/spec/group")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let plural = crd
                    .pointer("/spec/names/plural")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some(gvr) = self.registry.storage_gvr(group, plural) {
                    let (items, _) = self.store.list(&gvr, None);
                    for o in items {
                        let _ = self
                            .store
                            .delete(&gvr, meta(&o, "namespace"), meta(&o, "name"));
                    }
                }
            }
            self.registry.remove_crd(name);
        }
        self.store
            .delete(&res.storage_gvr(), ns, name)
            .map_err(|e| self.store_error(res, name, e))
    }

    /// DELETE a collection: every matching object.
    pub fn delete_collection(
        &self,
        res: &ResourceInfo,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        opts: &DeleteOptions,
    ) -> Result<Vec<Value>, ApiError> {
        let (items, _) = self.list(res, ns, labels, fields);
        let mut out = Vec::new();
        for o in items {
            match self.delete(res, meta(&o, "namespace"), meta(&o, "name"), opts) {
                Ok((v, _)) => out.push(v),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    fn orphan_dependents(&self, uid: &str) {
        for (gvr, ns, name) in self.store.find_owned_by(uid) {
            if let Some(mut o) = self.store.get(&gvr, &ns, &name) {
                if let Some(refs) = o
                    .pointer_mut("/metadata/ownerReferences")
                    .and_then(Value::as_array_mut)
                {
                    refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
                }
                let _ = self.store.update(&gvr, o);
            }
        }
    }

    /// The garbage collector's step for a deleted owner: dependents that have no other owner
    /// are deleted (their deletion is collected in turn); others lose the reference.
    pub fn collect_garbage(&self, owner_uid: &str) {
        for (gvr, ns, name) in self.store.find_owned_by(owner_uid) {
            let Some(mut o) = self.store.get(&gvr, &ns, &name) else {
                continue;
            };
            let remaining = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .map(|refs| {
                    refs.iter()
                        .filter(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid))
                        .count()
                })
                .unwrap_or(0);
            if remaining == 0 {
                let res = self
                    .registry
                    .all()
                    .into_iter()
                    .find(|r| r.storage_gvr() == gvr);
                match res {
                    Some(res) => {
                        let _ = self.delete(&res, &ns, &name, &DeleteOptions::default());
                    }
                    None => {
                        let _ = self.store.delete(&gvr, &ns, &name);
                    }
                }
            } else {
                if let Some(refs) = o
                    .pointer_mut("/metadata/ownerReferences")
                    .and_then(Value::as_array_mut)
                {
                    refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner_uid));
                }
                let _ = self.store.update(&gvr, o);
            }
        }
    }

    /// Delete every object whose owners are all gone (after missed events).
    pub fn sweep_garbage(&self) {
        let mut uids = std::collections::BTreeSet::new();
        let mut owned: Vec<(Gvr, Value)> = Vec::new();
        for gvr in self.store.resources() {
            let (items, _) = self.store.list(&gvr, None);
            for o in items {
                uids.insert(meta(&o, "uid").to_string());
                if o.pointer("/metadata/ownerReferences").is_some() {
                    owned.push((gvr.clone(), o));
                }
            }
        }
        for (_, o) in owned {
            let refs: Vec<String> = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if !refs.is_empty() && refs.iter().all(|u| !uids.contains(u)) {
                for u in refs {
                    self.collect_garbage(&u);
                }
            }
        }
    }

    /// Serve exactly the CRDs in the store (after in-process writes or missed events).
    pub fn resync_crds(&self) {
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
    pub fn on_event(&self, ev: &Event) {
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
