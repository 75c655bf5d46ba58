//! `metadata.generation` and `status.observedGeneration` per kind (Deployment, Pod,
//! ConfigMap, Service, an Istio resource), and the status subresource of a Deployment.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Interaction, Observed, namespace, pick, status};

const NS: &str = "/api/v1/namespaces/conf-status";
const DEPLOY: &str = "/apis/apps/v1/namespaces/conf-status/deployments";

fn caught_up(o: &Observed) -> bool {
    let s = &o.body["status"];
    o.body["metadata"]["generation"] == s["observedGeneration"]
        && s["availableReplicas"] == o.body["spec"]["replicas"]
        && s["updatedReplicas"] == o.body["spec"]["replicas"]
}

fn pod_ready(o: &Observed) -> bool {
    o.body["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

const GEN: &[&str] = &["/metadata/generation"];

#[allow(
    clippy::too_many_lines,
    reason = "a table of interactions, one entry each, in the order they run"
)]
pub(crate) fn interactions() -> Vec<Interaction> {
    vec![
        namespace("status/create-namespace", "conf-status"),
        Interaction::http(
            "status/deployment-created-generation-1",
            "POST",
            DEPLOY,
            Some(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "g", "namespace": "conf-status"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "g"}},
                    "template": {"metadata": {"labels": {"app": "g"}},
                        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}})),
        )
        .norm(pick(&["/metadata/generation", "/status"])),
        Interaction::http(
            "status/deployment-observed",
            "GET",
            &format!("{DEPLOY}/g"),
            None,
        )
        .until(caught_up, Duration::from_secs(60))
        .norm(Box::new(|o| {
            let last = &o.body["last"];
            let conditions: Vec<_> = last["status"]["conditions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| json!([c["type"], c["status"], c["reason"]]))
                        .collect()
                })
                .unwrap_or_default();
            json!({"satisfied": o.body["satisfied"], "generation": last["metadata"]["generation"],
                "observedGeneration": last["status"]["observedGeneration"],
                "replicas": last["status"]["replicas"], "readyReplicas": last["status"]["readyReplicas"],
                "conditions": conditions})
        })),
        Interaction::http(
            "status/deployment-label-keeps-generation",
            "PATCH",
            &format!("{DEPLOY}/g"),
            Some(json!({"metadata": {"labels": {"x": "1"}}})),
        )
        .norm(pick(GEN)),
        Interaction::http(
            "status/deployment-annotation-bumps-generation",
            "PATCH",
            &format!("{DEPLOY}/g"),
            Some(json!({"metadata": {"annotations": {"x": "1"}}})),
        )
        .norm(pick(GEN)),
        Interaction::http(
            "status/deployment-spec-bumps-generation",
            "PATCH",
            &format!("{DEPLOY}/g"),
            Some(json!({"spec": {"replicas": 2}})),
        )
        .norm(pick(GEN)),
        Interaction::http(
            "status/deployment-observed-again",
            "GET",
            &format!("{DEPLOY}/g"),
            None,
        )
        .until(caught_up, Duration::from_secs(60))
        .norm(pick(&[
            "/satisfied",
            "/last/metadata/generation",
            "/last/status/observedGeneration",
            "/last/status/readyReplicas",
        ])),
        Interaction::http(
            "status/status-subresource-ignores-spec",
            "PATCH",
            &format!("{DEPLOY}/g/status"),
            Some(json!({"spec": {"replicas": 5}, "metadata": {"labels": {"y": "1"}},
                "status": {"observedGeneration": 99}})),
        )
        .norm(pick(&[
            "/spec/replicas",
            "/metadata/labels",
            "/metadata/generation",
            "/status/observedGeneration",
        ])),
        Interaction::http(
            "status/main-resource-ignores-status",
            "PATCH",
            &format!("{DEPLOY}/g"),
            Some(json!({"status": {"observedGeneration": 42}, "spec": {"paused": false}})),
        )
        .norm(pick(&["/metadata/generation", "/spec/paused"])),
        Interaction::http(
            "status/scale-subresource",
            "GET",
            &format!("{DEPLOY}/g/scale"),
            None,
        )
        .norm(pick(&["/kind", "/apiVersion", "/spec", "/metadata/name"])),
        Interaction::http(
            "status/scale-subresource-update",
            "PATCH",
            &format!("{DEPLOY}/g/scale"),
            Some(json!({"spec": {"replicas": 1}})),
        )
        .norm(pick(&["/kind", "/spec"])),
        Interaction::http(
            "status/pod-created",
            "POST",
            &format!("{NS}/pods"),
            Some(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "conf-status"},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}})),
        )
        .norm(pick(&["/metadata/generation", "/status/phase", "/status/qosClass"])),
        Interaction::http("status/pod-ready", "GET", &format!("{NS}/pods/p"), None)
            .until(pod_ready, Duration::from_secs(60))
            .norm(pick(&[
                "/satisfied",
                "/last/metadata/generation",
                "/last/status/observedGeneration",
                "/last/status/phase",
            ])),
        Interaction::http(
            "status/pod-spec-bumps-generation",
            "PATCH",
            &format!("{NS}/pods/p"),
            Some(json!({"spec": {"activeDeadlineSeconds": 3600}})),
        )
        .norm(pick(&["/metadata/generation"])),
        Interaction::http(
            "status/pod-immutable-field-422",
            "PATCH",
            &format!("{NS}/pods/p"),
            Some(json!({"spec": {"restartPolicy": "Never"}})),
        )
        .norm(status()),
        Interaction::http(
            "status/configmap-has-no-generation",
            "POST",
            &format!("{NS}/configmaps"),
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})),
        )
        .norm(pick(&["/metadata/generation"])),
        Interaction::http(
            "status/service-generation",
            "POST",
            &format!("{NS}/services"),
            Some(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"selector": {"app": "g"}, "ports": [{"port": 80}]}})),
        )
        .norm(pick(&["/metadata/generation", "/spec/ports", "/spec/type", "/spec/sessionAffinity"])),
        Interaction::http(
            "status/istio-resource-generation",
            "POST",
            "/apis/networking.istio.io/v1alpha3/namespaces/conf-status/virtualservices",
            Some(json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
                "metadata": {"name": "v"}, "spec": {"hosts": ["reviews"]}})),
        )
        .norm(pick(&["/metadata/generation"])),
        Interaction::http(
            "status/istio-resource-spec-bumps-generation",
            "PATCH",
            "/apis/networking.istio.io/v1alpha3/namespaces/conf-status/virtualservices/v",
            Some(json!({"spec": {"hosts": ["ratings"]}})),
        )
        .norm(pick(&["/metadata/generation"])),
        Interaction::http(
            "status/istio-resource-label-keeps-generation",
            "PATCH",
            "/apis/networking.istio.io/v1alpha3/namespaces/conf-status/virtualservices/v",
            Some(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .norm(pick(&["/metadata/generation"])),
        Interaction::http("status/delete-pod", "DELETE", &format!("{NS}/pods/p"), None)
            .norm(pick(&["/kind", "/metadata/name", "/status/phase"])),
        Interaction::http("status/delete-service", "DELETE", &format!("{NS}/services/s"), None)
            .norm(pick(&["/kind", "/metadata/name"])),
        Interaction::http(
            "status/delete-custom-resource",
            "DELETE",
            "/apis/networking.istio.io/v1alpha3/namespaces/conf-status/virtualservices/v",
            None,
        )
        .norm(pick(&["/kind", "/metadata/name"])),
        Interaction::http(
            "status/delete-deployment-collects-replicasets",
            "DELETE",
            &format!("{DEPLOY}/g"),
            None,
        )
        .norm(pick(&["/kind", "/status", "/details"])),
        Interaction::http(
            "status/replicasets-collected",
            "GET",
            "/apis/apps/v1/namespaces/conf-status/replicasets",
            None,
        )
        .until(
            |o| o.body["items"].as_array().is_some_and(Vec::is_empty),
            Duration::from_secs(30),
        )
        .norm(pick(&["/satisfied"])),
    ]
}
