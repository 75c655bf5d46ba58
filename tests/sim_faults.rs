//! Fault knobs of the simulated clusters, observed by a kube-rs client: latency, injected
//! 500 and 429 answers, requests that are never answered, and clusters that stop answering.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, PostParams};
use kube::{Client, Config, Error};
use smh_sim::cluster::{ClusterOptions, SimCluster};
use smh_sim::faults::{ErrorKind, FaultConfig, Unreachable};
use smh_sim::fleet::{FleetOptions, SimFleet};

fn client(c: &SimCluster, read_timeout: Option<Duration>, retry: bool) -> Client {
    let mut cfg = Config::new(c.url().parse().unwrap());
    cfg.auth_info =
        serde_json::from_value(serde_json::json!({"token": smh_sim::cluster::ADMIN_TOKEN}))
            .unwrap();
    cfg.read_timeout = read_timeout;
    cfg.connect_timeout = Some(Duration::from_secs(2));
    cfg.default_retry = retry;
    Client::try_from(cfg).unwrap()
}

async fn get_default(client: &Client) -> Result<Namespace, Error> {
    Api::<Namespace>::all(client.clone()).get("default").await
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let c = SimCluster::start(ClusterOptions::new("slow"))
        .await
        .unwrap();
    let cl = client(&c, None, false);
    get_default(&cl).await.unwrap();
    c.faults().set_latency(Duration::from_millis(150));
    let t = Instant::now();
    for _ in 0..3 {
        get_default(&cl).await.unwrap();
    }
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(450),
        "3 requests with 150 ms latency took {took:?}"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn injected_500s_follow_the_rate() {
    let mut o = ClusterOptions::new("flaky");
    o.faults = FaultConfig {
        errors: vec![(0.5, ErrorKind::Internal)],
        seed: Some(42),
        ..Default::default()
    };
    let c = SimCluster::start(o).await.unwrap();
    let cl = client(&c, None, false);
    let mut failed = 0;
    for _ in 0..200 {
        match get_default(&cl).await {
            Ok(_) => {}
            Err(Error::Api(s)) => {
                assert_eq!((s.code, s.reason.as_str()), (500, "InternalError"));
                failed += 1;
            }
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert!(
        (70..=130).contains(&failed),
        "{failed} of 200 failed at rate 0.5"
    );
    c.faults().set_error_rate(ErrorKind::Internal, 1.0);
    assert!(get_default(&cl).await.is_err());
    c.faults().clear();
    get_default(&cl).await.unwrap();
    c.shutdown().await;
}

#[tokio::test]
async fn injected_429s_carry_retry_after() {
    let c = SimCluster::start(ClusterOptions::new("busy"))
        .await
        .unwrap();
    c.faults().set_error_rate(ErrorKind::TooManyRequests, 1.0);
    let cl = client(&c, None, false);
    let req = axum::http::Request::get("/api/v1/namespaces/default")
        .body(vec![])
        .unwrap();
    let resp = cl.send(req.map(Into::into)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers().get("retry-after").unwrap(), "1");
    match get_default(&cl).await {
        Err(Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (429, "TooManyRequests")),
        other => panic!("expected 429, got {other:?}"),
    }
    c.shutdown().await;
}

#[tokio::test]
async fn unanswered_requests_time_out() {
    let c = SimCluster::start(ClusterOptions::new("silent"))
        .await
        .unwrap();
    let cl = client(&c, Some(Duration::from_millis(300)), false);
    get_default(&cl).await.unwrap();
    c.faults().set_error_rate(ErrorKind::Timeout, 1.0);
    // On the connection kept from the first answer, the read timeout runs from when that
    // idle connection began its read, not from this request, so it can fire sooner than
    // 300 ms after it: the timed request goes over a fresh connection.
    assert!(get_default(&cl).await.is_err());
    let fresh = client(&c, Some(Duration::from_millis(300)), false);
    let t = Instant::now();
    let err = get_default(&fresh).await.unwrap_err();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}: {err:?}",
        t.elapsed()
    );
    assert!(
        !matches!(err, Error::Api(_)),
        "a timeout, not an answer: {err:?}"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn unreachable_clusters_hang_or_close_and_recover() {
    let c = SimCluster::start(ClusterOptions::new("down"))
        .await
        .unwrap();
    let cl = client(&c, Some(Duration::from_millis(300)), false);
    get_default(&cl).await.unwrap();

    c.faults().set_unreachable(Some(Unreachable::Hang));
    // A request on the connection kept from the first one is not answered: the client's
    // read timeout ends it. (No lower bound on the time here: that timer runs from when the
    // idle connection started its read, i.e. since the first answer, not since this request.)
    assert!(get_default(&cl).await.is_err());
    // A new connection is accepted but never answered either: the read timeout, started on
    // the fresh connection, fires after its full 300 ms.
    let fresh = client(&c, Some(Duration::from_millis(300)), false);
    let t = Instant::now();
    assert!(get_default(&fresh).await.is_err());
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "hang means the client's timeout fires, took {:?}",
        t.elapsed()
    );

    c.faults().set_unreachable(Some(Unreachable::Close));
    let t = Instant::now();
    assert!(get_default(&fresh).await.is_err());
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "closed connections fail at once, took {:?}",
        t.elapsed()
    );

    c.faults().set_unreachable(None);
    get_default(&client(&c, Some(Duration::from_secs(5)), false))
        .await
        .unwrap();
    c.shutdown().await;
}

#[tokio::test]
async fn fleet_faults_start_after_the_readiness_check() {
    let mut opts = FleetOptions::demo();
    opts.clusters[1].faults.unreachable = Some(Unreachable::Hang);
    opts.clusters[1].faults.latency = Duration::from_millis(10);
    let fleet = SimFleet::start(opts)
        .await
        .expect("a hanging cluster still starts");
    let remote = fleet.cluster("remote-cluster").unwrap();
    assert_eq!(
        remote.faults().config().unreachable,
        Some(Unreachable::Hang)
    );
    assert!(
        get_default(&client(remote, Some(Duration::from_millis(200)), false))
            .await
            .is_err()
    );
    let mgmt = fleet.cluster("mgmt-cluster").unwrap();
    get_default(&client(mgmt, Some(Duration::from_secs(5)), false))
        .await
        .unwrap();
    fleet.shutdown().await;
}

#[tokio::test]
async fn the_next_answer_to_a_method_is_cut_after_the_request_was_carried_out() {
    let c = SimCluster::start(ClusterOptions::new("cut")).await.unwrap();
    let cl = client(&c, Some(Duration::from_secs(5)), false);
    let api: Api<ConfigMap> = Api::namespaced(cl, "default");
    let cm = serde_json::from_value(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "a"}, "data": {"k": "v"}}))
    .unwrap();
    c.faults().cut_next_answers("delete", "/configmaps/", 1);
    api.create(&PostParams::default(), &cm).await.unwrap();
    let lost = api.delete("a", &DeleteParams::default()).await;
    assert!(lost.is_err(), "the DELETE's answer was cut: {lost:?}");
    // It was carried out, and only the next DELETE's answer was cut.
    assert!(api.get_opt("a").await.unwrap().is_none());
    api.create(&PostParams::default(), &cm).await.unwrap();
    api.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(api.get_opt("a").await.unwrap().is_none());
}

/// A `close` fault cuts the answer in its middle: the client has the status line and headers
/// (the request was carried out and answered), then the connection closes before the body
/// ends. A client can tell this from a connection closed before any answer
/// (`Unreachable::Close`), and retries it as an answer from a live API server.
#[tokio::test]
async fn a_close_fault_sends_the_head_then_cuts_the_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let c = SimCluster::start(ClusterOptions::new("cut")).await.unwrap();
    c.faults().set_error_rate(ErrorKind::Close, 1.0);
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(c.addr()).await.unwrap();
        let req = format!(
            "GET /api/v1/namespaces/default HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
            smh_sim::cluster::ADMIN_TOKEN
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got))
            .await
            .expect("the connection is closed");
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text:?}");
        assert!(text.contains("transfer-encoding: chunked"), "{text:?}");
        // The chunked body never ends (no last chunk).
        assert!(!text.ends_with("0\r\n\r\n"), "{text:?}");
    }
    c.shutdown().await;
}
