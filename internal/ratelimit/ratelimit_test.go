package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func exercise(t *testing.T, l Limiter, key string, advance func(time.Duration)) {
	ctx := context.Background()
	limit := Limit{Rate: 10, Burst: 5, Period: time.Second}
	t.Run("BurstIsAllowed", func(t *testing.T) {
		for i := range 5 {
			if r, err := l.Allow(ctx, key, limit, 1); err != nil || !r.Allowed {
				t.Fatalf("request %d refused: %+v %v", i, r, err)
			}
		}
	})
	t.Run("BeyondTheBurstIsRefusedWithAWait", func(t *testing.T) {
		r, err := l.Allow(ctx, key, limit, 1)
		if err != nil || r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > time.Second {
			t.Fatalf("got %+v %v, want a refusal with a wait under a second", r, err)
		}
	})
	t.Run("CostCounts", func(t *testing.T) {
		other := key + ":cost"
		if r, _ := l.Allow(ctx, other, limit, 4); !r.Allowed {
			t.Fatal("a request costing 4 of a burst of 5 was refused")
		}
		if r, _ := l.Allow(ctx, other, limit, 2); r.Allowed {
			t.Fatal("costs beyond the burst were allowed")
		}
	})
	t.Run("TheRateRefills", func(t *testing.T) {
		advance(300 * time.Millisecond) // 3 units at 10/s
		if r, _ := l.Allow(ctx, key, limit, 1); !r.Allowed {
			t.Fatalf("refused after waiting: %+v", r)
		}
	})
	t.Run("KeysAreSeparate", func(t *testing.T) {
		if r, _ := l.Allow(ctx, key+":other", limit, 1); !r.Allowed {
			t.Fatal("a fresh key was refused")
		}
	})
}

func TestMemory(t *testing.T) {
	m := NewMemory()
	now := time.Now()
	m.now = func() time.Time { return now }
	exercise(t, m, "user:1", func(d time.Duration) { now = now.Add(d) })
	t.Run("IdleKeysAreForgotten", func(t *testing.T) {
		now = now.Add(time.Hour)
		for i := range sweepEvery {
			_, _ = m.Allow(context.Background(), fmt.Sprint("k", i%3), PerMinute(100), 1)
		}
		if _, ok := m.tat["user:1"]; ok {
			t.Fatal("an idle key was kept")
		}
	})
}

func TestRedis(t *testing.T) {
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		t.Skip("set TEST_REDIS_URL to run the Redis rate limiter tests")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	prefix := fmt.Sprintf("switchboard-test:rate:%d:", rand.Int64())
	t.Cleanup(func() {
		keys, _ := client.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			client.Del(context.Background(), keys...)
		}
	})
	exercise(t, NewRedis(client, prefix), "user:1", time.Sleep)
	t.Run("SharedBetweenInstances", func(t *testing.T) {
		a, b := NewRedis(client, prefix), NewRedis(client, prefix)
		limit := Limit{Rate: 1, Burst: 1, Period: time.Hour}
		if r, _ := a.Allow(context.Background(), "shared", limit, 1); !r.Allowed {
			t.Fatal("first request refused")
		}
		if r, _ := b.Allow(context.Background(), "shared", limit, 1); r.Allowed {
			t.Fatal("another instance did not see the first request")
		}
	})
}
