package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/switchboardhq/switchboard/internal/tracing"
)

// collector is a fake OTLP/HTTP endpoint that records the paths posted to.
type collector struct {
	mu    sync.Mutex
	posts []string
	srv   *httptest.Server
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.posts = append(c.posts, r.Method+" "+r.URL.Path)
		c.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) received() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.posts...)
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func exportOneSpan(t *testing.T, tr *tracing.Tracing) {
	t.Helper()
	_, span := tr.Provider.Tracer("test").Start(context.Background(), "op")
	span.End()
	if err := tr.Shutdown(context.Background(), 5*time.Second); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestTracing(t *testing.T) {
	t.Run("OffWithoutConfiguration", func(t *testing.T) {
		tr, err := tracing.Start(context.Background(), "", env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if tr.Enabled {
			t.Fatal("tracing is on without an endpoint")
		}
		if _, ok := tr.Provider.(noop.TracerProvider); !ok {
			t.Fatalf("provider is %T, want the no-op one (no exporter)", tr.Provider)
		}
		exportOneSpan(t, tr)
	})
	t.Run("ExportsToSwitchboardEndpoint", func(t *testing.T) {
		c := newCollector(t)
		tr, err := tracing.Start(context.Background(), c.srv.URL, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if !tr.Enabled {
			t.Fatal("tracing is off with SWITCHBOARD_OTLP_ENDPOINT set")
		}
		exportOneSpan(t, tr)
		if got := c.received(); len(got) == 0 || got[0] != "POST /v1/traces" {
			t.Fatalf("collector received %v, want POST /v1/traces", got)
		}
	})
	t.Run("ExportsToStandardEndpoint", func(t *testing.T) {
		c := newCollector(t)
		// The exporter reads the standard variable from the process
		// environment itself.
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", c.srv.URL)
		tr, err := tracing.Start(context.Background(), "", env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": c.srv.URL}))
		if err != nil {
			t.Fatal(err)
		}
		exportOneSpan(t, tr)
		if got := c.received(); len(got) == 0 || got[0] != "POST /v1/traces" {
			t.Fatalf("collector received %v, want POST /v1/traces", got)
		}
	})
}
