//! `check`'s checks: `meshctl check`'s, as they apply to a tool with no controller, plus
//! drift, failover readiness and lint. Pure: a [`Snapshot`] in, a [`CheckReport`] out.
//!
//! | category | check | fails when |
//! |---|---|---|
//! | Kubernetes API | every cluster answers | a cluster is unreachable, refuses, or its name has no context |
//! | SMH CRDs | the CRDs are served by the management cluster | (the load itself fails; see [`crds_missing_report`]) |
//! | SMH CRDs | every stored object can be read | a stored object is not SMH v1alpha2 as kubectl-smh knows it |
//! | Istio | istiod is available in every cluster the configuration names | no istiod Deployment, or none of its replicas available (meshctl's rule: `availableReplicas ≥ 1`) |
//! | Istio | Istio's networking API is served | `networking.istio.io` is not served |
//! | Istio | (only with a mesh in multi-primary mode) Istio cluster IDs are known, unique and match the remote secrets | an ID is used by two clusters, or a remote secret for another cluster is keyed by something else than its ID (warnings: an unreadable ID, a missing remote secret that no generated subset needs); see [`super::cluster_id`] |
//! | Management configuration | SMH networking configuration resources are in a valid state | an object is not `ACCEPTED`, or `observedGeneration != generation` (meshctl's message format) |
//! | Management configuration | the configuration is still valid against the clusters | an `ACCEPTED` object no longer validates against the live topology (there is no controller to notice) |
//! | Generated configuration | every generated object is present and unmodified | drift: missing, modified, or not checkable |
//! | Generated configuration | no leftover generated objects | a live object with our labels that nothing generates |
//! | Failover readiness | FailoverService NS/NAME can fail over | a backing service is missing, has no outlier detection, or the secondaries have no ready endpoints (warnings: maxEjectionPercent below 100, one secondary empty) |
//! | Lint | no lint warnings | (warns) `model::validate`'s warnings on the stored objects and the live topology |
//!
//! Warnings do not fail the report unless `strict`.

use std::collections::BTreeSet;

use serde::Serialize;

use super::describe;
use super::drift::{Drift, DriftState};
use super::snapshot::Snapshot;
use crate::model::diag::Severity;
use crate::model::report::dedupe_for_display;
use crate::model::types::{ApprovalState, FailoverService, TrafficPolicy};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The check held.
    Pass,
    /// Something could not be checked, or works less well than it could; fails only with
    /// `--strict`.
    Warn,
    /// The check failed: `check` exits 1.
    Fail,
    /// Nothing to check.
    Skipped,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    /// What is checked, in words.
    pub description: String,
    /// How the check came out.
    pub status: Status,
    /// What failed (or, for a passed check, details worth showing).
    pub messages: Vec<String>,
    /// What to do about a failure or warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl CheckResult {
    fn new(description: impl Into<String>) -> Self {
        CheckResult {
            description: description.into(),
            status: Status::Pass,
            messages: Vec::new(),
            hint: None,
        }
    }

    fn fail(mut self, message: impl Into<String>) -> Self {
        self.status = Status::Fail;
        self.messages.push(message.into());
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    fn skipped(mut self, why: impl Into<String>) -> Self {
        self.status = Status::Skipped;
        self.messages.push(why.into());
        self
    }
}

/// A category of checks, printed under a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    /// The category's header (`Kubernetes API`, `SMH CRDs`, `Istio`, ...).
    pub name: String,
    /// Its checks, in the order they ran.
    pub checks: Vec<CheckResult>,
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failed: usize,
    /// Checks that warned.
    pub warnings: usize,
    /// Checks skipped (nothing to check).
    pub skipped: usize,
}

/// The whole report; `-o json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// No failure (and, with `strict`, no warning).
    pub success: bool,
    /// `--strict`: warnings count as failures.
    pub strict: bool,
    /// Counts per status.
    pub summary: Summary,
    /// The checks by category, in the order they ran.
    pub categories: Vec<Category>,
}

impl CheckReport {
    fn new(categories: Vec<Category>, strict: bool) -> Self {
        let mut summary = Summary::default();
        for c in categories.iter().flat_map(|c| c.checks.iter()) {
            match c.status {
                Status::Pass => summary.passed += 1,
                Status::Fail => summary.failed += 1,
                Status::Warn => summary.warnings += 1,
                Status::Skipped => summary.skipped += 1,
            }
        }
        CheckReport {
            success: summary.failed == 0 && !(strict && summary.warnings > 0),
            strict,
            summary,
            categories,
        }
    }
}

/// How to check.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Warnings fail the report.
    pub strict: bool,
}

/// Run every check on a snapshot. `drift` is [`Snapshot::drift`].
pub fn run_checks(snap: &Snapshot, drift: &[Drift], opts: CheckOptions) -> CheckReport {
    let categories = vec![
        Category {
            name: "Kubernetes API".into(),
            checks: vec![clusters_answer(snap)],
        },
        Category {
            name: "SMH CRDs".into(),
            checks: vec![crds_served(snap), objects_readable(snap)],
        },
        Category {
            name: "Istio".into(),
            checks: {
                let mut checks = vec![istiod_available(snap), istio_api_served(snap)];
                checks.extend(cluster_ids(snap));
                checks
            },
        },
        Category {
            name: "Management configuration".into(),
            checks: vec![approval_states(snap), still_valid(snap)],
        },
        Category {
            name: "Generated configuration".into(),
            checks: vec![in_sync(drift), no_leftovers(snap, drift)],
        },
        Category {
            name: "Failover readiness".into(),
            checks: readiness(snap, drift),
        },
        Category {
            name: "Lint".into(),
            checks: vec![lint(snap)],
        },
    ];
    CheckReport::new(categories, opts.strict)
}

/// The report when the management cluster answers but does not serve the SMH CRDs: the
/// first two categories, the rest skipped. `version` is the management cluster's Kubernetes
/// version when it could be read.
pub fn crds_missing_report(
    mgmt: &str,
    version: Option<&str>,
    error: &str,
    opts: CheckOptions,
) -> CheckReport {
    let api = CheckResult::new(format!(
        "every cluster answers: {mgmt}{}",
        version
            .map(|v| format!(" (Kubernetes {v})"))
            .unwrap_or_default()
    ));
    let crds = CheckResult::new("the SMH CRDs are served by the management cluster")
        .fail(error)
        .hint("install them with \"kubectl smh install\"");
    let skipped = |d: &str| CheckResult::new(d).skipped("needs the SMH CRDs");
    CheckReport::new(
        vec![
            Category {
                name: "Kubernetes API".into(),
                checks: vec![api],
            },
            Category {
                name: "SMH CRDs".into(),
                checks: vec![crds],
            },
            Category {
                name: "Management configuration".into(),
                checks: vec![skipped(
                    "SMH networking configuration resources are in a valid state",
                )],
            },
        ],
        opts.strict,
    )
}

fn clusters_answer(snap: &Snapshot) -> CheckResult {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for c in describe::cluster_rows(snap) {
        let view = &snap.clusters[&c.name];
        match &c.error {
            Some(e) => {
                let stale = view
                    .stale_since
                    .as_ref()
                    .map(|t| format!(" (its topology from the cache, discovered {t}, stands in)"))
                    .unwrap_or_default();
                failed.push(format!("{}: {e}{stale}", c.name));
            }
            None => ok.push(match view.facts.as_ref() {
                Some(f) => format!("{} (Kubernetes {})", c.name, f.kubernetes_version),
                None => c.name.clone(),
            }),
        }
    }
    let mut r = CheckResult::new(if ok.is_empty() {
        "every cluster answers".to_string()
    } else {
        format!("every cluster answers: {}", ok.join(", "))
    });
    if !failed.is_empty() {
        r.description = "every cluster answers".into();
        for f in failed {
            r = r.fail(f);
        }
        r = r.hint("check the contexts (\"kubectl smh cluster list\" shows which context serves each cluster) or raise --request-timeout");
    }
    r
}

fn crds_served(snap: &Snapshot) -> CheckResult {
    let version = snap
        .mgmt()
        .and_then(|m| m.facts.as_ref())
        .and_then(|f| f.smh_api_version.clone())
        .unwrap_or_else(|| crate::consts::SMH_VERSION.to_string());
    CheckResult::new(format!(
        "the SMH CRDs are served by the management cluster ({}/{version})",
        crate::consts::SMH_GROUP
    ))
}

fn objects_readable(snap: &Snapshot) -> CheckResult {
    let mut r = CheckResult::new(format!(
        "every stored object can be read ({} FailoverService{}, {} TrafficPolic{})",
        snap.failover_services.len(),
        if snap.failover_services.len() == 1 {
            ""
        } else {
            "s"
        },
        snap.traffic_policies.len(),
        if snap.traffic_policies.len() == 1 {
            "y"
        } else {
            "ies"
        },
    ));
    for u in &snap.unreadable {
        r = r.fail(u.clone());
    }
    if r.status == Status::Fail {
        r.description = "every stored object can be read".into();
        r = r.hint("fix or delete these objects with kubectl; kubectl-smh ignores them");
    }
    r
}

fn istiod_available(snap: &Snapshot) -> CheckResult {
    let named = snap.named_clusters();
    let mut r = CheckResult::new("istiod is available in every cluster the configuration names");
    if named.is_empty() {
        return r.skipped("no FailoverService or TrafficPolicy names a cluster");
    }
    let mut ok = Vec::new();
    for c in &named {
        let Some(view) = snap.clusters.get(c) else {
            r = r.fail(format!("{c}: not read"));
            continue;
        };
        if view.error.is_some() {
            r = r.fail(format!("{c}: not checked (the cluster could not be read)"));
            continue;
        }
        let mesh = snap.topology.cluster(c).and_then(|t| t.mesh.as_ref());
        match (mesh, &view.istiod, &view.istiod_error) {
            (None, _, _) => {
                r = r.fail(format!(
                    "{c}: no istiod Deployment (label app=istiod, or a name starting with istiod)"
                ))
            }
            (Some(_), _, Some(e)) => r = r.fail(format!("{c}: {e}")),
            (Some(m), None, None) => {
                r = r.fail(format!(
                    "{c}: Deployment {}/{} not found",
                    m.istiod_namespace, m.istiod_name
                ))
            }
            (Some(m), Some(a), None) if !a.is_available() => {
                r = r.fail(format!(
                    "{c}: Deployment {}/{} has {} of {} replicas available",
                    m.istiod_namespace, m.istiod_name, a.available, a.desired
                ))
            }
            (Some(m), Some(a), None) => ok.push(format!(
                "{c} ({}/{} {}, {}/{} available)",
                m.istiod_namespace, m.istiod_name, m.version, a.available, a.desired
            )),
        }
    }
    if r.status == Status::Fail {
        r = r.hint("check istiod with \"kubectl -n istio-system get deploy,pods\" in that cluster; without it, nothing kubectl-smh generates takes effect");
    } else {
        r.description = format!("{}: {}", r.description, ok.join(", "));
    }
    r
}

fn istio_api_served(snap: &Snapshot) -> CheckResult {
    let named = snap.named_clusters();
    let mut r = CheckResult::new("Istio's networking API (networking.istio.io) is served");
    if named.is_empty() {
        return r.skipped("no FailoverService or TrafficPolicy names a cluster");
    }
    for c in &named {
        match snap.clusters.get(c) {
            Some(v) if v.error.is_none() => {
                if v.facts
                    .as_ref()
                    .is_some_and(|f| f.istio_api_version.is_none())
                {
                    r = r.fail(format!(
                        "{c}: networking.istio.io is not served (Istio's CRDs are not installed)"
                    ));
                }
            }
            _ => r = r.fail(format!("{c}: not checked (the cluster could not be read)")),
        }
    }
    if r.status == Status::Fail {
        r = r.hint(
            "install Istio in that cluster (istioctl install), or remove it from the configuration",
        );
    }
    r
}

/// Istio cluster IDs and remote secrets, when some mesh is in multi-primary mode (the only
/// mode whose generated subsets select on cluster IDs).
fn cluster_ids(snap: &Snapshot) -> Option<CheckResult> {
    let ids: Vec<String> = snap
        .topology
        .clusters
        .iter()
        .filter_map(|c| {
            let m = c.mesh.as_ref()?;
            (m.mode == crate::model::topology::MultiClusterMode::MultiPrimary).then(|| {
                format!(
                    "{} {}",
                    c.name,
                    m.cluster_id.as_deref().unwrap_or("(unknown)")
                )
            })
        })
        .collect();
    if ids.is_empty() {
        return None;
    }
    let mut r = CheckResult::new(
        "Istio cluster IDs (multi-primary) are known, unique and match the remote secrets",
    );
    let mut hints: Vec<String> = Vec::new();
    for f in super::cluster_id::findings(snap) {
        match f.severity {
            Severity::Error => r = r.fail(f.message),
            Severity::Warning => {
                if r.status == Status::Pass {
                    r.status = Status::Warn;
                }
                r.messages.push(f.message);
            }
        }
        if !hints.contains(&f.hint) {
            hints.push(f.hint);
        }
    }
    if hints.is_empty() {
        r.description = format!("{}: {}", r.description, ids.join(", "));
    } else {
        r = r.hint(hints.join("; "));
    }
    Some(r)
}

fn approval_line(
    kind: &str,
    name: &str,
    ns: &str,
    state: ApprovalState,
    up_to_date: bool,
) -> Option<String> {
    // meshctl's format: `FailoverService name.ns: approval state is INVALID, observed
    // generation does not match generation`.
    let mut parts = Vec::new();
    if state != ApprovalState::Accepted {
        parts.push(format!("approval state is {}", state.as_str()));
    }
    if !up_to_date {
        parts.push("observed generation does not match generation".to_string());
    }
    (!parts.is_empty()).then(|| format!("{kind} {name}.{ns}: {}", parts.join(", ")))
}

fn approval_states(snap: &Snapshot) -> CheckResult {
    let mut r = CheckResult::new("SMH networking configuration resources are in a valid state");
    let mut kinds: BTreeSet<&str> = BTreeSet::new();
    for tp in &snap.traffic_policies {
        let (state, observed, errors) = match &tp.status {
            Some(s) => {
                let mut errors = s.errors.clone();
                for (k, t) in &s.traffic_targets {
                    errors.extend(t.errors.iter().map(|e| format!("{k}: {e}")));
                }
                (s.state, s.observed_generation, errors)
            }
            None => (ApprovalState::Pending, 0, Vec::new()),
        };
        let up = tp.metadata.generation.unwrap_or(0) == observed;
        if let Some(line) = approval_line(
            TrafficPolicy::KIND,
            tp.metadata.name.as_deref().unwrap_or_default(),
            tp.metadata.namespace.as_deref().unwrap_or_default(),
            state,
            up,
        ) {
            r = r.fail(line);
            r.messages
                .extend(errors.into_iter().map(|e| format!("  {e}")));
            kinds.insert("trafficpolicies");
        }
    }
    for fs in &snap.failover_services {
        let (state, observed, errors) = match &fs.status {
            Some(s) => {
                let mut errors = s.errors.clone();
                for (k, m) in &s.meshes {
                    errors.extend(m.errors.iter().map(|e| format!("{k}: {e}")));
                }
                (s.state, s.observed_generation, errors)
            }
            None => (ApprovalState::Pending, 0, Vec::new()),
        };
        let up = fs.metadata.generation.unwrap_or(0) == observed;
        if let Some(line) = approval_line(
            FailoverService::KIND,
            fs.metadata.name.as_deref().unwrap_or_default(),
            fs.metadata.namespace.as_deref().unwrap_or_default(),
            state,
            up,
        ) {
            r = r.fail(line);
            r.messages
                .extend(errors.into_iter().map(|e| format!("  {e}")));
            kinds.insert("failoverservices");
        }
    }
    if !kinds.is_empty() {
        let kinds: Vec<&str> = kinds.into_iter().collect();
        r = r.hint(format!(
            "check the status of SMH networking resources with \"kubectl get {} -Aoyaml\"; fix them and run \"kubectl smh apply\"",
            kinds.join(",")
        ));
    }
    r
}

fn still_valid(snap: &Snapshot) -> CheckResult {
    let mut r = CheckResult::new(
        "the accepted configuration is still valid against the clusters as they are now",
    );
    let errors = accepted_errors(snap);
    for d in dedupe_for_display(&errors) {
        r = r.fail(diag_line(d));
    }
    if r.status == Status::Fail {
        r = r.hint("the clusters changed since the last apply (a service, its sidecars, a mesh or a waypoint is gone, or a label or setting it needs changed: each message says which); fix the configuration or the clusters, then run \"kubectl smh apply\"");
    }
    r
}

/// The errors of the stored objects that are ACCEPTED, validated against the clusters as
/// they are now: what no longer holds since they were applied (no controller notices).
pub(crate) fn accepted_errors(snap: &Snapshot) -> Vec<crate::model::Diagnostic> {
    let accepted = |kind: &str, ns: &str, name: &str| -> bool {
        let is = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
            m.namespace.as_deref() == Some(ns) && m.name.as_deref() == Some(name)
        };
        match kind {
            "FailoverService" => snap.failover_services.iter().any(|f| {
                is(&f.metadata)
                    && f.status
                        .as_ref()
                        .is_some_and(|s| s.state == ApprovalState::Accepted)
            }),
            "TrafficPolicy" => snap.traffic_policies.iter().any(|t| {
                is(&t.metadata)
                    && t.status
                        .as_ref()
                        .is_some_and(|s| s.state == ApprovalState::Accepted)
            }),
            _ => false,
        }
    };
    snap.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .filter(|d| {
            d.object
                .as_ref()
                .is_some_and(|o| accepted(&o.kind, &o.namespace, &o.name))
        })
        .cloned()
        .collect()
}

/// A diagnostic on a stored object, without its source (the object says where it is):
/// `FailoverService ns/name: spec.field: message`.
fn diag_line(d: &crate::model::Diagnostic) -> String {
    let mut d = d.clone();
    if d.object.is_some() {
        d.source = None;
        d.position = None;
    }
    d.to_string()
}

fn in_sync(drift: &[Drift]) -> CheckResult {
    let expected: Vec<&Drift> = drift
        .iter()
        .filter(|d| d.state != DriftState::Unexpected)
        .collect();
    let mut r = CheckResult::new(format!(
        "every generated object is present and unmodified ({} object{})",
        expected.len(),
        if expected.len() == 1 { "" } else { "s" }
    ));
    if expected.is_empty() {
        return r.skipped("the configuration generates no object");
    }
    let mut fixable = false;
    let mut invalid = false;
    for d in &expected {
        if let Some(p) = d.problem() {
            match &d.state {
                DriftState::Missing | DriftState::Modified { .. } => fixable = true,
                DriftState::OutOfDate { invalid: i, .. } => {
                    fixable |= i.is_empty();
                    invalid |= !i.is_empty();
                }
                _ => {}
            }
            r = r.fail(p);
        }
    }
    if r.status == Status::Fail {
        r.description = "every generated object is present and unmodified".into();
        if invalid {
            r = r.hint("objects out of date were not changed by anyone: the clusters changed, and the configuration no longer validates against them (see \"the accepted configuration is still valid\" above); fix the configuration or the clusters, then run \"kubectl smh apply\"");
        } else if fixable {
            r = r.hint("run \"kubectl smh apply\" with your manifests to put them back (fields another field manager added stay until that manager or you remove them); \"kubectl smh describe\" shows what each object is for");
        }
    }
    r
}

fn no_leftovers(snap: &Snapshot, drift: &[Drift]) -> CheckResult {
    let mut r = CheckResult::new("no leftover generated objects");
    for d in drift.iter().filter(|d| d.state == DriftState::Unexpected) {
        r = r.fail(format!(
            "{} carries kubectl-smh's labels but the stored configuration, as it validates now, does not generate it",
            d.key
        ));
    }
    if r.status == Status::Fail
        && let Some(scope) = &snap.smh_scope
    {
        // An SMH object in a namespace that could not be read may generate them.
        r.status = Status::Warn;
        r = r.hint(format!(
            "{scope}; an object there may generate them: run the check as a user who may list SMH objects in all namespaces"
        ));
    } else if r.status == Status::Fail {
        r = r.hint("\"kubectl smh apply\" deletes them: left over from objects deleted without kubectl-smh, or generated for objects that no longer validate (see the check above); until then they are Istio configuration nothing accounts for");
    }
    r
}

fn readiness(snap: &Snapshot, drift: &[Drift]) -> Vec<CheckResult> {
    let views = describe::failover_services(snap, drift, None, None);
    if views.is_empty() {
        return vec![
            CheckResult::new("every FailoverService can fail over")
                .skipped("there is no FailoverService"),
        ];
    }
    let id_findings = super::cluster_id::findings(snap);
    views
        .iter()
        .map(|fs| {
            let mut r = CheckResult::new(format!(
                "FailoverService {}/{} can fail over",
                fs.namespace, fs.name
            ));
            let mut problems = describe::backing_problems(&fs.backing_services);
            let clients: Vec<&str> = fs
                .meshes
                .iter()
                .filter_map(|m| m.cluster.as_deref())
                .collect();
            let services: Vec<_> = fs.backing_services.iter().map(|b| b.service()).collect();
            problems.extend(describe::cluster_id_problems(
                snap,
                &id_findings,
                &clients,
                &services,
            ));
            for m in fs.meshes.iter().filter(|m| m.cluster.is_none()) {
                problems.push(describe::Problem {
                    severity: Severity::Error,
                    message: format!(
                        "mesh {}.{} is not run by any cluster that answered",
                        m.name, m.namespace
                    ),
                });
            }
            problems.sort();
            for p in &problems {
                match p.severity {
                    Severity::Error => r = r.fail(p.message.clone()),
                    Severity::Warning => {
                        if r.status == Status::Pass {
                            r.status = Status::Warn;
                        }
                        r.messages.push(p.message.clone());
                    }
                }
            }
            if r.status != Status::Pass {
                r = r.hint(format!(
                    "\"kubectl smh describe fs {}\" shows each backing service",
                    fs.name
                ));
            }
            r
        })
        .collect()
}

fn lint(snap: &Snapshot) -> CheckResult {
    let mut r = CheckResult::new("no lint warnings");
    let warnings: Vec<_> = snap
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .cloned()
        .collect();
    for d in dedupe_for_display(&warnings) {
        r.status = Status::Warn;
        r.messages.push(diag_line(d));
    }
    if r.status == Status::Warn {
        r = r.hint("warnings do not fail the check unless --strict; \"kubectl smh validate\" explains them on your manifests");
    }
    r
}

#[cfg(test)]
mod tests;
