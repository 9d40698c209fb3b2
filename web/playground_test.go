package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/web"
)

// TestPlaygroundHandler: the page and every file it links to come from
// the binary, each with its type, and the page's CSP lets it load from
// and talk to this server only.
func TestPlaygroundHandler(t *testing.T) {
	h := web.PlaygroundHandler()
	page := get(t, h, web.PlaygroundPath)
	if page.Code != http.StatusOK || page.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	body := page.Body.String()
	csp := page.Header().Get("Content-Security-Policy")

	wantTypes := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
		".svg": "image/svg+xml",
		"":     "text/plain; charset=utf-8", // the LICENSE files
	}
	t.Run("EveryLinkedFileIsServedWithItsType", func(t *testing.T) {
		links := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1)
		var licences, scripts int
		for _, l := range links {
			u := l[1]
			if !strings.HasPrefix(u, web.PlaygroundAssets) {
				t.Errorf("the page links %s, outside %s", u, web.PlaygroundAssets)
				continue
			}
			rec := get(t, h, u)
			want, ok := wantTypes[path.Ext(u)]
			if rec.Code != http.StatusOK || rec.Body.Len() == 0 || !ok || rec.Header().Get("Content-Type") != want {
				t.Errorf("%s: %d, %q (want %q)", u, rec.Code, rec.Header().Get("Content-Type"), want)
			}
			if path.Base(u) == "LICENSE" {
				licences++
			}
			if path.Ext(u) == ".js" {
				scripts++
			}
		}
		if licences != 3 || scripts != 4 {
			t.Fatalf("the page links %d licences and %d scripts; want 3 (GraphiQL, React, ReactDOM) and 4 (those and playground.js)", licences, scripts)
		}
	})
	t.Run("NoInlineScript", func(t *testing.T) {
		for _, s := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(s, ` src="`) {
				t.Fatalf("inline script %s: the CSP allows script files only", s)
			}
		}
	})
	t.Run("CSPAllowsThisServerOnly", func(t *testing.T) {
		for _, bad := range []string{"http:", "https:", "ws:", "wss:", "*", "'unsafe-inline'", "'unsafe-eval'", "blob:"} {
			if strings.Contains(csp, bad) {
				t.Errorf("CSP allows %s: %q", bad, csp)
			}
		}
		directives := map[string]string{}
		for _, d := range strings.Split(csp, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		for name, want := range map[string]string{
			"default-src": "'none'", "script-src": "'self'", "connect-src": "'self'",
			"img-src": "'self' data:", "font-src": "'self' data:", "frame-ancestors": "'none'",
			"base-uri": "'none'", "form-action": "'none'",
		} {
			if directives[name] != want {
				t.Errorf("%s is %q, want %q (CSP %q)", name, directives[name], want, csp)
			}
		}
		if !regexp.MustCompile(`^'self' 'nonce-[A-Z2-7]{26}'$`).MatchString(directives["style-src"]) {
			t.Errorf("style-src is %q, want 'self' and a nonce", directives["style-src"])
		}
	})
	t.Run("NonceIsTheResponsesOwn", func(t *testing.T) {
		nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)
		if nonce == nil || !strings.Contains(body, `<script src="/playground/playground.js" nonce="`+nonce[1]+`">`) {
			t.Fatalf("the page does not hand playground.js the CSP's nonce %v", nonce)
		}
		again := get(t, h, web.PlaygroundPath)
		if again.Header().Get("Content-Security-Policy") == csp {
			t.Fatal("two responses share a nonce")
		}
		if cc := page.Header().Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("the page, which holds its nonce, is sent with Cache-Control %q", cc)
		}
	})
	t.Run("AssetsRevalidate", func(t *testing.T) {
		rec := get(t, h, web.PlaygroundAssets+"vendor/graphiql/graphiql.min.js")
		etag := rec.Header().Get("ETag")
		req := httptest.NewRequest(http.MethodGet, web.PlaygroundAssets+"vendor/graphiql/graphiql.min.js", nil)
		req.Header.Set("If-None-Match", etag)
		again := httptest.NewRecorder()
		h.ServeHTTP(again, req)
		if rec.Header().Get("Cache-Control") != "no-cache" || etag == "" || again.Code != http.StatusNotModified {
			t.Fatalf("graphiql.min.js: Cache-Control %q, ETag %q", rec.Header().Get("Cache-Control"), etag)
		}
	})
	t.Run("ErrUnknownFile", func(t *testing.T) {
		for _, p := range []string{web.PlaygroundAssets + "index.html", web.PlaygroundAssets + "vendor.mjs", web.PlaygroundAssets + "package.json", "/nope"} {
			if rec := get(t, h, p); rec.Code != http.StatusNotFound {
				t.Errorf("%s: %d", p, rec.Code)
			}
		}
	})
}

// TestPlaygroundVendorIsTheRelease: the embedded GraphiQL and React files
// are the ones vendor.mjs copied from the versions package.json pins,
// unedited (their SHA-256 in vendor/manifest.json), and the binary serves
// exactly those. .ci/run checks that the manifest itself is what npm ci
// and vendor.mjs make from the lockfile; this test needs no npm.
func TestPlaygroundVendorIsTheRelease(t *testing.T) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	readJSON(t, "playground/package.json", &pkg)
	var manifest struct {
		Packages map[string]struct {
			Version string            `json:"version"`
			License string            `json:"license"`
			Files   map[string]string `json:"files"`
		} `json:"packages"`
	}
	readJSON(t, "playground/vendor/manifest.json", &manifest)
	if len(manifest.Packages) != len(pkg.Dependencies) {
		t.Fatalf("manifest has %d packages, package.json %d", len(manifest.Packages), len(pkg.Dependencies))
	}
	h := web.PlaygroundHandler()
	for name, p := range manifest.Packages {
		if p.Version != pkg.Dependencies[name] {
			t.Errorf("%s: vendor/ has %s, package.json pins %s: run `npm ci --ignore-scripts && npm run vendor` in web/playground", name, p.Version, pkg.Dependencies[name])
		}
		if _, ok := p.Files["LICENSE"]; !ok || p.License == "" {
			t.Errorf("%s: no LICENSE in vendor/", name)
		}
		for file, sum := range p.Files {
			rec := get(t, h, web.PlaygroundAssets+"vendor/"+name+"/"+file)
			got := sha256.Sum256(rec.Body.Bytes())
			if rec.Code != http.StatusOK || hex.EncodeToString(got[:]) != sum {
				t.Errorf("%s/%s: served %d, SHA-256 %x, the manifest says %s (edited by hand?)", name, file, rec.Code, got, sum)
			}
		}
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
