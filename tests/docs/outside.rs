//! Nothing tracked points at documents outside the repository, and the documents of the
//! repository that are named exist.

use crate::{markdown_files, repo};

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

pub(crate) fn tracked_files() -> Vec<String> {
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
    let this_file = "tests/docs/outside.rs";
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

/// A section named after a document (`docs/translation.md, "Topology file"`, as help texts
/// and comments point at one) is a heading of that document.
#[test]
fn sections_named_in_tracked_files_exist() {
    let mention = regex::Regex::new(
        r#"\b(README|CONTRIBUTING|docs/[A-Za-z0-9_/-]+)(?:\.md)?,(?: section)? "([^"]+)""#,
    )
    .unwrap();
    let heading = regex::Regex::new(r"(?m)^#+ (.*)$").unwrap();
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in tracked_files() {
        let Ok(text) = std::fs::read_to_string(repo().join(&file)) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            for c in mention.captures_iter(line) {
                checked += 1;
                let doc = format!("{}.md", &c[1]);
                let headings: Vec<String> = std::fs::read_to_string(repo().join(&doc))
                    .map(|t| {
                        heading
                            .captures_iter(&t)
                            .map(|h| h[1].replace('`', ""))
                            .collect()
                    })
                    .unwrap_or_default();
                // The mention may stop at a line break: it must begin a heading.
                if !headings.iter().any(|h| h.starts_with(&c[2])) {
                    missing.push(format!("{file}:{}: {doc}, \"{}\"", i + 1, &c[2]));
                }
            }
        }
    }
    assert!(checked >= 2, "only {checked} section mentions found");
    assert!(
        missing.is_empty(),
        "sections named but not in their document:\n{}",
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
