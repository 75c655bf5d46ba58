//! The Topology: what exists in each cluster, as validation and translation need it.
//!
//! Online it comes from discovery (`cluster::discovery`); offline from `--topology FILE` or
//! from defaults derived from the manifests (see [`Topology::from_manifests`] once written).
//! The YAML form is this struct in camelCase; see `examples/topology.yaml` and the README.

use serde::{Deserialize, Serialize};

/// All clusters, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Topology {
    pub clusters: Vec<ClusterTopology>,
    /// Groups of meshes federated together (SMH's VirtualMesh). Empty means every mesh of
    /// the topology is in one VirtualMesh named `virtual-mesh.service-mesh-hub.`, as after
    /// the guide's prerequisites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_meshes: Vec<VirtualMesh>,
}

/// One cluster, as SMH registered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterTopology {
    /// The SMH cluster name (`clusterName` in manifests).
    pub name: String,
    /// The kubeconfig context that served this cluster, when discovered online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The Kubernetes cluster domain; `cluster.local` unless set.
    #[serde(default = "default_cluster_domain")]
    pub cluster_domain: String,
    /// The Istio control plane in this cluster, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh: Option<Mesh>,
    /// Services that exist in this cluster.
    #[serde(default)]
    pub services: Vec<Service>,
}

/// An Istio mesh: one istiod deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mesh {
    /// The istiod Deployment's name (`istiod`).
    #[serde(default = "default_istiod_name")]
    pub istiod_name: String,
    /// The istiod Deployment's namespace (`istio-system`).
    #[serde(default = "default_istio_namespace")]
    pub istiod_namespace: String,
    /// Istio version, e.g. `1.24.2` (decides the Envoy aggregate config type).
    pub version: String,
    /// Istio root namespace, where mesh-wide EnvoyFilters go (`istio-system`).
    #[serde(default = "default_istio_namespace")]
    pub root_namespace: String,
    /// Multi-cluster mode of this mesh.
    #[serde(default)]
    pub mode: MultiClusterMode,
    /// Istio's cluster ID for this cluster (istiod's `CLUSTER_ID`, set from
    /// `values.global.multiCluster.clusterName`; `Kubernetes` when that is not set). Istio
    /// labels this cluster's endpoints `topology.istio.io/cluster: <ID>`, which multi-primary
    /// subsets select on. `None` (unknown): the SMH cluster name is assumed, with a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
}

/// How remote services are named and reached (DESIGN §3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MultiClusterMode {
    /// SMH's federated `.global` names: `name.ns.svc.<cluster>.global`.
    #[default]
    Global,
    /// Istio multi-primary: one `name.ns.svc.cluster.local` with endpoints from all clusters;
    /// per-cluster subsets on `topology.istio.io/cluster`.
    MultiPrimary,
}

/// A Kubernetes Service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Service {
    pub name: String,
    pub namespace: String,
    #[serde(default)]
    pub ports: Vec<ServicePort>,
    /// Whether pods with an Istio sidecar back this service (SMH's meaning of "exists": a
    /// TrafficTarget is discovered only then, or with `discovery.smh.solo.io/enabled`).
    #[serde(default = "default_true")]
    pub sidecar_workloads: bool,
    /// Service labels (used by `kubeServiceMatcher`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
    /// The Service's pod selector (`spec.selector`): which workloads back it (the drill
    /// breaks the deployments whose pod labels match it).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub selector: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub port: u32,
    /// `TCP` (default), `UDP` or `SCTP`.
    #[serde(default = "default_tcp")]
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

/// A VirtualMesh grouping meshes, by SMH mesh name (`istiod-istio-system-<cluster>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VirtualMesh {
    pub name: String,
    #[serde(default = "default_smh_namespace")]
    pub namespace: String,
    pub meshes: Vec<String>,
}

fn default_cluster_domain() -> String {
    "cluster.local".to_string()
}
fn default_istiod_name() -> String {
    "istiod".to_string()
}
fn default_istio_namespace() -> String {
    "istio-system".to_string()
}
fn default_smh_namespace() -> String {
    crate::consts::SMH_NAMESPACE.to_string()
}
fn default_tcp() -> String {
    "TCP".to_string()
}
fn default_true() -> bool {
    true
}

impl Mesh {
    /// SMH's mesh name: `<istiod>-<istiod namespace>-<cluster>` (e.g.
    /// `istiod-istio-system-mgmt-cluster`), discovered in the SMH namespace.
    pub fn smh_name(&self, cluster: &str) -> String {
        format!("{}-{}-{}", self.istiod_name, self.istiod_namespace, cluster)
    }

    /// The Istio cluster ID of the mesh in `cluster`: [`Mesh::cluster_id`], or the SMH
    /// cluster name when it is unknown.
    pub fn istio_cluster_id<'a>(&'a self, cluster: &'a str) -> &'a str {
        self.cluster_id.as_deref().unwrap_or(cluster)
    }
}

impl Topology {
    pub fn cluster(&self, name: &str) -> Option<&ClusterTopology> {
        self.clusters.iter().find(|c| c.name == name)
    }
}

impl ClusterTopology {
    pub fn service(&self, name: &str, namespace: &str) -> Option<&Service> {
        self.services
            .iter()
            .find(|s| s.name == name && s.namespace == namespace)
    }
}

// ---------------------------------------------------------------------------------------
// Loading, defaults and checks.
// ---------------------------------------------------------------------------------------

/// The Istio version assumed when the topology does not say (a current release, so the
/// Envoy v3 aggregate cluster type is generated).
pub const DEFAULT_ISTIO_VERSION: &str = "1.24.2";
/// The port a default service gets when no manifest names one (bookinfo's `9080`).
pub const DEFAULT_SERVICE_PORT: u32 = 9080;
/// The name of [`DEFAULT_SERVICE_PORT`].
pub const DEFAULT_SERVICE_PORT_NAME: &str = "http";
/// The VirtualMesh every mesh belongs to when `virtualMeshes` is empty.
pub const DEFAULT_VIRTUAL_MESH: &str = "virtual-mesh";

/// Problems with a topology file.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("cannot read topology file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid topology file {path}:{}", format_problems(.problems))]
    Invalid {
        path: String,
        problems: Vec<super::Diagnostic>,
    },
}

impl TopologyError {
    /// The problems as diagnostics (one for a read error).
    pub fn diagnostics(&self) -> Vec<super::Diagnostic> {
        match self {
            TopologyError::Read { path, source } => vec![super::Diagnostic {
                severity: super::Severity::Error,
                source: Some(super::Source {
                    file: path.clone(),
                    doc: 0,
                    line: None,
                }),
                object: None,
                field: None,
                position: None,
                message: format!("cannot read topology file: {source}"),
                status_target: None,
            }],
            TopologyError::Invalid { problems, .. } => problems.clone(),
        }
    }
}

fn format_problems(problems: &[super::Diagnostic]) -> String {
    let mut out = String::new();
    for p in problems {
        out.push_str("\n  ");
        if let Some(field) = &p.field {
            out.push_str(field);
            out.push_str(": ");
        }
        out.push_str(&p.message);
        if let Some((l, c)) = p.position {
            out.push_str(&format!(" (line {l}, column {c})"));
        }
    }
    out
}

/// cluster -> (namespace, name) -> port number -> port name, for [`Topology::from_manifests`].
type ServicesByCluster = std::collections::BTreeMap<
    String,
    std::collections::BTreeMap<(String, String), std::collections::BTreeMap<u32, String>>,
>;

/// A parsed Istio version (`1.24.2`, `v1.8`, `1.25.0-beta.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IstioVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl IstioVersion {
    /// Parse `MAJOR.MINOR[.PATCH]`, with an optional leading `v` and an optional `-suffix`
    /// or `+build`.
    pub fn parse(s: &str) -> Result<IstioVersion, String> {
        let bad = || {
            format!(
                "invalid Istio version {s:?}: expected MAJOR.MINOR.PATCH, e.g. {DEFAULT_ISTIO_VERSION}"
            )
        };
        let core = s.strip_prefix('v').unwrap_or(s);
        let core = core.split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<&str> = core.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let num = |p: &str| -> Result<u32, String> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let v = IstioVersion {
            major: num(parts[0])?,
            minor: num(parts[1])?,
            patch: match parts.get(2) {
                Some(p) => num(p)?,
                None => 0,
            },
        };
        if v.major != 1 {
            return Err(format!(
                "unsupported Istio version {s:?}: only Istio 1.x exists"
            ));
        }
        Ok(v)
    }
}

impl Mesh {
    /// The parsed [`Mesh::version`].
    pub fn istio_version(&self) -> Result<IstioVersion, String> {
        IstioVersion::parse(&self.version)
    }

    /// The default mesh of a cluster: `istiod` in `istio-system`, root namespace
    /// `istio-system`, Istio [`DEFAULT_ISTIO_VERSION`], mode `global`.
    pub fn default_istio() -> Mesh {
        Mesh {
            istiod_name: default_istiod_name(),
            istiod_namespace: default_istio_namespace(),
            version: DEFAULT_ISTIO_VERSION.to_string(),
            root_namespace: default_istio_namespace(),
            mode: MultiClusterMode::Global,
            cluster_id: None,
        }
    }
}

impl Topology {
    /// Read and check a topology file (YAML or JSON). Every problem is reported, each with
    /// its field path (`clusters[1].services[0].ports[0].port`) and position.
    pub fn load(path: &std::path::Path) -> Result<Topology, TopologyError> {
        let label = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| TopologyError::Read {
            path: label.clone(),
            source,
        })?;
        Topology::parse_bytes(&label, &bytes)
    }

    /// Parse and check a topology from memory; `label` names it in errors.
    pub fn parse_bytes(label: &str, bytes: &[u8]) -> Result<Topology, TopologyError> {
        use super::yaml;
        let invalid = |problems: Vec<super::Diagnostic>| TopologyError::Invalid {
            path: label.to_string(),
            problems,
        };
        let diag = |field: Option<String>, position: Option<(usize, usize)>, message: String| {
            super::Diagnostic {
                severity: super::Severity::Error,
                source: Some(super::Source {
                    file: label.to_string(),
                    doc: 0,
                    line: None,
                }),
                object: None,
                field,
                position,
                message,
                status_target: None,
            }
        };
        let text = yaml::decode_text(bytes)
            .map_err(|e| invalid(vec![diag(None, e.position, e.message)]))?;
        let docs = yaml::split_documents(text);
        let mut nodes = Vec::new();
        for doc in &docs {
            match yaml::parse_document(doc) {
                Ok(Some(node)) => nodes.push(node),
                Ok(None) => {}
                Err(e) => {
                    return Err(invalid(vec![diag(None, e.position, e.describe())]));
                }
            }
        }
        let node = match nodes.len() {
            1 => nodes.remove(0),
            0 => {
                return Err(invalid(vec![diag(
                    None,
                    None,
                    "the topology file is empty".to_string(),
                )]));
            }
            n => {
                return Err(invalid(vec![diag(
                    None,
                    nodes.get(1).map(|n| (n.line, n.col)),
                    format!("the topology file must hold one document, found {n}"),
                )]));
            }
        };
        let topology: Topology = super::parse::decode_all(&node).map_err(|errors| {
            invalid(
                errors
                    .into_iter()
                    .map(|e| diag(Some(e.field), e.position, e.message))
                    .collect(),
            )
        })?;
        let problems: Vec<super::Diagnostic> = topology
            .check()
            .into_iter()
            .map(|(field, message)| {
                let path = super::yaml::parse_path(&field);
                let position = Some(node.locate(&path, false));
                diag(Some(field), position, message)
            })
            .collect();
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(topology.sorted())
    }

    /// Check a topology's content: names, versions, duplicates, ports, VirtualMeshes.
    /// Returns `(field path, message)` pairs; empty when the topology is fine.
    pub fn check(&self) -> Vec<(String, String)> {
        use super::k8s;
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen_clusters: std::collections::BTreeMap<&str, usize> = Default::default();
        // Cluster IDs of multi-primary meshes, to find duplicates.
        let mut seen_ids: std::collections::BTreeMap<&str, usize> = Default::default();
        for (ci, cluster) in self.clusters.iter().enumerate() {
            let at = |f: &str| format!("clusters[{ci}]{f}");
            let errs = super::limits::cluster_name(&cluster.name);
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
            if let Some(mesh) = &cluster.mesh {
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
            let mut seen_services: std::collections::BTreeMap<(&str, &str), usize> =
                Default::default();
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
                let mut seen_ports: std::collections::BTreeMap<(u32, String), usize> =
                    Default::default();
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
                            "Required value: ports need names when a service has several"
                                .to_string(),
                        ));
                    }
                }
            }
        }
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
        out
    }

    /// Clusters by name, services by namespace and name, ports by number: the canonical,
    /// deterministic order.
    pub fn sorted(mut self) -> Topology {
        self.clusters.sort_by(|a, b| a.name.cmp(&b.name));
        for c in &mut self.clusters {
            c.services
                .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
            for s in &mut c.services {
                s.ports.sort_by_key(|p| p.port);
            }
        }
        self
    }

    /// The cluster whose mesh has the SMH name `mesh_name` in namespace `mesh_namespace`
    /// (meshes are discovered into `service-mesh-hub`).
    pub fn find_mesh(
        &self,
        mesh_name: &str,
        mesh_namespace: &str,
    ) -> Option<(&ClusterTopology, &Mesh)> {
        if mesh_namespace != crate::consts::SMH_NAMESPACE {
            return None;
        }
        self.clusters.iter().find_map(|c| {
            c.mesh
                .as_ref()
                .filter(|m| m.smh_name(&c.name) == mesh_name)
                .map(|m| (c, m))
        })
    }

    /// The VirtualMesh (`name`, `namespace`) grouping the mesh `mesh_name`, if any. With no
    /// `virtualMeshes`, every mesh of the topology is in [`DEFAULT_VIRTUAL_MESH`].
    pub fn virtual_mesh_of(&self, mesh_name: &str) -> Option<(String, String)> {
        if self.virtual_meshes.is_empty() {
            let exists = self.clusters.iter().any(|c| {
                c.mesh
                    .as_ref()
                    .is_some_and(|m| m.smh_name(&c.name) == mesh_name)
            });
            return exists.then(|| {
                (
                    DEFAULT_VIRTUAL_MESH.to_string(),
                    crate::consts::SMH_NAMESPACE.to_string(),
                )
            });
        }
        self.virtual_meshes
            .iter()
            .find(|vm| vm.meshes.iter().any(|m| m == mesh_name))
            .map(|vm| (vm.name.clone(), vm.namespace.clone()))
    }

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
    pub fn from_manifests(manifests: &[super::Manifest]) -> Topology {
        use std::collections::{BTreeMap, BTreeSet};

        use super::SmhObject;

        // cluster -> (namespace, name) -> port -> protocol name
        let mut services: ServicesByCluster = BTreeMap::new();
        let mut clusters: BTreeSet<String> = BTreeSet::new();
        let add_service = |services: &mut ServicesByCluster,
                           name: &str,
                           namespace: &str,
                           cluster: &str,
                           port: Option<(u32, String)>| {
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
        };
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
        clusters.extend(services.keys().cloned());
        let clusters = clusters
            .into_iter()
            .map(|name| {
                let svcs = services
                    .get(&name)
                    .map(|svcs| {
                        svcs.iter()
                            .map(|((namespace, svc_name), ports)| {
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
                                    name: svc_name.clone(),
                                    namespace: namespace.clone(),
                                    ports,
                                    sidecar_workloads: true,
                                    labels: [
                                        ("app".to_string(), svc_name.clone()),
                                        ("service".to_string(), svc_name.clone()),
                                    ]
                                    .into_iter()
                                    .collect(),
                                    // Unknown offline; discovery fills it in.
                                    selector: BTreeMap::new(),
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                ClusterTopology {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse::parse_str;

    const EXAMPLE: &str = include_str!("../../../../examples/topology.yaml");

    #[test]
    fn example_topology_loads() {
        let t = Topology::parse_bytes("examples/topology.yaml", EXAMPLE.as_bytes()).expect("valid");
        let names: Vec<&str> = t.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["mgmt-cluster", "remote-cluster"]);
        let mgmt = t.cluster("mgmt-cluster").unwrap();
        let svcs: Vec<&str> = mgmt.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(svcs, vec!["details", "productpage", "ratings", "reviews"]);
        let remote = t.cluster("remote-cluster").unwrap();
        assert_eq!(remote.services.len(), 2);
        for s in mgmt.services.iter().chain(&remote.services) {
            assert_eq!(s.ports.len(), 1);
            assert_eq!((s.ports[0].port, s.ports[0].name.as_str()), (9080, "http"));
            assert!(s.sidecar_workloads);
        }
        assert_eq!(
            t.find_mesh("istiod-istio-system-remote-cluster", "service-mesh-hub")
                .map(|(c, _)| c.name.as_str()),
            Some("remote-cluster")
        );
        let remote_mesh = remote.mesh.as_ref().unwrap();
        assert_eq!(remote_mesh.cluster_id.as_deref(), Some("cluster2"));
        assert_eq!(remote_mesh.istio_cluster_id("remote-cluster"), "cluster2");
        // Without clusterId, the SMH cluster name stands in.
        assert_eq!(Mesh::default_istio().istio_cluster_id("c"), "c");
    }

    #[test]
    fn defaults_from_the_guide() {
        let mut manifests = Vec::new();
        for f in [
            "1-outlier-detection.yaml",
            "2-failover-service.yaml",
            "3-traffic-shift.yaml",
        ] {
            let path = format!("{}/../../examples/guide/{f}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            manifests.extend(parse_str(&path, &text).manifests);
        }
        let t = Topology::from_manifests(&manifests);
        assert!(t.check().is_empty());
        assert_eq!(t.clusters.len(), 2);
        for c in &t.clusters {
            assert_eq!(c.cluster_domain, "cluster.local");
            let mesh = c.mesh.as_ref().unwrap();
            assert_eq!(
                mesh.smh_name(&c.name),
                format!("istiod-istio-system-{}", c.name)
            );
            assert_eq!(mesh.version, DEFAULT_ISTIO_VERSION);
            assert_eq!(mesh.mode, MultiClusterMode::Global);
            assert_eq!(c.services.len(), 1);
            let s = &c.services[0];
            assert_eq!(
                (s.name.as_str(), s.namespace.as_str()),
                ("reviews", "bookinfo")
            );
            assert_eq!(
                s.ports,
                vec![ServicePort {
                    name: "http".into(),
                    port: 9080,
                    protocol: "TCP".into(),
                    app_protocol: None
                }]
            );
        }
        assert_eq!(
            t.virtual_mesh_of("istiod-istio-system-mgmt-cluster"),
            Some(("virtual-mesh".into(), "service-mesh-hub".into()))
        );
    }

    #[test]
    fn rejects_bad_topologies_with_fields() {
        let bad = "clusters:\n- name: a\n  mesh: {version: banana}\n  services:\n  - {name: s, namespace: ns, ports: [{port: 70000}, {port: 70000, protocol: tcp}]}\n  - {name: s, namespace: ns}\n- name: a\n  colour: blue\nvirtualMeshes:\n- name: vm\n  meshes: [istiod-istio-system-b]\n";
        let err = Topology::parse_bytes("t.yaml", bad.as_bytes()).unwrap_err();
        let TopologyError::Invalid { problems, .. } = &err else {
            panic!("{err}")
        };
        let fields: Vec<&str> = problems.iter().filter_map(|p| p.field.as_deref()).collect();
        assert_eq!(
            fields,
            vec!["clusters[1].colour"],
            "unknown fields first: {problems:?}"
        );
        let bad = bad.replace("  colour: blue\n", "");
        let err = Topology::parse_bytes("t.yaml", bad.as_bytes()).unwrap_err();
        let TopologyError::Invalid { problems, .. } = &err else {
            panic!("{err}")
        };
        let fields: Vec<&str> = problems.iter().filter_map(|p| p.field.as_deref()).collect();
        for f in [
            "clusters[0].mesh.version",
            "clusters[0].services[0].ports[0].port",
            "clusters[0].services[0].ports[1].port",
            "clusters[0].services[0].ports[1].protocol",
            "clusters[0].services[0].ports[0].name",
            "clusters[0].services[1].name",
            "clusters[1].name",
            "virtualMeshes[0].meshes[0]",
        ] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
        assert!(
            err.to_string().contains("invalid Istio version \"banana\""),
            "{err}"
        );
        assert!(problems.iter().all(|p| p.position.is_some()));
    }

    #[test]
    fn readme_topology_example_loads() {
        let readme = include_str!("../../../../docs/translation.md");
        let section = readme
            .split("## Topology file")
            .nth(1)
            .expect("README section");
        let yaml = section
            .split("```yaml\n")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .expect("yaml block");
        let t =
            Topology::parse_bytes("README.md", yaml.as_bytes()).expect("README example is valid");
        assert_eq!(t.clusters.len(), 2);
        assert_eq!(t.virtual_meshes.len(), 1);
    }

    #[test]
    fn mesh_in_two_virtual_meshes() {
        let t = "clusters:\n- name: a\n  mesh: {version: 1.8.0}\nvirtualMeshes:\n- {name: one, meshes: [istiod-istio-system-a]}\n- {name: two, meshes: [istiod-istio-system-a]}\n";
        let err = Topology::parse_bytes("t.yaml", t.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("Includes a Mesh (istiod-istio-system-a.service-mesh-hub) that already is grouped in a VirtualMesh (one.service-mesh-hub)"), "{err}");
    }

    #[test]
    fn versions() {
        assert_eq!(
            IstioVersion::parse("1.24.2"),
            Ok(IstioVersion {
                major: 1,
                minor: 24,
                patch: 2
            })
        );
        assert_eq!(
            IstioVersion::parse("v1.8"),
            Ok(IstioVersion {
                major: 1,
                minor: 8,
                patch: 0
            })
        );
        assert_eq!(
            IstioVersion::parse("1.25.0-beta.1").map(|v| v.minor),
            Ok(25)
        );
        for bad in ["", "1", "1.x", "2.0.0", "1.2.3.4", "latest"] {
            assert!(IstioVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
