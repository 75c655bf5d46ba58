//! Discovery's I/O: one concurrent sweep over all clusters reads what
//! `smh_core::inspect::discovery::build_cluster` turns into the Topology (see that module
//! for what is read and how it is judged).

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, Service};
use kube::api::{Api, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use smh_core::inspect::discovery::ClusterFacts;
use smh_core::inspect::discovery::{
    ClusterObjects, DiscoveryOptions, ISTIO_GROUP, REMOTE_SECRET_LABEL, RemoteSecret,
    build_cluster, pick_istiod, preferred_version, remote_secret,
};
use smh_core::inspect::names::ClusterName;
use smh_core::model::topology::Topology;

use crate::context::ClusterClient;
use crate::error::{ApiOp, ClusterError};

/// Page size of list requests.
const PAGE: u32 = 500;

/// What one sweep found.
#[derive(Debug, Default)]
pub struct DiscoveryResult {
    /// The clusters that answered, sorted by name.
    pub topology: Topology,
    /// Details per cluster that answered: versions, where each value came from, warnings.
    pub facts: BTreeMap<ClusterName, ClusterFacts>,
    /// The clusters that did not answer, or refused a required request.
    pub per_cluster_errors: BTreeMap<ClusterName, ClusterError>,
}

/// One concurrent sweep over `clients`. Clusters are discovered concurrently, and each
/// cluster's requests are concurrent too. A cluster that fails does not stop the others:
/// its error is in `per_cluster_errors` and the Topology has the clusters that answered.
pub async fn discover(clients: &[ClusterClient], opts: &DiscoveryOptions) -> DiscoveryResult {
    let sweeps = clients.iter().map(|c| async move {
        let objects = fetch_cluster(c).await;
        (c, objects)
    });
    let mut result = DiscoveryResult::default();
    for (c, objects) in join_all(sweeps).await {
        let key = c.target.key();
        match objects {
            Ok(objects) => {
                let (cluster, facts) = build_cluster(&c.target, &objects, opts);
                result.topology.clusters.push(cluster);
                result.facts.insert(key, facts);
            }
            Err(e) => {
                result.per_cluster_errors.insert(key, e);
            }
        }
    }
    result.topology.clusters.sort_by(|a, b| a.name.cmp(&b.name));
    result.topology.clusters.dedup_by(|a, b| a.name == b.name);
    result
}

/// Lists every object, [`PAGE`] objects a request, following the continue tokens.
pub(crate) async fn list_all<K>(api: &Api<K>, lp: ListParams) -> Result<Vec<K>, kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    let mut lp = lp.limit(PAGE);
    loop {
        let list = api.list(&lp).await?;
        out.extend(list.items);
        match list.metadata.continue_ {
            Some(token) if !token.is_empty() => lp = lp.continue_token(&token),
            _ => return Ok(out),
        }
    }
}

/// What [`list_in_scope`] listed.
#[derive(Debug, Clone)]
pub struct Scoped<K> {
    /// What was listed.
    pub items: Vec<K>,
    /// Set when listing in all namespaces was forbidden: why, and the namespaces listed
    /// instead, as a warning for the user.
    pub note: Option<String>,
}

/// Lists in all namespaces (paged, see [`list_all`]); when that is forbidden (403) and
/// `namespaces` is not empty, lists in each of `namespaces` instead, concurrently. `api`
/// makes the Api for a namespace (`None`: all), `op` describes the request for errors. A
/// namespace that is forbidden too is the error, naming the exact verb, resource and
/// namespace missing.
pub async fn list_in_scope<K>(
    c: &ClusterClient,
    namespaces: &BTreeSet<String>,
    lp: &ListParams,
    api: impl Fn(Option<&str>) -> Api<K>,
    op: impl Fn(Option<&str>) -> ApiOp,
) -> Result<Scoped<K>, ClusterError>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let all = match list_all(&api(None), lp.clone()).await {
        Ok(items) => return Ok(Scoped { items, note: None }),
        Err(e) => c.error(&op(None), e),
    };
    if !all.is_forbidden() || namespaces.is_empty() {
        return Err(all);
    }
    let lists = join_all(namespaces.iter().map(|ns| {
        let api = api(Some(ns));
        let lp = lp.clone();
        async move { (ns, list_all(&api, lp).await) }
    }))
    .await;
    let mut items = Vec::new();
    for (ns, r) in lists {
        items.extend(r.map_err(|e| c.error(&op(Some(ns)), e))?);
    }
    let listed: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    Ok(Scoped {
        items,
        note: Some(scope_note(&all, &listed)),
    })
}

/// The warning of a fallback: the refusal (which names the cluster, what was refused and
/// the `kubectl auth can-i` line), then `; listed in namespaces bookinfo, istio-system only`.
fn scope_note(refused: &ClusterError, listed: &[&str]) -> String {
    format!(
        "{refused}; listed in namespace{} {} only",
        if listed.len() == 1 { "" } else { "s" },
        listed.join(", ")
    )
}

/// Reads what [`build_cluster`] needs from one cluster (no fallback when listing in all
/// namespaces is forbidden; see [`fetch_cluster_in`]).
pub async fn fetch_cluster(c: &ClusterClient) -> Result<ClusterObjects, ClusterError> {
    fetch_cluster_in(c, &BTreeSet::new()).await
}

/// Reads what [`build_cluster`] needs from one cluster; a list forbidden in all namespaces
/// falls back to `namespaces` (see the module documentation).
pub async fn fetch_cluster_in(
    c: &ClusterClient,
    namespaces: &BTreeSet<String>,
) -> Result<ClusterObjects, ClusterError> {
    let client = c.client.clone();
    let typed = |ns: Option<&str>| ns.map(str::to_string);
    let lp = ListParams::default();

    let (version, groups, deps, svcs, pods) = futures::join!(
        c.server_version(),
        async {
            client
                .list_api_groups()
                .await
                .map_err(|e| c.error(&ApiOp::path("/apis"), e))
        },
        list_in_scope(
            c,
            namespaces,
            &lp,
            |ns| typed_api::<Deployment>(&client, ns),
            |ns| ApiOp::typed::<Deployment>("list", typed(ns).as_deref(), None),
        ),
        list_in_scope(
            c,
            namespaces,
            &lp,
            |ns| typed_api::<Service>(&client, ns),
            |ns| ApiOp::typed::<Service>("list", typed(ns).as_deref(), None),
        ),
        list_in_scope(
            c,
            namespaces,
            &lp,
            |ns| typed_api::<Pod>(&client, ns),
            |ns| ApiOp::typed::<Pod>("list", typed(ns).as_deref(), None),
        ),
    );
    let (deps, svcs, pods) = (deps?, svcs?, pods?);
    let mut objects = ClusterObjects {
        version: Some(version?),
        deployments: deps.items,
        services: svcs.items,
        pods: pods.items,
        ..Default::default()
    };
    objects
        .warnings
        .extend([deps.note, svcs.note, pods.note].into_iter().flatten());
    match groups {
        Ok(g) => objects.api_groups = Some(g),
        Err(e) => objects.warnings.push(format!(
            "cannot read the API groups ({e}); Istio's and SMH's CRDs not checked"
        )),
    }

    fetch_istio_dependents(c, namespaces, &mut objects).await;
    fetch_ambient(c, &mut objects).await;
    Ok(objects)
}

/// Round 2 of [`fetch_cluster_in`]: what depends on istiod's namespace (its ConfigMaps, the
/// remote secrets) and on the served Istio version (ServiceEntries), read concurrently into
/// `objects`. Each read that fails leaves a warning saying what is not checked.
async fn fetch_istio_dependents(
    c: &ClusterClient,
    namespaces: &BTreeSet<String>,
    objects: &mut ClusterObjects,
) {
    let client = c.client.clone();
    let lp = ListParams::default();
    let istiod_ns = pick_istiod(&objects.deployments)
        .0
        .and_then(|d| d.metadata.namespace.clone());
    let istio_version = objects
        .api_groups
        .as_ref()
        .and_then(|g| preferred_version(g, ISTIO_GROUP));

    let config_maps = async {
        let Some(ns) = &istiod_ns else {
            return Ok(Vec::new());
        };
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        list_all(&api, ListParams::default())
            .await
            .map_err(|e| c.error(&ApiOp::typed::<ConfigMap>("list", Some(ns), None), e))
    };
    let secrets = async {
        let Some(ns) = &istiod_ns else {
            return Ok(Vec::new());
        };
        fetch_remote_secrets(c, ns).await
    };
    let service_entries = async {
        let Some(version) = &istio_version else {
            return Ok((Vec::new(), None));
        };
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(ISTIO_GROUP, version, "ServiceEntry"),
            "serviceentries",
        );
        list_in_scope(
            c,
            namespaces,
            &lp,
            |ns| match ns {
                Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
                None => Api::all_with(client.clone(), &ar),
            },
            |ns| ApiOp::dynamic("list", &ar, ns, None),
        )
        .await
        .map(|scoped| {
            (
                scoped.items,
                scoped
                    .note
                    .map(|n| format!("{n}; .global ServiceEntries elsewhere not seen")),
            )
        })
    };
    let (cms, secrets, ses) = futures::join!(config_maps, secrets, service_entries);
    match cms {
        Ok(v) => objects.config_maps = v,
        Err(e) => objects.warnings.push(format!(
            "{e}; the root namespace and cluster domain take their defaults"
        )),
    }
    match secrets {
        Ok(v) => {
            objects.remote_secrets = v.iter().map(|s| s.secret.clone()).collect();
            objects.remote_secret_ids = Some(v);
        }
        Err(e) => objects.warnings.push(format!(
            "{e}; remote secrets not checked for the multi-cluster mode (set it with --istio-mode)"
        )),
    }
    match ses {
        Ok((v, note)) => {
            objects.service_entries = v;
            objects.warnings.extend(note);
        }
        Err(e) => objects.warnings.push(format!(
            "{e}; .global ServiceEntries not checked for the multi-cluster mode (set it with --istio-mode)"
        )),
    }
}

/// Round 2, ambient mode (see `smh_core::inspect::discovery::ambient`): the Namespaces, the
/// DaemonSets in istiod's namespace and the Gateway API Gateways, concurrently. A read that
/// fails is a warning only when the cluster shows signs of ambient mode (a Pod labelled
/// `istio.io/dataplane-mode` or enrolled by istio-cni), so that sidecar meshes read by a
/// user with narrow permissions see no noise.
async fn fetch_ambient(c: &ClusterClient, objects: &mut ClusterObjects) {
    use smh_core::inspect::discovery::ambient::{
        DATAPLANE_MODE_LABEL, GATEWAY_GROUP, REDIRECTION_ANNOTATION,
    };
    let client = c.client.clone();
    let istiod_ns = pick_istiod(&objects.deployments)
        .0
        .and_then(|d| d.metadata.namespace.clone());
    let gateway_version = objects
        .api_groups
        .as_ref()
        .and_then(|g| preferred_version(g, GATEWAY_GROUP));
    let namespaces = async {
        let api: Api<Namespace> = Api::all(client.clone());
        list_all(&api, ListParams::default())
            .await
            .map_err(|e| c.error(&ApiOp::typed::<Namespace>("list", None, None), e))
    };
    let daemon_sets = async {
        let Some(ns) = &istiod_ns else {
            return Ok(Vec::new());
        };
        let api: Api<DaemonSet> = Api::namespaced(client.clone(), ns);
        list_all(&api, ListParams::default())
            .await
            .map_err(|e| c.error(&ApiOp::typed::<DaemonSet>("list", Some(ns), None), e))
    };
    let gateways = async {
        let Some(version) = &gateway_version else {
            return Ok(Vec::new());
        };
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(GATEWAY_GROUP, version, "Gateway"),
            "gateways",
        );
        let api: Api<kube::core::DynamicObject> = Api::all_with(client.clone(), &ar);
        list_all(&api, ListParams::default())
            .await
            .map_err(|e| c.error(&ApiOp::dynamic("list", &ar, None, None), e))
    };
    let (nss, dss, gws) = futures::join!(namespaces, daemon_sets, gateways);
    let signs = objects.pods.iter().any(|p| {
        p.metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.contains_key(DATAPLANE_MODE_LABEL))
            || p.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(REDIRECTION_ANNOTATION))
    });
    let mut warn = |e: ClusterError, what: &str| {
        if signs {
            objects.warnings.push(format!("{e}; {what}"));
        }
    };
    match nss {
        Ok(v) => objects.namespaces = v,
        Err(e) => warn(
            e,
            "namespaces labelled for ambient mode or a waypoint are not seen",
        ),
    }
    match dss {
        Ok(v) => objects.daemon_sets = v,
        Err(e) => warn(e, "whether ztunnel runs is not known"),
    }
    match gws {
        Ok(v) => objects.gateways = v,
        Err(e) => warn(e, "waypoints are not seen"),
    }
}

/// The Secrets labelled `istio/multiCluster=true` in `namespace`, reduced to their names,
/// annotations and data keys. The values (kubeconfigs with credentials) arrive with the list
/// and are dropped here.
pub(crate) async fn fetch_remote_secrets(
    c: &ClusterClient,
    namespace: &str,
) -> Result<Vec<RemoteSecret>, ClusterError> {
    let api: Api<Secret> = Api::namespaced(c.client.clone(), namespace);
    let lp = ListParams::default().labels(&format!("{REMOTE_SECRET_LABEL}=true"));
    let secrets = list_all(&api, lp)
        .await
        .map_err(|e| c.error(&ApiOp::typed::<Secret>("list", Some(namespace), None), e))?;
    let mut out: Vec<RemoteSecret> = secrets.into_iter().map(remote_secret).collect();
    out.sort_by(|a, b| a.secret.cmp(&b.secret));
    Ok(out)
}

/// A typed Api in one namespace, or in all.
fn typed_api<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}
