//! The drill, drawn: the report (summary table, per-period counts, timeline, the outlier
//! model), the preflight verdict, and the `--dry-run` plan with its patches. Pure: strings
//! out; `cli` prints them.

use comfy_table::{Table, presets};

use smh_core::consts::DRILL_RESTORE_ANNOTATION;
use smh_core::drill::measure::{ExpectationResult, Verdict};
use smh_core::drill::plan::{DrillPlan, TargetPatches, service_label};
use smh_core::drill::preflight::PreflightReport;
use smh_core::drill::report::DrillReport;
use smh_core::drill::restore::{BreakMode, PendingRestores, restore_patch};
use smh_core::drill::workload::Assessment;
use smh_core::drill::{human, seconds};

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.force_no_tty();
    t
}

fn verdict(e: Option<&ExpectationResult>) -> String {
    match e {
        None => String::new(),
        Some(e) => {
            let v = match e.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
                Verdict::NotReached => "not reached",
            };
            format!(" [{v}, limit {}]", e.limit)
        }
    }
}

fn or_dash(d: Option<std::time::Duration>, suffix: &str) -> String {
    d.map_or("-".to_string(), |d| format!("{}{suffix}", human(d)))
}

/// The headline table: result, what was broken, and the measured numbers with verdicts.
pub(crate) fn summary_table(r: &DrillReport) -> String {
    let m = &r.measurements;
    let exp = |name: &str| r.expectations.iter().find(|e| e.name == name);
    let mut t = table();
    t.set_header(vec!["Drill", r.drill_id.as_str()]);
    let result = match r.exit_code {
        Some(code) => format!("{} (exit {code})", r.summary),
        None => r.summary.clone(),
    };
    let broken: Vec<String> = r
        .broken
        .iter()
        .map(|b| {
            let how = match r.break_mode {
                BreakMode::Command => format!(
                    "container{} {}",
                    if b.containers.len() == 1 { "" } else { "s" },
                    b.containers.join(", ")
                ),
                BreakMode::Scale => "scaled to 0".to_string(),
            };
            format!(
                "{} ({} replica{}; {how})",
                b.deployment,
                b.replicas,
                if b.replicas == 1 { "" } else { "s" },
            )
        })
        .collect();
    let rows: Vec<(&str, String)> = vec![
        ("Result", result),
        (
            "FailoverService",
            format!("{} ({})", r.failover_service, r.hostname),
        ),
        ("Primary", r.primary.clone()),
        ("Secondary", r.secondaries.join(", ")),
        ("Broken", broken.join("\n")),
        (
            "Probe",
            format!(
                "{} port {} {} at {}/s",
                r.probe.workload, r.probe.port, r.probe.path, r.probe.rate_per_second
            ),
        ),
        ("Break rollout", or_dash(m.break_rollout, "")),
        (
            "First failed-over answer",
            or_dash(m.break_to_first_failover, " after the break"),
        ),
        (
            "Steady failover",
            format!(
                "{}{}",
                or_dash(m.break_to_steady_failover, " after the break"),
                verdict(exp("failover"))
            ),
        ),
        (
            "Failed requests during failover",
            format!("{}{}", m.errors_during_failover, verdict(exp("max-errors"))),
        ),
        (
            "Failed requests after steady failover",
            m.errors_after_steady_failover.to_string(),
        ),
        ("Restore rollout", or_dash(m.restore_rollout, "")),
        (
            "First primary answer again",
            or_dash(m.restore_to_first_primary, " after the restore"),
        ),
        (
            "Steady failback",
            format!(
                "{}{}",
                or_dash(m.restore_to_steady_failback, " after the restore"),
                verdict(exp("failback"))
            ),
        ),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    if let Some(o) = &r.outlier {
        t.add_row(vec![
            "Outlier detection".to_string(),
            o.settings.to_string(),
        ]);
    }
    t.to_string()
}

/// Answers per class in each period of the drill.
pub(crate) fn period_table(r: &DrillReport) -> String {
    let mut t = table();
    t.set_header(vec![
        "Period",
        "Duration",
        "Primary",
        "Failed over",
        "Error",
        "Total",
    ]);
    for p in &r.measurements.periods {
        t.add_row(vec![
            p.period.as_str().to_string(),
            or_dash(p.duration, ""),
            p.counts.primary.to_string(),
            p.counts.failed_over.to_string(),
            p.counts.error.to_string(),
            p.total.to_string(),
        ]);
    }
    t.to_string()
}

/// One line per event, `t+SECONDS`, then the per-second strip of answers.
pub(crate) fn timeline(r: &DrillReport) -> String {
    let mut out = String::new();
    let width = r
        .timeline
        .iter()
        .map(|e| format!("{:.3}", seconds(e.at)).len())
        .max()
        .unwrap_or(5);
    for e in &r.timeline {
        out.push_str(&format!(
            "t+{:>width$}s  {}\n",
            format!("{:.3}", seconds(e.at)),
            e.event
        ));
    }
    out.push('\n');
    out.push_str(&strip(&r.strip));
    out
}

/// The strip in rows of 60 seconds, with a legend.
pub(crate) fn strip(strip: &str) -> String {
    let chars: Vec<char> = strip.chars().collect();
    let mut out = String::from(
        "answers per second: P primary, F failed over, m both, x at least one error, . none\n",
    );
    let label_width = format!("{}", chars.len().saturating_sub(1) / 60 * 60).len() + 1;
    for (i, row) in chars.chunks(60).enumerate() {
        let label = format!("{}s", i * 60);
        out.push_str(&format!(
            "{label:>label_width$} {}\n",
            row.iter().collect::<String>()
        ));
    }
    out
}

/// Expectation verdicts and the outlier model's explanation, as text.
pub(crate) fn explanation(r: &DrillReport) -> String {
    let mut out = String::new();
    for e in &r.expectations {
        let v = match e.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::NotReached => "not reached",
        };
        out.push_str(&format!("{:<11} {}: {}\n", v, e.name, e.message));
    }
    if let Some(o) = &r.outlier {
        out.push('\n');
        for line in &o.explanation {
            out.push_str(&format!("- {line}\n"));
        }
    }
    if !r.recommendations.is_empty() {
        out.push('\n');
        for line in &r.recommendations {
            out.push_str(&format!("recommendation: {line}\n"));
        }
    }
    if !r.measurements.error_reasons.is_empty() {
        out.push_str("\nerrors by reason:\n");
        let mut reasons: Vec<(&String, &u64)> = r.measurements.error_reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (reason, n) in reasons {
            out.push_str(&format!("{n:>6}  {reason}\n"));
        }
    }
    out
}

/// Everything, for a terminal.
pub(crate) fn report(r: &DrillReport) -> String {
    [
        summary_table(r),
        period_table(r),
        explanation(r).trim_end().to_string(),
        r.resilience.line(),
        timeline(r).trim_end().to_string(),
    ]
    .join("\n\n")
        + "\n"
}

/// The preflight verdict.
pub(crate) fn preflight(p: &PreflightReport) -> String {
    let mut out = String::new();
    if p.passed() {
        out.push_str("preflight: passed\n");
    } else {
        out.push_str(&format!(
            "preflight: refused ({} problem{}), nothing was changed:\n",
            p.refusals.len(),
            if p.refusals.len() == 1 { "" } else { "s" }
        ));
        for r in &p.refusals {
            out.push_str(&format!("- {r}\n"));
        }
    }
    for w in &p.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for n in &p.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

/// `drill restore`: what is (or would be, with `dry_run`) put back.
pub(crate) fn restore(pending: &PendingRestores, failover_service: &str, dry_run: bool) -> String {
    let mut out = String::new();
    if pending.plans.is_empty() && pending.unreadable.is_empty() {
        return format!(
            "nothing to restore: no deployment carries a restore plan of FailoverService {failover_service}\n"
        );
    }
    for p in &pending.plans {
        let containers: Vec<String> = if p.scale.is_some() {
            vec![p.describe_saved()]
        } else {
            p.broken_containers()
                .map(|c| {
                    let show = |v: &Option<Vec<String>>| match v {
                        None => "absent".to_string(),
                        Some(v) => compact(&serde_json::json!(v)),
                    };
                    format!(
                        "container {}: command {}, args {}",
                        c.name,
                        show(&c.command),
                        show(&c.args)
                    )
                })
                .collect()
        };
        out.push_str(&format!(
            "{} {} (drill {}, started {}): {}\n",
            if dry_run { "would restore" } else { "restored" },
            p.deployment,
            p.drill_id,
            p.started_at,
            containers.join("; ")
        ));
        if dry_run {
            out.push_str(&format!("  {}\n", compact(&restore_patch(p))));
        }
    }
    for (d, why) in &pending.unreadable {
        out.push_str(&format!(
            "cannot restore {d}: {why}; fix or remove the annotation {DRILL_RESTORE_ANNOTATION} by hand\n"
        ));
    }
    if dry_run {
        out.push_str("Nothing was changed (--dry-run).\n");
    }
    out
}

fn compact(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `--dry-run`: the plan and, per deployment, the patches the drill would send.
/// One line per deployment to break: how, and why this one.
pub(crate) fn break_line(plan: &DrillPlan, b: &smh_core::drill::plan::BreakTarget) -> String {
    let replicas = format!(
        "{} replica{}",
        b.replicas,
        if b.replicas == 1 { "" } else { "s" }
    );
    match plan.break_mode {
        BreakMode::Command => format!(
            "{} ({replicas}): container{} {} run `sleep 20h`\n  {}; {}; a new pod not Ready within {} stops the drill",
            b.deployment,
            if b.containers.len() == 1 { "" } else { "s" },
            b.containers.join(", "),
            b.reason,
            b.containers_reason,
            human(b.ready_timeout)
        ),
        BreakMode::Scale => format!(
            "{} ({replicas}): scaled to 0, then back to exactly the saved count\n  {}",
            b.deployment, b.reason
        ),
    }
}

/// The `--dry-run` text: the plan, what preflight says about the deployments to break
/// (`assessment`), and the patches.
pub(crate) fn dry_run(
    plan: &DrillPlan,
    patches: &[TargetPatches],
    assessment: &Assessment,
) -> String {
    let mut out = format!(
        "Drill plan for FailoverService {}/{} ({}:{})\n\n",
        plan.failover_service.namespace, plan.failover_service.name, plan.hostname, plan.port
    );
    out.push_str(&plan_table(plan));
    if !assessment.refusals.is_empty() {
        out.push_str("\n\nPreflight would refuse, as the deployments are now:\n");
        for r in &assessment.refusals {
            out.push_str(&format!("- {r}\n"));
        }
    }
    if !assessment.warnings.is_empty() {
        out.push_str(if assessment.refusals.is_empty() {
            "\n\n"
        } else {
            "\n"
        });
        out.push_str("Warnings (also shown before the confirmation):\n");
        for w in &assessment.warnings {
            out.push_str(&format!("- {w}\n"));
        }
    }
    out.push_str(
        if assessment.refusals.is_empty() && assessment.warnings.is_empty() {
            "\n\nSteps:\n"
        } else {
            "\nSteps:\n"
        },
    );
    out.push_str(&dry_run_steps(plan, patches));
    out.push_str("\nNothing was changed (--dry-run).\n");
    out
}

/// The plan as a two-column table: services, break mode and deployments, probe,
/// classification, steadiness, baseline and limits.
fn plan_table(plan: &DrillPlan) -> String {
    let broken: Vec<String> = plan.targets.iter().map(|b| break_line(plan, b)).collect();
    let rows: Vec<(&str, String)> = vec![
        ("Primary", service_label(&plan.primary)),
        (
            "Secondary",
            plan.secondaries
                .iter()
                .map(service_label)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "Break mode",
            match plan.break_mode {
                BreakMode::Command => {
                    "command: the guide's patch, the serving containers run `sleep 20h`".to_string()
                }
                BreakMode::Scale => {
                    "scale: spec.replicas 0, the saved replica count put back".to_string()
                }
            },
        ),
        ("Break", broken.join("\n")),
        (
            "Probe",
            format!(
                "GET {} through a port-forward to {} port {}, {}/s, timeout {}",
                plan.probe.path,
                plan.probe.workload,
                plan.probe.port,
                plan.probe.rate_per_second,
                human(plan.probe.timeout)
            ),
        ),
        ("Classify", plan.classifier.describe().join("\n")),
        (
            "Steady",
            format!(
                ">= {}% of {} consecutive answers",
                plan.steady.percent, plan.steady.window
            ),
        ),
        (
            "Baseline",
            format!(
                "{} answers, >= {}% primary, within {}",
                plan.baseline.probes,
                plan.baseline.min_primary_percent,
                human(plan.baseline.timeout)
            ),
        ),
        (
            "Limits",
            format!(
                "failover steady within {} of the break\nfailback steady within {} of the restore\nfailed requests during failover: {}",
                human(plan.failover_timeout),
                human(plan.failback_timeout),
                plan.max_errors
                    .map_or("no limit".to_string(), |m| format!("at most {m}"))
            ),
        ),
    ];
    let mut t = table();
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    t.to_string()
}

/// The six steps of the drill, with the save, break and restore patch of every deployment.
fn dry_run_steps(plan: &DrillPlan, patches: &[TargetPatches]) -> String {
    let mut out = String::new();
    out.push_str(
        "1. preflight: FailoverService ACCEPTED and in sync, outlier detection with maxEjectionPercent 100 on every backing service, ready endpoints, baseline answers from the primary; then ask for confirmation (unless --yes)\n",
    );
    out.push_str("2. save the restore plan on each deployment (JSON merge patch; the API server rejects it if the deployment changed since it was read):\n");
    for p in patches {
        out.push_str(&format!("   {}\n     {}\n", p.deployment, compact(&p.save)));
    }
    out.push_str("3. break (strategic merge patch, sent with the resourceVersion the save left, so a deployment changed in between is not touched):\n");
    for p in patches {
        out.push_str(&format!("   {}\n     {}\n", p.deployment, compact(&p.brk)));
    }
    out.push_str(&format!(
        "4. wait for the rollouts, probe until failed over (at most {} after the break){}\n",
        human(plan.failover_timeout),
        match plan.break_mode {
            BreakMode::Command => "; stop and restore at once if a new pod cannot start, crash-loops, or is not Ready within its limit",
            BreakMode::Scale => "",
        }
    ));
    out.push_str("5. restore exactly what was saved and remove the restore plan (strategic merge patch; also on error, failed expectation, Ctrl-C, SIGTERM or SIGHUP):\n");
    for p in patches {
        out.push_str(&format!(
            "   {}\n     {}\n",
            p.deployment,
            compact(&p.restore)
        ));
    }
    out.push_str(&format!(
        "6. wait for the rollouts, probe until failed back (at most {} after the restore), report\n",
        human(plan.failback_timeout)
    ));
    out
}

#[cfg(test)]
mod tests;
