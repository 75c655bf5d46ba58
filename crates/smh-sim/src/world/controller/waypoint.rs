//! istiod's deployment controller for waypoints and ambient east-west gateways: for every
//! Gateway API Gateway of class `istio-waypoint` or `istio-east-west`, the ServiceAccount,
//! Deployment and Service istiod's `waypoint` template makes (each named after the Gateway,
//! owned by it, labelled `gateway.networking.k8s.io/gateway-name`,
//! `gateway.networking.k8s.io/gateway-class-name` and, on the Deployment, its pods,
//! `gateway.istio.io/managed`: `istio.io-mesh-controller` for a waypoint,
//! `istio.io-eastwest-controller` for an east-west gateway), and the Gateway's status:
//! `Accepted`, and `Programmed` with an address once the Deployment is available (before
//! that, `Programmed=False` and no address, which is how istiod tells that the proxy is not
//! ready).
//!
//! The Deployment runs one `istio-proxy` container of istiod's release (`proxyv2`, the
//! variant of istiod's own image) with `args: [proxy, waypoint, ...]`, ports 15020, 15021
//! and 15090, the `/healthz/ready` readiness probe on 15021, and pod labels
//! `sidecar.istio.io/inject: "false"` and `istio.io/dataplane-mode: none` (neither is
//! injected nor captured).
//!
//! - A waypoint's Service is of type `ClusterIP`, with ports `status-port` 15021 and `mesh`
//!   15008 (HBONE); its address is the Service's cluster IP.
//! - An east-west gateway's objects also carry the Gateway's own labels (istiod's
//!   "infrastructure labels", among them `topology.istio.io/network`), its proxy gets
//!   `ISTIO_META_NETWORK` and `ISTIO_META_REQUESTED_NETWORK_VIEW` set to that network, and
//!   its Service is of type `LoadBalancer` (the class's default) with ports `status-port`
//!   15021 and one per listener (`mesh` 15008, appProtocol `hbone`), as istiod's
//!   `extractServicePorts` lists them. Its address is the load balancer's (the cluster's
//!   simulated load balancer gives one, see [`super::loadbalancer`]); while the load
//!   balancer has none, the Gateway stays `Programmed=False` without an address. That
//!   labelled Service with port 15008 and an external address is what istiod's network
//!   manager takes as the network's gateway (`getGatewayDetails`).
//!
//! What exists already is left as it is, as for the other seeded objects.

use serde_json::{Value, json};

use crate::ready::deployment_pending;
use crate::store::{Store, StoreError};
use crate::world::ambient::{
    DATAPLANE_MODE_LABEL, EAST_WEST_CLASS, EAST_WEST_CONTROLLER, GATEWAY_NAME_LABEL, HBONE_PORT,
    MANAGED_LABEL, MESH_CONTROLLER, NETWORK_LABEL, WAYPOINT_CLASS, gateways,
};
use crate::world::obj::{self, is_deleting, name, namespace, owner_ref, str_at};

const CLASS_LABEL: &str = "gateway.networking.k8s.io/gateway-class-name";

/// Which of istiod's managed classes a Gateway is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Waypoint,
    EastWest,
}

impl Class {
    fn of(gw: &Value) -> Option<Class> {
        match str_at(gw, "/spec/gatewayClassName") {
            WAYPOINT_CLASS => Some(Class::Waypoint),
            EAST_WEST_CLASS => Some(Class::EastWest),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::Waypoint => WAYPOINT_CLASS,
            Class::EastWest => EAST_WEST_CLASS,
        }
    }

    /// The `gateway.istio.io/managed` value.
    fn managed(self) -> &'static str {
        match self {
            Class::Waypoint => MESH_CONTROLLER,
            Class::EastWest => EAST_WEST_CONTROLLER,
        }
    }
}

pub(super) fn sync(store: &Store, istio_version: Option<&str>) {
    let (gws, _) = store.list(&gateways(), None);
    for gw in gws.iter().filter(|g| !is_deleting(g)) {
        if let Some(class) = Class::of(gw) {
            let _ = sync_one(store, gw, class, istio_version);
        }
    }
}

/// `base` with the labels of `gw` added under it (an east-west gateway's objects carry the
/// Gateway's labels; a waypoint's, in the simulator, only istiod's own).
fn with_gateway_labels(base: Value, gw: &Value, class: Class) -> Value {
    let mut out = base;
    if class == Class::EastWest {
        for (k, v) in obj::labels(gw) {
            if out.get(&k).is_none() {
                out[k] = json!(v);
            }
        }
    }
    out
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

fn sync_one(
    store: &Store,
    gw: &Value,
    class: Class,
    istio_version: Option<&str>,
) -> Result<(), StoreError> {
    let (ns, gw_name) = (namespace(gw), name(gw));
    let owner = json!([owner_ref(gw, "gateway.networking.k8s.io/v1", "Gateway")]);
    let labels = with_gateway_labels(
        json!({GATEWAY_NAME_LABEL: gw_name, CLASS_LABEL: class.name()}),
        gw,
        class,
    );
    let managed = with_gateway_labels(
        json!({GATEWAY_NAME_LABEL: gw_name, CLASS_LABEL: class.name(),
               MANAGED_LABEL: class.managed()}),
        gw,
        class,
    );
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
        let mut container = json!({"name": "istio-proxy",
            "image": proxy_image(store, istio_version),
            "args": ["proxy", "waypoint", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
                     "--serviceCluster", format!("{gw_name}.$(POD_NAMESPACE)")],
            "ports": [{"containerPort": 15020, "name": "metrics", "protocol": "TCP"},
                      {"containerPort": 15021, "name": "status-port", "protocol": "TCP"},
                      {"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
            "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021},
                               "periodSeconds": 15, "failureThreshold": 4}});
        if class == Class::EastWest
            && let Some(network) = obj::labels(gw).get(NETWORK_LABEL)
        {
            container["env"] = json!([
                {"name": "ISTIO_META_NETWORK", "value": network},
                {"name": "ISTIO_META_REQUESTED_NETWORK_VIEW", "value": network}]);
        }
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
                               "containers": [container]}}}}),
        )?;
    }
    if store.get(&obj::services(), ns, gw_name).is_none() {
        let ip = free_cluster_ip(store);
        let (service_type, service_labels, ports) = match class {
            Class::Waypoint => (
                "ClusterIP",
                managed.clone(),
                json!([{"name": "status-port", "port": 15021, "targetPort": 15021,
                        "protocol": "TCP", "appProtocol": "tcp"},
                       {"name": "mesh", "port": HBONE_PORT, "targetPort": HBONE_PORT,
                        "protocol": "TCP", "appProtocol": "all"}]),
            ),
            Class::EastWest => {
                let mut ports = vec![json!({"name": "status-port", "port": 15021,
                    "targetPort": 15021, "protocol": "TCP", "appProtocol": "tcp"})];
                let mut seen = vec![15021];
                for l in gw
                    .pointer("/spec/listeners")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(port) = l.get("port").and_then(Value::as_u64) else {
                        continue;
                    };
                    if seen.contains(&port) {
                        continue;
                    }
                    seen.push(port);
                    ports.push(json!({"name": str_at(l, "/name"), "port": port,
                        "targetPort": port, "protocol": "TCP",
                        "appProtocol": str_at(l, "/protocol").to_ascii_lowercase()}));
                }
                ("LoadBalancer", labels.clone(), json!(ports))
            }
        };
        create_missing(
            store,
            &obj::services(),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": gw_name, "namespace": ns, "labels": service_labels,
                                "ownerReferences": owner},
                   "spec": {"type": service_type, "clusterIP": ip, "clusterIPs": [ip],
                            "selector": {GATEWAY_NAME_LABEL: gw_name},
                            "sessionAffinity": "None", "ipFamilies": ["IPv4"],
                            "ipFamilyPolicy": "SingleStack",
                            "ports": ports}}),
        )?;
    }
    write_status(store, gw, class)
}

/// The Gateway's status as istiod reports it; written only when its meaning changes.
fn write_status(store: &Store, gw: &Value, class: Class) -> Result<(), StoreError> {
    let (ns, gw_name) = (namespace(gw), name(gw));
    let ready = store
        .get(&obj::deployments(), ns, gw_name)
        .is_some_and(|d| deployment_pending(&d).is_none());
    let svc = store.get(&obj::services(), ns, gw_name);
    // A waypoint's address is its Service's cluster IP; an east-west gateway's, its load
    // balancer's (IP, else hostname).
    let address = svc.as_ref().and_then(|s| match class {
        Class::Waypoint => Some(("IPAddress", str_at(s, "/spec/clusterIP").to_string())),
        Class::EastWest => s.pointer("/status/loadBalancer/ingress/0").and_then(|i| {
            match (str_at(i, "/ip"), str_at(i, "/hostname")) {
                ("", "") => None,
                ("", host) => Some(("Hostname", host.to_string())),
                (ip, _) => Some(("IPAddress", ip.to_string())),
            }
        }),
    });
    let address = address.filter(|(_, a)| !a.is_empty());
    let addresses = match (&address, ready) {
        (Some((kind, value)), true) => json!([{"type": kind, "value": value}]),
        _ => json!([]),
    };
    let programmed = match (ready, &address) {
        (true, Some(_)) => (
            "True",
            "Programmed",
            "Resource programmed, assigned to service(s)".to_string(),
        ),
        (true, None) => (
            "False",
            "AddressNotAssigned",
            format!("address pending for hostname \"{gw_name}.{ns}.svc.cluster.local\""),
        ),
        (false, _) => (
            "False",
            "NoResources",
            format!("Deployment {ns}/{gw_name} is not available yet"),
        ),
    };
    let current = gw.get("status");
    let seen = |kind: &str| {
        current
            .and_then(|s| s.get("conditions"))
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| str_at(c, "/type") == kind))
            .map(|c| {
                (
                    str_at(c, "/status").to_string(),
                    str_at(c, "/reason").to_string(),
                )
            })
    };
    let same_addresses = current
        .and_then(|s| s.get("addresses"))
        .cloned()
        .unwrap_or(json!([]))
        == addresses;
    if same_addresses
        && seen("Accepted").is_some_and(|(status, _)| status == "True")
        && seen("Programmed")
            .is_some_and(|(status, reason)| status == programmed.0 && reason == programmed.1)
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
    use crate::world::ambient::{EAST_WEST_GATEWAY, east_west_gateway, waypoint_gateway};

    fn available(store: &Store, ns: &str, name: &str) {
        let mut d = store.get(&obj::deployments(), ns, name).unwrap();
        d["status"] = json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                             "readyReplicas": 1, "availableReplicas": 1,
                             "conditions": [{"type": "Available", "status": "True"}]});
        store.update(&obj::deployments(), d).unwrap();
    }

    #[test]
    fn an_east_west_gateway_gets_a_load_balancer_service_labelled_with_its_network() {
        let store = Store::new();
        store
            .create(&gateways(), east_west_gateway("network2"))
            .unwrap();
        sync(&store, Some("1.28.1"));
        let ns = "istio-system";
        let d = store
            .get(&obj::deployments(), ns, EAST_WEST_GATEWAY)
            .unwrap();
        let pod_labels = &d["spec"]["template"]["metadata"]["labels"];
        assert_eq!(pod_labels[MANAGED_LABEL], EAST_WEST_CONTROLLER);
        assert_eq!(pod_labels[NETWORK_LABEL], "network2");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "docker.io/istio/proxyv2:1.28.1");
        assert_eq!(
            c["env"],
            json!([{"name": "ISTIO_META_NETWORK", "value": "network2"},
                   {"name": "ISTIO_META_REQUESTED_NETWORK_VIEW", "value": "network2"}])
        );
        let svc = store.get(&obj::services(), ns, EAST_WEST_GATEWAY).unwrap();
        assert_eq!(svc["spec"]["type"], "LoadBalancer");
        assert_eq!(svc["metadata"]["labels"][NETWORK_LABEL], "network2");
        assert_eq!(
            svc["spec"]["ports"][1],
            json!({"name": "mesh", "port": 15008, "targetPort": 15008, "protocol": "TCP",
                   "appProtocol": "hbone"})
        );
        // The proxy is available but the load balancer has given no address yet: no
        // address, Programmed=False.
        available(&store, ns, EAST_WEST_GATEWAY);
        sync(&store, Some("1.28.1"));
        let gw = store.get(&gateways(), ns, EAST_WEST_GATEWAY).unwrap();
        assert_eq!(gw["status"]["conditions"][1]["status"], "False");
        assert_eq!(
            gw["status"]["conditions"][1]["reason"],
            "AddressNotAssigned"
        );
        assert!(gw["status"].get("addresses").is_none(), "{gw}");
        assert_eq!(
            crate::ready::waypoint_pending(&gw).as_deref(),
            Some(
                "no status.addresses (address pending for hostname \"istio-eastwestgateway.istio-system.svc.cluster.local\")"
            )
        );
        // The load balancer's address becomes the Gateway's.
        super::super::loadbalancer::sync(&store, &["172.18.254.201".to_string()]);
        sync(&store, Some("1.28.1"));
        let gw = store.get(&gateways(), ns, EAST_WEST_GATEWAY).unwrap();
        assert_eq!(gw["status"]["conditions"][1]["status"], "True");
        assert_eq!(
            gw["status"]["addresses"],
            json!([{"type": "IPAddress", "value": "172.18.254.201"}])
        );
        assert_eq!(crate::ready::waypoint_pending(&gw), None);
        // What discovery takes for the network's east-west gateway.
        let svc: k8s_openapi::api::core::v1::Service =
            serde_json::from_value(store.get(&obj::services(), ns, EAST_WEST_GATEWAY).unwrap())
                .unwrap();
        let found = smh_core::inspect::discovery::ambient::east_west_gateways(&[svc]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].network.as_str(), found[0].address.as_str()),
            ("network2", "172.18.254.201")
        );
    }

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
