//! Writing a command's result to stdout.

use std::io::Write;

use anyhow::anyhow;

use super::CmdError;

/// Writes `text` to stdout as it is and flushes; a closed pipe (`| head`) is not an error.
pub fn write_stdout(text: &str) -> Result<(), CmdError> {
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
