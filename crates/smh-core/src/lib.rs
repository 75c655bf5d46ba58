//! smh-core: the pure layers of kubectl-smh. No network, no tokio, no Kubernetes client:
//! computations on values. The exceptions are at the edges and named: [`model`] reads the
//! manifest files and stdin it is given, and a drill id takes a random suffix.
//!
//! Data flows one way: manifests → [`model`] (parse, validate) → [`translate`] → the cluster
//! I/O crate (`smh-cluster`: apply, status, live state) → rendering in the `kubectl-smh`
//! binary. [`istio`] holds the typed Istio resources translation writes, [`yaml_writer`] the one
//! YAML writer. [`inspect`] judges what the clusters hold (describe, check, drift, SMH
//! status, discovery's pure part) from data the I/O crate collected; [`apply_order`] is the
//! order of apply's writes (new routing objects, then the routes, then the prune); [`drill`] is the
//! drill's plan, state machine, measurements and report, driven by the executor in
//! `smh-drill`.

pub mod apply_order;
pub mod drill;
pub mod inspect;
pub mod istio;
pub mod model;
#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod testing;
pub mod translate;
pub mod yaml_writer;

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
    /// Value of [`MANAGED_BY_LABEL`] on every object kubectl-smh writes.
    pub const MANAGED_BY_VALUE: &str = "kubectl-smh";
    /// Default namespace of SMH objects.
    pub const SMH_NAMESPACE: &str = "service-mesh-hub";
    /// API group of the SMH objects.
    pub const SMH_GROUP: &str = "networking.smh.solo.io";
    /// API version of the SMH objects (in [`SMH_GROUP`]).
    pub const SMH_VERSION: &str = "v1alpha2";
    /// `apiVersion` of the SMH objects: [`SMH_GROUP`]/[`SMH_VERSION`].
    pub const SMH_API_VERSION: &str = "networking.smh.solo.io/v1alpha2";
    /// SMH's annotation on federated (client-side) DestinationRules and VirtualServices,
    /// value `<svc>.<ns>.<cluster>`.
    pub(crate) const FEDERATION_ANNOTATION: &str = "federation.networking.smh.solo.io";
    /// Istio's endpoint label naming the cluster a workload runs in (multi-primary
    /// per-cluster subsets).
    pub(crate) const ISTIO_CLUSTER_LABEL: &str = "topology.istio.io/cluster";
    /// Annotation on a TrafficPolicy that `kubectl smh failover create` made for one or more
    /// FailoverServices: their `namespace/name`, comma-separated (a bare `name` means
    /// `service-mesh-hub/name`). `kubectl smh failover delete --with-policies` deletes such a
    /// policy together with the FailoverService, unless another FailoverService still needs
    /// it.
    pub const CREATED_FOR_ANNOTATION: &str = "failover.kubectl-smh.io/created-for";
    /// Annotation on a FailoverService pinning its translation strategy: `native` or
    /// `aggregate` (`auto`, or no annotation: kubectl-smh chooses; see
    /// `translate::strategy`).
    pub const STRATEGY_ANNOTATION: &str = "failover.kubectl-smh.io/strategy";
    /// Annotation on a Deployment holding the drill's restore plan (JSON, see
    /// `drill::restore::RestorePlan`) while a drill has it broken or may have.
    pub const DRILL_RESTORE_ANNOTATION: &str = "drill.kubectl-smh.io/restore";
}
