//! ReplicaSet controller: creates pods `<replicaset>-<5 chars>` from the template up to
//! `spec.replicas`, deletes surplus pods (not yet running first, then not ready, then the
//! newest), and reports `replicas`, `fullyLabeledReplicas`, `readyReplicas`,
//! `availableReplicas` (Ready for `minReadySeconds`) and `observedGeneration`.
//!
//! New pods go through Istio's sidecar injection ([`crate::world::inject`]) when the
//! cluster runs Istio. Deleted pods disappear at once (no graceful termination period).

use serde_json::{Value, json};

use super::State;
use crate::store::{Store, StoreError};
use crate::world::inject::inject_sidecar;
use crate::world::obj::{
    self, controller_uid, is_deleting, label_selector_matches, labels, name, namespace, owner_ref,
    pod_ready, str_at, uid,
};

fn active(pod: &Value) -> bool {
    !is_deleting(pod) && !matches!(str_at(pod, "/status/phase"), "Succeeded" | "Failed")
}

/// Ready for at least `min_ready` seconds.
fn available(pod: &Value, min_ready: i64) -> bool {
    if !pod_ready(pod) {
        return false;
    }
    if min_ready <= 0 {
        return true;
    }
    let since = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| str_at(c, "/type") == "Ready"))
        .map(|c| str_at(c, "/lastTransitionTime"))
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    since.is_some_and(|t| jiff::Timestamp::now().as_second() - t.as_second() >= min_ready)
}

pub(super) fn sync(store: &Store, state: &mut State, node: &str, istio_version: Option<&str>) {
    let (rss, _) = store.list(&obj::replica_sets(), None);
    let (pods, _) = store.list(&obj::pods(), None);
    for rs in &rss {
        if is_deleting(rs) {
            continue;
        }
        let _ = sync_one(store, state, rs, &pods, node, istio_version);
    }
}

/// A pod from `owner`'s template (a ReplicaSet's or a DaemonSet's, `kind`), named
/// `pod_name`, owned by it and scheduled on `node` (the cluster's single node) as it is
/// created.
pub(super) fn new_pod(owner: &Value, kind: &str, pod_name: &str, node: &str) -> Value {
    let template = owner
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(json!({}));
    let mut meta = json!({
        "name": pod_name,
        "generateName": format!("{}-", name(owner)),
        "namespace": namespace(owner),
        "ownerReferences": [owner_ref(owner, "apps/v1", kind)],
    });
    for key in ["labels", "annotations"] {
        if let Some(v) = template.pointer(&format!("/metadata/{key}")) {
            meta[key] = v.clone();
        }
    }
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    spec["nodeName"] = json!(node);
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    })
}

/// Creates one pod of `owner` named `<owner>-<5 random chars>` (see [`new_pod`]), changed by
/// `prepare` first; a name already taken is drawn again, up to 10 times (then `None`).
pub(super) fn create_pod(
    store: &Store,
    state: &mut State,
    owner: &Value,
    kind: &str,
    node: &str,
    prepare: impl Fn(&mut Value),
) -> Result<Option<Value>, StoreError> {
    for _ in 0..10 {
        let mut pod = new_pod(
            owner,
            kind,
            &format!("{}-{}", name(owner), state.suffix(5)),
            node,
        );
        prepare(&mut pod);
        match store.create(&obj::pods(), pod) {
            Ok(p) => return Ok(Some(p)),
            Err(StoreError::AlreadyExists(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

fn sync_one(
    store: &Store,
    state: &mut State,
    rs: &Value,
    pods: &[Value],
    node: &str,
    istio_version: Option<&str>,
) -> Result<(), StoreError> {
    let ns = namespace(rs);
    let rs_uid = uid(rs);
    let want = rs
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0) as usize;
    let mut owned: Vec<Value> = pods
        .iter()
        .filter(|p| namespace(p) == ns && controller_uid(p, "ReplicaSet") == Some(rs_uid))
        .filter(|p| active(p))
        .cloned()
        .collect();
    if owned.len() < want {
        for _ in owned.len()..want {
            let created = create_pod(store, state, rs, "ReplicaSet", node, |pod| {
                if let Some(version) = istio_version {
                    let ns_labels = store
                        .get(&obj::namespaces(), "", ns)
                        .map(|n| labels(&n))
                        .unwrap_or_default();
                    inject_sidecar(pod, &ns_labels, version);
                }
            })?;
            owned.extend(created);
        }
    } else if owned.len() > want {
        // Kubernetes' ranking: unscheduled < pending < not ready < ready; newer first.
        owned.sort_by(|a, b| {
            let rank = |p: &Value| {
                (
                    !str_at(p, "/spec/nodeName").is_empty(),
                    str_at(p, "/status/phase") == "Running",
                    pod_ready(p),
                )
            };
            rank(a).cmp(&rank(b)).then_with(|| {
                str_at(b, "/metadata/creationTimestamp")
                    .cmp(str_at(a, "/metadata/creationTimestamp"))
                    .then_with(|| str_at(b, "/metadata/uid").cmp(str_at(a, "/metadata/uid")))
            })
        });
        let surplus = owned.len() - want;
        for p in owned.drain(..surplus) {
            let _ = store.delete(&obj::pods(), ns, name(&p));
        }
    }
    let min_ready = rs
        .pointer("/spec/minReadySeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let selector = rs.pointer("/spec/selector").cloned().unwrap_or(json!({}));
    let template_labels = obj::string_map(rs, "/spec/template/metadata/labels");
    let replicas = owned.len() as i64;
    let fully_labeled = owned
        .iter()
        .filter(|p| {
            let l = labels(p);
            label_selector_matches(&selector, &l) && obj::map_selects(&template_labels, &l)
        })
        .count() as i64;
    let ready = owned.iter().filter(|p| pod_ready(p)).count() as i64;
    let avail = owned.iter().filter(|p| available(p, min_ready)).count() as i64;
    let mut status = serde_json::Map::new();
    status.insert("replicas".into(), json!(replicas));
    for (k, v) in [
        ("fullyLabeledReplicas", fully_labeled),
        ("readyReplicas", ready),
        ("availableReplicas", avail),
    ] {
        if v != 0 {
            status.insert(k.into(), json!(v));
        }
    }
    status.insert(
        "observedGeneration".into(),
        json!(
            rs.pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1)
        ),
    );
    let status = Value::Object(status);
    // Re-read: the deployment controller may have scaled it in this pass.
    let Some(current) = store.get(&obj::replica_sets(), ns, name(rs)) else {
        return Ok(());
    };
    if current.get("status") == Some(&status) {
        return Ok(());
    }
    let mut updated = current;
    updated["status"] = status;
    store.update(&obj::replica_sets(), updated).map(|_| ())
}
