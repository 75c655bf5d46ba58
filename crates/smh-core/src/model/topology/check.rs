//! Checking a topology's content: names, versions, duplicates, ports, VirtualMeshes.

use super::*;

impl Topology {
    /// Check a topology's content: names, versions, duplicates, ports, VirtualMeshes.
    /// Returns `(field path, message)` pairs; empty when the topology is fine.
    pub fn check(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen_clusters: std::collections::BTreeMap<&str, usize> = Default::default();
        // Cluster IDs of multi-primary meshes, to find duplicates.
        let mut seen_ids: std::collections::BTreeMap<&str, usize> = Default::default();
        for (ci, cluster) in self.clusters.iter().enumerate() {
            check_cluster(ci, cluster, &mut seen_clusters, &mut out);
            if let Some(mesh) = &cluster.mesh {
                self.check_mesh(ci, mesh, &mut seen_ids, &mut out);
            }
            check_services(ci, cluster, &mut out);
        }
        self.check_virtual_meshes(&mut out);
        out
    }

    /// [`Topology::check`] of a cluster's mesh: version, names, cluster ID (unique among
    /// multi-primary meshes).
    fn check_mesh<'a>(
        &self,
        ci: usize,
        mesh: &'a Mesh,
        seen_ids: &mut std::collections::BTreeMap<&'a str, usize>,
        out: &mut Vec<(String, String)>,
    ) {
        use crate::model::k8s;
        let at = |f: &str| format!("clusters[{ci}]{f}");
        if let Err(e) = mesh.istio_version() {
            out.push((at(".mesh.version"), e));
        }
        for (field, value, label) in [
            (".mesh.istiodName", &mesh.istiod_name, false),
            (".mesh.istiodNamespace", &mesh.istiod_namespace, true),
            (".mesh.rootNamespace", &mesh.root_namespace, true),
        ] {
            let errs = if label {
                k8s::is_dns1123_label(value)
            } else {
                k8s::is_dns1123_subdomain(value)
            };
            if !errs.is_empty() {
                out.push((
                    at(field),
                    format!("Invalid value: {value:?}: {}", errs.join(", ")),
                ));
            }
        }
        for (i, scope) in mesh.service_scopes.iter().enumerate() {
            for (field, sel) in [
                ("namespaceSelector", &scope.namespace_selector),
                ("servicesSelector", &scope.services_selector),
            ] {
                if let Some(sel) = sel
                    && let Err(e) = kube_core::Selector::try_from(sel.clone())
                {
                    out.push((
                        at(&format!(".mesh.serviceScopes[{i}].{field}")),
                        format!(
                            "Invalid value: {e} (istiod skips such an entry, so it makes no Service global)"
                        ),
                    ));
                }
            }
        }
        if let Some(id) = &mesh.cluster_id {
            // It is a label value on every endpoint (`topology.istio.io/cluster`).
            let errs = k8s::is_valid_label_value(id);
            if id.is_empty() {
                out.push((
                    at(".mesh.clusterId"),
                    "Invalid value: \"\": an Istio cluster ID cannot be empty (leave clusterId out when it is not known)".to_string(),
                ));
            } else if !errs.is_empty() {
                out.push((
                    at(".mesh.clusterId"),
                    format!(
                        "Invalid value: {id:?}: {} (it is the value of the endpoint label topology.istio.io/cluster)",
                        errs.join(", ")
                    ),
                ));
            } else if mesh.mode == MultiClusterMode::MultiPrimary
                && let Some(first) = seen_ids.insert(id.as_str(), ci)
            {
                out.push((
                    at(".mesh.clusterId"),
                    format!(
                        "Duplicate value: cluster ID {id:?} is also the cluster ID of clusters[{first}] ({}): Istio labels the endpoints of both topology.istio.io/cluster={id}, so per-cluster subsets cannot tell them apart; every multi-primary cluster needs its own ID",
                        self.clusters[first].name
                    ),
                ));
            }
        }
    }

    /// [`Topology::check`] of the VirtualMeshes: names, duplicates, meshes that exist and
    /// are in one VirtualMesh only.
    fn check_virtual_meshes(&self, out: &mut Vec<(String, String)>) {
        let mesh_names: std::collections::BTreeSet<String> = self
            .clusters
            .iter()
            .filter_map(|c| c.mesh.as_ref().map(|m| m.smh_name(&c.name)))
            .collect();
        let mut grouped: std::collections::BTreeMap<&str, &VirtualMesh> = Default::default();
        let mut seen_vms: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
        for (vi, vm) in self.virtual_meshes.iter().enumerate() {
            let at = |f: &str| format!("virtualMeshes[{vi}]{f}");
            if vm.name.is_empty() {
                out.push((
                    at(".name"),
                    "Required value: a VirtualMesh needs a name".to_string(),
                ));
            }
            if let Some(first) = seen_vms.insert((&vm.namespace, &vm.name), vi) {
                out.push((
                    at(".name"),
                    format!(
                        "Duplicate value: VirtualMesh {}/{} is also virtualMeshes[{first}]",
                        vm.namespace, vm.name
                    ),
                ));
            }
            for (mi, mesh) in vm.meshes.iter().enumerate() {
                if !mesh_names.contains(mesh) {
                    out.push((
                    format!("virtualMeshes[{vi}].meshes[{mi}]"),
                    format!(
                        "mesh {mesh:?} is not a mesh of this topology (meshes are named istiod-<namespace>-<cluster>: {})",
                        if mesh_names.is_empty() {
                            "there are none".to_string()
                        } else {
                            mesh_names.iter().cloned().collect::<Vec<_>>().join(", ")
                        }
                    ),
                ));
                }
                if let Some(existing) = grouped.insert(mesh, vm)
                    && !std::ptr::eq(existing, vm)
                {
                    // SMH's message for a mesh in two VirtualMeshes.
                    out.push((
                    format!("virtualMeshes[{vi}].meshes[{mi}]"),
                    format!(
                        "Includes a Mesh ({mesh}.{}) that already is grouped in a VirtualMesh ({}.{})",
                        crate::consts::SMH_NAMESPACE,
                        existing.name,
                        existing.namespace
                    ),
                ));
                }
            }
        }
    }
}

/// [`Topology::check`] of a cluster's name (valid, unique) and cluster domain.
fn check_cluster<'a>(
    ci: usize,
    cluster: &'a ClusterTopology,
    seen_clusters: &mut std::collections::BTreeMap<&'a str, usize>,
    out: &mut Vec<(String, String)>,
) {
    use crate::model::k8s;
    let at = |f: &str| format!("clusters[{ci}]{f}");
    let errs = crate::model::limits::cluster_name(&cluster.name);
    if cluster.name.is_empty() {
        out.push((
            at(".name"),
            "Required value: a cluster needs a name".to_string(),
        ));
    } else if !errs.is_empty() {
        out.push((
            at(".name"),
            format!("Invalid value: {:?}: {}", cluster.name, errs.join(", ")),
        ));
    }
    if let Some(first) = seen_clusters.insert(&cluster.name, ci) {
        out.push((
            at(".name"),
            format!(
                "Duplicate value: cluster {:?} is also clusters[{first}]",
                cluster.name
            ),
        ));
    }
    let errs = k8s::is_dns1123_subdomain(&cluster.cluster_domain);
    if !errs.is_empty() {
        out.push((
            at(".clusterDomain"),
            format!(
                "Invalid value: {:?}: {}",
                cluster.cluster_domain,
                errs.join(", ")
            ),
        ));
    }
}

/// [`Topology::check`] of a cluster's services: names, duplicates, ports.
fn check_services(ci: usize, cluster: &ClusterTopology, out: &mut Vec<(String, String)>) {
    use crate::model::k8s;
    let mut seen_services: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
    for (si, svc) in cluster.services.iter().enumerate() {
        let at = |f: &str| format!("clusters[{ci}].services[{si}]{f}");
        for (field, value) in [(".name", &svc.name), (".namespace", &svc.namespace)] {
            let errs = k8s::is_dns1123_label(value);
            if !errs.is_empty() {
                out.push((
                    at(field),
                    format!("Invalid value: {value:?}: {}", errs.join(", ")),
                ));
            }
        }
        if let Some(first) = seen_services.insert((&svc.namespace, &svc.name), si) {
            out.push((
                at(".name"),
                format!(
                    "Duplicate value: service {}/{} is also services[{first}] of cluster {:?}",
                    svc.namespace, svc.name, cluster.name
                ),
            ));
        }
        // Kubernetes allows one port number with different protocols (kube-dns: 53/UDP
        // and 53/TCP); only the same number and protocol twice is a duplicate.
        let mut seen_ports: std::collections::BTreeMap<(u32, String), usize> = Default::default();
        for (pi, port) in svc.ports.iter().enumerate() {
            let at = |f: &str| format!("clusters[{ci}].services[{si}].ports[{pi}]{f}");
            let errs = k8s::is_valid_port_num(i64::from(port.port));
            if !errs.is_empty() {
                out.push((
                    at(".port"),
                    format!("Invalid value: {}: {}", port.port, errs.join(", ")),
                ));
            }
            let key = (port.port, port.protocol.to_ascii_uppercase());
            if let Some(first) = seen_ports.insert(key, pi) {
                out.push((
                    at(".port"),
                    format!(
                        "Duplicate value: port {}/{} is also ports[{first}]",
                        port.port, port.protocol
                    ),
                ));
            }
            if !matches!(port.protocol.as_str(), "TCP" | "UDP" | "SCTP") {
                out.push((
                    at(".protocol"),
                    format!(
                        "Unsupported value: {:?}: supported values: \"SCTP\", \"TCP\", \"UDP\"",
                        port.protocol
                    ),
                ));
            }
            if svc.ports.len() > 1 && port.name.is_empty() {
                out.push((
                    at(".name"),
                    "Required value: ports need names when a service has several".to_string(),
                ));
            }
        }
    }
}
