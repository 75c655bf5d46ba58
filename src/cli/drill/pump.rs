//! The drill's terminal output, written on a thread of its own.
//!
//! A terminal that is not read (paused with Ctrl-S, a pty whose reader is busy, a wide
//! progress area redrawn ten times a second into a full buffer) blocks every write to it.
//! The drill reports its progress from the task that also breaks, verifies and restores,
//! so a blocking write there would hold the restore back until somebody reads the terminal.
//! [`Pump`] takes the bytes at once and writes them in order on its own thread; past
//! [`MAX_PENDING`] unwritten bytes it drops further writes (the drill's report goes to
//! stdout, not through it), so memory stays bounded.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};

/// Unwritten bytes kept at most; writes past it are dropped.
pub(super) const MAX_PENDING: usize = 16 << 20;

/// A writer on its own thread. Cloning shares it.
#[derive(Clone)]
pub(super) struct Pump {
    tx: mpsc::Sender<Vec<u8>>,
    pending: Arc<Pending>,
}

#[derive(Default)]
struct Pending {
    bytes: AtomicUsize,
    dropped: AtomicUsize,
    /// Signalled whenever the writer thread has written everything it was given.
    idle: (Mutex<()>, Condvar),
}

impl std::fmt::Debug for Pump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pump")
            .field("pending", &self.pending.bytes.load(Ordering::SeqCst))
            .finish()
    }
}

impl Pump {
    /// Starts the thread that writes to `out`. A write error ends it (what is sent after is
    /// dropped), as a closed stderr ends a plain `eprintln!`'s effect.
    pub(super) fn start<W: Write + Send + 'static>(mut out: W) -> Pump {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let pending = Arc::new(Pending::default());
        let p = pending.clone();
        std::thread::spawn(move || {
            let mut broken = false;
            while let Ok(buf) = rx.recv() {
                if !broken {
                    broken = out.write_all(&buf).and_then(|()| out.flush()).is_err();
                }
                let _guard = p.idle.0.lock().unwrap_or_else(|e| e.into_inner());
                p.bytes.fetch_sub(buf.len(), Ordering::SeqCst);
                p.idle.1.notify_all();
            }
        });
        Pump { tx, pending }
    }

    /// Queues `bytes`; never blocks. Dropped when [`MAX_PENDING`] bytes are already waiting.
    pub(super) fn write(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let before = self.pending.bytes.fetch_add(bytes.len(), Ordering::SeqCst);
        if before + bytes.len() > MAX_PENDING || self.tx.send(bytes.to_vec()).is_err() {
            self.pending.bytes.fetch_sub(bytes.len(), Ordering::SeqCst);
            self.pending
                .dropped
                .fetch_add(bytes.len(), Ordering::SeqCst);
        }
    }

    /// Bytes given and not written yet.
    #[cfg(test)]
    pub(super) fn pending(&self) -> usize {
        self.pending.bytes.load(Ordering::SeqCst)
    }

    /// Bytes dropped because too many waited.
    pub(super) fn dropped(&self) -> usize {
        self.pending.dropped.load(Ordering::SeqCst)
    }

    /// Blocks until everything given so far is written (for a prompt, which must appear
    /// after the lines before it, and at the end). Only from a thread that may block.
    pub(super) fn wait_written(&self) {
        let (lock, cv) = &self.pending.idle;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        while self.pending.bytes.load(Ordering::SeqCst) > 0 {
            g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// stderr's terminal as indicatif draws on it, through a [`Pump`]: the escape sequences a
/// `console::Term` writes for the same calls, its size read from the terminal itself.
#[derive(Debug)]
pub(super) struct PumpedTerm {
    pub(super) pump: Pump,
    term: dialoguer::console::Term,
}

impl PumpedTerm {
    pub(super) fn stderr(pump: Pump) -> PumpedTerm {
        PumpedTerm {
            pump,
            term: dialoguer::console::Term::stderr(),
        }
    }

    fn csi(&self, n: usize, code: char) -> io::Result<()> {
        if n > 0 {
            self.pump.write(format!("\x1b[{n}{code}").as_bytes());
        }
        Ok(())
    }
}

impl indicatif::TermLike for PumpedTerm {
    fn width(&self) -> u16 {
        self.term.size().1
    }

    fn height(&self) -> u16 {
        self.term.size().0
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.csi(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.csi(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.csi(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.csi(n, 'D')
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.pump.write(format!("{s}\n").as_bytes());
        Ok(())
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.pump.write(s.as_bytes());
        Ok(())
    }

    fn clear_line(&self) -> io::Result<()> {
        self.pump.write(b"\r\x1b[2K");
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::time::Duration;

    /// Writes to a pipe nobody reads return at once, and everything arrives, in order, once
    /// it is read: the drill's progress never waits for its terminal.
    #[test]
    fn writes_to_an_unread_pipe_do_not_block_and_arrive_in_order() {
        let (mut reader, writer) = io::pipe().unwrap();
        let pump = Pump::start(writer);
        let (done_tx, done_rx) = mpsc::channel();
        let p = pump.clone();
        // 2 MiB, far more than a pipe holds (64 KiB on Linux).
        std::thread::spawn(move || {
            for i in 0..2048u32 {
                let line = format!("{i:0>1023}\n");
                p.write(line.as_bytes());
            }
            done_tx.send(()).unwrap();
        });
        done_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("every write returned while nothing read the pipe");
        assert!(pump.pending() > 0, "the pipe cannot have taken it all");
        let mut got = vec![0u8; 2048 * 1024];
        reader.read_exact(&mut got).unwrap();
        for (i, line) in got.chunks(1024).enumerate() {
            assert_eq!(line, format!("{i:0>1023}\n").as_bytes(), "line {i}");
        }
        pump.wait_written();
        assert_eq!(pump.pending(), 0);
        assert_eq!(pump.dropped(), 0);
    }

    /// Past MAX_PENDING unwritten bytes, writes are dropped and counted, not queued.
    #[test]
    fn a_terminal_that_is_never_read_holds_at_most_max_pending_bytes() {
        let (_reader, writer) = io::pipe().unwrap();
        let pump = Pump::start(writer);
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..(MAX_PENDING >> 20) + 8 {
            pump.write(&chunk);
        }
        assert!(pump.pending() <= MAX_PENDING, "{}", pump.pending());
        assert!(pump.dropped() >= 8 << 20, "{}", pump.dropped());
    }
}
