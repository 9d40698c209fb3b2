package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/seed"
)

// BenchmarkPages measures the list page of issue 15 under closed-loop
// load on PostgreSQL: 100,000 tickets and 500,000 messages, an admin
// asking for the 50 most recently updated tickets with their requester,
// assignee, group and last 3 messages (with and without totalCount), and
// one user by node(id:). Each of N clients (8, 16 and 32 by default) sends
// its next request as soon as the last one is answered, over keep-alive
// connections, for SWITCHBOARD_BENCH_DURATION (default 10s) after a
// warm-up; requests/s, p50 and p99 are logged.
//
// The seeded database is kept between runs, because seeding it costs a
// minute and its vacuum another: it is SWITCHBOARD_BENCH_PAGES_DB
// (default switchboard_bench_pages) on the server of
// SWITCHBOARD_BENCH_DATABASE_URL, reused when its comment says it was
// seeded with the same sizes, made anew otherwise or when
// SWITCHBOARD_BENCH_RESEED=1. SWITCHBOARD_BENCH_BINARY runs a binary built
// elsewhere (another commit, to compare) instead of building this tree.
//
//	SWITCHBOARD_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test ./bench -run '^$' -bench Pages -benchtime 1x -timeout 30m -v
func BenchmarkPages(b *testing.B) {
	base := os.Getenv("SWITCHBOARD_BENCH_DATABASE_URL")
	if base == "" {
		b.Skip("set SWITCHBOARD_BENCH_DATABASE_URL to a PostgreSQL server to run the list-page benchmark")
	}
	tickets := envInt(b, "SWITCHBOARD_BENCH_TICKETS", 100_000)
	messages := envInt(b, "SWITCHBOARD_BENCH_MESSAGES", 500_000)
	duration := envDuration(b, "SWITCHBOARD_BENCH_DURATION", 10*time.Second)
	levels := envInts(b, "SWITCHBOARD_BENCH_CONCURRENCY", []int{8, 16, 32})
	name := os.Getenv("SWITCHBOARD_BENCH_PAGES_DB")
	if name == "" {
		name = "switchboard_bench_pages"
	}
	if !regexp.MustCompile(`^[a-z_][a-z0-9_]*$`).MatchString(name) {
		b.Fatalf("SWITCHBOARD_BENCH_PAGES_DB=%q: want a plain lower-case identifier", name)
	}
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		bin := os.Getenv("SWITCHBOARD_BENCH_BINARY")
		if bin == "" {
			bin = buildServer(b, dir)
		}
		db := seededDatabase(b, bin, base, name, tickets, messages)
		settings := map[string]string{
			"DATABASE_URL":                db.url,
			"SWITCHBOARD_ENCRYPTION_KEY":  db.key,
			"SWITCHBOARD_ADDR":            "127.0.0.1:0",
			"SWITCHBOARD_LOG_FORMAT":      "json",
			"SWITCHBOARD_RATE_LIMIT_USER": "0",
			"SWITCHBOARD_RATE_LIMIT_IP":   "0",
		}
		srv := startServer(b, bin, dir, "server.log", settings)
		client := newGQLClient(srv.URL)
		token, err := client.Login(context.Background(), db.admin, seed.Password)
		if err != nil {
			b.Fatalf("login %s: %v", db.admin, err)
		}
		var page struct {
			Tickets struct {
				Edges []struct {
					Node struct{ Requester struct{ ID string } }
				}
			}
		}
		if err := client.Do(context.Background(), token, pagesQuery, nil, &page); err != nil {
			b.Fatal(err)
		}
		if len(page.Tickets.Edges) != 50 {
			b.Fatalf("the page has %d tickets, want 50", len(page.Tickets.Edges))
		}
		userID := page.Tickets.Edges[0].Node.Requester.ID
		scenarios := []struct {
			name, metric, query string
			vars                map[string]any
		}{
			{"page of 50", "page", pagesQuery, nil},
			{"page of 50 + totalCount", "count", pagesCountQuery, nil},
			{"user by node(id:)", "node", nodeQuery, map[string]any{"id": userID}},
		}
		b.Logf("%d tickets, %d messages (database %s); %s per point after a %s warm-up; GOMAXPROCS of this client %d",
			tickets, messages, name, duration, warmUp(duration), runtime.GOMAXPROCS(0))
		b.Logf("%-26s %4s %9s %9s %9s %11s %8s", "request", "c", "req/s", "p50 ms", "p99 ms", "server CPU", "errors")
		for _, sc := range scenarios {
			perf := startPerf(b, srv.pid, "pages-"+sc.metric)
			body, _ := json.Marshal(map[string]any{"query": sc.query, "variables": sc.vars})
			for _, c := range levels {
				cpu0, _ := readProcCPU(srv.pid)
				r := closedLoop(srv.URL+"/query", token, body, c, duration)
				cpu1, _ := readProcCPU(srv.pid)
				// The server's CPU per request is what the machine's other
				// load (the client, PostgreSQL, other processes) changes
				// least.
				cpuPer := float64((cpu1 - cpu0).Microseconds()) / 1000 / float64(max(r.requests, 1))
				b.Logf("%-26s %4d %9.0f %9.2f %9.2f %8.2f ms %8d", sc.name, c, r.rate, r.p50, r.p99, cpuPer, r.errors)
				if r.firstErr != nil {
					b.Errorf("%s at c=%d: %d failed, the first: %v", sc.name, c, r.errors, r.firstErr)
				}
				b.ReportMetric(r.rate, fmt.Sprintf("%s-c%d-req/s", sc.metric, c))
				b.ReportMetric(cpuPer, fmt.Sprintf("%s-c%d-cpu-ms/req", sc.metric, c))
			}
			if s := perf.stop(b); s != "" {
				b.Log(s)
			}
		}
		srv.stop()
	}
}

// The queries of issue 15, as an admin.
const (
	pagesFields = `edges { node { id number subject status priority updatedAt
	requester { id name email } assignee { name } group { name }
	messages(last: 3) { edges { node { body createdAt } } } } }`
	pagesQuery      = `{ tickets(first: 50, orderBy: {field: UPDATED_AT, direction: DESC}) { ` + pagesFields + ` } }`
	pagesCountQuery = `{ tickets(first: 50, orderBy: {field: UPDATED_AT, direction: DESC}) { totalCount ` + pagesFields + ` } }`
	nodeQuery       = `query($id: ID!) { node(id: $id) { id ... on User { name email } } }`
)

// benchDatabase is the seeded database of BenchmarkPages.
type benchDatabase struct {
	url, key, admin string
}

// seedMarker is the database comment of a seeded database: the sizes, the
// encryption key of its confidential columns and an admin login (the key
// is a throwaway made for this database, which holds nothing but
// generated data).
var seedMarker = regexp.MustCompile(`^switchboard-bench-pages tickets=(\d+) messages=(\d+) admin=(\S+) key=(\S+)$`)

// seededDatabase returns the database name on the server of base seeded
// with tickets and messages: the one kept from an earlier run if its
// comment says so, else a new one (migrated with bin, seeded, vacuumed).
func seededDatabase(tb testing.TB, bin, base, name string, tickets, messages int) benchDatabase {
	tb.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	db := benchDatabase{url: u.String()}
	var comment sql.NullString
	err = admin.QueryRow(`SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`, name).Scan(&comment)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		tb.Fatal(err)
	}
	if m := seedMarker.FindStringSubmatch(comment.String); exists && m != nil && os.Getenv("SWITCHBOARD_BENCH_RESEED") == "" &&
		m[1] == strconv.Itoa(tickets) && m[2] == strconv.Itoa(messages) {
		db.admin, db.key = m[3], m[4]
		// Migrations the binary has and the kept database lacks.
		runCommand(tb, bin, map[string]string{"DATABASE_URL": db.url, "SWITCHBOARD_ENCRYPTION_KEY": db.key}, "migrate", "up")
		tb.Logf("reusing database %s (SWITCHBOARD_BENCH_RESEED=1 seeds it anew)", name)
		return db
	}
	if exists {
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatal(err)
	}
	db.key = strings.TrimSpace(runCommand(tb, bin, nil, "keys", "generate"))
	settings := map[string]string{"DATABASE_URL": db.url, "SWITCHBOARD_ENCRYPTION_KEY": db.key}
	runCommand(tb, bin, settings, "migrate", "up")
	start := time.Now()
	out := runCommand(tb, bin, settings, "seed", "--tickets", strconv.Itoa(tickets), "--messages", strconv.Itoa(messages))
	m := regexp.MustCompile(`(?m)^\s*admin\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("no admin login in the seed output:\n%s", out)
	}
	db.admin = m[1]
	analyze(tb, db.url)
	tb.Logf("seeded database %s in %s", name, time.Since(start).Round(time.Second))
	// Marked last: a run stopped half-way leaves a database seeded anew
	// next time.
	marker := fmt.Sprintf("switchboard-bench-pages tickets=%d messages=%d admin=%s key=%s", tickets, messages, db.admin, db.key)
	if _, err := admin.Exec("COMMENT ON DATABASE " + name + " IS '" + strings.ReplaceAll(marker, "'", "''") + "'"); err != nil {
		tb.Fatal(err)
	}
	return db
}

// loadResult is one point of closedLoop.
type loadResult struct {
	rate, p50, p99 float64 // requests/s; ms
	requests       int     // answered, the warm-up's too
	errors         int
	firstErr       error
}

// warmUp is how long closedLoop runs before it measures.
func warmUp(d time.Duration) time.Duration { return min(d/5, 3*time.Second) }

// closedLoop posts body to url from c clients at once, each sending its
// next request when the last is answered, for d after a warm-up. A
// response other than 200 with data and no errors counts as an error.
func closedLoop(url, token string, body []byte, c int, d time.Duration) loadResult {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = c, c
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	defer tr.CloseIdleConnections()
	start := time.Now()
	measureFrom, end := start.Add(warmUp(d)), start.Add(warmUp(d)+d)
	lat := make([][]float64, c)
	errs, done := make([]int, c), make([]int, c)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := bytes.NewBuffer(make([]byte, 0, 64<<10))
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := post(hc, url, token, body, buf)
				t1 := time.Now()
				done[w]++
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					errs[w]++
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				lat[w] = append(lat[w], float64(t1.Sub(t0).Microseconds())/1000)
			}
		}()
	}
	wg.Wait()
	var all []float64
	r := loadResult{firstErr: firstErr}
	for w := range c {
		all = append(all, lat[w]...)
		r.errors += errs[w]
		r.requests += done[w]
	}
	s := summarize(all)
	r.rate = float64(len(all)) / d.Seconds()
	r.p50, r.p99 = s.P50, s.P99
	return r
}

// post sends one request and checks its answer, reading it into buf.
func post(hc *http.Client, url, token string, body []byte, buf *bytes.Buffer) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	buf.Reset()
	if _, err := io.Copy(buf, res.Body); err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || !bytes.HasPrefix(buf.Bytes(), []byte(`{"data":`)) || bytes.Contains(buf.Bytes(), []byte(`"errors":`)) {
		return fmt.Errorf("status %d: %.300s", res.StatusCode, buf.Bytes())
	}
	return nil
}

func envDuration(tb testing.TB, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		tb.Fatalf("%s=%q: want a positive duration", name, v)
	}
	return d
}

func envInts(tb testing.TB, name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			tb.Fatalf("%s=%q: want positive numbers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}
