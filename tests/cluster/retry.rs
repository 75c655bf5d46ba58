//! The retry layer of every client (`smh_cluster::retry`) over HTTP against a simulated
//! cluster with injected faults: safe requests ride out each kind of fault, a request that
//! is not safe to repeat is sent once, a named create is repeated into its 409, a 503 window
//! is waited out as `Retry-After` says, retrying stops when the command's `--retry-timeout`
//! is spent, a cluster that never answered is not waited for, and a watch cut mid-event
//! resumes.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use smh_cluster::retry::{RetryEvent, RetryOptions, RetryStats};
use smh_cluster::{
    ClusterClient, ClusterName, Contexts, KubeconfigOrigin, KubeconfigSet, Registry,
};
use smh_sim::faults::ErrorKind;
use smh_sim::fleet::{FleetOptions, SimFleet};

async fn fleet() -> SimFleet {
    SimFleet::start(FleetOptions::demo())
        .await
        .expect("the demo clusters start")
}

struct Setup {
    client: ClusterClient,
    stats: Arc<RetryStats>,
    events: Arc<Mutex<Vec<RetryEvent>>>,
}

async fn client(fleet: &SimFleet, dir: &Path, timeout: Duration, retry_timeout: Duration) -> Setup {
    let path = dir.join("kubeconfig.yaml");
    fleet.write_kubeconfig(&path).expect("kubeconfig written");
    let events: Arc<Mutex<Vec<RetryEvent>>> = Arc::default();
    let seen = events.clone();
    let retry = RetryOptions {
        retry_timeout,
        log: Some(Arc::new(move |e: &RetryEvent| {
            seen.lock().unwrap().push(e.clone())
        })),
        ..Default::default()
    };
    let stats = retry.stats.clone();
    let contexts = Contexts::new(
        KubeconfigSet::load_origin(KubeconfigOrigin::Flag(path)).unwrap(),
        Default::default(),
        Registry::empty(dir.join("clusters.yaml")),
        None,
        timeout,
    )
    .with_retry(retry);
    let target = contexts
        .cluster_target(&ClusterName::from("remote-cluster"))
        .unwrap();
    Setup {
        client: contexts.client(&target).await.unwrap(),
        stats,
        events,
    }
}

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"v": value},
    }))
    .unwrap()
}

fn ssa() -> PatchParams {
    PatchParams::apply("retry-test").force()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safe_requests_ride_out_every_kind_of_fault() {
    let fleet = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let remote = fleet.cluster("remote-cluster").unwrap();
    for kind in [
        ErrorKind::Internal,
        ErrorKind::TooManyRequests,
        ErrorKind::Unavailable,
        ErrorKind::Close,
        ErrorKind::Timeout,
    ] {
        let s = client(
            &fleet,
            dir.path(),
            Duration::from_millis(500),
            Duration::from_secs(60),
        )
        .await;
        let namespaces: Api<Namespace> = Api::all(s.client.client.clone());
        let cms: Api<ConfigMap> = Api::namespaced(s.client.client.clone(), "default");
        remote.faults().clear();
        // Answered once, the cluster is retried as one that is there (one that never
        // answered is not waited for long: see the test below).
        namespaces.get("default").await.unwrap();
        remote.faults().set_error_rate(kind, 0.3);
        for i in 0..6 {
            namespaces
                .get("default")
                .await
                .unwrap_or_else(|e| panic!("{kind}: get: {e}"));
            namespaces
                .list(&Default::default())
                .await
                .unwrap_or_else(|e| panic!("{kind}: list: {e}"));
            cms.patch(
                &format!("c{i}"),
                &ssa(),
                &Patch::Apply(cm(&format!("c{i}"), "x")),
            )
            .await
            .unwrap_or_else(|e| panic!("{kind}: apply: {e}"));
        }
        remote.faults().clear();
        assert!(
            s.stats.retries() > 0,
            "{kind}: 18 requests at 30% and no retry"
        );
        assert_eq!(s.stats.exhausted(), 0, "{kind}");
        let events = s.events.lock().unwrap();
        assert_eq!(events.len() as u64, s.stats.retries());
        assert!(
            events.iter().all(|e| e.cluster == "remote-cluster"),
            "{events:?}"
        );
        let expected = match kind {
            ErrorKind::Internal => "500 Internal Server Error",
            ErrorKind::TooManyRequests => "429 Too Many Requests",
            ErrorKind::Unavailable => "503 Service Unavailable",
            // Ours, or the connector's read timeout, whichever fires first.
            ErrorKind::Timeout => "no answer within 500ms|timed out",
            ErrorKind::Close => "",
        };
        assert!(
            events
                .iter()
                .all(|e| expected.split('|').any(|x| e.cause.contains(x))),
            "{kind}: {events:?}"
        );
        if matches!(kind, ErrorKind::TooManyRequests | ErrorKind::Unavailable) {
            // Retry-After: 1 is honoured.
            assert!(
                events.iter().all(|e| e.wait == Duration::from_secs(1)),
                "{events:?}"
            );
        }
    }
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_not_safe_to_repeat_is_sent_once() {
    let fleet = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let remote = fleet.cluster("remote-cluster").unwrap();
    let s = client(
        &fleet,
        dir.path(),
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(s.client.client.clone(), "default");
    cms.list(&Default::default()).await.unwrap();
    // A create with generateName is carried out, then the answer is cut: a repeat would
    // make a second object, so it is not sent again.
    remote.faults().set_error_rate(ErrorKind::Close, 1.0);
    let mut generated = cm("", "1");
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    cms.create(&PostParams::default(), &generated)
        .await
        .unwrap_err();
    remote.faults().set_error_rate(ErrorKind::Close, 0.0);
    remote.faults().set_error_rate(ErrorKind::Internal, 1.0);
    let err = cms
        .create(&PostParams::default(), &generated)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 500),
        "{err:?}"
    );
    remote.faults().set_error_rate(ErrorKind::Internal, 0.0);
    let made: Vec<String> = cms
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .filter(|n| n.starts_with("gen-"))
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    remote.faults().set_error_rate(ErrorKind::Close, 1.0);
    // A named create is: carried out, its answer cut, the repeat meets 409 AlreadyExists,
    // and there is one object.
    let t = Instant::now();
    let create = {
        let cms = cms.clone();
        tokio::spawn(async move { cms.create(&PostParams::default(), &cm("once", "1")).await })
    };
    while s.stats.retries() == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no retry of a named create"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    remote.faults().set_error_rate(ErrorKind::Close, 0.0);
    match create.await.unwrap() {
        Err(kube::Error::Api(st)) => {
            assert_eq!((st.code, st.reason.as_str()), (409, "AlreadyExists"))
        }
        other => panic!("expected 409 AlreadyExists, got {other:?}"),
    }
    let retried = s.stats.retries();
    remote.faults().set_error_rate(ErrorKind::Internal, 1.0);
    // A merge patch without a resourceVersion neither.
    let merge = serde_json::json!({"data": {"v": "2"}});
    let err = cms
        .patch("once", &PatchParams::default(), &Patch::Merge(&merge))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 500),
        "{err:?}"
    );
    assert_eq!(s.stats.retries(), retried, "{:?}", s.events.lock().unwrap());
    remote.faults().clear();
    assert_eq!(cms.get("once").await.unwrap().data.unwrap()["v"], "1");
    // With its resourceVersion, the same patch is retried: the first attempt is carried
    // out and its answer cut, the repeat meets 409 (the precondition), never a double write.
    let rv = cms
        .get("once")
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let guarded = serde_json::json!({"metadata": {"resourceVersion": rv}, "data": {"v": "3"}});
    remote.faults().set_error_rate(ErrorKind::Close, 1.0);
    let t = Instant::now();
    let cut = tokio::spawn(async move {
        cms.patch("once", &PatchParams::default(), &Patch::Merge(&guarded))
            .await
    });
    // Let the first attempt be cut, then answer the repeats.
    while s.stats.retries() == retried {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no retry of a guarded patch"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    remote.faults().clear();
    match cut.await.unwrap() {
        Err(kube::Error::Api(st)) => assert_eq!(st.code, 409, "{st:?}"),
        other => panic!("expected the precondition's 409, got {other:?}"),
    }
    let cms: Api<ConfigMap> = Api::namespaced(s.client.client.clone(), "default");
    assert_eq!(cms.get("once").await.unwrap().data.unwrap()["v"], "3");
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_plane_under_rollout_is_waited_out_and_retries_stop_at_the_bound() {
    let fleet = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let remote = fleet.cluster("remote-cluster").unwrap();
    let s = client(
        &fleet,
        dir.path(),
        Duration::from_secs(5),
        Duration::from_secs(30),
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(s.client.client.clone());
    remote
        .faults()
        .set_unavailable_for(Duration::from_millis(2500));
    let t = Instant::now();
    namespaces.get("default").await.unwrap();
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(2500), "{took:?}");
    let events = s.events.lock().unwrap().clone();
    assert!((2..=4).contains(&events.len()), "{events:?}");
    for e in &events {
        assert_eq!(
            (e.verb, e.resource.as_str(), e.cause.as_str(), e.wait),
            (
                "get",
                "namespaces default",
                "503 Service Unavailable",
                Duration::from_secs(1)
            )
        );
    }

    // Failing for good: retried until --retry-timeout, then the last answer is the error.
    let s = client(
        &fleet,
        dir.path(),
        Duration::from_secs(5),
        Duration::from_secs(2),
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(s.client.client.clone());
    remote.faults().set_error_rate(ErrorKind::Internal, 1.0);
    let t = Instant::now();
    let err = namespaces.get("default").await.unwrap_err();
    let took = t.elapsed();
    assert!(
        matches!(&err, kube::Error::Api(st) if st.code == 500),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(s.stats.retries() >= 2, "{}", s.stats.retries());
    assert_eq!(s.stats.exhausted(), 1);
    // The bound is the command's, not the request's: the next request has what is left
    // (a bound per request would give it 2s again: waits of 100-200, 200-400, 400-800 ms
    // fit in it, at least 0.7s more).
    namespaces.get("default").await.unwrap_err();
    let took = t.elapsed();
    assert!(took < Duration::from_millis(2600), "{took:?}");
    assert!(
        s.stats.retry_time() <= Duration::from_secs(2),
        "{:?}",
        s.stats.retry_time()
    );
    assert_eq!(s.stats.exhausted(), 2);
    let before = s.stats.retries();
    // Renewed (as the drill does for its restore), it is retried again.
    s.stats.renew_budget();
    remote.faults().set_error_rate(ErrorKind::Internal, 0.0);
    remote
        .faults()
        .set_unavailable_for(Duration::from_millis(500));
    namespaces.get("default").await.unwrap();
    assert!(s.stats.retries() > before, "{}", s.stats.retries());
    remote.faults().clear();
    remote.faults().set_error_rate(ErrorKind::Internal, 1.0);

    // 0 turns retries off.
    let s = client(&fleet, dir.path(), Duration::from_secs(5), Duration::ZERO).await;
    let namespaces: Api<Namespace> = Api::all(s.client.client.clone());
    namespaces.get("default").await.unwrap_err();
    assert_eq!(s.stats.retries(), 0);
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_never_answered_fails_fast_and_one_that_answered_is_waited_for() {
    use smh_sim::faults::Unreachable;
    let fleet = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let remote = fleet.cluster("remote-cluster").unwrap();
    // Connections closed at once, from the first request: not retried (nothing that
    // answers as an API server is there), whatever the budget.
    remote.faults().set_unreachable(Some(Unreachable::Close));
    let s = client(
        &fleet,
        dir.path(),
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(s.client.client.clone());
    let t = Instant::now();
    namespaces.get("default").await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(s.stats.retries(), 0, "{:?}", s.events.lock().unwrap());
    // No answer at all: a few timeouts, not the whole budget.
    remote.faults().set_unreachable(Some(Unreachable::Hang));
    let s = client(
        &fleet,
        dir.path(),
        Duration::from_millis(300),
        Duration::from_secs(60),
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(s.client.client.clone());
    let t = Instant::now();
    namespaces.get("default").await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(s.stats.retries(), 3, "{:?}", s.events.lock().unwrap());
    // The same cluster after it answered: a closed connection is an API server
    // restarting behind its address, retried until it answers again.
    remote.faults().clear();
    let s = client(
        &fleet,
        dir.path(),
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .await;
    let namespaces: Api<Namespace> = Api::all(s.client.client.clone());
    namespaces.get("default").await.unwrap();
    remote.faults().set_unreachable(Some(Unreachable::Close));
    let get = tokio::spawn(async move { namespaces.get("default").await });
    let t = Instant::now();
    while s.stats.retries() < 2 {
        assert!(t.elapsed() < Duration::from_secs(20), "not retried");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    remote.faults().clear();
    get.await.unwrap().unwrap();
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_cut_mid_event_resumes_and_misses_nothing() {
    let fleet = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let remote = fleet.cluster("remote-cluster").unwrap();
    let s = client(
        &fleet,
        dir.path(),
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(s.client.client.clone(), "default");
    let cfg = watcher::Config::default().labels("watched=yes");
    let mut stream = watcher(cms.clone(), cfg).default_backoff().boxed();
    // One answer first: connections closed by a cluster that never answered are not retried
    // (a_cluster_that_never_answered_fails_fast_and_one_that_answered_is_waited_for), and
    // this test is about one that has.
    cms.list(&Default::default()).await.unwrap();
    remote.faults().set_error_rate(ErrorKind::Close, 0.4);
    // At least one fault for certain (a 40 % rate alone misses all of the dozen or so
    // requests once in a few hundred runs, and did once): the first write's answer is cut.
    remote
        .faults()
        .cut_next_answers("PATCH", "/configmaps/w0", 1);
    let writer = {
        let cms = cms.clone();
        tokio::spawn(async move {
            for i in 0..8 {
                let mut c = cm(&format!("w{i}"), "x");
                c.metadata.labels = Some([("watched".to_string(), "yes".to_string())].into());
                cms.patch(&format!("w{i}"), &ssa(), &Patch::Apply(c))
                    .await
                    .unwrap();
            }
        })
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut cut = 0;
    let t = Instant::now();
    while seen.len() < 8 {
        assert!(t.elapsed() < Duration::from_secs(60), "saw {seen:?}");
        match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
            Ok(Some(Ok(watcher::Event::Apply(c) | watcher::Event::InitApply(c)))) => {
                seen.insert(c.metadata.name.unwrap());
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_))) => cut += 1,
            Ok(None) => panic!("the watch ended"),
            Err(_) => panic!("no event for 30s; saw {seen:?}"),
        }
    }
    writer.await.unwrap();
    remote.faults().clear();
    assert!(cut > 0 || s.stats.retries() > 0, "no fault met");
    fleet.shutdown().await;
}
