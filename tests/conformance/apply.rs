//! Server-side apply (how kubectl-smh writes): creation, conflicts between managers, force,
//! shared and released ownership, managedFields, dry-run, field validation, custom
//! resources.

use crate::harness::{Interaction, full, pick, status, warning};

const CMS: &str = "/api/v1/namespaces/conf-apply/configmaps";
const APPLY: &str = "application/apply-patch+yaml";

fn cm(data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n  namespace: conf-apply\ndata:\n{data}"
    )
}

fn apply(id: &str, query: &str, body: String) -> Interaction {
    Interaction::http(id, "PATCH", &format!("{CMS}/s?{query}"), None)
        .content_type(APPLY)
        .body(&body)
}

const MANAGED: &[&str] = &["/data", "/metadata/managedFields"];

pub(crate) fn interactions() -> Vec<Interaction> {
    vec![
        crate::harness::namespace("apply/create-namespace", "conf-apply"),
        apply("apply/create", "fieldManager=alice", cm("  a: \"1\"\n")).norm(full()),
        apply("apply/again-unchanged", "fieldManager=alice", cm("  a: \"1\"\n"))
            .norm(pick(MANAGED)),
        apply("apply/conflict-409", "fieldManager=bob", cm("  a: \"2\"\n")).norm(status()),
        apply(
            "apply/force-takes-ownership",
            "fieldManager=bob&force=true",
            cm("  a: \"2\"\n"),
        )
        .norm(pick(MANAGED)),
        apply(
            "apply/same-value-shares-ownership",
            "fieldManager=alice",
            cm("  a: \"2\"\n  b: \"1\"\n"),
        )
        .norm(pick(MANAGED)),
        apply(
            "apply/dropped-field-kept-while-shared",
            "fieldManager=bob",
            cm("  b: \"1\"\n"),
        )
        .norm(pick(MANAGED)),
        apply(
            "apply/dropped-field-removed",
            "fieldManager=alice",
            cm("  b: \"1\"\n"),
        )
        .norm(pick(MANAGED)),
        apply("apply/without-field-manager-400", "", cm("  a: \"1\"\n")).norm(status()),
        Interaction::http(
            "apply/update-adds-manager",
            "PUT",
            &format!("{CMS}/s?fieldManager=carol"),
            Some(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "s", "namespace": "conf-apply"},
                "data": {"b": "1", "c": "3"}})),
        )
        .norm(pick(MANAGED)),
        apply(
            "apply/conflict-with-update-manager",
            "fieldManager=alice",
            cm("  b: \"1\"\n  c: \"4\"\n"),
        )
        .norm(status()),
        apply(
            "apply/dry-run",
            "fieldManager=alice&dryRun=All&force=true",
            cm("  b: \"1\"\n  c: \"4\"\n"),
        )
        .norm(pick(&["/data"])),
        Interaction::http("apply/dry-run-changed-nothing", "GET", &format!("{CMS}/s"), None)
            .norm(pick(&["/data"])),
        apply(
            "apply/unknown-field-strict-400",
            "fieldManager=alice&fieldValidation=Strict",
            cm("  b: \"1\"\nbogus: 1\n"),
        )
        .norm(status()),
        apply(
            "apply/unknown-field-warns",
            "fieldManager=alice&fieldValidation=Warn",
            cm("  b: \"1\"\nbogus: 1\n"),
        )
        .norm(warning()),
        apply(
            "apply/json-body",
            "fieldManager=dave",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s","namespace":"conf-apply"},"data":{"d":"4"}}"#.to_string(),
        )
        .norm(pick(MANAGED)),
        apply(
            "apply/name-mismatch-400",
            "fieldManager=alice",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata: {}\n".to_string(),
        )
        .norm(status()),
        Interaction::http(
            "apply/custom-resource",
            "PATCH",
            "/apis/networking.istio.io/v1alpha3/namespaces/conf-apply/destinationrules/r?fieldManager=kubectl-smh",
            None,
        )
        .content_type(APPLY)
        .norm(pick(&["/spec", "/metadata/managedFields", "/metadata/generation"]))
        .body(
            "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata:\n  name: r\n  namespace: conf-apply\nspec:\n  host: reviews\n  trafficPolicy:\n    outlierDetection:\n      consecutive5xxErrors: 1\n",
        ),
        Interaction::http(
            "apply/deployment-defaults-and-ownership",
            "PATCH",
            "/apis/apps/v1/namespaces/conf-apply/deployments/w?fieldManager=kubectl-smh",
            None,
        )
        .content_type(APPLY)
        .norm(pick(&["/spec", "/metadata/managedFields", "/metadata/generation"]))
        .body(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: w}\n  template:\n    metadata:\n      labels: {app: w}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.27\n        ports:\n        - containerPort: 80\n",
        ),
    ]
}

impl Interaction {
    /// Set the request body to `body` (text, sent as is).
    pub(crate) fn body(mut self, body: &str) -> Self {
        if let crate::harness::Req::Http { body: b, .. } = &mut self.req {
            *b = Some(body.to_string());
        }
        self
    }
}
