//! Errors a user can act on.
//!
//! Two kinds, because they map to different exit codes (DESIGN §2):
//! - [`ConfigError`]: the kubeconfig, the cluster-name mapping or the registry file is wrong
//!   (exit 2; nothing was sent to any cluster);
//! - [`ClusterError`]: a cluster did not answer or refused a request (exit 3). Every message
//!   names the cluster, the context and the API server, says what was being done, and what
//!   to do about it.
//!
//! kube-rs errors do not say which request failed, so callers describe it with an
//! [`ApiOp`] and convert with [`ClusterError::from_kube`].

use std::path::PathBuf;
use std::time::Duration;

use kube::core::ApiResource;
use kube::core::Status;

use smh_core::inspect::names::{ClusterName, ContextName};
use smh_core::inspect::target::ClusterTarget;

/// The API request that failed, for the message: verb, resource, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiOp {
    /// Kubernetes verb as RBAC knows it: `get`, `list`, `watch`, `create`, `update`,
    /// `patch`, `delete`.
    pub verb: &'static str,
    /// API group; empty for the core group.
    pub group: String,
    pub version: String,
    /// Plural resource name, e.g. `deployments`.
    pub resource: String,
    /// `None` for a cluster-wide or all-namespaces request.
    pub namespace: Option<String>,
    /// The object name, for requests on one object.
    pub name: Option<String>,
}

impl ApiOp {
    /// An operation on a typed resource (`Deployment`, `Service`, ...).
    pub fn typed<K>(verb: &'static str, namespace: Option<&str>, name: Option<&str>) -> Self
    where
        K: kube::Resource<DynamicType = ()>,
    {
        ApiOp {
            verb,
            group: K::group(&()).into_owned(),
            version: K::version(&()).into_owned(),
            resource: K::plural(&()).into_owned(),
            namespace: namespace.map(str::to_string),
            name: name.map(str::to_string),
        }
    }

    /// An operation on a dynamic resource.
    pub fn dynamic(
        verb: &'static str,
        ar: &ApiResource,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        ApiOp {
            verb,
            group: ar.group.clone(),
            version: ar.version.clone(),
            resource: ar.plural.clone(),
            namespace: namespace.map(str::to_string),
            name: name.map(str::to_string),
        }
    }

    /// An operation on a path that is not a resource (`/version`, `/apis`).
    pub fn path(path: &str) -> Self {
        ApiOp {
            verb: "get",
            group: String::new(),
            version: String::new(),
            resource: path.to_string(),
            namespace: None,
            name: None,
        }
    }

    fn is_path(&self) -> bool {
        self.resource.starts_with('/')
    }

    /// `deployments.apps`, `services`, `serviceentries.networking.istio.io`.
    pub fn resource_ref(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// `in namespace bookinfo` / `in all namespaces` / `` (for a path).
    fn scope(&self) -> String {
        if self.is_path() {
            return String::new();
        }
        match &self.namespace {
            Some(ns) => format!(" in namespace {ns}"),
            None => " in all namespaces (or cluster-wide)".to_string(),
        }
    }

    /// `list deployments.apps in all namespaces`, `get services bookinfo/reviews`.
    pub fn describe(&self) -> String {
        if self.is_path() {
            return format!("GET {}", self.resource);
        }
        match (&self.name, &self.namespace) {
            (Some(n), Some(ns)) => format!("{} {} {ns}/{n}", self.verb, self.resource_ref()),
            (Some(n), None) => format!("{} {} {n}", self.verb, self.resource_ref()),
            (None, _) => format!("{} {}{}", self.verb, self.resource_ref(), self.scope()),
        }
    }

    /// The `kubectl auth can-i` command that checks this permission.
    pub fn can_i(&self, context: &ContextName) -> String {
        if self.is_path() {
            return format!(
                "kubectl auth can-i get {} --context {context}",
                self.resource
            );
        }
        let scope = match &self.namespace {
            Some(ns) => format!("-n {ns}"),
            None => "--all-namespaces".to_string(),
        };
        let name = self
            .name
            .as_ref()
            .map(|n| format!("/{n}"))
            .unwrap_or_default();
        format!(
            "kubectl auth can-i {} {}{name} {scope} --context {context}",
            self.verb,
            self.resource_ref()
        )
    }
}

/// Why a cluster could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// No answer within the request timeout.
    Timeout,
    /// The connection was refused.
    Refused,
    /// The server's host name does not resolve.
    Dns,
    /// The TLS handshake failed (certificate authority, server name).
    Tls,
    /// The API server refused the client certificate (a TLS alert it sent: none was
    /// presented, or it is expired or signed by a CA the server does not trust).
    ClientCertificate,
    /// Any other connection failure.
    Other,
}

/// A cluster did not answer, or answered with an error. Exit code 3.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "{target} did not answer within {}; check the context or raise --request-timeout",
        secs(*timeout)
    )]
    Timeout {
        target: ClusterTarget,
        timeout: Duration,
    },

    #[error(
        "{target} refused the connection ({detail}); check that the API server is running and \
         that the context's server address is right"
    )]
    Refused {
        target: ClusterTarget,
        detail: String,
    },

    #[error(
        "{target}: the API server's host name does not resolve ({detail}); check the server \
         address of the context{}",
        in_file(target)
    )]
    Dns {
        target: ClusterTarget,
        detail: String,
    },

    #[error(
        "{target}: TLS handshake with the API server failed ({detail}); check \
         certificate-authority / certificate-authority-data and tls-server-name of the \
         context's cluster{}",
        in_file(target)
    )]
    Tls {
        target: ClusterTarget,
        detail: String,
    },

    #[error(
        "{target}: the API server refused the client certificate ({detail}); check \
         client-certificate / client-certificate-data and client-key / client-key-data of the \
         context's user{}: it must be present, unexpired and signed by a CA the API server \
         trusts",
        in_file(target)
    )]
    ClientCertificate {
        target: ClusterTarget,
        detail: String,
    },

    #[error("{target} could not be reached: {detail}")]
    Connect {
        target: ClusterTarget,
        detail: String,
    },

    #[error(
        "could not get credentials for {target}: {detail}; check the user's exec plugin or \
         auth provider{}",
        in_file(target)
    )]
    Credentials {
        target: ClusterTarget,
        detail: String,
    },

    #[error(
        "{target} rejected the credentials of context {} (401 Unauthorized{}); the token or \
         client certificate has expired or is invalid: log in again or refresh the kubeconfig",
        target.context,
        msg_suffix(message)
    )]
    Unauthorized {
        target: ClusterTarget,
        message: String,
    },

    #[error(
        "{target}: forbidden to {} (403{}); check with `{}`",
        op.describe(),
        msg_suffix(message),
        op.can_i(&target.context)
    )]
    Forbidden {
        target: ClusterTarget,
        op: ApiOp,
        message: String,
    },

    /// A port-forward (the probes' way to the client workload) was refused. The WebSocket
    /// upgrade is a `GET`: API servers up to 1.34 authorise it as `get pods/portforward`, and
    /// from 1.35 (`AuthorizePodWebsocketUpgradeCreatePermission`, on by default) also as
    /// `create`.
    #[error(
        "{target}: forbidden to open a port-forward to pod {namespace}/{pod} (403{}); the probes \
         need the verbs get and create on pods/portforward in namespace {namespace} (Kubernetes \
         up to 1.34 checks get, 1.35 and later both). Check with:\n  \
         kubectl auth can-i get pods --subresource=portforward -n {namespace} --context {ctx}\n  \
         kubectl auth can-i create pods --subresource=portforward -n {namespace} --context {ctx}",
        msg_suffix(message),
        ctx = target.context
    )]
    PortForwardForbidden {
        target: ClusterTarget,
        namespace: String,
        pod: String,
        message: String,
    },

    #[error(
        "the SMH CRDs are not installed in {target} ({} is not served); run `kubectl smh install`",
        op.resource_ref()
    )]
    SmhCrdsMissing { target: ClusterTarget, op: ApiOp },

    #[error(
        "Istio is not installed in {target} (no networking.istio.io CRDs: {} is not served)",
        op.resource_ref()
    )]
    IstioMissing { target: ClusterTarget, op: ApiOp },

    #[error("{target} does not serve {}/{} (needed to {})", op.resource_ref(), op.version, op.describe())]
    NotServed { target: ClusterTarget, op: ApiOp },

    #[error(
        "{target} answered {} with 404 Not Found; is the context's server address a \
         Kubernetes API server?",
        op.describe()
    )]
    NotKubernetes { target: ClusterTarget, op: ApiOp },

    #[error("{target}: {} failed: not found{}", op.describe(), msg_suffix(message))]
    NotFound {
        target: ClusterTarget,
        op: ApiOp,
        message: String,
    },

    #[error(
        "{target}: {} failed: conflict ({message}); the object was changed by someone else \
         meanwhile: run the command again",
        op.describe()
    )]
    Conflict {
        target: ClusterTarget,
        op: ApiOp,
        message: String,
    },

    #[error("{target} rejected {} ({code}{}: {message})", op.describe(), reason_suffix(reason))]
    Rejected {
        target: ClusterTarget,
        op: ApiOp,
        code: u16,
        reason: String,
        message: String,
    },

    #[error(
        "{target}: {} failed: the API server answered {code}{}{}",
        op.describe(),
        reason_suffix(reason),
        msg_suffix_colon(message)
    )]
    Server {
        target: ClusterTarget,
        op: ApiOp,
        code: u16,
        reason: String,
        message: String,
    },

    #[error("{target}: {} failed: {detail}", op.describe())]
    Other {
        target: ClusterTarget,
        op: ApiOp,
        detail: String,
    },
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn in_file(target: &ClusterTarget) -> String {
    match &target.kubeconfig {
        Some(p) => format!(" in {}", p.display()),
        None => String::new(),
    }
}

fn msg_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn msg_suffix_colon(message: &str) -> String {
    msg_suffix(message)
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}

/// What kube reports when an error body was not a JSON `Status` (e.g. `404 page not found`
/// for a resource type the server does not serve).
const UNPARSED_REASON: &str = "Failed to parse error data";

impl ClusterError {
    /// Turns a kube-rs error on `op` against `target` into a message the user can act on.
    /// `timeout` is the request timeout the client was built with.
    pub fn from_kube(
        target: &ClusterTarget,
        timeout: Duration,
        op: &ApiOp,
        err: kube::Error,
    ) -> Self {
        let target = target.clone();
        let op = op.clone();
        match err {
            kube::Error::Api(status) => Self::from_status(target, op, &status),
            kube::Error::Auth(e) => ClusterError::Credentials {
                target,
                detail: describe_auth_error(&e),
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) => {
                let (kind, detail) = classify_transport(&err);
                match kind {
                    Unreachable::Timeout => ClusterError::Timeout { target, timeout },
                    Unreachable::Refused => ClusterError::Refused { target, detail },
                    Unreachable::Dns => ClusterError::Dns { target, detail },
                    Unreachable::Tls => ClusterError::Tls { target, detail },
                    Unreachable::ClientCertificate => {
                        ClusterError::ClientCertificate { target, detail }
                    }
                    Unreachable::Other => ClusterError::Connect { target, detail },
                }
            }
            other => ClusterError::Other {
                target,
                op,
                detail: chain(&other),
            },
        }
    }

    /// Maps an API `Status` (an HTTP error answer) for `op`.
    pub fn from_status(target: ClusterTarget, op: ApiOp, status: &Status) -> Self {
        let message = status.message.trim().to_string();
        let reason = status.reason.clone();
        match status.code {
            401 => ClusterError::Unauthorized { target, message },
            403 => ClusterError::Forbidden {
                target,
                op,
                message,
            },
            404 => {
                // A collection request that 404s, or any request whose answer is not a
                // Status (`404 page not found`), means the resource type is not served.
                let type_missing = op.name.is_none() || reason == UNPARSED_REASON;
                if op.is_path() {
                    ClusterError::NotKubernetes { target, op }
                } else if type_missing {
                    match op.group.as_str() {
                        smh_core::consts::SMH_GROUP => ClusterError::SmhCrdsMissing { target, op },
                        "networking.istio.io" => ClusterError::IstioMissing { target, op },
                        _ => ClusterError::NotServed { target, op },
                    }
                } else {
                    ClusterError::NotFound {
                        target,
                        op,
                        message,
                    }
                }
            }
            409 => ClusterError::Conflict {
                target,
                op,
                message,
            },
            400 | 415 | 422 => ClusterError::Rejected {
                target,
                op,
                code: status.code,
                reason,
                message,
            },
            code => ClusterError::Server {
                target,
                op,
                code,
                reason,
                message,
            },
        }
    }

    /// The target the error is about.
    pub fn target(&self) -> &ClusterTarget {
        match self {
            ClusterError::Timeout { target, .. }
            | ClusterError::Refused { target, .. }
            | ClusterError::Dns { target, .. }
            | ClusterError::Tls { target, .. }
            | ClusterError::ClientCertificate { target, .. }
            | ClusterError::Connect { target, .. }
            | ClusterError::Credentials { target, .. }
            | ClusterError::Unauthorized { target, .. }
            | ClusterError::Forbidden { target, .. }
            | ClusterError::PortForwardForbidden { target, .. }
            | ClusterError::SmhCrdsMissing { target, .. }
            | ClusterError::IstioMissing { target, .. }
            | ClusterError::NotServed { target, .. }
            | ClusterError::NotKubernetes { target, .. }
            | ClusterError::NotFound { target, .. }
            | ClusterError::Conflict { target, .. }
            | ClusterError::Rejected { target, .. }
            | ClusterError::Server { target, .. }
            | ClusterError::Other { target, .. } => target,
        }
    }

    /// Whether the cluster could not be reached at all (as opposed to answering with an
    /// error). `describe` shows such a cluster as a row with its error.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ClusterError::Timeout { .. }
                | ClusterError::Refused { .. }
                | ClusterError::Dns { .. }
                | ClusterError::Tls { .. }
                | ClusterError::ClientCertificate { .. }
                | ClusterError::Connect { .. }
        )
    }

    /// Whether the request's resource type is not served (CRDs missing).
    pub fn is_not_served(&self) -> bool {
        matches!(
            self,
            ClusterError::SmhCrdsMissing { .. }
                | ClusterError::IstioMissing { .. }
                | ClusterError::NotServed { .. }
        )
    }

    /// Whether the API server refused the request for lack of permission (403).
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            ClusterError::Forbidden { .. } | ClusterError::PortForwardForbidden { .. }
        )
    }

    /// Whether the error is a 404 on a single object (the type is served).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ClusterError::NotFound { .. })
    }
}

/// TLS alerts (as rustls names them) with which a server refuses the client's certificate.
/// `received fatal alert: …` is what the server sent; an alert we send ourselves (the server's
/// certificate is not trusted) reads `invalid peer certificate: …` instead.
const CLIENT_CERTIFICATE_ALERTS: &[&str] = &[
    "CertificateRequired",
    "UnknownCA",
    "BadCertificate",
    "CertificateUnknown",
    "CertificateExpired",
    "CertificateRevoked",
    "UnsupportedCertificate",
    "AccessDenied",
];

/// Walks the error chain of a transport error and decides why the cluster was unreachable.
/// Returns the kind and the innermost message (e.g. `Connection refused (os error 111)`).
pub fn classify_transport(err: &(dyn std::error::Error + 'static)) -> (Unreachable, String) {
    let mut kind = Unreachable::Other;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::TimedOut => return (Unreachable::Timeout, innermost(err)),
                std::io::ErrorKind::ConnectionRefused => kind = Unreachable::Refused,
                _ => {}
            }
        }
        let text = e.to_string();
        if kind == Unreachable::Other {
            if text.starts_with("dns error") || text.contains("failed to lookup address") {
                kind = Unreachable::Dns;
            } else if CLIENT_CERTIFICATE_ALERTS
                .iter()
                .any(|a| text.contains(&format!("received fatal alert: {a}")))
            {
                kind = Unreachable::ClientCertificate;
            } else if text.contains("invalid peer certificate")
                || text.contains("certificate verify failed")
                || text.contains("received fatal alert")
                || text.contains("InvalidCertificate")
                || text.contains("tls handshake")
            {
                kind = Unreachable::Tls;
            }
        }
        if text.contains("timed out") || text.contains("deadline has elapsed") {
            return (Unreachable::Timeout, innermost(err));
        }
        cur = e.source();
    }
    (kind, innermost(err))
}

/// A credential failure in words: for a failed exec plugin its exit status and what it
/// wrote on stderr (never its stdout, which may hold a token).
pub fn describe_auth_error(e: &kube::client::AuthError) -> String {
    use kube::client::AuthError;
    match e {
        AuthError::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stderr = stderr.trim();
            if stderr.is_empty() {
                format!("the exec plugin failed ({})", out.status)
            } else {
                format!("the exec plugin failed ({}): {stderr}", out.status)
            }
        }
        AuthError::AuthExecStart(io) => format!("the exec plugin could not be started: {io}"),
        other => chain(other),
    }
}

/// The message of the innermost error in a chain.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// The whole chain, `outer: inner: innermost`, without repeated parts.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// The kubeconfig, the cluster-name mapping or the registry is wrong. Exit code 2; nothing
/// was sent to any cluster.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("kubeconfig {path} does not exist (from {from})")]
    KubeconfigMissing { path: PathBuf, from: &'static str },

    #[error("cannot read kubeconfig {path}: {detail}")]
    KubeconfigRead { path: PathBuf, detail: String },

    #[error(
        "no kubeconfig found (looked at {}); pass --kubeconfig PATH or set KUBECONFIG",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoKubeconfig { tried: Vec<PathBuf> },

    #[error(
        "the kubeconfig ({}) sets no current context; pass --mgmt-context CTX (contexts: {})",
        files_list(files),
        names_list(available)
    )]
    NoCurrentContext {
        files: Vec<PathBuf>,
        available: Vec<ContextName>,
    },

    #[error(
        "context \"{context}\"{} is not in the kubeconfig ({}); the contexts are: {}",
        from_suffix(from),
        files_list(files),
        names_list(available)
    )]
    ContextNotFound {
        context: ContextName,
        /// Where the context name came from (`--mgmt-context`, `--cluster a=b`, the registry).
        from: String,
        files: Vec<PathBuf>,
        available: Vec<ContextName>,
    },

    #[error(
        "cluster \"{cluster}\" has no kubeconfig context: it is not mapped by --cluster or the \
         registry ({registry}), and no context has that name. Map it with `--cluster \
         {cluster}=CTX` or `kubectl smh cluster register {cluster} --context CTX`; the \
         contexts are: {}",
        names_list(available)
    )]
    ClusterUnmapped {
        cluster: ClusterName,
        registry: PathBuf,
        available: Vec<ContextName>,
    },

    #[error(
        "invalid --cluster {value:?}: {reason}; expected NAME=CTX, e.g. --cluster remote-cluster=my-remote-context"
    )]
    ClusterFlag { value: String, reason: String },

    #[error("context {context} in {}: {detail}", file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "the kubeconfig".into()))]
    ClientConfig {
        context: ContextName,
        file: Option<PathBuf>,
        detail: String,
    },

    #[error(
        "could not get credentials for context {context}{}: {detail}; check the user's exec \
         plugin, token file or auth provider",
        file.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default()
    )]
    Credentials {
        context: ContextName,
        file: Option<PathBuf>,
        detail: String,
    },

    #[error("cluster registry {path}: {detail}")]
    Registry { path: PathBuf, detail: String },

    #[error(
        "cannot find the cluster registry: no user configuration directory; set \
         KUBECTL_SMH_CONFIG to the path of the registry file"
    )]
    NoConfigDir,
}

fn names_list<T: std::fmt::Display>(names: &[T]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn files_list(files: &[PathBuf]) -> String {
    if files.is_empty() {
        "no file".to_string()
    } else {
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn from_suffix(from: &str) -> String {
    if from.is_empty() {
        String::new()
    } else {
        format!(" (from {from})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Service;
    use smh_core::inspect::target::MappingSource;

    fn target() -> ClusterTarget {
        ClusterTarget {
            cluster: Some(ClusterName::from("remote-cluster")),
            context: ContextName::from("remote-ctx"),
            server: "https://10.0.0.2:6443".into(),
            mgmt: false,
            source: MappingSource::Registry,
            kubeconfig: Some(PathBuf::from("/home/u/.kube/config")),
        }
    }

    fn status(code: u16, reason: &str, message: &str) -> Status {
        let mut s = Status::failure(message, reason);
        s.code = code;
        s
    }

    fn map(op: &ApiOp, status: Status) -> ClusterError {
        ClusterError::from_kube(
            &target(),
            Duration::from_secs(10),
            op,
            kube::Error::Api(Box::new(status)),
        )
    }

    #[test]
    fn forbidden_names_verb_resource_namespace_and_context() {
        let op = ApiOp::typed::<Deployment>("list", None, None);
        let e = map(
            &op,
            status(
                403,
                "Forbidden",
                "deployments.apps is forbidden: User \"bob\" cannot list resource \"deployments\"",
            ),
        );
        assert!(matches!(e, ClusterError::Forbidden { .. }));
        let text = e.to_string();
        assert!(text.starts_with(
            "cluster remote-cluster (context remote-ctx, https://10.0.0.2:6443): forbidden to \
             list deployments.apps in all namespaces"
        ));
        assert!(
            text.ends_with(
                "check with `kubectl auth can-i list deployments.apps --all-namespaces --context remote-ctx`"
            ),
            "{text}"
        );

        let op = ApiOp::typed::<Service>("patch", Some("bookinfo"), Some("reviews"));
        let text = map(&op, status(403, "Forbidden", "")).to_string();
        assert!(
            text.contains("forbidden to patch services bookinfo/reviews (403)"),
            "{text}"
        );
        assert!(text.contains(
            "`kubectl auth can-i patch services/reviews -n bookinfo --context remote-ctx`"
        ));
    }

    #[test]
    fn a_404_on_version_is_not_an_api_server() {
        let e = map(
            &ApiOp::path("/version"),
            status(404, UNPARSED_REASON, "404 page not found"),
        );
        assert_eq!(
            e.to_string(),
            "cluster remote-cluster (context remote-ctx, https://10.0.0.2:6443) answered GET \
             /version with 404 Not Found; is the context's server address a Kubernetes API server?"
        );
    }

    #[test]
    fn unauthorized_says_credentials_expired() {
        let op = ApiOp::path("/version");
        let e = map(&op, status(401, "Unauthorized", "Unauthorized"));
        assert!(matches!(e, ClusterError::Unauthorized { .. }));
        assert!(e.to_string().contains(
            "rejected the credentials of context remote-ctx (401 Unauthorized: Unauthorized)"
        ));
    }

    #[test]
    fn not_served_collections_become_crd_messages() {
        let smh = ApiOp {
            verb: "list",
            group: "networking.smh.solo.io".into(),
            version: "v1alpha2".into(),
            resource: "failoverservices".into(),
            namespace: Some("service-mesh-hub".into()),
            name: None,
        };
        let e = map(&smh, status(404, UNPARSED_REASON, "404 page not found"));
        assert!(matches!(e, ClusterError::SmhCrdsMissing { .. }));
        assert_eq!(
            e.to_string(),
            "the SMH CRDs are not installed in cluster remote-cluster (context remote-ctx, \
             https://10.0.0.2:6443) (failoverservices.networking.smh.solo.io is not served); \
             run `kubectl smh install`"
        );

        let istio = ApiOp {
            group: "networking.istio.io".into(),
            version: "v1".into(),
            resource: "serviceentries".into(),
            ..smh.clone()
        };
        let e = map(
            &istio,
            status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        );
        assert!(matches!(e, ClusterError::IstioMissing { .. }));
        assert!(
            e.to_string()
                .starts_with("Istio is not installed in cluster remote-cluster")
        );
        assert!(e.to_string().contains("no networking.istio.io CRDs"));

        // A named GET on an unserved type answers plain text, not a Status.
        let named = ApiOp {
            verb: "get",
            name: Some("reviews-failover".into()),
            ..smh.clone()
        };
        assert!(matches!(
            map(&named, status(404, UNPARSED_REASON, "404 page not found")),
            ClusterError::SmhCrdsMissing { .. }
        ));
        // A named GET of a missing object answers a NotFound Status.
        let e = map(
            &named,
            status(
                404,
                "NotFound",
                "failoverservices.networking.smh.solo.io \"reviews-failover\" not found",
            ),
        );
        assert!(e.is_not_found());
        assert!(e.to_string().contains("get failoverservices.networking.smh.solo.io service-mesh-hub/reviews-failover failed: not found"));
    }

    #[test]
    fn conflict_rejected_and_server_errors_keep_the_status_message() {
        let op = ApiOp::typed::<Service>("update", Some("bookinfo"), Some("reviews"));
        let e = map(
            &op,
            status(
                409,
                "Conflict",
                "the object has been modified; please apply your changes to the latest version",
            ),
        );
        assert!(matches!(e, ClusterError::Conflict { .. }));
        assert!(e.to_string().contains("the object has been modified"));
        assert!(e.to_string().contains("run the command again"));

        let e = map(
            &op,
            status(422, "Invalid", "spec.ports[0].port: Invalid value: 0"),
        );
        assert_eq!(
            e.to_string(),
            "cluster remote-cluster (context remote-ctx, https://10.0.0.2:6443) rejected update \
             services bookinfo/reviews (422 Invalid: spec.ports[0].port: Invalid value: 0)"
        );

        let e = map(
            &op,
            status(500, "InternalError", "etcdserver: request timed out"),
        );
        assert!(matches!(e, ClusterError::Server { code: 500, .. }));
        assert!(
            e.to_string().ends_with(
                "the API server answered 500 InternalError: etcdserver: request timed out"
            )
        );
    }

    #[derive(Debug)]
    struct Outer(std::io::Error, &'static str);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.1)
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    fn service_err(outer: &'static str, io: std::io::Error) -> kube::Error {
        kube::Error::Service(Box::new(Outer(io, outer)))
    }

    #[test]
    fn transport_errors_are_classified_by_their_chain() {
        let op = ApiOp::path("/version");
        let t = target();
        let timeout = Duration::from_secs(10);
        let e = ClusterError::from_kube(
            &t,
            timeout,
            &op,
            service_err(
                "client error (Connect)",
                std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline"),
            ),
        );
        assert_eq!(
            e.to_string(),
            "cluster remote-cluster (context remote-ctx, https://10.0.0.2:6443) did not answer \
             within 10s; check the context or raise --request-timeout"
        );
        let e = ClusterError::from_kube(
            &t,
            timeout,
            &op,
            service_err(
                "tcp connect error",
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            ),
        );
        assert!(matches!(e, ClusterError::Refused { .. }), "{e:?}");
        let e = ClusterError::from_kube(
            &t,
            timeout,
            &op,
            service_err(
                "dns error",
                std::io::Error::other(
                    "failed to lookup address information: Name or service not known",
                ),
            ),
        );
        assert!(matches!(e, ClusterError::Dns { .. }), "{e:?}");
        assert!(e.to_string().contains("in /home/u/.kube/config"));
        let e = ClusterError::from_kube(
            &t,
            timeout,
            &op,
            service_err(
                "client error (Connect)",
                std::io::Error::other("invalid peer certificate: UnknownIssuer"),
            ),
        );
        assert!(matches!(e, ClusterError::Tls { .. }), "{e:?}");
        assert!(e.is_unreachable());
        assert_eq!(secs(Duration::from_millis(300)), "300ms");
    }
}
