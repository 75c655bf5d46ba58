//! The guide on the clusters of `kubectl smh demo up --ambient`: Istio's ambient mode across
//! two networks (Istio 1.28.1, AMBIENT_ENABLE_MULTI_NETWORK, an east-west gateway per
//! cluster, bookinfo's Services global), bookinfo without sidecars behind the waypoint
//! bookinfo/waypoint. Simulated clusters only:
//! the real control planes of tests/drill/both.rs (scripts/real-clusters) install no
//! ztunnel, no Gateway API and no waypoint, so there is no ambient mesh to run it on.

use super::*;

/// The pod of waypoint bookinfo/waypoint in `cluster`.
async fn waypoint_pod(demo: &Demo, cluster: &str) -> String {
    let pods: Api<Pod> = Api::namespaced(demo.client(cluster), "bookinfo");
    let list = pods
        .list(&ListParams::default().labels("gateway.networking.k8s.io/gateway-name=waypoint"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1, "one waypoint pod in {cluster}");
    list.items[0].metadata.name.clone().unwrap()
}

/// `apply --strategy auto` of the guide picks native and binds the hostname to the waypoint;
/// `check` and `describe` are clean; the drill breaks reviews-v1 and -v2 in mgmt-cluster,
/// the waypoint (not a sidecar: bookinfo has none) fails over to remote-cluster's reviews-v3
/// by the subset's failoverPriority, and everything is restored exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_on_an_ambient_mesh_is_native_and_the_drill_fails_over_through_the_waypoint() {
    let world = WorldSidecars::default();
    let demo = Demo::start_ambient(Duration::from_millis(300), &world).await;
    let pods: Api<Pod> = Api::namespaced(demo.client("mgmt-cluster"), "bookinfo");
    for p in pods.list(&ListParams::default()).await.unwrap().items {
        let names: Vec<String> = p
            .spec
            .unwrap()
            .containers
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert!(
            !names.iter().any(|n| n == "istio-proxy")
                || p.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("waypoint-")),
            "{:?} has a sidecar: {names:?}",
            p.metadata.name
        );
    }

    demo.configure_guide().await;
    let ses: Api<DynamicObject> = Api::namespaced_with(
        demo.client("mgmt-cluster"),
        "service-mesh-hub",
        &ApiResource::from_gvk_with_plural(
            &kube::core::GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "ServiceEntry"),
            "serviceentries",
        ),
    );
    let se = ses
        .get("reviews-failover")
        .await
        .expect("the hostname's ServiceEntry");
    let labels = se.metadata.labels.unwrap_or_default();
    assert_eq!(labels["istio.io/use-waypoint"], "waypoint");
    assert_eq!(labels["istio.io/use-waypoint-namespace"], "bookinfo");
    let efs: Api<DynamicObject> = Api::all_with(
        demo.client("mgmt-cluster"),
        &ApiResource::from_gvk_with_plural(
            &kube::core::GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "EnvoyFilter"),
            "envoyfilters",
        ),
    );
    assert!(
        efs.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "native: no EnvoyFilter"
    );

    // Istio's ambient multicluster install as upstream supports it: nothing to warn about
    // (`--strict` fails on any warning).
    let check = demo.run(&["check", "--strict"]).await;
    assert_eq!(check.code, Some(0), "{}", check.show());
    assert!(check.stdout.contains(" 0 failed"), "{}", check.show());
    let translate = demo
        .run(&["translate", "-f", guide_dir().to_str().unwrap()])
        .await;
    assert_eq!(translate.code, Some(0), "{}", translate.show());
    assert!(
        !translate.stderr.to_lowercase().contains("warning"),
        "{}",
        translate.show()
    );
    let describe = demo.run(&["describe"]).await;
    assert_eq!(describe.code, Some(0), "{}", describe.show());
    assert!(
        describe.stdout.contains("No problems found."),
        "{}",
        describe.show()
    );

    let before = demo.snapshot().await;
    let run = demo.run(&drill_args(&["-o", "json"])).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["result"], "passed", "{}", run.show());
    assert!(failed_over_answers(&report) >= 10, "{}", run.show());
    // Outlier detection as the waypoint applies it, and the model says who ejects.
    assert_eq!(
        report["outlier"]["settings"]["waypoint"],
        "bookinfo/waypoint"
    );
    assert_eq!(report["outlier"]["settings"]["consecutive5xxErrors"], 1);
    assert!(
        report["outlier"]["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l
                .as_str()
                .unwrap()
                .starts_with("the waypoint bookinfo/waypoint ejects a host after 1 error(s)")),
        "{}",
        run.show()
    );

    // The waypoint's Envoy routed the probes: the subset's first priority (mgmt-cluster)
    // before the break and after the restore, the second (remote-cluster) in between.
    let pod = waypoint_pod(&demo, "mgmt-cluster").await;
    let envoy = world
        .sidecar("mgmt-cluster", "bookinfo", &pod)
        .expect("the waypoint's Envoy");
    let subset = "inbound-vip|9080|http/failover-reviews-failover-service-mesh-hub|reviews.bookinfo.svc.cluster.local";
    let levels: BTreeSet<usize> = envoy
        .routing_log()
        .iter()
        .filter(|a| a.cluster.starts_with(subset))
        .map(|a| a.level)
        .collect();
    assert_eq!(levels, BTreeSet::from([0, 1]), "{}", run.show());

    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
    let check = demo.run(&["check"]).await;
    assert_eq!(check.code, Some(0), "after the drill: {}", check.show());
    demo.shutdown().await;
}

/// ztunnel's two paths at run time, from productpage (no sidecar): while reviews uses the
/// waypoint, productpage's calls to reviews are routed by the waypoint's Envoy; once the
/// Service opts out (`istio.io/use-waypoint: none`), they go straight to reviews' pods, plain
/// L4 round-robin over both clusters' endpoints (remote-cluster's reviews-v3, red stars,
/// among them), and the waypoint routes none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn productpage_reaches_reviews_through_the_waypoint_and_by_l4_once_reviews_opts_out() {
    use k8s_openapi::api::core::v1::Service;
    use smh_sim::world::workload::http::{OutboundRequest, fetch};
    let world = WorldSidecars::default();
    let demo = Demo::start_ambient(Duration::from_millis(100), &world).await;
    let mgmt = demo.sim().cluster("mgmt-cluster").unwrap();
    let pods: Api<Pod> = Api::namespaced(demo.client("mgmt-cluster"), "bookinfo");
    let productpage = pods
        .list(&ListParams::default().labels("app=productpage"))
        .await
        .unwrap()
        .items
        .remove(0);
    let ip = productpage.status.unwrap().pod_ip.unwrap();
    let addr = mgmt.net().resolve(&ip, 9080).expect("productpage listens");
    let page = || async move {
        let r = fetch(
            addr,
            &OutboundRequest::get("productpage:9080", "/productpage"),
            Some(Duration::from_secs(30)),
        )
        .await
        .expect("productpage answers");
        assert_eq!(r.status, 200);
        String::from_utf8_lossy(&r.body).into_owned()
    };
    let envoy = world
        .sidecar(
            "mgmt-cluster",
            "bookinfo",
            &waypoint_pod(&demo, "mgmt-cluster").await,
        )
        .expect("the waypoint's Envoy");
    let to_reviews = || {
        envoy
            .routing_log()
            .iter()
            .filter(|a| a.cluster.ends_with("|reviews.bookinfo.svc.cluster.local"))
            .count()
    };
    for _ in 0..6 {
        page().await;
    }
    assert!(to_reviews() >= 6, "{:?}", envoy.routing_log());

    let services: Api<Service> = Api::namespaced(demo.client("mgmt-cluster"), "bookinfo");
    services
        .patch(
            "reviews",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"istio.io/use-waypoint": "none"}}})),
        )
        .await
        .unwrap();
    let through_waypoint = to_reviews();
    let mut red = 0;
    for _ in 0..12 {
        if page().await.contains("<font color=\"red\">") {
            red += 1;
        }
    }
    assert_eq!(to_reviews(), through_waypoint, "the waypoint routed none");
    assert!(red >= 1, "L4 reaches remote-cluster's reviews-v3 too");
    demo.shutdown().await;
}
