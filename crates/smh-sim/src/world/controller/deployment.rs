//! Deployment controller: replica sets per pod template, rolling updates, status.
//!
//! Follows `pkg/controller/deployment` of Kubernetes: the new replica set is the one whose
//! template (without `pod-template-hash`) equals the deployment's; it is named
//! `<deployment>-<hash>` and labelled `pod-template-hash`; `deployment.kubernetes.io/revision`
//! is one more than any older replica set's. RollingUpdate scales the new set up within
//! `replicas + maxSurge` and old sets down while keeping `replicas - maxUnavailable`
//! available (defaults 25 % each, surge rounded up, unavailable down); Recreate scales old
//! sets to zero first. Status and the `Available` / `Progressing` conditions are reported as
//! the real controller does, including `ProgressDeadlineExceeded`.
//!
//! Simplifications: no proportional scaling of several active replica sets when `replicas`
//! changes mid-rollout (the new set absorbs it), no orphan adoption, no rollback API; the
//! pod template hash is FNV-1a over the template's JSON (Kubernetes hashes its Go struct
//! printout, so the values differ from a real cluster's but have the same form).

use serde_json::{Value, json};

use crate::store::Store;
use crate::world::obj::{
    self, controller_uid, is_deleting, name, namespace, now_rfc3339, owner_ref, str_at, uid,
};

pub(super) const REVISION: &str = "deployment.kubernetes.io/revision";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
const HASH_LABEL: &str = "pod-template-hash";

/// Kubernetes' pod-template-hash form: a 32-bit hash of the template (and collision count)
/// printed in decimal and mapped onto the `bcdfghjklmnpqrstvwxz2456789` alphabet
/// (`rand.SafeEncodeString`).
pub(crate) fn template_hash(template: &Value, collision_count: u32) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let text = serde_json::to_string(template).unwrap_or_default();
    for b in text.bytes().chain(collision_count.to_le_bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string()
        .bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

fn int_at(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(Value::as_i64)
}

fn revision(rs: &Value) -> i64 {
    str_at(
        rs,
        &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
    )
    .parse()
    .unwrap_or(0)
}

fn spec_replicas(rs: &Value) -> i64 {
    int_at(rs, "/spec/replicas").unwrap_or(1)
}

fn status_int(rs: &Value, field: &str) -> i64 {
    int_at(rs, &format!("/status/{field}")).unwrap_or(0)
}

/// The template of a replica set without the `pod-template-hash` label.
fn template_without_hash(rs: &Value) -> Value {
    let mut t = rs.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
        if labels.is_empty()
            && let Some(m) = t.pointer_mut("/metadata").and_then(Value::as_object_mut)
        {
            m.remove("labels");
        }
    }
    t
}

/// Resolve an IntOrString (`3` or `"25%"`) against `total`.
fn int_or_percent(v: Option<&Value>, default: &str, total: i64, round_up: bool) -> i64 {
    let parse_pct = |s: &str| -> Option<i64> {
        let p: f64 = s.strip_suffix('%')?.trim().parse().ok()?;
        let x = p * total as f64 / 100.0;
        Some(if round_up { x.ceil() } else { x.floor() } as i64)
    };
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => parse_pct(s).or_else(|| s.parse().ok()).unwrap_or(0),
        _ => parse_pct(default).unwrap_or(0),
    }
    .max(0)
}

struct Strategy {
    recreate: bool,
    max_surge: i64,
    max_unavailable: i64,
}

fn strategy(d: &Value, replicas: i64) -> Strategy {
    let recreate = str_at(d, "/spec/strategy/type") == "Recreate";
    let ru = d.pointer("/spec/strategy/rollingUpdate");
    let max_surge = int_or_percent(ru.and_then(|r| r.get("maxSurge")), "25%", replicas, true);
    let mut max_unavailable = int_or_percent(
        ru.and_then(|r| r.get("maxUnavailable")),
        "25%",
        replicas,
        false,
    );
    if max_surge == 0 && max_unavailable == 0 {
        max_unavailable = 1;
    }
    Strategy {
        recreate,
        max_surge,
        max_unavailable: if recreate { 0 } else { max_unavailable },
    }
}

pub(super) fn sync(store: &Store) {
    let (deploys, _) = store.list(&obj::deployments(), None);
    for d in &deploys {
        // Conflicts and races are retried by the next pass.
        let _ = sync_one(store, d);
    }
}

/// Write a replica set with a new `spec.replicas` (and the replica annotations).
fn scale(store: &Store, rs: &mut Value, replicas: i64, desired: i64, max: i64) -> bool {
    let mut updated = rs.clone();
    updated["spec"]["replicas"] = json!(replicas);
    let ann = obj::map_at_mut(&mut updated, &["metadata", "annotations"]);
    ann.insert(DESIRED.into(), json!(desired.to_string()));
    ann.insert(MAX_REPLICAS.into(), json!(max.to_string()));
    if &updated == rs {
        return false;
    }
    match store.update(&obj::replica_sets(), updated) {
        Ok(v) => {
            *rs = v;
            true
        }
        Err(_) => false,
    }
}

fn sync_one(store: &Store, d: &Value) -> Result<(), crate::store::StoreError> {
    if is_deleting(d) {
        return Ok(());
    }
    let ns = namespace(d);
    let d_uid = uid(d);
    let replicas = int_at(d, "/spec/replicas").unwrap_or(1).max(0);
    let template = d.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let strat = strategy(d, replicas);
    let (all_rs, _) = store.list(&obj::replica_sets(), Some(ns));
    let mut owned: Vec<Value> = all_rs
        .into_iter()
        .filter(|rs| controller_uid(rs, "Deployment") == Some(d_uid) && !is_deleting(rs))
        .collect();
    // Oldest first (by revision, then creation).
    owned.sort_by_key(|rs| {
        (
            revision(rs),
            str_at(rs, "/metadata/creationTimestamp").to_string(),
        )
    });
    let new_idx = owned
        .iter()
        .position(|rs| template_without_hash(rs) == template);
    let mut created_new = None;
    let mut new_rs = match new_idx {
        Some(i) => Some(owned.remove(i)),
        None if !paused => {
            let initial = if strat.recreate {
                let old_active = owned
                    .iter()
                    .any(|rs| spec_replicas(rs) > 0 || status_int(rs, "replicas") > 0);
                if old_active { 0 } else { replicas }
            } else {
                let current: i64 = owned.iter().map(spec_replicas).sum();
                let max_total = replicas + strat.max_surge;
                if current >= max_total {
                    0
                } else {
                    (max_total - current).min(replicas)
                }
            };
            let max_rev = owned.iter().map(revision).max().unwrap_or(0);
            let rs = create_rs(store, d, &template, initial, max_rev + 1, replicas, &strat)?;
            created_new = Some(name(&rs).to_string());
            Some(rs)
        }
        None => None,
    };
    let mut olds = owned;

    if let Some(rs) = new_rs.as_mut() {
        // A template that comes back (rollback by edit) becomes the newest revision.
        let max_old = olds.iter().map(revision).max().unwrap_or(0);
        if revision(rs) <= max_old {
            let mut updated = rs.clone();
            let key = REVISION.to_string();
            obj::map_at_mut(&mut updated, &["metadata", "annotations"])
                .insert(key, json!((max_old + 1).to_string()));
            if let Ok(v) = store.update(&obj::replica_sets(), updated) {
                *rs = v;
            }
        }
    }

    if !paused && let Some(new) = new_rs.as_mut() {
        let max = replicas + strat.max_surge;
        if strat.recreate {
            let olds_scaled = olds.iter().all(|rs| spec_replicas(rs) == 0);
            for rs in olds.iter_mut().filter(|rs| spec_replicas(rs) > 0) {
                scale(store, rs, 0, replicas, max);
            }
            let olds_gone = olds.iter().all(|rs| status_int(rs, "replicas") == 0);
            if olds_scaled && olds_gone && spec_replicas(new) != replicas {
                scale(store, new, replicas, replicas, max);
            }
        } else if olds.iter().all(|rs| spec_replicas(rs) == 0) {
            if spec_replicas(new) != replicas {
                scale(store, new, replicas, replicas, max);
            }
        } else {
            // Scale the new replica set up within maxSurge.
            let current: i64 = spec_replicas(new) + olds.iter().map(spec_replicas).sum::<i64>();
            if current < max {
                let target = (spec_replicas(new) + (max - current)).min(replicas);
                if target > spec_replicas(new) {
                    scale(store, new, target, replicas, max);
                }
            } else if spec_replicas(new) > replicas {
                scale(store, new, replicas, replicas, max);
            }
            reconcile_old(store, new, &mut olds, replicas, &strat, max);
        }
    }

    // Clean up old replica sets beyond revisionHistoryLimit.
    let limit = int_at(d, "/spec/revisionHistoryLimit").unwrap_or(10).max(0) as usize;
    let idle: Vec<&Value> = olds
        .iter()
        .filter(|rs| spec_replicas(rs) == 0 && status_int(rs, "replicas") == 0)
        .collect();
    if idle.len() > limit {
        for rs in idle.iter().take(idle.len() - limit) {
            let _ = store.delete(&obj::replica_sets(), ns, name(rs));
        }
    }

    write_status(
        store,
        d,
        new_rs.as_ref(),
        &olds,
        replicas,
        &strat,
        paused,
        created_new,
    )
}

fn create_rs(
    store: &Store,
    d: &Value,
    template: &Value,
    initial: i64,
    revision: i64,
    replicas: i64,
    strat: &Strategy,
) -> Result<Value, crate::store::StoreError> {
    let collision = int_at(d, "/status/collisionCount").unwrap_or(0) as u32;
    let mut attempt = collision;
    loop {
        let hash = template_hash(template, attempt);
        let rs_name = format!("{}-{hash}", name(d));
        let mut tmpl = template.clone();
        obj::map_at_mut(&mut tmpl, &["metadata", "labels"]).insert(HASH_LABEL.into(), json!(hash));
        let mut labels = obj::string_map(template, "/metadata/labels");
        labels.insert(HASH_LABEL.into(), hash.clone());
        let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
        obj::map_at_mut(&mut selector, &["matchLabels"]).insert(HASH_LABEL.into(), json!(hash));
        let rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name,
                "namespace": namespace(d),
                "labels": labels,
                "annotations": {
                    REVISION: revision.to_string(),
                    DESIRED: replicas.to_string(),
                    MAX_REPLICAS: (replicas + strat.max_surge).to_string(),
                },
                "ownerReferences": [owner_ref(d, "apps/v1", "Deployment")],
            },
            "spec": {
                "replicas": initial,
                "minReadySeconds": int_at(d, "/spec/minReadySeconds").unwrap_or(0),
                "selector": selector,
                "template": tmpl,
            },
            "status": {"replicas": 0},
        });
        match store.create(&obj::replica_sets(), rs) {
            Ok(v) => return Ok(v),
            Err(crate::store::StoreError::AlreadyExists(_)) if attempt < collision + 10 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Kubernetes' `reconcileOldReplicaSets` for RollingUpdate.
fn reconcile_old(
    store: &Store,
    new: &Value,
    olds: &mut [Value],
    replicas: i64,
    strat: &Strategy,
    max: i64,
) {
    let old_pods: i64 = olds.iter().map(spec_replicas).sum();
    if old_pods == 0 {
        return;
    }
    let all_pods = old_pods + spec_replicas(new);
    let min_available = replicas - strat.max_unavailable;
    let new_unavailable = spec_replicas(new) - status_int(new, "availableReplicas");
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return;
    }
    // First drop old pods that are not available anyway.
    let mut cleaned = 0;
    for rs in olds.iter_mut() {
        if cleaned >= max_scaled_down {
            break;
        }
        let unhealthy = spec_replicas(rs) - status_int(rs, "availableReplicas");
        if unhealthy <= 0 {
            continue;
        }
        let by = unhealthy.min(max_scaled_down - cleaned);
        let target = spec_replicas(rs) - by;
        scale(store, rs, target, replicas, max);
        cleaned += by;
    }
    // Then scale down while keeping minAvailable.
    let available: i64 = status_int(new, "availableReplicas")
        + olds
            .iter()
            .map(|rs| status_int(rs, "availableReplicas").min(spec_replicas(rs)))
            .sum::<i64>();
    if available <= min_available {
        return;
    }
    let mut remaining = available - min_available;
    for rs in olds.iter_mut() {
        if remaining <= 0 {
            break;
        }
        let current = spec_replicas(rs);
        if current == 0 {
            continue;
        }
        let by = current.min(remaining);
        scale(store, rs, current - by, replicas, max);
        remaining -= by;
    }
}

fn condition<'a>(d: &'a Value, kind: &str) -> Option<&'a Value> {
    d.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| str_at(c, "/type") == kind)
}

/// A condition with Kubernetes' timestamp rules: `lastTransitionTime` changes only when the
/// status changes, `lastUpdateTime` when anything changes.
fn set_condition(
    existing: Option<&Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) -> Value {
    if let Some(c) = existing
        && str_at(c, "/status") == status
        && str_at(c, "/reason") == reason
        && str_at(c, "/message") == message
    {
        return c.clone();
    }
    let transition = match existing {
        Some(c) if str_at(c, "/status") == status => str_at(c, "/lastTransitionTime").to_string(),
        _ => now.to_string(),
    };
    json!({
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": transition,
        "reason": reason,
        "message": message,
    })
}

/// Where the rollout stands, for the Progressing condition.
struct Progress<'a> {
    paused: bool,
    /// Every replica updated and available, none of an old replica set left.
    complete: bool,
    /// The replica set this sync created.
    created_new: Option<&'a str>,
    /// A replica count or the observed generation changed since the last status.
    progressed: bool,
}

/// The Progressing condition as the deployment controller sets it: paused, complete, a new
/// replica set created, progressing, or (no progress for `progressDeadlineSeconds`) timed out.
fn progressing_condition(d: &Value, p: &Progress<'_>, new_name: &str, now: &str) -> Option<Value> {
    let prev_progressing = condition(d, "Progressing");
    if p.paused {
        Some(set_condition(
            prev_progressing,
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused",
            now,
        ))
    } else if p.complete {
        Some(set_condition(
            prev_progressing,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            now,
        ))
    } else if let Some(created) = p.created_new {
        Some(set_condition(
            prev_progressing,
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            &format!("Created new replica set \"{created}\""),
            now,
        ))
    } else if p.progressed {
        let mut c = set_condition(
            prev_progressing,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &format!("ReplicaSet \"{new_name}\" is progressing."),
            now,
        );
        c["lastUpdateTime"] = json!(now);
        Some(c)
    } else {
        let deadline = int_at(d, "/spec/progressDeadlineSeconds").unwrap_or(600);
        let timed_out = prev_progressing
            .filter(|c| str_at(c, "/status") == "True")
            .and_then(|c| str_at(c, "/lastUpdateTime").parse::<jiff::Timestamp>().ok())
            .is_some_and(|t| jiff::Timestamp::now().as_second() - t.as_second() > deadline);
        if timed_out {
            Some(set_condition(
                prev_progressing,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                now,
            ))
        } else {
            prev_progressing.cloned()
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_status(
    store: &Store,
    d: &Value,
    new_rs: Option<&Value>,
    olds: &[Value],
    replicas: i64,
    strat: &Strategy,
    paused: bool,
    created_new: Option<String>,
) -> Result<(), crate::store::StoreError> {
    // Re-read replica sets: scaling above changed them.
    let fresh = |rs: &Value| {
        store
            .get(&obj::replica_sets(), namespace(rs), name(rs))
            .unwrap_or_else(|| rs.clone())
    };
    let new_rs = new_rs.map(fresh);
    let olds: Vec<Value> = olds.iter().map(fresh).collect();
    let all: Vec<&Value> = new_rs.iter().chain(olds.iter()).collect();
    let sum = |f: &str| all.iter().map(|rs| status_int(rs, f)).sum::<i64>();
    let total_replicas = sum("replicas");
    let updated = new_rs.as_ref().map_or(0, |rs| status_int(rs, "replicas"));
    let ready = sum("readyReplicas");
    let available = sum("availableReplicas");
    let spec_total: i64 = all.iter().map(|rs| spec_replicas(rs)).sum();
    let unavailable = (spec_total - available).max(0);
    let now = now_rfc3339();
    let new_name = new_rs
        .as_ref()
        .map(|rs| name(rs).to_string())
        .unwrap_or_default();

    let available_cond = if available >= replicas - strat.max_unavailable {
        set_condition(
            condition(d, "Available"),
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            &now,
        )
    } else {
        set_condition(
            condition(d, "Available"),
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            &now,
        )
    };
    let complete = updated == replicas
        && total_replicas == replicas
        && available == replicas
        && new_rs.is_some();
    let prev = |f: &str| int_at(d, &format!("/status/{f}")).unwrap_or(0);
    let generation = int_at(d, "/metadata/generation").unwrap_or(1);
    let progressed = prev("updatedReplicas") != updated
        || prev("readyReplicas") != ready
        || prev("availableReplicas") != available
        || prev("replicas") != total_replicas
        || prev("observedGeneration") != generation;
    let progress = Progress {
        paused,
        complete,
        created_new: created_new.as_deref(),
        progressed,
    };
    let progressing_cond = progressing_condition(d, &progress, &new_name, &now);
    let mut conditions = vec![available_cond];
    conditions.extend(progressing_cond);

    let mut status = serde_json::Map::new();
    status.insert("observedGeneration".into(), json!(generation));
    for (k, v) in [
        ("replicas", total_replicas),
        ("updatedReplicas", updated),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("unavailableReplicas", unavailable),
    ] {
        if v != 0 {
            status.insert(k.into(), json!(v));
        }
    }
    status.insert("conditions".into(), json!(conditions));
    if let Some(c) = d.pointer("/status/collisionCount") {
        status.insert("collisionCount".into(), c.clone());
    }
    let status = Value::Object(status);
    // Like the real controller, the Deployment carries its newest replica set's revision
    // (`kubectl rollout undo` patches `/metadata/annotations` and relies on it being there).
    let rev = new_rs.as_ref().map(|rs| revision(rs).to_string());
    let rev_pointer = format!("/metadata/annotations/{}", REVISION.replace('/', "~1"));
    let rev_current = rev.as_deref().is_none_or(|r| str_at(d, &rev_pointer) == r);
    if d.get("status") == Some(&status) && rev_current {
        return Ok(());
    }
    let mut updated_d = d.clone();
    updated_d["status"] = status;
    if let Some(r) = rev {
        obj::map_at_mut(&mut updated_d, &["metadata", "annotations"])
            .insert(REVISION.to_string(), json!(r));
    }
    // Status and the revision annotation in one status write, as the real controller's
    // UpdateStatus: `generation` does not move.
    store
        .update_status(&obj::deployments(), updated_d)
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_look_like_kubernetes() {
        let t = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": []}});
        let h = template_hash(&t, 0);
        assert!(h.len() >= 8 && h.len() <= 10, "{h}");
        assert!(h.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        assert_ne!(h, template_hash(&t, 1));
        assert_eq!(h, template_hash(&t, 0));
    }

    #[test]
    fn surge_and_unavailable_rounding() {
        let d = json!({"spec": {}});
        let s = strategy(&d, 1);
        assert_eq!((s.max_surge, s.max_unavailable), (1, 0));
        let s = strategy(&d, 10);
        assert_eq!((s.max_surge, s.max_unavailable), (3, 2));
        let d = json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}}});
        assert_eq!(strategy(&d, 4).max_unavailable, 1);
    }
}
