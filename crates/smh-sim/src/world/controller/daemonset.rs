//! DaemonSet controller for the cluster's single node: one pod `<daemonset>-<5 chars>` from
//! the template on the node (a surplus one, newest first, is deleted), and the status counts
//! `kubectl rollout status daemonset` reads (`desiredNumberScheduled`,
//! `currentNumberScheduled`, `updatedNumberScheduled`, `numberReady`, `numberAvailable`,
//! `numberUnavailable`, `observedGeneration`). Pods of a DaemonSet get no sidecar: the node
//! agents that run as DaemonSets (ztunnel, istio-cni) opt out of injection.

use serde_json::{Value, json};

use super::State;
use crate::store::{Store, StoreError};
use crate::world::ambient::daemon_sets;
use crate::world::obj::{
    self, controller_uid, is_deleting, name, namespace, owner_ref, pod_ready, str_at, uid,
};

pub(super) fn sync(store: &Store, state: &mut State, node: &str) {
    let (dss, _) = store.list(&daemon_sets(), None);
    if dss.is_empty() {
        return;
    }
    let (pods, _) = store.list(&obj::pods(), None);
    for ds in dss.iter().filter(|d| !is_deleting(d)) {
        let _ = sync_one(store, state, ds, &pods, node);
    }
}

fn new_pod(ds: &Value, pod_name: &str, node: &str) -> Value {
    let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut meta = json!({
        "name": pod_name,
        "generateName": format!("{}-", name(ds)),
        "namespace": namespace(ds),
        "ownerReferences": [owner_ref(ds, "apps/v1", "DaemonSet")],
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

fn sync_one(
    store: &Store,
    state: &mut State,
    ds: &Value,
    pods: &[Value],
    node: &str,
) -> Result<(), StoreError> {
    let ns = namespace(ds);
    let mut owned: Vec<Value> = pods
        .iter()
        .filter(|p| namespace(p) == ns && controller_uid(p, "DaemonSet") == Some(uid(ds)))
        .filter(|p| {
            !is_deleting(p) && !matches!(str_at(p, "/status/phase"), "Succeeded" | "Failed")
        })
        .cloned()
        .collect();
    if owned.is_empty() {
        for _ in 0..10 {
            let pod = new_pod(ds, &format!("{}-{}", name(ds), state.suffix(5)), node);
            match store.create(&obj::pods(), pod) {
                Ok(p) => {
                    owned.push(p);
                    break;
                }
                Err(StoreError::AlreadyExists(_)) => continue,
                Err(e) => return Err(e),
            }
        }
    } else if owned.len() > 1 {
        owned.sort_by(|a, b| {
            str_at(a, "/metadata/creationTimestamp")
                .cmp(str_at(b, "/metadata/creationTimestamp"))
                .then_with(|| str_at(a, "/metadata/uid").cmp(str_at(b, "/metadata/uid")))
        });
        for p in owned.drain(1..) {
            let _ = store.delete(&obj::pods(), ns, name(&p));
        }
    }
    let scheduled = owned.len() as i64;
    let ready = owned.iter().filter(|p| pod_ready(p)).count() as i64;
    let mut status = json!({
        "desiredNumberScheduled": 1,
        "currentNumberScheduled": scheduled,
        "updatedNumberScheduled": scheduled,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "observedGeneration": ds.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1),
    });
    if ready > 0 {
        status["numberAvailable"] = json!(ready);
    } else {
        status["numberUnavailable"] = json!(1);
    }
    let Some(current) = store.get(&daemon_sets(), ns, name(ds)) else {
        return Ok(());
    };
    if current.get("status") == Some(&status) {
        return Ok(());
    }
    let mut updated = current;
    updated["status"] = status;
    store.update(&daemon_sets(), updated).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pod_per_daemon_set_and_status_counts_it() {
        let store = Store::new();
        let ds = store
            .create(
                &daemon_sets(),
                json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
                       "metadata": {"name": "ztunnel", "namespace": "istio-system"},
                       "spec": {"selector": {"matchLabels": {"app": "ztunnel"}},
                                "template": {"metadata": {"labels": {"app": "ztunnel"}},
                                             "spec": {"containers": [{"name": "istio-proxy", "image": "z"}]}}}}),
            )
            .unwrap();
        let mut state = State::new(1);
        sync(&store, &mut state, "n1");
        sync(&store, &mut state, "n1");
        let (pods, _) = store.list(&obj::pods(), Some("istio-system"));
        assert_eq!(pods.len(), 1, "one pod, however many passes");
        assert!(name(&pods[0]).starts_with("ztunnel-"));
        assert_eq!(str_at(&pods[0], "/spec/nodeName"), "n1");
        assert_eq!(controller_uid(&pods[0], "DaemonSet"), Some(uid(&ds)));
        let ds = store
            .get(&daemon_sets(), "istio-system", "ztunnel")
            .unwrap();
        assert_eq!(ds["status"]["currentNumberScheduled"], 1);
        assert_eq!(ds["status"]["numberReady"], 0);
        assert_eq!(ds["status"]["numberUnavailable"], 1);
    }
}
