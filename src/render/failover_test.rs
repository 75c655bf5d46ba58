//! `failover test`, drawn: what was checked, the preflight verdict, the probes per class
//! with who answered, and the verdict. Pure.

use smh_core::inspect::failover_test::FailoverTestReport;

/// The report as text.
pub(crate) fn report(r: &FailoverTestReport) -> String {
    let mut out = format!(
        "Failover test of FailoverService {} ({})\n",
        r.failover_service, r.hostname
    );
    let mut backing = vec![format!("1. {} (primary)", r.primary)];
    backing.extend(
        r.secondaries
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}", i + 2)),
    );
    out.push_str(&format!("Backing services: {}\n\n", backing.join(", ")));

    out.push_str("Preflight (read only):\n");
    for c in &r.preflight.checked {
        out.push_str(&format!("  checked {c}\n"));
    }
    if r.preflight.passed {
        out.push_str("  passed\n");
    } else {
        out.push_str(&format!(
            "  failed ({} problem{}):\n",
            r.preflight.refusals.len(),
            if r.preflight.refusals.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
        for refusal in &r.preflight.refusals {
            out.push_str(&format!("  - {refusal}\n"));
        }
    }
    for n in &r.preflight.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out.push('\n');

    let c = &r.client;
    let pod = c
        .pod
        .as_ref()
        .map(|p| format!("pod {p}, "))
        .unwrap_or_default();
    match (&r.probes, &r.probe_error) {
        (_, Some(e)) => out.push_str(&format!(
            "Probes: none sent through {}:{}/{} ({pod}port {}): {e}\n",
            c.cluster, c.namespace, c.deployment, c.port
        )),
        (Some(p), None) => {
            out.push_str(&format!(
                "Probes: {} x GET {} through a port-forward to {}:{}/{} ({pod}port {})\n",
                p.requests, c.path, c.cluster, c.namespace, c.deployment, c.port
            ));
            for class in &p.classes {
                out.push_str(&format!(
                    "  {}/{} from {}\n",
                    class.count, p.requests, class.answered_by
                ));
                for reason in &class.reasons {
                    out.push_str(&format!("      {} {}\n", reason.count, reason.reason));
                }
                out.push_str(&format!("      sample: {}\n", class.sample));
            }
        }
        (None, None) => {}
    }
    out.push_str("Classification:\n");
    for line in &r.classification {
        out.push_str(&format!("  {line}\n"));
    }
    out.push('\n');
    out.push_str(&r.verdict);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use smh_core::drill::Class;
    use smh_core::drill::preflight::PreflightReport;
    use smh_core::inspect::failover_test::{ClientView, Probe, TestFacts, summarize};

    #[test]
    fn says_what_was_checked_and_who_answered() {
        let facts = TestFacts {
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
                pod: Some("productpage-v1-0".into()),
                port: 9080,
                path: "/productpage".into(),
            },
            classification: vec!["primary: bookinfo: black stars".into()],
            checked: vec!["status: ACCEPTED, generation 1 observed".into()],
        };
        let probes = vec![
            Probe {
                class: Class::Primary,
                status: Some(200),
                reason: "no stars (reviews-v1)".into(),
                latency: Duration::from_millis(7),
            };
            3
        ];
        let r = summarize(facts, &PreflightReport::default(), Ok(&probes));
        assert_eq!(
            report(&r),
            "Failover test of FailoverService service-mesh-hub/reviews-failover (reviews-failover.bookinfo.global)\n\
             Backing services: 1. reviews.bookinfo@mgmt-cluster (primary), 2. reviews.bookinfo@remote-cluster\n\
             \n\
             Preflight (read only):\n\
             \x20 checked status: ACCEPTED, generation 1 observed\n\
             \x20 passed\n\
             \n\
             Probes: 3 x GET /productpage through a port-forward to mgmt-cluster:bookinfo/productpage-v1 (pod productpage-v1-0, port 9080)\n\
             \x20 3/3 from reviews.bookinfo@mgmt-cluster (primary)\n\
             \x20     3 no stars (reviews-v1)\n\
             \x20     sample: HTTP 200 in 7ms: no stars (reviews-v1)\n\
             Classification:\n\
             \x20 primary: bookinfo: black stars\n\
             \n\
             PASS: 3/3 answers came from the primary reviews.bookinfo@mgmt-cluster, and preflight passed\n"
        );
    }
}
