//! Kubernetes `Status` errors: every failure the simulated API server answers with, with the
//! HTTP code, `reason` and message format of the real kube-apiserver.

use crate::api::registry::ResourceInfo;
use serde_json::{Value, json};

/// One cause in `Status.details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`,
    /// `FieldManagerConflict`, ...
    pub reason: String,
    pub message: String,
    pub field: String,
}

impl Cause {
    pub(crate) fn new(reason: &str, field: &str, message: impl Into<String>) -> Self {
        Cause {
            reason: reason.to_string(),
            message: message.into(),
            field: field.to_string(),
        }
    }

    /// `field: Invalid value: <value>: <detail>`, as field.ErrorList prints it.
    pub(crate) fn invalid(field: &str, value: &Value, detail: &str) -> Self {
        let shown = match value {
            Value::String(s) => format!("{s:?}"),
            // Maps and lists are shown as JSON, as the real server's field errors show them.
            Value::Object(_) | Value::Array(_) => value.to_string(),
            v => v.to_string(),
        };
        Cause::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {shown}: {detail}"),
        )
    }

    pub(crate) fn required(field: &str) -> Self {
        Cause::new("FieldValueRequired", field, "Required value")
    }

    /// The cause as the summary line prints it: `field: message`.
    fn line(&self) -> String {
        if self.field.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.field, self.message)
        }
    }
}

/// A failed API request: rendered as a `Status` object with `code` as the HTTP status.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `Status.details` (name, group, kind, causes, retryAfterSeconds).
    pub details: Option<Value>,
    /// Seconds for a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

/// `plural` or `plural.group`, as Kubernetes names a group-resource in messages.
pub(crate) fn group_resource(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

fn details(group: &str, plural: &str, name: &str) -> Value {
    let mut d = json!({"kind": plural});
    if !name.is_empty() {
        d["name"] = json!(name);
    }
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// 404 `<resource> "<name>" not found`.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        let mut e = ApiError::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", group_resource(group, plural)),
        );
        e.details = Some(details(group, plural, name));
        e
    }

    /// 404 for a path that names no resource.
    pub(crate) fn no_route() -> Self {
        let mut e = ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
        e.details = Some(json!({}));
        e
    }

    /// 409 `<resource> "<name>" already exists`.
    pub(crate) fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        let mut e = ApiError::new(
            409,
            "AlreadyExists",
            format!(
                "{} \"{name}\" already exists",
                group_resource(group, plural)
            ),
        );
        e.details = Some(details(group, plural, name));
        e
    }

    /// 409 Conflict on a stale resourceVersion.
    pub fn conflict(group: &str, plural: &str, name: &str) -> Self {
        let mut e = ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                group_resource(group, plural)
            ),
        );
        e.details = Some(details(group, plural, name));
        e
    }

    /// 409 Conflict for a failed delete precondition: `Operation cannot be fulfilled on
    /// <Kind> "<name>": <why>`, as a real API server words it.
    pub(crate) fn precondition_failed(res: &ResourceInfo, name: &str, why: String) -> Self {
        let mut e = ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                res.kind
            ),
        );
        let mut d = json!({"kind": res.kind, "name": name});
        if !res.group.is_empty() {
            d["group"] = json!(res.group);
        }
        e.details = Some(d);
        e
    }

    /// 409 Conflict with a custom message and causes (server-side apply conflicts).
    pub(crate) fn conflict_with(message: String, causes: &[Cause]) -> Self {
        let mut e = ApiError::new(409, "Conflict", message);
        e.details = Some(json!({"causes": causes_json(causes)}));
        e
    }

    /// 422 `<Kind>.<group> "<name>" is invalid: <causes>`.
    pub(crate) fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let what = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let summary = match causes.as_slice() {
            [] => String::new(),
            [one] => one.line(),
            many => format!(
                "[{}]",
                many.iter().map(Cause::line).collect::<Vec<_>>().join(", ")
            ),
        };
        let mut e = ApiError::new(
            422,
            "Invalid",
            format!("{what} \"{name}\" is invalid: {summary}"),
        );
        let mut d = json!({"kind": kind, "causes": causes_json(&causes)});
        if !name.is_empty() {
            d["name"] = json!(name);
        }
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        e.details = Some(d);
        e
    }

    /// 422 with a plain message, as the server answers a JSON patch it cannot apply.
    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        ApiError::new(422, "Invalid", message)
    }

    /// 400 BadRequest.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    /// 415 UnsupportedMediaType.
    pub(crate) fn unsupported_media_type(_content_type: &str, accepted: &[&str]) -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 415 for a PATCH whose Content-Type is no patch type, worded as the real server's.
    pub(crate) fn unsupported_patch_type() -> Self {
        let mut e = ApiError::new(415, "UnsupportedMediaType", "415: Unsupported Media Type");
        e.details = Some(json!({}));
        e
    }

    /// 503 ServiceUnavailable: an API the simulated cluster lists but has nothing behind.
    pub(crate) fn service_unavailable(message: impl Into<String>) -> Self {
        ApiError::new(503, "ServiceUnavailable", message)
    }

    /// 405 MethodNotAllowed.
    pub(crate) fn method_not_allowed(method: &str) -> Self {
        let mut e = ApiError::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        );
        e.details = Some(json!({}));
        e
    }

    /// 401 Unauthorized, as the API server answers a request whose credentials it rejects.
    pub(crate) fn unauthorized() -> Self {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 Forbidden, as `apierrors.NewForbidden(groupResource, name, err)` words it:
    /// `<resource> "<name>" is forbidden: <err>`, `<resource> is forbidden: <err>` without a
    /// name, `forbidden: <err>` without a resource (a non-resource URL).
    pub fn forbidden(group: &str, plural: &str, name: &str, err: &str) -> Self {
        let message = if group.is_empty() && plural.is_empty() {
            format!("forbidden: {err}")
        } else if name.is_empty() {
            format!("{} is forbidden: {err}", group_resource(group, plural))
        } else {
            format!(
                "{} \"{name}\" is forbidden: {err}",
                group_resource(group, plural)
            )
        };
        let mut e = ApiError::new(403, "Forbidden", message);
        let mut d = serde_json::Map::new();
        if !name.is_empty() {
            d.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            d.insert("group".into(), json!(group));
        }
        if !plural.is_empty() {
            d.insert("kind".into(), json!(plural));
        }
        e.details = Some(Value::Object(d));
        e
    }

    /// 410 Expired: a watch or list asked for a resourceVersion older than the history kept.
    pub fn expired(message: impl Into<String>) -> Self {
        ApiError::new(410, "Expired", message)
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = ApiError::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        );
        e.details = Some(json!({"causes": [{"message": message}]}));
        e
    }

    /// 500 with a bare message and no reason, as a real server answers a server-side apply
    /// it cannot type.
    pub(crate) fn internal_bare(message: impl Into<String>) -> Self {
        ApiError::new(500, "", message)
    }

    /// 429 TooManyRequests with `Retry-After`.
    pub(crate) fn too_many_requests(retry_after: u64) -> Self {
        let mut e = ApiError::new(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        );
        e.details = Some(json!({"retryAfterSeconds": retry_after}));
        e.retry_after = Some(retry_after);
        e
    }

    /// The `Status` object.
    pub(crate) fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        if self.reason.is_empty()
            && let Some(m) = s.as_object_mut()
        {
            m.remove("reason");
        }
        s
    }
}

fn causes_json(causes: &[Cause]) -> Value {
    Value::Array(
        causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_kubernetes() {
        assert_eq!(
            ApiError::not_found("apps", "deployments", "x").message,
            "deployments.apps \"x\" not found"
        );
        assert_eq!(
            ApiError::not_found("", "namespaces", "bookinfo").message,
            "namespaces \"bookinfo\" not found"
        );
        let e = ApiError::invalid(
            "networking.smh.solo.io",
            "FailoverService",
            "f",
            vec![
                Cause::invalid("spec.port.number", &json!("x"), "must be of type integer"),
                Cause::required("spec.hostname"),
            ],
        );
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "FailoverService.networking.smh.solo.io \"f\" is invalid: [spec.port.number: Invalid value: \"x\": must be of type integer, spec.hostname: Required value]"
        );
        let s = e.to_status();
        assert_eq!(s["reason"], "Invalid");
        assert_eq!(s["details"]["causes"][1]["field"], "spec.hostname");
        assert_eq!(ApiError::too_many_requests(1).to_status()["code"], 429);
    }
}
