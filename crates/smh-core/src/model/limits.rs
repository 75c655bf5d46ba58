//! Limits of the values that end up in Kubernetes names and labels and in Istio fields: what
//! the API server and istiod's validation (the webhook that rejects an object before it is
//! stored) enforce, checked here so that `validate` finds what `apply` would otherwise meet
//! as a rejected request. Each function returns the problem in words, or nothing.
//!
//! Istio's rules, as its validation states them: a duration at least 1ms and in whole
//! milliseconds (a CORS `maxAge` in whole seconds); a fault percentage 0, or between 0.0001
//! and 100; an abort status between 200 and 599; a header name to match made of letters,
//! digits, `-` and `_`; a header to add or remove not a pseudo-header (`:path`), and `host`
//! only added to requests; a header value without control characters and with its `%`
//! variables closed (`%%` for a literal `%`); a regular expression of at most 1024
//! characters in RE2 syntax; every label of a host, a port name and a subset name a DNS-1123
//! label (Istio's reading: at most 63 letters, digits and `-`, upper case allowed, starting
//! and ending with a letter or digit); labels as Kubernetes labels.

use std::time::Duration;

use super::k8s;

/// The longest cluster name: it is the value of the label `cluster.multicluster.solo.io` on
/// every generated object (and of `topology.istio.io/cluster` in multi-primary subsets), and
/// a label value has at most 63 characters.
pub(crate) const CLUSTER_NAME_MAX: usize = 63;

/// A cluster name: a DNS-1123 subdomain (it becomes part of host names such as
/// `reviews.bookinfo.svc.<cluster>.global`) of at most [`CLUSTER_NAME_MAX`] characters (it
/// becomes a label value). The problems, as the API server words them.
pub fn cluster_name(value: &str) -> Vec<String> {
    let mut errs = k8s::is_dns1123_subdomain(value);
    if value.len() > CLUSTER_NAME_MAX && errs.iter().all(|e| !e.starts_with("must be no more")) {
        errs.insert(
            0,
            format!(
                "must be no more than {CLUSTER_NAME_MAX} characters (a cluster name is the value of the label cluster.multicluster.solo.io on every object generated for it)"
            ),
        );
    }
    errs
}

/// A duration Istio accepts (`ValidateDuration`): zero (left out of the generated object)
/// or at least 1ms, in whole milliseconds.
pub(crate) fn istio_duration(d: Duration) -> Option<String> {
    if d.is_zero() {
        return None;
    }
    if d < Duration::from_millis(1) {
        return Some(
            "below Istio's minimum of 1ms (istiod rejects it: \"duration must be greater than 1ms\")"
                .into(),
        );
    }
    if !d.subsec_nanos().is_multiple_of(1_000_000) {
        return Some(
            "not a whole number of milliseconds: Istio supports durations to millisecond precision only"
                .into(),
        );
    }
    None
}

/// A CORS `maxAge`: an Istio duration in whole seconds.
pub(crate) fn cors_max_age(d: Duration) -> Option<String> {
    istio_duration(d).or_else(|| {
        (d.subsec_nanos() != 0).then(|| {
            "not a whole number of seconds: Istio takes a CORS maxAge in seconds only".into()
        })
    })
}

/// Istio's `IsDNS1123Label`: at most 63 letters, digits and `-`, starting and ending with a
/// letter or digit (upper case allowed, unlike the API server's names).
pub(crate) fn is_istio_label(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

const ISTIO_LABEL: &str =
    "at most 63 letters, digits and '-', starting and ending with a letter or digit";

/// A port name (`ValidatePortName`).
pub fn port_name(name: &str) -> Option<String> {
    (!is_istio_label(name))
        .then(|| format!("{name:?}: Istio requires a port name of {ISTIO_LABEL}"))
}

/// A DestinationRule subset name (`validateSubsetName`).
pub(crate) fn subset_name(name: &str) -> Option<String> {
    (!is_istio_label(name))
        .then(|| format!("{name:?}: Istio requires a subset name of {ISTIO_LABEL}"))
}

/// A fault injection percentage (`validatePercentage`): 0, or between 0.0001 and 100.
pub(crate) fn fault_percentage(value: f64) -> Option<String> {
    let ok = value == 0.0 || (0.0001..=100.0).contains(&value);
    (!ok).then(|| format!("{value}: must be 0, or between 0.0001 and 100"))
}

/// An abort status (`validateHTTPStatus`).
pub(crate) fn abort_status(status: i32) -> Option<String> {
    (!(200..=599).contains(&status))
        .then(|| format!("{status}: must be an HTTP status between 200 and 599"))
}

fn is_header_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A header name to match (`ValidateHTTPHeaderName`): letters, digits, `-` and `_`.
pub(crate) fn header_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a header name must not be empty".into());
    }
    (!name.chars().all(is_header_name_char))
        .then(|| format!("{name:?}: a header name may contain only letters, digits, '-' and '_'"))
}

/// A CORS allowed or exposed header (`ValidateCORSHTTPHeaderName`): a header name, or `*`.
pub(crate) fn cors_header_name(name: &str) -> Option<String> {
    if name == "*" {
        return None;
    }
    header_name(name)
}

/// CORS methods Istio accepts.
pub(crate) const CORS_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*",
];

/// A CORS allowed method.
pub(crate) fn cors_method(method: &str) -> Option<String> {
    (!CORS_METHODS.contains(&method)).then(|| {
        format!(
            "{method:?} is not a method Istio accepts in a CORS policy ({})",
            CORS_METHODS.join(", ")
        )
    })
}

/// Which header list a name is in: request headers added (where `host` sets the authority)
/// or any other (request headers removed, response headers added or removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderOperation {
    AddRequest,
    Other,
}

/// A header name to add or remove (`ValidateHTTPHeaderWithAuthorityOperationName`,
/// `ValidateHTTPHeaderOperationName`).
pub(crate) fn header_operation_name(name: &str, op: HeaderOperation) -> Option<String> {
    if name.is_empty() {
        return Some("a header name must not be empty".into());
    }
    let authority = name.eq_ignore_ascii_case(":authority") || name.eq_ignore_ascii_case("host");
    let internal = name.starts_with(':') || name.eq_ignore_ascii_case("host");
    match op {
        HeaderOperation::AddRequest if internal && !authority => Some(format!(
            "{name:?}: a pseudo-header (':' prefix) cannot be set"
        )),
        HeaderOperation::Other if name.eq_ignore_ascii_case("host") => Some(format!(
            "{name:?}: the Host header cannot be set or removed here"
        )),
        HeaderOperation::Other if internal => Some(format!(
            "{name:?}: a pseudo-header (':' prefix) cannot be set or removed"
        )),
        _ => None,
    }
}

/// A header value Envoy accepts (`ValidateHTTPHeaderValue`): no control characters but tab,
/// and every `%` either doubled (`%%`, a literal `%`) or opening a variable closed again
/// (`%HOSTNAME%`, `%REQ(x-id)%`, `%PER_REQUEST_STATE(["a"])%`).
pub(crate) fn header_value(value: &str) -> Option<String> {
    if value
        .chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{7f}')
    {
        return Some(format!(
            "{value:?}: a header value must not contain control characters"
        ));
    }
    variables_closed(value)
        .err()
        .map(|why| format!("{value:?}: {why}"))
}

/// Envoy's parser of `%VARIABLE%` and `%VARIABLE(args)%` in header values.
fn variables_closed(value: &str) -> Result<(), &'static str> {
    #[derive(PartialEq)]
    enum State {
        Literal,
        Name,
        ExpectArray,
        ExpectString,
        InString,
        ExpectDelimiter,
        ExpectArgsEnd,
        ExpectVariableEnd,
    }
    let b = value.as_bytes();
    let mut state = State::Literal;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let has_next = i + 1 < b.len();
        match state {
            State::Literal => {
                if c == b'%' {
                    if !has_next {
                        return Err("a '%' that opens no variable: write '%%' for a literal '%'");
                    }
                    if b[i + 1] == b'%' {
                        i += 1;
                    } else {
                        state = State::Name;
                    }
                }
            }
            State::Name => {
                if c == b'%' {
                    state = State::Literal;
                } else if c == b'(' {
                    state = State::ExpectArray;
                }
            }
            State::ExpectArray => {
                if c == b'[' {
                    state = State::ExpectString;
                } else if c != b' ' {
                    state = State::InString;
                }
            }
            State::ExpectDelimiter => {
                if c == b',' {
                    state = State::ExpectString;
                } else if c == b']' {
                    state = State::ExpectArgsEnd;
                } else if c != b' ' {
                    return Err("a variable's arguments: expected ',', ']' or a space");
                }
            }
            State::ExpectString => {
                if c == b'"' {
                    state = State::InString;
                } else if c != b' ' {
                    return Err("a variable's arguments: expected '\"'");
                }
            }
            State::InString => {
                if c == b'\\' {
                    if !has_next {
                        return Err("a variable's arguments end in a lone backslash");
                    }
                    i += 1;
                } else if c == b')' {
                    state = State::ExpectVariableEnd;
                } else if c == b'"' {
                    state = State::ExpectDelimiter;
                }
            }
            State::ExpectArgsEnd => {
                if c == b')' {
                    state = State::ExpectVariableEnd;
                } else if c != b' ' {
                    return Err("a variable's arguments: expected ')'");
                }
            }
            State::ExpectVariableEnd => {
                if c == b'%' {
                    state = State::Literal;
                } else if c != b' ' {
                    return Err("a variable: expected the closing '%'");
                }
            }
        }
        i += 1;
    }
    if state != State::Literal {
        return Err("a '%' variable is not closed: write '%%' for a literal '%'");
    }
    Ok(())
}

/// The longest regular expression Istio accepts.
pub(crate) const REGEX_MAX: usize = 1024;

/// A regular expression Istio accepts: at most [`REGEX_MAX`] characters, in RE2 syntax
/// (checked with the `regex` crate, whose syntax is RE2's).
pub fn regex(re: &str) -> Option<String> {
    if re.is_empty() {
        return Some("a regular expression must not be empty".into());
    }
    if re.len() > REGEX_MAX {
        return Some(format!(
            "the regular expression is {} characters long; Istio's limit is {REGEX_MAX}",
            re.len()
        ));
    }
    regex::Regex::new(re).err().map(|e| {
        let first = e.to_string();
        let first = first.lines().last().unwrap_or("").trim().to_string();
        format!("{re:?} is not a valid RE2 regular expression ({first})")
    })
}

/// A host Istio accepts (`ValidateFQDN`): at most 255 characters, every dot-separated label
/// a DNS-1123 label (at most 63 characters), the last one not all digits.
pub fn host(host: &str) -> Option<String> {
    if host.len() > 255 {
        return Some(format!(
            "{host:?} is {} characters long; a host has at most 255",
            host.len()
        ));
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels
        .last()
        .is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(format!("{host:?}: the last label must not be all digits"));
    }
    for label in labels {
        if !is_istio_label(label) {
            return Some(format!(
                "{host:?}: Istio requires every dot-separated label of a host to be {ISTIO_LABEL}; {label:?} is not ({} characters)",
                label.len()
            ));
        }
    }
    None
}

/// Labels Istio and the API server accept (`sourceLabels`, a subset's labels): keys as
/// qualified names, values as label values. `(key, problem)` pairs.
pub fn labels<'a>(
    labels: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in labels {
        let errs = k8s::is_qualified_name(k);
        if !errs.is_empty() {
            out.push((k.clone(), format!("key {k:?}: {}", errs.join(", "))));
        }
        let errs = k8s::is_valid_label_value(v);
        if !errs.is_empty() {
            out.push((k.clone(), format!("value {v:?}: {}", errs.join(", "))));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_are_label_values() {
        assert!(cluster_name("mgmt-cluster").is_empty());
        assert!(cluster_name(&"a".repeat(63)).is_empty());
        let e = cluster_name(&"a".repeat(64));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("must be no more than 63 characters"),
            "{e:?}"
        );
        // Over 253: the API server's own wording, once.
        let e = cluster_name(&"a".repeat(254));
        assert_eq!(e, ["must be no more than 253 characters"]);
        assert!(!cluster_name("Mgmt").is_empty());
    }

    #[test]
    fn durations_at_istios_limits() {
        let ms = Duration::from_millis;
        assert_eq!(istio_duration(Duration::ZERO), None);
        assert_eq!(istio_duration(ms(1)), None);
        assert_eq!(istio_duration(Duration::from_secs(10)), None);
        assert!(
            istio_duration(Duration::from_micros(500))
                .unwrap()
                .contains("below Istio's minimum of 1ms")
        );
        assert!(istio_duration(Duration::from_micros(999)).is_some());
        assert!(
            istio_duration(Duration::from_micros(1500))
                .unwrap()
                .contains("millisecond precision")
        );
        assert_eq!(cors_max_age(Duration::from_secs(60)), None);
        assert!(
            cors_max_age(ms(1500))
                .unwrap()
                .contains("whole number of seconds")
        );
        assert!(
            cors_max_age(Duration::from_micros(10))
                .unwrap()
                .contains("1ms")
        );
    }

    #[test]
    fn percentages_and_statuses() {
        for ok in [0.0, 0.0001, 5.0, 100.0] {
            assert_eq!(fault_percentage(ok), None, "{ok}");
        }
        for bad in [-1.0, 0.00001, 100.5] {
            assert!(fault_percentage(bad).is_some(), "{bad}");
        }
        assert_eq!(abort_status(200), None);
        assert_eq!(abort_status(599), None);
        assert!(abort_status(199).is_some());
        assert!(abort_status(600).is_some());
    }

    #[test]
    fn header_names_and_values() {
        assert_eq!(header_name("x-user_id"), None);
        assert!(header_name("x user").is_some());
        assert!(header_name(":path").is_some());
        assert_eq!(cors_header_name("*"), None);
        assert_eq!(cors_method("PATCH"), None);
        assert!(cors_method("get").is_some());
        use HeaderOperation::*;
        assert_eq!(header_operation_name("host", AddRequest), None);
        assert_eq!(header_operation_name(":authority", AddRequest), None);
        assert!(header_operation_name(":path", AddRequest).is_some());
        assert!(header_operation_name("host", Other).is_some());
        assert!(header_operation_name(":status", Other).is_some());
        assert_eq!(header_operation_name("x-b3", Other), None);
        for ok in [
            "plain",
            "100%%",
            "%HOSTNAME%",
            "a %REQ(x-id)% b",
            "%PER_REQUEST_STATE([\"a\", \"b\"])%",
            "tab\tok",
        ] {
            assert_eq!(header_value(ok), None, "{ok}");
        }
        for bad in ["50%", "abc%123", "%START_TIME%%", "%REQ(x", "line\nbreak"] {
            assert!(header_value(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn regexes_and_hosts() {
        assert_eq!(regex("^/api/v[0-9]+"), None);
        assert!(regex("(unclosed").unwrap().contains("not a valid RE2"));
        assert!(regex(&"a".repeat(1025)).unwrap().contains("1024"));
        assert_eq!(host("reviews-failover.bookinfo.global"), None);
        let long = format!("{}.bookinfo.global", "a".repeat(64));
        assert!(host(&long).unwrap().contains("(64 characters)"));
        assert!(host("a.123").is_some());
        assert_eq!(port_name("HTTP"), None);
        assert!(port_name("http_proxy").is_some());
        assert_eq!(subset_name("version-v1"), None);
        assert!(subset_name("app-reviews_version-v1").is_some());
    }

    #[test]
    fn label_maps() {
        let ok: std::collections::BTreeMap<String, String> =
            [("version".to_string(), "v1".to_string())].into();
        assert!(labels(&ok).is_empty());
        let bad: std::collections::BTreeMap<String, String> =
            [("a b".to_string(), "-x".to_string())].into();
        assert_eq!(labels(&bad).len(), 2);
    }

    #[test]
    fn topology_cluster_names_are_at_most_63_characters() {
        let file = |name: &str| format!("clusters:\n- name: {name}\n");
        let ok = super::super::topology::Topology::parse_bytes(
            "t.yaml",
            file(&"a".repeat(63)).as_bytes(),
        );
        assert!(ok.is_ok(), "{ok:?}");
        let err = super::super::topology::Topology::parse_bytes(
            "t.yaml",
            file(&"a".repeat(64)).as_bytes(),
        )
        .expect_err("a 64-character cluster name");
        let text = format!("{:?}", err.diagnostics());
        assert!(text.contains("clusters[0].name"), "{text}");
        assert!(
            text.contains("must be no more than 63 characters"),
            "{text}"
        );
    }
}
