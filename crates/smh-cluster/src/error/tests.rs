//! Tests of the error messages: each names the cluster, what was done and what to do.

use std::path::PathBuf;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;

use super::*;
use smh_core::inspect::names::ClusterName;
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
    assert!(
        text.contains(
            "`kubectl auth can-i patch services/reviews -n bookinfo --context remote-ctx`"
        )
    );
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
    assert!(matches!(e, ClusterError::NotFound { .. }));
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
        e.to_string()
            .ends_with("the API server answered 500 InternalError: etcdserver: request timed out")
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
