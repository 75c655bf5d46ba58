//! What the drill is made from, read from the clusters: the clients of every cluster, the
//! FailoverService, its backing deployments, the Istio objects and the outlier settings that
//! apply to each backing service.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{DynamicObject, ListParams};
use kube::core::ApiResource;
use kube::{Api, ResourceExt};
use serde::Serialize;
use serde_json::Value;

use smh_cluster::discovery::{self, list_in_scope};
use smh_cluster::error::ApiOp;
use smh_cluster::{ClusterClient, ClusterError, ClusterTarget};
use smh_core::drill::DeploymentRef;
use smh_core::drill::live::{self, EnvoyCluster};
use smh_core::drill::outlier::OutlierSettings;
use smh_core::drill::plan::{self, DrillOptions, DrillPlan, PlanError, PlanInput};
use smh_core::drill::restore::RestoreError;
use smh_core::inspect::discovery::DiscoveryOptions;
use smh_core::inspect::discovery::ambient::waypoint_used;
use smh_core::model::types::{ClusterObjectRef, FailoverService};

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
    /// The client of an SMH cluster; [`ExecError::NoClient`] when no context maps it.
    pub fn get(&self, cluster: &str) -> Result<&ClusterClient, ExecError> {
        self.clusters
            .get(cluster)
            .ok_or_else(|| ExecError::NoClient(cluster.to_string()))
    }

    pub(crate) fn streaming(&self, cluster: &str) -> Result<&ClusterClient, ExecError> {
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

/// Why the drill could not start or could not be carried out, each with what to do.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(
        "FailoverService {namespace}/{name} not found in {target}: `kubectl smh failover list` lists the FailoverServices there (-n sets the namespace)"
    )]
    /// The FailoverService to drill is not in the management cluster.
    NotFound {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The management cluster it was looked for in.
        target: Box<ClusterTarget>,
    },
    #[error(
        "the primary backing service {service} does not exist: the FailoverService's first backing service must be a Service in that cluster"
    )]
    /// The first backing service (the primary) does not exist in its cluster.
    NoPrimaryService {
        /// The primary backing service, as the messages name it.
        service: String,
    },
    /// A request to a cluster failed.
    #[error(transparent)]
    Cluster(Box<ClusterError>),
    /// The drill plan cannot be made (options or inputs that do not fit).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The restore plan cannot be made or put back.
    #[error(transparent)]
    Restore(#[from] RestoreError),
    #[error(
        "cluster {0} has no kubeconfig context: map it with --cluster {0}=CONTEXT or `kubectl smh cluster register {0} --context CONTEXT`"
    )]
    /// A cluster the drill needs has no kubeconfig context.
    NoClient(String),
}

impl From<ClusterError> for ExecError {
    fn from(e: ClusterError) -> Self {
        ExecError::Cluster(Box::new(e))
    }
}

pub(crate) fn op<K: kube::Resource<DynamicType = ()>>(
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
    /// The FailoverService being drilled.
    pub failover_service: FailoverService,
    /// The primary backing service (the first), as its cluster serves it.
    pub primary_service: Service,
    /// By SMH cluster name, for every namespace [`plan::lookups`] names.
    pub deployments: BTreeMap<String, Vec<Deployment>>,
    /// The cluster and namespace of the probe workload: whose sidecar routes the probes.
    pub client_cluster: String,
    /// The namespace of the probe workload.
    pub client_namespace: String,
    /// The root namespace (`meshConfig.rootNamespace`) of the mesh in the client's cluster,
    /// as discovery found it; `None` when that cluster has no mesh.
    pub root_namespace: Option<String>,
    /// Per backing service, in priority order.
    pub backing: Vec<BackingOutlier>,
}

impl Inputs {
    /// The outlier detection that applies to the primary backing service, if any: what the report's failover model is computed from.
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
pub(crate) async fn mesh_root_namespace(
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

/// The namespace of the proxy that applies the DestinationRules to the hostname's traffic,
/// where Istio's DestinationRule lookup starts: in Istio's ambient mode, when the hostname's
/// ServiceEntry (one of `service_entries` listing it) is bound to a waypoint by its label
/// `istio.io/use-waypoint`, the waypoint's namespace (`istio.io/use-waypoint-namespace`,
/// else the ServiceEntry's): the waypoint, not the ambient client (which has no sidecar),
/// applies routes and outlier detection; else the client's own namespace (its sidecar).
pub(crate) fn proxy_namespace(
    service_entries: &[Value],
    hostname: &str,
    client_ns: &str,
) -> String {
    hostname_waypoint(service_entries, hostname)
        .map(|(ns, _)| ns)
        .unwrap_or_else(|| client_ns.to_string())
}

/// The waypoint (namespace, name) the hostname's ServiceEntry is bound to (see
/// [`proxy_namespace`]), if any.
pub(crate) fn hostname_waypoint(
    service_entries: &[Value],
    hostname: &str,
) -> Option<(String, String)> {
    service_entries
        .iter()
        .find(|se| {
            se.pointer("/spec/hosts")
                .and_then(Value::as_array)
                .is_some_and(|hs| {
                    hs.iter()
                        .any(|h| h.as_str().is_some_and(|h| h.eq_ignore_ascii_case(hostname)))
                })
        })
        .and_then(|se| {
            let labels: BTreeMap<String, String> =
                serde_json::from_value(se.pointer("/metadata/labels")?.clone()).ok()?;
            let ns = se.pointer("/metadata/namespace").and_then(Value::as_str)?;
            let w = waypoint_used(Some(&labels), ns, None)?;
            Some((w.namespace, w.name))
        })
}

/// The name Envoy gives `ec`'s cluster: a sidecar's `outbound|PORT|SUBSET|HOST`, or, in the
/// waypoint that serves the host, `inbound-vip|PORT|http/SUBSET|HOST`
/// (`inbound-vip|PORT|http|HOST` without a subset), as istiod names a waypoint's clusters.
fn envoy_cluster_name(ec: &EnvoyCluster, waypoint: bool) -> String {
    match (waypoint, ec.subset.as_deref()) {
        (false, subset) => format!("outbound|{}|{}|{}", ec.port, subset.unwrap_or(""), ec.host),
        (true, None) => format!("inbound-vip|{}|http|{}", ec.port, ec.host),
        (true, Some(s)) => format!("inbound-vip|{}|http/{s}|{}", ec.port, ec.host),
    }
}

/// The outlier detection of each backing service as the proxy that routes the client's
/// traffic gets it (the client's sidecar, or in ambient mode the waypoint the hostname uses:
/// [`proxy_namespace`]): the failover aggregate's sub-clusters (from the EnvoyFilter in the
/// client's cluster, in priority order, one per backing service) and the DestinationRule each
/// resolves to ([`live::destination_rule_for`], with the mesh's `root_namespace`).
/// Without the EnvoyFilter, the hosts kubectl-smh generates are tried: the local
/// `NAME.NS.svc.cluster.local` for a service in the client's cluster, else
/// `NAME.NS.svc.CLUSTER.global`, then the local name (multi-primary).
pub(crate) async fn backing_outliers(
    clients: &Clients,
    fs: &FailoverService,
    client_cluster: &str,
    client_namespace: &str,
    root_namespace: Option<&str>,
) -> Result<Vec<BackingOutlier>, ExecError> {
    let c = clients.get(client_cluster)?;
    let fs_namespaces: BTreeSet<String> = fs.namespace().into_iter().collect();
    let ses = list_istio(c, "ServiceEntry", "serviceentries", &fs_namespaces).await?;
    let proxy_ns = proxy_namespace(&ses, &fs.spec.hostname, client_namespace);
    let client_namespace = proxy_ns.as_str();
    let waypoint = hostname_waypoint(&ses, &fs.spec.hostname).map(|(ns, n)| format!("{ns}/{n}"));
    // A user who may not list in all namespaces: where the client's proxy looks for
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
            entry.envoy_cluster = Some(envoy_cluster_name(ec, waypoint.is_some()));
            match live::outlier_of_rule(&source, rule, ec) {
                Ok(od) => {
                    entry.outlier = od.map(|od| OutlierSettings {
                        waypoint: waypoint.clone(),
                        ..od
                    })
                }
                Err(e) => entry.problem = Some(e),
            }
            break;
        }
        if entry.envoy_cluster.is_none()
            && let Some(ec) = candidates.first()
        {
            entry.envoy_cluster = Some(envoy_cluster_name(ec, waypoint.is_some()));
        }
        out.push(entry);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use smh_core::translate::ambient::{USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL};

    #[test]
    fn the_waypoint_a_hostname_uses_is_where_the_destination_rule_lookup_starts() {
        let se = |labels: Value| {
            json!({"metadata": {"name": "reviews-failover", "namespace": "service-mesh-hub", "labels": labels},
                   "spec": {"hosts": ["reviews-failover.bookinfo.global"]}})
        };
        let host = "Reviews-Failover.bookinfo.global";
        let ambient =
            se(json!({USE_WAYPOINT_LABEL: "waypoint", USE_WAYPOINT_NAMESPACE_LABEL: "bookinfo"}));
        assert_eq!(
            hostname_waypoint(std::slice::from_ref(&ambient), host),
            Some(("bookinfo".to_string(), "waypoint".to_string()))
        );
        assert_eq!(proxy_namespace(&[ambient], host, "client-ns"), "bookinfo");
        let same_ns = se(json!({USE_WAYPOINT_LABEL: "waypoint"}));
        assert_eq!(
            proxy_namespace(&[same_ns], host, "client-ns"),
            "service-mesh-hub"
        );
        // A sidecar mesh (no label), an opt-out, or no ServiceEntry: the client's sidecar.
        for ses in [
            vec![se(json!({}))],
            vec![se(json!({USE_WAYPOINT_LABEL: "none"}))],
            vec![],
        ] {
            assert_eq!(proxy_namespace(&ses, host, "client-ns"), "client-ns");
        }
    }

    #[test]
    fn a_waypoint_names_its_clusters_as_istiod_does() {
        let ec = |subset: Option<&str>| EnvoyCluster {
            port: 9080,
            subset: subset.map(str::to_string),
            host: "reviews.bookinfo.svc.cluster.local".into(),
        };
        assert_eq!(
            envoy_cluster_name(&ec(None), false),
            "outbound|9080||reviews.bookinfo.svc.cluster.local"
        );
        assert_eq!(
            envoy_cluster_name(&ec(Some("v1")), false),
            "outbound|9080|v1|reviews.bookinfo.svc.cluster.local"
        );
        assert_eq!(
            envoy_cluster_name(&ec(None), true),
            "inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local"
        );
        assert_eq!(
            envoy_cluster_name(&ec(Some("v1")), true),
            "inbound-vip|9080|http/v1|reviews.bookinfo.svc.cluster.local"
        );
    }
}
