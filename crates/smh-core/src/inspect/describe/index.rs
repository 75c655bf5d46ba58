//! The indexes the views of one snapshot share: drift by owner and by host, live
//! DestinationRules by host, the targets of each TrafficPolicy, the cluster-ID findings.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{OutlierValues, OutlierView};
use crate::drill::outlier::OutlierSettings;
use crate::inspect::drift::{Drift, ObjectKey};
use crate::inspect::snapshot::{ServiceRef, Snapshot};
use crate::model::diag::ObjectId;
use crate::model::select;
use crate::model::topology::MultiClusterMode;
use crate::translate::virtual_service::multi_primary_subset_name;

/// Indexes shared by the views of one snapshot.
pub(super) struct Index<'a> {
    pub(super) snap: &'a Snapshot,
    /// Drift by owner.
    pub(super) by_owner: BTreeMap<&'a ObjectId, Vec<&'a Drift>>,
    /// Generated objects by (cluster, host) of their expected spec (`host` or `hosts`).
    by_host: BTreeMap<(String, String), Vec<&'a Drift>>,
    /// Live DestinationRules per (cluster, host).
    live_drs: BTreeMap<(&'a str, &'a str), Vec<&'a Value>>,
    /// The traffic targets each TrafficPolicy selects (parallel to `snap.traffic_policies`).
    pub(super) tp_targets: Vec<BTreeSet<ServiceRef>>,
    /// Problems with the Istio cluster IDs of multi-primary meshes.
    pub(super) id_findings: Vec<crate::inspect::cluster_id::IdFinding>,
}

fn hosts_of(v: &Value) -> Vec<String> {
    let spec = v.get("spec");
    let mut out: Vec<String> = spec
        .and_then(|s| s.get("host"))
        .and_then(Value::as_str)
        .map(|h| vec![h.to_string()])
        .unwrap_or_default();
    if let Some(hs) = spec.and_then(|s| s.get("hosts")).and_then(Value::as_array) {
        out.extend(hs.iter().filter_map(Value::as_str).map(str::to_string));
    }
    out
}

impl<'a> Index<'a> {
    pub(super) fn new(snap: &'a Snapshot, drift: &'a [Drift]) -> Self {
        let mut by_owner: BTreeMap<&ObjectId, Vec<&Drift>> = BTreeMap::new();
        for d in drift {
            for o in &d.owners {
                by_owner.entry(o).or_default().push(d);
            }
        }
        let mut expected_hosts: BTreeMap<ObjectKey, Vec<String>> = BTreeMap::new();
        for g in &snap.expected.objects {
            let v = g.to_value();
            expected_hosts.insert(ObjectKey::of_generated(g), hosts_of(&v));
        }
        let mut by_host: BTreeMap<(String, String), Vec<&Drift>> = BTreeMap::new();
        for d in drift {
            for h in expected_hosts.remove(&d.key).unwrap_or_default() {
                by_host
                    .entry((d.key.cluster.clone(), h))
                    .or_default()
                    .push(d);
            }
        }
        let targets = select::TargetIndex::new(&snap.topology);
        let tp_targets = snap
            .traffic_policies
            .iter()
            .map(|tp| {
                targets
                    .policy_targets(tp)
                    .into_iter()
                    .map(|i| {
                        let t = targets.targets()[i];
                        ServiceRef {
                            cluster: t.cluster.name.clone(),
                            namespace: t.service.namespace.clone(),
                            name: t.service.name.clone(),
                        }
                    })
                    .collect()
            })
            .collect();
        let mut live_drs: BTreeMap<(&str, &str), Vec<&Value>> = BTreeMap::new();
        for (cluster, objects) in &snap.live {
            let Ok(objects) = objects else { continue };
            for o in objects {
                if o.get("kind").and_then(Value::as_str) != Some("DestinationRule") {
                    continue;
                }
                if let Some(h) = o.pointer("/spec/host").and_then(Value::as_str) {
                    live_drs.entry((cluster.as_str(), h)).or_default().push(o);
                }
            }
        }
        for v in live_drs.values_mut() {
            v.sort_by_key(|o| {
                (
                    o.pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    o.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                )
            });
        }
        Index {
            snap,
            by_owner,
            by_host,
            live_drs,
            tp_targets,
            id_findings: crate::inspect::cluster_id::findings(snap),
        }
    }

    /// The host by which callers in `client` reach backing service `b`.
    fn host_for(&self, b: &ServiceRef, client: &str) -> String {
        match self.snap.mode(client) {
            MultiClusterMode::Global if b.cluster != client => {
                format!("{}.{}.svc.{}.global", b.name, b.namespace, b.cluster)
            }
            _ => format!(
                "{}.{}.svc.{}",
                b.name,
                b.namespace,
                self.snap.domain(client)
            ),
        }
    }

    /// The generated objects that concern backing service `b`: those for its
    /// `.global` host in any cluster, and those for its local host in its own cluster or in
    /// a multi-primary cluster (where the local host has every cluster's endpoints). Sorted,
    /// each once.
    pub(super) fn concerning(&self, b: &ServiceRef) -> Vec<Drift> {
        let global = format!("{}.{}.svc.{}.global", b.name, b.namespace, b.cluster);
        let mut out: BTreeSet<&Drift> = BTreeSet::new();
        for cluster in self.snap.clusters.keys() {
            if let Some(v) = self.by_host.get(&(cluster.clone(), global.clone())) {
                out.extend(v.iter().copied());
            }
            if *cluster == b.cluster || self.snap.mode(cluster) == MultiClusterMode::MultiPrimary {
                let local = format!(
                    "{}.{}.svc.{}",
                    b.name,
                    b.namespace,
                    self.snap.domain(cluster)
                );
                if let Some(v) = self.by_host.get(&(cluster.clone(), local)) {
                    out.extend(v.iter().copied());
                }
            }
        }
        out.into_iter().cloned().collect()
    }

    pub(super) fn outlier(&self, b: &ServiceRef, client: &str, port: Option<u32>) -> OutlierView {
        let host = self.host_for(b, client);
        let mut view = OutlierView {
            client_cluster: client.to_string(),
            host: host.clone(),
            source: None,
            values: None,
            error: None,
            settings: None,
        };
        if let Some(Err(e)) = self.snap.live.get(client) {
            view.error = Some(e.clone());
            return view;
        }
        let Some(dr) = self
            .live_drs
            .get(&(client, host.as_str()))
            .and_then(|v| v.first())
        else {
            return view;
        };
        let name = format!(
            "DestinationRule {}/{}",
            dr.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            dr.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        );
        // Multi-primary: the backing service's per-cluster subset, when it has its own.
        let mut from_subset = None;
        if self.snap.mode(client) == MultiClusterMode::MultiPrimary {
            let subset = multi_primary_subset_name(&b.cluster, &BTreeMap::new());
            let policy = dr
                .pointer("/spec/subsets")
                .and_then(Value::as_array)
                .and_then(|subs| {
                    subs.iter()
                        .find(|s| s.get("name").and_then(Value::as_str) == Some(subset.as_str()))
                })
                .and_then(|s| s.get("trafficPolicy"));
            if let Some(p) = policy {
                let wrapped = serde_json::json!({"spec": {"trafficPolicy": p}});
                let source = format!("{name} subset {subset}");
                match OutlierSettings::from_destination_rule(&source, &wrapped, port) {
                    Ok(Some(s)) => from_subset = Some((source, s)),
                    Ok(None) => {}
                    Err(e) => {
                        view.source = Some(source);
                        view.error = Some(e);
                        return view;
                    }
                }
            }
        }
        let settings = match from_subset {
            Some((source, s)) => {
                view.source = Some(source);
                Some(s)
            }
            None => {
                view.source = Some(name.clone());
                match OutlierSettings::from_destination_rule(&name, dr, port) {
                    Ok(s) => s,
                    Err(e) => {
                        view.error = Some(e);
                        return view;
                    }
                }
            }
        };
        view.values = settings.as_ref().map(OutlierValues::of);
        view.settings = settings;
        view
    }
}
