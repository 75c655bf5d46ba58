//! Listing the generated objects (both labels) of the four Istio kinds in a cluster.

use std::collections::BTreeSet;

use futures::future::join_all;
use kube::api::{Api, DynamicObject, ListParams};

use crate::context::ClusterClient;
use crate::discovery::list_all;
use crate::error::{ApiOp, ClusterError};
use smh_core::inspect::state::{GENERATED_KINDS, generated_selector, istio_resource, live_key};

/// [`list_generated`]; when listing in all namespaces is forbidden, lists in each of
/// `namespaces` instead and says so: the warning and the namespaces listed. A namespace
/// forbidden too is left out (said in the warning): generated objects there are looked for
/// again, strictly, when an expected object lives there.
#[allow(clippy::type_complexity)]
pub(crate) async fn list_generated_in(
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
pub(crate) async fn list_generated_namespaces(
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
pub(crate) async fn list_generated(c: &ClusterClient) -> Result<Vec<DynamicObject>, ClusterError> {
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
