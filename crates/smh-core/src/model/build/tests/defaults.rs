//! Defaults: name, hostname, port, meshes, outlier values.

use super::*;

// Defaults
// ---------------------------------------------------------------------------------------

#[test]
fn port_protocol_follows_istio() {
    let p = |name: &str, app: Option<&str>| ServicePort {
        name: name.into(),
        port: 80,
        protocol: "TCP".into(),
        app_protocol: app.map(Into::into),
    };
    assert_eq!(port_protocol(&p("http", None)), "http");
    assert_eq!(port_protocol(&p("grpc-web", None)), "grpc");
    assert_eq!(port_protocol(&p("tcp-db", None)), "tcp");
    assert_eq!(port_protocol(&p("HTTP2", None)), "http2");
    assert_eq!(port_protocol(&p("web", None)), "http");
    assert_eq!(port_protocol(&p("", None)), "http");
    assert_eq!(port_protocol(&p("web", Some("HTTPS"))), "https");
    assert_eq!(
        port_protocol(&p("http", Some("kubernetes.io/h2c"))),
        "http2"
    );
    assert_eq!(port_protocol(&p("grpc", Some("my.example/foo"))), "grpc");
    assert_eq!(describe_port(&p("http", None)), "80 (http)");
    assert_eq!(describe_port(&p("grpc-web", None)), "80/grpc-web (grpc)");
}

#[test]
fn outlier_values_leave_defaults_out() {
    let v = OutlierFlags {
        consecutive_errors: Some(1),
        interval: Some(Duration::from_secs(10)),
        base_ejection_time: Some(Duration::from_millis(1500)),
        max_ejection_percent: None,
    };
    assert_eq!(
        v.to_smh(),
        OutlierDetection {
            consecutive_errors: 1,
            interval: None,
            base_ejection_time: Some("1.5s".into()),
            max_ejection_percent: 0,
        }
    );
    assert_eq!(
        v.effective().to_string(),
        "consecutiveErrors 1, interval 10s, baseEjectionTime 1.5s, maxEjectionPercent 100"
    );
    assert_eq!(
        OutlierFlags::default().to_smh(),
        OutlierDetection::default()
    );
    assert_eq!(
        OutlierFlags::from_smh(&v.to_smh()).effective(),
        v.effective()
    );
    assert!(!OutlierFlags::from_effective(EffectiveOutlier::smh_default()).is_set());
}

#[test]
fn defaults_come_from_the_primary_service() {
    let opts = CreateOptions {
        namespace: SMH_NAMESPACE.into(),
        backing: vec![
            r("reviews.bookinfo@remote-cluster"),
            r("reviews.bookinfo@mgmt-cluster"),
        ],
        ..CreateOptions::default()
    };
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing: &[],
    };
    let req = resolve(&opts, &live).unwrap();
    assert_eq!(req.name, "reviews-failover");
    assert_eq!(req.hostname, "reviews-failover.bookinfo.global");
    assert_eq!((req.port, req.protocol.as_str()), (9080, "http"));
    assert_eq!(
        req.meshes,
        vec![ObjectRef {
            name: "istiod-istio-system-remote-cluster".into(),
            namespace: "service-mesh-hub".into()
        }]
    );
    assert_eq!(req.outlier_policy_name, "reviews-failover-outlier");
    assert_eq!(req.shift_policy_name, "reviews-failover-shift");

    // A chosen name gives the hostname.
    let named = resolve(
        &CreateOptions {
            name: Some("rev".into()),
            ..opts.clone()
        },
        &live,
    )
    .unwrap();
    assert_eq!(named.hostname, "rev.bookinfo.global");
    assert_eq!(named.outlier_policy_name, "rev-outlier");

    // Fresh state: outlier detection with SMH's defaults for both, no shift.
    let plan = build(&req, &live).unwrap();
    let od = plan.outlier_policy.as_ref().unwrap();
    assert_eq!(od.spec.outlier_detection, Some(OutlierDetection::default()));
    assert_eq!(od.metadata.namespace.as_deref(), Some("service-mesh-hub"));
    assert_eq!(
        od.spec.destination_selector[0]
            .kube_service_refs
            .as_ref()
            .unwrap()
            .services,
        req.backing
    );
    assert!(plan.shift_policies.is_empty());
    assert!(plan.reused_outlier.is_empty());
    let checked = check(&plan, &live);
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
    assert_eq!(checked.manifests.len(), 2);
}

// ---------------------------------------------------------------------------------------
