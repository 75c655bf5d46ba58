//! The HTTP face of a simulated API server: routing of Kubernetes API paths, query
//! parameters, content negotiation (JSON, `Table`, `PartialObjectMetadata`, aggregated
//! discovery), and `Status` errors. The semantics live in [`ApiCore`].

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{self, Authenticator, RequestAttributes};
use super::core::{
    ApiCore, DeleteOptions, FieldValidation, PatchType, Subresource, WriteOptions, Written,
    parse_propagation,
};
use super::discovery;
use super::openapi;
use super::pod_io;
use super::portforward;
use super::protobuf;
use super::registry::ResourceInfo;
use super::requests;
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::table::{IncludeObject, partial_metadata, table};
use super::watch::{EventFormat, WatchParams, watch};
use crate::net::PodNetwork;

/// The Kubernetes version the simulated clusters report. kubectl's gcloud dispatcher picks its
/// kubectl binary by the minor version, and the newest one it ships is 1.33.
pub(crate) const MAJOR: &str = "1";
pub(crate) const MINOR: &str = "33";
pub(crate) const GIT_VERSION: &str = "v1.33.0";

/// The resource metrics API (`kubectl top`): discovered, and answered with 503.
pub(crate) const METRICS_GROUP: &str = "metrics.k8s.io";

/// Largest request body accepted (the real server's limit is 3 MiB; CRDs can be large).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Shared state of one server.
pub(crate) struct ServerState {
    pub core: Arc<ApiCore>,
    pub net: Arc<PodNetwork>,
    /// `host:port` the server listens on (reported by `/api`).
    pub address: String,
    /// Bearer tokens → users.
    pub authn: Authenticator,
    /// Kubernetes 1.35's second check on a WebSocket port-forward (see
    /// [`auth::AuthOptions::websocket_upgrade_requires_create`]).
    pub websocket_upgrade_requires_create: bool,
}

/// The router: every request goes through one handler that routes Kubernetes API paths.
pub(crate) fn router(state: Arc<ServerState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// A `Status` error as an HTTP response.
pub(crate) fn error_response(e: &ApiError) -> Response {
    let mut r = json_response(
        StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &e.to_status(),
        &[],
    );
    if let Some(s) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn json_response(code: StatusCode, body: &Value, warnings: &[String]) -> Response {
    typed_response(code, body, "application/json", warnings)
}

fn typed_response(
    code: StatusCode,
    body: &Value,
    content_type: &str,
    warnings: &[String],
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = code;
    if let Ok(ct) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    for w in warnings {
        let text = format!("299 - {:?}", w);
        if let Ok(v) = HeaderValue::from_str(&text) {
            r.headers_mut().append(header::WARNING, v);
        }
    }
    r
}

/// Query parameters; repeated keys keep every value.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let Some(raw) = raw else {
            return Ok(Query(Vec::new()));
        };
        let mut out = Vec::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((decode(k)?, decode(v)?));
        }
        Ok(Query(out))
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true") | Some("1"))
    }
}

fn decode(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let b = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ApiError::bad_request(format!("invalid URL escape in {s:?}")))?;
                out.push(b);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::bad_request(format!("query parameter {s:?} is not UTF-8")))
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> &str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// What the client accepts for object answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Render {
    Json,
    Table,
    Metadata,
}

fn render_kind(accept: &str) -> Render {
    for part in accept.split(',') {
        let p: Vec<&str> = part.split(';').map(str::trim).collect();
        if p.contains(&"as=Table") {
            return Render::Table;
        }
        if p.iter()
            .any(|x| *x == "as=PartialObjectMetadataList" || *x == "as=PartialObjectMetadata")
        {
            return Render::Metadata;
        }
        if p.first()
            .is_some_and(|m| *m == "application/json" || *m == "*/*" || *m == "application/*")
        {
            return Render::Json;
        }
    }
    Render::Json
}

async fn handle(State(st): State<Arc<ServerState>>, req: Request) -> Response {
    match route(st, req).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

async fn route(st: Arc<ServerState>, req: Request) -> Result<Response, ApiError> {
    let path = req.uri().path().to_string();
    // Authentication, then authorisation, before any routing: a request the user may not
    // make is a 403 even for a resource that does not exist, as on a real server.
    let user = st.authn.authenticate(req.headers())?;
    let user = auth::impersonate(st.core.store(), user, req.headers())?;
    let attrs = RequestAttributes::from_request(user, req.method(), &path, req.uri().query());
    auth::check(st.core.store(), &attrs)?;
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let accept = header_str(req.headers(), header::ACCEPT).to_string();
    let reg = st.core.registry();
    let get_only = |m: &Method| -> Result<(), ApiError> {
        if m == Method::GET || m == Method::HEAD {
            Ok(())
        } else {
            Err(ApiError::method_not_allowed(m.as_str()))
        }
    };
    match segs.as_slice() {
        ["version"] => {
            get_only(req.method())?;
            Ok(json_response(StatusCode::OK, &version_info(), &[]))
        }
        ["healthz"] | ["livez"] | ["readyz"] => {
            get_only(req.method())?;
            Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "ok",
            )
                .into_response())
        }
        ["openapi", "v3"] => {
            get_only(req.method())?;
            Ok(json_response(StatusCode::OK, &openapi::v3_index(reg), &[]))
        }
        ["openapi", "v3", rest @ ..] => {
            get_only(req.method())?;
            let doc = openapi::v3_document(reg, &rest.join("/")).ok_or_else(ApiError::no_route)?;
            Ok(json_response(StatusCode::OK, &doc, &[]))
        }
        ["api"] => {
            get_only(req.method())?;
            Ok(match discovery::wants_aggregated(&accept) {
                Some(v) => typed_response(
                    StatusCode::OK,
                    &discovery::aggregated(reg, true, v),
                    &discovery::aggregated_content_type(v),
                    &[],
                ),
                None => json_response(StatusCode::OK, &discovery::api_versions(&st.address), &[]),
            })
        }
        ["apis"] => {
            get_only(req.method())?;
            Ok(match discovery::wants_aggregated(&accept) {
                Some(v) => typed_response(
                    StatusCode::OK,
                    &discovery::aggregated(reg, false, v),
                    &discovery::aggregated_content_type(v),
                    &[],
                ),
                None => json_response(StatusCode::OK, &discovery::api_group_list(reg), &[]),
            })
        }
        ["apis", group] => {
            get_only(req.method())?;
            let g = discovery::api_group(reg, group).ok_or_else(ApiError::no_route)?;
            Ok(json_response(StatusCode::OK, &g, &[]))
        }
        ["apis", auth::AUTHORIZATION_GROUP, "v1", kind]
            if *kind == "selfsubjectaccessreviews" || *kind == "selfsubjectrulesreviews" =>
        {
            let kind = kind.to_string();
            access_review(st, req, &attrs, &kind).await
        }
        ["apis", METRICS_GROUP, _, _, ..] => Err(ApiError::service_unavailable(format!(
            "the simulated cluster runs no metrics-server: {METRICS_GROUP} is listed so that kubectl top asks, and there are no containers whose CPU and memory could be measured"
        ))),
        ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"] => {
            if req.method() != Method::POST {
                return Err(ApiError::method_not_allowed(req.method().as_str()));
            }
            let answer = auth::self_subject_review(&attrs.user);
            Ok(json_response(StatusCode::CREATED, &answer, &[]))
        }
        ["api", version, rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            let version = version.to_string();
            resource_request(st, req, &attrs, String::new(), version, rest).await
        }
        ["apis", group, version, rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            let (group, version) = (group.to_string(), version.to_string());
            resource_request(st, req, &attrs, group, version, rest).await
        }
        _ => Err(ApiError::no_route()),
    }
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews` (or
/// `selfsubjectrulesreviews`): answered for the requesting user, nothing stored.
async fn access_review(
    st: Arc<ServerState>,
    req: Request,
    attrs: &RequestAttributes,
    kind: &str,
) -> Result<Response, ApiError> {
    if req.method() != Method::POST {
        return Err(ApiError::method_not_allowed(req.method().as_str()));
    }
    let content_type = header_str(req.headers(), header::CONTENT_TYPE).to_string();
    let body = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
    let review = parse_body(&body, &content_type)?;
    let store = st.core.store();
    let answer = if kind == "selfsubjectaccessreviews" {
        auth::self_subject_access_review(store, &attrs.user, &review)?
    } else {
        auth::self_subject_rules_review(store, &attrs.user, &review)?
    };
    Ok(json_response(StatusCode::CREATED, &answer, &[]))
}

/// `/version`.
pub(crate) fn version_info() -> Value {
    json!({
        "major": MAJOR,
        "minor": MINOR,
        "emulationMajor": MAJOR,
        "emulationMinor": MINOR,
        "minCompatibilityMajor": MAJOR,
        "minCompatibilityMinor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "kubectl-smh simulated cluster",
        "compiler": "rustc",
        "platform": "linux/amd64",
    })
}

/// A resource path after `/api/v1` or `/apis/GROUP/VERSION`: `[watch/][namespaces/NS/]PLURAL[/NAME[/SUBRESOURCE]]`.
struct ResourcePath {
    ns: Option<String>,
    plural: String,
    name: Option<String>,
    sub: Option<String>,
    watch_path: bool,
}

fn parse_resource_path(mut rest: &[String]) -> Result<ResourcePath, ApiError> {
    let mut watch_path = false;
    if rest.first().is_some_and(|s| s == "watch") {
        watch_path = true;
        rest = &rest[1..];
    }
    let namespace_sub = |s: &str| matches!(s, "status" | "finalize");
    let t = match rest {
        [ns, n, plural, more @ ..]
            if ns == "namespaces" && !(more.is_empty() && namespace_sub(plural)) =>
        {
            if more.len() > 2 {
                return Err(ApiError::no_route());
            }
            ResourcePath {
                ns: Some(n.clone()),
                plural: plural.clone(),
                name: more.first().cloned(),
                sub: more.get(1).cloned(),
                watch_path,
            }
        }
        [plural, more @ ..] => {
            if more.len() > 2 {
                return Err(ApiError::no_route());
            }
            ResourcePath {
                ns: None,
                plural: plural.clone(),
                name: more.first().cloned(),
                sub: more.get(1).cloned(),
                watch_path,
            }
        }
        [] => return Err(ApiError::no_route()),
    };
    Ok(t)
}

fn write_options(q: &Query, headers: &HeaderMap) -> Result<WriteOptions, ApiError> {
    let dry = q.all("dryRun");
    if let Some(bad) = dry.iter().find(|d| **d != "All" && !d.is_empty()) {
        return Err(ApiError::bad_request(format!(
            "dryRun: Unsupported value: {bad:?}: supported values: \"All\""
        )));
    }
    Ok(WriteOptions {
        dry_run: dry.contains(&"All"),
        field_manager: q.get("fieldManager").map(str::to_string),
        field_validation: FieldValidation::parse(q.get("fieldValidation"))?,
        force: q.flag("force"),
        user_agent: Some(header_str(headers, header::USER_AGENT).to_string())
            .filter(|s| !s.is_empty()),
    })
}

fn parse_body(bytes: &[u8], content_type: &str) -> Result<Value, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    let ct = content_type.split(';').next().unwrap_or("").trim();
    if ct == protobuf::MEDIA_TYPE {
        // kubectl's typed clients (`kubectl create namespace|deployment|configmap ...`,
        // `kubectl auth can-i`) send protobuf.
        return protobuf::decode(bytes);
    }
    if ct == "application/cbor" {
        // client-go falls back to JSON after a 415 to CBOR.
        return Err(ApiError::unsupported_media_type(
            content_type,
            &["application/json", "application/yaml", protobuf::MEDIA_TYPE],
        ));
    }
    let yaml = matches!(ct, "application/yaml" | "application/apply-patch+yaml");
    if yaml {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
        return serde_saphyr::from_str::<Value>(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "Object 'Kind' is missing in '{}': {e}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        ))
    })
}

fn list_object(
    res: &ResourceInfo,
    items: Vec<Value>,
    rv: u64,
    render: Render,
    include: IncludeObject,
) -> Value {
    match render {
        Render::Table => table(res, &items, &rv.to_string(), include),
        Render::Metadata => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": rv.to_string()},
            "items": items.iter().map(partial_metadata).collect::<Vec<_>>(),
        }),
        Render::Json => json!({
            "kind": res.list_kind,
            "apiVersion": res.api_version(),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": items,
        }),
    }
}

fn one_object(res: &ResourceInfo, obj: Value, render: Render, include: IncludeObject) -> Value {
    match render {
        Render::Table => {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            table(res, &[obj], &rv, include)
        }
        Render::Metadata => partial_metadata(&obj),
        Render::Json => obj,
    }
}

fn written(w: Written, ok: StatusCode) -> Response {
    let code = if w.created { StatusCode::CREATED } else { ok };
    json_response(code, &w.object, &w.warnings)
}

async fn resource_request(
    st: Arc<ServerState>,
    req: Request,
    attrs: &RequestAttributes,
    group: String,
    version: String,
    rest: Vec<String>,
) -> Result<Response, ApiError> {
    let core = st.core.clone();
    let method = req.method().clone();
    if rest.is_empty() {
        if method != Method::GET {
            return Err(ApiError::method_not_allowed(method.as_str()));
        }
        let list = discovery::resource_list(core.registry(), &group, &version)
            .ok_or_else(ApiError::no_route)?;
        return Ok(json_response(StatusCode::OK, &list, &[]));
    }
    let t = parse_resource_path(&rest)?;
    let res = core.resource(&group, &version, &t.plural)?;
    let namespaced_by_cluster_path = res.namespaced && t.ns.is_none() && t.name.is_some();
    if namespaced_by_cluster_path || (!res.namespaced && t.ns.is_some()) {
        return Err(ApiError::no_route());
    }
    let q = Query::parse(req.uri().query())?;
    let render = render_kind(header_str(req.headers(), header::ACCEPT));
    let include = IncludeObject::parse(q.get("includeObject"));
    let ns = t.ns.clone().unwrap_or_default();
    let sub = match t.sub.as_deref() {
        None => None,
        Some("status") if res.status_subresource => Some(Subresource::Status),
        Some("scale") if res.scale_subresource => Some(Subresource::Scale),
        Some("portforward") if res.group.is_empty() && res.plural == "pods" => {
            let name = t.name.clone().unwrap_or_default();
            return port_forward(&st, req, attrs, &res, &ns, &name, &q).await;
        }
        Some(sub @ ("token" | "log" | "exec" | "attach")) if res.group.is_empty() => {
            let name = t.name.clone().unwrap_or_default();
            return pod_io::subresource(&core, &res, &ns, &name, sub, &method, |k| q.get(k));
        }
        Some(_) => return Err(ApiError::no_route()),
    };
    let (labels, fields) = selectors(&q)?;
    requests::check_field_selector(&res, &fields)?;
    let headers = req.headers().clone();
    let content_type = header_str(&headers, header::CONTENT_TYPE).to_string();
    let body = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;

    match (&method, &t.name) {
        (&Method::GET, None) => {
            if q.flag("watch") || t.watch_path {
                let (params, format) = (watch_params(&q)?, event_format(render, include));
                return Ok(watch(
                    core,
                    res,
                    t.ns.clone(),
                    labels,
                    fields,
                    params,
                    format,
                ));
            }
            requests::check_list_options(q.get("resourceVersion"), q.get("resourceVersionMatch"))?;
            let (items, rv) = core.list(&res, t.ns.as_deref(), &labels, &fields);
            Ok(json_response(
                StatusCode::OK,
                &list_object(&res, items, rv, render, include),
                &[],
            ))
        }
        (&Method::GET, Some(name)) => {
            let obj = match sub {
                Some(Subresource::Scale) => core.get_scale(&res, &ns, name)?,
                _ => core.get(&res, &ns, name)?,
            };
            let out = if sub == Some(Subresource::Scale) {
                obj
            } else {
                one_object(&res, obj, render, include)
            };
            Ok(json_response(StatusCode::OK, &out, &[]))
        }
        (&Method::POST, None) => {
            let opts = write_options(&q, &headers)?;
            let obj = parse_body(&body, &content_type)?;
            let w = core.create(&res, &ns, obj, &opts)?;
            Ok(written(w, StatusCode::CREATED))
        }
        (&Method::PUT, Some(name)) => {
            let opts = write_options(&q, &headers)?;
            let obj = parse_body(&body, &content_type)?;
            let w = core.update(&res, &ns, name, obj, sub, &opts)?;
            Ok(written(w, StatusCode::OK))
        }
        (&Method::PATCH, Some(name)) => {
            let opts = write_options(&q, &headers)?;
            let ptype = patch_type(&content_type)?;
            let patch = parse_body(&body, &content_type)?;
            // An apply that creates the object must also be allowed to create it.
            if ptype == PatchType::Apply && sub.is_none() && core.get(&res, &ns, name).is_err() {
                auth::check_also_create(core.store(), attrs)?;
            }
            let w = core.patch(&res, &ns, name, ptype, &patch, sub, &opts)?;
            Ok(written(w, StatusCode::OK))
        }
        (&Method::DELETE, Some(name)) if sub.is_none() => {
            let opts = delete_options(&q, &body)?;
            let (obj, gone) = core.delete(&res, &ns, name, &opts)?;
            Ok(json_response(
                StatusCode::OK,
                &requests::deleted_answer(&res, obj, gone),
                &[],
            ))
        }
        (&Method::DELETE, None) => {
            let opts = delete_options(&q, &body)?;
            let items = core.delete_collection(&res, t.ns.as_deref(), &labels, &fields, &opts)?;
            let rv = core.store().resource_version();
            Ok(json_response(
                StatusCode::OK,
                &list_object(&res, items, rv, Render::Json, include),
                &[],
            ))
        }
        _ => Err(ApiError::method_not_allowed(method.as_str())),
    }
}

/// `pods/NAME/portforward`: kubectl's SPDY upgrade (a `POST`, authorised as `create`), or a
/// WebSocket upgrade (a `GET`; with [`ServerState::websocket_upgrade_requires_create`] also
/// authorised as `create`, as from Kubernetes 1.35) carrying kubectl's SPDY tunnel or kube-rs'
/// `v4.channel.k8s.io` protocol.
async fn port_forward(
    st: &ServerState,
    req: Request,
    attrs: &RequestAttributes,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    q: &Query,
) -> Result<Response, ApiError> {
    let core = &st.core;
    let transport = portforward::transport(&req)?;
    if matches!(transport, portforward::Transport::WebSocket)
        && st.websocket_upgrade_requires_create
    {
        auth::check_also_create(core.store(), attrs)?;
    }
    let pod = core.get(res, ns, name)?;
    if matches!(transport, portforward::Transport::Spdy) {
        return Ok(portforward::upgrade_spdy(req, &pod, st.net.clone()));
    }
    let offered = header_str(req.headers(), header::SEC_WEBSOCKET_PROTOCOL).to_string();
    let (mut parts, _) = req.into_parts();
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("unable to upgrade connection: {e}")))?;
    Ok(portforward::upgrade_websocket(
        ws,
        &offered,
        &pod,
        &q.all("ports"),
        st.net.clone(),
    ))
}

/// The `labelSelector` and `fieldSelector` of a request (empty: everything).
fn selectors(q: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}

/// How a watch sends its objects: as `kubectl get` table rows, partial metadata or whole.
fn event_format(render: Render, include: IncludeObject) -> EventFormat {
    match render {
        Render::Table => EventFormat::Table(include),
        Render::Metadata => EventFormat::Metadata,
        Render::Json => EventFormat::Object,
    }
}

/// The parameters of a watch: `resourceVersion` (a number), `sendInitialEvents`,
/// `allowWatchBookmarks`, `timeoutSeconds`.
fn watch_params(q: &Query) -> Result<WatchParams, ApiError> {
    let rv = match q.get("resourceVersion").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version {s:?}")))?,
        ),
    };
    Ok(WatchParams {
        resource_version: rv,
        send_initial_events: q.flag("sendInitialEvents"),
        bookmarks: q.flag("allowWatchBookmarks"),
        timeout: q
            .get("timeoutSeconds")
            .and_then(|s| s.parse::<u64>().ok())
            .map(std::time::Duration::from_secs),
    })
}

/// The patch type of a PATCH's `Content-Type`; any other is a 415.
fn patch_type(content_type: &str) -> Result<PatchType, ApiError> {
    PatchType::from_content_type(content_type).ok_or_else(ApiError::unsupported_patch_type)
}

fn delete_options(q: &Query, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let mut base = DeleteOptions {
        dry_run: q.all("dryRun").contains(&"All"),
        ..Default::default()
    };
    if let Some(p) = q.get("propagationPolicy") {
        base.propagation = parse_propagation(p)?;
    }
    if body.is_empty() {
        return Ok(base);
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?;
    DeleteOptions::from_body(&v, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = Query::parse(Some(
            "labelSelector=app%3Dreviews%2Cversion+in+%28v1%29&watch=1&&ports=80&ports=90",
        ))
        .unwrap();
        assert_eq!(q.get("labelSelector"), Some("app=reviews,version in (v1)"));
        assert!(q.flag("watch"));
        assert_eq!(q.all("ports"), vec!["80", "90"]);
        assert!(Query::parse(Some("a=%zz")).is_err());
        assert_eq!(Query::parse(Some("a=%41")).unwrap().get("a"), Some("A"));
    }

    #[test]
    fn resource_paths() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let t = parse_resource_path(&s(&["namespaces", "bookinfo", "pods", "p", "portforward"]))
            .unwrap();
        assert_eq!(
            (
                t.ns.as_deref(),
                t.plural.as_str(),
                t.name.as_deref(),
                t.sub.as_deref()
            ),
            (Some("bookinfo"), "pods", Some("p"), Some("portforward"))
        );
        let t = parse_resource_path(&s(&["namespaces", "bookinfo", "status"])).unwrap();
        assert_eq!(
            (
                t.ns.as_deref(),
                t.plural.as_str(),
                t.name.as_deref(),
                t.sub.as_deref()
            ),
            (None, "namespaces", Some("bookinfo"), Some("status"))
        );
        let t = parse_resource_path(&s(&["namespaces", "bookinfo"])).unwrap();
        assert_eq!(
            (t.plural.as_str(), t.name.as_deref()),
            ("namespaces", Some("bookinfo"))
        );
        let t = parse_resource_path(&s(&["watch", "namespaces", "x", "deployments"])).unwrap();
        assert!(t.watch_path && t.name.is_none());
        assert!(parse_resource_path(&s(&["a", "b", "c", "d"])).is_err());
    }

    #[test]
    fn accept_rendering() {
        assert_eq!(
            render_kind(
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            ),
            Render::Table
        );
        assert_eq!(
            render_kind(
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
            ),
            Render::Metadata
        );
        assert_eq!(render_kind("application/json"), Render::Json);
        assert_eq!(render_kind(""), Render::Json);
    }
}
