package oracle

// Everything in this file is FABRICATED: the Kubernetes objects istiod would read from the
// clusters' API servers (Namespaces, Services, Pods, EndpointSlices) and the `.global`
// ServiceEntries that SMH's VirtualMesh federation would have written. kubectl-smh's
// translation does not produce them; the oracle needs them so that istiod's translation has a
// mesh to translate for. They follow bookinfo's upstream manifests and the guide's layout, and
// take the services, ports, labels and selectors from the topology. Names, IP addresses and
// images are invented, deterministically (see the address plan below).

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/protocol"
	"istio.io/istio/pkg/config/schema/gvk"
)

// Address plan, by a cluster's position i in the topology (0-based):
//
//	pod IPs           10.(10+i).0.(10+n)     one per fabricated pod, n counting in the cluster
//	Service ClusterIP 10.(96+i).0.(10+n)     one per Service
//	ingress gateway   172.18.255.(200+i)     the address kubectl-smh's simulator gives the
//	                                         cluster's istio-ingressgateway (crates/smh-sim/src/world)
func podIP(i, n int) string     { return fmt.Sprintf("10.%d.0.%d", 10+i, 10+n) }
func clusterIP(i, n int) string { return fmt.Sprintf("10.%d.0.%d", 96+i, 10+n) }

// GatewayIP is the fabricated address of cluster i's ingress gateway (SMH's federation sends
// cross-cluster traffic to it on port 15443).
func GatewayIP(i int) string { return fmt.Sprintf("172.18.255.%d", 200+i) }

// Workload is one fabricated pod: one replica of a bookinfo Deployment.
type Workload struct {
	Cluster   string // SMH cluster name
	Namespace string
	Service   string
	Version   string
	Pod       string
	IP        string
	Labels    map[string]string
	Sidecar   bool
	// Ambient: istio-cni enrolled the pod in ambient mode (ztunnel carries its traffic).
	Ambient bool
	// Waypoint: the pod is a waypoint proxy (Service is the waypoint's name).
	Waypoint bool
}

func (w Workload) Key() string { return w.Cluster + "/" + w.Namespace + "/" + w.Pod }

// bookinfoVersions are the Deployments upstream bookinfo runs for a service, in the guide's
// layout: the cluster with productpage runs reviews v1 and v2, the others reviews v3. Services
// that are not bookinfo's get one Deployment, v1.
func bookinfoVersions(service string, hasProductpage bool) []string {
	switch service {
	case "reviews":
		if hasProductpage {
			return []string{"v1", "v2"}
		}
		return []string{"v3"}
	default:
		return []string{"v1"}
	}
}

// Fleet is what the oracle fabricated for every cluster of the topology.
type Fleet struct {
	Topology  *Topology
	Workloads map[string][]Workload // by SMH cluster name
	Services  map[string][]*corev1.Service
}

// Fabricate builds the workloads and Services of every cluster in the topology.
func Fabricate(t *Topology) *Fleet {
	f := &Fleet{Topology: t, Workloads: map[string][]Workload{}, Services: map[string][]*corev1.Service{}}
	for i, c := range t.Clusters {
		hasProductpage := false
		for _, s := range c.Services {
			hasProductpage = hasProductpage || (s.Name == "productpage")
		}
		pods := 0
		for n, s := range c.Services {
			svc := &corev1.Service{
				TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
				ObjectMeta: metav1.ObjectMeta{
					Name: s.Name, Namespace: s.Namespace, Labels: copyMap(s.Labels),
				},
				Spec: corev1.ServiceSpec{
					Type:      corev1.ServiceTypeClusterIP,
					ClusterIP: clusterIP(i, n), ClusterIPs: []string{clusterIP(i, n)},
					Selector: copyMap(s.PodSelector()),
				},
			}
			for _, p := range s.Ports {
				sp := corev1.ServicePort{
					Name: p.Name, Port: p.Port, TargetPort: intstr.FromInt32(p.Port),
					Protocol: corev1.Protocol(orDefault(p.Protocol, "TCP")),
				}
				if p.AppProtocol != "" {
					ap := p.AppProtocol
					sp.AppProtocol = &ap
				}
				svc.Spec.Ports = append(svc.Spec.Ports, sp)
			}
			f.Services[c.Name] = append(f.Services[c.Name], svc)
			for _, v := range bookinfoVersions(s.Name, hasProductpage) {
				labels := copyMap(s.PodSelector())
				if _, ok := labels["app"]; !ok {
					labels["app"] = s.Name
				}
				labels["version"] = v
				if s.HasSidecars() {
					// What Istio's sidecar injector adds to every injected pod.
					labels["security.istio.io/tlsMode"] = "istio"
					labels["service.istio.io/canonical-name"] = labels["app"]
					labels["service.istio.io/canonical-revision"] = v
				}
				f.Workloads[c.Name] = append(f.Workloads[c.Name], Workload{
					Cluster: c.Name, Namespace: s.Namespace, Service: s.Name, Version: v,
					Pod: fmt.Sprintf("%s-%s-0", s.Name, v), IP: podIP(i, pods),
					Labels: labels, Sidecar: s.HasSidecars(), Ambient: c.IsAmbient(&s),
				})
				pods++
			}
		}
		// Ambient waypoints, after the services so that the services' addresses do not depend on
		// them (tools/istio-oracle/ambient.go).
		for k, wp := range c.Waypoints {
			f.addWaypoint(c.Name, wp, clusterIP(i, len(c.Services)+k), podIP(i, pods))
			pods++
		}
		f.labelWaypointUse(&t.Clusters[i])
		// The pods' network (multinetwork.go): the label Istio's multi-network tests put on pods.
		if nw := c.Network(); nw != "" {
			for _, w := range f.Workloads[c.Name] {
				w.Labels[labelNetwork] = nw
			}
		}
	}
	return f
}

// KubernetesObjects are the objects of one cluster as its API server would serve them to
// istiod. Workloads whose key is in `unready` have failing readiness: their Pod is not Ready,
// and the EndpointSlice lists them with ready=false, serving=false, terminating=false.
func (f *Fleet) KubernetesObjects(cluster string, unready map[string]bool) []runtime.Object {
	var out []runtime.Object
	namespaces := map[string]bool{"istio-system": true}
	for _, s := range f.Services[cluster] {
		namespaces[s.Namespace] = true
	}
	c, _ := f.Topology.Cluster(cluster)
	if c != nil {
		for _, g := range c.EastWestGateways {
			namespaces[g.Namespace] = true
		}
	}
	for _, ns := range sortedKeys(namespaces) {
		obj := &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns},
		}
		labels := map[string]string{}
		if c != nil {
			// The topology's namespaceLabels (checked to agree by checkMultiNetwork), then what
			// the oracle derives from the rest of the topology.
			labels, _ = topologyNamespaceLabels(c, ns)
		}
		if ns == "istio-system" {
			if c != nil && c.Network() != "" {
				labels[labelNetwork] = c.Network()
			}
		} else {
			for k, v := range f.namespaceLabels(cluster, ns) {
				labels[k] = v
			}
		}
		if len(labels) > 0 {
			obj.Labels = labels
		}
		out = append(out, obj)
	}
	out = append(out, f.waypointGateways(cluster)...)
	out = append(out, f.eastWestGateways(cluster)...)
	for _, s := range f.Services[cluster] {
		out = append(out, s.DeepCopy())
		slice := &discoveryv1.EndpointSlice{
			TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
			ObjectMeta: metav1.ObjectMeta{
				Name: s.Name + "-oracle", Namespace: s.Namespace,
				Labels: map[string]string{
					discoveryv1.LabelServiceName: s.Name,
					discoveryv1.LabelManagedBy:   "endpointslice-controller.k8s.io",
				},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		for _, p := range s.Spec.Ports {
			name, port, proto := p.Name, p.TargetPort.IntVal, p.Protocol
			slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{
				Name: &name, Port: &port, Protocol: &proto, AppProtocol: p.AppProtocol,
			})
		}
		for _, w := range f.Workloads[cluster] {
			if w.Namespace != s.Namespace || w.Service != s.Name {
				continue
			}
			ready := !unready[w.Key()]
			notTerminating := false
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses: []string{w.IP},
				Conditions: discoveryv1.EndpointConditions{
					Ready: ptr(ready), Serving: ptr(ready), Terminating: &notTerminating,
				},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: w.Namespace, Name: w.Pod},
			})
			out = append(out, f.pod(w, ready))
		}
		out = append(out, slice)
	}
	return out
}

func (f *Fleet) pod(w Workload, ready bool) *corev1.Pod {
	status := corev1.ConditionTrue
	if !ready {
		status = corev1.ConditionFalse
	}
	containers := []corev1.Container{{
		Name:  w.Service,
		Image: fmt.Sprintf("docker.io/istio/examples-bookinfo-%s-%s:1.18.0", w.Service, w.Version),
	}}
	for _, s := range f.Services[w.Cluster] {
		if s.Namespace == w.Namespace && s.Name == w.Service {
			for _, p := range s.Spec.Ports {
				containers[0].Ports = append(containers[0].Ports, corev1.ContainerPort{ContainerPort: p.TargetPort.IntVal, Protocol: p.Protocol})
			}
		}
	}
	if w.Sidecar {
		containers = append(containers, corev1.Container{Name: "istio-proxy", Image: "docker.io/istio/proxyv2"})
	}
	serviceAccount := "bookinfo-" + w.Service
	var annotations map[string]string
	switch {
	case w.Waypoint:
		containers[0].Image = "docker.io/istio/proxyv2"
		serviceAccount = w.Service
	case w.Ambient:
		// What istio-cni writes on a pod it enrolled in ambient mode.
		annotations = map[string]string{"ambient.istio.io/redirection": "enabled"}
	}
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: w.Pod, Namespace: w.Namespace, Labels: copyMap(w.Labels), Annotations: annotations,
		},
		Spec: corev1.PodSpec{ServiceAccountName: serviceAccount, Containers: containers},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: w.IP, PodIPs: []corev1.PodIP{{IP: w.IP}},
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodReady, Status: status},
				{Type: corev1.ContainersReady, Status: status},
			},
		},
	}
}

// Workload returns the fabricated pod of a service's version in a cluster.
func (f *Fleet) Workload(cluster, namespace, service string) (Workload, bool) {
	for _, w := range f.Workloads[cluster] {
		if w.Namespace == namespace && w.Service == service {
			return w, true
		}
	}
	return Workload{}, false
}

// ServiceIP returns the fabricated ClusterIP of a Service.
func (f *Fleet) ServiceIP(cluster, namespace, name string) (string, bool) {
	for _, s := range f.Services[cluster] {
		if s.Namespace == namespace && s.Name == name {
			return s.Spec.ClusterIP, true
		}
	}
	return "", false
}

// WorkloadByIP finds the fabricated pod with an address, in any cluster.
func (f *Fleet) WorkloadByIP(ip string) (Workload, bool) {
	for _, c := range f.Topology.Clusters {
		for _, w := range f.Workloads[c.Name] {
			if w.IP == ip {
				return w, true
			}
		}
	}
	return Workload{}, false
}

// FederationServiceEntries are the ServiceEntries SMH's VirtualMesh federation writes into
// istio-system of cluster `local` for every service of every peer cluster, in global mode: host `<svc>.<ns>.svc.<peer>.global`, an address from SMH's
// unique-IP scheme, MESH_INTERNAL, DNS resolution, and one endpoint, the peer's ingress gateway
// on 15443 (its AUTO_PASSTHROUGH `*.global` server), labelled `cluster: <peer>`. This is how
// kubectl-smh's simulator seeds them (crates/smh-sim/src/world/seed.rs). Services without sidecar
// workloads are left out: SMH only federates services it discovered as mesh services.
func (f *Fleet) FederationServiceEntries(local string) []config.Config {
	var out []config.Config
	for _, peer := range f.Topology.Peers(local) {
		_, idx := f.Topology.Cluster(peer.Name)
		for _, s := range peer.Services {
			if !s.HasSidecars() {
				continue
			}
			host := fmt.Sprintf("%s.%s.svc.%s.global", s.Name, s.Namespace, peer.Name)
			se := &networking.ServiceEntry{
				Hosts:      []string{host},
				Addresses:  []string{SMHUniqueIP(s.Name, s.Namespace, peer.Name, "kube-service")},
				Location:   networking.ServiceEntry_MESH_INTERNAL,
				Resolution: networking.ServiceEntry_DNS,
			}
			ports := map[string]uint32{}
			for _, p := range s.Ports {
				name := p.Name
				if name == "" {
					name = fmt.Sprintf("port-%d", p.Port)
				}
				se.Ports = append(se.Ports, &networking.ServicePort{
					Number: uint32(p.Port), Name: name, Protocol: string(portProtocol(p)),
				})
				ports[name] = 15443
			}
			se.Endpoints = []*networking.WorkloadEntry{{
				Address: GatewayIP(idx), Ports: ports, Labels: map[string]string{"cluster": peer.Name},
			}}
			out = append(out, config.Config{
				Meta: config.Meta{
					GroupVersionKind: gvk.ServiceEntry,
					Name:             host,
					Namespace:        "istio-system",
					Labels: map[string]string{
						"owner.networking.smh.solo.io": "service-mesh-hub",
						"cluster.multicluster.solo.io": local,
					},
				},
				Spec: se,
			})
		}
	}
	return out
}

// portProtocol is the protocol Istio infers for a Kubernetes service port: its appProtocol,
// else the port name's prefix (Istio's protocol selection, e.g. `http`, `http-web`, `grpc`).
func portProtocol(p TopologyPort) protocol.Instance {
	if p.AppProtocol != "" {
		return protocol.Parse(p.AppProtocol)
	}
	name := p.Name
	if i := strings.Index(name, "-"); i >= 0 {
		name = name[:i]
	}
	inst := protocol.Parse(name)
	if inst.IsUnsupported() {
		return protocol.TCP
	}
	return inst
}

// SMHUniqueIP is SMH's address scheme for ServiceEntries: FNV-1 (32-bit) over the
// concatenated parts, its bytes little end first, the first ORed with 240 (so in 240.0.0.0/4).
// kubectl-smh computes FailoverService VIPs the same way.
func SMHUniqueIP(parts ...string) string {
	h := uint32(0x811c9dc5)
	for _, b := range []byte(strings.Join(parts, "")) {
		h *= 0x01000193
		h ^= uint32(b)
	}
	return fmt.Sprintf("%d.%d.%d.%d", byte(h)|240, byte(h>>8), byte(h>>16), byte(h>>24))
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func ptr[T any](v T) *T { return &v }
