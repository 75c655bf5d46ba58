//! The native strategy on real istiod (the oracle): the request from productpage's sidecar
//! routes to the FailoverService's subset of reviews, whose EDS puts the primary cluster's
//! endpoints at priority 0 and the secondary's at priority 1, for a caller in the primary's
//! cluster and for one in the secondary's own cluster, and the request reaches the primary's
//! pods, then, once they are unready, the secondary's; the priorities need outlier detection
//! (without it istiod sets none).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::support::{self, Set};

const SUBSET_CLUSTER: &str =
    "outbound|9080|failover-reviews-failover-service-mesh-hub|reviews.bookinfo.svc.cluster.local";

/// `(priority, workload)` of every endpoint of the routed cluster, before any is unhealthy.
fn priorities(out: &Value) -> Vec<(u64, String)> {
    let before = &out["simulation"]["before"];
    assert_eq!(before["cluster"], SUBSET_CLUSTER, "{before:#}");
    let mut v: Vec<(u64, String)> = before["path"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["priority"].as_u64().unwrap(),
                e["workload"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn levels(v: &[(u64, String)]) -> Vec<(u64, &str)> {
    v.iter()
        .map(|(p, w)| (*p, w.split('/').next().unwrap().trim_start_matches("pod ")))
        .collect()
}

/// The routed cluster has outlier detection (the guide's: 1 consecutive 5xx) and no
/// EnvoyFilter was needed; every endpoint of mgmt-cluster is at priority 0, every one of
/// remote-cluster at 1.
fn check_primary_first(set: &Set) -> Value {
    let out = support::oracle(set);
    let c = support::clusters(&out)
        .into_iter()
        .find(|c| c["name"] == SUBSET_CLUSTER)
        .cloned()
        .unwrap_or_else(|| panic!("{}: no cluster {SUBSET_CLUSTER}", set.name));
    assert_eq!(
        c["outlier_detection"]["consecutive_5xx"], 1,
        "{}: {c:#}",
        set.name
    );
    assert!(
        support::clusters(&out)
            .iter()
            .all(|c| support::children(c).is_none()),
        "{}: an aggregate cluster in the native translation",
        set.name
    );
    let p = priorities(&out);
    let l = levels(&p);
    assert!(
        l.iter().any(|x| x.1 == "mgmt-cluster") && l.iter().any(|x| x.1 == "remote-cluster"),
        "{}: {p:?}",
        set.name
    );
    for (prio, cluster) in l {
        let want = if cluster == "mgmt-cluster" { 0 } else { 1 };
        assert_eq!(prio, want, "{}: {p:?}", set.name);
    }
    // The request reaches the priority-0 level, mgmt-cluster's pods; once they are unready,
    // the priority-1 level, remote-cluster's.
    let sim = &out["simulation"];
    let reached = |when: &str| -> Vec<String> {
        let mut v: Vec<String> = sim[when]["reached"]["endpoints"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: nothing reached {when}: {sim:#}", set.name))
            .iter()
            .map(|e| e["workload"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let in_cluster = |pods: &[String], cluster: &str| {
        !pods.is_empty()
            && pods
                .iter()
                .all(|p| p.starts_with(&format!("pod {cluster}/bookinfo/reviews-")))
    };
    let before = reached("before");
    assert!(
        in_cluster(&before, "mgmt-cluster"),
        "{}: {before:?}",
        set.name
    );
    assert_eq!(
        sim["unhealthy"].as_array().unwrap().len(),
        before.len(),
        "{sim:#}"
    );
    let after = reached("after");
    assert!(
        in_cluster(&after, "remote-cluster"),
        "{}: {after:?}",
        set.name
    );
    out
}

#[test]
fn native_puts_the_primary_first_for_a_caller_in_the_primary_cluster() {
    let Some(_) = support::istio_peers() else {
        return;
    };
    let out = check_primary_first(&support::GUIDE_MULTI_PRIMARY_NATIVE);
    assert_eq!(out["istioCluster"], "cluster1");
}

#[test]
fn native_puts_the_primary_first_for_a_caller_in_the_secondary_cluster() {
    let Some(_) = support::istio_peers() else {
        return;
    };
    let out = check_primary_first(&support::NATIVE_SECONDARY_CALLER);
    assert_eq!(out["istioCluster"], "cluster2");
}

/// The oracle on hand-edited objects (`edit` applied to the translation's YAML text), for
/// productpage in `set.cluster`.
fn oracle_edited(peers: &Path, set: &Set, edit: impl Fn(&str) -> String) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let objects = support::translated(set, dir.path());
    let text = std::fs::read_to_string(&objects).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changed nothing");
    std::fs::write(&objects, edited).unwrap();
    let out = Command::new(peers.join("istio-oracle"))
        .args(["-test.run", "^TestOracle$", "-oracle.objects"])
        .arg(&objects)
        .arg("-oracle.topology")
        .arg(support::repo_path(set.topology))
        .args(["-oracle.cluster", set.cluster])
        .output()
        .expect("istio-oracle runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the oracle prints JSON")
}

/// Why the outlier detection is there: without any, istiod ignores failoverPriority and
/// every endpoint is at priority 0.
#[test]
fn without_outlier_detection_istiod_sets_no_priorities() {
    let Some(peers) = support::istio_peers() else {
        return;
    };
    let out = oracle_edited(&peers, &support::GUIDE_MULTI_PRIMARY_NATIVE, |t| {
        let mut out = String::new();
        let mut skip = 0usize;
        for line in t.lines() {
            let indent = line.len() - line.trim_start().len();
            if skip > 0 && indent > skip {
                continue;
            }
            skip = 0;
            if line.trim_start() == "outlierDetection:" {
                skip = indent;
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    });
    let p = priorities(&out);
    assert!(p.len() >= 3, "{p:?}");
    assert!(p.iter().all(|(prio, _)| *prio == 0), "{p:?}");
}
