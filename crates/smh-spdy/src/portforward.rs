//! The server side of Kubernetes' SPDY port-forward protocol (`portforward.k8s.io`), as a
//! kubelet speaks it: the client opens a pair of streams per forwarded connection, an error
//! stream and a data stream with the same `requestID` and `port` headers; the server answers
//! each with SYN_REPLY, connects to the port, copies bytes both ways on the data stream,
//! writes a failure's message on the error stream, and closes both when done.
//!
//! The transport is any byte stream: an HTTP connection upgraded to `SPDY/3.1`, or the
//! binary messages of a WebSocket with the `SPDY/3.1+portforward.k8s.io` subprotocol (the
//! tunnel newer kubectl uses), turned into bytes by the caller.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use crate::frame::{Decoder, Encoder, Frame, Headers, rst};

/// A connection to a pod's port, as the forwarder opened it.
pub trait Upstream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Upstream for T {}

/// Opens the pod's `port`; `Err` carries the reason, written to the error stream as kubelet
/// does (`error forwarding port P to pod …: REASON`).
pub type Connect = Box<
    dyn Fn(u16) -> Pin<Box<dyn Future<Output = Result<Box<dyn Upstream>, String>> + Send>>
        + Send
        + Sync,
>;

/// What the error stream says about a failed forward, as kubelet words it.
pub type Describe = Box<dyn Fn(u16, &str) -> String + Send + Sync>;

/// Largest DATA frame sent (the client reads whatever size comes).
const CHUNK: usize = 32 * 1024;
/// Frames queued for the client before a forward waits (backpressure from a slow client).
const OUT_QUEUE: usize = 256;
/// Chunks queued for a pod's port before the session waits (backpressure from a slow pod).
const IN_QUEUE: usize = 64;

enum Kind {
    Error,
    Data,
}

struct Pending {
    port: u16,
    error: Option<u32>,
    data: Option<u32>,
}

/// The state of one session: the streams seen and the forwards running.
struct Session {
    out: mpsc::Sender<Frame>,
    connect: Arc<Connect>,
    describe: Arc<Describe>,
    /// requestID -> the streams opened so far for it.
    pending: HashMap<String, Pending>,
    /// Data stream id -> where the client's bytes go (removed once the client closed its half).
    sinks: HashMap<u32, mpsc::Sender<Vec<u8>>>,
    /// Data stream id -> its forward, to stop it when the client resets either stream.
    tasks: HashMap<u32, AbortHandle>,
    /// Error stream id -> its data stream id.
    error_of: HashMap<u32, u32>,
    /// Each forward returns its (error, data) stream ids when done.
    forwards: JoinSet<(u32, u32)>,
}

/// Serves one port-forward session until the client closes it (EOF or GOAWAY) or sends
/// something that is not SPDY/3 (answered with GOAWAY and returned as `Err`). Each forwarded
/// connection runs in its own task; they all end with the session.
pub async fn serve<T>(io: T, connect: Connect, describe: Describe) -> Result<(), String>
where
    T: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, wr) = tokio::io::split(io);
    let (out, out_rx) = mpsc::channel::<Frame>(OUT_QUEUE);
    let writer = tokio::spawn(write_frames(wr, out_rx));
    let mut session = Session {
        out,
        connect: Arc::new(connect),
        describe: Arc::new(describe),
        pending: HashMap::new(),
        sinks: HashMap::new(),
        tasks: HashMap::new(),
        error_of: HashMap::new(),
        forwards: JoinSet::new(),
    };
    let mut dec = Decoder::default();
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let result = 'session: loop {
        // Every whole frame in the buffer first.
        loop {
            match dec.decode(&buf) {
                Ok(Some((frame, n))) => {
                    buf.drain(..n);
                    if !session.handle(frame).await {
                        break 'session Ok(());
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = session
                        .out
                        .send(Frame::GoAway {
                            last_stream: 0,
                            status: rst::PROTOCOL_ERROR,
                        })
                        .await;
                    break 'session Err(e.to_string());
                }
            }
        }
        session.reap();
        let n = match rd.read(&mut chunk).await {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(format!("reading the port-forward connection: {e}")),
        };
        buf.extend_from_slice(&chunk[..n]);
    };
    session.forwards.abort_all();
    drop(session);
    let _ = writer.await;
    result
}

impl Session {
    /// Acts on one frame from the client; `false` once the client ended the session.
    async fn handle(&mut self, frame: Frame) -> bool {
        match frame {
            Frame::SynStream {
                stream, headers, ..
            } => match open_stream(stream, &headers, &mut self.pending) {
                Ok(pair) => {
                    let _ = self.out.send(reply(stream)).await;
                    if let Some((_, p)) = pair {
                        self.start(p);
                    }
                }
                Err(_) => {
                    // kubelet logs the reason; the client only learns the stream was refused.
                    let _ = self
                        .out
                        .send(Frame::RstStream {
                            stream,
                            status: rst::REFUSED_STREAM,
                        })
                        .await;
                }
            },
            Frame::Data { stream, fin, data } => {
                if let Some(tx) = self.sinks.get(&stream) {
                    if !data.is_empty() && tx.send(data).await.is_err() {
                        self.sinks.remove(&stream);
                    }
                    if fin {
                        self.sinks.remove(&stream); // dropping the sender = half close
                    }
                } else if !data.is_empty() && !self.error_of.contains_key(&stream) {
                    let _ = self
                        .out
                        .send(Frame::RstStream {
                            stream,
                            status: rst::INVALID_STREAM,
                        })
                        .await;
                }
            }
            Frame::RstStream { stream, .. } => {
                let data = self.error_of.get(&stream).copied().unwrap_or(stream);
                self.sinks.remove(&data);
                if let Some(t) = self.tasks.remove(&data) {
                    t.abort();
                }
            }
            Frame::Ping { id } => {
                let _ = self.out.send(Frame::Ping { id }).await;
            }
            Frame::GoAway { .. } => return false,
            Frame::SynReply { .. }
            | Frame::Headers { .. }
            | Frame::Settings
            | Frame::WindowUpdate { .. }
            | Frame::Unknown => {}
        }
        true
    }

    /// Starts forwarding once both streams of a request are open.
    fn start(&mut self, p: Pending) {
        let (Some(err_id), Some(data_id)) = (p.error, p.data) else {
            return;
        };
        let (tx, rx) = mpsc::channel(IN_QUEUE);
        self.sinks.insert(data_id, tx);
        let task = self.forwards.spawn(forward(
            p.port,
            (err_id, data_id),
            rx,
            self.out.clone(),
            self.connect.clone(),
            self.describe.clone(),
        ));
        self.tasks.insert(data_id, task);
        self.error_of.insert(err_id, data_id);
    }

    /// Forgets the streams of forwards that have finished.
    fn reap(&mut self) {
        while let Some(done) = self.forwards.try_join_next() {
            if let Ok((err_id, data_id)) = done {
                self.error_of.remove(&err_id);
                self.tasks.remove(&data_id);
                self.sinks.remove(&data_id);
            }
        }
    }
}

fn reply(stream: u32) -> Frame {
    Frame::SynReply {
        stream,
        fin: false,
        headers: Vec::new(),
    }
}

fn header<'a>(h: &'a Headers, name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Records a new stream; returns the pair once both of a request's streams are open.
fn open_stream(
    stream: u32,
    h: &Headers,
    pending: &mut HashMap<String, Pending>,
) -> Result<Option<(String, Pending)>, String> {
    let port = header(h, "port").ok_or("\"port\" header is required")?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("unable to parse {port:?} as a port"))?;
    let kind = match header(h, "streamType") {
        Some("error") => Kind::Error,
        Some("data") => Kind::Data,
        Some(other) => return Err(format!("invalid stream type {other:?}")),
        None => return Err("\"streamType\" header is required".into()),
    };
    // Clients older than the requestID header open error then data with consecutive odd
    // ids; kubelet pairs them by id in that case, and so does this.
    let key = match header(h, "requestID") {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => match kind {
            Kind::Error => stream.to_string(),
            Kind::Data => stream.saturating_sub(2).to_string(),
        },
    };
    let p = pending.entry(key.clone()).or_insert(Pending {
        port,
        error: None,
        data: None,
    });
    let slot = match kind {
        Kind::Error => &mut p.error,
        Kind::Data => &mut p.data,
    };
    if slot.is_some() {
        return Err(format!("stream already assigned for request {key}"));
    }
    *slot = Some(stream);
    if p.error.is_some() && p.data.is_some() {
        return Ok(pending.remove(&key).map(|p| (key, p)));
    }
    Ok(None)
}

/// One forwarded connection: pod port <-> data stream; a failure on the error stream.
/// Returns the (error, data) stream ids.
async fn forward(
    port: u16,
    (err_id, data_id): (u32, u32),
    mut from_client: mpsc::Receiver<Vec<u8>>,
    out: mpsc::Sender<Frame>,
    connect: Arc<Connect>,
    describe: Arc<Describe>,
) -> (u32, u32) {
    let close = |id: u32| Frame::Data {
        stream: id,
        fin: true,
        data: Vec::new(),
    };
    let upstream = match connect(port).await {
        Ok(u) => u,
        Err(reason) => {
            let _ = out
                .send(Frame::Data {
                    stream: err_id,
                    fin: true,
                    data: describe(port, &reason).into_bytes(),
                })
                .await;
            let _ = out.send(close(data_id)).await;
            return (err_id, data_id);
        }
    };
    let (mut up_rd, mut up_wr) = tokio::io::split(upstream);
    let to_pod = async {
        while let Some(bytes) = from_client.recv().await {
            if up_wr.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = up_wr.shutdown().await;
    };
    let from_pod = async {
        let mut b = vec![0u8; CHUNK];
        loop {
            match up_rd.read(&mut b).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let data = Frame::Data {
                        stream: data_id,
                        fin: false,
                        data: b[..n].to_vec(),
                    };
                    if out.send(data).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = out.send(close(data_id)).await;
    };
    tokio::join!(to_pod, from_pod);
    let _ = out.send(close(err_id)).await;
    (err_id, data_id)
}

async fn write_frames<W: AsyncWrite>(wr: W, mut rx: mpsc::Receiver<Frame>) {
    tokio::pin!(wr);
    let mut enc = Encoder::default();
    let mut out = Vec::new();
    while let Some(f) = rx.recv().await {
        out.clear();
        enc.encode(&f, &mut out);
        // Coalesce what is already queued into one write.
        while let Ok(f) = rx.try_recv() {
            enc.encode(&f, &mut out);
        }
        if wr.write_all(&out).await.is_err() || wr.flush().await.is_err() {
            return;
        }
    }
    let _ = wr.shutdown().await;
}

#[cfg(test)]
mod tests;
