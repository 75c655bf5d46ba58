//! A simulated cluster as Istio's ambient profile leaves it (`demo up --ambient`), on top of
//! what [`seed`](mod@super::seed) writes for every cluster:
//!
//! - istiod configured as the ambient profile sets it (Istio's `ambient` Helm profile:
//!   `pilot.env.PILOT_ENABLE_AMBIENT: "true"`, the mesh config's
//!   `defaultConfig.proxyMetadata.ISTIO_META_ENABLE_HBONE: "true"`, and the `distroless`
//!   image variant), written by the seed itself;
//! - the node agents as DaemonSets in istio-system: `ztunnel` (label `app: ztunnel`, image
//!   `docker.io/istio/ztunnel:<version>-distroless`) and `istio-cni-node` (with
//!   `ambient.enabled`); the controllers give them their pods
//!   ([`controller`](super::controller));
//! - the Gateway API CRDs (`gatewayclasses` and `gateways` of `gateway.networking.k8s.io`,
//!   served as v1 and v1beta1, stored as v1), and the GatewayClass `istio-waypoint` that
//!   istiod creates when it starts (controller `istio.io/mesh-controller`);
//! - bookinfo's namespace labelled `istio.io/dataplane-mode=ambient` (no sidecar injection)
//!   and `istio.io/use-waypoint=waypoint`, with the waypoint `istioctl waypoint apply -n
//!   bookinfo --enroll-namespace` creates: Gateway `bookinfo/waypoint` of class
//!   `istio-waypoint`, label `istio.io/waypoint-for: service`, one HBONE listener `mesh` on
//!   port 15008. Its listener also allows routes from every namespace (`allowedRoutes:
//!   {namespaces: {from: All}}`), so that the ServiceEntries kubectl-smh writes in
//!   `service-mesh-hub` may use it; without that Istio would refuse the binding and `check`
//!   says so. istiod's deployment controller then makes its Deployment, Service and pods
//!   and, once the proxy is ready, reports the Gateway's address
//!   ([`controller`](super::controller)'s waypoint part);
//! - what Istio's ambient multicluster install (1.27 and later, alpha) adds, each cluster
//!   on its own network (multi-primary, different networks, as upstream supports it):
//!   istiod's `AMBIENT_ENABLE_MULTI_NETWORK=true` and istio-system labelled
//!   `topology.istio.io/network=<network>` (`network1` for mgmt-cluster, `network2` for
//!   remote-cluster; [`WorldOptions::network`]), written by the seed, as are the mesh
//!   config's `serviceScopeConfigs` of Istio's ambient profile (Services labelled
//!   `istio.io/global: "true"` are global) and that label on every bookinfo Service
//!   ([`GLOBAL_LABEL`]); the GatewayClass `istio-east-west` that istiod creates with the
//!   switch on (controller `istio.io/eastwest-controller`); and the east-west gateway that
//!   Istio's multicluster guide has each cluster expose (`istioctl multicluster expose`,
//!   or `samples/multicluster/gen-eastwest-gateway.sh --ambient`): Gateway
//!   `istio-system/istio-eastwestgateway` of class `istio-east-west`, labelled with the
//!   cluster's network, one listener `mesh` on port 15008, protocol HBONE, TLS
//!   `Terminate` (`ISTIO_MUTUAL`). istiod's deployment controller makes its Deployment
//!   and its `LoadBalancer` Service (labelled with the network, ports 15021 and 15008), the
//!   simulated load balancer gives that Service an external address, and the Gateway gets
//!   it as its address ([`controller`](super::controller)). The gateway's pod runs and
//!   answers its health checks, but forwards nothing: cross-network traffic in the
//!   simulator goes straight to the remote pod once istiod's rules let the caller have
//!   it (see [`mesh::inputs`](super::mesh::inputs)).
//!
//! The data plane of ambient pods (ztunnel, and the waypoint's Envoy) is
//! [`mesh::ztunnel`](super::mesh::ztunnel).

use serde_json::{Value, json};

use super::WorldOptions;
use super::seed::Seeder;
use crate::store::{Gvr, StoreError};
pub(crate) use smh_core::inspect::discovery::ambient::{
    DATAPLANE_MODE_LABEL, GATEWAY_GROUP, MANAGED_LABEL, MESH_CONTROLLER, WAYPOINT_CLASS,
};
pub(crate) use smh_core::inspect::discovery::ambient::{MULTI_NETWORK_ENV, NETWORK_LABEL};
pub(crate) use smh_core::translate::ambient::{GLOBAL_LABEL, USE_WAYPOINT_LABEL};

/// The controller name of istiod's waypoint GatewayClass.
pub(crate) const MESH_CONTROLLER_NAME: &str = "istio.io/mesh-controller";
/// The GatewayClass of Istio's ambient east-west gateways (istiod creates it when
/// `AMBIENT_ENABLE_MULTI_NETWORK` is on).
pub(crate) const EAST_WEST_CLASS: &str = "istio-east-west";
/// The controller name of [`EAST_WEST_CLASS`].
pub(crate) const EAST_WEST_CONTROLLER_NAME: &str = "istio.io/eastwest-controller";
/// The `gateway.istio.io/managed` value istiod's deployment controller puts on what it makes
/// for an east-west gateway.
pub(crate) const EAST_WEST_CONTROLLER: &str = "istio.io-eastwest-controller";
/// The east-west gateway's name, in istio-system, as Istio's multicluster guide names it.
pub const EAST_WEST_GATEWAY: &str = "istio-eastwestgateway";
/// The Istio release `demo up --ambient` installs by default: ambient mode across clusters
/// needs 1.27 or later.
pub const AMBIENT_ISTIO_VERSION: &str = "1.28.1";
/// The mesh config's `serviceScopeConfigs` as Istio's ambient profile sets them: Services
/// labelled [`GLOBAL_LABEL`]` = "true"` are global.
pub(crate) const AMBIENT_SERVICE_SCOPES: &str = "serviceScopeConfigs:\n- servicesSelector:\n    matchExpressions:\n    - key: istio.io/global\n      operator: In\n      values:\n      - \"true\"\n  scope: GLOBAL\n";
/// The label naming the Gateway a generated object belongs to.
pub(crate) const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";
/// The waypoint's HBONE port.
pub(crate) const HBONE_PORT: u16 = 15008;

/// The demo's waypoint: its name, in bookinfo's namespace.
pub(crate) const DEMO_WAYPOINT: &str = "waypoint";

/// Gateway API Gateways in the version the simulator stores them under.
pub(crate) fn gateways() -> Gvr {
    Gvr::new(GATEWAY_GROUP, "v1", "gateways")
}

/// Gateway API GatewayClasses in the version the simulator stores them under.
pub(crate) fn gateway_classes() -> Gvr {
    Gvr::new(GATEWAY_GROUP, "v1", "gatewayclasses")
}

/// DaemonSets.
pub(crate) fn daemon_sets() -> Gvr {
    Gvr::new("apps", "v1", "daemonsets")
}

/// A CRD of Gateway API's group, served as v1 and v1beta1 (stored as v1), with a status
/// subresource and `columns` for `kubectl get` (Gateway API's own, without the ones that need
/// a JSONPath filter, which the simulator's printer does not evaluate). The schema keeps every field (`x-kubernetes-preserve-unknown-fields`): the
/// simulator stores Gateway API objects, it does not validate them.
fn gateway_api_crd(plural: &str, kind: &str, scope: &str, short: &str, columns: Value) -> Value {
    let schema = json!({"openAPIV3Schema": {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}});
    let version = |name: &str, storage: bool| {
        json!({"name": name, "served": true, "storage": storage, "schema": schema,
               "subresources": {"status": {}}, "additionalPrinterColumns": columns})
    };
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": format!("{plural}.{GATEWAY_GROUP}"),
                        "annotations": {"gateway.networking.k8s.io/bundle-version": "v1.2.0",
                                        "gateway.networking.k8s.io/channel": "standard"}},
           "spec": {"group": GATEWAY_GROUP, "scope": scope,
                    "names": {"plural": plural, "singular": kind.to_ascii_lowercase(), "kind": kind,
                              "listKind": format!("{kind}List"), "shortNames": [short],
                              "categories": ["gateway-api"]},
                    "versions": [version("v1", true), version("v1beta1", false)]}})
}

/// The Gateway API CRDs the simulator serves in an ambient cluster: GatewayClass and Gateway.
pub(crate) fn gateway_api_crds() -> Vec<Value> {
    vec![
        gateway_api_crd(
            "gatewayclasses",
            "GatewayClass",
            "Cluster",
            "gc",
            json!([{"name": "Controller", "type": "string", "jsonPath": ".spec.controllerName"},
                   {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]),
        ),
        gateway_api_crd(
            "gateways",
            "Gateway",
            "Namespaced",
            "gtw",
            json!([{"name": "Class", "type": "string", "jsonPath": ".spec.gatewayClassName"},
                   {"name": "Address", "type": "string", "jsonPath": ".status.addresses[*].value"},
                   {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]),
        ),
    ]
}

/// The labels of bookinfo's namespace in an ambient cluster.
pub(crate) fn bookinfo_namespace_labels() -> Value {
    json!({DATAPLANE_MODE_LABEL: "ambient", USE_WAYPOINT_LABEL: DEMO_WAYPOINT})
}

/// A node agent DaemonSet of istio-system (one pod per node).
fn daemon_set(name: &str, labels: &Value, pod_spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
           "metadata": {"name": name, "namespace": "istio-system", "labels": labels,
                        "generation": 1},
           "spec": {"selector": {"matchLabels": labels},
                    "updateStrategy": {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                    "revisionHistoryLimit": 10,
                    "template": {"metadata": {"labels": merge_sidecar_off(labels)},
                                 "spec": pod_spec}}})
}

/// Pod labels that keep the sidecar injector away, as Istio's charts write them.
fn merge_sidecar_off(labels: &Value) -> Value {
    let mut l = labels.clone();
    l["sidecar.istio.io/inject"] = json!("false");
    l
}

/// The ambient objects of one cluster (see the module documentation); for a cluster whose
/// options are not ambient, nothing.
pub(super) fn seed(s: &mut Seeder, opts: &WorldOptions) -> Result<(), StoreError> {
    if !opts.ambient {
        return Ok(());
    }
    let v = &opts.istio_version;
    let crds = Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    for crd in gateway_api_crds() {
        s.put(&crds, crd)?;
    }
    let ztunnel = json!({"app": "ztunnel"});
    s.service_account("istio-system", "ztunnel", json!({}))?;
    s.put(
        &daemon_sets(),
        daemon_set(
            "ztunnel",
            &ztunnel,
            json!({"serviceAccountName": "ztunnel", "priorityClassName": "system-node-critical",
                   "containers": [{"name": "istio-proxy",
                       "image": format!("docker.io/istio/ztunnel:{v}-distroless"),
                       "args": ["proxy", "ztunnel"],
                       "env": [{"name": "CA_ADDRESS", "value": "istiod.istio-system.svc:15012"},
                               {"name": "XDS_ADDRESS", "value": "istiod.istio-system.svc:15012"},
                               {"name": "CLUSTER_ID", "value": opts.cluster_id}],
                       "ports": [{"containerPort": 15020, "name": "ztunnel-stats", "protocol": "TCP"}]}]}),
        ),
    )?;
    let cni = json!({"k8s-app": "istio-cni-node"});
    s.service_account("istio-system", "istio-cni", json!({}))?;
    s.put(
        &daemon_sets(),
        daemon_set(
            "istio-cni-node",
            &cni,
            json!({"serviceAccountName": "istio-cni", "priorityClassName": "system-node-critical",
                   "containers": [{"name": "install-cni",
                       "image": format!("docker.io/istio/install-cni:{v}-distroless"),
                       "command": ["install-cni"],
                       "env": [{"name": "AMBIENT_ENABLED", "value": "true"}]}]}),
        ),
    )?;
    s.put(
        &gateway_classes(),
        json!({"apiVersion": format!("{GATEWAY_GROUP}/v1"), "kind": "GatewayClass",
               "metadata": {"name": WAYPOINT_CLASS},
               "spec": {"controllerName": MESH_CONTROLLER_NAME,
                        "description": "The default Istio waypoint GatewayClass"},
               "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                   "message": "Handled by Istio controller", "observedGeneration": 1,
                   "lastTransitionTime": super::obj::now_rfc3339()}]}}),
    )?;
    s.put(
        &gateway_classes(),
        json!({"apiVersion": format!("{GATEWAY_GROUP}/v1"), "kind": "GatewayClass",
               "metadata": {"name": EAST_WEST_CLASS},
               "spec": {"controllerName": EAST_WEST_CONTROLLER_NAME,
                        "description": "The default GatewayClass for Istio East West Gateways"},
               "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                   "message": "Handled by Istio controller", "observedGeneration": 1,
                   "lastTransitionTime": super::obj::now_rfc3339()}]}}),
    )?;
    s.put(&gateways(), east_west_gateway(&opts.network))?;
    if opts.layout != super::Layout::Empty {
        s.put(&gateways(), waypoint_gateway("bookinfo", DEMO_WAYPOINT))?;
    }
    Ok(())
}

/// The east-west gateway into `network` that `istioctl multicluster expose` (and
/// `samples/multicluster/gen-eastwest-gateway.sh --network <network> --ambient`) creates.
pub(crate) fn east_west_gateway(network: &str) -> Value {
    json!({"apiVersion": format!("{GATEWAY_GROUP}/v1"), "kind": "Gateway",
           "metadata": {"name": EAST_WEST_GATEWAY, "namespace": "istio-system", "generation": 1,
                        "labels": {NETWORK_LABEL: network}},
           "spec": {"gatewayClassName": EAST_WEST_CLASS,
                    "listeners": [{"name": "mesh", "port": HBONE_PORT, "protocol": "HBONE",
                                   "tls": {"mode": "Terminate",
                                           "options": {"gateway.istio.io/tls-terminate-mode": "ISTIO_MUTUAL"}}}]}})
}

/// The waypoint `istioctl waypoint apply -n <namespace> --name <name>` creates, with its
/// listener allowing routes from every namespace.
pub(crate) fn waypoint_gateway(namespace: &str, name: &str) -> Value {
    json!({"apiVersion": format!("{GATEWAY_GROUP}/v1"), "kind": "Gateway",
           "metadata": {"name": name, "namespace": namespace, "generation": 1,
                        "labels": {"istio.io/waypoint-for": "service"}},
           "spec": {"gatewayClassName": WAYPOINT_CLASS,
                    "listeners": [{"name": "mesh", "port": HBONE_PORT, "protocol": "HBONE",
                                   "allowedRoutes": {"namespaces": {"from": "All"}}}]}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::world::{obj, seed::seed};
    use smh_core::model::topology::MultiClusterMode;

    fn seeded(ambient: bool, index: usize) -> Store {
        let version = if ambient {
            AMBIENT_ISTIO_VERSION
        } else {
            "1.24.2"
        };
        let mut opts = WorldOptions::demo(
            MultiClusterMode::MultiPrimary,
            version,
            std::time::Duration::ZERO,
        )
        .remove(index);
        opts.ambient = ambient;
        let store = Store::new();
        seed(&store, &opts).unwrap();
        store
    }

    #[test]
    fn an_ambient_cluster_runs_ztunnel_serves_gateway_api_and_enrolls_bookinfo() {
        for index in [0, 1] {
            let store = seeded(true, index);
            let ns = store.get(&obj::namespaces(), "", "bookinfo").unwrap();
            let labels = obj::labels(&ns);
            assert_eq!(labels[DATAPLANE_MODE_LABEL], "ambient");
            assert_eq!(labels[USE_WAYPOINT_LABEL], DEMO_WAYPOINT);
            assert!(!labels.contains_key("istio-injection"));
            for ds in ["ztunnel", "istio-cni-node"] {
                assert!(
                    store.get(&daemon_sets(), "istio-system", ds).is_some(),
                    "{ds}"
                );
            }
            let crds = Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions");
            for crd in [
                "gateways.gateway.networking.k8s.io",
                "gatewayclasses.gateway.networking.k8s.io",
            ] {
                let c = store.get(&crds, "", crd).unwrap();
                assert!(
                    crate::api::registry::crd_resources(&c).is_ok(),
                    "{crd} is served"
                );
            }
            assert!(store.get(&gateway_classes(), "", WAYPOINT_CLASS).is_some());
            let wp = store.get(&gateways(), "bookinfo", DEMO_WAYPOINT).unwrap();
            assert_eq!(wp["spec"]["listeners"][0]["port"], HBONE_PORT);
            let istiod = store
                .get(&obj::deployments(), "istio-system", "istiod")
                .unwrap();
            let c = &istiod["spec"]["template"]["spec"]["containers"][0];
            assert_eq!(c["image"], "docker.io/istio/pilot:1.28.1-distroless");
            let env = c["env"].as_array().unwrap();
            assert!(env.contains(&json!({"name": "PILOT_ENABLE_AMBIENT", "value": "true"})));
            assert!(env.contains(&json!({"name": MULTI_NETWORK_ENV, "value": "true"})));
            let mesh = store
                .get(&obj::config_maps(), "istio-system", "istio")
                .unwrap();
            let mesh_text = mesh["data"]["mesh"].as_str().unwrap();
            assert!(mesh_text.contains("ISTIO_META_ENABLE_HBONE: \"true\""));
            // The ambient profile's serviceScopeConfigs, as istiod reads the mesh config.
            let parsed: Value = serde_saphyr::from_str(mesh_text).unwrap();
            assert_eq!(
                parsed["serviceScopeConfigs"],
                json!([{"servicesSelector": {"matchExpressions": [
                            {"key": "istio.io/global", "operator": "In", "values": ["true"]}]},
                        "scope": "GLOBAL"}])
            );
            assert_eq!(parsed["rootNamespace"], "istio-system");
            // Each cluster on its own network.
            let network = format!("network{}", index + 1);
            let istio_ns = store.get(&obj::namespaces(), "", "istio-system").unwrap();
            assert_eq!(obj::labels(&istio_ns)[NETWORK_LABEL], network);
            // Every bookinfo Service is global.
            let (services, _) = store.list(&obj::services(), Some("bookinfo"));
            assert!(!services.is_empty());
            for svc in &services {
                assert_eq!(obj::labels(svc)[GLOBAL_LABEL], "true", "{}", obj::name(svc));
            }
            // The east-west gateway into the cluster's network, and istiod's class for it.
            let class = store.get(&gateway_classes(), "", EAST_WEST_CLASS).unwrap();
            assert_eq!(class["spec"]["controllerName"], EAST_WEST_CONTROLLER_NAME);
            let ew = store
                .get(&gateways(), "istio-system", EAST_WEST_GATEWAY)
                .unwrap();
            assert_eq!(obj::labels(&ew)[NETWORK_LABEL], network);
            assert_eq!(ew["spec"]["gatewayClassName"], EAST_WEST_CLASS);
            let listener = &ew["spec"]["listeners"][0];
            assert_eq!(
                (
                    &listener["port"],
                    &listener["protocol"],
                    &listener["tls"]["mode"]
                ),
                (&json!(15008), &json!("HBONE"), &json!("Terminate"))
            );
        }
        // A sidecar cluster has none of it.
        let store = seeded(false, 0);
        let ns = store.get(&obj::namespaces(), "", "bookinfo").unwrap();
        assert_eq!(obj::labels(&ns)["istio-injection"], "enabled");
        assert!(store.list(&daemon_sets(), None).0.is_empty());
        assert!(store.list(&gateways(), None).0.is_empty());
        let istiod = store
            .get(&obj::deployments(), "istio-system", "istiod")
            .unwrap();
        assert!(!istiod.to_string().contains(MULTI_NETWORK_ENV));
        let (services, _) = store.list(&obj::services(), Some("bookinfo"));
        assert!(
            services
                .iter()
                .all(|s| !obj::labels(s).contains_key(GLOBAL_LABEL))
        );
    }
}
