package cache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboardhq/switchboard/internal/testkit/faultnet"
)

// testRedisURL returns TEST_REDIS_URL or skips the test.
func testRedisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		t.Skip("set TEST_REDIS_URL to run the Redis cache tests")
	}
	return u
}

// testPrefix returns a key prefix of the test's own, whose keys are
// deleted when it ends.
func testPrefix(t *testing.T, c redis.UniversalClient) string {
	prefix := fmt.Sprintf("switchboard-test:%016x:", rand.Uint64())
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

func newClient(t *testing.T, rawURL string) redis.UniversalClient {
	t.Helper()
	opts, err := redis.ParseURL(FailFastURL(rawURL))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// syncLog collects log lines.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

func newTestRedis(t *testing.T, c redis.UniversalClient, prefix string, ttl time.Duration) *Redis {
	r := NewRedis(c, prefix, ttl, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(r.Close)
	return r
}

func TestRedis(t *testing.T) {
	rawURL := testRedisURL(t)
	admin := newClient(t, rawURL)
	ctx := context.Background()

	t.Run("Alone", func(t *testing.T) {
		cacheBehaviour(t, func(t *testing.T) Cache { return newTestRedis(t, admin, testPrefix(t, admin), time.Minute) })
	})
	t.Run("Tiered", func(t *testing.T) {
		cacheBehaviour(t, func(t *testing.T) Cache {
			return NewTiered(100, LocalTTL, newTestRedis(t, admin, testPrefix(t, admin), time.Minute))
		})
	})

	t.Run("AnotherInstanceStopsServingWithinLocalTTL", func(t *testing.T) {
		prefix := testPrefix(t, admin)
		a := NewTiered(100, LocalTTL, newTestRedis(t, newClient(t, rawURL), prefix, time.Minute))
		b := NewTiered(100, LocalTTL, newTestRedis(t, newClient(t, rawURL), prefix, time.Minute))
		clk := newFakeClock()
		b.Local.now = clk.now
		load(a, "k", "v1")
		if v, hit := load(b, "k", "unused"); !hit || v != "v1" {
			t.Fatalf("B: %q hit=%v, want v1 stored by A", v, hit)
		}
		a.Invalidate(ctx, "k")
		if v, hit := load(a, "k", "v2"); hit {
			t.Fatalf("A served %q after its own invalidation", v)
		}
		// B's memory may serve the old value for less than LocalTTL...
		clk.advance(LocalTTL - time.Millisecond)
		if _, ok, _ := b.Local.Lookup(ctx, "k"); !ok {
			t.Fatal("B's memory tier lost the entry early (the test would prove nothing)")
		}
		// ...and then gets the new one from Redis.
		clk.advance(time.Millisecond)
		if v, hit := load(b, "k", "from-db"); !hit || v != "v2" {
			t.Fatalf("B after LocalTTL: %q hit=%v, want v2 from Redis", v, hit)
		}
	})
	t.Run("LostGenerationMakesEntriesMiss", func(t *testing.T) {
		prefix := testPrefix(t, admin)
		r := newTestRedis(t, admin, prefix, time.Minute)
		load(r, "k", "v1")
		// An evicted or expired generation key must not revive old entries.
		if err := admin.Del(ctx, r.genKey("k")).Err(); err != nil {
			t.Fatal(err)
		}
		if v, hit := load(r, "k", "v2"); hit {
			t.Fatalf("served %q without its generation", v)
		}
	})
	t.Run("EntriesExpireWithTheTTL", func(t *testing.T) {
		prefix := testPrefix(t, admin)
		r := newTestRedis(t, admin, prefix, 30*time.Second)
		load(r, "k", "v")
		ttl := admin.PTTL(ctx, r.valueKey("k")).Val()
		if ttl <= 0 || ttl > 30*time.Second {
			t.Fatalf("entry's TTL in Redis is %v, want at most 30s", ttl)
		}
		if n := len(admin.Keys(ctx, prefix+"*").Val()); n != 2 {
			t.Fatalf("%d keys under the prefix, want the entry and its generation", n)
		}
	})

	t.Run("InvalidationFailingAgainDuringItsRetryIsSentAgain", func(t *testing.T) {
		client := newClient(t, rawURL).(*redis.Client)
		r := newTestRedis(t, client, testPrefix(t, admin), time.Minute)
		r.RetryAfter = 20 * time.Millisecond
		var sends atomic.Int32
		client.AddHook(beforePipeline(func(cmds []redis.Cmder) {
			if cmds[0].Name() != "set" {
				return // the connection's setup
			}
			if sends.Add(1) == 1 {
				// The key changes again and its invalidation fails while
				// the retry is on its way: the generation being sent may
				// be older than that change.
				r.retryLater([]string{"k"})
			}
		}))
		r.retryLater([]string{"k"})
		deadline := time.Now().Add(5 * time.Second)
		for r.Pending() > 0 {
			if time.Now().After(deadline) {
				t.Fatal("pending invalidation not sent within 5s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if n := sends.Load(); n < 2 {
			t.Fatalf("the key was sent %d time(s); the failure during the retry was dropped", n)
		}
	})

	t.Run("RedisLost", func(t *testing.T) {
		u, err := url.Parse(rawURL)
		if err != nil {
			t.Fatal(err)
		}
		target := u.Host
		gate := faultnet.NewGate(t, target)
		gated := strings.Replace(rawURL, target, gate.Addr(), 1)
		logs := &syncLog{}
		prefix := testPrefix(t, admin)
		r := NewRedis(newClient(t, gated), prefix, time.Minute, slog.New(slog.NewTextHandler(logs, nil)))
		r.RetryAfter = 100 * time.Millisecond
		t.Cleanup(r.Close)
		c := NewTiered(100, LocalTTL, r)
		load(c, "k", "v1")

		gate.Cut()
		t.Run("ReadsGoToTheSource", func(t *testing.T) {
			for i := range 20 {
				// Past the memory tier's TTL, so Redis would be asked.
				c.Local.Invalidate(ctx, "k")
				if v, hit := load(c, "k", fmt.Sprint("db", i)); hit {
					t.Fatalf("lookup %d with Redis gone hit %q", i, v)
				}
			}
			if n := logs.count("Redis is unreachable"); n != 1 {
				t.Fatalf("the outage was logged %d times, want once:\n%s", n, logs.buf.String())
			}
		})
		t.Run("InvalidationsWaitForRedis", func(t *testing.T) {
			c.Invalidate(ctx, "k")
			if r.Pending() != 1 {
				t.Fatalf("%d invalidations pending, want 1", r.Pending())
			}
			gate.Restore()
			deadline := time.Now().Add(5 * time.Second)
			for r.Pending() > 0 {
				if time.Now().After(deadline) {
					t.Fatal("pending invalidation not sent within 5s of Redis returning")
				}
				time.Sleep(20 * time.Millisecond)
			}
			// v1 is still in Redis under the generation before the outage.
			c.Local.Invalidate(ctx, "k")
			if v, hit := load(c, "k", "v2"); hit {
				t.Fatalf("served %q, invalidated while Redis was gone", v)
			}
			if n := logs.count("Redis is back"); n != 1 {
				t.Fatalf("the recovery was logged %d times, want once:\n%s", n, logs.buf.String())
			}
			if v, hit := load(c, "k", "unused"); !hit || v != "v2" {
				t.Fatalf("after recovery: %q hit=%v, want v2 cached again", v, hit)
			}
		})
	})
}

// beforePipeline is a go-redis hook that calls f before each pipeline.
type beforePipeline func([]redis.Cmder)

func (beforePipeline) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (beforePipeline) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (f beforePipeline) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		f(cmds)
		return next(ctx, cmds)
	}
}

func TestFailFastURL(t *testing.T) {
	t.Run("AddsShortTimeouts", func(t *testing.T) {
		opts, err := redis.ParseURL(FailFastURL("redis://127.0.0.1:6379/0"))
		if err != nil {
			t.Fatal(err)
		}
		if opts.DialTimeout != 250*time.Millisecond || opts.ReadTimeout != 250*time.Millisecond || opts.MaxRetries != -1 {
			t.Fatalf("dial %v read %v retries %d", opts.DialTimeout, opts.ReadTimeout, opts.MaxRetries)
		}
	})
	t.Run("KeepsTheURLsOwn", func(t *testing.T) {
		opts, err := redis.ParseURL(FailFastURL("redis://127.0.0.1:6379/0?read_timeout=2s"))
		if err != nil || opts.ReadTimeout != 2*time.Second {
			t.Fatalf("read timeout %v, err %v", opts.ReadTimeout, err)
		}
	})
}

// BenchmarkRedisHit measures a lookup answered by Redis (one round trip).
func BenchmarkRedisHit(b *testing.B) {
	rawURL := os.Getenv("TEST_REDIS_URL")
	if rawURL == "" {
		b.Skip("set TEST_REDIS_URL to benchmark the Redis tier")
	}
	opts, err := redis.ParseURL(FailFastURL(rawURL))
	if err != nil {
		b.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	prefix := fmt.Sprintf("switchboard-bench:%016x:", rand.Uint64())
	r := NewRedis(c, prefix, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer r.Close()
	load(r, "k", `{"u":"US0000000000","r":"AGENT","g":["GR0000000000"]}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, _ := r.Lookup(ctx, "k"); !ok {
			b.Fatal("miss")
		}
	}
	b.StopTimer()
	c.Del(ctx, r.valueKey("k"), r.genKey("k"))
}
