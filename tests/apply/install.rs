//! `install` is idempotent and `apply` asks for it; a cluster without Istio's CRDs is named.

use super::*;

/// From a management cluster without the SMH CRDs (removed first where the clusters start
/// with them): `apply` asks for `install`, which is idempotent.
pub(super) async fn install_is_idempotent_and_apply_asks_for_it(d: &Demo) {
    uninstall(&d.mgmt).await;
    let r = d.smh(&["apply", "-f", &guide(1)]).await;
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.contains("the SMH CRDs are not installed in"),
        "{r:?}"
    );
    assert!(r.stderr.contains("run `kubectl smh install`"), "{r:?}");

    let r = d.smh(&["install", "--dry-run=client"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("failoverservices.networking.smh.solo.io created (dry run)"),
        "{r:?}"
    );
    let r = d.smh(&["install"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .starts_with("These contexts and API servers will be changed:\n  mgmt-cluster"),
        "{r:?}"
    );
    assert_eq!(
        r.stdout,
        "customresourcedefinition.apiextensions.k8s.io/failoverservices.networking.smh.solo.io created\n\
         customresourcedefinition.apiextensions.k8s.io/trafficpolicies.networking.smh.solo.io created\n\
         namespace/service-mesh-hub unchanged\n\
         The SMH CRDs are established in mgmt-cluster; next: kubectl smh apply -f FILE\n"
    );
    let crds = istio_like_versions(&d.mgmt).await;
    let r = d.smh(&["install"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.matches(" unchanged\n").count(), 3, "{r:?}");
    assert_eq!(
        istio_like_versions(&d.mgmt).await,
        crds,
        "a second install changes nothing"
    );
    let r = d.smh(&["install", "--dry-run=server"]).await;
    assert_eq!(
        r.stdout.matches(" unchanged (server dry run)\n").count(),
        3,
        "{r:?}"
    );

    let r = d.smh(&["apply", "-f", &guide_all()]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        smh_status(
            &d.mgmt,
            "FailoverService",
            "service-mesh-hub",
            "reviews-failover"
        )
        .await,
        guide_fs_status()
    );
}

/// Delete the SMH CRDs of a cluster, if there, and wait until they are gone.
async fn uninstall(client: &kube::Client) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let crds: kube::Api<CustomResourceDefinition> = kube::Api::all(client.clone());
    let names = [
        "failoverservices.networking.smh.solo.io",
        "trafficpolicies.networking.smh.solo.io",
    ];
    for name in names {
        let _ = crds.delete(name, &Default::default()).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    for name in names {
        while crds.get_opt(name).await.unwrap().is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "CRD {name} not gone after a minute"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// resourceVersions of the SMH CRDs.
async fn istio_like_versions(client: &kube::Client) -> Vec<String> {
    let api: kube::Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        kube::Api::all(client.clone());
    let mut out = Vec::new();
    for name in [
        "failoverservices.networking.smh.solo.io",
        "trafficpolicies.networking.smh.solo.io",
    ] {
        out.push(
            api.get(name)
                .await
                .unwrap()
                .metadata
                .resource_version
                .unwrap_or_default(),
        );
    }
    out
}

/// Simulated clusters only: it deletes Istio's CRDs, which the real control planes' node
/// agents and mirrors watch, so the shared real fleet would not serve the scenarios after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_without_istio_crds_is_named() {
    let d = Demo::start(MultiClusterMode::Global).await;
    let crds: kube::Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = kube::Api::all(d.remote.clone());
    for crd in crds.list(&Default::default()).await.unwrap().items {
        if crd.spec.group == "networking.istio.io" {
            let name = crd.metadata.name.unwrap();
            crds.delete(&name, &Default::default()).await.unwrap();
        }
    }
    let r = d.smh(&["apply", "-f", &guide(1)]).await;
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stdout.contains(
            "destinationrule.networking.istio.io/reviews -n bookinfo failed: DestinationRule \
             bookinfo/reviews was not applied: Istio is not installed in cluster remote-cluster"
        ),
        "{r:?}"
    );
    // mgmt-cluster converged.
    assert!(
        get(&d.mgmt, &istio_ar("DestinationRule"), "bookinfo", "reviews")
            .await
            .is_some()
    );
    let tp = smh_status(
        &d.mgmt,
        "TrafficPolicy",
        "service-mesh-hub",
        "mgmt-reviews-outlier",
    )
    .await;
    assert_eq!(tp["state"], "FAILED", "{tp}");
    d.shutdown().await;
}
