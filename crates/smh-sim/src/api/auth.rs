//! Who is asking, and may they: the simulated API server authenticates bearer tokens and
//! authorises every request with RBAC, as kube-apiserver does with a static token file and
//! `--authorization-mode=RBAC` (plus its `system:masters` short cut).
//!
//! - **Authentication.** A bearer token names a user ([`SimUser`]); every authenticated user
//!   is also in `system:authenticated`; an unknown token gets `401 Unauthorized`. The demo
//!   user (the token the fleet writes into its kubeconfig) is in `system:masters`. A request
//!   without credentials is, by default, that admin too ([`Anonymous::Admin`]): the simulated
//!   clusters serve plain HTTP, and kubectl (client-go) sends credentials over TLS only, so
//!   everything real kubectl sends to them arrives without any. With
//!   [`Anonymous::Unauthenticated`] such a request is `system:anonymous` in
//!   `system:unauthenticated`, as on a real server with anonymous auth enabled.
//! - **Request attributes** ([`RequestAttributes::from_request`]) follow the API server's
//!   request-info rules: the verb comes from the HTTP method and the path (`get`, `list`,
//!   `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`), the path gives the
//!   API group, namespace, resource, subresource and name; a list or watch with
//!   `fieldSelector=metadata.name=X` names `X`; paths outside `/api/v1/...` and
//!   `/apis/GROUP/VERSION/...` (discovery, `/version`, `/openapi/v3`) are non-resource URLs.
//! - **Authorisation.** `system:masters` may do anything. Everyone else gets what the
//!   stored `rbac.authorization.k8s.io/v1` objects grant: every ClusterRoleBinding naming
//!   the user (by name, group, or service account) with the rules of its ClusterRole, and in
//!   a namespaced request every RoleBinding of that namespace with its Role (same namespace)
//!   or ClusterRole. A rule matches on verbs (`*`), API groups (`*`), resources (`*`,
//!   `pods/portforward`, `*/scale`), resourceNames (only when the request names an object)
//!   and nonResourceURLs (`*`, a trailing `*` is a prefix). Rules only grant; a binding to a
//!   missing role grants nothing and is named in the 403's reason, as the real server does.
//! - **Second checks as `create`**, as the API server makes them: a server-side apply that
//!   creates its object, and (with [`AuthOptions::websocket_upgrade_requires_create`], as
//!   from Kubernetes 1.35) a WebSocket port-forward ([`check_also_create`]).
//! - **Denials** are `403 Forbidden` with the real server's `Status` message:
//!   `pods "p" is forbidden: User "u" cannot get resource "pods/portforward" in API group ""
//!   in the namespace "bookinfo"`, or `forbidden: User "u" cannot get path "/apis"`.
//! - **Bootstrap policy** ([`bootstrap_objects`]): the `cluster-admin`, `system:discovery`,
//!   `system:basic-user` and `system:public-info-viewer` ClusterRoles and their bindings, as
//!   a new cluster has them: anyone may read `/healthz`, `/livez`, `/readyz` and `/version`;
//!   authenticated users may read discovery and OpenAPI and create SelfSubjectAccessReviews
//!   and SelfSubjectRulesReviews (what `kubectl auth can-i` sends).
//!
//! Not modelled: client certificates, impersonation, the Node authorizer, ClusterRole
//! aggregation (an aggregated role grants the rules stored on it), and the escalation check
//! on writing Roles and bindings (any user allowed to create a Role may grant anything).

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};
use serde_json::Value;

use super::status::ApiError;
use crate::store::{Gvr, Store};

mod bootstrap;
mod impersonate;
mod request;
mod reviews;

pub(crate) use self::bootstrap::bootstrap_objects;
pub(crate) use self::impersonate::impersonate;
pub(crate) use self::request::RequestAttributes;
pub(crate) use self::reviews::{
    self_subject_access_review, self_subject_review, self_subject_rules_review,
};

/// The group whose members may do anything.
pub(crate) const MASTERS_GROUP: &str = "system:masters";
/// Every authenticated user is in this group.
pub(crate) const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// A request without credentials is in this group.
pub(crate) const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
/// The user of a request without credentials.
pub(crate) const ANONYMOUS_USER: &str = "system:anonymous";

/// The RBAC API group.
pub(crate) const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// The authorization API group (access reviews).
pub(crate) const AUTHORIZATION_GROUP: &str = "authorization.k8s.io";

/// A user of a simulated cluster: a bearer token and who it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    /// The user name RBAC bindings name.
    pub name: String,
    /// The bearer token that authenticates as this user.
    pub token: String,
    /// Groups besides `system:authenticated` (which every authenticated user is in).
    pub groups: Vec<String>,
}

impl SimUser {
    /// A user in no group but `system:authenticated`.
    pub fn new(name: &str, token: &str) -> Self {
        SimUser {
            name: name.to_string(),
            token: token.to_string(),
            groups: Vec::new(),
        }
    }

    /// The same user in `groups` too.
    pub fn with_groups(mut self, groups: &[&str]) -> Self {
        self.groups.extend(groups.iter().map(|g| g.to_string()));
        self
    }
}

/// Who a request without credentials is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Anonymous {
    /// The admin user: what real kubectl needs, since it sends no credentials over plain
    /// HTTP.
    #[default]
    Admin,
    /// `system:anonymous` in `system:unauthenticated`, as a real API server sees it.
    Unauthenticated,
}

/// How a cluster authenticates and authorises.
#[derive(Debug, Clone, Default)]
pub struct AuthOptions {
    /// Token users besides the demo user.
    pub users: Vec<SimUser>,
    /// Who a request without credentials is.
    pub anonymous: Anonymous,
    /// Kubernetes 1.35's `AuthorizePodWebsocketUpgradeCreatePermission` (beta, on by
    /// default from 1.35): a WebSocket port-forward, a `GET` authorised as `get
    /// pods/portforward`, must also be allowed to `create pods/portforward`. Off by
    /// default, as in the Kubernetes version the simulator reports.
    pub websocket_upgrade_requires_create: bool,
}

/// An authenticated (or anonymous) user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    pub(crate) fn anonymous() -> Self {
        UserInfo {
            name: ANONYMOUS_USER.into(),
            groups: vec![UNAUTHENTICATED_GROUP.into()],
        }
    }

    fn in_group(&self, g: &str) -> bool {
        self.groups.iter().any(|x| x == g)
    }
}

/// Bearer tokens → users.
#[derive(Debug, Clone)]
pub(crate) struct Authenticator {
    tokens: BTreeMap<String, UserInfo>,
    /// The user of a request without credentials.
    anonymous: UserInfo,
}

fn authenticated(u: &SimUser) -> UserInfo {
    let mut groups = u.groups.clone();
    if !groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
        groups.push(AUTHENTICATED_GROUP.into());
    }
    UserInfo {
        name: u.name.clone(),
        groups,
    }
}

impl Authenticator {
    /// The users of `users`, each also in `system:authenticated`; a request without
    /// credentials is `system:anonymous`.
    pub(crate) fn new<'a>(users: impl IntoIterator<Item = &'a SimUser>) -> Self {
        let tokens = users
            .into_iter()
            .map(|u| (u.token.clone(), authenticated(u)))
            .collect();
        Authenticator {
            tokens,
            anonymous: UserInfo::anonymous(),
        }
    }

    /// The same, but a request without credentials is `user`.
    pub(crate) fn with_anonymous(mut self, user: &SimUser) -> Self {
        self.anonymous = authenticated(user);
        self
    }

    /// The user of a request: its bearer token's, or the anonymous user without
    /// credentials. An unknown token (or another scheme) is 401, as a real server answers it.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(self.anonymous.clone());
        };
        let value = value.to_str().unwrap_or_default().trim();
        let token = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        match token.and_then(|t| self.tokens.get(t)) {
            Some(u) => Ok(u.clone()),
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// RBAC's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    pub allowed: bool,
    /// Why: the binding that allowed it, or the role references that could not be resolved.
    pub reason: String,
}

fn strs(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether one PolicyRule (JSON) allows the request, as RBAC's `RuleAllows`.
pub(crate) fn rule_allows(a: &RequestAttributes, rule: &Value) -> bool {
    let verbs = strs(rule.get("verbs"));
    let verb_ok = verbs.iter().any(|v| *v == "*" || *v == a.verb);
    if !verb_ok {
        return false;
    }
    if a.resource_request {
        let groups = strs(rule.get("apiGroups"));
        if !groups.iter().any(|g| *g == "*" || *g == a.group) {
            return false;
        }
        let combined = a.combined_resource();
        let resources = strs(rule.get("resources"));
        let resource_ok = resources.iter().any(|r| {
            *r == "*"
                || *r == combined
                || (!a.subresource.is_empty()
                    && r.len() == a.subresource.len() + 2
                    && r.starts_with("*/")
                    && r.ends_with(a.subresource.as_str()))
        });
        if !resource_ok {
            return false;
        }
        let names = strs(rule.get("resourceNames"));
        names.is_empty() || names.iter().any(|n| *n == a.name)
    } else {
        strs(rule.get("nonResourceURLs")).iter().any(|u| {
            *u == "*"
                || *u == a.path
                || (u.ends_with('*') && a.path.starts_with(u.trim_end_matches('*')))
        })
    }
}

/// Whether a binding subject is the user, as RBAC's `appliesToUser`.
fn applies_to(user: &UserInfo, subject: &Value, binding_namespace: &str) -> bool {
    let s = |k: &str| subject.get(k).and_then(Value::as_str).unwrap_or_default();
    match s("kind") {
        "User" => user.name == s("name"),
        "Group" => user.in_group(s("name")),
        "ServiceAccount" => {
            let ns = match s("namespace") {
                "" => binding_namespace,
                ns => ns,
            };
            !ns.is_empty() && user.name == format!("system:serviceaccount:{ns}:{}", s("name"))
        }
        _ => false,
    }
}

fn gvr(plural: &str) -> Gvr {
    Gvr::new(RBAC_GROUP, "v1", plural)
}

/// The rules a binding's roleRef points at, or the error the real server reports.
fn role_rules(store: &Store, binding: &Value, binding_namespace: &str) -> Result<Value, String> {
    let kind = binding
        .pointer("/roleRef/kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = binding
        .pointer("/roleRef/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let role = match kind {
        "Role" => store
            .get(&gvr("roles"), binding_namespace, name)
            .ok_or_else(|| format!("role.{RBAC_GROUP} \"{name}\" not found")),
        "ClusterRole" => store
            .get(&gvr("clusterroles"), "", name)
            .ok_or_else(|| format!("clusterrole.{RBAC_GROUP} \"{name}\" not found")),
        other => Err(format!("unsupported role reference kind: \"{other}\"")),
    }?;
    Ok(role.get("rules").cloned().unwrap_or(Value::Array(vec![])))
}

/// Every rule that applies to `user` in `namespace` (cluster-wide rules only for an empty
/// namespace), with where it came from; and the role references that could not be
/// resolved. Visits ClusterRoleBindings, then the namespace's RoleBindings, each in name
/// order, as RBAC's rule resolver does.
pub(crate) fn visit_rules(
    store: &Store,
    user: &UserInfo,
    namespace: &str,
    visit: &mut dyn FnMut(&str, &Value) -> bool,
) -> Vec<String> {
    let mut errors = Vec::new();
    let (crbs, _) = store.list(&gvr("clusterrolebindings"), None);
    for b in &crbs {
        let subjects = b
            .get("subjects")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(subject) = subjects.iter().find(|s| applies_to(user, s, "")) else {
            continue;
        };
        match role_rules(store, b, "") {
            Err(e) => errors.push(e),
            Ok(rules) => {
                let source = format!(
                    "ClusterRoleBinding \"{}\" of ClusterRole \"{}\" to {}",
                    meta_name(b),
                    b.pointer("/roleRef/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    describe_subject(subject, "")
                );
                for r in rules.as_array().into_iter().flatten() {
                    if !visit(&source, r) {
                        return errors;
                    }
                }
            }
        }
    }
    if namespace.is_empty() {
        return errors;
    }
    let (rbs, _) = store.list(&gvr("rolebindings"), Some(namespace));
    for b in &rbs {
        let subjects = b
            .get("subjects")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(subject) = subjects.iter().find(|s| applies_to(user, s, namespace)) else {
            continue;
        };
        match role_rules(store, b, namespace) {
            Err(e) => errors.push(e),
            Ok(rules) => {
                let source = format!(
                    "RoleBinding \"{}/{namespace}\" of {} \"{}\" to {}",
                    meta_name(b),
                    b.pointer("/roleRef/kind")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    b.pointer("/roleRef/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    describe_subject(subject, namespace)
                );
                for r in rules.as_array().into_iter().flatten() {
                    if !visit(&source, r) {
                        return errors;
                    }
                }
            }
        }
    }
    errors
}

fn meta_name(o: &Value) -> &str {
    o.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn describe_subject(s: &Value, binding_namespace: &str) -> String {
    let g = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default();
    match g("kind") {
        "ServiceAccount" => {
            let ns = if g("namespace").is_empty() {
                binding_namespace
            } else {
                g("namespace")
            };
            format!("ServiceAccount \"{}/{ns}\"", g("name"))
        }
        k => format!("{k} \"{}\"", g("name")),
    }
}

/// RBAC (and the `system:masters` short cut) on one request.
pub(crate) fn authorize(store: &Store, a: &RequestAttributes) -> Decision {
    if a.user.in_group(MASTERS_GROUP) {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    let mut allowed_by: Option<String> = None;
    let errors = visit_rules(store, &a.user, &a.namespace, &mut |source, rule| {
        if rule_allows(a, rule) {
            allowed_by = Some(source.to_string());
            false
        } else {
            true
        }
    });
    match allowed_by {
        Some(source) => Decision {
            allowed: true,
            reason: format!("RBAC: allowed by {source}"),
        },
        None => Decision {
            allowed: false,
            reason: match errors.len() {
                0 => String::new(),
                1 => format!("RBAC: {}", errors[0]),
                _ => format!("RBAC: [{}]", errors.join(", ")),
            },
        },
    }
}

/// The 403 the API server's authorization filter answers.
pub(crate) fn forbidden(a: &RequestAttributes, reason: &str) -> ApiError {
    let who = &a.user.name;
    let mut msg = if a.resource_request {
        let scope = if a.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{}\"", a.namespace)
        };
        format!(
            "User \"{who}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
            a.verb,
            a.combined_resource(),
            a.group
        )
    } else {
        format!("User \"{who}\" cannot {} path \"{}\"", a.verb, a.path)
    };
    if !reason.is_empty() {
        msg = format!("{msg}: {reason}");
    }
    ApiError::forbidden(&a.group, &a.resource, &a.name, &msg)
}

/// Authorise `a`; the 403 when RBAC does not allow it.
pub(crate) fn check(store: &Store, a: &RequestAttributes) -> Result<(), ApiError> {
    let d = authorize(store, a);
    if d.allowed {
        Ok(())
    } else {
        Err(forbidden(a, &d.reason))
    }
}

/// The API server's second check, as `create`, of a request already allowed under its own
/// verb: a server-side apply (`patch`) that creates the object, and, from Kubernetes 1.35,
/// a WebSocket port-forward (a `GET`, authorised as `get`). The 403 names no user: it is
/// the handler's, `pods "p" is forbidden: ` followed by RBAC's reason (usually empty).
pub(crate) fn check_also_create(store: &Store, a: &RequestAttributes) -> Result<(), ApiError> {
    if a.verb == "create" {
        return Ok(());
    }
    let create = RequestAttributes {
        verb: "create".into(),
        ..a.clone()
    };
    let d = authorize(store, &create);
    if d.allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            &a.group,
            &a.resource,
            &a.name,
            &d.reason,
        ))
    }
}

#[cfg(test)]
mod tests;
