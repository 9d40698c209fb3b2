package httpserver

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/switchboardhq/switchboard/internal/apierr"
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
}

func (t eventStream) Supports(r *http.Request) bool { return transport.SSE{}.Supports(r) }

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
		var e *apierr.Error
		if !errors.As(err, &e) {
			e = apierr.Errorf(apierr.Internal, "internal error")
		}
		writeError(w, apierr.HTTPStatus(e.Code), e)
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
