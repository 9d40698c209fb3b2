package web_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/web"
)

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// TestHandler: the page and everything it links to are served, with their
// types; nothing else is.
func TestHandler(t *testing.T) {
	h := web.Handler()
	page := get(t, h, web.WallboardPath)
	if page.Code != http.StatusOK || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	t.Run("EveryLinkedFileIsServed", func(t *testing.T) {
		links := regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(page.Body.String(), -1)
		if len(links) < 2 {
			t.Fatalf("the page links %d files; want its script and style sheet at least", len(links))
		}
		for _, l := range links {
			if rec := get(t, h, l[1]); rec.Code != http.StatusOK || rec.Body.Len() == 0 {
				t.Errorf("%s: %d", l[1], rec.Code)
			}
		}
	})
	t.Run("ScriptIsJavaScript", func(t *testing.T) {
		if ct := get(t, h, web.WallboardPath+"/wallboard.js").Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Fatalf("content type %q", ct)
		}
	})
	t.Run("ErrUnknownFile", func(t *testing.T) {
		if rec := get(t, h, web.WallboardPath+"/web.go"); rec.Code != http.StatusNotFound {
			t.Fatalf("%d", rec.Code)
		}
	})
}
