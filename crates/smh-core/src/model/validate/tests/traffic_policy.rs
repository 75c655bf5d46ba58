//! TrafficPolicy: SMH's pre-check and the errors its translation reported.

use super::*;

#[test]
fn traffic_target_not_found() {
    let od = OUTLIER.replacen(
        "clusterName: remote-cluster",
        "clusterName: other-cluster",
        1,
    );
    let d = run(&[&od], &example_topology());
    assert_eq!(
        rows(&d),
        vec![err(
            "spec.destinationSelector[0].kubeServiceRefs.services[1]",
            "TrafficTarget reviews.bookinfo.other-cluster not found",
            Some(StatusTarget::TopLevel)
        )]
    );
}

#[test]
fn shift_to_failover_service_not_in_input() {
    let d = run_default(&[SHIFT]);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(
        d[0].field.as_deref(),
        Some("spec.trafficShift.destinations[0].failoverService")
    );
    assert!(d[0].message.contains("traffic-shift: invalid traffic shift destination reviews-failover.service-mesh-hub., FailoverService not found: *v1alpha2.FailoverService with id reviews-failover.service-mesh-hub. not found"), "{}", d[0].message);
    // With the complete picture it is SMH's error, per selected traffic target.
    let m = manifests(&[SHIFT]);
    let opts = ValidateOptions {
        complete: true,
        ..Default::default()
    };
    let d = validate_with(&m, &Topology::from_manifests(&m), &opts);
    assert_eq!(
        rows(&d),
        vec![err(
            "spec.trafficShift.destinations[0].failoverService",
            "traffic-shift: invalid traffic shift destination reviews-failover.service-mesh-hub., FailoverService not found: *v1alpha2.FailoverService with id reviews-failover.service-mesh-hub. not found",
            Some(StatusTarget::TrafficTarget(
                "reviews-bookinfo-mgmt-cluster.service-mesh-hub.".into()
            ))
        )]
    );
    // A FailoverService that was in the input but rejected for schema errors is not "missing".
    let opts = ValidateOptions {
        complete: true,
        rejected: vec![ObjectId {
            kind: "FailoverService".into(),
            namespace: "service-mesh-hub".into(),
            name: "reviews-failover".into(),
        }],
    };
    assert_eq!(
        validate_with(&m, &Topology::from_manifests(&m), &opts),
        vec![]
    );
}

const KUBE_SHIFT: &str = "apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: shift, namespace: bookinfo}
spec:
  destinationSelector:
  - kubeServiceRefs:
      services: [{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}]
  trafficShift:
    destinations:
    - kubeService: {name: reviews, namespace: bookinfo, clusterName: remote-cluster, subset: {version: v3}}
      weight: 75
    - kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}
      weight: 25
";

fn tt(key: &str) -> Option<StatusTarget> {
    Some(StatusTarget::TrafficTarget(key.to_string()))
}

#[test]
fn kube_shift_destinations() {
    assert_eq!(run(&[KUBE_SHIFT], &example_topology()), vec![]);
    let bad = KUBE_SHIFT.replace("clusterName: remote-cluster", "clusterName: nowhere");
    assert_eq!(
        rows(&run(&[&bad], &example_topology())),
        vec![err(
            "spec.trafficShift.destinations[0].kubeService",
            "traffic-shift: invalid traffic shift destination reviews.bookinfo.nowhere: TrafficTarget not found for kube service reviews.bookinfo.nowhere",
            tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
        )]
    );
    let bad = KUBE_SHIFT.replace(
        "clusterName: remote-cluster, subset",
        "clusterName: remote-cluster, port: 9081, subset",
    );
    assert_eq!(
        rows(&run(&[&bad], &example_topology())),
        vec![err(
            "spec.trafficShift.destinations[0].kubeService.port",
            "traffic-shift: specified port 9081 does not exist for traffic shift destination service reviews.bookinfo.remote-cluster",
            tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
        )]
    );
    let t = TOPOLOGY.replacen(
        "  - name: reviews\n    namespace: bookinfo\n    ports:\n    - {name: http, port: 9080}\n    labels: {app: reviews, service: reviews}\n  - name: ratings",
        "  - name: reviews\n    namespace: bookinfo\n    ports:\n    - {name: http, port: 9080}\n    - {name: grpc, port: 9090}\n    labels: {app: reviews, service: reviews}\n  - name: ratings",
        1,
    );
    assert_ne!(t, TOPOLOGY);
    assert_eq!(
        rows(&run(&[KUBE_SHIFT], &topo(&t))),
        vec![err(
            "spec.trafficShift.destinations[0].kubeService",
            "traffic-shift: must provide port for traffic shift destination service reviews.bookinfo.remote-cluster with multiple ports (2) defined",
            tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
        )]
    );
}

#[test]
fn per_target_errors_have_no_status_target_when_the_policy_failed_its_precheck() {
    let bad = KUBE_SHIFT
        .replace("clusterName: remote-cluster, subset", "clusterName: nowhere, subset")
        .replace(
            "services: [{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}]",
            "services: [{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}, {name: xx, namespace: yy, clusterName: mgmt-cluster}]",
        );
    let r = rows(&run(&[&bad], &example_topology()));
    assert_eq!(r[0].3, Some(StatusTarget::TopLevel));
    assert_eq!(r[1].3, None, "{r:#?}");
}

#[test]
fn mirror_destinations() {
    let tp = "apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: mirror, namespace: bookinfo}
spec:
  destinationSelector:
  - kubeServiceRefs:
      services: [{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}]
  mirror:
    kubeService: {name: ratings, namespace: bookinfo, clusterName: remote-cluster}
    percentage: 50
";
    assert_eq!(run(&[tp], &example_topology()), vec![]);
    let bad = tp.replace("name: ratings", "name: nope");
    assert_eq!(
        messages(&run(&[&bad], &example_topology())),
        vec![
            "mirror: invalid mirror destination: TrafficTarget not found for kube service nope.bookinfo.remote-cluster"
        ]
    );
    let bad = tp.replace("percentage: 50", "percentage: 50\n    port: 8080");
    assert_eq!(
        messages(&run(&[&bad], &example_topology())),
        vec![
            "mirror: specified port 8080 does not exist for mirror destination service ratings.bookinfo.remote-cluster"
        ]
    );
    let bad = tp.replace(
        "    kubeService: {name: ratings, namespace: bookinfo, clusterName: remote-cluster}\n",
        "",
    );
    assert_eq!(
        rows(&run(&[&bad], &example_topology())),
        vec![err(
            "spec.mirror.kubeService",
            "Required value: a mirror needs a kubeService destination",
            None
        )]
    );
}

#[test]
fn outlier_detection_conflict_between_policies() {
    let second = OUTLIER
        .replace("mgmt-reviews-outlier", "zz-second")
        .replace("consecutiveErrors: 1", "consecutiveErrors: 3");
    let d = run_default(&[OUTLIER, &second, FS]);
    assert_eq!(
        rows(&d),
        vec![
            err(
                "spec.outlierDetection",
                "outlier-detection: field outlierDetection is already owned by *v1alpha2.TrafficPolicy [mgmt-reviews-outlier.service-mesh-hub.] (priority 0)",
                tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
            ),
            err(
                "spec.outlierDetection",
                "outlier-detection: field outlierDetection is already owned by *v1alpha2.TrafficPolicy [mgmt-reviews-outlier.service-mesh-hub.] (priority 0)",
                tt("reviews-bookinfo-remote-cluster.service-mesh-hub.")
            ),
        ]
    );
    assert_eq!(d[0].object.as_ref().unwrap().name, "zz-second");
    // The same values (defaults applied) do not conflict.
    let same = OUTLIER
        .replace("mgmt-reviews-outlier", "zz-second")
        .replace(
            "consecutiveErrors: 1",
            "consecutiveErrors: 1\n    interval: 10s\n    maxEjectionPercent: 100",
        );
    assert_eq!(run_default(&[OUTLIER, &same, FS]), vec![]);
    // Order is by name.namespace. unless status says ACCEPTED: the earlier accepted one wins.
    let first = OUTLIER
        .replace("mgmt-reviews-outlier", "aa-first")
        .replace("consecutiveErrors: 1", "consecutiveErrors: 2");
    let d = run_default(&[OUTLIER, &first]);
    assert_eq!(d[0].object.as_ref().unwrap().name, "mgmt-reviews-outlier");
    let accepted = format!(
        "{OUTLIER}status:\n  state: ACCEPTED\n  trafficTargets:\n    reviews-bookinfo-mgmt-cluster.service-mesh-hub.:\n      state: ACCEPTED\n"
    );
    let d = run_default(&[&accepted, &first]);
    assert_eq!(d.len(), 2, "{d:#?}");
    let by_target: Vec<(&str, Option<StatusTarget>)> = d
        .iter()
        .map(|x| {
            (
                x.object.as_ref().unwrap().name.as_str(),
                x.status_target.clone(),
            )
        })
        .collect();
    assert!(by_target.contains(&(
        "aa-first",
        tt("reviews-bookinfo-mgmt-cluster.service-mesh-hub.")
    )));
    assert!(by_target.contains(&(
        "mgmt-reviews-outlier",
        tt("reviews-bookinfo-remote-cluster.service-mesh-hub.")
    )));
}

#[test]
fn tls_conflict_between_policies() {
    let tls = |name: &str, mode: &str| {
        format!(
            "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {{name: {name}, namespace: bookinfo}}\nspec:\n  destinationSelector:\n  - kubeServiceRefs:\n      services: [{{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}}]\n  mtls:\n    istio: {{tlsMode: {mode}}}\n"
        )
    };
    let (a, b) = (tls("a", "SIMPLE"), tls("b", "DISABLE"));
    assert_eq!(
        messages(&run_default(&[&a, &b])),
        vec![
            "tls: field tls is already owned by *v1alpha2.TrafficPolicy [a.bookinfo.] (priority 0)"
        ]
    );
    // ISTIO_MUTUAL is the default: setting it owns nothing.
    let (a, b) = (tls("a", "ISTIO_MUTUAL"), tls("b", "DISABLE"));
    assert_eq!(run_default(&[&a, &b]), vec![]);
}

#[test]
fn conflicts_respect_source_selectors() {
    // Different outlier detection for different source clusters: no DR gets both.
    let a = OUTLIER.replace(
        "spec:\n",
        "spec:\n  sourceSelector:\n  - clusters: [mgmt-cluster]\n",
    );
    let b = OUTLIER
        .replace("mgmt-reviews-outlier", "b")
        .replace("consecutiveErrors: 1", "consecutiveErrors: 2")
        .replace(
            "spec:\n",
            "spec:\n  sourceSelector:\n  - clusters: [remote-cluster]\n",
        );
    let d = run_default(&[&a, &b]);
    assert!(d.iter().all(|x| x.severity == Severity::Warning), "{d:#?}");
}
