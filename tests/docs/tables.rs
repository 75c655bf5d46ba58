//! Tables and figures in the docs that the code also holds: the honoured global flags, the
//! README's commands and exit codes, flag defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use clap::CommandFactory;
use kubectl_smh::cli::{Cli, Exit};

use super::reference::{all_commands, reference_command};
use crate::{markdown_files, read, repo};

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
