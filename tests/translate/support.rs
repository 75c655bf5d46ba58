//! Shared helpers: input loading, golden files, peer discovery.

use std::path::PathBuf;

use smh_core::model::Manifest;
use smh_core::model::diag::Severity;
use smh_core::model::parse::load_paths;
use smh_core::model::topology::Topology;
use smh_core::model::validate::validate;
use smh_core::translate::{Strategy, TranslateOptions, Translation, translate_with};

pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn repo_path(rel: &str) -> PathBuf {
    repo_root().join(rel)
}

/// Load SMH manifests (files or directories, relative to the repo root) with the model's
/// parser; any parse error fails the test.
pub(crate) fn load_manifests(paths: &[&str]) -> Vec<Manifest> {
    let paths: Vec<PathBuf> = paths.iter().map(|p| repo_path(p)).collect();
    let loaded = load_paths(&paths);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    loaded.manifests
}

/// Load and check a topology file (relative to the repo root).
pub(crate) fn load_topology(path: &str) -> Topology {
    Topology::load(&repo_path(path)).unwrap_or_else(|e| panic!("{path}: {:#?}", e.diagnostics()))
}

/// Validate (SMH rules) and translate inputs (strategy auto); fail on any error of either.
pub(crate) fn translate_ok(manifests: &[&str], topology: &str) -> Translation {
    translate_ok_with(manifests, topology, Strategy::Auto)
}

/// [`translate_ok`] with a `--strategy`.
pub(crate) fn translate_ok_with(
    manifests: &[&str],
    topology: &str,
    strategy: Strategy,
) -> Translation {
    let manifests = load_manifests(manifests);
    let topology = load_topology(topology);
    let problems = validate(&manifests, &topology);
    let errors: Vec<_> = problems
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "invalid test input: {errors:#?}");
    let t = translate_with(&manifests, &topology, TranslateOptions { strategy });
    assert!(
        !t.has_errors(),
        "unexpected translation errors: {:#?}",
        t.diagnostics
    );
    t
}

/// Compare `actual` with the golden file `tests/golden/<name>`; with `UPDATE_GOLDEN=1`
/// (re)write it instead.
pub(crate) fn assert_golden(name: &str, actual: &str) {
    let path = repo_path("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(10)
            .map(|(i, (a, b))| format!("line {}:\n  golden: {a}\n  actual: {b}", i + 1))
            .collect();
        panic!(
            "{} differs from the generated output ({} vs {} lines); first differences:\n{}\nReview and run with UPDATE_GOLDEN=1 to accept.",
            path.display(),
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

/// Skip (print `SKIP: ...` and return `None`) or, with `SMH_REQUIRE_PEERS=1`, panic.
pub(crate) fn skip_or_fail<T>(why: &str) -> Option<T> {
    crate::common::skip_or_fail(why);
    None
}

/// The Envoy binary: `$SMH_ENVOY`, then `envoy` on PATH, then `.venv-envoy/bin/envoy` in
/// the repo root (where `.ci/run` installs it).
pub(crate) fn find_envoy() -> Option<PathBuf> {
    crate::common::peer_with("envoy", "SMH_ENVOY", &[repo_path(".venv-envoy/bin/envoy")])
}
