//! Server-side defaulting of built-in kinds, as the real API server fills fields a manifest
//! leaves out: Deployment `replicas`, `strategy`, `revisionHistoryLimit`,
//! `progressDeadlineSeconds`; pod template `restartPolicy`, `dnsPolicy`,
//! `terminationGracePeriodSeconds`, container `imagePullPolicy`, port `protocol`; Service
//! `type`, `clusterIP` (allocated from 10.96.0.0/12), `sessionAffinity`, port `protocol` and
//! `targetPort`; Namespace `kubernetes` finalizer, phase and name label; Secret `type` and
//! `stringData`.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Map, Value, json};

/// Per-cluster allocators for server-assigned values.
#[derive(Debug)]
pub(crate) struct Allocators {
    next_service_ip: AtomicU32,
}

impl Default for Allocators {
    fn default() -> Self {
        // 10.96.0.0/24 holds well-known addresses (10.96.0.1 `kubernetes`, 10.96.0.10 DNS, and
        // whatever the in-process seed writes); allocation starts above it.
        Allocators {
            next_service_ip: AtomicU32::new(257),
        }
    }
}

impl Allocators {
    /// The next ClusterIP in 10.96.0.0/12 for which `in_use` is false (after one full pass
    /// over the range, whatever comes next).
    pub(crate) fn service_ip(&self, in_use: &dyn Fn(&str) -> bool) -> String {
        for attempt in 0..=0x0010_0000u32 {
            let n = self.next_service_ip.fetch_add(1, Ordering::Relaxed) & 0x000f_ffff;
            let ip = format!(
                "10.{}.{}.{}",
                96 + ((n >> 16) & 0x0f),
                (n >> 8) & 0xff,
                n & 0xff
            );
            if attempt == 0x0010_0000 || (n & 0xff != 0 && n & 0xff != 255 && !in_use(&ip)) {
                return ip;
            }
        }
        unreachable!("the last attempt returns")
    }
}

fn set_default(m: &mut Map<String, Value>, key: &str, v: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.to_string(), v);
    }
}

fn obj_mut<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = m
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("just made an object")
}

fn default_container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    let image = m.get("image").and_then(Value::as_str).unwrap_or("");
    let last = image.rsplit('/').next().unwrap_or("");
    let latest = !last.contains(':') || last.ends_with(":latest");
    let policy = if latest && !image.contains('@') {
        "Always"
    } else {
        "IfNotPresent"
    };
    set_default(m, "imagePullPolicy", json!(policy));
    set_default(m, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(m, "terminationMessagePolicy", json!("File"));
    set_default(m, "resources", json!({}));
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
}

/// Defaults of a PodSpec.
pub(crate) fn default_pod_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "securityContext", json!({}));
    if let Some(sa) = spec.get("serviceAccountName").cloned() {
        set_default(spec, "serviceAccount", sa);
    }
    for key in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(key).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(default_container);
        }
    }
}

/// A pod's QoS class from its containers' requests and limits (`BestEffort` without any,
/// `Guaranteed` when every container limits cpu and memory and requests no other amount,
/// `Burstable` otherwise).
fn qos_class(spec: Option<&Value>) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|k| spec.and_then(|s| s.get(*k)).and_then(Value::as_array))
        .flatten()
        .collect();
    let amounts = |c: &Value, which: &str| -> Map<String, Value> {
        c.pointer(&format!("/resources/{which}"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    if containers
        .iter()
        .all(|c| amounts(c, "requests").is_empty() && amounts(c, "limits").is_empty())
    {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let (req, lim) = (amounts(c, "requests"), amounts(c, "limits"));
        ["cpu", "memory"].iter().all(|r| lim.contains_key(*r))
            && req.iter().all(|(k, v)| lim.get(k) == Some(v))
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn default_template(spec: &mut Map<String, Value>) {
    if let Some(t) = spec.get_mut("template").and_then(Value::as_object_mut) {
        if let Some(ps) = t.get_mut("spec").and_then(Value::as_object_mut) {
            default_pod_spec(ps);
        }
        // Kubernetes 1.36 no longer writes an explicit `creationTimestamp: null` there.
        if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut)
            && m.get("creationTimestamp").is_some_and(Value::is_null)
        {
            m.remove("creationTimestamp");
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(A[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Fill server defaults into a built-in object (no-op for other kinds). `ip_in_use` tells
/// whether a ClusterIP is taken.
pub(crate) fn apply_defaults(
    group: &str,
    kind: &str,
    obj: &mut Value,
    alloc: &Allocators,
    ip_in_use: &dyn Fn(&str) -> bool,
) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    match (group, kind) {
        ("apps", "Deployment") => {
            let spec = obj_mut(root, "spec");
            set_default(spec, "replicas", json!(1));
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(spec, "progressDeadlineSeconds", json!(600));
            let strategy = obj_mut(spec, "strategy");
            set_default(strategy, "type", json!("RollingUpdate"));
            if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                let ru = obj_mut(strategy, "rollingUpdate");
                set_default(ru, "maxSurge", json!("25%"));
                set_default(ru, "maxUnavailable", json!("25%"));
            }
            default_template(spec);
            // A workload's status is always there, empty until its controller writes it.
            obj_mut(root, "status");
        }
        ("apps", "ReplicaSet") => {
            let spec = obj_mut(root, "spec");
            set_default(spec, "replicas", json!(1));
            default_template(spec);
            obj_mut(root, "status");
        }
        ("", "Pod") => {
            default_pod_spec(obj_mut(root, "spec"));
            // A new pod is Pending, with its QoS class, as the real server creates it.
            let qos = qos_class(root.get("spec"));
            let status = obj_mut(root, "status");
            set_default(status, "phase", json!("Pending"));
            set_default(status, "qosClass", json!(qos));
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            let conversion = obj_mut(obj_mut(root, "spec"), "conversion");
            set_default(conversion, "strategy", json!("None"));
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            // SetDefaults_Subject: User and Group subjects are in the RBAC API group.
            if let Some(subjects) = root.get_mut("subjects").and_then(Value::as_array_mut) {
                for s in subjects.iter_mut().filter_map(Value::as_object_mut) {
                    let kind = s.get("kind").and_then(Value::as_str).unwrap_or_default();
                    let group = match kind {
                        "User" | "Group" => "rbac.authorization.k8s.io",
                        "ServiceAccount" => "",
                        _ => continue,
                    };
                    if s.get("apiGroup")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        s.insert("apiGroup".into(), json!(group));
                    }
                }
            }
        }
        ("", "Service") => {
            let spec = obj_mut(root, "spec");
            set_default(spec, "type", json!("ClusterIP"));
            set_default(spec, "sessionAffinity", json!("None"));
            let external = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
            if !external {
                if spec
                    .get("clusterIP")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    spec.insert("clusterIP".into(), json!(alloc.service_ip(ip_in_use)));
                }
                if let Some(ip) = spec.get("clusterIP").cloned() {
                    set_default(spec, "clusterIPs", json!([ip]));
                }
                set_default(spec, "ipFamilies", json!(["IPv4"]));
                set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
                set_default(spec, "internalTrafficPolicy", json!("Cluster"));
            }
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    set_default(p, "protocol", json!("TCP"));
                    if let Some(port) = p.get("port").cloned() {
                        set_default(p, "targetPort", port);
                    }
                }
            }
            set_default(root, "status", json!({"loadBalancer": {}}));
        }
        ("", "Namespace") => {
            let name = root
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let labels = obj_mut(obj_mut(root, "metadata"), "labels");
            labels.insert("kubernetes.io/metadata.name".into(), json!(name));
            set_default(obj_mut(root, "spec"), "finalizers", json!(["kubernetes"]));
            set_default(obj_mut(root, "status"), "phase", json!("Active"));
        }
        ("", "Secret") => {
            set_default(root, "type", json!("Opaque"));
            if let Some(Value::Object(sd)) = root.remove("stringData") {
                let data = obj_mut(root, "data");
                for (k, v) in sd {
                    let s = v.as_str().unwrap_or_default();
                    data.insert(k, json!(base64(s.as_bytes())));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_and_service_defaults() {
        let a = Allocators::default();
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x:1.0", "ports": [{"containerPort": 80}]}, {"name": "d", "image": "y"}]}}}});
        apply_defaults("apps", "Deployment", &mut d, &a, &|_| false);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let c = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c[1]["imagePullPolicy"], "Always");
        assert_eq!(c[0]["ports"][0]["protocol"], "TCP");
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
        // Defaulting twice changes nothing.
        let again = {
            let mut x = d.clone();
            apply_defaults("apps", "Deployment", &mut x, &a, &|_| false);
            x
        };
        assert_eq!(again, d);

        let mut s = json!({"metadata": {"name": "reviews"}, "spec": {"ports": [{"port": 9080, "name": "http"}]}});
        apply_defaults("", "Service", &mut s, &a, &|ip| ip == "10.96.1.1");
        assert_eq!(
            s["spec"]["clusterIP"], "10.96.1.2",
            "skips addresses in use"
        );
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 9080);
        let mut s2 = json!({"spec": {"clusterIP": "None"}});
        apply_defaults("", "Service", &mut s2, &a, &|_| false);
        assert_eq!(s2["spec"]["clusterIP"], "None");
    }

    #[test]
    fn namespace_and_secret_defaults() {
        let a = Allocators::default();
        let mut ns = json!({"metadata": {"name": "bookinfo"}});
        apply_defaults("", "Namespace", &mut ns, &a, &|_| false);
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "bookinfo"
        );
        assert_eq!(ns["status"]["phase"], "Active");
        let mut sec = json!({"stringData": {"a": "hello", "b": "hi!!"}});
        apply_defaults("", "Secret", &mut sec, &a, &|_| false);
        assert_eq!(sec["data"], json!({"a": "aGVsbG8=", "b": "aGkhIQ=="}));
        assert_eq!(sec["type"], "Opaque");
        assert!(sec.get("stringData").is_none());
    }
}
