//! kubectl's port-forward protocol: a SPDY/3.1 session on a connection upgraded with
//! `Upgrade: SPDY/3.1`, driven by the codec's own frames (real kubectl, over SPDY and over its
//! WebSocket tunnel, is in `tests/sim_portforward.rs`).

use smh_spdy::frame::{Decoder, Encoder, Frame};
use tokio::net::TcpStream;

use super::*;

/// Sends an upgrade request with `extra` headers; returns the connection and the response head.
async fn upgrade(c: &SimCluster, extra: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(c.addr()).await.unwrap();
    let req = format!(
        "POST /api/v1/namespaces/pf/pods/echo/portforward HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n{extra}\r\n",
        c.addr()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b))
            .await
            .expect("response in time")
            .unwrap();
        assert!(n > 0, "closed before the response head: {head:?}");
        head.push(b[0]);
    }
    (s, String::from_utf8(head).unwrap().to_ascii_lowercase())
}

struct Session {
    s: TcpStream,
    enc: Encoder,
    dec: Decoder,
    buf: Vec<u8>,
}

impl Session {
    async fn send(&mut self, f: Frame) {
        let mut out = Vec::new();
        self.enc.encode(&f, &mut out);
        self.s.write_all(&out).await.unwrap();
    }

    async fn next(&mut self) -> Frame {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Some((f, n)) = self.dec.decode(&self.buf).unwrap() {
                    self.buf.drain(..n);
                    return f;
                }
                let mut b = [0u8; 4096];
                let n = self.s.read(&mut b).await.unwrap();
                assert!(n > 0, "session closed");
                self.buf.extend_from_slice(&b[..n]);
            }
        })
        .await
        .expect("a frame in time")
    }

    /// Opens error and data streams for `port` (kubectl's headers); both must be accepted.
    async fn open(&mut self, port: u16, request: u32) -> (u32, u32) {
        let (err_id, data_id) = (4 * request + 1, 4 * request + 3);
        for (id, kind) in [(err_id, "error"), (data_id, "data")] {
            let headers = [
                ("streamtype", kind),
                ("port", &port.to_string()),
                ("requestid", &request.to_string()),
            ]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
            self.send(Frame::SynStream {
                stream: id,
                fin: false,
                headers,
            })
            .await;
            assert!(matches!(self.next().await, Frame::SynReply { stream, .. } if stream == id));
        }
        (err_id, data_id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spdy_port_forward_over_an_upgraded_connection() {
    let (c, client) = start().await;
    echo_pod(&c, &client).await;
    let (s, head) = upgrade(&c, "X-Stream-Protocol-Version: portforward.k8s.io\r\n").await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: spdy/3.1\r\n"), "{head}");
    assert!(
        head.contains("x-stream-protocol-version: portforward.k8s.io\r\n"),
        "{head}"
    );
    let mut sess = Session {
        s,
        enc: Encoder::default(),
        dec: Decoder::default(),
        buf: Vec::new(),
    };

    let (_, data) = sess.open(9080, 0).await;
    sess.send(Frame::Data {
        stream: data,
        fin: false,
        data: b"hello over SPDY".to_vec(),
    })
    .await;
    match sess.next().await {
        Frame::Data {
            stream, data: got, ..
        } => {
            assert_eq!(stream, data);
            assert_eq!(got, b"hello over SPDY");
        }
        other => panic!("expected the echo, got {other:?}"),
    }

    // Nothing listens on 9999: the kubelet's message on the error stream, then both close.
    let (err, _) = sess.open(9999, 1).await;
    let msg = loop {
        if let Frame::Data { stream, data, .. } = sess.next().await
            && stream == err
            && !data.is_empty()
        {
            break String::from_utf8(data).unwrap();
        }
    };
    assert!(
        msg.starts_with("error forwarding port 9999 to pod echo, uid ")
            && msg.ends_with(":9999: connect: connection refused"),
        "{msg}"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn spdy_upgrade_for_another_stream_protocol_is_refused() {
    let (c, client) = start().await;
    echo_pod(&c, &client).await;
    let (_, head) = upgrade(&c, "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n").await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    // A plain POST with no upgrade at all says what is needed.
    let r = reqwest_like_post(&c).await;
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    assert!(r.contains("Upgrade request required"), "{r}");
    c.shutdown().await;
}

/// A POST to the port-forward path without any upgrade; returns the whole response.
async fn reqwest_like_post(c: &SimCluster) -> String {
    let mut s = TcpStream::connect(c.addr()).await.unwrap();
    let req = format!(
        "POST /api/v1/namespaces/pf/pods/echo/portforward HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        c.addr()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("answer in time")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}
