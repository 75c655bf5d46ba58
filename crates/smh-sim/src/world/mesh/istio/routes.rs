//! The routes a proxy gets: a virtual host per registry host and port, its routes from the
//! VirtualServices that apply (matches, retries, faults, weighted destinations) or the default
//! route to the host's own cluster.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::registry::{RegHost, RegKind};
use super::{
    Builder, by_age, duration_of, fqdn, host_matches, labels_of, meta, obj_id, s, subset_of,
    u32_of, visible,
};
use crate::world::mesh::xds::{
    Fault, RetryPolicy, Route, RouteAction, RouteMatch, StringMatch, VirtualHost,
};

impl Builder<'_> {
    pub(super) fn routes(&mut self, registry: &[RegHost]) -> BTreeMap<u16, Vec<VirtualHost>> {
        let proxy_ns = self.inputs.proxy.namespace.clone();
        // VirtualService per registry host (oldest VS wins for a host).
        let mut vs_for: BTreeMap<String, Value> = BTreeMap::new();
        for vs in by_age(&self.inputs.virtual_services) {
            if !visible(vs, &proxy_ns) {
                continue;
            }
            let gateways: Vec<&str> = vs
                .pointer("/spec/gateways")
                .and_then(Value::as_array)
                .map(|g| g.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !gateways.is_empty() && !gateways.contains(&"mesh") {
                continue;
            }
            let vs_ns = meta(vs, "namespace");
            for h in vs
                .pointer("/spec/hosts")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                .unwrap_or_default()
            {
                let pattern = fqdn(h, vs_ns, self.domain());
                for reg in registry.iter().filter(|r| host_matches(&pattern, &r.host)) {
                    if let Some(prev) = vs_for.get(&reg.host) {
                        if meta(prev, "name") != meta(vs, "name")
                            || meta(prev, "namespace") != vs_ns
                        {
                            self.diagnostics.push(format!(
                                "VirtualService {} also claims {}; the older {} is used",
                                obj_id(vs),
                                reg.host,
                                obj_id(prev)
                            ));
                        }
                        continue;
                    }
                    vs_for.insert(reg.host.clone(), vs.clone());
                }
            }
        }
        let mut tables: BTreeMap<u16, Vec<VirtualHost>> = BTreeMap::new();
        for reg in registry {
            for (_, port) in &reg.ports {
                let routes = match vs_for.get(&reg.host) {
                    Some(vs) => self.vs_routes(vs, *port, registry),
                    None => vec![Route {
                        name: "default".to_string(),
                        matches: Vec::new(),
                        action: RouteAction::Clusters(vec![(
                            self.cluster_name(*port, "", &reg.host),
                            100,
                        )]),
                        timeout: None,
                        retry: Some(self.default_retry()),
                        fault: None,
                        rewrite_uri: None,
                    }],
                };
                tables.entry(*port).or_default().push(VirtualHost {
                    name: format!("{}:{port}", reg.host),
                    domains: self.domains(reg, *port),
                    routes,
                });
            }
        }
        tables
    }

    fn domains(&self, reg: &RegHost, port: u16) -> Vec<String> {
        let mut names: Vec<String> = vec![reg.host.clone()];
        if let Some(short) = &reg.short_name {
            if reg.namespace == self.inputs.proxy.namespace {
                names.push(short.clone());
            }
            names.push(format!("{short}.{}", reg.namespace));
            names.push(format!("{short}.{}.svc", reg.namespace));
        }
        if let Some(ip) = &reg.cluster_ip
            && !ip.is_empty()
            && ip != "None"
        {
            names.push(ip.clone());
        }
        if let RegKind::Entry { addresses, .. } = &reg.kind {
            names.extend(addresses.iter().cloned());
        }
        let mut out = Vec::new();
        for n in names {
            out.push(format!("{n}:{port}"));
            out.push(n);
        }
        out
    }

    fn string_match(&mut self, vs: &Value, v: &Value) -> Option<StringMatch> {
        if let Some(e) = s(v, "exact") {
            Some(StringMatch::Exact(e.to_string()))
        } else if let Some(p) = s(v, "prefix") {
            Some(StringMatch::Prefix(p.to_string()))
        } else if let Some(r) = s(v, "regex") {
            match regex::Regex::new(&format!("^(?:{r})$")) {
                Ok(re) => Some(StringMatch::Regex(re)),
                Err(e) => {
                    self.diagnostics.push(format!(
                        "VirtualService {}: regex {r:?} does not compile ({e}); it never matches",
                        obj_id(vs)
                    ));
                    Some(StringMatch::Exact("\u{0}never".to_string()))
                }
            }
        } else {
            None
        }
    }

    fn named_matches(&mut self, vs: &Value, m: &Value, key: &str) -> Vec<(String, StringMatch)> {
        let mut out = Vec::new();
        if let Some(map) = m.get(key).and_then(Value::as_object) {
            for (name, sm) in map {
                if let Some(sm) = self.string_match(vs, sm) {
                    out.push((name.to_ascii_lowercase(), sm));
                } else {
                    // `{}` means "present" for headers; model as a prefix of "".
                    out.push((
                        name.to_ascii_lowercase(),
                        StringMatch::Prefix(String::new()),
                    ));
                }
            }
        }
        out
    }

    /// Convert one Istio match into a request match, or `None` when its proxy-level
    /// conditions exclude this proxy or this listener port.
    fn route_match(&mut self, vs: &Value, m: &Value, port: u16) -> Option<RouteMatch> {
        let proxy = &self.inputs.proxy;
        if let Some(p) = m.get("port").and_then(u32_of)
            && p != u32::from(port)
        {
            return None;
        }
        if let Some(gws) = m.get("gateways").and_then(Value::as_array)
            && !gws.is_empty()
            && !gws.iter().any(|g| g.as_str() == Some("mesh"))
        {
            return None;
        }
        if let Some(ns) = s(m, "sourceNamespace")
            && ns != proxy.namespace
        {
            return None;
        }
        let source_labels = labels_of(m.get("sourceLabels"));
        if !subset_of(&source_labels, &proxy.labels) {
            return None;
        }
        let uri = m.get("uri").and_then(|u| self.string_match(vs, u));
        let method = m.get("method").and_then(|u| self.string_match(vs, u));
        let authority = m.get("authority").and_then(|u| self.string_match(vs, u));
        Some(RouteMatch {
            uri,
            ignore_uri_case: m
                .get("ignoreUriCase")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            method,
            authority,
            headers: self.named_matches(vs, m, "headers"),
            without_headers: self.named_matches(vs, m, "withoutHeaders"),
            query_params: self.named_matches(vs, m, "queryParams"),
        })
    }

    fn retry_policy(&self, retries: Option<&Value>) -> Option<RetryPolicy> {
        let Some(r) = retries else {
            return Some(self.default_retry());
        };
        let attempts = r.get("attempts").and_then(Value::as_i64).unwrap_or(0);
        if attempts <= 0 {
            return None;
        }
        let mut p = self.default_retry();
        p.num_retries = attempts.min(i64::from(u32::MAX)) as u32;
        if let Some(on) = s(r, "retryOn").filter(|s| !s.trim().is_empty()) {
            let mut conditions = BTreeSet::new();
            let mut codes = Vec::new();
            for part in on.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part.parse::<u16>() {
                    Ok(code) => codes.push(code),
                    Err(_) => {
                        conditions.insert(part.to_string());
                    }
                }
            }
            if !codes.is_empty() {
                conditions.insert("retriable-status-codes".to_string());
            }
            p.retry_on = conditions;
            p.retriable_status_codes = codes;
        }
        p.per_try_timeout = duration_of(r.get("perTryTimeout"));
        if r.get("retryRemoteLocalities").and_then(Value::as_bool) == Some(true) {
            p.previous_priorities = Some(2);
        }
        Some(p)
    }

    fn fault(v: Option<&Value>) -> Option<Fault> {
        let v = v?;
        let pct = |x: &Value| {
            x.pointer("/percentage/value")
                .and_then(Value::as_f64)
                .or_else(|| x.get("percent").and_then(Value::as_f64))
                .unwrap_or(100.0)
        };
        let delay = v
            .get("delay")
            .and_then(|d| duration_of(d.get("fixedDelay")).map(|t| (t, pct(d))));
        let abort = v.get("abort").and_then(|a| {
            a.get("httpStatus")
                .and_then(u32_of)
                .map(|code| (code as u16, pct(a)))
        });
        (delay.is_some() || abort.is_some()).then_some(Fault { delay, abort })
    }

    fn vs_routes(&mut self, vs: &Value, port: u16, registry: &[RegHost]) -> Vec<Route> {
        let vs_ns = meta(vs, "namespace").to_string();
        let http: Vec<Value> = vs
            .pointer("/spec/http")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut routes = Vec::new();
        for (i, r) in http.iter().enumerate() {
            let name = s(r, "name")
                .map(str::to_string)
                .unwrap_or_else(|| format!("{}#{i}", obj_id(vs)));
            let raw_matches: Vec<Value> = r
                .get("match")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let matches: Vec<RouteMatch> = raw_matches
                .iter()
                .filter_map(|m| self.route_match(vs, m, port))
                .collect();
            if !raw_matches.is_empty() && matches.is_empty() {
                continue; // no match applies to this proxy/port
            }
            let action = if let Some(dr) = r.get("directResponse") {
                RouteAction::DirectResponse {
                    status: dr.get("status").and_then(u32_of).unwrap_or(200) as u16,
                    body: dr
                        .pointer("/body/string")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                }
            } else if let Some(rd) = r.get("redirect") {
                RouteAction::Redirect {
                    status: rd.get("redirectCode").and_then(u32_of).unwrap_or(301) as u16,
                    authority: s(rd, "authority").map(str::to_string),
                    uri: s(rd, "uri").map(str::to_string),
                }
            } else {
                let dests: Vec<(String, u32)> = r
                    .get("route")
                    .and_then(Value::as_array)
                    .map(|ds| {
                        ds.iter()
                            .filter_map(|d| {
                                let dest = d.get("destination")?;
                                let host = fqdn(s(dest, "host")?, &vs_ns, self.domain());
                                let subset = s(dest, "subset").unwrap_or("");
                                let dport = dest
                                    .pointer("/port/number")
                                    .and_then(u32_of)
                                    .map(|p| p as u16)
                                    .or_else(|| {
                                        registry.iter().find(|h| h.host == host).and_then(|h| {
                                            (h.ports.len() == 1).then(|| h.ports[0].1)
                                        })
                                    })
                                    .unwrap_or(port);
                                let weight = d.get("weight").and_then(u32_of);
                                Some((self.cluster_name(dport, subset, &host), weight))
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(c, w)| (c, w.unwrap_or(0)))
                    .collect();
                if dests.is_empty() {
                    self.diagnostics.push(format!(
                        "VirtualService {}: http route {i} has no destination; skipped",
                        obj_id(vs)
                    ));
                    continue;
                }
                // Istio: a single destination gets 100; unset weights share nothing.
                let dests = if dests.len() == 1 {
                    vec![(dests[0].0.clone(), 100)]
                } else {
                    dests
                };
                RouteAction::Clusters(dests)
            };
            routes.push(Route {
                name,
                matches,
                action,
                timeout: duration_of(r.get("timeout")).filter(|d| !d.is_zero()),
                retry: self.retry_policy(r.get("retries")),
                fault: Self::fault(r.get("fault")),
                rewrite_uri: r
                    .pointer("/rewrite/uri")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        routes
    }
}
