//! Istio's ambient mode, as discovery reads it, following what the pinned istiod does:
//!
//! - **ztunnel**: a DaemonSet named `ztunnel` (or labelled `app=ztunnel`) in istiod's
//!   namespace marks the mesh as ambient.
//! - **Ambient workloads**: a Pod without a sidecar that is labelled
//!   `istio.io/dataplane-mode=ambient`, or whose namespace is and the Pod does not opt out
//!   with `istio.io/dataplane-mode=none` (istio-cni's default enablement), or that istio-cni
//!   has already enrolled (annotation `ambient.istio.io/redirection: enabled`). A Service
//!   selecting such a Pod is ambient.
//! - **Waypoints**: Gateway API Gateways of class `istio-waypoint` with an address in their
//!   status (istiod ignores a Gateway without one: its proxy is not ready). The traffic a
//!   waypoint takes is its label `istio.io/waypoint-for` (`service` when unset; istiod would
//!   also read the label from the GatewayClass, which discovery does not list). The
//!   namespaces it accepts are its HBONE listener's `allowedRoutes.namespaces` (`Same` when
//!   unset; a selector is evaluated on the listed namespaces' labels, `matchLabels` only:
//!   one with `matchExpressions` is read as accepting no other namespace).
//! - **Which waypoint a Service uses**: the Service's `istio.io/use-waypoint` label (`none`
//!   opts out), else its namespace's; the waypoint's namespace is the
//!   `istio.io/use-waypoint-namespace` label at the same level, else the Service's. The
//!   waypoints' own Services (label `gateway.istio.io/managed: istio.io-mesh-controller`)
//!   use none.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube_core::DynamicObject;
use serde_json::Value;

use crate::model::topology::{AmbientService, EastWestGateway, Waypoint, WaypointRef};

/// The label that puts a namespace or Pod into ambient mode (`ambient`) or out (`none`).
pub const DATAPLANE_MODE_LABEL: &str = "istio.io/dataplane-mode";
/// The annotation istio-cni sets on a Pod it has enrolled in ambient mode.
pub const REDIRECTION_ANNOTATION: &str = "ambient.istio.io/redirection";
/// The label naming the traffic a waypoint takes.
pub const WAYPOINT_FOR_LABEL: &str = "istio.io/waypoint-for";
/// The GatewayClass of Istio waypoints.
pub const WAYPOINT_CLASS: &str = "istio-waypoint";
/// Gateway API's group.
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// The label (value [`MESH_CONTROLLER`]) on what istiod's deployment controller makes for a
/// waypoint.
pub const MANAGED_LABEL: &str = "gateway.istio.io/managed";
/// [`MANAGED_LABEL`]'s value for waypoints.
pub const MESH_CONTROLLER: &str = "istio.io-mesh-controller";

pub use crate::translate::ambient::{HBONE_PORT, MULTI_NETWORK_ENV, NETWORK_LABEL};
use crate::translate::ambient::{USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL};

/// Namespace name → its labels.
pub type NamespaceLabels = BTreeMap<String, BTreeMap<String, String>>;

/// The labels of each namespace.
pub fn namespace_labels(namespaces: &[Namespace]) -> NamespaceLabels {
    namespaces
        .iter()
        .map(|n| {
            (
                n.metadata.name.clone().unwrap_or_default(),
                n.metadata.labels.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// Whether ztunnel runs in `istiod_namespace`.
pub fn ztunnel_runs(daemon_sets: &[DaemonSet], istiod_namespace: &str) -> bool {
    daemon_sets.iter().any(|d| {
        d.metadata.namespace.as_deref() == Some(istiod_namespace)
            && (d.metadata.name.as_deref() == Some("ztunnel")
                || d.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.get("app").map(String::as_str) == Some("ztunnel")))
    })
}

/// Whether `pod` (without a sidecar) is in ambient mode.
pub fn pod_is_ambient(pod: &Pod, namespaces: &NamespaceLabels) -> bool {
    let enrolled = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REDIRECTION_ANNOTATION))
        .is_some_and(|v| v == "enabled");
    if enrolled {
        return true;
    }
    let pod_mode = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(DATAPLANE_MODE_LABEL))
        .map(String::as_str);
    match pod_mode {
        Some("ambient") => true,
        Some("none") => false,
        _ => pod
            .metadata
            .namespace
            .as_ref()
            .and_then(|ns| namespaces.get(ns))
            .and_then(|l| l.get(DATAPLANE_MODE_LABEL))
            .is_some_and(|v| v == "ambient"),
    }
}

/// The waypoint a label set names: `Ok(Some)` a waypoint, `Ok(None)` no label, `Err(())` the
/// label says `none` (opt out).
fn use_waypoint(
    labels: Option<&BTreeMap<String, String>>,
    default_namespace: &str,
) -> Result<Option<WaypointRef>, ()> {
    let Some(labels) = labels else {
        return Ok(None);
    };
    match labels.get(USE_WAYPOINT_LABEL) {
        None => Ok(None),
        Some(v) if v == "none" => Err(()),
        Some(v) => Ok(Some(WaypointRef {
            name: v.clone(),
            namespace: labels
                .get(USE_WAYPOINT_NAMESPACE_LABEL)
                .cloned()
                .unwrap_or_else(|| default_namespace.to_string()),
        })),
    }
}

/// The waypoint a Service or ServiceEntry in namespace `ns` with `labels` uses, as istiod
/// binds it: none for what istiod's deployment controller made for a waypoint (its
/// [`MANAGED_LABEL`]); else its own `istio.io/use-waypoint` label (`none` opts out), else its
/// namespace's (`namespace_labels`); the waypoint's namespace is the same level's
/// `istio.io/use-waypoint-namespace`, else `ns`.
pub fn waypoint_used(
    labels: Option<&BTreeMap<String, String>>,
    ns: &str,
    namespace_labels: Option<&BTreeMap<String, String>>,
) -> Option<WaypointRef> {
    if labels
        .and_then(|l| l.get(MANAGED_LABEL))
        .map(String::as_str)
        == Some(MESH_CONTROLLER)
    {
        return None;
    }
    match use_waypoint(labels, ns) {
        Ok(Some(w)) => Some(w),
        Err(()) => None,
        Ok(None) => use_waypoint(namespace_labels, ns).ok().flatten(),
    }
}

/// The ambient facts of Service `svc` whose selected Pods are `backing` (`None`: not
/// ambient).
pub fn service_ambient(
    svc: &Service,
    backing: &[&Pod],
    namespaces: &NamespaceLabels,
) -> Option<AmbientService> {
    if !backing.iter().any(|p| pod_is_ambient(p, namespaces)) {
        return None;
    }
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let waypoint = waypoint_used(svc.metadata.labels.as_ref(), &ns, namespaces.get(&ns));
    Some(AmbientService { waypoint })
}

/// The waypoints among `gateways` (Gateway API Gateways), sorted by namespace and name.
pub fn waypoints(gateways: &[DynamicObject], namespaces: &NamespaceLabels) -> Vec<Waypoint> {
    let mut out: Vec<Waypoint> = gateways
        .iter()
        .filter(|g| {
            g.data
                .pointer("/spec/gatewayClassName")
                .and_then(Value::as_str)
                == Some(WAYPOINT_CLASS)
                && g.data
                    .pointer("/status/addresses")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
        })
        .map(|g| {
            let namespace = g.metadata.namespace.clone().unwrap_or_default();
            Waypoint {
                name: g.metadata.name.clone().unwrap_or_default(),
                waypoint_for: g
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(WAYPOINT_FOR_LABEL))
                    .cloned()
                    .unwrap_or_else(|| "service".to_string()),
                allowed_namespaces: allowed_namespaces(&g.data, &namespace, namespaces),
                namespace,
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

/// The namespaces (other than its own) whose Services a waypoint accepts: `["*"]` for all.
fn allowed_namespaces(gateway: &Value, own: &str, namespaces: &NamespaceLabels) -> Vec<String> {
    let listeners = gateway
        .pointer("/spec/listeners")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let listener = listeners
        .iter()
        .find(|l| l.get("protocol").and_then(Value::as_str) == Some("HBONE"))
        .or_else(|| listeners.first());
    let Some(from) = listener.and_then(|l| l.pointer("/allowedRoutes/namespaces")) else {
        return Vec::new();
    };
    match from.get("from").and_then(Value::as_str) {
        Some("All") => vec!["*".to_string()],
        Some("Selector") => {
            let expressions = from
                .pointer("/selector/matchExpressions")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty());
            if expressions {
                // Not evaluated: read as accepting no other namespace, which `check` reports.
                return Vec::new();
            }
            let want: BTreeMap<String, String> = from
                .pointer("/selector/matchLabels")
                .and_then(|m| serde_json::from_value(m.clone()).ok())
                .unwrap_or_default();
            namespaces
                .iter()
                .filter(|(n, l)| n.as_str() != own && want.iter().all(|(k, v)| l.get(k) == Some(v)))
                .map(|(n, _)| n.clone())
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The Istio network of a cluster: the [`NETWORK_LABEL`] of istiod's namespace, as istiod
/// reads it for ambient mode.
pub fn network_of(namespaces: &NamespaceLabels, istiod_namespace: &str) -> Option<String> {
    namespaces
        .get(istiod_namespace)
        .and_then(|l| l.get(NETWORK_LABEL))
        .filter(|n| !n.is_empty())
        .cloned()
}

/// The east-west gateways among `services`, as istiod's network manager finds them for
/// ambient traffic: a Service labelled [`NETWORK_LABEL`] with port [`HBONE_PORT`] and an
/// address from outside the cluster (its load balancer's IP or hostname, or an external
/// IP); one entry per address, sorted.
pub fn east_west_gateways(services: &[Service]) -> Vec<EastWestGateway> {
    let mut out: Vec<EastWestGateway> = services
        .iter()
        .flat_map(|s| {
            let network = s
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(NETWORK_LABEL))
                .filter(|n| !n.is_empty());
            let hbone = s
                .spec
                .as_ref()
                .and_then(|sp| sp.ports.as_ref())
                .is_some_and(|ps| ps.iter().any(|p| p.port == HBONE_PORT));
            let addresses: Vec<String> = match network {
                Some(_) if hbone => {
                    let lb = s
                        .status
                        .as_ref()
                        .and_then(|st| st.load_balancer.as_ref())
                        .and_then(|lb| lb.ingress.as_ref())
                        .into_iter()
                        .flatten()
                        .filter_map(|i| i.ip.clone().or_else(|| i.hostname.clone()));
                    let external = s
                        .spec
                        .as_ref()
                        .and_then(|sp| sp.external_ips.clone())
                        .into_iter()
                        .flatten();
                    lb.chain(external).filter(|a| !a.is_empty()).collect()
                }
                _ => Vec::new(),
            };
            addresses.into_iter().map(move |address| EastWestGateway {
                name: s.metadata.name.clone().unwrap_or_default(),
                namespace: s.metadata.namespace.clone().unwrap_or_default(),
                network: network.cloned().unwrap_or_default(),
                address,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.namespace, &a.name, &a.address).cmp(&(&b.namespace, &b.name, &b.address))
    });
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn ns(name: &str, l: &[(&str, &str)]) -> Namespace {
        let mut n = Namespace::default();
        n.metadata.name = Some(name.into());
        n.metadata.labels = labels(l);
        n
    }

    fn pod(namespace: &str, l: &[(&str, &str)]) -> Pod {
        let mut p = Pod::default();
        p.metadata.namespace = Some(namespace.into());
        p.metadata.labels = labels(l);
        p
    }

    fn svc(namespace: &str, l: &[(&str, &str)]) -> Service {
        let mut s = Service::default();
        s.metadata.name = Some("reviews".into());
        s.metadata.namespace = Some(namespace.into());
        s.metadata.labels = labels(l);
        s
    }

    fn gateway(name: &str, namespace: &str, class: &str, extra: Value) -> DynamicObject {
        let mut data = json!({
            "spec": {"gatewayClassName": class, "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
            "status": {"addresses": [{"type": "Hostname", "value": format!("{name}.{namespace}.svc.cluster.local")}]},
        });
        if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                d.insert(k.clone(), v.clone());
            }
        }
        let mut g = DynamicObject {
            types: None,
            metadata: Default::default(),
            data,
        };
        g.metadata.name = Some(name.into());
        g.metadata.namespace = Some(namespace.into());
        g
    }

    #[test]
    fn pods_are_ambient_by_their_own_label_else_their_namespace_unless_they_opt_out() {
        let nss = namespace_labels(&[
            ns("amb", &[(DATAPLANE_MODE_LABEL, "ambient")]),
            ns("plain", &[]),
        ]);
        assert!(pod_is_ambient(&pod("amb", &[]), &nss));
        assert!(!pod_is_ambient(
            &pod("amb", &[(DATAPLANE_MODE_LABEL, "none")]),
            &nss
        ));
        assert!(pod_is_ambient(
            &pod("plain", &[(DATAPLANE_MODE_LABEL, "ambient")]),
            &nss
        ));
        assert!(!pod_is_ambient(&pod("plain", &[]), &nss));
        let mut enrolled = pod("plain", &[]);
        enrolled.metadata.annotations = labels(&[(REDIRECTION_ANNOTATION, "enabled")]);
        assert!(pod_is_ambient(&enrolled, &nss));
    }

    #[test]
    fn the_service_label_wins_over_the_namespace_and_none_opts_out() {
        let nss = namespace_labels(&[ns(
            "amb",
            &[
                (DATAPLANE_MODE_LABEL, "ambient"),
                (USE_WAYPOINT_LABEL, "ns-wp"),
            ],
        )]);
        let p = pod("amb", &[]);
        let wp = |s: &Service| service_ambient(s, &[&p], &nss).and_then(|a| a.waypoint);
        assert_eq!(
            wp(&svc("amb", &[])),
            Some(WaypointRef {
                name: "ns-wp".into(),
                namespace: "amb".into()
            })
        );
        assert_eq!(
            wp(&svc(
                "amb",
                &[
                    (USE_WAYPOINT_LABEL, "own"),
                    (USE_WAYPOINT_NAMESPACE_LABEL, "elsewhere")
                ]
            )),
            Some(WaypointRef {
                name: "own".into(),
                namespace: "elsewhere".into()
            })
        );
        assert_eq!(wp(&svc("amb", &[(USE_WAYPOINT_LABEL, "none")])), None);
        assert!(service_ambient(&svc("amb", &[]), &[&p], &nss).is_some());
        // No ambient pod: not ambient at all.
        assert_eq!(service_ambient(&svc("amb", &[]), &[], &nss), None);
    }

    #[test]
    fn waypoints_are_ready_istio_waypoint_gateways_with_their_traffic_and_namespaces() {
        let nss = namespace_labels(&[
            ns("bookinfo", &[]),
            ns("service-mesh-hub", &[("team", "mesh")]),
            ns("other", &[]),
        ]);
        let mut not_ready = gateway("pending", "bookinfo", WAYPOINT_CLASS, json!({}));
        not_ready.data["status"] = json!({});
        let mut workload = gateway("wl", "bookinfo", WAYPOINT_CLASS, json!({}));
        workload.metadata.labels = labels(&[(WAYPOINT_FOR_LABEL, "workload")]);
        let all = gateway(
            "all",
            "bookinfo",
            WAYPOINT_CLASS,
            json!({"spec": {"gatewayClassName": WAYPOINT_CLASS, "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE", "allowedRoutes": {"namespaces": {"from": "All"}}}]}}),
        );
        let selected = gateway(
            "sel",
            "bookinfo",
            WAYPOINT_CLASS,
            json!({"spec": {"gatewayClassName": WAYPOINT_CLASS, "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE", "allowedRoutes": {"namespaces": {"from": "Selector", "selector": {"matchLabels": {"team": "mesh"}}}}}]}}),
        );
        let got = waypoints(
            &[
                gateway("waypoint", "bookinfo", WAYPOINT_CLASS, json!({})),
                gateway("ingress", "bookinfo", "istio", json!({})),
                not_ready,
                workload,
                all,
                selected,
            ],
            &nss,
        );
        let summary: Vec<(String, String, Vec<String>)> = got
            .iter()
            .map(|w| {
                (
                    w.name.clone(),
                    w.waypoint_for.clone(),
                    w.allowed_namespaces.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("all".into(), "service".into(), vec!["*".into()]),
                (
                    "sel".into(),
                    "service".into(),
                    vec!["service-mesh-hub".into()]
                ),
                ("waypoint".into(), "service".into(), vec![]),
                ("wl".into(), "workload".into(), vec![]),
            ]
        );
        assert!(!got[2].allows_namespace("service-mesh-hub"));
        assert!(got[0].allows_namespace("service-mesh-hub"));
        assert!(!got[3].serves_services());
    }

    #[test]
    fn ztunnel_is_a_daemon_set_in_istiods_namespace() {
        let mut d = DaemonSet::default();
        d.metadata.name = Some("ztunnel".into());
        d.metadata.namespace = Some("istio-system".into());
        assert!(ztunnel_runs(std::slice::from_ref(&d), "istio-system"));
        assert!(!ztunnel_runs(&[d], "other"));
    }

    fn gateway_service(
        name: &str,
        l: &[(&str, &str)],
        port: i32,
        ingress: &[(&str, &str)],
        external: &[&str],
    ) -> Service {
        use k8s_openapi::api::core::v1::{
            LoadBalancerIngress, LoadBalancerStatus, ServicePort, ServiceSpec, ServiceStatus,
        };
        Service {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                namespace: Some("istio-system".into()),
                name: Some(name.into()),
                labels: labels(l),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                ports: Some(vec![ServicePort {
                    port,
                    ..Default::default()
                }]),
                external_ips: (!external.is_empty())
                    .then(|| external.iter().map(|e| e.to_string()).collect()),
                ..Default::default()
            }),
            status: Some(ServiceStatus {
                load_balancer: Some(LoadBalancerStatus {
                    ingress: Some(
                        ingress
                            .iter()
                            .map(|(kind, v)| LoadBalancerIngress {
                                ip: (*kind == "ip").then(|| v.to_string()),
                                hostname: (*kind == "hostname").then(|| v.to_string()),
                                ..Default::default()
                            })
                            .collect(),
                    ),
                }),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn east_west_gateways_are_network_labelled_services_with_hbone_and_an_outside_address() {
        let net = [(NETWORK_LABEL, "net-west")];
        let found = east_west_gateways(&[
            gateway_service(
                "eastwest",
                &net,
                HBONE_PORT,
                &[("ip", "192.0.2.7")],
                &["198.51.100.1"],
            ),
            gateway_service(
                "by-name",
                &net,
                HBONE_PORT,
                &[("hostname", "gw.example")],
                &[],
            ),
            // No address yet (its load balancer is pending): istiod has no gateway either.
            gateway_service("pending", &net, HBONE_PORT, &[], &[]),
            // The sidecar-era gateway port only: not for ambient traffic.
            gateway_service("mtls-only", &net, 15443, &[("ip", "192.0.2.8")], &[]),
            // No network label: not a gateway.
            gateway_service("plain", &[], HBONE_PORT, &[("ip", "192.0.2.9")], &[]),
        ]);
        let got: Vec<(String, String, String)> = found
            .iter()
            .map(|g| (g.name.clone(), g.network.clone(), g.address.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("by-name".into(), "net-west".into(), "gw.example".into()),
                ("eastwest".into(), "net-west".into(), "192.0.2.7".into()),
                ("eastwest".into(), "net-west".into(), "198.51.100.1".into()),
            ]
        );
    }

    #[test]
    fn the_network_is_the_label_of_istiods_namespace() {
        let namespaces = namespace_labels(&[
            ns("istio-system", &[(NETWORK_LABEL, "net-east")]),
            ns("other", &[]),
        ]);
        assert_eq!(
            network_of(&namespaces, "istio-system").as_deref(),
            Some("net-east")
        );
        assert_eq!(network_of(&namespaces, "other"), None);
        assert_eq!(network_of(&namespaces, "missing"), None);
    }
}
