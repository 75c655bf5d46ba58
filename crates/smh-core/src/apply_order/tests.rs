//! The order of writes for the guide's FailoverService switching strategy, both ways, and a
//! check of every state a cluster can pass through while the writes of a phase land in any
//! order: every route names an Envoy cluster istiod generates.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;
use crate::model::topology::MultiClusterMode;
use crate::testing::inspect::guide_snapshot;
use crate::translate::{Strategy, TranslateOptions, translate_with};

type Key = (String, String, String); // kind, namespace, name

/// The guide's objects per cluster with `strategy` (multi-primary mode).
fn objects(strategy: Strategy) -> BTreeMap<String, BTreeMap<Key, Value>> {
    let snap = guide_snapshot(MultiClusterMode::MultiPrimary);
    let t = translate_with(
        &snap.manifests(),
        &snap.topology,
        TranslateOptions { strategy },
    );
    let mut out: BTreeMap<String, BTreeMap<Key, Value>> = BTreeMap::new();
    for g in &t.objects {
        let key = (
            g.kind().to_string(),
            g.namespace().to_string(),
            g.name().to_string(),
        );
        out.entry(g.cluster.clone())
            .or_default()
            .insert(key, g.to_value());
    }
    out
}

/// One cluster's steps from `live` to `desired`, as the cluster layer plans them.
struct Steps {
    keys: Vec<Key>,
    actions: Vec<StepKind>,
    desired: Vec<Option<Value>>,
    live: Vec<Option<Value>>,
}

impl Steps {
    fn between(live: &BTreeMap<Key, Value>, desired: &BTreeMap<Key, Value>) -> Steps {
        let mut s = Steps {
            keys: Vec::new(),
            actions: Vec::new(),
            desired: Vec::new(),
            live: Vec::new(),
        };
        for (k, d) in desired {
            let l = live.get(k);
            s.keys.push(k.clone());
            s.actions.push(match l {
                None => StepKind::Create,
                Some(l) if l == d => StepKind::Unchanged,
                Some(_) => StepKind::Configure,
            });
            s.desired.push(Some(d.clone()));
            s.live.push(l.cloned());
        }
        for (k, l) in live.iter().filter(|(k, _)| !desired.contains_key(*k)) {
            s.keys.push(k.clone());
            s.actions.push(StepKind::Prune);
            s.desired.push(None);
            s.live.push(Some(l.clone()));
        }
        s
    }

    fn inputs(&self) -> Vec<StepIn<'_>> {
        (0..self.keys.len())
            .map(|i| StepIn {
                kind: &self.keys[i].0,
                action: self.actions[i],
                desired: self.desired[i].as_ref(),
                live: self.live[i].as_ref(),
            })
            .collect()
    }

    /// `(phase, kind ns/name, interim?)` of every write.
    fn describe(&self, writes: &[PhasedWrite]) -> Vec<(usize, String, &'static str)> {
        writes
            .iter()
            .map(|w| {
                let (k, ns, n) = &self.keys[w.step];
                let what = match (&w.write, w.interim) {
                    (Write::Delete, _) => "delete",
                    (Write::Apply(_), true) => "apply, keeping old subsets",
                    (Write::Apply(_), false) => "apply",
                };
                (w.phase.number(), format!("{k} {ns}/{n}"), what)
            })
            .collect()
    }
}

fn names(dr: &Value) -> Vec<&str> {
    dr["spec"]["subsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

/// What a proxy in the cluster would lack with these objects: a route naming a subset no
/// DestinationRule defines (503 NC), an aggregate cluster whose child subset is not defined
/// (no host), or a ServiceEntry host routed neither by a VirtualService nor by an
/// aggregate cluster (istiod's own cluster for a DNS ServiceEntry without endpoints: no
/// host).
fn broken_routes(objects: &BTreeMap<Key, Value>) -> Vec<String> {
    let of = |kind: &'static str| {
        objects
            .iter()
            .filter(move |((k, ..), _)| k == kind)
            .map(|(_, v)| v)
    };
    let mut subsets: BTreeSet<(String, String)> = BTreeSet::new();
    for dr in of("DestinationRule") {
        let ns = dr["metadata"]["namespace"].as_str().unwrap();
        let host = dr["spec"]["host"].as_str().unwrap();
        let fq = if host.contains('.') {
            host.to_string()
        } else {
            format!("{host}.{ns}.svc.cluster.local")
        };
        for s in names(dr) {
            subsets.insert((fq.clone(), s.to_string()));
        }
    }
    let mut out = Vec::new();
    // Hosts that have a VirtualService, and hosts routed to without a subset (their own
    // Envoy cluster: istiod's, or the aggregate an EnvoyFilter puts in its place).
    let mut vs_hosts: BTreeSet<String> = BTreeSet::new();
    let mut reached: BTreeSet<String> = BTreeSet::new();
    for vs in of("VirtualService") {
        for h in vs["spec"]["hosts"].as_array().unwrap() {
            vs_hosts.insert(h.as_str().unwrap().to_string());
        }
        for route in vs["spec"]["http"].as_array().into_iter().flatten() {
            for d in route["route"].as_array().into_iter().flatten() {
                let host = d["destination"]["host"].as_str().unwrap();
                match d["destination"]["subset"].as_str() {
                    Some(subset) if !subsets.contains(&(host.to_string(), subset.to_string())) => {
                        out.push(format!("route to undefined subset {subset} of {host}"));
                    }
                    Some(_) => {}
                    None => {
                        reached.insert(host.to_string());
                    }
                }
            }
        }
    }
    let se_hosts: BTreeSet<String> = of("ServiceEntry")
        .flat_map(|se| se["spec"]["hosts"].as_array().unwrap().iter())
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    // A ServiceEntry host without a VirtualService: callers get its default route.
    reached.extend(se_hosts.difference(&vs_hosts).cloned());
    let mut aggregates: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for ef in of("EnvoyFilter") {
        for p in ef["spec"]["configPatches"].as_array().unwrap() {
            let Some(children) = p.pointer("/patch/value/cluster_type/typed_config/clusters")
            else {
                continue;
            };
            let name = p["patch"]["value"]["name"].as_str().unwrap();
            let children = children
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            let host = name.rsplit('|').next().unwrap().to_string();
            aggregates.insert(host, (name.to_string(), children));
        }
    }
    for host in &reached {
        match aggregates.get(host) {
            Some((name, children)) => {
                for c in children {
                    let parts: Vec<&str> = c.split('|').collect();
                    if !subsets.contains(&(parts[3].to_string(), parts[2].to_string())) {
                        out.push(format!("aggregate {name} lists undefined {c:?}"));
                    }
                }
            }
            // A DNS ServiceEntry without endpoints: istiod's cluster for it has no host.
            None if se_hosts.contains(host) => {
                out.push(format!(
                    "{host} is routed to its DNS cluster without endpoints"
                ));
            }
            None => {}
        }
    }
    out
}

/// Every state the cluster can be in while `writes` run phase by phase (each phase's writes
/// landing in any order), with the first one that breaks a route.
fn first_broken_state(
    live: &BTreeMap<Key, Value>,
    steps: &Steps,
    writes: &[PhasedWrite],
) -> Option<(usize, Vec<String>, Vec<String>)> {
    let apply = |state: &mut BTreeMap<Key, Value>, w: &PhasedWrite| {
        let key = steps.keys[w.step].clone();
        match &w.write {
            Write::Apply(v) => {
                state.insert(key, v.clone());
            }
            Write::Delete => {
                state.remove(&key);
            }
        }
    };
    let mut state = live.clone();
    let phases: BTreeSet<Phase> = writes.iter().map(|w| w.phase).collect();
    for phase in phases {
        let these: Vec<&PhasedWrite> = writes.iter().filter(|w| w.phase == phase).collect();
        assert!(these.len() < 16, "too many writes to try every subset");
        for mask in 0..(1u32 << these.len()) {
            let mut s = state.clone();
            let mut landed = Vec::new();
            for (i, w) in these.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    apply(&mut s, w);
                    landed.push(steps.describe(&[(*w).clone()])[0].1.clone());
                }
            }
            let broken = broken_routes(&s);
            if !broken.is_empty() {
                return Some((phase.number(), landed, broken));
            }
        }
        for w in these {
            apply(&mut state, w);
        }
    }
    None
}

/// The order before phases: every apply at once, then every delete.
fn unordered(steps: &Steps) -> Vec<PhasedWrite> {
    let mut out = Vec::new();
    for (i, a) in steps.actions.iter().enumerate() {
        let (phase, write) = match a {
            StepKind::Unchanged => continue,
            StepKind::Prune => (Phase::Prune, Write::Delete),
            _ => (
                Phase::Prepare,
                Write::Apply(steps.desired[i].clone().unwrap()),
            ),
        };
        out.push(PhasedWrite {
            step: i,
            phase,
            write,
            interim: false,
        });
    }
    out
}

#[test]
fn aggregate_to_native_adds_the_subset_switches_then_prunes() {
    let from = objects(Strategy::Aggregate);
    let to = objects(Strategy::Native);
    let mgmt = Steps::between(&from["mgmt-cluster"], &to["mgmt-cluster"]);
    let writes = order(&mgmt.inputs());
    assert_eq!(
        mgmt.describe(&writes),
        [
            (
                1,
                "DestinationRule bookinfo/reviews".to_string(),
                "apply, keeping old subsets"
            ),
            (2, "VirtualService bookinfo/reviews".into(), "apply"),
            (
                2,
                "VirtualService service-mesh-hub/reviews-failover".into(),
                "apply"
            ),
            (3, "DestinationRule bookinfo/reviews".into(), "apply"),
            (
                3,
                "EnvoyFilter istio-system/reviews-failover".into(),
                "delete"
            ),
        ]
    );
    assert!(is_phased(&writes));
    let Write::Apply(interim) = &writes[0].write else {
        panic!()
    };
    assert_eq!(
        names(interim),
        [
            "failover-reviews-failover-service-mesh-hub",
            "cluster-mgmt-cluster",
            "cluster-remote-cluster"
        ]
    );
    let Write::Apply(last) = &writes[3].write else {
        panic!()
    };
    assert_eq!(names(last), ["failover-reviews-failover-service-mesh-hub"]);
    assert_eq!(
        first_broken_state(&from["mgmt-cluster"], &mgmt, &writes),
        None
    );

    // The other backing cluster: its DestinationRule only (no route there).
    let remote = Steps::between(&from["remote-cluster"], &to["remote-cluster"]);
    assert_eq!(
        remote.describe(&order(&remote.inputs())),
        [
            (
                1,
                "DestinationRule bookinfo/reviews".to_string(),
                "apply, keeping old subsets"
            ),
            (3, "DestinationRule bookinfo/reviews".into(), "apply"),
        ]
    );
}

#[test]
fn native_to_aggregate_adds_the_aggregate_switches_then_prunes() {
    let from = objects(Strategy::Native);
    let to = objects(Strategy::Aggregate);
    let mgmt = Steps::between(&from["mgmt-cluster"], &to["mgmt-cluster"]);
    let writes = order(&mgmt.inputs());
    assert_eq!(
        mgmt.describe(&writes),
        [
            (
                1,
                "DestinationRule bookinfo/reviews".to_string(),
                "apply, keeping old subsets"
            ),
            (
                1,
                "EnvoyFilter istio-system/reviews-failover".into(),
                "apply"
            ),
            (2, "VirtualService bookinfo/reviews".into(), "apply"),
            (
                2,
                "VirtualService service-mesh-hub/reviews-failover".into(),
                "delete"
            ),
            (3, "DestinationRule bookinfo/reviews".into(), "apply"),
        ]
    );
    assert_eq!(
        first_broken_state(&from["mgmt-cluster"], &mgmt, &writes),
        None
    );
}

/// The check above can fail: the order before phases (every apply at once, then the
/// deletes) passes through states where a route names what istiod no longer generates, in
/// both directions.
#[test]
fn the_unordered_writes_break_a_route_both_ways() {
    for (a, b) in [
        (Strategy::Aggregate, Strategy::Native),
        (Strategy::Native, Strategy::Aggregate),
    ] {
        let (from, to) = (objects(a), objects(b));
        let mgmt = Steps::between(&from["mgmt-cluster"], &to["mgmt-cluster"]);
        let broken = first_broken_state(&from["mgmt-cluster"], &mgmt, &unordered(&mgmt));
        let (phase, _, problems) = broken.unwrap_or_else(|| panic!("{a:?} -> {b:?}"));
        assert_eq!(phase, 1, "{a:?} -> {b:?}: {problems:?}");
    }
    // For instance the DestinationRule landing first, aggregate -> native: the aggregate
    // cluster still routed to lists subsets that are gone.
    let (from, to) = (objects(Strategy::Aggregate), objects(Strategy::Native));
    let mut state = from["mgmt-cluster"].clone();
    let key: Key = (
        "DestinationRule".into(),
        "bookinfo".into(),
        "reviews".into(),
    );
    state.insert(key.clone(), to["mgmt-cluster"][&key].clone());
    assert_eq!(
        broken_routes(&state),
        [
            "aggregate outbound|9080||reviews-failover.bookinfo.global lists undefined \"outbound|9080|cluster-mgmt-cluster|reviews.bookinfo.svc.cluster.local\"",
            "aggregate outbound|9080||reviews-failover.bookinfo.global lists undefined \"outbound|9080|cluster-remote-cluster|reviews.bookinfo.svc.cluster.local\"",
        ]
    );
}

#[test]
fn plain_changes_are_ordered_too() {
    let desired: Value = serde_json::json!({"spec": {"subsets": [{"name": "a"}]}});
    let live: Value =
        serde_json::json!({"spec": {"subsets": [{"name": "a", "labels": {"x": "1"}}]}});
    let steps = [
        StepIn {
            kind: "VirtualService",
            action: StepKind::Create,
            desired: Some(&desired),
            live: None,
        },
        StepIn {
            kind: "DestinationRule",
            action: StepKind::Configure,
            desired: Some(&desired),
            live: Some(&live),
        },
        StepIn {
            kind: "ServiceEntry",
            action: StepKind::Unchanged,
            desired: Some(&desired),
            live: Some(&desired),
        },
        StepIn {
            kind: "ServiceEntry",
            action: StepKind::Prune,
            desired: None,
            live: Some(&live),
        },
    ];
    let w = order(&steps);
    let got: Vec<(usize, Phase, bool)> = w.iter().map(|w| (w.step, w.phase, w.interim)).collect();
    // A subset changed in place is no interim: nothing is dropped.
    assert_eq!(
        got,
        [
            (1, Phase::Prepare, false),
            (0, Phase::Switch, false),
            (3, Phase::Prune, false)
        ]
    );
    assert!(is_phased(&w));
    assert!(!is_phased(&w[..1]));
    assert!(!is_phased(&[]));
    assert_eq!(dropped_subsets(&desired, &live), Vec::<String>::new());
    assert_eq!(
        dropped_subsets(
            &desired,
            &serde_json::json!({"spec": {"subsets": [{"name": "b"}, {"name": "a"}]}})
        ),
        ["b"]
    );
}
