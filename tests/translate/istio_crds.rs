//! The Istio CRD schemas that [`super::schema`] validates the generated objects against:
//! `$SMH_ISTIO_CRDS` (istio/api's `kubernetes/customresourcedefinitions.gen.yaml`, or any file
//! of CRDs), else the copy vendored for the simulator in
//! `crates/smh-sim/src/crds/istio-networking.yaml` (written by `scripts/vendor-istio-crds.py`:
//! five networking CRDs of istio/api with their `description` fields removed).
//!
//! The vendored copy must be the istio/api that the real peers are built from (the
//! `istio.io/api` version `tools/istio-oracle/go.mod` requires): its `SOURCE` file names that
//! version, and when `scripts/peers/build istio` has put the module in Go's module cache, the
//! schemas are compared with the module's own CRD file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use super::support::{repo_path, skip_or_fail};

/// CRD schemas by (kind, version), plus the group of each kind.
pub(super) struct CrdSchemas {
    pub(super) schemas: BTreeMap<(String, String), Value>,
    pub(super) groups: BTreeMap<String, String>,
}

fn vendored_crd_path() -> PathBuf {
    repo_path("crates/smh-sim/src/crds/istio-networking.yaml")
}

fn crd_path() -> PathBuf {
    match std::env::var_os("SMH_ISTIO_CRDS") {
        Some(p) => PathBuf::from(p),
        None => vendored_crd_path(),
    }
}

/// The served schemas of the CRDs in a file; `None` when the file cannot be read.
fn load(path: &Path) -> Option<CrdSchemas> {
    let text = std::fs::read_to_string(path).ok()?;
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut schemas = BTreeMap::new();
    let mut groups = BTreeMap::new();
    for d in docs
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
    {
        let kind = d["spec"]["names"]["kind"].as_str().unwrap().to_string();
        groups.insert(
            kind.clone(),
            d["spec"]["group"].as_str().unwrap().to_string(),
        );
        for v in d["spec"]["versions"].as_array().unwrap() {
            if v["served"] == true {
                schemas.insert(
                    (kind.clone(), v["name"].as_str().unwrap().to_string()),
                    v["schema"]["openAPIV3Schema"].clone(),
                );
            }
        }
    }
    Some(CrdSchemas { schemas, groups })
}

/// The schemas, loaded once per test binary; `None` when the file is missing.
pub(super) fn schemas() -> Option<&'static CrdSchemas> {
    static SCHEMAS: OnceLock<Option<CrdSchemas>> = OnceLock::new();
    SCHEMAS.get_or_init(|| load(&crd_path())).as_ref()
}

/// [`schemas`], or a SKIP line (a failure under `SMH_REQUIRE_PEERS=1`) when the file is missing.
pub(super) fn schemas_or_skip() -> Option<&'static CrdSchemas> {
    match schemas() {
        Some(s) => Some(s),
        None => skip_or_fail(&format!(
            "Istio CRD file {} not found (set SMH_ISTIO_CRDS)",
            crd_path().display()
        )),
    }
}

/// Remove `description` keys (not properties named `description`), as the vendoring script does.
fn strip_descriptions(v: &Value, parent_key: Option<&str>) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !(k.as_str() == "description" && parent_key != Some("properties")))
                .map(|(k, v)| (k.clone(), strip_descriptions(v, Some(k))))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| strip_descriptions(v, None)).collect()),
        other => other.clone(),
    }
}

/// The `istio.io/api` version that `tools/istio-oracle/go.mod` requires (the peers' Istio).
fn peers_istio_api_version() -> String {
    let path = repo_path("tools/istio-oracle/go.mod");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .find_map(|l| l.trim().strip_prefix("istio.io/api "))
        .map(|v| v.split_whitespace().next().unwrap_or_default().to_string())
        .unwrap_or_else(|| panic!("{} requires no istio.io/api", path.display()))
}

/// Go's module cache: `$GOMODCACHE`, else what `go env GOMODCACHE` says, else Go's default
/// `$HOME/go/pkg/mod`.
fn go_mod_cache() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOMODCACHE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let from_go = std::process::Command::new("go")
        .args(["env", "GOMODCACHE"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty());
    match from_go {
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join("go/pkg/mod")),
    }
}

/// The vendored copy says where it comes from, and that is the peers' istio/api: bumping
/// the oracle's Istio without vendoring its CRDs again fails here, on any checkout.
#[test]
fn vendored_crds_source_names_the_peers_istio_api() {
    let version = peers_istio_api_version();
    let source = std::fs::read_to_string(repo_path("crates/smh-sim/src/crds/SOURCE"))
        .expect("crates/smh-sim/src/crds/SOURCE");
    assert!(
        source.contains(&format!("istio.io/api {version}")),
        "crates/smh-sim/src/crds/SOURCE does not name istio.io/api {version} (the version \
         tools/istio-oracle/go.mod requires); vendor its CRDs with scripts/vendor-istio-crds.py:\n{source}"
    );
}

/// The simulator's vendored CRDs carry exactly the schemas (descriptions aside) of the
/// istio/api module the peers are built from, so the simulator and the schema checks
/// apply the rules the real Istio of the peers does.
#[test]
fn vendored_crds_match_istio_api() {
    let version = peers_istio_api_version();
    let upstream_path = go_mod_cache().map(|c| {
        c.join(format!("istio.io/api@{version}"))
            .join("kubernetes/customresourcedefinitions.gen.yaml")
    });
    let Some(upstream) = upstream_path.as_deref().and_then(load) else {
        skip_or_fail::<()>(&format!(
            "istio.io/api@{version} is not in Go's module cache ({}; `scripts/peers/build istio` \
             fetches it); nothing to compare the vendored Istio CRDs with",
            upstream_path.map_or_else(|| "no $HOME".to_string(), |p| p.display().to_string())
        ));
        return;
    };
    let vendored = load(&vendored_crd_path()).expect("vendored Istio CRDs");
    assert!(!vendored.schemas.is_empty());
    for (key, schema) in &vendored.schemas {
        let theirs = upstream
            .schemas
            .get(key)
            .unwrap_or_else(|| panic!("{key:?} not in istio.io/api@{version}'s CRDs"));
        assert_eq!(
            &strip_descriptions(theirs, None),
            schema,
            "vendored schema for {key:?} differs from istio.io/api@{version}'s"
        );
    }
}
