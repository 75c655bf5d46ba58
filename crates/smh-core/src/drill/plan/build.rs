//! Building the plan: the FailoverService's backing services, the deployments behind the
//! primary, the client to probe from, and the flags, checked and turned into a [`DrillPlan`]
//! (or a [`PlanError`] that says which flag to pass).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{
    BASELINE_MIN_PRIMARY_PERCENT, BOOKINFO_CLIENT, BOOKINFO_CLIENT_PATH, BOOKINFO_CLIENT_PORT,
    BOOKINFO_SERVICE, BaselineSpec, BreakTarget, DEFAULT_BASELINE_PROBES, DEFAULT_FAILBACK_BASE,
    DEFAULT_FAILOVER_TIMEOUT, DEFAULT_PROBE_RATE, DEFAULT_PROBE_TIMEOUT, DEFAULT_STEADY_WINDOW,
    DrillOptions, DrillPlan, Lookups, MAX_PROBE_RATE, MIN_BASELINE_TIMEOUT, PlanError, PlanInput,
    ProbeSpec, STEADY_PERCENT, SteadySpec, WorkloadRef,
};
use crate::drill::DeploymentRef;
use crate::drill::classify::{Classifier, ClassifierSpec};
use crate::drill::outlier::istio_defaults;
use crate::drill::restore::template_containers;
use crate::model::types::{ClusterObjectRef, FailoverService, ObjectRef};

fn fs_label(fs: &FailoverService) -> String {
    format!(
        "{}/{}",
        fs.metadata.namespace.as_deref().unwrap_or(""),
        fs.metadata.name.as_deref().unwrap_or("")
    )
}

pub(super) fn backing_services(fs: &FailoverService) -> Result<Vec<ClusterObjectRef>, PlanError> {
    let list = fs
        .spec
        .backing_services
        .iter()
        .enumerate()
        .map(|(index, b)| {
            b.kube_service.clone().ok_or(PlanError::NotAKubeService {
                fs: fs_label(fs),
                index,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if list.len() < 2 {
        return Err(PlanError::TooFewBackingServices(fs_label(fs), list.len()));
    }
    Ok(list)
}

/// Which clusters and namespaces the executor must list deployments in.
pub fn lookups(fs: &FailoverService, opts: &DrillOptions) -> Result<Lookups, PlanError> {
    let services = backing_services(fs)?;
    let primary = services[0].clone();
    let mut namespaces = BTreeSet::new();
    let here = |w: &WorkloadRef| {
        let d = w.resolve(&primary.cluster_name, &primary.namespace);
        (d.cluster, d.namespace)
    };
    namespaces.insert((primary.cluster_name.clone(), primary.namespace.clone()));
    for b in &opts.breaks {
        namespaces.insert(here(b));
    }
    if let Some(p) = &opts.probe_workload {
        namespaces.insert(here(p));
    }
    Ok(Lookups {
        primary,
        namespaces,
    })
}

pub(super) fn find<'a>(
    deployments: &'a BTreeMap<String, Vec<Deployment>>,
    d: &DeploymentRef,
) -> Option<&'a Deployment> {
    deployments.get(&d.cluster)?.iter().find(|dep| {
        dep.metadata.name.as_deref() == Some(d.name.as_str())
            && dep.metadata.namespace.as_deref() == Some(d.namespace.as_str())
    })
}

fn dep_ref(cluster: &str, dep: &Deployment) -> DeploymentRef {
    DeploymentRef {
        cluster: cluster.to_string(),
        namespace: dep.metadata.namespace.clone().unwrap_or_default(),
        name: dep.metadata.name.clone().unwrap_or_default(),
    }
}

/// The containers of `dep` that serve `service`'s port `port` (the FailoverService port),
/// and why. When the Service has no such port, or no container declares its target port,
/// every container.
pub(super) fn serving_containers(
    dep: &Deployment,
    service: &Service,
    port: u32,
) -> (Vec<String>, String) {
    let all: Vec<String> = template_containers(dep)
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let ports = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or(&[]);
    let svc_port = ports
        .iter()
        .find(|p| p.port as i64 == port as i64)
        .or_else(|| (ports.len() == 1).then(|| &ports[0]));
    let Some(svc_port) = svc_port else {
        return (
            all,
            format!("all containers break: the Service has no port {port}"),
        );
    };
    let target = svc_port
        .target_port
        .clone()
        .unwrap_or(IntOrString::Int(svc_port.port));
    let serving: Vec<String> = template_containers(dep)
        .iter()
        .filter(|c| {
            c.ports
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .any(|p| match &target {
                    IntOrString::Int(n) => p.container_port == *n,
                    IntOrString::String(name) => p.name.as_deref() == Some(name.as_str()),
                })
        })
        .map(|c| c.name.clone())
        .collect();
    let target_text = match &target {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => format!("{s:?}"),
    };
    if serving.is_empty() {
        (
            all,
            format!("all containers break: none declares the Service's target port {target_text}"),
        )
    } else {
        (
            serving,
            format!("breaks the container(s) declaring the Service's target port {target_text}"),
        )
    }
}

fn selector_text(sel: &BTreeMap<String, String>) -> String {
    sel.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Make the plan, or say which flag to pass.
pub fn build_plan(input: &PlanInput<'_>, opts: &DrillOptions) -> Result<DrillPlan, PlanError> {
    let fs = input.failover_service;
    let services = backing_services(fs)?;
    let primary = services[0].clone();
    let secondaries = services[1..].to_vec();
    let port = fs
        .spec
        .port
        .as_ref()
        .map(|p| p.number)
        .ok_or_else(|| PlanError::NoPort(fs_label(fs)))?;
    let service_text = format!(
        "{}/{} in cluster {}",
        primary.namespace, primary.name, primary.cluster_name
    );
    let targets = break_targets(input, opts, &primary, port, &service_text)?;
    let probe = probe_spec(input, opts, &primary, &targets)?;
    let classifier = classifier_spec(opts, &primary, service_text)?;
    let limits = limits(input, opts, probe.rate_per_second)?;
    Ok(DrillPlan {
        failover_service: ObjectRef {
            name: fs.metadata.name.clone().unwrap_or_default(),
            namespace: fs.metadata.namespace.clone().unwrap_or_default(),
        },
        hostname: fs.spec.hostname.clone(),
        port,
        primary,
        secondaries,
        break_mode: opts.break_mode.unwrap_or_default(),
        break_mode_explicit: opts.break_mode.is_some(),
        targets,
        probe,
        classifier,
        failover_timeout: limits.failover_timeout,
        failback_timeout: limits.failback_timeout,
        max_errors: opts.max_errors,
        steady: limits.steady,
        baseline: limits.baseline,
    })
}

/// Which deployments to break, sorted: those `--break` names, else every deployment in the
/// primary's namespace whose pod labels match the primary Service's selector.
fn break_targets(
    input: &PlanInput<'_>,
    opts: &DrillOptions,
    primary: &ClusterObjectRef,
    port: u32,
    service_text: &str,
) -> Result<Vec<BreakTarget>, PlanError> {
    if opts.break_ready_timeout.is_some_and(|d| d.is_zero()) {
        return Err(PlanError::BadValue {
            flag: "--break-ready-timeout",
            value: "0".into(),
            why: "must be more than 0",
        });
    }
    let mut targets: Vec<BreakTarget> = Vec::new();
    if opts.breaks.is_empty() {
        targets = selected_targets(input, opts, primary, port, service_text)?;
    } else {
        for b in &opts.breaks {
            let d = b.resolve(&primary.cluster_name, &primary.namespace);
            if targets.iter().any(|t| t.deployment == d) {
                continue;
            }
            let dep =
                find(input.deployments, &d).ok_or_else(|| PlanError::BreakNotFound(d.clone()))?;
            targets.push(break_target(
                input,
                opts,
                port,
                d,
                dep,
                format!("--break {b}"),
            )?);
        }
    }
    targets.sort_by(|a, b| a.deployment.cmp(&b.deployment));
    Ok(targets)
}

/// The deployments in the primary's namespace whose pod labels match the primary
/// Service's selector (none is an error: nothing to break).
fn selected_targets(
    input: &PlanInput<'_>,
    opts: &DrillOptions,
    primary: &ClusterObjectRef,
    port: u32,
    service_text: &str,
) -> Result<Vec<BreakTarget>, PlanError> {
    let selector = input
        .primary_service
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default();
    if selector.is_empty() {
        return Err(PlanError::NoSelector {
            service: service_text.to_string(),
        });
    }
    let list = input
        .deployments
        .get(&primary.cluster_name)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut targets = Vec::new();
    for dep in list {
        if dep.metadata.namespace.as_deref() != Some(primary.namespace.as_str()) {
            continue;
        }
        let labels = dep
            .spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.labels.as_ref());
        let matches = labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)));
        if matches {
            targets.push(break_target(
                input,
                opts,
                port,
                dep_ref(&primary.cluster_name, dep),
                dep,
                format!(
                    "pod labels match {} (selector of Service {})",
                    selector_text(&selector),
                    primary.name
                ),
            )?);
        }
    }
    if targets.is_empty() {
        return Err(PlanError::NoMatchingDeployments {
            cluster: primary.cluster_name.clone(),
            namespace: primary.namespace.clone(),
            selector: selector_text(&selector),
            service: service_text.to_string(),
        });
    }
    Ok(targets)
}

/// One deployment to break: the containers that serve the FailoverService's port and how
/// long its rollout may take to become ready.
fn break_target(
    input: &PlanInput<'_>,
    opts: &DrillOptions,
    port: u32,
    d: DeploymentRef,
    dep: &Deployment,
    reason: String,
) -> Result<BreakTarget, PlanError> {
    let (containers, containers_reason) = serving_containers(dep, input.primary_service, port);
    if containers.is_empty() {
        return Err(PlanError::NoContainers(d));
    }
    let ready_timeout = opts
        .break_ready_timeout
        .unwrap_or_else(|| crate::drill::workload::ready_timeout(dep, &containers));
    Ok(BreakTarget {
        deployment: d,
        containers,
        containers_reason,
        reason,
        replicas: dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        ready_timeout,
    })
}

/// The probe: which workload sends it (`--probe-workload`, else bookinfo's client next to
/// the primary), to which port and path, how often and with which timeout.
fn probe_spec(
    input: &PlanInput<'_>,
    opts: &DrillOptions,
    primary: &ClusterObjectRef,
    targets: &[BreakTarget],
) -> Result<ProbeSpec, PlanError> {
    let (workload, default_client) = match &opts.probe_workload {
        Some(w) => {
            let d = w.resolve(&primary.cluster_name, &primary.namespace);
            let dep = find(input.deployments, &d)
                .ok_or_else(|| PlanError::ProbeWorkloadNotFound(d.clone()))?;
            (d, dep.metadata.name.as_deref() == Some(BOOKINFO_CLIENT))
        }
        None => {
            let d = DeploymentRef {
                cluster: primary.cluster_name.clone(),
                namespace: primary.namespace.clone(),
                name: BOOKINFO_CLIENT.to_string(),
            };
            if find(input.deployments, &d).is_none() {
                return Err(PlanError::NoDefaultClient {
                    default: BOOKINFO_CLIENT.to_string(),
                    cluster: d.cluster,
                    namespace: d.namespace,
                });
            }
            (d, true)
        }
    };
    if targets.iter().any(|t| t.deployment == workload) {
        return Err(PlanError::ProbeIsTarget(workload));
    }
    let port = probe_port(input, opts, &workload, default_client)?;
    let path = match &opts.probe_path {
        Some(p) if !p.starts_with('/') => {
            return Err(PlanError::BadValue {
                flag: "--probe-path",
                value: p.clone(),
                why: "must start with /",
            });
        }
        Some(p) => p.clone(),
        None if workload.name.starts_with("productpage") => BOOKINFO_CLIENT_PATH.to_string(),
        None => "/".to_string(),
    };
    let rate = opts.probe_rate.unwrap_or(DEFAULT_PROBE_RATE);
    if !(rate.is_finite() && rate > 0.0 && rate <= MAX_PROBE_RATE) {
        return Err(PlanError::BadValue {
            flag: "--probe-rate",
            value: rate.to_string(),
            why: "must be more than 0 and at most 1000 probes per second",
        });
    }
    let timeout = opts.probe_timeout.unwrap_or(DEFAULT_PROBE_TIMEOUT);
    if timeout.is_zero() {
        return Err(PlanError::BadValue {
            flag: "--probe-timeout",
            value: "0".into(),
            why: "must be more than 0",
        });
    }
    Ok(ProbeSpec {
        workload,
        port,
        path,
        rate_per_second: rate,
        timeout,
    })
}

/// The port to probe: `--probe-port`, bookinfo client's port, else the first container
/// port of the probing workload.
fn probe_port(
    input: &PlanInput<'_>,
    opts: &DrillOptions,
    workload: &DeploymentRef,
    default_client: bool,
) -> Result<u16, PlanError> {
    Ok(match opts.probe_port {
        Some(0) => {
            return Err(PlanError::BadValue {
                flag: "--probe-port",
                value: "0".into(),
                why: "must be 1..65535",
            });
        }
        Some(p) => p,
        None if default_client => BOOKINFO_CLIENT_PORT,
        None => find(input.deployments, workload)
            .and_then(|dep| {
                template_containers(dep)
                    .iter()
                    .flat_map(|c| c.ports.as_deref().unwrap_or(&[]))
                    .map(|p| p.container_port)
                    .find(|p| (1..=65535).contains(p))
            })
            .map(|p| p as u16)
            .ok_or_else(|| PlanError::NoProbePort(workload.clone()))?,
    })
}

/// How answers are classified: the `--expect-*` patterns (checked to compile); a service
/// other than bookinfo's `reviews` needs at least the primary and failover ones.
fn classifier_spec(
    opts: &DrillOptions,
    primary: &ClusterObjectRef,
    service_text: String,
) -> Result<ClassifierSpec, PlanError> {
    let classifier = ClassifierSpec {
        primary: opts.expect_primary.clone(),
        failover: opts.expect_failover.clone(),
        error: opts.expect_error.clone(),
    };
    Classifier::new(&classifier)?;
    if primary.name != BOOKINFO_SERVICE
        && (classifier.primary.is_none() || classifier.failover.is_none())
    {
        return Err(PlanError::NeedsExpectations(service_text));
    }
    Ok(classifier)
}

/// The plan's limits, from the flags or their defaults.
struct Limits {
    failover_timeout: Duration,
    /// Defaults to a base plus the primary's outlier base ejection time.
    failback_timeout: Duration,
    steady: SteadySpec,
    baseline: BaselineSpec,
}

/// The limits: failover and failback timeouts, the steady window and the baseline; the
/// baseline's timeout allows three times the probes at `rate` per second.
fn limits(input: &PlanInput<'_>, opts: &DrillOptions, rate: f64) -> Result<Limits, PlanError> {
    let failover_timeout = opts.failover_timeout.unwrap_or(DEFAULT_FAILOVER_TIMEOUT);
    let failback_timeout = opts.failback_timeout.unwrap_or_else(|| {
        DEFAULT_FAILBACK_BASE
            + input
                .primary_outlier
                .map(|o| o.effective_base_ejection_time())
                .unwrap_or(istio_defaults::BASE_EJECTION_TIME)
    });
    for (flag, d) in [
        ("--failover-timeout", failover_timeout),
        ("--failback-timeout", failback_timeout),
    ] {
        if d.is_zero() {
            return Err(PlanError::BadValue {
                flag,
                value: "0".into(),
                why: "must be more than 0",
            });
        }
    }
    let window = opts.steady_window.unwrap_or(DEFAULT_STEADY_WINDOW);
    if !(1..=100_000).contains(&window) {
        return Err(PlanError::BadValue {
            flag: "--steady-window",
            value: window.to_string(),
            why: "must be 1..100000 probes",
        });
    }
    let baseline = opts.baseline_probes.unwrap_or(DEFAULT_BASELINE_PROBES);
    if !(1..=100_000).contains(&baseline) {
        return Err(PlanError::BadValue {
            flag: "--baseline-probes",
            value: baseline.to_string(),
            why: "must be 1..100000 probes",
        });
    }
    let baseline_timeout =
        MIN_BASELINE_TIMEOUT.max(Duration::from_secs_f64(3.0 * baseline as f64 / rate));
    Ok(Limits {
        failover_timeout,
        failback_timeout,
        steady: SteadySpec {
            window,
            percent: STEADY_PERCENT,
        },
        baseline: BaselineSpec {
            probes: baseline,
            min_primary_percent: BASELINE_MIN_PRIMARY_PERCENT,
            timeout: baseline_timeout,
        },
    })
}
