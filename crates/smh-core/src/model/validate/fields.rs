//! Field checks: what the CRD schema, protobuf, the API server or istiod would reject.

use super::*;
use crate::model::types::TrafficPolicySpec;

pub(super) fn check_duration(out: &mut Vec<Finding>, field: &str, value: &Option<String>) {
    check_duration_with(out, field, value, limits::istio_duration);
}

/// A duration: it parses, and `limit` (Istio's rule for the field it becomes) accepts it.
pub(super) fn check_duration_with(
    out: &mut Vec<Finding>,
    field: &str,
    value: &Option<String>,
    limit: fn(std::time::Duration) -> Option<String>,
) {
    let Some(v) = value else { return };
    match parse_duration(v) {
        Err(e) => out.push(error(field, format!("Invalid value: {e}"))),
        Ok(d) => {
            if let Some(why) = limit(d) {
                out.push(error(field, format!("Invalid value: {v:?}: {why}")));
            }
        }
    }
}

/// A reference to a service in a cluster: its name and namespace become parts of generated
/// names and hosts (DNS-1123 labels), its cluster name a label value. Empty fields are
/// reported as missing elsewhere.
pub(super) fn check_service_ref(
    out: &mut Vec<Finding>,
    prefix: &str,
    name: &str,
    namespace: &str,
    cluster: &str,
) {
    for (field, value) in [("name", name), ("namespace", namespace)] {
        if value.is_empty() {
            continue;
        }
        let errs = k8s::is_dns1123_label(value);
        if !errs.is_empty() {
            out.push(error(
                format!("{prefix}.{field}"),
                format!("Invalid value: {value:?}: {}", errs.join(", ")),
            ));
        }
    }
    check_cluster_name(out, &format!("{prefix}.clusterName"), cluster);
}

pub(super) fn check_cluster_name(out: &mut Vec<Finding>, field: &str, cluster: &str) {
    if cluster.is_empty() {
        return;
    }
    let errs = limits::cluster_name(cluster);
    if !errs.is_empty() {
        out.push(error(
            field,
            format!("Invalid value: {cluster:?}: {}", errs.join(", ")),
        ));
    }
}

/// A subset's labels (they become a DestinationRule subset's labels) and the subset name
/// SMH generates from them.
pub(super) fn check_subset(out: &mut Vec<Finding>, field: &str, subset: &BTreeMap<String, String>) {
    for (key, why) in limits::labels(subset) {
        out.push(error(
            format!("{field}.{key}"),
            format!("Invalid value: {why}"),
        ));
    }
    if subset.is_empty() {
        return;
    }
    let name = subset_name(subset);
    if let Some(why) = limits::subset_name(&name) {
        out.push(error(
            field,
            format!(
                "Invalid value: the DestinationRule subset for these labels is named {why} (the name is the labels' key-value pairs joined with '_'; select the subset with one label, e.g. version: v1)"
            ),
        ));
    }
}

/// A regular expression in an Istio match.
pub(super) fn check_regex(out: &mut Vec<Finding>, field: &str, re: &str) {
    if let Some(why) = limits::regex(re) {
        out.push(error(field, format!("Invalid value: {why}")));
    }
}

pub(super) fn check_percentage(out: &mut Vec<Finding>, field: &str, value: f64) {
    if !(0.0..=100.0).contains(&value) {
        out.push(error(
            field,
            format!("Invalid value: {value}: must be between 0 and 100"),
        ));
    }
}

pub(super) fn check_port(out: &mut Vec<Finding>, field: &str, port: u32) {
    if port > 65535 {
        out.push(error(
            field,
            format!("Invalid value: {port}: must be between 1 and 65535, inclusive"),
        ));
    }
}

pub(super) fn required(out: &mut Vec<Finding>, prefix: &str, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        if value.is_empty() {
            out.push(error(
                format!("{prefix}.{name}"),
                format!("Required value: {name} must be set"),
            ));
        }
    }
}

/// Field-level checks of a TrafficPolicy: what the CRD schema, protobuf decoding or Istio's
/// validation would reject, plus the maxEjectionPercent lint.
pub(super) fn check_tp_fields(tp: &TrafficPolicy) -> Vec<Finding> {
    let spec = &tp.spec;
    let mut out = Vec::new();
    check_selectors(&mut out, spec);
    check_http_matchers(&mut out, spec);
    check_traffic_shift(&mut out, spec);
    check_fault_injection(&mut out, spec);
    check_timeout_and_retries(&mut out, spec);
    check_cors(&mut out, spec);
    check_mirror(&mut out, spec);
    check_header_manipulation(&mut out, spec);
    check_outlier_and_mtls(&mut out, spec);
    out
}

/// Field checks of `spec.sourceSelector` and `spec.destinationSelector`.
fn check_selectors(out: &mut Vec<Finding>, spec: &TrafficPolicySpec) {
    for (i, sel) in spec.source_selector.iter().enumerate() {
        let field = format!("spec.sourceSelector[{i}]");
        for (key, why) in limits::labels(&sel.labels) {
            out.push(error(
                format!("{field}.labels.{key}"),
                format!("Invalid value: {why}"),
            ));
        }
        for (j, ns) in sel.namespaces.iter().enumerate() {
            let errs = k8s::is_dns1123_label(ns);
            if !errs.is_empty() {
                out.push(error(
                    format!("{field}.namespaces[{j}]"),
                    format!("Invalid value: {ns:?}: {}", errs.join(", ")),
                ));
            }
        }
        for (j, c) in sel.clusters.iter().enumerate() {
            check_cluster_name(out, &format!("{field}.clusters[{j}]"), c);
        }
    }
    for (i, sel) in spec.destination_selector.iter().enumerate() {
        let field = format!("spec.destinationSelector[{i}]");
        if let Some(matcher) = &sel.kube_service_matcher {
            for (j, c) in matcher.clusters.iter().enumerate() {
                check_cluster_name(out, &format!("{field}.kubeServiceMatcher.clusters[{j}]"), c);
            }
        }
        match (&sel.kube_service_matcher, &sel.kube_service_refs) {
            (Some(_), Some(_)) => out.push(error(&field, "only one of kubeServiceMatcher or kubeServiceRefs may be set")),
            (None, None) => out.push(error(
                &field,
                "Required value: one of kubeServiceMatcher or kubeServiceRefs must be set (an empty selector selects nothing)",
            )),
            (None, Some(refs)) => {
                if refs.services.is_empty() {
                    out.push(warning(format!("{field}.kubeServiceRefs.services"), "no services listed: this selector selects nothing"));
                }
                for (j, r) in refs.services.iter().enumerate() {
                    let rf = format!("{field}.kubeServiceRefs.services[{j}]");
                    required(
                        out,
                        &rf,
                        &[("name", &r.name), ("namespace", &r.namespace), ("clusterName", &r.cluster_name)],
                    );
                    check_service_ref(out, &rf, &r.name, &r.namespace, &r.cluster_name);
                }
            }
            (Some(_), None) => {}
        }
    }
}

/// Field checks of `spec.httpRequestMatchers`.
fn check_http_matchers(out: &mut Vec<Finding>, spec: &TrafficPolicySpec) {
    for (i, m) in spec.http_request_matchers.iter().enumerate() {
        let field = format!("spec.httpRequestMatchers[{i}]");
        let set = [m.prefix.is_some(), m.exact.is_some(), m.regex.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if set > 1 {
            out.push(error(
                &field,
                "only one of prefix, exact or regex may be set",
            ));
        }
        if let Some(re) = &m.regex {
            check_regex(out, &format!("{field}.regex"), re);
        }
        for (j, h) in m.headers.iter().enumerate() {
            let hf = format!("{field}.headers[{j}]");
            required(out, &hf, &[("name", &h.name)]);
            if !h.name.is_empty()
                && let Some(why) = limits::header_name(&h.name)
            {
                out.push(error(format!("{hf}.name"), format!("Invalid value: {why}")));
            }
            if h.regex {
                check_regex(out, &format!("{hf}.value"), &h.value);
            }
        }
        for (j, q) in m.query_parameters.iter().enumerate() {
            let qf = format!("{field}.queryParameters[{j}]");
            required(out, &qf, &[("name", &q.name)]);
            if q.regex {
                check_regex(out, &format!("{qf}.value"), &q.value);
            }
        }
        if let Some(method) = &m.method
            && !HTTP_METHODS.contains(&method.method.as_str())
        {
            out.push(error(
                format!("{field}.method.method"),
                format!(
                    "Unsupported value: {:?}: supported values: {}",
                    method.method,
                    quoted(HTTP_METHODS)
                ),
            ));
        }
    }
}

/// Field checks of `spec.trafficShift`: destinations, subsets, weights.
fn check_traffic_shift(out: &mut Vec<Finding>, spec: &TrafficPolicySpec) {
    if let Some(shift) = &spec.traffic_shift {
        if shift.destinations.is_empty() {
            out.push(warning(
                "spec.trafficShift.destinations",
                "no destinations: the traffic shift changes nothing",
            ));
        }
        let mut sum: u64 = 0;
        for (k, d) in shift.destinations.iter().enumerate() {
            let field = format!("spec.trafficShift.destinations[{k}]");
            sum += u64::from(d.weight);
            if d.weight > 100 {
                out.push(error(
                    format!("{field}.weight"),
                    format!("Invalid value: {}: must be between 0 and 100", d.weight),
                ));
            }
            match (&d.kube_service, &d.failover_service) {
                (None, None) => out.push(error(
                    &field,
                    "must set a destination type on traffic shift destination",
                )),
                (Some(_), Some(_)) => out.push(error(
                    &field,
                    "only one of kubeService or failoverService may be set",
                )),
                (Some(ks), None) => {
                    required(
                        out,
                        &format!("{field}.kubeService"),
                        &[
                            ("name", &ks.name),
                            ("namespace", &ks.namespace),
                            ("clusterName", &ks.cluster_name),
                        ],
                    );
                    check_service_ref(
                        out,
                        &format!("{field}.kubeService"),
                        &ks.name,
                        &ks.namespace,
                        &ks.cluster_name,
                    );
                    check_port(out, &format!("{field}.kubeService.port"), ks.port);
                    check_subset(out, &format!("{field}.kubeService.subset"), &ks.subset);
                }
                (None, Some(fsd)) => {
                    required(
                        out,
                        &format!("{field}.failoverService"),
                        &[("name", &fsd.name), ("namespace", &fsd.namespace)],
                    );
                    check_subset(out, &format!("{field}.failoverService.subset"), &fsd.subset);
                }
            }
        }
        if shift.destinations.len() > 1 && sum != 100 {
            out.push(error(
                "spec.trafficShift.destinations",
                format!("Invalid value: weights must sum to 100 when there is more than one destination (they sum to {sum})"),
            ));
        }
        if shift.destinations.len() == 1 && !matches!(shift.destinations[0].weight, 0 | 100) {
            out.push(warning(
                "spec.trafficShift.destinations[0].weight",
                format!(
                    "a single destination receives all traffic; weight {} has no effect",
                    shift.destinations[0].weight
                ),
            ));
        }
    }
}

/// Field checks of `spec.faultInjection`.
fn check_fault_injection(out: &mut Vec<Finding>, spec: &TrafficPolicySpec) {
    if let Some(fault) = &spec.fault_injection {
        let kinds = [
            fault.fixed_delay.is_some(),
            fault.exponential_delay.is_some(),
            fault.abort.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        match kinds {
            0 => out.push(error(
                "spec.faultInjection",
                "Required value: one of fixedDelay, exponentialDelay or abort must be set",
            )),
            1 => {}
            _ => out.push(error(
                "spec.faultInjection",
                "only one of fixedDelay, exponentialDelay or abort may be set",
            )),
        }
        check_duration(out, "spec.faultInjection.fixedDelay", &fault.fixed_delay);
        if fault.exponential_delay.is_some() {
            out.push(error(
                "spec.faultInjection.exponentialDelay",
                "Forbidden: Istio does not support an exponential delay (istiod rejects it: \"exponentialDelay not supported yet\"); use fixedDelay",
            ));
        }
        if let Some(abort) = &fault.abort
            && let Some(why) = limits::abort_status(abort.http_status)
        {
            out.push(error(
                "spec.faultInjection.abort.httpStatus",
                format!("Invalid value: {why}"),
            ));
        }
        if let Some(why) = limits::fault_percentage(fault.percentage) {
            out.push(error(
                "spec.faultInjection.percentage",
                format!("Invalid value: {why}"),
            ));
        }
    }
}

/// Field checks of `spec.requestTimeout` and `spec.retries`.
fn check_timeout_and_retries(out: &mut Vec<Finding>, spec: &TrafficPolicySpec) {
    check_duration(out, "spec.requestTimeout", &spec.request_timeout);
    if let Some(r) = &spec.retries {
        if r.attempts < 0 {
            out.push(error(
                "spec.retries.attempts",
                format!("Invalid value: {}: must be 0 or more", r.attempts),
            ));
        }
        check_duration(out, "spec.retries.perTryTimeout", &r.per_try_timeout);
        let per_try = r
            .per_try_timeout
            .as_deref()
            .and_then(|d| parse_duration(d).ok())
            .is_some_and(|d| !d.is_zero());
        if r.attempts == 0 && per_try {
            out.push(error(
                "spec.retries.attempts",
                "Invalid value: 0: attempts 0 turns retries off, and Istio rejects a retry policy with a perTryTimeout and 0 attempts (set attempts, or remove perTryTimeout)",
            ));
        }
    }
}

/// Field checks of `spec.corsPolicy`.
fn check_cors(out: &mut Vec<Finding>, spec: &TrafficPolicySpec) {
    if let Some(cors) = &spec.cors_policy {
        for (i, o) in cors.allow_origins.iter().enumerate() {
            let set = [o.exact.is_some(), o.prefix.is_some(), o.regex.is_some()]
                .iter()
                .filter(|b| **b)
                .count();
            if set != 1 {
                out.push(error(
                    format!("spec.corsPolicy.allowOrigins[{i}]"),
                    "exactly one of exact, prefix or regex must be set",
                ));
            }
            for (name, value) in [("exact", &o.exact), ("prefix", &o.prefix)] {
                if value.as_deref() == Some("") {
                    out.push(error(
                        format!("spec.corsPolicy.allowOrigins[{i}].{name}"),
                        "Invalid value: \"\": Istio rejects an empty origin",
                    ));
                }
            }
            if let Some(re) = &o.regex {
                check_regex(out, &format!("spec.corsPolicy.allowOrigins[{i}].regex"), re);
            }
        }
        for (i, m) in cors.allow_methods.iter().enumerate() {
            if let Some(why) = limits::cors_method(m) {
                out.push(error(
                    format!("spec.corsPolicy.allowMethods[{i}]"),
                    format!("Unsupported value: {why}"),
                ));
            }
        }
        for (list, names) in [
            ("allowHeaders", &cors.allow_headers),
            ("exposeHeaders", &cors.expose_headers),
        ] {
            for (i, h) in names.iter().enumerate() {
                if let Some(why) = limits::cors_header_name(h) {
                    out.push(error(
                        format!("spec.corsPolicy.{list}[{i}]"),
                        format!("Invalid value: {why}"),
                    ));
                }
            }
        }
        check_duration_with(
            out,
            "spec.corsPolicy.maxAge",
            &cors.max_age,
            limits::cors_max_age,
        );
    }
}

/// Field checks of `spec.mirror`.
fn check_mirror(out: &mut Vec<Finding>, spec: &TrafficPolicySpec) {
    if let Some(mirror) = &spec.mirror {
        match &mirror.kube_service {
            None => out.push(error(
                "spec.mirror.kubeService",
                "Required value: a mirror needs a kubeService destination",
            )),
            Some(ks) => {
                required(
                    out,
                    "spec.mirror.kubeService",
                    &[
                        ("name", &ks.name),
                        ("namespace", &ks.namespace),
                        ("clusterName", &ks.cluster_name),
                    ],
                );
                check_service_ref(
                    out,
                    "spec.mirror.kubeService",
                    &ks.name,
                    &ks.namespace,
                    &ks.cluster_name,
                );
            }
        }
        check_percentage(out, "spec.mirror.percentage", mirror.percentage);
        check_port(out, "spec.mirror.port", mirror.port);
    }
}

/// Field checks of `spec.headerManipulation`.
fn check_header_manipulation(out: &mut Vec<Finding>, spec: &TrafficPolicySpec) {
    if let Some(h) = &spec.header_manipulation {
        use limits::HeaderOperation::{AddRequest, Other};
        let f = "spec.headerManipulation";
        for (list, values, op) in [
            (
                "appendRequestHeaders",
                &h.append_request_headers,
                AddRequest,
            ),
            ("appendResponseHeaders", &h.append_response_headers, Other),
        ] {
            for (name, value) in values {
                if let Some(why) = limits::header_operation_name(name, op) {
                    out.push(error(
                        format!("{f}.{list}.{name}"),
                        format!("Invalid value: {why}"),
                    ));
                }
                if let Some(why) = limits::header_value(value) {
                    out.push(error(
                        format!("{f}.{list}.{name}"),
                        format!("Invalid value: {why}"),
                    ));
                }
            }
        }
        for (list, names) in [
            ("removeRequestHeaders", &h.remove_request_headers),
            ("removeResponseHeaders", &h.remove_response_headers),
        ] {
            for (i, name) in names.iter().enumerate() {
                if let Some(why) = limits::header_operation_name(name, Other) {
                    out.push(error(
                        format!("{f}.{list}[{i}]"),
                        format!("Invalid value: {why}"),
                    ));
                }
            }
        }
    }
}

/// Field checks of `spec.outlierDetection` (with the maxEjectionPercent and sourceSelector
/// lint) and `spec.mtls`.
fn check_outlier_and_mtls(out: &mut Vec<Finding>, spec: &TrafficPolicySpec) {
    if let Some(od) = &spec.outlier_detection {
        check_duration(out, "spec.outlierDetection.interval", &od.interval);
        check_duration(
            out,
            "spec.outlierDetection.baseEjectionTime",
            &od.base_ejection_time,
        );
        let p = od.max_ejection_percent;
        if p > 100 {
            out.push(error(
                "spec.outlierDetection.maxEjectionPercent",
                format!("Invalid value: {p}: must be between 0 and 100"),
            ));
        } else if p != 0 && p < 100 {
            out.push(warning(
                "spec.outlierDetection.maxEjectionPercent",
                format!(
                    "maxEjectionPercent {p} is below 100: Envoy 1.28 and later enforce it strictly, so with fewer than {} endpoints not one is ejected and failover never starts (SMH's default is 100; leave it unset)",
                    100_u32.div_ceil(p)
                ),
            ));
        }
        if !spec.source_selector.is_empty() {
            out.push(warning(
                "spec.sourceSelector",
                "outlierDetection with a sourceSelector: outlier detection is set only in the DestinationRules of the selected source clusters; SMH documents that sourceSelector should be empty for outlier detection",
            ));
        }
    }
    if let Some(mode) = spec
        .mtls
        .as_ref()
        .and_then(|m| m.istio.as_ref())
        .and_then(|i| i.tls_mode.as_ref())
        && !TLS_MODES.contains(&mode.as_str())
    {
        out.push(error(
            "spec.mtls.istio.tlsMode",
            format!(
                "Unsupported value: {mode:?}: supported values: {}",
                quoted(TLS_MODES)
            ),
        ));
    }
}

pub(super) fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
