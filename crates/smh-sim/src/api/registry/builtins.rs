//! The built-in kinds a simulated cluster serves: those the failover workflow and bookinfo
//! use, those Istio reads, and those `kubectl apply --prune` looks up by default. Kinds
//! without a controller here (Jobs, StatefulSets, Ingresses, ...) are stored, listed, watched
//! and validated like any object, and nothing acts on them. `metrics.k8s.io` is listed in
//! discovery, and its requests answer 503 (see `METRICS_GROUP`).

/// One built-in resource.
pub(super) struct BuiltinDef {
    pub(super) group: &'static str,
    pub(super) version: &'static str,
    pub(super) plural: &'static str,
    pub(super) kind: &'static str,
    pub(super) short: &'static [&'static str],
    pub(super) categories: &'static [&'static str],
    pub(super) namespaced: bool,
    pub(super) status: bool,
    pub(super) scale: bool,
}

/// `group, version, plural, kind, short names, categories, namespaced, status subresource,
/// scale subresource`.
#[allow(clippy::too_many_arguments)]
const fn def(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    short: &'static [&'static str],
    categories: &'static [&'static str],
    namespaced: bool,
    status: bool,
    scale: bool,
) -> BuiltinDef {
    BuiltinDef {
        group,
        version,
        plural,
        kind,
        short,
        categories,
        namespaced,
        status,
        scale,
    }
}

#[rustfmt::skip]
pub(super) const BUILTINS: &[BuiltinDef] = &[
    def("", "v1", "namespaces", "Namespace", &["ns"], &[], false, true, false),
    def("", "v1", "nodes", "Node", &["no"], &[], false, true, false),
    def("", "v1", "pods", "Pod", &["po"], &["all"], true, true, false),
    def("", "v1", "services", "Service", &["svc"], &["all"], true, true, false),
    def("", "v1", "endpoints", "Endpoints", &["ep"], &[], true, false, false),
    def("", "v1", "serviceaccounts", "ServiceAccount", &["sa"], &[], true, false, false),
    def("", "v1", "configmaps", "ConfigMap", &["cm"], &[], true, false, false),
    def("", "v1", "secrets", "Secret", &[], &[], true, false, false),
    def("", "v1", "events", "Event", &["ev"], &[], true, false, false),
    def("apps", "v1", "deployments", "Deployment", &["deploy"], &["all"], true, true, true),
    def("apps", "v1", "replicasets", "ReplicaSet", &["rs"], &["all"], true, true, true),
    def("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", &["hpa"], &["all"], true, true, false),
    def("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", &[], &[], false, false, false),
    def("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", &[], &[], false, false, false),
    def("rbac.authorization.k8s.io", "v1", "roles", "Role", &[], &[], true, false, false),
    def("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", &[], &[], true, false, false),
    def("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", &["crd", "crds"], &["api-extensions"], false, true, false),
    def("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", &["pvc"], &[], true, true, false),
    def("", "v1", "persistentvolumes", "PersistentVolume", &["pv"], &[], false, true, false),
    def("", "v1", "replicationcontrollers", "ReplicationController", &["rc"], &["all"], true, true, false),
    def("", "v1", "resourcequotas", "ResourceQuota", &["quota"], &[], true, true, false),
    def("", "v1", "limitranges", "LimitRange", &["limits"], &[], true, false, false),
    def("", "v1", "podtemplates", "PodTemplate", &[], &[], true, false, false),
    def("apps", "v1", "daemonsets", "DaemonSet", &["ds"], &["all"], true, true, false),
    def("apps", "v1", "statefulsets", "StatefulSet", &["sts"], &["all"], true, true, false),
    def("apps", "v1", "controllerrevisions", "ControllerRevision", &[], &[], true, false, false),
    def("batch", "v1", "jobs", "Job", &[], &["all"], true, true, false),
    def("batch", "v1", "cronjobs", "CronJob", &["cj"], &["all"], true, true, false),
    def("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", &[], &[], true, false, false),
    def("networking.k8s.io", "v1", "ingresses", "Ingress", &["ing"], &[], true, true, false),
    def("networking.k8s.io", "v1", "ingressclasses", "IngressClass", &[], &[], false, false, false),
    def("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", &["netpol"], &[], true, false, false),
    def("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", &["pdb"], &[], true, true, false),
    def("storage.k8s.io", "v1", "storageclasses", "StorageClass", &["sc"], &[], false, false, false),
    def("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", &[], &["api-extensions"], false, false, false),
    def("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", &[], &["api-extensions"], false, false, false),
    def("coordination.k8s.io", "v1", "leases", "Lease", &[], &[], true, false, false),
    def("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", &["pc"], &[], false, false, false),
    // Listed so that `kubectl top` asks; every request answers 503 (no metrics-server runs).
    def("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", &[], &[], true, false, false),
    def("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", &[], &[], false, false, false),
];
