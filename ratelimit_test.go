package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/database/dbtest"
)

// TestRateLimits: operations are charged to their user and address by
// cost; over the limit, HTTP gets 429 with Retry-After and RATE_LIMITED,
// and a websocket subscribe gets an error message on an open socket.
func TestRateLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		createUser(t, tg, "admin@example.com", "Ada Admin", "admin", "correct horse battery staple 1")
		env := map[string]string{"SWITCHBOARD_RATE_LIMIT_USER": "8", "SWITCHBOARD_RATE_LIMIT_IP": "0"}
		if url := os.Getenv("TEST_REDIS_URL"); url != "" && tg.Dialect == dbtest.Postgres {
			env["REDIS_URL"] = url // the Redis limiter; its keys are per user, and users are new per test
		}
		s := startServer(t, tg, env)
		admin := login(t, s, "admin@example.com", "correct horse battery staple 1")

		t.Run("OverTheLimitIs429WithRetryAfter", func(t *testing.T) {
			var last *http.Response
			var body map[string]any
			for i := 0; i < 20; i++ {
				raw, _ := json.Marshal(map[string]any{"query": `{ me { id } }`})
				req, _ := http.NewRequest(http.MethodPost, s.url+"/query", bytes.NewReader(raw))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+admin)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body = nil
				_ = json.NewDecoder(res.Body).Decode(&body)
				res.Body.Close()
				last = res
				if res.StatusCode == http.StatusTooManyRequests {
					break
				}
			}
			if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
				t.Fatalf("after 20 requests: status %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
			}
			if code := path(body, "errors", 0, "extensions", "code"); code != "RATE_LIMITED" {
				t.Fatalf("body %v", body)
			}
		})
		t.Run("CostlyOperationsCountMore", func(t *testing.T) {
			count := func(query string) int {
				cust, _ := signup(t, s, fmt.Sprintf("cara%d@example.com", rand.Int()), "Cara")
				n := 0
				for ; n < 20; n++ {
					if r := s.do(t, cust, query, nil); r.Status == http.StatusTooManyRequests {
						break
					}
				}
				return n
			}
			small := count(`{ me { id } }`)
			big := count(`{ a: tickets(first: 100) { edges { node { id subject status priority createdAt requester { id name email } } } } b: tickets(last: 100) { edges { node { id subject status priority updatedAt assignee { id name } } } } }`)
			if big >= small {
				t.Fatalf("%d costly requests fit in the limit, as many as %d cheap ones", big, small)
			}
		})
		t.Run("WebsocketSubscribeGetsAnErrorAndStaysOpen", func(t *testing.T) {
			ws := connectWS(t, s, "graphql-transport-ws", admin) // the user is over the limit
			ws.subscribe("1", `subscription { ticketEvents { type } }`, nil)
			m := ws.next()
			if m.Type != "error" || !bytes.Contains(m.Payload, []byte("RATE_LIMITED")) {
				t.Fatalf("got %s %s, want an error with RATE_LIMITED", m.Type, m.Payload)
			}
			ws.send(wsMessage{Type: "ping"})
			if m, err := ws.read(liveWait); err != nil || m.Type != "pong" {
				t.Fatalf("the socket is not usable after the refusal: %s %v", m.Type, err)
			}
		})
	})
}

// TestLiveConnectionLimitTellsTheWait: beyond the live connections a user
// may hold, an event stream gets HTTP 429 with Retry-After and
// extensions.retryAfter, and a websocket's 4429 close says when to retry.
func TestLiveConnectionLimitTellsTheWait(t *testing.T) {
	s := startServer(t, dbtest.NewTarget(t, dbtest.SQLite), liveEnv(map[string]string{"SWITCHBOARD_MAX_CONNECTIONS_PER_USER": "1"}))
	cust, _ := signup(t, s, "cara@example.com", "Cara")
	liveConnect(t, s, "graphql-transport-ws", cust)

	t.Run("EventStreamGets429WithRetryAfter", func(t *testing.T) {
		res := liveSSE(t, s, cust, `subscription { ticketEvents { type } }`)
		var r gqlResponse
		if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
			t.Fatalf("status %d, body not JSON: %v", res.StatusCode, err)
		}
		wantRateLimited(t, res, r)
	})
	t.Run("WebsocketCloseSaysWhenToRetry", func(t *testing.T) {
		c, _, err := dialWS(t, s, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.init(cust)
		if code, reason := c.closeCode(liveWait); code != 4429 || !strings.Contains(reason, "try again in") {
			t.Fatalf("closed with %d %q, want 4429 saying when to try again", code, reason)
		}
	})
}
