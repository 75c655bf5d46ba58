//! The order of `apply`'s writes, so that no request is lost while routing changes (for
//! example when a FailoverService switches strategy, aggregate ↔ native). Pure: the cluster
//! layer plans which object gets which action and runs the writes phase by phase, every
//! cluster at once, starting a phase only when every write of the one before it has been
//! answered (and stopping, in a cluster, after a write there failed).
//!
//! What a proxy sees decides the order. A route (VirtualService) naming an Envoy cluster
//! istiod does not generate answers 503 (`NC`/`NR`); a route naming an aggregate cluster
//! whose children are gone finds no host (503 `UH`). istiod generates a subset's Envoy
//! cluster only while a DestinationRule defines the subset, and the aggregate cluster only
//! while the EnvoyFilter exists. So:
//!
//! 1. [`Phase::Prepare`], the new routing objects: every create or change of a
//!    DestinationRule, ServiceEntry or EnvoyFilter. A DestinationRule that loses subsets
//!    keeps them for now (the desired rule plus the live subsets it drops): routes still
//!    name them. Nothing routes to what is new yet, so adding it changes no request.
//! 2. [`Phase::Switch`], the routes: every create, change and delete of a VirtualService
//!    (deleting one sends its host back to the host's own Envoy cluster, which phase 1 has
//!    made what the new configuration wants, e.g. the aggregate cluster).
//! 3. [`Phase::Prune`], what only the old routes used: the deletes of every other kind, and
//!    the DestinationRules of phase 1 as the configuration wants them (without the subsets
//!    they kept).
//!
//! For aggregate → native: phase 1 adds the `failover-…` subset next to the `cluster-…`
//! subsets the aggregate cluster lists; phase 2 points the VirtualServices at the new subset;
//! phase 3 deletes the EnvoyFilter and drops the `cluster-…` subsets. For native → aggregate:
//! phase 1 adds the `cluster-…` subsets and the EnvoyFilter (its aggregate cluster replaces
//! the hostname's cluster, which nothing routes to while the hostname's own VirtualService
//! exists); phase 2 points the VirtualServices at the hostname and deletes the hostname's
//! VirtualService; phase 3 drops the `failover-…` subset.

use serde::Serialize;
use serde_json::Value;

/// One phase of an apply, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// New routing objects (DestinationRules, keeping the subsets routes still use;
    /// ServiceEntries; EnvoyFilters).
    Prepare,
    /// The VirtualServices: creates, changes and deletes.
    Switch,
    /// Deletes of everything else, and the DestinationRules without the subsets phase 1
    /// kept.
    Prune,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 3] = [Phase::Prepare, Phase::Switch, Phase::Prune];

    /// Its number (1, 2, 3).
    pub fn number(self) -> usize {
        match self {
            Phase::Prepare => 1,
            Phase::Switch => 2,
            Phase::Prune => 3,
        }
    }

    /// What it does, in a few words.
    pub fn title(self) -> &'static str {
        match self {
            Phase::Prepare => {
                "new routing objects (DestinationRules keep the subsets routes still use)"
            }
            Phase::Switch => "VirtualServices switch the routes",
            Phase::Prune => "what only the old routes used is removed",
        }
    }
}

/// What a step does to its object (the cluster layer's plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The object is created.
    Create,
    /// The object is applied again.
    Configure,
    /// No request.
    Unchanged,
    /// The object is deleted.
    Prune,
}

/// One step of the cluster layer's plan, as the order needs it.
#[derive(Debug, Clone, Copy)]
pub struct StepIn<'a> {
    /// The Istio kind.
    pub kind: &'a str,
    /// What the step does.
    pub action: StepKind,
    /// The object to apply (creates and configures).
    pub desired: Option<&'a Value>,
    /// The live object, when there is one.
    pub live: Option<&'a Value>,
}

/// One request.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Server-side apply of this object.
    Apply(Value),
    /// Delete the live object.
    Delete,
}

/// A write of the plan: which step, in which phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhasedWrite {
    /// The step's index in the list given to [`order`].
    pub step: usize,
    /// When it is sent.
    pub phase: Phase,
    /// What is sent.
    pub write: Write,
    /// True for a DestinationRule applied with the subsets it loses kept (phase 1); the
    /// step's own write follows in phase 3.
    pub interim: bool,
}

/// The writes of `steps` (one cluster's or all of them), sorted by phase, then by step.
pub fn order(steps: &[StepIn<'_>]) -> Vec<PhasedWrite> {
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let route = s.kind == "VirtualService";
        match (s.action, s.desired) {
            (StepKind::Unchanged, _) => {}
            (StepKind::Prune, _) => out.push(PhasedWrite {
                step: i,
                phase: if route { Phase::Switch } else { Phase::Prune },
                write: Write::Delete,
                interim: false,
            }),
            (StepKind::Create | StepKind::Configure, None) => {}
            (StepKind::Create | StepKind::Configure, Some(desired)) if route => {
                out.push(PhasedWrite {
                    step: i,
                    phase: Phase::Switch,
                    write: Write::Apply(desired.clone()),
                    interim: false,
                });
            }
            (action, Some(desired)) => {
                let kept = (action == StepKind::Configure && s.kind == "DestinationRule")
                    .then(|| s.live.and_then(|live| with_dropped_subsets(desired, live)))
                    .flatten();
                match kept {
                    Some(interim) => {
                        out.push(PhasedWrite {
                            step: i,
                            phase: Phase::Prepare,
                            write: Write::Apply(interim),
                            interim: true,
                        });
                        out.push(PhasedWrite {
                            step: i,
                            phase: Phase::Prune,
                            write: Write::Apply(desired.clone()),
                            interim: false,
                        });
                    }
                    None => out.push(PhasedWrite {
                        step: i,
                        phase: Phase::Prepare,
                        write: Write::Apply(desired.clone()),
                        interim: false,
                    }),
                }
            }
        }
    }
    out.sort_by_key(|w| (w.phase, w.step, !w.interim));
    out
}

/// The subsets `desired` drops from `live`, by name, sorted.
pub fn dropped_subsets(desired: &Value, live: &Value) -> Vec<String> {
    let names = |v: &Value| -> Vec<String> {
        subsets(v)
            .iter()
            .filter_map(|s| s.get("name")?.as_str().map(str::to_string))
            .collect()
    };
    let wanted = names(desired);
    let mut out: Vec<String> = names(live)
        .into_iter()
        .filter(|n| !wanted.contains(n))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn subsets(v: &Value) -> Vec<Value> {
    v.pointer("/spec/subsets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// `desired` with the subsets of `live` it drops appended (as they are live); `None` when
/// it drops none.
fn with_dropped_subsets(desired: &Value, live: &Value) -> Option<Value> {
    let dropped = dropped_subsets(desired, live);
    if dropped.is_empty() {
        return None;
    }
    let mut all = subsets(desired);
    all.extend(subsets(live).into_iter().filter(|s| {
        s.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| dropped.iter().any(|d| d == n))
    }));
    let mut out = desired.clone();
    out["spec"]["subsets"] = Value::Array(all);
    Some(out)
}

/// Whether the order matters: some write waits for another phase's (more than one phase
/// has writes).
pub fn is_phased(writes: &[PhasedWrite]) -> bool {
    writes
        .first()
        .is_some_and(|f| writes.iter().any(|w| w.phase != f.phase))
}

#[cfg(test)]
mod tests;
