package search_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/search"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// BenchmarkSearchPostgres seeds PostgreSQL with SEARCH_BENCH_MESSAGES
// messages (default 100000; ten per ticket, 30 words each from a skewed
// 2000-word vocabulary) through plain SQL, so the index triggers do the
// indexing as for a bulk import, then reports the p50/p95 latency of
// searches as an agent of a group holding half the tickets and as a
// customer.
//
//	TEST_DATABASE_URL=postgres://… go test -run '^$' -bench SearchPostgres -benchtime 200x ./internal/search
func BenchmarkSearchPostgres(b *testing.B) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		b.Skip("set TEST_DATABASE_URL to benchmark PostgreSQL search")
	}
	messages := 100000
	if v := os.Getenv("SEARCH_BENCH_MESSAGES"); v != "" {
		messages, _ = strconv.Atoi(v)
	}
	tg := dbtest.NewTarget(b, dbtest.Postgres)
	client := tg.Open(b)
	sys := viewer.SystemContext(context.Background())
	agent := client.User.Create().SetEmail("agent@example.com").SetName("Agent").SetRole(user.RoleAGENT).SaveX(sys)
	customer := client.User.Create().SetEmail("c0@example.com").SetName("C0").SetRole(user.RoleCUSTOMER).SaveX(sys)
	g := client.Group.Create().SetName("Billing").AddMemberIDs(agent.ID).SaveX(sys)
	tx, err := client.Tx(sys)
	if err != nil {
		b.Fatal(err)
	}
	exec := func(q string, args ...any) {
		b.Helper()
		t0 := time.Now()
		if _, err := tx.ExecContext(sys, q, args...); err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
		b.Logf("%.40s: %s", q, time.Since(t0).Round(time.Millisecond))
	}
	start := time.Now()
	exec(`SET LOCAL statement_timeout = 0`)
	exec(`INSERT INTO users (id, created_at, updated_at, email, name, role, active)
		SELECT 'US' || lpad(n::text, 24, '0'), now(), now(), 'c' || n || '@bench.example', 'C' || n, 'CUSTOMER', true
		FROM generate_series(1, 999) n`)
	tickets := messages / 10
	exec(`INSERT INTO tickets (id, created_at, updated_at, number, subject, status, priority, channel, tags, requester_id, group_id)
		SELECT 'TK' || lpad(n::text, 24, '0'), now() - n * interval '1 minute', now(), 1000 + n,
			(SELECT string_agg('w' || (1 + floor(random()^3 * 2000)::int), ' ') FROM generate_series(1, 6) WHERE n > 0),
			(ARRAY['NEW','OPEN','PENDING','SOLVED'])[1 + n % 4], 1 + n % 4, 'WEB', '[]',
			CASE WHEN n % 100 = 0 THEN $1 ELSE 'US' || lpad((1 + n % 999)::text, 24, '0') END,
			CASE WHEN n % 2 = 0 THEN $2 END
		FROM generate_series(1, $3::int) n`, string(customer.ID), string(g.ID), tickets)
	exec(`INSERT INTO messages (id, created_at, updated_at, body, internal, ticket_id, author_id)
		SELECT 'MS' || lpad(n::text, 24, '0'), now(), now(),
			(SELECT string_agg('w' || (1 + floor(random()^3 * 2000)::int), ' ') FROM generate_series(1, 30) WHERE n > 0),
			n % 7 = 0, 'TK' || lpad((1 + n % $1::int)::text, 24, '0'), $2
		FROM generate_series(1, $3::int) n`, tickets, string(agent.ID), messages)
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := client.ExecContext(sys, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d tickets, %d messages through the triggers in %s", tickets, messages, time.Since(start).Round(time.Second))

	svc := search.New(client, dialect.Postgres, search.Options{})
	as := func(id globalid.ID, role viewer.Role, groups ...globalid.ID) context.Context {
		return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: id, Role: role, GroupIDs: groups})
	}
	agentCtx, customerCtx := as(agent.ID, viewer.Agent, g.ID), as(customer.ID, viewer.Customer)
	queries := []struct {
		name string
		ctx  context.Context
		q    string
	}{
		{"AgentCommonWord", agentCtx, "w1"},
		{"AgentTwoWords", agentCtx, "w3 w40"},
		{"AgentRareWord", agentCtx, "w1990"},
		{"AgentPhrase", agentCtx, `"w1 w2"`},
		{"AgentNegation", agentCtx, "w5 -w1"},
		{"AgentFilters", agentCtx, "w2 status:open,pending priority:normal,high"},
		{"AgentNewest", agentCtx, "w7 sort:newest"},
		{"AgentRareNewest", agentCtx, "w1990 sort:newest"},
		{"AgentNoText", agentCtx, "status:pending"},
		{"CustomerCommonWord", customerCtx, "w1"},
		{"CustomerRareWord", customerCtx, "w1990"},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := svc.Search(q.ctx, q.q, nil, 20); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
			}
			slices.Sort(took)
			p := func(f float64) time.Duration { return took[int(f*float64(len(took)-1))] }
			b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p(0.95).Microseconds())/1000, "p95-ms")
		})
	}
	fmt.Fprintln(os.Stderr) // keep the seeding log apart from the results
}
