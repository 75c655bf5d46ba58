//! Every generated Istio object must validate against Istio's CRD OpenAPI v3 schema for its
//! kind and version (the CRDs of [`super::istio_crds`]), the way the Kubernetes API server
//! validates a custom resource.
//!
//! **Why our own checker, not the `jsonschema` crate.** CRD schemas are Kubernetes
//! *structural* schemas, not plain JSON Schema: unknown fields are pruned (or, with
//! kubectl's strict field validation, rejected) wherever `properties` are given unless
//! `x-kubernetes-preserve-unknown-fields` says otherwise, whereas JSON Schema allows them;
//! `nullable`, `x-kubernetes-int-or-string` and `x-kubernetes-list-type` are Kubernetes
//! extensions; `oneOf`/`anyOf`/`not` only carry value validations; and Istio's schemas put
//! much of their validation in CEL rules (`x-kubernetes-validations`) that no JSON Schema
//! validator evaluates. Using `jsonschema` would mean rewriting every schema
//! (`additionalProperties: false` everywhere, the extensions mapped) and still leave CEL
//! out, and it would bring a large dependency tree. The keyword set is small, so the
//! checker below implements it directly: type, properties, required, enum,
//! additionalProperties, items, nullable, x-kubernetes-preserve-unknown-fields,
//! x-kubernetes-int-or-string, x-kubernetes-list-type, oneOf/anyOf/allOf/not, format,
//! minimum/maximum, min/maxLength, min/maxItems, min/maxProperties, pattern, and every CEL
//! rule that occurs in the four kinds' schemas (each implemented by its exact text; an
//! unknown rule is an error, so a schema update cannot silently weaken the check).

use std::collections::BTreeSet;

use serde_json::{Value, json};
use smh_core::model::duration::parse_duration;

use super::istio_crds::{CrdSchemas, schemas_or_skip};
use super::support::translate_ok;

impl CrdSchemas {
    /// Validate an object as the API server would for its `apiVersion`; errors as
    /// `path: message`.
    pub(super) fn validate(&self, obj: &Value) -> Vec<String> {
        let mut errs = Vec::new();
        let kind = obj["kind"].as_str().unwrap_or_default();
        let api_version = obj["apiVersion"].as_str().unwrap_or_default();
        let Some((group, version)) = api_version.split_once('/') else {
            return vec![format!("apiVersion {api_version:?} has no group")];
        };
        if self.groups.get(kind).map(String::as_str) != Some(group) {
            return vec![format!("no CRD for kind {kind:?} in group {group:?}")];
        }
        let Some(schema) = self.schemas.get(&(kind.to_string(), version.to_string())) else {
            return vec![format!("{kind} is not served as {version}")];
        };
        check_metadata(&obj["metadata"], &mut errs);
        if let Some(map) = obj.as_object() {
            for k in map.keys() {
                if !["apiVersion", "kind", "metadata"].contains(&k.as_str())
                    && schema["properties"].get(k).is_none()
                {
                    errs.push(format!("{k}: unknown field"));
                }
            }
            for (k, v) in map {
                if let Some(s) = schema["properties"].get(k) {
                    check(s, v, k, true, &mut errs);
                }
            }
        }
        errs
    }
}

fn dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(dns1123_label)
}

/// Label keys: optional DNS subdomain prefix + `/` + a name of ≤63 alphanumerics, `-_.`.
fn label_key(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    prefix.is_none_or(dns1123_subdomain) && label_value(name) && !name.is_empty()
}

fn label_value(v: &str) -> bool {
    v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && v.bytes().next().is_none_or(|b| b.is_ascii_alphanumeric())
        && v.bytes().last().is_none_or(|b| b.is_ascii_alphanumeric())
}

fn check_metadata(meta: &Value, errs: &mut Vec<String>) {
    match meta["name"].as_str() {
        Some(n) if dns1123_subdomain(n) => {}
        n => errs.push(format!("metadata.name: {n:?} is not a DNS-1123 subdomain")),
    }
    match meta["namespace"].as_str() {
        Some(n) if dns1123_label(n) => {}
        n => errs.push(format!("metadata.namespace: {n:?} is not a DNS-1123 label")),
    }
    for (k, v) in meta["labels"].as_object().into_iter().flatten() {
        if !label_key(k) || !v.as_str().is_some_and(label_value) {
            errs.push(format!("metadata.labels: invalid label {k}={v}"));
        }
    }
    for k in meta["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        if !label_key(k) {
            errs.push(format!("metadata.annotations: invalid key {k}"));
        }
    }
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        _ => false,
    }
}

fn check(schema: &Value, v: &Value, path: &str, structural: bool, errs: &mut Vec<String>) {
    if v.is_null() {
        if schema["nullable"] != true && schema.get("type").is_some() {
            errs.push(format!("{path}: must not be null"));
        }
        return;
    }
    if schema["x-kubernetes-int-or-string"] == true {
        if !(v.is_string() || v.is_i64() || v.is_u64()) {
            errs.push(format!("{path}: must be an integer or a string"));
            return;
        }
    } else if let Some(ty) = schema["type"].as_str()
        && !type_ok(ty, v)
    {
        errs.push(format!("{path}: must be of type {ty}, got {v}"));
        return;
    }
    check_value(schema, v, path, errs);
    if let Some(items) = v.as_array() {
        check_array(schema, items, path, structural, errs);
    }
    if let Some(map) = v.as_object() {
        check_object(schema, map, path, structural, errs);
    }
    check_combinators_and_rules(schema, v, path, errs);
}

/// enum, format, minimum/maximum, and for strings min/maxLength and pattern.
fn check_value(schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(v)
    {
        errs.push(format!(
            "{path}: {v} is not one of {}",
            Value::from(allowed.clone())
        ));
    }
    if let Some(f) = schema["format"].as_str() {
        check_format(f, v, path, errs);
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = schema["minimum"].as_f64()
            && n < min
        {
            errs.push(format!("{path}: {n} is less than the minimum {min}"));
        }
        if let Some(max) = schema["maximum"].as_f64()
            && n > max
        {
            errs.push(format!("{path}: {n} is more than the maximum {max}"));
        }
    }
    if let Some(s) = v.as_str() {
        let len = s.chars().count() as u64;
        if schema["maxLength"].as_u64().is_some_and(|m| len > m) {
            errs.push(format!(
                "{path}: longer than maxLength {}",
                schema["maxLength"]
            ));
        }
        if schema["minLength"].as_u64().is_some_and(|m| len < m) {
            errs.push(format!(
                "{path}: shorter than minLength {}",
                schema["minLength"]
            ));
        }
        if let Some(p) = schema["pattern"].as_str() {
            let re = regex::Regex::new(p).unwrap_or_else(|e| panic!("bad pattern {p}: {e}"));
            if !re.is_match(s) {
                errs.push(format!("{path}: {s:?} does not match {p}"));
            }
        }
    }
}

/// min/maxItems, x-kubernetes-list-type (set, map) and every item against `items`.
fn check_array(
    schema: &Value,
    items: &[Value],
    path: &str,
    structural: bool,
    errs: &mut Vec<String>,
) {
    if schema["maxItems"]
        .as_u64()
        .is_some_and(|m| items.len() as u64 > m)
    {
        errs.push(format!("{path}: more than maxItems {}", schema["maxItems"]));
    }
    if schema["minItems"]
        .as_u64()
        .is_some_and(|m| (items.len() as u64) < m)
    {
        errs.push(format!(
            "{path}: fewer than minItems {}",
            schema["minItems"]
        ));
    }
    match schema["x-kubernetes-list-type"].as_str() {
        Some("set") => {
            let set: BTreeSet<String> = items.iter().map(Value::to_string).collect();
            if set.len() != items.len() {
                errs.push(format!("{path}: duplicate items in a set"));
            }
        }
        Some("map") => {
            let keys: Vec<&str> = schema["x-kubernetes-list-map-keys"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let set: BTreeSet<String> = items
                .iter()
                .map(|i| {
                    keys.iter()
                        .map(|k| i[*k].to_string())
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect();
            if set.len() != items.len() {
                errs.push(format!("{path}: duplicate map keys {keys:?}"));
            }
        }
        _ => {}
    }
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{path}[{i}]"), structural, errs);
        }
    }
}

/// required, min/maxProperties, and every property against its schema (or
/// additionalProperties); with `structural`, an unknown field is an error unless the schema
/// preserves unknown fields.
fn check_object(
    schema: &Value,
    map: &serde_json::Map<String, Value>,
    path: &str,
    structural: bool,
    errs: &mut Vec<String>,
) {
    for r in schema["required"].as_array().into_iter().flatten() {
        let k = r.as_str().unwrap_or_default();
        if !map.contains_key(k) {
            errs.push(format!("{path}.{k}: Required value"));
        }
    }
    if schema["maxProperties"]
        .as_u64()
        .is_some_and(|m| map.len() as u64 > m)
    {
        errs.push(format!(
            "{path}: more than maxProperties {}",
            schema["maxProperties"]
        ));
    }
    if schema["minProperties"]
        .as_u64()
        .is_some_and(|m| (map.len() as u64) < m)
    {
        errs.push(format!(
            "{path}: fewer than minProperties {}",
            schema["minProperties"]
        ));
    }
    let props = schema["properties"].as_object();
    let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
    for (k, child) in map {
        let child_path = format!("{path}.{k}");
        if let Some(s) = props.and_then(|p| p.get(k)) {
            check(s, child, &child_path, structural, errs);
        } else if schema["additionalProperties"].is_object() {
            check(
                &schema["additionalProperties"],
                child,
                &child_path,
                structural,
                errs,
            );
        } else if structural && !preserve && schema["additionalProperties"] != true {
            errs.push(format!("{child_path}: unknown field"));
        }
    }
}

/// oneOf/anyOf/allOf/not (value validations, without the structural rule) and the CEL rules.
fn check_combinators_and_rules(schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    // Value validations: evaluated without the structural (unknown-field) rule.
    let matches = |s: &Value| {
        let mut e = Vec::new();
        check(s, v, path, false, &mut e);
        e.is_empty()
    };
    if let Some(branches) = schema["oneOf"].as_array() {
        let n = branches.iter().filter(|b| matches(b)).count();
        if n != 1 {
            errs.push(format!(
                "{path}: must match exactly one oneOf branch, matches {n}"
            ));
        }
    }
    if let Some(branches) = schema["anyOf"].as_array()
        && !branches.iter().any(matches)
    {
        errs.push(format!("{path}: must match at least one anyOf branch"));
    }
    for b in schema["allOf"].as_array().into_iter().flatten() {
        check(b, v, path, false, errs);
    }
    if let Some(n) = schema.get("not")
        && matches(n)
    {
        errs.push(format!("{path}: must not match {n}"));
    }
    for rule in schema["x-kubernetes-validations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let text = rule["rule"].as_str().unwrap_or_default();
        match cel(text, v) {
            Ok(true) => {}
            Ok(false) => errs.push(format!(
                "{path}: {} (rule {text})",
                rule["message"].as_str().unwrap_or("CEL rule failed")
            )),
            Err(e) => errs.push(format!("{path}: {e}")),
        }
    }
}

fn check_format(f: &str, v: &Value, path: &str, errs: &mut Vec<String>) {
    let ok = match f {
        "int32" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        "int64" => v.is_i64(),
        "uint32" => v.as_u64().is_some_and(|n| u32::try_from(n).is_ok()),
        "double" | "float" => v.is_number(),
        "byte" => v.as_str().is_some_and(|s| {
            s.len() % 4 == 0
                && s.trim_end_matches('=')
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        }),
        "date-time" => v
            .as_str()
            .is_some_and(|s| s.len() >= 20 && s.as_bytes()[10] == b'T'),
        _ => true,
    };
    if !ok {
        errs.push(format!("{path}: {v} is not a valid {f}"));
    }
}

fn has(v: &Value, k: &str) -> bool {
    v.get(k).is_some_and(|x| !x.is_null())
}

fn s<'a>(v: &'a Value, k: &str, default: &'a str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or(default)
}

/// The CEL rules of DestinationRule, VirtualService, ServiceEntry and EnvoyFilter, each
/// implemented by its exact text.
fn cel(rule: &str, v: &Value) -> Result<bool, String> {
    let str_self = || v.as_str().unwrap_or_default();
    let keys = || -> Vec<&String> {
        v.as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default()
    };
    Ok(match rule {
        "duration(self) >= duration('1ms')" => match parse_duration(str_self()) {
            Ok(d) => d >= std::time::Duration::from_millis(1),
            Err(_) => false,
        },
        "!self.contains(\"*\")" => !str_self().contains('*'),
        "self != \"*\"" => str_self() != "*",
        "self.size() == 0" => str_self().is_empty(),
        "0 < self && self <= 65535" => v.as_i64().is_some_and(|n| 0 < n && n <= 65535),
        "self.all(key, !key.contains(\"*\"))" => keys().iter().all(|k| !k.contains('*')),
        "self.all(key, key.size() != 0)" => keys().iter().all(|k| !k.is_empty()),
        "self.all(key, size(key) < 63 && key.matches(\"^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$\"))" =>
        {
            let re = regex::Regex::new("^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$").unwrap();
            keys().iter().all(|k| k.len() < 63 && re.is_match(k))
        }
        "has(self.context) ? ((self.context == \"WAYPOINT\") ? has(self.waypoint) : !has(self.waypoint)) : !has(self.waypoint)" => {
            if has(v, "context") {
                (s(v, "context", "") == "WAYPOINT") == has(v, "waypoint")
            } else {
                !has(v, "waypoint")
            }
        }
        "(has(self.workloadSelector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1" => {
            !(has(v, "workloadSelector") && has(v, "targetRefs"))
        }
        "(has(self.workloadSelector) ? 1 : 0) + (has(self.endpoints) ? 1 : 0) <= 1" => {
            !(has(v, "workloadSelector") && has(v, "endpoints"))
        }
        "self.startsWith(\"unix://\") ? (self.substring(7, 8) == \"/\" || self.substring(7, 8) == \"@\") : true" =>
        {
            let a = str_self();
            !a.starts_with("unix://") || a[7..].starts_with('/') || a[7..].starts_with('@')
        }
        "self.startsWith(\"unix://\") ? !self.endsWith(\"/\") : true" => {
            let a = str_self();
            !a.starts_with("unix://") || !a.ends_with('/')
        }
        "has(self.address) || has(self.network)" => has(v, "address") || has(v, "network"),
        "(has(self.address) ? self.address : \"\").startsWith(\"unix://\") ? !has(self.ports) : true" => {
            !s(v, "address", "").starts_with("unix://") || !has(v, "ports")
        }
        "self.all(l1, self.exists_one(l2, l1.number == l2.number))" => {
            let items = v.as_array().cloned().unwrap_or_default();
            items
                .iter()
                .all(|a| items.iter().filter(|b| a["number"] == b["number"]).count() == 1)
        }
        "!((has(self.addresses) ? self.addresses : []).exists(k, k.contains(\"/\")) && !((has(self.resolution) ? self.resolution : \"NONE\") in [\"STATIC\", \"NONE\"]))" =>
        {
            let cidr = v["addresses"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a.as_str().is_some_and(|a| a.contains('/')));
            !cidr || ["STATIC", "NONE"].contains(&s(v, "resolution", "NONE"))
        }
        "((has(self.resolution) ? self.resolution : \"NONE\") == \"NONE\") ? !has(self.endpoints) : true" => {
            s(v, "resolution", "NONE") != "NONE" || !has(v, "endpoints")
        }
        "((has(self.resolution) ? self.resolution : \"\") == \"DNS_ROUND_ROBIN\") ? ((has(self.endpoints) ? self.endpoints : []).size() <= 1) : true" => {
            s(v, "resolution", "") != "DNS_ROUND_ROBIN"
                || v["endpoints"].as_array().is_none_or(|e| e.len() <= 1)
        }
        other => {
            return Err(format!(
                "CEL rule not implemented by the test validator: {other}"
            ));
        }
    })
}

// ---------------------------------------------------------------------------------------

const SCENARIOS: &[(&[&str], &str)] = &[
    (&["examples/guide"], "tests/data/topology/guide-global.yaml"),
    (
        &["examples/guide"],
        "tests/data/topology/guide-global-istio-1.8.yaml",
    ),
    (
        &["examples/guide"],
        "tests/data/topology/guide-multi-primary.yaml",
    ),
    (
        &["examples/guide"],
        "tests/data/topology/guide-multi-primary-istio-1.8.yaml",
    ),
    (
        &["examples/all-fields/manifests"],
        "examples/all-fields/topology.yaml",
    ),
    (
        &["examples/all-fields/manifests"],
        "tests/data/topology/all-fields-multi-primary.yaml",
    ),
];

/// Every object of every golden scenario validates as `v1alpha3` (what we write) and, for
/// the kinds Istio also serves as `v1`, as `v1`.
#[test]
fn every_generated_object_validates_against_istio_crds() {
    let Some(crds) = schemas_or_skip() else {
        return;
    };
    let mut checked = 0;
    for (manifests, topology) in SCENARIOS {
        let t = translate_ok(manifests, topology);
        assert!(!t.objects.is_empty());
        for o in &t.objects {
            let v = o.to_value();
            let errs = crds.validate(&v);
            assert!(
                errs.is_empty(),
                "{topology}: {}:\n{}",
                o.describe(),
                errs.join("\n")
            );
            checked += 1;
            if o.kind() != "EnvoyFilter" {
                let mut v1 = v.clone();
                v1["apiVersion"] = json!("networking.istio.io/v1");
                let errs = crds.validate(&v1);
                assert!(
                    errs.is_empty(),
                    "{topology}: {} as v1:\n{}",
                    o.describe(),
                    errs.join("\n")
                );
            }
        }
    }
    eprintln!("validated {checked} generated objects against Istio's CRD schemas");
}

fn guide_object(kind: &str) -> Value {
    let t = translate_ok(&["examples/guide"], "tests/data/topology/guide-global.yaml");
    t.objects
        .iter()
        .find(|o| o.kind() == kind)
        .map(|o| o.to_value())
        .unwrap()
}

fn assert_rejected(crds: &CrdSchemas, v: &Value, expect: &str) {
    let errs = crds.validate(v);
    assert!(
        errs.iter().any(|e| e.contains(expect)),
        "expected an error containing {expect:?}, got {errs:#?}"
    );
}

/// The checker rejects what the API server rejects (so the test above can fail).
#[test]
fn validator_rejects_invalid_objects() {
    let Some(crds) = schemas_or_skip() else {
        return;
    };

    let dr = guide_object("DestinationRule");
    assert!(crds.validate(&dr).is_empty());

    let mut x = dr.clone();
    x["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xx"] = json!(1);
    assert_rejected(
        crds,
        &x,
        "spec.trafficPolicy.outlierDetection.consecutive5xx: unknown field",
    );

    let mut x = dr.clone();
    x["spec"].as_object_mut().unwrap().remove("host");
    assert_rejected(crds, &x, "spec.host: Required value");

    let mut x = dr.clone();
    x["spec"]["trafficPolicy"]["tls"]["mode"] = json!("MTLS");
    assert_rejected(
        crds,
        &x,
        "spec.trafficPolicy.tls.mode: \"MTLS\" is not one of",
    );

    let mut x = dr.clone();
    x["spec"]["trafficPolicy"]["outlierDetection"]["interval"] = json!("0s");
    assert_rejected(crds, &x, "must be a valid duration greater than 1ms");

    let mut x = dr.clone();
    x["spec"]["trafficPolicy"]["outlierDetection"]["maxEjectionPercent"] = json!("100");
    assert_rejected(crds, &x, "must be of type integer");

    let mut x = dr.clone();
    x["metadata"]["name"] = json!("Reviews_1");
    assert_rejected(crds, &x, "metadata.name");

    let mut x = dr.clone();
    x["apiVersion"] = json!("networking.istio.io/v2");
    assert_rejected(crds, &x, "not served as v2");

    let mut x = dr.clone();
    x["extra"] = json!({});
    assert_rejected(crds, &x, "extra: unknown field");

    let se = guide_object("ServiceEntry");
    assert!(crds.validate(&se).is_empty());
    let mut x = se.clone();
    x["spec"]["ports"] = json!([{"number": 9080, "name": "a"}, {"number": 9080, "name": "b"}]);
    assert_rejected(crds, &x, "port number cannot be duplicated");
    let mut x = se.clone();
    x["spec"]["ports"][0]["number"] = json!(70000);
    assert_rejected(crds, &x, "spec.ports[0].number");
    let mut x = se.clone();
    x["spec"]["hosts"] = json!(["*"]);
    assert_rejected(crds, &x, "spec.hosts[0]");

    let vs = guide_object("VirtualService");
    assert!(crds.validate(&vs).is_empty());
    let mut x = vs.clone();
    x["spec"]["http"][0]["match"] = json!([{"uri": {"exact": "/a", "prefix": "/b"}}]);
    assert_rejected(
        crds,
        &x,
        "spec.http[0].match[0].uri: must match exactly one oneOf branch",
    );
    let mut x = vs.clone();
    x["spec"]["http"][0]["route"][0]["destination"]
        .as_object_mut()
        .unwrap()
        .remove("host");
    assert_rejected(crds, &x, "destination.host: Required value");

    let ef = guide_object("EnvoyFilter");
    assert!(crds.validate(&ef).is_empty());
    // The patch value is preserved as-is: anything goes there.
    let mut x = ef.clone();
    x["spec"]["configPatches"][1]["patch"]["value"]["anything"] = json!({"deep": [1, 2]});
    assert!(crds.validate(&x).is_empty());
    let mut x = ef.clone();
    x["spec"]["configPatches"][0]["applyTo"] = json!("CLUSTERS");
    assert_rejected(crds, &x, "applyTo");
    let mut x = ef.clone();
    x["spec"]["configPatches"][0]["match"]["listener"] = json!({"name": "x"});
    assert_rejected(crds, &x, "must match exactly one oneOf branch");
}
