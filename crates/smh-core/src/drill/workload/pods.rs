//! Judging one pod while the break rolls out: fine, stalled (waiting on something that may
//! never come), or failed (the break cannot take effect), from its containers' states and
//! its conditions.

use k8s_openapi::api::core::v1::{Container, ContainerState, ContainerStatus, Pod, PodCondition};

use super::{ProbeEffect, plural, probe_effect};
use crate::drill::restore::BREAK_COMMAND;

/// Where one pod stands while the break rolls out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodBreakState {
    /// Not a pod of the broken template (an old pod), or being deleted.
    Other,
    /// Starting, or running as the break intends.
    Fine,
    /// Waiting on something that may never come (a probe that fails, a node with room): the
    /// drill stops when it lasts longer than the target's ready timeout.
    Stalled {
        /// What waits, in words.
        why: String,
        /// What it means meanwhile.
        then: String,
    },
    /// The break cannot take effect in this pod; the text says why.
    Failed(String),
}

fn runs_the_break(c: &Container) -> bool {
    c.command.as_deref().is_some_and(|cmd| {
        cmd.iter()
            .map(String::as_str)
            .eq(BREAK_COMMAND.iter().copied())
    })
}

/// Waiting reasons of a container whose image cannot be pulled.
const IMAGE_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "RegistryUnavailable",
    "SignatureValidationFailed",
];

/// Waiting or terminated reasons of a container that could not be created or started.
const START_REASONS: &[&str] = &[
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "PreStartHookError",
    "PostStartHookError",
    "StartError",
    "ContainerCannotRun",
];

/// Exit codes of a command that could not be run: 126 (not executable), 127 (not found),
/// 128 (containerd's StartError).
fn start_exit_code(code: i32) -> bool {
    matches!(code, 126..=128)
}

fn no_sleep_hint(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("executable file not found")
        || m.contains("no such file or directory")
        || m.contains("not found in $path")
    {
        ": the image has no `sleep` (distroless or scratch-based); use --break-mode scale"
    } else {
        "; use --break-mode scale"
    }
}

fn terminated(
    s: Option<&ContainerState>,
) -> Option<&k8s_openapi::api::core::v1::ContainerStateTerminated> {
    s.and_then(|s| s.terminated.as_ref())
}

/// Judge one pod during the break rollout of a deployment whose containers `broken` run
/// `sleep 20h`.
pub fn pod_break_state(pod: &Pod, broken: &[String]) -> PodBreakState {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    if pod.metadata.deletion_timestamp.is_some() {
        return PodBreakState::Other;
    }
    let specs: Vec<&Container> = pod
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .filter(|c| broken.contains(&c.name))
                .collect()
        })
        .unwrap_or_default();
    if specs.is_empty() || !specs.iter().all(|c| runs_the_break(c)) {
        return PodBreakState::Other;
    }
    let status = pod.status.clone().unwrap_or_default();
    let statuses = status.container_statuses.unwrap_or_default();
    for c in &specs {
        let Some(cs) = statuses.iter().find(|s| s.name == c.name) else {
            continue;
        };
        if let Some(failed) = container_failure(name, c, cs) {
            return failed;
        }
    }
    let conditions = status.conditions.unwrap_or_default();
    if let Some(stalled) = unschedulable(name, &conditions) {
        return stalled;
    }
    for c in &specs {
        let Some(cs) = statuses.iter().find(|s| s.name == c.name) else {
            continue;
        };
        if let Some(stalled) = not_ready(name, c, cs) {
            return stalled;
        }
    }
    PodBreakState::Fine
}

/// A broken container that cannot run the break: its image cannot be pulled, it cannot
/// start, or it crashes again and again.
fn container_failure(name: &str, c: &Container, cs: &ContainerStatus) -> Option<PodBreakState> {
    let cname = &c.name;
    let state = cs.state.as_ref();
    if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
        let reason = w.reason.as_deref().unwrap_or("");
        let message = w.message.as_deref().unwrap_or("");
        if IMAGE_REASONS.contains(&reason) {
            return Some(PodBreakState::Failed(format!(
                "pod {name}: container {cname} cannot pull its image {} ({reason}: {message})",
                cs.image
            )));
        }
        if START_REASONS.contains(&reason) {
            let last = terminated(cs.last_state.as_ref())
                .and_then(|t| t.message.clone())
                .unwrap_or_default();
            let text = if message.is_empty() { &last } else { message };
            return Some(PodBreakState::Failed(format!(
                "pod {name}: container {cname} cannot run `sleep 20h` ({reason}: {text}){}",
                no_sleep_hint(text)
            )));
        }
        if reason == "CrashLoopBackOff" {
            let last = terminated(cs.last_state.as_ref());
            let code = last.map(|t| t.exit_code);
            let last_reason = last.and_then(|t| t.reason.as_deref()).unwrap_or("");
            let last_message = last.and_then(|t| t.message.as_deref()).unwrap_or("");
            if START_REASONS.contains(&last_reason) || code.is_some_and(start_exit_code) {
                return Some(PodBreakState::Failed(format!(
                    "pod {name}: container {cname} cannot run `sleep 20h` and is in CrashLoopBackOff (last exit code {}, {last_reason}: {last_message}){}",
                    code.unwrap_or_default(),
                    no_sleep_hint(last_message)
                )));
            }
            return Some(PodBreakState::Failed(format!(
                "pod {name}: container {cname} running `sleep 20h` is killed and restarted again and again (CrashLoopBackOff, {}, last exit code {}{}): a liveness or startup probe fails against it; use --break-mode scale",
                plural(cs.restart_count, "restart"),
                code.map_or("unknown".to_string(), |c| c.to_string()),
                if last_reason.is_empty() {
                    String::new()
                } else {
                    format!(" {last_reason}")
                }
            )));
        }
    }
    if let Some(t) = terminated(state)
        && (START_REASONS.contains(&t.reason.as_deref().unwrap_or(""))
            || start_exit_code(t.exit_code))
    {
        let message = t.message.as_deref().unwrap_or("");
        return Some(PodBreakState::Failed(format!(
            "pod {name}: container {cname} cannot run `sleep 20h` (exit code {}, {}: {message}){}",
            t.exit_code,
            t.reason.as_deref().unwrap_or(""),
            no_sleep_hint(message)
        )));
    }
    None
}

/// The pod cannot be scheduled: the rollout waits, the old pods keep serving.
fn unschedulable(name: &str, conditions: &[PodCondition]) -> Option<PodBreakState> {
    if let Some(c) = conditions.iter().find(|c| {
        c.type_ == "PodScheduled"
            && c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
    }) {
        return Some(PodBreakState::Stalled {
            why: format!(
                "pod {name} cannot be scheduled ({})",
                c.message.as_deref().unwrap_or("no node fits")
            ),
            then: "the old pods keep serving meanwhile".into(),
        });
    }
    None
}

/// A broken container that runs but is not Ready: the rollout waits on its startup or
/// readiness probe.
fn not_ready(name: &str, c: &Container, cs: &ContainerStatus) -> Option<PodBreakState> {
    let running = cs.state.as_ref().is_some_and(|s| s.running.is_some());
    if running && !cs.ready {
        let why = match (&c.startup_probe, &c.readiness_probe) {
            (Some(p), _) if cs.started != Some(true) => probe_effect(p, c, &[], &[])
                .map(|e| match e {
                    ProbeEffect::Fails(d) | ProbeEffect::Unknown(d) => {
                        format!(": its startup probe ({d}) does not pass")
                    }
                    ProbeEffect::Unaffected => String::new(),
                })
                .unwrap_or_default(),
            (_, Some(p)) => probe_effect(p, c, &[], &[])
                .map(|e| match e {
                    ProbeEffect::Fails(d) | ProbeEffect::Unknown(d) => {
                        format!(": its readiness probe ({d}) does not pass")
                    }
                    ProbeEffect::Unaffected => String::new(),
                })
                .unwrap_or_default(),
            _ => String::new(),
        };
        return Some(PodBreakState::Stalled {
            why: format!(
                "pod {name}: container {} runs `sleep 20h` but is not Ready{why}",
                c.name
            ),
            then: "the deployment controller keeps old pods until new ones are Ready, so traffic may never break; use --break-mode scale".into(),
        });
    }
    None
}
