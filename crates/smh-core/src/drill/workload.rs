//! What breaking a deployment will do, judged from the deployment before anything changes
//! ([`assess`], part of preflight) and from its new pods while the break rolls out
//! ([`pod_break_state`]). Pure: objects in, sentences out.
//!
//! The guide's break makes the serving containers run `sleep 20h`. That works when the pods
//! stay up and Ready while serving nothing, so that only outlier detection notices. It does
//! not work when:
//!
//! - a readiness (or startup) probe checks the app: the new pods never become Ready. A
//!   RollingUpdate keeps `replicas - maxUnavailable` old pods until new ones are available
//!   (`maxUnavailable` rounds down, `maxSurge` up, and when both come to 0 `maxUnavailable` is
//!   1: Kubernetes' `ResolveFenceposts`), so with 1 replica and the default 25% the old pod
//!   keeps serving and traffic never breaks; the rollout stalls until
//!   `progressDeadlineSeconds` (600 s by default) marks it `ProgressDeadlineExceeded`;
//! - a liveness probe checks the app: the kubelet restarts the sleeping container again and
//!   again;
//! - the image has no `sleep` (distroless, scratch-based): the container cannot start
//!   (containerd: `StartError`, exit code 128, "exec: \"sleep\": executable file not found in
//!   $PATH"; then `CrashLoopBackOff`).
//!
//! [`assess`] says so before anything changes (a readiness or startup probe that cannot
//! pass refuses, unless `--break-mode command` was chosen explicitly; the rest warns), and
//! [`pod_break_state`] is what the drill watches during the break rollout, to stop within
//! seconds instead of waiting for a deadline. `--break-mode scale` avoids all of these.
//!
//! It also finds what may undo the break during the drill: a GitOps or release tool that
//! manages the deployment (by `metadata.managedFields` managers) and a
//! HorizontalPodAutoscaler targeting it.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde_json::Value;

use super::DeploymentRef;
use super::plan::{BreakTarget, DrillPlan};
use super::restore::{BreakMode, template_containers};

mod pods;
pub use pods::{PodBreakState, pod_break_state};

/// Added to the time a broken container's probes need to fail, for the kubelet's status
/// update to arrive; also the whole bound for a container without readiness or startup
/// probe (it is Ready as soon as it runs).
pub(crate) const READY_SLACK: Duration = Duration::from_secs(5);

/// Kubernetes' probe defaults.
const DEFAULT_PERIOD_SECONDS: i32 = 10;
const DEFAULT_FAILURE_THRESHOLD: i32 = 3;
/// Kubernetes' default `progressDeadlineSeconds`.
const DEFAULT_PROGRESS_DEADLINE: i32 = 600;

/// Field managers of tools that re-apply a deployment from elsewhere, and what they do.
/// Argo CD writes as `argocd-controller` with server-side apply and as
/// `argocd-application-controller` with client-side apply; Flux as `kustomize-controller`
/// and `helm-controller`; the Helm 3 CLI as `helm`.
const REAPPLYING_MANAGERS: &[(&str, &str, &str, &str)] = &[
    (
        "argocd-controller",
        "Argo CD",
        "with automated sync and self-heal it re-applies what Git holds as soon as the live object differs",
        "turn off self-heal of its Application for the drill",
    ),
    (
        "argocd-application-controller",
        "Argo CD",
        "with automated sync and self-heal it re-applies what Git holds as soon as the live object differs",
        "turn off self-heal of its Application for the drill",
    ),
    (
        "kustomize-controller",
        "Flux (kustomize-controller)",
        "it re-applies its Kustomization at every reconciliation (spec.interval)",
        "suspend it for the drill (`flux suspend kustomization NAME`)",
    ),
    (
        "helm-controller",
        "Flux (helm-controller)",
        "with drift detection on it corrects changes at every reconciliation of its HelmRelease",
        "suspend it for the drill (`flux suspend helmrelease NAME`)",
    ),
    (
        "helm",
        "Helm",
        "a `helm upgrade` or `helm rollback` of its release re-applies the chart",
        "do not upgrade or roll back the release during the drill",
    ),
];

/// What preflight says about the deployments to break: refusals (nothing is changed) and
/// warnings (shown before the confirmation and in `--dry-run`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    /// Why the drill must not break these deployments, each with what to do.
    pub refusals: Vec<String>,
    /// What may go wrong, each with what to do about it.
    pub warnings: Vec<String>,
    /// Deployments a HorizontalPodAutoscaler scales: after the restore, their replica count
    /// is the HPA's to change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub autoscaled: Vec<DeploymentRef>,
}

fn seconds_of(n: Option<i32>, default: i32) -> i64 {
    i64::from(n.unwrap_or(default).max(0))
}

/// Seconds until a probe that always fails has failed `failureThreshold` times:
/// `initialDelaySeconds + periodSeconds × failureThreshold`.
fn failing_window(p: &Probe) -> i64 {
    seconds_of(p.initial_delay_seconds, 0)
        + seconds_of(p.period_seconds, DEFAULT_PERIOD_SECONDS)
            * seconds_of(p.failure_threshold, DEFAULT_FAILURE_THRESHOLD)
}

/// How long the drill lets a new pod's broken containers run without becoming Ready: the
/// longest time their startup and readiness probes take to fail `failureThreshold` times
/// (a startup probe runs before the readiness probe), plus [`READY_SLACK`].
pub fn ready_timeout(dep: &Deployment, broken: &[String]) -> Duration {
    let secs = template_containers(dep)
        .iter()
        .filter(|c| broken.contains(&c.name))
        .map(|c| {
            c.startup_probe.as_ref().map_or(0, failing_window)
                + c.readiness_probe.as_ref().map_or(0, failing_window)
        })
        .max()
        .unwrap_or(0);
    Duration::from_secs(secs.max(0) as u64) + READY_SLACK
}

/// A deployment's rollout parameters, as the deployment controller resolves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollout {
    /// `spec.replicas` (1 when unset).
    pub replicas: i32,
    /// `strategy.type: Recreate`: every old pod goes before new ones start.
    pub recreate: bool,
    /// `maxSurge` resolved to pods (rounded up; 25% by default).
    pub max_surge: i32,
    /// `maxUnavailable` resolved to pods (rounded down; 25% by default).
    pub max_unavailable: i32,
    /// `progressDeadlineSeconds` (600 by default).
    pub progress_deadline_seconds: i32,
}

impl Rollout {
    /// Old pods the controller keeps while no new pod becomes available.
    pub(crate) fn old_pods_kept(&self) -> i32 {
        if self.recreate {
            0
        } else {
            (self.replicas - self.max_unavailable).max(0)
        }
    }
}

/// `25%` of `total`, rounded up or down; a number as it is.
fn scaled(v: Option<&IntOrString>, default: &str, total: i32, round_up: bool) -> i32 {
    let pct = |s: &str| -> Option<i32> {
        let p: f64 = s.strip_suffix('%')?.trim().parse().ok()?;
        let x = p * f64::from(total) / 100.0;
        Some(if round_up { x.ceil() } else { x.floor() } as i32)
    };
    match v {
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(s)) => pct(s).or_else(|| s.parse().ok()).unwrap_or(0),
        None => pct(default).unwrap_or(0),
    }
    .max(0)
}

/// The deployment's strategy resolved as Kubernetes' `ResolveFenceposts` does: maxSurge
/// rounded up, maxUnavailable rounded down (25% each by default), and maxUnavailable 1 when
/// both come to 0.
pub fn rollout(dep: &Deployment) -> Rollout {
    let spec = dep.spec.as_ref();
    let replicas = spec.and_then(|s| s.replicas).unwrap_or(1).max(0);
    let strategy = spec.and_then(|s| s.strategy.as_ref());
    let recreate = strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let ru = strategy.and_then(|s| s.rolling_update.as_ref());
    let max_surge = scaled(ru.and_then(|r| r.max_surge.as_ref()), "25%", replicas, true);
    let mut max_unavailable = scaled(
        ru.and_then(|r| r.max_unavailable.as_ref()),
        "25%",
        replicas,
        false,
    );
    if max_surge == 0 && max_unavailable == 0 {
        max_unavailable = 1;
    }
    Rollout {
        replicas,
        recreate,
        max_surge: if recreate { 0 } else { max_surge },
        max_unavailable: if recreate { replicas } else { max_unavailable },
        progress_deadline_seconds: spec
            .and_then(|s| s.progress_deadline_seconds)
            .unwrap_or(DEFAULT_PROGRESS_DEADLINE),
    }
}

/// What a probe of a broken container does while it runs `sleep 20h`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ProbeEffect {
    /// It checks a port nothing but the broken containers serves: it fails. The text
    /// describes the probe (`httpGet :9080/health`).
    Fails(String),
    /// An exec probe: it runs a command in the container, which may or may not pass.
    Unknown(String),
    /// It checks a port another (unbroken) container of the pod declares.
    Unaffected,
}

fn port_number(port: &IntOrString, c: &Container) -> Option<i32> {
    match port {
        IntOrString::Int(n) => Some(*n),
        IntOrString::String(name) => c
            .ports
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port)
            .or_else(|| name.parse().ok()),
    }
}

fn probe_effect(
    p: &Probe,
    c: &Container,
    pod: &[Container],
    broken: &[String],
) -> Option<ProbeEffect> {
    if let Some(e) = &p.exec {
        let cmd = e.command.as_deref().unwrap_or(&[]).join(" ");
        return Some(ProbeEffect::Unknown(format!("exec `{cmd}`")));
    }
    let (desc, port) = if let Some(h) = &p.http_get {
        let port = port_number(&h.port, c);
        let shown = port.map_or_else(|| format!("{:?}", h.port), |n| n.to_string());
        (
            format!("httpGet :{shown}{}", h.path.as_deref().unwrap_or("")),
            port,
        )
    } else if let Some(t) = &p.tcp_socket {
        let port = port_number(&t.port, c);
        let shown = port.map_or_else(|| format!("{:?}", t.port), |n| n.to_string());
        (format!("tcpSocket :{shown}"), port)
    } else if let Some(g) = &p.grpc {
        (format!("grpc :{}", g.port), Some(g.port))
    } else {
        return None;
    };
    let served_by_other = port.is_some_and(|n| {
        pod.iter().filter(|o| !broken.contains(&o.name)).any(|o| {
            o.ports
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .any(|cp| cp.container_port == n)
        })
    });
    Some(if served_by_other {
        ProbeEffect::Unaffected
    } else {
        ProbeEffect::Fails(desc)
    })
}

/// Whether an image reference names a distroless image, which has no shell and no `sleep`:
/// Google's `gcr.io/distroless/...` and every `...distroless...` name (Istio's `-distroless`
/// tags, for instance), except their `debug` variants (which add busybox), and Chainguard's
/// `cgr.dev/chainguard/...` images except their `-dev` variants. A guess from the name.
pub(crate) fn image_looks_distroless(image: &str) -> bool {
    let lower = image.to_ascii_lowercase();
    let tag = lower
        .rsplit('/')
        .next()
        .and_then(|last| last.split_once(':'))
        .map_or("", |(_, t)| t);
    if lower.contains("distroless") {
        return !tag.contains("debug");
    }
    if lower.starts_with("cgr.dev/chainguard/") {
        return !tag.contains("-dev") && tag != "dev";
    }
    false
}

fn plural(n: i32, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// What the stall of a rollout whose new pods never become Ready means for the drill.
fn stall_consequence(r: &Rollout) -> String {
    let kept = r.old_pods_kept();
    if kept > 0 {
        format!(
            "with {} and maxUnavailable {} (maxSurge {}), the deployment controller keeps {} serving until new pods are Ready, so traffic never breaks, nothing fails over, and the rollout stalls until its progress deadline ({}s)",
            plural(r.replicas, "replica"),
            r.max_unavailable,
            r.max_surge,
            plural(kept, "old pod"),
            r.progress_deadline_seconds
        )
    } else {
        let why = if r.recreate {
            "the Recreate strategy removes them first".to_string()
        } else {
            format!(
                "maxUnavailable {} of {} lets them go",
                r.max_unavailable,
                plural(r.replicas, "replica")
            )
        };
        format!(
            "the old pods are removed ({why}), so the primary loses its endpoints, but the rollout never completes and the drill cannot verify failover"
        )
    }
}

/// The fields `mode` changes, as `managedFields` paths, and how to name them.
fn changed_fields(mode: BreakMode, broken: &[String]) -> (Vec<Vec<String>>, String) {
    let p = |parts: &[&str]| parts.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match mode {
        BreakMode::Scale => (vec![p(&["f:spec", "f:replicas"])], "spec.replicas".into()),
        BreakMode::Command => {
            let mut paths = Vec::new();
            for c in broken {
                let key = format!("k:{}", serde_json::json!({ "name": c }));
                for f in ["f:command", "f:args"] {
                    paths.push(p(&[
                        "f:spec",
                        "f:template",
                        "f:spec",
                        "f:containers",
                        key.as_str(),
                        f,
                    ]));
                }
            }
            let what = if broken.len() == 1 {
                format!("the command of container {}", broken[0])
            } else {
                format!("the command of containers {}", broken.join(", "))
            };
            (paths, what)
        }
    }
}

fn has_path(fields: &Value, path: &[String]) -> bool {
    let mut v = fields;
    for p in path {
        match v.get(p.as_str()) {
            Some(next) => v = next,
            None => return false,
        }
    }
    true
}

/// Warnings for tools that manage `dep` (by its `managedFields`) and may undo the break.
pub(crate) fn owner_warnings(
    d: &DeploymentRef,
    dep: &Deployment,
    mode: BreakMode,
    broken: &[String],
) -> Vec<String> {
    let (paths, what) = changed_fields(mode, broken);
    let mut by_manager: BTreeMap<&str, bool> = BTreeMap::new();
    for e in dep.metadata.managed_fields.as_deref().unwrap_or(&[]) {
        let Some(manager) = e.manager.as_deref() else {
            continue;
        };
        if !REAPPLYING_MANAGERS.iter().any(|(m, ..)| *m == manager) {
            continue;
        }
        let owns = e
            .fields_v1
            .as_ref()
            .is_some_and(|f| paths.iter().any(|p| has_path(&f.0, p)));
        *by_manager.entry(manager).or_default() |= owns;
    }
    by_manager
        .into_iter()
        .filter_map(|(manager, owns)| {
            let (_, tool, how, advice) = REAPPLYING_MANAGERS.iter().find(|(m, ..)| *m == manager)?;
            Some(if owns {
                format!(
                    "deployment {d} is managed by {tool} (field manager {manager}), which owns {what}: {how}, which would put {what} back and undo the break during the drill; {advice}"
                )
            } else {
                format!(
                    "deployment {d} is managed by {tool} (field manager {manager}); it does not own {what}, so re-applying should leave the break alone, unless its manifests start setting it; {how}"
                )
            })
        })
        .collect()
}

/// Whether `hpa` scales deployment `name`.
pub(crate) fn hpa_targets(hpa: &HorizontalPodAutoscaler, name: &str) -> bool {
    hpa.spec.as_ref().is_some_and(|s| {
        let r = &s.scale_target_ref;
        r.kind == "Deployment"
            && r.name == name
            && r.api_version
                .as_deref()
                .is_none_or(|v| v == "apps/v1" || v.starts_with("apps/"))
    })
}

/// Warnings for the HorizontalPodAutoscalers that scale the deployment.
pub(crate) fn hpa_warnings(
    d: &DeploymentRef,
    replicas: i32,
    mode: BreakMode,
    hpas: &[&HorizontalPodAutoscaler],
) -> Vec<String> {
    hpas.iter()
        .filter_map(|h| {
            let spec = h.spec.as_ref()?;
            let name = format!(
                "HorizontalPodAutoscaler {}/{}",
                h.metadata.namespace.as_deref().unwrap_or(""),
                h.metadata.name.as_deref().unwrap_or("")
            );
            let min = spec.min_replicas.unwrap_or(1);
            let max = spec.max_replicas;
            Some(match mode {
                BreakMode::Scale if min == 0 => format!(
                    "{name} scales deployment {d} with minReplicas 0 (the HPAScaleToZero feature): then the HPA keeps acting while the deployment has 0 replicas and may scale it up during the drill, undoing the break; raise its minReplicas for the drill, or use the command patch"
                ),
                BreakMode::Scale => format!(
                    "{name} (minReplicas {min}, maxReplicas {max}) scales deployment {d}: while the deployment has 0 replicas the HPA leaves it alone (ScalingActive=False, reason ScalingDisabled: it does not scale a target whose replicas are 0), so it does not undo the break; the restore puts back {} exactly, and from then on the HPA scales the deployment again as its metrics say",
                    plural(replicas, "replica")
                ),
                BreakMode::Command => format!(
                    "{name} (minReplicas {min}, maxReplicas {max}) scales deployment {d}: the command patch leaves spec.replicas to it, and sleeping containers use no CPU, so it may scale the deployment down during the drill (after its scale-down stabilization window, 5 minutes by default); the restore puts back the containers, and the HPA the replica count"
                ),
            })
        })
        .collect()
}

fn target_assessment(
    plan: &DrillPlan,
    t: &BreakTarget,
    dep: &Deployment,
    hpas: &[&HorizontalPodAutoscaler],
    out: &mut Assessment,
) {
    let d = &t.deployment;
    if plan.break_mode == BreakMode::Command {
        let pod = template_containers(dep);
        let r = rollout(dep);
        for c in pod.iter().filter(|c| t.containers.contains(&c.name)) {
            let cname = &c.name;
            let bound = super::human(t.ready_timeout);
            let never_ready = |kind: &str, desc: &str, extra: &str| {
                format!(
                    "deployment {d}, container {cname}: its {kind} probe ({desc}) fails once `sleep 20h` replaces the app{extra}, so the new pods never become Ready; {}",
                    stall_consequence(&r)
                )
            };
            let mut stall = Vec::new();
            if let Some(ProbeEffect::Fails(desc)) = c
                .startup_probe
                .as_ref()
                .and_then(|p| probe_effect(p, c, pod, &t.containers))
            {
                let window = c.startup_probe.as_ref().map_or(0, failing_window);
                stall.push(never_ready(
                    "startup",
                    &desc,
                    &format!(
                        ": the kubelet kills the container after about {window}s and restarts it"
                    ),
                ));
            }
            match c
                .readiness_probe
                .as_ref()
                .and_then(|p| probe_effect(p, c, pod, &t.containers))
            {
                Some(ProbeEffect::Fails(desc)) => stall.push(never_ready("readiness", &desc, "")),
                Some(ProbeEffect::Unknown(desc)) => out.warnings.push(format!(
                    "deployment {d}, container {cname}: its readiness probe ({desc}) runs in the container while `sleep 20h` runs there; if it fails, the new pods never become Ready and the drill stops and restores after {bound}"
                )),
                _ => {}
            }
            for s in stall {
                if plan.break_mode_explicit {
                    out.warnings.push(format!(
                        "{s}; you chose --break-mode command: the drill stops and restores when the new pods are not Ready within {bound}"
                    ));
                } else {
                    out.refusals.push(format!(
                        "{s}. Use --break-mode scale (the drill scales the deployments to 0 and puts back the replica count), or pass --break-mode command to run the command patch anyway (the drill then stops and restores when the new pods are not Ready within {bound})"
                    ));
                }
            }
            if let Some(ProbeEffect::Fails(desc)) = c
                .liveness_probe
                .as_ref()
                .and_then(|p| probe_effect(p, c, pod, &t.containers))
            {
                let window = c.liveness_probe.as_ref().map_or(0, failing_window);
                out.warnings.push(format!(
                    "deployment {d}, container {cname}: its liveness probe ({desc}) fails against `sleep 20h`, so the kubelet restarts the container about every {window}s (initialDelaySeconds + periodSeconds × failureThreshold); the pods still serve nothing, but if the container crash-loops during the break rollout the drill stops and restores; --break-mode scale avoids the restarts"
                ));
            }
            if let Some(image) = c.image.as_deref()
                && image_looks_distroless(image)
            {
                out.warnings.push(format!(
                    "deployment {d}, container {cname}: its image {image} looks distroless by its name, and distroless images have no `sleep`: the command patch would not start (StartError, then CrashLoopBackOff), and the drill, which watches the new pods, would stop and restore within seconds; --break-mode scale needs no `sleep` (a guess from the image name: the pod status during the break rollout decides)"
                ));
            }
        }
    }
    out.warnings
        .extend(owner_warnings(d, dep, plan.break_mode, &t.containers));
    out.warnings
        .extend(hpa_warnings(d, t.replicas, plan.break_mode, hpas));
    if !hpas.is_empty() {
        out.autoscaled.push(d.clone());
    }
}

/// Judge the deployments to break, as they are now (by SMH cluster name), with the
/// HorizontalPodAutoscalers of their namespaces (by SMH cluster name). A target not found is
/// left to the other checks.
pub fn assess(
    plan: &DrillPlan,
    deployments: &BTreeMap<String, Vec<Deployment>>,
    hpas: &BTreeMap<String, Vec<HorizontalPodAutoscaler>>,
) -> Assessment {
    let mut out = Assessment::default();
    for t in &plan.targets {
        let d = &t.deployment;
        let Some(dep) = deployments.get(&d.cluster).and_then(|l| {
            l.iter().find(|x| {
                x.metadata.name.as_deref() == Some(d.name.as_str())
                    && x.metadata.namespace.as_deref() == Some(d.namespace.as_str())
            })
        }) else {
            continue;
        };
        let scaling: Vec<&HorizontalPodAutoscaler> = hpas
            .get(&d.cluster)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter(|h| {
                h.metadata.namespace.as_deref() == Some(d.namespace.as_str())
                    && hpa_targets(h, &d.name)
            })
            .collect();
        target_assessment(plan, t, dep, &scaling, &mut out);
    }
    out
}

#[cfg(test)]
mod tests;
