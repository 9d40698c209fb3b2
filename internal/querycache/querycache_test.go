package querycache_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"

	"github.com/switchboardhq/switchboard/internal/querycache"
)

func exercise(t *testing.T, c graphql.Cache[string]) {
	ctx := context.Background()
	t.Run("MissThenHit", func(t *testing.T) {
		if _, ok := c.Get(ctx, "h1"); ok {
			t.Fatal("hit before add")
		}
		c.Add(ctx, "h1", "{ me { id } }")
		if v, ok := c.Get(ctx, "h1"); !ok || v != "{ me { id } }" {
			t.Fatalf("got %q %v", v, ok)
		}
	})
}

func TestMemory(t *testing.T) {
	exercise(t, querycache.NewMemory(10))
	t.Run("EvictsBeyondSize", func(t *testing.T) {
		c := querycache.NewMemory(2)
		ctx := context.Background()
		for i := range 3 {
			c.Add(ctx, fmt.Sprint(i), "q")
		}
		if _, ok := c.Get(ctx, "0"); ok {
			t.Fatal("the oldest entry survived")
		}
	})
}

func TestRedis(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Run("UnreachableRedisMisses", func(t *testing.T) {
		client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
		defer client.Close()
		c := querycache.NewRedis(client, "x:", time.Minute, log)
		c.Add(context.Background(), "h", "q")
		if _, ok := c.Get(context.Background(), "h"); ok {
			t.Fatal("hit without Redis")
		}
	})
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		t.Skip("set TEST_REDIS_URL to run the Redis query cache tests")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	prefix := fmt.Sprintf("switchboard-test:apq:%d:", rand.Int64())
	t.Cleanup(func() {
		keys, _ := client.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			client.Del(context.Background(), keys...)
		}
	})
	c := querycache.NewRedis(client, prefix, time.Minute, log)
	exercise(t, c)
	t.Run("SharedBetweenInstances", func(t *testing.T) {
		other := querycache.NewRedis(client, prefix, time.Minute, log)
		if v, ok := other.Get(context.Background(), "h1"); !ok || v == "" {
			t.Fatal("another instance does not see the document")
		}
	})
	t.Run("EntriesExpire", func(t *testing.T) {
		if ttl := client.TTL(context.Background(), prefix+"h1").Val(); ttl <= 0 || ttl > time.Minute {
			t.Fatalf("ttl = %s", ttl)
		}
	})
}
