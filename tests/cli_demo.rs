//! `kubectl smh demo up` as a user runs it: the kubeconfig appears only once every Deployment
//! in both clusters is available (and not at all when they do not become available in time),
//! both contexts work, SIGTERM stops it and removes the kubeconfig; bad flags and a foreign
//! file at the output path are refused with exit code 2.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Endpoints, Namespace};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

fn demo_up(kubeconfig_out: &Path, extra: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"))
        .args(["demo", "up", "--kubeconfig-out"])
        .arg(kubeconfig_out)
        .args(extra)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl-smh runs")
}

fn wait_for(path: &Path, child: &mut Child) {
    let t = Instant::now();
    while !path.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("demo up exited early: {status}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no kubeconfig after 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn client(kc: &Kubeconfig, context: &str) -> kube::Client {
    let cfg = kube::Config::from_custom_kubeconfig(
        kc.clone(),
        &KubeConfigOptions {
            context: Some(context.to_string()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

/// Every Deployment of the context's cluster that is not available, as
/// `namespace/name: why`: the Available condition, observedGeneration and replica counts, as a
/// user's `kubectl rollout status` would read them.
async fn unavailable(kc: &Kubeconfig, context: &str) -> (usize, Vec<String>) {
    let list = Api::<Deployment>::all(client(kc, context).await)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    let mut bad = Vec::new();
    for d in &list {
        let name = format!(
            "{}/{}",
            d.metadata.namespace.as_deref().unwrap_or_default(),
            d.metadata.name.as_deref().unwrap_or_default()
        );
        let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let s = d.status.clone().unwrap_or_default();
        let available = s
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Available" && c.status == "True");
        let counts = [
            s.replicas,
            s.updated_replicas,
            s.ready_replicas,
            s.available_replicas,
        ];
        if !available
            || s.observed_generation != d.metadata.generation
            || counts.iter().any(|n| n.unwrap_or(0) != want)
        {
            bad.push(format!(
                "{name}: available={available} {counts:?} of {want}"
            ));
        }
    }
    (list.len(), bad)
}

async fn namespaces(kc: &Kubeconfig, context: &str) -> Vec<String> {
    let cfg = kube::Config::from_custom_kubeconfig(
        kc.clone(),
        &KubeConfigOptions {
            context: Some(context.to_string()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(cfg).unwrap();
    Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_up_serves_until_sigterm_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("demo.kubeconfig");
    let mut child = demo_up(
        &kc_path,
        &[
            "--latency",
            "remote-cluster=20ms",
            "--rollout-delay",
            "1s",
            "--istio-cluster-id",
            "remote-cluster=east-2",
        ],
    );
    wait_for(&kc_path, &mut child);

    let kc = Kubeconfig::read_from(&kc_path).unwrap();
    assert_eq!(kc.current_context.as_deref(), Some("mgmt-cluster"));
    let mgmt = namespaces(&kc, "mgmt-cluster").await;
    assert!(mgmt.contains(&"service-mesh-hub".to_string()), "{mgmt:?}");
    let remote = namespaces(&kc, "remote-cluster").await;
    assert!(
        remote.contains(&"default".to_string())
            && !remote.contains(&"service-mesh-hub".to_string())
    );

    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("mgmt-cluster") && stdout.contains("remote-cluster"),
        "{stdout}"
    );
    assert!(stdout.contains("export KUBECONFIG="), "{stdout}");
    assert!(stdout.contains("faults: latency 20ms"), "{stdout}");
    // istiod's CLUSTER_ID: the demo's default for mgmt-cluster, the flag's for the other.
    assert!(
        stdout.contains("Istio cluster ID: cluster1 (istiod's CLUSTER_ID)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Istio cluster ID: east-2 (istiod's CLUSTER_ID)"),
        "{stdout}"
    );
    assert!(!kc_path.exists(), "the kubeconfig is removed on exit");
}

/// `demo up --ambient`: once the kubeconfig appears, both clusters are an ambient mesh as
/// discovery reads it over HTTP: ztunnel's DaemonSet available, bookinfo's namespace in
/// ambient mode with no sidecar in its pods, the Gateway API served and the waypoint
/// bookinfo/waypoint with an address; the banner says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_up_ambient_serves_an_ambient_mesh_once_the_waypoints_are_ready() {
    use k8s_openapi::api::apps::v1::DaemonSet;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::DynamicObject;
    use kube::core::{ApiResource, GroupVersionKind};
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("demo.kubeconfig");
    let mut child = demo_up(&kc_path, &["--ambient", "--rollout-delay", "100ms"]);
    wait_for(&kc_path, &mut child);
    let kc = Kubeconfig::read_from(&kc_path).unwrap();
    for context in ["mgmt-cluster", "remote-cluster"] {
        let c = client(&kc, context).await;
        let ztunnel = Api::<DaemonSet>::namespaced(c.clone(), "istio-system")
            .get("ztunnel")
            .await
            .unwrap();
        assert_eq!(
            ztunnel.status.and_then(|s| s.number_available),
            Some(1),
            "{context}"
        );
        let ns = Api::<Namespace>::all(c.clone())
            .get("bookinfo")
            .await
            .unwrap();
        let labels = ns.metadata.labels.unwrap_or_default();
        assert_eq!(labels["istio.io/dataplane-mode"], "ambient", "{context}");
        assert!(!labels.contains_key("istio-injection"), "{context}");
        for p in Api::<Pod>::namespaced(c.clone(), "bookinfo")
            .list(&ListParams::default().labels("app"))
            .await
            .unwrap()
            .items
        {
            let containers = p.spec.unwrap().containers;
            assert!(
                containers.iter().all(|c| c.name != "istio-proxy"),
                "{context}: {:?} has a sidecar",
                p.metadata.name
            );
        }
        let gateways = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "Gateway"),
            "gateways",
        );
        let waypoint = Api::<DynamicObject>::namespaced_with(c, "bookinfo", &gateways)
            .get("waypoint")
            .await
            .unwrap();
        assert_eq!(waypoint.data["spec"]["gatewayClassName"], "istio-waypoint");
        assert!(
            waypoint.data["status"]["addresses"][0]["value"].is_string(),
            "{context}: {:?}",
            waypoint.data
        );
    }
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        stdout
            .matches("Istio ambient mode: ztunnel; bookinfo uses waypoint bookinfo/waypoint (")
            .count(),
        2,
        "{stdout}"
    );
    // Istio's ambient multicluster install: each cluster on its own network, with an
    // east-west gateway that has its load balancer's address.
    for network in ["network1", "network2"] {
        assert!(
            stdout.contains(&format!(
                "Istio network {network}: east-west gateway istio-system/istio-eastwestgateway (172.18."
            )),
            "{stdout}"
        );
    }
}

/// `kubectl-smh` with `args`, against the demo's kubeconfig.
fn smh(kubeconfig: &Path, args: &[&str]) -> std::process::Output {
    Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .output()
        .expect("kubectl-smh runs")
}

fn show(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every SMH and Istio networking object in the demo's clusters, as
/// `cluster kind namespace/name resourceVersion`, sorted.
async fn config_objects(kc: &Kubeconfig) -> Vec<String> {
    use kube::api::DynamicObject;
    use kube::core::{ApiResource, GroupVersionKind};
    let kinds = [
        (
            "networking.smh.solo.io",
            "v1alpha2",
            "FailoverService",
            "failoverservices",
        ),
        (
            "networking.smh.solo.io",
            "v1alpha2",
            "TrafficPolicy",
            "trafficpolicies",
        ),
        (
            "networking.istio.io",
            "v1",
            "DestinationRule",
            "destinationrules",
        ),
        (
            "networking.istio.io",
            "v1",
            "VirtualService",
            "virtualservices",
        ),
        (
            "networking.istio.io",
            "v1",
            "ServiceEntry",
            "serviceentries",
        ),
        (
            "networking.istio.io",
            "v1alpha3",
            "EnvoyFilter",
            "envoyfilters",
        ),
    ];
    let mut out = Vec::new();
    for context in ["mgmt-cluster", "remote-cluster"] {
        let c = client(kc, context).await;
        for (group, version, kind, plural) in kinds {
            if group == "networking.smh.solo.io" && context != "mgmt-cluster" {
                continue;
            }
            let ar = ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk(group, version, kind),
                plural,
            );
            for o in Api::<DynamicObject>::all_with(c.clone(), &ar)
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
            {
                out.push(format!(
                    "{context} {kind} {}/{} {}",
                    o.metadata.namespace.unwrap_or_default(),
                    o.metadata.name.unwrap_or_default(),
                    o.metadata.resource_version.unwrap_or_default()
                ));
            }
        }
    }
    out.sort();
    out
}

/// Set (`Some`) or remove (`None`) the label `istio.io/global` of Service bookinfo/reviews in
/// `context`'s cluster, as `kubectl label` does.
async fn label_reviews_global(kc: &Kubeconfig, context: &str, value: Option<&str>) {
    use k8s_openapi::api::core::v1::Service;
    use kube::api::{Patch, PatchParams};
    Api::<Service>::namespaced(client(kc, context).await, "bookinfo")
        .patch(
            "reviews",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"istio.io/global": value}}})),
        )
        .await
        .unwrap();
}

/// On `demo up --ambient` (Istio's ambient multicluster install, whose istiod gives a
/// waypoint another cluster's endpoints only of a global Service): the guide's failover of
/// reviews is refused while reviews in remote-cluster is not global (its `istio.io/global`
/// label removed), `apply` exiting 2 and changing nothing; with the label it applies and
/// `check --strict` passes (no warning); removing the label again makes `check` fail, naming
/// the Service and the label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_up_ambient_refuses_a_failover_to_a_service_the_remote_cluster_keeps_local() {
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("demo.kubeconfig");
    let mut child = demo_up(&kc_path, &["--ambient", "--rollout-delay", "100ms"]);
    wait_for(&kc_path, &mut child);
    let kc = Kubeconfig::read_from(&kc_path).unwrap();
    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/guide");
    let guide = guide.to_str().unwrap();

    label_reviews_global(&kc, "remote-cluster", None).await;
    let before = config_objects(&kc).await;
    let apply = smh(&kc_path, &["apply", "-f", guide]);
    assert_eq!(apply.status.code(), Some(2), "{}", show(&apply));
    let text = show(&apply);
    assert!(
        text.contains("Service bookinfo/reviews in remote-cluster is local")
            && text.contains("istio.io/global"),
        "{text}"
    );
    assert_eq!(config_objects(&kc).await, before, "apply changed nothing");

    label_reviews_global(&kc, "remote-cluster", Some("true")).await;
    let apply = smh(&kc_path, &["apply", "-f", guide]);
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    let check = smh(&kc_path, &["check", "--strict"]);
    assert_eq!(check.status.code(), Some(0), "{}", show(&check));
    assert!(!show(&check).contains("[warn]"), "{}", show(&check));

    label_reviews_global(&kc, "remote-cluster", None).await;
    let check = smh(&kc_path, &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", show(&check));
    let text = show(&check);
    assert!(
        text.contains("Service bookinfo/reviews in remote-cluster is local")
            && text.contains("istio.io/global"),
        "{text}"
    );

    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
}

/// Slow rollouts (2 s until a new pod is ready) make the old race certain: API servers that
/// answer within a second, bookinfo not yet ready. The kubeconfig must not appear before every
/// Deployment in both clusters is available, and the banner's time says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_up_writes_the_kubeconfig_only_once_every_deployment_is_available() {
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("demo.kubeconfig");
    let mut child = demo_up(&kc_path, &["--rollout-delay", "2s"]);
    wait_for(&kc_path, &mut child);

    // Read at once: whatever the clusters look like the moment the file exists.
    let kc = Kubeconfig::read_from(&kc_path).unwrap();
    let (mgmt, mgmt_bad) = unavailable(&kc, "mgmt-cluster").await;
    let (remote, remote_bad) = unavailable(&kc, "remote-cluster").await;
    assert!(mgmt >= 5 && remote >= 2, "{mgmt} and {remote} deployments");
    assert_eq!(mgmt_bad, Vec::<String>::new(), "mgmt-cluster");
    assert_eq!(remote_bad, Vec::<String>::new(), "remote-cluster");
    // And the services route to them: productpage's Endpoints list its ready pod.
    let ep = Api::<Endpoints>::namespaced(client(&kc, "mgmt-cluster").await, "bookinfo")
        .get("productpage")
        .await
        .unwrap();
    let ready: usize = ep
        .subsets
        .unwrap_or_default()
        .iter()
        .map(|s| s.addresses.as_ref().map_or(0, Vec::len))
        .sum();
    assert_eq!(ready, 1, "productpage's ready addresses");

    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    // The banner's time is the time until every Deployment was available: at least the 2 s a
    // pod takes to become ready.
    let re = regex::Regex::new(
        r"Simulated clusters are up: API servers answering after (\d+) ms, every Deployment available after (\d+) ms:",
    )
    .unwrap();
    let caps = re.captures(&stdout).unwrap_or_else(|| panic!("{stdout}"));
    let answered: u64 = caps[1].parse().unwrap();
    let ready: u64 = caps[2].parse().unwrap();
    assert!(ready >= 2_000 && ready >= answered, "{stdout}");
}

/// Clusters that do not become ready within --ready-timeout: exit 3, a message naming the
/// Deployment and its cluster, and no kubeconfig.
#[test]
fn demo_up_that_does_not_become_ready_writes_no_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.kubeconfig");
    let out = demo_up(
        &path,
        &["--rollout-delay", "1h", "--ready-timeout", "500ms"],
    )
    .wait_with_output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let re = regex::Regex::new(
        r"error: the simulated clusters are not ready after 0\.\ds: Deployment [a-z-]+/[a-z0-9-]+ in (mgmt|remote)-cluster is not available: 0 of \d replicas available",
    )
    .unwrap();
    assert!(re.is_match(&stderr), "{stderr}");
    assert!(
        stderr.contains(
            "stopped the clusters and wrote no kubeconfig. Raise --ready-timeout (now 0.5s)"
        ),
        "{stderr}"
    );
    assert!(!path.exists(), "no kubeconfig");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file either"
    );
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
}

/// Ctrl-C while `demo up` waits for the clusters to be ready: exit 130, no kubeconfig.
#[test]
fn demo_up_interrupted_before_ready_writes_no_kubeconfig() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.kubeconfig");
    let mut child = demo_up(&path, &["--rollout-delay", "1h"]);
    // The line it prints once the API servers answer and the wait begins.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(
        line.contains("waiting until every Deployment is available"),
        "{line}"
    );
    signal(&child, "-INT");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{rest}");
    assert!(
        rest.contains("Interrupted before the clusters were ready; no kubeconfig was written."),
        "{rest}"
    );
    assert!(!path.exists());
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
}

#[test]
fn demo_up_refuses_to_overwrite_a_foreign_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, "apiVersion: v1\nkind: Config\n").unwrap();
    let out = demo_up(&path, &[]).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("was not written by `kubectl smh demo up`")
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "apiVersion: v1\nkind: Config\n"
    );
}

/// A kubeconfig path in a missing directory is refused before any cluster starts (exit 2,
/// nothing on stdout, no "API servers answer" progress line).
#[test]
fn demo_up_refuses_a_kubeconfig_path_in_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("demo.kubeconfig");
    let out = demo_up(&path, &[]).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("does not exist; create it (mkdir -p"),
        "{stderr}"
    );
    assert!(!stderr.contains("API servers answer"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
    assert!(!path.exists());
}

/// A second `demo up` does not take over the kubeconfig of one that is still serving (it would
/// remove it on exit); once that one is gone (here: SIGKILL, so its file stays), the stale
/// file is replaced.
#[test]
fn demo_up_leaves_a_running_demos_kubeconfig_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.kubeconfig");
    let mut first = demo_up(&path, &[]);
    wait_for(&path, &mut first);
    let written = std::fs::read_to_string(&path).unwrap();

    let out = demo_up(&path, &[]).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("belongs to a `kubectl smh demo up` that is still serving"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);

    first.kill().unwrap();
    first.wait().unwrap();
    assert!(path.exists(), "SIGKILL leaves the file behind");
    let mut second = demo_up(&path, &[]);
    let t = Instant::now();
    while std::fs::read_to_string(&path).is_ok_and(|s| s == written) || !path.exists() {
        if let Ok(Some(status)) = second.try_wait() {
            let out = second.wait_with_output().unwrap();
            panic!(
                "second demo up exited: {status}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(t.elapsed() < Duration::from_secs(30), "no new kubeconfig");
        std::thread::sleep(Duration::from_millis(20));
    }
    second.kill().unwrap();
    second.wait().unwrap();
}

#[test]
fn demo_up_rejects_bad_fault_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kc");
    for (flags, expect) in [
        (vec!["--latency", "nope=1s"], "unknown cluster \"nope\""),
        (vec!["--error-rate", "remote-cluster=2"], "outside 0..1"),
        (
            vec!["--unreachable", "remote-cluster=sometimes"],
            "expected hang or close",
        ),
        (
            vec!["--istio-cluster-id", "mgmt-cluster=-east"],
            "--istio-cluster-id mgmt-cluster=-east: \"-east\" is not a valid Istio cluster ID",
        ),
        (
            vec!["--istio-cluster-id", "nope=east"],
            "unknown cluster \"nope\"",
        ),
        (
            vec!["--ready-timeout", "soon"],
            "invalid value 'soon' for '--ready-timeout <DURATION>'",
        ),
        (
            vec!["--ambient", "--mode", "global"],
            "--ambient with --mode global: SMH's .global federation",
        ),
        (
            vec!["--istio-mode", "multi-primary"],
            "--istio-mode does not apply to `kubectl smh demo up`: the demo's clusters are built in the mode --mode names: use --mode multi-primary",
        ),
    ] {
        let out = demo_up(&path, &flags).wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{flags:?}: {err}");
        assert!(!path.exists());
    }
    let out = assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
        .args(["demo", "up", "--help"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("kubectl smh demo up") && help.contains("--error-rate"),
        "{help}"
    );
}

/// `demo manifests` prints the guide's three manifests, exactly the files in
/// `examples/guide/`, as one stream that `apply -f -` (here `validate -f -`) takes.
#[test]
fn demo_manifests_prints_the_guide_as_one_stream() {
    let out = assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
        .args(["demo", "manifests"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/guide");
    let want: Vec<String> = [
        "1-outlier-detection.yaml",
        "2-failover-service.yaml",
        "3-traffic-shift.yaml",
    ]
    .iter()
    .map(|f| {
        std::fs::read_to_string(dir.join(f))
            .unwrap()
            .trim_end()
            .to_string()
    })
    .collect();
    assert_eq!(text, format!("{}\n", want.join("\n---\n")));
    assert_cmd::cargo::cargo_bin_cmd!("kubectl-smh")
        .args(["validate", "-f", "-"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .write_stdin(text)
        .assert()
        .success()
        .stdout(predicates::str::ends_with(
            "\nOK: 1 FailoverService and 2 TrafficPolicies valid in 1 file\n",
        ));
}

/// Sends `sig` (`-TERM`, `-INT`) to `child` with kill(1).
fn signal(child: &std::process::Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {}", child.id());
}
