//! OpenAPI v3 schemas: compact schemas for the built-in kinds the simulator serves, and a small
//! walker over any structural schema (built-in or a CRD's `openAPIV3Schema`).
//!
//! The built-in schemas are not Kubernetes' full ones. They declare every field whose list
//! semantics matter (`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`,
//! `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, exactly as Kubernetes' own
//! OpenAPI does), so strategic merge patch and server-side apply merge lists the way the real
//! server does, and kubectl finds each kind's `x-kubernetes-group-version-kind`. Objects
//! carry `x-kubernetes-preserve-unknown-fields`, so fields these schemas do not list are kept,
//! not rejected (the simulator does not validate built-in kinds field by field).

use serde_json::{Map, Value, json};

fn obj(props: &[(&str, Value)]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_string(), v.clone());
    }
    json!({"type": "object", "properties": p, "x-kubernetes-preserve-unknown-fields": true})
}
fn string() -> Value {
    json!({"type": "string"})
}
fn integer() -> Value {
    json!({"type": "integer"})
}
fn boolean() -> Value {
    json!({"type": "boolean"})
}
fn int_or_string() -> Value {
    json!({"x-kubernetes-int-or-string": true})
}
fn string_map() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string"}})
}
/// An atomic list (replaced as a whole by every kind of patch).
fn atomic(items: Value) -> Value {
    json!({"type": "array", "items": items, "x-kubernetes-list-type": "atomic"})
}
/// A list of objects merged by `patch_key` (strategic merge) and by `map_keys` (apply).
fn keyed(items: Value, patch_key: &str, map_keys: &[&str]) -> Value {
    json!({
        "type": "array",
        "items": items,
        "x-kubernetes-patch-merge-key": patch_key,
        "x-kubernetes-patch-strategy": "merge",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": map_keys,
    })
}
/// A set of scalars merged as a union.
fn set_of_strings() -> Value {
    json!({
        "type": "array",
        "items": {"type": "string"},
        "x-kubernetes-patch-strategy": "merge",
        "x-kubernetes-list-type": "set",
    })
}

/// `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`.
pub(crate) fn object_meta() -> Value {
    obj(&[
        ("name", string()),
        ("generateName", string()),
        ("namespace", string()),
        ("uid", string()),
        ("resourceVersion", string()),
        ("generation", integer()),
        ("creationTimestamp", string()),
        ("deletionTimestamp", string()),
        ("deletionGracePeriodSeconds", integer()),
        ("labels", string_map()),
        ("annotations", string_map()),
        (
            "ownerReferences",
            keyed(
                obj(&[
                    ("apiVersion", string()),
                    ("kind", string()),
                    ("name", string()),
                    ("uid", string()),
                    ("controller", boolean()),
                    ("blockOwnerDeletion", boolean()),
                ]),
                "uid",
                &["uid"],
            ),
        ),
        ("finalizers", set_of_strings()),
        (
            "managedFields",
            atomic(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})),
        ),
    ])
}

fn conditions() -> Value {
    keyed(
        obj(&[
            ("type", string()),
            ("status", string()),
            ("reason", string()),
            ("message", string()),
            ("lastTransitionTime", string()),
            ("lastUpdateTime", string()),
            ("lastProbeTime", string()),
            ("observedGeneration", integer()),
        ]),
        "type",
        &["type"],
    )
}

fn label_selector() -> Value {
    obj(&[
        ("matchLabels", string_map()),
        (
            "matchExpressions",
            atomic(obj(&[
                ("key", string()),
                ("operator", string()),
                ("values", atomic(string())),
            ])),
        ),
    ])
}

fn container() -> Value {
    obj(&[
        ("name", string()),
        ("image", string()),
        ("imagePullPolicy", string()),
        ("command", atomic(string())),
        ("args", atomic(string())),
        ("workingDir", string()),
        (
            "ports",
            keyed(
                obj(&[
                    ("name", string()),
                    ("containerPort", integer()),
                    ("protocol", string()),
                    ("hostPort", integer()),
                    ("hostIP", string()),
                ]),
                "containerPort",
                &["containerPort"],
            ),
        ),
        (
            "env",
            keyed(
                obj(&[
                    ("name", string()),
                    ("value", string()),
                    (
                        "valueFrom",
                        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
                    ),
                ]),
                "name",
                &["name"],
            ),
        ),
        (
            "envFrom",
            atomic(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})),
        ),
        (
            "volumeMounts",
            keyed(
                obj(&[
                    ("name", string()),
                    ("mountPath", string()),
                    ("readOnly", boolean()),
                    ("subPath", string()),
                ]),
                "mountPath",
                &["mountPath"],
            ),
        ),
        (
            "volumeDevices",
            keyed(
                obj(&[("name", string()), ("devicePath", string())]),
                "devicePath",
                &["devicePath"],
            ),
        ),
        (
            "resources",
            obj(&[
                (
                    "limits",
                    json!({"type": "object", "additionalProperties": int_or_string()}),
                ),
                (
                    "requests",
                    json!({"type": "object", "additionalProperties": int_or_string()}),
                ),
            ]),
        ),
        ("terminationMessagePath", string()),
        ("terminationMessagePolicy", string()),
    ])
}

/// `io.k8s.api.core.v1.PodSpec`.
fn pod_spec() -> Value {
    obj(&[
        ("containers", keyed(container(), "name", &["name"])),
        ("initContainers", keyed(container(), "name", &["name"])),
        ("ephemeralContainers", keyed(container(), "name", &["name"])),
        (
            "volumes",
            keyed(
                json!({"type": "object", "properties": {"name": {"type": "string"}}, "x-kubernetes-preserve-unknown-fields": true}),
                "name",
                &["name"],
            ),
        ),
        (
            "imagePullSecrets",
            keyed(obj(&[("name", string())]), "name", &["name"]),
        ),
        (
            "hostAliases",
            keyed(
                obj(&[("ip", string()), ("hostnames", atomic(string()))]),
                "ip",
                &["ip"],
            ),
        ),
        (
            "tolerations",
            atomic(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})),
        ),
        (
            "topologySpreadConstraints",
            keyed(
                json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
                "topologyKey",
                &["topologyKey"],
            ),
        ),
        (
            "schedulingGates",
            keyed(obj(&[("name", string())]), "name", &["name"]),
        ),
        (
            "resourceClaims",
            keyed(obj(&[("name", string())]), "name", &["name"]),
        ),
        ("serviceAccountName", string()),
        ("serviceAccount", string()),
        ("restartPolicy", string()),
        ("terminationGracePeriodSeconds", integer()),
        ("dnsPolicy", string()),
        ("schedulerName", string()),
        ("nodeName", string()),
        ("nodeSelector", string_map()),
        (
            "securityContext",
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        ),
    ])
}

fn pod_template() -> Value {
    obj(&[("metadata", object_meta()), ("spec", pod_spec())])
}

/// An RBAC PolicyRule.
fn policy_rule() -> Value {
    obj(&[
        ("apiGroups", atomic(string())),
        ("resources", atomic(string())),
        ("resourceNames", atomic(string())),
        ("nonResourceURLs", atomic(string())),
        ("verbs", atomic(string())),
    ])
}

fn kind_schema(
    group: &str,
    version: &str,
    kind: &str,
    spec: Option<Value>,
    status: Option<Value>,
    extra: &[(&str, Value)],
) -> Value {
    let mut props: Vec<(&str, Value)> = vec![
        ("apiVersion", string()),
        ("kind", string()),
        ("metadata", object_meta()),
    ];
    if let Some(s) = spec {
        props.push(("spec", s));
    }
    if let Some(s) = status {
        props.push(("status", s));
    }
    props.extend(extra.iter().cloned());
    let mut s = obj(&props);
    s["x-kubernetes-group-version-kind"] =
        json!([{"group": group, "version": version, "kind": kind}]);
    s
}

/// The schema of a built-in kind, with `x-kubernetes-group-version-kind`; `None` for kinds the
/// simulator does not serve.
#[allow(
    clippy::too_many_lines,
    reason = "data table: one structural schema per built-in kind"
)]
pub(crate) fn builtin_schema(group: &str, version: &str, kind: &str) -> Option<Value> {
    let preserve = || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    let s = match (group, kind) {
        ("", "Namespace") => kind_schema(
            group,
            version,
            kind,
            Some(obj(&[("finalizers", atomic(string()))])),
            Some(obj(&[("phase", string()), ("conditions", conditions())])),
            &[],
        ),
        ("", "Node") => kind_schema(
            group,
            version,
            kind,
            Some(obj(&[
                ("podCIDR", string()),
                ("podCIDRs", atomic(string())),
                ("taints", atomic(preserve())),
                ("unschedulable", boolean()),
            ])),
            Some(obj(&[
                ("conditions", conditions()),
                (
                    "addresses",
                    keyed(
                        obj(&[("type", string()), ("address", string())]),
                        "type",
                        &["type"],
                    ),
                ),
                ("nodeInfo", preserve()),
                ("capacity", preserve()),
                ("allocatable", preserve()),
            ])),
            &[],
        ),
        ("", "Pod") => kind_schema(
            group,
            version,
            kind,
            Some(pod_spec()),
            Some(obj(&[
                ("phase", string()),
                ("podIP", string()),
                ("hostIP", string()),
                ("startTime", string()),
                ("conditions", conditions()),
                ("podIPs", keyed(obj(&[("ip", string())]), "ip", &["ip"])),
                ("containerStatuses", atomic(preserve())),
                ("initContainerStatuses", atomic(preserve())),
            ])),
            &[],
        ),
        ("", "Service") => kind_schema(
            group,
            version,
            kind,
            Some(obj(&[
                ("type", string()),
                ("selector", string_map()),
                ("clusterIP", string()),
                ("clusterIPs", atomic(string())),
                (
                    "ports",
                    keyed(
                        obj(&[
                            ("name", string()),
                            ("port", integer()),
                            ("targetPort", int_or_string()),
                            ("protocol", string()),
                            ("nodePort", integer()),
                            ("appProtocol", string()),
                        ]),
                        "port",
                        &["port"],
                    ),
                ),
                ("externalIPs", atomic(string())),
                ("sessionAffinity", string()),
            ])),
            Some(obj(&[
                ("loadBalancer", preserve()),
                ("conditions", conditions()),
            ])),
            &[],
        ),
        ("", "Endpoints") => kind_schema(
            group,
            version,
            kind,
            None,
            None,
            &[("subsets", atomic(preserve()))],
        ),
        ("", "ServiceAccount") => kind_schema(
            group,
            version,
            kind,
            None,
            None,
            &[
                (
                    "secrets",
                    keyed(obj(&[("name", string())]), "name", &["name"]),
                ),
                ("imagePullSecrets", atomic(obj(&[("name", string())]))),
                ("automountServiceAccountToken", boolean()),
            ],
        ),
        ("", "ConfigMap") => kind_schema(
            group,
            version,
            kind,
            None,
            None,
            &[
                ("data", string_map()),
                ("binaryData", string_map()),
                ("immutable", boolean()),
            ],
        ),
        ("", "Secret") => kind_schema(
            group,
            version,
            kind,
            None,
            None,
            &[
                ("data", string_map()),
                ("stringData", string_map()),
                ("type", string()),
                ("immutable", boolean()),
            ],
        ),
        ("", "Event") => kind_schema(
            group,
            version,
            kind,
            None,
            None,
            &[
                ("involvedObject", preserve()),
                ("reason", string()),
                ("message", string()),
                ("type", string()),
                ("count", integer()),
            ],
        ),
        ("autoscaling", "HorizontalPodAutoscaler") => kind_schema(
            group,
            version,
            kind,
            Some(preserve()),
            Some(preserve()),
            &[],
        ),
        ("apps", "Deployment") => kind_schema(
            group,
            version,
            kind,
            Some(obj(&[
                ("replicas", integer()),
                ("selector", label_selector()),
                ("template", pod_template()),
                (
                    "strategy",
                    obj(&[
                        ("type", string()),
                        (
                            "rollingUpdate",
                            obj(&[
                                ("maxSurge", int_or_string()),
                                ("maxUnavailable", int_or_string()),
                            ]),
                        ),
                    ]),
                ),
                ("minReadySeconds", integer()),
                ("revisionHistoryLimit", integer()),
                ("progressDeadlineSeconds", integer()),
                ("paused", boolean()),
            ])),
            Some(obj(&[
                ("observedGeneration", integer()),
                ("replicas", integer()),
                ("updatedReplicas", integer()),
                ("readyReplicas", integer()),
                ("availableReplicas", integer()),
                ("unavailableReplicas", integer()),
                ("conditions", conditions()),
            ])),
            &[],
        ),
        ("apps", "ReplicaSet") => kind_schema(
            group,
            version,
            kind,
            Some(obj(&[
                ("replicas", integer()),
                ("selector", label_selector()),
                ("template", pod_template()),
                ("minReadySeconds", integer()),
            ])),
            Some(obj(&[
                ("observedGeneration", integer()),
                ("replicas", integer()),
                ("fullyLabeledReplicas", integer()),
                ("readyReplicas", integer()),
                ("availableReplicas", integer()),
                ("conditions", conditions()),
            ])),
            &[],
        ),
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => kind_schema(
            group,
            version,
            kind,
            None,
            None,
            &[
                ("rules", atomic(policy_rule())),
                ("aggregationRule", preserve()),
            ],
        ),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => kind_schema(
            group,
            version,
            kind,
            None,
            None,
            &[
                (
                    "roleRef",
                    obj(&[
                        ("apiGroup", string()),
                        ("kind", string()),
                        ("name", string()),
                    ]),
                ),
                (
                    "subjects",
                    atomic(obj(&[
                        ("apiGroup", string()),
                        ("kind", string()),
                        ("name", string()),
                        ("namespace", string()),
                    ])),
                ),
            ],
        ),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => kind_schema(
            group,
            version,
            kind,
            Some(obj(&[
                ("group", string()),
                ("names", preserve()),
                ("scope", string()),
                ("versions", atomic(preserve())),
                ("conversion", preserve()),
                ("preserveUnknownFields", boolean()),
            ])),
            Some(obj(&[
                ("conditions", conditions()),
                ("acceptedNames", preserve()),
                ("storedVersions", atomic(string())),
            ])),
            &[],
        ),
        ("autoscaling", "Scale") => kind_schema(
            group,
            version,
            kind,
            Some(obj(&[("replicas", integer())])),
            Some(obj(&[("replicas", integer()), ("selector", string())])),
            &[],
        ),
        _ => return None,
    };
    Some(s)
}

/// A position in a schema. `None` means "no schema known here": everything is allowed and
/// lists are atomic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SchemaRef<'a>(pub Option<&'a Value>);

/// How a list merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// Replaced as a whole.
    Atomic,
    /// Union of scalar values.
    Set,
    /// Objects identified by the key fields (first one is the strategic-merge key).
    Map(Vec<String>),
}

impl<'a> SchemaRef<'a> {
    /// The schema of property `key` of an object schema.
    pub(crate) fn field(&self, key: &str) -> SchemaRef<'a> {
        let Some(s) = self.0 else {
            return SchemaRef(None);
        };
        if let Some(p) = s.get("properties").and_then(|p| p.get(key)) {
            return SchemaRef(Some(p));
        }
        match s.get("additionalProperties") {
            Some(ap) if ap.is_object() => SchemaRef(Some(ap)),
            _ => SchemaRef(None),
        }
    }

    /// The schema of the items of an array schema.
    pub(crate) fn items(&self) -> SchemaRef<'a> {
        SchemaRef(self.0.and_then(|s| s.get("items")))
    }

    /// List semantics for strategic merge patch: the patch merge key, if the list merges.
    pub(crate) fn patch_merge_key(&self) -> Option<&'a str> {
        let s = self.0?;
        let strategy = s.get("x-kubernetes-patch-strategy")?.as_str()?;
        if !strategy.split(',').any(|p| p == "merge") {
            return None;
        }
        Some(
            s.get("x-kubernetes-patch-merge-key")
                .and_then(Value::as_str)
                .unwrap_or(""),
        )
    }

    /// Does strategic merge patch honour `$retainKeys` here?
    pub(crate) fn retain_keys(&self) -> bool {
        self.0
            .and_then(|s| s.get("x-kubernetes-patch-strategy"))
            .and_then(Value::as_str)
            .is_some_and(|p| p.split(',').any(|p| p == "retainKeys"))
    }

    /// List semantics for server-side apply (`x-kubernetes-list-type`).
    pub(crate) fn list_kind(&self) -> ListKind {
        let Some(s) = self.0 else {
            return ListKind::Atomic;
        };
        match s.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => {
                let keys: Vec<String> = s
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                if keys.is_empty() {
                    ListKind::Atomic
                } else {
                    ListKind::Map(keys)
                }
            }
            Some("set") => ListKind::Set,
            _ => ListKind::Atomic,
        }
    }

    /// `x-kubernetes-map-type: atomic` objects are replaced as a whole by apply.
    pub(crate) fn atomic_map(&self) -> bool {
        self.0
            .and_then(|s| s.get("x-kubernetes-map-type"))
            .and_then(Value::as_str)
            == Some("atomic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_merge_keys() {
        let d = builtin_schema("apps", "v1", "Deployment").unwrap();
        let root = SchemaRef(Some(&d));
        let containers = root
            .field("spec")
            .field("template")
            .field("spec")
            .field("containers");
        assert_eq!(containers.patch_merge_key(), Some("name"));
        assert_eq!(containers.list_kind(), ListKind::Map(vec!["name".into()]));
        let ports = containers.items().field("ports");
        assert_eq!(ports.patch_merge_key(), Some("containerPort"));
        let command = containers.items().field("command");
        assert_eq!(command.patch_merge_key(), None);
        assert_eq!(command.list_kind(), ListKind::Atomic);
        let fin = root.field("metadata").field("finalizers");
        assert_eq!(fin.patch_merge_key(), Some(""));
        assert_eq!(fin.list_kind(), ListKind::Set);
        assert_eq!(
            d["x-kubernetes-group-version-kind"][0]["kind"],
            "Deployment"
        );
        let svc = builtin_schema("", "v1", "Service").unwrap();
        assert_eq!(
            SchemaRef(Some(&svc))
                .field("spec")
                .field("ports")
                .patch_merge_key(),
            Some("port")
        );
        // Labels are a map of strings.
        assert!(
            root.field("metadata")
                .field("labels")
                .field("app")
                .0
                .is_some()
        );
        assert!(builtin_schema("", "v1", "Nope").is_none());
    }
}
