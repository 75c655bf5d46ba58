//! Scalars resolved as kubectl's YAML library (go-yaml v2, YAML 1.1) resolves them: `yes`,
//! `on`, `0x1F`, `1e3` and tags mean what they mean to kubectl.

use super::*;

/// The string form of a scalar mapping key, as sigs.k8s.io/yaml writes it into JSON.
pub(super) fn key_name(value: &Value, raw: &str) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(_) => raw.to_string(),
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => raw.to_string(),
    }
}

pub(super) fn check_collection_tag(tag: Option<&Tag>, expected: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if t.core_suffix() == Some(expected) => Ok(()),
        Some(t) => Err(format!("unsupported YAML tag {}", t.original())),
    }
}

/// Resolve a scalar as go-yaml v2 (kubectl's YAML library) does: quoted and block scalars
/// are strings; plain scalars may be null, booleans (YAML 1.1 spellings), integers
/// (decimal, `0x`, `0b`, leading-`0` octal, `_` separators) or floats. Core tags force a
/// type; other tags are rejected.
pub(super) fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<Value, String> {
    if let Some(tag) = tag {
        let resolved = resolve_plain(text);
        return match tag.core_suffix() {
            Some("str") => Ok(Value::String(text.to_string())),
            Some("null") => match resolved {
                Value::Null => Ok(Value::Null),
                _ => Err(format!("cannot read {text:?} as !!null")),
            },
            Some("bool") => match resolved {
                Value::Bool(_) => resolved_ok(resolved),
                _ => Err(format!("cannot read {text:?} as !!bool")),
            },
            Some("int") => match resolved {
                Value::Int(_) | Value::UInt(_) => resolved_ok(resolved),
                _ => Err(format!("cannot read {text:?} as !!int")),
            },
            Some("float") => match resolved {
                Value::Int(i) => Ok(Value::Float(i as f64)),
                Value::UInt(u) => Ok(Value::Float(u as f64)),
                Value::Float(_) => resolved_ok(resolved),
                _ => Err(format!("cannot read {text:?} as !!float")),
            },
            _ => Err(format!("unsupported YAML tag {}", tag.original())),
        };
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    resolved_ok(resolve_plain(text))
}

pub(super) fn resolved_ok(value: Value) -> Result<Value, String> {
    match value {
        Value::Float(f) if !f.is_finite() => {
            Err("infinite or NaN numbers cannot be written in a Kubernetes manifest".to_string())
        }
        v => Ok(v),
    }
}

pub(super) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Value::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Value::String(text.to_string());
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(v) = parse_int(&plain) {
        return v;
    }
    if is_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::String(text.to_string())
}

pub(super) fn parse_int(s: &str) -> Option<Value> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(b) = digits.strip_prefix("0x") {
        (16, b)
    } else if let Some(b) = digits.strip_prefix("0b") {
        (2, b)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if neg {
        if magnitude <= i64::MAX as u64 + 1 {
            Some(Value::Int((magnitude as i128).wrapping_neg() as i64))
        } else {
            None
        }
    } else if magnitude <= i64::MAX as u64 {
        Some(Value::Int(magnitude as i64))
    } else {
        Some(Value::UInt(magnitude))
    }
}

/// go-yaml v2's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
pub(super) fn is_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}
