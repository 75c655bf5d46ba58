//! Storing the SMH objects (FailoverServices, TrafficPolicies) in the management cluster
//! and writing their status; deleting them.

use std::collections::BTreeMap;

use futures::StreamExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde::Serialize;
use serde_json::{Value, json};

use crate::apply::{ApplyOutcome, CONCURRENCY};
use crate::error::ApiOp;
use crate::state::LiveState;
use smh_core::consts::FIELD_MANAGER;
use smh_core::inspect::state::{manifest_id, manifest_meta};
use smh_core::inspect::status::SmhStatus;
use smh_core::model::diag::ObjectId;
use smh_core::model::types::{FailoverService, TrafficPolicy};
use smh_core::model::{Manifest, SmhObject};

/// The API resource of an SMH kind.
pub fn smh_resource(kind: &str) -> ApiResource {
    let plural = if kind == FailoverService::KIND {
        FailoverService::PLURAL
    } else {
        TrafficPolicy::PLURAL
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(
            smh_core::consts::SMH_GROUP,
            smh_core::consts::SMH_VERSION,
            kind,
        ),
        plural,
    )
}

/// What server-side apply sends for an input object: apiVersion, kind, name, namespace,
/// the user's labels and annotations, spec. Never status (a subresource), never the
/// server's metadata.
pub(crate) fn smh_apply_body(m: &Manifest) -> Value {
    let id = manifest_id(m);
    let meta = manifest_meta(m);
    let spec = match &m.object {
        SmhObject::FailoverService(fs) => serde_json::to_value(&fs.spec),
        SmhObject::TrafficPolicy(tp) => serde_json::to_value(&tp.spec),
    }
    .unwrap_or(Value::Null);
    let mut metadata = json!({"name": id.name, "namespace": id.namespace});
    if let Some(l) = meta.labels.as_ref().filter(|l| !l.is_empty()) {
        metadata["labels"] = json!(l);
    }
    if let Some(a) = meta.annotations.as_ref().filter(|a| !a.is_empty()) {
        metadata["annotations"] = json!(a);
    }
    json!({
        "apiVersion": smh_core::consts::SMH_API_VERSION,
        "kind": id.kind,
        "metadata": metadata,
        "spec": spec,
    })
}

/// The outcome of storing one SMH object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    /// `FailoverService` or `TrafficPolicy`.
    pub kind: String,
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// What happened to it.
    pub outcome: ApplyOutcome,
    /// `metadata.generation` after storing (as the server would have it, in a dry run).
    pub generation: i64,
    /// Why storing it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Stored {
    /// The object's kind, namespace and name.
    pub fn id(&self) -> ObjectId {
        ObjectId {
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// Whether a stored object already is what the input says: same spec, labels and
/// annotations (kubectl's `last-applied-configuration` annotation, which `kubectl apply`
/// leaves on objects, aside).
pub fn smh_unchanged(input: &Manifest, stored: &Manifest) -> bool {
    let (a, b) = (manifest_meta(input), manifest_meta(stored));
    let norm = |m: &Option<BTreeMap<String, String>>| {
        let mut m = m.clone().unwrap_or_default();
        m.remove(LAST_APPLIED);
        m
    };
    smh_core::inspect::state::same_spec(input, stored)
        && norm(&a.labels) == norm(&b.labels)
        && norm(&a.annotations) == norm(&b.annotations)
}

/// The annotation `kubectl apply` (client-side) keeps its last applied configuration in.
pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Stores the input objects in the management cluster (server-side apply, field manager
/// `kubectl-smh`, forced), the unchanged ones skipped. `dry_run`: the server's dry run.
pub(crate) async fn store_smh(state: &LiveState, input: &[Manifest], dry_run: bool) -> Vec<Stored> {
    let c = state.mgmt_client();
    let jobs = input.iter().map(|m| async move {
        let id = manifest_id(m);
        let stored = state.smh_object(&id);
        let stored_generation = stored
            .and_then(|s| manifest_meta(s).generation)
            .unwrap_or(0);
        let done = |outcome, generation, error| Stored {
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
            outcome,
            generation,
            error,
        };
        if let Some(s) = stored
            && smh_unchanged(m, s)
        {
            return done(ApplyOutcome::Unchanged, stored_generation, None);
        }
        let ar = smh_resource(&id.kind);
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &id.namespace, &ar);
        let mut pp = PatchParams::apply(FIELD_MANAGER).force();
        pp.dry_run = dry_run;
        match api
            .patch(&id.name, &pp, &Patch::Apply(smh_apply_body(m)))
            .await
        {
            Ok(o) => {
                let generation = o.metadata.generation.unwrap_or(1);
                let outcome = match stored {
                    None => ApplyOutcome::Created,
                    Some(s)
                        if !dry_run
                            && manifest_meta(s).resource_version.is_some()
                            && manifest_meta(s).resource_version == o.metadata.resource_version =>
                    {
                        ApplyOutcome::Unchanged
                    }
                    Some(_) => ApplyOutcome::Configured,
                };
                done(outcome, generation, None)
            }
            Err(e) => {
                let e = c.error(
                    &ApiOp::dynamic("patch", &ar, Some(&id.namespace), Some(&id.name)),
                    e,
                );
                done(ApplyOutcome::Failed, stored_generation, Some(e.to_string()))
            }
        }
    });
    futures::stream::iter(jobs)
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// The status an object has now (carried in the merged manifest).
fn current_status(m: &Manifest) -> Option<SmhStatus> {
    match &m.object {
        SmhObject::FailoverService(fs) => fs.status.clone().map(SmhStatus::FailoverService),
        SmhObject::TrafficPolicy(tp) => tp.status.clone().map(SmhStatus::TrafficPolicy),
    }
}

/// The outcome of writing one status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusWrite {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Whether it was written (false: it already was this status).
    pub written: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Writes the statuses that differ from the stored ones, through the status subresource
/// (server-side apply, field manager `kubectl-smh`, forced).
pub(crate) async fn write_statuses(
    state: &LiveState,
    statuses: &BTreeMap<ObjectId, SmhStatus>,
) -> Vec<StatusWrite> {
    let c = state.mgmt_client();
    let jobs = statuses.iter().map(|(id, status)| async move {
        let done = |written, error| StatusWrite {
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
            written,
            error,
        };
        let current = state.merged_object(id).and_then(current_status);
        if current.as_ref() == Some(status) {
            return done(false, None);
        }
        let ar = smh_resource(&id.kind);
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &id.namespace, &ar);
        let body = json!({
            "apiVersion": smh_core::consts::SMH_API_VERSION,
            "kind": id.kind,
            "metadata": {"name": id.name, "namespace": id.namespace},
            "status": status.to_value(),
        });
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        match api.patch_status(&id.name, &pp, &Patch::Apply(body)).await {
            Ok(_) => done(true, None),
            Err(e) => {
                let e = c.error(
                    &ApiOp::dynamic("patch", &ar, Some(&id.namespace), Some(&id.name)),
                    e,
                );
                done(false, Some(e.to_string()))
            }
        }
    });
    futures::stream::iter(jobs)
        .buffered(CONCURRENCY)
        .collect()
        .await
}
