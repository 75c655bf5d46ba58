//! `docs/reference/*.md` and `docs/man/*.1`, generated from the clap definitions.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::CommandFactory;
use kubectl_smh::cli::Cli;

use crate::repo;

// ----- The reference, generated from the clap definitions -----

/// The command line as the reference documents it: named `kubectl-smh` (so man pages and
/// files are `kubectl-smh-drill-restore.1`), invoked as `kubectl smh`, with the values of
/// environment variables hidden (`NO_COLOR` set while generating must not change the docs).
pub(crate) fn reference_command() -> clap::Command {
    fn hide_env_values(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| a.hide_env_values(true))
            .mut_subcommands(hide_env_values)
    }
    let mut cmd = hide_env_values(
        Cli::command()
            .name("kubectl-smh")
            .bin_name("kubectl smh")
            .disable_help_subcommand(true),
    );
    cmd.build();
    cmd
}

/// Every command (the root, groups and leaves, not hidden), with its path of names below the
/// root.
pub(crate) fn all_commands(root: &clap::Command) -> Vec<(Vec<String>, clap::Command)> {
    fn walk(
        c: &clap::Command,
        path: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, clap::Command)>,
    ) {
        out.push((path.clone(), c.clone()));
        for s in c.get_subcommands().filter(|s| !s.is_hide_set()) {
            path.push(s.get_name().to_string());
            walk(s, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), &mut out);
    out
}

fn file_stem(path: &[String]) -> String {
    std::iter::once("kubectl-smh".to_string())
        .chain(path.iter().cloned())
        .collect::<Vec<_>>()
        .join("-")
}

fn invocation(path: &[String]) -> String {
    std::iter::once("kubectl smh".to_string())
        .chain(path.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Escapes what Markdown would otherwise take as HTML or emphasis, outside code spans.
fn md_text(s: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for ch in s.chars() {
        match ch {
            '`' => {
                in_code = !in_code;
                out.push(ch);
            }
            '<' | '>' | '*' | '[' | ']' | '|' if !in_code => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// `-f, --filename <FILE>` as help prints it.
fn arg_synopsis(a: &clap::Arg) -> String {
    let mut names = Vec::new();
    if let Some(s) = a.get_short() {
        names.push(format!("-{s}"));
    }
    if let Some(l) = a.get_long() {
        names.push(format!("--{l}"));
    }
    let takes_value = matches!(
        a.get_action(),
        clap::ArgAction::Set | clap::ArgAction::Append
    );
    let value = a
        .get_value_names()
        .map(|v| {
            v.iter()
                .map(|n| format!("<{n}>"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| format!("<{}>", a.get_id().as_str().to_uppercase()));
    if a.is_positional() {
        value
    } else if takes_value {
        format!("{} {value}", names.join(", "))
    } else {
        names.join(", ")
    }
}

fn arg_entry(a: &clap::Arg) -> String {
    let mut s = format!("- `{}`", arg_synopsis(a));
    let help = a
        .get_long_help()
        .or(a.get_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    if !help.is_empty() {
        let _ = write!(s, ": {}", md_text(&help).replace('\n', "\n  "));
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    let is_switch = matches!(
        a.get_action(),
        clap::ArgAction::SetTrue | clap::ArgAction::SetFalse | clap::ArgAction::Count
    );
    if !defaults.is_empty() && !a.is_hide_default_value_set() && !is_switch {
        let _ = write!(s, "\n  Default: `{}`.", defaults.join(","));
    }
    if !a.is_hide_possible_values_set() {
        let values: Vec<String> = a
            .get_possible_values()
            .into_iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| match v.get_help() {
                Some(h) => format!("`{}` ({})", v.get_name(), md_text(&h.to_string())),
                None => format!("`{}`", v.get_name()),
            })
            .collect();
        if !values.is_empty() && !is_switch {
            let _ = write!(s, "\n  Values: {}.", values.join(", "));
        }
    }
    if let Some(env) = a.get_env() {
        let _ = write!(s, "\n  Environment: `{}`.", env.to_string_lossy());
    }
    s.push('\n');
    s
}

fn is_help_or_version(a: &clap::Arg) -> bool {
    matches!(
        a.get_action(),
        clap::ArgAction::Help
            | clap::ArgAction::HelpShort
            | clap::ArgAction::HelpLong
            | clap::ArgAction::Version
    )
}

/// One command's reference page.
fn reference_page(path: &[String], cmd: &clap::Command) -> String {
    let mut md = format!("# {}\n\n", invocation(path));
    md.push_str(
        "<!-- Generated from the clap definitions by tests/docs.rs: edit the doc comments in \
         src/cli/, then run SMH_UPDATE_DOCS=1 cargo test --test docs. -->\n\n",
    );
    if let Some(about) = cmd.get_long_about().or(cmd.get_about()) {
        md.push_str(&md_text(&about.to_string()));
        md.push_str("\n\n");
    }
    let usage = cmd.clone().render_usage().to_string();
    let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage);
    let _ = writeln!(md, "```text\n{}\n```\n", usage.trim_end());

    let subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    if !subs.is_empty() {
        md.push_str("## Commands\n\n| command | what it does |\n|---|---|\n");
        for s in subs {
            let mut sub_path = path.to_vec();
            sub_path.push(s.get_name().to_string());
            let about = s.get_about().map(ToString::to_string).unwrap_or_default();
            let _ = writeln!(
                md,
                "| [`{}`]({}.md) | {} |",
                invocation(&sub_path),
                file_stem(&sub_path),
                md_text(&about)
            );
        }
        md.push('\n');
    }

    let args: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !is_help_or_version(a))
        .collect();
    let positionals: Vec<&&clap::Arg> = args.iter().filter(|a| a.is_positional()).collect();
    let own: Vec<&&clap::Arg> = args
        .iter()
        .filter(|a| !a.is_positional() && !a.is_global_set())
        .collect();
    let global: Vec<&&clap::Arg> = args
        .iter()
        .filter(|a| !a.is_positional() && a.is_global_set())
        .collect();
    if !positionals.is_empty() {
        md.push_str("## Arguments\n\n");
        for a in positionals {
            md.push_str(&arg_entry(a));
        }
        md.push('\n');
    }
    if !own.is_empty() {
        md.push_str("## Options\n\n");
        for a in own {
            md.push_str(&arg_entry(a));
        }
        md.push('\n');
    }
    if path.is_empty() {
        md.push_str("## Global flags\n\n");
        md.push_str(
            "They go before or after the command. A command refuses (exit 2) a global flag it \
             does not use; [docs/clusters.md](../clusters.md#global-flags) lists which command honours which.\n\n",
        );
        for a in global {
            md.push_str(&arg_entry(a));
        }
        md.push('\n');
    } else if !global.is_empty() {
        md.push_str(
            "Global flags: see [kubectl smh](kubectl-smh.md#global-flags); this command refuses \
             those it does not use.\n",
        );
    }
    if let Some(after) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        md.push('\n');
        md.push_str(&after_help_markdown(&after.to_string()));
    }
    md
}

/// The text after the options: paragraphs as text, runs of indented lines (examples) as code
/// blocks, `sh` when every line is a command (so the example checks below read them).
fn after_help_markdown(text: &str) -> String {
    let mut out = String::new();
    let mut block: Vec<&str> = Vec::new();
    let flush = |block: &mut Vec<&str>, out: &mut String| {
        if block.is_empty() {
            return;
        }
        let lang = if block.iter().all(|l| l.starts_with("kubectl smh ")) {
            "sh"
        } else {
            "text"
        };
        let _ = writeln!(out, "```{lang}\n{}\n```", block.join("\n"));
        block.clear();
    };
    for line in text.lines() {
        if let Some(indented) = line.strip_prefix("  ") {
            block.push(indented.trim_start());
        } else {
            flush(&mut block, &mut out);
            out.push_str(&md_text(line));
            out.push('\n');
        }
    }
    flush(&mut block, &mut out);
    out
}

fn man_page(cmd: &clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .manual("kubectl-smh")
        .source(format!("kubectl-smh {}", env!("CARGO_PKG_VERSION")))
        .render(&mut out)
        .expect("render man page");
    out
}

/// Every generated file: path relative to the repository, content.
fn generated_reference() -> BTreeMap<String, Vec<u8>> {
    let root = reference_command();
    let mut files = BTreeMap::new();
    for (path, cmd) in all_commands(&root) {
        let stem = file_stem(&path);
        files.insert(
            format!("docs/reference/{stem}.md"),
            reference_page(&path, &cmd).into_bytes(),
        );
        files.insert(format!("docs/man/{stem}.1"), man_page(&cmd));
    }
    files
}

#[test]
fn reference_and_man_pages_are_generated_from_the_command_line() {
    let update = std::env::var_os("SMH_UPDATE_DOCS").is_some();
    let files = generated_reference();
    assert!(
        files.contains_key("docs/reference/kubectl-smh-drill-restore.md")
            && files.contains_key("docs/man/kubectl-smh-failover-create.1"),
        "the reference must cover nested commands: {:?}",
        files.keys().collect::<Vec<_>>()
    );
    let mut stale = Vec::new();
    for dir in ["docs/reference", "docs/man"] {
        std::fs::create_dir_all(repo().join(dir)).expect("create reference dir");
        for entry in std::fs::read_dir(repo().join(dir)).expect("read reference dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let rel = format!("{dir}/{name}");
            if !files.contains_key(&rel) {
                if update {
                    std::fs::remove_file(repo().join(&rel)).expect("remove stale file");
                } else {
                    stale.push(format!("{rel} (no such command)"));
                }
            }
        }
    }
    for (rel, content) in &files {
        let committed = std::fs::read(repo().join(rel)).unwrap_or_default();
        if &committed != content {
            if update {
                std::fs::write(repo().join(rel), content).expect("write reference file");
            } else {
                stale.push(rel.clone());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the committed reference differs from the command line's definitions: {stale:?}\n\
         regenerate with: SMH_UPDATE_DOCS=1 cargo test --test docs"
    );
}
