package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted values: the smallest value with at least p% of the values at or
// below it. It returns NaN for no values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	if p <= 0 {
		return sorted[0]
	}
	// The epsilon keeps float error (99.9/100*1000 = 999.0000000000001)
	// from moving the rank up.
	rank := int(math.Ceil(p/100*float64(len(sorted)) - 1e-9))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// latencySummary is the distribution of a set of latencies, in ms.
type latencySummary struct {
	N                        int
	P50, P90, P99, P999, Max float64
	Mean                     float64
}

// summarize sorts values (ms) in place and summarizes them.
func summarize(values []float64) latencySummary {
	sort.Float64s(values)
	s := latencySummary{N: len(values)}
	if len(values) == 0 {
		nan := math.NaN()
		s.P50, s.P90, s.P99, s.P999, s.Max, s.Mean = nan, nan, nan, nan, nan, nan
		return s
	}
	var sum float64
	for _, v := range values {
		sum += v
	}
	s.Mean = sum / float64(len(values))
	s.P50 = percentile(values, 50)
	s.P90 = percentile(values, 90)
	s.P99 = percentile(values, 99)
	s.P999 = percentile(values, 99.9)
	s.Max = values[len(values)-1]
	return s
}

func (s latencySummary) String() string {
	return fmt.Sprintf("p50 %7.1f  p90 %7.1f  p99 %7.1f  p99.9 %7.1f  max %7.1f  mean %7.1f ms  (n=%d)",
		s.P50, s.P90, s.P99, s.P999, s.Max, s.Mean, s.N)
}

// gcTrace is one line of GODEBUG=gctrace=1 output.
type gcTrace struct {
	Num         int
	At          time.Duration // since the process started
	HeapStartMB int
	HeapEndMB   int
	HeapLiveMB  int // marked live after the cycle
	GoalMB      int
	StacksMB    int
}

var gcTraceRE = regexp.MustCompile(`^gc (\d+) @([\d.]+)s .*?, (\d+)->(\d+)->(\d+) MB, (\d+) MB goal, (\d+) MB stacks`)

// parseGCTrace reads a gctrace line; ok is false for any other line.
func parseGCTrace(line string) (gcTrace, bool) {
	m := gcTraceRE.FindStringSubmatch(line)
	if m == nil {
		return gcTrace{}, false
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	secs, _ := strconv.ParseFloat(m[2], 64)
	return gcTrace{
		Num: atoi(m[1]), At: time.Duration(secs * float64(time.Second)),
		HeapStartMB: atoi(m[3]), HeapEndMB: atoi(m[4]), HeapLiveMB: atoi(m[5]),
		GoalMB: atoi(m[6]), StacksMB: atoi(m[7]),
	}, true
}

// lastGCTrace returns the last gctrace line of a log.
func lastGCTrace(log []byte) (gcTrace, bool) {
	var last gcTrace
	found := false
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if g, ok := parseGCTrace(sc.Text()); ok {
			last, found = g, true
		}
	}
	return last, found
}

// procStatus is what /proc/<pid>/status says about memory and threads.
type procStatus struct {
	RSSKB, HWMKB int64
	Threads      int
}

func parseProcStatus(data []byte) procStatus {
	var st procStatus
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			st.RSSKB = n
		case "VmHWM":
			st.HWMKB = n
		case "Threads":
			st.Threads = int(n)
		}
	}
	return st
}

func readProcStatus(pid int) (procStatus, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStatus{}, err
	}
	return parseProcStatus(data), nil
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// parseProcCPU returns utime+stime of a /proc/<pid>/stat line.
func parseProcCPU(data []byte) (time.Duration, error) {
	// The command name (field 2) may contain spaces; it ends at the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat %q", data)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed stat %q", data)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed stat %q", data)
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

func readProcCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcCPU(data)
}

// goroutineGroup counts goroutines of a goroutine dump by where they were
// created and what they wait on.
type goroutineGroup struct {
	Key   string
	Count int
}

// parseGoroutineDump reads the all-goroutine dump a Go program prints on
// SIGQUIT with GOTRACEBACK=all: the number of goroutines, and their
// counts grouped by "created by" function and wait state, largest first.
func parseGoroutineDump(dump []byte) (int, []goroutineGroup) {
	counts := map[string]int{}
	total := 0
	var state, createdBy string
	flush := func() {
		if state == "" {
			return
		}
		if createdBy == "" {
			createdBy = "(root)"
		}
		counts[createdBy+" ["+state+"]"]++
		total++
		state, createdBy = "", ""
	}
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "goroutine ") && strings.HasSuffix(line, ":") {
			flush()
			// goroutine 123 [IO wait, 3 minutes]:
			s := line[strings.IndexByte(line, '[')+1 : strings.LastIndexByte(line, ']')]
			s, _, _ = strings.Cut(s, ",")
			state = s
			continue
		}
		if state != "" && strings.HasPrefix(line, "created by ") {
			fn := strings.TrimPrefix(line, "created by ")
			fn, _, _ = strings.Cut(fn, " in goroutine")
			createdBy = shortFunc(fn)
		}
	}
	flush()
	groups := make([]goroutineGroup, 0, len(counts))
	for k, n := range counts {
		groups = append(groups, goroutineGroup{k, n})
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].Count != groups[j].Count {
			return groups[i].Count > groups[j].Count
		}
		return groups[i].Key < groups[j].Key
	})
	return total, groups
}

// shortFunc drops the module path of a function name.
func shortFunc(fn string) string {
	fn = strings.TrimPrefix(fn, "github.com/switchboardhq/switchboard/")
	if i := strings.LastIndexByte(fn, '/'); i >= 0 && strings.Contains(fn, ".") {
		fn = fn[i+1:]
	}
	return fn
}

// message scanning of the subscribers: cheap byte searches instead of
// decoding every JSON message, so that the client spends little CPU.
var (
	typeNext     = []byte(`"type":"next"`)
	typePing     = []byte(`"type":"ping"`)
	typePong     = []byte(`"type":"pong"`)
	typeAck      = []byte(`"type":"connection_ack"`)
	subjectBench = []byte(`"subject":"bench-`)
	subjectWarm  = []byte(`"subject":"warmup-`)
	atKey        = []byte(`"at":"`)
)

// eventIndex returns n of a "bench-n" subject in a next message, -1 for
// a warm-up event, -2 for anything else.
func eventIndex(msg []byte) int {
	i := bytes.Index(msg, subjectBench)
	if i < 0 {
		if bytes.Contains(msg, subjectWarm) {
			return -1
		}
		return -2
	}
	n := 0
	digits := 0
	for _, c := range msg[i+len(subjectBench):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		digits++
	}
	if digits == 0 {
		return -2
	}
	return n
}

// eventAt returns the at timestamp of a ticketEvents message.
func eventAt(msg []byte) (time.Time, bool) {
	i := bytes.Index(msg, atKey)
	if i < 0 {
		return time.Time{}, false
	}
	rest := msg[i+len(atKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}

// machineCPU returns the busy and total jiffies of all CPUs (/proc/stat).
func parseMachineCPU(data []byte) (busy, total int64, err error) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("malformed /proc/stat %q", line)
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("malformed /proc/stat %q", line)
		}
		total += n
		// user nice system idle iowait irq softirq steal guest guest_nice:
		// idle and iowait are not busy; guest time is already in user.
		if i != 3 && i != 4 && i < 8 {
			busy += n
		}
	}
	return busy, total, nil
}

func readMachineCPU() (busy, total int64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	busy, total, _ = parseMachineCPU(data)
	return busy, total
}
