//! Field checks: what the CRD schema, the API server or istiod would reject.

use super::*;

#[test]
fn durations() {
    let e = field_errors(
        "  retries: {attempts: 2, perTryTimeout: 1x}\n  outlierDetection: {interval: -1s, baseEjectionTime: 1m30s}\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "spec.retries.perTryTimeout",
            "spec.outlierDetection.interval"
        ],
        "{e:#?}"
    );
    assert!(e[0].1.starts_with("Invalid value: invalid duration \"1x\""));
    let e = field_errors("  requestTimeout: \"5\"\n");
    assert_eq!(e[0].0, "spec.requestTimeout");
    assert!(e[0].1.contains("missing unit"), "{}", e[0].1);
}

#[test]
fn percentages_and_fault_injection() {
    assert_eq!(
        field_errors("  faultInjection: {abort: {httpStatus: 503}, percentage: 101}\n"),
        vec![(
            "spec.faultInjection.percentage".into(),
            "Invalid value: 101: must be 0, or between 0.0001 and 100".into()
        )]
    );
    assert_eq!(
        field_errors("  faultInjection: {abort: {httpStatus: 700}, percentage: 10}\n"),
        vec![(
            "spec.faultInjection.abort.httpStatus".into(),
            "Invalid value: 700: must be an HTTP status between 200 and 599".into()
        )]
    );
    assert_eq!(
        field_errors("  faultInjection: {percentage: 10}\n"),
        vec![(
            "spec.faultInjection".into(),
            "Required value: one of fixedDelay, exponentialDelay or abort must be set".into()
        )]
    );
    assert_eq!(
        field_errors("  faultInjection: {fixedDelay: 1s, abort: {httpStatus: 500}}\n"),
        vec![(
            "spec.faultInjection".into(),
            "only one of fixedDelay, exponentialDelay or abort may be set".into()
        )]
    );
    assert_eq!(
        field_errors(
            "  mirror: {kubeService: {name: ratings, namespace: bookinfo, clusterName: mgmt-cluster}, percentage: -1}\n"
        ),
        vec![(
            "spec.mirror.percentage".into(),
            "Invalid value: -1: must be between 0 and 100".into()
        )]
    );
}

#[test]
fn weights_and_destinations() {
    let e = field_errors(
        "  trafficShift:\n    destinations:\n    - {kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}, weight: 50}\n    - {kubeService: {name: ratings, namespace: bookinfo, clusterName: mgmt-cluster}, weight: 30}\n",
    );
    assert_eq!(
        e,
        vec![(
            "spec.trafficShift.destinations".into(),
            "Invalid value: weights must sum to 100 when there is more than one destination (they sum to 80)".into()
        )]
    );
    let e = field_errors("  trafficShift:\n    destinations:\n    - {weight: 100}\n");
    assert_eq!(
        e,
        vec![(
            "spec.trafficShift.destinations[0]".into(),
            "must set a destination type on traffic shift destination".into()
        )]
    );
    let e = field_errors(
        "  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}\n      failoverService: {name: f, namespace: ns}\n",
    );
    assert_eq!(
        e,
        vec![(
            "spec.trafficShift.destinations[0]".into(),
            "only one of kubeService or failoverService may be set".into()
        )]
    );
    let e = field_errors("  trafficShift:\n    destinations:\n    - failoverService: {name: f}\n");
    assert_eq!(
        e,
        vec![(
            "spec.trafficShift.destinations[0].failoverService.namespace".into(),
            "Required value: namespace must be set".into()
        )]
    );
    let e = field_errors(
        "  trafficShift:\n    destinations:\n    - {kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster, port: 70000}}\n",
    );
    assert_eq!(
        e[0],
        (
            "spec.trafficShift.destinations[0].kubeService.port".into(),
            "Invalid value: 70000: must be between 1 and 65535, inclusive".into()
        )
    );
}

#[test]
fn retries_cors_matchers_enums() {
    assert_eq!(
        field_errors("  retries: {attempts: -1}\n"),
        vec![(
            "spec.retries.attempts".into(),
            "Invalid value: -1: must be 0 or more".into()
        )]
    );
    assert_eq!(
        field_errors("  corsPolicy: {allowOrigins: [{exact: a, prefix: b}]}\n"),
        vec![(
            "spec.corsPolicy.allowOrigins[0]".into(),
            "exactly one of exact, prefix or regex must be set".into()
        )]
    );
    assert_eq!(
        field_errors("  httpRequestMatchers:\n  - {prefix: /a, exact: /b, method: {method: FETCH}, headers: [{value: x}]}\n"),
        vec![
            ("spec.httpRequestMatchers[0]".into(), "only one of prefix, exact or regex may be set".into()),
            ("spec.httpRequestMatchers[0].headers[0].name".into(), "Required value: name must be set".into()),
            (
                "spec.httpRequestMatchers[0].method.method".into(),
                "Unsupported value: \"FETCH\": supported values: \"GET\", \"POST\", \"PUT\", \"DELETE\", \"HEAD\", \"CONNECT\", \"OPTIONS\", \"TRACE\", \"PATCH\"".into()
            ),
        ]
    );
    assert_eq!(
        field_errors("  mtls: {istio: {tlsMode: STRICT}}\n"),
        vec![(
            "spec.mtls.istio.tlsMode".into(),
            "Unsupported value: \"STRICT\": supported values: \"DISABLE\", \"SIMPLE\", \"ISTIO_MUTUAL\"".into()
        )]
    );
    assert!(field_errors("  mtls: {istio: {tlsMode: ISTIO_MUTUAL}}\n  retries: {attempts: 3, perTryTimeout: 2s}\n").is_empty());
}

#[test]
fn destination_selector_one_of() {
    let tp = "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: t, namespace: bookinfo}\nspec:\n  destinationSelector:\n  - {}\n  - kubeServiceMatcher: {}\n    kubeServiceRefs: {services: []}\n  - kubeServiceRefs:\n      services: [{name: reviews, namespace: bookinfo}]\n";
    let d = run(&[tp], &example_topology());
    let r: Vec<(String, String)> = d
        .iter()
        .map(|x| (x.field.clone().unwrap(), x.message.clone()))
        .collect();
    assert_eq!(
        r,
        vec![
            ("spec.destinationSelector[0]".into(), "Required value: one of kubeServiceMatcher or kubeServiceRefs must be set (an empty selector selects nothing)".into()),
            ("spec.destinationSelector[1]".into(), "only one of kubeServiceMatcher or kubeServiceRefs may be set".into()),
            ("spec.destinationSelector[2].kubeServiceRefs.services[0].clusterName".into(), "Required value: clusterName must be set".into()),
        ]
    );
}
