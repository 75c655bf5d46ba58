//! Unit tests of reading YAML: documents, limits, scalars, positions and paths.

use super::*;

fn parse_one(text: &str) -> Result<Option<Node>, YamlParseError> {
    let docs = split_documents(text);
    assert_eq!(docs.len(), 1, "{docs:?}");
    parse_document(&docs[0])
}

#[test]
fn paths_round_trip() {
    for p in [
        "clusters[1].services[0].ports",
        "spec.port.number",
        "items[3]",
        "a[0][1].b",
    ] {
        assert_eq!(path_to_string(&parse_path(p)), p);
    }
}

#[test]
fn splits_documents_at_markers() {
    let text = "a: 1\n---\nb: 2\n--- \n# only a comment\n---\n...\nc: 3\n";
    let docs = split_documents(text);
    let starts: Vec<usize> = docs.iter().map(|d| d.start_line).collect();
    assert_eq!(starts, vec![1, 2, 4, 6, 8]);
    assert_eq!(docs[0].text, "a: 1\n");
    assert!(docs[2].is_blank());
    assert_eq!(docs[4].text, "c: 3\n");
}

#[test]
fn leading_comment_chunk_is_not_a_document() {
    let docs = split_documents("# header\n\n---\na: 1\n");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].start_line, 3);
}

#[test]
fn block_scalar_is_not_split_by_indented_dashes() {
    let docs = split_documents("a: |\n  ---\n  x\n");
    assert_eq!(docs.len(), 1);
    let node = parse_document(&docs[0]).unwrap().unwrap();
    assert_eq!(node.get("a").unwrap().as_str(), Some("---\nx\n"));
}

#[test]
fn positions_are_relative_to_the_file() {
    let text = "a: 1\n---\nkind: X\nspec:\n  port:\n    nmber: 9080\n";
    let docs = split_documents(text);
    let node = parse_document(&docs[1]).unwrap().unwrap();
    let path = [
        PathSeg::Key("spec".into()),
        PathSeg::Key("port".into()),
        PathSeg::Key("nmber".into()),
    ];
    assert_eq!(node.locate(&path, true), (6, 5));
    assert_eq!(node.locate(&path, false), (6, 12));
}

#[test]
fn syntax_error_has_line_and_column() {
    let text = "---\na: 1\n---\nkind: X\nspec: [1, 2\n";
    let docs = split_documents(text);
    assert!(parse_document(&docs[0]).is_ok());
    let err = parse_document(&docs[1]).unwrap_err();
    let (line, _) = err.position.expect("position");
    assert!(line >= 5, "{err:?}");
}

#[test]
fn scalars_and_nulls() {
    let node = parse_one("a: 1\nb: -2\nc: 1.5\nd: true\ne: \"9080\"\nf:\ng: ~\n")
        .unwrap()
        .unwrap();
    let json = node.to_json();
    assert_eq!(
        json,
        serde_json::json!({"a": 1, "b": -2, "c": 1.5, "d": true, "e": "9080", "f": null, "g": null})
    );
}

#[test]
fn scalars_resolve_as_kubectl_reads_them() {
    let node = parse_one(
            "a: yes\nb: off\nc: 0x1F\nd: 010\ne: 1_000\nf: -7\ng: .5\nh: 1e3\ni: !!str 12\nj: !!int \"12\"\nk: '0x1F'\nl: 18446744073709551615\nm: 1.2.3\nnn: v1\n",
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        node.to_json(),
        serde_json::json!({
            "a": true, "b": false, "c": 31, "d": 8, "e": 1000, "f": -7, "g": 0.5, "h": 1000.0,
            "i": "12", "j": 12, "k": "0x1F", "l": 18446744073709551615_u64, "m": "1.2.3", "nn": "v1"
        })
    );
    // As sigs.k8s.io/yaml does, a key that YAML 1.1 reads as a boolean becomes "true"/"false".
    let keys = parse_one("y: 1\nno: 2\n").unwrap().unwrap().to_json();
    assert_eq!(keys, serde_json::json!({"true": 1, "false": 2}));
    assert!(parse_one("a: .inf\n").is_err());
    assert!(parse_one("a: !custom x\n").is_err());
    assert!(parse_one("a: !!int abc\n").is_err());
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let node = parse_one(
            "base: &b {x: 1, z: 2}\nuse:\n  <<: *b\n  z: 3\nlist: [*b, *b]\nname: &n hello\nagain: *n\n",
        )
        .unwrap()
        .unwrap();
    let json = node.to_json();
    assert_eq!(json["use"], serde_json::json!({"x": 1, "z": 3}));
    assert_eq!(
        json["list"],
        serde_json::json!([{"x": 1, "z": 2}, {"x": 1, "z": 2}])
    );
    assert_eq!(json["again"], "hello");
    // The alias is located where it is used.
    assert_eq!(node.get("again").map(|n| (n.line, n.col)), Some((7, 8)));
}

#[test]
fn depth_limit_boundary() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse_one(&ok).is_ok());
    let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    assert_eq!(
        parse_one(&too_deep).unwrap_err().kind,
        YamlParseErrorKind::Limit
    );
}

#[test]
fn typed_decoding_from_the_tree_matches_json() {
    use serde::Deserialize;
    let text = crate::model::parse::tests_support::GUIDE_FS;
    let docs = split_documents(text);
    let node = parse_document(&docs[0]).unwrap().unwrap();
    let direct = crate::model::FailoverService::deserialize(&node).unwrap();
    let via_json: crate::model::FailoverService = serde_json::from_value(node.to_json()).unwrap();
    assert_eq!(direct, via_json);
    let bad =
        parse_document(&split_documents("apiVersion: x\nkind: y\nspec: {port: {number: -1}}\n")[0])
            .unwrap()
            .unwrap();
    assert!(crate::model::FailoverService::deserialize(&bad).is_err());
}

#[test]
fn empty_documents_are_none() {
    assert_eq!(parse_one("---\n").unwrap(), None);
    assert_eq!(parse_one("# nothing\n---\n# here\n").unwrap(), None);
    assert_eq!(parse_one("~\n").unwrap(), None);
}

#[test]
fn deep_nesting_is_rejected_not_overflowed() {
    let text = "[".repeat(100_000);
    let err = parse_one(&text).unwrap_err();
    assert_eq!(err.kind, YamlParseErrorKind::Limit);
    assert_eq!(
        err.message,
        "nesting is deeper than 64 levels; refusing to read it"
    );
    let block: String = (0..200)
        .map(|i| format!("{}k:\n", "  ".repeat(i)))
        .collect();
    assert!(parse_one(&block).is_err());
}

#[test]
fn alias_bomb_is_rejected() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
    }
    let err = parse_one(&text).unwrap_err();
    assert_eq!(err.kind, YamlParseErrorKind::Limit);
    assert!(
        err.message
            .starts_with("document has more than 250000 values")
    );
}

#[test]
fn complex_keys_are_rejected() {
    assert_eq!(
        parse_one("? [a, b]\n: c\n").unwrap_err().kind,
        YamlParseErrorKind::Content
    );
    let node = parse_one("1: a\ntrue: b\n").unwrap().unwrap();
    assert!(node.get("1").is_some() && node.get("true").is_some());
}

#[test]
fn duplicate_keys_are_rejected() {
    assert!(parse_one("a: 1\na: 2\n").is_err());
}

#[test]
fn binary_and_nul_are_rejected() {
    assert!(decode_text(&[0x66, 0xff, 0xfe, 0x00]).is_err());
    let err = decode_text(b"a: 1\nb: \0\n").unwrap_err();
    assert_eq!(err.position, Some((2, 4)));
    assert_eq!(decode_text(b"\xEF\xBB\xBFa: 1\n").unwrap(), "a: 1\n");
}
