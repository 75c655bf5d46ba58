//! Units a reader can hold: no source file over 800 lines. (Functions over 120 lines are
//! caught by clippy's `too_many_lines`, set in Cargo.toml and clippy.toml.)

use super::outside::tracked_files;
use crate::read;

/// The longest a source file may be.
const MAX_LINES: usize = 800;

/// Source files: what the project writes by hand and a reader has to follow. Generated files
/// (completions, docs/reference, man pages), goldens and test data are not source.
fn is_source(path: &str) -> bool {
    let code = [".rs", ".go", ".py", ".sh"]
        .iter()
        .any(|ext| path.ends_with(ext));
    let script = path.starts_with("scripts/") || path == ".ci/run";
    code || script
}

#[test]
fn no_source_file_is_longer_than_800_lines() {
    let files: Vec<String> = tracked_files()
        .into_iter()
        .filter(|p| is_source(p))
        .collect();
    assert!(
        files.iter().any(|p| p == "src/main.rs"),
        "the source list misses src/main.rs: {files:?}"
    );
    let mut long: Vec<String> = files
        .iter()
        .filter_map(|p| {
            let n = read(p).lines().count();
            (n > MAX_LINES).then(|| format!("{p}: {n} lines"))
        })
        .collect();
    long.sort();
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines (split them along their sections):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_source_filter_sees_code_and_scripts_only() {
    assert!(is_source("crates/smh-core/src/lib.rs"));
    assert!(is_source("tools/istio-oracle/main.go"));
    assert!(is_source("scripts/package"));
    assert!(is_source(".ci/run"));
    assert!(!is_source("docs/reference/kubectl-smh.md"));
    assert!(!is_source("completions/kubectl-smh.bash"));
    assert!(!is_source("tests/golden/guide-global/mgmt-cluster.yaml"));
}
