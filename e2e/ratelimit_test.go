package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestRateLimits: operations are charged to their user and address by
// cost; over the limit, HTTP gets 429 with Retry-After and RATE_LIMITED,
// and a websocket subscribe gets an error message on an open socket.
func TestRateLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "correct horse battery staple 1")
		env := map[string]string{"SWITCHBOARD_RATE_LIMIT_USER": "8", "SWITCHBOARD_RATE_LIMIT_IP": "0"}
		if url := os.Getenv("TEST_REDIS_URL"); url != "" && tg.Dialect == dbtest.Postgres {
			env["REDIS_URL"] = url // the Redis limiter; its keys are per user, and users are new per test
		}
		s := harness.Start(t, tg, env)
		admin := harness.Login(t, s, "admin@example.com", "correct horse battery staple 1")

		t.Run("OverTheLimitIs429WithRetryAfter", func(t *testing.T) {
			var last *http.Response
			var body map[string]any
			for i := 0; i < 20; i++ {
				raw, _ := json.Marshal(map[string]any{"query": `{ me { id } }`})
				req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(raw))
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
			if code := harness.Path(body, "errors", 0, "extensions", "code"); code != "RATE_LIMITED" {
				t.Fatalf("body %v", body)
			}
		})
		t.Run("CostlyOperationsCountMore", func(t *testing.T) {
			count := func(query string) int {
				cust, _ := harness.Signup(t, s, fmt.Sprintf("cara%d@example.com", rand.Int()), "Cara")
				n := 0
				for ; n < 20; n++ {
					if r := s.Do(t, cust, query, nil); r.Status == http.StatusTooManyRequests {
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
			ws := harness.ConnectWS(t, s, "graphql-transport-ws", admin) // the user is over the limit
			ws.Subscribe("1", `subscription { ticketEvents { type } }`, nil)
			m := ws.Next()
			if m.Type != "error" || !bytes.Contains(m.Payload, []byte("RATE_LIMITED")) {
				t.Fatalf("got %s %s, want an error with RATE_LIMITED", m.Type, m.Payload)
			}
			ws.Send(harness.WSMessage{Type: "ping"})
			if m, err := ws.Read(harness.LiveWait); err != nil || m.Type != "pong" {
				t.Fatalf("the socket is not usable after the refusal: %s %v", m.Type, err)
			}
		})
	})
}

// TestLiveConnectionLimitTellsTheWait: beyond the live connections a user
// may hold, an event stream gets HTTP 429 with Retry-After and
// extensions.retryAfter, and a websocket's 4429 close says when to retry.
func TestLiveConnectionLimitTellsTheWait(t *testing.T) {
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), harness.LiveEnv(map[string]string{"SWITCHBOARD_MAX_CONNECTIONS_PER_USER": "1"}))
	cust, _ := harness.Signup(t, s, "cara@example.com", "Cara")
	harness.ConnectStream(t, s, "graphql-transport-ws", cust)

	t.Run("EventStreamGets429WithRetryAfter", func(t *testing.T) {
		res := harness.SSE(t, s, cust, `subscription { ticketEvents { type } }`)
		var r harness.Response
		if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
			t.Fatalf("status %d, body not JSON: %v", res.StatusCode, err)
		}
		wantRateLimited(t, res, r)
	})
	t.Run("WebsocketCloseSaysWhenToRetry", func(t *testing.T) {
		c, _, err := harness.DialWS(t, s, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Init(cust)
		if code, reason := c.CloseCode(harness.LiveWait); code != 4429 || !strings.Contains(reason, "try again in") {
			t.Fatalf("closed with %d %q, want 4429 saying when to try again", code, reason)
		}
	})
}
