//! Real kubectl against the demo's simulated clusters: get, apply (client-side with default
//! validation, and server-side), the guide's two patch commands exactly as the guide writes
//! them, delete, get -o yaml, and the guide's SMH manifests.
//!
//! kubectl is `$SMH_KUBECTL` or the one `scripts/peers/build kubernetes` built. Without it
//! each test prints a `SKIP:` line and passes, unless `SMH_REQUIRE_PEERS=1`, which makes it
//! fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use smh_core::model::topology::MultiClusterMode;
use smh_sim::fleet::{FleetOptions, SimFleet, bookinfo_world};
use smh_sim::store::Gvr;
use tempfile::TempDir;

/// A demo fleet plus a sandbox for kubectl: kubeconfig, fresh cache dir, HOME, and a bin
/// dir whose `kubectl` is the one under test (so guide command lines run verbatim in `sh`).
struct Env {
    fleet: SimFleet,
    dir: TempDir,
    bin: PathBuf,
}

impl Env {
    async fn start(kubectl: &Path) -> Env {
        Env::start_with(kubectl, FleetOptions::demo()).await
    }

    async fn start_with(kubectl: &Path, opts: FleetOptions) -> Env {
        let fleet = SimFleet::start(opts).await.expect("demo clusters start");
        let dir = tempfile::tempdir().unwrap();
        fleet
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(kubectl, bin.join("kubectl")).unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        Env { fleet, dir, bin }
    }

    /// Run a shell command line with kubectl pointed at the simulated clusters.
    async fn sh(&self, line: &str) -> Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        tokio::process::Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("PATH", path)
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .env("HOME", self.dir.path().join("home"))
            .output()
            .await
            .expect("sh runs")
    }

    /// Run a line that must succeed; returns stdout.
    async fn ok(&self, line: &str) -> String {
        let out = self.sh(line).await;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success(),
            "`{line}` failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
            out.status
        );
        stdout
    }

    fn deployment(&self, cluster: &str, name: &str) -> Option<Value> {
        self.fleet.cluster(cluster).unwrap().store().get(
            &Gvr::new("apps", "v1", "deployments"),
            "bookinfo",
            name,
        )
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

const BOOKINFO_REVIEWS: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: bookinfo
  labels:
    app: reviews
    service: reviews
spec:
  ports:
  - port: 9080
    name: http
  selector:
    app: reviews
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews-v1
  namespace: bookinfo
  labels:
    app: reviews
    version: v1
spec:
  replicas: 1
  selector:
    matchLabels:
      app: reviews
      version: v1
  template:
    metadata:
      labels:
        app: reviews
        version: v1
    spec:
      serviceAccountName: bookinfo-reviews
      containers:
      - name: reviews
        image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3
        imagePullPolicy: IfNotPresent
        env:
        - name: LOG_DIR
          value: "/tmp/logs"
        ports:
        - containerPort: 9080
        volumeMounts:
        - name: tmp
          mountPath: /tmp
      volumes:
      - name: tmp
        emptyDir: {}
"#;

fn container0(d: &Value) -> &Value {
    &d["spec"]["template"]["spec"]["containers"][0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_and_version() {
    let Some(k) = common::kubectl() else {
        return;
    };
    let env = Env::start(&k).await;
    let ns = env.ok("kubectl get namespaces").await;
    for n in ["default", "kube-system", "service-mesh-hub"] {
        assert!(ns.contains(n), "{n} in:\n{ns}");
    }
    assert!(ns.starts_with("NAME"), "a server-side table:\n{ns}");
    let remote = env
        .ok("kubectl --context remote-cluster get namespaces -o name")
        .await;
    assert!(
        remote.contains("namespace/default") && !remote.contains("service-mesh-hub"),
        "{remote}"
    );
    let crds = env.ok("kubectl get crd -o name").await;
    for c in [
        "failoverservices.networking.smh.solo.io",
        "trafficpolicies.networking.smh.solo.io",
        "virtualservices.networking.istio.io",
        "destinationrules.networking.istio.io",
    ] {
        assert!(crds.contains(c), "{c} in {crds}");
    }
    let remote_crds = env
        .ok("kubectl --context remote-cluster get crd -o name")
        .await;
    assert!(
        !remote_crds.contains("smh.solo.io")
            && remote_crds.contains("envoyfilters.networking.istio.io")
    );
    let v = env.ok("kubectl version -o json").await;
    let v: Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["serverVersion"]["minor"], "33");
    env.ok("kubectl api-resources -o name").await;
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_patch_delete_like_the_guide() {
    let Some(k) = common::kubectl() else {
        return;
    };
    let env = Env::start(&k).await;
    let file = env.write("reviews.yaml", BOOKINFO_REVIEWS);

    // Client-side apply with kubectl's default validation (fieldValidation=Strict via OpenAPI v3).
    let out = env
        .ok(&format!("kubectl apply -f {}", file.display()))
        .await;
    assert!(out.contains("deployment.apps/reviews-v1 created"), "{out}");
    let d = env
        .deployment("mgmt-cluster", "reviews-v1")
        .expect("stored");
    assert_eq!(
        container0(&d)["image"],
        "docker.io/istio/examples-bookinfo-reviews-v1:1.20.3"
    );
    let out = env
        .ok(&format!("kubectl apply -f {}", file.display()))
        .await;
    assert!(
        out.contains("deployment.apps/reviews-v1 unchanged"),
        "{out}"
    );
    let changed = env.write(
        "reviews2.yaml",
        &BOOKINFO_REVIEWS
            .replace("replicas: 1", "replicas: 2")
            .replace("/tmp/logs", "/tmp/other"),
    );
    let out = env
        .ok(&format!("kubectl apply -f {}", changed.display()))
        .await;
    assert!(
        out.contains("deployment.apps/reviews-v1 configured"),
        "{out}"
    );
    let d = env.deployment("mgmt-cluster", "reviews-v1").unwrap();
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(container0(&d)["env"][0]["value"], "/tmp/other");
    assert_eq!(
        container0(&d)["volumeMounts"][0]["mountPath"],
        "/tmp",
        "merged, not replaced"
    );

    // The guide's break patch, exactly as written (strategic merge by container name).
    env.ok(r#"kubectl -n bookinfo patch deploy reviews-v1 --patch '{"spec": {"template": {"spec": {"containers": [{"name": "reviews","command": ["sleep", "20h"]}]}}}}'"#).await;
    let d = env.deployment("mgmt-cluster", "reviews-v1").unwrap();
    assert_eq!(
        container0(&d)["command"],
        serde_json::json!(["sleep", "20h"])
    );
    assert_eq!(
        container0(&d)["image"],
        "docker.io/istio/examples-bookinfo-reviews-v1:1.20.3"
    );
    let gen_broken = d["metadata"]["generation"].as_i64().unwrap();

    // The guide's restore patch, exactly as written (JSON patch).
    env.ok(r#"kubectl -n bookinfo patch deployment reviews-v1  --type json   -p '[{"op": "remove", "path": "/spec/template/spec/containers/0/command"}]'"#).await;
    let d = env.deployment("mgmt-cluster", "reviews-v1").unwrap();
    assert!(container0(&d).get("command").is_none());
    assert_eq!(
        d["metadata"]["generation"].as_i64().unwrap(),
        gen_broken + 1
    );
    // Run again there is nothing to remove: kubectl reports the server's refusal.
    let again = env.sh(r#"kubectl -n bookinfo patch deployment reviews-v1  --type json   -p '[{"op": "remove", "path": "/spec/template/spec/containers/0/command"}]'"#).await;
    assert!(!again.status.success());

    // get -o yaml shows what is stored.
    let y = env
        .ok("kubectl -n bookinfo get deployment reviews-v1 -o yaml")
        .await;
    let parsed: Value = serde_saphyr::from_str(&y).unwrap();
    assert_eq!(parsed["spec"]["replicas"], 2);
    assert_eq!(parsed["metadata"]["name"], "reviews-v1");
    let table = env.ok("kubectl -n bookinfo get deploy,svc").await;
    assert!(
        table.contains("READY") && table.contains("reviews-v1") && table.contains("9080/TCP"),
        "{table}"
    );

    // Server-side apply: the changed values conflict with the client-side apply's fields...
    let ssa = env
        .sh(&format!(
            "kubectl apply --server-side -f {}",
            file.display()
        ))
        .await;
    assert!(!ssa.status.success());
    let err = String::from_utf8_lossy(&ssa.stderr);
    assert!(
        err.contains("Apply failed with") && err.contains(".spec.replicas"),
        "{err}"
    );
    // ...until forced.
    env.ok(&format!(
        "kubectl apply --server-side --force-conflicts -f {}",
        file.display()
    ))
    .await;
    let d = env.deployment("mgmt-cluster", "reviews-v1").unwrap();
    assert_eq!(d["spec"]["replicas"], 1);
    let managers: Vec<&str> = d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kubectl"), "{managers:?}");
    // Server-side apply of a new object creates it.
    let cm = env.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: bookinfo\ndata:\n  a: \"1\"\n");
    let out = env
        .ok(&format!("kubectl apply --server-side -f {}", cm.display()))
        .await;
    assert!(out.contains("configmap/ssa serverside-applied"), "{out}");

    // delete
    let out = env
        .ok("kubectl -n bookinfo delete deployment reviews-v1")
        .await;
    assert!(out.contains("deleted"), "{out}");
    assert!(env.deployment("mgmt-cluster", "reviews-v1").is_none());
    let missing = env
        .sh("kubectl -n bookinfo get deployment reviews-v1")
        .await;
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("NotFound"),
        "{:?}",
        missing
    );
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_applies_the_guide_manifests() {
    let Some(k) = common::kubectl() else {
        return;
    };
    let env = Env::start(&k).await;
    // bookinfo's namespace exists in the guide's setup; the traffic-shift policy lives there.
    env.ok("kubectl create namespace bookinfo --dry-run=client -o yaml | kubectl apply -f -")
        .await;
    let out = env.ok("kubectl apply -f examples/guide/").await;
    for o in [
        "trafficpolicy.networking.smh.solo.io/mgmt-reviews-outlier created",
        "failoverservice.networking.smh.solo.io/reviews-failover created",
        "trafficpolicy.networking.smh.solo.io/reviews-shift-failover created",
    ] {
        assert!(out.contains(o), "{o} in {out}");
    }
    let y = env
        .ok("kubectl -n service-mesh-hub get failoverservice/reviews-failover -oyaml")
        .await;
    let fs: Value = serde_saphyr::from_str(&y).unwrap();
    assert_eq!(fs["spec"]["hostname"], "reviews-failover.bookinfo.global");
    assert_eq!(
        fs["spec"]["backingServices"][1]["kubeService"]["clusterName"],
        "remote-cluster"
    );
    assert_eq!(fs["metadata"]["generation"], 1);
    let table = env.ok("kubectl get failoverservices -A").await;
    assert!(
        table.contains("HOSTNAME") && table.contains("reviews-failover.bookinfo.global"),
        "{table}"
    );
    env.ok("kubectl -n service-mesh-hub get trafficpolicy/mgmt-reviews-outlier -oyaml")
        .await;

    // Default validation rejects an unknown field in an SMH resource.
    let bad = env.write(
        "bad.yaml",
        "apiVersion: networking.smh.solo.io/v1alpha2\nkind: FailoverService\nmetadata:\n  name: bad\n  namespace: service-mesh-hub\nspec:\n  hostname: x.global\n  bogus: 1\n",
    );
    let out = env.sh(&format!("kubectl apply -f {}", bad.display())).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown field \"spec.bogus\""),
        "{:?}",
        out
    );
    // The SMH CRDs are not in the remote cluster.
    let out = env
        .sh("kubectl --context remote-cluster apply -f examples/guide/2-failover-service.yaml")
        .await;
    assert!(!out.status.success());

    let out = env.ok("kubectl delete -f examples/guide/").await;
    assert_eq!(out.matches("deleted").count(), 3, "{out}");
    env.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_rollout_status_follows_the_guide_drill() {
    let Some(k) = common::kubectl() else {
        return;
    };
    let mut opts = FleetOptions::demo();
    for c in opts.clusters.iter_mut() {
        c.rollout_delay = std::time::Duration::from_millis(300);
    }
    opts.hooks
        .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
    let env = Env::start_with(&k, opts).await;
    let status = "kubectl -n bookinfo rollout status deployment/reviews-v1 --timeout=60s";
    let out = env.ok(status).await;
    assert!(
        out.contains("deployment \"reviews-v1\" successfully rolled out"),
        "{out}"
    );

    // Break it as the guide does, and wait for the rollout like the drill does.
    env.ok(r#"kubectl -n bookinfo patch deploy reviews-v1 --patch '{"spec": {"template": {"spec": {"containers": [{"name": "reviews","command": ["sleep", "20h"]}]}}}}'"#).await;
    let out = env.ok(status).await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let cmds = env
        .ok("kubectl -n bookinfo get pods -l app=reviews,version=v1 -o jsonpath='{range .items[*]}{.metadata.name} {.spec.containers[0].command}{\"\\n\"}{end}'")
        .await;
    let lines: Vec<&str> = cmds.lines().collect();
    assert_eq!(lines.len(), 1, "one pod after the rollout: {cmds}");
    assert!(lines[0].ends_with(r#"["sleep","20h"]"#), "{cmds}");

    // Restore as the guide does.
    env.ok(r#"kubectl -n bookinfo patch deployment reviews-v1  --type json   -p '[{"op": "remove", "path": "/spec/template/spec/containers/0/command"}]'"#).await;
    let out = env.ok(status).await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let rs = env
        .ok("kubectl -n bookinfo get rs -l app=reviews,version=v1 -o name")
        .await;
    assert_eq!(
        rs.lines().count(),
        2,
        "the old replica set is kept (scaled to 0): {rs}"
    );
    env.fleet.shutdown().await;
}
