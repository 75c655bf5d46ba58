//! The static files bookinfo's productpage links (`static/bootstrap/...`): Bootstrap 3.4.1's
//! stylesheets and its Glyphicons Halflings font, whose star glyphs are the page's ratings.
//! Served from the binary, so the page renders as bookinfo's does with no network. The files
//! and their license are in `crates/smh-sim/assets/bootstrap-3.4.1/`.

use axum::body::Bytes;

use super::http::HttpResponse;

/// (path under `/static/bootstrap/`, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "css/bootstrap.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/bootstrap-3.4.1/css/bootstrap.min.css"),
    ),
    (
        "css/bootstrap-theme.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/bootstrap-3.4.1/css/bootstrap-theme.min.css"),
    ),
    (
        "fonts/glyphicons-halflings-regular.woff2",
        "font/woff2",
        include_bytes!("../../../assets/bootstrap-3.4.1/fonts/glyphicons-halflings-regular.woff2"),
    ),
    (
        "fonts/glyphicons-halflings-regular.woff",
        "font/woff",
        include_bytes!("../../../assets/bootstrap-3.4.1/fonts/glyphicons-halflings-regular.woff"),
    ),
    (
        "fonts/glyphicons-halflings-regular.ttf",
        "font/ttf",
        include_bytes!("../../../assets/bootstrap-3.4.1/fonts/glyphicons-halflings-regular.ttf"),
    ),
    (
        "fonts/glyphicons-halflings-regular.eot",
        "application/vnd.ms-fontobject",
        include_bytes!("../../../assets/bootstrap-3.4.1/fonts/glyphicons-halflings-regular.eot"),
    ),
    (
        "fonts/glyphicons-halflings-regular.svg",
        "image/svg+xml",
        include_bytes!("../../../assets/bootstrap-3.4.1/fonts/glyphicons-halflings-regular.svg"),
    ),
    (
        "LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../../assets/bootstrap-3.4.1/LICENSE"),
    ),
];

/// The file at `path` (an absolute request path), if it is one of bookinfo's static files.
pub(crate) fn static_file(path: &str) -> Option<HttpResponse> {
    let rest = path.strip_prefix("/static/bootstrap/")?;
    let (_, content_type, bytes) = FILES.iter().find(|(p, _, _)| *p == rest)?;
    let mut r = HttpResponse::new(200, content_type, Bytes::from_static(bytes));
    r.headers
        .push(("cache-control".into(), "public, max-age=43200".into()));
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_the_stylesheets_name_is_served() {
        for (path, ctype, bytes) in FILES.iter().filter(|(_, c, _)| c.starts_with("text/css")) {
            let css = std::str::from_utf8(bytes).expect("css is utf-8");
            let mut rest = css;
            while let Some(i) = rest.find("url(") {
                let after = &rest[i + 4..];
                let end = after.find(')').expect("closed url(");
                let url = after[..end].trim_matches(|c| c == '"' || c == '\'');
                rest = &after[end..];
                if url.starts_with("data:") {
                    continue;
                }
                // Relative to css/: ../fonts/x.woff2?#iefix -> fonts/x.woff2
                let file = url.split(['?', '#']).next().unwrap_or_default();
                let resolved = file.strip_prefix("../").unwrap_or(file);
                let full = format!("/static/bootstrap/{resolved}");
                assert!(
                    static_file(&full).is_some(),
                    "{path} ({ctype}) links {url}, which is not served"
                );
            }
        }
        let css = static_file("/static/bootstrap/css/bootstrap.min.css").expect("served");
        assert_eq!(css.status, 200);
        assert!(css.body.starts_with(b"/*!* Bootstrap v3.4.1"));
        let font = static_file("/static/bootstrap/fonts/glyphicons-halflings-regular.woff2")
            .expect("served");
        assert!(font.body.starts_with(b"wOF2"), "a WOFF2 file");
        assert!(static_file("/static/bootstrap/css/missing.css").is_none());
        assert!(static_file("/static/other").is_none());
    }
}
