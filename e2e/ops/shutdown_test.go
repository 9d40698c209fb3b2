package ops_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/gorilla/websocket"

	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// shutdownSocket is one subscribed websocket, read on a goroutine of its
// own until it closes.
type shutdownSocket struct {
	events atomic.Int64
	// closed receives how the socket ended: the close code, or the error.
	closed chan string
}

func openShutdownSocket(t *testing.T, s *harness.Server, token, ticketID string) *shutdownSocket {
	c := harness.ConnectWS(t, s, "graphql-transport-ws", token)
	c.Subscribe("1", `subscription($t: ID) { ticketEvents(ticketID: $t) { cursor type } }`, map[string]any{"t": ticketID})
	sock := &shutdownSocket{closed: make(chan string, 1)}
	go func() {
		for {
			_ = c.Conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
			_, raw, err := c.Conn.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					sock.closed <- strconv.Itoa(ce.Code)
				} else {
					sock.closed <- err.Error()
				}
				return
			}
			var m harness.WSMessage
			_ = json.Unmarshal(raw, &m)
			switch m.Type {
			case "next":
				sock.events.Add(1)
			case "ping":
				_ = c.Conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
			}
		}
	}()
	return sock
}

// mutationResult is what a client learned of one mutation.
type mutationResult struct {
	status    int // 0: no HTTP response (connection refused or cut)
	messageID string
	started   time.Time
	ended     time.Time
}

// postMutation adds a message, reporting the status and the new message's
// id when it succeeded.
func postMutation(client *http.Client, s *harness.Server, token, ticketID, body string) mutationResult {
	r := mutationResult{started: time.Now()}
	defer func() { r.ended = time.Now() }()
	payload, _ := json.Marshal(map[string]any{"query": harness.AddMessageMutation, "variables": map[string]any{"id": ticketID, "body": body}})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		r.ended = time.Now()
		return r
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r.status = res.StatusCode
	var out harness.Response
	if json.Unmarshal(raw, &out) == nil && len(out.Errors) == 0 {
		r.messageID = harness.Str(out.Data, "addMessage", "id")
	}
	r.ended = time.Now()
	return r
}

// TestGracefulShutdown stops a server with 500 open subscriptions with
// SIGTERM: busy (mutations arriving from several clients, some in flight)
// and idle (nothing in flight, so nothing else delays the exit while the
// close frames are being sent).
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 500 websockets")
	}
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Run("Busy", func(t *testing.T) { testShutdown(t, tg, 6) })
	})
	t.Run("Idle", func(t *testing.T) { testShutdown(t, dbtest.NewTarget(t, dbtest.SQLite), 0) })
}

func testShutdown(t *testing.T, tg dbtest.Target, writers int) {
	const (
		sockets  = 500
		deadline = 20 * time.Second
	)
	harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
	p := harness.StartProcess(t, tg, map[string]string{
		"SWITCHBOARD_MAX_CONNECTIONS_PER_USER": strconv.Itoa(sockets + 10),
		"SWITCHBOARD_SHUTDOWN_TIMEOUT":         deadline.String(),
	})
	admin := harness.Login(t, p.Server, scaleAdminEmail, scaleAdminPassword)
	cust, _ := harness.Signup(t, p.Server, "cara@example.com", "Cara")
	newTicket := func(subject string) string {
		d := p.Do(t, cust, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": subject, "body": "x"}}).OK(t)
		return harness.Str(d, "createTicket", "id")
	}
	// The sockets watch one ticket; the writers mostly write to
	// another, so that 500 sockets times every write does not swamp
	// a 2-core machine, and now and then to the watched one.
	watched, busy := newTicket("watched"), newTicket("busy")
	socks := make([]*shutdownSocket, sockets)
	for i := range socks {
		socks[i] = openShutdownSocket(t, p.Server, admin, watched)
	}

	var (
		mu      sync.Mutex
		results []mutationResult
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ticket := busy
				if w == 0 && n%5 == 0 {
					ticket = watched
				}
				r := postMutation(client, p.Server, admin, ticket, fmt.Sprintf("writer %d message %d", w, n))
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if r.status == 0 {
					time.Sleep(20 * time.Millisecond) // the listener is closed
				}
			}
		}()
	}
	if writers == 0 {
		p.Do(t, admin, harness.AddMessageMutation, map[string]any{"id": watched, "body": "the only one"}).OK(t)
	}
	// Every subscription is running: each has seen an event.
	waitUntil := time.Now().Add(60 * time.Second)
	for i := 0; i < len(socks); {
		if socks[i].events.Load() > 0 {
			i++
			continue
		}
		select {
		case how := <-socks[i].closed:
			t.Fatalf("socket %d closed before the shutdown: %s", i, how)
		default:
		}
		if time.Now().After(waitUntil) {
			t.Fatalf("socket %d saw no event within 60s", i)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Let the writers run a while with every subscription open.
	if writers > 0 {
		time.Sleep(2 * time.Second)
	}
	signalled := time.Now()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	exited := false
	select {
	case exitErr = <-p.Exited:
		exited = true
	case <-time.After(deadline + 10*time.Second):
	}
	exitedAfter := time.Since(signalled)
	close(stop)
	wg.Wait()

	t.Run("ProcessExitsWith0WithinTheDeadline", func(t *testing.T) {
		if !exited {
			t.Fatalf("still running %s after SIGTERM (deadline %s)", exitedAfter, deadline)
		}
		if exitErr != nil {
			t.Fatalf("exit: %v", exitErr)
		}
		t.Logf("exited %s after SIGTERM", exitedAfter.Round(time.Millisecond))
	})
	t.Run("EverySocketGets1001", func(t *testing.T) {
		bad := map[string]int{}
		for _, s := range socks {
			select {
			case how := <-s.closed:
				if how != "1001" {
					bad[how]++
				}
			case <-time.After(10 * time.Second):
				bad["still open"]++
			}
		}
		if len(bad) > 0 {
			t.Fatalf("of %d sockets, these did not get 1001 (going away): %v", sockets, bad)
		}
	})
	var committed []globalid.ID
	inFlight := 0
	t.Run("NoRequestFailsWith5xx", func(t *testing.T) {
		byStatus := map[int]int{}
		for _, r := range results {
			byStatus[r.status]++
			if r.messageID != "" {
				committed = append(committed, globalid.ID(r.messageID))
				if r.started.Before(signalled) && r.ended.After(signalled) {
					inFlight++
				}
			}
			if r.status >= 500 {
				t.Errorf("a mutation got %d", r.status)
			}
		}
		t.Logf("%d mutations by HTTP status (0: refused, the listener was closed): %v; %d succeeded while the server was shutting down", len(results), byStatus, inFlight)
		if writers > 0 && len(committed) == 0 {
			t.Fatal("no mutation succeeded")
		}
	})
	t.Run("NothingCommittedIsLost", func(t *testing.T) {
		client := tg.Open(t)
		sys := viewer.SystemContext(t.Context())
		n, err := client.Message.Query().Where(message.IDIn(committed...)).Count(sys)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(committed) {
			t.Fatalf("%d of the %d messages whose mutation succeeded are in the database", n, len(committed))
		}
	})
}
