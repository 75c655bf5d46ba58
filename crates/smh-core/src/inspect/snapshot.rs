//! What `describe`, `check` and `failover test` judge: a [`Snapshot`] of every cluster,
//! collected once by the cluster I/O crate (the live state, then, concurrently across
//! clusters, a few extra reads: the Endpoints of the backing services and istiod's
//! Deployments), then handed to pure functions ([`super::describe`], [`super::check`]).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Endpoints;
use serde::Serialize;
use serde_json::Value;

use super::discovery::ClusterFacts;
use super::drift::{Drift, explain_out_of_date, reconcile_clusters};
use crate::model::diag::{Diagnostic, Source};
use crate::model::topology::{MultiClusterMode, Topology};
use crate::model::types::{ClusterObjectRef, FailoverService, TrafficPolicy};
use crate::model::{Manifest, SmhObject};
use crate::translate::Translation;

/// Everything the inspection commands judge, as read from the clusters.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The SMH namespace (`-n`).
    pub namespace: String,
    /// The FailoverServices stored in the mgmt cluster, sorted by namespace and name.
    pub failover_services: Vec<FailoverService>,
    /// The TrafficPolicies stored in the mgmt cluster, sorted by namespace and name.
    pub traffic_policies: Vec<TrafficPolicy>,
    /// Stored SMH objects that could not be read (not SMH v1alpha2 as kubectl-smh knows
    /// it), with why.
    pub unreadable: Vec<String>,
    /// The topology discovered from the clusters that answered.
    pub topology: Topology,
    /// Every cluster considered, by SMH cluster name (the mgmt cluster under its cluster
    /// name, or its context name when no cluster name maps to it).
    pub clusters: BTreeMap<String, ClusterView>,
    /// What `translate` makes of the stored SMH objects on the live topology.
    pub expected: Translation,
    /// Validation of the stored SMH objects against the live topology, then the
    /// translation's own diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// The live Istio objects carrying our labels, per cluster, or why they could not be
    /// listed.
    pub live: BTreeMap<String, Result<Vec<Value>, String>>,
    /// Ready and total endpoints of the backing services, or why they could not be read.
    pub endpoints: BTreeMap<ServiceRef, Result<EndpointCount, String>>,
    /// Set when the SMH objects were read in some namespaces only (a user who may not list
    /// in all of them): which ones (the live state's `smh_scope`).
    pub smh_scope: Option<String>,
}

/// One cluster as the inspection saw it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterView {
    /// SMH cluster name (the context name when no SMH name maps to it).
    pub name: String,
    /// The kubeconfig context used for it.
    pub context: String,
    /// The API server URL from the kubeconfig (never credentials).
    pub server: String,
    /// True for the management cluster.
    pub mgmt: bool,
    /// Why the cluster could not be read (unreachable, forbidden, ...), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Discovery's details (versions, how the mode was decided, warnings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<ClusterFacts>,
    /// istiod's Deployment status, when the cluster has a mesh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istiod: Option<Availability>,
    /// Why istiod's Deployment could not be read, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istiod_error: Option<String>,
    /// When discovery failed and the cached topology stands in: the time of that
    /// discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_since: Option<String>,
}

/// Replica counts of a Deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// The Deployment's namespace.
    pub namespace: String,
    /// The Deployment's name.
    pub name: String,
    /// `spec.replicas` (1 when unset).
    pub desired: i32,
    /// `status.readyReplicas`.
    pub ready: i32,
    /// `status.availableReplicas`.
    pub available: i32,
}

impl Availability {
    /// Read the counts from a Deployment (missing fields count as 0, replicas as 1).
    pub fn from_deployment(d: &Deployment) -> Availability {
        let status = d.status.as_ref();
        Availability {
            namespace: d.metadata.namespace.clone().unwrap_or_default(),
            name: d.metadata.name.clone().unwrap_or_default(),
            desired: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
            available: status.and_then(|s| s.available_replicas).unwrap_or(0),
        }
    }

    /// meshctl's rule: at least one available replica.
    pub(crate) fn is_available(&self) -> bool {
        self.available >= 1
    }
}

/// A Kubernetes Service in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRef {
    /// SMH cluster name.
    pub cluster: String,
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
}

impl ServiceRef {
    /// The Service a backing service (or traffic target) names.
    pub fn of(r: &ClusterObjectRef) -> ServiceRef {
        ServiceRef {
            cluster: r.cluster_name.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        }
    }
}

impl std::fmt::Display for ServiceRef {
    /// `reviews.bookinfo@mgmt-cluster`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}@{}", self.name, self.namespace, self.cluster)
    }
}

/// Endpoint addresses of a Service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointCount {
    /// Addresses ready to serve.
    pub ready: u32,
    /// All addresses, ready or not.
    pub total: u32,
}

impl EndpointCount {
    /// Counts `subsets[].addresses` (ready) and `subsets[].notReadyAddresses`.
    pub fn from_endpoints(e: &Endpoints) -> EndpointCount {
        let mut ready = 0u32;
        let mut not_ready = 0u32;
        for s in e.subsets.iter().flatten() {
            ready += s.addresses.as_ref().map_or(0, |a| a.len() as u32);
            not_ready += s.not_ready_addresses.as_ref().map_or(0, |a| a.len() as u32);
        }
        EndpointCount {
            ready,
            total: ready + not_ready,
        }
    }
}

impl Snapshot {
    /// The stored SMH objects as manifests (for validation and translation), sourced as
    /// `<mgmt cluster name>` documents in object order.
    pub fn manifests(&self) -> Vec<Manifest> {
        let file = self
            .clusters
            .values()
            .find(|c| c.mgmt)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "management cluster".to_string());
        let mut out = Vec::new();
        for tp in &self.traffic_policies {
            out.push(SmhObject::TrafficPolicy(tp.clone()));
        }
        for fs in &self.failover_services {
            out.push(SmhObject::FailoverService(fs.clone()));
        }
        out.into_iter()
            .enumerate()
            .map(|(doc, object)| Manifest {
                source: Source {
                    file: file.clone(),
                    doc,
                    line: None,
                },
                object,
            })
            .collect()
    }

    /// The mgmt cluster's view.
    pub fn mgmt(&self) -> Option<&ClusterView> {
        self.clusters.values().find(|c| c.mgmt)
    }

    /// Every generated object judged against the live ones, with clusters that could not
    /// be read as unknown. Sorted.
    ///
    /// Objects as kubectl-smh applied them that the configuration now translates
    /// differently are [`DriftState::OutOfDate`](super::drift::DriftState::OutOfDate),
    /// with the configuration's errors now ([`super::check::accepted_errors`]).
    pub fn drift(&self) -> Vec<Drift> {
        let mut drift = reconcile_clusters(&self.expected.objects, &self.live);
        explain_out_of_date(&mut drift, &super::check::accepted_errors(self));
        drift
    }

    /// The multi-cluster mode of `cluster`'s mesh (global when unknown).
    pub fn mode(&self, cluster: &str) -> MultiClusterMode {
        self.topology
            .cluster(cluster)
            .and_then(|c| c.mesh.as_ref())
            .map(|m| m.mode)
            .unwrap_or_default()
    }

    /// The cluster domain of `cluster` (`cluster.local` when unknown).
    pub fn domain(&self, cluster: &str) -> &str {
        self.topology
            .cluster(cluster)
            .map(|c| c.cluster_domain.as_str())
            .unwrap_or("cluster.local")
    }

    /// The cluster that runs the mesh with SMH name `mesh` (`istiod-istio-system-<cluster>`).
    pub fn mesh_cluster(&self, mesh: &str) -> Option<&str> {
        self.topology
            .clusters
            .iter()
            .find(|c| c.mesh.as_ref().is_some_and(|m| m.smh_name(&c.name) == mesh))
            .map(|c| c.name.as_str())
    }

    /// The clusters the stored configuration names: backing services, meshes, traffic
    /// policy references and destinations. Sorted.
    pub(crate) fn named_clusters(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for fs in &self.failover_services {
            for b in &fs.spec.backing_services {
                if let Some(k) = &b.kube_service
                    && !k.cluster_name.is_empty()
                {
                    out.insert(k.cluster_name.clone());
                }
            }
            for m in fs.spec.meshes.iter().flatten() {
                if let Some(c) = self.mesh_cluster(&m.name) {
                    out.insert(c.to_string());
                }
            }
        }
        for tp in &self.traffic_policies {
            for s in &tp.spec.destination_selector {
                if let Some(m) = &s.kube_service_matcher {
                    out.extend(m.clusters.iter().cloned());
                }
                if let Some(r) = &s.kube_service_refs {
                    out.extend(r.services.iter().map(|s| s.cluster_name.clone()));
                }
            }
            for d in tp
                .spec
                .traffic_shift
                .iter()
                .flat_map(|t| t.destinations.iter())
            {
                if let Some(k) = &d.kube_service {
                    out.insert(k.cluster_name.clone());
                }
            }
        }
        out.retain(|c| !c.is_empty());
        out
    }

    /// The backing services of every stored FailoverService, deduplicated.
    pub fn backing_services(&self) -> BTreeSet<ServiceRef> {
        self.failover_services
            .iter()
            .flat_map(|fs| fs.spec.backing_services.iter())
            .filter_map(|b| b.kube_service.as_ref())
            .map(ServiceRef::of)
            .collect()
    }
}
