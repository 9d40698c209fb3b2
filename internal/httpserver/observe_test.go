package httpserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/httpserver"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/requestid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
)

// logBuffer collects log output written by several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines are the JSON log records with the message msg.
func (l *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

type observed struct {
	srv     *httptest.Server
	log     *logBuffer
	spans   *tracetest.SpanRecorder
	metrics *metrics.Metrics
}

func newObservedServer(t *testing.T, opts httpserver.Options) *observed {
	t.Helper()
	o := &observed{log: &logBuffer{}, spans: tracetest.NewSpanRecorder(), metrics: metrics.New()}
	client := dbtest.Client(t)
	svc := auth.New(client, auth.Options{SignupEnabled: true, SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: time.Hour,
		LoginFailed: o.metrics.LoginFailed})
	logger := slog.New(slog.NewJSONHandler(o.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.DefaultPageSize, opts.MaxPageSize = 20, 100
	opts.Metrics = o.metrics
	opts.Tracer = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(o.spans))
	h := httpserver.Handler(logger, &graph.Resolver{Client: client, Auth: svc, Tickets: ticketing.New(client, ticketing.Options{})}, opts)
	o.srv = httptest.NewServer(h)
	t.Cleanup(o.srv.Close)
	return o
}

// post sends a GraphQL request and returns the response body and its
// request id.
func (o *observed) post(t *testing.T, token, query string, vars map[string]any) (map[string]any, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, o.srv.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out, res.Header.Get(requestid.Header)
}

func (o *observed) scrape(t *testing.T, header map[string]string) (int, string) {
	t.Helper()
	res, body := get(t, o.srv.URL+"/metrics", header)
	return res.StatusCode, body
}

const (
	password = "correct horse battery staple 42"
	signupOp = `mutation Signup($input: SignupInput!) { signup(input: $input) { token user { id } } }`
	loginOp  = `mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token } }`
	meOp     = `query Me { me { id email } }`
)

func TestObservability(t *testing.T) {
	o := newObservedServer(t, httpserver.Options{ServeMetrics: true})
	data, _ := o.post(t, "", signupOp, map[string]any{"input": map[string]any{"email": "ann@example.com", "name": "Ann", "password": password}})
	token, _ := data["data"].(map[string]any)["signup"].(map[string]any)["token"].(string)
	if token == "" {
		t.Fatalf("signup: %v", data)
	}
	userID := data["data"].(map[string]any)["signup"].(map[string]any)["user"].(map[string]any)["id"].(string)
	if out, _ := o.post(t, "", loginOp, map[string]any{"email": "ann@example.com", "password": "not " + password}); out["errors"] == nil {
		t.Fatalf("a wrong password signed in: %v", out)
	}
	o.post(t, "", loginOp, map[string]any{"email": "ann@example.com", "password": password})
	_, meID := o.post(t, token, meOp, nil)
	// The same over GET, where the variables are in the URL (refused:
	// mutations need POST, but the URL reaches the access log's code).
	getURL := o.srv.URL + "/query?" + url.Values{"query": {loginOp}, "variables": {`{"email":"ann@example.com","password":"` + password + `"}`}}.Encode()
	get(t, getURL, nil)

	t.Run("SecretsNeverLogged", func(t *testing.T) {
		logs := o.log.String()
		for what, secret := range map[string]string{"password": password, "bearer token": token} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log holds the %s:\n%s", what, logs)
			}
		}
	})
	t.Run("AccessLogLinePerRequest", func(t *testing.T) {
		for _, rec := range o.log.lines(t, "http request") {
			if rec["request_id"] != meID {
				continue
			}
			if rec["route"] != "/query" || rec["method"] != "POST" || rec["status"] != float64(200) || rec["operation"] != "Me" || rec["outcome"] != "ok" || rec["viewer_id"] != userID {
				t.Fatalf("access log line of the Me query: %v", rec)
			}
			if _, ok := rec["duration_ms"].(float64); !ok {
				t.Fatalf("no duration_ms: %v", rec)
			}
			return
		}
		t.Fatalf("no access log line with request id %s:\n%s", meID, o.log)
	})
	t.Run("OperationOutcomeInAccessLog", func(t *testing.T) {
		var outcomes []string
		for _, rec := range o.log.lines(t, "http request") {
			if rec["operation"] == "Login" {
				outcomes = append(outcomes, rec["outcome"].(string))
			}
		}
		if strings.Join(outcomes, ",") != "UNAUTHENTICATED,ok" {
			t.Fatalf("Login outcomes logged: %v", outcomes)
		}
		if lines := o.log.lines(t, "graphql operation"); len(lines) != 0 {
			t.Fatalf("operations over HTTP logged twice: %v", lines)
		}
	})
	t.Run("SpansNamedByOperation", func(t *testing.T) {
		var httpSpan, opSpan sdktrace.ReadOnlySpan
		for _, s := range o.spans.Ended() {
			switch s.Name() {
			case "graphql query Me":
				opSpan = s
			case "POST /query":
				if opSpan != nil && httpSpan == nil && s.SpanContext().TraceID() == opSpan.SpanContext().TraceID() {
					httpSpan = s
				}
			}
		}
		if opSpan == nil {
			t.Fatalf("no span of the Me query among %d", len(o.spans.Ended()))
		}
		if httpSpan == nil || opSpan.Parent().SpanID() != httpSpan.SpanContext().SpanID() {
			t.Fatal("the operation's span is not a child of its request's span")
		}
		attrs := map[string]string{}
		for _, kv := range opSpan.Attributes() {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		if attrs["graphql.operation.name"] != "Me" || attrs["graphql.operation.type"] != "query" || attrs["graphql.outcome"] != "ok" {
			t.Fatalf("span attributes: %v", attrs)
		}
	})
	t.Run("IncomingTraceContextIsTheParent", func(t *testing.T) {
		const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
		res, _ := get(t, o.srv.URL+"/healthz", map[string]string{"traceparent": "00-" + traceID + "-" + parentID + "-01"})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/healthz: %d", res.StatusCode)
		}
		for _, s := range o.spans.Ended() {
			if s.Name() == "GET /healthz" && s.SpanContext().TraceID().String() == traceID {
				if got := s.Parent().SpanID().String(); got != parentID || !s.Parent().IsRemote() {
					t.Fatalf("the request's span has parent %s (remote %v), want the caller's %s", got, s.Parent().IsRemote(), parentID)
				}
				return
			}
		}
		t.Fatal("no span of the request in the caller's trace")
	})
	t.Run("MetricsCountRequestsAndOperations", func(t *testing.T) {
		status, body := o.scrape(t, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /metrics: %d", status)
		}
		for _, want := range []string{
			`switchboard_graphql_operations_total{operation="Login",outcome="UNAUTHENTICATED",type="mutation"} 1`,
			`switchboard_graphql_operations_total{operation="Login",outcome="ok",type="mutation"} 1`,
			`switchboard_graphql_operations_total{operation="Me",outcome="ok",type="query"} 1`,
			`switchboard_graphql_operation_duration_seconds_count{operation="Me",type="query"} 1`,
			`switchboard_http_requests_total{method="POST",route="/query",status="2xx"} 4`,
			`switchboard_http_requests_total{method="GET",route="/query",status="4xx"} 1`,
			`switchboard_login_failures_total{reason="invalid_credentials"} 1`,
			`switchboard_http_requests_in_flight 1`, // the scrape itself
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if t.Failed() {
			t.Logf("/metrics:\n%s", grepLines(body, "switchboard_"))
		}
	})
	t.Run("HealthzAnswersWithoutDependencies", func(t *testing.T) {
		res, body := get(t, o.srv.URL+"/healthz", nil)
		if res.StatusCode != http.StatusOK || body != "ok\n" {
			t.Fatalf("/healthz: %d %q", res.StatusCode, body)
		}
	})
}

func TestMetricsEndpoint(t *testing.T) {
	t.Run("TokenRequiredWhenSet", func(t *testing.T) {
		o := newObservedServer(t, httpserver.Options{ServeMetrics: true, MetricsToken: "s3cret"})
		if status, _ := o.scrape(t, nil); status != http.StatusUnauthorized {
			t.Fatalf("without the token: %d", status)
		}
		if status, _ := o.scrape(t, map[string]string{"Authorization": "Bearer wrong"}); status != http.StatusUnauthorized {
			t.Fatalf("with a wrong token: %d", status)
		}
		if status, body := o.scrape(t, map[string]string{"Authorization": "Bearer s3cret"}); status != http.StatusOK || !strings.Contains(body, "go_goroutines") {
			t.Fatalf("with the token: %d", status)
		}
	})
	t.Run("ErrWithoutTheTokenIsAnHTTPError", func(t *testing.T) {
		// Refused as every HTTP error is (writeError): the status of
		// UNAUTHENTICATED, a JSON error body, WWW-Authenticate.
		h := httpserver.MetricsHandler(metrics.New(), "s3cret")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" ||
			!strings.Contains(rec.Body.String(), `"code":"UNAUTHENTICATED"`) || !strings.Contains(rec.Body.String(), "SWITCHBOARD_METRICS_TOKEN") {
			t.Fatalf("%d %q %s", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body)
		}
	})
	t.Run("NotOnTheMainListenerWhenServedApart", func(t *testing.T) {
		o := newObservedServer(t, httpserver.Options{ServeMetrics: false})
		if status, _ := o.scrape(t, nil); status != http.StatusNotFound {
			t.Fatalf("GET /metrics: %d", status)
		}
	})
	t.Run("UnknownPathsShareOneLabel", func(t *testing.T) {
		o := newObservedServer(t, httpserver.Options{ServeMetrics: true})
		for _, p := range []string{"/a", "/b", "/c/d"} {
			res, _ := get(t, o.srv.URL+p, nil)
			io.Copy(io.Discard, res.Body)
		}
		_, body := o.scrape(t, nil)
		if !strings.Contains(body, `switchboard_http_requests_total{method="GET",route="other",status="4xx"} 3`) {
			t.Fatalf("/metrics:\n%s", grepLines(body, "switchboard_http_requests_total"))
		}
	})
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
