//! Endpoints controller: one `Endpoints` object per Service with a selector (same name),
//! ready pods in `addresses`, the others in `notReadyAddresses` (all in `addresses` with
//! `publishNotReadyAddresses`), ports from the Service with `targetPort` resolved by number
//! or by container port name (a pod without the named port is left out of that port's
//! subset), grouped into subsets by port set as Kubernetes does. Endpoints of deleted
//! Services are removed.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::store::Store;
use crate::world::obj::{
    self, container_port_by_name, is_deleting, labels, map_selects, name, namespace, now_rfc3339,
    pod_ready, str_at, string_map,
};

/// Marks Endpoints this controller manages (the real controller sets it too).
const TRIGGER: &str = "endpoints.kubernetes.io/last-change-trigger-time";

fn address(pod: &Value) -> Value {
    json!({
        "ip": str_at(pod, "/status/podIP"),
        "nodeName": str_at(pod, "/spec/nodeName"),
        "targetRef": {
            "kind": "Pod",
            "name": name(pod),
            "namespace": namespace(pod),
            "uid": obj::uid(pod),
        },
    })
}

/// The subsets for a service over the given pods.
pub(crate) fn subsets(svc: &Value, pods: &[&Value]) -> Vec<Value> {
    let publish_not_ready = svc
        .pointer("/spec/publishNotReadyAddresses")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let svc_ports = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // port set -> (ports, ready addresses, not-ready addresses)
    type Group = (Vec<Value>, Vec<Value>, Vec<Value>);
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for pod in pods {
        let mut ports = Vec::new();
        for sp in &svc_ports {
            let port = sp.get("port").and_then(Value::as_u64).unwrap_or(0);
            let target = match sp.get("targetPort") {
                Some(Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
                Some(Value::String(s)) => s.parse().ok().or_else(|| container_port_by_name(pod, s)),
                _ => u16::try_from(port).ok(),
            };
            let Some(target) = target else {
                continue;
            };
            let mut p = json!({
                "port": target,
                "protocol": sp.get("protocol").and_then(Value::as_str).unwrap_or("TCP"),
            });
            if let Some(n) = sp
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                p["name"] = json!(n);
            }
            if let Some(ap) = sp.get("appProtocol") {
                p["appProtocol"] = ap.clone();
            }
            ports.push(p);
        }
        if ports.is_empty() {
            continue;
        }
        let key = serde_json::to_string(&ports).unwrap_or_default();
        let entry = groups
            .entry(key)
            .or_insert_with(|| (ports, Vec::new(), Vec::new()));
        if publish_not_ready || pod_ready(pod) {
            entry.1.push(address(pod));
        } else {
            entry.2.push(address(pod));
        }
    }
    let by_ip = |a: &Value, b: &Value| str_at(a, "/ip").cmp(str_at(b, "/ip"));
    groups
        .into_values()
        .map(|(ports, mut ready, mut not_ready)| {
            ready.sort_by(by_ip);
            not_ready.sort_by(by_ip);
            let mut s = json!({"ports": ports});
            if !ready.is_empty() {
                s["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                s["notReadyAddresses"] = json!(not_ready);
            }
            s
        })
        .collect()
}

/// The pods a Service's Endpoints list (ready or not): those its selector picks in its
/// namespace that have an IP and have not ended. `None` for a Service this controller
/// leaves alone (no selector, or being deleted).
pub(crate) fn selected_pods<'a>(svc: &Value, pods: &'a [Value]) -> Option<Vec<&'a Value>> {
    let selector = string_map(svc, "/spec/selector");
    if selector.is_empty() || is_deleting(svc) {
        return None;
    }
    let ns = namespace(svc);
    Some(
        pods.iter()
            .filter(|p| namespace(p) == ns && !is_deleting(p))
            .filter(|p| !str_at(p, "/status/podIP").is_empty())
            .filter(|p| !matches!(str_at(p, "/status/phase"), "Succeeded" | "Failed"))
            .filter(|p| map_selects(&selector, &labels(p)))
            .collect(),
    )
}

pub(super) fn sync(store: &Store) {
    let (services, _) = store.list(&obj::services(), None);
    let (pods, _) = store.list(&obj::pods(), None);
    let (existing, _) = store.list(&obj::endpoints(), None);
    let mut wanted = std::collections::BTreeSet::new();
    for svc in &services {
        let Some(members) = selected_pods(svc, &pods) else {
            continue;
        };
        let ns = namespace(svc);
        wanted.insert((ns.to_string(), name(svc).to_string()));
        let subsets = subsets(svc, &members);
        let current = store.get(&obj::endpoints(), ns, name(svc));
        let svc_labels = labels(svc);
        let same = current.as_ref().is_some_and(|c| {
            c.get("subsets").cloned().unwrap_or(json!([])) == json!(subsets)
                && labels(c) == svc_labels
        });
        if same {
            continue;
        }
        let mut ep = current.clone().unwrap_or_else(|| {
            json!({"apiVersion": "v1", "kind": "Endpoints",
                   "metadata": {"name": name(svc), "namespace": ns}})
        });
        ep["metadata"]["labels"] = json!(svc_labels);
        obj::map_at_mut(&mut ep, &["metadata", "annotations"])
            .insert(TRIGGER.into(), json!(now_rfc3339()));
        if subsets.is_empty() {
            if let Some(m) = ep.as_object_mut() {
                m.remove("subsets");
            }
        } else {
            ep["subsets"] = json!(subsets);
        }
        let _ = if current.is_some() {
            store.update(&obj::endpoints(), ep)
        } else {
            store.create(&obj::endpoints(), ep)
        };
    }
    for ep in &existing {
        let key = (namespace(ep).to_string(), name(ep).to_string());
        let managed = ep
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .is_some_and(|a| a.contains_key(TRIGGER));
        if managed && !wanted.contains(&key) {
            let _ = store.delete(&obj::endpoints(), &key.0, &key.1);
        }
    }
}
