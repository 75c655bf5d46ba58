//! A DestinationRule that defines subsets of a host other than a Kubernetes service FQDN
//! (`<svc>.<ns>.svc.cluster.local`) — a FailoverService's hostname, a remote service's
//! `.global` host — is also written, unchanged, into the namespace of every VirtualService
//! (in the same cluster) that routes or mirrors to one of those subsets.
//!
//! Why: istiod finds a DestinationRule for such a host in the calling proxy's namespace, then
//! in the namespace of the host's ServiceEntry, then in the root namespace, so it uses the
//! rule where translation writes it. Istio's analyzer does not: it looks a VirtualService's
//! `host+subset` up only among the rules of the VirtualService's own namespace when the host
//! is not a Kubernetes service FQDN (`istioctl analyze` IST0101 "Referenced host+subset in
//! destinationrule not found"). The copy satisfies the analyzer without changing what istiod
//! generates: it has the same spec, so proxies in that namespace (which now get the copy)
//! see the same rule, and proxies elsewhere still get the original.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::istio::IstioObject;

use super::Emitted;
use super::context::TranslationNotes;

/// Whether Istio's analyzer resolves `host` by its own name (`<svc>.<ns>.svc.cluster.local`)
/// rather than in the referring object's namespace.
fn is_kubernetes_fqdn(host: &str) -> bool {
    host.strip_suffix(".svc.cluster.local")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(svc, ns)| !svc.is_empty() && !ns.is_empty())
}

/// Every `(host, subset)` a VirtualService spec names (route and mirror destinations).
fn subset_references(v: &Value, out: &mut BTreeSet<(String, String)>) {
    match v {
        Value::Object(m) => {
            if let (Some(Value::String(h)), Some(Value::String(s))) =
                (m.get("host"), m.get("subset"))
                && !s.is_empty()
            {
                out.insert((h.clone(), s.clone()));
            }
            m.values().for_each(|x| subset_references(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| subset_references(x, out)),
        _ => {}
    }
}

/// Add the copies to `out` (see the module documentation).
pub(super) fn copy_subset_rules(out: &mut Vec<Emitted>, report: &mut TranslationNotes) {
    // (cluster, namespace, host) of every DestinationRule, to skip namespaces that have one.
    let mut rules: BTreeSet<(String, String, String)> = out
        .iter()
        .filter_map(|e| match &e.object {
            IstioObject::DestinationRule(dr) => Some((
                e.cluster.clone(),
                e.object.namespace().to_string(),
                dr.spec.host.clone(),
            )),
            _ => None,
        })
        .collect();
    let mut wanted: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    for e in out.iter() {
        if let IstioObject::VirtualService(vs) = &e.object {
            let mut refs = BTreeSet::new();
            subset_references(
                &serde_json::to_value(&vs.spec).unwrap_or(Value::Null),
                &mut refs,
            );
            for (host, subset) in refs {
                if !is_kubernetes_fqdn(&host) {
                    wanted.insert((
                        e.cluster.clone(),
                        e.object.namespace().to_string(),
                        host,
                        subset,
                    ));
                }
            }
        }
    }
    let mut copies = Vec::new();
    for (cluster, ns, host, subset) in wanted {
        if rules.contains(&(cluster.clone(), ns.clone(), host.clone())) {
            continue;
        }
        // The rule defining the subset, first by namespace and name.
        let mut defining: Vec<&Emitted> = out
            .iter()
            .filter(|e| e.cluster == cluster)
            .filter(|e| match &e.object {
                IstioObject::DestinationRule(dr) => {
                    dr.spec.host == host && dr.spec.subsets.iter().any(|s| s.name == subset)
                }
                _ => false,
            })
            .collect();
        defining.sort_by_key(|e| {
            (
                e.object.namespace().to_string(),
                e.object.name().to_string(),
            )
        });
        let Some(original) = defining.first() else {
            continue;
        };
        let mut copy = Emitted {
            cluster: cluster.clone(),
            owners: original.owners.clone(),
            object: original.object.clone(),
        };
        copy.object.meta_mut().namespace = Some(ns.clone());
        report.explain(
            &cluster,
            format!(
                "DestinationRule {}/{} (subsets of {host}) is also written into namespace {ns}, unchanged, because a VirtualService there routes to subset {subset}: Istio's analyzer looks for that subset only in the VirtualService's namespace; istiod gives proxies in {ns} the copy and all others the original",
                original.object.namespace(),
                original.object.name(),
            ),
        );
        rules.insert((cluster, ns, host));
        copies.push(copy);
    }
    out.extend(copies);
}
