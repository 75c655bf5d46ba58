//! SelfSubjectAccessReview and SelfSubjectRulesReview, answered as the real server answers them.

use serde_json::{Value, json};

use super::request::RequestAttributes;
use super::{AUTHORIZATION_GROUP, MASTERS_GROUP, UserInfo, authorize, visit_rules};
use crate::api::status::ApiError;
use crate::store::Store;

/// `POST .../selfsubjectaccessreviews`: may the requesting user do what the review's
/// `spec.resourceAttributes` (or `spec.nonResourceAttributes`) describe? Answered as the
/// real server answers it (201, the review with its `status`).
pub(crate) fn self_subject_access_review(
    store: &Store,
    user: &UserInfo,
    review: &Value,
) -> Result<Value, ApiError> {
    let spec = review.get("spec").cloned().unwrap_or(Value::Null);
    let s = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let a = match (
        spec.get("resourceAttributes"),
        spec.get("nonResourceAttributes"),
    ) {
        (Some(r), None) => RequestAttributes {
            user: user.clone(),
            verb: s(r, "verb"),
            resource_request: true,
            path: String::new(),
            group: s(r, "group"),
            version: s(r, "version"),
            namespace: s(r, "namespace"),
            resource: s(r, "resource"),
            subresource: s(r, "subresource"),
            name: s(r, "name"),
        },
        (None, Some(n)) => RequestAttributes {
            user: user.clone(),
            verb: s(n, "verb"),
            resource_request: false,
            path: s(n, "path"),
            group: String::new(),
            version: String::new(),
            namespace: String::new(),
            resource: String::new(),
            subresource: String::new(),
            name: String::new(),
        },
        _ => {
            return Err(ApiError::invalid(
                AUTHORIZATION_GROUP,
                "SelfSubjectAccessReview",
                "",
                vec![crate::api::status::Cause::invalid(
                    "spec.resourceAttributes",
                    &spec,
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                )],
            ));
        }
    };
    let d = authorize(store, &a);
    let mut status = json!({"allowed": d.allowed});
    if !d.reason.is_empty() {
        status["reason"] = json!(d.reason);
    }
    Ok(json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": format!("{AUTHORIZATION_GROUP}/v1"),
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": status,
    }))
}

/// `POST .../selfsubjectrulesreviews`: every rule that applies to the requesting user in
/// `spec.namespace` (what `kubectl auth can-i --list` prints).
pub(crate) fn self_subject_rules_review(
    store: &Store,
    user: &UserInfo,
    review: &Value,
) -> Result<Value, ApiError> {
    let namespace = review
        .pointer("/spec/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    if user.in_group(MASTERS_GROUP) {
        resource_rules.push(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}));
        non_resource_rules.push(json!({"verbs": ["*"], "nonResourceURLs": ["*"]}));
    }
    let errors = visit_rules(store, user, &namespace, &mut |_, rule| {
        if rule
            .get("resources")
            .is_some_and(|r| r.as_array().is_some_and(|a| !a.is_empty()))
        {
            let mut r = json!({
                "verbs": rule.get("verbs").cloned().unwrap_or(json!([])),
                "apiGroups": rule.get("apiGroups").cloned().unwrap_or(json!([])),
                "resources": rule.get("resources").cloned().unwrap_or(json!([])),
            });
            if let Some(n) = rule.get("resourceNames").filter(|n| !n.is_null()) {
                r["resourceNames"] = n.clone();
            }
            resource_rules.push(r);
        }
        if let Some(urls) = rule
            .get("nonResourceURLs")
            .filter(|u| u.as_array().is_some_and(|a| !a.is_empty()))
        {
            non_resource_rules.push(json!({
                "verbs": rule.get("verbs").cloned().unwrap_or(json!([])),
                "nonResourceURLs": urls,
            }));
        }
        true
    });
    let mut status = json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": false,
    });
    if !errors.is_empty() {
        status["evaluationError"] = json!(errors.join(", "));
    }
    Ok(json!({
        "kind": "SelfSubjectRulesReview",
        "apiVersion": format!("{AUTHORIZATION_GROUP}/v1"),
        "metadata": {"creationTimestamp": null},
        "spec": review.get("spec").cloned().unwrap_or(json!({})),
        "status": status,
    }))
}

/// `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` (`kubectl auth whoami`): the
/// requesting user's name and groups, as the real server answers (201, nothing stored).
pub(crate) fn self_subject_review(user: &UserInfo) -> Value {
    json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": user.name, "groups": user.groups}},
    })
}
