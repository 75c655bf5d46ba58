package oracle

// The waypoint oracle (ambient meshes): real istiod generates the configuration of the
// waypoint that the target service (reviews.bookinfo) uses, with ambient enabled as in Istio's
// ambient profile (PILOT_ENABLE_AMBIENT=true, which istiod reads when the process starts, so
// TestMain runs the oracle again with it set). Istio's own waypoint tests
// (pilot/pkg/xds/waypoint_test.go) set istiod up the same way: the waypoint Gateway, its
// Service and proxy, and every ambient object also given to the cluster's API server, which
// is where istiod's ambient index reads them.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"k8s.io/apimachinery/pkg/runtime"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pilot/test/xdstest"
	istiocluster "istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/host"
	"istio.io/istio/pkg/config/schema/gvk"
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/network"
	"istio.io/istio/pkg/wellknown"
)

// AmbientEnv is what istiod of Istio's ambient profile runs with.
const AmbientEnv = "PILOT_ENABLE_AMBIENT"

// proxyOf is the proxy the run asks istiod for.
func proxyOf(o Options, c *TopologyCluster) (string, error) {
	switch o.Proxy {
	case ProxySidecar, ProxyWaypoint:
		return o.Proxy, nil
	case "":
		if c.Mesh != nil && c.Mesh.Ambient {
			return ProxyWaypoint, nil
		}
		return ProxySidecar, nil
	}
	return "", fmt.Errorf("--proxy %s: expected sidecar or waypoint", o.Proxy)
}

// NeedsAmbient reports whether the run asks for a waypoint, so that istiod must run with
// ambient enabled. Unreadable inputs are left to Run, which reports them.
func NeedsAmbient(o Options) bool {
	if o.Proxy != "" {
		return o.Proxy == ProxyWaypoint
	}
	c := runCluster(o)
	return c != nil && c.Mesh != nil && c.Mesh.Ambient
}

// targetWaypoint is the proxy pod of the waypoint the target service uses in the cluster.
func (in *inputs) targetWaypoint() (Workload, error) {
	c := in.cluster
	for i := range c.Services {
		s := &c.Services[i]
		if s.Name != targetService || s.Namespace != targetNamespace {
			continue
		}
		if !c.IsAmbient(s) || s.Ambient.Waypoint == nil {
			return Workload{}, fmt.Errorf("--cluster %s: the topology gives %s.%s no waypoint there (ambient.waypoint); "+
				"the waypoint oracle generates the configuration of the waypoint it uses", c.Name, targetService, targetNamespace)
		}
		ref := s.Ambient.Waypoint
		wp, ok := c.Waypoint(ref.Namespace, ref.Name)
		if !ok {
			return Workload{}, fmt.Errorf("--cluster %s: %s.%s uses waypoint %s/%s, which is not among the cluster's waypoints",
				c.Name, targetService, targetNamespace, ref.Namespace, ref.Name)
		}
		if f := wp.WaypointFor; f != "" && f != "service" && f != "all" {
			return Workload{}, fmt.Errorf("--cluster %s: waypoint %s/%s is for %s traffic, not for Services", c.Name, ref.Namespace, ref.Name, f)
		}
		w, _ := in.fleet.Waypoint(c.Name, ref.Namespace, ref.Name)
		return w, nil
	}
	return Workload{}, fmt.Errorf("--cluster %s: the topology has no Service %s.%s there; the oracle simulates a request to it",
		c.Name, targetService, targetNamespace)
}

// runWaypoint is Run for the waypoint.
func (in *inputs) runWaypoint(t *testing.T, configs []config.Config, warnings []string) (*Output, error) {
	if !features.EnableAmbient {
		return nil, fmt.Errorf("the waypoint oracle needs istiod with %s=true in its environment (TestMain sets it)", AmbientEnv)
	}
	if want := in.cluster.AmbientMultiNetwork(); features.EnableAmbientMultiNetwork != want {
		return nil, fmt.Errorf("the topology's mesh.ambientMultiNetwork for %s is %v, but istiod runs with %s=%v (TestMain sets it)",
			in.cluster.Name, want, MultiNetworkEnv, features.EnableAmbientMultiNetwork)
	}
	for _, cfg := range configs {
		if cfg.GroupVersionKind == gvk.EnvoyFilter {
			return nil, &Rejected{Problems: []string{fmt.Sprintf("EnvoyFilter %s/%s: the waypoint oracle does not check EnvoyFilter "+
				"patches (kubectl-smh writes none for ambient meshes)", cfg.Namespace, cfg.Name)}}
		}
	}
	before := in.generateWaypoint(t, configs, nil)
	if problems := checkWaypointUses(in, configs, before); len(problems) > 0 {
		return nil, &Rejected{Problems: problems}
	}
	if problems := checkClusters(before); len(problems) > 0 {
		return nil, &Rejected{Problems: problems}
	}
	if !t.Run("xdstest", func(t *testing.T) {
		// Each listener on its own: ValidateListeners compares socket addresses, which the
		// waypoint's internal listeners do not have (it panics on them).
		names := map[string]bool{}
		for _, l := range before.listeners {
			if names[l.Name] {
				t.Errorf("duplicate listener name %v", l.Name)
			}
			names[l.Name] = true
			xdstest.ValidateListener(t, l)
		}
		xdstest.ValidateClusters(t, before.clusters)
		// The routes are inline in the listeners: Envoy's proto constraints, not
		// ValidateRouteConfigurations, which expects what istiod sets on RDS route
		// configurations only (max_direct_response_body_size_bytes).
		for _, rc := range before.routes {
			if err := rc.Validate(); err != nil {
				t.Errorf("route configuration %v is invalid: %v", rc.Name, err)
			}
		}
		xdstest.ValidateClusterLoadAssignments(t, before.endpoints)
	}) {
		return nil, &Rejected{Problems: []string{"Istio's xDS checks (pilot/test/xdstest) reject what istiod generated for the waypoint " +
			in.waypoint.Namespace + "/" + in.waypoint.Service + "; their messages are above"}}
	}

	req := in.waypointCall(configs)
	sim := &SimulationReport{Request: req}
	sim.Before = in.simulateWaypoint(before, req)
	primary := in.primaryWorkloads(sim.Before)
	unready := map[string]bool{}
	for _, w := range primary {
		unready[w.Key()] = true
		sim.Unhealthy = append(sim.Unhealthy, w.Key())
	}
	after := in.generateWaypoint(t, configs, unready)
	sim.After = in.simulateWaypoint(after, req)

	out := &Output{
		Cluster:    in.cluster.Name,
		IstioID:    in.cluster.IstioClusterID(),
		Mode:       in.mode,
		Proxy:      ProxyWaypoint,
		Waypoint:   in.waypointReport(before),
		Clusters:   before.clusters,
		Routes:     before.routes,
		Endpoints:  before.endpoints,
		Simulation: sim,
		Warnings:   append(warnings, pushStatus(before)...),
		Notes:      in.waypointNotes(),
	}
	if features.EnableAmbientMultiNetwork {
		out.EastWestGateways = in.eastWestGatewayReports(t)
		out.Warnings = append(out.Warnings, unservedByGateways(sim, out.EastWestGateways)...)
		sort.Strings(out.Warnings)
	}
	sort.Strings(out.Warnings)
	return out, nil
}

// generateWaypoint runs istiod on the configs and the fabricated Kubernetes objects and builds
// CDS, LDS (with its inline route configurations) and EDS for the waypoint.
func (in *inputs) generateWaypoint(t *testing.T, configs []config.Config, unready map[string]bool) *generated {
	byCluster := map[istiocluster.ID][]runtime.Object{}
	for _, k := range in.kubeOf {
		byCluster[istiocluster.ID(k.IstioClusterID())] = in.fleet.KubernetesObjects(k.Name, unready)
	}
	local := istiocluster.ID(in.cluster.IstioClusterID())
	// istiod's ambient index reads ServiceEntries from the cluster's API server.
	byCluster[local] = append(byCluster[local], in.serviceEntryObjects(t)...)
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		DefaultClusterName:         local,
		KubernetesObjectsByCluster: byCluster,
		Configs:                    configs,
		MeshConfig:                 in.meshConfig,
	})
	w := in.waypoint
	labels := copyMap(w.Labels)
	proxy := s.SetupProxy(&model.Proxy{
		Type:            model.Waypoint,
		ID:              w.Pod + "." + w.Namespace,
		IPAddresses:     []string{w.IP},
		ConfigNamespace: w.Namespace,
		DNSDomain:       w.Namespace + ".svc.cluster.local",
		Labels:          labels,
		Metadata: &model.NodeMetadata{
			ClusterID:    local,
			Network:      network.ID(in.cluster.Network()),
			Namespace:    w.Namespace,
			Labels:       labels,
			IstioVersion: SidecarVersion,
			WorkloadName: w.Service,
		},
	})
	g := &generated{server: s, proxy: proxy}
	g.clusters = s.Clusters(proxy)
	g.listeners = s.Listeners(proxy)
	g.routes = inlineRoutes(g.listeners)
	g.endpoints = s.Endpoints(proxy)
	sort.SliceStable(g.clusters, func(i, j int) bool { return g.clusters[i].Name < g.clusters[j].Name })
	sort.SliceStable(g.listeners, func(i, j int) bool { return g.listeners[i].Name < g.listeners[j].Name })
	sort.SliceStable(g.routes, func(i, j int) bool { return g.routes[i].Name < g.routes[j].Name })
	sort.SliceStable(g.endpoints, func(i, j int) bool { return g.endpoints[i].ClusterName < g.endpoints[j].ClusterName })
	return g
}

// serviceEntryObjects are the translated ServiceEntries as the API server serves them to the
// ambient index (networking.istio.io/v1, the version it watches; the schema is v1alpha3's).
func (in *inputs) serviceEntryObjects(t *testing.T) []runtime.Object {
	var out []runtime.Object
	decode := kubelib.IstioCodec.UniversalDeserializer().Decode
	for _, o := range in.objects {
		if o.Kind != "ServiceEntry" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(o.Raw, &m); err != nil {
			t.Fatalf("%s: %v", o.Ref(), err)
		}
		m["apiVersion"] = "networking.istio.io/v1"
		b, _ := json.Marshal(m)
		obj, _, err := decode(b, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", o.Ref(), err)
		}
		out = append(out, obj)
	}
	return out
}

// inlineRoutes are the route configurations inside the listeners' HTTP connection managers
// (a waypoint's inbound routes are inline, not sent by RDS).
func inlineRoutes(ls []*listener.Listener) []*route.RouteConfiguration {
	var out []*route.RouteConfiguration
	for _, l := range ls {
		for _, fc := range l.FilterChains {
			if rc := chainRoutes(fc); rc != nil {
				out = append(out, rc)
			}
		}
	}
	return out
}

func chainRoutes(fc *listener.FilterChain) *route.RouteConfiguration {
	for _, f := range fc.Filters {
		if f.Name != wellknown.HTTPConnectionManager {
			continue
		}
		var m hcm.HttpConnectionManager
		if f.GetTypedConfig().UnmarshalTo(&m) == nil && m.GetRouteConfig() != nil {
			return m.GetRouteConfig()
		}
	}
	return nil
}

// waypointHosts are the services istiod binds to the waypoint (what it tells ztunnel, whose
// traffic to them goes through the waypoint), as namespace/hostname.
func waypointHosts(g *generated) map[string]bool {
	out := map[string]bool{}
	for _, s := range g.server.PushContext().ServicesForWaypoint(model.WaypointKeyForProxy(g.proxy)) {
		out[s.Service.Hostname] = true
	}
	return out
}

// checkWaypointUses reports translated objects the waypoint does not use: a ServiceEntry host
// istiod does not bind to it, a DestinationRule not merged for its host, a VirtualService none
// of whose hosts' route configurations carries its routes.
func checkWaypointUses(in *inputs, configs []config.Config, g *generated) []string {
	var problems []string
	bound := waypointHosts(g)
	wp := in.waypoint.Namespace + "/" + in.waypoint.Service
	routes := map[string]*route.RouteConfiguration{}
	for _, rc := range g.routes {
		routes[rc.Name] = rc
	}
	for _, cfg := range configs {
		ref := fmt.Sprintf("%s %s/%s", cfg.GroupVersionKind.Kind, cfg.Namespace, cfg.Name)
		switch cfg.GroupVersionKind {
		case gvk.ServiceEntry:
			for _, h := range cfg.Spec.(*networking.ServiceEntry).Hosts {
				if !bound[h] {
					problems = append(problems, fmt.Sprintf("%s: istiod does not bind host %s to the waypoint %s in %s, so "+
						"ztunnel would not send its traffic there (labels istio.io/use-waypoint, -namespace; the waypoint's allowedRoutes)",
						ref, h, wp, in.cluster.Name))
				}
			}
		case gvk.DestinationRule:
			h := cfg.Spec.(*networking.DestinationRule).Host
			cdr := g.proxy.SidecarScope.DestinationRule(model.TrafficDirectionInbound, g.proxy, host.Name(h))
			used := bound[h]
			if used {
				used = false
				for _, from := range cdr.GetFrom() {
					used = used || from == cfg.NamespacedName() || isCopyOf(configs, from, cfg)
				}
			}
			if !used {
				problems = append(problems, fmt.Sprintf("%s: the waypoint %s in %s does not use it for host %s (bound to the waypoint: %v; "+
					"rules istiod merged: %v)", ref, wp, in.cluster.Name, h, bound[h], cdr.GetFrom()))
			}
		case gvk.VirtualService:
			marker := fmt.Sprintf("/namespaces/%s/virtual-service/%s", cfg.Namespace, cfg.Name)
			used := false
			for _, rc := range g.routes {
				for _, vh := range rc.VirtualHosts {
					for _, r := range vh.Routes {
						used = used || strings.HasSuffix(r.GetMetadata().GetFilterMetadata()["istio"].GetFields()["config"].GetStringValue(), marker)
					}
				}
			}
			if !used {
				problems = append(problems, fmt.Sprintf("%s: none of the waypoint %s's routes in %s comes from it (a waypoint reads a "+
					"VirtualService from its own namespace or the service's, for services bound to it)", ref, wp, in.cluster.Name))
			}
		}
	}
	return problems
}

// waypointCall is the request the oracle sends through the waypoint: to the first translated
// ServiceEntry bound to this waypoint (the FailoverService's hostname), else to the target
// Service.
func (in *inputs) waypointCall(configs []config.Config) Request {
	from := fmt.Sprintf("ztunnel in %s, on behalf of an ambient pod, over HBONE to the waypoint %s/%s (pod %s, %s)",
		in.cluster.Name, in.waypoint.Namespace, in.waypoint.Service, in.waypoint.Pod, in.waypoint.IP)
	for _, cfg := range configs {
		if cfg.GroupVersionKind != gvk.ServiceEntry || cfg.Labels[labelUse] != in.waypoint.Service {
			continue
		}
		ns := cfg.Labels[labelUseNS]
		if ns == "" {
			ns = cfg.Namespace
		}
		se := cfg.Spec.(*networking.ServiceEntry)
		if ns != in.waypoint.Namespace || len(se.Hosts) == 0 || len(se.Addresses) == 0 || len(se.Ports) == 0 {
			continue
		}
		return Request{From: from, Host: fmt.Sprintf("%s:%d", se.Hosts[0], se.Ports[0].Number),
			Address: se.Addresses[0], Port: int(se.Ports[0].Number)}
	}
	ip, _ := in.fleet.ServiceIP(in.cluster.Name, targetNamespace, targetService)
	return Request{From: from, Host: fmt.Sprintf("%s.%s:%d", targetService, targetNamespace, targetPort), Address: ip, Port: targetPort}
}

// simulateWaypoint follows the request through the waypoint's main_internal listener (see
// waypointNotes for why the oracle walks it and Istio's simulation does not).
func (in *inputs) simulateWaypoint(g *generated, req Request) *Outcome {
	out := &Outcome{Listener: "main_internal"}
	var l *listener.Listener
	for _, x := range g.listeners {
		if x.Name == out.Listener {
			l = x
		}
	}
	if l == nil {
		out.Error = "istiod generated no main_internal listener for the waypoint"
		return out
	}
	// The CONNECT's :authority (which istiod matches on first when AMBIENT_ENABLE_MULTI_NETWORK is
	// on): ztunnel's original destination, address:port. The chain must not depend on whether it
	// is that or the hostname:port.
	byAddress := matchInputs{ip: req.Address, port: req.Port, appProtocol: "'http/1.1'",
		authority: fmt.Sprintf("%s:%d", req.Address, req.Port)}
	chain, err := matchFilterChain(l.GetFilterChainMatcher(), byAddress)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	byHost := byAddress
	byHost.authority = req.Host
	if other, err := matchFilterChain(l.GetFilterChainMatcher(), byHost); err != nil || other != chain {
		out.Error = fmt.Sprintf("the filter chain depends on the HBONE CONNECT's :authority: %s for %s, %s (%v) for %s",
			chain, byAddress.authority, other, err, byHost.authority)
		return out
	}
	out.FilterChain = chain
	var rc *route.RouteConfiguration
	for _, fc := range l.FilterChains {
		if fc.Name == chain {
			rc = chainRoutes(fc)
		}
	}
	if rc == nil {
		out.Error = fmt.Sprintf("filter chain %s has no HTTP route configuration", chain)
		return out
	}
	out.RouteConfig = rc.Name
	authority := req.Host
	vh := matchVirtualHost(rc, authority)
	if vh == nil {
		out.Error = fmt.Sprintf("route configuration %s has no virtual host for %s", rc.Name, authority)
		return out
	}
	out.VirtualHost = vh.Name
	r, err := matchRoute(vh, "/")
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Route = r.Name
	out.Cluster = r.GetRoute().GetCluster()
	if out.Cluster == "" {
		out.Error = fmt.Sprintf("route %q of %s sends to no single cluster (%v)", r.Name, vh.Name, r.GetAction())
		return out
	}
	out.Path, out.Reached = in.resolve(g, out.Cluster)
	return out
}

// waypointReport says which waypoint istiod generated for, and what istiod binds to it.
func (in *inputs) waypointReport(g *generated) *WaypointReport {
	var hosts []string
	for h := range waypointHosts(g) {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return &WaypointReport{
		Name: in.waypoint.Service, Namespace: in.waypoint.Namespace, Pod: in.waypoint.Pod, IP: in.waypoint.IP,
		Services: hosts,
	}
}

// WaypointReport is the waypoint in the output.
type WaypointReport struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	IP        string `json:"ip"`
	// Services: the hosts istiod binds to the waypoint (what ztunnel sends through it).
	Services []string `json:"services"`
}

func (in *inputs) waypointNotes() []string {
	notes := []string{
		fmt.Sprintf("istiod is Istio %s (istio.io/istio module, pinned in scripts/peers/versions) run in process with Istio's "+
			"pilot test harness, with %s=true (Istio's ambient profile); the proxy is the waypoint %s/%s (a Gateway of class "+
			"istio-waypoint, its Service and one proxy pod, fabricated like Istio's own waypoint tests set them up)",
			SidecarVersion, AmbientEnv, in.waypoint.Namespace, in.waypoint.Service),
		"Services, Pods and EndpointSlices are fabricated from the topology in bookinfo's layout (tools/istio-oracle/workloads.go, " +
			"ambient.go, multinetwork.go): ambient namespaces are labelled istio.io/dataplane-mode=ambient and istio.io/use-waypoint, " +
			"ambient pods carry istio-cni's ambient.istio.io/redirection annotation",
		"ztunnel is not simulated: the request's host is among the services istiod binds to this waypoint (waypoint.services, " +
			"what istiod sends ztunnel), so ztunnel sends it to the waypoint over HBONE with its original destination " +
			"(address:port); the walk starts at the waypoint's main_internal listener, where the HBONE listener forwards it",
		"Istio's traffic simulation (pilot/pkg/simulation) cannot follow a waypoint: it picks listeners by address and filter " +
			"chains by filter_chain_match, while main_internal is an Envoy internal listener whose chains are picked by a " +
			"filter_chain_matcher tree; the oracle evaluates that tree (destination IP ranges, most specific first; destination " +
			"port; application protocol http/1.1; with AMBIENT_ENABLE_MULTI_NETWORK, first the HBONE CONNECT's :authority in " +
			"the filter state, which must give the same chain for the original destination address:port as for " +
			"hostname:port), then the chain's inline route configuration (virtual host by Host, first " +
			"route whose path matches /)",
		"unhealthy: the pods that received the request fail their readiness probe, so their EndpointSlice endpoints are " +
			"ready=false and istiod sends them in EDS with health_status UNHEALTHY; Envoy excludes an EDS-unhealthy host from " +
			"load balancing as it excludes an outlier-ejected one, which is what consecutive5xxErrors does at run time",
		"endpoint: the request goes to the route's cluster's lowest priority level that has a healthy endpoint (Envoy does " +
			"this when each level is wholly healthy or wholly unhealthy, as here; partial health spills part of the traffic " +
			"to the next level)",
	}
	notes = append(notes, in.multiNetworkNotes()...)
	if in.mode == ModeMultiPrimary {
		var ids []string
		for _, k := range in.kubeOf {
			ids = append(ids, fmt.Sprintf("%s (Istio cluster ID %s)", k.Name, k.IstioClusterID()))
		}
		note := "multi-primary mode: istiod reads the Kubernetes objects of " + strings.Join(ids, ", ") +
			" as separate registries, and labels each endpoint topology.istio.io/cluster itself"
		if !in.cluster.AmbientMultiNetwork() {
			note += "; its ambient index (which services a waypoint serves) reads the local cluster only, as istiod does " +
				"unless " + MultiNetworkEnv + " (off by default) is set"
		}
		notes = append(notes, note)
	}
	return notes
}
