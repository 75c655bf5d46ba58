//! Istio's own validation (`istioctl validate`: the checks of istiod's validating webhook)
//! and analyzers (`istioctl analyze --use-kube=false`) on every generated object set, through
//! `scripts/istio-validate`: no error, and every warning is one the script lists with the
//! reason it is acceptable.

use std::process::Command;

use super::support;

#[test]
fn istio_validate_and_analyze_accept_every_generated_set() {
    let Some(_) = support::istio_peers() else {
        return;
    };
    let out = Command::new(support::repo_path("scripts/istio-validate"))
        .current_dir(support::repo_path(""))
        .env("SMH_BIN", env!("CARGO_BIN_EXE_kubectl-smh"))
        .output()
        .expect("scripts/istio-validate runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scripts/istio-validate exit {:?}:\n{stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().last(),
        Some("no validation errors; every analyzer message is accepted")
    );
    // Every set was looked at, by both tools.
    for set in support::SETS {
        assert!(
            stdout.contains(&format!("== {}: istioctl validate -f (exit 0)", set.name)),
            "{} not validated:\n{stdout}",
            set.name
        );
        assert!(
            stdout.contains(&format!(
                "== {}/{}: istioctl analyze",
                set.name, set.cluster
            )),
            "{} not analyzed:\n{stdout}",
            set.name
        );
    }
}

/// A change to one line of `examples/all-fields/manifests` and what must happen.
struct Case {
    file: &'static str,
    old: &'static str,
    new: &'static str,
    /// `None`: `kubectl smh validate` accepts it and so does `istioctl validate` (istiod's
    /// webhook checks) on the translation. `Some(field)`: `kubectl smh validate` rejects it,
    /// naming the file, the document and this field.
    rejected_at: Option<&'static str>,
}

const fn ok(file: &'static str, old: &'static str, new: &'static str) -> Case {
    Case {
        file,
        old,
        new,
        rejected_at: None,
    }
}

const fn bad(
    file: &'static str,
    old: &'static str,
    new: &'static str,
    field: &'static str,
) -> Case {
    Case {
        file,
        old,
        new,
        rejected_at: Some(field),
    }
}

const RES: &str = "4-resilience.yaml";
const FAULTS: &str = "5-faults.yaml";
const EDGE: &str = "6-mirror-headers-cors.yaml";
const FS: &str = "2-failover-services.yaml";

/// Values at the edges of istiod's webhook rules: the last one Istio accepts, the first it
/// rejects.
const CASES: &[Case] = &[
    ok(RES, "perTryTimeout: 2s", "perTryTimeout: 1ms"),
    bad(
        RES,
        "perTryTimeout: 2s",
        "perTryTimeout: 999us",
        "spec.retries.perTryTimeout",
    ),
    ok(RES, "requestTimeout: 10s", "requestTimeout: 1ms"),
    bad(
        RES,
        "requestTimeout: 10s",
        "requestTimeout: 1500us",
        "spec.requestTimeout",
    ),
    bad(
        RES,
        "attempts: 3",
        "attempts: 2147483648",
        "spec.retries.attempts",
    ),
    ok(FAULTS, "httpStatus: 503", "httpStatus: 599"),
    bad(
        FAULTS,
        "httpStatus: 503",
        "httpStatus: 600",
        "spec.faultInjection.abort.httpStatus",
    ),
    ok(FAULTS, "percentage: 10\n", "percentage: 0.0001\n"),
    bad(
        FAULTS,
        "percentage: 10\n",
        "percentage: 0.00001\n",
        "spec.faultInjection.percentage",
    ),
    ok(FAULTS, "fixedDelay: 1500ms", "fixedDelay: 1ms"),
    bad(
        FAULTS,
        "fixedDelay: 1500ms",
        "fixedDelay: 0.5ms",
        "spec.faultInjection.fixedDelay",
    ),
    bad(
        FAULTS,
        "regex: /ratings/[1-9][0-9]*",
        "regex: \"\"",
        "spec.httpRequestMatchers[0].regex",
    ),
    bad(
        FAULTS,
        "name: x-canary",
        "name: \":authority\"",
        "spec.httpRequestMatchers[0].headers[0].name",
    ),
    ok(EDGE, "percentage: 25", "percentage: 100"),
    bad(
        EDGE,
        "percentage: 25",
        "percentage: 100.5",
        "spec.mirror.percentage",
    ),
    ok(EDGE, "maxAge: 24h", "maxAge: 1s"),
    bad(
        EDGE,
        "maxAge: 24h",
        "maxAge: 1500ms",
        "spec.corsPolicy.maxAge",
    ),
    bad(
        EDGE,
        "allowMethods: [GET, POST]",
        "allowMethods: [GET, FOO]",
        "spec.corsPolicy.allowMethods",
    ),
    bad(
        EDGE,
        "x-served-by: east",
        "x-served-by: \"%\"",
        "spec.headerManipulation.appendResponseHeaders",
    ),
    bad(
        EDGE,
        "removeResponseHeaders: [server]",
        "removeResponseHeaders: [\":status\"]",
        "spec.headerManipulation.removeResponseHeaders",
    ),
    bad(
        "1-outlier-detection.yaml",
        "maxEjectionPercent: 100",
        "maxEjectionPercent: 101",
        "spec.outlierDetection.maxEjectionPercent",
    ),
    bad(
        "1-outlier-detection.yaml",
        "interval: 5s",
        "interval: 0.5ms",
        "spec.outlierDetection.interval",
    ),
    ok(FS, "number: 9080", "number: 65535"),
    bad(FS, "number: 9080", "number: 65536", "spec.port.number"),
    ok(FS, "protocol: http", "protocol: grpc-web"),
    bad(
        FS,
        "hostname: reviews-failover.bookinfo.global",
        "hostname: \"*.bookinfo.global\"",
        "spec.hostname",
    ),
];

#[test]
fn what_istio_rejects_kubectl_smh_validate_rejects() {
    let Some(peers) = support::istio_peers() else {
        return;
    };
    let smh = env!("CARGO_BIN_EXE_kubectl-smh");
    let topology = support::repo_path("examples/all-fields/topology.yaml");
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let manifests = dir.path().join("manifests");
        std::fs::create_dir(&manifests).unwrap();
        for entry in std::fs::read_dir(support::repo_path("examples/all-fields/manifests")).unwrap()
        {
            let path = entry.unwrap().path();
            std::fs::copy(&path, manifests.join(path.file_name().unwrap())).unwrap();
        }
        let file = manifests.join(case.file);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(case.old), "{}: no {:?}", case.file, case.old);
        std::fs::write(&file, text.replacen(case.old, case.new, 1)).unwrap();
        let what = format!("{} with {:?}", case.file, case.new);
        let validate = Command::new(smh)
            .arg("validate")
            .arg("-f")
            .arg(&manifests)
            .arg("--topology")
            .arg(&topology)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&validate.stdout),
            String::from_utf8_lossy(&validate.stderr)
        );
        match case.rejected_at {
            Some(field) => {
                assert_eq!(
                    validate.status.code(),
                    Some(2),
                    "{what}: validate should reject it:\n{said}"
                );
                let line = said
                    .lines()
                    .find(|l| l.contains(field))
                    .unwrap_or_else(|| panic!("{what}: no error names {field}:\n{said}"));
                assert!(
                    line.contains(case.file) && line.contains("document "),
                    "{what}: the error names no file and document: {line}"
                );
            }
            None => {
                assert_eq!(
                    validate.status.code(),
                    Some(0),
                    "{what}: validate should accept it:\n{said}"
                );
                let translated = Command::new(smh)
                    .arg("translate")
                    .arg("-f")
                    .arg(&manifests)
                    .arg("--topology")
                    .arg(&topology)
                    .args(["-o", "yaml"])
                    .output()
                    .unwrap();
                assert!(translated.status.success(), "{what}: translate failed");
                let objects = dir.path().join("objects.yaml");
                std::fs::write(&objects, &translated.stdout).unwrap();
                let istio = Command::new(peers.join("istioctl"))
                    .arg("validate")
                    .arg("-f")
                    .arg(&objects)
                    .output()
                    .unwrap();
                assert!(
                    istio.status.success(),
                    "{what}: kubectl smh validate accepts it but istioctl validate rejects the translation:\n{}{}",
                    String::from_utf8_lossy(&istio.stdout),
                    String::from_utf8_lossy(&istio.stderr)
                );
            }
        }
    }
}
