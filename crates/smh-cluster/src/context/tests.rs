//! Tests of kubeconfig loading and cluster name resolution, on kubeconfig files in temporary directories.

use super::*;

const KC_A: &str = r#"
apiVersion: v1
kind: Config
current-context: mgmt-cluster
clusters:
- name: mgmt
  cluster: {server: "https://127.0.0.1:6443"}
- name: remote
  cluster: {server: "https://admin:secret@10.0.0.2:6443"}
contexts:
- name: mgmt-cluster
  context: {cluster: mgmt, user: u}
- name: remote-ctx
  context: {cluster: remote, user: u}
users:
- name: u
  user: {token: abc}
"#;

const KC_B: &str = r#"
apiVersion: v1
kind: Config
current-context: other
clusters:
- name: mgmt
  cluster: {server: "https://shadowed:1"}
- name: third
  cluster: {server: "https://10.0.0.3:6443"}
contexts:
- name: mgmt-cluster
  context: {cluster: third, user: u}
- name: third-cluster
  context: {cluster: third, user: u}
users:
- name: u
  user: {token: def}
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn contexts(dir: &Path, flags: &[&str], mgmt: Option<&str>) -> Contexts {
    let a = write(dir, "a.yaml", KC_A);
    let b = write(dir, "b.yaml", KC_B);
    let set =
        KubeconfigSet::load_origin(KubeconfigOrigin::Env(vec![a, dir.join("missing.yaml"), b]))
            .unwrap();
    let mut reg = Registry::empty(dir.join("clusters.yaml"));
    reg.insert("remote-cluster".into(), "remote-ctx".into());
    reg.insert("ghost".into(), "no-such-ctx".into());
    let flags: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    Contexts::new(
        set,
        parse_cluster_flags(&flags).unwrap(),
        reg,
        mgmt.map(ContextName::from),
        Duration::from_secs(10),
    )
}

#[test]
fn merges_like_kubectl_and_remembers_files() {
    let dir = tempfile::tempdir().unwrap();
    let c = contexts(dir.path(), &[], None);
    let kc = c.kubeconfig();
    assert_eq!(kc.files().len(), 2, "the missing file is skipped");
    assert_eq!(
        kc.contexts(),
        vec![
            ContextName::from("mgmt-cluster"),
            ContextName::from("remote-ctx"),
            ContextName::from("third-cluster")
        ]
    );
    // current-context from the first file; the first definition of a context wins.
    assert_eq!(
        kc.current_context(),
        Some(ContextName::from("mgmt-cluster"))
    );
    assert_eq!(
        kc.server_of(&"mgmt-cluster".into()).as_deref(),
        Some("https://127.0.0.1:6443")
    );
    assert_eq!(
        kc.file_of(&"third-cluster".into()),
        Some(dir.path().join("b.yaml").as_path())
    );
    assert_eq!(
        kc.file_of(&"mgmt-cluster".into()),
        Some(dir.path().join("a.yaml").as_path())
    );
    // user-info never printed
    assert_eq!(
        kc.server_of(&"remote-ctx".into()).as_deref(),
        Some("https://10.0.0.2:6443")
    );
}

#[test]
fn resolution_order_flag_registry_same_name() {
    let dir = tempfile::tempdir().unwrap();
    let c = contexts(dir.path(), &["remote-cluster=third-cluster"], None);
    let r = c.resolve(&"remote-cluster".into()).unwrap();
    assert_eq!(
        (r.context.as_str(), r.source),
        ("third-cluster", MappingSource::Flag)
    );

    let c = contexts(dir.path(), &[], None);
    let r = c.resolve(&"remote-cluster".into()).unwrap();
    assert_eq!(
        (r.context.as_str(), r.source),
        ("remote-ctx", MappingSource::Registry)
    );
    let r = c.resolve(&"third-cluster".into()).unwrap();
    assert_eq!(
        (r.context.as_str(), r.source),
        ("third-cluster", MappingSource::SameName)
    );

    let e = c.resolve(&"nowhere".into()).unwrap_err().to_string();
    assert!(
        e.contains("cluster \"nowhere\" has no kubeconfig context"),
        "{e}"
    );
    assert!(e.contains("--cluster nowhere=CTX"), "{e}");
    assert!(
        e.contains("kubectl smh cluster register nowhere --context CTX"),
        "{e}"
    );
    assert!(e.contains("mgmt-cluster, remote-ctx, third-cluster"), "{e}");

    let e = c.resolve(&"ghost".into()).unwrap_err().to_string();
    assert!(
        e.starts_with("context \"no-such-ctx\" (from the registry"),
        "{e}"
    );
    assert!(
        e.contains("the contexts are: mgmt-cluster, remote-ctx, third-cluster"),
        "{e}"
    );
}

#[test]
fn mgmt_context_and_targets() {
    let dir = tempfile::tempdir().unwrap();
    let c = contexts(dir.path(), &[], None);
    assert_eq!(c.mgmt_context().unwrap().as_str(), "mgmt-cluster");
    let targets = c
        .describe_targets(&["remote-cluster".into(), "mgmt-cluster".into()], true)
        .unwrap();
    let lines: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
    assert_eq!(
        lines,
        [
            "cluster mgmt-cluster (management; context mgmt-cluster, https://127.0.0.1:6443)",
            "cluster remote-cluster (context remote-ctx, https://10.0.0.2:6443)"
        ]
    );
    let only_mgmt = c.describe_targets(&[], true).unwrap();
    assert_eq!(
        only_mgmt[0].to_string(),
        "management cluster (context mgmt-cluster, https://127.0.0.1:6443)"
    );

    let c = contexts(dir.path(), &[], Some("nope"));
    let e = c.mgmt_context().unwrap_err().to_string();
    assert!(
        e.starts_with("context \"nope\" (from --mgmt-context) is not in the kubeconfig"),
        "{e}"
    );
}

#[test]
fn loopback_hosts() {
    for (url, want) in [
        ("http://127.0.0.1:6443", true),
        ("https://127.3.4.5", true),
        ("https://localhost:8443", true),
        ("https://[::1]:6443", true),
        ("https://10.0.0.1:6443", false),
        ("https://kube.example.com", false),
    ] {
        let uri: http_uri::Uri = url.parse().unwrap();
        assert_eq!(is_loopback(&uri), want, "{url}");
    }
}

#[test]
fn cluster_flags_are_checked() {
    assert!(parse_cluster_flags(&["a=b".into(), "a=b".into()]).is_ok());
    for bad in ["ab", "=b", "a=", "A=b"] {
        let e = parse_cluster_flags(&[bad.to_string()])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("invalid --cluster {bad:?}")), "{e}");
    }
    let e = parse_cluster_flags(&["a=b".into(), "a=c".into()]).unwrap_err();
    assert!(e.to_string().contains("already mapped to context b"));
}

#[test]
fn mappings_list_flags_registry_and_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let c = contexts(dir.path(), &["extra=mgmt-cluster"], None);
    let rows: Vec<(String, String, MappingSource, bool)> = c
        .mappings()
        .into_iter()
        .map(|m| {
            (
                m.name.to_string(),
                m.context.to_string(),
                m.source,
                m.context_exists,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "extra".into(),
                "mgmt-cluster".into(),
                MappingSource::Flag,
                true
            ),
            (
                "ghost".into(),
                "no-such-ctx".into(),
                MappingSource::Registry,
                false
            ),
            (
                "mgmt-cluster".into(),
                "mgmt-cluster".into(),
                MappingSource::SameName,
                true
            ),
            (
                "remote-cluster".into(),
                "remote-ctx".into(),
                MappingSource::Registry,
                true
            ),
            (
                "remote-ctx".into(),
                "remote-ctx".into(),
                MappingSource::SameName,
                true
            ),
            (
                "third-cluster".into(),
                "third-cluster".into(),
                MappingSource::SameName,
                true
            ),
        ]
    );
}

#[test]
fn missing_and_broken_kubeconfigs() {
    let dir = tempfile::tempdir().unwrap();
    let e =
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(dir.path().join("nope"))).unwrap_err();
    assert!(matches!(e, ConfigError::KubeconfigMissing { .. }));
    let e = KubeconfigSet::load_origin(KubeconfigOrigin::Env(vec![dir.path().join("nope")]))
        .unwrap_err();
    assert!(
        e.to_string().starts_with("no kubeconfig found (looked at"),
        "{e}"
    );
    let bad = write(dir.path(), "bad.yaml", "contexts: [\n");
    let e = KubeconfigSet::load_origin(KubeconfigOrigin::Flag(bad.clone())).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("cannot read kubeconfig {}", bad.display())),
        "{e}"
    );
}

#[tokio::test]
async fn client_config_sets_timeouts_and_keeps_auth() {
    let dir = tempfile::tempdir().unwrap();
    let c = contexts(dir.path(), &[], None);
    let cfg = c
        .kubeconfig()
        .client_config(&"remote-ctx".into(), Duration::from_secs(7), false)
        .await
        .unwrap();
    assert_eq!(cfg.connect_timeout, Some(Duration::from_secs(7)));
    assert_eq!(cfg.read_timeout, Some(Duration::from_secs(7)));
    assert!(cfg.reset_reader_on_write);
    assert!(cfg.auth_info.token.is_some());
    let cfg = c
        .kubeconfig()
        .client_config(&"remote-ctx".into(), Duration::from_secs(7), true)
        .await
        .unwrap();
    assert_eq!(cfg.read_timeout, None);
    let e = c
        .kubeconfig()
        .client_config(&"zzz".into(), Duration::from_secs(7), true)
        .await
        .unwrap_err();
    assert!(matches!(e, ConfigError::ContextNotFound { .. }));
}
