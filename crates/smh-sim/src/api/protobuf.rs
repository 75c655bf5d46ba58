//! Kubernetes' protobuf wire format for request bodies (`application/vnd.kubernetes.protobuf`),
//! as kubectl's typed clients send them (`kubectl create namespace|deployment|...`,
//! `kubectl auth can-i`, `kubectl auth whoami`).
//!
//! A body is the magic `k8s\0` followed by a `runtime.Unknown` message whose `typeMeta` names
//! the object's apiVersion and kind and whose `raw` bytes are the object's message. The
//! messages are decoded with Kubernetes' own `.proto` definitions (vendored under `proto/`,
//! compiled by the build script) through `prost-reflect`, and turned into the object's JSON
//! form, which is what the rest of the server works on. The JSON mapping is Kubernetes', not
//! proto3's: field names as written in the `.proto` files (they are the JSON names), 64-bit
//! integers as numbers, and the apimachinery types that have their own JSON form (`Time`,
//! `MicroTime`, `Duration`, `Quantity`, `IntOrString`, `RawExtension`, `FieldsV1`) written as
//! the real server writes them.

use std::sync::OnceLock;

use base64::Engine;
use prost_reflect::{
    DescriptorPool, DynamicMessage, MapKey, MessageDescriptor, ReflectMessage, Value as PValue,
};
use serde_json::{Map, Value};

use super::status::ApiError;

/// The media type kubectl's typed clients send.
pub(crate) const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

const MAGIC: &[u8] = b"k8s\0";
const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1";

static DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/k8s-api.fds"));

fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(DESCRIPTORS).expect("the build script's descriptor set decodes")
    })
}

/// The protobuf package of an API group's version (`apps/v1` -> `k8s.io.api.apps.v1`).
fn package(api_version: &str) -> Option<String> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let short = match group {
        "" => "core",
        "apps" | "batch" | "policy" | "autoscaling" => group,
        "rbac.authorization.k8s.io" => "rbac",
        "authorization.k8s.io" => "authorization",
        "authentication.k8s.io" => "authentication",
        "networking.k8s.io" => "networking",
        "discovery.k8s.io" => "discovery",
        "coordination.k8s.io" => "coordination",
        "scheduling.k8s.io" => "scheduling",
        "meta.k8s.io" => return Some(META.to_string()),
        _ => return None,
    };
    Some(format!("k8s.io.api.{short}.{version}"))
}

fn bad(msg: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("error decoding the protobuf request body: {msg}"))
}

/// Decode a protobuf request body into the object's JSON form (with `apiVersion` and `kind`).
pub(crate) fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("it does not start with the magic bytes \"k8s\\x00\""))?;
    let unknown_desc = pool()
        .get_message_by_name("k8s.io.apimachinery.pkg.runtime.Unknown")
        .expect("runtime.Unknown is in the descriptor set");
    let unknown = DynamicMessage::decode(unknown_desc, rest).map_err(bad)?;
    let text = |m: &DynamicMessage, f: &str| -> String {
        m.get_field_by_name(f)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let type_meta = unknown
        .get_field_by_name("typeMeta")
        .and_then(|v| v.as_message().cloned())
        .ok_or_else(|| bad("runtime.Unknown has no typeMeta"))?;
    let (api_version, kind) = (text(&type_meta, "apiVersion"), text(&type_meta, "kind"));
    let encoding = text(&unknown, "contentEncoding");
    if !encoding.is_empty() {
        return Err(bad(format!("unsupported contentEncoding {encoding:?}")));
    }
    let raw = unknown
        .get_field_by_name("raw")
        .and_then(|v| v.as_bytes().cloned())
        .unwrap_or_default();
    let desc = message_for(&api_version, &kind)?;
    let msg = DynamicMessage::decode(desc, raw.as_ref()).map_err(bad)?;
    let mut obj = match to_json(&msg) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    obj.insert("apiVersion".into(), Value::String(api_version));
    obj.insert("kind".into(), Value::String(kind));
    Ok(Value::Object(obj))
}

fn message_for(api_version: &str, kind: &str) -> Result<MessageDescriptor, ApiError> {
    package(api_version)
        .and_then(|p| pool().get_message_by_name(&format!("{p}.{kind}")))
        .ok_or_else(|| {
            ApiError::unsupported_media_type(
                MEDIA_TYPE,
                &["application/json", "application/yaml", MEDIA_TYPE],
            )
        })
        .map_err(|mut e| {
            e.message = format!(
                "the simulated cluster has no protobuf definition of {api_version} {kind}; send it as JSON or YAML (kubectl apply -f)"
            );
            e
        })
}

/// A message's JSON form, Kubernetes' way.
fn to_json(msg: &DynamicMessage) -> Value {
    let desc = msg.descriptor();
    let full = desc.full_name();
    if let Some(special) = special(full, msg) {
        return special;
    }
    let mut out = Map::new();
    for (field, value) in msg.fields() {
        // Go's protobuf encoding writes every non-pointer field, also when it is empty, where
        // its JSON (`omitempty`) leaves it out; to the server both mean "unset". Empty strings
        // and zero times are left out here, so that defaulting sees them as unset (a Secret's
        // `type: ""` becomes `Opaque`, `creationTimestamp` is not 1970).
        let json = value_json(value);
        let unset = match &json {
            Value::String(s) => s.is_empty() && !field.is_list() && !field.is_map(),
            Value::Null => true,
            _ => false,
        };
        if !unset {
            out.insert(field.name().to_string(), json);
        }
    }
    Value::Object(out)
}

fn value_json(v: &PValue) -> Value {
    match v {
        PValue::Bool(b) => Value::Bool(*b),
        PValue::I32(n) => Value::from(*n),
        PValue::I64(n) => Value::from(*n),
        PValue::U32(n) => Value::from(*n),
        PValue::U64(n) => Value::from(*n),
        PValue::F32(n) => Value::from(f64::from(*n)),
        PValue::F64(n) => Value::from(*n),
        PValue::String(s) => Value::String(s.clone()),
        PValue::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        PValue::EnumNumber(n) => Value::from(*n),
        PValue::Message(m) => to_json(m),
        PValue::List(items) => Value::Array(items.iter().map(value_json).collect()),
        PValue::Map(m) => {
            // Sorted keys: deterministic output.
            let mut entries: Vec<(String, Value)> =
                m.iter().map(|(k, v)| (map_key(k), value_json(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
    }
}

fn map_key(k: &MapKey) -> String {
    match k {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => s.clone(),
    }
}

fn int(msg: &DynamicMessage, f: &str) -> i64 {
    match msg.get_field_by_name(f).as_deref() {
        Some(PValue::I64(n)) => *n,
        Some(PValue::I32(n)) => i64::from(*n),
        _ => 0,
    }
}

fn string(msg: &DynamicMessage, f: &str) -> String {
    msg.get_field_by_name(f)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn raw_json(msg: &DynamicMessage, f: &str) -> Value {
    msg.get_field_by_name(f)
        .and_then(|v| v.as_bytes().cloned())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// The apimachinery types whose JSON form is not their message's.
fn special(full_name: &str, msg: &DynamicMessage) -> Option<Value> {
    let v = match full_name.strip_prefix("k8s.io.apimachinery.pkg.")? {
        "apis.meta.v1.Time" | "apis.meta.v1.MicroTime"
            if int(msg, "seconds") == 0 && int(msg, "nanos") == 0 =>
        {
            // Go's zero time, which its JSON writes as null.
            Value::Null
        }
        "apis.meta.v1.Time" => Value::String(timestamp(int(msg, "seconds"), None)),
        "apis.meta.v1.MicroTime" => Value::String(timestamp(
            int(msg, "seconds"),
            Some(int(msg, "nanos") / 1000),
        )),
        "apis.meta.v1.Duration" => Value::String(go_duration(int(msg, "duration"))),
        "api.resource.Quantity" => Value::String(string(msg, "string")),
        "util.intstr.IntOrString" => {
            if int(msg, "type") == 1 {
                Value::String(string(msg, "strVal"))
            } else {
                Value::from(int(msg, "intVal"))
            }
        }
        "runtime.RawExtension" => raw_json(msg, "raw"),
        "apis.meta.v1.FieldsV1" => raw_json(msg, "Raw"),
        _ => return None,
    };
    Some(v)
}

/// RFC 3339 in UTC, with microseconds for `MicroTime`.
fn timestamp(seconds: i64, micros: Option<i64>) -> String {
    let ts = jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    match micros {
        None => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(us) => format!("{}.{us:06}Z", ts.strftime("%Y-%m-%dT%H:%M:%S")),
    }
}

/// Go's `time.Duration.String()` for whole seconds and below (`1h2m3s`, `1.5s`, `0s`).
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let (h, m) = (n / 3_600_000_000_000, (n / 60_000_000_000) % 60);
    let s = (n % 60_000_000_000) as f64 / 1e9;
    let mut out = sign.to_string();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{s}s"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// Encode `fields` of `kind` the way client-go does: magic, then runtime.Unknown.
    fn envelope(api_version: &str, kind: &str, obj: &DynamicMessage) -> Vec<u8> {
        let unknown_desc = pool()
            .get_message_by_name("k8s.io.apimachinery.pkg.runtime.Unknown")
            .unwrap();
        let tm_desc = pool()
            .get_message_by_name("k8s.io.apimachinery.pkg.runtime.TypeMeta")
            .unwrap();
        let mut tm = DynamicMessage::new(tm_desc);
        tm.set_field_by_name("apiVersion", PValue::String(api_version.into()));
        tm.set_field_by_name("kind", PValue::String(kind.into()));
        let mut u = DynamicMessage::new(unknown_desc);
        u.set_field_by_name("typeMeta", PValue::Message(tm));
        u.set_field_by_name("raw", PValue::Bytes(obj.encode_to_vec().into()));
        let mut out = MAGIC.to_vec();
        out.extend(u.encode_to_vec());
        out
    }

    fn msg(name: &str, json: Value) -> DynamicMessage {
        let desc = pool().get_message_by_name(name).unwrap();
        fill(desc, &json)
    }

    /// Build a message from a JSON object whose values are plain scalars, objects and lists
    /// (test helper: no special types).
    fn fill(desc: MessageDescriptor, json: &Value) -> DynamicMessage {
        let mut m = DynamicMessage::new(desc.clone());
        for (k, v) in json.as_object().unwrap() {
            let f = desc.get_field_by_name(k).unwrap_or_else(|| panic!("{k}"));
            let pv = match (f.kind(), v) {
                (prost_reflect::Kind::Message(md), Value::Object(_)) if f.is_map() => {
                    let _ = md;
                    PValue::Map(
                        v.as_object()
                            .unwrap()
                            .iter()
                            .map(|(k, v)| {
                                (
                                    MapKey::String(k.clone()),
                                    PValue::String(v.as_str().unwrap().into()),
                                )
                            })
                            .collect(),
                    )
                }
                (prost_reflect::Kind::Message(md), Value::Object(_)) => {
                    PValue::Message(fill(md, v))
                }
                (prost_reflect::Kind::Message(md), Value::Array(items)) => PValue::List(
                    items
                        .iter()
                        .map(|i| PValue::Message(fill(md.clone(), i)))
                        .collect(),
                ),
                (_, Value::Array(items)) => PValue::List(
                    items
                        .iter()
                        .map(|i| PValue::String(i.as_str().unwrap().into()))
                        .collect(),
                ),
                (prost_reflect::Kind::Int32, Value::Number(n)) => {
                    PValue::I32(n.as_i64().unwrap() as i32)
                }
                (prost_reflect::Kind::Int64, Value::Number(n)) => PValue::I64(n.as_i64().unwrap()),
                (_, Value::Bool(b)) => PValue::Bool(*b),
                (_, Value::String(s)) => PValue::String(s.clone()),
                other => panic!("test helper: {other:?}"),
            };
            m.set_field_by_name(k, pv);
        }
        m
    }

    #[test]
    fn a_namespace_as_kubectl_create_sends_it() {
        let ns = msg(
            "k8s.io.api.core.v1.Namespace",
            serde_json::json!({"metadata": {"name": "demo", "labels": {"team": "a"}}}),
        );
        let got = decode(&envelope("v1", "Namespace", &ns)).unwrap();
        assert_eq!(
            got,
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo", "labels": {"team": "a"}}})
        );
    }

    #[test]
    fn a_deployment_keeps_numbers_intorstring_and_nested_lists() {
        let d = msg(
            "k8s.io.api.apps.v1.Deployment",
            serde_json::json!({
                "metadata": {"name": "web", "namespace": "demo"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"terminationGracePeriodSeconds": 30,
                            "containers": [{"name": "nginx", "image": "nginx", "args": ["a", "b"]}]}}}
            }),
        );
        let mut d = d;
        // maxSurge as a string IntOrString, maxUnavailable as an int one.
        let strategy_desc = pool()
            .get_message_by_name("k8s.io.api.apps.v1.RollingUpdateDeployment")
            .unwrap();
        let ios = pool()
            .get_message_by_name("k8s.io.apimachinery.pkg.util.intstr.IntOrString")
            .unwrap();
        let mut surge = DynamicMessage::new(ios.clone());
        surge.set_field_by_name("type", PValue::I64(1));
        surge.set_field_by_name("strVal", PValue::String("25%".into()));
        let mut unavailable = DynamicMessage::new(ios);
        unavailable.set_field_by_name("type", PValue::I64(0));
        unavailable.set_field_by_name("intVal", PValue::I32(1));
        let mut ru = DynamicMessage::new(strategy_desc);
        ru.set_field_by_name("maxSurge", PValue::Message(surge));
        ru.set_field_by_name("maxUnavailable", PValue::Message(unavailable));
        let mut spec = d
            .get_field_by_name("spec")
            .unwrap()
            .as_message()
            .unwrap()
            .clone();
        let mut strategy = DynamicMessage::new(
            pool()
                .get_message_by_name("k8s.io.api.apps.v1.DeploymentStrategy")
                .unwrap(),
        );
        strategy.set_field_by_name("rollingUpdate", PValue::Message(ru));
        spec.set_field_by_name("strategy", PValue::Message(strategy));
        d.set_field_by_name("spec", PValue::Message(spec));
        let got = decode(&envelope("apps/v1", "Deployment", &d)).unwrap();
        assert_eq!(got["spec"]["replicas"], 2);
        assert_eq!(
            got["spec"]["template"]["spec"]["terminationGracePeriodSeconds"], 30,
            "int64 is a JSON number, not proto3's string"
        );
        assert_eq!(
            got["spec"]["template"]["spec"]["containers"][0]["args"],
            serde_json::json!(["a", "b"])
        );
        assert_eq!(
            got["spec"]["strategy"]["rollingUpdate"],
            serde_json::json!({"maxSurge": "25%", "maxUnavailable": 1})
        );
    }

    #[test]
    fn secrets_bytes_are_base64_and_times_are_rfc3339() {
        let desc = pool()
            .get_message_by_name("k8s.io.api.core.v1.Secret")
            .unwrap();
        let mut s = DynamicMessage::new(desc);
        s.set_field_by_name(
            "data",
            PValue::Map(
                [(
                    MapKey::String("p".into()),
                    PValue::Bytes(b"x".to_vec().into()),
                )]
                .into_iter()
                .collect(),
            ),
        );
        let meta_desc = pool()
            .get_message_by_name(&format!("{META}.ObjectMeta"))
            .unwrap();
        let mut meta = DynamicMessage::new(meta_desc);
        let mut t =
            DynamicMessage::new(pool().get_message_by_name(&format!("{META}.Time")).unwrap());
        t.set_field_by_name("seconds", PValue::I64(1_700_000_000));
        meta.set_field_by_name("creationTimestamp", PValue::Message(t));
        s.set_field_by_name("metadata", PValue::Message(meta));
        let got = decode(&envelope("v1", "Secret", &s)).unwrap();
        assert_eq!(got["data"]["p"], "eA==");
        assert_eq!(got["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
    }

    #[test]
    fn empty_strings_and_zero_times_are_unset_as_in_go() {
        let desc = pool()
            .get_message_by_name("k8s.io.api.core.v1.Secret")
            .unwrap();
        let mut s = DynamicMessage::new(desc);
        s.set_field_by_name("type", PValue::String(String::new()));
        let meta_desc = pool()
            .get_message_by_name(&format!("{META}.ObjectMeta"))
            .unwrap();
        let mut meta = DynamicMessage::new(meta_desc);
        meta.set_field_by_name("name", PValue::String("s".into()));
        meta.set_field_by_name("generateName", PValue::String(String::new()));
        meta.set_field_by_name(
            "labels",
            PValue::Map(
                [(
                    MapKey::String("empty".into()),
                    PValue::String(String::new()),
                )]
                .into_iter()
                .collect(),
            ),
        );
        let zero =
            DynamicMessage::new(pool().get_message_by_name(&format!("{META}.Time")).unwrap());
        meta.set_field_by_name("creationTimestamp", PValue::Message(zero));
        s.set_field_by_name("metadata", PValue::Message(meta));
        let got = decode(&envelope("v1", "Secret", &s)).unwrap();
        assert_eq!(
            got,
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "labels": {"empty": ""}}}),
            "a label's empty value is a value"
        );
    }

    #[test]
    fn bad_bodies_are_400_and_unknown_kinds_415() {
        assert_eq!(decode(b"{}").unwrap_err().code, 400);
        assert_eq!(decode(b"k8s\0\xff\xff").unwrap_err().code, 400);
        let ns = msg("k8s.io.api.core.v1.Namespace", serde_json::json!({}));
        let e = decode(&envelope("example.com/v1", "Thing", &ns)).unwrap_err();
        assert_eq!(e.code, 415);
        assert!(e.message.contains("example.com/v1 Thing"), "{}", e.message);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(3_723_000_000_000), "1h2m3s");
    }
}
