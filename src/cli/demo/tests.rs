//! Unit tests of `demo up`'s flags.

use super::*;

fn args(latency: &[&str], errors: &[&str], unreachable: &[&str]) -> UpArgs {
    UpArgs {
        kubeconfig_out: PathBuf::from("x"),
        ready_timeout: None,
        rollout_delay: Duration::from_millis(1),
        latency: latency.iter().map(|s| s.to_string()).collect(),
        error_rate: errors.iter().map(|s| s.to_string()).collect(),
        unreachable: unreachable.iter().map(|s| s.to_string()).collect(),
        unavailable: Vec::new(),
        mode: None,
        ambient: false,
        istio_version: None,
        istio_cluster_id: Vec::new(),
    }
}

#[test]
fn fault_flags() {
    let names = vec!["mgmt-cluster".to_string(), "remote-cluster".to_string()];
    let f = parse_fault_flags(
        &args(
            &["remote-cluster=50ms"],
            &["remote-cluster=0.2:500", "remote-cluster=10%:429"],
            &["mgmt-cluster=close"],
        ),
        &names,
    )
    .unwrap();
    let r = &f["remote-cluster"];
    assert_eq!(r.latency, Duration::from_millis(50));
    assert_eq!(
        r.errors,
        vec![
            (0.2, ErrorKind::Internal),
            (0.1, ErrorKind::TooManyRequests)
        ]
    );
    assert_eq!(f["mgmt-cluster"].unreachable, Some(Unreachable::Close));
    assert_eq!(
        describe_faults(r),
        "latency 50ms, 20% of requests answered 500, 10% of requests answered 429"
    );
    let u = parse_fault_flags(&args(&[], &[], &["remote-cluster"]), &names).unwrap();
    assert_eq!(u["remote-cluster"].unreachable, Some(Unreachable::Hang));
    let mut a = args(&[], &["mgmt-cluster=5%:close", "mgmt-cluster=5%:503"], &[]);
    a.unavailable = vec!["mgmt-cluster=20s".into()];
    let m = &parse_fault_flags(&a, &names).unwrap()["mgmt-cluster"];
    assert_eq!(m.unavailable_for, Duration::from_secs(20));
    assert_eq!(
        describe_faults(m),
        "5% of requests answered 503, 5% of requests cut off mid-answer, every request \
         answered 503 for the first 20s"
    );
    a.unavailable = vec!["mgmt-cluster".into()];
    assert!(parse_fault_flags(&a, &names).is_err());
    for bad in [
        args(&["remote=50ms"], &[], &[]),
        args(&["remote-cluster"], &[], &[]),
        args(&["remote-cluster=soon"], &[], &[]),
        args(&[], &["remote-cluster=0.7", "remote-cluster=0.5:429"], &[]),
        args(&[], &["remote-cluster=2"], &[]),
        args(&[], &[], &["remote-cluster=maybe"]),
    ] {
        assert!(parse_fault_flags(&bad, &names).is_err(), "{bad:?}");
    }
}

#[test]
fn ambient_is_multi_primary_and_refuses_global() {
    let mut a = args(&[], &[], &[]);
    assert_eq!(demo_mode(&a).unwrap(), DemoMode::Global);
    a.ambient = true;
    assert_eq!(demo_mode(&a).unwrap(), DemoMode::MultiPrimary);
    a.mode = Some(DemoMode::MultiPrimary);
    assert_eq!(demo_mode(&a).unwrap(), DemoMode::MultiPrimary);
    a.mode = Some(DemoMode::Global);
    let err = demo_mode(&a).unwrap_err().to_string();
    assert!(err.contains("--ambient with --mode global"), "{err}");
    assert!(err.contains("sidecar-era"), "{err}");
    a.ambient = false;
    assert_eq!(demo_mode(&a).unwrap(), DemoMode::Global);
}

#[test]
fn cluster_id_flags() {
    let names = vec!["mgmt-cluster".to_string(), "remote-cluster".to_string()];
    let flags = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
    let ids = parse_cluster_id_flags(
        &flags(&[
            "mgmt-cluster=east",
            "remote-cluster=Kubernetes",
            "mgmt-cluster=east_1",
        ]),
        &names,
    )
    .unwrap();
    assert_eq!(ids["mgmt-cluster"], "east_1", "the last one wins");
    assert_eq!(ids["remote-cluster"], "Kubernetes");
    for (bad, why) in [
        ("east=x", "unknown cluster \"east\""),
        ("mgmt-cluster", "expected CLUSTER=ID"),
        ("mgmt-cluster=", "expected CLUSTER=ID"),
        ("mgmt-cluster=-east", "is not a valid Istio cluster ID"),
        ("mgmt-cluster=a/b", "is not a valid Istio cluster ID"),
    ] {
        let err = parse_cluster_id_flags(&flags(&[bad]), &names)
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{bad}: {err}");
    }
    let long = format!("mgmt-cluster={}", "a".repeat(64));
    let err = parse_cluster_id_flags(&flags(&[&long]), &names)
        .unwrap_err()
        .to_string();
    assert!(err.contains("63"), "{err}");
}

#[test]
fn the_ambient_demo_installs_an_istio_whose_ambient_mode_spans_clusters() {
    let mut a = args(&[], &[], &[]);
    assert_eq!(demo_istio_version(&a), "1.24.2");
    a.ambient = true;
    assert_eq!(demo_istio_version(&a), "1.28.1");
    a.istio_version = Some("1.27.0".into());
    assert_eq!(demo_istio_version(&a), "1.27.0");
}
