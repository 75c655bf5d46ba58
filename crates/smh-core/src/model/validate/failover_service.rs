//! FailoverService rules, in SMH's order, and the lint across FailoverServices.

use super::fields::check_service_ref;
use super::*;
use crate::model::types::FailoverServiceSpec;

impl<'a> Validator<'a> {
    /// Every check of one FailoverService: field checks, SMH's mesh pre-check, SMH's rules
    /// (hostname, port, backing services, federation) and lint, emitted in that order.
    pub(super) fn failover_service(&mut self, m: &Manifest, fs: &FailoverService) {
        let spec = &fs.spec;
        let fields = fs_field_checks(spec);
        let pre = self.fs_mesh_precheck(spec);
        let mut lint: Vec<Finding> = Vec::new();
        // SMH's rules, in order.
        let mut rules = hostname_and_port_rules(spec);
        let backing_meshes = self.backing_service_rules(spec, &mut rules, &mut lint);
        self.federation_rules(spec, backing_meshes, &mut rules, &mut lint);
        self.emit_fs_findings(m, spec, fields, pre, rules, lint);
    }

    /// SMH's pre-check (v0.9+, issue #962): every mesh in `spec.meshes` exists.
    fn fs_mesh_precheck(&self, spec: &FailoverServiceSpec) -> Vec<Finding> {
        let mut pre: Vec<Finding> = Vec::new();
        for (i, r) in spec.meshes.iter().flatten().enumerate() {
            if r.name.is_empty() || r.namespace.is_empty() {
                continue;
            }
            if self.topology.find_mesh(&r.name, &r.namespace).is_none() {
                pre.push(at(
                    error(
                        format!("spec.meshes[{i}]"),
                        format!(
                            "*v1alpha2.Mesh with id {}.{}. not found",
                            r.name, r.namespace
                        ),
                    ),
                    Some(StatusTarget::TopLevel),
                ));
            }
        }
        pre
    }

    /// SMH's backing-service rules (each exists, has outlier detection, is in a mesh) plus
    /// lint; returns the SMH mesh names of the backing services, for federation.
    fn backing_service_rules(
        &self,
        spec: &FailoverServiceSpec,
        rules: &mut Vec<Finding>,
        lint: &mut Vec<Finding>,
    ) -> Vec<String> {
        let mut backing_meshes: Vec<String> = Vec::new();
        if spec.backing_services.is_empty() {
            rules.push(error(
                "spec.backingServices",
                "There must be at least one service declared for the FailoverService.",
            ));
        }
        let mut seen_backing: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
        for (i, b) in spec.backing_services.iter().enumerate() {
            let field = format!("spec.backingServices[{i}]");
            let Some(k) = &b.kube_service else {
                rules.push(error(&field, "Unsupported service type <nil>"));
                continue;
            };
            let kfield = format!("{field}.kubeService");
            if k.name.is_empty() || k.namespace.is_empty() || k.cluster_name.is_empty() {
                continue; // reported as missing fields
            }
            if !seen_backing.insert((&k.name, &k.namespace, &k.cluster_name)) {
                lint.push(warning(
                    &kfield,
                    format!(
                        "backing service {}.{}.{} is listed more than once",
                        k.name, k.namespace, k.cluster_name
                    ),
                ));
            }
            let key = format!("{}.{}.{}", k.name, k.namespace, k.cluster_name);
            let Some((ti, t)) = self.target_at(&k.name, &k.namespace, &k.cluster_name) else {
                rules.push(error(
                    &kfield,
                    format!("Backing service {key} not found in SMH discovery resources."),
                ));
                lint.extend(self.sidecar_hint(&kfield, &k.name, &k.namespace, &k.cluster_name));
                if !self.covered_by_any_policy(k) {
                    lint.push(warning(
                        &kfield,
                        format!(
                            "no TrafficPolicy in the input applies outlierDetection to {key}; failover needs outlier detection on every backing service"
                        ),
                    ));
                }
                continue;
            };
            if !self.has_outlier_detection(ti) {
                rules.push(error(
                    &kfield,
                    format!("Service {key} does not have any TrafficPolicies that apply OutlierDetection settings."),
                ));
            }
            match &t.cluster.mesh {
                None => rules.push(error(
                    &kfield,
                    format!(
                        "Mesh istiod-istio-system-{}.{SMH_NAMESPACE} for service {key} not found in SMH discovery resources.",
                        k.cluster_name
                    ),
                )),
                Some(mesh) => backing_meshes.push(mesh.smh_name(&t.cluster.name)),
            }
        }
        backing_meshes
    }

    /// SMH's federation rules: the referenced meshes (listed and backing) are grouped in
    /// one VirtualMesh.
    fn federation_rules(
        &self,
        spec: &FailoverServiceSpec,
        backing_meshes: Vec<String>,
        rules: &mut Vec<Finding>,
        lint: &mut Vec<Finding>,
    ) {
        match &spec.meshes {
            None => rules.push(error("spec.meshes", "Missing required field \"meshes\".")),
            Some(meshes) => {
                let mut referenced: BTreeSet<String> = BTreeSet::new();
                for r in meshes {
                    if r.namespace == SMH_NAMESPACE
                        && self.topology.find_mesh(&r.name, &r.namespace).is_some()
                    {
                        referenced.insert(r.name.clone());
                    }
                }
                referenced.extend(backing_meshes);
                if referenced.len() > 1 {
                    let mut vms: BTreeSet<(String, String)> = BTreeSet::new();
                    // skv2 sets list by key: name.namespace.
                    for mesh in &referenced {
                        match self.topology.virtual_mesh_of(mesh) {
                            None => rules.push(error(
                                "spec.meshes",
                                format!(
                                    "Mesh {mesh}.{SMH_NAMESPACE} is not grouped in a VirtualMesh."
                                ),
                            )),
                            Some(vm) => {
                                vms.insert(vm);
                            }
                        }
                    }
                    if vms.len() > 1 {
                        let names: Vec<String> =
                            vms.iter().map(|(n, ns)| format!("{n}.{ns}")).collect();
                        rules.push(error(
                            "spec.meshes",
                            format!(
                                "Services belong to multiple different parent VirtualMeshes: [{}]",
                                names.join(", ")
                            ),
                        ));
                    }
                }
                if meshes.is_empty() {
                    lint.push(warning(
                        "spec.meshes",
                        "spec.meshes is empty: no mesh sees the FailoverService, so nothing is generated for it",
                    ));
                }
            }
        }
    }

    /// Emit the findings of one FailoverService: field checks and pre-check as they are,
    /// SMH's rules once per listed mesh when SMH would have reached them, then lint.
    fn emit_fs_findings(
        &mut self,
        m: &Manifest,
        spec: &FailoverServiceSpec,
        fields: Vec<Finding>,
        pre: Vec<Finding>,
        rules: Vec<Finding>,
        lint: Vec<Finding>,
    ) {
        let reached = pre.is_empty() && spec.meshes.as_ref().is_some_and(|m| !m.is_empty());
        let mesh_keys: Vec<String> = if reached {
            let mut keys: Vec<String> = Vec::new();
            for r in spec.meshes.iter().flatten() {
                let k = mesh_key(&r.name, &r.namespace);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            keys
        } else {
            Vec::new()
        };
        for f in fields.into_iter().chain(pre) {
            self.emit(m, f);
        }
        for f in rules {
            if mesh_keys.is_empty() {
                self.emit(m, f);
            } else {
                for k in &mesh_keys {
                    self.emit(
                        m,
                        Finding {
                            severity: f.severity,
                            field: f.field.clone(),
                            message: f.message.clone(),
                            status_target: Some(StatusTarget::Mesh(k.clone())),
                        },
                    );
                }
            }
        }
        for f in lint {
            self.emit(m, f);
        }
    }

    /// Lint across FailoverServices: one hostname twice; one name in two namespaces.
    pub(super) fn cross_fs_lint(&mut self) {
        let mut by_host: BTreeMap<&str, &Manifest> = BTreeMap::new();
        let mut by_name: BTreeMap<&str, &Manifest> = BTreeMap::new();
        let mut found = Vec::new();
        for m in self.manifests {
            let SmhObject::FailoverService(fs) = &m.object else {
                continue;
            };
            let id = object_id(m);
            if !fs.spec.hostname.is_empty() {
                match by_host.get(fs.spec.hostname.as_str()) {
                    Some(first) if object_id(first) != id => {
                        let f = object_id(first);
                        found.push((
                            m,
                            warning(
                                "spec.hostname",
                                format!(
                                    "hostname {} is also used by FailoverService {}/{} ({}); Istio keeps one ServiceEntry per host, so only one of them takes effect",
                                    fs.spec.hostname, f.namespace, f.name, first.source
                                ),
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        by_host.insert(&fs.spec.hostname, m);
                    }
                }
            }
            if let Some(name) = fs.metadata.name.as_deref() {
                match by_name.get(name) {
                    Some(first) if object_id(first).namespace != id.namespace => {
                        let f = object_id(first);
                        found.push((
                            m,
                            warning(
                                "metadata.name",
                                format!(
                                    "FailoverService {}/{name} has the same name as {}/{name} ({}); both generate ServiceEntry {SMH_NAMESPACE}/{name} and EnvoyFilter <root namespace>/{name}, which collide",
                                    id.namespace, f.namespace, first.source
                                ),
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        by_name.insert(name, m);
                    }
                }
            }
        }
        for (m, f) in found {
            self.emit(m, f);
        }
    }
}

/// Field checks of a FailoverService: incomplete references, and limits on what the
/// hostname and port become in the ServiceEntry.
fn fs_field_checks(spec: &FailoverServiceSpec) -> Vec<Finding> {
    let mut fields: Vec<Finding> = Vec::new();
    for (i, b) in spec.backing_services.iter().enumerate() {
        if let Some(k) = &b.kube_service {
            check_service_ref(
                &mut fields,
                &format!("spec.backingServices[{i}].kubeService"),
                &k.name,
                &k.namespace,
                &k.cluster_name,
            );
            for (name, value) in [
                ("name", &k.name),
                ("namespace", &k.namespace),
                ("clusterName", &k.cluster_name),
            ] {
                if value.is_empty() {
                    fields.push(error(
                        format!("spec.backingServices[{i}].kubeService.{name}"),
                        format!("Required value: {name} must be set"),
                    ));
                }
            }
        }
    }
    for (i, r) in spec.meshes.iter().flatten().enumerate() {
        for (name, value) in [("name", &r.name), ("namespace", &r.namespace)] {
            if value.is_empty() {
                fields.push(error(
                    format!("spec.meshes[{i}].{name}"),
                    format!("Required value: {name} must be set"),
                ));
            }
        }
    }

    // What the hostname and port become in the ServiceEntry (hosts, ports[].name): limits
    // SMH did not check and istiod enforces.
    if !spec.hostname.is_empty()
        && k8s::smh_is_dns1123_subdomain(&spec.hostname).is_empty()
        && let Some(why) = limits::host(&spec.hostname)
    {
        fields.push(error("spec.hostname", format!("Invalid value: {why}")));
    }
    if let Some(port) = &spec.port
        && is_istio_protocol(&port.protocol)
        && limits::port_name(&port.protocol).is_some()
    {
        fields.push(error(
            "spec.port.protocol",
            format!(
                "Invalid value: {:?}: the generated ServiceEntry's port is named after the protocol, and Istio requires a port name of letters, digits and '-'; use another protocol",
                port.protocol
            ),
        ));
    }
    fields
}

/// SMH's hostname and port rules.
fn hostname_and_port_rules(spec: &FailoverServiceSpec) -> Vec<Finding> {
    let mut rules: Vec<Finding> = Vec::new();
    if spec.hostname.is_empty() {
        rules.push(error(
            "spec.hostname",
            "Missing required field \"hostname\".",
        ));
    } else {
        if !spec.hostname.ends_with(".global") {
            rules.push(error(
                "spec.hostname",
                format!(
                    "Provided hostname {} is missing required suffix \".global\".",
                    spec.hostname
                ),
            ));
        }
        let errs = k8s::smh_is_dns1123_subdomain(&spec.hostname);
        if !errs.is_empty() {
            rules.push(error("spec.hostname", errs.join(", ")));
        }
    }
    // port
    match &spec.port {
        None => rules.push(error("spec.port", "Missing required field \"port\".")),
        Some(port) => {
            let errs = k8s::is_valid_port_num(i64::from(port.number));
            if !errs.is_empty() {
                rules.push(error("spec.port.number", errs.join(", ")));
            }
            if !is_istio_protocol(&port.protocol) {
                rules.push(error(
                    "spec.port.protocol",
                    format!("Invalid protocol for port: {}", port.protocol),
                ));
            }
        }
    }
    rules
}
