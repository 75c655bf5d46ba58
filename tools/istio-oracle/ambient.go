package oracle

// FABRICATED, like workloads.go: what an ambient cluster holds besides bookinfo's Services and
// Pods, taken from the topology's `ambient` and `waypoints`: the namespace labels that put
// pods in ambient mode and name the waypoint, the annotation istio-cni writes on an enrolled
// pod (in workloads.go), and each waypoint as `istioctl waypoint apply` and istiod's gateway
// deployment controller make it: a Gateway API Gateway of class istio-waypoint (with the
// address its status gets once its proxy is ready), its Service (HBONE port 15008) and one
// proxy pod.

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

const (
	waypointClass   = "istio-waypoint"
	waypointPort    = 15008
	labelGatewayFor = "gateway.networking.k8s.io/gateway-name"
	labelManaged    = "gateway.istio.io/managed"
	managedByIstio  = "istio.io-mesh-controller"
	labelWaypointIs = "istio.io/waypoint-for"
	labelUse        = "istio.io/use-waypoint"
	labelUseNS      = "istio.io/use-waypoint-namespace"
	labelDataplane  = "istio.io/dataplane-mode"
)

// addWaypoint adds a waypoint's Service and proxy pod to the fleet.
func (f *Fleet) addWaypoint(cluster string, wp TopologyWaypoint, ip, podAddress string) {
	selector := map[string]string{labelGatewayFor: wp.Name}
	appProtocol := "hbone"
	f.Services[cluster] = append(f.Services[cluster], &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name: wp.Name, Namespace: wp.Namespace,
			Labels: map[string]string{labelManaged: managedByIstio, labelGatewayFor: wp.Name, "istio.io/gateway-name": wp.Name},
		},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: ip, ClusterIPs: []string{ip},
			Selector: selector,
			Ports: []corev1.ServicePort{{
				Name: "mesh", Port: waypointPort, TargetPort: intstr.FromInt32(waypointPort),
				Protocol: corev1.ProtocolTCP, AppProtocol: &appProtocol,
			}},
		},
	})
	labels := copyMap(selector)
	labels[labelManaged] = managedByIstio
	f.Workloads[cluster] = append(f.Workloads[cluster], Workload{
		Cluster: cluster, Namespace: wp.Namespace, Service: wp.Name, Version: "waypoint",
		Pod: wp.Name + "-0", IP: podAddress, Labels: labels, Waypoint: true,
	})
}

// Waypoint returns the fabricated proxy pod of a waypoint.
func (f *Fleet) Waypoint(cluster, namespace, name string) (Workload, bool) {
	for _, w := range f.Workloads[cluster] {
		if w.Waypoint && w.Namespace == namespace && w.Service == name {
			return w, true
		}
	}
	return Workload{}, false
}

// namespaceLabels: an ambient namespace (one with an ambient service) is labelled
// istio.io/dataplane-mode=ambient, and istio.io/use-waypoint (with
// istio.io/use-waypoint-namespace when elsewhere) when all its ambient services use one
// waypoint, as `istioctl waypoint apply --enroll-namespace` labels it; the others keep
// sidecar injection. useWaypointOnService tells whether the Services carry the label instead.
func (f *Fleet) namespaceLabels(cluster, ns string) map[string]string {
	c, _ := f.Topology.Cluster(cluster)
	ambient, ref, uniform := f.ambientNamespace(c, ns)
	if !ambient {
		return map[string]string{"istio-injection": "enabled"}
	}
	labels := map[string]string{labelDataplane: "ambient"}
	if uniform && ref != nil {
		labels[labelUse] = ref.Name
		if ref.Namespace != ns {
			labels[labelUseNS] = ref.Namespace
		}
	}
	return labels
}

// ambientNamespace: whether ns has ambient services in cluster c, the waypoint the first uses,
// and whether every one of them uses that same waypoint.
func (f *Fleet) ambientNamespace(c *TopologyCluster, ns string) (bool, *WaypointRef, bool) {
	if c == nil {
		return false, nil, false
	}
	ambient, uniform := false, true
	var ref *WaypointRef
	for i := range c.Services {
		s := &c.Services[i]
		if s.Namespace != ns || !c.IsAmbient(s) {
			continue
		}
		w := s.Ambient.Waypoint
		switch {
		case !ambient:
			ref = w
		case (w == nil) != (ref == nil) || (w != nil && *w != *ref):
			uniform = false
		}
		ambient = true
	}
	return ambient, ref, uniform
}

// labelWaypointUse labels the Services of namespaces whose ambient services use different
// waypoints (or some none) with the waypoint each uses.
func (f *Fleet) labelWaypointUse(c *TopologyCluster) {
	for _, svc := range f.Services[c.Name] {
		for i := range c.Services {
			s := &c.Services[i]
			if s.Name != svc.Name || s.Namespace != svc.Namespace || !c.IsAmbient(s) {
				continue
			}
			if _, _, uniform := f.ambientNamespace(c, s.Namespace); uniform {
				continue
			}
			if svc.Labels == nil {
				svc.Labels = map[string]string{}
			}
			if w := s.Ambient.Waypoint; w != nil {
				svc.Labels[labelUse] = w.Name
				if w.Namespace != s.Namespace {
					svc.Labels[labelUseNS] = w.Namespace
				}
			} else {
				svc.Labels[labelUse] = "none"
			}
		}
	}
}

// waypointGateways are the cluster's waypoint Gateways and their GatewayClass.
func (f *Fleet) waypointGateways(cluster string) []runtime.Object {
	c, _ := f.Topology.Cluster(cluster)
	if c == nil || len(c.Waypoints) == 0 {
		return nil
	}
	out := []runtime.Object{&gatewayv1.GatewayClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "GatewayClass"},
		ObjectMeta: metav1.ObjectMeta{Name: waypointClass},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: "istio.io/mesh-controller"},
	}}
	hostname := gatewayv1.HostnameAddressType
	for _, wp := range c.Waypoints {
		from := gatewayv1.NamespacesFromSame
		var selector *metav1.LabelSelector
		switch {
		case len(wp.AllowedNamespaces) == 1 && wp.AllowedNamespaces[0] == "*":
			from = gatewayv1.NamespacesFromAll
		case len(wp.AllowedNamespaces) > 0:
			from = gatewayv1.NamespacesFromSelector
			selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: wp.AllowedNamespaces,
			}}}
		}
		labels := map[string]string{}
		if wp.WaypointFor != "" {
			labels[labelWaypointIs] = wp.WaypointFor
		}
		out = append(out, &gatewayv1.Gateway{
			TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "Gateway"},
			ObjectMeta: metav1.ObjectMeta{Name: wp.Name, Namespace: wp.Namespace, Labels: labels},
			Spec: gatewayv1.GatewaySpec{
				GatewayClassName: waypointClass,
				Listeners: []gatewayv1.Listener{{
					Name: "mesh", Port: waypointPort, Protocol: "HBONE",
					AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &from, Selector: selector}},
				}},
			},
			Status: gatewayv1.GatewayStatus{Addresses: []gatewayv1.GatewayStatusAddress{{
				Type: &hostname, Value: fmt.Sprintf("%s.%s.svc.cluster.local", wp.Name, wp.Namespace),
			}}},
		})
	}
	return out
}
