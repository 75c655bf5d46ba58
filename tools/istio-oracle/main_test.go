package oracle

// The oracle's entry point. It is a test binary (built by `scripts/peers/build istio` with
// `go test -c`) because Istio's harness and simulation are test code: they take a
// *testing.T, which only the testing package can make. With -oracle.objects set, TestMain runs
// TestOracle alone, keeps stdout for the JSON answer (the testing package's own PASS/FAIL
// lines go to stderr) and chooses the exit code: 0 answered, 2 istiod rejects or ignores an
// object (or the inputs are unusable), 1 the harness failed. Without it, `go test` runs the
// unit tests.

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"testing"

	istiolog "istio.io/istio/pkg/log"
)

var (
	objectsFlag  = flag.String("oracle.objects", "", "the output of `kubectl smh translate -o yaml`")
	topologyFlag = flag.String("oracle.topology", "", "the topology file given to translate (default: the guide's layout)")
	modeFlag     = flag.String("oracle.mode", "", "global or multi-primary (default: the cluster's mode in the topology)")
	clusterFlag  = flag.String("oracle.cluster", "", "the SMH cluster whose istiod and productpage sidecar are simulated")
	proxyFlag    = flag.String("oracle.proxy", "", "sidecar (productpage's) or waypoint (the one reviews uses); default: waypoint in an ambient mesh")
	dumpFlag     = flag.Bool("oracle.dump-inputs", false, "print the cluster's inputs to istiod as YAML instead (for istioctl analyze)")
)

var (
	answer *Output
	failed error
)

func TestMain(m *testing.M) {
	flag.Parse()
	// istiod logs at info level to stdout by default; keep warnings and errors, on stderr.
	opts := istiolog.DefaultOptions()
	opts.SetDefaultOutputLevel(istiolog.OverrideScopeName, istiolog.WarnLevel)
	opts.OutputPaths = []string{"stderr"}
	if err := istiolog.Configure(opts); err != nil {
		fmt.Fprintln(os.Stderr, "istio-oracle:", err)
		os.Exit(1)
	}
	if *objectsFlag == "" {
		os.Exit(m.Run())
	}
	if *clusterFlag == "" {
		fmt.Fprintln(os.Stderr, "istio-oracle: -oracle.cluster is required")
		os.Exit(2)
	}
	options := Options{Objects: *objectsFlag, Topology: *topologyFlag, Mode: *modeFlag, Cluster: *clusterFlag, Proxy: *proxyFlag}
	if !*dumpFlag && NeedsAmbient(options) {
		// istiod reads its ambient switches, and derives the other ambient settings from them,
		// when the process starts: run again with them set as the topology says (once: the
		// environment then holds exactly these values).
		multiNetwork := WantsMultiNetwork(options)
		if os.Getenv(AmbientEnv) != "true" || os.Getenv(MultiNetworkEnv) != fmt.Sprint(multiNetwork) {
			if err := reexecWithEnv(multiNetwork); err != nil {
				fmt.Fprintf(os.Stderr, "istio-oracle: cannot run again with %s=true %s=%v: %v\n", AmbientEnv, MultiNetworkEnv, multiNetwork, err)
				os.Exit(1)
			}
		}
	}
	if *dumpFlag {
		err := DumpInputs(options, os.Stdout)
		var rejected *Rejected
		switch {
		case errors.As(err, &rejected):
			fmt.Fprintln(os.Stderr, "istio-oracle:", err)
			os.Exit(2)
		case err != nil:
			fmt.Fprintln(os.Stderr, "istio-oracle:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	_ = flag.Set("test.run", "^TestOracle$")
	stdout := os.Stdout
	os.Stdout = os.Stderr
	code := m.Run()
	os.Stdout = stdout
	var rejected *Rejected
	switch {
	case errors.As(failed, &rejected):
		for _, p := range rejected.Problems {
			fmt.Fprintln(os.Stderr, "istio-oracle:", p)
		}
		os.Exit(2)
	case failed != nil:
		fmt.Fprintln(os.Stderr, "istio-oracle:", failed)
		os.Exit(1)
	case code != 0 || answer == nil:
		fmt.Fprintln(os.Stderr, "istio-oracle: Istio's test harness failed (see above)")
		os.Exit(1)
	}
	if err := answer.WriteJSON(stdout); err != nil {
		fmt.Fprintln(os.Stderr, "istio-oracle:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestOracle is the oracle run (see TestMain); under plain `go test` it has no inputs.
func TestOracle(t *testing.T) {
	if *objectsFlag == "" {
		t.Skip("the oracle itself: run by scripts/istio-oracle, which passes -oracle.objects")
	}
	answer, failed = Run(t, Options{
		Objects: *objectsFlag, Topology: *topologyFlag, Mode: *modeFlag, Cluster: *clusterFlag, Proxy: *proxyFlag,
	})
}
