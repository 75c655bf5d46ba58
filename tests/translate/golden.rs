//! Golden files: the full translation of the guide (both multi-cluster modes, both
//! aggregate config types) and of `examples/all-fields`, reviewed as YAML diffs.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test translate golden`.

use kubectl_smh::render;

use smh_core::translate::Strategy;

use super::support::{assert_golden, translate_ok, translate_ok_with};

const GUIDE: &[&str] = &["examples/guide"];
const ALL_FIELDS: &[&str] = &["examples/all-fields/manifests"];

/// The guide's `.global` topology keeps SMH's translation under the default strategy: the
/// global goldens are translated with `auto`. The multi-primary ones are the aggregate
/// strategy's (`--strategy aggregate`); `auto` gives the `-native` goldens there.
fn golden_yaml(name: &str, manifests: &[&str], topology: &str) {
    golden_yaml_with(name, manifests, topology, Strategy::Auto);
}

fn golden_yaml_with(name: &str, manifests: &[&str], topology: &str, strategy: Strategy) {
    let t = translate_ok_with(manifests, topology, strategy);
    let yaml = smh_core::yaml_writer::to_yaml_stream(&t.values()).unwrap();
    assert_golden(&format!("{name}.yaml"), &yaml);
    let explained: String = t.explanations.iter().map(|e| format!("{e}\n")).collect();
    assert_golden(&format!("{name}.explain.txt"), &explained);
}

#[test]
fn guide_global_v3() {
    golden_yaml(
        "guide-global",
        GUIDE,
        "tests/data/topology/guide-global.yaml",
    );
}

#[test]
fn guide_global_istio_1_8_v2alpha() {
    golden_yaml(
        "guide-global-istio-1.8",
        GUIDE,
        "tests/data/topology/guide-global-istio-1.8.yaml",
    );
}

#[test]
fn guide_multi_primary_v3() {
    golden_yaml_with(
        "guide-multi-primary",
        GUIDE,
        "tests/data/topology/guide-multi-primary.yaml",
        Strategy::Aggregate,
    );
}

#[test]
fn guide_multi_primary_istio_1_8_v2alpha() {
    golden_yaml_with(
        "guide-multi-primary-istio-1.8",
        GUIDE,
        "tests/data/topology/guide-multi-primary-istio-1.8.yaml",
        Strategy::Aggregate,
    );
}

/// The guide in Istio multi-primary (1.24) under the default strategy: native.
#[test]
fn guide_multi_primary_native() {
    golden_yaml(
        "guide-multi-primary-native",
        GUIDE,
        "tests/data/topology/guide-multi-primary.yaml",
    );
}

#[test]
fn guide_global_json_list() {
    let t = translate_ok(GUIDE, "tests/data/topology/guide-global.yaml");
    assert_golden("guide-global.json", &render::json::to_list(&t.values()));
}

#[test]
fn all_fields_global() {
    golden_yaml(
        "all-fields-global",
        ALL_FIELDS,
        "examples/all-fields/topology.yaml",
    );
}

#[test]
fn all_fields_multi_primary() {
    golden_yaml_with(
        "all-fields-multi-primary",
        ALL_FIELDS,
        "tests/data/topology/all-fields-multi-primary.yaml",
        Strategy::Aggregate,
    );
}

#[test]
fn golden_files_parse_back_to_the_same_objects() {
    // The YAML renderer must round-trip: what kubectl would read is what we generated.
    for (manifests, topology) in [
        (GUIDE, "tests/data/topology/guide-global-istio-1.8.yaml"),
        (ALL_FIELDS, "examples/all-fields/topology.yaml"),
    ] {
        let t = translate_ok(manifests, topology);
        let yaml = smh_core::yaml_writer::to_yaml_stream(&t.values()).unwrap();
        let back: Vec<serde_json::Value> = serde_saphyr::from_str_multiple(&yaml).unwrap();
        assert_eq!(back, t.values());
    }
}
