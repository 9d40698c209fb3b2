package httpserver_test

import (
	"net/http"
	"strings"
	"testing"
)

const (
	wantWallboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	wantAPICSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

// TestWallboardPage checks how the wallboard page and its assets are
// served: with their own CSP and the usual headers, in production mode
// too (no playground), while the API keeps its document-less CSP. The
// page itself is driven in a browser by wallboard_page_test.go.
func TestWallboardPage(t *testing.T) {
	srv := newServer(t, false) // production mode: the playground is off

	t.Run("Page", func(t *testing.T) {
		res, body := get(t, srv.URL+"/wallboard", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /wallboard: %d", res.StatusCode)
		}
		h := res.Header
		for name, want := range map[string]string{
			"Content-Type":            "text/html; charset=utf-8",
			"Content-Security-Policy": wantWallboardCSP,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Cache-Control":           "no-cache",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		for _, want := range []string{`src="/wallboard/wallboard.js"`, `href="/wallboard/wallboard.css"`, `data-field="breached"`, `data-field="waiting"`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		// The CSP forbids inline code: the page must not have any.
		for _, inline := range []string{"<script>", "<style", " style=", "onload=", "onclick="} {
			if strings.Contains(body, inline) {
				t.Errorf("page has inline code %q, which its CSP blocks", inline)
			}
		}
	})

	t.Run("Assets", func(t *testing.T) {
		for path, contentType := range map[string]string{
			"/wallboard/wallboard.js":  "text/javascript; charset=utf-8",
			"/wallboard/wallboard.css": "text/css; charset=utf-8",
			"/wallboard/favicon.svg":   "image/svg+xml",
		} {
			res, body := get(t, srv.URL+path, nil)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != contentType || body == "" {
				t.Fatalf("GET %s: %d %q (%d bytes), want 200 %q", path, res.StatusCode, res.Header.Get("Content-Type"), len(body), contentType)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Security-Policy") != wantWallboardCSP {
				t.Fatalf("GET %s headers: %v", path, res.Header)
			}
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatalf("GET %s: no ETag", path)
			}
			again, _ := get(t, srv.URL+path, map[string]string{"If-None-Match": etag})
			if again.StatusCode != http.StatusNotModified {
				t.Fatalf("GET %s with If-None-Match: %d, want 304", path, again.StatusCode)
			}
		}
	})

	t.Run("ErrUnknownAsset", func(t *testing.T) {
		for _, path := range []string{"/wallboard/index.html", "/wallboard/web.go", "/wallboard/nope.js", "/wallboard/a/b"} {
			if res, _ := get(t, srv.URL+path, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
			}
		}
	})

	t.Run("TrailingSlash", func(t *testing.T) {
		res, body := get(t, srv.URL+"/wallboard/?group=abc", nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-field="waiting"`) || res.Header.Get("Content-Security-Policy") != wantWallboardCSP {
			t.Fatalf("GET /wallboard/: %d %v", res.StatusCode, res.Header)
		}
	})

	t.Run("APIKeepsItsCSP", func(t *testing.T) {
		_, _, res := send(t, "POST", srv.URL+"/query", "application/json", `{"query":"{ __typename }"}`, nil)
		if got := res.Header.Get("Content-Security-Policy"); got != wantAPICSP {
			t.Fatalf("/query CSP = %q, want %q", got, wantAPICSP)
		}
		for _, path := range []string{"/healthz", "/wallboardx", "/readyz"} {
			res, _ := get(t, srv.URL+path, nil)
			if got := res.Header.Get("Content-Security-Policy"); got != wantAPICSP {
				t.Errorf("%s CSP = %q, want %q", path, got, wantAPICSP)
			}
		}
	})
}
