package broker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testClient connects to TEST_REDIS_URL, or skips the test.
func testClient(t *testing.T) redis.UniversalClient {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		t.Skip("set TEST_REDIS_URL to run the Redis broker tests")
	}
	c, err := ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testChannel is a channel no other test (or test run) listens to.
func testChannel(t *testing.T) string {
	return fmt.Sprintf("switchboard-test:%s:%016x", t.Name(), rand.Uint64())
}

func newTestRedis(t *testing.T, c redis.UniversalClient, channel string) *Redis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := NewRedis(ctx, c, channel)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// waitFor reads notices until one satisfies ok, failing after d.
func waitFor(t *testing.T, ch <-chan Notice, d time.Duration, ok func(Notice) bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case n, open := <-ch:
			if !open {
				t.Fatal("notices closed")
			}
			if ok(n) {
				return
			}
		case <-deadline:
			t.Fatalf("no matching notice within %v", d)
		}
	}
}

func TestRedis(t *testing.T) {
	ctx := context.Background()

	t.Run("StartsWithResync", func(t *testing.T) {
		b := newTestRedis(t, testClient(t), testChannel(t))
		if n := next(t, b.Notices(), time.Second); n.Kind != Resync {
			t.Fatalf("first notice = %+v, want a Resync", n)
		}
	})

	t.Run("EveryInstanceReceives", func(t *testing.T) {
		channel := testChannel(t)
		// Two clients, as two processes would have.
		a := newTestRedis(t, testClient(t), channel)
		b := newTestRedis(t, testClient(t), channel)
		next(t, a.Notices(), time.Second)
		next(t, b.Notices(), time.Second)
		want := Notice{Kind: Presence, TicketID: "TK01J9Z3X8Q0W2E5R7T9Y1U3I5O7"}
		if err := a.Publish(ctx, want); err != nil {
			t.Fatal(err)
		}
		for name, br := range map[string]*Redis{"publisher": a, "other": b} {
			if n := next(t, br.Notices(), 5*time.Second); n != want {
				t.Fatalf("%s got %+v, want %+v", name, n, want)
			}
		}
	})

	t.Run("ForeignPayloadsIgnored", func(t *testing.T) {
		c := testClient(t)
		channel := testChannel(t)
		b := newTestRedis(t, c, channel)
		next(t, b.Notices(), time.Second)
		for _, payload := range []string{"not json", `{"k":"resync"}`} {
			if err := c.Publish(ctx, channel, payload).Err(); err != nil {
				t.Fatal(err)
			}
		}
		want := Notice{Kind: Events, Cursor: 3}
		if err := b.Publish(ctx, want); err != nil {
			t.Fatal(err)
		}
		if n := next(t, b.Notices(), 5*time.Second); n != want {
			t.Fatalf("got %+v, want %+v (the foreign payloads dropped)", n, want)
		}
	})

	t.Run("CloseEndsTheLoop", func(t *testing.T) {
		c := testClient(t)
		if err := c.Ping(ctx).Err(); err != nil { // settle the client's own goroutines
			t.Fatal(err)
		}
		before := runtime.NumGoroutine()
		b := newTestRedis(t, c, testChannel(t))
		next(t, b.Notices(), time.Second)
		if err := b.Publish(ctx, Notice{Kind: Events, Cursor: 1}); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-b.done:
		default:
			t.Fatal("receive loop still running after Close")
		}
		waitClosed(t, b.Notices(), time.Second)
		if err := b.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := b.Publish(ctx, Notice{Kind: Events}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Publish after Close = %v, want ErrClosed", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines after Close, %d before NewRedis", runtime.NumGoroutine(), before)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestRedisUnreachableAtStart(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := NewRedis(ctx, c, testChannel(t))
	if err == nil {
		b.Close()
		t.Fatal("NewRedis succeeded without a server")
	}
	if !strings.Contains(err.Error(), "subscribe") {
		t.Fatalf("error %q does not say what failed", err)
	}
}

// TestRedisReconnect kills and restarts a private redis-server under a
// broker: the broker must say Resync once resubscribed and carry notices
// again, and Publish must fail while the server is down.
func TestRedisReconnect(t *testing.T) {
	srv := startRedisServer(t)
	c := redis.NewClient(&redis.Options{Addr: srv.addr})
	t.Cleanup(func() { c.Close() })
	b := newTestRedis(t, c, testChannel(t))
	if n := next(t, b.Notices(), time.Second); n.Kind != Resync {
		t.Fatalf("first notice = %+v, want a Resync", n)
	}

	srv.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Publish(ctx, Notice{Kind: Events, Cursor: 1}); err == nil {
		t.Fatal("Publish succeeded with the server down")
	}

	srv.start()
	waitFor(t, b.Notices(), 20*time.Second, func(n Notice) bool { return n.Kind == Resync })

	// The publishing connection pool may need a moment of its own to
	// recover: publish until the notice comes round.
	want := Notice{Kind: Events, Cursor: 99}
	deadline := time.Now().Add(20 * time.Second)
	for got := false; !got; {
		if time.Now().After(deadline) {
			t.Fatal("no notice delivered after the restart")
		}
		_ = b.Publish(ctx, want)
		select {
		case n := <-b.Notices():
			got = n == want
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestRedisCloseWhileServerDown closes a broker whose loop is busy
// redialling a dead server: Close must not wait out the dial attempts.
func TestRedisCloseWhileServerDown(t *testing.T) {
	srv := startRedisServer(t)
	c := redis.NewClient(&redis.Options{Addr: srv.addr})
	t.Cleanup(func() { c.Close() })
	b := newTestRedis(t, c, testChannel(t))
	next(t, b.Notices(), time.Second)
	srv.stop()
	time.Sleep(300 * time.Millisecond) // let the loop fail and retry

	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung while the server was down")
	}
	waitClosed(t, b.Notices(), time.Second)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// redisServer is a throwaway redis-server that a test may kill and restart
// on the same port.
type redisServer struct {
	t    *testing.T
	path string
	port int
	addr string
	cmd  *exec.Cmd
	// exited is closed once the running server has been waited for.
	exited chan struct{}
}

func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not in PATH; install it to run the reconnect test")
	}
	port := freePort(t)
	s := &redisServer{t: t, path: path, port: port, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	t.Cleanup(s.stop)
	s.start()
	return s
}

// start runs the server and waits until it accepts connections.
func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.path, "--save", "", "--appendonly", "no", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan struct{})
	s.exited = exited
	go func(cmd *exec.Cmd) {
		_ = cmd.Wait()
		close(exited)
	}(s.cmd)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.Dial("tcp", s.addr); err == nil {
			conn.Close()
			return
		}
		select {
		case <-exited:
			s.t.Fatalf("redis-server on port %d exited at start", s.port)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on port %d not listening after 10s", s.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server outright, as a crash would, and waits for it.
func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		cluster   bool
		addrs     []string // for a cluster: its seed nodes
	}{
		{name: "SingleServer", url: "redis://user:pw@127.0.0.1:6380/2?dial_timeout=3s"},
		{name: "TLS", url: "rediss://redis.example.com"},
		{name: "ClusterFromCommaHosts", url: "redis://a:7000,b:7001,c:7002", cluster: true, addrs: []string{"a:7000", "b:7001", "c:7002"}},
		{name: "ClusterFromAddrParams", url: "redis://a:7000?addr=b:7001", cluster: true, addrs: []string{"a:7000", "b:7001"}},
		{name: "Sentinel", url: "redis://s1:26379,s2:26379?master_name=mymaster&password=pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cc, isCluster := c.(*redis.ClusterClient)
			if isCluster != tc.cluster {
				t.Fatalf("got a %T, cluster = %v", c, tc.cluster)
			}
			if isCluster && !slices.Equal(cc.Options().Addrs, tc.addrs) {
				t.Fatalf("cluster seeds = %v, want %v", cc.Options().Addrs, tc.addrs)
			}
		})
	}

	for _, tc := range []struct{ name, url string }{
		{"OtherScheme", "http://secret@example.com"},
		{"UnknownOption", "redis://secret@localhost?bogus=1"},
		{"Unparsable", "redis://user:secret@host:port"},
	} {
		t.Run("Rejects"+tc.name, func(t *testing.T) {
			c, err := ParseURL(tc.url)
			if err == nil {
				c.Close()
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q repeats the credentials", err)
			}
		})
	}
}
