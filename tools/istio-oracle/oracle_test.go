package oracle

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The repository's generated object sets, kept equal to `kubectl smh translate` output by
// `cargo test --test translate` (golden files), and the topologies they were translated with.
const (
	repo                   = "../.."
	guideGlobal            = repo + "/tests/golden/guide-global.yaml"
	guideGlobalTopo        = repo + "/tests/data/topology/guide-global.yaml"
	guideMultiPrimary      = repo + "/tests/golden/guide-multi-primary.yaml"
	guideMultiPrimaryTopo  = repo + "/tests/data/topology/guide-multi-primary.yaml"
	aggregateName          = "outbound|9080||reviews-failover.bookinfo.global"
	mgmtReviews            = "outbound|9080||reviews.bookinfo.svc.cluster.local"
	remoteReviewsGlobal    = "outbound|9080||reviews.bookinfo.svc.remote-cluster.global"
	mgmtReviewsSubset      = "outbound|9080|cluster-mgmt-cluster|reviews.bookinfo.svc.cluster.local"
	remoteReviewsSubset    = "outbound|9080|cluster-remote-cluster|reviews.bookinfo.svc.cluster.local"
	mgmtReviewsV1          = "pod mgmt-cluster/bookinfo/reviews-v1-0"
	mgmtReviewsV2          = "pod mgmt-cluster/bookinfo/reviews-v2-0"
	remoteReviewsV3        = "pod remote-cluster/bookinfo/reviews-v3-0"
	remoteGateway          = "ingress gateway of remote-cluster"
	pinnedVersionsFile     = repo + "/scripts/peers/versions"
	istioModule            = "istio.io/istio"
	consecutive5xxExpected = 1
)

func TestSMHUniqueIPMatchesSMHsVectors(t *testing.T) {
	for _, c := range []struct {
		parts []string
		want  string
	}{
		{[]string{"reviews-failover", "service-mesh-hub", "", "failover-service"}, "240.76.63.152"},
		{[]string{"failover-service", "failover-service-namespace", "", "failover-service"}, "247.153.147.39"},
	} {
		if got := SMHUniqueIP(c.parts...); got != c.want {
			t.Errorf("SMHUniqueIP(%q) = %s, want %s", c.parts, got, c.want)
		}
	}
}

// The module the oracle is built from is the one scripts/peers/versions pins, and the sidecar
// version the oracle reports is that module's Istio release.
func TestSidecarVersionIsTheModules(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}} {{.Dir}}", istioModule).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", istioModule, err)
	}
	version, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if pinned := readPinned(t, "ISTIO_VERSION"); version != pinned {
		t.Fatalf("go.mod requires %s %s, scripts/peers/versions pins %s", istioModule, version, pinned)
	}
	release, err := os.ReadFile(filepath.Join(dir, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(release)) + ".0"; SidecarVersion != want {
		t.Fatalf("SidecarVersion = %s, but the module is Istio %s", SidecarVersion, want)
	}
}

func readPinned(t *testing.T, key string) string {
	f, err := os.Open(pinnedVersionsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key+"="); ok {
			return v
		}
	}
	t.Fatalf("%s not in %s", key, pinnedVersionsFile)
	return ""
}

func run(t *testing.T, o Options) *Output {
	t.Helper()
	out, err := Run(t, o)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	return out
}

func findCluster(t *testing.T, out *Output, name string) {
	t.Helper()
	for _, c := range out.Clusters {
		if c.Name == name {
			if od := c.GetOutlierDetection(); od == nil || od.GetConsecutive_5Xx().GetValue() != consecutive5xxExpected {
				t.Errorf("cluster %s: outlier detection %v, want consecutive_5xx %d", name, od, consecutive5xxExpected)
			}
			return
		}
	}
	t.Errorf("istiod generated no cluster %s", name)
}

func aggregateOf(t *testing.T, out *Output) []string {
	t.Helper()
	for _, c := range out.Clusters {
		if c.Name == aggregateName {
			children, ok := aggregateChildren(c)
			if !ok {
				t.Fatalf("%s is not an aggregate cluster: %v", aggregateName, c)
			}
			return children
		}
	}
	t.Fatalf("no cluster %s", aggregateName)
	return nil
}

func workloads(h *Hop) []string {
	if h == nil {
		return nil
	}
	var out []string
	for _, e := range h.Endpoints {
		out = append(out, e.Workload)
	}
	return out
}

func assertReached(t *testing.T, what string, o *Outcome, cluster string, want ...string) {
	t.Helper()
	if o.Error != "" {
		t.Fatalf("%s: simulation error %s", what, o.Error)
	}
	if o.Cluster != aggregateName {
		t.Errorf("%s: the route goes to %s, want the aggregate %s", what, o.Cluster, aggregateName)
	}
	if o.Reached == nil || o.Reached.Cluster != cluster {
		t.Fatalf("%s: reached %+v, want cluster %s", what, o.Reached, cluster)
	}
	if got := strings.Join(workloads(o.Reached), ","); got != strings.Join(want, ",") {
		t.Errorf("%s: endpoints %s, want %s", what, got, strings.Join(want, ","))
	}
}

func TestGuideGlobal(t *testing.T) {
	out := run(t, Options{Objects: guideGlobal, Topology: guideGlobalTopo, Cluster: "mgmt-cluster"})
	if got := strings.Join(aggregateOf(t, out), ","); got != mgmtReviews+","+remoteReviewsGlobal {
		t.Errorf("aggregate children %s", got)
	}
	findCluster(t, out, mgmtReviews)
	findCluster(t, out, remoteReviewsGlobal)
	assertReached(t, "before", out.Simulation.Before, mgmtReviews, mgmtReviewsV1, mgmtReviewsV2)
	assertReached(t, "after", out.Simulation.After, remoteReviewsGlobal, remoteGateway)
}

// Without a topology file the oracle fabricates the guide's layout for the clusters the objects
// name, as translate derives its topology from the manifests.
func TestGuideWithoutTopology(t *testing.T) {
	out := run(t, Options{Objects: guideGlobal, Cluster: "mgmt-cluster"})
	assertReached(t, "before", out.Simulation.Before, mgmtReviews, mgmtReviewsV1, mgmtReviewsV2)
	assertReached(t, "after", out.Simulation.After, remoteReviewsGlobal, remoteGateway)
}

func TestUnknownClusterIsRefused(t *testing.T) {
	_, err := Run(t, Options{Objects: guideGlobal, Cluster: "nope"})
	wantRejected(t, err, "--cluster nope: no translated object is for this cluster (clusters: mgmt-cluster, remote-cluster)")
	_, err = Run(t, Options{Objects: guideGlobal, Topology: guideGlobalTopo, Cluster: "nope"})
	wantRejected(t, err, "--cluster nope: no such cluster in the topology")
	_, err = Run(t, Options{Objects: guideGlobal, Topology: guideGlobalTopo, Cluster: "remote-cluster"})
	wantRejected(t, err, "--cluster remote-cluster: the topology runs no productpage.bookinfo there")
}

func TestGuideMultiPrimary(t *testing.T) {
	out := run(t, Options{Objects: guideMultiPrimary, Topology: guideMultiPrimaryTopo, Cluster: "mgmt-cluster"})
	if got := strings.Join(aggregateOf(t, out), ","); got != mgmtReviewsSubset+","+remoteReviewsSubset {
		t.Errorf("aggregate children %s", got)
	}
	findCluster(t, out, mgmtReviewsSubset)
	findCluster(t, out, remoteReviewsSubset)
	assertReached(t, "before", out.Simulation.Before, mgmtReviewsSubset, mgmtReviewsV1, mgmtReviewsV2)
	assertReached(t, "after", out.Simulation.After, remoteReviewsSubset, remoteReviewsV3)
}

// The guide's multi-primary subsets select topology.istio.io/cluster=<SMH cluster name>. When
// Istio's cluster ID differs, Istio labels the endpoints with its ID, the subsets select
// nothing, and the request never reaches a pod.
func TestMultiPrimaryEndpointLabelsComeFromIstiosClusterID(t *testing.T) {
	topo := filepath.Join(t.TempDir(), "topology.yaml")
	err := os.WriteFile(topo, []byte(`
clusters:
- name: mgmt-cluster
  mesh: {version: 1.24.2, mode: multi-primary, clusterId: istio-mgmt}
  services:
  - {name: productpage, namespace: bookinfo, ports: [{name: http, port: 9080}]}
  - {name: reviews, namespace: bookinfo, ports: [{name: http, port: 9080}]}
- name: remote-cluster
  mesh: {version: 1.24.2, mode: multi-primary, clusterId: istio-remote}
  services:
  - {name: reviews, namespace: bookinfo, ports: [{name: http, port: 9080}]}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, Options{Objects: guideMultiPrimary, Topology: topo, Cluster: "mgmt-cluster"})
	if out.IstioID != "istio-mgmt" {
		t.Errorf("istio cluster %s", out.IstioID)
	}
	if r := out.Simulation.Before.Reached; r != nil {
		t.Errorf("reached %+v, but no subset should select any endpoint", r)
	}
	for _, h := range out.Simulation.Before.Path {
		if len(h.Endpoints) != 0 {
			t.Errorf("%s has endpoints %v", h.Cluster, h.Endpoints)
		}
	}
}

func TestEnvoyFilterPatchThatMatchesNothingIsIgnored(t *testing.T) {
	objs := rewrite(t, guideGlobal,
		"        name: outbound|9080||reviews-failover.bookinfo.global\n    patch:\n      operation: REMOVE",
		"        name: outbound|9080||reviews-failover.bookinfo.global.typo\n    patch:\n      operation: REMOVE")
	_, err := Run(t, Options{Objects: objs, Topology: guideGlobalTopo, Cluster: "mgmt-cluster"})
	wantRejected(t, err, "EnvoyFilter istio-system/reviews-failover configPatches[0] (CLUSTER REMOVE outbound|9080||reviews-failover.bookinfo.global.typo): matches none")
}

func TestWebhookRejectionIsIstiosMessage(t *testing.T) {
	objs := rewrite(t, guideGlobal, "      baseEjectionTime: 30s\n", "      baseEjectionTime: 0.5ms\n")
	_, err := Run(t, Options{Objects: objs, Topology: guideGlobalTopo, Cluster: "mgmt-cluster"})
	wantRejected(t, err, "istiod's validating webhook denies DestinationRule bookinfo/reviews (document 1, cluster mgmt-cluster): configuration is invalid:")
}

func TestObjectsOfTheOtherModeAreRefused(t *testing.T) {
	_, err := Run(t, Options{Objects: guideGlobal, Topology: guideGlobalTopo, Mode: ModeMultiPrimary, Cluster: "mgmt-cluster"})
	wantRejected(t, err, "which is global mode, but the oracle runs in multi-primary mode")
}

func wantRejected(t *testing.T, err error, want string) {
	t.Helper()
	var r *Rejected
	if !errors.As(err, &r) {
		t.Fatalf("want *Rejected containing %q, got %v", want, err)
	}
	if !strings.Contains(r.Error(), want) {
		t.Fatalf("rejection %q does not contain %q", r.Error(), want)
	}
}

// rewrite copies a file into the test's directory with the first `old` replaced by `new`.
func rewrite(t *testing.T, path, old, new string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// examples/all-fields: kubectl-smh writes unchanged copies of the DestinationRules for
// reviews-failover.bookinfo.global and reviews.bookinfo.svc.west.global into bookinfo, next
// to the VirtualService routing to their subsets (for Istio's analyzer). istiod gives
// productpage's sidecar the copies; the originals, shadowed by identical copies, count as used.
func TestAllFieldsCopiedDestinationRulesCountAsUsed(t *testing.T) {
	out := run(t, Options{Objects: repo + "/tests/golden/all-fields-global.yaml",
		Topology: repo + "/examples/all-fields/topology.yaml", Cluster: "east"})
	if out.Simulation.Before.Cluster != aggregateName {
		t.Errorf("route goes to %s", out.Simulation.Before.Cluster)
	}
	// A copy that differs from its original is no copy: the original is then unused.
	objs := rewrite(t, repo+"/tests/golden/all-fields-global.yaml",
		"  name: reviews-failover\n  namespace: bookinfo\nspec:\n  host: reviews-failover.bookinfo.global\n  subsets:\n  - labels:\n      version: v2\n",
		"  name: reviews-failover\n  namespace: bookinfo\nspec:\n  host: reviews-failover.bookinfo.global\n  subsets:\n  - labels:\n      version: v9\n")
	_, err := Run(t, Options{Objects: objs, Topology: repo + "/examples/all-fields/topology.yaml", Cluster: "east"})
	wantRejected(t, err, "DestinationRule service-mesh-hub/reviews-failover: istiod does not use it")
}
