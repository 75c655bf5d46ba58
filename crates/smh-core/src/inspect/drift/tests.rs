//! Unit tests of `inspect::drift`, moved out of `drift.rs` to keep each file short.

use serde_json::json;

use super::*;

fn dr(od: Value) -> Value {
    json!({
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "DestinationRule",
        "metadata": {"name": "reviews", "namespace": "bookinfo",
            "labels": {"owner.networking.smh.solo.io": "service-mesh-hub",
                       "app.kubernetes.io/managed-by": "kubectl-smh"}},
        "spec": {"host": "reviews.bookinfo.svc.cluster.local",
                 "trafficPolicy": {"outlierDetection": od, "tls": {"mode": "ISTIO_MUTUAL"}}}
    })
}

fn od() -> Value {
    json!({"consecutive5xxErrors": 1, "interval": "10s", "baseEjectionTime": "30s", "maxEjectionPercent": 100})
}

/// The live form: served as v1, with server metadata, an extra annotation and label,
/// and kubectl-smh's managedFields.
fn live_of(expected: &Value) -> Value {
    let mut l = expected.clone();
    l["apiVersion"] = json!("networking.istio.io/v1");
    let meta = l["metadata"].as_object_mut().unwrap();
    meta.insert("uid".into(), json!("u-1"));
    meta.insert("resourceVersion".into(), json!("42"));
    meta.insert("generation".into(), json!(1));
    meta.insert(
        "annotations".into(),
        json!({"kubectl.kubernetes.io/last-applied-configuration": "{}"}),
    );
    meta["labels"]["team"] = json!("reviews");
    meta.insert(
            "managedFields".into(),
            json!([{
                "manager": "kubectl-smh", "operation": "Apply", "apiVersion": "networking.istio.io/v1alpha3",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {"f:owner.networking.smh.solo.io": {}, "f:app.kubernetes.io/managed-by": {}}},
                             "f:spec": {"f:host": {}, "f:trafficPolicy": {"f:outlierDetection": {
                                 "f:consecutive5xxErrors": {}, "f:interval": {}, "f:baseEjectionTime": {}, "f:maxEjectionPercent": {}},
                                 "f:tls": {"f:mode": {}}}}}
            }]),
        );
    l
}

fn add_manager(live: &mut Value, manager: &str, fields: Value) {
    live["metadata"]["managedFields"]
            .as_array_mut()
            .unwrap()
            .push(json!({"manager": manager, "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": fields}));
}

#[test]
fn served_version_server_metadata_and_foreign_labels_are_not_drift() {
    let e = dr(od());
    assert_eq!(compare(&e, &live_of(&e)), DriftState::InSync);
    // Numbers re-encoded as floats are the same value.
    let mut l = live_of(&e);
    l["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] = json!(1.0);
    assert_eq!(compare(&e, &l), DriftState::InSync);
}

#[test]
fn changed_field_names_path_and_manager() {
    let e = dr(od());
    let mut l = live_of(&e);
    l["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] = json!(5);
    add_manager(
        &mut l,
        "kubectl-edit",
        json!({"f:spec": {"f:trafficPolicy": {"f:outlierDetection": {"f:consecutive5xxErrors": {}}}}}),
    );
    let state = compare(&e, &l);
    assert_eq!(
        state,
        DriftState::Modified {
            fields: vec!["spec.trafficPolicy.outlierDetection.consecutive5xxErrors".into()],
            by: vec!["kubectl-edit".into()],
        }
    );
    assert_eq!(
        state.to_string(),
        "modified by kubectl-edit: spec.trafficPolicy.outlierDetection.consecutive5xxErrors"
    );
}

#[test]
fn removed_field_has_no_known_owner() {
    let e = dr(od());
    let mut l = live_of(&e);
    l["spec"]["trafficPolicy"]["outlierDetection"]
        .as_object_mut()
        .unwrap()
        .remove("maxEjectionPercent");
    assert_eq!(
        compare(&e, &l),
        DriftState::Modified {
            fields: vec!["spec.trafficPolicy.outlierDetection.maxEjectionPercent".into()],
            by: vec![],
        }
    );
}

#[test]
fn extra_spec_fields_count_only_when_someone_owns_them() {
    let e = dr(od());
    // A field nobody owns: a server default, not drift.
    let mut l = live_of(&e);
    l["spec"]["trafficPolicy"]["outlierDetection"]["minHealthPercent"] = json!(0);
    assert_eq!(compare(&e, &l), DriftState::InSync);
    // The same field written by someone: drift, named with its writer.
    add_manager(
        &mut l,
        "ops-script",
        json!({"f:spec": {"f:trafficPolicy": {"f:outlierDetection": {"f:minHealthPercent": {}}}}}),
    );
    assert_eq!(
        compare(&e, &l),
        DriftState::Modified {
            fields: vec!["spec.trafficPolicy.outlierDetection.minHealthPercent".into()],
            by: vec!["ops-script".into()],
        }
    );
    // Without managedFields nothing says it is a default: drift, writer unknown.
    l["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    assert_eq!(
        compare(&e, &l),
        DriftState::Modified {
            fields: vec!["spec.trafficPolicy.outlierDetection.minHealthPercent".into()],
            by: vec![],
        }
    );
}

#[test]
fn lists_compare_by_position_and_length() {
    let sub = |n: &str| json!({"name": n, "labels": {"version": n}});
    let mut e = dr(od());
    e["spec"]["subsets"] = json!([sub("v1"), sub("v2")]);
    let mut l = live_of(&e);
    l["spec"]["subsets"][1]["name"] = json!("v3");
    // An extra key inside a list item is a change of the (atomic) list.
    l["spec"]["subsets"][0]["trafficPolicy"] = json!({"tls": {"mode": "DISABLE"}});
    add_manager(&mut l, "helm", json!({"f:spec": {"f:subsets": {}}}));
    assert_eq!(
        compare(&e, &l),
        DriftState::Modified {
            fields: vec![
                "spec.subsets[0].trafficPolicy".into(),
                "spec.subsets[1].name".into()
            ],
            by: vec!["helm".into()],
        }
    );
    let mut l = live_of(&e);
    l["spec"]["subsets"].as_array_mut().unwrap().pop();
    assert_eq!(
        compare(&e, &l),
        DriftState::Modified {
            fields: vec!["spec.subsets".into()],
            by: vec![],
        }
    );
}

#[test]
fn our_labels_and_annotations_only() {
    let mut e = dr(od());
    e["metadata"]["annotations"] =
        json!({"federation.networking.smh.solo.io": "reviews.bookinfo.remote-cluster"});
    let mut l = live_of(&e);
    l["metadata"]["annotations"] =
        json!({"federation.networking.smh.solo.io": "x", "note": "mine"});
    l["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("owner.networking.smh.solo.io");
    let state = compare(&e, &l);
    assert_eq!(
        state,
        DriftState::Modified {
            fields: vec![
                "metadata.labels[\"owner.networking.smh.solo.io\"]".into(),
                "metadata.annotations[\"federation.networking.smh.solo.io\"]".into(),
            ]
            .into_iter()
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect(),
            by: vec![],
        }
    );
}

#[test]
fn status_entries_and_kubectl_smh_are_never_named() {
    let e = dr(od());
    let mut l = live_of(&e);
    l["spec"]["host"] = json!("reviews");
    l["metadata"]["managedFields"].as_array_mut().unwrap().push(
        json!({"manager": "status-writer", "operation": "Update", "subresource": "status",
                         "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:host": {}}}}),
    );
    // kubectl-smh still owns spec.host and the status entry does not count: the value
    // reads as kubectl-smh's own, out of date.
    assert_eq!(
        compare(&e, &l),
        DriftState::OutOfDate {
            fields: vec!["spec.host".into()],
            invalid: vec![],
        }
    );
}

#[test]
fn ancestors_own_their_descendants() {
    let e = dr(od());
    let mut l = live_of(&e);
    l["spec"]["trafficPolicy"]["outlierDetection"]["interval"] = json!("1s");
    // The whole outlierDetection map owned by another writer (`.` marks the node).
    add_manager(
        &mut l,
        "argocd",
        json!({"f:spec": {"f:trafficPolicy": {"f:outlierDetection": {".": {}}}}}),
    );
    assert_eq!(
        compare(&e, &l),
        DriftState::Modified {
            fields: vec!["spec.trafficPolicy.outlierDetection.interval".into()],
            by: vec!["argocd".into()],
        }
    );
}

/// The clusters changed, not the object: gloo-mesh#947's DestinationRule, whose
/// outlier detection the configuration no longer generates.
#[test]
fn as_applied_objects_are_out_of_date_not_changed() {
    let applied = dr(od());
    let live = live_of(&applied);
    let mut now = applied.clone();
    now["spec"]["trafficPolicy"]
        .as_object_mut()
        .unwrap()
        .remove("outlierDetection");
    let state = compare(&now, &live);
    assert_eq!(
        state,
        DriftState::OutOfDate {
            fields: vec!["spec.trafficPolicy.outlierDetection".into()],
            invalid: vec![],
        }
    );
    assert_eq!(
        state.to_string(),
        "out of date: spec.trafficPolicy.outlierDetection"
    );
    // A value kubectl-smh set and still owns alone: out of date too.
    let mut now = applied.clone();
    now["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] = json!(3);
    assert_eq!(
        compare(&now, &live),
        DriftState::OutOfDate {
            fields: vec!["spec.trafficPolicy.outlierDetection.consecutive5xxErrors".into()],
            invalid: vec![],
        }
    );
    // The same difference where another manager owns the field: changed by it.
    let mut edited = live.clone();
    add_manager(
        &mut edited,
        "kubectl-edit",
        json!({"f:spec": {"f:trafficPolicy": {"f:outlierDetection": {"f:consecutive5xxErrors": {}}}}}),
    );
    assert_eq!(
        compare(&now, &edited),
        DriftState::Modified {
            fields: vec!["spec.trafficPolicy.outlierDetection.consecutive5xxErrors".into()],
            by: vec!["kubectl-edit".into()],
        }
    );
    // Without managedFields nothing says who wrote the value: changed.
    let mut bare = live.clone();
    bare["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    assert!(matches!(
        compare(&now, &bare),
        DriftState::Modified { by, .. } if by.is_empty()
    ));
    // One differing field kubectl-smh owns and one the live object lacks (a removal
    // leaves no owner): changed, as the removal may be someone's.
    let mut now = applied.clone();
    now["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] = json!(3);
    now["spec"]["trafficPolicy"]["loadBalancer"] = json!({"simple": "ROUND_ROBIN"});
    assert_eq!(
        compare(&now, &live),
        DriftState::Modified {
            fields: vec![
                "spec.trafficPolicy.loadBalancer".into(),
                "spec.trafficPolicy.outlierDetection.consecutive5xxErrors".into()
            ],
            by: vec![],
        }
    );
}

#[test]
fn out_of_date_problems_advise_apply_only_when_the_configuration_is_valid() {
    use crate::model::diag::{Diagnostic, Severity};
    let owner = ObjectId {
        kind: "TrafficPolicy".into(),
        namespace: "bookinfo".into(),
        name: "reviews-shift-failover".into(),
    };
    let other = ObjectId {
        kind: "FailoverService".into(),
        namespace: "service-mesh-hub".into(),
        name: "reviews-failover".into(),
    };
    let mut drifts = vec![Drift {
        key: ObjectKey {
            cluster: "mgmt-cluster".into(),
            kind: "DestinationRule".into(),
            namespace: "bookinfo".into(),
            name: "reviews".into(),
        },
        owners: vec![owner.clone()],
        state: DriftState::OutOfDate {
            fields: vec!["spec.trafficPolicy.outlierDetection".into()],
            invalid: vec![],
        },
    }];
    assert_eq!(
        drifts[0].problem().unwrap(),
        "DestinationRule bookinfo/reviews in mgmt-cluster is out of date: it is as kubectl-smh applied it, but the configuration translates differently against the clusters as they are now (spec.trafficPolicy.outlierDetection); run `kubectl smh apply` to update it"
    );
    let diag = |id: &ObjectId, field: &str, message: &str| Diagnostic {
        severity: Severity::Error,
        source: None,
        object: Some(id.clone()),
        field: Some(field.into()),
        position: None,
        message: message.into(),
        status_target: None,
    };
    let errors = vec![
        diag(
            &other,
            "spec.backingServices[1].kubeService",
            "Backing service reviews.bookinfo.remote-cluster not found in SMH discovery resources.",
        ),
        diag(
            &owner,
            "spec.trafficShift",
            "invalid traffic shift destination",
        ),
        diag(
            &other,
            "spec.backingServices[1].kubeService",
            "Backing service reviews.bookinfo.remote-cluster not found in SMH discovery resources.",
        ),
    ];
    explain_out_of_date(&mut drifts, &errors);
    let DriftState::OutOfDate { invalid, .. } = &drifts[0].state else {
        panic!("{:?}", drifts[0].state);
    };
    // The owner's error first, then the others; duplicates dropped.
    assert_eq!(invalid.len(), 2, "{invalid:?}");
    assert!(
        invalid[0].starts_with("TrafficPolicy bookinfo/reviews-shift-failover: spec.trafficShift"),
        "{invalid:?}"
    );
    assert!(
        invalid[1].starts_with(
            "FailoverService service-mesh-hub/reviews-failover: spec.backingServices[1]"
        ),
        "{invalid:?}"
    );
    let problem = drifts[0].problem().unwrap();
    assert!(problem.contains(&format!("the configuration is no longer valid: {} (and 1 more error); fix the configuration or the clusters", invalid[0])), "{problem}");
    assert!(!problem.contains("to update it"), "{problem}");
    let json = serde_json::to_value(&drifts[0]).unwrap();
    assert_eq!(json["state"], "outOfDate");
    assert_eq!(json["invalid"].as_array().unwrap().len(), 2);
}

#[test]
fn reconcile_finds_missing_modified_and_unexpected() {
    use crate::istio::{
        DestinationRule, DestinationRuleSpec, IstioObject, ServiceEntry, ServiceEntrySpec,
    };
    let mk_dr = IstioObject::from(DestinationRule::namespaced(
        "bookinfo",
        "reviews",
        DestinationRuleSpec {
            host: "reviews.bookinfo.svc.cluster.local".into(),
            ..Default::default()
        },
    ));
    let mk_se = IstioObject::from(ServiceEntry::namespaced(
        "service-mesh-hub",
        "reviews-failover",
        ServiceEntrySpec {
            hosts: vec!["reviews-failover.bookinfo.global".into()],
            ..Default::default()
        },
    ));
    let owner = ObjectId {
        kind: "FailoverService".into(),
        namespace: "service-mesh-hub".into(),
        name: "reviews-failover".into(),
    };
    let expected = vec![
        GeneratedObject {
            cluster: "mgmt-cluster".into(),
            owners: vec![owner.clone()],
            object: mk_dr.clone(),
        },
        GeneratedObject {
            cluster: "mgmt-cluster".into(),
            owners: vec![owner.clone()],
            object: mk_se.clone(),
        },
    ];
    let mut changed = mk_dr.to_value();
    changed["spec"]["host"] = json!("elsewhere");
    let mut stale = mk_dr.to_value();
    stale["metadata"]["name"] = json!("ratings");
    let live = vec![
        ("mgmt-cluster".to_string(), changed),
        ("mgmt-cluster".to_string(), stale),
    ];
    let drifts = reconcile(&expected, &live);
    let states: Vec<(String, &str)> = drifts
        .iter()
        .map(|d| (d.key.to_string(), d.state.label()))
        .collect();
    assert_eq!(
        states,
        [
            (
                "DestinationRule bookinfo/ratings in mgmt-cluster".to_string(),
                "unexpected"
            ),
            (
                "DestinationRule bookinfo/reviews in mgmt-cluster".to_string(),
                "modified"
            ),
            (
                "ServiceEntry service-mesh-hub/reviews-failover in mgmt-cluster".to_string(),
                "missing"
            ),
        ]
    );
    assert_eq!(drifts[1].owners, vec![owner]);
    assert!(drifts[0].owners.is_empty());
    assert_eq!(
        drifts[1].problem().unwrap(),
        "DestinationRule bookinfo/reviews in mgmt-cluster was changed: spec.host"
    );
    let json = serde_json::to_value(&drifts[1]).unwrap();
    assert_eq!(json["state"], "modified");
    assert_eq!(json["fields"], json!(["spec.host"]));
    assert_eq!(json["cluster"], "mgmt-cluster");
}
