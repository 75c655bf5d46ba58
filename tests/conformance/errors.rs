//! Error `Status` bodies and codes for malformed requests, and RBAC 403s (a user
//! impersonated by the admin, as `kubectl --as` does) with the messages kubectl-smh quotes.

use serde_json::json;

use crate::harness::{Interaction, code, namespace, pick, status, text};

const CMS: &str = "/api/v1/namespaces/conf-errors/configmaps";

fn as_user(i: Interaction) -> Interaction {
    i.header("impersonate-user", "conf-user")
        .header("impersonate-group", "conf-group")
}

#[allow(
    clippy::too_many_lines,
    reason = "a table of interactions, one entry each, in the order they run"
)]
pub(crate) fn interactions() -> Vec<Interaction> {
    vec![
        namespace("errors/create-namespace", "conf-errors"),
        Interaction::http("errors/unknown-resource-404", "GET", "/api/v1/namespaces/conf-errors/widgetz", None)
            .norm(status()),
        Interaction::http("errors/unknown-group-404", "GET", "/apis/nope.example.com/v1", None)
            .norm(code()),
        Interaction::http("errors/invalid-json-400", "POST", CMS, None)
            .body("{not json")
            .content_type("application/json")
            .norm(status()),
        Interaction::http(
            "errors/kind-mismatch-400",
            "POST",
            CMS,
            Some(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})),
        )
        .norm(status()),
        Interaction::http(
            "errors/secret-not-base64-400",
            "POST",
            "/api/v1/namespaces/conf-errors/secrets",
            Some(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"},
                "data": {"k": "not base64!"}})),
        )
        .norm(code()),
        Interaction::http(
            "errors/name-too-long-422",
            "POST",
            "/api/v1/namespaces/conf-errors/services",
            Some(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "a-service-name-longer-than-sixty-three-characters-is-refused-by-dns"},
                "spec": {"ports": [{"port": 80}]}})),
        )
        .norm(status()),
        Interaction::http(
            "errors/invalid-label-selector-400",
            "GET",
            &format!("{CMS}?labelSelector=a%20in%20(b"),
            None,
        )
        .norm(pick(&["/kind", "/code", "/reason"])),
        Interaction::http(
            "errors/unsupported-field-selector-400",
            "GET",
            &format!("{CMS}?fieldSelector=data.k%3Dv"),
            None,
        )
        .norm(status()),
        Interaction::http(
            "errors/deployment-invalid-422",
            "POST",
            "/apis/apps/v1/namespaces/conf-errors/deployments",
            Some(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
                "spec": {"selector": {"matchLabels": {"app": "x"}},
                    "template": {"metadata": {"labels": {"app": "y"}},
                        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})),
        )
        .norm(status()),
        as_user(Interaction::http("errors/rbac-get-403", "GET", "/api/v1/namespaces/conf-errors/secrets/x", None))
            .norm(status()),
        as_user(Interaction::http("errors/rbac-list-all-namespaces-403", "GET", "/apis/apps/v1/deployments", None))
            .norm(status()),
        as_user(Interaction::http(
            "errors/rbac-patch-custom-resource-403",
            "PATCH",
            "/apis/networking.istio.io/v1alpha3/namespaces/conf-errors/destinationrules/r?fieldManager=kubectl-smh",
            None,
        ))
        .content_type("application/apply-patch+yaml")
        .body("apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata:\n  name: r\nspec:\n  host: reviews\n")
        .norm(status()),
        as_user(Interaction::http("errors/rbac-create-cluster-scoped-403", "POST", "/api/v1/namespaces", Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}))))
            .norm(status()),
        Interaction::http(
            "errors/rbac-grant-role",
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/conf-errors/roles",
            Some(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "cm-reader"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]})),
        )
        .norm(pick(&["/rules"])),
        Interaction::http(
            "errors/rbac-grant-binding",
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/conf-errors/rolebindings",
            Some(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "cm-reader"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "conf-group"}]})),
        )
        .norm(pick(&["/subjects", "/roleRef"])),
        as_user(Interaction::http("errors/rbac-granted-list", "GET", CMS, None))
            .norm(pick(&["/kind"])),
        as_user(Interaction::http(
            "errors/rbac-granted-but-not-create-403",
            "POST",
            CMS,
            Some(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})),
        ))
        .norm(status()),
        as_user(Interaction::http(
            "errors/rbac-self-subject-access-review",
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            Some(json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": {"namespace": "conf-errors", "verb": "list", "resource": "configmaps"}}})),
        ))
        .norm(pick(&["/status"])),
        Interaction::kubectl(
            "errors/rbac-kubectl-forbidden",
            &["get", "secrets", "-n", "conf-errors", "--as=conf-user", "--as-group=conf-group"],
            None,
        )
        .norm(text()),
        Interaction::kubectl(
            "errors/rbac-kubectl-auth-can-i",
            &["auth", "can-i", "list", "configmaps", "-n", "conf-errors", "--as=conf-user", "--as-group=conf-group"],
            None,
        ),
        Interaction::kubectl(
            "errors/kubectl-not-found",
            &["get", "configmap", "nope", "-n", "conf-errors"],
            None,
        ),
        Interaction::kubectl(
            "errors/kubectl-unknown-resource-type",
            &["get", "widgetz"],
            None,
        ),
        Interaction::http("errors/delete-namespace", "DELETE", "/api/v1/namespaces/conf-errors", None)
            .norm(pick(&["/kind", "/status/phase", "/spec"])),
    ]
}
