//! One load of bookinfo's productpage, as the HTML says it: the stars' colour and who served
//! the reviews.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one page showed.
#[derive(Debug)]
pub(crate) struct Served {
    /// `Some("black")` (reviews-v2), `Some("red")` (reviews-v3), `None` (reviews-v1, or an
    /// error fetching the reviews).
    pub(crate) stars: Option<&'static str>,
    /// The reviews pod ("Reviews served by") and its cluster.
    pub(crate) pod: String,
    pub(crate) cluster: String,
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    s.split_once(start)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(v, _)| v)
        .unwrap_or_default()
}

/// GET /productpage on `127.0.0.1:port`.
pub(crate) async fn load(port: u16) -> Served {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(b"GET /productpage HTTP/1.1\r\nHost: localhost:9080\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("the page within 20 s")
        .unwrap();
    let page = String::from_utf8_lossy(&out);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let stars = if page.contains("<font color=\"red\">") {
        Some("red")
    } else if page.contains("<font color=\"black\">") {
        Some("black")
    } else {
        None
    };
    let served = between(&page, "Reviews served by:</dt>", "</dl>");
    Served {
        stars,
        pod: between(served, "<u>", "</u>").to_string(),
        cluster: between(served, "on cluster <u>", "</u>").to_string(),
    }
}
