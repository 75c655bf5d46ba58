//! Tests of authentication, request attributes and RBAC against what kube-apiserver does.

use super::*;
use axum::http::Method;
use serde_json::json;

fn user(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo {
        name: name.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

fn attrs(method: Method, path: &str, query: Option<&str>) -> RequestAttributes {
    RequestAttributes::from_request(user("u", &[AUTHENTICATED_GROUP]), &method, path, query)
}

fn short(a: &RequestAttributes) -> (bool, &str, &str, &str, &str, &str, &str) {
    (
        a.resource_request,
        a.verb.as_str(),
        a.group.as_str(),
        a.namespace.as_str(),
        a.resource.as_str(),
        a.subresource.as_str(),
        a.name.as_str(),
    )
}

/// One request-info case: method, path, query, and the attributes
/// `(resource request, verb, group, namespace, resource, subresource, name)`.
type Case<'a> = (
    Method,
    &'a str,
    Option<&'a str>,
    (bool, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str),
);

fn assert_request_info(cases: &[Case]) {
    for (m, path, q, want) in cases {
        let a = attrs(m.clone(), path, *q);
        assert_eq!(short(&a), *want, "{m} {path} {q:?}");
    }
}

#[test]
fn request_info_of_discovery_and_collections_like_the_api_server() {
    assert_request_info(&[
        (
            Method::GET,
            "/version",
            None,
            (false, "get", "", "", "", "", ""),
        ),
        (
            Method::GET,
            "/api",
            None,
            (false, "get", "", "", "", "", ""),
        ),
        (
            Method::GET,
            "/api/v1",
            None,
            (false, "get", "", "", "", "", ""),
        ),
        (
            Method::GET,
            "/apis/apps/v1",
            None,
            (false, "get", "", "", "", "", ""),
        ),
        (
            Method::GET,
            "/openapi/v3/apis/apps/v1",
            None,
            (false, "get", "", "", "", "", ""),
        ),
        (
            Method::GET,
            "/api/v1/pods",
            None,
            (true, "list", "", "", "pods", "", ""),
        ),
        (
            Method::GET,
            "/api/v1/pods",
            Some("watch=true&resourceVersion=1"),
            (true, "watch", "", "", "pods", "", ""),
        ),
        (
            Method::GET,
            "/api/v1/pods",
            Some("watch=0"),
            (true, "list", "", "", "pods", "", ""),
        ),
        (
            Method::GET,
            "/api/v1/watch/namespaces/b/pods",
            None,
            (true, "watch", "", "b", "pods", "", ""),
        ),
    ]);
}

#[test]
fn request_info_of_named_objects_and_subresources_like_the_api_server() {
    assert_request_info(&[
        (
            Method::GET,
            "/apis/apps/v1/namespaces/bookinfo/deployments/reviews-v1",
            None,
            (
                true,
                "get",
                "apps",
                "bookinfo",
                "deployments",
                "",
                "reviews-v1",
            ),
        ),
        (
            Method::GET,
            "/apis/apps/v1/namespaces/bookinfo/deployments",
            Some("fieldSelector=metadata.name%3Dreviews-v1"),
            (
                true,
                "list",
                "apps",
                "bookinfo",
                "deployments",
                "",
                "reviews-v1",
            ),
        ),
        (
            Method::PATCH,
            "/apis/apps/v1/namespaces/bookinfo/deployments/reviews-v1",
            None,
            (
                true,
                "patch",
                "apps",
                "bookinfo",
                "deployments",
                "",
                "reviews-v1",
            ),
        ),
        (
            Method::GET,
            "/api/v1/namespaces/bookinfo/pods/p/portforward",
            Some("ports=9080"),
            (true, "get", "", "bookinfo", "pods", "portforward", "p"),
        ),
        (
            Method::POST,
            "/api/v1/namespaces/bookinfo/pods/p/portforward",
            None,
            (true, "create", "", "bookinfo", "pods", "portforward", "p"),
        ),
        (
            Method::GET,
            "/api/v1/namespaces/bookinfo",
            None,
            (true, "get", "", "bookinfo", "namespaces", "", "bookinfo"),
        ),
        (
            Method::PUT,
            "/api/v1/namespaces/bookinfo/finalize",
            None,
            (
                true,
                "update",
                "",
                "bookinfo",
                "namespaces",
                "finalize",
                "bookinfo",
            ),
        ),
        (
            Method::DELETE,
            "/api/v1/namespaces/b/pods",
            None,
            (true, "deletecollection", "", "b", "pods", "", ""),
        ),
        (
            Method::POST,
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            None,
            (true, "create", RBAC_GROUP, "", "clusterroles", "", ""),
        ),
    ]);
}

#[test]
fn rules_match_like_rbac() {
    let a = attrs(
        Method::GET,
        "/api/v1/namespaces/bookinfo/pods/p/portforward",
        None,
    );
    let rule = |v: Value| rule_allows(&a, &v);
    assert!(rule(
        json!({"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get"]})
    ));
    assert!(rule(
        json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
    ));
    assert!(rule(
        json!({"apiGroups": [""], "resources": ["*/portforward"], "verbs": ["get"]})
    ));
    assert!(rule(
        json!({"apiGroups": [""], "resources": ["pods/portforward"], "resourceNames": ["p"], "verbs": ["get"]})
    ));
    // `pods` does not cover a subresource; a wrong name, verb or group does not match.
    assert!(!rule(
        json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]})
    ));
    assert!(!rule(
        json!({"apiGroups": [""], "resources": ["pods/portforward"], "resourceNames": ["q"], "verbs": ["get"]})
    ));
    assert!(!rule(
        json!({"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["create"]})
    ));
    assert!(!rule(
        json!({"apiGroups": ["apps"], "resources": ["pods/portforward"], "verbs": ["get"]})
    ));
    assert!(!rule(
        json!({"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]})
    ));
    // A list names no object: a rule with resourceNames does not allow it.
    let list = attrs(Method::GET, "/api/v1/namespaces/bookinfo/pods", None);
    assert!(!rule_allows(
        &list,
        &json!({"apiGroups": [""], "resources": ["pods"], "resourceNames": ["p"], "verbs": ["list"]})
    ));
    let path = attrs(Method::GET, "/apis/apps", None);
    assert!(rule_allows(
        &path,
        &json!({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]})
    ));
    assert!(!rule_allows(
        &path,
        &json!({"nonResourceURLs": ["/api/*"], "verbs": ["get"]})
    ));
    assert!(rule_allows(
        &path,
        &json!({"nonResourceURLs": ["*"], "verbs": ["get"]})
    ));
    // A resource rule never matches a path, nor a path rule a resource.
    assert!(!rule_allows(
        &path,
        &json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
    ));
    assert!(!rule(json!({"nonResourceURLs": ["*"], "verbs": ["*"]})));
}

fn store_with(objects: &[(&str, Value)]) -> Store {
    let s = Store::new();
    for (plural, o) in bootstrap_objects().iter().map(|(p, o)| (*p, o.clone())) {
        s.create(&gvr(plural), o).unwrap();
    }
    for (plural, o) in objects {
        s.create(&gvr(plural), o.clone()).unwrap();
    }
    s
}

/// Alice may port-forward in bookinfo (a Role), the group devs may list deployments in
/// istio-system (a ClusterRole bound there), and service account bot is bound to a missing
/// Role.
fn rbac_store() -> Store {
    store_with(&[
        (
            "roles",
            json!({"metadata": {"name": "pf", "namespace": "bookinfo"}, "rules": [{"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get", "create"]}]}),
        ),
        (
            "rolebindings",
            json!({"metadata": {"name": "pf", "namespace": "bookinfo"}, "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "pf"}, "subjects": [{"kind": "User", "name": "alice"}]}),
        ),
        (
            "clusterroles",
            json!({"metadata": {"name": "reader"}, "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}]}),
        ),
        (
            "rolebindings",
            json!({"metadata": {"name": "read", "namespace": "istio-system"}, "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "reader"}, "subjects": [{"kind": "Group", "name": "devs"}]}),
        ),
        (
            "rolebindings",
            json!({"metadata": {"name": "sa", "namespace": "istio-system"}, "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "missing"}, "subjects": [{"kind": "ServiceAccount", "name": "bot"}]}),
        ),
    ])
}

fn alice() -> UserInfo {
    UserInfo {
        name: "alice".into(),
        groups: vec!["devs".into(), AUTHENTICATED_GROUP.into()],
    }
}

#[test]
fn bindings_grant_what_their_roles_say() {
    let store = rbac_store();
    let req = |m: Method, p: &str| RequestAttributes::from_request(alice(), &m, p, None);
    let allowed = |m: Method, p: &str| authorize(&store, &req(m, p)).allowed;
    assert!(allowed(
        Method::GET,
        "/api/v1/namespaces/bookinfo/pods/p/portforward"
    ));
    assert!(allowed(
        Method::POST,
        "/api/v1/namespaces/bookinfo/pods/p/portforward"
    ));
    assert!(!allowed(
        Method::GET,
        "/api/v1/namespaces/default/pods/p/portforward"
    ));
    // A ClusterRole bound by a RoleBinding grants in that namespace only.
    assert!(allowed(
        Method::GET,
        "/apis/apps/v1/namespaces/istio-system/deployments"
    ));
    assert!(!allowed(
        Method::GET,
        "/apis/apps/v1/namespaces/bookinfo/deployments"
    ));
    assert!(!allowed(Method::GET, "/apis/apps/v1/deployments"));
    // Discovery and access reviews come from the bootstrap policy.
    assert!(allowed(Method::GET, "/apis"));
    assert!(allowed(
        Method::POST,
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    ));
    // Anonymous: /version and /readyz only.
    let anon = |p: &str| {
        authorize(
            &store,
            &RequestAttributes::from_request(UserInfo::anonymous(), &Method::GET, p, None),
        )
        .allowed
    };
    assert!(anon("/version") && anon("/readyz"));
    assert!(!anon("/apis") && !anon("/api/v1/pods"));
    let masters = RequestAttributes::from_request(
        user("admin", &[MASTERS_GROUP, AUTHENTICATED_GROUP]),
        &Method::DELETE,
        "/api/v1/namespaces/x",
        None,
    );
    assert!(authorize(&store, &masters).allowed);
}

#[test]
fn denials_read_like_kube_apiserver() {
    let store = rbac_store();
    let req = |m: Method, p: &str| RequestAttributes::from_request(alice(), &m, p, None);
    // The 403, word for word as kube-apiserver writes it.
    let denied = req(Method::GET, "/api/v1/namespaces/default/pods/p/portforward");
    let e = check(&store, &denied).unwrap_err();
    assert_eq!(e.code, 403);
    assert_eq!(
        e.message,
        "pods \"p\" is forbidden: User \"alice\" cannot get resource \"pods/portforward\" in API group \"\" in the namespace \"default\""
    );
    let s = e.to_status();
    assert_eq!(s["reason"], "Forbidden");
    assert_eq!(s["details"], json!({"name": "p", "kind": "pods"}));
    let e = check(&store, &req(Method::GET, "/apis/apps/v1/deployments")).unwrap_err();
    assert_eq!(
        e.message,
        "deployments.apps is forbidden: User \"alice\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
    );
    let e = check(
        &store,
        &RequestAttributes::from_request(UserInfo::anonymous(), &Method::GET, "/apis", None),
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "forbidden: User \"system:anonymous\" cannot get path \"/apis\""
    );
    assert_eq!(e.to_status()["details"], json!({}));
    // A binding to a missing role is named in the reason.
    let bot = RequestAttributes::from_request(
        user(
            "system:serviceaccount:istio-system:bot",
            &[AUTHENTICATED_GROUP],
        ),
        &Method::GET,
        "/api/v1/namespaces/istio-system/pods",
        None,
    );
    let d = authorize(&store, &bot);
    assert!(!d.allowed);
    assert_eq!(
        d.reason,
        "RBAC: role.rbac.authorization.k8s.io \"missing\" not found"
    );
}

#[test]
fn port_forward_upgrade_is_also_checked_as_create() {
    let store = rbac_store();
    let req = |m: Method, p: &str| RequestAttributes::from_request(alice(), &m, p, None);
    // 1.35's create check on the upgrade.
    let get_only = store_with(&[
        (
            "roles",
            json!({"metadata": {"name": "pf", "namespace": "bookinfo"}, "rules": [{"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get"]}]}),
        ),
        (
            "rolebindings",
            json!({"metadata": {"name": "pf", "namespace": "bookinfo"}, "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "pf"}, "subjects": [{"kind": "User", "name": "alice"}]}),
        ),
    ]);
    let pf = req(
        Method::GET,
        "/api/v1/namespaces/bookinfo/pods/p/portforward",
    );
    assert!(check(&get_only, &pf).is_ok());
    let e = check_also_create(&get_only, &pf).unwrap_err();
    assert_eq!(e.message, "pods \"p\" is forbidden: ");
    assert!(check_also_create(&store, &pf).is_ok());
}

#[test]
fn tokens_name_users() {
    let auth = Authenticator::new(&[SimUser::new("alice", "t1").with_groups(&["devs"])]);
    let mut h = HeaderMap::new();
    assert_eq!(auth.authenticate(&h).unwrap(), UserInfo::anonymous());
    h.insert(header::AUTHORIZATION, "Bearer t1".parse().unwrap());
    assert_eq!(
        auth.authenticate(&h).unwrap(),
        user("alice", &["devs", AUTHENTICATED_GROUP])
    );
    h.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
    let e = auth.authenticate(&h).unwrap_err();
    assert_eq!(
        (e.code, e.reason, e.message.as_str()),
        (401, "Unauthorized", "Unauthorized")
    );
    h.insert(header::AUTHORIZATION, "Basic dTpw".parse().unwrap());
    assert_eq!(auth.authenticate(&h).unwrap_err().code, 401);
}

#[test]
fn access_reviews() {
    let store = store_with(&[]);
    let u = user("bob", &[AUTHENTICATED_GROUP]);
    let r = self_subject_access_review(
            &store,
            &u,
            &json!({"spec": {"resourceAttributes": {"namespace": "bookinfo", "verb": "create", "resource": "pods", "subresource": "portforward"}}}),
        )
        .unwrap();
    assert_eq!(r["status"], json!({"allowed": false}));
    let r = self_subject_access_review(
        &store,
        &u,
        &json!({"spec": {"nonResourceAttributes": {"path": "/apis", "verb": "get"}}}),
    )
    .unwrap();
    assert_eq!(r["status"]["allowed"], true);
    assert!(self_subject_access_review(&store, &u, &json!({"spec": {}})).is_err());
    let rules =
        self_subject_rules_review(&store, &u, &json!({"spec": {"namespace": "x"}})).unwrap();
    assert_eq!(
        rules["status"]["resourceRules"][0]["resources"],
        json!(["selfsubjectaccessreviews", "selfsubjectrulesreviews"])
    );
}

#[test]
fn impersonation_needs_the_impersonate_verb_and_switches_the_user() {
    let s = rbac_store();
    let admin = user("admin", &[MASTERS_GROUP, AUTHENTICATED_GROUP]);
    let mut h = HeaderMap::new();
    assert_eq!(impersonate(&s, admin.clone(), &h).unwrap(), admin);
    h.insert("impersonate-user", "alice".parse().unwrap());
    h.append("impersonate-group", "devs".parse().unwrap());
    let as_alice = impersonate(&s, admin, &h).unwrap();
    assert_eq!(as_alice.name, "alice");
    assert_eq!(as_alice.groups, vec!["devs", AUTHENTICATED_GROUP]);
    let mut sa = HeaderMap::new();
    sa.insert(
        "impersonate-user",
        "system:serviceaccount:demo:bot".parse().unwrap(),
    );
    let as_bot = impersonate(&s, user("admin", &[MASTERS_GROUP]), &sa).unwrap();
    assert_eq!(
        as_bot.groups,
        vec![
            "system:serviceaccounts",
            "system:serviceaccounts:demo",
            AUTHENTICATED_GROUP
        ]
    );
    // Alice herself may not impersonate anyone.
    let e = impersonate(&s, user("alice", &[AUTHENTICATED_GROUP]), &h).unwrap_err();
    assert_eq!(e.code, 403);
    assert_eq!(
        e.message,
        "users \"alice\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
}
