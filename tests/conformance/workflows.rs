//! kubectl's own workflows, in sequence on the same objects: client-side apply, server-side
//! apply over it, edit-like updates, scale, set image, `rollout status`, `rollout undo`,
//! diff, delete.

use crate::harness::{Interaction, stdout};

fn manifest(replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: conf-wf
  labels: {{app: web}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: conf-wf
spec:
  selector: {{app: web}}
  ports:
  - port: 80
    targetPort: 80
"
    )
}

fn k(id: &str, args: &[&str]) -> Interaction {
    let i = Interaction::kubectl(id, args, None);
    if args.first() == Some(&"rollout") && args.get(1) == Some(&"status") {
        // How many "Waiting for" lines come first depends on the controllers' pace.
        return i.norm(Box::new(|o| {
            let lines: Vec<&str> = o
                .body
                .as_str()
                .unwrap_or("")
                .lines()
                .filter(|l| !l.starts_with("Waiting for"))
                .collect();
            serde_json::json!({"code": o.code, "stdout": lines, "stderr": o.stderr})
        }));
    }
    i
}

fn k_in(id: &str, args: &[&str], stdin: &str) -> Interaction {
    Interaction::kubectl(id, args, Some(stdin))
}

const MANAGERS: &str =
    "jsonpath={range .metadata.managedFields[*]}{.manager}/{.operation}/{.subresource};{end}";

pub(crate) fn interactions() -> Vec<Interaction> {
    let v1 = manifest(1, "nginx:1.27");
    let v2 = manifest(2, "nginx:1.27");
    vec![
        k("workflows/create-namespace", &["create", "namespace", "conf-wf"]),
        k_in("workflows/client-side-apply", &["apply", "-f", "-"], &v1),
        k_in("workflows/client-side-apply-unchanged", &["apply", "-f", "-"], &v1),
        k_in("workflows/client-side-apply-configured", &["apply", "-f", "-"], &v2),
        k(
            "workflows/rollout-status",
            &["rollout", "status", "deployment/web", "-n", "conf-wf", "--timeout=60s"],
        ),
        k(
            "workflows/last-applied",
            &["apply", "view-last-applied", "deployment/web", "-n", "conf-wf"],
        ),
        k(
            "workflows/managers-after-client-side-apply",
            &["get", "deployment/web", "-n", "conf-wf", "-o", MANAGERS],
        )
        .norm(stdout()),
        k_in(
            "workflows/server-side-apply-over-client-side",
            &["apply", "--server-side", "-f", "-"],
            &v2,
        ),
        k_in(
            "workflows/server-side-apply-conflict",
            &["apply", "--server-side", "--field-manager=other", "-f", "-"],
            &manifest(3, "nginx:1.27"),
        ),
        k_in(
            "workflows/server-side-apply-force",
            &[
                "apply",
                "--server-side",
                "--field-manager=other",
                "--force-conflicts",
                "-f",
                "-",
            ],
            &manifest(3, "nginx:1.27"),
        ),
        k(
            "workflows/managers-after-server-side-apply",
            &["get", "deployment/web", "-n", "conf-wf", "-o", MANAGERS],
        )
        .norm(stdout()),
        k(
            "workflows/scale",
            &["scale", "deployment/web", "-n", "conf-wf", "--replicas=1"],
        ),
        k(
            "workflows/edit",
            &["edit", "deployment/web", "-n", "conf-wf"],
        )
        .env("KUBE_EDITOR", "sed -i s/containerPort:.80/containerPort: 8080/"),
        k(
            "workflows/label",
            &["label", "deployment/web", "-n", "conf-wf", "tier=frontend"],
        ),
        k(
            "workflows/set-image",
            &["set", "image", "deployment/web", "-n", "conf-wf", "web=nginx:1.28"],
        ),
        k(
            "workflows/rollout-status-after-set-image",
            &["rollout", "status", "deployment/web", "-n", "conf-wf", "--timeout=60s"],
        ),
        k(
            "workflows/rollout-history",
            &["rollout", "history", "deployment/web", "-n", "conf-wf"],
        ),
        k(
            "workflows/rollout-undo",
            &["rollout", "undo", "deployment/web", "-n", "conf-wf"],
        ),
        k(
            "workflows/generation-after-undo",
            &[
                "get",
                "deployment/web",
                "-n",
                "conf-wf",
                "-o",
                "jsonpath={.metadata.generation} {.spec.template.spec.containers[0].image} {.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
            ],
        )
        .norm(stdout()),
        k(
            "workflows/rollout-status-after-undo",
            &["rollout", "status", "deployment/web", "-n", "conf-wf", "--timeout=60s"],
        ),
        k("workflows/get-table", &["get", "deployment/web", "-n", "conf-wf"]),
        k(
            "workflows/get-wide",
            &["get", "deployment/web", "service/web", "-n", "conf-wf", "-o", "wide"],
        ),
        k_in(
            "workflows/diff",
            &["diff", "-f", "-"],
            &manifest(4, "nginx:1.27"),
        )
        .norm(Box::new(|o| {
            // The diff's file headers name kubectl's temporary directories.
            let lines: Vec<&str> = o
                .body
                .as_str()
                .unwrap_or("")
                .lines()
                .filter(|l| !l.starts_with("diff ") && !l.starts_with("--- ") && !l.starts_with("+++ "))
                .collect();
            serde_json::json!({"code": o.code, "diff": lines})
        })),
        k_in("workflows/delete", &["delete", "-f", "-", "--wait=true"], &v1),
    ]
}
