//! Classifying probe answers: primary, failed over or error.
//!
//! Defaults are bookinfo's productpage, the client SMH's failover guide probes from, for both the
//! 2020 Bootstrap template (`<font color="red">` around glyphicon stars) and today's
//! Tailwind one (`<div class="flex gap-x-1 text-red-500">` around SVG stars):
//!
//! | answer | class |
//! |---|---|
//! | transport error, or HTTP status outside 200–299 | error |
//! | "Error fetching product reviews" | error (reviews down) |
//! | "Ratings service is currently unavailable" | error (see below) |
//! | red stars (`color="red"` / `gap-x-1 text-red-500`) | failed over (reviews-v3, remote) |
//! | black stars (`color="black"` / `gap-x-1 text-black-500`) | primary (reviews-v2) |
//! | a "Book Reviews" section with no stars at all | primary (reviews-v1) |
//! | anything else (e.g. not a productpage) | error |
//!
//! "Ratings service is currently unavailable" means reviews-v2 or v3 answered but its call
//! to ratings failed; both render it identically, so the page cannot tell primary from
//! secondary. Such answers count as errors with that reason: they prove neither, and a
//! ratings outage on the secondary makes failover useless for users, which is what a drill
//! should report. Only the reviews part of the page is judged: "Error fetching product
//! details" does not make an answer an error.
//!
//! `--expect-primary`, `--expect-failover` and `--expect-error` (regexes on the body) each
//! replace the bookinfo rule of their class. The error rule is checked first; an answer
//! matching both the primary and the failover rule is an error ("ambiguous").

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::Class;

/// The regexes the user gave; `None` means bookinfo's rule for that class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassifierSpec {
    /// `--expect-primary`: matched against the response body of an answer from the primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// `--expect-failover`: matched against the response body of an answer from a secondary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<String>,
    /// `--expect-error`: a body that matches is an error whatever else it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ClassifierSpec {
    /// True when every class uses bookinfo's rule.
    #[cfg(test)]
    pub(crate) fn is_bookinfo(&self) -> bool {
        self.primary.is_none() && self.failover.is_none() && self.error.is_none()
    }

    /// One line per class, for `--dry-run` and the report.
    pub fn describe(&self) -> Vec<String> {
        let rule = |custom: &Option<String>, flag: &str, bookinfo: &str| match custom {
            Some(re) => format!("body matches /{re}/ ({flag})"),
            None => bookinfo.to_string(),
        };
        vec![
            format!(
                "primary: {}",
                rule(
                    &self.primary,
                    "--expect-primary",
                    "bookinfo: black stars, or reviews without stars (reviews-v1, reviews-v2)"
                )
            ),
            format!(
                "failed over: {}",
                rule(
                    &self.failover,
                    "--expect-failover",
                    "bookinfo: red stars (reviews-v3)"
                )
            ),
            format!(
                "error: transport error, HTTP status outside 200-299, or {}",
                rule(
                    &self.error,
                    "--expect-error",
                    "bookinfo: \"Error fetching product reviews\" or \"Ratings service is currently unavailable\""
                )
            ),
        ]
    }
}

/// A regex that does not compile, named by its flag.
#[derive(Debug, thiserror::Error)]
#[error("{flag}: invalid regular expression {pattern:?}: {source}")]
pub struct ClassifyError {
    /// The flag that gave it, e.g. `--expect-primary`.
    pub flag: &'static str,
    /// The pattern as given.
    pub pattern: String,
    /// Why it does not compile.
    #[source]
    pub source: regex::Error,
}

/// What came back from one probe.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a> {
    /// An HTTP answer.
    Http {
        /// The HTTP status code.
        status: u16,
        /// The response body (as much as was read).
        body: &'a str,
    },
    /// No HTTP answer: connection refused, reset, timeout...
    Transport {
        /// What went wrong, in words.
        error: &'a str,
    },
}

/// A class and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// The class.
    pub class: Class,
    /// Why, in words (the status, or the rule that matched).
    pub reason: String,
}

impl Classification {
    /// The sample for a probe sent `at` (since the drill started) that took `latency`.
    pub fn into_sample(
        self,
        at: std::time::Duration,
        latency: std::time::Duration,
        status: Option<u16>,
    ) -> super::ProbeSample {
        super::ProbeSample {
            at,
            class: self.class,
            latency,
            status,
            reason: Some(self.reason),
        }
    }

    fn new(class: Class, reason: impl Into<String>) -> Self {
        Classification {
            class,
            reason: reason.into(),
        }
    }
}

/// Compiled classification rules.
#[derive(Debug, Clone)]
pub struct Classifier {
    primary: Option<Regex>,
    failover: Option<Regex>,
    error: Option<Regex>,
}

impl Classifier {
    /// Bookinfo's rules for every class.
    pub fn bookinfo() -> Self {
        Classifier {
            primary: None,
            failover: None,
            error: None,
        }
    }

    /// Compile the spec's patterns (or take bookinfo's rules); fails naming the flag whose
    /// pattern does not compile.
    pub fn new(spec: &ClassifierSpec) -> Result<Self, ClassifyError> {
        fn compile(
            flag: &'static str,
            pattern: &Option<String>,
        ) -> Result<Option<Regex>, ClassifyError> {
            pattern
                .as_deref()
                .map(|p| {
                    Regex::new(p).map_err(|source| ClassifyError {
                        flag,
                        pattern: p.to_string(),
                        source,
                    })
                })
                .transpose()
        }
        Ok(Classifier {
            primary: compile("--expect-primary", &spec.primary)?,
            failover: compile("--expect-failover", &spec.failover)?,
            error: compile("--expect-error", &spec.error)?,
        })
    }

    /// Classify one answer: a transport error, a non-2xx status or a body the error rule matches is an error; otherwise exactly one of the primary and failover rules must match (both, or neither, is an error too).
    pub fn classify(&self, answer: Answer<'_>) -> Classification {
        let (status, body) = match answer {
            Answer::Transport { error } => {
                return Classification::new(Class::Error, format!("no answer: {error}"));
            }
            Answer::Http { status, body } => (status, body),
        };
        if !(200..300).contains(&status) {
            return Classification::new(Class::Error, format!("HTTP {status}"));
        }
        let error = match &self.error {
            Some(re) => re
                .is_match(body)
                .then(|| "matches --expect-error".to_string()),
            None => bookinfo_error(body),
        };
        if let Some(reason) = error {
            return Classification::new(Class::Error, reason);
        }
        let failover = match &self.failover {
            Some(re) => re
                .is_match(body)
                .then(|| "matches --expect-failover".to_string()),
            None => bookinfo_failover(body),
        };
        let primary = match &self.primary {
            Some(re) => re
                .is_match(body)
                .then(|| "matches --expect-primary".to_string()),
            None => bookinfo_primary(body),
        };
        match (primary, failover) {
            (Some(p), Some(f)) => {
                Classification::new(Class::Error, format!("ambiguous: {p} and {f}"))
            }
            (Some(p), None) => Classification::new(Class::Primary, p),
            (None, Some(f)) => Classification::new(Class::FailedOver, f),
            (None, None) => Classification::new(Class::Error, self.neither_reason()),
        }
    }

    fn neither_reason(&self) -> String {
        match (&self.primary, &self.failover) {
            (None, None) => {
                "not a bookinfo productpage with reviews (no \"Book Reviews\" section)".into()
            }
            _ => "matches neither the primary nor the failover rule".into(),
        }
    }
}

const REVIEWS_ERROR: &str = "Error fetching product reviews";
const RATINGS_ERROR: &str = "Ratings service is currently unavailable";
const REVIEWS_SECTION: &str = "Book Reviews";

fn bookinfo_error(body: &str) -> Option<String> {
    if body.contains(REVIEWS_ERROR) {
        Some("reviews unavailable (\"Error fetching product reviews\")".into())
    } else if body.contains(RATINGS_ERROR) {
        Some("ratings unavailable: the page does not show which reviews version answered".into())
    } else {
        None
    }
}

fn has_stars_of(body: &str, color: &str) -> bool {
    body.contains(&format!("color=\"{color}\""))
        || body.contains(&format!("gap-x-1 text-{color}-500"))
}

fn bookinfo_failover(body: &str) -> Option<String> {
    has_stars_of(body, "red").then(|| "red stars (reviews-v3)".to_string())
}

fn bookinfo_primary(body: &str) -> Option<String> {
    if has_stars_of(body, "black") {
        return Some("black stars (reviews-v2)".into());
    }
    let any_stars = body.contains("glyphicon-star") || body.contains("gap-x-1 text-");
    (!any_stars && body.contains(REVIEWS_SECTION)).then(|| "no stars (reviews-v1)".to_string())
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Productpage bodies as bookinfo renders them, in both templates. The markup follows
    //! `samples/bookinfo/src/productpage/templates/productpage.html` (Bootstrap at
    //! istio/istio bace7fc0, Tailwind on master), rendered for the product
    //! "The Comedy of Errors" with ratings 5 and 4.

    /// Which reviews answer to render.
    #[derive(Clone, Copy)]
    pub(crate) enum Served {
        V1,
        V2,
        V3,
        RatingsDown,
        ReviewsDown,
    }

    const HEAD_2020: &str = r##"<!DOCTYPE html>
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
    <button type="button" class="btn btn-default navbar-btn navbar-right" data-toggle="modal" href="#login-modal">Sign
      in</button>
  </div>
</nav>
<div class="container-fluid">
  <div class="row">
    <div class="col-md-12">
      <h3 class="text-center text-primary">The Comedy of Errors</h3>
      <p>Summary: <a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays.</p>
    </div>
  </div>
  <div class="row">
    <div class="col-md-6">
      <h4 class="text-center text-primary">Book Details</h4>
      <dl>
        <dt>Type:</dt>paperback
        <dt>Pages:</dt>200
        <dt>Publisher:</dt>PublisherA
        <dt>Language:</dt>English
        <dt>ISBN-10:</dt>1234567890
        <dt>ISBN-13:</dt>123-1234567890
      </dl>
    </div>
    <div class="col-md-6">
"##;

    const TAIL_2020: &str = r##"    </div>
  </div>
</div>
<script src="static/jquery.min.js"></script>
<script src="static/bootstrap/js/bootstrap.min.js"></script>
  </body>
</html>
"##;

    fn stars_2020(color: &str, n: usize) -> String {
        let mut s = format!("        <font color=\"{color}\">\n          <!-- full stars: -->\n");
        for _ in 0..n {
            s.push_str("          <span class=\"glyphicon glyphicon-star\"></span>\n");
        }
        s.push_str("          <!-- empty stars: -->\n");
        for _ in n..5 {
            s.push_str("          <span class=\"glyphicon glyphicon-star-empty\"></span>\n");
        }
        s.push_str("        </font>\n");
        s
    }

    /// The 2020 Bootstrap productpage.
    pub(crate) fn page_2020(reviews: Served) -> String {
        let mut body = String::from(HEAD_2020);
        let texts = [
            (
                "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!",
                "Reviewer1",
                5,
            ),
            (
                "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.",
                "Reviewer2",
                4,
            ),
        ];
        match reviews {
            Served::ReviewsDown => {
                body.push_str("      <h4 class=\"text-center text-primary\">Error fetching product reviews!</h4>\n");
                body.push_str("      <p>Sorry, product reviews are currently unavailable for this book.</p>\n");
            }
            _ => {
                body.push_str("      <h4 class=\"text-center text-primary\">Book Reviews</h4>\n");
                for (text, reviewer, stars) in texts {
                    body.push_str(&format!(
                        "      <blockquote>\n        <p>{text}</p>\n        <small>{reviewer}</small>\n"
                    ));
                    match reviews {
                        Served::V2 => body.push_str(&stars_2020("black", stars)),
                        Served::V3 => body.push_str(&stars_2020("red", stars)),
                        Served::RatingsDown => body.push_str(
                            "        <p><i>Ratings service is currently unavailable</i></p>\n",
                        ),
                        _ => {}
                    }
                    body.push_str("      </blockquote>\n");
                }
            }
        }
        body.push_str(TAIL_2020);
        body
    }

    const HEAD_TAILWIND: &str = r##"<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Simple Bookstore App</title>
<script src="static/tailwind/tailwind.css"></script>
<nav class="bg-gray-800">
  <div class="container mx-auto px-4 sm:px-6 lg:px-8">
    <div class="relative flex h-16 items-center justify-between">
      <a href="#" class="text-white px-3 py-2 text-lg font-medium" aria-current="page">BookInfo Sample</a>
    </div>
  </div>
</nav>
<div class="container mt-8 mx-auto px-4 sm:px-6 lg:px-8">
  <h1 class="text-5xl font-bold tracking-tight text-blue-900">The Comedy of Errors</h1>
</div>
<div class="container mt-8 mx-auto px-4 sm:px-6 lg:px-8">
  <div class="mt-4 py-10">
    <p class="text-2xl text-red-500">Error fetching product details</p>
    <p class="text-lg text-gray-600">Sorry, product details are currently unavailable for this book.</p>
  </div>
</div>
<div class="bg-blue-600/5 py-12 mx-auto" >
  <div class="container mx-auto px-4 sm:px-6 lg:px-8>
    <div class="max-w-2xl">
"##;

    fn stars_tailwind(color: &str, n: usize) -> String {
        let mut s = format!("            <div class=\"flex gap-x-1 text-{color}-500\">\n");
        for _ in 0..n {
            s.push_str("              <svg class=\"h-5 w-5 flex-none\" viewBox=\"0 0 20 20\" fill=\"currentColor\" aria-hidden=\"true\"><path fill-rule=\"evenodd\" d=\"M10.868 2.884z\" clip-rule=\"evenodd\" /></svg>\n");
        }
        for _ in n..5 {
            s.push_str("              <svg xmlns=\"http://www.w3.org/2000/svg\" fill=\"none\" viewBox=\"0 0 24 24\" stroke-width=\"1.5\" stroke=\"currentColor\" class=\"h-5 w-5 flex-none\"><path d=\"M11.48 3.499Z\" /></svg>\n");
        }
        s.push_str("            </div>\n");
        s
    }

    /// Today's Tailwind productpage (with the details service down, which must not matter).
    pub(crate) fn page_tailwind(reviews: Served) -> String {
        let mut body = String::from(HEAD_TAILWIND);
        let (pod, cluster) = match reviews {
            Served::V1 => ("reviews-v1-5b8d9c6f4-abcde", "mgmt-cluster"),
            Served::V2 => ("reviews-v2-7c9f8d5b6-fghij", "mgmt-cluster"),
            _ => ("reviews-v3-6d8c7b5a4-klmno", "remote-cluster"),
        };
        match reviews {
            Served::ReviewsDown => {
                body.push_str(
                    "      <p class=\"text-2xl text-red-500\">Error fetching product reviews</p>\n",
                );
                body.push_str("      <p class=\"text-lg text-gray-600\">Sorry, product reviews are currently unavailable for this book.</p>\n");
            }
            _ => {
                body.push_str("      <h4 class=\"text-3xl font-semibold\">Book Reviews</h4>\n      <div class=\"flex flex-col md:flex-row\">\n");
                for (text, reviewer, stars) in [
                    (
                        "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!",
                        "Reviewer1",
                        5,
                    ),
                    (
                        "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.",
                        "Reviewer2",
                        4,
                    ),
                ] {
                    body.push_str("        <section class=\"px-6 py-12 sm:py-8 lg:px-8\">\n          <div class=\"mx-auto max-w-2xl\">\n");
                    match reviews {
                        Served::V2 => body.push_str(&stars_tailwind("black", stars)),
                        Served::V3 => body.push_str(&stars_tailwind("red", stars)),
                        Served::RatingsDown => body.push_str(
                            "            <p class=\"text-red-500\">Ratings service is currently unavailable</p>\n",
                        ),
                        _ => {}
                    }
                    body.push_str(&format!(
                        "            <blockquote class=\"mt-10 text-xl font-semibold\">\n              <p>\"{text}\"</p>\n            </blockquote>\n            <div class=\"mt-4 flex items-center gap-x-6\">\n              <div class=\"text-sm leading-6\">\n                <div class=\"font-semibold text-gray-900\">{reviewer}</div>\n                <div class=\"mt-0.5 text-gray-600 font-mono\">Reviews served by: \n                  {pod}\n                  on cluster <div>{cluster}</div>\n                </div>\n              </div>\n            </div>\n        </section>\n"
                    ));
                }
                body.push_str("      </div>\n");
            }
        }
        body.push_str("    </div>\n    </div>\n  </div>\n</div>\n");
        body
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{Served, page_2020, page_tailwind};
    use super::*;

    fn class_of(c: &Classifier, body: &str) -> Classification {
        c.classify(Answer::Http { status: 200, body })
    }

    #[test]
    fn bookinfo_pages_in_both_templates() {
        let c = Classifier::bookinfo();
        for page in [page_2020, page_tailwind] {
            let v1 = class_of(&c, &page(Served::V1));
            assert_eq!(v1.class, Class::Primary, "{v1:?}");
            assert_eq!(v1.reason, "no stars (reviews-v1)");
            let v2 = class_of(&c, &page(Served::V2));
            assert_eq!(v2.class, Class::Primary, "{v2:?}");
            assert_eq!(v2.reason, "black stars (reviews-v2)");
            let v3 = class_of(&c, &page(Served::V3));
            assert_eq!(v3.class, Class::FailedOver, "{v3:?}");
            let down = class_of(&c, &page(Served::ReviewsDown));
            assert_eq!(down.class, Class::Error);
            assert!(down.reason.contains("Error fetching product reviews"));
            let ratings = class_of(&c, &page(Served::RatingsDown));
            assert_eq!(ratings.class, Class::Error);
            assert!(ratings.reason.starts_with("ratings unavailable"));
        }
    }

    #[test]
    fn fixtures_look_like_bookinfo() {
        // Guard the fixtures themselves: the v2 page has 9 full and 1 empty star, and the
        // Tailwind page uses text-red-500 for the details error too (which must not count).
        let v2 = page_2020(Served::V2);
        assert_eq!(v2.matches("glyphicon glyphicon-star\"").count(), 9);
        assert_eq!(v2.matches("glyphicon-star-empty").count(), 1);
        let tw = page_tailwind(Served::V1);
        assert!(tw.contains("text-red-500"));
        assert!(!tw.contains("gap-x-1 text-"));
    }

    #[test]
    fn status_and_transport_errors() {
        let c = Classifier::bookinfo();
        let page = page_2020(Served::V3);
        let r = c.classify(Answer::Http {
            status: 503,
            body: &page,
        });
        assert_eq!(r, Classification::new(Class::Error, "HTTP 503"));
        let r = c.classify(Answer::Transport {
            error: "connection refused",
        });
        assert_eq!(r.class, Class::Error);
        assert_eq!(r.reason, "no answer: connection refused");
        let r = class_of(
            &c,
            "upstream connect error or disconnect/reset before headers",
        );
        assert_eq!(r.class, Class::Error);
        assert!(r.reason.contains("not a bookinfo productpage"));
    }

    #[test]
    fn custom_rules_override_per_class() {
        let spec = ClassifierSpec {
            primary: Some(r"cluster: east".into()),
            failover: Some(r"cluster: west".into()),
            error: Some(r"(?i)degraded".into()),
        };
        let c = Classifier::new(&spec).unwrap();
        assert_eq!(
            class_of(&c, "hello from cluster: east").class,
            Class::Primary
        );
        assert_eq!(
            class_of(&c, "hello from cluster: west").class,
            Class::FailedOver
        );
        assert_eq!(class_of(&c, "cluster: west, DEGRADED").class, Class::Error);
        let neither = class_of(&c, "hello from cluster: north");
        assert_eq!(neither.class, Class::Error);
        assert!(neither.reason.contains("neither"));
        let both = class_of(&c, "cluster: east cluster: west");
        assert_eq!(both.class, Class::Error);
        assert!(both.reason.starts_with("ambiguous"));

        // Only --expect-failover: primary keeps bookinfo's rule.
        let c = Classifier::new(&ClassifierSpec {
            failover: Some("on cluster <div>remote-cluster".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            class_of(&c, &page_tailwind(Served::V3)).class,
            Class::FailedOver
        );
        assert_eq!(
            class_of(&c, &page_tailwind(Served::V1)).class,
            Class::Primary
        );
    }

    #[test]
    fn bad_regex_names_its_flag() {
        let err = Classifier::new(&ClassifierSpec {
            failover: Some("(red".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--expect-failover: invalid regular expression \"(red\""),
            "{err}"
        );
    }

    #[test]
    fn describe_names_rules() {
        let lines = ClassifierSpec::default().describe();
        assert!(lines[0].starts_with("primary: bookinfo"));
        let lines = ClassifierSpec {
            primary: Some("east".into()),
            ..Default::default()
        }
        .describe();
        assert_eq!(lines[0], "primary: body matches /east/ (--expect-primary)");
    }
}
