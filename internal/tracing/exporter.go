package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// exporter sends spans to an OTLP/HTTP collector as JSON: one POST per
// batch, retried on 429, 502, 503 and 504 (after the Retry-After the
// collector asks for, or with exponential backoff) while the batch's
// timeout lasts.
type exporter struct {
	url     string // the full URL, /v1/traces included
	shown   string // url without its password, for errors
	header  http.Header
	gzip    bool
	timeout time.Duration
	client  *http.Client

	// Retries: at most attempts posts per batch, the first wait being
	// backoff (doubled each time, ±25%).
	attempts int
	backoff  time.Duration

	// stopped is cancelled by Shutdown and ends the posts in flight.
	stopped context.Context
	stop    context.CancelFunc
}

var _ sdktrace.SpanExporter = (*exporter)(nil)

const (
	defaultAttempts = 5
	defaultBackoff  = 500 * time.Millisecond
	// maxResponse is how much of a collector's answer is read.
	maxResponse = 64 << 10
)

func newExporter(c exporterConfig) *exporter {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if c.tls != nil {
		transport.TLSClientConfig = c.tls
	}
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Switchboard OTLP/HTTP JSON exporter")
	if c.gzip {
		h.Set("Content-Encoding", "gzip")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &exporter{
		url: c.url.String(), shown: c.url.Redacted(), header: h, gzip: c.gzip, timeout: c.timeout,
		client:   &http.Client{Transport: transport},
		attempts: defaultAttempts, backoff: defaultBackoff,
		stopped: ctx, stop: cancel,
	}
}

// ExportSpans sends spans in one request, retrying while e.timeout lasts.
func (e *exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 || e.stopped.Err() != nil {
		return nil
	}
	body, err := json.Marshal(encodeSpans(spans))
	if err != nil {
		return fmt.Errorf("OTLP: encoding %d spans: %w", len(spans), err)
	}
	if e.gzip {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return fmt.Errorf("OTLP: compressing: %w", err)
		}
		body = b.Bytes()
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	defer context.AfterFunc(e.stopped, cancel)()
	wait := e.backoff
	for attempt := 1; ; attempt++ {
		retryAfter, retry, err := e.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt >= e.attempts {
			return err
		}
		d := retryAfter
		if d <= 0 {
			d = wait/4*3 + rand.N(wait/2+1) // #nosec G404 -- jitter of a retry, not a secret: wait ±25%
			wait *= 2
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
			return fmt.Errorf("%w (no time left to retry within the %v timeout)", err, e.timeout)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (then %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// post sends one request; it tells whether the error, if any, is worth
// retrying and after how long the collector asked to be called again.
// Errors name the status and the collector's message, never the headers.
func (e *exporter) post(ctx context.Context, body []byte) (retryAfter time.Duration, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return 0, false, fmt.Errorf("OTLP: %w", err)
	}
	req.Header = e.header.Clone()
	resp, err := e.client.Do(req) // its errors show the URL without its password
	if err != nil {
		return 0, false, fmt.Errorf("OTLP: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return 0, false, partialSuccess(resp.Header.Get("Content-Type"), answer)
	case code == http.StatusTooManyRequests, code == http.StatusBadGateway,
		code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
		return parseRetryAfter(resp.Header.Get("Retry-After")), true, e.statusError(resp.Status, answer)
	default:
		return 0, false, e.statusError(resp.Status, answer)
	}
}

func (e *exporter) statusError(status string, answer []byte) error {
	msg := strings.TrimSpace(string(answer))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	if msg == "" {
		return fmt.Errorf("OTLP: POST %s: %s", e.shown, status)
	}
	return fmt.Errorf("OTLP: POST %s: %s: %s", e.shown, status, msg)
}

// partialSuccess reports the spans a collector accepted the request
// without keeping (ExportTraceServiceResponse.partial_success).
func partialSuccess(contentType string, answer []byte) error {
	if len(answer) == 0 || !strings.HasPrefix(contentType, "application/json") {
		return nil
	}
	var r struct {
		PartialSuccess *struct {
			RejectedSpans json.Number `json:"rejectedSpans"`
			ErrorMessage  string      `json:"errorMessage"`
		} `json:"partialSuccess"`
	}
	if json.Unmarshal(answer, &r) != nil || r.PartialSuccess == nil {
		return nil
	}
	p := r.PartialSuccess
	if (p.RejectedSpans == "" || p.RejectedSpans == "0") && p.ErrorMessage == "" {
		return nil
	}
	n := p.RejectedSpans
	if n == "" {
		n = "0"
	}
	return fmt.Errorf("OTLP: the collector rejected %s spans: %s", n, p.ErrorMessage)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// Shutdown ends the requests in flight (the batcher has flushed by the
// time it calls this) and the idle connections; later exports do nothing.
func (e *exporter) Shutdown(ctx context.Context) error {
	e.stop()
	e.client.CloseIdleConnections()
	return ctx.Err()
}
