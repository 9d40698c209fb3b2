package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/switchboardhq/switchboard/graph"

	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// eventStream serves GraphQL over server-sent events (the graphql-sse
// "distinct connections" mode: a POST with Accept: text/event-stream per
// operation) with gqlgen's SSE transport, registered with the live hub so
// that the stream ends when its session ends, when it falls too far
// behind, or on shutdown.
type eventStream struct {
	hub       *live.Hub
	keepAlive time.Duration
	// queries are the persisted queries (APQ), and maxTokens the longest
	// document looked at, for telling a request's operation type.
	queries   graphql.Cache[string]
	maxTokens int
}

// Supports takes the POSTs that accept event streams: every subscription,
// but a query or mutation only from a client that prefers a stream to
// JSON. Clients such as urql list text/event-stream after the JSON types
// for every operation; a single result is JSON to them (a stream that
// ends after one result is something urql cancels, which Node reports as
// an unhandled rejection).
func (t eventStream) Supports(r *http.Request) bool {
	if !(transport.SSE{}).Supports(r) {
		return false
	}
	accepted, preferred := acceptsEventStream(r.Header.Values("Accept"))
	return accepted && (preferred || t.isSubscription(r))
}

// acceptsEventStream tells whether the Accept header lists
// text/event-stream (with a q above 0), and whether it prefers it to JSON:
// a higher q, or the same q and listed first.
func acceptsEventStream(accept []string) (accepted, preferred bool) {
	sseQ, jsonQ := -1.0, -1.0
	sseFirst := false
	for _, part := range strings.Split(strings.Join(accept, ","), ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		switch mediaType {
		case "text/event-stream":
			if q > sseQ {
				sseQ, sseFirst = q, jsonQ < 0
			}
		case "application/json", "application/graphql-response+json", "application/graphql+json", "application/*", "*/*":
			jsonQ = max(jsonQ, q)
		}
	}
	if sseQ <= 0 {
		return false, false
	}
	return true, sseQ > jsonQ || (sseQ == jsonQ && sseFirst)
}

// isSubscription tells whether the operation a POST body selects is a
// subscription. What cannot be told (no such operation, a document that
// does not parse or is too long) is not: the JSON answer says what is
// wrong.
func (t eventStream) isSubscription(r *http.Request) bool {
	body, err := bodyOf(r)
	if err != nil {
		return false
	}
	var req struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
		Extensions    struct {
			PersistedQuery struct {
				Hash string `json:"sha256Hash"`
			} `json:"persistedQuery"`
		} `json:"extensions"`
	}
	if json.Unmarshal(body, &req) != nil {
		return false
	}
	if req.Query == "" && req.Extensions.PersistedQuery.Hash != "" && t.queries != nil {
		req.Query, _ = t.queries.Get(r.Context(), req.Extensions.PersistedQuery.Hash)
	}
	// Limited as the executor limits it: a huge document is never parsed.
	if req.Query == "" || graph.CountTokens(req.Query, t.maxTokens+1) > t.maxTokens {
		return false
	}
	doc, perr := parser.ParseQuery(&ast.Source{Input: req.Query})
	if perr != nil {
		return false
	}
	op := doc.Operations.ForName(req.OperationName)
	if req.OperationName == "" && len(doc.Operations) != 1 {
		op = nil
	}
	return op != nil && op.Operation == ast.Subscription
}

func (t eventStream) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	// A stream outlives the server's read and write timeouts, which are
	// meant for ordinary requests.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	// A viewer slot of its own, so that revalidation changes this stream only.
	ctx = viewer.NewContext(ctx, viewer.FromContext(ctx))
	// When the hub ends the stream (shutdown, ended session, too slow),
	// it must not end with "complete", which tells graphql-sse clients
	// the subscription is over: nothing more is written, and the cut
	// stream makes them reconnect.
	cut := &cutWriter{ResponseWriter: w}
	w = cut
	ctx, conn, err := t.hub.Connect(ctx, func(int, string) {
		cut.cut.Store(true)
		// A write blocked on a client that stopped reading fails now.
		_ = rc.SetWriteDeadline(time.Now())
		cancel()
	})
	if err != nil {
		// Refused before the stream starts (shutting down, too many
		// connections): a plain HTTP error, its status from its code.
		writeError(w, err)
		return
	}
	defer conn.Close()
	keepAlive := t.keepAlive
	if keepAlive <= 0 {
		keepAlive = 15 * time.Second
	}
	transport.SSE{KeepAlivePingInterval: keepAlive}.Do(w, r.WithContext(ctx), exec)
}

// cutWriter drops everything written after cut is set.
type cutWriter struct {
	http.ResponseWriter
	cut atomic.Bool
}

func (w *cutWriter) Write(b []byte) (int, error) {
	if w.cut.Load() {
		return 0, errStreamCut
	}
	// Each write must finish in time: a client that stops reading ends
	// its stream instead of holding a goroutine and its connection slot.
	_ = http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return w.ResponseWriter.Write(b)
}

// streamWriteTimeout bounds one write to an event stream.
const streamWriteTimeout = 10 * time.Second

func (w *cutWriter) Flush() {
	if !w.cut.Load() {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *cutWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var errStreamCut = errors.New("event stream ended by the server")
