//! Impersonation (`kubectl --as USER [--as-group GROUP]`, `kubectl auth can-i --as`): the
//! `Impersonate-User` and `Impersonate-Group` headers, honoured when the requesting user may
//! `impersonate` those `users` and `groups`, as kube-apiserver's impersonation filter does;
//! the request then runs as the impersonated user (in the given groups, a service account's
//! groups for a `system:serviceaccount:NS:NAME` user impersonated without groups, and
//! `system:authenticated`).

use axum::http::HeaderMap;

use super::request::RequestAttributes;
use super::{AUTHENTICATED_GROUP, UserInfo, check};
use crate::api::status::ApiError;
use crate::store::Store;

fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The user a request acts as: `user`, or the one it impersonates (403 when `user` may not).
pub(crate) fn impersonate(
    store: &Store,
    user: UserInfo,
    headers: &HeaderMap,
) -> Result<UserInfo, ApiError> {
    let users = values(headers, "impersonate-user");
    let groups = values(headers, "impersonate-group");
    let Some(name) = users.first() else {
        if groups.is_empty() {
            return Ok(user);
        }
        return Err(ApiError::internal(
            "requested [Impersonate-Group] without impersonating a user",
        ));
    };
    let may = |resource: &str, object: &str| {
        check(
            store,
            &RequestAttributes {
                user: user.clone(),
                verb: "impersonate".into(),
                resource_request: true,
                path: String::new(),
                group: String::new(),
                version: "v1".into(),
                namespace: String::new(),
                resource: resource.into(),
                subresource: String::new(),
                name: object.into(),
            },
        )
    };
    may("users", name)?;
    for g in &groups {
        may("groups", g)?;
    }
    let mut as_groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    // A service account's username without groups gets its service account groups.
    if let Some(ns) = name
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
        .map(|(ns, _)| ns)
        && as_groups.is_empty()
    {
        as_groups.push("system:serviceaccounts".into());
        as_groups.push(format!("system:serviceaccounts:{ns}"));
    }
    if !as_groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
        as_groups.push(AUTHENTICATED_GROUP.into());
    }
    Ok(UserInfo {
        name: name.to_string(),
        groups: as_groups,
    })
}
