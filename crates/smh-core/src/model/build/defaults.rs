//! Defaults of `failover create` (name, hostname, port, meshes) and which existing policies
//! already give a service outlier detection or a traffic shift.

use super::*;

/// `<svc>-failover`.
pub fn default_name(primary: &ClusterObjectRef) -> String {
    format!("{}{NAME_SUFFIX}", primary.name)
}

/// `<name>.<svc-ns>.global` (`reviews-failover.bookinfo.global` for the default name).
pub fn default_hostname(name: &str, primary: &ClusterObjectRef) -> String {
    format!("{name}.{}.global", primary.namespace)
}

/// The protocol Istio would give a Service port: its `appProtocol` when Istio knows it,
/// else the `<protocol>[-suffix]` prefix of its name when Istio knows that, else `http`.
pub fn port_protocol(p: &ServicePort) -> String {
    if let Some(ap) = &p.app_protocol {
        let ap = ap.to_ascii_lowercase();
        let ap = match ap.as_str() {
            "kubernetes.io/h2c" => "http2".to_string(),
            "kubernetes.io/ws" | "kubernetes.io/wss" => "http".to_string(),
            _ => ap,
        };
        if is_istio_protocol(&ap) {
            return ap;
        }
    }
    let prefix = p.name.split('-').next().unwrap_or_default();
    if !prefix.is_empty() && is_istio_protocol(prefix) {
        return prefix.to_ascii_lowercase();
    }
    "http".to_string()
}

/// The ports a FailoverService can listen on for `service` (TCP ports; UDP and SCTP are
/// not proxied).
pub fn port_choices(service: &Service) -> Vec<&ServicePort> {
    service
        .ports
        .iter()
        .filter(|p| p.protocol.eq_ignore_ascii_case("TCP"))
        .collect()
}

/// `9080 (http)` or `9080/http-web (http)`.
pub fn describe_port(p: &ServicePort) -> String {
    let proto = port_protocol(p);
    if p.name.is_empty() || p.name == proto {
        format!("{} ({proto})", p.port)
    } else {
        format!("{}/{} ({proto})", p.port, p.name)
    }
}

/// The default mesh: the primary's cluster's, as SMH names it, in `service-mesh-hub`.
pub(crate) fn default_meshes(
    primary: &ClusterObjectRef,
    topology: &Topology,
) -> Result<Vec<ObjectRef>, BuildError> {
    let mesh = topology
        .cluster(&primary.cluster_name)
        .and_then(|c| c.mesh.as_ref())
        .ok_or_else(|| BuildError::NoMesh {
            cluster: primary.cluster_name.clone(),
        })?;
    Ok(vec![ObjectRef {
        name: mesh.smh_name(&primary.cluster_name),
        namespace: SMH_NAMESPACE.to_string(),
    }])
}

/// Does the status of `tp` reject it, overall or for the traffic target `key`?
fn status_rejects(tp: &TrafficPolicy, key: &str) -> bool {
    let bad = |s: ApprovalState| matches!(s, ApprovalState::Invalid | ApprovalState::Failed);
    tp.status
        .as_ref()
        .is_some_and(|s| bad(s.state) || s.traffic_targets.get(key).is_some_and(|t| bad(t.state)))
}

pub(super) fn tp_id(tp: &TrafficPolicy) -> ObjectId {
    ObjectId {
        kind: TrafficPolicy::KIND.to_string(),
        namespace: tp
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| SMH_NAMESPACE.to_string()),
        name: tp.metadata.name.clone().unwrap_or_default(),
    }
}

/// The existing policies SMH would not apply at all: those with an error from the
/// pre-check or the field checks (no status target, or the top-level one), as
/// [`crate::model::validate`] decides for "has a TrafficPolicy with outlier detection".
fn invalid_policies(live: &Live) -> BTreeSet<ObjectId> {
    let options = ValidateOptions {
        complete: true,
        rejected: Vec::new(),
    };
    validate_with(live.existing, live.topology, &options)
        .into_iter()
        .filter(|d| {
            d.severity == Severity::Error
                && matches!(
                    d.status_target,
                    None | Some(crate::model::diag::StatusTarget::TopLevel)
                )
        })
        .filter_map(|d| d.object)
        .filter(|o| o.kind == TrafficPolicy::KIND)
        .collect()
}

/// For each service, the existing policy that gives it outlier detection, if any (the
/// first by namespace and name when several do).
pub fn outlier_coverage(services: &[ClusterObjectRef], live: &Live) -> Vec<Option<Coverage>> {
    let invalid = invalid_policies(live);
    let policies: Vec<&TrafficPolicy> = live
        .policies()
        .filter(|tp| tp.spec.outlier_detection.is_some() && !invalid.contains(&tp_id(tp)))
        .collect();
    services
        .iter()
        .zip(covering(services, policies, live))
        .map(|(s, tp)| {
            tp.map(|tp| Coverage {
                service: s.clone(),
                policy: tp_id(tp),
                values: tp
                    .spec
                    .outlier_detection
                    .as_ref()
                    .map(OutlierFlags::from_smh)
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// For each service, an existing policy that already shifts its traffic to the
/// FailoverService `namespace/name`, if any.
pub(crate) fn shift_coverage(
    services: &[ClusterObjectRef],
    namespace: &str,
    name: &str,
    live: &Live,
) -> Vec<Option<ObjectId>> {
    let policies: Vec<&TrafficPolicy> = live
        .policies()
        .filter(|tp| {
            tp.spec
                .traffic_shift
                .iter()
                .flat_map(|s| &s.destinations)
                .filter_map(|d| d.failover_service.as_ref())
                .any(|f| f.name == name && f.namespace == namespace)
        })
        .collect();
    covering(services, policies, live)
        .into_iter()
        .map(|tp| tp.map(tp_id))
        .collect()
}

/// For each service, the first of `policies` (by namespace and name) that selects it and
/// whose status does not reject it, if any.
fn covering<'a>(
    services: &[ClusterObjectRef],
    mut policies: Vec<&'a TrafficPolicy>,
    live: &Live,
) -> Vec<Option<&'a TrafficPolicy>> {
    let index = TargetIndex::new(live.topology);
    policies.sort_by_key(|tp| tp_id(tp));
    let selected: Vec<BTreeSet<usize>> = policies
        .iter()
        .map(|tp| index.policy_targets(tp).into_iter().collect())
        .collect();
    services
        .iter()
        .map(|s| {
            let t = index.find(&s.name, &s.namespace, &s.cluster_name)?;
            let key = traffic_target_key(&s.name, &s.namespace, &s.cluster_name);
            policies
                .iter()
                .zip(&selected)
                .find(|(tp, sel)| sel.contains(&t) && !status_rejects(tp, &key))
                .map(|(tp, _)| *tp)
        })
        .collect()
}
