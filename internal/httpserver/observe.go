package httpserver

import (
	"bufio"
	"context"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/requestid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// This file is the server's observability: one access log line, one span
// and the HTTP metrics per request, and one span and the operation metrics
// per GraphQL operation. An operation over HTTP is told in its request's
// access log line (operation, outcome, viewer id); one over a websocket,
// which outlives its upgrade request, gets a log line of its own. Logs
// carry the request id, route, operation name, viewer id and latency,
// never the query string, variables, headers or bodies (which hold
// passwords and tokens).

// tracerName names the spans' instrumentation scope.
const tracerName = "github.com/switchboardhq/switchboard/internal/httpserver"

// requestNote is what the GraphQL layer tells the access log of its
// request: the operation and the viewer (known only after authentication).
type requestNote struct {
	operation string
	outcome   string
	viewerID  string
}

type requestNoteKey struct{}

func noteFrom(ctx context.Context) *requestNote {
	n, _ := ctx.Value(requestNoteKey{}).(*requestNote)
	return n
}

// observe wraps the whole handler: access log, HTTP span and metrics.
func observe(log *slog.Logger, m *metrics.Metrics, tp trace.TracerProvider, next http.Handler) http.Handler {
	tracer := tp.Tracer(tracerName)
	propagator := propagation.TraceContext{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := metrics.RouteOf(r.URL.Path)
		var done func(string, string, int, time.Duration)
		if m != nil {
			done = m.HTTPStarted()
		}
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, r.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", route)))
		note := &requestNote{}
		if !isWebsocket(r) {
			// A websocket's operations run after this request is over,
			// each logged on its own.
			ctx = context.WithValue(ctx, requestNoteKey{}, note)
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		elapsed := time.Since(start)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if note.operation != "" {
			span.SetAttributes(attribute.String("graphql.operation.name", note.operation))
		}
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
		if done != nil {
			done(route, r.Method, status, elapsed)
		}
		level := slog.LevelInfo
		if route == "/healthz" || route == "/readyz" || route == "/metrics" {
			// Probes and scrapes come every few seconds.
			level = slog.LevelDebug
		}
		if status >= 500 {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestid.FromContext(ctx)),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		}
		if note.viewerID != "" {
			attrs = append(attrs, slog.String("viewer_id", note.viewerID))
		}
		if note.operation != "" {
			attrs = append(attrs, slog.String("operation", note.operation), slog.String("outcome", note.outcome))
		}
		log.LogAttrs(ctx, level, "http request", attrs...)
	})
}

// statusRecorder remembers the status written; websocket upgrades count
// as 101 once hijacked.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

func (w *statusRecorder) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// operationObserver is the GraphQL side: a span, metrics and a log line
// per operation (over HTTP or a websocket).
type operationObserver struct {
	log     *slog.Logger
	metrics *metrics.Metrics
	tracer  trace.Tracer
}

var (
	_ graphql.HandlerExtension     = operationObserver{}
	_ graphql.OperationInterceptor = operationObserver{}
)

func newOperationObserver(log *slog.Logger, m *metrics.Metrics, tp trace.TracerProvider) operationObserver {
	return operationObserver{log: log, metrics: m, tracer: tp.Tracer(tracerName)}
}

func (operationObserver) ExtensionName() string                   { return "Observe" }
func (operationObserver) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation observes queries and mutations at their response,
// and subscriptions when they start (their responses are their events).
func (o operationObserver) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	name, opType := oc.OperationName, "unknown"
	if oc.Operation != nil {
		opType = string(oc.Operation.Operation)
		if name == "" {
			name = oc.Operation.Name
		}
	}
	start := oc.Stats.OperationStart
	if start.IsZero() {
		start = time.Now()
	}
	viewerID := ""
	if v := viewer.FromContext(ctx); v != nil {
		viewerID = string(v.UserID)
	}
	note := noteFrom(ctx)
	if note != nil {
		note.operation, note.viewerID = name, viewerID
	}
	spanName := "graphql " + opType
	if name != "" {
		spanName += " " + name
	}
	ctx, span := o.tracer.Start(ctx, spanName, trace.WithAttributes(
		attribute.String("graphql.operation.name", name),
		attribute.String("graphql.operation.type", opType)))
	respond := next(ctx)
	if opType == "subscription" {
		span.End()
		o.finish(ctx, note, name, opType, "subscribed", viewerID, time.Since(start))
		return respond
	}
	first := true
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		if !first {
			return resp
		}
		first = false
		outcome := "ok"
		if resp != nil && len(resp.Errors) > 0 {
			outcome = errorCode(resp.Errors[0].Extensions)
			span.SetStatus(codes.Error, outcome)
		}
		span.SetAttributes(attribute.String("graphql.outcome", outcome))
		span.End()
		o.finish(ctx, note, name, opType, outcome, viewerID, time.Since(start))
		return resp
	}
}

func (o operationObserver) finish(ctx context.Context, note *requestNote, name, opType, outcome, viewerID string, elapsed time.Duration) {
	if o.metrics != nil {
		o.metrics.Operation(name, opType, outcome, elapsed)
	}
	if note != nil {
		// Over HTTP: the access log line tells it.
		note.outcome = outcome
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", requestid.FromContext(ctx)),
		slog.String("operation", name),
		slog.String("type", opType),
		slog.String("outcome", outcome),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
	}
	if viewerID != "" {
		attrs = append(attrs, slog.String("viewer_id", viewerID))
	}
	o.log.LogAttrs(ctx, slog.LevelInfo, "graphql operation", attrs...)
}

// errorCode is the extensions.code of an error, bounded to what looks
// like a code (A-Z and _), else "error".
func errorCode(ext map[string]any) string {
	code, _ := ext["code"].(string)
	if code == "" || len(code) > 40 {
		return "error"
	}
	for _, c := range code {
		if (c < 'A' || c > 'Z') && c != '_' {
			return "error"
		}
	}
	return code
}

// noopTracer is the tracer provider when tracing is off.
func noopTracer() trace.TracerProvider { return noop.NewTracerProvider() }

// MetricsHandler serves m at /metrics, on the main listener or on one of
// its own (SWITCHBOARD_METRICS_ADDR). With a non-empty token, requests must
// carry "Authorization: Bearer <token>"; others are refused as every HTTP
// error is, through writeError (401, UNAUTHENTICATED).
func MetricsHandler(m *metrics.Metrics, token string) http.Handler {
	h := m.Handler()
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// In constant time: how much of a guess matched must not show.
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeError(w, apierr.Errorf(apierr.Unauthenticated, "metrics need the bearer token of SWITCHBOARD_METRICS_TOKEN"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
