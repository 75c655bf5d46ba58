package oracle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	meshconfig "istio.io/api/mesh/v1alpha1"
)

const ambientMultiNetworkTopo = repo + "/examples/topology-ambient-multinetwork.yaml"

// The multi-network topology becomes what istiod reads: the network label on istio-system and
// on every pod, each cluster's east-west gateway Service (network label, HBONE port, load
// balancer address), the ambient profile's serviceScopeConfigs, and the switch.
func TestMultiNetworkTopologyIsWhatIstiodReads(t *testing.T) {
	topo, err := ReadTopology(ambientMultiNetworkTopo)
	if err != nil {
		t.Fatal(err)
	}
	if !WantsMultiNetwork(Options{Topology: ambientMultiNetworkTopo, Cluster: "remote-cluster"}) {
		t.Errorf("WantsMultiNetwork: false for remote-cluster")
	}
	if WantsMultiNetwork(Options{Topology: repo + "/examples/topology-ambient.yaml", Cluster: "mgmt-cluster"}) {
		t.Errorf("WantsMultiNetwork: true for the single-network ambient topology")
	}
	f := Fabricate(topo)
	for _, c := range []struct{ cluster, network, gateway string }{
		{"mgmt-cluster", "network1", "172.18.255.220"},
		{"remote-cluster", "network2", "172.18.255.221"},
	} {
		gateways := 0
		for _, obj := range f.KubernetesObjects(c.cluster, nil) {
			switch o := obj.(type) {
			case *corev1.Namespace:
				if o.Name == "istio-system" && o.Labels[labelNetwork] != c.network {
					t.Errorf("%s: istio-system labels %v, want %s=%s", c.cluster, o.Labels, labelNetwork, c.network)
				}
			case *corev1.Pod:
				if o.Labels[labelNetwork] != c.network {
					t.Errorf("%s: pod %s labels %v, want %s=%s", c.cluster, o.Name, o.Labels, labelNetwork, c.network)
				}
			case *corev1.Service:
				if o.Name != "istio-eastwestgateway" {
					continue
				}
				gateways++
				hbone := false
				for _, p := range o.Spec.Ports {
					hbone = hbone || p.Port == hbonePort
				}
				if o.Namespace != "istio-system" || o.Labels[labelNetwork] != c.network || !hbone ||
					o.Spec.Type != corev1.ServiceTypeLoadBalancer || len(o.Status.LoadBalancer.Ingress) != 1 ||
					o.Status.LoadBalancer.Ingress[0].IP != c.gateway {
					t.Errorf("%s: east-west gateway %+v", c.cluster, o)
				}
			}
		}
		if gateways != 1 {
			t.Errorf("%s: %d east-west gateway Services, want 1", c.cluster, gateways)
		}
	}
	mgmt, _ := topo.Cluster("mgmt-cluster")
	scopes, err := serviceScopeConfigs(mgmt)
	if err != nil {
		t.Fatal(err)
	}
	// Istio's ambient profile (manifests/helm-profiles/ambient.yaml).
	if len(scopes) != 1 || scopes[0].Scope != meshconfig.MeshConfig_ServiceScopeConfigs_GLOBAL ||
		scopes[0].NamespaceSelector != nil || len(scopes[0].ServicesSelector.GetMatchExpressions()) != 1 {
		t.Fatalf("serviceScopeConfigs %v", scopes)
	}
	e := scopes[0].ServicesSelector.MatchExpressions[0]
	if e.Key != "istio.io/global" || e.Operator != "In" || strings.Join(e.Values, ",") != "true" {
		t.Errorf("serviceScopeConfigs[0].servicesSelector %v", e)
	}
}

// Topology values the oracle cannot turn into objects are refused, not guessed.
func TestMultiNetworkTopologyMistakesAreRefused(t *testing.T) {
	base, err := os.ReadFile(ambientMultiNetworkTopo)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"scope", "scope: GLOBAL", "scope: EVERYWHERE", `scope "EVERYWHERE": expected GLOBAL or LOCAL`},
		{"namespace labels", "labels: {app: details, service: details}",
			"labels: {app: details, service: details}\n    namespaceLabels: {team: a}\n  - name: extra\n    namespace: bookinfo\n    namespaceLabels: {team: b}",
			"different values of label team"},
		{"gateway address", "network: network2, address: 172.18.255.221", "network: network2, address: \"\"",
			"needs a name, namespace, network and address"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(string(base), c.old, c.new, 1)
			if text == string(base) {
				t.Fatalf("%q not in %s", c.old, ambientMultiNetworkTopo)
			}
			path := filepath.Join(t.TempDir(), "topology.yaml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			topo, err := ReadTopology(path)
			if err != nil {
				t.Fatal(err)
			}
			err = checkMultiNetwork(topo)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("checkMultiNetwork: %v, want %q", err, c.want)
			}
		})
	}
}
