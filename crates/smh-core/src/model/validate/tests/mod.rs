//! Unit tests of every validation rule and message string.

use super::*;
use crate::model::parse::parse_str;

const OUTLIER: &str = include_str!("../../../../../../examples/guide/1-outlier-detection.yaml");
const FS: &str = include_str!("../../../../../../examples/guide/2-failover-service.yaml");
const SHIFT: &str = include_str!("../../../../../../examples/guide/3-traffic-shift.yaml");
const TOPOLOGY: &str = include_str!("../../../../../../examples/topology.yaml");

fn manifests(docs: &[&str]) -> Vec<Manifest> {
    let text = docs.join("---\n");
    let loaded = parse_str("test.yaml", &text);
    assert!(
        loaded.diagnostics.is_empty(),
        "parse problems: {:#?}",
        loaded.diagnostics
    );
    loaded.manifests
}

fn example_topology() -> Topology {
    Topology::parse_bytes("topology.yaml", TOPOLOGY.as_bytes()).expect("example topology")
}

fn topo(yaml: &str) -> Topology {
    Topology::parse_bytes("t.yaml", yaml.as_bytes()).expect("test topology")
}

/// (severity, field, message, status target) of every diagnostic.
type Row = (Severity, String, String, Option<StatusTarget>);

fn rows(diags: &[Diagnostic]) -> Vec<Row> {
    diags
        .iter()
        .map(|d| {
            (
                d.severity,
                d.field.clone().unwrap_or_default(),
                d.message.clone(),
                d.status_target.clone(),
            )
        })
        .collect()
}

fn messages(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(|d| d.message.clone()).collect()
}

fn run(docs: &[&str], topology: &Topology) -> Vec<Diagnostic> {
    validate(&manifests(docs), topology)
}

fn run_default(docs: &[&str]) -> Vec<Diagnostic> {
    let m = manifests(docs);
    validate(&m, &Topology::from_manifests(&m))
}

const MGMT: &str = "istiod-istio-system-mgmt-cluster.service-mesh-hub.";

fn mesh_target() -> Option<StatusTarget> {
    Some(StatusTarget::Mesh(MGMT.to_string()))
}

fn err(field: &str, message: &str, target: Option<StatusTarget>) -> Row {
    (
        Severity::Error,
        field.to_string(),
        message.to_string(),
        target,
    )
}

// ---------------------------------------------------------------------------------------
// The guide
// ---------------------------------------------------------------------------------------

#[test]
fn the_guide_is_valid_with_default_and_example_topology() {
    assert_eq!(run_default(&[OUTLIER, FS, SHIFT]), vec![]);
    assert_eq!(run(&[OUTLIER, FS, SHIFT], &example_topology()), vec![]);
}

/// A TrafficPolicy of the guide's shape with `spec_tail` appended to its spec.
fn tp_with(spec_tail: &str) -> String {
    format!(
        "apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {{name: t, namespace: bookinfo}}\nspec:\n  destinationSelector:\n  - kubeServiceRefs:\n      services: [{{name: reviews, namespace: bookinfo, clusterName: mgmt-cluster}}]\n{spec_tail}"
    )
}

fn field_errors(spec_tail: &str) -> Vec<(String, String)> {
    run(&[&tp_with(spec_tail)], &example_topology())
        .into_iter()
        .map(|d| (d.field.unwrap_or_default(), d.message))
        .collect()
}

mod failover_service;
mod fields;
mod limits;
mod lint;
mod traffic_policy;
