//! The live state: what the SMH objects in the management cluster ask for, what the clusters
//! look like, what kubectl-smh would generate from it, and what it generated before.
//!
//! [`load_state`] reads it in one concurrent sweep:
//!
//! 1. **Management cluster** (one round of concurrent requests): every FailoverService and
//!    TrafficPolicy in all namespaces, and the topology cache (ConfigMap
//!    [`TOPOLOGY_CACHE`] in `service-mesh-hub`, see [`TopologyCache`]). A missing SMH CRD
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
//! ([`discovery::list_in_scope`]): the SMH objects are read from `service-mesh-hub`,
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

use futures::future::join_all;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use smh_core::consts::SMH_NAMESPACE;
use smh_core::inspect::discovery::{ClusterFacts, DiscoveryOptions};
use smh_core::inspect::names::ClusterName;
use smh_core::inspect::state::{
    GENERATED_KINDS, TOPOLOGY_CACHE, TopologyCache, generated_selector, input_namespaces,
    is_ours_in, istio_resource, live_key, live_kind, manifest_id, merge, referenced_clusters,
    translatable,
};
use smh_core::inspect::target::ClusterTarget;
use smh_core::model::diag::{Diagnostic, ObjectId, Severity, Source};
use smh_core::model::topology::Topology;
use smh_core::model::types::{FailoverService, TrafficPolicy};
use smh_core::model::validate::{ValidateOptions, validate_with};
use smh_core::model::{Manifest, SmhObject};
use smh_core::translate::{GeneratedObject, Translation, translate};

use crate::context::{ClusterClient, Contexts};
use crate::discovery::{self, Scoped, list_all, list_in_scope};
use crate::error::{ApiOp, ClusterError, ConfigError};

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
    pub fn mgmt_client(&self) -> &ClusterClient {
        &self.mgmt_client
    }

    /// A stored SMH object.
    pub fn smh_object(&self, id: &ObjectId) -> Option<&Manifest> {
        self.smh_objects.iter().find(|m| &manifest_id(m) == id)
    }

    /// A merged SMH object.
    pub fn merged_object(&self, id: &ObjectId) -> Option<&Manifest> {
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
fn smh_namespaces(opts: &StateOptions) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = [SMH_NAMESPACE.to_string()].into();
    out.extend(opts.smh_namespaces.iter().cloned());
    out.extend(opts.overlay.iter().map(|m| manifest_id(m).namespace));
    out.extend(opts.remove.iter().map(|id| id.namespace.clone()));
    out.retain(|n| !n.is_empty());
    out
}

/// Reads the state. See the module documentation.
pub async fn load_state(contexts: &Contexts, opts: &StateOptions) -> Result<LiveState, StateError> {
    // 1. The management cluster: SMH objects and the topology cache.
    let bare_mgmt = contexts.mgmt_target(&[])?;
    let mgmt_client = contexts.client(&bare_mgmt).await?;
    let smh_ns = smh_namespaces(opts);
    let (fs, tp, cache) = futures::join!(
        list_smh_in(
            &mgmt_client,
            FailoverService::KIND,
            FailoverService::PLURAL,
            &smh_ns
        ),
        list_smh_in(
            &mgmt_client,
            TrafficPolicy::KIND,
            TrafficPolicy::PLURAL,
            &smh_ns
        ),
        read_cache(&mgmt_client),
    );
    let (fs, tp) = (fs?, tp?);
    let mut mgmt_notes: Vec<String> = [fs.note, tp.note].into_iter().flatten().collect();
    let scoped = !mgmt_notes.is_empty();
    let (mut fs, mut tp) = (fs.items, tp.items);
    if scoped {
        // Read per namespace: also where the objects found point (a traffic shift usually
        // lives with the service it shifts).
        let found: Vec<Manifest> = fs
            .iter()
            .chain(&tp)
            .filter_map(|o| to_manifest("", o.clone()).ok())
            .collect();
        let mut more: BTreeSet<String> = input_namespaces(&found, &BTreeSet::new())
            .into_values()
            .flatten()
            .collect();
        more.retain(|n| !smh_ns.contains(n) && n != "istio-system");
        let (fs2, tp2) = futures::join!(
            list_smh_namespaces(
                &mgmt_client,
                FailoverService::KIND,
                FailoverService::PLURAL,
                &more
            ),
            list_smh_namespaces(
                &mgmt_client,
                TrafficPolicy::KIND,
                TrafficPolicy::PLURAL,
                &more
            ),
        );
        let (fs2, tp2) = (fs2?, tp2?);
        let listed: Vec<&str> = smh_ns.iter().chain(&more).map(String::as_str).collect();
        let mut refused: Vec<&str> = fs2.1.iter().chain(&tp2.1).map(String::as_str).collect();
        refused.sort_unstable();
        refused.dedup();
        let mut note = format!(
            "SMH objects read in namespaces {} only: objects elsewhere are not seen, and \
             generated objects nothing seen accounts for are not pruned",
            listed
                .iter()
                .filter(|n| !refused.contains(n))
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !refused.is_empty() {
            note.push_str(&format!(
                " (reading them in {} is forbidden)",
                refused.join(", ")
            ));
        }
        mgmt_notes.push(note);
        fs.extend(fs2.0);
        tp.extend(tp2.0);
    }
    let smh_scope = scoped.then(|| mgmt_notes.last().cloned().unwrap_or_default());
    let mut unreadable = Vec::new();
    let cache = match cache {
        Ok(c) => c,
        Err(e) => TopologyCache {
            unreadable: vec![format!("cannot read the topology cache: {e}")],
            ..Default::default()
        },
    };
    let mgmt_label = bare_mgmt.display_name().to_string();
    let mut smh_objects = Vec::new();
    for o in fs.into_iter().chain(tp) {
        match to_manifest(&mgmt_label, o) {
            Ok(m) => smh_objects.push(m),
            Err(bad) => unreadable.push(bad),
        }
    }
    smh_objects.sort_by_key(manifest_id);

    // 2. Merge: overlay wins (keeping the stored status), removed ones go.
    let merged = merge(&smh_objects, &opts.overlay, &opts.remove);

    // 3. Which clusters.
    let mut known: BTreeSet<String> = cache
        .clusters
        .keys()
        .map(|c| c.as_str().to_string())
        .collect();
    known.extend(
        contexts
            .flag_mappings()
            .keys()
            .map(|c| c.as_str().to_string()),
    );
    known.extend(
        contexts
            .registry()
            .entries()
            .map(|(c, _)| c.as_str().to_string()),
    );
    for m in &merged {
        known.extend(
            Topology::from_manifests(std::slice::from_ref(m))
                .clusters
                .into_iter()
                .map(|c| c.name),
        );
    }
    let referenced: BTreeMap<ObjectId, BTreeSet<ClusterName>> = merged
        .iter()
        .map(|m| (manifest_id(m), referenced_clusters(m, &known)))
        .collect();
    let mut names: BTreeSet<ClusterName> = referenced.values().flatten().cloned().collect();
    names.extend(cache.clusters.keys().cloned());
    names.extend(opts.extra_clusters.iter().cloned());
    names.extend(contexts.flag_mappings().keys().cloned());
    if opts.include_registered {
        names.extend(contexts.registry().entries().map(|(c, _)| c.clone()));
    }
    let mut unresolved = BTreeMap::new();
    let mut resolved = Vec::new();
    for n in names {
        match contexts.resolve(&n) {
            Ok(_) => resolved.push(n),
            Err(e) => {
                unresolved.insert(n, e);
            }
        }
    }
    let targets = contexts.describe_targets(&resolved, true)?;
    let mgmt = targets
        .first()
        .cloned()
        .unwrap_or_else(|| bare_mgmt.clone());
    let mgmt_client = ClusterClient {
        target: mgmt.clone(),
        ..mgmt_client
    };

    // 4. Every named cluster at once: discovery and the live generated objects.
    let mut clients: BTreeMap<ClusterName, ClusterClient> = BTreeMap::new();
    let mut named: Vec<ClusterTarget> = Vec::new();
    for t in &targets {
        if let Some(c) = &t.cluster {
            named.push(t.clone());
            if t.mgmt {
                clients.insert(c.clone(), mgmt_client.clone());
            }
        }
    }
    let built = join_all(
        named
            .iter()
            .filter(|t| !t.mgmt)
            .map(|t| async move { (t.key(), contexts.client(t).await) }),
    )
    .await;
    for (name, c) in built {
        match c {
            Ok(c) => {
                clients.insert(name, c);
            }
            Err(e) => {
                unresolved.insert(name, e);
            }
        }
    }
    let scope = input_namespaces(&merged, &known);
    // A cluster no object points into (the management cluster, a cached one): where Istio
    // usually is, to find its mesh.
    let istio_only: BTreeSet<String> = ["istio-system".to_string()].into();
    let sweeps = clients.iter().map(|(name, c)| {
        let discover_in = scope.get(name).unwrap_or(&istio_only);
        let generated_in: BTreeSet<String> = discover_in.union(&smh_ns).cloned().collect();
        async move {
            let (objects, live) = futures::join!(
                discovery::fetch_cluster_in(c, discover_in),
                list_generated_in(c, &generated_in)
            );
            (name.clone(), c, objects, live)
        }
    });
    let mut topology = Topology::default();
    let mut facts = BTreeMap::new();
    let mut live = BTreeMap::new();
    let mut errors = BTreeMap::new();
    let mut stale = BTreeMap::new();
    let mut scoped_live: BTreeMap<ClusterName, BTreeSet<String>> = BTreeMap::new();
    for (name, c, objects, listed) in join_all(sweeps).await {
        match objects {
            Ok(objects) => {
                let (cluster, mut f) = smh_core::inspect::discovery::build_cluster(
                    &c.target,
                    &objects,
                    &opts.discovery,
                );
                topology.clusters.push(cluster);
                match listed {
                    Ok((objs, listed_in)) => {
                        if let Some((note, namespaces)) = listed_in {
                            f.warnings.push(note);
                            scoped_live.insert(name.clone(), namespaces);
                        }
                        live.insert(name.clone(), objs);
                    }
                    Err(e) => {
                        errors.insert(name.clone(), e);
                    }
                }
                facts.insert(name, f);
            }
            Err(e) => {
                if let Some(cached) = cache.clusters.get(&name) {
                    topology.clusters.push(cached.cluster.clone());
                    stale.insert(name.clone(), cached.discovered_at.clone());
                }
                // The listing may have worked where discovery did not (a flaky server);
                // it is only trusted when both did.
                errors.insert(name, e);
            }
        }
    }
    topology.clusters.sort_by(|a, b| a.name.cmp(&b.name));

    // 5. Validate and translate.
    let validate_opts = ValidateOptions {
        complete: true,
        rejected: opts.rejected.clone(),
    };
    let diagnostics = validate_with(&merged, &topology, &validate_opts);
    let valid = translatable(&merged, &diagnostics);
    let expected = translate(&valid, &topology);

    // 6. Where generated objects were listed namespace by namespace: also the namespaces
    // expected objects live in that were not listed yet.
    let more = scoped_live.iter().filter_map(|(name, listed)| {
        let wanted: BTreeSet<String> = expected
            .objects
            .iter()
            .filter(|g| g.cluster.as_str() == name.as_str())
            .map(|g| g.namespace().to_string())
            .filter(|ns| !listed.contains(ns))
            .collect();
        let c = clients.get(name)?;
        (!wanted.is_empty())
            .then_some(async move { (name.clone(), list_generated_namespaces(c, &wanted).await) })
    });
    for (name, r) in join_all(more).await {
        match r {
            Ok(objs) => {
                if let Some(l) = live.get_mut(&name) {
                    l.extend(objs);
                    l.sort_by(|a, b| live_key(a).cmp(&live_key(b)));
                }
            }
            Err(e) => {
                errors.insert(name, e);
            }
        }
    }
    if !mgmt_notes.is_empty()
        && let Some(f) = mgmt.cluster.as_ref().and_then(|c| facts.get_mut(c))
    {
        f.warnings.extend(mgmt_notes);
    }

    Ok(LiveState {
        mgmt,
        targets,
        smh_scope,
        smh_objects,
        unreadable,
        merged,
        topology,
        discovery: facts,
        diagnostics,
        expected,
        live,
        errors,
        unresolved,
        stale,
        cache,
        referenced,
        clients,
        mgmt_client,
    })
}

/// The SMH objects of one kind (`FailoverService` or `TrafficPolicy`) stored in the
/// management cluster, all namespaces, sorted; and those that could not be read.
pub async fn read_smh_objects(
    c: &ClusterClient,
    kind: &str,
) -> Result<(Vec<Manifest>, Vec<(ObjectId, String)>), ClusterError> {
    let (ok, bad, _) = read_smh_objects_in(c, kind, &BTreeSet::new()).await?;
    Ok((ok, bad))
}

/// [`read_smh_objects`], reading only `namespaces` when listing in all namespaces is
/// forbidden; then also the warning saying so.
#[allow(clippy::type_complexity)]
pub async fn read_smh_objects_in(
    c: &ClusterClient,
    kind: &str,
    namespaces: &BTreeSet<String>,
) -> Result<(Vec<Manifest>, Vec<(ObjectId, String)>, Option<String>), ClusterError> {
    let plural = if kind == FailoverService::KIND {
        FailoverService::PLURAL
    } else {
        TrafficPolicy::PLURAL
    };
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    let scoped = list_smh_in(c, kind, plural, namespaces).await?;
    for o in scoped.items {
        match to_manifest(c.target.display_name(), o) {
            Ok(m) => ok.push(m),
            Err(e) => bad.push(e),
        }
    }
    ok.sort_by_key(manifest_id);
    Ok((ok, bad, scoped.note))
}

/// Lists one SMH kind in all namespaces of the management cluster, as dynamic objects;
/// falls back to `namespaces` when listing in all namespaces is forbidden.
async fn list_smh_in(
    c: &ClusterClient,
    kind: &str,
    plural: &str,
    namespaces: &BTreeSet<String>,
) -> Result<Scoped<DynamicObject>, ClusterError> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(
            smh_core::consts::SMH_GROUP,
            smh_core::consts::SMH_VERSION,
            kind,
        ),
        plural,
    );
    let mut scoped = list_in_scope(
        c,
        namespaces,
        &ListParams::default(),
        |ns| match ns {
            Some(ns) => Api::<DynamicObject>::namespaced_with(c.client.clone(), ns, &ar),
            None => Api::all_with(c.client.clone(), &ar),
        },
        |ns| ApiOp::dynamic("list", &ar, ns, None),
    )
    .await?;
    for o in &mut scoped.items {
        o.types = Some(kube::core::TypeMeta {
            api_version: ar.api_version.clone(),
            kind: kind.to_string(),
        });
    }
    Ok(scoped)
}

/// One SMH kind in each of `namespaces` (no fallback: per namespace from the start); and the
/// namespaces where that is forbidden too.
async fn list_smh_namespaces(
    c: &ClusterClient,
    kind: &str,
    plural: &str,
    namespaces: &BTreeSet<String>,
) -> Result<(Vec<DynamicObject>, Vec<String>), ClusterError> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(
            smh_core::consts::SMH_GROUP,
            smh_core::consts::SMH_VERSION,
            kind,
        ),
        plural,
    );
    let lists = namespaces.iter().map(|ns| {
        let api: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), ns, &ar);
        let ar = &ar;
        async move {
            let r = list_all(&api, ListParams::default())
                .await
                .map_err(|e| c.error(&ApiOp::dynamic("list", ar, Some(ns), None), e));
            (ns, r)
        }
    });
    let mut items = Vec::new();
    let mut refused = Vec::new();
    for (ns, r) in join_all(lists).await {
        match r {
            Ok(found) => items.extend(found),
            Err(e) if e.is_forbidden() => refused.push(ns.clone()),
            Err(e) => return Err(e),
        }
    }
    for o in &mut items {
        o.types = Some(kube::core::TypeMeta {
            api_version: ar.api_version.clone(),
            kind: kind.to_string(),
        });
    }
    Ok((items, refused))
}

/// A stored SMH object as a [`Manifest`], or why it cannot be read.
fn to_manifest(mgmt: &str, mut o: DynamicObject) -> Result<Manifest, (ObjectId, String)> {
    o.metadata.managed_fields = None;
    let kind = live_kind(&o).to_string();
    let id = ObjectId {
        kind: kind.clone(),
        namespace: o.metadata.namespace.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
    };
    let source = Source {
        file: format!(
            "{mgmt}:{}/{}/{}",
            id.namespace,
            kind.to_ascii_lowercase(),
            id.name
        ),
        doc: 0,
        line: None,
    };
    let value = match serde_json::to_value(&o) {
        Ok(v) => v,
        Err(e) => return Err((id, e.to_string())),
    };
    let object = if kind == FailoverService::KIND {
        serde_json::from_value::<FailoverService>(value).map(SmhObject::FailoverService)
    } else {
        serde_json::from_value::<TrafficPolicy>(value).map(SmhObject::TrafficPolicy)
    };
    match object {
        Ok(object) => Ok(Manifest { source, object }),
        Err(e) => Err((id, e.to_string())),
    }
}

/// Reads the topology cache; an absent ConfigMap (or namespace) is an empty cache.
async fn read_cache(c: &ClusterClient) -> Result<TopologyCache, ClusterError> {
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), SMH_NAMESPACE);
    match api.get_opt(TOPOLOGY_CACHE).await {
        Ok(Some(cm)) => Ok(TopologyCache::from_config_map(&cm)),
        Ok(None) => Ok(TopologyCache::default()),
        Err(e) => Err(c.error(
            &ApiOp::typed::<ConfigMap>("get", Some(SMH_NAMESPACE), Some(TOPOLOGY_CACHE)),
            e,
        )),
    }
}

/// [`list_generated`]; when listing in all namespaces is forbidden, lists in each of
/// `namespaces` instead and says so: the warning and the namespaces listed. A namespace
/// forbidden too is left out (said in the warning): generated objects there are looked for
/// again, strictly, when an expected object lives there.
#[allow(clippy::type_complexity)]
pub async fn list_generated_in(
    c: &ClusterClient,
    namespaces: &BTreeSet<String>,
) -> Result<(Vec<DynamicObject>, Option<(String, BTreeSet<String>)>), ClusterError> {
    let e = match list_generated(c).await {
        Ok(objs) => return Ok((objs, None)),
        Err(e) if e.is_forbidden() && !namespaces.is_empty() => e,
        Err(e) => return Err(e),
    };
    let lists = namespaces
        .iter()
        .map(|ns| async move { (ns, list_generated_at(c, Some(ns)).await) });
    let mut objs = Vec::new();
    let mut listed = BTreeSet::new();
    let mut refused = Vec::new();
    for (ns, r) in join_all(lists).await {
        match r {
            Ok(o) => {
                objs.extend(o);
                listed.insert(ns.clone());
            }
            Err(e) if e.is_forbidden() => refused.push(ns.as_str()),
            Err(e) => return Err(e),
        }
    }
    objs.sort_by(|a, b| live_key(a).cmp(&live_key(b)));
    let names: Vec<&str> = listed.iter().map(String::as_str).collect();
    let mut note = format!(
        "{e}; generated objects listed in namespace{} {} only: objects kubectl-smh \
         generated elsewhere are not seen and not pruned",
        if names.len() == 1 { "" } else { "s" },
        if names.is_empty() {
            "(none)".to_string()
        } else {
            names.join(", ")
        }
    );
    if !refused.is_empty() {
        note.push_str(&format!(
            " (listing them in {} is forbidden too)",
            refused.join(", ")
        ));
    }
    Ok((objs, Some((note, listed))))
}

/// The generated objects (both labels) of the four Istio kinds in each of `namespaces`.
pub async fn list_generated_namespaces(
    c: &ClusterClient,
    namespaces: &BTreeSet<String>,
) -> Result<Vec<DynamicObject>, ClusterError> {
    let lists = namespaces.iter().map(|ns| list_generated_at(c, Some(ns)));
    let mut out = Vec::new();
    for r in join_all(lists).await {
        out.extend(r?);
    }
    out.sort_by(|a, b| live_key(a).cmp(&live_key(b)));
    Ok(out)
}

/// Lists the generated objects (both labels) of the four Istio kinds in all namespaces.
/// A cluster without Istio's CRDs has none.
pub async fn list_generated(c: &ClusterClient) -> Result<Vec<DynamicObject>, ClusterError> {
    list_generated_at(c, None).await
}

async fn list_generated_at(
    c: &ClusterClient,
    namespace: Option<&str>,
) -> Result<Vec<DynamicObject>, ClusterError> {
    let selector = generated_selector();
    let lists = GENERATED_KINDS.iter().map(|(kind, plural)| {
        let selector = selector.clone();
        async move {
            let ar = istio_resource(kind, plural);
            let api: Api<DynamicObject> = match namespace {
                Some(ns) => Api::namespaced_with(c.client.clone(), ns, &ar),
                None => Api::all_with(c.client.clone(), &ar),
            };
            let listed = list_all(&api, ListParams::default().labels(&selector)).await;
            match listed {
                Ok(mut items) => {
                    for o in &mut items {
                        o.types = Some(kube::core::TypeMeta {
                            api_version: ar.api_version.clone(),
                            kind: kind.to_string(),
                        });
                    }
                    Ok(items)
                }
                Err(e) => {
                    let e = c.error(&ApiOp::dynamic("list", &ar, namespace, None), e);
                    if matches!(e, ClusterError::IstioMissing { .. }) {
                        Ok(Vec::new())
                    } else {
                        Err(e)
                    }
                }
            }
        }
    });
    let mut out = Vec::new();
    for r in join_all(lists).await {
        out.extend(r?);
    }
    out.sort_by(|a, b| live_key(a).cmp(&live_key(b)));
    Ok(out)
}
