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

const CLUSTERS: [&str; 2] = ["mgmt-cluster", "remote-cluster"];

/// Flags that keep a drill short on the demo (as tests/drill.rs).
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

/// A user holding exactly the read-only level runs describe, check, failover list and
/// failover test; apply is refused with exit 3, naming what is missing, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_level_reads_and_is_refused_writes() {
    let reader = user("reader", "kubectl-smh-read-only");
    let env = Env::start(std::slice::from_ref(&reader), &[]).await;
    for args in [
        vec!["describe"],
        vec!["describe", "failoverservice", "reviews-failover"],
        vec!["check"],
        vec!["failover", "list"],
        vec!["failover", "test", "reviews-failover", "--requests", "5"],
        vec!["version"],
    ] {
        let run = env.run("reader", &args).await;
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.show());
        assert!(
            !run.stderr.contains("forbidden"),
            "{args:?}: {}",
            run.show()
        );
    }
    // A change to apply: the guide's outlier detection ejecting on 2 errors instead of 1.
    let before = env.versions().await;
    let outlier = std::fs::read_to_string(repo("examples/guide/1-outlier-detection.yaml"))
        .unwrap()
        .replace("consecutiveErrors: 1", "consecutiveErrors: 2");
    let changed = env.dir.path().join("outlier.yaml");
    std::fs::write(&changed, outlier).unwrap();
    let run = env
        .run("reader", &["apply", "-f", changed.to_str().unwrap()])
        .await;
    assert_eq!(run.code, Some(3), "{}", run.show());
    assert!(
        run.stderr.contains(
            "forbidden to patch trafficpolicies.networking.smh.solo.io service-mesh-hub/mgmt-reviews-outlier"
        ) && run.stderr.contains(
            "kubectl auth can-i patch trafficpolicies.networking.smh.solo.io/mgmt-reviews-outlier -n service-mesh-hub --context mgmt-cluster"
        ),
        "{}",
        run.show()
    );
    let run = env
        .run(
            "reader",
            &["failover", "delete", "reviews-failover", "--yes"],
        )
        .await;
    assert_eq!(run.code, Some(3), "{}", run.show());
    assert!(
        run.stdout.contains(
            "forbidden to delete virtualservices.networking.istio.io bookinfo/reviews"
        ) && run
            .stderr
            .contains("not every generated object could be removed or updated, so the SMH objects were not deleted"),
        "{}",
        run.show()
    );
    assert_eq!(
        env.versions().await,
        before,
        "a refused write changed something"
    );
}

/// A user holding the apply level (kubectl-smh-install, kubectl-smh-apply, and read-only):
/// install, apply, failover delete, apply again (creates everything anew).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_level_installs_applies_and_deletes() {
    let applier = user("applier", "kubectl-smh-apply");
    let env = Env::start(std::slice::from_ref(&applier), &[]).await;
    let guide = repo("examples/guide");
    let guide = guide.to_str().unwrap();
    for args in [
        vec!["install"],
        vec!["apply", "-f", guide],
        vec!["failover", "delete", "reviews-failover", "--yes"],
        vec!["apply", "-f", guide],
        vec!["check"],
    ] {
        let run = env.run("applier", &args).await;
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.show());
    }
}

/// A user holding the drill level (kubectl-smh-drill and read-only) drills: passed, and
/// every deployment restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_level_drills() {
    let driller = user("driller", "kubectl-smh-drill");
    let env = Env::start(std::slice::from_ref(&driller), &[]).await;
    let before = env.deployments().await;
    let run = env.run("driller", &FAST_DRILL).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    env.wait_settled().await;
    let after = env.deployments().await;
    for (k, b) in &before {
        assert_eq!(
            serde_json::to_value(&b.spec.as_ref().unwrap().template).unwrap(),
            serde_json::to_value(&after[k].spec.as_ref().unwrap().template).unwrap(),
            "{k}: pod template differs after the drill"
        );
    }
    assert_no_restore_annotation(&after);
}

/// A user whose RoleBindings cover only bookinfo, service-mesh-hub and istio-system
/// (namespaced.yaml) runs describe, check, failover list, failover test and the drill:
/// listing in all namespaces is refused, kubectl-smh lists where the objects are and says
/// so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_scoped_user_describes_checks_tests_and_drills() {
    let scoped = user("scoped", "kubectl-smh-namespaced");
    let env = Env::start(std::slice::from_ref(&scoped), &[]).await;
    for args in [
        vec!["describe"],
        vec!["check"],
        vec!["failover", "list"],
        vec!["failover", "test", "reviews-failover", "--requests", "5"],
    ] {
        let run = env.run("scoped", &args).await;
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.show());
    }
    let run = env.run("scoped", &["failover", "list"]).await;
    assert!(
        run.stdout.contains("reviews-failover")
            && run
                .stderr
                .contains("warning: management cluster (context mgmt-cluster")
            && run
                .stderr
                .contains("listed in namespace service-mesh-hub only"),
        "{}",
        run.show()
    );
    let run = env.run("scoped", &["describe", "mesh"]).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert!(
        run.stdout
            .contains("forbidden to list deployments.apps in all namespaces")
            && run
                .stdout
                .contains("listed in namespaces bookinfo, istio-system only"),
        "{}",
        run.show()
    );
    let before = env.deployments().await;
    let run = env.run("scoped", &FAST_DRILL).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    env.wait_settled().await;
    let after = env.deployments().await;
    for (k, b) in &before {
        assert_eq!(
            serde_json::to_value(&b.spec.as_ref().unwrap().template).unwrap(),
            serde_json::to_value(&after[k].spec.as_ref().unwrap().template).unwrap(),
            "{k}: pod template differs after the drill"
        );
    }
    assert_no_restore_annotation(&after);
}

/// Users lacking one permission: the command stops with the exit code of a cluster error
/// and a message naming what is missing and how to check it; nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_is_named_and_changes_nothing() {
    let read_only = documents(&repo("examples/rbac/read-only.yaml"))
        .into_iter()
        .find(|d| d["kind"] == "ClusterRole")
        .unwrap();
    let without_verb = |name: &str, resource: &str, verb: &str| {
        let (resource, verb) = (resource.to_string(), verb.to_string());
        derived_role(&read_only, name, move |rules| {
            for r in rules.iter_mut() {
                if r["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == &resource)
                {
                    let verbs: Vec<Value> = r["verbs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|v| **v != verb)
                        .cloned()
                        .collect();
                    r["verbs"] = Value::Array(verbs);
                }
            }
            rules.retain(|r| !r["verbs"].as_array().unwrap().is_empty());
        })
    };
    let extra = vec![
        // read-only without `create` on pods/portforward (what Kubernetes 1.35 adds).
        without_verb("no-pf-create", "pods/portforward", "create"),
        cluster_binding("no-pf-create", "no-pf-create"),
        // the drill level without any port-forward.
        derived_role(&read_only, "no-pf", |rules| {
            rules.retain(|r| {
                !r["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == "pods/portforward")
            })
        }),
        cluster_binding("no-pf", "no-pf"),
        cluster_binding("kubectl-smh-drill", "no-pf"),
        // the namespaced user, but no binding in istio-system.
        role_binding("bookinfo", "kubectl-smh-read-only", "no-istio"),
        role_binding("service-mesh-hub", "kubectl-smh-read-only", "no-istio"),
    ];
    let users = [
        user("no-pf-create", "no-pf-create"),
        user("no-pf", "no-pf"),
        user("no-istio", "no-istio"),
        user("nobody", "no-such-group"),
        SimUser::new("stale", "token-nobody-knows"),
    ];
    let mut env = Env::start(&users[..4], &extra).await;
    // A kubeconfig whose token the clusters do not know.
    let stale = env.dir.path().join("stale.kubeconfig");
    env.fleet.write_kubeconfig_for(&stale, &users[4]).unwrap();
    env.kubeconfigs.insert("stale".into(), stale);
    let before = env.versions().await;

    let pod = {
        let pods: Api<Pod> = Api::namespaced(env.client("mgmt-cluster"), "bookinfo");
        let lp = ListParams::default().labels("app=productpage");
        pods.list(&lp).await.unwrap().items[0]
            .metadata
            .name
            .clone()
            .unwrap()
    };
    let pf = format!(
        "forbidden to open a port-forward to pod bookinfo/{pod} (403: pods \"{pod}\" is forbidden:); "
    );
    let can_i_create = "kubectl auth can-i create pods --subresource=portforward -n bookinfo --context mgmt-cluster";
    let can_i_get =
        "kubectl auth can-i get pods --subresource=portforward -n bookinfo --context mgmt-cluster";
    let needs = "need the verbs get and create on pods/portforward in namespace bookinfo";
    // (user, command, exit code, what stderr or stdout must say)
    let cases: Vec<(&str, Vec<&str>, i32, Vec<String>)> = vec![
        (
            "no-pf-create",
            vec!["failover", "test", "reviews-failover"],
            3,
            vec![pf.clone(), needs.into(), can_i_create.into(), can_i_get.into()],
        ),
        (
            "no-pf",
            FAST_DRILL.to_vec(),
            3,
            vec![
                format!(
                    "forbidden to open a port-forward to pod bookinfo/{pod} (403: pods \"{pod}\" is forbidden: User \"no-pf\" cannot get resource \"pods/portforward\" in API group \"\" in the namespace \"bookinfo\")"
                ),
                needs.into(),
                can_i_get.into(),
            ],
        ),
        (
            "no-istio",
            vec!["check"],
            1,
            vec![
                "forbidden to list deployments.apps in namespace istio-system".into(),
                "kubectl auth can-i list deployments.apps -n istio-system --context mgmt-cluster"
                    .into(),
            ],
        ),
        (
            "nobody",
            vec!["describe"],
            3,
            vec![
                "forbidden to list failoverservices.networking.smh.solo.io in namespace service-mesh-hub".into(),
                "kubectl auth can-i list failoverservices.networking.smh.solo.io -n service-mesh-hub --context mgmt-cluster".into(),
            ],
        ),
        (
            "stale",
            vec!["describe"],
            3,
            vec!["rejected the credentials of context mgmt-cluster (401 Unauthorized".into()],
        ),
    ];
    for (who, args, code, says) in cases {
        let run = env.run(who, &args).await;
        assert_eq!(run.code, Some(code), "{who} {args:?}: {}", run.show());
        let text = format!("{}{}", run.stdout, run.stderr);
        for s in says {
            assert!(
                text.contains(&s),
                "{who} {args:?} should say {s:?}: {}",
                run.show()
            );
        }
    }
    assert_eq!(
        env.versions().await,
        before,
        "a refused command changed something"
    );
    assert_no_restore_annotation(&env.deployments().await);
}

/// The simulated API server's RBAC as kube-rs sees it: a 403 `Status` worded as
/// kube-apiserver words it, SelfSubjectAccessReviews, Roles and RoleBindings written as
/// typed objects, 401 for an unknown token, the create check of a server-side apply that
/// creates, and Kubernetes 1.35's create check on the WebSocket port-forward.
#[tokio::test]
async fn simulated_rbac_as_a_client_sees_it() {
    let mut o = ClusterOptions::new("rbac");
    o.namespaces = vec!["team".into()];
    o.auth.users.push(SimUser::new("alice", "alice-token"));
    o.auth.anonymous = Anonymous::Unauthenticated;
    let c = SimCluster::start(o).await.unwrap();
    let admin = c.client().unwrap();
    let alice = c.client_as("alice-token").unwrap();

    let configmaps: Api<ConfigMap> = Api::namespaced(alice.clone(), "team");
    let e = configmaps.list(&ListParams::default()).await.unwrap_err();
    let kube::Error::Api(s) = e else {
        panic!("not a Status: {e:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team\""
    );

    let review = |verb: &str, name: &str| SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some("team".into()),
                verb: Some(verb.into()),
                resource: Some("configmaps".into()),
                name: Some(name.into()).filter(|n: &String| !n.is_empty()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let reviews: Api<SelfSubjectAccessReview> = Api::all(alice.clone());
    let allowed = |r: SelfSubjectAccessReview| r.status.map(|s| s.allowed);
    let r = reviews
        .create(&PostParams::default(), &review("list", ""))
        .await
        .unwrap();
    assert_eq!(allowed(r), Some(false));

    let role: Role =
        serde_json::from_value(json!({"metadata": {"name": "cm", "namespace": "team"}})).unwrap();
    let role = Role {
        rules: Some(vec![
            PolicyRule {
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["configmaps".into()]),
                verbs: vec!["list".into(), "patch".into()],
                ..Default::default()
            },
            PolicyRule {
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["configmaps".into()]),
                resource_names: Some(vec!["mine".into()]),
                verbs: vec!["create".into()],
                ..Default::default()
            },
        ]),
        ..role
    };
    Api::<Role>::namespaced(admin.clone(), "team")
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding = RoleBinding {
        metadata: serde_json::from_value(json!({"name": "cm", "namespace": "team"})).unwrap(),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "cm".into(),
        },
        subjects: Some(vec![Subject {
            kind: "User".into(),
            name: "alice".into(),
            ..Default::default()
        }]),
    };
    let created = Api::<RoleBinding>::namespaced(admin.clone(), "team")
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    // Defaulted as the API server does.
    assert_eq!(
        created.subjects.unwrap()[0].api_group.as_deref(),
        Some("rbac.authorization.k8s.io")
    );
    assert!(configmaps.list(&ListParams::default()).await.is_ok());
    let r = reviews
        .create(&PostParams::default(), &review("list", ""))
        .await
        .unwrap();
    assert_eq!(allowed(r), Some(true));

    // A server-side apply that creates is also authorised as create (by name here).
    let pp = PatchParams::apply("test");
    let body =
        |name: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    let e = configmaps
        .patch("other", &pp, &Patch::Apply(body("other")))
        .await
        .unwrap_err();
    let kube::Error::Api(s) = e else {
        panic!("not a Status: {e:?}")
    };
    assert_eq!(
        (s.code, s.message.as_str()),
        (403, "configmaps \"other\" is forbidden: ")
    );
    configmaps
        .patch("mine", &pp, &Patch::Apply(body("mine")))
        .await
        .unwrap();
    // Patching an existing one needs `patch` only.
    configmaps
        .patch("mine", &pp, &Patch::Apply(body("mine")))
        .await
        .unwrap();

    // An invalid binding is refused (422) naming the field.
    let mut bad = binding.clone();
    bad.metadata.name = Some("bad".into());
    bad.role_ref.kind = "Deployment".into();
    let e = Api::<RoleBinding>::namespaced(admin.clone(), "team")
        .create(&PostParams::default(), &bad)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, kube::Error::Api(s) if s.code == 422 && s.message.contains("roleRef.kind: Unsupported value: \"Deployment\"")),
        "{e:?}"
    );

    // An unknown token is 401; no credentials at all is system:anonymous.
    let e = c
        .client_as("nope")
        .unwrap()
        .apiserver_version()
        .await
        .unwrap_err();
    assert!(matches!(&e, kube::Error::Api(s) if s.code == 401), "{e:?}");
    let mut cfg = kube::Config::new(c.url().parse().unwrap());
    cfg.auth_info = Default::default();
    let anonymous = kube::Client::try_from(cfg).unwrap();
    assert!(
        anonymous.apiserver_version().await.is_ok(),
        "/version is public"
    );
    let e = Api::<Namespace>::all(anonymous)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, kube::Error::Api(s) if s.message == "namespaces is forbidden: User \"system:anonymous\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"),
        "{e:?}"
    );
    c.shutdown().await;
}

/// The port-forward's permissions: before Kubernetes 1.35 `get` suffices; with 1.35's
/// `AuthorizePodWebsocketUpgradeCreatePermission` the upgrade needs `create` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_needs_create_from_1_35() {
    for requires_create in [false, true] {
        let mut opts = FleetOptions::demo().with_user(SimUser::new("pf", "pf-token"));
        for c in opts.clusters.iter_mut() {
            c.auth.websocket_upgrade_requires_create = requires_create;
        }
        opts.hooks
            .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
        let fleet = SimFleet::start(opts).await.unwrap();
        let mgmt = fleet.cluster("mgmt-cluster").unwrap();
        let admin = mgmt.client().unwrap();
        create_all(
            &admin,
            &[
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": {"name": "pf", "namespace": "bookinfo"},
                    "rules": [{"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get"]},
                              {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": "pf", "namespace": "bookinfo"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pf"},
                    "subjects": [{"kind": "User", "name": "pf"}]}),
            ],
        )
        .await;
        let pods: Api<Pod> = Api::namespaced(mgmt.client_as("pf-token").unwrap(), "bookinfo");
        // Any pod will do: the permission is checked before the pod's port is.
        let t = Instant::now();
        let pod = loop {
            let listed = pods.list(&ListParams::default()).await.unwrap().items;
            if let Some(p) = listed.into_iter().find_map(|p| p.metadata.name) {
                break p;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "no pod in bookinfo");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let r = pods.portforward(&pod, &[9080]).await;
        match (requires_create, r) {
            (false, Ok(pf)) => pf.abort(),
            (true, Err(kube::Error::Api(s))) => {
                assert_eq!(s.code, 403);
                assert_eq!(s.message, format!("pods \"{pod}\" is forbidden: "));
            }
            (rc, r) => panic!("requires_create={rc}: {:?}", r.map(|_| ())),
        }
        fleet.shutdown().await;
    }
}
