//! Reading the SMH objects and the topology cache from the management cluster.

use std::collections::BTreeSet;

use futures::future::join_all;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::core::GroupVersionKind;

use crate::context::ClusterClient;
use crate::discovery::{Scoped, list_all, list_in_scope};
use crate::error::{ApiOp, ClusterError};
use smh_core::consts::SMH_NAMESPACE;
use smh_core::inspect::state::{TOPOLOGY_CACHE, TopologyCache, live_kind, manifest_id};
use smh_core::model::diag::{ObjectId, Source};
use smh_core::model::types::{FailoverService, TrafficPolicy};
use smh_core::model::{Manifest, SmhObject};

/// The stored SMH objects (FailoverServices and TrafficPolicies) of the management cluster,
/// listed in all namespaces, or only in `namespaces` when listing in all namespaces is
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
pub(crate) async fn list_smh_in(
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
pub(crate) async fn list_smh_namespaces(
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
pub(crate) fn to_manifest(
    mgmt: &str,
    mut o: DynamicObject,
) -> Result<Manifest, (ObjectId, String)> {
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
pub(crate) async fn read_cache(c: &ClusterClient) -> Result<TopologyCache, ClusterError> {
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
