//! SMH's naming rules, reproduced exactly so output compares with Service Mesh Hub's: the
//! names its discovery gave meshes and traffic targets, and the names of the Istio objects
//! its translation wrote.

use std::collections::BTreeMap;

use md5::{Digest, Md5};

use crate::consts::SMH_NAMESPACE;

/// skv2/SMH `SanitizeNameV2`: `*`, `/`, `.`, `:` and space become `-`; `[`, `]`, quotes and
/// newlines are deleted; the result is lowercased; `_` is kept. Names longer than 63
/// characters become the first 31 characters, `-`, and the md5 hex digest, cut to 63.
pub(crate) fn sanitize_name_v2(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '*' | '/' | '.' | ':' | ' ' => out.push('-'),
            '[' | ']' | '"' | '\'' | '\n' => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    if out.len() > 63 {
        let digest = Md5::digest(out.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let prefix: String = out.chars().take(31).collect();
        let mut truncated = format!("{prefix}-{hex}");
        truncated.truncate(63);
        out = truncated;
    }
    out
}

/// skv2 `sets.Key` of an object with an empty clusterName: `name.namespace.`.
pub(crate) fn object_key(name: &str, namespace: &str) -> String {
    format!("{name}.{namespace}.")
}

/// Name of the discovered TrafficTarget for a Service: `SanitizeNameV2("<svc>-<ns>-<cluster>")`.
pub(crate) fn traffic_target_name(service: &str, namespace: &str, cluster: &str) -> String {
    sanitize_name_v2(&format!("{service}-{namespace}-{cluster}"))
}

/// Status key of a TrafficTarget, e.g. `reviews-bookinfo-mgmt-cluster.service-mesh-hub.`.
pub(crate) fn traffic_target_key(service: &str, namespace: &str, cluster: &str) -> String {
    object_key(
        &traffic_target_name(service, namespace, cluster),
        SMH_NAMESPACE,
    )
}

/// Status key of a Mesh in a FailoverService's `status.meshes`, e.g.
/// `istiod-istio-system-mgmt-cluster.service-mesh-hub.`.
pub(crate) fn mesh_key(mesh_name: &str, mesh_namespace: &str) -> String {
    object_key(mesh_name, mesh_namespace)
}

/// SMH's subset name for a label set: sorted `key-value` pairs joined with `_`, then
/// [`sanitize_name_v2`] (`{version: v1}` → `version-v1`).
pub(crate) fn subset_name(labels: &BTreeMap<String, String>) -> String {
    let joined: Vec<String> = labels.iter().map(|(k, v)| format!("{k}-{v}")).collect();
    sanitize_name_v2(&joined.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_like_skv2() {
        assert_eq!(
            sanitize_name_v2("reviews-bookinfo-mgmt-cluster"),
            "reviews-bookinfo-mgmt-cluster"
        );
        assert_eq!(sanitize_name_v2("a.b/c:d*e f"), "a-b-c-d-e-f");
        assert_eq!(sanitize_name_v2("A[b]\"c'\nD_e"), "abcd_e");
        let long = "x".repeat(70);
        let s = sanitize_name_v2(&long);
        assert_eq!(s.len(), 63);
        assert!(s.starts_with(&format!("{}-", "x".repeat(31))));
    }

    #[test]
    fn keys() {
        assert_eq!(
            traffic_target_key("reviews", "bookinfo", "mgmt-cluster"),
            "reviews-bookinfo-mgmt-cluster.service-mesh-hub."
        );
        assert_eq!(
            mesh_key("istiod-istio-system-mgmt-cluster", "service-mesh-hub"),
            "istiod-istio-system-mgmt-cluster.service-mesh-hub."
        );
        let mut l = BTreeMap::new();
        l.insert("version".to_string(), "v1".to_string());
        assert_eq!(subset_name(&l), "version-v1");
    }
}
