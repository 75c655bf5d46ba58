//! The service registry a proxy sees: Kubernetes services and ServiceEntry hosts, with their
//! endpoints.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{
    Builder, CLUSTER_TOPOLOGY_LABEL, EndpointRecord, ServiceRecord, by_age, labels_of, meta,
    obj_id, s, u32_of, visible,
};
use crate::world::mesh::xds::{Endpoint, GatewayHop};

/// A registry host: a Kubernetes service or a ServiceEntry host.
#[derive(Debug, Clone)]
pub(super) struct RegHost {
    pub(super) host: String,
    pub(super) namespace: String,
    /// `(port name, port)`.
    pub(super) ports: Vec<(String, u16)>,
    pub(super) kind: RegKind,
    pub(super) cluster_ip: Option<String>,
    pub(super) short_name: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) enum RegKind {
    Kube {
        endpoints: Vec<EndpointRecord>,
    },
    Entry {
        /// Endpoints per port number.
        endpoints: BTreeMap<u16, Vec<Endpoint>>,
        addresses: Vec<String>,
        /// `resolution: DNS` without endpoints: istiod's one endpoint is the hostname itself,
        /// which the simulator cannot resolve (so the cluster exists, without hosts).
        dns_hostname: bool,
    },
}

impl Builder<'_> {
    /// The registry this proxy sees: every Kubernetes service (one host per namespace and
    /// name, merged across clusters), then the hosts of the ServiceEntries visible to the
    /// proxy, oldest first.
    pub(super) fn registry(&mut self) -> Vec<RegHost> {
        let inputs = self.inputs;
        let mut out = self.kube_registry();
        let kube_hosts: BTreeSet<String> = out.iter().map(|h| h.host.clone()).collect();
        let proxy_ns = inputs.proxy.namespace.clone();
        for se in by_age(&inputs.service_entries) {
            if visible(se, &proxy_ns) {
                self.add_service_entry(se, &kube_hosts, &mut out);
            }
        }
        out
    }

    /// The Kubernetes services as registry hosts, their endpoints from every cluster labelled
    /// with their cluster.
    fn kube_registry(&self) -> Vec<RegHost> {
        let proxy_cluster = &self.inputs.proxy.cluster;
        let mut kube: BTreeMap<(String, String), RegHost> = BTreeMap::new();
        // The proxy's own cluster first, so its Service defines ports and ClusterIP.
        let mut services: Vec<&ServiceRecord> = self.inputs.services.iter().collect();
        services.sort_by_key(|s| (s.cluster != *proxy_cluster, s.cluster.clone()));
        for svc in services {
            let host = format!("{}.{}.svc.{}", svc.name, svc.namespace, self.domain());
            let entry = kube
                .entry((svc.namespace.clone(), svc.name.clone()))
                .or_insert_with(|| RegHost {
                    host,
                    namespace: svc.namespace.clone(),
                    ports: svc.ports.clone(),
                    kind: RegKind::Kube {
                        endpoints: Vec::new(),
                    },
                    cluster_ip: svc.cluster_ip.clone(),
                    short_name: Some(svc.name.clone()),
                });
            if let RegKind::Kube { endpoints } = &mut entry.kind {
                for ep in &svc.endpoints {
                    let mut ep = ep.clone();
                    ep.labels
                        .entry(CLUSTER_TOPOLOGY_LABEL.to_string())
                        .or_insert_with(|| ep.cluster.clone());
                    endpoints.push(ep);
                }
            }
        }
        kube.into_values().collect()
    }

    /// The hosts of ServiceEntry `se` that are not already in `out` (as a Kubernetes service
    /// or from an older ServiceEntry), added to it; what is not modelled is a diagnostic.
    fn add_service_entry(
        &mut self,
        se: &Value,
        kube_hosts: &BTreeSet<String>,
        out: &mut Vec<RegHost>,
    ) {
        let se_ns = meta(se, "namespace");
        let spec = se.get("spec").cloned().unwrap_or(Value::Null);
        if spec.get("workloadSelector").is_some() {
            self.diagnostics.push(format!(
                "ServiceEntry {}: workloadSelector endpoints are not modelled",
                obj_id(se)
            ));
        }
        let resolution = s(&spec, "resolution").unwrap_or("NONE");
        let ports: Vec<(String, u16, Option<u16>)> = spec
            .get("ports")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| {
                        let n = p.get("number").and_then(u32_of)? as u16;
                        let name = s(p, "name").unwrap_or("").to_string();
                        let target = p.get("targetPort").and_then(u32_of).map(|t| t as u16);
                        Some((name, n, target))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let addresses: Vec<String> = spec
            .get("addresses")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let raw_endpoints: Vec<&Value> = spec
            .get("endpoints")
            .and_then(Value::as_array)
            .map(|e| e.iter().collect())
            .unwrap_or_default();
        for host in spec
            .get("hosts")
            .and_then(Value::as_array)
            .map(|h| h.iter().filter_map(Value::as_str).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let host = host.to_ascii_lowercase();
            if host.starts_with('*') {
                self.diagnostics.push(format!(
                    "ServiceEntry {}: wildcard host {host} is not modelled",
                    obj_id(se)
                ));
                continue;
            }
            if kube_hosts.contains(&host) {
                self.diagnostics.push(format!(
                    "ServiceEntry {}: host {host} is also a Kubernetes service; the service is used",
                    obj_id(se)
                ));
                continue;
            }
            if out.iter().any(|h| h.host == host) {
                self.diagnostics.push(format!(
                    "ServiceEntry {}: host {host} is already defined by an older ServiceEntry",
                    obj_id(se)
                ));
                continue;
            }
            let endpoints = self.entry_endpoints(se, &host, resolution, &ports, &raw_endpoints);
            out.push(RegHost {
                host: host.clone(),
                namespace: se_ns.to_string(),
                ports: ports.iter().map(|(n, p, _)| (n.clone(), *p)).collect(),
                kind: RegKind::Entry {
                    endpoints,
                    addresses: addresses.clone(),
                    dns_hostname: matches!(resolution, "DNS" | "DNS_ROUND_ROBIN")
                        && raw_endpoints.is_empty(),
                },
                cluster_ip: None,
                short_name: None,
            });
        }
    }

    /// The endpoints of a ServiceEntry host per port number: its static (or DNS) endpoints,
    /// each placed in the cluster of its gateway or pod address.
    fn entry_endpoints(
        &mut self,
        se: &Value,
        host: &str,
        resolution: &str,
        ports: &[(String, u16, Option<u16>)],
        raw_endpoints: &[&Value],
    ) -> BTreeMap<u16, Vec<Endpoint>> {
        let mut endpoints: BTreeMap<u16, Vec<Endpoint>> = BTreeMap::new();
        for (pname, number, target) in ports {
            let mut eps = Vec::new();
            match resolution {
                "STATIC" | "DNS" | "DNS_ROUND_ROBIN" if !raw_endpoints.is_empty() => {
                    for raw in raw_endpoints {
                        let Some(addr) = s(raw, "address") else {
                            continue;
                        };
                        let port = raw
                            .get("ports")
                            .and_then(|p| p.get(pname.as_str()))
                            .and_then(u32_of)
                            .map(|p| p as u16)
                            .or(*target)
                            .unwrap_or(*number);
                        let mut ep = Endpoint::new(addr, port);
                        ep.labels = labels_of(raw.get("labels"));
                        if let Some(gw_cluster) = self.inputs.gateways.get(addr) {
                            ep.cluster = Some(gw_cluster.clone());
                            ep.via_gateway = Some(GatewayHop {
                                cluster: gw_cluster.clone(),
                                sni_host: host.to_string(),
                                port: *number,
                            });
                        } else if let Some(c) = self.inputs.pod_ips.get(addr) {
                            ep.cluster = Some(c.clone());
                        }
                        eps.push(ep);
                    }
                }
                "DNS" | "DNS_ROUND_ROBIN" => {
                    self.diagnostics.push(format!(
                        "ServiceEntry {}: {host} resolves by DNS with no endpoints; the simulator has no DNS for it, so its cluster has no hosts",
                        obj_id(se)
                    ));
                }
                _ => {}
            }
            endpoints.insert(*number, eps);
        }
        endpoints
    }
}
