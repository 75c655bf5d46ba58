//! A session driven by a client made of this crate's own encoder and decoder, against real
//! TCP listeners standing in for the pod's ports.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::frame::{Decoder, Encoder};

struct Client {
    enc: Encoder,
    dec: Decoder,
    rd: ReadHalf<DuplexStream>,
    wr: WriteHalf<DuplexStream>,
    buf: Vec<u8>,
}

impl Client {
    async fn send(&mut self, f: Frame) {
        let mut out = Vec::new();
        self.enc.encode(&f, &mut out);
        self.wr.write_all(&out).await.expect("write");
    }

    async fn next(&mut self) -> Frame {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some((f, n)) = self.dec.decode(&self.buf).expect("server frames decode") {
                    self.buf.drain(..n);
                    return f;
                }
                let mut b = [0u8; 4096];
                let n = self.rd.read(&mut b).await.expect("read");
                assert!(n > 0, "server closed the session");
                self.buf.extend_from_slice(&b[..n]);
            }
        })
        .await
        .expect("a frame within 10 s")
    }

    /// Reads frames until `stream` has sent FIN; returns its bytes.
    async fn read_stream(&mut self, stream: u32) -> Vec<u8> {
        let mut got = Vec::new();
        loop {
            if let Frame::Data {
                stream: s,
                fin,
                data,
            } = self.next().await
                && s == stream
            {
                got.extend_from_slice(&data);
                if fin {
                    return got;
                }
            }
        }
    }

    async fn open_pair(&mut self, port: u16, request: Option<&str>, err_id: u32) {
        for (id, kind) in [(err_id, "error"), (err_id + 2, "data")] {
            let mut headers = vec![
                ("streamtype".to_string(), kind.to_string()),
                ("port".to_string(), port.to_string()),
            ];
            if let Some(r) = request {
                headers.push(("requestid".to_string(), r.to_string()));
            }
            self.send(Frame::SynStream {
                stream: id,
                fin: false,
                headers,
            })
            .await;
        }
    }
}

fn tcp_connect() -> Connect {
    Box::new(|port| {
        Box::pin(async move {
            TcpStream::connect(("127.0.0.1", port))
                .await
                .map(|s| Box::new(s) as Box<dyn Upstream>)
                .map_err(|e| format!("connect: {e}"))
        })
    })
}

fn describe() -> Describe {
    Box::new(|port, why| format!("error forwarding port {port} to pod p, uid : {why}"))
}

fn start() -> (Client, tokio::task::JoinHandle<Result<(), String>>) {
    let (client, server) = tokio::io::duplex(256 * 1024);
    let session = tokio::spawn(serve(server, tcp_connect(), describe()));
    let (rd, wr) = tokio::io::split(client);
    let client = Client {
        enc: Encoder::default(),
        dec: Decoder::default(),
        rd,
        wr,
        buf: Vec::new(),
    };
    (client, session)
}

/// A "pod" that answers each connection with what it read, upper-cased, then closes.
async fn upper_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut all = Vec::new();
                s.read_to_end(&mut all).await.expect("read");
                s.write_all(&all.to_ascii_uppercase()).await.expect("write");
            });
        }
    });
    port
}

#[tokio::test]
async fn bytes_flow_both_ways_and_both_streams_close() {
    let port = upper_server().await;
    let (mut c, session) = start();
    c.open_pair(port, Some("0"), 1).await;
    for id in [1, 3] {
        assert!(
            matches!(c.next().await, Frame::SynReply { stream, .. } if stream == id),
            "stream {id} accepted"
        );
    }
    // The client closes its half of the error stream at once, as kubectl does.
    c.send(Frame::Data {
        stream: 1,
        fin: true,
        data: vec![],
    })
    .await;
    let big = "abc".repeat(40_000); // several DATA frames each way
    c.send(Frame::Data {
        stream: 3,
        fin: false,
        data: big.as_bytes().to_vec(),
    })
    .await;
    c.send(Frame::Data {
        stream: 3,
        fin: true,
        data: vec![],
    })
    .await;
    assert_eq!(
        c.read_stream(3).await,
        big.to_ascii_uppercase().into_bytes()
    );
    assert_eq!(c.read_stream(1).await, b"", "no error on success");
    c.send(Frame::GoAway {
        last_stream: 3,
        status: 0,
    })
    .await;
    assert_eq!(session.await.expect("join"), Ok(()));
}

#[tokio::test]
async fn a_refused_port_is_described_on_the_error_stream() {
    // A port nothing listens on: bind, note the port, close.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr").port()
    };
    let (mut c, _session) = start();
    c.open_pair(port, Some("7"), 1).await;
    let msg = String::from_utf8(c.read_stream(1).await).expect("utf-8");
    assert!(
        msg.starts_with(&format!(
            "error forwarding port {port} to pod p, uid : connect: "
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn streams_without_request_id_pair_by_consecutive_ids_and_pings_are_answered() {
    let port = upper_server().await;
    let (mut c, _session) = start();
    c.send(Frame::Ping { id: 9 }).await;
    assert_eq!(c.next().await, Frame::Ping { id: 9 });
    // Two connections at once, the older clients' way (no requestID header).
    c.open_pair(port, None, 1).await;
    c.open_pair(port, None, 5).await;
    for (id, text) in [(3, "one"), (7, "two")] {
        c.send(Frame::Data {
            stream: id,
            fin: true,
            data: text.as_bytes().to_vec(),
        })
        .await;
    }
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < 2 {
        if let Frame::Data {
            stream,
            fin: false,
            data,
        } = c.next().await
        {
            seen.insert(stream, String::from_utf8(data).expect("utf-8"));
        }
    }
    assert_eq!(seen[&3], "ONE");
    assert_eq!(seen[&7], "TWO");
}

#[tokio::test]
async fn bad_stream_headers_are_refused_and_garbage_ends_the_session() {
    let (mut c, session) = start();
    c.send(Frame::SynStream {
        stream: 1,
        fin: false,
        headers: vec![
            ("streamtype".into(), "data".into()),
            ("port".into(), "http".into()),
        ],
    })
    .await;
    assert_eq!(
        c.next().await,
        Frame::RstStream {
            stream: 1,
            status: rst::REFUSED_STREAM
        }
    );
    c.wr.write_all(&[0x80, 0x02, 0, 1, 0, 0, 0, 0])
        .await
        .expect("write");
    assert!(matches!(
        c.next().await,
        Frame::GoAway {
            status: rst::PROTOCOL_ERROR,
            ..
        }
    ));
    let ended = session.await.expect("join");
    assert!(ended.expect_err("not SPDY/3").contains("version 2"));
}
