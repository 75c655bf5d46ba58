//! Permissions: the RBAC manifests of `examples/rbac/` on the simulated clusters (which
//! authenticate bearer tokens and authorise every request with RBAC), users holding exactly
//! one level, and users lacking one permission.
//!
//! Each user has a token; kubectl-smh (kube-rs) sends it over the simulator's plain HTTP.
//! Requests without credentials are `system:anonymous` here, as on a real API server, and
//! the port-forward is authorised as Kubernetes 1.35 does it (`get` and `create`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use serde_json::{Value, json};

use smh_core::consts::DRILL_RESTORE_ANNOTATION;
use smh_core::model::topology::MultiClusterMode;
use smh_sim::api::auth::{Anonymous, SimUser};
use smh_sim::cluster::{ClusterOptions, SimCluster};
use smh_sim::fleet::{FleetOptions, SimFleet, bookinfo_world};

mod levels;
mod refused;
mod simulator;

const CLUSTERS: [&str; 2] = ["mgmt-cluster", "remote-cluster"];

/// Flags that keep a drill short on the demo (as tests/drill/main.rs).
const FAST_DRILL: [&str; 9] = [
    "drill",
    "reviews-failover",
    "--yes",
    "--probe-rate",
    "20",
    "--steady-window",
    "10",
    "--baseline-probes",
    "10",
];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn user(name: &str, group: &str) -> SimUser {
    SimUser::new(name, &format!("token-of-{name}")).with_groups(&[group])
}

/// The documents of a YAML file (an `examples/rbac/` manifest).
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap()
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

fn rbac_resource(kind: &str) -> (ApiResource, bool) {
    let (plural, namespaced) = match kind {
        "ClusterRole" => ("clusterroles", false),
        "ClusterRoleBinding" => ("clusterrolebindings", false),
        "Role" => ("roles", true),
        "RoleBinding" => ("rolebindings", true),
        other => panic!("not an RBAC kind: {other}"),
    };
    (
        ApiResource {
            group: "rbac.authorization.k8s.io".into(),
            version: "v1".into(),
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: kind.into(),
            plural: plural.into(),
        },
        namespaced,
    )
}

/// Create RBAC objects through the API (as the admin).
async fn create_all(client: &kube::Client, objects: &[Value]) {
    for o in objects {
        let kind = o["kind"].as_str().unwrap();
        let (ar, namespaced) = rbac_resource(kind);
        let api: Api<DynamicObject> = if namespaced {
            Api::namespaced_with(
                client.clone(),
                o["metadata"]["namespace"].as_str().unwrap(),
                &ar,
            )
        } else {
            Api::all_with(client.clone(), &ar)
        };
        let obj: DynamicObject = serde_json::from_value(o.clone()).unwrap();
        api.create(&PostParams::default(), &obj)
            .await
            .unwrap_or_else(|e| panic!("creating {kind} {}: {e}", o["metadata"]["name"]));
    }
}

/// A ClusterRole named `name`: `base`'s rules changed by `edit`.
fn derived_role(base: &Value, name: &str, edit: impl Fn(&mut Vec<Value>)) -> Value {
    let mut role = base.clone();
    role["metadata"] = json!({"name": name});
    let mut rules = role["rules"].as_array().unwrap().clone();
    edit(&mut rules);
    role["rules"] = Value::Array(rules);
    role
}

fn cluster_binding(role: &str, group: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": format!("{role}-{group}")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]})
}

fn role_binding(namespace: &str, role: &str, group: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": format!("{role}-{group}"), "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]})
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// One fleet with bookinfo at a time: the drills measure a data plane that has to answer
/// within the probe timeout, and several fleets at once on a small machine slow each other
/// down past it.
static ONE_FLEET: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Env {
    fleet: SimFleet,
    dir: tempfile::TempDir,
    /// Kubeconfig by user name ("admin" for the demo's admin).
    kubeconfigs: BTreeMap<String, PathBuf>,
    /// Last: released after the fleet has stopped.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Env {
    /// The demo clusters with bookinfo, these users, the guide applied by the admin, and
    /// `rbac` (per cluster, after the example files) created by the admin.
    async fn start(users: &[SimUser], extra: &[Value]) -> Env {
        let turn = ONE_FLEET.lock().await;
        let mut opts = FleetOptions::demo();
        for u in users {
            opts = opts.with_user(u.clone());
        }
        for c in opts.clusters.iter_mut() {
            c.rollout_delay = Duration::from_millis(300);
            c.auth.anonymous = Anonymous::Unauthenticated;
            c.auth.websocket_upgrade_requires_create = true;
        }
        opts.hooks
            .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
        let fleet = SimFleet::start(opts).await.expect("demo clusters start");
        let dir = tempfile::tempdir().unwrap();
        let mut kubeconfigs = BTreeMap::new();
        let admin = dir.path().join("admin.kubeconfig");
        fleet.write_kubeconfig(&admin).unwrap();
        kubeconfigs.insert("admin".to_string(), admin);
        for u in users {
            let path = dir.path().join(format!("{}.kubeconfig", u.name));
            fleet.write_kubeconfig_for(&path, u).unwrap();
            kubeconfigs.insert(u.name.clone(), path);
        }
        let env = Env {
            fleet,
            dir,
            kubeconfigs,
            _turn: turn,
        };
        env.wait_settled().await;
        let guide = repo("examples/guide");
        let run = env
            .run("admin", &["apply", "-f", guide.to_str().unwrap()])
            .await;
        assert_eq!(run.code, Some(0), "apply as admin: {}", run.show());
        for cluster in CLUSTERS {
            let client = env.client(cluster);
            // namespaced.yaml binds in service-mesh-hub: make sure it exists everywhere.
            let ns: Api<Namespace> = Api::all(client.clone());
            if ns.get_opt("service-mesh-hub").await.unwrap().is_none() {
                let obj: Namespace =
                    serde_json::from_value(json!({"metadata": {"name": "service-mesh-hub"}}))
                        .unwrap();
                ns.create(&PostParams::default(), &obj).await.unwrap();
            }
            for file in ["read-only", "apply", "drill", "namespaced"] {
                create_all(
                    &client,
                    &documents(&repo(&format!("examples/rbac/{file}.yaml"))),
                )
                .await;
            }
            create_all(&client, extra).await;
        }
        env
    }

    fn client(&self, cluster: &str) -> kube::Client {
        self.fleet.cluster(cluster).unwrap().client().unwrap()
    }

    /// `kubectl smh ARGS` as `user`.
    async fn run(&self, user: &str, args: &[&str]) -> Run {
        let out = tokio::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"))
            .args(args)
            .env("KUBECONFIG", &self.kubeconfigs[user])
            .env("KUBECTL_SMH_CONFIG", self.dir.path().join("clusters.yaml"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .expect("kubectl-smh runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Every bookinfo deployment in both clusters, by `cluster:name`.
    async fn deployments(&self) -> BTreeMap<String, Deployment> {
        let mut out = BTreeMap::new();
        for cluster in CLUSTERS {
            let api: Api<Deployment> = Api::namespaced(self.client(cluster), "bookinfo");
            for d in api.list(&ListParams::default()).await.unwrap().items {
                out.insert(format!("{cluster}:{}", d.metadata.name.clone().unwrap()), d);
            }
        }
        out
    }

    /// resourceVersion of every bookinfo deployment and of the SMH objects: what a command
    /// that changed nothing leaves as it was.
    async fn versions(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .deployments()
            .await
            .into_iter()
            .map(|(k, d)| (k, d.metadata.resource_version.unwrap_or_default()))
            .collect();
        for (kind, plural) in [
            ("FailoverService", "failoverservices"),
            ("TrafficPolicy", "trafficpolicies"),
        ] {
            let ar = ApiResource {
                group: "networking.smh.solo.io".into(),
                version: "v1alpha2".into(),
                api_version: "networking.smh.solo.io/v1alpha2".into(),
                kind: kind.into(),
                plural: plural.into(),
            };
            let api: Api<DynamicObject> = Api::all_with(self.client("mgmt-cluster"), &ar);
            for o in api.list(&ListParams::default()).await.unwrap().items {
                out.insert(
                    format!("{kind}:{}", o.metadata.name.clone().unwrap()),
                    o.metadata.resource_version.unwrap_or_default(),
                );
            }
        }
        out
    }

    /// Wait until every bookinfo deployment has rolled out.
    async fn wait_settled(&self) {
        let t = Instant::now();
        loop {
            let all = self.deployments().await;
            let pending: Vec<&String> = all
                .iter()
                .filter(|(_, d)| {
                    let s = d.status.clone().unwrap_or_default();
                    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                    !(s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
                        && s.updated_replicas.unwrap_or(0) == want
                        && s.available_replicas.unwrap_or(0) == want
                        && s.replicas.unwrap_or(0) == want)
                })
                .map(|(k, _)| k)
                .collect();
            if !all.is_empty() && pending.is_empty() {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "not rolled out after 60 s: {pending:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn assert_no_restore_annotation(deployments: &BTreeMap<String, Deployment>) {
    for (k, d) in deployments {
        assert!(
            !d.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(DRILL_RESTORE_ANNOTATION)),
            "{k} carries a restore annotation"
        );
    }
}
