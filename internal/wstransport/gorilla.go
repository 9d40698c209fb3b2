package wstransport

import (
	"io"
	"net/http"
	"net/url"
	"slices"
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
	// MaxMessageBytes bounds a message from the client.
	MaxMessageBytes int64
}

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
		CheckOrigin:      func(r *http.Request) bool { return OriginAllowed(r, g.AllowedOrigins) },
	}
	c, err := up.Upgrade(w, r, opts.ResponseHeader)
	if err != nil {
		return nil, err
	}
	if g.MaxMessageBytes > 0 {
		c.SetReadLimit(g.MaxMessageBytes)
	}
	return &gorillaConn{Conn: c}, nil
}

// OriginAllowed is the websocket Origin check: no Origin (not a browser),
// the server's own origin, or one of allowed.
func OriginAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && u.Host == r.Host {
		return true
	}
	return slices.Contains(allowed, origin)
}

// gorillaConn adapts *websocket.Conn to gqlgen's WebsocketConn, plus
// writing pre-encoded messages and deadlines.
type gorillaConn struct{ *websocket.Conn }

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
