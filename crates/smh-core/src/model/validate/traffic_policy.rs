//! TrafficPolicy rules: the pre-check, what SMH's translation reported per selected
//! traffic target, and DestinationRule field conflicts between policies.

use super::*;

impl<'a> Validator<'a> {
    /// SMH v0.9+ pre-check: `kubeServiceRefs` must name existing traffic targets.
    pub(super) fn tp_precheck(&self, tp: &TrafficPolicy) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, sel) in tp.spec.destination_selector.iter().enumerate() {
            let Some(refs) = &sel.kube_service_refs else {
                continue;
            };
            for (j, r) in refs.services.iter().enumerate() {
                if r.name.is_empty() || r.namespace.is_empty() || r.cluster_name.is_empty() {
                    continue; // reported by the field checks
                }
                let field = format!("spec.destinationSelector[{i}].kubeServiceRefs.services[{j}]");
                if self
                    .target(&r.name, &r.namespace, &r.cluster_name)
                    .is_none()
                {
                    out.push(at(
                        error(
                            &field,
                            format!(
                                "TrafficTarget {}.{}.{} not found",
                                r.name, r.namespace, r.cluster_name
                            ),
                        ),
                        Some(StatusTarget::TopLevel),
                    ));
                    out.extend(self.sidecar_hint(&field, &r.name, &r.namespace, &r.cluster_name));
                }
            }
        }
        out
    }

    /// What SMH's translation reported per selected traffic target: traffic shift and
    /// mirror destinations.
    pub(super) fn tp_per_target(&mut self, index: usize) {
        let info = &self.tps[index];
        let (m, tp, valid) = (info.manifest, info.tp, info.valid);
        let targets = info.targets.clone();
        let mut once: Vec<Finding> = Vec::new();
        // Problems that do not depend on the target, found once, reported per target.
        let shift_error = self.traffic_shift_error(tp, &mut once);
        let mirror_error = self.mirror_error(tp, &mut once);
        for f in once {
            self.emit(m, f);
        }
        for f in [shift_error, mirror_error].into_iter().flatten() {
            if targets.is_empty() {
                continue; // SMH translates per target; a policy selecting nothing is never translated
            }
            for &t in &targets {
                let st = valid.then(|| StatusTarget::TrafficTarget(self.index.targets()[t].key()));
                self.emit(
                    m,
                    Finding {
                        severity: f.severity,
                        field: f.field.clone(),
                        message: f.message.clone(),
                        status_target: st,
                    },
                );
            }
        }
    }
    /// SMH's error for the first bad traffic-shift destination (missing traffic target,
    /// wrong or missing port, missing FailoverService when the input is complete); hints
    /// and warnings go to `once`.
    fn traffic_shift_error(&self, tp: &TrafficPolicy, once: &mut Vec<Finding>) -> Option<Finding> {
        let mut shift_error: Option<Finding> = None;
        if let Some(shift) = &tp.spec.traffic_shift {
            for (k, d) in shift.destinations.iter().enumerate() {
                let field = format!("spec.trafficShift.destinations[{k}]");
                if let (Some(ks), None) = (&d.kube_service, &d.failover_service) {
                    if ks.name.is_empty() || ks.namespace.is_empty() || ks.cluster_name.is_empty() {
                        continue;
                    }
                    let key = format!("{}.{}.{}", ks.name, ks.namespace, ks.cluster_name);
                    match self.target(&ks.name, &ks.namespace, &ks.cluster_name) {
                        None => {
                            shift_error = Some(error(
                                format!("{field}.kubeService"),
                                format!(
                                    "traffic-shift: invalid traffic shift destination {key}: TrafficTarget not found for kube service {key}"
                                ),
                            ));
                            once.extend(self.sidecar_hint(
                                &format!("{field}.kubeService"),
                                &ks.name,
                                &ks.namespace,
                                &ks.cluster_name,
                            ));
                        }
                        Some(t) => {
                            let ports = &t.service.ports;
                            if ks.port != 0 && !ports.iter().any(|p| p.port == ks.port) {
                                shift_error = Some(error(
                                    format!("{field}.kubeService.port"),
                                    format!(
                                        "traffic-shift: specified port {} does not exist for traffic shift destination service {key}",
                                        ks.port
                                    ),
                                ));
                            } else if ks.port == 0 && ports.len() > 1 {
                                shift_error = Some(error(
                                    format!("{field}.kubeService"),
                                    format!(
                                        "traffic-shift: must provide port for traffic shift destination service {key} with multiple ports ({}) defined",
                                        ports.len()
                                    ),
                                ));
                            }
                        }
                    }
                } else if let (None, Some(fsd)) = (&d.kube_service, &d.failover_service) {
                    if fsd.name.is_empty() || fsd.namespace.is_empty() {
                        continue;
                    }
                    let exists = self
                        .fss
                        .contains_key(&(fsd.namespace.clone(), fsd.name.clone()))
                        || self.rejected(FailoverService::KIND, &fsd.namespace, &fsd.name);
                    if !exists {
                        let key = object_key(&fsd.name, &fsd.namespace);
                        let smh = format!(
                            "traffic-shift: invalid traffic shift destination {key}, FailoverService not found: *v1alpha2.FailoverService with id {key} not found"
                        );
                        if self.options.complete {
                            shift_error = Some(error(format!("{field}.failoverService"), smh));
                        } else {
                            once.push(warning(
                                format!("{field}.failoverService"),
                                format!(
                                    "FailoverService {}/{} is not in the input; unless it already exists in the cluster, SMH rejects this policy with: {smh}",
                                    fsd.namespace, fsd.name
                                ),
                            ));
                        }
                    }
                }
                if shift_error.is_some() {
                    break; // SMH stops at the first bad destination
                }
            }
        }
        shift_error
    }

    /// SMH's error for a bad mirror destination (missing traffic target, wrong or missing
    /// port); hints go to `once`.
    fn mirror_error(&self, tp: &TrafficPolicy, once: &mut Vec<Finding>) -> Option<Finding> {
        let mut mirror_error: Option<Finding> = None;
        if let Some(mirror) = &tp.spec.mirror
            && let Some(ks) = &mirror.kube_service
            && !(ks.name.is_empty() || ks.namespace.is_empty() || ks.cluster_name.is_empty())
        {
            let key = format!("{}.{}.{}", ks.name, ks.namespace, ks.cluster_name);
            match self.target(&ks.name, &ks.namespace, &ks.cluster_name) {
                None => {
                    mirror_error = Some(error(
                        "spec.mirror.kubeService",
                        format!(
                            "mirror: invalid mirror destination: TrafficTarget not found for kube service {key}"
                        ),
                    ));
                    once.extend(self.sidecar_hint(
                        "spec.mirror.kubeService",
                        &ks.name,
                        &ks.namespace,
                        &ks.cluster_name,
                    ));
                }
                Some(t) => {
                    let ports = &t.service.ports;
                    if mirror.port != 0 && !ports.iter().any(|p| p.port == mirror.port) {
                        mirror_error = Some(error(
                            "spec.mirror.port",
                            format!(
                                "mirror: specified port {} does not exist for mirror destination service {key}",
                                mirror.port
                            ),
                        ));
                    } else if mirror.port == 0 && ports.len() > 1 {
                        mirror_error = Some(error(
                            "spec.mirror",
                            format!(
                                "mirror: must provide port for mirror destination service {key} with multiple ports ({}) defined",
                                ports.len()
                            ),
                        ));
                    }
                }
            }
        }
        mirror_error
    }

    /// DestinationRule field ownership between policies on one target (SMH's
    /// `fieldutils` registry): the first policy to set `outlierDetection` (or `tls`) to a
    /// value owns the field; a later one setting a different value conflicts.
    pub(super) fn conflicts(&mut self) {
        let mut found: Vec<(usize, Finding)> = Vec::new();
        for (ti, t) in self.index.targets().iter().enumerate() {
            let mut policies: Vec<usize> = self.by_target[ti]
                .iter()
                .copied()
                .filter(|&i| self.tps[i].valid)
                .collect();
            if policies.len() < 2 {
                continue;
            }
            let key = t.key();
            policies.sort_by_key(|&i| {
                let info = &self.tps[i];
                let accepted = info
                    .tp
                    .status
                    .as_ref()
                    .and_then(|s| s.traffic_targets.get(&key))
                    .filter(|s| s.state == crate::model::types::ApprovalState::Accepted)
                    .map(|s| s.acceptance_order);
                (
                    accepted.is_none(),
                    accepted.unwrap_or(0),
                    object_key(&info.id.name, &info.id.namespace),
                )
            });
            // The DRs for this target: its own cluster, and federated copies in the other
            // meshes of its VirtualMesh; a policy applies to a DR when its sourceSelector
            // contains that DR's (source) cluster.
            let mut sources = vec![t.cluster.name.clone()];
            if let Some(mesh) = &t.cluster.mesh {
                let vm = self
                    .topology
                    .virtual_mesh_of(&mesh.smh_name(&t.cluster.name));
                for c in &self.topology.clusters {
                    if c.name == t.cluster.name {
                        continue;
                    }
                    if let Some(other) = &c.mesh
                        && vm.is_some()
                        && self.topology.virtual_mesh_of(&other.smh_name(&c.name)) == vm
                    {
                        sources.push(c.name.clone());
                    }
                }
            }
            let mut reported: BTreeSet<(usize, &str)> = BTreeSet::new();
            for source in &sources {
                let mut od: Option<((u32, String, String, u32), usize)> = None;
                let mut tls: (String, Option<usize>) = ("ISTIO_MUTUAL".to_string(), None);
                for &i in &policies {
                    let tp = self.tps[i].tp;
                    if !select::workload_selector_contains_cluster(&tp.spec.source_selector, source)
                    {
                        continue;
                    }
                    if let Some(o) = &tp.spec.outlier_detection {
                        let value = effective_outlier(o);
                        match &od {
                            Some((current, _)) if *current == value => {}
                            Some((_, owner)) => {
                                if reported.insert((i, "outlierDetection")) {
                                    found.push((
                                        i,
                                        self.conflict(
                                            "outlier-detection",
                                            "outlierDetection",
                                            *owner,
                                            &key,
                                        ),
                                    ));
                                }
                            }
                            None => od = Some((value, i)),
                        }
                    }
                    if let Some(mode) = tp
                        .spec
                        .mtls
                        .as_ref()
                        .and_then(|m| m.istio.as_ref())
                        .and_then(|i| i.tls_mode.clone())
                    {
                        if mode == tls.0 {
                            continue;
                        }
                        match tls.1 {
                            Some(owner) => {
                                if reported.insert((i, "tls")) {
                                    found.push((i, self.conflict("tls", "tls", owner, &key)));
                                }
                            }
                            None => tls = (mode, Some(i)),
                        }
                    }
                }
            }
        }
        for (i, f) in found {
            let m = self.tps[i].manifest;
            self.emit(m, f);
        }
    }

    pub(super) fn conflict(
        &self,
        decorator: &str,
        field: &str,
        owner: usize,
        target_key: &str,
    ) -> Finding {
        let o = &self.tps[owner].id;
        let spec_field = if field == "tls" {
            "spec.mtls"
        } else {
            "spec.outlierDetection"
        };
        at(
            error(
                spec_field,
                format!(
                    "{decorator}: field {field} is already owned by *v1alpha2.TrafficPolicy [{}] (priority 0)",
                    object_key(&o.name, &o.namespace)
                ),
            ),
            Some(StatusTarget::TrafficTarget(target_key.to_string())),
        )
    }

    /// Does a valid input TrafficPolicy with outlier detection apply to the traffic target
    /// with index `target`?
    pub(super) fn has_outlier_detection(&self, target: usize) -> bool {
        self.by_target[target].iter().any(|&i| {
            let info = &self.tps[i];
            info.valid && info.tp.spec.outlier_detection.is_some()
        })
    }

    /// The traffic target `name.namespace` in `cluster`.
    pub(super) fn target(
        &self,
        name: &str,
        namespace: &str,
        cluster: &str,
    ) -> Option<TrafficTarget<'a>> {
        self.target_at(name, namespace, cluster).map(|(_, t)| t)
    }

    /// The traffic target `name.namespace` in `cluster`, with its index.
    pub(super) fn target_at(
        &self,
        name: &str,
        namespace: &str,
        cluster: &str,
    ) -> Option<(usize, TrafficTarget<'a>)> {
        self.index
            .find(name, namespace, cluster)
            .map(|i| (i, self.index.targets()[i]))
    }

    /// Would any input TrafficPolicy with outlier detection select this service (which is
    /// not in the topology)?
    pub(super) fn covered_by_any_policy(&self, r: &ClusterObjectRef) -> bool {
        let svc = crate::model::topology::Service {
            namespace_labels: Default::default(),
            ambient: None,
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            ports: Vec::new(),
            sidecar_workloads: true,
            labels: BTreeMap::new(),
            selector: BTreeMap::new(),
        };
        self.tps.iter().any(|info| {
            info.tp.spec.outlier_detection.is_some()
                && select::destination_selectors_match(
                    &info.tp.spec.destination_selector,
                    &r.cluster_name,
                    &svc,
                )
        })
    }
}
