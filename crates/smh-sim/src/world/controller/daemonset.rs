//! DaemonSet controller for the cluster's single node: one pod `<daemonset>-<5 chars>` from
//! the template on the node (a surplus one, newest first, is deleted), and the status counts
//! `kubectl rollout status daemonset` reads (`desiredNumberScheduled`,
//! `currentNumberScheduled`, `updatedNumberScheduled`, `numberReady`, `numberAvailable`,
//! `numberUnavailable`, `observedGeneration`). Pods of a DaemonSet get no sidecar: the node
//! agents that run as DaemonSets (ztunnel, istio-cni) opt out of injection.

use serde_json::{Value, json};

use super::State;
use super::replicaset::create_pod;
use crate::store::{Store, StoreError};
use crate::world::ambient::daemon_sets;
use crate::world::obj::{
    self, controller_uid, is_deleting, name, namespace, pod_ready, str_at, uid,
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
        owned.extend(create_pod(store, state, ds, "DaemonSet", node, |_| {})?);
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
