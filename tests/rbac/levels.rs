//! Users holding exactly one level of `examples/rbac/`: read-only reads and is refused
//! writes, apply installs, applies and deletes, drill drills, and the namespace-scoped user
//! describes, checks, tests and drills.

use super::*;

/// A user holding exactly the read-only level runs describe, check, failover list and
/// failover test; apply is refused with exit 3, naming what is missing, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_level_reads_and_is_refused_writes() {
    let reader = user("reader", "kubectl-smh-read-only");
    let env = Env::start(std::slice::from_ref(&reader), &[]).await;
    for args in [
        vec!["describe"],
        vec!["describe", "failoverservice", "reviews-failover"],
        vec!["check"],
        vec!["failover", "list"],
        vec!["failover", "test", "reviews-failover", "--requests", "5"],
        vec!["version"],
    ] {
        let run = env.run("reader", &args).await;
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.show());
        assert!(
            !run.stderr.contains("forbidden"),
            "{args:?}: {}",
            run.show()
        );
    }
    // A change to apply: the guide's outlier detection ejecting on 2 errors instead of 1.
    let before = env.versions().await;
    let outlier = std::fs::read_to_string(repo("examples/guide/1-outlier-detection.yaml"))
        .unwrap()
        .replace("consecutiveErrors: 1", "consecutiveErrors: 2");
    let changed = env.dir.path().join("outlier.yaml");
    std::fs::write(&changed, outlier).unwrap();
    let run = env
        .run("reader", &["apply", "-f", changed.to_str().unwrap()])
        .await;
    assert_eq!(run.code, Some(3), "{}", run.show());
    assert!(
        run.stderr.contains(
            "forbidden to patch trafficpolicies.networking.smh.solo.io service-mesh-hub/mgmt-reviews-outlier"
        ) && run.stderr.contains(
            "kubectl auth can-i patch trafficpolicies.networking.smh.solo.io/mgmt-reviews-outlier -n service-mesh-hub --context mgmt-cluster"
        ),
        "{}",
        run.show()
    );
    let run = env
        .run(
            "reader",
            &["failover", "delete", "reviews-failover", "--yes"],
        )
        .await;
    assert_eq!(run.code, Some(3), "{}", run.show());
    assert!(
        run.stdout.contains(
            "forbidden to delete virtualservices.networking.istio.io bookinfo/reviews"
        ) && run
            .stderr
            .contains("not every generated object could be removed or updated, so the SMH objects were not deleted"),
        "{}",
        run.show()
    );
    assert_eq!(
        env.versions().await,
        before,
        "a refused write changed something"
    );
}

/// A user holding the apply level (kubectl-smh-install, kubectl-smh-apply, and read-only):
/// install, apply, failover delete, apply again (creates everything anew).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_level_installs_applies_and_deletes() {
    let applier = user("applier", "kubectl-smh-apply");
    let env = Env::start(std::slice::from_ref(&applier), &[]).await;
    let guide = repo("examples/guide");
    let guide = guide.to_str().unwrap();
    for args in [
        vec!["install"],
        vec!["apply", "-f", guide],
        vec!["failover", "delete", "reviews-failover", "--yes"],
        vec!["apply", "-f", guide],
        vec!["check"],
    ] {
        let run = env.run("applier", &args).await;
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.show());
    }
}

/// A user holding the drill level (kubectl-smh-drill and read-only) drills: passed, and
/// every deployment restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_level_drills() {
    let driller = user("driller", "kubectl-smh-drill");
    let env = Env::start(std::slice::from_ref(&driller), &[]).await;
    let before = env.deployments().await;
    let run = env.run("driller", &FAST_DRILL).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    // Nothing the drill reads is refused (the preflight's HorizontalPodAutoscalers included).
    assert!(!run.stderr.contains("forbidden"), "{}", run.show());
    env.wait_settled().await;
    let after = env.deployments().await;
    for (k, b) in &before {
        assert_eq!(
            serde_json::to_value(&b.spec.as_ref().unwrap().template).unwrap(),
            serde_json::to_value(&after[k].spec.as_ref().unwrap().template).unwrap(),
            "{k}: pod template differs after the drill"
        );
    }
    assert_no_restore_annotation(&after);
}

/// A user whose RoleBindings cover only bookinfo, service-mesh-hub and istio-system
/// (namespaced.yaml) runs describe, check, failover list, failover test and the drill:
/// listing in all namespaces is refused, kubectl-smh lists where the objects are and says
/// so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_scoped_user_describes_checks_tests_and_drills() {
    let scoped = user("scoped", "kubectl-smh-namespaced");
    let env = Env::start(std::slice::from_ref(&scoped), &[]).await;
    for args in [
        vec!["describe"],
        vec!["check"],
        vec!["failover", "list"],
        vec!["failover", "test", "reviews-failover", "--requests", "5"],
    ] {
        let run = env.run("scoped", &args).await;
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.show());
    }
    let run = env.run("scoped", &["failover", "list"]).await;
    assert!(
        run.stdout.contains("reviews-failover")
            && run
                .stderr
                .contains("warning: management cluster (context mgmt-cluster")
            && run
                .stderr
                .contains("listed in namespace service-mesh-hub only"),
        "{}",
        run.show()
    );
    let run = env.run("scoped", &["describe", "mesh"]).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert!(
        run.stdout
            .contains("forbidden to list deployments.apps in all namespaces")
            && run
                .stdout
                .contains("listed in namespaces bookinfo, istio-system only"),
        "{}",
        run.show()
    );
    let before = env.deployments().await;
    let run = env.run("scoped", &FAST_DRILL).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert!(
        !run.stderr.contains("horizontalpodautoscalers"),
        "{}",
        run.show()
    );
    env.wait_settled().await;
    let after = env.deployments().await;
    for (k, b) in &before {
        assert_eq!(
            serde_json::to_value(&b.spec.as_ref().unwrap().template).unwrap(),
            serde_json::to_value(&after[k].spec.as_ref().unwrap().template).unwrap(),
            "{k}: pod template differs after the drill"
        );
    }
    assert_no_restore_annotation(&after);
}
