package ops_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/gorilla/websocket"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestClusterBehindNginx runs the production shape on one machine: three
// instances on PostgreSQL and Redis behind nginx (deploy/nginx.conf), no
// stickiness. Subscribers connected through nginx see mutations that
// landed on any instance; when one instance is killed mid-stream, its
// clients reconnect through nginx and resume from their cursor, and every
// committed event reaches every subscriber exactly once, in order.
func TestClusterBehindNginx(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed (apt-get install nginx-light): the cluster test needs it")
	}
	redisURL := os.Getenv("TEST_REDIS_URL")
	if os.Getenv("TEST_DATABASE_URL") == "" || redisURL == "" {
		t.Skip("set TEST_DATABASE_URL and TEST_REDIS_URL to run the cluster test")
	}
	tg := dbtest.NewTarget(t, dbtest.Postgres)
	harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "correct horse battery staple 1")

	ports := []int{harness.FreePort(t), harness.FreePort(t), harness.FreePort(t)}
	var instances []clusterInstance
	for _, port := range ports {
		instances = append(instances, startClusterInstance(t, tg, port, redisURL))
	}
	front := startNginx(t, nginx, ports)
	admin := harness.Login(t, front, "admin@example.com", "correct horse battery staple 1")

	// Subscribers through nginx: round robin spreads them over the instances.
	const subscribers = 6
	subs := make([]*clusterSubscriber, subscribers)
	for i := range subs {
		subs[i] = newClusterSubscriber(t, front, admin)
	}
	const mutations = 60
	tk := harness.Str(front.Do(t, admin, `mutation { createTicket(input: {subject: "Cluster", body: "start"}) { id } }`, nil).OK(t), "createTicket", "id")
	failed := 0
	for i := 0; i < mutations; i++ {
		if i == mutations/3 {
			instances[1].kill(t)
		}
		_, err := front.QueryWithin(harness.LiveWait, admin, `mutation($id: ID!, $b: String!) { addMessage(ticketID: $id, body: $b) { id } }`, map[string]any{"id": tk, "b": fmt.Sprintf("reply %d", i)})
		if err != nil {
			failed++ // in flight on the killed instance: it may or may not have committed
		}
		time.Sleep(20 * time.Millisecond)
	}
	if failed > 3 {
		t.Fatalf("%d of %d mutations failed through nginx after one instance died", failed, mutations)
	}
	// The log's head, read through any live instance.
	want := clusterHead(t, front, admin, tk)
	reconnected := 0
	for i, s := range subs {
		got := s.waitFor(t, want)
		first := got[0]
		for j, c := range got {
			if c != first+int64(j) {
				t.Fatalf("subscriber %d: cursors %v have a gap or a duplicate at %d", i, got, j)
			}
		}
		reconnected += s.reconnects()
	}
	if reconnected == 0 {
		t.Fatal("no subscriber had to reconnect: was none on the killed instance?")
	}
	t.Logf("%d subscribers, %d reconnects, %d events each up to cursor %d, %d failed mutations", subscribers, reconnected, mutations, want, failed)
}

type clusterInstance struct{ *harness.Process }

func (c clusterInstance) kill(t *testing.T) {
	t.Helper()
	_ = c.Cmd.Process.Kill()
	err := <-c.Exited
	c.Exited <- err // for the cleanup
}

// startClusterInstance runs the program as a process of its own (see
// harness.StartProcess) on port, so that it can be killed like a crashed
// server.
func startClusterInstance(t *testing.T, tg dbtest.Target, port int, redisURL string) clusterInstance {
	t.Helper()
	return clusterInstance{harness.StartProcess(t, tg, map[string]string{
		"SWITCHBOARD_ADDR":               fmt.Sprintf("127.0.0.1:%d", port),
		"REDIS_URL":                      redisURL,
		"SWITCHBOARD_TRUSTED_PROXIES":    "127.0.0.1",
		"SWITCHBOARD_LIVE_POLL_INTERVAL": "200ms",
	})}
}

// startNginx runs nginx with deploy/nginx.conf, its upstreams and listen
// address rewritten to this test's ports.
func startNginx(t *testing.T, nginx string, ports []int) *harness.Server {
	t.Helper()
	conf, err := os.ReadFile(harness.RepoFile(t, "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	front := harness.FreePort(t)
	text := string(conf)
	for i, p := range ports {
		text = strings.ReplaceAll(text, fmt.Sprintf("127.0.0.1:%d", 8081+i), fmt.Sprintf("127.0.0.1:%d", p))
	}
	text = strings.ReplaceAll(text, "listen 127.0.0.1:8080;", fmt.Sprintf("listen 127.0.0.1:%d;", front))
	text = strings.ReplaceAll(text, "worker_processes auto;", "worker_processes 1;")
	text = strings.ReplaceAll(text, "worker_connections 16384;", "worker_connections 1024;")
	dir := t.TempDir()
	for _, d := range []string{"tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// Its workers inherit nothing of ours (no pipes to wait for), and go
	// with their master: a process group of their own.
	cmd := exec.Command(nginx, "-p", dir, "-c", confPath, "-g", "daemon off;")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &harness.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "nginx-error.log"))
			t.Logf("nginx:\n%s%s", out, log)
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", front)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s: %s", addr, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &harness.Server{URL: "http://" + addr, Out: out}
}

// clusterHead is the cursor of the newest event of the ticket, from a
// subscription that replays it.
func clusterHead(t *testing.T, s *harness.Server, token, ticketID string) int64 {
	t.Helper()
	sub := newClusterSubscriberFrom(t, s, token, "0", ticketID)
	var last int64
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := sub.cursors(); len(got) > 0 && got[len(got)-1] > last {
			last = got[len(got)-1]
			deadline = time.Now().Add(time.Second) // until nothing more comes
		}
		time.Sleep(50 * time.Millisecond)
	}
	if last == 0 {
		t.Fatal("no events in the log")
	}
	return last
}

// clusterSubscriber keeps a ticketEvents subscription through nginx,
// reconnecting with after: its last cursor whenever the socket ends.
type clusterSubscriber struct {
	mu        sync.Mutex
	got       []int64
	reconnect int
	err       error
}

func newClusterSubscriber(t *testing.T, s *harness.Server, token string) *clusterSubscriber {
	return newClusterSubscriberFrom(t, s, token, "", "")
}

func newClusterSubscriberFrom(t *testing.T, s *harness.Server, token, after, ticketID string) *clusterSubscriber {
	t.Helper()
	cs := &clusterSubscriber{}
	conn, err := cs.connect(s, token, after, ticketID)
	if err != nil {
		t.Fatalf("subscribing through nginx: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			cs.Read(conn)
			select {
			case <-done:
				return
			default:
			}
			cs.mu.Lock()
			cs.reconnect++
			last := ""
			if n := len(cs.got); n > 0 {
				last = fmt.Sprint(cs.got[n-1])
			} else {
				last = after
			}
			cs.mu.Unlock()
			for {
				select {
				case <-done:
					return
				default:
				}
				if conn, err = cs.connect(s, token, last, ticketID); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	return cs
}

func (cs *clusterSubscriber) connect(s *harness.Server, token, after, ticketID string) (*websocket.Conn, error) {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/query", nil)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{}
	if after != "" {
		vars["after"] = after
	}
	if ticketID != "" {
		vars["t"] = ticketID
	}
	msgs := []any{
		map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + token}},
		map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
			"query":     `subscription($after: String, $t: ID) { ticketEvents(after: $after, ticketID: $t) { cursor } }`,
			"variables": vars,
		}},
	}
	for _, m := range msgs {
		if err := conn.WriteJSON(m); err != nil {
			conn.Close()
			return nil, err
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ack harness.WSMessage
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		conn.Close()
		return nil, fmt.Errorf("no ack: %v %v", ack.Type, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, nil
}

func (cs *clusterSubscriber) Read(conn *websocket.Conn) {
	defer conn.Close()
	for {
		var m harness.WSMessage
		if err := conn.ReadJSON(&m); err != nil {
			return
		}
		switch m.Type {
		case "ping":
			_ = conn.WriteJSON(map[string]any{"type": "pong"})
		case "next":
			var r struct {
				Data struct {
					TicketEvents struct{ Cursor string } `json:"ticketEvents"`
				} `json:"data"`
			}
			var c int64
			if json.Unmarshal(m.Payload, &r) == nil {
				fmt.Sscan(r.Data.TicketEvents.Cursor, &c)
			}
			cs.mu.Lock()
			cs.got = append(cs.got, c)
			cs.mu.Unlock()
		case "error", "complete":
			cs.mu.Lock()
			cs.err = errors.New(string(m.Payload))
			cs.mu.Unlock()
			return
		}
	}
}

func (cs *clusterSubscriber) cursors() []int64 {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return append([]int64(nil), cs.got...)
}

func (cs *clusterSubscriber) reconnects() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.reconnect
}

// waitFor waits until the subscriber has the event with cursor want.
func (cs *clusterSubscriber) waitFor(t *testing.T, want int64) []int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := cs.cursors()
		if n := len(got); n > 0 && got[n-1] >= want {
			return got
		}
		if time.Now().After(deadline) {
			cs.mu.Lock()
			err := cs.err
			cs.mu.Unlock()
			t.Fatalf("subscriber has %v, want up to %d (%v)", got, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
