//! Without a terminal: the missing flags are named and nothing is read or changed; bad
//! flags are usage errors.

use super::*;

// ---------------------------------------------------------------------------------------
// Without a terminal
// ---------------------------------------------------------------------------------------

#[test]
fn without_a_terminal_the_missing_flags_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-kubeconfig");
    let cases: &[(&[&str], &str)] = &[
        (
            &["failover", "create"],
            "error: failover create needs --backing (at least two, in priority order) and --yes (or --dry-run to only print what would be created) when not run on a terminal; or run it in a terminal for the wizard\n",
        ),
        (
            &["failover", "create", "--dry-run"],
            "error: failover create needs --backing (at least two, in priority order) when not run on a terminal; or run it in a terminal for the wizard\n",
        ),
        (
            &[
                "failover",
                "create",
                "--yes",
                "--backing",
                "reviews.bookinfo@mgmt-cluster",
            ],
            "error: failover create needs a second --backing (at least two, in priority order) when not run on a terminal; or run it in a terminal for the wizard\n",
        ),
        (
            &[
                "failover",
                "create",
                "--backing",
                "reviews.bookinfo@mgmt-cluster",
                "--backing",
                "reviews.bookinfo@remote-cluster",
            ],
            "error: failover create needs --yes (or --dry-run to only print what would be created) when not run on a terminal; or run it in a terminal to confirm\n",
        ),
    ];
    for (args, want) in cases {
        let out = command(&nowhere, dir.path())
            .args(*args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), *want, "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-kubeconfig");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--backing", "reviews"],
            "invalid value 'reviews' for '--backing <SVC.NS@CLUSTER>': \"reviews\": no '@CLUSTER'; expected SERVICE.NAMESPACE@CLUSTER, e.g. reviews.bookinfo@mgmt-cluster",
        ),
        (
            &["--shift-from", "reviews.bookinfo.svc@mgmt"],
            "more than one '.' before '@'",
        ),
        (&["--port", "0"], "invalid value '0' for '--port <PORT>'"),
        (
            &["--max-ejection-percent", "101"],
            "invalid value '101' for '--max-ejection-percent <PERCENT>'",
        ),
        (&["--interval", "0s"], "must be more than 0"),
        (&["--interval", "10"], "missing unit"),
        (&["--protocol", "carrier-pigeon"], "unknown protocol"),
        (&["--mesh", "a.b.c"], "more than one '.'"),
        (&["Bad_Name"], "invalid value 'Bad_Name' for '[NAME]'"),
        (
            &["--zero-loss", "--consecutive-errors", "3"],
            "the argument '--zero-loss' cannot be used with '--consecutive-errors <N>'",
        ),
        (
            &["--zero-loss", "--max-ejection-percent", "50"],
            "the argument '--zero-loss' cannot be used with '--max-ejection-percent <PERCENT>'",
        ),
    ];
    for (extra, want) in cases {
        let out = command(&nowhere, dir.path())
            .args(["failover", "create"])
            .args(*extra)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(
            text(&out.stderr).contains(want),
            "{extra:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn zero_loss_without_a_traffic_shift_is_refused_before_reading_anything() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-kubeconfig");
    let out = command(&nowhere, dir.path())
        .args([
            "failover",
            "create",
            "--backing",
            "reviews.bookinfo@mgmt-cluster",
            "--backing",
            "reviews.bookinfo@remote-cluster",
            "--zero-loss",
            "--dry-run",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "error: --zero-loss puts its retries on the traffic shift, and nothing is shifted: pass --shift-from SVC.NS@CLUSTER (usually the primary, as the guide does); nothing was changed\n"
    );
    assert!(out.stdout.is_empty());
}
