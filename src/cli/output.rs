//! Writing a command's result to stdout, and its messages to stderr, without ever
//! panicking: `print!`/`eprint!` panic when the write fails, e.g. on a pipe whose reader has
//! gone away (`kubectl smh drill NAME --yes 2>&1 | head -3`). Rust ignores SIGPIPE, so such a
//! write returns EPIPE instead of killing the process; a command that changes clusters must
//! then go on (a drill must restore), so every write of a mutating command goes through
//! these, and those command modules deny `print!` and `eprint!` (clippy's `print_stdout`
//! and `print_stderr`).

use std::io::Write;

use anyhow::anyhow;

use super::CmdError;

/// Writes `text` to stdout as it is and flushes; a closed pipe (`| head`) is not an error.
pub(crate) fn write_stdout(text: &str) -> Result<(), CmdError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CmdError::failed(anyhow!("writing the output: {e}"))),
    }
}

/// Writes to stdout and ignores a failed write (a closed pipe, a full disk): for messages
/// that must not stop a command that has started changing things.
pub(crate) fn print_lossy(args: std::fmt::Arguments<'_>) {
    let text = std::fmt::format(args);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Where stderr's messages go while a command draws on stderr from a thread of its own (the
/// drill's progress): set by [`redirect_stderr`].
type StderrSink = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

static STDERR_SINK: std::sync::RwLock<Option<StderrSink>> = std::sync::RwLock::new(None);

/// Until the returned guard is dropped, [`eprint_lossy`] (so `err!` and `errln!`, among them
/// `-v`'s retry lines, written from any task) hands its text to `sink` instead of writing
/// to stderr itself: a command whose stderr is written by its own thread (the drill) must not
/// have other writes block on a terminal nobody reads, nor cut through its progress area.
pub(crate) fn redirect_stderr(sink: StderrSink) -> StderrRedirect {
    *STDERR_SINK.write().unwrap_or_else(|e| e.into_inner()) = Some(sink);
    StderrRedirect(())
}

/// Ends [`redirect_stderr`] when dropped.
#[must_use = "the redirection ends when the guard is dropped"]
pub(crate) struct StderrRedirect(());

impl Drop for StderrRedirect {
    fn drop(&mut self) {
        *STDERR_SINK.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Writes to stderr and ignores a failed write (see [`print_lossy`]).
/// The text is written at once (one `write` for a short message), so that a line does not
/// interleave with another thread's. While [`redirect_stderr`] is in effect, the text goes
/// to its sink instead.
pub(crate) fn eprint_lossy(args: std::fmt::Arguments<'_>) {
    let text = std::fmt::format(args);
    let sink = STDERR_SINK
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match sink {
        Some(sink) => sink(&text),
        None => {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}

/// `println!` that never panics: a failed write is ignored ([`print_lossy`]).
macro_rules! outln {
    () => {
        $crate::cli::output::print_lossy(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::print_lossy(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` that never panics: a failed write is ignored ([`eprint_lossy`]).
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::cli::output::eprint_lossy(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics: a failed write is ignored ([`eprint_lossy`]).
macro_rules! errln {
    () => {
        $crate::cli::output::eprint_lossy(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::eprint_lossy(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {err, errln, outln};

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn a_redirect_takes_stderr_messages_until_its_guard_is_dropped() {
        let got = Arc::new(Mutex::new(String::new()));
        let sink = got.clone();
        let guard = redirect_stderr(Arc::new(move |t: &str| {
            sink.lock().unwrap().push_str(t);
        }));
        // From another thread too, as the request path's retry log writes.
        std::thread::spawn(|| errln!("retry 1 of GET pods (a-redirect-test)"))
            .join()
            .unwrap();
        err!("no newline (a-redirect-test)");
        assert!(
            got.lock()
                .unwrap()
                .contains("retry 1 of GET pods (a-redirect-test)\nno newline (a-redirect-test)")
        );
        drop(guard);
        errln!("after the guard (a-redirect-test)");
        assert!(!got.lock().unwrap().contains("after the guard"));
    }
}
