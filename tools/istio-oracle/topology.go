package oracle

import (
	"fmt"
	"os"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Topology is kubectl-smh's topology file (docs/translation.md, "Topology file"), read
// leniently: the oracle takes only what it needs, and kubectl-smh itself (which ran first, in
// `translate`) has already rejected unknown fields and bad values.
type Topology struct {
	Clusters      []TopologyCluster `json:"clusters"`
	VirtualMeshes []VirtualMesh     `json:"virtualMeshes,omitempty"`
}

type TopologyCluster struct {
	Name          string            `json:"name"`
	ClusterDomain string            `json:"clusterDomain,omitempty"`
	Mesh          *TopologyMesh     `json:"mesh,omitempty"`
	Services      []TopologyService `json:"services,omitempty"`
	// Waypoints are the cluster's ambient waypoints (Gateway API Gateways of class
	// istio-waypoint).
	Waypoints []TopologyWaypoint `json:"waypoints,omitempty"`
	// EastWestGateways are the cluster's east-west gateways for ambient (HBONE) traffic from
	// other networks.
	EastWestGateways []TopologyEastWestGateway `json:"eastWestGateways,omitempty"`
}

// TopologyEastWestGateway is an east-west gateway as istiod finds one (the kube registry's
// label-based network gateways): a Service labelled topology.istio.io/network=<network> with
// port 15008 (HBONE) and an external address (its load balancer's).
type TopologyEastWestGateway struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Network   string `json:"network"`
	Address   string `json:"address"`
}

// TopologyWaypoint is one ambient waypoint: `waypointFor` is its istio.io/waypoint-for label
// (default service), `allowedNamespaces` the namespaces whose Services and ServiceEntries may
// use it (["*"]: all; empty: its own, the Gateway API default Same).
type TopologyWaypoint struct {
	Name              string   `json:"name"`
	Namespace         string   `json:"namespace"`
	WaypointFor       string   `json:"waypointFor,omitempty"`
	AllowedNamespaces []string `json:"allowedNamespaces,omitempty"`
}

type TopologyMesh struct {
	IstiodName      string `json:"istiodName,omitempty"`
	IstiodNamespace string `json:"istiodNamespace,omitempty"`
	RootNamespace   string `json:"rootNamespace,omitempty"`
	Version         string `json:"version,omitempty"`
	Mode            string `json:"mode,omitempty"`
	// ClusterID is Istio's cluster ID for this cluster (istiod's CLUSTER_ID; the value of the
	// topology.istio.io/cluster label on its endpoints). Empty means the SMH cluster name.
	ClusterID string `json:"clusterId,omitempty"`
	// Ambient: ztunnel runs in the cluster (Istio's ambient data plane).
	Ambient bool `json:"ambient,omitempty"`
	// Network is the cluster's Istio network: the topology.istio.io/network label of istiod's
	// namespace. Empty: not set.
	Network string `json:"network,omitempty"`
	// AmbientMultiNetwork: istiod runs with AMBIENT_ENABLE_MULTI_NETWORK=true.
	AmbientMultiNetwork bool `json:"ambientMultiNetwork,omitempty"`
	// ServiceScopes are the mesh config's serviceScopeConfigs, in order.
	ServiceScopes []ServiceScope `json:"serviceScopes,omitempty"`
}

// ServiceScope is one entry of the mesh config's serviceScopeConfigs.
type ServiceScope struct {
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	ServicesSelector  *metav1.LabelSelector `json:"servicesSelector,omitempty"`
	// Scope: GLOBAL or LOCAL.
	Scope string `json:"scope"`
}

type TopologyService struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Ports     []TopologyPort    `json:"ports,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Selector  map[string]string `json:"selector,omitempty"`
	// SidecarWorkloads: nil means true, as in kubectl-smh.
	SidecarWorkloads *bool `json:"sidecarWorkloads,omitempty"`
	// Ambient is set when the service's pods are in ambient mode.
	Ambient *ServiceAmbient `json:"ambient,omitempty"`
	// NamespaceLabels are the labels of the Service's namespace (serviceScopeConfigs select
	// on them).
	NamespaceLabels map[string]string `json:"namespaceLabels,omitempty"`
}

// ServiceAmbient is a service in ambient mode and the waypoint it uses (none when nil).
type ServiceAmbient struct {
	Waypoint *WaypointRef `json:"waypoint,omitempty"`
}

// WaypointRef names a waypoint.
type WaypointRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

type TopologyPort struct {
	Name        string `json:"name,omitempty"`
	Port        int32  `json:"port"`
	Protocol    string `json:"protocol,omitempty"`
	AppProtocol string `json:"appProtocol,omitempty"`
}

type VirtualMesh struct {
	Name      string   `json:"name"`
	Namespace string   `json:"namespace,omitempty"`
	Meshes    []string `json:"meshes"`
}

// Multi-cluster modes, as kubectl-smh names them.
const (
	ModeGlobal       = "global"
	ModeMultiPrimary = "multi-primary"
)

// ReadTopology reads a topology file.
func ReadTopology(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read topology file %s: %v", path, err)
	}
	var t Topology
	if err := yaml.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("topology file %s: %v", path, err)
	}
	if len(t.Clusters) == 0 {
		return nil, fmt.Errorf("topology file %s: no clusters", path)
	}
	return &t, nil
}

// GuideTopology is the topology kubectl-smh derives when no file is given, filled in with the
// bookinfo services of the guide's layout, which the oracle needs to have a caller
// (productpage) and a complete mesh: `local` runs productpage, details, ratings and reviews;
// every other cluster named by the translated objects runs reviews and ratings. Services are
// kubectl-smh's defaults: port 9080 named http, labels app and service.
func GuideTopology(local string, others []string) *Topology {
	svc := func(name string) TopologyService {
		return TopologyService{
			Name:      name,
			Namespace: "bookinfo",
			Ports:     []TopologyPort{{Name: "http", Port: 9080}},
			Labels:    map[string]string{"app": name, "service": name},
		}
	}
	mesh := func() *TopologyMesh {
		return &TopologyMesh{Version: "1.24.2", Mode: ModeGlobal}
	}
	t := &Topology{}
	t.Clusters = append(t.Clusters, TopologyCluster{
		Name: local, Mesh: mesh(),
		Services: []TopologyService{svc("details"), svc("productpage"), svc("ratings"), svc("reviews")},
	})
	for _, o := range others {
		t.Clusters = append(t.Clusters, TopologyCluster{
			Name: o, Mesh: mesh(),
			Services: []TopologyService{svc("ratings"), svc("reviews")},
		})
	}
	sort.Slice(t.Clusters, func(i, j int) bool { return t.Clusters[i].Name < t.Clusters[j].Name })
	return t
}

func (t *Topology) Cluster(name string) (*TopologyCluster, int) {
	for i := range t.Clusters {
		if t.Clusters[i].Name == name {
			return &t.Clusters[i], i
		}
	}
	return nil, -1
}

// IstioClusterID is the Istio cluster ID of a cluster: the topology's clusterId, else the SMH
// cluster name (what kubectl-smh assumes: `istioctl create-remote-secret --name <cluster>`).
func (c *TopologyCluster) IstioClusterID() string {
	if c.Mesh != nil && c.Mesh.ClusterID != "" {
		return c.Mesh.ClusterID
	}
	return c.Name
}

// SMHMeshName is SMH's name for the cluster's mesh, as in virtualMeshes.
func (c *TopologyCluster) SMHMeshName() string {
	name, ns := "istiod", "istio-system"
	if c.Mesh != nil && c.Mesh.IstiodName != "" {
		name = c.Mesh.IstiodName
	}
	if c.Mesh != nil && c.Mesh.IstiodNamespace != "" {
		ns = c.Mesh.IstiodNamespace
	}
	return name + "-" + ns + "-" + c.Name
}

// Mode is the cluster's multi-cluster mode from the topology (global when unset).
func (c *TopologyCluster) Mode() string {
	if c.Mesh != nil && c.Mesh.Mode != "" {
		return c.Mesh.Mode
	}
	return ModeGlobal
}

// RootNamespace is the cluster's Istio root namespace.
func (c *TopologyCluster) RootNamespace() string {
	if c.Mesh != nil && c.Mesh.RootNamespace != "" {
		return c.Mesh.RootNamespace
	}
	return "istio-system"
}

// Network is the cluster's Istio network ("" when the topology sets none).
func (c *TopologyCluster) Network() string {
	if c.Mesh != nil {
		return c.Mesh.Network
	}
	return ""
}

// AmbientMultiNetwork reports whether the cluster's istiod runs with
// AMBIENT_ENABLE_MULTI_NETWORK=true.
func (c *TopologyCluster) AmbientMultiNetwork() bool {
	return c.Mesh != nil && c.Mesh.AmbientMultiNetwork
}

// IsAmbient reports whether the service's pods are in ambient mode (its mesh is ambient and the
// topology says so).
func (c *TopologyCluster) IsAmbient(s *TopologyService) bool {
	return c.Mesh != nil && c.Mesh.Ambient && s.Ambient != nil
}

// Waypoint returns the cluster's waypoint with that name and namespace.
func (c *TopologyCluster) Waypoint(namespace, name string) (*TopologyWaypoint, bool) {
	for i := range c.Waypoints {
		if c.Waypoints[i].Namespace == namespace && c.Waypoints[i].Name == name {
			return &c.Waypoints[i], true
		}
	}
	return nil, false
}

func (s *TopologyService) HasSidecars() bool {
	return s.SidecarWorkloads == nil || *s.SidecarWorkloads
}

func (s *TopologyService) PodSelector() map[string]string {
	if len(s.Selector) > 0 {
		return s.Selector
	}
	return map[string]string{"app": s.Name}
}

// Peers are the clusters whose services `local` reaches: every other cluster with a mesh that
// shares a VirtualMesh with it (all of them when the topology lists no VirtualMeshes).
func (t *Topology) Peers(local string) []*TopologyCluster {
	me, _ := t.Cluster(local)
	if me == nil {
		return nil
	}
	together := func(o *TopologyCluster) bool {
		if len(t.VirtualMeshes) == 0 {
			return true
		}
		for _, vm := range t.VirtualMeshes {
			a, b := false, false
			for _, m := range vm.Meshes {
				a = a || m == me.SMHMeshName()
				b = b || m == o.SMHMeshName()
			}
			if a && b {
				return true
			}
		}
		return false
	}
	var out []*TopologyCluster
	for i := range t.Clusters {
		o := &t.Clusters[i]
		if o.Name == local || o.Mesh == nil || !together(o) {
			continue
		}
		out = append(out, o)
	}
	return out
}
