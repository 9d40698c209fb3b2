// Package wstransport serves GraphQL over websockets at /query, in both
// protocols in use: graphql-transport-ws (the graphql-ws library) and the
// legacy graphql-ws (subscriptions-transport-ws). It replaces gqlgen's
// websocket transport, which runs four goroutines per connection and
// writes straight to the socket; here a connection costs one reader
// goroutine. A subscription of the hub's ticket events has none of its
// own: the hub calls the operation's live.Output.Ready for each event it
// queues, and a short-lived pump runs the execution for what is ready,
// then ends (conn.go); other subscriptions run on a goroutine each. Writes
// run on a few writers shared by all connections (writers.go), and each
// connection has a bounded outbound queue: a client that stops reading is disconnected
// rather than slowing the others. Sockets are accepted by
// gorilla/websocket through gqlgen's websocket implementation interface
// (Gorilla).
package wstransport

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// The subprotocols, newest first (preferred when a client offers both).
const (
	ProtocolTransportWS = "graphql-transport-ws"
	ProtocolLegacyWS    = "graphql-ws"
)

// Options are the websocket settings (docs/configuration.md).
type Options struct {
	AllowedOrigins []string
	// Scheme tells the scheme clients reach the server by, for the Origin
	// check (nil: "https" over TLS, else "http").
	Scheme func(*http.Request) string
	// InitTimeout: a client must send connection_init within it (4408).
	InitTimeout time.Duration
	// KeepAlive is the interval of the server's pings (graphql-transport-ws)
	// or keep-alive messages (graphql-ws). A graphql-transport-ws client
	// that sends nothing for two intervals is disconnected.
	KeepAlive time.Duration
	// OutboundQueue bounds the messages waiting to be written to one
	// connection; a client that lets it fill is disconnected (1013).
	OutboundQueue int
	// OutboundBytes bounds the bytes of those messages, whose size
	// clients choose with their selections.
	OutboundBytes int
	// MaxSubscriptions bounds the operations running on one connection.
	MaxSubscriptions int
	// MaxMessageBytes bounds one message from the client.
	MaxMessageBytes int64
	// WriteTimeout bounds the writing of one message.
	WriteTimeout time.Duration
}

// DefaultOptions are the defaults of the settings.
func DefaultOptions() Options {
	return Options{
		InitTimeout:      10 * time.Second,
		KeepAlive:        15 * time.Second,
		OutboundQueue:    256,
		OutboundBytes:    4 << 20,
		MaxSubscriptions: 100,
		MaxMessageBytes:  1 << 20, // as HTTP bodies: an addMessage of the longest body fits
		WriteTimeout:     10 * time.Second,
	}
}

// Authenticator turns the token of a connection_init payload into a viewer.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*viewer.Viewer, error)
}

// Transport is the gqlgen transport for websockets; make it with New.
type Transport struct {
	Hub  *live.Hub
	Auth Authenticator
	Log  *slog.Logger
	Options

	writers writers
	frames  frames
}

var _ graphql.Transport = (*Transport)(nil)

// Supports reports whether r asks for a websocket.
func (t *Transport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// New returns the transport with the defaults filled in for unset options.
func New(hub *live.Hub, auth Authenticator, log *slog.Logger, opts Options) *Transport {
	d := DefaultOptions()
	orDefault(&opts.InitTimeout, d.InitTimeout)
	orDefault(&opts.KeepAlive, d.KeepAlive)
	orDefault(&opts.OutboundQueue, d.OutboundQueue)
	orDefault(&opts.OutboundBytes, d.OutboundBytes)
	orDefault(&opts.MaxSubscriptions, d.MaxSubscriptions)
	orDefault(&opts.MaxMessageBytes, d.MaxMessageBytes)
	orDefault(&opts.WriteTimeout, d.WriteTimeout)
	return &Transport{Hub: hub, Auth: auth, Log: log, Options: opts}
}

// Do serves one websocket connection until it closes.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ws, err := Gorilla{AllowedOrigins: t.AllowedOrigins, Scheme: t.Scheme, MaxMessageBytes: t.MaxMessageBytes}.Accept(w, r, transport.WebsocketAcceptOptions{
		ResponseHeader: http.Header{},
		Subprotocols:   []string{ProtocolTransportWS, ProtocolLegacyWS},
	})
	if err != nil {
		// The upgrader has answered (403 for a foreign Origin, 400 for a
		// bad handshake).
		return
	}
	c := newConn(t, ws.(*gorillaConn), r, exec)
	// Known to the hub from the start, so that shutdown closes it with
	// 1001 even before connection_init.
	release, ok := t.Hub.Track(c.disconnect)
	if !ok {
		c.close(live.CloseGoingAway, "server shutting down")
		c.awaitClose()
		c.cleanup()
		release()
		return
	}
	// The connection is read on a goroutine of its own and the HTTP
	// handler returns: the handler's goroutine would keep net/http's
	// request, response and buffers alive for the life of the socket.
	go func() {
		defer release()
		c.serve()
	}()
}

// orDefault sets an unset (zero or negative) option to its default.
func orDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
