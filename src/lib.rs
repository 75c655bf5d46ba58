//! kubectl-smh: Service Mesh Hub style priority failover across Istio clusters.
//!
//! Data flows one way: manifests → [`model`] (parse, validate) → [`translate`] (pure) →
//! [`cluster`] (apply, status) → [`render`]. The drill is a pure plan and state machine in
//! [`drill`] driven by an executor. [`sim`] serves simulated clusters over the real
//! Kubernetes HTTP API. Only [`cli`] prints or prompts.

pub mod cli;
pub mod cluster;
pub mod drill;
pub mod istio;
pub mod model;
pub mod render;
pub mod sim;
pub mod translate;

/// Constants shared by every layer: field manager, labels, annotations.
pub mod consts {
    /// Field manager used for server-side apply.
    pub const FIELD_MANAGER: &str = "kubectl-smh";
    /// SMH's owner label; value is the SMH namespace.
    pub const OWNER_LABEL: &str = "owner.networking.smh.solo.io";
    /// skv2's cluster label, set to the target cluster of a generated object.
    pub const CLUSTER_LABEL: &str = "cluster.multicluster.solo.io";
    /// Standard managed-by label, set to [`MANAGED_BY_VALUE`].
    pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
    pub const MANAGED_BY_VALUE: &str = "kubectl-smh";
    /// Default namespace of SMH objects.
    pub const SMH_NAMESPACE: &str = "service-mesh-hub";
    /// API group and version of the SMH objects.
    pub const SMH_GROUP: &str = "networking.smh.solo.io";
    pub const SMH_VERSION: &str = "v1alpha2";
    pub const SMH_API_VERSION: &str = "networking.smh.solo.io/v1alpha2";
    /// SMH's annotation on federated (client-side) DestinationRules and VirtualServices,
    /// value `<svc>.<ns>.<cluster>`.
    pub const FEDERATION_ANNOTATION: &str = "federation.networking.smh.solo.io";
    /// Istio's endpoint label naming the cluster a workload runs in (multi-primary
    /// per-cluster subsets).
    pub const ISTIO_CLUSTER_LABEL: &str = "topology.istio.io/cluster";
    /// Annotation on a TrafficPolicy that `kubectl smh failover create` made for one or more
    /// FailoverServices: their `namespace/name`, comma-separated (a bare `name` means
    /// `service-mesh-hub/name`). `kubectl smh failover delete --with-policies` deletes such a
    /// policy together with the FailoverService, unless another FailoverService still needs
    /// it.
    pub const CREATED_FOR_ANNOTATION: &str = "failover.kubectl-smh.io/created-for";
    /// Annotation on a Deployment holding the drill's restore plan (JSON, see
    /// `drill::restore::RestorePlan`) while a drill has it broken or may have.
    pub const DRILL_RESTORE_ANNOTATION: &str = "drill.kubectl-smh.io/restore";
}
