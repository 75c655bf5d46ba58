//! EndpointSlice controller, alongside the Endpoints one and like Kubernetes' own: for each
//! Service with a selector, `discovery.k8s.io/v1` EndpointSlices named `<service>-<suffix>`,
//! labelled `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by`, owned
//! by the Service, of `addressType: IPv4`; one slice per set of resolved ports (as Endpoints
//! subsets), at most 100 endpoints each; every selected pod with an IP is an endpoint with
//! its `ready`, `serving` and `terminating` conditions, `nodeName` and `targetRef`. Slices of
//! Services that are gone or lost their selector are deleted.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::State;
use super::endpoints::selected_pods;
use crate::store::{Gvr, Store};
use crate::world::obj::{
    self, container_port_by_name, labels, name, namespace, now_rfc3339, owner_ref, pod_ready,
    str_at,
};

/// The label naming a slice's Service.
pub(crate) const SERVICE_NAME: &str = "kubernetes.io/service-name";
const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
const CONTROLLER: &str = "endpointslice-controller.k8s.io";
const TRIGGER: &str = "endpoints.kubernetes.io/last-change-trigger-time";
/// The real controller's default `--max-endpoints-per-slice`.
const MAX_PER_SLICE: usize = 100;

pub(crate) fn endpoint_slices() -> Gvr {
    Gvr::new("discovery.k8s.io", "v1", "endpointslices")
}

/// A Service's ports as one pod serves them (`targetPort` by number or container port name),
/// or `None` when the pod serves none of them.
fn ports_for(svc: &Value, pod: &Value) -> Option<Vec<Value>> {
    let svc_ports = svc.pointer("/spec/ports").and_then(Value::as_array)?;
    let mut out = Vec::new();
    for sp in svc_ports {
        let port = sp.get("port").and_then(Value::as_u64).unwrap_or(0);
        let target = match sp.get("targetPort") {
            Some(Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
            Some(Value::String(s)) => s.parse().ok().or_else(|| container_port_by_name(pod, s)),
            _ => u16::try_from(port).ok(),
        };
        let Some(target) = target else { continue };
        let mut p = json!({
            "name": sp.get("name").and_then(Value::as_str).unwrap_or(""),
            "port": target,
            "protocol": sp.get("protocol").and_then(Value::as_str).unwrap_or("TCP"),
        });
        if let Some(ap) = sp.get("appProtocol") {
            p["appProtocol"] = ap.clone();
        }
        out.push(p);
    }
    (!out.is_empty()).then_some(out)
}

fn endpoint(pod: &Value) -> Value {
    let ready = pod_ready(pod);
    json!({
        "addresses": [str_at(pod, "/status/podIP")],
        "conditions": {"ready": ready, "serving": ready, "terminating": false},
        "nodeName": str_at(pod, "/spec/nodeName"),
        "targetRef": {
            "kind": "Pod",
            "name": name(pod),
            "namespace": namespace(pod),
            "uid": obj::uid(pod),
        },
    })
}

/// The slices' contents a Service wants: `(ports, endpoints)` per chunk, in a stable order.
pub(crate) fn desired(svc: &Value, pods: &[&Value]) -> Vec<(Vec<Value>, Vec<Value>)> {
    let mut groups: BTreeMap<String, (Vec<Value>, Vec<Value>)> = BTreeMap::new();
    for pod in pods {
        let Some(ports) = ports_for(svc, pod) else {
            continue;
        };
        let key = serde_json::to_string(&ports).unwrap_or_default();
        groups
            .entry(key)
            .or_insert_with(|| (ports, Vec::new()))
            .1
            .push(endpoint(pod));
    }
    let mut out = Vec::new();
    for (ports, mut eps) in groups.into_values() {
        eps.sort_by(|a, b| str_at(a, "/addresses/0").cmp(str_at(b, "/addresses/0")));
        for chunk in eps.chunks(MAX_PER_SLICE) {
            out.push((ports.clone(), chunk.to_vec()));
        }
    }
    out
}

fn managed_by_us(slice: &Value) -> bool {
    obj::string_map(slice, "/metadata/labels")
        .get(MANAGED_BY)
        .is_some_and(|m| m == CONTROLLER)
}

fn slice_labels(svc: &Value) -> Value {
    let mut l = labels(svc);
    l.insert(SERVICE_NAME.into(), name(svc).to_string());
    l.insert(MANAGED_BY.into(), CONTROLLER.into());
    json!(l)
}

pub(super) fn sync(store: &Store, state: &mut State) {
    let gvr = endpoint_slices();
    let (services, _) = store.list(&obj::services(), None);
    let (pods, _) = store.list(&obj::pods(), None);
    let (slices, _) = store.list(&gvr, None);
    let mut by_service: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for s in slices.into_iter().filter(managed_by_us) {
        let svc = obj::string_map(&s, "/metadata/labels")
            .get(SERVICE_NAME)
            .cloned()
            .unwrap_or_default();
        by_service
            .entry((namespace(&s).to_string(), svc))
            .or_default()
            .push(s);
    }
    for svc in &services {
        let key = (namespace(svc).to_string(), name(svc).to_string());
        let mut existing = by_service.remove(&key).unwrap_or_default();
        let Some(members) = selected_pods(svc, &pods) else {
            // No selector (or being deleted): not ours to keep.
            existing.into_iter().for_each(|s| delete(store, &s));
            continue;
        };
        existing.sort_by(|a, b| name(a).cmp(name(b)));
        let wanted_labels = slice_labels(svc);
        let mut wanted = desired(svc, &members);
        if wanted.is_empty() {
            // No endpoints: one placeholder slice without ports or endpoints, as the real
            // controller keeps.
            wanted.push((Vec::new(), Vec::new()));
        }
        for (ports, endpoints) in wanted {
            // Reuse a slice with the same ports, else any left over, else a new one.
            let reuse = existing
                .iter()
                .position(|s| s.get("ports").cloned().unwrap_or(json!([])) == json!(ports))
                .or_else(|| (!existing.is_empty()).then_some(0));
            let current = reuse.map(|i| existing.remove(i));
            write(store, state, svc, current, &wanted_labels, ports, endpoints);
        }
        existing.into_iter().for_each(|s| delete(store, &s));
    }
    // Services that are gone.
    for s in by_service.into_values().flatten() {
        delete(store, &s);
    }
}

fn delete(store: &Store, slice: &Value) {
    let _ = store.delete(&endpoint_slices(), namespace(slice), name(slice));
}

fn write(
    store: &Store,
    state: &mut State,
    svc: &Value,
    current: Option<Value>,
    wanted_labels: &Value,
    ports: Vec<Value>,
    endpoints: Vec<Value>,
) {
    if let Some(c) = &current
        && c.get("ports").cloned().unwrap_or(json!([])) == json!(ports)
        && c.get("endpoints").cloned().unwrap_or(json!([])) == json!(endpoints)
        && c.pointer("/metadata/labels") == Some(wanted_labels)
    {
        return;
    }
    let ns = namespace(svc);
    let mut slice = current.clone().unwrap_or_else(|| {
        json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": format!("{}-{}", name(svc), state.suffix(5)),
                "generateName": format!("{}-", name(svc)),
                "namespace": ns,
                "ownerReferences": [owner_ref(svc, "v1", "Service")],
            },
            "addressType": "IPv4",
        })
    });
    slice["metadata"]["labels"] = wanted_labels.clone();
    obj::map_at_mut(&mut slice, &["metadata", "annotations"])
        .insert(TRIGGER.into(), json!(now_rfc3339()));
    if let Some(m) = slice.as_object_mut() {
        for (key, list) in [("ports", ports), ("endpoints", endpoints)] {
            if list.is_empty() {
                m.remove(key);
            } else {
                m.insert(key.into(), Value::Array(list));
            }
        }
    }
    let _ = if current.is_some() {
        store.update(&endpoint_slices(), slice)
    } else {
        store.create(&endpoint_slices(), slice)
    };
}
