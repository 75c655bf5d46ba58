//! Server-side printing: `meta.k8s.io/v1` `Table` answers for clients that ask for them
//! (`kubectl get` does), with the columns the real server prints for the built-in kinds and a
//! CRD's `additionalPrinterColumns` for custom resources.

use serde_json::{Value, json};

use super::registry::{Column, ResourceInfo};

/// What each row carries in `object` (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// Age of an RFC 3339 timestamp, or `<unknown>`.
pub fn age(ts: Option<&str>) -> String {
    let Some(ts) = ts else {
        return "<unknown>".into();
    };
    match ts.parse::<jiff::Timestamp>() {
        Ok(t) => smh_core::model::duration::age(jiff::Timestamp::now(), t),
        Err(_) => "<unknown>".into(),
    }
}

fn col(name: &str, kind: &str, priority: i64, description: &str) -> Column {
    Column {
        name: name.into(),
        kind: kind.into(),
        format: if name == "Name" {
            "name".into()
        } else {
            String::new()
        },
        description: description.into(),
        priority,
        json_path: String::new(),
    }
}

fn name_col() -> Column {
    col(
        "Name",
        "string",
        0,
        "Name must be unique within a namespace. Cannot be updated.",
    )
}

fn age_col() -> Column {
    col(
        "Age",
        "string",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    )
}

fn s<'a>(o: &'a Value, p: &str) -> Option<&'a str> {
    o.pointer(p).and_then(Value::as_str)
}
fn i(o: &Value, p: &str) -> i64 {
    o.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn containers_and_images(o: &Value, spec: &str) -> (String, String) {
    let cs = o
        .pointer(&format!("{spec}/containers"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = cs.iter().filter_map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().filter_map(|c| s(c, "/image")).collect();
    (names.join(","), images.join(","))
}

fn selector_string(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "<none>".into();
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
        parts.extend(
            ml.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())),
        );
    }
    if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = s(e, "/key").unwrap_or_default();
            let vals: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match s(e, "/operator").unwrap_or_default() {
                "In" => parts.push(format!("{key} in ({})", vals.join(","))),
                "NotIn" => parts.push(format!("{key} notin ({})", vals.join(","))),
                "Exists" => parts.push(key.to_string()),
                "DoesNotExist" => parts.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

fn pod_status(o: &Value) -> (String, i64, i64, i64) {
    let total = o
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, |a| a.len() as i64);
    let mut reason = s(o, "/status/reason")
        .or(s(o, "/status/phase"))
        .unwrap_or("Pending")
        .to_string();
    let mut ready = 0;
    let mut restarts = 0;
    if let Some(statuses) = o
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
    {
        for cs in statuses {
            restarts += i(cs, "/restartCount");
            if cs.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            if let Some(r) = s(cs, "/state/waiting/reason").filter(|r| !r.is_empty()) {
                reason = r.to_string();
            } else if let Some(r) = s(cs, "/state/terminated/reason").filter(|r| !r.is_empty()) {
                reason = r.to_string();
            }
        }
    }
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        reason = "Terminating".into();
    }
    (reason, ready, total, restarts)
}

fn service_ports(o: &Value) -> String {
    let ports = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if ports.is_empty() {
        return "<none>".into();
    }
    ports
        .iter()
        .map(|p| {
            let proto = s(p, "/protocol").unwrap_or("TCP");
            let port = i(p, "/port");
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(np) => format!("{port}:{np}/{proto}"),
                None => format!("{port}/{proto}"),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn endpoints_string(o: &Value) -> String {
    let mut eps: Vec<String> = Vec::new();
    for subset in o
        .get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ports: Vec<i64> = subset
            .get("ports")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|p| i(p, "/port")).collect())
            .unwrap_or_default();
        for addr in subset
            .get("addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let ip = s(addr, "/ip").unwrap_or_default();
            if ports.is_empty() {
                eps.push(ip.to_string());
            }
            for p in &ports {
                eps.push(format!("{ip}:{p}"));
            }
        }
    }
    match eps.len() {
        0 => "<none>".into(),
        n if n > 3 => format!("{} + {} more...", eps[..3].join(","), n - 3),
        _ => eps.join(","),
    }
}

/// Built-in columns and the cells of one object.
fn builtin_row(res: &ResourceInfo, o: &Value) -> (Vec<Column>, Vec<Value>) {
    let name = json!(s(o, "/metadata/name").unwrap_or_default());
    let created = age(s(o, "/metadata/creationTimestamp"));
    match (res.group.as_str(), res.kind.as_str()) {
        ("apps", "Deployment") => {
            let (c, im) = containers_and_images(o, "/spec/template/spec");
            (
                vec![
                    name_col(),
                    col("Ready", "string", 0, "Number of the pod with ready state"),
                    col(
                        "Up-to-date",
                        "string",
                        0,
                        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                    ),
                    col(
                        "Available",
                        "string",
                        0,
                        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                    ),
                    age_col(),
                    col(
                        "Containers",
                        "string",
                        1,
                        "Names of each container in the template.",
                    ),
                    col(
                        "Images",
                        "string",
                        1,
                        "Images referenced by each container in the template.",
                    ),
                    col("Selector", "string", 1, "Label selector for pods."),
                ],
                vec![
                    name,
                    json!(format!(
                        "{}/{}",
                        i(o, "/status/readyReplicas"),
                        i(o, "/spec/replicas")
                    )),
                    json!(i(o, "/status/updatedReplicas")),
                    json!(i(o, "/status/availableReplicas")),
                    json!(created),
                    json!(c),
                    json!(im),
                    json!(selector_string(o.pointer("/spec/selector"))),
                ],
            )
        }
        ("apps", "ReplicaSet") => {
            let (c, im) = containers_and_images(o, "/spec/template/spec");
            (
                vec![
                    name_col(),
                    col("Desired", "integer", 0, "Number of desired pods."),
                    col("Current", "integer", 0, "Number of actual replicas."),
                    col("Ready", "integer", 0, "Number of ready replicas."),
                    age_col(),
                    col(
                        "Containers",
                        "string",
                        1,
                        "Names of each container in the template.",
                    ),
                    col(
                        "Images",
                        "string",
                        1,
                        "Images referenced by each container in the template.",
                    ),
                    col("Selector", "string", 1, "Label selector for pods."),
                ],
                vec![
                    name,
                    json!(i(o, "/spec/replicas")),
                    json!(i(o, "/status/replicas")),
                    json!(i(o, "/status/readyReplicas")),
                    json!(created),
                    json!(c),
                    json!(im),
                    json!(selector_string(o.pointer("/spec/selector"))),
                ],
            )
        }
        ("", "Pod") => {
            let (reason, ready, total, restarts) = pod_status(o);
            (
                vec![
                    name_col(),
                    col(
                        "Ready",
                        "string",
                        0,
                        "The aggregate readiness state of this pod for accepting traffic.",
                    ),
                    col(
                        "Status",
                        "string",
                        0,
                        "The aggregate status of the containers in this pod.",
                    ),
                    col(
                        "Restarts",
                        "string",
                        0,
                        "The number of times the containers in this pod have been restarted.",
                    ),
                    age_col(),
                    col("IP", "string", 1, "IP address allocated to the pod."),
                    col(
                        "Node",
                        "string",
                        1,
                        "Name of the Node this pod is scheduled on.",
                    ),
                    col(
                        "Nominated Node",
                        "string",
                        1,
                        "Name of the Node where this pod could be scheduled.",
                    ),
                    col("Readiness Gates", "string", 1, "Pod Readiness Gates."),
                ],
                vec![
                    name,
                    json!(format!("{ready}/{total}")),
                    json!(reason),
                    json!(restarts.to_string()),
                    json!(created),
                    json!(s(o, "/status/podIP").unwrap_or("<none>")),
                    json!(s(o, "/spec/nodeName").unwrap_or("<none>")),
                    json!("<none>"),
                    json!("<none>"),
                ],
            )
        }
        ("", "Service") => {
            let external = o
                .pointer("/spec/externalIPs")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_else(|| "<none>".into());
            let selector = o
                .pointer("/spec/selector")
                .and_then(Value::as_object)
                .filter(|m| !m.is_empty())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_else(|| "<none>".into());
            (
                vec![
                    name_col(),
                    col("Type", "string", 0, "The type of the service."),
                    col("Cluster-IP", "string", 0, "The IP address of the service."),
                    col(
                        "External-IP",
                        "string",
                        0,
                        "The external IP addresses of the service.",
                    ),
                    col("Port(s)", "string", 0, "The ports of the service."),
                    age_col(),
                    col(
                        "Selector",
                        "string",
                        1,
                        "The label selector of the service.",
                    ),
                ],
                vec![
                    name,
                    json!(s(o, "/spec/type").unwrap_or("ClusterIP")),
                    json!(s(o, "/spec/clusterIP").unwrap_or("<none>")),
                    json!(external),
                    json!(service_ports(o)),
                    json!(created),
                    json!(selector),
                ],
            )
        }
        ("", "Endpoints") => (
            vec![
                name_col(),
                col("Endpoints", "string", 0, "Endpoints of the resource."),
                age_col(),
            ],
            vec![name, json!(endpoints_string(o)), json!(created)],
        ),
        ("", "Node") => {
            let ready = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| s(c, "/type") == Some("Ready")))
                .map(|c| {
                    if s(c, "/status") == Some("True") {
                        "Ready"
                    } else {
                        "NotReady"
                    }
                })
                .unwrap_or("Unknown");
            let mut roles: Vec<&str> = o
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|l| {
                    l.keys()
                        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                        .collect()
                })
                .unwrap_or_default();
            roles.sort();
            let addr = |t: &str| {
                o.pointer("/status/addresses")
                    .and_then(Value::as_array)
                    .and_then(|a| a.iter().find(|x| s(x, "/type") == Some(t)))
                    .and_then(|x| s(x, "/address"))
                    .unwrap_or("<none>")
                    .to_string()
            };
            let info = |k: &str| {
                s(o, &format!("/status/nodeInfo/{k}"))
                    .unwrap_or("<unknown>")
                    .to_string()
            };
            (
                vec![
                    name_col(),
                    col("Status", "string", 0, "The status of the node"),
                    col("Roles", "string", 0, "The roles of the node"),
                    age_col(),
                    col(
                        "Version",
                        "string",
                        0,
                        "Kubelet Version reported by the node.",
                    ),
                    col(
                        "Internal-IP",
                        "string",
                        1,
                        "List of internal IPs for the node.",
                    ),
                    col(
                        "External-IP",
                        "string",
                        1,
                        "List of external IPs for the node.",
                    ),
                    col("OS-Image", "string", 1, "OS Image reported by the node."),
                    col(
                        "Kernel-Version",
                        "string",
                        1,
                        "Kernel Version reported by the node.",
                    ),
                    col(
                        "Container-Runtime",
                        "string",
                        1,
                        "Container Runtime Version reported by the node.",
                    ),
                ],
                vec![
                    name,
                    json!(ready),
                    json!(if roles.is_empty() {
                        "<none>".to_string()
                    } else {
                        roles.join(",")
                    }),
                    json!(created),
                    json!(info("kubeletVersion")),
                    json!(addr("InternalIP")),
                    json!(addr("ExternalIP")),
                    json!(info("osImage")),
                    json!(info("kernelVersion")),
                    json!(info("containerRuntimeVersion")),
                ],
            )
        }
        ("", "Namespace") => (
            vec![
                name_col(),
                col("Status", "string", 0, "The status of the namespace."),
                age_col(),
            ],
            vec![
                name,
                json!(s(o, "/status/phase").unwrap_or("Active")),
                json!(created),
            ],
        ),
        ("", "ConfigMap") => {
            let n = ["data", "binaryData"]
                .iter()
                .map(|k| o.get(*k).and_then(Value::as_object).map_or(0, |m| m.len()))
                .sum::<usize>();
            (
                vec![
                    name_col(),
                    col("Data", "integer", 0, "Number of data items."),
                    age_col(),
                ],
                vec![name, json!(n), json!(created)],
            )
        }
        ("", "Secret") => {
            let n = o
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len());
            (
                vec![
                    name_col(),
                    col("Type", "string", 0, "The type of the secret."),
                    col("Data", "integer", 0, "Number of data items."),
                    age_col(),
                ],
                vec![
                    name,
                    json!(s(o, "/type").unwrap_or("Opaque")),
                    json!(n),
                    json!(created),
                ],
            )
        }
        ("", "ServiceAccount") => {
            let n = o
                .get("secrets")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            (
                vec![
                    name_col(),
                    col("Secrets", "integer", 0, "Number of secrets."),
                    age_col(),
                ],
                vec![name, json!(n), json!(created)],
            )
        }
        ("", "Event") => {
            let last = s(o, "/lastTimestamp")
                .or(s(o, "/eventTime"))
                .or(s(o, "/metadata/creationTimestamp"));
            let object = format!(
                "{}/{}",
                s(o, "/involvedObject/kind")
                    .unwrap_or_default()
                    .to_lowercase(),
                s(o, "/involvedObject/name").unwrap_or_default()
            );
            (
                vec![
                    col(
                        "Last Seen",
                        "string",
                        0,
                        "Time since the event was last seen.",
                    ),
                    col("Type", "string", 0, "Type of this event."),
                    col("Reason", "string", 0, "Why the action was taken."),
                    col("Object", "string", 0, "The object this event is about."),
                    col("Message", "string", 0, "A human-readable description."),
                ],
                vec![
                    json!(age(last)),
                    json!(s(o, "/type").unwrap_or("Normal")),
                    json!(s(o, "/reason").unwrap_or_default()),
                    json!(object),
                    json!(s(o, "/message").unwrap_or_default()),
                ],
            )
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => (
            vec![
                name_col(),
                col("Created At", "date", 0, "The time the CRD was created."),
            ],
            vec![
                name,
                json!(s(o, "/metadata/creationTimestamp").unwrap_or_default()),
            ],
        ),
        _ => (vec![name_col(), age_col()], vec![name, json!(created)]),
    }
}

/// Evaluate a printer-column JSONPath (`.a.b`, `.a[0].b`, `.a[*].b`).
pub fn eval_json_path<'a>(o: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur: Vec<&Value> = vec![o];
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (field, index) = match seg.split_once('[') {
            Some((f, rest)) => (f, Some(rest.trim_end_matches(']'))),
            None => (seg, None),
        };
        let mut next = Vec::new();
        for v in cur {
            let v = if field.is_empty() {
                Some(v)
            } else {
                v.get(field)
            };
            let Some(v) = v else { continue };
            match index {
                None => next.push(v),
                Some("*") => next.extend(v.as_array().into_iter().flatten()),
                Some(n) => {
                    if let (Some(a), Ok(n)) = (v.as_array(), n.parse::<usize>()) {
                        next.extend(a.get(n));
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

fn crd_cell(o: &Value, c: &Column) -> Value {
    let vals = eval_json_path(o, &c.json_path);
    let v = match vals.as_slice() {
        [] => return Value::Null,
        [one] => (*one).clone(),
        many => Value::Array(many.iter().map(|v| (*v).clone()).collect()),
    };
    match (c.kind.as_str(), &v) {
        ("date", Value::String(ts)) => json!(age(Some(ts))),
        ("integer", Value::Number(_))
        | ("number", Value::Number(_))
        | ("boolean", Value::Bool(_)) => v,
        (_, Value::String(_)) => v,
        (_, Value::Null) => Value::Null,
        (_, other) => json!(other.to_string()),
    }
}

fn row_object(o: &Value, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Object => Some(o.clone()),
        IncludeObject::Metadata => Some(partial_metadata(o)),
    }
}

/// `PartialObjectMetadata` of an object.
pub fn partial_metadata(o: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn column_json(c: &Column) -> Value {
    let kind = if c.kind == "date" && c.json_path.is_empty() {
        "string"
    } else {
        c.kind.as_str()
    };
    json!({
        "name": c.name,
        "type": if kind == "date" { "date" } else { kind },
        "format": c.format,
        "description": c.description,
        "priority": c.priority,
    })
}

/// A `Table` of objects (already converted to the requested version).
pub fn table(
    res: &ResourceInfo,
    objects: &[Value],
    resource_version: &str,
    include: IncludeObject,
) -> Value {
    let (columns, rows): (Vec<Column>, Vec<Value>) = if res.builtin {
        let probe = objects.first().cloned().unwrap_or_else(|| json!({}));
        let (cols, _) = builtin_row(res, &probe);
        let rows = objects
            .iter()
            .map(|o| {
                let (_, cells) = builtin_row(res, o);
                let mut r = json!({"cells": cells});
                if let Some(obj) = row_object(o, include) {
                    r["object"] = obj;
                }
                r
            })
            .collect();
        (cols, rows)
    } else {
        let mut cols = vec![name_col()];
        if res.columns.is_empty() {
            cols.push(Column {
                json_path: ".metadata.creationTimestamp".into(),
                kind: "date".into(),
                ..age_col()
            });
        } else {
            cols.extend(res.columns.iter().cloned());
        }
        let rows = objects
            .iter()
            .map(|o| {
                let mut cells = vec![json!(s(o, "/metadata/name").unwrap_or_default())];
                cells.extend(cols[1..].iter().map(|c| crd_cell(o, c)));
                let mut r = json!({"cells": cells});
                if let Some(obj) = row_object(o, include) {
                    r["object"] = obj;
                }
                r
            })
            .collect();
        (cols, rows)
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns.iter().map(column_json).collect::<Vec<_>>(),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::registry::Registry;

    #[test]
    fn deployment_and_crd_tables() {
        let reg = Registry::with_builtins();
        let d = reg.lookup("apps", "v1", "deployments").unwrap();
        let obj = json!({"metadata": {"name": "reviews-v1", "creationTimestamp": "2020-01-01T00:00:00Z"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "reviews"}}, "template": {"spec": {"containers": [{"name": "reviews", "image": "r:1"}]}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}});
        let t = table(&d, &[obj], "7", IncludeObject::Metadata);
        assert_eq!(t["rows"][0]["cells"][0], "reviews-v1");
        assert_eq!(t["rows"][0]["cells"][1], "1/2");
        assert_eq!(t["rows"][0]["cells"][7], "app=reviews");
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["columnDefinitions"][5]["priority"], 1);

        reg.apply_crd(&smh_core::model::crd::smh_crds()[0]).unwrap();
        let fs = reg
            .lookup("networking.smh.solo.io", "v1alpha2", "failoverservices")
            .unwrap();
        let obj = json!({"metadata": {"name": "f", "creationTimestamp": jiff::Timestamp::now().to_string()}, "spec": {"hostname": "h.global", "port": {"number": 9080}}, "status": {"state": "ACCEPTED"}});
        let t = table(&fs, &[obj], "1", IncludeObject::None);
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["f", "h.global", 9080, "ACCEPTED", "0s"])
        );
        assert!(t["rows"][0].get("object").is_none());
    }

    #[test]
    fn json_paths() {
        let o = json!({"spec": {"hosts": ["a", "b"], "http": [{"route": [{"weight": 1}]}]}});
        assert_eq!(eval_json_path(&o, ".spec.hosts"), vec![&json!(["a", "b"])]);
        assert_eq!(eval_json_path(&o, ".spec.hosts[1]"), vec![&json!("b")]);
        assert_eq!(
            eval_json_path(&o, ".spec.http[*].route[0].weight"),
            vec![&json!(1)]
        );
        assert!(eval_json_path(&o, ".spec.nope").is_empty());
    }
}
