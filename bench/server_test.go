package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"
)

// buildServer compiles the switchboard binary into dir.
func buildServer(tb testing.TB, dir string) string {
	tb.Helper()
	return harness.MustBuild(tb, dir)
}

// runCommand runs a switchboard command (not serve) to completion.
func runCommand(tb testing.TB, bin string, settings map[string]string, args ...string) string {
	tb.Helper()
	return harness.RunBinary(tb, bin, settings, args...)
}

// serverProc is `switchboard serve` running as a subprocess.
type serverProc struct {
	*harness.Binary
	pid int
}

// startServer runs `switchboard serve` with settings and waits for it to
// listen. Its output (JSON log lines and gctrace lines) goes to the file
// name in dir.
func startServer(tb testing.TB, bin, dir, name string, settings map[string]string) *serverProc {
	tb.Helper()
	b := harness.StartBinary(tb, bin, settings, filepath.Join(dir, name))
	return &serverProc{Binary: b, pid: b.Proc.Cmd.Process.Pid}
}

func (s *serverProc) log() []byte { return s.Proc.Log() }

// stop shuts the server down (SIGTERM, then SIGKILL after 30 seconds) and
// waits for it to exit.
func (s *serverProc) stop() { _ = s.Proc.Stop(syscall.SIGTERM, harness.StopGrace) }

// dumpGoroutines ends the server with SIGQUIT, which (with GOTRACEBACK=all)
// prints every goroutine, and returns the dump.
func (s *serverProc) dumpGoroutines(tb testing.TB) []byte {
	tb.Helper()
	before := len(s.log())
	if err := s.Proc.Cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		tb.Logf("SIGQUIT: %v", err)
		return nil
	}
	select {
	case <-s.Proc.Done():
	case <-time.After(60 * time.Second):
		tb.Logf("server did not exit within a minute of SIGQUIT")
		_ = s.Proc.Stop(os.Kill, 0)
	}
	log := s.log()
	if len(log) < before {
		return nil
	}
	dump := log[before:]
	if i := bytes.Index(dump, []byte("SIGQUIT")); i >= 0 {
		dump = dump[i:]
	}
	return dump
}

// newGQLClient is a client of the server at url that keeps enough idle
// connections for the benchmarks' concurrency.
func newGQLClient(url string) *harness.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 64
	tr.MaxIdleConnsPerHost = 64
	return &harness.Client{URL: url, HTTP: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

const (
	signupMutation      = `mutation($input: SignupInput!) { signup(input: $input) { token } }`
	inviteUserMutation  = `mutation($input: InviteUserInput!) { inviteUser(input: $input) { id } }`
	createTokenMutation = `mutation($input: CreateAPITokenInput!) { createAPIToken(input: $input) { token } }`
	createTicket        = `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`
	updateTicket        = `mutation($id: ID!, $input: UpdateTicketInput!) { updateTicket(id: $id, input: $input) { id } }`
	// subscription is what every subscriber runs: a wallboard's feed.
	subscription = `subscription { ticketEvents { cursor type at ticket { id subject status } } }`
)

// fixture is what the benchmark sets up before connecting subscribers.
type fixture struct {
	adminToken       string   // the publisher: an admin session
	subscriberTokens []string // READ API tokens of the wallboard users
	tickets          []string
}

const benchPassword = "correct horse battery staple 7"

// setUp creates the wallboard users (admins, each with a READ API token)
// and the tickets that the publisher updates.
func setUp(ctx context.Context, c *harness.Client, users, tickets int) (*fixture, error) {
	f := &fixture{}
	var err error
	if f.adminToken, err = c.Login(ctx, "admin@bench.example.com", benchPassword); err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	// A few users at once: each costs two password hashes (invite, login).
	f.subscriberTokens = make([]string, users)
	var (
		mu       sync.Mutex
		firstErr error
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	for range min(users, 4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= users {
					return
				}
				tok, err := wallboardUser(ctx, c, f.adminToken, i)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				f.subscriberTokens[i] = tok
				failed := firstErr != nil
				mu.Unlock()
				if failed {
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	var signup struct{ Signup struct{ Token string } }
	sin := map[string]any{"email": "customer@bench.example.com", "name": "Bench Customer", "password": benchPassword}
	if err := c.Do(ctx, "", signupMutation, map[string]any{"input": sin}, &signup); err != nil {
		return nil, fmt.Errorf("signup: %w", err)
	}
	for i := range tickets {
		var out struct{ CreateTicket struct{ ID string } }
		in := map[string]any{"subject": fmt.Sprintf("ticket %d", i), "body": "the wallboard should show this"}
		if err := c.Do(ctx, signup.Signup.Token, createTicket, map[string]any{"input": in}, &out); err != nil {
			return nil, fmt.Errorf("createTicket: %w", err)
		}
		f.tickets = append(f.tickets, out.CreateTicket.ID)
	}
	return f, nil
}

// wallboardUser invites admin number i and returns a READ API token of it.
func wallboardUser(ctx context.Context, c *harness.Client, adminToken string, i int) (string, error) {
	email := fmt.Sprintf("wallboard%d@bench.example.com", i)
	in := map[string]any{"email": email, "name": fmt.Sprintf("Wallboard %d", i), "role": "ADMIN", "password": benchPassword}
	if err := c.Do(ctx, adminToken, inviteUserMutation, map[string]any{"input": in}, nil); err != nil {
		return "", fmt.Errorf("inviteUser: %w", err)
	}
	session, err := c.Login(ctx, email, benchPassword)
	if err != nil {
		return "", fmt.Errorf("login %s: %w", email, err)
	}
	var out struct{ CreateAPIToken struct{ Token string } }
	tin := map[string]any{"name": "wallboard", "scope": "READ"}
	if err := c.Do(ctx, session, createTokenMutation, map[string]any{"input": tin}, &out); err != nil {
		return "", fmt.Errorf("createAPIToken: %w", err)
	}
	return out.CreateAPIToken.Token, nil
}

// processCPU is the CPU time of this (the client) process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseFileLimit raises RLIMIT_NOFILE to at least want (the hard limit too
// when allowed); the server subprocess inherits it.
func raiseFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return want, nil
		}
	}
	// Setting it explicitly, even to the current value, also makes child
	// processes inherit it (Go restores the original soft limit in
	// children otherwise).
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

// perfRecorder samples the server's CPU with Linux perf while it runs.
type perfRecorder struct {
	cmd        *exec.Cmd
	data, base string
}

// startPerf starts `perf record` on pid when SWITCHBOARD_BENCH_PERF names
// a directory (nil otherwise); the data and reports go there as
// perf-<name>.*.
func startPerf(tb testing.TB, pid int, name string) *perfRecorder {
	tb.Helper()
	dir := os.Getenv("SWITCHBOARD_BENCH_PERF")
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	base := filepath.Join(dir, "perf-"+name)
	p := &perfRecorder{data: base + ".data", base: base}
	p.cmd = exec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", p.data)
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, io.Discard
	if err := p.cmd.Start(); err != nil {
		tb.Logf("perf record: %v (SWITCHBOARD_BENCH_PERF ignored)", err)
		return nil
	}
	return p
}

// stop ends the recording and writes two reports: self time by function
// (perf-<name>.self.txt) and time including callees (.children.txt). It
// returns the head of both.
func (p *perfRecorder) stop(tb testing.TB) string {
	tb.Helper()
	if p == nil {
		return ""
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	_ = p.cmd.Wait()
	var summary strings.Builder
	for _, kind := range []string{"self", "children"} {
		args := []string{"report", "-i", p.data, "--stdio", "--sort", "symbol", "-g", "none", "--percent-limit", "0.7"}
		if kind == "self" {
			args = append(args, "--no-children")
		} else {
			args = append(args, "--children")
		}
		out, err := exec.Command("perf", args...).Output()
		if err != nil {
			tb.Logf("perf report: %v", err)
			return ""
		}
		_ = os.WriteFile(p.base+"."+kind+".txt", out, 0o644)
		fmt.Fprintf(&summary, "perf %s (%s.%s.txt):\n", kind, p.base, kind)
		n := 0
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				continue
			}
			// Drop the empty trailing columns perf pads lines with.
			f := strings.Fields(line)
			for len(f) > 0 && f[len(f)-1] == "-" {
				f = f[:len(f)-1]
			}
			summary.WriteString("  " + strings.Join(f, " ") + "\n")
			if n++; n == 25 {
				break
			}
		}
	}
	return summary.String()
}
