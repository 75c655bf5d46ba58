//! When simulated clusters are ready to use: every Deployment (and DaemonSet) is available,
//! every Istio waypoint and ambient east-west gateway has an address, and every Service's Endpoints list the pods it
//! selects, read from each cluster's store.
//!
//! A Deployment counts as available as `kubectl rollout status` would say it rolled out, plus
//! its `Available` condition: `status.observedGeneration` has caught up with
//! `metadata.generation`, the `Available` condition is `True`, and `updatedReplicas`,
//! `readyReplicas`, `availableReplicas` and `replicas` all equal `spec.replicas` (no pod of an
//! older template is left). A Service with a selector counts once its Endpoints are what the
//! endpoints controller computes from the pods as they are now (so a ready pod is listed as a
//! ready address). Pods with a sidecar turn Ready only once their applications listen (the
//! sidecar's readiness probe), so a ready fleet answers requests.
//!
//! [`wait`] polls these conditions (every 20 ms) until they hold or a deadline passes, and
//! names the first object still pending when it gives up: what `kubectl smh demo up`, `demo
//! guide` and the tests wait on before they use the clusters (see
//! [`SimFleet::wait_ready`](super::fleet::SimFleet::wait_ready)).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::store::Store;
use super::world::controller::{endpoint_subsets, selected_pods};
use super::world::obj::{self, is_deleting, name, namespace, pod_ready, str_at};

/// How often [`wait`] checks again.
const POLL: Duration = Duration::from_millis(20);

/// An object that keeps a cluster from being ready, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The cluster it is in.
    pub cluster: String,
    /// `Deployment`, `DaemonSet`, `Gateway` (an Istio waypoint or east-west gateway) or
    /// `Endpoints`.
    pub kind: &'static str,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// What is missing, e.g. `0 of 1 replicas available (Available=False:
    /// MinimumReplicasUnavailable)`.
    pub reason: String,
}

impl fmt::Display for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            "Deployment" | "DaemonSet" => "is not available",
            "Gateway" => "has no address",
            _ => "do not list the selected pods",
        };
        write!(
            f,
            "{} {}/{} in {} {what}: {}",
            self.kind, self.namespace, self.name, self.cluster, self.reason
        )
    }
}

fn int_at(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(Value::as_i64)
}

/// Why a Deployment is not available, or `None` when it is.
pub(crate) fn deployment_pending(d: &Value) -> Option<String> {
    let generation = int_at(d, "/metadata/generation").unwrap_or(0);
    let Some(observed) = int_at(d, "/status/observedGeneration") else {
        return Some("the deployment controller has not observed it yet".into());
    };
    if observed < generation {
        return Some(format!(
            "the deployment controller has not observed its latest change yet \
             (observedGeneration {observed}, generation {generation})"
        ));
    }
    let want = int_at(d, "/spec/replicas").unwrap_or(1);
    let status = |f: &str| int_at(d, &format!("/status/{f}")).unwrap_or(0);
    let (total, updated, ready, available) = (
        status("replicas"),
        status("updatedReplicas"),
        status("readyReplicas"),
        status("availableReplicas"),
    );
    let condition = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| str_at(c, "/type") == "Available"));
    let available_true = condition.is_some_and(|c| str_at(c, "/status") == "True");
    if available_true
        && [total, updated, ready, available]
            .iter()
            .all(|n| *n == want)
    {
        return None;
    }
    let condition = match condition {
        Some(c) => format!(
            "Available={}: {}",
            str_at(c, "/status"),
            str_at(c, "/reason")
        ),
        None => "no Available condition".to_string(),
    };
    let old = (total - updated).max(0);
    let old = if old > 0 {
        format!(", {old} of an older template")
    } else {
        String::new()
    };
    Some(format!(
        "{available} of {want} replicas available, {ready} ready, {updated} updated{old} ({condition})"
    ))
}

/// Why a DaemonSet is not available (as `kubectl rollout status daemonset` says it rolled
/// out: observed, and every desired pod updated and available), or `None` when it is.
pub(crate) fn daemon_set_pending(d: &Value) -> Option<String> {
    let generation = int_at(d, "/metadata/generation").unwrap_or(0);
    let observed = int_at(d, "/status/observedGeneration");
    if observed.is_none_or(|o| o < generation) {
        return Some("the daemon set controller has not observed it yet".into());
    }
    let status = |f: &str| int_at(d, &format!("/status/{f}")).unwrap_or(0);
    let desired = status("desiredNumberScheduled");
    let (updated, available) = (status("updatedNumberScheduled"), status("numberAvailable"));
    (desired == 0 || updated < desired || available < desired)
        .then(|| format!("{available} of {desired} pods available, {updated} updated"))
}

/// Why an Istio waypoint or ambient east-west gateway (a Gateway of class `istio-waypoint`
/// or `istio-east-west`) cannot be used yet: istiod reports no address until its proxy is
/// ready (and, for an east-west gateway, its load balancer has an address). `None` for a
/// ready one or any other Gateway.
pub(crate) fn waypoint_pending(g: &Value) -> Option<String> {
    use crate::world::ambient::{EAST_WEST_CLASS, WAYPOINT_CLASS};
    if ![WAYPOINT_CLASS, EAST_WEST_CLASS].contains(&str_at(g, "/spec/gatewayClassName")) {
        return None;
    }
    let addressed = g
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if addressed {
        return None;
    }
    // istiod's own word when it says more than "not ready", e.g. an east-west gateway whose
    // load balancer has no address yet.
    let pending_address = g
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| str_at(c, "/type") == "Programmed"))
        .filter(|c| str_at(c, "/reason") == "AddressNotAssigned")
        .map(|c| str_at(c, "/message").to_string());
    Some(match pending_address {
        Some(m) => format!("no status.addresses ({m})"),
        None => "istiod has not reported its proxy ready (no status.addresses)".into(),
    })
}

/// Why a Service's Endpoints are not what the endpoints controller would write for `pods`,
/// or `None` when they are (or the Service has no selector). `endpoints` is the stored
/// Endpoints object of the same name, if any.
pub(crate) fn endpoints_pending(
    svc: &Value,
    endpoints: Option<&Value>,
    pods: &[Value],
) -> Option<String> {
    let members = selected_pods(svc, pods)?;
    let want = json!(endpoint_subsets(svc, &members));
    let have = endpoints.map(|e| e.get("subsets").cloned().unwrap_or(json!([])));
    if have.as_ref() == Some(&want) {
        return None;
    }
    let ready_pods = members.iter().filter(|p| pod_ready(p)).count();
    let Some(have) = have else {
        return Some(format!(
            "no Endpoints object yet ({ready_pods} of {} selected pods ready)",
            members.len()
        ));
    };
    let ready_addresses: usize = have
        .as_array()
        .map(|subsets| {
            subsets
                .iter()
                .filter_map(|s| s.get("addresses").and_then(Value::as_array))
                .map(Vec::len)
                .sum()
        })
        .unwrap_or(0);
    Some(format!(
        "{ready_addresses} ready addresses listed, {ready_pods} of {} selected pods ready",
        members.len()
    ))
}

/// Everything that keeps the cluster `cluster` (its objects in `store`) from being ready,
/// Deployments first, each kind sorted by namespace and name.
pub fn pending(cluster: &str, store: &Store) -> Vec<Pending> {
    let mut out = Vec::new();
    let item = |kind, o: &Value, reason| Pending {
        cluster: cluster.to_string(),
        kind,
        namespace: namespace(o).to_string(),
        name: name(o).to_string(),
        reason,
    };
    let (deployments, _) = store.list(&obj::deployments(), None);
    for d in deployments.iter().filter(|d| !is_deleting(d)) {
        if let Some(reason) = deployment_pending(d) {
            out.push(item("Deployment", d, reason));
        }
    }
    let (daemon_sets, _) = store.list(&crate::world::ambient::daemon_sets(), None);
    for d in daemon_sets.iter().filter(|d| !is_deleting(d)) {
        if let Some(reason) = daemon_set_pending(d) {
            out.push(item("DaemonSet", d, reason));
        }
    }
    let (gateways, _) = store.list(&crate::world::ambient::gateways(), None);
    for g in gateways.iter().filter(|g| !is_deleting(g)) {
        if let Some(reason) = waypoint_pending(g) {
            out.push(item("Gateway", g, reason));
        }
    }
    let (services, _) = store.list(&obj::services(), None);
    let (pods, _) = store.list(&obj::pods(), None);
    for svc in &services {
        let ep = store.get(&obj::endpoints(), namespace(svc), name(svc));
        if let Some(reason) = endpoints_pending(svc, ep.as_ref(), &pods) {
            out.push(item("Endpoints", svc, reason));
        }
    }
    out
}

/// The clusters did not become ready in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    /// The first object still pending (in cluster order).
    pub first: Pending,
    /// How many objects were still pending, in every cluster.
    pub pending: usize,
    /// How long the wait lasted.
    pub waited: Duration,
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not ready after {:.1}s: {}",
            self.waited.as_secs_f64(),
            self.first
        )?;
        if self.pending > 1 {
            write!(f, " (and {} more pending)", self.pending - 1)?;
        }
        Ok(())
    }
}

/// Waits until no cluster has anything [`pending`], checking every 20 ms; returns how long it
/// took, or what was still pending after `timeout`.
pub async fn wait(
    clusters: &[(String, Arc<Store>)],
    timeout: Duration,
) -> Result<Duration, NotReady> {
    let start = Instant::now();
    loop {
        let mut all = clusters
            .iter()
            .flat_map(|(name, store)| pending(name, store));
        let Some(first) = all.next() else {
            return Ok(start.elapsed());
        };
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(NotReady {
                first,
                pending: 1 + all.count(),
                waited,
            });
        }
        drop(all);
        tokio::time::sleep(POLL.min(timeout - waited)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(generation: i64, status: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "apps", "generation": generation},
               "spec": {"replicas": 2}, "status": status})
    }

    fn available(status: &str) -> Value {
        json!([{"type": "Available", "status": status, "reason": "MinimumReplicasAvailable"}])
    }

    #[test]
    fn a_deployment_is_available_only_when_every_count_and_the_condition_agree() {
        let done = json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2,
                          "readyReplicas": 2, "availableReplicas": 2, "conditions": available("True")});
        assert_eq!(deployment_pending(&deployment(3, done.clone())), None);

        // Not observed yet, or an older generation observed.
        assert_eq!(
            deployment_pending(&deployment(1, json!({}))).as_deref(),
            Some("the deployment controller has not observed it yet")
        );
        assert_eq!(
            deployment_pending(&deployment(4, done.clone())).as_deref(),
            Some(
                "the deployment controller has not observed its latest change yet \
                 (observedGeneration 3, generation 4)"
            )
        );
        // The condition alone is not enough (maxUnavailable lets it be True early).
        let mut one_ready = done.clone();
        one_ready["readyReplicas"] = json!(1);
        one_ready["availableReplicas"] = json!(1);
        assert_eq!(
            deployment_pending(&deployment(3, one_ready)).as_deref(),
            Some(
                "1 of 2 replicas available, 1 ready, 2 updated (Available=True: MinimumReplicasAvailable)"
            )
        );
        // A pod of the old template still running.
        let mut surge = done.clone();
        surge["replicas"] = json!(3);
        assert_eq!(
            deployment_pending(&deployment(3, surge)).as_deref(),
            Some(
                "2 of 2 replicas available, 2 ready, 2 updated, 1 of an older template (Available=True: MinimumReplicasAvailable)"
            )
        );
        let mut unavailable = done;
        unavailable["conditions"] = available("False");
        assert!(
            deployment_pending(&deployment(3, unavailable))
                .unwrap()
                .ends_with("(Available=False: MinimumReplicasAvailable)")
        );
    }

    fn pod(name: &str, ip: &str, ready: bool) -> Value {
        json!({"metadata": {"name": name, "namespace": "apps", "uid": name, "labels": {"app": "web"}},
               "spec": {"nodeName": "n"},
               "status": {"phase": "Running", "podIP": ip,
                          "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
    }

    #[test]
    fn daemon_sets_and_waypoints_are_pending_until_available_and_addressed() {
        let ds = |status: Value| json!({"metadata": {"name": "ztunnel", "generation": 1}, "status": status});
        assert!(daemon_set_pending(&ds(json!({}))).is_some());
        let starting = ds(json!({"observedGeneration": 1, "desiredNumberScheduled": 1,
                                 "updatedNumberScheduled": 1, "numberUnavailable": 1}));
        assert_eq!(
            daemon_set_pending(&starting).as_deref(),
            Some("0 of 1 pods available, 1 updated")
        );
        let up = ds(json!({"observedGeneration": 1, "desiredNumberScheduled": 1,
                           "updatedNumberScheduled": 1, "numberAvailable": 1}));
        assert_eq!(daemon_set_pending(&up), None);
        let gw = |class: &str, status: Value| json!({"spec": {"gatewayClassName": class}, "status": status});
        assert!(waypoint_pending(&gw("istio-waypoint", json!({}))).is_some());
        assert_eq!(
            waypoint_pending(&gw(
                "istio-waypoint",
                json!({"addresses": [{"type": "IPAddress", "value": "10.96.200.1"}]})
            )),
            None
        );
        assert_eq!(
            waypoint_pending(&gw("istio", json!({}))),
            None,
            "not a waypoint"
        );
    }

    #[test]
    fn endpoints_must_list_the_pods_as_they_are_now() {
        let svc = json!({"metadata": {"name": "web", "namespace": "apps"},
                         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
        let pods = vec![pod("a", "10.0.0.1", true), pod("b", "10.0.0.2", false)];
        assert_eq!(
            endpoints_pending(&svc, None, &pods).as_deref(),
            Some("no Endpoints object yet (1 of 2 selected pods ready)")
        );
        let members: Vec<&Value> = pods.iter().collect();
        let current = json!({"subsets": endpoint_subsets(&svc, &members)});
        assert_eq!(endpoints_pending(&svc, Some(&current), &pods), None);
        // b turned ready; the Endpoints still show it not ready.
        let later = vec![pod("a", "10.0.0.1", true), pod("b", "10.0.0.2", true)];
        assert_eq!(
            endpoints_pending(&svc, Some(&current), &later).as_deref(),
            Some("1 ready addresses listed, 2 of 2 selected pods ready")
        );
        // A Service without a selector has no Endpoints of the controller's to wait for.
        let manual = json!({"metadata": {"name": "ext", "namespace": "apps"}, "spec": {"ports": [{"port": 80}]}});
        assert_eq!(endpoints_pending(&manual, None, &later), None);
    }

    #[tokio::test]
    async fn wait_names_the_first_pending_object_at_the_deadline() {
        let store = Arc::new(Store::new());
        store
            .create(
                &obj::deployments(),
                deployment(
                    1,
                    json!({"observedGeneration": 1, "conditions": available("False")}),
                ),
            )
            .unwrap();
        let clusters = vec![("c1".to_string(), store.clone())];
        let err = wait(&clusters, Duration::from_millis(60))
            .await
            .unwrap_err();
        assert_eq!(err.first.cluster, "c1");
        assert_eq!(
            (
                err.first.kind,
                err.first.namespace.as_str(),
                err.first.name.as_str()
            ),
            ("Deployment", "apps", "web")
        );
        assert_eq!(err.pending, 1);
        assert!(err.waited >= Duration::from_millis(60));
        let text = err.to_string();
        assert!(text.starts_with("not ready after "), "{text}");
        assert_eq!(
            text.split_once("s: ").map(|(_, rest)| rest),
            Some(
                "Deployment apps/web in c1 is not available: 0 of 2 replicas available, 0 \
                 ready, 0 updated (Available=False: MinimumReplicasAvailable)"
            )
        );
        // Once the status says available, the wait ends.
        let mut d = store.get(&obj::deployments(), "apps", "web").unwrap();
        d["status"] = json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                             "readyReplicas": 2, "availableReplicas": 2, "conditions": available("True")});
        store.update(&obj::deployments(), d).unwrap();
        assert!(wait(&clusters, Duration::from_secs(5)).await.is_ok());
    }
}
