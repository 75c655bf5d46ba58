//! Errors a user can act on.
//!
//! Two kinds, because they map to different exit codes:
//! - [`ConfigError`]: the kubeconfig, the cluster-name mapping or the registry file is wrong
//!   (exit 2; nothing was sent to any cluster);
//! - [`ClusterError`]: a cluster did not answer or refused a request (exit 3). Every message
//!   names the cluster, the context and the API server, says what was being done, and what
//!   to do about it.
//!
//! kube-rs errors do not say which request failed, so callers describe it with an
//! [`ApiOp`] and convert with [`ClusterError::from_kube`].

use std::time::Duration;

use kube::core::ApiResource;
use kube::core::Status;

use smh_core::inspect::names::ContextName;
use smh_core::inspect::target::ClusterTarget;

mod config;

pub use self::config::ConfigError;

/// The API request that failed, for the message: verb, resource, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiOp {
    /// Kubernetes verb as RBAC knows it: `get`, `list`, `watch`, `create`, `update`,
    /// `patch`, `delete`.
    pub verb: &'static str,
    /// API group; empty for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
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
    pub(crate) fn resource_ref(&self) -> String {
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
    pub(crate) fn can_i(&self, context: &ContextName) -> String {
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
    /// No answer within the request timeout.
    #[error(
        "{target} did not answer within {}; check the context or raise --request-timeout",
        secs(*timeout)
    )]
    Timeout {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request timeout that passed.
        timeout: Duration,
    },

    /// The connection to the API server was refused.
    #[error(
        "{target} refused the connection ({detail}); check that the API server is running and \
         that the context's server address is right"
    )]
    Refused {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// The API server's host name does not resolve.
    #[error(
        "{target}: the API server's host name does not resolve ({detail}); check the server \
         address of the context{}",
        in_file(target)
    )]
    Dns {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// The TLS handshake with the API server failed.
    #[error(
        "{target}: TLS handshake with the API server failed ({detail}); check \
         certificate-authority / certificate-authority-data and tls-server-name of the \
         context's cluster{}",
        in_file(target)
    )]
    Tls {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// The API server refused the client certificate.
    #[error(
        "{target}: the API server refused the client certificate ({detail}); check \
         client-certificate / client-certificate-data and client-key / client-key-data of the \
         context's user{}: it must be present, unexpired and signed by a CA the API server \
         trusts",
        in_file(target)
    )]
    ClientCertificate {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// Any other connection failure.
    #[error("{target} could not be reached: {detail}")]
    Connect {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// The credentials could not be obtained (exec plugin, auth provider).
    #[error(
        "could not get credentials for {target}: {detail}; check the user's exec plugin or \
         auth provider{}",
        in_file(target)
    )]
    Credentials {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },

    /// 401: the credentials were rejected.
    #[error(
        "{target} rejected the credentials of context {} (401 Unauthorized{}); the token or \
         client certificate has expired or is invalid: log in again or refresh the kubeconfig",
        target.context,
        msg_suffix(message)
    )]
    Unauthorized {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The API server's message (may be empty).
        message: String,
    },

    /// 403: RBAC does not allow the request.
    #[error(
        "{target}: forbidden to {} (403{}); check with `{}`",
        op.describe(),
        msg_suffix(message),
        op.can_i(&target.context)
    )]
    Forbidden {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
        /// The API server's message (may be empty).
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
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The namespace of the pod.
        namespace: String,
        /// The pod the probes would port-forward to.
        pod: String,
        /// The API server's message (may be empty).
        message: String,
    },

    /// The request was for an SMH kind the cluster does not serve: the SMH CRDs are missing.
    #[error(
        "the SMH CRDs are not installed in {target} ({} is not served); run `kubectl smh install`",
        op.resource_ref()
    )]
    SmhCrdsMissing {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
    },

    /// The request was for an Istio kind the cluster does not serve: Istio's CRDs are missing.
    #[error(
        "Istio is not installed in {target} (no networking.istio.io CRDs: {} is not served)",
        op.resource_ref()
    )]
    IstioMissing {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
    },

    /// Any other resource type the cluster does not serve.
    #[error("{target} does not serve {}/{} (needed to {})", op.resource_ref(), op.version, op.describe())]
    NotServed {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
    },

    /// A 404 on a path every API server serves: the server is not a Kubernetes API server.
    #[error(
        "{target} answered {} with 404 Not Found; is the context's server address a \
         Kubernetes API server?",
        op.describe()
    )]
    NotKubernetes {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
    },

    /// 404 on one object (its type is served).
    #[error("{target}: {} failed: not found{}", op.describe(), msg_suffix(message))]
    NotFound {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
        /// The API server's message (may be empty).
        message: String,
    },

    /// 409: the object changed since it was read.
    #[error(
        "{target}: {} failed: conflict ({message}); the object was changed by someone else \
         meanwhile: run the command again",
        op.describe()
    )]
    Conflict {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
        /// The API server's message (may be empty).
        message: String,
    },

    /// The request was refused as invalid (400, 422 and other 4xx).
    #[error("{target} rejected {} ({code}{}: {message})", op.describe(), reason_suffix(reason))]
    Rejected {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
        /// The HTTP status code.
        code: u16,
        /// The `Status` reason (may be empty).
        reason: String,
        /// The API server's message (may be empty).
        message: String,
    },

    /// The API server failed (5xx).
    #[error(
        "{target}: {} failed: the API server answered {code}{}{}",
        op.describe(),
        reason_suffix(reason),
        msg_suffix_colon(message)
    )]
    Server {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
        /// The HTTP status code.
        code: u16,
        /// The `Status` reason (may be empty).
        reason: String,
        /// The API server's message (may be empty).
        message: String,
    },

    /// Any other failure of the request.
    #[error("{target}: {} failed: {detail}", op.describe())]
    Other {
        /// The cluster the request went to.
        target: ClusterTarget,
        /// The request that failed.
        op: ApiOp,
        /// What failed, as the client library or the system reported it.
        detail: String,
    },
}

pub(crate) fn secs(d: Duration) -> String {
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
    pub(crate) fn from_kube(
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
    pub(crate) fn from_status(target: ClusterTarget, op: ApiOp, status: &Status) -> Self {
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

    /// Whether the API server refused the request for lack of permission (403).
    pub(crate) fn is_forbidden(&self) -> bool {
        matches!(
            self,
            ClusterError::Forbidden { .. } | ClusterError::PortForwardForbidden { .. }
        )
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
pub(crate) fn classify_transport(err: &(dyn std::error::Error + 'static)) -> (Unreachable, String) {
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
pub(crate) fn describe_auth_error(e: &kube::client::AuthError) -> String {
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
pub(crate) fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
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

#[cfg(test)]
mod tests;
