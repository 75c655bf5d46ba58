//! The TrafficPolicy views: selectors, what the policy sets, and its drift, in words.

use std::collections::BTreeMap;

use super::failover_service::{drift_problems, status_problems};
use super::index::Index;
use super::{Problem, StatusView, TargetView, TrafficPolicyView};
use crate::inspect::drift::Drift;
use crate::inspect::snapshot::Snapshot;
use crate::model::diag::ObjectId;
use crate::model::naming::traffic_target_key;
use crate::model::select;
use crate::model::types::{OutlierDetection, TrafficPolicy, outlier_defaults};

/// The TrafficPolicies of the snapshot (all, or those named `name`, in `namespace` when
/// given), sorted by namespace and name.
pub fn traffic_policies(
    snap: &Snapshot,
    drift: &[Drift],
    name: Option<&str>,
    namespace: Option<&str>,
) -> Vec<TrafficPolicyView> {
    let index = Index::new(snap, drift);
    let mut out: Vec<TrafficPolicyView> = snap
        .traffic_policies
        .iter()
        .filter(|tp| name.is_none_or(|n| tp.metadata.name.as_deref() == Some(n)))
        .filter(|tp| namespace.is_none_or(|n| tp.metadata.namespace.as_deref() == Some(n)))
        .map(|tp| traffic_policy(&index, tp))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

pub(super) fn traffic_policy(index: &Index<'_>, tp: &TrafficPolicy) -> TrafficPolicyView {
    let snap = index.snap;
    let name = tp.metadata.name.clone().unwrap_or_default();
    let namespace = tp.metadata.namespace.clone().unwrap_or_default();
    let id = ObjectId {
        kind: TrafficPolicy::KIND.to_string(),
        namespace: namespace.clone(),
        name: name.clone(),
    };
    let mut errors = Vec::new();
    let (state, observed) = match &tp.status {
        None => (None, 0),
        Some(s) => {
            errors.extend(s.errors.iter().cloned());
            for (k, t) in &s.traffic_targets {
                errors.extend(t.errors.iter().map(|e| format!("{k}: {e}")));
            }
            (Some(s.state), s.observed_generation)
        }
    };
    let status = StatusView::new(state, observed, tp.metadata.generation, errors);
    let mut problems = status_problems(
        TrafficPolicy::KIND,
        &namespace,
        &name,
        &status,
        tp.status.is_none(),
    );

    let targets: Vec<TargetView> = select::traffic_policy_targets(tp, &snap.topology)
        .into_iter()
        .map(|t| {
            let key = traffic_target_key(&t.service.name, &t.service.namespace, &t.cluster.name);
            let st = tp.status.as_ref().and_then(|s| s.traffic_targets.get(&key));
            TargetView {
                cluster: t.cluster.name.clone(),
                namespace: t.service.namespace.clone(),
                name: t.service.name.clone(),
                state: st.map_or("-".to_string(), |s| s.state.as_str().to_string()),
                errors: st.map(|s| s.errors.clone()).unwrap_or_default(),
                key,
            }
        })
        .collect();
    if targets.is_empty() {
        let unread: Vec<&str> = snap
            .clusters
            .values()
            .filter(|c| c.error.is_some())
            .map(|c| c.name.as_str())
            .collect();
        let also = if unread.is_empty() {
            String::new()
        } else {
            format!(
                " among the clusters that answered ({} could not be read)",
                unread.join(", ")
            )
        };
        problems.push(Problem::warning(format!(
            "TrafficPolicy {namespace}/{name} selects no traffic target{also}: it has no effect"
        )));
    }
    let generated: Vec<Drift> = index
        .by_owner
        .get(&id)
        .map(|v| v.iter().map(|d| (*d).clone()).collect())
        .unwrap_or_default();
    problems.extend(drift_problems(generated.iter()));

    TrafficPolicyView {
        source_selector: source_selector_words(tp),
        destination_selector: destination_selector_words(tp),
        sets: sets_words(tp),
        name,
        namespace,
        status,
        targets,
        generated,
        problems,
    }
}

fn join_map(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn source_selector_words(tp: &TrafficPolicy) -> Vec<String> {
    if tp.spec.source_selector.is_empty() {
        return vec!["every workload".to_string()];
    }
    tp.spec
        .source_selector
        .iter()
        .map(|s| {
            let mut parts = Vec::new();
            if !s.labels.is_empty() {
                parts.push(format!("labels {}", join_map(&s.labels)));
            }
            if !s.namespaces.is_empty() {
                parts.push(format!("namespaces {}", s.namespaces.join(",")));
            }
            if !s.clusters.is_empty() {
                parts.push(format!("clusters {}", s.clusters.join(",")));
            }
            if parts.is_empty() {
                "every workload".to_string()
            } else {
                format!("workloads with {}", parts.join(", "))
            }
        })
        .collect()
}

fn destination_selector_words(tp: &TrafficPolicy) -> Vec<String> {
    if tp.spec.destination_selector.is_empty() {
        return vec!["every traffic target".to_string()];
    }
    tp.spec
        .destination_selector
        .iter()
        .map(|s| {
            if let Some(m) = &s.kube_service_matcher {
                let mut parts = Vec::new();
                if !m.labels.is_empty() {
                    parts.push(format!("labels {}", join_map(&m.labels)));
                }
                if !m.namespaces.is_empty() {
                    parts.push(format!("namespaces {}", m.namespaces.join(",")));
                }
                if !m.clusters.is_empty() {
                    parts.push(format!("clusters {}", m.clusters.join(",")));
                }
                if parts.is_empty() {
                    "kubeServiceMatcher: every service".to_string()
                } else {
                    format!("kubeServiceMatcher: services with {}", parts.join(", "))
                }
            } else if let Some(r) = &s.kube_service_refs {
                let refs: Vec<String> = r
                    .services
                    .iter()
                    .map(|s| format!("{}.{}@{}", s.name, s.namespace, s.cluster_name))
                    .collect();
                format!("kubeServiceRefs: {}", refs.join(", "))
            } else {
                "an empty selector (selects nothing)".to_string()
            }
        })
        .collect()
}

fn outlier_words(od: &OutlierDetection) -> String {
    let mark = |set: bool| if set { "" } else { " (SMH default)" };
    let errors = if od.consecutive_errors == 0 {
        outlier_defaults::CONSECUTIVE_ERRORS
    } else {
        od.consecutive_errors
    };
    let pct = if od.max_ejection_percent == 0 {
        outlier_defaults::MAX_EJECTION_PERCENT
    } else {
        od.max_ejection_percent
    };
    format!(
        "outlierDetection: consecutiveErrors {errors}{} (as consecutive5xxErrors), interval {}{}, baseEjectionTime {}{}, maxEjectionPercent {pct}{}",
        mark(od.consecutive_errors != 0),
        od.interval.as_deref().unwrap_or(outlier_defaults::INTERVAL),
        mark(od.interval.is_some()),
        od.base_ejection_time
            .as_deref()
            .unwrap_or(outlier_defaults::BASE_EJECTION_TIME),
        mark(od.base_ejection_time.is_some()),
        mark(od.max_ejection_percent != 0),
    )
}

fn sets_words(tp: &TrafficPolicy) -> Vec<String> {
    let s = &tp.spec;
    let mut out = Vec::new();
    if let Some(od) = &s.outlier_detection {
        out.push(outlier_words(od));
    }
    if let Some(shift) = &s.traffic_shift {
        let dests: Vec<String> = shift
            .destinations
            .iter()
            .map(|d| {
                let weight = if d.weight == 0 {
                    String::new()
                } else {
                    format!("{}% to ", d.weight)
                };
                if let Some(f) = &d.failover_service {
                    let subset = if f.subset.is_empty() {
                        String::new()
                    } else {
                        format!(" subset {}", join_map(&f.subset))
                    };
                    format!("{weight}FailoverService {}/{}{subset}", f.namespace, f.name)
                } else if let Some(k) = &d.kube_service {
                    let subset = if k.subset.is_empty() {
                        String::new()
                    } else {
                        format!(" subset {}", join_map(&k.subset))
                    };
                    let port = if k.port == 0 {
                        String::new()
                    } else {
                        format!(" port {}", k.port)
                    };
                    format!(
                        "{weight}service {}.{}@{}{subset}{port}",
                        k.name, k.namespace, k.cluster_name
                    )
                } else {
                    format!("{weight}(no destination)")
                }
            })
            .collect();
        out.push(format!("trafficShift: {}", dests.join("; ")));
    }
    if !s.http_request_matchers.is_empty() {
        out.push(format!(
            "httpRequestMatchers: {} matcher{}",
            s.http_request_matchers.len(),
            if s.http_request_matchers.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    if let Some(f) = &s.fault_injection {
        let what = if let Some(a) = &f.abort {
            format!("abort with HTTP {}", a.http_status)
        } else if let Some(d) = &f.fixed_delay {
            format!("delay {d}")
        } else if let Some(d) = &f.exponential_delay {
            format!("exponential delay {d}")
        } else {
            "nothing".to_string()
        };
        out.push(format!(
            "faultInjection: {what} for {}% of requests",
            f.percentage
        ));
    }
    if let Some(t) = &s.request_timeout {
        out.push(format!("requestTimeout: {t}"));
    }
    if let Some(r) = &s.retries {
        let per_try = r
            .per_try_timeout
            .as_deref()
            .map(|t| format!(", perTryTimeout {t}"))
            .unwrap_or_default();
        out.push(format!("retries: {} attempts{per_try}", r.attempts));
    }
    if s.cors_policy.is_some() {
        out.push("corsPolicy".to_string());
    }
    if let Some(m) = &s.mirror {
        let to = m
            .kube_service
            .as_ref()
            .map(|k| format!("{}.{}@{}", k.name, k.namespace, k.cluster_name))
            .unwrap_or_else(|| "(no service)".into());
        out.push(format!("mirror: {}% to {to}", m.percentage));
    }
    if s.header_manipulation.is_some() {
        out.push("headerManipulation".to_string());
    }
    if let Some(mode) = s
        .mtls
        .as_ref()
        .and_then(|m| m.istio.as_ref())
        .and_then(|i| i.tls_mode.as_deref())
    {
        out.push(format!("mtls: tlsMode {mode}"));
    }
    out
}
