//! [`load_state`] in its steps: the management cluster, the clusters to sweep, the sweep,
//! validation and translation, and the namespaces listed late.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use kube::api::DynamicObject;

use crate::context::{ClusterClient, Contexts};
use crate::discovery;
use crate::error::{ClusterError, ConfigError};
use crate::state::generated::{list_generated_in, list_generated_namespaces};
use crate::state::smh::{list_smh_in, list_smh_namespaces, read_cache, to_manifest};
use crate::state::{LiveState, StateError, StateOptions, smh_namespaces};
use smh_core::inspect::discovery::ClusterFacts;
use smh_core::inspect::names::ClusterName;
use smh_core::inspect::state::{
    TopologyCache, input_namespaces, live_key, manifest_id, merge, referenced_clusters,
    translatable,
};
use smh_core::inspect::target::ClusterTarget;
use smh_core::model::Manifest;
use smh_core::model::diag::ObjectId;
use smh_core::model::topology::Topology;
use smh_core::model::types::{FailoverService, TrafficPolicy};
use smh_core::model::validate::{ValidateOptions, validate_with};
use smh_core::translate::{Translation, translate};

/// Reads the state. See the module documentation.
pub async fn load_state(contexts: &Contexts, opts: &StateOptions) -> Result<LiveState, StateError> {
    // 1. The management cluster: SMH objects and the topology cache.
    let read = read_mgmt(contexts, opts).await?;

    // 2. Merge: overlay wins (keeping the stored status), removed ones go.
    let merged = merge(&read.smh_objects, &opts.overlay, &opts.remove);

    // 3. Which clusters.
    let (known, referenced, names) = cluster_names(contexts, opts, &read.cache, &merged);
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
        .unwrap_or_else(|| read.bare_mgmt.clone());
    let mgmt_client = ClusterClient {
        target: mgmt.clone(),
        ..read.client
    };

    // 4. Every named cluster at once: discovery and the live generated objects.
    let clients = cluster_clients(contexts, &targets, &mgmt_client, &mut unresolved).await;
    let scope = input_namespaces(&merged, &known);
    let mut sweep = sweep_clusters(&clients, &scope, &read.smh_ns, &read.cache, opts).await;

    // 5. Validate and translate.
    let validate_opts = ValidateOptions {
        complete: true,
        rejected: opts.rejected.clone(),
    };
    let diagnostics = validate_with(&merged, &sweep.topology, &validate_opts);
    let valid = translatable(&merged, &diagnostics);
    let expected = translate(&valid, &sweep.topology);

    // 6. Where generated objects were listed namespace by namespace: also the namespaces
    // expected objects live in that were not listed yet.
    list_where_expected(&mut sweep, &clients, &expected).await;
    if !read.notes.is_empty()
        && let Some(f) = mgmt.cluster.as_ref().and_then(|c| sweep.facts.get_mut(c))
    {
        f.warnings.extend(read.notes);
    }

    Ok(LiveState {
        mgmt,
        targets,
        smh_scope: read.smh_scope,
        smh_objects: read.smh_objects,
        unreadable: read.unreadable,
        merged,
        topology: sweep.topology,
        discovery: sweep.facts,
        diagnostics,
        expected,
        live: sweep.live,
        errors: sweep.errors,
        unresolved,
        stale: sweep.stale,
        cache: read.cache,
        referenced,
        clients,
        mgmt_client,
    })
}

/// What [`load_state`] read from the management cluster (step 1).
struct MgmtRead {
    /// The management cluster as `--mgmt-context` names it, before the sweep knows its
    /// cluster name.
    bare_mgmt: ClusterTarget,
    client: ClusterClient,
    /// The namespaces the SMH objects are read from when all namespaces are forbidden.
    smh_ns: BTreeSet<String>,
    /// Warnings for the management cluster's discovery facts (a scoped read).
    notes: Vec<String>,
    smh_scope: Option<String>,
    cache: TopologyCache,
    smh_objects: Vec<Manifest>,
    unreadable: Vec<(ObjectId, String)>,
}

/// Step 1: the SMH objects (in all namespaces, else where the input and the objects found
/// point) and the topology cache (an unreadable cache is empty, saying why).
async fn read_mgmt(contexts: &Contexts, opts: &StateOptions) -> Result<MgmtRead, StateError> {
    let bare_mgmt = contexts.mgmt_target(&[])?;
    let client = contexts.client(&bare_mgmt).await?;
    let smh_ns = smh_namespaces(opts);
    let (fs, tp, cache) = futures::join!(
        list_smh_in(
            &client,
            FailoverService::KIND,
            FailoverService::PLURAL,
            &smh_ns
        ),
        list_smh_in(&client, TrafficPolicy::KIND, TrafficPolicy::PLURAL, &smh_ns),
        read_cache(&client),
    );
    let (fs, tp) = (fs?, tp?);
    let mut notes: Vec<String> = [fs.note, tp.note].into_iter().flatten().collect();
    let scoped = !notes.is_empty();
    let (mut fs, mut tp) = (fs.items, tp.items);
    if scoped {
        let (note, fs2, tp2) = read_where_found(&client, &smh_ns, &fs, &tp).await?;
        notes.push(note);
        fs.extend(fs2);
        tp.extend(tp2);
    }
    let smh_scope = scoped.then(|| notes.last().cloned().unwrap_or_default());
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
    Ok(MgmtRead {
        bare_mgmt,
        client,
        smh_ns,
        notes,
        smh_scope,
        cache,
        smh_objects,
        unreadable,
    })
}

/// A scoped read of the SMH objects (listing in all namespaces was forbidden): also read
/// per namespace where the objects found point (a traffic shift usually lives with the
/// service it shifts). The warning saying where they were read, and the FailoverServices
/// and TrafficPolicies found there.
async fn read_where_found(
    client: &ClusterClient,
    smh_ns: &BTreeSet<String>,
    fs: &[DynamicObject],
    tp: &[DynamicObject],
) -> Result<(String, Vec<DynamicObject>, Vec<DynamicObject>), ClusterError> {
    let found: Vec<Manifest> = fs
        .iter()
        .chain(tp)
        .filter_map(|o| to_manifest("", o.clone()).ok())
        .collect();
    let mut more: BTreeSet<String> = input_namespaces(&found, &BTreeSet::new())
        .into_values()
        .flatten()
        .collect();
    more.retain(|n| !smh_ns.contains(n) && n != "istio-system");
    let (fs2, tp2) = futures::join!(
        list_smh_namespaces(
            client,
            FailoverService::KIND,
            FailoverService::PLURAL,
            &more
        ),
        list_smh_namespaces(client, TrafficPolicy::KIND, TrafficPolicy::PLURAL, &more),
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
    Ok((note, fs2.0, tp2.0))
}

/// Step 3: the cluster names the state knows of (cache, `--cluster`, registry, meshes of the
/// merged objects), the clusters each merged object references, and the clusters to sweep.
#[allow(clippy::type_complexity)]
fn cluster_names(
    contexts: &Contexts,
    opts: &StateOptions,
    cache: &TopologyCache,
    merged: &[Manifest],
) -> (
    BTreeSet<String>,
    BTreeMap<ObjectId, BTreeSet<ClusterName>>,
    BTreeSet<ClusterName>,
) {
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
    for m in merged {
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
    (known, referenced, names)
}

/// A client per named target (the management cluster's reused), built concurrently; a
/// target whose client cannot be built goes to `unresolved`.
async fn cluster_clients(
    contexts: &Contexts,
    targets: &[ClusterTarget],
    mgmt_client: &ClusterClient,
    unresolved: &mut BTreeMap<ClusterName, ConfigError>,
) -> BTreeMap<ClusterName, ClusterClient> {
    let mut clients: BTreeMap<ClusterName, ClusterClient> = BTreeMap::new();
    let mut named: Vec<ClusterTarget> = Vec::new();
    for t in targets {
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
    clients
}

/// What the sweep of every cluster found (step 4).
#[derive(Default)]
struct Sweep {
    topology: Topology,
    facts: BTreeMap<ClusterName, ClusterFacts>,
    live: BTreeMap<ClusterName, Vec<DynamicObject>>,
    errors: BTreeMap<ClusterName, ClusterError>,
    stale: BTreeMap<ClusterName, String>,
    /// Clusters whose generated objects were listed namespace by namespace: those namespaces.
    scoped_live: BTreeMap<ClusterName, BTreeSet<String>>,
}

/// Step 4: discovery and the live generated objects of every cluster at once. A cluster
/// that cannot be discovered is replaced by its cached topology (marked stale); its listing
/// is then not trusted.
async fn sweep_clusters(
    clients: &BTreeMap<ClusterName, ClusterClient>,
    scope: &BTreeMap<ClusterName, BTreeSet<String>>,
    smh_ns: &BTreeSet<String>,
    cache: &TopologyCache,
    opts: &StateOptions,
) -> Sweep {
    // A cluster no object points into (the management cluster, a cached one): where Istio
    // usually is, to find its mesh.
    let istio_only: BTreeSet<String> = ["istio-system".to_string()].into();
    let sweeps = clients.iter().map(|(name, c)| {
        let discover_in = scope.get(name).unwrap_or(&istio_only);
        let generated_in: BTreeSet<String> = discover_in.union(smh_ns).cloned().collect();
        async move {
            let (objects, live) = futures::join!(
                discovery::fetch_cluster_in(c, discover_in),
                list_generated_in(c, &generated_in)
            );
            (name.clone(), c, objects, live)
        }
    });
    let mut sweep = Sweep::default();
    for (name, c, objects, listed) in join_all(sweeps).await {
        match objects {
            Ok(objects) => {
                let (cluster, mut f) = smh_core::inspect::discovery::build_cluster(
                    &c.target,
                    &objects,
                    &opts.discovery,
                );
                sweep.topology.clusters.push(cluster);
                match listed {
                    Ok((objs, listed_in)) => {
                        if let Some((note, namespaces)) = listed_in {
                            f.warnings.push(note);
                            sweep.scoped_live.insert(name.clone(), namespaces);
                        }
                        sweep.live.insert(name.clone(), objs);
                    }
                    Err(e) => {
                        sweep.errors.insert(name.clone(), e);
                    }
                }
                sweep.facts.insert(name, f);
            }
            Err(e) => {
                if let Some(cached) = cache.clusters.get(&name) {
                    sweep.topology.clusters.push(cached.cluster.clone());
                    sweep
                        .stale
                        .insert(name.clone(), cached.discovered_at.clone());
                }
                // The listing may have worked where discovery did not (a flaky server);
                // it is only trusted when both did.
                sweep.errors.insert(name, e);
            }
        }
    }
    sweep.topology.clusters.sort_by(|a, b| a.name.cmp(&b.name));
    sweep
}

/// Step 6: in a cluster listed namespace by namespace, also list the namespaces expected
/// objects live in that were not listed yet, so that their live objects are compared.
async fn list_where_expected(
    sweep: &mut Sweep,
    clients: &BTreeMap<ClusterName, ClusterClient>,
    expected: &Translation,
) {
    let more = sweep.scoped_live.iter().filter_map(|(name, listed)| {
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
                if let Some(l) = sweep.live.get_mut(&name) {
                    l.extend(objs);
                    l.sort_by(|a, b| live_key(a).cmp(&live_key(b)));
                }
            }
            Err(e) => {
                sweep.errors.insert(name, e);
            }
        }
    }
}
