//go:build linux

package wstransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/gorilla/websocket"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// tokenOf signs in by a fixed table of tokens.
type tokenOf map[string]*viewer.Viewer

func (m tokenOf) Authenticate(_ context.Context, token string) (*viewer.Viewer, error) {
	if v := m[token]; v != nil {
		return v, nil
	}
	return nil, errors.New("unknown token")
}

// A client that pauses reading gets everything once it reads again. Over
// plain TCP the shared writers' short try times out and the connection's
// own writer resumes the batch where it was cut; over TLS (whose write cut
// short cannot be resumed) the connection has its own writer throughout.
func TestAPausedReaderGetsEverything(t *testing.T) {
	t.Run("TCP", func(t *testing.T) { pausedReader(t, httptest.NewServer, "ws") })
	t.Run("TLS", func(t *testing.T) { pausedReader(t, httptest.NewTLSServer, "wss") })
}

func pausedReader(t *testing.T, serve func(http.Handler) *httptest.Server, scheme string) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.New(nil, broker.NewMemory(), presence.NewMemory(), nil, live.Options{}, log)
	tr := New(hub, tokenOf{"t": {UserID: "US1", Role: viewer.Admin}}, log, Options{OutboundBytes: 256 << 20})
	exec := executor.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}))
	exec.Use(extension.Introspection{})
	srv := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tr.Do(w, r, exec) }))
	defer srv.Close()
	d := websocket.Dialer{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig, Subprotocols: []string{ProtocolTransportWS},
		// A small receive window: the server's writes wait for the
		// client as soon as its own send buffer is full.
		// Set before connecting: a window shrunk later stalls TCP.
		NetDialContext: (&net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}).DialContext}
	ws, _, err := d.Dial(scheme+strings.TrimPrefix(strings.TrimPrefix(srv.URL, "https"), "http")+"/query", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	send := []string{`{"type":"connection_init","payload":{"authorization":"Bearer t"}}`}
	// Introspection answers are large: together far more than the
	// socket buffers hold while the client is not reading.
	const ops = 90
	for i := range ops {
		// Three sizes of frame length: under 126 bytes, 16 and 64 bits.
		query := []string{`{ __typename }`, `{ __type(name: \"Ticket\") { fields { name description } } }`,
			`{ __schema { types { name description enumValues { name description } inputFields { name description type { name kind ofType { name kind } } } fields { name description args { name description type { name kind ofType { name kind } } } type { name kind ofType { name kind ofType { name kind } } } } } } }`}[i%3]
		send = append(send, fmt.Sprintf(`{"type":"subscribe","id":"%d","payload":{"query":"%s"}}`, i, query))
	}
	for _, m := range send {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond) // not reading: the server's writes wait
	var got []string
	for len(got) < 1+2*ops {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %d messages: %v", len(got), err)
		}
		got = append(got, string(b))
	}
	if !strings.Contains(got[0], "connection_ack") {
		t.Fatalf("got %q", got)
	}
	results := 0
	sizes := map[int]int{} // 0: short, 1: 16-bit, 2: 64-bit length
	for _, m := range got[1:] {
		if strings.Contains(m, `"type":"next"`) {
			switch {
			case len(m) < 126:
				sizes[0]++
			case len(m) <= 0xffff:
				sizes[1]++
			default:
				sizes[2]++
			}
			results++
		}
	}
	if sizes[0] == 0 || sizes[1] == 0 || sizes[2] == 0 {
		t.Fatalf("frame sizes seen %v, want some of each length encoding", sizes)
	}
	if results != ops {
		t.Fatalf("got %d results, want %d", results, ops)
	}
}
