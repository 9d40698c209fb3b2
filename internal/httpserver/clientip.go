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
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !c.isTrusted(addr) {
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

func (c clientIPs) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
