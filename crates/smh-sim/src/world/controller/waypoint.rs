//! istiod's deployment controller for waypoints: for every Gateway API Gateway of class
//! `istio-waypoint`, the ServiceAccount, Deployment and Service istiod's waypoint template
//! makes (each named after the Gateway, owned by it, labelled
//! `gateway.networking.k8s.io/gateway-name`, `gateway.networking.k8s.io/gateway-class-name`
//! and, on the Deployment, its pods and the Service, `gateway.istio.io/managed:
//! istio.io-mesh-controller`), and the Gateway's status: `Accepted`, and `Programmed` with
//! the Service's cluster IP as its address once the Deployment is available (before that,
//! `Programmed=False` and no address, which is how istiod tells that the proxy is not ready).
//!
//! The Deployment runs one `istio-proxy` container of istiod's release (`proxyv2`, the
//! variant of istiod's own image) with `args: [proxy, waypoint, ...]`, ports 15020, 15021
//! and 15090, the `/healthz/ready` readiness probe on 15021, and pod labels
//! `sidecar.istio.io/inject: "false"` and `istio.io/dataplane-mode: none` (a waypoint is
//! neither injected nor captured). The Service has ports `status-port` 15021 and `mesh`
//! 15008 (HBONE). What exists already is left as it is, as for the other seeded objects.

use serde_json::{Value, json};

use crate::ready::deployment_pending;
use crate::store::{Store, StoreError};
use crate::world::ambient::{
    DATAPLANE_MODE_LABEL, GATEWAY_NAME_LABEL, HBONE_PORT, MANAGED_LABEL, MESH_CONTROLLER,
    WAYPOINT_CLASS, gateways,
};
use crate::world::obj::{self, is_deleting, name, namespace, owner_ref, str_at};

const CLASS_LABEL: &str = "gateway.networking.k8s.io/gateway-class-name";

pub(super) fn sync(store: &Store, istio_version: Option<&str>) {
    let (gws, _) = store.list(&gateways(), None);
    for gw in gws.iter().filter(|g| !is_deleting(g)) {
        if str_at(gw, "/spec/gatewayClassName") != WAYPOINT_CLASS {
            continue;
        }
        let _ = sync_one(store, gw, istio_version);
    }
}

/// The proxy image of istiod's release: istiod's own image with `pilot` replaced by
/// `proxyv2` (so the tag and its variant, e.g. `-distroless`, are istiod's).
fn proxy_image(store: &Store, istio_version: Option<&str>) -> String {
    let istiod = store
        .get(&obj::deployments(), "istio-system", "istiod")
        .and_then(|d| {
            d.pointer("/spec/template/spec/containers/0/image")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    match istiod.as_deref().and_then(|i| i.split_once("/pilot:")) {
        Some((repo, tag)) => format!("{repo}/proxyv2:{tag}"),
        None => format!(
            "docker.io/istio/proxyv2:{}",
            istio_version.unwrap_or("1.24.2")
        ),
    }
}

fn create_missing(store: &Store, gvr: &crate::store::Gvr, obj: Value) -> Result<(), StoreError> {
    match store.create(gvr, obj) {
        Ok(_) | Err(StoreError::AlreadyExists(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A free cluster IP in 10.96.200.0/22 (the seed allocates from 10.96.0.100 upwards).
fn free_cluster_ip(store: &Store) -> String {
    let (services, _) = store.list(&obj::services(), None);
    let used: std::collections::BTreeSet<&str> = services
        .iter()
        .map(|s| str_at(s, "/spec/clusterIP"))
        .collect();
    (0u32..1024)
        .map(|n| format!("10.96.{}.{}", 200 + (n >> 8), n & 0xff))
        .find(|ip| !ip.ends_with(".0") && !used.contains(ip.as_str()))
        .unwrap_or_else(|| "10.96.203.255".to_string())
}

fn sync_one(store: &Store, gw: &Value, istio_version: Option<&str>) -> Result<(), StoreError> {
    let (ns, gw_name) = (namespace(gw), name(gw));
    let owner = json!([owner_ref(gw, "gateway.networking.k8s.io/v1", "Gateway")]);
    let labels = json!({GATEWAY_NAME_LABEL: gw_name, CLASS_LABEL: WAYPOINT_CLASS});
    let managed = json!({GATEWAY_NAME_LABEL: gw_name, CLASS_LABEL: WAYPOINT_CLASS,
                         MANAGED_LABEL: MESH_CONTROLLER});
    if store.get(&obj::service_accounts(), ns, gw_name).is_none() {
        create_missing(
            store,
            &obj::service_accounts(),
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": gw_name, "namespace": ns, "labels": labels,
                                "ownerReferences": owner}}),
        )?;
    }
    if store.get(&obj::deployments(), ns, gw_name).is_none() {
        let mut pod_labels = managed.clone();
        pod_labels["sidecar.istio.io/inject"] = json!("false");
        pod_labels[DATAPLANE_MODE_LABEL] = json!("none");
        pod_labels["service.istio.io/canonical-name"] = json!(gw_name);
        pod_labels["service.istio.io/canonical-revision"] = json!("latest");
        create_missing(
            store,
            &obj::deployments(),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": gw_name, "namespace": ns, "labels": managed,
                                "generation": 1, "ownerReferences": owner},
                   "spec": {
                       "replicas": 1,
                       "selector": {"matchLabels": {GATEWAY_NAME_LABEL: gw_name}},
                       "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                       "revisionHistoryLimit": 10,
                       "progressDeadlineSeconds": 600,
                       "template": {
                           "metadata": {"labels": pod_labels,
                                        "annotations": {"istio.io/rev": "default"}},
                           "spec": {"serviceAccountName": gw_name,
                               "containers": [{"name": "istio-proxy",
                                   "image": proxy_image(store, istio_version),
                                   "args": ["proxy", "waypoint", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
                                            "--serviceCluster", format!("{gw_name}.$(POD_NAMESPACE)")],
                                   "ports": [{"containerPort": 15020, "name": "metrics", "protocol": "TCP"},
                                             {"containerPort": 15021, "name": "status-port", "protocol": "TCP"},
                                             {"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
                                   "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021},
                                                      "periodSeconds": 15, "failureThreshold": 4}}]}}}}),
        )?;
    }
    if store.get(&obj::services(), ns, gw_name).is_none() {
        let ip = free_cluster_ip(store);
        create_missing(
            store,
            &obj::services(),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": gw_name, "namespace": ns, "labels": managed,
                                "ownerReferences": owner},
                   "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                            "selector": {GATEWAY_NAME_LABEL: gw_name},
                            "sessionAffinity": "None", "ipFamilies": ["IPv4"],
                            "ipFamilyPolicy": "SingleStack",
                            "ports": [{"name": "status-port", "port": 15021, "targetPort": 15021,
                                       "protocol": "TCP", "appProtocol": "tcp"},
                                      {"name": "mesh", "port": HBONE_PORT, "targetPort": HBONE_PORT,
                                       "protocol": "TCP", "appProtocol": "all"}]}}),
        )?;
    }
    write_status(store, gw)
}

/// The Gateway's status as istiod reports it; written only when its meaning changes.
fn write_status(store: &Store, gw: &Value) -> Result<(), StoreError> {
    let (ns, gw_name) = (namespace(gw), name(gw));
    let ready = store
        .get(&obj::deployments(), ns, gw_name)
        .is_some_and(|d| deployment_pending(&d).is_none());
    let ip = store
        .get(&obj::services(), ns, gw_name)
        .map(|s| str_at(&s, "/spec/clusterIP").to_string())
        .filter(|ip| !ip.is_empty());
    let addresses = match (&ip, ready) {
        (Some(ip), true) => json!([{"type": "IPAddress", "value": ip}]),
        _ => json!([]),
    };
    let programmed = if ready && ip.is_some() {
        (
            "True",
            "Programmed",
            "Resource programmed, assigned to service(s)".to_string(),
        )
    } else {
        (
            "False",
            "NoResources",
            format!("Deployment {ns}/{gw_name} is not available yet"),
        )
    };
    let current = gw.get("status");
    let seen = |kind: &str| {
        current
            .and_then(|s| s.get("conditions"))
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| str_at(c, "/type") == kind))
            .map(|c| str_at(c, "/status").to_string())
    };
    let same_addresses = current
        .and_then(|s| s.get("addresses"))
        .cloned()
        .unwrap_or(json!([]))
        == addresses;
    if same_addresses
        && seen("Accepted").as_deref() == Some("True")
        && seen("Programmed").as_deref() == Some(programmed.0)
    {
        return Ok(());
    }
    let generation = gw
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let now = obj::now_rfc3339();
    let mut status = json!({"conditions": [
        {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Resource accepted",
         "observedGeneration": generation, "lastTransitionTime": now},
        {"type": "Programmed", "status": programmed.0, "reason": programmed.1, "message": programmed.2,
         "observedGeneration": generation, "lastTransitionTime": now},
    ]});
    if addresses.as_array().is_some_and(|a| !a.is_empty()) {
        status["addresses"] = addresses;
    }
    let mut updated = gw.clone();
    updated["status"] = status;
    store.update(&gateways(), updated).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::ambient::waypoint_gateway;

    #[test]
    fn a_waypoint_gets_its_proxy_and_an_address_once_the_proxy_is_available() {
        let store = Store::new();
        store
            .create(&gateways(), waypoint_gateway("bookinfo", "waypoint"))
            .unwrap();
        sync(&store, Some("1.24.2"));
        let d = store
            .get(&obj::deployments(), "bookinfo", "waypoint")
            .unwrap();
        assert_eq!(
            d["spec"]["template"]["metadata"]["labels"][MANAGED_LABEL],
            MESH_CONTROLLER
        );
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["image"],
            "docker.io/istio/proxyv2:1.24.2"
        );
        let svc = store.get(&obj::services(), "bookinfo", "waypoint").unwrap();
        assert_eq!(svc["spec"]["ports"][1]["port"], 15008);
        let gw = store.get(&gateways(), "bookinfo", "waypoint").unwrap();
        assert_eq!(gw["status"]["conditions"][1]["status"], "False");
        assert!(gw["status"].get("addresses").is_none(), "{gw}");

        // The Deployment becomes available: the Gateway gets the Service's address.
        let mut d = d;
        d["status"] = json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                             "readyReplicas": 1, "availableReplicas": 1,
                             "conditions": [{"type": "Available", "status": "True"}]});
        store.update(&obj::deployments(), d).unwrap();
        sync(&store, Some("1.24.2"));
        let gw = store.get(&gateways(), "bookinfo", "waypoint").unwrap();
        assert_eq!(gw["status"]["conditions"][1]["status"], "True");
        assert_eq!(
            gw["status"]["addresses"],
            json!([{"type": "IPAddress", "value": svc["spec"]["clusterIP"]}])
        );
        let rv = str_at(&gw, "/metadata/resourceVersion").to_string();
        sync(&store, Some("1.24.2"));
        let again = store.get(&gateways(), "bookinfo", "waypoint").unwrap();
        assert_eq!(
            str_at(&again, "/metadata/resourceVersion"),
            rv,
            "no rewrite"
        );
    }
}
