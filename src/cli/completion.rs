//! `kubectl smh completion SHELL`, and the hidden `__complete` command that kubectl's plugin
//! completion calls through `kubectl_complete-smh`.
//!
//! kubectl (≥ 1.26) completes `kubectl smh <TAB>` by running an executable named
//! `kubectl_complete-smh` from PATH with the words typed after `smh` (the last one is the
//! word being completed, possibly empty) and reading Cobra's `__complete` protocol back: one
//! candidate per line (`value<TAB>description`), then `:<directive>`. Our committed
//! `completions/kubectl_complete-smh` forwards to `kubectl-smh __complete`, answered here by
//! walking the clap command tree.

use std::io::Write;

use clap::{Arg, ArgAction, Command, CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::{Cli, CmdResult, Exit, GlobalArgs};

/// Name the generated scripts complete (the executable kubectl finds on PATH).
pub(crate) const BIN_NAME: &str = "kubectl-smh";

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
  # bash (kubectl-smh typed directly; for `kubectl smh <TAB>` put completions/kubectl_complete-smh on PATH)\n  \
  kubectl smh completion bash > ~/.local/share/bash-completion/completions/kubectl-smh\n  \
  # zsh\n  kubectl smh completion zsh > \"${fpath[1]}/_kubectl-smh\"\n  \
  # fish\n  kubectl smh completion fish > ~/.config/fish/completions/kubectl-smh.fish\n  \
  # PowerShell\n  kubectl smh completion powershell | Out-String | Invoke-Expression")]
pub(crate) struct Args {
    /// The shell to generate the script for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// Shells we generate completion scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl CompletionShell {
    fn shell(self) -> Shell {
        match self {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
            CompletionShell::Powershell => Shell::PowerShell,
        }
    }
}

/// The completion script for `shell`, as committed under `completions/`.
pub(crate) fn script(shell: CompletionShell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell.shell(), &mut cmd, BIN_NAME, &mut buf);
    buf
}

pub(crate) fn run(_g: &GlobalArgs, args: Args) -> CmdResult {
    let out = script(args.shell);
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error.
    let _ = stdout.write_all(&out).and_then(|_| stdout.flush());
    Ok(Exit::Ok)
}

/// Cobra's ShellCompDirective values.
mod directive {
    pub(super) const DEFAULT: u32 = 0;
    pub(super) const NO_SPACE: u32 = 2;
    pub(super) const NO_FILE_COMP: u32 = 4;
}

/// Answer `kubectl-smh __complete WORD...` in Cobra's protocol. `words` are the words after
/// the plugin name; the last one is the (possibly empty) word under the cursor.
pub(crate) fn complete(words: &[String]) -> String {
    let root = Cli::command();
    let (done, current) = match words.split_last() {
        Some((last, rest)) => (rest, last.as_str()),
        None => (&[][..], ""),
    };

    // Walk the words already typed: descend into subcommands, skip flag values.
    let mut cmd = &root;
    let mut globals: Vec<Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let mut pending_value: Option<Arg> = None;
    let mut positionals_seen = 0usize;
    let mut path: Vec<&str> = Vec::new();
    let mut after_double_dash = false;
    for w in done {
        if let Some(arg) = pending_value.take() {
            let _ = arg;
            continue;
        }
        if after_double_dash {
            positionals_seen += 1;
            continue;
        }
        if w == "--" {
            after_double_dash = true;
            continue;
        }
        if w.starts_with('-') && w.len() > 1 {
            if !w.contains('=')
                && let Some(arg) = find_flag(cmd, &globals, w)
                && takes_value(&arg)
            {
                pending_value = Some(arg);
            }
            continue;
        }
        if let Some(sub) = cmd
            .get_subcommands()
            .find(|s| s.get_name() == w || s.get_all_aliases().any(|a| a == w))
        {
            globals.extend(cmd.get_arguments().filter(|a| a.is_global_set()).cloned());
            path.push(sub.get_name());
            cmd = sub;
            positionals_seen = 0;
        } else {
            positionals_seen += 1;
        }
    }

    let mut out = String::new();
    let mut dir = directive::NO_FILE_COMP;

    if let Some(arg) = pending_value {
        // Completing the value of a flag.
        let values = possible_values(&arg);
        if values.is_empty() {
            dir = directive::DEFAULT; // file names, context names: let the shell do files
        }
        for (v, help) in values {
            if v.starts_with(current) {
                push(&mut out, &v, help.as_deref());
            }
        }
    } else if let Some(flag) = current.strip_prefix("--").filter(|_| current.contains('=')) {
        // `--output=ya`
        let (name, partial) = flag.split_once('=').unwrap_or((flag, ""));
        if let Some(arg) = find_flag(cmd, &globals, &format!("--{name}")) {
            for (v, help) in possible_values(&arg) {
                if v.starts_with(partial) {
                    push(&mut out, &format!("--{name}={v}"), help.as_deref());
                }
            }
        }
        dir |= directive::NO_SPACE;
    } else if current.starts_with('-') {
        let mut flags: Vec<(String, Option<String>)> = Vec::new();
        // Global flags the command refuses are not offered.
        let honoured = super::flags::honoured(&path.join(" "));
        let offered = |arg: &Arg| {
            !arg.is_global_set()
                || honoured.is_none_or(|h| arg.get_long().is_some_and(|l| h.contains(&l)))
        };
        for arg in cmd.get_arguments().chain(globals.iter()) {
            if arg.is_hide_set() || !offered(arg) {
                continue;
            }
            let help = arg.get_help().map(|h| first_line(&h.to_string()));
            if let Some(long) = arg.get_long() {
                flags.push((format!("--{long}"), help.clone()));
            }
            if let Some(short) = arg.get_short() {
                flags.push((format!("-{short}"), help));
            }
        }
        flags.push(("--help".into(), Some("Print help".into())));
        flags.sort();
        flags.dedup_by(|a, b| a.0 == b.0);
        for (f, help) in flags {
            if f.starts_with(current) {
                push(&mut out, &f, help.as_deref());
            }
        }
    } else {
        for sub in cmd.get_subcommands() {
            if sub.is_hide_set() || !sub.get_name().starts_with(current) {
                continue;
            }
            let about = sub.get_about().map(|a| first_line(&a.to_string()));
            push(&mut out, sub.get_name(), about.as_deref());
        }
        if let Some(pos) = cmd.get_positionals().nth(positionals_seen) {
            let values = possible_values(pos);
            if values.is_empty() && cmd.get_subcommands().next().is_none() {
                dir = directive::DEFAULT;
            }
            for (v, help) in values {
                if v.starts_with(current) {
                    push(&mut out, &v, help.as_deref());
                }
            }
        }
    }
    out.push_str(&format!(":{dir}\n"));
    out
}

fn push(out: &mut String, value: &str, help: Option<&str>) {
    out.push_str(value);
    if let Some(h) = help.filter(|h| !h.is_empty()) {
        out.push('\t');
        out.push_str(h);
    }
    out.push('\n');
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_string()
}

fn find_flag(cmd: &Command, globals: &[Arg], word: &str) -> Option<Arg> {
    let all = || cmd.get_arguments().chain(globals.iter());
    if let Some(long) = word.strip_prefix("--") {
        let long = long.split('=').next().unwrap_or(long);
        all()
            .find(|a| {
                a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|v| v.contains(&long))
            })
            .cloned()
    } else {
        // `-o` or `-oyaml`: only the first short flag decides.
        let c = word.chars().nth(1)?;
        let arg = all().find(|a| a.get_short() == Some(c)).cloned()?;
        if word.chars().count() > 2 && takes_value(&arg) {
            None // value attached: `-oyaml`
        } else {
            Some(arg)
        }
    }
}

fn takes_value(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
}

fn possible_values(arg: &Arg) -> Vec<(String, Option<String>)> {
    arg.get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| {
            (
                v.get_name().to_string(),
                v.get_help().map(|h| first_line(&h.to_string())),
            )
        })
        .collect()
}

/// Handle `kubectl-smh __complete ...` before clap parsing (kubectl passes arbitrary words).
pub(crate) fn run_hidden_complete(words: &[String]) -> std::process::ExitCode {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(complete(words).as_bytes())
        .and_then(|_| stdout.flush());
    std::process::ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(words: &[&str]) -> String {
        complete(&words.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn top_level_lists_commands_without_files() {
        let out = c(&[""]);
        assert!(out.contains("apply\t"), "{out}");
        assert!(out.contains("drill\t"), "{out}");
        assert!(out.ends_with(":4\n"), "{out}");
        assert!(!out.contains("__complete"));
    }

    #[test]
    fn prefix_filters() {
        let out = c(&["de"]);
        assert!(
            out.contains("describe\t") && out.contains("demo\t"),
            "{out}"
        );
        assert!(!out.contains("apply"), "{out}");
    }

    #[test]
    fn nested_and_positional_values() {
        let out = c(&["completion", ""]);
        for sh in ["bash", "zsh", "fish", "powershell"] {
            assert!(out.lines().any(|l| l.starts_with(sh)), "{out}");
        }
        let out = c(&["demo", ""]);
        assert!(out.contains("up\t"), "{out}");
    }

    #[test]
    fn flags_and_flag_values() {
        let out = c(&["apply", "--"]);
        assert!(out.contains("--kubeconfig\t"), "{out}");
        // Global flags a command refuses are not offered.
        let out = c(&["validate", "--"]);
        assert!(!out.contains("--kubeconfig"), "{out}");
        assert!(
            out.contains("--namespace\t") && out.contains("--filename\t"),
            "{out}"
        );
        let out = c(&["-o", ""]);
        assert!(
            out.starts_with("table") || out.contains("\ntable") || out.contains("table\n"),
            "{out}"
        );
        assert!(out.contains("yaml") && out.contains("json"), "{out}");
        let out = c(&["--output=y"]);
        assert!(out.contains("--output=yaml"), "{out}");
        // A flag that takes a file: let the shell complete files.
        let out = c(&["--kubeconfig", ""]);
        assert!(out.ends_with(":0\n"), "{out}");
    }
}
