package clients_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/event"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

const (
	resumeAdminEmail    = "admin@example.com"
	resumeAdminPassword = "correct horse battery staple 1"
	// resumeTooSlow is the close code of a client too slow to read.
	resumeTooSlow = 1013
)

// TestReferenceClientsResume runs the *-resume.mjs reference clients
// (graphql-ws, Apollo Client's GraphQLWsLink, graphql-sse), retries on,
// through connections cut in the ways production cuts them — the server
// restarting, the server closing a slow reader with 1013, the TCP
// connection dropping — while an admin keeps changing a ticket, and checks
// that each client prints every event of the log exactly once, in order:
// that the recipe in clients/resume.mjs (and the README) resumes from the
// latest cursor on every reconnect, not from the first one.
//
// NAIVE_RESUME=1 go test -run TestReferenceClientsResume runs the scripts
// with the recipe the README used to give (after: read once), which fails.
func TestReferenceClientsResume(t *testing.T) {
	refClientsAvailable(t)
	for _, pkg := range []string{"@apollo/client", "rxjs"} {
		if _, err := os.Stat(harness.RepoFile(t, "clients", "node_modules", pkg, "package.json")); err != nil {
			t.Skipf("reference clients skipped: clients/node_modules/%s is missing; install with `npm ci --prefix clients`", pkg)
		}
	}

	restart := resumeCut{"ResumesAfterTheServerRestarts", func(t *testing.T, r *resumeRun) {
		r.proxy.refuse()
		r.srv.Stop()
		if code, ok := r.srv.Wait(30 * time.Second); !ok || code != cli.ExitOK {
			t.Fatalf("the server exited with %d (stopped: %v): %s", code, ok, r.srv.Out)
		}
		r.srv = harness.Start(r.t, r.tg, r.env) // same port, same database, for the rest of the run
	}}
	tooSlow := resumeCut{"ResumesAfterA1013Close", func(t *testing.T, r *resumeRun) {
		if n := r.proxy.closeWebsockets(resumeTooSlow, "you did not read fast enough"); n == 0 {
			t.Fatal("no websocket to close: the client was not connected")
		}
	}}
	drop := resumeCut{"ResumesAfterTheConnectionDrops", func(t *testing.T, r *resumeRun) {
		if n := r.proxy.drop(); n == 0 {
			t.Fatal("no connection to drop: the client was not connected")
		}
	}}

	for _, c := range []struct {
		script string
		cuts   []resumeCut
	}{
		{"graphql-ws-resume.mjs", []resumeCut{restart, tooSlow, drop}},
		{"apollo-resume.mjs", []resumeCut{restart, tooSlow, drop}},
		// Event streams have no close codes: a restart and a drop.
		{"graphql-sse-resume.mjs", []resumeCut{restart, drop}},
	} {
		t.Run(strings.TrimSuffix(c.script, "-resume.mjs"), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
				testResume(t, tg, c.script, c.cuts)
			})
		})
	}
}

// resumeCut is one way of cutting the client off; it leaves the proxy
// refusing new connections.
type resumeCut struct {
	name string
	cut  func(t *testing.T, r *resumeRun)
}

// resumeRun is one client's run: the server (restarted by a cut), the
// proxy the client connects through, and what the client printed.
type resumeRun struct {
	t      *testing.T // the run's, not a cut's
	tg     dbtest.Target
	env    map[string]string
	srv    *harness.Server
	proxy  *resumeProxy
	client *refClient
	log    harness.EventLog
	got    []int64 // cursors printed, in order
}

func testResume(t *testing.T, tg dbtest.Target, script string, cuts []resumeCut) {
	harness.CreateUser(t, tg, resumeAdminEmail, "Ada Admin", "ADMIN", resumeAdminPassword)
	port := harness.FreePort(t)
	r := &resumeRun{t: t, tg: tg, env: map[string]string{"SWITCHBOARD_ADDR": fmt.Sprintf("127.0.0.1:%d", port)}, log: harness.OpenEventLog(t, tg)}
	r.srv = harness.Start(t, tg, r.env)
	// The admin talks to the server directly; the client through the proxy.
	server := &harness.Server{URL: r.srv.URL}
	r.proxy = startResumeProxy(t, strings.TrimPrefix(r.srv.URL, "http://"))
	admin := harness.Login(t, server, resumeAdminEmail, resumeAdminPassword)
	cust, _ := harness.Signup(t, server, "cara@example.com", "Cara")
	created := server.Do(t, cust, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Printer on fire", "body": "help"}}).OK(t)
	ticketID := harness.Str(created, "createTicket", "id")

	updates := 0
	// update makes n changes as the admin, each retried until the server
	// takes it (it may be restarting).
	update := func(n int) error {
		for range n {
			updates++
			if err := resumeUpdate(server, admin, ticketID, updates); err != nil {
				return err
			}
		}
		return nil
	}

	// The client replays the log from the start, then follows it.
	r.client = startRefClientWith(t, 90*time.Second, script, "http://"+r.proxy.addr(), admin, "0")
	r.client.waitReady(t)
	if err := update(4); err != nil {
		t.Fatal(err)
	}
	r.catchUp(t, "before any cut")

	for _, c := range cuts {
		ok := t.Run(c.name, func(t *testing.T) {
			served := r.proxy.connections()
			// Changes go on while the connection is cut: a burst in flight
			// when it happens, then more while the client is away.
			burst := make(chan error, 1)
			landed := make(chan struct{}, 6)
			go func(first int) {
				for i := range 6 {
					if err := resumeUpdate(server, admin, ticketID, first+i); err != nil {
						burst <- err
						return
					}
					landed <- struct{}{}
				}
				burst <- nil
			}(updates + 1)
			updates += 6
			for range 2 {
				select {
				case <-landed:
				case err := <-burst:
					t.Fatal(err)
				}
			}
			c.cut(t, r)
			if err := <-burst; err != nil {
				t.Fatal(err)
			}
			if err := update(4); err != nil {
				t.Fatal(err)
			}
			r.proxy.admit()
			r.catchUp(t, "after the cut")
			if r.proxy.connections() == served {
				t.Fatal("the client did not reconnect, so nothing was cut")
			}
		})
		if !ok {
			return
		}
	}

	t.Run("EveryEventOnceInOrder", func(t *testing.T) {
		if err := update(4); err != nil {
			t.Fatal(err)
		}
		r.catchUp(t, "after the last cut")
		if err := r.client.stdin.Close(); err != nil {
			t.Fatal(err)
		}
		if code := r.client.Wait(t); code != 0 {
			t.Fatalf("%s exited %d, want 0", script, code)
		}
		t.Logf("%d updates, %d events received, %d connections", updates, len(r.got), r.proxy.connections())
	})
}

// catchUp reads the client's events up to the log's head, failing at once
// on a cursor that does not increase (an event again), then compares them
// with the log: every event, once, in order.
func (r *resumeRun) catchUp(t *testing.T, when string) {
	t.Helper()
	want := resumeLogCursors(t, r.log)
	head := want[len(want)-1]
	for len(r.got) == 0 || r.got[len(r.got)-1] < head {
		l := r.client.Next(t, 30*time.Second, fmt.Sprintf("the event at cursor %d %s", head, when))
		var ev struct {
			Cursor string `json:"cursor"`
			Type   string `json:"type"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Type == "" {
			t.Fatalf("%s printed %q, want an event", r.client.script, l)
		}
		c, err := strconv.ParseInt(ev.Cursor, 10, 64)
		if err != nil {
			t.Fatalf("%s printed cursor %q", r.client.script, ev.Cursor)
		}
		if n := len(r.got); n > 0 && c <= r.got[n-1] {
			t.Fatalf("%s: cursor %d after %d %s: an event came again (the client resumed from an older cursor than its last)", r.client.script, c, r.got[n-1], when)
		}
		r.got = append(r.got, c)
	}
	if missing := resumeMissing(r.got, want); len(missing) > 0 || len(r.got) != len(want) {
		t.Fatalf("%s %s: got %d events, the log has %d; missing cursors %v\ngot  %v\nwant %v", r.client.script, when, len(r.got), len(want), missing, r.got, want)
	}
}

// resumeMissing lists the cursors of want that are not in got.
func resumeMissing(got, want []int64) []int64 {
	seen := map[int64]bool{}
	for _, c := range got {
		seen[c] = true
	}
	var missing []int64
	for _, c := range want {
		if !seen[c] {
			missing = append(missing, c)
		}
	}
	return missing
}

// resumeLogCursors returns every cursor of the event log, in order (all of
// them reach an admin).
func resumeLogCursors(t *testing.T, l harness.EventLog) []int64 {
	t.Helper()
	cursors, err := l.Client.Event.Query().Order(ent.Asc(event.FieldCursor)).Select(event.FieldCursor).Ints(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("reading the event log: %v", err)
	}
	if len(cursors) == 0 {
		t.Fatal("the event log is empty")
	}
	out := make([]int64, len(cursors))
	for i, c := range cursors {
		out[i] = int64(c)
	}
	return out
}

// resumeUpdate changes the ticket's subject (one TICKET_UPDATED event),
// retrying for up to 30s while the server does not answer or refuses (it
// may be restarting). A change whose answer was lost may be made twice:
// the log, not the count of changes, is what the client is compared with.
func resumeUpdate(s *harness.Server, token, ticketID string, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := s.Query(token, `mutation($id: ID!, $subject: String!) { updateTicket(id: $id, input: {subject: $subject}) { id } }`,
			map[string]any{"id": ticketID, "subject": fmt.Sprintf("update %d", n)})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("update %d: %w", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// resumeProxy forwards TCP connections to the server. It can refuse new
// connections, drop those it holds (as a dead network path does), or end
// the websockets among them with a close frame of its choosing at a frame
// boundary, as the server does when it drops a client too slow to read
// (1013). It reads the server's frames to find their boundaries and
// passes them on unchanged.
type resumeProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	open   bool
	served int
	conns  map[*resumeProxyConn]bool
}

func startResumeProxy(t *testing.T, target string) *resumeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &resumeProxy{ln: ln, target: target, open: true, conns: map[*resumeProxyConn]bool{}}
	t.Cleanup(func() { _ = ln.Close(); p.drop() })
	go p.accept()
	return p
}

func (p *resumeProxy) addr() string { return p.ln.Addr().String() }

func (p *resumeProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		open := p.open
		p.mu.Unlock()
		if !open {
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		pc := &resumeProxyConn{client: c, server: up}
		p.mu.Lock()
		if !p.open { // cut while dialing
			p.mu.Unlock()
			pc.close()
			continue
		}
		p.conns[pc] = true
		p.served++
		p.mu.Unlock()
		end := func() {
			pc.close()
			p.mu.Lock()
			delete(p.conns, pc)
			p.mu.Unlock()
		}
		go func() { _, _ = io.Copy(up, c); end() }()
		go func() { pc.toClient(); end() }()
	}
}

// connections counts the connections forwarded so far.
func (p *resumeProxy) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served
}

// refuse closes new connections as soon as they arrive.
func (p *resumeProxy) refuse() { p.take() }

// admit forwards new connections again.
func (p *resumeProxy) admit() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = true
}

// take refuses new connections and returns those held.
func (p *resumeProxy) take() []*resumeProxyConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = false
	var held []*resumeProxyConn
	for pc := range p.conns {
		held = append(held, pc)
	}
	return held
}

// drop closes every connection, refusing new ones, and returns how many
// it closed.
func (p *resumeProxy) drop() int {
	held := p.take()
	for _, pc := range held {
		pc.close()
	}
	return len(held)
}

// closeWebsockets sends each websocket a close frame with code and reason
// and ends it, refusing new connections; it returns how many it closed.
func (p *resumeProxy) closeWebsockets(code int, reason string) int {
	n := 0
	for _, pc := range p.take() {
		if pc.closeWith(code, reason) {
			n++
		}
	}
	return n
}

// resumeProxyConn is one forwarded connection.
type resumeProxyConn struct {
	client, server net.Conn
	mu             sync.Mutex // held while a whole frame goes to the client
	ws             bool       // the server switched protocols
	closed         bool       // the proxy closed it: forward nothing more
}

func (pc *resumeProxyConn) close() {
	_ = pc.client.Close()
	_ = pc.server.Close()
}

// toClient forwards the server's side: the HTTP response head, then
// websocket frames one whole frame at a time, or the rest as it comes.
func (pc *resumeProxyConn) toClient() {
	r := bufio.NewReader(pc.server)
	var head []byte
	for {
		line, err := r.ReadBytes('\n')
		head = append(head, line...)
		if err != nil {
			_, _ = pc.client.Write(head)
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
	}
	pc.mu.Lock()
	pc.ws = bytes.HasPrefix(head, []byte("HTTP/1.1 101 "))
	_, err := pc.client.Write(head)
	pc.mu.Unlock()
	if err != nil {
		return
	}
	if !pc.ws {
		_, _ = io.Copy(pc.client, r)
		return
	}
	for {
		frame, err := resumeReadFrame(r)
		if err != nil {
			return
		}
		pc.mu.Lock()
		if !pc.closed {
			_, err = pc.client.Write(frame)
		}
		stop := pc.closed || err != nil
		pc.mu.Unlock()
		if stop {
			return
		}
	}
}

// closeWith ends a websocket as a server does: a close frame, then the
// connection ends (the client's answer, once read, finds the server gone;
// a second at most). It returns false for connections that are not
// websockets, which it leaves alone.
func (pc *resumeProxyConn) closeWith(code int, reason string) bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if !pc.ws || pc.closed {
		return false
	}
	pc.closed = true
	payload := append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
	_, _ = pc.client.Write(append([]byte{0x88, byte(len(payload))}, payload...))
	_ = pc.server.Close()
	time.AfterFunc(time.Second, pc.close)
	return true
}

// resumeReadFrame reads one websocket frame, header and payload.
func resumeReadFrame(r *bufio.Reader) ([]byte, error) {
	frame := make([]byte, 2, 14)
	if _, err := io.ReadFull(r, frame); err != nil {
		return nil, err
	}
	n := uint64(frame[1] & 0x7f)
	switch n {
	case 126, 127:
		ext := make([]byte, map[uint64]int{126: 2, 127: 8}[n])
		if _, err := io.ReadFull(r, ext); err != nil {
			return nil, err
		}
		frame = append(frame, ext...)
		if len(ext) == 2 {
			n = uint64(binary.BigEndian.Uint16(ext))
		} else {
			n = binary.BigEndian.Uint64(ext)
		}
	}
	if frame[1]&0x80 != 0 { // a masking key (servers send none)
		n += 4
	}
	if n > 64<<20 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(frame, body...), nil
}
