package ops_test

// Live updates at scale and under trouble: several instances on one
// database, a Redis broker that dies mid-stream, a client that stops
// reading, connection churn, and shutdown. Every wait is bounded and
// generous; nothing here asserts speed.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/gorilla/websocket"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

const (
	scaleAdminEmail    = "admin@example.com"
	scaleAdminPassword = "correct horse battery staple 1"
	// scaleEventsQuery selects what the tests check of each event. With
	// after (the log's head before the subscription), nothing is missed
	// even when the subscription starts after the events it waits for.
	scaleEventsQuery = `subscription($after: String) { ticketEvents(after: $after) { cursor type ticket { id } message { body } } }`
	scaleUpdate      = `mutation($id: ID!, $p: TicketPriority!) { updateTicket(id: $id, input: {priority: $p}) { id } }`
)

// scaleEvent is one ticketEvents result.
type scaleEvent struct {
	Cursor   int64
	Type     string
	TicketID string
	Body     string
}

// scaleStream reads one subscription's events on a goroutine of its own, as
// fast as they come, answering pings, until the connection ends.
type scaleStream struct {
	events chan scaleEvent
	done   chan struct{}
	// err is why reading stopped; read it after done is closed.
	err error
}

func scaleStreamEvents(c *harness.WS, id string) *scaleStream {
	st := &scaleStream{events: make(chan scaleEvent, 1<<16), done: make(chan struct{})}
	go func() {
		defer close(st.done)
		for {
			_ = c.Conn.SetReadDeadline(time.Time{})
			_, raw, err := c.Conn.ReadMessage()
			if err != nil {
				st.err = err
				return
			}
			var m harness.WSMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				st.err = fmt.Errorf("server sent invalid JSON %.200q: %v", raw, err)
				return
			}
			switch m.Type {
			case "ka", "pong":
				continue
			case "ping":
				if err := c.Conn.WriteJSON(harness.WSMessage{Type: "pong"}); err != nil {
					st.err = err
					return
				}
				continue
			case "next", "data":
				if m.ID != id {
					st.err = fmt.Errorf("result of unknown operation %q", m.ID)
					return
				}
			default:
				st.err = fmt.Errorf("got %s (id %q) %.300s, want results of %s", m.Type, m.ID, m.Payload, id)
				return
			}
			var res struct {
				Data struct {
					TicketEvents struct {
						Cursor  string              `json:"cursor"`
						Type    string              `json:"type"`
						Ticket  struct{ ID string } `json:"ticket"`
						Message *struct {
							Body string `json:"body"`
						} `json:"message"`
					} `json:"ticketEvents"`
				} `json:"data"`
				Errors []harness.GQLError `json:"errors"`
			}
			if err := json.Unmarshal(m.Payload, &res); err != nil || len(res.Errors) > 0 {
				st.err = fmt.Errorf("bad result %.300s (%v)", m.Payload, err)
				return
			}
			te := res.Data.TicketEvents
			cursor, err := strconv.ParseInt(te.Cursor, 10, 64)
			if err != nil {
				st.err = fmt.Errorf("cursor %q is not an integer", te.Cursor)
				return
			}
			e := scaleEvent{Cursor: cursor, Type: te.Type, TicketID: te.Ticket.ID}
			if te.Message != nil {
				e.Body = te.Message.Body
			}
			st.events <- e
		}
	}()
	return st
}

// until collects events until stop says so, failing after d or when the
// connection ends first.
func (st *scaleStream) until(t *testing.T, d time.Duration, what string, stop func(scaleEvent) bool) []scaleEvent {
	t.Helper()
	var got []scaleEvent
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		select {
		case e := <-st.events:
			got = append(got, e)
			if stop(e) {
				return got
			}
		case <-st.done:
			// Take what was read before the end.
			for len(st.events) > 0 {
				e := <-st.events
				got = append(got, e)
				if stop(e) {
					return got
				}
			}
			t.Fatalf("waiting for %s: connection ended after %d events: %v", what, len(got), st.err)
		case <-timeout.C:
			t.Fatalf("waiting for %s: still waiting after %s (%d events so far)", what, d, len(got))
		}
	}
}

// quiet asserts that no event arrives for d.
func (st *scaleStream) Quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case e := <-st.events:
		t.Fatalf("unexpected event %+v", e)
	case <-st.done:
		t.Fatalf("connection ended: %v", st.err)
	case <-time.After(d):
	}
}

func TestLiveAcrossInstances(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
		env := map[string]string{}
		if u := os.Getenv("TEST_REDIS_URL"); u != "" {
			env["REDIS_URL"] = u
		} else {
			t.Log("TEST_REDIS_URL not set: the instances share only the database, and find each other's events by polling the log")
		}
		a := harness.Start(t, tg, env)
		b := harness.Start(t, tg, env)
		admin := harness.Login(t, a, scaleAdminEmail, scaleAdminPassword)

		onB := harness.ConnectWS(t, b, "graphql-transport-ws", admin)
		// The log is empty: everything after cursor 0.
		fromStart := map[string]any{"after": "0"}
		onB.Subscribe("1", scaleEventsQuery, fromStart)
		streamB := scaleStreamEvents(onB, "1")
		onA := harness.ConnectWS(t, a, "graphql-transport-ws", admin)
		onA.Subscribe("1", scaleEventsQuery, fromStart)
		streamA := scaleStreamEvents(onA, "1")

		cust, _ := harness.Signup(t, a, "cara@example.com", "Cara")
		tk := a.Do(t, cust, `mutation { createTicket(input: {subject: "Printer on fire", body: "help"}) { id } }`, nil).OK(t)
		ticketID := harness.Str(tk, "createTicket", "id")

		var created []scaleEvent
		t.Run("SubscriberOnBSeesTicketCreatedOnA", func(t *testing.T) {
			created = streamB.until(t, 30*time.Second, "the new ticket's events on B", func(e scaleEvent) bool { return e.Type == "MESSAGE_ADDED" })
			if len(created) != 2 || created[0].Type != "TICKET_CREATED" || created[0].TicketID != ticketID ||
				created[1].TicketID != ticketID || created[1].Body != "help" || created[1].Cursor != created[0].Cursor+1 {
				t.Fatalf("B got %+v, want TICKET_CREATED then MESSAGE_ADDED of %s", created, ticketID)
			}
		})
		t.Run("SubscriberOnASeesTheSameEvents", func(t *testing.T) {
			got := streamA.until(t, 30*time.Second, "the new ticket's events on A", func(e scaleEvent) bool { return e.Type == "MESSAGE_ADDED" })
			if fmt.Sprint(got) != fmt.Sprint(created) {
				t.Fatalf("A got %+v, B got %+v", got, created)
			}
		})
		t.Run("ReplyOnBReachesA", func(t *testing.T) {
			// A first public reply by staff also opens the ticket:
			// MESSAGE_ADDED, then TICKET_UPDATED.
			b.Do(t, admin, harness.AddMessageMutation, map[string]any{"id": ticketID, "body": "on it"}).OK(t)
			for name, st := range map[string]*scaleStream{"A": streamA, "B": streamB} {
				got := st.until(t, 30*time.Second, "the reply on "+name, func(e scaleEvent) bool { return e.Type == "TICKET_UPDATED" })
				if len(got) != 2 || got[0].Type != "MESSAGE_ADDED" || got[0].Body != "on it" || got[0].TicketID != ticketID ||
					got[1].TicketID != ticketID || got[1].Cursor != got[0].Cursor+1 || got[0].Cursor != created[1].Cursor+1 {
					t.Fatalf("%s got %+v after %+v", name, got, created)
				}
			}
		})
		t.Run("NothingTwice", func(t *testing.T) {
			streamA.Quiet(t, 1500*time.Millisecond)
			streamB.Quiet(t, 100*time.Millisecond)
		})
	})
}

// scaleRedisServer is a private redis-server that a test may kill and start
// again on the same port.
type scaleRedisServer struct {
	t      *testing.T
	path   string
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
}

func startScaleRedis(t *testing.T) *scaleRedisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not in PATH: install it (e.g. apt-get install redis-server) to run the Redis restart test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &scaleRedisServer{t: t, path: path, port: port}
	t.Cleanup(s.kill)
	s.start()
	return s
}

func (s *scaleRedisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// start runs redis-server and waits until it answers PING.
func (s *scaleRedisServer) start() {
	s.t.Helper()
	if err := s.run(); err != nil {
		s.t.Fatal(err)
	}
}

// run is start for any goroutine: it returns what went wrong.
func (s *scaleRedisServer) run() error {
	s.cmd = exec.Command(s.path, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	s.exited = exited
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(exited) }(s.cmd)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited before serving on port %d", s.port)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("redis-server did not answer on port %d", s.port)
}

// kill ends the server with SIGKILL and waits for it.
func (s *scaleRedisServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

func TestLiveRedisRestart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		redisSrv := startScaleRedis(t)
		mutations := 1000
		if tg.Dialect == dbtest.SQLite {
			// SQLite serialises every write behind one lock: 1,000
			// mutations take too long there under -race, so SQLite does
			// 300; PostgreSQL does the full 1,000.
			mutations = 300
		}
		const tickets = 4 // one per worker, so that each ticket's order is defined

		log := harness.OpenEventLog(t, tg)
		harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
		env := map[string]string{"REDIS_URL": redisSrv.url(), "SWITCHBOARD_LIVE_POLL_INTERVAL": "200ms"}
		a := harness.Start(t, tg, env)
		b := harness.Start(t, tg, env)
		admin := harness.Login(t, a, scaleAdminEmail, scaleAdminPassword)
		cust, _ := harness.Signup(t, a, "cara@example.com", "Cara")

		start := log.Head(t)
		ws := harness.ConnectWS(t, b, "graphql-transport-ws", admin)
		ws.Subscribe("1", scaleEventsQuery, map[string]any{"after": strconv.FormatInt(start, 10)})
		stream := scaleStreamEvents(ws, "1")

		ticketIDs := make([]string, tickets)
		for i := range ticketIDs {
			tk := a.Do(t, cust, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": fmt.Sprintf("ticket %d", i), "body": fmt.Sprintf("opening %d", i)}}).OK(t)
			ticketIDs[i] = harness.Str(tk, "createTicket", "id")
		}

		// Each worker drives its own ticket: replies (public and internal)
		// and priority changes, each of which logs at least one event.
		var (
			done      atomic.Int64
			failed    atomic.Int64
			firstErr  atomic.Value
			slowest   atomic.Int64 // nanoseconds, for the log
			wg        sync.WaitGroup
			restarted = make(chan error, 1)
			replies   = make([]int, tickets)
		)
		began := time.Now()
		for w := 0; w < tickets; w++ {
			n := mutations / tickets
			if w < mutations%tickets {
				n++
			}
			wg.Add(1)
			go func(w, n int) {
				defer wg.Done()
				for k := 0; k < n; k++ {
					var err error
					began := time.Now()
					if k%5 == 4 {
						p := "HIGH"
						if k%10 == 9 {
							p = "LOW"
						}
						_, err = a.Query(admin, scaleUpdate, map[string]any{"id": ticketIDs[w], "p": p})
					} else {
						_, err = a.Query(admin, harness.AddMessageMutation, map[string]any{"id": ticketIDs[w], "body": fmt.Sprintf("%d:%d", w, replies[w]), "internal": k%2 == 1})
						if err == nil {
							replies[w]++
						}
					}
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Sprintf("ticket %d mutation %d: %v", w, k, err))
					}
					for took := int64(time.Since(began)); ; {
						if old := slowest.Load(); took <= old || slowest.CompareAndSwap(old, took) {
							break
						}
					}
					done.Add(1)
				}
			}(w, n)
		}
		// Halfway, kill Redis and start it again on the same port.
		go func() {
			for done.Load() < int64(mutations/2) && failed.Load() == 0 {
				time.Sleep(2 * time.Millisecond)
			}
			redisSrv.kill()
			killedAt := done.Load()
			time.Sleep(100 * time.Millisecond)
			err := redisSrv.run()
			t.Logf("redis-server killed after %d mutations, serving again after %d", killedAt, done.Load())
			restarted <- err
		}()
		wg.Wait()
		if err := <-restarted; err != nil {
			t.Fatalf("restarting redis-server: %v", err)
		}
		t.Logf("%d mutations on %s in %s, the slowest %s", mutations, tg.Dialect, time.Since(began).Round(time.Millisecond), time.Duration(slowest.Load()).Round(time.Millisecond))

		t.Run("MutationsSucceedWhileRedisIsDown", func(t *testing.T) {
			if n := failed.Load(); n > 0 {
				t.Fatalf("%d mutations failed, first: %v", n, firstErr.Load())
			}
		})

		head := log.Head(t)
		got := stream.until(t, 60*time.Second, fmt.Sprintf("the event with cursor %d", head), func(e scaleEvent) bool { return e.Cursor >= head })

		t.Run("EveryEventOnceInCursorOrder", func(t *testing.T) {
			want := start + 1
			for i, e := range got {
				if e.Cursor != want {
					kind := "a gap"
					if e.Cursor < want {
						kind = "a duplicate or a step back"
					}
					t.Fatalf("event %d has cursor %d after %d, want %d: %s", i, e.Cursor, want-1, want, kind)
				}
				want++
			}
		})
		t.Run("CountMatchesTheLog", func(t *testing.T) {
			inLog := log.CountAfter(t, start)
			if len(got) != inLog {
				t.Fatalf("received %d events, the log holds %d after cursor %d", len(got), inLog, start)
			}
			if inLog < mutations+2*tickets {
				t.Fatalf("the log holds %d events for %d mutations and %d new tickets", inLog, mutations, tickets)
			}
		})
		t.Run("InOrderPerTicket", func(t *testing.T) {
			index := map[string]int{}
			for i, id := range ticketIDs {
				index[id] = i
			}
			next := make([]int, tickets)
			for _, e := range got {
				w, ok := index[e.TicketID]
				if !ok {
					t.Fatalf("event %+v of an unknown ticket", e)
				}
				if e.Type != "MESSAGE_ADDED" || strings.HasPrefix(e.Body, "opening ") {
					continue
				}
				if want := fmt.Sprintf("%d:%d", w, next[w]); e.Body != want {
					t.Fatalf("ticket %d: message %q (cursor %d), want %q", w, e.Body, e.Cursor, want)
				}
				next[w]++
			}
			for w := range next {
				if next[w] != replies[w] {
					t.Fatalf("ticket %d: %d replies delivered, %d posted", w, next[w], replies[w])
				}
			}
		})
		t.Run("NothingAfterTheHead", func(t *testing.T) {
			stream.Quiet(t, time.Second)
		})
	})
}

// scaleDialSlow opens a websocket whose socket receive buffer is tiny, so
// that a client that stops reading makes the server's writes block soon.
func scaleDialSlow(t *testing.T, s *harness.Server) *harness.WS {
	t.Helper()
	nd := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second, NetDialContext: nd.DialContext}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/query", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &harness.WS{T: t, Conn: conn, Protocol: "graphql-transport-ws"}
}

func TestLiveSlowClient(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
	s := harness.Start(t, tg, map[string]string{"SWITCHBOARD_WS_OUTBOUND_QUEUE": "8", "SWITCHBOARD_SUBSCRIPTION_QUEUE": "8"})
	admin := harness.Login(t, s, scaleAdminEmail, scaleAdminPassword)
	cust, _ := harness.Signup(t, s, "cara@example.com", "Cara")

	slow := scaleDialSlow(t, s)
	slow.Init(admin)
	if m := slow.Next(); m.Type != "connection_ack" {
		t.Fatalf("slow client got %s %s, want connection_ack", m.Type, m.Payload)
	}
	fromStart := map[string]any{"after": "0"} // the log is empty
	slow.Subscribe("1", scaleEventsQuery, fromStart)
	fast := harness.ConnectWS(t, s, "graphql-transport-ws", admin)
	fast.Subscribe("1", scaleEventsQuery, fromStart)

	// Both subscriptions are running once both have seen the first ticket.
	tk := s.Do(t, cust, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Big attachments", "body": "see below"}}).OK(t)
	ticketID := harness.Str(tk, "createTicket", "id")
	for _, c := range []*harness.WS{slow, fast} {
		for _, typ := range []string{"TICKET_CREATED", "MESSAGE_ADDED"} {
			if d := c.Data("1"); harness.Str(d, "ticketEvents", "type") != typ {
				t.Fatalf("got %v, want %s", d, typ)
			}
		}
	}
	// From here the slow client reads nothing.
	stream := scaleStreamEvents(fast, "1")

	const posts = 100
	big := strings.Repeat("x", 60<<10)
	for i := 0; i < posts; i++ {
		s.Do(t, admin, harness.AddMessageMutation, map[string]any{"id": ticketID, "body": fmt.Sprintf("%03d %s", i, big)}).OK(t)
	}

	var last int64
	t.Run("FastClientGetsEverythingInOrder", func(t *testing.T) {
		next := 0
		stream.until(t, 60*time.Second, "the fast client's messages", func(e scaleEvent) bool {
			last = e.Cursor
			if e.Type != "MESSAGE_ADDED" {
				return false
			}
			if want := fmt.Sprintf("%03d %s", next, big); e.Body != want {
				t.Fatalf("message %d: got %.20q… (%d bytes), want %.20q…", next, e.Body, len(e.Body), want)
			}
			next++
			return next == posts
		})
	})
	t.Run("SlowClientIsDropped", func(t *testing.T) {
		code, reason := slow.CloseCode(60 * time.Second)
		if code != scaleTooSlow && code != websocket.CloseAbnormalClosure {
			t.Fatalf("slow client closed with %d %q, want 1013 (too slow) or 1006 (dropped)", code, reason)
		}
		t.Logf("slow client closed with %d %q", code, reason)
	})
	t.Run("ServerStillServes", func(t *testing.T) {
		if me := s.Do(t, admin, `{ me { email } }`, nil).OK(t); harness.Str(me, "me", "email") != scaleAdminEmail {
			t.Fatalf("me = %v", me)
		}
		c := harness.ConnectWS(t, s, "graphql-transport-ws", admin)
		if last == 0 {
			t.Fatal("the fast client got nothing")
		}
		c.Subscribe("1", scaleEventsQuery, map[string]any{"after": strconv.FormatInt(last, 10)})
		s.Do(t, admin, harness.AddMessageMutation, map[string]any{"id": ticketID, "body": "still here"}).OK(t)
		if d := c.Data("1"); harness.Str(d, "ticketEvents", "message", "body") != "still here" {
			t.Fatalf("new subscriber got %v", d)
		}
		stream.until(t, 30*time.Second, "the fast client's next message", func(e scaleEvent) bool { return e.Body == "still here" })
	})
}

// scaleTooSlow is the close code of a client too slow to keep up.
const scaleTooSlow = 1013

// scaleCycle opens a graphql-transport-ws connection, subscribes, and
// closes it: politely with a close frame, or by dropping the TCP
// connection.
func scaleCycle(s *harness.Server, token string, polite bool) error {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/query", nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	_ = conn.NetConn().SetDeadline(time.Now().Add(20 * time.Second))
	if err := conn.WriteJSON(harness.WSMessage{Type: "connection_init", Payload: json.RawMessage(`{"authorization":"Bearer ` + token + `"}`)}); err != nil {
		return err
	}
	for {
		var m harness.WSMessage
		if err := conn.ReadJSON(&m); err != nil {
			return fmt.Errorf("waiting for connection_ack: %w", err)
		}
		if m.Type == "connection_ack" {
			break
		}
	}
	payload, _ := json.Marshal(map[string]any{"query": scaleEventsQuery})
	if err := conn.WriteJSON(harness.WSMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		return err
	}
	if !polite {
		return conn.NetConn().Close()
	}
	if err := conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")); err != nil {
		return err
	}
	// Wait for the server's answering close frame.
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				return fmt.Errorf("waiting for the server's close frame: %w", err)
			}
			return nil
		}
	}
}

func TestLiveGoroutinesReturnToBaseline(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
	// One user holds all the connections; the churn, not the per-user
	// limit, is under test.
	s := harness.Start(t, tg, map[string]string{"SWITCHBOARD_MAX_CONNECTIONS_PER_USER": "1000"})
	admin := harness.Login(t, s, scaleAdminEmail, scaleAdminPassword)

	run := func(cycles, workers int) (failures int64, first error) {
		var (
			next, failed atomic.Int64
			firstErr     atomic.Value
			wg           sync.WaitGroup
		)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(cycles) {
						return
					}
					if err := scaleCycle(s, admin, i%2 == 0); err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Errorf("cycle %d: %w", i, err))
					}
				}
			}()
		}
		wg.Wait()
		if e, ok := firstErr.Load().(error); ok {
			first = e
		}
		return failed.Load(), first
	}
	settle := func() int {
		// The count after it stopped moving for a while.
		n := runtime.NumGoroutine()
		for i := 0; i < 30; i++ {
			time.Sleep(100 * time.Millisecond)
			m := runtime.NumGoroutine()
			if m == n && i >= 5 {
				break
			}
			n = m
		}
		return n
	}

	if n, err := run(40, 20); n > 0 {
		t.Fatalf("warm-up: %d cycles failed, first: %v", n, err)
	}
	baseline := settle()
	began := time.Now()
	const cycles = 1000
	n, err := run(cycles, 20)
	t.Logf("%d connect/subscribe/close cycles in %s; baseline %d goroutines, %d right after", cycles, time.Since(began).Round(time.Millisecond), baseline, runtime.NumGoroutine())
	t.Run("EveryCycleWorks", func(t *testing.T) {
		if n > 0 {
			t.Fatalf("%d of %d cycles failed, first: %v", n, cycles, err)
		}
	})
	t.Run("GoroutinesReturnToBaseline", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		now := runtime.NumGoroutine()
		for now > baseline+10 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			now = runtime.NumGoroutine()
		}
		if now > baseline+10 {
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatalf("%d goroutines 10s after the churn, %d more than the baseline of %d (dump above)", now, now-baseline, baseline)
		}
	})
	t.Run("ServerStillServes", func(t *testing.T) {
		c := harness.ConnectWS(t, s, "graphql-transport-ws", admin)
		c.Subscribe("1", scaleEventsQuery, map[string]any{"after": "0"}) // the cycles wrote no events
		cust, _ := harness.Signup(t, s, "cara@example.com", "Cara")
		s.Do(t, cust, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "after the churn", "body": "x"}}).OK(t)
		if d := c.Data("1"); harness.Str(d, "ticketEvents", "type") != "TICKET_CREATED" {
			t.Fatalf("got %v", d)
		}
	})
}

func TestLiveShutdownClosesSockets(t *testing.T) {
	const sockets = 50
	env := map[string]string{"SWITCHBOARD_MAX_CONNECTIONS_PER_USER": "100"}

	// subscribeAll opens the sockets, each with a running subscription
	// (seen by its first event).
	subscribeAll := func(t *testing.T, s *harness.Server, admin string) []*harness.WS {
		t.Helper()
		clients := make([]*harness.WS, sockets)
		for i := range clients {
			clients[i] = harness.ConnectWS(t, s, "graphql-transport-ws", admin)
			clients[i].Subscribe("1", scaleEventsQuery, map[string]any{"after": "0"}) // the log is empty
		}
		cust, _ := harness.Signup(t, s, "cara@example.com", "Cara")
		s.Do(t, cust, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "before the shutdown", "body": "x"}}).OK(t)
		for i, c := range clients {
			if d := c.Data("1"); harness.Str(d, "ticketEvents", "type") != "TICKET_CREATED" {
				t.Fatalf("socket %d got %v", i, d)
			}
			c.Data("1") // MESSAGE_ADDED
		}
		return clients
	}
	// closeCodes reads every socket's close code concurrently.
	closeCodes := func(clients []*harness.WS) []string {
		codes := make([]string, len(clients))
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				deadline := time.Now().Add(30 * time.Second)
				for {
					_ = c.Conn.SetReadDeadline(deadline)
					if _, _, err := c.Conn.ReadMessage(); err != nil {
						var ce *websocket.CloseError
						if errors.As(err, &ce) {
							codes[i] = strconv.Itoa(ce.Code)
						} else {
							codes[i] = err.Error()
						}
						return
					}
				}
			}()
		}
		wg.Wait()
		return codes
	}
	checkCodes := func(t *testing.T, what string, codes []string) {
		t.Helper()
		bad := map[string]int{}
		for _, c := range codes {
			if c != "1001" {
				bad[c]++
			}
		}
		if len(bad) > 0 {
			t.Fatalf("%s: of %d sockets, these did not get 1001 (going away), by close code: %v", what, len(codes), bad)
		}
	}

	t.Run("InProcess", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
		p := harness.Start(t, tg, env)
		admin := harness.Login(t, p, scaleAdminEmail, scaleAdminPassword)
		clients := subscribeAll(t, p, admin)

		p.Stop()
		codes := closeCodes(clients)
		t.Run("EverySocketGets1001", func(t *testing.T) { checkCodes(t, "subscribed sockets", codes) })
		t.Run("ProgramExitsWith0", func(t *testing.T) {
			code, ok := p.Wait(30 * time.Second)
			if !ok {
				t.Fatal("the program is still running 30s after it was stopped")
			}
			if code != cli.ExitOK {
				t.Fatalf("exit code %d: %s", code, p.Out)
			}
		})
	})

	// The binary exits as soon as run returns (os.Exit): the close frames
	// must be on the wire by then. Run the program as a process of its own
	// (this test binary, see harness.StartProcess) and stop it with
	// SIGTERM as an orchestrator would.
	t.Run("SeparateProcessOnSIGTERM", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
		p := harness.StartProcess(t, tg, env)
		s := p.Server
		admin := harness.Login(t, s, scaleAdminEmail, scaleAdminPassword)
		clients := subscribeAll(t, s, admin)
		// A socket still to send connection_init (within its
		// SWITCHBOARD_WS_INIT_TIMEOUT) is open too when the server stops.
		pending, _, err := harness.DialWS(t, s, "graphql-transport-ws", nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		// The upgrade is answered before the server's reader starts; give
		// it a moment so the socket is fully set up on the server's side.
		time.Sleep(200 * time.Millisecond)

		if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		codes := closeCodes(append(clients, pending))
		t.Run("EverySocketGets1001", func(t *testing.T) { checkCodes(t, "subscribed sockets", codes[:len(clients)]) })
		t.Run("SocketAwaitingConnectionInitGets1001", func(t *testing.T) {
			// hub.Close only knows connections that completed
			// connection_init, and http.Server.Shutdown neither closes
			// nor waits for hijacked connections: this one is dropped
			// when the process exits.
			checkCodes(t, "socket awaiting connection_init", codes[len(clients):])
		})
		t.Run("ProcessExitsWith0", func(t *testing.T) {
			select {
			case err := <-p.Exited:
				p.Exited <- err
				if err != nil {
					t.Fatalf("server process: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("server process still running 30s after SIGTERM")
			}
		})
	})
}
