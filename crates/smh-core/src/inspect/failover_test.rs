//! `failover test`: non-destructive proof that a FailoverService's primary answers. The
//! preflight (`drill::preflight`, on facts from the describe model), then N probes through a
//! port-forward to a client workload (sent by the cluster I/O crate), each classified with
//! `drill::classify`; [`summarize`] makes the report.

use std::time::Duration;

use serde::Serialize;

use crate::drill::Class;
use crate::drill::preflight::PreflightReport;

/// One classified probe answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// Primary, failed over, or error.
    pub class: Class,
    /// HTTP status, when an HTTP answer came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it got its class.
    pub reason: String,
    /// From sending the request to its answer; JSON: milliseconds, one decimal.
    #[serde(with = "millis")]
    pub latency: Duration,
}

mod millis {
    use std::time::Duration;

    pub(super) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
    }
}

/// Where the probes went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    /// SMH cluster name of the client workload.
    pub cluster: String,
    /// Its namespace.
    pub namespace: String,
    /// The client deployment the probes go through.
    pub deployment: String,
    /// The pod port-forwarded to, when one was picked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The port called on the client pod.
    pub port: u16,
    /// The HTTP path requested.
    pub path: String,
}

/// A reason and how many answers had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasonCount {
    /// Why the answers got their class, in words.
    pub reason: String,
    /// How many answers had this reason.
    pub count: usize,
}

/// The answers of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassSummary {
    /// The class.
    pub class: Class,
    /// How many answers had it.
    pub count: usize,
    /// Who answered, in words: `reviews.bookinfo@mgmt-cluster (primary)`.
    pub answered_by: String,
    /// Distinct reasons, most frequent first.
    pub reasons: Vec<ReasonCount>,
    /// The first answer of the class, in one line.
    pub sample: String,
}

/// The probes, counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeSummary {
    /// Probes sent.
    pub requests: usize,
    /// Answers from the primary.
    pub primary: usize,
    /// Answers from a secondary.
    pub failed_over: usize,
    /// Errors (no usable answer).
    pub errors: usize,
    /// Per class that occurred, primary first.
    pub classes: Vec<ClassSummary>,
}

/// The preflight, with what it looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightView {
    /// No refusal.
    pub passed: bool,
    /// What was checked, with the facts found.
    pub checked: Vec<String>,
    /// Each refusal, with what to do; any one fails the test.
    pub refusals: Vec<String>,
    /// Facts worth knowing that do not fail the test.
    pub notes: Vec<String>,
}

/// `failover test`'s report; `-o json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverTestReport {
    /// `namespace/name`.
    pub failover_service: String,
    /// The FailoverService's `spec.hostname`, the name probed.
    pub hostname: String,
    /// The primary backing service, `name.ns@cluster`.
    pub primary: String,
    /// The other backing services, in priority order.
    pub secondaries: Vec<String>,
    /// Where the probes went.
    pub client: ClientView,
    /// How answers are classified, one line per class.
    pub classification: Vec<String>,
    /// The preflight's verdict and what it looked at.
    pub preflight: PreflightView,
    /// `None` when no probe could be sent (no client pod).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<ProbeSummary>,
    /// Why no probe was sent, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe_error: Option<String>,
    /// Preflight passed and every answer came from the primary.
    pub success: bool,
    /// The outcome in one sentence.
    pub verdict: String,
}

/// What [`summarize`] needs besides the probes.
#[derive(Debug, Clone)]
pub struct TestFacts {
    /// The FailoverService, `namespace/name`.
    pub failover_service: String,
    /// Its `spec.hostname`.
    pub hostname: String,
    /// `name.ns@cluster` of the backing services, in priority order.
    pub backing: Vec<String>,
    /// Where the probes went.
    pub client: ClientView,
    /// How answers are classified, one line per class.
    pub classification: Vec<String>,
    /// What preflight checked, with the facts found.
    pub checked: Vec<String>,
}

/// The report (pure): preflight verdict plus the probes, counted and named.
pub fn summarize(
    facts: TestFacts,
    preflight: &PreflightReport,
    probes: Result<&[Probe], String>,
) -> FailoverTestReport {
    let primary = facts.backing.first().cloned().unwrap_or_default();
    let secondaries: Vec<String> = facts.backing.iter().skip(1).cloned().collect();
    let (summary, probe_error) = match probes {
        Err(e) => (None, Some(e)),
        Ok(probes) => (Some(probe_summary(probes, &primary, &secondaries)), None),
    };
    let all_primary = summary
        .as_ref()
        .is_some_and(|s| s.requests > 0 && s.primary == s.requests);
    let success = preflight.passed() && all_primary;
    let why = failure_reasons(
        preflight,
        summary.as_ref(),
        probe_error.as_deref(),
        &primary,
    );
    let verdict = if success {
        let n = summary.as_ref().map_or(0, |s| s.requests);
        format!("PASS: {n}/{n} answers came from the primary {primary}, and preflight passed")
    } else {
        format!("FAIL: {}", why.join("; "))
    };
    FailoverTestReport {
        failover_service: facts.failover_service,
        hostname: facts.hostname,
        primary,
        secondaries,
        client: facts.client,
        classification: facts.classification,
        preflight: PreflightView {
            passed: preflight.passed(),
            checked: facts.checked,
            refusals: preflight.refusals.clone(),
            notes: preflight.notes.clone(),
        },
        probes: summary,
        probe_error,
        success,
        verdict,
    }
}

/// The probes counted per class, with who answered, why, and one sample of each class.
fn probe_summary(probes: &[Probe], primary: &str, secondaries: &[String]) -> ProbeSummary {
    let classes = [Class::Primary, Class::FailedOver, Class::Error]
        .into_iter()
        .filter_map(|class| class_summary(probes, class, primary, secondaries))
        .collect();
    let count = |c: Class| probes.iter().filter(|p| p.class == c).count();
    ProbeSummary {
        requests: probes.len(),
        primary: count(Class::Primary),
        failed_over: count(Class::FailedOver),
        errors: count(Class::Error),
        classes,
    }
}

/// The probes of one class (`None` if there are none): count, who answered, reasons by
/// frequency, and the first as a sample.
fn class_summary(
    probes: &[Probe],
    class: Class,
    primary: &str,
    secondaries: &[String],
) -> Option<ClassSummary> {
    let answered_by = match class {
        Class::Primary => format!("{primary} (primary)"),
        Class::FailedOver => match secondaries {
            [one] => format!("{one} (secondary)"),
            [] => "no secondary (there is none)".to_string(),
            many => format!("a secondary ({})", many.join(", ")),
        },
        Class::Error => "no backing service (error)".to_string(),
    };
    let of: Vec<&Probe> = probes.iter().filter(|p| p.class == class).collect();
    let first = of.first()?;
    let mut reasons: Vec<ReasonCount> = Vec::new();
    for p in &of {
        match reasons.iter_mut().find(|r| r.reason == p.reason) {
            Some(r) => r.count += 1,
            None => reasons.push(ReasonCount {
                reason: p.reason.clone(),
                count: 1,
            }),
        }
    }
    reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    let status = first
        .status
        .map(|s| format!("HTTP {s}"))
        .unwrap_or_else(|| "no HTTP answer".to_string());
    Some(ClassSummary {
        class,
        count: of.len(),
        answered_by,
        reasons,
        sample: format!(
            "{status} in {}ms: {}",
            first.latency.as_millis(),
            first.reason
        ),
    })
}

/// Why the test failed: preflight problems, no probe sent, answers not from the primary.
fn failure_reasons(
    preflight: &PreflightReport,
    summary: Option<&ProbeSummary>,
    probe_error: Option<&str>,
    primary: &str,
) -> Vec<String> {
    let mut why = Vec::new();
    if !preflight.passed() {
        why.push(format!(
            "preflight found {} problem{}",
            preflight.refusals.len(),
            if preflight.refusals.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    match (summary, probe_error) {
        (_, Some(e)) => why.push(format!("no probe could be sent ({e})")),
        (Some(s), None) if s.primary < s.requests => {
            let mut parts = Vec::new();
            if s.failed_over > 0 {
                parts.push(format!("{} failed over", s.failed_over));
            }
            if s.errors > 0 {
                parts.push(format!(
                    "{} error{}",
                    s.errors,
                    if s.errors == 1 { "" } else { "s" }
                ));
            }
            why.push(format!(
                "only {}/{} answers came from the primary {primary} ({})",
                s.primary,
                s.requests,
                parts.join(", ")
            ));
        }
        _ => {}
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> TestFacts {
        TestFacts {
            failover_service: "service-mesh-hub/reviews-failover".into(),
            hostname: "reviews-failover.bookinfo.global".into(),
            backing: vec![
                "reviews.bookinfo@mgmt-cluster".into(),
                "reviews.bookinfo@remote-cluster".into(),
            ],
            client: ClientView {
                cluster: "mgmt-cluster".into(),
                namespace: "bookinfo".into(),
                deployment: "productpage-v1".into(),
                pod: Some("productpage-v1-abc".into()),
                port: 9080,
                path: "/productpage".into(),
            },
            classification: vec![],
            checked: vec!["status: ACCEPTED".into()],
        }
    }

    fn probe(class: Class, reason: &str) -> Probe {
        Probe {
            class,
            status: Some(200),
            reason: reason.into(),
            latency: Duration::from_millis(12),
        }
    }

    #[test]
    fn all_primary_passes() {
        let probes: Vec<Probe> = (0..20)
            .map(|i| {
                probe(
                    Class::Primary,
                    if i % 2 == 0 {
                        "black stars (reviews-v2)"
                    } else {
                        "no stars (reviews-v1)"
                    },
                )
            })
            .collect();
        let r = summarize(facts(), &PreflightReport::default(), Ok(&probes));
        assert!(r.success);
        assert_eq!(
            r.verdict,
            "PASS: 20/20 answers came from the primary reviews.bookinfo@mgmt-cluster, and preflight passed"
        );
        let s = r.probes.unwrap();
        assert_eq!(s.classes.len(), 1);
        assert_eq!(
            s.classes[0].answered_by,
            "reviews.bookinfo@mgmt-cluster (primary)"
        );
        assert_eq!(s.classes[0].reasons.len(), 2);
        assert_eq!(
            s.classes[0].sample,
            "HTTP 200 in 12ms: black stars (reviews-v2)"
        );
    }

    #[test]
    fn failed_over_answers_or_a_refusal_fail() {
        let mut probes = vec![probe(Class::Primary, "no stars (reviews-v1)"); 2];
        probes.extend(vec![probe(Class::FailedOver, "red stars (reviews-v3)"); 17]);
        probes.push(Probe {
            class: Class::Error,
            status: None,
            reason: "no answer: connection refused".into(),
            latency: Duration::from_millis(3),
        });
        let r = summarize(facts(), &PreflightReport::default(), Ok(&probes));
        assert!(!r.success);
        assert_eq!(
            r.verdict,
            "FAIL: only 2/20 answers came from the primary reviews.bookinfo@mgmt-cluster (17 failed over, 1 error)"
        );
        let s = r.probes.unwrap();
        assert_eq!(
            s.classes[1].answered_by,
            "reviews.bookinfo@remote-cluster (secondary)"
        );
        assert_eq!(
            s.classes[2].sample,
            "no HTTP answer in 3ms: no answer: connection refused"
        );

        let refused = PreflightReport {
            refusals: vec!["backing service x has no outlier detection".into()],
            warnings: vec![],
            notes: vec![],
        };
        let ok = vec![probe(Class::Primary, "no stars (reviews-v1)"); 3];
        let r = summarize(facts(), &refused, Ok(&ok));
        assert!(!r.success);
        assert_eq!(r.verdict, "FAIL: preflight found 1 problem");
        let r = summarize(
            facts(),
            &PreflightReport::default(),
            Err("no ready pod".into()),
        );
        assert!(!r.success);
        assert_eq!(r.verdict, "FAIL: no probe could be sent (no ready pod)");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["probeError"], "no ready pod");
        assert_eq!(json["preflight"]["passed"], true);
    }
}
