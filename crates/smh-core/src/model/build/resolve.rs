//! Resolving a request against what exists, building the manifests, and checking them.

use super::*;

/// Check that `r` is a service SMH would discover: its cluster was discovered, the
/// Service exists there, and sidecar workloads back it.
pub(crate) fn check_service(
    flag: &'static str,
    r: &ClusterObjectRef,
    live: &Live,
) -> Result<(), BuildError> {
    let shown = service_ref(r);
    let Some(cluster) = live.topology.cluster(&r.cluster_name) else {
        return Err(BuildError::UnknownCluster {
            flag,
            service: shown,
            cluster: r.cluster_name.clone(),
            known: live
                .topology
                .clusters
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        });
    };
    match cluster.service(&r.name, &r.namespace) {
        Some(s) if s.in_mesh() => Ok(()),
        Some(_) => Err(BuildError::NoSidecar {
            flag,
            service: shown,
        }),
        None => {
            // Same name anywhere, else anything in the same namespace of that cluster.
            let mut candidates: Vec<String> = live
                .topology
                .clusters
                .iter()
                .flat_map(|c| {
                    c.services
                        .iter()
                        .filter(|s| s.name == r.name)
                        .map(move |s| format!("{}.{}@{}", s.name, s.namespace, c.name))
                })
                .collect();
            if candidates.is_empty() {
                candidates = cluster
                    .services
                    .iter()
                    .filter(|s| s.namespace == r.namespace)
                    .map(|s| format!("{}.{}@{}", s.name, s.namespace, cluster.name))
                    .collect();
            }
            candidates.sort();
            candidates.truncate(8);
            Err(BuildError::UnknownService {
                flag,
                service: shown,
                cluster: r.cluster_name.clone(),
                candidates,
            })
        }
    }
}

/// Fill in every default. Every problem is reported, not just the first.
pub fn resolve(opts: &CreateOptions, live: &Live) -> Result<CreateRequest, Vec<BuildError>> {
    let mut errors = Vec::new();
    if opts.backing.len() < 2 {
        errors.push(BuildError::TooFewBacking {
            given: opts.backing.len(),
        });
    }
    for (flag, list) in [
        ("--backing", &opts.backing),
        ("--shift-from", &opts.shift_from),
    ] {
        let mut seen = BTreeSet::new();
        for r in list {
            if !seen.insert(r) {
                errors.push(BuildError::Duplicate {
                    flag,
                    service: service_ref(r),
                });
            } else if let Err(e) = check_service(flag, r, live) {
                errors.push(e);
            }
        }
    }
    let Some(primary) = opts.backing.first() else {
        return Err(errors);
    };
    let name = opts.name.clone().unwrap_or_else(|| default_name(primary));
    let hostname = opts
        .hostname
        .clone()
        .unwrap_or_else(|| default_hostname(&name, primary));
    let primary_service = live.service(primary);
    let (port, protocol) = match (opts.port, primary_service) {
        (Some(port), service) => {
            let proto = opts.protocol.clone().unwrap_or_else(|| {
                service
                    .and_then(|s| port_choices(s).into_iter().find(|p| p.port == port))
                    .map(port_protocol)
                    .unwrap_or_else(|| "http".to_string())
            });
            (port, proto)
        }
        (None, Some(service)) => match port_choices(service).as_slice() {
            [p] => (
                p.port,
                opts.protocol.clone().unwrap_or_else(|| port_protocol(p)),
            ),
            [] => {
                errors.push(BuildError::NoPorts {
                    service: service_ref(primary),
                });
                (0, String::new())
            }
            many => {
                errors.push(BuildError::AmbiguousPort {
                    service: service_ref(primary),
                    ports: many.iter().map(|p| describe_port(p)).collect(),
                });
                (0, String::new())
            }
        },
        // The primary itself is missing: already reported.
        (None, None) => (0, String::new()),
    };
    let meshes = if opts.meshes.is_empty() {
        match default_meshes(primary, live.topology) {
            Ok(m) => m,
            Err(e) => {
                if live.topology.cluster(&primary.cluster_name).is_some() {
                    errors.push(e);
                }
                Vec::new()
            }
        }
    } else {
        opts.meshes.clone()
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CreateRequest {
        outlier_policy_name: opts
            .outlier_policy_name
            .clone()
            .unwrap_or_else(|| format!("{name}{OUTLIER_SUFFIX}")),
        shift_policy_name: opts
            .shift_policy_name
            .clone()
            .unwrap_or_else(|| format!("{name}{SHIFT_SUFFIX}")),
        name,
        namespace: opts.namespace.clone(),
        hostname,
        port,
        protocol,
        backing: opts.backing.clone(),
        meshes,
        outlier: opts.outlier.clone(),
        shift_from: opts.shift_from.clone(),
        shift_retries: opts.shift_retries.clone(),
    })
}

/// The manifests to create.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePlan {
    /// The FailoverService.
    pub failover_service: FailoverService,
    /// Outlier detection for the backing services that have none yet.
    pub outlier_policy: Option<TrafficPolicy>,
    /// One per namespace of the services to shift that are not shifted yet.
    pub shift_policies: Vec<TrafficPolicy>,
    /// Backing services that keep the outlier detection they already have.
    pub reused_outlier: Vec<Coverage>,
    /// Services already shifted to this FailoverService, and by which policy.
    pub already_shifted: Vec<(ClusterObjectRef, ObjectId)>,
}

fn created_for(req: &CreateRequest) -> BTreeMap<String, String> {
    BTreeMap::from([(
        CREATED_FOR_ANNOTATION.to_string(),
        format!("{}/{}", req.namespace, req.name),
    )])
}

fn policy(
    name: &str,
    namespace: &str,
    req: &CreateRequest,
    spec: TrafficPolicySpec,
) -> TrafficPolicy {
    TrafficPolicy {
        api_version: SMH_API_VERSION.to_string(),
        kind: TrafficPolicy::KIND.to_string(),
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            annotations: Some(created_for(req)),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    }
}

fn refs_selector(services: Vec<ClusterObjectRef>) -> Vec<TrafficTargetSelector> {
    vec![TrafficTargetSelector {
        kube_service_matcher: None,
        kube_service_refs: Some(KubeServiceRefs { services }),
    }]
}

/// Build the manifests for a complete request.
pub fn build(req: &CreateRequest, live: &Live) -> Result<CreatePlan, Vec<BuildError>> {
    let mut errors = Vec::new();
    if let Some(fs) = live.failover_services().find(|fs| {
        fs.metadata.name.as_deref() == Some(req.name.as_str())
            && fs.metadata.namespace.as_deref().unwrap_or(SMH_NAMESPACE) == req.namespace
    }) {
        errors.push(BuildError::FailoverServiceExists {
            namespace: req.namespace.clone(),
            name: req.name.clone(),
            hostname: fs.spec.hostname.clone(),
        });
    }

    let failover_service = new_failover_service(req);
    let (outlier_policy, reused_outlier) = outlier_policy(req, live, &mut errors);
    let (shift_policies, already_shifted) = shift_policies(req, live);
    check_policy_names_free(outlier_policy.as_ref(), &shift_policies, live, &mut errors);

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CreatePlan {
        failover_service,
        outlier_policy,
        shift_policies,
        reused_outlier,
        already_shifted,
    })
}

/// The FailoverService of a request.
fn new_failover_service(req: &CreateRequest) -> FailoverService {
    FailoverService {
        api_version: SMH_API_VERSION.to_string(),
        kind: FailoverService::KIND.to_string(),
        metadata: ObjectMeta {
            name: Some(req.name.clone()),
            namespace: Some(req.namespace.clone()),
            ..ObjectMeta::default()
        },
        spec: FailoverServiceSpec {
            hostname: req.hostname.clone(),
            port: Some(FailoverServicePort {
                number: req.port,
                protocol: req.protocol.clone(),
            }),
            meshes: Some(req.meshes.clone()),
            backing_services: req
                .backing
                .iter()
                .map(|r| BackingService {
                    kube_service: Some(r.clone()),
                })
                .collect(),
        },
        status: None,
    }
}

/// Outlier detection for the backing services that have none: the new policy (none when
/// every backing service is covered already; then outlier flags given are an error), and
/// the coverage that is reused.
fn outlier_policy(
    req: &CreateRequest,
    live: &Live,
    errors: &mut Vec<BuildError>,
) -> (Option<TrafficPolicy>, Vec<Coverage>) {
    let coverage = outlier_coverage(&req.backing, live);
    let reused_outlier: Vec<Coverage> = coverage.iter().flatten().cloned().collect();
    let uncovered: Vec<ClusterObjectRef> = req
        .backing
        .iter()
        .zip(&coverage)
        .filter(|(_, c)| c.is_none())
        .map(|(r, _)| r.clone())
        .collect();
    let outlier_policy = if uncovered.is_empty() {
        if req.outlier.is_set() {
            errors.push(BuildError::OutlierFlagsUnused {
                covered: reused_outlier.clone(),
            });
        }
        None
    } else {
        Some(policy(
            &req.outlier_policy_name,
            &req.namespace,
            req,
            TrafficPolicySpec {
                destination_selector: refs_selector(uncovered),
                outlier_detection: Some(req.outlier.to_smh()),
                ..TrafficPolicySpec::default()
            },
        ))
    };
    (outlier_policy, reused_outlier)
}

/// Traffic shifts, one policy per namespace of the services not shifted yet; and the
/// services already shifted to this FailoverService, with the policy that does it.
fn shift_policies(
    req: &CreateRequest,
    live: &Live,
) -> (Vec<TrafficPolicy>, Vec<(ClusterObjectRef, ObjectId)>) {
    let shifted = shift_coverage(&req.shift_from, &req.namespace, &req.name, live);
    let mut already_shifted = Vec::new();
    let mut by_namespace: BTreeMap<&str, Vec<ClusterObjectRef>> = BTreeMap::new();
    for (r, by) in req.shift_from.iter().zip(shifted) {
        match by {
            Some(id) => already_shifted.push((r.clone(), id)),
            None => by_namespace
                .entry(r.namespace.as_str())
                .or_default()
                .push(r.clone()),
        }
    }
    let shift_policies: Vec<TrafficPolicy> = by_namespace
        .into_iter()
        .map(|(ns, services)| {
            policy(
                &req.shift_policy_name,
                ns,
                req,
                TrafficPolicySpec {
                    destination_selector: refs_selector(services),
                    traffic_shift: Some(MultiDestination {
                        destinations: vec![WeightedDestination {
                            weight: 0,
                            kube_service: None,
                            failover_service: Some(FailoverServiceDestination {
                                name: req.name.clone(),
                                namespace: req.namespace.clone(),
                                subset: BTreeMap::new(),
                            }),
                        }],
                    }),
                    retries: req.shift_retries.clone(),
                    ..TrafficPolicySpec::default()
                },
            )
        })
        .collect();
    (shift_policies, already_shifted)
}

/// Names the new policies take must be free (or the policy is ours already, which cannot
/// be: its FailoverService would exist).
fn check_policy_names_free(
    outlier_policy: Option<&TrafficPolicy>,
    shift_policies: &[TrafficPolicy],
    live: &Live,
    errors: &mut Vec<BuildError>,
) {
    let new_policies = outlier_policy
        .into_iter()
        .map(|p| (p, "--outlier-policy-name"))
        .chain(shift_policies.iter().map(|p| (p, "--shift-policy-name")));
    for (p, flag) in new_policies {
        let id = tp_id(p);
        if live.policies().any(|tp| tp_id(tp) == id) {
            errors.push(BuildError::PolicyNameTaken {
                namespace: id.namespace,
                name: id.name,
                flag,
            });
        }
    }
}

impl CreatePlan {
    /// The objects, in the order the guide creates them: outlier detection, the
    /// FailoverService, traffic shifts.
    pub fn objects(&self) -> Vec<SmhObject> {
        let mut out = Vec::new();
        if let Some(p) = &self.outlier_policy {
            out.push(SmhObject::TrafficPolicy(p.clone()));
        }
        out.push(SmhObject::FailoverService(self.failover_service.clone()));
        out.extend(
            self.shift_policies
                .iter()
                .map(|p| SmhObject::TrafficPolicy(p.clone())),
        );
        out
    }

    /// The objects as JSON values (camelCase, as `kubectl apply` reads them).
    pub fn values(&self) -> Vec<Value> {
        self.objects()
            .iter()
            .map(|o| match o {
                SmhObject::FailoverService(fs) => serde_json::to_value(fs),
                SmhObject::TrafficPolicy(tp) => serde_json::to_value(tp),
            })
            // Plain structs of strings and numbers always serialize.
            .filter_map(Result::ok)
            .collect()
    }

    /// The identities of the new objects.
    pub fn ids(&self) -> Vec<ObjectId> {
        self.objects()
            .iter()
            .map(|o| match o {
                SmhObject::FailoverService(fs) => ObjectId {
                    kind: FailoverService::KIND.to_string(),
                    namespace: fs.metadata.namespace.clone().unwrap_or_default(),
                    name: fs.metadata.name.clone().unwrap_or_default(),
                },
                SmhObject::TrafficPolicy(tp) => tp_id(tp),
            })
            .collect()
    }

    /// The objects as a YAML stream, in [`CreatePlan::objects`] order, with their own key
    /// order (apiVersion, kind, metadata, spec), as the guide writes them.
    pub fn to_yaml(&self) -> Result<String, crate::yaml_writer::YamlWriteError> {
        let mut out = String::new();
        for (i, o) in self.objects().iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(&match o {
                SmhObject::FailoverService(fs) => crate::yaml_writer::to_yaml(fs)?,
                SmhObject::TrafficPolicy(tp) => crate::yaml_writer::to_yaml(tp)?,
            });
        }
        Ok(out)
    }
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checked {
    /// The new objects as the parser read them back from [`CreatePlan::to_yaml`] (source
    /// [`CREATE_LABEL`], documents in plan order): what `apply` will be given.
    pub manifests: Vec<Manifest>,
    /// Problems the new objects bring: parser errors, and validation findings over the
    /// existing objects plus the new ones that validating the existing ones alone does not
    /// report. Errors mean: do not apply.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any of the diagnostics is an error (then nothing should be created).
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Read the plan back through the parser (as `apply -f` would) and validate it together
/// with what exists.
pub fn check(plan: &CreatePlan, live: &Live) -> Checked {
    let yaml = match plan.to_yaml() {
        Ok(y) => y,
        Err(e) => {
            return Checked {
                manifests: Vec::new(),
                diagnostics: vec![Diagnostic {
                    severity: Severity::Error,
                    source: None,
                    object: None,
                    field: None,
                    position: None,
                    message: e.to_string(),
                    status_target: None,
                }],
            };
        }
    };
    let namespace = plan
        .failover_service
        .metadata
        .namespace
        .as_deref()
        .unwrap_or(SMH_NAMESPACE);
    let mut loaded = parse_str_with(CREATE_LABEL, &yaml, namespace);
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Checked {
            manifests: loaded.manifests,
            diagnostics,
        };
    }
    let options = ValidateOptions {
        complete: true,
        rejected: Vec::new(),
    };
    let before: BTreeSet<Diagnostic> = validate_with(live.existing, live.topology, &options)
        .into_iter()
        .collect();
    let mut all: Vec<Manifest> = live.existing.to_vec();
    all.extend(loaded.manifests.iter().cloned());
    let mut found: Vec<Diagnostic> = validate_with(&all, live.topology, &options)
        .into_iter()
        .filter(|d| !before.contains(d))
        .collect();
    loaded.fill_positions(&mut found);
    diagnostics.extend(found);
    Checked {
        manifests: loaded.manifests,
        diagnostics,
    }
}
