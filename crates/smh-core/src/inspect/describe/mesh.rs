//! The mesh views: one row per cluster with its mode, mesh, failover services and problems.

use super::{MeshView, Problem};
use crate::inspect::snapshot::{ClusterView, Snapshot};

/// Every cluster of the snapshot as a mesh row (or only the one whose cluster name or SMH
/// mesh name is `name`), mgmt first.
pub fn meshes(snap: &Snapshot, name: Option<&str>) -> Vec<MeshView> {
    let findings = crate::inspect::cluster_id::findings(snap);
    let mut out: Vec<MeshView> = snap
        .clusters
        .values()
        .map(|c| mesh_view(snap, c, &findings))
        .filter(|m| name.is_none_or(|n| m.cluster == n || m.mesh.as_deref() == Some(n)))
        .collect();
    out.sort_by(|a, b| b.mgmt.cmp(&a.mgmt).then(a.cluster.cmp(&b.cluster)));
    out
}

fn mesh_view(
    snap: &Snapshot,
    c: &ClusterView,
    findings: &[crate::inspect::cluster_id::IdFinding],
) -> MeshView {
    let topo = snap.topology.cluster(&c.name);
    let mesh = topo.and_then(|t| t.mesh.as_ref());
    let mesh_name = mesh.map(|m| m.smh_name(&c.name));
    let facts = c.facts.as_ref();
    let mut warnings: Vec<String> = facts.map(|f| f.warnings.clone()).unwrap_or_default();
    if let Some(e) = &c.istiod_error {
        warnings.push(format!("istiod's Deployment could not be read: {e}"));
    }
    let failover_services = match &mesh_name {
        None => Vec::new(),
        Some(mn) => snap
            .failover_services
            .iter()
            .filter(|fs| fs.spec.meshes.iter().flatten().any(|m| &m.name == mn))
            .map(|fs| {
                format!(
                    "{}/{}",
                    fs.metadata.namespace.as_deref().unwrap_or_default(),
                    fs.metadata.name.as_deref().unwrap_or_default()
                )
            })
            .collect(),
    };
    MeshView {
        cluster: c.name.clone(),
        context: c.context.clone(),
        server: c.server.clone(),
        mgmt: c.mgmt,
        reachable: c.error.is_none(),
        error: c.error.clone(),
        kubernetes_version: facts.map(|f| f.kubernetes_version.clone()),
        istiod: mesh.map(|m| format!("{}/{}", m.istiod_namespace, m.istiod_name)),
        istiod_availability: c.istiod.clone(),
        istio_version: mesh.map(|m| m.version.clone()),
        istio_version_assumed: facts.is_some_and(|f| f.istio_version_assumed),
        mode: facts.and_then(|f| f.mode.clone()),
        root_namespace: mesh.map(|m| m.root_namespace.clone()),
        cluster_domain: topo.map(|t| t.cluster_domain.clone()),
        cluster_domain_source: facts.map(|f| f.cluster_domain_source.clone()),
        istio_api_version: facts.and_then(|f| f.istio_api_version.clone()),
        istio_cluster_id: mesh.and_then(|m| m.cluster_id.clone()),
        istio_cluster_id_source: mesh.and(facts).and_then(|f| f.cluster_id_source.clone()),
        remote_secrets: mesh.and(facts).and_then(|f| f.remote_secrets.clone()),
        ambient: mesh.filter(|m| m.ambient).map(|m| super::AmbientMeshView {
            network: m.network.clone(),
            multi_network: m.ambient_multi_network,
            global_scopes: m
                .service_scopes
                .iter()
                .filter(|s| s.scope == crate::model::topology::Scope::Global)
                .count(),
            east_west_gateways: topo
                .map(|t| {
                    t.east_west_gateways
                        .iter()
                        .map(|g| {
                            format!(
                                "{}/{} → {} at {}",
                                g.namespace, g.name, g.network, g.address
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }),
        mesh: mesh_name,
        failover_services,
        warnings,
        problems: findings
            .iter()
            .filter(|f| f.cluster == c.name)
            .map(|f| Problem {
                severity: f.severity,
                message: format!("{}; {}", f.message, f.hint),
            })
            .collect(),
    }
}
