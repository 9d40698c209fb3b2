package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"
)

// BenchmarkMillion measures the data budget of the design on PostgreSQL
// with the real binary: seeding a million messages (`switchboard seed`),
// then, through the running server's GraphQL API as an agent, the latency
// of a ticket-list page and of searches. It needs a PostgreSQL server
// (SWITCHBOARD_BENCH_DATABASE_URL); it creates a database of its own there
// and drops it afterwards (SWITCHBOARD_BENCH_KEEP=1 keeps it).
//
//	SWITCHBOARD_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test ./bench -run '^$' -bench Million -benchtime 1x -timeout 60m -v
func BenchmarkMillion(b *testing.B) {
	base := os.Getenv("SWITCHBOARD_BENCH_DATABASE_URL")
	if base == "" {
		b.Skip("set SWITCHBOARD_BENCH_DATABASE_URL to a PostgreSQL server to run the million-message benchmark")
	}
	tickets := envInt(b, "SWITCHBOARD_BENCH_TICKETS", 100_000)
	messages := envInt(b, "SWITCHBOARD_BENCH_MESSAGES", 1_000_000)
	repeat := envInt(b, "SWITCHBOARD_BENCH_REPEAT", 100)
	for i := 0; i < b.N; i++ {
		dbURL := createDatabase(b, base)
		dir := b.TempDir()
		bin := buildServer(b, dir)
		key := strings.TrimSpace(runCommand(b, bin, nil, "keys", "generate"))
		settings := map[string]string{
			"DATABASE_URL":                dbURL,
			"SWITCHBOARD_ENCRYPTION_KEY":  key,
			"SWITCHBOARD_ADDR":            "127.0.0.1:0",
			"SWITCHBOARD_LOG_FORMAT":      "json",
			"SWITCHBOARD_RATE_LIMIT_USER": "0",
			"SWITCHBOARD_RATE_LIMIT_IP":   "0",
		}
		runCommand(b, bin, settings, "migrate", "up")
		start := time.Now()
		out := runCommand(b, bin, settings, "seed", "--tickets", strconv.Itoa(tickets), "--messages", strconv.Itoa(messages))
		seedTime := time.Since(start)
		agent := regexp.MustCompile(`(?m)^\s*agent\s+(\S+)`).FindStringSubmatch(out)
		customer := regexp.MustCompile(`(?m)^\s*customer\s+(\S+)`).FindStringSubmatch(out)
		if agent == nil || customer == nil {
			b.Fatalf("no sample logins in the seed output:\n%s", out)
		}
		analyze(b, dbURL)

		srv := startServer(b, bin, dir, "server.log", settings)
		client := newGQLClient(srv.URL)
		agentToken, err := client.Login(context.Background(), agent[1], seed.Password)
		if err != nil {
			b.Fatalf("login %s: %v", agent[1], err)
		}
		customerToken, err := client.Login(context.Background(), customer[1], seed.Password)
		if err != nil {
			b.Fatalf("login %s: %v", customer[1], err)
		}

		type scenario struct {
			name, token, query string
			vars               map[string]any
		}
		scenarios := []scenario{
			{"ticket page (50, agent)", agentToken, ticketPageQuery, map[string]any{"first": 50}},
			{"ticket page (50, agent) + totalCount", agentToken, ticketPageCountQuery, map[string]any{"first": 50}},
			{"ticket page (50, customer)", customerToken, ticketPageQuery, map[string]any{"first": 50}},
		}
		for _, q := range []string{
			"refund", "duplicate payment card", `"reset email"`, "webhook -timeout",
			"login status:open priority:high,urgent", "parcel sort:newest", "status:pending assignee:none",
			"tag:billing updated:<30d", "charity discount is:unassigned",
		} {
			scenarios = append(scenarios, scenario{"search " + q + " (agent)", agentToken, searchQuery, map[string]any{"q": q}})
		}
		scenarios = append(scenarios,
			scenario{"search refund (customer)", customerToken, searchQuery, map[string]any{"q": "refund"}},
			scenario{"search password (customer)", customerToken, searchQuery, map[string]any{"q": "password"}})

		b.Logf("seed --tickets %d --messages %d: %s; measuring as agent %s and customer %s", tickets, messages, seedTime.Round(time.Second), agent[1], customer[1])
		b.ReportMetric(seedTime.Seconds(), "seed-s")
		b.Logf("%-52s %5s %9s %9s %9s %7s", "request", "n", "p50 ms", "p95 ms", "max ms", "results")
		var searchP95, pageP95 float64
		for _, sc := range scenarios {
			var lat []float64
			results := 0
			for j := 0; j < repeat; j++ {
				t0 := time.Now()
				n := countEdges(b, client, sc.token, sc.query, sc.vars)
				lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
				results = n
			}
			s := summarize(lat)
			p95 := percentile(lat, 95)
			b.Logf("%-52s %5d %9.1f %9.1f %9.1f %7d", sc.name, s.N, s.P50, p95, s.Max, results)
			if strings.HasPrefix(sc.name, "search") {
				searchP95 = max(searchP95, p95)
			} else if sc.name == "ticket page (50, agent)" {
				pageP95 = p95
			}
		}
		b.ReportMetric(searchP95, "worst-search-p95-ms")
		b.ReportMetric(pageP95, "page-p95-ms")
	}
}

const ticketPageFields = `edges { node { id number subject status priority tags
	requester { id name email }
	assignee { id name }
	group { id name }
	messages(last: 3) { edges { node { id body internal createdAt author { id name } } } }
} }
pageInfo { hasNextPage endCursor }`

var (
	ticketPageQuery      = `query($first: Int!) { tickets(first: $first, orderBy: [{field: CREATED_AT, direction: DESC}]) { ` + ticketPageFields + ` } }`
	ticketPageCountQuery = `query($first: Int!) { tickets(first: $first, orderBy: [{field: CREATED_AT, direction: DESC}]) { totalCount ` + ticketPageFields + ` } }`
	searchQuery          = `query($q: String!) { search(query: $q, first: 20) { edges { cursor node { id number subject status } } pageInfo { hasNextPage endCursor } } }`
)

func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// createDatabase makes a fresh database on the server of base.
func createDatabase(tb testing.TB, base string) string {
	tb.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	name := fmt.Sprintf("switchboard_bench_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("creating the benchmark database: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if os.Getenv("SWITCHBOARD_BENCH_KEEP") != "" {
			tb.Logf("kept database %s", name)
			return
		}
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			tb.Logf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// analyze vacuums and analyzes the database after the bulk load, as the
// README asks operators to (autovacuum would, minutes later): fresh
// planner statistics, and every row's visibility settled once instead of
// by the first queries; then a CHECKPOINT, so that the gigabyte of WAL
// the load wrote is not being flushed while latencies are measured. What
// is measured is the steady state.
func analyze(tb testing.TB, dbURL string) {
	tb.Helper()
	cmd := exec.Command("psql", dbURL, "-qc", "VACUUM ANALYZE", "-qc", "CHECKPOINT")
	if out, err := cmd.CombinedOutput(); err != nil {
		db, err2 := sql.Open("pgx", dbURL)
		if err2 != nil {
			tb.Fatalf("ANALYZE: %v %s", err, out)
		}
		defer db.Close()
		for _, q := range []string{"VACUUM ANALYZE", "CHECKPOINT"} {
			if _, err := db.Exec(q); err != nil {
				tb.Fatalf("%s: %v", q, err)
			}
		}
	}
}

// countEdges runs a query and returns how many edges its first field
// has, failing on any error.
func countEdges(tb testing.TB, c *harness.Client, token, query string, vars map[string]any) int {
	tb.Helper()
	var out map[string]struct{ Edges []json.RawMessage }
	if err := c.Do(context.Background(), token, query, vars, &out); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	for _, v := range out {
		return len(v.Edges)
	}
	return 0
}
