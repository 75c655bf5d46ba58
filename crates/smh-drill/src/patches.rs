//! The save, break and restore patches on the deployments, each carrying the
//! resourceVersion it was built from.

use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::executor::{Msg, Saved, SharedState, lock};
use crate::inputs::op;
use crate::observer::{DrillContext, PatchKind};
use crate::preflight::get_deployment;
use smh_cluster::ClusterClient;
use smh_core::drill::DeploymentRef;
use smh_core::drill::restore::{self, BREAK_COMMAND, RestorePlan};

/// How many times the save and restore patches are tried when the deployment changes under
/// them (409).
const SAVE_ATTEMPTS: usize = 3;

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

pub(crate) async fn patch_deployment(
    c: &ClusterClient,
    d: &DeploymentRef,
    patch: &Value,
    strategic: bool,
) -> Result<Deployment, kube::Error> {
    let api: Api<Deployment> = Api::namespaced(c.client.clone(), &d.namespace);
    let pp = PatchParams {
        field_manager: Some(smh_core::consts::FIELD_MANAGER.into()),
        ..Default::default()
    };
    if strategic {
        api.patch(&d.name, &pp, &Patch::Strategic(patch)).await
    } else {
        api.patch(&d.name, &pp, &Patch::Merge(patch)).await
    }
}

pub(crate) fn patch_error(c: &ClusterClient, d: &DeploymentRef, e: kube::Error) -> String {
    c.error(
        &op::<Deployment>("patch", Some(&d.namespace), Some(&d.name)),
        e,
    )
    .to_string()
}

/// Save the restore plan on every deployment to break, each conditional on the
/// resourceVersion it was made from.
pub(crate) async fn save_plans(
    ctx: &DrillContext,
    shared: &SharedState,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<(), String> {
    for t in &ctx.plan.targets {
        let d = &t.deployment;
        let c = ctx.clients.get(&d.cluster).map_err(|e| e.to_string())?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let dep = get_deployment(ctx, d)
                .await?
                .ok_or_else(|| format!("deployment {d} is gone"))?;
            // A plan of this very drill is already there (an earlier attempt's answer was
            // lost): keep it.
            if let Ok(Some(p)) = restore::pending_restore(&dep)
                && p.drill_id == ctx.restore.drill_id
            {
                lock(shared).saved.insert(
                    d.clone(),
                    Saved {
                        plan: p,
                        resource_version: dep.metadata.resource_version.clone(),
                        spec: dep.spec.clone(),
                    },
                );
                break;
            }
            let plan = restore::plan_for_mode(
                ctx.plan.break_mode,
                &dep,
                &d.cluster,
                &t.containers,
                &ctx.restore,
            )
            .map_err(|e| e.to_string())?;
            let patch = restore::save_patch(&plan).map_err(|e| e.to_string())?;
            match patch_deployment(c, d, &patch, false).await {
                Ok(saved) => {
                    lock(shared).saved.insert(
                        d.clone(),
                        Saved {
                            plan,
                            resource_version: saved.metadata.resource_version.clone(),
                            spec: saved.spec.clone(),
                        },
                    );
                    let _ = tx.send(Msg::Patched(PatchKind::Saved, d.clone()));
                    break;
                }
                Err(e) if is_conflict(&e) && attempt < SAVE_ATTEMPTS => continue,
                Err(e) => return Err(patch_error(c, d, e)),
            }
        }
    }
    Ok(())
}

/// Break one deployment, conditional on the resourceVersion the save left. A conflict is
/// retried with the new resourceVersion when only the status moved on (the spec is as saved
/// and the plan is still this drill's: a real controller writes status after the save, since
/// an annotation change bumps a Deployment's `generation`), and is success when the
/// deployment is already broken as planned (an attempt whose answer was lost went through);
/// any other change refuses.
async fn break_one(
    ctx: &DrillContext,
    c: &ClusterClient,
    d: &DeploymentRef,
    s: &Saved,
) -> Result<Deployment, String> {
    let mut rv = s.resource_version.clone();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut patch = restore::break_patch(&s.plan);
        if let Some(rv) = &rv {
            patch["metadata"] = serde_json::json!({ "resourceVersion": rv });
        }
        match patch_deployment(c, d, &patch, true).await {
            Ok(dep) => return Ok(dep),
            Err(e) if is_conflict(&e) => {
                let changed = || {
                    format!(
                        "deployment {d} changed after its restore plan was saved; nothing was broken there"
                    )
                };
                if attempt >= SAVE_ATTEMPTS {
                    return Err(changed());
                }
                let now = get_deployment(ctx, d).await?.ok_or_else(changed)?;
                let ours = matches!(restore::pending_restore(&now),
                    Ok(Some(p)) if p.drill_id == ctx.restore.drill_id);
                // An earlier attempt went through and only its answer was lost (the retry
                // layer sent it again and met the precondition): broken as planned.
                if ours && still_broken(&s.plan, &now) {
                    return Ok(now);
                }
                if !ours || now.spec != s.spec {
                    return Err(changed());
                }
                rv = now.metadata.resource_version.clone();
            }
            Err(e) => return Err(patch_error(c, d, e)),
        }
    }
}

/// The guide's break on every deployment, conditional on the resourceVersion the save left.
pub(crate) async fn apply_break(
    ctx: &DrillContext,
    shared: &SharedState,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<(), String> {
    let saved: Vec<(DeploymentRef, Saved)> = lock(shared)
        .saved
        .iter()
        .map(|(d, s)| (d.clone(), s.clone()))
        .collect();
    let results = join_all(saved.iter().map(|(d, s)| async move {
        let c = ctx.clients.get(&d.cluster).map_err(|e| e.to_string())?;
        let dep = break_one(ctx, c, d, s).await?;
        let _ = tx.send(Msg::Patched(PatchKind::Broken, d.clone()));
        Ok::<_, String>((d.clone(), dep.metadata.generation.unwrap_or(0)))
    }))
    .await;
    let mut first_error = None;
    for r in results {
        match r {
            Ok((d, generation)) => {
                lock(shared).generations.insert(d, generation);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Whether `dep` is still broken as `plan` broke it: a broken container still runs the
/// drill's `sleep`, or (scale) the deployment still has 0 replicas where it had some.
fn still_broken(plan: &RestorePlan, dep: &Deployment) -> bool {
    if let Some(s) = &plan.scale {
        return dep.spec.as_ref().and_then(|x| x.replicas) == Some(0) && s.replicas != Some(0);
    }
    let list = restore::template_containers(dep);
    plan.broken_containers().any(|saved| {
        list.iter().any(|c| {
            c.name == saved.name
                && c.command.as_deref().is_some_and(|cmd| {
                    cmd.iter()
                        .map(String::as_str)
                        .eq(BREAK_COMMAND.iter().copied())
                })
                && saved.command.as_deref() != c.command.as_deref()
        })
    })
}

/// Put back what was saved on each deployment to break (read from the live object), and
/// check the answer field by field.
pub(crate) async fn apply_restore(
    ctx: &DrillContext,
    shared: &SharedState,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<(), String> {
    let results = join_all(ctx.plan.targets.iter().map(|t| async move {
        let d = &t.deployment;
        let c = ctx.clients.get(&d.cluster).map_err(|e| e.to_string())?;
        let mut attempt = 0;
        let (plan, dep) = loop {
            attempt += 1;
            let Some(live) = get_deployment(ctx, d).await? else {
                return Ok(None);
            };
            let found = restore::restore_patch_for(&live, &ctx.restore.drill_id)
                .map_err(|e| format!("deployment {d}: {e}"))?;
            let (plan, mut patch) = match found {
                Some(pp) => pp,
                None => {
                    // No annotation of ours: restored already, unless someone removed the
                    // annotation while the container still sleeps.
                    let saved = lock(shared).saved.get(d).map(|s| s.plan.clone());
                    match saved {
                        Some(p) if still_broken(&p, &live) => {
                            let patch = restore::restore_patch(&p);
                            (p, patch)
                        }
                        _ => return Ok(None),
                    }
                }
            };
            // Conditional on what was just read: safe to send again when an answer is lost
            // (the retry layer does); a 409 means it changed (or an attempt whose answer was
            // lost went through): read again and decide again.
            if let Some(rv) = &live.metadata.resource_version {
                patch["metadata"]["resourceVersion"] = serde_json::json!(rv);
            }
            match patch_deployment(c, d, &patch, true).await {
                Ok(dep) => break (plan, dep),
                Err(e) if is_conflict(&e) && attempt < SAVE_ATTEMPTS => continue,
                Err(e) => return Err(patch_error(c, d, e)),
            }
        };
        restore::verify_restored(&plan, &dep).map_err(|diffs| {
            format!(
                "deployment {d} after the restore patch: {}",
                diffs.join("; ")
            )
        })?;
        let _ = tx.send(Msg::Patched(PatchKind::Restored, d.clone()));
        Ok::<_, String>(Some((d.clone(), dep.metadata.generation.unwrap_or(0))))
    }))
    .await;
    let mut first_error = None;
    for r in results {
        match r {
            Ok(Some((d, generation))) => {
                lock(shared).generations.insert(d, generation);
            }
            Ok(None) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use smh_core::testing::drill::{ctx, mk_container, mk_deployment};

    #[test]
    fn still_broken_only_with_the_drills_sleep() {
        let dep = mk_deployment(
            "bookinfo",
            "reviews-v1",
            &[("app", "reviews")],
            vec![mk_container("reviews", None, None)],
        );
        let plan =
            restore::restore_plan(&dep, "mgmt-cluster", &["reviews".to_string()], &ctx()).unwrap();
        assert!(!still_broken(&plan, &dep));
        let broken = restore::apply_patch_locally(&dep, &restore::break_patch(&plan)).unwrap();
        assert!(still_broken(&plan, &broken));
        // A container whose own command is `sleep 20h` is not "still broken".
        let own = mk_deployment(
            "bookinfo",
            "reviews-v1",
            &[("app", "reviews")],
            vec![mk_container("reviews", Some(&["sleep", "20h"]), None)],
        );
        let plan =
            restore::restore_plan(&own, "mgmt-cluster", &["reviews".to_string()], &ctx()).unwrap();
        assert!(!still_broken(&plan, &own));
    }
}
