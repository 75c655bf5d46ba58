//! Integration tests of `smh-cluster` (`crates/smh-cluster`): contexts and clients against a fake API server,
//! discovery over several clusters with one failing, actionable errors (timeouts, refused
//! connections, 403), and the `cluster` and `version` commands.
//!
//! Every test points `KUBECONFIG` at a test file and `KUBECTL_SMH_CONFIG` at a temporary
//! path, so a developer's setup never leaks in.

mod demo;
mod demo_http;
mod fake_api;
mod retry;
mod tls;

mod binary;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use fake_api::{Fake, black_hole, closed_port, kubeconfig};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, Pod, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use predicates::prelude::*;
use smh_cluster::discovery::discover;
use smh_cluster::{
    ClusterError, ClusterName, Contexts, KubeconfigOrigin, KubeconfigSet, Registry,
    context::parse_cluster_flags,
};
use smh_core::inspect::discovery::DiscoveryOptions;
use smh_core::model::topology::MultiClusterMode;

fn map(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn meta(ns: &str, name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(ns.into()),
        labels: map(labels),
        ..Default::default()
    }
}

fn mk_deploy(ns: &str, name: &str, labels: &[(&str, &str)], image: &str) -> Deployment {
    Deployment {
        metadata: meta(ns, name, labels),
        spec: Some(DeploymentSpec {
            template: PodTemplateSpec {
                metadata: None,
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "discovery".into(),
                        image: Some(image.into()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    }
}

fn mk_service(ns: &str, name: &str, port: i32) -> Service {
    Service {
        metadata: meta(ns, name, &[("app", name)]),
        spec: Some(ServiceSpec {
            selector: map(&[("app", name)]),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    }
}

fn mk_pod(ns: &str, name: &str, app: &str, sidecar: bool) -> Pod {
    let mut containers = vec![Container {
        name: app.into(),
        image: Some(format!("docker.io/istio/examples-bookinfo-{app}:1.16")),
        ..Default::default()
    }];
    if sidecar {
        containers.push(Container {
            name: "istio-proxy".into(),
            image: Some("docker.io/istio/proxyv2:1.24.2".into()),
            ..Default::default()
        });
    }
    Pod {
        metadata: meta(ns, name, &[("app", app)]),
        spec: Some(PodSpec {
            containers,
            ..Default::default()
        }),
        status: None,
    }
}

/// mgmt-cluster: istiod 1.24.2, a remote secret, bookinfo with sidecars, ratings without.
fn mgmt_fake() -> Fake {
    Fake::new("v1.32.0")
        .groups(&[("apps", "v1"), ("networking.istio.io", "v1"), ("networking.smh.solo.io", "v1alpha2")])
        .list(
            "/apis/apps/v1/deployments",
            "apps/v1",
            "Deployment",
            &[mk_deploy("istio-system", "istiod", &[("app", "istiod")], "docker.io/istio/pilot:1.24.2")],
        )
        .list(
            "/api/v1/services",
            "v1",
            "Service",
            &[mk_service("bookinfo", "reviews", 9080), mk_service("bookinfo", "ratings", 9080)],
        )
        .list(
            "/api/v1/pods",
            "v1",
            "Pod",
            &[
                mk_pod("bookinfo", "reviews-v1-1", "reviews", true),
                mk_pod("bookinfo", "ratings-v1-1", "ratings", false),
            ],
        )
        .route(
            "/api/v1/namespaces/istio-system/secrets",
            200,
            serde_json::json!({"apiVersion": "v1", "kind": "SecretList", "metadata": {}, "items": [
                {"metadata": {"name": "istio-remote-secret-remote-cluster", "namespace": "istio-system",
                              "labels": {"istio/multiCluster": "true"}}}
            ]}),
        )
        .list::<Service>("/api/v1/namespaces/istio-system/configmaps", "v1", "ConfigMap", &[])
        .list::<Service>("/apis/networking.istio.io/v1/serviceentries", "networking.istio.io/v1", "ServiceEntry", &[])
}

/// remote-cluster: istiod 1.7.3, no SMH CRDs, reviews with sidecars; secrets forbidden.
fn remote_fake() -> Fake {
    Fake::new("v1.31.4")
        .groups(&[("apps", "v1"), ("networking.istio.io", "v1alpha3")])
        .list(
            "/apis/apps/v1/deployments",
            "apps/v1",
            "Deployment",
            &[mk_deploy("istio-system", "istiod", &[("app", "istiod")], "gcr.io/istio-release/pilot:1.7.3")],
        )
        .list("/api/v1/services", "v1", "Service", &[mk_service("bookinfo", "reviews", 9080)])
        .list("/api/v1/pods", "v1", "Pod", &[mk_pod("bookinfo", "reviews-v3-1", "reviews", true)])
        .status(
            "/api/v1/namespaces/istio-system/secrets",
            403,
            "Forbidden",
            "secrets is forbidden: User \"tester\" cannot list resource \"secrets\" in API group \"\" in the namespace \"istio-system\"",
        )
        .list::<Service>("/api/v1/namespaces/istio-system/configmaps", "v1", "ConfigMap", &[])
        .list::<Service>(
            "/apis/networking.istio.io/v1alpha3/serviceentries",
            "networking.istio.io/v1alpha3",
            "ServiceEntry",
            &[],
        )
}

fn write_kubeconfig(dir: &Path, contexts: &[(&str, String)]) -> PathBuf {
    let path = dir.join("kubeconfig.yaml");
    std::fs::write(&path, kubeconfig(contexts)).unwrap();
    path
}

fn contexts_for(
    dir: &Path,
    contexts: &[(&str, String)],
    flags: &[&str],
    timeout: Duration,
) -> Contexts {
    let kc = write_kubeconfig(dir, contexts);
    let set = KubeconfigSet::load_origin(KubeconfigOrigin::Flag(kc)).unwrap();
    let flags: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    Contexts::new(
        set,
        parse_cluster_flags(&flags).unwrap(),
        Registry::empty(dir.join("clusters.yaml")),
        None,
        timeout,
    )
}

#[tokio::test]
async fn discovery_sweeps_all_clusters_and_keeps_the_ones_that_answer() {
    let mgmt = mgmt_fake().serve().await;
    let remote = remote_fake().serve().await;
    let dead = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let contexts = contexts_for(
        dir.path(),
        &[
            ("mgmt-cluster", format!("http://{mgmt}")),
            ("remote-ctx", format!("http://{remote}")),
            ("dead-cluster", format!("http://{dead}")),
        ],
        &["remote-cluster=remote-ctx"],
        Duration::from_secs(5),
    );
    let names: Vec<ClusterName> = ["mgmt-cluster", "remote-cluster", "dead-cluster"]
        .into_iter()
        .map(ClusterName::from)
        .collect();
    let targets = contexts.describe_targets(&names, true).unwrap();
    assert_eq!(targets.len(), 3, "mgmt-cluster is shown once");
    assert!(targets[0].mgmt);
    let clients = contexts.clients(&targets).await.unwrap();
    let result = discover(&clients, &DiscoveryOptions::default()).await;

    let names: Vec<&str> = result
        .topology
        .clusters
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["mgmt-cluster", "remote-cluster"]);
    let err = &result.per_cluster_errors[&ClusterName::from("dead-cluster")];
    assert!(matches!(err, ClusterError::Refused { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!(
        "cluster dead-cluster (context dead-cluster, http://{dead}) refused the connection"
    )));

    let m = result.topology.cluster("mgmt-cluster").unwrap();
    let mesh = m.mesh.as_ref().unwrap();
    assert_eq!(
        mesh.smh_name("mgmt-cluster"),
        "istiod-istio-system-mgmt-cluster"
    );
    assert_eq!(
        (mesh.version.as_str(), mesh.mode),
        ("1.24.2", MultiClusterMode::MultiPrimary)
    );
    let mf = &result.facts[&ClusterName::from("mgmt-cluster")];
    assert!(
        mf.mode
            .as_ref()
            .unwrap()
            .reason
            .contains("istio-system/istio-remote-secret-remote-cluster")
    );
    assert_eq!(mf.kubernetes_version, "v1.32.0");
    assert_eq!(mf.smh_api_version.as_deref(), Some("v1alpha2"));
    assert!(m.service("reviews", "bookinfo").unwrap().sidecar_workloads);
    assert!(!m.service("ratings", "bookinfo").unwrap().sidecar_workloads);

    let r = result.topology.cluster("remote-cluster").unwrap();
    assert_eq!(r.context.as_deref(), Some("remote-ctx"));
    let mesh = r.mesh.as_ref().unwrap();
    assert_eq!(
        (mesh.version.as_str(), mesh.mode),
        ("1.7.3", MultiClusterMode::Global)
    );
    let rf = &result.facts[&ClusterName::from("remote-cluster")];
    assert_eq!(rf.istio_api_version.as_deref(), Some("v1alpha3"));
    assert_eq!(rf.smh_api_version, None);
    // The forbidden secrets list is a warning naming what to check, not a failure.
    assert_eq!(rf.warnings.len(), 1, "{:?}", rf.warnings);
    assert!(rf.warnings[0].contains("forbidden to list secrets in namespace istio-system"));
    assert!(
        rf.warnings[0]
            .contains("kubectl auth can-i list secrets -n istio-system --context remote-ctx")
    );
    assert!(rf.warnings[0].contains("--istio-mode"));

    // --istio-mode overrides detection everywhere.
    let forced = discover(
        &clients[..2],
        &DiscoveryOptions {
            mode_override: Some(MultiClusterMode::Global),
        },
    )
    .await;
    assert!(
        forced
            .topology
            .clusters
            .iter()
            .all(|c| c.mesh.as_ref().unwrap().mode == MultiClusterMode::Global)
    );
}

#[tokio::test]
async fn a_forbidden_required_list_fails_that_cluster_with_can_i() {
    let addr = mgmt_fake()
        .status(
            "/api/v1/pods",
            403,
            "Forbidden",
            "pods is forbidden: User \"tester\" cannot list resource \"pods\" in API group \"\" at the cluster scope",
        )
        .serve()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let contexts = contexts_for(
        dir.path(),
        &[("mgmt-cluster", format!("http://{addr}"))],
        &[],
        Duration::from_secs(5),
    );
    let targets = contexts
        .describe_targets(&["mgmt-cluster".into()], true)
        .unwrap();
    let clients = contexts.clients(&targets).await.unwrap();
    let result = discover(&clients, &DiscoveryOptions::default()).await;
    assert!(result.topology.clusters.is_empty());
    let e = result.per_cluster_errors[&ClusterName::from("mgmt-cluster")].to_string();
    assert_eq!(
        e,
        format!(
            "cluster mgmt-cluster (management; context mgmt-cluster, http://{addr}): forbidden to list pods in all \
             namespaces (or cluster-wide) (403: pods is forbidden: User \"tester\" cannot list resource \"pods\" in \
             API group \"\" at the cluster scope); check with `kubectl auth can-i list pods --all-namespaces --context \
             mgmt-cluster`"
        )
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_with_the_request_timeout() {
    let (_hole, addr) = black_hole().await;
    let dir = tempfile::tempdir().unwrap();
    let contexts = contexts_for(
        dir.path(),
        &[("slow", format!("http://{addr}"))],
        &[],
        Duration::from_millis(300),
    )
    // Each attempt gives up after 300ms; retried for 1s at most.
    .with_retry(smh_cluster::retry::RetryOptions {
        retry_timeout: Duration::from_secs(1),
        ..Default::default()
    });
    let target = contexts.cluster_target(&"slow".into()).unwrap();
    let client = contexts.client(&target).await.unwrap();
    let start = Instant::now();
    let err = client.server_version().await.unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, ClusterError::Timeout { .. }), "{err:?}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "cluster slow (management; context slow, http://{addr}) did not answer within 300ms; check the \
             context or raise --request-timeout"
        )
    );
}

#[tokio::test]
async fn missing_crds_and_unknown_contexts_are_named() {
    use kube::api::{Api, DynamicObject, ListParams};
    use kube::core::{ApiResource, GroupVersionKind};
    use smh_cluster::ApiOp;

    let addr = remote_fake().serve().await;
    let dir = tempfile::tempdir().unwrap();
    let contexts = contexts_for(
        dir.path(),
        &[("remote-cluster", format!("http://{addr}"))],
        &[],
        Duration::from_secs(5),
    );
    let target = contexts.cluster_target(&"remote-cluster".into()).unwrap();
    let c = contexts.client(&target).await.unwrap();
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.smh.solo.io", "v1alpha2", "FailoverService"),
        "failoverservices",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), "service-mesh-hub", &ar);
    let err = api.list(&ListParams::default()).await.unwrap_err();
    let err = c.error(
        &ApiOp::dynamic("list", &ar, Some("service-mesh-hub"), None),
        err,
    );
    assert!(
        matches!(err, ClusterError::SmhCrdsMissing { .. }),
        "{err:?}"
    );
    assert!(err.to_string().ends_with("run `kubectl smh install`"));

    let e = contexts
        .resolve(&"elsewhere".into())
        .unwrap_err()
        .to_string();
    assert!(e.contains("the contexts are: remote-cluster"), "{e}");
}

#[tokio::test]
async fn kubeconfig_auth_kinds_work_and_bad_credentials_are_explained() {
    let addr = Fake::new("v1.33.1")
        .require_bearer("exec-token")
        .serve()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "exec-token").unwrap();
    let script = dir.path().join("credential.sh");
    std::fs::write(
        &script,
        "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-token\"}}'\n",
    )
    .unwrap();
    let script = script.display();
    let kc = format!(
        r#"apiVersion: v1
kind: Config
current-context: exec
clusters:
- name: c
  cluster: {{server: "http://{addr}"}}
contexts:
- {{name: exec, context: {{cluster: c, user: exec}}}}
- {{name: token-file, context: {{cluster: c, user: token-file}}}}
- {{name: wrong-token, context: {{cluster: c, user: wrong-token}}}}
- {{name: failing-exec, context: {{cluster: c, user: failing-exec}}}}
users:
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: sh
      args: ["{script}"]
      interactiveMode: Never
- name: token-file
  user: {{tokenFile: token}}
- name: wrong-token
  user: {{token: expired}}
- name: failing-exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: sh
      args: ["-c", "echo 'token expired, run login' >&2; exit 1"]
      interactiveMode: Never
"#
    );
    let path = dir.path().join("kubeconfig.yaml");
    std::fs::write(&path, kc).unwrap();
    let contexts = Contexts::new(
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(path.clone())).unwrap(),
        Default::default(),
        Registry::empty(dir.path().join("clusters.yaml")),
        None,
        Duration::from_secs(5),
    );
    for ctx in ["exec", "token-file"] {
        let t = contexts.cluster_target(&ctx.into()).unwrap();
        let v = contexts.client(&t).await.unwrap().server_version().await;
        assert_eq!(
            v.map(|i| i.git_version).map_err(|e| e.to_string()),
            Ok("v1.33.1".to_string()),
            "{ctx}"
        );
    }

    let t = contexts.cluster_target(&"wrong-token".into()).unwrap();
    let e = contexts
        .client(&t)
        .await
        .unwrap()
        .server_version()
        .await
        .unwrap_err();
    assert!(matches!(e, ClusterError::Unauthorized { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("rejected the credentials of context wrong-token (401 Unauthorized")
    );

    let t = contexts.cluster_target(&"failing-exec".into()).unwrap();
    let e = match contexts.client(&t).await {
        Ok(c) => c.server_version().await.unwrap_err().to_string(),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        e,
        format!(
            "could not get credentials for context failing-exec in {}: the exec plugin failed \
             (exit status: 1): token expired, run login; check the user's exec plugin, token \
             file or auth provider",
            path.display()
        )
    );
}

/// Exec credential plugins of different contexts run at the same time: each plugin here
/// waits for the other one to have started, and gives up (fails) after 5 s, so building the
/// clients one after the other would fail.
#[tokio::test]
async fn exec_plugins_of_several_contexts_run_concurrently() {
    let addr = Fake::new("v1.33.1").require_bearer("t").serve().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let plugin = |me: &str, other: &str| {
        format!(
            "touch {d}/{me}; i=0; while [ ! -e {d}/{other} ]; do i=$((i+1)); [ $i -gt 100 ] && exit 1; sleep 0.05; done; \
             echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"t\"}}}}'\n"
        )
    };
    std::fs::write(dir.path().join("a.sh"), plugin("a.started", "b.started")).unwrap();
    std::fs::write(dir.path().join("b.sh"), plugin("b.started", "a.started")).unwrap();
    let kc = format!(
        r#"apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c
  cluster: {{server: "http://{addr}"}}
contexts:
- {{name: a, context: {{cluster: c, user: a}}}}
- {{name: b, context: {{cluster: c, user: b}}}}
users:
- name: a
  user: {{exec: {{apiVersion: client.authentication.k8s.io/v1, command: sh, args: ["{d}/a.sh"], interactiveMode: Never}}}}
- name: b
  user: {{exec: {{apiVersion: client.authentication.k8s.io/v1, command: sh, args: ["{d}/b.sh"], interactiveMode: Never}}}}
"#
    );
    let path = dir.path().join("kubeconfig.yaml");
    std::fs::write(&path, kc).unwrap();
    let contexts = Contexts::new(
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(path)).unwrap(),
        Default::default(),
        Registry::empty(dir.path().join("clusters.yaml")),
        None,
        Duration::from_secs(10),
    );
    let targets = contexts
        .describe_targets(&["a".into(), "b".into()], false)
        .unwrap();
    let clients = contexts
        .clients(&targets)
        .await
        .expect("both plugins ran side by side");
    for c in &clients {
        assert_eq!(c.server_version().await.unwrap().git_version, "v1.33.1");
    }
}

/// The binary with `kubeconfig`, a private cluster registry and no proxy from the
/// environment.
fn cmd(kubeconfig: &Path, registry: &Path) -> assert_cmd::Command {
    let mut c = cargo_bin_cmd!("kubectl-smh");
    c.env("KUBECONFIG", kubeconfig)
        .env("KUBECTL_SMH_CONFIG", registry)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy");
    c
}
