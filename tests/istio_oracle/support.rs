//! Running the Istio peers: the object sets, `scripts/istio-oracle`, the oracle's inputs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One generated object set and the cluster whose productpage sidecar is simulated.
pub(crate) struct Set {
    pub name: &'static str,
    pub manifests: &'static str,
    pub topology: &'static str,
    pub cluster: &'static str,
    /// `translate --strategy`.
    pub strategy: &'static str,
}

pub(crate) const GUIDE_GLOBAL: Set = Set {
    name: "guide-global",
    manifests: "examples/guide",
    topology: "tests/data/topology/guide-global.yaml",
    cluster: "mgmt-cluster",
    strategy: "auto",
};
pub(crate) const GUIDE_MULTI_PRIMARY: Set = Set {
    name: "guide-multi-primary",
    manifests: "examples/guide",
    topology: "tests/data/topology/guide-multi-primary.yaml",
    cluster: "mgmt-cluster",
    strategy: "aggregate",
};
pub(crate) const ALL_FIELDS_GLOBAL: Set = Set {
    name: "all-fields-global",
    manifests: "examples/all-fields/manifests",
    topology: "examples/all-fields/topology.yaml",
    cluster: "east",
    strategy: "auto",
};
pub(crate) const ALL_FIELDS_MULTI_PRIMARY: Set = Set {
    name: "all-fields-multi-primary",
    manifests: "examples/all-fields/manifests",
    topology: "tests/data/topology/all-fields-multi-primary.yaml",
    cluster: "east",
    strategy: "aggregate",
};

/// The guide in multi-primary with the native strategy (what auto picks there), for
/// productpage in mgmt-cluster.
pub(crate) const GUIDE_MULTI_PRIMARY_NATIVE: Set = Set {
    name: "guide-multi-primary-native",
    manifests: "examples/guide",
    topology: "tests/data/topology/guide-multi-primary.yaml",
    cluster: "mgmt-cluster",
    strategy: "native",
};
/// The guide's FailoverService visible in both clusters, native, for productpage in
/// remote-cluster: the secondary's own cluster.
pub(crate) const NATIVE_SECONDARY_CALLER: Set = Set {
    name: "native-secondary-caller",
    manifests: "tests/data/native",
    topology: "tests/data/topology/native-secondary-caller.yaml",
    cluster: "remote-cluster",
    strategy: "native",
};

/// The guide in the ambient mesh of `examples/topology-ambient.yaml` (native, what auto picks
/// there), for the waypoint reviews uses in mgmt-cluster, the primary's cluster.
pub(crate) const AMBIENT_GUIDE: Set = Set {
    name: "ambient-guide",
    manifests: "examples/guide",
    topology: "examples/topology-ambient.yaml",
    cluster: "mgmt-cluster",
    strategy: "native",
};
/// The same objects, for the waypoint in remote-cluster, the secondary's cluster, which the
/// guide's FailoverService does not name (its `meshes` list only mgmt-cluster's).
pub(crate) const AMBIENT_GUIDE_SECONDARY: Set = Set {
    name: "ambient-guide-secondary",
    cluster: "remote-cluster",
    ..AMBIENT_GUIDE
};
/// The FailoverService visible in both clusters, in the ambient mesh, for the waypoint in
/// remote-cluster, the secondary's own cluster.
pub(crate) const AMBIENT_SECONDARY_WAYPOINT: Set = Set {
    name: "ambient-secondary-waypoint",
    manifests: "tests/data/native",
    topology: "examples/topology-ambient.yaml",
    cluster: "remote-cluster",
    strategy: "native",
};

/// The guide in the ambient multi-network mesh of `examples/topology-ambient-multinetwork.yaml`
/// (two networks, istiod's `AMBIENT_ENABLE_MULTI_NETWORK`, reviews global, an east-west
/// gateway per cluster), for the waypoint reviews uses in mgmt-cluster; `auto`, as `kubectl smh
/// translate` runs without `--strategy`.
pub(crate) const AMBIENT_MULTINETWORK: Set = Set {
    name: "ambient-multinetwork",
    manifests: "examples/guide",
    topology: "examples/topology-ambient-multinetwork.yaml",
    cluster: "mgmt-cluster",
    strategy: "auto",
};

pub(crate) const SETS: [&Set; 9] = [
    &GUIDE_GLOBAL,
    &GUIDE_MULTI_PRIMARY,
    &ALL_FIELDS_GLOBAL,
    &ALL_FIELDS_MULTI_PRIMARY,
    &GUIDE_MULTI_PRIMARY_NATIVE,
    &NATIVE_SECONDARY_CALLER,
    &AMBIENT_GUIDE,
    &AMBIENT_SECONDARY_WAYPOINT,
    &AMBIENT_MULTINETWORK,
];

pub(crate) fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The directory holding the built Istio peers (istioctl, istio-oracle), or `None` after a
/// SKIP line (a failure under `SMH_REQUIRE_PEERS=1`). Building them takes many minutes, so a
/// test never starts that; `scripts/istio-oracle` itself rebuilds the oracle when its source
/// changed.
pub(crate) fn istio_peers() -> Option<PathBuf> {
    let out = Command::new(repo_path("scripts/peers/build"))
        .args(["--dir", "istio"])
        .output()
        .expect("scripts/peers/build runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    for b in ["istioctl", "istio-oracle"] {
        if !dir.join(b).is_file() {
            crate::common::skip_or_fail(&format!(
                "the Istio peers are not built ({} is missing); run scripts/peers/build istio",
                dir.join(b).display()
            ));
            return None;
        }
    }
    Some(dir)
}

fn smh_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-smh")
}

/// `scripts/istio-oracle -f MANIFESTS --topology TOPOLOGY --cluster CLUSTER`: its JSON.
pub(crate) fn oracle(set: &Set) -> Value {
    let out = Command::new(repo_path("scripts/istio-oracle"))
        .args([
            "-f",
            set.manifests,
            "--topology",
            set.topology,
            "--cluster",
            set.cluster,
            "--strategy",
            set.strategy,
        ])
        .current_dir(repo_path(""))
        .env("SMH_BIN", smh_bin())
        .output()
        .expect("scripts/istio-oracle runs");
    assert!(
        out.status.success(),
        "{}: scripts/istio-oracle exit {:?}:\n{}",
        set.name,
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the oracle prints JSON")
}

/// The oracle binary itself on already translated `objects`, with `topology` (which may differ
/// from the one they were translated with: istiod's answer for another layout of the same
/// clusters): its exit code, its JSON (exit 0) and its stderr.
pub(crate) fn oracle_on(
    peers: &Path,
    objects: &Path,
    topology: &str,
    cluster: &str,
) -> (Option<i32>, Value, String) {
    let out = Command::new(peers.join("istio-oracle"))
        .arg("-oracle.objects")
        .arg(objects)
        .arg("-oracle.topology")
        .arg(repo_path(topology))
        .args(["-oracle.cluster", cluster])
        .output()
        .expect("istio-oracle runs");
    let json = if out.status.success() {
        serde_json::from_slice(&out.stdout).expect("the oracle prints JSON")
    } else {
        Value::Null
    };
    (
        out.status.code(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kubectl smh translate -f MANIFESTS --topology TOPOLOGY` (no `--strategy`, as a user runs
/// it): exit code, stdout, stderr.
pub(crate) fn translate(manifests: &str, topology: &str) -> (Option<i32>, String, String) {
    let out = Command::new(smh_bin())
        .args([
            "translate",
            "-f",
            manifests,
            "--topology",
            topology,
            "-o",
            "yaml",
        ])
        .current_dir(repo_path(""))
        .output()
        .expect("kubectl-smh runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kubectl smh translate -o yaml` of a set, written to `dir`.
pub(crate) fn translated(set: &Set, dir: &Path) -> PathBuf {
    let out = Command::new(smh_bin())
        .args([
            "translate",
            "-f",
            set.manifests,
            "--topology",
            set.topology,
            "--strategy",
            set.strategy,
            "-o",
            "yaml",
        ])
        .current_dir(repo_path(""))
        .output()
        .expect("kubectl-smh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join(format!("{}.yaml", set.name));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// What the istiod of `cluster` reads (`istio-oracle -oracle.dump-inputs`): the translated
/// objects for it, the `.global` ServiceEntries (global mode) and its Kubernetes objects.
pub(crate) fn inputs(peers: &Path, objects: &Path, set: &Set, cluster: &str) -> Vec<Value> {
    let out = Command::new(peers.join("istio-oracle"))
        .arg("-oracle.dump-inputs")
        .arg("-oracle.objects")
        .arg(objects)
        .arg("-oracle.topology")
        .arg(repo_path(set.topology))
        .args(["-oracle.cluster", cluster])
        .output()
        .expect("istio-oracle runs");
    assert!(
        out.status.success(),
        "{}/{cluster}: istio-oracle -oracle.dump-inputs:\n{}",
        set.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The clusters of the oracle's output by name (outbound ones only).
pub(crate) fn clusters(out: &Value) -> Vec<&Value> {
    out["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("outbound|"))
        })
        .collect()
}

/// An aggregate cluster's children (v3 `ClusterConfig` or the TypedStruct form).
pub(crate) fn children(c: &Value) -> Option<Vec<String>> {
    let ct = c.get("cluster_type")?;
    if ct["name"] != "envoy.clusters.aggregate" {
        return None;
    }
    let tc = &ct["typed_config"];
    let list = tc
        .get("clusters")
        .or_else(|| tc.pointer("/value/clusters"))?;
    Some(
        list.as_array()?
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect(),
    )
}

/// `ip:port HEALTH` of a cluster's endpoints (EDS: its load assignment in `endpoints`; other
/// types: the inline one), sorted; health `UNHEALTHY`, or `HEALTHY` for Envoy's HEALTHY and
/// UNKNOWN (what load balancing treats alike).
pub(crate) fn endpoints(out: &Value, c: &Value) -> Vec<String> {
    let name = c["name"].as_str().unwrap();
    let la = if c["type"] == "EDS" {
        out["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["cluster_name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    } else {
        c.get("load_assignment").cloned().unwrap_or(Value::Null)
    };
    let mut v: Vec<String> = la["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|l| l["lb_endpoints"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            let sa = &e["endpoint"]["address"]["socket_address"];
            let health = if e["health_status"] == "UNHEALTHY" {
                "UNHEALTHY"
            } else {
                "HEALTHY"
            };
            format!(
                "{}:{} {health}",
                sa["address"].as_str().unwrap(),
                sa["port_value"]
            )
        })
        .collect();
    v.sort();
    v
}

/// A protobuf JSON duration (`"5s"`, `"0.500s"`) in milliseconds.
pub(crate) fn duration_ms(v: &Value) -> Option<u64> {
    let s = v.as_str()?.strip_suffix('s')?;
    let secs: f64 = s.parse().ok()?;
    Some((secs * 1000.0).round() as u64)
}
