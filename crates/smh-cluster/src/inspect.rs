//! Collecting a [`Snapshot`]: the live state from [`crate::state::load_state`], then,
//! concurrently across clusters, a few extra reads (the Endpoints of the backing services
//! and istiod's Deployments). Only [`collect`] and [`collect_extras`] do I/O; the snapshot
//! is then handed to the pure functions of `smh_core::inspect`.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Endpoints;
use kube::Api;
use smh_core::inspect::snapshot::{Availability, ClusterView, EndpointCount, ServiceRef, Snapshot};
use smh_core::model::SmhObject;
use smh_core::model::topology::Topology;

use crate::context::{ClusterClient, Contexts};
use crate::error::{ApiOp, ClusterError};
use crate::state::{LiveState, StateError, StateOptions, load_state};

/// What [`collect_extras`] reads besides the live state.
#[derive(Debug, Default)]
pub struct Extras {
    /// Per backing service: how many endpoints are ready, or why they could not be read.
    pub endpoints: BTreeMap<ServiceRef, Result<EndpointCount, String>>,
    /// Per cluster: istiod's availability (`Ok(None)` when the cluster has no mesh).
    pub istiod: BTreeMap<String, Result<Option<Availability>, String>>,
}

/// Read, concurrently across clusters and objects: the Endpoints of each service in
/// `services` and istiod's Deployment of each cluster with a mesh in `topology`. `clients`
/// are keyed by SMH cluster name ([`answered_clients`]); services in clusters without a
/// client get an error, and such clusters get no istiod entry.
pub(crate) async fn collect_extras(
    clients: &BTreeMap<String, ClusterClient>,
    topology: &Topology,
    services: &BTreeSet<ServiceRef>,
) -> Extras {
    let endpoint_reads = services.iter().map(|s| async move {
        let Some(c) = clients.get(&s.cluster) else {
            return (
                s.clone(),
                Err(format!("cluster {} could not be read", s.cluster)),
            );
        };
        let api: Api<Endpoints> = Api::namespaced(c.client.clone(), &s.namespace);
        let result = match api.get_opt(&s.name).await {
            Ok(Some(e)) => Ok(EndpointCount::from_endpoints(&e)),
            // No Endpoints object: the Service is missing or has no selector.
            Ok(None) => Ok(EndpointCount::default()),
            Err(e) => Err(c
                .error(
                    &ApiOp::typed::<Endpoints>("get", Some(&s.namespace), Some(&s.name)),
                    e,
                )
                .to_string()),
        };
        (s.clone(), result)
    });
    let istiod_reads = topology.clusters.iter().filter_map(|ct| {
        let mesh = ct.mesh.as_ref()?;
        let c = clients.get(&ct.name)?;
        Some(async move {
            let api: Api<Deployment> = Api::namespaced(c.client.clone(), &mesh.istiod_namespace);
            let result = match api.get_opt(&mesh.istiod_name).await {
                Ok(d) => Ok(d.as_ref().map(Availability::from_deployment)),
                Err(e) => Err(error_text(
                    c,
                    &ApiOp::typed::<Deployment>(
                        "get",
                        Some(&mesh.istiod_namespace),
                        Some(&mesh.istiod_name),
                    ),
                    e,
                )),
            };
            (ct.name.clone(), result)
        })
    });
    let (endpoints, istiod) = futures::join!(join_all(endpoint_reads), join_all(istiod_reads));
    Extras {
        endpoints: endpoints.into_iter().collect(),
        istiod: istiod.into_iter().collect(),
    }
}

fn error_text(c: &ClusterClient, op: &ApiOp, e: kube::Error) -> String {
    let err: ClusterError = c.error(op, e);
    err.to_string()
}

/// A snapshot and the live state it was made from (for its clients).
pub struct Collected {
    /// What the inspection commands judge.
    pub snapshot: Snapshot,
    /// The live state it was made from, with its clients.
    pub state: LiveState,
}

/// Load the live state, then read the extras, and build the snapshot. Fails only when the
/// management cluster cannot be read (see [`load_state`]).
pub async fn collect(
    contexts: &Contexts,
    opts: &StateOptions,
    namespace: &str,
) -> Result<Collected, StateError> {
    // The management cluster is discovered too (its Kubernetes and Istio versions), under
    // the cluster name its context resolves to (same name, registry or --cluster).
    let mut opts = opts.clone();
    opts.smh_namespaces.push(namespace.to_string());
    if let Ok(mgmt) = contexts.mgmt_context() {
        let name = smh_core::inspect::names::ClusterName::new(mgmt.as_str());
        if contexts.resolve(&name).is_ok_and(|r| r.context == mgmt) {
            opts.extra_clusters.push(name);
        }
    }
    let state = load_state(contexts, &opts).await?;
    let clients = answered_clients(&state);
    let services: BTreeSet<ServiceRef> = state
        .smh_objects
        .iter()
        .filter_map(|m| match &m.object {
            SmhObject::FailoverService(fs) => Some(fs),
            SmhObject::TrafficPolicy(_) => None,
        })
        .flat_map(|fs| fs.spec.backing_services.iter())
        .filter_map(|b| b.kube_service.as_ref())
        .map(ServiceRef::of)
        .collect();
    let extras = collect_extras(&clients, &state.topology, &services).await;
    let snapshot = snapshot_from_state(&state, extras, namespace);
    Ok(Collected { snapshot, state })
}

/// The clients of the clusters that answered the state sweep, by SMH cluster name: what
/// [`collect_extras`] reads. A cluster that failed there (unreachable, hung, forbidden) is
/// left out, as its rows already say why: a hung cluster costs one request timeout, not
/// one per phase.
pub fn answered_clients(state: &LiveState) -> BTreeMap<String, ClusterClient> {
    let mut clients = BTreeMap::new();
    for t in &state.targets {
        let key = t.key();
        if state.errors.contains_key(&key) {
            continue;
        }
        if let Some(c) = state.client(&key) {
            clients.insert(key.as_str().to_string(), c.clone());
        }
    }
    clients
}

/// The snapshot of a live state plus the extras (pure).
pub fn snapshot_from_state(state: &LiveState, extras: Extras, namespace: &str) -> Snapshot {
    let mut snap = Snapshot {
        namespace: namespace.to_string(),
        topology: state.topology.clone(),
        expected: state.expected.clone(),
        diagnostics: state
            .diagnostics
            .iter()
            .chain(&state.expected.diagnostics)
            .cloned()
            .collect(),
        endpoints: extras.endpoints,
        smh_scope: state.smh_scope.clone(),
        ..Default::default()
    };
    for m in &state.smh_objects {
        match &m.object {
            SmhObject::FailoverService(fs) => snap.failover_services.push(fs.clone()),
            SmhObject::TrafficPolicy(tp) => snap.traffic_policies.push(tp.clone()),
        }
    }
    for t in &state.targets {
        let key = t.key();
        let name = key.as_str().to_string();
        let istiod = extras.istiod.get(&name);
        let error = state.errors.get(&key).map(|e| e.to_string());
        let live = match (state.live.get(&key), &error) {
            (Some(objects), _) => Ok(objects
                .iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect()),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => Err(format!("the generated objects in {name} were not listed")),
        };
        snap.live.insert(name.clone(), live);
        snap.clusters.insert(
            name.clone(),
            ClusterView {
                name: name.clone(),
                context: t.context.as_str().to_string(),
                server: t.server.clone(),
                mgmt: t.mgmt,
                error,
                facts: state.discovery.get(&key).cloned(),
                istiod: istiod.and_then(|r| r.as_ref().ok().cloned().flatten()),
                istiod_error: istiod.and_then(|r| r.as_ref().err().cloned()),
                stale_since: state.stale.get(&key).cloned(),
            },
        );
    }
    for (name, e) in &state.unresolved {
        let n = name.as_str().to_string();
        snap.live.insert(n.clone(), Err(e.to_string()));
        snap.clusters
            .entry(n.clone())
            .or_insert_with(|| ClusterView {
                name: n.clone(),
                error: Some(e.to_string()),
                ..Default::default()
            });
    }
    snap.unreadable = state
        .unreadable
        .iter()
        .map(|(id, why)| format!("{id}: {why}"))
        .collect();
    snap
}
