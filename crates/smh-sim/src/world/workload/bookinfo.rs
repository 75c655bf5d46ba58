//! The applications the simulated pods run: Istio's bookinfo (productpage, details, reviews
//! v1/v2/v3, ratings) as in `istio/istio samples/bookinfo`, istiod and the
//! ingress gateway as trivial health servers, and a generic echo server for other images.
//!
//! Wire formats follow the originals: reviews answers the JSON its Java service writes
//! (`"color": "red"` with a space, `podname`, `clustername`); productpage renders the 2020
//! Bootstrap template (`<font color="...">` with `glyphicon glyphicon-star` spans), calls
//! details once and reviews up to twice (its Python loop), each with a 3 s timeout, and shows
//! "Error fetching product reviews!" when both fail.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::http::{BoxFuture, Handler, HttpRequest, HttpResponse, OutboundRequest};
use crate::logs::ContainerLog;
use crate::world::mesh::sidecar::Outbound;
use crate::world::obj::str_at;

/// What a container runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum App {
    Productpage,
    Details,
    Reviews {
        version: String,
        ratings: bool,
        color: String,
    },
    Ratings,
    /// istiod: `/ready`, `/version` on its HTTP ports.
    Istiod {
        version: String,
    },
    /// The Istio proxy agent of a sidecar or gateway: its status port (`/healthz/ready`)
    /// answers; the data path itself is modelled in-process (`mesh`).
    IstioProxy,
    /// Any other image with ports: answers every request with its pod name.
    Echo,
}

/// Everything a running application knows about where it runs.
#[derive(Clone)]
pub(crate) struct AppContext {
    pub pod_name: String,
    pub cluster: String,
    pub outbound: Outbound,
}

fn env(container: &Value, name: &str) -> Option<String> {
    container
        .get("env")
        .and_then(Value::as_array)?
        .iter()
        .find(|e| str_at(e, "/name") == name)
        .and_then(|e| e.get("value").and_then(Value::as_str))
        .map(str::to_string)
}

/// Which application a container runs, and on which TCP ports; `None` when nothing listens
/// (sidecar proxies, DNS servers, overridden commands).
pub(crate) fn app_for(container: &Value) -> Option<(App, Vec<u16>)> {
    let has_command = container
        .get("command")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    if has_command {
        // The image's own entrypoint does not run (the guide's `sleep 20h`).
        return None;
    }
    let image = str_at(container, "/image");
    let repo = image.rsplit('/').next().unwrap_or(image);
    let repo = repo.split([':', '@']).next().unwrap_or(repo);
    let tag = image.rsplit_once(':').map_or("", |(_, t)| t);
    let ports: Vec<u16> = container
        .get("ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter(|p| str_at(p, "/protocol").is_empty() || str_at(p, "/protocol") == "TCP")
                .filter_map(|p| p.get("containerPort").and_then(Value::as_u64))
                .filter_map(|p| u16::try_from(p).ok())
                .collect()
        })
        .unwrap_or_default();
    let app = if let Some(v) = repo.strip_prefix("examples-bookinfo-reviews-") {
        let version = v.to_string();
        let (mut ratings, mut color) = match version.as_str() {
            "v1" => (false, "black".to_string()),
            "v3" => (true, "red".to_string()),
            _ => (true, "black".to_string()),
        };
        if let Some(e) = env(container, "ENABLE_RATINGS") {
            ratings = e == "true";
        }
        if let Some(c) = env(container, "STAR_COLOR") {
            color = c;
        }
        App::Reviews {
            version,
            ratings,
            color,
        }
    } else if repo.starts_with("examples-bookinfo-productpage") {
        App::Productpage
    } else if repo.starts_with("examples-bookinfo-details") {
        App::Details
    } else if repo.starts_with("examples-bookinfo-ratings") {
        App::Ratings
    } else if repo == "pilot" {
        // The image variant (`-distroless`, `-debug`) is not part of the version.
        App::Istiod {
            version: tag
                .strip_suffix("-distroless")
                .or_else(|| tag.strip_suffix("-debug"))
                .unwrap_or(tag)
                .to_string(),
        }
    } else if repo == "proxyv2" {
        if str_at(container, "/name") == "istio-init" {
            return None;
        }
        return Some((App::IstioProxy, vec![15021]));
    } else if repo.contains("coredns") || ports.is_empty() {
        // DNS servers (UDP) and images without ports serve nothing over HTTP.
        return None;
    } else {
        App::Echo
    };
    let ports = if ports.is_empty() { vec![9080] } else { ports };
    Some((app, ports))
}

/// The request handler of `app` running in the pod described by `ctx`; it writes one line
/// per request to the container's `log` (`"GET /reviews/0 HTTP/1.1" 200 295`), except for
/// the proxy agent's health checks.
pub(crate) fn handler(app: App, ctx: AppContext, log: Arc<ContainerLog>) -> Handler {
    let app = Arc::new(app);
    Arc::new(move |req: HttpRequest| {
        let app = app.clone();
        let ctx = ctx.clone();
        let log = log.clone();
        Box::pin(async move {
            let line = format!("\"{} {} HTTP/1.1\"", req.method, req.path);
            let resp = handle(&app, &ctx, req).await;
            if !matches!(*app, App::IstioProxy) {
                log.write(format!("{line} {} {}", resp.status, resp.body.len()));
            }
            resp
        }) as BoxFuture
    })
}

async fn handle(app: &App, ctx: &AppContext, req: HttpRequest) -> HttpResponse {
    let path = req.path_only().to_string();
    match app {
        App::Productpage => productpage(ctx, &req, &path).await,
        App::Details => details(&path),
        App::Reviews {
            version,
            ratings,
            color,
        } => reviews(ctx, &req, &path, version, *ratings, color).await,
        App::Ratings => ratings(&path),
        App::Istiod { version } => match path.as_str() {
            "/ready" => HttpResponse::text(200, ""),
            "/version" => HttpResponse::text(200, version.clone()),
            _ => HttpResponse::text(404, "404 page not found\n"),
        },
        App::IstioProxy => match path.as_str() {
            "/healthz/ready" => HttpResponse::text(200, ""),
            _ => HttpResponse::text(404, ""),
        },
        App::Echo => HttpResponse::text(200, format!("{}\n", ctx.pod_name)),
    }
}

fn product_id(path: &str, prefix: &str) -> Option<i64> {
    path.strip_prefix(prefix)?
        .trim_end_matches('/')
        .parse()
        .ok()
}

fn details_json(id: i64) -> String {
    json!({
        "id": id,
        "author": "William Shakespeare",
        "year": 1595,
        "type": "paperback",
        "pages": 200,
        "publisher": "PublisherA",
        "language": "English",
        "ISBN-10": "1234567890",
        "ISBN-13": "123-1234567890",
    })
    .to_string()
}

fn details(path: &str) -> HttpResponse {
    if path == "/health" {
        return HttpResponse::json(200, r#"{"status": "Details is healthy"}"#);
    }
    match product_id(path, "/details/") {
        Some(id) => HttpResponse::json(200, details_json(id)),
        None => HttpResponse::json(400, r#"{"error": "please provide numeric product id"}"#),
    }
}

fn ratings(path: &str) -> HttpResponse {
    if path == "/health" {
        return HttpResponse::json(200, r#"{"status": "Ratings is healthy"}"#);
    }
    match product_id(path, "/ratings/") {
        Some(id) => HttpResponse::json(
            200,
            json!({"id": id, "ratings": {"Reviewer1": 5, "Reviewer2": 4}}).to_string(),
        ),
        None => HttpResponse::json(400, r#"{"error": "please provide numeric product ID"}"#),
    }
}

/// Headers bookinfo forwards downstream (user and tracing).
fn forward_headers(req: &HttpRequest) -> Vec<(String, String)> {
    const FORWARD: &[&str] = &[
        "end-user",
        "user-agent",
        "x-request-id",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-parentspanid",
        "x-b3-sampled",
        "x-b3-flags",
        "traceparent",
        "tracestate",
    ];
    FORWARD
        .iter()
        .filter_map(|h| req.headers.get(*h).map(|v| (h.to_string(), v.clone())))
        .collect()
}

const REVIEW_1: &str =
    "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!";
const REVIEW_2: &str = "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.";
const RATINGS_UNAVAILABLE: &str = "Ratings service is currently unavailable";

async fn reviews(
    ctx: &AppContext,
    req: &HttpRequest,
    path: &str,
    _version: &str,
    ratings_enabled: bool,
    color: &str,
) -> HttpResponse {
    if path == "/health" {
        return HttpResponse::json(200, r#"{"status": "Reviews is healthy"}"#);
    }
    let Some(id) = product_id(path, "/reviews/") else {
        return HttpResponse::text(404, "");
    };
    let mut stars = (-1_i64, -1_i64);
    if ratings_enabled {
        let mut out = OutboundRequest::get("ratings:9080", &format!("/ratings/{id}"));
        out.headers = forward_headers(req);
        let timeout = if color == "black" {
            Duration::from_millis(10_000)
        } else {
            Duration::from_millis(2_500)
        };
        if let Ok(resp) = ctx.outbound.call(out, timeout).await
            && resp.status == 200
            && let Ok(v) = serde_json::from_slice::<Value>(&resp.body)
        {
            let get = |k: &str| {
                v.pointer(&format!("/ratings/{k}"))
                    .and_then(Value::as_i64)
                    .unwrap_or(-1)
            };
            stars = (get("Reviewer1"), get("Reviewer2"));
        }
    }
    let rating = |n: i64| {
        if !ratings_enabled {
            String::new()
        } else if n != -1 {
            format!(", \"rating\": {{\"stars\": {n}, \"color\": \"{color}\"}}")
        } else {
            format!(", \"rating\": {{\"error\": \"{RATINGS_UNAVAILABLE}\"}}")
        }
    };
    let body = format!(
        "{{\"id\": \"{id}\",\"podname\": \"{}\",\"clustername\": \"{}\",\"reviews\": [{{  \"reviewer\": \"Reviewer1\",  \"text\": \"{REVIEW_1}\"{}}},{{  \"reviewer\": \"Reviewer2\",  \"text\": \"{REVIEW_2}\"{}}}]}}",
        ctx.pod_name,
        ctx.cluster,
        rating(stars.0),
        rating(stars.1)
    );
    HttpResponse::json(200, body)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// productpage's `getProductReviews`: two tries, 3 s each.
async fn fetch_reviews(ctx: &AppContext, req: &HttpRequest, id: i64) -> (u16, Value) {
    let mut last_status = 500;
    for _ in 0..2 {
        let mut out = OutboundRequest::get("reviews:9080", &format!("/reviews/{id}"));
        out.headers = forward_headers(req);
        match ctx.outbound.call(out, Duration::from_secs(3)).await {
            Ok(resp) if resp.status == 200 => {
                if let Ok(v) = serde_json::from_slice::<Value>(&resp.body) {
                    return (200, v);
                }
                last_status = 500;
            }
            Ok(resp) => last_status = resp.status,
            Err(_) => last_status = 500,
        }
    }
    (
        last_status,
        json!({"error": "Sorry, product reviews are currently unavailable for this book."}),
    )
}

async fn fetch_details(ctx: &AppContext, req: &HttpRequest, id: i64) -> (u16, Value) {
    let mut out = OutboundRequest::get("details:9080", &format!("/details/{id}"));
    out.headers = forward_headers(req);
    match ctx.outbound.call(out, Duration::from_secs(3)).await {
        Ok(resp) if resp.status == 200 => match serde_json::from_slice::<Value>(&resp.body) {
            Ok(v) => (200, v),
            Err(_) => (500, json!({})),
        },
        Ok(resp) => (
            resp.status,
            json!({"error": "Sorry, product details are currently unavailable for this book."}),
        ),
        Err(_) => (
            500,
            json!({"error": "Sorry, product details are currently unavailable for this book."}),
        ),
    }
}

fn render_reviews(status: u16, reviews: &Value) -> String {
    let mut h = String::new();
    if status != 200 {
        h.push_str(
            "      <h4 class=\"text-center text-primary\">Error fetching product reviews!</h4>\n",
        );
        if let Some(e) = reviews.get("error").and_then(Value::as_str) {
            h.push_str(&format!("      <p>{}</p>\n", escape(e)));
        }
        return h;
    }
    h.push_str("      <h4 class=\"text-center text-primary\">Book Reviews</h4>\n");
    for review in reviews
        .get("reviews")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        h.push_str("      <blockquote>\n");
        h.push_str(&format!(
            "        <p>{}</p>\n",
            escape(str_at(&review, "/text"))
        ));
        h.push_str(&format!(
            "        <small>{}</small>\n",
            escape(str_at(&review, "/reviewer"))
        ));
        if let Some(rating) = review.get("rating") {
            if let Some(stars) = rating.get("stars").and_then(Value::as_i64) {
                let stars = stars.clamp(0, 5);
                h.push_str(&format!(
                    "        <font color=\"{}\">\n",
                    escape(str_at(rating, "/color"))
                ));
                for _ in 0..stars {
                    h.push_str("          <span class=\"glyphicon glyphicon-star\"></span>\n");
                }
                for _ in stars..5 {
                    h.push_str(
                        "          <span class=\"glyphicon glyphicon-star-empty\"></span>\n",
                    );
                }
                h.push_str("        </font>\n");
            } else if let Some(err) = rating.get("error").and_then(Value::as_str) {
                h.push_str(&format!("        <p><i>{}</i></p>\n", escape(err)));
            }
        }
        h.push_str("      </blockquote>\n");
    }
    let podname = str_at(reviews, "/podname");
    if !podname.is_empty() {
        let cluster = str_at(reviews, "/clustername");
        h.push_str(&format!(
            "      <dl><dt>Reviews served by:</dt><u>{}</u>",
            escape(podname)
        ));
        if !cluster.is_empty() && cluster != "null" {
            h.push_str(&format!(" on cluster <u>{}</u>", escape(cluster)));
        }
        h.push_str("</dl>\n");
    }
    h
}

fn render_details(status: u16, details: &Value) -> String {
    if status != 200 {
        let mut h = String::from(
            "      <h4 class=\"text-center text-primary\">Error fetching product details!</h4>\n",
        );
        if let Some(e) = details.get("error").and_then(Value::as_str) {
            h.push_str(&format!("      <p>{}</p>\n", escape(e)));
        }
        return h;
    }
    let field = |k: &str| match details.get(k) {
        Some(Value::String(s)) => escape(s),
        Some(v) => escape(&v.to_string()),
        None => String::new(),
    };
    format!(
        "      <h4 class=\"text-center text-primary\">Book Details</h4>\n      <dl>\n        <dt>Type:</dt>{}\n        <dt>Pages:</dt>{}\n        <dt>Publisher:</dt>{}\n        <dt>Language:</dt>{}\n        <dt>ISBN-10:</dt>{}\n        <dt>ISBN-13:</dt>{}\n      </dl>\n",
        field("type"),
        field("pages"),
        field("publisher"),
        field("language"),
        field("ISBN-10"),
        field("ISBN-13")
    )
}

const PAGE_HEAD: &str = r##"<!DOCTYPE html>
<html>
  <head>
    <title>Simple Bookstore App</title>
    <meta charset="utf-8">
    <meta http-equiv="X-UA-Compatible" content="IE=edge">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <link rel="stylesheet" href="static/bootstrap/css/bootstrap.min.css">
    <link rel="stylesheet" href="static/bootstrap/css/bootstrap-theme.min.css">
  </head>
  <body>
<nav class="navbar navbar-inverse navbar-static-top">
  <div class="container">
    <div class="navbar-header">
      <a class="navbar-brand" href="#">BookInfo Sample</a>
    </div>
    <button type="button" class="btn btn-default navbar-btn pull-right" data-toggle="modal" href="#login-modal">Sign in</button>
  </div>
</nav>
<div class="container-fluid">
  <div class="row">
    <div class="col-md-12">
      <h3 class="text-center text-primary">The Comedy of Errors</h3>
      <p>Summary: <a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.</p>
    </div>
  </div>
  <div class="row">
    <div class="col-md-6">
"##;

async fn productpage(ctx: &AppContext, req: &HttpRequest, path: &str) -> HttpResponse {
    match path {
        "/health" => HttpResponse::json(200, r#"{"status": "Productpage is healthy"}"#),
        "/" | "/index.html" => HttpResponse::html(
            200,
            "<!DOCTYPE html>\n<html>\n<head><title>Simple Bookstore App</title></head>\n<body>\n<p><h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3></p>\n<p><h4>Click on one of the links below to auto generate a request to the backend as a real user or a tester</h4></p>\n<p><a href=\"/productpage?u=normal\">Normal user</a></p>\n<p><a href=\"/productpage?u=test\">Test user</a></p>\n</body>\n</html>\n",
        ),
        "/productpage" => {
            let (ds, d) = fetch_details(ctx, req, 0).await;
            let (rs, r) = fetch_reviews(ctx, req, 0).await;
            let mut page = String::from(PAGE_HEAD);
            page.push_str(&render_details(ds, &d));
            page.push_str("    </div>\n    <div class=\"col-md-6\">\n");
            page.push_str(&render_reviews(rs, &r));
            page.push_str("    </div>\n  </div>\n</div>\n  </body>\n</html>\n");
            HttpResponse::html(200, page)
        }
        p if p.starts_with("/static/") => super::assets::static_file(p)
            .unwrap_or_else(|| HttpResponse::text(404, "404 Not Found: no such static file\n")),
        "/api/v1/products" => HttpResponse::json(
            200,
            json!([{"id": 0, "title": "The Comedy of Errors", "descriptionHtml": "<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play."}]).to_string(),
        ),
        p => {
            let rest = p.strip_prefix("/api/v1/products/").unwrap_or("");
            let mut parts = rest.split('/');
            let id = parts.next().and_then(|s| s.parse::<i64>().ok());
            match (id, parts.next()) {
                (Some(id), None) => {
                    let (s, v) = fetch_details(ctx, req, id).await;
                    HttpResponse::json(s, v.to_string())
                }
                (Some(id), Some("reviews")) => {
                    let (s, v) = fetch_reviews(ctx, req, id).await;
                    HttpResponse::json(s, v.to_string())
                }
                (Some(id), Some("ratings")) => {
                    let mut out = OutboundRequest::get("ratings:9080", &format!("/ratings/{id}"));
                    out.headers = forward_headers(req);
                    match ctx.outbound.call(out, Duration::from_secs(3)).await {
                        Ok(r) => HttpResponse {
                            status: r.status,
                            headers: vec![("content-type".into(), "application/json".into())],
                            body: r.body,
                        },
                        Err(_) => HttpResponse::json(
                            500,
                            json!({"error": "Sorry, product ratings are currently unavailable for this book."}).to_string(),
                        ),
                    }
                }
                _ => HttpResponse::html(404, "<h1>Not Found</h1>"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_apps_from_images() {
        let c = json!({"name": "reviews", "image": "docker.io/istio/examples-bookinfo-reviews-v3:1.16.2",
                       "ports": [{"containerPort": 9080}]});
        assert_eq!(
            app_for(&c),
            Some((
                App::Reviews {
                    version: "v3".into(),
                    ratings: true,
                    color: "red".into()
                },
                vec![9080]
            ))
        );
        let mut sleeping = c.clone();
        sleeping["command"] = json!(["sleep", "20h"]);
        assert_eq!(app_for(&sleeping), None);
        let sidecar = json!({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.2",
                             "ports": [{"containerPort": 15090}]});
        assert_eq!(app_for(&sidecar), Some((App::IstioProxy, vec![15021])));
        let istiod = json!({"name": "discovery", "image": "docker.io/istio/pilot:1.24.2",
                            "ports": [{"containerPort": 8080}, {"containerPort": 15010}]});
        assert_eq!(
            app_for(&istiod),
            Some((
                App::Istiod {
                    version: "1.24.2".into()
                },
                vec![8080, 15010]
            ))
        );
        let v1 = json!({"image": "docker.io/istio/examples-bookinfo-reviews-v1:1.16.2",
                        "env": [{"name": "STAR_COLOR", "value": "blue"}]});
        assert!(matches!(
            app_for(&v1),
            Some((App::Reviews { ratings: false, .. }, _))
        ));
    }

    #[test]
    fn renders_stars_like_the_2020_template() {
        let reviews = json!({"podname": "reviews-v3-abc", "clustername": "remote-cluster", "reviews": [
            {"reviewer": "Reviewer1", "text": "t1", "rating": {"stars": 5, "color": "red"}},
            {"reviewer": "Reviewer2", "text": "t2", "rating": {"stars": 4, "color": "red"}}]});
        let html = render_reviews(200, &reviews);
        assert_eq!(html.matches("<font color=\"red\">").count(), 2);
        assert_eq!(html.matches("glyphicon glyphicon-star\"").count(), 9);
        assert_eq!(html.matches("glyphicon-star-empty").count(), 1);
        assert!(html.contains("reviews-v3-abc"));
        let v1 = json!({"reviews": [{"reviewer": "Reviewer1", "text": "t1"}]});
        let html = render_reviews(200, &v1);
        assert!(!html.contains("<font color="));
        assert!(!html.contains("glyphicon"));
        let err = render_reviews(
            503,
            &json!({"error": "Sorry, product reviews are currently unavailable for this book."}),
        );
        assert!(err.contains("Error fetching product reviews!"));
        assert!(err.contains("Sorry, product reviews are currently unavailable for this book."));
    }
}
