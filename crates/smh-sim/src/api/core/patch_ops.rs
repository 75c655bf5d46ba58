//! PATCH in its four types (merge, JSON, strategic merge, server-side apply), on the object, its
//! status or its scale.

use serde_json::{Value, json};

use super::{
    ApiCore, PatchType, Subresource, Tracking, WriteOptions, Written, apply_conflict,
    client_managed, meta, meta_mut, now,
};
use crate::api::apply::{self, Scope, ServerApplyResult, Writer};
use crate::api::patch;
use crate::api::registry::ResourceInfo;
use crate::api::schema::{SchemaRef, builtin_schema};
use crate::api::status::{ApiError, Cause};

impl ApiCore {
    /// PATCH an object (or its status or scale).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn patch(
        &self,
        res: &ResourceInfo,
        ns: &str,
        name: &str,
        ptype: PatchType,
        body: &Value,
        sub: Option<Subresource>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        check_patch_request(res, ns, name, ptype, body, sub, opts)?;
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
            let patched = self.patched(
                res,
                &view,
                body,
                ptype,
                SchemaRef(schema),
                scope,
                opts,
                &mut tracking,
            )?;
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

    /// `body` applied to `view` as a patch of type `ptype`. A server-side apply records the
    /// managed fields itself (`tracking` becomes [`Tracking::Done`]); its conflicts with other
    /// managers are a 409 naming each field.
    #[allow(clippy::too_many_arguments)]
    fn patched(
        &self,
        res: &ResourceInfo,
        view: &Value,
        body: &Value,
        ptype: PatchType,
        schema: SchemaRef<'_>,
        scope: Scope,
        opts: &WriteOptions,
        tracking: &mut Tracking,
    ) -> Result<Value, ApiError> {
        match ptype {
            PatchType::Merge => {
                let mut v = view.clone();
                patch::merge_patch(&mut v, body);
                Ok(v)
            }
            PatchType::Json => {
                let mut v = view.clone();
                patch::apply_json_patch(&mut v, body).map_err(ApiError::unprocessable)?;
                Ok(v)
            }
            PatchType::Strategic => {
                patch::strategic_merge(view, body, schema).map_err(ApiError::unprocessable)
            }
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
                *tracking = Tracking::Done;
                match apply::server_side_apply(view, body, schema, &w, opts.force)
                    .map_err(ApiError::unprocessable)?
                {
                    ServerApplyResult::Applied(v) => Ok(v),
                    ServerApplyResult::Conflicts(c) => Err(apply_conflict(&c)),
                }
            }
        }
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
            ServerApplyResult::Applied(v) => v,
            ServerApplyResult::Conflicts(_) => unreachable!("forced apply has no conflicts"),
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

    pub(super) fn update_scale(
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
}

/// A real server refuses a server-side apply of a built-in kind with a top-level field its
/// schema does not declare (500, "field not declared in schema"), whatever `fieldValidation`
/// says. Checked for the kinds whose top level the simulator's schemas declare completely:
/// those with a `spec`, and ConfigMaps.
fn check_apply_fields(
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    body: &Value,
) -> Result<(), ApiError> {
    let Some(props) = res
        .schema
        .as_deref()
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    if !res.builtin || !(props.contains_key("spec") || res.kind == "ConfigMap") {
        return Ok(());
    }
    let Some(unknown) = body
        .as_object()
        .and_then(|m| m.keys().find(|k| !props.contains_key(*k)))
    else {
        return Ok(());
    };
    let at = if res.namespaced {
        format!("{ns}/{name}")
    } else {
        name.to_string()
    };
    let group = if res.group.is_empty() { "" } else { &res.group };
    Err(ApiError::internal_bare(format!(
        "failed to create typed patch object ({at}; {group}/{}, Kind={}): .{unknown}: field not declared in schema",
        res.version, res.kind
    )))
}

/// What a real server refuses of a PATCH before reading the object: a strategic merge of a
/// custom resource (415), and of a server-side apply: no field manager (422), another
/// object's name (400), a field the kind does not have (500).
fn check_patch_request(
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    ptype: PatchType,
    body: &Value,
    sub: Option<Subresource>,
    opts: &WriteOptions,
) -> Result<(), ApiError> {
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
    if ptype != PatchType::Apply {
        return Ok(());
    }
    if opts.field_manager.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            vec![Cause::new(
                "FieldValueRequired",
                "fieldManager",
                "Required value: is required for apply patch",
            )],
        ));
    }
    check_apply_fields(res, ns, name, body)?;
    let bname = meta(body, "name");
    if !bname.is_empty() && bname != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({bname}) does not match the name on the URL ({name})"
        )));
    }
    Ok(())
}
