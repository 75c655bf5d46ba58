//! Envoy's outlier detector for one upstream cluster of one proxy, as a pure state machine
//! driven by an injected clock (`now` is a [`Duration`] since an arbitrary origin).
//!
//! It follows Envoy's `source/common/upstream/outlier_detection_impl.cc` for the consecutive
//! error detectors that Istio configures:
//! - every response (or local failure) is charged to the host; without
//!   `split_external_local_origin_errors` a connect failure or reset counts as a 503 and a
//!   timeout as a 504;
//! - the host is ejected **immediately** when a counter reaches exactly N (`== N`, as Envoy
//!   compares), provided that ejecting it keeps the ejected share at or below
//!   `max_ejection_percent` of this cluster's hosts (strict, as Envoy ≥ 1.28 does: with 10 % and
//!   fewer than ten hosts nothing is ejected); the counter is reset either way;
//! - an ejection lasts `min(base_ejection_time × k, max_ejection_time)`, where `k` grows by one
//!   per ejection and shrinks by one per `interval` tick while the host is healthy;
//! - un-ejection is only checked on the `interval` timer, which ticks every `interval` from the
//!   detector's creation, so a host comes back at the first tick after its time ran out.
//!
//! Success-rate and failure-percentage detection are not modelled (Istio does not enable them).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::rng::Rng;

/// Envoy's outlier detection settings for one cluster (the `OutlierDetection` proto after
/// Istio's translation of a DestinationRule; see [`super::istio::outlier_from_istio`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct OutlierConfig {
    pub consecutive_5xx: u32,
    /// Percent chance an ejection by the 5xx detector is enforced (Envoy default 100).
    pub enforcing_consecutive_5xx: u32,
    pub consecutive_gateway_failure: u32,
    /// Envoy default 0: gateway errors are detected but never eject.
    pub enforcing_consecutive_gateway_failure: u32,
    pub split_external_local_origin_errors: bool,
    pub consecutive_local_origin_failure: u32,
    pub enforcing_consecutive_local_origin_failure: u32,
    pub interval: Duration,
    pub base_ejection_time: Duration,
    /// Envoy default: the larger of 300 s and `base_ejection_time`.
    pub max_ejection_time: Duration,
    pub max_ejection_percent: u32,
}

impl Default for OutlierConfig {
    /// Envoy's defaults for an `outlier_detection: {}` block.
    fn default() -> Self {
        OutlierConfig {
            consecutive_5xx: 5,
            enforcing_consecutive_5xx: 100,
            consecutive_gateway_failure: 5,
            enforcing_consecutive_gateway_failure: 0,
            split_external_local_origin_errors: false,
            consecutive_local_origin_failure: 5,
            enforcing_consecutive_local_origin_failure: 100,
            interval: Duration::from_secs(10),
            base_ejection_time: Duration::from_secs(30),
            max_ejection_time: Duration::from_secs(300),
            max_ejection_percent: 10,
        }
    }
}

/// What one upstream attempt did, as the outlier detector is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttemptResult {
    /// The upstream answered with this HTTP status.
    Http(u16),
    /// The TCP connection was refused or could not be made.
    ConnectFailed,
    /// The connection was reset or closed before a response.
    Reset,
    /// No response within the (per-try) timeout.
    Timeout,
}

/// Which detector triggered an ejection (Envoy's `OutlierEjectionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EjectionType {
    Consecutive5xx,
    ConsecutiveGatewayFailure,
    ConsecutiveLocalOriginFailure,
}

#[derive(Debug, Clone, Default)]
struct HostMonitor {
    consecutive_5xx: u32,
    consecutive_gateway: u32,
    consecutive_local: u32,
    ejected: bool,
    num_ejections: u32,
    backoff: u32,
    last_ejection: Option<Duration>,
    last_unejection: Option<Duration>,
}

/// Counters as Envoy's `cluster.<name>.outlier_detection.*` stats report them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DetectorStats {
    pub ejections_active: u32,
    pub ejections_enforced_total: u64,
    pub ejections_overflow: u64,
    pub ejections_detected: u64,
}

/// The detector of one cluster: one monitor per host (keyed by `ip:port`).
#[derive(Debug, Clone)]
pub(crate) struct Detector {
    config: OutlierConfig,
    next_tick: Duration,
    hosts: BTreeMap<String, HostMonitor>,
    stats: DetectorStats,
}

impl Detector {
    /// A detector created at `now` (its interval timer first fires at `now + interval`).
    pub(crate) fn new<'a>(
        config: OutlierConfig,
        now: Duration,
        hosts: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let interval = config.interval.max(Duration::from_millis(1));
        Detector {
            next_tick: now + interval,
            config,
            hosts: hosts
                .into_iter()
                .map(|h| (h.to_string(), HostMonitor::default()))
                .collect(),
            stats: DetectorStats::default(),
        }
    }

    #[cfg(test)]
    pub(crate) fn stats(&self) -> DetectorStats {
        self.stats
    }

    /// When the interval timer fires next.
    pub(crate) fn next_tick(&self) -> Duration {
        self.next_tick
    }

    pub(crate) fn is_ejected(&self, host: &str) -> bool {
        self.hosts.get(host).is_some_and(|m| m.ejected)
    }

    #[cfg(test)]
    /// How many times `host` has been ejected since it joined the cluster.
    pub(crate) fn num_ejections(&self, host: &str) -> u32 {
        self.hosts.get(host).map_or(0, |m| m.num_ejections)
    }

    #[cfg(test)]
    /// The ejection-time multiplier `k` of `host`.
    pub(crate) fn backoff(&self, host: &str) -> u32 {
        self.hosts.get(host).map_or(0, |m| m.backoff)
    }

    #[cfg(test)]
    /// Hosts currently ejected.
    pub(crate) fn ejected_hosts(&self) -> BTreeSet<String> {
        self.hosts
            .iter()
            .filter(|(_, m)| m.ejected)
            .map(|(h, _)| h.clone())
            .collect()
    }

    /// EDS membership change: new hosts get fresh monitors, removed hosts drop theirs (and
    /// their ejection, as Envoy's member-update callback does).
    pub(crate) fn set_hosts(&mut self, hosts: &BTreeSet<String>) {
        let mut released = 0;
        self.hosts.retain(|h, m| {
            let keep = hosts.contains(h);
            if !keep && m.ejected {
                released += 1;
            }
            keep
        });
        self.stats.ejections_active -= released;
        for h in hosts {
            self.hosts.entry(h.clone()).or_default();
        }
    }

    /// Charge the result of one attempt to `host`. Returns `true` when the host was ejected
    /// by it (a health change the load balancer must learn about).
    pub(crate) fn put_result(
        &mut self,
        host: &str,
        result: AttemptResult,
        now: Duration,
        rng: &mut Rng,
    ) -> bool {
        if !self.hosts.contains_key(host) {
            return false;
        }
        if self.config.split_external_local_origin_errors {
            match result {
                AttemptResult::Http(code) => {
                    self.local_origin_success(host);
                    self.put_http(host, code, now, rng)
                }
                AttemptResult::ConnectFailed | AttemptResult::Reset | AttemptResult::Timeout => {
                    self.local_origin_failure(host, now, rng)
                }
            }
        } else {
            let code = match result {
                AttemptResult::Http(code) => code,
                AttemptResult::ConnectFailed | AttemptResult::Reset => 503,
                AttemptResult::Timeout => 504,
            };
            self.put_http(host, code, now, rng)
        }
    }

    fn put_http(&mut self, host: &str, code: u16, now: Duration, rng: &mut Rng) -> bool {
        let (c5, cg) = {
            let Some(m) = self.hosts.get_mut(host) else {
                return false;
            };
            if !(500..600).contains(&code) {
                m.consecutive_5xx = 0;
                m.consecutive_gateway = 0;
                return false;
            }
            if (502..=504).contains(&code) {
                m.consecutive_gateway += 1;
            } else {
                m.consecutive_gateway = 0;
            }
            m.consecutive_5xx += 1;
            (m.consecutive_5xx, m.consecutive_gateway)
        };
        let mut ejected = false;
        if (502..=504).contains(&code) && cg == self.config.consecutive_gateway_failure {
            ejected |=
                self.on_consecutive_error(host, EjectionType::ConsecutiveGatewayFailure, now, rng);
        }
        if c5 == self.config.consecutive_5xx {
            ejected |= self.on_consecutive_error(host, EjectionType::Consecutive5xx, now, rng);
        }
        ejected
    }

    fn local_origin_success(&mut self, host: &str) {
        if let Some(m) = self.hosts.get_mut(host) {
            m.consecutive_local = 0;
        }
    }

    fn local_origin_failure(&mut self, host: &str, now: Duration, rng: &mut Rng) -> bool {
        let n = {
            let Some(m) = self.hosts.get_mut(host) else {
                return false;
            };
            m.consecutive_local += 1;
            m.consecutive_local
        };
        if n == self.config.consecutive_local_origin_failure {
            return self.on_consecutive_error(
                host,
                EjectionType::ConsecutiveLocalOriginFailure,
                now,
                rng,
            );
        }
        false
    }

    /// Envoy's `onConsecutiveErrorWorker`: ignored while ejected (the counter is then not
    /// reset), otherwise try to eject and reset the counter of that detector.
    fn on_consecutive_error(
        &mut self,
        host: &str,
        kind: EjectionType,
        now: Duration,
        rng: &mut Rng,
    ) -> bool {
        if self.hosts.get(host).is_none_or(|m| m.ejected) {
            return false;
        }
        self.stats.ejections_detected += 1;
        let ejected = self.eject_host(host, kind, now, rng);
        if let Some(m) = self.hosts.get_mut(host) {
            match kind {
                EjectionType::Consecutive5xx => m.consecutive_5xx = 0,
                EjectionType::ConsecutiveGatewayFailure => m.consecutive_gateway = 0,
                EjectionType::ConsecutiveLocalOriginFailure => m.consecutive_local = 0,
            }
        }
        ejected
    }

    fn eject_host(&mut self, host: &str, kind: EjectionType, now: Duration, rng: &mut Rng) -> bool {
        let max_percent = self.config.max_ejection_percent.min(100) as f64;
        let total = self.hosts.len().max(1) as f64;
        let ejected_percent = 100.0 * (self.stats.ejections_active as f64 + 1.0) / total;
        if ejected_percent > max_percent {
            self.stats.ejections_overflow += 1;
            return false;
        }
        let enforcing = match kind {
            EjectionType::Consecutive5xx => self.config.enforcing_consecutive_5xx,
            EjectionType::ConsecutiveGatewayFailure => {
                self.config.enforcing_consecutive_gateway_failure
            }
            EjectionType::ConsecutiveLocalOriginFailure => {
                self.config.enforcing_consecutive_local_origin_failure
            }
        };
        if !rng.percent(enforcing) {
            return false;
        }
        let base = self.config.base_ejection_time;
        let max = self.config.max_ejection_time;
        let Some(m) = self.hosts.get_mut(host) else {
            return false;
        };
        m.ejected = true;
        m.num_ejections += 1;
        m.last_ejection = Some(now);
        if base.saturating_mul(m.backoff) < max + base {
            m.backoff += 1;
        }
        self.stats.ejections_active += 1;
        self.stats.ejections_enforced_total += 1;
        true
    }

    /// No host is ejected and no ejection multiplier is left to decay, so interval ticks
    /// would change nothing.
    pub(crate) fn is_idle(&self) -> bool {
        self.hosts.values().all(|m| !m.ejected && m.backoff == 0)
    }

    /// Move the interval timer to its first tick after `now` without running the ticks in
    /// between (they are no-ops while [`Detector::is_idle`]).
    pub(crate) fn skip_idle_ticks(&mut self, now: Duration) {
        let interval = self
            .config
            .interval
            .max(Duration::from_millis(1))
            .as_nanos();
        if self.next_tick <= now {
            let behind = (now - self.next_tick).as_nanos();
            let steps = behind / interval + 1;
            let skip = u64::try_from(steps.saturating_mul(interval)).unwrap_or(u64::MAX);
            self.next_tick += Duration::from_nanos(skip);
        }
    }

    /// Run the interval timer at its due time (`self.next_tick()`), as Envoy's
    /// `onIntervalTimer`: un-eject hosts whose ejection time has run out, then decay the
    /// ejection multiplier of healthy hosts unejected at least one interval ago. Returns the
    /// hosts that were un-ejected.
    pub(crate) fn tick(&mut self) -> Vec<String> {
        let now = self.next_tick;
        let base = self.config.base_ejection_time;
        let max = self.config.max_ejection_time;
        let interval = self.config.interval.max(Duration::from_millis(1));
        let mut unejected = Vec::new();
        for (host, m) in self.hosts.iter_mut() {
            if !m.ejected {
                continue;
            }
            let ejected_for = now.saturating_sub(m.last_ejection.unwrap_or(now));
            if base.saturating_mul(m.backoff).min(max) <= ejected_for {
                m.ejected = false;
                m.consecutive_5xx = 0;
                m.consecutive_gateway = 0;
                m.consecutive_local = 0;
                m.last_unejection = Some(now);
                self.stats.ejections_active -= 1;
                unejected.push(host.clone());
            }
        }
        for m in self.hosts.values_mut() {
            if !m.ejected
                && m.last_unejection
                    .is_some_and(|t| now.saturating_sub(t) >= interval)
                && m.backoff > 0
            {
                m.backoff -= 1;
            }
        }
        self.next_tick = now + interval;
        unejected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(n: u32, interval_ms: u64, base_ms: u64, max_pct: u32) -> OutlierConfig {
        OutlierConfig {
            consecutive_5xx: n,
            interval: Duration::from_millis(interval_ms),
            base_ejection_time: Duration::from_millis(base_ms),
            max_ejection_time: Duration::from_secs(300).max(Duration::from_millis(base_ms)),
            max_ejection_percent: max_pct,
            ..OutlierConfig::default()
        }
    }

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn ejects_on_the_nth_consecutive_5xx_and_success_resets_the_count() {
        let mut rng = Rng::new(1);
        let mut d = Detector::new(cfg(3, 1000, 3000, 100), ms(0), ["a:1", "b:1"]);
        assert!(!d.put_result("a:1", AttemptResult::Http(500), ms(1), &mut rng));
        assert!(!d.put_result("a:1", AttemptResult::Http(500), ms(2), &mut rng));
        assert!(!d.put_result("a:1", AttemptResult::Http(200), ms(3), &mut rng));
        assert!(!d.put_result("a:1", AttemptResult::Http(503), ms(4), &mut rng));
        assert!(!d.put_result("a:1", AttemptResult::ConnectFailed, ms(5), &mut rng));
        assert!(d.put_result("a:1", AttemptResult::Timeout, ms(6), &mut rng));
        assert!(d.is_ejected("a:1"));
        assert_eq!(d.stats().ejections_active, 1);
    }

    #[test]
    fn unejects_at_the_first_tick_after_base_times_k() {
        let mut rng = Rng::new(1);
        // ticks at 1000, 2000, ...; ejected at 2500 for 3000 ms -> back at the 6000 tick.
        let mut d = Detector::new(cfg(1, 1000, 3000, 100), ms(0), ["a:1"]);
        assert!(d.put_result("a:1", AttemptResult::Http(500), ms(2500), &mut rng));
        let mut back_at = None;
        while back_at.is_none() {
            let t = d.next_tick();
            if !d.tick().is_empty() {
                back_at = Some(t);
            }
        }
        assert_eq!(back_at, Some(ms(6000)));
        // second ejection right away lasts 2 x base: ejected at 6000.1 -> back at 13000.
        assert!(d.put_result("a:1", AttemptResult::Http(500), ms(6100), &mut rng));
        assert_eq!(d.backoff("a:1"), 2);
        let mut back_at = None;
        while back_at.is_none() {
            let t = d.next_tick();
            if !d.tick().is_empty() {
                back_at = Some(t);
            }
        }
        assert_eq!(back_at, Some(ms(13000)));
        assert_eq!(d.num_ejections("a:1"), 2);
    }

    #[test]
    fn multiplier_decays_one_per_healthy_interval() {
        let mut rng = Rng::new(1);
        let mut d = Detector::new(cfg(1, 1000, 1000, 100), ms(0), ["a:1"]);
        d.put_result("a:1", AttemptResult::Http(500), ms(100), &mut rng);
        d.tick(); // 1000: 900 ms < 1000 -> still ejected
        assert!(d.is_ejected("a:1"));
        assert_eq!(d.tick(), vec!["a:1".to_string()]); // 2000
        assert_eq!(d.backoff("a:1"), 1, "no decay in the tick that un-ejects");
        d.tick(); // 3000: one interval since un-ejection
        assert_eq!(d.backoff("a:1"), 0);
    }

    #[test]
    fn max_ejection_percent_is_strict() {
        let mut rng = Rng::new(1);
        let mut d = Detector::new(cfg(1, 1000, 1000, 10), ms(0), ["a:1", "b:1"]);
        assert!(!d.put_result("a:1", AttemptResult::Http(500), ms(1), &mut rng));
        assert_eq!(d.stats().ejections_overflow, 1);
        let mut d = Detector::new(cfg(1, 1000, 1000, 50), ms(0), ["a:1", "b:1"]);
        assert!(d.put_result("a:1", AttemptResult::Http(500), ms(1), &mut rng));
        assert!(!d.put_result("b:1", AttemptResult::Http(500), ms(2), &mut rng));
        let mut d = Detector::new(cfg(1, 1000, 1000, 10), ms(0), std::iter::empty::<&str>());
        let hosts: BTreeSet<String> = (0..10).map(|i| format!("h{i}:1")).collect();
        d.set_hosts(&hosts);
        assert!(d.put_result("h0:1", AttemptResult::Http(500), ms(1), &mut rng));
        assert!(!d.put_result("h1:1", AttemptResult::Http(500), ms(1), &mut rng));
    }

    #[test]
    fn gateway_errors_only_eject_when_enforced() {
        let mut rng = Rng::new(1);
        let mut c = cfg(0, 1000, 1000, 100);
        c.enforcing_consecutive_5xx = 0;
        c.consecutive_gateway_failure = 1;
        let mut d = Detector::new(c.clone(), ms(0), ["a:1"]);
        assert!(!d.put_result("a:1", AttemptResult::Http(503), ms(1), &mut rng));
        c.enforcing_consecutive_gateway_failure = 100;
        let mut d = Detector::new(c, ms(0), ["a:1"]);
        assert!(!d.put_result("a:1", AttemptResult::Http(500), ms(1), &mut rng));
        assert!(d.put_result("a:1", AttemptResult::ConnectFailed, ms(2), &mut rng));
    }

    #[test]
    fn removed_hosts_release_their_ejection() {
        let mut rng = Rng::new(1);
        let mut d = Detector::new(cfg(1, 1000, 1000, 100), ms(0), ["a:1", "b:1"]);
        d.put_result("a:1", AttemptResult::Http(500), ms(1), &mut rng);
        d.set_hosts(&["b:1".to_string(), "c:1".to_string()].into_iter().collect());
        assert_eq!(d.stats().ejections_active, 0);
        assert!(!d.is_ejected("c:1"));
    }
}
