package harness

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// WS is a small client of both websocket protocols (graphql-transport-ws
// and the legacy graphql-ws), for the tests that need to see frames and
// close codes exactly. Its reads have deadlines of their own; see Stream
// for reading on a goroutine.
type WS struct {
	T        *testing.T
	Conn     *websocket.Conn
	Protocol string
}

// WSMessage is one message of either protocol.
type WSMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// DialWS opens a websocket to the server's /query with the subprotocol
// (graphql-transport-ws or graphql-ws) and extra headers.
func DialWS(t *testing.T, s *Server, protocol string, header http.Header) (*WS, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol}, HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/query", header)
	if err != nil {
		return nil, resp, err
	}
	c := &WS{T: t, Conn: conn, Protocol: protocol}
	t.Cleanup(func() { _ = conn.Close() })
	return c, resp, nil
}

// ConnectWS dials and completes connection_init with the bearer token
// ("" for none), failing the test unless acknowledged.
func ConnectWS(t *testing.T, s *Server, protocol, token string) *WS {
	t.Helper()
	c, _, err := DialWS(t, s, protocol, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.Init(token)
	if m := c.Next(); m.Type != "connection_ack" {
		t.Fatalf("after connection_init got %s %s, want connection_ack", m.Type, m.Payload)
	}
	return c
}

// Init sends connection_init with the bearer token ("" for none).
func (c *WS) Init(token string) {
	payload := map[string]any{}
	if token != "" {
		payload["authorization"] = "Bearer " + token
	}
	c.Send(WSMessage{Type: "connection_init", Payload: JSON(c.T, payload)})
}

// Send writes a message.
func (c *WS) Send(m WSMessage) {
	c.T.Helper()
	if err := c.Conn.WriteJSON(m); err != nil {
		c.T.Fatalf("write: %v", err)
	}
}

// SendRaw writes a text frame as is.
func (c *WS) SendRaw(s string) {
	c.T.Helper()
	if err := c.Conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.T.Fatalf("write: %v", err)
	}
}

// Subscribe starts an operation with the protocol's message type.
func (c *WS) Subscribe(id, query string, vars map[string]any) {
	typ := "subscribe"
	if c.Protocol == "graphql-ws" {
		typ = "start"
	}
	c.Send(WSMessage{ID: id, Type: typ, Payload: JSON(c.T, map[string]any{"query": query, "variables": vars})})
}

// Stop ends an operation.
func (c *WS) Stop(id string) {
	typ := "complete"
	if c.Protocol == "graphql-ws" {
		typ = "stop"
	}
	c.Send(WSMessage{ID: id, Type: typ})
}

// Read returns the next message, or the error that ended the connection
// (a *websocket.CloseError for a close frame), waiting at most d.
func (c *WS) Read(d time.Duration) (WSMessage, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(d))
	var m WSMessage
	_, data, err := c.Conn.ReadMessage()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		c.T.Fatalf("server sent invalid JSON %q: %v", data, err)
	}
	return m, nil
}

// Next returns the next message other than keep-alives, failing after
// 10 seconds.
func (c *WS) Next() WSMessage {
	c.T.Helper()
	for {
		m, err := c.Read(10 * time.Second)
		if err != nil {
			c.T.Fatalf("waiting for a message: %v", err)
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			c.Send(WSMessage{Type: "pong"})
			continue
		}
		return m
	}
}

// Data returns the next result of operation id, failing on anything else.
func (c *WS) Data(id string) map[string]any {
	c.T.Helper()
	m := c.Next()
	if m.ID != id || (m.Type != "next" && m.Type != "data") {
		c.T.Fatalf("got %s (id %q) %s, want a result of %s", m.Type, m.ID, m.Payload, id)
	}
	var res struct {
		Data   map[string]any `json:"data"`
		Errors []GQLError     `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &res); err != nil {
		c.T.Fatal(err)
	}
	if len(res.Errors) > 0 {
		c.T.Fatalf("result of %s has errors: %s", id, m.Payload)
	}
	return res.Data
}

// Quiet asserts that no result arrives within d (keep-alives aside).
func (c *WS) Quiet(d time.Duration) {
	c.T.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m, err := c.Read(time.Until(deadline))
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return
		}
		if err != nil {
			c.T.Fatalf("connection ended while waiting: %v", err)
		}
		if m.Type != "ka" && m.Type != "ping" && m.Type != "pong" {
			c.T.Fatalf("got %s %s, want nothing", m.Type, m.Payload)
		}
	}
}

// CloseCode waits for the connection to be closed and returns the code
// (1006 when it ended without a close frame).
func (c *WS) CloseCode(d time.Duration) (int, string) {
	c.T.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		_, err := c.Read(time.Until(deadline))
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			break
		}
		return websocket.CloseAbnormalClosure, err.Error()
	}
	c.T.Fatalf("connection still open after %s", d)
	return 0, ""
}
