//! The `kubectl-smh` executable (run as `kubectl smh`): parses the command line and runs the
//! command with the handlers of the `kubectl_smh` library target (`src/cli`).
use std::process::ExitCode;

fn main() -> ExitCode {
    kubectl_smh::cli::main()
}
