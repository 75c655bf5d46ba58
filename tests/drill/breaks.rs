//! How deployments break and what preflight refuses or warns about: no outlier detection,
//! containers with their own command, the scale break, distroless images, readiness probes,
//! owners and HorizontalPodAutoscalers, a remote secret with the wrong key.
//! The scenarios run on both backends (tests/drill/both.rs).

use super::*;

pub(super) async fn preflight_refuses_without_outlier_detection_and_dry_run_changes_nothing(
    demo: &Demo,
) {
    demo.configure_guide().await;

    // --dry-run prints the plan and the patches, and changes nothing.
    let versions = demo.versions().await;
    let run = demo.run(&["drill", "reviews-failover", "--dry-run"]).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert!(run.stdout.contains(r#"{"spec":{"template":{"spec":{"containers":[{"command":["sleep","20h"],"name":"reviews"}]}}}}"#), "{}", run.show());
    assert!(run.stdout.ends_with("Nothing was changed (--dry-run).\n"));
    assert_eq!(versions, demo.versions().await);

    // Without a terminal and without --yes, the drill refuses before reading anything.
    let run = demo.run(&["drill", "reviews-failover"]).await;
    assert_eq!(run.code, Some(2), "{}", run.show());
    assert!(run.stderr.contains("pass --yes"), "{}", run.show());

    // Take outlier detection away from the primary's DestinationRule.
    let dr = ApiResource {
        group: "networking.istio.io".into(),
        version: "v1alpha3".into(),
        api_version: "networking.istio.io/v1alpha3".into(),
        kind: "DestinationRule".into(),
        plural: "destinationrules".into(),
    };
    let rules: Api<DynamicObject> =
        Api::namespaced_with(demo.client("mgmt-cluster"), "bookinfo", &dr);
    rules
        .patch(
            "reviews",
            &PatchParams::default(),
            &Patch::Json::<()>(
                serde_json::from_value(json!([
                    {"op": "remove", "path": "/spec/trafficPolicy/outlierDetection"}
                ]))
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    let versions = demo.versions().await;
    let run = demo.run(&drill_args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(
        run.stderr
            .contains("backing service reviews.bookinfo @ mgmt-cluster has no outlier detection"),
        "{}",
        run.show()
    );
    assert!(run.stderr.contains("nothing was changed"), "{}", run.show());
    assert_eq!(
        versions,
        demo.versions().await,
        "preflight refusal patched something"
    );
}

pub(super) async fn a_container_with_its_own_command_and_args_gets_them_back(demo: &Demo) {
    demo.configure_guide().await;
    // A deployment whose container runs its own command with args (not behind any
    // Service, so the failover itself is unaffected); broken along with reviews.
    let own: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "own-command", "namespace": "bookinfo"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "own-command"}},
            "template": {
                "metadata": {"labels": {"app": "own-command"}},
                "spec": {"containers": [{
                    "name": "server",
                    "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.16.2",
                    "command": ["/opt/ibm/wlp/bin/server"],
                    "args": ["run", "defaultServer", "--port=9080"],
                    "ports": [{"containerPort": 9080}]
                }, {
                    "name": "log-shipper",
                    "image": "docker.io/fluent/fluent-bit:2.2",
                    "command": ["/fluent-bit/bin/fluent-bit"],
                    "args": ["-c", "/etc/fluent.conf"]
                }]}
            }
        }
    }))
    .unwrap();
    demo.deployments("mgmt-cluster")
        .create(&PostParams::default(), &own)
        .await
        .unwrap();
    demo.wait_settled().await;
    let before = demo.snapshot().await;

    let run = demo
        .run(&drill_args(&[
            "--break",
            "reviews-v1",
            "--break",
            "reviews-v2",
            "--break",
            "own-command",
            "-o",
            "json",
        ]))
        .await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let broken: Vec<&Value> = report["broken"].as_array().unwrap().iter().collect();
    let own_target = broken
        .iter()
        .find(|b| b["deployment"]["name"] == "own-command")
        .unwrap();
    assert_eq!(
        own_target["containers"],
        json!(["server"]),
        "only the serving container"
    );
    demo.wait_settled().await;
    let after = demo.snapshot().await;
    assert_restored(&before, &after);
    let server = &containers(&after["mgmt-cluster:own-command"])[0];
    assert_eq!(
        server.command.as_deref(),
        Some(&["/opt/ibm/wlp/bin/server".to_string()][..])
    );
    assert_eq!(
        server.args.as_deref().map(|a| a.join(" ")),
        Some("run defaultServer --port=9080".to_string())
    );
    // Gone again, for the scenario that runs next on the same clusters.
    delete_and_wait(&demo.deployments("mgmt-cluster"), "own-command").await;
}

/// Delete `name` and wait until it is no longer there.
async fn delete_and_wait<K>(api: &Api<K>, name: &str)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.delete(name, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("{name} deleted: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while api.get_opt(name).await.unwrap().is_some() {
        assert!(
            Instant::now() < deadline,
            "{name} still there a minute after"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An HPA (autoscaling/v2) on a deployment of bookinfo.
async fn create_hpa(demo: &Demo, target: &str, min: i32) {
    let hpa: HorizontalPodAutoscaler = serde_json::from_value(json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": target, "namespace": "bookinfo"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": min, "maxReplicas": 3,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]
        }
    }))
    .unwrap();
    hpas(demo)
        .create(&PostParams::default(), &hpa)
        .await
        .unwrap();
}

/// The HPAs of bookinfo in mgmt-cluster.
fn hpas(demo: &Demo) -> Api<HorizontalPodAutoscaler> {
    Api::namespaced(demo.client("mgmt-cluster"), "bookinfo")
}

/// Strategic merge patch of a bookinfo deployment in mgmt-cluster.
async fn patch_deployment(demo: &Demo, name: &str, patch: Value) {
    demo.deployments("mgmt-cluster")
        .patch(name, &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
}

/// Where a line containing `needle` is in `text` (panics if absent).
fn line_at(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{text}"))
}

pub(super) async fn the_scale_break_passes_and_puts_back_the_exact_replica_counts(demo: &Demo) {
    demo.configure_guide().await;
    // reviews-v2 runs 2 replicas, and an HPA scales reviews-v1.
    patch_deployment(demo, "reviews-v2", json!({"spec": {"replicas": 2}})).await;
    create_hpa(demo, "reviews-v1", 1).await;
    demo.wait_settled().await;
    let before = demo.snapshot().await;
    let versions = demo.versions().await;
    let hpa_warning = "HorizontalPodAutoscaler bookinfo/reviews-v1 (minReplicas 1, maxReplicas 3) scales deployment mgmt-cluster:bookinfo/reviews-v1: while the deployment has 0 replicas the HPA leaves it alone (ScalingActive=False, reason ScalingDisabled";

    let dry = demo
        .run(&[
            "drill",
            "reviews-failover",
            "--dry-run",
            "--break-mode",
            "scale",
        ])
        .await;
    assert_eq!(dry.code, Some(0), "{}", dry.show());
    for text in [
        r#"{"spec":{"replicas":0}}"#,
        r#"{"metadata":{"annotations":{"drill.kubectl-smh.io/restore":null}},"spec":{"replicas":2}}"#,
        r#"\"scale\":{\"replicas\":2}"#,
        "Warnings (also shown before the confirmation):",
        hpa_warning,
    ] {
        assert!(dry.stdout.contains(text), "{text:?}: {}", dry.show());
    }
    assert_eq!(
        versions,
        demo.versions().await,
        "--dry-run changed something"
    );

    let run = demo
        .run(&drill_args(&["--break-mode", "scale", "-o", "json"]))
        .await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_live_lines_agree_with_the_report(&run, &report);
    assert_eq!(report["result"], "passed", "{}", run.show());
    assert_eq!(report["breakMode"], "scale");
    assert!(
        report["outlier"].is_null(),
        "no ejection model without endpoints"
    );
    let checks = report["restoreCheck"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{}", run.show());
    assert!(
        checks
            .iter()
            .all(|c| c["differences"].as_array().unwrap().is_empty())
    );
    // The warning comes before anything changes.
    let warned = line_at(&run.stderr, &format!("] warning: {hpa_warning}"));
    assert!(warned < line_at(&run.stderr, "confirm: preflight passed"));
    assert!(warned < line_at(&run.stderr, "saved the restore plan on"));
    for text in [
        "broke mgmt-cluster:bookinfo/reviews-v2: scaled to 0 replicas",
        "restored mgmt-cluster:bookinfo/reviews-v2: replicas as saved (2), annotation removed",
    ] {
        assert!(run.stderr.contains(text), "{text:?}: {}", run.show());
    }
    demo.wait_settled().await;
    let after = demo.snapshot().await;
    assert_restored(&before, &after);
    assert_eq!(
        after["mgmt-cluster:reviews-v2"]
            .spec
            .as_ref()
            .unwrap()
            .replicas,
        Some(2)
    );
    delete_and_wait(&hpas(demo), "reviews-v1").await;
}

/// An image without `sleep`: the new pod cannot start (StartError, CrashLoopBackOff); the
/// drill stops within seconds, says so, and restores. The scale break works there.
pub(super) async fn a_distroless_image_stops_the_drill_within_seconds_and_restores(demo: &Demo) {
    demo.configure_guide().await;
    patch_deployment(
        demo,
        "reviews-v1",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews",
            "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.16.2-distroless"}]}}}}),
    )
    .await;
    demo.wait_settled().await;
    let before = demo.snapshot().await;

    let run = demo.run(&drill_args(&["-o", "json"])).await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(
        run.stderr.contains("] warning: deployment mgmt-cluster:bookinfo/reviews-v1, container reviews: its image docker.io/istio/examples-bookinfo-reviews-v1:1.16.2-distroless looks distroless by its name"),
        "{}",
        run.show()
    );
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["result"], "failed");
    let summary = report["summary"].as_str().unwrap();
    for text in [
        "failed: the break did not take effect: deployment mgmt-cluster:bookinfo/reviews-v1: pod reviews-v1-",
        ": container reviews cannot run `sleep 20h`",
        "exec: \"sleep\": executable file not found in $PATH",
        "the image has no `sleep` (distroless or scratch-based); use --break-mode scale",
    ] {
        assert!(summary.contains(text), "{text:?}: {summary}");
    }
    let markers = &report["markers"];
    let stopped =
        markers["restoreApplied"].as_f64().unwrap() - markers["breakApplied"].as_f64().unwrap();
    assert!(
        stopped < 10.0,
        "stopped {stopped}s after the break, not within seconds"
    );
    assert!(
        run.stderr
            .contains("verify failback: restore rollout complete"),
        "the restore rolled out: {}",
        run.show()
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);

    // Scaling needs no `sleep`.
    let run = demo.run(&drill_args(&["--break-mode", "scale"])).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
}

/// A readiness probe with one replica: the rolling update would keep the old pod serving.
/// Preflight refuses the command patch (nothing changed) and names --break-mode scale;
/// chosen explicitly, the drill stops once the new pods are not Ready in time, and restores.
pub(super) async fn a_readiness_probe_refuses_the_command_patch_and_stops_it_fast_when_chosen(
    demo: &Demo,
) {
    demo.configure_guide().await;
    for d in ["reviews-v1", "reviews-v2"] {
        patch_deployment(
            demo,
            d,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "reviews",
                "readinessProbe": {"httpGet": {"path": "/health", "port": 9080},
                                   "periodSeconds": 1, "failureThreshold": 2}}]}}}}),
        )
        .await;
    }
    demo.wait_settled().await;
    let before = demo.snapshot().await;
    let versions = demo.versions().await;
    let why = "deployment mgmt-cluster:bookinfo/reviews-v1, container reviews: its readiness probe (httpGet :9080/health) fails once `sleep 20h` replaces the app, so the new pods never become Ready; with 1 replica and maxUnavailable 0 (maxSurge 1), the deployment controller keeps 1 old pod serving until new pods are Ready, so traffic never breaks, nothing fails over, and the rollout stalls until its progress deadline (600s). Use --break-mode scale";

    let run = demo.run(&drill_args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(
        run.stderr
            .contains("preflight: refused (2 problems), nothing was changed"),
        "{}",
        run.show()
    );
    assert!(run.stderr.contains(why), "{}", run.show());
    assert!(
        run.stderr.contains(
            "(the drill then stops and restores when the new pods are not Ready within 7.0s)"
        ),
        "the bound from the probe: 1s × 2 + 5s: {}",
        run.show()
    );
    assert_eq!(
        versions,
        demo.versions().await,
        "a refused drill patched something"
    );

    let dry = demo.run(&["drill", "reviews-failover", "--dry-run"]).await;
    assert_eq!(dry.code, Some(0), "{}", dry.show());
    assert!(
        dry.stdout
            .contains("Preflight would refuse, as the deployments are now:"),
        "{}",
        dry.show()
    );
    assert!(dry.stdout.contains(why), "{}", dry.show());

    // Bad values: exit 2, nothing changed.
    for (flag, value, says) in [
        (
            "--break-ready-timeout",
            "0",
            "--break-ready-timeout 0: must be more than 0",
        ),
        (
            "--break-mode",
            "sleep",
            "invalid value 'sleep' for '--break-mode <MODE>'",
        ),
    ] {
        let bad = demo.run(&drill_args(&[flag, value])).await;
        assert_eq!(bad.code, Some(2), "{}", bad.show());
        assert!(bad.stderr.contains(says), "{says:?}: {}", bad.show());
    }
    assert_eq!(versions, demo.versions().await);

    // Chosen explicitly: it runs, and stops when the new pods are not Ready within 2 s.
    let run = demo
        .run(&drill_args(&[
            "--break-mode",
            "command",
            "--break-ready-timeout",
            "2s",
            "-o",
            "json",
        ]))
        .await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(run.stderr.contains("] warning: deployment mgmt-cluster:bookinfo/reviews-v1, container reviews: its readiness probe"), "{}", run.show());
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let summary = report["summary"].as_str().unwrap();
    assert!(
        summary.contains("runs `sleep 20h` but is not Ready: its readiness probe (httpGet :9080/health) does not pass, for 2.0s (the limit, from its probes or --break-ready-timeout); the deployment controller keeps old pods until new ones are Ready"),
        "{summary}"
    );
    // The old pods kept serving: nothing failed over.
    assert_eq!(
        report["measurements"]["breakToFirstFailover"],
        Value::Null,
        "{}",
        run.show()
    );
    let markers = &report["markers"];
    let stopped =
        markers["restoreApplied"].as_f64().unwrap() - markers["breakApplied"].as_f64().unwrap();
    assert!(
        (2.0..10.0).contains(&stopped),
        "stopped {stopped}s after the break"
    );
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);

    // The scale break does not depend on the probes.
    let run = demo.run(&drill_args(&["--break-mode", "scale"])).await;
    assert_eq!(run.code, Some(0), "{}", run.show());
    demo.wait_settled().await;
    assert_restored(&before, &demo.snapshot().await);
}

/// Tools that may undo the break (by managedFields managers) and HPAs are warned about in
/// `--dry-run` and above the confirmation prompt; declining changes nothing.
pub(super) async fn owners_and_hpas_are_warned_about_in_dry_run_and_at_the_prompt(demo: &Demo) {
    use expectrl::{Eof, Expect};

    demo.configure_guide().await;
    // Argo CD (server-side apply) owns reviews-v1's replica count; Flux's
    // kustomize-controller applied reviews-v2 but only a label.
    let api = demo.deployments("mgmt-cluster");
    api.patch(
        "reviews-v1",
        &PatchParams::apply("argocd-controller").force(),
        &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "reviews-v1", "namespace": "bookinfo"},
            "spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    api.patch(
        "reviews-v2",
        &PatchParams::apply("kustomize-controller").force(),
        &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "reviews-v2", "namespace": "bookinfo",
                         "labels": {"kustomize.toolkit.fluxcd.io/name": "apps"}}})),
    )
    .await
    .unwrap();
    create_hpa(demo, "reviews-v2", 1).await;
    demo.wait_settled().await;
    let versions = demo.versions().await;
    let argo = "deployment mgmt-cluster:bookinfo/reviews-v1 is managed by Argo CD (field manager argocd-controller), which owns spec.replicas: with automated sync and self-heal it re-applies what Git holds as soon as the live object differs, which would put spec.replicas back and undo the break during the drill; turn off self-heal of its Application for the drill";
    let flux = "deployment mgmt-cluster:bookinfo/reviews-v2 is managed by Flux (kustomize-controller) (field manager kustomize-controller); it does not own spec.replicas";
    let hpa = "HorizontalPodAutoscaler bookinfo/reviews-v2 (minReplicas 1, maxReplicas 3) scales deployment mgmt-cluster:bookinfo/reviews-v2";

    let dry = demo
        .run(&[
            "drill",
            "reviews-failover",
            "--dry-run",
            "--break-mode",
            "scale",
            "-o",
            "json",
        ])
        .await;
    assert_eq!(dry.code, Some(0), "{}", dry.show());
    let v: Value = serde_json::from_str(&dry.stdout).unwrap();
    let warnings: Vec<&str> = v["assessment"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    assert_eq!(warnings[0], argo);
    assert!(warnings[1].starts_with(flux), "{warnings:#?}");
    assert!(warnings[2].starts_with(hpa), "{warnings:#?}");
    assert_eq!(v["assessment"]["refusals"], json!([]));
    // The command patch: Argo CD does not own the command.
    let dry = demo.run(&["drill", "reviews-failover", "--dry-run"]).await;
    assert!(
        dry.stdout.contains("is managed by Argo CD (field manager argocd-controller); it does not own the command of container reviews"),
        "{}",
        dry.show()
    );

    // On a terminal, without --yes: the warnings, then the question; say no.
    let (kubeconfig, config) = (demo.kubeconfig.clone(), demo.config.clone());
    let (seen, status) = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-smh"));
        cmd.args([
            "drill",
            "reviews-failover",
            "--break-mode",
            "scale",
            "--probe-rate",
            "20",
            "--baseline-probes",
            "10",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env("KUBECTL_SMH_CONFIG", &config)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
        let mut p = expectrl::Session::spawn(cmd).expect("spawned on a pty");
        p.get_process_mut()
            .set_window_size(1000, 40)
            .expect("window size");
        p.set_expect_timeout(Some(Duration::from_secs(60)));
        let asked = p.expect("Break them now?").expect("the question");
        let seen = String::from_utf8_lossy(asked.before()).into_owned();
        p.send("n").expect("answer");
        p.expect(Eof).expect("the end");
        let status = format!("{:?}", p.get_process().wait().expect("exit status"));
        (seen, status)
    })
    .await
    .unwrap();
    assert!(status.ends_with(", 1)"), "{status}\n{seen}");
    let prompt = seen
        .rfind("Warnings:")
        .map(|i| &seen[i..])
        .unwrap_or_else(|| panic!("no warnings above the question:\n{seen}"));
    for w in [argo, flux, hpa] {
        assert!(
            prompt.contains(&format!("- {w}")),
            "{w:?} not in:\n{prompt}"
        );
    }
    assert!(
        prompt.contains("The drill will break 2 deployments in context mgmt-cluster"),
        "{prompt}"
    );
    assert!(
        prompt.contains("(scaled to 0 replicas), verify failover"),
        "{prompt}"
    );
    assert_eq!(
        versions,
        demo.versions().await,
        "declined, yet something changed"
    );
    without_the_hpa_and_the_flux_label(demo).await;
}

/// For the scenarios that run next on the same clusters: no HPA, no Flux label (the field
/// managers' ownership stays; on real control planes the owners scenario runs last).
async fn without_the_hpa_and_the_flux_label(demo: &Demo) {
    delete_and_wait(&hpas(demo), "reviews-v2").await;
    demo.deployments("mgmt-cluster")
        .patch(
            "reviews-v2",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": null}}}),
            ),
        )
        .await
        .unwrap();
}

/// Multi-primary mode with mgmt-cluster's remote secret for remote-cluster recreated under
/// the SMH name (`istioctl create-remote-secret --name remote-cluster`): istiod labels the
/// remote endpoints `topology.istio.io/cluster=remote-cluster`, so the subset the failover
/// goes to (cluster2) selects nothing. Preflight refuses with `check`'s finding and its fix,
/// and nothing is patched. With the aggregate strategy, whose per-cluster subsets select the
/// cluster IDs (the native strategy's priority names only the primary's).
pub(super) async fn preflight_refuses_a_multi_primary_drill_whose_remote_secret_has_the_wrong_key(
    demo: &Demo,
) {
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::DeleteParams;
    demo.configure_guide_with(&["--strategy", "aggregate"])
        .await;
    let secrets: Api<Secret> = Api::namespaced(demo.client("mgmt-cluster"), "istio-system");
    let old = secrets.get("istio-remote-secret-cluster2").await.unwrap();
    secrets
        .delete("istio-remote-secret-cluster2", &DeleteParams::default())
        .await
        .unwrap();
    let old_secret = old.clone();
    let kubeconfig = old.data.unwrap().into_values().next().unwrap();
    let new: Secret = serde_json::from_value(json!({
        "metadata": {"name": "istio-remote-secret-remote-cluster", "namespace": "istio-system",
                     "labels": {"istio/multiCluster": "true"},
                     "annotations": {"networking.istio.io/cluster": "remote-cluster"}},
        "data": {"remote-cluster": kubeconfig},
    }))
    .unwrap();
    secrets.create(&PostParams::default(), &new).await.unwrap();

    let versions = demo.versions().await;
    let run = demo.run(&drill_args(&[])).await;
    assert_eq!(run.code, Some(1), "{}", run.show());
    for needle in [
        "preflight: refused",
        "mgmt-cluster: remote secret istio-system/istio-remote-secret-remote-cluster is for remote-cluster but is keyed \"remote-cluster\", not remote-cluster's Istio cluster ID \"cluster2\"",
        "the subsets on topology.istio.io/cluster=cluster2 in DestinationRule bookinfo/reviews there select nothing, and traffic sent to them gets 503s",
        "recreate it under remote-cluster's cluster ID: \"istioctl create-remote-secret --context=remote-cluster --name=cluster2 | kubectl apply --context=mgmt-cluster -f -\"",
        "refused by preflight, nothing changed",
    ] {
        assert!(
            run.stderr.contains(needle),
            "missing {needle:?}\n{}",
            run.show()
        );
    }
    assert_eq!(
        versions,
        demo.versions().await,
        "preflight refusal patched something"
    );
    // The remote secret as it was, for the scenarios that run next on the same clusters.
    secrets
        .delete(
            "istio-remote-secret-remote-cluster",
            &DeleteParams::default(),
        )
        .await
        .unwrap();
    let mut old = old_secret;
    old.metadata = kube::core::ObjectMeta {
        name: old.metadata.name,
        namespace: old.metadata.namespace,
        labels: old.metadata.labels,
        annotations: old.metadata.annotations,
        ..Default::default()
    };
    secrets.create(&PostParams::default(), &old).await.unwrap();
}
