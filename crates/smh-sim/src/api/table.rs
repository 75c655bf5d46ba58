//! Server-side printing: `meta.k8s.io/v1` `Table` answers for clients that ask for them
//! (`kubectl get` does), with the columns the real server prints for the built-in kinds and a
//! CRD's `additionalPrinterColumns` for custom resources.

use serde_json::{Value, json};

use self::rows::{age_col, builtin_row, name_col, s};
use super::registry::{Column, ResourceInfo};

mod rows;

/// What each row carries in `object` (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub(crate) fn parse(s: Option<&str>) -> Self {
        match s {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// Age of an RFC 3339 timestamp, or `<unknown>`.
pub(crate) fn age(ts: Option<&str>) -> String {
    let Some(ts) = ts else {
        return "<unknown>".into();
    };
    match ts.parse::<jiff::Timestamp>() {
        Ok(t) => smh_core::model::duration::age(jiff::Timestamp::now(), t),
        Err(_) => "<unknown>".into(),
    }
}

/// Evaluate a printer-column JSONPath (`.a.b`, `.a[0].b`, `.a[*].b`).
pub(crate) fn eval_json_path<'a>(o: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur: Vec<&Value> = vec![o];
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (field, index) = match seg.split_once('[') {
            Some((f, rest)) => (f, Some(rest.trim_end_matches(']'))),
            None => (seg, None),
        };
        let mut next = Vec::new();
        for v in cur {
            let v = if field.is_empty() {
                Some(v)
            } else {
                v.get(field)
            };
            let Some(v) = v else { continue };
            match index {
                None => next.push(v),
                Some("*") => next.extend(v.as_array().into_iter().flatten()),
                Some(n) => {
                    if let (Some(a), Ok(n)) = (v.as_array(), n.parse::<usize>()) {
                        next.extend(a.get(n));
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

fn crd_cell(o: &Value, c: &Column) -> Value {
    let vals = eval_json_path(o, &c.json_path);
    let v = match vals.as_slice() {
        [] => return Value::Null,
        [one] => (*one).clone(),
        many => Value::Array(many.iter().map(|v| (*v).clone()).collect()),
    };
    match (c.kind.as_str(), &v) {
        ("date", Value::String(ts)) => json!(age(Some(ts))),
        ("integer", Value::Number(_))
        | ("number", Value::Number(_))
        | ("boolean", Value::Bool(_)) => v,
        (_, Value::String(_)) => v,
        (_, Value::Null) => Value::Null,
        (_, other) => json!(other.to_string()),
    }
}

fn row_object(o: &Value, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Object => Some(o.clone()),
        IncludeObject::Metadata => Some(partial_metadata(o)),
    }
}

/// `PartialObjectMetadata` of an object.
pub(crate) fn partial_metadata(o: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn column_json(c: &Column) -> Value {
    let kind = if c.kind == "date" && c.json_path.is_empty() {
        "string"
    } else {
        c.kind.as_str()
    };
    json!({
        "name": c.name,
        "type": if kind == "date" { "date" } else { kind },
        "format": c.format,
        "description": c.description,
        "priority": c.priority,
    })
}

/// A `Table` of objects (already converted to the requested version).
pub(crate) fn table(
    res: &ResourceInfo,
    objects: &[Value],
    resource_version: &str,
    include: IncludeObject,
) -> Value {
    let (columns, rows): (Vec<Column>, Vec<Value>) = if res.builtin {
        let probe = objects.first().cloned().unwrap_or_else(|| json!({}));
        let (cols, _) = builtin_row(res, &probe);
        let rows = objects
            .iter()
            .map(|o| {
                let (_, cells) = builtin_row(res, o);
                let mut r = json!({"cells": cells});
                if let Some(obj) = row_object(o, include) {
                    r["object"] = obj;
                }
                r
            })
            .collect();
        (cols, rows)
    } else {
        let mut cols = vec![name_col()];
        if res.columns.is_empty() {
            cols.push(Column {
                json_path: ".metadata.creationTimestamp".into(),
                kind: "date".into(),
                ..age_col()
            });
        } else {
            cols.extend(res.columns.iter().cloned());
        }
        let rows = objects
            .iter()
            .map(|o| {
                let mut cells = vec![json!(s(o, "/metadata/name").unwrap_or_default())];
                cells.extend(cols[1..].iter().map(|c| crd_cell(o, c)));
                let mut r = json!({"cells": cells});
                if let Some(obj) = row_object(o, include) {
                    r["object"] = obj;
                }
                r
            })
            .collect();
        (cols, rows)
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns.iter().map(column_json).collect::<Vec<_>>(),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::registry::Registry;

    #[test]
    fn deployment_and_crd_tables() {
        let reg = Registry::with_builtins();
        let d = reg.lookup("apps", "v1", "deployments").unwrap();
        let obj = json!({"metadata": {"name": "reviews-v1", "creationTimestamp": "2020-01-01T00:00:00Z"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "reviews"}}, "template": {"spec": {"containers": [{"name": "reviews", "image": "r:1"}]}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}});
        let t = table(&d, &[obj], "7", IncludeObject::Metadata);
        assert_eq!(t["rows"][0]["cells"][0], "reviews-v1");
        assert_eq!(t["rows"][0]["cells"][1], "1/2");
        assert_eq!(t["rows"][0]["cells"][7], "app=reviews");
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["columnDefinitions"][5]["priority"], 1);

        reg.apply_crd(&smh_core::model::crd::smh_crds()[0]).unwrap();
        let fs = reg
            .lookup("networking.smh.solo.io", "v1alpha2", "failoverservices")
            .unwrap();
        let obj = json!({"metadata": {"name": "f", "creationTimestamp": jiff::Timestamp::now().to_string()}, "spec": {"hostname": "h.global", "port": {"number": 9080}}, "status": {"state": "ACCEPTED"}});
        let t = table(&fs, &[obj], "1", IncludeObject::None);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["f", "h.global", 9080, "ACCEPTED", "0s"])
        );
        assert!(t["rows"][0].get("object").is_none());
    }

    #[test]
    fn json_paths() {
        let o = json!({"spec": {"hosts": ["a", "b"], "http": [{"route": [{"weight": 1}]}]}});
        assert_eq!(eval_json_path(&o, ".spec.hosts"), vec![&json!(["a", "b"])]);
        assert_eq!(eval_json_path(&o, ".spec.hosts[1]"), vec![&json!("b")]);
        assert_eq!(
            eval_json_path(&o, ".spec.http[*].route[0].weight"),
            vec![&json!(1)]
        );
        assert!(eval_json_path(&o, ".spec.nope").is_empty());
    }
}
