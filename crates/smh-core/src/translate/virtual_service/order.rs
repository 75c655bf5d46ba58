//! Request matchers (SMH's grouping of policies with equal matchers), routes per port and
//! per matcher, and SMH's route order by specificity.

use super::*;

/// SMH's request matchers: one per source namespace (or one for the labels alone), then
/// the cartesian product with the HTTP matchers.
pub(crate) fn request_matchers(spec: &TrafficPolicySpec) -> Vec<HttpMatchRequest> {
    let mut source: Vec<HttpMatchRequest> = Vec::new();
    for sel in &spec.source_selector {
        if sel.labels.is_empty() && sel.namespaces.is_empty() {
            continue;
        }
        if sel.namespaces.is_empty() {
            source.push(HttpMatchRequest {
                source_labels: sel.labels.clone(),
                ..Default::default()
            });
        } else {
            for ns in &sel.namespaces {
                source.push(HttpMatchRequest {
                    source_namespace: Some(ns.clone()),
                    source_labels: sel.labels.clone(),
                    ..Default::default()
                });
            }
        }
    }
    if spec.http_request_matchers.is_empty() {
        return source;
    }
    if source.is_empty() {
        source.push(HttpMatchRequest::default());
    }
    let mut out = Vec::new();
    for s in &source {
        for m in &spec.http_request_matchers {
            out.push(http_matcher(s, m));
        }
    }
    out
}

fn http_matcher(source: &HttpMatchRequest, m: &HttpMatcher) -> HttpMatchRequest {
    let mut r = HttpMatchRequest {
        source_labels: source.source_labels.clone(),
        source_namespace: source.source_namespace.clone(),
        ..Default::default()
    };
    for h in &m.headers {
        let v = if h.regex {
            StringMatch::regex(&h.value)
        } else {
            StringMatch::exact(&h.value)
        };
        if h.invert_match {
            r.without_headers.insert(h.name.clone(), v);
        } else {
            r.headers.insert(h.name.clone(), v);
        }
    }
    for q in &m.query_parameters {
        let v = if q.regex {
            StringMatch::regex(&q.value)
        } else {
            StringMatch::exact(&q.value)
        };
        r.query_params.insert(q.name.clone(), v);
    }
    r.uri = if let Some(e) = &m.exact {
        Some(StringMatch::exact(e))
    } else if let Some(p) = &m.prefix {
        Some(StringMatch::prefix(p))
    } else {
        m.regex.as_ref().map(StringMatch::regex)
    };
    r.method = m.method.as_ref().map(|x| StringMatch::exact(&x.method));
    r
}

/// SMH's grouping key: source selectors equal ignoring clusters and order, and equal
/// HTTP matchers.
pub(super) fn same_request_matchers(a: &TrafficPolicySpec, b: &TrafficPolicySpec) -> bool {
    workload_selector_lists_equal(&a.source_selector, &b.source_selector)
        && a.http_request_matchers == b.http_request_matchers
}

fn workload_selector_lists_equal(a: &[WorkloadSelector], b: &[WorkloadSelector]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = b.iter().enumerate().position(|(i, y)| {
            !used[i]
                && x.labels == y.labels
                && x.namespaces.iter().collect::<BTreeSet<_>>()
                    == y.namespaces.iter().collect::<BTreeSet<_>>()
        });
        match found {
            Some(i) => {
                used[i] = true;
                true
            }
            None => false,
        }
    })
}

pub(super) fn per_port(route: HttpRoute, ports: &[u32]) -> Vec<HttpRoute> {
    if ports.len() <= 1 {
        return vec![route];
    }
    ports
        .iter()
        .map(|&port| {
            let mut r = route.clone();
            if r.matches.is_empty() {
                r.matches.push(HttpMatchRequest {
                    port: Some(port),
                    ..Default::default()
                });
            } else {
                for m in &mut r.matches {
                    m.port = Some(port);
                }
            }
            for d in &mut r.route {
                if d.destination.port.is_none() {
                    d.destination.port = Some(PortSelector { number: port });
                }
            }
            r
        })
        .collect()
}

pub(super) fn split_by_matchers(route: HttpRoute) -> Vec<HttpRoute> {
    if route.matches.len() <= 1 {
        return vec![route];
    }
    route
        .matches
        .iter()
        .map(|m| HttpRoute {
            matches: vec![m.clone()],
            ..route.clone()
        })
        .collect()
}

/// SMH's `RoutesBySpecificity` as a total order (more specific first): URI (exact, then
/// regex, then prefix; longer first; then lexical), number of headers, query parameters,
/// source labels (more first), source namespace (descending), method (set first, then by
/// SMH's HttpMethodValue order), number of negated headers, port (ascending). Routes
/// without a matcher come last. Ties keep input order (stable sort).
pub(super) fn route_specificity(a: &HttpRoute, b: &HttpRoute) -> Ordering {
    match (a.matches.first(), b.matches.first()) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => string_match_specificity(a.uri.as_ref(), b.uri.as_ref())
            .then_with(|| b.headers.len().cmp(&a.headers.len()))
            .then_with(|| b.query_params.len().cmp(&a.query_params.len()))
            .then_with(|| b.source_labels.len().cmp(&a.source_labels.len()))
            .then_with(|| b.source_namespace.cmp(&a.source_namespace))
            .then_with(|| method_specificity(a.method.as_ref(), b.method.as_ref()))
            .then_with(|| b.without_headers.len().cmp(&a.without_headers.len()))
            .then_with(|| a.port.cmp(&b.port)),
    }
}

fn string_match_specificity(a: Option<&StringMatch>, b: Option<&StringMatch>) -> Ordering {
    let parts = |m: Option<&StringMatch>| {
        let m = m.cloned().unwrap_or_default();
        [
            m.exact.unwrap_or_default(),
            m.regex.unwrap_or_default(),
            m.prefix.unwrap_or_default(),
        ]
    };
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = y.len().cmp(&x.len()).then_with(|| {
            if x.is_empty() {
                Ordering::Equal
            } else {
                x.cmp(y)
            }
        });
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn method_rank(m: &str) -> usize {
    const ORDER: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    ORDER.iter().position(|x| *x == m).unwrap_or(ORDER.len())
}

fn method_specificity(a: Option<&StringMatch>, b: Option<&StringMatch>) -> Ordering {
    let ea = a.and_then(|m| m.exact.as_deref()).unwrap_or_default();
    let eb = b.and_then(|m| m.exact.as_deref()).unwrap_or_default();
    match (ea.is_empty(), eb.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        // SMH put the larger enum value first.
        (false, false) => method_rank(eb)
            .cmp(&method_rank(ea))
            .then_with(|| ea.cmp(eb)),
    }
}
