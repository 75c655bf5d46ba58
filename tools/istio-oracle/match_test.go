package oracle

import (
	"strings"
	"testing"

	xdscore "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcher "github.com/cncf/xds/go/xds/type/matcher/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	network "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/network/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func typed(name string, m proto.Message) *xdscore.TypedExtensionConfig {
	a, _ := anypb.New(m)
	return &xdscore.TypedExtensionConfig{Name: name, TypedConfig: a}
}

func chain(name string) *xdsmatcher.Matcher_OnMatch {
	return &xdsmatcher.Matcher_OnMatch{OnMatch: &xdsmatcher.Matcher_OnMatch_Action{Action: typed(name, wrapperspb.String(name))}}
}

func ipRange(prefix string, bits uint32, on *xdsmatcher.Matcher_OnMatch) *xdsmatcher.IPMatcher_IPRangeMatcher {
	return &xdsmatcher.IPMatcher_IPRangeMatcher{
		Ranges:  []*xdscore.CidrRange{{AddressPrefix: prefix, PrefixLen: wrapperspb.UInt32(bits)}},
		OnMatch: on,
	}
}

// A waypoint's matcher in the shape istiod builds it: destination IP (ranges), then destination
// port (exact map) to a chain name.
func TestMatchFilterChainTakesTheMostSpecificRangeThenThePort(t *testing.T) {
	port := func(chains map[string]string) *xdsmatcher.Matcher_OnMatch {
		m := map[string]*xdsmatcher.Matcher_OnMatch{}
		for p, c := range chains {
			m[p] = chain(c)
		}
		return &xdsmatcher.Matcher_OnMatch{OnMatch: &xdsmatcher.Matcher_OnMatch_Matcher{Matcher: &xdsmatcher.Matcher{
			MatcherType: &xdsmatcher.Matcher_MatcherTree_{MatcherTree: &xdsmatcher.Matcher_MatcherTree{
				Input:    typed("port", &network.DestinationPortInput{}),
				TreeType: &xdsmatcher.Matcher_MatcherTree_ExactMatchMap{ExactMatchMap: &xdsmatcher.Matcher_MatcherTree_MatchMap{Map: m}},
			}},
		}}}
	}
	ips := &xdsmatcher.IPMatcher{RangeMatchers: []*xdsmatcher.IPMatcher_IPRangeMatcher{
		ipRange("10.0.0.0", 8, chain("wide")),
		ipRange("10.96.0.12", 32, port(map[string]string{"9080": "reviews-9080", "9090": "reviews-9090"})),
	}}
	m := &xdsmatcher.Matcher{MatcherType: &xdsmatcher.Matcher_MatcherTree_{MatcherTree: &xdsmatcher.Matcher_MatcherTree{
		Input:    typed("ip", &network.DestinationIPInput{}),
		TreeType: &xdsmatcher.Matcher_MatcherTree_CustomMatch{CustomMatch: typed("ip", ips)},
	}}}
	for _, c := range []struct {
		ip   string
		port int
		want string
	}{
		{"10.96.0.12", 9080, "reviews-9080"},
		{"10.96.0.12", 9090, "reviews-9090"},
		{"10.96.0.13", 9080, "wide"},
	} {
		got, err := matchFilterChain(m, matchInputs{ip: c.ip, port: c.port, appProtocol: "'http/1.1'"})
		if err != nil || got != c.want {
			t.Errorf("%s:%d: got %q, %v; want %q", c.ip, c.port, got, err, c.want)
		}
	}
	if _, err := matchFilterChain(m, matchInputs{ip: "10.96.0.12", port: 1}); err == nil || !strings.Contains(err.Error(), "no filter chain") {
		t.Errorf("an unmatched port: %v", err)
	}
	unknown := &xdsmatcher.Matcher{MatcherType: &xdsmatcher.Matcher_MatcherTree_{MatcherTree: &xdsmatcher.Matcher_MatcherTree{
		Input:    typed("sni", &network.ServerNameInput{}),
		TreeType: &xdsmatcher.Matcher_MatcherTree_ExactMatchMap{ExactMatchMap: &xdsmatcher.Matcher_MatcherTree_MatchMap{}},
	}}}
	if _, err := matchFilterChain(unknown, matchInputs{}); err == nil || !strings.Contains(err.Error(), "not evaluated") {
		t.Errorf("an input the oracle does not evaluate must be an error, got %v", err)
	}
}

func TestMatchVirtualHostAndRoute(t *testing.T) {
	rc := &route.RouteConfiguration{VirtualHosts: []*route.VirtualHost{
		{Name: "any", Domains: []string{"*"}},
		{Name: "reviews", Domains: []string{"reviews.bookinfo", "reviews.bookinfo:9080"}, Routes: []*route.Route{
			{Name: "v2", Match: &route.RouteMatch{PathSpecifier: &route.RouteMatch_Path{Path: "/v2"}}},
			{Name: "all", Match: &route.RouteMatch{PathSpecifier: &route.RouteMatch_Prefix{Prefix: "/"}}},
		}},
		{Name: "suffix", Domains: []string{"*.global"}},
	}}
	for host, want := range map[string]string{
		"reviews.bookinfo:9080":                 "reviews",
		"reviews-failover.bookinfo.global:9080": "suffix",
		"ratings:9080":                          "any",
	} {
		if got := matchVirtualHost(rc, host); got.GetName() != want {
			t.Errorf("%s: virtual host %q, want %q", host, got.GetName(), want)
		}
	}
	vh := rc.VirtualHosts[1]
	if r, err := matchRoute(vh, "/"); err != nil || r.Name != "all" {
		t.Errorf("/: %v, %v", r, err)
	}
	if r, err := matchRoute(vh, "/v2"); err != nil || r.Name != "v2" {
		t.Errorf("/v2: %v, %v", r, err)
	}
	vh.Routes = append([]*route.Route{{Name: "header", Match: &route.RouteMatch{
		PathSpecifier: &route.RouteMatch_Prefix{Prefix: "/"},
		Headers:       []*route.HeaderMatcher{{Name: "x-canary"}},
	}}}, vh.Routes...)
	if _, err := matchRoute(vh, "/"); err == nil {
		t.Error("a route with a header match must not be guessed")
	}
}

// With AMBIENT_ENABLE_MULTI_NETWORK istiod matches the HBONE CONNECT's :authority first (the
// filter state istiod's connect_authority filter sets), falling back to the address matcher;
// a filter state key other than istiod's is not evaluated.
func TestMatchFilterChainByConnectAuthorityThenAddress(t *testing.T) {
	byIP := &xdsmatcher.Matcher{MatcherType: &xdsmatcher.Matcher_MatcherTree_{MatcherTree: &xdsmatcher.Matcher_MatcherTree{
		Input: typed("ip", &network.DestinationIPInput{}),
		TreeType: &xdsmatcher.Matcher_MatcherTree_CustomMatch{CustomMatch: typed("ip", &xdsmatcher.IPMatcher{
			RangeMatchers: []*xdsmatcher.IPMatcher_IPRangeMatcher{ipRange("240.76.63.152", 32, chain("by-address"))},
		})},
	}}}
	authority := func(key string) *xdsmatcher.Matcher {
		return &xdsmatcher.Matcher{
			OnNoMatch: &xdsmatcher.Matcher_OnMatch{OnMatch: &xdsmatcher.Matcher_OnMatch_Matcher{Matcher: byIP}},
			MatcherType: &xdsmatcher.Matcher_MatcherTree_{MatcherTree: &xdsmatcher.Matcher_MatcherTree{
				Input: typed("authority-filter-state", &network.FilterStateInput{Key: key}),
				TreeType: &xdsmatcher.Matcher_MatcherTree_ExactMatchMap{ExactMatchMap: &xdsmatcher.Matcher_MatcherTree_MatchMap{
					Map: map[string]*xdsmatcher.Matcher_OnMatch{"reviews-failover.bookinfo.global:9080": chain("by-host")},
				}},
			}},
		}
	}
	m := authority("io.istio.connect_authority")
	for _, c := range []struct{ authority, want string }{
		{"reviews-failover.bookinfo.global:9080", "by-host"},
		{"240.76.63.152:9080", "by-address"},
	} {
		got, err := matchFilterChain(m, matchInputs{ip: "240.76.63.152", port: 9080, authority: c.authority})
		if err != nil || got != c.want {
			t.Errorf("authority %s: got %q, %v; want %q", c.authority, got, err, c.want)
		}
	}
	if _, err := matchFilterChain(authority("other"), matchInputs{ip: "240.76.63.152"}); err == nil ||
		!strings.Contains(err.Error(), "not evaluated") {
		t.Errorf("another filter state key must be an error, got %v", err)
	}
}
