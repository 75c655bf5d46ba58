//! Writes: admission (type, namespace, defaults, validation, managed fields), create, update and
//! the commit to the store with its resourceVersion precondition.

use serde_json::{Value, json};

use super::{
    ApiCore, FieldValidation, Subresource, Tracking, WriteOptions, Written, client_managed, meta,
    meta_mut, now, random_suffix, set_crd_status,
};
use crate::api::apply::{self, Scope, Writer};
use crate::api::defaults::apply_defaults;
use crate::api::registry::ResourceInfo;
use crate::api::schema::SchemaRef;
use crate::api::status::{ApiError, Cause};
use crate::api::validate;
use crate::store::StoreError;

impl ApiCore {
    pub(super) fn check_type(&self, res: &ResourceInfo, body: &Value) -> Result<(), ApiError> {
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
    pub(super) fn admit(
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
            match crate::api::registry::crd_resources(&new) {
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

    pub(super) fn create_tracked(
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
            if crate::store::tracks_generation(&res.storage_gvr()) {
                m.insert("generation".into(), json!(1));
            }
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

    pub(super) fn store_error(&self, res: &ResourceInfo, name: &str, e: StoreError) -> ApiError {
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
    pub(super) fn commit(
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
            if old.get("spec") != obj.get("spec")
                && crate::store::tracks_generation(&res.storage_gvr())
            {
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
    pub(crate) fn update(
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
        // Custom resources and CRDs allow no unconditional update, as on a real server.
        if sent_rv.is_empty() && (res.crd_name.is_some() || res.kind == "CustomResourceDefinition")
        {
            // A custom resource's error names its plural, as the real server's does.
            let what = if res.crd_name.is_some() {
                &res.plural
            } else {
                &res.kind
            };
            return Err(ApiError::invalid(
                &res.group,
                what,
                name,
                vec![Cause::new(
                    "FieldValueInvalid",
                    "metadata.resourceVersion",
                    "Invalid value: 0: must be specified for an update",
                )],
            ));
        }
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
    pub(super) fn scoped(
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
}
