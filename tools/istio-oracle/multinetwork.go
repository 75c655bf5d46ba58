package oracle

// Ambient mode across clusters (multi-network): what the topology's `network`,
// `ambientMultiNetwork`, `serviceScopes`, `namespaceLabels` and `eastWestGateways` make istiod
// read. FABRICATED, like workloads.go, following how Istio's own tests set these up
// (pilot/pkg/xds/mesh_network_test.go: endpoint networks from the pods' topology.istio.io/network
// label, east-west gateways as labelled LoadBalancer Services;
// pilot/pkg/serviceregistry/ambient/ambientindex_test.go: serviceScopeConfigs in the mesh config;
// pilot/pkg/config/kube/gatewaycommon/testdata/deployment/istio-east-west.yaml: the Service
// istiod's deployment controller makes for an east-west gateway).

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	istiocluster "istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config/mesh"
)

const (
	// MultiNetworkEnv is istiod's switch for ambient mode across clusters (networks).
	MultiNetworkEnv = "AMBIENT_ENABLE_MULTI_NETWORK"
	// labelNetwork names a cluster's network (on istiod's namespace and on pods) and the
	// network an east-west gateway leads into (on its Service).
	labelNetwork = "topology.istio.io/network"
	// hbonePort is the port on which an east-west gateway takes HBONE (istiod's
	// DefaultNetworkGatewayHBONEPort).
	hbonePort = 15008
)

// WantsMultiNetwork reports whether the run's cluster's istiod runs with
// AMBIENT_ENABLE_MULTI_NETWORK=true (its mesh's `ambientMultiNetwork`). Unreadable inputs are
// left to Run, which reports them.
func WantsMultiNetwork(o Options) bool {
	c := runCluster(o)
	return c != nil && c.AmbientMultiNetwork()
}

// runCluster is the topology's entry for the run's cluster: nil without a topology, or when
// it cannot be read (Run reports that).
func runCluster(o Options) *TopologyCluster {
	if o.Topology == "" {
		return nil
	}
	topo, err := ReadTopology(o.Topology)
	if err != nil {
		return nil
	}
	c, _ := topo.Cluster(o.Cluster)
	return c
}

// serviceScopeConfigs is the mesh config's serviceScopeConfigs from the topology's
// serviceScopes, in order.
func serviceScopeConfigs(c *TopologyCluster) ([]*meshconfig.MeshConfig_ServiceScopeConfigs, error) {
	if c.Mesh == nil {
		return nil, nil
	}
	var out []*meshconfig.MeshConfig_ServiceScopeConfigs
	for i, s := range c.Mesh.ServiceScopes {
		scope, ok := meshconfig.MeshConfig_ServiceScopeConfigs_Scope_value[s.Scope]
		if !ok {
			return nil, fmt.Errorf("cluster %s: mesh.serviceScopes[%d].scope %q: expected GLOBAL or LOCAL", c.Name, i, s.Scope)
		}
		out = append(out, &meshconfig.MeshConfig_ServiceScopeConfigs{
			NamespaceSelector: meshSelector(s.NamespaceSelector),
			ServicesSelector:  meshSelector(s.ServicesSelector),
			Scope:             meshconfig.MeshConfig_ServiceScopeConfigs_Scope(scope),
		})
	}
	return out, nil
}

func meshSelector(s *metav1.LabelSelector) *meshconfig.LabelSelector {
	if s == nil {
		return nil
	}
	out := &meshconfig.LabelSelector{MatchLabels: copyMap(s.MatchLabels)}
	for _, e := range s.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, &meshconfig.LabelSelectorRequirement{
			Key: e.Key, Operator: string(e.Operator), Values: append([]string(nil), e.Values...),
		})
	}
	return out
}

// topologyNamespaceLabels are the labels the topology gives namespace ns in cluster c (the
// union of its Services' namespaceLabels), or an error when two Services disagree.
func topologyNamespaceLabels(c *TopologyCluster, ns string) (map[string]string, error) {
	out := map[string]string{}
	from := map[string]string{}
	for _, s := range c.Services {
		if s.Namespace != ns {
			continue
		}
		for k, v := range s.NamespaceLabels {
			if prev, ok := out[k]; ok && prev != v {
				return nil, fmt.Errorf("cluster %s: Services %s and %s give namespace %s different values of label %s (%q, %q)",
					c.Name, from[k], s.Name, ns, k, prev, v)
			}
			out[k] = v
			from[k] = s.Name
		}
	}
	return out, nil
}

// checkMultiNetwork refuses topology values the oracle cannot fabricate.
func checkMultiNetwork(t *Topology) error {
	for i := range t.Clusters {
		c := &t.Clusters[i]
		namespaces := map[string]bool{}
		for _, s := range c.Services {
			namespaces[s.Namespace] = true
		}
		for _, ns := range sortedKeys(namespaces) {
			if _, err := topologyNamespaceLabels(c, ns); err != nil {
				return err
			}
		}
		if _, err := serviceScopeConfigs(c); err != nil {
			return err
		}
		for _, g := range c.EastWestGateways {
			if g.Name == "" || g.Namespace == "" || g.Network == "" || g.Address == "" {
				return fmt.Errorf("cluster %s: east-west gateway %s/%s needs a name, namespace, network and address", c.Name, g.Namespace, g.Name)
			}
		}
	}
	return nil
}

// eastWestGateways are the cluster's east-west gateway Services, as istiod's deployment
// controller makes one for a Gateway of class istio-east-west (`istioctl multicluster expose`),
// with the address its load balancer got. istiod's kube registry takes a Service labelled
// topology.istio.io/network as a gateway into that network, on port 15008 for HBONE, at its
// load balancer's address (kube/controller/network.go, getGatewayDetails, extractGatewaysInner).
func (f *Fleet) eastWestGateways(cluster string) []runtime.Object {
	c, _ := f.Topology.Cluster(cluster)
	if c == nil {
		return nil
	}
	var out []runtime.Object
	for _, g := range c.EastWestGateways {
		tcp, all := "tcp", "all"
		selector := map[string]string{labelGatewayFor: g.Name}
		out = append(out, &corev1.Service{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{
				Name: g.Name, Namespace: g.Namespace,
				Labels: map[string]string{
					labelManaged: "istio.io-eastwest-controller",
					"gateway.networking.k8s.io/gateway-class-name": "istio-east-west",
					labelGatewayFor: g.Name,
					labelNetwork:    g.Network,
				},
			},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeLoadBalancer,
				Selector: selector,
				Ports: []corev1.ServicePort{
					{Name: "status-port", Port: 15021, TargetPort: intstr.FromInt32(15021), Protocol: corev1.ProtocolTCP, AppProtocol: &tcp},
					{Name: "mesh", Port: hbonePort, TargetPort: intstr.FromInt32(hbonePort), Protocol: corev1.ProtocolTCP, AppProtocol: &all},
				},
			},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{
				Ingress: []corev1.LoadBalancerIngress{{IP: g.Address}},
			}},
		})
	}
	return out
}

// EastWestGatewayAt names the east-west gateway with that address, if any.
func (f *Fleet) EastWestGatewayAt(ip string) (string, bool) {
	for _, c := range f.Topology.Clusters {
		for _, g := range c.EastWestGateways {
			if g.Address == ip {
				return fmt.Sprintf("east-west gateway %s/%s of %s (into %s)", g.Namespace, g.Name, c.Name, g.Network), true
			}
		}
	}
	return "", false
}

// multiNetworkNotes say how the networks were set up.
func (in *inputs) multiNetworkNotes() []string {
	if !in.multiNetworkTopology() {
		return []string{"every cluster is on one network (the topology names none)"}
	}
	var nets, gws []string
	for _, c := range in.topology.Clusters {
		n := c.Network()
		if n == "" {
			n = "(none)"
		}
		nets = append(nets, c.Name+": "+n)
		for _, g := range c.EastWestGateways {
			gws = append(gws, fmt.Sprintf("%s/%s in %s into %s at %s", g.Namespace, g.Name, c.Name, g.Network, g.Address))
		}
	}
	sort.Strings(gws)
	if len(gws) == 0 {
		gws = []string{"none"}
	}
	return []string{
		fmt.Sprintf("istiod runs with %s=%v (the topology's mesh.ambientMultiNetwork for %s); networks: %s",
			MultiNetworkEnv, in.cluster.AmbientMultiNetwork(), in.cluster.Name, strings.Join(nets, ", ")),
		"a cluster's network is the label topology.istio.io/network on its istio-system namespace and on its pods: Istio's " +
			"test harness starts its Kubernetes registries without a system namespace, so, as Istio's own multi-network tests " +
			"do (pilot/pkg/xds/mesh_network_test.go), the endpoints take their network from the pod label; the waypoint " +
			"proxy reports its cluster's network (ISTIO_META_NETWORK)",
		"east-west gateways (Services labelled topology.istio.io/network, port 15008, type LoadBalancer with the " +
			"topology's address, as istiod's deployment controller makes them for a Gateway of class istio-east-west): " +
			strings.Join(gws, "; "),
		"istiod's ambient index reads only the waypoint's own cluster here (Istio's harness gives its multicluster " +
			"controller no remote secrets): the scope istiod filters other clusters' endpoints with is that of the " +
			"Service in the waypoint's cluster, which is also the one real istiod keeps when it merges the clusters' " +
			"copies (pilot/pkg/serviceregistry/ambient/multicluster.go, mergeServiceInfosWithCluster); other clusters' " +
			"endpoints come from istiod's Kubernetes registries of those clusters, as in multi-primary",
	}
}

// multiNetworkTopology: some cluster of the topology names a network or turns the switch on.
func (in *inputs) multiNetworkTopology() bool {
	for _, c := range in.topology.Clusters {
		if c.Network() != "" || c.AmbientMultiNetwork() || len(c.EastWestGateways) > 0 {
			return true
		}
	}
	return false
}

// reexecWithEnv runs the oracle again with istiod's ambient switches as the run needs them:
// istiod reads them, and derives its other ambient settings from them, when the process starts.
func reexecWithEnv(multiNetwork bool) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, AmbientEnv+"=") || strings.HasPrefix(kv, MultiNetworkEnv+"=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, AmbientEnv+"=true", fmt.Sprintf("%s=%v", MultiNetworkEnv, multiNetwork))
	return syscall.Exec(exe, os.Args, env)
}

// EastWestGatewayReport is what the istiod of an east-west gateway's own cluster lets that
// gateway serve: a waypoint sends another network's share of a Service to the gateway over
// double HBONE, asking it (the inner CONNECT's :authority) for hostname:port, and the gateway
// only has a route for the Services in Services.
type EastWestGatewayReport struct {
	Gateway string `json:"gateway"` // namespace/name
	Cluster string `json:"cluster"`
	Network string `json:"network"`
	Address string `json:"address"`
	// Services: namespace/hostname of every Service istiod of Cluster gives the gateway
	// (PushContext.ServicesForWaypoint with the key of a network gateway, as istiod builds the
	// gateway's listeners: pilot/pkg/networking/core/waypoint.go, findWaypointResources; the
	// ambient index answers with AllLocalNetworkGlobalServices: the Services global there, by
	// that istiod's own serviceScopeConfigs, and the waypoints of global Services).
	Services []string `json:"services"`
}

// eastWestGatewayReports asks, for every other cluster's east-west gateway, that cluster's own
// istiod (its Kubernetes objects and its peers', its mesh config) which Services the gateway
// serves. The translated objects are not given to it: the answer comes from Services and mesh
// config alone.
func (in *inputs) eastWestGatewayReports(t *testing.T) []EastWestGatewayReport {
	var out []EastWestGatewayReport
	for i := range in.topology.Clusters {
		c := &in.topology.Clusters[i]
		if c.Name == in.cluster.Name || len(c.EastWestGateways) == 0 || c.Mesh == nil {
			continue
		}
		byCluster := map[istiocluster.ID][]runtime.Object{}
		for _, k := range append([]*TopologyCluster{c}, in.topology.Peers(c.Name)...) {
			byCluster[istiocluster.ID(k.IstioClusterID())] = in.fleet.KubernetesObjects(k.Name, nil)
		}
		m := mesh.DefaultMeshConfig()
		m.RootNamespace = c.RootNamespace()
		m.ServiceScopeConfigs, _ = serviceScopeConfigs(c)
		s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
			DefaultClusterName:         istiocluster.ID(c.IstioClusterID()),
			KubernetesObjectsByCluster: byCluster,
			MeshConfig:                 m,
		})
		for _, g := range c.EastWestGateways {
			var hosts []string
			for _, si := range s.PushContext().ServicesForWaypoint(model.WaypointKey{
				Namespace: g.Namespace, Network: g.Network, IsNetworkGateway: true,
			}) {
				hosts = append(hosts, si.Service.GetNamespace()+"/"+si.Service.GetHostname())
			}
			sort.Strings(hosts)
			hosts = nonNil(hosts)
			out = append(out, EastWestGatewayReport{
				Gateway: g.Namespace + "/" + g.Name, Cluster: c.Name, Network: g.Network, Address: g.Address, Services: hosts,
			})
		}
	}
	return out
}

// unservedByGateways warns about every east-west gateway the request reaches (before or after)
// that its own cluster's istiod gives no route for the Service the waypoint asks it for: the
// connection ends there.
func unservedByGateways(sim *SimulationReport, reports []EastWestGatewayReport) []string {
	var out []string
	seen := map[string]bool{}
	for _, o := range []*Outcome{sim.Before, sim.After} {
		if o == nil || o.Reached == nil {
			continue
		}
		for _, e := range o.Reached.Endpoints {
			if e.Authority == "" {
				continue
			}
			host, _, _ := strings.Cut(e.Authority, ":")
			for _, r := range reports {
				if e.IP != r.Address {
					continue
				}
				served := false
				for _, s := range r.Services {
					served = served || strings.HasSuffix(s, "/"+host)
				}
				list := strings.Join(r.Services, ", ")
				if list == "" {
					list = "none"
				}
				msg := fmt.Sprintf("the waypoint sends %s to the east-west gateway %s of %s (%s), but istiod in %s gives that "+
					"gateway no route for %s (not among the Services it serves: %s): the connection ends there",
					e.Authority, r.Gateway, r.Cluster, e.Address, r.Cluster, host, list)
				if !served && !seen[msg] {
					seen[msg] = true
					out = append(out, msg)
				}
			}
		}
	}
	return out
}
