//! The one YAML writer, with serde-saphyr: one document per value, `---` between documents,
//! keys in the order the value holds them (`serde_json::Value` keeps them sorted). Used by the
//! model (`failover create`'s manifests) and the binary's rendering; reading YAML is
//! [`crate::model::yaml_reader`].

use serde::Serialize;
use serde_json::Value;

/// Serialization failed (only possible for values that YAML cannot represent).
#[derive(Debug, thiserror::Error)]
#[error("cannot render YAML: {0}")]
pub struct YamlWriteError(#[from] serde_saphyr::SerializeError);

fn options() -> serde_saphyr::SerializerOptions {
    let mut o = serde_saphyr::SerializerOptions::default();
    // kubectl prints long strings on one line; folded `>` blocks would make the output
    // harder to grep and diff.
    o.prefer_block_scalars = false;
    o
}

/// One YAML document (ends with a newline).
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, YamlWriteError> {
    Ok(serde_saphyr::to_string_with_options(value, options())?)
}

/// A YAML stream: the documents separated by `---` lines, as `kubectl get -o yaml` prints
/// several objects and `kubectl apply -f` reads them. Empty input gives an empty string.
pub fn to_yaml_stream(values: &[Value]) -> Result<String, YamlWriteError> {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(v)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stream_separates_documents_and_round_trips() {
        let docs = vec![
            json!({"kind": "A", "b": [1, 2], "a": {"x": "outbound|9080||h.global"}}),
            json!({"kind": "B", "empty": {}, "list": []}),
        ];
        let s = to_yaml_stream(&docs).unwrap();
        assert!(s.contains("\n---\n"), "{s}");
        // Keys come out sorted (serde_json's map is a BTreeMap).
        assert!(s.find("a:").unwrap() < s.find("b:").unwrap(), "{s}");
        let back: Vec<Value> = serde_saphyr::from_str_multiple(&s).unwrap();
        assert_eq!(back, docs);
        assert_eq!(to_yaml_stream(&[]).unwrap(), "");
    }

    #[test]
    fn long_strings_stay_on_one_line_and_ambiguous_scalars_are_quoted() {
        let long = "x".repeat(200);
        let v = json!({"long": long, "yes": "yes", "num": "9080", "at": "@type"});
        let s = to_yaml(&v).unwrap();
        assert!(s.contains(&format!("long: {long}\n")), "{s}");
        let back: Value = serde_saphyr::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
