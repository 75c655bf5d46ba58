//! The DestinationRules of a translation: local ones for the services policies select or
//! whose subsets are used, client-side copies for `.global` hosts (global mode) and
//! per-cluster subsets (multi-primary mode).

use super::*;

fn tls_policy(d: &dr::DrDecoration) -> Option<TrafficPolicy> {
    let tp = TrafficPolicy {
        outlier_detection: d.outlier.clone(),
        tls: Some(ClientTlsSettings { mode: Some(d.tls) }),
        ..Default::default()
    };
    (!tp.is_empty()).then_some(tp)
}

struct DrDraft {
    cluster: String,
    spec: DestinationRuleSpec,
    owners: BTreeSet<ObjectId>,
    annotations: Option<BTreeMap<String, String>>,
    /// Emit even without effect (it was asked for by subsets).
    has_subsets_or_effect: bool,
}

impl DrDraft {
    /// A DestinationRule in `cluster` for `host` that only sets Istio mutual TLS, to which
    /// subsets are added (it is emitted for them).
    fn for_subsets(cluster: &str, host: String) -> DrDraft {
        DrDraft {
            cluster: cluster.to_string(),
            has_subsets_or_effect: true,
            spec: DestinationRuleSpec {
                host,
                traffic_policy: Some(TrafficPolicy {
                    tls: Some(ClientTlsSettings {
                        mode: Some(TlsMode::IstioMutual),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
            owners: BTreeSet::new(),
            annotations: None,
        }
    }
}

/// The DestinationRules: local ones for the services policies select or whose subsets are
/// used, client-side copies for `.global` hosts (global mode), per-cluster subsets
/// (multi-primary mode).
pub(super) fn destination_rules(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    uses: &[Use],
    natives: &[super::native::NativeSubset],
    out: &mut Vec<Emitted>,
) {
    let needs = needs_by_consumer(uses);
    let mut rules = DrDrafts {
        ctx,
        plain: plain_subsets_needed(ctx, &needs),
        drafts: BTreeMap::new(),
    };
    // Local DestinationRules.
    let mut local: BTreeSet<TargetId> = ctx.applied.keys().cloned().collect();
    local.extend(rules.plain.keys().cloned());
    for t in &local {
        rules.add_local(report, t);
    }
    for ((consumer, t), n) in &needs {
        let Some(mesh) = ctx.mesh(consumer) else {
            continue;
        };
        match ctx.mode(consumer) {
            MultiClusterMode::Global => {
                if consumer != &t.cluster {
                    rules.add_global_copy(report, consumer, mesh, t, n);
                }
            }
            MultiClusterMode::MultiPrimary => {
                rules.add_multi_primary(report, consumer, t, n);
                rules.add_own_cluster_subsets(report, consumer, t, n);
            }
        }
    }
    for n in natives {
        rules.add_native(n);
    }
    for ((_, ns, name), draft) in rules.drafts {
        if !draft.has_subsets_or_effect {
            continue;
        }
        let mut dr = DestinationRule::namespaced(&ns, &name, draft.spec);
        dr.metadata.annotations = draft.annotations;
        out.push(Emitted {
            cluster: draft.cluster,
            owners: draft.owners,
            object: dr.into(),
        });
    }
}

/// Who needs which target, per using cluster.
fn needs_by_consumer(uses: &[Use]) -> BTreeMap<(String, TargetId), Needs> {
    let mut needs: BTreeMap<(String, TargetId), Needs> = BTreeMap::new();
    for u in uses {
        let n = needs
            .entry((u.consumer.clone(), u.target.clone()))
            .or_default();
        n.subsets.insert(u.subset.clone());
        n.owners.insert(u.owner.clone());
    }
    needs
}

/// Plain (server-side) subsets of each target: from global-mode users.
fn plain_subsets_needed(
    ctx: &Ctx,
    needs: &BTreeMap<(String, TargetId), Needs>,
) -> BTreeMap<TargetId, Needs> {
    let mut plain: BTreeMap<TargetId, Needs> = BTreeMap::new();
    for ((consumer, t), n) in needs {
        if ctx.mode(consumer) != MultiClusterMode::Global {
            continue;
        }
        for s in n.subsets.iter().filter(|s| !s.is_empty()) {
            let p = plain.entry(t.clone()).or_default();
            p.subsets.insert(s.clone());
            p.owners.extend(n.owners.iter().cloned());
        }
    }
    plain
}

/// The plain subsets of `t`, sorted by name, with their own labels or `labels`.
fn plain_subsets(
    plain: &BTreeMap<TargetId, Needs>,
    t: &TargetId,
    labels: Option<&Labels>,
) -> Vec<Subset> {
    let mut v: Vec<Subset> = plain
        .get(t)
        .map(|n| {
            n.subsets
                .iter()
                .map(|s| Subset {
                    name: naming::subset_name(s),
                    labels: labels.cloned().unwrap_or_else(|| s.clone()),
                    traffic_policy: None,
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// DestinationRules being built, by (cluster, namespace, name).
struct DrDrafts<'c, 'a> {
    ctx: &'c Ctx<'a>,
    plain: BTreeMap<TargetId, Needs>,
    drafts: BTreeMap<(String, String, String), DrDraft>,
}

impl DrDrafts<'_, '_> {
    /// The DestinationRule of a service in its own cluster.
    fn add_local(&mut self, report: &mut TranslationNotes, t: &TargetId) {
        let d = dr::decorate(self.ctx, report, t, &t.cluster);
        let subsets = plain_subsets(&self.plain, t, None);
        let mut owners = d.owners.clone();
        if let Some(p) = self.plain.get(t) {
            owners.extend(p.owners.iter().cloned());
        }
        self.drafts.insert(
            (t.cluster.clone(), t.namespace.clone(), t.name.clone()),
            DrDraft {
                cluster: t.cluster.clone(),
                // A policy that selects the service but none of its callers here
                // (sourceSelector.clusters) gives no DestinationRule.
                has_subsets_or_effect: (d.applied > 0 && d.has_effect()) || !subsets.is_empty(),
                spec: DestinationRuleSpec {
                    host: self.ctx.local_fqdn(t),
                    traffic_policy: tls_policy(&d),
                    subsets,
                    ..Default::default()
                },
                owners,
                annotations: None,
            },
        );
    }

    /// Global mode: the client-side copy in `consumer` for the `.global` host of remote `t`.
    fn add_global_copy(
        &mut self,
        report: &mut TranslationNotes,
        consumer: &str,
        mesh: &Mesh,
        t: &TargetId,
        n: &Needs,
    ) {
        // Client-side copy for the `.global` host.
        let d = dr::decorate(self.ctx, report, t, consumer);
        let cluster_labels: Labels = [("cluster".to_string(), t.cluster.clone())].into();
        let subsets = plain_subsets(&self.plain, t, Some(&cluster_labels));
        let mut owners = d.owners.clone();
        owners.extend(n.owners.iter().cloned());
        let name = federated_name(t);
        report.explain(
            consumer,
            format!(
                "global mode: {} in cluster {} is reached as {}; DestinationRule {}/{name} carries its outlier detection and TLS on the client side",
                naming::object_key(&t.name, &t.namespace).trim_end_matches('.'),
                t.cluster,
                Ctx::global_fqdn(t),
                mesh.istiod_namespace
            ),
        );
        self.drafts.insert(
            (consumer.to_string(), mesh.istiod_namespace.clone(), name),
            DrDraft {
                cluster: consumer.to_string(),
                has_subsets_or_effect: d.has_effect() || !subsets.is_empty(),
                spec: DestinationRuleSpec {
                    host: Ctx::global_fqdn(t),
                    traffic_policy: tls_policy(&d),
                    subsets,
                    ..Default::default()
                },
                owners,
                annotations: Some(federation_annotation(t)),
            },
        );
    }

    /// Multi-primary mode: per-cluster subsets of `t` in the DestinationRule of `consumer`.
    fn add_multi_primary(
        &mut self,
        report: &mut TranslationNotes,
        consumer: &str,
        t: &TargetId,
        n: &Needs,
    ) {
        let key = (consumer.to_string(), t.namespace.clone(), t.name.clone());
        let host = format!(
            "{}.{}.svc.{}",
            t.name,
            t.namespace,
            self.ctx.domain(consumer)
        );
        let draft = self.drafts.entry(key).or_insert_with(|| {
            // No policy selects the service in this cluster: Settings defaults.
            let d = dr::DrDecoration {
                outlier: None,
                tls: TlsMode::IstioMutual,
                owners: BTreeSet::new(),
                applied: 0,
            };
            DrDraft {
                cluster: consumer.to_string(),
                has_subsets_or_effect: true,
                spec: DestinationRuleSpec {
                    host: host.clone(),
                    traffic_policy: tls_policy(&d),
                    ..Default::default()
                },
                owners: BTreeSet::new(),
                annotations: None,
            }
        });
        let d = dr::decorate(self.ctx, report, t, consumer);
        let top_outlier = draft
            .spec
            .traffic_policy
            .as_ref()
            .and_then(|p| p.outlier_detection.clone());
        for s in &n.subsets {
            let name = virtual_service::multi_primary_subset_name(&t.cluster, s);
            let outlier = d
                .outlier
                .clone()
                .filter(|o| Some(o) != top_outlier.as_ref());
            let labels =
                virtual_service::multi_primary_subset_labels(self.ctx.cluster_id(&t.cluster), s);
            explain_assumed_cluster_id(self.ctx, report, consumer, &t.cluster, &name);
            report.explain(
                consumer,
                format!(
                    "multi-primary mode: {host} has endpoints from every cluster; subset {name} of DestinationRule {}/{} (labels {}) is the Envoy cluster for the endpoints in {}{}",
                    t.namespace,
                    t.name,
                    labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    t.cluster,
                    if outlier.is_some() {
                        ", with that service's outlier detection"
                    } else {
                        ""
                    }
                ),
            );
            // Already there when added for callers in another cluster (below).
            if draft.spec.subsets.iter().any(|x| x.name == name) {
                continue;
            }
            draft.spec.subsets.push(Subset {
                name,
                labels,
                traffic_policy: outlier.map(|o| TrafficPolicy {
                    outlier_detection: Some(o),
                    ..Default::default()
                }),
            });
        }
        draft.spec.subsets.sort_by(|a, b| a.name.cmp(&b.name));
        draft.has_subsets_or_effect = true;
        draft.owners.extend(d.owners.iter().cloned());
        draft.owners.extend(n.owners.iter().cloned());
    }

    /// Native strategy: a FailoverService's priority subset in the Service's DestinationRule
    /// of one cluster (a subset with a traffic policy wins over the bare one of the same
    /// name, which only serves an east-west gateway).
    fn add_native(&mut self, n: &super::native::NativeSubset) {
        let ctx = self.ctx;
        let draft = self
            .drafts
            .entry((n.consumer.clone(), n.namespace.clone(), n.name.clone()))
            .or_insert_with(|| {
                DrDraft::for_subsets(
                    &n.consumer,
                    format!("{}.{}.svc.{}", n.name, n.namespace, ctx.domain(&n.consumer)),
                )
            });
        match draft
            .spec
            .subsets
            .iter_mut()
            .find(|s| s.name == n.subset.name)
        {
            Some(existing) if existing.traffic_policy.is_none() => *existing = n.subset.clone(),
            Some(_) => {}
            None => draft.spec.subsets.push(n.subset.clone()),
        }
        draft.spec.subsets.sort_by(|a, b| a.name.cmp(&b.name));
        draft.has_subsets_or_effect = true;
        draft.owners.insert(n.owner.clone());
    }

    /// Multi-primary mode: the same subsets on the service's own cluster: with several
    /// networks, the east-west gateway there routes `outbound_.<port>_.<subset>_.<host>`
    /// (SNI) only to subsets its own istiod knows. Harmless on one network.
    fn add_own_cluster_subsets(
        &mut self,
        report: &mut TranslationNotes,
        consumer: &str,
        t: &TargetId,
        n: &Needs,
    ) {
        // The same subsets on the service's own cluster: with several networks,
        // the east-west gateway there routes `outbound_.<port>_.<subset>_.<host>`
        // (SNI) only to subsets its own istiod knows. Harmless on one network.
        if t.cluster != *consumer && self.ctx.mesh(&t.cluster).is_some() {
            let own = self
                .drafts
                .entry((t.cluster.clone(), t.namespace.clone(), t.name.clone()))
                .or_insert_with(|| DrDraft::for_subsets(&t.cluster, self.ctx.local_fqdn(t)));
            for s in &n.subsets {
                let name = virtual_service::multi_primary_subset_name(&t.cluster, s);
                if own.spec.subsets.iter().any(|x| x.name == name) {
                    continue;
                }
                report.explain(
                    &t.cluster,
                    format!(
                        "multi-primary mode: subset {name} is also defined in DestinationRule {}/{} here, so an east-west gateway in {} can route callers from {consumer} to it",
                        t.namespace, t.name, t.cluster
                    ),
                );
                explain_assumed_cluster_id(self.ctx, report, &t.cluster, &t.cluster, &name);
                own.spec.subsets.push(Subset {
                    name,
                    labels: virtual_service::multi_primary_subset_labels(
                        self.ctx.cluster_id(&t.cluster),
                        s,
                    ),
                    traffic_policy: None,
                });
            }
            own.spec.subsets.sort_by(|a, b| a.name.cmp(&b.name));
            own.has_subsets_or_effect = true;
            own.owners.extend(n.owners.iter().cloned());
        }
    }
}

/// A warning, among the explanations of `consumer`, when the subset `subset` selects the
/// endpoints of `cluster` by an Istio cluster ID that the topology does not give (so the SMH
/// cluster name is assumed).
fn explain_assumed_cluster_id(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    consumer: &str,
    cluster: &str,
    subset: &str,
) {
    if ctx.cluster_id_known(cluster) {
        return;
    }
    report.explain(
        consumer,
        format!(
            "warning: the Istio cluster ID of {cluster} is not known (its mesh has no clusterId), so subset {subset} assumes it is the SMH cluster name and selects {}={cluster}; Istio labels endpoints with istiod's CLUSTER_ID ({}, \"{}\" when not set), and if that differs the subset has no endpoints and traffic sent to it fails with 503s: set the mesh's clusterId to that ID",
            crate::consts::ISTIO_CLUSTER_LABEL,
            crate::istio::cluster_id::CLUSTER_NAME_VALUE,
            crate::istio::cluster_id::DEFAULT_CLUSTER_ID,
        ),
    );
}
