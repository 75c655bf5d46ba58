//! The guide's manifests must translate to exactly smh-api.md §3.3's object set.

use kubectl_smh::render;

use super::support::translate_ok;

const GUIDE: &[&str] = &["examples/guide"];

#[test]
fn debug_print() {
    let t = translate_ok(GUIDE, &std::env::var("TOPO").unwrap());
    print!("{}", render::yaml::to_yaml_stream(&t.values()).unwrap());
    for e in &t.explanations {
        println!("# {e}");
    }
    for d in &t.diagnostics {
        println!("# {d:?}");
    }
}
