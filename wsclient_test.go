package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsClient is a small client of both websocket protocols, for the tests
// that need to see frames and close codes exactly (the npm reference
// clients are driven from reference_clients_test.go).
type wsClient struct {
	t        *testing.T
	conn     *websocket.Conn
	protocol string
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a websocket to the server's /query with the subprotocol
// (graphql-transport-ws or graphql-ws) and extra headers.
func dialWS(t *testing.T, s *testServer, protocol string, header http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol}, HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(s.url, "http")+"/query", header)
	if err != nil {
		return nil, resp, err
	}
	c := &wsClient{t: t, conn: conn, protocol: protocol}
	t.Cleanup(func() { conn.Close() })
	return c, resp, nil
}

// connectWS dials and completes connection_init with the bearer token
// ("" for none), failing the test unless acknowledged.
func connectWS(t *testing.T, s *testServer, protocol, token string) *wsClient {
	t.Helper()
	c, _, err := dialWS(t, s, protocol, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.init(token)
	if m := c.next(); m.Type != "connection_ack" {
		t.Fatalf("after connection_init got %s %s, want connection_ack", m.Type, m.Payload)
	}
	return c
}

func (c *wsClient) init(token string) {
	payload := map[string]any{}
	if token != "" {
		payload["authorization"] = "Bearer " + token
	}
	c.send(wsMessage{Type: "connection_init", Payload: mustJSON(c.t, payload)})
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	if err := c.conn.WriteJSON(m); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

//lint:ignore U1000 part of the test client's protocol vocabulary
func (c *wsClient) sendRaw(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// subscribe starts an operation with the protocol's message type.
func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	typ := "subscribe"
	if c.protocol == "graphql-ws" {
		typ = "start"
	}
	c.send(wsMessage{ID: id, Type: typ, Payload: mustJSON(c.t, map[string]any{"query": query, "variables": vars})})
}

// stop ends an operation.
//
//lint:ignore U1000 part of the test client's protocol vocabulary
func (c *wsClient) stop(id string) {
	typ := "complete"
	if c.protocol == "graphql-ws" {
		typ = "stop"
	}
	c.send(wsMessage{ID: id, Type: typ})
}

// read returns the next message, or the error that ended the connection
// (a *websocket.CloseError for a close frame), waiting at most d.
func (c *wsClient) read(d time.Duration) (wsMessage, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	var m wsMessage
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("server sent invalid JSON %q: %v", data, err)
	}
	return m, nil
}

// next returns the next message other than keep-alives, failing after
// 10 seconds.
func (c *wsClient) next() wsMessage {
	c.t.Helper()
	for {
		m, err := c.read(10 * time.Second)
		if err != nil {
			c.t.Fatalf("waiting for a message: %v", err)
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			c.send(wsMessage{Type: "pong"})
			continue
		}
		return m
	}
}

// data returns the next result of operation id, failing on anything else.
func (c *wsClient) data(id string) map[string]any {
	c.t.Helper()
	m := c.next()
	if m.ID != id || (m.Type != "next" && m.Type != "data") {
		c.t.Fatalf("got %s (id %q) %s, want a result of %s", m.Type, m.ID, m.Payload, id)
	}
	var res struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &res); err != nil {
		c.t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		c.t.Fatalf("result of %s has errors: %s", id, m.Payload)
	}
	return res.Data
}

// quiet asserts that no result arrives within d (keep-alives aside).
//
//lint:ignore U1000 part of the test client's protocol vocabulary
func (c *wsClient) quiet(d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m, err := c.read(time.Until(deadline))
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return
		}
		if err != nil {
			c.t.Fatalf("connection ended while waiting: %v", err)
		}
		if m.Type != "ka" && m.Type != "ping" && m.Type != "pong" {
			c.t.Fatalf("got %s %s, want nothing", m.Type, m.Payload)
		}
	}
}

// closeCode waits for the connection to be closed and returns the code
// (1006 when it ended without a close frame).
func (c *wsClient) closeCode(d time.Duration) (int, string) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		_, err := c.read(time.Until(deadline))
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
	c.t.Fatalf("connection still open after %s", d)
	return 0, ""
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
