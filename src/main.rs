use std::process::ExitCode;

fn main() -> ExitCode {
    kubectl_smh::cli::main()
}
