//! Unit tests of `drill::workload`, moved out of `workload.rs` to keep each file short.

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::*;
use crate::drill::plan::{DrillOptions, PlanInput, build_plan};
use crate::testing::drill::{bookinfo, mk_fs, mk_service};
use crate::testing::drill::{mk_container, mk_deployment};

fn dep_with(container: Value, extra_spec: Value) -> Deployment {
    let mut v = serde_json::to_value(mk_deployment(
        "bookinfo",
        "reviews-v1",
        &[("app", "reviews"), ("version", "v1")],
        vec![mk_container("reviews", None, None)],
    ))
    .unwrap();
    let c = &mut v["spec"]["template"]["spec"]["containers"][0];
    for (k, val) in container.as_object().unwrap() {
        c[k] = val.clone();
    }
    for (k, val) in extra_spec.as_object().unwrap() {
        v["spec"][k] = val.clone();
    }
    serde_json::from_value(v).unwrap()
}

fn plan_for(deps: &BTreeMap<String, Vec<Deployment>>, opts: &DrillOptions) -> DrillPlan {
    let fs = mk_fs();
    let svc = mk_service();
    build_plan(
        &PlanInput {
            failover_service: &fs,
            primary_service: &svc,
            deployments: deps,
            primary_outlier: None,
        },
        opts,
    )
    .unwrap()
}

/// Bookinfo with reviews-v1 replaced.
fn with_v1(dep: Deployment) -> BTreeMap<String, Vec<Deployment>> {
    let mut deps = bookinfo();
    let list = deps.get_mut("mgmt-cluster").unwrap();
    list.retain(|d| d.metadata.name.as_deref() != Some("reviews-v1"));
    list.push(dep);
    deps
}

fn only_v1() -> DrillOptions {
    DrillOptions {
        breaks: vec!["reviews-v1".parse().unwrap()],
        ..Default::default()
    }
}

const READINESS: &str = r#"{"readinessProbe": {"httpGet": {"path": "/health", "port": 9080}, "periodSeconds": 2, "failureThreshold": 4}}"#;

#[test]
fn fenceposts_like_kubernetes() {
    let r = rollout(&dep_with(json!({}), json!({})));
    assert_eq!(
        (r.max_surge, r.max_unavailable, r.old_pods_kept()),
        (1, 0, 1),
        "1 replica at 25%: surge rounds up, unavailable down"
    );
    let r = rollout(&dep_with(json!({}), json!({"replicas": 4})));
    assert_eq!(
        (r.max_surge, r.max_unavailable, r.old_pods_kept()),
        (1, 1, 3)
    );
    let r = rollout(&dep_with(
        json!({}),
        json!({"replicas": 2, "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "10%"}}}),
    ));
    assert_eq!(r.max_unavailable, 1, "both 0: maxUnavailable 1");
    let r = rollout(&dep_with(
        json!({}),
        json!({"replicas": 2, "strategy": {"rollingUpdate": {"maxUnavailable": "100%"}}}),
    ));
    assert_eq!(r.old_pods_kept(), 0);
    let r = rollout(&dep_with(
        json!({}),
        json!({"strategy": {"type": "Recreate"}, "progressDeadlineSeconds": 30}),
    ));
    assert!(r.recreate);
    assert_eq!((r.old_pods_kept(), r.progress_deadline_seconds), (0, 30));
}

#[test]
fn ready_timeout_from_probes() {
    let none = dep_with(json!({}), json!({}));
    assert_eq!(ready_timeout(&none, &["reviews".into()]), READY_SLACK);
    let readiness = dep_with(serde_json::from_str(READINESS).unwrap(), json!({}));
    assert_eq!(
        ready_timeout(&readiness, &["reviews".into()]),
        Duration::from_secs(8) + READY_SLACK
    );
    // Defaults: period 10 s, failure threshold 3; a startup probe comes first.
    let both = dep_with(
        json!({"readinessProbe": {"tcpSocket": {"port": 9080}},
                   "startupProbe": {"httpGet": {"port": 9080}, "initialDelaySeconds": 5, "periodSeconds": 1, "failureThreshold": 10}}),
        json!({}),
    );
    assert_eq!(
        ready_timeout(&both, &["reviews".into()]),
        Duration::from_secs(15 + 30) + READY_SLACK
    );
    // Probes of containers that do not break do not count.
    assert_eq!(ready_timeout(&both, &["other".into()]), READY_SLACK);
}

#[test]
fn readiness_probe_with_one_replica_refuses_and_names_scale() {
    let deps = with_v1(dep_with(
        serde_json::from_str(READINESS).unwrap(),
        json!({}),
    ));
    let plan = plan_for(&deps, &only_v1());
    assert_eq!(plan.targets[0].ready_timeout, Duration::from_secs(13));
    let a = assess(&plan, &deps, &BTreeMap::new());
    assert_eq!(a.refusals.len(), 1, "{a:#?}");
    assert_eq!(
        a.refusals[0],
        "deployment mgmt-cluster:bookinfo/reviews-v1, container reviews: its readiness probe (httpGet :9080/health) fails once `sleep 20h` replaces the app, so the new pods never become Ready; with 1 replica and maxUnavailable 0 (maxSurge 1), the deployment controller keeps 1 old pod serving until new pods are Ready, so traffic never breaks, nothing fails over, and the rollout stalls until its progress deadline (600s). Use --break-mode scale (the drill scales the deployments to 0 and puts back the replica count), or pass --break-mode command to run the command patch anyway (the drill then stops and restores when the new pods are not Ready within 13.0s)"
    );
    // Chosen explicitly: a warning.
    let explicit = plan_for(
        &deps,
        &DrillOptions {
            break_mode: Some(BreakMode::Command),
            ..only_v1()
        },
    );
    let a = assess(&explicit, &deps, &BTreeMap::new());
    assert!(a.refusals.is_empty());
    assert!(
            a.warnings[0].ends_with("you chose --break-mode command: the drill stops and restores when the new pods are not Ready within 13.0s"),
            "{a:#?}"
        );
    // The scale break does not care about probes.
    let scale = plan_for(
        &deps,
        &DrillOptions {
            break_mode: Some(BreakMode::Scale),
            ..only_v1()
        },
    );
    assert_eq!(
        assess(&scale, &deps, &BTreeMap::new()),
        Assessment::default()
    );
}

#[test]
fn probes_that_do_not_stall_the_rollout() {
    // Recreate: the old pods go, the rollout still never completes.
    let deps = with_v1(dep_with(
        serde_json::from_str(READINESS).unwrap(),
        json!({"strategy": {"type": "Recreate"}}),
    ));
    let a = assess(&plan_for(&deps, &only_v1()), &deps, &BTreeMap::new());
    assert!(
            a.refusals[0].contains("the old pods are removed (the Recreate strategy removes them first), so the primary loses its endpoints, but the rollout never completes"),
            "{a:#?}"
        );
    // A probe on a port another container serves is unaffected.
    let mut dep = dep_with(
        json!({"readinessProbe": {"tcpSocket": {"port": 15021}}}),
        json!({}),
    );
    let mut proxy = mk_container("istio-proxy", None, None);
    proxy.ports.as_mut().unwrap()[0].container_port = 15021;
    dep.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers
        .push(proxy);
    let deps = with_v1(dep);
    let a = assess(&plan_for(&deps, &only_v1()), &deps, &BTreeMap::new());
    assert_eq!(a, Assessment::default(), "{a:#?}");
    // An exec probe may pass or not: a warning.
    let deps = with_v1(dep_with(
        json!({"readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}}}),
        json!({}),
    ));
    let a = assess(&plan_for(&deps, &only_v1()), &deps, &BTreeMap::new());
    assert!(a.refusals.is_empty());
    assert!(
        a.warnings[0].contains("readiness probe (exec `cat /tmp/ready`)"),
        "{a:#?}"
    );
    // Liveness: restarts, a warning; a named port resolves to the container's port.
    let deps = with_v1(dep_with(
        json!({"livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
                   "ports": [{"name": "http", "containerPort": 9080}]}),
        json!({}),
    ));
    let a = assess(&plan_for(&deps, &only_v1()), &deps, &BTreeMap::new());
    assert!(a.refusals.is_empty());
    assert!(
            a.warnings[0].contains("its liveness probe (httpGet :9080/) fails against `sleep 20h`, so the kubelet restarts the container about every 30s"),
            "{a:#?}"
        );
    // A startup probe that fails: the container is killed, never Ready.
    let deps = with_v1(dep_with(
        json!({"startupProbe": {"tcpSocket": {"port": 9080}, "periodSeconds": 1, "failureThreshold": 5}}),
        json!({"replicas": 4}),
    ));
    let a = assess(&plan_for(&deps, &only_v1()), &deps, &BTreeMap::new());
    assert!(
            a.refusals[0].contains("its startup probe (tcpSocket :9080) fails once `sleep 20h` replaces the app: the kubelet kills the container after about 5s and restarts it, so the new pods never become Ready; with 4 replicas and maxUnavailable 1 (maxSurge 1), the deployment controller keeps 3 old pods serving"),
            "{a:#?}"
        );
}

#[test]
fn distroless_images_by_name() {
    for yes in [
        "gcr.io/distroless/static-debian12:nonroot",
        "docker.io/istio/proxyv2:1.24.2-distroless",
        "cgr.dev/chainguard/nginx:latest",
        "registry.example.com/team/app-distroless@sha256:abcd",
    ] {
        assert!(image_looks_distroless(yes), "{yes}");
    }
    for no in [
        "gcr.io/distroless/base:debug",
        "cgr.dev/chainguard/python:latest-dev",
        "docker.io/istio/examples-bookinfo-reviews-v1:1.16.2",
        "busybox",
    ] {
        assert!(!image_looks_distroless(no), "{no}");
    }
    let deps = with_v1(dep_with(
        json!({"image": "docker.io/istio/examples-bookinfo-reviews-v1:1.16.2-distroless"}),
        json!({}),
    ));
    let a = assess(&plan_for(&deps, &only_v1()), &deps, &BTreeMap::new());
    assert!(a.refusals.is_empty());
    assert!(
        a.warnings[0].contains("looks distroless by its name"),
        "{a:#?}"
    );
}

fn managed(manager: &str, fields: Value) -> Value {
    json!({"manager": manager, "operation": "Apply", "apiVersion": "apps/v1",
               "fieldsType": "FieldsV1", "fieldsV1": fields})
}

#[test]
fn owners_that_may_undo_the_break() {
    let replicas_and_command = json!({"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"reviews\"}": {".": {}, "f:name": {}, "f:image": {}, "f:command": {}}}}}}});
    let image_only = json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"reviews\"}": {".": {}, "f:name": {}, "f:image": {}}}}}}});
    let mut dep = dep_with(json!({}), json!({}));
    dep.metadata.managed_fields = Some(
        serde_json::from_value(json!([
            managed("argocd-controller", replicas_and_command.clone()),
            managed("kustomize-controller", image_only.clone()),
            managed("helm", replicas_and_command),
            managed("kube-controller-manager", json!({"f:status": {}})),
        ]))
        .unwrap(),
    );
    let d = DeploymentRef {
        cluster: "mgmt-cluster".into(),
        namespace: "bookinfo".into(),
        name: "reviews-v1".into(),
    };
    let w = owner_warnings(&d, &dep, BreakMode::Command, &["reviews".into()]);
    assert_eq!(w.len(), 3, "{w:#?}");
    assert_eq!(
        w[0],
        "deployment mgmt-cluster:bookinfo/reviews-v1 is managed by Argo CD (field manager argocd-controller), which owns the command of container reviews: with automated sync and self-heal it re-applies what Git holds as soon as the live object differs, which would put the command of container reviews back and undo the break during the drill; turn off self-heal of its Application for the drill"
    );
    assert!(w[1].starts_with("deployment mgmt-cluster:bookinfo/reviews-v1 is managed by Helm (field manager helm), which owns the command"), "{}", w[1]);
    assert!(w[2].contains("Flux (kustomize-controller) (field manager kustomize-controller); it does not own the command of container reviews"), "{}", w[2]);
    let w = owner_warnings(&d, &dep, BreakMode::Scale, &["reviews".into()]);
    assert!(w[0].contains("which owns spec.replicas"), "{w:#?}");
    assert!(w[2].contains("it does not own spec.replicas"), "{w:#?}");
    for (m, tool) in [
        ("argocd-application-controller", "Argo CD"),
        ("helm-controller", "Flux (helm-controller)"),
    ] {
        let mut dep = dep_with(json!({}), json!({}));
        dep.metadata.managed_fields =
            Some(serde_json::from_value(json!([managed(m, image_only.clone())])).unwrap());
        let w = owner_warnings(&d, &dep, BreakMode::Scale, &[]);
        assert!(
            w[0].contains(&format!("managed by {tool} (field manager {m})")),
            "{w:?}"
        );
    }
}

fn hpa(name: &str, target: &str, min: Option<i32>) -> HorizontalPodAutoscaler {
    serde_json::from_value(json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": "bookinfo"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                 "minReplicas": min, "maxReplicas": 5}
    }))
    .unwrap()
}

#[test]
fn hpas_on_the_deployment() {
    let deps = with_v1(dep_with(json!({}), json!({"replicas": 2})));
    let hpas = BTreeMap::from([(
        "mgmt-cluster".to_string(),
        vec![
            hpa("reviews-v1", "reviews-v1", Some(2)),
            hpa("other", "ratings-v1", Some(1)),
        ],
    )]);
    let scale = plan_for(
        &deps,
        &DrillOptions {
            break_mode: Some(BreakMode::Scale),
            ..only_v1()
        },
    );
    let a = assess(&scale, &deps, &hpas);
    assert_eq!(a.autoscaled, [scale.targets[0].deployment.clone()]);
    assert_eq!(
        a.warnings,
        [
            "HorizontalPodAutoscaler bookinfo/reviews-v1 (minReplicas 2, maxReplicas 5) scales deployment mgmt-cluster:bookinfo/reviews-v1: while the deployment has 0 replicas the HPA leaves it alone (ScalingActive=False, reason ScalingDisabled: it does not scale a target whose replicas are 0), so it does not undo the break; the restore puts back 2 replicas exactly, and from then on the HPA scales the deployment again as its metrics say"
        ]
    );
    let zero = BTreeMap::from([(
        "mgmt-cluster".to_string(),
        vec![hpa("reviews-v1", "reviews-v1", Some(0))],
    )]);
    let a = assess(&scale, &deps, &zero);
    assert!(
        a.warnings[0].contains("minReplicas 0 (the HPAScaleToZero feature)"),
        "{a:?}"
    );
    let a = assess(&plan_for(&deps, &only_v1()), &deps, &hpas);
    assert!(
        a.warnings[0].contains("the command patch leaves spec.replicas to it"),
        "{a:?}"
    );
    // Another kind of target, or another namespace, does not count.
    let mut rs = hpa("x", "reviews-v1", None);
    rs.spec.as_mut().unwrap().scale_target_ref.kind = "ReplicaSet".into();
    assert!(!hpa_targets(&rs, "reviews-v1"));
}

fn pod(containers: Value, statuses: Value, conditions: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": "reviews-v1-abc", "namespace": "bookinfo"},
        "spec": {"containers": containers},
        "status": {"phase": "Running", "containerStatuses": statuses, "conditions": conditions}
    }))
    .unwrap()
}

fn sleeping() -> Value {
    json!([{"name": "reviews", "image": "r:1", "command": ["sleep", "20h"]},
               {"name": "istio-proxy", "image": "proxyv2:1.24.2"}])
}

#[test]
fn pods_of_the_break_rollout() {
    let broken = ["reviews".to_string()];
    // An old pod (no sleep): not judged.
    let old = pod(
        json!([{"name": "reviews", "image": "r:1"}]),
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]),
        json!([]),
    );
    assert_eq!(pod_break_state(&old, &broken), PodBreakState::Other);
    // Running and Ready, as the guide's break intends.
    let fine = pod(
        sleeping(),
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": true, "restartCount": 0,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]),
        json!([]),
    );
    assert_eq!(pod_break_state(&fine, &broken), PodBreakState::Fine);
    // Creating: fine for now.
    let creating = pod(
        sleeping(),
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "ContainerCreating"}}}]),
        json!([]),
    );
    assert_eq!(pod_break_state(&creating, &broken), PodBreakState::Fine);
    // containerd's answer for an image without sleep, as the kubelet reports it.
    let msg = "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"sleep\": executable file not found in $PATH: unknown";
    let crash = pod(
        sleeping(),
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": false, "restartCount": 1,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container=reviews pod=reviews-v1-abc_bookinfo(1)"}},
                    "lastState": {"terminated": {"exitCode": 128, "reason": "StartError", "message": msg}}}]),
        json!([]),
    );
    assert_eq!(
        pod_break_state(&crash, &broken),
        PodBreakState::Failed(format!(
            "pod reviews-v1-abc: container reviews cannot run `sleep 20h` and is in CrashLoopBackOff (last exit code 128, StartError: {msg}): the image has no `sleep` (distroless or scratch-based); use --break-mode scale"
        ))
    );
    let run_error = pod(
        sleeping(),
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "RunContainerError", "message": msg}}}]),
        json!([]),
    );
    assert!(
        matches!(pod_break_state(&run_error, &broken), PodBreakState::Failed(m) if m.contains("(RunContainerError: failed to create containerd task"))
    );
    // CRI-O refuses at create time.
    let crio = pod(
        sleeping(),
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "CreateContainerError", "message": "container create failed: executable file `sleep` not found in $PATH: No such file or directory"}}}]),
        json!([]),
    );
    assert!(
        matches!(pod_break_state(&crio, &broken), PodBreakState::Failed(m) if m.contains("the image has no `sleep`"))
    );
    // Docker's old answer: exit code 127.
    let docker = pod(
        sleeping(),
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"terminated": {"exitCode": 127, "reason": "ContainerCannotRun", "message": "exec: \"sleep\": executable file not found in $PATH"}}}]),
        json!([]),
    );
    assert!(
        matches!(pod_break_state(&docker, &broken), PodBreakState::Failed(m) if m.contains("(exit code 127, ContainerCannotRun"))
    );
    // Image errors.
    let pull = pod(
        sleeping(),
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"r:1\""}}}]),
        json!([]),
    );
    assert_eq!(
            pod_break_state(&pull, &broken),
            PodBreakState::Failed("pod reviews-v1-abc: container reviews cannot pull its image r:1 (ImagePullBackOff: Back-off pulling image \"r:1\")".into())
        );
    // Killed by a liveness probe, again and again.
    let killed = pod(
        sleeping(),
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": false, "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 137, "reason": "Error"}}}]),
        json!([]),
    );
    assert!(
        matches!(pod_break_state(&killed, &broken), PodBreakState::Failed(m) if m.contains("is killed and restarted again and again (CrashLoopBackOff, 3 restarts, last exit code 137 Error): a liveness or startup probe"))
    );
    // Running but not Ready: stalled (the executor decides when it lasted too long).
    let mut spec = sleeping();
    spec[0]["readinessProbe"] = json!({"httpGet": {"path": "/health", "port": 9080}});
    let unready = pod(
        spec,
        json!([{"name": "reviews", "image": "r:1", "imageID": "", "ready": false, "restartCount": 0, "started": true,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]),
        json!([{"type": "Ready", "status": "False"}]),
    );
    assert_eq!(
            pod_break_state(&unready, &broken),
            PodBreakState::Stalled {
                why: "pod reviews-v1-abc: container reviews runs `sleep 20h` but is not Ready: its readiness probe (httpGet :9080/health) does not pass".into(),
                then: "the deployment controller keeps old pods until new ones are Ready, so traffic may never break; use --break-mode scale".into()
            }
        );
    let unschedulable = pod(
        sleeping(),
        json!([]),
        json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient cpu."}]),
    );
    assert!(
        matches!(pod_break_state(&unschedulable, &broken), PodBreakState::Stalled { why, .. } if why == "pod reviews-v1-abc cannot be scheduled (0/3 nodes are available: 3 Insufficient cpu.)")
    );
}
