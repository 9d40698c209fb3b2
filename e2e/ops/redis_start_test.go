package ops_test

import (
	"net"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// Redis unreachable at start-up: a clear error, or with --redis-optional a
// server that runs degraded (live updates by reading the event log).
func TestRedisUnreachableAtStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "redis://" + l.Addr().String() + "/0"
	l.Close() // nothing listens there now

	t.Run("ErrRedisUnreachableStopsStartWithOneLine", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		env := harness.TargetEnv(tg)
		env["REDIS_URL"] = dead
		code, out := harness.RunCLI(t, env, "", "serve")
		if code != cli.ExitUsage || !strings.Contains(out, "REDIS_URL") || !strings.Contains(out, "--redis-optional") ||
			strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Fatalf("exit %d: %q", code, out)
		}
	})
	t.Run("RedisOptionalRunsDegraded", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "correct horse battery staple 1")
		s := harness.Start(t, tg, map[string]string{"REDIS_URL": dead, "SWITCHBOARD_LOG_LEVEL": "info"}, "--redis-optional")
		if !strings.Contains(s.Out.String(), "running degraded") {
			t.Fatalf("no warning about the degraded mode in the log:\n%s", s.Out)
		}
		admin := harness.Login(t, s, "admin@example.com", "correct horse battery staple 1")
		ws := harness.ConnectWS(t, s, "graphql-transport-ws", admin)
		ws.Subscribe("1", `subscription { ticketEvents { type } }`, nil)
		s.Do(t, admin, `mutation { createTicket(input: {subject: "Degraded", body: "still live"}) { id } }`, nil).OK(t)
		if got := ws.Data("1"); harness.Str(got, "ticketEvents", "type") != "TICKET_CREATED" {
			t.Fatalf("got %v", got)
		}
	})
}
