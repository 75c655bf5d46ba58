//! Every `kubectl smh ...` example in the docs parses with the real command line.

use clap::CommandFactory;
use kubectl_smh::cli::{Cli, Parsed, parse};

use crate::{markdown_files, read};

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
