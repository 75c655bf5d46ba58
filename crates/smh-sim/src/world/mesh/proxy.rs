//! One sidecar's Envoy at run time, as a pure state machine with an injected clock: route
//! selection, priority and host selection, outlier detection, retries.
//!
//! What it models of Envoy (checked against Envoy 1.40 on loopback; the measurements are in
//! docs/simulator.md):
//! - **Outlier detection** per cluster ([`super::outlier`]).
//! - **The update merge window.** A health change (ejection or un-ejection) reaches the load
//!   balancer at once only when the cluster's previous host update is more than
//!   `update_merge_window` (1 s, Envoy's default; Istio does not set it) old; otherwise it is
//!   delivered when the window closes. Host additions and removals are delivered at once.
//!   This is why a primary that is still broken when its ejection runs out serves about one
//!   second of errors before the re-ejection takes effect.
//! - **Priorities.** An aggregate cluster's sub-clusters are priority levels in order. A
//!   level's health is `min(100, 140 × healthy / hosts)` (overprovisioning factor 1.4), load
//!   goes to the first levels up to their health, and the rest spills to the next ones; with
//!   no healthy host anywhere the load follows host counts (total panic).
//! - **Host selection** round-robin over a level's healthy hosts (sent healthy by istiod and
//!   not ejected; an unready pod is sent `UNHEALTHY` and still counts in its level's size);
//!   Envoy's panic mode (all hosts when fewer than `healthy_panic_threshold` % are healthy;
//!   istiod sets 0 on the clusters it generates, and then no healthy host means
//!   `503 no healthy upstream`).
//! - **Retries** with `retry_on` conditions, retriable status codes, per-try timeouts,
//!   Envoy's jittered back-off (25 ms base), the `previous_hosts` predicate and the
//!   `previous_priorities` retry priority.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::outlier::{AttemptResult, Detector};
use super::rng::Rng;
use super::xds::{
    ClusterDef, Endpoint, EndpointCluster, ProxyConfig, RetryPolicy, RouteAction, RouteMatch,
};

/// Envoy's default overprovisioning factor, in percent.
const OVERPROVISIONING: u64 = 140;
/// Envoy's default retry back-off base interval.
const RETRY_BASE: Duration = Duration::from_millis(25);

/// An outbound request as the application sends it to its sidecar.
#[derive(Debug, Clone, Default)]
pub(crate) struct Request {
    /// The Host header, e.g. `reviews:9080`.
    pub authority: String,
    /// The listener port the connection went to (the port in the URL).
    pub port: u16,
    pub method: String,
    pub path: String,
    /// Lowercase names.
    pub headers: BTreeMap<String, String>,
}

/// A response Envoy generates itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalReply {
    pub status: u16,
    pub body: String,
    /// Envoy's response flag (`UH`, `UF`, `NR`, `NC`, `FI`, `UT`, `URX`, `DR`...).
    pub flag: &'static str,
    /// `location` header of a redirect.
    pub location: Option<String>,
}

impl LocalReply {
    fn new(status: u16, body: &str, flag: &'static str) -> Self {
        LocalReply {
            status,
            body: body.to_string(),
            flag,
            location: None,
        }
    }

    pub(crate) fn no_healthy_upstream() -> Self {
        Self::new(503, "no healthy upstream", "UH")
    }
}

/// One request in flight through the proxy.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub cluster: String,
    /// The path to send upstream (after a `rewrite`).
    pub path: String,
    pub retry: Option<RetryPolicy>,
    /// Fault injection delay to apply before anything else.
    pub fault_delay: Option<Duration>,
    /// A reply decided by routing (fault abort, direct response, redirect), sent after the
    /// delay instead of going upstream.
    pub immediate: Option<LocalReply>,
    deadline: Option<Duration>,
    attempts: u32,
    attempted_hosts: Vec<String>,
    attempted_levels: Vec<usize>,
    excluded_levels: BTreeSet<usize>,
    last: Option<AttemptResult>,
    /// A retry of this request waits for its back-off (and counts against the cluster's
    /// `max_retries` circuit breaker until its next attempt).
    waiting_retry: bool,
}

impl Exchange {
    /// Number of upstream attempts made so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// The host picked for one attempt.
#[derive(Debug, Clone)]
pub(crate) struct Pick {
    pub endpoint: Endpoint,
    /// The endpoint cluster the host belongs to (a sub-cluster for aggregates).
    pub cluster: String,
    level: usize,
    /// How long this attempt may take (per-try timeout and the route timeout).
    pub timeout: Option<Duration>,
}

impl Pick {
    /// The priority level the host was picked from: the index of its sub-cluster in an
    /// aggregate cluster (0 for the first, and for any plain cluster).
    pub(crate) fn level(&self) -> usize {
        self.level
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AfterAttempt {
    /// Try again after this back-off.
    Retry(Duration),
    /// The upstream's response stands (pass it to the application).
    Respond,
    /// Answer with this local reply (the last attempt failed without a response, or the
    /// route timeout ran out).
    Reply(LocalReply),
}

#[derive(Debug, Clone)]
struct ClusterRuntime {
    def: EndpointCluster,
    detector: Option<Detector>,
    /// Hosts the load balancer currently believes healthy.
    view: BTreeSet<String>,
    last_update: Option<Duration>,
    pending: Option<Duration>,
    rr: u64,
}

impl ClusterRuntime {
    fn new(def: EndpointCluster, now: Duration) -> Self {
        let keys = def.keys();
        let detector = def
            .outlier
            .clone()
            .map(|c| Detector::new(c, now, keys.iter().map(String::as_str)));
        ClusterRuntime {
            view: def.healthy_keys(),
            def,
            detector,
            last_update: None,
            pending: None,
            rr: 0,
        }
    }

    /// Hosts istiod sends as healthy and the outlier detector has not ejected.
    fn current_healthy(&self) -> BTreeSet<String> {
        let keys = self.def.healthy_keys();
        match &self.detector {
            Some(d) => keys.into_iter().filter(|k| !d.is_ejected(k)).collect(),
            None => keys,
        }
    }

    fn deliver(&mut self, at: Duration) {
        self.view = self.current_healthy();
        self.last_update = Some(at);
        self.pending = None;
    }

    /// A mergeable (health) update at `now`.
    fn health_changed(&mut self, now: Duration) {
        let out_of_window = self
            .last_update
            .is_none_or(|t| now.saturating_sub(t) > self.def.merge_window);
        if out_of_window {
            self.deliver(now);
        } else if self.pending.is_none() {
            self.pending = Some(now + self.def.merge_window);
        }
    }

    fn healthy_count(&self) -> usize {
        self.def
            .endpoints
            .iter()
            .filter(|e| self.view.contains(&e.key))
            .count()
    }

    fn health(&self) -> u64 {
        let total = self.def.endpoints.len() as u64;
        if total == 0 {
            return 0;
        }
        (OVERPROVISIONING * self.healthy_count() as u64 / total).min(100)
    }

    /// Envoy's `chooseHostOnce` for a single-priority cluster.
    fn choose_once(&mut self) -> Option<Endpoint> {
        let total = self.def.endpoints.len();
        if total == 0 {
            return None;
        }
        let healthy: Vec<&Endpoint> = self
            .def
            .endpoints
            .iter()
            .filter(|e| self.view.contains(&e.key))
            .collect();
        let healthy_pct = 100 * healthy.len() as u64 / total as u64;
        let panic = self.health() < 100 && healthy_pct < u64::from(self.def.panic_threshold);
        let candidates: Vec<&Endpoint> = if panic {
            self.def.endpoints.iter().collect()
        } else {
            healthy
        };
        if candidates.is_empty() {
            return None;
        }
        let pick = candidates[(self.rr % candidates.len() as u64) as usize].clone();
        self.rr = self.rr.wrapping_add(1);
        Some(pick)
    }
}

/// Envoy's `distributeLoad`: load per level from health (or, with no health anywhere, from
/// host counts).
fn priority_loads(health: &[u64], hosts: &[usize]) -> Vec<u64> {
    let mut loads = vec![0; health.len()];
    if health.is_empty() {
        return loads;
    }
    let total: u64 = health.iter().sum::<u64>().min(100);
    if total == 0 {
        let total_hosts: usize = hosts.iter().sum();
        if total_hosts == 0 {
            loads[0] = 100;
            return loads;
        }
        let mut remaining = 100;
        let mut first = None;
        for (i, h) in hosts.iter().enumerate() {
            if first.is_none() && *h > 0 {
                first = Some(i);
            }
            loads[i] = 100 * *h as u64 / total_hosts as u64;
            remaining -= loads[i];
        }
        if let Some(f) = first {
            loads[f] += remaining;
        }
        return loads;
    }
    let mut remaining: u64 = 100;
    let mut first = None;
    for (i, h) in health.iter().enumerate() {
        if first.is_none() && *h > 0 {
            first = Some(i);
        }
        loads[i] = remaining.min(h * 100 / total);
        remaining -= loads[i];
    }
    if let Some(f) = first {
        loads[f] += remaining;
    }
    loads
}

#[cfg(test)]
/// A snapshot of one cluster's state, for explanations and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterState {
    pub hosts: Vec<String>,
    /// Hosts the outlier detector has ejected.
    pub ejected: BTreeSet<String>,
    /// Hosts the load balancer currently treats as healthy.
    pub lb_healthy: BTreeSet<String>,
    pub ejections_enforced_total: u64,
}

/// The proxy.
#[derive(Debug, Clone)]
pub(crate) struct Proxy {
    config: ProxyConfig,
    clusters: BTreeMap<String, ClusterRuntime>,
    rng: Rng,
    /// Per route cluster: retries waiting for their back-off (Envoy's retry circuit breaker
    /// counts a retry from the moment it is scheduled until it is sent).
    retries_waiting: BTreeMap<String, u32>,
}

impl Proxy {
    pub(crate) fn new(seed: u64) -> Self {
        Proxy {
            config: ProxyConfig::default(),
            clusters: BTreeMap::new(),
            rng: Rng::new(seed),
            retries_waiting: BTreeMap::new(),
        }
    }

    pub(crate) fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Apply a configuration push at `now`. Clusters whose definition is unchanged keep
    /// their outlier detection and load-balancer state; a change of hosts is delivered to
    /// the load balancer at once.
    pub(crate) fn update_config(&mut self, config: ProxyConfig, now: Duration) {
        self.advance(now);
        let mut next = BTreeMap::new();
        for (name, def) in &config.clusters {
            let ClusterDef::Endpoints(def) = def else {
                continue;
            };
            let rt = match self.clusters.remove(name) {
                Some(mut rt) if rt.def.same_definition(def) => {
                    let hosts_changed = rt.def.keys() != def.keys();
                    // EDS health (a pod becoming unready or ready) arrives with the hosts,
                    // not through the merge window.
                    let health_changed = rt.def.healthy_keys() != def.healthy_keys();
                    rt.def = def.clone();
                    if hosts_changed || health_changed {
                        if let Some(d) = rt.detector.as_mut() {
                            d.set_hosts(&def.keys());
                        }
                        rt.deliver(now);
                    }
                    rt
                }
                _ => ClusterRuntime::new(def.clone(), now),
            };
            next.insert(name.clone(), rt);
        }
        self.clusters = next;
        self.config = config;
    }

    /// Run every timer due up to `now`: outlier detection intervals and merged updates.
    pub(crate) fn advance(&mut self, now: Duration) {
        loop {
            let mut next: Option<(Duration, String, bool)> = None;
            for (name, rt) in &self.clusters {
                if let Some(p) = rt.pending
                    && p <= now
                    && next.as_ref().is_none_or(|(t, _, _)| p < *t)
                {
                    next = Some((p, name.clone(), true));
                }
                if let Some(d) = &rt.detector {
                    let t = d.next_tick();
                    if t <= now && next.as_ref().is_none_or(|(n, _, _)| t < *n) {
                        next = Some((t, name.clone(), false));
                    }
                }
            }
            let Some((at, name, is_merge)) = next else {
                break;
            };
            let Some(rt) = self.clusters.get_mut(&name) else {
                break;
            };
            if is_merge {
                rt.deliver(at);
            } else if let Some(d) = rt.detector.as_mut() {
                if d.is_idle() {
                    // Ticks change nothing while no host is ejected or backing off.
                    d.skip_idle_ticks(now);
                    continue;
                }
                let unejected = d.tick();
                if !unejected.is_empty() {
                    rt.health_changed(at);
                }
            }
        }
    }

    /// Route a request: find the virtual host and route, decide fault injection and the
    /// destination cluster.
    pub(crate) fn start(&mut self, req: &Request, now: Duration) -> Result<Exchange, LocalReply> {
        self.advance(now);
        let not_found = || LocalReply::new(404, "", "NR");
        let table = self.config.routes.get(&req.port).ok_or_else(not_found)?;
        let authority = req.authority.to_ascii_lowercase();
        let vhost = table
            .iter()
            .find(|vh| vh.domains.contains(&authority))
            .ok_or_else(not_found)?;
        let path_only = req.path.split('?').next().unwrap_or("");
        let query = query_params(&req.path);
        let route = vhost
            .routes
            .iter()
            .find(|r| {
                r.matches.is_empty()
                    || r.matches
                        .iter()
                        .any(|m| route_matches(m, req, path_only, &query))
            })
            .ok_or_else(not_found)?
            .clone();
        let mut ex = Exchange {
            cluster: String::new(),
            path: req.path.clone(),
            retry: route.retry.clone(),
            fault_delay: None,
            immediate: None,
            deadline: route.timeout.map(|t| now + t),
            attempts: 0,
            attempted_hosts: Vec::new(),
            attempted_levels: Vec::new(),
            excluded_levels: BTreeSet::new(),
            last: None,
            waiting_retry: false,
        };
        if let Some(fault) = &route.fault {
            if let Some((d, pct)) = fault.delay
                && self.rng.percent_f64(pct)
            {
                ex.fault_delay = Some(d);
            }
            if let Some((status, pct)) = fault.abort
                && self.rng.percent_f64(pct)
            {
                ex.immediate = Some(LocalReply::new(status, "fault filter abort", "FI"));
                return Ok(ex);
            }
        }
        match &route.action {
            RouteAction::DirectResponse { status, body } => {
                ex.immediate = Some(LocalReply::new(*status, body, "DR"));
            }
            RouteAction::Redirect {
                status,
                authority,
                uri,
            } => {
                let mut reply = LocalReply::new(*status, "", "DR");
                reply.location = Some(format!(
                    "http://{}{}",
                    authority.as_deref().unwrap_or(&req.authority),
                    uri.as_deref().unwrap_or(&req.path)
                ));
                ex.immediate = Some(reply);
            }
            RouteAction::Clusters(dests) => {
                let total: u64 = dests.iter().map(|(_, w)| u64::from(*w)).sum();
                let mut pick = self.rng.below(total.max(1));
                let mut chosen = dests.first().map(|(c, _)| c.clone()).unwrap_or_default();
                for (c, w) in dests {
                    if pick < u64::from(*w) {
                        chosen = c.clone();
                        break;
                    }
                    pick -= u64::from(*w);
                }
                ex.cluster = chosen;
            }
        }
        if let Some(rewrite) = &route.rewrite_uri
            && let RouteAction::Clusters(_) = route.action
        {
            // Istio's `rewrite.uri` replaces the matched prefix (or the whole path).
            let matched_prefix = route.matches.iter().find_map(|m| match &m.uri {
                Some(super::xds::StringMatch::Prefix(p)) if req.path.starts_with(p.as_str()) => {
                    Some(p.clone())
                }
                _ => None,
            });
            ex.path = match matched_prefix {
                Some(p) => format!("{rewrite}{}", &req.path[p.len()..]),
                None => rewrite.clone(),
            };
        }
        Ok(ex)
    }

    fn levels(&self, cluster: &str) -> Option<Vec<String>> {
        match self.config.clusters.get(cluster)? {
            ClusterDef::Endpoints(_) => Some(vec![cluster.to_string()]),
            ClusterDef::Aggregate(a) => Some(
                a.clusters
                    .iter()
                    .filter(|c| self.clusters.contains_key(*c))
                    .cloned()
                    .collect(),
            ),
        }
    }

    /// Stop counting `ex`'s waiting retry against the circuit breaker: its back-off is over,
    /// or the caller went away.
    pub(crate) fn release_retry(&mut self, ex: &mut Exchange) {
        if ex.waiting_retry {
            ex.waiting_retry = false;
            if let Some(n) = self.retries_waiting.get_mut(&ex.cluster) {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// Pick the host for the next attempt of `ex`.
    pub(crate) fn next_attempt(
        &mut self,
        ex: &mut Exchange,
        now: Duration,
    ) -> Result<Pick, LocalReply> {
        self.advance(now);
        self.release_retry(ex);
        let levels = self
            .levels(&ex.cluster)
            .ok_or_else(|| LocalReply::new(503, "", "NC"))?;
        if levels.is_empty() {
            return Err(LocalReply::no_healthy_upstream());
        }
        let health: Vec<u64> = levels.iter().map(|l| self.clusters[l].health()).collect();
        let hosts: Vec<usize> = levels
            .iter()
            .map(|l| self.clusters[l].def.endpoints.len())
            .collect();
        let mut loads = priority_loads(&health, &hosts);
        if let Some(policy) = &ex.retry
            && let Some(freq) = policy.previous_priorities
            && ex.attempts > 0
        {
            let freq = freq.max(1) as usize;
            let n = ex.attempted_levels.len();
            if n >= freq && n.is_multiple_of(freq) {
                ex.excluded_levels
                    .extend(ex.attempted_levels.iter().copied());
            }
            if !ex.excluded_levels.is_empty() {
                let adjusted: Vec<u64> = health
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        if ex.excluded_levels.contains(&i) {
                            0
                        } else {
                            *h
                        }
                    })
                    .collect();
                if adjusted.iter().sum::<u64>() == 0 {
                    ex.excluded_levels.clear();
                    ex.attempted_levels.clear();
                } else {
                    loads = priority_loads(&adjusted, &hosts);
                }
            }
        }
        let mut roll = self.rng.below(100);
        let mut level = 0;
        for (i, l) in loads.iter().enumerate() {
            if roll < *l {
                level = i;
                break;
            }
            roll -= l;
        }
        let name = levels[level].clone();
        let max_tries = match &ex.retry {
            Some(p) if p.previous_hosts && ex.attempts > 0 => p.host_selection_max_attempts + 1,
            _ => 1,
        };
        let rt = self
            .clusters
            .get_mut(&name)
            .ok_or_else(LocalReply::no_healthy_upstream)?;
        let mut chosen = None;
        for _ in 0..max_tries {
            let Some(host) = rt.choose_once() else {
                break;
            };
            let retry_elsewhere = ex.attempted_hosts.contains(&host.key);
            chosen = Some(host);
            if !retry_elsewhere || max_tries == 1 {
                break;
            }
        }
        let endpoint = chosen.ok_or_else(LocalReply::no_healthy_upstream)?;
        let per_try = ex.retry.as_ref().and_then(|p| p.per_try_timeout);
        let remaining = ex.deadline.map(|d| d.saturating_sub(now));
        let timeout = match (per_try, remaining) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(Pick {
            endpoint,
            cluster: name,
            level,
            timeout,
        })
    }

    fn retriable(policy: &RetryPolicy, result: AttemptResult) -> bool {
        let on = |c: &str| policy.retry_on.contains(c);
        match result {
            AttemptResult::ConnectFailed => {
                on("connect-failure") || on("5xx") || on("gateway-error") || on("reset")
            }
            AttemptResult::Reset | AttemptResult::Timeout => {
                on("5xx") || on("gateway-error") || on("reset")
            }
            AttemptResult::Http(code) => {
                (on("5xx") && code >= 500)
                    || (on("gateway-error") && (502..=504).contains(&code))
                    || (on("retriable-status-codes")
                        && policy.retriable_status_codes.contains(&code))
                    || (on("retriable-4xx") && code == 409)
            }
        }
    }

    /// Report the result of an attempt at `now` and decide what happens next.
    pub(crate) fn finish_attempt(
        &mut self,
        ex: &mut Exchange,
        pick: &Pick,
        result: AttemptResult,
        now: Duration,
    ) -> AfterAttempt {
        self.advance(now);
        ex.attempts += 1;
        ex.attempted_hosts.push(pick.endpoint.key.clone());
        ex.attempted_levels.push(pick.level);
        ex.last = Some(result);
        if let Some(rt) = self.clusters.get_mut(&pick.cluster)
            && let Some(d) = rt.detector.as_mut()
            && d.put_result(&pick.endpoint.key, result, now, &mut self.rng)
        {
            rt.health_changed(now);
        }
        let global_timeout = ex.deadline.is_some_and(|d| now >= d);
        if global_timeout {
            return AfterAttempt::Reply(LocalReply::new(504, "upstream request timeout", "UT"));
        }
        if let Some(policy) = &ex.retry
            && ex.attempts <= policy.num_retries
            && Self::retriable(policy, result)
        {
            // Envoy's jittered exponential back-off: uniform in [0, 25 ms × 2^(n-1)),
            // capped at 250 ms.
            let ceiling = RETRY_BASE
                .saturating_mul(1 << (ex.attempts - 1).min(4))
                .min(RETRY_BASE * 10);
            let backoff = Duration::from_micros(self.rng.below(ceiling.as_micros().max(1) as u64));
            // The retry circuit breaker of the route's cluster: a retry beyond its
            // max_retries overflows (`upstream_rq_retry_overflow`) and the request ends with
            // this attempt's result.
            let waiting = self.retries_waiting.entry(ex.cluster.clone()).or_default();
            if ex.deadline.is_none_or(|d| now + backoff < d)
                && *waiting < self.config.max_retries(&ex.cluster)
            {
                *waiting += 1;
                ex.waiting_retry = true;
                return AfterAttempt::Retry(backoff);
            }
        }
        match result {
            AttemptResult::Http(_) => AfterAttempt::Respond,
            other => AfterAttempt::Reply(local_reply_for(other, ex.attempts > 1)),
        }
    }

    #[cfg(test)]
    /// The state of an endpoint cluster (for explanations and tests).
    pub(crate) fn cluster_state(&self, name: &str) -> Option<ClusterState> {
        let rt = self.clusters.get(name)?;
        Some(ClusterState {
            hosts: rt.def.endpoints.iter().map(|e| e.key.clone()).collect(),
            ejected: rt
                .detector
                .as_ref()
                .map(Detector::ejected_hosts)
                .unwrap_or_default(),
            lb_healthy: rt.view.clone(),
            ejections_enforced_total: rt
                .detector
                .as_ref()
                .map_or(0, |d| d.stats().ejections_enforced_total),
        })
    }
}

/// Envoy's local reply when an attempt ended without a response.
pub(crate) fn local_reply_for(result: AttemptResult, retried: bool) -> LocalReply {
    let prefix = if retried {
        "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: "
    } else {
        "upstream connect error or disconnect/reset before headers. reset reason: "
    };
    match result {
        AttemptResult::ConnectFailed => LocalReply::new(
            503,
            &format!(
                "{prefix}remote connection failure, transport failure reason: delayed connect error: Connection refused"
            ),
            "UF",
        ),
        AttemptResult::Reset => {
            LocalReply::new(503, &format!("{prefix}connection termination"), "UC")
        }
        AttemptResult::Timeout => LocalReply::new(504, "upstream request timeout", "UT"),
        AttemptResult::Http(code) => LocalReply::new(code, "", ""),
    }
}

/// The query parameters of a request path (`?k=v&...`; the last of a repeated key wins).
fn query_params(path: &str) -> BTreeMap<String, String> {
    path.split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a request matches one of a route's match blocks, as Envoy's route matcher: the
/// URI (a prefix against the whole path, anything else against the path without its query),
/// method, authority, headers present and absent, and query parameters.
fn route_matches(
    m: &RouteMatch,
    req: &Request,
    path_only: &str,
    query: &BTreeMap<String, String>,
) -> bool {
    m.uri.as_ref().is_none_or(|u| {
        let target = match u {
            super::xds::StringMatch::Prefix(_) => req.path.as_str(),
            _ => path_only,
        };
        u.matches(target, m.ignore_uri_case)
    }) && m
        .method
        .as_ref()
        .is_none_or(|x| x.matches(&req.method, false))
        && m.authority
            .as_ref()
            .is_none_or(|x| x.matches(&req.authority, false))
        && m.headers
            .iter()
            .all(|(h, x)| req.headers.get(h).is_some_and(|v| x.matches(v, false)))
        && m.without_headers
            .iter()
            .all(|(h, x)| req.headers.get(h).is_none_or(|v| !x.matches(v, false)))
        && m.query_params
            .iter()
            .all(|(k, x)| query.get(k).is_some_and(|v| x.matches(v, false)))
}

#[cfg(test)]
mod tests;
