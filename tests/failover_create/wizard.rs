//! The wizard through a pseudo-terminal: what was chosen is created; declining exits 1 and
//! Ctrl-C 130, changing nothing.

use super::*;

/// Answers the wizard's first question, which kubeconfig contexts to read: the demo's
/// `mgmt-cluster` (the management context, checked already) and `remote-cluster`, `skip`
/// contexts further down the sorted list.
fn choose_the_demo_contexts(p: &mut pty::Pty, skip: usize) {
    use pty::*;
    expect(p, "Read which contexts?");
    for _ in 0..=skip {
        send(p, DOWN);
    }
    send(p, " ");
    send(p, "\r");
}

/// Answers the wizard as the guide would, with outlier detection `consecutiveErrors: 1`,
/// and the zero-loss question with `zero_loss`.
fn answer_like_the_guide(p: &mut pty::Pty, zero_loss: bool) {
    use pty::*;
    choose_the_demo_contexts(p, 0);
    expect(p, "Primary backing service");
    send(p, "reviews.bookinfo@mgmt");
    expect(p, "reviews.bookinfo@mgmt");
    send(p, "\r");
    expect(p, "Backing service 2");
    send(p, "reviews.bookinfo@remote");
    send(p, "\r");
    expect(p, "Backing service 3 (or done)");
    // Down to the first service and back up to "done".
    send(p, DOWN);
    send(p, UP);
    send(p, "\r");
    expect(
        p,
        "Priority order: 1. reviews.bookinfo@mgmt-cluster  2. reviews.bookinfo@remote-cluster",
    );
    expect(p, "Name (namespace service-mesh-hub)");
    send(p, "\r");
    expect(p, "Hostname");
    send(p, "\r");
    expect(p, "Port");
    send(p, "\r");
    expect(p, "Protocol");
    send(p, "\r");
    expect(p, "Use these outlier detection values?");
    send(p, "n");
    expect(p, "Consecutive errors before ejecting a host");
    send(p, "1\r");
    expect(p, "Interval");
    send(p, "\r");
    expect(p, "Base ejection time");
    send(p, "\r");
    expect(p, "Max ejection percent");
    send(p, "\r");
    expect(p, "Shift whose traffic to it?");
    // Check the second service and uncheck it again: the primary stays the only one.
    send(p, DOWN);
    send(p, " ");
    send(p, " ");
    send(p, "\r");
    expect(p, "Zero-loss failover:");
    expect(p, "Trade-off:");
    expect(
        p,
        "Retry 20 times on the traffic shift (retries: {attempts: 20})?",
    );
    send(p, if zero_loss { "y" } else { "n" });
}

pub(super) async fn the_wizard_creates_what_was_chosen(demo: &Demo) {
    let mut c = demo.command();
    c.args(["failover", "create"]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        answer_like_the_guide(&mut p, true);
        // The targets, the preview (manifests and per-cluster plan), then the question.
        pty::expect(&mut p, "These contexts and API servers will be changed:");
        pty::expect(&mut p, "Istio objects, per cluster:");
        pty::expect(&mut p, "EnvoyFilter");
        pty::expect(&mut p, "istio-system/reviews-failover");
        pty::expect(
            &mut p,
            "Create these 3 objects and apply them to 2 clusters?",
        );
        pty::send(&mut p, "y");
        pty::finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{seen}");
    assert!(seen.contains("ACCEPTED"), "{seen}");

    // What was stored is what the guide writes (names aside), with the annotation, plus
    // the zero-loss retries on the traffic shift.
    let mgmt = demo.mgmt();
    let mut want = guide_values();
    want[0]["metadata"]["name"] = "reviews-failover-outlier".into();
    want[2]["metadata"]["name"] = "reviews-failover-shift".into();
    want[2]["spec"]["retries"] = serde_json::json!({"attempts": 20});
    for w in &want {
        let kind = w["kind"].as_str().unwrap();
        let ns = w["metadata"]["namespace"].as_str().unwrap();
        let name = w["metadata"]["name"].as_str().unwrap();
        let stored = get(&mgmt, &smh_ar(kind), ns, name)
            .await
            .unwrap_or_else(|| panic!("{kind} {ns}/{name} was not created: {seen}"));
        assert_eq!(stored.data["spec"], w["spec"], "{kind} {ns}/{name}");
        let annotations = stored.metadata.annotations.clone().unwrap_or_default();
        if kind == "TrafficPolicy" {
            assert_eq!(
                annotations
                    .get("failover.kubectl-smh.io/created-for")
                    .map(String::as_str),
                Some("service-mesh-hub/reviews-failover")
            );
        }
        assert_eq!(
            stored.data["status"]["state"], "ACCEPTED",
            "{kind} {ns}/{name}: {:?}",
            stored.data["status"]
        );
    }
}

/// Answering no to the final question: exit 1, as `failover delete` and `drill` do, and
/// nothing stored or applied.
pub(super) async fn declining_the_wizard_exits_1_and_changes_nothing(demo: &Demo) {
    let before = smh_versions(&demo.mgmt()).await;
    let mgmt_istio = istio_versions(&demo.mgmt()).await;
    let mut c = demo.command();
    c.args(["failover", "create"]);
    let (seen, code) = tokio::task::spawn_blocking(move || {
        let mut p = pty::spawn(c);
        answer_like_the_guide(&mut p, false);
        pty::expect(
            &mut p,
            "Create these 3 objects and apply them to 2 clusters?",
        );
        pty::send(&mut p, "n");
        pty::finish(&mut p)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{seen}");
    assert!(
        seen.contains("not confirmed; nothing was changed"),
        "{seen}"
    );
    assert_eq!(smh_versions(&demo.mgmt()).await, before);
    assert_eq!(istio_versions(&demo.mgmt()).await, mgmt_istio);
}

pub(super) async fn ctrl_c_in_the_wizard_exits_130_and_changes_nothing(demo: &Demo) {
    let before = smh_versions(&demo.mgmt()).await;
    let mgmt_istio = istio_versions(&demo.mgmt()).await;
    for at in [
        "Primary backing service",
        "Name (namespace",
        "Shift whose traffic",
    ] {
        let mut c = demo.command();
        c.args(["failover", "create"]);
        let (seen, code) = tokio::task::spawn_blocking(move || {
            use pty::*;
            let mut p = spawn(c);
            choose_the_demo_contexts(&mut p, 0);
            expect(&mut p, "Primary backing service");
            if at != "Primary backing service" {
                send(&mut p, "reviews.bookinfo@mgmt\r");
                expect(&mut p, "Backing service 2");
                send(&mut p, "reviews.bookinfo@remote\r");
                expect(&mut p, "Backing service 3");
                send(&mut p, "\r");
                expect(&mut p, "Name (namespace");
                if at == "Shift whose traffic" {
                    for prompt in ["Hostname", "Port", "Protocol"] {
                        send(&mut p, "\r");
                        expect(&mut p, prompt);
                    }
                    send(&mut p, "\r");
                    expect(&mut p, "Use these outlier detection values?");
                    send(&mut p, "y");
                    expect(&mut p, at);
                }
            }
            ctrl_c(&mut p);
            finish(&mut p)
        })
        .await
        .unwrap();
        assert_eq!(code, Some(130), "Ctrl-C at {at:?}: {seen}");
        assert!(
            seen.contains("nothing was changed"),
            "Ctrl-C at {at:?}: {seen}"
        );
    }
    assert_eq!(smh_versions(&demo.mgmt()).await, before);
    assert_eq!(istio_versions(&demo.mgmt()).await, mgmt_istio);
}
