use super::*;
use http::HeaderValue;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn safe(method: Method, h: &[(&str, &str)], body: &str) -> bool {
    safety(&method, &headers(h), Some(body.as_bytes())) == Safety::Safe
}

#[test]
fn reads_and_server_side_apply_are_safe() {
    assert!(safe(Method::GET, &[], ""));
    assert!(safe(Method::HEAD, &[], ""));
    // Server-side apply, also of the status subresource.
    let ssa = [("content-type", "application/apply-patch+yaml")];
    assert!(safe(Method::PATCH, &ssa, r#"{"kind":"ConfigMap"}"#));
}

#[test]
fn writes_are_safe_only_with_a_precondition() {
    let merge = [("content-type", "application/merge-patch+json")];
    assert!(!safe(
        Method::PATCH,
        &merge,
        r#"{"metadata":{"annotations":{"a":"b"}}}"#
    ));
    assert!(safe(
        Method::PATCH,
        &merge,
        r#"{"metadata":{"resourceVersion":"42"},"spec":{"replicas":0}}"#
    ));
    // An empty resourceVersion is no precondition.
    assert!(!safe(
        Method::PATCH,
        &merge,
        r#"{"metadata":{"resourceVersion":""}}"#
    ));
    let strategic = [("content-type", "application/strategic-merge-patch+json")];
    assert!(safe(
        Method::PATCH,
        &strategic,
        r#"{"metadata":{"resourceVersion":"7"}}"#
    ));
    let json_patch = [("content-type", "application/json-patch+json")];
    assert!(safe(
        Method::PATCH,
        &json_patch,
        r#"[{"op":"test","path":"/metadata/resourceVersion","value":"7"},{"op":"remove","path":"/spec/x"}]"#
    ));
    assert!(!safe(
        Method::PATCH,
        &json_patch,
        r#"[{"op":"remove","path":"/spec/x"}]"#
    ));
    assert!(safe(
        Method::PUT,
        &[],
        r#"{"metadata":{"name":"a","resourceVersion":"9"}}"#
    ));
    assert!(!safe(Method::PUT, &[], r#"{"metadata":{"name":"a"}}"#));
    assert!(safe(
        Method::DELETE,
        &[],
        r#"{"propagationPolicy":"Background","preconditions":{"uid":"u-1"}}"#
    ));
    assert!(safe(
        Method::DELETE,
        &[],
        r#"{"preconditions":{"resourceVersion":"3"}}"#
    ));
    assert!(!safe(
        Method::DELETE,
        &[],
        r#"{"propagationPolicy":"Background"}"#
    ));
    assert!(!safe(Method::DELETE, &[], ""));
    // A create is never repeated.
    assert!(!safe(
        Method::POST,
        &[],
        r#"{"metadata":{"resourceVersion":"1"}}"#
    ));
    // A body that is not JSON carries no precondition.
    assert!(!safe(Method::PUT, &[], "metadata: {resourceVersion: '1'}"));
}

#[test]
fn transient_statuses() {
    for s in [429, 500, 502, 503, 504] {
        assert!(transient_status(StatusCode::from_u16(s).unwrap()), "{s}");
    }
    for s in [200, 201, 400, 401, 403, 404, 409, 410, 422, 501, 505] {
        assert!(!transient_status(StatusCode::from_u16(s).unwrap()), "{s}");
    }
}

#[test]
fn transient_transport_errors() {
    use std::io::{Error, ErrorKind};
    for kind in [
        ErrorKind::TimedOut,
        ErrorKind::ConnectionRefused,
        ErrorKind::ConnectionReset,
        ErrorKind::UnexpectedEof,
        ErrorKind::BrokenPipe,
    ] {
        assert!(transient_error(&Error::new(kind, "x")), "{kind:?}");
    }
    let dns = Error::other("dns error: failed to lookup address information");
    assert!(!transient_error(&dns));
    let tls = Error::other("invalid peer certificate: UnknownIssuer");
    assert!(!transient_error(&tls));
}

#[test]
fn retry_after_is_read_in_seconds_and_capped() {
    assert_eq!(
        retry_after(&headers(&[("retry-after", "3")])),
        Some(Duration::from_secs(3))
    );
    assert_eq!(
        retry_after(&headers(&[("retry-after", " 1 ")])),
        Some(Duration::from_secs(1))
    );
    assert_eq!(
        retry_after(&headers(&[("retry-after", "3600")])),
        Some(MAX_RETRY_AFTER)
    );
    // An HTTP date or garbage: not understood, the backoff decides.
    assert_eq!(
        retry_after(&headers(&[(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT"
        )])),
        None
    );
    assert_eq!(retry_after(&headers(&[("retry-after", "-1")])), None);
    assert_eq!(retry_after(&headers(&[])), None);
}

#[test]
fn backoff_grows_with_jitter_up_to_the_cap() {
    // Attempt 1: 100..200 ms; attempt 2: 200..400 ms; ...
    assert_eq!(backoff(1, 0.0, None), Duration::from_millis(100));
    assert_eq!(backoff(1, 1.0, None), Duration::from_millis(200));
    assert_eq!(backoff(2, 0.0, None), Duration::from_millis(200));
    assert_eq!(backoff(3, 1.0, None), Duration::from_millis(800));
    for attempt in 1..100 {
        for jitter in [0.0, 0.3, 0.99, 1.0] {
            let w = backoff(attempt, jitter, None);
            assert!(
                w >= BASE_WAIT / 2 && w <= MAX_WAIT,
                "{attempt} {jitter}: {w:?}"
            );
        }
    }
    assert_eq!(backoff(30, 0.0, None), MAX_WAIT / 2);
    assert_eq!(backoff(30, 1.0, None), MAX_WAIT);
    // The server's Retry-After wins.
    assert_eq!(
        backoff(1, 0.5, Some(Duration::from_secs(2))),
        Duration::from_secs(2)
    );
}

#[test]
fn watches_and_upgrades_are_streams() {
    let uri = |s: &str| s.parse::<Uri>().unwrap();
    let none = HeaderMap::new();
    assert!(is_streaming(
        &uri("/api/v1/pods?labelSelector=a%3Db&watch=true&resourceVersion=5"),
        &none
    ));
    assert!(!is_streaming(
        &uri("/api/v1/pods?labelSelector=watch%3Dtrue"),
        &none
    ));
    assert!(is_streaming(
        &uri("/api/v1/namespaces/a/pods/p/portforward?ports=9080"),
        &headers(&[("upgrade", "websocket")])
    ));
}

#[test]
fn requests_are_described_by_verb_and_resource() {
    let d = |m: Method, u: &str, h: &[(&str, &str)]| {
        let (verb, res) = describe(&m, &u.parse().unwrap(), &headers(h));
        format!("{verb} {res}")
    };
    assert_eq!(
        d(
            Method::GET,
            "/apis/apps/v1/namespaces/bookinfo/deployments/reviews",
            &[]
        ),
        "get deployments bookinfo/reviews"
    );
    assert_eq!(
        d(
            Method::GET,
            "/api/v1/namespaces/bookinfo/pods?labelSelector=app",
            &[]
        ),
        "list pods in bookinfo"
    );
    assert_eq!(
        d(
            Method::GET,
            "/api/v1/namespaces/bookinfo/pods?watch=true",
            &[]
        ),
        "watch pods in bookinfo"
    );
    assert_eq!(d(Method::GET, "/api/v1/namespaces", &[]), "list namespaces");
    assert_eq!(
        d(Method::GET, "/api/v1/namespaces/x", &[]),
        "get namespaces x"
    );
    assert_eq!(d(Method::GET, "/version", &[]), "get /version");
    assert_eq!(
        d(
            Method::PATCH,
            "/apis/networking.smh.solo.io/v1alpha2/namespaces/service-mesh-hub/failoverservices/r/status?fieldManager=kubectl-smh",
            &[("content-type", "application/apply-patch+yaml")]
        ),
        "apply failoverservices/status service-mesh-hub/r"
    );
    assert_eq!(
        d(
            Method::DELETE,
            "/apis/networking.istio.io/v1beta1/namespaces/istio-system/envoyfilters/e",
            &[]
        ),
        "delete envoyfilters istio-system/e"
    );
    assert_eq!(
        d(
            Method::GET,
            "/api/v1/namespaces/b/pods/p/portforward?ports=1",
            &[("upgrade", "websocket")]
        ),
        "get pods/portforward b/p"
    );
}

#[test]
fn events_read_as_one_line() {
    let e = RetryEvent {
        cluster: "remote-cluster".into(),
        verb: "get",
        resource: "deployments bookinfo/reviews".into(),
        cause: "503 Service Unavailable".into(),
        attempt: 2,
        wait: Duration::from_millis(1000),
    };
    assert_eq!(
        e.to_string(),
        "retry: get deployments bookinfo/reviews on cluster remote-cluster: attempt 2 got 503 \
         Service Unavailable; trying again in 1000ms"
    );
}
