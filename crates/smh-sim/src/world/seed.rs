//! The objects of one simulated cluster as Service Mesh Hub's multicluster guide
//! prerequisites leave it: Istio and bookinfo in every cluster, SMH's namespace on the
//! management cluster.
//!
//! Every cluster:
//! - a node `<cluster>-control-plane`; namespaces `default`, `kube-system`, `istio-system`,
//!   `bookinfo` (labelled `istio-injection: enabled`; in an ambient cluster, see
//!   [`ambient`](super::ambient), `istio.io/dataplane-mode: ambient` instead), and `service-mesh-hub` on the
//!   management cluster; the `kubernetes` Service; CoreDNS (`coredns` Deployment, `kube-dns`
//!   Service, `coredns` ConfigMap);
//! - Istio: the `istiod` Deployment (label `app: istiod`, image
//!   `docker.io/istio/pilot:<version>`, env `CLUSTER_ID` = the cluster's Istio cluster ID)
//!   and Service, the `istio` mesh
//!   ConfigMap (root namespace `istio-system`), and the `istio-ingressgateway` Deployment and
//!   LoadBalancer Service (port `tls` 15443) with an external address in
//!   `status.loadBalancer.ingress`;
//! - bookinfo as upstream's `bookinfo.yaml` writes it (Deployments with one replica,
//!   Services on port 9080 named `http` with labels `app`/`service`, ServiceAccounts
//!   `bookinfo-*`): on the management layout productpage-v1, details-v1, ratings-v1,
//!   reviews-v1 and reviews-v2; on the remote layout reviews-v3 and ratings-v1. Pods get
//!   their sidecar from injection when created ([`crate::world::inject`]).
//!
//! Multi-cluster mode signals, so that discovery can tell the modes apart as on real Istio:
//! - **global** (SMH's federated `.global` names): an `istiocoredns` Deployment and Service in
//!   istio-system, a `global` stub domain in the CoreDNS Corefile, and what an SMH
//!   VirtualMesh federation writes into each cluster for every service of each *other*
//!   cluster: a ServiceEntry `<svc>.<ns>.svc.<peer>.global` in istio-system (address from
//!   SMH's FNV scheme, resolution DNS, one endpoint at the peer's ingress gateway on port
//!   15443, label `cluster: <peer>`), plus the `*.global` AUTO_PASSTHROUGH Gateway
//!   `virtual-mesh-service-mesh-hub` and the gateway EnvoyFilter
//!   `virtual-mesh.service-mesh-hub` (`tcp_cluster_rewrite` of `.<cluster>.global`);
//! - **multi-primary**: an Istio remote secret per peer in istio-system, as
//!   `istioctl create-remote-secret --name <peer's cluster ID>` writes it: named
//!   `istio-remote-secret-<ID>`, label `istio/multiCluster: "true"`, annotation
//!   `networking.istio.io/cluster: <ID>`, one data key `<ID>` holding a kubeconfig (without
//!   credentials) whose server is the peer's node; the namespace label
//!   `topology.istio.io/network: network1` (in an ambient cluster its own network,
//!   `network1`, `network2`, ..., with istiod's `AMBIENT_ENABLE_MULTI_NETWORK`, the ambient
//!   profile's `serviceScopeConfigs` and bookinfo's Services labelled `istio.io/global:
//!   "true"`; see [`ambient`](super::ambient)), and no `.global` names.
//!
//! Seeding creates what is missing and leaves existing objects alone, so it is safe to run
//! on a store that already has some of them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::obj;
use super::{Layout, WorldOptions};
use crate::store::{Gvr, Store, StoreError};
use smh_core::model::topology::MultiClusterMode;

/// The API version under which the seed stores Istio networking objects of a kind (the
/// storage version of Istio's CRDs: v1, and v1alpha3 for EnvoyFilter).
pub(crate) fn istio_version_for(plural: &str) -> &'static str {
    if plural == "envoyfilters" {
        "v1alpha3"
    } else {
        "v1"
    }
}

fn istio_gvr(plural: &str) -> Gvr {
    Gvr::new("networking.istio.io", istio_version_for(plural), plural)
}

/// SMH's unique-IP scheme (FNV-1 32-bit over the concatenated fields, bytes little end
/// first, first byte ORed with 240).
pub(crate) fn smh_unique_ip(parts: &[&str]) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in parts.concat().bytes() {
        h = h.wrapping_mul(0x0100_0193);
        h ^= u32::from(b);
    }
    let b = h.to_le_bytes();
    format!("{}.{}.{}.{}", b[0] | 240, b[1], b[2], b[3])
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bookinfo services a layout runs (name, deployments as (version, image suffix)).
pub(crate) fn bookinfo_services(layout: Layout) -> Vec<(&'static str, Vec<&'static str>)> {
    match layout {
        Layout::Management => vec![
            ("details", vec!["v1"]),
            ("productpage", vec!["v1"]),
            ("ratings", vec!["v1"]),
            ("reviews", vec!["v1", "v2"]),
        ],
        Layout::Remote => vec![("ratings", vec!["v1"]), ("reviews", vec!["v3"])],
        Layout::Empty => vec![],
    }
}

pub(super) struct Seeder<'a> {
    pub(super) store: &'a Store,
    created: usize,
    next_ip: u32,
}

impl Seeder<'_> {
    pub(super) fn put(&mut self, gvr: &Gvr, obj: Value) -> Result<(), StoreError> {
        match self.store.create(gvr, obj) {
            Ok(_) => {
                self.created += 1;
                Ok(())
            }
            Err(StoreError::AlreadyExists(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(super) fn cluster_ip(&mut self) -> String {
        let n = self.next_ip;
        self.next_ip += 1;
        format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff)
    }

    pub(super) fn namespace(&mut self, name: &str, labels: Value) -> Result<(), StoreError> {
        self.put(
            &obj::namespaces(),
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": name, "labels": merge(json!({"kubernetes.io/metadata.name": name}), labels)},
                   "spec": {"finalizers": ["kubernetes"]},
                   "status": {"phase": "Active"}}),
        )
    }

    pub(super) fn service_account(
        &mut self,
        ns: &str,
        name: &str,
        labels: Value,
    ) -> Result<(), StoreError> {
        self.put(
            &obj::service_accounts(),
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": name, "namespace": ns, "labels": labels}}),
        )
    }

    pub(super) fn service(
        &mut self,
        ns: &str,
        name: &str,
        labels: Value,
        spec: Value,
    ) -> Result<(), StoreError> {
        let mut spec = spec;
        if spec.get("clusterIP").is_none() {
            let ip = self.cluster_ip();
            spec["clusterIP"] = json!(ip);
            spec["clusterIPs"] = json!([ip]);
        }
        if spec.get("type").is_none() {
            spec["type"] = json!("ClusterIP");
        }
        spec["sessionAffinity"] = json!("None");
        spec["ipFamilies"] = json!(["IPv4"]);
        spec["ipFamilyPolicy"] = json!("SingleStack");
        self.put(
            &obj::services(),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": ns, "labels": labels},
                   "spec": spec}),
        )
    }

    pub(super) fn deployment(
        &mut self,
        ns: &str,
        name: &str,
        labels: Value,
        replicas: i64,
        pod_labels: Value,
        pod_spec: Value,
    ) -> Result<(), StoreError> {
        self.put(
            &obj::deployments(),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "namespace": ns, "labels": labels},
                   "spec": {
                       "replicas": replicas,
                       "selector": {"matchLabels": pod_labels},
                       "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                       "revisionHistoryLimit": 10,
                       "progressDeadlineSeconds": 600,
                       "template": {"metadata": {"labels": pod_labels}, "spec": pod_spec}
                   }}),
        )
    }
}

pub(super) fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(am), Value::Object(bm)) = (a.as_object_mut(), b) {
        am.extend(bm);
    }
    a
}

pub(super) fn port(name: &str, port: u16, target: Value) -> Value {
    json!({"name": name, "port": port, "targetPort": target, "protocol": "TCP"})
}

/// Create the cluster's objects (see the module documentation). Returns how many objects
/// were created.
pub fn seed(store: &Store, opts: &WorldOptions) -> Result<usize, StoreError> {
    let mut s = Seeder {
        store,
        created: 0,
        next_ip: 100,
    };
    let node = format!("{}-control-plane", opts.cluster);
    s.put(
        &obj::nodes(),
        json!({"apiVersion": "v1", "kind": "Node",
               "metadata": {"name": node, "labels": {
                   "kubernetes.io/hostname": node, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                   "node-role.kubernetes.io/control-plane": ""}},
               "spec": {"podCIDR": "10.244.0.0/24"},
               "status": {
                   "addresses": [{"type": "InternalIP", "address": opts.node_ip}, {"type": "Hostname", "address": node}],
                   "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                   "nodeInfo": {"kubeletVersion": "v1.33.1", "containerRuntimeVersion": "containerd://2.1.1",
                                "operatingSystem": "linux", "architecture": "amd64"}}}),
    )?;
    let multi_primary = opts.mode == MultiClusterMode::MultiPrimary;
    s.namespace("default", json!({}))?;
    s.namespace("kube-system", json!({}))?;
    // Sidecar multi-primary: one network for every cluster. Ambient: each cluster its own,
    // as Istio's ambient multicluster install asks (see super::ambient).
    let istio_ns_labels = if opts.ambient {
        json!({super::ambient::NETWORK_LABEL: opts.network})
    } else if multi_primary {
        json!({super::ambient::NETWORK_LABEL: "network1"})
    } else {
        json!({})
    };
    s.namespace("istio-system", istio_ns_labels)?;
    if opts.layout != Layout::Empty {
        let labels = if opts.ambient {
            super::ambient::bookinfo_namespace_labels()
        } else {
            json!({"istio-injection": "enabled"})
        };
        s.namespace("bookinfo", labels)?;
    }
    if opts.layout == Layout::Management {
        s.namespace(smh_core::consts::SMH_NAMESPACE, json!({}))?;
    }

    // default/kubernetes (endpoints maintained by the API server, not a selector).
    s.service("default", "kubernetes", json!({"component": "apiserver", "provider": "kubernetes"}),
        json!({"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "ports": [port("https", 443, json!(6443))]}))?;
    s.put(
        &obj::endpoints(),
        json!({"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
               "subsets": [{"addresses": [{"ip": opts.node_ip}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]}),
    )?;

    seed_dns(&mut s, opts)?;
    seed_istio(&mut s, opts)?;
    seed_bookinfo(&mut s, opts)?;
    super::ambient::seed(&mut s, opts)?;
    match opts.mode {
        MultiClusterMode::Global => seed_federation(&mut s, opts)?,
        MultiClusterMode::MultiPrimary => seed_remote_secrets(&mut s, opts)?,
    }
    Ok(s.created)
}

fn seed_dns(s: &mut Seeder, opts: &WorldOptions) -> Result<(), StoreError> {
    let labels = json!({"k8s-app": "kube-dns"});
    s.service_account("kube-system", "coredns", json!({}))?;
    s.deployment(
        "kube-system",
        "coredns",
        labels.clone(),
        2,
        labels.clone(),
        json!({"serviceAccountName": "coredns", "priorityClassName": "system-cluster-critical",
               "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.0",
                   "args": ["-conf", "/etc/coredns/Corefile"],
                   "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                             {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                             {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}]}]}),
    )?;
    s.service("kube-system", "kube-dns",
        json!({"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}),
        json!({"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "selector": labels,
               "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                         {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                         {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}))?;
    let mut corefile = String::from(
        ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n",
    );
    if opts.mode == MultiClusterMode::Global {
        corefile
            .push_str("global:53 {\n    errors\n    cache 30\n    forward . 10.96.0.53:53\n}\n");
    }
    s.put(
        &obj::config_maps(),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "coredns", "namespace": "kube-system"},
               "data": {"Corefile": corefile}}),
    )
}

fn seed_istio(s: &mut Seeder, opts: &WorldOptions) -> Result<(), StoreError> {
    let v = &opts.istio_version;
    let ns = "istio-system";
    let istiod_labels = json!({"app": "istiod", "istio": "pilot", "istio.io/rev": "default",
                               "install.operator.istio.io/owning-resource": "unknown",
                               "operator.istio.io/component": "Pilot"});
    // Istio's ambient profile: PILOT_ENABLE_AMBIENT, HBONE for every proxy, distroless images.
    let variant = if opts.ambient { "-distroless" } else { "" };
    let mut env = vec![
        json!({"name": "CLUSTER_ID", "value": opts.cluster_id}),
        json!({"name": "REVISION", "value": "default"}),
        json!({"name": "PILOT_ENABLE_ANALYSIS", "value": "false"}),
    ];
    if opts.ambient {
        env.push(json!({"name": "PILOT_ENABLE_AMBIENT", "value": "true"}));
        // Istio's ambient multicluster install: `--set env.AMBIENT_ENABLE_MULTI_NETWORK=true`.
        env.push(json!({"name": super::ambient::MULTI_NETWORK_ENV, "value": "true"}));
    }
    s.service_account(ns, "istiod", json!({"app": "istiod"}))?;
    s.deployment(
        ns,
        "istiod",
        istiod_labels.clone(),
        1,
        json!({"app": "istiod", "istio": "pilot", "istio.io/rev": "default"}),
        json!({"serviceAccountName": "istiod",
               "containers": [{"name": "discovery", "image": format!("docker.io/istio/pilot:{v}{variant}"),
                   "args": ["discovery", "--monitoringAddr=:15014", "--log_output_level=default:info", "--domain", "cluster.local", "--keepaliveMaxServerConnectionAge", "30m"],
                   "env": env,
                   "ports": [{"containerPort": 8080, "protocol": "TCP"},
                             {"containerPort": 15010, "protocol": "TCP"},
                             {"containerPort": 15017, "protocol": "TCP"}],
                   "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "initialDelaySeconds": 1, "periodSeconds": 3, "timeoutSeconds": 5}}]}),
    )?;
    s.service(ns, "istiod", istiod_labels,
        json!({"selector": {"app": "istiod", "istio": "pilot"},
               "ports": [port("grpc-xds", 15010, json!(15010)), port("https-dns", 15012, json!(15012)),
                         port("https-webhook", 443, json!(15017)), port("http-monitoring", 15014, json!(15014))]}))?;
    let hbone = if opts.ambient {
        "  proxyMetadata:\n    ISTIO_META_ENABLE_HBONE: \"true\"\n"
    } else {
        ""
    };
    let scopes = if opts.ambient {
        super::ambient::AMBIENT_SERVICE_SCOPES
    } else {
        ""
    };
    let mesh = format!(
        "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  meshId: mesh1\n{hbone}enablePrometheusMerge: true\nrootNamespace: istio-system\n{scopes}trustDomain: cluster.local\n"
    );
    s.put(
        &obj::config_maps(),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "istio", "namespace": ns, "labels": {"istio.io/rev": "default"}},
               "data": {"mesh": mesh, "meshNetworks": "networks: {}"}}),
    )?;
    let gw_labels = json!({"app": "istio-ingressgateway", "istio": "ingressgateway"});
    s.service_account(
        ns,
        "istio-ingressgateway-service-account",
        gw_labels.clone(),
    )?;
    s.deployment(
        ns,
        "istio-ingressgateway",
        gw_labels.clone(),
        1,
        gw_labels.clone(),
        json!({"serviceAccountName": "istio-ingressgateway-service-account",
               "containers": [{"name": "istio-proxy", "image": format!("docker.io/istio/proxyv2:{v}{variant}"),
                   "args": ["proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
                   "ports": [{"containerPort": 15021, "protocol": "TCP"}, {"containerPort": 8080, "protocol": "TCP"},
                             {"containerPort": 8443, "protocol": "TCP"}, {"containerPort": 15443, "protocol": "TCP"},
                             {"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
                   "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021}, "periodSeconds": 2}}]}),
    )?;
    s.service(
        ns,
        "istio-ingressgateway",
        gw_labels.clone(),
        json!({"type": "LoadBalancer", "selector": gw_labels, "externalTrafficPolicy": "Cluster",
               "ports": [port("status-port", 15021, json!(15021)), port("http2", 80, json!(8080)),
                         port("https", 443, json!(8443)), port("tls", 15443, json!(15443))]}),
    )?;
    // The load balancer's address (as MetalLB would publish it).
    if let Some(mut gw) = s.store.get(&obj::services(), ns, "istio-ingressgateway")
        && gw.pointer("/status/loadBalancer/ingress").is_none()
    {
        gw["status"] =
            json!({"loadBalancer": {"ingress": [{"ip": opts.gateway_ip, "ipMode": "VIP"}]}});
        s.store.update(&obj::services(), gw)?;
    }
    if opts.mode == MultiClusterMode::Global {
        let labels = json!({"app": "istiocoredns"});
        s.deployment(
            ns,
            "istiocoredns",
            labels.clone(),
            1,
            labels.clone(),
            json!({"containers": [
                {"name": "coredns", "image": "docker.io/coredns/coredns:1.6.2", "args": ["-conf", "/etc/coredns/Corefile"],
                 "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"}, {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"}]},
                {"name": "istio-coredns-plugin", "image": "docker.io/istio/coredns-plugin:0.2-istio-1.1",
                 "command": ["/usr/local/bin/plugin"]}]}),
        )?;
        s.service(ns, "istiocoredns", labels.clone(),
            json!({"clusterIP": "10.96.0.53", "clusterIPs": ["10.96.0.53"], "selector": labels,
                   "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                             {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}]}))?;
    }
    Ok(())
}

fn bookinfo_image(service: &str, version: &str, tag: &str) -> String {
    match service {
        "reviews" => format!("docker.io/istio/examples-bookinfo-reviews-{version}:{tag}"),
        other => format!("docker.io/istio/examples-bookinfo-{other}-{version}:{tag}"),
    }
}

fn seed_bookinfo(s: &mut Seeder, opts: &WorldOptions) -> Result<(), StoreError> {
    let ns = "bookinfo";
    for (svc, versions) in bookinfo_services(opts.layout) {
        let sa = format!("bookinfo-{svc}");
        s.service_account(ns, &sa, json!({"account": svc}))?;
        let mut labels = json!({"app": svc, "service": svc});
        if opts.ambient {
            // Global in Istio's ambient profile: seen by the other cluster's istiod.
            labels[super::ambient::GLOBAL_LABEL] = json!("true");
        }
        s.service(
            ns,
            svc,
            labels,
            json!({"selector": {"app": svc}, "ports": [port("http", 9080, json!(9080))]}),
        )?;
        for version in versions {
            let mut container = json!({
                "name": svc,
                "image": bookinfo_image(svc, version, &opts.bookinfo_version),
                "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": 9080, "protocol": "TCP"}],
                "securityContext": {"runAsUser": 1000},
            });
            let mut volumes = json!([]);
            if svc == "reviews" {
                container["env"] = json!([{"name": "LOG_DIR", "value": "/tmp/logs"}]);
                container["volumeMounts"] = json!([{"name": "tmp", "mountPath": "/tmp"},
                                                   {"name": "wlp-output", "mountPath": "/opt/ibm/wlp/output"}]);
                volumes = json!([{"name": "wlp-output", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]);
            } else if svc == "productpage" {
                container["volumeMounts"] = json!([{"name": "tmp", "mountPath": "/tmp"}]);
                volumes = json!([{"name": "tmp", "emptyDir": {}}]);
            }
            let labels = json!({"app": svc, "version": version});
            let mut pod_spec = json!({"serviceAccountName": sa, "containers": [container]});
            if volumes.as_array().is_some_and(|v| !v.is_empty()) {
                pod_spec["volumes"] = volumes;
            }
            s.deployment(
                ns,
                &format!("{svc}-{version}"),
                labels.clone(),
                1,
                labels,
                pod_spec,
            )?;
        }
    }
    Ok(())
}

fn seed_federation(s: &mut Seeder, opts: &WorldOptions) -> Result<(), StoreError> {
    if opts.peers.is_empty() {
        return Ok(());
    }
    let owner = json!({smh_core::consts::OWNER_LABEL: smh_core::consts::SMH_NAMESPACE,
                       smh_core::consts::CLUSTER_LABEL: opts.cluster});
    for peer in &opts.peers {
        for (svc, _) in bookinfo_services(peer.layout) {
            let host = format!("{svc}.bookinfo.svc.{}.global", peer.name);
            s.put(
                &istio_gvr("serviceentries"),
                json!({"apiVersion": format!("networking.istio.io/{}", istio_version_for("serviceentries")),
                       "kind": "ServiceEntry",
                       "metadata": {"name": host, "namespace": "istio-system", "labels": owner.clone()},
                       "spec": {
                           "hosts": [host],
                           "addresses": [smh_unique_ip(&[svc, "bookinfo", &peer.name, "kube-service"])],
                           "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
                           "location": "MESH_INTERNAL",
                           "resolution": "DNS",
                           "endpoints": [{"address": peer.gateway_ip, "ports": {"http": 15443},
                                          "labels": {"cluster": peer.name}}]}}),
            )?;
        }
    }
    s.put(
        &istio_gvr("gateways"),
        json!({"apiVersion": format!("networking.istio.io/{}", istio_version_for("gateways")),
               "kind": "Gateway",
               "metadata": {"name": "virtual-mesh-service-mesh-hub", "namespace": "istio-system", "labels": owner.clone()},
               "spec": {"selector": {"istio": "ingressgateway"},
                        "servers": [{"port": {"number": 15443, "protocol": "TLS", "name": "tls"},
                                     "hosts": ["*.global"], "tls": {"mode": "AUTO_PASSTHROUGH"}}]}}),
    )?;
    let pattern = format!("\\.{}.global$", opts.cluster);
    s.put(
        &istio_gvr("envoyfilters"),
        json!({"apiVersion": "networking.istio.io/v1alpha3",
               "kind": "EnvoyFilter",
               "metadata": {"name": "virtual-mesh.service-mesh-hub", "namespace": "istio-system", "labels": owner},
               "spec": {"workloadSelector": {"labels": {"istio": "ingressgateway"}},
                        "configPatches": [{"applyTo": "NETWORK_FILTER",
                            "match": {"context": "GATEWAY", "listener": {"portNumber": 15443,
                                "filterChain": {"filter": {"name": "envoy.filters.network.sni_cluster"}}}},
                            "patch": {"operation": "INSERT_AFTER", "value": {
                                "name": "envoy.filters.network.tcp_cluster_rewrite",
                                "typed_config": {"@type": "type.googleapis.com/istio.envoy.config.filter.network.tcp_cluster_rewrite.v2alpha1.TcpClusterRewrite",
                                                 "cluster_pattern": pattern, "cluster_replacement": ".cluster.local"}}}}]}}),
    )
}

fn seed_remote_secrets(s: &mut Seeder, opts: &WorldOptions) -> Result<(), StoreError> {
    for peer in &opts.peers {
        use super::mesh::inputs::{CLUSTER_ANNOTATION, MULTICLUSTER_LABEL, REMOTE_SECRET_PREFIX};
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {p}\n  cluster:\n    server: https://{node}-control-plane:6443\ncontexts:\n- name: {p}\n  context:\n    cluster: {p}\n    user: {p}\ncurrent-context: {p}\nusers:\n- name: {p}\n  user: {{}}\n",
            p = peer.cluster_id,
            node = peer.name
        );
        let mut data = BTreeMap::new();
        data.insert(peer.cluster_id.clone(), base64(kubeconfig.as_bytes()));
        s.put(
            &obj::secrets(),
            json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": format!("{REMOTE_SECRET_PREFIX}{}", peer.cluster_id), "namespace": "istio-system",
                                "labels": {MULTICLUSTER_LABEL: "true"},
                                "annotations": {CLUSTER_ANNOTATION: peer.cluster_id}},
                   "data": data}),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smh_ip_matches_the_reference_vectors() {
        // What SMH's controller computes: ("failover-service", "failover-service-namespace")
        // -> 247.153.147.39;
        // reviews-failover/service-mesh-hub -> 240.76.63.152 (scope "failover-service").
        assert_eq!(
            smh_unique_ip(&[
                "failover-service",
                "failover-service-namespace",
                "",
                "failover-service"
            ]),
            "247.153.147.39"
        );
        assert_eq!(
            smh_unique_ip(&[
                "reviews-failover",
                "service-mesh-hub",
                "",
                "failover-service"
            ]),
            "240.76.63.152"
        );
    }

    #[test]
    fn base64_encodes() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    fn count(store: &Store, gvr: &Gvr, ns: &str) -> usize {
        store.list(gvr, Some(ns)).0.len()
    }

    #[test]
    fn seeds_both_layouts_and_mode_signals() {
        for mode in [MultiClusterMode::Global, MultiClusterMode::MultiPrimary] {
            let opts = WorldOptions::demo(mode, "1.24.2", std::time::Duration::ZERO);
            let mgmt = Store::new();
            let remote = Store::new();
            let n = seed(&mgmt, &opts[0]).unwrap();
            assert!(n > 20);
            assert_eq!(seed(&mgmt, &opts[0]).unwrap(), 0, "idempotent");
            seed(&remote, &opts[1]).unwrap();
            assert_eq!(count(&mgmt, &obj::deployments(), "bookinfo"), 5);
            assert_eq!(count(&remote, &obj::deployments(), "bookinfo"), 2);
            assert_eq!(count(&mgmt, &obj::services(), "bookinfo"), 4);
            assert!(
                mgmt.get(&obj::namespaces(), "", "service-mesh-hub")
                    .is_some()
            );
            assert!(
                remote
                    .get(&obj::namespaces(), "", "service-mesh-hub")
                    .is_none()
            );
            let istiod = mgmt
                .get(&obj::deployments(), "istio-system", "istiod")
                .unwrap();
            assert_eq!(
                istiod["spec"]["template"]["spec"]["containers"][0]["image"],
                "docker.io/istio/pilot:1.24.2"
            );
            let ses = mgmt
                .list(&istio_gvr("serviceentries"), Some("istio-system"))
                .0;
            let coredns = mgmt.get(&obj::deployments(), "istio-system", "istiocoredns");
            let secrets = crate::world::mesh::inputs::remote_secret_ids(&mgmt);
            match mode {
                MultiClusterMode::Global => {
                    let names: Vec<&str> = ses.iter().map(obj::name).collect();
                    assert_eq!(
                        names,
                        vec![
                            "ratings.bookinfo.svc.remote-cluster.global",
                            "reviews.bookinfo.svc.remote-cluster.global"
                        ]
                    );
                    assert_eq!(
                        ses[1]["spec"]["endpoints"][0]["address"],
                        opts[1].gateway_ip
                    );
                    assert!(coredns.is_some());
                    assert!(secrets.is_empty());
                    assert_eq!(
                        remote
                            .list(&istio_gvr("serviceentries"), Some("istio-system"))
                            .0
                            .len(),
                        4
                    );
                }
                MultiClusterMode::MultiPrimary => {
                    assert!(ses.is_empty());
                    assert!(coredns.is_none());
                    // Keyed by the peer's Istio cluster ID, not its SMH name.
                    assert_eq!(secrets, vec!["cluster2".to_string()]);
                    let env = &istiod["spec"]["template"]["spec"]["containers"][0]["env"][0];
                    assert_eq!(env, &json!({"name": "CLUSTER_ID", "value": "cluster1"}));
                }
            }
        }
    }
}
