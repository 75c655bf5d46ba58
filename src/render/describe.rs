//! `describe`, drawn: comfy-table tables like `meshctl describe`'s (Metadata / Net / Meshes
//! / ...), then per backing service the cluster, service, endpoints, outlier detection and
//! drift, then the generated objects, the problems in words and the topology choices. Pure:
//! strings out; `cli` prints them. `width` (the terminal's, when printing to one) makes
//! long cells wrap so that tables fit; `None` never wraps.

use comfy_table::{ContentArrangement, Table, presets};

use smh_core::inspect::describe::{
    BackingView, ClusterRow, FailoverServiceView, MeshView, OutlierView, Problem, StatusView,
    TrafficPolicyView,
};
use smh_core::inspect::drift::{Drift, DriftState};
use smh_core::model::diag::Severity;

fn table(width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.force_no_tty();
    if let Some(w) = width {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(w);
    }
    t
}

/// `name: a, b, c` as `name:` and one indented line per part (for table cells).
fn split_set(line: &str) -> String {
    match line.split_once(": ") {
        Some((name, rest)) if rest.contains(", ") || rest.contains("; ") => {
            let parts: Vec<&str> = rest.split("; ").flat_map(|p| p.split(", ")).collect();
            format!("{name}:\n  {}", parts.join("\n  "))
        }
        _ => line.to_string(),
    }
}

/// The clusters that were read, each with `ok` or its error.
pub(crate) fn clusters(rows: &[ClusterRow], width: Option<u16>) -> String {
    let mut t = table(width);
    t.set_header(vec!["Cluster", "Context", "API server", "Status"]);
    for r in rows {
        let name = if r.mgmt {
            format!("{} (management)", r.name)
        } else {
            r.name.clone()
        };
        let context = if r.context.is_empty() {
            "-".to_string()
        } else {
            r.context.clone()
        };
        let server = if r.server.is_empty() {
            "-".to_string()
        } else {
            r.server.clone()
        };
        let mut status = r.error.clone().unwrap_or_else(|| "ok".to_string());
        if let Some(t) = &r.stale_since {
            status.push_str(&format!(
                "\n(its topology is the cached one, discovered {t})"
            ));
        }
        t.add_row(vec![name, context, server, status]);
    }
    format!("Clusters\n{t}\n")
}

fn status_cell(s: &StatusView) -> String {
    let mut lines = vec![s.state.clone()];
    match s.generation {
        Some(g) if s.up_to_date => lines.push(format!("generation {g} observed")),
        Some(g) => lines.push(format!(
            "observed generation {} of {g} (out of date)",
            s.observed_generation
        )),
        None => {}
    }
    for e in &s.errors {
        lines.push(format!("error: {e}"));
    }
    lines.join("\n")
}

fn drift_counts(drifts: &[Drift]) -> String {
    if drifts.is_empty() {
        return "none".to_string();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for d in drifts {
        let label = d.state.label();
        match counts.iter_mut().find(|(l, _)| *l == label) {
            Some(c) => c.1 += 1,
            None => counts.push((label, 1)),
        }
    }
    counts
        .iter()
        .map(|(l, n)| format!("{n} {l}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn outlier_cell(views: &[OutlierView]) -> String {
    let several = views.len() > 1;
    let mut out = Vec::new();
    for v in views {
        let mut lines = Vec::new();
        if several {
            lines.push(format!("callers in {}:", v.client_cluster));
        }
        match (&v.error, &v.values) {
            (Some(e), _) => lines.push(format!("unknown: {e}")),
            (None, None) => lines.push("NONE (no ejection: failover never happens)".to_string()),
            (None, Some(val)) => {
                let mark = |field: &str| {
                    if val.defaulted.iter().any(|d| d == field) {
                        " (default)"
                    } else {
                        ""
                    }
                };
                lines.push(format!(
                    "consecutive5xxErrors {}{}",
                    val.consecutive_5xx_errors,
                    mark("consecutive5xxErrors")
                ));
                if let Some(g) = val.consecutive_gateway_errors {
                    lines.push(format!("consecutiveGatewayErrors {g}"));
                }
                lines.push(format!("interval {}{}", val.interval, mark("interval")));
                lines.push(format!(
                    "baseEjectionTime {}{}",
                    val.base_ejection_time,
                    mark("baseEjectionTime")
                ));
                let warn = if val.max_ejection_percent < 100 {
                    " (below 100!)"
                } else {
                    ""
                };
                lines.push(format!(
                    "maxEjectionPercent {}{}{warn}",
                    val.max_ejection_percent,
                    mark("maxEjectionPercent")
                ));
            }
        }
        if let Some(src) = &v.source {
            lines.push(format!("from {src}"));
        }
        out.push(lines.join("\n"));
    }
    out.join("\n\n")
}

fn backing_row(b: &BackingView) -> Vec<String> {
    let role = match b.role {
        smh_core::inspect::describe::Role::Primary => "primary",
        smh_core::inspect::describe::Role::Secondary => "secondary",
    };
    let unread = b.cluster_error.is_some();
    let service = match b.discovered {
        Some(false) => format!("{}/{}\n(not found with sidecars)", b.namespace, b.name),
        _ => format!("{}/{}", b.namespace, b.name),
    };
    let endpoints = match (&b.endpoints, &b.endpoints_error) {
        _ if unread => "unknown (cluster not read)".to_string(),
        (Some(e), _) => format!("{}/{} ready", e.ready, e.total),
        (None, Some(_)) => "unknown (read failed)".to_string(),
        (None, None) => "-".to_string(),
    };
    let generated = match b.in_sync {
        _ if b.generated.is_empty() => "none".to_string(),
        _ => drift_counts(&b.generated),
    };
    vec![
        b.priority.to_string(),
        role.to_string(),
        b.cluster.clone(),
        service,
        endpoints,
        outlier_cell(&b.outlier_detection),
        generated,
    ]
}

fn generated_table(drifts: &[&Drift], width: Option<u16>) -> String {
    let mut t = table(width);
    t.set_header(vec!["Cluster", "Object", "State"]);
    for d in drifts {
        let state = match &d.state {
            DriftState::Modified { .. } | DriftState::OutOfDate { .. } => {
                d.state.to_string().replacen(": ", ":\n", 1)
            }
            other => other.to_string(),
        };
        t.add_row(vec![
            d.key.cluster.clone(),
            format!("{} {}/{}", d.key.kind, d.key.namespace, d.key.name),
            state,
        ]);
    }
    t.to_string()
}

/// `error: ...` / `warning: ...` lines, errors first; `No problems found.` when none.
pub(crate) fn problems(problems: &[Problem]) -> String {
    if problems.is_empty() {
        return "No problems found.\n".to_string();
    }
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    sorted.sort_by_key(|p| p.severity);
    let mut out = String::from("Problems:\n");
    for p in sorted {
        let label = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!("  {label}: {}\n", p.message));
    }
    out
}

/// One FailoverService.
pub(crate) fn failover_service(fs: &FailoverServiceView, width: Option<u16>) -> String {
    let mut out = format!("FailoverService {}/{}\n", fs.namespace, fs.name);

    let mut t = table(width);
    t.set_header(vec!["Metadata", "Net", "Meshes", "Status"]);
    let port = fs
        .port
        .as_ref()
        .map(|p| format!("{} ({})", p.number, p.protocol))
        .unwrap_or_else(|| "-".into());
    let meshes: Vec<String> = fs
        .meshes
        .iter()
        .map(|m| match &m.cluster {
            Some(c) => format!("{}.{}\n  in {c}", m.name, m.namespace),
            None => format!("{}.{}\n  (not found)", m.name, m.namespace),
        })
        .collect();
    t.add_row(vec![
        format!("Name: {}\nNamespace: {}", fs.name, fs.namespace),
        format!("Hostname: {}\nPort: {port}", fs.hostname),
        if meshes.is_empty() {
            "-".into()
        } else {
            meshes.join("\n")
        },
        status_cell(&fs.status),
    ]);
    out.push_str(&format!("{t}\n"));

    out.push_str("Backing services (priority order)\n");
    let mut t = table(width);
    t.set_header(vec![
        "#",
        "Role",
        "Cluster",
        "Service",
        "Endpoints",
        "Outlier detection",
        "Generated objects",
    ]);
    for b in &fs.backing_services {
        t.add_row(backing_row(b));
    }
    out.push_str(&format!("{t}\n"));

    let all = fs.all_generated();
    if !all.is_empty() {
        out.push_str("Generated objects\n");
        out.push_str(&generated_table(&all, width));
        out.push('\n');
    }
    if !fs.traffic_policies.is_empty() {
        out.push_str(&format!(
            "TrafficPolicies: {}\n",
            fs.traffic_policies.join(", ")
        ));
    }
    out.push_str(&problems(&fs.problems));
    if !fs.explanations.is_empty() {
        out.push_str("Topology choices:\n");
        for e in &fs.explanations {
            out.push_str(&format!("  [{}] {}\n", e.cluster, e.text));
        }
    }
    out
}

/// Every FailoverService, after the clusters table.
pub fn failover_services(
    clusters_rows: &[ClusterRow],
    list: &[FailoverServiceView],
    width: Option<u16>,
) -> String {
    let mut parts = vec![clusters(clusters_rows, width)];
    if list.is_empty() {
        parts.push("No FailoverServices found.\n".to_string());
    }
    parts.extend(list.iter().map(|f| failover_service(f, width)));
    parts.join("\n")
}

/// One TrafficPolicy.
pub(crate) fn traffic_policy(tp: &TrafficPolicyView, width: Option<u16>) -> String {
    let mut out = format!("TrafficPolicy {}/{}\n", tp.namespace, tp.name);
    let mut t = table(width);
    t.set_header(vec![
        "Metadata",
        "Source workloads",
        "Destination services",
        "Sets",
        "Status",
    ]);
    t.add_row(vec![
        format!("Name: {}\nNamespace: {}", tp.name, tp.namespace),
        tp.source_selector.join("\n"),
        tp.destination_selector.join("\n"),
        if tp.sets.is_empty() {
            "nothing".into()
        } else {
            tp.sets
                .iter()
                .map(|s| split_set(s))
                .collect::<Vec<_>>()
                .join("\n")
        },
        status_cell(&tp.status),
    ]);
    out.push_str(&format!("{t}\n"));

    out.push_str("Traffic targets\n");
    if tp.targets.is_empty() {
        out.push_str("  (none)\n");
    } else {
        let mut t = table(width);
        t.set_header(vec!["Cluster", "Service", "Status key", "State", "Errors"]);
        for target in &tp.targets {
            t.add_row(vec![
                target.cluster.clone(),
                format!("{}/{}", target.namespace, target.name),
                target.key.clone(),
                target.state.clone(),
                target.errors.join("\n"),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    if !tp.generated.is_empty() {
        out.push_str("Generated objects\n");
        let refs: Vec<&Drift> = tp.generated.iter().collect();
        out.push_str(&generated_table(&refs, width));
        out.push('\n');
    }
    out.push_str(&problems(&tp.problems));
    out
}

/// Every TrafficPolicy, after the clusters table.
pub(crate) fn traffic_policies(
    clusters_rows: &[ClusterRow],
    list: &[TrafficPolicyView],
    width: Option<u16>,
) -> String {
    let mut parts = vec![clusters(clusters_rows, width)];
    if list.is_empty() {
        parts.push("No TrafficPolicies found.\n".to_string());
    }
    parts.extend(list.iter().map(|t| traffic_policy(t, width)));
    parts.join("\n")
}

/// One row per cluster.
pub(crate) fn meshes(list: &[MeshView], width: Option<u16>) -> String {
    let mut t = table(width);
    t.set_header(vec![
        "Cluster",
        "Istiod",
        "Version",
        "Mode",
        "Root namespace",
        "Cluster domain",
        "Failover services",
        "Reachability",
    ]);
    for m in list {
        let cluster = if m.mgmt {
            format!("{}\n(management)", m.cluster)
        } else {
            m.cluster.clone()
        };
        let istiod = match (&m.mesh, &m.istiod) {
            (Some(mesh), Some(istiod)) => {
                let avail = m
                    .istiod_availability
                    .as_ref()
                    .map(|a| format!("\n{}/{} available", a.available, a.desired))
                    .unwrap_or_default();
                let id = match &m.istio_cluster_id {
                    Some(id) => format!("\ncluster ID {id}"),
                    None => "\ncluster ID unknown".to_string(),
                };
                format!("{istiod}\n({mesh}){id}{avail}")
            }
            _ if m.reachable => "none (no Istio)".to_string(),
            _ => "-".to_string(),
        };
        let version = match &m.istio_version {
            Some(v) if m.istio_version_assumed => format!("{v}\n(assumed: image tag unreadable)"),
            Some(v) => v.clone(),
            None => "-".into(),
        };
        let mode = m
            .mode
            .as_ref()
            .map(|d| {
                let name = match d.mode {
                    smh_core::model::topology::MultiClusterMode::Global => "global",
                    smh_core::model::topology::MultiClusterMode::MultiPrimary => "multi-primary",
                };
                format!("{name}\n({})", d.reason)
            })
            .unwrap_or_else(|| "-".into());
        let mode = match &m.ambient {
            Some(a) => {
                let mut lines = vec![
                    mode,
                    "ambient (ztunnel)".to_string(),
                    format!("network {}", a.network.as_deref().unwrap_or("unset")),
                    format!(
                        "AMBIENT_ENABLE_MULTI_NETWORK {}",
                        if a.multi_network { "on" } else { "off" }
                    ),
                    format!("global service scopes: {}", a.global_scopes),
                ];
                if a.east_west_gateways.is_empty() {
                    lines.push("no east-west gateway".to_string());
                }
                lines.extend(
                    a.east_west_gateways
                        .iter()
                        .map(|g| format!("east-west gateway {g}")),
                );
                lines.join("\n")
            }
            None => mode,
        };
        let domain = match (&m.cluster_domain, &m.cluster_domain_source) {
            (Some(d), Some(s)) => format!("{d}\n{s}"),
            (Some(d), None) => d.clone(),
            _ => "-".into(),
        };
        let reach = match &m.error {
            Some(e) => format!("unreachable: {e}"),
            None => match &m.kubernetes_version {
                Some(v) => format!("reachable\nKubernetes {v}"),
                None => "reachable".into(),
            },
        };
        let mut reach = reach;
        for w in &m.warnings {
            reach.push_str(&format!("\nwarning: {w}"));
        }
        for p in &m.problems {
            let severity = match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            reach.push_str(&format!("\n{severity}: {}", p.message));
        }
        t.add_row(vec![
            cluster,
            istiod,
            version,
            mode,
            m.root_namespace.clone().unwrap_or_else(|| "-".into()),
            domain,
            if m.failover_services.is_empty() {
                "-".into()
            } else {
                m.failover_services.join("\n")
            },
            reach,
        ]);
    }
    format!("{t}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use smh_core::inspect::describe;
    use smh_core::model::topology::MultiClusterMode;
    use smh_core::testing::inspect::guide_snapshot;

    #[test]
    fn mesh_cluster_id_problems_render() {
        use smh_core::testing::inspect::set_secrets;
        let mut snap = guide_snapshot(MultiClusterMode::MultiPrimary);
        set_secrets(
            &mut snap,
            "remote-cluster",
            &[("istio-remote-secret-cluster1", "cluster1")],
        );
        // mgmt-cluster's remote secret for remote-cluster, made with the context name.
        set_secrets(
            &mut snap,
            "mgmt-cluster",
            &[("istio-remote-secret-remote-cluster", "remote-cluster")],
        );
        let text = meshes(&describe::meshes(&snap, None), None);
        assert!(text.contains("cluster ID cluster1"), "{text}");
        assert!(
            text.contains("error: mgmt-cluster: remote secret"),
            "{text}"
        );
    }

    #[test]
    fn failover_service_tables_have_the_rows() {
        let snap = guide_snapshot(MultiClusterMode::Global);
        let drift = snap.drift();
        let views = describe::failover_services(&snap, &drift, None, None);
        let text = failover_services(&describe::cluster_rows(&snap), &views, None);
        for needle in [
            "FailoverService service-mesh-hub/reviews-failover",
            "Hostname: reviews-failover.bookinfo.global",
            "Port: 9080 (http)",
            "istiod-istio-system-mgmt-cluster.service-mesh-hub",
            "ACCEPTED",
            "generation 1 observed",
            "2/2 ready",
            "1/1 ready",
            "consecutive5xxErrors 1",
            "maxEjectionPercent 100",
            "from DestinationRule istio-system/reviews-bookinfo-remote-cluster",
            "2 in sync",
            "EnvoyFilter istio-system/reviews-failover",
            "No problems found.",
            "Topology choices:",
            "mgmt-cluster (management)",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        // Rows in priority order.
        let primary = text.find("│ 1 ").unwrap();
        let secondary = text.find("│ 2 ").unwrap();
        assert!(primary < secondary);
    }

    #[test]
    fn tables_wrap_to_the_width() {
        let snap = guide_snapshot(MultiClusterMode::Global);
        let drift = snap.drift();
        let views = describe::failover_services(&snap, &drift, None, None);
        let text = failover_services(&describe::cluster_rows(&snap), &views, Some(100));
        for line in text.lines().filter(|l| l.starts_with(['┌', '│', '└', '╞'])) {
            assert!(
                line.chars().count() <= 100,
                "{} chars: {line}",
                line.chars().count()
            );
        }
        assert!(text.contains("2/2 ready"));
        let wide = failover_services(&describe::cluster_rows(&snap), &views, None);
        assert!(wide.lines().any(|l| l.chars().count() > 100));
    }

    #[test]
    fn problems_and_defaults_are_shown() {
        let mut snap = guide_snapshot(MultiClusterMode::Global);
        for o in snap.live.get_mut("mgmt-cluster").unwrap().as_mut().unwrap() {
            if o["metadata"]["name"] == "reviews-bookinfo-remote-cluster" {
                o["spec"]["trafficPolicy"]["outlierDetection"]
                    .as_object_mut()
                    .unwrap()
                    .remove("maxEjectionPercent");
            }
        }
        let drift = snap.drift();
        let views = describe::failover_services(&snap, &drift, None, None);
        let text = failover_service(&views[0], None);
        assert!(
            text.contains("maxEjectionPercent 10 (default) (below 100!)"),
            "{text}"
        );
        assert!(text.contains("Problems:\n  error: DestinationRule istio-system/reviews-bookinfo-remote-cluster in mgmt-cluster was changed: spec.trafficPolicy.outlierDetection.maxEjectionPercent\n  warning: backing service reviews.bookinfo@remote-cluster: maxEjectionPercent is 10"), "{text}");
    }

    #[test]
    fn meshes_and_policies_render() {
        let mut snap = guide_snapshot(MultiClusterMode::Global);
        snap.clusters.get_mut("remote-cluster").unwrap().error =
            Some("did not answer within 10s".into());
        let text = meshes(&describe::meshes(&snap, None), None);
        assert!(text.contains("istio-system/istiod"), "{text}");
        assert!(
            text.contains("unreachable: did not answer within 10s"),
            "{text}"
        );
        assert!(text.contains("service-mesh-hub/reviews-failover"), "{text}");
        let drift = snap.drift();
        let tps = describe::traffic_policies(&snap, &drift, Some("mgmt-reviews-outlier"), None);
        let text = traffic_policy(&tps[0], None);
        for needle in [
            "TrafficPolicy service-mesh-hub/mgmt-reviews-outlier",
            "kubeServiceRefs: reviews.bookinfo@mgmt-cluster",
            "reviews-bookinfo-remote-cluster.service-mesh-hub.",
            "DestinationRule bookinfo/reviews",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }
}
