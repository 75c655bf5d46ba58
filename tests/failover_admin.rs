//! `kubectl smh failover list` and `kubectl smh failover delete` through the binary, on the
//! simulated demo clusters (in process) and on real control planes.

mod apply_support;
mod common;

use std::path::Path;
use std::time::Duration;

use apply_support::*;
use common::backend::{Backend, Clusters, reset};
use kube::api::DynamicObject;
use serde_json::Value;

use smh_core::model::topology::MultiClusterMode;

/// The guide's manifests with the two policies annotated as `failover create` annotates
/// them, plus a second FailoverService over the same services (which needs the outlier
/// policy too).
fn annotated_guide(dir: &std::path::Path, second: bool) -> String {
    let ann = |text: String, name: &str| {
        text.replacen(
            &format!("  name: {name}\n"),
            &format!(
                "  name: {name}\n  annotations:\n    failover.kubectl-smh.io/created-for: service-mesh-hub/reviews-failover\n"
            ),
            1,
        )
    };
    let read = |n| std::fs::read_to_string(guide_file(n)).unwrap();
    let mut text = ann(read(1), "mgmt-reviews-outlier");
    text.push_str("\n---\n");
    text.push_str(&read(2));
    text.push_str("\n---\n");
    text.push_str(&ann(read(3), "reviews-shift-failover"));
    if second {
        text.push_str("\n---\n");
        text.push_str(
            &read(2)
                .replace("name: reviews-failover", "name: reviews-failover-2")
                .replace(
                    "reviews-failover.bookinfo.global",
                    "reviews-failover-2.bookinfo.global",
                ),
        );
    }
    let path = dir.join(if second { "two.yaml" } else { "one.yaml" });
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The FailoverService reviews-failover as the management cluster stores it.
async fn reviews_failover(mgmt: &kube::Client) -> Option<DynamicObject> {
    get(
        mgmt,
        &smh_ar("FailoverService"),
        "service-mesh-hub",
        "reviews-failover",
    )
    .await
}

async fn list_and_delete(clusters: &Clusters) {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig.yaml");
    clusters.write_kubeconfig(&kc);
    let mgmt = clusters.client("mgmt-cluster");
    let remote = clusters.client("remote-cluster");
    let run = |args: &'static [&'static str]| smh(&kc, dir.path(), args);

    let r = run(&["failover", "list"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("No FailoverServices found in mgmt-cluster."),
        "{r:?}"
    );

    let r = smh(
        &kc,
        dir.path(),
        &["apply", "-f", &guide_dir().display().to_string()],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");

    let r = run(&["failover", "list"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{r:?}");
    let cols: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        cols[..6],
        [
            "reviews-failover",
            "service-mesh-hub",
            "reviews-failover.bookinfo.global",
            "9080/http",
            "reviews.bookinfo@mgmt-cluster,reviews.bookinfo@remote-cluster",
            "ACCEPTED"
        ]
    );
    assert!(lines[0].starts_with("NAME "), "{r:?}");
    let r = run(&["failover", "list", "-o", "json"]).await;
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["metadata"]["name"], "reviews-failover");
    assert_eq!(list["items"][0]["status"]["state"], "ACCEPTED");

    // No terminal and no --yes: refused, nothing changed.
    let before = (istio_versions(&mgmt).await, smh_versions(&mgmt).await);
    let r = run(&["failover", "delete", "reviews-failover"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("pass --yes (-y) to delete"), "{r:?}");
    assert!(
        r.stderr
            .contains("delete EnvoyFilter istio-system/reviews-failover"),
        "the plan is shown: {r:?}"
    );
    let r = run(&["failover", "delete", "reviews-failover", "--dry-run"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            "serviceentry.networking.istio.io/reviews-failover -n service-mesh-hub pruned (dry run)"
        ),
        "{r:?}"
    );
    let r = run(&["failover", "delete", "nope", "--yes"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("FailoverService service-mesh-hub/nope not found in mgmt-cluster; the FailoverServices are: service-mesh-hub/reviews-failover"), "{r:?}");
    assert_eq!(
        (istio_versions(&mgmt).await, smh_versions(&mgmt).await),
        before
    );

    // Delete: its ServiceEntry, EnvoyFilter and the client-side DestinationRule go, and the
    // VirtualService of the shift policy (which is now INVALID, and says so).
    let r = run(&["failover", "delete", "reviews-failover", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("will be INVALID"), "{r:?}");
    for (kind, ns, name) in [
        ("ServiceEntry", "service-mesh-hub", "reviews-failover"),
        ("EnvoyFilter", "istio-system", "reviews-failover"),
        (
            "DestinationRule",
            "istio-system",
            "reviews-bookinfo-remote-cluster",
        ),
        ("VirtualService", "bookinfo", "reviews"),
    ] {
        assert!(
            get(&mgmt, &istio_ar(kind), ns, name).await.is_none(),
            "{kind} {ns}/{name} deleted"
        );
    }
    for client in [&mgmt, &remote] {
        assert!(
            get(client, &istio_ar("DestinationRule"), "bookinfo", "reviews")
                .await
                .is_some(),
            "outlier detection stays"
        );
    }
    assert!(reviews_failover(&mgmt).await.is_none());
    let shift = smh_status(&mgmt, "TrafficPolicy", "bookinfo", "reviews-shift-failover").await;
    assert_eq!(shift["state"], "INVALID", "{shift}");
}

async fn delete_with_policies_keeps_shared_ones(clusters: &Clusters) {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig.yaml");
    clusters.write_kubeconfig(&kc);
    let mgmt = clusters.client("mgmt-cluster");
    let remote = clusters.client("remote-cluster");

    // Two FailoverServices over reviews: the outlier policy is shared; the shift policy
    // shifts to reviews-failover only.
    let two = annotated_guide(dir.path(), true);
    let r = smh(&kc, dir.path(), &["apply", "-f", &two]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = delete_with_policies(&kc, dir.path(), "reviews-failover").await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("keeping TrafficPolicy service-mesh-hub/mgmt-reviews-outlier: its outlier detection covers reviews.bookinfo@mgmt-cluster, a backing service of FailoverService service-mesh-hub/reviews-failover-2"),
        "{r:?}"
    );
    let tp = smh_ar("TrafficPolicy");
    assert!(
        get(&mgmt, &tp, "service-mesh-hub", "mgmt-reviews-outlier")
            .await
            .is_some()
    );
    assert!(
        get(&mgmt, &tp, "bookinfo", "reviews-shift-failover")
            .await
            .is_none()
    );
    assert!(
        get(&mgmt, &istio_ar("VirtualService"), "bookinfo", "reviews")
            .await
            .is_none()
    );
    assert!(
        get(
            &mgmt,
            &istio_ar("ServiceEntry"),
            "service-mesh-hub",
            "reviews-failover-2"
        )
        .await
        .is_some()
    );

    // The last FailoverService goes with its policy: nothing generated is left.
    let r = delete_with_policies(&kc, dir.path(), "reviews-failover-2").await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains(
            "no TrafficPolicy was created for FailoverService service-mesh-hub/reviews-failover-2"
        ),
        "{r:?}"
    );
    // mgmt-reviews-outlier was created for reviews-failover only (which is gone): it stays,
    // since nothing says it belongs to reviews-failover-2, and keeps its DestinationRules.
    assert!(
        get(&mgmt, &tp, "service-mesh-hub", "mgmt-reviews-outlier")
            .await
            .is_some()
    );
    let left: Vec<String> = istio_versions(&mgmt)
        .await
        .into_iter()
        .chain(istio_versions(&remote).await)
        .filter(|(_, _, name, _)| !name.contains(".global") && !name.starts_with("virtual-mesh"))
        .map(|(k, ns, n, _)| format!("{k} {ns}/{n}"))
        .collect();
    assert_eq!(
        left,
        [
            "DestinationRule bookinfo/reviews",
            "DestinationRule bookinfo/reviews"
        ],
        "only the outlier DestinationRules are left"
    );

    // Annotated for one FailoverService only, the outlier policy goes with it.
    let one = annotated_guide(dir.path(), false);
    assert_eq!(smh(&kc, dir.path(), &["apply", "-f", &one]).await.code, 0);
    let r = delete_with_policies(&kc, dir.path(), "reviews-failover").await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        get(&mgmt, &tp, "service-mesh-hub", "mgmt-reviews-outlier")
            .await
            .is_none()
    );
    assert!(
        get(&mgmt, &istio_ar("DestinationRule"), "bookinfo", "reviews")
            .await
            .is_none()
    );
    assert!(
        get(&remote, &istio_ar("DestinationRule"), "bookinfo", "reviews")
            .await
            .is_none()
    );
}

/// `kubectl smh failover delete NAME --with-policies --yes`.
async fn delete_with_policies(kc: &Path, dir: &Path, name: &str) -> Run {
    smh(
        kc,
        dir,
        &["failover", "delete", name, "--with-policies", "--yes"],
    )
    .await
}

/// On a terminal, `failover delete` asks; `n` changes nothing, `y` deletes.
async fn delete_asks_on_a_terminal(clusters: &Clusters) {
    use expectrl::Expect;

    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig.yaml");
    clusters.write_kubeconfig(&kc);
    let mgmt = clusters.client("mgmt-cluster");
    let r = smh(
        &kc,
        dir.path(),
        &[
            "apply",
            "-f",
            &guide_file(1).display().to_string(),
            "-f",
            &guide_file(2).display().to_string(),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");

    let ask = |answer: &'static str| {
        let (kc, reg) = (kc.clone(), dir.path().join("clusters.yaml"));
        tokio::task::spawn_blocking(move || {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"));
            cmd.env("KUBECONFIG", &kc)
                .env("KUBECTL_SMH_CONFIG", &reg)
                .env("NO_COLOR", "1")
                .args(["failover", "delete", "reviews-failover"]);
            let mut p = expectrl::Session::spawn(cmd).expect("spawn on a pty");
            p.set_expect_timeout(Some(Duration::from_secs(20)));
            p.expect("Delete FailoverService service-mesh-hub/reviews-failover and the generated objects above?")
                .expect("the question");
            p.send(answer).unwrap();
            let rest = p.expect(expectrl::Eof).expect("the end");
            let text = String::from_utf8_lossy(rest.as_bytes()).into_owned();
            let status = p.get_process().wait().unwrap();
            (status, text)
        })
    };
    let (status, text) = ask("n").await.unwrap();
    let status = format!("{status:?}");
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 1)"),
        "{status}: {text}"
    );
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(reviews_failover(&mgmt).await.is_some());

    let (status, text) = ask("y").await.unwrap();
    let status = format!("{status:?}");
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 0)"),
        "{status}: {text}"
    );
    assert!(reviews_failover(&mgmt).await.is_none());
    assert!(
        get(
            &mgmt,
            &istio_ar("EnvoyFilter"),
            "istio-system",
            "reviews-failover"
        )
        .await
        .is_none()
    );
}

/// Declares each scenario's test on the simulated clusters (a fleet each, in parallel) and
/// the one test that runs them all, in this order, on one real fleet (a real fleet takes tens
/// of seconds to start), with every SMH and generated object deleted before each.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn every_scenario_on_real_control_planes() {
            let Some(clusters) = Clusters::start(Backend::Real, MultiClusterMode::Global).await
            else {
                return;
            };
            // The real control planes start without the SMH CRDs.
            let dir = tempfile::tempdir().unwrap();
            let kc = dir.path().join("kubeconfig.yaml");
            clusters.write_kubeconfig(&kc);
            let r = smh(&kc, dir.path(), &["install"]).await;
            assert_eq!(r.code, 0, "{r:?}");
            let (mgmt, remote) = (
                clusters.client("mgmt-cluster"),
                clusters.client("remote-cluster"),
            );
            $(
                reset(&mgmt, &remote).await;
                $scenario(&clusters).await;
            )*
            clusters.shutdown().await;
        }

        mod on_the_simulated_clusters {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let clusters = Clusters::Sim(demo_fleet(MultiClusterMode::Global).await);
                    super::$scenario(&clusters).await;
                    clusters.shutdown().await;
                }
            )*
        }
    };
}

on_both_backends!(
    list_and_delete,
    delete_with_policies_keeps_shared_ones,
    delete_asks_on_a_terminal,
);

/// Simulator only: it loses exactly the DELETE's answer, which needs the simulator's fault
/// injection (a real API server cannot be told to drop one answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_whose_answer_was_lost_is_sent_again_with_its_uid() {
    let clusters = Clusters::Sim(demo_fleet(MultiClusterMode::Global).await);
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig.yaml");
    clusters.write_kubeconfig(&kc);
    let r = smh(
        &kc,
        dir.path(),
        &["apply", "-f", &guide_dir().display().to_string()],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let Clusters::Sim(fleet) = &clusters else {
        unreachable!()
    };
    let faults = fleet.cluster("mgmt-cluster").unwrap().faults();
    // The FailoverService's DELETE is carried out and its answer lost on the way back.
    faults.cut_next_answers("DELETE", "/failoverservices/reviews-failover", 1);
    let r = smh(
        &kc,
        dir.path(),
        &["failover", "delete", "reviews-failover", "--yes", "-v"],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let retries: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("retry: delete failoverservices"))
        .collect();
    assert_eq!(
        retries.len(),
        1,
        "one lost answer, one repeat of a DELETE that names its uid: {r:?}"
    );
    assert!(
        retries[0].contains("on cluster mgmt-cluster"),
        "{retries:?}"
    );
    let mgmt = clusters.client("mgmt-cluster");
    assert!(reviews_failover(&mgmt).await.is_none());
    clusters.shutdown().await;
}
