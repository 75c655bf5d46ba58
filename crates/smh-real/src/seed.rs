//! Seeding a real cluster like the demo: the simulator's Istio CRDs, then the objects the
//! simulator's seed creates for the cluster (istio-system with istiod and the ingress gateway,
//! CoreDNS, the remote secrets or the federation objects of the mode, bookinfo in the guide's
//! layout), written through the real API server so its admission, defaulting and controllers
//! apply. What a real control plane makes itself is left out: the Node (the node agent
//! registers it), the `kubernetes` Service and its Endpoints, and every object's status except
//! a load balancer's address (written through `services/status`, as a cloud controller would).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::Value;
use smh_sim::store::{Gvr, Store};
use smh_sim::world::WorldOptions;

fn resource(gvr: &Gvr, kind: &str) -> ApiResource {
    ApiResource {
        group: gvr.group.clone(),
        version: gvr.version.clone(),
        api_version: gvr.api_version(),
        kind: kind.to_string(),
        plural: gvr.plural.clone(),
    }
}

/// Create `obj` (ignoring AlreadyExists). Returns whether it was created.
pub async fn create(client: &kube::Client, gvr: &Gvr, obj: &Value) -> Result<bool> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let ar = resource(gvr, kind);
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
    let api: Api<DynamicObject> = match ns {
        Some(ns) if !ns.is_empty() => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    };
    let d: DynamicObject = serde_json::from_value(obj.clone())?;
    match api.create(&PostParams::default(), &d).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
        Err(e) => Err(e).with_context(|| {
            format!(
                "creating {kind} {}/{}",
                ns.unwrap_or_default(),
                obj.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            )
        }),
    }
}

/// Install the Istio networking CRDs and wait until they are established.
pub async fn install_istio_crds(client: &kube::Client, timeout: Duration) -> Result<()> {
    let gvr = Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    let mut names = Vec::new();
    for crd in smh_sim::cluster::istio_crds() {
        let mut crd = crd.clone();
        strip_server_fields(&mut crd);
        create(client, &gvr, &crd).await?;
        names.push(
            crd.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        );
    }
    let api: Api<DynamicObject> =
        Api::all_with(client.clone(), &resource(&gvr, "CustomResourceDefinition"));
    let deadline = Instant::now() + timeout;
    for name in names {
        loop {
            let crd = api.get(&name).await?;
            let established = crd
                .data
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.get("type").and_then(Value::as_str) == Some("Established")
                            && c.get("status").and_then(Value::as_str) == Some("True")
                    })
                });
            if established {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "CRD {name} was not established within {}s",
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// Remove what a server sets (uid, resourceVersion, timestamps, generation, managedFields,
/// status).
fn strip_server_fields(obj: &mut Value) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "managedFields",
        ] {
            m.remove(k);
        }
    }
    if let Some(o) = obj.as_object_mut() {
        o.remove("status");
    }
}

/// Whether the real control plane makes this object itself.
fn made_by_the_control_plane(gvr: &Gvr, obj: &Value) -> bool {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match gvr.plural.as_str() {
        "nodes" | "endpoints" | "endpointslices" => true,
        "services" => ns == "default" && name == "kubernetes",
        _ => false,
    }
}

/// The simulator's seed for `opts`, as a store.
pub fn seed_store(opts: &WorldOptions) -> Result<Store> {
    let store = Store::new();
    smh_sim::world::seed(&store, opts).map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
    Ok(store)
}

/// Create the seed's objects on the cluster: namespaces first, Deployments last (after the
/// ServiceAccounts and ConfigMaps their pods use). Returns how many Deployments it holds.
pub async fn seed(client: &kube::Client, opts: &WorldOptions) -> Result<usize> {
    let store = seed_store(opts)?;
    let mut gvrs = store.resources();
    let rank = |g: &Gvr| match g.plural.as_str() {
        "namespaces" => 0,
        "deployments" => 2,
        _ => 1,
    };
    gvrs.sort_by_key(|g| rank(g));
    let mut deployments = 0;
    for gvr in gvrs {
        for mut obj in store.list(&gvr, None).0 {
            if made_by_the_control_plane(&gvr, &obj) {
                continue;
            }
            let lb = obj.pointer("/status/loadBalancer").cloned();
            strip_server_fields(&mut obj);
            create(client, &gvr, &obj).await?;
            if gvr.plural == "deployments" {
                deployments += 1;
            }
            if let (Some(lb), "services") = (lb, gvr.plural.as_str()) {
                let api: Api<DynamicObject> = Api::namespaced_with(
                    client.clone(),
                    obj.pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    &resource(&gvr, "Service"),
                );
                let name = obj
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                api.patch_status(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(serde_json::json!({"status": {"loadBalancer": lb}})),
                )
                .await
                .with_context(|| format!("setting the load balancer address of {name}"))?;
            }
        }
    }
    Ok(deployments)
}
