//! Exit codes and the error type every command handler returns.
//!
//! 0 success; 1 a check, test or drill ran and its expectation failed; 2 usage error or
//! invalid input (nothing was changed); 3 cluster or API error; 130 interrupted.

use std::fmt;
use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Ok,
    /// 1: a check, test or drill ran and its expectation failed.
    Failed,
    /// 2: usage error or invalid input; nothing was changed.
    Invalid,
    /// 3: cluster or API error.
    Cluster,
    /// 130: interrupted (after restoring).
    Interrupted,
}

impl Exit {
    /// The process exit status (tests/docs checks the README's table against it).
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Invalid => 2,
            Exit::Cluster => 3,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// An error that ends a command, with the exit code it maps to.
#[derive(Debug)]
pub struct CmdError {
    pub exit: Exit,
    pub(crate) error: anyhow::Error,
}

impl CmdError {
    /// Invalid input or usage (exit 2).
    pub(crate) fn invalid(error: impl Into<anyhow::Error>) -> Self {
        CmdError {
            exit: Exit::Invalid,
            error: error.into(),
        }
    }
    /// Cluster or API error (exit 3).
    pub(crate) fn cluster(error: impl Into<anyhow::Error>) -> Self {
        CmdError {
            exit: Exit::Cluster,
            error: error.into(),
        }
    }
    /// An expectation failed (exit 1).
    pub(crate) fn failed(error: impl Into<anyhow::Error>) -> Self {
        CmdError {
            exit: Exit::Failed,
            error: error.into(),
        }
    }
    /// Interrupted (exit 130).
    pub(crate) fn interrupted(error: impl Into<anyhow::Error>) -> Self {
        CmdError {
            exit: Exit::Interrupted,
            error: error.into(),
        }
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// What every handler returns. `Ok(Exit::Failed)` is a command that ran and reported its
/// own failure (for example a check with failing items); `Err` is printed as `error: ...`.
pub type CmdResult = Result<Exit, CmdError>;
