//! Validation the simulated API server performs before storing an object:
//! - names (DNS-1123 subdomain or label, as each kind requires);
//! - custom resources against their CRD's structural schema: `type`, `properties`, `items`,
//!   `additionalProperties`, `required`, `enum`, `minimum`/`maximum`, `nullable`,
//!   `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields`; unknown fields are
//!   pruned as Kubernetes prunes them, and reported for `fieldValidation`. Not evaluated:
//!   `oneOf`/`anyOf`/`allOf`/`not`, `pattern`, `format` and CEL `x-kubernetes-validations`;
//! - a few rules of built-in kinds a user meets first (Deployment/ReplicaSet selector and
//!   template labels, containers present and named).

use serde_json::{Map, Value};

use super::selector::LabelSelector;
use super::status::Cause;

/// DNS-1123 subdomain: lowercase alphanumerics, `-` and `.`, at most 253 characters, starting
/// and ending alphanumeric.
pub(crate) fn check_subdomain(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some("must be no more than 253 characters".into());
    }
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!ok).then(|| {
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()
    })
}

/// DNS-1123 label: like a subdomain without dots, at most 63 characters.
pub(crate) fn check_label(name: &str) -> Option<String> {
    if name.len() > 63 {
        return Some("must be no more than 63 characters".into());
    }
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!ok).then(|| {
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_string()
    })
}

/// DNS-1035 label (Services): a DNS-1123 label starting with a letter.
pub(crate) fn check_dns1035(name: &str) -> Option<String> {
    if name.len() > 63 {
        return Some("must be no more than 63 characters".into());
    }
    let ok = check_label(name).is_none() && name.starts_with(|c: char| c.is_ascii_lowercase());
    (!ok).then(|| {
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_string()
    })
}

/// `path.IsValidPathSegmentName`: anything but `.`, `..`, or a name with `/` or `%`.
fn check_path_segment(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("name or generateName is required".into());
    }
    if name == "." || name == ".." {
        return Some(format!("may not be '{name}'"));
    }
    ["/", "%"]
        .iter()
        .find(|c| name.contains(**c))
        .map(|c| format!("may not contain '{c}'"))
}

/// Name rule of a kind.
pub(crate) fn check_name(group: &str, kind: &str, name: &str) -> Option<Cause> {
    let problem = match (group, kind) {
        ("", "Namespace") => check_label(name),
        ("", "Service") => check_dns1035(name),
        // RBAC objects are named like path segments (`system:discovery`).
        ("rbac.authorization.k8s.io", _) => check_path_segment(name),
        _ => check_subdomain(name),
    };
    problem.map(|p| Cause::invalid("metadata.name", &Value::String(name.to_string()), &p))
}

/// What checking an object against a structural schema found.
#[derive(Debug, Default)]
pub(crate) struct SchemaReport {
    pub causes: Vec<Cause>,
    /// Paths of fields the schema does not declare (they were pruned), e.g. `spec.foo`.
    pub unknown: Vec<String>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Check `v` against `schema` at `path`, pruning unknown fields.
fn walk(v: &mut Value, schema: &Value, path: &str, report: &mut SchemaReport) {
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if v.is_null() {
        // A null passes: nullable fields keep it, and Kubernetes drops it elsewhere.
        return;
    }
    if check_type(v, schema, path, report) == Some(true) {
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
        report.causes.push(Cause::new(
            "FieldValueNotSupported",
            path,
            format!(
                "Unsupported value: {}: supported values: {}",
                v,
                list.join(", ")
            ),
        ));
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            report.causes.push(Cause::invalid(
                path,
                v,
                &format!("{path} in body should be greater than or equal to {min}"),
            ));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            report.causes.push(Cause::invalid(
                path,
                v,
                &format!("{path} in body should be less than or equal to {max}"),
            ));
        }
    }
    match v {
        Value::Object(m) => {
            if let Some(req) = schema.get("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !m.contains_key(r) {
                        report.causes.push(Cause::required(&join(path, r)));
                    }
                }
            }
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let child_path = join(path, &k);
                let child_schema = props.and_then(|p| p.get(&k)).or(match additional {
                    Some(a) if a.is_object() => Some(a),
                    _ => None,
                });
                match child_schema {
                    Some(cs) => {
                        let drop_null = m.get(&k).is_some_and(Value::is_null)
                            && cs.get("nullable").and_then(Value::as_bool) != Some(true);
                        if drop_null {
                            m.remove(&k);
                        } else if let Some(cv) = m.get_mut(&k) {
                            walk(cv, cs, &child_path, report);
                        }
                    }
                    None => {
                        let allowed = preserve || additional.and_then(Value::as_bool) == Some(true);
                        if !allowed {
                            report.unknown.push(child_path);
                            m.remove(&k);
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(item, is, &format!("{path}[{i}]"), report);
                }
            }
            check_set(items, schema, path, report);
        }
        _ => {}
    }
}

/// The value's JSON type against the schema's, worded as the real schema validator words
/// it (the value shown is the JSON type). `Some(true)`: nothing more to check of `v` (an
/// int-or-string, or a wrong type); `None` or `Some(false)`: go on.
fn check_type(v: &Value, schema: &Value, path: &str, report: &mut SchemaReport) -> Option<bool> {
    let actual = type_name(v);
    if schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true)
    {
        if !matches!(actual, "integer" | "string") {
            report.causes.push(Cause::new(
                "FieldValueTypeInvalid",
                path,
                format!(
                    "Invalid value: {actual:?}: {path} in body must be of type integer,string: {actual:?}"
                ),
            ));
        }
        return Some(true);
    }
    let t = schema.get("type").and_then(Value::as_str)?;
    let ok = actual == t || (t == "number" && actual == "integer");
    if !ok {
        report.causes.push(Cause::new(
            "FieldValueTypeInvalid",
            path,
            format!("Invalid value: {actual:?}: {path} in body must be of type {t}: {actual:?}"),
        ));
    }
    Some(!ok)
}

/// A `x-kubernetes-list-type: set` holds no value twice.
fn check_set(items: &[Value], schema: &Value, path: &str, report: &mut SchemaReport) {
    if schema.get("x-kubernetes-list-type").and_then(Value::as_str) != Some("set") {
        return;
    }
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            report.causes.push(Cause::new(
                "FieldValueDuplicate",
                &format!("{path}[{i}]"),
                format!("Duplicate value: {item}"),
            ));
        }
    }
}

/// Fill in the schema's `default`s where a field is missing, as the real API server does
/// for custom resources (in objects that are present; then in their items and values).
fn apply_schema_defaults(v: &mut Value, schema: &Value) {
    match v {
        Value::Object(m) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, ps) in props {
                    if let Some(d) = ps.get("default").filter(|_| !m.contains_key(k)) {
                        m.insert(k.clone(), d.clone());
                    }
                    if let Some(child) = m.get_mut(k) {
                        apply_schema_defaults(child, ps);
                    }
                }
            } else if let Some(ap) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for child in m.values_mut() {
                    apply_schema_defaults(child, ap);
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = schema.get("items") {
                for child in items {
                    apply_schema_defaults(child, is);
                }
            }
        }
        _ => {}
    }
}

/// Default, validate and prune a custom resource against its version's `openAPIV3Schema`.
/// `metadata`, `apiVersion` and `kind` are the server's business and are skipped.
pub(crate) fn check_custom_resource(obj: &mut Value, schema: &Value) -> SchemaReport {
    let mut report = SchemaReport::default();
    let Some(m) = obj.as_object_mut() else {
        return report;
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(p) = props {
        for (k, ps) in p {
            if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            if let Some(d) = ps.get("default").filter(|_| !m.contains_key(k)) {
                m.insert(k.clone(), d.clone());
            }
            if let Some(v) = m.get_mut(k) {
                apply_schema_defaults(v, ps);
            }
        }
    }
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match props.and_then(|p| p.get(&k)) {
            Some(cs) => {
                if let Some(cv) = m.get_mut(&k) {
                    walk(cv, cs, &k, &mut report);
                }
            }
            None if preserve => {}
            None => {
                report.unknown.push(k.clone());
                m.remove(&k);
            }
        }
    }
    if let Some(req) = schema.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if !m.contains_key(r) {
                report.causes.push(Cause::required(r));
            }
        }
    }
    report
}

/// Rules of built-in kinds that users meet first.
pub(crate) fn check_builtin(group: &str, kind: &str, obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    match (group, kind) {
        ("apps", "Deployment") | ("apps", "ReplicaSet") => {
            let spec = obj.get("spec");
            let selector = spec.and_then(|s| s.get("selector"));
            match selector.and_then(Value::as_object) {
                None => causes.push(Cause::required("spec.selector")),
                Some(sel) => {
                    let empty_labels = Map::new();
                    let template_labels = obj
                        .pointer("/spec/template/metadata/labels")
                        .and_then(Value::as_object)
                        .unwrap_or(&empty_labels);
                    let ml = sel.get("matchLabels").and_then(Value::as_object);
                    let has_exprs = sel
                        .get("matchExpressions")
                        .and_then(Value::as_array)
                        .is_some_and(|a| !a.is_empty());
                    if ml.is_none_or(Map::is_empty) && !has_exprs {
                        causes.push(Cause::invalid(
                            "spec.selector",
                            selector.unwrap_or(&Value::Null),
                            "empty selector is invalid for deployment",
                        ));
                    } else if let Some(ml) = ml
                        && !LabelSelector::from_match_labels(ml)
                            .matches_labels(Some(template_labels))
                    {
                        causes.push(Cause::invalid(
                            "spec.template.metadata.labels",
                            &Value::Object(template_labels.clone()),
                            "`selector` does not match template `labels`",
                        ));
                    }
                }
            }
            check_pod_spec(
                obj.pointer("/spec/template/spec"),
                "spec.template.spec",
                &mut causes,
            );
        }
        ("", "Pod") => check_pod_spec(obj.get("spec"), "spec", &mut causes),
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => {
            check_rules(obj, kind == "Role", &mut causes)
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            check_binding(obj, kind == "ClusterRoleBinding", &mut causes)
        }
        ("", "Service") => {
            if let Some(ports) = obj.pointer("/spec/ports").and_then(Value::as_array) {
                for (i, p) in ports.iter().enumerate() {
                    let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                    if !(1..=65535).contains(&port) {
                        causes.push(Cause::invalid(
                            &format!("spec.ports[{i}].port"),
                            p.get("port").unwrap_or(&Value::Null),
                            "must be between 1 and 65535, inclusive",
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    causes
}

fn str_items(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// RBAC's `ValidatePolicyRule` on every rule of a Role or ClusterRole.
fn check_rules(obj: &Value, namespaced: bool, causes: &mut Vec<Cause>) {
    let rules = obj.get("rules").and_then(Value::as_array);
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        let path = format!("rules[{i}]");
        if str_items(rule.get("verbs")).is_empty() {
            causes.push(Cause::new(
                "FieldValueRequired",
                &format!("{path}.verbs"),
                "Required value: verbs must contain at least one value",
            ));
        }
        let urls = str_items(rule.get("nonResourceURLs"));
        let groups = rule.get("apiGroups").and_then(Value::as_array);
        let resources = str_items(rule.get("resources"));
        if !urls.is_empty() {
            if namespaced {
                causes.push(Cause::invalid(
                    &format!("{path}.nonResourceURLs"),
                    rule.get("nonResourceURLs").unwrap_or(&Value::Null),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if groups.is_some_and(|g| !g.is_empty()) || !resources.is_empty() {
                causes.push(Cause::invalid(
                    &format!("{path}.nonResourceURLs"),
                    rule.get("nonResourceURLs").unwrap_or(&Value::Null),
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if groups.is_none_or(|g| g.is_empty()) {
            causes.push(Cause::new(
                "FieldValueRequired",
                &format!("{path}.apiGroups"),
                "Required value: resource rules must supply at least one api group",
            ));
        }
        if resources.is_empty() {
            causes.push(Cause::new(
                "FieldValueRequired",
                &format!("{path}.resources"),
                "Required value: resource rules must supply at least one resource",
            ));
        }
    }
}

/// RBAC's binding validation: a roleRef in the RBAC group naming a Role (RoleBinding only)
/// or ClusterRole, and subjects of a known kind with a name.
fn check_binding(obj: &Value, cluster: bool, causes: &mut Vec<Cause>) {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    if s("/roleRef/apiGroup") != "rbac.authorization.k8s.io" {
        causes.push(Cause::new(
            "FieldValueNotSupported",
            "roleRef.apiGroup",
            format!(
                "Unsupported value: {:?}: supported values: \"rbac.authorization.k8s.io\"",
                s("/roleRef/apiGroup")
            ),
        ));
    }
    let kinds: &[&str] = if cluster {
        &["ClusterRole"]
    } else {
        &["Role", "ClusterRole"]
    };
    if !kinds.contains(&s("/roleRef/kind")) {
        let supported: Vec<String> = kinds.iter().map(|k| format!("{k:?}")).collect();
        causes.push(Cause::new(
            "FieldValueNotSupported",
            "roleRef.kind",
            format!(
                "Unsupported value: {:?}: supported values: {}",
                s("/roleRef/kind"),
                supported.join(", ")
            ),
        ));
    }
    if s("/roleRef/name").is_empty() {
        causes.push(Cause::required("roleRef.name"));
    }
    let subjects = obj.get("subjects").and_then(Value::as_array);
    for (i, subject) in subjects.into_iter().flatten().enumerate() {
        let g = |k: &str| subject.get(k).and_then(Value::as_str).unwrap_or_default();
        let path = format!("subjects[{i}]");
        if g("name").is_empty() {
            causes.push(Cause::required(&format!("{path}.name")));
        }
        match g("kind") {
            "User" | "Group" => {}
            "ServiceAccount" => {
                if cluster && g("namespace").is_empty() {
                    causes.push(Cause::required(&format!("{path}.namespace")));
                }
            }
            other => causes.push(Cause::new(
                "FieldValueNotSupported",
                &format!("{path}.kind"),
                format!(
                    "Unsupported value: {other:?}: supported values: \"ServiceAccount\", \"User\", \"Group\""
                ),
            )),
        }
    }
}

fn check_pod_spec(spec: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    match containers {
        None => causes.push(Cause::required(&format!("{path}.containers"))),
        Some(cs) if cs.is_empty() => causes.push(Cause::required(&format!("{path}.containers"))),
        Some(cs) => {
            for (i, c) in cs.iter().enumerate() {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    causes.push(Cause::required(&format!("{path}.containers[{i}].name")));
                } else if let Some(p) = check_label(name) {
                    causes.push(Cause::invalid(
                        &format!("{path}.containers[{i}].name"),
                        &Value::String(name.to_string()),
                        &p,
                    ));
                }
                if c.get("image")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    causes.push(Cause::required(&format!("{path}.containers[{i}].image")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd_schema() -> Value {
        let crds = smh_core::model::crd::smh_crds();
        crds[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
    }

    #[test]
    fn names() {
        assert!(check_subdomain("reviews-v1").is_none());
        assert!(check_subdomain("a.b").is_none());
        assert!(check_subdomain("Reviews").is_some());
        assert!(check_label("a.b").is_some());
        assert!(check_dns1035("1abc").is_some());
        assert!(check_name("", "Namespace", "bookinfo").is_none());
    }

    #[test]
    fn custom_resource_types_enums_and_pruning() {
        let mut fs = json!({
            "apiVersion": "networking.smh.solo.io/v1alpha2", "kind": "FailoverService",
            "metadata": {"name": "f"},
            "spec": {"hostname": "x.global", "port": {"number": "9080", "protocol": "http"}, "bogus": 1},
            "status": {"state": "MAYBE", "observedGeneration": "1"},
            "extra": true,
        });
        let r = check_custom_resource(&mut fs, &crd_schema());
        assert_eq!(
            r.unknown,
            vec!["extra".to_string(), "spec.bogus".to_string()]
        );
        assert!(fs.get("extra").is_none() && fs["spec"].get("bogus").is_none());
        let msgs: Vec<String> = r
            .causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        assert_eq!(msgs, vec![
            "spec.port.number: Invalid value: \"string\": spec.port.number in body must be of type integer: \"string\"".to_string(),
            "status.state: Unsupported value: \"MAYBE\": supported values: \"PENDING\", \"ACCEPTED\", \"INVALID\", \"FAILED\"".to_string(),
        ]);
        // observedGeneration is int-or-string: both forms pass.
        let mut ok = json!({"status": {"observedGeneration": 2, "meshes": {"m.ns.": {"state": "ACCEPTED"}}}});
        assert!(
            check_custom_resource(&mut ok, &crd_schema())
                .causes
                .is_empty()
        );
    }

    #[test]
    fn smh_types_fit_their_crds() {
        // Every field the model serializes is declared by the CRD schema: nothing is pruned.
        use smh_core::model::types::*;
        let yaml = include_str!("../../../../examples/guide/2-failover-service.yaml");
        let mut fs: Value = serde_saphyr::from_str(yaml).unwrap();
        let parsed: FailoverService = serde_json::from_value(fs.clone()).unwrap();
        let mut status = FailoverServiceStatus {
            observed_generation: 1,
            state: ApprovalState::Accepted,
            errors: vec!["e".into()],
            ..Default::default()
        };
        status.meshes.insert(
            "m.ns.".into(),
            ValidationStatus {
                acceptance_order: 1,
                state: ApprovalState::Accepted,
                errors: vec!["x".into()],
            },
        );
        fs["status"] = serde_json::to_value(&status).unwrap();
        let r = check_custom_resource(&mut fs, &crd_schema());
        assert!(
            r.unknown.is_empty() && r.causes.is_empty(),
            "{r:?} for {parsed:?}"
        );

        let tp_schema =
            smh_core::model::crd::smh_crds()[1]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
                .clone();
        for file in [
            include_str!("../../../../examples/guide/1-outlier-detection.yaml"),
            include_str!("../../../../examples/guide/3-traffic-shift.yaml"),
        ] {
            let mut tp: Value = serde_saphyr::from_str(file).unwrap();
            let r = check_custom_resource(&mut tp, &tp_schema);
            assert!(r.unknown.is_empty() && r.causes.is_empty(), "{r:?}");
        }
        // A TrafficPolicy with every field set.
        let full = json!({"spec": {
            "sourceSelector": [{"labels": {"a": "b"}, "namespaces": ["n"], "clusters": ["c"]}],
            "destinationSelector": [{"kubeServiceMatcher": {"labels": {"a": "b"}, "namespaces": ["n"], "clusters": ["c"]},
                                     "kubeServiceRefs": {"services": [{"name": "r", "namespace": "n", "clusterName": "c"}]}}],
            "httpRequestMatchers": [{"prefix": "/", "exact": "/x", "regex": ".*", "headers": [{"name": "h", "value": "v", "regex": true, "invertMatch": true}],
                                     "queryParameters": [{"name": "q", "value": "v", "regex": true}], "method": {"method": "GET"}}],
            "trafficShift": {"destinations": [{"weight": 50, "kubeService": {"name": "r", "namespace": "n", "clusterName": "c", "subset": {"v": "1"}, "port": 9080},
                                               "failoverService": {"name": "f", "namespace": "n", "subset": {"v": "1"}}}]},
            "faultInjection": {"fixedDelay": "1s", "exponentialDelay": "1s", "abort": {"httpStatus": 500}, "percentage": 50.5},
            "requestTimeout": "5s", "retries": {"attempts": 3, "perTryTimeout": "1s"},
            "corsPolicy": {"allowOrigins": [{"exact": "a", "prefix": "b", "regex": "c"}], "allowMethods": ["GET"], "allowHeaders": ["h"], "exposeHeaders": ["e"], "maxAge": "1s", "allowCredentials": true},
            "mirror": {"kubeService": {"name": "r", "namespace": "n", "clusterName": "c"}, "percentage": 10.0, "port": 9080},
            "headerManipulation": {"removeResponseHeaders": ["a"], "appendResponseHeaders": {"a": "b"}, "removeRequestHeaders": ["c"], "appendRequestHeaders": {"c": "d"}},
            "outlierDetection": {"consecutiveErrors": 1, "interval": "1s", "baseEjectionTime": "30s", "maxEjectionPercent": 100},
            "mtls": {"istio": {"tlsMode": "ISTIO_MUTUAL"}}
        }, "status": {"observedGeneration": "1", "state": "ACCEPTED", "trafficTargets": {"t": {"acceptanceOrder": 1, "state": "ACCEPTED", "errors": ["e"]}}, "workloads": ["w"], "errors": ["e"]}});
        let typed: TrafficPolicySpec = serde_json::from_value(full["spec"].clone()).unwrap();
        let mut again = json!({"spec": serde_json::to_value(&typed).unwrap(), "status": full["status"].clone()});
        let r = check_custom_resource(&mut again, &tp_schema);
        assert!(r.unknown.is_empty() && r.causes.is_empty(), "{r:?}");
        assert_eq!(again["spec"], full["spec"]);
    }

    #[test]
    fn deployment_rules() {
        let d = json!({"spec": {"selector": {"matchLabels": {"app": "a"}}, "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [{"name": "c"}]}}}});
        let causes = check_builtin("apps", "Deployment", &d);
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "spec.template.metadata.labels",
                "spec.template.spec.containers[0].image"
            ]
        );
        assert_eq!(
            check_builtin("apps", "Deployment", &json!({"spec": {}}))[0].field,
            "spec.selector"
        );
    }
}
