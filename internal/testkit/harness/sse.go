package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// SSE posts a subscription asking for an event stream (the body is
// closed when the test ends).
func SSE(t *testing.T, s *Server, token, query string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	t.Cleanup(func() { _ = res.Body.Close() })
	return res
}

// SSEEvent is one event of a stream.
type SSEEvent struct{ Event, Data string }

// ReadSSE parses an event stream on a goroutine; the channel closes at
// the end of the stream. Comments (keep-alives) are skipped.
func ReadSSE(body io.Reader) <-chan SSEEvent {
	ch := make(chan SSEEvent, 1024)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev SSEEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" || ev.Data != "" {
					ch <- ev
				}
				ev = SSEEvent{}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event:"):
				ev.Event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.Data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	return ch
}

// FirstSSEResult runs a subscription over server-sent events (the
// graphql-sse protocol) and returns its first result, or the response
// that refused it, failing the test if none comes within 10 seconds.
func (s *Server) FirstSSEResult(t *testing.T, token, query string, vars map[string]any) Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /query (event stream): %v", err)
	}
	defer res.Body.Close()
	var r Response
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("status %d, body not JSON: %s", res.StatusCode, raw)
		}
		r.Status, r.Header, r.Raw = res.StatusCode, res.Header, string(raw)
		return r
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "next":
			data := strings.TrimPrefix(line, "data: ")
			if err := json.Unmarshal([]byte(data), &r); err != nil {
				t.Fatalf("event stream data not JSON: %s", line)
			}
			r.Status, r.Header, r.Raw = res.StatusCode, res.Header, data
			return r
		}
	}
	t.Fatalf("event stream ended without a result: %v", sc.Err())
	return r
}
