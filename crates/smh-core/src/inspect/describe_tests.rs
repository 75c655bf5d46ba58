//! Tests of the describe model on constructed snapshots of the guide's configuration.

use serde_json::{Value, json};

use super::*;
use crate::inspect::snapshot::{EndpointCount, Snapshot};
use crate::model::topology::MultiClusterMode;
use crate::model::types::ApprovalState;
use crate::testing::inspect::{guide_snapshot, svc};

fn live_mut<'a>(
    snap: &'a mut Snapshot,
    cluster: &str,
    kind: &str,
    ns: &str,
    name: &str,
) -> &'a mut Value {
    snap.live
        .get_mut(cluster)
        .unwrap()
        .as_mut()
        .unwrap()
        .iter_mut()
        .find(|o| {
            o["kind"] == kind && o["metadata"]["namespace"] == ns && o["metadata"]["name"] == name
        })
        .unwrap_or_else(|| panic!("no live {kind} {ns}/{name} in {cluster}"))
}

fn describe(snap: &Snapshot) -> FailoverServiceView {
    let drift = snap.drift();
    let mut v = failover_services(snap, &drift, Some("reviews-failover"), None);
    assert_eq!(v.len(), 1);
    v.remove(0)
}

#[test]
fn healthy_guide_setup_has_no_problems() {
    let snap = guide_snapshot(MultiClusterMode::Global);
    let fs = describe(&snap);
    assert_eq!(fs.problems, vec![], "{:#?}", fs.problems);
    assert_eq!(fs.hostname, "reviews-failover.bookinfo.global");
    assert_eq!(fs.status.state, "ACCEPTED");
    assert!(fs.status.up_to_date);
    assert_eq!(fs.meshes[0].cluster.as_deref(), Some("mgmt-cluster"));
    assert_eq!(
        fs.traffic_policies,
        [
            "bookinfo/reviews-shift-failover",
            "service-mesh-hub/mgmt-reviews-outlier"
        ]
    );

    let [primary, secondary] = &fs.backing_services[..] else {
        panic!("{:?}", fs.backing_services)
    };
    assert_eq!(
        (primary.role, primary.cluster.as_str()),
        (Role::Primary, "mgmt-cluster")
    );
    assert_eq!(secondary.role, Role::Secondary);
    assert_eq!(
        primary.endpoints,
        Some(EndpointCount { ready: 2, total: 2 })
    );
    assert_eq!(primary.in_sync, Some(true));
    assert_eq!(secondary.in_sync, Some(true));

    // Callers in mgmt-cluster: the local rule for the primary, the federated copy for the
    // secondary; the guide's consecutiveErrors 1 with SMH's defaults.
    let od = &primary.outlier_detection[0];
    assert_eq!(od.client_cluster, "mgmt-cluster");
    assert_eq!(od.host, "reviews.bookinfo.svc.cluster.local");
    assert_eq!(
        od.source.as_deref(),
        Some("DestinationRule bookinfo/reviews")
    );
    let values = od.values.as_ref().unwrap();
    assert_eq!(
        (
            values.consecutive_5xx_errors,
            values.interval.as_str(),
            values.base_ejection_time.as_str(),
            values.max_ejection_percent
        ),
        (1, "10s", "30s", 100)
    );
    assert!(values.defaulted.is_empty());
    let od = &secondary.outlier_detection[0];
    assert_eq!(od.host, "reviews.bookinfo.svc.remote-cluster.global");
    assert_eq!(
        od.source.as_deref(),
        Some("DestinationRule istio-system/reviews-bookinfo-remote-cluster")
    );

    // The FailoverService's own objects, and each backing service's.
    let own: Vec<String> = fs.generated.iter().map(|d| d.key.to_string()).collect();
    assert_eq!(
        own,
        [
            // The client-side rule for the remote backing service is generated for the
            // FailoverService's aggregate cluster (and carries the outlier policy).
            "DestinationRule istio-system/reviews-bookinfo-remote-cluster in mgmt-cluster",
            "EnvoyFilter istio-system/reviews-failover in mgmt-cluster",
            "ServiceEntry service-mesh-hub/reviews-failover in mgmt-cluster",
        ]
    );
    let keys = |b: &BackingView| {
        b.generated
            .iter()
            .map(|d| d.key.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(primary),
        [
            "DestinationRule bookinfo/reviews in mgmt-cluster",
            "VirtualService bookinfo/reviews in mgmt-cluster"
        ]
    );
    assert_eq!(
        keys(secondary),
        [
            "DestinationRule istio-system/reviews-bookinfo-remote-cluster in mgmt-cluster",
            "DestinationRule bookinfo/reviews in remote-cluster",
        ]
    );
    assert!(
        fs.explanations
            .iter()
            .any(|e| e.text.contains("global mode")),
        "{:?}",
        fs.explanations
    );
    // Preflight views.
    assert!(
        fs.preflight_generated()
            .iter()
            .all(|g| g.state == GeneratedState::InSync)
    );
    assert_eq!(fs.preflight_generated().len(), 6);
    let health = fs.preflight_backing("mgmt-cluster");
    assert_eq!(health[1].ready_endpoints, 1);
    assert_eq!(
        health[1].outlier.as_ref().unwrap().max_ejection_percent,
        Some(100)
    );
}

#[test]
fn edited_rule_names_the_field_and_the_manager() {
    let mut snap = guide_snapshot(MultiClusterMode::Global);
    let dr = live_mut(
        &mut snap,
        "remote-cluster",
        "DestinationRule",
        "bookinfo",
        "reviews",
    );
    dr["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] = json!(7);
    dr["metadata"]["managedFields"].as_array_mut().unwrap().push(json!({
        "manager": "kubectl-edit", "operation": "Update", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:trafficPolicy": {"f:outlierDetection": {"f:consecutive5xxErrors": {}}}}}
    }));
    let fs = describe(&snap);
    let messages: Vec<&str> = fs.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "DestinationRule bookinfo/reviews in remote-cluster was changed by kubectl-edit: spec.trafficPolicy.outlierDetection.consecutive5xxErrors"
        ]
    );
    assert_eq!(fs.problems[0].severity, Severity::Error);
    assert_eq!(fs.backing_services[0].in_sync, Some(true));
    assert_eq!(fs.backing_services[1].in_sync, Some(false));
}

#[test]
fn deleted_service_entry_is_missing() {
    let mut snap = guide_snapshot(MultiClusterMode::Global);
    snap.live
        .get_mut("mgmt-cluster")
        .unwrap()
        .as_mut()
        .unwrap()
        .retain(|o| o["kind"] != "ServiceEntry");
    let fs = describe(&snap);
    assert_eq!(
        fs.problems
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>(),
        [
            "ServiceEntry service-mesh-hub/reviews-failover in mgmt-cluster is missing: run `kubectl smh apply` to recreate it"
        ]
    );
    let se = fs
        .generated
        .iter()
        .find(|d| d.key.kind == "ServiceEntry")
        .unwrap();
    assert_eq!(se.state, DriftState::Missing);
}

#[test]
fn secondary_without_ready_endpoints_has_nowhere_to_go() {
    let mut snap = guide_snapshot(MultiClusterMode::Global);
    snap.endpoints.insert(
        svc("remote-cluster", "reviews"),
        Ok(EndpointCount { ready: 0, total: 1 }),
    );
    let fs = describe(&snap);
    assert_eq!(
        fs.problems,
        [Problem::error(
            "the secondary reviews.bookinfo@remote-cluster has no ready endpoints: failover would have nowhere to go"
        )]
    );
}

#[test]
fn unset_max_ejection_percent_is_a_warning_and_no_outlier_detection_an_error() {
    let mut snap = guide_snapshot(MultiClusterMode::Global);
    let dr = live_mut(
        &mut snap,
        "mgmt-cluster",
        "DestinationRule",
        "istio-system",
        "reviews-bookinfo-remote-cluster",
    );
    dr["spec"]["trafficPolicy"]["outlierDetection"]
        .as_object_mut()
        .unwrap()
        .remove("maxEjectionPercent");
    let dr = live_mut(
        &mut snap,
        "mgmt-cluster",
        "DestinationRule",
        "bookinfo",
        "reviews",
    );
    dr["spec"]["trafficPolicy"]
        .as_object_mut()
        .unwrap()
        .remove("outlierDetection");
    let fs = describe(&snap);
    let secondary_od = fs.backing_services[1].outlier_detection[0]
        .values
        .as_ref()
        .unwrap();
    assert_eq!(secondary_od.max_ejection_percent, 10);
    assert_eq!(secondary_od.defaulted, ["maxEjectionPercent"]);
    assert!(fs.backing_services[0].outlier_detection[0].values.is_none());
    let find = |needle: &str| {
        fs.problems
            .iter()
            .find(|p| p.message.contains(needle))
            .unwrap_or_else(|| panic!("no problem with {needle:?} in {:#?}", fs.problems))
    };
    let p = find("has no outlier detection for callers in mgmt-cluster");
    assert_eq!(p.severity, Severity::Error);
    assert!(
        p.message
            .starts_with("backing service reviews.bookinfo@mgmt-cluster")
    );
    let p = find("maxEjectionPercent is 10 (unset: Istio's default)");
    assert_eq!(p.severity, Severity::Warning);
    // Both rules are also reported as changed.
    find(
        "DestinationRule bookinfo/reviews in mgmt-cluster was changed: spec.trafficPolicy.outlierDetection",
    );
}

#[test]
fn unreachable_remote_cluster_is_unknown_not_a_failure() {
    let mut snap = guide_snapshot(MultiClusterMode::Global);
    let err = "cluster remote-cluster (context remote-cluster, https://remote-cluster:6443) did not answer within 10s".to_string();
    snap.clusters.get_mut("remote-cluster").unwrap().error = Some(err.clone());
    snap.live.insert("remote-cluster".into(), Err(err.clone()));
    snap.endpoints
        .insert(svc("remote-cluster", "reviews"), Err(err.clone()));
    let fs = describe(&snap);
    let secondary = &fs.backing_services[1];
    assert_eq!(secondary.cluster_error.as_deref(), Some(err.as_str()));
    assert_eq!(secondary.discovered, None);
    assert_eq!(secondary.in_sync, None);
    // Callers' side (mgmt-cluster) is still read.
    assert!(secondary.outlier_detection[0].values.is_some());
    assert!(
        fs.problems.iter().all(|p| p.severity == Severity::Warning),
        "{:#?}",
        fs.problems
    );
    assert!(fs.problems[0].message.contains("could not be read"));
    let rows = cluster_rows(&snap);
    assert_eq!(rows[0].name, "mgmt-cluster");
    assert_eq!(rows[1].error.as_deref(), Some(err.as_str()));
}

#[test]
fn multi_primary_reads_the_per_cluster_subset() {
    let snap = guide_snapshot(MultiClusterMode::MultiPrimary);
    let fs = describe(&snap);
    assert_eq!(fs.problems, vec![], "{:#?}", fs.problems);
    let od = &fs.backing_services[1].outlier_detection[0];
    assert_eq!(od.host, "reviews.bookinfo.svc.cluster.local");
    let source = od.source.as_deref().unwrap();
    assert!(
        source == "DestinationRule bookinfo/reviews subset cluster-remote-cluster"
            || source == "DestinationRule bookinfo/reviews",
        "{source}"
    );
    assert_eq!(od.values.as_ref().unwrap().consecutive_5xx_errors, 1);
}

#[test]
fn multi_primary_cluster_id_problems_show_in_the_failover_service_and_the_mesh() {
    use crate::testing::inspect::set_secrets;
    let mut snap = guide_snapshot(MultiClusterMode::MultiPrimary);
    set_secrets(
        &mut snap,
        "mgmt-cluster",
        &[("istio-remote-secret-cluster2", "cluster2")],
    );
    set_secrets(
        &mut snap,
        "remote-cluster",
        &[("istio-remote-secret-cluster1", "cluster1")],
    );
    assert_eq!(describe(&snap).problems, vec![]);
    let mesh = &meshes(&snap, Some("mgmt-cluster"))[0];
    assert_eq!(mesh.istio_cluster_id.as_deref(), Some("cluster1"));
    assert_eq!(mesh.problems, vec![]);

    // mgmt-cluster's remote secret for remote-cluster, made with the context name.
    set_secrets(
        &mut snap,
        "mgmt-cluster",
        &[("istio-remote-secret-remote-cluster", "remote-cluster")],
    );
    let fs = describe(&snap);
    assert_eq!(fs.problems.len(), 1, "{:#?}", fs.problems);
    assert_eq!(fs.problems[0].severity, Severity::Error);
    assert!(
        fs.problems[0].message.starts_with(
            "mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\""
        ),
        "{:#?}",
        fs.problems
    );
    assert!(
        fs.problems[0]
            .message
            .contains("; recreate it under remote-cluster's cluster ID")
    );
    let mesh = &meshes(&snap, Some("mgmt-cluster"))[0];
    assert_eq!(mesh.problems.len(), 1);
    assert_eq!(meshes(&snap, Some("remote-cluster"))[0].problems, vec![]);
}

#[test]
fn invalid_and_stale_status_are_errors() {
    let mut snap = guide_snapshot(MultiClusterMode::Global);
    let fs = &mut snap.failover_services[0];
    fs.metadata.generation = Some(2);
    let st = fs.status.as_mut().unwrap();
    st.state = ApprovalState::Invalid;
    st.errors
        .push("*v1alpha2.Mesh with id nope.service-mesh-hub. not found".into());
    let view = describe(&snap);
    assert_eq!(
        view.problems
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>(),
        [
            "FailoverService service-mesh-hub/reviews-failover is INVALID, not ACCEPTED: *v1alpha2.Mesh with id nope.service-mesh-hub. not found",
            "the status of FailoverService service-mesh-hub/reviews-failover is for generation 1 but its spec is at generation 2: its spec was changed without `kubectl smh apply`, so the generated objects may not match it",
        ]
    );
    assert!(!view.status.up_to_date);
}

#[test]
fn traffic_policy_view_resolves_targets_and_fields() {
    let snap = guide_snapshot(MultiClusterMode::Global);
    let drift = snap.drift();
    let tps = traffic_policies(&snap, &drift, None, None);
    let names: Vec<String> = tps
        .iter()
        .map(|t| format!("{}/{}", t.namespace, t.name))
        .collect();
    assert_eq!(
        names,
        [
            "bookinfo/reviews-shift-failover",
            "service-mesh-hub/mgmt-reviews-outlier"
        ]
    );
    let outlier = &tps[1];
    assert_eq!(outlier.problems, vec![]);
    let targets: Vec<(&str, &str)> = outlier
        .targets
        .iter()
        .map(|t| (t.cluster.as_str(), t.state.as_str()))
        .collect();
    assert_eq!(
        targets,
        [("mgmt-cluster", "ACCEPTED"), ("remote-cluster", "ACCEPTED")]
    );
    assert_eq!(
        outlier.targets[0].key,
        "reviews-bookinfo-mgmt-cluster.service-mesh-hub."
    );
    assert_eq!(
        outlier.sets,
        [
            "outlierDetection: consecutiveErrors 1 (as consecutive5xxErrors), interval 10s (SMH default), baseEjectionTime 30s (SMH default), maxEjectionPercent 100 (SMH default)"
        ]
    );
    assert_eq!(
        outlier.destination_selector,
        ["kubeServiceRefs: reviews.bookinfo@mgmt-cluster, reviews.bookinfo@remote-cluster"]
    );
    assert_eq!(outlier.source_selector, ["every workload"]);
    assert_eq!(outlier.generated.len(), 3, "{:?}", outlier.generated);
    assert_eq!(
        tps[0].sets,
        ["trafficShift: FailoverService service-mesh-hub/reviews-failover"]
    );
    let json = serde_json::to_value(&tps[1]).unwrap();
    assert_eq!(json["status"]["state"], "ACCEPTED");
    assert_eq!(json["targets"][1]["cluster"], "remote-cluster");
    assert_eq!(json["generated"][0]["state"], "inSync");
}

#[test]
fn mesh_view_lists_failover_services_and_errors() {
    let mut snap = guide_snapshot(MultiClusterMode::Global);
    snap.clusters.get_mut("remote-cluster").unwrap().error = Some("unreachable".into());
    let meshes = meshes(&snap, None);
    assert_eq!(meshes.len(), 2);
    assert_eq!(meshes[0].cluster, "mgmt-cluster");
    assert_eq!(
        meshes[0].mesh.as_deref(),
        Some("istiod-istio-system-mgmt-cluster")
    );
    assert_eq!(
        meshes[0].failover_services,
        ["service-mesh-hub/reviews-failover"]
    );
    assert_eq!(meshes[0].istiod.as_deref(), Some("istio-system/istiod"));
    assert!(!meshes[1].reachable);
    assert!(meshes[1].failover_services.is_empty());
    let only = super::meshes(&snap, Some("istiod-istio-system-remote-cluster"));
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].cluster, "remote-cluster");
}

#[test]
fn json_document_has_stable_names() {
    let snap = guide_snapshot(MultiClusterMode::Global);
    let drift = snap.drift();
    let doc = DescribeDocument {
        clusters: cluster_rows(&snap),
        failover_services: Some(failover_services(&snap, &drift, None, None)),
        traffic_policies: None,
        meshes: None,
    };
    let v = serde_json::to_value(&doc).unwrap();
    let fs = &v["failoverServices"][0];
    assert_eq!(fs["name"], "reviews-failover");
    assert_eq!(fs["port"], json!({"number": 9080, "protocol": "http"}));
    let b = &fs["backingServices"][1];
    assert_eq!(b["priority"], 2);
    assert_eq!(b["role"], "secondary");
    assert_eq!(b["endpoints"], json!({"ready": 1, "total": 1}));
    assert_eq!(b["inSync"], true);
    assert_eq!(
        b["outlierDetection"][0]["values"],
        json!({"consecutive5xxErrors": 1, "interval": "10s", "baseEjectionTime": "30s", "maxEjectionPercent": 100, "defaulted": []})
    );
    assert_eq!(b["generated"][0]["kind"], "DestinationRule");
    // The remote service's rule in its own cluster comes from the outlier policy.
    assert_eq!(b["generated"][1]["cluster"], "remote-cluster");
    assert_eq!(
        b["generated"][1]["owners"],
        json!([{"kind": "TrafficPolicy", "namespace": "service-mesh-hub", "name": "mgmt-reviews-outlier"}])
    );
    assert!(v.get("meshes").is_none());
    assert_eq!(v["clusters"][0]["mgmt"], true);
}

#[test]
fn describe_says_which_strategy_and_why() {
    let global = describe(&guide_snapshot(MultiClusterMode::Global));
    assert!(
        global.explanations.iter().any(|e| e.text.contains(
            "strategy aggregate (the default strategy, auto; native is not exact: mgmt-cluster is in global mode"
        )),
        "{:?}",
        global.explanations
    );
    let mp = describe(&guide_snapshot(MultiClusterMode::MultiPrimary));
    assert!(
        mp.explanations.iter().any(|e| e
            .text
            .contains("strategy native (the default strategy, auto)")),
        "{:?}",
        mp.explanations
    );
}
