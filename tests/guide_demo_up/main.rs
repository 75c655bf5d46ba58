//! The guide's own kubectl commands, as the guide writes them, run with real kubectl against
//! `kubectl smh demo up` (the binary, as a user starts it), and bookinfo's page in real
//! headless Chromium: its stars before the break, after the failover and after the restore.
//!
//! The guide's three `kubectl apply -f - << EOF` manifests only create SMH objects; SMH's
//! controller (here `kubectl smh apply`) is what gives them a status and writes Istio's
//! config, so each is followed by `kubectl smh apply -f -` of the same manifest.

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod demo;
mod page;

use std::time::{Duration, Instant};

use common::kubectls::{self, Kubectl};
use demo::{DemoUp, PortForward};
use page::Served;

/// The guide's commands, verbatim, in its order (the port-forward is started separately).
const APPLY_1: &str = r#"kubectl apply -f - << EOF
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata:
  namespace: service-mesh-hub
  name: mgmt-reviews-outlier
spec:
  destinationSelector:
  - kubeServiceRefs:
      services:
      - name: reviews
        namespace: bookinfo
        clusterName: mgmt-cluster
      - name: reviews
        namespace: bookinfo
        clusterName: remote-cluster
  outlierDetection:
    consecutiveErrors: 1
EOF"#;

const APPLY_2: &str = r#"kubectl apply -f - << EOF
apiVersion: networking.smh.solo.io/v1alpha2
kind: FailoverService
metadata:
  name: reviews-failover
  namespace: service-mesh-hub
spec:
  hostname: reviews-failover.bookinfo.global
  port:
    number: 9080
    protocol: http
  meshes:
    - name: istiod-istio-system-mgmt-cluster
      namespace: service-mesh-hub
  backingServices:
  - kubeService:
      name: reviews
      namespace: bookinfo
      clusterName: mgmt-cluster
  - kubeService:
      name: reviews
      namespace: bookinfo
      clusterName: remote-cluster
EOF"#;

const APPLY_3: &str = r#"kubectl apply -f - << EOF
apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata:
  name: reviews-shift-failover
  namespace: bookinfo
spec:
  destinationSelector:
  - kubeServiceRefs:
      services:
      - clusterName: mgmt-cluster
        name: reviews
        namespace: bookinfo
  trafficShift:
    destinations:
    - failoverService:
        name: reviews-failover
        namespace: service-mesh-hub
EOF"#;

const GET_TP: &str = "kubectl -n service-mesh-hub get trafficpolicy/mgmt-reviews-outlier -oyaml";
const GET_FS: &str = "kubectl -n service-mesh-hub get failoverservice/reviews-failover -oyaml";
const PORT_FORWARD: &str = "kubectl -n bookinfo port-forward deployments/productpage-v1 9080";
const BREAK: [&str; 2] = [
    r#"kubectl -n bookinfo patch deploy reviews-v1 --patch '{"spec": {"template": {"spec": {"containers": [{"name": "reviews","command": ["sleep", "20h"]}]}}}}'"#,
    r#"kubectl -n bookinfo patch deploy reviews-v2 --patch '{"spec": {"template": {"spec": {"containers": [{"name": "reviews","command": ["sleep", "20h"]}]}}}}'"#,
];
const RESTORE: [&str; 2] = [
    r#"kubectl -n bookinfo patch deployment reviews-v1  --type json   -p '[{"op": "remove", "path": "/spec/template/spec/containers/0/command"}]'"#,
    r#"kubectl -n bookinfo patch deployment reviews-v2  --type json   -p '[{"op": "remove", "path": "/spec/template/spec/containers/0/command"}]'"#,
];

/// The same manifest for SMH's controller: `kubectl apply -f -` becomes `kubectl smh apply -f -`.
fn smh(apply: &str) -> String {
    apply.replacen("kubectl apply", "kubectl smh apply", 1)
}

/// The guide's configuration steps: each apply, SMH's apply, and the status gets it shows.
async fn configure(d: &DemoUp) {
    let out = d.ok(APPLY_1).await;
    assert!(
        out.contains("trafficpolicy.networking.smh.solo.io/mgmt-reviews-outlier created"),
        "{out}"
    );
    d.ok(&smh(APPLY_1)).await;
    let tp = d.ok(GET_TP).await;
    for want in [
        "  state: ACCEPTED",
        "reviews-bookinfo-mgmt-cluster.service-mesh-hub.:",
        "reviews-bookinfo-remote-cluster.service-mesh-hub.:",
    ] {
        assert!(tp.contains(want), "{GET_TP}: no {want:?} in\n{tp}");
    }
    let out = d.ok(APPLY_2).await;
    assert!(
        out.contains("failoverservice.networking.smh.solo.io/reviews-failover created"),
        "{out}"
    );
    d.ok(&smh(APPLY_2)).await;
    let fs = d.ok(GET_FS).await;
    for want in [
        "  state: ACCEPTED",
        "istiod-istio-system-mgmt-cluster.service-mesh-hub.:",
    ] {
        assert!(fs.contains(want), "{GET_FS}: no {want:?} in\n{fs}");
    }
    let out = d.ok(APPLY_3).await;
    assert!(
        out.contains("trafficpolicy.networking.smh.solo.io/reviews-shift-failover created"),
        "{out}"
    );
    d.ok(&smh(APPLY_3)).await;
}

/// Runs `lines` (the guide's patches), then waits until both deployments have rolled out, as
/// the guide says to.
async fn patch_and_roll_out(d: &DemoUp, lines: [&str; 2]) {
    for line in lines {
        let out = d.ok(line).await;
        assert!(out.contains("patched"), "{line}: {out}");
    }
    for dep in ["reviews-v1", "reviews-v2"] {
        d.ok(&format!(
            "kubectl -n bookinfo rollout status deployment/{dep} --timeout=60s"
        ))
        .await;
    }
}

/// Reloads the page until `want` holds (the mesh needs a few requests to eject the failed
/// endpoints, or to bring them back); then the next `n` loads all satisfy `all`.
async fn reload_until(
    pf: &PortForward,
    what: &str,
    want: impl Fn(&Served) -> bool,
    all: impl Fn(&Served) -> bool,
) -> Vec<Served> {
    let t = Instant::now();
    loop {
        let s = page::load(pf.port).await;
        if want(&s) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{what}: still {s:?} after 60 s"
        );
    }
    let mut seen = Vec::new();
    for _ in 0..6 {
        let s = page::load(pf.port).await;
        assert!(all(&s), "{what}: then {s:?}");
        seen.push(s);
    }
    seen
}

/// The whole guide with one kubectl.
async fn guide_with(k: &Kubectl) {
    let d = DemoUp::start(k).await;
    configure(&d).await;
    let pf = d.port_forward(PORT_FORWARD).await;
    assert_eq!(pf.port, 9080);
    // "no stars (reviews-v1) and black stars (reviews-v2)", from mgmt-cluster.
    let before = reload_until(
        &pf,
        "before the break",
        |s| s.stars == Some("black"),
        |s| s.cluster == "mgmt-cluster" && matches!(s.stars, None | Some("black")),
    )
    .await;
    assert!(
        before
            .iter()
            .all(|s| s.pod.starts_with("reviews-v1-") || s.pod.starts_with("reviews-v2-")),
        "{before:?}"
    );
    patch_and_roll_out(&d, BREAK).await;
    // "reviews with red stars, corresponding to reviews-v3, which only exists on remote-cluster".
    let after = reload_until(
        &pf,
        "after the failover",
        |s| s.stars == Some("red"),
        |s| s.stars == Some("red") && s.cluster == "remote-cluster",
    )
    .await;
    assert!(
        after.iter().all(|s| s.pod.starts_with("reviews-v3-")),
        "{after:?}"
    );
    patch_and_roll_out(&d, RESTORE).await;
    // "no stars or black stars": mgmt-cluster again.
    reload_until(
        &pf,
        "after the restore",
        |s| s.cluster == "mgmt-cluster",
        |s| s.cluster == "mgmt-cluster" && matches!(s.stars, None | Some("black")),
    )
    .await;
    pf.stop().await;
    d.stop().await;
}

/// Every kubectl command of the guide, verbatim, with the kubectl on PATH and the peers
/// build's (the newest), each against its own `demo up`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_kubectl_commands_run_verbatim_on_demo_up() {
    let all = kubectls::all();
    let mut chosen: Vec<&Kubectl> = Vec::new();
    if let Some(path_kubectl) = common::peer("kubectl", "SMH_KUBECTL") {
        chosen.extend(all.iter().find(|k| k.path == path_kubectl));
    }
    if let Some(newest) = all.last()
        && !chosen.iter().any(|k| k.path == newest.path)
    {
        chosen.push(newest);
    }
    for k in chosen {
        guide_with(k).await;
    }
}

/// The page in headless Chromium, through the URL `demo up` prints and through `kubectl
/// port-forward`: black stars (and pages without) before the break, red after the failover,
/// black again after the restore, told from the screenshots' pixels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn productpage_shows_the_guides_stars_in_chromium() {
    let Some(chromium) = browser::Chromium::find() else {
        return;
    };
    let Some(k) = kubectls::all().pop() else {
        return;
    };
    let d = DemoUp::start(&k).await;
    configure(&d).await;
    // A free local port, so this runs beside the verbatim guide (which takes 9080).
    let pf = d
        .port_forward("kubectl -n bookinfo port-forward deployments/productpage-v1 :9080")
        .await;
    let urls = [
        ("printed", d.productpage_url.clone()),
        (
            "port-forward",
            format!("http://localhost:{}/productpage", pf.port),
        ),
    ];
    let mut shots = browser::Shots::new(chromium);
    for (via, url) in &urls {
        shots
            .until(&format!("before-{via}"), url, browser::Stars::Black)
            .await;
    }
    patch_and_roll_out(&d, BREAK).await;
    reload_until(
        &pf,
        "after the failover",
        |s| s.stars == Some("red"),
        |s| s.stars == Some("red"),
    )
    .await;
    for (via, url) in &urls {
        shots
            .expect(&format!("failover-{via}"), url, browser::Stars::Red)
            .await;
    }
    patch_and_roll_out(&d, RESTORE).await;
    reload_until(
        &pf,
        "after the restore",
        |s| s.cluster == "mgmt-cluster",
        |s| s.cluster == "mgmt-cluster",
    )
    .await;
    for (via, url) in &urls {
        shots
            .until(&format!("restored-{via}"), url, browser::Stars::Black)
            .await;
    }
    shots.passed();
    pf.stop().await;
    d.stop().await;
}
