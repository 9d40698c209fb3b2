package requestid_test

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboardhq/switchboard/internal/requestid"
)

// serve runs one request through the middleware and returns the response
// header value and the id the handler saw in its context.
func serve(t *testing.T, req *http.Request) (header, inContext string) {
	t.Helper()
	h := requestid.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inContext = requestid.FromContext(r.Context())
		w.WriteHeader(http.StatusTeapot)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusTeapot {
		t.Fatalf("handler not called: status %d", rec.Code)
	}
	return rec.Header().Get(requestid.Header), inContext
}

func TestMiddleware(t *testing.T) {
	t.Run("HeaderMatchesContext", func(t *testing.T) {
		header, inContext := serve(t, httptest.NewRequest(http.MethodGet, "/graphql", nil))
		if header == "" || header == "-" {
			t.Fatalf("%s header = %q, want an id", requestid.Header, header)
		}
		if inContext != header {
			t.Fatalf("context id %q differs from header %q", inContext, header)
		}
	})
	t.Run("IdsDifferBetweenRequests", func(t *testing.T) {
		seen := make(map[string]bool)
		for i := 0; i < 100; i++ {
			header, _ := serve(t, httptest.NewRequest(http.MethodGet, "/graphql", nil))
			if seen[header] {
				t.Fatalf("id %q given to two requests", header)
			}
			seen[header] = true
		}
	})
	t.Run("ClientIdIsNotTrusted", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
		req.Header.Set(requestid.Header, "forged-id")
		header, inContext := serve(t, req)
		if header == "forged-id" || inContext == "forged-id" {
			t.Fatalf("client id kept: header %q, context %q", header, inContext)
		}
		if header == "" || inContext != header {
			t.Fatalf("header %q, context %q: want the same fresh id", header, inContext)
		}
	})
	t.Run("HeaderSetWhenHandlerWritesNothing", func(t *testing.T) {
		h := requestid.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Header().Get(requestid.Header) == "" {
			t.Fatalf("no %s header", requestid.Header)
		}
	})
	t.Run("KeepsRequestContextValues", func(t *testing.T) {
		type key struct{}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req = req.WithContext(context.WithValue(req.Context(), key{}, "kept"))
		var got any
		h := requestid.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got = r.Context().Value(key{})
		}))
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got != "kept" {
			t.Fatalf("context value lost: %v", got)
		}
	})
}

func TestNew(t *testing.T) {
	t.Run("SafeForLogLines", func(t *testing.T) {
		id := requestid.New()
		if id == "" {
			t.Fatal("New() is empty")
		}
		if _, err := hex.DecodeString(id); err != nil {
			t.Fatalf("New() = %q, want hex: %v", id, err)
		}
	})
}

func TestFromContext(t *testing.T) {
	t.Run("DashWhenMissing", func(t *testing.T) {
		if got := requestid.FromContext(context.Background()); got != "-" {
			t.Fatalf("FromContext(empty) = %q, want \"-\"", got)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := requestid.NewContext(context.Background(), "abc123")
		if got := requestid.FromContext(ctx); got != "abc123" {
			t.Fatalf("FromContext = %q, want abc123", got)
		}
	})
}
