package oracle

// How Envoy picks a waypoint's filter chain, virtual host and route, for the request the
// oracle sends (Istio's simulation does not evaluate filter_chain_matcher trees; see
// waypointNotes). Only what istiod's waypoint listener uses is evaluated; anything else is an
// error, never a guess.

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	xdsmatcher "github.com/cncf/xds/go/xds/type/matcher/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	network "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/network/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"istio.io/istio/pilot/pkg/xds/filters"
)

// matchInputs are the connection's properties a filter chain matcher may read.
type matchInputs struct {
	ip          string
	port        int
	appProtocol string // as Envoy's application-protocol input renders it: 'http/1.1'
	// authority: the :authority of the HBONE CONNECT the waypoint terminated, which istiod's
	// connect_authority filter puts in the filter state (istiod matches on it when
	// AMBIENT_ENABLE_MULTI_NETWORK is on).
	authority string
}

// matchFilterChain evaluates a filter_chain_matcher to the name of a filter chain.
func matchFilterChain(m *xdsmatcher.Matcher, in matchInputs) (string, error) {
	if m == nil {
		return "", fmt.Errorf("the listener has no filter_chain_matcher")
	}
	tree := m.GetMatcherTree()
	if tree == nil {
		return "", fmt.Errorf("filter_chain_matcher: only matcher trees are evaluated, not %T", m.GetMatcherType())
	}
	value, err := in.value(tree)
	if err != nil {
		return "", err
	}
	var on *xdsmatcher.Matcher_OnMatch
	switch tt := tree.GetTreeType().(type) {
	case *xdsmatcher.Matcher_MatcherTree_ExactMatchMap:
		on = tt.ExactMatchMap.GetMap()[value]
	case *xdsmatcher.Matcher_MatcherTree_CustomMatch:
		var ipm xdsmatcher.IPMatcher
		if err := tt.CustomMatch.GetTypedConfig().UnmarshalTo(&ipm); err != nil {
			return "", fmt.Errorf("filter_chain_matcher: custom match %s is not an IP matcher", tt.CustomMatch.GetName())
		}
		if on, err = matchIP(&ipm, value); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("filter_chain_matcher: tree type %T is not evaluated", tt)
	}
	if on == nil {
		on = m.GetOnNoMatch()
	}
	if on == nil {
		return "", fmt.Errorf("no filter chain matches %s:%d (%s)", in.ip, in.port, in.appProtocol)
	}
	if next := on.GetMatcher(); next != nil {
		return matchFilterChain(next, in)
	}
	var name wrapperspb.StringValue
	if err := on.GetAction().GetTypedConfig().UnmarshalTo(&name); err != nil {
		return "", fmt.Errorf("filter_chain_matcher: action %s is not a filter chain name", on.GetAction().GetName())
	}
	return name.GetValue(), nil
}

// value is the matcher tree's input for this connection.
func (in matchInputs) value(tree *xdsmatcher.Matcher_MatcherTree) (string, error) {
	a := tree.GetInput().GetTypedConfig()
	switch {
	case a.MessageIs(&network.DestinationIPInput{}):
		return in.ip, nil
	case a.MessageIs(&network.DestinationPortInput{}):
		return strconv.Itoa(in.port), nil
	case a.MessageIs(&network.ApplicationProtocolInput{}):
		return in.appProtocol, nil
	case a.MessageIs(&network.FilterStateInput{}):
		var fs network.FilterStateInput
		if err := a.UnmarshalTo(&fs); err == nil && fs.GetKey() == filters.AuthorityFilterStateKey {
			return in.authority, nil
		}
	}
	return "", fmt.Errorf("filter_chain_matcher: input %s (%s) is not evaluated", tree.GetInput().GetName(), a.GetTypeUrl())
}

// matchIP is Envoy's IP matcher: the most specific range containing the address.
func matchIP(m *xdsmatcher.IPMatcher, ip string) (*xdsmatcher.Matcher_OnMatch, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, fmt.Errorf("destination %q is not an IP address", ip)
	}
	var best *xdsmatcher.Matcher_OnMatch
	bits := -1
	for _, rm := range m.GetRangeMatchers() {
		for _, r := range rm.GetRanges() {
			p, err := netip.ParsePrefix(fmt.Sprintf("%s/%d", r.GetAddressPrefix(), r.GetPrefixLen().GetValue()))
			if err != nil {
				return nil, fmt.Errorf("IP matcher range %s/%d: %v", r.GetAddressPrefix(), r.GetPrefixLen().GetValue(), err)
			}
			if p.Contains(addr) && p.Bits() > bits {
				best, bits = rm.GetOnMatch(), p.Bits()
			}
		}
	}
	return best, nil
}

// matchVirtualHost is Envoy's virtual host selection by Host: exact domain, then the longest
// suffix wildcard (*.x), then the longest prefix wildcard (x*), then *.
func matchVirtualHost(rc *route.RouteConfiguration, authority string) *route.VirtualHost {
	hostOnly := authority
	if h, _, found := strings.Cut(authority, ":"); found {
		hostOnly = h
	}
	var best *route.VirtualHost
	rank, length := 0, -1
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			r, l := 0, len(d)
			switch {
			case d == authority || d == hostOnly:
				r = 4
			case strings.HasPrefix(d, "*") && d != "*" && strings.HasSuffix(hostOnly, d[1:]):
				r = 3
			case strings.HasSuffix(d, "*") && d != "*" && strings.HasPrefix(hostOnly, d[:len(d)-1]):
				r = 2
			case d == "*":
				r = 1
			}
			if r > rank || (r == rank && r > 0 && l > length) {
				best, rank, length = vh, r, l
			}
		}
	}
	return best
}

// matchRoute is the first route of the virtual host whose path match takes the path; routes
// with other conditions (headers, query parameters, ...) are not evaluated.
func matchRoute(vh *route.VirtualHost, path string) (*route.Route, error) {
	for _, r := range vh.GetRoutes() {
		m := r.GetMatch()
		if len(m.GetHeaders()) > 0 || len(m.GetQueryParameters()) > 0 || m.GetRuntimeFraction() != nil ||
			len(m.GetDynamicMetadata()) > 0 || m.GetGrpc() != nil || m.GetTlsContext() != nil || len(m.GetFilterState()) > 0 {
			return nil, fmt.Errorf("virtual host %s: route %q has conditions the oracle does not evaluate", vh.GetName(), r.GetName())
		}
		switch ps := m.GetPathSpecifier().(type) {
		case *route.RouteMatch_Prefix:
			if strings.HasPrefix(path, ps.Prefix) {
				return r, nil
			}
		case *route.RouteMatch_Path:
			if path == ps.Path {
				return r, nil
			}
		case *route.RouteMatch_PathSeparatedPrefix:
			if path == ps.PathSeparatedPrefix || strings.HasPrefix(path, ps.PathSeparatedPrefix+"/") {
				return r, nil
			}
		default:
			return nil, fmt.Errorf("virtual host %s: route %q has a path match the oracle does not evaluate (%T)", vh.GetName(), r.GetName(), ps)
		}
	}
	return nil, fmt.Errorf("virtual host %s: no route matches %s", vh.GetName(), path)
}
