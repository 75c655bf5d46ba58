//! The simulated API server's RBAC as kube-rs sees it, and the port-forward's permissions
//! before and from Kubernetes 1.35.

use super::*;

/// The simulated API server's RBAC as kube-rs sees it: a 403 `Status` worded as
/// kube-apiserver words it, SelfSubjectAccessReviews, Roles and RoleBindings written as
/// typed objects, 401 for an unknown token, the create check of a server-side apply that
/// creates, and Kubernetes 1.35's create check on the WebSocket port-forward.
#[tokio::test]
async fn simulated_rbac_as_a_client_sees_it() {
    let mut o = ClusterOptions::new("rbac");
    o.namespaces = vec!["team".into()];
    o.auth.users.push(SimUser::new("alice", "alice-token"));
    o.auth.anonymous = Anonymous::Unauthenticated;
    let c = SimCluster::start(o).await.unwrap();
    let admin = c.client().unwrap();
    let alice = c.client_as("alice-token").unwrap();

    let configmaps: Api<ConfigMap> = Api::namespaced(alice.clone(), "team");
    a_forbidden_list_is_worded_as_kube_apiserver_words_it(&configmaps).await;
    let binding = a_role_binding_grants_what_reviews_report(&admin, &alice, &configmaps).await;
    server_side_apply_that_creates_is_authorised_as_create(&configmaps).await;
    an_invalid_binding_is_refused_naming_the_field(&admin, &binding).await;
    unknown_tokens_are_401_and_no_credentials_is_anonymous(&c).await;
    c.shutdown().await;
}

/// A 403 `Status` worded as kube-apiserver words it.
async fn a_forbidden_list_is_worded_as_kube_apiserver_words_it(configmaps: &Api<ConfigMap>) {
    let e = configmaps.list(&ListParams::default()).await.unwrap_err();
    let kube::Error::Api(s) = e else {
        panic!("not a Status: {e:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team\""
    );
}

/// SelfSubjectAccessReviews before and after a Role and RoleBinding (typed objects, the
/// binding defaulted as the API server does) grant alice configmaps; the binding.
async fn a_role_binding_grants_what_reviews_report(
    admin: &kube::Client,
    alice: &kube::Client,
    configmaps: &Api<ConfigMap>,
) -> RoleBinding {
    let review = |verb: &str, name: &str| SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some("team".into()),
                verb: Some(verb.into()),
                resource: Some("configmaps".into()),
                name: Some(name.into()).filter(|n: &String| !n.is_empty()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let reviews: Api<SelfSubjectAccessReview> = Api::all(alice.clone());
    let allowed = |r: SelfSubjectAccessReview| r.status.map(|s| s.allowed);
    let r = reviews
        .create(&PostParams::default(), &review("list", ""))
        .await
        .unwrap();
    assert_eq!(allowed(r), Some(false));

    let role: Role =
        serde_json::from_value(json!({"metadata": {"name": "cm", "namespace": "team"}})).unwrap();
    let role = Role {
        rules: Some(vec![
            PolicyRule {
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["configmaps".into()]),
                verbs: vec!["list".into(), "patch".into()],
                ..Default::default()
            },
            PolicyRule {
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["configmaps".into()]),
                resource_names: Some(vec!["mine".into()]),
                verbs: vec!["create".into()],
                ..Default::default()
            },
        ]),
        ..role
    };
    Api::<Role>::namespaced(admin.clone(), "team")
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding = RoleBinding {
        metadata: serde_json::from_value(json!({"name": "cm", "namespace": "team"})).unwrap(),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "cm".into(),
        },
        subjects: Some(vec![Subject {
            kind: "User".into(),
            name: "alice".into(),
            ..Default::default()
        }]),
    };
    let created = Api::<RoleBinding>::namespaced(admin.clone(), "team")
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    // Defaulted as the API server does.
    assert_eq!(
        created.subjects.unwrap()[0].api_group.as_deref(),
        Some("rbac.authorization.k8s.io")
    );
    assert!(configmaps.list(&ListParams::default()).await.is_ok());
    let r = reviews
        .create(&PostParams::default(), &review("list", ""))
        .await
        .unwrap();
    assert_eq!(allowed(r), Some(true));
    binding
}

/// A server-side apply that creates is also authorised as create (by name here); patching an
/// existing object needs `patch` only.
async fn server_side_apply_that_creates_is_authorised_as_create(configmaps: &Api<ConfigMap>) {
    // A server-side apply that creates is also authorised as create (by name here).
    let pp = PatchParams::apply("test");
    let body =
        |name: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    let e = configmaps
        .patch("other", &pp, &Patch::Apply(body("other")))
        .await
        .unwrap_err();
    let kube::Error::Api(s) = e else {
        panic!("not a Status: {e:?}")
    };
    assert_eq!(
        (s.code, s.message.as_str()),
        (403, "configmaps \"other\" is forbidden: ")
    );
    configmaps
        .patch("mine", &pp, &Patch::Apply(body("mine")))
        .await
        .unwrap();
    // Patching an existing one needs `patch` only.
    configmaps
        .patch("mine", &pp, &Patch::Apply(body("mine")))
        .await
        .unwrap();
}

async fn an_invalid_binding_is_refused_naming_the_field(
    admin: &kube::Client,
    binding: &RoleBinding,
) {
    // An invalid binding is refused (422) naming the field.
    let mut bad = binding.clone();
    bad.metadata.name = Some("bad".into());
    bad.role_ref.kind = "Deployment".into();
    let e = Api::<RoleBinding>::namespaced(admin.clone(), "team")
        .create(&PostParams::default(), &bad)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, kube::Error::Api(s) if s.code == 422 && s.message.contains("roleRef.kind: Unsupported value: \"Deployment\"")),
        "{e:?}"
    );
}

async fn unknown_tokens_are_401_and_no_credentials_is_anonymous(c: &SimCluster) {
    // An unknown token is 401; no credentials at all is system:anonymous.
    let e = c
        .client_as("nope")
        .unwrap()
        .apiserver_version()
        .await
        .unwrap_err();
    assert!(matches!(&e, kube::Error::Api(s) if s.code == 401), "{e:?}");
    let mut cfg = kube::Config::new(c.url().parse().unwrap());
    cfg.auth_info = Default::default();
    let anonymous = kube::Client::try_from(cfg).unwrap();
    assert!(
        anonymous.apiserver_version().await.is_ok(),
        "/version is public"
    );
    let e = Api::<Namespace>::all(anonymous)
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, kube::Error::Api(s) if s.message == "namespaces is forbidden: User \"system:anonymous\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"),
        "{e:?}"
    );
}

/// The port-forward's permissions: before Kubernetes 1.35 `get` suffices; with 1.35's
/// `AuthorizePodWebsocketUpgradeCreatePermission` the upgrade needs `create` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_needs_create_from_1_35() {
    for requires_create in [false, true] {
        let mut opts = FleetOptions::demo().with_user(SimUser::new("pf", "pf-token"));
        for c in opts.clusters.iter_mut() {
            c.auth.websocket_upgrade_requires_create = requires_create;
        }
        opts.hooks
            .push(bookinfo_world(MultiClusterMode::Global, "1.24.2"));
        let fleet = SimFleet::start(opts).await.unwrap();
        let mgmt = fleet.cluster("mgmt-cluster").unwrap();
        let admin = mgmt.client().unwrap();
        create_all(
            &admin,
            &[
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": {"name": "pf", "namespace": "bookinfo"},
                    "rules": [{"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get"]},
                              {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": "pf", "namespace": "bookinfo"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pf"},
                    "subjects": [{"kind": "User", "name": "pf"}]}),
            ],
        )
        .await;
        let pods: Api<Pod> = Api::namespaced(mgmt.client_as("pf-token").unwrap(), "bookinfo");
        // Any pod will do: the permission is checked before the pod's port is.
        let t = Instant::now();
        let pod = loop {
            let listed = pods.list(&ListParams::default()).await.unwrap().items;
            if let Some(p) = listed.into_iter().find_map(|p| p.metadata.name) {
                break p;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "no pod in bookinfo");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let r = pods.portforward(&pod, &[9080]).await;
        match (requires_create, r) {
            (false, Ok(pf)) => pf.abort(),
            (true, Err(kube::Error::Api(s))) => {
                assert_eq!(s.code, 403);
                assert_eq!(s.message, format!("pods \"{pod}\" is forbidden: "));
            }
            (rc, r) => panic!("requires_create={rc}: {:?}", r.map(|_| ())),
        }
        fleet.shutdown().await;
    }
}
