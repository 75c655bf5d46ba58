//! The bad-input corpus: every malformed input gives exit 2, a message naming the file and
//! the field, and no panic. Committed cases are in `tests/bad-input/` with their expected
//! substrings in `tests/bad-input/expectations.txt`; the very large and very deeply nested
//! inputs are generated here into a temporary directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-input")
}

/// `kubectl-smh validate -f <path>`, isolated from the developer's kubeconfig. The timeout
/// only guards against a hang; it is not a speed target.
fn validate(path: &Path) -> (i32, String, String) {
    let output = cargo_bin_cmd!("kubectl-smh")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("NO_COLOR", "1")
        .arg("validate")
        .arg("-f")
        .arg(path)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run kubectl-smh");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn expectations() -> BTreeMap<String, Vec<String>> {
    let text =
        std::fs::read_to_string(corpus_dir().join("expectations.txt")).expect("expectations.txt");
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (file, substring) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("bad expectation line {line:?}"));
        out.entry(file.to_string())
            .or_default()
            .push(substring.to_string());
    }
    out
}

fn check(path: &Path, expected: &[String]) -> Result<(), String> {
    let (code, stdout, stderr) = validate(path);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let mut problems = Vec::new();
    if code != 2 {
        problems.push(format!("exit code {code}, expected 2"));
    }
    if stderr.contains("panicked") || stdout.contains("panicked") {
        problems.push("panicked".to_string());
    }
    if !stdout.contains(&name) {
        problems.push(format!("output does not name the file {name}"));
    }
    for e in expected {
        if !stdout.contains(e.as_str()) {
            problems.push(format!("missing {e:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{name}: {}\n--- stdout:\n{stdout}--- stderr:\n{stderr}",
            problems.join("; ")
        ))
    }
}

#[test]
fn corpus_cases_fail_cleanly_with_file_and_field() {
    let expectations = expectations();
    let files: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("corpus dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "expectations.txt")
        .collect();
    assert!(
        files.len() >= 30,
        "the corpus needs at least 30 cases, has {}",
        files.len()
    );
    for f in &files {
        assert!(
            expectations.contains_key(f),
            "{f} has no expectation in expectations.txt"
        );
    }
    for f in expectations.keys() {
        assert!(
            files.contains(f),
            "expectations.txt names {f}, which does not exist"
        );
    }
    let failures: Vec<String> = expectations
        .iter()
        .filter_map(|(file, expected)| check(&corpus_dir().join(file), expected).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        expectations.len(),
        failures.join("\n")
    );
}

const FS_HEAD: &str = "apiVersion: networking.smh.solo.io/v1alpha2
kind: FailoverService
metadata:
  name: big
  namespace: service-mesh-hub
";

#[test]
fn generated_large_and_deep_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cases: Vec<(PathBuf, Vec<String>)> = Vec::new();

    // A 10 MB object: one huge annotation.
    let p = dir.path().join("large-object.yaml");
    let text = format!(
        "{FS_HEAD}  annotations:\n    blob: \"{}\"\nspec: {{}}\n",
        "x".repeat(10 * 1024 * 1024)
    );
    std::fs::write(&p, text).unwrap();
    cases.push((
        p,
        vec!["the Kubernetes API server accepts at most 3 MiB per object".into()],
    ));

    // A 10 MB document of many values: stopped by the value limit, not by running out of memory.
    let p = dir.path().join("large-list.yaml");
    let mut text = format!("{FS_HEAD}spec:\n  backingServices:\n");
    while text.len() < 10 * 1024 * 1024 {
        text.push_str("  - kubeService: {name: reviews, namespace: bookinfo, clusterName: c}\n");
    }
    std::fs::write(&p, text).unwrap();
    cases.push((p, vec!["refusing to read it".into()]));

    // 100,000 nested flow sequences.
    let p = dir.path().join("deep-flow.yaml");
    std::fs::write(
        &p,
        format!("{FS_HEAD}spec:\n  meshes: {}\n", "[".repeat(100_000)),
    )
    .unwrap();
    cases.push((
        p,
        vec!["nesting is deeper than 64 levels".into(), ":7:".into()],
    ));

    // 200 levels of block mappings.
    let p = dir.path().join("deep-block.yaml");
    let mut text = format!("{FS_HEAD}spec:\n");
    for i in 1..200 {
        text.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
    }
    std::fs::write(&p, text).unwrap();
    cases.push((p, vec!["nesting is deeper than 64 levels".into()]));

    // A 10 MB stream of 20,000 valid documents with one bad document in the middle: every
    // document is read, the bad one is named by its index.
    let p = dir.path().join("many-documents.yaml");
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 10 * 1024 * 1024 {
        let port = if i == 10_000 { "prt" } else { "port" };
        text.push_str(&format!(
            "---\napiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata:\n  name: tp-{i}\n  namespace: bookinfo\n  labels: {{padding: \"{}\"}}\nspec:\n  trafficShift:\n    destinations:\n    - kubeService: {{name: reviews, namespace: bookinfo, clusterName: c, {port}: 9080}}\n",
            "p".repeat(60)
        ));
        i += 1;
    }
    std::fs::write(&p, text).unwrap();
    cases.push((
        p,
        vec![
            "document 10001".into(),
            "spec.trafficShift.destinations[0].kubeService.prt: unknown field \"prt\"".into(),
            "1 error, 0 warnings in 1 file".into(),
        ],
    ));

    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(p, e)| check(p, e).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
