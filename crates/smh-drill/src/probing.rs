//! The probes: requests sent through a port-forward to the client workload, and the check
//! before anything changes that the port-forward is allowed.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::executor::{Msg, SharedState, lock};
use crate::inputs::{Clients, ExecError};
use smh_cluster::ClusterError;
use smh_cluster::probe::ProbeResult;
use smh_cluster::probe::{PickError, Prober, check_port_forward, pick_pod};
use smh_core::drill::plan::{DrillPlan, ProbeSpec};

pub(crate) async fn probe_loop(
    clients: Arc<Clients>,
    plan: DrillPlan,
    start: Instant,
    tx: mpsc::UnboundedSender<Msg>,
    shared: SharedState,
) {
    let spec = plan.probe.clone();
    let classifier = match plan.classifier() {
        Ok(c) => Arc::new(c),
        Err(e) => {
            let _ = tx.send(Msg::ProbeError(e.to_string()));
            return;
        }
    };
    let client = match clients.streaming(&spec.workload.cluster) {
        Ok(c) => c.client.clone(),
        Err(e) => {
            let _ = tx.send(Msg::ProbeError(e.to_string()));
            return;
        }
    };
    let pod = match pick_pod(&client, &spec.workload.namespace, &spec.workload.name).await {
        Ok(p) => p,
        Err(e) => {
            let _ = tx.send(Msg::ProbeError(format!(
                "cannot probe through {}: {e}",
                spec.workload
            )));
            return;
        }
    };
    let _ = tx.send(Msg::ProbeTarget(pod.clone()));
    let prober = Arc::new(Prober::new(
        client,
        &spec.workload.namespace,
        &pod,
        spec.port,
        spec.timeout,
    ));
    // Probing may stop and start again: counts add up over the probers.
    let reconnects_before = lock(&shared).probe_reconnects;
    let mut tick = tokio::time::interval(spec.interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut inflight = tokio::task::JoinSet::new();
    loop {
        tick.tick().await;
        while inflight.try_join_next().is_some() {}
        let (prober, classifier, tx, path, shared) = (
            prober.clone(),
            classifier.clone(),
            tx.clone(),
            spec.path.clone(),
            shared.clone(),
        );
        let sent = Instant::now();
        inflight.spawn(async move {
            let (result, latency) = prober.get(&path).await;
            {
                let mut s = lock(&shared);
                s.probe_reconnects = reconnects_before + prober.reconnects();
                if matches!(result, ProbeResult::Lost { .. }) {
                    // Not the data plane's answer: no sample.
                    s.probes_lost += 1;
                    return;
                }
            }
            let c = classifier.classify(result.as_answer());
            let sample = c.into_sample(sent.duration_since(start), latency, result.status());
            let _ = tx.send(Msg::Probe(sample));
        });
    }
}

// ---- permissions -------------------------------------------------------------------------

/// Before anything is changed: may the probes port-forward to the client workload? Picks
/// the pod the probes would use and opens one port-forward to it
/// ([`check_port_forward`]). A refusal (401 or 403, also on reading the deployment or
/// listing its pods) is an error naming what is missing; a workload without a ready pod, or
/// any other failure, is left to the baseline probes, which report it.
pub async fn port_forward_preflight(clients: &Clients, spec: &ProbeSpec) -> Result<(), ExecError> {
    let w = &spec.workload;
    let c = clients.streaming(&w.cluster)?;
    match pick_pod(&c.client, &w.namespace, &w.name).await {
        Ok(pod) => Ok(check_port_forward(c, &w.namespace, &pod, spec.port).await?),
        Err(PickError::Api { op, source }) => match c.error(&op, source) {
            e @ (ClusterError::Forbidden { .. } | ClusterError::Unauthorized { .. }) => {
                Err(e.into())
            }
            _ => Ok(()),
        },
        Err(_) => Ok(()),
    }
}
