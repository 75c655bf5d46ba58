//! `apply --diff`: the live side of each object against what would be applied, as unified
//! diffs, the server's dry run answering for what the server would change.

use futures::StreamExt;
use futures::future::join_all;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use serde::Serialize;
use serde_json::Value;

use crate::apply::smh::{smh_apply_body, smh_resource, smh_unchanged};
use crate::apply::{Action, CONCURRENCY, Plan, Step, ar_of};
use crate::context::ClusterClient;
use crate::error::{ApiOp, ClusterError};
use crate::state::LiveState;
use smh_core::consts::FIELD_MANAGER;
use smh_core::inspect::state::manifest_id;
use smh_core::model::diag::ObjectId;
use smh_core::model::{Manifest, SmhObject};

/// What `kubectl diff` leaves out of both sides.
pub fn strip_for_diff(mut v: Value) -> Value {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "selfLink",
        ] {
            meta.remove(k);
        }
    }
    v
}

/// One object's difference.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDiff {
    /// The cluster (the management cluster's display name for SMH objects).
    pub cluster: String,
    /// The object's kind.
    pub kind: String,
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// `create`, `configure` or `prune`.
    pub action: Action,
    /// Unified diff of the YAML (live → desired).
    pub diff: String,
    /// Why the desired side is the local object rather than the server's dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A unified diff of two YAML documents; empty when equal.
pub fn unified(label: &str, live: Option<&Value>, desired: Option<&Value>) -> String {
    let render = |v: Option<&Value>| {
        v.map(|v| smh_core::yaml_writer::to_yaml(&strip_for_diff(v.clone())).unwrap_or_default())
            .unwrap_or_default()
    };
    let (a, b) = (render(live), render(desired));
    if a == b {
        return String::new();
    }
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{label} (live)"), &format!("{label} (desired)"))
        .to_string()
}

/// Diffs every step that would change something: the desired side from a server-side dry
/// run when the cluster answers it, else the object as kubectl-smh would send it (said in
/// `note`).
pub async fn diff(state: &LiveState, plan: &Plan) -> Vec<ObjectDiff> {
    let per_cluster = plan.steps.iter().map(|(cluster, steps)| async move {
        let client = state.client(cluster).filter(|_| !plan.blocked.contains_key(cluster));
        let jobs = steps
            .iter()
            .filter(|s| s.action != Action::Unchanged)
            .map(|s| async move {
                let live = s
                    .live
                    .as_ref()
                    .and_then(|l| serde_json::to_value(l).ok());
                let label = format!(
                    "{}/{}/{}/{}",
                    s.cluster, s.kind, s.namespace, s.name
                );
                let (desired, note) = match (&s.desired, client) {
                    (None, _) => (None, None),
                    (Some(d), Some(c)) => match dry_run_apply(c, s, d).await {
                        Ok(v) => (Some(v), None),
                        Err(e) => (
                            Some(d.clone()),
                            Some(format!("the server's dry run failed ({e}); showing the object as it would be sent")),
                        ),
                    },
                    (Some(d), None) => (
                        Some(d.clone()),
                        Some(format!(
                            "cluster {cluster} cannot be asked ({}); showing the object as it would be sent",
                            plan.blocked.get(cluster).map(String::as_str).unwrap_or("no client")
                        )),
                    ),
                };
                ObjectDiff {
                    cluster: cluster.as_str().to_string(),
                    kind: s.kind.clone(),
                    namespace: s.namespace.clone(),
                    name: s.name.clone(),
                    action: s.action,
                    diff: unified(&label, live.as_ref(), desired.as_ref()),
                    note,
                }
            });
        futures::stream::iter(jobs)
            .buffered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await
    });
    join_all(per_cluster)
        .await
        .into_iter()
        .flatten()
        .filter(|d| !d.diff.is_empty())
        .collect()
}

async fn dry_run_apply(
    c: &ClusterClient,
    s: &Step,
    desired: &Value,
) -> Result<Value, ClusterError> {
    let ar = ar_of(&s.kind);
    let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &s.namespace, &ar);
    let pp = PatchParams::apply(FIELD_MANAGER).force().dry_run();
    let o = api
        .patch(&s.name, &pp, &Patch::Apply(desired))
        .await
        .map_err(|e| {
            c.error(
                &ApiOp::dynamic("patch", &ar, Some(&s.namespace), Some(&s.name)),
                e,
            )
        })?;
    Ok(serde_json::to_value(o).unwrap_or(Value::Null))
}

/// Diffs the input SMH objects against the stored ones (desired from a server-side dry
/// run).
pub async fn diff_smh(state: &LiveState, input: &[Manifest]) -> Vec<ObjectDiff> {
    let c = state.mgmt_client();
    let mgmt = state.mgmt.display_name().to_string();
    let jobs = input.iter().map(|m| {
        let mgmt = mgmt.clone();
        async move {
            let id = manifest_id(m);
            let stored = state.smh_object(&id);
            if stored.is_some_and(|s| smh_unchanged(m, s)) {
                return None;
            }
            let live = stored.map(smh_value);
            let body = smh_apply_body(m);
            let ar = smh_resource(&id.kind);
            let api: Api<DynamicObject> =
                Api::namespaced_with(c.client.clone(), &id.namespace, &ar);
            let pp = PatchParams::apply(FIELD_MANAGER).force().dry_run();
            let (mut desired, note) = match api.patch(&id.name, &pp, &Patch::Apply(&body)).await {
                Ok(o) => (serde_json::to_value(o).unwrap_or(Value::Null), None),
                Err(e) => {
                    let e = c.error(
                        &ApiOp::dynamic("patch", &ar, Some(&id.namespace), Some(&id.name)),
                        e,
                    );
                    (
                        body,
                        Some(format!("the server's dry run failed ({e}); showing the object as it would be sent")),
                    )
                }
            };
            // Status is not what apply changes through the main resource.
            if let Some(o) = desired.as_object_mut() {
                o.remove("status");
            }
            let live = live.map(|mut l| {
                if let Some(o) = l.as_object_mut() {
                    o.remove("status");
                }
                l
            });
            let label = format!("{mgmt}/{}/{}/{}", id.kind, id.namespace, id.name);
            let diff = unified(&label, live.as_ref(), Some(&desired));
            (!diff.is_empty()).then(|| ObjectDiff {
                cluster: mgmt,
                kind: id.kind.clone(),
                namespace: id.namespace.clone(),
                name: id.name.clone(),
                action: if stored.is_some() {
                    Action::Configure
                } else {
                    Action::Create
                },
                diff,
                note,
            })
        }
    });
    futures::stream::iter(jobs)
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// A stored SMH object as JSON.
pub(crate) fn smh_value(m: &Manifest) -> Value {
    match &m.object {
        SmhObject::FailoverService(fs) => serde_json::to_value(fs),
        SmhObject::TrafficPolicy(tp) => serde_json::to_value(tp),
    }
    .unwrap_or(Value::Null)
}

/// Deletes SMH objects from the management cluster.
pub(crate) async fn delete_smh(
    state: &LiveState,
    ids: &[ObjectId],
    dry_run: bool,
) -> Vec<(ObjectId, Result<(), ClusterError>)> {
    let c = state.mgmt_client();
    let jobs = ids.iter().map(|id| async move {
        let ar = smh_resource(&id.kind);
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), &id.namespace, &ar);
        let op = |verb| ApiOp::dynamic(verb, &ar, Some(&id.namespace), Some(&id.name));
        // The delete names the object it read by its uid: a repeat after a lost answer then
        // meets 404 (deleted, what we wanted) and never deletes an object of the same name
        // created since (409), so the retry layer may send it again.
        let uid = match api.get_opt(&id.name).await {
            Ok(Some(live)) => live.metadata.uid,
            Ok(None) => return (id.clone(), Ok(())),
            Err(e) => return (id.clone(), Err(c.error(&op("get"), e))),
        };
        let mut dp = DeleteParams::background().preconditions(Preconditions {
            uid,
            resource_version: None,
        });
        dp.dry_run = dry_run;
        let r = match api.delete(&id.name, &dp).await {
            Ok(_) => Ok(()),
            Err(e) => match c.error(&op("delete"), e) {
                ClusterError::NotFound { .. } => Ok(()),
                e => Err(e),
            },
        };
        (id.clone(), r)
    });
    join_all(jobs).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unified_diff_strips_server_fields() {
        let live = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a",
            "resourceVersion": "7", "uid": "u", "generation": 2, "managedFields": [{}]},
            "spec": {"replicas": 1}});
        let desired = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a",
            "resourceVersion": "8"}, "spec": {"replicas": 2}});
        let d = unified("c/X/ns/a", Some(&live), Some(&desired));
        assert!(
            d.starts_with("--- c/X/ns/a (live)\n+++ c/X/ns/a (desired)\n"),
            "{d}"
        );
        assert!(d.contains("-  replicas: 1\n+  replicas: 2\n"), "{d}");
        assert!(!d.contains("resourceVersion") && !d.contains("uid"), "{d}");
        assert_eq!(unified("x", Some(&live), Some(&live)), "");
        let created = unified("x", None, Some(&desired));
        assert!(created.contains("+kind: X"), "{created}");
    }

    #[test]
    fn smh_body_keeps_labels_and_annotations_not_status() {
        let loaded = smh_core::model::parse::parse_str(
            "in.yaml",
            r#"
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata:
  name: p
  namespace: bookinfo
  labels: {team: a}
  annotations: {note: b}
spec: {}
status: {state: ACCEPTED}
"#,
        );
        let body = smh_apply_body(&loaded.manifests[0]);
        assert_eq!(
            body,
            json!({"apiVersion": "networking.smh.solo.io/v1alpha2", "kind": "TrafficPolicy",
                   "metadata": {"name": "p", "namespace": "bookinfo", "labels": {"team": "a"},
                                "annotations": {"note": "b"}},
                   "spec": {}})
        );
    }
}
