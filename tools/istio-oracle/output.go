package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"

	udpatype "github.com/cncf/xds/go/udpa/type/v1"
	xdstype "github.com/cncf/xds/go/xds/type/v3"
	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	aggregate "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/aggregate/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Output is the oracle's answer, printed as one JSON object.
type Output struct {
	Cluster  string
	IstioID  string
	Mode     string
	Proxy    string
	Waypoint *WaypointReport // waypoint runs only
	// EastWestGateways: waypoint runs with AMBIENT_ENABLE_MULTI_NETWORK only.
	EastWestGateways []EastWestGatewayReport
	Clusters         []*cluster.Cluster
	Routes           []*route.RouteConfiguration
	Endpoints        []*endpoint.ClusterLoadAssignment
	Simulation       *SimulationReport
	Warnings         []string
	Notes            []string
}

type SimulationReport struct {
	Request Request  `json:"request"`
	Before  *Outcome `json:"before"`
	// Unhealthy lists the pods (cluster/namespace/pod) marked not ready between before and after.
	Unhealthy []string `json:"unhealthy"`
	After     *Outcome `json:"after"`
}

type Request struct {
	From    string `json:"from"`
	Host    string `json:"host"`
	Address string `json:"address"`
	Port    int    `json:"port"`
}

// Outcome is where the request goes: Istio's simulation up to the cluster, then the oracle's
// walk to an endpoint.
type Outcome struct {
	Listener    string `json:"listener"`
	FilterChain string `json:"filterChain"`
	RouteConfig string `json:"routeConfig"`
	VirtualHost string `json:"virtualHost"`
	Route       string `json:"route"`
	Cluster     string `json:"cluster"`
	Error       string `json:"error,omitempty"`
	// Path: the clusters tried, in order (the aggregate's children, or the cluster itself).
	Path []Hop `json:"path,omitempty"`
	// Reached: the cluster whose endpoints receive the request, and those endpoints.
	Reached *Hop `json:"reached,omitempty"`
}

type Hop struct {
	Cluster   string     `json:"cluster"`
	Type      string     `json:"type"`
	Endpoints []Endpoint `json:"endpoints"`
	Healthy   int        `json:"healthy"`
}

type Endpoint struct {
	// Address: ip:port; for an HBONE endpoint, the destination inside the tunnel.
	Address string `json:"address"`
	// Tunnel: the internal listener an HBONE endpoint goes through (connect_originate).
	Tunnel string `json:"tunnel,omitempty"`
	// Authority: for double HBONE through an east-west gateway, the service:port of the inner
	// tunnel (istiod's double_hbone endpoint metadata).
	Authority string `json:"authority,omitempty"`
	IP        string `json:"-"`
	Health    string `json:"health"`
	Priority  uint32 `json:"priority"`
	Workload  string `json:"workload,omitempty"`
}

// resolve follows a cluster to the endpoints that receive a request.
func (in *inputs) resolve(g *generated, name string) ([]Hop, *Hop) {
	byName := map[string]*cluster.Cluster{}
	for _, c := range g.clusters {
		byName[c.Name] = c
	}
	cla := map[string]*endpoint.ClusterLoadAssignment{}
	for _, e := range g.endpoints {
		cla[e.ClusterName] = e
	}
	c := byName[name]
	if c == nil {
		return []Hop{{Cluster: name, Type: "missing"}}, nil
	}
	children, isAggregate := aggregateChildren(c)
	if !isAggregate {
		h := in.hop(c, cla)
		return []Hop{h}, receiving(h)
	}
	var path []Hop
	for _, child := range children {
		cc := byName[child]
		if cc == nil {
			path = append(path, Hop{Cluster: child, Type: "missing"})
			continue
		}
		h := in.hop(cc, cla)
		path = append(path, h)
		if r := receiving(h); r != nil {
			return path, r
		}
	}
	return path, nil
}

func (in *inputs) hop(c *cluster.Cluster, cla map[string]*endpoint.ClusterLoadAssignment) Hop {
	h := Hop{Cluster: c.Name, Type: clusterType(c)}
	la := c.GetLoadAssignment()
	if c.GetType() == cluster.Cluster_EDS {
		la = cla[c.Name]
	}
	for _, l := range la.GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			sa := e.GetEndpoint().GetAddress().GetSocketAddress()
			ep := Endpoint{
				Address:  fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue()),
				IP:       sa.GetAddress(),
				Health:   e.GetHealthStatus().String(),
				Priority: l.GetPriority(),
			}
			if internal := e.GetEndpoint().GetAddress().GetEnvoyInternalAddress(); internal != nil {
				// HBONE: Envoy sends it through the internal listener to the destination in the
				// endpoint's metadata.
				ep.Tunnel = internal.GetServerListenerName()
				ep.Address = e.GetMetadata().GetFilterMetadata()[originalDstMetadataKey].GetFields()["local"].GetStringValue()
				ep.IP, _, _ = net.SplitHostPort(ep.Address)
			}
			// Double HBONE through an east-west gateway: the service the gateway is asked for
			// (the :authority of the inner CONNECT).
			ep.Authority = e.GetMetadata().GetFilterMetadata()["istio"].GetFields()["double_hbone"].GetStructValue().
				GetFields()["hbone_target_address"].GetStringValue()
			if w, ok := in.fleet.WorkloadByIP(ep.IP); ok {
				ep.Workload = "pod " + w.Key()
			} else if g, ok := in.fleet.EastWestGatewayAt(ep.IP); ok {
				ep.Workload = g
			} else {
				for i, tc := range in.topology.Clusters {
					if GatewayIP(i) == ep.IP {
						ep.Workload = "ingress gateway of " + tc.Name
					}
				}
			}
			// Envoy load balances over HEALTHY and UNKNOWN hosts (UNKNOWN: no health checking).
			if e.GetHealthStatus() == core.HealthStatus_UNKNOWN || e.GetHealthStatus() == core.HealthStatus_HEALTHY {
				h.Healthy++
			}
			h.Endpoints = append(h.Endpoints, ep)
		}
	}
	return h
}

// originalDstMetadataKey is where istiod puts an HBONE endpoint's destination (its
// pilot/pkg/networking/util.OriginalDstMetadataKey).
const originalDstMetadataKey = "envoy.filters.listener.original_dst"

// receiving is the part of a cluster that receives a request: its lowest priority level with a
// healthy endpoint (Envoy sends everything there while that level is wholly healthy), or nil.
func receiving(h Hop) *Hop {
	level := -1
	for _, e := range h.Endpoints {
		if healthy(e) && (level < 0 || int(e.Priority) < level) {
			level = int(e.Priority)
		}
	}
	if level < 0 {
		return nil
	}
	r := Hop{Cluster: h.Cluster, Type: h.Type}
	for _, e := range h.Endpoints {
		if int(e.Priority) == level {
			r.Endpoints = append(r.Endpoints, e)
			if healthy(e) {
				r.Healthy++
			}
		}
	}
	return &r
}

// healthy: Envoy load balances over HEALTHY and UNKNOWN hosts (UNKNOWN: no health checking).
func healthy(e Endpoint) bool {
	return e.Health == core.HealthStatus_UNKNOWN.String() || e.Health == core.HealthStatus_HEALTHY.String()
}

func clusterType(c *cluster.Cluster) string {
	if ct := c.GetClusterType(); ct != nil {
		return ct.GetName()
	}
	return c.GetType().String()
}

// aggregateChildren reads an aggregate cluster's children, in Envoy's v3 form or in the
// TypedStruct (v2alpha) form older Istio needed.
func aggregateChildren(c *cluster.Cluster) ([]string, bool) {
	ct := c.GetClusterType()
	if ct == nil || ct.GetName() != "envoy.clusters.aggregate" {
		return nil, false
	}
	tc := ct.GetTypedConfig()
	var cfg aggregate.ClusterConfig
	if tc.MessageIs(&cfg) {
		if err := tc.UnmarshalTo(&cfg); err == nil {
			return cfg.Clusters, true
		}
		return nil, true
	}
	var value *structpb.Struct
	var ts udpatype.TypedStruct
	var xts xdstype.TypedStruct
	switch {
	case tc.MessageIs(&ts) && tc.UnmarshalTo(&ts) == nil:
		value = ts.Value
	case tc.MessageIs(&xts) && tc.UnmarshalTo(&xts) == nil:
		value = xts.Value
	}
	var out []string
	for _, v := range value.GetFields()["clusters"].GetListValue().GetValues() {
		out = append(out, v.GetStringValue())
	}
	return out, true
}

// typedStructNotes notes aggregate clusters in the TypedStruct form (what SMH wrote for Istio
// before 1.9): istiod passes them through; whether a proxy loads them is Envoy's business.
func typedStructNotes(g *generated) []string {
	var out []string
	for _, c := range g.clusters {
		if _, ok := aggregateChildren(c); !ok {
			continue
		}
		if u := c.GetClusterType().GetTypedConfig().GetTypeUrl(); u != "type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig" {
			out = append(out, fmt.Sprintf("aggregate cluster %s has typed_config %s; istiod passes it to the proxy unchanged "+
				"(the oracle reads its children from it; it does not run Envoy, which decides whether it loads)", c.Name, u))
		}
	}
	return out
}

// WriteJSON prints the output as Envoy's config dump prints resources (protojson with proto
// field names and an "@type"), re-encoded with sorted keys so that it is deterministic
// (protojson's own spacing is deliberately unstable).
func (o *Output) WriteJSON(w io.Writer) error {
	top := map[string]any{
		"cluster":      o.Cluster,
		"istioCluster": o.IstioID,
		"mode":         o.Mode,
		"proxy":        o.Proxy,
		"simulation":   o.Simulation,
		"warnings":     nonNil(o.Warnings),
		"notes":        nonNil(o.Notes),
	}
	var err error
	if top["clusters"], err = dump(o.Clusters); err != nil {
		return err
	}
	if top["routes"], err = dump(o.Routes); err != nil {
		return err
	}
	if top["endpoints"], err = dump(o.Endpoints); err != nil {
		return err
	}
	if o.Waypoint != nil {
		top["waypoint"] = o.Waypoint
	}
	if o.EastWestGateways != nil {
		top["eastWestGateways"] = o.EastWestGateways
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(top)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func dump[M proto.Message](msgs []M) ([]any, error) {
	out := []any{}
	for _, m := range msgs {
		a, err := anypb.New(m)
		if err != nil {
			return nil, err
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(a)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
