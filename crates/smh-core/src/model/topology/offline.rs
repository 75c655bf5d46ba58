//! The topology `validate` assumes when none is given: what the manifests reference.

use super::*;

impl Topology {
    /// Defaults derived from manifests, for when no topology file is given:
    ///
    /// - every cluster the manifests name (FailoverService backing services,
    ///   `kubeServiceRefs`, `kubeServiceMatcher.clusters`, traffic shift and mirror
    ///   `kubeService` destinations, `sourceSelector.clusters`), each with the mesh `istiod`
    ///   in `istio-system` (SMH name `istiod-istio-system-<cluster>`), root namespace
    ///   `istio-system`, Istio [`DEFAULT_ISTIO_VERSION`], mode `global` (as in the guide),
    ///   cluster domain `cluster.local`;
    /// - every service the manifests name (backing services, `kubeServiceRefs`, shift and
    ///   mirror destinations), as existing with sidecar workloads, labelled
    ///   `app: <name>` and `service: <name>` (bookinfo's convention);
    /// - its ports: the port of every FailoverService it backs plus every port a shift or
    ///   mirror destination names; if none, [`DEFAULT_SERVICE_PORT`] `http`. A single port
    ///   is named after the FailoverService's protocol (lower case) or `http`; several are
    ///   named `<protocol>-<port>`;
    /// - no `virtualMeshes`: all meshes form one VirtualMesh.
    ///
    /// Sorted (clusters by name, services by namespace/name, ports by number).
    pub fn from_manifests(manifests: &[crate::model::Manifest]) -> Topology {
        let (services, mut clusters) = referenced_services(manifests);
        clusters.extend(services.keys().cloned());
        let clusters = clusters
            .into_iter()
            .map(|name| {
                let svcs = services
                    .get(&name)
                    .map(|svcs| {
                        svcs.iter()
                            .map(|((namespace, svc_name), ports)| {
                                offline_service(namespace, svc_name, ports)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                ClusterTopology {
                    east_west_gateways: Vec::new(),
                    waypoints: Vec::new(),
                    name,
                    context: None,
                    cluster_domain: default_cluster_domain(),
                    mesh: Some(Mesh::default_istio()),
                    services: svcs,
                }
            })
            .collect();
        Topology {
            clusters,
            virtual_meshes: Vec::new(),
        }
        .sorted()
    }
}

/// Services and clusters the manifests name: cluster -> (namespace, name) -> port ->
/// protocol name, and the clusters that selectors name without a service.
fn referenced_services(
    manifests: &[crate::model::Manifest],
) -> (ServicesByCluster, std::collections::BTreeSet<String>) {
    use crate::model::SmhObject;
    let mut services: ServicesByCluster = std::collections::BTreeMap::new();
    let mut clusters: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for m in manifests {
        match &m.object {
            SmhObject::FailoverService(fs) => {
                let port = fs.spec.port.as_ref().map(|p| {
                    let proto = p.protocol.to_ascii_lowercase();
                    (
                        p.number,
                        if proto.is_empty() {
                            DEFAULT_SERVICE_PORT_NAME.to_string()
                        } else {
                            proto
                        },
                    )
                });
                for b in &fs.spec.backing_services {
                    if let Some(k) = &b.kube_service {
                        add_service(
                            &mut services,
                            &k.name,
                            &k.namespace,
                            &k.cluster_name,
                            port.clone(),
                        );
                    }
                }
            }
            SmhObject::TrafficPolicy(tp) => {
                for sel in &tp.spec.destination_selector {
                    if let Some(refs) = &sel.kube_service_refs {
                        for r in &refs.services {
                            add_service(
                                &mut services,
                                &r.name,
                                &r.namespace,
                                &r.cluster_name,
                                None,
                            );
                        }
                    }
                    if let Some(m) = &sel.kube_service_matcher {
                        clusters.extend(m.clusters.iter().filter(|c| !c.is_empty()).cloned());
                    }
                }
                for sel in &tp.spec.source_selector {
                    clusters.extend(sel.clusters.iter().filter(|c| !c.is_empty()).cloned());
                }
                if let Some(shift) = &tp.spec.traffic_shift {
                    for d in &shift.destinations {
                        if let Some(k) = &d.kube_service {
                            let port = (k.port != 0)
                                .then(|| (k.port, DEFAULT_SERVICE_PORT_NAME.to_string()));
                            add_service(
                                &mut services,
                                &k.name,
                                &k.namespace,
                                &k.cluster_name,
                                port,
                            );
                        }
                    }
                }
                if let Some(mirror) = &tp.spec.mirror
                    && let Some(k) = &mirror.kube_service
                {
                    let port = (mirror.port != 0)
                        .then(|| (mirror.port, DEFAULT_SERVICE_PORT_NAME.to_string()));
                    add_service(&mut services, &k.name, &k.namespace, &k.cluster_name, port);
                }
            }
        }
    }
    (services, clusters)
}

/// Record a service (and a port, when known and valid) that a manifest names; incomplete
/// references are skipped.
fn add_service(
    services: &mut ServicesByCluster,
    name: &str,
    namespace: &str,
    cluster: &str,
    port: Option<(u32, String)>,
) {
    if name.is_empty() || namespace.is_empty() || cluster.is_empty() {
        return;
    }
    let ports = services
        .entry(cluster.to_string())
        .or_default()
        .entry((namespace.to_string(), name.to_string()))
        .or_default();
    if let Some((number, proto)) = port
        && number > 0
        && number <= 65535
    {
        ports.entry(number).or_insert(proto);
    }
}

/// The Service an offline topology assumes for a referenced service: the ports the
/// manifests name (or the default port), sidecar workloads, labels `app` and `service`.
fn offline_service(
    namespace: &str,
    svc_name: &str,
    ports: &std::collections::BTreeMap<u32, String>,
) -> Service {
    let ports: Vec<ServicePort> = if ports.is_empty() {
        vec![ServicePort {
            name: DEFAULT_SERVICE_PORT_NAME.to_string(),
            port: DEFAULT_SERVICE_PORT,
            protocol: default_tcp(),
            app_protocol: None,
        }]
    } else {
        let several = ports.len() > 1;
        ports
            .iter()
            .map(|(number, proto)| ServicePort {
                name: if several {
                    format!("{proto}-{number}")
                } else {
                    proto.clone()
                },
                port: *number,
                protocol: default_tcp(),
                app_protocol: None,
            })
            .collect()
    };
    Service {
        namespace_labels: Default::default(),
        ambient: None,
        name: svc_name.to_string(),
        namespace: namespace.to_string(),
        ports,
        sidecar_workloads: true,
        labels: [
            ("app".to_string(), svc_name.to_string()),
            ("service".to_string(), svc_name.to_string()),
        ]
        .into_iter()
        .collect(),
        // Unknown offline; discovery fills it in.
        selector: std::collections::BTreeMap::new(),
    }
}
