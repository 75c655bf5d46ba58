//! The part of kube-apiserver's bootstrap RBAC policy a user meets first.

use serde_json::{Value, json};

use super::{
    AUTHENTICATED_GROUP, AUTHORIZATION_GROUP, MASTERS_GROUP, RBAC_GROUP, UNAUTHENTICATED_GROUP,
};

fn policy_object(kind: &str, name: &str, body: Value) -> Value {
    let mut o = json!({
        "apiVersion": format!("{RBAC_GROUP}/v1"),
        "kind": kind,
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
    });
    if let (Some(m), Some(b)) = (o.as_object_mut(), body.as_object()) {
        m.extend(b.clone());
    }
    o
}

fn cluster_binding(name: &str, groups: &[&str]) -> Value {
    policy_object(
        "ClusterRoleBinding",
        name,
        json!({
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name},
            "subjects": groups.iter().map(|g| json!({"apiGroup": RBAC_GROUP, "kind": "Group", "name": g})).collect::<Vec<_>>(),
        }),
    )
}

/// The part of kube-apiserver's bootstrap policy a user meets first: ClusterRoles
/// `cluster-admin`, `system:discovery`, `system:basic-user`, `system:public-info-viewer`
/// and their ClusterRoleBindings, as `(plural, object)`.
pub(crate) fn bootstrap_objects() -> Vec<(&'static str, Value)> {
    let get = |urls: &[&str]| json!({"rules": [{"nonResourceURLs": urls, "verbs": ["get"]}]});
    vec![
        (
            "clusterroles",
            policy_object(
                "ClusterRole",
                "cluster-admin",
                json!({"rules": [
                    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                    {"nonResourceURLs": ["*"], "verbs": ["*"]},
                ]}),
            ),
        ),
        (
            "clusterroles",
            policy_object(
                "ClusterRole",
                "system:discovery",
                get(&[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ]),
            ),
        ),
        (
            "clusterroles",
            policy_object(
                "ClusterRole",
                "system:basic-user",
                json!({"rules": [
                    {"apiGroups": [AUTHORIZATION_GROUP], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]},
                    {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]},
                ]}),
            ),
        ),
        (
            "clusterroles",
            policy_object(
                "ClusterRole",
                "system:public-info-viewer",
                get(&["/healthz", "/livez", "/readyz", "/version", "/version/"]),
            ),
        ),
        (
            "clusterrolebindings",
            cluster_binding("cluster-admin", &[MASTERS_GROUP]),
        ),
        (
            "clusterrolebindings",
            cluster_binding("system:discovery", &[AUTHENTICATED_GROUP]),
        ),
        (
            "clusterrolebindings",
            cluster_binding("system:basic-user", &[AUTHENTICATED_GROUP]),
        ),
        (
            "clusterrolebindings",
            cluster_binding(
                "system:public-info-viewer",
                &[AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP],
            ),
        ),
    ]
}
