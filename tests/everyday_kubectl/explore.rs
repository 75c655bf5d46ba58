//! Looking around: the cluster, its kinds, bookinfo's objects, describe, logs, and the
//! commands the demo answers with an explanation (exec, attach, top).

use serde_json::Value;

use crate::env::{Env, gvr};

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

pub(crate) async fn run(env: &Env) {
    cluster(env).await;
    kinds(env).await;
    bookinfo(env).await;
    describe(env).await;
    logs(env).await;
    explained(env).await;
}

async fn cluster(env: &Env) {
    let out = env.ok("kubectl cluster-info").await;
    assert!(
        out.contains("Kubernetes control plane") && out.contains("http://127.0.0.1:"),
        "{out}"
    );
    let v = json(&env.ok("kubectl version -o json").await);
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.33.0");
    let nodes = json(&env.ok("kubectl get nodes -o json").await);
    let ready = &nodes["items"][0]["status"]["conditions"];
    assert!(
        ready
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True"),
        "{nodes}"
    );
    let out = env.ok("kubectl get namespaces").await;
    for ns in [
        "bookinfo",
        "istio-system",
        "kube-system",
        "service-mesh-hub",
    ] {
        assert!(out.contains(ns), "{ns}: {out}");
    }
    let out = env.ok("kubectl get pods -A").await;
    let bookinfo: Vec<&str> = out.lines().filter(|l| l.starts_with("bookinfo")).collect();
    assert_eq!(bookinfo.len(), 5, "{out}");
    assert!(
        bookinfo
            .iter()
            .all(|l| l.contains("2/2") && l.contains("Running")),
        "{out}"
    );
}

async fn kinds(env: &Env) {
    let out = env.ok("kubectl api-resources").await;
    for kind in [
        "EndpointSlice",
        "Job",
        "CronJob",
        "StatefulSet",
        "DaemonSet",
        "Ingress",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "MutatingWebhookConfiguration",
        "Lease",
        "PersistentVolumeClaim",
        "FailoverService",
        "VirtualService",
    ] {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().last() == Some(kind)),
            "{kind} in:\n{out}"
        );
    }
    // The kinds Istio and kubectl-smh read, and those apply --prune looks up: served, empty.
    for line in [
        "kubectl get mutatingwebhookconfigurations,validatingwebhookconfigurations,ingressclasses,storageclasses,priorityclasses",
        "kubectl get jobs,cronjobs,daemonsets,statefulsets,ingresses,networkpolicies,poddisruptionbudgets,leases,persistentvolumeclaims -A",
    ] {
        let (code, stdout, stderr) = env.run(line).await;
        assert_eq!(code, 0, "{line}: {stderr}");
        assert!(
            stderr.contains("No resources found"),
            "{line}: {stdout}{stderr}"
        );
    }
}

async fn bookinfo(env: &Env) {
    let out = env.ok("kubectl get all -n bookinfo").await;
    for o in [
        "deployment.apps/reviews-v1",
        "service/productpage",
        "replicaset.apps/reviews-v2-",
        "pod/ratings-v1-",
    ] {
        assert!(out.contains(o), "{o}: {out}");
    }
    let out = env
        .ok("kubectl get deployments,services,configmaps,serviceaccounts -n bookinfo")
        .await;
    assert!(out.contains("serviceaccount/bookinfo-reviews"), "{out}");
    let wide = env.ok("kubectl get pods -n bookinfo -o wide").await;
    let pods = env.list(&gvr("", "v1", "pods"), "bookinfo");
    for p in &pods {
        let ip = p["status"]["podIP"].as_str().unwrap();
        assert!(wide.contains(ip), "{ip}: {wide}");
    }
    // Endpoints and EndpointSlices list the same ready pods of reviews.
    let ep = json(
        &env.ok("kubectl get endpoints reviews -n bookinfo -o json")
            .await,
    );
    let mut ep_ips: Vec<String> = ep["subsets"][0]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ip"].as_str().unwrap().to_string())
        .collect();
    ep_ips.sort();
    assert_eq!(ep_ips.len(), 2, "{ep}");
    let slices = json(
        &env.ok(
            "kubectl get endpointslices -n bookinfo -l kubernetes.io/service-name=reviews -o json",
        )
        .await,
    );
    assert_eq!(names(&slices).len(), 1, "{slices}");
    let slice = &slices["items"][0];
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(slice["ports"][0]["port"], 9080);
    let mut slice_ips: Vec<String> = slice["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["conditions"]["ready"] == true)
        .map(|e| e["addresses"][0].as_str().unwrap().to_string())
        .collect();
    slice_ips.sort();
    assert_eq!(slice_ips, ep_ips);
}

async fn describe(env: &Env) {
    let out = env.ok("kubectl describe node").await;
    assert!(
        out.contains("Ready")
            && out.contains("InternalIP")
            && out.contains("mgmt-cluster-control-plane"),
        "{out}"
    );
    let out = env
        .ok("kubectl describe pod -n bookinfo -l app=reviews")
        .await;
    assert_eq!(out.matches("Status:           Running").count(), 2, "{out}");
    assert!(
        out.contains("istio-proxy:") && out.contains("reviews:"),
        "{out}"
    );
    let out = env
        .ok("kubectl describe deployment reviews-v1 -n bookinfo")
        .await;
    assert!(
        out.contains("NewReplicaSet:")
            && out.contains("1 desired | 1 updated | 1 total | 1 available"),
        "{out}"
    );
    let out = env.ok("kubectl describe service reviews -n bookinfo").await;
    assert!(out.contains("Endpoints:") && out.contains(":9080"), "{out}");
}

async fn logs(env: &Env) {
    // The workloads log their requests: browse productpage, as the guide does.
    let mut follow = env.spawn("kubectl logs -f deployment/productpage-v1 -n bookinfo --tail=0");
    // kubectl starts streaming once the pod is found; keep browsing until a line arrives.
    let browse = async {
        loop {
            let status = env.browse_productpage("/productpage?u=normal").await;
            assert!(status.contains("200"), "{status}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        seen = follow.wait_for("\"GET /productpage?u=normal HTTP/1.1\" 200") => {
            assert!(!seen.iter().any(|l| l.contains("listening on port")), "--tail=0: {seen:?}");
        }
        () = browse => unreachable!(),
    }
    follow.stop().await;
    let out = env
        .ok("kubectl logs deployment/productpage-v1 -n bookinfo --tail=1")
        .await;
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("\"GET /productpage?u=normal HTTP/1.1\" 200"),
        "{out}"
    );
    // Every reviews pod answered productpage's calls (or at least logged its start).
    let out = env
        .ok("kubectl logs -n bookinfo -l app=reviews -c reviews --prefix --timestamps")
        .await;
    assert!(out.contains("listening on port 9080"), "{out}");
    assert!(out.contains("\"GET /reviews/0 HTTP/1.1\" 200"), "{out}");
    assert!(
        out.lines()
            .all(|l| l.starts_with("[pod/reviews-v") && l.contains("Z ")),
        "prefix and timestamps: {out}"
    );
}

async fn explained(env: &Env) {
    for (line, says) in [
        (
            "kubectl exec deployment/reviews-v1 -n bookinfo -- ls",
            "runs no processes",
        ),
        (
            "kubectl attach deployment/reviews-v1 -n bookinfo",
            "runs no processes",
        ),
        ("kubectl top pods -n bookinfo", "runs no metrics-server"),
        ("kubectl top nodes", "runs no metrics-server"),
        (
            "kubectl create token default -n bookinfo",
            "issues no service account tokens",
        ),
    ] {
        let (stdout, stderr) = env.exits(line, 1).await;
        assert!(
            stderr.contains(says) && !stderr.contains("the server could not find"),
            "{line}: {stdout}{stderr}"
        );
    }
}
