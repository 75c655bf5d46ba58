//! Request attributes as the API server's request-info derives them from the method, the path
//! and the query: verb, API group, namespace, resource, subresource, name.

use axum::http::Method;

use super::UserInfo;

/// What RBAC decides on: the request as the API server's request-info sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestAttributes {
    pub user: UserInfo,
    pub verb: String,
    /// False for non-resource URLs (`/version`, `/apis`, `/api/v1`, `/openapi/v3`).
    pub resource_request: bool,
    /// The URL path, for non-resource requests.
    pub path: String,
    pub group: String,
    pub version: String,
    pub namespace: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
}

impl RequestAttributes {
    /// The attributes of an HTTP request, as kube-apiserver's request-info resolver makes
    /// them.
    pub(crate) fn from_request(
        user: UserInfo,
        method: &Method,
        path: &str,
        query: Option<&str>,
    ) -> Self {
        let mut a = RequestAttributes {
            user,
            verb: method.as_str().to_ascii_lowercase(),
            resource_request: false,
            path: path.to_string(),
            group: String::new(),
            version: String::new(),
            namespace: String::new(),
            resource: String::new(),
            subresource: String::new(),
            name: String::new(),
        };
        let mut parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        if parts == [""] {
            parts.clear();
        }
        if parts.len() < 3 || !matches!(parts[0], "api" | "apis") {
            return a;
        }
        let groupless = parts[0] == "api";
        let mut rest = &parts[1..];
        if !groupless {
            if rest.len() < 3 {
                return a;
            }
            a.group = rest[0].to_string();
            rest = &rest[1..];
        }
        a.resource_request = true;
        a.version = rest[0].to_string();
        rest = &rest[1..];
        if matches!(rest.first(), Some(&"watch") | Some(&"proxy")) {
            if rest.len() < 2 {
                return a;
            }
            a.verb = rest[0].to_string();
            rest = &rest[1..];
        } else {
            a.verb = match *method {
                Method::POST => "create",
                Method::GET | Method::HEAD => "get",
                Method::PUT => "update",
                Method::PATCH => "patch",
                Method::DELETE => "delete",
                _ => "",
            }
            .to_string();
        }
        if rest.first() == Some(&"namespaces") && rest.len() > 1 {
            a.namespace = rest[1].to_string();
            if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
                rest = &rest[2..];
            }
        }
        if rest.len() >= 3 && a.verb != "proxy" {
            a.subresource = rest[2].to_string();
        }
        if rest.len() >= 2 {
            a.name = rest[1].to_string();
        }
        if let Some(r) = rest.first() {
            a.resource = r.to_string();
        }
        let q = parse_query(query);
        if a.name.is_empty() && a.verb == "get" {
            let watch = q
                .iter()
                .find(|(k, _)| k == "watch")
                .map(|(_, v)| !matches!(v.to_ascii_lowercase().as_str(), "false" | "0"));
            a.verb = if watch == Some(true) { "watch" } else { "list" }.to_string();
        }
        if a.name.is_empty()
            && matches!(a.verb.as_str(), "list" | "watch")
            && let Some((_, fs)) = q.iter().find(|(k, _)| k == "fieldSelector")
            && let Some(name) = exact_name(fs)
        {
            a.name = name;
        }
        if a.name.is_empty() && a.verb == "delete" {
            a.verb = "deletecollection".into();
        }
        a
    }

    /// `pods/portforward`, `deployments`: the resource as RBAC rules name it.
    pub(crate) fn combined_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b'%' => {
                    match b
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        Some(x) => {
                            out.push(x);
                            i += 3;
                        }
                        None => {
                            out.push(b'%');
                            i += 1;
                        }
                    }
                }
                x => {
                    out.push(x);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `metadata.name=X` (or `==`) among the requirements of a field selector.
fn exact_name(selector: &str) -> Option<String> {
    selector.split(',').find_map(|r| {
        let r = r.trim();
        let v = r
            .strip_prefix("metadata.name==")
            .or_else(|| r.strip_prefix("metadata.name="))?;
        (!v.is_empty() && !v.contains('/') && v != "." && v != "..").then(|| v.to_string())
    })
}
