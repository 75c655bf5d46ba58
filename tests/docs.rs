//! The docs say what the code does.
//!
//! - `docs/reference/*.md` and `docs/man/*.1` are generated from the clap definitions; a test
//!   fails when the committed files differ. Regenerate with
//!   `SMH_UPDATE_DOCS=1 cargo test --test docs` and review the diff.
//! - The README's command table names exactly the commands there are.
//! - Every `kubectl smh ...` example in README.md, CONTRIBUTING.md and `docs/` parses with the
//!   real command line (nothing is run).
//! - The README's exit codes are the code's; a flag default written in the docs as
//!   `` `--flag` (default `VALUE`) `` is the flag's default.
//! - Every relative link points at a file, and a heading, that exists.
//! - No tracked file mentions a document that is not in the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use kubectl_smh::cli::{Cli, Exit, Parsed, parse};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// The Markdown files: README.md, CONTRIBUTING.md, `docs/*.md` and the generated
/// `docs/reference/*.md`, relative to the repository root.
fn markdown_files() -> Vec<String> {
    let mut out = vec!["README.md".to_string(), "CONTRIBUTING.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/")
        .map(|e| {
            e.expect("docs/ entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    let mut reference: Vec<String> = std::fs::read_dir(repo().join("docs/reference"))
        .map(|dir| {
            dir.map(|e| {
                e.expect("docs/reference entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| n.ends_with(".md"))
            .map(|n| format!("docs/reference/{n}"))
            .collect()
        })
        .unwrap_or_default();
    docs.sort();
    reference.sort();
    out.extend(docs);
    out.extend(reference);
    out
}

// ----- The reference, generated from the clap definitions -----

/// The command line as the reference documents it: named `kubectl-smh` (so man pages and
/// files are `kubectl-smh-drill-restore.1`), invoked as `kubectl smh`, with the values of
/// environment variables hidden (`NO_COLOR` set while generating must not change the docs).
fn reference_command() -> clap::Command {
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
fn all_commands(root: &clap::Command) -> Vec<(Vec<String>, clap::Command)> {
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
             does not use; docs/clusters.md lists which command honours which.\n\n",
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

// ----- The table of global flags each command honours -----

const HONOURED_START: &str = "<!-- generated from src/cli/flags.rs by tests/docs.rs (SMH_UPDATE_DOCS=1 cargo test --test docs) -->\n";
const HONOURED_END: &str = "<!-- end of generated table -->\n";

/// docs/clusters.md's table, from `kubectl_smh::cli::flags::HONOURED` (the table the binary
/// enforces), with each flag as its short form when it has one.
fn honoured_table() -> String {
    let root = Cli::command();
    let spelled = |long: &str| {
        root.get_arguments()
            .find(|a| a.get_long() == Some(long))
            .and_then(clap::Arg::get_short)
            .map_or_else(|| format!("--{long}"), |s| format!("-{s}"))
    };
    let mut table = String::from("| command | honours |\n|---|---|\n");
    for (command, flags) in kubectl_smh::cli::flags::HONOURED {
        let flags: Vec<String> = flags.iter().map(|f| spelled(f)).collect();
        let flags = if flags.is_empty() {
            "none".to_string()
        } else {
            format!("`{}`", flags.join(" "))
        };
        let _ = writeln!(table, "| `{command}` | {flags} |");
    }
    table
}

#[test]
fn global_flags_table_is_the_one_the_binary_enforces() {
    let path = repo().join("docs/clusters.md");
    let text = read("docs/clusters.md");
    let start = text
        .find(HONOURED_START)
        .expect("generated table start marker")
        + HONOURED_START.len();
    let end = start
        + text[start..]
            .find(HONOURED_END)
            .expect("generated table end marker");
    let want = honoured_table();
    if text[start..end] != want {
        if std::env::var_os("SMH_UPDATE_DOCS").is_some() {
            std::fs::write(&path, format!("{}{want}{}", &text[..start], &text[end..]))
                .expect("write");
        } else {
            panic!(
                "docs/clusters.md's table of honoured global flags differs from src/cli/flags.rs; \
                 regenerate with: SMH_UPDATE_DOCS=1 cargo test --test docs\nwant:\n{want}"
            );
        }
    }
}

// ----- The README's command table -----

/// Commands that can be run, by path (leaves, and `drill`, whose subcommand is optional).
fn runnable_commands() -> BTreeSet<String> {
    all_commands(&reference_command())
        .into_iter()
        .filter(|(path, cmd)| {
            !path.is_empty()
                && (cmd.get_subcommands().next().is_none() || !cmd.is_subcommand_required_set())
        })
        .map(|(path, _)| path.join(" "))
        .collect()
}

/// The section of a Markdown file under the heading `heading` (up to the next heading of the
/// same or a higher level).
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let level = heading.chars().take_while(|&c| c == '#').count();
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no heading {heading:?}"))
        + heading.len()
        + 2;
    let rest = &text[start..];
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            break;
        }
        offset += line.len();
    }
    &rest[..offset]
}

#[test]
fn readme_stays_short() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= 350,
        "README.md has {lines} lines; at most 350 (move details to docs/)"
    );
}

#[test]
fn readme_command_table_lists_exactly_the_commands() {
    let readme = read("README.md");
    let table = section(&readme, "## Commands");
    let row = regex::Regex::new(r"(?m)^\| \[?`kubectl smh ([a-z -]+)`").unwrap();
    let listed: Vec<String> = row
        .captures_iter(table)
        .map(|c| c[1].trim().to_string())
        .collect();
    assert!(listed.len() >= 10, "no command table found: {listed:?}");
    for path in &listed {
        let mut argv = vec!["kubectl-smh".to_string()];
        argv.extend(path.split(' ').map(str::to_string));
        argv.push("--help".into());
        let err = Cli::command()
            .try_get_matches_from(&argv)
            .expect_err("--help ends parsing");
        assert_eq!(
            err.kind(),
            clap::error::ErrorKind::DisplayHelp,
            "README's command table lists `kubectl smh {path}`, which does not exist: {err}"
        );
    }
    let listed: BTreeSet<String> = listed.into_iter().collect();
    let missing: Vec<String> = runnable_commands()
        .into_iter()
        .filter(|c| !listed.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "commands missing from README's table: {missing:?}"
    );
    // Each row links to the command's generated reference page.
    for path in &listed {
        let link = format!(
            "[`kubectl smh {path}`](docs/reference/kubectl-smh-{}.md)",
            path.replace(' ', "-")
        );
        assert!(
            table.contains(&link),
            "README's row for {path} should be {link}"
        );
    }
}

// ----- Examples parse -----

/// Splits a shell line into words (quotes and backslashes as sh reads them).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                has = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    has = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The `kubectl smh` invocations in one shell command line: each pipeline or list element
/// that runs the plugin (`kubectl smh`, `kubectl-smh`, or `cargo run --release --`), up to a
/// redirection or comment.
fn invocations(line: &str) -> Vec<Vec<String>> {
    let line = match line.find(" #") {
        Some(i) if !line[..i].contains('\'') && !line[..i].contains('"') => &line[..i],
        _ => line,
    };
    let mut out = Vec::new();
    for segment in line.split(['|', ';', '&']) {
        let words = shell_words(segment);
        let mut words = words
            .iter()
            .skip_while(|w| w.contains('=') && !w.starts_with('-'))
            .map(String::as_str);
        let first: Vec<&str> = words.clone().take(4).collect();
        let skip = match first.as_slice() {
            ["kubectl", "smh", ..] => 2,
            ["kubectl-smh" | "target/release/kubectl-smh", ..] => 1,
            ["cargo", "run", "--release", "--", ..] => 4,
            _ => continue,
        };
        let args: Vec<String> = words
            .by_ref()
            .skip(skip)
            .take_while(|w| !w.starts_with('>') && !w.starts_with('<') && !w.starts_with("2>"))
            .map(str::to_string)
            .collect();
        out.push(args);
    }
    out
}

/// A line written as a synopsis rather than a command: optional parts in brackets,
/// alternatives, repetition.
fn is_synopsis(args: &[String]) -> bool {
    args.iter().any(|a| {
        a.contains('[')
            || a.contains(']')
            || a.contains("...")
            || a.contains('…')
            || a.starts_with('<')
    })
}

/// Checks the command path and every flag of a synopsis or an inline mention, not the values:
/// `kubectl smh drill NAME [--break DEPLOY]...` names a command and flags that exist.
fn check_names(args: &[String]) -> Result<(), String> {
    let mut root = Cli::command();
    root.build(); // adds --help and --version to every command
    let mut cmd = &root;
    let mut path = Vec::new();
    for word in args {
        let word = word.trim_matches(|c| c == '[' || c == ']' || c == '.' || c == '…');
        if word.is_empty() {
            continue;
        }
        if let Some(flag) = word.strip_prefix('-') {
            let flag = flag.split(['=', '|']).next().unwrap_or_default();
            let known = if let Some(long) = flag.strip_prefix('-') {
                cmd.get_arguments().any(|a| a.get_long() == Some(long))
                    || root
                        .get_arguments()
                        .any(|a| a.is_global_set() && a.get_long() == Some(long))
            } else {
                flag.chars().all(|s| {
                    cmd.get_arguments().any(|a| a.get_short() == Some(s))
                        || root
                            .get_arguments()
                            .any(|a| a.is_global_set() && a.get_short() == Some(s))
                })
            };
            if !known {
                return Err(format!(
                    "`kubectl smh {}` has no flag {word}",
                    path.join(" ")
                ));
            }
        } else if let Some(sub) = cmd.find_subcommand(word) {
            path.push(sub.get_name().to_string());
            cmd = sub;
        } else if cmd.is_subcommand_required_set() && !word.starts_with('<') {
            return Err(format!(
                "`kubectl smh {}` has no command {word}",
                path.join(" ")
            ));
        }
    }
    Ok(())
}

/// Parses a full command line as the binary would, refused global flags included.
fn check_parses(args: &[String]) -> Result<(), String> {
    let argv = std::iter::once("kubectl-smh".to_string()).chain(args.iter().cloned());
    match parse(argv) {
        Ok(_) => Ok(()),
        Err(Parsed::Clap(e))
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            Ok(())
        }
        Err(Parsed::Clap(e)) => Err(e.to_string()),
        Err(Parsed::Refused(e)) => Err(e.to_string()),
    }
}

struct Example {
    file: String,
    line: usize,
    args: Vec<String>,
    /// In a code block (a command to run, checked in full), or inline (a mention, checked
    /// for its names).
    block: bool,
}

/// Command lines in code blocks: every line of a `sh` block, the `$ ` lines of other blocks
/// (continuation lines joined); and inline code spans that start with `kubectl smh`.
fn examples(file: &str, text: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    let mut pending: Option<(usize, String)> = None;
    let inline = regex::Regex::new(r"`(kubectl smh [^`]+)`").unwrap();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(rest) = raw.trim_start().strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(rest.trim().to_string()),
            };
            continue;
        }
        let Some(lang) = &fence else {
            for c in inline.captures_iter(raw) {
                for args in invocations(&c[1]) {
                    out.push(Example {
                        file: file.into(),
                        line: n,
                        args,
                        block: false,
                    });
                }
            }
            continue;
        };
        let (start, mut cmd) = match pending.take() {
            Some((start, acc)) => (start, acc + " " + raw.trim()),
            None => {
                // Untagged blocks hold synopses (`kubectl smh drill NAME [--yes]`) and output;
                // `console` and `text` blocks, commands after `$ ` and output.
                let line = match lang.as_str() {
                    "sh" | "bash" | "shell" => Some(raw),
                    "" if raw.starts_with("kubectl smh ") => Some(raw),
                    _ => raw.strip_prefix("$ "),
                };
                match line {
                    Some(l) if !l.trim_start().starts_with('#') => (n, l.trim().to_string()),
                    _ => continue,
                }
            }
        };
        if cmd.ends_with('\\') {
            cmd.pop();
            pending = Some((start, cmd));
            continue;
        }
        for args in invocations(&cmd) {
            out.push(Example {
                file: file.into(),
                line: start,
                args,
                block: true,
            });
        }
    }
    out
}

#[test]
fn every_kubectl_smh_example_parses() {
    let mut failures = Vec::new();
    let (mut parsed, mut named) = (0, 0);
    for file in markdown_files() {
        for ex in examples(&file, &read(&file)) {
            let full = ex.block && !is_synopsis(&ex.args);
            let result = if full {
                check_parses(&ex.args)
            } else {
                check_names(&ex.args)
            };
            if full {
                parsed += 1;
            } else {
                named += 1;
            }
            if let Err(e) = result {
                failures.push(format!(
                    "{}:{}: kubectl smh {}: {}",
                    ex.file,
                    ex.line,
                    ex.args.join(" "),
                    e.lines().next().unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        parsed >= 40 && named >= 40,
        "too few examples found ({parsed} command lines, {named} mentions): is the extraction broken?"
    );
    assert!(
        failures.is_empty(),
        "examples that do not parse:\n{}",
        failures.join("\n")
    );
}

#[test]
fn example_extraction_finds_commands_and_refuses_bad_ones() {
    let text = "```sh\nkubectl smh apply -f x.yaml --diff   # a comment\nKUBECONFIG=k kubectl smh demo manifests | kubectl smh apply -f -\nkubectl smh failover create a \\\n    --backing a.b@c --backing d.e@f --dry-run\n```\n\
                ```console\n$ kubectl smh drill NAME [--yes]\noutput\n```\nInline `kubectl smh drill restore NAME` and `kubectl smh nope`.\n";
    let ex = examples("t.md", text);
    let lines: Vec<String> = ex.iter().map(|e| e.args.join(" ")).collect();
    assert_eq!(
        lines,
        [
            "apply -f x.yaml --diff",
            "demo manifests",
            "apply -f -",
            "failover create a --backing a.b@c --backing d.e@f --dry-run",
            "drill NAME [--yes]",
            "drill restore NAME",
            "nope"
        ]
    );
    assert!(check_parses(&ex[0].args).is_ok());
    assert!(is_synopsis(&ex[4].args) && check_names(&ex[4].args).is_ok());
    assert!(
        check_names(&ex[6].args).is_err(),
        "an unknown command is refused"
    );
    let words = |s: &str| shell_words(s);
    assert!(check_parses(&words("apply --no-such-flag")).is_err());
    assert!(
        check_parses(&words("validate --kubeconfig k -f x")).is_err(),
        "a refused global flag"
    );
    assert!(check_names(&words("drill --no-such-flag")).is_err());
    assert!(check_names(&words("validate -f F [--strict] [-o json|yaml]")).is_ok());
}

// ----- Exit codes -----

/// Every exit code there is; the match makes a new variant a compile error here.
fn all_exits() -> Vec<Exit> {
    let all = [
        Exit::Ok,
        Exit::Failed,
        Exit::Invalid,
        Exit::Cluster,
        Exit::Interrupted,
    ];
    for e in all {
        match e {
            Exit::Ok | Exit::Failed | Exit::Invalid | Exit::Cluster | Exit::Interrupted => {}
        }
    }
    all.to_vec()
}

#[test]
fn readme_exit_codes_are_the_codes_the_binary_uses() {
    let readme = read("README.md");
    let table = section(&readme, "## Exit codes");
    let row = regex::Regex::new(r"(?m)^\| (\d+) \|").unwrap();
    let documented: BTreeSet<u8> = row
        .captures_iter(table)
        .map(|c| c[1].parse().expect("exit code"))
        .collect();
    let actual: BTreeSet<u8> = all_exits().into_iter().map(Exit::code).collect();
    assert_eq!(documented, actual, "README's exit codes vs src/cli/exit.rs");
}

// ----- Flag defaults written in the docs -----

#[test]
fn documented_flag_defaults_are_the_defaults() {
    // `--flag` (default `VALUE`) in prose; in a table, a row `| `--flag VALUE` | ... (default `VALUE`...`.
    let prose = regex::Regex::new(r"`--([a-z-]+)` \(default `([^`]+)`\)").unwrap();
    let row = regex::Regex::new(r"^\| `--([a-z-]+)[ =][^`]*` \|.*\(default `([^`]+)`").unwrap();
    let mut defaults: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, cmd) in all_commands(&reference_command()) {
        for a in cmd.get_arguments() {
            if let Some(long) = a.get_long() {
                let value: Vec<String> = a
                    .get_default_values()
                    .iter()
                    .map(|v| v.to_string_lossy().into_owned())
                    .collect();
                defaults
                    .entry(long.to_string())
                    .or_default()
                    .insert(value.join(","));
            }
        }
    }
    let mut checked = 0;
    let mut wrong = Vec::new();
    for file in markdown_files() {
        for (i, line) in read(&file).lines().enumerate() {
            for c in prose.captures_iter(line).chain(row.captures_iter(line)) {
                checked += 1;
                let (flag, value) = (&c[1], &c[2]);
                match defaults.get(flag) {
                    Some(values) if values.contains(value) => {}
                    Some(values) => wrong.push(format!(
                        "{file}:{}: --{flag} defaults to {values:?}, not {value:?}",
                        i + 1
                    )),
                    None => wrong.push(format!("{file}:{}: no flag --{flag}", i + 1)),
                }
            }
        }
    }
    assert!(checked >= 5, "only {checked} documented defaults found");
    assert!(
        wrong.is_empty(),
        "documented defaults that are not the code's:\n{}",
        wrong.join("\n")
    );
}

// ----- Links -----

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (duplicates numbered as GitHub does).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if fence || hashes == 0 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(&line[hashes..].replace('`', ""));
        let n = seen.entry(base.clone()).or_insert(0);
        out.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    out
}

/// Links outside code: `(target, line)`.
fn links(text: &str) -> Vec<(String, usize)> {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let code_span = regex::Regex::new(r"`[^`]*`").unwrap();
    let mut out = Vec::new();
    let mut fence = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        let line = code_span.replace_all(line, "");
        for c in link.captures_iter(&line) {
            out.push((c[1].to_string(), i + 1));
        }
    }
    out
}

#[test]
fn relative_links_point_at_files_and_headings_that_exist() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let dir = Path::new(&file).parent().expect("parent").to_path_buf();
        for (target, line) in links(&read(&file)) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let rel = if path.is_empty() {
                PathBuf::from(&file)
            } else {
                dir.join(path)
            };
            let full = repo().join(&rel);
            if !full.exists() {
                broken.push(format!(
                    "{file}:{line}: {target}: no file {}",
                    rel.display()
                ));
                continue;
            }
            if let Some(anchor) = anchor {
                let text = std::fs::read_to_string(&full).unwrap_or_default();
                if !anchors(&text).contains(anchor) {
                    broken.push(format!(
                        "{file}:{line}: {target}: no heading #{anchor} in {}",
                        rel.display()
                    ));
                }
            }
        }
    }
    assert!(checked >= 30, "only {checked} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn slugs_are_githubs() {
    assert_eq!(
        slug("The failover drill (kubectl smh drill)"),
        "the-failover-drill-kubectl-smh-drill"
    );
    assert_eq!(
        slug("Safety: what the drill changes and how it restores"),
        "safety-what-the-drill-changes-and-how-it-restores"
    );
    assert_eq!(
        slug("Pruning: by labels, never by name"),
        "pruning-by-labels-never-by-name"
    );
    assert_eq!(slug("failover list / delete"), "failover-list--delete");
    let a = anchors("# A\n## B\n```\n# not a heading\n```\n## B\n");
    assert_eq!(a, BTreeSet::from(["a".into(), "b".into(), "b-1".into()]));
}

// ----- Only the repository's own files -----

/// Names of documents that exist only outside this repository (the developers' own notes).
/// Nothing tracked may point at them: a fact the code or docs need is written here instead.
const OUTSIDE: &[&str] = &[
    r"smh-api\.md",
    r"\bDESIGN\b",
    r"\.\./shared",
    r"istio-failover\.md",
    r"lab-notes",
    r"(?i)\blab notes\b",
    r"\bstyle\.md",
    r"real-peers",
];

fn tracked_files() -> Vec<String> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo())
        .output()
        .expect("run git ls-files (the check needs a git checkout)");
    assert!(out.status.success(), "git ls-files failed");
    String::from_utf8(out.stdout)
        .expect("file names")
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let patterns: Vec<regex::Regex> = OUTSIDE
        .iter()
        .map(|p| regex::Regex::new(p).unwrap())
        .collect();
    let this_file = "tests/docs.rs";
    let mut hits = Vec::new();
    let mut files = tracked_files();
    // Files not yet committed count too (the docs a change adds).
    for f in markdown_files() {
        if !files.contains(&f) {
            files.push(f);
        }
    }
    for file in files {
        if file == this_file {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(repo().join(&file)) else {
            continue; // binary, or deleted in the work tree
        };
        for (i, line) in text.lines().enumerate() {
            if patterns.iter().any(|p| p.is_match(line)) {
                hits.push(format!("{file}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "lines that point at documents outside the repository (write the fact down here instead):\n{}",
        hits.join("\n")
    );
}

/// Every Markdown document of this repository that a tracked file names (`docs/drill.md`,
/// `README.md`) exists: a comment or help text that points at a moved section fails here.
#[test]
fn documents_named_in_tracked_files_exist() {
    let mention =
        regex::Regex::new(r"(?:^|[\s`(\[])((?:docs/[A-Za-z0-9_./-]+|README|CONTRIBUTING)\.md)\b")
            .unwrap();
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in tracked_files() {
        let Ok(text) = std::fs::read_to_string(repo().join(&file)) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            for c in mention.captures_iter(line) {
                checked += 1;
                if !repo().join(&c[1]).is_file() {
                    missing.push(format!("{file}:{}: {}", i + 1, &c[1]));
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} mentions found");
    assert!(
        missing.is_empty(),
        "documents named but not in the repository:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_outside_patterns_match_what_they_should() {
    let patterns: Vec<regex::Regex> = OUTSIDE
        .iter()
        .map(|p| regex::Regex::new(p).unwrap())
        .collect();
    let hit = |s: &str| patterns.iter().any(|p| p.is_match(s));
    assert!(hit("see smh-api.md §3") && hit("(DESIGN §2)") && hit("`../shared/istio-crds/`"));
    assert!(hit("istio-failover.md B3") && hit("The lab notes attributed") && hit("real-peers"));
    assert!(!hit("DESIGNATED") && !hit("a lifestyle.md") && !hit("kubectl-smh"));
}
