package tracing_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/switchboardhq/switchboard/internal/tracing"
)

// The OTLP/JSON schema of an ExportTraceServiceRequest, written out from
// the specification rather than shared with the exporter: 64-bit integers
// are strings, IDs hex, enums numbers. The collector decodes with
// DisallowUnknownFields, so a misspelt field fails the test.
type (
	exportRequest struct {
		ResourceSpans []struct {
			Resource struct {
				Attributes             []keyValue `json:"attributes"`
				DroppedAttributesCount uint32     `json:"droppedAttributesCount"`
			} `json:"resource"`
			ScopeSpans []struct {
				Scope struct {
					Name       string     `json:"name"`
					Version    string     `json:"version"`
					Attributes []keyValue `json:"attributes"`
				} `json:"scope"`
				Spans     []span `json:"spans"`
				SchemaURL string `json:"schemaUrl"`
			} `json:"scopeSpans"`
			SchemaURL string `json:"schemaUrl"`
		} `json:"resourceSpans"`
	}
	span struct {
		TraceID                string     `json:"traceId"`
		SpanID                 string     `json:"spanId"`
		TraceState             string     `json:"traceState"`
		ParentSpanID           string     `json:"parentSpanId"`
		Flags                  uint32     `json:"flags"`
		Name                   string     `json:"name"`
		Kind                   int        `json:"kind"`
		StartTimeUnixNano      string     `json:"startTimeUnixNano"`
		EndTimeUnixNano        string     `json:"endTimeUnixNano"`
		Attributes             []keyValue `json:"attributes"`
		DroppedAttributesCount uint32     `json:"droppedAttributesCount"`
		Events                 []struct {
			TimeUnixNano           string     `json:"timeUnixNano"`
			Name                   string     `json:"name"`
			Attributes             []keyValue `json:"attributes"`
			DroppedAttributesCount uint32     `json:"droppedAttributesCount"`
		} `json:"events"`
		DroppedEventsCount uint32 `json:"droppedEventsCount"`
		Links              []struct {
			TraceID    string     `json:"traceId"`
			SpanID     string     `json:"spanId"`
			TraceState string     `json:"traceState"`
			Attributes []keyValue `json:"attributes"`
			Flags      uint32     `json:"flags"`
		} `json:"links"`
		DroppedLinksCount uint32 `json:"droppedLinksCount"`
		Status            struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
	}
	keyValue struct {
		Key   string   `json:"key"`
		Value anyValue `json:"value"`
	}
	anyValue struct {
		StringValue *string  `json:"stringValue"`
		BoolValue   *bool    `json:"boolValue"`
		IntValue    *string  `json:"intValue"`
		DoubleValue *float64 `json:"doubleValue"`
		ArrayValue  *struct {
			Values []anyValue `json:"values"`
		} `json:"arrayValue"`
	}
)

// post is one request the collector received.
type post struct {
	method, path string
	header       http.Header
	body         []byte
}

// collector is a fake OTLP/HTTP endpoint: it records the requests and
// answers with the statuses of fail first, then 200.
type collector struct {
	mu    sync.Mutex
	posts []post
	fail  []int
	srv   *httptest.Server
}

func newCollector(t *testing.T, fail ...int) *collector {
	c := &collector{fail: fail}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.posts = append(c.posts, post{r.Method, r.URL.Path, r.Header.Clone(), b})
		status := http.StatusOK
		if len(c.fail) > 0 {
			status, c.fail = c.fail[0], c.fail[1:]
		}
		c.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) received() []post {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]post(nil), c.posts...)
}

func (c *collector) paths() []string {
	var out []string
	for _, p := range c.received() {
		out = append(out, p.method+" "+p.path)
	}
	return out
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

func decode(t *testing.T, body []byte) exportRequest {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req exportRequest
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("the body is not OTLP/JSON: %v\n%s", err, body)
	}
	return req
}

func attrs(kvs []keyValue) map[string]anyValue {
	m := map[string]anyValue{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
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
		if !tr.Enabled || tr.Endpoint != c.srv.URL+"/v1/traces" {
			t.Fatalf("enabled %v, endpoint %q with SWITCHBOARD_OTLP_ENDPOINT set", tr.Enabled, tr.Endpoint)
		}
		// Shutdown flushes: the batcher would otherwise wait 5s.
		exportOneSpan(t, tr)
		if got := c.paths(); len(got) != 1 || got[0] != "POST /v1/traces" {
			t.Fatalf("collector received %v, want POST /v1/traces", got)
		}
	})
	t.Run("ExportsToStandardEndpoint", func(t *testing.T) {
		c := newCollector(t)
		tr, err := tracing.Start(context.Background(), "", env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": c.srv.URL + "/base/"}))
		if err != nil {
			t.Fatal(err)
		}
		exportOneSpan(t, tr)
		if got := c.paths(); len(got) != 1 || got[0] != "POST /base/v1/traces" {
			t.Fatalf("collector received %v, want POST /base/v1/traces", got)
		}
	})
	t.Run("TracesEndpointUsedAsIs", func(t *testing.T) {
		c := newCollector(t)
		tr, err := tracing.Start(context.Background(), "", env(map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": c.srv.URL + "/custom",
		}))
		if err != nil {
			t.Fatal(err)
		}
		exportOneSpan(t, tr)
		if got := c.paths(); len(got) != 1 || got[0] != "POST /custom" {
			t.Fatalf("collector received %v, want POST /custom", got)
		}
	})
	t.Run("Gzip", func(t *testing.T) {
		c := newCollector(t)
		tr, err := tracing.Start(context.Background(), c.srv.URL, env(map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}))
		if err != nil {
			t.Fatal(err)
		}
		exportOneSpan(t, tr)
		got := c.received()
		if len(got) != 1 || got[0].header.Get("Content-Encoding") != "gzip" || bytes.Contains(got[0].body, []byte(`"op"`)) {
			t.Fatalf("want one gzipped request, got %d (%v)", len(got), got)
		}
	})
}

// TestSpanEncoding checks what a collector gets for a span with every
// kind of field, against the OTLP/JSON schema.
func TestSpanEncoding(t *testing.T) {
	c := newCollector(t)
	tr, err := tracing.Start(context.Background(), c.srv.URL, env(map[string]string{
		"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20s3cr3t%3D%3D, X-Tenant = acme",
		"OTEL_SERVICE_NAME":          "switchboard-test",
	}))
	if err != nil {
		t.Fatal(err)
	}
	tracer := tr.Provider.Tracer("switchboard/test", trace.WithInstrumentationVersion("1.2.3"))
	ctx, parent := tracer.Start(context.Background(), "POST /query", trace.WithSpanKind(trace.SpanKindServer))
	_, child := tracer.Start(ctx, "graphql query Me", trace.WithSpanKind(trace.SpanKindClient))
	child.SetAttributes(
		attribute.String("graphql.operation.name", "Me"),
		attribute.Int64("big", 1<<60),
		attribute.Bool("cached", true),
		attribute.Float64("ratio", 0.25),
		attribute.StringSlice("fields", []string{"me", "id"}),
	)
	child.AddEvent("resolved", trace.WithAttributes(attribute.Int("rows", 3)))
	child.SetStatus(codes.Error, "boom")
	child.End()
	parent.End()
	if err := tr.Shutdown(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}

	posts := c.received()
	if len(posts) != 1 {
		t.Fatalf("%d requests, want 1 batch", len(posts))
	}
	p := posts[0]
	if p.method != http.MethodPost || p.path != "/v1/traces" {
		t.Errorf("%s %s, want POST /v1/traces", p.method, p.path)
	}
	if ct := p.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if got := p.header.Get("Authorization"); got != "Bearer s3cr3t==" {
		t.Errorf("Authorization %q, want the URL-decoded value", got)
	}
	if got := p.header.Get("X-Tenant"); got != "acme" {
		t.Errorf("X-Tenant %q", got)
	}

	req := decode(t, p.body)
	if len(req.ResourceSpans) != 1 || len(req.ResourceSpans[0].ScopeSpans) != 1 {
		t.Fatalf("want one resource and one scope:\n%s", p.body)
	}
	rs := req.ResourceSpans[0]
	if v := attrs(rs.Resource.Attributes)["service.name"].StringValue; v == nil || *v != "switchboard-test" {
		t.Errorf("service.name %v", v)
	}
	if !strings.HasPrefix(rs.SchemaURL, "https://opentelemetry.io/schemas/") {
		t.Errorf("resource schemaUrl %q", rs.SchemaURL)
	}
	ss := rs.ScopeSpans[0]
	if ss.Scope.Name != "switchboard/test" || ss.Scope.Version != "1.2.3" {
		t.Errorf("scope %+v", ss.Scope)
	}
	if len(ss.Spans) != 2 {
		t.Fatalf("%d spans, want 2", len(ss.Spans))
	}
	byName := map[string]span{}
	for _, s := range ss.Spans {
		byName[s.Name] = s
	}
	ps, cs := byName["POST /query"], byName["graphql query Me"]
	for _, c := range []struct {
		got  span
		want trace.Span
		kind int
	}{{ps, parent, 2}, {cs, child, 3}} {
		sc := c.want.SpanContext()
		tid, sid := sc.TraceID(), sc.SpanID()
		if len(c.got.TraceID) != 32 || c.got.TraceID != hex.EncodeToString(tid[:]) {
			t.Errorf("%s: traceId %q, want %s", c.got.Name, c.got.TraceID, tid)
		}
		if len(c.got.SpanID) != 16 || c.got.SpanID != hex.EncodeToString(sid[:]) {
			t.Errorf("%s: spanId %q, want %s", c.got.Name, c.got.SpanID, sid)
		}
		if c.got.Kind != c.kind {
			t.Errorf("%s: kind %d, want %d", c.got.Name, c.got.Kind, c.kind)
		}
		if c.got.Flags != 0x101 { // sampled, parent known to be local
			t.Errorf("%s: flags %#x", c.got.Name, c.got.Flags)
		}
		start, err1 := strconv.ParseInt(c.got.StartTimeUnixNano, 10, 64)
		end, err2 := strconv.ParseInt(c.got.EndTimeUnixNano, 10, 64)
		if err1 != nil || err2 != nil || start <= 0 || end < start || time.Since(time.Unix(0, start)) > time.Minute {
			t.Errorf("%s: start %q end %q", c.got.Name, c.got.StartTimeUnixNano, c.got.EndTimeUnixNano)
		}
	}
	if ps.ParentSpanID != "" {
		t.Errorf("root span has parent %q", ps.ParentSpanID)
	}
	if cs.ParentSpanID != ps.SpanID || cs.TraceID != ps.TraceID {
		t.Errorf("child: parent %q trace %q, want %q %q", cs.ParentSpanID, cs.TraceID, ps.SpanID, ps.TraceID)
	}
	a := attrs(cs.Attributes)
	if v := a["graphql.operation.name"].StringValue; v == nil || *v != "Me" {
		t.Errorf("string attribute %v", v)
	}
	if v := a["big"].IntValue; v == nil || *v != "1152921504606846976" {
		t.Errorf("int attribute %v, want a decimal string", v)
	}
	if v := a["cached"].BoolValue; v == nil || !*v {
		t.Errorf("bool attribute %v", v)
	}
	if v := a["ratio"].DoubleValue; v == nil || *v != 0.25 {
		t.Errorf("float attribute %v", v)
	}
	if v := a["fields"].ArrayValue; v == nil || len(v.Values) != 2 || v.Values[0].StringValue == nil ||
		*v.Values[0].StringValue != "me" || v.Values[1].StringValue == nil || *v.Values[1].StringValue != "id" {
		t.Errorf("string slice attribute %+v", v)
	}
	if cs.Status.Code != 2 || cs.Status.Message != "boom" {
		t.Errorf("status %+v, want 2 (ERROR) boom", cs.Status)
	}
	if ps.Status.Code != 0 {
		t.Errorf("parent status %+v, want 0 (UNSET)", ps.Status)
	}
	if len(cs.Events) != 1 || cs.Events[0].Name != "resolved" {
		t.Fatalf("events %+v", cs.Events)
	}
	ev := cs.Events[0]
	if n, err := strconv.ParseInt(ev.TimeUnixNano, 10, 64); err != nil || n <= 0 {
		t.Errorf("event time %q", ev.TimeUnixNano)
	}
	if v := attrs(ev.Attributes)["rows"].IntValue; v == nil || *v != "3" {
		t.Errorf("event attribute %v", v)
	}
}

func TestRetry(t *testing.T) {
	t.Run("503ThenSuccess", func(t *testing.T) {
		c := newCollector(t, http.StatusServiceUnavailable)
		tr, err := tracing.Start(context.Background(), c.srv.URL, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		exportOneSpan(t, tr)
		got := c.received()
		if len(got) != 2 {
			t.Fatalf("%d requests, want 2 (a 503, then a retry)", len(got))
		}
		if !bytes.Equal(got[0].body, got[1].body) || !bytes.Contains(got[1].body, []byte(`"name":"op"`)) {
			t.Fatalf("the retry differs from the first request:\n%s\n%s", got[0].body, got[1].body)
		}
	})
	t.Run("400IsNotRetried", func(t *testing.T) {
		c := newCollector(t, http.StatusBadRequest, http.StatusBadRequest)
		tr, err := tracing.Start(context.Background(), c.srv.URL, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		exportOneSpan(t, tr)
		if got := c.received(); len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
	})
}

func TestBadSettings(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"HeaderWithoutValue", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=ok,Bearer s3cr3t"}, "OTEL_EXPORTER_OTLP_HEADERS: entry 2"},
		{"HeaderBadEscape", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "Authorization=s3cr3t%zz"}, "OTEL_EXPORTER_OTLP_TRACES_HEADERS: the value of entry 1 (Authorization)"},
		{"Timeout", map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, "OTEL_EXPORTER_OTLP_TIMEOUT"},
		{"Compression", map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, "OTEL_EXPORTER_OTLP_COMPRESSION"},
		{"NoScheme", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector:4317"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{"MissingKey", map[string]string{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": "/nonexistent.pem"}, "OTEL_EXPORTER_OTLP_CLIENT_KEY"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318"
			_, err := tracing.Start(context.Background(), "", env(c.env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one naming %q", err, c.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("the error shows a header value: %v", err)
			}
		})
	}
}
