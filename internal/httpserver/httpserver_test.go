package httpserver_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/httpserver"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
)

func newServer(t *testing.T, playground bool) *httptest.Server {
	return newServerWith(t, httpserver.Options{Playground: playground, MaxBodyBytes: 1024})
}

func newResolver(t *testing.T) *graph.Resolver {
	client := dbtest.Client(t)
	svc := auth.New(client, auth.Options{SignupEnabled: true, SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: time.Hour})
	return &graph.Resolver{Client: client, Auth: svc, Tickets: ticketing.New(client, ticketing.Options{})}
}

func newServerWith(t *testing.T, opts httpserver.Options) *httptest.Server {
	opts.DefaultPageSize, opts.MaxPageSize = 20, 100
	h := httpserver.Handler(slog.New(slog.NewTextHandler(io.Discard, nil)), newResolver(t), opts)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestHandler(t *testing.T) {
	srv := newServer(t, true)
	t.Run("Healthz", func(t *testing.T) {
		res, body := get(t, srv.URL+"/healthz", nil)
		if res.StatusCode != http.StatusOK || body != "ok\n" || res.Header.Get("X-Request-Id") == "" {
			t.Fatalf("healthz: %d %q", res.StatusCode, body)
		}
	})
	t.Run("PlaygroundAtRoot", func(t *testing.T) {
		res, body := get(t, srv.URL+"/", nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "/playground/vendor/graphiql/graphiql.min.js") {
			t.Fatalf("playground: %d", res.StatusCode)
		}
		// Its files come from the binary (package web tests each one).
		if res, body := get(t, srv.URL+"/playground/playground.js", nil); res.StatusCode != http.StatusOK || !strings.Contains(body, "/query") {
			t.Fatalf("playground.js: %d", res.StatusCode)
		}
		if res, _ := get(t, srv.URL+"/nope", nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown path: %d", res.StatusCode)
		}
	})
	t.Run("QueryOverGET", func(t *testing.T) {
		res, body := get(t, srv.URL+"/query?query=%7B__typename%7D", nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `"Query"`) {
			t.Fatalf("GET query: %d %s", res.StatusCode, body)
		}
	})
	t.Run("ErrMalformedAuthorization", func(t *testing.T) {
		res, body := get(t, srv.URL+"/query?query=%7B__typename%7D", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "UNAUTHENTICATED") || res.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("basic auth: %d %s", res.StatusCode, body)
		}
	})
	t.Run("ErrUnknownToken", func(t *testing.T) {
		res, body := get(t, srv.URL+"/query?query=%7B__typename%7D", map[string]string{"Authorization": "Bearer sbs_nope"})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "invalid or expired token") {
			t.Fatalf("unknown token: %d %s", res.StatusCode, body)
		}
	})
	t.Run("ErrChunkedBodyTooLarge", func(t *testing.T) {
		body := io.MultiReader(strings.NewReader(`{"query":"{ __typename }","variables":{"x":"`), strings.NewReader(strings.Repeat("a", 4096)), strings.NewReader(`"}}`))
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", body)
		req.Header.Set("Content-Type", "application/json")
		if req.ContentLength != 0 {
			t.Fatal("the request must not declare its length")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked oversized body: %d", res.StatusCode)
		}
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		body := `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", 2048) + `"}}`
		res, err := http.Post(srv.URL+"/query", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "PAYLOAD_TOO_LARGE") {
			t.Fatalf("oversized body: %d %s", res.StatusCode, b)
		}
	})
}

func TestPlaygroundCanBeTurnedOff(t *testing.T) {
	srv := newServer(t, false)
	for _, p := range []string{"/", "/playground/playground.js", "/playground/vendor/graphiql/graphiql.min.js"} {
		if res, _ := get(t, srv.URL+p, nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("playground off but %s answered %d", p, res.StatusCode)
		}
	}
}
