//! `kubectl smh failover test NAME`: non-destructive. Preflight (status, drift, outlier
//! detection, endpoints, pending drill restores), then N probes through a port-forward to a
//! client workload, each classified, and who answered.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::anyhow;

use super::super::cluster::runtime;
use super::super::describe::{known_names, not_found, print_output};
use super::super::drill::parse_regex_arg;
use super::super::{CmdError, CmdResult, Exit, GlobalArgs, parse_duration_arg};
use crate::render;
use smh_cluster::failover_test::probe_n;
use smh_cluster::inspect::collect;
use smh_cluster::probe::{PickError, Prober, check_port_forward, pick_pod};
use smh_cluster::state::{LiveState, StateOptions};
use smh_cluster::{ApiOp, ClusterName, Contexts};
use smh_core::drill::WorkloadRef;
use smh_core::drill::classify::{Classifier, ClassifierSpec};
use smh_core::drill::plan::{BOOKINFO_CLIENT, BOOKINFO_CLIENT_PATH, BOOKINFO_CLIENT_PORT};
use smh_core::drill::preflight::{self, PreflightFacts};
use smh_core::drill::restore::{RestorePlan, pending_restores};
use smh_core::inspect::describe::{self, BackingView, FailoverServiceView};
use smh_core::inspect::failover_test::{ClientView, TestFacts, summarize};
use smh_core::inspect::snapshot::Snapshot;
use smh_core::model::types::ObjectRef;

pub(crate) const LONG_ABOUT: &str = "\
Test a FailoverService without changing anything: check what failover needs, then send \
probe requests through a port-forward to a client workload and report which backing service \
answered.

Preflight: the FailoverService is ACCEPTED and its status is for its current generation; \
every generated object is present and unmodified; every backing service has outlier \
detection for the client's cluster that ejects (consecutive5xxErrors or \
consecutiveGatewayErrors) with maxEjectionPercent 100; the primary and a secondary have \
ready endpoints; no drill left a restore plan on the primary's deployments.

Probes: N GET requests, one after the other, to the client workload (default: \
productpage-v1 in the primary's cluster and namespace, port 9080, /productpage), each \
classified as bookinfo renders it (no stars or black stars: primary; red stars: failed over; \
error page, non-2xx or no answer: error), or by --expect-primary / --expect-failover / \
--expect-error.

Exit codes: 0 preflight passed and every answer came from the primary; 1 a preflight check \
failed or an answer did not come from the primary (or no probe could be sent); 2 bad flags \
or no such FailoverService; 3 a cluster could not be read.

Examples:
  kubectl smh failover test reviews-failover
  kubectl smh failover test reviews-failover --requests 50 -o json
  kubectl smh failover test my-fs --client frontend/web --port 8080 --path /api \\
      --expect-primary 'served-by: primary' --expect-failover 'served-by: backup'";

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    /// The FailoverService to test (in -n/--namespace, else in any namespace).
    #[arg(value_name = "NAME")]
    pub name: String,

    /// How many probe requests to send.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub requests: u32,

    /// The client workload to port-forward to, as [CLUSTER:][NAMESPACE/]DEPLOYMENT: a
    /// workload that calls the failover service (default: productpage-v1 in the primary's
    /// cluster and namespace).
    #[arg(long, value_name = "[CLUSTER:][NS/]DEPLOY")]
    pub client: Option<WorkloadRef>,

    /// Port of the client workload.
    #[arg(long, value_name = "PORT", default_value_t = BOOKINFO_CLIENT_PORT)]
    pub port: u16,

    /// Path to GET.
    #[arg(long, value_name = "PATH", default_value = BOOKINFO_CLIENT_PATH)]
    pub path: String,

    /// Timeout of one probe.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration_arg)]
    pub probe_timeout: Duration,

    /// Regex on the response body that marks an answer from the primary (default:
    /// bookinfo's black stars, or reviews without stars).
    #[arg(long, value_name = "REGEX", value_parser = parse_regex_arg)]
    pub expect_primary: Option<String>,

    /// Regex on the response body that marks a failed-over answer (default: bookinfo's red
    /// stars).
    #[arg(long, value_name = "REGEX", value_parser = parse_regex_arg)]
    pub expect_failover: Option<String>,

    /// Regex on the response body that marks an error page (default: bookinfo's "Error
    /// fetching product reviews" and "Ratings service is currently unavailable").
    #[arg(long, value_name = "REGEX", value_parser = parse_regex_arg)]
    pub expect_error: Option<String>,
}

/// Finds the FailoverService: `NAME` in `namespace`, else the only one named so elsewhere.
fn find(snap: &Snapshot, name: &str, namespace: &str) -> Result<FailoverServiceView, CmdError> {
    let drift = snap.drift();
    let mut views = describe::failover_services(snap, &drift, Some(name), Some(namespace));
    if views.is_empty() {
        views = describe::failover_services(snap, &drift, Some(name), None);
    }
    match views.len() {
        1 => Ok(views.remove(0)),
        0 => Err(not_found(
            "FailoverService",
            name,
            &known_names(&snap.failover_services),
        )),
        _ => Err(CmdError::invalid(anyhow!(
            "several FailoverServices are named {name:?} ({}); pick one with -n NAMESPACE",
            views
                .iter()
                .map(|v| format!("{}/{}", v.namespace, v.name))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// What preflight looked at, in words.
fn checked(view: &FailoverServiceView, client_cluster: &str, restores: &str) -> Vec<String> {
    let s = &view.status;
    let mut out = vec![format!(
        "status: {}, observed generation {}{}",
        s.state,
        s.observed_generation,
        s.generation.map(|g| format!(" of {g}")).unwrap_or_default()
    )];
    let generated = view.all_generated();
    let in_sync = generated.iter().filter(|d| d.state.is_in_sync()).count();
    out.push(format!(
        "generated objects: {in_sync} of {} present and unmodified",
        generated.len()
    ));
    for b in &view.backing_services {
        let od = b
            .outlier_detection
            .iter()
            .find(|o| o.client_cluster == client_cluster)
            .or(b.outlier_detection.first());
        let od_text = match od {
            None => "no calling mesh".to_string(),
            Some(o) => match (&o.values, &o.error) {
                (_, Some(e)) => format!("unknown ({e})"),
                (None, None) => "none".to_string(),
                (Some(v), None) => format!(
                    "consecutive5xxErrors {}, interval {}, baseEjectionTime {}, maxEjectionPercent {}{} (callers in {}, {})",
                    v.consecutive_5xx_errors,
                    v.interval,
                    v.base_ejection_time,
                    v.max_ejection_percent,
                    if v.defaulted.is_empty() {
                        String::new()
                    } else {
                        format!("; Istio defaults for {}", v.defaulted.join(", "))
                    },
                    o.client_cluster,
                    o.source.as_deref().unwrap_or("-")
                ),
            },
        };
        let endpoints = match (&b.endpoints, &b.cluster_error, &b.endpoints_error) {
            (Some(e), _, _) => format!("{}/{} endpoints ready", e.ready, e.total),
            (None, Some(_), _) => "endpoints unknown (cluster not read)".to_string(),
            (None, None, Some(e)) => format!("endpoints unknown ({e})"),
            _ => "endpoints unknown".to_string(),
        };
        out.push(format!(
            "{} {} ({endpoints}): outlier detection {od_text}",
            if b.priority == 1 {
                "primary"
            } else {
                "secondary"
            },
            b.service(),
        ));
    }
    out.push(format!(
        "drill restore plans on the primary's deployments: {restores}"
    ));
    out
}

pub(crate) fn run(g: &GlobalArgs, args: Args) -> CmdResult {
    let contexts = Contexts::load(&g.context_options())?;
    let rt = runtime()?;
    rt.block_on(run_async(g, &contexts, args))
}

async fn run_async(g: &GlobalArgs, contexts: &Contexts, args: Args) -> CmdResult {
    let spec = ClassifierSpec {
        primary: args.expect_primary.clone(),
        failover: args.expect_failover.clone(),
        error: args.expect_error.clone(),
    };
    let classifier = Classifier::new(&spec).map_err(CmdError::invalid)?;
    let opts = StateOptions {
        discovery: g.discovery_options(),
        ..Default::default()
    };
    let collected = collect(contexts, &opts, &g.namespace).await?;
    let snap = &collected.snapshot;
    let view = find(snap, &args.name, &g.namespace)?;
    let fs = snap
        .failover_services
        .iter()
        .find(|f| {
            f.metadata.name.as_deref() == Some(view.name.as_str())
                && f.metadata.namespace.as_deref() == Some(view.namespace.as_str())
        })
        .ok_or_else(|| CmdError::failed(anyhow!("FailoverService vanished from the snapshot")))?;

    let Some(primary) = view.backing_services.first() else {
        return Err(CmdError::invalid(anyhow!(
            "FailoverService {}/{} has no backing services: there is nothing to test",
            view.namespace,
            view.name
        )));
    };
    let client_ref = args
        .client
        .clone()
        .unwrap_or(WorkloadRef {
            cluster: None,
            namespace: None,
            name: BOOKINFO_CLIENT.to_string(),
        })
        .resolve(&primary.cluster, &primary.namespace);

    // Every backing service's cluster, and the client's, must have answered: otherwise the
    // preflight would report an unreadable cluster as drift or as no ready endpoints.
    require_answers(&view, &client_ref.cluster, &collected.state)?;

    // Restore plans a drill may have left on the primary's deployments.
    let fs_ref = ObjectRef {
        name: view.name.clone(),
        namespace: view.namespace.clone(),
    };
    let (pending, restores_text) = primary_restores(&collected.state, primary, &fs_ref).await;

    let generated = view.preflight_generated();
    let backing = view.preflight_backing(&client_ref.cluster);
    let cluster_ids = smh_drill::cluster_id_problems_in(snap, fs, &client_ref.cluster);
    let preflight = preflight::check(&PreflightFacts {
        failover_service: fs,
        generated: &generated,
        backing: &backing,
        pending_restores: &pending,
        cluster_ids: &cluster_ids,
        baseline: None,
    });

    // The probes.
    let mut client_view = ClientView {
        cluster: client_ref.cluster.clone(),
        namespace: client_ref.namespace.clone(),
        deployment: client_ref.name.clone(),
        pod: None,
        port: args.port,
        path: args.path.clone(),
    };
    let target = contexts.cluster_target(&ClusterName::new(client_ref.cluster.as_str()))?;
    let client = contexts.streaming_client(&target).await?;
    let probes = match pick_pod(&client.client, &client_ref.namespace, &client_ref.name).await {
        Ok(pod) => {
            client_view.pod = Some(pod.clone());
            // One port-forward first: a refusal (401, 403) is an error naming the verbs the
            // probes need, not N failed probes.
            check_port_forward(&client, &client_ref.namespace, &pod, args.port).await?;
            let prober = Prober::new(
                client.client.clone(),
                &client_ref.namespace,
                &pod,
                args.port,
                args.probe_timeout,
            );
            Ok(probe_n(&prober, &args.path, args.requests as usize, &classifier).await)
        }
        Err(PickError::Api {
            op,
            source: kube::Error::Api(status),
        }) if status.code == 404 && op.name.is_some() => {
            return Err(CmdError::invalid(anyhow!(
                "the client deployment {client_ref} does not exist; pass --client [CLUSTER:][NAMESPACE/]DEPLOYMENT, a workload that calls the failover service"
            )));
        }
        Err(PickError::Api { op, source }) => {
            return Err(client.error(&op, source).into());
        }
        Err(e) => Err(e.to_string()),
    };

    let facts = TestFacts {
        failover_service: format!("{}/{}", view.namespace, view.name),
        hostname: view.hostname.clone(),
        backing: view
            .backing_services
            .iter()
            .map(|b| b.service().to_string())
            .collect(),
        client: client_view,
        classification: spec.describe(),
        checked: checked(&view, &client_ref.cluster, &restores_text),
    };
    let report = summarize(facts, &preflight, probes.as_deref().map_err(Clone::clone));
    print_output(g.output, &report, render::failover_test::report)?;
    Ok(if report.success {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// Fails (exit 3) unless the cluster of every backing service and `client_cluster` were read.
fn require_answers(
    view: &FailoverServiceView,
    client_cluster: &str,
    state: &LiveState,
) -> Result<(), CmdError> {
    let mut needed: Vec<&str> = view
        .backing_services
        .iter()
        .map(|b| b.cluster.as_str())
        .collect();
    needed.push(client_cluster);
    needed.sort_unstable();
    needed.dedup();
    let unread: Vec<String> = needed
        .iter()
        .filter_map(|c| state.errors.get(&ClusterName::new(*c)))
        .map(|e| e.to_string())
        .collect();
    if unread.is_empty() {
        return Ok(());
    }
    Err(CmdError::cluster(anyhow!(
        "{}; failover test needs the cluster of every backing service and of the client \
         to answer: nothing was probed",
        unread.join("; ")
    )))
}

/// The restore plans a drill may have left on the primary's deployments, and how the
/// report words them (`none`, the deployments, or why they were not checked).
async fn primary_restores(
    state: &LiveState,
    primary: &BackingView,
    fs_ref: &ObjectRef,
) -> (Vec<RestorePlan>, String) {
    let primary_cluster = ClusterName::new(primary.cluster.as_str());
    match state.client(&primary_cluster) {
        None => (
            Vec::new(),
            "not checked (the primary's cluster was not read)".to_string(),
        ),
        Some(c) => {
            let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
                kube::Api::namespaced(c.client.clone(), &primary.namespace);
            match api.list(&Default::default()).await {
                Ok(list) => {
                    let map: BTreeMap<String, Vec<_>> =
                        [(primary.cluster.clone(), list.items)].into();
                    let found = pending_restores(&map, fs_ref, None);
                    let text = if found.plans.is_empty() && found.unreadable.is_empty() {
                        "none".to_string()
                    } else {
                        let mut parts: Vec<String> = found
                            .plans
                            .iter()
                            .map(|p| p.deployment.to_string())
                            .collect();
                        parts.extend(
                            found
                                .unreadable
                                .iter()
                                .map(|(d, why)| format!("{d} (unreadable: {why})")),
                        );
                        parts.join(", ")
                    };
                    (found.plans, text)
                }
                Err(e) => (
                    Vec::new(),
                    format!(
                        "not checked ({})",
                        c.error(
                            &ApiOp::typed::<k8s_openapi::api::apps::v1::Deployment>(
                                "list",
                                Some(&primary.namespace),
                                None
                            ),
                            e
                        )
                    ),
                ),
            }
        }
    }
}
