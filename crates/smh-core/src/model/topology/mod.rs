//! The Topology: what exists in each cluster, as validation and translation need it.
//!
//! Online it comes from discovery (`smh_cluster::discovery` fetches, the pure
//! `smh_core::inspect::discovery` builds it); offline from `--topology FILE` or from defaults
//! derived from the manifests ([`Topology::from_manifests`]).
//! The YAML form is this struct in camelCase; see `examples/topology.yaml` and
//! docs/translation.md.

use serde::{Deserialize, Serialize};

/// All clusters, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Topology {
    /// The clusters, each with its mesh and services.
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
    /// The Istio ambient waypoints of this cluster (see [`Waypoint`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waypoints: Vec<Waypoint>,
    /// The east-west gateways of this cluster that can carry ambient (HBONE) traffic from
    /// other networks (see [`EastWestGateway`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub east_west_gateways: Vec<EastWestGateway>,
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
    /// Whether the mesh runs Istio's ambient data plane (a `ztunnel` DaemonSet in istiod's
    /// namespace).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ambient: bool,
    /// The Istio network of this cluster: the `topology.istio.io/network` label of
    /// istiod's namespace (`values.global.network` at install). `None`: not set, so every
    /// cluster without one is on the same, unnamed network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Whether istiod runs with `AMBIENT_ENABLE_MULTI_NETWORK=true`, Istio's switch for
    /// ambient mode across clusters (1.27 and later). With it, istiod gives a waypoint
    /// another cluster's endpoints of a Service only when the Service is global
    /// ([`Mesh::service_scopes`]), and endpoints on another network only through an
    /// east-west gateway.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ambient_multi_network: bool,
    /// The mesh config's `serviceScopeConfigs`, in order: which Services are global (seen
    /// across clusters in ambient mode). None matches: local. Istio's `ambient` profile sets
    /// one, global for Services labelled `istio.io/global: "true"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_scopes: Vec<ServiceScope>,
}

/// One entry of the mesh config's `serviceScopeConfigs`: the Services whose namespace's
/// labels match `namespaceSelector` and whose own labels match `servicesSelector` get
/// `scope`. An absent selector matches everything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceScope {
    /// Selects namespaces by their labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    /// Selects Services by their labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services_selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    /// `GLOBAL` or `LOCAL`.
    pub scope: Scope,
}

/// A Service's scope in Istio's ambient mode across clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Scope {
    /// Seen only in its own cluster (Istio's default).
    Local,
    /// Seen by every cluster of the mesh.
    Global,
}

/// An east-west gateway as istiod finds one for ambient traffic between networks: a
/// Service labelled `topology.istio.io/network` with port 15008 (HBONE) and an address
/// reachable from outside the cluster (its load balancer's, or an external IP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EastWestGateway {
    /// The Service's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The network it leads into (its `topology.istio.io/network` label).
    pub network: String,
    /// The address other networks reach it at.
    pub address: String,
}

/// How remote services are named and reached: SMH's `.global` hosts (Istio's
/// replicated control planes) or Istio multi-primary's one `svc.cluster.local` host.
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
    /// The Service's name.
    pub name: String,
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's ports; the default topology gives one port, 9080 `http`.
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
    /// Set when the Service's workloads are in Istio's ambient mode (no sidecar: ztunnel
    /// captures their traffic, and a waypoint, if the Service uses one, applies L7 policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ambient: Option<AmbientService>,
    /// The labels of the Service's namespace, which Istio's service scopes select on.
    /// Discovery fills them in clusters whose mesh runs ztunnel.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub namespace_labels: std::collections::BTreeMap<String, String>,
}

/// How an ambient-mode Service is served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AmbientService {
    /// The waypoint the Service uses, as Istio resolves it: the `istio.io/use-waypoint`
    /// label of the Service (`none` opts out), else of its namespace; the waypoint's
    /// namespace is the `istio.io/use-waypoint-namespace` label next to it, else the
    /// Service's. `None`: no waypoint, so nothing applies L7 policy (routes,
    /// DestinationRules) to the Service's traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waypoint: Option<WaypointRef>,
}

/// A reference to a waypoint by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WaypointRef {
    /// The waypoint Gateway's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
}

impl std::fmt::Display for WaypointRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// An Istio waypoint: a Gateway API `Gateway` of class `istio-waypoint` with an address
/// (Istio ignores a Gateway without one, i.e. before its proxy is ready).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Waypoint {
    /// The Gateway's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The traffic it takes (label `istio.io/waypoint-for` on the Gateway, else on its
    /// GatewayClass): `service` (Istio's default), `workload`, `all` or `none`. Only
    /// `service` and `all` waypoints serve Services and ServiceEntries.
    #[serde(default = "default_waypoint_for")]
    pub waypoint_for: String,
    /// The namespaces whose Services and ServiceEntries may use it (its listener's
    /// `allowedRoutes.namespaces`): empty for its own only (Gateway API's default, `Same`),
    /// `["*"]` for all, else the namespaces its selector matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_namespaces: Vec<String>,
}

impl Waypoint {
    /// Whether Services (not only workloads) may use it.
    pub fn serves_services(&self) -> bool {
        matches!(self.waypoint_for.as_str(), "service" | "all")
    }

    /// Whether Services and ServiceEntries of `namespace` may use it.
    pub fn allows_namespace(&self, namespace: &str) -> bool {
        namespace == self.namespace
            || self
                .allowed_namespaces
                .iter()
                .any(|n| n == "*" || n == namespace)
    }
}

fn default_waypoint_for() -> String {
    "service".to_string()
}

/// A port of a Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServicePort {
    /// The port's name; required when a Service has several.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The port number.
    pub port: u32,
    /// `TCP` (default), `UDP` or `SCTP`.
    #[serde(default = "default_tcp")]
    pub protocol: String,
    /// `appProtocol`, which Istio prefers over the name prefix to tell the protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

/// A VirtualMesh grouping meshes, by SMH mesh name (`istiod-istio-system-<cluster>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VirtualMesh {
    /// The VirtualMesh's name.
    pub name: String,
    /// Its namespace; default `service-mesh-hub`.
    #[serde(default = "default_smh_namespace")]
    pub namespace: String,
    /// SMH names of the meshes it groups.
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

    /// The scope this mesh's istiod gives `service` (of any cluster: istiod applies its own
    /// `serviceScopeConfigs` to every cluster's Services, on their own and their namespace's
    /// labels): the first entry whose selectors both match and whose scope is `GLOBAL` makes
    /// it global, as istiod reads them; an entry with a selector that is not valid is
    /// skipped, as istiod skips it.
    pub fn scope_of(&self, service: &Service) -> Scope {
        use kube_core::{Selector, SelectorExt};
        let matches =
            |sel: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
             labels: &std::collections::BTreeMap<String, String>| {
                match sel {
                    None => Some(true),
                    Some(s) => Selector::try_from(s.clone())
                        .ok()
                        .map(|s| s.matches(labels)),
                }
            };
        let global = self.service_scopes.iter().any(|c| {
            c.scope == Scope::Global
                && matches(&c.namespace_selector, &service.namespace_labels) == Some(true)
                && matches(&c.services_selector, &service.labels) == Some(true)
        });
        if global { Scope::Global } else { Scope::Local }
    }
}

impl Topology {
    /// The cluster named `name`, if the topology has it.
    pub fn cluster(&self, name: &str) -> Option<&ClusterTopology> {
        self.clusters.iter().find(|c| c.name == name)
    }
}

impl Service {
    /// Whether the Service's workloads are in the mesh: they have sidecars (or the
    /// discovery annotation says so), or they are in ambient mode.
    pub fn in_mesh(&self) -> bool {
        self.sidecar_workloads || self.ambient.is_some()
    }
}

impl ClusterTopology {
    /// The waypoint `r` of this cluster, if it exists.
    pub fn waypoint(&self, r: &WaypointRef) -> Option<&Waypoint> {
        self.waypoints
            .iter()
            .find(|w| w.name == r.name && w.namespace == r.namespace)
    }

    /// The service `namespace/name` of this cluster, if any.
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
pub(crate) const DEFAULT_ISTIO_VERSION: &str = "1.24.2";
/// The port a default service gets when no manifest names one (bookinfo's `9080`).
pub(crate) const DEFAULT_SERVICE_PORT: u32 = 9080;
/// The name of [`DEFAULT_SERVICE_PORT`].
pub(crate) const DEFAULT_SERVICE_PORT_NAME: &str = "http";
/// The VirtualMesh every mesh belongs to when `virtualMeshes` is empty.
pub(crate) const DEFAULT_VIRTUAL_MESH: &str = "virtual-mesh";

/// Problems with a topology file.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The file cannot be read.
    #[error("cannot read topology file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid topology.
    #[error("invalid topology file {path}:{}", format_problems(.problems))]
    Invalid {
        /// The file.
        path: String,
        /// Every problem, with the field and position.
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
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
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
    pub(crate) fn default_istio() -> Mesh {
        Mesh {
            istiod_name: default_istiod_name(),
            istiod_namespace: default_istio_namespace(),
            version: DEFAULT_ISTIO_VERSION.to_string(),
            root_namespace: default_istio_namespace(),
            mode: MultiClusterMode::Global,
            cluster_id: None,
            ambient: false,
            network: None,
            ambient_multi_network: false,
            service_scopes: Vec::new(),
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
        use super::yaml_reader;
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
        let text = yaml_reader::decode_text(bytes)
            .map_err(|e| invalid(vec![diag(None, e.position, e.message)]))?;
        let docs = yaml_reader::split_documents(text);
        let mut nodes = Vec::new();
        for doc in &docs {
            match yaml_reader::parse_document(doc) {
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
                let path = super::yaml_reader::parse_path(&field);
                let position = Some(node.locate(&path, false));
                diag(Some(field), position, message)
            })
            .collect();
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(topology.sorted())
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
    pub(crate) fn find_mesh(
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
    pub(crate) fn virtual_mesh_of(&self, mesh_name: &str) -> Option<(String, String)> {
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
}

mod check;
mod offline;
#[cfg(test)]
mod tests;
