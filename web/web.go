// Package web holds the browser pages the server serves itself, embedded
// in the binary so that a deployment needs no separate static files and
// nothing is loaded from elsewhere: the live wallboard at /wallboard, a
// screen of queue numbers for supervisors that subscribes to the wallboard
// over graphql-transport-ws, and the GraphiQL playground at / (see
// playground.go). The wallboard is plain HTML, CSS and JavaScript with no
// build step and no third-party code; the playground is GraphiQL's npm
// release, copied unedited by playground/vendor.mjs. Both run under a
// strict Content-Security-Policy (internal/httpserver/headers.go,
// PlaygroundCSP).
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"time"
)

// WallboardPath is the page's address; its assets are under WallboardPath + "/".
const WallboardPath = "/wallboard"

//go:embed index.html wallboard.js wallboard.css favicon.svg
var files embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	content     []byte
	contentType string
	etag        string
}

// wallboardAssets are the files served under WallboardPath + "/", by name.
var (
	wallboardPage   = mustAsset("index.html", "text/html; charset=utf-8")
	wallboardAssets = map[string]asset{
		"wallboard.js":  mustAsset("wallboard.js", "text/javascript; charset=utf-8"),
		"wallboard.css": mustAsset("wallboard.css", "text/css; charset=utf-8"),
		// Without an icon of its own the browser asks for /favicon.ico,
		// which is a 404 (and an error in the console).
		"favicon.svg": mustAsset("favicon.svg", "image/svg+xml"),
	}
)

func mustAsset(name, contentType string) asset {
	return mustAssetOf(files, name, contentType)
}

func mustAssetOf(fsys embed.FS, name, contentType string) asset {
	b, err := fsys.ReadFile(name)
	if err != nil {
		panic("web: " + name + " is not embedded: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return asset{content: b, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// Handler serves the wallboard page at GET WallboardPath (and
// WallboardPath + "/") and its script, style sheet and icon under
// WallboardPath + "/". Everything is sent with
// Cache-Control: no-cache and an ETag of its content: the names carry no
// version, so a browser must revalidate (a cheap 304) to never run the
// script of one release against the page of another.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+WallboardPath, func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, wallboardPage)
	})
	mux.HandleFunc("GET "+WallboardPath+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := wallboardAssets[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, r, a)
	})
	// The page with a trailing slash too: the assets' addresses are
	// absolute, so it works the same, and a kiosk configured either way
	// shows the board instead of a 404.
	mux.HandleFunc("GET "+WallboardPath+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, wallboardPage)
	})
	return mux
}

func serve(w http.ResponseWriter, r *http.Request, a asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	// ServeContent answers If-None-Match with 304, and HEAD and ranges;
	// embedded files have no modification time, hence the zero time.
	http.ServeContent(w, r, path.Base(r.URL.Path), time.Time{}, bytes.NewReader(a.content))
}
