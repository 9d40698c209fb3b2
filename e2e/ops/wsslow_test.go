package ops_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/gorilla/websocket"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestWebsocketTooSlow: a client that stops reading is disconnected with
// the 1013 close frame the README promises, which it sees once it reads
// again.
func TestWebsocketTooSlow(t *testing.T) {
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), map[string]string{
		"SWITCHBOARD_WS_OUTBOUND_QUEUE": "4",
		// The server's decision to disconnect is seen in its log.
		"SWITCHBOARD_LOG_LEVEL": "info",
	})
	token, _ := harness.Signup(t, s, "sam@example.com", "Sam")
	c := scaleDialSlow(t, s)
	c.Init(token)
	if m := c.Next(); m.Type != "connection_ack" {
		t.Fatalf("got %s %s, want connection_ack", m.Type, m.Payload)
	}

	t.Run("ClientThatStopsReadingSeesClose1013WhenItReadsAgain", func(t *testing.T) {
		// The server answers each ping with a pong of the same payload,
		// which this client leaves unread: once the socket buffers are
		// full the server's writer blocks, and its outbound queue fills.
		ping, _ := websocket.NewPreparedMessage(websocket.TextMessage,
			harness.JSON(t, harness.WSMessage{Type: "ping", Payload: harness.JSON(t, map[string]string{"pad": strings.Repeat("x", 64<<10)})}))
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(s.Out.String(), "websocket too slow") {
			if time.Now().After(deadline) {
				t.Fatal("the server did not give up on a client that reads nothing")
			}
			if err := c.Conn.WritePreparedMessage(ping); err != nil {
				t.Fatalf("writing a ping: %v", err)
			}
		}
		// Longer than a control frame's own deadline (a second): the
		// close frame has to wait for the message still being written,
		// which this client only now reads.
		time.Sleep(2 * time.Second)
		if code, reason := c.CloseCode(30 * time.Second); code != closeTooSlow {
			t.Fatalf("closed with %d %q, want %d", code, reason, closeTooSlow)
		}
	})
	t.Run("ServerStillServes", func(t *testing.T) {
		harness.ConnectWS(t, s, "graphql-transport-ws", token)
	})
}

// closeTooSlow is the close code of a client too slow to keep up.
const closeTooSlow = 1013
