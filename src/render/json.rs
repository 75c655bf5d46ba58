//! JSON rendering: a Kubernetes `v1` `List`, as `kubectl get -o json` prints several objects.

use serde_json::{Value, json};

/// `{"apiVersion": "v1", "kind": "List", "items": [...]}`.
pub(crate) fn list(items: &[Value]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": items,
    })
}

/// The `List` pretty-printed with two-space indentation and a trailing newline.
pub fn to_list(items: &[Value]) -> String {
    to_pretty(&list(items))
}

/// Pretty JSON with a trailing newline.
pub(crate) fn to_pretty(value: &Value) -> String {
    // Serializing a `Value` to a String cannot fail.
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_shape() {
        let s = to_list(&[json!({"kind": "X"})]);
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["kind"], "List");
        assert_eq!(v["items"][0]["kind"], "X");
        assert!(s.ends_with("}\n"));
        assert_eq!(list(&[])["items"], json!([]));
    }
}
