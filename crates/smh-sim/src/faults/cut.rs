//! Cutting open connections, upgraded ones included: every accepted connection is read and
//! written through [`Cuttable`], which fails (and so closes the connection) once its cut
//! is signalled: for all connections of a cluster ([`super::Faults::cut_connections`]) or
//! for one ([`ConnCut`], which the `close` fault uses on a port-forward it lets through).
//! An upgraded connection (a port-forward's WebSocket or SPDY session) keeps the IO it was
//! accepted with, so it is cut as well: what a client sees when the API server restarts.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

/// The cut signal of one connection; requests carry it (an extension) so that a fault can
/// cut the connection it came on.
#[derive(Clone)]
pub(crate) struct ConnCut(Arc<watch::Sender<bool>>);

impl ConnCut {
    pub(crate) fn new() -> Self {
        ConnCut(Arc::new(watch::channel(false).0))
    }

    /// Cut the connection now.
    pub(crate) fn cut(&self) {
        self.0.send_replace(true);
    }
}

type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Resolves when `rx` changes; never when its sender is gone (nothing can cut any more).
async fn changed<T>(mut rx: watch::Receiver<T>) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// An accepted connection that fails every read and write once cut.
pub(crate) struct Cuttable<T> {
    io: T,
    signal: Signal,
    cut: bool,
}

impl<T> Cuttable<T> {
    /// `io`, cut when `all` changes (every connection of the cluster) or `one` is cut.
    pub(crate) fn new(io: T, all: watch::Receiver<u64>, one: &ConnCut) -> Self {
        let one = one.0.subscribe();
        let signal: Signal = Box::pin(async move {
            tokio::select! {
                () = changed(all) => {}
                () = changed(one) => {}
            }
        });
        Cuttable {
            io,
            signal,
            cut: false,
        }
    }

    /// Whether the cut came (registering the waker when it has not).
    fn is_cut(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.cut && self.signal.as_mut().poll(cx).is_ready() {
            self.cut = true;
        }
        self.cut
    }
}

fn cut_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "injected fault: connection cut",
    )
}

impl<T: AsyncRead + Unpin> AsyncRead for Cuttable<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.is_cut(cx) {
            return Poll::Ready(Err(cut_error()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Cuttable<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.is_cut(cx) {
            return Poll::Ready(Err(cut_error()));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.is_cut(cx) {
            return Poll::Ready(Err(cut_error()));
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
