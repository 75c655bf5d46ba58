//! `pods/portforward`: the three ways clients ask for it.
//!
//! - kubectl's SPDY/3.1 sessions, over an upgraded HTTP connection or tunnelled in a
//!   WebSocket ([`spdy`]): the ports are named per connection in the streams' headers.
//! - WebSocket with the `v4.channel.k8s.io` protocol, as kube-rs (`Api::<Pod>::portforward`)
//!   speaks it, for the ports of the URL (`?ports=`). Port `i` of the request uses channel
//!   `2i` for data and `2i+1` for errors. The server's first frame on each channel is the
//!   channel byte followed by the port, 2 bytes little-endian; every later frame is the channel
//!   byte followed by payload. The WebSocket closes once every port's connection has closed.
//!
//! Either way the server connects to the pod's `status.podIP` and port through the cluster's
//! [`PodNetwork`]: nothing listening there is a "connection refused" error on the port's error
//! stream or channel, as the kubelet reports it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Request;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

use super::status::ApiError;
use crate::net::PodNetwork;

mod spdy;

/// The WebSocket subprotocol of kube-rs' port-forward (the ports come from the URL).
pub const PROTOCOL: &str = "v4.channel.k8s.io";

/// The pod a port-forward reaches.
pub(crate) struct Target {
    pod: String,
    uid: String,
    ip: String,
}

impl Target {
    /// The pod's name, uid and IP; a pod without an IP cannot be forwarded to yet.
    pub(crate) fn of(pod: &Value) -> Result<Self, ApiError> {
        let text = |p: &str| {
            pod.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let pod_name = text("/metadata/name");
        let ip = text("/status/podIP");
        if ip.is_empty() {
            return Err(ApiError::bad_request(format!(
                "unable to upgrade connection: pod {pod_name} does not have an IP address yet"
            )));
        }
        Ok(Target {
            pod: pod_name,
            uid: text("/metadata/uid"),
            ip,
        })
    }
}

/// Parse `?ports=` values (repeated and/or comma-separated).
pub(crate) fn parse_ports(values: &[&str]) -> Result<Vec<u16>, ApiError> {
    let mut ports = Vec::new();
    for v in values {
        for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let port: u16 = p.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                ApiError::bad_request(format!("invalid port {p:?}: must be 1-65535"))
            })?;
            ports.push(port);
        }
    }
    if ports.is_empty() {
        return Err(ApiError::bad_request(
            "at least one port must be requested (?ports=)",
        ));
    }
    Ok(ports)
}

/// How a port-forward request asks to be served.
pub(crate) enum Transport {
    /// `Upgrade: SPDY/3.1` (any method; kubectl POSTs).
    Spdy,
    /// A WebSocket upgrade (a GET); which subprotocol is settled by [`upgrade_websocket`].
    WebSocket,
}

/// The transport `req` asks for; anything else is refused as the real server refuses it.
pub(crate) fn transport(req: &Request) -> Result<Transport, ApiError> {
    if spdy::is_spdy_upgrade(req) {
        if !spdy::offers_stream_protocol(req) {
            return Err(ApiError::bad_request(format!(
                "unable to upgrade connection: unable to negotiate protocol: client supports {:?}, server supports [\"{}\"]",
                header_values(req, "x-stream-protocol-version"),
                spdy::STREAM_PROTOCOL
            )));
        }
        return Ok(Transport::Spdy);
    }
    let websocket = header_values(req, "upgrade")
        .iter()
        .any(|v| v.eq_ignore_ascii_case("websocket"));
    if websocket && req.method() == axum::http::Method::GET {
        return Ok(Transport::WebSocket);
    }
    Err(ApiError::bad_request(
        "Upgrade request required: port-forward is served over SPDY/3.1 (`Upgrade: SPDY/3.1`) or a WebSocket",
    ))
}

fn header_values(req: &Request, name: &str) -> Vec<String> {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Serves a SPDY upgrade for `pod`: the API server's `pods/portforward`, and a node agent's
/// kubelet `/portForward`, which the real API server sends kubectl's sessions to.
pub fn upgrade_spdy(req: Request, pod: &Value, net: Arc<PodNetwork>) -> Response {
    match Target::of(pod) {
        Ok(target) => spdy::upgrade(req, target, net),
        Err(e) => super::http::error_response(&e),
    }
}

/// Serves a WebSocket upgrade for `pod`: kubectl's SPDY tunnel when offered, else kube-rs'
/// `v4.channel.k8s.io` for the URL's `ports`.
pub(crate) fn upgrade_websocket(
    ws: WebSocketUpgrade,
    offered: &str,
    pod: &Value,
    ports: &[&str],
    net: Arc<PodNetwork>,
) -> Response {
    if offered
        .split(',')
        .any(|p| p.trim() == spdy::TUNNEL_PROTOCOL)
    {
        return match Target::of(pod) {
            Ok(target) => spdy::tunnel(ws, target, net),
            Err(e) => super::http::error_response(&e),
        };
    }
    match parse_ports(ports) {
        Ok(ports) => upgrade(ws, offered, pod, ports, net),
        Err(e) => super::http::error_response(&e),
    }
}

/// Answers a `v4.channel.k8s.io` WebSocket upgrade (kube-rs' port-forward) for `pod`,
/// connecting to `ports` through `net`: the API server's `pods/portforward`, and a node
/// agent's kubelet `/portForward`, which the real API server proxies such requests to.
pub fn upgrade(
    ws: WebSocketUpgrade,
    offered: &str,
    pod: &Value,
    ports: Vec<u16>,
    net: Arc<PodNetwork>,
) -> Response {
    let offered: Vec<&str> = offered.split(',').map(str::trim).collect();
    if !offered.contains(&PROTOCOL) {
        return super::http::error_response(&ApiError::bad_request(format!(
            "unable to upgrade connection: none of the offered subprotocols {offered:?} is served; port-forward speaks {:?} (kubectl) or {PROTOCOL:?} (kube-rs)",
            spdy::TUNNEL_PROTOCOL
        )));
    }
    let target = match Target::of(pod) {
        Ok(t) => t,
        Err(e) => return super::http::error_response(&e),
    };
    ws.protocols([PROTOCOL])
        .on_upgrade(move |socket| run(socket, net, target, ports))
        .into_response()
}

fn frame(ch: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(ch);
    v.extend_from_slice(data);
    Message::Binary(Bytes::from(v))
}

async fn run(socket: WebSocket, net: Arc<PodNetwork>, target: Target, ports: Vec<u16>) {
    let Target { pod, uid, ip } = target;
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(64);
    let sender = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            let close = matches!(m, Message::Close(_));
            if sink.send(m).await.is_err() || close {
                break;
            }
        }
    });

    let mut writers: Vec<Option<OwnedWriteHalf>> = Vec::new();
    let (done_tx, mut done_rx) = mpsc::channel::<usize>(ports.len().max(1));
    let mut open = 0usize;
    for (i, port) in ports.iter().enumerate() {
        let data_ch = (2 * i) as u8;
        let err_ch = data_ch + 1;
        let prefix = port.to_le_bytes();
        let _ = out_tx.send(frame(data_ch, &prefix)).await;
        let _ = out_tx.send(frame(err_ch, &prefix)).await;
        let conn = match net.resolve(&ip, *port) {
            Some(addr) => TcpStream::connect(addr).await.ok(),
            None => None,
        };
        match conn {
            None => {
                let msg = format!(
                    "error forwarding port {port} to pod {pod}, uid {uid}: failed to connect to {ip}:{port}: connect: connection refused"
                );
                let _ = out_tx.send(frame(err_ch, msg.as_bytes())).await;
                writers.push(None);
            }
            Some(tcp) => {
                let (mut r, w) = tcp.into_split();
                writers.push(Some(w));
                open += 1;
                let out = out_tx.clone();
                let done = done_tx.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        match r.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if out.send(frame(data_ch, &buf[..n])).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = done.send(i).await;
                });
            }
        }
    }
    drop(done_tx);

    if open > 0 {
        loop {
            tokio::select! {
                msg = stream.next() => match msg {
                    Some(Ok(Message::Binary(data))) if data.len() > 1 => {
                        let ch = data[0] as usize;
                        if ch.is_multiple_of(2)
                            && let Some(Some(w)) = writers.get_mut(ch / 2)
                            && w.write_all(&data[1..]).await.is_err()
                        {
                            writers[ch / 2] = None;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                finished = done_rx.recv() => match finished {
                    Some(_) => {
                        open -= 1;
                        if open == 0 {
                            break;
                        }
                    }
                    None => break,
                },
            }
        }
    }
    for w in writers.iter_mut().flatten() {
        let _ = w.shutdown().await;
    }
    let _ = out_tx.send(Message::Close(None)).await;
    drop(out_tx);
    let _ = sender.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse() {
        assert_eq!(parse_ports(&["9080"]).unwrap(), vec![9080]);
        assert_eq!(
            parse_ports(&["80,443", "15000"]).unwrap(),
            vec![80, 443, 15000]
        );
        assert!(parse_ports(&[]).is_err());
        assert!(parse_ports(&["0"]).is_err());
        assert!(parse_ports(&["x"]).is_err());
    }
}
