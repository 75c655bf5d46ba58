//! Users lacking one permission: the command stops with the exit code of a cluster error
//! and a message naming what is missing and how to check it; nothing changes.

use super::*;

/// Users lacking one permission: the command stops with the exit code of a cluster error
/// and a message naming what is missing and how to check it; nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_is_named_and_changes_nothing() {
    let users = [
        user("no-pf-create", "no-pf-create"),
        user("no-pf", "no-pf"),
        user("no-istio", "no-istio"),
        user("nobody", "no-such-group"),
        SimUser::new("stale", "token-nobody-knows"),
    ];
    let mut env = Env::start(&users[..4], &roles_lacking_one_permission()).await;
    // A kubeconfig whose token the clusters do not know.
    let stale = env.dir.path().join("stale.kubeconfig");
    env.fleet.write_kubeconfig_for(&stale, &users[4]).unwrap();
    env.kubeconfigs.insert("stale".into(), stale);
    let before = env.versions().await;

    let pod = {
        let pods: Api<Pod> = Api::namespaced(env.client("mgmt-cluster"), "bookinfo");
        let lp = ListParams::default().labels("app=productpage");
        pods.list(&lp).await.unwrap().items[0]
            .metadata
            .name
            .clone()
            .unwrap()
    };
    for (who, args, code, says) in missing_permission_cases(&pod) {
        let run = env.run(who, &args).await;
        assert_eq!(run.code, Some(code), "{who} {args:?}: {}", run.show());
        let text = format!("{}{}", run.stdout, run.stderr);
        for s in says {
            assert!(
                text.contains(&s),
                "{who} {args:?} should say {s:?}: {}",
                run.show()
            );
        }
    }
    assert_eq!(
        env.versions().await,
        before,
        "a refused command changed something"
    );
    assert_no_restore_annotation(&env.deployments().await);
}

/// ClusterRoles and bindings derived from `read-only.yaml`, each lacking one permission:
/// `create` on pods/portforward, any port-forward (also for the drill level's group), and a
/// namespaced user without a binding in istio-system.
fn roles_lacking_one_permission() -> Vec<Value> {
    let read_only = documents(&repo("examples/rbac/read-only.yaml"))
        .into_iter()
        .find(|d| d["kind"] == "ClusterRole")
        .unwrap();
    let without_verb = |name: &str, resource: &str, verb: &str| {
        let (resource, verb) = (resource.to_string(), verb.to_string());
        derived_role(&read_only, name, move |rules| {
            for r in rules.iter_mut() {
                if r["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == &resource)
                {
                    let verbs: Vec<Value> = r["verbs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|v| **v != verb)
                        .cloned()
                        .collect();
                    r["verbs"] = Value::Array(verbs);
                }
            }
            rules.retain(|r| !r["verbs"].as_array().unwrap().is_empty());
        })
    };
    vec![
        // read-only without `create` on pods/portforward (what Kubernetes 1.35 adds).
        without_verb("no-pf-create", "pods/portforward", "create"),
        cluster_binding("no-pf-create", "no-pf-create"),
        // the drill level without any port-forward.
        derived_role(&read_only, "no-pf", |rules| {
            rules.retain(|r| {
                !r["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == "pods/portforward")
            })
        }),
        cluster_binding("no-pf", "no-pf"),
        cluster_binding("kubectl-smh-drill", "no-pf"),
        // the namespaced user, but no binding in istio-system.
        role_binding("bookinfo", "kubectl-smh-read-only", "no-istio"),
        role_binding("service-mesh-hub", "kubectl-smh-read-only", "no-istio"),
    ]
}

/// (user, command, exit code, what stderr or stdout must say), `pod` being productpage's.
fn missing_permission_cases(pod: &str) -> Vec<(&'static str, Vec<&'static str>, i32, Vec<String>)> {
    let pf = format!(
        "forbidden to open a port-forward to pod bookinfo/{pod} (403: pods \"{pod}\" is forbidden:); "
    );
    let can_i_create = "kubectl auth can-i create pods --subresource=portforward -n bookinfo --context mgmt-cluster";
    let can_i_get =
        "kubectl auth can-i get pods --subresource=portforward -n bookinfo --context mgmt-cluster";
    let needs = "need the verbs get and create on pods/portforward in namespace bookinfo";
    vec![
        (
            "no-pf-create",
            vec!["failover", "test", "reviews-failover"],
            3,
            vec![pf.clone(), needs.into(), can_i_create.into(), can_i_get.into()],
        ),
        (
            "no-pf",
            FAST_DRILL.to_vec(),
            3,
            vec![
                format!(
                    "forbidden to open a port-forward to pod bookinfo/{pod} (403: pods \"{pod}\" is forbidden: User \"no-pf\" cannot get resource \"pods/portforward\" in API group \"\" in the namespace \"bookinfo\")"
                ),
                needs.into(),
                can_i_get.into(),
            ],
        ),
        (
            "no-istio",
            vec!["check"],
            1,
            vec![
                "forbidden to list deployments.apps in namespace istio-system".into(),
                "kubectl auth can-i list deployments.apps -n istio-system --context mgmt-cluster"
                    .into(),
            ],
        ),
        (
            "nobody",
            vec!["describe"],
            3,
            vec![
                "forbidden to list failoverservices.networking.smh.solo.io in namespace service-mesh-hub".into(),
                "kubectl auth can-i list failoverservices.networking.smh.solo.io -n service-mesh-hub --context mgmt-cluster".into(),
            ],
        ),
        (
            "stale",
            vec!["describe"],
            3,
            vec!["rejected the credentials of context mgmt-cluster (401 Unauthorized".into()],
        ),
    ]
}
