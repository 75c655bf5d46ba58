//! `svc.ns@cluster` and mesh references.

use super::*;

// svc.ns@cluster and mesh refs
// ---------------------------------------------------------------------------------------

#[test]
fn service_refs_parse_strictly() {
    let ok = parse_service_ref("reviews.bookinfo@mgmt-cluster").unwrap();
    assert_eq!(
        ok,
        ClusterObjectRef {
            name: "reviews".into(),
            namespace: "bookinfo".into(),
            cluster_name: "mgmt-cluster".into(),
        }
    );
    assert_eq!(service_ref(&ok), "reviews.bookinfo@mgmt-cluster");
    // A cluster name may hold dots (a DNS-1123 subdomain).
    assert_eq!(
        parse_service_ref("a.b@gke.europe-west1")
            .unwrap()
            .cluster_name,
        "gke.europe-west1"
    );

    let cases = [
        ("reviews", "no '@CLUSTER'"),
        ("reviews@mgmt", "no '.NAMESPACE'"),
        (
            "reviews.bookinfo.svc.cluster.local@mgmt",
            "more than one '.'",
        ),
        ("reviews.bookinfo@mgmt@x", "more than one '@'"),
        (".bookinfo@mgmt", "the service name is empty"),
        ("reviews.@mgmt", "the namespace is empty"),
        ("reviews.bookinfo@", "the cluster name is empty"),
        (
            "Reviews.bookinfo@mgmt",
            "the service name \"Reviews\" is invalid",
        ),
        (
            "reviews.book_info@mgmt",
            "the namespace \"book_info\" is invalid",
        ),
        (
            "reviews.bookinfo@Mgmt",
            "the cluster name \"Mgmt\" is invalid",
        ),
        (" reviews.bookinfo@mgmt", "leading or trailing spaces"),
    ];
    for (input, want) in cases {
        let e = parse_service_ref(input).unwrap_err();
        assert!(e.contains(want), "{input:?}: {e}");
        assert!(
            e.contains("expected SERVICE.NAMESPACE@CLUSTER"),
            "{input:?}: {e}"
        );
    }
}

#[test]
fn mesh_refs_default_to_the_smh_namespace() {
    assert_eq!(
        parse_mesh_ref("istiod-istio-system-mgmt-cluster").unwrap(),
        ObjectRef {
            name: "istiod-istio-system-mgmt-cluster".into(),
            namespace: "service-mesh-hub".into()
        }
    );
    assert_eq!(parse_mesh_ref("m.other").unwrap().namespace, "other");
    for bad in ["", "a.b.c", "M", ".x", "x."] {
        assert!(parse_mesh_ref(bad).is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------
