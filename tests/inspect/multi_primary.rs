//! Multi-primary mode: outlier detection from the cluster subset, Istio cluster IDs checked
//! against the remote secrets.

use super::*;

/// Both scenarios are about the aggregate strategy's per-cluster subsets, which select the
/// Istio cluster IDs (`auto` picks the native strategy in multi-primary, whose failover
/// priority names only the primary's cluster ID): the guide is applied again with it.
async fn apply_the_guide_with_the_aggregate_strategy(env: &Env) {
    let guide = guide_dir().display().to_string();
    let out = env
        .smh(&["apply", "-f", &guide, "--strategy", "aggregate"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
}

pub(super) async fn multi_primary_outlier_detection_comes_from_the_cluster_subset(env: &Env) {
    apply_the_guide_with_the_aggregate_strategy(env).await;
    let out = env.smh(&["describe", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fs = &doc["failoverServices"][0];
    assert_eq!(fs["problems"], json!([]), "{fs:#}");
    let od = &fs["backingServices"][1]["outlierDetection"][0];
    assert_eq!(od["host"], "reviews.bookinfo.svc.cluster.local");
    assert_eq!(od["values"]["consecutive5xxErrors"], 1);
    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
}

/// The demo's istiods have cluster IDs cluster1 and cluster2, and their remote secrets are
/// keyed by them: check passes and says so. A remote secret made with the SMH name instead
/// (`istioctl create-remote-secret --name remote-cluster`) fails check and describe, with
/// the command that fixes it.
pub(super) async fn multi_primary_checks_cluster_ids_against_remote_secrets(env: &Env) {
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::PostParams;
    apply_the_guide_with_the_aggregate_strategy(env).await;
    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("[ok] Istio cluster IDs (multi-primary) are known, unique and match the remote secrets: mgmt-cluster cluster1, remote-cluster cluster2"),
        "{text}"
    );
    let out = env.smh(&["describe", "mesh", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mgmt_mesh = &doc["meshes"][0];
    assert_eq!(mgmt_mesh["cluster"], "mgmt-cluster");
    assert_eq!(mgmt_mesh["istioClusterId"], "cluster1");
    assert_eq!(
        mgmt_mesh["istioClusterIdSource"],
        "istiod's CLUSTER_ID environment variable"
    );
    assert_eq!(
        mgmt_mesh["remoteSecrets"],
        json!([{"secret": "istio-system/istio-remote-secret-cluster2", "clusterIds": ["cluster2"], "annotation": "cluster2"}])
    );

    // Recreate mgmt-cluster's remote secret under the SMH name.
    let secrets: Api<Secret> = Api::namespaced(env.client("mgmt-cluster"), "istio-system");
    let old = secrets.get("istio-remote-secret-cluster2").await.unwrap();
    secrets
        .delete("istio-remote-secret-cluster2", &DeleteParams::default())
        .await
        .unwrap();
    let kubeconfig = old.data.unwrap().into_values().next().unwrap();
    let new: Secret = serde_json::from_value(json!({
        "metadata": {"name": "istio-remote-secret-remote-cluster", "namespace": "istio-system",
                     "labels": {"istio/multiCluster": "true"},
                     "annotations": {"networking.istio.io/cluster": "remote-cluster"}},
        "data": {"remote-cluster": kubeconfig},
    }))
    .unwrap();
    secrets.create(&PostParams::default(), &new).await.unwrap();

    let out = env.smh(&["check"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let text = stdout(&out);
    for needle in [
        "[FAIL] Istio cluster IDs (multi-primary) are known, unique and match the remote secrets\n  - mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\", not remote-cluster's Istio cluster ID \"cluster2\"",
        "the subsets on topology.istio.io/cluster=cluster2 in DestinationRule bookinfo/reviews there select nothing, and traffic sent to them gets 503s",
        "Hint: recreate it under remote-cluster's cluster ID: \"istioctl create-remote-secret --context=remote-cluster --name=cluster2 | kubectl apply --context=mgmt-cluster -f -\"",
        "[FAIL] FailoverService service-mesh-hub/reviews-failover can fail over",
    ] {
        assert!(text.contains(needle), "missing {needle:?}\n{text}");
    }
    let out = env
        .smh(&["describe", "fs", "reviews-failover", "-o", "json"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", describe_output(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = doc["failoverServices"][0]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["severity"], "error");
    // failover test runs the drill's preflight: the same finding fails it.
    let out = env
        .smh(&["failover", "test", "reviews-failover", "--requests", "3"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", describe_output(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  - Istio cluster IDs: mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\""),
        "{text}"
    );
}
