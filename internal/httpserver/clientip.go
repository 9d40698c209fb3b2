package httpserver

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIPs tells the address of the client behind a request. Behind
// reverse proxies every request comes from a proxy, so X-Forwarded-For is
// read, but only as far as trusted proxies wrote it: from the right, each
// hop added by a trusted proxy is skipped, and the first address that is
// not a trusted proxy is the client. Anyone can send X-Forwarded-For, so
// from an untrusted peer it is ignored.
type clientIPs struct{ trusted []netip.Prefix }

func (c clientIPs) of(r *http.Request) string {
	peer, addr, trusted := c.peer(r)
	if !trusted {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	var list []string
	for _, h := range hops {
		list = append(list, strings.Split(h, ",")...)
	}
	for i := len(list) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(list[i]))
		if err != nil {
			// A malformed hop: trust stops here.
			return addr.Unmap().String()
		}
		if !c.isTrusted(hop) {
			return hop.Unmap().String()
		}
		addr = hop
	}
	return addr.Unmap().String()
}

// peer is the TCP peer of r, and whether it is a trusted proxy.
func (c clientIPs) peer(r *http.Request) (string, netip.Addr, bool) {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	addr, err := netip.ParseAddr(peer)
	return peer, addr, err == nil && c.isTrusted(addr)
}

// scheme is the scheme clients reach the server by, for the Origin
// check: https over TLS; from a trusted proxy, the X-Forwarded-Proto it
// set (the last value: the nearest proxy's); otherwise http. From anyone
// else the header is ignored.
func (c clientIPs) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if _, _, trusted := c.peer(r); trusted {
		values := strings.Split(strings.Join(r.Header.Values("X-Forwarded-Proto"), ","), ",")
		if proto := strings.ToLower(strings.TrimSpace(values[len(values)-1])); proto == "https" || proto == "http" {
			return proto
		}
	}
	return "http"
}

func (c clientIPs) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
