package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := clientIPs{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}
	for _, c := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"DirectClientIgnoresForwardedFor", "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"TrustedProxyNamesTheClient", "10.0.0.5:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"SpoofedHopsLeftOfTheClientAreIgnored", "10.0.0.5:5000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"ChainOfTrustedProxies", "127.0.0.1:5000", []string{"198.51.100.7, 10.1.2.3"}, "198.51.100.7"},
		{"SeveralHeaders", "10.0.0.5:5000", []string{"6.6.6.6", "198.51.100.7"}, "198.51.100.7"},
		{"OnlyTrustedHopsMeansTheLastOne", "10.0.0.5:5000", []string{"10.9.9.9"}, "10.9.9.9"},
		{"MalformedHopStopsTrust", "10.0.0.5:5000", []string{"not-an-ip"}, "10.0.0.5"},
		{"NoHeaderFromAProxy", "10.0.0.5:5000", nil, "10.0.0.5"},
		{"IPv6Peer", "[2001:db8::1]:5000", []string{"1.2.3.4"}, "2001:db8::1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.peer
			for _, h := range c.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := trusted.of(r); got != c.want {
				t.Fatalf("client IP = %s, want %s", got, c.want)
			}
		})
	}
	t.Run("NoTrustedProxiesByDefault", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "127.0.0.1:5000"
		r.Header.Set("X-Forwarded-For", "1.2.3.4")
		if got := (clientIPs{}).of(r); got != "127.0.0.1" {
			t.Fatalf("client IP = %s", got)
		}
	})
}

func TestScheme(t *testing.T) {
	ips := clientIPs{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for _, c := range []struct {
		name, peer string
		proto      []string
		tls        bool
		want       string
	}{
		{"PlainHTTP", "203.0.113.9:5000", nil, false, "http"},
		{"TLS", "203.0.113.9:5000", nil, true, "https"},
		{"ErrForwardedProtoFromAnUntrustedPeerIsIgnored", "203.0.113.9:5000", []string{"https"}, false, "http"},
		{"TrustedTLSTerminatingProxy", "10.0.0.5:5000", []string{"https"}, false, "https"},
		{"TrustedPlainProxy", "10.0.0.5:5000", []string{"http"}, false, "http"},
		{"TheNearestProxysValue", "10.0.0.5:5000", []string{"http, HTTPS"}, false, "https"},
		{"ErrUnknownSchemeIsHTTP", "10.0.0.5:5000", []string{"gopher"}, false, "http"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.peer
			for _, h := range c.proto {
				r.Header.Add("X-Forwarded-Proto", h)
			}
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := ips.scheme(r); got != c.want {
				t.Fatalf("scheme = %s, want %s", got, c.want)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	t.Run("ReadyWhenEveryCheckPasses", func(t *testing.T) {
		w := httptest.NewRecorder()
		readiness(map[string]func(context.Context) error{"database": ok, "redis": ok}).ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"ready":true`) {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("UnavailableNamesTheFailedCheck", func(t *testing.T) {
		w := httptest.NewRecorder()
		readiness(map[string]func(context.Context) error{"database": ok, "redis": down}).ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"redis":"unavailable"`) || strings.Contains(w.Body.String(), "refused") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
}
