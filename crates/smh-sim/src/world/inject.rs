//! Istio's sidecar injection, as the injection webhook applies it to a pod at creation: in a
//! namespace labelled `istio-injection: enabled` (or `istio.io/rev`), unless the pod says
//! `sidecar.istio.io/inject: "false"`, the pod gets the `istio-init` init container, the
//! `istio-proxy` container (with its `/healthz/ready` readiness probe on port 15021), the
//! `sidecar.istio.io/status` annotation and the `security.istio.io/tlsMode` and canonical
//! service labels.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::obj::{self, str_at};

/// The annotation injection leaves on a pod.
pub const STATUS_ANNOTATION: &str = "sidecar.istio.io/status";

/// Whether pods created in a namespace with these labels get a sidecar.
pub(crate) fn namespace_injects(ns_labels: &BTreeMap<String, String>) -> bool {
    ns_labels.get("istio-injection").map(String::as_str) == Some("enabled")
        || (ns_labels.contains_key("istio.io/rev")
            && ns_labels.get("istio-injection").map(String::as_str) != Some("disabled"))
}

/// Inject the sidecar into `pod` if its namespace asks for it. Returns whether it did.
pub fn inject_sidecar(
    pod: &mut Value,
    ns_labels: &BTreeMap<String, String>,
    istio_version: &str,
) -> bool {
    if !namespace_injects(ns_labels) {
        return false;
    }
    let opted_out = |m: BTreeMap<String, String>| {
        m.get("sidecar.istio.io/inject").map(String::as_str) == Some("false")
    };
    if opted_out(obj::string_map(pod, "/metadata/annotations"))
        || opted_out(obj::string_map(pod, "/metadata/labels"))
    {
        return false;
    }
    let containers = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if containers
        .iter()
        .any(|c| str_at(c, "/name") == "istio-proxy")
    {
        return false;
    }
    let first = containers
        .first()
        .map(|c| str_at(c, "/name").to_string())
        .unwrap_or_default();
    let labels = obj::labels(pod);
    let app = labels
        .get("app")
        .cloned()
        .unwrap_or_else(|| str_at(pod, "/metadata/name").to_string());
    let version = labels
        .get("version")
        .cloned()
        .unwrap_or_else(|| "latest".into());
    let image = format!("docker.io/istio/proxyv2:{istio_version}");
    {
        let l = obj::map_at_mut(pod, &["metadata", "labels"]);
        l.insert("security.istio.io/tlsMode".into(), json!("istio"));
        l.insert("service.istio.io/canonical-name".into(), json!(app));
        l.insert("service.istio.io/canonical-revision".into(), json!(version));
    }
    {
        let a = obj::map_at_mut(pod, &["metadata", "annotations"]);
        a.insert(
            STATUS_ANNOTATION.into(),
            json!(r#"{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}"#),
        );
        a.insert(
            "kubectl.kubernetes.io/default-container".into(),
            json!(first),
        );
        a.insert("prometheus.io/port".into(), json!("15020"));
        a.insert("prometheus.io/scrape".into(), json!("true"));
        a.insert("prometheus.io/path".into(), json!("/stats/prometheus"));
    }
    let spec = obj::map_at_mut(pod, &["spec"]);
    let mut init = spec
        .get("initContainers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    init.push(json!({
        "name": "istio-init",
        "image": image,
        "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
                 "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"],
    }));
    spec.insert("initContainers".into(), json!(init));
    let mut all = containers;
    all.push(json!({
        "name": "istio-proxy",
        "image": image,
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
                 "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "readinessProbe": {
            "httpGet": {"path": "/healthz/ready", "port": 15021},
            "failureThreshold": 4,
            "periodSeconds": 15,
            "timeoutSeconds": 3,
        },
        "securityContext": {"runAsUser": 1337, "runAsGroup": 1337, "runAsNonRoot": true},
    }));
    spec.insert("containers".into(), json!(all));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injects_only_where_enabled() {
        let enabled: BTreeMap<String, String> =
            [("istio-injection".to_string(), "enabled".to_string())].into();
        let mut pod = json!({"metadata": {"name": "p", "labels": {"app": "reviews", "version": "v1"}},
                             "spec": {"containers": [{"name": "reviews", "image": "x"}]}});
        assert!(!inject_sidecar(
            &mut pod.clone(),
            &BTreeMap::new(),
            "1.24.2"
        ));
        assert!(inject_sidecar(&mut pod, &enabled, "1.24.2"));
        assert_eq!(pod["spec"]["containers"][1]["name"], "istio-proxy");
        assert_eq!(
            pod["spec"]["containers"][1]["image"],
            "docker.io/istio/proxyv2:1.24.2"
        );
        assert!(pod["metadata"]["annotations"][STATUS_ANNOTATION].is_string());
        assert_eq!(
            pod["metadata"]["labels"]["service.istio.io/canonical-name"],
            "reviews"
        );
        assert!(!inject_sidecar(&mut pod, &enabled, "1.24.2"), "only once");
        let mut opt_out = json!({"metadata": {"annotations": {"sidecar.istio.io/inject": "false"}},
                                 "spec": {"containers": [{"name": "a"}]}});
        assert!(!inject_sidecar(&mut opt_out, &enabled, "1.24.2"));
    }
}
