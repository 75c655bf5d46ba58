//! DELETE and garbage collection: finalizers, propagation policies, owner references.

use serde_json::{Value, json};

use super::{ApiCore, DeleteOptions, Propagation, meta, meta_mut, now};
use crate::api::registry::ResourceInfo;
use crate::api::selector::{FieldSelector, LabelSelector};
use crate::api::status::ApiError;
use crate::store::Gvr;

impl ApiCore {
    /// DELETE an object. Returns the object and whether it is gone (`false`: finalizers hold
    /// it, answered with 202).
    pub(crate) fn delete(
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
            return Err(ApiError::precondition_failed(
                res,
                name,
                format!(
                    "the UID in the precondition ({uid}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                    meta(&old, "uid")
                ),
            ));
        }
        if let Some(rv) = &opts.precondition_resource_version
            && rv != meta(&old, "resourceVersion")
        {
            return Err(ApiError::precondition_failed(
                res,
                name,
                format!(
                    "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({}). The object might have been modified",
                    meta(&old, "resourceVersion")
                ),
            ));
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
        if opts.propagation == Propagation::Foreground {
            // As the garbage collector does it, at once: the owner is marked (deletion
            // timestamp, the `foregroundDeletion` finalizer, which the answer shows), its
            // dependents are deleted, then the owner.
            let mut marked = old.clone();
            let m = meta_mut(&mut marked);
            m.insert("deletionTimestamp".into(), json!(now()));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            m.insert("finalizers".into(), json!(["foregroundDeletion"]));
            self.collect_garbage(meta(&old, "uid"));
            self.finish_delete(res, ns, name)?;
            return Ok((self.output(res, marked), false));
        }
        let deleted = self.finish_delete(res, ns, name)?;
        Ok((self.output(res, deleted), true))
    }

    /// Remove an object for good, with what its kind implies (a namespace's contents, a CRD's
    /// custom resources).
    pub(super) fn finish_delete(
        &self,
        res: &ResourceInfo,
        ns: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
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
    pub(crate) fn delete_collection(
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
                drop_empty_owner_references(&mut o);
                let _ = self.store.update(&gvr, o);
            }
        }
    }

    /// The garbage collector's step for a deleted owner: dependents that have no other owner
    /// are deleted (their deletion is collected in turn); others lose the reference.
    pub(crate) fn collect_garbage(&self, owner_uid: &str) {
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
                drop_empty_owner_references(&mut o);
                let _ = self.store.update(&gvr, o);
            }
        }
    }

    /// Delete every object whose owners are all gone (after missed events).
    pub(crate) fn sweep_garbage(&self) {
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
}

/// An emptied `ownerReferences` is omitted, as a real API server serialises it.
fn drop_empty_owner_references(o: &mut Value) {
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut)
        && m.get("ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
    {
        m.remove("ownerReferences");
    }
}
