package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// The GraphiQL playground: the page at PlaygroundPath, its files under
// PlaygroundAssets. Everything is embedded, GraphiQL and React included
// (the npm registry's releases, copied unedited into playground/vendor by
// playground/vendor.mjs, with their licences), so that the playground
// works on a machine without internet, and its CSP allows this server
// only.
const (
	PlaygroundPath   = "/"
	PlaygroundAssets = "/playground/"
)

//go:embed playground/index.html playground/playground.js playground/playground.css playground/vendor
var playgroundFiles embed.FS

var (
	playgroundPage   = template.Must(template.ParseFS(playgroundFiles, "playground/index.html"))
	playgroundAssets = loadPlayground()
)

// PlaygroundCSP is the Content-Security-Policy of the playground page:
// scripts, style sheets and connections from and to this server only
// (connect-src 'self' covers the subscriptions' websocket to /query, as
// Chromium and Firefox match ws: and wss: of the page's own host with
// 'self'). Fonts and a few icons are data: URIs inside GraphiQL's style
// sheet, hence data: for them, which names no origin. No 'unsafe-inline':
// the page's script is a file (playground.js), and the one <style>
// element GraphiQL adds (its dialogs lock the scroll bar) carries
// styleNonce, made anew for each response.
func PlaygroundCSP(styleNonce string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-" + styleNonce + "'; " +
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}

// playgroundTypes are the content types of the playground's files, by
// extension; a file of another kind fails at start-up (loadPlayground),
// so that adding one means deciding how it is served. LICENSE files have
// no extension.
var playgroundTypes = map[string]string{
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	"":      "text/plain; charset=utf-8",
}

// loadPlayground reads every embedded file of the playground but the
// page, by its path under PlaygroundAssets.
func loadPlayground() map[string]asset {
	assets := map[string]asset{
		// The wallboard's icon: one file for both pages.
		"favicon.svg": mustAsset("favicon.svg", "image/svg+xml"),
	}
	err := fs.WalkDir(playgroundFiles, "playground", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "playground/index.html" {
			return err
		}
		ct, ok := playgroundTypes[path.Ext(p)]
		if !ok {
			panic("web: no content type for the playground's " + p)
		}
		assets[strings.TrimPrefix(p, "playground/")] = mustAssetOf(playgroundFiles, p, ct)
		return nil
	})
	if err != nil {
		panic("web: reading the playground: " + err.Error())
	}
	return assets
}

// PlaygroundHandler serves the playground page at GET PlaygroundPath,
// with its CSP (PlaygroundCSP, replacing whatever CSP was set before),
// and its files under PlaygroundAssets with Cache-Control: no-cache and
// an ETag, as the wallboard's (see Handler): a release that updates
// GraphiQL keeps the same addresses. The page itself is never stored: it
// holds the nonce of its response.
func PlaygroundHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PlaygroundPath+"{$}", servePlaygroundPage)
	mux.HandleFunc("GET "+PlaygroundAssets+"{name...}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := playgroundAssets[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, r, a)
	})
	return mux
}

func servePlaygroundPage(w http.ResponseWriter, r *http.Request) {
	nonce := rand.Text() // 128 random bits
	var page bytes.Buffer
	if err := playgroundPage.Execute(&page, struct{ StyleNonce string }{nonce}); err != nil {
		http.Error(w, "the playground page failed to render", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", PlaygroundCSP(nonce))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(page.Bytes())
}
