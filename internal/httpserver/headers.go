package httpserver

import (
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard/web"
)

// apiCSP is the Content-Security-Policy of everything but the pages: API
// responses are data, never documents to render or frame. The playground
// page replaces it with its own (web.PlaygroundCSP), which holds a nonce
// made for each response.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// wallboardCSP lets the wallboard page (package web) run its own script
// and style sheet and nothing else, and talk to this server only.
// connect-src 'self' covers the page's websocket to /query: in CSP Level 3
// 'self' also matches ws: and wss: on the page's own host and port, as
// Chromium and Firefox implement (wallboard_page_test.go checks Chromium).
const wallboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// hstsHeader keeps browsers on HTTPS for a year, as browsers' preload lists expect.
const hstsHeader = "max-age=31536000; includeSubDomains"

// securityHeaders sets the headers that keep browsers from sniffing,
// framing or leaking: a CSP (the wallboard's allows its own script; the
// playground's page sets its own), nosniff, no referrer, and HSTS on TLS
// connections.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		csp := apiCSP
		if p := r.URL.Path; p == web.WallboardPath || strings.HasPrefix(p, web.WallboardPath+"/") {
			csp = wallboardCSP
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", hstsHeader)
		}
		next.ServeHTTP(w, r)
	})
}
