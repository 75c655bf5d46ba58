//! Errors: every BuildError and its message.

use super::*;

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
