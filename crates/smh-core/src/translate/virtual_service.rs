//! TrafficPolicy → VirtualService HTTP routes (SMH's VirtualService translator and its
//! decorators: traffic-shift, retries, timeout, fault-injection, mirror,
//! header-manipulation, cors).
//!
//! Decisions, where SMH versions differ:
//! - Policies with equal request matchers (source selector labels and namespaces, ignoring
//!   clusters and order, plus identical `httpRequestMatchers`) share **one** route, as in
//!   SMH v0.10+. v0.9.2 wrote one route per policy, so a second policy with the same
//!   matchers (say, retries next to a timeout) was shadowed by the first and silently had
//!   no effect. Two policies that set the same route field to different values conflict:
//!   the later one is reported for that traffic target, as SMH's field-ownership registry
//!   did.
//! - A policy whose `sourceSelector.clusters` does not include the cluster the
//!   VirtualService is written to is skipped (SMH checked only the first policy of a group).
//! - A single route destination has no `weight` (Istio treats it as 100 %).
//! - For a service with several ports, each route is repeated per port with `match.port`
//!   and, where the destination has no port yet, `destination.port`; ports set by a traffic
//!   shift are kept (SMH v0.10+; earlier releases overwrote them).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::istio::common::{Percent, PortSelector, StringMatch};
use crate::istio::virtual_service::{
    CorsPolicy, Destination, FaultAbort, FaultDelay, HeaderOperations, Headers, HttpFaultInjection,
    HttpMatchRequest, HttpRetry, HttpRoute, HttpRouteDestination,
};
use crate::model::diag::ObjectId;
use crate::model::naming;
use crate::model::topology::MultiClusterMode;
use crate::model::types::{
    HttpMatcher, TrafficPolicy, TrafficPolicySpec, WeightedDestination, WorkloadSelector,
};

use super::context::{Ctx, Policy, TargetId, TranslationNotes, proto_duration};

/// A label set selecting a subset (empty = no subset).
pub type Labels = BTreeMap<String, String>;

/// A traffic target that generated config in `consumer` routes to, so the consumer
/// needs a way to reach it (a federated DestinationRule in global mode, a per-cluster
/// subset in multi-primary mode).
#[derive(Debug, Clone)]
pub struct Use {
    pub consumer: String,
    pub target: TargetId,
    pub subset: Labels,
    pub owner: ObjectId,
}

/// The routes of one VirtualService and what they need.
#[derive(Debug, Default)]
pub struct Routes {
    pub http: Vec<HttpRoute>,
    pub owners: BTreeSet<ObjectId>,
    pub uses: Vec<Use>,
    /// Whether some route goes to the default destination (the service itself).
    pub default_destination: bool,
}

/// The subset name kubectl-smh uses in multi-primary mode for the endpoints of `cluster`
/// (label `topology.istio.io/cluster`), combined with a user subset if any:
/// `cluster-<cluster>` or `<subset>-cluster-<cluster>`, sanitized like SMH names.
pub fn multi_primary_subset_name(cluster: &str, subset: &Labels) -> String {
    if subset.is_empty() {
        naming::sanitize_name_v2(&format!("cluster-{cluster}"))
    } else {
        naming::sanitize_name_v2(&format!(
            "{}-cluster-{cluster}",
            naming::subset_name(subset)
        ))
    }
}

/// The labels of a multi-primary per-cluster subset: the user subset's, plus
/// `topology.istio.io/cluster: <cluster_id>`, the Istio cluster ID with which Istio labels
/// that cluster's endpoints (not the SMH cluster name, see [`Ctx::cluster_id`]).
pub fn multi_primary_subset_labels(cluster_id: &str, subset: &Labels) -> Labels {
    let mut labels = subset.clone();
    labels.insert(
        crate::consts::ISTIO_CLUSTER_LABEL.to_string(),
        cluster_id.to_string(),
    );
    labels
}

/// Host and subset by which workloads in `source` reach target `x` (with user subset
/// labels `subset`): in global mode the local FQDN in the same cluster and
/// `name.ns.svc.<cluster>.global` elsewhere; in multi-primary mode the shared
/// `name.ns.svc.<domain>` pinned to `x`'s cluster by a per-cluster subset.
pub fn destination_for(
    ctx: &Ctx,
    source: &str,
    x: &TargetId,
    subset: &Labels,
) -> (String, Option<String>) {
    match ctx.mode(source) {
        MultiClusterMode::MultiPrimary => (
            format!("{}.{}.svc.{}", x.name, x.namespace, ctx.domain(source)),
            Some(multi_primary_subset_name(&x.cluster, subset)),
        ),
        MultiClusterMode::Global => {
            let host = if x.cluster == source {
                ctx.local_fqdn(x)
            } else {
                Ctx::global_fqdn(x)
            };
            (
                host,
                (!subset.is_empty()).then(|| naming::subset_name(subset)),
            )
        }
    }
}

/// SMH's field-ownership registry: setting a field to the value it already has is a no-op;
/// the first policy to change it owns it; a later policy changing it again conflicts.
#[derive(Default)]
pub struct FieldOwners(BTreeMap<String, ObjectId>);

impl FieldOwners {
    pub fn register<T: PartialEq>(
        &mut self,
        field: &str,
        current: &T,
        new: &T,
        by: &ObjectId,
    ) -> Result<bool, String> {
        if current == new {
            return Ok(false);
        }
        if let Some(owner) = self.0.get(field)
            && owner != by
        {
            return Err(format!(
                "field {field} is already owned by *v1alpha2.TrafficPolicy [{}.{}.] (priority 0)",
                owner.name, owner.namespace
            ));
        }
        self.0.insert(field.to_string(), by.clone());
        Ok(true)
    }
}

/// Build the HTTP routes of the VirtualService for target `t` as written to cluster
/// `source` (its own cluster for the local VirtualService, another for a federated copy).
/// `default_host` is the target's host as seen from `source`.
pub fn build_routes(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    t: &TargetId,
    source: &str,
    default_host: &str,
) -> Routes {
    let mut out = Routes::default();
    let applied: Vec<&Policy> = ctx
        .applied
        .get(t)
        .map(|ids| ids.iter().map(|&i| &ctx.policies[i]).collect())
        .unwrap_or_default();

    // Group policies by equal request matchers, keeping first-seen order.
    let mut groups: Vec<Vec<&Policy>> = Vec::new();
    for p in applied {
        match groups
            .iter_mut()
            .find(|g| same_request_matchers(&g[0].tp.spec, &p.tp.spec))
        {
            Some(g) => g.push(p),
            None => groups.push(vec![p]),
        }
    }

    let ports = ctx.ports(t);
    for group in groups {
        let base = HttpRoute {
            matches: request_matchers(&group[0].tp.spec),
            ..Default::default()
        };
        let mut route = base.clone();
        let mut fields = FieldOwners::default();
        for p in group {
            if !crate::model::select::workload_selector_contains_cluster(
                &p.tp.spec.source_selector,
                source,
            ) {
                continue;
            }
            let before = route.clone();
            decorate(
                ctx,
                report,
                p,
                t,
                source,
                &mut route,
                &mut fields,
                &mut out.uses,
            );
            if route != before {
                out.owners.insert(p.id.clone());
            }
        }
        if route == base {
            continue;
        }
        if route.route.is_empty() {
            out.default_destination = true;
            route.route = vec![HttpRouteDestination {
                destination: Destination {
                    host: default_host.to_string(),
                    ..Default::default()
                },
                weight: None,
            }];
        }
        for r in per_port(route, &ports) {
            out.http.extend(split_by_matchers(r));
        }
    }
    out.http.sort_by(route_specificity);
    out
}

#[allow(clippy::too_many_arguments)]
fn decorate(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    p: &Policy,
    t: &TargetId,
    source: &str,
    route: &mut HttpRoute,
    fields: &mut FieldOwners,
    uses: &mut Vec<Use>,
) {
    let spec = &p.tp.spec;
    let set = |report: &mut TranslationNotes,
               decorator: &str,
               field: &str,
               result: Result<(), String>| {
        if let Err(e) = result {
            report.policy_error(p, t, field, format!("{decorator}: {e}"));
        }
    };

    if let Some(shift) = &spec.traffic_shift {
        let r = traffic_shift(ctx, report, p, source, &shift.destinations).and_then(
            |(dests, new_uses)| {
                if fields.register("route", &route.route, &dests, &p.id)? {
                    route.route = dests;
                    uses.extend(new_uses);
                }
                Ok(())
            },
        );
        set(report, "traffic-shift", "spec.trafficShift", r);
    }
    if let Some(retries) = &spec.retries {
        let r = (|| {
            let per_try_timeout = match &retries.per_try_timeout {
                Some(d) => proto_duration(d).map_err(|e| format!("perTryTimeout: {e}"))?,
                None => None,
            };
            let new = Some(HttpRetry {
                attempts: retries.attempts,
                per_try_timeout,
                retry_on: None,
            });
            if fields.register("retries", &route.retries, &new, &p.id)? {
                route.retries = new;
            }
            Ok(())
        })();
        set(report, "retries", "spec.retries", r);
    }
    if let Some(timeout) = &spec.request_timeout {
        let r = (|| {
            let new = proto_duration(timeout)?;
            if fields.register("timeout", &route.timeout, &new, &p.id)? {
                route.timeout = new;
            }
            Ok(())
        })();
        set(report, "timeout", "spec.requestTimeout", r);
    }
    if let Some(fault) = &spec.fault_injection {
        let r = (|| {
            let percentage = Some(Percent {
                value: fault.percentage,
            });
            let kinds = [
                fault.fixed_delay.is_some(),
                fault.exponential_delay.is_some(),
                fault.abort.is_some(),
            ];
            let new = match kinds {
                [false, false, false] => {
                    return Err("FaultInjection type must be specified.".to_string());
                }
                [true, false, false] => HttpFaultInjection {
                    delay: Some(FaultDelay {
                        fixed_delay: fault
                            .fixed_delay
                            .as_deref()
                            .map(proto_duration)
                            .transpose()
                            .map_err(|e| format!("fixedDelay: {e}"))?
                            .flatten(),
                        exponential_delay: None,
                        percentage,
                    }),
                    abort: None,
                },
                [false, true, false] => HttpFaultInjection {
                    delay: Some(FaultDelay {
                        fixed_delay: None,
                        exponential_delay: fault
                            .exponential_delay
                            .as_deref()
                            .map(proto_duration)
                            .transpose()
                            .map_err(|e| format!("exponentialDelay: {e}"))?
                            .flatten(),
                        percentage,
                    }),
                    abort: None,
                },
                [false, false, true] => HttpFaultInjection {
                    delay: None,
                    abort: Some(FaultAbort {
                        http_status: fault.abort.as_ref().map(|a| a.http_status),
                        percentage,
                    }),
                },
                _ => {
                    return Err(
                        "only one of fixedDelay, exponentialDelay and abort may be set".to_string(),
                    );
                }
            };
            let new = Some(new);
            if fields.register("fault", &route.fault, &new, &p.id)? {
                route.fault = new;
            }
            Ok(())
        })();
        set(report, "fault-injection", "spec.faultInjection", r);
    }
    if let Some(mirror) = &spec.mirror {
        let r = (|| {
            let kube = mirror
                .kube_service
                .as_ref()
                .ok_or("must set a destination type on mirror")?;
            let x = TargetId::new(&kube.name, &kube.namespace, &kube.cluster_name);
            let ports = match ctx.targets.get(&x) {
                Some(s) => s.ports.iter().map(|p| p.port).collect::<Vec<_>>(),
                None => {
                    return Err(format!(
                        "invalid mirror destination: traffic target {} not found",
                        x.key()
                    ));
                }
            };
            let port = check_port(mirror.port, &ports, "mirror", &x)?;
            let (host, subset) = destination_for(ctx, source, &x, &Labels::new());
            let new = Some(Destination { host, subset, port });
            if fields.register("mirror", &route.mirror, &new, &p.id)? {
                route.mirror = new;
                route.mirror_percentage = Some(Percent {
                    value: mirror.percentage,
                });
                uses.push(Use {
                    consumer: source.to_string(),
                    target: x,
                    subset: Labels::new(),
                    owner: p.id.clone(),
                });
            }
            Ok(())
        })();
        set(report, "mirror", "spec.mirror", r);
    }
    if let Some(h) = &spec.header_manipulation {
        let request = HeaderOperations {
            add: h.append_request_headers.clone(),
            remove: h.remove_request_headers.clone(),
            ..Default::default()
        };
        let response = HeaderOperations {
            add: h.append_response_headers.clone(),
            remove: h.remove_response_headers.clone(),
            ..Default::default()
        };
        let new = Some(Headers {
            request: (!request.is_empty()).then_some(request),
            response: (!response.is_empty()).then_some(response),
        });
        let r = fields
            .register("headers", &route.headers, &new, &p.id)
            .map(|changed| {
                if changed {
                    route.headers = new;
                }
            });
        set(report, "header-manipulation", "spec.headerManipulation", r);
    }
    if let Some(cors) = &spec.cors_policy {
        let r = (|| {
            let max_age = match &cors.max_age {
                Some(d) => proto_duration(d).map_err(|e| format!("maxAge: {e}"))?,
                None => None,
            };
            let new = Some(CorsPolicy {
                allow_origins: cors
                    .allow_origins
                    .iter()
                    .map(|o| StringMatch {
                        exact: o.exact.clone(),
                        prefix: o.prefix.clone(),
                        regex: o.regex.clone(),
                    })
                    .collect(),
                allow_methods: cors.allow_methods.clone(),
                allow_headers: cors.allow_headers.clone(),
                expose_headers: cors.expose_headers.clone(),
                max_age,
                allow_credentials: cors.allow_credentials,
            });
            if fields.register("corsPolicy", &route.cors_policy, &new, &p.id)? {
                route.cors_policy = new;
            }
            Ok(())
        })();
        set(report, "cors", "spec.corsPolicy", r);
    }
}

/// `port` if the destination has it; 0 is allowed only for a single-port destination.
fn check_port(
    port: u32,
    ports: &[u32],
    what: &str,
    x: &TargetId,
) -> Result<Option<PortSelector>, String> {
    if port != 0 {
        if !ports.contains(&port) {
            return Err(format!(
                "specified port {port} does not exist for {what} destination service {}",
                x.key()
            ));
        }
        Ok(Some(PortSelector { number: port }))
    } else if ports.len() > 1 {
        Err(format!(
            "must provide port for {what} destination service {} with multiple ports ({}) defined",
            x.key(),
            ports.len()
        ))
    } else {
        Ok(None)
    }
}

type ShiftResult = (Vec<HttpRouteDestination>, Vec<Use>);

fn traffic_shift(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    p: &Policy,
    source: &str,
    destinations: &[WeightedDestination],
) -> Result<ShiftResult, String> {
    let mut dests = Vec::new();
    let mut uses = Vec::new();
    let single = destinations.len() == 1;
    for (i, d) in destinations.iter().enumerate() {
        let weight = (!single && d.weight > 0).then(|| i32::try_from(d.weight).unwrap_or(i32::MAX));
        let destination = match (&d.kube_service, &d.failover_service) {
            (Some(k), None) => {
                let x = TargetId::new(&k.name, &k.namespace, &k.cluster_name);
                let ports = match ctx.targets.get(&x) {
                    Some(s) => s.ports.iter().map(|p| p.port).collect::<Vec<_>>(),
                    None => {
                        return Err(format!(
                            "invalid traffic shift destination {}: traffic target not found",
                            x.key()
                        ));
                    }
                };
                let port = check_port(k.port, &ports, "traffic shift", &x)?;
                let (host, subset) = destination_for(ctx, source, &x, &k.subset);
                uses.push(Use {
                    consumer: source.to_string(),
                    target: x,
                    subset: k.subset.clone(),
                    owner: p.id.clone(),
                });
                Destination { host, subset, port }
            }
            (None, Some(f)) => {
                let Some(fs) = ctx.failover(&f.namespace, &f.name) else {
                    let key = naming::object_key(&f.name, &f.namespace);
                    return Err(format!(
                        "invalid traffic shift destination {key}, FailoverService not found: *v1alpha2.FailoverService with id {key} not found"
                    ));
                };
                let visible = fs.fs.spec.meshes.iter().flatten().any(|m| {
                    ctx.cluster_of_mesh(&m.name)
                        .is_some_and(|c| c.name == source)
                });
                if !visible {
                    report.warning(
                        &p.source,
                        &p.id,
                        &format!("spec.trafficShift.destinations[{i}].failoverService"),
                        format!(
                            "FailoverService {}/{} is not visible in cluster {source} (its spec.meshes does not list that cluster's mesh), so no ServiceEntry or EnvoyFilter exists there for {}; requests routed to it will fail",
                            fs.namespace(),
                            fs.name(),
                            fs.fs.spec.hostname
                        ),
                    );
                }
                Destination {
                    host: fs.fs.spec.hostname.clone(),
                    subset: (!f.subset.is_empty()).then(|| naming::subset_name(&f.subset)),
                    port: fs.fs.spec.port.as_ref().map(|port| PortSelector {
                        number: port.number,
                    }),
                }
            }
            (None, None) => {
                return Err("must set a destination type on traffic shift destination".into());
            }
            (Some(_), Some(_)) => {
                return Err(format!(
                    "destination {i} sets both kubeService and failoverService; set one"
                ));
            }
        };
        dests.push(HttpRouteDestination {
            destination,
            weight,
        });
    }
    Ok((dests, uses))
}

/// SMH's request matchers: one per source namespace (or one for the labels alone), then
/// the cartesian product with the HTTP matchers.
pub fn request_matchers(spec: &TrafficPolicySpec) -> Vec<HttpMatchRequest> {
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
fn same_request_matchers(a: &TrafficPolicySpec, b: &TrafficPolicySpec) -> bool {
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

fn per_port(route: HttpRoute, ports: &[u32]) -> Vec<HttpRoute> {
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

fn split_by_matchers(route: HttpRoute) -> Vec<HttpRoute> {
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
fn route_specificity(a: &HttpRoute, b: &HttpRoute) -> Ordering {
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

/// Whether any policy field that becomes a VirtualService route is set.
pub fn has_route_fields(tp: &TrafficPolicy) -> bool {
    let s = &tp.spec;
    s.traffic_shift.is_some()
        || s.retries.is_some()
        || s.request_timeout.is_some()
        || s.fault_injection.is_some()
        || s.mirror.is_some()
        || s.header_manipulation.is_some()
        || s.cors_policy.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::types::{HeaderMatcher, HttpMethod, QueryParameterMatcher};

    #[test]
    fn cartesian_product_of_source_and_http_matchers() {
        let spec = TrafficPolicySpec {
            source_selector: vec![WorkloadSelector {
                labels: [("app".to_string(), "productpage".to_string())].into(),
                namespaces: vec!["a".into(), "b".into()],
                clusters: vec![],
            }],
            http_request_matchers: vec![
                HttpMatcher {
                    prefix: Some("/api".into()),
                    headers: vec![
                        HeaderMatcher {
                            name: "x-user".into(),
                            value: "jason".into(),
                            ..Default::default()
                        },
                        HeaderMatcher {
                            name: "x-debug".into(),
                            value: "1".into(),
                            regex: true,
                            invert_match: true,
                        },
                    ],
                    query_parameters: vec![QueryParameterMatcher {
                        name: "q".into(),
                        value: "v".into(),
                        regex: false,
                    }],
                    method: Some(HttpMethod {
                        method: "GET".into(),
                    }),
                    ..Default::default()
                },
                HttpMatcher {
                    exact: Some("/health".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let m = request_matchers(&spec);
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].source_namespace.as_deref(), Some("a"));
        assert_eq!(m[0].uri, Some(StringMatch::prefix("/api")));
        assert_eq!(m[0].headers["x-user"], StringMatch::exact("jason"));
        assert_eq!(m[0].without_headers["x-debug"], StringMatch::regex("1"));
        assert_eq!(m[0].query_params["q"], StringMatch::exact("v"));
        assert_eq!(m[0].method, Some(StringMatch::exact("GET")));
        assert_eq!(m[1].uri, Some(StringMatch::exact("/health")));
        assert_eq!(m[2].source_namespace.as_deref(), Some("b"));
        assert_eq!(m[3].source_labels["app"], "productpage");
    }

    #[test]
    fn source_only_matchers() {
        let spec = TrafficPolicySpec {
            source_selector: vec![
                WorkloadSelector {
                    labels: [("app".to_string(), "x".to_string())].into(),
                    ..Default::default()
                },
                // clusters only: no matcher
                WorkloadSelector {
                    clusters: vec!["c".into()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let m = request_matchers(&spec);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].source_labels["app"], "x");
        assert!(request_matchers(&TrafficPolicySpec::default()).is_empty());
    }

    #[test]
    fn specificity_order() {
        let r = |m: HttpMatchRequest| HttpRoute {
            matches: vec![m],
            ..Default::default()
        };
        let mut routes = [
            HttpRoute::default(),
            r(HttpMatchRequest {
                uri: Some(StringMatch::prefix("/a")),
                ..Default::default()
            }),
            r(HttpMatchRequest {
                uri: Some(StringMatch::prefix("/abc")),
                ..Default::default()
            }),
            r(HttpMatchRequest {
                uri: Some(StringMatch::exact("/a")),
                ..Default::default()
            }),
            r(HttpMatchRequest {
                uri: Some(StringMatch::regex("/a.*")),
                ..Default::default()
            }),
            r(HttpMatchRequest {
                port: Some(2),
                ..Default::default()
            }),
            r(HttpMatchRequest {
                port: Some(1),
                ..Default::default()
            }),
        ];
        routes.sort_by(route_specificity);
        let uris: Vec<String> = routes
            .iter()
            .map(|r| match r.matches.first() {
                None => "none".into(),
                Some(m) => format!("{:?}/{:?}", m.uri, m.port),
            })
            .collect();
        assert_eq!(
            uris,
            vec![
                format!("{:?}/None", Some(StringMatch::exact("/a"))),
                format!("{:?}/None", Some(StringMatch::regex("/a.*"))),
                format!("{:?}/None", Some(StringMatch::prefix("/abc"))),
                format!("{:?}/None", Some(StringMatch::prefix("/a"))),
                "None/Some(1)".to_string(),
                "None/Some(2)".to_string(),
                "none".to_string(),
            ]
        );
    }

    #[test]
    fn multi_primary_subset_names() {
        assert_eq!(
            multi_primary_subset_name("remote-cluster", &Labels::new()),
            "cluster-remote-cluster"
        );
        let s: Labels = [("version".to_string(), "v1".to_string())].into();
        assert_eq!(
            multi_primary_subset_name("Mgmt", &s),
            "version-v1-cluster-mgmt"
        );
        let l = multi_primary_subset_labels("c1", &s);
        assert_eq!(l["topology.istio.io/cluster"], "c1");
        assert_eq!(l["version"], "v1");
    }

    #[test]
    fn field_owners_conflict_only_on_different_values() {
        let a = ObjectId {
            kind: "TrafficPolicy".into(),
            namespace: "ns".into(),
            name: "a".into(),
        };
        let b = ObjectId {
            name: "b".into(),
            ..a.clone()
        };
        let mut f = FieldOwners::default();
        assert_eq!(f.register("retries", &None, &Some(1), &a), Ok(true));
        assert_eq!(f.register("retries", &Some(1), &Some(1), &b), Ok(false));
        assert_eq!(
            f.register("retries", &Some(1), &Some(2), &b),
            Err(
                "field retries is already owned by *v1alpha2.TrafficPolicy [a.ns.] (priority 0)"
                    .into()
            )
        );
    }
}
