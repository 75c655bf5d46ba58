//! The preflight step: reads the facts the machine's preflight judges (backing health,
//! generated objects, HPAs) and assesses the deployments to break.

use std::collections::BTreeMap;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Endpoints;
use kube::api::ListParams;
use kube::{Api, ResourceExt};

use crate::executor::{SharedState, lock};
use crate::facts::LiveFacts;
use crate::inputs::{Clients, get_failover_service, op};
use crate::observer::DrillContext;
use smh_cluster::{ClusterClient, ClusterError};
use smh_core::drill::DeploymentRef;
use smh_core::drill::live::{self};
use smh_core::drill::plan::{self, DrillPlan};
use smh_core::drill::preflight::{self, BackingHealth, PreflightFacts, PreflightReport};
use smh_core::drill::restore::{self, RestorePlan};
use smh_core::drill::workload::{self, Assessment};
use smh_core::model::types::ObjectRef;

pub(crate) async fn run_preflight(
    ctx: &DrillContext,
    shared: &SharedState,
) -> Result<PreflightReport, String> {
    let inputs = &ctx.inputs;
    let fs_name = inputs.failover_service.name_any();
    let fs_ns = inputs.failover_service.namespace().unwrap_or_default();
    let (fs, generated, endpoints, targets) = futures::join!(
        get_failover_service(&ctx.clients.mgmt, &fs_ns, &fs_name),
        (ctx.generated)(),
        ready_endpoints(ctx),
        get_targets(ctx),
    );
    let fs = fs.map_err(|e| e.to_string())?;
    let LiveFacts {
        generated,
        cluster_ids,
    } = generated?;
    let endpoints = endpoints?;
    let targets = targets?;
    let backing: Vec<BackingHealth> = inputs
        .backing
        .iter()
        .zip(&endpoints)
        .map(|(b, n)| BackingHealth {
            service: b.service.clone(),
            outlier: b.outlier.clone(),
            ready_endpoints: *n,
        })
        .collect();
    let mut pending: Vec<RestorePlan> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    for (d, dep) in &targets {
        match restore::pending_restore(dep) {
            Ok(Some(p)) => pending.push(p),
            Ok(None) => {}
            Err(e) => unreadable.push(format!(
                "deployment {d}: {e}; fix or remove the annotation by hand"
            )),
        }
    }
    // Restore plans of this FailoverService on other deployments it lists.
    let fs_ref = ObjectRef {
        name: fs_name.clone(),
        namespace: fs_ns.clone(),
    };
    for p in restore::pending_restores(&inputs.deployments, &fs_ref, None).plans {
        if !pending.iter().any(|q| q.deployment == p.deployment) {
            pending.push(p);
        }
    }
    let mut report = preflight::check(&PreflightFacts {
        failover_service: &fs,
        generated: &generated,
        backing: &backing,
        pending_restores: &pending,
        cluster_ids: &cluster_ids,
        baseline: None,
    });
    for b in &inputs.backing {
        if let Some(p) = &b.problem {
            report.refusals.push(format!(
                "backing service {}: cannot read its outlier detection: {p}",
                plan::service_label(&b.service)
            ));
        }
    }
    report.refusals.extend(unreadable);
    // What breaking these deployments, as they are now, will do.
    let mut live: BTreeMap<String, Vec<Deployment>> = BTreeMap::new();
    for (d, dep) in targets {
        live.entry(d.cluster).or_default().push(dep);
    }
    let assessment = assess_breaks(&ctx.clients, &ctx.plan, &live).await;
    report.refusals.extend(assessment.refusals);
    report.warnings.extend(assessment.warnings);
    {
        let mut s = lock(shared);
        s.warnings = report.warnings.clone();
        s.autoscaled = assessment.autoscaled.into_iter().collect();
    }
    Ok(report)
}

/// The HorizontalPodAutoscalers of one namespace (autoscaling/v2).
async fn list_hpas(
    c: &ClusterClient,
    namespace: &str,
) -> Result<Vec<HorizontalPodAutoscaler>, ClusterError> {
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(c.client.clone(), namespace);
    api.list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|e| {
            c.error(
                &op::<HorizontalPodAutoscaler>("list", Some(namespace), None),
                e,
            )
        })
}

/// [`workload::assess`] of the plan's targets in `deployments` (by SMH cluster name), with
/// the HorizontalPodAutoscalers of their namespaces. HPAs that cannot be listed (no
/// permission, an API server without autoscaling/v2) become a warning saying so.
pub async fn assess_breaks(
    clients: &Clients,
    plan: &DrillPlan,
    deployments: &BTreeMap<String, Vec<Deployment>>,
) -> Assessment {
    let mut places: Vec<(String, String)> = plan
        .targets
        .iter()
        .map(|t| (t.deployment.cluster.clone(), t.deployment.namespace.clone()))
        .collect();
    places.sort();
    places.dedup();
    let lists = join_all(places.iter().map(|(cluster, ns)| async move {
        let r = match clients.get(cluster) {
            Ok(c) => list_hpas(c, ns).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        (cluster.clone(), ns.clone(), r)
    }))
    .await;
    let mut hpas: BTreeMap<String, Vec<HorizontalPodAutoscaler>> = BTreeMap::new();
    let mut unlisted = Vec::new();
    for (cluster, ns, r) in lists {
        match r {
            Ok(items) => hpas.entry(cluster).or_default().extend(items),
            Err(e) => unlisted.push(format!(
                "could not list the HorizontalPodAutoscalers of namespace {ns} in cluster {cluster} ({e}): one that scales a deployment to break would not be reported"
            )),
        }
    }
    let mut a = workload::assess(plan, deployments, &hpas);
    a.warnings.extend(unlisted);
    a
}

async fn ready_endpoints(ctx: &DrillContext) -> Result<Vec<u32>, String> {
    let counts = join_all(ctx.inputs.backing.iter().map(|b| async move {
        let s = &b.service;
        let c = ctx
            .clients
            .get(&s.cluster_name)
            .map_err(|e| e.to_string())?;
        let api: Api<Endpoints> = Api::namespaced(c.client.clone(), &s.namespace);
        let ep = api.get_opt(&s.name).await.map_err(|e| {
            c.error(
                &op::<Endpoints>("get", Some(&s.namespace), Some(&s.name)),
                e,
            )
            .to_string()
        })?;
        Ok::<u32, String>(ep.as_ref().map(live::ready_endpoints).unwrap_or(0))
    }))
    .await;
    counts.into_iter().collect()
}

pub(crate) async fn get_deployment(
    ctx: &DrillContext,
    d: &DeploymentRef,
) -> Result<Option<Deployment>, String> {
    let c = ctx.clients.get(&d.cluster).map_err(|e| e.to_string())?;
    let api: Api<Deployment> = Api::namespaced(c.client.clone(), &d.namespace);
    api.get_opt(&d.name).await.map_err(|e| {
        c.error(
            &op::<Deployment>("get", Some(&d.namespace), Some(&d.name)),
            e,
        )
        .to_string()
    })
}

async fn get_targets(ctx: &DrillContext) -> Result<Vec<(DeploymentRef, Deployment)>, String> {
    let deps = ctx.plan.deployments();
    let got = join_all(deps.iter().map(|d| get_deployment(ctx, d))).await;
    let mut out = Vec::new();
    for (d, r) in deps.into_iter().zip(got) {
        match r? {
            Some(dep) => out.push((d, dep)),
            None => return Err(format!("deployment {d} is gone")),
        }
    }
    Ok(out)
}
