//! smh-drill: the drill executor, the one part of the drill (`smh_core::drill`) that talks to
//! clusters. A thin async loop around [`Machine`]: it reads what the plan is made from, performs each
//! [`Action`] (probing through a port-forward, preflight facts, the save / break / restore
//! patches, waiting for rollouts) and feeds the results back as [`Event`]s stamped with the
//! time since the drill started.
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
//!   ([`restore::restore_patch_for`]); the answer to the patch is checked field by field
//!   ([`restore::verify_restored`]), and once more after the rollout;
//! - while the command patch rolls out, the new pods are watched
//!   ([`workload::pod_break_state`]): a container that cannot start, an image that cannot be
//!   pulled, a crash loop, or a pod not Ready (or not scheduled) for longer than the
//!   target's ready timeout ends the wait with `BreakFailed`, as does a rollout that
//!   exceeds its progress deadline, so the drill restores within seconds instead of waiting
//!   for `--failover-timeout`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::{BoxFuture, join_all};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use kube::api::{DynamicObject, ListParams, Patch, PatchParams};
use kube::core::ApiResource;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use smh_cluster::discovery::{self, list_in_scope};
use smh_cluster::error::ApiOp;
use smh_cluster::probe::{PickError, Prober, check_port_forward, pick_pod};
use smh_cluster::{ClusterClient, ClusterError, ClusterTarget, state};
use smh_core::drill::live::{self, EnvoyCluster, RolloutCounts, RolloutState};
use smh_core::drill::machine::{Action, DrillOutcome, Event, Machine, Note, Phase, Transition};
use smh_core::drill::measure::Markers;
use smh_core::drill::outlier::OutlierSettings;
use smh_core::drill::plan::{self, DrillOptions, DrillPlan, PlanError, PlanInput, ProbeSpec};
use smh_core::drill::preflight::{
    self, BackingHealth, ClusterIdProblem, DeployedObject, GeneratedState, PreflightFacts,
    PreflightReport,
};
use smh_core::drill::report::{DrillReport, RestoreCheck};
use smh_core::drill::restore::{
    self, BREAK_COMMAND, BreakMode, PendingRestores, RestoreContext, RestoreError, RestorePlan,
};
use smh_core::drill::workload::{self, Assessment, PodBreakState};
use smh_core::drill::{DeploymentRef, ProbeSample, Signal};
use smh_core::inspect::discovery::DiscoveryOptions;
use smh_core::inspect::drift::{self, DriftState};
use smh_core::model::types::{ClusterObjectRef, FailoverService, ObjectRef};

/// How many times the save patch is tried when the deployment changes under it (409).
const SAVE_ATTEMPTS: usize = 3;

/// Clients for every cluster the drill reads or changes.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The management cluster (where the FailoverService lives).
    pub mgmt: ClusterClient,
    /// By SMH cluster name.
    pub clusters: BTreeMap<String, ClusterClient>,
    /// By SMH cluster name, without a read timeout: watches and port-forwards.
    pub streaming: BTreeMap<String, ClusterClient>,
}

impl Clients {
    pub fn get(&self, cluster: &str) -> Result<&ClusterClient, ExecError> {
        self.clusters
            .get(cluster)
            .ok_or_else(|| ExecError::NoClient(cluster.to_string()))
    }

    fn streaming(&self, cluster: &str) -> Result<&ClusterClient, ExecError> {
        self.streaming
            .get(cluster)
            .or_else(|| self.clusters.get(cluster))
            .ok_or_else(|| ExecError::NoClient(cluster.to_string()))
    }

    /// The targets of these clusters, in the order given (for banners and prompts).
    pub fn targets(&self, clusters: &[String]) -> Vec<ClusterTarget> {
        clusters
            .iter()
            .filter_map(|c| self.clusters.get(c).map(|cc| cc.target.clone()))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(
        "FailoverService {namespace}/{name} not found in {target}: `kubectl smh failover list` lists the FailoverServices there (-n sets the namespace)"
    )]
    NotFound {
        namespace: String,
        name: String,
        target: Box<ClusterTarget>,
    },
    #[error(
        "the primary backing service {service} does not exist: the FailoverService's first backing service must be a Service in that cluster"
    )]
    NoPrimaryService { service: String },
    #[error(transparent)]
    Cluster(Box<ClusterError>),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Restore(#[from] RestoreError),
    #[error(
        "cluster {0} has no kubeconfig context: map it with --cluster {0}=CONTEXT or `kubectl smh cluster register {0} --context CONTEXT`"
    )]
    NoClient(String),
}

impl From<ClusterError> for ExecError {
    fn from(e: ClusterError) -> Self {
        ExecError::Cluster(Box::new(e))
    }
}

fn op<K: kube::Resource<DynamicType = ()>>(
    verb: &'static str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> ApiOp {
    ApiOp::typed::<K>(verb, namespace, name)
}

fn istio_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: "networking.istio.io".into(),
        version: "v1alpha3".into(),
        api_version: "networking.istio.io/v1alpha3".into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// Read the FailoverService from the management cluster.
pub async fn get_failover_service(
    mgmt: &ClusterClient,
    namespace: &str,
    name: &str,
) -> Result<FailoverService, ExecError> {
    let api: Api<FailoverService> = Api::namespaced(mgmt.client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(Some(fs)) => Ok(fs),
        Ok(None) => Err(ExecError::NotFound {
            namespace: namespace.into(),
            name: name.into(),
            target: Box::new(mgmt.target.clone()),
        }),
        Err(e) => Err(mgmt
            .error(
                &op::<FailoverService>("get", Some(namespace), Some(name)),
                e,
            )
            .into()),
    }
}

/// The clusters a drill of `fs` with `opts` touches: backing services, deployments to break
/// and the probe workload. Sorted, without duplicates.
pub fn drill_clusters(fs: &FailoverService, opts: &DrillOptions) -> Result<Vec<String>, PlanError> {
    let lookups = plan::lookups(fs, opts)?;
    let mut out: Vec<String> = lookups.namespaces.into_iter().map(|(c, _)| c).collect();
    out.extend(
        fs.spec
            .backing_services
            .iter()
            .filter_map(|b| b.kube_service.as_ref())
            .map(|s| s.cluster_name.clone()),
    );
    out.sort();
    out.dedup();
    Ok(out)
}

/// The outlier detection one backing service gets in the probe client's cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackingOutlier {
    pub service: ClusterObjectRef,
    /// The Envoy cluster the failover aggregate sends its traffic to.
    pub envoy_cluster: Option<String>,
    pub outlier: Option<OutlierSettings>,
    /// Why the settings could not be read (a malformed DestinationRule).
    pub problem: Option<String>,
}

/// What the plan is made from, as read from the clusters.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub failover_service: FailoverService,
    pub primary_service: Service,
    /// By SMH cluster name, for every namespace [`plan::lookups`] names.
    pub deployments: BTreeMap<String, Vec<Deployment>>,
    /// The cluster and namespace of the probe workload: whose sidecar routes the probes.
    pub client_cluster: String,
    pub client_namespace: String,
    /// The root namespace (`meshConfig.rootNamespace`) of the mesh in the client's cluster,
    /// as discovery found it; `None` when that cluster has no mesh.
    pub root_namespace: Option<String>,
    /// Per backing service, in priority order.
    pub backing: Vec<BackingOutlier>,
}

impl Inputs {
    pub fn primary_outlier(&self) -> Option<&OutlierSettings> {
        self.backing.first().and_then(|b| b.outlier.as_ref())
    }

    /// Make the plan.
    pub fn plan(&self, opts: &DrillOptions) -> Result<DrillPlan, PlanError> {
        plan::build_plan(
            &PlanInput {
                failover_service: &self.failover_service,
                primary_service: &self.primary_service,
                deployments: &self.deployments,
                primary_outlier: self.primary_outlier(),
            },
            opts,
        )
    }
}

async fn list_deployments(
    c: &ClusterClient,
    namespace: Option<&str>,
) -> Result<Vec<Deployment>, ClusterError> {
    let api: Api<Deployment> = match namespace {
        Some(ns) => Api::namespaced(c.client.clone(), ns),
        None => Api::all(c.client.clone()),
    };
    api.list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|e| c.error(&op::<Deployment>("list", namespace, None), e))
}

/// Lists an Istio kind in all namespaces, or (when that is forbidden) in `namespaces`.
async fn list_istio(
    c: &ClusterClient,
    kind: &str,
    plural: &str,
    namespaces: &BTreeSet<String>,
) -> Result<Vec<Value>, ClusterError> {
    let ar = istio_resource(kind, plural);
    let list = list_in_scope(
        c,
        namespaces,
        &ListParams::default(),
        |ns| match ns {
            Some(ns) => Api::<DynamicObject>::namespaced_with(c.client.clone(), ns, &ar),
            None => Api::all_with(c.client.clone(), &ar),
        },
        |ns| ApiOp::dynamic("list", &ar, ns, None),
    )
    .await?;
    Ok(list
        .items
        .iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect())
}

/// The root namespace of the mesh in a cluster (`meshConfig.rootNamespace` of its istiod,
/// else istiod's namespace), as discovery reads it; `None` without a mesh. A user who may not
/// list in all namespaces is read in `scope` (and `istio-system`, where Istio usually is), as
/// `describe` and `check` do.
pub async fn mesh_root_namespace(
    c: &ClusterClient,
    scope: &BTreeSet<String>,
    discovery_options: &DiscoveryOptions,
) -> Result<Option<String>, ExecError> {
    let mut scope = scope.clone();
    scope.insert("istio-system".to_string());
    let objects = discovery::fetch_cluster_in(c, &scope).await?;
    let (cluster, _) =
        smh_core::inspect::discovery::build_cluster(&c.target, &objects, discovery_options);
    Ok(cluster.mesh.map(|m| m.root_namespace))
}

/// Read the FailoverService, the deployments, the primary Service and the outlier settings
/// the probe client sees (its DestinationRules ranked with its mesh's root namespace, which
/// discovery finds with `discovery_options`).
pub async fn read_inputs(
    clients: &Clients,
    namespace: &str,
    name: &str,
    opts: &DrillOptions,
    discovery_options: &DiscoveryOptions,
) -> Result<Inputs, ExecError> {
    let fs = get_failover_service(&clients.mgmt, namespace, name).await?;
    let lookups = plan::lookups(&fs, opts)?;
    let primary = lookups.primary.clone();

    let lists = join_all(lookups.namespaces.iter().map(|(cluster, ns)| async move {
        let c = clients.get(cluster)?;
        let items = list_deployments(c, Some(ns)).await?;
        Ok::<_, ExecError>((cluster.clone(), items))
    }))
    .await;
    let mut deployments: BTreeMap<String, Vec<Deployment>> = BTreeMap::new();
    for r in lists {
        let (cluster, items) = r?;
        deployments.entry(cluster).or_default().extend(items);
    }

    let pc = clients.get(&primary.cluster_name)?;
    let services: Api<Service> = Api::namespaced(pc.client.clone(), &primary.namespace);
    let primary_service = services
        .get_opt(&primary.name)
        .await
        .map_err(|e| {
            pc.error(
                &op::<Service>("get", Some(&primary.namespace), Some(&primary.name)),
                e,
            )
        })?
        .ok_or_else(|| ExecError::NoPrimaryService {
            service: plan::service_label(&primary),
        })?;

    let client = opts
        .probe_workload
        .as_ref()
        .map(|w| w.resolve(&primary.cluster_name, &primary.namespace))
        .unwrap_or_else(|| DeploymentRef {
            cluster: primary.cluster_name.clone(),
            namespace: primary.namespace.clone(),
            name: plan::BOOKINFO_CLIENT.into(),
        });
    let scope: BTreeSet<String> = std::iter::once(client.namespace.clone())
        .chain(
            fs.spec
                .backing_services
                .iter()
                .filter_map(|b| b.kube_service.as_ref())
                .filter(|s| s.cluster_name == client.cluster)
                .map(|s| s.namespace.clone()),
        )
        .collect();
    let root_namespace =
        mesh_root_namespace(clients.get(&client.cluster)?, &scope, discovery_options).await?;
    let backing = backing_outliers(
        clients,
        &fs,
        &client.cluster,
        &client.namespace,
        root_namespace.as_deref(),
    )
    .await?;
    Ok(Inputs {
        failover_service: fs,
        primary_service,
        deployments,
        client_cluster: client.cluster,
        client_namespace: client.namespace,
        root_namespace,
        backing,
    })
}

/// The outlier detection of each backing service as the client's sidecar gets it: the
/// failover aggregate's sub-clusters (from the EnvoyFilter in the client's cluster, in
/// priority order, one per backing service) and the DestinationRule each resolves to
/// ([`live::destination_rule_for`], with the mesh's `root_namespace`).
/// Without the EnvoyFilter, the hosts kubectl-smh generates are tried: the local
/// `NAME.NS.svc.cluster.local` for a service in the client's cluster, else
/// `NAME.NS.svc.CLUSTER.global`, then the local name (multi-primary).
pub async fn backing_outliers(
    clients: &Clients,
    fs: &FailoverService,
    client_cluster: &str,
    client_namespace: &str,
    root_namespace: Option<&str>,
) -> Result<Vec<BackingOutlier>, ExecError> {
    let c = clients.get(client_cluster)?;
    // A user who may not list in all namespaces: where the client's sidecar looks for
    // DestinationRules (its own namespace, the services', the root namespace) and where
    // kubectl-smh writes the failover objects (the FailoverService's namespace).
    let mut namespaces: BTreeSet<String> = [Some(client_namespace), root_namespace]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect();
    namespaces.extend(fs.namespace());
    namespaces.extend(
        fs.spec
            .backing_services
            .iter()
            .filter_map(|b| b.kube_service.as_ref())
            .map(|s| s.namespace.clone()),
    );
    let (efs, drs) = futures::join!(
        list_istio(c, "EnvoyFilter", "envoyfilters", &namespaces),
        list_istio(c, "DestinationRule", "destinationrules", &namespaces)
    );
    let (efs, drs) = (efs?, drs?);
    let port = fs.spec.port.as_ref().map(|p| p.number).unwrap_or(0);
    let aggregate = format!("outbound|{port}||{}", fs.spec.hostname.to_ascii_lowercase());
    let subclusters = live::find_aggregate(&efs, &aggregate).map(|(_, c)| c);
    let services: Vec<ClusterObjectRef> = fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.clone())
        .collect();
    let mut out = Vec::new();
    for (i, s) in services.iter().enumerate() {
        let candidates: Vec<EnvoyCluster> = match subclusters.as_ref().and_then(|l| l.get(i)) {
            Some(name) => EnvoyCluster::parse(name).into_iter().collect(),
            None => {
                let local = format!("{}.{}.svc.cluster.local", s.name, s.namespace);
                let global = format!("{}.{}.svc.{}.global", s.name, s.namespace, s.cluster_name);
                let hosts = if s.cluster_name == client_cluster {
                    vec![local]
                } else {
                    vec![global, local]
                };
                hosts
                    .into_iter()
                    .map(|host| EnvoyCluster {
                        port,
                        subset: None,
                        host,
                    })
                    .collect()
            }
        };
        let mut entry = BackingOutlier {
            service: s.clone(),
            envoy_cluster: None,
            outlier: None,
            problem: None,
        };
        for ec in &candidates {
            let Some(rule) =
                live::destination_rule_for(&drs, &ec.host, client_namespace, root_namespace)
            else {
                continue;
            };
            let source = format!(
                "{client_cluster}: DestinationRule {}/{}",
                rule.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                rule.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            );
            entry.envoy_cluster = Some(format!(
                "outbound|{}|{}|{}",
                ec.port,
                ec.subset.as_deref().unwrap_or(""),
                ec.host
            ));
            match live::outlier_of_rule(&source, rule, ec) {
                Ok(od) => entry.outlier = od,
                Err(e) => entry.problem = Some(e),
            }
            break;
        }
        if entry.envoy_cluster.is_none()
            && let Some(ec) = candidates.first()
        {
            entry.envoy_cluster = Some(format!(
                "outbound|{}|{}|{}",
                ec.port,
                ec.subset.as_deref().unwrap_or(""),
                ec.host
            ));
        }
        out.push(entry);
    }
    Ok(out)
}

/// The preflight's view of the live state, supplied by the caller (the CLI loads it: what
/// translation produces against what the clusters hold, and what discovery found).
pub type GeneratedCheck =
    Arc<dyn Fn() -> BoxFuture<'static, Result<LiveFacts, String>> + Send + Sync>;

/// What a [`GeneratedCheck`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveFacts {
    /// The generated objects the drill depends on ([`generated_states`]).
    pub generated: Vec<DeployedObject>,
    /// Istio cluster-ID problems that concern the FailoverService ([`cluster_id_problems`]).
    pub cluster_ids: Vec<ClusterIdProblem>,
}

/// The Istio cluster-ID problems (multi-primary meshes) that concern a drill of `fs` probed
/// from `probe_cluster`, as `check` and `describe` report them: those of the remote
/// secrets of the clusters that call the FailoverService (its meshes' and the probe's) for
/// a backing service's cluster, and those of a backing service's cluster ID itself.
pub fn cluster_id_problems(
    live: &state::LiveState,
    fs: &FailoverService,
    probe_cluster: &str,
) -> Vec<ClusterIdProblem> {
    let snap = smh_cluster::inspect::snapshot_from_state(
        live,
        smh_cluster::inspect::Extras::default(),
        &fs.namespace().unwrap_or_default(),
    );
    cluster_id_problems_in(&snap, fs, probe_cluster)
}

/// [`cluster_id_problems`] on a snapshot. Pure.
pub fn cluster_id_problems_in(
    snap: &smh_core::inspect::snapshot::Snapshot,
    fs: &FailoverService,
    probe_cluster: &str,
) -> Vec<ClusterIdProblem> {
    let findings = smh_core::inspect::cluster_id::findings(snap);
    if findings.is_empty() {
        return Vec::new();
    }
    let mut clients: Vec<&str> = fs
        .spec
        .meshes
        .iter()
        .flatten()
        .filter_map(|m| snap.mesh_cluster(&m.name))
        .collect();
    clients.push(probe_cluster);
    clients.sort_unstable();
    clients.dedup();
    let services: Vec<smh_core::inspect::snapshot::ServiceRef> = fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
        .map(smh_core::inspect::snapshot::ServiceRef::of)
        .collect();
    smh_core::inspect::describe::cluster_id_problems(snap, &findings, &clients, &services)
        .into_iter()
        .map(|p| ClusterIdProblem {
            error: p.severity == smh_core::model::diag::Severity::Error,
            message: p.message,
        })
        .collect()
}

/// The generated objects a drill of `fs` depends on, each compared with its live
/// counterpart ([`compare`](smh_core::inspect::state::compare)): those the FailoverService produced, and those of the
/// TrafficPolicies that route to it (a VirtualService naming its hostname) or set its
/// backing services' outlier detection (a DestinationRule for one of their hosts). An
/// unrelated object that drifted does not stop this drill. Cluster errors of the state
/// (a cluster that did not answer) are errors.
pub fn generated_states(
    live: &state::LiveState,
    fs: &FailoverService,
) -> Result<Vec<DeployedObject>, String> {
    if let Some((cluster, e)) = live.errors.iter().next() {
        return Err(format!("reading cluster {cluster}: {e}"));
    }
    let fs_id = smh_core::model::ObjectId {
        kind: "FailoverService".into(),
        namespace: fs.namespace().unwrap_or_default(),
        name: fs.name_any(),
    };
    let hostname = fs.spec.hostname.to_ascii_lowercase();
    let mut hosts: Vec<String> = vec![hostname.clone()];
    for s in fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
    {
        hosts.push(format!("{}.{}.svc.cluster.local", s.name, s.namespace));
        hosts.push(format!(
            "{}.{}.svc.{}.global",
            s.name, s.namespace, s.cluster_name
        ));
    }
    let about_fs = |g: &smh_core::translate::GeneratedObject| {
        let v = g.to_value();
        match g.kind() {
            "DestinationRule" => v
                .pointer("/spec/host")
                .and_then(Value::as_str)
                .is_some_and(|h| hosts.iter().any(|x| x == &h.to_ascii_lowercase())),
            "VirtualService" => v.to_string().contains(&format!("\"{hostname}\"")),
            _ => false,
        }
    };
    let related: std::collections::BTreeSet<&smh_core::model::ObjectId> = live
        .expected
        .objects
        .iter()
        .filter(|g| about_fs(g))
        .flat_map(|g| g.owners.iter())
        .chain(std::iter::once(&fs_id))
        .collect();
    // Validation's diagnostics, then translation's (as `describe` and `check` see them).
    let diagnostics: Vec<smh_core::model::Diagnostic> = live
        .diagnostics
        .iter()
        .chain(&live.expected.diagnostics)
        .cloned()
        .collect();
    let mut out: Vec<DeployedObject> = live
        .expected
        .objects
        .iter()
        .filter(|g| g.owners.iter().any(|o| related.contains(o)))
        .map(|g| DeployedObject {
            cluster: g.cluster.clone(),
            object: format!("{} {}/{}", g.kind(), g.namespace(), g.name()),
            state: generated_state(g, live.live_for(g), &diagnostics),
        })
        .collect();
    out.sort_by(|a, b| (&a.cluster, &a.object).cmp(&(&b.cluster, &b.object)));
    Ok(out)
}

/// One generated object judged against its live counterpart by [`drift::compare`]: changed
/// by someone else (drifted) or, when it is as kubectl-smh applied it, out of date, with
/// the configuration's errors (from `diagnostics`) when it no longer validates.
pub fn generated_state(
    g: &smh_core::translate::GeneratedObject,
    live: Option<&kube::api::DynamicObject>,
    diagnostics: &[smh_core::model::Diagnostic],
) -> GeneratedState {
    let Some(live) = live.and_then(|l| serde_json::to_value(l).ok()) else {
        return GeneratedState::Missing;
    };
    match drift::compare(&g.to_value(), &live) {
        DriftState::InSync => GeneratedState::InSync,
        DriftState::Missing => GeneratedState::Missing,
        DriftState::Modified { fields, by } if by.is_empty() => {
            GeneratedState::Drifted(format!("differs in {}", fields.join(", ")))
        }
        DriftState::Modified { fields, by } => GeneratedState::Drifted(format!(
            "changed by {}: {}",
            by.join(", "),
            fields.join(", ")
        )),
        DriftState::OutOfDate { fields, .. } => {
            let errors: Vec<smh_core::model::Diagnostic> = diagnostics
                .iter()
                .filter(|d| d.severity == smh_core::model::diag::Severity::Error)
                .cloned()
                .collect();
            GeneratedState::OutOfDate {
                fields,
                invalid: drift::error_lines(&errors, &g.owners),
            }
        }
        other => GeneratedState::Drifted(other.to_string()),
    }
}

/// Everything a drill run needs.
#[derive(Clone)]
pub struct DrillContext {
    pub clients: Arc<Clients>,
    pub inputs: Arc<Inputs>,
    pub plan: DrillPlan,
    pub restore: RestoreContext,
    /// `--yes`: confirmed without asking.
    pub yes: bool,
    pub generated: GeneratedCheck,
}

/// What the confirmation must name.
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub plan: DrillPlan,
    /// The clusters whose deployments are patched.
    pub targets: Vec<ClusterTarget>,
    /// Preflight's warnings about the deployments to break (probes, images, tools that
    /// may undo the break), to repeat above the question.
    pub warnings: Vec<String>,
}

/// Which patch a [`Progress::Patched`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Saved,
    Broken,
    Restored,
}

/// What the executor reports while it runs.
#[derive(Debug)]
pub enum Progress<'a> {
    Phase(&'a Transition),
    Note(&'a Note),
    Preflight(&'a PreflightReport),
    /// Probes go to this pod.
    ProbeTarget {
        pod: &'a str,
        spec: &'a ProbeSpec,
    },
    Probe {
        sample: &'a ProbeSample,
        phase: Phase,
        /// The drill's markers when the answer arrived (before it is recorded).
        markers: &'a Markers,
    },
    Patched {
        kind: PatchKind,
        deployment: &'a DeploymentRef,
    },
    Rollout {
        deployment: &'a DeploymentRef,
        state: &'a RolloutState,
        counts: RolloutCounts,
    },
    /// A termination signal arrived; `restoring`: the drill restores before it stops.
    Signal {
        signal: Signal,
        restoring: bool,
    },
}

/// The answer to a [`Confirmation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmAnswer {
    Yes,
    No,
    /// Ctrl-C at the prompt.
    Interrupted,
    /// The question could not be asked.
    Failed(String),
}

/// The CLI's side: draws progress, asks for confirmation.
pub trait Observer: Send {
    fn progress(&mut self, at: Duration, p: Progress<'_>);
    /// Ask whether to go ahead; answer on the returned channel.
    fn confirm(&mut self, c: &Confirmation) -> oneshot::Receiver<ConfirmAnswer>;
}

/// How the drill ended.
#[derive(Debug, Clone)]
pub struct DrillResult {
    pub report: DrillReport,
    pub outcome: DrillOutcome,
    /// For every deployment the drill saved a plan on (empty when nothing was changed).
    pub restore_checks: Vec<RestoreCheck>,
    /// The moment the drill's times count from (`at` 0 of every sample and marker).
    pub started: Instant,
}

impl DrillResult {
    /// The exit code: the outcome's, or 3 when the containers are not back as saved.
    pub fn exit_code(&self) -> u8 {
        if matches!(
            self.outcome,
            DrillOutcome::Passed | DrillOutcome::Failed { .. }
        ) && self
            .restore_checks
            .iter()
            .any(|c| !c.differences.is_empty())
        {
            return 3;
        }
        self.outcome.exit_code()
    }
}

enum Msg {
    /// From the task running the current action.
    Event(u64, Event),
    Preflight(u64, PreflightReport),
    Patched(PatchKind, DeploymentRef),
    Rollout(u64, DeploymentRef, RolloutState, RolloutCounts),
    ProbeTarget(String),
    Probe(ProbeSample),
    /// The probing failed for good (no pod to port-forward to).
    ProbeError(String),
}

struct Current {
    id: u64,
    handle: JoinHandle<()>,
    /// Save, break or restore: awaited, never aborted.
    mutating: bool,
}

/// What the save step recorded per deployment: the plan and the resourceVersion after the
/// save (the break patch's precondition).
#[derive(Debug, Clone)]
struct Saved {
    plan: RestorePlan,
    resource_version: Option<String>,
}

#[derive(Default)]
struct Shared {
    saved: BTreeMap<DeploymentRef, Saved>,
    /// The generation our last patch produced, per deployment.
    generations: BTreeMap<DeploymentRef, i64>,
    /// The last preflight's warnings (for the confirmation).
    warnings: Vec<String>,
    /// Deployments to break that an HPA scales (see [`restore::verify_restored_later`]).
    autoscaled: std::collections::BTreeSet<DeploymentRef>,
}

type SharedState = Arc<Mutex<Shared>>;

fn lock(s: &SharedState) -> std::sync::MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The observer behind a guard: a panic in it (a write that failed, a drawing bug) must
/// not unwind through the drill and skip the restore. After its first panic the observer
/// is not called again, and a confirmation it can no longer ask fails (nothing is changed
/// before one).
struct Guarded<'a> {
    inner: &'a mut dyn Observer,
    panicked: bool,
}

impl Observer for Guarded<'_> {
    fn progress(&mut self, at: Duration, p: Progress<'_>) {
        if self.panicked {
            return;
        }
        let inner = &mut *self.inner;
        let call = std::panic::AssertUnwindSafe(|| inner.progress(at, p));
        self.panicked = std::panic::catch_unwind(call).is_err();
    }

    fn confirm(&mut self, c: &Confirmation) -> oneshot::Receiver<ConfirmAnswer> {
        if !self.panicked {
            let inner = &mut *self.inner;
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.confirm(c))) {
                Ok(rx) => return rx,
                Err(_) => self.panicked = true,
            }
        }
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(ConfirmAnswer::Failed(
            "the confirmation could not be asked (the progress display failed)".to_string(),
        ));
        rx
    }
}

/// Run the drill to the end. Never returns early: every path after the first patch goes
/// through the restore, even when `observer` panics.
pub async fn run_drill(
    ctx: DrillContext,
    observer: &mut dyn Observer,
    mut signals: mpsc::UnboundedReceiver<Signal>,
) -> DrillResult {
    let mut guarded = Guarded {
        inner: observer,
        panicked: false,
    };
    let observer: &mut dyn Observer = &mut guarded;
    let start = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let shared: SharedState = Arc::new(Mutex::new(Shared::default()));
    let mut machine = Machine::new(&ctx.plan);
    let mut actions: VecDeque<Action> = machine.start().into();
    let mut immediate: VecDeque<Event> = VecDeque::new();
    let mut current: Option<Current> = None;
    let mut probing: Option<JoinHandle<()>> = None;
    let mut next_id: u64 = 0;
    let mut seen = (0usize, 0usize);
    let mut signals_open = true;
    let outcome;

    loop {
        // Perform what the machine asked for.
        let mut finished = None;
        while let Some(action) = actions.pop_front() {
            match action {
                Action::StartProbing => {
                    probing = Some(tokio::spawn(probe_loop(
                        ctx.clients.clone(),
                        ctx.plan.clone(),
                        start,
                        tx.clone(),
                    )));
                }
                Action::StopProbing => {
                    if let Some(p) = probing.take() {
                        p.abort();
                    }
                }
                Action::Finish(o) => finished = Some(o),
                Action::Confirm if ctx.yes => immediate.push_back(Event::Confirmed),
                Action::ApplyRestore => {
                    settle(&mut current).await;
                    next_id += 1;
                    current = Some(spawn_action(
                        next_id,
                        Action::ApplyRestore,
                        &ctx,
                        &shared,
                        &tx,
                        observer,
                        machine.phase(),
                    ));
                }
                other => {
                    settle(&mut current).await;
                    next_id += 1;
                    current = Some(spawn_action(
                        next_id,
                        other,
                        &ctx,
                        &shared,
                        &tx,
                        observer,
                        machine.phase(),
                    ));
                }
            }
        }
        if let Some(o) = finished {
            outcome = o;
            break;
        }

        // Wait for what happens next.
        let event = if let Some(e) = immediate.pop_front() {
            e
        } else {
            let deadline = machine
                .next_deadline()
                .map(|d| tokio::time::Instant::from_std(start + d));
            let current_id = current.as_ref().map(|c| c.id);
            tokio::select! {
                sig = signals.recv(), if signals_open => match sig {
                    Some(s) => {
                        let restoring = machine.changed();
                        observer.progress(start.elapsed(), Progress::Signal { signal: s, restoring });
                        Event::Interrupted(s)
                    }
                    None => {
                        signals_open = false;
                        continue;
                    }
                },
                msg = rx.recv() => match msg {
                    None => continue,
                    Some(msg) => match on_message(msg, current_id, &machine, observer, start) {
                        Some(e) => e,
                        None => continue,
                    },
                },
                _ = sleep_until_opt(deadline), if deadline.is_some() => Event::Tick,
            }
        };
        let new_actions = machine.handle(start.elapsed(), event);
        report_log(&machine, &mut seen, observer);
        actions.extend(new_actions);
    }
    report_log(&machine, &mut seen, observer);
    if let Some(p) = probing.take() {
        p.abort();
    }
    settle(&mut current).await;

    let restore_checks =
        if machine.changed() && !matches!(outcome, DrillOutcome::RestoreFailed { .. }) {
            check_restored(&ctx, &shared).await
        } else {
            Vec::new()
        };
    // Scaled to 0, the primary has no endpoints: outlier detection does not decide the
    // failover, so its model would predict nothing true.
    let outlier = match ctx.plan.break_mode {
        BreakMode::Command => ctx.inputs.primary_outlier(),
        BreakMode::Scale => None,
    };
    let mut report = DrillReport::build(
        &machine,
        &ctx.restore.drill_id,
        &ctx.restore.started_at,
        outlier,
    );
    report.restore_check = restore_checks.clone();
    let mut result = DrillResult {
        report,
        outcome,
        restore_checks,
        started: start,
    };
    let code = result.exit_code();
    if Some(code) != result.report.exit_code {
        let bad: Vec<String> = result
            .restore_checks
            .iter()
            .filter(|c| !c.differences.is_empty())
            .map(|c| format!("{}: {}", c.deployment, c.differences.join("; ")))
            .collect();
        result.report.summary = format!(
            "{}; NOT RESTORED AS SAVED: {}",
            result.report.summary,
            bad.join("; ")
        );
        result.report.exit_code = Some(code);
    }
    result
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => futures::future::pending().await,
    }
}

/// Let the current task end: a mutating one is awaited (its request may have reached the
/// API server), any other is aborted.
async fn settle(current: &mut Option<Current>) {
    if let Some(c) = current.take() {
        if c.mutating {
            let _ = c.handle.await;
        } else {
            c.handle.abort();
        }
    }
}

fn report_log(machine: &Machine, seen: &mut (usize, usize), observer: &mut dyn Observer) {
    let mut items: Vec<(usize, Result<&Transition, &Note>)> = Vec::new();
    for t in &machine.transitions()[seen.0..] {
        items.push((t.seq, Ok(t)));
    }
    for n in &machine.notes()[seen.1..] {
        items.push((n.seq, Err(n)));
    }
    items.sort_by_key(|(seq, _)| *seq);
    for (_, item) in items {
        match item {
            Ok(t) => observer.progress(t.at, Progress::Phase(t)),
            Err(n) => observer.progress(n.at, Progress::Note(n)),
        }
    }
    *seen = (machine.transitions().len(), machine.notes().len());
}

fn on_message(
    msg: Msg,
    current: Option<u64>,
    machine: &Machine,
    observer: &mut dyn Observer,
    start: Instant,
) -> Option<Event> {
    let now = start.elapsed();
    let live = |id: u64| current == Some(id);
    match msg {
        Msg::Event(id, e) => live(id).then_some(e),
        Msg::Preflight(id, report) => {
            if live(id) {
                observer.progress(now, Progress::Preflight(&report));
            }
            None
        }
        Msg::Patched(kind, d) => {
            observer.progress(
                now,
                Progress::Patched {
                    kind,
                    deployment: &d,
                },
            );
            None
        }
        Msg::Rollout(id, d, state, counts) => {
            if live(id) {
                observer.progress(
                    now,
                    Progress::Rollout {
                        deployment: &d,
                        state: &state,
                        counts,
                    },
                );
            }
            None
        }
        Msg::ProbeTarget(pod) => {
            observer.progress(
                now,
                Progress::ProbeTarget {
                    pod: &pod,
                    spec: &machine.plan().probe,
                },
            );
            None
        }
        Msg::Probe(sample) => {
            observer.progress(
                now,
                Progress::Probe {
                    sample: &sample,
                    phase: machine.phase(),
                    markers: machine.markers(),
                },
            );
            Some(Event::Probe(sample))
        }
        Msg::ProbeError(e) => Some(Event::Error(e)),
    }
}

fn spawn_action(
    id: u64,
    action: Action,
    ctx: &DrillContext,
    shared: &SharedState,
    tx: &mpsc::UnboundedSender<Msg>,
    observer: &mut dyn Observer,
    phase: Phase,
) -> Current {
    let (ctx, shared, tx) = (ctx.clone(), shared.clone(), tx.clone());
    let mutating = matches!(
        action,
        Action::SaveRestorePlan | Action::ApplyBreak | Action::ApplyRestore
    );
    let done = {
        let tx = tx.clone();
        move |r: Result<Event, String>| {
            let _ = tx.send(Msg::Event(id, r.unwrap_or_else(Event::Error)));
        }
    };
    let handle = match action {
        Action::RunPreflight => tokio::spawn(async move {
            let r = run_preflight(&ctx, &shared).await.map(|report| {
                let passed = report.passed();
                let refusals = report.refusals.clone();
                let _ = tx.send(Msg::Preflight(id, report));
                if passed {
                    Event::PreflightPassed
                } else {
                    Event::PreflightFailed(refusals)
                }
            });
            done(r);
        }),
        Action::Confirm => {
            let question = Confirmation {
                plan: ctx.plan.clone(),
                targets: ctx.clients.targets(&ctx.plan.target_clusters()),
                warnings: lock(&shared).warnings.clone(),
            };
            let answer = observer.confirm(&question);
            tokio::spawn(async move {
                let r = match answer.await {
                    Ok(ConfirmAnswer::Yes) => Ok(Event::Confirmed),
                    Ok(ConfirmAnswer::No) => Ok(Event::Declined),
                    Ok(ConfirmAnswer::Interrupted) => Ok(Event::Interrupted(Signal::Interrupt)),
                    Ok(ConfirmAnswer::Failed(e)) => Err(e),
                    Err(_) => Err("the confirmation was not answered".to_string()),
                };
                done(r);
            })
        }
        Action::SaveRestorePlan => tokio::spawn(async move {
            let r = save_plans(&ctx, &shared, &tx).await.map(|()| Event::Saved);
            done(r);
        }),
        Action::ApplyBreak => tokio::spawn(async move {
            let r = apply_break(&ctx, &shared, &tx)
                .await
                .map(|()| Event::Patched);
            done(r);
        }),
        Action::WaitRollout(deps) => tokio::spawn(async move {
            let restoring = phase == Phase::WaitRestoreRollout;
            let wait = async {
                match wait_rollouts(&ctx, &shared, &tx, id, &deps, restoring).await {
                    Ok(()) => Ok(Event::RolloutComplete),
                    // The break's rollout gave up: the break did not take effect.
                    Err(WaitError::Failed(m)) if !restoring => Ok(Event::BreakFailed(m)),
                    Err(e) => Err(e.to_string()),
                }
            };
            let r = if restoring || ctx.plan.break_mode != BreakMode::Command {
                wait.await
            } else {
                tokio::select! {
                    r = wait => r,
                    why = watch_break_pods(&ctx, &deps) => Ok(Event::BreakFailed(why)),
                }
            };
            done(r);
        }),
        Action::ApplyRestore => tokio::spawn(async move {
            let r = apply_restore(&ctx, &shared, &tx)
                .await
                .map(|()| Event::Restored);
            done(r);
        }),
        // Handled by the loop.
        Action::StartProbing | Action::StopProbing | Action::Finish(_) => tokio::spawn(async {}),
    };
    Current {
        id,
        handle,
        mutating,
    }
}

// ---- probing -----------------------------------------------------------------------------

async fn probe_loop(
    clients: Arc<Clients>,
    plan: DrillPlan,
    start: Instant,
    tx: mpsc::UnboundedSender<Msg>,
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
    let mut tick = tokio::time::interval(spec.interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut inflight = tokio::task::JoinSet::new();
    loop {
        tick.tick().await;
        while inflight.try_join_next().is_some() {}
        let (prober, classifier, tx, path) = (
            prober.clone(),
            classifier.clone(),
            tx.clone(),
            spec.path.clone(),
        );
        let sent = Instant::now();
        inflight.spawn(async move {
            let (result, latency) = prober.get(&path).await;
            let c = classifier.classify(result.as_answer());
            let sample = c.into_sample(sent.duration_since(start), latency, result.status());
            let _ = tx.send(Msg::Probe(sample));
        });
    }
}

// ---- preflight ---------------------------------------------------------------------------

async fn run_preflight(
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

async fn get_deployment(
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

// ---- the patches -------------------------------------------------------------------------

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

async fn patch_deployment(
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

fn patch_error(c: &ClusterClient, d: &DeploymentRef, e: kube::Error) -> String {
    c.error(
        &op::<Deployment>("patch", Some(&d.namespace), Some(&d.name)),
        e,
    )
    .to_string()
}

/// Save the restore plan on every deployment to break, each conditional on the
/// resourceVersion it was made from.
async fn save_plans(
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

/// The guide's break on every deployment, conditional on the resourceVersion the save left.
async fn apply_break(
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
        let mut patch = restore::break_patch(&s.plan);
        if let Some(rv) = &s.resource_version {
            patch["metadata"] = serde_json::json!({ "resourceVersion": rv });
        }
        let dep = patch_deployment(c, d, &patch, true).await.map_err(|e| {
            if is_conflict(&e) {
                format!(
                    "deployment {d} changed after its restore plan was saved; nothing was broken there"
                )
            } else {
                patch_error(c, d, e)
            }
        })?;
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
async fn apply_restore(
    ctx: &DrillContext,
    shared: &SharedState,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<(), String> {
    let results = join_all(ctx.plan.targets.iter().map(|t| async move {
        let d = &t.deployment;
        let c = ctx.clients.get(&d.cluster).map_err(|e| e.to_string())?;
        let Some(live) = get_deployment(ctx, d).await? else {
            return Ok(None);
        };
        let found = restore::restore_patch_for(&live, &ctx.restore.drill_id)
            .map_err(|e| format!("deployment {d}: {e}"))?;
        let (plan, patch) = match found {
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
        let dep = patch_deployment(c, d, &patch, true)
            .await
            .map_err(|e| patch_error(c, d, e))?;
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

// ---- rollouts ----------------------------------------------------------------------------

/// Wait until every deployment's rollout is complete, watching each one. After the restore
/// the containers are checked once more against the saved plans.
async fn wait_rollouts(
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
pub enum WaitError {
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
async fn watch_break_pods(ctx: &DrillContext, deps: &[DeploymentRef]) -> String {
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
pub async fn wait_rollout(
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

async fn check_restored(ctx: &DrillContext, shared: &SharedState) -> Vec<RestoreCheck> {
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

// ---- `drill restore` ---------------------------------------------------------------------

/// Find the pending restore plans of `failover_service` (only drill `drill_id`, when given)
/// on the deployments of `clusters` (all namespaces).
pub async fn find_pending(
    clients: &Clients,
    clusters: &[String],
    failover_service: &ObjectRef,
    drill_id: Option<&str>,
) -> Result<PendingRestores, ExecError> {
    let none = BTreeMap::new();
    find_pending_in(clients, clusters, &none, failover_service, drill_id).await
}

/// [`find_pending`]; where listing deployments in all namespaces is forbidden, lists in the
/// cluster's `namespaces` instead.
pub async fn find_pending_in(
    clients: &Clients,
    clusters: &[String],
    namespaces: &BTreeMap<String, BTreeSet<String>>,
    failover_service: &ObjectRef,
    drill_id: Option<&str>,
) -> Result<PendingRestores, ExecError> {
    let none = BTreeSet::new();
    let lists = join_all(clusters.iter().map(|cluster| {
        let namespaces = namespaces.get(cluster).unwrap_or(&none);
        async move {
            let c = clients.get(cluster)?;
            let listed = list_in_scope(
                c,
                namespaces,
                &ListParams::default(),
                |ns| match ns {
                    Some(ns) => Api::<Deployment>::namespaced(c.client.clone(), ns),
                    None => Api::all(c.client.clone()),
                },
                |ns| op::<Deployment>("list", ns, None),
            )
            .await?;
            Ok::<_, ExecError>((cluster.clone(), listed.items))
        }
    }))
    .await;
    let mut deployments = BTreeMap::new();
    for r in lists {
        let (cluster, items) = r?;
        deployments.insert(cluster, items);
    }
    Ok(restore::pending_restores(
        &deployments,
        failover_service,
        drill_id,
    ))
}

/// What `drill restore` did for one deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreOutcome {
    pub deployment: DeploymentRef,
    pub drill_id: String,
    /// `None`: restored and checked field by field; else why not.
    pub error: Option<String>,
    /// `None`: the rollout completed; else what it still waited for at the timeout.
    pub rollout: Option<String>,
}

/// Apply each plan's restore patch, check the answer field by field, then wait (up to
/// `rollout_timeout`) for the rollouts.
pub async fn restore_plans(
    clients: &Clients,
    plans: &[RestorePlan],
    rollout_timeout: Duration,
) -> Vec<RestoreOutcome> {
    join_all(plans.iter().map(|p| async move {
        let d = &p.deployment;
        let mut out = RestoreOutcome {
            deployment: d.clone(),
            drill_id: p.drill_id.clone(),
            error: None,
            rollout: None,
        };
        let c = match clients.get(&d.cluster) {
            Ok(c) => c,
            Err(e) => {
                out.error = Some(e.to_string());
                return out;
            }
        };
        let dep = match patch_deployment(c, d, &restore::restore_patch(p), true).await {
            Ok(dep) => dep,
            Err(e) => {
                out.error = Some(patch_error(c, d, e));
                return out;
            }
        };
        if let Err(diffs) = restore::verify_restored(p, &dep) {
            out.error = Some(format!(
                "not as saved after the patch: {}",
                diffs.join("; ")
            ));
            return out;
        }
        let generation = dep.metadata.generation;
        let sc = clients.streaming(&d.cluster).unwrap_or(c);
        let mut last = String::new();
        let waited = tokio::time::timeout(
            rollout_timeout,
            wait_rollout(sc, d, generation, |s, _| {
                if let RolloutState::Waiting(w) = s {
                    last = w.clone();
                }
            }),
        )
        .await;
        out.rollout = match waited {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!(
                "rollout not complete after {}: {last}",
                smh_core::drill::human(rollout_timeout)
            )),
        };
        out
    }))
    .await
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

    /// The cluster-ID findings that concern a drill of the guide's FailoverService from
    /// productpage in mgmt-cluster, with `check`'s text and fix.
    #[test]
    fn cluster_id_problems_of_the_drilled_failover_service() {
        use smh_core::testing::inspect::{consistent, set_secrets};
        let snap = consistent();
        let fs = snap.failover_services[0].clone();
        assert_eq!(cluster_id_problems_in(&snap, &fs, "mgmt-cluster"), []);

        // mgmt-cluster's remote secret for remote-cluster under the SMH name: an error.
        let mut snap = consistent();
        set_secrets(
            &mut snap,
            "mgmt-cluster",
            &[("istio-remote-secret-remote-cluster", "remote-cluster")],
        );
        let f = cluster_id_problems_in(&snap, &fs, "mgmt-cluster");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].error);
        assert!(
            f[0].message.starts_with("mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\", not remote-cluster's Istio cluster ID \"cluster2\""),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.ends_with("; recreate it under remote-cluster's cluster ID: \"istioctl create-remote-secret --context=remote-cluster --name=cluster2 | kubectl apply --context=mgmt-cluster -f -\", then delete the old one: \"kubectl --context=mgmt-cluster -n istio-system delete secret istio-remote-secret-remote-cluster\""),
            "{}",
            f[0].message
        );

        // remote-cluster's secret for mgmt-cluster: remote-cluster neither calls the
        // FailoverService nor probes, so it does not concern this drill.
        let mut snap = consistent();
        set_secrets(&mut snap, "remote-cluster", &[]);
        assert_eq!(cluster_id_problems_in(&snap, &fs, "mgmt-cluster"), []);
        // Unless the probes come from there.
        let f = cluster_id_problems_in(&snap, &fs, "remote-cluster");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(!f[0].error, "nothing there selects cluster1: a warning");

        // A backing service's cluster whose ID could not be read: a warning.
        let mut snap = consistent();
        snap.topology.clusters[1].mesh.as_mut().unwrap().cluster_id = None;
        let f = cluster_id_problems_in(&snap, &fs, "mgmt-cluster");
        assert!(
            f.iter().any(|p| !p.error
                && p.message
                    .starts_with("remote-cluster: Istio's cluster ID could not be read")),
            "{f:#?}"
        );
    }

    #[test]
    fn exit_code_fails_when_not_restored() {
        let r = DrillResult {
            report: smh_core::testing::drill::sample_report(),
            outcome: DrillOutcome::Passed,
            restore_checks: vec![RestoreCheck {
                deployment: DeploymentRef {
                    cluster: "c".into(),
                    namespace: "n".into(),
                    name: "d".into(),
                },
                differences: vec!["container reviews: command: x != saved absent".into()],
            }],
            started: Instant::now(),
        };
        assert_eq!(r.exit_code(), 3);
        let ok = DrillResult {
            restore_checks: vec![],
            ..r
        };
        assert_eq!(ok.exit_code(), 0);
    }
}
