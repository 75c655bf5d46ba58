//! smh-drill: the drill executor, the one part of the drill (`smh_core::drill`) that talks to
//! clusters. A thin async loop around [`Machine`]: it reads what the plan is made from,
//! performs each [`Action`] (probing through a port-forward, preflight facts, the save /
//! break / restore patches, waiting for rollouts) and feeds the results back as [`Event`]s
//! stamped with the time since the drill started.
//!
//! It never prints or prompts: progress goes to an [`Observer`] (the CLI draws it), and the
//! confirmation is the observer's to ask. Termination signals arrive on a channel, so that
//! the CLI (tokio's SIGINT / SIGTERM / SIGHUP streams) and tests can both send them.
//!
//! Safety rules on top of the machine's:
//! - the restore plan is saved with a JSON merge patch carrying the resourceVersion it was
//!   built from (a 409 Conflict re-reads and tries again); the break patch carries the
//!   resourceVersion the save produced, so nothing changed in between is overwritten;
//! - a save or break request in flight when the drill turns to restoring (signal, error) is
//!   awaited before the restore is sent, so a late break can never land after the restore;
//! - the restore reads each live deployment and puts back the plan saved on it
//!   ([`restore_patch_for`]); the answer to the patch is checked field by field
//!   ([`verify_restored`]), and once more after the rollout;
//! - while the command patch rolls out, the new pods are watched ([`pod_break_state`]): a
//!   container that cannot start, an image that cannot be pulled, a crash loop, or a pod not
//!   Ready (or not scheduled) for longer than the target's ready timeout ends the wait with
//!   `BreakFailed`, as does a rollout that exceeds its progress deadline, so the drill
//!   restores within seconds instead of waiting for `--failover-timeout`.
//!
//! [`Machine`]: smh_core::drill::machine::Machine
//! [`Action`]: smh_core::drill::machine::Action
//! [`Event`]: smh_core::drill::machine::Event
//! [`restore_patch_for`]: smh_core::drill::restore::restore_patch_for
//! [`verify_restored`]: smh_core::drill::restore::verify_restored
//! [`pod_break_state`]: smh_core::drill::workload::pod_break_state

mod executor;
mod facts;
mod inputs;
mod observer;
mod patches;
mod pending;
mod preflight;
mod probing;
mod rollouts;

pub use executor::run_drill;
pub use facts::{
    GeneratedCheck, LiveFacts, cluster_id_problems, cluster_id_problems_in, generated_states,
};
pub use inputs::{Clients, ExecError, Inputs, drill_clusters, get_failover_service, read_inputs};
pub use observer::{
    ConfirmAnswer, Confirmation, DrillContext, DrillResult, Observer, PatchKind, Progress,
};
pub use pending::{RestoreOutcome, find_pending_in, restore_plans};
pub use preflight::assess_breaks;
pub use probing::port_forward_preflight;
