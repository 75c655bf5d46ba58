//! `pods/portforward` as kubectl speaks it: SPDY/3.1 sessions (the `portforward.k8s.io`
//! protocol of [`smh_spdy`]), either over an HTTP connection upgraded with `Upgrade: SPDY/3.1`
//! (kubectl up to 1.30, and later ones when the WebSocket attempt fails), or tunnelled in the
//! binary messages of a WebSocket whose subprotocol is `SPDY/3.1+portforward.k8s.io` (kubectl
//! from 1.31). The ports come from the streams' headers, not the URL.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use smh_spdy::portforward::{Connect, Describe, Upstream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Target;
use crate::net::PodNetwork;

/// The HTTP upgrade token of SPDY sessions.
pub(crate) const UPGRADE: &str = "SPDY/3.1";
/// The streaming protocol negotiated in `X-Stream-Protocol-Version`.
pub(crate) const STREAM_PROTOCOL: &str = "portforward.k8s.io";
/// The WebSocket subprotocol of SPDY tunnelled over WebSocket.
pub(crate) const TUNNEL_PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";
/// The header a client offers its streaming protocols in (and the server answers with one).
const STREAM_PROTOCOL_HEADER: &str = "x-stream-protocol-version";

/// Whether `req` asks to upgrade to a SPDY session.
pub(crate) fn is_spdy_upgrade(req: &Request) -> bool {
    req.headers()
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(UPGRADE))
}

/// Whether the client offers the port-forward protocol (clients that offer no version at all
/// are the oldest ones, which spoke it implicitly).
pub(crate) fn offers_stream_protocol(req: &Request) -> bool {
    let offered: Vec<&str> = req
        .headers()
        .get_all(STREAM_PROTOCOL_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    offered.is_empty() || offered.contains(&STREAM_PROTOCOL)
}

/// Answers a SPDY upgrade with 101 and serves the session on the upgraded connection.
pub(crate) fn upgrade(mut req: Request, target: Target, net: Arc<PodNetwork>) -> Response {
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let _ = smh_spdy::serve(
                TokioIo::new(upgraded),
                connect(&target, net),
                describe(&target),
            )
            .await;
        }
    });
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static(UPGRADE));
    h.insert(
        STREAM_PROTOCOL_HEADER,
        HeaderValue::from_static(STREAM_PROTOCOL),
    );
    r
}

/// Accepts the WebSocket and serves a SPDY session over its binary messages.
pub(crate) fn tunnel(ws: WebSocketUpgrade, target: Target, net: Arc<PodNetwork>) -> Response {
    ws.protocols([TUNNEL_PROTOCOL])
        .on_upgrade(move |socket| run_tunnel(socket, target, net))
        .into_response()
}

/// Bytes in, bytes out: the WebSocket's binary messages become a byte stream for the SPDY
/// session (one end of an in-memory pipe), and what the session writes goes back as binary
/// messages.
async fn run_tunnel(socket: WebSocket, target: Target, net: Arc<PodNetwork>) {
    let (session_end, ours) = tokio::io::duplex(256 * 1024);
    let session = tokio::spawn(smh_spdy::serve(
        session_end,
        connect(&target, net),
        describe(&target),
    ));
    let (mut from_session, mut to_session) = tokio::io::split(ours);
    let (mut sink, mut stream) = socket.split();
    let inbound = async {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Binary(b) if to_session.write_all(&b).await.is_err() => break,
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = to_session.shutdown().await;
    };
    let outbound = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from_session.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let msg = Message::Binary(Bytes::copy_from_slice(&buf[..n]));
                    if sink.send(msg).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    };
    // The session ends when the client closes the WebSocket (inbound ends, the pipe closes)
    // or sends GOAWAY (the session drops its end, outbound ends).
    tokio::select! {
        () = inbound => {}
        () = outbound => {}
    }
    session.abort();
}

/// Opens the pod's port through the cluster's pod network, as the kubelet would dial it.
fn connect(target: &Target, net: Arc<PodNetwork>) -> Connect {
    let ip = target.ip.clone();
    Box::new(move |port| {
        let ip = ip.clone();
        let addr = net.resolve(&ip, port);
        Box::pin(async move {
            let refused =
                || format!("failed to connect to {ip}:{port}: connect: connection refused");
            let Some(addr) = addr else {
                return Err(refused());
            };
            TcpStream::connect(addr)
                .await
                .map(|s| Box::new(s) as Box<dyn Upstream>)
                .map_err(|_| refused())
        })
    })
}

/// The kubelet's words for a failed forward.
fn describe(target: &Target) -> Describe {
    let (pod, uid) = (target.pod.clone(), target.uid.clone());
    Box::new(move |port, why| {
        format!("error forwarding port {port} to pod {pod}, uid {uid}: {why}")
    })
}
