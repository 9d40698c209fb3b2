package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// testExporter is an exporter to srv with the secret header set, and the
// spans of one ended span to export.
func testExporter(t *testing.T, srv *httptest.Server, timeout string) (*exporter, []sdktrace.ReadOnlySpan) {
	t.Helper()
	cfg, err := readConfig(srv.URL, env{"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20s3cr3t", "OTEL_EXPORTER_OTLP_TIMEOUT": timeout}.get)
	if err != nil {
		t.Fatal(err)
	}
	e := newExporter(*cfg)
	e.backoff = 10 * time.Millisecond
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	rec := tracetest.NewSpanRecorder()
	_, s := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("t").Start(context.Background(), "op")
	s.End()
	return e, rec.Ended()
}

type env map[string]string

func (e env) get(k string) string { return e[k] }

func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestExporterErrors(t *testing.T) {
	t.Run("NoSecretInErrors", func(t *testing.T) {
		var n atomic.Int32
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			http.Error(w, "bad request: missing field", http.StatusBadRequest)
		})
		e, spans := testExporter(t, srv, "")
		err := e.ExportSpans(context.Background(), spans)
		if err == nil || !strings.Contains(err.Error(), "400 Bad Request: bad request: missing field") {
			t.Fatalf("error %v, want the status and the collector's message", err)
		}
		if strings.Contains(err.Error(), "s3cr3t") || n.Load() != 1 {
			t.Fatalf("%d requests; error %v", n.Load(), err)
		}
	})
	t.Run("GivesUpAfterAttempts", func(t *testing.T) {
		var n atomic.Int32
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(http.StatusBadGateway)
		})
		e, spans := testExporter(t, srv, "")
		if err := e.ExportSpans(context.Background(), spans); err == nil || !strings.Contains(err.Error(), "502") {
			t.Fatalf("error %v", err)
		}
		if n.Load() != defaultAttempts {
			t.Fatalf("%d requests, want %d", n.Load(), defaultAttempts)
		}
	})
	t.Run("HonoursRetryAfter", func(t *testing.T) {
		var n atomic.Int32
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			}
		})
		e, spans := testExporter(t, srv, "")
		start := time.Now()
		if err := e.ExportSpans(context.Background(), spans); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Second || n.Load() != 2 {
			t.Fatalf("%d requests in %v, want 2 a second apart", n.Load(), d)
		}
	})
	t.Run("RetryAfterPastTimeout", func(t *testing.T) {
		var n atomic.Int32
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		e, spans := testExporter(t, srv, "2000")
		start := time.Now()
		err := e.ExportSpans(context.Background(), spans)
		if err == nil || !strings.Contains(err.Error(), "no time left") || time.Since(start) > time.Second || n.Load() != 1 {
			t.Fatalf("%d requests in %v: %v; want to give up at once", n.Load(), time.Since(start), err)
		}
	})
	t.Run("PartialSuccess", func(t *testing.T) {
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"partialSuccess":{"rejectedSpans":"1","errorMessage":"too old"}}`))
		})
		e, spans := testExporter(t, srv, "")
		if err := e.ExportSpans(context.Background(), spans); err == nil || !strings.Contains(err.Error(), "rejected 1 spans: too old") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("ShutdownEndsExport", func(t *testing.T) {
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		e, spans := testExporter(t, srv, "")
		done := make(chan error)
		go func() { done <- e.ExportSpans(context.Background(), spans) }()
		time.Sleep(200 * time.Millisecond)
		_ = e.Shutdown(context.Background())
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("the export succeeded")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Shutdown did not end the export")
		}
		if err := e.ExportSpans(context.Background(), spans); err != nil {
			t.Fatalf("export after shutdown: %v", err)
		}
	})
}
