//! Unit tests of reading manifests: documents, lists, apiVersion and kind, metadata,
//! typed decoding and its messages.

use super::*;

const FS: &str = "apiVersion: networking.smh.solo.io/v1alpha2
kind: FailoverService
metadata:
  name: reviews-failover
  namespace: service-mesh-hub
spec:
  hostname: reviews-failover.bookinfo.global
  port:
    number: 9080
    protocol: http
  meshes:
  - name: istiod-istio-system-mgmt-cluster
    namespace: service-mesh-hub
  backingServices:
  - kubeService:
      name: reviews
      namespace: bookinfo
      clusterName: mgmt-cluster
";

fn errors(l: &Loaded) -> Vec<(Option<String>, String)> {
    l.diagnostics
        .iter()
        .map(|d| (d.field.clone(), d.message.clone()))
        .collect()
}

#[test]
fn parses_a_failover_service() {
    let l = parse_str("fs.yaml", FS);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    assert_eq!(l.manifests.len(), 1);
    assert_eq!(l.inputs, vec!["fs.yaml"]);
    let SmhObject::FailoverService(fs) = &l.manifests[0].object else {
        panic!("not an FS");
    };
    assert_eq!(fs.spec.port.as_ref().map(|p| p.number), Some(9080));
    assert_eq!(l.manifests[0].source.line, Some(1));
}

#[test]
fn unknown_fields_name_the_full_path_and_all_are_reported() {
    let text = FS.replace("    number: 9080", "    nmber: 9080").replace(
        "      clusterName: mgmt-cluster",
        "      clustername: mgmt-cluster",
    );
    let l = parse_str("fs.yaml", &text);
    assert!(l.manifests.is_empty());
    let e = errors(&l);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].0.as_deref(), Some("spec.port.nmber"));
    assert!(e[0].1.starts_with("unknown field \"nmber\""), "{}", e[0].1);
    assert_eq!(l.diagnostics[0].position, Some((9, 5)));
    assert_eq!(
        e[1].0.as_deref(),
        Some("spec.backingServices[0].kubeService.clustername")
    );
    let obj = l.diagnostics[0].object.as_ref().expect("object");
    assert_eq!(
        (obj.kind.as_str(), obj.namespace.as_str(), obj.name.as_str()),
        ("FailoverService", "service-mesh-hub", "reviews-failover")
    );
    assert_eq!(l.rejected.len(), 1);
}

#[test]
fn wrong_types_name_the_field() {
    let l = parse_str("fs.yaml", &FS.replace("number: 9080", "number: eighty"));
    let e = errors(&l);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0.as_deref(), Some("spec.port.number"));
    assert!(
        e[0].1.contains("invalid type: string \"eighty\""),
        "{}",
        e[0].1
    );
    assert_eq!(l.diagnostics[0].position, Some((9, 13)));
}

#[test]
fn several_documents_and_all_problems() {
    let text = format!(
        "{FS}---\n{}---\n# comment only\n---\n{}",
        FS.replace("reviews-failover\n  namespace", "second\n  namespace"),
        FS.replace("FailoverService", "FailoverSvc")
    );
    let l = parse_str("all.yaml", &text);
    assert_eq!(l.manifests.len(), 2);
    assert_eq!(l.manifests[1].source.doc, 1);
    let e = errors(&l);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0.as_deref(), Some("kind"));
    assert_eq!(l.diagnostics[0].source.as_ref().map(|s| s.doc), Some(3));
}

#[test]
fn syntax_error_in_one_document_does_not_hide_others() {
    let text = format!(
        "a: [1, 2\n---\n{}",
        FS.replace("nmber", "number").replace("9080", "\"x\"")
    );
    let l = parse_str("x.yaml", &text);
    assert_eq!(l.diagnostics.len(), 2, "{:?}", l.diagnostics);
    assert!(l.diagnostics[0].message.starts_with("YAML syntax error"));
    assert!(l.diagnostics[0].position.is_some());
    assert_eq!(l.diagnostics[1].field.as_deref(), Some("spec.port.number"));
}

#[test]
fn metadata_is_strict() {
    let text = FS.replace(
            "  name: reviews-failover\n",
            "  name: Reviews_Failover\n  nmae: x\n  labels:\n    \"bad key\": v\n  managedFields:\n  - manager: kubectl\n    bogus: 1\n",
        );
    let l = parse_str("fs.yaml", &text);
    let fields: Vec<String> = l
        .diagnostics
        .iter()
        .filter_map(|d| d.field.clone())
        .collect();
    assert!(fields.contains(&"metadata.nmae".to_string()), "{fields:?}");
    assert!(fields.contains(&"metadata.name".to_string()));
    assert!(fields.contains(&"metadata.labels".to_string()));
    assert!(fields.contains(&"metadata.managedFields[0].bogus".to_string()));
    assert!(l.manifests.is_empty());
}

#[test]
fn kubectl_get_output_round_trips() {
    let text = FS.replace(
            "metadata:\n",
            "metadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      {}\n  creationTimestamp: \"2020-11-05T10:00:00Z\"\n  generation: 1\n  resourceVersion: \"123\"\n  uid: 0b6a1a0e-1111-2222-3333-444455556666\n  managedFields:\n  - apiVersion: networking.smh.solo.io/v1alpha2\n    fieldsType: FieldsV1\n    fieldsV1:\n      f:spec:\n        f:hostname: {}\n    manager: kubectl\n    operation: Update\n    time: \"2020-11-05T10:00:00Z\"\n",
        ) + "status:\n  observedGeneration: \"1\"\n  state: ACCEPTED\n  meshes:\n    istiod-istio-system-mgmt-cluster.service-mesh-hub.:\n      state: ACCEPTED\n";
    let l = parse_str("get.yaml", &text);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
}

#[test]
fn missing_name_and_namespace_default() {
    let l = parse_str_with(
        "x.yaml",
        &FS.replace(
            "  name: reviews-failover\n  namespace: service-mesh-hub\n",
            "  labels: {a: b}\n",
        ),
        "team-a",
    );
    let e = errors(&l);
    assert_eq!(
        e,
        vec![(
            Some("metadata.name".to_string()),
            "Required value: name is required".to_string()
        )]
    );
    let l = parse_str_with(
        "x.yaml",
        &FS.replace(
            "reviews-failover\n  namespace: service-mesh-hub\n",
            "reviews-failover\n",
        ),
        "team-a",
    );
    assert!(l.diagnostics.is_empty());
    let SmhObject::FailoverService(fs) = &l.manifests[0].object else {
        panic!()
    };
    assert_eq!(fs.metadata.namespace.as_deref(), Some("team-a"));
}

#[test]
fn wrong_api_version_and_kind() {
    let l = parse_str("x.yaml", &FS.replace("v1alpha2", "v1alpha1"));
    assert!(
        l.diagnostics[0]
            .message
            .contains("v1alpha1 is Service Mesh Hub's API before v0.7")
    );
    assert_eq!(l.diagnostics[0].field.as_deref(), Some("apiVersion"));
    let l = parse_str(
        "x.yaml",
        &FS.replace("networking.smh.solo.io", "networking.mesh.gloo.solo.io"),
    );
    assert!(
        l.diagnostics[0].message.contains("Gloo Mesh"),
        "{}",
        l.diagnostics[0].message
    );
    let l = parse_str(
        "x.yaml",
        &FS.replace("kind: FailoverService", "kind: failoverservice"),
    );
    assert!(
        l.diagnostics[0]
            .message
            .contains("did you mean FailoverService")
    );
    let l = parse_str(
        "x.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
    );
    assert!(
        l.diagnostics[0]
            .message
            .contains("FailoverService and TrafficPolicy objects only")
    );
    let l = parse_str("x.yaml", "kind: FailoverService\nmetadata: {name: x}\n");
    assert_eq!(
        errors(&l),
        vec![(
            Some("apiVersion".to_string()),
            "Required value: apiVersion is not set".to_string()
        )]
    );
}

#[test]
fn lists_are_expanded() {
    let items: String = FS
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("- {l}\n")
            } else {
                format!("  {l}\n")
            }
        })
        .collect();
    let text = format!(
        "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n{items}{}",
        items.replace("reviews-failover\n", "other\n")
    );
    let l = parse_str("list.yaml", &text);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    assert_eq!(l.manifests.len(), 2);
    assert_eq!(l.manifests[0].source.line, Some(6));
}

#[test]
fn empty_and_non_object_inputs() {
    let l = parse_str("empty.yaml", "");
    assert_eq!(l.diagnostics.len(), 1);
    assert!(l.diagnostics[0].message.contains("no objects found"));
    let l = parse_str("c.yaml", "# only\n---\n");
    assert!(l.diagnostics[0].message.contains("no objects found"));
    let l = parse_str("s.yaml", "just a string\n");
    assert!(l.diagnostics[0].message.contains("found a string"));
    let l = parse_bytes_with(
        "b.bin",
        &[0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xfe],
        "ns",
    );
    assert!(
        l.diagnostics[0].message.contains("binary"),
        "{}",
        l.diagnostics[0].message
    );
}

#[test]
fn json_documents_parse() {
    let json = r#"{"apiVersion":"networking.smh.solo.io/v1alpha2","kind":"TrafficPolicy","metadata":{"name":"tp","namespace":"bookinfo"},"spec":{"outlierDetection":{"consecutiveErrors":1}}}"#;
    let l = parse_str("tp.json", json);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let l = parse_str(
        "tp.json",
        "{\n\t\"apiVersion\": \"networking.smh.solo.io/v1alpha2\",\n\t\"kind\": \"TrafficPolicy\",\n\t\"metadata\": {\"name\": \"tp\"}\n}\n",
    );
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
}

#[test]
fn null_fields_are_pruned_like_the_api_server() {
    let text = FS
        .replace(
            "  hostname: reviews-failover.bookinfo.global\n",
            "  hostname:\n",
        )
        .replace("metadata:\n", "metadata:\n  creationTimestamp: null\n");
    let l = parse_str("fs.yaml", &text);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let SmhObject::FailoverService(fs) = &l.manifests[0].object else {
        panic!()
    };
    assert_eq!(fs.spec.hostname, "");
    // An unknown field is unknown even when its value is null.
    let l = parse_str(
        "fs.yaml",
        &FS.replace("  hostname:", "  hostnmae: null\n  hostname:"),
    );
    assert_eq!(l.diagnostics[0].field.as_deref(), Some("spec.hostnmae"));
}
