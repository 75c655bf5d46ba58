//! EnvoyFilters that patch the proxy's clusters: which filters apply to this proxy, which of
//! their patches match a cluster, and the clusters they add, replace or merge into.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Builder, by_age, either, labels_of, meta, obj_id, s, subset_of, u32_of};
use crate::world::mesh::xds::{
    AggregateCluster, ClusterDef, DEFAULT_MAX_RETRIES, DEFAULT_PANIC_THRESHOLD,
    parse_outbound_cluster_name,
};

impl Builder<'_> {
    fn applicable_envoy_filters(&self) -> Vec<&Value> {
        let proxy = &self.inputs.proxy;
        let root = self.root_ns();
        let mut efs: Vec<&Value> = by_age(&self.inputs.envoy_filters)
            .into_iter()
            .filter(|ef| {
                let ns = meta(ef, "namespace");
                (ns == root || ns == proxy.namespace)
                    && ef
                        .pointer("/spec/workloadSelector/labels")
                        .is_none_or(|l| subset_of(&labels_of(Some(l)), &proxy.labels))
            })
            .collect();
        // Root namespace first, then by priority (stable: creation order kept).
        efs.sort_by_key(|ef| {
            (
                meta(ef, "namespace") != root,
                ef.pointer("/spec/priority")
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
            )
        });
        efs
    }

    fn patch_applies(&mut self, ef: &Value, patch: &Value) -> bool {
        if s(patch, "applyTo") != Some("CLUSTER") {
            return false;
        }
        let context = patch
            .pointer("/match/context")
            .and_then(Value::as_str)
            .unwrap_or("ANY");
        if !matches!(context, "ANY" | "SIDECAR_OUTBOUND") {
            return false;
        }
        if let Some(re) = patch
            .pointer("/match/proxy/proxyVersion")
            .and_then(Value::as_str)
        {
            match regex::Regex::new(&format!("^(?:{re})$")) {
                Ok(r) => {
                    if !r.is_match(&self.inputs.proxy.istio_version) {
                        return false;
                    }
                }
                Err(e) => {
                    self.diagnostics.push(format!(
                        "EnvoyFilter {}: proxyVersion {re:?} is not a valid regular expression ({e}); patch skipped",
                        obj_id(ef)
                    ));
                    return false;
                }
            }
        }
        true
    }

    fn cluster_match(&self, m: Option<&Value>, name: &str) -> bool {
        let Some(m) = m else {
            return true;
        };
        if let Some(want) = s(m, "name") {
            return want == name;
        }
        let Some((port, subset, host)) = parse_outbound_cluster_name(name) else {
            return false;
        };
        if let Some(p) = m.get("portNumber").and_then(u32_of)
            && p != u32::from(port)
        {
            return false;
        }
        if let Some(svc) = s(m, "service")
            && svc != host
        {
            return false;
        }
        if let Some(sub) = s(m, "subset")
            && sub != subset
        {
            return false;
        }
        true
    }

    pub(super) fn apply_envoy_filters(&mut self, clusters: &mut BTreeMap<String, ClusterDef>) {
        let efs: Vec<Value> = self
            .applicable_envoy_filters()
            .into_iter()
            .cloned()
            .collect();
        let mut added: Vec<(String, ClusterDef)> = Vec::new();
        for ef in &efs {
            let patches: Vec<Value> = ef
                .pointer("/spec/configPatches")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for patch in &patches {
                if !self.patch_applies(ef, patch) {
                    continue;
                }
                let op = patch
                    .pointer("/patch/operation")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let cmatch = patch.pointer("/match/cluster");
                match op {
                    "REMOVE" => {
                        let names: Vec<String> = clusters
                            .keys()
                            .filter(|n| self.cluster_match(cmatch, n))
                            .cloned()
                            .collect();
                        for n in names {
                            clusters.remove(&n);
                        }
                    }
                    "ADD" => match self.added_cluster(ef, patch.pointer("/patch/value")) {
                        Ok(c) => {
                            let name = match &c {
                                ClusterDef::Aggregate(a) => a.name.clone(),
                                ClusterDef::Endpoints(e) => e.name.clone(),
                            };
                            added.push((name, c));
                        }
                        Err(e) => self.diagnostics.push(e),
                    },
                    other => self.diagnostics.push(format!(
                        "EnvoyFilter {}: CLUSTER patch operation {other:?} is not modelled",
                        obj_id(ef)
                    )),
                }
            }
        }
        for (name, c) in added {
            if clusters.contains_key(&name) {
                self.diagnostics.push(format!(
                    "cluster {name} is added by an EnvoyFilter while a generated cluster of that name exists; real Envoy rejects duplicate cluster names, the simulator uses the added one"
                ));
            }
            clusters.insert(name, c);
        }
    }

    /// Parse an ADDed Envoy cluster. Only aggregate clusters are modelled.
    fn added_cluster(&self, ef: &Value, value: Option<&Value>) -> Result<ClusterDef, String> {
        let id = obj_id(ef);
        let value = value.ok_or_else(|| format!("EnvoyFilter {id}: ADD patch without a value"))?;
        let name = s(value, "name")
            .ok_or_else(|| format!("EnvoyFilter {id}: added cluster has no name"))?
            .to_string();
        let ctype = either(value, "cluster_type", "clusterType").ok_or_else(|| {
            format!("EnvoyFilter {id}: added cluster {name} is not an aggregate cluster (only aggregate clusters are modelled)")
        })?;
        let tc = either(ctype, "typed_config", "typedConfig").ok_or_else(|| {
            format!("EnvoyFilter {id}: cluster {name}: cluster_type has no typed_config")
        })?;
        let at = s(tc, "@type").unwrap_or("");
        let clusters_value = if at.ends_with("envoy.extensions.clusters.aggregate.v3.ClusterConfig")
        {
            tc.get("clusters")
        } else if at.ends_with("udpa.type.v1.TypedStruct")
            || at.ends_with("xds.type.v3.TypedStruct")
        {
            // Envoy converts a TypedStruct's value into the factory's own config type through
            // JSON, whatever its type_url says, so SMH's v2alpha form still loads.
            let type_url = either(tc, "type_url", "typeUrl")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !type_url.contains("aggregate") {
                return Err(format!(
                    "EnvoyFilter {id}: cluster {name}: TypedStruct type_url {type_url:?} is not an aggregate cluster config"
                ));
            }
            tc.pointer("/value/clusters")
        } else if at.ends_with("envoy.config.cluster.aggregate.v2alpha.ClusterConfig") {
            return Err(format!(
                "EnvoyFilter {id}: cluster {name}: the v2alpha aggregate config as a plain typed_config is rejected (Istio validation, istio#23909; Envoy ≥ 1.17 has no v2 API); SMH wrapped it in a TypedStruct"
            ));
        } else {
            return Err(format!(
                "EnvoyFilter {id}: cluster {name}: unknown cluster_type config {at:?}"
            ));
        };
        let ctype_name = s(ctype, "name").unwrap_or("");
        if !ctype_name.is_empty() && ctype_name != "envoy.clusters.aggregate" {
            return Err(format!(
                "EnvoyFilter {id}: cluster {name}: cluster_type {ctype_name:?} is not modelled"
            ));
        }
        let lb = either(value, "lb_policy", "lbPolicy")
            .and_then(Value::as_str)
            .unwrap_or("");
        if lb != "CLUSTER_PROVIDED" {
            return Err(format!(
                "EnvoyFilter {id}: cluster {name}: Envoy rejects an aggregate cluster whose lb_policy is not CLUSTER_PROVIDED (got {lb:?})"
            ));
        }
        let clusters: Vec<String> = clusters_value
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if clusters.is_empty() {
            return Err(format!(
                "EnvoyFilter {id}: aggregate cluster {name} lists no clusters"
            ));
        }
        let panic_threshold = either(value, "common_lb_config", "commonLbConfig")
            .and_then(|c| either(c, "healthy_panic_threshold", "healthyPanicThreshold"))
            .and_then(|p| p.get("value"))
            .and_then(Value::as_f64)
            .map_or(DEFAULT_PANIC_THRESHOLD, |v| v.clamp(0.0, 100.0) as u32);
        // Envoy reads the thresholds of the DEFAULT priority (the first entry without a
        // priority, or with priority DEFAULT); a missing max_retries is 3.
        let max_retries = either(value, "circuit_breakers", "circuitBreakers")
            .and_then(|c| c.get("thresholds"))
            .and_then(Value::as_array)
            .and_then(|ts| {
                ts.iter().find(|t| {
                    t.get("priority")
                        .and_then(Value::as_str)
                        .is_none_or(|p| p == "DEFAULT")
                })
            })
            .and_then(|t| either(t, "max_retries", "maxRetries"))
            .and_then(u32_of)
            .unwrap_or(DEFAULT_MAX_RETRIES);
        Ok(ClusterDef::Aggregate(AggregateCluster {
            name,
            clusters,
            panic_threshold,
            max_retries,
            source: id,
        }))
    }
}
