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
    safe_at(method, "/api/v1/namespaces/default/configmaps/a", h, body)
}

fn safe_at(method: Method, path: &str, h: &[(&str, &str)], body: &str) -> bool {
    let uri: Uri = path.parse().unwrap();
    safety(&method, &uri, &headers(h), Some(body.as_bytes())) == Safety::Safe
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
    // A create of a named object to its collection is repeated (a repeat meets 409
    // AlreadyExists); with generateName, without a name, or to an object's subresource it
    // is not.
    let named = r#"{"kind":"Namespace","metadata":{"name":"service-mesh-hub"}}"#;
    assert!(safe_at(Method::POST, "/api/v1/namespaces", &[], named));
    assert!(safe_at(
        Method::POST,
        "/apis/apps/v1/namespaces/bookinfo/deployments",
        &[],
        r#"{"metadata":{"name":"reviews","namespace":"bookinfo"}}"#
    ));
    assert!(!safe_at(
        Method::POST,
        "/api/v1/namespaces/default/configmaps",
        &[],
        r#"{"metadata":{"name":"","generateName":"x-"}}"#
    ));
    assert!(!safe_at(
        Method::POST,
        "/api/v1/namespaces/default/configmaps",
        &[],
        r#"{"metadata":{"resourceVersion":"1"}}"#
    ));
    assert!(!safe_at(
        Method::POST,
        "/api/v1/namespaces/default/pods/p/eviction",
        &[],
        r#"{"metadata":{"name":"p"}}"#
    ));
    assert!(!safe_at(
        Method::POST,
        "/api/v1/namespaces",
        &[],
        "not json"
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

#[test]
fn the_budget_counts_retries_under_way_once_and_is_renewed_for_the_restore() {
    let t0 = Instant::now();
    let at = |secs: u64| t0 + Duration::from_secs(secs);
    let budget = Duration::from_secs(10);
    let mut s = Spent::default();
    // Two requests retrying at the same time for 4s count 4s, not 8s.
    assert!(s.begin(Duration::from_secs(1), budget, at(0)));
    assert!(s.begin(Duration::from_secs(1), budget, at(1)));
    assert_eq!(s.total(at(3)), Duration::from_secs(3));
    s.end(at(3));
    s.end(at(4));
    assert_eq!(s.total(at(4)), Duration::from_secs(4));
    // Time without a retry under way is not counted.
    assert_eq!(s.total(at(40)), Duration::from_secs(4));
    // 4s spent: a wait of 6s still fits, 7s does not.
    assert!(!s.begin(Duration::from_secs(7), budget, at(40)));
    assert!(s.begin(Duration::from_secs(6), budget, at(40)));
    s.end(at(46));
    assert!(!s.begin(Duration::from_millis(1), budget, at(50)));
    // The restore starts from nothing; a retry under way counts from then on.
    assert!(s.begin(Duration::ZERO, Duration::from_secs(100), at(50)));
    s.renew(at(52));
    assert_eq!(s.total(at(53)), Duration::from_secs(1));
    s.end(at(53));
    assert!(s.begin(Duration::from_secs(9), budget, at(60)));
}

#[test]
fn a_budget_guard_gives_back_its_place_when_dropped() {
    let stats = Arc::new(RetryStats::default());
    let g = stats.begin_retry(Duration::ZERO, Duration::from_secs(60));
    assert!(g.is_some());
    drop(g);
    assert_eq!(stats.lock_spent().busy, 0);
    // Zero left: nothing more.
    assert!(
        stats
            .begin_retry(Duration::from_millis(1), Duration::ZERO)
            .is_none()
    );
}

#[test]
fn clusters_that_answered_are_remembered() {
    let stats = RetryStats::default();
    assert!(!stats.has_answered("remote-cluster"));
    stats.mark_answered("remote-cluster");
    assert!(stats.has_answered("remote-cluster"));
    assert!(!stats.has_answered("mgmt-cluster"));
}
