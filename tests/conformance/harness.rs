//! Interactions (a request and a normaliser), the two targets they run against, and the
//! masking every answer goes through before the simulated and the real one are compared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use http_body_util::BodyExt as _;
use regex::Regex;
use serde_json::{Value, json};

/// What an interaction sends.
pub(crate) enum Req {
    /// A raw HTTP request through kube-rs (`kube::Client::send`): method, path (with
    /// `${var}` substitutions), headers, body (JSON or YAML text, substituted too).
    Http {
        method: &'static str,
        path: String,
        headers: Vec<(&'static str, String)>,
        body: Option<String>,
    },
    /// `kubectl ARGS` (substituted) with the target's kubeconfig, context `mgmt-cluster`,
    /// and `stdin` if given.
    Kubectl {
        args: Vec<String>,
        stdin: Option<String>,
        env: Vec<(&'static str, String)>,
    },
    /// Repeat `req` until `until` holds of its answer or `timeout` passes; the answer is
    /// `{"satisfied": bool}` plus the normalised last answer.
    Until {
        req: Box<Req>,
        until: fn(&Observed) -> bool,
        timeout: Duration,
    },
}

/// One answer, before normalisation.
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    /// The HTTP status, or kubectl's exit code.
    pub(crate) code: i64,
    /// The body as JSON (a watch stream is an array of its events; text that is not JSON is
    /// a string); kubectl's stdout.
    pub(crate) body: Value,
    /// kubectl's stderr (empty for HTTP).
    pub(crate) stderr: String,
    /// Response headers of interest (`warning`, `content-type`).
    pub(crate) headers: BTreeMap<String, String>,
}

/// A normaliser: what of an (already masked) answer is compared.
pub(crate) type Norm = Box<dyn Fn(&Observed) -> Value + Send + Sync>;

/// One interaction of the table.
pub(crate) struct Interaction {
    /// `area/name`, unique: the key of the accepted-differences list.
    pub(crate) id: String,
    pub(crate) req: Req,
    pub(crate) norm: Norm,
    /// `(var, JSON pointer)`: values taken from the answer's body for later requests.
    pub(crate) capture: Vec<(&'static str, &'static str)>,
}

impl Interaction {
    /// An HTTP interaction, normalised to the status code and the whole masked body.
    pub(crate) fn http(id: &str, method: &'static str, path: &str, body: Option<Value>) -> Self {
        Interaction {
            id: id.to_string(),
            req: Req::Http {
                method,
                path: path.to_string(),
                headers: vec![],
                body: body.map(|b| b.to_string()),
            },
            norm: full(),
            capture: vec![],
        }
    }

    /// A kubectl interaction, normalised to exit code, stdout and stderr (masked, blanks
    /// collapsed).
    pub(crate) fn kubectl(id: &str, args: &[&str], stdin: Option<&str>) -> Self {
        Interaction {
            id: id.to_string(),
            req: Req::Kubectl {
                args: args.iter().map(|a| a.to_string()).collect(),
                stdin: stdin.map(str::to_string),
                env: vec![],
            },
            norm: text(),
            capture: vec![],
        }
    }

    /// Wait until `until` holds of `self`'s answer (at most `timeout`).
    pub(crate) fn until(mut self, until: fn(&Observed) -> bool, timeout: Duration) -> Self {
        let req = std::mem::replace(
            &mut self.req,
            Req::Kubectl {
                args: vec![],
                stdin: None,
                env: vec![],
            },
        );
        self.req = Req::Until {
            req: Box::new(req),
            until,
            timeout,
        };
        self
    }

    /// Compare with `norm` instead.
    pub(crate) fn norm(mut self, norm: Norm) -> Self {
        self.norm = norm;
        self
    }

    /// Run kubectl with `name=value` in its environment.
    pub(crate) fn env(mut self, name: &'static str, value: &str) -> Self {
        if let Req::Kubectl { env, .. } = &mut self.req {
            env.push((name, value.to_string()));
        }
        self
    }

    /// Add a request header.
    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Req::Http { headers, .. } = &mut self.req {
            headers.push((name, value.to_string()));
        }
        self
    }

    /// Send the body with this content type (default: JSON for POST/PUT, merge patch for
    /// PATCH).
    pub(crate) fn content_type(self, ct: &str) -> Self {
        self.header("content-type", ct)
    }

    /// Capture `pointer` of the answer's body as `${var}`.
    pub(crate) fn capture(mut self, var: &'static str, pointer: &'static str) -> Self {
        self.capture.push((var, pointer));
        self
    }
}

/// The whole answer: code and masked body, but for `metadata.managedFields` (compared by
/// the interactions that pick them: `apply/*`, `crud/managed-fields-of-updates`), so one
/// difference there is one difference.
pub(crate) fn full() -> Norm {
    Box::new(|o| {
        let mut body = o.body.clone();
        strip_managed_fields(&mut body);
        json!({"code": o.code, "body": body})
    })
}

fn strip_managed_fields(v: &mut Value) {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    if let Some(items) = v.get_mut("items").and_then(Value::as_array_mut) {
        items.iter_mut().for_each(strip_managed_fields);
    }
}

/// The code and the body's values at these JSON pointers (absent: null).
pub(crate) fn pick(pointers: &'static [&'static str]) -> Norm {
    Box::new(move |o| {
        let mut m = serde_json::Map::new();
        m.insert("code".into(), json!(o.code));
        for p in pointers {
            m.insert(
                (*p).to_string(),
                o.body.pointer(p).cloned().unwrap_or(Value::Null),
            );
        }
        Value::Object(m)
    })
}

/// The code alone.
pub(crate) fn code() -> Norm {
    Box::new(|o| json!({"code": o.code}))
}

/// A `Status` answer: code, and the Status's status, reason, message, details and code.
pub(crate) fn status() -> Norm {
    pick(&[
        "/kind", "/status", "/reason", "/message", "/details", "/code",
    ])
}

/// kubectl's answer: exit code, stdout and stderr, blanks collapsed.
pub(crate) fn text() -> Norm {
    Box::new(
        |o| json!({"code": o.code, "stdout": collapse(&o.body), "stderr": collapse(&Value::String(o.stderr.clone()))}),
    )
}

/// kubectl's exit code and stdout only.
pub(crate) fn stdout() -> Norm {
    Box::new(|o| json!({"code": o.code, "stdout": collapse(&o.body)}))
}

fn collapse(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::Array(
            s.lines()
                .map(|l| {
                    let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
                    let l = CLUSTER_IP.replace_all(&l, "<cluster-ip>");
                    Value::String(AGE.replace_all(&l, "${1}<age>${3}").into_owned())
                })
                .filter(|l| l.as_str() != Some(""))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Where the interactions go: one cluster's kubeconfig, a kube-rs client for its
/// `mgmt-cluster` context, and the values captured so far.
pub(crate) struct Target {
    pub(crate) name: &'static str,
    pub(crate) client: kube::Client,
    pub(crate) kubeconfig: PathBuf,
    pub(crate) home: PathBuf,
    pub(crate) kubectl: PathBuf,
    pub(crate) vars: BTreeMap<String, String>,
}

impl Target {
    /// A target for the `mgmt-cluster` context of `kubeconfig`.
    pub(crate) async fn new(name: &'static str, kubeconfig: &Path, kubectl: &Path) -> Target {
        let kc = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
        let cfg = kube::Config::from_custom_kubeconfig(
            kc,
            &kube::config::KubeConfigOptions {
                context: Some("mgmt-cluster".into()),
                ..Default::default()
            },
        )
        .await
        .expect("kube config");
        let home = kubeconfig.parent().unwrap().join(format!("home-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        Target {
            name,
            client: kube::Client::try_from(cfg).expect("kube client"),
            kubeconfig: kubeconfig.to_path_buf(),
            home,
            kubectl: kubectl.to_path_buf(),
            vars: BTreeMap::new(),
        }
    }

    fn subst(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (k, v) in &self.vars {
            out = out.replace(&format!("${{{k}}}"), v);
        }
        out
    }

    /// Run `i`, capture its variables (from the unmasked answer), and return its normalised
    /// answer.
    pub(crate) async fn run(&mut self, i: &Interaction) -> Value {
        let raw = self.send(&i.req).await;
        for (var, pointer) in &i.capture {
            if let Some(v) = raw.body.pointer(pointer) {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.vars.insert((*var).to_string(), s);
            }
        }
        (i.norm)(&mask_observed(raw))
    }

    async fn send(&self, req: &Req) -> Observed {
        match req {
            Req::Http {
                method,
                path,
                headers,
                body,
            } => {
                self.http(method, &self.subst(path), headers, body.as_deref())
                    .await
            }
            Req::Kubectl { args, stdin, env } => {
                let args: Vec<String> = args.iter().map(|a| self.subst(a)).collect();
                self.kubectl(&args, stdin.as_deref().map(|s| self.subst(s)), env)
                    .await
            }
            Req::Until {
                req,
                until,
                timeout,
            } => {
                let start = Instant::now();
                loop {
                    let o = Box::pin(self.send(req)).await;
                    let ok = until(&o);
                    if ok || start.elapsed() > *timeout {
                        let mut o = o;
                        o.body = json!({"satisfied": ok, "last": o.body});
                        return o;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&'static str, String)],
        body: Option<&str>,
    ) -> Observed {
        let mut b = http::Request::builder().method(method).uri(path);
        let mut has_ct = false;
        for (k, v) in headers {
            has_ct |= k.eq_ignore_ascii_case("content-type");
            b = b.header(*k, self.subst(v));
        }
        if body.is_some() && !has_ct {
            let ct = if method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            b = b.header("content-type", ct);
        }
        let body = body.map(|s| self.subst(s)).unwrap_or_default();
        let req = b
            .body(kube::client::Body::from(body.into_bytes()))
            .expect("a request");
        let resp = tokio::time::timeout(Duration::from_secs(60), self.client.send(req))
            .await
            .unwrap_or_else(|_| panic!("{}: {method} {path}: no answer in 60 s", self.name))
            .unwrap_or_else(|e| panic!("{}: {method} {path}: {e}", self.name));
        let code = i64::from(resp.status().as_u16());
        let mut hs = BTreeMap::new();
        for name in ["warning", "content-type"] {
            let vals: Vec<String> = resp
                .headers()
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            if !vals.is_empty() {
                hs.insert(name.to_string(), vals.join("\n"));
            }
        }
        let bytes = resp
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{}: {method} {path}: reading the body: {e}", self.name))
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Observed {
            code,
            body: parse_body(&text),
            stderr: String::new(),
            headers: hs,
        }
    }

    async fn kubectl(
        &self,
        args: &[String],
        stdin: Option<String>,
        env: &[(&'static str, String)],
    ) -> Observed {
        use tokio::io::AsyncWriteExt as _;
        let mut cmd = tokio::process::Command::new(&self.kubectl);
        cmd.args(["--context", "mgmt-cluster"])
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.home)
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .current_dir(&self.home)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("run kubectl");
        let mut pipe = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            pipe.write_all(s.as_bytes()).await.unwrap();
        }
        drop(pipe);
        let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{}: kubectl {args:?}: still running after 90 s", self.name))
            .unwrap();
        Observed {
            code: i64::from(out.status.code().unwrap_or(-1)),
            body: Value::String(String::from_utf8_lossy(&out.stdout).into_owned()),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            headers: BTreeMap::new(),
        }
    }
}

/// JSON, or a watch stream (one JSON object a line) as an array, or the text.
fn parse_body(text: &str) -> Value {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return v;
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if !lines.is_empty() {
        let parsed: Result<Vec<Value>, _> = lines.iter().map(|l| serde_json::from_str(l)).collect();
        if let Ok(events) = parsed {
            return Value::Array(events);
        }
    }
    Value::String(text.to_string())
}

/// Keys whose values differ between any two servers (identity, time, versions, tokens).
const MASKED_KEYS: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "time",
    "lastTransitionTime",
    "lastUpdateTime",
    "lastProbeTime",
    "startTime",
    "continue",
    "clusterIP",
    "clusterIPs",
    "podIP",
    "podIPs",
    "hostIP",
    "hostIPs",
    "nodeName",
    "generateName",
];

/// An age column's value (`5s`, `2m3s`, `4h`).
static AGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^| )\d+[smhd](\d+[smh])?( |$)").unwrap());

/// A ClusterIP (the allocators differ).
static CLUSTER_IP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b10\.96\.\d+\.\d+\b").unwrap());

static MASKS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    vec![
        (
            Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap(),
            "<uid>",
        ),
        (
            Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)").unwrap(),
            "<time>",
        ),
        (Regex::new(r"https?://127\.0\.0\.1:\d+").unwrap(), "<server>"),
        (Regex::new(r"127\.0\.0\.1:\d+").unwrap(), "127.0.0.1:<port>"),
        (
            Regex::new(r"too old resource version: \d+ \(\d+\)").unwrap(),
            "too old resource version: <rv> (<rv>)",
        ),
        (
            Regex::new(r"ResourceVersion in the precondition \(\d+\) does not match the ResourceVersion in record \(\d+\)").unwrap(),
            "ResourceVersion in the precondition (<rv>) does not match the ResourceVersion in record (<rv>)",
        ),
        (
            Regex::new(r#"resourceVersion(["\\:= ]+)"?\d+"?"#).unwrap(),
            "resourceVersion$1<rv>",
        ),
    ]
});

/// Mask a string's uids, times, server addresses and resource versions.
pub(crate) fn mask_str(s: &str) -> String {
    let mut out = s.to_string();
    for (re, with) in MASKS.iter() {
        out = re.replace_all(&out, *with).into_owned();
    }
    out
}

/// Mask a JSON value: [`MASKED_KEYS`] replaced by `<masked>`, strings by [`mask_str`].
pub(crate) fn mask(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let masked = if MASKED_KEYS.contains(&k.as_str()) && !v.is_null() {
                        json!("<masked>")
                    } else {
                        mask(v)
                    };
                    (k.clone(), masked)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(mask).collect()),
        Value::String(s) => Value::String(mask_str(s)),
        other => other.clone(),
    }
}

fn mask_observed(o: Observed) -> Observed {
    Observed {
        code: o.code,
        body: mask(&o.body),
        stderr: mask_str(&o.stderr),
        headers: o
            .headers
            .into_iter()
            .map(|(k, v)| (k, mask_str(&v)))
            .collect(),
    }
}

/// Create namespace `ns` (the first interaction of an area).
pub(crate) fn namespace(id: &str, ns: &str) -> Interaction {
    Interaction::http(
        id,
        "POST",
        "/api/v1/namespaces",
        Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})),
    )
    .norm(pick(&["/metadata/name", "/spec", "/status"]))
}

/// A watch stream's events as `[type, name]`, ERROR events with their masked Status, and
/// only the BOOKMARK that ends the initial events (others come at the server's pace).
pub(crate) fn events() -> Norm {
    Box::new(|o| {
        let evs: Vec<Value> = o
            .body
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![o.body.clone()])
            .into_iter()
            .filter_map(|e| {
                let ty = e["type"].as_str().unwrap_or("?").to_string();
                match ty.as_str() {
                    "ERROR" => Some(json!([ty, e["object"]])),
                    "BOOKMARK" => e
                        .pointer("/object/metadata/annotations/k8s.io~1initial-events-end")
                        .map(|v| json!([ty, "initial-events-end", v])),
                    _ => Some(json!([ty, e["object"]["metadata"]["name"]])),
                }
            })
            .collect();
        json!({"code": o.code, "events": evs})
    })
}

/// The answer's warning header (blank when none) and code.
pub(crate) fn warning() -> Norm {
    Box::new(|o| json!({"code": o.code, "warning": o.headers.get("warning")}))
}
