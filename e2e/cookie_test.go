package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

func TestBrowserCookieSessions(t *testing.T) {
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), map[string]string{"SWITCHBOARD_ALLOWED_ORIGINS": "https://desk.example.com"})
	harness.Signup(t, s, "ann@example.com", "Ann")
	res, r := s.Post(t, `mutation { login(email: "ann@example.com", password: "correct horse battery", cookie: true) { user { email } } }`, nil, nil)
	r.OK(t)
	cookie := harness.SessionCookie(res)
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Domain != "" {
		t.Fatalf("session cookie = %+v", cookie)
	}
	const me = `{ me { email } }`
	for name, tc := range map[string]struct {
		headers map[string]string
		status  int
	}{
		"CSRFHeaderPasses":       {map[string]string{auth.CSRFHeader: "1"}, http.StatusOK},
		"OwnOriginPasses":        {map[string]string{"Origin": s.URL}, http.StatusOK},
		"AllowedOriginPasses":    {map[string]string{"Origin": "https://desk.example.com"}, http.StatusOK},
		"ErrForeignOrigin":       {map[string]string{"Origin": "https://evil.example.com"}, http.StatusForbidden},
		"ErrNoOriginNoCSRFProof": {nil, http.StatusForbidden},
	} {
		t.Run(name, func(t *testing.T) {
			_, r := s.Post(t, me, tc.headers, cookie)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d (%+v)", r.Status, tc.status, r.Errors)
			}
			if tc.status == http.StatusOK && harness.Str(r.Data, "me", "email") != "ann@example.com" {
				t.Fatalf("cookie did not sign in: %v", r.Data)
			}
			if tc.status == http.StatusForbidden && r.Code(t) != "FORBIDDEN" {
				t.Fatalf("code %s", r.Code(t))
			}
		})
	}
	t.Run("BearerNeedsNoCSRFProof", func(t *testing.T) {
		token := harness.Login(t, s, "ann@example.com", "correct horse battery")
		if _, r := s.Post(t, me, map[string]string{"Authorization": "Bearer " + token, "Origin": "https://evil.example.com"}, nil); r.Status != http.StatusOK {
			t.Fatalf("bearer request refused: %d", r.Status)
		}
	})
	t.Run("LogoutClearsTheCookie", func(t *testing.T) {
		res, r := s.Post(t, `mutation { logout }`, map[string]string{auth.CSRFHeader: "1"}, cookie)
		r.OK(t)
		if c := harness.SessionCookie(res); c == nil || c.MaxAge >= 0 {
			t.Fatalf("logout did not clear the cookie: %+v", res.Header["Set-Cookie"])
		}
		if _, r := s.Post(t, me, map[string]string{auth.CSRFHeader: "1"}, cookie); r.Status != http.StatusUnauthorized {
			t.Fatalf("cookie works after logout: %d", r.Status)
		}
	})
	t.Run("ErrBadAllowedOrigin", func(t *testing.T) {
		code, out := harness.RunCLI(t, map[string]string{"SWITCHBOARD_ALLOWED_ORIGINS": "desk.example.com"}, "", "serve")
		if code != cli.ExitUsage || !strings.Contains(out, "SWITCHBOARD_ALLOWED_ORIGINS") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
}

// TestOriginScheme: the Origin check (websocket upgrades and the CSRF
// check of cookie-authenticated requests) compares scheme, host and port
// with the server's own origin; behind a trusted proxy the scheme is the
// one it reports in X-Forwarded-Proto.
func TestOriginScheme(t *testing.T) {
	// 127.0.0.1 is the proxy; the tests' own requests come from it.
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), map[string]string{"SWITCHBOARD_TRUSTED_PROXIES": "127.0.0.1"})
	harness.Signup(t, s, "ann@example.com", "Ann")
	res, r := s.Post(t, `mutation { login(email: "ann@example.com", password: "correct horse battery", cookie: true) { user { email } } }`, nil, nil)
	r.OK(t)
	cookie := harness.SessionCookie(res)
	host := strings.TrimPrefix(s.URL, "http://")
	upgrade := func(t *testing.T, origin, proto string) int {
		t.Helper()
		h := http.Header{"Origin": {origin}, "Cookie": {cookie.Name + "=" + cookie.Value}}
		if proto != "" {
			h.Set("X-Forwarded-Proto", proto)
		}
		c, res, err := harness.DialWS(t, s, "graphql-transport-ws", h)
		if err == nil {
			c.Conn.Close()
			return http.StatusSwitchingProtocols
		}
		if res == nil {
			t.Fatalf("upgrade: %v", err)
		}
		return res.StatusCode
	}
	post := func(t *testing.T, origin, proto string) int {
		t.Helper()
		h := map[string]string{"Origin": origin}
		if proto != "" {
			h["X-Forwarded-Proto"] = proto
		}
		_, r := s.Post(t, `{ me { email } }`, h, cookie)
		return r.Status
	}
	for _, tc := range []struct {
		name, origin, proto string
		ok                  bool
	}{
		{"OwnOriginPasses", "http://" + host, "", true},
		{"ErrHTTPSOriginOnPlainHTTP", "https://" + host, "", false},
		{"ErrOtherPort", "http://127.0.0.1:1", "", false},
		{"HTTPSOriginBehindTLSProxy", "https://" + host, "https", true},
		{"ErrHTTPOriginBehindTLSProxy", "http://" + host, "https", false},
	} {
		t.Run("Websocket"+tc.name, func(t *testing.T) {
			want := http.StatusForbidden
			if tc.ok {
				want = http.StatusSwitchingProtocols
			}
			if got := upgrade(t, tc.origin, tc.proto); got != want {
				t.Fatalf("upgrade with Origin %s (X-Forwarded-Proto %q): %d, want %d", tc.origin, tc.proto, got, want)
			}
		})
		t.Run("CookiePOST"+tc.name, func(t *testing.T) {
			want := http.StatusForbidden
			if tc.ok {
				want = http.StatusOK
			}
			if got := post(t, tc.origin, tc.proto); got != want {
				t.Fatalf("POST with Origin %s (X-Forwarded-Proto %q): %d, want %d", tc.origin, tc.proto, got, want)
			}
		})
	}
}
