//! FailoverService → ServiceEntry + EnvoyFilter (+ DestinationRule when traffic shifts use
//! subsets of the FailoverService), for every mesh in `spec.meshes`, as SMH's translation did.
//!
//! - ServiceEntry `service-mesh-hub/<fs>`: the hostname, SMH's FNV-1 VIP from
//!   `240.0.0.0/4`, one port named after its protocol, `MESH_INTERNAL`, `DNS`, no endpoints.
//! - EnvoyFilter `<root namespace>/<fs>`: for the empty subset and every subset a traffic
//!   shift uses, an ADD patch on `outbound|<port>|<subset>|<hostname>` that inserts an Envoy
//!   aggregate cluster listing, in backing-service priority order, one cluster per port of
//!   each backing Kubernetes Service. The empty subset's ADD follows a REMOVE of the cluster
//!   istiod generates for the ServiceEntry (a STRICT_DNS cluster to the hostname itself).
//!   A subset gets no REMOVE: istiod generates no cluster for it, because no endpoint of the
//!   endpoint-less DNS ServiceEntry carries the subset's labels and istiod skips a DNS
//!   cluster without endpoints (its push status says `pilot_dns_cluster_without_endpoints`),
//!   so SMH's REMOVE of it matched nothing and istiod ignored it.
//! - The aggregate's typed config is Envoy's v3 `ClusterConfig` for Istio ≥ 1.9 and SMH's
//!   `udpa.type.v1.TypedStruct` around the v2alpha type below (Envoy dropped v2 in 1.17).
//! - DestinationRule `<fs namespace>/<fs>` with the subsets: SMH v0.9.2 built it with an
//!   empty cluster name, so (inferred from the code) it was never written anywhere, and a
//!   route to `<hostname>` with a subset had no DestinationRule defining that subset.
//!   kubectl-smh writes it into each mesh's cluster.

use std::collections::{BTreeMap, BTreeSet};

use crate::consts::SMH_NAMESPACE;
use crate::istio::destination_rule::{ClientTlsSettings, Subset, TlsMode, TrafficPolicy};
use crate::istio::envoy_filter::{
    AggregateCluster, AggregateConfigType, ApplyTo, ClusterMatch, EnvoyConfigObjectMatch,
    EnvoyConfigObjectPatch, Operation, Patch, outbound_cluster_name,
};
use crate::istio::service_entry::{Location, Resolution, ServicePort};
use crate::istio::{
    DestinationRule, DestinationRuleSpec, EnvoyFilter, EnvoyFilterSpec, ServiceEntry,
    ServiceEntrySpec,
};
use crate::model::diag::{ObjectId, StatusTarget};
use crate::model::naming;
use crate::model::topology::{ClusterTopology, IstioVersion, Mesh, MultiClusterMode};

use super::Emitted;
use super::context::{Ctx, Failover, TargetId, TranslationNotes};
use super::vip::failover_service_ip;
use super::virtual_service::{Labels, Use, multi_primary_subset_name};

/// The first Istio release whose proxies (Envoy ≥ 1.17) need the v3 aggregate config type.
const FIRST_V3_ISTIO: IstioVersion = IstioVersion {
    major: 1,
    minor: 9,
    patch: 0,
};

/// Connect timeout of the aggregate cluster, as SMH wrote it.
const AGGREGATE_CONNECT_TIMEOUT: &str = "1s";

pub(crate) fn translate_failovers(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    out: &mut Vec<Emitted>,
    uses: &mut Vec<Use>,
    natives: &mut Vec<super::native::NativeSubset>,
) {
    let subsets = shift_subsets(ctx);
    let none = ShiftSubsets::default();
    for f in &ctx.failovers {
        let key = (f.namespace().to_string(), f.name().to_string());
        if let Some(d) = ctx.decisions.get(&key) {
            let fs_label = format!("FailoverService {}/{}", f.namespace(), f.name());
            let mut scratch = TranslationNotes::default();
            for m in f.fs.spec.meshes.iter().flatten() {
                if let Some(c) = ctx.cluster_of_mesh(&m.name) {
                    report.explain(&c.name, format!("{fs_label}: {}", d.why));
                }
            }
            if let Some(plan) = &d.native {
                let meshes = f.fs.spec.meshes.as_deref().unwrap_or_default();
                let users: Vec<String> = mesh_clusters(ctx, &mut scratch, f, meshes)
                    .into_iter()
                    .map(|(_, c)| c.name.clone())
                    .collect();
                super::native::translate_native(ctx, report, f, plan, &users, out, natives);
                continue;
            }
        }
        translate_one(
            ctx,
            report,
            f,
            subsets.get(&key).unwrap_or(&none),
            out,
            uses,
        );
    }
}

/// Subsets that traffic shifts to a FailoverService use, and the policies doing so.
#[derive(Default)]
struct ShiftSubsets {
    subsets: BTreeSet<Labels>,
    owners: BTreeSet<ObjectId>,
}

/// For every FailoverService (namespace, name): the subsets that traffic shifts to it use,
/// from policies applied to at least one traffic target.
fn shift_subsets(ctx: &Ctx) -> BTreeMap<(String, String), ShiftSubsets> {
    let applied: BTreeSet<usize> = ctx.applied.values().flatten().copied().collect();
    let mut out: BTreeMap<(String, String), ShiftSubsets> = BTreeMap::new();
    for i in applied {
        let p = &ctx.policies[i];
        for d in p.tp.spec.traffic_shift.iter().flat_map(|s| &s.destinations) {
            if let Some(fd) = &d.failover_service
                && !fd.subset.is_empty()
            {
                let e = out
                    .entry((fd.namespace.clone(), fd.name.clone()))
                    .or_default();
                e.subsets.insert(fd.subset.clone());
                e.owners.insert(p.id.clone());
            }
        }
    }
    out
}

fn translate_one(
    ctx: &Ctx,
    report: &mut TranslationNotes,
    f: &Failover,
    shifts: &ShiftSubsets,
    out: &mut Vec<Emitted>,
    uses: &mut Vec<Use>,
) {
    let spec = &f.fs.spec;

    // Which meshes see the hostname.
    let Some(mesh_refs) = &spec.meshes else {
        report.failover_error(
            f,
            StatusTarget::TopLevel,
            "spec.meshes",
            "Missing required field \"meshes\".".into(),
        );
        return;
    };
    let meshes = mesh_clusters(ctx, report, f, mesh_refs);

    // What every mesh needs; SMH reported these per mesh and generated nothing.
    let backing = match backing_services(ctx, spec) {
        Ok(backing) => backing,
        Err(errors) => {
            for (field, message) in errors {
                for (target, _) in &meshes {
                    report.failover_error(f, target.clone(), &field, message.clone());
                }
                if meshes.is_empty() {
                    report.failover_error(f, StatusTarget::TopLevel, &field, message.clone());
                }
            }
            return;
        }
    };
    let Some(port) = &spec.port else { return };

    let subset_owners = &shifts.owners;
    // The empty subset first, then the others by name.
    let mut subsets: Vec<Labels> = vec![Labels::new()];
    let mut named: Vec<Labels> = shifts.subsets.iter().cloned().collect();
    named.sort_by_key(naming::subset_name);
    subsets.extend(named);

    let fs_label = format!("FailoverService {}/{}", f.namespace(), f.name());
    for (_, cluster) in meshes {
        let cm = cluster.name.as_str();
        let Some(mesh) = &cluster.mesh else { continue };
        let mode = mesh.mode;

        let config_type = aggregate_config_type(report, f, &fs_label, cm, mesh);

        // ServiceEntry.
        let se = service_entry(f, port);
        out.push(Emitted::new(cm, [f.id.clone()], se));

        // EnvoyFilter: REMOVE + ADD for the empty subset, ADD for the others.
        let mut patches = Vec::new();
        for s in &subsets {
            let sname = if s.is_empty() {
                String::new()
            } else {
                naming::subset_name(s)
            };
            let name = outbound_cluster_name(port.number, &sname, &spec.hostname);
            let members = aggregate_members(ctx, cm, mode, &backing, s);
            uses.extend(backing.iter().map(|(b, _)| Use {
                consumer: cm.to_string(),
                target: b.clone(),
                subset: s.clone(),
                owner: f.id.clone(),
            }));
            report.explain(
                cm,
                format!(
                    "{fs_label}: Envoy cluster {name} is an aggregate that tries, in priority order: {}",
                    members.join(", ")
                ),
            );
            patches.extend(aggregate_patches(&name, members, config_type, s.is_empty()));
        }
        let ef = EnvoyFilter::namespaced(
            &mesh.root_namespace,
            f.name(),
            EnvoyFilterSpec {
                config_patches: patches,
                ..Default::default()
            },
        );
        let mut ef_owners: BTreeSet<ObjectId> = subset_owners.clone();
        ef_owners.insert(f.id.clone());
        out.push(Emitted::new(cm, ef_owners.clone(), ef));

        // DestinationRule for the hostname's subsets.
        if subsets.len() > 1 {
            let dr = hostname_subsets_rule(f, &subsets);
            report.explain(
                cm,
                format!(
                    "{fs_label}: traffic shifts use subsets of {}, so DestinationRule {}/{} defines them here (SMH v0.9.2 built this rule without a cluster and never wrote it)",
                    spec.hostname,
                    f.namespace(),
                    f.name()
                ),
            );
            out.push(Emitted::new(cm, ef_owners, dr));
        }
    }
}

/// The cluster of each mesh in `spec.meshes`, with its status target; a mesh that does not
/// exist is SMH's error.
pub(super) fn mesh_clusters<'a>(
    ctx: &Ctx<'a>,
    report: &mut TranslationNotes,
    f: &Failover,
    mesh_refs: &[crate::model::types::ObjectRef],
) -> Vec<(StatusTarget, &'a ClusterTopology)> {
    let mut meshes = Vec::new();
    for (i, m) in mesh_refs.iter().enumerate() {
        match ctx.cluster_of_mesh(&m.name) {
            Some(c) => meshes.push((
                StatusTarget::Mesh(naming::mesh_key(&m.name, &m.namespace)),
                c,
            )),
            None => report.failover_error(
                f,
                StatusTarget::TopLevel,
                &format!("spec.meshes[{i}]"),
                format!(
                    "*v1alpha2.Mesh with id {} not found",
                    naming::object_key(&m.name, &m.namespace)
                ),
            ),
        }
    }
    meshes
}

/// A field path and a message about it.
type FieldMessage = (String, String);

/// The backing services with their ports, or what every mesh needs and is missing
/// (hostname, port, backing services that exist and have ports): `(field, message)`.
pub(super) fn backing_services(
    ctx: &Ctx,
    spec: &crate::model::types::FailoverServiceSpec,
) -> Result<Vec<(TargetId, Vec<u32>)>, Vec<FieldMessage>> {
    let mut errors: Vec<(String, String)> = Vec::new();
    if spec.hostname.is_empty() {
        errors.push((
            "spec.hostname".into(),
            "Missing required field \"hostname\".".into(),
        ));
    }
    if spec.port.is_none() {
        errors.push((
            "spec.port".into(),
            "Missing required field \"port\".".into(),
        ));
    }
    if spec.backing_services.is_empty() {
        errors.push((
            "spec.backingServices".into(),
            "There must be at least one service declared for the FailoverService.".into(),
        ));
    }
    let mut backing: Vec<(TargetId, Vec<u32>)> = Vec::new();
    for (i, b) in spec.backing_services.iter().enumerate() {
        let field = format!("spec.backingServices[{i}].kubeService");
        let Some(k) = &b.kube_service else {
            errors.push((
                field,
                "Unsupported service type <nil>: set kubeService".into(),
            ));
            continue;
        };
        let t = TargetId::new(&k.name, &k.namespace, &k.cluster_name);
        if !ctx.targets.contains_key(&t) {
            errors.push((
                field,
                format!(
                    "Backing service {} not found in SMH discovery resources.",
                    t.key()
                ),
            ));
            continue;
        }
        let ports = ctx.ports(&t);
        if ports.is_empty() {
            errors.push((
                field,
                format!(
                    "Backing service {} has no ports in the topology; the aggregate cluster needs one entry per Service port",
                    t.key()
                ),
            ));
            continue;
        }
        backing.push((t, ports));
    }
    if errors.is_empty() {
        Ok(backing)
    } else {
        Err(errors)
    }
}

/// The aggregate cluster's config type for the mesh's Istio version (v3 from Istio 1.9), with
/// the explanation; an unreadable version is a warning and means v3.
fn aggregate_config_type(
    report: &mut TranslationNotes,
    f: &Failover,
    fs_label: &str,
    cm: &str,
    mesh: &Mesh,
) -> AggregateConfigType {
    match mesh.istio_version() {
        Ok(v) if v >= FIRST_V3_ISTIO => {
            report.explain(
                cm,
                format!(
                    "{fs_label}: Istio {} is 1.9 or later, so the aggregate cluster uses Envoy's v3 config type envoy.extensions.clusters.aggregate.v3.ClusterConfig",
                    mesh.version
                ),
            );
            AggregateConfigType::V3
        }
        Ok(_) => {
            report.explain(
                cm,
                format!(
                    "{fs_label}: Istio {} is older than 1.9, so the aggregate cluster uses SMH's udpa.type.v1.TypedStruct around envoy.config.cluster.aggregate.v2alpha.ClusterConfig (proxies before Envoy 1.17 only)",
                    mesh.version
                ),
            );
            AggregateConfigType::V2AlphaTypedStruct
        }
        Err(e) => {
            report.warning(
                &f.source,
                &f.id,
                "spec.meshes",
                format!(
                    "mesh in cluster {cm}: {e}; assuming Istio 1.9 or later (v3 aggregate cluster config)"
                ),
            );
            AggregateConfigType::V3
        }
    }
}

/// The ServiceEntry `service-mesh-hub/<fs>`: the hostname with SMH's VIP and the port.
pub(super) fn service_entry(
    f: &Failover,
    port: &crate::model::types::FailoverServicePort,
) -> ServiceEntry {
    let vip = failover_service_ip(f.name(), f.namespace());
    ServiceEntry::namespaced(
        SMH_NAMESPACE,
        f.name(),
        ServiceEntrySpec {
            hosts: vec![f.fs.spec.hostname.clone()],
            addresses: vec![vip.to_string()],
            ports: vec![ServicePort {
                number: port.number,
                protocol: port.protocol.clone(),
                name: port.protocol.clone(),
                target_port: None,
            }],
            location: Some(Location::MeshInternal),
            resolution: Some(Resolution::Dns),
            ..Default::default()
        },
    )
}

/// The Envoy clusters the aggregate for subset `s` tries, in priority order, as seen from
/// cluster `cm`.
fn aggregate_members(
    ctx: &Ctx,
    cm: &str,
    mode: MultiClusterMode,
    backing: &[(TargetId, Vec<u32>)],
    s: &Labels,
) -> Vec<String> {
    let sname = if s.is_empty() {
        String::new()
    } else {
        naming::subset_name(s)
    };
    let mut members = Vec::new();
    for (b, ports) in backing {
        let (host, bsubset) = match mode {
            MultiClusterMode::Global => {
                let host = if b.cluster == cm {
                    ctx.local_fqdn(b)
                } else {
                    Ctx::global_fqdn(b)
                };
                (host, sname.clone())
            }
            MultiClusterMode::MultiPrimary => (
                format!("{}.{}.svc.{}", b.name, b.namespace, ctx.domain(cm)),
                multi_primary_subset_name(&b.cluster, s),
            ),
        };
        for p in ports {
            members.push(outbound_cluster_name(*p, &bsubset, &host));
        }
    }
    members
}

/// The EnvoyFilter patches of aggregate cluster `name`: REMOVE the cluster Istio generates
/// (when `generated`), then ADD the aggregate.
fn aggregate_patches(
    name: &str,
    members: Vec<String>,
    config_type: AggregateConfigType,
    generated: bool,
) -> Vec<EnvoyConfigObjectPatch> {
    let cluster_match = || {
        Some(EnvoyConfigObjectMatch {
            context: None,
            cluster: Some(ClusterMatch {
                name: Some(name.to_string()),
                ..Default::default()
            }),
        })
    };
    let remove = EnvoyConfigObjectPatch {
        apply_to: ApplyTo::Cluster,
        match_: cluster_match(),
        patch: Some(Patch {
            operation: Operation::Remove,
            value: None,
        }),
    };
    let aggregate = AggregateCluster {
        name: name.to_string(),
        connect_timeout: AGGREGATE_CONNECT_TIMEOUT.to_string(),
        clusters: members,
    };
    let add = EnvoyConfigObjectPatch {
        apply_to: ApplyTo::Cluster,
        match_: cluster_match(),
        patch: Some(Patch {
            operation: Operation::Add,
            value: Some(aggregate.to_patch_value(config_type)),
        }),
    };
    if generated {
        vec![remove, add]
    } else {
        vec![add]
    }
}

/// The DestinationRule `<fs ns>/<fs>` defining the hostname's subsets (all but the empty
/// one), with mTLS.
fn hostname_subsets_rule(f: &Failover, subsets: &[Labels]) -> DestinationRule {
    let spec = &f.fs.spec;
    DestinationRule::namespaced(
        f.namespace(),
        f.name(),
        DestinationRuleSpec {
            host: spec.hostname.clone(),
            traffic_policy: Some(TrafficPolicy {
                tls: Some(ClientTlsSettings {
                    mode: Some(TlsMode::IstioMutual),
                }),
                ..Default::default()
            }),
            subsets: subsets
                .iter()
                .skip(1)
                .map(|s| Subset {
                    name: naming::subset_name(s),
                    labels: s.clone(),
                    traffic_policy: None,
                })
                .collect(),
            ..Default::default()
        },
    )
}
