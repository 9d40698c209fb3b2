package live_test

import (
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestSessionsOfLiveConnections: an open websocket is use of its session,
// so the idle timeout does not end it; the absolute timeout still does,
// and closes the socket with 4403.
func TestSessionsOfLiveConnections(t *testing.T) {
	const password = "amber signal tundra 58"
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "agent@example.com", "Alice Agent", "agent", password)
		redis := func(env map[string]string) map[string]string {
			if url := os.Getenv("TEST_REDIS_URL"); url != "" && tg.Dialect == dbtest.Postgres {
				env["REDIS_URL"] = url // the shared cache of credentials, too
			}
			return env
		}

		t.Run("AnOpenWebsocketKeepsItsSessionFromIdling", func(t *testing.T) {
			const idle = 2 * time.Second
			s := harness.Start(t, tg, redis(harness.LiveEnv(map[string]string{"SWITCHBOARD_SESSION_IDLE_TIMEOUT": idle.String()})))
			connected := harness.Login(t, s, "agent@example.com", password)
			unused := harness.Login(t, s, "agent@example.com", password)
			st := harness.ConnectStream(t, s, "graphql-transport-ws", connected)
			st.Sub(t, "1", liveEvents, nil)

			time.Sleep(idle + idle/2)
			if _, _, closed := st.Recv(0); closed {
				t.Fatalf("the websocket was closed: %v", st.Err())
			}
			if r := s.Do(t, connected, `{ me { id } }`, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("the session of the open websocket expired: status %d, errors %+v", r.Status, r.Errors)
			}
			if r := s.Do(t, unused, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("a session unused for %s still works: status %d", idle+idle/2, r.Status)
			}
		})

		t.Run("TheAbsoluteTimeoutClosesTheWebsocketWith4403", func(t *testing.T) {
			const absolute = 2 * time.Second
			s := harness.Start(t, tg, redis(harness.LiveEnv(map[string]string{"SWITCHBOARD_SESSION_ABSOLUTE_TIMEOUT": absolute.String()})))
			token := harness.Login(t, s, "agent@example.com", password)
			ws := harness.ConnectWS(t, s, "graphql-transport-ws", token)
			ws.Subscribe("1", liveEvents, nil)
			if code, reason := ws.CloseCode(absolute + harness.LiveWait); code != live.CloseForbidden {
				t.Fatalf("closed with %d %q, want %d", code, reason, live.CloseForbidden)
			}
			if r := s.Do(t, token, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("the token works after the absolute timeout: status %d", r.Status)
			}
		})
	})
}
