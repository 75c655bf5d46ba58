//! Fixtures of the drill's tests: bookinfo's deployments, the guide's FailoverService, a
//! plan, probe streams and a finished drill.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::drill::machine::{Event, Machine};
use crate::drill::plan::{DrillOptions, DrillPlan, PlanInput, SteadySpec, build_plan};
use crate::drill::report::DrillReport;
use crate::drill::restore::RestoreContext;
use crate::drill::{Class, ProbeSample};
use crate::model::types::{
    BackingService, ClusterObjectRef, FailoverService, FailoverServicePort, FailoverServiceSpec,
    ObjectRef,
};

pub fn mk_container(name: &str, command: Option<&[&str]>, args: Option<&[&str]>) -> Container {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Container {
        name: name.into(),
        image: Some(format!("docker.io/istio/examples-bookinfo-{name}:1.16.2")),
        command: command.map(owned),
        args: args.map(owned),
        ports: Some(vec![ContainerPort {
            container_port: 9080,
            ..Default::default()
        }]),
        ..Default::default()
    }
}

pub fn mk_deployment(
    ns: &str,
    name: &str,
    labels: &[(&str, &str)],
    containers: Vec<Container>,
) -> Deployment {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Deployment {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            resource_version: Some("1042".into()),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers,
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    }
}

pub fn ctx() -> RestoreContext {
    RestoreContext {
        drill_id: "reviews-failover-20261127t101500z".into(),
        failover_service: ObjectRef {
            name: "reviews-failover".into(),
            namespace: "service-mesh-hub".into(),
        },
        started_at: "2026-11-27T10:15:00Z".into(),
    }
}

pub fn mk_fs() -> FailoverService {
    let svc = |cluster: &str| BackingService {
        kube_service: Some(ClusterObjectRef {
            name: "reviews".into(),
            namespace: "bookinfo".into(),
            cluster_name: cluster.into(),
        }),
    };
    FailoverService {
        api_version: crate::consts::SMH_API_VERSION.into(),
        kind: "FailoverService".into(),
        metadata: ObjectMeta {
            name: Some("reviews-failover".into()),
            namespace: Some("service-mesh-hub".into()),
            generation: Some(1),
            ..Default::default()
        },
        spec: FailoverServiceSpec {
            hostname: "reviews-failover.bookinfo.global".into(),
            port: Some(FailoverServicePort {
                number: 9080,
                protocol: "http".into(),
            }),
            meshes: None,
            backing_services: vec![svc("mgmt-cluster"), svc("remote-cluster")],
        },
        status: None,
    }
}

pub fn mk_service() -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some("reviews".into()),
            namespace: Some("bookinfo".into()),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(BTreeMap::from([("app".to_string(), "reviews".to_string())])),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 9080,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    }
}

/// Bookinfo in SMH's layout: mgmt-cluster has productpage, details, ratings, reviews-v1
/// and v2; remote-cluster has reviews-v3 and ratings.
pub fn bookinfo() -> BTreeMap<String, Vec<Deployment>> {
    let d = |name: &str, app: &str, version: &str| {
        mk_deployment(
            "bookinfo",
            name,
            &[("app", app), ("version", version)],
            vec![mk_container(app, None, None)],
        )
    };
    BTreeMap::from([
        (
            "mgmt-cluster".to_string(),
            vec![
                d("details-v1", "details", "v1"),
                d("productpage-v1", "productpage", "v1"),
                d("ratings-v1", "ratings", "v1"),
                d("reviews-v2", "reviews", "v2"),
                d("reviews-v1", "reviews", "v1"),
            ],
        ),
        (
            "remote-cluster".to_string(),
            vec![
                d("reviews-v3", "reviews", "v3"),
                d("ratings-v1", "ratings", "v1"),
            ],
        ),
    ])
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A probe stream at `rate_ms` intervals from `from` (inclusive) to `to` (exclusive),
/// classes from `f(at)`.
pub fn stream(from: u64, to: u64, rate_ms: u64, f: impl Fn(u64) -> Class) -> Vec<ProbeSample> {
    (from..to)
        .step_by(rate_ms as usize)
        .map(|t| ProbeSample {
            at: ms(t),
            class: f(t),
            latency: ms(5),
            status: Some(if f(t) == Class::Error { 503 } else { 200 }),
            reason: (f(t) == Class::Error).then(|| "HTTP 503".to_string()),
        })
        .collect()
}

pub fn spec() -> SteadySpec {
    SteadySpec {
        window: 20,
        percent: 99.0,
    }
}

pub fn plan() -> DrillPlan {
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
        &DrillOptions {
            max_errors: Some(5),
            ..Default::default()
        },
    )
    .unwrap()
}

/// The report of [`finished_machine`], for tests elsewhere.
pub fn sample_report() -> DrillReport {
    DrillReport::build(
        &finished_machine(),
        "reviews-failover-20261127t101500z",
        "2026-11-27T10:15:00Z",
        None,
    )
}

pub fn probe(at: u64, class: Class) -> Event {
    Event::Probe(ProbeSample {
        at: ms(at),
        class,
        latency: ms(3),
        status: Some(200),
        reason: (class == Class::Error).then(|| "no answer: connection refused".into()),
    })
}

/// A full simulated drill at 10 probes/s.
pub(crate) fn finished_machine() -> Machine {
    let mut m = Machine::new(&plan());
    m.start();
    m.handle(ms(0), Event::PreflightPassed);
    let mut t = 0;
    let mut step = |m: &mut Machine, until: u64, class: Class| {
        while t + 100 <= until {
            t += 100;
            m.handle(ms(t), probe(t, class));
        }
    };
    step(&mut m, 2_000, Class::Primary);
    m.handle(ms(2_000), Event::Confirmed);
    m.handle(ms(2_050), Event::Saved);
    m.handle(ms(2_100), Event::Patched);
    step(&mut m, 4_000, Class::Primary);
    step(&mut m, 4_100, Class::Error);
    step(&mut m, 5_500, Class::FailedOver);
    m.handle(ms(5_500), Event::RolloutComplete);
    step(&mut m, 7_000, Class::FailedOver);
    m.handle(ms(7_050), Event::Restored);
    step(&mut m, 9_000, Class::FailedOver);
    m.handle(ms(9_000), Event::RolloutComplete);
    step(&mut m, 9_500, Class::FailedOver);
    step(&mut m, 12_000, Class::Primary);
    assert!(m.is_finished(), "{:?}", m.phase());
    m
}
