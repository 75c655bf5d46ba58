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
