// Package oracle runs real istiod translation, in process, on the Istio objects kubectl-smh
// generates, using Istio's own pilot test harness (pilot/test/xds.NewFakeDiscoveryServer) and
// traffic simulation (pilot/pkg/simulation). It is built as a Go test binary because the
// simulation needs a *testing.T; scripts/istio-oracle runs it. See docs/istio-oracle.md.
package oracle

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"testing"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pilot/test/xdstest"
	istiocluster "istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/schema/gvk"
	"istio.io/istio/pkg/network"
)

// SidecarVersion is the Istio version productpage's sidecar reports to istiod: the version of
// the pinned istio.io/istio module (its VERSION file), so istiod generates for a proxy of its
// own release. TestSidecarVersionIsTheModules checks it.
const SidecarVersion = "1.31.0"

// The request the oracle simulates: from productpage's sidecar to reviews.bookinfo:9080.
const (
	callerNamespace = "bookinfo"
	callerService   = "productpage"
	targetNamespace = "bookinfo"
	targetService   = "reviews"
	targetPort      = 9080
)

// Options are the oracle's inputs.
type Options struct {
	Objects  string // the output of `kubectl smh translate -o yaml` (every cluster)
	Topology string // the topology file given to translate; empty: the guide's layout
	Mode     string // global or multi-primary; empty: the cluster's mode in the topology
	Cluster  string // SMH cluster name whose istiod and productpage sidecar are simulated
	// Proxy is the proxy istiod generates for: sidecar (productpage's) or waypoint (the
	// waypoint reviews uses, ambient meshes); empty: waypoint when the cluster's mesh is
	// ambient, else sidecar.
	Proxy string
}

// The proxies the oracle asks istiod for.
const (
	ProxySidecar  = "sidecar"
	ProxyWaypoint = "waypoint"
)

// Rejected means istiod rejects or ignores some of the objects (or the inputs are unusable):
// exit code 2, with Istio's messages.
type Rejected struct{ Problems []string }

func (r *Rejected) Error() string { return strings.Join(r.Problems, "\n") }

// Run is the oracle. It returns *Rejected when istiod rejects or ignores an object.
func Run(t *testing.T, o Options) (*Output, error) {
	in, err := prepare(o, true)
	if err != nil {
		return nil, err
	}
	configs, warnings, err := in.admit()
	if err != nil {
		return nil, err
	}
	if in.proxy == ProxyWaypoint {
		return in.runWaypoint(t, configs, warnings)
	}

	// 1. istiod without the EnvoyFilters: the clusters the filters' patches are matched against.
	unpatched := in.generate(t, withoutEnvoyFilters(configs), nil)
	// 2. istiod with everything: the answer.
	before := in.generate(t, configs, nil)

	var problems []string
	problems = append(problems, checkEnvoyFilters(in, configs, before, unpatched)...)
	problems = append(problems, checkObjectsUsed(in, configs, before)...)
	problems = append(problems, checkClusters(before)...)
	if len(problems) > 0 {
		return nil, &Rejected{Problems: problems}
	}
	// Istio's own checks of generated xDS (what its tests run on generated config): Envoy's
	// proto constraints, duplicate names, TLS settings, virtual host domains. They report
	// through the test; a failure here fails the run.
	if !t.Run("xdstest", func(t *testing.T) {
		xdstest.ValidateClusters(t, before.clusters)
		xdstest.ValidateRouteConfigurations(t, before.routes)
		xdstest.ValidateClusterLoadAssignments(t, before.endpoints)
	}) {
		return nil, &Rejected{Problems: []string{"Istio's xDS checks (pilot/test/xdstest) reject what istiod generated for " +
			callerService + "'s sidecar; their messages are above"}}
	}

	sim := &SimulationReport{Request: in.call()}
	sim.Before = in.simulate(t, before)
	for _, h := range sim.Before.Path {
		if len(h.Endpoints) == 0 {
			warnings = append(warnings, fmt.Sprintf("cluster %s, on the request's path, has no endpoints", h.Cluster))
		}
	}

	// 3. istiod after the primary's pods fail their readiness probes.
	primary := in.primaryWorkloads(sim.Before)
	unready := map[string]bool{}
	for _, w := range primary {
		unready[w.Key()] = true
		sim.Unhealthy = append(sim.Unhealthy, w.Key())
	}
	after := in.generate(t, configs, unready)
	sim.After = in.simulate(t, after)

	out := &Output{
		Cluster:    in.cluster.Name,
		IstioID:    in.cluster.IstioClusterID(),
		Mode:       in.mode,
		Proxy:      ProxySidecar,
		Clusters:   before.clusters,
		Routes:     before.routes,
		Endpoints:  before.endpoints,
		Simulation: sim,
		Warnings:   append(warnings, pushStatus(before)...),
		Notes:      append(in.notes(sim), typedStructNotes(before)...),
	}
	sort.Strings(out.Warnings)
	return out, nil
}

// admit runs Istio's validating webhook on every translated object of the cluster and converts
// them to istiod's config model (with the fabricated .global ServiceEntries, in global mode).
func (in *inputs) admit() ([]config.Config, []string, error) {
	// Istio's validating webhook, on every object of the cluster, fabricated ones included.
	wh, err := NewWebhook()
	if err != nil {
		return nil, nil, err
	}
	var rejected []string
	var warnings []string
	for _, obj := range in.objects {
		r, err := wh.Review(obj.Raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", obj.Ref(), err)
		}
		if !r.Allowed {
			rejected = append(rejected, fmt.Sprintf("istiod's validating webhook denies %s (document %d, cluster %s): %s",
				obj.Ref(), obj.Doc, in.cluster.Name, r.Message))
		}
		for _, w := range r.Warnings {
			warnings = append(warnings, fmt.Sprintf("istiod's validating webhook warns about %s: %s", obj.Ref(), w))
		}
	}
	if len(rejected) > 0 {
		return nil, nil, &Rejected{Problems: rejected}
	}
	configs := make([]config.Config, 0, len(in.objects))
	for _, obj := range in.objects {
		cfg, err := ToConfig(obj)
		if err != nil {
			return nil, nil, &Rejected{Problems: []string{err.Error()}}
		}
		configs = append(configs, cfg)
	}
	configs = append(configs, in.federation...)
	sortConfigs(configs)

	return configs, warnings, nil
}

// inputs is everything fed to istiod.
type inputs struct {
	topology   *Topology
	fleet      *Fleet
	cluster    *TopologyCluster
	mode       string
	objects    []Object        // translated objects for the cluster
	federation []config.Config // fabricated .global ServiceEntries (global mode)
	kubeOf     []*TopologyCluster
	caller     Workload
	meshConfig *meshconfig.MeshConfig
	proxy      string   // ProxySidecar or ProxyWaypoint
	waypoint   Workload // the waypoint's proxy pod (ProxyWaypoint)
}

// prepare reads and checks the inputs and fabricates the cluster's objects. withCall: the
// simulated request needs productpage and reviews in the cluster (for the waypoint: reviews
// and the waypoint it uses).
func prepare(o Options, withCall bool) (*inputs, error) {
	bad := func(format string, args ...any) error {
		return &Rejected{Problems: []string{fmt.Sprintf(format, args...)}}
	}
	all, err := ReadObjects(o.Objects)
	if err != nil {
		return nil, bad("%v", err)
	}
	var topo *Topology
	if o.Topology != "" {
		if topo, err = ReadTopology(o.Topology); err != nil {
			return nil, bad("%v", err)
		}
	} else {
		known := Clusters(all)
		found := false
		for _, c := range known {
			found = found || c == o.Cluster
		}
		if !found {
			return nil, bad("--cluster %s: no translated object is for this cluster (clusters: %s); without a topology "+
				"file the clusters are those the manifests name", o.Cluster, strings.Join(known, ", "))
		}
		var others []string
		for _, c := range known {
			if c != o.Cluster {
				others = append(others, c)
			}
		}
		topo = GuideTopology(o.Cluster, others)
	}
	c, _ := topo.Cluster(o.Cluster)
	if c == nil {
		names := []string{}
		for _, tc := range topo.Clusters {
			names = append(names, tc.Name)
		}
		return nil, bad("--cluster %s: no such cluster in the topology (clusters: %s)", o.Cluster, strings.Join(names, ", "))
	}
	if c.Mesh == nil {
		return nil, bad("--cluster %s: the topology gives this cluster no Istio mesh, so there is no istiod to ask", c.Name)
	}
	if d := c.ClusterDomain; d != "" && d != "cluster.local" {
		return nil, bad("--cluster %s: cluster domain %s; Istio's test harness only serves cluster.local", c.Name, d)
	}
	in := &inputs{topology: topo, cluster: c, mode: o.Mode}
	if in.mode == "" {
		in.mode = c.Mode()
	}
	if in.mode != ModeGlobal && in.mode != ModeMultiPrimary {
		return nil, bad("--istio-mode %s: expected global or multi-primary", in.mode)
	}
	for _, obj := range all {
		if obj.Cluster == c.Name {
			in.objects = append(in.objects, obj)
		}
	}
	if err := checkModeOfObjects(in.objects, in.mode); err != nil {
		return nil, bad("%v", err)
	}
	in.fleet = Fabricate(topo)
	if in.proxy, err = proxyOf(o, c); err != nil {
		return nil, bad("%v", err)
	}
	if in.proxy == ProxyWaypoint && withCall {
		if in.waypoint, err = in.targetWaypoint(); err != nil {
			return nil, bad("%v", err)
		}
		// The waypoint is what istiod generates for; the caller (ztunnel's pod) plays no part.
		withCall = false
	}
	caller, ok := in.fleet.Workload(c.Name, callerNamespace, callerService)
	if withCall && !ok {
		return nil, bad("--cluster %s: the topology runs no %s.%s there; the oracle simulates %s's sidecar",
			c.Name, callerService, callerNamespace, callerService)
	}
	if _, ok := in.fleet.ServiceIP(c.Name, targetNamespace, targetService); withCall && !ok {
		return nil, bad("--cluster %s: the topology has no Service %s.%s there; the oracle simulates a request to it",
			c.Name, targetService, targetNamespace)
	}
	in.caller = caller
	in.kubeOf = []*TopologyCluster{c}
	if in.mode == ModeGlobal {
		in.federation = in.fleet.FederationServiceEntries(c.Name)
	} else {
		// Multi-primary: istiod reads every cluster of the mesh it has a remote secret for.
		in.kubeOf = append(in.kubeOf, topo.Peers(c.Name)...)
		ids := map[string]string{}
		for _, k := range in.kubeOf {
			if prev, dup := ids[k.IstioClusterID()]; dup {
				return nil, bad("clusters %s and %s have the same Istio cluster ID %s", prev, k.Name, k.IstioClusterID())
			}
			ids[k.IstioClusterID()] = k.Name
		}
	}
	if err := checkMultiNetwork(topo); err != nil {
		return nil, bad("%v", err)
	}
	m := mesh.DefaultMeshConfig()
	m.RootNamespace = c.RootNamespace()
	// The cluster's own istiod's serviceScopeConfigs (it applies them to every cluster's
	// Services).
	m.ServiceScopeConfigs, _ = serviceScopeConfigs(c)
	in.meshConfig = m
	return in, nil
}

// checkModeOfObjects catches objects translated in the other mode (e.g. a translate that
// ignored --istio-mode): global mode names remote services `<svc>.<ns>.svc.<cluster>.global`,
// multi-primary mode selects them by Istio's topology.istio.io/cluster label.
func checkModeOfObjects(objs []Object, mode string) error {
	for _, o := range objs {
		s := string(o.Raw)
		switch {
		case mode == ModeMultiPrimary && strings.Contains(s, ".svc.") && globalHost.MatchString(s):
			return fmt.Errorf("%s names a remote service by SMH's .global name (%s), which is global mode, "+
				"but the oracle runs in multi-primary mode: translate and the oracle disagree on the mode",
				o.Ref(), globalHost.FindString(s))
		case mode == ModeGlobal && strings.Contains(s, `"topology.istio.io/cluster"`):
			return fmt.Errorf("%s selects endpoints by topology.istio.io/cluster, which is multi-primary mode, "+
				"but the oracle runs in global mode: translate and the oracle disagree on the mode", o.Ref())
		}
	}
	return nil
}

var globalHost = regexp.MustCompile(`[a-z0-9-]+\.[a-z0-9-]+\.svc\.[a-z0-9-]+\.global`)

func withoutEnvoyFilters(cfgs []config.Config) []config.Config {
	var out []config.Config
	for _, c := range cfgs {
		if c.GroupVersionKind != gvk.EnvoyFilter {
			out = append(out, c)
		}
	}
	return out
}

// generated is what one istiod produced for productpage's sidecar.
type generated struct {
	server    *xds.FakeDiscoveryServer
	proxy     *model.Proxy
	clusters  []*cluster.Cluster
	listeners []*listener.Listener // waypoint only
	routes    []*route.RouteConfiguration
	endpoints []*endpoint.ClusterLoadAssignment
}

// generate runs istiod (Istio's fake discovery server) on the configs and the fabricated
// Kubernetes objects, and builds CDS, RDS and EDS for productpage's sidecar with istiod's own
// generators.
func (in *inputs) generate(t *testing.T, configs []config.Config, unready map[string]bool) *generated {
	byCluster := map[istiocluster.ID][]runtime.Object{}
	for _, k := range in.kubeOf {
		byCluster[istiocluster.ID(k.IstioClusterID())] = in.fleet.KubernetesObjects(k.Name, unready)
	}
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		DefaultClusterName:         istiocluster.ID(in.cluster.IstioClusterID()),
		KubernetesObjectsByCluster: byCluster,
		Configs:                    configs,
		MeshConfig:                 in.meshConfig,
	})
	labels := copyMap(in.caller.Labels)
	proxy := s.SetupProxy(&model.Proxy{
		Type:            model.SidecarProxy,
		ID:              in.caller.Pod + "." + in.caller.Namespace,
		IPAddresses:     []string{in.caller.IP},
		ConfigNamespace: in.caller.Namespace,
		DNSDomain:       in.caller.Namespace + ".svc.cluster.local",
		Labels:          labels,
		Metadata: &model.NodeMetadata{
			ClusterID:    istiocluster.ID(in.cluster.IstioClusterID()),
			Network:      network.ID(in.cluster.Network()),
			Namespace:    in.caller.Namespace,
			Labels:       labels,
			IstioVersion: SidecarVersion,
			WorkloadName: in.caller.Service + "-" + in.caller.Version,
		},
	})
	g := &generated{server: s, proxy: proxy}
	g.clusters = s.Clusters(proxy)
	g.routes = s.Routes(proxy)
	g.endpoints = s.Endpoints(proxy)
	sort.SliceStable(g.clusters, func(i, j int) bool { return g.clusters[i].Name < g.clusters[j].Name })
	sort.SliceStable(g.routes, func(i, j int) bool { return g.routes[i].Name < g.routes[j].Name })
	sort.SliceStable(g.endpoints, func(i, j int) bool { return g.endpoints[i].ClusterName < g.endpoints[j].ClusterName })
	return g
}

func (in *inputs) call() Request {
	ip, _ := in.fleet.ServiceIP(in.cluster.Name, targetNamespace, targetService)
	return Request{
		From:    fmt.Sprintf("%s (pod %s/%s, %s) in %s", in.caller.Service+"-"+in.caller.Version, in.caller.Namespace, in.caller.Pod, in.caller.IP, in.cluster.Name),
		Host:    fmt.Sprintf("%s.%s:%d", targetService, targetNamespace, targetPort),
		Address: ip,
		Port:    targetPort,
	}
}

// simulate sends the request through the listeners, routes and clusters istiod generated,
// with Istio's traffic simulation, then follows the cluster to an endpoint.
func (in *inputs) simulate(t *testing.T, g *generated) *Outcome {
	req := in.call()
	sim := simulation.NewSimulation(t, g.server, g.proxy)
	res := sim.Run(simulation.Call{
		Address:    req.Address,
		Port:       req.Port,
		Protocol:   simulation.HTTP,
		HostHeader: req.Host,
		CallMode:   simulation.CallModeOutbound,
	})
	out := &Outcome{
		Listener:    res.ListenerMatched,
		FilterChain: res.FilterChainMatched,
		RouteConfig: res.RouteConfigMatched,
		VirtualHost: res.VirtualHostMatched,
		Route:       res.RouteMatched,
		Cluster:     res.ClusterMatched,
	}
	if res.Error != nil {
		out.Error = res.Error.Error()
		return out
	}
	out.Path, out.Reached = in.resolve(g, res.ClusterMatched)
	return out
}

// primaryWorkloads are the pods that receive the request when everything is healthy: those of
// the aggregate's first child (the FailoverService's first backing service), or of the routed
// cluster's lowest priority level when it is not an aggregate.
func (in *inputs) primaryWorkloads(o *Outcome) []Workload {
	if len(o.Path) == 0 {
		return nil
	}
	eps := o.Path[0].Endpoints
	if o.Reached != nil {
		// The endpoints that received the request: with failoverPriority, only the lowest
		// priority level of the cluster.
		eps = o.Reached.Endpoints
	}
	var out []Workload
	for _, e := range eps {
		if w, ok := in.fleet.WorkloadByIP(e.IP); ok {
			out = append(out, w)
		}
	}
	return out
}

func (in *inputs) notes(sim *SimulationReport) []string {
	notes := []string{
		fmt.Sprintf("istiod is Istio %s (istio.io/istio module, pinned in scripts/peers/versions) run in process with "+
			"Istio's pilot test harness; the topology's Istio version (%s) only decided what kubectl-smh generated",
			SidecarVersion, in.versionOf()),
		"Services, Pods and EndpointSlices are fabricated from the topology in bookinfo's layout (tools/istio-oracle/workloads.go); " +
			"every cluster is on one network",
		"unhealthy: the primary's pods fail their readiness probe, so their EndpointSlice endpoints are ready=false and istiod " +
			"sends them in EDS with health_status UNHEALTHY; Envoy excludes an EDS-unhealthy host from load balancing " +
			"as it excludes an outlier-ejected one, which is what consecutive5xxErrors does at run time",
		"endpoint: Istio's simulation stops at the route's cluster; the oracle follows it: an aggregate cluster's children " +
			"are walked in priority order and the first child with a healthy endpoint is reached (Envoy's aggregate load " +
			"balancer does this when each child is wholly healthy or wholly unhealthy, as here; partial health spills " +
			"only part of the traffic); an EDS cluster's endpoints come from its ClusterLoadAssignment, a DNS cluster's " +
			"from its inline load_assignment",
	}
	if in.mode == ModeGlobal {
		notes = append(notes, fmt.Sprintf("global mode: istiod reads only %s; the %d .global ServiceEntries SMH's federation "+
			"writes (one per service of each peer cluster, endpoint = the peer's ingress gateway on 15443) are fabricated",
			in.cluster.Name, len(in.federation)))
	} else {
		var ids []string
		for _, k := range in.kubeOf {
			ids = append(ids, fmt.Sprintf("%s (Istio cluster ID %s)", k.Name, k.IstioClusterID()))
		}
		notes = append(notes, "multi-primary mode: istiod reads the Kubernetes objects of "+strings.Join(ids, ", ")+
			" as separate registries, and labels each endpoint topology.istio.io/cluster itself")
	}
	return notes
}

func (in *inputs) versionOf() string {
	if in.cluster.Mesh != nil && in.cluster.Mesh.Version != "" {
		return in.cluster.Mesh.Version
	}
	return "unset"
}

// DumpInputs prints, as a YAML stream, what the oracle gives istiod for the cluster that
// istioctl can read from files: the translated objects, the fabricated .global ServiceEntries
// (global mode) and the cluster's own fabricated Kubernetes objects (`istioctl analyze
// --use-kube=false` reads one cluster).
func DumpInputs(o Options, w io.Writer) error {
	in, err := prepare(o, false)
	if err != nil {
		return err
	}
	var docs [][]byte
	for _, obj := range in.objects {
		docs = append(docs, obj.Raw)
	}
	for _, cfg := range in.federation {
		ik, err := crd.ConvertConfig(cfg)
		if err != nil {
			return err
		}
		b, err := json.Marshal(ik)
		if err != nil {
			return err
		}
		docs = append(docs, b)
	}
	for _, obj := range in.fleet.KubernetesObjects(in.cluster.Name, nil) {
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		docs = append(docs, b)
	}
	for i, d := range docs {
		y, err := yaml.JSONToYAML(d)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(y); err != nil {
			return err
		}
	}
	return nil
}
