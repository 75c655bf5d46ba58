//! API discovery documents: the legacy form (`APIVersions`, `APIGroupList`, `APIGroup`,
//! `APIResourceList`) and the aggregated form (`apidiscovery.k8s.io/v2` and `v2beta1`
//! `APIGroupDiscoveryList`), built from the registry.

use serde_json::{Value, json};

use super::registry::{Registry, ResourceInfo};

/// Content-Type of an aggregated discovery answer.
pub(crate) fn aggregated_content_type(version: &str) -> String {
    format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList")
}

/// Which aggregated discovery version the Accept header asks for, if any (v2 preferred).
pub(crate) fn wants_aggregated(accept: &str) -> Option<&'static str> {
    let asks = |v: &str| {
        accept.split(',').any(|part| {
            let p: Vec<&str> = part.split(';').map(str::trim).collect();
            p.contains(&"g=apidiscovery.k8s.io")
                && p.contains(&format!("v={v}").as_str())
                && p.contains(&"as=APIGroupDiscoveryList")
        })
    };
    if asks("v2") {
        Some("v2")
    } else if asks("v2beta1") {
        Some("v2beta1")
    } else {
        None
    }
}

/// `GET /api`.
pub(crate) fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": vs,
        "preferredVersion": vs.first().cloned().unwrap_or(Value::Null),
    })
}

/// `GET /apis`.
pub(crate) fn api_group_list(reg: &Registry) -> Value {
    let groups: Vec<Value> = reg
        .groups()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| group_json(&g, &vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/<group>`.
pub(crate) fn api_group(reg: &Registry, group: &str) -> Option<Value> {
    let (g, vs) = reg
        .groups()
        .into_iter()
        .find(|(g, _)| g == group && !g.is_empty())?;
    let mut v = group_json(&g, &vs);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

fn subresources(
    r: &ResourceInfo,
) -> Vec<(&'static str, String, String, String, Vec<&'static str>)> {
    // (name, group, version, kind, verbs)
    let mut out = Vec::new();
    if r.status_subresource {
        out.push((
            "status",
            r.group.clone(),
            r.version.clone(),
            r.kind.clone(),
            vec!["get", "patch", "update"],
        ));
    }
    if r.scale_subresource {
        out.push((
            "scale",
            "autoscaling".into(),
            "v1".into(),
            "Scale".into(),
            vec!["get", "patch", "update"],
        ));
    }
    if r.group.is_empty() && r.plural == "pods" {
        out.push(("log", String::new(), "v1".into(), "Pod".into(), vec!["get"]));
        out.push((
            "portforward",
            String::new(),
            "v1".into(),
            "PodPortForwardOptions".into(),
            vec!["create", "get"],
        ));
    }
    out
}

/// `GET /api/v1` or `/apis/<group>/<version>`.
pub(crate) fn resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let resources: Vec<std::sync::Arc<ResourceInfo>> = reg
        .all()
        .into_iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if resources.is_empty() {
        return None;
    }
    let mut list = Vec::new();
    for r in &resources {
        let mut e = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs(),
        });
        if !r.short_names.is_empty() {
            e["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            e["categories"] = json!(r.categories);
        }
        list.push(e);
        for (sub, g, v, kind, verbs) in subresources(r) {
            let mut s = json!({
                "name": format!("{}/{sub}", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if sub == "scale" {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            list.push(s);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list}),
    )
}

/// A resource's own kind in aggregated discovery: built-in kinds with an empty group and
/// version, custom resources with theirs, as a real server lists them.
fn own_kind(r: &ResourceInfo) -> Value {
    if r.builtin {
        json!({"group": "", "version": "", "kind": r.kind})
    } else {
        json!({"group": r.group, "version": r.version, "kind": r.kind})
    }
}

fn aggregated_resource(r: &ResourceInfo) -> Value {
    let mut e = json!({
        "resource": r.plural,
        "responseKind": own_kind(r),
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs(),
    });
    if !r.short_names.is_empty() {
        e["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        e["categories"] = json!(r.categories);
    }
    let subs: Vec<Value> = subresources(r)
        .into_iter()
        .map(|(sub, g, v, kind, verbs)| {
            let rk = if g == r.group && v == r.version && kind == r.kind {
                own_kind(r)
            } else {
                json!({"group": g, "version": v, "kind": kind})
            };
            json!({"subresource": sub, "responseKind": rk, "verbs": verbs})
        })
        .collect();
    if !subs.is_empty() {
        e["subresources"] = json!(subs);
    }
    e
}

/// Aggregated discovery: the core group (`/api`) or every named group (`/apis`).
pub(crate) fn aggregated(reg: &Registry, core: bool, version: &str) -> Value {
    let all = reg.all();
    let items: Vec<Value> = reg
        .groups()
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, vs)| {
            let versions: Vec<Value> = vs
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = all
                        .iter()
                        .filter(|r| r.group == g && &r.version == v)
                        .map(|r| aggregated_resource(r))
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let mut metadata = json!({"creationTimestamp": null});
            if !g.is_empty() {
                metadata["name"] = json!(g);
            }
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(wants_aggregated(kubectl), Some("v2"));
        assert_eq!(
            wants_aggregated(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            ),
            Some("v2beta1")
        );
        assert_eq!(wants_aggregated("application/json"), None);
    }

    #[test]
    fn documents() {
        let reg = Registry::with_builtins();
        reg.apply_crd(&smh_core::model::crd::smh_crds()[1]).unwrap();
        let groups = api_group_list(&reg);
        let names: Vec<&str> = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            vec![
                "admissionregistration.k8s.io",
                "apiextensions.k8s.io",
                "apps",
                "autoscaling",
                "batch",
                "coordination.k8s.io",
                "discovery.k8s.io",
                "metrics.k8s.io",
                "networking.k8s.io",
                "networking.smh.solo.io",
                "policy",
                "rbac.authorization.k8s.io",
                "scheduling.k8s.io",
                "storage.k8s.io"
            ]
        );
        let apps = resource_list(&reg, "apps", "v1").unwrap();
        let res: Vec<&str> = apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            res,
            vec![
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
                "replicasets/status",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/status"
            ]
        );
        assert_eq!(apps["resources"][3]["shortNames"], json!(["deploy"]));
        assert!(resource_list(&reg, "apps", "v2").is_none());

        let agg = aggregated(&reg, false, "v2");
        assert_eq!(agg["kind"], "APIGroupDiscoveryList");
        let tp = agg["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["metadata"]["name"] == "networking.smh.solo.io")
            .unwrap();
        let r = &tp["versions"][0]["resources"][0];
        assert_eq!(r["resource"], "trafficpolicies");
        assert_eq!(r["scope"], "Namespaced");
        assert_eq!(r["responseKind"]["kind"], "TrafficPolicy");
        assert_eq!(r["subresources"][0]["subresource"], "status");
        let core = aggregated(&reg, true, "v2");
        assert_eq!(core["items"].as_array().unwrap().len(), 1);
        assert!(core["items"][0]["metadata"].get("name").is_none());
    }
}
