package wstransport

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// Gorilla accepts websockets with gorilla/websocket, through gqlgen's
// websocket implementation interface. The write buffer comes from a pool
// only while a message is written, so an idle connection holds none.
type Gorilla struct {
	// AllowedOrigins may open websockets besides the server's own origin.
	// Requests without an Origin header (non-browser clients) are allowed:
	// the Origin check exists to stop other sites' pages from using a
	// visitor's cookie.
	AllowedOrigins []string
	// Scheme tells the scheme clients reach the server by (see
	// OriginAllowed; nil: "https" over TLS, else "http").
	Scheme func(*http.Request) string
	// MaxMessageBytes bounds a message from the client.
	MaxMessageBytes int64
}

// readBufferSize is the read buffer of a connection: room for a frame
// header and the largest control frame (gorilla's minimum is 125 bytes),
// the most any single read needs; client messages are small, and longer
// ones are read in several steps.
const readBufferSize = 256

var (
	_            transport.WebsocketImplementation = Gorilla{}
	writeBuffers                                   = &sync.Pool{}
)

// Accept upgrades the request.
func (g Gorilla) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		Subprotocols:     opts.Subprotocols,
		WriteBufferPool:  writeBuffers,
		// Clients send little (subscribe, pong, complete): a small read
		// buffer per connection instead of net/http's 4 KB, which
		// gorilla would otherwise keep.
		ReadBufferSize: readBufferSize,
		CheckOrigin:    func(r *http.Request) bool { return OriginAllowed(r, g.scheme(r), g.AllowedOrigins) },
	}
	bw := &batchingWriter{ResponseWriter: w}
	c, err := up.Upgrade(bw, r, opts.ResponseHeader)
	if err != nil {
		return nil, err
	}
	if g.MaxMessageBytes > 0 {
		c.SetReadLimit(g.MaxMessageBytes)
	}
	return &gorillaConn{Conn: c, batch: bw.conn}, nil
}

func (g Gorilla) scheme(r *http.Request) string {
	if g.Scheme != nil {
		return g.Scheme(r)
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// OriginAllowed is the Origin check, of websockets and of
// cookie-authenticated requests: no Origin (not a browser), the server's
// own origin, or one of allowed. The server's own origin is scheme, host
// and port: scheme is how clients reach the server (https behind a
// TLS-terminating proxy), host and port are the Host header's. An http
// page must not use the cookie of an https server on the same host (on a
// network that can tamper with plain HTTP, anyone can write that page).
func OriginAllowed(r *http.Request, scheme string, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Scheme, scheme) &&
		hostPort(u.Host, scheme) == hostPort(r.Host, scheme) {
		return true
	}
	return slices.Contains(allowed, origin)
}

// hostPort is host in one form: lower case, without the scheme's default
// port (browsers leave it out of Origin, some clients put it in Host).
func hostPort(host, scheme string) string {
	host = strings.ToLower(host)
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return strings.TrimSuffix(host, ":443")
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return strings.TrimSuffix(host, ":80")
	}
	return host
}

// gorillaConn adapts *websocket.Conn to gqlgen's WebsocketConn, plus
// writing pre-encoded messages, in batches, and deadlines.
type gorillaConn struct {
	*websocket.Conn
	batch *batchConn
}

func (c *gorillaConn) NextReader() (int, io.Reader, error) {
	t, r, err := c.Conn.NextReader()
	if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
		return t, r, transport.ErrWebsocketClosed
	}
	return t, r, err
}

func (c *gorillaConn) WriteClose(code int, reason string) error {
	return c.Conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
}

func (c *gorillaConn) WriteMessage(b []byte) error {
	return c.Conn.WriteMessage(websocket.TextMessage, b)
}

// WriteMessages writes the messages as one write to the socket, by
// deadline. When the deadline passes first (os.ErrDeadlineExceeded), the
// rest waits for FlushRest.
func (c *gorillaConn) WriteMessages(msgs [][]byte, deadline time.Time) error {
	c.batch.Begin()
	for _, b := range msgs {
		c.batch.AppendText(b)
	}
	return c.batch.Flush(deadline)
}

// Resumable reports whether a write that times out can be resumed (not
// over TLS, whose state a timed-out write breaks).
func (c *gorillaConn) Resumable() bool { return !c.batch.tls }

// FlushRest writes what WriteMessages left when its deadline passed.
func (c *gorillaConn) FlushRest(deadline time.Time) error { return c.batch.Flush(deadline) }
