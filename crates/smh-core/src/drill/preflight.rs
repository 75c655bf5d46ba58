//! Preflight: pure checks on facts the executor observed, before anything is changed. Each
//! refusal is a sentence saying what is wrong and what to do; a refused drill exits 1 with
//! nothing changed.
//!
//! Refused when:
//! - the FailoverService is not ACCEPTED, or its status is for an older generation;
//! - a generated object (ServiceEntry, EnvoyFilter, DestinationRule, VirtualService) is
//!   missing, was changed by someone else, or is out of date (as kubectl-smh applied it,
//!   but translation against the clusters as they are now produces something else);
//! - a backing service has no outlier detection, ejects on nothing, or has
//!   maxEjectionPercent below 100 (Envoy would eject too few of the primary's hosts for
//!   traffic to fail over);
//! - the primary, or every secondary, has no ready endpoints;
//! - a deployment to break still carries a restore plan from an earlier drill;
//! - in multi-primary mode, an Istio cluster-ID problem that `check` reports as an error
//!   concerns this FailoverService (its clients' remote secrets for a backing service's
//!   cluster, or a backing service's cluster ID): the subset failover goes to would select
//!   nothing (a warning is shown, not refused);
//! - the baseline probes do not come from the primary: fewer than 95% of the last 20
//!   answers (the plan's [`BaselineSpec`]) were classified primary.

use serde::Serialize;

use super::outlier::OutlierSettings;
use super::plan::{BaselineSpec, service_label};
use super::restore::RestorePlan;
use super::{Class, ProbeSample};
use crate::model::types::{ApprovalState, ClusterObjectRef, FailoverService};

/// State of one generated object, compared with what translation produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state", content = "detail")]
pub enum GeneratedState {
    /// In the cluster as kubectl-smh applied it.
    InSync,
    /// Not in the cluster.
    Missing,
    /// Changed by someone else, with a short description of the difference.
    Drifted(String),
    /// As kubectl-smh applied it, but the configuration now translates differently against
    /// the clusters as they are now (see `inspect::drift::DriftState::OutOfDate`).
    OutOfDate {
        /// The fields that differ.
        fields: Vec<String>,
        /// The configuration's errors now, if it no longer validates.
        invalid: Vec<String>,
    },
}

/// A generated object as deployed in one cluster, and how it stands: what preflight refuses on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployedObject {
    /// SMH cluster name.
    pub cluster: String,
    /// `EnvoyFilter istio-system/reviews-failover`.
    pub object: String,
    /// In sync, missing, drifted, or out of date.
    pub state: GeneratedState,
}

/// A problem with the Istio cluster IDs of multi-primary meshes that concerns the drilled
/// FailoverService: `check`'s finding and its fix, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterIdProblem {
    /// An error (the subsets would select nothing: refused), else a warning.
    pub error: bool,
    /// The finding and its fix, in one sentence.
    pub message: String,
}

/// What the executor found for one backing service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackingHealth {
    /// The backing service.
    pub service: ClusterObjectRef,
    /// The outlier detection that applies to it (from the DestinationRule clients use).
    pub outlier: Option<OutlierSettings>,
    /// Ready endpoint addresses of the Service in its cluster.
    pub ready_endpoints: u32,
}

/// Everything preflight judges.
#[derive(Debug, Clone, Copy)]
pub struct PreflightFacts<'a> {
    /// As read from the mgmt cluster, with its status.
    pub failover_service: &'a FailoverService,
    /// The generated objects of the FailoverService, as they stand in the clusters.
    pub generated: &'a [DeployedObject],
    /// Per backing service, in any order; a backing service without an entry counts as
    /// having no outlier detection and no endpoints.
    pub backing: &'a [BackingHealth],
    /// Restore plans found on the deployments to break.
    pub pending_restores: &'a [RestorePlan],
    /// Istio cluster-ID problems that concern this FailoverService.
    pub cluster_ids: &'a [ClusterIdProblem],
    /// Baseline probes, when already collected (the state machine checks them itself with
    /// [`check_baseline`]).
    pub baseline: Option<(&'a [ProbeSample], &'a BaselineSpec)>,
}

/// Refusals (any one stops the drill), warnings (what may go wrong, shown before the
/// confirmation) and notes (shown, not fatal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    /// Any one stops the drill; each says what to do.
    pub refusals: Vec<String>,
    /// What may go wrong, shown before the confirmation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Facts worth knowing, not fatal.
    pub notes: Vec<String>,
}

impl PreflightReport {
    /// True when nothing refuses the drill.
    pub fn passed(&self) -> bool {
        self.refusals.is_empty()
    }
}

/// Judge the facts.
pub fn check(facts: &PreflightFacts<'_>) -> PreflightReport {
    let mut r = PreflightReport::default();
    let fs = facts.failover_service;
    let name = fs.metadata.name.as_deref().unwrap_or("");
    let label = format!(
        "FailoverService {}/{name}",
        fs.metadata.namespace.as_deref().unwrap_or("")
    );
    check_status(&mut r, fs, name, &label);
    check_generated(&mut r, facts.generated, &label);
    // Istio cluster IDs (multi-primary): the subsets failover goes to must select the
    // backing services' endpoints.
    for p in facts.cluster_ids {
        if p.error {
            r.refusals.push(format!("Istio cluster IDs: {}", p.message));
        } else {
            r.warnings.push(format!("Istio cluster IDs: {}", p.message));
        }
    }

    // Backing services: outlier detection and endpoints.
    let services: Vec<&ClusterObjectRef> = fs
        .spec
        .backing_services
        .iter()
        .filter_map(|b| b.kube_service.as_ref())
        .collect();
    let health = |s: &ClusterObjectRef| facts.backing.iter().find(|b| &b.service == s);
    for s in &services {
        check_outlier(&mut r, s, health(s).and_then(|h| h.outlier.as_ref()));
    }
    check_endpoints(&mut r, &services, facts.backing);

    // Restores pending from earlier drills.
    for p in facts.pending_restores {
        r.refusals.push(format!(
            "deployment {} still carries the restore plan of drill {} (started {}): run `kubectl smh drill restore {}` first",
            p.deployment, p.drill_id, p.started_at, p.failover_service.name
        ));
    }

    if let Some((samples, spec)) = facts.baseline {
        match check_baseline(samples, spec) {
            Ok(note) => r.notes.push(note),
            Err(refusal) => r.refusals.push(refusal),
        }
    }
    r
}

/// The FailoverService's status: it must be ACCEPTED, for its current generation.
fn check_status(r: &mut PreflightReport, fs: &FailoverService, name: &str, label: &str) {
    match &fs.status {
        None => r.refusals.push(format!(
            "{label} has no status (PENDING): it was never applied by kubectl smh; run `kubectl smh apply -f FILE` with its manifest"
        )),
        Some(status) => {
            if status.state != ApprovalState::Accepted {
                let mut errors: Vec<String> = status.errors.clone();
                for (mesh, s) in &status.meshes {
                    errors.extend(s.errors.iter().map(|e| format!("{mesh}: {e}")));
                }
                let why = if errors.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", errors.join("; "))
                };
                r.refusals.push(format!(
                    "{label} is {}, not ACCEPTED{why}: fix it (see `kubectl smh describe failoverservice {name}`) and apply it again",
                    status.state.as_str()
                ));
            }
            if let Some(generation) = fs.metadata.generation
                && status.observed_generation < generation
            {
                r.refusals.push(format!(
                    "{label}'s status is for generation {} but its spec is at generation {generation}: run `kubectl smh apply` so the generated objects match the spec",
                    status.observed_generation
                ));
            }
        }
    }
}

/// The generated objects: each must be in the cluster as kubectl-smh applied it and as the
/// configuration translates now.
fn check_generated(r: &mut PreflightReport, generated: &[DeployedObject], label: &str) {
    for g in generated {
        match &g.state {
            GeneratedState::InSync => {}
            GeneratedState::Missing => r.refusals.push(format!(
                "{} in cluster {} is missing: run `kubectl smh apply` to regenerate it (`kubectl smh check` lists every generated object)",
                g.object, g.cluster
            )),
            GeneratedState::Drifted(detail) => r.refusals.push(format!(
                "{} in cluster {} has drifted from what {label} generates ({detail}): run `kubectl smh apply` to put it back",
                g.object, g.cluster
            )),
            GeneratedState::OutOfDate { fields, invalid } => r.refusals.push(format!(
                "{} in cluster {} is out of date: nobody changed it since kubectl-smh applied it, but the configuration translates differently against the clusters as they are now ({}), so the drill would not test what the configuration asks for; {}",
                g.object,
                g.cluster,
                fields.join(", "),
                crate::inspect::drift::out_of_date_advice(invalid)
            )),
        }
    }
}

/// One backing service's outlier detection: present, ejecting on something, allowed to
/// eject every host.
fn check_outlier(r: &mut PreflightReport, s: &ClusterObjectRef, outlier: Option<&OutlierSettings>) {
    let svc = service_label(s);
    match outlier {
        None => r.refusals.push(format!(
            "backing service {svc} has no outlier detection (no DestinationRule for it sets trafficPolicy.outlierDetection): Envoy would never eject a broken primary, so nothing fails over; apply a TrafficPolicy with outlierDetection that selects it (the guide's first step)"
        )),
        Some(od) => {
            if od.errors_to_eject().is_none() {
                r.refusals.push(format!(
                    "backing service {svc}: outlier detection ejects on nothing (consecutive5xxErrors is 0 and consecutiveGatewayErrors is unset; {}): set consecutiveErrors in its TrafficPolicy's outlierDetection",
                    od.source
                ));
            }
            let pct = od.effective_max_ejection_percent();
            if pct < 100 {
                let why = if od.max_ejection_percent.is_none() {
                    " (Istio's default, as it is unset)"
                } else {
                    ""
                };
                r.refusals.push(format!(
                    "backing service {svc}: maxEjectionPercent is {pct}{why} in {}: Envoy ejects at most {pct}% of the hosts, so with few hosts a broken primary keeps receiving traffic; set maxEjectionPercent: 100 in its TrafficPolicy's outlierDetection",
                    od.source
                ));
            }
            if od.split_external_local_origin_errors {
                r.notes.push(format!(
                    "backing service {svc}: splitExternalLocalOriginErrors is on, so connect failures count toward consecutiveLocalOriginFailures, not consecutive5xxErrors"
                ));
            }
        }
    }
}

/// Ready endpoints: the primary must have some, and at least one secondary.
fn check_endpoints(
    r: &mut PreflightReport,
    services: &[&ClusterObjectRef],
    backing: &[BackingHealth],
) {
    let health = |s: &ClusterObjectRef| backing.iter().find(|b| &b.service == s);
    if let Some(primary) = services.first() {
        if health(primary).is_none_or(|h| h.ready_endpoints == 0) {
            r.refusals.push(format!(
                "the primary {} has no ready endpoints: there is nothing to fail over from; check its pods (`kubectl -n {} get pods`) in cluster {}",
                service_label(primary),
                primary.namespace,
                primary.cluster_name
            ));
        }
        let secondaries = &services[1..];
        let empty: Vec<&&ClusterObjectRef> = secondaries
            .iter()
            .filter(|s| health(s).is_none_or(|h| h.ready_endpoints == 0))
            .collect();
        if !secondaries.is_empty() && empty.len() == secondaries.len() {
            let names: Vec<String> = empty.iter().map(|s| service_label(s)).collect();
            r.refusals.push(format!(
                "the secondary {} has no ready endpoints: failover would have nowhere to go; check its pods (`kubectl -n {} get pods`) in cluster {}",
                names.join(", "),
                secondaries[0].namespace,
                secondaries[0].cluster_name
            ));
        } else {
            for s in empty {
                r.notes.push(format!(
                    "secondary {} has no ready endpoints; failover skips it",
                    service_label(s)
                ));
            }
        }
    }
}

/// Judge the last `spec.probes` baseline samples: `Ok(note)` or `Err(refusal)`.
pub(crate) fn check_baseline(
    samples: &[ProbeSample],
    spec: &BaselineSpec,
) -> Result<String, String> {
    let n = spec.probes;
    if samples.len() < n {
        return Err(format!(
            "baseline: only {} of {n} probes answered within {}: check that the probe target answers (--probe-workload, --probe-port, --probe-path)",
            samples.len(),
            super::human(spec.timeout)
        ));
    }
    let last = &samples[samples.len() - n..];
    let count = |c: Class| last.iter().filter(|s| s.class == c).count();
    let (primary, failed_over, errors) = (
        count(Class::Primary),
        count(Class::FailedOver),
        count(Class::Error),
    );
    let pct = 100.0 * primary as f64 / n as f64;
    if pct >= spec.min_primary_percent {
        return Ok(format!(
            "baseline: {primary} of the last {n} answers came from the primary"
        ));
    }
    let mut reasons: Vec<(usize, &str)> = Vec::new();
    for s in last.iter().filter(|s| s.class == Class::Error) {
        let r = s.reason.as_deref().unwrap_or("unknown");
        match reasons.iter_mut().find(|(_, x)| *x == r) {
            Some(e) => e.0 += 1,
            None => reasons.push((1, r)),
        }
    }
    reasons.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let top = reasons
        .first()
        .map(|(_, r)| format!(", mostly {r:?}"))
        .unwrap_or_default();
    let hint = if failed_over >= errors {
        "traffic already goes to a secondary: is the primary healthy, or still ejected after an earlier drill (wait for baseEjectionTime)?"
    } else {
        "check that the probe reaches the service through the FailoverService (the traffic-shift TrafficPolicy) and that the answers match the classification (--expect-primary, --expect-failover)"
    };
    Err(format!(
        "baseline: only {primary} of the last {n} answers came from the primary ({pct:.0}%; {failed_over} failed over, {errors} error{top}); the drill needs at least {}% before it breaks anything: {hint}",
        spec.min_primary_percent
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::drill::{DeploymentRef, restore::SavedContainer};
    use crate::model::types::{FailoverServiceStatus, ValidationStatus};
    use crate::testing::drill::ctx;
    use crate::testing::drill::mk_fs;
    use crate::testing::drill::stream;

    fn accepted() -> FailoverService {
        let mut fs = mk_fs();
        fs.status = Some(FailoverServiceStatus {
            observed_generation: 1,
            state: ApprovalState::Accepted,
            ..Default::default()
        });
        fs
    }

    fn good_od(source: &str) -> OutlierSettings {
        OutlierSettings {
            source: source.into(),
            consecutive_5xx_errors: Some(1),
            max_ejection_percent: Some(100),
            ..Default::default()
        }
    }

    fn backing(fs: &FailoverService) -> Vec<BackingHealth> {
        fs.spec
            .backing_services
            .iter()
            .map(|b| BackingHealth {
                service: b.kube_service.clone().unwrap(),
                outlier: Some(good_od("DestinationRule")),
                ready_endpoints: 2,
            })
            .collect()
    }

    fn run(
        fs: &FailoverService,
        backing: &[BackingHealth],
        generated: &[DeployedObject],
    ) -> PreflightReport {
        check(&PreflightFacts {
            failover_service: fs,
            generated,
            backing,
            pending_restores: &[],
            cluster_ids: &[],
            baseline: None,
        })
    }

    #[test]
    fn healthy_setup_passes() {
        let fs = accepted();
        let r = run(
            &fs,
            &backing(&fs),
            &[DeployedObject {
                cluster: "mgmt-cluster".into(),
                object: "EnvoyFilter istio-system/reviews-failover".into(),
                state: GeneratedState::InSync,
            }],
        );
        assert!(r.passed(), "{r:#?}");
    }

    #[test]
    fn cluster_id_errors_refuse_and_warnings_are_shown() {
        let fs = accepted();
        let problems = [
            ClusterIdProblem {
                error: true,
                message: "mgmt-cluster: remote secret x is keyed \"remote-cluster\"; recreate it"
                    .into(),
            },
            ClusterIdProblem {
                error: false,
                message: "remote-cluster: Istio's cluster ID could not be read; set it".into(),
            },
        ];
        let b = backing(&fs);
        let r = check(&PreflightFacts {
            failover_service: &fs,
            generated: &[],
            backing: &b,
            pending_restores: &[],
            cluster_ids: &problems,
            baseline: None,
        });
        assert_eq!(
            r.refusals,
            [
                "Istio cluster IDs: mgmt-cluster: remote secret x is keyed \"remote-cluster\"; recreate it"
            ]
        );
        assert_eq!(
            r.warnings,
            ["Istio cluster IDs: remote-cluster: Istio's cluster ID could not be read; set it"]
        );
        // A warning alone does not refuse.
        let r = check(&PreflightFacts {
            failover_service: &fs,
            generated: &[],
            backing: &b,
            pending_restores: &[],
            cluster_ids: &problems[1..],
            baseline: None,
        });
        assert!(r.passed(), "{r:#?}");
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn not_accepted_or_stale() {
        let mut fs = accepted();
        fs.status = None;
        let r = run(&fs, &backing(&fs), &[]);
        assert_eq!(r.refusals.len(), 1);
        assert!(r.refusals[0].contains("has no status (PENDING)"), "{r:?}");

        let mut fs = accepted();
        let st = fs.status.as_mut().unwrap();
        st.state = ApprovalState::Invalid;
        st.meshes.insert(
            "istiod-istio-system-mgmt-cluster.service-mesh-hub.".into(),
            ValidationStatus {
                state: ApprovalState::Invalid,
                errors: vec!["Service reviews.bookinfo.remote-cluster does not have any TrafficPolicies that apply OutlierDetection settings.".into()],
                ..Default::default()
            },
        );
        let r = run(&fs, &backing(&fs), &[]);
        assert_eq!(
            r.refusals,
            [
                "FailoverService service-mesh-hub/reviews-failover is INVALID, not ACCEPTED (istiod-istio-system-mgmt-cluster.service-mesh-hub.: Service reviews.bookinfo.remote-cluster does not have any TrafficPolicies that apply OutlierDetection settings.): fix it (see `kubectl smh describe failoverservice reviews-failover`) and apply it again"
            ]
        );

        let mut fs = accepted();
        fs.metadata.generation = Some(2);
        let r = run(&fs, &backing(&fs), &[]);
        assert!(r.refusals[0].contains("generation 1 but its spec is at generation 2"));
    }

    #[test]
    fn out_of_date_objects_refuse_with_the_true_reason() {
        let fs = accepted();
        let out_of_date = |invalid: Vec<String>| DeployedObject {
            cluster: "mgmt-cluster".into(),
            object: "DestinationRule bookinfo/reviews".into(),
            state: GeneratedState::OutOfDate {
                fields: vec!["spec.trafficPolicy.outlierDetection".into()],
                invalid,
            },
        };
        let r = run(&fs, &backing(&fs), &[out_of_date(vec![])]);
        assert_eq!(
            r.refusals,
            [
                "DestinationRule bookinfo/reviews in cluster mgmt-cluster is out of date: nobody changed it since kubectl-smh applied it, but the configuration translates differently against the clusters as they are now (spec.trafficPolicy.outlierDetection), so the drill would not test what the configuration asks for; run `kubectl smh apply` to update it"
            ]
        );
        let r = run(
            &fs,
            &backing(&fs),
            &[out_of_date(vec!["TrafficPolicy service-mesh-hub/mgmt-reviews-outlier: spec.destinationSelector[0].kubeServiceRefs.services[1]: TrafficTarget reviews.bookinfo.remote-cluster not found".into()])],
        );
        assert_eq!(r.refusals.len(), 1);
        assert!(r.refusals[0].ends_with("the configuration is no longer valid: TrafficPolicy service-mesh-hub/mgmt-reviews-outlier: spec.destinationSelector[0].kubeServiceRefs.services[1]: TrafficTarget reviews.bookinfo.remote-cluster not found; fix the configuration or the clusters (`kubectl smh check` lists every error), as `kubectl smh apply` refuses invalid configuration"), "{:?}", r.refusals);
        assert!(!r.refusals[0].contains("drifted"));
    }

    #[test]
    fn drift_and_missing_objects() {
        let fs = accepted();
        let r = run(
            &fs,
            &backing(&fs),
            &[
                DeployedObject {
                    cluster: "mgmt-cluster".into(),
                    object: "ServiceEntry service-mesh-hub/reviews-failover".into(),
                    state: GeneratedState::Missing,
                },
                DeployedObject {
                    cluster: "mgmt-cluster".into(),
                    object: "EnvoyFilter istio-system/reviews-failover".into(),
                    state: GeneratedState::Drifted("spec.configPatches[1] differs".into()),
                },
            ],
        );
        assert_eq!(r.refusals.len(), 2);
        assert!(r.refusals[0].starts_with("ServiceEntry service-mesh-hub/reviews-failover in cluster mgmt-cluster is missing: run `kubectl smh apply`"));
        assert!(
            r.refusals[1].contains("has drifted")
                && r.refusals[1].contains("spec.configPatches[1] differs")
        );
    }

    #[test]
    fn outlier_detection_required_with_full_ejection() {
        let fs = accepted();
        let mut b = backing(&fs);
        b[1].outlier = None;
        let r = run(&fs, &b, &[]);
        assert_eq!(r.refusals.len(), 1);
        assert!(r.refusals[0].starts_with(
            "backing service reviews.bookinfo @ remote-cluster has no outlier detection"
        ));

        let mut b = backing(&fs);
        b[0].outlier.as_mut().unwrap().max_ejection_percent = None;
        b[1].outlier.as_mut().unwrap().max_ejection_percent = Some(50);
        let r = run(&fs, &b, &[]);
        assert_eq!(r.refusals.len(), 2);
        assert!(
            r.refusals[0].contains("maxEjectionPercent is 10 (Istio's default, as it is unset)")
        );
        assert!(r.refusals[1].contains("maxEjectionPercent is 50 in DestinationRule"));

        let mut b = backing(&fs);
        b[0].outlier.as_mut().unwrap().consecutive_5xx_errors = Some(0);
        let r = run(&fs, &b, &[]);
        assert!(r.refusals[0].contains("ejects on nothing"), "{r:?}");

        // A backing service the executor found nothing for.
        let r = run(&fs, &backing(&fs)[..1], &[]);
        assert!(
            r.refusals
                .iter()
                .any(|x| x.contains("remote-cluster has no outlier detection"))
        );
        assert!(r.refusals.iter().any(|x| x.starts_with(
            "the secondary reviews.bookinfo @ remote-cluster has no ready endpoints"
        )));
    }

    #[test]
    fn endpoints() {
        let fs = accepted();
        let mut b = backing(&fs);
        b[1].ready_endpoints = 0;
        let r = run(&fs, &b, &[]);
        assert_eq!(r.refusals.len(), 1);
        assert!(r.refusals[0].contains("failover would have nowhere to go"));

        let mut b = backing(&fs);
        b[0].ready_endpoints = 0;
        let r = run(&fs, &b, &[]);
        assert!(
            r.refusals[0]
                .starts_with("the primary reviews.bookinfo @ mgmt-cluster has no ready endpoints")
        );

        // Three backing services: one empty secondary is a note, not a refusal.
        let mut fs3 = accepted();
        let mut third = fs3.spec.backing_services[1].clone();
        third.kube_service.as_mut().unwrap().cluster_name = "third-cluster".into();
        fs3.spec.backing_services.push(third);
        let mut b = backing(&fs3);
        b[1].ready_endpoints = 0;
        let r = run(&fs3, &b, &[]);
        assert!(r.passed(), "{r:?}");
        assert_eq!(
            r.notes,
            [
                "secondary reviews.bookinfo @ remote-cluster has no ready endpoints; failover skips it"
            ]
        );
    }

    #[test]
    fn pending_restore_refuses() {
        let fs = accepted();
        let b = backing(&fs);
        let c = ctx();
        let pending = RestorePlan {
            version: 1,
            drill_id: "reviews-failover-20261101t080000z".into(),
            failover_service: c.failover_service,
            started_at: "2026-11-01T08:00:00Z".into(),
            deployment: DeploymentRef {
                cluster: "mgmt-cluster".into(),
                namespace: "bookinfo".into(),
                name: "reviews-v1".into(),
            },
            resource_version: None,
            scale: None,
            containers: vec![SavedContainer {
                name: "reviews".into(),
                command: None,
                args: None,
                broken: true,
            }],
        };
        let r = check(&PreflightFacts {
            failover_service: &fs,
            generated: &[],
            backing: &b,
            pending_restores: &[pending],
            cluster_ids: &[],
            baseline: None,
        });
        assert_eq!(
            r.refusals,
            [
                "deployment mgmt-cluster:bookinfo/reviews-v1 still carries the restore plan of drill reviews-failover-20261101t080000z (started 2026-11-01T08:00:00Z): run `kubectl smh drill restore reviews-failover` first"
            ]
        );
    }

    fn spec() -> BaselineSpec {
        BaselineSpec {
            probes: 20,
            min_primary_percent: 95.0,
            timeout: Duration::from_secs(30),
        }
    }

    #[test]
    fn baseline_from_the_primary() {
        let all = stream(0, 3_000, 100, |_| Class::Primary);
        assert_eq!(
            check_baseline(&all, &spec()),
            Ok("baseline: 20 of the last 20 answers came from the primary".into())
        );
        // 19 of 20 is exactly 95%.
        let one_bad = stream(0, 2_000, 100, |t| {
            if t == 500 {
                Class::Error
            } else {
                Class::Primary
            }
        });
        assert!(check_baseline(&one_bad, &spec()).is_ok());
        let two_bad = stream(0, 2_000, 100, |t| {
            if t == 500 || t == 700 {
                Class::Error
            } else {
                Class::Primary
            }
        });
        let err = check_baseline(&two_bad, &spec()).unwrap_err();
        assert_eq!(
            err,
            "baseline: only 18 of the last 20 answers came from the primary (90%; 0 failed over, 2 error, mostly \"HTTP 503\"); the drill needs at least 95% before it breaks anything: check that the probe reaches the service through the FailoverService (the traffic-shift TrafficPolicy) and that the answers match the classification (--expect-primary, --expect-failover)"
        );
        let red = stream(0, 2_000, 100, |_| Class::FailedOver);
        assert!(
            check_baseline(&red, &spec())
                .unwrap_err()
                .contains("traffic already goes to a secondary")
        );
        let few = stream(0, 500, 100, |_| Class::Primary);
        assert!(
            check_baseline(&few, &spec())
                .unwrap_err()
                .starts_with("baseline: only 5 of 20 probes answered within 30.0s")
        );
        // Only the last N count: an early warm-up error is forgiven.
        let warm = stream(0, 2_500, 100, |t| {
            if t < 300 {
                Class::Error
            } else {
                Class::Primary
            }
        });
        assert!(check_baseline(&warm, &spec()).is_ok());
    }

    #[test]
    fn baseline_through_check() {
        let fs = accepted();
        let b = backing(&fs);
        let s = spec();
        let red = stream(0, 2_000, 100, |_| Class::FailedOver);
        let r = check(&PreflightFacts {
            failover_service: &fs,
            generated: &[],
            backing: &b,
            pending_restores: &[],
            cluster_ids: &[],
            baseline: Some((&red, &s)),
        });
        assert_eq!(r.refusals.len(), 1);
        assert!(r.refusals[0].starts_with("baseline: only 0 of the last 20"));
    }
}
