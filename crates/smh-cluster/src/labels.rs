//! A Deployment's `LabelSelector` (`matchLabels` and `matchExpressions`) as the
//! `?labelSelector=` string the API server takes, so that the server selects the pods, as
//! kubectl does (`metav1.LabelSelectorAsSelector`): `k=v` for each label, `k in (a,b)`,
//! `k notin (a,b)`, `k` (Exists) and `!k` (DoesNotExist) for each expression, joined by
//! commas. No matching happens here.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Why a selector cannot be turned into a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// Neither `matchLabels` nor `matchExpressions`: it would select every pod.
    #[error("the selector is empty")]
    Empty,
    /// A `matchExpressions` entry that is not valid.
    #[error("matchExpressions[{index}] (key {key:?}): {why}")]
    BadExpression {
        /// Its position in `matchExpressions`.
        index: usize,
        /// Its key.
        key: String,
        /// What is wrong with it.
        why: String,
    },
}

/// The `labelSelector` query of `sel`, sorted as kubectl sorts it (by key).
pub fn selector_query(sel: &LabelSelector) -> Result<String, SelectorError> {
    let mut parts: Vec<(String, String)> = Vec::new();
    for (k, v) in sel.match_labels.as_ref().into_iter().flatten() {
        parts.push((k.clone(), format!("{k}={v}")));
    }
    for (index, e) in sel
        .match_expressions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let key = e.key.clone();
        let bad = |why: &str| SelectorError::BadExpression {
            index,
            key: key.clone(),
            why: why.to_string(),
        };
        let mut values = e.values.clone().unwrap_or_default();
        values.sort();
        let part = match e.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() {
                    return Err(bad(&format!(
                        "operator {} needs at least one value",
                        e.operator
                    )));
                }
                let op = if e.operator == "In" { "in" } else { "notin" };
                format!("{key} {op} ({})", values.join(","))
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    return Err(bad(&format!("operator {} takes no values", e.operator)));
                }
                if e.operator == "Exists" {
                    key.clone()
                } else {
                    format!("!{key}")
                }
            }
            other => {
                return Err(bad(&format!(
                    "unknown operator {other:?} (In, NotIn, Exists or DoesNotExist)"
                )));
            }
        };
        parts.push((key.clone(), part));
    }
    if parts.is_empty() {
        return Err(SelectorError::Empty);
    }
    parts.sort();
    Ok(parts
        .into_iter()
        .map(|(_, p)| p)
        .collect::<Vec<_>>()
        .join(","))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;
    use smh_sim::api::selector::LabelSelector as Parsed;

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> serde_json::Map<String, serde_json::Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect()
    }

    #[test]
    fn every_operator() {
        let sel = LabelSelector {
            match_labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
            match_expressions: Some(vec![
                expr("version", "In", &["v2", "v1"]),
                expr("track", "NotIn", &["canary"]),
                expr("tier", "Exists", &[]),
                expr("legacy", "DoesNotExist", &[]),
            ]),
        };
        let q = selector_query(&sel).unwrap();
        assert_eq!(
            q,
            "app=web,!legacy,tier,track notin (canary),version in (v1,v2)"
        );
        // The API server's syntax, as the simulated server parses and matches it.
        let parsed = Parsed::parse(&q).unwrap();
        let yes = labels(&[("app", "web"), ("version", "v1"), ("tier", "front")]);
        assert!(parsed.matches_labels(Some(&yes)));
        for no in [
            labels(&[("app", "web"), ("version", "v3"), ("tier", "front")]),
            labels(&[("app", "web"), ("version", "v1")]),
            labels(&[
                ("app", "web"),
                ("version", "v1"),
                ("tier", "f"),
                ("legacy", "x"),
            ]),
            labels(&[
                ("app", "web"),
                ("version", "v1"),
                ("tier", "f"),
                ("track", "canary"),
            ]),
            labels(&[("app", "api"), ("version", "v1"), ("tier", "f")]),
        ] {
            assert!(!parsed.matches_labels(Some(&no)), "{no:?}");
        }
    }

    #[test]
    fn expressions_alone_select() {
        let sel = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![expr("app", "In", &["productpage"])]),
        };
        assert_eq!(selector_query(&sel).unwrap(), "app in (productpage)");
    }

    #[test]
    fn bad_selectors_are_named() {
        assert_eq!(
            selector_query(&LabelSelector::default()),
            Err(SelectorError::Empty)
        );
        let sel = |e| LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![e]),
        };
        assert_eq!(
            selector_query(&sel(expr("app", "In", &[])))
                .unwrap_err()
                .to_string(),
            "matchExpressions[0] (key \"app\"): operator In needs at least one value"
        );
        assert_eq!(
            selector_query(&sel(expr("app", "Exists", &["x"])))
                .unwrap_err()
                .to_string(),
            "matchExpressions[0] (key \"app\"): operator Exists takes no values"
        );
        assert!(
            selector_query(&sel(expr("app", "Gt", &["1"])))
                .unwrap_err()
                .to_string()
                .contains("unknown operator \"Gt\"")
        );
    }
}
