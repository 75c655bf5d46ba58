//! Controllers on a bare store, driven pass by pass with a fake clock.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::runtime::wait::Condition;
use kube::runtime::wait::conditions::is_deployment_completed;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::*;
use crate::world::obj;

const DELAY: Duration = Duration::from_millis(500);

fn cfg() -> ControllerConfig {
    ControllerConfig {
        node_name: "test-control-plane".into(),
        node_ip: "172.18.0.2".into(),
        readiness_delay: DELAY,
        resync: Duration::from_secs(1),
        seed: 1,
        istio_version: Some("1.24.2".into()),
        pod_starts: PodStartHold::default(),
        load_balancer_ips: vec!["172.18.254.200".into()],
    }
}

struct Harness {
    store: Store,
    net: PodNetwork,
    cfg: ControllerConfig,
    state: State,
    t0: Instant,
}

impl Harness {
    fn new() -> Self {
        let store = Store::new();
        store
            .create(
                &obj::namespaces(),
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bookinfo"}}),
            )
            .unwrap();
        Harness {
            store,
            net: PodNetwork::new(1),
            cfg: cfg(),
            state: State::new(1),
            t0: Instant::now(),
        }
    }

    /// A harness with Deployment `name` (`replicas` pods) created and rolled out: its pods
    /// running and ready after the kubelet's start delay.
    fn rolled_out(name: &str, replicas: i64) -> Self {
        let mut h = Harness::new();
        h.store
            .create(&obj::deployments(), deployment(name, replicas))
            .unwrap();
        h.settle(Duration::ZERO);
        h.settle(DELAY);
        h
    }

    /// Run passes at `t0 + at` until nothing changes.
    fn settle(&mut self, at: Duration) {
        for _ in 0..30 {
            let before = self.store.resource_version();
            reconcile(
                &self.store,
                &self.net,
                &self.cfg,
                &mut self.state,
                self.t0 + at,
            );
            if self.store.resource_version() == before {
                return;
            }
        }
        panic!("controllers did not settle");
    }

    fn deployment(&self, name: &str) -> Value {
        self.store
            .get(&obj::deployments(), "bookinfo", name)
            .expect("deployment")
    }

    fn list(&self, gvr: &crate::store::Gvr) -> Vec<Value> {
        self.store.list(gvr, Some("bookinfo")).0
    }

    fn edit_deployment(&self, name: &str, f: impl FnOnce(&mut Value)) {
        let mut d = self.deployment(name);
        f(&mut d);
        self.store.update(&obj::deployments(), d).unwrap();
    }
}

fn deployment(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "bookinfo", "labels": {"app": "reviews"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "reviews", "version": "v1"}},
            "template": {
                "metadata": {"labels": {"app": "reviews", "version": "v1"}},
                "spec": {"containers": [{"name": "reviews",
                    "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.16.2",
                    "ports": [{"containerPort": 9080, "name": "http-web"}]}]}
            }
        }
    })
}

/// kubectl's `rollout status` check (DeploymentStatusViewer).
fn rollout_done(d: &Value) -> bool {
    let i = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    i("/metadata/generation") <= i("/status/observedGeneration")
        && i("/status/updatedReplicas") >= i("/spec/replicas")
        && i("/status/replicas") <= i("/status/updatedReplicas")
        && i("/status/availableReplicas") >= i("/status/updatedReplicas")
}

fn kube_completed(d: &Value) -> bool {
    let typed: Deployment = serde_json::from_value(d.clone()).expect("a valid Deployment");
    is_deployment_completed().matches_object(Some(&typed))
}

fn cond<'a>(d: &'a Value, kind: &str) -> &'a Value {
    d.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind))
        .unwrap_or(&Value::Null)
}

#[test]
fn deployment_rolls_out_through_a_replica_set_and_ready_pods() {
    let mut h = Harness::new();
    h.store
        .create(&obj::deployments(), deployment("reviews-v1", 2))
        .unwrap();
    h.settle(Duration::ZERO);
    let rss = h.list(&obj::replica_sets());
    assert_eq!(rss.len(), 1);
    let rs = &rss[0];
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(obj::name(rs), format!("reviews-v1-{hash}"));
    assert_eq!(
        rs["metadata"]["annotations"][super::deployment::REVISION],
        "1"
    );
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        hash
    );
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    let pods = h.list(&obj::pods());
    assert_eq!(pods.len(), 2);
    for p in &pods {
        let n = obj::name(p);
        let suffix = n.strip_prefix(&format!("{}-", obj::name(rs))).unwrap();
        assert_eq!(suffix.len(), 5, "{n}");
        assert_eq!(p["status"]["phase"], "Pending");
        assert!(p["status"]["podIP"].as_str().unwrap().starts_with("10.1."));
        assert_eq!(p["spec"]["nodeName"], "test-control-plane");
        assert_eq!(p["metadata"]["labels"]["pod-template-hash"], hash);
    }
    let d = h.deployment("reviews-v1");
    assert!(!rollout_done(&d));
    assert!(!kube_completed(&d));
    assert_eq!(cond(&d, "Available")["status"], "False");

    h.settle(DELAY);
    let pods = h.list(&obj::pods());
    assert!(
        pods.iter()
            .all(|p| p["status"]["phase"] == "Running" && obj::pod_ready(p))
    );
    let d = h.deployment("reviews-v1");
    assert_eq!(d["status"]["observedGeneration"], 1);
    assert_eq!(d["status"]["replicas"], 2);
    assert_eq!(d["status"]["updatedReplicas"], 2);
    assert_eq!(d["status"]["readyReplicas"], 2);
    assert_eq!(d["status"]["availableReplicas"], 2);
    assert!(d["status"].get("unavailableReplicas").is_none());
    assert_eq!(cond(&d, "Available")["reason"], "MinimumReplicasAvailable");
    assert_eq!(cond(&d, "Progressing")["reason"], "NewReplicaSetAvailable");
    assert!(rollout_done(&d));
    assert!(kube_completed(&d));
    // Idempotent: another pass writes nothing.
    let rv = h.store.resource_version();
    h.settle(DELAY * 3);
    assert_eq!(h.store.resource_version(), rv);
}

#[test]
fn template_change_rolls_over_to_a_new_replica_set() {
    let mut h = Harness::rolled_out("reviews-v1", 1);
    let old_pod = obj::name(&h.list(&obj::pods())[0]).to_string();
    h.edit_deployment("reviews-v1", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["sleep", "20h"]);
    });
    let t1 = DELAY * 2;
    h.settle(t1);
    let d = h.deployment("reviews-v1");
    assert_eq!(d["metadata"]["generation"], 2);
    assert_eq!(d["status"]["observedGeneration"], 2);
    assert!(!rollout_done(&d));
    assert!(
        !kube_completed(&d),
        "no stale completion once the change is observed"
    );
    assert_eq!(cond(&d, "Progressing")["status"], "True");
    let rss = h.list(&obj::replica_sets());
    assert_eq!(rss.len(), 2);
    let new = rss
        .iter()
        .find(|rs| rs["metadata"]["annotations"][super::deployment::REVISION] == "2")
        .expect("revision 2");
    assert_eq!(
        new["spec"]["replicas"], 1,
        "maxSurge 25% of 1 rounds up to 1"
    );
    assert_eq!(
        d["metadata"]["annotations"][super::deployment::REVISION],
        "2",
        "the Deployment carries its newest revision (kubectl rollout undo patches it)"
    );
    assert_eq!(
        h.list(&obj::pods()).len(),
        2,
        "old pod kept: maxUnavailable rounds down to 0"
    );

    h.settle(t1 + DELAY);
    let pods = h.list(&obj::pods());
    assert_eq!(pods.len(), 1);
    assert_ne!(obj::name(&pods[0]), old_pod);
    assert_eq!(
        pods[0]["spec"]["containers"][0]["command"],
        json!(["sleep", "20h"])
    );
    let d = h.deployment("reviews-v1");
    assert!(rollout_done(&d));
    assert!(kube_completed(&d));
    let rss = h.list(&obj::replica_sets());
    let old = rss
        .iter()
        .find(|rs| rs["metadata"]["annotations"][super::deployment::REVISION] == "1")
        .expect("old replica set kept for history");
    assert_eq!(old["spec"]["replicas"], 0);

    // Restoring the template reuses the old replica set as revision 3.
    h.edit_deployment("reviews-v1", |d| {
        d["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("command");
    });
    h.settle(t1 * 2);
    h.settle(t1 * 2 + DELAY);
    let rss = h.list(&obj::replica_sets());
    assert_eq!(rss.len(), 2);
    let back = rss
        .iter()
        .find(|rs| obj::name(rs) == obj::name(old))
        .unwrap();
    assert_eq!(
        back["metadata"]["annotations"][super::deployment::REVISION],
        "3"
    );
    assert_eq!(back["spec"]["replicas"], 1);
    let d = h.deployment("reviews-v1");
    assert!(kube_completed(&d));
    assert_eq!(
        d["metadata"]["annotations"][super::deployment::REVISION],
        "3"
    );
}

#[test]
fn recreate_strategy_stops_old_pods_first() {
    let mut h = Harness::new();
    let mut d = deployment("reviews-v1", 2);
    d["spec"]["strategy"] = json!({"type": "Recreate"});
    h.store.create(&obj::deployments(), d).unwrap();
    h.settle(Duration::ZERO);
    h.settle(DELAY);
    h.edit_deployment("reviews-v1", |d| {
        d["spec"]["template"]["metadata"]["labels"]["rev"] = json!("2");
    });
    h.settle(DELAY * 2);
    let pods = h.list(&obj::pods());
    assert!(
        pods.iter().all(|p| p["metadata"]["labels"]["rev"] == "2"),
        "no old pod left while new ones start"
    );
    h.settle(DELAY * 3);
    assert!(rollout_done(&h.deployment("reviews-v1")));
}

#[test]
fn scaling_and_garbage_collection() {
    let mut h = Harness::new();
    h.store
        .create(&obj::deployments(), deployment("reviews-v1", 1))
        .unwrap();
    h.settle(Duration::ZERO);
    h.edit_deployment("reviews-v1", |d| d["spec"]["replicas"] = json!(3));
    h.settle(Duration::ZERO);
    assert_eq!(h.list(&obj::pods()).len(), 3);
    h.edit_deployment("reviews-v1", |d| d["spec"]["replicas"] = json!(0));
    h.settle(Duration::ZERO);
    assert_eq!(h.list(&obj::pods()).len(), 0);
    h.edit_deployment("reviews-v1", |d| d["spec"]["replicas"] = json!(2));
    h.settle(Duration::ZERO);
    h.store
        .delete(&obj::deployments(), "bookinfo", "reviews-v1")
        .unwrap();
    h.settle(Duration::ZERO);
    assert!(h.list(&obj::replica_sets()).is_empty());
    assert!(h.list(&obj::pods()).is_empty());
}

#[test]
fn endpoints_follow_ready_pods_with_named_target_ports() {
    let mut h = Harness::new();
    h.store
        .create(&obj::deployments(), deployment("reviews-v1", 2))
        .unwrap();
    h.store
        .create(
            &obj::services(),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": {"app": "reviews", "service": "reviews"}},
                   "spec": {"selector": {"app": "reviews"},
                            "ports": [{"name": "http", "port": 9080, "targetPort": "http-web"}]}}),
        )
        .unwrap();
    h.settle(Duration::ZERO);
    let ep = h
        .store
        .get(&obj::endpoints(), "bookinfo", "reviews")
        .unwrap();
    assert_eq!(ep["metadata"]["labels"]["service"], "reviews");
    let subset = &ep["subsets"][0];
    assert!(subset.get("addresses").is_none());
    assert_eq!(subset["notReadyAddresses"].as_array().unwrap().len(), 2);
    assert_eq!(
        subset["ports"],
        json!([{"name": "http", "port": 9080, "protocol": "TCP"}])
    );
    h.settle(DELAY);
    let ep = h
        .store
        .get(&obj::endpoints(), "bookinfo", "reviews")
        .unwrap();
    let addrs = ep["subsets"][0]["addresses"].as_array().unwrap();
    assert_eq!(addrs.len(), 2);
    assert_eq!(addrs[0]["targetRef"]["kind"], "Pod");
    assert_eq!(addrs[0]["nodeName"], "test-control-plane");
    assert!(ep["subsets"][0].get("notReadyAddresses").is_none());
    h.store
        .delete(&obj::services(), "bookinfo", "reviews")
        .unwrap();
    h.settle(DELAY);
    assert!(
        h.store
            .get(&obj::endpoints(), "bookinfo", "reviews")
            .is_none()
    );
}

#[test]
fn endpoint_slices_follow_pods_like_the_real_controller() {
    let mut h = Harness::new();
    h.store
        .create(&obj::deployments(), deployment("reviews-v1", 2))
        .unwrap();
    h.store
        .create(
            &obj::services(),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "reviews", "namespace": "bookinfo", "uid": "svc-uid", "labels": {"app": "reviews"}},
                   "spec": {"selector": {"app": "reviews"},
                            "ports": [{"name": "http", "port": 9080, "targetPort": "http-web"}]}}),
        )
        .unwrap();
    let slices = |h: &Harness| h.list(&endpointslices::endpoint_slices());
    h.settle(Duration::ZERO);
    let s = slices(&h);
    assert_eq!(s.len(), 1);
    let slice = &s[0];
    assert!(obj::name(slice).starts_with("reviews-"), "{slice}");
    assert_eq!(
        slice["metadata"]["labels"]["kubernetes.io/service-name"],
        "reviews"
    );
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(slice["metadata"]["ownerReferences"][0]["kind"], "Service");
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["ports"],
        json!([{"name": "http", "port": 9080, "protocol": "TCP"}])
    );
    let eps = slice["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 2);
    assert_eq!(eps[0]["conditions"]["ready"], false);
    h.settle(DELAY);
    let slice = &slices(&h)[0];
    let eps = slice["endpoints"].as_array().unwrap();
    assert!(
        eps.iter().all(|e| e["conditions"]["ready"] == true),
        "{slice}"
    );
    assert_eq!(eps[0]["targetRef"]["kind"], "Pod");
    let name_before = obj::name(slice).to_string();
    // A deleted slice comes back; scaling to 0 leaves a placeholder without endpoints.
    h.store
        .delete(&endpointslices::endpoint_slices(), "bookinfo", &name_before)
        .unwrap();
    h.edit_deployment("reviews-v1", |d| d["spec"]["replicas"] = json!(0));
    h.settle(DELAY * 2);
    h.settle(DELAY * 3);
    let s = slices(&h);
    assert_eq!(s.len(), 1, "{s:?}");
    assert!(s[0].get("endpoints").is_none(), "{}", s[0]);
    h.store
        .delete(&obj::services(), "bookinfo", "reviews")
        .unwrap();
    h.settle(DELAY * 4);
    assert!(slices(&h).is_empty());
}

#[test]
fn readiness_probe_waits_for_a_listener() {
    let mut h = Harness::new();
    let mut d = deployment("reviews-v1", 1);
    d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] =
        json!({"httpGet": {"path": "/health", "port": "http-web"}});
    h.store.create(&obj::deployments(), d).unwrap();
    h.settle(Duration::ZERO);
    h.settle(DELAY);
    let pod = h.list(&obj::pods()).remove(0);
    assert_eq!(pod["status"]["phase"], "Running");
    assert!(!obj::pod_ready(&pod));
    let ip = pod["status"]["podIP"].as_str().unwrap().to_string();
    h.net.register(&ip, 9080, "127.0.0.1:1".parse().unwrap());
    h.settle(DELAY * 2);
    assert!(obj::pod_ready(&h.list(&obj::pods())[0]));
    assert!(kube_completed(&h.deployment("reviews-v1")));
}

#[test]
fn every_namespace_gets_a_default_service_account() {
    let mut h = Harness::new();
    h.settle(Duration::ZERO);
    assert!(
        h.store
            .get(&obj::service_accounts(), "bookinfo", "default")
            .is_some()
    );
}

#[test]
fn sleep_in_a_distroless_image_fails_to_start_and_crash_loops() {
    let mut h = Harness::new();
    let mut d = deployment("reviews-v1", 1);
    let c = &mut d["spec"]["template"]["spec"]["containers"][0];
    c["image"] = json!("docker.io/istio/examples-bookinfo-reviews-v1:1.16.2-distroless");
    c["command"] = json!(["sleep", "20h"]);
    h.store.create(&obj::deployments(), d).unwrap();
    h.settle(Duration::ZERO);
    h.settle(DELAY);
    let status = |h: &Harness| h.list(&obj::pods())[0]["status"].clone();
    let s = status(&h);
    assert_eq!(s["phase"], "Running");
    let cs = &s["containerStatuses"][0];
    assert_eq!(cs["ready"], false);
    assert_eq!(cs["started"], false);
    assert_eq!(cs["restartCount"], 0);
    assert_eq!(cs["state"]["waiting"]["reason"], "RunContainerError");
    let last = &cs["lastState"]["terminated"];
    assert_eq!(last["reason"], "StartError");
    assert_eq!(last["exitCode"], 128);
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .ends_with("exec: \"sleep\": executable file not found in $PATH: unknown"),
        "{last}"
    );
    assert!(!obj::pod_ready(&h.list(&obj::pods())[0]));
    // Then back-off: CrashLoopBackOff, a new attempt after 10 s, then 20 s.
    h.settle(DELAY + Duration::from_secs(2));
    let cs = status(&h)["containerStatuses"][0].clone();
    assert_eq!(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert!(
        cs["state"]["waiting"]["message"]
            .as_str()
            .unwrap()
            .starts_with("back-off 10s restarting failed container=reviews pod=reviews-v1-"),
        "{cs}"
    );
    h.settle(DELAY + Duration::from_secs(11));
    let cs = status(&h)["containerStatuses"][0].clone();
    assert_eq!(cs["restartCount"], 1);
    assert!(
        cs["state"]["waiting"]["message"]
            .as_str()
            .unwrap()
            .starts_with("back-off 20s"),
        "{cs}"
    );
    // The rollout never completes; the old image without the command is fine.
    assert!(!rollout_done(&h.deployment("reviews-v1")));
    assert_eq!(super::kubelet::start_attempts(Duration::from_secs(29)).0, 2);
    assert_eq!(super::kubelet::start_attempts(Duration::from_secs(30)).0, 3);
    assert_eq!(
        super::kubelet::start_attempts(Duration::from_secs(10_000)).2,
        Duration::from_secs(300),
        "capped at 5 minutes"
    );
}

#[test]
fn sleep_in_other_images_runs() {
    let mut h = Harness::new();
    let mut d = deployment("reviews-v1", 1);
    let c = &mut d["spec"]["template"]["spec"]["containers"][0];
    c["command"] = json!(["sleep", "20h"]);
    h.store.create(&obj::deployments(), d).unwrap();
    h.settle(Duration::ZERO);
    h.settle(DELAY);
    let pod = h.list(&obj::pods()).remove(0);
    assert!(obj::pod_ready(&pod));
    assert!(pod["status"]["containerStatuses"][0]["state"]["running"].is_object());
    for (image, cmd, missing) in [
        ("gcr.io/distroless/static:nonroot", "/bin/sh", true),
        ("gcr.io/distroless/base:debug", "sleep", false),
        ("gcr.io/distroless/static:nonroot", "/app/server", false),
    ] {
        let c = json!({"name": "x", "image": image, "command": [cmd]});
        assert_eq!(
            crate::world::workload::missing_executable(&c).is_some(),
            missing,
            "{image} {cmd}"
        );
    }
}

#[test]
fn held_pods_stay_pending_until_released() {
    use futures::FutureExt;
    let mut h = Harness::rolled_out("reviews-v1", 1);
    let first = h.list(&obj::pods()).remove(0);
    assert_eq!(first["status"]["phase"], "Running");
    let hash = first["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap()
        .to_string();
    // Hold the pods of the first template: the running one goes on, a new template's
    // pods start as usual.
    let hold = h.cfg.pod_starts.clone();
    hold.hold(BTreeMap::from([
        ("app".to_string(), "reviews".to_string()),
        ("pod-template-hash".to_string(), hash),
    ]));
    assert_eq!(hold.wait_held().now_or_never(), None, "nothing held yet");
    h.edit_deployment("reviews-v1", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["sleep", "20h"]);
    });
    let t1 = DELAY * 2;
    h.settle(t1);
    h.settle(t1 + DELAY);
    let pods = h.list(&obj::pods());
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["status"]["phase"], "Running");
    assert!(kube_completed(&h.deployment("reviews-v1")));
    assert!(hold.held().is_empty());

    // Back to the first template: its new pod stays Pending long after its delay, and the
    // rollout with it.
    h.edit_deployment("reviews-v1", |d| {
        d["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("command");
    });
    let t2 = t1 * 2;
    h.settle(t2);
    h.settle(t2 + DELAY * 20);
    let pending: Vec<Value> = h
        .list(&obj::pods())
        .into_iter()
        .filter(|p| p["status"]["phase"] == "Pending")
        .collect();
    assert_eq!(pending.len(), 1, "{:#?}", h.list(&obj::pods()));
    assert_eq!(
        pending[0]["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ContainerCreating"
    );
    let name = format!("bookinfo/{}", obj::name(&pending[0]));
    assert_eq!(hold.held(), std::slice::from_ref(&name));
    assert_eq!(hold.wait_held().now_or_never(), Some(vec![name]));
    assert!(!kube_completed(&h.deployment("reviews-v1")));

    // Released, it starts at the next pass.
    hold.release();
    h.settle(t2 + DELAY * 21);
    h.settle(t2 + DELAY * 21);
    let pods = h.list(&obj::pods());
    assert_eq!(pods.len(), 1, "{pods:#?}");
    assert_eq!(pods[0]["status"]["phase"], "Running");
    assert!(kube_completed(&h.deployment("reviews-v1")));
    assert!(hold.held().is_empty());
}
