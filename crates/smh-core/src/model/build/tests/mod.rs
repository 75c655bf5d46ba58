//! Unit tests of the `failover create` builder.

use super::*;
use crate::model::parse::parse_str;
use crate::model::types::{TrafficPolicyStatus, ValidationStatus};

const OUTLIER: &str = include_str!("../../../../../../examples/guide/1-outlier-detection.yaml");
const FS: &str = include_str!("../../../../../../examples/guide/2-failover-service.yaml");
const SHIFT: &str = include_str!("../../../../../../examples/guide/3-traffic-shift.yaml");
const GUIDE_TOPOLOGY: &str =
    include_str!("../../../../../../tests/data/topology/guide-global.yaml");

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
        outlier: OutlierFlags {
            consecutive_errors: Some(1),
            ..OutlierFlags::default()
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

mod check;
mod defaults;
mod errors;
mod existing;
mod guide;
mod refs;
