//! Unit tests of the `failover create` builder.

use super::*;
use crate::model::parse::parse_str;
use crate::model::types::{TrafficPolicyStatus, ValidationStatus};

const OUTLIER: &str = include_str!("../../../../examples/guide/1-outlier-detection.yaml");
const FS: &str = include_str!("../../../../examples/guide/2-failover-service.yaml");
const SHIFT: &str = include_str!("../../../../examples/guide/3-traffic-shift.yaml");
const GUIDE_TOPOLOGY: &str = include_str!("../../../../tests/data/topology/guide-global.yaml");

fn topology() -> Topology {
    Topology::parse_bytes("guide-global.yaml", GUIDE_TOPOLOGY.as_bytes()).expect("topology")
}

fn manifests(docs: &[&str]) -> Vec<Manifest> {
    let loaded = parse_str("live", &docs.join("---\n"));
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    loaded.manifests
}

fn r(s: &str) -> ClusterObjectRef {
    parse_service_ref(s).unwrap()
}

fn guide_options() -> CreateOptions {
    CreateOptions {
        name: Some("reviews-failover".into()),
        namespace: SMH_NAMESPACE.into(),
        backing: vec![
            r("reviews.bookinfo@mgmt-cluster"),
            r("reviews.bookinfo@remote-cluster"),
        ],
        outlier: OutlierValues {
            consecutive_errors: Some(1),
            ..OutlierValues::default()
        },
        shift_from: vec![r("reviews.bookinfo@mgmt-cluster")],
        ..CreateOptions::default()
    }
}

fn plan_for(opts: &CreateOptions, existing: &[Manifest]) -> Result<CreatePlan, Vec<BuildError>> {
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing,
    };
    let req = resolve(opts, &live)?;
    build(&req, &live)
}

fn accepted(mut m: Vec<Manifest>) -> Vec<Manifest> {
    for x in &mut m {
        if let SmhObject::TrafficPolicy(tp) = &mut x.object {
            let targets = index_keys(tp);
            tp.status = Some(TrafficPolicyStatus {
                observed_generation: 1,
                state: ApprovalState::Accepted,
                traffic_targets: targets
                    .into_iter()
                    .map(|k| {
                        (
                            k,
                            ValidationStatus {
                                state: ApprovalState::Accepted,
                                ..ValidationStatus::default()
                            },
                        )
                    })
                    .collect(),
                ..TrafficPolicyStatus::default()
            });
        }
    }
    m
}

fn index_keys(tp: &TrafficPolicy) -> Vec<String> {
    let t = topology();
    crate::model::select::traffic_policy_targets(tp, &t)
        .iter()
        .map(|t| t.key())
        .collect()
}

fn strip_annotations(o: SmhObject) -> SmhObject {
    match o {
        SmhObject::TrafficPolicy(mut tp) => {
            let a = tp.metadata.annotations.take().unwrap_or_default();
            assert_eq!(
                a.get(CREATED_FOR_ANNOTATION).map(String::as_str),
                Some("service-mesh-hub/reviews-failover"),
                "every policy made for the FailoverService carries the annotation"
            );
            SmhObject::TrafficPolicy(tp)
        }
        fs => fs,
    }
}

// ---------------------------------------------------------------------------------------
// svc.ns@cluster and mesh refs
// ---------------------------------------------------------------------------------------

#[test]
fn service_refs_parse_strictly() {
    let ok = parse_service_ref("reviews.bookinfo@mgmt-cluster").unwrap();
    assert_eq!(
        ok,
        ClusterObjectRef {
            name: "reviews".into(),
            namespace: "bookinfo".into(),
            cluster_name: "mgmt-cluster".into(),
        }
    );
    assert_eq!(service_ref(&ok), "reviews.bookinfo@mgmt-cluster");
    // A cluster name may hold dots (a DNS-1123 subdomain).
    assert_eq!(
        parse_service_ref("a.b@gke.europe-west1")
            .unwrap()
            .cluster_name,
        "gke.europe-west1"
    );

    let cases = [
        ("reviews", "no '@CLUSTER'"),
        ("reviews@mgmt", "no '.NAMESPACE'"),
        (
            "reviews.bookinfo.svc.cluster.local@mgmt",
            "more than one '.'",
        ),
        ("reviews.bookinfo@mgmt@x", "more than one '@'"),
        (".bookinfo@mgmt", "the service name is empty"),
        ("reviews.@mgmt", "the namespace is empty"),
        ("reviews.bookinfo@", "the cluster name is empty"),
        (
            "Reviews.bookinfo@mgmt",
            "the service name \"Reviews\" is invalid",
        ),
        (
            "reviews.book_info@mgmt",
            "the namespace \"book_info\" is invalid",
        ),
        (
            "reviews.bookinfo@Mgmt",
            "the cluster name \"Mgmt\" is invalid",
        ),
        (" reviews.bookinfo@mgmt", "leading or trailing spaces"),
    ];
    for (input, want) in cases {
        let e = parse_service_ref(input).unwrap_err();
        assert!(e.contains(want), "{input:?}: {e}");
        assert!(
            e.contains("expected SERVICE.NAMESPACE@CLUSTER"),
            "{input:?}: {e}"
        );
    }
}

#[test]
fn mesh_refs_default_to_the_smh_namespace() {
    assert_eq!(
        parse_mesh_ref("istiod-istio-system-mgmt-cluster").unwrap(),
        ObjectRef {
            name: "istiod-istio-system-mgmt-cluster".into(),
            namespace: "service-mesh-hub".into()
        }
    );
    assert_eq!(parse_mesh_ref("m.other").unwrap().namespace, "other");
    for bad in ["", "a.b.c", "M", ".x", "x."] {
        assert!(parse_mesh_ref(bad).is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------
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
    let v = OutlierValues {
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
        OutlierValues::default().to_smh(),
        OutlierDetection::default()
    );
    assert_eq!(
        OutlierValues::from_smh(&v.to_smh()).effective(),
        v.effective()
    );
    assert!(!OutlierValues::from_effective(EffectiveOutlier::smh_default()).is_set());
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
// The guide
// ---------------------------------------------------------------------------------------

#[test]
fn the_guides_parameters_give_the_guides_manifests() {
    let opts = CreateOptions {
        outlier_policy_name: Some("mgmt-reviews-outlier".into()),
        shift_policy_name: Some("reviews-shift-failover".into()),
        ..guide_options()
    };
    let plan = plan_for(&opts, &[]).unwrap();
    let ours: Vec<SmhObject> = plan.objects().into_iter().map(strip_annotations).collect();
    let guide: Vec<SmhObject> = manifests(&[OUTLIER, FS, SHIFT])
        .into_iter()
        .map(|m| m.object)
        .collect();
    assert_eq!(ours, guide);

    // And they pass the parser and validation, with nothing to report.
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing: &[],
    };
    let checked = check(&plan, &live);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    assert_eq!(
        checked
            .manifests
            .iter()
            .map(|m| m.object.clone())
            .collect::<Vec<_>>(),
        plan.objects()
    );
    let yaml = plan.to_yaml().unwrap();
    assert!(
        yaml.starts_with("apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\n"),
        "{yaml}"
    );
    assert_eq!(yaml.matches("\n---\n").count(), 2, "{yaml}");
}

#[test]
fn default_policy_names() {
    let plan = plan_for(&guide_options(), &[]).unwrap();
    let ids: Vec<String> = plan.ids().iter().map(|i| i.to_string()).collect();
    assert_eq!(
        ids,
        [
            "TrafficPolicy service-mesh-hub/reviews-failover-outlier",
            "FailoverService service-mesh-hub/reviews-failover",
            "TrafficPolicy bookinfo/reviews-failover-shift",
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Existing policies
// ---------------------------------------------------------------------------------------

#[test]
fn existing_outlier_detection_is_reused() {
    let existing = accepted(manifests(&[OUTLIER]));
    let opts = CreateOptions {
        outlier: OutlierValues::default(),
        ..guide_options()
    };
    let plan = plan_for(&opts, &existing).unwrap();
    assert!(plan.outlier_policy.is_none());
    assert_eq!(plan.reused_outlier.len(), 2);
    assert_eq!(plan.reused_outlier[0].policy.name, "mgmt-reviews-outlier");
    assert_eq!(plan.reused_outlier[0].values.consecutive_errors, Some(1));

    // Explicit outlier values that would not be used are an error, naming the policy.
    let err = plan_for(&guide_options(), &existing).unwrap_err();
    assert!(
        matches!(err.as_slice(), [BuildError::OutlierFlagsUnused { covered }] if covered.len() == 2),
        "{err:?}"
    );
    let msg = err[0].to_string();
    assert!(
        msg.contains("reviews.bookinfo@mgmt-cluster from TrafficPolicy service-mesh-hub/mgmt-reviews-outlier: consecutiveErrors 1"),
        "{msg}"
    );

    // Validation of existing + new is clean: the existing policy counts for the new FS.
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing: &existing,
    };
    let checked = check(&plan, &live);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
}

#[test]
fn partly_covered_backing_services_get_a_policy_for_the_rest() {
    let one = OUTLIER.replace(
        "      - name: reviews\n        namespace: bookinfo\n        clusterName: remote-cluster\n",
        "",
    );
    assert_ne!(one, OUTLIER);
    let existing = accepted(manifests(&[&one]));
    let plan = plan_for(&guide_options(), &existing).unwrap();
    let od = plan.outlier_policy.unwrap();
    let services = &od.spec.destination_selector[0]
        .kube_service_refs
        .as_ref()
        .unwrap()
        .services;
    assert_eq!(services, &vec![r("reviews.bookinfo@remote-cluster")]);
    assert_eq!(plan.reused_outlier.len(), 1);
    assert_eq!(
        plan.reused_outlier[0].service,
        r("reviews.bookinfo@mgmt-cluster")
    );
}

#[test]
fn a_rejected_policy_does_not_count() {
    let mut existing = accepted(manifests(&[OUTLIER]));
    let SmhObject::TrafficPolicy(tp) = &mut existing[0].object else {
        panic!()
    };
    let status = tp.status.as_mut().unwrap();
    status
        .traffic_targets
        .get_mut("reviews-bookinfo-remote-cluster.service-mesh-hub.")
        .unwrap()
        .state = ApprovalState::Invalid;
    let plan = plan_for(&guide_options(), &existing).unwrap();
    assert_eq!(plan.reused_outlier.len(), 1);
    assert_eq!(
        plan.outlier_policy.unwrap().spec.destination_selector[0]
            .kube_service_refs
            .as_ref()
            .unwrap()
            .services,
        vec![r("reviews.bookinfo@remote-cluster")]
    );

    // Overall INVALID: neither counts.
    let SmhObject::TrafficPolicy(tp) = &mut existing[0].object else {
        panic!()
    };
    tp.status.as_mut().unwrap().state = ApprovalState::Invalid;
    let plan = plan_for(&guide_options(), &existing).unwrap();
    assert!(plan.reused_outlier.is_empty());
}

#[test]
fn a_pending_policy_counts_and_a_policy_without_outlier_detection_does_not() {
    // Stored but not yet processed (no status): counts.
    let existing = manifests(&[OUTLIER]);
    let plan = plan_for(
        &CreateOptions {
            outlier: OutlierValues::default(),
            ..guide_options()
        },
        &existing,
    )
    .unwrap();
    assert_eq!(plan.reused_outlier.len(), 2);

    // A retries-only policy on the same services gives no outlier detection.
    let retries = OUTLIER
        .replace("name: mgmt-reviews-outlier", "name: reviews-retries")
        .replace(
            "  outlierDetection:\n    consecutiveErrors: 1\n",
            "  retries:\n    attempts: 2\n",
        );
    let existing = accepted(manifests(&[&retries]));
    let plan = plan_for(&guide_options(), &existing).unwrap();
    assert!(plan.reused_outlier.is_empty());
    assert!(plan.outlier_policy.is_some());
}

#[test]
fn shifts_are_grouped_by_namespace_and_existing_ones_kept() {
    let topology = Topology::parse_bytes(
        "t.yaml",
        format!(
            "{GUIDE_TOPOLOGY}  - name: frontend\n    namespace: shop\n    ports: [{{name: http, port: 80}}]\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let existing = accepted(manifests(&[SHIFT]));
    let live = Live {
        topology: &topology,
        existing: &existing,
    };
    let opts = CreateOptions {
        shift_from: vec![
            r("reviews.bookinfo@mgmt-cluster"),
            r("reviews.bookinfo@remote-cluster"),
            r("ratings.bookinfo@mgmt-cluster"),
            r("frontend.shop@remote-cluster"),
        ],
        ..guide_options()
    };
    let plan = build(&resolve(&opts, &live).unwrap(), &live).unwrap();
    // reviews@mgmt is already shifted to reviews-failover by the guide's policy.
    assert_eq!(
        plan.already_shifted,
        vec![(
            r("reviews.bookinfo@mgmt-cluster"),
            ObjectId {
                kind: "TrafficPolicy".into(),
                namespace: "bookinfo".into(),
                name: "reviews-shift-failover".into()
            }
        )]
    );
    let shifts: Vec<(String, Vec<String>)> = plan
        .shift_policies
        .iter()
        .map(|p| {
            (
                tp_id(p).to_string(),
                p.spec.destination_selector[0]
                    .kube_service_refs
                    .as_ref()
                    .unwrap()
                    .services
                    .iter()
                    .map(service_ref)
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        shifts,
        vec![
            (
                "TrafficPolicy bookinfo/reviews-failover-shift".to_string(),
                vec![
                    "reviews.bookinfo@remote-cluster".to_string(),
                    "ratings.bookinfo@mgmt-cluster".to_string()
                ]
            ),
            (
                "TrafficPolicy shop/reviews-failover-shift".to_string(),
                vec!["frontend.shop@remote-cluster".to_string()]
            ),
        ]
    );
    let dest = &plan.shift_policies[0]
        .spec
        .traffic_shift
        .as_ref()
        .unwrap()
        .destinations[0];
    assert_eq!(
        dest.failover_service
            .as_ref()
            .map(|f| (f.name.as_str(), f.namespace.as_str())),
        Some(("reviews-failover", "service-mesh-hub"))
    );
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

fn errors_of(opts: &CreateOptions, existing: &[Manifest]) -> Vec<String> {
    plan_for(opts, existing)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn bad_services_are_reported_together() {
    let opts = CreateOptions {
        backing: vec![
            r("reviews.bookinfo@mgmt-cluster"),
            r("reviews.bookinfo@other-cluster"),
            r("reviewz.bookinfo@remote-cluster"),
            r("reviews.bookinfo@mgmt-cluster"),
        ],
        shift_from: vec![r("nothing.here@mgmt-cluster")],
        ..guide_options()
    };
    assert_eq!(
        errors_of(&opts, &[]),
        vec![
            "--backing reviews.bookinfo@other-cluster: cluster \"other-cluster\" was not discovered (clusters: mgmt-cluster, remote-cluster)",
            "--backing reviewz.bookinfo@remote-cluster: no such Service in cluster remote-cluster (did you mean ratings.bookinfo@remote-cluster, reviews.bookinfo@remote-cluster?)",
            "--backing reviews.bookinfo@mgmt-cluster is given twice",
            "--shift-from nothing.here@mgmt-cluster: no such Service in cluster mgmt-cluster",
        ]
    );
}

#[test]
fn too_few_backing_services() {
    let opts = CreateOptions {
        backing: vec![r("reviews.bookinfo@mgmt-cluster")],
        ..guide_options()
    };
    assert_eq!(
        errors_of(&opts, &[]),
        vec![
            "a FailoverService needs at least two backing services (--backing, in priority order) to fail over; 1 given"
        ]
    );
}

#[test]
fn a_service_without_sidecars_is_refused() {
    let topology = Topology::parse_bytes(
        "t.yaml",
        GUIDE_TOPOLOGY
            .replace(
                "    labels: {app: reviews, service: reviews}\n- name: remote-cluster",
                "    labels: {app: reviews, service: reviews}\n    sidecarWorkloads: false\n- name: remote-cluster",
            )
            .as_bytes(),
    )
    .unwrap();
    let live = Live {
        topology: &topology,
        existing: &[],
    };
    let errs = resolve(&guide_options(), &live).unwrap_err();
    assert_eq!(
        errs,
        vec![
            BuildError::NoSidecar {
                flag: "--backing",
                service: "reviews.bookinfo@mgmt-cluster".into()
            },
            BuildError::NoSidecar {
                flag: "--shift-from",
                service: "reviews.bookinfo@mgmt-cluster".into()
            }
        ]
    );
    assert!(
        errs[0]
            .to_string()
            .contains("discovery.smh.solo.io/enabled=true")
    );
}

#[test]
fn ports_and_meshes_that_cannot_be_defaulted() {
    let topology = Topology::parse_bytes(
        "t.yaml",
        GUIDE_TOPOLOGY
            .replace(
                "  - name: reviews\n    namespace: bookinfo\n    ports: [{name: http, port: 9080}]\n    labels: {app: reviews, service: reviews}\n- name: remote-cluster",
                "  - name: reviews\n    namespace: bookinfo\n    ports: [{name: http, port: 9080}, {name: grpc, port: 9090}, {name: dns, port: 53, protocol: UDP}]\n- name: remote-cluster",
            )
            .as_bytes(),
    )
    .unwrap();
    let live = Live {
        topology: &topology,
        existing: &[],
    };
    let errs = resolve(&guide_options(), &live).unwrap_err();
    assert_eq!(
        errs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec![
            "reviews.bookinfo@mgmt-cluster has several ports (9080 (http), 9090 (grpc)): pass --port"
        ]
    );
    let req = resolve(
        &CreateOptions {
            port: Some(9090),
            ..guide_options()
        },
        &live,
    )
    .unwrap();
    assert_eq!((req.port, req.protocol.as_str()), (9090, "grpc"));

    let mut no_mesh = topology.clone();
    no_mesh.clusters[0].mesh = None;
    let live = Live {
        topology: &no_mesh,
        existing: &[],
    };
    let errs = resolve(
        &CreateOptions {
            port: Some(9080),
            ..guide_options()
        },
        &live,
    )
    .unwrap_err();
    assert_eq!(
        errs,
        vec![BuildError::NoMesh {
            cluster: "mgmt-cluster".into()
        }]
    );
    // --mesh answers it.
    assert!(
        resolve(
            &CreateOptions {
                port: Some(9080),
                meshes: vec![parse_mesh_ref("istiod-istio-system-remote-cluster").unwrap()],
                ..guide_options()
            },
            &live,
        )
        .is_ok()
    );
}

#[test]
fn existing_names_are_not_overwritten() {
    let existing = accepted(manifests(&[FS]));
    let errs = errors_of(&guide_options(), &existing);
    assert_eq!(
        errs,
        vec![
            "FailoverService service-mesh-hub/reviews-failover already exists (hostname reviews-failover.bookinfo.global): choose another name, delete it with `kubectl smh failover delete reviews-failover`, or change it with `kubectl smh apply`"
        ]
    );

    let taken = SHIFT.replace(
        "name: reviews-shift-failover",
        "name: reviews-failover-shift",
    );
    let other_fs = taken.replace("name: reviews-failover\n", "name: other\n");
    let existing = accepted(manifests(&[&other_fs]));
    let errs = errors_of(&guide_options(), &existing);
    assert_eq!(
        errs,
        vec![
            "TrafficPolicy bookinfo/reviews-failover-shift already exists and was not made for this FailoverService: pass --shift-policy-name with another name"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// check()
// ---------------------------------------------------------------------------------------

#[test]
fn check_reports_what_validation_finds_in_the_new_objects() {
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing: &[],
    };
    let opts = CreateOptions {
        hostname: Some("reviews.example.com".into()),
        outlier: OutlierValues {
            max_ejection_percent: Some(50),
            ..OutlierValues::default()
        },
        ..guide_options()
    };
    let plan = build(&resolve(&opts, &live).unwrap(), &live).unwrap();
    let checked = check(&plan, &live);
    assert!(checked.has_errors());
    let lines: Vec<String> = crate::model::report::dedupe_for_display(&checked.diagnostics)
        .iter()
        .map(|d| format!("{}: {d}", d.severity))
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("error: failover create:")
            && l.contains("FailoverService service-mesh-hub/reviews-failover: spec.hostname: Provided hostname reviews.example.com is missing required suffix \".global\".")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("warning: ")
            && l.contains(
                "spec.outlierDetection.maxEjectionPercent: maxEjectionPercent 50 is below 100"
            )),
        "{lines:#?}"
    );
}

#[test]
fn check_ignores_problems_that_existed_before() {
    // An unrelated, already broken policy in the cluster does not block creation.
    let broken = OUTLIER
        .replace("name: mgmt-reviews-outlier", "name: broken")
        .replace("clusterName: remote-cluster", "clusterName: gone-cluster");
    let existing = manifests(&[&broken]);
    let topology = topology();
    let live = Live {
        topology: &topology,
        existing: &existing,
    };
    assert!(
        validate_with(&existing, &topology, &ValidateOptions::default())
            .iter()
            .any(|d| d.severity == Severity::Error)
    );
    let opts = CreateOptions {
        outlier: OutlierValues::default(),
        ..guide_options()
    };
    let plan = build(&resolve(&opts, &live).unwrap(), &live).unwrap();
    // `broken` refers to a cluster that does not exist: SMH would not apply it at all,
    // so it gives no outlier detection, and the new policy covers both services without
    // conflicting with it.
    assert!(plan.reused_outlier.is_empty());
    assert_eq!(
        plan.outlier_policy
            .as_ref()
            .unwrap()
            .spec
            .destination_selector[0]
            .kube_service_refs
            .as_ref()
            .unwrap()
            .services
            .len(),
        2
    );
    let checked = check(&plan, &live);
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
}

#[test]
fn check_catches_invalid_names() {
    let opts = CreateOptions {
        name: Some("Reviews_Failover".into()),
        hostname: Some("reviews-failover.bookinfo.global".into()),
        ..guide_options()
    };
    let plan = plan_for(&opts, &[]).unwrap();
    let topology = topology();
    let checked = check(
        &plan,
        &Live {
            topology: &topology,
            existing: &[],
        },
    );
    assert!(checked.has_errors());
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.field.as_deref() == Some("metadata.name")),
        "{:#?}",
        checked.diagnostics
    );
}
