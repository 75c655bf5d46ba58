//! The topology cache: the clusters discovered in this sweep, stored in a ConfigMap of the
//! management cluster for the commands that run without discovery.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};

use crate::apply::MAX_CACHE_BYTES;
use crate::error::{ApiOp, ClusterError};
use crate::state::LiveState;
use smh_core::consts::{FIELD_MANAGER, SMH_NAMESPACE};
use smh_core::inspect::names::ClusterName;
use smh_core::inspect::state::{CachedCluster, TOPOLOGY_CACHE, TopologyCache};

/// The cache with the clusters discovered in this sweep updated (stamped `now`), or `None`
/// when nothing changed.
pub(crate) fn updated_cache(state: &LiveState, now: &str) -> Option<TopologyCache> {
    let mut cache = state.cache.clone();
    cache.unreadable.clear();
    let mut changed = false;
    for c in &state.topology.clusters {
        let name = ClusterName::new(c.name.as_str());
        if !state.discovery.contains_key(&name) {
            continue; // not discovered now (a cached stand-in)
        }
        let same = cache
            .clusters
            .get(&name)
            .is_some_and(|old| old.cluster == *c);
        if !same {
            cache.clusters.insert(
                name,
                CachedCluster {
                    discovered_at: now.to_string(),
                    cluster: c.clone(),
                },
            );
            changed = true;
        }
    }
    changed.then_some(cache)
}

/// Why the cache was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CacheError {
    #[error("the topology cache would be {0} bytes, more than a ConfigMap can hold; not written")]
    TooBig(usize),
    #[error(transparent)]
    Cluster(#[from] Box<ClusterError>),
}

/// Writes the cache ConfigMap (server-side apply, field manager `kubectl-smh`).
pub(crate) async fn write_cache(
    state: &LiveState,
    cache: &TopologyCache,
) -> Result<(), CacheError> {
    let size: usize = cache.to_data().iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_CACHE_BYTES {
        return Err(CacheError::TooBig(size));
    }
    let c = state.mgmt_client();
    let api: Api<ConfigMap> = Api::namespaced(c.client.clone(), SMH_NAMESPACE);
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(TOPOLOGY_CACHE, &pp, &Patch::Apply(cache.to_config_map()))
        .await
        .map_err(|e| {
            Box::new(c.error(
                &ApiOp::typed::<ConfigMap>("patch", Some(SMH_NAMESPACE), Some(TOPOLOGY_CACHE)),
                e,
            ))
        })?;
    Ok(())
}
