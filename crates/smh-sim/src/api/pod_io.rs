//! The pod subresources that reach into containers: `log` (served from what the simulated
//! applications write, see [`crate::logs`]), and `exec` and `attach`, which the simulated
//! clusters cannot serve (there are no processes to run a command in or attach to) and
//! answer with a `Status` that says so; `serviceaccounts/NAME/token` likewise (no token
//! issuer).

use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use axum::http::Method;

use super::core::ApiCore;
use super::registry::ResourceInfo;
use super::status::ApiError;
use crate::logs::{ContainerLog, LogLine};
use crate::store::Store;
use crate::world::obj::{self, str_at};

/// The query of `GET pods/NAME/log`, as the real server reads it.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct LogOptions {
    pub container: Option<String>,
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<u64>,
    pub since_seconds: Option<u64>,
    pub since_time: Option<jiff::Timestamp>,
    pub limit_bytes: Option<u64>,
}

fn number(key: &str, v: Option<&str>, min: u64) -> Result<Option<u64>, ApiError> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= min as i64 => Ok(Some(n as u64)),
            _ => Err(ApiError::unprocessable(format!(
                "PodLogOptions \"\" is invalid: {key}: Invalid value: {s}: must be greater than {}",
                if min == 0 { "or equal to 0" } else { "0" }
            ))),
        },
    }
}

impl LogOptions {
    /// Read the options from the query (`get` looks a parameter up).
    pub(crate) fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, ApiError> {
        let flag = |k: &str| matches!(get(k), Some("true") | Some("1"));
        let since_time = match get("sinceTime") {
            None | Some("") => None,
            Some(t) => Some(t.parse::<jiff::Timestamp>().map_err(|e| {
                ApiError::bad_request(format!("sinceTime: invalid RFC 3339 time {t:?}: {e}"))
            })?),
        };
        Ok(LogOptions {
            container: get("container")
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            follow: flag("follow"),
            previous: flag("previous"),
            timestamps: flag("timestamps"),
            tail_lines: number("tailLines", get("tailLines"), 0)?,
            since_seconds: number("sinceSeconds", get("sinceSeconds"), 1)?,
            since_time,
            limit_bytes: number("limitBytes", get("limitBytes"), 1)?,
        })
    }
}

fn container_names(pod: &Value, field: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_array)
        .map(|cs| cs.iter().map(|c| str_at(c, "/name").to_string()).collect())
        .unwrap_or_default()
}

/// Which container a request names (the only one when it names none), as the real server
/// picks it, or its error.
fn pick_container(pod: &Value, asked: Option<&str>) -> Result<String, ApiError> {
    let name = obj::name(pod);
    let containers = container_names(pod, "containers");
    let inits = container_names(pod, "initContainers");
    match asked {
        Some(c) if containers.iter().chain(&inits).any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {name}, choose one of: [{}]{}",
            containers.join(" "),
            if inits.is_empty() {
                String::new()
            } else {
                format!(" or one of the init containers: [{}]", inits.join(" "))
            }
        ))),
    }
}

fn format_line(l: &LogLine, timestamps: bool) -> String {
    if timestamps {
        format!("{} {}\n", l.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), l.text)
    } else {
        format!("{}\n", l.text)
    }
}

/// The lines `opts` selects from what the log holds now, and the index after them.
fn initial(log: &ContainerLog, opts: &LogOptions) -> (Vec<LogLine>, u64) {
    let (first, len) = log.span();
    let from = match opts.tail_lines {
        Some(n) => first + len.saturating_sub(n),
        None => first,
    };
    let (mut lines, next, _) = log.read_from(from);
    let since = opts.since_time.or_else(|| {
        opts.since_seconds.and_then(|s| {
            jiff::Timestamp::now()
                .checked_sub(jiff::SignedDuration::from_secs(s as i64))
                .ok()
        })
    });
    if let Some(since) = since {
        lines.retain(|l| l.time >= since);
    }
    (lines, next)
}

/// `GET pods/NAME/log`.
pub(crate) fn log(store: &Store, pod: &Value, opts: &LogOptions) -> Result<Response, ApiError> {
    let container = pick_container(pod, opts.container.as_deref())?;
    let pod_name = obj::name(pod);
    if opts.previous {
        return Err(ApiError::bad_request(format!(
            "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
        )));
    }
    let Some(log) = store.logs().get(obj::uid(pod), &container) else {
        let reason = match str_at(pod, "/status/phase") {
            "Pending" | "" => "ContainerCreating",
            phase => phase,
        };
        return Err(ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{pod_name}\" is waiting to start: {reason}"
        )));
    };
    let (lines, next) = initial(&log, opts);
    let text: String = lines
        .iter()
        .map(|l| format_line(l, opts.timestamps))
        .collect();
    let limit = opts.limit_bytes.map(|b| b as usize);
    let cut = |s: String| match limit {
        Some(n) if s.len() > n => {
            let mut end = n;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s[..end].to_string()
        }
        _ => s,
    };
    let headers = [(header::CONTENT_TYPE, "text/plain")];
    if !opts.follow {
        return Ok((StatusCode::OK, headers, cut(text)).into_response());
    }
    // Follow: what is there, then every new line until the container stops.
    let timestamps = opts.timestamps;
    let rx = log.subscribe();
    let first = futures::stream::once(async move { Ok::<_, std::io::Error>(text) });
    let rest = futures::stream::unfold((log, rx, next), move |(log, mut rx, next)| async move {
        loop {
            let (lines, after, closed) = log.read_from(next);
            if !lines.is_empty() {
                let chunk: String = lines.iter().map(|l| format_line(l, timestamps)).collect();
                return Some((Ok(chunk), (log, rx, after)));
            }
            if closed {
                return None;
            }
            // A change, or a periodic look in case a notification raced the read.
            let _ = tokio::time::timeout(Duration::from_secs(1), rx.changed()).await;
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(first, rest));
    Ok((StatusCode::OK, headers, body).into_response())
}

/// `pods/NAME/exec` and `pods/NAME/attach`: a `Status` saying why the simulated cluster
/// cannot serve them (checked after the pod and container exist, as the real server does).
pub(crate) fn exec_or_attach(
    pod: &Value,
    container: Option<&str>,
    verb: &str,
) -> Result<Response, ApiError> {
    let container = pick_container(pod, container)?;
    Err(ApiError::bad_request(format!(
        "the simulated cluster runs no processes: container \"{container}\" of pod \"{}\" is modelled by the simulator, so there is nothing to {verb} (kubectl {verb} and kubectl cp need a real cluster; kubectl logs shows what the application writes)",
        obj::name(pod)
    )))
}

/// `pods/NAME/log`, `pods/NAME/exec`, `pods/NAME/attach` and `serviceaccounts/NAME/token`:
/// the log, or a `Status` saying what the simulated cluster does not run.
pub(crate) fn subresource<'a>(
    core: &ApiCore,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    sub: &str,
    method: &Method,
    query: impl Fn(&str) -> Option<&'a str>,
) -> Result<Response, ApiError> {
    match (res.plural.as_str(), sub) {
        ("serviceaccounts", "token") => {
            core.get(res, ns, name)?;
            Err(ApiError::bad_request(
                "the simulated cluster issues no service account tokens (TokenRequest): its users are the bearer tokens listed in the kubeconfig that kubectl smh demo up writes",
            ))
        }
        ("pods", "log") => {
            if method != Method::GET {
                return Err(ApiError::method_not_allowed(method.as_str()));
            }
            let pod = core.get(res, ns, name)?;
            log(core.store(), &pod, &LogOptions::parse(query)?)
        }
        ("pods", "exec" | "attach") => {
            let pod = core.get(res, ns, name)?;
            exec_or_attach(&pod, query("container").filter(|c| !c.is_empty()), sub)
        }
        _ => Err(ApiError::no_route()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |k| pairs.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v)
    }

    #[test]
    fn options_parse_like_the_real_server() {
        let o = LogOptions::parse(q(&[
            ("container", "app"),
            ("follow", "true"),
            ("tailLines", "5"),
            ("timestamps", "true"),
        ]))
        .unwrap();
        assert_eq!(o.container.as_deref(), Some("app"));
        assert!(o.follow && o.timestamps && !o.previous);
        assert_eq!(o.tail_lines, Some(5));
        assert_eq!(
            LogOptions::parse(q(&[("tailLines", "-1")]))
                .unwrap_err()
                .code,
            422
        );
        assert_eq!(
            LogOptions::parse(q(&[("sinceSeconds", "0")]))
                .unwrap_err()
                .code,
            422
        );
    }

    #[test]
    fn a_container_must_be_named_when_there_are_several() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}], "initContainers": [{"name": "istio-init"}]}});
        assert_eq!(pick_container(&pod, Some("app")).unwrap(), "app");
        assert_eq!(
            pick_container(&pod, Some("istio-init")).unwrap(),
            "istio-init"
        );
        let e = pick_container(&pod, None).unwrap_err();
        assert_eq!(
            e.message,
            "a container name must be specified for pod p, choose one of: [app istio-proxy] or one of the init containers: [istio-init]"
        );
        let e = pick_container(&pod, Some("x")).unwrap_err();
        assert_eq!(e.message, "container x is not valid for pod p");
        let one = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "app"}]}});
        assert_eq!(pick_container(&one, None).unwrap(), "app");
    }

    #[test]
    fn tail_and_since_select_lines() {
        let log = crate::logs::PodLogs::default().start("u", "c");
        for i in 0..5 {
            log.write(format!("line {i}"));
        }
        let opts = LogOptions {
            tail_lines: Some(2),
            ..Default::default()
        };
        let (lines, next) = initial(&log, &opts);
        assert_eq!(
            lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["line 3", "line 4"]
        );
        assert_eq!(next, 5);
        let future = LogOptions {
            since_time: Some(jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60)),
            ..Default::default()
        };
        assert!(initial(&log, &future).0.is_empty());
        let l = &log.read_from(0).0[0];
        let stamped = format_line(l, true);
        assert!(
            stamped.ends_with("Z line 0\n") && stamped.starts_with("20"),
            "{stamped}"
        );
    }
}
