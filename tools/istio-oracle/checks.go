package oracle

// What istiod accepts but does not use. istiod logs nothing for most of these (an EnvoyFilter
// patch that matches no cluster is silently a no-op), so the oracle asks istiod's own data
// structures for productpage's sidecar: its merged EnvoyFilters, its SidecarScope, its push
// status, and Istio's own EnvoyFilter cluster matcher.

import (
	"fmt"
	"sort"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/types"

	networking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/networking/core/envoyfilter"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/host"
	"istio.io/istio/pkg/config/schema/gvk"
	"istio.io/istio/pkg/config/xds"
)

// checkEnvoyFilters reports every EnvoyFilter patch istiod drops or that changes nothing for
// productpage's sidecar:
//   - a patch value istiod cannot build (it logs "failed to build envoy filter value" and
//     drops the patch); the message is that of Istio's own builder, called as istiod calls it;
//   - a patch istiod does not select for this proxy (workload selector, proxy version, ...):
//     missing from istiod's merged EnvoyFilters for the proxy (PushContext.EnvoyFilters);
//   - a CLUSTER REMOVE or MERGE that matches none of the clusters istiod generates without the
//     EnvoyFilters, tried with istiod's own patching code (envoyfilter.ApplyClusterMerge);
//   - a CLUSTER ADD whose cluster is not in the final output exactly once.
func checkEnvoyFilters(in *inputs, configs []config.Config, g, unpatched *generated) []string {
	var problems []string
	merged := g.server.PushContext().EnvoyFilters(g.proxy)
	// istiod's patches for this proxy, per EnvoyFilter and ApplyTo, in the filter's order.
	selected := map[string][]*model.EnvoyFilterConfigPatchWrapper{}
	if merged != nil {
		for applyTo, cps := range merged.Patches {
			for _, cp := range cps {
				key := fmt.Sprintf("%s|%v", cp.FullName, applyTo)
				selected[key] = append(selected[key], cp)
			}
		}
	}
	final := map[string]int{}
	for _, c := range g.clusters {
		final[c.Name]++
	}
	for _, cfg := range configs {
		if cfg.GroupVersionKind != gvk.EnvoyFilter {
			continue
		}
		ef := cfg.Spec.(*networking.EnvoyFilter)
		full := cfg.Namespace + "/" + cfg.Name
		where := func(i int, cp *networking.EnvoyFilter_EnvoyConfigObjectPatch) string {
			return fmt.Sprintf("EnvoyFilter %s configPatches[%d] (%v %v%s)", full, i, cp.GetApplyTo(),
				cp.GetPatch().GetOperation(), matchName(cp))
		}
		for i, cp := range ef.ConfigPatches {
			if cp.Patch == nil {
				problems = append(problems, fmt.Sprintf("%s: istiod ignores a patch without `patch`", where(i, cp)))
				continue
			}
			if _, err := xds.BuildXDSObjectFromStruct(cp.ApplyTo, cp.Patch.Value, false); err != nil {
				problems = append(problems, fmt.Sprintf("%s: istiod ignores it: envoyfilter %s failed to build envoy filter value: %v",
					where(i, cp), full, err))
				continue
			}
			key := fmt.Sprintf("%s|%v", full, cp.ApplyTo)
			if len(selected[key]) == 0 {
				problems = append(problems, fmt.Sprintf("%s: istiod does not apply it to %s's sidecar in %s "+
					"(workload selector, target refs or proxy match exclude it)", where(i, cp), callerService, in.cluster.Name))
				continue
			}
			w := selected[key][0]
			selected[key] = selected[key][1:]
			if cp.ApplyTo != networking.EnvoyFilter_CLUSTER {
				continue
			}
			switch cp.Patch.Operation {
			case networking.EnvoyFilter_Patch_REMOVE, networking.EnvoyFilter_Patch_MERGE:
				if !patchMatchesAny(w, unpatched.clusters) {
					why := ""
					if st := pushStatusFor(unpatched, cp.GetMatch().GetCluster().GetName()); st != "" {
						why = "; istiod's push status says: " + st
					}
					problems = append(problems, fmt.Sprintf("%s: matches none of the %d clusters istiod generates for %s's "+
						"sidecar in %s, so istiod applies it to nothing%s", where(i, cp), len(unpatched.clusters), callerService,
						in.cluster.Name, why))
				}
			case networking.EnvoyFilter_Patch_ADD:
				c, _ := w.Value.(*cluster.Cluster)
				if n := final[c.GetName()]; n != 1 {
					problems = append(problems, fmt.Sprintf("%s: istiod's clusters for %s's sidecar contain %s %d times "+
						"(Envoy rejects duplicate cluster names)", where(i, cp), callerService, c.GetName(), n))
				}
			}
		}
	}
	return problems
}

func matchName(cp *networking.EnvoyFilter_EnvoyConfigObjectPatch) string {
	if n := cp.GetMatch().GetCluster().GetName(); n != "" {
		return " " + n
	}
	return ""
}

// patchMatchesAny applies one patch, with istiod's code, to each cluster in turn: a REMOVE
// matched when istiod drops the cluster, a MERGE when it changes it.
func patchMatchesAny(w *model.EnvoyFilterConfigPatchWrapper, clusters []*cluster.Cluster) bool {
	one := &model.MergedEnvoyFilterWrapper{
		Patches: map[networking.EnvoyFilter_ApplyTo][]*model.EnvoyFilterConfigPatchWrapper{
			networking.EnvoyFilter_CLUSTER: {w},
		},
	}
	for _, c := range clusters {
		pctx := networking.EnvoyFilter_SIDECAR_OUTBOUND
		if strings.HasPrefix(c.Name, "inbound|") {
			pctx = networking.EnvoyFilter_SIDECAR_INBOUND
		}
		in := proto.Clone(c).(*cluster.Cluster)
		out := envoyfilter.ApplyClusterMerge(pctx, one, in, nil)
		if out == nil || !proto.Equal(out, c) {
			return true
		}
	}
	return false
}

// checkObjectsUsed reports translated objects istiod accepts but does not use for
// productpage's sidecar: a DestinationRule that is not (part of) the rule istiod picks for its
// host, a VirtualService missing from the sidecar's scope, a ServiceEntry host the sidecar
// cannot see.
func checkObjectsUsed(in *inputs, configs []config.Config, g *generated) []string {
	var problems []string
	sc := g.proxy.SidecarScope
	push := g.server.PushContext()
	visibleVS := map[types.NamespacedName]bool{}
	for _, l := range sc.EgressListeners {
		for _, vs := range l.VirtualServices() {
			visibleVS[vs.NamespacedName()] = true
		}
	}
	for _, cfg := range configs {
		ref := fmt.Sprintf("%s %s/%s", cfg.GroupVersionKind.Kind, cfg.Namespace, cfg.Name)
		switch cfg.GroupVersionKind {
		case gvk.DestinationRule:
			h := cfg.Spec.(*networking.DestinationRule).Host
			cdr := sc.DestinationRule(model.TrafficDirectionOutbound, g.proxy, host.Name(h))
			used := false
			for _, from := range cdr.GetFrom() {
				used = used || from == cfg.NamespacedName() || isCopyOf(configs, from, cfg)
			}
			if !used {
				problems = append(problems, fmt.Sprintf("%s: istiod does not use it for host %s in %s's sidecar in %s (it uses %v)",
					ref, h, callerService, in.cluster.Name, cdr.GetFrom()))
			}
		case gvk.VirtualService:
			if !visibleVS[cfg.NamespacedName()] {
				problems = append(problems, fmt.Sprintf("%s: not among the VirtualServices istiod gives %s's sidecar in %s",
					ref, callerService, in.cluster.Name))
			}
		case gvk.ServiceEntry:
			for _, h := range cfg.Spec.(*networking.ServiceEntry).Hosts {
				if push.ServiceForHostname(g.proxy, host.Name(h)) == nil {
					problems = append(problems, fmt.Sprintf("%s: istiod gives %s's sidecar in %s no service for host %s",
						ref, callerService, in.cluster.Name, h))
				}
			}
		}
	}
	return problems
}

// isCopyOf reports whether the DestinationRule `used` (which istiod picked) is an unchanged
// copy of cfg in another namespace: kubectl-smh writes such copies into the namespace of a
// VirtualService that routes to a subset of a host other than a Kubernetes service FQDN (for
// Istio's analyzer, which looks for the subset only there). istiod picks the copy for
// proxies in that namespace and the original for the others, with the same result.
func isCopyOf(configs []config.Config, used types.NamespacedName, cfg config.Config) bool {
	for _, c := range configs {
		if c.GroupVersionKind == gvk.DestinationRule && c.NamespacedName() == used && c.Name == cfg.Name &&
			proto.Equal(c.Spec.(*networking.DestinationRule), cfg.Spec.(*networking.DestinationRule)) {
			return true
		}
	}
	return false
}

// checkClusters reports what Envoy would reject or silently skip in istiod's clusters:
// duplicate names, and aggregate children that are not clusters.
func checkClusters(g *generated) []string {
	var problems []string
	names := map[string]int{}
	for _, c := range g.clusters {
		names[c.Name]++
	}
	for _, c := range g.clusters {
		children, ok := aggregateChildren(c)
		if !ok {
			continue
		}
		if len(children) == 0 {
			problems = append(problems, fmt.Sprintf("aggregate cluster %s: cannot read its children from typed_config %s",
				c.Name, c.GetClusterType().GetTypedConfig().GetTypeUrl()))
		}
		for _, child := range children {
			if names[child] == 0 {
				problems = append(problems, fmt.Sprintf("aggregate cluster %s lists %s, which is not among the clusters istiod "+
					"generates for %s's sidecar (Envoy skips it)", c.Name, child, callerService))
			}
		}
	}
	for _, n := range sortedKeys(names) {
		if names[n] > 1 {
			problems = append(problems, fmt.Sprintf("cluster %s appears %d times (Envoy rejects duplicate cluster names)", n, names[n]))
		}
	}
	return problems
}

// pushStatus is istiod's own push status (what /debug/push_status shows) after generating
// productpage's config: conflicts and oddities istiod noticed.
func pushStatus(g *generated) []string {
	var out []string
	push := g.server.PushContext()
	for metric, entries := range push.ProxyStatus {
		for key, st := range entries {
			out = append(out, fmt.Sprintf("istiod push status %s: %s %s", metric, key, st.Message))
		}
	}
	sort.Strings(out)
	return out
}

// pushStatusFor is what istiod's push status says about one key (e.g. a cluster it skipped).
func pushStatusFor(g *generated, key string) string {
	if key == "" {
		return ""
	}
	var out []string
	for metric, entries := range g.server.PushContext().ProxyStatus {
		if st, ok := entries[key]; ok {
			out = append(out, fmt.Sprintf("%s: %s", metric, st.Message))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
