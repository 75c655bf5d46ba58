//! Relative links point at files and headings that exist.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::{markdown_files, read, repo};

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

/// A repository path written in code quotes (`` `tests/apply/` ``, `` `scripts/package` ``) in
/// the docs names a file or directory that exists: files move when the code is split.
#[test]
fn repository_paths_in_the_docs_exist() {
    let path = regex::Regex::new(
        r"`((?:tests|src|crates|scripts|benches|examples|docs|tools|packaging|completions)/[A-Za-z0-9_./-]*)`",
    )
    .unwrap();
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        for (n, line) in read(&file).lines().enumerate() {
            for m in path.captures_iter(line) {
                checked += 1;
                let p = &m[1];
                if !repo().join(p).exists() {
                    missing.push(format!("{file}:{}: {p}", n + 1));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} paths found: is the pattern right?"
    );
    assert!(
        missing.is_empty(),
        "paths in the docs that do not exist:\n{}",
        missing.join("\n")
    );
}
