//! The FailoverService views: backing services in priority order, outlier detection in
//! effect, drift, problems in words and the translation's topology-dependent choices.

use std::collections::BTreeSet;

use super::index::Index;
use super::{
    BackingView, ExplanationView, FailoverServiceView, MeshRefView, OutlierView, PortView, Problem,
    Role, StatusView,
};
use crate::inspect::drift::{Drift, DriftState};
use crate::inspect::snapshot::{ServiceRef, Snapshot};
use crate::model::diag::ObjectId;
use crate::model::select;
use crate::model::topology::MultiClusterMode;
use crate::model::types::{FailoverService, TrafficPolicy};
use crate::model::{Manifest, SmhObject};

/// The FailoverServices of the snapshot (all, or those named `name`, in `namespace` when
/// given), sorted by namespace and name. `drift` is [`Snapshot::drift`].
pub fn failover_services(
    snap: &Snapshot,
    drift: &[Drift],
    name: Option<&str>,
    namespace: Option<&str>,
) -> Vec<FailoverServiceView> {
    let index = Index::new(snap, drift);
    let mut out: Vec<FailoverServiceView> = snap
        .failover_services
        .iter()
        .filter(|fs| name.is_none_or(|n| fs.metadata.name.as_deref() == Some(n)))
        .filter(|fs| namespace.is_none_or(|n| fs.metadata.namespace.as_deref() == Some(n)))
        .map(|fs| failover_service(&index, fs))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

fn fs_status(fs: &FailoverService) -> StatusView {
    let mut errors = Vec::new();
    let (state, observed) = match &fs.status {
        None => (None, 0),
        Some(s) => {
            errors.extend(s.errors.iter().cloned());
            for (k, m) in &s.meshes {
                errors.extend(m.errors.iter().map(|e| format!("{k}: {e}")));
            }
            (Some(s.state), s.observed_generation)
        }
    };
    StatusView::new(state, observed, fs.metadata.generation, errors)
}

pub(super) fn status_problems(
    kind: &str,
    ns: &str,
    name: &str,
    s: &StatusView,
    never: bool,
) -> Vec<Problem> {
    let mut out = Vec::new();
    if never {
        out.push(Problem::error(format!(
            "{kind} {ns}/{name} has no status (PENDING): it was stored without `kubectl smh apply`, so nothing was generated for it; apply its manifest with `kubectl smh apply -f FILE`"
        )));
        return out;
    }
    if !s.is_accepted() {
        let why = if s.errors.is_empty() {
            String::new()
        } else {
            format!(": {}", s.errors.join("; "))
        };
        out.push(Problem::error(format!(
            "{kind} {ns}/{name} is {}, not ACCEPTED{why}",
            s.state
        )));
    }
    if !s.up_to_date {
        out.push(Problem::error(format!(
            "the status of {kind} {ns}/{name} is for generation {} but its spec is at generation {}: its spec was changed without `kubectl smh apply`, so the generated objects may not match it",
            s.observed_generation,
            s.generation.unwrap_or_default()
        )));
    }
    out
}

pub(super) fn drift_problems<'a>(drifts: impl Iterator<Item = &'a Drift>) -> Vec<Problem> {
    drifts
        .filter_map(|d| {
            let message = d.problem()?;
            Some(match d.state {
                DriftState::Unknown { .. } => Problem::warning(message),
                _ => Problem::error(message),
            })
        })
        .collect()
}

pub(super) fn failover_service(index: &Index<'_>, fs: &FailoverService) -> FailoverServiceView {
    let snap = index.snap;
    let name = fs.metadata.name.clone().unwrap_or_default();
    let namespace = fs.metadata.namespace.clone().unwrap_or_default();
    let id = ObjectId {
        kind: FailoverService::KIND.to_string(),
        namespace: namespace.clone(),
        name: name.clone(),
    };
    let status = fs_status(fs);
    let mut problems = status_problems(
        FailoverService::KIND,
        &namespace,
        &name,
        &status,
        fs.status.is_none(),
    );

    let meshes = mesh_refs(snap, fs, &mut problems);
    let clients: Vec<&str> = meshes.iter().filter_map(|m| m.cluster.as_deref()).collect();
    let port = fs.spec.port.as_ref().map(|p| p.number);

    let services: Vec<ServiceRef> = fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
        .map(ServiceRef::of)
        .collect();
    let mut backing_services = Vec::new();
    for (i, s) in services.iter().enumerate() {
        backing_services.push(backing_view(index, i, s, &clients, port));
    }
    problems.extend(backing_problems(&backing_services));
    problems.extend(cluster_id_problems(
        snap,
        &index.id_findings,
        &clients,
        &services,
    ));

    let generated: Vec<Drift> = index
        .by_owner
        .get(&id)
        .map(|v| v.iter().map(|d| (*d).clone()).collect())
        .unwrap_or_default();

    // Drift, each object once.
    let mut seen = BTreeSet::new();
    let all = generated
        .iter()
        .chain(backing_services.iter().flat_map(|b| b.generated.iter()))
        .filter(|d| seen.insert(d.key.clone()));
    problems.extend(drift_problems(all));

    let related = related_policies(index, fs, &services);
    let explanations = explanations(snap, fs, &related);

    FailoverServiceView {
        name,
        namespace,
        hostname: fs.spec.hostname.clone(),
        port: fs.spec.port.as_ref().map(|p| PortView {
            number: p.number,
            protocol: p.protocol.clone(),
        }),
        meshes,
        status,
        backing_services,
        generated,
        traffic_policies: related
            .iter()
            .map(|tp| {
                format!(
                    "{}/{}",
                    tp.metadata.namespace.as_deref().unwrap_or_default(),
                    tp.metadata.name.as_deref().unwrap_or_default()
                )
            })
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect(),
        explanations,
        problems,
    }
}

/// The FailoverService's meshes, each with the cluster that runs it; a mesh no cluster
/// runs is a problem (the hostname is generated nowhere for it).
fn mesh_refs(
    snap: &Snapshot,
    fs: &FailoverService,
    problems: &mut Vec<Problem>,
) -> Vec<MeshRefView> {
    let meshes: Vec<MeshRefView> = fs
        .spec
        .meshes
        .iter()
        .flatten()
        .map(|m| MeshRefView {
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            cluster: snap.mesh_cluster(&m.name).map(str::to_string),
        })
        .collect();
    for m in meshes.iter().filter(|m| m.cluster.is_none()) {
        problems.push(Problem::error(format!(
            "mesh {}.{} is not run by any cluster that answered (SMH names a mesh istiod-<namespace>-<cluster>): the hostname is generated nowhere for it",
            m.name, m.namespace
        )));
    }
    meshes
}

/// Backing service `s` at 0-based position `i`: its cluster, discovery, endpoints, the
/// outlier detection in effect from each client cluster, and the generated objects that
/// concern it.
fn backing_view(
    index: &Index<'_>,
    i: usize,
    s: &ServiceRef,
    clients: &[&str],
    port: Option<u32>,
) -> BackingView {
    let snap = index.snap;
    let cluster_error = snap
        .clusters
        .get(&s.cluster)
        .and_then(|c| c.error.clone())
        .or_else(|| {
            (!snap.clusters.contains_key(&s.cluster))
                .then(|| format!("cluster {} was not read", s.cluster))
        });
    let discovered = if cluster_error.is_some() {
        None
    } else {
        Some(
            select::find_traffic_target(&snap.topology, &s.name, &s.namespace, &s.cluster)
                .is_some(),
        )
    };
    let (endpoints, endpoints_error) = match snap.endpoints.get(s) {
        Some(Ok(e)) => (Some(*e), None),
        Some(Err(e)) => (None, Some(e.clone())),
        None => (None, cluster_error.clone()),
    };
    let outlier_detection: Vec<OutlierView> =
        clients.iter().map(|c| index.outlier(s, c, port)).collect();
    let generated = index.concerning(s);
    let in_sync = if generated
        .iter()
        .any(|d| matches!(d.state, DriftState::Unknown { .. }))
    {
        None
    } else {
        Some(generated.iter().all(|d| d.state.is_in_sync()))
    };
    BackingView {
        priority: i + 1,
        role: if i == 0 {
            Role::Primary
        } else {
            Role::Secondary
        },
        cluster: s.cluster.clone(),
        namespace: s.namespace.clone(),
        name: s.name.clone(),
        cluster_error,
        discovered,
        endpoints,
        endpoints_error,
        outlier_detection,
        generated,
        in_sync,
    }
}

/// The problems of a FailoverService's backing services: existence, endpoints, outlier
/// detection in effect.
pub(crate) fn backing_problems(backing: &[BackingView]) -> Vec<Problem> {
    let mut out = Vec::new();
    for b in backing {
        let svc = b.service();
        if let Some(e) = &b.cluster_error {
            out.push(Problem::warning(format!(
                "the cluster of backing service {svc} could not be read, so its endpoints and generated objects are unknown: {e}"
            )));
            continue;
        }
        if b.discovered == Some(false) {
            out.push(Problem::error(format!(
                "backing service {svc} does not exist with sidecar workloads (SMH's \"Backing service {}.{}.{} not found\"): failover has nothing to send to it",
                b.name, b.namespace, b.cluster
            )));
        }
        if let Some(e) = &b.endpoints_error {
            out.push(Problem::warning(format!(
                "the endpoints of backing service {svc} could not be read: {e}"
            )));
        }
        for od in &b.outlier_detection {
            if let Some(e) = &od.error {
                out.push(Problem::warning(format!(
                    "the outlier detection of backing service {svc} for callers in {} could not be read: {e}",
                    od.client_cluster
                )));
                continue;
            }
            let Some(s) = &od.settings else {
                out.push(Problem::error(format!(
                    "backing service {svc} has no outlier detection for callers in {} (no DestinationRule for {} sets trafficPolicy.outlierDetection): Envoy never ejects its hosts, so nothing fails over; apply a TrafficPolicy with outlierDetection that selects it",
                    od.client_cluster, od.host
                )));
                continue;
            };
            let source = od.source.as_deref().unwrap_or("its DestinationRule");
            if s.errors_to_eject().is_none() {
                out.push(Problem::error(format!(
                    "backing service {svc}: the outlier detection of {source} in {} ejects on nothing (consecutive5xxErrors is 0 and consecutiveGatewayErrors is unset)",
                    od.client_cluster
                )));
            }
            let pct = s.effective_max_ejection_percent();
            if pct < 100 {
                let why = if s.max_ejection_percent.is_none() {
                    " (unset: Istio's default)"
                } else {
                    ""
                };
                out.push(Problem::warning(format!(
                    "backing service {svc}: maxEjectionPercent is {pct}{why} in {source} in {}: Envoy ejects at most {pct}% of its hosts, so with few hosts a broken service keeps receiving traffic; set maxEjectionPercent: 100",
                    od.client_cluster
                )));
            }
        }
    }
    let ready = |b: &BackingView| b.endpoints.map(|e| e.ready);
    if let Some(primary) = backing.first()
        && ready(primary) == Some(0)
    {
        let total = primary.endpoints.map_or(0, |e| e.total);
        out.push(Problem::warning(format!(
            "the primary {} has no ready endpoints (0 of {total}): callers are failed over, or get errors if no secondary answers",
            primary.service()
        )));
    }
    let secondaries = backing.get(1..).unwrap_or_default();
    let empty: Vec<&BackingView> = secondaries.iter().filter(|b| ready(b) == Some(0)).collect();
    if !secondaries.is_empty() && empty.len() == secondaries.len() {
        let names: Vec<String> = empty.iter().map(|b| b.service().to_string()).collect();
        out.push(Problem::error(format!(
            "the secondary {} has no ready endpoints: failover would have nowhere to go",
            names.join(", ")
        )));
    } else {
        for b in empty {
            out.push(Problem::warning(format!(
                "the secondary {} has no ready endpoints: failover skips it",
                b.service()
            )));
        }
    }
    out
}

/// The cluster-ID problems that concern failover from multi-primary `clients` to
/// `services`: a client's remote secret for a backing service's cluster, and the ID of a
/// backing service's cluster itself. Each once.
pub fn cluster_id_problems(
    snap: &Snapshot,
    findings: &[crate::inspect::cluster_id::IdFinding],
    clients: &[&str],
    services: &[ServiceRef],
) -> Vec<Problem> {
    let mut out: BTreeSet<Problem> = BTreeSet::new();
    for client in clients
        .iter()
        .filter(|c| snap.mode(c) == MultiClusterMode::MultiPrimary)
    {
        for s in services {
            for f in findings {
                let about_secret = f.cluster == *client && f.peer.as_deref() == Some(&s.cluster);
                let about_id = f.cluster == s.cluster && f.peer.is_none();
                if about_secret || about_id {
                    out.insert(Problem {
                        severity: f.severity,
                        message: format!("{}; {}", f.message, f.hint),
                    });
                }
            }
        }
    }
    out.into_iter().collect()
}

/// TrafficPolicies that select one of `services` or shift traffic to `fs`, in snapshot order.
fn related_policies<'a>(
    index: &Index<'a>,
    fs: &FailoverService,
    services: &[ServiceRef],
) -> Vec<&'a TrafficPolicy> {
    let fs_name = fs.metadata.name.as_deref().unwrap_or_default();
    let fs_ns = fs.metadata.namespace.as_deref().unwrap_or_default();
    index
        .snap
        .traffic_policies
        .iter()
        .zip(&index.tp_targets)
        .filter(|(tp, targets)| {
            let shifts = tp
                .spec
                .traffic_shift
                .iter()
                .flat_map(|t| t.destinations.iter())
                .filter_map(|d| d.failover_service.as_ref())
                .any(|d| d.name == fs_name && d.namespace == fs_ns);
            shifts || services.iter().any(|s| targets.contains(s))
        })
        .map(|(tp, _)| tp)
        .collect()
}

/// The translation's topology-dependent choices for `fs` and the policies that concern it.
pub(super) fn explanations(
    snap: &Snapshot,
    fs: &FailoverService,
    related: &[&TrafficPolicy],
) -> Vec<ExplanationView> {
    let mut manifests: Vec<Manifest> = related
        .iter()
        .map(|tp| Manifest {
            source: crate::model::diag::Source {
                file: "describe".into(),
                doc: 0,
                line: None,
            },
            object: SmhObject::TrafficPolicy((*tp).clone()),
        })
        .collect();
    manifests.push(Manifest {
        source: crate::model::diag::Source {
            file: "describe".into(),
            doc: manifests.len(),
            line: None,
        },
        object: SmhObject::FailoverService(fs.clone()),
    });
    crate::translate::explain(&manifests, &snap.topology)
        .into_iter()
        .map(|e| ExplanationView {
            cluster: e.cluster,
            text: e.text,
        })
        .collect()
}
