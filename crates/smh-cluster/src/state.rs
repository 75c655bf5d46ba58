//! The live state: what the SMH objects in the management cluster ask for, what the clusters
//! look like, what kubectl-smh would generate from it, and what it generated before.
//!
//! [`load_state`] reads it in one concurrent sweep:
//!
//! 1. **Management cluster** (one round of concurrent requests): every FailoverService and
//!    TrafficPolicy in all namespaces, and the topology cache (ConfigMap
//!    [`TOPOLOGY_CACHE`](smh_core::inspect::state::TOPOLOGY_CACHE) in `service-mesh-hub`, see [`TopologyCache`]). A missing SMH CRD
//!    fails the load with [`ClusterError::SmhCrdsMissing`] ("run `kubectl smh install`").
//! 2. **Every cluster at once**: discovery ([`crate::discovery`]) and, at the same time, the
//!    generated objects this tool left there: DestinationRules, VirtualServices,
//!    ServiceEntries and EnvoyFilters in all namespaces carrying **both**
//!    `app.kubernetes.io/managed-by=kubectl-smh` and `owner.networking.smh.solo.io=service-mesh-hub`.
//!    Objects with only SMH's owner label (what SMH's own controller or a VirtualMesh
//!    federation wrote) are not ours and are never listed.
//!
//! Which clusters: every cluster the SMH objects name (backing services, destination
//! selectors, source selectors, shift and mirror destinations, and the clusters of the meshes
//! in `spec.meshes`), those in the topology cache (clusters written to before, so that
//! objects left there can still be pruned), [`StateOptions::extra_clusters`], every cluster
//! `--cluster` maps, and with [`StateOptions::include_registered`] every cluster the registry
//! maps.
//!
//! A user who may not list in all namespaces (RoleBindings only) still gets a state: each
//! list that is forbidden in all namespaces falls back to the namespaces the input names
//! ([`crate::discovery::list_in_scope`]): the SMH objects are read from `service-mesh-hub`,
//! [`StateOptions::smh_namespaces`] and the overlay's namespaces; discovery lists where the
//! objects point in each cluster (`smh_core::inspect::state::input_namespaces`); generated objects are listed there
//! and in the SMH namespaces, and then in any namespace an expected object lives in. Each
//! fallback adds a warning to the cluster's discovery facts (generated objects outside the
//! listed namespaces cannot be seen, so they are neither reported nor pruned).
//!
//! One cluster failing does not fail the load: its error is kept in [`LiveState::errors`]
//! (and a name without a context in [`LiveState::unresolved`]). When discovery of a cluster
//! fails, its last discovered topology from the cache stands in for it (listed in
//! [`LiveState::stale`]), as SMH's discovery objects outlived an unreachable cluster.
//!
//! Then, purely: the stored objects merged with [`StateOptions::overlay`] (the input of
//! `apply`, which wins) minus [`StateOptions::remove`] are validated against the topology
//! (`complete: true`: they are everything that exists) and the valid ones translated into
//! [`LiveState::expected`].

use std::collections::{BTreeMap, BTreeSet};

use kube::api::DynamicObject;

use crate::context::ClusterClient;
use crate::error::{ClusterError, ConfigError};
use smh_core::consts::SMH_NAMESPACE;
use smh_core::inspect::discovery::{ClusterFacts, DiscoveryOptions};
use smh_core::inspect::names::ClusterName;
use smh_core::inspect::state::{TopologyCache, is_ours_in, live_key, manifest_id, translatable};
use smh_core::inspect::target::ClusterTarget;
use smh_core::model::Manifest;
use smh_core::model::diag::{Diagnostic, ObjectId, Severity};
use smh_core::model::topology::Topology;
use smh_core::model::validate::{ValidateOptions, validate_with};
use smh_core::translate::{GeneratedObject, Translation, translate};

mod generated;
mod load;
mod smh;

pub use self::load::load_state;
pub use self::smh::read_smh_objects_in;

/// A load that could not even start.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The kubeconfig or the management context is wrong (exit 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The management cluster did not answer, or the SMH CRDs are missing (exit 3).
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct StateOptions {
    /// How discovery reads each cluster (`--istio-mode` and the like).
    pub discovery: DiscoveryOptions,
    /// Objects that replace the stored object of the same kind, namespace and name, or are
    /// added (the input of `apply`). Their `status` is taken from the stored object.
    pub overlay: Vec<Manifest>,
    /// Stored objects to leave out (`failover delete`).
    pub remove: Vec<ObjectId>,
    /// Objects of the overlay that the parser rejected (validation does not report
    /// references to them as missing).
    pub rejected: Vec<ObjectId>,
    /// More clusters to sweep.
    pub extra_clusters: Vec<ClusterName>,
    /// Also sweep every cluster the registry maps (the clusters `--cluster` maps are always
    /// swept: naming them on the command line asks for them).
    pub include_registered: bool,
    /// Where to read the SMH objects from when listing them in all namespaces is forbidden,
    /// besides `service-mesh-hub` and the namespaces of the overlay (the `-n` namespace).
    pub smh_namespaces: Vec<String>,
}

/// Everything [`load_state`] found.
#[derive(Debug)]
pub struct LiveState {
    /// The management cluster.
    pub mgmt: ClusterTarget,
    /// Set when the SMH objects could not be listed in all namespaces (a user with
    /// RoleBindings only): which namespaces were read instead. Generated objects that no
    /// object seen accounts for are then not treated as stale (see [`LiveState::stale_live`]).
    pub smh_scope: Option<String>,
    /// Every target of the sweep: the management cluster first, then the named clusters by
    /// name (a cluster served by the management context appears once, as the management
    /// cluster with its cluster name). What a mutating command prints before it changes
    /// anything.
    pub targets: Vec<ClusterTarget>,
    /// The SMH objects stored in the management cluster, sorted by kind, namespace and
    /// name, with `managedFields` removed. Their source is
    /// `<mgmt>:<namespace>/<kind lower case>/<name>`.
    pub smh_objects: Vec<Manifest>,
    /// Stored objects that could not be read (not SMH v1alpha2 as kubectl-smh knows it).
    pub unreadable: Vec<(ObjectId, String)>,
    /// The stored objects merged with the overlay (which wins) minus the removed ones:
    /// FailoverServices, then TrafficPolicies in acceptance order (see
    /// [`acceptance_rank`](smh_core::inspect::state::acceptance_rank)). What validation and translation ran on.
    pub merged: Vec<Manifest>,
    /// The clusters that answered, plus cached ones standing in for those that did not.
    pub topology: Topology,
    /// Discovery details of the clusters that answered.
    pub discovery: BTreeMap<ClusterName, ClusterFacts>,
    /// Validation of [`LiveState::merged`] against the topology.
    pub diagnostics: Vec<Diagnostic>,
    /// The objects [`LiveState::merged`] should generate (its valid objects translated).
    pub expected: Translation,
    /// Per cluster, the live generated objects (both labels), sorted by kind, namespace and
    /// name. No entry: the cluster could not be listed (see `errors`).
    pub live: BTreeMap<ClusterName, Vec<DynamicObject>>,
    /// Per cluster, why it could not be discovered or listed.
    pub errors: BTreeMap<ClusterName, ClusterError>,
    /// Cluster names that resolve to no usable context.
    pub unresolved: BTreeMap<ClusterName, ConfigError>,
    /// Clusters whose topology comes from the cache because discovery failed, with the time
    /// of the cached discovery.
    pub stale: BTreeMap<ClusterName, String>,
    /// The topology cache as read.
    pub cache: TopologyCache,
    /// Which clusters each merged object names.
    pub referenced: BTreeMap<ObjectId, BTreeSet<ClusterName>>,
    /// Clients, by cluster name (the management cluster's client also under its cluster
    /// name when it has one).
    clients: BTreeMap<ClusterName, ClusterClient>,
    mgmt_client: ClusterClient,
}

impl LiveState {
    /// Leaves objects out of the merged set and recomputes validation and the expected
    /// objects (no request is sent): what the state would be without them.
    pub fn remove_objects(&mut self, ids: &[ObjectId]) {
        self.merged.retain(|m| !ids.contains(&manifest_id(m)));
        self.referenced.retain(|id, _| !ids.contains(id));
        let opts = ValidateOptions {
            complete: true,
            rejected: Vec::new(),
        };
        self.diagnostics = validate_with(&self.merged, &self.topology, &opts);
        self.expected = translate(
            &translatable(&self.merged, &self.diagnostics),
            &self.topology,
        );
    }

    /// The client of a cluster.
    pub fn client(&self, cluster: &ClusterName) -> Option<&ClusterClient> {
        self.clients.get(cluster)
    }

    /// The management cluster's client.
    pub(crate) fn mgmt_client(&self) -> &ClusterClient {
        &self.mgmt_client
    }

    /// A stored SMH object.
    pub fn smh_object(&self, id: &ObjectId) -> Option<&Manifest> {
        self.smh_objects.iter().find(|m| &manifest_id(m) == id)
    }

    /// A merged SMH object.
    pub(crate) fn merged_object(&self, id: &ObjectId) -> Option<&Manifest> {
        self.merged.iter().find(|m| &manifest_id(m) == id)
    }

    /// The live counterpart of an expected object (same cluster, kind, namespace, name).
    pub fn live_for(&self, g: &GeneratedObject) -> Option<&DynamicObject> {
        self.live
            .get(&ClusterName::new(g.cluster.as_str()))?
            .iter()
            .find(|o| live_key(o) == (g.kind(), g.namespace(), g.name()))
    }

    /// The expected objects an SMH object produced (alone or with others), each with its
    /// live counterpart.
    pub fn generated_for(&self, id: &ObjectId) -> Vec<(&GeneratedObject, Option<&DynamicObject>)> {
        self.expected
            .objects
            .iter()
            .filter(|g| g.owners.contains(id))
            .map(|g| (g, self.live_for(g)))
            .collect()
    }

    /// Live generated objects no expected object accounts for, per cluster: what pruning
    /// deletes. Only objects carrying both labels and the cluster's own cluster label, in
    /// clusters that could be listed. None when the SMH objects were read in some
    /// namespaces only ([`LiveState::smh_scope`]): an object not seen may generate them.
    pub fn stale_live(&self) -> Vec<(&ClusterName, &DynamicObject)> {
        if self.smh_scope.is_some() {
            return Vec::new();
        }
        let wanted: BTreeSet<(&str, &str, &str, &str)> = self
            .expected
            .objects
            .iter()
            .map(|g| (g.cluster.as_str(), g.kind(), g.namespace(), g.name()))
            .collect();
        let mut out = Vec::new();
        for (cluster, objects) in &self.live {
            for o in objects {
                let (kind, ns, name) = live_key(o);
                if is_ours_in(o, cluster.as_str())
                    && !wanted.contains(&(cluster.as_str(), kind, ns, name))
                {
                    out.push((cluster, o));
                }
            }
        }
        out
    }

    /// Clusters whose topology is unknown: named by an object but not resolvable, or not
    /// discovered and not cached.
    pub fn unknown_clusters(&self) -> BTreeSet<ClusterName> {
        let known: BTreeSet<&str> = self
            .topology
            .clusters
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        self.referenced
            .values()
            .flatten()
            .filter(|c| !known.contains(c.as_str()))
            .cloned()
            .collect()
    }

    /// The objects of the merged set that name `cluster`.
    pub fn objects_naming(&self, cluster: &ClusterName) -> Vec<&ObjectId> {
        self.referenced
            .iter()
            .filter(|(_, cs)| cs.contains(cluster))
            .map(|(id, _)| id)
            .collect()
    }

    /// Error diagnostics of one object.
    pub fn errors_of(&self, id: &ObjectId) -> Vec<&Diagnostic> {
        self.diagnostics
            .iter()
            .chain(&self.expected.diagnostics)
            .filter(|d| d.severity == Severity::Error && d.object.as_ref() == Some(id))
            .collect()
    }
}

/// Where the SMH objects are read when listing them in all namespaces is forbidden:
/// `service-mesh-hub`, [`StateOptions::smh_namespaces`], and the namespaces of the overlay
/// and of the objects to remove.
pub(crate) fn smh_namespaces(opts: &StateOptions) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = [SMH_NAMESPACE.to_string()].into();
    out.extend(opts.smh_namespaces.iter().cloned());
    out.extend(opts.overlay.iter().map(|m| manifest_id(m).namespace));
    out.extend(opts.remove.iter().map(|id| id.namespace.clone()));
    out.retain(|n| !n.is_empty());
    out
}
