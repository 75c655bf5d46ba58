//! The node agent's HTTPS server, on the node's IP with a certificate from the cluster CA:
//!
//! - the kubelet API the API server proxies to: `/portForward/{namespace}/{pod}` over
//!   WebSocket (`v4.channel.k8s.io`: what kube-rs' `Api::<Pod>::portforward` sends and the API
//!   server passes straight through) and over SPDY/3.1 (`portforward.k8s.io`: what the API
//!   server speaks to a kubelet for `kubectl port-forward`, served by smh-spdy), connecting
//!   to the pod's IP and port through the node's pod network; `/healthz`;
//! - Istio's sidecar injection webhook (`/inject`, istiod's role on a real install): the
//!   cluster's `istio-sidecar-injector` MutatingWebhookConfiguration
//!   ([`injector_webhook`]) sends it every pod created in a namespace labelled
//!   `istio-injection: enabled`, and it answers with the JSON patch of the simulator's
//!   injection (the `istio-proxy` sidecar and its annotations).
//!
//! The API server's own client certificate is not checked: the server listens on a loopback
//! address of the machine only.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use smh_sim::net::PodNetwork;
use smh_sim::store::{Gvr, Store};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::pki::Pair;

/// What the server reads.
#[derive(Clone)]
pub struct NodeState {
    /// The mirror of the node's cluster.
    pub store: Arc<Store>,
    /// The node's pod network.
    pub net: Arc<PodNetwork>,
    /// The Istio version of injected sidecars.
    pub istio_version: String,
}

fn tls_config(pair: &Pair) -> Result<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(pair.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .context("parsing the node's serving certificate")?;
    let key = PrivateKeyDer::from_pem_slice(pair.key_pem.as_bytes())
        .context("parsing the node's serving key")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?)
}

fn router(state: NodeState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/portForward/{ns}/{pod}", any(port_forward))
        .route("/inject", post(inject))
        .with_state(state)
}

/// Serve on `addr` (port 0 for a free one) with `pair`; returns the bound address and the
/// accept loop's task.
pub async fn serve(
    addr: SocketAddr,
    pair: &Pair,
    state: NodeState,
) -> Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the node agent's server on {addr}"))?;
    let bound = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(pair)?));
    let app = router(state);
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .with_upgrades()
                    .await;
            });
        }
    });
    Ok((bound, task))
}

/// `port=` and `ports=` values of a query (the API server sends `port`, one per port).
fn query_ports(query: Option<&str>) -> Result<Vec<u16>, String> {
    let mut ports = Vec::new();
    for pair in query.unwrap_or_default().split('&') {
        let Some((k, v)) = pair.split_once('=') else {
            continue;
        };
        if k != "port" && k != "ports" {
            continue;
        }
        for p in v.split(',').filter(|p| !p.is_empty()) {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => ports.push(n),
                _ => return Err(format!("invalid port {p:?}")),
            }
        }
    }
    if ports.is_empty() {
        return Err("at least one port must be requested".to_string());
    }
    Ok(ports)
}

async fn port_forward(
    State(st): State<NodeState>,
    Path((ns, pod)): Path<(String, String)>,
    req: axum::extract::Request,
) -> Response {
    let Some(obj) = st.store.get(&Gvr::new("", "v1", "pods"), &ns, &pod) else {
        return (StatusCode::NOT_FOUND, format!("pod {ns}/{pod} not found")).into_response();
    };
    let upgrade = req
        .headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if upgrade == "spdy/3.1" {
        return spdy(req, &obj, st.net.clone());
    }
    let query = req.uri().query().map(str::to_string);
    let offered = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let ports = match query_ports(query.as_deref()) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    use axum::extract::FromRequest as _;
    match WebSocketUpgrade::from_request(req, &st).await {
        Ok(ws) => smh_sim::api::portforward::upgrade(ws, &offered, &obj, ports, st.net.clone()),
        Err(_) => (
            StatusCode::BAD_REQUEST,
            format!(
                "port-forward needs an upgrade to SPDY/3.1 or to a WebSocket (v4.channel.k8s.io); got {upgrade:?}"
            ),
        )
            .into_response(),
    }
}

/// `kubectl port-forward` through the API server: the connection upgraded to SPDY/3.1 with
/// the `portforward.k8s.io` protocol, served by smh-spdy; each stream pair connects to the
/// pod's port through the node's pod network.
fn spdy(req: axum::extract::Request, pod: &Value, net: Arc<PodNetwork>) -> Response {
    const PROTOCOL: &str = "portforward.k8s.io";
    let offered = req
        .headers()
        .get_all("x-stream-protocol-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(str::trim).map(str::to_string))
        .collect::<Vec<_>>();
    if !offered.iter().any(|p| p == PROTOCOL) {
        return (
            StatusCode::FORBIDDEN,
            format!("no common stream protocol: offered {offered:?}, served {PROTOCOL}"),
        )
            .into_response();
    }
    smh_sim::api::portforward::upgrade_spdy(req, pod, net)
}

async fn inject(State(st): State<NodeState>, body: axum::body::Bytes) -> Response {
    let review: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let uid = review
        .pointer("/request/uid")
        .cloned()
        .unwrap_or(Value::Null);
    let ns = review
        .pointer("/request/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let original = review
        .pointer("/request/object")
        .cloned()
        .unwrap_or(Value::Null);
    let ns_labels: BTreeMap<String, String> = st
        .store
        .get(&Gvr::new("", "v1", "namespaces"), "", ns)
        .and_then(|n| n.pointer("/metadata/labels").cloned())
        .and_then(|l| serde_json::from_value(l).ok())
        .unwrap_or_default();
    let mut pod = original.clone();
    if pod.pointer("/metadata/namespace").is_none() {
        pod["metadata"]["namespace"] = json!(ns);
    }
    let mut response = json!({"uid": uid, "allowed": true});
    if smh_sim::world::inject::inject_sidecar(&mut pod, &ns_labels, &st.istio_version) {
        if original.pointer("/metadata/namespace").is_none()
            && let Some(m) = pod["metadata"].as_object_mut()
        {
            m.remove("namespace");
        }
        let patch = json_patch::diff(&original, &pod);
        let bytes = serde_json::to_vec(&patch).unwrap_or_default();
        response["patchType"] = json!("JSONPatch");
        response["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    axum::Json(
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                      "response": response}),
    )
    .into_response()
}

/// Istio's injection webhook configuration, pointing at the node agent's `/inject` on `addr`.
pub fn injector_webhook(addr: SocketAddr, ca_pem: &str) -> Value {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem.as_bytes());
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "istio-sidecar-injector",
                     "labels": {"app": "sidecar-injector", "istio.io/rev": "default"}},
        "webhooks": [{
            "name": "namespace.sidecar-injector.istio.io",
            "clientConfig": {"url": format!("https://{addr}/inject"), "caBundle": ca},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                       "resources": ["pods"], "scope": "*"}],
            "namespaceSelector": {"matchLabels": {"istio-injection": "enabled"}},
            "objectSelector": {"matchExpressions": [
                {"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}]},
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "reinvocationPolicy": "Never",
            "timeoutSeconds": 10,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_from_port_and_ports() {
        assert_eq!(query_ports(Some("port=9080")).unwrap(), vec![9080]);
        assert_eq!(
            query_ports(Some("port=80&port=443&ports=1,2")).unwrap(),
            vec![80, 443, 1, 2]
        );
        assert!(query_ports(None).is_err());
        assert!(query_ports(Some("port=0")).is_err());
        assert!(query_ports(Some("port=x")).is_err());
    }
}
