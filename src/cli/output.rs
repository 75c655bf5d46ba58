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

/// Writes to stderr and ignores a failed write (see [`print_lossy`]).
/// The text is written at once (one `write` for a short message), so that a line does not
/// interleave with another thread's.
pub(crate) fn eprint_lossy(args: std::fmt::Arguments<'_>) {
    let text = std::fmt::format(args);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
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
