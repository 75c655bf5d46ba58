//! Unit tests of the VirtualService routes: decorators, grouping, ports, order.

use super::*;
use crate::model::types::{HeaderMatcher, HttpMethod, QueryParameterMatcher};

#[test]
fn cartesian_product_of_source_and_http_matchers() {
    let spec = TrafficPolicySpec {
        source_selector: vec![WorkloadSelector {
            labels: [("app".to_string(), "productpage".to_string())].into(),
            namespaces: vec!["a".into(), "b".into()],
            clusters: vec![],
        }],
        http_request_matchers: vec![
            HttpMatcher {
                prefix: Some("/api".into()),
                headers: vec![
                    HeaderMatcher {
                        name: "x-user".into(),
                        value: "jason".into(),
                        ..Default::default()
                    },
                    HeaderMatcher {
                        name: "x-debug".into(),
                        value: "1".into(),
                        regex: true,
                        invert_match: true,
                    },
                ],
                query_parameters: vec![QueryParameterMatcher {
                    name: "q".into(),
                    value: "v".into(),
                    regex: false,
                }],
                method: Some(HttpMethod {
                    method: "GET".into(),
                }),
                ..Default::default()
            },
            HttpMatcher {
                exact: Some("/health".into()),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let m = request_matchers(&spec);
    assert_eq!(m.len(), 4);
    assert_eq!(m[0].source_namespace.as_deref(), Some("a"));
    assert_eq!(m[0].uri, Some(StringMatch::prefix("/api")));
    assert_eq!(m[0].headers["x-user"], StringMatch::exact("jason"));
    assert_eq!(m[0].without_headers["x-debug"], StringMatch::regex("1"));
    assert_eq!(m[0].query_params["q"], StringMatch::exact("v"));
    assert_eq!(m[0].method, Some(StringMatch::exact("GET")));
    assert_eq!(m[1].uri, Some(StringMatch::exact("/health")));
    assert_eq!(m[2].source_namespace.as_deref(), Some("b"));
    assert_eq!(m[3].source_labels["app"], "productpage");
}

#[test]
fn source_only_matchers() {
    let spec = TrafficPolicySpec {
        source_selector: vec![
            WorkloadSelector {
                labels: [("app".to_string(), "x".to_string())].into(),
                ..Default::default()
            },
            // clusters only: no matcher
            WorkloadSelector {
                clusters: vec!["c".into()],
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let m = request_matchers(&spec);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].source_labels["app"], "x");
    assert!(request_matchers(&TrafficPolicySpec::default()).is_empty());
}

#[test]
fn specificity_order() {
    let r = |m: HttpMatchRequest| HttpRoute {
        matches: vec![m],
        ..Default::default()
    };
    let mut routes = [
        HttpRoute::default(),
        r(HttpMatchRequest {
            uri: Some(StringMatch::prefix("/a")),
            ..Default::default()
        }),
        r(HttpMatchRequest {
            uri: Some(StringMatch::prefix("/abc")),
            ..Default::default()
        }),
        r(HttpMatchRequest {
            uri: Some(StringMatch::exact("/a")),
            ..Default::default()
        }),
        r(HttpMatchRequest {
            uri: Some(StringMatch::regex("/a.*")),
            ..Default::default()
        }),
        r(HttpMatchRequest {
            port: Some(2),
            ..Default::default()
        }),
        r(HttpMatchRequest {
            port: Some(1),
            ..Default::default()
        }),
    ];
    routes.sort_by(route_specificity);
    let uris: Vec<String> = routes
        .iter()
        .map(|r| match r.matches.first() {
            None => "none".into(),
            Some(m) => format!("{:?}/{:?}", m.uri, m.port),
        })
        .collect();
    assert_eq!(
        uris,
        vec![
            format!("{:?}/None", Some(StringMatch::exact("/a"))),
            format!("{:?}/None", Some(StringMatch::regex("/a.*"))),
            format!("{:?}/None", Some(StringMatch::prefix("/abc"))),
            format!("{:?}/None", Some(StringMatch::prefix("/a"))),
            "None/Some(1)".to_string(),
            "None/Some(2)".to_string(),
            "none".to_string(),
        ]
    );
}

#[test]
fn multi_primary_subset_names() {
    assert_eq!(
        multi_primary_subset_name("remote-cluster", &Labels::new()),
        "cluster-remote-cluster"
    );
    let s: Labels = [("version".to_string(), "v1".to_string())].into();
    assert_eq!(
        multi_primary_subset_name("Mgmt", &s),
        "version-v1-cluster-mgmt"
    );
    let l = multi_primary_subset_labels("c1", &s);
    assert_eq!(l["topology.istio.io/cluster"], "c1");
    assert_eq!(l["version"], "v1");
}

#[test]
fn field_owners_conflict_only_on_different_values() {
    let a = ObjectId {
        kind: "TrafficPolicy".into(),
        namespace: "ns".into(),
        name: "a".into(),
    };
    let b = ObjectId {
        name: "b".into(),
        ..a.clone()
    };
    let mut f = FieldOwners::default();
    assert_eq!(f.register("retries", &None, &Some(1), &a), Ok(true));
    assert_eq!(f.register("retries", &Some(1), &Some(1), &b), Ok(false));
    assert_eq!(
        f.register("retries", &Some(1), &Some(2), &b),
        Err(
            "field retries is already owned by *v1alpha2.TrafficPolicy [a.ns.] (priority 0)".into()
        )
    );
}
