//! `check`, drawn as `meshctl check` does: a header per category underlined with dashes,
//! one line per check, and under a failed (or warned) check its messages and a hint. Pure.
//!
//! Marks: with `glyphs`, ✅ pass, ❌ fail, ⚠️ warning, ➖ skipped (for a terminal); without,
//! `[ok]`, `[FAIL]`, `[warn]`, `[skip]` (logs and pipes, `--no-color`, `NO_COLOR`).

use smh_core::inspect::check::{CheckReport, Status};

fn mark(status: Status, glyphs: bool) -> &'static str {
    match (status, glyphs) {
        (Status::Pass, true) => "✅",
        (Status::Fail, true) => "❌",
        (Status::Warn, true) => "⚠️ ",
        (Status::Skipped, true) => "➖",
        (Status::Pass, false) => "[ok]",
        (Status::Fail, false) => "[FAIL]",
        (Status::Warn, false) => "[warn]",
        (Status::Skipped, false) => "[skip]",
    }
}

/// The report as text.
pub(crate) fn report(r: &CheckReport, glyphs: bool) -> String {
    let mut out = String::new();
    for c in &r.categories {
        out.push_str(&c.name);
        out.push('\n');
        out.push_str(&"-".repeat(c.name.chars().count()));
        out.push('\n');
        for check in &c.checks {
            out.push_str(&format!(
                "{} {}\n",
                mark(check.status, glyphs),
                check.description
            ));
            let detail = matches!(check.status, Status::Fail | Status::Warn | Status::Skipped);
            if detail {
                for m in &check.messages {
                    match m.strip_prefix("  ") {
                        Some(sub) => out.push_str(&format!("      {sub}\n")),
                        None => out.push_str(&format!("  - {m}\n")),
                    }
                }
                if let Some(h) = &check.hint {
                    out.push_str(&format!("  Hint: {h}\n"));
                }
            }
        }
        out.push('\n');
    }
    let s = &r.summary;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![
        plural(s.passed, "check passed", "checks passed"),
        format!("{} failed", s.failed),
    ];
    if s.warnings > 0 {
        parts.push(plural(s.warnings, "warning", "warnings"));
    }
    if s.skipped > 0 {
        parts.push(format!("{} skipped", s.skipped));
    }
    let verdict = if r.success {
        "OK"
    } else if s.failed == 0 {
        "FAILED (warnings count as failures with --strict)"
    } else {
        "FAILED"
    };
    out.push_str(&format!("{verdict}: {}\n", parts.join(", ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use smh_core::inspect::check::{CheckOptions, crds_missing_report};

    #[test]
    fn meshctl_layout() {
        let r = crds_missing_report(
            "mgmt-cluster",
            Some("v1.33.0"),
            "the SMH CRDs are not installed in cluster mgmt-cluster",
            CheckOptions::default(),
        );
        assert_eq!(
            report(&r, false),
            "Kubernetes API\n\
             --------------\n\
             [ok] every cluster answers: mgmt-cluster (Kubernetes v1.33.0)\n\
             \n\
             SMH CRDs\n\
             --------\n\
             [FAIL] the SMH CRDs are served by the management cluster\n\
             \x20 - the SMH CRDs are not installed in cluster mgmt-cluster\n\
             \x20 Hint: install them with \"kubectl smh install\"\n\
             \n\
             Management configuration\n\
             ------------------------\n\
             [skip] SMH networking configuration resources are in a valid state\n\
             \x20 - needs the SMH CRDs\n\
             \n\
             FAILED: 1 check passed, 1 failed, 1 skipped\n"
        );
        let glyphs = report(&r, true);
        assert!(glyphs.contains("✅ every cluster answers"));
        assert!(glyphs.contains("❌ the SMH CRDs"));
    }
}
