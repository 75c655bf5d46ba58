//! Unit tests of `drill::plan`, moved out of `plan.rs` to keep each file short.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;
use crate::testing::drill::{bookinfo, mk_container, mk_deployment, mk_fs, mk_service};

fn plan_with(opts: &DrillOptions) -> Result<DrillPlan, PlanError> {
    let fs = mk_fs();
    let svc = mk_service();
    let deps = bookinfo();
    build_plan(
        &PlanInput {
            failover_service: &fs,
            primary_service: &svc,
            deployments: &deps,
            primary_outlier: None,
        },
        opts,
    )
}

#[test]
fn bookinfo_defaults() {
    let plan = plan_with(&DrillOptions::default()).unwrap();
    let names: Vec<String> = plan
        .targets
        .iter()
        .map(|t| t.deployment.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "mgmt-cluster:bookinfo/reviews-v1",
            "mgmt-cluster:bookinfo/reviews-v2"
        ]
    );
    assert_eq!(plan.targets[0].containers, ["reviews"]);
    assert_eq!(plan.primary.cluster_name, "mgmt-cluster");
    assert_eq!(plan.secondaries.len(), 1);
    assert_eq!(plan.secondaries[0].cluster_name, "remote-cluster");
    assert_eq!(
        plan.probe.workload.to_string(),
        "mgmt-cluster:bookinfo/productpage-v1"
    );
    assert_eq!(plan.probe.port, 9080);
    assert_eq!(plan.probe.path, "/productpage");
    assert_eq!(plan.probe.rate_per_second, 10.0);
    assert_eq!(plan.probe.interval(), Duration::from_millis(100));
    assert!(plan.classifier.is_bookinfo());
    assert_eq!(plan.failover_timeout, Duration::from_secs(120));
    assert_eq!(plan.failback_timeout, Duration::from_secs(150));
    assert_eq!(plan.max_errors, None);
    assert_eq!(plan.steady.window, 20);
    assert_eq!(plan.steady.needed(), 20);
    assert_eq!(plan.baseline.probes, 20);
    assert_eq!(plan.baseline.timeout, Duration::from_secs(30));
    assert_eq!(plan.primary_hosts(), 2);
}

#[test]
fn failback_default_follows_base_ejection_time() {
    let fs = mk_fs();
    let svc = mk_service();
    let deps = bookinfo();
    let od = OutlierSettings {
        base_ejection_time: Some(Duration::from_secs(120)),
        ..Default::default()
    };
    let plan = build_plan(
        &PlanInput {
            failover_service: &fs,
            primary_service: &svc,
            deployments: &deps,
            primary_outlier: Some(&od),
        },
        &DrillOptions::default(),
    )
    .unwrap();
    assert_eq!(plan.failback_timeout, Duration::from_secs(240));
}

#[test]
fn overrides() {
    let opts = DrillOptions {
        breaks: vec!["bookinfo/reviews-v1".parse().unwrap()],
        probe_workload: Some("mgmt-cluster:bookinfo/ratings-v1".parse().unwrap()),
        probe_path: Some("/health".into()),
        probe_rate: Some(2.5),
        expect_failover: Some("v3".into()),
        failover_timeout: Some(Duration::from_secs(30)),
        failback_timeout: Some(Duration::from_secs(45)),
        max_errors: Some(3),
        steady_window: Some(5),
        baseline_probes: Some(100),
        ..Default::default()
    };
    let plan = plan_with(&opts).unwrap();
    assert_eq!(plan.targets.len(), 1);
    assert_eq!(plan.targets[0].reason, "--break bookinfo/reviews-v1");
    assert_eq!(plan.probe.workload.name, "ratings-v1");
    assert_eq!(plan.probe.port, 9080, "first declared container port");
    assert_eq!(plan.probe.path, "/health");
    assert_eq!(plan.classifier.failover.as_deref(), Some("v3"));
    assert_eq!(plan.failover_timeout, Duration::from_secs(30));
    assert_eq!(plan.failback_timeout, Duration::from_secs(45));
    assert_eq!(plan.max_errors, Some(3));
    assert_eq!(plan.steady.window, 5);
    assert_eq!(plan.steady.needed(), 5);
    assert_eq!(
        plan.baseline.timeout,
        Duration::from_secs(120),
        "3 × 100 / 2.5"
    );
}

#[test]
fn break_in_another_cluster() {
    let plan = plan_with(&DrillOptions {
        breaks: vec![
            "remote-cluster:bookinfo/reviews-v3".parse().unwrap(),
            "remote-cluster:bookinfo/reviews-v3".parse().unwrap(),
        ],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(plan.targets.len(), 1, "duplicates collapse");
    assert_eq!(plan.targets[0].deployment.cluster, "remote-cluster");
}

#[test]
fn errors_say_what_to_pass() {
    let err = plan_with(&DrillOptions {
        breaks: vec!["bookinfo/reviews-v9".parse().unwrap()],
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "--break mgmt-cluster:bookinfo/reviews-v9: deployment not found (is the cluster name right, and the namespace?)"
    );

    let fs = mk_fs();
    let svc = mk_service();
    let mut no_client = bookinfo();
    no_client
        .get_mut("mgmt-cluster")
        .unwrap()
        .retain(|d| d.metadata.name.as_deref() != Some("productpage-v1"));
    let input = PlanInput {
        failover_service: &fs,
        primary_service: &svc,
        deployments: &no_client,
        primary_outlier: None,
    };
    let err = build_plan(&input, &DrillOptions::default()).unwrap_err();
    assert!(err.to_string().contains("pass --probe-workload"), "{err}");

    let mut no_reviews = bookinfo();
    no_reviews.get_mut("mgmt-cluster").unwrap().retain(|d| {
        !d.metadata
            .name
            .as_deref()
            .unwrap_or("")
            .starts_with("reviews")
    });
    let input = PlanInput {
        deployments: &no_reviews,
        ..input
    };
    let err = build_plan(&input, &DrillOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no deployment in namespace bookinfo of cluster mgmt-cluster has pod labels matching app=reviews (the selector of Service bookinfo/reviews in cluster mgmt-cluster): pass --break [CLUSTER:]NAMESPACE/DEPLOYMENT for each deployment to break"
    );

    let mut no_sel = mk_service();
    no_sel.spec.as_mut().unwrap().selector = None;
    let input = PlanInput {
        primary_service: &no_sel,
        ..input
    };
    let err = build_plan(&input, &DrillOptions::default()).unwrap_err();
    assert!(matches!(err, PlanError::NoSelector { .. }), "{err}");

    let err = plan_with(&DrillOptions {
        breaks: vec!["productpage-v1".parse().unwrap()],
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, PlanError::ProbeIsTarget(_)), "{err}");

    let err = plan_with(&DrillOptions {
        probe_rate: Some(0.0),
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("--probe-rate 0:"), "{err}");

    let err = plan_with(&DrillOptions {
        expect_primary: Some("[".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("--expect-primary:"), "{err}");

    let mut one = mk_fs();
    one.spec.backing_services.truncate(1);
    let input = PlanInput {
        failover_service: &one,
        ..input
    };
    let err = build_plan(&input, &DrillOptions::default()).unwrap_err();
    assert!(
        matches!(err, PlanError::TooFewBackingServices(_, 1)),
        "{err}"
    );
}

#[test]
fn non_bookinfo_service_needs_expectations() {
    let mut fs = mk_fs();
    for b in &mut fs.spec.backing_services {
        b.kube_service.as_mut().unwrap().name = "checkout".into();
    }
    let mut svc = mk_service();
    svc.spec.as_mut().unwrap().selector =
        Some(BTreeMap::from([("app".to_string(), "reviews".to_string())]));
    let deps = bookinfo();
    let input = PlanInput {
        failover_service: &fs,
        primary_service: &svc,
        deployments: &deps,
        primary_outlier: None,
    };
    let err = build_plan(&input, &DrillOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("pass --expect-primary REGEX and --expect-failover REGEX")
    );
    let ok = build_plan(
        &input,
        &DrillOptions {
            expect_primary: Some("east".into()),
            expect_failover: Some("west".into()),
            ..Default::default()
        },
    );
    assert!(ok.is_ok());
}

#[test]
fn serving_containers_by_target_port() {
    let mut shipper = mk_container("log-shipper", None, None);
    shipper.ports = None;
    let dep = mk_deployment(
        "bookinfo",
        "reviews-v1",
        &[("app", "reviews")],
        vec![shipper.clone(), mk_container("reviews", None, None)],
    );
    let svc = mk_service();
    let (names, why) = serving_containers(&dep, &svc, 9080);
    assert_eq!(names, ["reviews"]);
    assert!(why.contains("target port 9080"));

    // Named target port.
    let mut named = mk_service();
    named.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].target_port =
        Some(IntOrString::String("http-web".into()));
    let (names, why) = serving_containers(&dep, &named, 9080);
    assert_eq!(names, ["log-shipper", "reviews"]);
    assert!(
        why.starts_with("all containers break: none declares"),
        "{why}"
    );

    let mut dep2 = dep.clone();
    if let Some(pod) = dep2.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
        pod.containers[1].ports.as_mut().unwrap()[0].name = Some("http-web".into());
    }
    let (names, _) = serving_containers(&dep2, &named, 9080);
    assert_eq!(names, ["reviews"]);
}

#[test]
fn patches_for_every_target() {
    let plan = plan_with(&DrillOptions::default()).unwrap();
    let deps = bookinfo();
    let ctx = crate::testing::drill::ctx();
    let p = plan.patches(&deps, &ctx).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[1].deployment.name, "reviews-v2");
    assert_eq!(
        p[0].brk,
        serde_json::json!({"spec": {"template": {"spec": {"containers": [
                {"name": "reviews", "command": ["sleep", "20h"]}]}}}})
    );
    let mut gone = deps.clone();
    gone.get_mut("mgmt-cluster")
        .unwrap()
        .retain(|d| d.metadata.name.as_deref() != Some("reviews-v2"));
    let err = plan.patches(&gone, &ctx).unwrap_err();
    assert_eq!(
        err.to_string(),
        "deployment mgmt-cluster:bookinfo/reviews-v2 not found"
    );
}

#[test]
fn break_mode_and_ready_timeout() {
    let plan = plan_with(&DrillOptions::default()).unwrap();
    assert_eq!(plan.break_mode, BreakMode::Command);
    assert!(!plan.break_mode_explicit);
    // No probes: the slack alone.
    assert_eq!(
        plan.targets[0].ready_timeout,
        crate::drill::workload::READY_SLACK
    );
    let plan = plan_with(&DrillOptions {
        break_mode: Some(BreakMode::Scale),
        break_ready_timeout: Some(Duration::from_secs(42)),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(plan.break_mode, BreakMode::Scale);
    assert!(plan.break_mode_explicit);
    assert_eq!(plan.targets[1].ready_timeout, Duration::from_secs(42));
    let v = serde_json::to_value(&plan).unwrap();
    assert_eq!(v["breakMode"], "scale");
    assert_eq!(v["targets"][0]["readyTimeout"], 42.0);
    // The scale patches.
    let p = plan
        .patches(&bookinfo(), &crate::testing::drill::ctx())
        .unwrap();
    assert_eq!(p[0].brk, serde_json::json!({"spec": {"replicas": 0}}));
    assert_eq!(p[0].restore["spec"], serde_json::json!({"replicas": 1}));
    assert_eq!(p[0].restore_plan.version, 2);
    let err = plan_with(&DrillOptions {
        break_ready_timeout: Some(Duration::ZERO),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "--break-ready-timeout 0: must be more than 0"
    );
}

#[test]
fn workload_ref_syntax() {
    let w: WorkloadRef = "mgmt-cluster:bookinfo/reviews-v1".parse().unwrap();
    assert_eq!(w.cluster.as_deref(), Some("mgmt-cluster"));
    assert_eq!(w.namespace.as_deref(), Some("bookinfo"));
    assert_eq!(w.to_string(), "mgmt-cluster:bookinfo/reviews-v1");
    let w: WorkloadRef = "reviews-v1".parse().unwrap();
    assert_eq!((w.cluster, w.namespace), (None, None));
    for bad in ["", "bookinfo/", ":bookinfo/x", "Bookinfo/x", "a/b/c", "x y"] {
        assert!(
            bad.parse::<WorkloadRef>().is_err(),
            "{bad:?} should be rejected"
        );
    }
}

#[test]
fn lookups_cover_flags() {
    let opts = DrillOptions {
        breaks: vec!["remote-cluster:bookinfo/reviews-v3".parse().unwrap()],
        probe_workload: Some("frontend/web".parse().unwrap()),
        ..Default::default()
    };
    let l = lookups(&mk_fs(), &opts).unwrap();
    let got: Vec<(String, String)> = l.namespaces.into_iter().collect();
    assert_eq!(
        got,
        [
            ("mgmt-cluster".to_string(), "bookinfo".to_string()),
            ("mgmt-cluster".to_string(), "frontend".to_string()),
            ("remote-cluster".to_string(), "bookinfo".to_string()),
        ]
    );
}
