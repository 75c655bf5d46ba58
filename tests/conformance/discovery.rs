//! Legacy and aggregated discovery, OpenAPI v3, `/version`, and `kubectl get` tables: for
//! the resources kubectl-smh and the guide's kubectl commands use (the two servers'
//! Kubernetes versions differ, so whole documents would differ in resources neither uses).

use serde_json::{Value, json};

use crate::harness::{Interaction, Norm, stdout, text};

/// The resources compared in discovery: what kubectl-smh reads and writes.
const USED: &[&str] = &[
    "configmaps",
    "endpoints",
    "namespaces",
    "pods",
    "pods/log",
    "pods/portforward",
    "pods/status",
    "services",
    "secrets",
    "deployments",
    "deployments/scale",
    "deployments/status",
    "replicasets",
    "destinationrules",
    "envoyfilters",
    "serviceentries",
    "virtualservices",
    "customresourcedefinitions",
    "customresourcedefinitions/status",
    "endpointslices",
];

fn sorted(v: &Value) -> Value {
    let mut a = v.as_array().cloned().unwrap_or_default();
    a.sort_by_key(|x| x.to_string());
    Value::Array(a)
}

/// A legacy APIResourceList, restricted to [`USED`].
fn resource_list() -> Norm {
    Box::new(|o| {
        let rs: Vec<Value> = o.body["resources"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|r| USED.contains(&r["name"].as_str().unwrap_or("")))
                    .map(|r| {
                        json!({"name": r["name"], "kind": r["kind"], "namespaced": r["namespaced"],
                            "singularName": r["singularName"], "verbs": sorted(&r["verbs"]),
                            "shortNames": r["shortNames"], "group": r["group"], "version": r["version"],
                            "categories": r["categories"]})
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({"code": o.code, "kind": o.body["kind"], "groupVersion": o.body["groupVersion"], "resources": sorted(&Value::Array(rs))})
    })
}

/// An aggregated discovery document, restricted to `groups` and [`USED`].
fn aggregated(groups: &'static [&'static str]) -> Norm {
    Box::new(move |o| {
        let gs: Vec<Value> = o.body["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|g| groups.contains(&g["metadata"]["name"].as_str().unwrap_or("")))
                    .map(|g| {
                        let versions: Vec<Value> = g["versions"]
                            .as_array()
                            .map(|vs| {
                                vs.iter()
                                    .map(|v| {
                                        let rs: Vec<Value> = v["resources"]
                                            .as_array()
                                            .map(|rs| {
                                                rs.iter()
                                                    .filter(|r| USED.contains(&r["resource"].as_str().unwrap_or("")))
                                                    .map(|r| {
                                                        let subs: Vec<Value> = r["subresources"]
                                                            .as_array()
                                                            .map(|s| {
                                                                s.iter()
                                                                    .filter(|s| s["subresource"] == "status" || s["subresource"] == "scale")
                                                                    .map(|s| json!([s["subresource"], s["responseKind"], sorted(&s["verbs"])]))
                                                                    .collect::<Vec<_>>()
                                                            })
                                                            .unwrap_or_default();
                                                        json!({"resource": r["resource"], "responseKind": r["responseKind"],
                                                            "scope": r["scope"], "singularResource": r["singularResource"],
                                                            "verbs": sorted(&r["verbs"]), "shortNames": r["shortNames"],
                                                            "subresources": sorted(&Value::Array(subs))})
                                                    })
                                                    .collect()
                                            })
                                            .unwrap_or_default();
                                        json!({"version": v["version"], "resources": sorted(&Value::Array(rs))})
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        json!({"name": g["metadata"]["name"], "versions": versions})
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({"code": o.code, "kind": o.body["kind"], "apiVersion": o.body["apiVersion"], "groups": sorted(&Value::Array(gs))})
    })
}

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// An OpenAPI v3 document's schema `name`: its property names, the merge keys of its
/// list properties, and its group-version-kind.
fn schema(name: &'static str) -> Norm {
    Box::new(move |o| {
        let s = &o.body["components"]["schemas"][name];
        let props: Vec<Value> = s["properties"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        json!([
                            k,
                            v["x-kubernetes-patch-merge-key"],
                            v["x-kubernetes-patch-strategy"],
                            v["x-kubernetes-list-type"],
                            v["x-kubernetes-list-map-keys"]
                        ])
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({"code": o.code, "properties": props, "required": s["required"],
            "gvk": s["x-kubernetes-group-version-kind"]})
    })
}

pub(crate) fn interactions() -> Vec<Interaction> {
    vec![
        Interaction::http("discovery/api", "GET", "/api", None),
        Interaction::http("discovery/api-v1", "GET", "/api/v1", None).norm(resource_list()),
        Interaction::http("discovery/apis-groups", "GET", "/apis", None).norm(Box::new(|o| {
            let gs: Vec<Value> = o.body["groups"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|g| {
                            ["apps", "apiextensions.k8s.io", "networking.istio.io", "rbac.authorization.k8s.io", "discovery.k8s.io"]
                                .contains(&g["name"].as_str().unwrap_or(""))
                        })
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            json!({"code": o.code, "kind": o.body["kind"], "groups": sorted(&Value::Array(gs))})
        })),
        // The order of the groups (kubectl resolves a resource name found in several groups
        // by it), for the groups the product uses.
        Interaction::http("discovery/group-order", "GET", "/apis", None).norm(Box::new(|o| {
            let names: Vec<Value> = o.body["groups"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|g| g["name"].clone())
                        .filter(|n| {
                            ["apps", "apiextensions.k8s.io", "networking.istio.io", "rbac.authorization.k8s.io", "discovery.k8s.io", "autoscaling"]
                                .contains(&n.as_str().unwrap_or(""))
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({"code": o.code, "order": names})
        })),
        Interaction::http("discovery/apps-v1", "GET", "/apis/apps/v1", None).norm(resource_list()),
        Interaction::http(
            "discovery/istio-v1alpha3",
            "GET",
            "/apis/networking.istio.io/v1alpha3",
            None,
        )
        .norm(resource_list()),
        Interaction::http("discovery/aggregated-apis", "GET", "/apis", None)
            .header("accept", AGGREGATED)
            .norm(aggregated(&["apps", "networking.istio.io", "apiextensions.k8s.io"])),
        Interaction::http("discovery/aggregated-api", "GET", "/api", None)
            .header("accept", AGGREGATED)
            .norm(aggregated(&[""])),
        Interaction::http("discovery/version", "GET", "/version", None).norm(Box::new(|o| {
            let mut keys: Vec<&String> = o.body.as_object().map(|m| m.keys().collect()).unwrap_or_default();
            keys.sort();
            json!({"code": o.code, "keys": keys, "major": o.body["major"], "minor": o.body["minor"],
                "gitVersion": o.body["gitVersion"]})
        })),
        Interaction::http("discovery/openapi-v3-index", "GET", "/openapi/v3", None)
            .norm(Box::new(|o| {
                let want = ["api/v1", "apis/apps/v1", "apis/networking.istio.io/v1alpha3",
                    "apis/apiextensions.k8s.io/v1", "apis/networking.istio.io/v1"];
                let present: Vec<Value> = want
                    .iter()
                    .map(|p| json!([p, o.body["paths"][p]["serverRelativeURL"].as_str().is_some_and(|u| u.starts_with(&format!("/openapi/v3/{p}?hash=")))]))
                    .collect();
                json!({"code": o.code, "paths": present})
            }))
            .capture("core_url", "/paths/api~1v1/serverRelativeURL")
            .capture("apps_url", "/paths/apis~1apps~1v1/serverRelativeURL")
            .capture("istio_url", "/paths/apis~1networking.istio.io~1v1alpha3/serverRelativeURL"),
        Interaction::http("discovery/openapi-v3-configmap", "GET", "${core_url}", None)
            .norm(schema("io.k8s.api.core.v1.ConfigMap")),
        Interaction::http("discovery/openapi-v3-podspec", "GET", "${core_url}", None)
            .norm(schema("io.k8s.api.core.v1.PodSpec")),
        Interaction::http("discovery/openapi-v3-deployment-spec", "GET", "${apps_url}", None)
            .norm(schema("io.k8s.api.apps.v1.DeploymentSpec")),
        Interaction::http("discovery/openapi-v3-destinationrule", "GET", "${istio_url}", None)
            .norm(schema("io.istio.networking.v1alpha3.DestinationRule")),
        Interaction::kubectl(
            "discovery/kubectl-api-resources-apps",
            &["api-resources", "--api-group=apps", "-o", "wide"],
            None,
        )
        .norm(text()),
        Interaction::kubectl(
            "discovery/kubectl-api-resources-istio",
            &["api-resources", "--api-group=networking.istio.io"],
            None,
        )
        .norm(text()),
        Interaction::kubectl("discovery/kubectl-explain", &["explain", "destinationrule.spec.host"], None)
            .norm(stdout()),
        Interaction::http("discovery/table-namespaces", "GET", "/api/v1/namespaces?fieldSelector=metadata.name%3Dconf-crud", None)
            .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
            .norm(crate::crd::table()),
        Interaction::http("discovery/table-configmaps", "GET", "/api/v1/namespaces/conf-apply/configmaps?fieldSelector=metadata.name%3Ds", None)
            .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
            .norm(crate::crd::table()),
        Interaction::http("discovery/table-deployments", "GET", "/apis/apps/v1/namespaces/conf-apply/deployments", None)
            .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io;includeObject=None")
            .norm(crate::crd::table()),
        Interaction::kubectl("discovery/kubectl-get-services", &["get", "services", "-n", "conf-status"], None)
            .norm(Box::new(|o| {
                // The ClusterIP column is masked: the allocators differ.
                let re = regex::Regex::new(r"\b10\.\d+\.\d+\.\d+\b").unwrap();
                json!({"code": o.code, "stdout": re.replace_all(o.body.as_str().unwrap_or(""), "<ip>").split_whitespace().collect::<Vec<_>>()})
            })),
        Interaction::kubectl("discovery/kubectl-get-namespace", &["get", "namespace", "conf-crud", "conf-apply"], None),
        Interaction::kubectl("discovery/kubectl-get-configmap-yaml", &["get", "configmap", "s", "-n", "conf-apply", "-o", "yaml", "--show-managed-fields=false"], None),
        Interaction::kubectl("discovery/kubectl-get-raw-healthz", &["get", "--raw", "/healthz"], None),
    ]
}
