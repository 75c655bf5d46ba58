//! The restore plan, kept on the deployments themselves, and the patches that break and
//! restore them.
//!
//! Before the first patch, every deployment to break gets the annotation
//! [`DRILL_RESTORE_ANNOTATION`] holding a [`RestorePlan`] as JSON: the drill id, the
//! FailoverService, the start time, and every container's original `command` and `args`
//! (`null` = absent, `[]` = present and empty; the two are kept apart). It survives a crash
//! of the CLI, so `kubectl smh drill restore NAME` can put things back.
//!
//! Which containers break: those that serve the primary service's port, i.e. declare the
//! Service's `targetPort` (by number or by name) in `ports`. Declaring ports is optional in
//! Kubernetes, so when no container declares it, every container of the deployment breaks.
//! Istio's sidecar is injected into pods, not deployments, so it is never among them.
//!
//! The patches:
//! - [`save_patch`]: a JSON merge patch adding the annotation, carrying the deployment's
//!   `metadata.resourceVersion` so the API server rejects it (409 Conflict) if the
//!   deployment changed since it was read; on a conflict, re-read and build the plan again.
//! - [`break_patch`]: the guide's strategic merge patch (`command: ["sleep", "20h"]`), plus
//!   `args: null` for a container that had args, so `sleep` does not get the app's args.
//! - [`restore_patch`]: a strategic merge patch putting back exactly the saved `command`
//!   and `args` of the broken containers (`null` deletes a field that was absent, unlike the
//!   guide's blind `remove /containers/0/command`, which breaks an image whose deployment
//!   sets its own command) and removing the annotation, in one request.
//!
//! With `--break-mode scale` ([`BreakMode::Scale`]) the plan saves `spec.replicas` instead
//! (`null` when the field was absent), the break sets it to 0 and the restore puts back the
//! saved value. Such a plan is written as version 2 of the annotation, so that an older
//! kubectl-smh, which knows only the command patch and would restore nothing of the replica
//! count, refuses it instead of removing it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Container;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::DeploymentRef;
use crate::consts::DRILL_RESTORE_ANNOTATION;
use crate::model::types::ObjectRef;

/// Version of the annotation's JSON layout for the command patch.
pub(crate) const RESTORE_PLAN_VERSION: u32 = 1;
/// Version of the annotation's JSON layout for `--break-mode scale` (adds `scale`).
pub(crate) const RESTORE_PLAN_VERSION_SCALE: u32 = 2;

/// How the drill breaks a deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakMode {
    /// The guide's patch: the serving containers run `sleep 20h` (pods stay up, serve
    /// nothing; only outlier detection notices).
    #[default]
    Command,
    /// `spec.replicas: 0`: the pods go away (Envoy fails over because the primary has no
    /// endpoints left); the restore puts back the saved replica count.
    Scale,
}

impl BreakMode {
    /// `command` or `scale`, as `--break-mode` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakMode::Command => "command",
            BreakMode::Scale => "scale",
        }
    }
}

/// The command a broken container runs: it stays up (the pod stays Ready without a
/// readiness probe, so only outlier detection can notice) and listens on nothing.
pub const BREAK_COMMAND: [&str; 2] = ["sleep", "20h"];

/// What identifies this drill in the annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreContext {
    /// `<fs-name>-<timestamp>-<random suffix>`, unique per drill; the restore touches only plans with this id.
    pub drill_id: String,
    /// The drilled FailoverService.
    pub failover_service: ObjectRef,
    /// RFC 3339, e.g. `2026-11-27T10:15:00Z`.
    pub started_at: String,
}

/// A new drill id: the FailoverService name, the start time to the second and a random
/// suffix, `reviews-failover-20261127t101500z-x7kq2b`. The suffix tells apart drills started
/// in the same second (of FailoverServices with the same name in other namespaces, or
/// a retry): the id is what a drill recognises its own restore plans by.
pub fn new_drill_id(failover_service: &str, started_at: jiff::Timestamp) -> String {
    drill_id_with(failover_service, started_at, &mut fastrand::Rng::new())
}

/// The suffix's characters: Kubernetes' `generateName` alphabet (no vowels, so no words;
/// no 0/o, 1/l, 3/e).
const ID_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Characters in the suffix: 27^6, about 387 million.
const ID_SUFFIX_LEN: usize = 6;

/// [`new_drill_id`] with the suffix drawn from `rng`.
pub(crate) fn drill_id_with(
    failover_service: &str,
    started_at: jiff::Timestamp,
    rng: &mut fastrand::Rng,
) -> String {
    let suffix: String = (0..ID_SUFFIX_LEN)
        .map(|_| ID_ALPHABET[rng.usize(..ID_ALPHABET.len())] as char)
        .collect();
    format!(
        "{}-{}-{suffix}",
        failover_service,
        started_at.strftime("%Y%m%dt%H%M%Sz")
    )
}

/// One container's original fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedContainer {
    /// The container's name.
    pub name: String,
    /// `null`: the container had no `command` (the image's entrypoint ran).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// `null`: the container had no `args`.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Whether the drill breaks (and so restores) this container.
    pub broken: bool,
}

/// The restore plan, as stored in the annotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestorePlan {
    /// The plan's format: 1 for the command patch, 2 for `--break-mode scale`.
    pub version: u32,
    /// The drill that saved it.
    pub drill_id: String,
    /// The drilled FailoverService.
    pub failover_service: ObjectRef,
    /// When the drill started, RFC 3339.
    pub started_at: String,
    /// The deployment it restores.
    pub deployment: DeploymentRef,
    /// The deployment's resourceVersion when the plan was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// `--break-mode scale`: the replica count to put back (absent for the command patch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<SavedScale>,
    /// Every container of the pod template, in order (the command patch); empty with
    /// `scale`, which changes no container.
    pub containers: Vec<SavedContainer>,
}

/// What `--break-mode scale` saves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedScale {
    /// `spec.replicas` before the drill; `null`: the field was absent (the API server then
    /// defaults it to 1).
    pub replicas: Option<i32>,
}

impl RestorePlan {
    /// The containers the drill breaks, in pod template order.
    pub fn broken_containers(&self) -> impl Iterator<Item = &SavedContainer> {
        self.containers.iter().filter(|c| c.broken)
    }

    /// `Scale` when the plan saved a replica count, else `Command`.
    pub fn mode(&self) -> BreakMode {
        if self.scale.is_some() {
            BreakMode::Scale
        } else {
            BreakMode::Command
        }
    }

    /// What the restore puts back, in words: `container reviews: command absent, args
    /// absent` or `replicas 2`.
    pub fn describe_saved(&self) -> String {
        if let Some(s) = &self.scale {
            return match s.replicas {
                Some(n) => format!("replicas {n}"),
                None => "replicas unset (the API server's default, 1)".to_string(),
            };
        }
        let show = |v: &Option<Vec<String>>| match v {
            None => "absent".to_string(),
            Some(v) => serde_json::to_string(v).unwrap_or_default(),
        };
        self.broken_containers()
            .map(|c| {
                format!(
                    "container {}: command {}, args {}",
                    c.name,
                    show(&c.command),
                    show(&c.args)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Why a restore plan or patch cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("deployment {deployment} has no containers in its pod template")]
    /// The deployment has no containers to break.
    NoContainers {
        /// `cluster:namespace/name`.
        deployment: String,
    },
    /// The deployment (`cluster:namespace/name`) does not exist.
    #[error("deployment {0} not found")]
    NotFound(String),
    #[error(
        "deployment {deployment} has no container named {container:?} (its containers: {})",
        available.join(", ")
    )]
    /// A container the plan names is not in the deployment's pod template.
    NoSuchContainer {
        /// `cluster:namespace/name`.
        deployment: String,
        /// The missing container.
        container: String,
        /// The containers it has.
        available: Vec<String>,
    },
    #[error(
        "deployment {deployment} already carries a restore plan from drill {drill_id} (started {started_at}): run `kubectl smh drill restore {failover_service}` first"
    )]
    /// The deployment still carries another drill's restore plan: restore that first.
    PendingRestore {
        /// `cluster:namespace/name`.
        deployment: String,
        /// The earlier drill.
        drill_id: String,
        /// When it started, RFC 3339.
        started_at: String,
        /// Its FailoverService's name, for `kubectl smh drill restore`.
        failover_service: String,
    },
    /// The annotation does not parse as a restore plan; holds why.
    #[error("annotation {DRILL_RESTORE_ANNOTATION} is not a restore plan: {0}")]
    BadAnnotation(String),
    /// The plan does not serialize or parse as JSON.
    #[error("restore plan JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The pod template's containers (empty when the deployment has no template spec).
pub fn template_containers(dep: &Deployment) -> &[Container] {
    dep.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.as_slice())
        .unwrap_or(&[])
}

fn dep_name(dep: &Deployment) -> String {
    format!(
        "{}/{}",
        dep.metadata.namespace.as_deref().unwrap_or(""),
        dep.metadata.name.as_deref().unwrap_or("")
    )
}

/// Build the restore plan for `dep` in `cluster`, breaking the named containers. Refuses a
/// deployment that already carries a restore plan: saving over it would record the broken
/// state as the original.
pub fn restore_plan(
    dep: &Deployment,
    cluster: &str,
    broken: &[String],
    ctx: &RestoreContext,
) -> Result<RestorePlan, RestoreError> {
    if let Some(pending) = pending_restore(dep)? {
        return Err(RestoreError::PendingRestore {
            deployment: dep_name(dep),
            drill_id: pending.drill_id,
            started_at: pending.started_at,
            failover_service: pending.failover_service.name,
        });
    }
    let list = template_containers(dep);
    if list.is_empty() {
        return Err(RestoreError::NoContainers {
            deployment: dep_name(dep),
        });
    }
    for name in broken {
        if !list.iter().any(|c| &c.name == name) {
            return Err(RestoreError::NoSuchContainer {
                deployment: dep_name(dep),
                container: name.clone(),
                available: list.iter().map(|c| c.name.clone()).collect(),
            });
        }
    }
    Ok(RestorePlan {
        version: RESTORE_PLAN_VERSION,
        drill_id: ctx.drill_id.clone(),
        failover_service: ctx.failover_service.clone(),
        started_at: ctx.started_at.clone(),
        deployment: DeploymentRef {
            cluster: cluster.to_string(),
            namespace: dep.metadata.namespace.clone().unwrap_or_default(),
            name: dep.metadata.name.clone().unwrap_or_default(),
        },
        resource_version: dep.metadata.resource_version.clone(),
        scale: None,
        containers: list
            .iter()
            .map(|c| SavedContainer {
                name: c.name.clone(),
                command: c.command.clone(),
                args: c.args.clone(),
                broken: broken.contains(&c.name),
            })
            .collect(),
    })
}

/// Build the restore plan for `--break-mode scale`: the deployment's `spec.replicas` as it
/// is (absent stays absent). Refuses a deployment that already carries a restore plan, as
/// [`restore_plan`] does.
pub fn scale_restore_plan(
    dep: &Deployment,
    cluster: &str,
    ctx: &RestoreContext,
) -> Result<RestorePlan, RestoreError> {
    if let Some(pending) = pending_restore(dep)? {
        return Err(RestoreError::PendingRestore {
            deployment: dep_name(dep),
            drill_id: pending.drill_id,
            started_at: pending.started_at,
            failover_service: pending.failover_service.name,
        });
    }
    Ok(RestorePlan {
        version: RESTORE_PLAN_VERSION_SCALE,
        drill_id: ctx.drill_id.clone(),
        failover_service: ctx.failover_service.clone(),
        started_at: ctx.started_at.clone(),
        deployment: DeploymentRef {
            cluster: cluster.to_string(),
            namespace: dep.metadata.namespace.clone().unwrap_or_default(),
            name: dep.metadata.name.clone().unwrap_or_default(),
        },
        resource_version: dep.metadata.resource_version.clone(),
        scale: Some(SavedScale {
            replicas: dep.spec.as_ref().and_then(|s| s.replicas),
        }),
        containers: Vec::new(),
    })
}

/// The restore plan `mode` makes.
pub fn plan_for_mode(
    mode: BreakMode,
    dep: &Deployment,
    cluster: &str,
    broken: &[String],
    ctx: &RestoreContext,
) -> Result<RestorePlan, RestoreError> {
    match mode {
        BreakMode::Command => restore_plan(dep, cluster, broken, ctx),
        BreakMode::Scale => scale_restore_plan(dep, cluster, ctx),
    }
}

/// The annotation value: the restore plan as compact JSON.
pub(crate) fn restore_annotation(plan: &RestorePlan) -> Result<String, RestoreError> {
    Ok(serde_json::to_string(plan)?)
}

/// Parse an annotation value written by [`restore_annotation`].
pub(crate) fn parse_restore_annotation(value: &str) -> Result<RestorePlan, RestoreError> {
    let plan: RestorePlan =
        serde_json::from_str(value).map_err(|e| RestoreError::BadAnnotation(e.to_string()))?;
    match plan.version {
        RESTORE_PLAN_VERSION => {
            if plan.scale.is_some() {
                return Err(RestoreError::BadAnnotation(format!(
                    "version {RESTORE_PLAN_VERSION} with a saved replica count (scale plans are version {RESTORE_PLAN_VERSION_SCALE})"
                )));
            }
            if plan.containers.is_empty() {
                return Err(RestoreError::BadAnnotation("no containers".into()));
            }
        }
        RESTORE_PLAN_VERSION_SCALE => {
            if plan.scale.is_none() {
                return Err(RestoreError::BadAnnotation(format!(
                    "version {RESTORE_PLAN_VERSION_SCALE} without the saved replica count (scale)"
                )));
            }
        }
        v => {
            return Err(RestoreError::BadAnnotation(format!(
                "version {v} (this kubectl-smh reads versions {RESTORE_PLAN_VERSION} and {RESTORE_PLAN_VERSION_SCALE}; use the kubectl-smh that started the drill)"
            )));
        }
    }
    Ok(plan)
}

/// The restore plan a deployment carries, if any: a drill broke it (or was about to) and
/// has not restored it yet. An annotation that does not parse is an error, never ignored.
pub fn pending_restore(dep: &Deployment) -> Result<Option<RestorePlan>, RestoreError> {
    dep.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DRILL_RESTORE_ANNOTATION))
        .map(|v| parse_restore_annotation(v))
        .transpose()
}

/// What `drill restore` finds: the restore plans of one FailoverService (and optionally
/// one drill) across the listed deployments, and annotations that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingRestores {
    /// The plans found, one per deployment.
    pub plans: Vec<RestorePlan>,
    /// Deployments whose annotation is not a readable restore plan: (deployment, why).
    pub unreadable: Vec<(DeploymentRef, String)>,
}

/// Find the pending restore plans of `failover_service` (optionally only drill `drill_id`)
/// on deployments listed per SMH cluster name. Sorted by deployment.
pub fn pending_restores(
    deployments: &BTreeMap<String, Vec<Deployment>>,
    failover_service: &ObjectRef,
    drill_id: Option<&str>,
) -> PendingRestores {
    let mut out = PendingRestores::default();
    for (cluster, list) in deployments {
        for dep in list {
            match pending_restore(dep) {
                Ok(None) => {}
                Ok(Some(plan)) => {
                    if &plan.failover_service == failover_service
                        && drill_id.is_none_or(|id| plan.drill_id == id)
                    {
                        out.plans.push(plan);
                    }
                }
                Err(e) => out.unreadable.push((
                    DeploymentRef {
                        cluster: cluster.clone(),
                        namespace: dep.metadata.namespace.clone().unwrap_or_default(),
                        name: dep.metadata.name.clone().unwrap_or_default(),
                    },
                    e.to_string(),
                )),
            }
        }
    }
    out.plans.sort_by(|a, b| a.deployment.cmp(&b.deployment));
    out.unreadable.sort();
    out
}

/// For the drill's `ApplyRestore`: the restore patch for a live deployment, if it carries a
/// restore plan of drill `drill_id`. `Ok(None)`: nothing of this drill to restore (no plan,
/// or another drill's, which is left alone).
pub fn restore_patch_for(
    dep: &Deployment,
    drill_id: &str,
) -> Result<Option<(RestorePlan, Value)>, RestoreError> {
    Ok(pending_restore(dep)?
        .filter(|p| p.drill_id == drill_id)
        .map(|p| {
            let patch = restore_patch(&p);
            (p, patch)
        }))
}

/// JSON merge patch that saves the plan on the deployment, conditional on the
/// resourceVersion the plan was made from.
pub fn save_patch(plan: &RestorePlan) -> Result<Value, RestoreError> {
    let mut metadata = json!({
        "annotations": { DRILL_RESTORE_ANNOTATION: restore_annotation(plan)? }
    });
    if let Some(rv) = &plan.resource_version {
        metadata["resourceVersion"] = json!(rv);
    }
    Ok(json!({ "metadata": metadata }))
}

fn template_patch(containers: Vec<Value>) -> Value {
    json!({"spec": {"template": {"spec": {"containers": containers}}}})
}

/// Strategic merge patch that breaks the plan's containers, as the guide does:
/// `{"spec":{"template":{"spec":{"containers":[{"name":"reviews","command":["sleep","20h"]}]}}}}`,
/// plus `"args": null` for a container that had args. For a scale plan:
/// `{"spec":{"replicas":0}}`.
pub fn break_patch(plan: &RestorePlan) -> Value {
    if plan.scale.is_some() {
        return json!({"spec": {"replicas": 0}});
    }
    template_patch(
        plan.broken_containers()
            .map(|c| {
                let mut v = json!({"name": c.name, "command": BREAK_COMMAND});
                if c.args.is_some() {
                    v["args"] = Value::Null;
                }
                v
            })
            .collect(),
    )
}

/// Strategic merge patch that restores the broken containers' `command` and `args` exactly
/// (`null` where they were absent), or for a scale plan the saved `spec.replicas`, and
/// removes the annotation.
pub fn restore_patch(plan: &RestorePlan) -> Value {
    if let Some(s) = &plan.scale {
        return json!({
            "metadata": {"annotations": { DRILL_RESTORE_ANNOTATION: null }},
            "spec": {"replicas": s.replicas},
        });
    }
    let mut patch = template_patch(
        plan.broken_containers()
            .map(|c| json!({"name": c.name, "command": c.command, "args": c.args}))
            .collect(),
    );
    patch["metadata"] = json!({"annotations": { DRILL_RESTORE_ANNOTATION: null }});
    patch
}

/// Apply a strategic merge patch from this module to a deployment, locally: what the API
/// server does with it (containers merge by `name`; `null` deletes; lists of strings are
/// replaced). For `--dry-run`, tests and the executor's expectations; it supports exactly the
/// shapes [`break_patch`], [`restore_patch`] and [`save_patch`] produce.
pub fn apply_patch_locally(dep: &Deployment, patch: &Value) -> Result<Deployment, RestoreError> {
    let mut out = dep.clone();
    if let Some(r) = patch.pointer("/spec/replicas") {
        let replicas = serde_json::from_value::<Option<i32>>(r.clone())?;
        out.spec.get_or_insert_with(Default::default).replicas = replicas;
    }
    if let Some(annotations) = patch
        .pointer("/metadata/annotations")
        .and_then(|v| v.as_object())
    {
        let map = out.metadata.annotations.get_or_insert_with(BTreeMap::new);
        for (k, v) in annotations {
            match v {
                Value::Null => {
                    map.remove(k);
                }
                Value::String(s) => {
                    map.insert(k.clone(), s.clone());
                }
                other => {
                    return Err(RestoreError::BadAnnotation(format!(
                        "patch sets annotation {k} to a non-string {other}"
                    )));
                }
            }
        }
        if map.is_empty() {
            out.metadata.annotations = None;
        }
    }
    if let Some(list) = patch
        .pointer("/spec/template/spec/containers")
        .and_then(|v| v.as_array())
    {
        let name = dep_name(dep);
        let pod = out
            .spec
            .as_mut()
            .and_then(|s| s.template.spec.as_mut())
            .ok_or_else(|| RestoreError::NoContainers {
                deployment: name.clone(),
            })?;
        for item in list {
            let cname = item.get("name").and_then(|v| v.as_str()).unwrap_or("");
            let available: Vec<String> = pod.containers.iter().map(|c| c.name.clone()).collect();
            let c = pod
                .containers
                .iter_mut()
                .find(|c| c.name == cname)
                .ok_or_else(|| RestoreError::NoSuchContainer {
                    deployment: name.clone(),
                    container: cname.to_string(),
                    available,
                })?;
            for (field, slot) in [("command", &mut c.command), ("args", &mut c.args)] {
                if let Some(v) = item.get(field) {
                    *slot = serde_json::from_value::<Option<Vec<String>>>(v.clone())?;
                }
            }
        }
    }
    Ok(out)
}

/// Compare two container lists field by field. `Err` lists every difference, e.g.
/// `container reviews: command: ["sleep","20h"] != absent`. Absent and empty are different.
pub fn containers_equal(before: &[Container], after: &[Container]) -> Result<(), Vec<String>> {
    let mut diffs = Vec::new();
    let names = |l: &[Container]| l.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    if names(before) != names(after) {
        diffs.push(format!(
            "containers: [{}] != [{}]",
            names(before).join(", "),
            names(after).join(", ")
        ));
    }
    for b in before {
        let Some(a) = after.iter().find(|a| a.name == b.name) else {
            continue;
        };
        let (bv, av) = match (serde_json::to_value(b), serde_json::to_value(a)) {
            (Ok(Value::Object(bv)), Ok(Value::Object(av))) => (bv, av),
            _ => {
                diffs.push(format!("container {}: cannot be compared", b.name));
                continue;
            }
        };
        let mut fields: Vec<&String> = bv.keys().chain(av.keys()).collect();
        fields.sort();
        fields.dedup();
        for f in fields {
            let (x, y) = (bv.get(f), av.get(f));
            if x != y {
                let show = |v: Option<&Value>| v.map_or("absent".to_string(), |v| v.to_string());
                diffs.push(format!(
                    "container {}: {f}: {} != {}",
                    b.name,
                    show(x),
                    show(y)
                ));
            }
        }
    }
    if diffs.is_empty() { Ok(()) } else { Err(diffs) }
}

/// Check that `dep` is back to what `plan` saved: the broken containers' `command` and `args`
/// (or, for a scale plan, `spec.replicas`) equal the saved ones and the annotation is gone.
pub fn verify_restored(plan: &RestorePlan, dep: &Deployment) -> Result<(), Vec<String>> {
    let mut diffs = Vec::new();
    if dep
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(DRILL_RESTORE_ANNOTATION))
    {
        diffs.push(format!(
            "annotation {DRILL_RESTORE_ANNOTATION} is still set"
        ));
    }
    if let Some(s) = &plan.scale {
        let live = dep.spec.as_ref().and_then(|s| s.replicas);
        // Absent before: the API server defaults the field to 1 when the patch removes it.
        let ok = match s.replicas {
            None => live.is_none() || live == Some(1),
            Some(n) => live == Some(n),
        };
        if !ok {
            let show = |v: Option<i32>| v.map_or("absent".to_string(), |n| n.to_string());
            diffs.push(format!(
                "spec.replicas: {} != saved {}",
                show(live),
                show(s.replicas)
            ));
        }
    }
    let list = template_containers(dep);
    for saved in plan.broken_containers() {
        match list.iter().find(|c| c.name == saved.name) {
            None => diffs.push(format!("container {} is gone", saved.name)),
            Some(c) => {
                let show = |v: &Option<Vec<String>>| match v {
                    None => "absent".to_string(),
                    Some(v) => serde_json::to_string(v).unwrap_or_default(),
                };
                if c.command != saved.command {
                    diffs.push(format!(
                        "container {}: command: {} != saved {}",
                        c.name,
                        show(&c.command),
                        show(&saved.command)
                    ));
                }
                if c.args != saved.args {
                    diffs.push(format!(
                        "container {}: args: {} != saved {}",
                        c.name,
                        show(&c.args),
                        show(&saved.args)
                    ));
                }
            }
        }
    }
    if diffs.is_empty() { Ok(()) } else { Err(diffs) }
}

/// [`verify_restored`] for a later look (after the restore rollout, at the end of the drill):
/// when a HorizontalPodAutoscaler scales the deployment (`autoscaled`), the replica count of
/// a scale plan is the HPA's to change once the restore put it back (the answer to the
/// restore patch was checked exactly), so it is not compared again.
pub fn verify_restored_later(
    plan: &RestorePlan,
    dep: &Deployment,
    autoscaled: bool,
) -> Result<(), Vec<String>> {
    match verify_restored(plan, dep) {
        Ok(()) => Ok(()),
        Err(diffs) => {
            let left: Vec<String> = diffs
                .into_iter()
                .filter(|d| {
                    !(autoscaled && plan.scale.is_some() && d.starts_with("spec.replicas:"))
                })
                .collect();
            if left.is_empty() { Ok(()) } else { Err(left) }
        }
    }
}

#[cfg(test)]
mod tests;
