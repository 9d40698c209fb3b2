package bench

import (
	"math"
	"testing"
	"time"
)

// These run in every `go test ./...`: they check the measuring helpers of
// the fan-out benchmark, which itself runs only on request.

func TestPercentile(t *testing.T) {
	vals := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{
		{50, 5}, {90, 9}, {99, 10}, {100, 10}, {10, 1}, {11, 2}, {0, 1},
	} {
		if got := percentile(vals, c.p); got != c.want {
			t.Errorf("percentile(1..10, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]float64{42}, 99); got != 42 {
		t.Errorf("single value: %v", got)
	}
	if got := percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("no values: %v, want NaN", got)
	}
}

func TestSummarize(t *testing.T) {
	vals := make([]float64, 1000)
	for i := range vals {
		vals[i] = float64(1000 - i) // 1000..1, unsorted
	}
	s := summarize(vals)
	if s.N != 1000 || s.P50 != 500 || s.P99 != 990 || s.P999 != 999 || s.Max != 1000 || s.Mean != 500.5 {
		t.Fatalf("summary %+v", s)
	}
	if e := summarize(nil); e.N != 0 || !math.IsNaN(e.P99) {
		t.Fatalf("empty summary %+v", e)
	}
}

func TestParseGCTrace(t *testing.T) {
	g, ok := parseGCTrace("gc 12 @3.456s 2%: 0.012+1.2+0.003 ms clock, 0.024+0.5/1.1/0+0.006 ms cpu, 45->46->23 MB, 47 MB goal, 3 MB stacks, 0 MB globals, 2 P")
	if !ok || g.Num != 12 || g.At != 3456*time.Millisecond || g.HeapStartMB != 45 || g.HeapEndMB != 46 || g.HeapLiveMB != 23 || g.GoalMB != 47 || g.StacksMB != 3 {
		t.Fatalf("parsed %+v, %v", g, ok)
	}
	if _, ok := parseGCTrace(`{"level":"INFO","msg":"switchboard is serving"}`); ok {
		t.Fatal("a log line parsed as gctrace")
	}
	last, ok := lastGCTrace([]byte("x\ngc 1 @0.1s 0%: a, 4->4->1 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P\ny\ngc 2 @0.2s 0%: a, 8->9->2 MB, 9 MB goal, 1 MB stacks, 0 MB globals, 2 P (forced)\n"))
	if !ok || last.Num != 2 || last.HeapLiveMB != 2 {
		t.Fatalf("last %+v, %v", last, ok)
	}
}

func TestParseProc(t *testing.T) {
	st := parseProcStatus([]byte("Name:\tswitchboard\nVmHWM:\t  51200 kB\nVmRSS:\t  40960 kB\nThreads:\t9\n"))
	if st.RSSKB != 40960 || st.HWMKB != 51200 || st.Threads != 9 {
		t.Fatalf("status %+v", st)
	}
	cpu, err := parseProcCPU([]byte("4242 (switch board) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1 2 3"))
	if err != nil || cpu != 3*time.Second {
		t.Fatalf("cpu %v, %v", cpu, err)
	}
	if _, err := parseProcCPU([]byte("garbage")); err == nil {
		t.Fatal("garbage parsed")
	}
	busy, total, err := parseMachineCPU([]byte("cpu  100 5 50 800 10 1 4 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil || busy != 160 || total != 970 {
		t.Fatalf("machine cpu %d/%d, %v", busy, total, err)
	}
}

func TestParseGoroutineDump(t *testing.T) {
	dump := `SIGQUIT: quit
PC=0x46f0e1 m=0 sigcode=0

goroutine 1 [select, 2 minutes]:
main.main()
	/x/server.go:1 +0x1

goroutine 7 [IO wait]:
internal/poll.runtime_pollWait()
created by net/http.(*Server).Serve in goroutine 1
	/usr/lib/go/src/net/http/server.go:3454 +0x485

goroutine 8 [IO wait]:
internal/poll.runtime_pollWait()
created by net/http.(*Server).Serve in goroutine 1
	/usr/lib/go/src/net/http/server.go:3454 +0x485

goroutine 9 [chan receive]:
created by github.com/switchboardhq/switchboard/internal/wstransport.(*conn).start in goroutine 7
`
	n, groups := parseGoroutineDump([]byte(dump))
	if n != 4 || len(groups) != 3 || groups[0].Key != "http.(*Server).Serve [IO wait]" || groups[0].Count != 2 {
		t.Fatalf("n %d, groups %+v", n, groups)
	}
	if groups[1].Key != "(root) [select]" && groups[2].Key != "(root) [select]" {
		t.Fatalf("groups %+v", groups)
	}
}

func TestMessageScanning(t *testing.T) {
	msg := []byte(`{"id":"1","type":"next","payload":{"data":{"ticketEvents":{"cursor":"17","type":"TICKET_UPDATED","at":"2026-01-02T03:04:05.123456789Z","ticket":{"id":"T1","subject":"bench-42","status":"NEW"}}}}}`)
	if eventIndex(msg) != 42 {
		t.Fatalf("index %d", eventIndex(msg))
	}
	at, ok := eventAt(msg)
	if !ok || !at.Equal(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)) {
		t.Fatalf("at %v, %v", at, ok)
	}
	if eventIndex([]byte(`{"subject":"warmup-1"}`)) != -1 || eventIndex([]byte(`{"subject":"other"}`)) != -2 || eventIndex([]byte(`{"subject":"bench-x"}`)) != -2 {
		t.Fatal("non-bench subjects")
	}
	if _, ok := eventAt([]byte(`{"type":"ping"}`)); ok {
		t.Fatal("at without at")
	}
}
