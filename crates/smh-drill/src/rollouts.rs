//! Waiting for rollouts: each deployment watched until its rollout completes, the new pods of
//! a break watched for a container that cannot start.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use tokio::sync::mpsc;

use crate::executor::{Msg, SharedState, lock};
use crate::observer::DrillContext;
use crate::preflight::get_deployment;
use smh_cluster::ClusterClient;
use smh_core::drill::DeploymentRef;
use smh_core::drill::live::{self, RolloutCounts, RolloutState};
use smh_core::drill::report::RestoreCheck;
use smh_core::drill::restore::{self, RestorePlan};
use smh_core::drill::workload::{self, PodBreakState};

/// Wait until every deployment's rollout is complete, watching each one. After the restore
/// the containers are checked once more against the saved plans.
pub(crate) async fn wait_rollouts(
    ctx: &DrillContext,
    shared: &SharedState,
    tx: &mpsc::UnboundedSender<Msg>,
    id: u64,
    deps: &[DeploymentRef],
    restoring: bool,
) -> Result<(), WaitError> {
    let results = join_all(deps.iter().map(|d| {
        let min_generation = lock(shared).generations.get(d).copied();
        let client = ctx.clients.streaming(&d.cluster).cloned();
        async move {
            let c = client.map_err(|e| WaitError::Other(e.to_string()))?;
            wait_rollout(&c, d, min_generation, |state, counts| {
                let _ = tx.send(Msg::Rollout(id, d.clone(), state.clone(), counts));
            })
            .await
        }
    }))
    .await;
    for r in results {
        r?;
    }
    if restoring {
        for (d, diffs) in restore_differences(ctx, shared)
            .await
            .map_err(WaitError::Other)?
        {
            if !diffs.is_empty() {
                return Err(WaitError::Other(format!(
                    "deployment {d} is not as saved after the restore: {}",
                    diffs.join("; ")
                )));
            }
        }
    }
    Ok(())
}

/// Why a rollout wait ended without the rollout completing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WaitError {
    /// The deployment controller gave up (progress deadline exceeded).
    #[error("{0}")]
    Failed(String),
    /// The deployment went away, the watch ended, a client was missing.
    #[error("{0}")]
    Other(String),
}

/// Watch the new pods of the deployments `deps` (by their selectors) while the command
/// patch rolls out, and return why the break cannot take effect: a pod in
/// [`PodBreakState::Failed`], or in [`PodBreakState::Stalled`] for longer than its
/// target's ready timeout. Never returns otherwise (the caller races it against the
/// rollout wait). Watch errors are retried with backoff: the watch is a safety net, and the
/// rollout wait has its own deadline.
pub(crate) async fn watch_break_pods(ctx: &DrillContext, deps: &[DeploymentRef]) -> String {
    let watches = deps.iter().filter_map(|d| {
        let target = ctx.plan.targets.iter().find(|t| &t.deployment == d)?;
        let client = ctx.clients.streaming(&d.cluster).ok()?.clone();
        let broken = target.containers.clone();
        let bound = target.ready_timeout;
        let d = d.clone();
        Some(Box::pin(async move {
            let why = watch_deployment_pods(&client, &d, &broken, bound).await;
            format!("deployment {d}: {why}")
        }))
    });
    let watches: Vec<_> = watches.collect();
    if watches.is_empty() {
        return futures::future::pending().await;
    }
    futures::future::select_all(watches).await.0
}

/// [`watch_break_pods`] for one deployment.
async fn watch_deployment_pods(
    c: &ClusterClient,
    d: &DeploymentRef,
    broken: &[String],
    bound: Duration,
) -> String {
    let deployments: Api<Deployment> = Api::namespaced(c.client.clone(), &d.namespace);
    // The selector, read until it can be (a transient error is retried).
    let query = loop {
        match deployments.get_opt(&d.name).await {
            Ok(Some(dep)) => {
                let sel = dep.spec.map(|s| s.selector).unwrap_or_default();
                match smh_cluster::labels::selector_query(&sel) {
                    Ok(q) => break q,
                    // No usable selector: nothing to watch; the rollout wait decides.
                    Err(_) => return futures::future::pending().await,
                }
            }
            Ok(None) => return futures::future::pending().await,
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    };
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), &d.namespace);
    let cfg = watcher::Config::default().labels(&query);
    let mut stream = watcher(pods, cfg).default_backoff().boxed();
    let mut known: BTreeMap<String, Pod> = BTreeMap::new();
    // Since when each pod has been stalled (by uid), as this process saw it.
    let mut stalled: BTreeMap<String, Instant> = BTreeMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            item = stream.next() => match item {
                Some(Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p))) => {
                    let uid = p.metadata.uid.clone().unwrap_or_default();
                    known.insert(uid, p);
                }
                Some(Ok(watcher::Event::Delete(p))) => {
                    let uid = p.metadata.uid.clone().unwrap_or_default();
                    known.remove(&uid);
                    stalled.remove(&uid);
                }
                // A (re-)list begins: what it lists is all there is.
                Some(Ok(watcher::Event::Init)) => known.clear(),
                Some(Ok(watcher::Event::InitDone)) => {}
                Some(Err(_)) => {}
                None => return futures::future::pending().await,
            },
            _ = tick.tick() => {}
        }
        let now = Instant::now();
        for (uid, p) in &known {
            match workload::pod_break_state(p, broken) {
                PodBreakState::Failed(why) => return why,
                PodBreakState::Stalled { why, then } => {
                    let since = *stalled.entry(uid.clone()).or_insert(now);
                    if now.duration_since(since) >= bound {
                        return format!(
                            "{why}, for {} (the limit, from its probes or --break-ready-timeout); {then}",
                            smh_core::drill::human(bound)
                        );
                    }
                }
                PodBreakState::Fine | PodBreakState::Other => {
                    stalled.remove(uid);
                }
            }
        }
    }
}

/// Wait for one deployment's rollout to complete (see [`live::rollout_state`]), reporting
/// each state seen. Watches the deployment; ends with [`WaitError::Failed`] when the
/// controller gives up.
pub(crate) async fn wait_rollout(
    c: &ClusterClient,
    d: &DeploymentRef,
    min_generation: Option<i64>,
    mut on_state: impl FnMut(&RolloutState, RolloutCounts),
) -> Result<(), WaitError> {
    let api: Api<Deployment> = Api::namespaced(c.client.clone(), &d.namespace);
    let cfg = watcher::Config::default().fields(&format!("metadata.name={}", d.name));
    let mut stream = watcher(api, cfg).default_backoff().boxed();
    let mut last_error: Option<String> = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(watcher::Event::Apply(dep) | watcher::Event::InitApply(dep)) => {
                let (state, counts) = live::rollout_state(&dep, min_generation);
                on_state(&state, counts);
                match state {
                    RolloutState::Complete => return Ok(()),
                    RolloutState::Failed(m) => {
                        return Err(WaitError::Failed(format!("deployment {d}: {m}")));
                    }
                    RolloutState::Waiting(_) => {}
                }
            }
            Ok(watcher::Event::Delete(_)) => {
                return Err(WaitError::Other(format!(
                    "deployment {d} was deleted during the drill"
                )));
            }
            Ok(_) => {}
            Err(e) => {
                let text = format!("watching deployment {d}: {e}");
                if last_error.as_deref() != Some(text.as_str()) {
                    on_state(
                        &RolloutState::Waiting(text.clone()),
                        RolloutCounts::default(),
                    );
                    last_error = Some(text);
                }
            }
        }
    }
    Err(WaitError::Other(format!(
        "the watch on deployment {d} ended"
    )))
}

/// Per deployment with a saved plan: how it differs from the plan now (an HPA's later
/// change of a restored replica count excepted: [`restore::verify_restored_later`]).
async fn restore_differences(
    ctx: &DrillContext,
    shared: &SharedState,
) -> Result<Vec<(DeploymentRef, Vec<String>)>, String> {
    let (saved, autoscaled) = {
        let s = lock(shared);
        let saved: Vec<(DeploymentRef, RestorePlan)> = s
            .saved
            .iter()
            .map(|(d, x)| (d.clone(), x.plan.clone()))
            .collect();
        (saved, s.autoscaled.clone())
    };
    let mut out = Vec::new();
    for (d, plan) in saved {
        let diffs = match get_deployment(ctx, &d).await? {
            None => vec![format!("deployment {d} is gone")],
            Some(dep) => restore::verify_restored_later(&plan, &dep, autoscaled.contains(&d))
                .err()
                .unwrap_or_default(),
        };
        out.push((d, diffs));
    }
    Ok(out)
}

pub(crate) async fn check_restored(ctx: &DrillContext, shared: &SharedState) -> Vec<RestoreCheck> {
    match restore_differences(ctx, shared).await {
        Ok(list) => list
            .into_iter()
            .map(|(deployment, differences)| RestoreCheck {
                deployment,
                differences,
            })
            .collect(),
        Err(e) => lock(shared)
            .saved
            .keys()
            .map(|d| RestoreCheck {
                deployment: d.clone(),
                differences: vec![format!("could not be read back: {e}")],
            })
            .collect(),
    }
}
