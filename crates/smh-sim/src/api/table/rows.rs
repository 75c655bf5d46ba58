//! The columns `kubectl get` shows for each built-in kind the simulator serves, and the cells of
//! one object: the server-side printing of kube-apiserver's table convertors.

use serde_json::{Value, json};

use super::age;
use crate::api::registry::{Column, ResourceInfo};

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

pub(super) fn name_col() -> Column {
    col(
        "Name",
        "string",
        0,
        "Name must be unique within a namespace. Cannot be updated.",
    )
}

/// The wide columns of a workload with a pod template (Deployment, ReplicaSet): its
/// containers, their images and its pod selector.
fn template_cols() -> [Column; 3] {
    [
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
    ]
}

pub(super) fn age_col() -> Column {
    col(
        "Age",
        "string",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    )
}

pub(super) fn s<'a>(o: &'a Value, p: &str) -> Option<&'a str> {
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

/// The `kubectl get` columns of a Deployment and its cells.
fn deployment_row(o: &Value, name: Value, created: String) -> (Vec<Column>, Vec<Value>) {
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
        ]
        .into_iter()
        .chain(template_cols())
        .collect(),
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

/// The `kubectl get` columns of a ReplicaSet and its cells.
fn replica_set_row(o: &Value, name: Value, created: String) -> (Vec<Column>, Vec<Value>) {
    let (c, im) = containers_and_images(o, "/spec/template/spec");
    (
        vec![
            name_col(),
            col("Desired", "integer", 0, "Number of desired pods."),
            col("Current", "integer", 0, "Number of actual replicas."),
            col("Ready", "integer", 0, "Number of ready replicas."),
            age_col(),
        ]
        .into_iter()
        .chain(template_cols())
        .collect(),
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

/// The `kubectl get` columns of a Pod and its cells.
fn pod_row(o: &Value, name: Value, created: String) -> (Vec<Column>, Vec<Value>) {
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

/// The `kubectl get` columns of a Service and its cells.
fn service_row(o: &Value, name: Value, created: String) -> (Vec<Column>, Vec<Value>) {
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

/// The `kubectl get` columns of a Node and its cells.
fn node_row(o: &Value, name: Value, created: String) -> (Vec<Column>, Vec<Value>) {
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

/// The `kubectl get` columns of an Event (its age is that of its last occurrence) and its cells.
fn event_row(o: &Value) -> (Vec<Column>, Vec<Value>) {
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

/// Built-in columns and the cells of one object.
pub(super) fn builtin_row(res: &ResourceInfo, o: &Value) -> (Vec<Column>, Vec<Value>) {
    let name = json!(s(o, "/metadata/name").unwrap_or_default());
    let created = age(s(o, "/metadata/creationTimestamp"));
    match (res.group.as_str(), res.kind.as_str()) {
        ("apps", "Deployment") => deployment_row(o, name, created),
        ("apps", "ReplicaSet") => replica_set_row(o, name, created),
        ("", "Pod") => pod_row(o, name, created),
        ("", "Service") => service_row(o, name, created),
        ("", "Endpoints") => (
            vec![
                name_col(),
                col("Endpoints", "string", 0, "Endpoints of the resource."),
                age_col(),
            ],
            vec![name, json!(endpoints_string(o)), json!(created)],
        ),
        ("", "Node") => node_row(o, name, created),
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
                    col("Data", "string", 0, "Number of data items."),
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
                    col("Data", "string", 0, "Number of data items."),
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
        ("", "Event") => event_row(o),
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
