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
//! - No source file is longer than a reader can hold (800 lines; see `tests/docs/layout.rs`).

use std::path::PathBuf;

mod docs {
    mod examples;
    mod layout;
    mod links;
    pub(crate) mod outside;
    pub(crate) mod reference;
    mod tables;
}

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// The Markdown files: README.md, CONTRIBUTING.md, `docs/*.md` and the generated
/// `docs/reference/*.md`, relative to the repository root.
pub(crate) fn markdown_files() -> Vec<String> {
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
