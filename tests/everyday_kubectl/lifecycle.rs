//! Making and changing things: create with generators, expose, run, wait, scale,
//! label/annotate, set image, rollout history/undo/restart, edit, replace, diff, apply with
//! prune, auth, delete.

use serde_json::Value;

use crate::env::{Env, gvr};

fn deployments() -> smh_sim::store::Gvr {
    gvr("apps", "v1", "deployments")
}

fn web(env: &Env) -> Value {
    env.get(&deployments(), "demo", "web")
        .expect("deployment web")
}

fn image(d: &Value) -> &str {
    d["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default()
}

pub(crate) async fn run(env: &Env) {
    create(env).await;
    rollouts(env).await;
    edits(env).await;
    prune(env).await;
    auth(env).await;
    delete(env).await;
}

async fn create(env: &Env) {
    env.ok("kubectl create namespace demo").await;
    let ns = env.get(&gvr("", "v1", "namespaces"), "", "demo").unwrap();
    assert_eq!(ns["status"]["phase"], "Active");
    env.ok("kubectl create configmap app-config -n demo --from-literal=color=blue")
        .await;
    let cm = env
        .get(&gvr("", "v1", "configmaps"), "demo", "app-config")
        .unwrap();
    assert_eq!(cm["data"]["color"], "blue");
    env.ok("kubectl create secret generic app-secret -n demo --from-literal=password=s3cret")
        .await;
    let s = env
        .get(&gvr("", "v1", "secrets"), "demo", "app-secret")
        .unwrap();
    assert_eq!(s["data"]["password"], "czNjcmV0", "base64 of s3cret");
    assert_eq!(s["type"], "Opaque");
    env.ok("kubectl create deployment web -n demo --image=nginx:1.27 --replicas=2 --port=80")
        .await;
    let d = web(env);
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(image(&d), "nginx:1.27");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        80
    );
    assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "web");
    env.ok("kubectl create service clusterip web -n demo --tcp=80:80")
        .await;
    let svc = env.get(&gvr("", "v1", "services"), "demo", "web").unwrap();
    assert!(
        svc["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| ip.contains('.')),
        "{svc}"
    );
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
    env.ok("kubectl create serviceaccount deployer -n demo")
        .await;
    assert!(
        env.get(&gvr("", "v1", "serviceaccounts"), "demo", "deployer")
            .is_some()
    );
    env.ok("kubectl create role pod-reader -n demo --verb=get,list --resource=pods")
        .await;
    let rbac = |plural| gvr("rbac.authorization.k8s.io", "v1", plural);
    let role = env.get(&rbac("roles"), "demo", "pod-reader").unwrap();
    assert_eq!(
        role["rules"][0]["verbs"],
        serde_json::json!(["get", "list"])
    );
    env.ok("kubectl create rolebinding read-pods -n demo --role=pod-reader --serviceaccount=demo:deployer")
        .await;
    let rb = env.get(&rbac("rolebindings"), "demo", "read-pods").unwrap();
    assert_eq!(rb["subjects"][0]["kind"], "ServiceAccount");
    assert_eq!(rb["subjects"][0]["name"], "deployer");
    env.ok("kubectl create job hello -n demo --image=busybox -- echo hi")
        .await;
    let job = env
        .get(&gvr("batch", "v1", "jobs"), "demo", "hello")
        .unwrap();
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["command"],
        serde_json::json!(["echo", "hi"])
    );
    env.ok("kubectl expose deployment web -n demo --name=web-public --port=8080 --target-port=80")
        .await;
    let svc = env
        .get(&gvr("", "v1", "services"), "demo", "web-public")
        .unwrap();
    assert_eq!(svc["spec"]["selector"]["app"], "web");
    assert_eq!(svc["spec"]["ports"][0]["port"], 8080);
    env.ok("kubectl run debug -n demo --image=busybox --restart=Never -- sleep 3600")
        .await;
    env.ok("kubectl wait pod/debug -n demo --for=condition=Ready --timeout=60s")
        .await;
    let pod = env.get(&gvr("", "v1", "pods"), "demo", "debug").unwrap();
    assert_eq!(pod["status"]["phase"], "Running");
}

async fn rollouts(env: &Env) {
    let out = env
        .ok("kubectl wait deployment/web -n demo --for=condition=Available --timeout=60s")
        .await;
    assert!(out.contains("condition met"), "{out}");
    let out = env
        .ok("kubectl rollout status deployment/web -n demo --timeout=60s")
        .await;
    assert!(out.contains("successfully rolled out"), "{out}");
    assert_eq!(web(env)["status"]["readyReplicas"], 2);
    let slices = env.ok("kubectl get endpointslices -n demo -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].conditions.ready}'").await;
    assert_eq!(slices.trim(), "true true", "two ready endpoints of web");

    env.ok("kubectl scale deployment/web -n demo --replicas=3")
        .await;
    assert_eq!(web(env)["spec"]["replicas"], 3);
    env.ok("kubectl wait deployment/web -n demo --for=jsonpath='{.status.readyReplicas}'=3 --timeout=60s")
        .await;
    env.ok("kubectl label deployment/web -n demo tier=frontend")
        .await;
    assert_eq!(web(env)["metadata"]["labels"]["tier"], "frontend");
    env.ok("kubectl annotate deployment/web -n demo owner=team-a")
        .await;
    assert_eq!(web(env)["metadata"]["annotations"]["owner"], "team-a");

    env.ok("kubectl set image deployment/web -n demo nginx=nginx:1.28")
        .await;
    assert_eq!(image(&web(env)), "nginx:1.28");
    env.ok("kubectl rollout status deployment/web -n demo --timeout=60s")
        .await;
    let out = env
        .ok("kubectl rollout history deployment/web -n demo")
        .await;
    let revisions: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["1", "2"], "{out}");
    let out = env.ok("kubectl rollout undo deployment/web -n demo").await;
    assert!(out.contains("rolled back"), "{out}");
    assert_eq!(
        image(&web(env)),
        "nginx:1.27",
        "back to revision 1's template"
    );
    env.ok("kubectl rollout status deployment/web -n demo --timeout=60s")
        .await;
    env.until("revision 3 on the Deployment", || {
        web(env)["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    })
    .await;
    let web_pods = || -> Vec<Value> {
        env.list(&gvr("", "v1", "pods"), "demo")
            .into_iter()
            .filter(|p| p["metadata"]["labels"]["app"] == "web")
            .collect()
    };
    env.until("three web pods of revision 1's image", || {
        let pods = web_pods();
        pods.len() == 3
            && pods
                .iter()
                .all(|p| p["spec"]["containers"][0]["image"] == "nginx:1.27")
    })
    .await;

    let before: Vec<String> = web_pods()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    env.ok("kubectl rollout restart deployment/web -n demo")
        .await;
    assert!(
        web(env)["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string()
    );
    env.ok("kubectl rollout status deployment/web -n demo --timeout=60s")
        .await;
    env.until("three new web pods", || {
        let pods = web_pods();
        pods.len() == 3
            && pods.iter().all(|p| {
                let n = p["metadata"]["name"].as_str().unwrap_or_default();
                !before.iter().any(|b| b == n)
            })
    })
    .await;
}

async fn edits(env: &Env) {
    let cm = || {
        env.get(&gvr("", "v1", "configmaps"), "demo", "app-config")
            .unwrap()
    };
    env.ok("KUBE_EDITOR='sed -i s/blue/green/' kubectl edit configmap/app-config -n demo")
        .await;
    assert_eq!(cm()["data"]["color"], "green");
    env.ok("kubectl get configmap app-config -n demo -o yaml | sed s/green/red/ | kubectl replace -f -")
        .await;
    assert_eq!(cm()["data"]["color"], "red");
    let (out, _) = env
        .exits(
            "kubectl create configmap app-config -n demo --from-literal=color=yellow --dry-run=client -o yaml | kubectl diff -f -",
            1,
        )
        .await;
    assert!(
        out.contains("-  color: red") && out.contains("+  color: yellow"),
        "{out}"
    );
    assert_eq!(cm()["data"]["color"], "red", "diff changes nothing");
}

const BUNDLE_CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\n  namespace: demo\n  labels:\n    app.kubernetes.io/part-of: shop\ndata:\n  k: v\n";

async fn prune(env: &Env) {
    let cms = gvr("", "v1", "configmaps");
    env.write("shop/a.yaml", &BUNDLE_CM.replace("NAME", "shop-a"));
    env.write("shop/b.yaml", &BUNDLE_CM.replace("NAME", "shop-b"));
    let line = "kubectl apply -f shop --prune -l app.kubernetes.io/part-of=shop";
    let out = env.ok(line).await;
    assert!(out.contains("configmap/shop-b created"), "{out}");
    env.remove("shop/b.yaml");
    let out = env.ok(line).await;
    assert!(out.contains("configmap/shop-b pruned"), "{out}");
    assert!(env.get(&cms, "demo", "shop-b").is_none());
    assert!(env.get(&cms, "demo", "shop-a").is_some());
    assert!(
        env.get(&cms, "demo", "app-config").is_some(),
        "not in the set: kept"
    );
}

async fn auth(env: &Env) {
    let out = env.ok("kubectl auth whoami").await;
    assert!(
        out.contains("smh-demo") && out.contains("system:masters"),
        "{out}"
    );
    let out = env
        .ok("kubectl auth can-i create deployments -n demo")
        .await;
    assert_eq!(out.trim(), "yes");
    let out = env
        .ok("kubectl auth can-i list pods -n demo --as=system:serviceaccount:demo:deployer")
        .await;
    assert_eq!(out.trim(), "yes", "the rolebinding read-pods");
    let (out, _) = env
        .exits(
            "kubectl auth can-i delete pods -n demo --as=system:serviceaccount:demo:deployer",
            1,
        )
        .await;
    assert_eq!(out.trim(), "no");
    let (_, err) = env
        .exits(
            "kubectl get secrets -n demo --as=system:serviceaccount:demo:deployer",
            1,
        )
        .await;
    assert!(
        err.contains("Forbidden") && err.contains("cannot list resource \"secrets\""),
        "{err}"
    );
}

async fn delete(env: &Env) {
    let out = env.ok("kubectl delete pod -n demo -l app=web").await;
    assert_eq!(out.matches("deleted").count(), 3, "{out}");
    env.ok("kubectl wait deployment/web -n demo --for=jsonpath='{.status.readyReplicas}'=3 --timeout=60s")
        .await;
    let out = env.ok("kubectl delete namespace demo").await;
    assert!(out.contains("namespace \"demo\" deleted"), "{out}");
    env.until("namespace demo and its objects gone", || {
        env.get(&gvr("", "v1", "namespaces"), "", "demo").is_none()
            && env.list(&deployments(), "demo").is_empty()
    })
    .await;
}
