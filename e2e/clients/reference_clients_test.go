package clients_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestReferenceClients runs the npm reference clients in clients/ (one
// Node script per library: graphql-ws, subscriptions-transport-ws,
// graphql-sse) against the real server, so that the subscription
// transports are checked by the clients people actually use rather than
// by our own harness.WS alone. It needs node and `npm ci --prefix clients`.
func TestReferenceClients(t *testing.T) {
	refClientsAvailable(t)

	for _, script := range []string{"graphql-ws.mjs", "subscriptions-transport-ws.mjs", "graphql-sse.mjs"} {
		t.Run(strings.TrimSuffix(script, ".mjs"), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
				harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "ADMIN", "correct horse battery staple 1")
				// Keep-alives (graphql-transport-ws ping/pong, graphql-ws ka,
				// SSE comments) every 250ms, so that the idle wait below
				// spans several of them: a client that mishandles them, or a
				// server that drops a client answering them, fails here.
				s := harness.Start(t, tg, map[string]string{"SWITCHBOARD_WS_KEEPALIVE": "250ms"})
				admin := harness.Login(t, s, "admin@example.com", "correct horse battery staple 1")

				p := startRefClient(t, script, s.URL, admin, "3")
				p.waitReady(t)
				// The libraries report the connection (graphql-ws and
				// subscriptions-transport-ws: connection_ack; graphql-sse: the
				// response headers), but no protocol confirms that the server
				// has started the subscription's resolver: give it time.
				time.Sleep(1500 * time.Millisecond)

				cust, _ := harness.Signup(t, s, "cara@example.com", "Cara")
				created := s.Do(t, cust, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Printer on fire", "body": "help"}}).OK(t)
				id := harness.Str(created, "createTicket", "id")
				s.Do(t, admin, `mutation($id: ID!) { updateTicket(id: $id, input: {priority: HIGH}) { id priority } }`, map[string]any{"id": id}).OK(t)

				events := p.events(t, 3)
				if code := p.Wait(t); code != 0 {
					t.Fatalf("%s exited %d, want 0\nstderr:\n%s", script, code, p.stderr)
				}

				want := []string{"TICKET_CREATED", "MESSAGE_ADDED", "TICKET_UPDATED"}
				cursors := map[string]bool{}
				for i, ev := range events {
					if got := harness.Str(ev, "type"); got != want[i] {
						t.Errorf("event %d: type %s, want %s (all: %v)", i, got, want[i], refTypes(events))
					}
					if got := harness.Str(ev, "ticket", "id"); got != id {
						t.Errorf("event %d: ticket %q, want %q", i, got, id)
					}
					if got := harness.Str(ev, "ticket", "subject"); got != "Printer on fire" {
						t.Errorf("event %d: subject %q", i, got)
					}
					c := harness.Str(ev, "cursor")
					if c == "" || cursors[c] {
						t.Errorf("event %d: cursor %q empty or repeated", i, c)
					}
					cursors[c] = true
				}
				if got := harness.Str(events[1], "message", "body"); got != "help" {
					t.Errorf("MESSAGE_ADDED message.body = %q, want help", got)
				}
				if got := harness.Str(events[0], "actor", "name"); got != "Cara" {
					t.Errorf("TICKET_CREATED actor = %q, want Cara", got)
				}
				if got := harness.Str(events[2], "actor", "name"); got != "Ada Admin" {
					t.Errorf("TICKET_UPDATED actor = %q, want Ada Admin", got)
				}
				if ch, _ := harness.Path(events[2], "changes").([]any); !refContains(ch, map[string]any{"field": "priority", "from": "NORMAL", "to": "HIGH"}) {
					t.Errorf("TICKET_UPDATED changes = %v, want priority among them", ch)
				}
				if got := harness.Str(events[2], "ticket", "priority"); got != "HIGH" {
					t.Errorf("TICKET_UPDATED ticket.priority = %q, want HIGH", got)
				}
			})
		})
	}

	// A refused token: graphql-ws must see the server's 4403 close exactly
	// once (the script has retries off and fails on a second close or a
	// reconnect).
	t.Run("graphql-ws-forbidden", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
			s := harness.Start(t, tg, nil)
			p := startRefClient(t, "graphql-ws-forbidden.mjs", s.URL, "not-a-valid-token")
			lines := p.all()
			if code := p.Wait(t); code != 0 {
				t.Fatalf("exited %d, want 0\nstdout:\n%s\nstderr:\n%s", code, strings.Join(lines, "\n"), p.stderr)
			}
			if len(lines) != 1 {
				t.Fatalf("stdout has %d lines, want exactly one close event:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			var out struct {
				Closed *struct {
					Code   int    `json:"code"`
					Reason string `json:"reason"`
				} `json:"closed"`
			}
			if err := json.Unmarshal([]byte(lines[0]), &out); err != nil || out.Closed == nil {
				t.Fatalf("stdout %q is not a close event (%v)", lines[0], err)
			}
			if out.Closed.Code != 4403 {
				t.Fatalf("close code %d (%q), want 4403", out.Closed.Code, out.Closed.Reason)
			}
			t.Logf("closed with %d %q", out.Closed.Code, out.Closed.Reason)
		})
	})
}

// TestURQLClient runs urql's core client (clients/urql.mjs) as it comes:
// its fetch exchange sends an Accept header that lists
// text/event-stream after the JSON types, and its queries and mutations
// must still be answered as JSON (an event stream made Node report an
// unhandled rejection when urql closed it).
func TestURQLClient(t *testing.T) {
	refClientsAvailable(t)
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	token, _ := harness.Signup(t, s, "una@example.com", "Una")
	p := startRefClient(t, "urql.mjs", s.URL, token)
	lines := p.all()
	code := p.Wait(t)
	t.Run("ExitsCleanly", func(t *testing.T) {
		if code != 0 || strings.TrimSpace(p.stderr.String()) != "" {
			t.Fatalf("exited %d, want 0 with nothing on stderr\nstdout:\n%s\nstderr:\n%s", code, strings.Join(lines, "\n"), p.stderr)
		}
	})
	var got []struct {
		Operation   string         `json:"operation"`
		ContentType string         `json:"contentType"`
		Data        map[string]any `json:"data"`
		Accept      string         `json:"accept"`
	}
	for _, l := range lines {
		got = append(got, struct {
			Operation   string         `json:"operation"`
			ContentType string         `json:"contentType"`
			Data        map[string]any `json:"data"`
			Accept      string         `json:"accept"`
		}{})
		if err := json.Unmarshal([]byte(l), &got[len(got)-1]); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
	}
	if len(got) != 4 {
		t.Fatalf("stdout has %d lines, want the queries', the mutation's and the Accept header:\n%s", len(got), strings.Join(lines, "\n"))
	}
	t.Run("SendsItsDefaultAccept", func(t *testing.T) {
		if !strings.Contains(got[3].Accept, "text/event-stream") {
			t.Fatalf("urql sent Accept %q, which does not list text/event-stream: the test no longer tests anything", got[3].Accept)
		}
	})
	t.Run("QueryAndMutationAnsweredAsJSON", func(t *testing.T) {
		for i, op := range []string{"query", "query over POST", "mutation"} {
			if got[i].Operation != op || !strings.Contains(got[i].ContentType, "json") {
				t.Errorf("%s answered with Content-Type %q, want JSON (line %q)", op, got[i].ContentType, lines[i])
			}
		}
		if harness.Str(got[0].Data, "me", "email") != "una@example.com" || harness.Str(got[1].Data, "me", "email") != "una@example.com" ||
			harness.Str(got[2].Data, "createTicket", "subject") != "Sent by urql" {
			t.Fatalf("results %v, %v, %v", got[0].Data, got[1].Data, got[2].Data)
		}
	})
}

// refClientsAvailable skips the test unless node is on PATH and the
// clients' packages are installed.
func refClientsAvailable(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("reference clients skipped: node is not on PATH (install Node.js 20+, then run `npm ci --prefix clients`)")
	}
	for _, pkg := range []string{"graphql", "graphql-ws", "graphql-sse", "subscriptions-transport-ws", "ws", "@urql/core"} {
		if _, err := os.Stat(harness.RepoFile(t, "clients", "node_modules", pkg, "package.json")); err != nil {
			t.Skipf("reference clients skipped: clients/node_modules/%s is missing; install with `npm ci --prefix clients`", pkg)
		}
	}
}

// refClient is one Node script running as a subprocess.
type refClient struct {
	script string
	cmd    *exec.Cmd
	lines  chan string // stdout, one JSON line each; closed at EOF
	seen   []string    // lines already taken from the channel
	stderr *harness.Buffer
	stdin  io.WriteCloser // closing it stops the *-resume.mjs scripts
	done   chan error
}

// startRefClient runs `node clients/<script> args...`, killed when the
// test ends or after a minute.
func startRefClient(t *testing.T, script string, args ...string) *refClient {
	t.Helper()
	return startRefClientWith(t, 20*time.Second, script, args...)
}

// startRefClientWith is startRefClient with the script's own deadline
// (TIMEOUT_MS) set to timeout; the process is killed 40s after it.
func startRefClientWith(t *testing.T, timeout time.Duration, script string, args ...string) *refClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+40*time.Second)
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = harness.RepoFile(t, "clients")
	cmd.Env = append(os.Environ(), fmt.Sprintf("TIMEOUT_MS=%d", timeout.Milliseconds()))
	cmd.WaitDelay = 5 * time.Second
	p := &refClient{script: script, cmd: cmd, lines: make(chan string, 64), stderr: &harness.Buffer{}, done: make(chan error, 1)}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	p.stdin = stdin
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting node %s: %v", script, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", script, p.stderr)
		}
	})
	return p
}

// next returns the next stdout line, failing after d or at EOF.
func (p *refClient) Next(t *testing.T, d time.Duration, what string) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatalf("%s ended its output while waiting for %s (got %q)\nstderr:\n%s", p.script, what, p.seen, p.stderr)
		}
		p.seen = append(p.seen, l)
		return l
	case <-time.After(d):
		t.Fatalf("%s printed no %s within %s (got %q)\nstderr:\n%s", p.script, what, d, p.seen, p.stderr)
	}
	return ""
}

// waitReady waits for the script's {"ready":true} line.
func (p *refClient) waitReady(t *testing.T) {
	t.Helper()
	l := p.Next(t, 20*time.Second, `{"ready":true}`)
	var m struct {
		Ready bool `json:"ready"`
	}
	if err := json.Unmarshal([]byte(l), &m); err != nil || !m.Ready {
		t.Fatalf("%s: first line %q, want {\"ready\":true}", p.script, l)
	}
}

// events returns the next n event lines, decoded.
func (p *refClient) events(t *testing.T, n int) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for len(evs) < n {
		l := p.Next(t, 25*time.Second, fmt.Sprintf("event %d of %d", len(evs)+1, n))
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%s printed a line that is not JSON: %q", p.script, l)
		}
		if _, ok := ev["ready"]; ok {
			t.Fatalf("%s: second ready line %q (did it reconnect?)", p.script, l)
		}
		evs = append(evs, ev)
	}
	return evs
}

// all drains stdout to EOF and returns every line printed.
func (p *refClient) all() []string {
	for l := range p.lines {
		p.seen = append(p.seen, l)
	}
	return p.seen
}

// wait waits for the script to exit (draining the rest of its output,
// which must be empty unless all() already took it) and returns its exit
// code.
func (p *refClient) Wait(t *testing.T) int {
	t.Helper()
	before := len(p.seen)
	extra := p.all()[before:]
	var err error
	select {
	case err = <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit\nstderr:\n%s", p.script, p.stderr)
	}
	if len(extra) > 0 {
		t.Errorf("%s printed more than expected: %q", p.script, extra)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		t.Fatalf("%s: %v", p.script, err)
		return -1
	}
}

func refTypes(evs []map[string]any) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, harness.Str(ev, "type"))
	}
	return out
}

func refContains(l []any, want any) bool {
	for _, v := range l {
		if reflect.DeepEqual(v, want) {
			return true
		}
	}
	return false
}
