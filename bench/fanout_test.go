package bench

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The fan-out benchmark: N websocket subscribers of ticketEvents (all
// admins, so every event reaches every subscriber, as for wallboards),
// connected to the real server binary on SQLite; it measures the server's
// memory per idle subscriber, then the delivery latency of ticket updates
// published at a steady rate. See BENCHMARKS.md.
//
//	go test ./bench -run '^$' -bench Fanout -benchtime 1x -timeout 30m -v
//	SWITCHBOARD_BENCH=1 go test ./bench -run TestFanout -count=1 -timeout 30m -v

// Budgets (BENCHMARKS.md).
const (
	budgetIdleKBPerSubscriber = 40
	budgetP99                 = 250 * time.Millisecond
)

type fanoutConfig struct {
	Subscribers int
	// Users is the number of wallboard users the subscribers are spread
	// over (round robin), each an admin with one READ API token.
	Users int
	// Rate of ticket updates per second, for Duration.
	Rate     float64
	Duration time.Duration
	// DialConcurrency is the number of subscribers connecting at once.
	DialConcurrency int
	// Settle is the pause after the last subscriber connected, before the
	// idle memory is read.
	Settle time.Duration
	// KeepAlive is SWITCHBOARD_WS_KEEPALIVE.
	KeepAlive string
}

// configFromEnv is the default configuration for n subscribers, with the
// SWITCHBOARD_BENCH_* overrides of the environment.
func configFromEnv(tb testing.TB, n int) fanoutConfig {
	cfg := fanoutConfig{
		Subscribers: n, Users: 10, Rate: 10, Duration: 10 * time.Second,
		DialConcurrency: 32, Settle: 5 * time.Second, KeepAlive: "10m",
	}
	intEnv := func(name string, dst *int) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				tb.Fatalf("%s=%q: want a positive whole number", name, v)
			}
			*dst = n
		}
	}
	durEnv := func(name string, dst *time.Duration) {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				tb.Fatalf("%s=%q: want a duration such as 10s", name, v)
			}
			*dst = d
		}
	}
	intEnv("SWITCHBOARD_BENCH_USERS", &cfg.Users)
	intEnv("SWITCHBOARD_BENCH_DIAL_CONCURRENCY", &cfg.DialConcurrency)
	durEnv("SWITCHBOARD_BENCH_DURATION", &cfg.Duration)
	durEnv("SWITCHBOARD_BENCH_SETTLE", &cfg.Settle)
	if v := os.Getenv("SWITCHBOARD_BENCH_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			tb.Fatalf("SWITCHBOARD_BENCH_RATE=%q: want events per second", v)
		}
		cfg.Rate = r
	}
	if v := os.Getenv("SWITCHBOARD_BENCH_KEEPALIVE"); v != "" {
		cfg.KeepAlive = v
	}
	return cfg
}

// sizes are the subscriber counts of the benchmark, named as sub-benchmarks.
func sizes(tb testing.TB) []int {
	v := os.Getenv("SWITCHBOARD_BENCH_SUBSCRIBERS")
	if v == "" {
		return []int{1000, 10000}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			tb.Fatalf("SWITCHBOARD_BENCH_SUBSCRIBERS=%q: want counts such as 1000,10000", v)
		}
		out = append(out, n)
	}
	return out
}

func sizeName(n int) string {
	if n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// BenchmarkFanout runs the whole scenario once per size, whatever b.N
// (use -benchtime 1x): the interesting numbers are the reported metrics.
func BenchmarkFanout(b *testing.B) {
	for _, n := range sizes(b) {
		b.Run(sizeName(n), func(b *testing.B) {
			r := runFanout(b, configFromEnv(b, n))
			r.log(b)
			b.ReportMetric(r.perSubscriberKB(), "KB/sub-idle")
			b.ReportMetric(float64(r.IdleRSSKB)/1024, "MB-idle-RSS")
			b.ReportMetric(r.LatAt.P50, "p50-ms")
			b.ReportMetric(r.LatAt.P99, "p99-ms")
			b.ReportMetric(r.LatAt.Max, "max-ms")
			b.ReportMetric(r.LatSend.P99, "p99-e2e-ms")
			b.ReportMetric(float64(r.Missing), "missing")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// TestFanout is the same scenario as a test, run only on request, that
// fails when a delivery is lost or a budget is missed.
func TestFanout(t *testing.T) {
	if os.Getenv("SWITCHBOARD_BENCH") != "1" {
		t.Skip("fan-out load benchmark (minutes, 10k sockets): run with SWITCHBOARD_BENCH=1 go test ./bench -run TestFanout -count=1 -timeout 30m -v")
	}
	for _, n := range sizes(t) {
		t.Run(sizeName(n), func(t *testing.T) {
			r := runFanout(t, configFromEnv(t, n))
			r.log(t)
			if r.Missing > 0 || r.Disconnected > 0 {
				t.Errorf("%d deliveries missing, %d subscribers disconnected", r.Missing, r.Disconnected)
			}
			if kb := r.perSubscriberKB(); kb > budgetIdleKBPerSubscriber {
				t.Errorf("idle memory %.1f KB per subscriber, budget %d KB", kb, budgetIdleKBPerSubscriber)
			}
			if r.LatAt.P99 > float64(budgetP99.Milliseconds()) {
				t.Errorf("p99 delivery latency %.1f ms, budget %s", r.LatAt.P99, budgetP99)
			}
		})
	}
}

// fanoutResult is what one run measured.
type fanoutResult struct {
	cfg fanoutConfig

	Connect                         time.Duration
	ConnectServerCPU                time.Duration
	BaseRSSKB, IdleRSSKB, LoadRSSKB int64
	PeakRSSKB                       int64
	IdleThreads                     int
	BaseGC, IdleGC                  gcTrace
	BaseGCOK, IdleGCOK              bool

	Events, MutationErrors int
	Mutation               latencySummary
	Deliveries, Expected   int
	Missing, Duplicates    int
	Disconnected           int
	FirstError             string
	LatAt, LatSend         latencySummary
	// First is when the first subscriber got each event (after at);
	// Spread how long the last subscriber waited after the first.
	First, Spread                      latencySummary
	Worst                              []eventStat
	PublishWall                        time.Duration
	PublishServerCPU, PublishClientCPU time.Duration
	// MachineBusy is the share of all CPUs busy in the publish phase
	// (both processes, the kernel's network processing, anything else).
	MachineBusy float64
	// BusyBefore is the share of all CPUs busy just before the run.
	BusyBefore float64
	// PublishGCs is the number of GC cycles in the publish phase;
	// PublishGCEnd the last of them.
	PublishGCs   int
	PublishGCEnd gcTrace
	// Timeline is every event in publish order (SWITCHBOARD_BENCH_EVENTS=1).
	Timeline        []eventStat
	Goroutines      int
	GoroutineGroups []goroutineGroup
	// SettleRSSMB samples the RSS while the subscribers sit idle.
	SettleRSSMB []int
	// Perf is the head of perf's reports of the publish phase
	// (SWITCHBOARD_BENCH_PERF).
	Perf string
}

type eventStat struct {
	Idx                  int
	AtOffset             time.Duration // since the first event
	First, P50, P99, Max float64       // ms after at
	Mutation             float64       // ms the updateTicket took
}

func (r fanoutResult) perSubscriberKB() float64 {
	return float64(r.IdleRSSKB-r.BaseRSSKB) / float64(r.cfg.Subscribers)
}

// subscriber is one websocket client of ticketEvents.
type subscriber struct {
	conn       *websocket.Conn
	deliveries []delivery
}

type delivery struct {
	idx  int32
	recv int64 // unix ns
}

// fanout is the state the subscribers' readers share.
type fanout struct {
	at         []atomic.Int64 // per event: its at, unix ns
	delivered  atomic.Int64
	warmups    atomic.Int64
	ended      atomic.Int64
	stopping   atomic.Bool
	unexpected atomic.Int64
	errOnce    sync.Once
	firstErr   string
}

func (f *fanout) noteErr(err error) {
	f.errOnce.Do(func() { f.firstErr = err.Error() })
}

var (
	pongMsg     = []byte(`{"type":"pong"}`)
	writeBuffer = &sync.Pool{}
)

// dialSubscriber connects, authenticates and subscribes, and returns once
// the server has registered the subscription (the pong that answers the
// ping sent after subscribe comes after the subscribe was handled).
func dialSubscriber(ctx context.Context, wsURL, token string) (*websocket.Conn, error) {
	d := websocket.Dialer{
		Subprotocols:     []string{"graphql-transport-ws"},
		HandshakeTimeout: 30 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  256,
		WriteBufferPool:  writeBuffer,
	}
	c, _, err := d.DialContext(ctx, wsURL, nil)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*websocket.Conn, error) { c.Close(); return nil, err }
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	init := `{"type":"connection_init","payload":{"authorization":"Bearer ` + token + `"}}`
	if err := c.WriteMessage(websocket.TextMessage, []byte(init)); err != nil {
		return fail(err)
	}
	await := func(want []byte) error {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return err
			}
			switch {
			case bytes.Contains(msg, want):
				return nil
			case bytes.Contains(msg, typePing):
				if err := c.WriteMessage(websocket.TextMessage, pongMsg); err != nil {
					return err
				}
			default:
				return fmt.Errorf("got %.300s while waiting for %s", msg, want)
			}
		}
	}
	if err := await(typeAck); err != nil {
		return fail(fmt.Errorf("connection_init: %w", err))
	}
	sub := `{"id":"1","type":"subscribe","payload":{"query":"` + subscription + `"}}`
	if err := c.WriteMessage(websocket.TextMessage, []byte(sub)); err != nil {
		return fail(err)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
		return fail(err)
	}
	if err := await(typePong); err != nil {
		return fail(fmt.Errorf("subscribe: %w", err))
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, nil
}

// read records the deliveries until the connection ends.
func (s *subscriber) read(f *fanout) {
	var buf bytes.Buffer
	end := func(err error) {
		if !f.stopping.Load() {
			f.ended.Add(1)
			f.noteErr(fmt.Errorf("subscriber connection ended: %w", err))
		}
	}
	for {
		_, r, err := s.conn.NextReader()
		if err != nil {
			end(err)
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			end(err)
			return
		}
		now := time.Now().UnixNano()
		msg := buf.Bytes()
		switch {
		case bytes.Contains(msg, typeNext):
			switch idx := eventIndex(msg); {
			case idx >= 0 && idx < len(f.at):
				s.deliveries = append(s.deliveries, delivery{int32(idx), now})
				if f.at[idx].Load() == 0 {
					if at, ok := eventAt(msg); ok {
						f.at[idx].Store(at.UnixNano())
					}
				}
				f.delivered.Add(1)
			case idx == -1:
				f.warmups.Add(1)
			default:
				f.unexpected.Add(1)
				f.noteErr(fmt.Errorf("unexpected event %.300s", msg))
			}
		case bytes.Contains(msg, typePing):
			if err := s.conn.WriteMessage(websocket.TextMessage, pongMsg); err != nil {
				end(err)
				return
			}
		case bytes.Contains(msg, typePong):
		default:
			f.unexpected.Add(1)
			f.noteErr(fmt.Errorf("unexpected message %.300s", msg))
		}
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func runFanout(tb testing.TB, cfg fanoutConfig) fanoutResult {
	n := cfg.Subscribers
	res := fanoutResult{cfg: cfg}
	if lim, err := raiseFileLimit(uint64(n + 4096)); err != nil || lim < uint64(n+512) {
		tb.Fatalf("RLIMIT_NOFILE is %d (err %v): %d subscribers need at least %d open files in this process and in the server; raise the hard limit (ulimit -Hn)", lim, err, n, n+512)
	}
	dir := tb.TempDir()
	bin := buildServer(tb, dir)
	// Whatever else runs on the machine competes with the server and
	// the client for the CPU: measure it before starting.
	mb0, mt0 := readMachineCPU()
	time.Sleep(2 * time.Second)
	if mb1, mt1 := readMachineCPU(); mt1 > mt0 {
		res.BusyBefore = float64(mb1-mb0) / float64(mt1-mt0)
	}
	if res.BusyBefore > 0.2 {
		tb.Logf("WARNING: the machine was %.0f%% busy before the run; other processes will slow the server", res.BusyBefore*100)
	}
	settings := map[string]string{
		"SWITCHBOARD_ADDR":                     "127.0.0.1:0",
		"SWITCHBOARD_DATA_DIR":                 filepath.Join(dir, "data"),
		"SWITCHBOARD_MAX_CONNECTIONS_PER_USER": strconv.Itoa(max(n, 20000)),
		// Every subscriber connects from this one address (and as one of
		// a few users): the per-address and per-user limits are for real
		// clients, not for a load generator.
		"SWITCHBOARD_RATE_LIMIT_IP":   "0",
		"SWITCHBOARD_RATE_LIMIT_USER": "0",
		"SWITCHBOARD_WS_KEEPALIVE":    cfg.KeepAlive,
		"SWITCHBOARD_PLAYGROUND":      "false",
		"SWITCHBOARD_LOG_FORMAT":      "json",
		"SWITCHBOARD_LOG_LEVEL":       "info",
		// gctrace: the live heap and stacks after each GC, on stderr;
		// GOTRACEBACK=all: SIGQUIT dumps every goroutine.
		"GODEBUG":     "gctrace=1",
		"GOTRACEBACK": "all",
	}
	admin := map[string]string{"SWITCHBOARD_PASSWORD": benchPassword}
	for k, v := range settings {
		admin[k] = v
	}
	runCommand(tb, bin, admin, "user", "create", "--email", "admin@bench.example.com", "--name", "Bench Admin", "--role", "admin")
	// Each update goes to a ticket of its own (and the warm-up to one
	// more): an event carries its ticket as it is when the event is
	// delivered, so two updates of one ticket read in one batch would
	// both show the later subject, and the subject identifies the update.
	events := int(math.Round(cfg.Rate * cfg.Duration.Seconds()))

	// Set up (users, tokens, tickets) on a first server, then measure a
	// fresh one on the same database: the password hashing of the logins
	// (argon2id) leaves tens of MB of RSS behind that would blur the
	// baseline.
	ctx := context.Background()
	setup := startServer(tb, bin, dir, "setup.log", settings)
	fix, err := setUp(ctx, newGQLClient(setup.URL), cfg.Users, events+1)
	if err != nil {
		tb.Fatalf("setting up: %v\n%s", err, tail(setup.log(), 4000))
	}
	setup.stop()
	srv := startServer(tb, bin, dir, "server.log", settings)
	// Printed at once (not at the end, as tb.Log would be), so that the
	// server's metrics can be watched while the benchmark runs.
	fmt.Fprintf(os.Stderr, "bench: %d subscribers; server metrics at %s/metrics\n", n, srv.URL)
	gql := newGQLClient(srv.URL)
	if err := gql.Do(ctx, fix.adminToken, `{ me { id } tickets(first: 10) { totalCount } }`, nil, nil); err != nil {
		tb.Fatalf("first query: %v\n%s", err, tail(srv.log(), 4000))
	}
	time.Sleep(2 * time.Second)
	base, err := readProcStatus(srv.pid)
	if err != nil {
		tb.Fatal(err)
	}
	res.BaseRSSKB = base.RSSKB
	res.BaseGC, res.BaseGCOK = lastGCTrace(srv.log())

	// Connect the subscribers.
	f := &fanout{at: make([]atomic.Int64, events)}
	subs := make([]*subscriber, n)
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/query"
	var readers sync.WaitGroup
	defer func() {
		f.stopping.Store(true)
		for _, s := range subs {
			if s != nil {
				s.conn.Close()
			}
		}
		readers.Wait()
	}()
	cpu0, _ := readProcCPU(srv.pid)
	start := time.Now()
	var next atomic.Int64
	var dialErr error
	var dialMu sync.Mutex
	var dialers sync.WaitGroup
	for range cfg.DialConcurrency {
		dialers.Add(1)
		go func() {
			defer dialers.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				dialMu.Lock()
				failed := dialErr != nil
				dialMu.Unlock()
				if failed {
					return
				}
				c, err := dialSubscriber(ctx, wsURL, fix.subscriberTokens[i%len(fix.subscriberTokens)])
				if err != nil {
					dialMu.Lock()
					if dialErr == nil {
						dialErr = fmt.Errorf("subscriber %d: %w", i, err)
					}
					dialMu.Unlock()
					return
				}
				s := &subscriber{conn: c, deliveries: make([]delivery, 0, events)}
				subs[i] = s
				readers.Add(1)
				go func() { defer readers.Done(); s.read(f) }()
			}
		}()
	}
	dialers.Wait()
	if dialErr != nil {
		tb.Fatalf("connecting %d subscribers: %v\n%s", n, dialErr, tail(srv.log(), 4000))
	}
	res.Connect = time.Since(start)
	cpu1, _ := readProcCPU(srv.pid)
	res.ConnectServerCPU = cpu1 - cpu0

	// Idle memory, sampled through the settling pause.
	step := max(time.Second, cfg.Settle/10)
	for waited := time.Duration(0); waited < cfg.Settle; waited += step {
		time.Sleep(min(step, cfg.Settle-waited))
		if st, err := readProcStatus(srv.pid); err == nil {
			res.SettleRSSMB = append(res.SettleRSSMB, int(st.RSSKB/1024))
		}
	}
	idle, err := readProcStatus(srv.pid)
	if err != nil {
		tb.Fatal(err)
	}
	res.IdleRSSKB, res.IdleThreads = idle.RSSKB, idle.Threads
	res.IdleGC, res.IdleGCOK = lastGCTrace(srv.log())
	if e := f.ended.Load(); e > 0 {
		tb.Fatalf("%d subscribers disconnected while idle: %s", e, f.firstErr)
	}

	// Warm up: one event that every subscriber must get.
	err = gql.Do(ctx, fix.adminToken, updateTicket, map[string]any{"id": fix.tickets[events], "input": map[string]any{"subject": "warmup-0"}}, nil)
	if err != nil {
		tb.Fatalf("warm-up update: %v", err)
	}
	if !waitFor(60*time.Second, func() bool { return f.warmups.Load() >= int64(n) }) {
		tb.Fatalf("only %d of %d subscribers got the warm-up event within a minute (first error: %s)", f.warmups.Load(), n, f.firstErr)
	}
	time.Sleep(time.Second)

	// Publish at a steady rate, open loop: each update on its own
	// goroutine at its tick, so a slow server does not lower the rate.
	sendStart := make([]int64, events)
	respEnd := make([]int64, events)
	var mutErrs atomic.Int64
	var publishers sync.WaitGroup
	gcStart, _ := lastGCTrace(srv.log())
	perf := startPerf(tb, srv.pid, sizeName(n))
	cpu0, _ = readProcCPU(srv.pid)
	ccpu0 := processCPU()
	mbusy0, mtotal0 := readMachineCPU()
	start = time.Now()
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	for i := range events {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		publishers.Add(1)
		go func() {
			defer publishers.Done()
			vars := map[string]any{"id": fix.tickets[i], "input": map[string]any{"subject": "bench-" + strconv.Itoa(i)}}
			sendStart[i] = time.Now().UnixNano()
			if err := gql.Do(ctx, fix.adminToken, updateTicket, vars, nil); err != nil {
				mutErrs.Add(1)
				f.noteErr(fmt.Errorf("updateTicket: %w", err))
			}
			respEnd[i] = time.Now().UnixNano()
		}()
	}
	publishers.Wait()
	res.Expected = n * events
	// Wait for the backlog to drain, while deliveries keep coming.
	last, lastProgress := f.delivered.Load(), time.Now()
	waitFor(time.Minute+5*cfg.Duration, func() bool {
		if d := f.delivered.Load(); d != last {
			last, lastProgress = d, time.Now()
		}
		return last >= int64(res.Expected) || f.ended.Load() >= int64(n) || time.Since(lastProgress) > 15*time.Second
	})
	res.PublishWall = time.Since(start)
	cpu1, _ = readProcCPU(srv.pid)
	res.PublishServerCPU = cpu1 - cpu0
	res.PublishClientCPU = processCPU() - ccpu0
	if mbusy1, mtotal1 := readMachineCPU(); mtotal1 > mtotal0 {
		res.MachineBusy = float64(mbusy1-mbusy0) / float64(mtotal1-mtotal0)
	}
	res.Perf = perf.stop(tb)
	if gcEnd, ok := lastGCTrace(srv.log()); ok {
		res.PublishGCs, res.PublishGCEnd = gcEnd.Num-gcStart.Num, gcEnd
	}
	time.Sleep(500 * time.Millisecond) // duplicates, if any, would come now
	load, err := readProcStatus(srv.pid)
	if err == nil {
		res.LoadRSSKB, res.PeakRSSKB = load.RSSKB, load.HWMKB
	}
	res.Events, res.MutationErrors = events, int(mutErrs.Load())
	res.Disconnected = int(f.ended.Load())

	// The server's goroutines, still with every subscriber connected; the
	// dump ends the server.
	f.stopping.Store(true)
	if dump := srv.dumpGoroutines(tb); dump != nil {
		res.Goroutines, res.GoroutineGroups = parseGoroutineDump(dump)
	}
	for _, s := range subs {
		s.conn.Close()
	}
	readers.Wait()
	res.FirstError = f.firstErr

	// Latencies.
	mut := make([]float64, 0, events)
	for i := range events {
		if respEnd[i] > 0 && sendStart[i] > 0 {
			mut = append(mut, ms(respEnd[i]-sendStart[i]))
		}
	}
	res.Mutation = summarize(mut)
	perEvent := make([][]float64, events)
	firsts := make([]int64, events)
	lasts := make([]int64, events)
	latAt := make([]float64, 0, res.Expected)
	latSend := make([]float64, 0, res.Expected)
	seen := make([]bool, events)
	for _, s := range subs {
		clear(seen)
		for _, d := range s.deliveries {
			if seen[d.idx] {
				res.Duplicates++
				continue
			}
			seen[d.idx] = true
			res.Deliveries++
			at := f.at[d.idx].Load()
			la := ms(d.recv - at)
			latAt = append(latAt, la)
			latSend = append(latSend, ms(d.recv-sendStart[d.idx]))
			perEvent[d.idx] = append(perEvent[d.idx], la)
			if firsts[d.idx] == 0 || d.recv < firsts[d.idx] {
				firsts[d.idx] = d.recv
			}
			lasts[d.idx] = max(lasts[d.idx], d.recv)
		}
	}
	res.Missing = res.Expected - res.Deliveries
	res.LatAt, res.LatSend = summarize(latAt), summarize(latSend)
	var first, spread []float64
	var t0 int64
	for i := range events {
		if a := f.at[i].Load(); a > 0 && (t0 == 0 || a < t0) {
			t0 = a
		}
	}
	var stats []eventStat
	for i := range events {
		if len(perEvent[i]) == 0 {
			continue
		}
		at := f.at[i].Load()
		first = append(first, ms(firsts[i]-at))
		spread = append(spread, ms(lasts[i]-firsts[i]))
		s := summarize(perEvent[i])
		stats = append(stats, eventStat{Idx: i, AtOffset: time.Duration(at - t0), First: ms(firsts[i] - at), P50: s.P50, P99: s.P99, Max: s.Max, Mutation: ms(respEnd[i] - sendStart[i])})
	}
	if os.Getenv("SWITCHBOARD_BENCH_EVENTS") == "1" {
		res.Timeline = slices.Clone(stats)
	}
	res.First, res.Spread = summarize(first), summarize(spread)
	sort.Slice(stats, func(i, j int) bool { return stats[i].Max > stats[j].Max })
	res.Worst = stats[:min(5, len(stats))]
	return res
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// tail is the end of a log, for failure messages.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// log prints the results table.
func (r fanoutResult) log(tb testing.TB) {
	tb.Helper()
	c := r.cfg
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	verdict := func(ok bool) string {
		if ok {
			return "within budget"
		}
		return "OVER BUDGET"
	}
	p("")
	p("fan-out: %d subscribers (%d users), %d events at %.0f/s, keepalive %s", c.Subscribers, c.Users, r.Events, c.Rate, c.KeepAlive)
	p("connect      %d subscribers in %s (%.0f/s), server CPU %s", c.Subscribers, r.Connect.Round(time.Millisecond), float64(c.Subscribers)/r.Connect.Seconds(), r.ConnectServerCPU)
	p("server RSS   before %.1f MB, idle %.1f MB, after load %.1f MB, peak %.1f MB, %d threads",
		kbToMB(r.BaseRSSKB), kbToMB(r.IdleRSSKB), kbToMB(r.LoadRSSKB), kbToMB(r.PeakRSSKB), r.IdleThreads)
	p("settling     RSS samples every %s: %v MB", max(time.Second, c.Settle/10), r.SettleRSSMB)
	p("idle memory  %.1f KB per subscriber (RSS delta / N), budget %d KB: %s",
		r.perSubscriberKB(), budgetIdleKBPerSubscriber, verdict(r.perSubscriberKB() <= budgetIdleKBPerSubscriber))
	if r.BaseGCOK && r.IdleGCOK {
		p("go heap      last GC before: gc %d live %d MB, stacks %d MB; last GC idle: gc %d @%s live %d MB (%.1f KB/sub), stacks %d MB (%.1f KB/sub)",
			r.BaseGC.Num, r.BaseGC.HeapLiveMB, r.BaseGC.StacksMB, r.IdleGC.Num, r.IdleGC.At.Round(100*time.Millisecond), r.IdleGC.HeapLiveMB,
			float64(r.IdleGC.HeapLiveMB-r.BaseGC.HeapLiveMB)*1024/float64(c.Subscribers), r.IdleGC.StacksMB,
			float64(r.IdleGC.StacksMB-r.BaseGC.StacksMB)*1024/float64(c.Subscribers))
	}
	p("goroutines   %d in the server with every subscriber connected (%.2f per subscriber)", r.Goroutines, float64(r.Goroutines)/float64(c.Subscribers))
	for _, g := range r.GoroutineGroups[:min(6, len(r.GoroutineGroups))] {
		p("               %6d  %s", g.Count, g.Key)
	}
	p("mutations    %d updateTicket, %d errors: %s", r.Events, r.MutationErrors, r.Mutation)
	p("deliveries   %d of %d (missing %d, duplicates %d, disconnected subscribers %d)", r.Deliveries, r.Expected, r.Missing, r.Duplicates, r.Disconnected)
	p("latency      receive − event at:       %s", r.LatAt)
	p("             receive − mutation sent:  %s", r.LatSend)
	p("per event    first subscriber after at: %s", r.First)
	p("             last − first subscriber:   %s", r.Spread)
	p("p99 budget   %s: %s", budgetP99, verdict(r.LatAt.P99 <= float64(budgetP99.Milliseconds())))
	p("CPU          publish phase %s wall: server %s (%.2f cores), client %s (%.2f cores)",
		r.PublishWall.Round(time.Millisecond), r.PublishServerCPU, r.PublishServerCPU.Seconds()/r.PublishWall.Seconds(),
		r.PublishClientCPU.Round(time.Millisecond), r.PublishClientCPU.Seconds()/r.PublishWall.Seconds())
	other := r.MachineBusy*float64(runtime.NumCPU())*r.PublishWall.Seconds() - r.PublishServerCPU.Seconds() - r.PublishClientCPU.Seconds()
	p("             all %d CPUs %.0f%% busy (%.0f%% before the run); kernel and other processes %.2f cores",
		runtime.NumCPU(), r.MachineBusy*100, r.BusyBefore*100, max(0, other)/r.PublishWall.Seconds())
	if r.PublishGCs > 0 {
		g := r.PublishGCEnd
		p("GC           %d cycles in the publish phase; the last: heap %d->%d->%d MB live, goal %d MB, stacks %d MB", r.PublishGCs, g.HeapStartMB, g.HeapEndMB, g.HeapLiveMB, g.GoalMB, g.StacksMB)
	}
	for _, w := range r.Worst {
		p("worst event  #%-3d at +%-6s first %6.1f  p50 %6.1f  p99 %6.1f  max %6.1f ms (mutation %.1f ms)", w.Idx, w.AtOffset.Round(10*time.Millisecond), w.First, w.P50, w.P99, w.Max, w.Mutation)
	}
	for _, w := range r.Timeline {
		p("event        #%-3d at +%-6s first %8.1f  p50 %8.1f  p99 %8.1f  max %8.1f ms (mutation %.1f ms)", w.Idx, w.AtOffset.Round(10*time.Millisecond), w.First, w.P50, w.P99, w.Max, w.Mutation)
	}
	if r.FirstError != "" {
		p("first error  %s", r.FirstError)
	}
	if r.Perf != "" {
		p("%s", r.Perf)
	}
	tb.Log(b.String())
}

func kbToMB(kb int64) float64 { return float64(kb) / 1024 }
