//! Assertions on what real istiod generates for productpage's sidecar from kubectl-smh's
//! objects: one aggregate cluster per FailoverService (and subset), its children in priority
//! order, each child with its endpoints and outlier detection, the route for reviews to the
//! failover host, and the request reaching the primary, then (primary's pods unready) the
//! secondary.

use serde_json::Value;

use super::support::{self, Set};

const REVIEWS_FAILOVER: &str = "outbound|9080||reviews-failover.bookinfo.global";
const REVIEWS_FAILOVER_V2: &str = "outbound|9080|version-v2|reviews-failover.bookinfo.global";
const ECHO_FAILOVER: &str = "outbound|8080||echo-failover.apps.global";
/// The remote cluster's ingress gateway as the oracle fabricates it (the simulator's address).
const GATEWAY: &str = "172.18.255.201:15443 HEALTHY";

/// Outlier detection: consecutive 5xx, interval (ms), base ejection time (ms), max ejection %.
type Od = (u64, u64, u64, u64);
/// The guide's TrafficPolicy.
const GUIDE_OD: Od = (1, 10_000, 30_000, 100);
/// examples/all-fields' outlier detection on reviews and echo.
const ALL_FIELDS_OD: Od = (3, 5_000, 60_000, 100);

struct Expect {
    set: &'static Set,
    /// Every aggregate cluster istiod's output must hold, with its children in order.
    aggregates: &'static [(&'static str, &'static [&'static str])],
    /// Every child: its endpoints and outlier detection.
    children: &'static [(&'static str, &'static [&'static str], Od)],
    /// The workloads the request reaches before and after the primary's pods are unready.
    before: &'static [&'static str],
    after: &'static [&'static str],
}

fn check(e: &Expect) {
    let Some(_) = support::istio_peers() else {
        return;
    };
    let out = support::oracle(e.set);
    let name = e.set.name;
    let clusters = support::clusters(&out);

    // Exactly the expected aggregates, each once, children in priority order.
    let mut aggregates: Vec<(String, Vec<String>)> = clusters
        .iter()
        .filter_map(|c| Some((c["name"].as_str()?.to_string(), support::children(c)?)))
        .collect();
    aggregates.sort();
    let mut want: Vec<(String, Vec<String>)> = e
        .aggregates
        .iter()
        .map(|(n, ch)| (n.to_string(), ch.iter().map(|s| s.to_string()).collect()))
        .collect();
    want.sort();
    assert_eq!(aggregates, want, "{name}: aggregate clusters");

    // Every child exists once, with its endpoints and outlier detection.
    for (child, eps, od) in e.children {
        let found: Vec<&&Value> = clusters.iter().filter(|c| c["name"] == *child).collect();
        assert_eq!(
            found.len(),
            1,
            "{name}: cluster {child} appears {} times",
            found.len()
        );
        let c = found[0];
        assert_eq!(
            support::endpoints(&out, c),
            eps.to_vec(),
            "{name}: endpoints of {child}"
        );
        let o = &c["outlier_detection"];
        let got = (
            o["consecutive_5xx"].as_u64().unwrap_or(5),
            support::duration_ms(&o["interval"]).unwrap_or(10_000),
            support::duration_ms(&o["base_ejection_time"]).unwrap_or(30_000),
            o["max_ejection_percent"].as_u64().unwrap_or(10),
        );
        assert!(o.is_object(), "{name}: {child} has no outlier detection");
        assert_eq!(got, *od, "{name}: outlier detection of {child}");
    }
    // Every aggregate's children are among the checked ones.
    for (agg, ch) in e.aggregates {
        for c in *ch {
            assert!(
                e.children.iter().any(|(n, _, _)| n == c),
                "{name}: child {c} of {agg} is not checked"
            );
        }
    }

    // The route for reviews goes to the failover host, then the primary, then the secondary.
    let primary = e.aggregates[0].1[0];
    let secondary = e.aggregates[0].1[1];
    for (when, want_cluster, want_workloads) in
        [("before", primary, e.before), ("after", secondary, e.after)]
    {
        let o = &out["simulation"][when];
        assert_eq!(o["error"], Value::Null, "{name} {when}: {o}");
        assert_eq!(
            o["virtualHost"], "reviews.bookinfo.svc.cluster.local:9080",
            "{name} {when}"
        );
        assert_eq!(
            o["cluster"], REVIEWS_FAILOVER,
            "{name} {when}: the route's cluster"
        );
        assert_eq!(o["reached"]["cluster"], want_cluster, "{name} {when}: {o}");
        let workloads: Vec<&str> = o["reached"]["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["workload"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            workloads, want_workloads,
            "{name} {when}: endpoints reached"
        );
    }
}

const MGMT_REVIEWS: &str = "outbound|9080||reviews.bookinfo.svc.cluster.local";
const REMOTE_REVIEWS: &str = "outbound|9080||reviews.bookinfo.svc.remote-cluster.global";
const MGMT_V1_V2: &[&str] = &[
    "pod mgmt-cluster/bookinfo/reviews-v1-0",
    "pod mgmt-cluster/bookinfo/reviews-v2-0",
];
const MGMT_REVIEWS_EPS: &[&str] = &["10.10.0.13:9080 HEALTHY", "10.10.0.14:9080 HEALTHY"];

#[test]
fn guide_global() {
    check(&Expect {
        set: &support::GUIDE_GLOBAL,
        aggregates: &[(REVIEWS_FAILOVER, &[MGMT_REVIEWS, REMOTE_REVIEWS])],
        children: &[
            (MGMT_REVIEWS, MGMT_REVIEWS_EPS, GUIDE_OD),
            (REMOTE_REVIEWS, &[GATEWAY], GUIDE_OD),
        ],
        before: MGMT_V1_V2,
        after: &["ingress gateway of remote-cluster"],
    });
}

#[test]
fn guide_multi_primary() {
    const MGMT: &str = "outbound|9080|cluster-mgmt-cluster|reviews.bookinfo.svc.cluster.local";
    const REMOTE: &str = "outbound|9080|cluster-remote-cluster|reviews.bookinfo.svc.cluster.local";
    check(&Expect {
        set: &support::GUIDE_MULTI_PRIMARY,
        aggregates: &[(REVIEWS_FAILOVER, &[MGMT, REMOTE])],
        children: &[
            (MGMT, MGMT_REVIEWS_EPS, GUIDE_OD),
            (REMOTE, &["10.11.0.11:9080 HEALTHY"], GUIDE_OD),
        ],
        before: MGMT_V1_V2,
        after: &["pod remote-cluster/bookinfo/reviews-v3-0"],
    });
}

const EAST_V1_V2: &[&str] = &[
    "pod east/bookinfo/reviews-v1-0",
    "pod east/bookinfo/reviews-v2-0",
];

#[test]
fn all_fields_global() {
    const WEST_REVIEWS: &str = "outbound|9080||reviews.bookinfo.svc.west.global";
    const EAST_V2: &str = "outbound|9080|version-v2|reviews.bookinfo.svc.cluster.local";
    const WEST_V2: &str = "outbound|9080|version-v2|reviews.bookinfo.svc.west.global";
    const ECHO_W8080: &str = "outbound|8080||echo.apps.svc.west.global";
    const ECHO_W9090: &str = "outbound|9090||echo.apps.svc.west.global";
    const ECHO_E8080: &str = "outbound|8080||echo.apps.svc.cluster.local";
    const ECHO_E9090: &str = "outbound|9090||echo.apps.svc.cluster.local";
    check(&Expect {
        set: &support::ALL_FIELDS_GLOBAL,
        aggregates: &[
            (REVIEWS_FAILOVER, &[MGMT_REVIEWS, WEST_REVIEWS]),
            (REVIEWS_FAILOVER_V2, &[EAST_V2, WEST_V2]),
            (
                ECHO_FAILOVER,
                &[ECHO_W8080, ECHO_W9090, ECHO_E8080, ECHO_E9090],
            ),
        ],
        children: &[
            (MGMT_REVIEWS, MGMT_REVIEWS_EPS, ALL_FIELDS_OD),
            (WEST_REVIEWS, &[GATEWAY], ALL_FIELDS_OD),
            (EAST_V2, &["10.10.0.14:9080 HEALTHY"], ALL_FIELDS_OD),
            (WEST_V2, &[GATEWAY], ALL_FIELDS_OD),
            (ECHO_W8080, &[GATEWAY], ALL_FIELDS_OD),
            (ECHO_W9090, &[GATEWAY], ALL_FIELDS_OD),
            (ECHO_E8080, &["10.10.0.15:8080 HEALTHY"], ALL_FIELDS_OD),
            (ECHO_E9090, &["10.10.0.15:9090 HEALTHY"], ALL_FIELDS_OD),
        ],
        before: EAST_V1_V2,
        after: &["ingress gateway of west"],
    });
}

#[test]
fn all_fields_multi_primary() {
    const EAST: &str = "outbound|9080|cluster-east|reviews.bookinfo.svc.cluster.local";
    const WEST: &str = "outbound|9080|cluster-west|reviews.bookinfo.svc.cluster.local";
    const EAST_V2: &str =
        "outbound|9080|version-v2-cluster-east|reviews.bookinfo.svc.cluster.local";
    const WEST_V2: &str =
        "outbound|9080|version-v2-cluster-west|reviews.bookinfo.svc.cluster.local";
    const ECHO_W8080: &str = "outbound|8080|cluster-west|echo.apps.svc.cluster.local";
    const ECHO_W9090: &str = "outbound|9090|cluster-west|echo.apps.svc.cluster.local";
    const ECHO_E8080: &str = "outbound|8080|cluster-east|echo.apps.svc.cluster.local";
    const ECHO_E9090: &str = "outbound|9090|cluster-east|echo.apps.svc.cluster.local";
    check(&Expect {
        set: &support::ALL_FIELDS_MULTI_PRIMARY,
        aggregates: &[
            (REVIEWS_FAILOVER, &[EAST, WEST]),
            (REVIEWS_FAILOVER_V2, &[EAST_V2, WEST_V2]),
            (
                ECHO_FAILOVER,
                &[ECHO_W8080, ECHO_W9090, ECHO_E8080, ECHO_E9090],
            ),
        ],
        children: &[
            (EAST, MGMT_REVIEWS_EPS, ALL_FIELDS_OD),
            (WEST, &["10.11.0.11:9080 HEALTHY"], ALL_FIELDS_OD),
            (EAST_V2, &["10.10.0.14:9080 HEALTHY"], ALL_FIELDS_OD),
            // west runs only reviews-v3: the v2 subset there selects nothing.
            (WEST_V2, &[], ALL_FIELDS_OD),
            (ECHO_W8080, &["10.11.0.12:8080 HEALTHY"], ALL_FIELDS_OD),
            (ECHO_W9090, &["10.11.0.12:9090 HEALTHY"], ALL_FIELDS_OD),
            (ECHO_E8080, &["10.10.0.15:8080 HEALTHY"], ALL_FIELDS_OD),
            (ECHO_E9090, &["10.10.0.15:9090 HEALTHY"], ALL_FIELDS_OD),
        ],
        before: EAST_V1_V2,
        after: &["pod west/bookinfo/reviews-v3-0"],
    });
}
