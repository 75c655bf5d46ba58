//! The four patch types (JSON merge, JSON, strategic merge, apply is in `apply`) on a
//! Deployment and on an Istio custom resource, through kube-rs and through `kubectl patch`.

use serde_json::json;

use crate::harness::{Interaction, namespace, pick, status, stdout, text};

const DEPLOY: &str = "/apis/apps/v1/namespaces/conf-patch/deployments";
const DR: &str = "/apis/networking.istio.io/v1alpha3/namespaces/conf-patch/destinationrules";
const STRATEGIC: &str = "application/strategic-merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";

const CONTAINERS: &[&str] = &[
    "/metadata/generation",
    "/spec/replicas",
    "/spec/template/spec/containers",
];

#[allow(
    clippy::too_many_lines,
    reason = "a table of interactions, one entry each, in the order they run"
)]
pub(crate) fn interactions() -> Vec<Interaction> {
    vec![
        namespace("patch/create-namespace", "conf-patch"),
        Interaction::http(
            "patch/create-deployment",
            "POST",
            DEPLOY,
            Some(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "namespace": "conf-patch"},
                "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "d"}},
                    "template": {"metadata": {"labels": {"app": "d"}},
                        "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                            "env": [{"name": "A", "value": "1"}]}]}}}})),
        )
        .norm(pick(&[
            "/metadata/generation",
            "/spec",
            "/metadata/annotations",
        ])),
        Interaction::http(
            "patch/merge",
            "PATCH",
            &format!("{DEPLOY}/d"),
            Some(json!({"spec": {"replicas": 2}})),
        )
        .norm(pick(CONTAINERS)),
        Interaction::http(
            "patch/json",
            "PATCH",
            &format!("{DEPLOY}/d"),
            Some(json!([{"op": "replace", "path": "/spec/replicas", "value": 0}])),
        )
        .content_type(JSON_PATCH)
        .norm(pick(CONTAINERS)),
        Interaction::http(
            "patch/json-test-fails",
            "PATCH",
            &format!("{DEPLOY}/d"),
            Some(json!([{"op": "test", "path": "/spec/replicas", "value": 9}])),
        )
        .content_type(JSON_PATCH)
        .norm(status()),
        Interaction::http(
            "patch/json-missing-path",
            "PATCH",
            &format!("{DEPLOY}/d"),
            Some(json!([{"op": "remove", "path": "/spec/nope"}])),
        )
        .content_type(JSON_PATCH)
        .norm(status()),
        Interaction::http(
            "patch/strategic-merges-env",
            "PATCH",
            &format!("{DEPLOY}/d"),
            Some(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "env": [{"name": "B", "value": "2"}]}]}}}})),
        )
        .content_type(STRATEGIC)
        .norm(pick(CONTAINERS)),
        Interaction::http(
            "patch/strategic-delete-directive",
            "PATCH",
            &format!("{DEPLOY}/d"),
            Some(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "env": [{"name": "A", "$patch": "delete"}]}]}}}})),
        )
        .content_type(STRATEGIC)
        .norm(pick(CONTAINERS)),
        Interaction::http(
            "patch/merge-replaces-lists",
            "PATCH",
            &format!("{DEPLOY}/d"),
            Some(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "nginx:1.28"}]}}}})),
        )
        .norm(pick(CONTAINERS)),
        Interaction::http(
            "patch/merge-missing-404",
            "PATCH",
            &format!("{DEPLOY}/nope"),
            Some(json!({"spec": {"replicas": 1}})),
        )
        .norm(status()),
        Interaction::http(
            "patch/unsupported-content-type-415",
            "PATCH",
            &format!("{DEPLOY}/d"),
            Some(json!({"spec": {"replicas": 1}})),
        )
        .content_type("text/plain")
        .norm(status()),
        Interaction::http(
            "patch/create-destinationrule",
            "POST",
            DR,
            Some(json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
                "metadata": {"name": "r", "namespace": "conf-patch"},
                "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}})),
        )
        .norm(pick(&["/metadata/generation", "/spec"])),
        Interaction::http(
            "patch/merge-custom-resource",
            "PATCH",
            &format!("{DR}/r"),
            Some(json!({"spec": {"trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 1}}}})),
        )
        .norm(pick(&["/metadata/generation", "/spec"])),
        Interaction::http(
            "patch/json-custom-resource",
            "PATCH",
            &format!("{DR}/r"),
            Some(json!([{"op": "add", "path": "/spec/subsets/-",
                "value": {"name": "v2", "labels": {"version": "v2"}}}])),
        )
        .content_type(JSON_PATCH)
        .norm(pick(&["/metadata/generation", "/spec"])),
        Interaction::http(
            "patch/strategic-custom-resource-415",
            "PATCH",
            &format!("{DR}/r"),
            Some(json!({"spec": {"host": "ratings"}})),
        )
        .content_type(STRATEGIC)
        .norm(status()),
        Interaction::kubectl(
            "patch/kubectl-strategic",
            &[
                "patch",
                "deployment",
                "d",
                "-n",
                "conf-patch",
                "-p",
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"C","value":"3"}]}]}}}}"#,
            ],
            None,
        ),
        Interaction::kubectl(
            "patch/kubectl-strategic-no-change",
            &[
                "patch",
                "deployment",
                "d",
                "-n",
                "conf-patch",
                "-p",
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"C","value":"3"}]}]}}}}"#,
            ],
            None,
        ),
        Interaction::kubectl(
            "patch/kubectl-json",
            &[
                "patch",
                "destinationrule",
                "r",
                "-n",
                "conf-patch",
                "--type=json",
                "-p",
                r#"[{"op":"replace","path":"/spec/host","value":"ratings"}]"#,
            ],
            None,
        ),
        Interaction::kubectl(
            "patch/kubectl-merge-custom-resource",
            &[
                "patch",
                "destinationrule",
                "r",
                "-n",
                "conf-patch",
                "--type=merge",
                "-p",
                r#"{"spec":{"host":"reviews"}}"#,
                "-o",
                "jsonpath={.spec.host} {.metadata.generation}",
            ],
            None,
        )
        .norm(stdout()),
        Interaction::kubectl(
            "patch/kubectl-strategic-custom-resource",
            &[
                "patch",
                "destinationrule",
                "r",
                "-n",
                "conf-patch",
                "-p",
                r#"{"spec":{"host":"reviews"}}"#,
            ],
            None,
        )
        .norm(text()),
    ]
}
