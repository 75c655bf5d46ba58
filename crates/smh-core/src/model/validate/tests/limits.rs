//! Limits of the API server and istiod.

use super::*;

/// The errors (field, message) of a TrafficPolicy with `spec_tail`, for fields under
/// `prefix`.
fn errors_at(spec_tail: &str, prefix: &str) -> Vec<(String, String)> {
    field_errors(spec_tail)
        .into_iter()
        .filter(|(f, _)| f.starts_with(prefix))
        .collect()
}

#[test]
fn durations_istio_would_reject() {
    // 500us passes as a duration but is below Istio's 1ms; 1.5ms is not whole ms.
    for (tail, field) in [
        ("  requestTimeout: 500us\n", "spec.requestTimeout"),
        (
            "  retries: {attempts: 2, perTryTimeout: 1500us}\n",
            "spec.retries.perTryTimeout",
        ),
        (
            "  faultInjection: {fixedDelay: 0.5ms, percentage: 10}\n",
            "spec.faultInjection.fixedDelay",
        ),
        (
            "  outlierDetection: {interval: 100us}\n",
            "spec.outlierDetection.interval",
        ),
        (
            "  outlierDetection: {baseEjectionTime: 2.5ms}\n",
            "spec.outlierDetection.baseEjectionTime",
        ),
        (
            "  corsPolicy: {allowOrigins: [{exact: a.example}], maxAge: 1500ms}\n",
            "spec.corsPolicy.maxAge",
        ),
    ] {
        let e = errors_at(tail, field);
        assert_eq!(e.len(), 1, "{tail}: {e:#?}");
        assert!(e[0].1.starts_with("Invalid value: \""), "{e:?}");
        assert!(
            e[0].1.contains("1ms") || e[0].1.contains("whole number"),
            "{e:?}"
        );
    }
    let e = errors_at("  requestTimeout: 500us\n", "spec.requestTimeout");
    assert_eq!(
        e[0].1,
        "Invalid value: \"500us\": below Istio's minimum of 1ms (istiod rejects it: \"duration must be greater than 1ms\")"
    );
    // Zero is "unset" (left out), 1ms and whole seconds are fine.
    for ok in [
        "  requestTimeout: 0s\n",
        "  requestTimeout: 1ms\n",
        "  retries: {attempts: 2, perTryTimeout: 250ms}\n",
        "  corsPolicy: {allowOrigins: [{exact: a.example}], maxAge: 24h}\n",
    ] {
        assert!(field_errors(ok).is_empty(), "{ok}: {:#?}", field_errors(ok));
    }
}

#[test]
fn fault_injection_as_istio_accepts_it() {
    assert_eq!(
        errors_at(
            "  faultInjection: {exponentialDelay: 1s, percentage: 10}\n",
            "spec.faultInjection"
        ),
        vec![(
            "spec.faultInjection.exponentialDelay".into(),
            "Forbidden: Istio does not support an exponential delay (istiod rejects it: \"exponentialDelay not supported yet\"); use fixedDelay".into()
        )]
    );
    assert_eq!(
        errors_at(
            "  faultInjection: {abort: {httpStatus: 150}, percentage: 0.00001}\n",
            "spec.faultInjection"
        ),
        vec![
            (
                "spec.faultInjection.abort.httpStatus".into(),
                "Invalid value: 150: must be an HTTP status between 200 and 599".into()
            ),
            (
                "spec.faultInjection.percentage".into(),
                "Invalid value: 0.00001: must be 0, or between 0.0001 and 100".into()
            ),
        ]
    );
    assert!(
        field_errors("  faultInjection: {abort: {httpStatus: 503}, percentage: 0.5}\n").is_empty()
    );
}

#[test]
fn retries_with_zero_attempts_and_a_timeout() {
    assert_eq!(
        errors_at("  retries: {attempts: 0, perTryTimeout: 2s}\n", "spec.retries"),
        vec![(
            "spec.retries.attempts".into(),
            "Invalid value: 0: attempts 0 turns retries off, and Istio rejects a retry policy with a perTryTimeout and 0 attempts (set attempts, or remove perTryTimeout)".into()
        )]
    );
    assert!(field_errors("  retries: {attempts: 0}\n").is_empty());
}

#[test]
fn header_names_values_and_regexes() {
    let e = field_errors(
        "  httpRequestMatchers:\n  - regex: \"/api/(v1\"\n    headers:\n    - {name: \"x user\", value: a}\n    - {name: x-id, value: \"[0-9\", regex: true}\n    queryParameters:\n    - {name: q, value: \"*\", regex: true}\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.httpRequestMatchers[0].regex",
            "spec.httpRequestMatchers[0].headers[0].name",
            "spec.httpRequestMatchers[0].headers[1].value",
            "spec.httpRequestMatchers[0].queryParameters[0].value",
        ],
        "{e:#?}"
    );
    assert!(
        e[0].1.contains("not a valid RE2 regular expression"),
        "{e:?}"
    );
    assert!(e[1].1.contains("letters, digits, '-' and '_'"), "{e:?}");

    let e = field_errors(
        "  headerManipulation:\n    appendRequestHeaders: {\":path\": /x, host: a.example, x-ok: \"50%\"}\n    removeResponseHeaders: [host]\n    appendResponseHeaders: {x-pct: \"100%%\", x-host: \"%HOSTNAME%\"}\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.headerManipulation.appendRequestHeaders.:path",
            "spec.headerManipulation.appendRequestHeaders.x-ok",
            "spec.headerManipulation.removeResponseHeaders[0]",
        ],
        "{e:#?}"
    );
}

#[test]
fn cors_as_istio_accepts_it() {
    let e = field_errors(
        "  corsPolicy:\n    allowOrigins: [{exact: \"\"}, {regex: \"(\"}]\n    allowMethods: [GET, get]\n    allowHeaders: [\"*\", \"x y\"]\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.corsPolicy.allowOrigins[0].exact",
            "spec.corsPolicy.allowOrigins[1].regex",
            "spec.corsPolicy.allowMethods[1]",
            "spec.corsPolicy.allowHeaders[1]",
        ],
        "{e:#?}"
    );
}

#[test]
fn cluster_names_are_at_most_63_characters() {
    let long = "c".repeat(64);
    let tp = tp_with("  outlierDetection: {consecutiveErrors: 1}\n")
        .replace("clusterName: mgmt-cluster", &format!("clusterName: {long}"));
    let d = run_default(&[&tp]);
    let e: Vec<(String, String)> = d
        .iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| (x.field.clone().unwrap_or_default(), x.message.clone()))
        .collect();
    assert_eq!(
        e,
        vec![(
            "spec.destinationSelector[0].kubeServiceRefs.services[0].clusterName".into(),
            format!(
                "Invalid value: {long:?}: must be no more than 63 characters (a cluster name is the value of the label cluster.multicluster.solo.io on every object generated for it)"
            )
        )]
    );
    // 63 is fine.
    let ok = tp.replace(&long, &"c".repeat(63));
    assert!(
        run_default(&[&ok])
            .iter()
            .all(|x| x.severity == Severity::Warning)
    );
    // In a FailoverService's backing services, and in source selectors too.
    let fs = FS.replace(
        "clusterName: remote-cluster",
        &format!("clusterName: {long}"),
    );
    assert!(
        run_default(&[OUTLIER, &fs])
            .iter()
            .any(
                |x| x.field.as_deref() == Some("spec.backingServices[1].kubeService.clusterName")
                    && x.message.contains("no more than 63")
            ),
        "{:#?}",
        run_default(&[OUTLIER, &fs])
    );
    let e = errors_at(
        &format!(
            "  sourceSelector:\n  - clusters: [{long}]\n    namespaces: [Bad_NS]\n    labels: {{\"a b\": x}}\n"
        ),
        "spec.sourceSelector",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.sourceSelector[0].labels.a b",
            "spec.sourceSelector[0].namespaces[0]",
            "spec.sourceSelector[0].clusters[0]",
        ],
        "{e:#?}"
    );
}

#[test]
fn subset_names_istio_accepts() {
    // Two labels: SMH names the subset `app-reviews_version-v1`, which Istio rejects.
    let e = errors_at(
        "  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster, subset: {app: reviews, version: v1}}\n",
        "spec.trafficShift",
    );
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(
        e[0].0,
        "spec.trafficShift.destinations[0].kubeService.subset"
    );
    assert!(
        e[0].1
            .contains("\"app-reviews_version-v1\": Istio requires a subset name"),
        "{e:?}"
    );
    // Bad label values are named by key.
    let e = errors_at(
        "  trafficShift:\n    destinations:\n    - failoverService: {name: f, namespace: bookinfo, subset: {version: \"v1 beta\"}}\n",
        "spec.trafficShift",
    );
    assert!(
        e.iter().any(|(f, m)| f
            == "spec.trafficShift.destinations[0].failoverService.subset.version"
            && m.contains("value \"v1 beta\"")),
        "{e:#?}"
    );
    // One label is fine.
    assert!(
        errors_at(
            "  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: bookinfo, clusterName: mgmt-cluster, subset: {version: v1}}\n",
            "spec.trafficShift"
        )
        .is_empty()
    );
}

#[test]
fn hostname_labels_and_port_name() {
    let label = "h".repeat(64);
    let fs = FS.replace(
        "hostname: reviews-failover.bookinfo.global",
        &format!("hostname: {label}.bookinfo.global"),
    );
    let d = run_default(&[OUTLIER, &fs]);
    assert!(
        d.iter().any(|x| x.field.as_deref() == Some("spec.hostname")
            && x.message.contains("every dot-separated label of a host")
            && x.message.contains("(64 characters)")),
        "{d:#?}"
    );
    let fs = FS.replace("protocol: http", "protocol: http_proxy");
    let d = run_default(&[OUTLIER, &fs]);
    assert!(
        d.iter().any(|x| x.field.as_deref() == Some("spec.port.protocol")
            && x.message.starts_with("Invalid value: \"http_proxy\": the generated ServiceEntry's port is named after the protocol")),
        "{d:#?}"
    );
    // Upper case is a valid port name for Istio.
    let fs = FS.replace("protocol: http", "protocol: HTTP");
    assert!(
        run_default(&[OUTLIER, &fs])
            .iter()
            .all(|x| x.field.as_deref() != Some("spec.port.protocol"))
    );
}
